//! Where and how a report is written: format resolution (`auto`), colour, and `--output FILE`
//! written atomically (a temporary file renamed into place, so a reader never sees half a
//! report).

use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

use crate::cli::{ColorChoice, Format, OutputArgs};
use crate::model::Report;
use crate::report;

pub(crate) fn resolved_format(args: &OutputArgs) -> Format {
    match args.format {
        Format::Auto if args.output.is_none() && std::io::stdout().is_terminal() => Format::Text,
        Format::Auto => Format::Json,
        other => other,
    }
}

fn use_color(args: &OutputArgs) -> bool {
    match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

pub(crate) fn write_report(report: &Report, args: &OutputArgs) -> anyhow::Result<()> {
    let format = resolved_format(args);
    let color = use_color(args);
    let emit = |out: &mut dyn Write| -> std::io::Result<()> {
        match format {
            Format::Json | Format::Auto => report::json::write(report, out),
            Format::Ndjson => report::ndjson::write(report, out),
            Format::Text => report::text::write(report, out, color),
        }
    };
    emit_to(args.output.as_deref(), emit)
}

/// Writes through `emit` to standard output (buffered) or to `path` (atomically).
pub(crate) fn emit_to(
    path: Option<&Path>,
    emit: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match path {
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
            emit(&mut out)?;
            out.flush()?;
        }
        Some(path) => write_atomically(path, emit)
            .with_context(|| format!("cannot write report to {}", path.display()))?,
    }
    Ok(())
}

fn write_atomically(
    path: &Path,
    emit: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    // Special files (`/dev/null`, a FIFO) cannot be replaced by a rename: write them directly.
    let is_regular_or_missing = std::fs::metadata(path).map(|m| m.is_file()).unwrap_or(true);
    if !is_regular_or_missing {
        let mut out = BufWriter::new(std::fs::OpenOptions::new().write(true).open(path)?);
        emit(&mut out)?;
        return out.flush();
    }
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let temporary = directory.join(format!(
        ".{file_name}.elixirscope-{}.tmp",
        std::process::id()
    ));
    let result = (|| {
        let mut out = BufWriter::with_capacity(1 << 16, std::fs::File::create(&temporary)?);
        emit(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
