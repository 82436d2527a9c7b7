//! Structural patterns (issue [6] item 3, first part): Elixir code with metavariables, matched
//! against files' syntax trees. `$X` matches one expression, `$$$X` zero or more arguments or
//! elements, `$_` anything without capturing it; a variable used twice must match the same
//! code (compared as text).
//!
//! `$X` is not Elixir, so the pattern is parsed with a placeholder standing where the variable
//! stands: an identifier in expression position, which tree-sitter also accepts as an alias
//! head (`$M.f()`), an atom (`:$A`) or a keyword key (`$K: 1`). Beyond syntax:
//!
//! - pipes are normalised: `x |> f(y)` matches `f($A, $B)`;
//! - aliases are resolved: with `alias MyApp.Repo` in the file, `Repo.get!(...)` matches
//!   `MyApp.Repo.get!(...)` (the caller gives the file's aliases).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tree_sitter::Node;

use crate::otp::cancel::Deadline;
use crate::syntax::sites::{CallSites, Receiver, Span};
use crate::syntax::{parse_tree_sitter, ParseInput};

/// The placeholder prefix a metavariable becomes in the pattern's source.
const PLACEHOLDER: &str = "es_metavar_";
const MANY: &str = "many_";

/// A compiled pattern: its source with placeholders, and its syntax tree.
pub(crate) struct Pattern {
    source: String,
    tree: tree_sitter::Tree,
}

/// One match: where, and what each variable captured.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Match {
    /// 1-based lines, 1-based columns in characters.
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) end_line: u32,
    pub(crate) end_column: u32,
    pub(crate) text: String,
    /// (variable, captured source text), in the order the variables first appear.
    pub(crate) captures: Vec<(String, String)>,
}

/// Why a pattern cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PatternError {
    /// Offset in characters in the pattern text.
    pub(crate) offset: usize,
    pub(crate) message: String,
}

/// Compiled patterns kept per process (design: PatternMatcher.Cache): a query compiles its
/// pattern when it is checked, planned and searched, `watch` for every update, [4c]'s user
/// rules once per file; each compiles once. Bounded by bytes (the MemoryManager's
/// CacheManager sets the budget and evicts it under pressure): the least recently used go
/// first.
struct CompiledCache {
    /// Least recently used first; each with its weight ([`weight`]).
    entries: Vec<(String, Arc<Pattern>, u64)>,
    bytes: u64,
    budget: u64,
}

/// The budget without a memory limit: thousands of typical patterns.
const COMPILED_BUDGET: u64 = 8 << 20;

/// A compiled pattern's weight: its text twice (key and source) and its tree, which costs
/// about 32 bytes a byte of source (the ratio measured on the bench corpus, 27, with room).
fn weight(text: &str, pattern: &Pattern) -> u64 {
    (text.len() + pattern.source.len() * 33) as u64 + 256
}

static COMPILED: Mutex<CompiledCache> = Mutex::new(CompiledCache {
    entries: Vec::new(),
    bytes: 0,
    budget: COMPILED_BUDGET,
});

impl CompiledCache {
    /// Drops the least recently used until at most `target` bytes remain; (entries, bytes).
    fn evict_to(&mut self, target: u64) -> (u64, u64) {
        let (mut entries, mut bytes) = (0, 0);
        while self.bytes > target && !self.entries.is_empty() {
            let (_, _, weight) = self.entries.remove(0);
            self.bytes -= weight;
            entries += 1;
            bytes += weight;
        }
        (entries, bytes)
    }
}

fn compiled_cache() -> std::sync::MutexGuard<'static, CompiledCache> {
    COMPILED.lock().unwrap_or_else(|e| e.into_inner())
}

/// The bytes the compiled patterns are weighed at.
pub(crate) fn compiled_bytes() -> u64 {
    compiled_cache().bytes
}

/// Sets the compiled patterns' budget, evicting down to it; (entries, bytes) evicted.
pub(crate) fn set_compiled_budget(bytes: u64) -> (u64, u64) {
    let mut cache = compiled_cache();
    cache.budget = bytes;
    cache.evict_to(bytes)
}

