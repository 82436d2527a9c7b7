//! Tree → facts: modules, functions, directives and attributes of one file, in one iterative walk
//! (the design's Parsing.Parser). Names follow Elixir's own rules (Kernel.defmodule's
//! `alias_defmodule`, Protocol.__impl__), checked against Elixir's parser by
//! `tests/oracle/definitions.exs`.

pub(crate) mod calls;
mod fields;
pub(crate) mod ids;
pub(crate) mod kinds;
pub(crate) mod metrics;
pub(crate) mod observe;
pub(crate) mod stdlib;

use crate::syntax::kinds::{Field, Fields, KindOf};
use foldhash::{HashMap, HashMapExt};
use smallvec::SmallVec;

use crate::syntax::{Node, Tree};

use crate::model::{
    Attribute, Call, Callback, Clause, Delegate, Directive, DirectiveKind, DocState,
    DynamicDefinition, Function, FunctionKind, Implementation, Injected, InjectedKind, Module,
    ModuleDefinition,
};
use crate::model::{SyntaxError, SyntaxErrorKind, MAX_ERRORS_PER_FILE};
use crate::syntax::{self, Kind, Positions, Visitor};
use observe::{SiteOwned, WalkObserver, WalkView};

use crate::otp::cancel::{Deadline, Expired};

/// Syntax errors of a parsed tree in source order, at most [`MAX_ERRORS_PER_FILE`], and the total.
pub(crate) fn syntax_errors(tree: &Tree, source: &[u8]) -> (Vec<SyntaxError>, usize) {
    let root = tree.root_node();
    let mut errors = Vec::new();
    let mut total = 0usize;
    if !root.has_error() {
        return (errors, 0);
    }
    let positions = Positions::new(source);
    syntax::walk_preorder(root, |node| {
        if node.is_error() || node.is_missing() {
            total += 1;
            if errors.len() < MAX_ERRORS_PER_FILE {
                let (line, column) = positions.start(node);
                let (end_line, end_column) = positions.end(node);
                let (kind, message) = if node.is_missing() {
                    (
                        SyntaxErrorKind::Missing,
                        format!("missing `{}`", node.kind()),
                    )
                } else {
                    let snippet = syntax::text(node, source);
                    let snippet: String = snippet
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim()
                        .chars()
                        .take(40)
                        .collect();
                    (
                        SyntaxErrorKind::Unexpected,
                        format!("unexpected `{snippet}`"),
                    )
                };
                errors.push(SyntaxError {
                    line,
                    column,
                    end_line,
                    end_column,
                    kind,
                    message,
                });
            }
            return false;
        }
        node.has_error()
    });
    (errors, total)
}

/// The modules defined in a file, in source order (nested modules after their parent's start),
/// without calls.
#[cfg(test)]
pub(crate) fn modules(tree: &Tree, source: &[u8]) -> Vec<Module> {
    facts(tree, source, false).modules
}

/// What one file defines and calls.
pub(crate) struct FileFacts {
    /// The modules defined in the file, in source order (nested modules after their parent's
    /// start).
    pub(crate) modules: Vec<Module>,
    /// Calls outside any module (a script's top level), in source order.
    pub(crate) calls: Vec<Call>,
}

/// Nodes the walk enters between two looks at its deadline: a clock read every 64 nodes costs
/// well under 1 % of the walk (a node takes hundreds of nanoseconds, a read about twenty), and
/// bounds the work done past a deadline by 64 nodes' worth.
const NODES_PER_DEADLINE_CHECK: u32 = 64;

/// Extracts a file's facts in one walk of its tree; `with_calls` adds the call sites and
/// module references (`--no-calls` leaves them out).
#[cfg(test)]
pub(crate) fn facts(tree: &Tree, source: &[u8], with_calls: bool) -> FileFacts {
    let deadline = Deadline::never(crate::otp::cancel::CancelToken::new());
    facts_observed(tree, source, with_calls, true, None, &deadline).expect("no deadline")
}

/// [`facts`], with the rules of `analyze` hearing about every node in the same walk, ending
/// early (with [`Expired`], the facts dropped) when `deadline` expires: it is checked every
/// [`NODES_PER_DEADLINE_CHECK`] nodes, whatever the extraction, the metrics, the calls or the
/// observer's rules do with them.
pub(crate) fn facts_observed<'s, 'o>(
    tree: &'s Tree,
    source: &'s [u8],
    with_calls: bool,
    with_metrics: bool,
    observer: Option<&'o mut dyn WalkObserver<'s>>,
    deadline: &'o Deadline,
) -> Result<FileFacts, Expired> {
    let mut extractor = Extractor {
        deadline,
        until_check: NODES_PER_DEADLINE_CHECK,
        expired: false,
        observer,
        attribute: None,
        source,
        // Most files define one module; Vec's first growth would make room for four (2 KB).
        modules: Vec::with_capacity(1),
        scopes: Vec::new(),
        aliases: Vec::new(),
        attribute_call: None,
        calls: calls::CallState::new(with_calls),
        metrics: metrics::MetricsCollector::new(source, with_metrics),
        metrics_only: None,
    };
    syntax::walk_enter_leave(tree.root_node(), &mut extractor);
    if extractor.expired {
        return Err(Expired);
    }
    // Scopes still open (only possible on broken trees) are closed in order.
    while let Some(scope) = extractor.scopes.pop() {
        extractor.close(scope);
    }
    debug_assert!(
        extractor.calls.all_marks_consumed(),
        "a call mark was set on a node the walk never entered"
    );
    let mut modules: Vec<Module> = extractor
        .modules
        .into_iter()
        .map(|builder| {
            let mut module = builder.module;
            module.functions.shrink_to_fit();
            module
        })
        .collect();
    // The records live until the report is written: no room for modules that never come (the
    // collect above reuses the builders' larger buffer).
    modules.shrink_to_fit();
    metrics::attach(&mut modules, extractor.metrics.finish());
    let mut script_calls = extractor.calls.script_calls;
    calls::sort_by_position(&mut modules, &mut script_calls);
    Ok(FileFacts {
        modules,
        calls: script_calls,
    })
}

/// Per-module state needed only while its body is walked.
struct ModuleBuilder {
    module: Module,
    function_index: HashMap<(FunctionKind, String, u32), usize>,
    specs: Vec<(String, u32)>,
    pending_doc: Option<DocState>,
    pending_impl: bool,
    is_exception: bool,
    has_schema: bool,
    has_embedded_schema: bool,
    starts_registry: bool,
}

