//! `dbg-call`: Credo's `Warning.Dbg` (CREDO_CHECKS.md §10).

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use super::{
    attribute_name, capture_target, do_block, local_name, report_trigger, written_alias,
    written_arguments,
};
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};

const MESSAGE: &str = "There should be no calls to `dbg/1`.";

pub(crate) struct DbgCall {
    meta: RuleMeta,
    /// Credo's `allow_captures`: `&dbg/1` is then left alone.
    allow_captures: bool,
}

impl DbgCall {
    pub(crate) fn new() -> DbgCall {
        DbgCall {
            meta: RuleMeta {
                id: "dbg-call",
                category: Category::Warning,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "A call to `dbg` left in the code",
                credo_check: Some("Credo.Check.Warning.Dbg"),
                sobelow_check: None,
                parameters: vec![Parameter {
                    name: "allow_captures",
                    default: "false".to_string(),
                    description: "Leave captures such as `&dbg/1` alone.",
                }],
                docs: RuleDocs {
                    what_it_finds: "Local calls to `dbg` with up to two arguments (`dbg()`, \
                                    `dbg(x)`, `x |> dbg()`), a bare `dbg` on the right of a pipe, \
                                    `Kernel.dbg` with any arguments, and captures `&dbg/1` unless \
                                    `allow_captures` is set. As in Credo, a function head \
                                    `def dbg(x)` is reported too, and `@dbg` is skipped.",
                    why_it_matters: "`dbg` is a debugging aid (Elixir 1.14+): left in, it prints \
                                     code and values to standard output wherever it runs.",
                    example: "def total(items) do\n  items |> Enum.sum() |> dbg()\nend",
                    instead: "def total(items) do\n  Enum.sum(items)\nend",
                },
            },
            allow_captures: false,
        }
    }
}

impl Rule for DbgCall {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            // `x |> dbg`: a bare `dbg` is an identifier, not a call.
            node_kinds: &["binary_operator"],
            callees: &[("Kernel", "dbg")],
            file_facts: false,
        }
    }

    fn check_node(&self, node: Node<'_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let source = out.source();
        let (Some(operator), Some(right)) = (node.field(Field::Operator), node.field(Field::Right))
        else {
            return;
        };
        if &source[operator.byte_range()] != b"|>"
            || right.kind() != "identifier"
            || &source[right.byte_range()] != b"dbg"
            || in_dbg_attribute(node, out)
        {
            return;
        }
        report_trigger(out, right, "dbg", node, site, MESSAGE);
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let source = out.source();
        let node = call.node;
        let (anchor, trigger) = if node.kind() == "call" {
            if local_name(node, source).is_some() {
                // `dbg`, `dbg(x)`, `dbg(x, opts)`; a `do` block is an argument too.
                let written = written_arguments(node).len() + usize::from(do_block(node).is_some());
                if written > 2 {
                    return;
                }
                let Some(target) = node.field(Field::Target) else {
                    return;
                };
                (target, "dbg")
            } else {
                let Some((alias, written)) = written_alias(node, source) else {
                    return;
                };
                match written.as_str() {
                    "Kernel" => (alias, "Kernel.dbg"),
                    "Elixir.Kernel" => (alias, "Elixir.Kernel.dbg"),
                    _ => return,
                }
            }
        } else {
            // A capture: `&dbg/1`, or `&Kernel.dbg/1` (whose inner `Kernel.dbg` Credo matches
            // whatever `allow_captures` says).
            let Some(target) = capture_target(node) else {
                return;
            };
            if target.kind() == "identifier" {
                if self.allow_captures {
                    return;
                }
                (target, "dbg")
            } else {
                let Some((alias, written)) = written_alias(target, source) else {
                    return;
                };
                match written.as_str() {
                    "Kernel" => (alias, "Kernel.dbg"),
                    "Elixir.Kernel" => (alias, "Elixir.Kernel.dbg"),
                    _ => return,
                }
            }
        };
        if in_dbg_attribute(node, out) {
            return;
        }
        report_trigger(out, anchor, trigger, node, site, MESSAGE);
    }
}

/// Credo skips `@dbg …` entirely (it does not descend into it).
fn in_dbg_attribute(node: Node<'_>, out: &mut Reporter<'_>) -> bool {
    out.has_ancestor(node, "@dbg", |ancestor, source| {
        attribute_name(ancestor, source).as_deref() == Some("dbg")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    fn lines(rule: DbgCall, source: &str) -> Vec<u32> {
        findings(Box::new(rule), "lib/x.ex", source)
            .into_iter()
            .map(|(line, ..)| line)
            .collect()
    }

    /// `allow_captures: true` (confirmed): `&dbg/1` is left alone; `&Kernel.dbg/1` still
    /// holds a `Kernel.dbg` call, which Credo matches whatever the parameter says.
    #[test]
    fn captures_can_be_allowed() {
        let source = "\
defmodule M do
  def a, do: &dbg/1
  def b, do: &Kernel.dbg/1
  def c(x), do: dbg(x)
end
";
        assert_eq!(lines(DbgCall::new(), source), vec![2, 3, 4]);
        let allowing = DbgCall {
            allow_captures: true,
            ..DbgCall::new()
        };
        assert_eq!(lines(allowing, source), vec![3, 4]);
    }
}
