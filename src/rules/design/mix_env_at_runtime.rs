//! `mix-env-at-runtime`: Credo's `Warning.MixEnv` (CREDO_CHECKS.md §8).

use crate::syntax::Node;

use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};
use crate::rules::warning::{event_call, local_name, report_trigger, written_alias};

pub(crate) struct MixEnvAtRuntime {
    meta: RuleMeta,
    /// Credo's `excluded_paths`: prefixes of the file's directory (`lib/tasks`) to skip.
    excluded_paths: Vec<String>,
}

impl MixEnvAtRuntime {
    pub(crate) fn new() -> MixEnvAtRuntime {
        MixEnvAtRuntime {
            meta: RuleMeta {
                id: "mix-env-at-runtime",
                category: Category::Design,
                severity: Severity::Warning,
                enabled_by_default: false,
                summary: "`Mix.env` called from application code",
                credo_check: Some("Credo.Check.Warning.MixEnv"),
                sobelow_check: None,
                parameters: vec![Parameter {
                    name: "excluded_paths",
                    default: "[]".to_string(),
                    description: "Directories (prefixes of the file's directory relative to the \
                                  root, e.g. `lib/mix`) whose files are not checked.",
                }],
                docs: RuleDocs {
                    what_it_finds: "Calls to `Mix.env` (with or without parentheses, and \
                                    `&Mix.env/0`) inside a `def`, `defp` or `defmacro` — heads \
                                    and default arguments included — in files other than `.exs` \
                                    scripts. `@env Mix.env()` at module level is evaluated at \
                                    compile time and is left alone, as is `defmacrop`. As in \
                                    Credo, a definition nested in another (e.g. in a macro's \
                                    `quote`) is reported once per enclosing definition. Off by \
                                    default, like Credo's check.",
                    why_it_matters: "Mix is a build tool: it is not part of a release, so \
                                     `Mix.env/0` raises `UndefinedFunctionError` in production.",
                    example: "def debug?, do: Mix.env() == :dev",
                    instead: "# config/dev.exs: config :my_app, debug: true\ndef debug?, do: Application.get_env(:my_app, :debug, false)\n\n# or, decided at compile time:\n@debug Mix.env() == :dev\ndef debug?, do: @debug",
                },
            },
            excluded_paths: Vec::new(),
        }
    }
}

impl Rule for MixEnvAtRuntime {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            callees: &[("Mix", "env")],
            ..Interests::default()
        }
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        if skipped(out.path(), &self.excluded_paths) {
            return;
        }
        let source = out.source();
        let Some(node) = event_call(call.node) else {
            return;
        };
        let Some((alias, written)) = written_alias(node, source) else {
            return;
        };
        if written != "Mix" {
            return;
        }
        for _ in 0..enclosing_definitions(node, source) {
            report_trigger(
                out,
                alias,
                "Mix.env",
                call.node,
                site,
                "There should be no calls to `Mix.env` in application code.",
            );
        }
    }
}

/// Credo skips scripts by extension, and files whose directory starts with an excluded path.
fn skipped(path: &str, excluded_paths: &[String]) -> bool {
    let directory = path.rsplit_once('/').map_or("", |(directory, _)| directory);
    path.ends_with(".exs")
        || excluded_paths
            .iter()
            .any(|excluded| directory.starts_with(excluded.as_str()))
}

/// Credo scans each `def`, `defp` and `defmacro` and keeps walking into it, so a call is found
/// once per enclosing definition.
fn enclosing_definitions(node: Node<'_>, source: &[u8]) -> usize {
    let mut count = 0;
    let mut current = node.parent();
    while let Some(ancestor) = current {
        if matches!(
            local_name(ancestor, source).as_deref(),
            Some("def" | "defp" | "defmacro")
        ) {
            count += 1;
        }
        current = ancestor.parent();
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_excluded_directories_are_skipped() {
        let excluded = vec!["lib/excl".to_string()];
        assert!(skipped("lib/app/m.exs", &[]));
        assert!(!skipped("lib/app/m.ex", &[]));
        // Confirmed with Credo 1.7.19: `lib/excl/m.ex` with `excluded_paths: ["lib/excl"]`.
        assert!(skipped("lib/excl/m.ex", &excluded));
        assert!(skipped("lib/excl/deeper/m.ex", &excluded));
        assert!(!skipped("lib/other/m.ex", &excluded));
        assert!(!skipped("m.ex", &excluded));
    }

    #[test]
    fn excluded_paths_apply_to_the_file_as_analysed() {
        use crate::rules::complexity::harness::findings;
        let source = "defmodule M do\n  def a, do: Mix.env()\nend\n";
        let count =
            |rule: MixEnvAtRuntime, path: &str| findings(Box::new(rule), path, source).len();
        assert_eq!(count(MixEnvAtRuntime::new(), "lib/excl/m.ex"), 1);
        assert_eq!(count(MixEnvAtRuntime::new(), "lib/excl/m.exs"), 0);
        let excluding = MixEnvAtRuntime {
            excluded_paths: vec!["lib/excl".to_string()],
            ..MixEnvAtRuntime::new()
        };
        assert_eq!(count(excluding, "lib/excl/m.ex"), 0);
    }
}
