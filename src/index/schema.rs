//! The index's tables (`docs/index.md`), how a database is opened — defensively, in WAL mode
//! where it works — and the queries that load a run's entries.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::config::DbConfig;
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};

use super::{versions, Entry, RootInfo, Stat, BUSY_TIMEOUT, SCHEMA_VERSION};
use crate::model::Status;

/// Version 3 of the schema. `files` holds one row per (root, facts configuration, path);
/// `findings` one per such row and rule selection, removed with it; `scopes` one per run scope
/// (the paths and discovery options of a run) whose project phase is stored, and `resolutions`
/// one per file of such a scope; `query_tables` one per (scope, entity, field) of the query
/// tables and `query_answers` the query cache, both valid for one generation of the scope;
/// `call_sites` one per file whose call sites a pattern query read (by content hash).
const CREATE: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS roots (
    id              INTEGER PRIMARY KEY,
    path            TEXT NOT NULL UNIQUE,
    last_run_ns     INTEGER,
    last_run_hits   INTEGER,
    last_run_misses INTEGER
) STRICT;
CREATE TABLE IF NOT EXISTS files (
    root       INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
    config     TEXT NOT NULL,
    path       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    mtime_ns   INTEGER NOT NULL,
    inode      INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    checked_ns INTEGER NOT NULL,
    status     TEXT NOT NULL,
    lines      INTEGER NOT NULL,
    record     BLOB NOT NULL,
    PRIMARY KEY (root, config, path)
) STRICT;
CREATE TABLE IF NOT EXISTS findings (
    root     INTEGER NOT NULL,
    config   TEXT NOT NULL,
    path     TEXT NOT NULL,
    rules    TEXT NOT NULL,
    findings BLOB NOT NULL,
    PRIMARY KEY (root, config, path, rules),
    FOREIGN KEY (root, config, path) REFERENCES files(root, config, path) ON DELETE CASCADE
) STRICT;
CREATE TABLE IF NOT EXISTS scopes (
    root       INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
    config     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    projects   BLOB NOT NULL,
    written_ns INTEGER NOT NULL,
    PRIMARY KEY (root, config, scope)
) STRICT;
CREATE TABLE IF NOT EXISTS resolutions (
    root   INTEGER NOT NULL,
    config TEXT NOT NULL,
    scope  TEXT NOT NULL,
    path   TEXT NOT NULL,
    hash   TEXT NOT NULL,
    state  BLOB NOT NULL,
    PRIMARY KEY (root, config, scope, path),
    FOREIGN KEY (root, config, scope) REFERENCES scopes(root, config, scope) ON DELETE CASCADE
) STRICT;
CREATE TABLE IF NOT EXISTS query_tables (
    root       INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
    config     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    entity     TEXT NOT NULL,
    field      TEXT NOT NULL,
    part       INTEGER NOT NULL,
    generation TEXT NOT NULL,
    data       BLOB NOT NULL,
    written_ns INTEGER NOT NULL,
    PRIMARY KEY (root, config, scope, entity, field, part)
) STRICT;
CREATE TABLE IF NOT EXISTS call_sites (
    root   INTEGER NOT NULL,
    config TEXT NOT NULL,
    path   TEXT NOT NULL,
    hash   TEXT NOT NULL,
    sites  BLOB NOT NULL,
    PRIMARY KEY (root, config, path),
    FOREIGN KEY (root, config, path) REFERENCES files(root, config, path) ON DELETE CASCADE
) STRICT;
CREATE TABLE IF NOT EXISTS query_answers (
    root       INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
    config     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    generation TEXT NOT NULL,
    query      TEXT NOT NULL,
    answer     BLOB NOT NULL,
    written_ns INTEGER NOT NULL,
    PRIMARY KEY (root, config, scope, generation, query)
) STRICT;
";

/// Why a database could not be opened as an index.
#[derive(Debug)]
pub(super) enum OpenError {
    /// Not SQLite, corrupt, truncated or zeroed.
    Unreadable(rusqlite::Error),
    /// Another schema version's index.
    Foreign(String),
}

/// Whether an error means the file is not a usable database (rebuild it) rather than, say, a
/// lock or a read-only file system (leave it alone).
pub(super) fn is_corruption(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    ) || matches!(
        err,
        rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::FromSqlConversionFailure(..)
    )
}

/// A hostile database cannot make SQLite run code or write through the schema.
pub(super) fn harden(connection: &Connection) -> rusqlite::Result<()> {
    connection.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    connection.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    connection.pragma_update(None, "trusted_schema", false)?;
    Ok(())
}

