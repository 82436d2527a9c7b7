//! `perceived-complexity`: Credo's `Refactor.PerceivedComplexity` (CREDO_CHECKS.md §2).

use super::over_threshold;
use crate::model::FileRecord;
use crate::rules::engine::{Interests, Reporter, Rule};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};

/// Credo's default `max_complexity`.
const MAX_COMPLEXITY: i64 = 9;

pub(crate) struct PerceivedComplexity {
    meta: RuleMeta,
    max_complexity: i64,
}

impl PerceivedComplexity {
    pub(crate) fn new() -> PerceivedComplexity {
        PerceivedComplexity::with_max(MAX_COMPLEXITY)
    }

    pub(crate) fn with_max(max_complexity: i64) -> PerceivedComplexity {
        PerceivedComplexity {
            max_complexity,
            meta: RuleMeta {
                id: "perceived-complexity",
                category: Category::Complexity,
                severity: Severity::Warning,
                // Absent from Credo's default configuration: it runs only when named.
                enabled_by_default: false,
                summary: "A function clause that reads as too complex",
                credo_check: Some("Credo.Check.Refactor.PerceivedComplexity"),
                sobelow_check: None,
                parameters: vec![Parameter {
                    name: "max_complexity",
                    default: MAX_COMPLEXITY.to_string(),
                    description: "The highest perceived complexity a clause may have.",
                }],
                docs: RuleDocs {
                    what_it_finds: "`def`, `defp` and `defmacro` clauses whose perceived \
                                    complexity is above `max_complexity`. It is the cyclomatic \
                                    complexity of `cyclomatic-complexity`, except that a `case` \
                                    clause weighs 0.3 (a `case` reads as one decision with \
                                    several outcomes), the sum rounded half away from zero. \
                                    Off by default, as in Credo, whose default configuration \
                                    does not list it. Unlike Credo, a `def` written inside a \
                                    function body or outside any module is counted for its host \
                                    but not reported on its own.",
                    why_it_matters: "Branches that a reader has to hold in mind at once make a \
                                     function hard to follow and easy to break; a flat `case` \
                                     on one value costs less than nested conditions.",
                    example: "def label(user) do\n  if user.admin and user.active do\n    if user.email && user.verified, do: \"admin\", else: \"pending admin\"\n  else\n    cond do\n      user.banned -> \"banned\"\n      user.guest || user.trial -> \"guest\"\n      true -> \"user\"\n    end\n  end\nend",
                    instead: "def label(%{admin: true, active: true} = user), do: admin_label(user)\ndef label(%{banned: true}), do: \"banned\"\ndef label(user) when user.guest or user.trial, do: \"guest\"\ndef label(_user), do: \"user\"",
                },
            },
        }
    }
}

impl Rule for PerceivedComplexity {
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
        let max = self.max_complexity;
        over_threshold(
            file,
            out,
            max,
            |clause| clause.metrics.perceived,
            |value| format!("Function is too complex (CC is {value}, max is {max})."),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    /// The confirmed examples of CREDO_CHECKS.md §2, with `max_complexity: 0`.
    #[test]
    fn confirmed_examples() {
        let source = "\
defmodule M do
  def one(x), do: (case x do 1 -> :a end)
  def two(x) do
    case x do 1 -> :a end
    case x do 1 -> :a end
  end
  def three(x), do: (case x do 1 -> :a; 2 -> :b; _ -> :c end)
  def five(x), do: (case x do 1 -> 1; 2 -> 2; 3 -> 3; 4 -> 4; _ -> 5 end)
  def nested(x) do
    case x do
      1 -> case x do 1 -> :a; _ -> :b end
      _ -> :c
    end
  end
  def g(a, b) when is_integer(a) and is_integer(b), do: a && b || (a and b) or unless(a, do: b)
end
";
        let message = |value: u32| format!("Function is too complex (CC is {value}, max is 0).");
        assert_eq!(
            findings(
                Box::new(PerceivedComplexity::with_max(0)),
                "lib/x.ex",
                source
            ),
            vec![
                (2, 7, 10, message(1)),
                (3, 7, 10, message(2)),
                (7, 7, 12, message(2)),
                (8, 7, 11, message(3)),
                (9, 7, 13, message(2)),
                (15, 7, 8, message(7)),
            ]
        );
    }

    #[test]
    fn default_threshold_is_nine() {
        let source = "defmodule M do\n  def a(x), do: x\nend\n";
        assert!(findings(Box::new(PerceivedComplexity::new()), "lib/x.ex", source).is_empty());
    }
}
