//! `unused-enum-result`: Credo's `Warning.UnusedEnumOperation` (CREDO_CHECKS.md §12).
//!
//! Credo decides each `Enum` call by climbing from it through its ancestors (a postwalk) until
//! one of them decides; here the climb runs on the tree-sitter tree, where Elixir's implicit
//! shapes are explicit nodes: a `do_block`, `body` or parenthesised `block` of several
//! statements is Elixir's `__block__`, an `arguments` node is the argument list.

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use super::{
    code_children, do_block, local_name, report_trigger, written_alias, written_arguments,
};
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};

/// Credo's `@funs_with_return_value` (it has `member`, not `member?`, so `Enum.member?` is
/// never checked).
const CHECKED: &[(&str, &str)] = &[
    ("Enum", "all?"),
    ("Enum", "any?"),
    ("Enum", "at"),
    ("Enum", "chunk"),
    ("Enum", "chunk_by"),
    ("Enum", "concat"),
    ("Enum", "count"),
    ("Enum", "dedup"),
    ("Enum", "dedup_by"),
    ("Enum", "drop"),
    ("Enum", "drop_while"),
    ("Enum", "empty?"),
    ("Enum", "fetch"),
    ("Enum", "fetch!"),
    ("Enum", "filter"),
    ("Enum", "filter_map"),
    ("Enum", "find"),
    ("Enum", "find_index"),
    ("Enum", "find_value"),
    ("Enum", "flat_map"),
    ("Enum", "flat_map_reduce"),
    ("Enum", "group_by"),
    ("Enum", "intersperse"),
    ("Enum", "into"),
    ("Enum", "join"),
    ("Enum", "map"),
    ("Enum", "map_join"),
    ("Enum", "map_reduce"),
    ("Enum", "max"),
    ("Enum", "max_by"),
    ("Enum", "member"),
    ("Enum", "min"),
    ("Enum", "min_by"),
    ("Enum", "min_max"),
    ("Enum", "min_max_by"),
    ("Enum", "partition"),
    ("Enum", "random"),
    ("Enum", "reduce"),
    ("Enum", "reduce_while"),
    ("Enum", "reject"),
    ("Enum", "reverse"),
    ("Enum", "reverse_slice"),
    ("Enum", "scan"),
    ("Enum", "shuffle"),
    ("Enum", "slice"),
    ("Enum", "sort"),
    ("Enum", "sort_by"),
    ("Enum", "split"),
    ("Enum", "split_while"),
    ("Enum", "sum"),
    ("Enum", "take"),
    ("Enum", "take_every"),
    ("Enum", "take_random"),
    ("Enum", "take_while"),
    ("Enum", "to_list"),
    ("Enum", "uniq"),
    ("Enum", "uniq_by"),
    ("Enum", "unzip"),
    ("Enum", "with_index"),
    ("Enum", "zip"),
];

pub(crate) struct UnusedEnumResult {
    meta: RuleMeta,
    /// Credo's undocumented `ignore:` list: functions taken out of [`CHECKED`].
    ignore: Vec<String>,
}

impl UnusedEnumResult {
    pub(crate) fn new() -> UnusedEnumResult {
        UnusedEnumResult {
            meta: RuleMeta {
                id: "unused-enum-result",
                category: Category::Warning,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "The result of an `Enum` function is thrown away",
                credo_check: Some("Credo.Check.Warning.UnusedEnumOperation"),
                sobelow_check: None,
                parameters: vec![Parameter {
                    name: "ignore",
                    default: "[]".to_string(),
                    description: "`Enum` functions not to check (Credo's undocumented `ignore:`).",
                }],
                docs: RuleDocs {
                    what_it_finds: "Calls to `Enum` functions that only compute a value (`map`, \
                                    `filter`, `sort`, `reduce`, … — Credo's list; `each` is not \
                                    in it, nor `member?`) inside a `def`, `defp` or `defmacro` \
                                    whose result is not used: a statement that is not the last \
                                    of its block, or the last one of a block whose value is \
                                    itself discarded (a `case` or `if` branch in the middle of \
                                    a function, a `try`'s `after`). The result counts as used \
                                    when it is assigned, piped on, passed to any call or \
                                    operator, put in a map, or is the value of the function, of \
                                    its `rescue`/`catch`, or of a `with`, `cond` or `receive` \
                                    branch — Credo's rules, followed exactly.",
                    why_it_matters: "Elixir data is immutable: `Enum.map(users, &normalize/1)` \
                                     on a line of its own changes nothing, so the code after it \
                                     works on the old value. It is almost always a forgotten \
                                     assignment.",
                    example: "def prepare(users) do\n  Enum.reject(users, &is_nil/1)\n  Enum.map(users, &normalize/1)\nend",
                    instead: "def prepare(users) do\n  users\n  |> Enum.reject(&is_nil/1)\n  |> Enum.map(&normalize/1)\nend",
                },
            },
            ignore: Vec::new(),
        }
    }
}

