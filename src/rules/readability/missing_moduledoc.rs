//! `missing-moduledoc`: Credo's `Readability.ModuleDoc` (CREDO_CHECKS.md §17).

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;
use regex_lite::Regex;

use super::{ast_argument_count, do_statements, local_call_name, written_arguments};
use crate::rules::anchor;
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};
use crate::syntax::{self, Positions};

const MISSING: &str = "Modules should have a @moduledoc tag.";
const EMPTY: &str = "Use `@moduledoc false` if a module will not be documented.";

/// Credo's default `ignore_names`: Phoenix's and Ecto's generated modules.
const IGNORE_NAMES: &str = r"(\.\w+Controller|\.Endpoint|\.\w+Live(\.\w+)?|\.Repo|\.Router|\.\w+Socket|\.\w+View|\.\w+HTML|\.\w+JSON|\.Telemetry|\.Layouts|\.Mailer)$";

/// What Credo's `Module.name` gives a module it cannot name.
const UNKNOWN_NAME: &str = "<Unknown Module Name>";

/// One entry of `ignore_modules_using`.
enum UsingMatcher {
    /// An atom or string: a substring of the used module's name.
    Contains(&'static str),
    Regex(Regex),
}

pub(crate) struct MissingModuledoc {
    meta: RuleMeta,
    ignore_names: Regex,
    ignore_modules_using: Vec<UsingMatcher>,
}

impl MissingModuledoc {
    pub(crate) fn new() -> MissingModuledoc {
        MissingModuledoc {
            ignore_names: Regex::new(IGNORE_NAMES).expect("a valid regex"),
            ignore_modules_using: vec![
                UsingMatcher::Contains("Credo.Check"),
                UsingMatcher::Contains("Ecto.Schema"),
                UsingMatcher::Contains("Phoenix.LiveView"),
                UsingMatcher::Regex(Regex::new(r"\.Web$").expect("a valid regex")),
            ],
            meta: RuleMeta {
                id: "missing-moduledoc",
                category: Category::Readability,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "A module without `@moduledoc`",
                credo_check: Some("Credo.Check.Readability.ModuleDoc"),
                sobelow_check: None,
                parameters: vec![
                    Parameter {
                        name: "ignore_names",
                        default: format!("[~r/{IGNORE_NAMES}/]"),
                        description: "Module names (as written) to leave alone, with every \
                                      module nested in them: substrings or regexes.",
                    },
                    Parameter {
                        name: "ignore_modules_using",
                        default: r"[Credo.Check, Ecto.Schema, Phoenix.LiveView, ~r/\.Web$/]"
                            .to_string(),
                        description: "Leave alone modules whose body `use`s a matching module \
                                      (names match as substrings, regexes as regexes).",
                    },
                ],
                docs: RuleDocs {
                    what_it_finds: "Modules, nested ones included, whose body does not start a \
                                    statement with `@moduledoc` (one inside an `if` or a \
                                    `quote` does not count), and modules whose `@moduledoc` is \
                                    a blank string. Exceptions (`defexception`) need no \
                                    `@moduledoc` but may not have a blank one. As in Credo, \
                                    `.exs` files (scripts and tests) are not checked, and \
                                    neither are Phoenix's and Ecto's generated modules: names \
                                    ending in `.…Controller`, `.Endpoint`, `.…Live`, `.Repo`, \
                                    `.Router`, `.…Socket`, `.…View`, `.…HTML`, `.…JSON`, \
                                    `.Telemetry`, `.Layouts` or `.Mailer` as written, and \
                                    modules that `use` `Credo.Check`, `Ecto.Schema`, \
                                    `Phoenix.LiveView` or a `….Web` module; a module nested in \
                                    an ignored one is ignored too.",
                    why_it_matters: "A sentence on why a module exists saves every reader from \
                                     reverse-engineering it, and `@moduledoc false` says on \
                                     purpose that a module is internal.",
                    example: "defmodule MyApp.Billing do\n  def charge(order), do: order\nend",
                    instead: "defmodule MyApp.Billing do\n  @moduledoc \"Charges orders through the payment provider.\"\n\n  def charge(order), do: order\nend",
                },
            },
        }
    }

