//! `analyze --format text`: one `file:line:col: severity [rule] message` line per finding (the
//! shape editors and terminals turn into links), on a terminal with the source line and a caret
//! under the finding, then a summary line, the counts per rule with `--statistics`, and the files
//! and rules the run could not cover.

use std::collections::BTreeMap;
use std::io::Write;

use super::analysis::AnalyzeReport;
use super::style::Style;
use crate::rules::model::{Category, Finding, Severity};

/// Columns a tab takes in the source excerpt: a fixed width, as rustc prints them, so the
/// caret lines up whatever the terminal's tab stops are.
const TAB_WIDTH: usize = 4;

/// Fetches line `line` (1-based) of the file at `path` (relative to the root); it may borrow
/// the command's sources.
pub(crate) type SourceLine<'a> = dyn Fn(&str, u32) -> Option<String> + 'a;

pub(crate) struct TextOptions<'a> {
    /// ANSI colour (`--color`, `NO_COLOR`, a terminal).
    pub(crate) color: bool,
    /// `--statistics`: a table of findings per rule.
    pub(crate) statistics: bool,
    /// On a terminal: line `line` (1-based) of the file at `path` (relative to the root), so
    /// each finding is shown in context. The command owns the sources; this emitter never reads
    /// files. `None` prints the finding lines only.
    pub(crate) source: Option<&'a SourceLine<'a>>,
}

/// Line `line` (1-based) of `text`, without its line ending: a helper for the `source` lookup.
pub(crate) fn nth_line(text: &str, line: u32) -> Option<&str> {
    let index = usize::try_from(line.checked_sub(1)?).ok()?;
    text.split('\n')
        .nth(index)
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
}

pub(crate) fn write(
    report: &AnalyzeReport,
    out: &mut dyn Write,
    options: &TextOptions<'_>,
) -> std::io::Result<()> {
    let style = Style { on: options.color };
    for finding in &report.findings {
        writeln!(
            out,
            "{}:{}:{}: {} {} {}",
            style.bold(&finding.path),
            finding.line,
            finding.column,
            style.severity(finding.severity, finding.severity.as_str()),
            style.dim(&format!("[{}]", finding.rule)),
            finding.message
        )?;
        if let Some(source) = options.source {
            if let Some(text) = source(&finding.path, finding.line) {
                write_excerpt(out, &style, finding, &text)?;
            }
        }
    }

    if options.statistics && !report.findings.is_empty() {
        if options.source.is_none() {
            writeln!(out)?;
        }
        write_statistics(out, &style, &report.findings)?;
    }

    let summary = &report.summary;
    let counts = &summary.by_severity;
    if !report.findings.is_empty() && !options.statistics && options.source.is_none() {
        writeln!(out)?;
    }
    let mut line = format!(
        "{} ({}, {}, {}) in {}",
        style.bold(&plural(summary.findings, "finding", "findings")),
        paint_count(&style, Severity::Error, counts.error, "error", "errors"),
        paint_count(
            &style,
            Severity::Warning,
            counts.warning,
            "warning",
            "warnings"
        ),
        paint_count(&style, Severity::Info, counts.info, "info", "infos"),
        plural(summary.files, "file", "files"),
    );
    if summary.suppressed > 0 {
        line.push_str(&format!("; {} suppressed", summary.suppressed));
    }
    writeln!(out, "{line}")?;

    let problems: Vec<_> = report.problem_files().collect();
    if !problems.is_empty() {
        writeln!(
            out,
            "\n{}",
            style.bold("Not analysed (findings in these files are missing):")
        )?;
        for file in problems {
            let detail = file.message.as_deref().unwrap_or_default();
            writeln!(
                out,
                "  {}  {} {}",
                file.path,
                style.status(file.status),
                detail
            )?;
        }
    }
    if !summary.disabled_rules.is_empty() {
        writeln!(
            out,
            "\n{}",
            style.bold("Disabled rules (failed on too many files; their findings were dropped):")
        )?;
        for rule in &summary.disabled_rules {
            writeln!(
                out,
                "  {}  {}",
                rule.rule,
                style.paint(
                    "31",
                    &plural(u64::from(rule.failures), "failure", "failures")
                )
            )?;
        }
    }
    Ok(())
}

fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn paint_count(style: &Style, severity: Severity, count: u64, one: &str, many: &str) -> String {
    let text = plural(count, one, many);
    if count == 0 {
        text
    } else {
        style.severity(severity, &text)
    }
}

