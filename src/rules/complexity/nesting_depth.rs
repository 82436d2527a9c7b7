//! `nesting-depth`: Credo's `Refactor.Nesting` (CREDO_CHECKS.md §3).

use super::{measured_clauses, report_clause};
use crate::model::FileRecord;
use crate::rules::engine::{Interests, Reporter, Rule};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};

/// Credo's default `max_nesting`.
const MAX_NESTING: i64 = 2;

/// Credo's nesting operators.
const NESTING_OPERATORS: [&str; 7] = ["case", "cond", "fn", "for", "if", "unless", "with"];

pub(crate) struct NestingDepth {
    meta: RuleMeta,
    max_nesting: i64,
}

impl NestingDepth {
    pub(crate) fn new() -> NestingDepth {
        NestingDepth::with_max(MAX_NESTING)
    }

    pub(crate) fn with_max(max_nesting: i64) -> NestingDepth {
        NestingDepth {
            max_nesting,
            meta: RuleMeta {
                id: "nesting-depth",
                category: Category::Complexity,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "A function body nested too deep",
                credo_check: Some("Credo.Check.Refactor.Nesting"),
                sobelow_check: None,
                parameters: vec![Parameter {
                    name: "max_nesting",
                    default: MAX_NESTING.to_string(),
                    description: "The deepest nesting of `if`, `unless`, `case`, `cond`, `fn`, \
                                  `for` and `with` a clause may have.",
                }],
                docs: RuleDocs {
                    what_it_finds: "`def`, `defp` and `defmacro` clauses whose body nests \
                                    `if`, `unless`, `case`, `cond`, `fn`, `for` and `with` \
                                    more than `max_nesting` deep, measured as Credo measures it \
                                    (code Credo's search does not see, such as the value of a \
                                    keyword argument or a `try` body, does not count). One \
                                    finding per clause, on the line of the innermost operator \
                                    above the deepest code. Credo computes the column from that \
                                    operator's name; elixirscope takes the name from the line's \
                                    code (the last nesting operator written on it), which can \
                                    differ from Credo's when two sibling operators share the \
                                    line. Unlike Credo, a `def` written inside a function body \
                                    or outside any module is not reported on its own.",
                    why_it_matters: "Each level of nesting is one more condition the reader must \
                                     keep in mind to understand the innermost line; deep \
                                     nesting hides the happy path and invites missed cases.",
                    example: "def notify(user) do\n  if user.active do\n    case user.channel do\n      :email ->\n        if user.email, do: send_email(user), else: :skip\n      _ ->\n        :skip\n    end\n  end\nend",
                    instead: "def notify(%{active: true, channel: :email, email: email} = user)\n    when is_binary(email),\n    do: send_email(user)\n\ndef notify(_user), do: :skip",
                },
            },
        }
    }
}

impl Rule for NestingDepth {
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
        let max = self.max_nesting;
        for clause in measured_clauses(file) {
            let depth = clause.metrics.nesting;
            if i64::from(depth) <= max {
                continue;
            }
            let line = clause.metrics.nesting_line;
            // At depth 0 Credo names the definition itself (`def`, `defp`, `defmacro`).
            let trigger = if depth == 0 {
                clause.kind.keyword()
            } else {
                nesting_operator(crate::rules::anchor::line_text(out.source(), line)).unwrap_or("")
            };
            let message =
                format!("Function body is nested too deep (max depth is {max}, was {depth}).");
            report_clause(out, &clause, line, trigger, message);
        }
    }
}

/// The nesting operator Credo names for a finding on `line`: the innermost operator on the
/// line, read as the last one written in code there (strings, sigils, comments, atoms,
/// keyword keys and remote calls such as `Kernel.if` are not operators).
fn nesting_operator(line: &[u8]) -> Option<&'static str> {
    let mut found = None;
    let mut at = 0;
    while at < line.len() {
        let byte = line[at];
        match byte {
            b'#' => break,
            b'"' | b'\'' => at = skip_quoted(line, at, byte),
            b'~' if line.get(at + 1).is_some_and(u8::is_ascii_alphabetic) => {
                at = skip_sigil(line, at + 1);
            }
            // A character literal: `?(` is no parenthesis, `?"` no string.
            b'?' => {
                at += if line.get(at + 1) == Some(&b'\\') {
                    3
                } else {
                    2
                }
            }
            b'0'..=b'9' => {
                while at < line.len() && (line[at].is_ascii_alphanumeric() || line[at] == b'_') {
                    at += 1;
                }
            }
            _ if byte.is_ascii_alphabetic() || byte == b'_' => {
                let start = at;
                while at < line.len() && (line[at].is_ascii_alphanumeric() || line[at] == b'_') {
                    at += 1;
                }
                if at < line.len() && matches!(line[at], b'?' | b'!') {
                    at += 1;
                }
                let word = &line[start..at];
                let keyword_key = line.get(at) == Some(&b':') && line.get(at + 1) != Some(&b':');
                let qualified = start > 0 && matches!(line[start - 1], b'.' | b':' | b'@');
                if !keyword_key && !qualified {
                    if let Some(operator) = NESTING_OPERATORS
                        .iter()
                        .find(|operator| operator.as_bytes() == word)
                    {
                        found = Some(*operator);
                    }
                }
            }
            _ => at += 1,
        }
    }
    found
}

