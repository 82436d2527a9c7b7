//! `raise-inside-rescue`: Credo's `Warning.RaiseInsideRescue` (CREDO_CHECKS.md §15).

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use super::{capture_target, local_name, report_trigger, written_arguments};
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};

const MESSAGE: &str = "Use `reraise` inside a rescue block to preserve the original stacktrace.";

pub(crate) struct RaiseInsideRescue {
    meta: RuleMeta,
}

impl RaiseInsideRescue {
    pub(crate) fn new() -> RaiseInsideRescue {
        RaiseInsideRescue {
            meta: RuleMeta {
                id: "raise-inside-rescue",
                category: Category::Warning,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "`raise` in a `rescue` clause, which loses the original stacktrace",
                credo_check: Some("Credo.Check.Warning.RaiseInsideRescue"),
                sobelow_check: None,
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds: "Local `raise` calls anywhere in the `rescue` clauses (nested \
                                    `fn` and `case` included) of a `try`, or of a `def`, `defp`, \
                                    `defmacro` or `defmacrop` whose only other section is its \
                                    body. It follows Credo's walk exactly: a definition that also \
                                    has `after`, `else` or `catch` is not inspected; once a `try` \
                                    or such a definition has a `rescue`, only that `rescue` is \
                                    looked into, so a `try`/`rescue` in its body is not seen; \
                                    and a `try`/`rescue` inside another `rescue` is reported \
                                    twice. `reraise` and `Kernel.raise` are never reported.",
                    why_it_matters: "A new `raise` starts a new stacktrace: the place where the \
                                     original error happened is lost from logs and error \
                                     trackers.",
                    example: "try do\n  parse(input)\nrescue\n  error in ArgumentError ->\n    raise ParseError, message: Exception.message(error)\nend",
                    instead: "try do\n  parse(input)\nrescue\n  error in ArgumentError ->\n    reraise ParseError, [message: Exception.message(error)], __STACKTRACE__\nend",
                },
            },
        }
    }
}

impl Rule for RaiseInsideRescue {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            callees: &[("Kernel", "raise")],
            ..Interests::default()
        }
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let source = out.source();
        // `raise …` or `&raise/1` (Credo sees `{:raise, meta, _}` in both); not `Kernel.raise`.
        let anchor = if call.node.kind() == "call" {
            if local_name(call.node, source).is_none() {
                return;
            }
            call.node.field(Field::Target)
        } else {
            capture_target(call.node).filter(|target| target.kind() == "identifier")
        };
        let Some(anchor) = anchor else {
            return;
        };
        for _ in 0..times_seen(call.node, source) {
            report_trigger(out, anchor, "raise", call.node, site, MESSAGE);
        }
    }
}

/// How many times Credo's walk finds this `raise` in a rescue section.
///
/// Credo walks the file; at a `try` with a `rescue`, or at a definition whose keyword list is
/// exactly `[do:, rescue:]`, it collects every `raise` in that rescue section and then walks
/// on **only** into the rescue section. So a construct is reached only if every enclosing such
/// construct holds it in its rescue section, and the `raise` is counted once per reached
/// construct whose rescue section holds it: the length of the run of "in the rescue" flags
/// from the outermost construct inwards.
fn times_seen(raise: Node<'_>, source: &[u8]) -> usize {
    // One flag per construct on the path, innermost first: is the path in its rescue section?
    let mut flags = Vec::new();
    let mut child = raise;
    let mut via_rescue = false;
    let mut current = raise.parent();
    while let Some(parent) = current {
        match parent.kind() {
            "do_block" => via_rescue = child.kind() == "rescue_block",
            "call" if inspects_rescue(parent, source) => {
                flags.push(child.kind() == "do_block" && via_rescue);
            }
            _ => {}
        }
        child = parent;
        current = parent.parent();
    }
    flags
        .iter()
        .rev()
        .take_while(|in_rescue| **in_rescue)
        .count()
}

/// A `try` with a `rescue` section, or a definition with exactly a body and a `rescue`.
fn inspects_rescue(call: Node<'_>, source: &[u8]) -> bool {
    let Some(name) = local_name(call, source) else {
        return false;
    };
    let is_try = match name.as_ref() {
        "try" => true,
        "def" | "defp" | "defmacro" | "defmacrop" => false,
        _ => return false,
    };
    let Some(block) = super::do_block(call) else {
        return false;
    };
    let sections: Vec<&str> = block
        .named_children()
        .map(|child| child.kind())
        .filter(|kind| kind.ends_with("_block"))
        .collect();
    if is_try {
        sections.contains(&"rescue_block")
    } else {
        sections == ["rescue_block"] && written_arguments(call).len() == 1
    }
}