/// The source line with a gutter, and a caret line under the finding's columns.
///
/// Columns count code points. For display, a tab becomes [`TAB_WIDTH`] spaces, control
/// characters become U+FFFD (a source line must not drive the terminal), and East Asian wide
/// characters take two cells, so the caret stays under the code it points at.
fn write_excerpt(
    out: &mut dyn Write,
    style: &Style,
    finding: &Finding,
    text: &str,
) -> std::io::Result<()> {
    let text = text.trim_end_matches(['\n', '\r']);
    let start = finding.column.max(1) as usize;
    // A span that continues on later lines is underlined to the end of this one.
    let end = if finding.end_line == finding.line {
        (finding.end_column as usize).max(start + 1)
    } else {
        usize::MAX
    };
    let mut shown = String::with_capacity(text.len());
    let mut padding = String::new();
    let mut carets = 0usize;
    for (index, c) in text.chars().enumerate() {
        let column = index + 1;
        let width = display_width(c);
        match c {
            '\t' => shown.push_str(&" ".repeat(TAB_WIDTH)),
            c if c.is_control() => shown.push('\u{FFFD}'),
            c => shown.push(c),
        }
        if column < start {
            padding.push_str(&" ".repeat(width));
        } else if column < end {
            carets += width;
        }
    }
    // At least one caret, also for a position at the end of the line.
    let carets = "^".repeat(carets.max(1));
    let number = finding.line.to_string();
    let blank = " ".repeat(number.len());
    let mut caret_line = format!(
        "{} {}{}",
        style.gutter(&format!("{blank} |")),
        padding,
        style.severity(finding.severity, &carets)
    );
    if finding.end_line > finding.line {
        caret_line.push(' ');
        caret_line.push_str(&style.dim(&format!("to line {}", finding.end_line)));
    }
    writeln!(
        out,
        "{} {}",
        style.gutter(&format!("{number} |")),
        shown.trim_end()
    )?;
    writeln!(out, "{caret_line}")?;
    writeln!(out)
}

/// Terminal cells a character takes: an approximation of Unicode's East Asian Width (UAX #11)
/// over the common ranges, without a table crate.
fn display_width(c: char) -> usize {
    match c {
        '\t' => TAB_WIDTH,
        // Combining diacritics, zero-width spaces and joiners, variation selectors.
        '\u{0300}'..='\u{036F}' | '\u{200B}'..='\u{200F}' | '\u{FE00}'..='\u{FE0F}' => 0,
        '\u{1100}'..='\u{115F}'
        | '\u{2E80}'..='\u{303E}'
        | '\u{3041}'..='\u{33FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{A000}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF00}'..='\u{FF60}'
        | '\u{FFE0}'..='\u{FFE6}'
        | '\u{1F300}'..='\u{1F64F}'
        | '\u{1F900}'..='\u{1F9FF}'
        | '\u{20000}'..='\u{3FFFD}' => 2,
        _ => 1,
    }
}

