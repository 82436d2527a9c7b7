//! Node kinds of tree-sitter-elixir (src/node-types.json of the grammar) used by the extractors.
//! In this grammar almost everything (`def`, `if`, `Repo.get`) is a `call`.

pub(crate) const CALL: &str = "call";
pub(crate) const IDENTIFIER: &str = "identifier";
pub(crate) const DOT: &str = "dot";
pub(crate) const LIST: &str = "list";
pub(crate) const ATOM: &str = "atom";
pub(crate) const BINARY_OPERATOR: &str = "binary_operator";
pub(crate) const UNARY_OPERATOR: &str = "unary_operator";
pub(crate) const INTEGER: &str = "integer";

use std::sync::OnceLock;

use super::Node;

/// The node kinds the extractors tell apart (src/node-types.json of tree-sitter-elixir).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    AccessCall,
    AfterBlock,
    Alias,
    AnonymousFunction,
    Arguments,
    Atom,
    BinaryOperator,
    Bitstring,
    Block,
    Body,
    Boolean,
    Call,
    CatchBlock,
    Char,
    Charlist,
    Comment,
    DoBlock,
    Dot,
    ElseBlock,
    Float,
    Identifier,
    Integer,
    Interpolation,
    Keyword,
    Keywords,
    List,
    Map,
    MapContent,
    Nil,
    OperatorIdentifier,
    Pair,
    QuotedAtom,
    QuotedKeyword,
    RescueBlock,
    Sigil,
    SigilName,
    StabClause,
    String,
    Struct,
    Tuple,
    UnaryOperator,
    Other,
}

impl Kind {
    fn named(name: &str) -> Kind {
        match name {
            "access_call" => Kind::AccessCall,
            "after_block" => Kind::AfterBlock,
            "alias" => Kind::Alias,
            "anonymous_function" => Kind::AnonymousFunction,
            "arguments" => Kind::Arguments,
            "atom" => Kind::Atom,
            "binary_operator" => Kind::BinaryOperator,
            "bitstring" => Kind::Bitstring,
            "block" => Kind::Block,
            "body" => Kind::Body,
            "boolean" => Kind::Boolean,
            "call" => Kind::Call,
            "catch_block" => Kind::CatchBlock,
            "char" => Kind::Char,
            "charlist" => Kind::Charlist,
            "comment" => Kind::Comment,
            "do_block" => Kind::DoBlock,
            "dot" => Kind::Dot,
            "else_block" => Kind::ElseBlock,
            "float" => Kind::Float,
            "identifier" => Kind::Identifier,
            "integer" => Kind::Integer,
            "interpolation" => Kind::Interpolation,
            "keyword" => Kind::Keyword,
            "keywords" => Kind::Keywords,
            "list" => Kind::List,
            "map" => Kind::Map,
            "map_content" => Kind::MapContent,
            "nil" => Kind::Nil,
            "operator_identifier" => Kind::OperatorIdentifier,
            "pair" => Kind::Pair,
            "quoted_atom" => Kind::QuotedAtom,
            "quoted_keyword" => Kind::QuotedKeyword,
            "rescue_block" => Kind::RescueBlock,
            "sigil" => Kind::Sigil,
            "sigil_name" => Kind::SigilName,
            "stab_clause" => Kind::StabClause,
            "string" => Kind::String,
            "struct" => Kind::Struct,
            "tuple" => Kind::Tuple,
            "unary_operator" => Kind::UnaryOperator,
            _ => Kind::Other,
        }
    }
}

/// The operator tokens the metrics tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    And,
    Or,
    AndAnd,
    OrOr,
    Match,
    Pipe,
    Equal,
    Arrow,
    NotIn,
    Step,
    Range,
    When,
    Bar,
    At,
    Pin,
    Other,
}

