//! Complexity metrics equal to Credo's (issue [3b]): cyclomatic and perceived complexity, nesting
//! depth, ABC size and arity of every `def`, `defp` and `defmacro` clause, computed in the
//! extractor's single walk of the tree.
//!
//! Credo measures Elixir's quoted AST; this file maps each of its rules onto tree-sitter-elixir's
//! nodes (`../shared/CREDO_CHECKS.md` §0–5 is the definition, `docs/metrics.md` the mapping and
//! the places where we deliberately differ). The walk calls [`MetricsCollector::enter`] and
//! [`MetricsCollector::leave`] for every node; each open definition clause (clauses nest: a
//! `def` inside a `quote` inside a `defmacro` is measured on its own and also counts for its
//! host) keeps an explicit stack of frames, one per node, that says how the AST walk Credo does
//! would treat the node's children. Nothing here recurses on the input's depth.

use std::collections::HashSet;

use crate::syntax::Node;

use crate::model::{
    AbcSize, ClauseMetrics, ComplexityBand, FunctionMetrics, ModuleMetrics, ProjectMetrics,
};
use crate::model::{FunctionKind, Module};
use crate::syntax::kinds::{kind, operator, Field, Fields, Kind, Op};
use crate::syntax::{statements, Positions};

/// What every rule asks of the node being entered, looked up once.
#[derive(Clone, Copy)]
struct Facts<'s> {
    kind: Kind,
    /// The name of a call with an identifier callee (`foo(…)`, `if …`, `def …`).
    callee: Option<&'s [u8]>,
    /// The operator of a `binary_operator` or `unary_operator`.
    op: Op,
}

impl<'s> Facts<'s> {
    fn of(node: Node<'_>, kind: Kind, source: &'s [u8]) -> Facts<'s> {
        let mut facts = Facts {
            kind,
            callee: None,
            op: Op::Other,
        };
        match kind {
            Kind::Call => {
                facts.callee = node
                    .field(Field::Target)
                    .filter(|target| self::kind(*target) == Kind::Identifier)
                    .map(|target| &source[target.byte_range()]);
            }
            Kind::BinaryOperator | Kind::UnaryOperator => facts.op = operator(node),
            _ => {}
        }
        facts
    }
}

// ---------------------------------------------------------------------------------------------
// The report's metrics objects.

/// Inclusive lower bounds of the complexity bands.
const BANDS: [u32; 5] = [1, 6, 10, 20, 50];

/// Where a def node's metrics go, told by the extractor when it records the definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Clause {
        module: usize,
        function: usize,
        clause: usize,
    },
    Injected {
        module: usize,
        index: usize,
    },
    Dynamic {
        module: usize,
        index: usize,
    },
}

/// Receives the walk's events and measures every def node.
pub(crate) struct MetricsCollector<'s> {
    source: &'s [u8],
    /// Def nodes being walked, innermost last.
    open: Vec<Measurement<'s>>,
    done: Vec<Finished>,
    /// `import Ecto.Query` anywhere in the file puts `where`, `from`, `select` and `join` among
    /// ABC's excluded functions (§4) — known only at the end of the file, so both variants are
    /// counted where they differ.
    imports_ecto_query: bool,
    scratch: Scratch,
    /// The frame and override stacks of finished measurements, for the next ones: a file
    /// measures every clause, and each stack grows to the clause's depth.
    spare: Vec<Stacks>,
    /// Off with `--no-metrics`: the collector sees nothing and measures nothing.
    enabled: bool,
}

/// A measurement's frame and override stacks.
type Stacks = (Vec<Frame>, Vec<(usize, Roles)>);

impl<'s> MetricsCollector<'s> {
    pub(crate) fn new(source: &'s [u8], enabled: bool) -> Self {
        MetricsCollector {
            enabled,
            source,
            open: Vec::new(),
            done: Vec::new(),
            imports_ecto_query: false,
            scratch: Scratch::default(),
            spare: Vec::new(),
        }
    }

    /// Called for every node the walk enters, before its children.
    /// Called for every named node the walk enters (tokens such as `do`, `(` and operators are
    /// parts of their parent's AST node, never nodes).
    pub(crate) fn enter(&mut self, node: Node<'_>, kind: Kind) {
        if !self.enabled {
            return;
        }
        let facts = Facts::of(node, kind, self.source);
        let unit = match facts.callee {
            Some(b"def") => Some(NestOp::Def),
            Some(b"defp") => Some(NestOp::Defp),
            Some(b"defmacro") => Some(NestOp::Defmacro),
            Some(b"import") if !self.imports_ecto_query => {
                self.imports_ecto_query = imports_ecto_query(node, self.source);
                None
            }
            _ => None,
        };
        if self.open.is_empty() && unit.is_none() {
            return;
        }
        for measurement in &mut self.open {
            measurement.enter(node, &facts, self.source, &mut self.scratch);
        }
        if let Some(op) = unit {
            let stacks = self.spare.pop().unwrap_or_default();
            self.open
                .push(Measurement::start(node, op, self.source, stacks));
        }
        let (cyclomatic, perceived) = complexity_of(node, &facts, self.source);
        if cyclomatic > 0 {
            for measurement in &mut self.open {
                measurement.cyclomatic += cyclomatic;
                measurement.perceived += perceived;
            }
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Whether a definition is being measured: its nodes must all be walked.
    pub(crate) fn measuring(&self) -> bool {
        !self.open.is_empty()
    }

    /// Called for every node the walk entered, after its children.
    pub(crate) fn leave(&mut self, node: Node<'_>) {
        if self.open.is_empty() {
            return;
        }
        let id = node.id();
        for measurement in &mut self.open {
            measurement.leave(id);
        }
        if self.open.last().is_some_and(|m| m.def_node == id) {
            let mut measurement = self.open.pop().expect("checked above");
            let (mut frames, mut overrides) = (
                std::mem::take(&mut measurement.frames),
                std::mem::take(&mut measurement.overrides),
            );
            frames.clear();
            overrides.clear();
            self.spare.push((frames, overrides));
            // Def nodes the facts do not list (inside a body, in an opaque module) only count
            // for their hosts.
            if !measurement.targets.is_empty() {
                self.done.push(measurement.finish());
            }
        }
    }

    /// The extractor recorded the def node `node` as `target`.
    pub(crate) fn claim(&mut self, node: Node<'_>, target: Target) {
        if let Some(measurement) = self.open.last_mut().filter(|m| m.def_node == node.id()) {
            measurement.targets.push(target);
        }
    }

    /// The metrics of every claimed def node; `None` when the collector is disabled.
    pub(crate) fn finish(self) -> Option<Vec<(Target, ClauseMetrics)>> {
        if !self.enabled {
            return None;
        }
        let ecto = self.imports_ecto_query;
        let mut out = Vec::new();
        for finished in self.done {
            let metrics = finished.metrics(ecto);
            for target in finished.targets.iter().copied() {
                out.push((target, metrics.clone()));
            }
        }
        Some(out)
    }
}

/// `import Ecto.Query` (the alias exactly, options allowed).
fn imports_ecto_query(call: Node<'_>, source: &[u8]) -> bool {
    let Some(arguments) = child_of_kind(call, Kind::Arguments) else {
        return false;
    };
    let Some(first) = statements(arguments).next() else {
        return false;
    };
    let text: Vec<u8> = source[first.byte_range()]
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    matches!(kind(first), Kind::Alias | Kind::Dot) && text == b"Ecto.Query"
}

/// What a node adds to cyclomatic and perceived complexity (§1, §2): 1 for `def`, `defp`,
/// `defmacro`, `if`, `unless`, `for`, `try`, `and`, `or`, `&&`, `||`; the clauses of `case`
/// (0.3 each for perceived) and `cond`.
fn complexity_of(node: Node<'_>, facts: &Facts<'_>, source: &[u8]) -> (u32, f64) {
    match facts.kind {
        Kind::Call => match facts.callee.unwrap_or_default() {
            b"def" | b"defp" | b"defmacro" | b"if" | b"unless" | b"for" | b"try" => (1, 1.0),
            b"case" => {
                let clauses = do_clause_count(node, source);
                (clauses, f64::from(clauses) * 0.3)
            }
            b"cond" => {
                let clauses = do_clause_count(node, source);
                (clauses, f64::from(clauses))
            }
            _ => (0, 0.0),
        },
        Kind::BinaryOperator => match facts.op {
            Op::And | Op::Or | Op::AndAnd | Op::OrOr => (1, 1.0),
            _ => (0, 0.0),
        },
        _ => (0, 0.0),
    }
}

/// `List.wrap(do_block) |> Enum.count()` for a `case`/`cond`: the clauses of the first
/// keyword list argument with a `:do` key.
fn do_clause_count(call: Node<'_>, source: &[u8]) -> u32 {
    if let Some(arguments) = child_of_kind(call, Kind::Arguments) {
        for argument in statements(arguments) {
            if let Some(pair) = keyword_container(argument)
                .and_then(|keywords| first_pair(keywords, KEY_DO, source))
            {
                return pair
                    .field(Field::Value)
                    .map_or(0, |value| wrapped_count(value));
            }
        }
    }
    let Some(do_block) = child_of_kind(call, Kind::DoBlock) else {
        return 0;
    };
    match section(do_block) {
        // `do end` is `{:__block__, [], []}`: one element.
        Section::Empty | Section::Many => 1,
        Section::Stabs(clauses) => clauses,
        Section::One(statement) => wrapped_count(statement),
    }
}

/// `List.wrap(value) |> Enum.count()`.
fn wrapped_count(value: Node<'_>) -> u32 {
    match kind(value) {
        Kind::Nil => 0,
        Kind::List => list_elements(value),
        Kind::Block => match section(value) {
            Section::Stabs(clauses) => clauses,
            Section::One(inner) => wrapped_count(inner),
            Section::Empty | Section::Many => 1,
        },
        _ => 1,
    }
}

// ---------------------------------------------------------------------------------------------
// One clause being measured.

/// Nesting operators and definition kinds, in Credo's tie-break order (the trigger atoms in
/// alphabetical order: `case < cond < def < defmacro < defp < fn < for < if < unless < with`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum NestOp {
    Case,
    Cond,
    Def,
    Defmacro,
    Defp,
    Fn,
    For,
    If,
    Unless,
    With,
}

/// The nesting operators above a node: how many, and the innermost one's line and name.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    depth: u32,
    line: u32,
    op: NestOp,
}

