//! `function-name-case`: Credo's `Readability.FunctionNames` (CREDO_CHECKS.md §20).

use crate::syntax::Node;

use super::{local_call_name, read_head, root_of, written_arguments, Head};
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

/// The operators Credo skips as definable (its `@all_nonspecial_operators`, 1.7), in the
/// order of Elixir's operator table: the unary `@ + - ! ~~~` and the binary operators that are
/// not special forms, `**` included (definable since Elixir 1.13). The word operators `in`,
/// `not in` (`not(a in b)` in the AST), `and`, `or` and `not` are absent, as in Credo: their
/// names are snake_case. Special forms (`=`, `^`, `&`, `::`, `|`) and the ternary `..//` are
/// absent too, so Credo, and this rule, flag a definition of them.
const DEFINABLE_OPERATORS: [&str; 37] = [
    "@", "!", "~~~", "**", "*", "/", "+", "-", "++", "--", "+++", "---", "..", "<>", "|>", "<<<",
    ">>>", "<<~", "~>>", "<~", "~>", "<~>", "<|>", "<", ">", "<=", ">=", "==", "!=", "=~", "===",
    "!==", "&&", "&&&", "||", "|||", "^^^",
];

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
                                    left alone; any other `sigil_…` name is judged as an \
                                    ordinary name. One finding per name and arity in a file, on \
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
        source: &'s [u8],
    ) -> Option<(&'s str, usize, Node<'t>)> {
        let first = *written_arguments(definition).first()?;
        let (name, arity, node, operator) = match read_head(first, source) {
            Head::Named {
                name,
                arity,
                node,
                operator,
            } => (name, arity, node, operator),
            Head::When(inner) => match read_head(inner, source) {
                Head::Named {
                    name,
                    arity,
                    node,
                    operator,
                } => (name, arity, node, operator),
                _ => return None,
            },
            _ => return None,
        };
        if operator && DEFINABLE_OPERATORS.contains(&name) {
            return None;
        }
        // A sigil's definition is skipped; any other `sigil_…` name (`sigil_ab`,
        // `sigil_z_support_fun`) is an ordinary function name and is judged as one.
        if is_sigil_name(name) {
            return None;
        }
        if snake_case(name) || (self.allow_acronyms && snake_case_with_acronyms(name)) {
            return None;
        }
        Some((name, arity.unwrap_or(0), node))
    }
}

/// A sigil's name: `sigil_` and one lowercase letter, or uppercase letters (`sigil_X`, and
/// since Elixir 1.15 `sigil_ABC`).
///
/// Credo skips `sigil_` and one letter of either case for `def`, `defp`, `defmacro` and
/// `defmacrop` (a guarded one only with a body), then judges the name: all-uppercase letters
/// after `sigil_` pass, anything else is read as an ordinary name. Outside those skipped
/// forms a lowercase single letter passes as snake_case and an uppercase one as
/// all-uppercase, so the result is the same for every definition kind and needs neither.
fn is_sigil_name(name: &str) -> bool {
    let Some(letters) = name.strip_prefix("sigil_") else {
        return false;
    };
    let single_lowercase = letters.len() == 1 && letters.as_bytes()[0].is_ascii_lowercase();
    let uppercase = !letters.is_empty() && letters.bytes().all(|b| b.is_ascii_uppercase());
    single_lowercase || uppercase
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
        // Credo reads the local forms only (`{:def, _, _}` in the AST).
        if local_call_name(call.node, source).is_none() {
            return;
        }
        let Some((name, arity, node)) = self.issue(call.node, source) else {
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
            if other.start_byte() > start
                && local_call_name(other, source).is_some_and(|k| DEFINITIONS.contains(&k))
            {
                later = self
                    .issue(other, source)
                    .is_some_and(|(n, a, _)| (n, a) == (name, arity));
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
            vec![(4, 7, 15), (11, 7, 11)]
        );
    }

    /// Issue [4a.1]: a `sigil_…` name that is no sigil is judged as an ordinary name.
    #[test]
    fn other_sigil_names_are_ordinary_names() {
        let source = "\
defmodule M do
  defp sigil_z_support_fun(x), do: x
  def sigil_ab(x, _), do: x
  def sigil_zz_x(x), do: x
  def sigil_(x), do: x
  defguard sigil_Z(x) when x
  defmacro sigil_ABC(x, _) when is_binary(x)
  def sigil_fooBar(x), do: x
  def sigil_Ab(x, _), do: x
  def sigil_AB1(x, _), do: x
end
";
        assert_eq!(
            lines(FunctionNameCase::new(), source),
            vec![(8, 7, 19), (9, 7, 15), (10, 7, 16)]
        );
        assert!(is_sigil_name("sigil_a") && is_sigil_name("sigil_X"));
        assert!(is_sigil_name("sigil_ABC"));
        assert!(!is_sigil_name("sigil_ab") && !is_sigil_name("sigil_") && !is_sigil_name("a"));
    }

    /// Issue [4a.1]: every operator Credo skips, unary and binary, guarded or not; the word
    /// operators pass as snake_case; special forms and `..//` are flagged, as by Credo.
    #[test]
    fn definable_operators() {
        let mut source = String::from("defmodule M do\n");
        for operator in DEFINABLE_OPERATORS {
            source.push_str(&format!("  def a {operator} b, do: {{a, b}}\n"));
            source.push_str(&format!("  def a {operator} b when a, do: {{a, b}}\n"));
        }
        for operator in ["@", "+", "-", "!", "~~~", "not"] {
            source.push_str(&format!("  def {operator}x, do: x\n"));
        }
        source.push_str("  def a in b, do: {a, b}\n  def a not in b, do: {a, b}\n");
        source.push_str("  def a and b, do: {a, b}\n  def a or b, do: {a, b}\n");
        source.push_str("  def left ** right when is_integer(right), do: {left, right}\n");
        let clean = source.lines().count() as u32;
        source.push_str("  def a :: b, do: {a, b}\n  def a = b, do: {a, b}\nend\n");
        let flagged: Vec<u32> = lines(FunctionNameCase::new(), &source)
            .into_iter()
            .map(|(line, _, _)| line)
            .collect();
        assert_eq!(flagged, vec![clean + 1, clean + 2]);
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
