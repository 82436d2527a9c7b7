//! `cyclomatic-complexity`: Credo's `Refactor.CyclomaticComplexity` (CREDO_CHECKS.md §1).

use super::over_threshold;
use crate::model::FileRecord;
use crate::rules::engine::{Interests, Reporter, Rule};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};

/// Credo's default `max_complexity`.
const MAX_COMPLEXITY: i64 = 9;

pub(crate) struct CyclomaticComplexity {
    meta: RuleMeta,
    max_complexity: i64,
}

impl CyclomaticComplexity {
    pub(crate) fn new() -> CyclomaticComplexity {
        CyclomaticComplexity::with_max(MAX_COMPLEXITY)
    }

    pub(crate) fn with_max(max_complexity: i64) -> CyclomaticComplexity {
        CyclomaticComplexity {
            max_complexity,
            meta: RuleMeta {
                id: "cyclomatic-complexity",
                category: Category::Complexity,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "A function clause with too many paths through it",
                credo_check: Some("Credo.Check.Refactor.CyclomaticComplexity"),
                sobelow_check: None,
                parameters: vec![Parameter {
                    name: "max_complexity",
                    default: MAX_COMPLEXITY.to_string(),
                    description: "The highest cyclomatic complexity a clause may have.",
                }],
                docs: RuleDocs {
                    what_it_finds: "`def`, `defp` and `defmacro` clauses whose cyclomatic \
                                    complexity, counted as Credo counts it, is above \
                                    `max_complexity`: 1 for the clause, 1 per `if`, `unless`, \
                                    `for`, `try`, `and`, `or`, `&&`, `||` and nested \
                                    definition, and 1 per clause of each `case` and `cond`. \
                                    Each clause is measured on its own. `defmacro \
                                    __using__(opts)` is not scored, the definitions in its \
                                    `quote` are. The finding is on the `def` line. Unlike \
                                    Credo, a `def` written inside a function body or outside \
                                    any module is counted for its host but not reported on its \
                                    own.",
                    why_it_matters: "Every independent path through a function is a case to \
                                     read, reason about and test; past a handful they hide \
                                     the function's purpose and its bugs.",
                    example: "def price(order) do\n  cond do\n    order.vip and order.total > 100 -> 0.8\n    order.vip -> 0.9\n    order.coupon && order.total > 50 -> 0.95\n    true -> 1.0\n  end\n  |> then(fn factor -> if order.tax, do: factor * 1.2, else: factor end)\nend",
                    instead: "def price(order), do: discount(order) |> with_tax(order)\n\ndefp discount(%{vip: true, total: total}) when total > 100, do: 0.8\ndefp discount(%{vip: true}), do: 0.9\ndefp discount(_order), do: 1.0",
                },
            },
        }
    }
}

impl Rule for CyclomaticComplexity {
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
            |clause| clause.metrics.cyclomatic,
            |value| {
                format!("Function is too complex (cyclomatic complexity is {value}, max is {max}).")
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    fn at_zero(source: &str) -> Vec<(u32, u32, u32, String)> {
        findings(
            Box::new(CyclomaticComplexity::with_max(0)),
            "lib/x.ex",
            source,
        )
    }

    fn message(value: u32) -> String {
        format!("Function is too complex (cyclomatic complexity is {value}, max is 0).")
    }

    /// The confirmed examples of CREDO_CHECKS.md §1, with `max_complexity: 0`.
    #[test]
    fn confirmed_examples() {
        let source = "\
defmodule M do
  def simple(x), do: x
  def four(x) do
    case x do
      1 -> :a
      2 -> :b
      _ -> :c
    end
  end
  def nested(x) do
    case x do
      1 ->
        case x do
          1 -> :a
          _ -> :b
        end
      _ -> :c
    end
  end
  def g(a, b) when is_integer(a) and is_integer(b), do: a && b || (a and b) or unless(a, do: b)
  def flat(x) do
    for y <- x, do: y
    try do
      x
    rescue
      _ -> :r
    catch
      _ -> :c
    end
    with {:ok, y} <- x do
      y
    else
      _ -> :e
    end
    receive do
      :a -> 1
      :b -> 2
    end
    fn
      1 -> :a
      _ -> :b
    end
  end
  defmacro host(x) do
    quote do
      def inner(y), do: if(y, do: 1)
    end
  end
  defmacrop m(x), do: if(x, do: 1)
  defmacro __using__(opts) do
    quote do
      def injected(x), do: if(x, do: 1)
    end
  end
end
";
        assert_eq!(
            at_zero(source),
            vec![
                (2, 7, 13, message(1)),
                (3, 7, 11, message(4)),
                (10, 7, 13, message(5)),
                (20, 7, 8, message(7)),
                (21, 7, 11, message(3)),
                (44, 12, 16, message(3)),
                (46, 11, 16, message(2)),
                (52, 11, 19, message(2)),
            ]
        );
    }

    #[test]
    fn computed_names_have_an_empty_trigger() {
        let source =
            "defmodule M do\n  for name <- [:a] do\n    def unquote(name)(x), do: x\n  end\nend\n";
        assert_eq!(at_zero(source), vec![(3, 2, 2, message(1))]);
    }

    #[test]
    fn bodiless_heads_have_an_empty_trigger() {
        let source = "defmodule M do\n  def e(a, b \\\\ 2)\n  def e(a, b), do: a + b\nend\n";
        assert_eq!(
            at_zero(source),
            vec![(2, 2, 2, message(1)), (3, 7, 8, message(1))]
        );
    }
}
