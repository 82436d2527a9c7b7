//! tree-sitter setup and the helpers every extractor shares: a parser per worker thread, a parse
//! with a deadline, positions in code points, and iterative traversal (30k-deep trees occur, so
//! nothing here recurses on the input's depth).

pub(crate) mod kinds;
pub(crate) mod pattern;
pub(crate) mod sites;
mod tree;

use std::cell::RefCell;
#[cfg(test)]
use std::time::Duration;

use crate::otp::cancel::Deadline;

use tree_sitter::{ParseOptions, ParseState, Parser, Point};

pub(crate) use kinds::Kind;
pub(crate) use tree::{Children, Node, Tree};

thread_local! {
    /// One parser per worker thread: creating one is cheap, but reusing it keeps its buffers.
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

#[derive(Debug)]
pub(crate) enum ParseOutcome {
    Parsed(Tree),
    /// The deadline passed; the parser has been reset.
    TimedOut,
}

/// How the parser is fed: the file's bytes, or (fault injection) an input that never ends.
pub(crate) enum ParseInput<'a> {
    Bytes(&'a [u8]),
    Endless,
}

/// A deadline `timeout` from now that nothing else cancels (tests and tools).
#[cfg(test)]
pub(crate) fn within(timeout: Duration) -> Deadline {
    Deadline::after(timeout, crate::otp::cancel::CancelToken::new())
}

pub(crate) fn language() -> tree_sitter::Language {
    tree_sitter_elixir::LANGUAGE.into()
}

/// Parses with this thread's parser, giving up when `deadline` expires (its time, or its run's
/// cancellation), and copies the tree into the flat [`Tree`] everything else reads.
pub(crate) fn parse(input: ParseInput<'_>, deadline: &Deadline) -> ParseOutcome {
    match parse_tree_sitter(input, deadline) {
        Some(tree) => ParseOutcome::Parsed(Tree::from_tree_sitter(tree)),
        None => ParseOutcome::TimedOut,
    }
}

/// tree-sitter's own tree, `None` if the deadline passed (the parser has then been reset).
pub(crate) fn parse_tree_sitter(
    input: ParseInput<'_>,
    deadline: &Deadline,
) -> Option<tree_sitter::Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let parser = slot.get_or_insert_with(|| {
            let mut parser = Parser::new();
            parser
                .set_language(&language())
                .expect("the bundled tree-sitter-elixir grammar matches the tree-sitter ABI");
            parser
        });
        // The progress callback runs inside tree-sitter's C code: it must not panic, and it
        // does nothing that could.
        let mut past_deadline = |_: &ParseState| deadline.expired();
        let options = ParseOptions::new().progress_callback(&mut past_deadline);
        let tree = match input {
            ParseInput::Bytes(bytes) => {
                let mut read = |offset: usize, _: Point| -> &[u8] {
                    if offset < bytes.len() {
                        &bytes[offset..]
                    } else {
                        &[]
                    }
                };
                parser.parse_with_options(&mut read, None, Some(options))
            }
            ParseInput::Endless => {
                // An ever-growing list literal: the parser never sees the end of its input.
                let mut read = |_: usize, _: Point| -> &[u8] { b"[1, [2, " };
                parser.parse_with_options(&mut read, None, Some(options))
            }
        };
        if tree.is_none() {
            parser.reset();
        }
        tree
    })
}

/// Converts tree-sitter byte positions to 1-based lines and code-point columns.
pub(crate) struct Positions<'a> {
    source: &'a [u8],
}

impl<'a> Positions<'a> {
    pub(crate) fn new(source: &'a [u8]) -> Self {
        Positions { source }
    }

    /// 1-based line of a point.
    pub(crate) fn line(point: Point) -> u32 {
        u32::try_from(point.row).unwrap_or(u32::MAX - 1) + 1
    }

    /// 1-based column of the byte at `byte` on the line of `point`, counted in code points.
    pub(crate) fn column(&self, byte: usize, point: Point) -> u32 {
        let byte = byte.min(self.source.len());
        let line_start = byte.saturating_sub(point.column);
        let prefix = &self.source[line_start..byte];
        // Count the bytes that start a UTF-8 sequence; invalid bytes count one each. Most lines
        // are ASCII, which a vectorised check confirms faster than the count (it matters for
        // many positions on one very long line).
        let code_points = if prefix.is_ascii() {
            prefix.len()
        } else {
            prefix.iter().filter(|b| (**b & 0xC0) != 0x80).count()
        };
        u32::try_from(code_points).unwrap_or(u32::MAX - 1) + 1
    }

