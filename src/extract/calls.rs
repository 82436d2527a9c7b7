//! Call sites and module references, collected in the same walk as the rest of a file's facts
//! (issue [3a]). In tree-sitter-elixir nearly everything is a `call` node, so this file decides
//! which ones are calls and of what:
//!
//! - Not calls: definitions (`def`, `defmodule`, `defstruct`, ...), directives (`alias`,
//!   `import`, `require`, `use`: kept as directives), module attributes (`@doc`, and typespecs
//!   are not walked at all), a definition's own head, and `var.field` without parentheses, which
//!   is a map or struct field access.
//! - Calls: `f(x)` and `f x` (local form), `M.f(x)` and `M.f` (remote), `fun.(x)` (anonymous),
//!   captures `&M.f/2`, `&f/1`, `&M.f(&1, 1)`, `apply/2,3`, sigils (`sigil_r/2`), the call a
//!   `defdelegate` compiles to, and special forms and Kernel macros (`case`, `if`), which the
//!   project phase classifies as such. A bare identifier is a variable, except on the right of
//!   `|>`, where `x |> f` is `f(x)`. Operators (`a + b`) are not listed.
//!
//! Everything here is file-local: aliases are expanded with the aliases in lexical scope, and a
//! local-form call records the imports in its scope that could provide it. Whether a module is
//! part of the project, what it defines and what `use` imported is decided in the project phase
//! (`graph::resolve`).

use smallvec::SmallVec;
use std::borrow::Cow;
use std::sync::Arc;

use crate::syntax::Node;

use super::{compact, fields, stdlib, Extractor, ScopeKind};
use crate::model::{
    Call, CallForm, CallTarget, ImportCandidates, Reference, ReferenceKind, Symbol,
};
use crate::syntax::kinds::{Field, Fields, Kind, KindOf};
use crate::syntax::Positions;

/// A call node that is not a call: a definition's head, the `M.f` of `&M.f/2`.
pub(super) const SKIP_CALL: u8 = 1;
/// A node whose subtree is already accounted for: a call's receiver, a directive's target, a
/// struct's name. Its module names are not references.
pub(super) const SKIP_SUBTREE: u8 = 2;
/// The right-hand side of `|>`.
pub(super) const PIPED: u8 = 4;

/// Module-level macros whose arguments do not run when the module compiles, so that the calls
/// and module names in them are runtime dependencies for `mix xref`, not compile-time ones:
/// Phoenix's and Plug's route macros and Ecto's associations expand module names with
/// `Macro.expand_literals` (or an equivalent), and the bodies of ExUnit's `test`, `setup` and
/// `setup_all` (and of Plug.Router's routes) become functions. Matched by name: the macro's
/// module is rarely visible without compiling.
const RUNTIME_ARGUMENT_MACROS: &[&str] = &[
    "belongs_to",
    "connect",
    "delete",
    "embeds_many",
    "embeds_one",
    "forward",
    "get",
    "has_many",
    "has_one",
    "head",
    "live",
    "many_to_many",
    "match",
    "options",
    "patch",
    "pipe_through",
    "post",
    "put",
    "resources",
    "scope",
    "setup",
    "setup_all",
    "test",
    "trace",
];

/// Identifiers that are special forms or compile-time values, never calls, even after `|>`.
const NOT_CALLABLE_IDENTIFIERS: &[&str] = &[
    "__CALLER__",
    "__DIR__",
    "__ENV__",
    "__MODULE__",
    "__STACKTRACE__",
];

/// Where the calls of a definition are listed.
#[derive(Debug, Clone)]
pub(super) enum DefinitionCalls {
    /// Not a definition of the module being walked (a template in a `quote`, a `def` inside a
    /// function body): its calls belong to the enclosing owner.
    None,
    /// (module, function, clause) indices: one per module a `defimpl ..., for: [A, B]` opens,
    /// one per head of `defdelegate [a(x), b(y)], to: M`.
    Clauses(SmallVec<[(usize, usize, usize); 1]>),
    /// (module, dynamic definition) indices.
    Dynamic(SmallVec<[(usize, usize); 1]>),
}

/// An `import` in lexical scope.
#[derive(Debug, Clone)]
pub(super) struct ImportInScope {
    module: Symbol,
    only: Option<Arc<[String]>>,
    except: Option<Arc<[String]>>,
}

