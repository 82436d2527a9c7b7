//! The query tables and the query cache (issue [6]; `docs/index.md`, schema v3).
//!
//! A run that builds a repository for a query stores its query tables
//! ([`crate::query::tables`]) under the run scope and the scope's *generation*: a hash of every
//! discovered path with its status and content hash. A later query on the same scope checks,
//! from the stat of each discovered file against the stored entries (no file is read), that
//! the generation is unchanged; it then decodes only the columns it reads, or serves a stored
//! answer of the same query text: no record is decoded and no project phase runs.
//!
//! Every failure here (a missing table, a blob that does not decode, a locked database) only
//! sends the query down the path that builds the repository: the cache is never the answer's
//! only source.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rusqlite::{params, Connection, OptionalExtension};

use super::{schema, Entry, Location, Stat, MAX_BLOB};
use crate::discover::{Discovery, EntryKind};
use crate::model::{stored, variant, FileRecord, Reason, Status};
use crate::query::tables::{Column, Table, Tables};
use crate::syntax::sites::CallSites;

/// Answers a scope keeps; the oldest go first.
const MAX_ANSWERS: i64 = 256;
/// An answer larger than this (encoded) is not kept: a query listing every call of a large
/// project is cheaper to answer from the tables than to store.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// Scopes whose query tables a root and configuration keep; the least recently written go.
const MAX_TABLE_SCOPES: i64 = 8;

/// The query tables and answers of one root and facts configuration.
pub(crate) struct QueryStore {
    /// The connection, the root's id and the configuration, as a run that writes has them.
    index: TableWriter,
    database: PathBuf,
    entries: HashMap<String, Entry>,
}

impl std::ops::Deref for QueryStore {
    type Target = TableWriter;

    fn deref(&self) -> &TableWriter {
        &self.index
    }
}

impl std::fmt::Debug for QueryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryStore")
            .field("database", &self.database)
            .finish()
    }
}

/// One discovered file as the generation sees it.
struct Part<'a> {
    path: &'a str,
    status: Status,
    reason: Option<Reason>,
    hash: Option<&'a str>,
}

fn digest<'a>(parts: impl Iterator<Item = Part<'a>>) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in parts {
        for piece in [
            part.path,
            variant::name(&part.status).unwrap_or_default(),
            part.reason
                .as_ref()
                .and_then(variant::name)
                .unwrap_or_default(),
            part.hash.unwrap_or(""),
        ] {
            hasher.update(&(piece.len() as u64).to_le_bytes());
            hasher.update(piece.as_bytes());
        }
    }
    hasher.finalize().to_hex()[..32].to_string()
}

/// The generation of a run's files (sorted by path, as a repository holds them).
fn generation(files: &[FileRecord]) -> String {
    digest(files.iter().map(|file| Part {
        path: &file.path,
        status: file.status,
        reason: file.reason,
        hash: file.hash.as_deref(),
    }))
}

/// A generation under a rule selection (the `findings` table and its answers).
fn with_rules(generation: &str, rules: &str) -> String {
    blake3::hash(format!("{generation};rules={rules}").as_bytes()).to_hex()[..32].to_string()
}

/// The generations a run scope's tables are kept under: the facts' (of the files) and, with a
/// rule selection, the findings'.
pub(crate) struct Generations {
    facts: String,
    findings: Option<String>,
}

impl Generations {
    /// From the facts' generation (a fresh tree's, [`QueryStore::fresh_generation`]).
    pub(crate) fn new(facts: String, rules: Option<&str>) -> Generations {
        Generations {
            findings: rules.map(|rules| with_rules(&facts, rules)),
            facts,
        }
    }

    /// Of a repository's files.
    pub(crate) fn of(files: &[FileRecord], rules: Option<&str>) -> Generations {
        Generations::new(generation(files), rules)
    }

    /// The generation `entity`'s table is kept under.
    pub(crate) fn of_entity(&self, entity: &str) -> &str {
        match (&self.findings, entity) {
            (Some(findings), "findings") => findings,
            _ => &self.facts,
        }
    }

    /// Answers are kept under the generation of everything they read.
    pub(crate) fn answers(&self) -> String {
        match &self.findings {
            Some(findings) => with_rules(&self.facts, findings),
            None => self.facts.clone(),
        }
    }
}

impl QueryStore {
    /// Opens an existing index for reading and writing query tables; `None` when there is no
    /// index yet or it cannot serve (the path that builds the repository says why).
    pub(crate) fn open(location: &Location, root: &Path, config: &str) -> Option<QueryStore> {
        if !location.database.is_file() {
            return None;
        }
        let connection = schema::open_connection(&location.database).ok()?;
        // Only an index of this tool, grammar and schema (`schema::open` resets any other).
        let stored = schema::stored_versions(&connection).ok()?;
        if super::versions()
            .iter()
            .any(|(key, value)| stored.get(*key) != Some(value))
        {
            return None;
        }
        let index = TableWriter::with_connection(connection, root, config)?;
        let entries = schema::load_entries(&index.connection, index.root, config).ok()?;
        Some(QueryStore {
            index,
            database: location.database.clone(),
            entries,
        })
    }

