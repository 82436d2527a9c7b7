//! The Synchronization subsystem (design: `ElixirScope.AST.Synchronization.Supervisor`,
//! rest_for_one: FileWatcher → Synchronizer → IncrementalUpdater), issue [7].
//!
//! Built so far: the FileWatcher (notify's recommended watcher over the directories discovery
//! enters, notify's polling watcher as the fallback, new directories watched then scanned) and
//! the Synchronizer (one debounce window, notify's own debouncer; each settled batch becomes a
//! change set). The IncrementalUpdater and the `watch` command that runs them come next.

pub(crate) mod file_watcher;
pub(crate) mod synchronizer;
