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
    intern, Call, CallForm, CallTarget, DirectiveKind, DuplicateModule, FileRecord,
    ImportCandidates, InjectedKind, Location, Module, ModuleKind, Project, Reference,
    SpilledRecords, Status, Symbol,
};
use crate::otp::cancel::CancelToken;

mod live;
pub(crate) use live::{LivePhase, States};

/// A call's module after the phase, as a change of the one extracted: most remote calls keep
/// theirs, most local ones resolve to their own module or Kernel, so the stored form rarely
/// names one. Names are positions in the file's [`Resolution::symbols`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum ModuleChange {
    Same,
    /// The module the call is written in.
    Own,
    Kernel,
    Set(Option<u32>),
}

/// A call's import candidates after the phase, as a change of the extracted ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum CandidatesChange {
    Same,
    Cleared,
    Set(Vec<(u32, bool)>),
}

/// What the project phase wrote into one call: its target, macro/undefined/imported flags,
/// module and candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CallResolution {
    target: CallTarget,
    flags: u8,
    module: ModuleChange,
    candidates: CandidatesChange,
}

const MACRO: u8 = 1;
const UNDEFINED: u8 = 2;
const IMPORTED: u8 = 4;

/// A call's module and candidates as extracted, taken before the phase resolves the file.
type Extracted = (Option<Symbol>, Option<ImportCandidates>);

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
    /// The module names the calls and references below point to, each once.
    symbols: Vec<Symbol>,
    modules: Vec<ModuleResolution>,
    calls: Vec<CallResolution>,
    /// Each reference's module after expansion.
    references: Vec<u32>,
}

/// Builds a resolution's symbol table.
#[derive(Default)]
struct SymbolTable {
    symbols: Vec<Symbol>,
    positions: HashMap<Symbol, u32>,
}

impl SymbolTable {
    fn position(&mut self, symbol: Symbol) -> u32 {
        *self.positions.entry(symbol).or_insert_with(|| {
            self.symbols.push(symbol);
            u32::try_from(self.symbols.len() - 1).unwrap_or(u32::MAX)
        })
    }
}

/// Visits every list of calls and references of a file in one fixed order, with the module
/// that holds it (`None` for a script's top level).
type Visit<'v> = dyn FnMut(Option<&str>, &[Call], &[Reference]) + 'v;
type VisitMut<'v> = dyn FnMut(Option<&str>, &mut [Call], &mut [Reference]) + 'v;

fn each_list(file: &FileRecord, visit: &mut Visit<'_>) {
    for module in &file.modules {
        let own = Some(module.name.as_str());
        visit(own, &module.calls, &module.references);
        for clause in module.functions.iter().flat_map(|f| &f.clauses) {
            visit(own, &clause.calls, &clause.references);
        }
        for definition in &module.dynamic_definitions {
            visit(own, &definition.calls, &definition.references);
        }
    }
    visit(None, &file.calls, &[]);
}

fn each_list_mut(file: &mut FileRecord, visit: &mut VisitMut<'_>) {
    for module in &mut file.modules {
        let own = Some(module.name.as_str());
        visit(own, &mut module.calls, &mut module.references);
        for clause in module.functions.iter_mut().flat_map(|f| &mut f.clauses) {
            visit(own, &mut clause.calls, &mut clause.references);
        }
        for definition in &mut module.dynamic_definitions {
            visit(own, &mut definition.calls, &mut definition.references);
        }
    }
    visit(None, &mut file.calls, &mut []);
}

/// Every call's module and candidates as extracted, in [`each_list`]'s order.
fn extracted(file: &FileRecord) -> Vec<Extracted> {
    let mut extracted = Vec::new();
    each_list(file, &mut |_, calls, _| {
        extracted.extend(calls.iter().map(|c| (c.module, c.imports.clone())));
    });
    extracted
}

fn flag(set: bool, bit: u8) -> u8 {
    if set {
        bit
    } else {
        0
    }
}

