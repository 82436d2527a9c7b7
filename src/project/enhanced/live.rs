//! Repository.Enhanced kept live (`watch`, [7]): the project phase applied in place, update
//! after update, to one repository held in memory.
//!
//! [`phase`](super::phase) takes every record as extracted and gives each file it does not
//! resolve its stored resolution back. Kept live, the repository holds the records resolved
//! already, so an update touches only the files it resolves:
//!
//! - the files that changed get their new records (as extracted);
//! - the files that read an export that changed (see the module above) get their record as
//!   extracted back, from what the phase wrote into it ([`Resolution::undo`]);
//! - those files alone are classified, ranked and resolved, against a [`ProjectIndex`] kept
//!   between updates: built again when an export changed, its changed files' entries
//!   refreshed otherwise.
//!
//! Every other record stays as it is: no copy of the tree, no resolution applied again. The
//! result equals a phase over all files from scratch (the tests below compare after random
//! edits).

use std::sync::{Arc, OnceLock};

use foldhash::{HashMap, HashSet, HashSetExt};
use rayon::prelude::*;

use super::{
    changed_places, exports_of, extracted, inert, mentions_of, mix, phase, projects_of,
    Definitions, Extracted, FileState, ModuleExports, Previous, Resolution, StateRef,
};
use crate::extract::{ids, kinds};
use crate::graph::resolve::ProjectIndex;
use crate::graph::{self, FileEdges};
use crate::model::{FileRecord, Module, ModuleKind};
use crate::otp::cancel::CancelToken;
use crate::project::Repository;

/// What the live phase keeps of one file besides its record.
#[derive(Debug)]
struct Kept {
    modules: Vec<ModuleExports>,
    mentions: Vec<String>,
    /// Its part of the graph; `None` for a file that has none (not parsed, or left
    /// unresolved by an interrupt).
    edges: Option<FileEdges>,
    /// Left unresolved by an interrupt: resolved by the next update.
    pending: bool,
    /// Its modules' kinds as extracted (templates are read before classification).
    kinds: Vec<Vec<ModuleKind>>,
    /// Its [`Resolution::absolute`] as extracted, in the stored form (a few bytes a call):
    /// what gives the record its extracted form back when it must be resolved again.
    undo: Box<[u8]>,
}

impl Kept {
    fn of_extracted(file: &FileRecord) -> Kept {
        Kept {
            modules: Vec::new(),
            mentions: Vec::new(),
            edges: None,
            pending: false,
            kinds: file.modules.iter().map(|m| m.kinds.clone()).collect(),
            undo: crate::model::stored::encode(&Resolution::absolute(file))
                .unwrap_or_default()
                .into_boxed_slice(),
        }
    }
}

/// The new states of the files an update resolved, in the stored form, in the repository's
/// file order (as [`Outcome::states`](super::Outcome::states)): what the index keeps.
pub(crate) type States = Vec<Option<Vec<u8>>>;

/// What one update did: the paths it resolved (the changed files and their readers), sorted,
/// and their new states.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub(crate) resolved: Vec<String>,
    pub(crate) states: States,
}

/// The live repository: resolved records, and what the next update needs.
pub(crate) struct LivePhase {
    repository: Arc<Repository>,
    kept: HashMap<String, Kept>,
    calls: bool,
    templates: kinds::Templates,
    /// Built at the start when calls are resolved.
    index: Option<ProjectIndex>,
}

fn templates_of(files: &[FileRecord], kept: &HashMap<String, Kept>) -> kinds::Templates {
    let modules: Vec<(&Module, &[ModuleKind])> = files
        .iter()
        .flat_map(|file| {
            let kinds = kept.get(&file.path).map(|k| k.kinds.as_slice());
            file.modules.iter().enumerate().map(move |(i, module)| {
                let kinds = kinds
                    .and_then(|k| k.get(i))
                    .map_or(module.kinds.as_slice(), Vec::as_slice);
                (module, kinds)
            })
        })
        .collect();
    kinds::Templates::of(&modules)
}

