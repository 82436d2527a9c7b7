//! The index's writer: its own thread and connection, fed by the parse workers as files are
//! done, so a cold run fills the index while parsing goes on. Rows are committed in batches: a
//! run killed at any point leaves the last committed batch, never half a row (SQLite's
//! transactions), and a concurrent run waits for at most one batch.

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use rusqlite::{params, Connection};

use super::{schema, Stat};
use crate::model::Status;

/// Rows per transaction, and the longest a transaction stays open.
const BATCH_ROWS: usize = 256;
const BATCH_TIME: Duration = Duration::from_millis(250);

/// What the writer is asked to do.
#[derive(Debug)]
pub(crate) enum Message {
    /// A file parsed this run: its row, and its findings when rules ran.
    Entry {
        path: String,
        stat: Stat,
        hash: String,
        checked_ns: i64,
        status: Status,
        lines: u32,
        record: Vec<u8>,
        findings: Option<Vec<u8>>,
    },
    /// A file whose stat changed but whose content did not: its row is current again.
    Touch {
        path: String,
        stat: Stat,
        checked_ns: i64,
    },
    /// A stored file that no longer exists.
    Forget { path: String },
    /// The project phase of a run scope: the states of the files it resolved, the paths that
    /// left the scope, and its projects. One transaction: a scope is never half updated.
    Scope {
        scope: String,
        projects: Vec<u8>,
        states: Vec<(String, String, Vec<u8>)>,
        removed: Vec<String>,
    },
    /// A run scope whose phase was interrupted: its stored states no longer describe it.
    DropScope { scope: String },
    /// The run's hit and miss counts, for `cache info`.
    RunTotals { hits: u64, misses: u64 },
    /// One update of `watch`: its rows and its scope, in one transaction of their own.
    Update(Vec<Message>),
    /// Answered once everything sent before it is committed (or failed).
    Sync(Sender<()>),
}

/// What the writer did.
#[derive(Debug, Default, Clone)]
pub(crate) struct WriterStats {
    pub(crate) stored: u64,
    pub(crate) touched: u64,
    pub(crate) forgotten: u64,
    /// The first error, after which nothing more was written.
    pub(crate) error: Option<String>,
}

pub(crate) struct Writer {
    sender: std::sync::Mutex<Option<Sender<Message>>>,
    thread: std::sync::Mutex<Option<JoinHandle<WriterStats>>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

/// Where the writer writes.
pub(crate) struct Target {
    pub(crate) database: PathBuf,
    pub(crate) root: i64,
    pub(crate) config: String,
    pub(crate) rules: Option<String>,
}

impl Writer {
    pub(crate) fn start(target: Target) -> Writer {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("index-writer".into())
            .spawn(move || write_all(&target, &receiver))
            .ok();
        Writer {
            sender: std::sync::Mutex::new(thread.as_ref().map(|_| sender)),
            thread: std::sync::Mutex::new(thread),
        }
    }

    pub(crate) fn send(&self, message: Message) {
        let sender = self.sender.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = &*sender {
            // A writer that stopped on an error drops what follows.
            let _ = sender.send(message);
        }
    }

    /// Waits for every message to be written; later messages are dropped.
    pub(crate) fn finish(&self, hits: u64, misses: u64) -> WriterStats {
        self.stop(Some((hits, misses)))
    }

