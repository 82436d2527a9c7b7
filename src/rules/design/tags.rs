//! What `todo-tag` and `fixme-tag` share: Credo's `Design.TagHelper` (CREDO_CHECKS.md §6).
//!
//! Credo blanks strings, heredocs and sigils, then tests every line with
//! `(\A|[^\?])#\s*TAG:?\s*.+` (case-insensitive) and keeps the first match per line. Here the
//! file's text is scanned for the same pattern and each match is checked against the tree:
//! it counts when the `#` is in a comment or — as Credo 1.7.19 was observed to do — in a
//! single-quoted charlist, whose contents Credo does not blank. Scanning the text rather than
//! listening for `comment` nodes also finds comments the fact walk does not enter (inside
//! `alias Foo.{…}` or a module-level `@type`).

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use crate::extract::compact;
use crate::rules::engine::{CallEvent, Reporter, Site};
use crate::rules::warning::{code_children, do_block, local_name, written_arguments};
use crate::syntax;

/// The attributes whose inner call (`doc "…"` in `@doc "…"`) the walk reports as a call.
pub(super) const DOC_ATTRIBUTES: &[(&str, &str)] = &[
    ("Kernel", "doc"),
    ("Kernel", "moduledoc"),
    ("Kernel", "shortdoc"),
];

macro_rules! what_it_finds {
    ($tag:literal) => {
        concat!(
            "Comments with the tag `", $tag, "` (any case) after the `#` and optional spaces, \
             followed by at least one more character on the line (`# ", $tag, ":` and `# ",
            $tag, " x` are reported, a bare `# ", $tag, "` is not, nor is `# Note: ", $tag,
            " x`); one finding per line. With `include_doc`, also `@doc`, `@moduledoc` and \
             `@shortdoc` plain strings and heredocs whose text starts with the tag. As in Credo \
             1.7.19, the tag inside a single-quoted charlist counts too, while strings, \
             heredocs and sigils do not. Where Credo gives no column (a comment at column 1 \
             or ending in `:` or `.`, a heredoc doc) elixirscope gives the real one, and for a multi-line doc the message \
             shows the first line of the text, not all of it."
        )
    };
}

pub(super) const WHAT_IT_FINDS_TODO: &str = what_it_finds!("TODO");
pub(super) const WHAT_IT_FINDS_FIXME: &str = what_it_finds!("FIXME");

