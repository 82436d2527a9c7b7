//! `--format json`: one document, serialised straight from the typed report to a buffered
//! writer (never through a `serde_json::Value` of the whole report).

use std::io::Write;

use super::Report;

pub(crate) fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, report)?;
    out.write_all(b"\n")
}