impl Rule for UnusedEnumResult {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            callees: CHECKED,
            ..Interests::default()
        }
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let source = out.source();
        // A capture `&Enum.map/2` is an argument of `/`: always used.
        if call.node.kind() != "call" || self.ignore.iter().any(|name| name == call.name) {
            return;
        }
        let Some((alias, written)) = written_alias(call.node, source) else {
            return;
        };
        if written != "Enum" {
            return;
        }
        if verdict(call.node, source) == Verdict::Unused {
            let trigger = format!("Enum.{}", call.name);
            report_trigger(
                out,
                alias,
                &trigger,
                call.node,
                site,
                "There should be no unused return values for `Enum` functions.",
            );
        }
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Verdict {
    Used,
    Unused,
    /// Not inside a `def`, `defp` or `defmacro`: not a candidate at all.
    NotCandidate,
}

/// What one ancestor says about the call below it.
enum Step {
    Climb,
    Decide(Verdict),
}

/// Climbs from `call` through its named ancestors until one decides (CREDO_CHECKS.md §12's
/// table); an "unused" verdict stands only inside a `def`, `defp` or `defmacro`.
fn verdict(call: Node<'_>, source: &[u8]) -> Verdict {
    // The nodes from the call up to the current ancestor's child, innermost first.
    let mut path = vec![call];
    let mut current = call.named_parent();
    while let Some(parent) = current {
        match step(parent, &path, source) {
            Step::Climb => {}
            Step::Decide(Verdict::Unused) => {
                return if inside_definition(parent, source) {
                    Verdict::Unused
                } else {
                    Verdict::NotCandidate
                };
            }
            Step::Decide(verdict) => return verdict,
        }
        path.push(parent);
        current = parent.named_parent();
    }
    Verdict::NotCandidate
}

/// The path node `n` levels below the ancestor being decided (`0` is its child).
fn below<'t>(path: &[Node<'t>], n: usize) -> Option<Node<'t>> {
    path.len().checked_sub(n + 1).map(|index| path[index])
}

fn step(parent: Node<'_>, path: &[Node<'_>], source: &[u8]) -> Step {
    use Step::{Climb, Decide};
    use Verdict::Used;
    let Some(child) = below(path, 0) else {
        return Climb;
    };
    match parent.kind() {
        // Containers Credo climbs through: argument lists, lists, keyword lists and pairs,
        // `->` clauses and `fn`.
        "arguments" | "list" | "keywords" | "pair" | "stab_clause" | "anonymous_function" => Climb,
        "tuple" if code_children(parent).len() == 2 => Climb,
        // Elixir's `__block__`: only the last statement's value goes on.
        "do_block" | "else_block" | "after_block" | "rescue_block" | "catch_block" | "body"
        | "block" => block_step(parent, child),
        "binary_operator" => {
            let operator = parent
                .field(Field::Operator)
                .map(|op| &source[op.byte_range()]);
            let right = parent.field(Field::Right).map(|r| r.id());
            match operator {
                Some(b"|>") if right == Some(child.id()) => Climb,
                _ => Decide(Used),
            }
        }
        "call" => call_step(parent, path, source),
        "source" => Decide(Verdict::NotCandidate),
        // Operators, maps, structs, other tuples, `x.f`, strings and everything else: the
        // value is an argument of something.
        _ => Decide(Used),
    }
}

