//! The project phase and its in-memory repository (the data the design's Repository.Core
//! serves, `subsystems::repository::core`): every file record, and indexes by
//! path, module name, (module, name, arity), stable ID, callee and module dependency. It also
//! runs the project-wide phase: what a file's facts mean given the other files (projects, kinds
//! through `use`, duplicate module names and the IDs that depend on them, call resolution and
//! the module graph).

pub(crate) mod enhanced;
pub(crate) mod mix;

use foldhash::HashMap;
use std::sync::OnceLock;

#[cfg(test)]
use crate::extract::{self, ids};
use crate::graph::index::{CallIndexes, CallSite};
use crate::model::Project;
use crate::model::{Call, Module};
use crate::model::{DuplicateModule, FileRecord};
use crate::model::{Edge, Graph};
#[cfg(test)]
use crate::otp::cancel::CancelToken;

/// Where a module lives: file index and module index within the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModuleRef {
    pub(crate) file: usize,
    pub(crate) module: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FunctionRef {
    pub(crate) file: usize,
    pub(crate) module: usize,
    pub(crate) function: usize,
}

/// What a stable ID names and where (the correlation index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdLocation {
    pub(crate) entity: &'static str,
    pub(crate) description: String,
    pub(crate) path: String,
    pub(crate) line: u32,
    pub(crate) end_line: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Repository {
    files: Vec<FileRecord>,
    projects: Vec<Project>,
    duplicates: Vec<DuplicateModule>,
    /// Built on the first lookup: a `parse` that only writes its report never pays for them.
    indexes: OnceLock<Indexes>,
    /// Module dependencies, fan-in/fan-out and cycles, from the resolved calls.
    graph: Graph,
    /// Callers of functions, dependencies and dependents of modules; built on first lookup.
    call_indexes: OnceLock<CallIndexes>,
    /// Files left unresolved by an interrupt (see [`Repository::build`]).
    unresolved_files: usize,
}

/// Where an ID points: a module, a function or a clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdTarget {
    Module(ModuleRef),
    Function(FunctionRef),
    Clause(FunctionRef, usize),
}

#[derive(Debug, Default)]
struct Indexes {
    by_path: HashMap<String, usize>,
    by_module: HashMap<String, Vec<ModuleRef>>,
    by_function: HashMap<(String, String, u32), Vec<FunctionRef>>,
    by_id: HashMap<String, IdTarget>,
}

impl Indexes {
    fn build(files: &[FileRecord]) -> Indexes {
        let mut indexes = Indexes::default();
        for (file_index, file) in files.iter().enumerate() {
            indexes.by_path.insert(file.path.clone(), file_index);
            for (module_index, module) in file.modules.iter().enumerate() {
                let module_ref = ModuleRef {
                    file: file_index,
                    module: module_index,
                };
                indexes
                    .by_module
                    .entry(module.name.clone())
                    .or_default()
                    .push(module_ref);
                indexes
                    .by_id
                    .insert(module.id.clone(), IdTarget::Module(module_ref));
                for (function_index, function) in module.functions.iter().enumerate() {
                    let function_ref = FunctionRef {
                        file: file_index,
                        module: module_index,
                        function: function_index,
                    };
                    indexes
                        .by_function
                        .entry((module.name.clone(), function.name.clone(), function.arity))
                        .or_default()
                        .push(function_ref);
                    indexes
                        .by_id
                        .insert(function.id.clone(), IdTarget::Function(function_ref));
                    for (clause_index, clause) in function.clauses.iter().enumerate() {
                        indexes.by_id.insert(
                            clause.id.clone(),
                            IdTarget::Clause(function_ref, clause_index),
                        );
                    }
                }
            }
        }
        indexes
    }
}

