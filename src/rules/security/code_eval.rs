//! `code-eval`: Sobelow's `RCE.CodeModule` and `RCE.EEx` (`../shared/CREDO_CHECKS.md` §S.5):
//! code evaluated from input.

use super::sobelow;
use crate::model::FileRole;
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};

const CODE_MODULE: &str = "RCE.CodeModule";
const EEX: &str = "RCE.EEx";

pub(crate) struct CodeEval {
    meta: RuleMeta,
}

impl CodeEval {
    pub(crate) fn new() -> CodeEval {
        CodeEval {
            meta: RuleMeta {
                id: "code-eval",
                category: Category::Security,
                severity: Severity::Error,
                enabled_by_default: true,
                summary: "Code or a template evaluated from input",
                credo_check: None,
                // `RCE.EEx` for the EEx functions, set per finding.
                sobelow_check: Some(CODE_MODULE),
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds: concat!(
                        "Calls to `Code.eval_string`, `Code.eval_file` and `Code.eval_quoted` \
                         (Sobelow RCE.CodeModule) and to `EEx.eval_string` and `EEx.eval_file` \
                         (RCE.EEx) whose first argument (or piped value) is not a constant; \
                         direct, piped or captured. ",
                        super::judgement_note!()
                    ),
                    why_it_matters: "Whoever controls the evaluated code or template runs \
                                     arbitrary code with the application's rights: reading \
                                     secrets, calling `System.cmd`, taking over the node.",
                    example: "def render_greeting(conn, %{\"template\" => template}) do\n  \
                              html(conn, EEx.eval_string(template, name: conn.assigns.name))\nend",
                    instead: "# Compile templates from files you ship, never from input:\n\
                              require EEx\n\
                              EEx.function_from_file(:defp, :greeting, \"lib/app/greeting.eex\", [:name])\n\n\
                              def render_greeting(conn, _params) do\n  \
                              html(conn, greeting(conn.assigns.name))\nend",
                },
            },
        }
    }
}

impl Rule for CodeEval {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            callees: &[
                ("Code", "eval_string"),
                ("Code", "eval_file"),
                ("Code", "eval_quoted"),
                ("EEx", "eval_string"),
                ("EEx", "eval_file"),
            ],
            ..Interests::default()
        }
    }

    fn applies_to(&self, role: FileRole) -> bool {
        super::applies_to(role)
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let Some(module) = call.module else {
            return;
        };
        let sobelow_type = if module == "EEx" { EEX } else { CODE_MODULE };
        let source = out.source();
        let names = sobelow::fed_names(call, 0, source);
        if let Some(judgement) = sobelow::judge(call.node, site, source, names) {
            out.sobelow_type(Some(sobelow_type)).node(
                call.node,
                site,
                format!(
                    "Code execution in `{module}.{}` {}.",
                    call.name,
                    judgement.suffix()
                ),
            );
        }
    }
}
