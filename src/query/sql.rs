//! `elixirscope query --sql "SELECT ..."` (issue [6] item 5): raw SQL over the query tables,
//! for what the query language lacks.
//!
//! The statement sees one table per entity (`modules`, `functions`, `clauses`, `calls`,
//! `references`, `dependencies`, `files`, `findings`, and `cycles`, the report's cycles) with
//! the entity's fields as columns (`--fields ENTITY`): these are the documented views, never the
//! index's storage tables, which may change. Lists are JSON arrays (`json_each` reads them),
//! booleans 0 and 1.
//!
//! The tables the statement names are copied into a private in-memory database, then the
//! connection is made read-only (`query_only`), can attach nothing, loads no extension, and is
//! interrupted at the deadline: one statement, reading, in bounded time.

use std::time::Duration;

use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{params_from_iter, Connection};

use super::ast::{QueryError, Span, ENTITIES};
use super::exec::{Answer, Cell};
use super::fields::{self, FieldType};
use super::tables::Tables;
use crate::otp::cancel::Deadline;

/// The tables `--sql` offers: the entities, and the report's cycles.
fn views() -> impl Iterator<Item = &'static str> {
    ENTITIES.iter().copied().chain(["cycles"])
}

/// The views a statement names (a word equal to a view's name, in any case): only these are
/// loaded.
pub(crate) fn views_named(statement: &str) -> Vec<&'static str> {
    let words: std::collections::HashSet<String> = statement
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map(str::to_ascii_lowercase)
        .collect();
    views().filter(|view| words.contains(*view)).collect()
}

fn error(message: impl Into<String>) -> QueryError {
    QueryError::new(Span::default(), message)
}

/// Runs `statement` over `tables` (every field of each view it names).
pub(crate) fn run(
    tables: &Tables,
    statement: &str,
    deadline: &Deadline,
) -> Result<Answer, QueryError> {
    let connection = Connection::open_in_memory()
        .map_err(|err| error(format!("cannot open the SQL database: {err}")))?;
    for view in views_named(statement) {
        let Some(table) = tables.get(view) else {
            continue;
        };
        let catalog = fields::of(view).unwrap_or(&[]);
        let columns: Vec<String> = catalog
            .iter()
            .map(|f| {
                let ty = match f.ty {
                    FieldType::Int | FieldType::Bool => "INTEGER",
                    FieldType::Str | FieldType::List => "TEXT",
                };
                format!("\"{}\" {ty}", f.name)
            })
            .collect();
        let load = || -> rusqlite::Result<()> {
            connection.execute_batch(&format!(
                "CREATE TABLE \"{view}\" ({});",
                columns.join(", ")
            ))?;
            let transaction = connection.unchecked_transaction()?;
            {
                let marks = vec!["?"; catalog.len()].join(", ");
                let mut insert =
                    transaction.prepare(&format!("INSERT INTO \"{view}\" VALUES ({marks})"))?;
                let all = vec![true; catalog.len()];
                for row in 0..table.len {
                    let values = table.row(row, &all).into_iter().map(|cell| match cell {
                        Cell::Null => rusqlite::types::Value::Null,
                        Cell::Bool(b) => rusqlite::types::Value::Integer(i64::from(b)),
                        Cell::Int(i) => rusqlite::types::Value::Integer(i),
                        Cell::Float(f) => rusqlite::types::Value::Real(f),
                        Cell::Str(s) => rusqlite::types::Value::Text(s),
                        Cell::List(l) => rusqlite::types::Value::Text(
                            serde_json::to_string(&l).unwrap_or_default(),
                        ),
                    });
                    insert.execute(params_from_iter(values))?;
                }
            }
            transaction.commit()
        };
        load().map_err(|err| error(format!("cannot load the {view} table: {err}")))?;
        if deadline.expired() {
            return Err(timed_out());
        }
    }
    // Read-only from here: no writes, nothing attached, no extension.
    let lock = || -> rusqlite::Result<()> {
        connection.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
        connection.pragma_update(None, "query_only", true)?;
        Ok(())
    };
    lock().map_err(|err| error(format!("cannot protect the SQL database: {err}")))?;
    let trimmed = statement.trim().trim_end_matches(';').trim_end();
    let first = trimmed
        .split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| !w.is_empty())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !matches!(first.as_str(), "select" | "with" | "values") {
        return Err(error(format!(
            "--sql runs one SELECT (or WITH ... SELECT) statement, not '{}'",
            first.to_ascii_uppercase()
        ))
        .with_hint("the tables are read-only; nothing can be written, attached or loaded"));
    }
    // The deadline interrupts the statement from a watchdog thread.
    let interrupt = connection.get_interrupt_handle();
    let (done, finished) = crossbeam_channel::bounded::<()>(1);
    let watched = deadline.clone();
    let watchdog = std::thread::spawn(move || loop {
        match finished.recv_timeout(Duration::from_millis(20)) {
            Err(crossbeam_channel::RecvTimeoutError::Timeout) if !watched.expired() => {}
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                interrupt.interrupt();
                return;
            }
            _ => return,
        }
    });
    let result = answer(&connection, trimmed);
    let _ = done.send(());
    let _ = watchdog.join();
    result.map_err(|err| {
        let text = err.to_string();
        if text.contains("interrupted") {
            timed_out()
        } else if text.contains("too many attached") {
            error("--sql cannot ATTACH a database")
        } else if text.contains("readonly") || text.contains("query_only") {
            error(format!("--sql is read-only: {text}"))
        } else {
            error(format!("SQL: {text}")).with_hint(
                "the tables are modules, functions, clauses, calls, references, dependencies, \
                 files, findings and cycles; `elixirscope query --fields ENTITY` lists columns",
            )
        }
    })
}

fn timed_out() -> QueryError {
    error("the SQL statement ran past its time limit (--timeout-ms)")
}

fn answer(connection: &Connection, statement: &str) -> rusqlite::Result<Answer> {
    let mut prepared = connection.prepare(statement)?;
    if !prepared.readonly() {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
            Some("the statement would write (readonly)".into()),
        ));
    }
    let columns: Vec<String> = prepared.column_names().map(str::to_string).collect();
    let width = columns.len();
    let mut rows = Vec::new();
    let mut cursor = prepared.query([])?;
    while let Some(row) = cursor.next()? {
        let mut cells = Vec::with_capacity(width);
        for i in 0..width {
            cells.push(match row.get_ref(i)? {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(n) => Cell::Int(n),
                ValueRef::Real(f) => Cell::Float(f),
                ValueRef::Text(t) => Cell::Str(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Cell::Str(format!("x'{}'", hex(b))),
            });
        }
        rows.push(cells);
    }
    Ok(Answer {
        kind: "sql".to_string(),
        columns,
        rows,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_found_by_word() {
        assert_eq!(
            views_named("SELECT * FROM Functions f JOIN calls c ON c.caller_id = f.id"),
            vec!["functions", "calls"]
        );
        assert!(views_named("SELECT 1 AS modules_count").is_empty());
    }
}
