//! `elixirscope watch`'s events ([7]): one JSON object per line, its `type` first among equals
//! (`schema/watch.schema.json`, generated from these types and checked by a test).

use schemars::JsonSchema;
use serde::Serialize;

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
    /// The session ended (Ctrl-C, SIGTERM, `--max-updates`).
    Stopped { summary: Summary },
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
