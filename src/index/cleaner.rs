//! What the MemoryManager's Cleaner ([5b]) does to an index, and `elixirscope cache clean`
//! does on demand: the entries nothing can serve again go, and the space they held is given
//! back to the file system.
//!
//! - A root whose folder is gone: its row, and with it (foreign keys, `ON DELETE CASCADE`)
//!   every entry, run scope, query table and answer of it.
//! - A file entry whose file is gone from a root that is still there: a run of that root
//!   removes such entries itself; a root not run since keeps them until now.
//! - The incremental vacuum (the index is created with `auto_vacuum = INCREMENTAL`), when free
//!   pages are at least a quarter of the file, a bounded number of pages a transaction so a
//!   concurrent `watch` waits at most one step for its write.
//!
//! Entries of another tool, grammar or schema version never reach this: opening the index
//! removes them (`schema::open`).

use std::path::Path;

use rusqlite::{params, Connection};
use serde::Serialize;

use super::schema;

/// Pages given back per transaction of the incremental vacuum.
const VACUUM_STEP: i64 = 2_048;

/// What a clean removed.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub(crate) struct Cleaned {
    pub(crate) database: String,
    /// Roots whose folder is gone, each with everything stored for it.
    pub(crate) roots_removed: Vec<String>,
    /// File entries (of the roots kept) whose file is gone.
    pub(crate) entries_removed: u64,
    /// Pages the incremental vacuum gave back.
    pub(crate) pages_freed: u64,
    /// Spill folders left by runs killed before they could delete them.
    pub(crate) spills_removed: u64,
    pub(crate) bytes_before: u64,
    pub(crate) bytes_after: u64,
}

fn size(database: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|suffix| {
            let mut path = database.as_os_str().to_owned();
            path.push(suffix);
            std::fs::metadata(std::path::PathBuf::from(path)).map_or(0, |m| m.len())
        })
        .sum()
}

/// How much a clean looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sweep {
    /// Every root's entries, each file checked (`cache clean`).
    Everything,
    /// The end of a run (the MemoryManager's Cleaner): the run removed its own root's
    /// vanished files already, so only gone roots and the vacuum, a few milliseconds.
    AfterRun,
}

/// Cleans the index at `database`; `None` when there is none.
pub(crate) fn clean(database: &Path) -> anyhow::Result<Option<Cleaned>> {
    sweep(database, Sweep::Everything)
}

/// Cleans the index at `database` as far as `sweep` says; `None` when there is none.
pub(crate) fn sweep(database: &Path, sweep: Sweep) -> anyhow::Result<Option<Cleaned>> {
    if !database.exists() {
        return Ok(None);
    }
    let bytes_before = size(database);
    let connection = match schema::open(database) {
        Ok(connection) => connection,
        Err(schema::OpenError::Unreadable(err)) => return Err(err.into()),
        // Another schema's index: nothing of it can be served; the next run rebuilds it.
        Err(schema::OpenError::Foreign(version)) => anyhow::bail!(
            "it has schema version {version}, not {}",
            super::SCHEMA_VERSION
        ),
    };
    let mut cleaned = Cleaned {
        database: database.display().to_string(),
        bytes_before,
        ..Cleaned::default()
    };
    let roots: Vec<(i64, String)> = connection
        .prepare("SELECT id, path FROM roots ORDER BY path")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, path) in roots {
        let root = Path::new(&path);
        if !root.is_dir() {
            connection.execute("DELETE FROM roots WHERE id = ?1", [id])?;
            cleaned.roots_removed.push(path);
            continue;
        }
        if sweep == Sweep::Everything {
            cleaned.entries_removed += remove_vanished(&connection, id, root)?;
        }
    }
    cleaned.pages_freed = vacuum(&connection)?;
    if let Some(folder) = database.parent() {
        cleaned.spills_removed = super::spill::remove_stale(folder, super::spill::STALE);
    }
    if sweep == Sweep::Everything || cleaned.pages_freed > 0 {
        let _ = connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
    drop(connection);
    cleaned.bytes_after = size(database);
    Ok(Some(cleaned))
}

