//! The project's module dependency graph (issue [3a]): what `mix xref graph` reports, derived
//! from source without compiling. Edges are labelled as Elixir's compiler tracer labels the
//! references behind them for `mix xref trace` (`mix help xref`, "Dependency types"), module
//! by module rather than file by file; `tests/graph.rs` checks the labels against the tracer
//! of the installed Elixir (1.14):
//!
//! - `compile`: the module must be recompiled when the other one changes. `use M`, a call of
//!   one of `M`'s macros anywhere, and any call of `M` or reference to `M` in the module body
//!   outside definitions (`@x M.f()`, `%M{}` or `M` in an attribute, `plug M`), except in the
//!   arguments and bodies of the module-level macros known to defer them (router routes, Ecto
//!   associations, ExUnit's `test`; see `extract::calls`).
//! - `export`: a dependency on `M`'s API only: `require M`, `import M` (also made by a `use`d
//!   template), `@behaviour M`, `defimpl` of protocol `M`, `%M{}` inside a definition. The
//!   issue lists `require`, `@behaviour` and struct expansion with the compile-time ones; the
//!   compiler traces all three as export (a struct in the module body is compile, as any
//!   module body reference is), and the compiler is followed here.
//! - `runtime`: a call of `M`'s functions, a capture of one, or `M` named as a value, inside a
//!   definition.
//!
//! Between two modules the strongest label wins (compile over export over runtime), as in
//! `mix xref`, and the edge keeps one place that gives it that label: the first in path order,
//! and within a module, directives first, then the module body, then definitions. Calls in `quote` blocks make
//! no edge: they run in the module that injects them. Cycles are the strongly connected
//! components of two or more modules; one is compile-connected when one of its edges is a
//! compile edge (`mix xref graph --format cycles --label compile-connected`: "any compile
//! dependency in a cycle is by definition a compile-connected dependency").

pub(crate) mod resolve;
mod scc;
pub(crate) use scc::strongly_connected;

use foldhash::{HashMap, HashMapExt, HashSet};
use serde::{Deserialize, Serialize};

use crate::model::FileRecord;
use crate::model::{Call, CallTarget, DirectiveKind, Reference, ReferenceKind};
use crate::model::{
    CallTargetCounts, Cycle, DependencyLabel, DependencyReason, Edge, EdgeEnds, Graph, GraphModule,
};
use resolve::ProjectIndex;

impl CallTargetCounts {
    fn merge(&mut self, other: &CallTargetCounts) {
        self.total += other.total;
        self.local += other.local;
        self.project += other.project;
        self.kernel += other.kernel;
        self.special_form += other.special_form;
        self.external += other.external;
        self.erlang += other.erlang;
        self.dynamic += other.dynamic;
        self.unknown += other.unknown;
    }

    fn add(&mut self, call: &Call) {
        self.total += 1;
        let slot = match call.target {
            CallTarget::Local => &mut self.local,
            CallTarget::Project => &mut self.project,
            CallTarget::Kernel => &mut self.kernel,
            CallTarget::SpecialForm => &mut self.special_form,
            CallTarget::External => &mut self.external,
            CallTarget::Erlang => &mut self.erlang,
            CallTarget::Dynamic => &mut self.dynamic,
            CallTarget::Unknown => &mut self.unknown,
        };
        *slot += 1;
    }
}

/// Records `evidence` for the edge `ends` unless the edge already has evidence at least as
/// strong: between two modules the strongest label wins, and among equals the first met.
fn keep_strongest<K: std::hash::Hash + Eq>(
    edges: &mut HashMap<K, Evidence>,
    ends: K,
    evidence: Evidence,
) {
    match edges.get_mut(&ends) {
        Some(existing) if existing.label >= evidence.label => {}
        Some(existing) => *existing = evidence,
        None => {
            edges.insert(ends, evidence);
        }
    }
}

/// The evidence kept for an edge while the graph is built.
struct Evidence {
    label: DependencyLabel,
    reason: DependencyReason,
    file: usize,
    line: u32,
    via: Option<String>,
}

/// Collects one file's edges, keyed by (from, to) module names.
struct Builder<'a> {
    /// The project's module names: an edge goes only to one of them.
    nodes: &'a HashSet<&'a str>,
    edges: HashMap<(&'a str, &'a str), Evidence>,
}

impl<'a> Builder<'a> {
    fn add(
        &mut self,
        from: &'a str,
        to: &str,
        label: DependencyLabel,
        reason: DependencyReason,
        line: u32,
        via: Option<&str>,
    ) {
        let Some(&to) = self.nodes.get(to) else {
            return;
        };
        if to == from {
            return;
        }
        let evidence = Evidence {
            label,
            reason,
            file: 0,
            line,
            via: via.map(str::to_string),
        };
        keep_strongest(&mut self.edges, (from, to), evidence);
    }

