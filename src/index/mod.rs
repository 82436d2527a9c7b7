//! The index (issue [5]): a persistent store of what elixirscope learnt about each file, in an
//! embedded SQLite database, so that a run on a tree where few files changed parses only those.
//! `docs/index.md` documents the schema: it is a contract, like the JSON.
//!
//! The store keeps, per root, per facts configuration (`--no-calls`, `--no-metrics`) and per
//! file: the file's size, mtime, inode and blake3 hash, when it was last checked, its status and
//! its record as parsed (before the project phase, which every run redoes over all records) in
//! the stored form of `crate::model::stored`; and, per rule selection, its findings.
//!
//! Validity: an entry is reused only when the tool, grammar and schema versions match (else
//! the tables are recreated) and the file is unchanged: (size, mtime, inode) equal and the mtime
//! older than the entry's check by more than [`RACY_MARGIN`] (git's "racily clean" rule: a file
//! written in the same clock tick as it was read is hashed again), or else its content hash
//! equal. Only `ok` and `syntax_error` records are stored: failures and timeouts are run
//! conditions, not facts of the file.
//!
//! Hostility: the database comes from the working tree, which a checkout controls. It is opened
//! with `trusted_schema=OFF` and SQLite's defensive flag, blobs are length-checked before they
//! are decoded, paths read from it are only ever compared with discovered paths (nothing is
//! opened by a path the index names), and any error — a corrupt or foreign database, a blob that
//! fails to decode, a full disk — becomes one warning and a run without the bad entries.

pub(crate) mod cleaner;
pub(crate) mod query_store;
mod schema;
pub(crate) mod spill;
mod writer;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::model::{stored, CacheRuntime, FileFindings, FileRecord, Project, Status};
use crate::project::enhanced::{FileState, Outcome, Previous};
use crate::project::Repository;

pub(crate) use writer::Writer;

/// Bumped when the tables or the stored form change incompatibly.
pub(crate) const SCHEMA_VERSION: u32 = 4;
/// The name of the database file inside the cache folder.
pub(crate) const DATABASE: &str = "index.db";
/// The default cache folder under the root.
pub(crate) const DEFAULT_FOLDER: &str = ".elixirscope";
/// A file whose mtime is this close to (or after) its last check is hashed, whatever its stat
/// says: file systems with coarse timestamps can give a same-size edit made just after the
/// check the same mtime.
pub(crate) const RACY_MARGIN: Duration = Duration::from_secs(2);
/// No stored blob larger than this is read: a hostile index cannot make a run allocate more.
pub(crate) const MAX_BLOB: usize = 256 << 20;
/// How long a run waits for another run's write lock before giving up on the index.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// What the run's own cache folder setting says.
#[derive(Debug, Clone)]
pub(crate) enum CacheSetting {
    /// `--no-cache`.
    Off,
    /// `--cache-dir DIR` or `ELIXIRSCOPE_CACHE_DIR`: one folder may serve several roots.
    Folder(PathBuf),
    /// `.elixirscope/` under the root.
    UnderRoot,
}

/// Where the index of a root lives.
#[derive(Debug, Clone)]
pub(crate) struct Location {
    pub(crate) folder: PathBuf,
    pub(crate) database: PathBuf,
    /// The folder is the default one inside the analysed tree: a symlink there is refused.
    pub(crate) inside_root: bool,
}

impl Location {
    pub(crate) fn of(setting: &CacheSetting, root: &Path) -> Option<Location> {
        let (folder, inside_root) = match setting {
            CacheSetting::Off => return None,
            CacheSetting::Folder(folder) => (folder.clone(), false),
            CacheSetting::UnderRoot => (root.join(DEFAULT_FOLDER), true),
        };
        Some(Location {
            database: folder.join(DATABASE),
            folder,
            inside_root,
        })
    }
}

/// The facts configuration an entry was made under (`--no-calls`, `--no-metrics`).
pub(crate) fn facts_config(calls: bool, metrics: bool) -> String {
    format!("calls={calls};metrics={metrics}")
}

