//! Where a run under critical memory pressure puts its records (the MemoryManager's
//! PressureHandler, [5b]): a database of its own, beside the index when the run has one and in
//! the system's temporary folder otherwise, deleted when the run ends. Each record is stored
//! once parsed (as extracted) and again once the project phase resolved it; the run keeps only
//! the module table in memory, and the report reads each record back as it writes it.
//!
//! Not the index's own `files` table: the index is written by its writer thread, out of order
//! with the run, and holds only the files it can serve again (not failures, not `--no-cache`
//! runs); the spill is read back within the run, so it is written in place, synchronously.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use crate::model::{stored, FileRecord, SpilledRecords};

pub(crate) struct SpillStore {
    connection: Mutex<Connection>,
    /// Which of the batch's records are here.
    spilled: Vec<AtomicBool>,
    bytes: AtomicU64,
    /// Deleted with the store.
    _folder: tempfile::TempDir,
}

impl std::fmt::Debug for SpillStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpillStore").finish_non_exhaustive()
    }
}

impl SpillStore {
    /// A new store for a batch of `files` records, in `near` (the index's folder) when given
    /// and writable, else in the system's temporary folder.
    pub(crate) fn create(near: Option<&Path>, files: usize) -> std::io::Result<SpillStore> {
        let folder = near
            .and_then(|near| {
                tempfile::Builder::new()
                    .prefix(".spill-")
                    .tempdir_in(near)
                    .ok()
            })
            .map_or_else(
                || {
                    tempfile::Builder::new()
                        .prefix("elixirscope-spill-")
                        .tempdir()
                },
                Ok,
            )?;
        let database = folder.path().join("spill.db");
        let connection = Connection::open(&database).map_err(std::io::Error::other)?;
        // Read back within the run only: no journal, no syncing.
        connection
            .execute_batch(
                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; \
                 PRAGMA cache_size = -1024; \
                 CREATE TABLE records (position INTEGER PRIMARY KEY, record BLOB NOT NULL);",
            )
            .map_err(std::io::Error::other)?;
        Ok(SpillStore {
            connection: Mutex::new(connection),
            spilled: (0..files).map(|_| AtomicBool::new(false)).collect(),
            bytes: AtomicU64::new(0),
            _folder: folder,
        })
    }

    /// Stores the record at `position` of the batch (again: replaces it).
    pub(crate) fn put(&self, position: usize, record: &FileRecord) -> Result<(), String> {
        let blob = stored::encode(record).map_err(|e| e.to_string())?;
        self.bytes.fetch_add(blob.len() as u64, Ordering::Relaxed);
        let connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let stored = connection.execute(
            "INSERT OR REPLACE INTO records (position, record) VALUES (?1, ?2)",
            params![position as i64, blob],
        );
        drop(connection);
        // A record that could not be stored is not here: the one in memory stands.
        if let Some(flag) = self.spilled.get(position) {
            flag.store(stored.is_ok(), Ordering::Release);
        }
        stored.map(|_| ()).map_err(|e| e.to_string())
    }

    /// Whether the record at `position` is here.
    pub(crate) fn holds(&self, position: usize) -> bool {
        self.spilled
            .get(position)
            .is_some_and(|flag| flag.load(Ordering::Acquire))
    }

    /// The bytes written so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// A spill folder this old belongs to no run still going: one killed (SIGKILL, power loss)
/// before it could delete it.
pub(crate) const STALE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Removes the spill folders in `folder` (the index's) last changed more than `older_than`
/// ago; how many went.
pub(crate) fn remove_stale(folder: &Path, older_than: std::time::Duration) -> u64 {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(".spill-"))
        .filter(|entry| {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age > older_than)
        })
        .filter(|entry| std::fs::remove_dir_all(entry.path()).is_ok())
        .count() as u64
}

impl SpilledRecords for SpillStore {
    fn full(&self, position: usize) -> Option<FileRecord> {
        if !self.holds(position) {
            return None;
        }
        let connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let blob: Vec<u8> = connection
            .query_row(
                "SELECT record FROM records WHERE position = ?1",
                [position as i64],
                |row| row.get(0),
            )
            .optional()
            .ok()??;
        drop(connection);
        stored::decode(&blob).ok()
    }

    fn replace(&self, position: usize, record: &FileRecord) -> Result<(), String> {
        self.put(position, record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_as_they_went_and_the_folder_goes_with_the_store() {
        let mut record = FileRecord::unparsed(
            "lib/a.ex".into(),
            crate::model::Status::Skipped,
            crate::model::Reason::Interrupted,
            Some("x".into()),
        );
        let store = SpillStore::create(None, 3).unwrap();
        let folder = store._folder.path().to_path_buf();
        store.put(1, &record).unwrap();
        assert!(!store.holds(0) && store.holds(1));
        assert_eq!(store.full(1).as_ref(), Some(&record));
        assert_eq!(store.full(0), None);
        record.lines = 7;
        store.put(1, &record).unwrap();
        assert_eq!(store.full(1).unwrap().lines, 7);
        assert!(store.bytes() > 0);
        drop(store);
        assert!(!folder.exists());
    }

    #[test]
    fn only_old_spill_folders_are_removed() {
        let folder = tempfile::tempdir().unwrap();
        let store = SpillStore::create(Some(folder.path()), 1).unwrap();
        std::fs::create_dir(folder.path().join("other")).unwrap();
        // Nothing is older than an hour yet.
        assert_eq!(
            remove_stale(folder.path(), std::time::Duration::from_secs(3600)),
            0
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Everything is older than 10 ms: the spill folder goes, the other stays.
        assert_eq!(
            remove_stale(folder.path(), std::time::Duration::from_millis(10)),
            1
        );
        assert!(folder.path().join("other").exists());
        drop(store);
    }
}
