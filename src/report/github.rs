//! `analyze --format github`: GitHub Actions workflow commands, so findings appear as
//! annotations on the run and on the pull request's diff.
//!
//! GitHub turns at most [`ANNOTATIONS_PER_LEVEL`] commands of each level (error, warning,
//! notice) per step into annotations; it still prints the rest in the log, but as a bare
//! message without its file and line. So this emitter writes the first findings of each level
//! (in report order) as commands, every finding beyond the limit as a plain
//! `file:line:col: severity [rule] message` line inside a collapsed log group, and one closing
//! `::notice::` that says how many were not annotated, which files were not analysed and which
//! rules were disabled. A notice slot is kept free for that closing notice whenever it will be
//! written, so the limit can never swallow it.
//!
//! The limits are those of the actions/toolkit documentation, `docs/problem-matchers.md`
//! ("10 warning annotations, 10 error annotations, and 10 notice annotations per step");
//! escaping follows `escapeData`/`escapeProperty` in actions/toolkit
//! `packages/core/src/command.ts`.

use std::io::Write;

use super::analysis::AnalyzeReport;
use crate::rules::model::{Finding, Severity};

/// Annotations GitHub shows per step for each of error, warning and notice.
pub(crate) const ANNOTATIONS_PER_LEVEL: usize = 10;

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

fn level_index(severity: Severity) -> usize {
    match severity {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    }
}

/// A command's message: `%`, CR and LF are escaped, anything else is taken literally.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value (`file=`, `title=`): also `:` and `,`, which end a value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn annotation(finding: &Finding) -> String {
    let mut properties = format!(
        "file={},line={}",
        escape_property(&finding.path),
        finding.line
    );
    // GitHub accepts columns only for a single-line annotation, and its end column is the
    // last character's (inclusive), where the report's is the one after it.
    if finding.end_line <= finding.line {
        properties.push_str(&format!(
            ",col={},endColumn={}",
            finding.column,
            finding.end_column.saturating_sub(1).max(finding.column)
        ));
    } else {
        properties.push_str(&format!(",endLine={}", finding.end_line));
    }
    properties.push_str(&format!(
        ",title={}",
        escape_property(&format!("[{}]", finding.rule))
    ));
    format!(
        "::{} {properties}::{}",
        command(finding.severity),
        escape_data(&finding.message)
    )
}

