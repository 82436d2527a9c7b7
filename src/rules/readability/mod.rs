//! readability rules: Credo's Readability checks on names, numbers and module docs
//! (CREDO_CHECKS.md §17–21). Each reads the definitions it is sent by the walk; the few that
//! Credo decides file-wide (an `@impl` elsewhere in the file, the last clause of a name) look
//! at the rest of the tree only for the rare names they would flag.

pub(crate) mod function_name_case;
pub(crate) mod large_number_underscores;
pub(crate) mod missing_moduledoc;
pub(crate) mod module_name_case;
pub(crate) mod predicate_function_name;

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use crate::rules::engine::Rule;
use crate::syntax;

/// The rules of this category.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(function_name_case::FunctionNameCase::new()),
        Box::new(large_number_underscores::LargeNumberUnderscores::new()),
        Box::new(missing_moduledoc::MissingModuledoc::new()),
        Box::new(module_name_case::ModuleNameCase::new()),
        Box::new(predicate_function_name::PredicateFunctionName::new()),
    ]
}

/// The name of a call written `name(...)`, `name ...` or `name do ... end` (a `call` whose
/// target is an identifier: `{name, meta, args}` in Elixir's AST, unlike `Kernel.def`), when
/// it is valid UTF-8: [`local_name`](crate::rules::warning::local_name) borrowed.
pub(crate) fn local_call_name<'s>(node: Node<'_>, source: &'s [u8]) -> Option<&'s str> {
    match crate::rules::warning::local_name(node, source)? {
        std::borrow::Cow::Borrowed(name) => Some(name),
        std::borrow::Cow::Owned(_) => None,
    }
}

pub(crate) use crate::syntax::{ast_argument_count, call_arguments as written_arguments, do_block};

/// The statements of a call's `do` section, as Credo's `Block.calls_in_do_block` sees them:
/// those of a `do … end` block (before any `else`/`rescue`/… section), or the value of a
/// `do:` keyword (a parenthesised `(a; b)` gives its statements).
pub(crate) fn do_statements<'t>(call: Node<'t>, source: &[u8]) -> Vec<Node<'t>> {
    if let Some(block) = do_block(call) {
        return block
            .named_children()
            .take_while(|child| !child.kind().ends_with("_block"))
            .filter(|child| child.kind() != "comment")
            .collect();
    }
    let Some(keywords) = written_arguments(call)
        .into_iter()
        .rev()
        .find(|argument| argument.kind() == "keywords")
    else {
        return Vec::new();
    };
    let value = keywords
        .named_children()
        .filter(|pair| pair.kind() == "pair")
        .find(|pair| {
            pair.field(Field::Key)
                .is_some_and(|key| syntax::text(key, source).trim_end() == "do:")
        })
        .and_then(|pair| pair.field(Field::Value));
    match value {
        Some(block) if block.kind() == "block" => block
            .named_children()
            .filter(|child| child.kind() != "comment")
            .collect(),
        Some(value) => vec![value],
        None => Vec::new(),
    }
}

/// The root of the tree a node belongs to (`parent` walks down from the root each time, so
/// this is for the rare nodes a rule has already decided to report).
pub(crate) fn root_of(node: Node<'_>) -> Node<'_> {
    let mut root = node;
    while let Some(parent) = root.parent() {
        root = parent;
    }
    root
}

/// The name a definition's head gives in Elixir's AST, as Credo's name checks read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head<'t, 's> {
    /// `name`, `name(args)`, or an operator `a <~> b` (`arity` is `None` for a bare name,
    /// whose AST arguments are `nil`).
    Named {
        name: &'s str,
        arity: Option<usize>,
        /// Where the name's `meta` points: the head itself.
        node: Node<'t>,
        operator: bool,
    },
    /// `head when guard`.
    When(Node<'t>),
    /// `unquote(name)(args)`: computed.
    Unquote,
    /// Anything Credo's name checks do not read.
    Other,
}

/// Reads a definition head (the first argument of `def`).
pub(crate) fn read_head<'t, 's>(head: Node<'t>, source: &'s [u8]) -> Head<'t, 's> {
    let text = |node: Node<'_>| std::str::from_utf8(&source[node.byte_range()]).unwrap_or("");
    match head.kind() {
        "identifier" => Head::Named {
            name: text(head),
            arity: None,
            node: head,
            operator: false,
        },
        "call" => {
            let Some(target) = head.field(Field::Target) else {
                return Head::Other;
            };
            match target.kind() {
                "identifier" => Head::Named {
                    name: text(target),
                    arity: Some(ast_argument_count(head)),
                    node: head,
                    operator: false,
                },
                "call" if local_call_name(target, source) == Some("unquote") => Head::Unquote,
                _ => Head::Other,
            }
        }
        "binary_operator" => {
            let Some(operator) = head.field(Field::Operator) else {
                return Head::Other;
            };
            match text(operator) {
                "when" => head.field(Field::Left).map_or(Head::Other, Head::When),
                // `a not in b` is `not(a in b)` in the AST.
                op => Head::Named {
                    name: if op.starts_with("not") { "not" } else { op },
                    arity: Some(2),
                    node: operator,
                    operator: true,
                },
            }
        }
        "unary_operator" => match head.field(Field::Operator) {
            Some(operator) => Head::Named {
                name: text(operator),
                arity: Some(1),
                node: operator,
                operator: true,
            },
            None => Head::Other,
        },
        _ => Head::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    /// Every readability rule leaves a file without anything to flag alone.
    #[test]
    fn clean_code_is_not_flagged() {
        let source = "\
defmodule Clean.Module do
  @moduledoc \"Documented.\"
  @impl true
  def valid?(x), do: x > 10_000
  defp helper_2(x), do: x * 1.5
end
";
        for rule in rules() {
            assert!(findings(rule, "lib/clean.ex", source).is_empty());
        }
    }
}