enum ScopeKind {
    /// A module body; `defimpl ..., for: [A, B]` opens several at once.
    Module(Vec<usize>),
    /// A `def`-like body: nested `defmodule`s still belong to the enclosing module, nested
    /// definitions are not functions of it. `owner` is where its calls are listed.
    Function {
        origin: String,
        owner: calls::DefinitionCalls,
        /// `def`, `defp`, `defmacro`, ...
        keyword: &'static str,
    },
    /// A `quote` block: its definitions are templates for other modules.
    Quote,
    /// A `do` block or `fn`: only a lexical scope for aliases (a parenthesised block is not one,
    /// so its aliases reach the code after it, as in Elixir).
    Block,
    /// A module whose name only exists at run time (`defmodule name do`), or one written inside
    /// a quote: nothing in it is reported.
    Opaque,
}

struct Scope {
    node_id: usize,
    kind: ScopeKind,
    /// Length of the alias stack when the scope opened: aliases are lexical.
    alias_mark: usize,
    /// Length of the import stack when the scope opened: imports are lexical too.
    import_mark: usize,
}

struct Extractor<'s, 'o> {
    /// The file's deadline (its time budget, or the run's cancellation).
    deadline: &'o Deadline,
    /// Nodes left before the next look at `deadline`.
    until_check: u32,
    /// The deadline passed: the walk stops and the facts are dropped.
    expired: bool,
    /// The rules of `analyze`, fed from this walk; `None` for `parse`.
    observer: Option<&'o mut dyn WalkObserver<'s>>,
    /// The module attribute (`@name value`, at module level) being walked: node id and name.
    attribute: Option<(usize, String)>,
    source: &'s [u8],
    modules: Vec<ModuleBuilder>,
    scopes: Vec<Scope>,
    /// (short name, full name), innermost last.
    aliases: Vec<(String, String)>,
    /// The `call` that is the operand of `@`: `@def 1` sets an attribute, it defines nothing.
    attribute_call: Option<usize>,
    /// Call sites and module references (see `calls.rs`).
    calls: calls::CallState,
    /// Complexity metrics (see `metrics.rs`): they see every node of a definition.
    metrics: metrics::MetricsCollector<'s>,
    /// A subtree the facts skip but a definition's metrics need: only `metrics` walks it.
    metrics_only: Option<usize>,
}

impl ModuleBuilder {
    /// Adds a clause to the function (kind, name, arity), creating it on its first clause, and
    /// returns the function's index.
    #[allow(clippy::too_many_arguments)] // reason: one call site; a struct would only rename them
    fn add_clause(
        &mut self,
        kind: FunctionKind,
        name: &str,
        arity: u32,
        defaults: u32,
        clause: Clause,
        doc: Option<DocState>,
        impl_attribute: bool,
        delegate: Option<Delegate>,
    ) -> usize {
        let key = (kind, name.to_string(), arity);
        let index = match self.function_index.get(&key) {
            Some(&existing) => existing,
            None => {
                self.module.functions.push(Function {
                    id: String::new(),
                    name: name.to_string(),
                    kind,
                    arity,
                    min_arity: arity,
                    line: clause.line,
                    end_line: clause.end_line,
                    doc: DocState::Absent,
                    spec: false,
                    impl_attribute: false,
                    delegate,
                    // Most functions have one clause: Vec's first growth would make room
                    // for four (640 bytes, 3/4 of them never used, for the whole run).
                    clauses: Vec::with_capacity(1),
                    metrics: None,
                });
                self.function_index
                    .insert(key, self.module.functions.len() - 1);
                self.module.functions.len() - 1
            }
        };
        let function = &mut self.module.functions[index];
        function.min_arity = function.min_arity.min(arity - defaults);
        function.end_line = function.end_line.max(clause.end_line);
        function.impl_attribute |= impl_attribute;
        match (doc, function.doc) {
            (Some(DocState::Present), _) => function.doc = DocState::Present,
            (Some(DocState::False), DocState::Absent) => function.doc = DocState::False,
            _ => {}
        }
        function.clauses.push(clause);
        index
    }
}

impl<'s> Visitor<'s> for Extractor<'s, '_> {
    const NAMED_ONLY: bool = true;

    fn enter(&mut self, node: Node<'s>, kind: Kind) -> bool {
        self.until_check -= 1;
        if self.until_check == 0 {
            self.until_check = NODES_PER_DEADLINE_CHECK;
            if self.deadline.expired() {
                self.expired = true;
                return false;
            }
        }
        if let Some(observer) = self.observer.take() {
            observer.enter(node, kind, self);
            self.observer = Some(observer);
        }
        self.metrics.enter(node, kind);
        if self.metrics_only.is_some() {
            self.calls.take_marks(node);
            return true;
        }
        let descend = self.enter_facts(node, kind);
        if !descend && self.metrics.measuring() {
            self.metrics_only = Some(node.id());
            return true;
        }
        descend
    }

    fn stopped(&self) -> bool {
        self.expired
    }

    fn leave(&mut self, node: Node<'s>, _: Kind) {
        self.metrics.leave(node);
        match self.metrics_only {
            Some(id) if id == node.id() => self.metrics_only = None,
            Some(_) => return,
            None => {}
        }
        self.leave_facts(node);
    }
}

impl WalkView for Extractor<'_, '_> {
    fn resolve_module(&self, node: Node<'_>) -> Option<String> {
        Extractor::resolve_module(self, node)
    }

    fn site(&self) -> SiteOwned {
        let function = self
            .scopes
            .iter()
            .rev()
            .find_map(|scope| match &scope.kind {
                ScopeKind::Function {
                    origin, keyword, ..
                } => origin.rsplit_once('/').and_then(|(name, arity)| {
                    arity
                        .parse()
                        .ok()
                        .map(|arity| (name.to_string(), arity, *keyword))
                }),
                _ => None,
            });
        SiteOwned {
            module: self.enclosing_module_name(),
            function,
            attribute: self.attribute.as_ref().map(|(_, name)| name.clone()),
        }
    }
}

