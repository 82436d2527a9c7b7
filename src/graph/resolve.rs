//! The project-wide half of call resolution: what needs other files. Per-file records arrive
//! with calls whose form, expanded module, name and arity the extractor read from one file
//! (`extract::calls`); here each gets its `target`, and a local-form call its `module`:
//!
//! 1. A special form was classified by the extractor.
//! 2. A remote call: a module of the project (`project`, or `local` when it is the caller's
//!    own), `Kernel`, an Erlang module, or an external one. An alias that no `alias` of the file
//!    matched may still be expanded by an alias a `use`d template injected
//!    (`alias MyAppWeb.Router.Helpers, as: Routes` in Phoenix's `controller/0`).
//! 3. A local-form call, in Elixir's order: a definition of the caller's module (or one
//!    injected by a project template it `use`s), then the imports — those written in lexical
//!    scope, then those made by `use` — whose exports are known (project modules, the standard
//!    modules in `extract::stdlib`), then Kernel's default import. What is left is `unknown`,
//!    with the imported or used modules whose exports are unknown as `candidates`.
//!
//! What `use T` brings is read from `T`'s `injected` entries (definitions and directives in its
//! `quote`s): for `use T` those of `__using__/1` and of quotes outside any function (an
//! `ExUnit.CaseTemplate`'s `using`); for Phoenix's `use MyAppWeb, :controller` those of
//! `controller/0` and of the functions it calls (`unquote(verified_routes())`).

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::collections::BTreeSet;
use std::sync::OnceLock;

use rayon::prelude::*;
use smallvec::SmallVec;

use crate::extract::calls::import_admission;
use crate::extract::stdlib::{self, Export};
use crate::model::FileRecord;
use crate::model::{global_symbol, intern};
use crate::model::{
    Call, CallForm, CallTarget, DirectiveKind, FunctionKind, InjectedKind, Module, ModuleKind,
    Symbol,
};

/// How many `use`s deep a template is followed (a template whose quote `use`s another).
const MAX_USE_DEPTH: usize = 8;

/// (min_arity, arity, kind) of each definition of one name in one module.
type Definitions = SmallVec<[(u32, u32, FunctionKind); 2]>;

/// What the project phase knows of one project module name (the union of its definitions,
/// when it is defined in several places).
#[derive(Debug, Default)]
pub(crate) struct ModuleInfo {
    pub(crate) symbol: Option<Symbol>,
    /// name → (min_arity, arity, kind) of each definition. Names are symbols and short lists
    /// stay inline: a project's tens of thousands of functions cost no allocation of their own
    /// (a copied name and a one-entry vector each, built and freed in every run).
    functions: HashMap<Symbol, Definitions>,
    kinds: BTreeSet<ModuleKind>,
    /// Its `injected` entries: (origin, entry).
    injected: Vec<(Option<String>, crate::model::Injected)>,
    /// `name/arity` of a function → `name/arity` of the module's own functions it calls by
    /// local name (only for modules with templates: to follow `unquote(helper())`).
    local_callees: HashMap<String, Vec<String>>,
    dispatches_on_atom: bool,
}

impl ModuleInfo {
    /// What one definition of a module contributes.
    fn of(module: &Module) -> ModuleInfo {
        let mut info = ModuleInfo {
            symbol: Some(global_symbol(&module.name)),
            kinds: module.kinds.iter().copied().collect(),
            ..ModuleInfo::default()
        };
        for function in &module.functions {
            push_new(
                info.functions.entry(intern(&function.name)).or_default(),
                (function.min_arity, function.arity, function.kind),
            );
            if function.name == "__using__" && function.kind == FunctionKind::Defmacro {
                info.dispatches_on_atom = true;
            }
        }
        info.injected = module
            .injected
            .iter()
            .map(|injected| (injected.origin.clone(), injected.clone()))
            .collect();
        if !module.injected.is_empty() {
            collect_local_callees(module, &mut info);
        }
        info
    }