impl Op {
    fn token(name: &str) -> Op {
        match name {
            "and" => Op::And,
            "or" => Op::Or,
            "&&" => Op::AndAnd,
            "||" => Op::OrOr,
            "=" => Op::Match,
            "|>" => Op::Pipe,
            "==" => Op::Equal,
            "=>" => Op::Arrow,
            "not in" => Op::NotIn,
            "//" => Op::Step,
            ".." => Op::Range,
            "when" => Op::When,
            "|" => Op::Bar,
            "@" => Op::At,
            "^" => Op::Pin,
            _ => Op::Other,
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Field {
    Target,
    Left,
    Right,
    Operator,
    Operand,
    Key,
    Value,
}

/// Kinds, operators, names and fields by id, read once from the grammar: the extractors tell
/// nodes apart by comparing enum values, not kind strings, and read fields by id, not by
/// searching the field names.
pub(crate) struct Grammar {
    pub(crate) kinds: Vec<Kind>,
    pub(crate) operators: Vec<Op>,
    pub(crate) fields: [u16; 7],
    /// Kind names by id, as tree-sitter's `Node::kind` gives them.
    names: Vec<&'static str>,
    /// Field names by id (index 0 is no field).
    field_names: Vec<&'static str>,
}

pub(crate) fn grammar() -> &'static Grammar {
    static GRAMMAR: OnceLock<Grammar> = OnceLock::new();
    GRAMMAR.get_or_init(|| {
        let language = crate::syntax::language();
        let count = language.node_kind_count();
        let mut kinds = vec![Kind::Other; count];
        let mut operators = vec![Op::Other; count];
        let mut names = vec![""; count];
        for id in 0..count {
            let Ok(symbol) = u16::try_from(id) else {
                break;
            };
            let Some(name) = language.node_kind_for_id(symbol) else {
                continue;
            };
            names[id] = name;
            if language.node_kind_is_named(symbol) {
                kinds[id] = Kind::named(name);
            } else {
                operators[id] = Op::token(name);
            }
        }
        let field = |name: &str| language.field_id_for_name(name).map_or(0, |id| id.get());
        let field_names = (0..=language.field_count())
            .map(|id| {
                u16::try_from(id)
                    .ok()
                    .and_then(|id| language.field_name_for_id(id))
                    .unwrap_or("")
            })
            .collect();
        Grammar {
            kinds,
            operators,
            names,
            field_names,
            fields: [
                field("target"),
                field("left"),
                field("right"),
                field("operator"),
                field("operand"),
                field("key"),
                field("value"),
            ],
        }
    })
}

pub(crate) fn kind(node: Node<'_>) -> Kind {
    grammar()
        .kinds
        .get(usize::from(node.kind_id()))
        .copied()
        .unwrap_or(Kind::Other)
}

pub(crate) trait Fields<'t> {
    fn field(&self, field: Field) -> Option<Node<'t>>;
}

impl<'t> Fields<'t> for Node<'t> {
    fn field(&self, field: Field) -> Option<Node<'t>> {
        if let Field::Target = field {
            return call_target(*self);
        }
        self.child_by_field_id(grammar().fields[field as usize])
    }
}

/// The operator of a `binary_operator` or `unary_operator`.
pub(crate) fn operator(node: Node<'_>) -> Op {
    node.field(Field::Operator).map_or(Op::Other, |operator| {
        grammar()
            .operators
            .get(usize::from(operator.kind_id()))
            .copied()
            .unwrap_or(Op::Other)
    })
}

impl Grammar {
    /// The name of a kind id (`ERROR` for tree-sitter's error symbol).
    pub(crate) fn name(&self, id: u16) -> &'static str {
        if id == u16::MAX {
            return "ERROR";
        }
        self.names.get(usize::from(id)).copied().unwrap_or("")
    }

    /// The id of a field name, 0 (no field) if the grammar has none of that name.
    pub(crate) fn field_id(&self, name: &str) -> u16 {
        self.field_names
            .iter()
            .position(|field| *field == name && !name.is_empty())
            .and_then(|id| u16::try_from(id).ok())
            .unwrap_or(0)
    }
}

/// A node's [`Kind`] (anonymous tokens are [`Kind::Other`]): `node.k()`.
pub(crate) trait KindOf {
    fn k(&self) -> Kind;
}

impl KindOf for Node<'_> {
    #[inline]
    fn k(&self) -> Kind {
        kind(*self)
    }
}

/// The `target` of a `call` or `access_call` node: its first child (every form of both in
/// tree-sitter-elixir's grammar starts with the target field), read without the field lookup,
/// which scans the children against the production's field map. Debug builds check the two
/// agree.
#[inline]
pub(crate) fn call_target(node: Node<'_>) -> Option<Node<'_>> {
    let first = node
        .child(0)
        .filter(|_| matches!(kind(node), Kind::Call | Kind::AccessCall));
    debug_assert_eq!(
        first,
        node.child_by_field_id(grammar().fields[Field::Target as usize]),
        "the target of a call is its first child"
    );
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A field missing from the grammar would be id 0, which matches no child: every field
    /// the extractors read must exist.
    #[test]
    fn every_field_exists() {
        assert!(grammar().fields.iter().all(|&id| id != 0));
    }
}
