//! Repository.Enhanced, incremental (issue [5]): the project phase redone for the files that
//! need it rather than for all of them.
//!
//! What the project phase writes into a file's record (its modules' kinds through `use`d
//! templates, the rank in the IDs of a module defined in several places, the resolution of its
//! calls and references) depends on the file itself and on other files' **exports**: what a
//! module offers the others (its name and where it is defined, its functions and macros with
//! their arities and kinds, its kinds, what its templates inject, the `use`s that shape it).
//! Each file's [`FileState`] keeps a signature of each of its modules' exports, the module
//! names its resolution reads (its *mentions*), what the phase wrote ([`Resolution`]) and its
//! part of the graph ([`FileEdges`]). Given the states of the previous phase over the same
//! files ([`Previous`]), a phase re-resolves:
//!
//! - the files that are new or whose content changed;
//! - the files that mention a module name whose exports changed (defined, removed or
//!   redefined anywhere), or a template that, through its `use`s or what it injects, reaches
//!   one: a `use` follows the template's chain at resolution time.
//!
//! Every other file gets its stored [`Resolution`] back, and its stored edges join the graph.
//! A change of the Mix projects re-resolves everything (every file's project may move). An
//! edit inside a function body changes no export, so it re-resolves that one file. The result
//! equals a phase over all files from scratch: the property test below applies random edits,
//! additions and deletions over the fixtures and compares.

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{mix, Repository};
use crate::extract::{ids, kinds};
use crate::graph::resolve::ProjectIndex;
use crate::graph::{self, FileEdges};
use crate::model::{
    Call, CallForm, CallTarget, DirectiveKind, DuplicateModule, FileRecord, ImportCandidates,
    InjectedKind, Location, Module, ModuleKind, Project, Reference, Status, Symbol,
};
use crate::otp::cancel::CancelToken;

/// What the project phase wrote into one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CallResolution {
    target: CallTarget,
    module: Option<Symbol>,
    is_macro: bool,
    undefined: bool,
    imported: bool,
    imports: Option<ImportCandidates>,
}

impl CallResolution {
    fn of(call: &Call) -> CallResolution {
        CallResolution {
            target: call.target,
            module: call.module,
            is_macro: call.is_macro,
            undefined: call.undefined,
            imported: call.imported,
            imports: call.imports.clone(),
        }
    }

    fn apply(&self, call: &mut Call) {
        call.target = self.target;
        call.module = self.module;
        call.is_macro = self.is_macro;
        call.undefined = self.undefined;
        call.imported = self.imported;
        call.imports = self.imports.clone();
    }
}

/// What the project phase wrote into one module besides its calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ModuleResolution {
    kinds: Vec<ModuleKind>,
    /// Its rank among the places its name is defined, when there are several (in its IDs).
    rank: Option<u32>,
}

/// What the project phase wrote into one file's record, in the record's order: enough to give
/// a record as extracted its resolved form again without resolving anything.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct Resolution {
    modules: Vec<ModuleResolution>,
    calls: Vec<CallResolution>,
    /// Each reference's module after expansion.
    references: Vec<Symbol>,
}

/// Visits every list of calls and references of a file in one fixed order.
fn each_list(file: &FileRecord, visit: &mut dyn FnMut(&[Call], &[Reference])) {
    for module in &file.modules {
        visit(&module.calls, &module.references);
        for clause in module.functions.iter().flat_map(|f| &f.clauses) {
            visit(&clause.calls, &clause.references);
        }
        for definition in &module.dynamic_definitions {
            visit(&definition.calls, &definition.references);
        }
    }
    visit(&file.calls, &[]);
}

fn each_list_mut(file: &mut FileRecord, visit: &mut dyn FnMut(&mut [Call], &mut [Reference])) {
    for module in &mut file.modules {
        visit(&mut module.calls, &mut module.references);
        for clause in module.functions.iter_mut().flat_map(|f| &mut f.clauses) {
            visit(&mut clause.calls, &mut clause.references);
        }
        for definition in &mut module.dynamic_definitions {
            visit(&mut definition.calls, &mut definition.references);
        }
    }
    visit(&mut file.calls, &mut []);
}