impl ImportInScope {
    fn admission(&self, name: &str, arity: u32) -> Option<bool> {
        import_admission(self.only.as_deref(), self.except.as_deref(), name, arity)
    }
}

/// Whether an import with these `only:`/`except:` lists (as `name/arity`, `:functions`,
/// `:macros`, `:sigils`) provides `name/arity`; if so, whether `only:` names it itself, in
/// which case the module certainly exports it (Elixir rejects an `only:` entry the module
/// lacks). `only: :functions` and `only: :macros` admit every name: which kind a function is
/// is not known here.
pub(crate) fn import_admission(
    only: Option<&[String]>,
    except: Option<&[String]>,
    name: &str,
    arity: u32,
) -> Option<bool> {
    // `name/arity`, compared without splitting: most entries differ in their first bytes, and
    // every local call in an import's scope asks this of each entry.
    let named = |entry: &String| {
        entry
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|entry_arity| entry_arity.parse::<u32>().ok() == Some(arity))
    };
    match (only, except) {
        (Some(only), _) if only.iter().any(named) => Some(true),
        (Some(only), _) => only
            .iter()
            .any(|entry| match entry.as_str() {
                ":sigils" => name.starts_with("sigil_"),
                ":functions" | ":macros" => true,
                _ => false,
            })
            .then_some(false),
        (None, Some(except)) => (!except.iter().any(named)).then_some(false),
        (None, None) => Some(false),
    }
}

/// The call-related state of the walk.
pub(super) struct CallState {
    enabled: bool,
    /// (node id, flags) for nodes below the current one that need special handling; consumed
    /// when the walk enters them. Rarely more than a handful.
    marks: Vec<(usize, u8)>,
    /// (node id, quoted): `quote` pushes true, `unquote`/`unquote_splicing` inside a quote push
    /// false; the top says whether the walk is in template code.
    quoting: Vec<(usize, bool)>,
    /// Module-level calls of [`RUNTIME_ARGUMENT_MACROS`] the walk is inside.
    runtime_arguments: Vec<usize>,
    /// Imports in lexical scope, innermost last (truncated with the scopes).
    pub(super) imports: Vec<ImportInScope>,
    /// Calls outside any module.
    pub(super) script_calls: Vec<Call>,
}

impl CallState {
    pub(super) fn new(enabled: bool) -> CallState {
        CallState {
            enabled,
            marks: Vec::new(),
            quoting: Vec::new(),
            runtime_arguments: Vec::new(),
            imports: Vec::new(),
            script_calls: Vec::new(),
        }
    }

    fn mark(&mut self, node: Node<'_>, flags: u8) {
        match self.marks.iter_mut().find(|(id, _)| *id == node.id()) {
            Some((_, existing)) => *existing |= flags,
            None => self.marks.push((node.id(), flags)),
        }
    }

    /// The flags set on `node`, removed.
    pub(super) fn take_marks(&mut self, node: Node<'_>) -> u8 {
        if self.marks.is_empty() {
            return 0;
        }
        match self.marks.iter().position(|(id, _)| *id == node.id()) {
            Some(index) => self.marks.swap_remove(index).1,
            None => 0,
        }
    }

    /// Every mark is set on a node the walk is about to enter; one left over is a bug.
    pub(super) fn all_marks_consumed(&self) -> bool {
        self.marks.is_empty()
    }

    pub(super) fn leave(&mut self, node: Node<'_>) {
        if self.quoting.last().is_some_and(|(id, _)| *id == node.id()) {
            self.quoting.pop();
        }
        if self.runtime_arguments.last() == Some(&node.id()) {
            self.runtime_arguments.pop();
        }
    }

    fn quoted(&self) -> bool {
        self.quoting.last().is_some_and(|(_, quoted)| *quoted)
    }

