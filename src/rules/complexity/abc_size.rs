//! `abc-size`: Credo's `Refactor.ABCSize` (CREDO_CHECKS.md §4).

use super::over_threshold;
use crate::model::FileRecord;
use crate::rules::engine::{Interests, Reporter, Rule};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};

/// Credo's default `max_size`.
const MAX_SIZE: i64 = 30;

pub(crate) struct AbcSize {
    meta: RuleMeta,
    max_size: i64,
}

impl AbcSize {
    pub(crate) fn new() -> AbcSize {
        AbcSize::with_max(MAX_SIZE)
    }

    pub(crate) fn with_max(max_size: i64) -> AbcSize {
        AbcSize {
            max_size,
            meta: RuleMeta {
                id: "abc-size",
                category: Category::Complexity,
                severity: Severity::Warning,
                // Listed as disabled (tagged controversial) in Credo's default configuration.
                enabled_by_default: false,
                summary: "A function clause with too many assignments, branches and conditions",
                credo_check: Some("Credo.Check.Refactor.ABCSize"),
                sobelow_check: None,
                parameters: vec![
                    Parameter {
                        name: "max_size",
                        default: MAX_SIZE.to_string(),
                        description: "The highest ABC size a clause may have.",
                    },
                    Parameter {
                        name: "excluded_functions",
                        default: "[]".to_string(),
                        description: "Names of calls that count nothing, with everything they \
                                      hold. With `import Ecto.Query` in the file, `where`, \
                                      `from`, `select` and `join` are added.",
                    },
                ],
                docs: RuleDocs {
                    what_it_finds: "`def`, `defp` and `defmacro` clauses whose ABC size, \
                                    `round(sqrt(A² + B² + C²))` over the body as Credo counts \
                                    it, is above `max_size`: A counts assignments (`=`, \
                                    `@attr`), B branches (calls, operators, unknown names, each \
                                    `->` clause) and C conditions (`if`, `or`). The head, guard \
                                    and the clause's own `rescue`/`after` do not count; \
                                    interpolated strings are skipped. `defmacro __using__(opts)` \
                                    is not scored, the definitions in its `quote` are. Off by \
                                    default, as in Credo. Unlike Credo, a `def` written inside \
                                    a function body or outside any module is not reported on \
                                    its own.",
                    why_it_matters: "A body that assigns, calls and decides a lot does too much \
                                     at once: it is hard to name, to test and to change \
                                     without breaking something.",
                    example: "def checkout(cart, user) do\n  total = Enum.reduce(cart.items, 0, &(&1.price * &1.qty + &2))\n  tax = if user.country == \"DE\", do: total * 0.19, else: 0\n  shipping = if total > 50 or user.prime, do: 0, else: Shipping.cost(cart, user.address)\n  Repo.insert!(%Order{user_id: user.id, total: total + tax + shipping, items: cart.items})\n  Mailer.deliver(Emails.receipt(user, total + tax + shipping))\nend",
                    instead: "def checkout(cart, user) do\n  amount = Pricing.total(cart, user)\n  order = Orders.create!(user, cart, amount)\n  Mailer.deliver(Emails.receipt(user, amount))\n  order\nend",
                },
            },
        }
    }
}

impl Rule for AbcSize {
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
        let max = self.max_size;
        over_threshold(
            file,
            out,
            max,
            |clause| clause.metrics.abc.map(|abc| abc.size),
            |value| format!("Function is too complex (ABC size is {value}, max is {max})."),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    /// The confirmed examples of CREDO_CHECKS.md §4, with `max_size: -1` (0 is reported).
    #[test]
    fn confirmed_examples() {
        let source = "\
defmodule M do
  def a(x), do: (case x do 1 -> 2 end)
  def b(x), do: (if x, do: 1)
  def c(x) when is_integer(x), do: x
  def c2(x), do: x
  def e(x) do y = x; z = @attr; y + z end
  def i(x), do: (for y <- x, do: y)
  def l(x), do: (case x do {:ok, y} -> y end)
  def w(x), do: (case x do y when y > 0 -> y end)
  def n(x), do: (case x do y -> y end)
  def g(x), do: x && x || x and x or x
  def m(x), do: __MODULE__.foo(x)
  def f(x), do: \"#{x + 1}\"
  def v(x), do: &foo/1
  def z(x) do {:ok, y} = x; y end
end
";
        let values: Vec<(u32, String)> =
            findings(Box::new(AbcSize::with_max(-1)), "lib/x.ex", source)
                .into_iter()
                .map(|(line, _, _, message)| (line, message))
                .collect();
        let message =
            |value: u32| format!("Function is too complex (ABC size is {value}, max is -1).");
        assert_eq!(
            values,
            vec![
                (2, message(2)),
                (3, message(1)),
                (4, message(1)),
                (5, message(0)),
                (6, message(3)),
                (7, message(4)),
                (8, message(4)),
                (9, message(7)),
                (10, message(2)),
                (11, message(3)),
                (12, message(0)),
                (13, message(0)),
                (14, message(3)),
                (15, message(1)),
            ]
        );
    }

    #[test]
    fn using_is_not_scored_but_its_quoted_definitions_are() {
        let source = "\
defmodule M do
  defmacro __using__(opts) do
    quote do
      def injected(x), do: x + 1
    end
  end
end
";
        assert_eq!(
            findings(Box::new(AbcSize::with_max(0)), "lib/x.ex", source),
            vec![(
                4,
                11,
                19,
                "Function is too complex (ABC size is 1, max is 0).".to_string()
            )]
        );
    }
}