impl Resolution {
    fn capture(file: &FileRecord, ranks: &[Option<u32>], extracted: &[Extracted]) -> Resolution {
        Resolution::capture_against(file, ranks, Some(extracted))
    }

    /// What the phase may write into a record, as it is in `file` (as extracted): applied to
    /// the record after the phase, it gives back the one before ([`undo`](Self::undo)).
    fn absolute(file: &FileRecord) -> Resolution {
        Resolution::capture_against(file, &[], None)
    }

    /// What `file` holds, as a change of its calls as `extracted` (`None`: every value
    /// written out, for a record in any state).
    fn capture_against(
        file: &FileRecord,
        ranks: &[Option<u32>],
        extracted: Option<&[Extracted]>,
    ) -> Resolution {
        let mut table = SymbolTable::default();
        let mut calls_out = Vec::new();
        let mut references_out = Vec::new();
        let mut extracted = extracted.map(|e| e.iter());
        let unknown = (None, None);
        each_list(file, &mut |own, calls, references| {
            for call in calls {
                let before = extracted.as_mut().map(|e| e.next().unwrap_or(&unknown));
                let module = match call.module {
                    module if before.is_some_and(|b| module == b.0) => ModuleChange::Same,
                    Some(module) if Some(module.as_str()) == own => ModuleChange::Own,
                    Some(module) if module.as_str() == "Kernel" => ModuleChange::Kernel,
                    module => ModuleChange::Set(module.map(|m| table.position(m))),
                };
                let candidates = match &call.imports {
                    imports if before.is_some_and(|b| *imports == b.1) => CandidatesChange::Same,
                    None => CandidatesChange::Cleared,
                    Some(imports) => CandidatesChange::Set(
                        imports
                            .iter()
                            .map(|(m, only)| (table.position(*m), *only))
                            .collect(),
                    ),
                };
                calls_out.push(CallResolution {
                    target: call.target,
                    flags: flag(call.is_macro, MACRO)
                        | flag(call.undefined, UNDEFINED)
                        | flag(call.imported, IMPORTED),
                    module,
                    candidates,
                });
            }
            references_out.extend(references.iter().map(|r| table.position(r.module)));
        });
        Resolution {
            symbols: table.symbols,
            modules: file
                .modules
                .iter()
                .zip(ranks.iter().copied().chain(std::iter::repeat(None)))
                .map(|(module, rank)| ModuleResolution {
                    kinds: module.kinds.clone(),
                    rank,
                })
                .collect(),
            calls: calls_out,
            references: references_out,
        }
    }

    /// Gives a record the phase resolved its form as extracted back, from its
    /// [`absolute`](Self::absolute) resolution of then; `false` (and the record untouched)
    /// when that does not fit it.
    fn undo(&self, file: &mut FileRecord) -> bool {
        if !self.fits(file) {
            return false;
        }
        for (module, resolution) in file.modules.iter_mut().zip(&self.modules) {
            module.kinds.clone_from(&resolution.kinds);
            ids::assign(module, None);
        }
        self.apply_calls(file);
        true
    }