    /// The imports in scope that admit `name/arity`, innermost first; and whether Kernel is
    /// imported explicitly (which replaces its default import).
    fn pending_imports(&self, name: &str, arity: u32) -> (Option<ImportCandidates>, bool) {
        let mut admitted: Vec<(Symbol, bool)> = Vec::new();
        let mut kernel_imported = false;
        for (index, import) in self.imports.iter().enumerate().rev() {
            // A later `import` of the same module replaces this one.
            if self.imports[index + 1..]
                .iter()
                .any(|later| later.module == import.module)
            {
                continue;
            }
            if import.module.as_str() == "Kernel" {
                kernel_imported = true;
            }
            if let Some(explicit) = import.admission(name, arity) {
                if admitted.capacity() == 0 {
                    // Sized once for the imports still to look at, so it never regrows
                    // (boxing trims it when fewer are admitted).
                    admitted.reserve_exact(index + 1);
                }
                admitted.push((import.module, explicit));
            }
        }
        let admitted = (!admitted.is_empty()).then(|| admitted.into_boxed_slice());
        (admitted, kernel_imported)
    }
}

/// Pushes `call` to the list of each owner (a definition shared by several modules has
/// several): copies for all but the last, which gets the call itself.
fn push_to_each<O>(owners: &[O], call: Call, mut push: impl FnMut(&O, Call)) {
    if let Some((last, others)) = owners.split_last() {
        for owner in others {
            push(owner, call.clone());
        }
        push(last, call);
    }
}

/// Puts every list of calls in source order. The walk meets calls in pre-order, but a call is
/// positioned at its name, which comes after its receiver: `(&M.f/1).()` is met before the
/// capture inside it, `a.b().c()` before `a.b()`.
///
/// The lists are also trimmed to their length: they live as long as the report.
pub(super) fn sort_by_position(modules: &mut [super::Module], script_calls: &mut Vec<Call>) {
    let sort = |calls: &mut Vec<Call>| {
        calls.sort_by_key(|call| (call.line, call.column));
        calls.shrink_to_fit();
    };
    sort(script_calls);
    for module in modules {
        sort(&mut module.calls);
        for clause in module.functions.iter_mut().flat_map(|f| &mut f.clauses) {
            sort(&mut clause.calls);
            clause.references.shrink_to_fit();
        }
        for definition in &mut module.dynamic_definitions {
            sort(&mut definition.calls);
            definition.references.shrink_to_fit();
        }
        module.references.shrink_to_fit();
    }
}

/// Whether `name` is a special form (`Kernel.SpecialForms`), whatever the arity.
pub(crate) fn is_special_form(name: &str) -> bool {
    stdlib::SPECIAL_FORMS.binary_search(&name).is_ok()
}