impl LivePhase {
    /// The live repository of `records` (every file of the tree as extracted, sorted by
    /// path); `stored`: the phase the index kept for this run scope, whose states serve the
    /// files unchanged since. Also gives the new states of the files it resolved.
    pub(crate) fn start(
        records: Vec<FileRecord>,
        stored: Option<Previous>,
        calls: bool,
        cancel: &CancelToken,
    ) -> (LivePhase, States) {
        let mut kept: Vec<Kept> = records.par_iter().map(Kept::of_extracted).collect();
        let templates = templates_of(&records, &HashMap::default());
        let projects = projects_of(&records);
        let mut outcome = phase(records, projects, calls, cancel, stored.as_ref(), None);
        let mut previous = stored.unwrap_or_default().advance(&outcome);
        let files = outcome.repository.files();
        for ((file, kept), resolved) in files.iter().zip(&mut kept).zip(&outcome.resolved) {
            match previous.files.remove(&file.path) {
                Some(FileState {
                    modules,
                    mentions,
                    edges,
                    ..
                }) if !inert(file) => {
                    kept.modules = modules;
                    kept.mentions = mentions;
                    kept.edges = calls.then_some(edges);
                }
                _ if inert(file) => {
                    kept.modules = file.modules.iter().map(exports_of).collect();
                    kept.mentions = mentions_of(file);
                }
                _ => {
                    // Interrupted before it was resolved: the next update resolves it.
                    kept.modules = file.modules.iter().map(exports_of).collect();
                    kept.mentions = mentions_of(file);
                    kept.pending = !resolved;
                }
            }
        }
        let kept: HashMap<String, Kept> = files.iter().map(|f| f.path.clone()).zip(kept).collect();
        let index = calls.then(|| ProjectIndex::build(outcome.repository.files()));
        let states = std::mem::take(&mut outcome.states);
        let live = LivePhase {
            repository: Arc::new(outcome.repository),
            kept,
            calls,
            templates,
            index,
        };
        (live, states)
    }

    pub(crate) fn repository(&self) -> &Arc<Repository> {
        &self.repository
    }

    /// Applies the new records (as extracted) of the files that changed or appeared, and the
    /// removal of `removed`. `before` sees each record as it was before the update changes or
    /// removes it (the caller compares).
    pub(crate) fn apply(
        &mut self,
        records: Vec<FileRecord>,
        removed: &[String],
        cancel: &CancelToken,
        before: &mut dyn FnMut(&FileRecord),
    ) -> Applied {
        let repository = Arc::make_mut(&mut self.repository);
        let files = &mut repository.files;
        // The files that went and the ones replaced: what they exported.
        let mut gone: Vec<(String, Vec<ModuleExports>)> = Vec::new();
        for path in removed {
            if let Ok(position) = files.binary_search_by(|f| f.path.as_str().cmp(path)) {
                before(&files[position]);
                files.remove(position);
                if let Some(kept) = self.kept.remove(path) {
                    gone.push((path.clone(), kept.modules));
                }
            }
        }
        let mut changed_paths: HashSet<String> = HashSet::new();
        for record in records {
            let path = record.path.clone();
            match files.binary_search_by(|f| f.path.as_str().cmp(&path)) {
                Ok(position) => {
                    before(&files[position]);
                    files[position] = record;
                }
                Err(position) => files.insert(position, record),
            }
            if let Some(kept) = self.kept.remove(&path) {
                gone.push((path.clone(), kept.modules));
            }
            changed_paths.insert(path);
        }
        let projects = projects_of(files);
        if projects != repository.projects {
            // Every file's project may move: everything is resolved again.
            return self.rebuild(&changed_paths, cancel, before);
        }
        for file in files.iter_mut() {
            if changed_paths.contains(&file.path) {
                file.project = mix::nearest(&projects, &file.path).map(|p| p.path.clone());
            }
        }
        // The new files' own part, from their records as extracted.
        let fresh: Vec<(usize, Kept)> = files
            .par_iter()
            .enumerate()
            .filter(|(_, file)| changed_paths.contains(&file.path))
            .map(|(position, file)| {
                let mut kept = Kept::of_extracted(file);
                kept.modules = file.modules.iter().map(exports_of).collect();
                kept.mentions = mentions_of(file);
                (position, kept)
            })
            .collect();

        // The module names whose exports changed, and what reaches them.
        let changed = {
            let before = gone.iter().map(|(p, m)| (p.as_str(), m.as_slice()));
            let now = fresh
                .iter()
                .map(|(position, kept)| (files[*position].path.as_str(), kept.modules.as_slice()));
            let mut changed = changed_places(before, now);
            if !changed.is_empty() {
                let all = files.iter().map(|file| {
                    let exports = match self.kept.get(&file.path) {
                        Some(kept) => kept.modules.as_slice(),
                        None => fresh
                            .binary_search_by_key(&&file.path, |(p, _)| &files[*p].path)
                            .map_or(&[][..], |i| fresh[i].1.modules.as_slice()),
                    };
                    exports
                });
                super::close_over_reachers(&mut changed, all);
            }
            changed
        };
        // The files to resolve: the changed ones, and those reading a changed name.
        let resolve: Vec<bool> = files
            .par_iter()
            .map(|file| {
                if inert(file) {
                    return false;
                }
                match self.kept.get(&file.path) {
                    None => true,
                    Some(kept) => {
                        kept.pending
                            || (!changed.is_empty()
                                && kept.mentions.iter().any(|m| changed.contains(m)))
                    }
                }
            })
            .collect();
        for (position, kept) in fresh {
            self.kept.insert(files[position].path.clone(), kept);
        }
        // Each reader gets its record as extracted back.
        for (file, _) in files
            .iter_mut()
            .zip(&resolve)
            .filter(|(f, r)| **r && !changed_paths.contains(&f.path))
        {
            before(file);
            let kept = &self.kept[&file.path];
            let undone = crate::model::stored::decode::<Resolution>(&kept.undo)
                .is_ok_and(|undo| undo.undo(file));
            if !undone {
                // Cannot happen for a record kept with its own undo; resolving everything
                // again is right whatever happened.
                return self.rebuild(&changed_paths, cancel, before);
            }
        }
        self.resolve(&resolve, !changed.is_empty())
    }

