//! `predicate-function-name`: Credo's `Readability.PredicateFunctionNames`
//! (CREDO_CHECKS.md §18).

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use super::{local_call_name, read_head, root_of, written_arguments, Head};
use crate::rules::anchor;
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};
use crate::syntax;

const MESSAGE: &str =
    "Predicate function names should not start with 'is', and should end in a question mark.";

/// The definitions Credo checks.
const DEFINITIONS: [&str; 3] = ["def", "defp", "defmacro"];

pub(crate) struct PredicateFunctionName {
    meta: RuleMeta,
}

impl PredicateFunctionName {
    pub(crate) fn new() -> PredicateFunctionName {
        PredicateFunctionName {
            meta: RuleMeta {
                id: "predicate-function-name",
                category: Category::Readability,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "A predicate named `is_…` instead of ending in `?`",
                credo_check: Some("Credo.Check.Readability.PredicateFunctionNames"),
                sobelow_check: None,
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds: "Clauses of `def`, `defp` and `defmacro` named `is_…?` \
                                    (any of them), and `def`/`defp` clauses named `is_…` \
                                    (the `is_` prefix is the convention for guard-safe \
                                    macros). Every clause is reported; as in Credo, a clause \
                                    with a `when` guard is not (its head reads as `when`), nor \
                                    is a name computed with `unquote`. A function that \
                                    implements a callback is exempt: a name and arity defined \
                                    right after an `@impl` (other than `@impl false`) anywhere \
                                    in the file is exempt in the whole file.",
                    why_it_matters: "Elixir names predicates `valid?` and reserves `is_valid` \
                                     for macros usable in guards (`is_integer/1`); mixing the \
                                     two misleads readers about where a function can be used.",
                    example: "def is_admin(user), do: user.role == :admin\ndef is_active?(user), do: user.active",
                    instead: "def admin?(user), do: user.role == :admin\ndef active?(user), do: user.active",
                },
            },
        }
    }
}

impl Rule for PredicateFunctionName {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            callees: &[
                ("Kernel", "def"),
                ("Kernel", "defp"),
                ("Kernel", "defmacro"),
            ],
            ..Interests::default()
        }
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let source = out.source();
        let Some(keyword) = local_call_name(call.node, source) else {
            return;
        };
        let Some(&first) = written_arguments(call.node).first() else {
            return;
        };
        let Head::Named {
            name,
            arity,
            node,
            operator: false,
        } = read_head(first, source)
        else {
            return;
        };
        let flagged = name.starts_with("is_") && (name.ends_with('?') || keyword != "defmacro");
        if !flagged {
            return;
        }
        let arity = arity.unwrap_or(0);
        if implemented_callbacks(root_of(call.node), source).contains(&(name, arity)) {
            return;
        }
        let line = syntax::Positions::line(node.start_position());
        let text = anchor::node_line(source, node);
        let span = anchor::trigger_span(line, text, name);
        let snippet = anchor::snippet(text);
        out.at(
            span,
            site.module.map(str::to_string),
            Some(format!("{name}/{arity}")),
            snippet,
            MESSAGE,
        );
    }
}

/// The sequences Elixir's AST holds as a `__block__`: a file, `do`/`else`/… sections,
/// parenthesised blocks and `->` bodies.
const SEQUENCES: [&str; 8] = [
    "source",
    "do_block",
    "else_block",
    "after_block",
    "rescue_block",
    "catch_block",
    "block",
    "body",
];

/// The (name, arity) pairs Credo exempts: in each statement sequence, an `@impl` whose value
/// is not `false` marks the next `def`, `defp` or `defmacro` of the sequence, whatever comes
/// in between (a second `@impl` before it changes nothing).
fn implemented_callbacks<'s>(root: Node<'_>, source: &'s [u8]) -> Vec<(&'s str, usize)> {
    let mut found = Vec::new();
    // Without the word there is nothing to find: most files need no walk.
    if !source.windows(4).any(|w| w == b"impl") {
        return found;
    }
    syntax::walk_preorder(root, |node| {
        if SEQUENCES.contains(&node.kind()) {
            let mut marked = false;
            for statement in node.named_children() {
                if impl_attribute(statement, source) {
                    marked = true;
                } else if marked {
                    if let Some(signature) = definition_signature(statement, source) {
                        found.push(signature);
                        marked = false;
                    }
                }
            }
        }
        true
    });
    found
}

/// `@impl value` with a value other than `false`.
fn impl_attribute(node: Node<'_>, source: &[u8]) -> bool {
    if node.kind() != "unary_operator"
        || node
            .field(Field::Operator)
            .is_none_or(|op| &source[op.byte_range()] != b"@")
    {
        return false;
    }
    let Some(operand) = node.field(Field::Operand) else {
        return false;
    };
    if local_call_name(operand, source) != Some("impl") {
        return false;
    }
    match written_arguments(operand).as_slice() {
        [value] => &source[value.byte_range()] != b"false",
        _ => false,
    }
}

/// The (name, arity) a `def`, `defp` or `defmacro` statement defines, read through `when`.
fn definition_signature<'s>(node: Node<'_>, source: &'s [u8]) -> Option<(&'s str, usize)> {
    let keyword = local_call_name(node, source)?;
    if !DEFINITIONS.contains(&keyword) {
        return None;
    }
    let mut head = *written_arguments(node).first()?;
    loop {
        match read_head(head, source) {
            Head::When(inner) => head = inner,
            Head::Named { name, arity, .. } => return Some((name, arity.unwrap_or(0))),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    fn lines(source: &str) -> Vec<(u32, u32, u32)> {
        findings(Box::new(PredicateFunctionName::new()), "lib/x.ex", source)
            .into_iter()
            .map(|(line, column, end, _)| (line, column, end))
            .collect()
    }

    /// The confirmed examples of CREDO_CHECKS.md §18.
    #[test]
    fn confirmed_examples() {
        let source = "\
defmodule M do
  def is_valid?(x), do: x
  def is_fine(1), do: true
  def is_fine(_), do: false
  def is_guarded(x) when is_integer(x), do: x
  defmacro is_mac(x), do: x
  defmacro is_mac?(x), do: x
  @impl true
  def is_impl(x), do: x
end
defmodule N do
  def is_impl(x), do: x
end
";
        assert_eq!(
            lines(source),
            vec![(2, 7, 16), (3, 7, 14), (4, 7, 14), (7, 12, 19)]
        );
    }

    #[test]
    fn impl_marks_the_next_definition_of_its_sequence() {
        let source = "\
defmodule M do
  def is_before(x), do: x
  @impl GenServer
  @doc false
  @spec is_before(term) :: term
  def is_before(x), do: x
  def is_after(x), do: x
  @impl false
  def is_false(x), do: x
  @impl true
  def is_other(x, y), do: {x, y}
  def is_other(x), do: x
end
";
        assert_eq!(lines(source), vec![(7, 7, 15), (9, 7, 15), (12, 7, 15)]);
    }
}
