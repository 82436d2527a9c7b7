//! warning rules, and the few tree helpers the call-shaped rules of this category and of
//! `design` share: finding the callee token Credo anchors on, counting arguments as written,
//! and reporting a Credo "trigger" (column = the token's, end = column + the trigger's length).

pub(crate) mod dbg_call;
pub(crate) mod expensive_empty_check;
pub(crate) mod iex_pry;
pub(crate) mod io_inspect;
pub(crate) mod operation_on_same_values;
pub(crate) mod raise_inside_rescue;
pub(crate) mod unused_enum_result;

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use crate::extract::{compact, compact_spaces};
use crate::rules::engine::{Reporter, Rule, Site};
use crate::syntax::{self, Positions};

/// The rules of this category.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(dbg_call::DbgCall::new()),
        Box::new(expensive_empty_check::ExpensiveEmptyCheck::new()),
        Box::new(iex_pry::IexPry::new()),
        Box::new(io_inspect::IoInspect::new()),
        Box::new(operation_on_same_values::OperationOnSameValues::new()),
        Box::new(raise_inside_rescue::RaiseInsideRescue::new()),
        Box::new(unused_enum_result::UnusedEnumResult::new()),
    ]
}

/// The `call` node a call event is about: the event's own node, or for a capture `&M.f/2`
/// (whose event carries the `&` node) the `M.f` call inside it.
pub(crate) fn event_call(node: Node<'_>) -> Option<Node<'_>> {
    if node.kind() == "call" {
        return Some(node);
    }
    capture_target(node).filter(|target| target.kind() == "call")
}

/// `&name/arity` and `&M.name/arity`: the node left of the `/` (an `identifier` or a `call`).
pub(crate) fn capture_target(node: Node<'_>) -> Option<Node<'_>> {
    if node.kind() != "unary_operator" {
        return None;
    }
    let operand = node.field(Field::Operand)?;
    if operand.kind() != "binary_operator" {
        return None;
    }
    operand.field(Field::Left)
}

/// For a remote call `M.f(...)`: the node left of the dot (`M`) and the function name.
pub(crate) fn remote_parts(call: Node<'_>) -> Option<(Node<'_>, Node<'_>)> {
    let target = call.field(Field::Target)?;
    if target.kind() != "dot" {
        return None;
    }
    Some((target.field(Field::Left)?, target.field(Field::Right)?))
}

/// The alias left of the dot of a remote call, exactly as written (`IO`, `Elixir.IO`), which
/// is what Credo's patterns match (`{:__aliases__, _, [:IO]}`), before any alias expansion.
pub(crate) fn written_alias<'t>(call: Node<'t>, source: &[u8]) -> Option<(Node<'t>, String)> {
    let (left, _) = remote_parts(call)?;
    (left.kind() == "alias").then(|| (left, compact(&syntax::text(left, source))))
}

/// The name of a local call `f(...)` (its target is an identifier).
pub(crate) fn local_name<'s>(
    call: Node<'_>,
    source: &'s [u8],
) -> Option<std::borrow::Cow<'s, str>> {
    if call.kind() != "call" {
        return None;
    }
    let target = call.field(Field::Target)?;
    (target.kind() == "identifier").then(|| syntax::text(target, source))
}

pub(crate) use crate::syntax::{call_arguments as written_arguments, code_children, do_block};

/// Whether `node` is `@…` (a module attribute read or definition).
pub(crate) fn is_attribute(node: Node<'_>, source: &[u8]) -> bool {
    node.kind() == "unary_operator"
        && node
            .field(Field::Operator)
            .is_some_and(|op| &source[op.byte_range()] == b"@")
}

/// For `@name value` (or `@name`): the attribute's name.
pub(crate) fn attribute_name<'s>(
    node: Node<'_>,
    source: &'s [u8],
) -> Option<std::borrow::Cow<'s, str>> {
    if !is_attribute(node, source) {
        return None;
    }
    let operand = node.field(Field::Operand)?;
    match operand.kind() {
        "identifier" => Some(syntax::text(operand, source)),
        "call" => local_name(operand, source),
        _ => None,
    }
}

/// `(x)` is `x` in Elixir's AST: a parenthesised block of one expression disappears.
pub(crate) fn unparenthesised(node: Node<'_>) -> Node<'_> {
    let mut node = node;
    while node.kind() == "block" {
        match code_children(node).as_slice() {
            [only] => node = *only,
            _ => break,
        }
    }
    node
}

/// Reports a Credo-style finding: it starts at `anchor` (the token Credo's issue points at)
/// and spans `trigger` (column + the trigger's length, as Credo's `column_end`); the
/// fingerprint uses the text of `code`, the whole construct.
pub(crate) fn report_trigger(
    out: &mut Reporter<'_>,
    anchor: Node<'_>,
    trigger: &str,
    code: Node<'_>,
    site: &Site<'_>,
    message: impl Into<String>,
) {
    let positions = Positions::new(out.source());
    let (line, column) = positions.start(anchor);
    let end_column = column + trigger.chars().count() as u32;
    let snippet = compact_spaces(&syntax::text(code, out.source()));
    out.at(
        (line, column, line, end_column),
        site.module.map(str::to_string),
        site.function
            .map(|(name, arity, _)| format!("{name}/{arity}")),
        snippet,
        message,
    );
}
