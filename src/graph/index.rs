//! The call and dependency indexes the repository answers `query` (roadmap [6]) from: callers
//! of any `Module.name/arity`, and the dependencies and dependents of any module. Hash maps,
//! so a lookup costs microseconds whatever the project's size; callees need no index of their
//! own (a function's clauses hold its calls, found through the function index).

use foldhash::HashMap;

use crate::model::FileRecord;
use crate::model::{Call, Symbol};

use crate::model::Graph;

/// Which list of a file holds a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallOwner {
    /// The file's top level (a script).
    Script,
    /// A module body, outside definitions.
    ModuleBody {
        module: u32,
    },
    Clause {
        module: u32,
        function: u32,
        clause: u32,
    },
    DynamicDefinition {
        module: u32,
        definition: u32,
    },
}

/// Where a call site is: its file, the list that holds it, its position there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallSite {
    pub(crate) file: u32,
    pub(crate) owner: CallOwner,
    pub(crate) index: u32,
}

impl CallSite {
    /// The call this site points to.
    pub(crate) fn resolve(self, files: &[FileRecord]) -> &Call {
        let file = &files[self.file as usize];
        let index = self.index as usize;
        match self.owner {
            CallOwner::Script => &file.calls[index],
            CallOwner::ModuleBody { module } => &file.modules[module as usize].calls[index],
            CallOwner::Clause {
                module,
                function,
                clause,
            } => {
                &file.modules[module as usize].functions[function as usize].clauses[clause as usize]
                    .calls[index]
            }
            CallOwner::DynamicDefinition { module, definition } => {
                &file.modules[module as usize].dynamic_definitions[definition as usize].calls[index]
            }
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct CallIndexes {
    /// Callee module → name → (arity, site), for every call outside `quote`s whose module and
    /// name are known, in (path, source) order.
    callers: HashMap<Symbol, HashMap<Symbol, Vec<(u32, CallSite)>>>,
    /// Module name → positions in `graph.edges` of its dependencies, and of its dependents.
    dependencies: HashMap<String, Vec<usize>>,
    dependents: HashMap<String, Vec<usize>>,
}

fn index_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

impl CallIndexes {
    pub(crate) fn build(files: &[FileRecord], graph: &Graph) -> CallIndexes {
        let mut indexes = CallIndexes::default();
        for (position, edge) in graph.edges.iter().enumerate() {
            indexes
                .dependencies
                .entry(edge.from.clone())
                .or_default()
                .push(position);
            indexes
                .dependents
                .entry(edge.to.clone())
                .or_default()
                .push(position);
        }
        let mut add = |calls: &[Call], file: usize, owner: CallOwner| {
            for (index, call) in calls.iter().enumerate() {
                if call.quoted {
                    continue;
                }
                let (Some(module), Some(name), Some(arity)) =
                    (&call.module, &call.name, call.arity)
                else {
                    continue;
                };
                indexes
                    .callers
                    .entry(*module)
                    .or_default()
                    .entry(*name)
                    .or_default()
                    .push((
                        arity,
                        CallSite {
                            file: index_u32(file),
                            owner,
                            index: index_u32(index),
                        },
                    ));
            }
        };
        for (f, file) in files.iter().enumerate() {
            add(&file.calls, f, CallOwner::Script);
            for (m, module) in file.modules.iter().enumerate() {
                let module_index = index_u32(m);
                add(
                    &module.calls,
                    f,
                    CallOwner::ModuleBody {
                        module: module_index,
                    },
                );
                for (fi, function) in module.functions.iter().enumerate() {
                    for (ci, clause) in function.clauses.iter().enumerate() {
                        let owner = CallOwner::Clause {
                            module: module_index,
                            function: index_u32(fi),
                            clause: index_u32(ci),
                        };
                        add(&clause.calls, f, owner);
                    }
                }
                for (di, definition) in module.dynamic_definitions.iter().enumerate() {
                    let owner = CallOwner::DynamicDefinition {
                        module: module_index,
                        definition: index_u32(di),
                    };
                    add(&definition.calls, f, owner);
                }
            }
        }
        indexes
    }

    /// Call sites of `module.name` whose arity is in `arities`.
    pub(crate) fn callers(
        &self,
        module: &str,
        name: &str,
        arities: std::ops::RangeInclusive<u32>,
    ) -> Vec<CallSite> {
        self.callers
            .get(module)
            .and_then(|names| names.get(name))
            .map(|sites| {
                sites
                    .iter()
                    .filter(|(arity, _)| arities.contains(arity))
                    .map(|(_, site)| *site)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn dependencies(&self, module: &str) -> &[usize] {
        self.dependencies.get(module).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn dependents(&self, module: &str) -> &[usize] {
        self.dependents.get(module).map_or(&[], Vec::as_slice)
    }
}
