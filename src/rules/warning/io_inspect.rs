//! `io-inspect`: Credo's `Warning.IoInspect` (CREDO_CHECKS.md §9).

use super::{event_call, report_trigger, written_alias, written_arguments};
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};

pub(crate) struct IoInspect {
    meta: RuleMeta,
}

impl IoInspect {
    pub(crate) fn new() -> IoInspect {
        IoInspect {
            meta: RuleMeta {
                id: "io-inspect",
                category: Category::Warning,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "A call to `IO.inspect` left in the code",
                credo_check: Some("Credo.Check.Warning.IoInspect"),
                sobelow_check: None,
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds:
                        "Calls to `IO.inspect` (or `Elixir.IO.inspect`) with fewer than \
                                    three arguments as written, piped or not, and captures such as \
                                    `&IO.inspect/1`. `IO.inspect(device, item, opts)`, which names \
                                    its device, is left alone, as Credo does.",
                    why_it_matters: "`IO.inspect` is a debugging aid: left in, it prints to \
                                     standard output in production and in test runs.",
                    example: "def total(items) do\n  items |> IO.inspect() |> Enum.sum()\nend",
                    instead: "def total(items) do\n  Enum.sum(items)\nend",
                },
            },
        }
    }
}

impl Rule for IoInspect {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            callees: &[("IO", "inspect")],
            ..Interests::default()
        }
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let Some(node) = event_call(call.node) else {
            return;
        };
        // Credo matches the alias as written: `IO` or `Elixir.IO`, not another alias of IO.
        let Some((alias, written)) = written_alias(node, out.source()) else {
            return;
        };
        let trigger = match written.as_str() {
            "IO" => "IO.inspect",
            "Elixir.IO" => "Elixir.IO.inspect",
            _ => return,
        };
        // Fewer than 3 arguments as written: a piped value is not written, and a capture
        // `&IO.inspect/3` has none written at all (Credo flags it too).
        if written_arguments(node).len() < 3 {
            // Credo's message names `/1` whatever the arity.
            report_trigger(
                out,
                alias,
                trigger,
                call.node,
                site,
                "There should be no calls to `IO.inspect/1`.",
            );
        }
    }
}