/// Evicts compiled patterns until at most `target` bytes remain; (entries, bytes) evicted.
pub(crate) fn evict_compiled_to(target: u64) -> (u64, u64) {
    compiled_cache().evict_to(target)
}

impl Pattern {
    /// [`Pattern::compile`] through the process's cache of compiled patterns.
    pub(crate) fn compiled(text: &str) -> Result<Arc<Pattern>, PatternError> {
        {
            let mut cache = compiled_cache();
            if let Some(at) = cache.entries.iter().position(|(t, _, _)| t == text) {
                let entry = cache.entries.remove(at);
                let pattern = Arc::clone(&entry.1);
                cache.entries.push(entry);
                return Ok(pattern);
            }
        }
        let pattern = Arc::new(Pattern::compile(text)?);
        let weight = weight(text, &pattern);
        let mut cache = compiled_cache();
        let budget = cache.budget;
        if weight <= budget {
            cache.evict_to(budget - weight);
            cache.bytes += weight;
            cache
                .entries
                .push((text.to_string(), Arc::clone(&pattern), weight));
        }
        Ok(pattern)
    }

    /// Replaces the metavariables by placeholders and parses the result as Elixir.
    pub(crate) fn compile(text: &str) -> Result<Pattern, PatternError> {
        let mut source = String::with_capacity(text.len() * 2);
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] != '$' {
                source.push(chars[i]);
                i += 1;
                continue;
            }
            let start = i;
            let mut many = false;
            if chars[i..].starts_with(&['$', '$', '$']) {
                many = true;
                i += 3;
            } else {
                i += 1;
            }
            let name_start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[name_start..i].iter().collect();
            if name.is_empty()
                || !(name == "_" || name.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
            {
                return Err(PatternError {
                    offset: start,
                    message:
                        "a metavariable is `$` and a capitalised name (`$X`, `$$$ARGS`) or `$_`"
                            .into(),
                });
            }
            source.push_str(PLACEHOLDER);
            if many {
                source.push_str(MANY);
            }
            source.push_str(&name.to_ascii_lowercase());
        }
        let deadline = Deadline::after(
            std::time::Duration::from_secs(5),
            crate::otp::cancel::CancelToken::new(),
        );
        let tree = parse_tree_sitter(ParseInput::Bytes(source.as_bytes()), &deadline).ok_or(
            PatternError {
                offset: 0,
                message: "the pattern took too long to parse".into(),
            },
        )?;
        let root = tree.root_node();
        if root.has_error() {
            return Err(PatternError {
                offset: 0,
                message: "the pattern is not an Elixir expression (metavariables aside)".into(),
            });
        }
        if expressions(root).len() != 1 {
            return Err(PatternError {
                offset: 0,
                message: "a pattern is one expression".into(),
            });
        }
        Ok(Pattern { source, tree })
    }

    /// The function name a call pattern calls, when it is written (not a metavariable): only
    /// files with a call of that name can match, which the index's records tell without
    /// parsing anything.
    pub(crate) fn call_name(&self) -> Option<String> {
        let root = self.root();
        if root.kind() != "call" {
            return None;
        }
        let target = root.child_by_field_name("target")?;
        let name = match target.kind() {
            "dot" => target.child_by_field_name("right")?,
            "identifier" => target,
            _ => return None,
        };
        if name.kind() != "identifier" || variable(name, self.source.as_bytes()).is_some() {
            return None;
        }
        let text = std::str::from_utf8(&self.source.as_bytes()[name.byte_range()]).ok()?;
        (!text.starts_with(PLACEHOLDER)).then(|| text.to_string())
    }

    /// The module a remote call pattern calls, as written (`Repo`, `MyApp.Repo`), when it is an
    /// alias and not a metavariable.
    pub(crate) fn call_module(&self) -> Option<String> {
        let root = self.root();
        let target = root
            .child_by_field_name("target")
            .filter(|_| root.kind() == "call")?;
        let left = target
            .child_by_field_name("left")
            .filter(|_| target.kind() == "dot")?;
        if left.kind() != "alias" {
            return None;
        }
        std::str::from_utf8(&self.source.as_bytes()[left.byte_range()])
            .ok()
            .map(str::to_string)
    }

    /// What the call-site index needs to answer this pattern alone: a call of a named function
    /// (local, or on an alias as written) whose arguments are metavariables. `None` for any
    /// other pattern: the files are matched from source.
    pub(crate) fn shape(&self) -> Option<Shape> {
        let source = self.source.as_bytes();
        let root = self.root();
        if root.kind() != "call" {
            return None;
        }
        let text = |node: Node<'_>| std::str::from_utf8(&source[node.byte_range()]).ok();
        let target = root.child_by_field_name("target")?;
        let (name, receiver) = match target.kind() {
            "identifier" => (target, None),
            "dot" => {
                let left = target.child_by_field_name("left")?;
                if left.kind() != "alias" || significant(target).len() != 3 {
                    return None;
                }
                (
                    target.child_by_field_name("right")?,
                    Some(text(left)?.to_string()),
                )
            }
            _ => return None,
        };
        if name.kind() != "identifier" || variable(name, source).is_some() {
            return None;
        }
        let children = significant(root);
        let mut args = None;
        for child in &children {
            if child.id() == target.id() {
                continue;
            }
            if child.kind() != "arguments" || args.is_some() {
                return None;
            }
            let inside = significant(*child);
            let mut list = Vec::new();
            for arg in inside {
                let (var, many) = variable(arg, source)?;
                if arg.kind() != "identifier" {
                    return None;
                }
                list.push(if many { Arg::Many(var) } else { Arg::One(var) });
            }
            args = Some(list);
        }
        Some(Shape {
            name: text(name)?.to_string(),
            receiver,
            args,
        })
    }

    fn root(&self) -> Node<'_> {
        expressions(self.tree.root_node())[0]
    }

    /// Every match in `source` (its tree `tree`), outermost first, in source order. `aliases`:
    /// the file's `alias` directives, short name → full name.
    pub(crate) fn find(
        &self,
        tree: &tree_sitter::Tree,
        source: &[u8],
        aliases: &HashMap<String, String>,
        deadline: &Deadline,
    ) -> Vec<Match> {
        let pattern = self.root();
        let mut matches = Vec::new();
        let mut visited = 0usize;
        preorder(tree, &mut |node| {
            visited += 1;
            if visited.is_multiple_of(4096) && deadline.expired() {
                return false;
            }
            let mut matcher = Matcher {
                pattern_source: self.source.as_bytes(),
                source,
                aliases,
                captures: Vec::new(),
            };
            if node.is_named() && matcher.node(pattern, node) {
                matches.push(describe(node, source, matcher.captures));
            }
            true
        });
        matches
    }
}