impl Ctx {
    fn deeper(self, node: Node<'_>, op: NestOp) -> Ctx {
        Ctx {
            depth: self.depth + 1,
            line: Positions::line(node.start_position()),
            op,
        }
    }
}

type KeyMask = u8;
const KEY_DO: KeyMask = 1;
const KEY_ELSE: KeyMask = 2;
const KEY_RESCUE: KeyMask = 4;
const KEY_AFTER: KeyMask = 8;
const KEY_CATCH: KeyMask = 16;
/// Any other key.
const KEY_OTHER: KeyMask = 32;

/// How Credo's nesting search (§3) treats a node, decided by its parent: an instruction that
/// the node interprets with its own kind.
#[derive(Debug, Clone, Copy)]
enum Nest {
    /// Not searched.
    Hidden,
    /// An AST element: a leaf counts, a call descends into its arguments, a list shows only its
    /// `do`-like blocks.
    Element(Ctx),
    /// The whole value of a found block: a list shows its elements, `nil` nothing.
    Value(Ctx),
    /// A list-like node whose first pair of each key in the mask shows its value.
    Keys(Ctx, KeyMask),
    /// A visible keyword pair: its value is a block value.
    Pair(Ctx),
    /// A child of a visible pair: the key is no node, the value a block value.
    PairChild(Ctx),
    /// An `else`/`rescue`/`after` section whose statements are a block value.
    Section(Ctx),
    /// A child of a call: `arguments` spread, `do_block` is a keyword list, the callee hidden.
    CallChild(Ctx),
    /// A child of `->`: the patterns are a list, the body's statements are elements.
    StabChild(Ctx),
    /// An element of a list that is a block value: its keyword pairs are 2-tuples (leaves).
    ValueItem(Ctx),
    /// A child of a map: the struct name is an element, the content holds 2-tuples.
    MapChild(Ctx),
    /// A child of `map_content`.
    MapEntry(Ctx),
    /// A child of a string, atom or sigil: interpolations are searched.
    Interpolated(Ctx),
}

/// How Credo's ABC walk (§4) treats a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Abc {
    /// An AST node: apply the rules, walk the children.
    Walk,
    /// Not walked (outside the `do` section, or in a skipped subtree).
    Skip,
    /// Walked without a rule of its own (the container of the `do` value, `..` of `..//`).
    Free,
    /// A child of a call: the callee's name is no node.
    CallChild,
    /// The def's keyword list that holds its `do` value.
    RouteDo,
}

#[derive(Debug, Clone, Copy)]
struct Roles {
    nest: Nest,
    abc: Abc,
    /// The ABC role in the `import Ecto.Query` variant.
    abc_ecto: Abc,
}

impl Roles {
    fn is_dead(&self) -> bool {
        matches!(self.nest, Nest::Hidden) && self.abc == Abc::Skip && self.abc_ecto == Abc::Skip
    }
}

struct Frame {
    node: usize,
    /// Roles of the children without an override.
    children: Roles,
    /// Start of this node's child overrides in `Measurement::overrides`.
    overrides: usize,
}

/// Per-node buffers, reused.
#[derive(Default)]
struct Scratch {
    nest: Vec<(usize, Nest)>,
    abc: Vec<(usize, Abc)>,
    abc_ecto: Vec<(usize, Abc)>,
}

/// Variable names: foldhash, as std's SipHash costs more than the rest of a lookup.
type Names<'s> = HashSet<&'s [u8], foldhash::fast::RandomState>;

#[derive(Clone)]
struct AbcCounter<'s> {
    a: u32,
    b: u32,
    c: u32,
    /// Variables known so far: never removed or scoped (§4).
    known: Names<'s>,
}

impl AbcCounter<'_> {
    fn size(&self) -> u32 {
        let (a, b, c) = (f64::from(self.a), f64::from(self.b), f64::from(self.c));
        (a * a + b * b + c * c).sqrt().round() as u32
    }
}

struct Measurement<'s> {
    def_node: usize,
    line: u32,
    end_line: u32,
    arity: u32,
    /// `defmacro __using__(opts)` with a head and a body: not scored by §1, §2, §4.
    unscored: bool,
    targets: Vec<Target>,
    cyclomatic: u32,
    /// Summed in pre-order, as Credo does (the order decides the f64 rounding).
    perceived: f64,
    /// (depth, line, operator) of the deepest visible code.
    deepest: Option<(u32, u32, NestOp)>,
    abc: AbcCounter<'s>,
    /// Forked from `abc` at the first `where`/`from`/`select`/`join` call.
    abc_ecto: Option<AbcCounter<'s>>,
    frames: Vec<Frame>,
    overrides: Vec<(usize, Roles)>,
    /// Roles the def node gives to grandchildren (its keyword lists inside `arguments`).
    deep: Vec<(usize, Roles)>,
    /// The root of a subtree that neither nesting nor ABC searches (a head, a string's
    /// contents), while the walk is inside it.
    dead: Option<usize>,
}

