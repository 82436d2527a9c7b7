//! `elixirscope watch`'s events ([7]): one JSON object per line, its `type` first among equals
//! (`schema/watch.schema.json`, generated from these types and checked by a test).

use schemars::JsonSchema;
use serde::Serialize;

use crate::model::ChildRuntime;
use crate::subsystems::synchronization::incremental_updater::Update;

/// Version of the events' shape.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// What the repository holds: the summary of `ready` and `stopped`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Summary {
    pub(crate) files: usize,
    pub(crate) modules: usize,
    pub(crate) functions: usize,
    pub(crate) findings: usize,
}

/// One event of a watch session.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum WatchEvent {
    /// Every watch is in place: a change made after this event is seen.
    Ready {
        schema_version: u32,
        /// Absolute path of the root; every path of later events is relative to it.
        root: String,
        summary: Summary,
        /// Directories watched.
        directories: usize,
        /// Whether the file system is polled instead of its events used.
        polling: bool,
        /// Files the index served unchanged; the others were parsed.
        from_index: u64,
        /// From the start of the command to this event.
        elapsed_ms: u64,
    },
    /// What one settled batch of changes changed.
    Update {
        #[serde(flatten)]
        update: Box<Update>,
        /// From the settled batch to this event.
        elapsed_ms: u64,
    },
    /// Something the session goes on without (a directory not watched, polling instead).
    Warning { message: String },
    /// A service of the Synchronization subsystem failed and was started again (with those
    /// after it, rest_for_one); a rescan follows, so no change is missed.
    Restarted {
        /// `file_watcher`, `synchronizer` or `incremental_updater`.
        service: String,
        /// Why it failed.
        reason: String,
    },
    /// The index and its query tables hold the live state: `query` in another terminal
    /// answers from them. Written once the tree has been quiet for a moment.
    Indexed {
        /// Building and storing the query tables.
        elapsed_ms: u64,
    },
    /// The session ended (Ctrl-C, SIGTERM, `--max-updates`).
    Stopped {
        summary: Summary,
        /// Updates emitted.
        updates: u64,
        /// The supervision tree's children, with their restarts and failures.
        supervision: Vec<ChildRuntime>,
    },
}

/// The generated JSON Schema, as committed in `schema/watch.schema.json`.
#[cfg(test)]
fn schema_json() -> String {
    crate::model::schema_file::text(&schemars::schema_for!(WatchEvent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_schema_is_current() {
        crate::model::schema_file::assert_current("watch.schema.json", &schema_json());
    }
}