impl<'s> Extractor<'s, '_> {
    fn position(&self, node: Node<'_>) -> (u32, u32) {
        Positions::new(self.source).start(node)
    }

    fn intern(&mut self, text: &str) -> Symbol {
        crate::model::intern(text)
    }

    fn new_call(&self, node: Node<'_>, form: CallForm, target: CallTarget) -> Call {
        let (line, column) = self.position(node);
        Call {
            line,
            column,
            form,
            target,
            module: None,
            name: None,
            arity: None,
            is_macro: false,
            imported: false,
            piped: false,
            quoted: self.calls.quoted(),
            runtime: !self.calls.runtime_arguments.is_empty(),
            undefined: false,
            imports: None,
            kernel_imported: false,
            unexpanded_alias: false,
        }
    }

    /// Lists a call where it belongs: the clause or dynamic definition being walked, the
    /// module body, or the file's top level. Calls in a module that only exists at run time
    /// are dropped with the rest of it.
    fn push_call(&mut self, call: Call) {
        let Extractor {
            scopes,
            modules,
            calls,
            ..
        } = self;
        for scope in scopes.iter().rev() {
            match &scope.kind {
                ScopeKind::Function {
                    owner: DefinitionCalls::Clauses(owners),
                    ..
                } => {
                    push_to_each(owners, call, |&(module, function, clause), call| {
                        modules[module].module.functions[function].clauses[clause]
                            .calls
                            .push(call);
                    });
                    return;
                }
                ScopeKind::Function {
                    owner: DefinitionCalls::Dynamic(owners),
                    ..
                } => {
                    push_to_each(owners, call, |&(module, definition), call| {
                        modules[module].module.dynamic_definitions[definition]
                            .calls
                            .push(call);
                    });
                    return;
                }
                ScopeKind::Module(indices) => {
                    push_to_each(indices, call, |&index, call| {
                        modules[index].module.calls.push(call);
                    });
                    return;
                }
                ScopeKind::Opaque => return,
                ScopeKind::Function { .. } | ScopeKind::Quote | ScopeKind::Block => {}
            }
        }
        calls.script_calls.push(call);
    }

    /// Lists a module reference in its clause, dynamic definition or module body, once per
    /// (module, kind) there. References at a script's top level make no dependency between
    /// modules and are not kept.
    fn push_reference(&mut self, reference: Reference) {
        let add = |list: &mut Vec<Reference>| {
            if !list
                .iter()
                .any(|r| r.module == reference.module && r.kind == reference.kind)
            {
                list.push(reference.clone());
            }
        };
        let Extractor {
            scopes, modules, ..
        } = self;
        for scope in scopes.iter().rev() {
            match &scope.kind {
                ScopeKind::Function {
                    owner: DefinitionCalls::Clauses(owners),
                    ..
                } => {
                    for &(module, function, clause) in owners {
                        add(
                            &mut modules[module].module.functions[function].clauses[clause]
                                .references,
                        );
                    }
                    return;
                }
                ScopeKind::Function {
                    owner: DefinitionCalls::Dynamic(owners),
                    ..
                } => {
                    for &(module, definition) in owners {
                        add(&mut modules[module].module.dynamic_definitions[definition].references);
                    }
                    return;
                }
                ScopeKind::Module(indices) => {
                    for &index in indices {
                        add(&mut modules[index].module.references);
                    }
                    return;
                }
                ScopeKind::Opaque => return,
                ScopeKind::Function { .. } | ScopeKind::Quote | ScopeKind::Block => {}
            }
        }
    }

    /// The number of arguments of a call, a `do` block counting as one, and whether it has
    /// an argument list at all.
    fn argument_count(node: Node<'_>) -> (u32, bool) {
        let (count, has_arguments) = crate::syntax::argument_count(node);
        (super::count_u32(count), has_arguments)
    }

    /// A module expression (`Foo.Bar`, `:ets`, `__MODULE__`, `__MODULE__.Sub`), expanded, and
    /// whether it was an alias that no lexical alias matched. None for anything else.
    fn module_expression(&self, node: Node<'_>) -> Option<(Cow<'s, str>, bool)> {
        match node.k() {
            Kind::Alias => {
                let text = self.text(node);
                let written = if text.contains(char::is_whitespace) {
                    Cow::Owned(compact(&text))
                } else {
                    text
                };
                Some(self.expand_written_alias(written))
            }
            Kind::Atom => {
                let text = self.text(node);
                // `:"Elixir.Foo"` names an Elixir module; other atoms are Erlang modules.
                let bare = text.trim_start_matches(':').trim_matches('"');
                match bare.strip_prefix("Elixir.") {
                    Some(elixir) => Some((Cow::Owned(elixir.to_string()), false)),
                    None if bare.len() + 1 == text.len() => Some((text, false)),
                    None => Some((Cow::Owned(format!(":{bare}")), false)),
                }
            }
            Kind::Identifier if self.text(node) == "__MODULE__" => self
                .enclosing_module_name()
                .map(|name| (Cow::Owned(name), false)),
            Kind::Dot => {
                let right = fields::right(node)?;
                if right.k() != Kind::Alias {
                    return None;
                }
                self.resolve_module(node)
                    .map(|name| (Cow::Owned(name), false))
            }
            _ => None,
        }
    }

    /// [`Extractor::expand_alias`] without allocating when nothing expands, and whether
    /// nothing did (an alias a `use`d template injects may still apply).
    fn expand_written_alias(&self, written: Cow<'s, str>) -> (Cow<'s, str>, bool) {
        let first = written.split('.').next().unwrap_or(&written);
        if first == "Elixir" || self.aliases.iter().any(|(short, _)| short == first) {
            return (Cow::Owned(self.expand_alias(&written)), false);
        }
        (written, true)
    }

    /// `__MODULE__` in a quote names the module the template is injected into.
    fn names_caller_module(&self, node: Node<'_>) -> bool {
        self.calls.quoted() && self.text(node).trim_start().starts_with("__MODULE__")
    }

    /// A call whose target is `left.right` (or `left.(...)`): remote, dynamic or anonymous.
    /// None for `var.field` without parentheses (a field access). Positioned as Elixir's
    /// metadata positions it: at the function's name, or at the dot of `fun.(x)`.
    fn dot_call(&mut self, call_node: Node<'_>, dot: Node<'_>) -> Option<Call> {
        let (arity, has_arguments) = Self::argument_count(call_node);
        let left = fields::left(dot)?;
        let Some(right) = fields::right(dot) else {
            // `fun.(x)`
            let position = dot.children().find(|c| c.kind() == ".").unwrap_or(dot);
            let mut call = self.new_call(position, CallForm::Anonymous, CallTarget::Dynamic);
            call.arity = Some(arity);
            return Some(call);
        };
        let position = right;
        let text = self.text(right);
        let name = text.trim_matches('"');
        if let Some((module, unexpanded)) = self.module_expression(left) {
            self.calls.mark(left, SKIP_SUBTREE);
            if self.names_caller_module(left) {
                let mut call = self.new_call(position, CallForm::Remote, CallTarget::Dynamic);
                call.name = Some(self.intern(name));
                call.arity = Some(arity);
                return Some(call);
            }
            if name == "apply" && matches!(module.as_ref(), "Kernel" | ":erlang") {
                let arguments = crate::syntax::call_arguments(call_node);
                if matches!(arguments.len(), 2 | 3) {
                    return Some(self.apply_call(position, &arguments));
                }
            }
            let target = if module.starts_with(':') {
                CallTarget::Erlang
            } else {
                CallTarget::External
            };
            let mut call = self.new_call(position, CallForm::Remote, target);
            call.module = Some(self.intern(&module));
            call.name = Some(self.intern(name));
            call.arity = Some(arity);
            call.unexpanded_alias = unexpanded;
            return Some(call);
        }
        // `conn.assigns` or `@config.key`: a map or struct field, not a call (`arity` counts
        // a `do` block, so 0 means neither parentheses nor a block).
        if !has_arguments && arity == 0 {
            return None;
        }
        let mut call = self.new_call(position, CallForm::Remote, CallTarget::Dynamic);
        call.name = Some(self.intern(name));
        call.arity = Some(arity);
        Some(call)
    }

    /// `apply(M, :f, [a, b])` resolves to `M.f/2` when all three are literals; anything else is
    /// a dynamic call.
    fn apply_call(&mut self, position: Node<'_>, arguments: &[Node<'_>]) -> Call {
        let mut call = self.new_call(position, CallForm::Apply, CallTarget::Dynamic);
        let [module, name, list] = arguments else {
            // apply(fun, args)
            return call;
        };
        let module = match self.module_expression(*module) {
            Some((expanded, unexpanded)) => {
                self.calls.mark(*module, SKIP_SUBTREE);
                if self.names_caller_module(*module) {
                    None
                } else {
                    call.unexpanded_alias = unexpanded;
                    Some(expanded)
                }
            }
            None => None,
        };
        if name.k() == Kind::Atom {
            let text = self.text(*name);
            let bare = text.trim_start_matches(':').trim_matches('"').to_string();
            call.name = Some(self.intern(&bare));
        }
        if list.k() == Kind::List {
            let items: Vec<Node<'_>> = list
                .named_children()
                .filter(|n| n.k() != Kind::Comment)
                .collect();
            // `[a | rest]` has no fixed length.
            let improper = items.iter().any(|item| {
                item.k() == Kind::BinaryOperator
                    && item
                        .field(Field::Operator)
                        .is_some_and(|op| &self.source[op.byte_range()] == b"|")
            });
            if !improper {
                call.arity = Some(super::count_u32(items.len()));
            }
        }
        if let Some(module) = module {
            if call.name.is_some() && call.arity.is_some() {
                call.target = if module.starts_with(':') {
                    CallTarget::Erlang
                } else {
                    CallTarget::External
                };
            }
            call.module = Some(self.intern(&module));
        }
        call
    }

    /// A local-form call `name(...)`: special forms are known here; the rest waits for the
    /// project phase with the imports that could provide it.
    fn local_call(&mut self, position: Node<'_>, name: &str, arity: u32, form: CallForm) -> Call {
        if is_special_form(name) {
            let mut call = self.new_call(position, form, CallTarget::SpecialForm);
            call.module = Some(self.intern("Kernel.SpecialForms"));
            call.name = Some(self.intern(name));
            call.arity = Some(arity);
            call.is_macro = true;
            return call;
        }
        let mut call = self.new_call(position, form, CallTarget::Unknown);
        call.name = Some(self.intern(name));
        call.arity = Some(arity);
        let (imports, kernel_imported) = self.calls.pending_imports(name, arity);
        call.imports = imports;
        call.kernel_imported = kernel_imported;
        call
    }

    /// A `call` node whose target is `left.right`.
    pub(super) fn record_dot_call(&mut self, node: Node<'_>, dot: Node<'_>, marks: u8) {
        if !self.calls.enabled {
            return;
        }
        if let Some(mut call) = self.dot_call(node, dot) {
            if marks & PIPED != 0 {
                call.piped = true;
                call.arity = call.arity.map(|a| a + 1);
            }
            self.push_call(call);
        }
    }

    /// A `call` whose target is neither a name nor `left.right`: `unquote(name)(x)`.
    pub(super) fn record_computed_call(&mut self, node: Node<'_>, marks: u8) {
        if !self.calls.enabled {
            return;
        }
        let (arity, _) = Self::argument_count(node);
        let mut call = self.new_call(node, CallForm::Local, CallTarget::Dynamic);
        call.arity = Some(arity + u32::from(marks & PIPED != 0));
        call.piped = marks & PIPED != 0;
        self.push_call(call);
    }

    /// A `call` whose target is an identifier and that is not a definition or directive.
    pub(super) fn record_local_call(&mut self, node: Node<'_>, name: &str, marks: u8) {
        if !self.calls.enabled || marks & SKIP_CALL != 0 {
            return;
        }
        let piped = marks & PIPED != 0;
        if name == "apply" && !piped {
            let arguments = crate::syntax::call_arguments(node);
            if matches!(arguments.len(), 2 | 3) {
                let call = self.apply_call(node, &arguments);
                self.push_call(call);
                return;
            }
        }
        // `unquote` runs when the quote is built: it is not template code itself.
        if matches!(name, "unquote" | "unquote_splicing") && self.calls.quoted() {
            self.calls.quoting.push((node.id(), false));
        }
        let (arity, _) = Self::argument_count(node);
        let mut call = self.local_call(node, name, arity + u32::from(piped), CallForm::Local);
        call.piped = piped;
        if name == "quote" {
            self.calls.quoting.push((node.id(), true));
        }
        if self.module_level().is_some() && RUNTIME_ARGUMENT_MACROS.binary_search(&name).is_ok() {
            self.calls.runtime_arguments.push(node.id());
        }
        self.push_call(call);
    }

    /// `x |> f(y)` is `f/2`, `x |> M.f` is `M.f/1`, and `x |> f` is `f/1`.
    pub(super) fn enter_binary(&mut self, node: Node<'_>) {
        if !self.calls.enabled {
            return;
        }
        let Some(operator) = fields::operator(node) else {
            return;
        };
        if &self.source[operator.byte_range()] != b"|>" {
            return;
        }
        let Some(right) = fields::right(node) else {
            return;
        };
        if matches!(right.k(), Kind::Call | Kind::Identifier) {
            self.calls.mark(right, PIPED);
        }
    }

    /// An identifier is a variable, except on the right of `|>`: `x |> f` is `f(x)`.
    pub(super) fn enter_identifier(&mut self, node: Node<'_>, marks: u8) {
        if marks & PIPED == 0 || !self.calls.enabled {
            return;
        }
        let name = self.text(node).into_owned();
        if NOT_CALLABLE_IDENTIFIERS.contains(&name.as_str()) {
            return;
        }
        let mut call = self.local_call(node, &name, 1, CallForm::Local);
        call.piped = true;
        self.push_call(call);
    }

    /// Captures: `&M.f/2`, `&f/1`, `&M.f(&1, 1)`, `&f(&1)`, positioned at the function's name.
    pub(super) fn enter_capture(&mut self, node: Node<'_>) {
        if !self.calls.enabled {
            return;
        }
        let Some(operand) = fields::operand(node) else {
            return;
        };
        match operand.k() {
            Kind::BinaryOperator => {
                let is_slash = operand
                    .field(Field::Operator)
                    .is_some_and(|op| &self.source[op.byte_range()] == b"/");
                let (Some(function), Some(arity_node)) =
                    (fields::left(operand), fields::right(operand))
                else {
                    return;
                };
                if !is_slash {
                    return;
                }
                let arity = (arity_node.k() == Kind::Integer)
                    .then(|| self.text(arity_node).replace('_', "").parse::<u32>().ok())
                    .flatten();
                let call = match function.k() {
                    Kind::Identifier => {
                        let name = self.text(function).into_owned();
                        let mut call =
                            self.local_call(function, &name, arity.unwrap_or(0), CallForm::Capture);
                        if arity.is_none() {
                            call.arity = None;
                        }
                        call
                    }
                    Kind::Call => {
                        let Some(dot) =
                            function.field(Field::Target).filter(|t| t.k() == Kind::Dot)
                        else {
                            return;
                        };
                        self.calls.mark(function, SKIP_CALL);
                        match self.dot_call(function, dot) {
                            Some(mut call) => {
                                call.form = CallForm::Capture;
                                call.arity = arity;
                                call
                            }
                            None => {
                                // `&var.field/1`: a function from a map, unknowable.
                                let mut call =
                                    self.new_call(dot, CallForm::Capture, CallTarget::Dynamic);
                                call.arity = arity;
                                call
                            }
                        }
                    }
                    _ => return,
                };
                self.push_call(call);
            }
            Kind::Call => {
                let Some(target) = fields::target(operand) else {
                    return;
                };
                let call = match target.k() {
                    Kind::Dot => {
                        self.calls.mark(operand, SKIP_CALL);
                        self.dot_call(operand, target).map(|mut call| {
                            call.form = CallForm::Capture;
                            call
                        })
                    }
                    Kind::Identifier => {
                        let name = self.text(target).into_owned();
                        if is_construct(&name) {
                            return;
                        }
                        self.calls.mark(operand, SKIP_CALL);
                        let (arity, _) = Self::argument_count(operand);
                        Some(self.local_call(target, &name, arity, CallForm::Capture))
                    }
                    _ => None,
                };
                if let Some(call) = call {
                    self.push_call(call);
                }
            }
            _ => {}
        }
    }

    /// `~r/x/` calls the macro `sigil_r/2`.
    pub(super) fn enter_sigil(&mut self, node: Node<'_>) {
        if !self.calls.enabled {
            return;
        }
        let Some(letter) = node.named_children().find(|c| c.k() == Kind::SigilName) else {
            return;
        };
        let name = format!("sigil_{}", self.text(letter));
        let call = self.local_call(node, &name, 2, CallForm::Sigil);
        self.push_call(call);
    }

    /// `alias` and `dot` nodes that name a module outside a call receiver, and maps that are
    /// structs (`%M{}`, positioned at the `%` as Elixir does). Returns whether to walk the
    /// node's children.
    pub(super) fn enter_module_reference(&mut self, node: Node<'_>) -> bool {
        if !self.calls.enabled {
            return true;
        }
        let (named, kind) = match node.k() {
            Kind::Map => {
                let Some(name) = node
                    .named_children()
                    .next()
                    .filter(|child| child.k() == Kind::Struct)
                    .and_then(|r#struct| r#struct.named_child(0))
                else {
                    return true;
                };
                (name, ReferenceKind::Struct)
            }
            _ => (node, ReferenceKind::Alias),
        };
        let Some((module, unexpanded)) = self.module_expression(named) else {
            // `unquote(base).Child`: the alias is relative to a computed module.
            if let Some(right) = node
                .field(Field::Right)
                .filter(|r| node.k() == Kind::Dot && r.k() == Kind::Alias)
            {
                self.calls.mark(right, SKIP_SUBTREE);
            }
            return true;
        };
        // `__MODULE__` names the module itself; quoted names belong to the template's user.
        if self.calls.quoted() || named.k() == Kind::Identifier {
            if named.id() != node.id() {
                self.calls.mark(named, SKIP_SUBTREE);
            }
            return kind == ReferenceKind::Struct;
        }
        let (line, column) = self.position(node);
        let runtime = !self.calls.runtime_arguments.is_empty();
        let module = self.intern(&module);
        self.push_reference(Reference {
            module,
            kind,
            line,
            column,
            runtime,
            unexpanded_alias: unexpanded,
        });
        // A struct's fields hold code; its name does not.
        if named.id() != node.id() {
            self.calls.mark(named, SKIP_SUBTREE);
        }
        kind == ReferenceKind::Struct
    }

    /// Marks the nodes of a directive or definition that name modules without referring to
    /// them at run time (a `defmodule`'s name, `use`'s target, `defimpl`'s protocol and type).
    pub(super) fn skip_subtree(&mut self, node: Node<'_>) {
        if self.calls.enabled {
            self.calls.mark(node, SKIP_SUBTREE);
        }
    }

    pub(super) fn skip_call(&mut self, node: Node<'_>) {
        if self.calls.enabled {
            self.calls.mark(node, SKIP_CALL);
        }
    }

    /// Records an `import` in lexical scope.
    pub(super) fn push_import(
        &mut self,
        module: &str,
        only: Option<&Vec<String>>,
        except: Option<&Vec<String>>,
    ) {
        if !self.calls.enabled {
            return;
        }
        let module = self.intern(module);
        self.calls.imports.push(ImportInScope {
            module,
            only: only.map(|o| Arc::from(o.as_slice())),
            except: except.map(|e| Arc::from(e.as_slice())),
        });
    }

    /// The call `defdelegate f(x), to: M, as: :g` compiles to, listed in its clause.
    pub(super) fn delegate_call(
        &mut self,
        to: Node<'_>,
        target_name: &str,
        arity: u32,
    ) -> Option<Call> {
        if !self.calls.enabled {
            return None;
        }
        let (module, unexpanded) = self.module_expression(to)?;
        let target = if module.starts_with(':') {
            CallTarget::Erlang
        } else {
            CallTarget::External
        };
        let mut call = self.new_call(to, CallForm::Delegate, target);
        call.module = Some(self.intern(&module));
        call.name = Some(self.intern(target_name));
        call.arity = Some(arity);
        call.unexpanded_alias = unexpanded;
        Some(call)
    }

    pub(super) fn calls_enabled(&self) -> bool {
        self.calls.enabled
    }
}

