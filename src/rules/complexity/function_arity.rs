//! `function-arity`: Credo's `Refactor.FunctionArity` (CREDO_CHECKS.md §5).

use super::{measured_clauses, report_clause};
use crate::model::FileRecord;
use crate::model::FunctionKind;
use crate::rules::engine::{Interests, Reporter, Rule};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};

/// Credo's default `max_arity`.
const MAX_ARITY: i64 = 8;

pub(crate) struct FunctionArity {
    meta: RuleMeta,
    max_arity: i64,
    ignore_defp: bool,
}

impl FunctionArity {
    pub(crate) fn new() -> FunctionArity {
        FunctionArity::with_params(MAX_ARITY, false)
    }

    pub(crate) fn with_params(max_arity: i64, ignore_defp: bool) -> FunctionArity {
        FunctionArity {
            max_arity,
            ignore_defp,
            meta: RuleMeta {
                id: "function-arity",
                category: Category::Complexity,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "A function that takes too many parameters",
                credo_check: Some("Credo.Check.Refactor.FunctionArity"),
                sobelow_check: None,
                parameters: vec![
                    Parameter {
                        name: "max_arity",
                        default: MAX_ARITY.to_string(),
                        description: "The most parameters a function may take.",
                    },
                    Parameter {
                        name: "ignore_defp",
                        default: "false".to_string(),
                        description: "Leave private functions (`defp`) alone.",
                    },
                ],
                docs: RuleDocs {
                    what_it_finds: "`def`, `defp` and `defmacro` clauses with more than \
                                    `max_arity` parameters (a default `b \\\\ 1` counts as \
                                    one). Every clause is checked, bodiless heads and the \
                                    definitions inside a `quote` included; `defmacrop` is not. \
                                    Unlike Credo, a `def` written inside a function body or \
                                    outside any module is not reported.",
                    why_it_matters: "A long parameter list is hard to call correctly (the \
                                     order of nine arguments is easy to get wrong) and usually \
                                     means several values travel together and want a name.",
                    example: "def create_user(name, email, age, street, city, zip, country, phone, role) do\n  # ...\nend",
                    instead: "def create_user(%{name: name, email: email} = attrs, %Address{} = address) do\n  # ...\nend",
                },
            },
        }
    }
}

impl Rule for FunctionArity {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            file_facts: true,
            ..Interests::default()
        }
    }

    fn check_file(&self, file: &FileRecord, out: &mut Reporter<'_>) {
        let max = self.max_arity;
        for clause in measured_clauses(file) {
            if self.ignore_defp && clause.kind == FunctionKind::Defp {
                continue;
            }
            let arity = clause.metrics.arity;
            if i64::from(arity) > max {
                let message =
                    format!("Function takes too many parameters (arity is {arity}, max is {max}).");
                report_clause(out, &clause, clause.line, clause.trigger(), message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    /// The confirmed examples of CREDO_CHECKS.md §5, with `max_arity: 0`.
    #[test]
    fn confirmed_examples() {
        let source = "\
defmodule M do
  defp b(a, b \\\\ 1, c) when is_integer(a), do: a + b + c
  def e(a, b \\\\ 2)
  def e(a, b), do: a + b
  def c, do: 1
  defmacrop f(a, b, c), do: {a, b, c}
end
";
        let message = |value: u32| {
            format!("Function takes too many parameters (arity is {value}, max is 0).")
        };
        assert_eq!(
            findings(
                Box::new(FunctionArity::with_params(0, false)),
                "lib/x.ex",
                source
            ),
            vec![
                (2, 8, 9, message(3)),
                (3, 2, 2, message(2)),
                (4, 7, 8, message(2)),
            ]
        );
    }

    #[test]
    fn ignore_defp_leaves_private_functions_alone() {
        let source = "defmodule M do\n  defp b(a, b), do: a + b\n  def p(a, b), do: a + b\nend\n";
        let lines: Vec<u32> = findings(
            Box::new(FunctionArity::with_params(0, true)),
            "lib/x.ex",
            source,
        )
        .into_iter()
        .map(|(line, ..)| line)
        .collect();
        assert_eq!(lines, vec![3]);
    }
}