    /// A call's edge: in the module body (`compile_time`) every call is compile; in a
    /// definition a macro call is compile and a function call runtime.
    fn add_call(&mut self, from: &'a str, call: &Call, compile_time: bool) {
        if call.quoted || call.target != CallTarget::Project {
            return;
        }
        let Some(module) = &call.module else {
            return;
        };
        let (label, reason) = match (call.is_macro, compile_time) {
            (true, _) => (DependencyLabel::Compile, DependencyReason::Macro),
            (false, true) => (DependencyLabel::Compile, DependencyReason::Call),
            (false, false) => (DependencyLabel::Runtime, DependencyReason::Call),
        };
        self.add(from, module.as_str(), label, reason, call.line, None);
    }

    fn add_reference(&mut self, from: &'a str, reference: &Reference, body: bool) {
        let (label, reason) = match (reference.kind, body && !reference.runtime) {
            (ReferenceKind::Struct, true) => (DependencyLabel::Compile, DependencyReason::Struct),
            (ReferenceKind::Struct, false) => (DependencyLabel::Export, DependencyReason::Struct),
            (ReferenceKind::Alias, true) => (DependencyLabel::Compile, DependencyReason::Alias),
            (ReferenceKind::Alias, false) => (DependencyLabel::Runtime, DependencyReason::Alias),
        };
        self.add(
            from,
            reference.module.as_str(),
            label,
            reason,
            reference.line,
            None,
        );
    }
}

fn directive_label(kind: DirectiveKind) -> Option<(DependencyLabel, DependencyReason)> {
    match kind {
        DirectiveKind::Use => Some((DependencyLabel::Compile, DependencyReason::Use)),
        DirectiveKind::Behaviour => Some((DependencyLabel::Export, DependencyReason::Behaviour)),
        DirectiveKind::Require => Some((DependencyLabel::Export, DependencyReason::Require)),
        DirectiveKind::Import => Some((DependencyLabel::Export, DependencyReason::Import)),
        DirectiveKind::Alias => None,
    }
}

/// One file's part of the module graph: for each pair of modules the first evidence of the
/// strongest label the file holds, and how its calls resolved. The project phase keeps it per
/// file (and the index stores it), so that a run re-resolving a few files recomputes only
/// theirs and merges the rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct FileEdges {
    /// Sorted by (from, to).
    pub(crate) edges: Vec<FileEdge>,
    pub(crate) call_targets: CallTargetCounts,
}

/// An edge's evidence in one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FileEdge {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) label: DependencyLabel,
    pub(crate) reason: DependencyReason,
    pub(crate) line: u32,
    pub(crate) via: Option<String>,
}

/// The edges of one resolved file. `nodes`: the project's module names; `first_definition`:
/// whether the file's module at an index is the first definition of its name in path order
/// (the dependencies a module's `use`s inject are added there only).
pub(crate) fn file_edges(
    file: &FileRecord,
    nodes: &HashSet<&str>,
    first_definition: impl Fn(usize) -> bool,
    index: &ProjectIndex,
) -> FileEdges {
    let mut builder = Builder {
        nodes,
        edges: HashMap::new(),
    };
    let mut call_targets = CallTargetCounts::default();
    for call in &file.calls {
        call_targets.add(call);
    }
    for (module_index, module) in file.modules.iter().enumerate() {
        let from = module.name.as_str();
        for directive in &module.directives {
            if let Some((label, reason)) = directive_label(directive.kind) {
                builder.add(from, &directive.target, label, reason, directive.line, None);
            }
        }
        if let Some(implements) = &module.implements {
            builder.add(
                from,
                &implements.protocol,
                DependencyLabel::Export,
                DependencyReason::Impl,
                module.line,
                None,
            );
        }
        if first_definition(module_index) {
            if let Some(context) = index.uses.get(&module.name) {
                for dependency in &context.dependencies {
                    if let Some((label, reason)) = directive_label(dependency.kind) {
                        builder.add(
                            from,
                            &dependency.target,
                            label,
                            reason,
                            dependency.line,
                            Some(&dependency.via),
                        );
                    }
                }
            }
        }
        for call in &module.calls {
            call_targets.add(call);
            builder.add_call(from, call, !call.runtime);
        }
        for reference in &module.references {
            builder.add_reference(from, reference, true);
        }
        let definitions = module
            .functions
            .iter()
            .flat_map(|f| &f.clauses)
            .map(|c| (&c.calls, &c.references))
            .chain(
                module
                    .dynamic_definitions
                    .iter()
                    .map(|d| (&d.calls, &d.references)),
            );
        for (calls, references) in definitions {
            for call in calls {
                call_targets.add(call);
                builder.add_call(from, call, false);
            }
            for reference in references {
                builder.add_reference(from, reference, false);
            }
        }
    }
    let mut edges: Vec<FileEdge> = builder
        .edges
        .into_iter()
        .map(|((from, to), evidence)| FileEdge {
            from: from.to_string(),
            to: to.to_string(),
            label: evidence.label,
            reason: evidence.reason,
            line: evidence.line,
            via: evidence.via,
        })
        .collect();
    edges.sort_unstable_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
    FileEdges {
        edges,
        call_targets,
    }
}