impl Extractor<'_, '_> {
    fn enter_facts(&mut self, node: Node<'_>, kind: Kind) -> bool {
        let marks = self.calls.take_marks(node);
        if marks & calls::SKIP_SUBTREE != 0 {
            return false;
        }
        match kind {
            Kind::Call if self.attribute_call == Some(node.id()) => true,
            Kind::Call => self.enter_call(node, marks),
            Kind::UnaryOperator => self.enter_unary(node),
            Kind::BinaryOperator => {
                self.enter_binary(node);
                true
            }
            Kind::DoBlock | Kind::AnonymousFunction => {
                self.push(node, ScopeKind::Block);
                true
            }
            Kind::Alias | Kind::Dot | Kind::Map => self.enter_module_reference(node),
            Kind::Identifier => {
                self.enter_identifier(node, marks);
                true
            }
            Kind::Sigil => {
                self.enter_sigil(node);
                true
            }
            _ => true,
        }
    }

    fn leave_facts(&mut self, node: Node<'_>) {
        if self
            .attribute
            .as_ref()
            .is_some_and(|(id, _)| *id == node.id())
        {
            self.attribute = None;
        }
        self.calls.leave(node);
        while self
            .scopes
            .last()
            .is_some_and(|scope| scope.node_id == node.id())
        {
            let scope = self.scopes.pop().expect("checked above");
            self.close(scope);
        }
    }
}

