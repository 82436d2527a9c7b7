//! The Synchronization subsystem (design: `ElixirScope.AST.Synchronization.Supervisor`,
//! rest_for_one: FileWatcher → Synchronizer → IncrementalUpdater), issue [7].
//!
//! Built so far, as libraries with their tests: the FileWatcher (notify's recommended watcher
//! over the directories discovery enters, notify's polling watcher as the fallback, new
//! directories watched then scanned), the Synchronizer (one debounce window, notify's own
//! debouncer; each settled batch becomes a change set) and the IncrementalUpdater's live
//! repository (the incremental phase in memory, and what each update changed). The first
//! version of `watch` runs them on its own thread; running them as services under the
//! supervisor comes next.

pub(crate) mod file_watcher;
pub(crate) mod incremental_updater;
pub(crate) mod synchronizer;