    pub(crate) fn start(&self, node: Node<'_>) -> (u32, u32) {
        let point = node.start_position();
        (Self::line(point), self.column(node.start_byte(), point))
    }

    pub(crate) fn end(&self, node: Node<'_>) -> (u32, u32) {
        let point = node.end_position();
        (Self::line(point), self.column(node.end_byte(), point))
    }
}

/// Visits every node in document order without recursion. `enter` returns whether to descend
/// into the node's children.
pub(crate) fn walk_preorder<'t>(root: Node<'t>, enter: impl FnMut(Node<'t>) -> bool) {
    struct EnterOnly<F>(F);
    impl<'t, F: FnMut(Node<'t>) -> bool> Visitor<'t> for EnterOnly<F> {
        const NAMED_ONLY: bool = false;
        fn enter(&mut self, node: Node<'t>, _: Kind) -> bool {
            (self.0)(node)
        }
        fn leave(&mut self, _: Node<'t>, _: Kind) {}
    }
    walk_enter_leave(root, &mut EnterOnly(enter));
}

/// The source text of a node, lossily decoded.
pub(crate) fn text<'s>(node: Node<'_>, source: &'s [u8]) -> std::borrow::Cow<'s, str> {
    let range = node.byte_range();
    String::from_utf8_lossy(&source[range.start.min(source.len())..range.end.min(source.len())])
}

/// Like [`walk_preorder`], and calls `leave` once for every node `enter` was called on, after
/// its descendants, so a visitor can keep a stack of scopes without recursion.
///
/// This is the one walk over every node of every file: each node's kind is looked up once by
/// id, and children are read from the flat tree's arrays. A visitor with
/// [`Visitor::NAMED_ONLY`] hears nothing of the anonymous tokens (`do`, `(`, `|>`, ...), about
/// four nodes in ten.
pub(crate) fn walk_enter_leave<'t, V: Visitor<'t>>(root: Node<'t>, visitor: &mut V) {
    // Anonymous tokens are `Kind::Other` in the grammar table; a named-only walk never meets them.
    let kind_of = kinds::kind;
    let children = |node: Node<'t>| -> Children<'t> { node.children_of(V::NAMED_ONLY) };
    // Trees are rarely deeper than this; the stack then never touches the heap.
    let mut stack: smallvec::SmallVec<[(Node<'t>, Kind, Children<'t>); 64]> =
        smallvec::SmallVec::new();
    let root_kind = kind_of(root);
    let descend = visitor.enter(root, root_kind);
    if visitor.stopped() {
        return;
    }
    if !descend {
        visitor.leave(root, root_kind);
        return;
    }
    stack.push((root, root_kind, children(root)));
    while let Some((_, _, next)) = stack.last_mut() {
        match next.next() {
            Some(child) => {
                let kind = kind_of(child);
                let descend = visitor.enter(child, kind);
                if visitor.stopped() {
                    return;
                }
                if descend {
                    stack.push((child, kind, children(child)));
                } else {
                    visitor.leave(child, kind);
                }
            }
            None => {
                let (node, kind, _) = stack.pop().expect("checked above");
                visitor.leave(node, kind);
            }
        }
    }
}

