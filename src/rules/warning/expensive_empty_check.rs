//! `expensive-empty-check`: Credo's `Warning.ExpensiveEmptyEnumCheck` (CREDO_CHECKS.md §14).

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use super::{local_name, unparenthesised, written_alias, written_arguments};
use crate::extract::compact_spaces;
use crate::rules::engine::{Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};
use crate::syntax::{self, Positions};

pub(crate) struct ExpensiveEmptyCheck {
    meta: RuleMeta,
}

impl ExpensiveEmptyCheck {
    pub(crate) fn new() -> ExpensiveEmptyCheck {
        ExpensiveEmptyCheck {
            meta: RuleMeta {
                id: "expensive-empty-check",
                category: Category::Warning,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "An emptiness test that counts every element",
                credo_check: Some("Credo.Check.Warning.ExpensiveEmptyEnumCheck"),
                sobelow_check: None,
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds: "Comparisons of `Enum.count(…)` or `length(x)` — as the direct \
                                    operand — with the integer `0` (`==`, `!=`, `===`, `!==`, `>`, \
                                    `<`, `>=`, `<=`, either side), and `… >= 1`, `… < 1`, \
                                    `1 <= …`, guards included. `x |> length() == 0` and \
                                    comparisons with `0.0` are left alone, as Credo does. The line is \
                                    the operator's, as in Credo; the column is the counted \
                                    call's own (Credo's points at the first such call on the \
                                    line), or the operator's when the call starts on an earlier \
                                    line (Credo then has none).",
                    why_it_matters: "`length/1` and `Enum.count/1` walk the whole collection to \
                                     answer a question the first element answers.",
                    example: "def empty?(items), do: length(items) == 0",
                    instead: "def empty?(items), do: items == []\n# or Enum.empty?(items) for any enumerable",
                },
            },
        }
    }
}

/// What is counted.
enum Measured {
    /// `Enum.count(...)` with this many written arguments.
    EnumCount(usize),
    Length,
}

impl Rule for ExpensiveEmptyCheck {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            node_kinds: &["binary_operator"],
            ..Interests::default()
        }
    }

    fn check_node(&self, node: Node<'_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let source = out.source();
        let Some(operator) = node.field(Field::Operator) else {
            return;
        };
        let op = &source[operator.byte_range()];
        if !matches!(
            op,
            b"==" | b"!=" | b"===" | b"!==" | b">" | b"<" | b">=" | b"<="
        ) {
            return;
        }
        let (Some(left), Some(right)) = (
            node.field(Field::Left).map(unparenthesised),
            node.field(Field::Right).map(unparenthesised),
        ) else {
            return;
        };
        let found = match (measured(left, source), measured(right, source)) {
            (Some(m), None) => match integer(right, source) {
                Some(0) => Some((left, m)),
                Some(1) if matches!(op, b">=" | b"<") => Some((left, m)),
                _ => None,
            },
            (None, Some(m)) => match integer(left, source) {
                Some(0) => Some((right, m)),
                Some(1) if op == b"<=" => Some((right, m)),
                _ => None,
            },
            _ => None,
        };
        let Some((operand, measured)) = found else {
            return;
        };
        let (trigger, message) = match measured {
            Measured::EnumCount(2) => (
                "Enum.count",
                "Using `Enum.count/1` is expensive, prefer `not Enum.any?/2`.",
            ),
            Measured::EnumCount(_) => (
                "Enum.count",
                "Using `Enum.count/1` is expensive, prefer `Enum.empty?/1`.",
            ),
            Measured::Length => (
                "length",
                "Using `length/1` is expensive, prefer comparing against an empty list.",
            ),
        };
        // Credo reports the operator's line and looks the trigger up in that line's text.
        let positions = Positions::new(source);
        let (operator_line, operator_column) = positions.start(operator);
        let (line, column, end_column) = match positions.start(operand) {
            (line, column) if line == operator_line => {
                (line, column, column + trigger.chars().count() as u32)
            }
            // The counted call starts on another line: Credo finds no column; point at the
            // operator.
            _ => (operator_line, operator_column, positions.end(operator).1),
        };
        let snippet = compact_spaces(&syntax::text(node, source));
        out.at(
            (line, column, line, end_column),
            site.module.map(str::to_string),
            site.function
                .map(|(name, arity, _)| format!("{name}/{arity}")),
            snippet,
            message,
        );
    }
}

/// `Enum.count(…)` (the alias written `Enum`, any arguments) or a local `length(x)` with
/// exactly one argument.
fn measured(node: Node<'_>, source: &[u8]) -> Option<Measured> {
    if node.kind() != "call" {
        return None;
    }
    if let Some(name) = local_name(node, source) {
        return (name == "length" && written_arguments(node).len() == 1)
            .then_some(Measured::Length);
    }
    let (_, alias) = written_alias(node, source)?;
    let (_, name) = super::remote_parts(node)?;
    (alias == "Enum" && &source[name.byte_range()] == b"count")
        .then(|| Measured::EnumCount(written_arguments(node).len()))
}

/// The value of an integer literal (`0`, `0x0`, `1_000`).
fn integer(node: Node<'_>, source: &[u8]) -> Option<u64> {
    if node.kind() != "integer" {
        return None;
    }
    let text: String = syntax::text(node, source)
        .chars()
        .filter(|&c| c != '_')
        .collect();
    let (digits, radix) = match text.get(..2) {
        Some("0x") => (&text[2..], 16),
        Some("0o") => (&text[2..], 8),
        Some("0b") => (&text[2..], 2),
        _ => (text.as_str(), 10),
    };
    u64::from_str_radix(digits, radix).ok()
}