    /// The generation of `discovery` when every file is unchanged since it was stored, judged
    /// by its stat alone; `None` when any file is new, changed or racily clean (the run that
    /// builds the repository hashes and parses what it must).
    pub(crate) fn fresh_generation(
        &self,
        discovery: &Discovery,
        max_file_size: u64,
    ) -> Option<String> {
        let entries = &self.entries;
        let parts: Option<Vec<Part<'_>>> = discovery
            .entries
            .par_iter()
            .map(|entry| {
                let path = entry.path.as_str();
                Some(match &entry.kind {
                    EntryKind::Source => {
                        if entry.content.is_some() {
                            return None;
                        }
                        let stat = Stat::of(&std::fs::metadata(&entry.absolute).ok()?);
                        if stat.size > max_file_size {
                            Part {
                                path,
                                status: Status::Skipped,
                                reason: Some(Reason::TooLarge),
                                hash: None,
                            }
                        } else {
                            let stored = entries.get(path)?;
                            if !stored.clean_by_stat(stat) {
                                return None;
                            }
                            Part {
                                path,
                                status: stored.status,
                                reason: None,
                                hash: Some(stored.hash.as_str()),
                            }
                        }
                    }
                    EntryKind::Skipped(reason, _) => Part {
                        path,
                        status: Status::Skipped,
                        reason: Some(*reason),
                        hash: None,
                    },
                    EntryKind::Failed(reason, _) => Part {
                        path,
                        status: Status::Failed,
                        reason: Some(*reason),
                        hash: None,
                    },
                })
            })
            .collect();
        Some(digest(parts?.into_iter()))
    }

    /// The stored records of `paths` (as parsed, before the project phase); a record missing
    /// or not decoding is `None`: the query then builds the repository.
    pub(crate) fn records(&self, paths: &[&str]) -> Option<Vec<FileRecord>> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT record FROM files WHERE root = ?1 AND config = ?2 AND path = ?3
                 AND length(record) <= ?4",
            )
            .ok()?;
        let blobs: Vec<Vec<u8>> = paths
            .iter()
            .map(|path| {
                statement
                    .query_row(
                        params![self.root, self.config, path, MAX_BLOB as i64],
                        |row| row.get(0),
                    )
                    .optional()
                    .ok()
                    .flatten()
            })
            .collect::<Option<_>>()?;
        blobs
            .par_iter()
            .zip(paths.par_iter())
            .map(|(blob, path)| {
                stored::decode::<FileRecord>(blob)
                    .ok()
                    .filter(|record| record.path == *path)
            })
            .collect()
    }

    /// Whether `path` has a stored entry (a record to read).
    pub(crate) fn entry_status(&self, path: &str) -> Option<Status> {
        self.entries.get(path).map(|e| e.status)
    }

    pub(crate) fn database(&self) -> &Path {
        &self.database
    }

    /// The tables `wanted` (entity, its generation, the fields to load), or `None` when any
    /// column is missing, stale or does not decode.
    pub(crate) fn tables(&self, scope: &str, wanted: &[(&str, &str, Vec<&str>)]) -> Option<Tables> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT data, length(data) <= ?7 FROM query_tables WHERE root = ?1
                 AND config = ?2 AND scope = ?3 AND entity = ?4 AND field = ?5
                 AND generation = ?6 ORDER BY part",
            )
            .ok()?;
        let mut tables = Tables::default();
        for (entity, generation, fields) in wanted {
            let catalog = crate::query::fields::of(entity)?;
            let mut table = Table {
                len: 0,
                columns: vec![None; catalog.len()],
            };
            let mut len = None;
            for field in fields {
                let position = catalog.iter().position(|f| f.name == *field)?;
                // The column's parts in order, each a continuation of the ones before.
                let mut rows = statement
                    .query(params![
                        self.root,
                        self.config,
                        scope,
                        entity,
                        field,
                        generation,
                        MAX_BLOB as i64
                    ])
                    .ok()?;
                let mut column: Option<Column> = None;
                while let Some(row) = rows.next().ok()? {
                    if !row.get::<_, bool>(1).ok()? {
                        return None;
                    }
                    let part: Column = stored::decode(row.get_ref(0).ok()?.as_blob().ok()?).ok()?;
                    match &mut column {
                        None => column = Some(part),
                        Some(column) => {
                            if !column.extend(part) {
                                return None;
                            }
                        }
                    }
                }
                let column = column?;
                if *len.get_or_insert(column.len()) != column.len() {
                    return None;
                }
                table.columns[position] = Some(column);
            }
            table.len = len?;
            tables.insert(entity, table);
        }
        Some(tables)
    }

    /// A stored answer of `query` for this generation.
    pub(crate) fn answer(&self, scope: &str, generation: &str, query: &str) -> Option<Vec<u8>> {
        self.connection
            .query_row(
                "SELECT answer FROM query_answers WHERE root = ?1 AND config = ?2 AND scope = ?3
                 AND generation = ?4 AND query = ?5 AND length(answer) <= ?6",
                params![
                    self.root,
                    self.config,
                    scope,
                    generation,
                    query,
                    MAX_ANSWER_BYTES as i64
                ],
                |row| row.get(0),
            )
            .optional()
            .ok()?
    }
}

