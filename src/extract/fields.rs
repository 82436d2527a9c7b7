//! Short names for the fields the extractor reads, over the grammar table of
//! [`crate::syntax::kinds`] (field ids looked up once: `Node::child_by_field_name` compares the
//! name with every field name of the grammar, on every call).

use crate::syntax::Node;

use crate::syntax::kinds::{Field, Fields};

/// A call's (or access call's) `target`: its first child (see [`crate::syntax::kinds::call_target`]).
pub(crate) fn target<'t>(node: Node<'t>) -> Option<Node<'t>> {
    crate::syntax::kinds::call_target(node)
}

pub(crate) fn left<'t>(node: Node<'t>) -> Option<Node<'t>> {
    node.field(Field::Left)
}

pub(crate) fn right<'t>(node: Node<'t>) -> Option<Node<'t>> {
    node.field(Field::Right)
}

pub(crate) fn operator<'t>(node: Node<'t>) -> Option<Node<'t>> {
    node.field(Field::Operator)
}

pub(crate) fn operand<'t>(node: Node<'t>) -> Option<Node<'t>> {
    node.field(Field::Operand)
}
