//! `--format ndjson`: one JSON object per line, each with a `type`: a `header`, one `file` per
//! file in path order, then `graph` (unless `--no-calls`), `summary` and `runtime`. For
//! consumers that stream.

use std::io::Write;

use serde::Serialize;

#[cfg(test)]
use crate::model::FileRecord;
use crate::model::{Report, RuntimeInfo, Summary, Tool};

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line<'a> {
    Header {
        schema_version: u32,
        tool: &'a Tool,
        command: &'a str,
        root: &'a str,
    },
    /// Written by [`super::encode`]; this variant is the reference it is tested against.
    #[cfg(test)]
    File(&'a FileRecord),
    Graph(&'a crate::model::Graph),
    Summary(&'a Summary),
    Runtime(&'a RuntimeInfo),
}

/// `spilled`: as [`super::json::write`]'s.
pub(crate) fn write(
    report: &Report,
    out: &mut dyn Write,
    spilled: Option<&dyn crate::model::SpilledRecords>,
) -> std::io::Result<()> {
    fn emit(out: &mut dyn Write, line: Line<'_>) -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")
    }
    emit(
        out,
        Line::Header {
            schema_version: report.schema_version,
            tool: &report.tool,
            command: &report.command,
            root: &report.root,
        },
    )?;
    let mut bytes = Vec::new();
    for (position, file) in report.files.iter().enumerate() {
        let whole = spilled.and_then(|spilled| spilled.full(position));
        let file = whole.as_ref().unwrap_or(file);
        // `{"type":"file",` and the record's fields: what serde's internal tag writes.
        bytes.clear();
        super::encode::file(&mut bytes, file);
        out.write_all(b"{\"type\":\"file\",")?;
        out.write_all(&bytes[1..])?;
        out.write_all(b"\n")?;
    }
    if let Some(graph) = &report.graph {
        emit(out, Line::Graph(graph))?;
    }
    emit(out, Line::Summary(&report.summary))?;
    emit(out, Line::Runtime(&report.runtime))
}

/// The same lines, every one through serde: the reference `write` is tested against.
#[cfg(test)]
pub(super) fn write_with_serde(report: &Report, out: &mut Vec<u8>) {
    let mut emit = |line: Line<'_>| {
        serde_json::to_writer(&mut *out, &line).unwrap();
        out.push(b'\n');
    };
    emit(Line::Header {
        schema_version: report.schema_version,
        tool: &report.tool,
        command: &report.command,
        root: &report.root,
    });
    for file in &report.files {
        emit(Line::File(file));
    }
    if let Some(graph) = &report.graph {
        emit(Line::Graph(graph));
    }
    emit(Line::Summary(&report.summary));
    emit(Line::Runtime(&report.runtime));
}