/// One entity's table in the stored form, column by column.
pub(crate) struct EncodedTable {
    entity: String,
    columns: Vec<(&'static str, Vec<u8>)>,
}

impl EncodedTable {
    pub(crate) fn of(entity: &str, table: &Table) -> EncodedTable {
        let catalog = crate::query::fields::of(entity).unwrap_or(&[]);
        EncodedTable {
            entity: entity.to_string(),
            columns: catalog
                .iter()
                .zip(&table.columns)
                .filter_map(|(field, column)| {
                    Some((field.name, stored::encode(column.as_ref()?).ok()?))
                })
                .collect(),
        }
    }
}

/// Where [`TableWriter::store_parts`] puts the parts of the tables it writes.
pub(crate) struct Parts<'t> {
    insert: rusqlite::Statement<'t>,
    root: i64,
    config: &'t str,
    scope: &'t str,
    generations: &'t Generations,
    now: i64,
    /// Each entity's next part number.
    next: HashMap<String, i64>,
}

impl Parts<'_> {
    /// Writes the next part of an entity's table.
    pub(crate) fn put(&mut self, table: EncodedTable) -> Result<(), rusqlite::Error> {
        let next = self.next.entry(table.entity.clone()).or_insert(0);
        let part = *next;
        *next += 1;
        let generation = self.generations.of_entity(&table.entity);
        for (field, data) in &table.columns {
            self.insert.execute(params![
                self.root,
                self.config,
                self.scope,
                table.entity,
                field,
                part,
                generation,
                data,
                self.now
            ])?;
        }
        Ok(())
    }
}

/// Where a run that built a repository stores its tables: the same database, written in one
/// transaction.
pub(crate) struct TableWriter {
    connection: Connection,
    root: i64,
    config: String,
}

impl TableWriter {
    /// Opens the index a run just wrote (its root row exists); `None` when it cannot.
    pub(crate) fn open(database: &Path, root: &Path, config: &str) -> Option<TableWriter> {
        TableWriter::with_connection(schema::open_connection(database).ok()?, root, config)
    }

    fn with_connection(connection: Connection, root: &Path, config: &str) -> Option<TableWriter> {
        let root: i64 = connection
            .query_row(
                "SELECT id FROM roots WHERE path = ?1",
                [root.to_string_lossy()],
                |row| row.get(0),
            )
            .optional()
            .ok()??;
        Some(TableWriter {
            connection,
            root,
            config: config.to_string(),
        })
    }