struct Finished {
    targets: Vec<Target>,
    line: u32,
    lines: u32,
    arity: u32,
    unscored: bool,
    cyclomatic: u32,
    perceived: f64,
    deepest: Option<(u32, u32, NestOp)>,
    abc: (u32, u32, u32, u32),
    abc_ecto: Option<(u32, u32, u32, u32)>,
}

impl Finished {
    fn metrics(&self, imports_ecto_query: bool) -> ClauseMetrics {
        let (a, b, c, size) = match (imports_ecto_query, self.abc_ecto) {
            (true, Some(ecto)) => ecto,
            _ => self.abc,
        };
        let (nesting, nesting_line) = self
            .deepest
            .map_or((0, self.line), |(depth, line, _)| (depth, line));
        let scored = !self.unscored;
        ClauseMetrics {
            cyclomatic: scored.then_some(self.cyclomatic),
            perceived: scored.then_some(self.perceived.round() as u32),
            nesting,
            nesting_line,
            abc: scored.then_some(AbcSize { a, b, c, size }),
            arity: self.arity,
            lines: self.lines,
        }
    }
}

impl<'s> Measurement<'s> {
    /// Starts measuring the def node `node`: sets up which of its parts each walk searches.
    fn start(
        node: Node<'_>,
        op: NestOp,
        source: &'s [u8],
        (mut frames, overrides): Stacks,
    ) -> Measurement<'s> {
        let line = Positions::line(node.start_position());
        let end_line = Positions::line(node.end_position());
        // Credo's search of the def's own keyword lists: for each key, the first list that has
        // it (§3 rule 1: do, else, rescue, after; §4: only do). Keyword lists come in argument
        // order, and a `do … end` block is appended as the last argument.
        let mut containers: Vec<(Node<'_>, KeyMask)> = Vec::new();
        let mut head = None;
        let mut ast_arguments = 0;
        for child in statements(node) {
            match kind(child) {
                Kind::Arguments => {
                    for argument in statements(child) {
                        ast_arguments += 1;
                        if head.is_none() {
                            head = Some(argument);
                        } else if let Some(keywords) = keyword_container(argument) {
                            containers.push((argument, pair_keys(keywords, source)));
                        }
                    }
                }
                Kind::DoBlock => {
                    ast_arguments += 1;
                    containers.push((child, do_block_keys(child)));
                }
                _ => {}
            }
        }
        let unscored = op == NestOp::Defmacro
            && ast_arguments == 2
            && head.is_some_and(|h| names_using(h, source));
        let mut known = Names::default();
        if let Some(head) = head {
            head_variables(head, source, &mut known);
        }
        let root = Ctx { depth: 0, line, op };
        let mut deep = Vec::new();
        let mut taken: KeyMask = 0;
        let mut do_found = false;
        for (container, keys) in containers {
            let mask = keys & !taken & (KEY_DO | KEY_ELSE | KEY_RESCUE | KEY_AFTER);
            taken |= keys;
            let abc = if !do_found && keys & KEY_DO != 0 {
                do_found = true;
                Abc::RouteDo
            } else {
                Abc::Skip
            };
            deep.push((
                container.id(),
                Roles {
                    nest: Nest::Keys(root, mask),
                    abc,
                    abc_ecto: abc,
                },
            ));
        }
        Measurement {
            def_node: node.id(),
            line,
            end_line,
            arity: head.map_or(0, head_arity),
            unscored,
            targets: Vec::new(),
            cyclomatic: 0,
            perceived: 0.0,
            deepest: None,
            abc: AbcCounter {
                a: 0,
                b: 0,
                c: 0,
                known,
            },
            abc_ecto: None,
            frames: {
                frames.push(Frame {
                    node: node.id(),
                    children: Roles {
                        nest: Nest::Hidden,
                        abc: Abc::Skip,
                        abc_ecto: Abc::Skip,
                    },
                    overrides: 0,
                });
                frames
            },
            overrides,
            deep,
            dead: None,
        }
    }

    fn finish(self) -> Finished {
        let abc = (self.abc.a, self.abc.b, self.abc.c, self.abc.size());
        Finished {
            targets: self.targets,
            line: self.line,
            lines: self.end_line.saturating_sub(self.line) + 1,
            arity: self.arity,
            unscored: self.unscored,
            cyclomatic: self.cyclomatic,
            perceived: self.perceived,
            deepest: self.deepest,
            abc,
            abc_ecto: self.abc_ecto.as_ref().map(|e| (e.a, e.b, e.c, e.size())),
        }
    }

    fn roles_for(&mut self, id: usize) -> Roles {
        if let Some(position) = self.deep.iter().position(|(node, _)| *node == id) {
            return self.deep.swap_remove(position).1;
        }
        let frame = self
            .frames
            .last()
            .expect("the def node's frame is the first");
        self.overrides[frame.overrides..]
            .iter()
            .find(|(node, _)| *node == id)
            .map_or(frame.children, |(_, roles)| *roles)
    }

    fn enter(
        &mut self,
        node: Node<'_>,
        facts: &Facts<'_>,
        source: &'s [u8],
        scratch: &mut Scratch,
    ) {
        if self.dead.is_some() {
            return;
        }
        let roles = self.roles_for(node.id());
        // The def's `arguments` hold the keyword lists of `deep`: never dead.
        if roles.is_dead() && (self.deep.is_empty() || facts.kind != Kind::Arguments) {
            // Neither search sees anything below: no frames until the walk leaves it.
            self.dead = Some(node.id());
            return;
        }
        scratch.nest.clear();
        scratch.abc.clear();
        scratch.abc_ecto.clear();

        let nest = self.nest(node, facts, roles.nest, source, &mut scratch.nest);

        if self.abc_ecto.is_none() && roles.abc == Abc::Walk && ecto_excluded(facts) {
            // From here on the two variants differ.
            self.abc_ecto = Some(self.abc.clone());
        }
        let abc = abc_enter(
            &mut self.abc,
            node,
            facts,
            roles.abc,
            false,
            source,
            &mut scratch.abc,
        );
        let abc_ecto = match &mut self.abc_ecto {
            Some(counter) => abc_enter(
                counter,
                node,
                facts,
                roles.abc_ecto,
                true,
                source,
                &mut scratch.abc_ecto,
            ),
            None => {
                scratch.abc_ecto.extend_from_slice(&scratch.abc);
                abc
            }
        };

        let children = Roles {
            nest,
            abc,
            abc_ecto,
        };
        let start = self.overrides.len();
        let slot = |overrides: &mut Vec<(usize, Roles)>, id: usize| -> usize {
            match overrides[start..].iter().position(|(node, _)| *node == id) {
                Some(position) => start + position,
                None => {
                    overrides.push((id, children));
                    overrides.len() - 1
                }
            }
        };
        for &(id, role) in &scratch.nest {
            let index = slot(&mut self.overrides, id);
            self.overrides[index].1.nest = role;
        }
        for &(id, role) in &scratch.abc {
            let index = slot(&mut self.overrides, id);
            self.overrides[index].1.abc = role;
        }
        for &(id, role) in &scratch.abc_ecto {
            let index = slot(&mut self.overrides, id);
            self.overrides[index].1.abc_ecto = role;
        }
        self.frames.push(Frame {
            node: node.id(),
            children,
            overrides: start,
        });
    }

