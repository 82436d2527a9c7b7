//! `operation-on-same-values`: Credo's `Warning.OperationOnSameValues` (CREDO_CHECKS.md §13).

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use super::{
    attribute_name, code_children, compact, is_attribute, local_name, report_trigger,
    unparenthesised,
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
        if compact(&syntax::text(left, source)) != compact(&syntax::text(right, source)) {
            return;
        }
        if is_operator_definition_head(node, source) || in_spec(node, source) {
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

/// Credo does not descend into `@spec …`.
fn in_spec(node: Node<'_>, source: &[u8]) -> bool {
    let mut current = node.parent();
    while let Some(ancestor) = current {
        if attribute_name(ancestor, source).as_deref() == Some("spec") {
            return true;
        }
        current = ancestor.parent();
    }
    false
}
