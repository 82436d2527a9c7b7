//! Sobelow 0.15's judgement of a risky call, shared by the security rules
//! (`../shared/CREDO_CHECKS.md` §S): the names the call is fed (§S.2; none means it is fed
//! only constants, and there is no finding), whether the code runs at run time at all, and
//! the confidence of a finding (§S.3).
//!
//! Sobelow reads Elixir's AST; the walk here reads tree-sitter's, and says where the two
//! shapes differ. Everything here runs only for the rare calls a security rule subscribed to,
//! so looking up through `parent()` (O(depth) each in tree-sitter 0.25) is affordable.

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use crate::rules::engine::{CallEvent, Site};
use crate::syntax;

/// How likely Sobelow thinks a finding is exploitable (§S.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// What the judgement of a call found: its input as Sobelow names it (`name`, `conn.params`,
/// `Elixir.Atom`, `&1`, joined with " and ") and the confidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Judgement {
    pub(crate) input: String,
    pub(crate) confidence: Confidence,
}

impl Judgement {
    /// The tail every security message ends with.
    pub(crate) fn suffix(&self) -> String {
        format!(
            "(input: {}; confidence: {})",
            self.input,
            self.confidence.as_str()
        )
    }
}

/// Judges a call (or an interpolated atom) at `anchor` fed `names`: `None` when it is fed only
/// constants or runs at compile time, where its input is the source itself.
pub(crate) fn judge(
    anchor: Node<'_>,
    site: &Site<'_>,
    source: &[u8],
    names: Vec<String>,
) -> Option<Judgement> {
    if names.is_empty() {
        return None;
    }
    let placement = runtime_placement(anchor, site, source)?;
    let parameters = placement
        .clause
        .map(|clause| clause_parameters(clause, source))
        .unwrap_or_default();
    let controller = is_controller(placement.root, source);
    Some(Judgement {
        confidence: confidence(&names, &parameters, controller),
        input: names.join(" and "),
    })
}

/// §S.3: outside a controller, low; in one, high if the input is a parameter of the clause
/// (or `conn.params`), else medium.
fn confidence(names: &[String], parameters: &[String], controller: bool) -> Confidence {
    if !controller {
        Confidence::Low
    } else if names
        .iter()
        .any(|name| name == "conn.params" || parameters.contains(name))
    {
        Confidence::High
    } else {
        Confidence::Medium
    }
}

/// What a call is fed at Sobelow's argument index `k` (0: the piped value of a piped call),
/// in source order without repeats. A capture `&M.f/n` stands for `M.f(&1, …, &n)`.
pub(crate) fn fed_names(call: &CallEvent<'_, '_>, k: usize, source: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    if call.node.kind() == syntax::kinds::UNARY_OPERATOR {
        if k < call.arity as usize {
            names.push(format!("&{}", k + 1));
        }
        return names;
    }
    let written = written_arguments(call.node);
    if call.piped {
        if k == 0 {
            if let Some(value) = call.node.parent().and_then(|pipe| pipe.field(Field::Left)) {
                piped_value_names(value, source, &mut names);
            }
        } else if let Some(argument) = written.get(k - 1) {
            argument_names(*argument, source, &mut names);
        }
    } else if let Some(argument) = written.get(k) {
        argument_names(*argument, source, &mut names);
    }
    deduplicated(names)
}

/// What a call is fed in all its arguments, the piped value included.
pub(crate) fn all_fed_names(call: &CallEvent<'_, '_>, source: &[u8]) -> Vec<String> {
    let mut names = fed_names(call, 0, source);
    if call.node.kind() == syntax::kinds::UNARY_OPERATOR {
        return names;
    }
    let skip = usize::from(!call.piped);
    for argument in written_arguments(call.node).into_iter().skip(skip) {
        argument_names(argument, source, &mut names);
    }
    deduplicated(names)
}

/// The names an interpolating literal (`:"a#{x}"`, `"k#{x}": v`) is fed.
pub(crate) fn interpolated_names(node: Node<'_>, source: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for child in named_children(node) {
        if child.kind() == "interpolation" {
            argument_names(child, source, &mut names);
        }
    }
    deduplicated(names)
}