/// PCRE's `\s` without Unicode: space, tab, LF, VT, FF, CR.
fn is_pcre_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Reports every tag comment of the file (the event of its root node).
pub(super) fn comments(root: Node<'_>, tag: &str, out: &mut Reporter<'_>) {
    let source = out.source();
    let tag = tag.as_bytes();
    let mut line = 1u32;
    let mut line_start = 0usize;
    let mut scanned = 0usize;
    let mut last_reported = 0u32;
    let mut found = Vec::new();
    for hash in memchr_all(b'#', source) {
        // `?#` is a character literal, not a comment (Credo's `[^\?]`).
        if hash > 0 && source[hash - 1] == b'?' {
            continue;
        }
        let mut word = hash + 1;
        while word < source.len() && source[word] != b'\n' && is_pcre_space(source[word]) {
            word += 1;
        }
        let after = word + tag.len();
        if after > source.len() || !source[word..after].eq_ignore_ascii_case(tag) {
            continue;
        }
        // Lines are counted only up to candidates, which are rare.
        for (offset, &byte) in source[scanned..hash].iter().enumerate() {
            if byte == b'\n' {
                line += 1;
                line_start = scanned + offset + 1;
            }
        }
        scanned = hash;
        if line == last_reported {
            continue;
        }
        let line_end = source[after..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(source.len(), |p| after + p);
        // `.+`: at least one more character on the line.
        if after >= line_end || !counts_as_comment(root, hash) {
            continue;
        }
        last_reported = line;
        // The match starts at the character before `#` (`[^\?]`) and Credo trims it.
        let mut start = hash;
        if hash > line_start {
            start -= 1;
            while start > line_start && (source[start] & 0xC0) == 0x80 {
                start -= 1;
            }
        }
        let raw = String::from_utf8_lossy(&source[start..line_end]);
        let trigger = raw.trim();
        let leading = raw.len() - raw.trim_start().len();
        let column = code_points(&source[line_start..start + leading]) + 1;
        let end_column = column + trigger.chars().count() as u32;
        let (module, function) = enclosing_names(root, hash, source);
        let word = String::from_utf8_lossy(tag).to_uppercase();
        found.push((
            (line, column, line, end_column),
            module,
            function,
            trigger.to_string(),
            format!("Found a {word} tag in a comment: {trigger}"),
        ));
    }
    for (position, module, function, snippet, message) in found {
        out.at(position, module, function, snippet, message);
    }
}

/// Reports `@doc`, `@moduledoc` or `@shortdoc` holding a plain string that starts with the tag
/// (Credo's `include_doc`): the callee event of the attribute's inner call `doc "…"`.
pub(super) fn doc(call: &CallEvent<'_, '_>, tag: &str, site: &Site<'_>, out: &mut Reporter<'_>) {
    let source = out.source();
    let node = call.node;
    if node.kind() != "call" || do_block(node).is_some() {
        return;
    }
    let [string] = written_arguments(node)[..] else {
        return;
    };
    if string.kind() != "string" {
        return;
    }
    let parts = code_children(string);
    if parts.iter().any(|part| part.kind() == "interpolation") {
        return; // `"#{x} TODO"` is not a binary literal in Elixir's AST.
    }
    let heredoc = string
        .child_by_field_name("quoted_start")
        .is_some_and(|start| syntax::text(start, source).len() == 3);
    let mut value = String::new();
    for part in &parts {
        match part.kind() {
            "quoted_content" => value.push_str(&syntax::text(*part, source)),
            "escape_sequence" => value.push_str(&unescape(&syntax::text(*part, source))),
            _ => {}
        }
    }
    if heredoc {
        // A heredoc's value starts on the line after its opening delimiter.
        value = value
            .split_once('\n')
            .map_or(String::new(), |(_, rest)| rest.to_string());
    }
    if !doc_matches(&value, tag) {
        return;
    }
    let is_attribute = node.parent().is_some_and(|parent| {
        parent.kind() == "unary_operator"
            && parent
                .field(Field::Operator)
                .is_some_and(|op| &source[op.byte_range()] == b"@")
    });
    if !is_attribute {
        return;
    }
    // Credo's trigger is the whole value, right-trimmed; a message shows its first line.
    let trigger = value.trim_end();
    let shown = if trigger.contains('\n') || heredoc {
        trigger.trim_start().lines().next().unwrap_or("").trim_end()
    } else {
        trigger
    };
    let positions = syntax::Positions::new(source);
    let (line, column, end_column) = match parts.iter().find(|p| p.kind() == "quoted_content") {
        Some(content) if !heredoc => {
            let (line, column) = positions.start(*content);
            (line, column, column + shown.chars().count() as u32)
        }
        _ => {
            // A heredoc: Credo has no column; point at `@name`.
            let attribute = node.parent().unwrap_or(node);
            let (line, column) = positions.start(attribute);
            let end = node
                .field(Field::Target)
                .map_or(column + 1, |name| positions.end(name).1);
            (line, column, end)
        }
    };
    let word = tag.to_uppercase();
    out.at(
        (line, column, line, end_column),
        site.module.map(str::to_string),
        site.function
            .map(|(name, arity, _)| format!("{name}/{arity}")),
        shown.to_string(),
        format!("Found a {word} tag in a comment: {shown}"),
    );
}

/// `\A\s*TAG:?\s*.+` (case-insensitive, `.` not matching a newline): after leading whitespace
/// the value starts with the tag and has at least one more character that is not a newline.
fn doc_matches(value: &str, tag: &str) -> bool {
    let bytes = value.as_bytes();
    let start = bytes
        .iter()
        .position(|&b| !is_pcre_space(b))
        .unwrap_or(bytes.len());
    let rest = &bytes[start..];
    rest.len() >= tag.len()
        && rest[..tag.len()].eq_ignore_ascii_case(tag.as_bytes())
        && rest[tag.len()..].iter().any(|&b| b != b'\n')
}

/// Whether the `#` at `byte` is in a comment or in a charlist (Credo blanks strings, heredocs
/// and sigils, but not charlists).
fn counts_as_comment(root: Node<'_>, byte: usize) -> bool {
    let mut current = root.descendant_for_byte_range(byte, byte + 1);
    while let Some(node) = current {
        match node.kind() {
            "comment" | "charlist" => return true,
            "string" | "sigil" | "quoted_atom" | "quoted_keyword" | "char" => return false,
            _ => current = node.parent(),
        }
    }
    false
}

/// The enclosing module (nested `defmodule` names joined) and definition (`name/arity`) of the
/// node at `byte`, for findings reported from the root event, which has no walk site.
fn enclosing_names(root: Node<'_>, byte: usize, source: &[u8]) -> (Option<String>, Option<String>) {
    let mut modules = Vec::new();
    let mut function = None;
    let mut current = root.descendant_for_byte_range(byte, byte + 1);
    while let Some(node) = current {
        if node.kind() == "call" {
            match local_name(node, source).as_deref() {
                Some("defmodule" | "defprotocol") => {
                    if let Some(name) = written_arguments(node).first() {
                        modules.push(compact(&syntax::text(*name, source)));
                    }
                }
                Some("defimpl") => {
                    let arguments = written_arguments(node);
                    if let Some(protocol) = arguments.first() {
                        let mut name = compact(&syntax::text(*protocol, source));
                        if let Some(target) = keyword_value(&arguments, "for", source) {
                            name = format!("{name}.{}", compact(&syntax::text(target, source)));
                        }
                        modules.push(name);
                    }
                }
                Some(
                    "def" | "defp" | "defmacro" | "defmacrop" | "defguard" | "defguardp"
                    | "defdelegate",
                ) if function.is_none() && modules.is_empty() => {
                    function = written_arguments(node)
                        .first()
                        .and_then(|head| signature(*head, source));
                }
                _ => {}
            }
        }
        current = node.parent();
    }
    modules.reverse();
    let module = (!modules.is_empty()).then(|| modules.join("."));
    (module, function)
}

/// `name/arity` of a definition head (`f(a, b)`, `f`, `f(a) when …`, `a + b`).
fn signature(head: Node<'_>, source: &[u8]) -> Option<String> {
    let mut head = head;
    if head.kind() == "binary_operator"
        && head
            .field(Field::Operator)
            .is_some_and(|op| &source[op.byte_range()] == b"when")
    {
        head = head.field(Field::Left)?;
    }
    match head.kind() {
        "call" => {
            let name = local_name(head, source)?;
            Some(format!("{name}/{}", written_arguments(head).len()))
        }
        "identifier" => Some(format!("{}/0", syntax::text(head, source))),
        "binary_operator" => {
            let operator = head.field(Field::Operator)?;
            Some(format!("{}/2", syntax::text(operator, source)))
        }
        _ => None,
    }
}

/// The value of `key:` in a call's trailing keyword list.
fn keyword_value<'t>(arguments: &[Node<'t>], key: &str, source: &[u8]) -> Option<Node<'t>> {
    let keywords = arguments.last().filter(|n| n.kind() == "keywords")?;
    code_children(*keywords).into_iter().find_map(|pair| {
        let name = pair.field(Field::Key)?;
        let text = syntax::text(name, source);
        (text.trim().trim_end_matches(':') == key).then(|| pair.field(Field::Value))?
    })
}