/// A pattern the call-site index answers ([`Pattern::shape`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape {
    name: String,
    /// The alias as written; `None` for a local call.
    receiver: Option<String>,
    /// `None` without an argument list (`Repo.all`).
    args: Option<Vec<Arg>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    One(String),
    Many(String),
}

impl Shape {
    /// The matches of this pattern in a file, from its call sites and its source (the sites'
    /// content): the same as [`Pattern::find`] over the file's tree.
    pub(crate) fn matches(
        &self,
        sites: &CallSites,
        source: &[u8],
        aliases: &HashMap<String, String>,
    ) -> Vec<Match> {
        let lines = LineIndex::of(source);
        let mut found: Vec<(Span, Vec<(String, String)>)> = Vec::new();
        for site in &sites.sites {
            if sites.names.get(site.name as usize) != Some(&self.name) {
                continue;
            }
            let receiver_fits = match (&self.receiver, &site.receiver) {
                (None, Receiver::Local) => true,
                (Some(written), Receiver::Alias(id)) => {
                    let found = sites.names.get(*id as usize).map_or("", String::as_str);
                    found == written || expand(aliases, found).as_deref() == Some(written)
                }
                _ => false,
            };
            if !receiver_fits {
                continue;
            }
            let text = |span: Span| {
                source
                    .get(span.0 as usize..span.1 as usize)
                    .map_or_else(String::new, |b| String::from_utf8_lossy(b).into_owned())
            };
            // The pipe first: it holds the call (the matcher reports outer nodes first).
            if let Some((pipe, left)) = site.pipe {
                let mut codes = vec![left];
                codes.extend(site.args.iter().flatten().copied());
                let patterns = self.args.as_deref().unwrap_or(&[]);
                let mut captures = Vec::new();
                if sequence(patterns, &codes, &text, &mut captures) {
                    found.push((pipe, captures));
                }
            }
            let fits = match (&self.args, &site.args) {
                (None, None) => !site.extra,
                (Some(patterns), Some(codes)) if !site.extra => {
                    let mut captures = Vec::new();
                    if sequence(patterns, codes, &text, &mut captures) {
                        found.push((site.span, captures));
                    }
                    false
                }
                _ => false,
            };
            if fits {
                found.push((site.span, Vec::new()));
            }
        }
        // Document order, outer nodes first: the order of the matcher's walk.
        found.sort_by(|a, b| a.0 .0.cmp(&b.0 .0).then(b.0 .1.cmp(&a.0 .1)));
        found.dedup_by(|a, b| a.0 == b.0);
        found
            .into_iter()
            .map(|(span, captures)| {
                let (line, column) = lines.position(source, span.0 as usize);
                let (end_line, end_column) = lines.position(source, span.1 as usize);
                Match {
                    line,
                    column,
                    end_line,
                    end_column,
                    text: String::from_utf8_lossy(
                        source.get(span.0 as usize..span.1 as usize).unwrap_or(&[]),
                    )
                    .into_owned(),
                    captures: captures.into_iter().filter(|(n, _)| n != "_").collect(),
                }
            })
            .collect()
    }
}