pub(crate) fn deduplicated(names: Vec<String>) -> Vec<String> {
    let mut seen = Vec::with_capacity(names.len());
    for name in names {
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen
}

pub(crate) use crate::syntax::call_arguments as written_arguments;
use crate::syntax::code_children as named_children;

/// The identifier a call is made through (`def`, `quote`, `use`), if it is a local call.
pub(crate) fn local_name<'s>(
    call: Node<'_>,
    source: &'s [u8],
) -> Option<std::borrow::Cow<'s, str>> {
    let target = call.field(Field::Target)?;
    (target.kind() == syntax::kinds::IDENTIFIER).then(|| syntax::text(target, source))
}

/// Identifiers that the compiler replaces with constants: not input.
const COMPILE_TIME_IDENTIFIERS: &[&str] = &["__MODULE__", "__DIR__", "__ENV__", "__CALLER__"];

/// The names an argument yields, appended in source order: Sobelow's `parse_opts`.
///
/// - a variable yields its name; literals, module attributes and aliases nothing;
/// - interpolations and operators yield what their parts yield;
/// - `m["k"]` yields `m` (`conn.params["k"]`: `conn.params`); `x.f` yields `x`;
/// - `Mod.f(…)` yields the module (`Elixir.Mod`), a local `f(…)` yields `f`;
/// - `&1` yields `&1`.
///
/// Where Sobelow reads an artifact of Elixir's AST as a name (an alias as `__aliases__`, a
/// 3-tuple as `{}`, `~s"#{x}"` as nothing), this reads what the code means: aliases are
/// constants, containers yield their elements, interpolations their expressions.
pub(crate) fn argument_names(node: Node<'_>, source: &[u8], names: &mut Vec<String>) {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "identifier" => {
                let name = syntax::text(node, source);
                if !COMPILE_TIME_IDENTIFIERS.contains(&name.as_ref()) {
                    names.push(name.into_owned());
                }
            }
            "unary_operator" => {
                let (Some(operator), Some(operand)) =
                    (node.field(Field::Operator), node.field(Field::Operand))
                else {
                    continue;
                };
                match syntax::text(operator, source).as_ref() {
                    // A module attribute is a constant of the module.
                    "@" => {}
                    // `&1` is an argument of an anonymous function; `&f/1` is a function.
                    "&" if operand.kind() == syntax::kinds::INTEGER => {
                        names.push(format!("&{}", syntax::text(operand, source)));
                    }
                    "&" => {}
                    _ => stack.push(operand),
                }
            }
            "call" => call_names(node, source, names, &mut stack),
            "access_call" => {
                let Some(target) = node.field(Field::Target) else {
                    continue;
                };
                if is_conn_params(target, source) {
                    names.push("conn.params".to_string());
                } else {
                    stack.push(target);
                }
            }
            // Only the value of `key: value`.
            "pair" => stack.extend(node.field(Field::Value)),
            "alias"
            | "atom"
            | "integer"
            | "float"
            | "boolean"
            | "nil"
            | "char"
            | "keyword"
            | "quoted_keyword"
            | "operator_identifier"
            | "quoted_content"
            | "escape_sequence"
            | "sigil_name"
            | "sigil_modifiers"
            | "comment"
            | "anonymous_function" => {}
            // Strings, sigils, containers, operators, blocks: their parts, in order.
            _ => stack.extend(named_children(node).into_iter().rev()),
        }
    }
}

/// A call as an argument: `Mod.f(…)` yields the module, `x.f` and `x.f(…)` what `x` yields, a
/// local `f(…)` its name.
fn call_names<'t>(
    call: Node<'t>,
    source: &[u8],
    names: &mut Vec<String>,
    stack: &mut Vec<Node<'t>>,
) {
    let Some(target) = call.field(Field::Target) else {
        return;
    };
    match target.kind() {
        "dot" => {
            let Some(left) = target.field(Field::Left) else {
                return;
            };
            match left.kind() {
                "alias" => names.push(format!(
                    "Elixir.{}",
                    syntax::text(left, source)
                        .split_whitespace()
                        .collect::<String>()
                )),
                // Sobelow reads `:erlang.f(x)` as nothing; its result is input all the same.
                "atom" => names.push(syntax::text(left, source).into_owned()),
                "identifier"
                    if COMPILE_TIME_IDENTIFIERS.contains(&syntax::text(left, source).as_ref()) =>
                {
                    names.push(syntax::text(left, source).into_owned());
                }
                _ => stack.push(left),
            }
        }
        "identifier" => names.push(syntax::text(target, source).into_owned()),
        _ => stack.push(target),
    }
}