/// The statements of a block (its code children that are neither sections such as
/// `rescue_block` nor `->` clauses).
fn statements(block: Node<'_>) -> Vec<Node<'_>> {
    code_children(block)
        .into_iter()
        .filter(|node| !node.kind().ends_with("_block") && node.kind() != "stab_clause")
        .collect()
}

/// A block of statements is `{:__block__, _, statements}` when it has more than one, and its
/// value is its last statement. A block of `->` clauses is a plain list.
fn block_step(block: Node<'_>, child: Node<'_>) -> Step {
    let statements = statements(block);
    let is_statement = statements.iter().any(|s| s.id() == child.id());
    if !is_statement || statements.len() < 2 {
        return Step::Climb;
    }
    if statements.last().map(|s| s.id()) == Some(child.id()) {
        Step::Climb
    } else {
        Step::Decide(Verdict::Unused)
    }
}

fn call_step(call: Node<'_>, path: &[Node<'_>], source: &[u8]) -> Step {
    use Step::{Climb, Decide};
    use Verdict::{Unused, Used};
    let (Some(child), grandchild) = (below(path, 0), below(path, 1)) else {
        return Climb;
    };
    let Some(name) = local_name(call, source) else {
        // A remote call (`M.f`, `:e.f`, `v.f`, `f.()`, `@a.f`) with our call in its
        // arguments or `do` block.
        return Decide(Used);
    };
    let from_block = child.kind() == "do_block";
    match name.as_ref() {
        "def" | "defp" | "defmacro" => Decide(definition_verdict(call, path, source)),
        "if" | "unless" | "case" | "for" | "quote" => {
            // Credo's "head" is every argument but the last, which is the `do` list (or the
            // keyword list holding `do:`): the head's value is used.
            if from_block {
                return Climb;
            }
            let last = written_arguments(call).last().map(|n| n.id());
            let in_last = do_block(call).is_none()
                && grandchild.is_some_and(|argument| Some(argument.id()) == last);
            if in_last {
                Climb
            } else {
                Decide(Used)
            }
        }
        "try" => {
            if from_block && grandchild.is_some_and(|section| section.kind() == "after_block") {
                Decide(Unused)
            } else {
                Climb
            }
        }
        // `with`, `cond`, `receive`, `raise`, `unquote`, any other local call.
        _ => Decide(Used),
    }
}

/// A definition always decides: used in the last expression of its body (the climb got here
/// only from there) or anywhere in its `rescue` or `catch`; unused in its head, its `else` or
/// `after`.
fn definition_verdict(call: Node<'_>, path: &[Node<'_>], source: &[u8]) -> Verdict {
    let (Some(child), Some(grandchild)) = (below(path, 0), below(path, 1)) else {
        return Verdict::Unused;
    };
    match child.kind() {
        "do_block" => match grandchild.kind() {
            "rescue_block" | "catch_block" => Verdict::Used,
            "else_block" | "after_block" => Verdict::Unused,
            _ if statements(child).last().map(|s| s.id()) == Some(grandchild.id()) => Verdict::Used,
            _ => Verdict::Unused,
        },
        "arguments" => {
            // `def f(x), do: expr` (the keyword list is the last argument).
            let last = written_arguments(call).last().map(|n| n.id());
            let pair = below(path, 2);
            let key = pair
                .filter(|_| grandchild.kind() == "keywords" && Some(grandchild.id()) == last)
                .filter(|pair| pair.kind() == "pair")
                .and_then(|pair| pair.field(Field::Key))
                .map(|key| {
                    let text = crate::syntax::text(key, source);
                    text.trim().trim_end_matches(':').to_string()
                });
            match key.as_deref() {
                Some("do" | "rescue" | "catch") => Verdict::Used,
                _ => Verdict::Unused,
            }
        }
        _ => Verdict::Unused,
    }
}

/// Whether `node` or one of its ancestors is a `def`, `defp` or `defmacro`.
fn inside_definition(node: Node<'_>, source: &[u8]) -> bool {
    let mut current = Some(node);
    while let Some(candidate) = current {
        if candidate.kind() == "call"
            && matches!(
                local_name(candidate, source).as_deref(),
                Some("def" | "defp" | "defmacro")
            )
        {
            return true;
        }
        current = candidate.named_parent();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    /// Credo's hidden `ignore:` takes functions out of the checked list.
    #[test]
    fn ignored_functions_are_not_checked() {
        let source = "\
defmodule M do
  def a(x, f) do
    Enum.map(x, f)
    Enum.sort(x)
    x
  end
end
";
        let lines = |rule: UnusedEnumResult| -> Vec<u32> {
            findings(Box::new(rule), "lib/x.ex", source)
                .into_iter()
                .map(|(line, ..)| line)
                .collect()
        };
        assert_eq!(lines(UnusedEnumResult::new()), vec![3, 4]);
        let ignoring = UnusedEnumResult {
            ignore: vec!["map".to_string()],
            ..UnusedEnumResult::new()
        };
        assert_eq!(lines(ignoring), vec![4]);
    }
}
