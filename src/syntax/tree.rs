//! The syntax tree every extractor, metric and rule reads: tree-sitter's tree copied into one
//! flat array once per file (`flatten.c`), with a `Node` type that answers the questions
//! tree-sitter's `Node` answers (kind, range, children, fields, parent) by indexing it.
//!
//! Why: through tree-sitter's public API a child, sibling or field step costs 60–70 ns
//! (`ts_node_child(i)` starts over from the first child; a cursor step re-derives alias
//! sequences and positions), and the walks, metrics and rules take millions of such steps per
//! run: a third of the time `parse` spent beyond the raw parse. The copy visits each subtree
//! once and costs about 7% of `parse` (it waits on memory: the subtrees are scattered over the
//! parse's allocations); everything after it reads the array. The tests below compare every
//! node, child list, field and parent with tree-sitter's own answers on every fixture.

use std::fmt;
use std::ops::Range;

use tree_sitter::Point;

use super::kinds;

/// One visible node as `flatten.c` writes it (its `EsFlatNode`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct RawNode {
    start_byte: u32,
    end_byte: u32,
    start_row: u32,
    start_column: u32,
    end_row: u32,
    end_column: u32,
    parent: u32,
    first_child: u32,
    next_sibling: u32,
    symbol: u16,
    field: u16,
    flags: u8,
}

const NAMED: u8 = 1;
const MISSING: u8 = 2;
#[cfg_attr(not(test), allow(dead_code))]
const EXTRA: u8 = 4;
const HAS_ERROR: u8 = 8;
const ERROR: u8 = 16;
const NONE: u32 = u32::MAX;

extern "C" {
    fn es_flat_node_count(tree: *const std::ffi::c_void) -> u32;
    fn es_flatten(tree: *const std::ffi::c_void, out: *mut RawNode, capacity: u32) -> u32;
}

/// A parsed file: its visible nodes in document order (the root first), each linked to its
/// parent, first child and next sibling.
pub(crate) struct Tree {
    arrays: Arrays,
}

/// The nodes of a [`Tree`], kept apart so that a dropped tree can hand its array on.
#[derive(Default)]
struct Arrays {
    nodes: Vec<RawNode>,
}

impl fmt::Debug for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tree({} nodes)", self.arrays.nodes.len())
    }
}

/// Flat trees of files up to this many nodes (about 50 KB of source) leave their array to the
/// next file parsed on the same thread instead of freeing it. Larger arrays are freed, so a
/// huge file's does not stay resident.
const SPARE_NODES: usize = 16 * 1024;

thread_local! {
    static SPARE: std::cell::RefCell<Option<Arrays>> = const { std::cell::RefCell::new(None) };
}

impl Tree {
    /// Copies tree-sitter's tree; it is dropped afterwards.
    pub(crate) fn from_tree_sitter(tree: tree_sitter::Tree) -> Tree {
        let mut flat = Tree {
            arrays: SPARE
                .with(|spare| spare.borrow_mut().take())
                .unwrap_or_default(),
        };
        let raw_tree = tree.root_node().into_raw().tree.cast::<std::ffi::c_void>();
        // SAFETY: `raw_tree` is the live tree owned by `tree` (dropped after this block);
        // `es_flatten` writes at most `capacity` nodes to the vector's spare capacity and
        // reports how many it wrote.
        unsafe {
            let capacity = es_flat_node_count(raw_tree);
            let nodes = &mut flat.arrays.nodes;
            nodes.clear();
            nodes.reserve(capacity as usize);
            let written = es_flatten(raw_tree, nodes.as_mut_ptr(), capacity);
            assert!(
                written != u32::MAX && written <= capacity,
                "flattening the syntax tree failed ({written} of {capacity} nodes)"
            );
            nodes.set_len(written as usize);
        }
        drop(tree);
        flat
    }