/// The identity of everything that shapes an entry besides the file and the configuration.
pub(crate) fn versions() -> [(&'static str, String); 3] {
    let language = crate::syntax::language();
    [
        ("schema_version", SCHEMA_VERSION.to_string()),
        ("tool_version", env!("CARGO_PKG_VERSION").to_string()),
        (
            "grammar",
            format!(
                "tree-sitter-elixir abi {} kinds {} fields {}",
                language.abi_version(),
                language.node_kind_count(),
                language.field_count()
            ),
        ),
    ]
}

/// A file's stat, as the index compares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    pub(crate) size: u64,
    pub(crate) mtime_ns: i64,
    pub(crate) inode: u64,
}

impl Stat {
    pub(crate) fn of(metadata: &fs::Metadata) -> Stat {
        use std::os::unix::fs::MetadataExt;
        Stat {
            size: metadata.len(),
            mtime_ns: metadata
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(metadata.mtime_nsec()),
            inode: metadata.ino(),
        }
    }
}

/// Nanoseconds since the epoch, now.
pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// One stored file, as loaded at the start of a run (the blobs stay in the database).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) stat: Stat,
    pub(crate) hash: String,
    pub(crate) checked_ns: i64,
    pub(crate) status: Status,
    pub(crate) lines: u32,
}

impl Entry {
    /// Whether the stat alone proves the file unchanged (no hash needed).
    pub(crate) fn clean_by_stat(&self, stat: Stat) -> bool {
        let margin = i64::try_from(RACY_MARGIN.as_nanos()).unwrap_or(i64::MAX);
        self.stat == stat && stat.mtime_ns.saturating_add(margin) < self.checked_ns
    }
}

/// How the index answered over a run: the fields of `runtime.cache` (`CacheRuntime`).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) unchanged: std::sync::atomic::AtomicU64,
    pub(crate) rehashed: std::sync::atomic::AtomicU64,
    pub(crate) parsed: std::sync::atomic::AtomicU64,
    pub(crate) removed: std::sync::atomic::AtomicU64,
    pub(crate) bad_entries: std::sync::atomic::AtomicU64,
    pub(crate) re_resolved: std::sync::atomic::AtomicU64,
}

/// An open index for one run over one root: the entries loaded, connections for reading
/// blobs, and the run's warnings about it.
pub(crate) struct Session {
    location: Location,
    root_id: i64,
    config: String,
    /// The rule selection's fingerprint, for `analyze`.
    rules: Option<String>,
    entries: HashMap<String, Entry>,
    /// Paths with findings stored for `rules`.
    with_findings: HashSet<String>,
    readers: Mutex<Vec<Connection>>,
    /// Reader connections opened so far (pooled or in use).
    opened: std::sync::atomic::AtomicUsize,
    pub(crate) counters: Counters,
    warnings: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("database", &self.location.database)
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// A reason the index cannot be used this run; becomes one warning.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IndexError {
    #[error("the cache folder {0} is not a directory")]
    NotAFolder(PathBuf),
    #[error("the cache folder {0} is a symbolic link")]
    Symlink(PathBuf),
    #[error("cannot prepare the cache folder {0}: {1}")]
    Folder(PathBuf, std::io::Error),
    #[error("the index {0} is unusable ({1})")]
    Database(PathBuf, rusqlite::Error),
}

impl Session {
    /// Opens (creating or recreating as needed) the index at `location` for `root`. `Err` is a
    /// warning for the run, which then goes on without the index.
    pub(crate) fn open(
        location: Location,
        root: &Path,
        config: String,
        rules: Option<String>,
    ) -> Result<Session, IndexError> {
        prepare_folder(&location)?;
        let mut warnings = Vec::new();
        let root_key = root.to_string_lossy().into_owned();
        let loaded = match load(&location.database, &root_key, &config, rules.as_deref()) {
            Ok(loaded) => loaded,
            Err(Failure::Rebuild(why)) => {
                // Corrupt, zeroed, truncated, not SQLite at all, or another schema (design
                // §8.1: recreate and reload): remove it and its journals, start afresh once.
                warnings.push(format!(
                    "the index {} {why}; it was rebuilt",
                    location.database.display()
                ));
                remove_database(&location.database);
                load(&location.database, &root_key, &config, rules.as_deref()).map_err(
                    |failure| IndexError::Database(location.database.clone(), failure.into()),
                )?
            }
            Err(Failure::Other(err)) => {
                return Err(IndexError::Database(location.database.clone(), err))
            }
        };
        let (connection, root_id, entries, with_findings) = loaded;
        Ok(Session {
            location,
            root_id,
            config,
            rules,
            entries,
            with_findings,
            readers: Mutex::new(vec![connection]),
            opened: std::sync::atomic::AtomicUsize::new(1),
            counters: Counters::default(),
            warnings: Mutex::new(warnings),
        })
    }

