//! `operation-on-same-values`: Credo's `Warning.OperationOnSameValues` (CREDO_CHECKS.md §13).

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use super::{
    attribute_name, code_children, is_attribute, local_name, report_trigger, unparenthesised,
};
use crate::rules::engine::{Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};
use crate::syntax;

pub(crate) struct OperationOnSameValues {
    meta: RuleMeta,
}

impl OperationOnSameValues {
    pub(crate) fn new() -> OperationOnSameValues {
        OperationOnSameValues {
            meta: RuleMeta {
                id: "operation-on-same-values",
                category: Category::Warning,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "An operator applied to the same variable or attribute on both sides",
                credo_check: Some("Credo.Check.Warning.OperationOnSameValues"),
                sobelow_check: None,
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds: "`==`, `!=`, `>=`, `<=`, `>`, `<`, `/` and `-` whose left \
                                    operand is a variable (or a paren-less call such as `foo`) or \
                                    a module attribute `@x`, and whose right operand is the same \
                                    expression: `x == x`, `@a / @a`, in bodies, guards and at \
                                    module level. `===`, `+`, `*`, `and`/`or`, left operands like \
                                    `x.y` or `f()`, `@spec`s and operator definitions such as \
                                    `def a - b` are left alone, as Credo does.",
                    why_it_matters: "The result is a constant (`true`, `false`, `1` or `0`): \
                                     usually a typo for another variable, or leftover debugging.",
                    example: "def changed?(old, new), do: old != old",
                    instead: "def changed?(old, new), do: old != new",
                },
            },
        }
    }
}

impl Rule for OperationOnSameValues {
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
        let message = match &source[operator.byte_range()] {
            b"==" | b">=" | b"<=" => "Comparison will always return true.",
            b"!=" | b">" | b"<" => "Comparison will always return false.",
            b"/" => "Operation will always return 1.",
            b"-" => "Operation will always return 0.",
            _ => return,
        };
        let (Some(left), Some(right)) = (
            node.field(Field::Left).map(unparenthesised),
            node.field(Field::Right).map(unparenthesised),
        ) else {
            return;
        };
        // Credo: the left side is `{name, _, nil}` (a variable or a paren-less call) or `@…`.
        if !(left.kind() == "identifier" || is_attribute(left, source)) {
            return;
        }
        // Equal once metadata is removed: the same code, whitespace aside.
        if !same_code(&source[left.byte_range()], &source[right.byte_range()]) {
            return;
        }
        if is_operator_definition_head(node, source) || in_spec(node, out) {
            return;
        }
        let trigger = syntax::text(operator, source).into_owned();
        report_trigger(out, operator, &trigger, node, site, message);
    }
}

/// `def a - b`: Credo skips the head of an operator definition (its body is still walked).
fn is_operator_definition_head(node: Node<'_>, source: &[u8]) -> bool {
    let Some(arguments) = node.parent().filter(|p| p.kind() == "arguments") else {
        return false;
    };
    let Some(definition) = arguments.parent() else {
        return false;
    };
    matches!(
        local_name(definition, source).as_deref(),
        Some("def" | "defp" | "defmacro")
    ) && code_children(arguments).first().map(|n| n.id()) == Some(node.id())
}

/// Whether two pieces of source are the same code once whitespace is removed (as comparing
/// their whitespace-free texts). The left operand is a variable or an attribute, short; a
/// right operand with more code characters than the left has bytes cannot be equal, and is
/// not read further, so an operand thousands of bytes long is not decoded for every operator
/// above it.
fn same_code(left: &[u8], right: &[u8]) -> bool {
    let mut code_bytes = 0;
    for &byte in right {
        if !byte.is_ascii() {
            break; // Unicode whitespace is possible: compare exactly.
        }
        if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C) {
            code_bytes += 1;
            if code_bytes > left.len() {
                return false;
            }
        }
    }
    fn code(bytes: &[u8]) -> impl Iterator<Item = char> + '_ {
        bytes
            .utf8_chunks()
            .flat_map(|chunk| {
                let invalid = (!chunk.invalid().is_empty()).then_some(char::REPLACEMENT_CHARACTER);
                chunk.valid().chars().chain(invalid)
            })
            .filter(|c| !c.is_whitespace())
    }
    code(left).eq(code(right))
}

/// Credo does not descend into `@spec …`.
fn in_spec(node: Node<'_>, out: &mut Reporter<'_>) -> bool {
    out.has_ancestor(node, "@spec", |ancestor, source| {
        attribute_name(ancestor, source).as_deref() == Some("spec")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_code_ignores_whitespace_and_stops_early() {
        assert!(same_code(b"x", b"x"));
        assert!(same_code(b"@a", b"@ a"));
        assert!(same_code(b"x", b" \n x\t"));
        assert!(!same_code(b"x", b"y"));
        assert!(!same_code(b"x", b"x == (x == x)"));
        // Unicode whitespace (an ideographic space) is whitespace, as in the compacted texts.
        assert!(same_code(b"x", "\u{3000}x".as_bytes()));
        assert!(!same_code(b"x", "\u{e9}".as_bytes()));
    }
}