/// The module graph from every file's edges, merged in path order: for each pair of modules
/// the first evidence of the strongest label, as one pass over the files in order would keep.
/// `per_file[i]` belongs to `files[i]`; `None` for a file left unresolved.
pub(crate) fn merge(files: &[FileRecord], per_file: &[Option<&FileEdges>]) -> Graph {
    let mut names: Vec<&str> = files
        .iter()
        .flat_map(|f| f.modules.iter().map(|m| m.name.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    let nodes: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut edges: HashMap<(usize, usize), Evidence> = HashMap::new();
    let mut call_targets = CallTargetCounts::default();
    for (file, file_edges) in per_file.iter().enumerate() {
        let Some(file_edges) = file_edges else {
            continue;
        };
        call_targets.merge(&file_edges.call_targets);
        for edge in &file_edges.edges {
            let (Some(&from), Some(&to)) =
                (nodes.get(edge.from.as_str()), nodes.get(edge.to.as_str()))
            else {
                continue;
            };
            let evidence = Evidence {
                label: edge.label,
                reason: edge.reason,
                file,
                line: edge.line,
                via: edge.via.clone(),
            };
            keep_strongest(&mut edges, (from, to), evidence);
        }
    }
    assemble(files, &names, edges, call_targets)
}

/// Fan-in, fan-out, cycles and the report's sorted lists, from the merged edges.
fn assemble(
    files: &[FileRecord],
    names: &[&str],
    edges: HashMap<(usize, usize), Evidence>,
    call_targets: CallTargetCounts,
) -> Graph {
    let mut edge_list: Vec<((usize, usize), Evidence)> = edges.into_iter().collect();
    edge_list.sort_unstable_by_key(|(ends, _)| *ends);
    let mut fan_in = vec![0u32; names.len()];
    let mut fan_out = vec![0u32; names.len()];
    let mut adjacency = vec![Vec::new(); names.len()];
    for ((from, to), _) in &edge_list {
        fan_out[*from] += 1;
        fan_in[*to] += 1;
        adjacency[*from].push(*to);
    }
    let labels: HashMap<(usize, usize), DependencyLabel> = edge_list
        .iter()
        .map(|(ends, evidence)| (*ends, evidence.label))
        .collect();
    let mut cycles: Vec<Cycle> = scc::strongly_connected(&adjacency)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|mut component| {
            component.sort_unstable();
            let mut compile_edges = Vec::new();
            for &from in &component {
                for &to in &adjacency[from] {
                    if component.binary_search(&to).is_ok()
                        && labels.get(&(from, to)) == Some(&DependencyLabel::Compile)
                    {
                        compile_edges.push(EdgeEnds {
                            from: names[from].to_string(),
                            to: names[to].to_string(),
                        });
                    }
                }
            }
            compile_edges.sort();
            Cycle {
                modules: component.iter().map(|&i| names[i].to_string()).collect(),
                compile_connected: !compile_edges.is_empty(),
                compile_edges,
            }
        })
        .collect();
    cycles.sort_by(|a, b| {
        b.modules
            .len()
            .cmp(&a.modules.len())
            .then_with(|| a.modules.cmp(&b.modules))
    });

    Graph {
        modules: names
            .iter()
            .enumerate()
            .map(|(i, name)| GraphModule {
                name: name.to_string(),
                fan_in: fan_in[i],
                fan_out: fan_out[i],
            })
            .collect(),
        edges: edge_list
            .into_iter()
            .map(|((from, to), evidence)| Edge {
                from: names[from].to_string(),
                to: names[to].to_string(),
                label: evidence.label,
                reason: evidence.reason,
                path: files[evidence.file].path.clone(),
                line: evidence.line,
                via: evidence.via,
            })
            .collect(),
        cycles,
        call_targets,
    }
}