    pub(crate) fn location(&self) -> &Location {
        &self.location
    }

    /// Where this session's writer writes.
    fn target(&self) -> writer::Target {
        writer::Target {
            database: self.location.database.clone(),
            root: self.root_id,
            config: self.config.clone(),
            rules: self.rules.clone(),
        }
    }

    pub(crate) fn entry(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// Paths stored for this root and configuration.
    pub(crate) fn stored_paths(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub(crate) fn has_findings(&self, path: &str) -> bool {
        self.with_findings.contains(path)
    }

    /// Records a warning about the index (reported once per kind by the command).
    pub(crate) fn warn(&self, message: String) {
        let mut warnings = self.warnings.lock().unwrap_or_else(|e| e.into_inner());
        if !warnings.contains(&message) {
            warnings.push(message);
        }
    }

    pub(crate) fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The stored record of `path`, decoded; `None` (and a warning) when it is missing or does
    /// not decode.
    pub(crate) fn record(&self, path: &str) -> Option<FileRecord> {
        let blob = self.with_reader(|connection| {
            connection
                .query_row(
                    "SELECT record FROM files WHERE root = ?1 AND config = ?2 AND path = ?3 \
                     AND length(record) <= ?4",
                    params![self.root_id, self.config, path, MAX_BLOB as i64],
                    |row| row.get::<_, Vec<u8>>(0),
                )
                .optional()
        })?;
        self.decode(path, &blob)
    }

    /// The stored project phase of a run scope; `None` when there is none or it is unreadable
    /// (a warning). A state that does not decode is left out: its file is resolved again.
    pub(crate) fn scope(&self, scope: &str) -> Option<Previous> {
        let (projects, rows) = self.with_reader(|connection| {
            schema::load_scope(connection, self.root_id, &self.config, scope)
        })?;
        let projects: Vec<Project> = self.decode("(the scope's projects)", &projects)?;
        use rayon::prelude::*;
        let files = rows
            .into_par_iter()
            .filter_map(|(path, hash, blob)| {
                let state: FileState = self.decode(&path, &blob)?;
                (state.hash == hash).then_some((path, state))
            })
            .collect();
        Some(Previous { projects, files })
    }

    /// The stored findings of `path` for this run's rules.
    pub(crate) fn findings(&self, path: &str) -> Option<FileFindings> {
        let rules = self.rules.as_deref()?;
        let blob = self.with_reader(|connection| {
            connection
                .query_row(
                    "SELECT findings FROM findings WHERE root = ?1 AND config = ?2 AND path = ?3 \
                     AND rules = ?4 AND length(findings) <= ?5",
                    params![self.root_id, self.config, path, rules, MAX_BLOB as i64],
                    |row| row.get::<_, Vec<u8>>(0),
                )
                .optional()
        })?;
        self.decode(path, &blob)
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, path: &str, blob: &[u8]) -> Option<T> {
        match stored::decode(blob) {
            Ok(value) => Some(value),
            Err(err) => {
                self.counters
                    .bad_entries
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.warn(format!(
                    "the index {} holds entries that do not decode (first: {path}: {err}); they \
                     were ignored",
                    self.location.database.display()
                ));
                None
            }
        }
    }

    /// Gives back the page caches of the reader connections (SQLite's `shrink_memory`): the
    /// idle ones at once, those in use as they come back, waiting [`SHRINK_WAIT`] at most
    /// (a read takes microseconds). The bytes SQLite no longer holds and the connections
    /// shrunk.
    pub(crate) fn release_memory(&self) -> (u64, u64) {
        let before = sqlite_memory_used();
        let opened = self.opened.load(std::sync::atomic::Ordering::Relaxed);
        let deadline = std::time::Instant::now() + SHRINK_WAIT;
        let mut shrunk: HashSet<usize> = HashSet::new();
        loop {
            {
                let readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
                for connection in readers.iter() {
                    // SAFETY: the handle is only compared, as the connection's identity.
                    let id = unsafe { connection.handle() } as usize;
                    if shrunk.insert(id) {
                        let _ = connection.execute_batch("PRAGMA shrink_memory");
                    }
                }
            }
            if shrunk.len() >= opened || std::time::Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        (
            before.saturating_sub(sqlite_memory_used()),
            shrunk.len() as u64,
        )
    }

    /// Caps each reader connection's page cache at `bytes`.
    pub(crate) fn limit_page_cache(&self, bytes: u64) {
        let kib = (bytes / 1024).max(64);
        let readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        for connection in readers.iter() {
            let _ = connection.execute_batch(&format!("PRAGMA cache_size = -{kib}"));
        }
    }

    /// Runs `read` on a pooled connection; an error is a warning and `None`.
    fn with_reader<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<Option<T>>,
    ) -> Option<T> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let connection = match pooled {
            Some(connection) => connection,
            None => match schema::open_connection(&self.location.database) {
                Ok(connection) => {
                    self.opened
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    connection
                }
                Err(err) => {
                    self.warn(format!(
                        "cannot read the index {}: {err}",
                        self.location.database.display()
                    ));
                    return None;
                }
            },
        };
        let result = read(&connection);
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(connection);
        match result {
            Ok(value) => value,
            Err(err) => {
                self.counters
                    .bad_entries
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.warn(format!(
                    "cannot read the index {}: {err}",
                    self.location.database.display()
                ));
                None
            }
        }
    }
}

/// Why loading an index failed.
enum Failure {
    /// The database is not a usable index: rebuild it.
    Rebuild(String),
    /// Anything else (a lock held too long, a read-only file system): leave it alone.
    Other(rusqlite::Error),
}

impl From<Failure> for rusqlite::Error {
    fn from(failure: Failure) -> rusqlite::Error {
        match failure {
            Failure::Rebuild(why) => rusqlite::Error::InvalidParameterName(why),
            Failure::Other(err) => err,
        }
    }
}

type Loaded = (Connection, i64, HashMap<String, Entry>, HashSet<String>);

/// Opens the database and loads a run's entries (without blobs).
fn load(database: &Path, root: &str, config: &str, rules: Option<&str>) -> Result<Loaded, Failure> {
    let classify = |err: rusqlite::Error| {
        if schema::is_corruption(&err) {
            Failure::Rebuild(format!("was unreadable ({err})"))
        } else {
            Failure::Other(err)
        }
    };
    let connection = match schema::open(database) {
        Ok(connection) => connection,
        Err(schema::OpenError::Unreadable(err)) => return Err(classify(err)),
        Err(schema::OpenError::Foreign(version)) => {
            return Err(Failure::Rebuild(format!(
                "has schema version {version}, not {SCHEMA_VERSION}"
            )))
        }
    };
    let root_id = schema::root_id(&connection, root).map_err(classify)?;
    let entries = schema::load_entries(&connection, root_id, config).map_err(classify)?;
    let with_findings = match rules {
        Some(rules) => {
            schema::load_findings_paths(&connection, root_id, config, rules).map_err(classify)?
        }
        None => HashSet::new(),
    };
    Ok((connection, root_id, entries, with_findings))
}

/// Creates the cache folder with its `CACHEDIR.TAG` and `.gitignore` (so it is never
/// committed and backup tools skip it); refuses a folder inside the tree that is a file or a
/// symbolic link.
fn prepare_folder(location: &Location) -> Result<(), IndexError> {
    let folder = &location.folder;
    match fs::symlink_metadata(folder) {
        Ok(metadata) if metadata.file_type().is_symlink() && location.inside_root => {
            return Err(IndexError::Symlink(folder.clone()));
        }
        Ok(_) if !folder.is_dir() => return Err(IndexError::NotAFolder(folder.clone())),
        Ok(_) => {}
        Err(_) => {
            fs::create_dir_all(folder).map_err(|err| IndexError::Folder(folder.clone(), err))?
        }
    }
    let tag = folder.join("CACHEDIR.TAG");
    if !tag.exists() {
        fs::write(
            &tag,
            "Signature: 8a477f597d28d172789f06886806bc55\n\
             # This file is a cache directory tag created by elixirscope.\n\
             # For information about cache directory tags, see https://bford.info/cachedir/\n",
        )
        .map_err(|err| IndexError::Folder(folder.clone(), err))?;
    }
    let ignore = folder.join(".gitignore");
    if !ignore.exists() {
        fs::write(
            &ignore,
            "# Created by elixirscope: never commit the index.\n*\n",
        )
        .map_err(|err| IndexError::Folder(folder.clone(), err))?;
    }
    Ok(())
}

/// Removes a database and its journal files.
pub(crate) fn remove_database(database: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut path = database.as_os_str().to_owned();
        path.push(suffix);
        let _ = fs::remove_file(PathBuf::from(path));
    }
}