/// `conn.params` (Sobelow counts it as a parameter of every clause).
fn is_conn_params(node: Node<'_>, source: &[u8]) -> bool {
    node.kind() == syntax::kinds::CALL
        && written_arguments(node).is_empty()
        && node.field(Field::Target).is_some_and(|dot| {
            dot.kind() == syntax::kinds::DOT
                && dot
                    .field(Field::Left)
                    .is_some_and(|left| syntax::text(left, source) == "conn")
                && dot
                    .field(Field::Right)
                    .is_some_and(|right| syntax::text(right, source) == "params")
        })
}

/// The names the value piped into a call yields: the left of the `|>`, or in a chain the
/// previous stage alone (`x |> String.trim() |> String.to_atom()` yields `Elixir.String`).
/// Sobelow's `extract_opts`: a local call yields its arguments (its name if it has none).
fn piped_value_names(value: Node<'_>, source: &[u8], names: &mut Vec<String>) {
    let stage = if value.kind() == syntax::kinds::BINARY_OPERATOR
        && value
            .field(Field::Operator)
            .is_some_and(|operator| syntax::text(operator, source) == "|>")
    {
        match value.field(Field::Right) {
            Some(right) => right,
            None => return,
        }
    } else {
        value
    };
    if stage.kind() == syntax::kinds::CALL {
        if let Some(name) = local_name(stage, source) {
            let arguments = written_arguments(stage);
            if arguments.is_empty() {
                names.push(name.into_owned());
            }
            for argument in arguments {
                argument_names(argument, source, names);
            }
            return;
        }
    }
    if stage.kind() == syntax::kinds::UNARY_OPERATOR
        && stage
            .field(Field::Operand)
            .is_some_and(|operand| operand.kind() == syntax::kinds::INTEGER)
    {
        return;
    }
    argument_names(stage, source, names);
}

/// Where runtime code sits: the innermost definition clause around it, and the tree's root.
struct Placement<'t> {
    clause: Option<Node<'t>>,
    root: Node<'t>,
}

/// `None` when `node` runs at compile time, fed only by the source: in a module attribute's
/// value, inside `unquote` (local or remote, see [`unquotes_child`]), in a macro's body outside
/// `quote`, or in a module body outside any function. Otherwise the innermost clause around it
/// (none at a script's top level).
fn runtime_placement<'t>(node: Node<'t>, site: &Site<'_>, source: &[u8]) -> Option<Placement<'t>> {
    if site.attribute.is_some() {
        return None;
    }
    // The innermost construct that decides: `unquote` (compile time), `quote` (code for run
    // time), `def`/`defp` (run time), `defmacro`/`defmacrop` or `defmodule` (compile time).
    let mut runtime: Option<bool> = None;
    let mut clause = None;
    let mut current = node;
    while let Some(parent) = current.parent() {
        if parent.kind() == syntax::kinds::CALL {
            if unquotes_child(parent, current, source) {
                runtime.get_or_insert(false);
                current = parent;
                continue;
            }
            match local_name(parent, source).as_deref() {
                Some("defmodule") => {
                    runtime.get_or_insert(false);
                }
                Some("quote") => {
                    runtime.get_or_insert(true);
                }
                Some("def" | "defp") => {
                    clause.get_or_insert(parent);
                    runtime.get_or_insert(true);
                }
                Some("defmacro" | "defmacrop") => {
                    clause.get_or_insert(parent);
                    runtime.get_or_insert(false);
                }
                _ => {}
            }
        }
        current = parent;
    }
    runtime.unwrap_or(true).then_some(Placement {
        clause,
        root: current,
    })
}

