//! tree-sitter setup and the helpers every extractor shares: a parser per worker thread, a parse
//! with a deadline, positions in code points, and iterative traversal (30k-deep trees occur, so
//! nothing here recurses on the input's depth).

pub(crate) mod kinds;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use tree_sitter::{Node, ParseOptions, ParseState, Parser, Point, Tree, TreeCursor};

pub(crate) use kinds::Kind;

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

pub(crate) fn language() -> tree_sitter::Language {
    tree_sitter_elixir::LANGUAGE.into()
}

/// Parses with this thread's parser, giving up after `timeout`.
pub(crate) fn parse(input: ParseInput<'_>, timeout: Duration) -> ParseOutcome {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let parser = slot.get_or_insert_with(|| {
            let mut parser = Parser::new();
            parser
                .set_language(&language())
                .expect("the bundled tree-sitter-elixir grammar matches the tree-sitter ABI");
            parser
        });
        let deadline = Instant::now() + timeout;
        // The progress callback runs inside tree-sitter's C code: it must not panic, and it
        // does nothing that could.
        let mut past_deadline = |_: &ParseState| {
            Instant::now() >= deadline || crate::runtime::signals::stop_requested()
        };
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
        match tree {
            Some(tree) => ParseOutcome::Parsed(tree),
            None => {
                parser.reset();
                ParseOutcome::TimedOut
            }
        }
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
        // Count the bytes that start a UTF-8 sequence; invalid bytes count one each.
        let code_points = prefix.iter().filter(|b| (**b & 0xC0) != 0x80).count();
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
/// This is the one walk over every node of every file, so it asks the cursor for each node
/// once and looks its kind up once (by id: `Node::kind` measures and validates a C string):
/// the ancestors are kept on an explicit stack for `leave`. A visitor with
/// [`Visitor::NAMED_ONLY`] hears nothing of the anonymous tokens (`do`, `(`, `|>`, ...), about
/// four nodes in ten.
pub(crate) fn walk_enter_leave<'t, V: Visitor<'t>>(root: Node<'t>, visitor: &mut V) {
    if V::NAMED_ONLY {
        return walk_named(root, visitor);
    }
    let grammar = kinds::grammar();
    let classify = |node: Node<'t>| -> Option<Kind> {
        let kind = grammar.named_kind(node.kind_id());
        if V::NAMED_ONLY {
            kind
        } else {
            Some(kind.unwrap_or(Kind::Other))
        }
    };
    let mut cursor = root.walk();
    let mut ancestors: Vec<(Node<'t>, Option<Kind>)> = Vec::new();
    let mut node = root;
    let mut kind = classify(root);
    loop {
        let descend = match kind {
            Some(kind) => visitor.enter(node, kind),
            None => true,
        };
        if descend && cursor.goto_first_child() {
            ancestors.push((node, kind));
            node = cursor.node();
            kind = classify(node);
            continue;
        }
        if let Some(kind) = kind {
            visitor.leave(node, kind);
        }
        loop {
            if ancestors.is_empty() {
                return;
            }
            if cursor.goto_next_sibling() {
                node = cursor.node();
                kind = classify(node);
                break;
            }
            cursor.goto_parent();
            let (parent, parent_kind) = ancestors.pop().expect("checked above");
            if let Some(parent_kind) = parent_kind {
                visitor.leave(parent, parent_kind);
            }
        }
    }
}

/// A node being walked by [`walk_named`]: its next named child and, for a node with many
/// children, where they were gathered.
struct Frame<'t> {
    node: Node<'t>,
    kind: Kind,
    next: usize,
    count: usize,
    /// Start of this node's children in the walk's buffer, when gathered with a cursor.
    gathered: Option<usize>,
}

/// Named children read by index: `Node::named_child(i)` starts over from the first child, so a
/// node with more than this many is read once with a cursor instead.
const INDEXED_CHILDREN: usize = 8;

/// [`walk_enter_leave`] for visitors of named nodes. It asks tree-sitter for named children by
/// index rather than stepping a cursor over every token: `TreeCursor::goto_next_sibling` climbs
/// through the grammar's hidden nodes at every step, and on the benchmark corpus the cursor
/// walk alone cost a fifth of the raw parse; this one costs a third of that.
fn walk_named<'t, V: Visitor<'t>>(root: Node<'t>, visitor: &mut V) {
    let mut walk = NamedWalk {
        grammar: kinds::grammar(),
        cursor: root.walk(),
        gathered: Vec::new(),
        stack: Vec::new(),
    };
    walk.open(root, visitor);
    while let Some(frame) = walk.stack.last_mut() {
        if frame.next == frame.count {
            let frame = walk.stack.pop().expect("checked above");
            if let Some(start) = frame.gathered {
                walk.gathered.truncate(start);
            }
            visitor.leave(frame.node, frame.kind);
            continue;
        }
        let index = frame.next;
        frame.next += 1;
        let child = match frame.gathered {
            Some(start) => Some(walk.gathered[start + index]),
            None => frame.node.named_child(index),
        };
        if let Some(child) = child {
            walk.open(child, visitor);
        }
    }
}