/// Definitions and directives: constructs, never listed as calls.
fn is_construct(name: &str) -> bool {
    super::FunctionKind::from_keyword(name).is_some()
        || matches!(
            name,
            "alias"
                | "import"
                | "require"
                | "use"
                | "defmodule"
                | "defprotocol"
                | "defimpl"
                | "defstruct"
                | "defexception"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large project holds hundreds of thousands of calls: each stays within a cache line.
    #[test]
    fn calls_and_references_stay_small() {
        assert!(std::mem::size_of::<Call>() <= 64);
        assert!(std::mem::size_of::<Reference>() <= 24);
        assert_eq!(std::mem::size_of::<Option<Symbol>>(), 8);
    }

    #[test]
    fn runtime_argument_macros_are_sorted_for_binary_search() {
        let mut sorted = RUNTIME_ARGUMENT_MACROS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, RUNTIME_ARGUMENT_MACROS);
        let mut forms = stdlib::SPECIAL_FORMS.to_vec();
        forms.sort_unstable();
        assert_eq!(forms, stdlib::SPECIAL_FORMS);
    }

    #[test]
    fn import_filters() {
        let import = |only: Option<&[&str]>, except: Option<&[&str]>| ImportInScope {
            module: Symbol::new("M"),
            only: only.map(|o| o.iter().map(|s| s.to_string()).collect()),
            except: except.map(|e| e.iter().map(|s| s.to_string()).collect()),
        };
        assert_eq!(import(None, None).admission("f", 1), Some(false));
        assert_eq!(import(Some(&["f/1"]), None).admission("f", 1), Some(true));
        assert_eq!(import(Some(&["f/1"]), None).admission("f", 2), None);
        assert_eq!(import(None, Some(&["f/1"])).admission("f", 1), None);
        assert_eq!(import(None, Some(&["f/1"])).admission("g", 1), Some(false));
        assert_eq!(
            import(Some(&[":functions"]), None).admission("g", 3),
            Some(false)
        );
        assert_eq!(
            import(Some(&[":sigils"]), None).admission("sigil_p", 2),
            Some(false)
        );
        assert_eq!(import(Some(&[":sigils"]), None).admission("g", 2), None);
    }
}