/// What `elixirscope cache info` shows.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Info {
    pub(crate) database: String,
    pub(crate) exists: bool,
    pub(crate) bytes: u64,
    pub(crate) schema_version: Option<u32>,
    pub(crate) roots: Vec<RootInfo>,
}

#[derive(Debug, serde::Serialize)]
pub(crate) struct RootInfo {
    pub(crate) root: String,
    pub(crate) files: u64,
    pub(crate) findings: u64,
    /// Run scopes whose project phase is stored.
    pub(crate) scopes: u64,
    /// Run scopes with query tables ([6]), stored answers, and files with stored call sites.
    pub(crate) query_scopes: u64,
    pub(crate) answers: u64,
    pub(crate) call_sites: u64,
    pub(crate) last_run_hits: Option<u64>,
    pub(crate) last_run_misses: Option<u64>,
}

/// Reads what is stored without changing anything (read-only connection).
pub(crate) fn info(database: &Path) -> Result<Info, rusqlite::Error> {
    let bytes = ["", "-wal"]
        .iter()
        .map(|suffix| {
            let mut path = database.as_os_str().to_owned();
            path.push(suffix);
            fs::metadata(PathBuf::from(path)).map_or(0, |m| m.len())
        })
        .sum();
    if !database.exists() {
        return Ok(Info {
            database: database.display().to_string(),
            exists: false,
            bytes: 0,
            schema_version: None,
            roots: Vec::new(),
        });
    }
    let connection = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    schema::harden(&connection)?;
    let (schema_version, roots) = schema::describe(&connection)?;
    Ok(Info {
        database: database.display().to_string(),
        exists: true,
        bytes,
        schema_version,
        roots,
    })
}

