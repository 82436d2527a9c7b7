//! `function-name-case`: Credo's `Readability.FunctionNames` (CREDO_CHECKS.md §20).

use crate::syntax::Node;

use super::{ast_argument_count, local_call_name, read_head, root_of, written_arguments, Head};
use crate::rules::anchor;
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};
use crate::syntax;

const MESSAGE: &str = "Function/macro/guard names should be written in snake_case.";

/// The definitions Credo checks.
const DEFINITIONS: [&str; 6] = [
    "def",
    "defp",
    "defmacro",
    "defmacrop",
    "defguard",
    "defguardp",
];

/// Kernel's overridable operators (those that are not special forms), which Credo skips.
const OVERRIDABLE_OPERATORS: [&str; 33] = [
    "!", "&&", "++", "--", "..", "<>", "=~", "@", "|>", "||", "!=", "!==", "*", "+", "-", "/", "<",
    "<=", "==", "===", ">", ">=", "|||", "&&&", "<<<", ">>>", "<<~", "~>>", "<~", "~>", "<~>",
    "<|>", "^^^",
];

/// More overridable operators (split only to keep the table above readable).
const MORE_OVERRIDABLE_OPERATORS: [&str; 3] = ["~~~", "+++", "---"];

pub(crate) struct FunctionNameCase {
    meta: RuleMeta,
    allow_acronyms: bool,
}

impl FunctionNameCase {
    pub(crate) fn new() -> FunctionNameCase {
        FunctionNameCase::with_acronyms(false)
    }

    pub(crate) fn with_acronyms(allow_acronyms: bool) -> FunctionNameCase {
        FunctionNameCase {
            allow_acronyms,
            meta: RuleMeta {
                id: "function-name-case",
                category: Category::Readability,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "A function, macro or guard name not in snake_case",
                credo_check: Some("Credo.Check.Readability.FunctionNames"),
                sobelow_check: None,
                parameters: vec![Parameter {
                    name: "allow_acronyms",
                    default: "false".to_string(),
                    description: "Also accept names whose `_`-separated parts are each all \
                                  lowercase or all uppercase (`get_HTTP`).",
                }],
                docs: RuleDocs {
                    what_it_finds: "Names defined by `def`, `defp`, `defmacro`, `defmacrop`, \
                                    `defguard` and `defguardp` (read through `when`) that hold \
                                    anything but lowercase letters, digits, `_`, `?` and `!`. \
                                    Sigil definitions (`sigil_a`, and all-uppercase \
                                    `sigil_ABC`), overridable operators and `unquote` names are \
                                    left alone. One finding per name and arity in a file, on \
                                    its last offending clause.",
                    why_it_matters: "Elixir writes functions in snake_case; a `camelCase` name \
                                     stands out as foreign and makes calls harder to guess.",
                    example: "def handleIncomingMessage(message), do: message",
                    instead: "def handle_incoming_message(message), do: message",
                },
            },
        }
    }

    /// The (name, arity) Credo's check reports for a definition, with the node its `meta`
    /// points at; `None` when the definition's name passes or is not checked.
    fn issue<'t, 's>(
        &self,
        definition: Node<'t>,
        keyword: &str,
        source: &'s [u8],
    ) -> Option<(&'s str, usize, Node<'t>)> {
        let first = *written_arguments(definition).first()?;
        let (name, arity, node, operator, guarded) = match read_head(first, source) {
            Head::Named {
                name,
                arity,
                node,
                operator,
            } => (name, arity, node, operator, false),
            Head::When(inner) => match read_head(inner, source) {
                Head::Named {
                    name,
                    arity,
                    node,
                    operator,
                } => (name, arity, node, operator, true),
                _ => return None,
            },
            _ => return None,
        };
        if operator
            && (OVERRIDABLE_OPERATORS.contains(&name) || MORE_OVERRIDABLE_OPERATORS.contains(&name))
        {
            return None;
        }
        // Single-letter sigils, for the four function and macro kinds; Credo's pattern for
        // a guarded one wants a head and a body.
        if let Some(letters) = name.strip_prefix("sigil_") {
            let single = letters.len() == 1 && letters.as_bytes()[0].is_ascii_alphabetic();
            let function_kind = matches!(keyword, "def" | "defp" | "defmacro" | "defmacrop");
            if single && function_kind && (!guarded || ast_argument_count(definition) == 2) {
                return None;
            }
            // Any other sigil name is flagged, unless it is all uppercase.
            let uppercase = !letters.is_empty() && letters.bytes().all(|b| b.is_ascii_uppercase());
            return (!uppercase).then_some((name, arity.unwrap_or(0), node));
        }
        if snake_case(name) || (self.allow_acronyms && snake_case_with_acronyms(name)) {
            return None;
        }
        Some((name, arity.unwrap_or(0), node))
    }
}