/// Named children other than comments: the AST elements of a list, block or arguments node.
pub(crate) fn statements(node: Node<'_>) -> impl Iterator<Item = Node<'_>> + Clone {
    node.named_children()
        .filter(|child| kinds::kind(*child) != Kind::Comment)
}

/// The named children of `node` that are code (comments are named nodes in
/// tree-sitter-elixir).
pub(crate) fn code_children(node: Node<'_>) -> Vec<Node<'_>> {
    statements(node).collect()
}

/// The arguments of a call as written: the children of its `arguments` node (a trailing keyword
/// list is one, comments are none); a `do` block is not one.
///
/// Kept inline up to four arguments: asked of every definition, directive and local call.
pub(crate) fn call_arguments(call: Node<'_>) -> smallvec::SmallVec<[Node<'_>; 4]> {
    statements(call)
        .find(|child| kinds::kind(*child) == Kind::Arguments)
        .map(|arguments| statements(arguments).collect())
        .unwrap_or_default()
}

/// The call's `do … end` block, if it has one.
pub(crate) fn do_block(call: Node<'_>) -> Option<Node<'_>> {
    statements(call).find(|child| kinds::kind(*child) == Kind::DoBlock)
}

/// The length of a call's argument list in Elixir's AST: the written arguments (a trailing
/// keyword list counts as one), plus one for a `do … end` block (which becomes a trailing
/// keyword list). Allocates nothing.
pub(crate) fn ast_argument_count(call: Node<'_>) -> usize {
    argument_count(call).0
}

/// [`ast_argument_count`], and whether the call has an argument list at all (parentheses or
/// written arguments). The extractor asks this of every call.
pub(crate) fn argument_count(call: Node<'_>) -> (usize, bool) {
    let mut count = 0;
    let mut has_arguments = false;
    // A call has at most a target, arguments and a do block: indexing is cheaper than a
    // cursor.
    for index in 0..call.named_child_count() {
        let Some(child) = call.named_child(index) else {
            continue;
        };
        match kinds::kind(child) {
            Kind::Arguments => {
                has_arguments = true;
                let mut arguments = child.named_child_count();
                // Comments are named children too; a comment ends its line, so only an
                // argument list over several lines can hold one.
                if child.start_position().row != child.end_position().row {
                    arguments -= child
                        .named_children()
                        .filter(|c| kinds::kind(*c) == Kind::Comment)
                        .count();
                }
                count += arguments;
            }
            Kind::DoBlock => count += 1,
            _ => {}
        }
    }
    (count, has_arguments)
}

pub(crate) trait Visitor<'t> {
    /// Whether the walk skips anonymous tokens (their kind is then never [`Kind::Other`] for
    /// a token: `enter` and `leave` only see named nodes).
    const NAMED_ONLY: bool;
    /// Returns whether to visit the node's children.
    fn enter(&mut self, node: Node<'t>, kind: Kind) -> bool;
    fn leave(&mut self, node: Node<'t>, kind: Kind);
    /// Whether the walk ends now (a deadline passed): asked after every `enter`; no further
    /// node is entered or left.
    fn stopped(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(source: &str) -> Tree {
        match parse(
            ParseInput::Bytes(source.as_bytes()),
            &within(Duration::from_secs(10)),
        ) {
            ParseOutcome::Parsed(tree) => tree,
            ParseOutcome::TimedOut => panic!("timed out"),
        }
    }

    #[test]
    fn columns_count_code_points() {
        let source = "x = \"héllo\" + y\n";
        let tree = parse_str(source);
        let positions = Positions::new(source.as_bytes());
        let mut found = None;
        walk_preorder(tree.root_node(), |node| {
            if node.kind() == "identifier" && text(node, source.as_bytes()) == "y" {
                found = Some(positions.start(node));
            }
            true
        });
        assert_eq!(found, Some((1, 15)));
    }

    #[test]
    fn deep_nesting_walks_without_recursion() {
        let depth = 30_000;
        let source = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let tree = parse_str(&source);
        let mut count = 0usize;
        walk_preorder(tree.root_node(), |_| {
            count += 1;
            true
        });
        assert!(count > depth);
    }

    #[test]
    fn enter_and_leave_pair_up() {
        struct Depth(i64, i64);
        impl<'t> Visitor<'t> for Depth {
            const NAMED_ONLY: bool = false;
            fn enter(&mut self, _: Node<'t>, _: Kind) -> bool {
                self.0 += 1;
                self.1 = self.1.max(self.0);
                true
            }
            fn leave(&mut self, _: Node<'t>, _: Kind) {
                self.0 -= 1;
            }
        }
        let tree = parse_str("defmodule A do\n  def f(x), do: [x, [x]]\nend\n");
        let mut depth = Depth(0, 0);
        walk_enter_leave(tree.root_node(), &mut depth);
        assert_eq!(depth.0, 0);
        assert!(depth.1 > 5);
    }

    #[test]
    fn endless_input_times_out() {
        let outcome = parse(ParseInput::Endless, &within(Duration::from_millis(50)));
        assert!(matches!(outcome, ParseOutcome::TimedOut));
        // The parser is usable again after the reset.
        let tree = parse_str("defmodule A do\nend\n");
        assert!(!tree.root_node().has_error());
    }
}