    fn leave(&mut self, id: usize) {
        if let Some(dead) = self.dead {
            if dead == id {
                self.dead = None;
            }
            return;
        }
        if self.frames.last().is_some_and(|frame| frame.node == id) {
            let frame = self.frames.pop().expect("checked above");
            self.overrides.truncate(frame.overrides);
        }
    }

    fn visible(&mut self, ctx: Ctx) {
        let candidate = (ctx.depth, ctx.line, ctx.op);
        if self.deepest.is_none_or(|best| candidate > best) {
            self.deepest = Some(candidate);
        }
    }

    /// Credo's `find_depth` (§3) for one node: records visible code, returns the children's
    /// default role and pushes per-child overrides.
    fn nest(
        &mut self,
        node: Node<'_>,
        facts: &Facts<'_>,
        role: Nest,
        source: &[u8],
        overrides: &mut Vec<(usize, Nest)>,
    ) -> Nest {
        if facts.kind == Kind::Comment {
            return Nest::Hidden;
        }
        match role {
            Nest::Hidden => Nest::Hidden,
            Nest::Element(ctx) => self.element(node, facts, ctx, source, overrides),
            Nest::Value(ctx) => self.value(node, facts, ctx, source, overrides),
            Nest::Keys(ctx, mask) => keys(node, ctx, mask, source, overrides),
            Nest::Pair(ctx) => Nest::PairChild(ctx),
            Nest::PairChild(ctx) => match facts.kind {
                Kind::Keyword | Kind::QuotedKeyword => Nest::Hidden,
                _ => self.value(node, facts, ctx, source, overrides),
            },
            Nest::Section(ctx) => section_role(section(node), ctx),
            Nest::CallChild(ctx) => match facts.kind {
                Kind::Arguments => Nest::Element(ctx),
                Kind::DoBlock => list_rule(node, ctx, source, overrides),
                // The callee: an atom, or the `{:., _, _}` head of a remote call.
                _ => Nest::Hidden,
            },
            Nest::StabChild(ctx) => match facts.kind {
                Kind::Arguments => list_rule(node, ctx, source, overrides),
                Kind::Body => Nest::Element(ctx),
                // `[{:when, _, [patterns..., guard]}]`: a list without keyword lists.
                _ => Nest::Hidden,
            },
            Nest::ValueItem(ctx) => match facts.kind {
                Kind::Keywords => {
                    // Pairs are 2-tuples: leaves.
                    if statements(node).next().is_some() {
                        self.visible(ctx);
                    }
                    Nest::Hidden
                }
                _ => self.element(node, facts, ctx, source, overrides),
            },
            Nest::MapChild(ctx) => match facts.kind {
                Kind::Struct => Nest::Element(ctx),
                Kind::MapContent => Nest::MapEntry(ctx),
                _ => Nest::Hidden,
            },
            Nest::MapEntry(ctx) => match facts.kind {
                Kind::Keywords => {
                    if statements(node).next().is_some() {
                        self.visible(ctx);
                    }
                    Nest::Hidden
                }
                Kind::BinaryOperator if facts.op == Op::Bar => {
                    // `%{m | k => v}`: the updates are a list of 2-tuples, which shows nothing.
                    if let Some(right) = node
                        .field(Field::Right)
                        .filter(|r| kind(*r) != Kind::Keywords)
                    {
                        overrides.push((right.id(), Nest::Hidden));
                    }
                    Nest::Element(ctx)
                }
                _ => self.element(node, facts, ctx, source, overrides),
            },
            Nest::Interpolated(ctx) => match facts.kind {
                Kind::Interpolation => Nest::Element(ctx),
                _ => Nest::Hidden,
            },
        }
    }

    /// `find_depth(node)`: leaves count at the current depth; 3-tuples with a list of
    /// arguments descend into them; lists go through [`list_rule`].
    fn element(
        &mut self,
        node: Node<'_>,
        facts: &Facts<'_>,
        ctx: Ctx,
        source: &[u8],
        overrides: &mut Vec<(usize, Nest)>,
    ) -> Nest {
        match facts.kind {
            Kind::Identifier
            | Kind::Alias
            | Kind::Integer
            | Kind::Float
            | Kind::Char
            | Kind::Atom
            | Kind::Boolean
            | Kind::Nil
            | Kind::OperatorIdentifier
            // `x.Sub` and `__MODULE__.Sub` are aliases; `Mod.{A, B}` has aliases as arguments.
            | Kind::Dot => {
                self.visible(ctx);
                Nest::Hidden
            }
            // A binary, or `<<>>` whose parts (strings, `::` with a `binary` variable) are
            // leaves; the same inside a sigil or an interpolated atom.
            Kind::String | Kind::QuotedAtom | Kind::Sigil => {
                self.visible(ctx);
                Nest::Interpolated(ctx)
            }
            // A charlist is a list of integers (a list shows nothing here); with interpolation
            // it is `List.to_charlist([...])`, a call whose only argument is such a list.
            Kind::Charlist => Nest::Hidden,
            Kind::Tuple => {
                if element_count(node) == 2 {
                    // A bare 2-tuple: a leaf that hides what it holds.
                    self.visible(ctx);
                    Nest::Hidden
                } else {
                    Nest::Element(ctx)
                }
            }
            Kind::Map => Nest::MapChild(ctx),
            Kind::List | Kind::Keywords | Kind::DoBlock | Kind::Arguments => {
                list_rule(node, ctx, source, overrides)
            }
            Kind::BinaryOperator if facts.op == Op::Arrow => {
                self.visible(ctx);
                Nest::Hidden
            }
            Kind::Bitstring | Kind::AccessCall | Kind::UnaryOperator | Kind::BinaryOperator | Kind::Body => {
                Nest::Element(ctx)
            }
            Kind::Block => match section(node) {
                // A list of `->` clauses shows nothing as an element.
                Section::Stabs(_) | Section::Empty => Nest::Hidden,
                Section::One(_) | Section::Many => Nest::Element(ctx),
            },
            Kind::Call => {
                let ctx = match nest_op(facts.callee) {
                    Some(op) => ctx.deeper(node, op),
                    None => ctx,
                };
                Nest::CallChild(ctx)
            }
            Kind::AnonymousFunction => Nest::Element(ctx.deeper(node, NestOp::Fn)),
            Kind::StabClause => {
                // `x -> end`: the body is `nil`, a leaf.
                let empty = node
                    .field(Field::Right)
                    .is_none_or(|body| statements(body).next().is_none());
                if empty {
                    self.visible(ctx);
                }
                Nest::StabChild(ctx)
            }
            _ => Nest::Hidden,
        }
    }

    /// The whole value of a found block: `List.wrap(value)`, each element searched.
    fn value(
        &mut self,
        node: Node<'_>,
        facts: &Facts<'_>,
        ctx: Ctx,
        source: &[u8],
        overrides: &mut Vec<(usize, Nest)>,
    ) -> Nest {
        match facts.kind {
            Kind::List => Nest::ValueItem(ctx),
            Kind::Charlist => {
                // A list of integers: each is a leaf.
                if !has_interpolation(node) && statements(node).next().is_some() {
                    self.visible(ctx);
                }
                Nest::Hidden
            }
            Kind::Nil => Nest::Hidden,
            Kind::Block => match section(node) {
                Section::Empty => Nest::Hidden,
                Section::Stabs(_) | Section::Many => Nest::Element(ctx),
                Section::One(_) => Nest::Value(ctx),
            },
            _ => self.element(node, facts, ctx, source, overrides),
        }
    }
}