/// `^[[:lower:][:digit:]_?!]+$` with Unicode classes.
fn snake_case(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_lowercase() || c.is_numeric() || matches!(c, '_' | '?' | '!'))
}

/// Every `_`-separated part all lowercase-or-digits or all uppercase-or-digits, optionally
/// ending in `?` or `!`.
fn snake_case_with_acronyms(name: &str) -> bool {
    name.split('_').all(|part| {
        let part = part.strip_suffix(['?', '!']).unwrap_or(part);
        !part.is_empty()
            && (part.chars().all(|c| c.is_lowercase() || c.is_numeric())
                || part.chars().all(|c| c.is_uppercase() || c.is_numeric()))
    })
}

impl Rule for FunctionNameCase {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            callees: &[
                ("Kernel", "def"),
                ("Kernel", "defp"),
                ("Kernel", "defmacro"),
                ("Kernel", "defmacrop"),
                ("Kernel", "defguard"),
                ("Kernel", "defguardp"),
            ],
            ..Interests::default()
        }
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let source = out.source();
        let Some(keyword) = local_call_name(call.node, source) else {
            return;
        };
        let Some((name, arity, node)) = self.issue(call.node, keyword, source) else {
            return;
        };
        // Credo keeps one issue per name and arity in the file, that of the last offending
        // clause in its pre-order walk: a later one reports instead of this one.
        let start = call.node.start_byte();
        let mut later = false;
        syntax::walk_preorder(root_of(call.node), |other| {
            if later || other.end_byte() <= start {
                return false;
            }
            if other.start_byte() > start {
                if let Some(keyword) = local_call_name(other, source) {
                    if DEFINITIONS.contains(&keyword) {
                        later = self
                            .issue(other, keyword, source)
                            .is_some_and(|(n, a, _)| (n, a) == (name, arity));
                    }
                }
            }
            !later
        });
        if later {
            return;
        }
        let line = syntax::Positions::line(node.start_position());
        let text = anchor::node_line(source, node);
        out.at(
            anchor::trigger_span(line, text, name),
            site.module.map(str::to_string),
            Some(format!("{name}/{arity}")),
            anchor::snippet(text),
            MESSAGE,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    fn lines(rule: FunctionNameCase, source: &str) -> Vec<(u32, u32, u32)> {
        findings(Box::new(rule), "lib/x.ex", source)
            .into_iter()
            .map(|(line, column, end, _)| (line, column, end))
            .collect()
    }

    /// The confirmed examples of CREDO_CHECKS.md §20.
    #[test]
    fn confirmed_examples() {
        let source = "\
defmodule M do
  def goodName(x), do: x
  def goodName(x, y), do: {x, y}
  def goodName(x) when is_nil(x), do: x
  defguard isOk(x) when x == 1
  def a <~> b, do: {a, b}
  def ok_fun?(x), do: x
end
";
        assert_eq!(
            lines(FunctionNameCase::new(), source),
            vec![(3, 7, 15), (4, 7, 15), (5, 12, 16)]
        );
    }

    #[test]
    fn sigils_operators_and_unquote() {
        let source = "\
defmodule M do
  def sigil_a(x, _), do: x
  defmacro sigil_Z(x, _), do: x
  def sigil_xY(x, _), do: x
  def sigil_ABC(x, _), do: x
  defguard sigil_b(x) when x
  def unquote(:fooBar)(x), do: x
  def a +++ b, do: {a, b}
  def __using__(x), do: x
  def ünïcode(x), do: x
  def ñAme(x), do: x
end
";
        assert_eq!(
            lines(FunctionNameCase::new(), source),
            vec![(4, 7, 15), (6, 12, 19), (11, 7, 11)]
        );
    }

    #[test]
    fn acronyms() {
        let source = "defmodule M do\n  def get_HTTP(x), do: x\n  def getHTTP(x), do: x\nend\n";
        assert_eq!(
            lines(FunctionNameCase::with_acronyms(true), source),
            vec![(3, 7, 14)]
        );
        assert_eq!(lines(FunctionNameCase::new(), source).len(), 2);
    }
}