/// Removes the entries of `root` whose file is no longer there.
fn remove_vanished(connection: &Connection, root_id: i64, root: &Path) -> rusqlite::Result<u64> {
    let entries: Vec<(String, String)> = connection
        .prepare("SELECT config, path FROM files WHERE root = ?1")?
        .query_map([root_id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let gone: Vec<&(String, String)> = entries
        .iter()
        .filter(|(_, path)| !root.join(path).exists())
        .collect();
    if gone.is_empty() {
        return Ok(0);
    }
    let transaction = connection.unchecked_transaction()?;
    {
        let mut delete = transaction
            .prepare("DELETE FROM files WHERE root = ?1 AND config = ?2 AND path = ?3")?;
        for (config, path) in &gone {
            delete.execute(params![root_id, config, path])?;
        }
    }
    transaction.commit()?;
    Ok(gone.len() as u64)
}

/// The incremental vacuum when a quarter of the pages or more are free; the pages freed.
fn vacuum(connection: &Connection) -> rusqlite::Result<u64> {
    let pragma = |name: &str| -> rusqlite::Result<i64> {
        connection.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
    };
    let pages = pragma("page_count")?;
    let free = pragma("freelist_count")?;
    if free == 0 || free * 4 < pages {
        return Ok(0);
    }
    if pragma("auto_vacuum")? == 0 {
        // An index made before it took auto-vacuum (schema 3 and earlier): one full VACUUM
        // gives the space back and makes it incremental from then on. A concurrent writer
        // waits for it (the busy timeout).
        connection.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        connection.execute_batch("VACUUM")?;
        return Ok(u64::try_from(free).unwrap_or(0));
    }
    let mut freed = 0;
    loop {
        let before = pragma("freelist_count")?;
        if before == 0 {
            break;
        }
        // Each statement is its own transaction: a concurrent writer waits one step at most.
        connection.execute_batch(&format!("PRAGMA incremental_vacuum({VACUUM_STEP})"))?;
        let after = pragma("freelist_count")?;
        if after >= before {
            break;
        }
        freed += before - after;
    }
    Ok(u64::try_from(freed).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index of one root that no longer exists, holding `blobs` entries of 64 KiB, made
    /// with or without auto-vacuum.
    fn index_of_a_gone_root(database: &Path, blobs: usize, auto_vacuum: bool) {
        let connection = schema::open(database).unwrap();
        if !auto_vacuum {
            connection
                .execute_batch("PRAGMA auto_vacuum = NONE; VACUUM;")
                .unwrap();
        }
        connection
            .execute(
                "INSERT INTO roots (id, path) VALUES (1, ?1)",
                [database.with_extension("gone").display().to_string()],
            )
            .unwrap();
        for n in 0..blobs {
            connection
                .execute(
                    "INSERT INTO files (root, config, path, size, mtime_ns, inode, hash,
                                        checked_ns, status, lines, record)
                     VALUES (1, 'c', ?1, 0, 0, 0, 'h', 0, 'ok', 0, zeroblob(65536))",
                    [format!("lib/f{n}.ex")],
                )
                .unwrap();
        }
    }

    #[test]
    fn a_gone_root_goes_and_its_space_is_given_back_with_or_without_auto_vacuum() {
        for auto_vacuum in [true, false] {
            let folder = tempfile::tempdir().unwrap();
            let database = folder.path().join("index.db");
            index_of_a_gone_root(&database, 64, auto_vacuum);
            let cleaned = clean(&database).unwrap().unwrap();
            assert_eq!(cleaned.roots_removed.len(), 1);
            assert!(
                cleaned.pages_freed > 0,
                "auto_vacuum {auto_vacuum}: {cleaned:?}"
            );
            assert!(
                cleaned.bytes_after * 4 < cleaned.bytes_before,
                "auto_vacuum {auto_vacuum}: {cleaned:?}"
            );
            let connection = Connection::open(&database).unwrap();
            let mode: i64 = connection
                .query_row("PRAGMA auto_vacuum", [], |row| row.get(0))
                .unwrap();
            assert_eq!(mode, 2, "incremental from then on");
            let files: i64 = connection
                .query_row("SELECT count(*) FROM files", [], |row| row.get(0))
                .unwrap();
            assert_eq!(files, 0, "the root's entries went with it");
        }
        assert!(clean(Path::new("/nonexistent/index.db")).unwrap().is_none());
    }
}