    /// Adds a later definition of the same module name.
    fn merge(&mut self, later: ModuleInfo) {
        self.symbol = self.symbol.or(later.symbol);
        self.kinds.extend(later.kinds);
        for (name, definitions) in later.functions {
            let entry = self.functions.entry(name).or_default();
            for definition in definitions {
                push_new(entry, definition);
            }
        }
        self.injected.extend(later.injected);
        for (origin, callees) in later.local_callees {
            let entry = self.local_callees.entry(origin).or_default();
            for callee in callees {
                push_new(entry, callee);
            }
        }
        self.dispatches_on_atom |= later.dispatches_on_atom;
    }

    /// The kind of the definition covering `name/arity` (default arguments included).
    fn lookup(&self, name: &str, arity: Option<u32>) -> Option<FunctionKind> {
        let definitions = self.functions.get(name)?;
        match arity {
            Some(arity) => definitions
                .iter()
                .find(|(min, max, _)| (*min..=*max).contains(&arity))
                .map(|(_, _, kind)| *kind),
            None => definitions.first().map(|(_, _, kind)| *kind),
        }
    }

    /// Like [`lookup`](Self::lookup), for what another module may call or import: public
    /// definitions only.
    fn lookup_public(&self, name: &str, arity: Option<u32>) -> Option<FunctionKind> {
        self.lookup(name, arity).filter(|kind| {
            !matches!(
                kind,
                FunctionKind::Defp | FunctionKind::Defmacrop | FunctionKind::Defguardp
            )
        })
    }
}

fn is_macro_kind(kind: FunctionKind) -> bool {
    matches!(
        kind,
        FunctionKind::Defmacro
            | FunctionKind::Defmacrop
            | FunctionKind::Defguard
            | FunctionKind::Defguardp
    )
}

/// Where an import's exports are known from.
#[derive(Debug, Clone, Copy)]
enum Exports {
    Project,
    Known(&'static [Export]),
    Unknown,
}

/// An import made by a `use`.
#[derive(Debug, Clone)]
struct UseImport {
    module: Symbol,
    admits: Admits,
}

/// What an import made by a `use` lets through.
#[derive(Debug, Clone)]
enum Admits {
    /// A standard module's `use`: exactly these (name, arity), a hash lookup instead of a scan
    /// of a list, for every local call of every test.
    Exactly(&'static Admitted),
    /// A project template's `import`, with its `only:`/`except:` lists as written.
    Written {
        only: Option<Vec<String>>,
        except: Option<Vec<String>>,
    },
}

/// The (name, arity) of every function an import admits.
type Admitted = HashSet<(&'static str, u32)>;

impl UseImport {
    fn admission(&self, name: &str, arity: u32) -> Option<bool> {
        match &self.admits {
            Admits::Exactly(exactly) => exactly.contains(&(name, arity)).then_some(true),
            Admits::Written { only, except } => {
                import_admission(only.as_deref(), except.as_deref(), name, arity)
            }
        }
    }
}

/// A dependency a `use` creates through the directives of the template it injects.
#[derive(Debug, Clone)]
pub(crate) struct InjectedDependency {
    pub(crate) kind: DirectiveKind,
    pub(crate) target: String,
    /// The module whose `use` injected it, and the line of that `use`.
    pub(crate) via: String,
    pub(crate) line: u32,
}

/// What a module's `use` directives bring into it.
#[derive(Debug, Default)]
pub(crate) struct UseContext {
    imports: Vec<UseImport>,
    /// (short name, full name) of aliases injected by templates.
    aliases: Vec<(String, String)>,
    /// (name, arity) of definitions injected by project templates.
    locals: HashMap<String, Vec<u32>>,
    /// External modules `use`d whose imports are unknown.
    unknown_uses: Vec<Symbol>,
    pub(crate) dependencies: Vec<InjectedDependency>,
}

impl UseContext {
    /// Whether a project template injected a definition of `name/arity`.
    fn defines(&self, name: &str, arity: u32) -> bool {
        self.locals
            .get(name)
            .is_some_and(|arities| arities.contains(&arity))
    }
}

/// What each import a standard `use` makes admits, by position in [`stdlib::USE_IMPORTS`]:
/// built once per run and shared by every module that `use`s it (a test suite's thousand
/// `use ExUnit.Case` each imported ExUnit.Assertions' dozens of functions).
fn std_use_imports() -> &'static [Vec<Admitted>] {
    static IMPORTS: OnceLock<Vec<Vec<Admitted>>> = OnceLock::new();
    IMPORTS.get_or_init(|| {
        stdlib::USE_IMPORTS
            .iter()
            .map(|(_, imports)| {
                imports
                    .iter()
                    .map(|(_, visible)| {
                        visible
                            .iter()
                            .map(|&(name, arity, _)| (name, u32::from(arity)))
                            .collect()
                    })
                    .collect()
            })
            .collect()
    })
}

/// The project's modules and what `use` brings into each, read-only while calls resolve.
#[derive(Debug, Default)]
pub(crate) struct ProjectIndex {
    pub(crate) modules: HashMap<String, ModuleInfo>,
    pub(crate) uses: HashMap<String, UseContext>,
    kernel: Option<Symbol>,
}

impl ProjectIndex {
    /// Built on all cores: each module's entry, then each module's `use` context, merged in
    /// path order (a name defined in several places gets the union of its definitions, and the
    /// `use`s of its first definition), as one pass over the files in order would build them.
    pub(crate) fn build(files: &[FileRecord]) -> ProjectIndex {
        use std::collections::hash_map::Entry;

        let mut index = ProjectIndex {
            kernel: Some(global_symbol("Kernel")),
            ..ProjectIndex::default()
        };
        let modules = || files.par_iter().flat_map_iter(|file| &file.modules);
        let entries: Vec<(String, ModuleInfo)> = modules()
            .map(|module| (module.name.clone(), ModuleInfo::of(module)))
            .collect();
        for (name, info) in entries {
            match index.modules.entry(name) {
                Entry::Vacant(vacant) => {
                    vacant.insert(info);
                }
                Entry::Occupied(mut occupied) => occupied.get_mut().merge(info),
            }
        }
        let contexts: Vec<(&String, UseContext)> = modules()
            .map(|module| (&module.name, index.use_context(module)))
            .collect();
        let mut uses = HashMap::with_capacity(contexts.len());
        for (name, context) in contexts {
            if !uses.contains_key(name) {
                uses.insert(name.clone(), context);
            }
        }
        index.uses = uses;
        index
    }