/// `--statistics`: findings per rule, most frequent first, then by id.
fn write_statistics(
    out: &mut dyn Write,
    style: &Style,
    findings: &[Finding],
) -> std::io::Result<()> {
    let mut per_rule: BTreeMap<&str, (u64, Severity, Category)> = BTreeMap::new();
    for finding in findings {
        per_rule
            .entry(&finding.rule)
            .or_insert((0, finding.severity, finding.category))
            .0 += 1;
    }
    let mut rows: Vec<_> = per_rule.into_iter().collect();
    rows.sort_by(|(a_id, (a, ..)), (b_id, (b, ..))| b.cmp(a).then_with(|| a_id.cmp(b_id)));
    let count_width = rows
        .iter()
        .map(|(_, (count, ..))| count.to_string().len())
        .max()
        .unwrap_or(1)
        .max("count".len());
    let rule_width = rows
        .iter()
        .map(|(id, _)| id.chars().count())
        .max()
        .unwrap_or(0)
        .max("rule".len());
    writeln!(
        out,
        "{}",
        style.bold(&format!(
            "{:>count_width$}  {:<rule_width$}  {:<8}  category",
            "count", "rule", "severity"
        ))
    )?;
    for (id, (count, severity, category)) in rows {
        let severity_word = format!("{:<8}", severity.as_str());
        writeln!(
            out,
            "{count:>count_width$}  {id:<rule_width$}  {}  {}",
            style.severity(severity, &severity_word),
            category.as_str()
        )?;
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::super::analysis::fixtures;
    use super::*;

    fn render(report: &AnalyzeReport, color: bool, source: bool, statistics: bool) -> String {
        let lookup = fixtures::source_line;
        let options = TextOptions {
            color,
            statistics,
            source: if source { Some(&lookup) } else { None },
        };
        let mut out = Vec::new();
        write(report, &mut out, &options).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn excerpt(finding: &Finding, text: &str) -> String {
        let mut out = Vec::new();
        write_excerpt(&mut out, &Style { on: false }, finding, text).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn at(line: u32, column: u32, end_line: u32, end_column: u32) -> Finding {
        let mut finding = fixtures::findings().remove(0);
        (finding.line, finding.column) = (line, column);
        (finding.end_line, finding.end_column) = (end_line, end_column);
        finding
    }

    #[test]
    fn plain_snapshot() {
        let text = render(&fixtures::report(), false, false, false);
        assert!(!text.contains('\x1b'));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn terminal_snapshot_with_source_and_statistics() {
        let text = render(&fixtures::report(), false, true, true);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn color_snapshot() {
        let text = render(&fixtures::report(), true, true, false);
        assert!(text.contains("\x1b[1;31merror\x1b[0m"));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn clean_run_prints_only_the_summary() {
        let mut report = fixtures::report();
        report.findings.clear();
        report.summary =
            super::super::analysis::AnalyzeReport::new(super::super::analysis::AnalyzeRun {
                files: fixtures::files()
                    .into_iter()
                    .filter(|f| !f.is_problem())
                    .collect(),
                ..Default::default()
            })
            .summary;
        report.files.retain(|f| !f.is_problem());
        assert_eq!(
            render(&report, true, true, true),
            "\x1b[1m0 findings\x1b[0m (0 errors, 0 warnings, 0 infos) in 7 files\n"
        );
    }

    #[test]
    fn caret_counts_code_points_not_bytes() {
        // `IO` starts at code point 35 although `è` and `û` take two bytes each.
        let line = "  def menu, do: \"crème brûlée\" |> IO.inspect()";
        let column = line.chars().position(|c| c == 'I').unwrap() as u32 + 1;
        let text = excerpt(&at(4, column, 4, column + 12), line);
        let carets = text.lines().nth(1).unwrap();
        assert_eq!(
            carets.find('^').unwrap() - "  | ".len(),
            line.chars().position(|c| c == 'I').unwrap()
        );
        assert!(carets.ends_with(&"^".repeat(12)));
    }

    #[test]
    fn tabs_expand_in_the_line_and_the_padding() {
        let text = excerpt(&at(7, 3, 7, 14), "\t\tdbg(result)\r");
        assert_eq!(
            text, "7 |         dbg(result)\n  |         ^^^^^^^^^^^\n\n",
            "{text}"
        );
        // A span that covers a tab underlines all its cells.
        let text = excerpt(&at(7, 1, 7, 3), "\t\tdbg(result)");
        assert_eq!(text.lines().nth(1).unwrap(), "  | ^^^^^^^^");
    }

    #[test]
    fn wide_characters_take_two_cells() {
        let text = excerpt(&at(1, 2, 1, 4), "\"日本\" <> name");
        assert_eq!(text.lines().nth(1).unwrap(), "  |  ^^^^");
        let text = excerpt(&at(1, 6, 1, 8), "\"日本\" <> name");
        assert_eq!(text.lines().nth(1).unwrap(), "  |        ^^");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let text = excerpt(&at(1, 1, 1, 2), "x = \"\x1b[31mred\"");
        assert!(!text.contains('\x1b'));
        assert!(text.contains('\u{FFFD}'));
    }

    #[test]
    fn positions_past_the_end_and_multi_line_spans_still_get_a_caret() {
        let text = excerpt(&at(1, 10, 1, 10), "end");
        assert_eq!(text.lines().nth(1).unwrap(), "  |    ^");
        let text = excerpt(&at(5, 3, 30, 6), "  def checkout(cart) do");
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "  |   ^^^^^^^^^^^^^^^^^^^^^ to line 30"
        );
    }

    #[test]
    fn source_lookup_may_borrow_the_commands_sources() {
        let sources: BTreeMap<String, String> = [(
            "lib/shop/legacy.ex".to_string(),
            "defmodule Shop.Legacy do\r\n  def run(result) do\r\n\t\tdbg(result)\r\n".to_string(),
        )]
        .into();
        let lookup = |path: &str, line: u32| nth_line(sources.get(path)?, line).map(String::from);
        let mut report = fixtures::report();
        report.findings.retain(|f| f.rule == "dbg-call");
        (report.findings[0].line, report.findings[0].end_line) = (3, 3);
        let options = TextOptions {
            color: false,
            statistics: false,
            source: Some(&lookup),
        };
        let mut out = Vec::new();
        write(&report, &mut out, &options).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("3 |         dbg(result)\n  |         ^^^^^^^^^^^\n"),
            "{text}"
        );
    }

    #[test]
    fn nth_line_strips_line_endings() {
        let text = "a\r\nb\nc";
        assert_eq!(nth_line(text, 1), Some("a"));
        assert_eq!(nth_line(text, 2), Some("b"));
        assert_eq!(nth_line(text, 3), Some("c"));
        assert_eq!(nth_line(text, 4), None);
        assert_eq!(nth_line(text, 0), None);
    }
}
