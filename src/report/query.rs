//! `elixirscope query`'s output: JSON (`schema/query.schema.json`, generated from these types
//! and checked by a test), NDJSON (one row per line) and an aligned text table.

use std::io::{self, Write};

use schemars::JsonSchema;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::model::{CacheRuntime, PhaseTiming};
use crate::query::exec::Cell;

/// The answer to one query.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueryReport {
    pub(crate) schema_version: u32,
    /// Absolute path of the root; every `file` in the rows is relative to it.
    pub(crate) root: String,
    /// The query as given.
    pub(crate) query: String,
    /// What the rows are: the entity (`functions`, ...) or the graph question (`callers`,
    /// `callees`, `dependencies`, `path`, `cycles`).
    pub(crate) kind: String,
    /// The fields of each row, in order.
    pub(crate) columns: Vec<String>,
    /// One object per row, its keys the columns; a missing value is null.
    pub(crate) rows: Vec<Row>,
    /// Number of rows (with `count`, the one row holds it too).
    pub(crate) count: usize,
    /// Values that vary between runs live only here.
    pub(crate) runtime: QueryRuntime,
}

/// One row: the columns' values, in the columns' order.
#[derive(Debug, JsonSchema)]
#[schemars(with = "serde_json::Map<String, serde_json::Value>")]
pub(crate) struct Row {
    #[schemars(skip)]
    pub(crate) columns: std::sync::Arc<Vec<String>>,
    #[schemars(skip)]
    pub(crate) cells: Vec<Cell>,
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.cells.len()))?;
        for (column, cell) in self.columns.iter().zip(&self.cells) {
            map.serialize_entry(column, cell)?;
        }
        map.end()
    }
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueryRuntime {
    pub(crate) jobs: usize,
    /// Wall time of each phase: discover, runtime_start, parse, project, query, ...
    pub(crate) phases: Vec<PhaseTiming>,
    /// What the index did to answer (absent with `--no-cache`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cache: Option<CacheRuntime>,
    /// Where the answer came from: `query_cache` (a stored answer of the same query on the
    /// same files), `query_tables` (the index's query tables of the unchanged tree) or
    /// `records` (the run built the repository: a cold index or a changed tree).
    pub(crate) answered_from: String,
    /// For a pattern query: the files answered from their stored call sites, and those parsed
    /// again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pattern:
        Option<crate::subsystems::analysis::pattern_matcher::structural::SearchCounts>,
    pub(crate) warnings: Vec<String>,
}

pub(crate) fn json(report: &QueryReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// One row per line, nothing else: `elixirscope query ... --format ndjson | jq`.
pub(crate) fn ndjson(report: &QueryReport, out: &mut dyn Write) -> io::Result<()> {
    for row in &report.rows {
        serde_json::to_writer(&mut *out, row)?;
        writeln!(out)?;
    }
    Ok(())
}

/// The widest a text cell gets; longer ones end in `…`.
const MAX_CELL: usize = 60;

/// An aligned table with a header, then the row count.
pub(crate) fn text(report: &QueryReport, out: &mut dyn Write) -> io::Result<()> {
    let cells: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|row| row.cells.iter().map(|c| truncate(&c.text())).collect())
        .collect();
    let mut widths: Vec<usize> = report.columns.iter().map(|c| c.chars().count()).collect();
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, values: &mut dyn Iterator<Item = &str>| -> io::Result<()> {
        let mut text = String::new();
        for (index, (value, width)) in values.zip(&widths).enumerate() {
            if index > 0 {
                text.push_str("  ");
            }
            text.push_str(value);
            text.extend(std::iter::repeat_n(' ', width - value.chars().count()));
        }
        writeln!(out, "{}", text.trim_end())
    };
    if !report.columns.is_empty() && !cells.is_empty() {
        line(out, &mut report.columns.iter().map(String::as_str))?;
        for row in &cells {
            line(out, &mut row.iter().map(String::as_str))?;
        }
    }
    writeln!(
        out,
        "{} {}",
        report.count,
        if report.count == 1 { "row" } else { "rows" }
    )
}

fn truncate(text: &str) -> String {
    let text = text.replace(['\n', '\t'], " ");
    if text.chars().count() <= MAX_CELL {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_CELL - 1).collect();
    cut.push('…');
    cut
}

/// The generated JSON Schema, as committed in `schema/query.schema.json`.
#[cfg(test)]
fn schema_json() -> String {
    crate::model::schema_file::text(&schemars::schema_for!(QueryReport))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_schema_is_current() {
        crate::model::schema_file::assert_current("query.schema.json", &schema_json());
    }

    #[test]
    fn the_table_aligns_and_truncates() {
        let columns = std::sync::Arc::new(vec!["name".to_string(), "arity".to_string()]);
        let row = |name: &str, arity: i64| Row {
            columns: columns.clone(),
            cells: vec![Cell::Str(name.into()), Cell::Int(arity)],
        };
        let report = QueryReport {
            schema_version: 1,
            root: "/r".into(),
            query: "functions".into(),
            kind: "functions".into(),
            columns: columns.to_vec(),
            rows: vec![row("f", 1), row(&"x".repeat(80), 12)],
            count: 2,
            runtime: QueryRuntime {
                jobs: 1,
                phases: Vec::new(),
                cache: None,
                answered_from: "records".into(),
                pattern: None,
                warnings: Vec::new(),
            },
        };
        let mut out = Vec::new();
        text(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("name{}  arity", " ".repeat(56)));
        assert_eq!(lines[1], format!("f{}  1", " ".repeat(59)));
        assert_eq!(lines[2], format!("{}…  12", "x".repeat(59)));
        assert_eq!(lines[3], "2 rows");
        let mut out = Vec::new();
        ndjson(&report, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap().lines().next().unwrap(),
            r#"{"name":"f","arity":1}"#
        );
    }
}