impl Resolution {
    fn capture(file: &FileRecord, ranks: &[Option<u32>]) -> Resolution {
        let mut resolution = Resolution {
            modules: file
                .modules
                .iter()
                .zip(ranks.iter().copied().chain(std::iter::repeat(None)))
                .map(|(module, rank)| ModuleResolution {
                    kinds: module.kinds.clone(),
                    rank,
                })
                .collect(),
            ..Resolution::default()
        };
        each_list(file, &mut |calls, references| {
            resolution
                .calls
                .extend(calls.iter().map(CallResolution::of));
            resolution
                .references
                .extend(references.iter().map(|r| r.module));
        });
        resolution
    }

    /// Whether it fits the record's shape (it always does for the same content; a stored one
    /// that does not is not applied).
    fn fits(&self, file: &FileRecord) -> bool {
        let (mut calls, mut references) = (0, 0);
        each_list(file, &mut |c, r| {
            calls += c.len();
            references += r.len();
        });
        self.modules.len() == file.modules.len()
            && self.calls.len() == calls
            && self.references.len() == references
    }

    /// The module part: kinds and the IDs of a module defined in several places.
    fn apply_modules(&self, file: &mut FileRecord) {
        for (module, resolution) in file.modules.iter_mut().zip(&self.modules) {
            module.kinds.clone_from(&resolution.kinds);
            if let Some(rank) = resolution.rank {
                ids::assign(module, Some(rank as usize));
            }
        }
    }

    fn apply_calls(&self, file: &mut FileRecord) {
        let mut calls = self.calls.iter();
        let mut references = self.references.iter();
        each_list_mut(file, &mut |c, r| {
            for (call, resolution) in c.iter_mut().zip(calls.by_ref()) {
                resolution.apply(call);
            }
            for (reference, module) in r.iter_mut().zip(references.by_ref()) {
                reference.module = *module;
            }
        });
    }
}

/// One module's exports: the signature of what other files' resolution reads of it, and the
/// modules whose exports reach it (its `use`s, and what its templates inject).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ModuleExports {
    name: String,
    signature: String,
    reaches: Vec<String>,
}

/// What a phase keeps of one file for the next one (the index stores it per run scope).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FileState {
    /// The content hash of the record it was made from.
    pub(crate) hash: String,
    modules: Vec<ModuleExports>,
    /// Module names the file's resolution reads, sorted.
    mentions: Vec<String>,
    resolution: Resolution,
    edges: FileEdges,
}

/// The previous phase over the same run scope: its projects and its files' states by path.
#[derive(Debug, Default)]
pub(crate) struct Previous {
    pub(crate) projects: Vec<Project>,
    pub(crate) files: HashMap<String, FileState>,
}

/// The result of a phase: the repository, and each file's state with whether this phase made
/// it (a re-resolved file) or carried it over.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) repository: Repository,
    /// In the repository's file order; `None` for a file left unresolved by an interrupt.
    pub(crate) states: Vec<Option<FileState>>,
    /// Whether the phase resolved the file at that position.
    pub(crate) resolved: Vec<bool>,
}

impl Outcome {
    pub(crate) fn re_resolved(&self) -> usize {
        self.resolved.iter().filter(|r| **r).count()
    }
}

/// The view of a module whose hash is its export signature. Lines are left out: an edit that
/// moves a definition changes no other file's resolution.
#[derive(Serialize)]
struct ExportView<'a> {
    name: &'a str,
    kinds: &'a [ModuleKind],
    functions: Vec<(&'a str, u32, u32, &'a str)>,
    injected: Vec<InjectedView<'a>>,
    uses: Vec<(&'a str, Option<&'a str>)>,
    /// For a module with templates: the local calls of each function to its own functions
    /// (followed by `unquote(helper())`).
    local_callees: Vec<(&'a str, u32, &'a str, u32)>,
}