    /// Whether Credo's walk stops at this `defmodule` (and so at everything inside it).
    fn ignored(&self, module: Node<'_>, source: &[u8]) -> bool {
        if self.ignore_names.is_match(&credo_name(module, source)) {
            return true;
        }
        do_statements(module, source).into_iter().any(|statement| {
            if local_call_name(statement, source) != Some("use") {
                return false;
            }
            let Some(&used) = written_arguments(statement).first() else {
                return false;
            };
            if used.kind() != "alias" {
                return false;
            }
            let name = compact(used, source);
            self.ignore_modules_using
                .iter()
                .any(|matcher| match matcher {
                    UsingMatcher::Contains(part) => name.contains(part),
                    UsingMatcher::Regex(regex) => regex.is_match(&name),
                })
        })
    }
}

/// A node's text without whitespace (`Foo.\n  Bar` is `Foo.Bar`).
fn compact(node: Node<'_>, source: &[u8]) -> String {
    syntax::text(node, source)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Credo's `Module.name`: the name as written, parts Credo cannot name (`unquote(x)`) shown as
/// `<Unknown Module Name>`, which is also the name of a module not named by an alias.
fn credo_name(module: Node<'_>, source: &[u8]) -> String {
    fn part(node: Node<'_>, source: &[u8]) -> String {
        match node.kind() {
            "alias" => compact(node, source),
            "identifier" if &source[node.byte_range()] == b"__MODULE__" => "__MODULE__".into(),
            _ => UNKNOWN_NAME.into(),
        }
    }
    if ast_argument_count(module) != 2 {
        return UNKNOWN_NAME.into();
    }
    let Some(&name) = written_arguments(module).first() else {
        return UNKNOWN_NAME.into();
    };
    match name.kind() {
        "alias" => compact(name, source),
        "dot" => match (name.field(Field::Left), name.field(Field::Right)) {
            (Some(left), Some(right)) if right.kind() == "alias" => {
                format!("{}.{}", part(left, source), compact(right, source))
            }
            _ => UNKNOWN_NAME.into(),
        },
        _ => UNKNOWN_NAME.into(),
    }
}

/// Named by an alias (`__aliases__` in the AST), which Credo's `Module.exception?` requires.
fn named_by_alias(module: Node<'_>) -> bool {
    written_arguments(module).first().is_some_and(|name| {
        name.kind() == "alias"
            || (name.kind() == "dot"
                && name
                    .field(Field::Right)
                    .is_some_and(|right| right.kind() == "alias"))
    })
}

/// The value of `@moduledoc value`.
fn moduledoc_value<'t>(statement: Node<'t>, source: &[u8]) -> Option<Node<'t>> {
    if statement.kind() != "unary_operator"
        || statement
            .field(Field::Operator)
            .is_none_or(|op| &source[op.byte_range()] != b"@")
    {
        return None;
    }
    let operand = statement.field(Field::Operand)?;
    if local_call_name(operand, source) != Some("moduledoc") {
        return None;
    }
    match written_arguments(operand).as_slice() {
        [value] => Some(*value),
        _ => None,
    }
}

/// A plain string (no interpolation) that is blank once its escapes are read.
fn blank_string(value: Node<'_>, source: &[u8]) -> bool {
    if value.kind() != "string" {
        return false;
    }
    let blank = value.named_children().all(|part| match part.kind() {
        "quoted_content" => syntax::text(part, source).chars().all(char::is_whitespace),
        "escape_sequence" => matches!(
            &source[part.byte_range()],
            b"\\n" | b"\\t" | b"\\r" | b"\\s" | b"\\v" | b"\\f" | b"\\\n"
        ),
        _ => false,
    });
    blank
}

/// `defexception …` (a bare `defexception` too: Credo matches `{:defexception, _, _}`).
fn defines_exception(statement: Node<'_>, source: &[u8]) -> bool {
    local_call_name(statement, source) == Some("defexception")
        || (statement.kind() == "identifier" && &source[statement.byte_range()] == b"defexception")
}

