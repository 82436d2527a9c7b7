//! `unused-suppression`: an `# elixirscope:disable-…` comment that suppresses nothing.

use crate::model::FileRole;
use crate::rules::engine::{Interests, Rule};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};

pub(crate) const ID: &str = "unused-suppression";

pub(crate) struct UnusedSuppression {
    meta: RuleMeta,
}

impl UnusedSuppression {
    pub(crate) fn new() -> UnusedSuppression {
        UnusedSuppression {
            meta: RuleMeta {
                id: ID,
                category: Category::Design,
                severity: Severity::Info,
                enabled_by_default: true,
                summary: "A suppression comment that suppresses nothing",
                credo_check: None,
                sobelow_check: None,
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds: "`# elixirscope:disable-next-line`, `disable-line` and \
                                    `disable-file` comments that no finding of the named \
                                    rules (or of any rule, when none is named) matches.",
                    why_it_matters: "A stale suppression hides the next real finding on its \
                                     line without anyone noticing.",
                    example: "# elixirscope:disable-next-line io-inspect\ndef total(items), do: Enum.sum(items)",
                    instead: "def total(items), do: Enum.sum(items)",
                },
            },
        }
    }
}

impl Rule for UnusedSuppression {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests::default()
    }

    fn applies_to(&self, _role: FileRole) -> bool {
        true
    }

    fn produced_by_engine(&self) -> bool {
        true
    }
}