impl Repository {
    /// Builds the repository from per-file records (sorted by path) and runs the project phase.
    /// Without `calls` (`--no-calls`) there is nothing to resolve and no graph to report: the
    /// graph stays empty.
    /// `cancel`: a signal seen between files of the call resolution (see
    /// [`Repository::unresolved_files`]).
    #[cfg(test)]
    pub(crate) fn build(
        files: Vec<FileRecord>,
        mix_projects: Vec<Project>,
        calls: bool,
        cancel: &CancelToken,
    ) -> Repository {
        enhanced::phase(files, mix_projects, calls, cancel, None).repository
    }

    /// The records as they are, without the project phase (`analyze`, whose rules read each
    /// file alone).
    pub(crate) fn without_phase(files: Vec<FileRecord>, projects: Vec<Project>) -> Repository {
        Repository {
            files,
            projects,
            ..Repository::default()
        }
    }

    /// Files whose calls the project phase did not resolve because the run was interrupted.
    pub(crate) fn unresolved_files(&self) -> usize {
        self.unresolved_files
    }

    fn call_indexes(&self) -> &CallIndexes {
        self.call_indexes
            .get_or_init(|| CallIndexes::build(&self.files, &self.graph))
    }

    /// The module dependency graph: the report's `graph` section.
    pub(crate) fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The call a [`CallSite`] points to.
    #[cfg_attr(not(test), allow(dead_code))] // reason: the indexes `query` (roadmap [6]) reads
    pub(crate) fn call(&self, site: CallSite) -> &Call {
        site.resolve(&self.files)
    }

    /// Every call site of `module.name/arity` outside `quote`s, in (path, source) order. For a
    /// project function with default arguments, calls that omit them count too.
    #[cfg_attr(not(test), allow(dead_code))] // reason: the indexes `query` (roadmap [6]) reads
    pub(crate) fn callers(&self, module: &str, name: &str, arity: u32) -> Vec<CallSite> {
        let min_arity = self
            .functions(module, name, arity)
            .iter()
            .map(|f| f.min_arity)
            .min()
            .unwrap_or(arity);
        self.call_indexes().callers(module, name, min_arity..=arity)
    }

    /// The calls `module.name/arity` makes (every clause, every place its module is defined),
    /// in source order.
    #[cfg_attr(not(test), allow(dead_code))] // reason: the indexes `query` (roadmap [6]) reads
    pub(crate) fn callees(&self, module: &str, name: &str, arity: u32) -> Vec<&Call> {
        self.functions(module, name, arity)
            .into_iter()
            .flat_map(|f| f.clauses.iter().flat_map(|c| &c.calls))
            .collect()
    }

    /// The edges from `module` to the project modules it depends on, sorted by name.
    #[cfg_attr(not(test), allow(dead_code))] // reason: the indexes `query` (roadmap [6]) reads
    pub(crate) fn dependencies(&self, module: &str) -> Vec<&Edge> {
        self.call_indexes()
            .dependencies(module)
            .iter()
            .map(|&i| &self.graph.edges[i])
            .collect()
    }

    /// The edges into `module` from the project modules that depend on it, sorted by name.
    #[cfg_attr(not(test), allow(dead_code))] // reason: the indexes `query` (roadmap [6]) reads
    pub(crate) fn dependents(&self, module: &str) -> Vec<&Edge> {
        self.call_indexes()
            .dependents(module)
            .iter()
            .map(|&i| &self.graph.edges[i])
            .collect()
    }

    fn indexes(&self) -> &Indexes {
        self.indexes.get_or_init(|| Indexes::build(&self.files))
    }

    pub(crate) fn files(&self) -> &[FileRecord] {
        &self.files
    }

    /// The records and the graph, moved out (the report owns them; nothing is copied).
    pub(crate) fn into_files_and_graph(self) -> (Vec<FileRecord>, Graph) {
        (self.files, self.graph)
    }

    pub(crate) fn projects(&self) -> &[Project] {
        &self.projects
    }

    pub(crate) fn duplicates(&self) -> &[DuplicateModule] {
        &self.duplicates
    }

