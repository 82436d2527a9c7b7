//! What the single walk over a file offers whoever rides along (the rules of `analyze`, see
//! `rules::observe`): every named node it enters, and a view of where it is. The walk knows
//! nothing of rules; the observer is handed to it.

use crate::syntax::kinds::Kind;
use crate::syntax::Node;

/// Rides along the walk: called on entering every named node, in source order.
pub(crate) trait WalkObserver<'s> {
    fn enter(&mut self, node: Node<'s>, kind: Kind, view: &dyn WalkView);
}

/// What the walk offers the rules about where it is.
pub(crate) trait WalkView {
    /// A module reference expanded as the compiler would (`Elixir.`, aliases, `__MODULE__`);
    /// Erlang modules keep their colon.
    fn resolve_module(&self, node: Node<'_>) -> Option<String>;
    /// The enclosing module, definition, quote and attribute.
    fn site(&self) -> SiteOwned;
}

/// Where the walk is, with owned names, so the walk can hand it over while it keeps mutating.
#[derive(Debug, Clone, Default)]
pub(crate) struct SiteOwned {
    pub(crate) module: Option<String>,
    pub(crate) function: Option<(String, u32, &'static str)>,
    pub(crate) attribute: Option<String>,
}