    /// Classifies, ranks and resolves the files marked, against the others as they are;
    /// merges the graph again. `exports_changed`: whether an export changed (the templates
    /// and the index are built again, not refreshed). An update in flight completes: it
    /// does not look at the cancel signal (a rebuild does, through the phase).
    fn resolve(&mut self, resolve: &[bool], exports_changed: bool) -> Applied {
        let repository = Arc::make_mut(&mut self.repository);
        let files = &mut repository.files;
        if exports_changed {
            self.templates = templates_of(files, &self.kept);
        }
        let definitions = Definitions::of(files);
        for ((file, ranks), _) in files
            .iter_mut()
            .zip(&definitions.ranks)
            .zip(resolve)
            .filter(|(_, r)| **r)
        {
            for (module, rank) in file.modules.iter_mut().zip(ranks) {
                kinds::classify_through_project(module, &self.templates);
                if rank.is_some() {
                    ids::assign(module, rank.map(|r| r as usize));
                }
            }
        }
        let mut before_phase: Vec<Vec<Extracted>> = vec![Vec::new(); files.len()];
        let mut edges: Vec<Option<FileEdges>> = vec![None; files.len()];
        if self.calls && resolve.iter().any(|r| *r) {
            let index = match (&mut self.index, exports_changed) {
                (Some(index), false) => {
                    let names: Vec<&str> = files
                        .iter()
                        .zip(resolve)
                        .filter(|(_, r)| **r)
                        .flat_map(|(f, _)| f.modules.iter().map(|m| m.name.as_str()))
                        .collect::<std::collections::BTreeSet<&str>>()
                        .into_iter()
                        .collect();
                    let refreshed: Vec<(&str, Vec<&Module>)> = names
                        .into_iter()
                        .map(|name| {
                            let modules = definitions
                                .by_name
                                .get(name)
                                .map(|places| {
                                    places.iter().map(|&(f, m)| &files[f].modules[m]).collect()
                                })
                                .unwrap_or_default();
                            (name, modules)
                        })
                        .collect();
                    index.refresh(&refreshed);
                    index
                }
                (slot, _) => slot.insert(ProjectIndex::build(files)),
            };
            let names: HashSet<&str> = definitions.by_name.keys().map(String::as_str).collect();
            let first_definitions = &definitions.first_definitions;
            let results: Vec<Option<(FileEdges, Vec<Extracted>)>> = files
                .par_iter_mut()
                .enumerate()
                .zip(resolve)
                .map(|((file_index, file), &resolve)| {
                    if !resolve {
                        return None;
                    }
                    let before = extracted(file);
                    graph::resolve::resolve_file(file, index);
                    let first = |module| first_definitions.contains(&(file_index, module));
                    Some((graph::file_edges(file, &names, first, index), before))
                })
                .collect();
            for (position, result) in results.into_iter().enumerate() {
                if let Some((file_edges, before)) = result {
                    edges[position] = Some(file_edges);
                    before_phase[position] = before;
                }
            }
        }
        // The new states, in the stored form; what is kept of each file resolved.
        let kept = &self.kept;
        let states: States = files
            .par_iter()
            .enumerate()
            .map(|(position, file)| {
                if !resolve[position] {
                    return None;
                }
                let kept = kept.get(&file.path)?;
                let empty = FileEdges::default();
                let state = StateRef {
                    hash: file.hash.as_deref().unwrap_or_default(),
                    modules: &kept.modules,
                    mentions: &kept.mentions,
                    resolution: &Resolution::capture(
                        file,
                        &definitions.ranks[position],
                        &before_phase[position],
                    ),
                    edges: edges[position].as_ref().unwrap_or(&empty),
                };
                crate::model::stored::encode(&state).ok()
            })
            .collect();
        let mut resolved = Vec::new();
        for (position, file) in files.iter().enumerate() {
            if !resolve[position] {
                continue;
            }
            resolved.push(file.path.clone());
            if let Some(kept) = self.kept.get_mut(&file.path) {
                kept.pending = false;
                kept.edges = if self.calls {
                    Some(edges[position].take().unwrap_or_default())
                } else {
                    None
                };
            }
        }
        repository.graph = if self.calls {
            let per_file: Vec<Option<&FileEdges>> = files
                .iter()
                .map(|file| self.kept.get(&file.path).and_then(|k| k.edges.as_ref()))
                .collect();
            graph::merge(files, &per_file)
        } else {
            Default::default()
        };
        repository.duplicates = definitions.duplicates;
        repository.indexes = OnceLock::new();
        repository.unresolved_files = 0;
        Applied { resolved, states }
    }