    /// Builds again the entries of the module names given, each with its definitions in path
    /// order (none: the name is gone), as [`build`](Self::build) would over the files of
    /// which they are part. The live phase of `watch` calls it for the modules of the files
    /// that changed when no export did: no other entry reads what changed (a line, a body).
    pub(crate) fn refresh(&mut self, definitions: &[(&str, Vec<&Module>)]) {
        for (name, modules) in definitions {
            let mut infos = modules.iter().map(|module| ModuleInfo::of(module));
            match infos.next() {
                Some(mut info) => {
                    infos.for_each(|later| info.merge(later));
                    self.modules.insert((*name).to_string(), info);
                }
                None => {
                    self.modules.remove(*name);
                }
            }
        }
        for (name, modules) in definitions {
            match modules.first() {
                Some(first) => {
                    let context = self.use_context(first);
                    self.uses.insert((*name).to_string(), context);
                }
                None => {
                    self.uses.remove(*name);
                }
            }
        }
    }

    /// Follows every module-level `use` of `module`.
    fn use_context(&self, module: &Module) -> UseContext {
        let mut context = UseContext::default();
        for directive in module
            .directives
            .iter()
            .filter(|d| d.kind == DirectiveKind::Use)
        {
            let mut visited = HashSet::new();
            self.expand_use(
                &directive.target,
                directive.options.as_deref(),
                &directive.target,
                directive.line,
                0,
                &mut visited,
                &mut context,
            );
        }
        context
    }