    /// Waits for every message to be written, with the run's totals when it has them.
    pub(crate) fn stop(&self, totals: Option<(u64, u64)>) -> WriterStats {
        let sender = self.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let (Some(sender), Some((hits, misses))) = (&sender, totals) {
            let _ = sender.send(Message::RunTotals { hits, misses });
        }
        drop(sender);
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        match thread.map(JoinHandle::join) {
            Some(Ok(stats)) => stats,
            Some(Err(_)) => WriterStats {
                error: Some("the index writer panicked".into()),
                ..WriterStats::default()
            },
            None => WriterStats {
                error: Some("cannot start the index writer thread".into()),
                ..WriterStats::default()
            },
        }
    }
}

fn write_all(target: &Target, receiver: &Receiver<Message>) -> WriterStats {
    let mut stats = WriterStats::default();
    let connection = match schema::open_connection(&target.database) {
        Ok(connection) => connection,
        Err(err) => {
            stats.error = Some(err.to_string());
            // Drain so senders never block on a full channel (it is unbounded, but be tidy).
            for _ in receiver.iter() {}
            return stats;
        }
    };
    let _ = connection.pragma_update(None, "foreign_keys", true);
    let mut pending = Vec::with_capacity(BATCH_ROWS);
    let mut opened = Instant::now();
    let mut run_totals = None;
    loop {
        let message = receiver.recv_timeout(BATCH_TIME);
        match message {
            Ok(Message::RunTotals { hits, misses }) => run_totals = Some((hits, misses)),
            Ok(
                message @ (Message::Scope { .. }
                | Message::DropScope { .. }
                | Message::Update(_)
                | Message::Sync(_)),
            ) => {
                // Whatever is pending first, then this in a transaction of its own.
                if stats.error.is_none() && !pending.is_empty() {
                    if let Err(err) = commit(&connection, target, &mut pending, &mut stats) {
                        stats.error = Some(err.to_string());
                    }
                }
                pending.clear();
                let mut messages = match message {
                    Message::Sync(reply) => {
                        let _ = reply.send(());
                        Vec::new()
                    }
                    Message::Update(messages) => messages,
                    scope => vec![scope],
                };
                if stats.error.is_none() && !messages.is_empty() {
                    if let Err(err) = commit(&connection, target, &mut messages, &mut stats) {
                        stats.error = Some(err.to_string());
                    }
                }
            }
            Ok(message) => {
                if pending.is_empty() {
                    opened = Instant::now();
                }
                pending.push(message);
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        }
        if stats.error.is_none()
            && !pending.is_empty()
            && (pending.len() >= BATCH_ROWS || opened.elapsed() >= BATCH_TIME)
        {
            if let Err(err) = commit(&connection, target, &mut pending, &mut stats) {
                stats.error = Some(err.to_string());
            }
        }
        if stats.error.is_some() {
            pending.clear();
        }
    }
    if stats.error.is_none() && !pending.is_empty() {
        if let Err(err) = commit(&connection, target, &mut pending, &mut stats) {
            stats.error = Some(err.to_string());
        }
    }
    if let (None, Some((hits, misses))) = (&stats.error, run_totals) {
        let _ = connection.execute(
            "UPDATE roots SET last_run_ns = ?2, last_run_hits = ?3, last_run_misses = ?4
             WHERE id = ?1",
            params![target.root, super::now_ns(), hits as i64, misses as i64],
        );
    }
    stats
}

fn commit(
    connection: &Connection,
    target: &Target,
    pending: &mut Vec<Message>,
    stats: &mut WriterStats,
) -> rusqlite::Result<()> {
    let transaction = connection.unchecked_transaction()?;
    for message in pending.drain(..) {
        match message {
            Message::Entry {
                path,
                stat,
                hash,
                checked_ns,
                status,
                lines,
                record,
                findings,
            } => {
                let status = match status {
                    Status::SyntaxError => "syntax_error",
                    _ => "ok",
                };
                // Findings made from other content are stale for every rule selection; those
                // of the same content (another selection's) stay.
                transaction.execute(
                    "DELETE FROM findings WHERE root = ?1 AND config = ?2 AND path = ?3
                     AND NOT EXISTS (SELECT 1 FROM files f WHERE f.root = ?1 AND f.config = ?2
                                     AND f.path = ?3 AND f.hash = ?4)",
                    params![target.root, target.config, path, hash],
                )?;
                transaction.execute(
                    "INSERT INTO files (root, config, path, size, mtime_ns, inode, hash,
                                        checked_ns, status, lines, record)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                     ON CONFLICT (root, config, path) DO UPDATE SET
                        size = excluded.size, mtime_ns = excluded.mtime_ns,
                        inode = excluded.inode, hash = excluded.hash,
                        checked_ns = excluded.checked_ns, status = excluded.status,
                        lines = excluded.lines, record = excluded.record",
                    params![
                        target.root,
                        target.config,
                        path,
                        i64::try_from(stat.size).unwrap_or(i64::MAX),
                        stat.mtime_ns,
                        stat.inode as i64,
                        hash,
                        checked_ns,
                        status,
                        i64::from(lines),
                        record
                    ],
                )?;
                if let (Some(rules), Some(findings)) = (&target.rules, findings) {
                    transaction.execute(
                        "INSERT INTO findings (root, config, path, rules, findings)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (root, config, path, rules) DO UPDATE
                         SET findings = excluded.findings",
                        params![target.root, target.config, path, rules, findings],
                    )?;
                }
                stats.stored += 1;
            }
            Message::Touch {
                path,
                stat,
                checked_ns,
            } => {
                transaction.execute(
                    "UPDATE files SET size = ?4, mtime_ns = ?5, inode = ?6, checked_ns = ?7
                     WHERE root = ?1 AND config = ?2 AND path = ?3",
                    params![
                        target.root,
                        target.config,
                        path,
                        i64::try_from(stat.size).unwrap_or(i64::MAX),
                        stat.mtime_ns,
                        stat.inode as i64,
                        checked_ns
                    ],
                )?;
                stats.touched += 1;
            }
            Message::Forget { path } => {
                // Every configuration's row: the file is gone.
                transaction.execute(
                    "DELETE FROM files WHERE root = ?1 AND path = ?2",
                    params![target.root, path],
                )?;
                stats.forgotten += 1;
            }
            scope @ (Message::Scope { .. } | Message::DropScope { .. }) => {
                write_scope(&transaction, target, scope)?;
            }
            Message::RunTotals { .. } | Message::Update(_) | Message::Sync(_) => {}
        }
    }
    transaction.commit()
}

/// How many run scopes a root and configuration keep; the least recently written go first.
const MAX_SCOPES: i64 = 8;

fn write_scope(
    transaction: &rusqlite::Transaction<'_>,
    target: &Target,
    message: Message,
) -> rusqlite::Result<()> {
    match message {
        Message::Scope {
            scope,
            projects,
            states,
            removed,
        } => {
            transaction.execute(
                "INSERT INTO scopes (root, config, scope, projects, written_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (root, config, scope) DO UPDATE
                 SET projects = excluded.projects, written_ns = excluded.written_ns",
                params![target.root, target.config, scope, projects, super::now_ns()],
            )?;
            {
                let mut upsert = transaction.prepare(
                    "INSERT INTO resolutions (root, config, scope, path, hash, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (root, config, scope, path) DO UPDATE
                     SET hash = excluded.hash, state = excluded.state",
                )?;
                for (path, hash, state) in states {
                    upsert.execute(params![
                        target.root,
                        target.config,
                        scope,
                        path,
                        hash,
                        state
                    ])?;
                }
                let mut delete = transaction.prepare(
                    "DELETE FROM resolutions
                     WHERE root = ?1 AND config = ?2 AND scope = ?3 AND path = ?4",
                )?;
                for path in removed {
                    delete.execute(params![target.root, target.config, scope, path])?;
                }
            }
            transaction.execute(
                "DELETE FROM scopes WHERE root = ?1 AND config = ?2 AND scope NOT IN (
                    SELECT scope FROM scopes WHERE root = ?1 AND config = ?2
                    ORDER BY written_ns DESC LIMIT ?3)",
                params![target.root, target.config, MAX_SCOPES],
            )?;
        }
        Message::DropScope { scope } => {
            transaction.execute(
                "DELETE FROM scopes WHERE root = ?1 AND config = ?2 AND scope = ?3",
                params![target.root, target.config, scope],
            )?;
        }
        _ => {}
    }
    Ok(())
}