    #[cfg_attr(not(test), allow(dead_code))] // reason: the indexes `query` (roadmap [6]) reads
    pub(crate) fn file(&self, path: &str) -> Option<&FileRecord> {
        self.indexes()
            .by_path
            .get(path)
            .map(|&index| &self.files[index])
    }

    /// Every definition of a module name (several when it is defined in several places).
    #[cfg_attr(not(test), allow(dead_code))] // reason: the indexes `query` (roadmap [6]) reads
    pub(crate) fn modules_named(&self, name: &str) -> Vec<&Module> {
        self.indexes()
            .by_module
            .get(name)
            .map(|refs| {
                refs.iter()
                    .map(|r| &self.files[r.file].modules[r.module])
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every function `Module.name/arity` (one per place its module is defined).
    #[cfg_attr(not(test), allow(dead_code))] // reason: the indexes `query` (roadmap [6]) reads
    pub(crate) fn functions(
        &self,
        module: &str,
        name: &str,
        arity: u32,
    ) -> Vec<&crate::model::Function> {
        self.indexes()
            .by_function
            .get(&(module.to_string(), name.to_string(), arity))
            .map(|refs| {
                refs.iter()
                    .map(|r| &self.files[r.file].modules[r.module].functions[r.function])
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn locate(&self, id: &str) -> Option<IdLocation> {
        let target = *self.indexes().by_id.get(id)?;
        let (file, module) = match target {
            IdTarget::Module(r) => (r.file, r.module),
            IdTarget::Function(r) | IdTarget::Clause(r, _) => (r.file, r.module),
        };
        let path = self.files[file].path.clone();
        let module = &self.files[file].modules[module];
        let signature = |function: &crate::model::Function| {
            format!(
                "{} {}.{}/{}",
                function.kind.keyword(),
                module.name,
                function.name,
                function.arity
            )
        };
        Some(match target {
            IdTarget::Module(_) => IdLocation {
                entity: "module",
                description: module.name.clone(),
                path,
                line: module.line,
                end_line: module.end_line,
            },
            IdTarget::Function(r) => {
                let function = &module.functions[r.function];
                IdLocation {
                    entity: "function",
                    description: signature(function),
                    path,
                    line: function.line,
                    end_line: function.end_line,
                }
            }
            IdTarget::Clause(r, index) => {
                let function = &module.functions[r.function];
                let clause = &function.clauses[index];
                IdLocation {
                    entity: "clause",
                    description: format!("{} clause {}", signature(function), index + 1),
                    path,
                    line: clause.line,
                    end_line: clause.end_line,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse, ParseInput, ParseOutcome};

    fn record(path: &str, source: &str) -> FileRecord {
        let ParseOutcome::Parsed(tree) = parse(
            ParseInput::Bytes(source.as_bytes()),
            &crate::syntax::within(std::time::Duration::from_secs(10)),
        ) else {
            panic!("timed out")
        };
        let mut record = FileRecord::unparsed(
            path.into(),
            crate::model::Status::Ok,
            crate::model::Reason::Panic,
            None,
        );
        record.reason = None;
        record.modules = extract::modules(&tree, source.as_bytes());
        for module in &mut record.modules {
            ids::assign(module, None);
        }
        record
    }

    #[test]
    fn indexes_answer_by_name_signature_path_and_id() {
        let files = vec![
            record("lib/a.ex", "defmodule A do\n  def f(x), do: x\nend\n"),
            record(
                "lib/b.ex",
                "defmodule A do\n  def f(x), do: x\nend\ndefmodule B do\nend\n",
            ),
        ];
        let repository = Repository::build(files, Vec::new(), true, &CancelToken::new());
        assert_eq!(repository.modules_named("A").len(), 2);
        assert_eq!(repository.modules_named("B").len(), 1);
        assert_eq!(repository.functions("A", "f", 1).len(), 2);
        assert!(repository.functions("A", "f", 2).is_empty());
        assert_eq!(repository.file("lib/b.ex").unwrap().modules.len(), 2);
        assert_eq!(repository.duplicates().len(), 1);
        // Duplicates get distinct IDs, ranked by path.
        let ids: Vec<&str> = repository
            .modules_named("A")
            .iter()
            .map(|m| m.id.as_str())
            .collect();
        assert_ne!(ids[0], ids[1]);
        let located = repository.locate(ids[1]).unwrap();
        assert_eq!((located.path.as_str(), located.line), ("lib/b.ex", 1));
        let function = repository.functions("A", "f", 1)[0];
        assert_eq!(repository.locate(&function.id).unwrap().entity, "function");
        let clause = &function.clauses[0];
        assert_eq!(repository.locate(&clause.id).unwrap().entity, "clause");
    }

    fn record_with_calls(path: &str, source: &str) -> FileRecord {
        let ParseOutcome::Parsed(tree) = parse(
            ParseInput::Bytes(source.as_bytes()),
            &crate::syntax::within(std::time::Duration::from_secs(10)),
        ) else {
            panic!("timed out")
        };
        let mut record = record(path, source);
        let facts = extract::facts(&tree, source.as_bytes(), true);
        record.modules = facts.modules;
        record.calls = facts.calls;
        for module in &mut record.modules {
            ids::assign(module, None);
        }
        record
    }

    #[test]
    fn call_indexes_answer_callers_callees_dependencies_and_dependents() {
        let files = vec![
            record_with_calls(
                "lib/a.ex",
                "defmodule A do\n  def f(x, y \\\\ 1), do: B.g(x) + y\n  def h, do: f(1)\nend\n",
            ),
            record_with_calls(
                "lib/b.ex",
                "defmodule B do\n  import A\n  def g(x), do: f(x, 2)\n  def k, do: %C{}\nend\n\
                 defmodule C do\n  defstruct [:a]\nend\n",
            ),
            record_with_calls("priv/seeds.exs", "A.f(1)\nB.g(2)\n"),
        ];
        let repository = Repository::build(files, Vec::new(), true, &CancelToken::new());
        // Callers of A.f/2 include calls that leave the default out: A.h (local), the seeds
        // script, and B.g through `import A`.
        let callers: Vec<(String, u32)> = repository
            .callers("A", "f", 2)
            .into_iter()
            .map(|site| {
                let call = repository.call(site);
                let path = &repository.files()[site.file as usize].path;
                (path.clone(), call.line)
            })
            .collect();
        assert_eq!(
            callers,
            vec![
                ("lib/a.ex".to_string(), 3),
                ("lib/b.ex".to_string(), 3),
                ("priv/seeds.exs".to_string(), 1),
            ]
        );
        assert!(repository.callers("A", "f", 3).is_empty());
        let callees: Vec<String> = repository
            .callees("A", "f", 2)
            .into_iter()
            .map(|c| format!("{}.{}", c.module.unwrap(), c.name.unwrap()))
            .collect();
        assert_eq!(callees, vec!["B.g"]);
        let ends = |edges: Vec<&Edge>| -> Vec<(String, String, crate::model::DependencyLabel)> {
            edges
                .into_iter()
                .map(|e| (e.from.clone(), e.to.clone(), e.label))
                .collect()
        };
        assert_eq!(
            ends(repository.dependencies("B")),
            vec![
                (
                    "B".into(),
                    "A".into(),
                    crate::model::DependencyLabel::Export
                ),
                (
                    "B".into(),
                    "C".into(),
                    crate::model::DependencyLabel::Export
                ),
            ]
        );
        assert_eq!(
            ends(repository.dependents("B")),
            vec![(
                "A".into(),
                "B".into(),
                crate::model::DependencyLabel::Runtime
            )]
        );
        assert!(repository.dependents("Missing").is_empty());
        // A and B call each other: one cycle, not compile-connected.
        let cycles = &repository.graph().cycles;
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].modules, vec!["A", "B"]);
        assert!(!cycles[0].compile_connected);
    }
}