    #[allow(clippy::too_many_arguments)] // reason: one recursive helper; a struct would only rename them
    fn expand_use(
        &self,
        used: &str,
        options: Option<&str>,
        via: &str,
        line: u32,
        depth: usize,
        visited: &mut HashSet<(String, Option<String>)>,
        context: &mut UseContext,
    ) {
        let atom = options
            .and_then(|o| o.strip_prefix(':'))
            .filter(|a| a.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .map(str::to_string);
        if depth > MAX_USE_DEPTH || !visited.insert((used.to_string(), atom.clone())) {
            return;
        }
        let Some(template) = self.modules.get(used) else {
            match stdlib::USE_IMPORTS.iter().position(|(m, _)| *m == used) {
                Some(position) => {
                    let (_, imports) = stdlib::USE_IMPORTS[position];
                    for ((module, _), exactly) in imports.iter().zip(&std_use_imports()[position]) {
                        context.imports.push(UseImport {
                            module: global_symbol(module),
                            admits: Admits::Exactly(exactly),
                        });
                    }
                }
                None => context.unknown_uses.push(global_symbol(used)),
            }
            return;
        };
        if template.kinds.contains(&ModuleKind::ExunitCaseTemplate) {
            // ExUnit.CaseTemplate's `__using__` also does `use ExUnit.Case`.
            self.expand_use("ExUnit.Case", None, via, line, depth + 1, visited, context);
        }
        let origins: Vec<Option<String>> = match &atom {
            Some(atom) if template.dispatches_on_atom => {
                let mut reached = vec![format!("{atom}/0")];
                let mut next = 0;
                while next < reached.len() {
                    if let Some(callees) = template.local_callees.get(&reached[next]) {
                        for callee in callees {
                            if !reached.contains(callee) {
                                reached.push(callee.clone());
                            }
                        }
                    }
                    next += 1;
                }
                reached.into_iter().map(Some).collect()
            }
            _ => {
                let mut reached = vec![Some("__using__/1".to_string()), None];
                if let Some(callees) = template.local_callees.get("__using__/1") {
                    reached.extend(callees.iter().cloned().map(Some));
                }
                reached
            }
        };
        for (origin, injected) in &template.injected {
            if !origins.contains(origin) {
                continue;
            }
            match injected.kind {
                InjectedKind::Import => {
                    context.imports.push(UseImport {
                        module: self.symbol(&injected.name),
                        admits: Admits::Written {
                            only: injected.only.clone(),
                            except: injected.except.clone(),
                        },
                    });
                    context.dependencies.push(InjectedDependency {
                        kind: DirectiveKind::Import,
                        target: injected.name.clone(),
                        via: via.to_string(),
                        line,
                    });
                }
                InjectedKind::Alias => {
                    let short = injected.alias_as.clone().unwrap_or_else(|| {
                        injected
                            .name
                            .rsplit('.')
                            .next()
                            .unwrap_or(&injected.name)
                            .to_string()
                    });
                    context.aliases.push((short, injected.name.clone()));
                }
                InjectedKind::Require | InjectedKind::Behaviour => {
                    context.dependencies.push(InjectedDependency {
                        kind: if injected.kind == InjectedKind::Require {
                            DirectiveKind::Require
                        } else {
                            DirectiveKind::Behaviour
                        },
                        target: injected.name.clone(),
                        via: via.to_string(),
                        line,
                    });
                }
                InjectedKind::Use => {
                    context.dependencies.push(InjectedDependency {
                        kind: DirectiveKind::Use,
                        target: injected.name.clone(),
                        via: via.to_string(),
                        line,
                    });
                    self.expand_use(
                        &injected.name,
                        injected.options.as_deref(),
                        via,
                        line,
                        depth + 1,
                        visited,
                        context,
                    );
                }
                _ => {
                    if let Some(arity) = injected.arity {
                        let arities = context.locals.entry(injected.name.clone()).or_default();
                        if !arities.contains(&arity) {
                            arities.push(arity);
                        }
                    }
                }
            }
        }
    }

    fn exports(&self, module: &str) -> Exports {
        if self.modules.contains_key(module) {
            return Exports::Project;
        }
        match std_modules().get(module) {
            Some(exports) => Exports::Known(exports),
            None => Exports::Unknown,
        }
    }

    /// Whether `module` (an import) exports `name/arity`, and if it is a macro; None when it
    /// does not, or when its exports are unknown.
    fn imported(&self, module: &str, name: &str, arity: u32) -> Option<bool> {
        match self.exports(module) {
            Exports::Project => self.modules[module]
                .lookup_public(name, Some(arity))
                .map(is_macro_kind),
            Exports::Known(exports) => known_export(exports, name, arity),
            Exports::Unknown => None,
        }
    }

    fn symbol(&self, module: &str) -> Symbol {
        match self.modules.get(module).and_then(|m| m.symbol) {
            Some(symbol) => symbol,
            None if module == "Kernel" => self.kernel.unwrap_or_else(|| global_symbol(module)),
            None => global_symbol(module),
        }
    }
}

/// Binary search in a sorted export list: Some(is a macro) when `name/arity` is exported.
fn known_export(exports: &[Export], name: &str, arity: u32) -> Option<bool> {
    let arity = u8::try_from(arity).ok()?;
    exports
        .binary_search_by(|(n, a, _)| (*n, *a).cmp(&(name, arity)))
        .ok()
        .map(|index| exports[index].2)
}

/// The standard modules whose exports elixirscope knows, by name (asked for every call of a
/// module outside the project).
fn std_modules() -> &'static HashMap<&'static str, &'static [Export]> {
    static MODULES: OnceLock<HashMap<&'static str, &'static [Export]>> = OnceLock::new();
    MODULES.get_or_init(|| {
        let mut modules = HashMap::with_capacity(stdlib::MODULES.len());
        for &(module, exports) in stdlib::MODULES {
            // The first entry of a name wins, as the scan this replaces found it.
            modules.entry(module).or_insert(exports);
        }
        modules
    })
}

/// Whether Kernel exports `name/arity`, and if it is a macro: asked for nearly every local call
/// that is not a definition of its module, so by hash rather than by binary search.
fn kernel_export(name: &str, arity: u32) -> Option<bool> {
    static EXPORTS: OnceLock<HashMap<(&'static str, u8), bool>> = OnceLock::new();
    let exports = EXPORTS.get_or_init(|| {
        kernel_exports()
            .iter()
            .map(|&(name, arity, is_macro)| ((name, arity), is_macro))
            .collect()
    });
    exports.get(&(name, u8::try_from(arity).ok()?)).copied()
}

fn kernel_exports() -> &'static [Export] {
    std_modules().get("Kernel").copied().unwrap_or(&[])
}

/// Appends `item` unless `list` already holds it (these lists are short and keep first-seen
/// order).
fn push_new<T: PartialEq, L: AsRef<[T]> + Extend<T>>(list: &mut L, item: T) {
    if !list.as_ref().contains(&item) {
        list.extend(Some(item));
    }
}

/// For a template module: which of its own functions each function calls by local name.
fn collect_local_callees(module: &Module, info: &mut ModuleInfo) {
    let own: HashSet<(&str, u32)> = module
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.arity))
        .collect();
    for function in &module.functions {
        let origin = format!("{}/{}", function.name, function.arity);
        let callees = info.local_callees.entry(origin).or_default();
        for call in function.clauses.iter().flat_map(|c| &c.calls) {
            // A local call other than a special form (which the extraction gives its module):
            // the same on a record as extracted and as resolved, whose local calls have their
            // module since (the live phase of `watch` reads resolved records).
            if call.form != CallForm::Local || call.target == CallTarget::SpecialForm {
                continue;
            }
            let (Some(name), Some(arity)) = (&call.name, call.arity) else {
                continue;
            };
            if own.contains(&(name.as_str(), arity)) {
                push_new(callees, format!("{name}/{arity}"));
            }
        }
    }
}