/// Opens or creates the index for writing and reading.
pub(super) fn open(database: &Path) -> Result<Connection, OpenError> {
    let connection = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(OpenError::Unreadable)?;
    setup(&connection).map_err(OpenError::Unreadable)?;
    let tables: i64 = connection
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |row| row.get(0),
        )
        .map_err(OpenError::Unreadable)?;
    if tables == 0 {
        // Only an empty database takes `auto_vacuum`; the Cleaner (`cleaner`) runs the
        // incremental vacuum. The switch to WAL above wrote the header already, so the setting
        // takes effect through a VACUUM (instant on an empty database): without it the index
        // was made without auto-vacuum and could never give space back.
        connection
            .pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .map_err(OpenError::Unreadable)?;
        connection
            .execute_batch("VACUUM")
            .map_err(OpenError::Unreadable)?;
    }
    // IMMEDIATE: the write lock is taken (waiting on the busy timeout) before the schema is
    // read. A deferred transaction that read it while another run created the tables could not
    // upgrade to write, and SQLite fails that upgrade at once ("database is locked").
    let transaction =
        rusqlite::Transaction::new_unchecked(&connection, rusqlite::TransactionBehavior::Immediate)
            .map_err(OpenError::Unreadable)?;
    transaction
        .execute_batch(CREATE)
        .map_err(OpenError::Unreadable)?;
    let stored = stored_versions(&transaction).map_err(OpenError::Unreadable)?;
    let current = versions();
    match stored.get("schema_version") {
        Some(version) if *version != SCHEMA_VERSION.to_string() => {
            return Err(OpenError::Foreign(version.clone()));
        }
        _ => {}
    }
    let outdated = current
        .iter()
        .any(|(key, value)| stored.get(*key) != Some(value));
    if outdated {
        // Another tool or grammar version made these entries: none of them can be trusted.
        transaction
            .execute_batch(
                "DELETE FROM query_answers; DELETE FROM query_tables; DELETE FROM call_sites; \
                 DELETE FROM resolutions; \
                 DELETE FROM scopes; DELETE FROM findings; DELETE FROM files;",
            )
            .map_err(OpenError::Unreadable)?;
        for (key, value) in &current {
            transaction
                .execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![key, value],
                )
                .map_err(OpenError::Unreadable)?;
        }
    }
    transaction.commit().map_err(OpenError::Unreadable)?;
    Ok(connection)
}

