//! `todo-tag`: Credo's `Design.TagTODO` (CREDO_CHECKS.md §6).

use crate::syntax::Node;

use super::tags;
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};

pub(crate) struct TodoTag {
    meta: RuleMeta,
    /// Credo's `include_doc`: also look at `@doc`, `@moduledoc` and `@shortdoc`.
    include_doc: bool,
}

impl TodoTag {
    pub(crate) fn new() -> TodoTag {
        TodoTag {
            meta: RuleMeta {
                id: "todo-tag",
                category: Category::Design,
                severity: Severity::Info,
                enabled_by_default: true,
                summary: "A TODO comment",
                credo_check: Some("Credo.Check.Design.TagTODO"),
                sobelow_check: None,
                parameters: vec![Parameter {
                    name: "include_doc",
                    default: "true".to_string(),
                    description: "Also report `@doc`, `@moduledoc` and `@shortdoc` strings that \
                                  start with the tag.",
                }],
                docs: RuleDocs {
                    what_it_finds: tags::WHAT_IT_FINDS_TODO,
                    why_it_matters: "A TODO is work someone decided not to do yet; listed, \
                                     they can be planned instead of forgotten.",
                    example: "def price(order) do\n  # TODO: apply discounts\n  order.total\nend",
                    instead: "Do the work, or track it in the issue tracker and link it:\n\ndef price(order) do\n  # Discounts: see issue #123\n  order.total\nend",
                },
            },
            include_doc: true,
        }
    }
}

impl Rule for TodoTag {
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
        tags::comments(node, "TODO", out);
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        if self.include_doc {
            tags::doc(call, "TODO", site, out);
        }
    }
}