    /// Replaces the scope's tables of these entities, each under its generation, and drops
    /// its answers; keeps the tables of the [`MAX_TABLE_SCOPES`] most recent scopes.
    pub(crate) fn store<'t>(
        &self,
        scope: &str,
        generations: &Generations,
        tables: impl Iterator<Item = (&'t str, &'t Table)>,
    ) -> Result<(), rusqlite::Error> {
        let tables: Vec<(&str, &Table)> = tables.collect();
        // Encoded outside the transaction.
        let encoded: Vec<EncodedTable> = tables
            .par_iter()
            .map(|(entity, table)| EncodedTable::of(entity, table))
            .collect();
        let entities: Vec<&str> = tables.iter().map(|(entity, _)| *entity).collect();
        self.store_parts(scope, generations, &entities, |parts| {
            encoded.into_iter().try_for_each(|table| parts.put(table))
        })
    }

    /// [`store`](Self::store) part by part: `write` puts each entity's parts in order (each
    /// drained from its builder, [`TableBuilder::drain`](crate::query::tables::TableBuilder::drain)),
    /// all in one transaction: a large table is never held whole, and a reader sees the old
    /// tables or the new ones. An error of `write` rolls everything back.
    pub(crate) fn store_parts(
        &self,
        scope: &str,
        generations: &Generations,
        entities: &[&str],
        write: impl FnOnce(&mut Parts<'_>) -> Result<(), rusqlite::Error>,
    ) -> Result<(), rusqlite::Error> {
        let transaction = self.connection.unchecked_transaction()?;
        {
            let mut delete = transaction.prepare(
                "DELETE FROM query_tables WHERE root = ?1 AND config = ?2 AND scope = ?3
                 AND entity = ?4",
            )?;
            for entity in entities {
                delete.execute(params![self.root, self.config, scope, entity])?;
            }
            let mut parts = Parts {
                insert: transaction.prepare(
                    "INSERT INTO query_tables (root, config, scope, entity, field, part,
                                               generation, data, written_ns)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?,
                root: self.root,
                config: &self.config,
                scope,
                generations,
                now: super::now_ns(),
                next: HashMap::new(),
            };
            write(&mut parts)?;
        }
        transaction.execute(
            "DELETE FROM query_answers WHERE root = ?1 AND config = ?2 AND scope = ?3",
            params![self.root, self.config, scope],
        )?;
        transaction.execute(
            "DELETE FROM query_tables WHERE root = ?1 AND config = ?2 AND scope NOT IN (
                SELECT scope FROM query_tables WHERE root = ?1 AND config = ?2
                GROUP BY scope ORDER BY max(written_ns) DESC LIMIT ?3)",
            params![self.root, self.config, MAX_TABLE_SCOPES],
        )?;
        // Answers go with their scope's tables.
        transaction.execute(
            "DELETE FROM query_answers WHERE root = ?1 AND config = ?2 AND scope NOT IN (
                SELECT DISTINCT scope FROM query_tables WHERE root = ?1 AND config = ?2)",
            params![self.root, self.config],
        )?;
        transaction.commit()
    }

    /// Keeps an answer (skipped when too large); errors are ignored: the cache only saves time.
    pub(crate) fn store_answer(&self, scope: &str, generation: &str, query: &str, answer: &[u8]) {
        if answer.len() > MAX_ANSWER_BYTES {
            return;
        }
        let store = || -> rusqlite::Result<()> {
            let transaction = self.connection.unchecked_transaction()?;
            transaction.execute(
                "INSERT INTO query_answers (root, config, scope, generation, query, answer,
                                            written_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (root, config, scope, generation, query) DO UPDATE
                 SET answer = excluded.answer, written_ns = excluded.written_ns",
                params![
                    self.root,
                    self.config,
                    scope,
                    generation,
                    query,
                    answer,
                    super::now_ns()
                ],
            )?;
            transaction.execute(
                "DELETE FROM query_answers WHERE rowid IN (
                    SELECT rowid FROM query_answers WHERE root = ?1 AND config = ?2 AND scope = ?3
                    ORDER BY written_ns DESC LIMIT -1 OFFSET ?4)",
                params![self.root, self.config, scope, MAX_ANSWERS],
            )?;
            transaction.commit()
        };
        let _ = store();
    }

    /// The stored call sites of `paths` (those of other content are dropped by the caller,
    /// which compares hashes with the file it reads).
    pub(crate) fn call_sites(&self, paths: &[&str]) -> HashMap<String, CallSites> {
        let Ok(mut statement) = self.connection.prepare_cached(
            "SELECT sites FROM call_sites WHERE root = ?1 AND config = ?2 AND path = ?3
             AND length(sites) <= ?4",
        ) else {
            return HashMap::new();
        };
        let blobs: Vec<(&str, Vec<u8>)> = paths
            .iter()
            .filter_map(|path| {
                let blob: Vec<u8> = statement
                    .query_row(
                        params![self.root, self.config, path, MAX_BLOB as i64],
                        |row| row.get(0),
                    )
                    .ok()?;
                Some((*path, blob))
            })
            .collect();
        blobs
            .par_iter()
            .filter_map(|(path, blob)| Some((path.to_string(), stored::decode(blob).ok()?)))
            .collect()
    }

    /// Keeps the call sites a pattern search read from source; a file the index does not hold
    /// is skipped (its row would have no file to belong to).
    pub(crate) fn store_call_sites(&self, sites: &[(String, CallSites)]) {
        let Ok(transaction) = self.connection.unchecked_transaction() else {
            return;
        };
        if let Ok(mut upsert) = transaction.prepare(
            "INSERT INTO call_sites (root, config, path, hash, sites) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (root, config, path) DO UPDATE
             SET hash = excluded.hash, sites = excluded.sites",
        ) {
            for (path, found) in sites {
                if let Ok(blob) = stored::encode(found) {
                    let _ = upsert.execute(params![self.root, self.config, path, found.hash, blob]);
                }
            }
        }
        let _ = transaction.commit();
    }
}