    pub(crate) fn root_node(&self) -> Node<'_> {
        Node {
            tree: &self.arrays,
            index: 0,
        }
    }

    /// The number of visible nodes.
    #[cfg_attr(not(test), allow(dead_code))] // node API, compared with tree-sitter in tests
    pub(crate) fn len(&self) -> usize {
        self.arrays.nodes.len()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let arrays = &self.arrays;
        if arrays.nodes.capacity() <= SPARE_NODES {
            let arrays = std::mem::take(&mut self.arrays);
            // A thread that is exiting has no spare slot any more; the arrays are then freed.
            let _ = SPARE.try_with(|spare| {
                let previous = spare.borrow_mut().replace(arrays);
                drop(previous);
            });
        }
    }
}

/// A node of a [`Tree`]: copyable, two words.
#[derive(Clone, Copy)]
pub(crate) struct Node<'t> {
    tree: &'t Arrays,
    index: u32,
}

impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index && std::ptr::eq(self.tree, other.tree)
    }
}

impl Eq for Node<'_> {}

impl std::hash::Hash for Node<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.index.hash(state);
    }
}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let start = self.start_position();
        let end = self.end_position();
        write!(
            f,
            "{{Node {} ({}, {}) - ({}, {})}}",
            self.kind(),
            start.row,
            start.column,
            end.row,
            end.column
        )
    }
}