/// How long an eviction waits for the reader connections in use to come back.
const SHRINK_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// The bytes SQLite holds in this process, every connection's page cache and statements
/// together (its own allocator's count, not the Rust heap's).
pub(crate) fn sqlite_memory_used() -> u64 {
    // SAFETY: a read of SQLite's global statistics; thread-safe in its default mode.
    let used = unsafe { rusqlite::ffi::sqlite3_memory_used() };
    u64::try_from(used).unwrap_or(0)
}

/// The index as a run uses it: the entries loaded at the start, the writer that stores what
/// the run parses, and the counters of `runtime.cache`. Shared by the parse workers.
pub(crate) struct Cache {
    session: Session,
    writer: Writer,
    analyze: bool,
    /// Serve whole records with their findings (`watch`), not the findings alone.
    whole: bool,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.session.fmt(f)
    }
}

/// The row of a file a run parsed (only `ok` and `syntax_error` records: failures and
/// timeouts are conditions of the run, not facts of the file), its findings apart.
fn entry_message(stat: Stat, checked_ns: i64, record: &mut FileRecord) -> Option<writer::Message> {
    if !matches!(record.status, Status::Ok | Status::SyntaxError) {
        return None;
    }
    let hash = record.hash.clone()?;
    let analysis = record.analysis.take();
    let encoded = stored::encode(&*record);
    let findings = analysis.as_deref().map(stored::encode).transpose();
    record.analysis = analysis;
    Some(writer::Message::Entry {
        path: record.path.clone(),
        stat,
        hash,
        checked_ns,
        status: record.status,
        lines: record.lines,
        record: encoded.ok()?,
        findings: findings.ok()?,
    })
}