/// A list in element position: `all_blocks_for!(list)` shows only the `do`, `else`, `rescue`
/// and `after` values of a few exact shapes (§3 rule 2), or of an element that is itself a
/// keyword list.
fn list_rule(node: Node<'_>, ctx: Ctx, source: &[u8], overrides: &mut Vec<(usize, Nest)>) -> Nest {
    match kind(node) {
        Kind::Keywords => keys(node, ctx, exact_shape(node, source), source, overrides),
        Kind::DoBlock => {
            let parts = parts(node);
            do_block_keys_shown(&parts, ctx, parts.exact_shape(), overrides)
        }
        _ => {
            // `list` or the patterns of `->`: elements, with a trailing keyword list's pairs.
            let mut elements = statements(node);
            let first = elements.next();
            if let (Some(only), None) = (first, elements.next()) {
                if kind(only) == Kind::Keywords {
                    let mask = exact_shape(only, source);
                    overrides.push((only.id(), Nest::Keys(ctx, mask)));
                    return Nest::Hidden;
                }
            }
            // `find_value` over the elements: the first that is a list with the key.
            let mut taken: KeyMask = 0;
            for element in statements(node).filter(|e| kind(*e) == Kind::List) {
                let Some(keywords) = child_of_kind(element, Kind::Keywords) else {
                    continue;
                };
                let mask = pair_keys(keywords, source)
                    & !taken
                    & (KEY_DO | KEY_ELSE | KEY_RESCUE | KEY_AFTER);
                if mask != 0 {
                    taken |= mask;
                    overrides.push((element.id(), Nest::Keys(ctx, mask)));
                }
            }
            Nest::Hidden
        }
    }
}

/// Shows the first pair of each key in `mask` of a keyword list, list or `do` block.
fn keys(
    node: Node<'_>,
    ctx: Ctx,
    mask: KeyMask,
    source: &[u8],
    overrides: &mut Vec<(usize, Nest)>,
) -> Nest {
    if mask == 0 {
        // Nothing shown (most keyword arguments): the `do` part of a block is no exception.
        return Nest::Hidden;
    }
    match kind(node) {
        Kind::Keywords => {
            let mut seen: KeyMask = 0;
            for pair in statements(node) {
                let key = pair_key(pair, source);
                if mask & key != 0 && seen & key == 0 {
                    overrides.push((pair.id(), Nest::Pair(ctx)));
                }
                seen |= key;
            }
            Nest::Hidden
        }
        Kind::List => {
            if let Some(keywords) = child_of_kind(node, Kind::Keywords) {
                overrides.push((keywords.id(), Nest::Keys(ctx, mask)));
            }
            Nest::Hidden
        }
        Kind::DoBlock => do_block_keys_shown(&parts(node), ctx, mask, overrides),
        _ => Nest::Hidden,
    }
}

/// The statements of a block as a block value: `->` clauses are a list, one statement is the
/// value itself, several a `__block__`, none an empty `__block__`.
fn section_role(section: Section<'_>, ctx: Ctx) -> Nest {
    match section {
        Section::Empty => Nest::Hidden,
        Section::Stabs(_) | Section::Many => Nest::Element(ctx),
        Section::One(_) => Nest::Value(ctx),
    }
}

/// `[do: x]` and `[do: x, else: y]` show both; `[do: x, rescue: r]` and `[do: x, after: a]`
/// only their second value; any other shape nothing (§3 rule 2).
fn exact(keys: &[KeyMask]) -> KeyMask {
    match keys {
        [KEY_DO] => KEY_DO,
        [KEY_DO, KEY_ELSE] => KEY_DO | KEY_ELSE,
        [KEY_DO, KEY_RESCUE] => KEY_RESCUE,
        [KEY_DO, KEY_AFTER] => KEY_AFTER,
        _ => 0,
    }
}

fn exact_shape(keywords: Node<'_>, source: &[u8]) -> KeyMask {
    let mut sequence = [0; 3];
    let mut length = 0;
    for pair in statements(keywords) {
        if length == sequence.len() {
            return 0;
        }
        sequence[length] = pair_key(pair, source);
        length += 1;
    }
    exact(&sequence[..length])
}

/// Shows the `do` part and the sections of a `do` block whose keys are in `mask`.
fn do_block_keys_shown(
    parts: &Parts<'_>,
    ctx: Ctx,
    mask: KeyMask,
    overrides: &mut Vec<(usize, Nest)>,
) -> Nest {
    let mut seen: KeyMask = KEY_DO;
    for &(block, key) in &parts.blocks[..parts.block_count] {
        let role = if mask & key != 0 && seen & key == 0 {
            Nest::Section(ctx)
        } else {
            Nest::Hidden
        };
        seen |= key;
        overrides.push((block.id(), role));
    }
    if mask & KEY_DO != 0 {
        section_role(parts.section, ctx)
    } else {
        Nest::Hidden
    }
}

/// Credo's ABC walk (§4) for one node: counts, returns the children's default role and pushes
/// per-child overrides.
fn abc_enter<'s>(
    counter: &mut AbcCounter<'s>,
    node: Node<'_>,
    facts: &Facts<'_>,
    role: Abc,
    ecto: bool,
    source: &'s [u8],
    overrides: &mut Vec<(usize, Abc)>,
) -> Abc {
    match role {
        Abc::Skip => Abc::Skip,
        Abc::Free => Abc::Walk,
        Abc::CallChild if facts.kind == Kind::Identifier => Abc::Skip,
        Abc::CallChild | Abc::Walk => abc_walk(counter, node, facts, ecto, source, overrides),
        Abc::RouteDo => match facts.kind {
            Kind::Keywords => {
                if let Some(pair) = first_pair(node, KEY_DO, source) {
                    overrides.push((pair.id(), Abc::Free));
                }
                Abc::Skip
            }
            Kind::List => {
                if let Some(keywords) = child_of_kind(node, Kind::Keywords) {
                    overrides.push((keywords.id(), Abc::RouteDo));
                }
                Abc::Skip
            }
            Kind::DoBlock => {
                for child in statements(node).filter(|c| block_key(kind(*c)) != 0) {
                    overrides.push((child.id(), Abc::Skip));
                }
                Abc::Walk
            }
            _ => Abc::Skip,
        },
    }
}