struct NamedWalk<'t> {
    grammar: &'static kinds::Grammar,
    cursor: tree_sitter::TreeCursor<'t>,
    /// Children of the open nodes that have many, innermost last.
    gathered: Vec<Node<'t>>,
    stack: Vec<Frame<'t>>,
}

impl<'t> NamedWalk<'t> {
    /// Enters `node` and, if the visitor wants its children, pushes its frame.
    fn open<V: Visitor<'t>>(&mut self, node: Node<'t>, visitor: &mut V) {
        let kind = self
            .grammar
            .named_kind(node.kind_id())
            .unwrap_or(Kind::Other);
        if !visitor.enter(node, kind) {
            visitor.leave(node, kind);
            return;
        }
        let mut count = node.named_child_count();
        let mut gathered = None;
        if count > INDEXED_CHILDREN {
            let start = self.gathered.len();
            self.cursor.reset(node);
            if self.cursor.goto_first_child() {
                loop {
                    let child = self.cursor.node();
                    if child.is_named() {
                        self.gathered.push(child);
                    } else if child.child_count() > 0 {
                        // A token with named descendants (an aliased rule), as `named_child`
                        // would flatten it.
                        self.gathered.extend(
                            (0..child.named_child_count()).filter_map(|i| child.named_child(i)),
                        );
                    }
                    if !self.cursor.goto_next_sibling() {
                        break;
                    }
                }
            }
            count = self.gathered.len() - start;
            gathered = Some(start);
        }
        self.stack.push(Frame {
            node,
            kind,
            next: 0,
            count,
            gathered,
        });
    }
}

/// Named children other than comments: the AST elements of a list, block or arguments node.
/// `Node::named_child(i)` starts over from the first child on every call, and a cursor
/// allocates: few children are indexed, many are walked with a cursor.
pub(crate) fn statements(node: Node<'_>) -> Statements<'_> {
    let count = node.named_child_count();
    if count <= INDEXED_CHILDREN {
        Statements::Indexed {
            node,
            next: 0,
            count,
        }
    } else {
        Statements::Cursor {
            cursor: node.walk(),
            started: false,
        }
    }
}

pub(crate) enum Statements<'t> {
    Indexed {
        node: Node<'t>,
        next: usize,
        count: usize,
    },
    Cursor {
        cursor: TreeCursor<'t>,
        started: bool,
    },
}

impl<'t> Iterator for Statements<'t> {
    type Item = Node<'t>;

    fn next(&mut self) -> Option<Node<'t>> {
        loop {
            let child = match self {
                Statements::Indexed { node, next, count } => {
                    if *next >= *count {
                        return None;
                    }
                    *next += 1;
                    node.named_child(*next - 1)?
                }
                Statements::Cursor { cursor, started } => {
                    let moved = if *started {
                        cursor.goto_next_sibling()
                    } else {
                        *started = true;
                        cursor.goto_first_child()
                    };
                    if !moved {
                        return None;
                    }
                    let child = cursor.node();
                    if !child.is_named() {
                        continue;
                    }
                    child
                }
            };
            if kinds::kind(child) != Kind::Comment {
                return Some(child);
            }
        }
    }
}

/// The named children of `node` that are code (comments are named nodes in
/// tree-sitter-elixir), read by index (see [`statements`]).
pub(crate) fn code_children(node: Node<'_>) -> Vec<Node<'_>> {
    statements(node).collect()
}

/// The arguments of a call as written: the children of its `arguments` node (a trailing keyword
/// list is one, comments are none); a `do` block is not one.
pub(crate) fn call_arguments(call: Node<'_>) -> Vec<Node<'_>> {
    statements(call)
        .find(|child| kinds::kind(*child) == Kind::Arguments)
        .map(code_children)
        .unwrap_or_default()
}

/// The call's `do … end` block, if it has one.
pub(crate) fn do_block(call: Node<'_>) -> Option<Node<'_>> {
    statements(call).find(|child| kinds::kind(*child) == Kind::DoBlock)
}

/// The length of a call's argument list in Elixir's AST: the written arguments, plus one for a
/// `do … end` block (which becomes a trailing keyword list). Allocates nothing.
pub(crate) fn ast_argument_count(call: Node<'_>) -> usize {
    statements(call)
        .map(|child| match kinds::kind(child) {
            Kind::Arguments => statements(child).count(),
            Kind::DoBlock => 1,
            _ => 0,
        })
        .sum()
}

pub(crate) trait Visitor<'t> {
    /// Whether the walk skips anonymous tokens (their kind is then never [`Kind::Other`] for
    /// a token: `enter` and `leave` only see named nodes).
    const NAMED_ONLY: bool;
    /// Returns whether to visit the node's children.
    fn enter(&mut self, node: Node<'t>, kind: Kind) -> bool;
    fn leave(&mut self, node: Node<'t>, kind: Kind);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(source: &str) -> Tree {
        match parse(
            ParseInput::Bytes(source.as_bytes()),
            Duration::from_secs(10),
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
        let outcome = parse(ParseInput::Endless, Duration::from_millis(50));
        assert!(matches!(outcome, ParseOutcome::TimedOut));
        // The parser is usable again after the reset.
        let tree = parse_str("defmodule A do\nend\n");
        assert!(!tree.root_node().has_error());
    }
}
