//! The call-site index of a file (issue [6] item 3): what the PatternMatcher needs of every
//! call in the file's syntax tree to answer a call pattern without parsing the file again.
//!
//! For each tree-sitter `call` node: its function name, its receiver as written (an alias such
//! as `Repo`, none for a local call, or something else), the byte ranges of the node and of its
//! arguments, whether it has children a plain call pattern cannot match (a `do` block), and,
//! when it is the right side of `|>`, the ranges of the pipe and of its left side. Names are
//! interned per file. It is built from the tree the matcher walks, so it misses no call the
//! matcher would see (typespecs, attributes, quotes, interpolations included); the index keeps
//! it per file and content hash ([`crate::index::query_store`]).

use serde::{Deserialize, Serialize};
use tree_sitter::Node;

/// A byte range: start, end.
pub(crate) type Span = (u32, u32);

/// The call sites of one file's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct CallSites {
    /// blake3 of the content the sites were read from.
    pub(crate) hash: String,
    /// The names and receivers the sites point into.
    pub(crate) names: Vec<String>,
    pub(crate) sites: Vec<Site>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Receiver {
    /// `f(x)`.
    Local,
    /// `Alias.f(x)`: the alias as written, an index into `names`.
    Alias(u32),
    /// `:mod.f(x)`, `__MODULE__.f(x)`, `var.f(x)`, ...: a plain call pattern never matches.
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Site {
    /// Index into `names`.
    pub(crate) name: u32,
    pub(crate) receiver: Receiver,
    pub(crate) span: Span,
    /// The arguments (comments aside); `None` without an argument list (`Repo.all`).
    pub(crate) args: Option<Vec<Span>>,
    /// Children beyond the target and the arguments (a `do` block).
    pub(crate) extra: bool,
    /// `left |> call`: the pipe's range and its left side's.
    pub(crate) pipe: Option<(Span, Span)>,
}

fn span(node: Node<'_>) -> Span {
    (
        u32::try_from(node.start_byte()).unwrap_or(u32::MAX),
        u32::try_from(node.end_byte()).unwrap_or(u32::MAX),
    )
}

/// The call sites of `tree` (of `source`, whose hash is `hash`).
pub(crate) fn collect(tree: &tree_sitter::Tree, source: &[u8], hash: String) -> CallSites {
    let mut sites = CallSites {
        hash,
        ..CallSites::default()
    };
    let mut interned: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut intern = |names: &mut Vec<String>, text: &str| -> u32 {
        if let Some(&id) = interned.get(text) {
            return id;
        }
        let id = u32::try_from(names.len()).unwrap_or(u32::MAX);
        names.push(text.to_string());
        interned.insert(text.to_string(), id);
        id
    };
    super::pattern::preorder(tree, &mut |node| {
        if node.kind() == "call" {
            if let Some(site) = site(node, source, &mut |t| intern(&mut sites.names, t)) {
                sites.sites.push(site);
            }
        }
        true
    });
    sites
}

fn site(node: Node<'_>, source: &[u8], intern: &mut dyn FnMut(&str) -> u32) -> Option<Site> {
    let text = |node: Node<'_>| std::str::from_utf8(&source[node.byte_range()]).unwrap_or("");
    let target = node.child_by_field_name("target")?;
    let (name, receiver) = match target.kind() {
        "identifier" => (target, Receiver::Local),
        "dot" => {
            let right = target.child_by_field_name("right")?;
            let left = target.child_by_field_name("left")?;
            let receiver = if left.kind() == "alias" {
                Receiver::Alias(intern(text(left)))
            } else {
                Receiver::Other
            };
            (right, receiver)
        }
        _ => return None,
    };
    if name.kind() != "identifier" {
        return None;
    }
    let mut cursor = node.walk();
    let mut args = None;
    let mut extra = false;
    for child in node.children(&mut cursor) {
        if child.id() == target.id() || child.kind() == "comment" {
            continue;
        }
        if child.kind() == "arguments" && args.is_none() {
            let mut inner = child.walk();
            args = Some(
                child
                    .named_children(&mut inner)
                    .filter(|c| c.kind() != "comment")
                    .map(span)
                    .collect(),
            );
        } else if child.is_named() || !super::pattern::is_punctuation(child.kind()) {
            extra = true;
        }
    }
    let pipe = node.parent().and_then(|parent| {
        let piped = parent.kind() == "binary_operator"
            && parent.child_by_field_name("right").map(|r| r.id()) == Some(node.id())
            && parent
                .child_by_field_name("operator")
                .is_some_and(|o| text(o) == "|>");
        piped.then(|| Some((span(parent), span(parent.child_by_field_name("left")?))))?
    });
    Some(Site {
        name: intern(text(name)),
        receiver,
        span: span(node),
        args,
        extra,
        pipe,
    })
}