/// The rules of §4 in order, for a node that the walk reaches.
fn abc_walk<'s>(
    counter: &mut AbcCounter<'s>,
    node: Node<'_>,
    facts: &Facts<'_>,
    ecto: bool,
    source: &'s [u8],
    overrides: &mut Vec<(usize, Abc)>,
) -> Abc {
    match facts.kind {
        // Rule 9: a variable or a paren-less call.
        Kind::Identifier | Kind::OperatorIdentifier => {
            let name = &source[node.byte_range()];
            if !name.starts_with(b"_") && !counter.known.contains(name) {
                counter.b += 1;
            }
            Abc::Skip
        }
        Kind::Call => {
            // `{{:., _, _}, _, args}` or `{{:unquote, _, _}, _, args}`: the head is walked.
            let Some(callee) = facts.callee else {
                return Abc::CallChild;
            };
            match callee {
                // Rule 1: a nested definition; rule 3: `unquote(x)` continues into `x`.
                b"def" | b"defp" | b"defmacro" | b"unquote" => {}
                // Rule 10.
                b"if" => counter.c += 1,
                name if ecto && ECTO_FUNCTIONS.contains(&name) => return Abc::Skip,
                // Rule 8.
                _ => counter.b += 1,
            }
            Abc::CallChild
        }
        // Rule 7: `{:., _, [left, right]}`.
        Kind::Dot => {
            let right = node.field(Field::Right);
            if right.is_some_and(|r| kind(r) == Kind::Alias) {
                // `x.Sub`, `__MODULE__.Sub`: an alias, no dot.
                return Abc::Walk;
            }
            let left_is_variable = node
                .field(Field::Left)
                .is_some_and(|left| kind(unwrap_parentheses(left)) == Kind::Identifier);
            if right.is_none() || !left_is_variable {
                counter.b += 1;
            }
            if let Some(right) = right {
                overrides.push((right.id(), Abc::Skip));
            }
            Abc::Walk
        }
        // `Access.get(target, key)`.
        Kind::AccessCall => {
            counter.b += 1;
            Abc::Walk
        }
        Kind::BinaryOperator => {
            match facts.op {
                // Rule 5.
                Op::Match => {
                    counter.a += 1;
                    if let Some(left) = node.field(Field::Left) {
                        let left_inner = unwrap_parentheses(left);
                        if kind(left_inner) == Kind::Identifier {
                            counter.known.insert(&source[left_inner.byte_range()]);
                        }
                        overrides.push((left.id(), Abc::Skip));
                    }
                }
                // Not calls (`=>` makes a 2-tuple).
                Op::Pipe | Op::Equal | Op::Arrow => {}
                // Rule 10.
                Op::Or => counter.c += 1,
                // `{:not, _, [{:in, _, _}]}`.
                Op::NotIn => counter.b += 2,
                Op::Step => {
                    // `a..b//c` is one `:..//` node.
                    counter.b += 1;
                    if let Some(left) = node
                        .field(Field::Left)
                        .filter(|l| kind(*l) == Kind::BinaryOperator && operator(*l) == Op::Range)
                    {
                        overrides.push((left.id(), Abc::Free));
                    }
                }
                _ => counter.b += 1,
            }
            Abc::Walk
        }
        Kind::UnaryOperator => match facts.op {
            // Rule 4.
            Op::At => {
                counter.a += 1;
                Abc::Skip
            }
            Op::Pin => Abc::Walk,
            _ => {
                counter.b += 1;
                Abc::Walk
            }
        },
        // Rule 2: `<<>>` is skipped, so interpolations are free.
        Kind::String => {
            if interpolates(node, source) {
                Abc::Skip
            } else {
                Abc::Walk
            }
        }
        Kind::Bitstring => Abc::Skip,
        // `:"a#{x}"` is `:erlang.binary_to_atom(<<>>, :utf8)`.
        Kind::QuotedAtom | Kind::QuotedKeyword => {
            if interpolates(node, source) {
                counter.b += 1;
            }
            Abc::Skip
        }
        // `'a#{x}'` is `List.to_charlist(["a", Kernel.to_string(x)])`: each interpolation is
        // a remote call too, and its contents are walked.
        Kind::Charlist => {
            if interpolates(node, source) {
                counter.b += 1;
            }
            Abc::Walk
        }
        Kind::Interpolation => {
            counter.b += 1;
            Abc::Walk
        }
        // `{:sigil_x, _, [<<>>, modifiers]}`.
        Kind::Sigil => {
            counter.b += 1;
            Abc::Skip
        }
        // `%` of a struct; `%{}` is no call.
        Kind::Map => {
            if node.named_child(0).is_some_and(|c| kind(c) == Kind::Struct) {
                counter.b += 1;
            }
            Abc::Walk
        }
        // Rule 6.
        Kind::StabClause => {
            counter.b += 1;
            stab_variables(node, source, &mut counter.known);
            Abc::Walk
        }
        _ => Abc::Walk,
    }
}

/// Functions excluded from ABC when the file has `import Ecto.Query`.
const ECTO_FUNCTIONS: [&[u8]; 4] = [b"where", b"from", b"select", b"join"];

/// A local call to one of [`ECTO_FUNCTIONS`].
fn ecto_excluded(facts: &Facts<'_>) -> bool {
    facts
        .callee
        .is_some_and(|callee| ECTO_FUNCTIONS.contains(&callee))
}

/// The variables a `->` clause makes known (Credo's `fn_parameters`): the plain-variable
/// patterns when the body is a tuple in the AST; with a `when` head, none, unless the body is
/// a literal, when the `when`'s plain-variable operands count.
fn stab_variables<'s>(stab: Node<'_>, source: &'s [u8], known: &mut Names<'s>) {
    let Some(left) = stab.field(Field::Left) else {
        return;
    };
    let body_is_tuple = stab
        .field(Field::Right)
        .is_some_and(|body| match section(body) {
            Section::Empty => false,
            Section::One(statement) => is_ast_tuple(statement),
            Section::Many | Section::Stabs(_) => true,
        });
    let mut add = |node: Node<'_>| {
        if kind(node) == Kind::Identifier {
            known.insert(&source[node.byte_range()]);
        }
    };
    match kind(left) {
        Kind::Arguments if body_is_tuple => statements(left).for_each(&mut add),
        Kind::BinaryOperator if !body_is_tuple => {
            if let Some(patterns) = left.field(Field::Left) {
                statements(patterns).for_each(&mut add);
            }
            if let Some(guard) = left.field(Field::Right) {
                add(guard);
            }
        }
        _ => {}
    }
}

/// Whether the node is a tuple in the quoted AST (a call, operator, variable, 2-tuple…) rather
/// than a literal number, atom, binary or list.
fn is_ast_tuple(node: Node<'_>) -> bool {
    match kind(node) {
        Kind::Integer
        | Kind::Float
        | Kind::Char
        | Kind::Atom
        | Kind::Boolean
        | Kind::Nil
        | Kind::List
        | Kind::Keywords => false,
        Kind::String | Kind::Charlist | Kind::QuotedAtom => has_interpolation(node),
        Kind::Block => match section(node) {
            Section::One(inner) => is_ast_tuple(inner),
            _ => true,
        },
        _ => true,
    }
}

/// The head's plain-variable parameters (Credo's `get_parameters` on the def's first argument:
/// with a `when`, its two operands).
fn head_variables<'s>(head: Node<'_>, source: &'s [u8], known: &mut Names<'s>) {
    let head = unwrap_parentheses(head);
    let mut add = |node: Option<Node<'_>>| {
        if let Some(node) = node.filter(|n| kind(*n) == Kind::Identifier) {
            known.insert(&source[node.byte_range()]);
        }
    };
    match kind(head) {
        Kind::Call => {
            if let Some(arguments) = child_of_kind(head, Kind::Arguments) {
                statements(arguments).for_each(|p| add(Some(p)));
            }
        }
        Kind::BinaryOperator => {
            add(head.field(Field::Left));
            add(head.field(Field::Right));
        }
        Kind::UnaryOperator => add(head.field(Field::Operand)),
        _ => {}
    }
}

/// Parameters of the head, seen through `when` (§5).
fn head_arity(head: Node<'_>) -> u32 {
    let mut head = unwrap_parentheses(head);
    if kind(head) == Kind::BinaryOperator && operator(head) == Op::When {
        match head.field(Field::Left) {
            Some(left) => head = unwrap_parentheses(left),
            None => return 0,
        }
    }
    match kind(head) {
        Kind::Call => child_of_kind(head, Kind::Arguments).map_or(0, |a| {
            u32::try_from(statements(a).count()).unwrap_or(u32::MAX)
        }),
        Kind::BinaryOperator => 2,
        Kind::UnaryOperator => 1,
        _ => 0,
    }
}

