//! `module-name-case`: Credo's `Readability.ModuleNames` (CREDO_CHECKS.md §21).

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use super::{local_call_name, written_arguments};
use crate::rules::anchor;
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};
use crate::syntax::Positions;

const MESSAGE: &str = "Module names should be written in PascalCase.";

pub(crate) struct ModuleNameCase {
    meta: RuleMeta,
}

impl ModuleNameCase {
    pub(crate) fn new() -> ModuleNameCase {
        ModuleNameCase {
            meta: RuleMeta {
                id: "module-name-case",
                category: Category::Readability,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "A module name not in PascalCase",
                credo_check: Some("Credo.Check.Readability.ModuleNames"),
                sobelow_check: None,
                parameters: vec![Parameter {
                    name: "ignore",
                    default: "[]".to_string(),
                    description: "Module names (compared whole) or regexes to leave alone.",
                }],
                docs: RuleDocs {
                    what_it_finds: "`defmodule` names, nested ones included, with a segment \
                                    that is not an uppercase letter followed by ASCII letters \
                                    and digits (`Foo_Bar`, `MyApp.Web_search`). Only the name \
                                    as written is checked: `__MODULE__` segments are dropped \
                                    and `defmodule :atom` is not checked. All-caps segments \
                                    (`FOO`) pass.",
                    why_it_matters: "Elixir writes modules in PascalCase; an underscore in a \
                                     module name looks like a typo and is easy to misspell \
                                     when aliasing or calling it.",
                    example: "defmodule MyApp.Web_searchController do\nend",
                    instead: "defmodule MyApp.WebSearchController do\nend",
                },
            },
        }
    }
}

/// `^[A-Z][a-zA-Z0-9]*$`.
fn pascal_case(segment: &str) -> bool {
    let mut bytes = segment.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_uppercase()) && bytes.all(|b| b.is_ascii_alphanumeric())
}

/// The name Credo checks and the node its `meta` column points at: the alias as written, or
/// for `Left.Alias` (an `__aliases__` whose first part is `__MODULE__`, `unquote(x)`, …) the
/// alias part, at the dot.
fn written_name<'t>(name: Node<'t>, source: &[u8]) -> Option<(String, Node<'t>)> {
    let compact = |node: Node<'_>| -> String {
        String::from_utf8_lossy(&source[node.byte_range()])
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    match name.kind() {
        "alias" => Some((compact(name), name)),
        "dot" => {
            let right = name.field(Field::Right)?;
            let dot = name.field(Field::Operator)?;
            (right.kind() == "alias").then(|| (compact(right), dot))
        }
        _ => None,
    }
}

impl Rule for ModuleNameCase {
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
        if local_call_name(call.node, source) != Some("defmodule") {
            return;
        }
        let Some(&first) = written_arguments(call.node).first() else {
            return;
        };
        let Some((name, anchor_node)) = written_name(first, source) else {
            return;
        };
        if name.split('.').all(pascal_case) {
            return;
        }
        let (line, column) = Positions::new(source).start(anchor_node);
        let end = column + u32::try_from(name.chars().count()).unwrap_or(0);
        let snippet = anchor::snippet(anchor::node_line(source, call.node));
        out.at(
            (line, column, line, end),
            site.module.map(str::to_string),
            None,
            snippet,
            MESSAGE,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    /// The confirmed examples of CREDO_CHECKS.md §21, and the `__MODULE__` reading.
    #[test]
    fn confirmed_examples() {
        let source = "\
defmodule Foo_Bar do
  defmodule Baz_qux do
  end
end
defmodule FOO.Bar2 do
  defmodule __MODULE__.Sub_x do
  end
end
defmodule :not_checked do
end
";
        let found: Vec<(u32, u32, u32)> =
            findings(Box::new(ModuleNameCase::new()), "lib/x.ex", source)
                .into_iter()
                .map(|(line, column, end, _)| (line, column, end))
                .collect();
        assert_eq!(found, vec![(1, 11, 18), (2, 13, 20), (6, 23, 28)]);
    }
}