/// The byte after a string or charlist starting at `at` (the rest of the line for a heredoc
/// or an unterminated one).
fn skip_quoted(line: &[u8], at: usize, quote: u8) -> usize {
    if line[at..].starts_with(&[quote; 3]) {
        return line.len();
    }
    let mut index = at + 1;
    while index < line.len() {
        match line[index] {
            b'\\' => index += 2,
            byte if byte == quote => return index + 1,
            _ => index += 1,
        }
    }
    line.len()
}

/// The byte after a sigil whose letters start at `at`.
fn skip_sigil(line: &[u8], mut at: usize) -> usize {
    while at < line.len() && line[at].is_ascii_alphabetic() {
        at += 1;
    }
    let Some(&open) = line.get(at) else {
        return at;
    };
    if matches!(open, b'"' | b'\'') {
        return skip_quoted(line, at, open);
    }
    let close = match open {
        b'(' => b')',
        b'[' => b']',
        b'{' => b'}',
        b'<' => b'>',
        other => other,
    };
    let mut index = at + 1;
    while index < line.len() {
        match line[index] {
            b'\\' => index += 2,
            byte if byte == close => return index + 1,
            _ => index += 1,
        }
    }
    line.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    fn message(max: i64, depth: u32) -> String {
        format!("Function body is nested too deep (max depth is {max}, was {depth}).")
    }

    #[test]
    fn the_operator_is_the_last_one_written_in_code() {
        assert_eq!(
            nesting_operator(b"    Enum.map(x, fn y -> case y do"),
            Some("case")
        );
        assert_eq!(nesting_operator(b"      1 -> if y, do: 1"), Some("if"));
        assert_eq!(nesting_operator(b"  if x, do: \"case\" # for"), Some("if"));
        assert_eq!(
            nesting_operator(b"  Kernel.if(x, [if: 1], :for, ~w(fn))"),
            None
        );
        assert_eq!(nesting_operator(b"  x = format(y)"), None);
    }

    /// The confirmed examples of CREDO_CHECKS.md §3, with `max_nesting: -1`.
    #[test]
    fn confirmed_examples() {
        let source = "\
defmodule M do
  def a(x) do
    Enum.map(x, fn y -> case y do 1 -> if y, do: 1; _ -> 2 end end)
  end
  def b(x), do: {:ok, if(x, do: if(x, do: 1))}
  def c(x) do
    try do if x, do: if(x, do: 1) rescue _ -> if x, do: 1 end
  end
  def d(x) do
    with {:ok, a} <- x do
      a
    else
      _ -> if x, do: unless(x, do: 1)
    end
  end
  def e(x) do
    if x, do: 1
    unless x, do: 2
  end
  def f(x) do
    x
  rescue
    _ -> if(x, do: 1)
  catch
    _ -> if(x, do: if(x, do: 1))
  end
end
";
        assert_eq!(
            findings(Box::new(NestingDepth::with_max(-1)), "lib/x.ex", source),
            vec![
                (3, 40, 42, message(-1, 3)),
                (5, 3, 6, message(-1, 0)),
                (7, 12, 14, message(-1, 1)),
                (13, 22, 28, message(-1, 3)),
                (18, 5, 11, message(-1, 1)),
                (23, 10, 12, message(-1, 1)),
            ]
        );
    }

    #[test]
    fn default_threshold_is_two() {
        let source = "\
defmodule M do
  def two(x) do
    if x do
      case x do
        _ -> :ok
      end
    end
  end
  def three(x) do
    if x do
      case x do
        _ -> fn -> :ok end
      end
    end
  end
end
";
        assert_eq!(
            findings(Box::new(NestingDepth::new()), "lib/x.ex", source),
            vec![(12, 14, 16, message(2, 3))]
        );
    }
}