#[derive(Serialize)]
struct InjectedView<'a> {
    kind: InjectedKind,
    name: &'a str,
    arity: Option<u32>,
    origin: Option<&'a str>,
    options: Option<&'a str>,
    alias_as: Option<&'a str>,
    only: Option<&'a [String]>,
    except: Option<&'a [String]>,
}

fn exports_of(module: &Module) -> ModuleExports {
    let view = ExportView {
        name: &module.name,
        kinds: &module.kinds,
        functions: module
            .functions
            .iter()
            .map(|f| (f.name.as_str(), f.min_arity, f.arity, f.kind.keyword()))
            .collect(),
        injected: module
            .injected
            .iter()
            .map(|i| InjectedView {
                kind: i.kind,
                name: &i.name,
                arity: i.arity,
                origin: i.origin.as_deref(),
                options: i.options.as_deref(),
                alias_as: i.alias_as.as_deref(),
                only: i.only.as_deref(),
                except: i.except.as_deref(),
            })
            .collect(),
        uses: module
            .directives
            .iter()
            .filter(|d| d.kind == DirectiveKind::Use)
            .map(|d| (d.target.as_str(), d.options.as_deref()))
            .collect(),
        local_callees: if module.injected.is_empty() {
            Vec::new()
        } else {
            module
                .functions
                .iter()
                .flat_map(|f| {
                    f.clauses
                        .iter()
                        .flat_map(|c| &c.calls)
                        .filter(|c| c.form == CallForm::Local && c.module.is_none())
                        .filter_map(move |c| {
                            Some((f.name.as_str(), f.arity, c.name?.as_str(), c.arity?))
                        })
                })
                .collect()
        },
    };
    let bytes = crate::model::stored::encode(&view).unwrap_or_default();
    let mut reaches: Vec<String> = module
        .directives
        .iter()
        .filter(|d| d.kind == DirectiveKind::Use)
        .map(|d| d.target.clone())
        .chain(
            module
                .injected
                .iter()
                .filter(|i| {
                    matches!(
                        i.kind,
                        InjectedKind::Alias
                            | InjectedKind::Import
                            | InjectedKind::Require
                            | InjectedKind::Use
                            | InjectedKind::Behaviour
                    )
                })
                .map(|i| i.name.clone()),
        )
        .collect();
    reaches.sort_unstable();
    reaches.dedup();
    ModuleExports {
        name: module.name.clone(),
        signature: blake3::hash(&bytes).to_hex()[..32].to_string(),
        reaches,
    }
}

/// Every module name a file's resolution reads: its own modules, the targets of its
/// directives, the modules of its calls and references (and of their import candidates), and
/// Kernel (a project module of that name would change every file).
fn mentions_of(file: &FileRecord) -> Vec<String> {
    let mut names: BTreeSet<&str> = BTreeSet::new();
    names.insert("Kernel");
    for module in &file.modules {
        names.insert(&module.name);
        for directive in &module.directives {
            names.insert(&directive.target);
        }
        if let Some(implements) = &module.implements {
            names.insert(&implements.protocol);
        }
    }
    each_list(file, &mut |calls, references| {
        for call in calls {
            if let Some(module) = &call.module {
                names.insert(module.as_str());
            }
            for (candidate, _) in call.imports.as_deref().unwrap_or(&[]) {
                names.insert(candidate.as_str());
            }
        }
        for reference in references {
            names.insert(reference.module.as_str());
        }
    });
    names.into_iter().map(str::to_string).collect()
}

/// Module name → the (path, signature) of each place it is defined, in path order.
type Places<'a> = BTreeMap<&'a str, Vec<(&'a str, &'a str)>>;

fn places<'a>(files: impl Iterator<Item = (&'a str, &'a [ModuleExports])>) -> Places<'a> {
    let mut places: Places<'a> = BTreeMap::new();
    for (path, modules) in files {
        for module in modules {
            places
                .entry(module.name.as_str())
                .or_default()
                .push((path, module.signature.as_str()));
        }
    }
    for list in places.values_mut() {
        list.sort_unstable();
    }
    places
}