/// Whether the call `call` unquotes its child `child`: `child` is compiled like an argument of
/// `unquote`, fed by the source alone, wherever the surrounding `quote` puts the code.
///
/// - A local `unquote(expr)` or `unquote_splicing(expr)`: its argument (its target is the
///   identifier itself, so any child holding code is the argument).
/// - A remote `unquote`, `Mod.unquote(expr)` or `unquote(m).unquote(expr)(args)`: Elixir's
///   AST has `{{:., _, [Mod, :unquote]}, _, [expr]}`, which `elixir_quote` unquotes as
///   `unquote(expr)` when the call has exactly one argument (a `do` block counting as one).
///   tree-sitter reads it as a remote call whose target is the dot `Mod.unquote`. Only that
///   one argument (the `arguments` node, or the `do` block that stands for it) is unquoted:
///   the dot's left side (`Mod`, `unquote(m)`) is quoted code, and so are the arguments of an
///   outer call that takes the remote `unquote` as its target. With two arguments
///   (`Mod.unquote(a, b)`), it is a call to a function named `unquote`, quoted as any other.
fn unquotes_child(call: Node<'_>, child: Node<'_>, source: &[u8]) -> bool {
    let Some(target) = call.field(Field::Target) else {
        return false;
    };
    match target.kind() {
        syntax::kinds::IDENTIFIER => {
            matches!(
                syntax::text(target, source).as_ref(),
                "unquote" | "unquote_splicing"
            ) && child != target
        }
        syntax::kinds::DOT => {
            matches!(child.kind(), "arguments" | "do_block")
                && target.field(Field::Right).is_some_and(|right| {
                    right.kind() == syntax::kinds::IDENTIFIER
                        && syntax::text(right, source) == "unquote"
                })
                && syntax::ast_argument_count(call) == 1
        }
        _ => false,
    }
}

/// Every variable name in a clause's parameters (§S.3), guard aside. As in Sobelow's
/// `get_params`, a 2-tuple `{a, b}` (a map's `k => v`, a keyword's `k: v`) yields only its
/// second element, and a list pattern yields nothing.
fn clause_parameters(clause: Node<'_>, source: &[u8]) -> Vec<String> {
    let Some(mut head) = written_arguments(clause).into_iter().next() else {
        return Vec::new();
    };
    if head.kind() == syntax::kinds::BINARY_OPERATOR
        && head
            .field(Field::Operator)
            .is_some_and(|operator| syntax::text(operator, source) == "when")
    {
        match head.field(Field::Left) {
            Some(left) => head = left,
            None => return Vec::new(),
        }
    }
    if head.kind() != syntax::kinds::CALL {
        return Vec::new();
    }
    let mut names = Vec::new();
    let mut stack: Vec<Node<'_>> = written_arguments(head).into_iter().rev().collect();
    while let Some(node) = stack.pop() {
        match node.kind() {
            "identifier" => names.push(syntax::text(node, source).into_owned()),
            "list" => {}
            "pair" => stack.extend(node.field(Field::Value)),
            "tuple" => {
                let elements = named_children(node);
                if elements.len() == 2 {
                    stack.push(elements[1]);
                } else {
                    stack.extend(elements.into_iter().rev());
                }
            }
            "binary_operator"
                if node
                    .field(Field::Operator)
                    .is_some_and(|operator| syntax::text(operator, source) == "=>") =>
            {
                stack.extend(node.field(Field::Right));
            }
            _ => stack.extend(named_children(node).into_iter().rev()),
        }
    }
    names
}

fn contains(source: &[u8], needle: &[u8]) -> bool {
    source.windows(needle.len()).any(|window| window == needle)
}

/// Whether the file holds `use <anything>, :controller` anywhere (§S.3).
fn is_controller(root: Node<'_>, source: &[u8]) -> bool {
    if !contains(source, b":controller") {
        return false;
    }
    file_has_call(root, source, |name, arguments| {
        name == "use"
            && arguments.len() == 2
            && arguments[1].kind() == syntax::kinds::ATOM
            && syntax::text(arguments[1], source) == ":controller"
    })
}