    /// Everything resolved again (the Mix projects changed): each record given its form as
    /// extracted back, then the phase from scratch. `changed`: the files whose records are
    /// new (as extracted already).
    fn rebuild(
        &mut self,
        changed: &HashSet<String>,
        cancel: &CancelToken,
        before: &mut dyn FnMut(&FileRecord),
    ) -> Applied {
        let repository = Arc::make_mut(&mut self.repository);
        let mut files = std::mem::take(&mut repository.files);
        for file in &mut files {
            if changed.contains(&file.path) {
                continue;
            }
            before(file);
            let undone = self.kept.get(&file.path).is_some_and(|kept| {
                crate::model::stored::decode::<Resolution>(&kept.undo)
                    .is_ok_and(|undo| undo.undo(file))
            });
            debug_assert!(undone, "a kept record undoes: {}", file.path);
        }
        let (live, states) = LivePhase::start(files, None, self.calls, cancel);
        *self = live;
        let resolved = self
            .repository
            .files()
            .iter()
            .filter(|f| !inert(f))
            .map(|f| f.path.clone())
            .collect();
        Applied { resolved, states }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::tests::{
        a_and_its_reader, assert_same, edit, fixtures, projects, Extractor, Random,
    };
    use super::*;

    /// The paths whose content differs between two trees, and those gone.
    fn diff(
        before: &BTreeMap<String, String>,
        after: &BTreeMap<String, String>,
    ) -> (Vec<String>, Vec<String>) {
        let changed = after
            .iter()
            .filter(|(path, source)| before.get(*path) != Some(*source))
            .map(|(path, _)| path.clone())
            .collect();
        let removed = before
            .keys()
            .filter(|path| !after.contains_key(*path))
            .cloned()
            .collect();
        (changed, removed)
    }

    #[test]
    fn live_updates_equal_a_phase_from_scratch_over_random_edits() {
        let original = fixtures();
        let mut extractor = Extractor::default();
        for seed in [0x9e37_79b9_7f4a_7c15_u64, 7, 2026, 11] {
            let mut random = Random(seed);
            let mut tree = original.clone();
            let (mut live, _) =
                LivePhase::start(extractor.records(&tree), None, true, &CancelToken::new());
            let mut history = Vec::new();
            for step in 0..24 {
                let was = tree.clone();
                for _ in 0..=random.below(3) {
                    history.push(edit(&mut tree, &original, &mut random, step));
                }
                let (changed, removed) = diff(&was, &tree);
                let records: Vec<FileRecord> = extractor
                    .records(&tree)
                    .into_iter()
                    .filter(|r| changed.contains(&r.path))
                    .collect();
                let mut seen = Vec::new();
                let applied = live.apply(records, &removed, &CancelToken::new(), &mut |f| {
                    seen.push(f.path.clone())
                });
                let all = extractor.records(&tree);
                let projects = projects(&all);
                let rebuilt = phase(all, projects, true, &CancelToken::new(), None, None);
                let context = format!("seed {seed}, step {step}, after {history:?}");
                assert_same(live.repository(), &rebuilt.repository, &context);
                // Every record changed or removed was seen before.
                for path in changed.iter().chain(&removed) {
                    assert!(
                        seen.contains(path) || !was.contains_key(path),
                        "{context}: {path} not seen"
                    );
                }
                assert!(applied.resolved.iter().all(|p| tree.contains_key(p)));
            }
        }
    }

    #[test]
    fn a_line_added_above_a_use_moves_what_it_injects() {
        let mut extractor = Extractor::default();
        let mut tree = BTreeMap::new();
        tree.insert(
            "lib/h.ex".to_string(),
            "defmodule H do\n  def h, do: 1\nend\n".to_string(),
        );
        tree.insert(
            "lib/t.ex".to_string(),
            "defmodule T do\n  defmacro __using__(_) do\n    quote do\n      import H\n      \
             require Logger\n    end\n  end\nend\n"
                .to_string(),
        );
        let user = |above: &str| format!("defmodule U do\n{above}  use T\n  def f, do: h()\nend\n");
        tree.insert("lib/u.ex".to_string(), user(""));
        let (mut live, _) =
            LivePhase::start(extractor.records(&tree), None, true, &CancelToken::new());
        tree.insert("lib/u.ex".into(), user("  @moduledoc false\n\n"));
        let records: Vec<FileRecord> = extractor
            .records(&tree)
            .into_iter()
            .filter(|r| r.path == "lib/u.ex")
            .collect();
        let applied = live.apply(records, &[], &CancelToken::new(), &mut |_| {});
        assert_eq!(applied.resolved, ["lib/u.ex"], "no export changed");
        let all = extractor.records(&tree);
        let projects = projects(&all);
        let rebuilt = phase(all, projects, true, &CancelToken::new(), None, None);
        assert_same(
            live.repository(),
            &rebuilt.repository,
            "a line above the use",
        );
    }

    #[test]
    fn a_body_edit_resolves_its_file_alone() {
        let mut extractor = Extractor::default();
        let mut tree = a_and_its_reader();
        let (mut live, states) =
            LivePhase::start(extractor.records(&tree), None, true, &CancelToken::new());
        assert_eq!(states.iter().flatten().count(), 2);
        tree.insert(
            "lib/a.ex".into(),
            "defmodule A do\n  def f(x) do\n    x\n  end\nend\n".into(),
        );
        let records: Vec<FileRecord> = extractor.records(&tree).into_iter().take(1).collect();
        let applied = live.apply(records, &[], &CancelToken::new(), &mut |_| {});
        assert_eq!(applied.resolved, ["lib/a.ex"]);
        tree.insert(
            "lib/a.ex".into(),
            "defmodule A do\n  def f(x), do: x\n  def f2, do: 2\nend\n".into(),
        );
        let records: Vec<FileRecord> = extractor.records(&tree).into_iter().take(1).collect();
        let applied = live.apply(records, &[], &CancelToken::new(), &mut |_| {});
        assert_eq!(applied.resolved, ["lib/a.ex", "lib/b.ex"]);
    }
}
