//! `unsafe-binary-to-term`: Sobelow's `Misc.BinToTerm` (`../shared/CREDO_CHECKS.md` §S.5),
//! except that `[:safe]` is accepted.

use crate::syntax::Node;

use super::sobelow::{self, Confidence};
use crate::model::FileRole;
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};
use crate::syntax;

pub(crate) struct UnsafeBinaryToTerm {
    meta: RuleMeta,
}

impl UnsafeBinaryToTerm {
    pub(crate) fn new() -> UnsafeBinaryToTerm {
        UnsafeBinaryToTerm {
            meta: RuleMeta {
                id: "unsafe-binary-to-term",
                category: Category::Security,
                severity: Severity::Error,
                enabled_by_default: true,
                summary: "`:erlang.binary_to_term` on input without `[:safe]`",
                credo_check: None,
                sobelow_check: Some("Misc.BinToTerm"),
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds: concat!(
                        "Calls to `:erlang.binary_to_term` whose binary is not a constant and \
                         whose options are not a list holding `:safe`; direct, piped or \
                         captured. Sobelow's Misc.BinToTerm reports the call even with \
                         `[:safe]`; elixirscope deliberately accepts it, since `:safe` refuses \
                         to create atoms and external functions, the two ways a crafted binary \
                         exhausts or takes over the node. As in Sobelow, the confidence is \
                         always high. ",
                        super::judgement_note!()
                    ),
                    why_it_matters: "A crafted binary decodes into new atoms (never \
                                     garbage-collected: the node can run out of atoms) or into \
                                     functions that run the sender's code when the application \
                                     calls them.",
                    example: "def load(cookie) do\n  \
                              :erlang.binary_to_term(Base.decode64!(cookie))\nend",
                    instead: "def load(cookie) do\n  \
                              :erlang.binary_to_term(Base.decode64!(cookie), [:safe])\nend\n\n\
                              # better: never decode terms from outside; use JSON, or\n\
                              # Plug.Crypto.non_executable_binary_to_term(binary, [:safe])",
                },
            },
        }
    }
}

/// Whether the options argument is a list literal holding `:safe`.
fn is_safe(call: &CallEvent<'_, '_>, source: &[u8]) -> bool {
    if call.node.kind() == syntax::kinds::UNARY_OPERATOR {
        return false;
    }
    let index = if call.piped { 0 } else { 1 };
    let Some(options) = sobelow::written_arguments(call.node).get(index).copied() else {
        return false;
    };
    if options.kind() != syntax::kinds::LIST {
        return false;
    }
    let found = options.named_children().any(|element: Node<'_>| {
        element.kind() == syntax::kinds::ATOM && syntax::text(element, source) == ":safe"
    });
    found
}

impl Rule for UnsafeBinaryToTerm {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            callees: &[(":erlang", "binary_to_term")],
            ..Interests::default()
        }
    }

    fn applies_to(&self, role: FileRole) -> bool {
        super::applies_to(role)
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let source = out.source();
        if is_safe(call, source) {
            return;
        }
        let names = sobelow::fed_names(call, 0, source);
        if let Some(mut judgement) = sobelow::judge(call.node, site, source, names) {
            // Misc.BinToTerm is always high (§S.3).
            judgement.confidence = Confidence::High;
            out.node(
                call.node,
                site,
                format!(
                    "`:erlang.binary_to_term` without `[:safe]` can create atoms and executable \
                     functions {}.",
                    judgement.suffix()
                ),
            );
        }
    }
}
