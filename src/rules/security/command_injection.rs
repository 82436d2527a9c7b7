//! `command-injection`: Sobelow's `CI.System` and `CI.OS` (`../shared/CREDO_CHECKS.md` §S.5,
//! §S.9): a command chosen by input.

use super::sobelow;
use crate::model::FileRole;
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};

const SYSTEM: &str = "CI.System";
const OS: &str = "CI.OS";

pub(crate) struct CommandInjection {
    meta: RuleMeta,
}

impl CommandInjection {
    pub(crate) fn new() -> CommandInjection {
        CommandInjection {
            meta: RuleMeta {
                id: "command-injection",
                category: Category::Security,
                severity: Severity::Error,
                enabled_by_default: true,
                summary: "A shell command chosen by input",
                credo_check: None,
                // `CI.OS` for `:os.cmd`, set per finding.
                sobelow_check: Some(SYSTEM),
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds: concat!(
                        "Calls to `System.cmd` and `System.shell` (Sobelow 0.15 CI.System) and \
                         `:os.cmd` (CI.OS) whose command, the first argument or piped value, is \
                         not a constant; direct, piped or captured. As in Sobelow, only the \
                         command is checked: `System.cmd(\"sh\", [\"-c\", script])` is not \
                         reported, although `script` runs in a shell. ",
                        super::judgement_note!()
                    ),
                    why_it_matters: "Whoever chooses the command runs any program on the \
                                     server; `System.shell` and `:os.cmd` also hand the whole \
                                     string to a shell, so input spliced into it can chain \
                                     commands with `;`, `&&` or `$(…)`.",
                    example: "def convert(%{\"file\" => file}) do\n  \
                              :os.cmd(String.to_charlist(\"convert \" <> file <> \" out.png\"))\nend",
                    instead: "def convert(%{\"file\" => file}) do\n  \
                              # a fixed program, input only as separate arguments, no shell\n  \
                              System.cmd(\"convert\", [file, \"out.png\"])\nend",
                },
            },
        }
    }
}

impl Rule for CommandInjection {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            callees: &[("System", "cmd"), ("System", "shell"), (":os", "cmd")],
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
        let sobelow_type = if module == ":os" { OS } else { SYSTEM };
        let source = out.source();
        let names = sobelow::fed_names(call, 0, source);
        if let Some(judgement) = sobelow::judge(call.node, site, source, names) {
            out.sobelow_type(Some(sobelow_type)).node(
                call.node,
                site,
                format!(
                    "Command injection in `{module}.{}` {}.",
                    call.name,
                    judgement.suffix()
                ),
            );
        }
    }
}
