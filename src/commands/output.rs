//! Where and how a report is written: format resolution (`auto`), colour, and `--output FILE`
//! written atomically (a temporary file renamed into place, so a reader never sees half a
//! report).

use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

use crate::cli::{Format, OutputArgs};
use crate::model::Report;
use crate::report;

/// A non-fatal warning: one line on stderr (`elixirscope: warning: ...`) unless `quiet`, and
/// always a line of the report's `runtime.warnings`.
pub(crate) fn warn(warnings: &mut Vec<String>, quiet: bool, message: String) {
    if !quiet {
        eprintln!("elixirscope: warning: {message}");
    }
    warnings.push(message);
}

pub(crate) fn resolved_format(args: &OutputArgs) -> Format {
    match args.format {
        Format::Auto if args.output.is_none() && std::io::stdout().is_terminal() => Format::Text,
        Format::Auto => Format::Json,
        other => other,
    }
}

fn use_color(args: &OutputArgs) -> bool {
    args.color
        .enabled(args.output.is_none() && std::io::stdout().is_terminal())
}

/// `spilled`: the records put aside under memory pressure, read back as they are written.
pub(crate) fn write_report(
    report: &Report,
    args: &OutputArgs,
    spilled: Option<&dyn crate::model::SpilledRecords>,
) -> anyhow::Result<()> {
    let format = resolved_format(args);
    let color = use_color(args);
    let emit = |out: &mut dyn Write| -> std::io::Result<()> {
        match format {
            Format::Json | Format::Auto => report::json::write(report, out, spilled),
            Format::Ndjson => report::ndjson::write(report, out, spilled),
            Format::Text => report::text::write(report, out, color),
        }
    };
    emit_to(args.output.as_deref(), emit)
}

/// Standard output as every subcommand writes it: a reader that goes away early (`| head`) is
/// the reader's choice, not an error (ripgrep, ruff and git end quietly too). After the first
/// broken pipe every write is accepted and dropped, so the emitter finishes as if it had
/// written everything and the command exits with the code its results call for.
pub(crate) struct QuietStdout {
    inner: std::io::StdoutLock<'static>,
    closed: bool,
}

impl Write for QuietStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

/// Buffered, quiet standard output (see [`QuietStdout`]).
pub(crate) fn stdout() -> BufWriter<QuietStdout> {
    BufWriter::with_capacity(
        1 << 16,
        QuietStdout {
            inner: std::io::stdout().lock(),
            closed: false,
        },
    )
}

/// Writes through `emit` to standard output (buffered) or to `path` (atomically).
pub(crate) fn emit_to(
    path: Option<&Path>,
    emit: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match path {
        None => {
            let mut out = stdout();
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