/// A run scope's project phase as stored: the states of the files it resolved and the removal
/// of those that left the scope (of `before`, the paths stored until now); an interrupted phase
/// drops the scope instead.
fn scope_message<'a>(
    scope: &str,
    repository: &Repository,
    states: Vec<Option<Vec<u8>>>,
    before: impl Iterator<Item = &'a String>,
) -> Option<writer::Message> {
    if repository.unresolved_files() > 0 {
        return Some(writer::Message::DropScope {
            scope: scope.to_string(),
        });
    }
    let projects = stored::encode(&repository.projects()).ok()?;
    let states = repository
        .files()
        .iter()
        .zip(states)
        .filter_map(|(file, state)| Some((file.path.clone(), file.hash.clone()?, state?)))
        .collect();
    let present: HashSet<&str> = repository.files().iter().map(|f| f.path.as_str()).collect();
    let removed = before
        .filter(|path| !present.contains(path.as_str()))
        .cloned()
        .collect();
    Some(writer::Message::Scope {
        scope: scope.to_string(),
        projects,
        states,
        removed,
    })
}

/// The index as `watch` keeps it current: one transaction per update, written by a thread of
/// its own so the update's event never waits for the disk.
pub(crate) struct LiveIndex {
    writer: Writer,
    location: Location,
}

impl LiveIndex {
    pub(crate) fn location(&self) -> &Location {
        &self.location
    }

    /// Stores one update: the records parsed (each with the stat taken before it was read),
    /// the files gone, and the scope's new phase (`before`: the states stored until now).
    pub(crate) fn update<'a>(
        &self,
        parsed: &mut [(Stat, FileRecord)],
        gone: &[String],
        scope: &str,
        repository: &Repository,
        states: Vec<Option<Vec<u8>>>,
        before: impl Iterator<Item = &'a String>,
    ) {
        let checked_ns = now_ns();
        let mut messages: Vec<writer::Message> = parsed
            .iter_mut()
            .filter_map(|(stat, record)| entry_message(*stat, checked_ns, record))
            .collect();
        messages.extend(
            gone.iter()
                .map(|path| writer::Message::Forget { path: path.clone() }),
        );
        messages.extend(scope_message(scope, repository, states, before));
        self.writer.send(writer::Message::Update(messages));
    }

    /// Marks stored files checked again (their stat unchanged since they were stored), so a
    /// later run trusts the stat alone once the racy margin has passed.
    pub(crate) fn touch(&self, files: &[(String, Stat)]) {
        let checked_ns = now_ns();
        let messages = files
            .iter()
            .map(|(path, stat)| writer::Message::Touch {
                path: path.clone(),
                stat: *stat,
                checked_ns,
            })
            .collect();
        self.writer.send(writer::Message::Update(messages));
    }

    /// Waits until everything sent so far is committed; the first write error, if any.
    pub(crate) fn sync(&self) {
        let (reply, done) = crossbeam_channel::bounded(1);
        self.writer.send(writer::Message::Sync(reply));
        let _ = done.recv();
    }

    /// Stops the writer after everything sent; its first error, for a warning.
    pub(crate) fn finish(&self) -> Option<String> {
        self.writer.stop(None).error
    }
}