/// Pragmas every connection sets.
/// The versions the `meta` table holds (tool, grammar, schema), by key.
pub(super) fn stored_versions(
    connection: &Connection,
) -> rusqlite::Result<HashMap<String, String>> {
    let mut statement = connection.prepare("SELECT key, value FROM meta")?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

fn setup(connection: &Connection) -> rusqlite::Result<()> {
    harden(connection)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers (`query`) never block the writer (`watch`). Where WAL cannot work (some
    // network file systems) SQLite answers with another mode: a rollback journal then.
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        connection.query_row("PRAGMA journal_mode = DELETE", [], |row| {
            row.get::<_, String>(0)
        })?;
    }
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// A further connection to an index [`open`] prepared: the readers' pool and the writer.
pub(super) fn open_connection(database: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    harden(&connection)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    Ok(connection)
}

/// The id of `root`, added when new.
pub(super) fn root_id(connection: &Connection, root: &str) -> rusqlite::Result<i64> {
    connection.execute(
        "INSERT INTO roots (path) VALUES (?1) ON CONFLICT (path) DO NOTHING",
        params![root],
    )?;
    connection.query_row(
        "SELECT id FROM roots WHERE path = ?1",
        params![root],
        |row| row.get(0),
    )
}

/// The stored files of a root and configuration, without their blobs.
pub(super) fn load_entries(
    connection: &Connection,
    root: i64,
    config: &str,
) -> rusqlite::Result<HashMap<String, Entry>> {
    let mut statement = connection.prepare(
        "SELECT path, size, mtime_ns, inode, hash, checked_ns, status, lines
         FROM files WHERE root = ?1 AND config = ?2",
    )?;
    let rows = statement.query_map(params![root, config], |row| {
        let status: String = row.get(6)?;
        Ok((
            row.get::<_, String>(0)?,
            Entry {
                stat: Stat {
                    size: row.get::<_, i64>(1)?.try_into().unwrap_or(u64::MAX),
                    mtime_ns: row.get(2)?,
                    inode: row.get::<_, i64>(3)? as u64,
                },
                hash: row.get(4)?,
                checked_ns: row.get(5)?,
                status: match status.as_str() {
                    "ok" => Status::Ok,
                    "syntax_error" => Status::SyntaxError,
                    // Only these two are ever written; anything else is not ours.
                    _ => {
                        return Err(rusqlite::Error::InvalidColumnType(
                            6,
                            "status".into(),
                            rusqlite::types::Type::Text,
                        ))
                    }
                },
                lines: row.get::<_, i64>(7)?.try_into().unwrap_or(0),
            },
        ))
    })?;
    rows.collect()
}

/// Paths with findings stored for a rule selection.
pub(super) fn load_findings_paths(
    connection: &Connection,
    root: i64,
    config: &str,
    rules: &str,
) -> rusqlite::Result<HashSet<String>> {
    let mut statement = connection
        .prepare("SELECT path FROM findings WHERE root = ?1 AND config = ?2 AND rules = ?3")?;
    let rows = statement.query_map(params![root, config, rules], |row| row.get(0))?;
    rows.collect()
}

/// What `cache info` shows of a database.
pub(super) fn describe(connection: &Connection) -> rusqlite::Result<(Option<u32>, Vec<RootInfo>)> {
    let has_meta: i64 = connection.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'",
        [],
        |row| row.get(0),
    )?;
    if has_meta == 0 {
        return Ok((None, Vec::new()));
    }
    let version: Option<String> = connection
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    // An index of an older schema has no query tables: nothing of them to count.
    let has_query_tables: i64 = connection.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'call_sites'",
        [],
        |row| row.get(0),
    )?;
    let query_counts = if has_query_tables > 0 {
        "(SELECT count(DISTINCT q.scope) FROM query_tables q WHERE q.root = r.id),
                (SELECT count(*) FROM query_answers a WHERE a.root = r.id),
                (SELECT count(*) FROM call_sites c WHERE c.root = r.id)"
    } else {
        "0, 0, 0"
    };
    let mut statement = connection.prepare(&format!(
        "SELECT r.path,
                (SELECT count(*) FROM files f WHERE f.root = r.id),
                (SELECT count(*) FROM findings g WHERE g.root = r.id),
                r.last_run_hits, r.last_run_misses,
                (SELECT count(*) FROM scopes s WHERE s.root = r.id),
                {query_counts}
         FROM roots r ORDER BY r.path"
    ))?;
    let roots = statement
        .query_map([], |row| {
            Ok(RootInfo {
                root: row.get(0)?,
                files: row.get::<_, i64>(1)?.try_into().unwrap_or(0),
                findings: row.get::<_, i64>(2)?.try_into().unwrap_or(0),
                last_run_hits: row.get::<_, Option<i64>>(3)?.map(|n| n.max(0) as u64),
                last_run_misses: row.get::<_, Option<i64>>(4)?.map(|n| n.max(0) as u64),
                scopes: row.get::<_, i64>(5)?.try_into().unwrap_or(0),
                query_scopes: row.get::<_, i64>(6)?.try_into().unwrap_or(0),
                answers: row.get::<_, i64>(7)?.try_into().unwrap_or(0),
                call_sites: row.get::<_, i64>(8)?.try_into().unwrap_or(0),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok((version.and_then(|v| v.parse().ok()), roots))
}

/// A stored run scope: its projects' blob and its files' (path, hash, state blob), blobs over
/// [`MAX_BLOB`](super::MAX_BLOB) left out.
pub(super) type StoredScope = (Vec<u8>, Vec<(String, String, Vec<u8>)>);

pub(super) fn load_scope(
    connection: &Connection,
    root: i64,
    config: &str,
    scope: &str,
) -> rusqlite::Result<Option<StoredScope>> {
    let limit = super::MAX_BLOB as i64;
    let projects: Option<Vec<u8>> = connection
        .query_row(
            "SELECT projects FROM scopes WHERE root = ?1 AND config = ?2 AND scope = ?3
             AND length(projects) <= ?4",
            params![root, config, scope, limit],
            |row| row.get(0),
        )
        .optional()?;
    let Some(projects) = projects else {
        return Ok(None);
    };
    let mut statement = connection.prepare(
        "SELECT path, hash, state FROM resolutions
         WHERE root = ?1 AND config = ?2 AND scope = ?3 AND length(state) <= ?4",
    )?;
    let rows = statement.query_map(params![root, config, scope, limit], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })?;
    Ok(Some((projects, rows.collect::<rusqlite::Result<_>>()?)))
}