/// `Matcher::sequence` over argument ranges.
fn sequence(
    patterns: &[Arg],
    codes: &[Span],
    text: &dyn Fn(Span) -> String,
    captures: &mut Vec<(String, String)>,
) -> bool {
    let Some((first, rest)) = patterns.split_first() else {
        return codes.is_empty();
    };
    let bind = |captures: &mut Vec<(String, String)>, name: &str, value: String| {
        if name == "_" {
            return true;
        }
        if let Some((_, bound)) = captures.iter().find(|(n, _)| n == name) {
            return *bound == value;
        }
        captures.push((name.to_string(), value));
        true
    };
    match first {
        Arg::Many(name) => {
            for taken in 0..=codes.len() {
                let saved = captures.len();
                let value = if taken == 0 {
                    String::new()
                } else {
                    text((codes[0].0, codes[taken - 1].1))
                };
                if bind(captures, name, value) && sequence(rest, &codes[taken..], text, captures) {
                    return true;
                }
                captures.truncate(saved);
            }
            false
        }
        Arg::One(name) => {
            let Some((code, code_rest)) = codes.split_first() else {
                return false;
            };
            let saved = captures.len();
            if bind(captures, name, text(*code)) && sequence(rest, code_rest, text, captures) {
                return true;
            }
            captures.truncate(saved);
            false
        }
    }
}

/// Line starts, for 1-based lines and columns in characters.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn of(source: &[u8]) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', source).map(|i| i + 1));
        LineIndex { starts }
    }

    fn position(&self, source: &[u8], byte: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= byte).max(1);
        let start = self.starts[line - 1];
        let column = String::from_utf8_lossy(source.get(start..byte).unwrap_or(&[]))
            .chars()
            .count();
        (line as u32, column as u32 + 1)
    }
}

/// `Repo` under `alias MyApp.Repo` (or `alias MyApp.Repo, as: Repo`), `Repo.Sub` too.
fn expand(aliases: &HashMap<String, String>, alias: &str) -> Option<String> {
    let (head, rest) = match alias.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (alias, None),
    };
    let full = aliases.get(head)?;
    Some(match rest {
        Some(rest) => format!("{full}.{rest}"),
        None => full.clone(),
    })
}