/// Resolves the calls and references of one file against the project (files are independent
/// once the index is built: the project phase resolves them in parallel).
pub(crate) fn resolve_file(file: &mut FileRecord, index: &ProjectIndex) {
    let empty = UseContext::default();
    for module in &mut file.modules {
        let context = Caller {
            module: index.modules.get(&module.name),
            name: &module.name,
            uses: index.uses.get(&module.name).unwrap_or(&empty),
            index,
        };
        context.resolve_all(&mut module.calls, &mut module.references);
        for function in &mut module.functions {
            for clause in &mut function.clauses {
                context.resolve_all(&mut clause.calls, &mut clause.references);
            }
        }
        for definition in &mut module.dynamic_definitions {
            context.resolve_all(&mut definition.calls, &mut definition.references);
        }
    }
    let script = Caller {
        module: None,
        name: "",
        uses: &empty,
        index,
    };
    script.resolve_all(&mut file.calls, &mut []);
}

/// The module whose calls are being resolved.
struct Caller<'a> {
    module: Option<&'a ModuleInfo>,
    name: &'a str,
    uses: &'a UseContext,
    index: &'a ProjectIndex,
}

impl Caller<'_> {
    /// Resolves one list of calls and expands the references beside them.
    fn resolve_all(&self, calls: &mut [Call], references: &mut [crate::model::Reference]) {
        for call in calls {
            self.resolve(call);
        }
        for reference in references {
            self.expand_reference(reference);
        }
    }

    fn resolve(&self, call: &mut Call) {
        match call.target {
            CallTarget::SpecialForm | CallTarget::Dynamic => {}
            CallTarget::External | CallTarget::Erlang => self.resolve_remote(call),
            CallTarget::Unknown => self.resolve_local(call),
            // Already resolved (a record resolved twice keeps its answer).
            CallTarget::Local | CallTarget::Project | CallTarget::Kernel => {}
        }
    }

    /// An alias an injected `alias` defines: `Routes.user_path` in a Phoenix controller.
    fn expand_injected_alias(&self, module: &str) -> Option<String> {
        let (first, rest) = match module.split_once('.') {
            Some((first, rest)) => (first, Some(rest)),
            None => (module, None),
        };
        let (_, full) = self
            .uses
            .aliases
            .iter()
            .rev()
            .find(|(short, _)| short == first)?;
        Some(match rest {
            Some(rest) => format!("{full}.{rest}"),
            None => full.clone(),
        })
    }

    fn expand_reference(&self, reference: &mut crate::model::Reference) {
        if reference.unexpanded_alias && !self.index.modules.contains_key(reference.module.as_str())
        {
            if let Some(full) = self.expand_injected_alias(reference.module.as_str()) {
                reference.module = self.index.symbol(&full);
            }
        }
    }

    fn resolve_remote(&self, call: &mut Call) {
        let Some(mut module) = call.module else {
            return;
        };
        if call.unexpanded_alias && !self.index.modules.contains_key(module.as_str()) {
            if let Some(full) = self.expand_injected_alias(module.as_str()) {
                module = self.index.symbol(&full);
                call.module = Some(module);
            }
        }
        let name = call.name.as_ref().map(Symbol::as_str).unwrap_or("");
        if let Some(info) = self.index.modules.get(module.as_str()) {
            call.target = if module.as_str() == self.name {
                CallTarget::Local
            } else {
                CallTarget::Project
            };
            match info.lookup(name, call.arity) {
                Some(kind) => call.is_macro = is_macro_kind(kind),
                None => {
                    let injected = self.index.uses.get(module.as_str()).is_some_and(|uses| {
                        call.arity.is_some_and(|arity| uses.defines(name, arity))
                    });
                    call.undefined = !injected;
                }
            }
        } else if module.as_str() == "Kernel" {
            call.target = CallTarget::Kernel;
            call.is_macro = call
                .arity
                .and_then(|arity| kernel_export(name, arity))
                .unwrap_or(false);
        } else if module.as_str() == "Kernel.SpecialForms" {
            call.target = CallTarget::SpecialForm;
            call.is_macro = true;
        } else if module.as_str().starts_with(':') {
            call.target = CallTarget::Erlang;
        } else {
            call.target = CallTarget::External;
            call.is_macro = match (self.index.exports(module.as_str()), call.arity) {
                (Exports::Known(exports), Some(arity)) => {
                    known_export(exports, name, arity).unwrap_or(false)
                }
                _ => false,
            };
        }
    }

    fn resolve_local(&self, call: &mut Call) {
        let lexical = call.imports.take().unwrap_or_default();
        let (Some(name), Some(arity)) = (call.name, call.arity) else {
            return;
        };
        let name = name.as_str();
        // Quoted code runs in the module that injects it: its local calls are that module's.
        if !call.quoted {
            if let Some(kind) = self.module.and_then(|m| m.lookup(name, Some(arity))) {
                call.target = CallTarget::Local;
                call.module = self.module.and_then(|m| m.symbol);
                call.is_macro = is_macro_kind(kind);
                return;
            }
            if self.uses.defines(name, arity) {
                call.target = CallTarget::Local;
                call.module = self.module.and_then(|m| m.symbol);
                return;
            }
        }
        let mut unknown: Vec<Symbol> = Vec::new();
        let quoted = call.quoted;
        let from_use = self
            .uses
            .imports
            .iter()
            .filter(|_| !quoted)
            .filter_map(|import| {
                let explicit = import.admission(name, arity)?;
                Some((import.module, explicit))
            });
        for (module, explicit) in lexical.iter().copied().chain(from_use) {
            match self.index.imported(module.as_str(), name, arity) {
                Some(is_macro) => return self.imported(call, &module, is_macro),
                None if matches!(self.index.exports(module.as_str()), Exports::Unknown) => {
                    // `import M, only: [f: 1]` names what it imports: M has it.
                    if explicit {
                        return self.imported(call, &module, false);
                    }
                    unknown.push(module);
                }
                None => {}
            }
        }
        if !call.kernel_imported {
            if let Some(is_macro) = kernel_export(name, arity) {
                call.target = CallTarget::Kernel;
                call.module = self.index.kernel;
                call.is_macro = is_macro;
                call.imported = true;
                return;
            }
        }
        if !call.quoted {
            unknown.extend(self.uses.unknown_uses.iter().cloned());
        }
        unknown.sort();
        unknown.dedup();
        call.target = CallTarget::Unknown;
        call.imports = (!unknown.is_empty())
            .then(|| unknown.into_iter().map(|module| (module, false)).collect());
    }

    fn imported(&self, call: &mut Call, module: &Symbol, is_macro: bool) {
        call.imported = true;
        call.is_macro = is_macro;
        call.target = match module.as_str() {
            "Kernel" => CallTarget::Kernel,
            name if name.starts_with(':') => CallTarget::Erlang,
            name if self.index.modules.contains_key(name) => {
                if name == self.name {
                    CallTarget::Local
                } else {
                    CallTarget::Project
                }
            }
            _ => CallTarget::External,
        };
        call.module = Some(*module);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_tables_are_sorted_for_binary_search() {
        for (module, exports) in stdlib::MODULES {
            let mut sorted = exports.to_vec();
            sorted.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            assert_eq!(&sorted, exports, "{module}");
        }
        assert_eq!(known_export(kernel_exports(), "if", 2), Some(true));
        assert_eq!(known_export(kernel_exports(), "is_nil", 1), Some(true));
        assert_eq!(known_export(kernel_exports(), "elem", 2), Some(false));
        assert_eq!(known_export(kernel_exports(), "elem", 3), None);
        // The hash table Kernel's exports are looked up in answers as the sorted list does.
        assert!(!kernel_exports().is_empty());
        for &(name, arity, is_macro) in kernel_exports() {
            assert_eq!(
                kernel_export(name, u32::from(arity)),
                Some(is_macro),
                "{name}/{arity}"
            );
        }
        assert_eq!(kernel_export("elem", 3), None);
        assert_eq!(kernel_export("elem", 300), None);
    }

    #[test]
    fn use_imports_filter_by_only_and_except() {
        let import = UseImport {
            module: Symbol::new("Phoenix.Controller"),
            admits: Admits::Written {
                only: Some(vec!["get_csrf_token/0".into()]),
                except: None,
            },
        };
        assert_eq!(import.admission("get_csrf_token", 0), Some(true));
        assert_eq!(import.admission("json", 2), None);
        let import = UseImport {
            module: Symbol::new("M"),
            admits: Admits::Written {
                only: None,
                except: Some(vec!["f/1".into()]),
            },
        };
        assert_eq!(import.admission("f", 1), None);
        assert_eq!(import.admission("f", 2), Some(false));
    }
}
