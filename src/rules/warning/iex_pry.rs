//! `iex-pry`: Credo's `Warning.IExPry` (CREDO_CHECKS.md §11).

use super::{event_call, report_trigger, written_alias};
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};

pub(crate) struct IexPry {
    meta: RuleMeta,
}

impl IexPry {
    pub(crate) fn new() -> IexPry {
        IexPry {
            meta: RuleMeta {
                id: "iex-pry",
                category: Category::Warning,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "A call to `IEx.pry` left in the code",
                credo_check: Some("Credo.Check.Warning.IExPry"),
                sobelow_check: None,
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds: "Every call `IEx.pry`, with or without parentheses, on the \
                                    alias written `IEx`. `require IEx` alone is not reported, nor \
                                    is `Elixir.IEx.pry` (Credo matches the alias as written).",
                    why_it_matters: "`IEx.pry` stops the process to open a debugging session; \
                                     committed, it blocks requests and test runs, or does nothing \
                                     useful in a release without a shell.",
                    example: "def charge(order) do\n  require IEx\n  IEx.pry()\n  Billing.charge(order)\nend",
                    instead: "def charge(order) do\n  Billing.charge(order)\nend",
                },
            },
        }
    }
}

impl Rule for IexPry {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            callees: &[("IEx", "pry")],
            ..Interests::default()
        }
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let Some(node) = event_call(call.node) else {
            return;
        };
        match written_alias(node, out.source()) {
            Some((alias, written)) if written == "IEx" => report_trigger(
                out,
                alias,
                "IEx.pry",
                call.node,
                site,
                "There should be no calls to `IEx.pry/0`.",
            ),
            _ => {}
        }
    }
}
