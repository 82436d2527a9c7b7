//! Node kinds of tree-sitter-elixir (src/node-types.json of the grammar) used by the extractors.
//! In this grammar almost everything (`def`, `if`, `Repo.get`) is a `call`.

pub(crate) const CALL: &str = "call";
pub(crate) const IDENTIFIER: &str = "identifier";
pub(crate) const ALIAS: &str = "alias";
pub(crate) const DOT: &str = "dot";
pub(crate) const ARGUMENTS: &str = "arguments";
pub(crate) const DO_BLOCK: &str = "do_block";
pub(crate) const KEYWORDS: &str = "keywords";
pub(crate) const PAIR: &str = "pair";
pub(crate) const LIST: &str = "list";
pub(crate) const ATOM: &str = "atom";
pub(crate) const BINARY_OPERATOR: &str = "binary_operator";
pub(crate) const UNARY_OPERATOR: &str = "unary_operator";
pub(crate) const BOOLEAN: &str = "boolean";
pub(crate) const STRING: &str = "string";
pub(crate) const COMMENT: &str = "comment";
pub(crate) const TUPLE: &str = "tuple";
pub(crate) const BLOCK: &str = "block";
pub(crate) const ANONYMOUS_FUNCTION: &str = "anonymous_function";
pub(crate) const STRUCT: &str = "struct";
pub(crate) const MAP: &str = "map";
pub(crate) const SIGIL: &str = "sigil";
pub(crate) const SIGIL_NAME: &str = "sigil_name";
pub(crate) const INTEGER: &str = "integer";
