//! The project phase and its in-memory repository (the data the design's Repository.Core
//! serves, `subsystems::repository::core`): every file record, and indexes by path and stable
//! ID (`query` answers the rest from its tables, `query::exec`). It also
//! runs the project-wide phase: what a file's facts mean given the other files (projects, kinds
//! through `use`, duplicate module names and the IDs that depend on them, call resolution and
//! the module graph).

pub(crate) mod enhanced;
pub(crate) mod mix;

use foldhash::HashMap;
use std::sync::OnceLock;

#[cfg(test)]
use crate::extract::{self, ids};
use crate::model::Graph;
#[cfg(test)]
use crate::model::Module;
use crate::model::Project;
use crate::model::{DuplicateModule, FileRecord};
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
                    .by_id
                    .insert(module.id.clone(), IdTarget::Module(module_ref));
                for (function_index, function) in module.functions.iter().enumerate() {
                    let function_ref = FunctionRef {
                        file: file_index,
                        module: module_index,
                        function: function_index,
                    };
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

/// A copy without the indexes (built again on the first lookup): what the live phase of
/// `watch` takes when a reader still holds the repository it is about to change.
impl Clone for Repository {
    fn clone(&self) -> Repository {
        Repository {
            files: self.files.clone(),
            projects: self.projects.clone(),
            duplicates: self.duplicates.clone(),
            indexes: OnceLock::new(),
            graph: self.graph.clone(),
            unresolved_files: self.unresolved_files,
        }
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
        enhanced::phase(files, mix_projects, calls, cancel, None, None).repository
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

    /// The module dependency graph: the report's `graph` section.
    pub(crate) fn graph(&self) -> &Graph {
        &self.graph
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

    pub(crate) fn file(&self, path: &str) -> Option<&FileRecord> {
        // The records are sorted by path: no index to build (and keep) for this one.
        if let Ok(position) = self.files.binary_search_by(|f| f.path.as_str().cmp(path)) {
            return Some(&self.files[position]);
        }
        self.indexes()
            .by_path
            .get(path)
            .map(|&index| &self.files[index])
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
pub(crate) mod tests {
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
    fn indexes_answer_by_path_and_id() {
        let files = vec![
            record("lib/a.ex", "defmodule A do\n  def f(x), do: x\nend\n"),
            record(
                "lib/b.ex",
                "defmodule A do\n  def f(x), do: x\nend\ndefmodule B do\nend\n",
            ),
        ];
        let repository = Repository::build(files, Vec::new(), true, &CancelToken::new());
        assert_eq!(repository.file("lib/b.ex").unwrap().modules.len(), 2);
        assert_eq!(repository.duplicates().len(), 1);
        // Duplicates get distinct IDs, ranked by path.
        let named_a: Vec<&Module> = repository
            .files()
            .iter()
            .flat_map(|f| &f.modules)
            .filter(|m| m.name == "A")
            .collect();
        let ids: Vec<&str> = named_a.iter().map(|m| m.id.as_str()).collect();
        assert_ne!(ids[0], ids[1]);
        let located = repository.locate(ids[1]).unwrap();
        assert_eq!((located.path.as_str(), located.line), ("lib/b.ex", 1));
        let function = &named_a[0].functions[0];
        assert_eq!(repository.locate(&function.id).unwrap().entity, "function");
        let clause = &function.clauses[0];
        assert_eq!(repository.locate(&clause.id).unwrap().entity, "clause");
    }

    pub(crate) fn record_with_calls(path: &str, source: &str) -> FileRecord {
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
}
