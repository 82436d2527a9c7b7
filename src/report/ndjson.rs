//! `--format ndjson`: one JSON object per line, each with a `type`: a `header`, one `file` per
//! file in path order, then `graph` (unless `--no-calls`), `summary` and `runtime`. For
//! consumers that stream.

use std::io::Write;

use serde::Serialize;

use super::{FileRecord, Report, RuntimeInfo, Summary, Tool};

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line<'a> {
    Header {
        schema_version: u32,
        tool: &'a Tool,
        command: &'a str,
        root: &'a str,
    },
    File(&'a FileRecord),
    Graph(&'a crate::graph::Graph),
    Summary(&'a Summary),
    Runtime(&'a RuntimeInfo),
}

pub(crate) fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut emit = |line: Line<'_>| -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")
    };
    emit(Line::Header {
        schema_version: report.schema_version,
        tool: &report.tool,
        command: &report.command,
        root: &report.root,
    })?;
    for file in &report.files {
        emit(Line::File(file))?;
    }
    if let Some(graph) = &report.graph {
        emit(Line::Graph(graph))?;
    }
    emit(Line::Summary(&report.summary))?;
    emit(Line::Runtime(&report.runtime))
}