/// `__using__` or `__using__(…)`.
fn names_using(head: Node<'_>, source: &[u8]) -> bool {
    let name = match kind(head) {
        Kind::Identifier => Some(head),
        Kind::Call => head
            .field(Field::Target)
            .filter(|t| kind(*t) == Kind::Identifier),
        _ => None,
    };
    name.is_some_and(|n| &source[n.byte_range()] == b"__using__")
}

/// The nesting operator a call is, if any.
fn nest_op(callee: Option<&[u8]>) -> Option<NestOp> {
    Some(match callee? {
        b"if" => NestOp::If,
        b"unless" => NestOp::Unless,
        b"case" => NestOp::Case,
        b"cond" => NestOp::Cond,
        b"for" => NestOp::For,
        b"with" => NestOp::With,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Small tree helpers.

fn child_of_kind<'t>(node: Node<'t>, wanted: Kind) -> Option<Node<'t>> {
    statements(node).find(|child| kind(*child) == wanted)
}

fn has_interpolation(node: Node<'_>) -> bool {
    statements(node).any(|child| kind(child) == Kind::Interpolation)
}

/// `has_interpolation`, skipping the children of the many strings without `#{`.
fn interpolates(node: Node<'_>, source: &[u8]) -> bool {
    source[node.byte_range()]
        .windows(2)
        .any(|pair| pair == b"#{")
        && has_interpolation(node)
}

/// Elements of a tuple: its named children other than comments.
fn element_count(node: Node<'_>) -> usize {
    statements(node).count()
}

/// `(x)` is `x` in the AST.
fn unwrap_parentheses(mut node: Node<'_>) -> Node<'_> {
    while kind(node) == Kind::Block {
        let mut inner = statements(node);
        match (inner.next(), inner.next()) {
            (Some(only), None) => node = only,
            _ => break,
        }
    }
    node
}

/// The `keywords` node of a keyword-list argument (`k: v` or `[k: v]`).
fn keyword_container(argument: Node<'_>) -> Option<Node<'_>> {
    match kind(argument) {
        Kind::Keywords => Some(argument),
        Kind::List => child_of_kind(argument, Kind::Keywords),
        _ => None,
    }
}

fn pair_key(pair: Node<'_>, source: &[u8]) -> KeyMask {
    let Some(key) = pair.field(Field::Key) else {
        return KEY_OTHER;
    };
    let text = &source[key.byte_range()];
    let text = text.trim_ascii_end();
    let text = text.strip_suffix(b":").unwrap_or(text);
    let text = text
        .strip_prefix(b"\"")
        .and_then(|t| t.strip_suffix(b"\""))
        .unwrap_or(text);
    match text {
        b"do" => KEY_DO,
        b"else" => KEY_ELSE,
        b"rescue" => KEY_RESCUE,
        b"after" => KEY_AFTER,
        b"catch" => KEY_CATCH,
        _ => KEY_OTHER,
    }
}

fn pair_keys(keywords: Node<'_>, source: &[u8]) -> KeyMask {
    statements(keywords).fold(0, |mask, pair| mask | pair_key(pair, source))
}

fn first_pair<'t>(keywords: Node<'t>, key: KeyMask, source: &[u8]) -> Option<Node<'t>> {
    statements(keywords).find(|pair| pair_key(*pair, source) == key)
}

fn block_key(kind: Kind) -> KeyMask {
    match kind {
        Kind::ElseBlock => KEY_ELSE,
        Kind::RescueBlock => KEY_RESCUE,
        Kind::AfterBlock => KEY_AFTER,
        Kind::CatchBlock => KEY_CATCH,
        _ => 0,
    }
}

fn do_block_keys(do_block: Node<'_>) -> KeyMask {
    statements(do_block).fold(KEY_DO, |mask, child| mask | block_key(kind(child)))
}

/// Elements of a list literal: its items, and each pair of a trailing keyword list.
fn list_elements(list: Node<'_>) -> u32 {
    let count: usize = statements(list)
        .map(|item| {
            if kind(item) == Kind::Keywords {
                statements(item).count()
            } else {
                1
            }
        })
        .sum();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// The statements of a block (a `do` part, a section, a `->` body, parentheses).
#[derive(Clone, Copy)]
enum Section<'t> {
    Empty,
    One(Node<'t>),
    Many,
    /// Only `->` clauses: a list of them.
    Stabs(u32),
}

fn section(node: Node<'_>) -> Section<'_> {
    parts(node).section
}

/// A block's statements and, for a `do` block, its `else`/`rescue`/`catch`/`after` sections.
struct Parts<'t> {
    section: Section<'t>,
    blocks: [(Node<'t>, KeyMask); 4],
    block_count: usize,
    /// More than four sections: no exact shape.
    overflow: bool,
}

impl Parts<'_> {
    /// `exact` of `[do, sections...]`.
    fn exact_shape(&self) -> KeyMask {
        if self.overflow || self.block_count > 2 {
            return 0;
        }
        let mut sequence = [KEY_DO, 0, 0];
        for (slot, &(_, key)) in sequence[1..].iter_mut().zip(&self.blocks) {
            *slot = key;
        }
        exact(&sequence[..=self.block_count])
    }
}

/// One pass over the children (a statement alone is the common case: no iteration).
fn parts(node: Node<'_>) -> Parts<'_> {
    let mut parts = Parts {
        section: Section::Empty,
        blocks: [(node, 0); 4],
        block_count: 0,
        overflow: false,
    };
    if node.named_child_count() == 1 {
        if let Some(only) = node.named_child(0) {
            let key = block_key(kind(only));
            parts.section = match kind(only) {
                Kind::Comment => Section::Empty,
                Kind::StabClause => Section::Stabs(1),
                _ if key != 0 => {
                    parts.blocks[0] = (only, key);
                    parts.block_count = 1;
                    Section::Empty
                }
                _ => Section::One(only),
            };
        }
        return parts;
    }
    let mut count = 0u32;
    let mut stabs = 0u32;
    let mut one = None;
    for child in statements(node) {
        let key = block_key(kind(child));
        if key != 0 {
            if parts.block_count == parts.blocks.len() {
                parts.overflow = true;
            } else {
                parts.blocks[parts.block_count] = (child, key);
                parts.block_count += 1;
            }
            continue;
        }
        count += 1;
        if kind(child) == Kind::StabClause {
            stabs += 1;
        }
        one = Some(child);
    }
    parts.section = match (count, one) {
        (0, _) | (_, None) => Section::Empty,
        (n, _) if stabs == n => Section::Stabs(n),
        (1, Some(only)) => Section::One(only),
        _ => Section::Many,
    };
    parts
}

// ---------------------------------------------------------------------------------------------
// Functions, modules and the project.

/// Puts each clause's metrics where the extractor recorded it, then sums up functions and
/// modules.
/// Puts each clause's metrics in place and sums them up per function and module; `None` (with
/// `--no-metrics`) leaves every metrics object out.
pub(crate) fn attach(modules: &mut [Module], measured: Option<Vec<(Target, ClauseMetrics)>>) {
    let Some(measured) = measured else {
        return;
    };
    for (target, metrics) in measured {
        let slot = match target {
            Target::Clause {
                module,
                function,
                clause,
            } => modules
                .get_mut(module)
                .and_then(|m| m.functions.get_mut(function))
                .and_then(|f| f.clauses.get_mut(clause))
                .map(|c| &mut c.metrics),
            Target::Injected { module, index } => modules
                .get_mut(module)
                .and_then(|m| m.injected.get_mut(index))
                .map(|i| &mut i.metrics),
            Target::Dynamic { module, index } => modules
                .get_mut(module)
                .and_then(|m| m.dynamic_definitions.get_mut(index))
                .map(|d| &mut d.metrics),
        };
        if let Some(slot) = slot {
            *slot = Some(metrics);
        }
    }
    for module in modules {
        summarise(module);
    }
}

fn summarise(module: &mut Module) {
    let mut metrics = ModuleMetrics {
        lines: module.end_line.saturating_sub(module.line) + 1,
        ..ModuleMetrics::default()
    };
    for function in &mut module.functions {
        if is_public(function.kind) {
            metrics.public_functions += 1;
        } else {
            metrics.private_functions += 1;
        }
        let clauses: Vec<&ClauseMetrics> = function
            .clauses
            .iter()
            .filter_map(|c| c.metrics.as_ref())
            .collect();
        if clauses.is_empty() {
            continue;
        }
        let max = |f: fn(&ClauseMetrics) -> Option<u32>| clauses.iter().filter_map(|c| f(c)).max();
        let summary = FunctionMetrics {
            clauses: u32::try_from(function.clauses.len()).unwrap_or(u32::MAX),
            cyclomatic: max(|c| c.cyclomatic),
            perceived: max(|c| c.perceived),
            nesting: max(|c| Some(c.nesting)).unwrap_or(0),
            abc: max(|c| c.abc.map(|abc| abc.size)),
            arity: function.arity,
            lines: clauses.iter().map(|c| c.lines).sum(),
        };
        if let Some(cyclomatic) = summary.cyclomatic {
            metrics.cyclomatic_sum += cyclomatic;
            metrics.cyclomatic_max = metrics.cyclomatic_max.max(cyclomatic);
        }
        function.metrics = Some(summary);
    }
    module.metrics = Some(metrics);
}

fn is_public(kind: FunctionKind) -> bool {
    matches!(
        kind,
        FunctionKind::Def
            | FunctionKind::Defmacro
            | FunctionKind::Defguard
            | FunctionKind::Defdelegate
    )
}

/// Totals over the modules of every file.
pub(crate) fn project<'m>(modules: impl IntoIterator<Item = &'m Module>) -> ProjectMetrics {
    let mut project = ProjectMetrics::default();
    let mut bands = [0u64; BANDS.len()];
    for module in modules {
        project.modules += 1;
        if let Some(metrics) = &module.metrics {
            project.public_functions += u64::from(metrics.public_functions);
            project.private_functions += u64::from(metrics.private_functions);
            project.module_lines += u64::from(metrics.lines);
        }
        for function in &module.functions {
            let Some(metrics) = &function.metrics else {
                continue;
            };
            let Some(cyclomatic) = metrics.cyclomatic else {
                continue;
            };
            project.scored_functions += 1;
            project.scored_clauses += u64::from(metrics.clauses);
            project.cyclomatic_sum += u64::from(cyclomatic);
            project.cyclomatic_max = project.cyclomatic_max.max(cyclomatic);
            project.perceived_max = project.perceived_max.max(metrics.perceived.unwrap_or(0));
            project.nesting_max = project.nesting_max.max(metrics.nesting);
            project.abc_max = project.abc_max.max(metrics.abc.unwrap_or(0));
            project.arity_max = project.arity_max.max(metrics.arity);
            let band = BANDS
                .iter()
                .rposition(|&min| cyclomatic >= min)
                .unwrap_or(0);
            bands[band] += 1;
        }
    }
    project.distribution = BANDS
        .iter()
        .enumerate()
        .map(|(i, &min)| ComplexityBand {
            min,
            max: BANDS.get(i + 1).map(|next| next - 1),
            functions: bands[i],
        })
        .collect();
    project
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse, ParseInput, ParseOutcome};

    fn modules(source: &str) -> Vec<Module> {
        let ParseOutcome::Parsed(tree) = parse(
            ParseInput::Bytes(source.as_bytes()),
            &crate::syntax::within(std::time::Duration::from_secs(10)),
        ) else {
            panic!("timed out")
        };
        crate::extract::facts(&tree, source.as_bytes(), false).modules
    }

    fn clause(source: &str) -> ClauseMetrics {
        modules(source)[0].functions[0].clauses[0]
            .metrics
            .clone()
            .expect("measured")
    }

    #[test]
    fn exact_shapes_are_credos_block_helpers() {
        assert_eq!(exact(&[KEY_DO]), KEY_DO);
        assert_eq!(exact(&[KEY_DO, KEY_ELSE]), KEY_DO | KEY_ELSE);
        assert_eq!(exact(&[KEY_DO, KEY_RESCUE]), KEY_RESCUE);
        assert_eq!(exact(&[KEY_DO, KEY_AFTER]), KEY_AFTER);
        assert_eq!(exact(&[KEY_DO, KEY_CATCH]), 0);
        assert_eq!(exact(&[KEY_DO, KEY_RESCUE, KEY_AFTER]), 0);
        assert_eq!(exact(&[KEY_OTHER, KEY_DO]), 0);
    }

    #[test]
    fn perceived_complexity_rounds_half_away_from_zero() {
        // 0.3 × 5 is exactly 1.5 in f64: 1 + 1.5 = 2.5 rounds to 3.
        let five = "defmodule A do\n  def f(x) do\n    case x do\n      1 -> 1\n      2 -> 2\n      3 -> 3\n      4 -> 4\n      _ -> 5\n    end\n  end\nend\n";
        assert_eq!(clause(five).perceived, Some(3));
        let two_singles = "defmodule A do\n  def f(x) do\n    case x do\n      _ -> 1\n    end\n    case x do\n      _ -> 2\n    end\n  end\nend\n";
        assert_eq!(clause(two_singles).perceived, Some(2));
    }

    #[test]
    fn a_quoted_def_counts_for_its_host_and_on_its_own() {
        let source = "defmodule A do\n  defmacro host(x) do\n    quote do\n      def inner(y), do: if(y, do: 1)\n    end\n  end\nend\n";
        let module = &modules(source)[0];
        let host = module.functions[0].clauses[0].metrics.as_ref().unwrap();
        assert_eq!(
            (host.cyclomatic, host.nesting, host.nesting_line),
            (Some(3), 1, 4)
        );
        let inner = module.injected[0].metrics.as_ref().unwrap();
        assert_eq!(
            (inner.cyclomatic, inner.nesting, inner.arity),
            (Some(2), 1, 1)
        );
    }

    #[test]
    fn using_with_a_head_and_a_body_is_not_scored() {
        let source = "defmodule A do\n  defmacro __using__(opts), do: opts\nend\n";
        let metrics = clause(source);
        assert_eq!(
            (metrics.cyclomatic, metrics.perceived, metrics.abc),
            (None, None, None)
        );
        assert_eq!(metrics.arity, 1);
        let guarded =
            "defmodule A do\n  defmacro __using__(opts) when is_list(opts), do: opts\nend\n";
        assert_eq!(clause(guarded).cyclomatic, Some(1));
    }

    #[test]
    fn bands_cover_every_complexity_once() {
        let project = project(std::iter::empty());
        let bounds: Vec<(u32, Option<u32>)> = project
            .distribution
            .iter()
            .map(|b| (b.min, b.max))
            .collect();
        assert_eq!(bounds[0].0, 1);
        for pair in bounds.windows(2) {
            assert_eq!(pair[0].1.map(|max| max + 1), Some(pair[1].0));
        }
        assert_eq!(bounds.last().unwrap().1, None);
    }
}
