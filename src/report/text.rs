//! `--format text`: a summary for people — counts, then the files that need attention.

use std::io::Write;

use super::style::Style;
use crate::model::{Report, Status};

pub(crate) fn write(report: &Report, out: &mut dyn Write, color: bool) -> std::io::Result<()> {
    let style = Style { on: color };
    let summary = &report.summary;
    let counts = &summary.by_status;
    writeln!(
        out,
        "{} {} files in {:.2} s under {}",
        style.bold(&format!("elixirscope {}:", report.command)),
        summary.files,
        summary.elapsed_ms as f64 / 1000.0,
        report.root
    )?;
    writeln!(
        out,
        "  {} {} · {} {} · {} {} · {} {} · {} {}",
        style.status(Status::Ok),
        counts.ok,
        style.status(Status::SyntaxError),
        counts.syntax_error,
        style.status(Status::Failed),
        counts.failed,
        style.status(Status::Timeout),
        counts.timeout,
        style.status(Status::Skipped),
        counts.skipped
    )?;
    writeln!(
        out,
        "  {} modules · {} functions · {} lines · {} projects",
        summary.modules,
        summary.functions,
        summary.lines,
        summary.projects.len()
    )?;

    let problems: Vec<_> = report
        .files
        .iter()
        .filter(|f| {
            matches!(
                f.status,
                Status::SyntaxError | Status::Failed | Status::Timeout
            )
        })
        .collect();
    if !problems.is_empty() {
        writeln!(out, "\n{}", style.bold("Problems:"))?;
        for file in problems {
            let detail = match (file.errors.first(), &file.message) {
                (Some(error), _) => {
                    let more = file
                        .errors_truncated
                        .map(|t| t as usize)
                        .unwrap_or(file.errors.len())
                        .saturating_sub(1);
                    let more = if more > 0 {
                        format!(" (+{more} more)")
                    } else {
                        String::new()
                    };
                    format!("{}:{}: {}{more}", error.line, error.column, error.message)
                }
                (None, Some(message)) => message.clone(),
                (None, None) => String::new(),
            };
            writeln!(
                out,
                "  {}  {} {}",
                file.path,
                style.status(file.status),
                detail
            )?;
        }
    }
    let skipped: Vec<_> = report
        .files
        .iter()
        .filter(|f| f.status == Status::Skipped)
        .collect();
    if !skipped.is_empty() {
        writeln!(out, "\n{}", style.bold("Skipped:"))?;
        for file in skipped {
            let reason = file
                .reason
                .and_then(|r| serde_json::to_value(r).ok())
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            writeln!(out, "  {}  {}", file.path, style.paint("2", &reason))?;
        }
    }
    if !summary.duplicate_modules.is_empty() {
        writeln!(
            out,
            "\n{}",
            style.bold("Modules defined in several places:")
        )?;
        for duplicate in &summary.duplicate_modules {
            let places: Vec<String> = duplicate
                .locations
                .iter()
                .map(|l| format!("{}:{}", l.path, l.line))
                .collect();
            writeln!(out, "  {}  {}", duplicate.name, places.join(", "))?;
        }
    }
    Ok(())
}