/// Elixir's string escapes (`\n`, `\s`, `\x41`, `\u{1F600}`, ...).
fn unescape(escape: &str) -> String {
    let body = escape.strip_prefix('\\').unwrap_or(escape);
    let simple = match body {
        "n" => Some('\n'),
        "t" => Some('\t'),
        "r" => Some('\r'),
        "s" => Some(' '),
        "v" => Some('\u{0b}'),
        "f" => Some('\u{0c}'),
        "e" => Some('\u{1b}'),
        "a" => Some('\u{07}'),
        "b" => Some('\u{08}'),
        "d" => Some('\u{7f}'),
        "0" => Some('\0'),
        _ => None,
    };
    if let Some(c) = simple {
        return c.to_string();
    }
    let hex = body
        .strip_prefix("u{")
        .and_then(|h| h.strip_suffix('}'))
        .or_else(|| body.strip_prefix('u'))
        .or_else(|| body.strip_prefix("x{").and_then(|h| h.strip_suffix('}')))
        .or_else(|| body.strip_prefix('x'));
    if let Some(c) = hex
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .and_then(char::from_u32)
    {
        return c.to_string();
    }
    // `\\`, `\"`, `\#` and any other escaped character stand for themselves; a line
    // continuation (`\` + newline) for nothing.
    body.trim_start_matches(['\n', '\r']).to_string()
}

/// Number of code points in `bytes` (invalid bytes count one each).
fn code_points(bytes: &[u8]) -> u32 {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count() as u32
}

/// Positions of every `byte` in `haystack`.
fn memchr_all(byte: u8, haystack: &[u8]) -> impl Iterator<Item = usize> + '_ {
    haystack
        .iter()
        .enumerate()
        .filter(move |(_, &b)| b == byte)
        .map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_pattern_follows_credo() {
        assert!(doc_matches("TODO: write docs", "TODO"));
        assert!(doc_matches("  todo list manager", "TODO"));
        assert!(doc_matches("TODO:", "TODO")); // `.+` takes the colon
        assert!(doc_matches("\nTODO\nmore", "TODO"));
        assert!(!doc_matches("TODO", "TODO"));
        assert!(!doc_matches("TODO\n", "TODO"));
        assert!(!doc_matches("Does things. TODO: x", "TODO"));
    }

    #[test]
    fn escapes_decode() {
        assert_eq!(unescape("\\n"), "\n");
        assert_eq!(unescape("\\s"), " ");
        assert_eq!(unescape("\\x41"), "A");
        assert_eq!(unescape("\\u{1F600}"), "\u{1F600}");
        assert_eq!(unescape("\\\""), "\"");
    }
}