/// What a look at the index decided for one file, from its stat alone.
pub(crate) enum Lookup {
    /// Unchanged: here is its stored result.
    Served(Box<FileRecord>),
    /// Its stat changed: serve it only if its content hash is the stored one ([`Cache::by_hash`]).
    CompareHash,
    /// New, without an entry for this run, or its entry does not decode: parse it.
    Parse,
}

impl Cache {
    /// Opens the index for a run; `analyze` with the fingerprint of its rule selection.
    pub(crate) fn open(
        location: Location,
        root: &Path,
        config: String,
        rules: Option<String>,
    ) -> Result<Cache, IndexError> {
        let analyze = rules.is_some();
        let session = Session::open(location, root, config, rules)?;
        let writer = Writer::start(session.target());
        Ok(Cache {
            session,
            writer,
            analyze,
            whole: false,
        })
    }

    /// A run that keeps the records (`watch`): a stored file is served whole, with its
    /// findings when rules run.
    /// The database file this run reads and writes.
    pub(crate) fn database(&self) -> &Path {
        &self.session.location().database
    }

    /// The idle readers' page caches given back ([`Session::release_memory`]).
    pub(crate) fn release_memory(&self) -> (u64, u64) {
        self.session.release_memory()
    }

    /// Caps each reader's page cache ([`Session::limit_page_cache`]).
    pub(crate) fn limit_page_cache(&self, bytes: u64) {
        self.session.limit_page_cache(bytes);
    }

    pub(crate) fn serving_whole_records(mut self) -> Cache {
        self.whole = true;
        self
    }

    /// A writer of its own for a long-lived run (`watch`), which keeps writing after this
    /// run's [`Cache::finish`].
    pub(crate) fn live(&self) -> LiveIndex {
        LiveIndex {
            writer: Writer::start(self.session.target()),
            location: self.session.location().clone(),
        }
    }