    /// Whether it fits the record's shape and its names are in its table (it always does for
    /// the same content; a stored one that does not is not applied).
    fn fits(&self, file: &FileRecord) -> bool {
        let (mut calls, mut references) = (0, 0);
        each_list(file, &mut |_, c, r| {
            calls += c.len();
            references += r.len();
        });
        let known = |position: &u32| (*position as usize) < self.symbols.len();
        self.modules.len() == file.modules.len()
            && self.calls.len() == calls
            && self.references.len() == references
            && self.references.iter().all(known)
            && self.calls.iter().all(|call| {
                let module = match &call.module {
                    ModuleChange::Set(Some(position)) => known(position),
                    _ => true,
                };
                let candidates = match &call.candidates {
                    CandidatesChange::Set(list) => list.iter().all(|(p, _)| known(p)),
                    _ => true,
                };
                module && candidates
            })
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

    /// The call part; only for a resolution that [`fits`](Self::fits) the record.
    fn apply_calls(&self, file: &mut FileRecord) {
        let symbol = |position: u32| self.symbols[position as usize];
        let kernel = intern("Kernel");
        let mut calls = self.calls.iter();
        let mut references = self.references.iter();
        let mut last: Option<(&str, Symbol)> = None;
        each_list_mut(file, &mut |own, c, r| {
            let own = own.map(|name| match last {
                Some((text, symbol)) if text == name => symbol,
                _ => {
                    let symbol = intern(name);
                    last = Some((symbol.as_str(), symbol));
                    symbol
                }
            });
            for (call, resolution) in c.iter_mut().zip(calls.by_ref()) {
                call.target = resolution.target;
                call.is_macro = resolution.flags & MACRO != 0;
                call.undefined = resolution.flags & UNDEFINED != 0;
                call.imported = resolution.flags & IMPORTED != 0;
                match &resolution.module {
                    ModuleChange::Same => {}
                    ModuleChange::Own => call.module = own,
                    ModuleChange::Kernel => call.module = Some(kernel),
                    ModuleChange::Set(module) => call.module = module.map(symbol),
                }
                match &resolution.candidates {
                    CandidatesChange::Same => {}
                    CandidatesChange::Cleared => call.imports = None,
                    CandidatesChange::Set(list) => {
                        call.imports =
                            Some(list.iter().map(|&(p, only)| (symbol(p), only)).collect())
                    }
                }
            }
            for (reference, position) in r.iter_mut().zip(references.by_ref()) {
                reference.module = symbol(*position);
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

impl Previous {
    /// The previous phase for the next one, kept in memory (`watch`): the files the outcome
    /// resolved get their new state, the files it no longer holds are dropped, the others keep
    /// theirs. A state that does not decode is dropped: its file is resolved again.
    pub(crate) fn advance(self, outcome: &Outcome) -> Previous {
        let mut files = self.files;
        let present: std::collections::HashSet<&str> = outcome
            .repository
            .files()
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        files.retain(|path, _| present.contains(path.as_str()));
        for (file, state) in outcome.repository.files().iter().zip(&outcome.states) {
            if let Some(blob) = state {
                match crate::model::stored::decode(blob) {
                    Ok(state) => {
                        files.insert(file.path.clone(), state);
                    }
                    Err(_) => {
                        files.remove(&file.path);
                    }
                }
            }
        }
        Previous {
            projects: outcome.repository.projects().to_vec(),
            files,
        }
    }
}

/// A [`FileState`] borrowed from the phase: the same stored form, without copying.
#[derive(Serialize)]
struct StateRef<'a> {
    hash: &'a str,
    modules: &'a [ModuleExports],
    mentions: &'a [String],
    resolution: &'a Resolution,
    edges: &'a FileEdges,
}

/// The result of a phase: the repository, and the new state of each file it resolved.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) repository: Repository,
    /// In the repository's file order: the new [`FileState`] of a file this phase resolved,
    /// in the stored form; `None` for one it carried over (its stored state still holds) or
    /// left unresolved.
    pub(crate) states: Vec<Option<Vec<u8>>>,
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
    each_list(file, &mut |_, calls, references| {
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
/// `exports`: every current file's; `carried`: whether its state was carried over (then its
/// exports are the stored ones, the same on both sides, and only the others are compared).
fn changed_names(
    previous: &Previous,
    exports: &[(&str, &[ModuleExports])],
    carried: &[bool],
) -> HashSet<String> {
    let current: HashSet<&str> = exports.iter().map(|(path, _)| *path).collect();
    let before = places(
        previous
            .files
            .iter()
            .filter(|(path, _)| {
                // A carried file's state is the stored one: the same on both sides.
                !current.contains(path.as_str())
                    || exports
                        .binary_search_by(|(p, _)| (*p).cmp(path.as_str()))
                        .is_ok_and(|i| !carried[i])
            })
            .map(|(path, state)| (path.as_str(), state.modules.as_slice())),
    );
    let now = places(
        exports
            .iter()
            .zip(carried)
            .filter(|(_, carried)| !**carried)
            .map(|(exports, _)| *exports),
    );
    let mut changed = changed_between(&before, &now);
    if !changed.is_empty() {
        close_over_reachers(&mut changed, exports.iter().map(|(_, modules)| *modules));
    }
    changed
}

/// The module names whose places differ between `before` and `now` (the exports of the
/// files that went or changed, then and now).
fn changed_places<'a>(
    before: impl Iterator<Item = (&'a str, &'a [ModuleExports])>,
    now: impl Iterator<Item = (&'a str, &'a [ModuleExports])>,
) -> HashSet<String> {
    changed_between(&places(before), &places(now))
}

fn changed_between(before: &Places<'_>, now: &Places<'_>) -> HashSet<String> {
    let mut changed: HashSet<String> = HashSet::new();
    for (name, list) in now {
        if before.get(name) != Some(list) {
            changed.insert((*name).to_string());
        }
    }
    for name in before.keys() {
        if !now.contains_key(name) {
            changed.insert((*name).to_string());
        }
    }
    changed
}

/// Adds to `changed` every module that reaches one of its names: what reaches a changed
/// module changes with it (a `use` follows its template's chain). `exports`: every file's.
fn close_over_reachers<'a>(
    changed: &mut HashSet<String>,
    exports: impl Iterator<Item = &'a [ModuleExports]>,
) {
    let mut reached_by: HashMap<&str, Vec<&str>> = HashMap::new();
    for modules in exports {
        for module in modules {
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
}

/// A file that was not parsed (skipped, failed, timed out): nothing to resolve.
fn inert(file: &FileRecord) -> bool {
    !matches!(file.status, Status::Ok | Status::SyntaxError)
}

/// The Mix projects among the records.
fn projects_of(files: &[FileRecord]) -> Vec<Project> {
    files
        .iter()
        .filter_map(|record| record.mix_project.clone())
        .collect()
}

/// Where each module name is defined, and what follows from it.
struct Definitions {
    /// Name → (file, module) of each definition, in path order.
    by_name: BTreeMap<String, Vec<(usize, usize)>>,
    /// Per file, per module: its rank among the places its name is defined, when there are
    /// several (in its IDs).
    ranks: Vec<Vec<Option<u32>>>,
    duplicates: Vec<DuplicateModule>,
    /// The (file, module) of each name's first definition.
    first_definitions: HashSet<(usize, usize)>,
}

impl Definitions {
    fn of(files: &[FileRecord]) -> Definitions {
        let mut by_name: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
        for (file_index, file) in files.iter().enumerate() {
            for (module_index, module) in file.modules.iter().enumerate() {
                by_name
                    .entry(module.name.clone())
                    .or_default()
                    .push((file_index, module_index));
            }
        }
        let mut ranks: Vec<Vec<Option<u32>>> =
            files.iter().map(|f| vec![None; f.modules.len()]).collect();
        let mut duplicates = Vec::new();
        for (name, locations) in &by_name {
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
        let first_definitions = by_name
            .values()
            .filter_map(|l| l.first().copied())
            .collect();
        Definitions {
            by_name,
            ranks,
            duplicates,
            first_definitions,
        }
    }
}

/// The project phase over `files` (sorted by path, as extracted), reusing what `previous`
/// (the last phase over the same scope) resolved wherever that is still right.
/// Reduces a record to what the project phase needs of a file it does not hold whole (its
/// record spilled under memory pressure, [5b]): the module table. The calls and references
/// go, except in template modules (those with `quote` blocks), whose local calls the project
/// index reads. `true` when something went.
pub(crate) fn keep_module_table(file: &mut FileRecord) -> bool {
    fn clear<T>(list: &mut Vec<T>, dropped: &mut bool) {
        *dropped |= !list.is_empty();
        *list = Vec::new();
    }
    let mut dropped = false;
    clear(&mut file.calls, &mut dropped);
    for module in file.modules.iter_mut().filter(|m| m.injected.is_empty()) {
        clear(&mut module.calls, &mut dropped);
        clear(&mut module.references, &mut dropped);
        for clause in module.functions.iter_mut().flat_map(|f| &mut f.clauses) {
            clear(&mut clause.calls, &mut dropped);
            clear(&mut clause.references, &mut dropped);
        }
        for definition in &mut module.dynamic_definitions {
            clear(&mut definition.calls, &mut dropped);
            clear(&mut definition.references, &mut dropped);
        }
    }
    dropped
}

/// The module part of the phase for one file: the kinds a `use` brings, and the IDs.
fn module_part(file: &mut FileRecord, ranks: &[Option<u32>], templates: &kinds::Templates) {
    for (module, rank) in file.modules.iter_mut().zip(ranks) {
        kinds::classify_through_project(module, templates);
        if rank.is_some() {
            ids::assign(module, rank.map(|r| r as usize));
        }
    }
}

/// `spilled`: the records held as their module table ([`keep_module_table`]), read whole from
/// here to be resolved and put back resolved; such a phase carries nothing from `previous`
/// and makes no states to store.
pub(crate) fn phase(
    mut files: Vec<FileRecord>,
    projects: Vec<Project>,
    calls: bool,
    cancel: &CancelToken,
    previous: Option<&Previous>,
    spilled: Option<&dyn SpilledRecords>,
) -> Outcome {
    for file in &mut files {
        file.project = mix::nearest(&projects, &file.path).map(|p| p.path.clone());
    }
    let previous = previous
        .filter(|p| p.projects == projects)
        .filter(|_| spilled.is_none());
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
    let is_carried: Vec<bool> = carried.iter().map(Option::is_some).collect();
    let changed = previous.map(|previous| changed_names(previous, &exports, &is_carried));
    // A file that was not parsed (skipped, failed, timed out) has nothing to resolve.
    let inert: Vec<bool> = files.iter().map(inert).collect();
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
        let modules: Vec<(&Module, &[ModuleKind])> = files
            .iter()
            .flat_map(|f| &f.modules)
            .map(|m| (m, m.kinds.as_slice()))
            .collect();
        kinds::Templates::of(&modules)
    });
    let Definitions {
        ranks,
        duplicates,
        first_definitions,
        ..
    } = Definitions::of(&files);

    // The module part, before the index is built: it reads the kinds.
    for (index, file) in files.iter_mut().enumerate() {
        match (resolve[index], carried[index], &templates) {
            (false, Some(state), _) => state.resolution.apply_modules(file),
            (true, _, Some(templates)) => module_part(file, &ranks[index], templates),
            _ => {}
        }
    }

    // Calls resolved against every file, then each resolved file's edges.
    let mut edges: Vec<Option<FileEdges>> = vec![None; files.len()];
    let mut interrupted = vec![false; files.len()];
    let mut before_phase: Vec<Vec<Extracted>> = vec![Vec::new(); files.len()];
    if calls && resolve.iter().any(|r| *r) {
        let index = ProjectIndex::build(&files);
        let owned: Vec<String> = files
            .iter()
            .flat_map(|f| f.modules.iter().map(|m| m.name.clone()))
            .collect();
        let names: HashSet<&str> = owned.iter().map(String::as_str).collect();
        // Per file: not to resolve, interrupted, or its edges and its calls as extracted.
        type Resolved = Option<Option<(FileEdges, Vec<Extracted>)>>;
        let results: Vec<Resolved> = files
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
                let first = |module| first_definitions.contains(&(file_index, module));
                // A spilled record: read whole, given the module part, resolved, put back.
                let whole = spilled.and_then(|spilled| spilled.full(file_index));
                if let (Some(mut whole), Some(spilled)) = (whole, spilled) {
                    whole.project = file.project.clone();
                    if let Some(templates) = &templates {
                        module_part(&mut whole, &ranks[file_index], templates);
                    }
                    graph::resolve::resolve_file(&mut whole, &index);
                    let file_edges = graph::file_edges(&whole, &names, first, &index);
                    if spilled.replace(file_index, &whole).is_err() {
                        // Kept whole in memory instead: the report reads it from there.
                        *file = whole;
                    }
                    return Some(Some((file_edges, Vec::new())));
                }
                let before = extracted(file);
                graph::resolve::resolve_file(file, &index);
                let file_edges = graph::file_edges(file, &names, first, &index);
                Some(Some((file_edges, before)))
            })
            .collect();
        for (index, result) in results.into_iter().enumerate() {
            match result {
                Some(Some((file_edges, before))) => {
                    edges[index] = Some(file_edges);
                    before_phase[index] = before;
                }
                Some(None) => interrupted[index] = true,
                None => {}
            }
        }
    }
    let resolved: Vec<bool> = (0..files.len())
        .map(|i| resolve[i] && !interrupted[i] && !inert[i])
        .collect();
    // The other files get their stored resolution back.
    if calls {
        files.par_iter_mut().enumerate().for_each(|(index, file)| {
            if let (false, false, Some(state)) = (resolve[index], inert[index], carried[index]) {
                state.resolution.apply_calls(file);
            }
        });
    }
    // The new states of the files resolved, in the stored form at once: a cold run holds
    // compact blobs, not thousands of states.
    let states: Vec<Option<Vec<u8>>> = files
        .par_iter()
        .zip(fresh.into_par_iter())
        .enumerate()
        .map(|(index, (file, fresh))| {
            if !resolved[index] || spilled.is_some() {
                return None;
            }
            let carried = carried[index];
            let (modules, mentions) = match (&fresh, carried) {
                (Some((modules, mentions)), _) => (modules.as_slice(), mentions.as_slice()),
                (None, Some(state)) => (state.modules.as_slice(), state.mentions.as_slice()),
                (None, None) => (&[][..], &[][..]),
            };
            let empty = FileEdges::default();
            let state = StateRef {
                hash: file.hash.as_deref().unwrap_or_default(),
                modules,
                mentions,
                resolution: &Resolution::capture(file, &ranks[index], &before_phase[index]),
                edges: edges[index].as_ref().unwrap_or(&empty),
            };
            crate::model::stored::encode(&state).ok()
        })
        .collect();
    let graph = if calls {
        let per_file: Vec<Option<&FileEdges>> = (0..files.len())
            .map(|index| match carried[index] {
                _ if resolved[index] => edges[index].as_ref(),
                Some(state) if !resolve[index] && !inert[index] => Some(&state.edges),
                _ => None,
            })
            .collect();
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
            unresolved_files: interrupted.iter().filter(|i| **i).count(),
        },
        states,
        resolved,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{FileRole, Reason};
    use crate::syntax::{parse, ParseInput, ParseOutcome};
    use std::path::Path;

    pub(crate) fn record(path: &str, source: &str) -> FileRecord {
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
    pub(crate) struct Extractor(HashMap<(String, String), FileRecord>);

    impl Extractor {
        pub(crate) fn records(&mut self, tree: &BTreeMap<String, String>) -> Vec<FileRecord> {
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

    pub(super) use super::projects_of as projects;

    /// The states the index holds after an outcome: those it resolved, replaced; those it
    /// carried, kept; those of files gone, dropped.
    fn stored(outcome: &Outcome, previous: Option<Previous>) -> Previous {
        previous.unwrap_or_default().advance(outcome)
    }

    fn run(
        extractor: &mut Extractor,
        tree: &BTreeMap<String, String>,
        previous: Option<&Previous>,
    ) -> Outcome {
        let records = extractor.records(tree);
        let projects = projects(&records);
        phase(records, projects, true, &CancelToken::new(), previous, None)
    }

    pub(crate) fn assert_same(incremental: &Repository, rebuilt: &Repository, step: &str) {
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

    pub(crate) fn fixtures() -> BTreeMap<String, String> {
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
    pub(crate) struct Random(pub(crate) u64);

    impl Random {
        pub(crate) fn below(&mut self, n: usize) -> usize {
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
    pub(crate) fn edit(
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

    /// Spilled records in memory, as the spill database holds them.
    #[derive(Default)]
    struct Held(std::sync::Mutex<HashMap<usize, FileRecord>>);

    impl SpilledRecords for Held {
        fn full(&self, position: usize) -> Option<FileRecord> {
            self.0.lock().unwrap().get(&position).cloned()
        }
        fn replace(&self, position: usize, record: &FileRecord) -> Result<(), String> {
            self.0.lock().unwrap().insert(position, record.clone());
            Ok(())
        }
    }

    /// A phase over module tables, each record read whole to be resolved, gives the records
    /// and graph of a phase over whole records, on the fixtures (templates included) and after
    /// random edits; spilling only some of the records too.
    #[test]
    fn a_phase_over_spilled_records_equals_one_over_whole_records() {
        let original = fixtures();
        let mut extractor = Extractor::default();
        let mut random = Random(11);
        let mut tree = original.clone();
        for step in 0..6 {
            let whole = run(&mut extractor, &tree, None);
            for every in [1, 2] {
                let held = Held::default();
                let mut records = extractor.records(&tree);
                for (position, record) in records.iter_mut().enumerate() {
                    if position % every == 0 {
                        held.replace(position, record).unwrap();
                        keep_module_table(record);
                    }
                }
                let projects = projects(&records);
                let spilled = phase(
                    records,
                    projects,
                    true,
                    &CancelToken::new(),
                    None,
                    Some(&held),
                );
                let mut files = spilled.repository.files().to_vec();
                for (position, file) in files.iter_mut().enumerate() {
                    if let Some(resolved) = held.full(position) {
                        *file = resolved;
                    }
                }
                assert_eq!(files.len(), whole.repository.files().len());
                for (a, b) in files.iter().zip(whole.repository.files()) {
                    assert!(a == b, "step {step}, every {every}: {} differs", a.path);
                }
                assert!(
                    spilled.repository.graph() == whole.repository.graph(),
                    "graph"
                );
                assert!(spilled.states.iter().all(Option::is_none));
            }
            edit(&mut tree, &original, &mut random, step);
        }
    }

    #[test]
    fn incremental_phase_equals_a_rebuild_over_random_edits() {
        let original = fixtures();
        let mut extractor = Extractor::default();
        for seed in [0x9e37_79b9_7f4a_7c15_u64, 7, 2026] {
            let mut random = Random(seed);
            let mut tree = original.clone();
            let mut previous = stored(&run(&mut extractor, &tree, None), None);
            let mut history = Vec::new();
            for step in 0..24 {
                for _ in 0..=random.below(3) {
                    history.push(edit(&mut tree, &original, &mut random, step));
                }
                let incremental = run(&mut extractor, &tree, Some(&previous));
                let rebuilt = run(&mut extractor, &tree, None);
                let context = format!("seed {seed}, step {step}, after {history:?}");
                assert_same(&incremental.repository, &rebuilt.repository, &context);
                previous = stored(&incremental, Some(previous));
            }
        }
    }

    /// `A.f/1`, and `B` calling it.
    pub(crate) fn a_and_its_reader() -> BTreeMap<String, String> {
        let mut tree = BTreeMap::new();
        tree.insert(
            "lib/a.ex".to_string(),
            "defmodule A do\n  def f(x), do: x\nend\n".to_string(),
        );
        tree.insert(
            "lib/b.ex".to_string(),
            "defmodule B do\n  def g(x), do: A.f(x)\nend\n".to_string(),
        );
        tree
    }

    #[test]
    fn a_body_edit_re_resolves_its_file_and_an_export_its_readers() {
        let mut tree = a_and_its_reader();
        tree.insert(
            "lib/c.ex".to_string(),
            "defmodule C do\n  def h, do: :ok\nend\n".to_string(),
        );
        let mut extractor = Extractor::default();
        let first = run(&mut extractor, &tree, None);
        assert_eq!(first.re_resolved(), 3);
        let previous = stored(&first, None);
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