impl Rule for MissingModuledoc {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            callees: &[("Kernel", "defmodule")],
            ..Interests::default()
        }
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let source = out.source();
        let module = call.node;
        // Credo skips `.exs` files (scripts and tests) by their extension.
        if out.path().ends_with(".exs") || local_call_name(module, source) != Some("defmodule") {
            return;
        }
        if self.ignored(module, source) {
            return;
        }
        let mut ancestor = module.parent();
        while let Some(node) = ancestor {
            if local_call_name(node, source) == Some("defmodule") && self.ignored(node, source) {
                return;
            }
            ancestor = node.parent();
        }
        let statements = do_statements(module, source);
        let moduledoc = statements.iter().find_map(|s| moduledoc_value(*s, source));
        let message = match moduledoc {
            None if named_by_alias(module)
                && statements.iter().any(|s| defines_exception(*s, source)) =>
            {
                return
            }
            None => MISSING,
            Some(value) if blank_string(value, source) => EMPTY,
            Some(_) => return,
        };
        let name = credo_name(module, source);
        let line = Positions::line(module.start_position());
        let text = anchor::node_line(source, module);
        out.at(
            anchor::trigger_span(line, text, &name),
            finding_module(module, site.module, source),
            None,
            anchor::snippet(text),
            message,
        );
    }
}

/// The module a finding names: the module's own name by Elixir's nesting rule (`Inner` in
/// `Outer` is `Outer.Inner`, `Elixir.X` is `X`), an atom's name, or, when the name is computed,
/// the enclosing module.
fn finding_module(module: Node<'_>, enclosing: Option<&str>, source: &[u8]) -> Option<String> {
    let name = written_arguments(module).first().copied();
    match name.map(|name| (name.kind(), name)) {
        Some(("alias", alias)) => {
            let written = compact(alias, source);
            Some(match (enclosing, written.strip_prefix("Elixir.")) {
                (_, Some(absolute)) => absolute.to_string(),
                (Some(outer), None) => format!("{outer}.{written}"),
                (None, None) => written,
            })
        }
        Some(("atom", atom)) => Some(
            syntax::text(atom, source)
                .trim_start_matches(':')
                .to_string(),
        ),
        _ => enclosing.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    fn run(path: &str, source: &str) -> Vec<(u32, u32, u32, String)> {
        findings(Box::new(MissingModuledoc::new()), path, source)
    }

    /// The confirmed examples of CREDO_CHECKS.md §17.
    #[test]
    fn confirmed_examples() {
        let source = "\
defmodule NoDoc do def a, do: 1 end
defmodule Blank do
  @moduledoc \"  \"
end
defmodule InIf do
  if true do
    @moduledoc \"x\"
  end
end
defmodule MyAppWeb.PageController do
  defmodule Inner do
  end
end
defmodule MyError do
  defexception [:message]
end
";
        assert_eq!(
            run("lib/x.ex", source),
            vec![
                (1, 11, 16, MISSING.to_string()),
                (2, 11, 16, EMPTY.to_string()),
                (5, 11, 15, MISSING.to_string()),
            ]
        );
        assert!(run("test/x_test.exs", "defmodule XTest do\nend\n").is_empty());
    }

    #[test]
    fn names_as_written_and_uses() {
        let source = "\
defmodule Outer do
  @moduledoc false
  defmodule PageController do
  end
  defmodule Schema do
    use Ecto.Schema
  end
  defmodule Web do
    use MyApp.Web, :controller
  end
  defmodule NotWeb do
    use MyAppWeb, :controller
  end
  defmodule Heredoc do
    @moduledoc \"\"\"
    \"\"\"
  end
  defmodule Escaped do
    @moduledoc \"\\n\"
  end
  defmodule Documented do
    @moduledoc ~S\"\"\"
    Text.
    \"\"\"
  end
  defmodule BlankException do
    @moduledoc \"\"
    defexception [:message]
  end
end
";
        let lines: Vec<(u32, String)> = run("lib/x.ex", source)
            .into_iter()
            .map(|(line, _, _, message)| (line, message))
            .collect();
        assert_eq!(
            lines,
            vec![
                (3, MISSING.to_string()),
                (11, MISSING.to_string()),
                (14, EMPTY.to_string()),
                (18, EMPTY.to_string()),
                (26, EMPTY.to_string()),
            ]
        );
    }
}
