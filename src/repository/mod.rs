//! The in-memory repository (the design's Repository.Core): every file record, and indexes by
//! path, module name, (module, name, arity) and stable ID. It also runs the project-wide phase:
//! what a file's facts mean given the other files (projects, kinds through `use`, duplicate
//! module names and the IDs that depend on them).

pub(crate) mod projects;

use std::collections::{BTreeMap, HashMap};

use crate::extract::{self, ids, Module};
use crate::report::{DuplicateModule, FileRecord, Location};

pub(crate) use projects::Project;

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
    by_path: HashMap<String, usize>,
    by_module: HashMap<String, Vec<ModuleRef>>,
    by_function: HashMap<(String, String, u32), Vec<FunctionRef>>,
    by_id: HashMap<String, IdLocation>,
    duplicates: Vec<DuplicateModule>,
}

impl Repository {
    /// Builds the repository from per-file records (sorted by path) and runs the project phase.
    pub(crate) fn build(mut files: Vec<FileRecord>, mix_projects: Vec<Project>) -> Repository {
        let projects = mix_projects;
        for file in &mut files {
            file.project = projects::nearest(&projects, &file.path).map(|p| p.path.clone());
        }

        // Kinds that need the other files.
        {
            let mut modules: Vec<&mut Module> = files
                .iter_mut()
                .flat_map(|f| f.modules.iter_mut())
                .collect();
            extract::kinds::classify_through_project(&mut modules);
        }

        // Duplicate names: every place, in (path, line) order, ranked for the IDs.
        let mut places: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
        for (file_index, file) in files.iter().enumerate() {
            for (module_index, module) in file.modules.iter().enumerate() {
                places
                    .entry(module.name.clone())
                    .or_default()
                    .push((file_index, module_index));
            }
        }
        let mut duplicates = Vec::new();
        for (name, locations) in &places {
            let several = locations.len() > 1;
            for (rank, &(file_index, module_index)) in locations.iter().enumerate() {
                let module = &mut files[file_index].modules[module_index];
                ids::assign(module, several.then_some(rank));
            }
            if several {
                duplicates.push(DuplicateModule {
                    name: name.clone(),
                    locations: locations
                        .iter()
                        .map(|&(f, m)| Location {
                            path: files[f].path.clone(),
                            line: files[f].modules[m].line,
                        })
                        .collect(),
                });
            }
        }

        let mut repository = Repository {
            projects,
            duplicates,
            ..Repository::default()
        };
        for (file_index, file) in files.iter().enumerate() {
            repository.by_path.insert(file.path.clone(), file_index);
            for (module_index, module) in file.modules.iter().enumerate() {
                repository
                    .by_module
                    .entry(module.name.clone())
                    .or_default()
                    .push(ModuleRef {
                        file: file_index,
                        module: module_index,
                    });
                repository.by_id.insert(
                    module.id.clone(),
                    IdLocation {
                        entity: "module",
                        description: module.name.clone(),
                        path: file.path.clone(),
                        line: module.line,
                        end_line: module.end_line,
                    },
                );
                for (function_index, function) in module.functions.iter().enumerate() {
                    let signature = format!(
                        "{} {}.{}/{}",
                        function.kind.keyword(),
                        module.name,
                        function.name,
                        function.arity
                    );
                    repository
                        .by_function
                        .entry((module.name.clone(), function.name.clone(), function.arity))
                        .or_default()
                        .push(FunctionRef {
                            file: file_index,
                            module: module_index,
                            function: function_index,
                        });
                    repository.by_id.insert(
                        function.id.clone(),
                        IdLocation {
                            entity: "function",
                            description: signature.clone(),
                            path: file.path.clone(),
                            line: function.line,
                            end_line: function.end_line,
                        },
                    );
                    for (clause_index, clause) in function.clauses.iter().enumerate() {
                        repository.by_id.insert(
                            clause.id.clone(),
                            IdLocation {
                                entity: "clause",
                                description: format!("{signature} clause {}", clause_index + 1),
                                path: file.path.clone(),
                                line: clause.line,
                                end_line: clause.end_line,
                            },
                        );
                    }
                }
            }
        }
        repository.files = files;
        repository
    }

    pub(crate) fn files(&self) -> &[FileRecord] {
        &self.files
    }

    pub(crate) fn into_files(self) -> Vec<FileRecord> {
        self.files
    }

    pub(crate) fn projects(&self) -> &[Project] {
        &self.projects
    }

    pub(crate) fn duplicates(&self) -> &[DuplicateModule] {
        &self.duplicates
    }

    #[cfg_attr(not(test), allow(dead_code))] // reason: the indexes `query` (roadmap [6]) reads
    pub(crate) fn file(&self, path: &str) -> Option<&FileRecord> {
        self.by_path.get(path).map(|&index| &self.files[index])
    }

    /// Every definition of a module name (several when it is defined in several places).
    #[cfg_attr(not(test), allow(dead_code))] // reason: the indexes `query` (roadmap [6]) reads
    pub(crate) fn modules_named(&self, name: &str) -> Vec<&Module> {
        self.by_module
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
    ) -> Vec<&extract::Function> {
        self.by_function
            .get(&(module.to_string(), name.to_string(), arity))
            .map(|refs| {
                refs.iter()
                    .map(|r| &self.files[r.file].modules[r.module].functions[r.function])
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn locate(&self, id: &str) -> Option<&IdLocation> {
        self.by_id.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse, ParseInput, ParseOutcome};

    fn record(path: &str, source: &str) -> FileRecord {
        let ParseOutcome::Parsed(tree) = parse(
            ParseInput::Bytes(source.as_bytes()),
            std::time::Duration::from_secs(10),
        ) else {
            panic!("timed out")
        };
        let mut record = FileRecord::unparsed(
            path.into(),
            crate::report::Status::Ok,
            crate::report::Reason::Panic,
            None,
        );
        record.reason = None;
        record.modules = extract::modules(&tree, source.as_bytes());
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
        let repository = Repository::build(files, Vec::new());
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
}