/// How a file makes a bare `query(…)` mean Ecto's (§S.9: Sobelow 0.15 reads a bare call only
/// in such a file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct EctoSqlScope {
    /// `import Ecto.Adapters.SQL`: `query(repo, sql, params)`.
    pub(crate) imports_sql: bool,
    /// `use Ecto.Repo`: the repo's own `query(sql, params)`.
    pub(crate) is_repo: bool,
}

/// Finds `import Ecto.Adapters.SQL` and `use Ecto.Repo` anywhere in the file.
pub(crate) fn ecto_sql_scope(root: Node<'_>, source: &[u8]) -> EctoSqlScope {
    let mut scope = EctoSqlScope::default();
    if !contains(source, b"Ecto.Adapters.SQL") && !contains(source, b"Ecto.Repo") {
        return scope;
    }
    syntax::walk_preorder(root, |node| {
        if node.kind() == syntax::kinds::CALL {
            if let Some(name) = local_name(node, source) {
                let first = written_arguments(node).first().map(|first| {
                    syntax::text(*first, source)
                        .split_whitespace()
                        .collect::<String>()
                });
                match (name.as_ref(), first.as_deref()) {
                    ("import", Some("Ecto.Adapters.SQL")) => scope.imports_sql = true,
                    ("use", Some("Ecto.Repo")) => scope.is_repo = true,
                    _ => {}
                }
            }
        }
        !(scope.imports_sql && scope.is_repo)
    });
    scope
}

/// Whether some local call in the tree satisfies `test(name, written arguments)`.
fn file_has_call(root: Node<'_>, source: &[u8], test: impl Fn(&str, &[Node<'_>]) -> bool) -> bool {
    let mut found = false;
    syntax::walk_preorder(root, |node| {
        if found {
            return false;
        }
        if node.kind() == syntax::kinds::CALL {
            if let Some(name) = local_name(node, source) {
                if test(&name, &written_arguments(node)) {
                    found = true;
                    return false;
                }
            }
        }
        true
    });
    found
}