/// The module names whose exports changed, and every module that reaches one of them.
fn changed_names(previous: &Previous, exports: &[(&str, &[ModuleExports])]) -> HashSet<String> {
    let before = places(
        previous
            .files
            .iter()
            .map(|(path, state)| (path.as_str(), state.modules.as_slice())),
    );
    let now = places(exports.iter().copied());
    let mut changed: HashSet<String> = HashSet::new();
    for (name, list) in &now {
        if before.get(name) != Some(list) {
            changed.insert((*name).to_string());
        }
    }
    for name in before.keys() {
        if !now.contains_key(name) {
            changed.insert((*name).to_string());
        }
    }
    if changed.is_empty() {
        return changed;
    }
    // What reaches a changed module changes with it: a `use` follows its template's chain.
    let mut reached_by: HashMap<&str, Vec<&str>> = HashMap::new();
    for (_, modules) in exports {
        for module in *modules {
            for target in &module.reaches {
                reached_by
                    .entry(target.as_str())
                    .or_default()
                    .push(module.name.as_str());
            }
        }
    }
    let mut queue: Vec<String> = changed.iter().cloned().collect();
    while let Some(name) = queue.pop() {
        for &user in reached_by.get(name.as_str()).map_or(&[][..], Vec::as_slice) {
            if changed.insert(user.to_string()) {
                queue.push(user.to_string());
            }
        }
    }
    changed
}

