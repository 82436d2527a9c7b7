//! Where Credo anchors an issue whose column it computes (CREDO_CHECKS.md §0): the first
//! occurrence of a *trigger* (a function name, a module name, `case`) in the text of the
//! reported line that is bounded on both sides by whitespace, `(`, `)`, `,` or a word boundary.
//! Credo runs `~r/(\b|\(|\)|\,|\s)(trigger)(\b|\(|\)|\,|\s)/` over the line without the
//! Unicode flag, so word characters are ASCII and the column is a byte offset; elixirscope
//! reports the same place in code points, as every other column it reports.
//!
//! The rules of `complexity` and `readability` that follow such checks share these helpers.

use crate::syntax::Node;

/// The line text (without its newline) of 1-based `line` in `source`; empty past the end.
pub(crate) fn line_text(source: &[u8], line: u32) -> &[u8] {
    let mut start = 0;
    for _ in 1..line {
        match memchr_newline(&source[start..]) {
            Some(offset) => start += offset + 1,
            None => return &[],
        }
    }
    let rest = &source[start..];
    let end = memchr_newline(rest).unwrap_or(rest.len());
    &rest[..end]
}

/// The text of the line a node starts on.
pub(crate) fn node_line<'s>(source: &'s [u8], node: Node<'_>) -> &'s [u8] {
    let start = node.start_byte().min(source.len());
    let line_start = start.saturating_sub(node.start_position().column);
    let rest = &source[line_start..];
    let end = memchr_newline(rest).unwrap_or(rest.len());
    &rest[..end]
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// PCRE's `\s`: space, tab, newline, vertical tab, form feed, carriage return.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `\b` between `line[at - 1]` and `line[at]` (outside the line counts as a non-word byte).
fn word_boundary(line: &[u8], at: usize) -> bool {
    let before = at > 0 && is_word(line[at - 1]);
    let after = at < line.len() && is_word(line[at]);
    before != after
}

/// A byte the regex's `(\(|\)|\,|\s)` alternatives consume.
fn delimiter(byte: u8) -> bool {
    matches!(byte, b'(' | b')' | b',') || is_space(byte)
}

/// Whether `trigger` occurs at `at` and is followed by the regex's closing group.
fn matches_at(line: &[u8], trigger: &[u8], at: usize) -> bool {
    let end = at + trigger.len();
    end <= line.len()
        && &line[at..end] == trigger
        && (word_boundary(line, end) || line.get(end).copied().is_some_and(delimiter))
}

/// Credo's computed column, as a byte offset into `line`: `None` where Credo's is `nil`.
///
/// The regex engine tries each start position in turn, first with the empty `\b`, then by
/// consuming one delimiter byte, so the answer is the first position that works either way.
pub(crate) fn credo_column(line: &[u8], trigger: &[u8]) -> Option<usize> {
    for start in 0..=line.len() {
        if word_boundary(line, start) && matches_at(line, trigger, start) {
            return Some(start);
        }
        if start < line.len() && delimiter(line[start]) && matches_at(line, trigger, start + 1) {
            return Some(start + 1);
        }
    }
    None
}

fn code_points(bytes: &[u8]) -> u32 {
    let count = bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count();
    u32::try_from(count).unwrap_or(u32::MAX - 1)
}

/// The 1-based code-point column of byte offset `at` of `line`.
pub(crate) fn column_of(line: &[u8], at: usize) -> u32 {
    code_points(&line[..at.min(line.len())]) + 1
}

/// The span Credo gives an issue on `line_no` whose column it computes from `trigger`:
/// `column_end` is the column plus the trigger's length. Where Credo's column is `nil` (the
/// trigger is not on the line as a word) the finding starts at the line's first non-blank
/// character instead.
pub(crate) fn trigger_span(line_no: u32, line: &[u8], trigger: &str) -> (u32, u32, u32, u32) {
    let start = credo_column(line, trigger.as_bytes())
        .unwrap_or_else(|| line.iter().position(|b| !is_space(*b)).unwrap_or(0));
    let column = column_of(line, start);
    let length = u32::try_from(trigger.chars().count()).unwrap_or(0);
    (line_no, column, line_no, column + length)
}

/// The line's text, trimmed and with runs of whitespace collapsed, for fingerprints.
pub(crate) fn snippet(line: &[u8]) -> String {
    crate::extract::compact_spaces(String::from_utf8_lossy(line).trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(line: &str, trigger: &str) -> Option<usize> {
        credo_column(line.as_bytes(), trigger.as_bytes()).map(|at| at + 1)
    }

    #[test]
    fn first_bounded_occurrence() {
        assert_eq!(column("  def simple(x), do: x", "simple"), Some(7));
        // `format` contains `for` but is no occurrence; the second `for` is.
        assert_eq!(column("  format(for x <- y)", "for"), Some(10));
        assert_eq!(column("defmodule NoDoc do", "NoDoc"), Some(11));
        // Operators: bounded by whitespace.
        assert_eq!(column("  def a <~> b, do: 1", "<~>"), Some(9));
    }

    #[test]
    fn empty_trigger_lands_on_the_second_column_of_an_indented_line() {
        assert_eq!(column("  def e(a, b \\\\ 2)", ""), Some(2));
        assert_eq!(column("def e(a)", ""), Some(1));
    }

    #[test]
    fn nil_cases() {
        // A trigger starting with a non-word character at column 1.
        assert_eq!(column("# TODO", "# TODO"), None);
        // One ending in a non-word character at the end of the line.
        assert_eq!(column("x = a <~>", "<~>"), None);
        assert_eq!(column("  def a, do: 1", "<Unknown Module Name>"), None);
    }

    #[test]
    fn spans_count_code_points() {
        let line = "  é = 1; def name(x), do: x";
        assert_eq!(trigger_span(3, line.as_bytes(), "name"), (3, 14, 3, 18));
        assert_eq!(trigger_span(3, b"    def", "missing"), (3, 5, 3, 12));
    }

    #[test]
    fn lines_by_number() {
        let source = b"a\nbb\n\nccc";
        assert_eq!(line_text(source, 1), b"a");
        assert_eq!(line_text(source, 2), b"bb");
        assert_eq!(line_text(source, 3), b"");
        assert_eq!(line_text(source, 4), b"ccc");
        assert_eq!(line_text(source, 5), b"");
    }
}
