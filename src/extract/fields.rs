//! Field ids of tree-sitter-elixir, looked up once: `Node::child_by_field_name` finds the id by
//! comparing the name with every field name of the grammar, on every call, and the walk asks
//! for fields on most nodes.

use std::sync::OnceLock;

use tree_sitter::Node;

pub(crate) struct Fields {
    pub(crate) target: u16,
    pub(crate) left: u16,
    pub(crate) right: u16,
    pub(crate) operator: u16,
    pub(crate) operand: u16,
}

pub(crate) fn fields() -> &'static Fields {
    static FIELDS: OnceLock<Fields> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let language = crate::syntax::language();
        let id = |name: &str| {
            language
                .field_id_for_name(name)
                .map(|id| id.get())
                .unwrap_or_else(|| panic!("tree-sitter-elixir has no field `{name}`"))
        };
        Fields {
            target: id("target"),
            left: id("left"),
            right: id("right"),
            operator: id("operator"),
            operand: id("operand"),
        }
    })
}

/// A call's (or access call's) `target`. It is always the first child (every form of `call` in the grammar
/// starts with it), and `child(0)` is several times cheaper than a field lookup, which scans
/// the children against the production's field map: the walk asks this of every call, twice.
pub(crate) fn target<'t>(node: Node<'t>) -> Option<Node<'t>> {
    crate::syntax::kinds::call_target(node)
}

pub(crate) fn left<'t>(node: Node<'t>) -> Option<Node<'t>> {
    node.child_by_field_id(fields().left)
}

pub(crate) fn right<'t>(node: Node<'t>) -> Option<Node<'t>> {
    node.child_by_field_id(fields().right)
}

pub(crate) fn operator<'t>(node: Node<'t>) -> Option<Node<'t>> {
    node.child_by_field_id(fields().operator)
}

pub(crate) fn operand<'t>(node: Node<'t>) -> Option<Node<'t>> {
    node.child_by_field_id(fields().operand)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_field_exists() {
        let _ = super::fields();
    }
}