/// The plain-log form of a finding, as in `--format text`.
fn plain(finding: &Finding) -> String {
    format!(
        "{}:{}:{}: {} [{}] {}",
        finding.path,
        finding.line,
        finding.column,
        finding.severity.as_str(),
        finding.rule,
        finding.message.replace(['\r', '\n'], " ")
    )
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

pub(crate) fn write(report: &AnalyzeReport, out: &mut dyn Write) -> std::io::Result<()> {
    let mut totals = [0usize; 3];
    for finding in &report.findings {
        totals[level_index(finding.severity)] += 1;
    }
    let problems: Vec<_> = report.problem_files().collect();
    let disabled = &report.summary.disabled_rules;
    let truncates = totals.iter().any(|&t| t > ANNOTATIONS_PER_LEVEL);
    let closing_notice = truncates || !problems.is_empty() || !disabled.is_empty();
    let mut budget = [ANNOTATIONS_PER_LEVEL; 3];
    if closing_notice {
        budget[level_index(Severity::Info)] -= 1;
    }

    let mut overflow = Vec::new();
    for finding in &report.findings {
        let level = level_index(finding.severity);
        if budget[level] > 0 {
            budget[level] -= 1;
            writeln!(out, "{}", annotation(finding))?;
        } else {
            overflow.push(finding);
        }
    }
    if !overflow.is_empty() {
        writeln!(
            out,
            "::group::{}",
            escape_data(&format!(
                "elixirscope: {} over GitHub's annotation limit",
                plural(overflow.len(), "finding", "findings")
            ))
        )?;
        for finding in &overflow {
            writeln!(out, "{}", plain(finding))?;
        }
        writeln!(out, "::endgroup::")?;
    }
    for file in &problems {
        let status = if file.status == crate::model::Status::Timeout {
            "timed out"
        } else {
            "failed"
        };
        let detail = file
            .message
            .as_deref()
            .map(|m| format!(": {}", m.replace(['\r', '\n'], " ")))
            .unwrap_or_default();
        writeln!(
            out,
            "elixirscope: {} {status}, not analysed{detail}",
            file.path
        )?;
    }
    for rule in disabled {
        writeln!(
            out,
            "elixirscope: rule {} disabled after failing on {}; its findings were dropped",
            rule.rule,
            plural(rule.failures as usize, "file", "files")
        )?;
    }

    let counts = &report.summary.by_severity;
    writeln!(
        out,
        "elixirscope: {} ({}, {}, {}) in {}",
        plural(report.findings.len(), "finding", "findings"),
        plural(counts.error as usize, "error", "errors"),
        plural(counts.warning as usize, "warning", "warnings"),
        plural(counts.info as usize, "info", "infos"),
        plural(report.summary.files as usize, "file", "files"),
    )?;

    if closing_notice {
        let mut lines = Vec::new();
        if !overflow.is_empty() {
            lines.push(format!(
                "{} not shown as annotations: GitHub shows at most {ANNOTATIONS_PER_LEVEL} \
                 errors, {ANNOTATIONS_PER_LEVEL} warnings and {ANNOTATIONS_PER_LEVEL} notices \
                 per step. All findings are listed in this step's log; upload `--format sarif` \
                 to code scanning to see every one on the diff.",
                plural(overflow.len(), "finding was", "findings were")
            ));
        }
        if !problems.is_empty() {
            let names: Vec<&str> = problems.iter().map(|f| f.path.as_str()).collect();
            lines.push(format!(
                "{} not analysed (failed or timed out), so findings may be missing: {}.",
                plural(problems.len(), "file was", "files were"),
                names.join(", ")
            ));
        }
        if !disabled.is_empty() {
            let names: Vec<&str> = disabled.iter().map(|r| r.rule.as_str()).collect();
            lines.push(format!(
                "{} disabled after failing on too many files, their findings dropped: {}.",
                plural(disabled.len(), "rule was", "rules were"),
                names.join(", ")
            ));
        }
        writeln!(
            out,
            "::notice title=elixirscope::{}",
            escape_data(&lines.join("\n"))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::analysis::{fixtures, AnalyzeReport, AnalyzeRun, FileOutcome};
    use super::*;
    use crate::model::Status;

    fn render(report: &AnalyzeReport) -> String {
        let mut out = Vec::new();
        write(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn commands(text: &str, name: &str) -> usize {
        let prefix = format!("::{name} ");
        let bare = format!("::{name}::");
        text.lines()
            .filter(|l| l.starts_with(&prefix) || l.starts_with(&bare))
            .count()
    }

    /// `errors`, `warnings` and `infos` findings spread over a few files.
    fn many(errors: usize, warnings: usize, infos: usize) -> AnalyzeReport {
        let template = fixtures::findings().remove(0);
        let mut findings = Vec::new();
        for (severity, count) in [
            (Severity::Error, errors),
            (Severity::Warning, warnings),
            (Severity::Info, infos),
        ] {
            for index in 0..count {
                let mut finding = template.clone();
                finding.severity = severity;
                finding.rule = format!("rule-{}", severity.as_str());
                finding.path = format!("lib/file_{}.ex", index % 3);
                finding.line = index as u32 + 1;
                finding.end_line = finding.line;
                finding.fingerprint = format!("{}-{index}", severity.as_str());
                findings.push(finding);
            }
        }
        let files = (0..3)
            .map(|i| FileOutcome {
                path: format!("lib/file_{i}.ex"),
                status: Status::Ok,
                reason: None,
                message: None,
            })
            .collect();
        AnalyzeReport::new(AnalyzeRun {
            root: "/repo".into(),
            findings,
            files,
            ..Default::default()
        })
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&fixtures::report()));
    }

    #[test]
    fn truncation_snapshot() {
        let text = render(&many(12, 25, 10));
        assert_eq!(commands(&text, "error"), ANNOTATIONS_PER_LEVEL);
        assert_eq!(commands(&text, "warning"), ANNOTATIONS_PER_LEVEL);
        // Nine findings and the closing notice.
        assert_eq!(commands(&text, "notice"), ANNOTATIONS_PER_LEVEL);
        assert!(text.contains("::notice title=elixirscope::18 findings were not shown"));
        // Every finding is in the log, annotated or plain.
        let plain_lines = text.lines().filter(|l| l.starts_with("lib/")).count();
        assert_eq!(plain_lines + 29, 47);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn no_notice_when_everything_fits() {
        let text = render(&many(10, 10, 10));
        assert_eq!(commands(&text, "notice"), ANNOTATIONS_PER_LEVEL);
        assert!(!text.contains("::group::"));
        assert!(!text.contains("title=elixirscope"));
        assert_eq!(
            text.lines().last().unwrap(),
            "elixirscope: 30 findings (10 errors, 10 warnings, 10 infos) in 3 files"
        );
    }

    #[test]
    fn properties_and_data_are_escaped() {
        assert_eq!(escape_data("100% a\r\nb: c, d"), "100%25 a%0D%0Ab: c, d");
        assert_eq!(
            escape_property("100% a\r\nb: c, d"),
            "100%25 a%0D%0Ab%3A c%2C d"
        );
        let mut finding = fixtures::findings().remove(0);
        finding.path = "lib/odd, name: 50%.ex".into();
        finding.rule = "io-inspect".into();
        finding.message = "Remove `IO.inspect/2`: 100% debug output,\nnot logging".into();
        (
            finding.line,
            finding.column,
            finding.end_line,
            finding.end_column,
        ) = (3, 5, 3, 9);
        insta::assert_snapshot!(annotation(&finding));
    }

    #[test]
    fn multi_line_findings_have_no_columns() {
        let mut finding = fixtures::findings().remove(0);
        (
            finding.line,
            finding.column,
            finding.end_line,
            finding.end_column,
        ) = (5, 3, 30, 6);
        let line = annotation(&finding);
        assert!(line.contains("line=5,endLine=30,title="), "{line}");
        assert!(!line.contains("col="));
    }
}