/// Visits every node of `tree` in document order, parents first, until `visit` says stop.
pub(crate) fn preorder(tree: &tree_sitter::Tree, visit: &mut dyn FnMut(Node<'_>) -> bool) {
    let mut cursor = tree.walk();
    'walk: loop {
        if !visit(cursor.node()) {
            return;
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
}

/// The expressions of a tree's root, comments aside.
fn expressions(root: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = root.walk();
    root.named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect()
}

fn describe(node: Node<'_>, source: &[u8], captures: Vec<(String, String)>) -> Match {
    let column = |byte: usize, row: usize| {
        let line_start = source[..byte]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
        let _ = row;
        String::from_utf8_lossy(&source[line_start..byte])
            .chars()
            .count() as u32
            + 1
    };
    let start = node.start_position();
    let end = node.end_position();
    Match {
        line: start.row as u32 + 1,
        column: column(node.start_byte(), start.row),
        end_line: end.row as u32 + 1,
        end_column: column(node.end_byte(), end.row),
        text: String::from_utf8_lossy(&source[node.byte_range()]).into_owned(),
        captures: captures
            .into_iter()
            .filter(|(name, _)| name != "_")
            .collect(),
    }
}

/// Punctuation that carries no meaning once the tree is built.
pub(crate) fn is_punctuation(kind: &str) -> bool {
    matches!(
        kind,
        "(" | ")" | "," | "[" | "]" | "{" | "}" | "%{" | "<<" | ">>" | "\n"
    )
}

/// The children that matter: named ones (comments aside) and meaningful anonymous tokens
/// (operators, `do`/`end`, keywords).
fn significant(node: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = node.walk();
    node.children(&mut cursor)
        .filter(|c| c.kind() != "comment" && (c.is_named() || !is_punctuation(c.kind())))
        .collect()
}

/// The arguments of a call, comments aside.
fn arguments(node: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = node.walk();
    let list = node.children(&mut cursor).find(|c| c.kind() == "arguments");
    let Some(list) = list else {
        return Vec::new();
    };
    let mut inner = list.walk();
    list.named_children(&mut inner)
        .filter(|c| c.kind() != "comment")
        .collect()
}

/// A placeholder's variable: (name, many).
fn variable(node: Node<'_>, pattern_source: &[u8]) -> Option<(String, bool)> {
    let text = std::str::from_utf8(&pattern_source[node.byte_range()]).ok()?;
    let text = text
        .trim()
        .trim_start_matches(':')
        .trim_end_matches(':')
        .trim();
    let name = text.strip_prefix(PLACEHOLDER)?;
    if !matches!(node.kind(), "identifier" | "atom" | "keyword")
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    Some(match name.strip_prefix(MANY) {
        Some(rest) => (rest.to_ascii_uppercase(), true),
        None => (name.to_ascii_uppercase(), false),
    })
}

struct Matcher<'a> {
    pattern_source: &'a [u8],
    source: &'a [u8],
    aliases: &'a HashMap<String, String>,
    captures: Vec<(String, String)>,
}

impl Matcher<'_> {
    fn text<'n>(&self, node: Node<'n>) -> &'_ str {
        std::str::from_utf8(&self.source[node.byte_range()]).unwrap_or("")
    }

    fn pattern_text(&self, node: Node<'_>) -> &str {
        std::str::from_utf8(&self.pattern_source[node.byte_range()]).unwrap_or("")
    }

    /// Binds a variable, or checks a bound one captured the same text.
    fn bind(&mut self, name: &str, text: &str) -> bool {
        if name == "_" {
            return true;
        }
        if let Some((_, bound)) = self.captures.iter().find(|(n, _)| n == name) {
            return bound == text;
        }
        self.captures.push((name.to_string(), text.to_string()));
        true
    }

    fn node(&mut self, pattern: Node<'_>, code: Node<'_>) -> bool {
        if let Some((name, false)) = variable(pattern, self.pattern_source) {
            // A placeholder matches any one expression; in a keyword key, any key.
            let text = self.text(code).to_string();
            let text = if pattern.kind() == "keyword" {
                text.trim_end().trim_end_matches(':').to_string()
            } else if pattern.kind() == "atom" {
                text.trim_start_matches(':').to_string()
            } else {
                text
            };
            return self.bind(&name, &text);
        }
        // A pipe into a call is the call with the piped value as first argument.
        if pattern.kind() == "call" && code.kind() == "binary_operator" {
            return self.piped_call(pattern, code);
        }
        if pattern.kind() != code.kind() {
            return false;
        }
        if pattern.kind() == "alias" {
            let written = self.pattern_text(pattern);
            let found = self.text(code);
            return written == found || expand(self.aliases, found).as_deref() == Some(written);
        }
        let (pattern_children, code_children) = (significant(pattern), significant(code));
        if pattern_children.is_empty() {
            return code_children.is_empty() && self.pattern_text(pattern) == self.text(code);
        }
        let saved = self.captures.len();
        let matched = self.sequence(&pattern_children, &code_children);
        if !matched {
            self.captures.truncate(saved);
        }
        matched
    }

    /// Matches lists of children, a `$$$` variable taking zero or more of them.
    fn sequence(&mut self, patterns: &[Node<'_>], codes: &[Node<'_>]) -> bool {
        let Some((first, rest)) = patterns.split_first() else {
            return codes.is_empty();
        };
        if let Some((name, true)) = variable(*first, self.pattern_source) {
            for taken in 0..=codes.len() {
                let saved = self.captures.len();
                let text = match (codes.first(), codes.get(taken.wrapping_sub(1))) {
                    (Some(a), Some(b)) if taken > 0 => {
                        String::from_utf8_lossy(&self.source[a.start_byte()..b.end_byte()])
                            .into_owned()
                    }
                    _ => String::new(),
                };
                if self.bind(&name, &text) && self.sequence(rest, &codes[taken..]) {
                    return true;
                }
                self.captures.truncate(saved);
            }
            return false;
        }
        let Some((code, code_rest)) = codes.split_first() else {
            return false;
        };
        let saved = self.captures.len();
        if first.is_named() != code.is_named()
            || (!first.is_named() && self.pattern_text(*first) != self.text(*code))
            || !(first.is_named() && self.node(*first, *code) || !first.is_named())
        {
            self.captures.truncate(saved);
            return false;
        }
        if self.sequence(rest, code_rest) {
            return true;
        }
        self.captures.truncate(saved);
        false
    }

    /// `value |> f(args)` against the pattern call `f(first, args...)`.
    fn piped_call(&mut self, pattern: Node<'_>, code: Node<'_>) -> bool {
        let operator = code.child_by_field_name("operator");
        let (Some(operator), Some(left), Some(right)) = (
            operator,
            code.child_by_field_name("left"),
            code.child_by_field_name("right"),
        ) else {
            return false;
        };
        if self.text(operator) != "|>" || right.kind() != "call" {
            return false;
        }
        let (Some(pattern_target), Some(code_target)) = (
            pattern.child_by_field_name("target"),
            right.child_by_field_name("target"),
        ) else {
            return false;
        };
        let saved = self.captures.len();
        if !self.node(pattern_target, code_target) {
            self.captures.truncate(saved);
            return false;
        }
        let mut code_arguments = vec![left];

        code_arguments.extend(arguments(right));
        let pattern_arguments = arguments(pattern);
        if self.sequence(&pattern_arguments, &code_arguments) {
            return true;
        }
        self.captures.truncate(saved);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(pattern: &str, code: &str, aliases: &[(&str, &str)]) -> Vec<Match> {
        let pattern = Pattern::compile(pattern).unwrap();
        let deadline = crate::syntax::within(std::time::Duration::from_secs(10));
        let tree = parse_tree_sitter(ParseInput::Bytes(code.as_bytes()), &deadline).unwrap();
        let aliases = aliases
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        pattern.find(&tree, code.as_bytes(), &aliases, &deadline)
    }

    fn captures(m: &Match) -> Vec<(&str, &str)> {
        m.captures
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect()
    }

    #[test]
    fn a_variable_binds_one_expression() {
        let found = find(
            "Repo.get!($SCHEMA, $ID)",
            "def show(id), do: Repo.get!(User, id)\ndef x, do: Repo.get(User, 1)\n",
            &[],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(captures(&found[0]), [("SCHEMA", "User"), ("ID", "id")]);
        assert_eq!((found[0].line, found[0].column), (1, 19));
        assert_eq!(found[0].text, "Repo.get!(User, id)");
    }

    #[test]
    fn many_takes_zero_or_more_and_repeated_variables_must_agree() {
        let code = "f()\nf(1)\nf(1, 2, 3)\ng(a, a)\ng(a, b)\n";
        assert_eq!(find("f($$$ARGS)", code, &[]).len(), 3);
        let rest = find("f(1, $$$REST)", code, &[]);
        assert_eq!(rest.len(), 2);
        assert_eq!(captures(&rest[1]), [("REST", "2, 3")]);
        let same = find("g($X, $X)", code, &[]);
        assert_eq!(same.len(), 1);
        assert_eq!(same[0].text, "g(a, a)");
        assert_eq!(find("g($_, $_)", code, &[]).len(), 2);
    }

    #[test]
    fn placeholders_stand_for_aliases_atoms_and_keys() {
        let code = "Foo.bar(1)\nBaz.bar(2)\nx = :ok\ny = :error\nopts(timeout: 5, retry: 1)\n";
        let modules = find("$M.bar($A)", code, &[]);
        assert_eq!(modules.len(), 2);
        assert_eq!(captures(&modules[1]), [("M", "Baz"), ("A", "2")]);
        let atoms = find("x = :$A", code, &[]);
        assert_eq!(atoms.len(), 1);
        assert_eq!(captures(&atoms[0]), [("A", "ok")]);
        let keys = find("opts($K: 5, retry: $R)", code, &[]);
        assert_eq!(keys.len(), 1);
        assert_eq!(captures(&keys[0])[0], ("K", "timeout"));
    }

    #[test]
    fn aliases_are_resolved_and_pipes_normalised() {
        let code = "Repo.get!(User, id)\nid |> String.to_atom()\nString.to_atom(x)\n";
        let aliased = find("MyApp.Repo.get!($S, $ID)", code, &[("Repo", "MyApp.Repo")]);
        assert_eq!(aliased.len(), 1);
        assert!(find("MyApp.Repo.get!($S, $ID)", code, &[]).is_empty());
        let piped = find("String.to_atom($A)", code, &[]);
        assert_eq!(piped.len(), 2);
        assert_eq!(captures(&piped[0]), [("A", "id")]);
        assert_eq!(piped[0].text, "id |> String.to_atom()");
    }

    #[test]
    fn a_call_pattern_names_its_function() {
        let name = |p: &str| Pattern::compile(p).unwrap().call_name();
        assert_eq!(name("Repo.get!($S, $ID)").as_deref(), Some("get!"));
        assert_eq!(name("to_atom($A)").as_deref(), Some("to_atom"));
        assert_eq!(name("$M.insert($CS)").as_deref(), Some("insert"));
        assert_eq!(name("Repo.$F($X)"), None);
        assert_eq!(name("$F($X)"), None);
        assert_eq!(name("x = :$A"), None);
        let module = |p: &str| Pattern::compile(p).unwrap().call_module();
        assert_eq!(
            module("MyApp.Repo.get!($S, $ID)").as_deref(),
            Some("MyApp.Repo")
        );
        assert_eq!(module("$M.insert($CS)"), None);
        assert_eq!(module("to_atom($A)"), None);
    }

    #[test]
    fn compiled_patterns_are_kept_and_bounded() {
        let first = Pattern::compiled("Kept.call($A)").unwrap();
        let again = Pattern::compiled("Kept.call($A)").unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert!(compiled_bytes() >= weight("Kept.call($A)", &first));
        for n in 0..64 {
            Pattern::compiled(&format!("Other.f{n}($A)")).unwrap();
        }
        assert!(compiled_bytes() <= COMPILED_BUDGET);
        let (entries, bytes) = evict_compiled_to(0);
        assert!(entries >= 1 && bytes > 0);
        let recompiled = Pattern::compiled("Kept.call($A)").unwrap();
        assert!(!Arc::ptr_eq(&first, &recompiled));
        assert!(Pattern::compiled("f(").is_err());
    }

    #[test]
    fn bad_patterns_are_errors_not_panics() {
        assert!(Pattern::compile("f($x)").is_err());
        assert!(Pattern::compile("f(").is_err());
        assert!(Pattern::compile("a\nb").is_err());
        assert!(Pattern::compile("$").is_err());
        for garbage in ["", "$$$", "$$$$X", "((((", "\u{0}", "é$É"] {
            let _ = Pattern::compile(garbage);
        }
    }
}