    fn count(&self, counter: &std::sync::atomic::AtomicU64) {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// What the index holds for `path`, judged by its stat.
    pub(crate) fn lookup(&self, path: &str, stat: Stat) -> Lookup {
        let Some(entry) = self.session.entry(path) else {
            return Lookup::Parse;
        };
        if !entry.clean_by_stat(stat) {
            return Lookup::CompareHash;
        }
        match self.stored(path, entry) {
            Some(record) => {
                self.count(&self.session.counters.unchanged);
                Lookup::Served(Box::new(record))
            }
            None => Lookup::Parse,
        }
    }

    /// The stored result of `path` when its content hash is the stored one; the row is
    /// refreshed with the new stat so the next run needs no hash.
    pub(crate) fn by_hash(
        &self,
        path: &str,
        stat: Stat,
        hash: &str,
        checked_ns: i64,
    ) -> Option<FileRecord> {
        let entry = self.session.entry(path)?;
        if entry.hash != hash {
            return None;
        }
        let record = self.stored(path, entry)?;
        self.count(&self.session.counters.rehashed);
        self.writer.send(writer::Message::Touch {
            path: path.to_string(),
            stat,
            checked_ns,
        });
        Some(record)
    }

    /// The LazyLoader: `parse` decodes the whole record; `analyze` needs only the findings and
    /// the status, so it decodes the findings and nothing else.
    fn stored(&self, path: &str, entry: &Entry) -> Option<FileRecord> {
        if !self.analyze {
            return self
                .session
                .record(path)
                .filter(|record| record.path == path);
        }
        if !self.session.has_findings(path) {
            return None;
        }
        let mut findings = self.session.findings(path)?;
        // Rule timings are what this run spent: nothing, for a stored file.
        findings.rule_nanos.clear();
        if self.whole
            || crate::model::FileRole::for_path(path) == crate::model::FileRole::MixProject
        {
            // A `mix.exs` whole: the run's Mix projects (a finding's `project`) come from it.
            let mut record = self
                .session
                .record(path)
                .filter(|record| record.path == path)?;
            record.analysis = Some(Box::new(findings));
            return Some(record);
        }
        Some(FileRecord {
            path: path.to_string(),
            status: entry.status,
            reason: None,
            message: None,
            bytes: entry.stat.size,
            lines: entry.lines,
            hash: Some(entry.hash.clone()),
            role: crate::model::FileRole::for_path(path),
            project: None,
            errors: Vec::new(),
            errors_truncated: None,
            modules: Vec::new(),
            calls: Vec::new(),
            analysis: Some(Box::new(findings)),
            mix_project: None,
        })
    }

    /// Stores what a run parsed (only `ok` and `syntax_error` records: failures and timeouts
    /// are conditions of the run, not facts of the file).
    pub(crate) fn store(&self, stat: Stat, checked_ns: i64, record: &mut FileRecord) {
        self.count(&self.session.counters.parsed);
        if let Some(message) = entry_message(stat, checked_ns, record) {
            self.writer.send(message);
        }
    }

    /// Drops the rows of stored files this run did not see and that no longer exist (files
    /// outside this run's paths keep theirs).
    pub(crate) fn forget_vanished(&self, root: &Path, seen: &HashSet<&str>) {
        for path in self.session.stored_paths() {
            // A path from the index is looked at only when it is a plain relative path: a
            // hostile index cannot make the run touch anything outside the root.
            let plain = Path::new(path)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if plain && !seen.contains(path) && fs::symlink_metadata(root.join(path)).is_err() {
                self.count(&self.session.counters.removed);
                self.writer.send(writer::Message::Forget {
                    path: path.to_string(),
                });
            }
        }
    }

    /// The project phase last stored for this run scope (the run's paths and discovery options).
    pub(crate) fn previous(&self, scope: &str) -> Option<Previous> {
        self.session.scope(scope)
    }

    /// Stores a run scope's project phase: the states of the files this phase resolved, and
    /// the removal of those that left the scope. An interrupted phase drops the scope instead.
    pub(crate) fn store_scope(
        &self,
        scope: &str,
        outcome: &mut Outcome,
        previous: Option<&Previous>,
    ) {
        use std::sync::atomic::Ordering::Relaxed;
        self.session
            .counters
            .re_resolved
            .store(outcome.re_resolved() as u64, Relaxed);
        if let Some(message) = scope_message(
            scope,
            &outcome.repository,
            std::mem::take(&mut outcome.states),
            previous.iter().flat_map(|p| p.files.keys()),
        ) {
            self.writer.send(message);
        }
    }

    /// Waits for the writer and reports what the index did, with the run's warnings about it.
    pub(crate) fn finish(&self) -> (CacheRuntime, Vec<String>) {
        use std::sync::atomic::Ordering::Relaxed;
        let counters = &self.session.counters;
        let unchanged = counters.unchanged.load(Relaxed);
        let rehashed = counters.rehashed.load(Relaxed);
        let parsed = counters.parsed.load(Relaxed);
        let stats = self.writer.finish(unchanged + rehashed, parsed);
        let mut warnings = self.session.take_warnings();
        if let Some(error) = stats.error {
            warnings.push(format!(
                "cannot write the index {} ({error}); the rest of this run's results were not stored",
                self.session.location().database.display()
            ));
        }
        let runtime = CacheRuntime {
            database: self.session.location().database.display().to_string(),
            unchanged,
            rehashed,
            parsed,
            stored: stats.stored,
            removed: counters.removed.load(Relaxed),
            bad_entries: counters.bad_entries.load(Relaxed),
            re_resolved: counters.re_resolved.load(Relaxed),
        };
        (runtime, warnings)
    }
}

#[cfg(test)]
mod memory_tests {
    use super::*;

    #[test]
    fn the_readers_page_caches_are_given_back() {
        let folder = tempfile::tempdir().unwrap();
        let location = Location::of(
            &CacheSetting::Folder(folder.path().to_path_buf()),
            folder.path(),
        )
        .unwrap();
        let session = Session::open(location, folder.path(), "c".into(), None).unwrap();
        // Opening read the schema and the root's entries through the pooled reader.
        let (bytes, connections) = session.release_memory();
        assert_eq!(connections, 1);
        assert!(bytes > 0, "nothing given back");
        // Nothing left to give.
        assert_eq!(session.release_memory().0, 0);
        session.limit_page_cache(1 << 20);
    }
}