/// The project phase over `files` (sorted by path, as extracted), reusing what `previous`
/// (the last phase over the same scope) resolved wherever that is still right.
pub(crate) fn phase(
    mut files: Vec<FileRecord>,
    projects: Vec<Project>,
    calls: bool,
    cancel: &CancelToken,
    previous: Option<&Previous>,
) -> Outcome {
    for file in &mut files {
        file.project = mix::nearest(&projects, &file.path).map(|p| p.path.clone());
    }
    let previous = previous.filter(|p| p.projects == projects);
    // A stored state serves a file whose content is the one it was made from.
    let carried: Vec<Option<&FileState>> = files
        .iter()
        .map(|file| {
            let state = previous?.files.get(&file.path)?;
            (file.hash.as_ref() == Some(&state.hash) && state.resolution.fits(file))
                .then_some(state)
        })
        .collect();
    // The exports and mentions of every other file, from its record as extracted.
    let fresh: Vec<Option<(Vec<ModuleExports>, Vec<String>)>> = files
        .par_iter()
        .zip(&carried)
        .map(|(file, carried)| {
            carried.is_none().then(|| {
                (
                    file.modules.iter().map(exports_of).collect(),
                    mentions_of(file),
                )
            })
        })
        .collect();
    let exports: Vec<(&str, &[ModuleExports])> = files
        .iter()
        .zip(carried.iter().zip(&fresh))
        .map(|(file, (carried, fresh))| {
            let modules = match (carried, fresh) {
                (Some(state), _) => state.modules.as_slice(),
                (None, Some((modules, _))) => modules.as_slice(),
                (None, None) => &[],
            };
            (file.path.as_str(), modules)
        })
        .collect();
    let changed = previous.map(|previous| changed_names(previous, &exports));
    // A file that was not parsed (skipped, failed, timed out) has nothing to resolve.
    let inert: Vec<bool> = files
        .iter()
        .map(|f| !matches!(f.status, Status::Ok | Status::SyntaxError))
        .collect();
    let resolve: Vec<bool> = carried
        .iter()
        .zip(&inert)
        .map(|(state, &inert)| match (state, &changed) {
            _ if inert => false,
            (None, _) | (_, None) => true,
            (Some(state), Some(changed)) => {
                !changed.is_empty() && state.mentions.iter().any(|m| changed.contains(m))
            }
        })
        .collect();
    drop(exports);

    // Templates, for the kinds a `use` brings: from the records as extracted.
    let templates = resolve.iter().any(|r| *r).then(|| {
        let modules: Vec<&Module> = files.iter().flat_map(|f| &f.modules).collect();
        kinds::Templates::of(&modules)
    });
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
    let mut ranks: Vec<Vec<Option<u32>>> =
        files.iter().map(|f| vec![None; f.modules.len()]).collect();
    let mut duplicates = Vec::new();
    for (name, locations) in &places {
        if locations.len() < 2 {
            continue;
        }
        for (rank, &(file, module)) in locations.iter().enumerate() {
            ranks[file][module] = Some(u32::try_from(rank).unwrap_or(u32::MAX));
        }
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
    let first_definitions: HashSet<(usize, usize)> =
        places.values().filter_map(|l| l.first().copied()).collect();
    drop(places);

    // The module part, before the index is built: it reads the kinds.
    for (index, file) in files.iter_mut().enumerate() {
        match (resolve[index], carried[index], &templates) {
            (false, Some(state), _) => state.resolution.apply_modules(file),
            (true, _, Some(templates)) => {
                for (module, rank) in file.modules.iter_mut().zip(&ranks[index]) {
                    kinds::classify_through_project(module, templates);
                    if rank.is_some() {
                        ids::assign(module, rank.map(|r| r as usize));
                    }
                }
            }
            _ => {}
        }
    }

    // Calls resolved against every file, then each resolved file's edges.
    let mut edges: Vec<Option<FileEdges>> = vec![None; files.len()];
    let mut interrupted = vec![false; files.len()];
    if calls && resolve.iter().any(|r| *r) {
        let index = ProjectIndex::build(&files);
        let owned: Vec<String> = files
            .iter()
            .flat_map(|f| f.modules.iter().map(|m| m.name.clone()))
            .collect();
        let names: HashSet<&str> = owned.iter().map(String::as_str).collect();
        let results: Vec<Option<Option<FileEdges>>> = files
            .par_iter_mut()
            .enumerate()
            .zip(&resolve)
            .map(|((file_index, file), &resolve)| {
                if !resolve {
                    return None;
                }
                if cancel.is_cancelled() {
                    return Some(None);
                }
                graph::resolve::resolve_file(file, &index);
                let first = |module| first_definitions.contains(&(file_index, module));
                Some(Some(graph::file_edges(file, &names, first, &index)))
            })
            .collect();
        for (index, result) in results.into_iter().enumerate() {
            match result {
                Some(Some(file_edges)) => edges[index] = Some(file_edges),
                Some(None) => interrupted[index] = true,
                None => {}
            }
        }
    }
    let mut states: Vec<Option<FileState>> = Vec::with_capacity(files.len());
    let mut resolved = Vec::with_capacity(files.len());
    for (index, file) in files.iter_mut().enumerate() {
        if interrupted[index] || inert[index] {
            // The calls stay as extracted and the file adds no edges.
            resolved.push(false);
            states.push(None);
            continue;
        }
        let carried = carried[index];
        match carried.filter(|_| !resolve[index]) {
            Some(state) => {
                if calls {
                    state.resolution.apply_calls(file);
                    edges[index] = Some(state.edges.clone());
                }
                resolved.push(false);
                states.push(Some(state.clone()));
            }
            None => {
                let (modules, mentions) = match (&fresh[index], carried) {
                    (Some(fresh), _) => fresh.clone(),
                    (None, Some(state)) => (state.modules.clone(), state.mentions.clone()),
                    (None, None) => (Vec::new(), Vec::new()),
                };
                resolved.push(true);
                states.push(Some(FileState {
                    hash: file.hash.clone().unwrap_or_default(),
                    modules,
                    mentions,
                    resolution: Resolution::capture(file, &ranks[index]),
                    edges: edges[index].clone().unwrap_or_default(),
                }));
            }
        }
    }
    let graph = if calls {
        let per_file: Vec<Option<&FileEdges>> = edges.iter().map(Option::as_ref).collect();
        graph::merge(&files, &per_file)
    } else {
        Default::default()
    };
    Outcome {
        repository: Repository {
            files,
            projects,
            duplicates,
            indexes: std::sync::OnceLock::new(),
            graph,
            call_indexes: std::sync::OnceLock::new(),
            unresolved_files: interrupted.iter().filter(|i| **i).count(),
        },
        states,
        resolved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FileRole, Reason};
    use crate::syntax::{parse, ParseInput, ParseOutcome};
    use std::path::Path;

    fn record(path: &str, source: &str) -> FileRecord {
        let ParseOutcome::Parsed(tree) = parse(
            ParseInput::Bytes(source.as_bytes()),
            &crate::syntax::within(std::time::Duration::from_secs(30)),
        ) else {
            panic!("timed out")
        };
        let mut record = FileRecord::unparsed(path.into(), Status::Ok, Reason::Panic, None);
        record.reason = None;
        record.hash = Some(blake3::hash(source.as_bytes()).to_hex().to_string());
        record.role = FileRole::for_path(path);
        let facts = crate::extract::facts(&tree, source.as_bytes(), true);
        record.modules = facts.modules;
        record.calls = facts.calls;
        for module in &mut record.modules {
            ids::assign(module, None);
        }
        if record.role == FileRole::MixProject {
            record.mix_project = Some(mix::from_mix_file(path, &tree, source.as_bytes()));
        }
        record
    }

    /// Records of a tree, extracted once per content.
    #[derive(Default)]
    struct Extractor(HashMap<(String, String), FileRecord>);

    impl Extractor {
        fn records(&mut self, tree: &BTreeMap<String, String>) -> Vec<FileRecord> {
            tree.iter()
                .map(|(path, source)| {
                    self.0
                        .entry((path.clone(), source.clone()))
                        .or_insert_with(|| record(path, source))
                        .clone()
                })
                .collect()
        }
    }

    fn projects(records: &[FileRecord]) -> Vec<Project> {
        records
            .iter()
            .filter_map(|r| r.mix_project.clone())
            .collect()
    }

    /// The states of an outcome as the index would give them back.
    fn stored(outcome: &Outcome) -> Previous {
        Previous {
            projects: outcome.repository.projects().to_vec(),
            files: outcome
                .repository
                .files()
                .iter()
                .zip(&outcome.states)
                .filter_map(|(file, state)| {
                    let blob = crate::model::stored::encode(state.as_ref()?).unwrap();
                    Some((
                        file.path.clone(),
                        crate::model::stored::decode(&blob).unwrap(),
                    ))
                })
                .collect(),
        }
    }

    fn run(
        extractor: &mut Extractor,
        tree: &BTreeMap<String, String>,
        previous: Option<&Previous>,
    ) -> Outcome {
        let records = extractor.records(tree);
        let projects = projects(&records);
        phase(records, projects, true, &CancelToken::new(), previous)
    }

    fn assert_same(incremental: &Repository, rebuilt: &Repository, step: &str) {
        assert_eq!(incremental.files().len(), rebuilt.files().len(), "{step}");
        for (a, b) in incremental.files().iter().zip(rebuilt.files()) {
            assert!(a == b, "{step}: {} differs from a rebuild", a.path);
        }
        assert!(incremental.graph() == rebuilt.graph(), "{step}: graph");
        assert!(
            incremental.duplicates() == rebuilt.duplicates(),
            "{step}: duplicates"
        );
        assert!(
            incremental.projects() == rebuilt.projects(),
            "{step}: projects"
        );
    }

    fn fixtures() -> BTreeMap<String, String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut tree = BTreeMap::new();
        let mut folders = vec![root.clone()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                let elixir = matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("ex" | "exs")
                );
                if path.is_dir() {
                    folders.push(path);
                } else if elixir {
                    let relative = path.strip_prefix(&root).unwrap().to_string_lossy();
                    tree.insert(
                        relative.into_owned(),
                        std::fs::read_to_string(&path).unwrap(),
                    );
                }
            }
        }
        tree
    }

    /// xorshift64*: reproducible without a dependency.
    struct Random(u64);

    impl Random {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
        }

        fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
            (!items.is_empty()).then(|| &items[self.below(items.len())])
        }
    }

    fn module_names(tree: &BTreeMap<String, String>) -> Vec<String> {
        tree.values()
            .flat_map(|source| source.lines())
            .filter_map(|line| line.trim_start().strip_prefix("defmodule "))
            .filter_map(|rest| rest.split_whitespace().next())
            .filter(|name| {
                name.chars()
                    .all(|c| c.is_alphanumeric() || c == '.' || c == '_')
            })
            .map(str::to_string)
            .collect()
    }

    /// Inserts `text` after a random line for which `at` holds, in a random file; the name of
    /// the edit, or `None` when no line qualifies.
    fn insert_after(
        tree: &mut BTreeMap<String, String>,
        random: &mut Random,
        at: impl Fn(&str) -> bool,
        text: &str,
    ) -> Option<String> {
        let candidates: Vec<(String, usize)> = tree
            .iter()
            .flat_map(|(path, source)| {
                source
                    .lines()
                    .enumerate()
                    .filter(|(_, line)| at(line))
                    .map(|(n, _)| (path.clone(), n))
                    .collect::<Vec<_>>()
            })
            .collect();
        let (path, line) = random.pick(&candidates)?.clone();
        let source = tree.get_mut(&path)?;
        let mut lines: Vec<&str> = source.lines().collect();
        lines.insert(line + 1, text);
        *source = lines.join("\n") + "\n";
        Some(format!("{path}:{}", line + 1))
    }

    /// One random edit of the tree; its description.
    fn edit(
        tree: &mut BTreeMap<String, String>,
        original: &BTreeMap<String, String>,
        random: &mut Random,
        step: usize,
    ) -> String {
        let names = module_names(tree);
        match random.below(11) {
            0 | 1 => insert_after(
                tree,
                random,
                |l| {
                    let l = l.trim_start();
                    (l.starts_with("def ") || l.starts_with("defp ")) && l.ends_with(" do")
                },
                "    _ = {:prop, 1}",
            )
            .map(|at| format!("body edit at {at}")),
            2 => insert_after(
                tree,
                random,
                |l| l.trim_start().starts_with("defmodule ") && l.ends_with(" do"),
                &format!("  def prop_{step}(a, b \\\\ 1), do: {{a, b}}"),
            )
            .map(|at| format!("new function at {at}")),
            3 => insert_after(
                tree,
                random,
                |l| l.trim_start().starts_with("quote do"),
                "      import Prop.Helper",
            )
            .map(|at| format!("template import at {at}")),
            4 => {
                let template = random
                    .pick(&names)
                    .cloned()
                    .unwrap_or_else(|| "Prop.Helper".into());
                insert_after(
                    tree,
                    random,
                    |l| l.trim_start().starts_with("defmodule ") && l.ends_with(" do"),
                    &format!("  use {template}"),
                )
                .map(|at| format!("use {template} at {at}"))
            }
            5 => {
                let paths: Vec<String> = tree.keys().cloned().collect();
                let path = random.pick(&paths).cloned();
                path.map(|path| {
                    tree.remove(&path);
                    format!("delete {path}")
                })
            }
            6 => {
                let missing: Vec<&String> =
                    original.keys().filter(|p| !tree.contains_key(*p)).collect();
                random.pick(&missing).map(|path| {
                    tree.insert((*path).clone(), original[*path].clone());
                    format!("restore {path}")
                })
            }
            7 => {
                let paths: Vec<String> = tree.keys().cloned().collect();
                random.pick(&paths).cloned().map(|path| {
                    let copy = format!("prop/copy_{step}.ex");
                    let source = tree[&path].clone();
                    tree.insert(copy.clone(), source);
                    format!("copy {path} to {copy}")
                })
            }
            8 => {
                let a = random.pick(&names).cloned().unwrap_or_else(|| "A".into());
                let b = random.pick(&names).cloned().unwrap_or_else(|| "B".into());
                tree.insert(
                    format!("prop/new_{step}.ex"),
                    format!(
                        "defmodule Prop.New{step} do\n  import {a}\n  alias {b}\n\n  \
                         def run(x), do: {b}.call(x) |> helper(1)\n  \
                         def other, do: %{a}{{}}\nend\n"
                    ),
                );
                Some(format!("new module importing {a}, calling {b}"))
            }
            9 => {
                let present = tree.contains_key("prop/helper.ex");
                if present {
                    tree.remove("prop/helper.ex");
                } else {
                    tree.insert(
                        "prop/helper.ex".into(),
                        "defmodule Prop.Helper do\n  def helper(x, y), do: {x, y}\n  \
                         defmacro prop_macro(x), do: x\nend\n"
                            .into(),
                    );
                }
                Some(format!(
                    "Prop.Helper {}",
                    if present { "removed" } else { "added" }
                ))
            }
            _ => {
                let renamed = random.pick(&names).cloned();
                renamed.and_then(|name| {
                    let (path, source) = tree
                        .iter_mut()
                        .find(|(_, s)| s.contains(&format!("defmodule {name} do")))?;
                    *source = source.replacen(
                        &format!("defmodule {name} do"),
                        &format!("defmodule {name}Prop{step} do"),
                        1,
                    );
                    Some(format!("rename {name} in {path}"))
                })
            }
        }
        .unwrap_or_else(|| "no edit".into())
    }

    #[test]
    fn incremental_phase_equals_a_rebuild_over_random_edits() {
        let original = fixtures();
        let mut extractor = Extractor::default();
        for seed in [0x9e37_79b9_7f4a_7c15_u64, 7, 2026] {
            let mut random = Random(seed);
            let mut tree = original.clone();
            let mut previous = stored(&run(&mut extractor, &tree, None));
            let mut history = Vec::new();
            for step in 0..24 {
                for _ in 0..=random.below(3) {
                    history.push(edit(&mut tree, &original, &mut random, step));
                }
                let incremental = run(&mut extractor, &tree, Some(&previous));
                let rebuilt = run(&mut extractor, &tree, None);
                let context = format!("seed {seed}, step {step}, after {history:?}");
                assert_same(&incremental.repository, &rebuilt.repository, &context);
                previous = stored(&incremental);
            }
        }
    }

    #[test]
    fn a_body_edit_re_resolves_its_file_and_an_export_its_readers() {
        let mut tree = BTreeMap::new();
        tree.insert(
            "lib/a.ex".to_string(),
            "defmodule A do\n  def f(x), do: x\nend\n".to_string(),
        );
        tree.insert(
            "lib/b.ex".to_string(),
            "defmodule B do\n  def g(x), do: A.f(x)\nend\n".to_string(),
        );
        tree.insert(
            "lib/c.ex".to_string(),
            "defmodule C do\n  def h, do: :ok\nend\n".to_string(),
        );
        let mut extractor = Extractor::default();
        let first = run(&mut extractor, &tree, None);
        assert_eq!(first.re_resolved(), 3);
        let previous = stored(&first);
        assert_eq!(run(&mut extractor, &tree, Some(&previous)).re_resolved(), 0);

        // A body edit: only the edited file.
        tree.insert(
            "lib/a.ex".into(),
            "defmodule A do\n  def f(x) do\n    y = x\n    y\n  end\nend\n".into(),
        );
        let body = run(&mut extractor, &tree, Some(&previous));
        let resolved: Vec<&str> = resolved_paths(&body);
        assert_eq!(resolved, ["lib/a.ex"]);

        // A new export of A: A and B, which calls A, but not C.
        tree.insert(
            "lib/a.ex".into(),
            "defmodule A do\n  def f(x), do: x\n  def f2, do: 2\nend\n".into(),
        );
        let export = run(&mut extractor, &tree, Some(&previous));
        assert_eq!(resolved_paths(&export), ["lib/a.ex", "lib/b.ex"]);
        let rebuilt = run(&mut extractor, &tree, None);
        assert_same(&export.repository, &rebuilt.repository, "export");
    }

    fn resolved_paths(outcome: &Outcome) -> Vec<&str> {
        outcome
            .repository
            .files()
            .iter()
            .zip(&outcome.resolved)
            .filter(|(_, r)| **r)
            .map(|(f, _)| f.path.as_str())
            .collect()
    }
}