impl<'t> Node<'t> {
    #[inline]
    fn raw(&self) -> &'t RawNode {
        &self.tree.nodes[self.index as usize]
    }

    #[inline]
    fn at(&self, index: u32) -> Node<'t> {
        Node {
            tree: self.tree,
            index,
        }
    }

    /// The node's kind id (tree-sitter's public symbol, aliases applied).
    #[inline]
    pub(crate) fn kind_id(&self) -> u16 {
        self.raw().symbol
    }

    /// The node's kind as the grammar names it (`call`, `identifier`, `do`, `ERROR`).
    pub(crate) fn kind(&self) -> &'static str {
        kinds::grammar().name(self.kind_id())
    }

    /// Unique among the nodes of one tree.
    #[inline]
    pub(crate) fn id(&self) -> usize {
        self.index as usize
    }

    #[inline]
    #[cfg_attr(not(test), allow(dead_code))] // node API, compared with tree-sitter in tests
    pub(crate) fn is_named(&self) -> bool {
        self.raw().flags & NAMED != 0
    }

    pub(crate) fn is_missing(&self) -> bool {
        self.raw().flags & MISSING != 0
    }

    #[cfg_attr(not(test), allow(dead_code))] // node API, compared with tree-sitter in tests
    pub(crate) fn is_extra(&self) -> bool {
        self.raw().flags & EXTRA != 0
    }

    pub(crate) fn is_error(&self) -> bool {
        self.raw().flags & ERROR != 0
    }

    /// Whether the node is or contains a syntax error.
    pub(crate) fn has_error(&self) -> bool {
        self.raw().flags & HAS_ERROR != 0
    }

    #[inline]
    pub(crate) fn start_byte(&self) -> usize {
        self.raw().start_byte as usize
    }

    #[inline]
    pub(crate) fn end_byte(&self) -> usize {
        self.raw().end_byte as usize
    }

    #[inline]
    pub(crate) fn byte_range(&self) -> Range<usize> {
        let raw = self.raw();
        raw.start_byte as usize..raw.end_byte as usize
    }

    /// Row and byte column (0-based) of the node's start.
    #[inline]
    pub(crate) fn start_position(&self) -> Point {
        let raw = self.raw();
        Point::new(raw.start_row as usize, raw.start_column as usize)
    }

    #[inline]
    pub(crate) fn end_position(&self) -> Point {
        let raw = self.raw();
        Point::new(raw.end_row as usize, raw.end_column as usize)
    }

    /// The nearest visible ancestor.
    #[inline]
    pub(crate) fn parent(&self) -> Option<Node<'t>> {
        let parent = self.raw().parent;
        (parent != NONE).then(|| self.at(parent))
    }

    /// The nearest named ancestor: the parent, unless that is an anonymous token with
    /// children, whose named children count as its parent's own (see [`Node::named_children`]).
    #[inline]
    pub(crate) fn named_parent(&self) -> Option<Node<'t>> {
        let mut parent = self.parent()?;
        while !parent.is_named() {
            parent = parent.parent()?;
        }
        Some(parent)
    }

    /// The `i`th child, tokens included.
    #[inline]
    pub(crate) fn child(&self, i: usize) -> Option<Node<'t>> {
        self.child_indexes().nth(i).map(|index| self.at(index))
    }

    /// The indexes of the children, along the sibling links: what [`Node::child`] and
    /// [`Node::child_by_field_id`] read on every call node, without [`Children`]' handling of
    /// anonymous children.
    #[inline]
    fn child_indexes(&self) -> impl Iterator<Item = u32> + 't {
        let nodes = &self.tree.nodes;
        let first = self.raw().first_child;
        std::iter::successors((first != NONE).then_some(first), move |&index| {
            let next = nodes[index as usize].next_sibling;
            (next != NONE).then_some(next)
        })
    }

    #[cfg_attr(not(test), allow(dead_code))] // node API, compared with tree-sitter in tests
    #[inline]
    pub(crate) fn child_count(&self) -> usize {
        self.children().count()
    }

    /// The `i`th named child.
    #[inline]
    pub(crate) fn named_child(&self, i: usize) -> Option<Node<'t>> {
        self.named_children().nth(i)
    }

    #[inline]
    pub(crate) fn named_child_count(&self) -> usize {
        self.named_children().count()
    }

    /// Every child, tokens included, in order.
    #[inline]
    pub(crate) fn children(&self) -> Children<'t> {
        self.children_of(false)
    }

    /// The named children in order. As in tree-sitter, the named children of an anonymous
    /// child (a token with children: an aliased rule) count as this node's own.
    #[inline]
    pub(crate) fn named_children(&self) -> Children<'t> {
        self.children_of(true)
    }

    /// [`Node::named_children`] if `named_only`, else [`Node::children`].
    #[inline]
    pub(crate) fn children_of(&self, named_only: bool) -> Children<'t> {
        Children {
            tree: self.tree,
            next: self.raw().first_child,
            resume: Vec::new(),
            named_only,
        }
    }

    /// The first child in field `field` (a grammar field id).
    #[inline]
    pub(crate) fn child_by_field_id(&self, field: u16) -> Option<Node<'t>> {
        // An ERROR node is built by error recovery without a production: tree-sitter finds no
        // field in it, although its children keep the fields their hidden parents gave them.
        if field == 0 || self.is_error() {
            return None;
        }
        self.child_indexes()
            .find(|&index| self.tree.nodes[index as usize].field == field)
            .map(|index| self.at(index))
    }

    pub(crate) fn child_by_field_name(&self, name: &str) -> Option<Node<'t>> {
        self.child_by_field_id(kinds::grammar().field_id(name))
    }

    /// The smallest node that spans `start..end`, as tree-sitter's
    /// `descendant_for_byte_range`.
    pub(crate) fn descendant_for_byte_range(&self, start: usize, end: usize) -> Option<Node<'t>> {
        if start > end {
            return None;
        }
        let mut node = *self;
        'descend: loop {
            for child in node.children() {
                let child_end = child.end_byte();
                if child_end < end {
                    continue;
                }
                let empty = child.start_byte() == child_end;
                if if empty {
                    child_end < start
                } else {
                    child_end <= start
                } {
                    continue;
                }
                if start < child.start_byte() {
                    break;
                }
                node = child;
                continue 'descend;
            }
            return Some(node);
        }
    }
}

/// The children of a node, along the sibling links: all of them, or the named ones, which
/// include the named children of an anonymous child.
#[derive(Clone)]
pub(crate) struct Children<'t> {
    tree: &'t Arrays,
    next: u32,
    /// Where to go on after the anonymous children being looked into (rare: empty, and so
    /// not allocated, for almost every node).
    resume: Vec<u32>,
    named_only: bool,
}

impl<'t> Iterator for Children<'t> {
    type Item = Node<'t>;