impl<'s> Extractor<'s, '_> {
    fn text(&self, node: Node<'_>) -> std::borrow::Cow<'s, str> {
        syntax::text(node, self.source)
    }

    fn line(node: Node<'_>) -> u32 {
        Positions::line(node.start_position())
    }

    fn end_line(node: Node<'_>) -> u32 {
        Positions::line(node.end_position())
    }

    fn push(&mut self, node: Node<'_>, kind: ScopeKind) {
        self.scopes.push(Scope {
            node_id: node.id(),
            kind,
            alias_mark: self.aliases.len(),
            import_mark: self.calls.imports.len(),
        });
    }

    fn close(&mut self, scope: Scope) {
        self.aliases.truncate(scope.alias_mark);
        self.calls.imports.truncate(scope.import_mark);
        if let ScopeKind::Module(indices) = scope.kind {
            for index in indices {
                kinds::finish_module(&mut self.modules[index]);
            }
        }
    }

    /// Neither calls, metrics nor rules are wanted: only what defines something is read.
    fn facts_only(&self) -> bool {
        !self.calls_enabled() && !self.metrics.enabled() && self.observer.is_none()
    }

    /// Inside a quote or an opaque module: `defmodule` here defines nothing of this file.
    fn in_template(&self) -> bool {
        self.scopes
            .iter()
            .any(|scope| matches!(scope.kind, ScopeKind::Quote | ScopeKind::Opaque))
    }

    fn in_quote(&self) -> bool {
        self.scopes
            .iter()
            .any(|scope| matches!(scope.kind, ScopeKind::Quote))
    }

    /// The innermost scope that is more than a lexical block.
    fn innermost(&self) -> Option<&Scope> {
        self.scopes
            .iter()
            .rev()
            .find(|scope| !matches!(scope.kind, ScopeKind::Block))
    }

    /// The modules whose body the walk is in, at any depth of control flow but outside any
    /// definition, quote or nested module.
    fn module_level(&self) -> Option<&[usize]> {
        match self.innermost() {
            Some(Scope {
                kind: ScopeKind::Module(indices),
                ..
            }) => Some(indices),
            _ => None,
        }
    }

    /// At the top level of a quote (through control flow): definitions here are injected.
    fn quote_level(&self) -> bool {
        matches!(self.innermost().map(|s| &s.kind), Some(ScopeKind::Quote))
    }

    /// The innermost enclosing module (Elixir's `__MODULE__`), whatever scopes lie between.
    fn enclosing_module(&self) -> Option<usize> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| match &scope.kind {
                ScopeKind::Module(indices) => indices.first().copied(),
                _ => None,
            })
    }

    fn enclosing_module_name(&self) -> Option<String> {
        self.enclosing_module()
            .map(|index| self.modules[index].module.name.clone())
    }

    /// The function whose body holds the innermost `quote`, for `injected` entries.
    fn quote_origin(&self) -> Option<String> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| match &scope.kind {
                ScopeKind::Function { origin, .. } => Some(origin.clone()),
                ScopeKind::Module(_) | ScopeKind::Opaque => Some(String::new()),
                ScopeKind::Quote | ScopeKind::Block => None,
            })
            .filter(|origin| !origin.is_empty())
    }

    /// Returns whether to walk the call's children: a directive's are names, not code.
    fn enter_call(&mut self, node: Node<'_>, marks: u8) -> bool {
        let Some(target) = fields::target(node) else {
            return true;
        };
        if target.k() == Kind::Dot {
            self.enter_remote_call(node, target);
            if marks & calls::SKIP_CALL == 0 {
                self.record_dot_call(node, target, marks);
            }
            return true;
        }
        if target.k() != Kind::Identifier {
            if marks & calls::SKIP_CALL == 0 {
                self.record_computed_call(node, marks);
            }
            return true;
        }
        let keyword = self.text(target);
        match keyword.as_ref() {
            "defmodule" | "defprotocol" | "defimpl" if self.in_template() => {
                self.push(node, ScopeKind::Opaque)
            }
            "defmodule" | "defprotocol" => self.enter_defmodule(node, &keyword),
            "defimpl" => self.enter_defimpl(node),
            "quote" => {
                self.push(node, ScopeKind::Quote);
                self.record_local_call(node, "quote", marks);
            }
            "alias" | "import" | "require" => {
                self.enter_directive(node, &keyword);
                return false;
            }
            "use" => self.enter_directive(node, &keyword),
            "defstruct" | "defexception" => self.enter_defstruct(node, &keyword),
            "schema" | "embedded_schema" => {
                self.record_local_call(node, &keyword, marks);
                if let Some(indices) = self.module_level() {
                    let embedded = keyword == "embedded_schema";
                    for &index in &indices.to_vec() {
                        let builder = &mut self.modules[index];
                        if embedded {
                            builder.has_embedded_schema = true;
                        } else {
                            builder.has_schema = true;
                        }
                    }
                }
            }
            other => match FunctionKind::from_keyword(other) {
                Some(kind) => {
                    self.enter_definition(node, kind);
                    return !self.facts_only() || may_define(&self.source[node.byte_range()]);
                }
                // ExUnit's bodies, like a definition's, define nothing of the module.
                None if self.facts_only() && matches!(other, "test" | "setup" | "setup_all") => {
                    return may_define(&self.source[node.byte_range()]);
                }
                None if marks & calls::SKIP_CALL == 0 => self.record_local_call(node, other, marks),
                None => {}
            },
        }
        true
    }

    /// `Registry.start_link(...)` inside a module marks it as starting a registry.
    fn enter_remote_call(&mut self, _node: Node<'_>, dot: Node<'_>) {
        let (Some(left), Some(right)) = (fields::left(dot), fields::right(dot)) else {
            return;
        };
        if left.k() == Kind::Alias
            && self.resolve_module(left).as_deref() == Some("Registry")
            && matches!(self.text(right).as_ref(), "start_link" | "child_spec")
            && !self.in_quote()
        {
            if let Some(index) = self.enclosing_module() {
                self.modules[index].starts_registry = true;
            }
        }
    }

    /// The value of keyword `key` among a call's trailing keyword arguments.
    fn keyword_value<'t>(&self, arguments: &[Node<'t>], key: &str) -> Option<Node<'t>> {
        let keywords = arguments.iter().rev().find(|n| n.k() == Kind::Keywords)?;
        let pairs: Vec<Node<'t>> = keywords.named_children().collect();
        pairs.into_iter().find_map(|pair| {
            let key_node = pair.field(Field::Key)?;
            (keyword_name(&self.text(key_node)) == key)
                .then(|| pair.field(Field::Value))
                .flatten()
        })
    }

    /// Expands a module reference the way the compiler does: `Elixir.` prefix, aliases in
    /// scope, `__MODULE__`. Erlang modules keep their colon (`:ets`).
    fn resolve_module(&self, node: Node<'_>) -> Option<String> {
        match node.k() {
            Kind::Alias => Some(self.expand_alias(&compact_borrowed(&self.text(node)))),
            Kind::Identifier if self.text(node) == "__MODULE__" => self.enclosing_module_name(),
            Kind::Atom => Some(self.text(node).into_owned()),
            Kind::Dot => {
                let left = fields::left(node)?;
                let right = fields::right(node)?;
                if right.k() != Kind::Alias {
                    return None;
                }
                let base = self.resolve_module(left)?;
                Some(format!("{base}.{}", compact_borrowed(&self.text(right))))
            }
            _ => None,
        }
    }

    fn expand_alias(&self, name: &str) -> String {
        let (first, rest) = match name.split_once('.') {
            Some((first, rest)) => (first, Some(rest)),
            None => (name, None),
        };
        if first == "Elixir" {
            return rest.unwrap_or(name).to_string();
        }
        match self.aliases.iter().rev().find(|(short, _)| short == first) {
            Some((_, full)) => match rest {
                Some(rest) => format!("{full}.{rest}"),
                None => full.clone(),
            },
            None => name.to_string(),
        }
    }

    fn new_module(
        &mut self,
        node: Node<'_>,
        name: String,
        definition: ModuleDefinition,
        implements: Option<Implementation>,
    ) -> usize {
        let parent = self.enclosing_module_name();
        self.modules.push(ModuleBuilder {
            module: Module {
                id: String::new(),
                name,
                definition,
                kinds: Vec::new(),
                implements,
                parent,
                line: Self::line(node),
                end_line: Self::end_line(node),
                directives: Vec::new(),
                attributes: Vec::new(),
                moduledoc: DocState::Absent,
                derives: Vec::new(),
                struct_fields: None,
                callbacks: Vec::new(),
                functions: Vec::new(),
                dynamic_definitions: Vec::new(),
                injected: Vec::new(),
                calls: Vec::new(),
                references: Vec::new(),
                metrics: None,
            },
            function_index: HashMap::new(),
            specs: Vec::new(),
            pending_doc: None,
            pending_impl: false,
            is_exception: false,
            has_schema: false,
            has_embedded_schema: false,
            starts_registry: false,
        });
        self.modules.len() - 1
    }

    /// `defmodule`/`defprotocol`, named as Kernel's `alias_defmodule` does.
    fn enter_defmodule(&mut self, node: Node<'_>, keyword: &str) {
        let arguments = syntax::call_arguments(node);
        let Some(&name_node) = arguments.first() else {
            return;
        };
        self.skip_subtree(name_node);
        let enclosing = self.enclosing_module_name();
        let name = match name_node.k() {
            Kind::Alias => {
                let written = compact(&self.text(name_node));
                let (first, rest) = match written.split_once('.') {
                    Some((first, rest)) => (first.to_string(), Some(rest.to_string())),
                    None => (written.clone(), None),
                };
                match (&enclosing, first.as_str(), rest) {
                    // defmodule Elixir.Alias: absolute.
                    (_, "Elixir", Some(rest)) => rest,
                    // defmodule Alias nested: Outer.Alias, and `Alias` now names it
                    // (Module.concat drops the colon of an atom-named outer module).
                    (Some(outer), _, rest) => {
                        let head = format!("{}.{first}", outer.trim_start_matches(':'));
                        self.aliases.push((first, head.clone()));
                        match rest {
                            Some(rest) => format!("{head}.{rest}"),
                            None => head,
                        }
                    }
                    // defmodule Alias at the root: aliases in scope apply.
                    (None, _, _) => self.expand_alias(&written),
                }
            }
            // `defmodule :atom` keeps the atom's inspect form; `__MODULE__.X` expands. Any
            // other name exists only at run time: nothing inside is reported.
            Kind::Atom | Kind::Dot | Kind::Identifier => match self.resolve_module(name_node) {
                Some(name) => name,
                None => return self.push(node, ScopeKind::Opaque),
            },
            _ => return self.push(node, ScopeKind::Opaque),
        };
        let definition = if keyword == "defprotocol" {
            ModuleDefinition::Defprotocol
        } else {
            ModuleDefinition::Defmodule
        };
        let index = self.new_module(node, name, definition, None);
        self.push(node, ScopeKind::Module(vec![index]));
    }

    /// `defimpl P, for: T`: module `P.T` (not nested), one per target of `for: [A, B]`;
    /// without `for:`, the enclosing module (Protocol.__impl__).
    fn enter_defimpl(&mut self, node: Node<'_>) {
        let arguments = syntax::call_arguments(node);
        let Some(&protocol_node) = arguments.first() else {
            return;
        };
        self.skip_subtree(protocol_node);
        if let Some(value) = self.keyword_value(&arguments, "for") {
            self.skip_subtree(value);
        }
        let Some(protocol) = self.resolve_module(protocol_node) else {
            return self.push(node, ScopeKind::Opaque);
        };
        let targets: Vec<String> = match self.keyword_value(&arguments, "for") {
            Some(value) if value.k() == Kind::List => {
                let items: Vec<Node<'_>> = value.named_children().collect();
                items
                    .into_iter()
                    .filter(|item| item.k() != Kind::Comment)
                    .filter_map(|item| self.resolve_module(item))
                    .collect()
            }
            Some(value) => self.resolve_module(value).into_iter().collect(),
            None => self.enclosing_module_name().into_iter().collect(),
        };
        let mut indices = Vec::new();
        for target in targets {
            let name = format!("{protocol}.{}", target.trim_start_matches(':'));
            let implements = Implementation {
                protocol: protocol.clone(),
                for_type: target,
            };
            indices.push(self.new_module(node, name, ModuleDefinition::Defimpl, Some(implements)));
        }
        if indices.is_empty() {
            self.push(node, ScopeKind::Opaque);
        } else {
            self.push(node, ScopeKind::Module(indices));
        }
    }

    fn enter_directive(&mut self, node: Node<'_>, keyword: &str) {
        let arguments = syntax::call_arguments(node);
        let Some(&target_node) = arguments.first() else {
            return;
        };
        if keyword == "use" {
            // The walk enters `use`'s options (code for `__using__`), not its target; the other
            // directives are not walked at all.
            self.skip_subtree(target_node);
        }
        let kind = match keyword {
            "alias" => DirectiveKind::Alias,
            "import" => DirectiveKind::Import,
            "require" => DirectiveKind::Require,
            _ => DirectiveKind::Use,
        };
        let line = Self::line(node);
        let mut directives = Vec::new();
        // alias A.{B, C}: several directives from one call.
        let multi = (target_node.k() == Kind::Dot)
            .then(|| fields::right(target_node))
            .flatten()
            .filter(|right| right.k() == Kind::Tuple);
        if let Some(tuple) = multi {
            let base = target_node
                .field(Field::Left)
                .and_then(|left| self.resolve_module(left))
                .unwrap_or_default();
            let items: Vec<Node<'_>> = tuple.named_children().collect();
            for item in items.into_iter().filter(|n| n.k() == Kind::Alias) {
                let suffix = compact(&self.text(item));
                let target = format!("{base}.{suffix}");
                let short = suffix.rsplit('.').next().unwrap_or(&suffix).to_string();
                directives.push(self.directive(kind, target, line, Some(short), &arguments));
            }
        } else {
            let Some(target) = self.resolve_module(target_node) else {
                return;
            };
            let explicit_as = self
                .keyword_value(&arguments, "as")
                .map(|value| compact(&self.text(value)));
            let alias_as = match kind {
                DirectiveKind::Alias => explicit_as.or_else(|| {
                    (!target.starts_with(':'))
                        .then(|| target.rsplit('.').next().unwrap_or(&target).to_string())
                }),
                DirectiveKind::Require => explicit_as,
                _ => None,
            };
            directives.push(self.directive(kind, target, line, alias_as, &arguments));
        }
        for directive in &directives {
            if let Some(short) = &directive.alias_as {
                self.aliases.push((short.clone(), directive.target.clone()));
            }
            if directive.kind == DirectiveKind::Import {
                self.push_import(
                    &directive.target,
                    directive.only.as_ref(),
                    directive.except.as_ref(),
                );
            }
        }
        self.record_directives(directives, node);
    }

    fn directive(
        &self,
        kind: DirectiveKind,
        target: String,
        line: u32,
        alias_as: Option<String>,
        arguments: &[Node<'_>],
    ) -> Directive {
        let names = |key: &str| {
            self.keyword_value(arguments, key)
                .map(|value| self.function_list(value))
        };
        let (only, except) = if kind == DirectiveKind::Import {
            (names("only"), names("except"))
        } else {
            (None, None)
        };
        let options = (kind == DirectiveKind::Use && arguments.len() > 1).then(|| {
            let start = arguments[1].start_byte();
            let end = arguments[arguments.len() - 1].end_byte();
            compact_spaces(&String::from_utf8_lossy(&self.source[start..end]))
        });
        Directive {
            kind,
            target,
            line,
            alias_as,
            only,
            except,
            options,
        }
    }

    /// `[f: 1, g: 2]` → `["f/1", "g/2"]`; `:functions` stays as written.
    fn function_list(&self, value: Node<'_>) -> Vec<String> {
        if value.k() != Kind::List {
            return vec![compact(&self.text(value))];
        }
        let mut names = Vec::new();
        syntax::walk_preorder(value, |node| {
            if node.k() == Kind::Pair {
                if let (Some(key), Some(arity)) = (node.field(Field::Key), node.field(Field::Value))
                {
                    names.push(format!(
                        "{}/{}",
                        keyword_name(&self.text(key)),
                        compact(&self.text(arity))
                    ));
                }
                return false;
            }
            true
        });
        names
    }

    fn record_directives(&mut self, directives: Vec<Directive>, node: Node<'_>) {
        if self.in_quote() {
            let Some(index) = self.enclosing_module() else {
                return;
            };
            let origin = self.quote_origin();
            for directive in directives {
                let kind = match directive.kind {
                    DirectiveKind::Alias => InjectedKind::Alias,
                    DirectiveKind::Import => InjectedKind::Import,
                    DirectiveKind::Require => InjectedKind::Require,
                    DirectiveKind::Use => InjectedKind::Use,
                    DirectiveKind::Behaviour => InjectedKind::Behaviour,
                };
                self.modules[index].module.injected.push(Injected {
                    kind,
                    name: directive.target,
                    arity: None,
                    line: Self::line(node),
                    origin: origin.clone(),
                    options: directive.options,
                    alias_as: directive.alias_as.filter(|_| kind == InjectedKind::Alias),
                    only: directive.only,
                    except: directive.except,
                    metrics: None,
                });
            }
        } else if let Some(indices) = self.module_level().map(SmallVec::<[usize; 2]>::from_slice) {
            for index in indices {
                self.modules[index]
                    .module
                    .directives
                    .extend(directives.iter().cloned());
            }
        }
    }

    fn enter_defstruct(&mut self, node: Node<'_>, keyword: &str) {
        if self.in_quote() {
            return;
        }
        let Some(indices) = self.module_level().map(<[usize]>::to_vec) else {
            return;
        };
        let arguments = syntax::call_arguments(node);
        let mut fields = Vec::new();
        for argument in &arguments {
            match argument.k() {
                Kind::List | Kind::Keywords => {
                    let items: Vec<Node<'_>> = argument.named_children().collect();
                    for item in items {
                        match item.k() {
                            Kind::Atom => fields.push(atom_name(&self.text(item))),
                            Kind::Pair => {
                                if let Some(key) = item.field(Field::Key) {
                                    fields.push(keyword_name(&self.text(key)));
                                }
                            }
                            Kind::Keywords => {
                                let pairs: Vec<Node<'_>> = item.named_children().collect();
                                for pair in pairs {
                                    if let Some(key) = pair.field(Field::Key) {
                                        fields.push(keyword_name(&self.text(key)));
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        for index in indices {
            let builder = &mut self.modules[index];
            builder.module.struct_fields = Some(fields.clone());
            if keyword == "defexception" {
                builder.is_exception = true;
            }
        }
    }

    fn enter_definition(&mut self, node: Node<'_>, kind: FunctionKind) {
        let arguments = syntax::call_arguments(node);
        // `defdelegate [a(x), b(y)], to: M` (deprecated, still valid) defines each head.
        // One head, one module and one clause almost always: these lists stay inline.
        let heads: SmallVec<[Node<'_>; 1]> = match arguments.first() {
            Some(list) if kind == FunctionKind::Defdelegate && list.k() == Kind::List => list
                .named_children()
                .filter(|n| n.k() != Kind::Comment)
                .collect(),
            Some(&head) => smallvec::smallvec![head],
            None => SmallVec::new(),
        };
        let parsed: SmallVec<[(Node<'_>, Head<'_>); 1]> =
            heads.iter().map(|&h| (h, self.parse_head(h))).collect();
        if self.calls_enabled() {
            // A head `f(x)` is a pattern, not a call; its defaults and guard hold calls.
            for &head in &heads {
                if let Some(call) = head_call(head, self.source) {
                    self.skip_call(call);
                }
            }
        }
        let delegate_to = (kind == FunctionKind::Defdelegate)
            .then(|| self.keyword_value(&arguments, "to"))
            .flatten();
        if let Some(to) = delegate_to {
            self.skip_subtree(to);
        }
        let mut owner_clauses = SmallVec::new();
        let mut owner_dynamic = SmallVec::new();
        let origin = match parsed.first() {
            Some((_, Head::Named { name, arity, .. })) => format!("{name}/{arity}"),
            _ => String::new(),
        };
        if self.quote_level() {
            if let Some(index) = self.enclosing_module() {
                let origin_name = self.quote_origin();
                for (_, head) in &parsed {
                    if let Head::Named { name, arity, .. } = head {
                        self.modules[index].module.injected.push(Injected {
                            kind: injected_kind(kind),
                            name: name.clone(),
                            arity: Some(*arity),
                            line: Self::line(node),
                            origin: origin_name.clone(),
                            options: None,
                            alias_as: None,
                            only: None,
                            except: None,
                            metrics: None,
                        });
                        let injected = self.modules[index].module.injected.len() - 1;
                        self.metrics.claim(
                            node,
                            metrics::Target::Injected {
                                module: index,
                                index: injected,
                            },
                        );
                    }
                }
            }
        } else if let Some(indices) = self.module_level().map(<[usize]>::to_vec) {
            // At module level only: a `def` inside a function body is not a definition of the
            // module (the compiler rejects it), but a module nested in a body has its own.
            let has_body = syntax::do_block(node).is_some()
                || self.keyword_value(&arguments, "do").is_some()
                || kind == FunctionKind::Defdelegate;
            let delegates: SmallVec<[Option<Delegate>; 1]> = parsed
                .iter()
                .map(|(_, head)| {
                    (kind == FunctionKind::Defdelegate)
                        .then(|| self.delegate(&arguments, head))
                        .flatten()
                })
                .collect();
            for index in indices {
                let doc = self.modules[index].pending_doc.take();
                let impl_attribute = std::mem::take(&mut self.modules[index].pending_impl);
                for ((head_node, head), delegate) in parsed.iter().zip(&delegates) {
                    let clause_guard = match head {
                        Head::Named { guard, .. } => {
                            guard.map(|g| compact_spaces(&syntax::text(g, self.source)))
                        }
                        Head::Dynamic => None,
                    };
                    let builder = &mut self.modules[index];
                    match head {
                        Head::Named {
                            name,
                            arity,
                            defaults,
                            ..
                        } => {
                            let function = builder.add_clause(
                                kind,
                                name,
                                *arity,
                                *defaults,
                                Clause {
                                    id: String::new(),
                                    line: Self::line(node),
                                    end_line: Self::end_line(node),
                                    guard: clause_guard,
                                    head: !has_body,
                                    calls: Vec::new(),
                                    references: Vec::new(),
                                    metrics: None,
                                },
                                doc,
                                impl_attribute,
                                delegate.clone(),
                            );
                            let clause = builder.module.functions[function].clauses.len() - 1;
                            owner_clauses.push((index, function, clause));
                            if let (Some(to), Some(delegate)) = (delegate_to, delegate) {
                                if let Some(call) =
                                    self.delegate_call(to, &delegate.target_name, *arity)
                                {
                                    self.modules[index].module.functions[function].clauses[clause]
                                        .calls
                                        .push(call);
                                }
                            }
                        }
                        Head::Dynamic => {
                            let head_text = compact_spaces(&syntax::text(*head_node, self.source));
                            builder.module.dynamic_definitions.push(DynamicDefinition {
                                kind,
                                head: head_text.chars().take(120).collect(),
                                line: Self::line(node),
                                end_line: Self::end_line(node),
                                calls: Vec::new(),
                                references: Vec::new(),
                                metrics: None,
                            });
                            owner_dynamic
                                .push((index, builder.module.dynamic_definitions.len() - 1));
                        }
                    }
                }
            }
        }
        for &(module, function, clause) in &owner_clauses {
            let target = metrics::Target::Clause {
                module,
                function,
                clause,
            };
            self.metrics.claim(node, target);
        }
        for &(module, index) in &owner_dynamic {
            let target = metrics::Target::Dynamic { module, index };
            self.metrics.claim(node, target);
        }
        let owner = if !owner_clauses.is_empty() {
            calls::DefinitionCalls::Clauses(owner_clauses)
        } else if !owner_dynamic.is_empty() {
            calls::DefinitionCalls::Dynamic(owner_dynamic)
        } else {
            calls::DefinitionCalls::None
        };
        self.push(
            node,
            ScopeKind::Function {
                origin,
                owner,
                keyword: kind.keyword(),
            },
        );
    }

    fn delegate(&self, arguments: &[Node<'_>], head: &Head<'_>) -> Option<Delegate> {
        let to = self.keyword_value(arguments, "to")?;
        let to = self
            .resolve_module(to)
            .unwrap_or_else(|| compact(&self.text(to)));
        let target_name = match self.keyword_value(arguments, "as") {
            Some(value) => atom_name(&self.text(value)),
            None => match head {
                Head::Named { name, .. } => name.clone(),
                Head::Dynamic => String::new(),
            },
        };
        Some(Delegate { to, target_name })
    }

    /// The name, arity, defaults and guard of a definition head.
    fn parse_head<'t>(&self, head: Node<'t>) -> Head<'t> {
        let (head, guard) = match head.k() {
            Kind::BinaryOperator if self.operator(head).as_deref() == Some("when") => {
                (fields::left(head), fields::right(head))
            }
            _ => (Some(head), None),
        };
        let Some(mut head) = head else {
            return Head::Dynamic;
        };
        // `def (a &&& b), do: ...`: a parenthesised head.
        while head.k() == Kind::Block && head.named_child_count() == 1 {
            match head.named_child(0) {
                Some(inner) => head = inner,
                None => break,
            }
        }
        match head.k() {
            Kind::Call => {
                let Some(target) = fields::target(head) else {
                    return Head::Dynamic;
                };
                if target.k() != Kind::Identifier {
                    return Head::Dynamic;
                }
                let name = self.text(target);
                if matches!(name.as_ref(), "unquote" | "unquote_splicing") {
                    return Head::Dynamic;
                }
                let parameters = syntax::call_arguments(head);
                // `def f(unquote_splicing(args))`: the arity is computed.
                let spliced = parameters.iter().any(|p| {
                    p.k() == Kind::Call
                        && fields::target(*p).is_some_and(|t| self.text(t) == "unquote_splicing")
                });
                if spliced {
                    return Head::Dynamic;
                }
                let defaults = parameters
                    .iter()
                    .filter(|p| {
                        p.k() == Kind::BinaryOperator
                            && self.operator(**p).as_deref() == Some("\\\\")
                    })
                    .count();
                Head::Named {
                    name: name.into_owned(),
                    arity: count_u32(parameters.len()),
                    defaults: count_u32(defaults),
                    guard,
                }
            }
            Kind::Identifier => Head::Named {
                name: self.text(head).into_owned(),
                arity: 0,
                defaults: 0,
                guard,
            },
            Kind::BinaryOperator => match self.operator(head) {
                Some(op) if op != "\\\\" => Head::Named {
                    name: op,
                    arity: 2,
                    defaults: 0,
                    guard,
                },
                _ => Head::Dynamic,
            },
            Kind::UnaryOperator => match self.operator(head) {
                Some(op) if op != "@" && op != "&" => Head::Named {
                    name: op,
                    arity: 1,
                    defaults: 0,
                    guard,
                },
                _ => Head::Dynamic,
            },
            _ => Head::Dynamic,
        }
    }

    fn operator(&self, node: Node<'_>) -> Option<String> {
        fields::operator(node).map(|op| compact(&self.text(op)))
    }

    /// `@name value` and captures. Returns whether to walk the children: typespecs and
    /// `@behaviour` hold no calls and no module references of their own.
    fn enter_unary(&mut self, node: Node<'_>) -> bool {
        let Some(operator) = fields::operator(node) else {
            return true;
        };
        match &self.source[operator.byte_range()] {
            b"@" => {
                self.enter_attribute(node);
                let name = node
                    .field(Field::Operand)
                    .filter(|operand| operand.k() == Kind::Call)
                    .and_then(|operand| fields::target(operand))
                    .map(|target| self.text(target));
                !matches!(
                    name.as_deref(),
                    Some(
                        "spec"
                            | "type"
                            | "typep"
                            | "opaque"
                            | "callback"
                            | "macrocallback"
                            | "behaviour"
                    )
                )
            }
            b"&" => {
                self.enter_capture(node);
                true
            }
            _ => true,
        }
    }

    /// `@name value` at module level.
    fn enter_attribute(&mut self, node: Node<'_>) {
        let Some(operand) = fields::operand(node) else {
            return;
        };
        if operand.k() == Kind::Call {
            self.attribute_call = Some(operand.id());
        }
        if self.in_quote() {
            return;
        }
        let Some(indices) = self.module_level().map(<[usize]>::to_vec) else {
            return;
        };
        if operand.k() != Kind::Call {
            return; // `@name` alone reads the attribute.
        }
        let Some(target) = fields::target(operand) else {
            return;
        };
        if target.k() != Kind::Identifier {
            return;
        }
        let name = self.text(target).into_owned();
        self.attribute = Some((node.id(), name.clone()));
        let arguments = syntax::call_arguments(operand);
        let Some(&value) = arguments.first() else {
            return;
        };
        let line = Self::line(node);
        let is_false = value.k() == Kind::Boolean && self.text(value) == "false";
        let behaviour = (name == "behaviour")
            .then(|| self.resolve_module(value))
            .flatten();
        let signature = matches!(name.as_str(), "spec" | "callback" | "macrocallback")
            .then(|| self.signature(value))
            .flatten();
        let derives = if name == "derive" {
            self.derived(value)
        } else {
            Vec::new()
        };
        for index in indices {
            let builder = &mut self.modules[index];
            if !builder.module.attributes.iter().any(|a| a.name == name) {
                builder.module.attributes.push(Attribute {
                    name: name.clone(),
                    line,
                });
            }
            match name.as_str() {
                "moduledoc" => {
                    builder.module.moduledoc = if is_false {
                        DocState::False
                    } else {
                        DocState::Present
                    }
                }
                "doc" => {
                    builder.pending_doc = Some(if is_false {
                        DocState::False
                    } else {
                        DocState::Present
                    })
                }
                "impl" => builder.pending_impl = !is_false,
                "spec" => {
                    if let Some((spec_name, arity)) = &signature {
                        builder.specs.push((spec_name.clone(), *arity));
                    }
                }
                "callback" | "macrocallback" => {
                    if let Some((callback_name, arity)) = &signature {
                        builder.module.callbacks.push(Callback {
                            name: callback_name.clone(),
                            arity: *arity,
                            macro_callback: name == "macrocallback",
                            line,
                        });
                    }
                }
                "behaviour" => {
                    if let Some(target) = &behaviour {
                        builder.module.directives.push(Directive {
                            kind: DirectiveKind::Behaviour,
                            target: target.clone(),
                            line,
                            alias_as: None,
                            only: None,
                            except: None,
                            options: None,
                        });
                    }
                }
                "derive" => builder.module.derives.extend(derives.iter().cloned()),
                _ => {}
            }
        }
    }

    /// `name(args) :: type` (optionally `when ...`) → (name, arity).
    fn signature(&self, value: Node<'_>) -> Option<(String, u32)> {
        let mut node = value;
        if node.k() == Kind::BinaryOperator && self.operator(node).as_deref() == Some("when") {
            node = fields::left(node)?;
        }
        if node.k() != Kind::BinaryOperator || self.operator(node).as_deref() != Some("::") {
            return None;
        }
        match self.parse_head(fields::left(node)?) {
            Head::Named { name, arity, .. } => Some((name, arity)),
            Head::Dynamic => None,
        }
    }

    /// `@derive [A, {B, opts}]` → the protocols, resolved.
    fn derived(&self, value: Node<'_>) -> Vec<String> {
        let items: Vec<Node<'_>> = if value.k() == Kind::List {
            value.named_children().collect()
        } else {
            vec![value]
        };
        items
            .into_iter()
            .filter_map(|item| {
                let item = if item.k() == Kind::Tuple {
                    let first = item.named_children().next();
                    first?
                } else {
                    item
                };
                self.resolve_module(item)
            })
            .collect()
    }
}

enum Head<'t> {
    Named {
        name: String,
        arity: u32,
        defaults: u32,
        guard: Option<Node<'t>>,
    },
    Dynamic,
}

/// Whether a definition's text can hold a fact of its module: a nested module, a quote (whose
/// definitions and directives are injected), or a `Registry.start_link`/`child_spec` call (kind
/// registry). When only the facts are wanted, a definition without any of these is not walked
/// past its head: that is most of a file's nodes. `tests/facts.rs` checks that the facts are
/// the same either way on every fixture.
fn may_define(text: &[u8]) -> bool {
    const NEEDLES: [&[u8]; 6] = [
        b"defmodule",
        b"defprotocol",
        b"defimpl",
        b"quote",
        b"start_link",
        b"child_spec",
    ];
    NEEDLES
        .iter()
        .any(|needle| memchr::memmem::find(text, needle).is_some())
}

fn injected_kind(kind: FunctionKind) -> InjectedKind {
    match kind {
        FunctionKind::Def => InjectedKind::Def,
        FunctionKind::Defp => InjectedKind::Defp,
        FunctionKind::Defmacro => InjectedKind::Defmacro,
        FunctionKind::Defmacrop => InjectedKind::Defmacrop,
        FunctionKind::Defguard => InjectedKind::Defguard,
        FunctionKind::Defguardp => InjectedKind::Defguardp,
        FunctionKind::Defdelegate => InjectedKind::Defdelegate,
    }
}

/// The `call` node of a definition head (`f(x)` in `def f(x) when g(x)`), if it is one.
fn head_call<'t>(head: Node<'t>, source: &[u8]) -> Option<Node<'t>> {
    let mut node = head;
    loop {
        match node.k() {
            Kind::BinaryOperator
                if node
                    .field(Field::Operator)
                    .is_some_and(|op| &source[op.byte_range()] == b"when") =>
            {
                node = fields::left(node)?;
            }
            Kind::Block if node.named_child_count() == 1 => node = node.named_child(0)?,
            Kind::Call => return Some(node),
            _ => return None,
        }
    }
}

fn count_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// [`compact_borrowed`], as an owned string.
pub(crate) fn compact(text: &str) -> String {
    compact_borrowed(text).into_owned()
}

/// Removes all whitespace: `Foo . Bar` and `Foo.Bar` name the same module. Borrows when there
/// is none, as in nearly every alias (asked for every remote call's receiver).
fn compact_borrowed(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(char::is_whitespace) {
        std::borrow::Cow::Owned(text.chars().filter(|c| !c.is_whitespace()).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Collapses runs of whitespace (including CRLF) to one space.
pub(crate) fn compact_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `only: ` → `only`; `"quoted key": ` → `quoted key`.
fn keyword_name(text: &str) -> String {
    let trimmed = text.trim_end();
    let trimmed = trimmed.strip_suffix(':').unwrap_or(trimmed);
    trimmed.trim_matches('"').to_string()
}

/// `:name` → `name`.
fn atom_name(text: &str) -> String {
    let trimmed = text.trim();
    let trimmed = trimmed.strip_prefix(':').unwrap_or(trimmed);
    trimmed.trim_matches('"').to_string()
}

#[cfg(test)]
mod deadline_tests {
    use std::time::Duration;

    use crate::otp::cancel::{CancelToken, Deadline, Expired};
    use crate::syntax::{self, ParseInput, ParseOutcome};

    fn tree(source: &str) -> syntax::Tree {
        match syntax::parse(
            ParseInput::Bytes(source.as_bytes()),
            &syntax::within(Duration::from_secs(30)),
        ) {
            ParseOutcome::Parsed(tree) => tree,
            ParseOutcome::TimedOut => panic!("timed out"),
        }
    }

    /// The walk looks at its deadline every `NODES_PER_DEADLINE_CHECK` nodes: an expired
    /// deadline or a cancelled run ends the extraction with nothing, a small file that never
    /// reaches the first check is not affected.
    #[test]
    fn the_walk_stops_at_an_expired_deadline() {
        let mut source = String::from("defmodule M do\n");
        for i in 0..100 {
            source.push_str(&format!("  def f{i}(x), do: g(x, {i})\n"));
        }
        source.push_str("end\n");
        let big = tree(&source);
        let past = Deadline::after(Duration::ZERO, CancelToken::new());
        let facts = super::facts_observed(&big, source.as_bytes(), true, true, None, &past);
        assert_eq!(facts.err(), Some(Expired));
        let token = CancelToken::new();
        token.cancel();
        let cancelled = Deadline::never(token);
        let facts = super::facts_observed(&big, source.as_bytes(), true, true, None, &cancelled);
        assert_eq!(facts.err(), Some(Expired));
        let open = Deadline::never(CancelToken::new());
        let facts = super::facts_observed(&big, source.as_bytes(), true, true, None, &open);
        assert_eq!(facts.expect("no deadline").modules[0].functions.len(), 100);
        let small = "defmodule S do\nend\n";
        let facts = super::facts_observed(&tree(small), small.as_bytes(), true, true, None, &past);
        assert!(facts.is_ok(), "fewer nodes than one check interval");
    }
}
