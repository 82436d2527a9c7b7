//! `fixme-tag`: Credo's `Design.TagFIXME` (CREDO_CHECKS.md §6).

use crate::syntax::Node;

use super::tags;
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};

pub(crate) struct FixmeTag {
    meta: RuleMeta,
    /// Credo's `include_doc`: also look at `@doc`, `@moduledoc` and `@shortdoc`.
    include_doc: bool,
}

impl FixmeTag {
    pub(crate) fn new() -> FixmeTag {
        FixmeTag {
            meta: RuleMeta {
                id: "fixme-tag",
                category: Category::Design,
                severity: Severity::Info,
                enabled_by_default: true,
                summary: "A FIXME comment",
                credo_check: Some("Credo.Check.Design.TagFIXME"),
                sobelow_check: None,
                parameters: vec![Parameter {
                    name: "include_doc",
                    default: "true".to_string(),
                    description: "Also report `@doc`, `@moduledoc` and `@shortdoc` strings that \
                                  start with the tag.",
                }],
                docs: RuleDocs {
                    what_it_finds: tags::WHAT_IT_FINDS_FIXME,
                    why_it_matters: "A FIXME marks code its author knew to be wrong; listed, \
                                     they can be fixed instead of shipped.",
                    example: "def parse(date) do\n  # FIXME: breaks on leap years\n  Date.from_iso8601!(date)\nend",
                    instead: "Fix it, or track it in the issue tracker and link it:\n\ndef parse(date) do\n  # Leap years: see issue #123\n  Date.from_iso8601!(date)\nend",
                },
            },
            include_doc: true,
        }
    }
}

impl Rule for FixmeTag {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            node_kinds: &["source"],
            callees: tags::DOC_ATTRIBUTES,
            file_facts: false,
        }
    }

    fn check_node(&self, node: Node<'_>, _site: &Site<'_>, out: &mut Reporter<'_>) {
        tags::comments(node, "FIXME", out);
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        if self.include_doc {
            tags::doc(call, "FIXME", site, out);
        }
    }
}