/// The root of the tree holding `node`.
pub(crate) fn root_of(node: Node<'_>) -> Node<'_> {
    let mut current = node;
    while let Some(parent) = current.parent() {
        current = parent;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(source: &str) -> syntax::Tree {
        match syntax::parse(
            syntax::ParseInput::Bytes(source.as_bytes()),
            &crate::syntax::within(std::time::Duration::from_secs(10)),
        ) {
            syntax::ParseOutcome::Parsed(tree) => tree,
            syntax::ParseOutcome::TimedOut => panic!("timed out"),
        }
    }

    /// The names the first argument of the first call to `sink` yields.
    fn names_of(source: &str) -> Vec<String> {
        let tree = parse(source);
        let mut names = Vec::new();
        syntax::walk_preorder(tree.root_node(), |node| {
            if node.kind() == "call"
                && local_name(node, source.as_bytes()).as_deref() == Some("sink")
            {
                argument_names(written_arguments(node)[0], source.as_bytes(), &mut names);
                return false;
            }
            true
        });
        names
    }

    #[test]
    fn arguments_yield_what_sobelow_reads() {
        assert_eq!(names_of("sink(name)"), ["name"]);
        assert!(names_of("sink(\"literal\")").is_empty());
        assert!(names_of("sink(@attr)").is_empty());
        assert!(names_of("sink(Foo.Bar)").is_empty());
        assert!(names_of("sink(__MODULE__)").is_empty());
        assert_eq!(names_of("sink(\"#{x}_#{y}\")"), ["x", "y"]);
        assert_eq!(names_of("sink(x <> \"s\")"), ["x"]);
        assert_eq!(names_of("sink(conn.params[\"k\"])"), ["conn.params"]);
        assert_eq!(names_of("sink(m[\"k\"])"), ["m"]);
        assert_eq!(names_of("sink(x.f)"), ["x"]);
        assert_eq!(names_of("sink(Atom.to_string(name))"), ["Elixir.Atom"]);
        assert_eq!(names_of("sink(f(x))"), ["f"]);
        assert_eq!(names_of("sink(&1)"), ["&1"]);
        assert_eq!(names_of("sink([a, {b, c}, %{k: d}])"), ["a", "b", "c", "d"]);
        assert!(names_of("sink(~w(a b))").is_empty());
        assert_eq!(names_of("sink(~s(a#{b}))"), ["b"]);
    }

    /// Whether the first call to `sink` in `body`, written inside `quote` in a `def` in a
    /// macro, runs at run time.
    fn sink_runs_at_run_time(body: &str) -> bool {
        let source = format!(
            "defmacro m(a, n) do\n  quote do\n    def f(x) do\n      {body}\n    end\n  end\nend\n"
        );
        let tree = parse(&source);
        let mut sink = None;
        syntax::walk_preorder(tree.root_node(), |node| {
            if sink.is_none()
                && node.kind() == "call"
                && local_name(node, source.as_bytes()).as_deref() == Some("sink")
            {
                sink = Some(node);
            }
            sink.is_none()
        });
        let site = Site {
            module: None,
            function: None,
            attribute: None,
        };
        runtime_placement(sink.expect("a call to sink"), &site, source.as_bytes()).is_some()
    }

    #[test]
    fn remote_unquote_unquotes_its_one_argument() {
        assert!(sink_runs_at_run_time("sink(x)"));
        assert!(!sink_runs_at_run_time("unquote(sink(a))"));
        assert!(!sink_runs_at_run_time("unquote_splicing(sink(a))"));
        // The one argument of `Mod.unquote(expr)`, as elixir_quote reads it.
        assert!(!sink_runs_at_run_time("Mod.unquote(sink(a))"));
        assert!(!sink_runs_at_run_time("Mod.unquote(sink(a))(x)"));
        assert!(!sink_runs_at_run_time("unquote(a).unquote(sink(a))(x)"));
        assert!(!sink_runs_at_run_time("x |> Mod.unquote(sink(a))()"));
        assert!(!sink_runs_at_run_time("Mod.unquote(elem(sink(a), 0))"));
        // A `do` block is the one argument.
        assert!(!sink_runs_at_run_time("Mod.unquote do\n sink(a)\n end"));
        // The dot's left side and the outer call's arguments are quoted code.
        assert!(sink_runs_at_run_time("sink(x).unquote(n)()"));
        assert!(sink_runs_at_run_time("unquote(a).unquote(n)(sink(x))"));
        assert!(sink_runs_at_run_time("x |> unquote(a).unquote(n)(sink(x))"));
        // Two arguments, a `do` block counting as one: a call to a function named `unquote`.
        assert!(sink_runs_at_run_time("Mod.unquote(sink(x), x)"));
        assert!(sink_runs_at_run_time("Mod.unquote(x) do\n sink(x)\n end"));
        // Only `unquote` has a remote form.
        assert!(sink_runs_at_run_time("Mod.unquote_splicing(sink(x))"));
        // A closer `quote` decides, as inside a local `unquote`.
        assert!(sink_runs_at_run_time("Mod.unquote(quote(do: sink(x)))"));
        assert!(sink_runs_at_run_time("unquote(quote(do: sink(x)))"));
    }

    #[test]
    fn parameters_follow_get_params() {
        let source = "def f(conn, %{\"name\" => name} = params, {a, b}, [c], x \\\\ 1) when is_nil(g), do: 1";
        let tree = parse(source);
        let clause = tree.root_node().named_child(0).unwrap();
        assert_eq!(
            clause_parameters(clause, source.as_bytes()),
            ["conn", "name", "params", "b", "x"]
        );
    }

    #[test]
    fn confidence_needs_a_controller_and_a_parameter() {
        let params = ["name".to_string()];
        assert_eq!(
            confidence(&["name".into()], &params, false),
            Confidence::Low
        );
        assert_eq!(
            confidence(&["name".into()], &params, true),
            Confidence::High
        );
        assert_eq!(
            confidence(&["conn.params".into()], &[], true),
            Confidence::High
        );
        assert_eq!(
            confidence(&["other".into()], &params, true),
            Confidence::Medium
        );
    }
}