    #[inline]
    fn next(&mut self) -> Option<Node<'t>> {
        loop {
            if self.next == NONE {
                self.next = self.resume.pop()?;
                continue;
            }
            let node = Node {
                tree: self.tree,
                index: self.next,
            };
            let raw = node.raw();
            self.next = raw.next_sibling;
            if !self.named_only || raw.flags & NAMED != 0 {
                return Some(node);
            }
            if raw.first_child != NONE {
                self.resume.push(self.next);
                self.next = raw.first_child;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse_tree_sitter, ParseInput};
    use std::time::Duration;

    /// Compares every node with tree-sitter's public API: kind, flags, range, points, field,
    /// parent, children, named children, and every field lookup.
    fn assert_same(source: &[u8], origin: &str) {
        let Some(ts_tree) = parse_tree_sitter(
            ParseInput::Bytes(source),
            &crate::syntax::within(Duration::from_secs(30)),
        ) else {
            panic!("{origin}: parse timed out");
        };
        let flat = Tree::from_tree_sitter(ts_tree.clone());
        let field_count = crate::syntax::language().field_count() as u16;
        // Walk tree-sitter's tree in document order with a cursor, as the flattener does.
        let mut cursor = ts_tree.walk();
        let mut index = 0usize;
        let mut stack: Vec<u32> = Vec::new();
        let mut expected_parent = vec![NONE];
        loop {
            let ts = cursor.node();
            let node = Node {
                tree: &flat.arrays,
                index: index as u32,
            };
            let at = format!("{origin}: node {index} {ts:?}");
            assert_eq!(node.kind_id(), ts.kind_id(), "{at}: kind");
            assert_eq!(node.kind(), ts.kind(), "{at}: kind name");
            assert_eq!(node.is_named(), ts.is_named(), "{at}: named");
            assert_eq!(node.is_missing(), ts.is_missing(), "{at}: missing");
            assert_eq!(node.is_extra(), ts.is_extra(), "{at}: extra");
            assert_eq!(node.is_error(), ts.is_error(), "{at}: error");
            assert_eq!(node.has_error(), ts.has_error(), "{at}: has_error");
            assert_eq!(node.byte_range(), ts.byte_range(), "{at}: bytes");
            assert_eq!(node.start_position(), ts.start_position(), "{at}: start");
            assert_eq!(node.end_position(), ts.end_position(), "{at}: end");
            assert_eq!(
                node.raw().field,
                cursor.field_id().map_or(0, |f| f.get()),
                "{at}: field"
            );
            assert_eq!(node.raw().parent, expected_parent[index], "{at}: parent");
            assert_eq!(node.child_count(), ts.child_count(), "{at}: child count");
            assert_eq!(
                node.named_child_count(),
                ts.named_child_count(),
                "{at}: named child count"
            );
            for i in 0..ts.named_child_count() {
                let ts_child = ts.named_child(i).expect("counted");
                let child = node.named_child(i).expect("counted");
                assert_eq!(child.byte_range(), ts_child.byte_range(), "{at}: named {i}");
                assert_eq!(child.kind_id(), ts_child.kind_id(), "{at}: named {i}");
            }
            for field in 1..=field_count {
                let ts_child = ts.child_by_field_id(field);
                let child = node.child_by_field_id(field);
                // tree-sitter's `ts_node_child_by_field_id` follows a production's *inherited*
                // field entry into the structural child even when that child is visible in this
                // parse (seen for `unquote(c).unquote(:"a#{b}")` inside a `def` in a `quote`:
                // the inner call "has" the `left` of its `dot` target). Its own cursor gives no
                // child that field, and neither does the flat tree (the per-child field is
                // checked against the cursor above): only a grandchild answer is tolerated.
                if child.is_none()
                    && ts_child.is_some_and(|c| c.parent().is_some_and(|p| p.id() != ts.id()))
                {
                    continue;
                }
                assert_eq!(
                    child.map(|c| (c.byte_range(), c.kind_id())),
                    ts_child.map(|c| (c.byte_range(), c.kind_id())),
                    "{at}: field {field}"
                );
            }
            // Children in order: the next nodes of the preorder whose parent is this one.
            for (i, child) in node.children().enumerate() {
                let ts_child = ts.child(i).expect("counted");
                assert_eq!(child.byte_range(), ts_child.byte_range(), "{at}: child {i}");
                assert_eq!(child.kind_id(), ts_child.kind_id(), "{at}: child {i}");
            }
            if cursor.goto_first_child() {
                stack.push(index as u32);
                index += 1;
                expected_parent.push(*stack.last().expect("pushed"));
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    index += 1;
                    expected_parent.push(*stack.last().expect("inside the root"));
                    break;
                }
                if !cursor.goto_parent() {
                    assert_eq!(index + 1, flat.len(), "{origin}: node count");
                    return;
                }
                stack.pop();
            }
        }
    }

    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "ex" || e == "exs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn flat_tree_matches_tree_sitter_on_every_fixture() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sources(&root.join("fixtures"), &mut files);
        sources(&root.join("tests"), &mut files);
        // More trees on request, e.g. the benchmark corpus: ELIXIRSCOPE_FLAT_CHECK=target/bench-corpus
        if let Some(extra) = std::env::var_os("ELIXIRSCOPE_FLAT_CHECK") {
            sources(std::path::Path::new(&extra), &mut files);
        }
        assert!(files.len() > 20, "fixtures found: {}", files.len());
        for file in &files {
            let source = std::fs::read(file).expect("readable fixture");
            assert_same(&source, &file.display().to_string());
        }
    }

    #[test]
    fn flat_tree_matches_tree_sitter_on_broken_and_unusual_input() {
        let cases: &[&str] = &[
            "",
            "   \n\n",
            "# only a comment\n",
            "defmodule A do\n  def f(x, do: x\nend\n",
            "defmodule do end end (((",
            "x = \"héllo #{y\" <> ~s(a#{b}c)\n",
            "a |> b.(c) |> &(&1 + 1)\n@attr unquote(x)\n",
            "%{a: 1, \"b\" => [1, 2 | t], c: <<x::binary-size(4)>>}\n",
            "fn\n  {:ok, x} when is_integer(x) -> x\n  _ -> :error\nend\n",
            "case x do\n  1 ->\nend\n)))]]]\n",
            "'charlist' ?a ?\\n 0x1F 1_000.0e-3 :\"quoted atom\" foo?: 1\n",
            "\u{FEFF}defmodule A, do: (def f, do: :ok)\n",
        ];
        for (i, case) in cases.iter().enumerate() {
            assert_same(case.as_bytes(), &format!("case {i}"));
        }
        // Deeper than `es_flatten`'s stacks on the C stack (64), once and several times over.
        for depth in [63, 64, 65, 130, 300] {
            let lists = format!("{}1{}\n", "[".repeat(depth), "]".repeat(depth));
            assert_same(lists.as_bytes(), &format!("lists {depth} deep"));
            let calls = format!("{}x{}\n", "f(".repeat(depth), ")".repeat(depth));
            assert_same(calls.as_bytes(), &format!("calls {depth} deep"));
        }
        let deep = format!("{}1{}", "[".repeat(20_000), "]".repeat(20_000));
        let tree = crate::syntax::parse(
            ParseInput::Bytes(deep.as_bytes()),
            &crate::syntax::within(Duration::from_secs(30)),
        );
        assert!(matches!(tree, crate::syntax::ParseOutcome::Parsed(_)));
    }

    #[test]
    fn descendant_for_byte_range_finds_the_smallest_node() {
        let source = "x = [1, # note\n 2]\n";
        let ts_tree = parse_tree_sitter(
            ParseInput::Bytes(source.as_bytes()),
            &crate::syntax::within(Duration::from_secs(5)),
        )
        .expect("parsed");
        let flat = Tree::from_tree_sitter(ts_tree.clone());
        for byte in 0..source.len() {
            let ours = flat.root_node().descendant_for_byte_range(byte, byte + 1);
            let theirs = ts_tree
                .root_node()
                .descendant_for_byte_range(byte, byte + 1);
            assert_eq!(
                ours.map(|n| (n.byte_range(), n.kind_id())),
                theirs.map(|n| (n.byte_range(), n.kind_id())),
                "byte {byte}"
            );
        }
    }
}
