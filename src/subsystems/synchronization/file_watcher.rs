//! Synchronization.FileWatcher: the file system's events for the directories discovery enters
//! (never `deps/`, `_build/`, `node_modules/` or ignored folders: recursive watches there
//! exhaust inotify's limits and slow the start), each watched on its own, not recursively.
//!
//! notify's recommended watcher (inotify, FSEvents, ...) is used when it works. It falls back by
//! itself, with one warning, to notify's polling watcher when the native one cannot start, when
//! the watch limit is reached, or when a start-up probe (a file written in the cache folder)
//! produces no event: some container and VM mounts deliver none. `poll` forces polling.
//! Events go through notify's debouncer (one window, the `--debounce-ms`); the Synchronizer
//! reads the settled batches.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::{select, Receiver};

use super::{lock, Context, Input, Note};
use crate::faults;
use crate::otp::{ChildContext, ChildError, Health};
use notify::{PollWatcher, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{
    new_debouncer_opt, Config, DebounceEventResult, Debouncer, NoCache, RecommendedCache,
};

/// How long the start-up probe waits for its own event before polling instead.
const PROBE_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub(crate) struct WatchOptions {
    /// The debounce window: the debouncer's own timeout.
    pub(crate) debounce: Duration,
    /// Poll instead of native events (`--poll`).
    pub(crate) poll: bool,
    /// The polling period (`--poll-interval`).
    pub(crate) poll_interval: Duration,
    /// Where the start-up probe writes its file (the cache folder); no probe without one.
    pub(crate) probe_folder: Option<PathBuf>,
}

enum Backend {
    Native(Debouncer<RecommendedWatcher, RecommendedCache>),
    Polling(Debouncer<PollWatcher, NoCache>),
}

impl Backend {
    fn watch(&mut self, path: &Path) -> notify::Result<()> {
        match self {
            Backend::Native(d) => d.watch(path, RecursiveMode::NonRecursive),
            Backend::Polling(d) => d.watch(path, RecursiveMode::NonRecursive),
        }
    }

    fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
        match self {
            Backend::Native(d) => d.unwatch(path),
            Backend::Polling(d) => d.unwatch(path),
        }
    }
}

/// The running watcher: its backend and the directories it watches.
pub(crate) struct FileWatcher {
    backend: Backend,
    watched: BTreeSet<PathBuf>,
    /// Said once: why the watcher polls, a directory it could not watch.
    pub(crate) warnings: Vec<String>,
}

/// What the watcher gives: settled batches of events (or of errors).
pub(crate) type Batches = Receiver<DebounceEventResult>;

fn native(options: &WatchOptions) -> notify::Result<(Backend, Batches)> {
    let (sender, receiver) = crossbeam_channel::unbounded();
    let debouncer = new_debouncer_opt::<_, RecommendedWatcher, RecommendedCache>(
        Config::default().with_timeout(options.debounce),
        sender,
        RecommendedCache::new(),
    )?;
    Ok((Backend::Native(debouncer), receiver))
}

fn polling(options: &WatchOptions) -> notify::Result<(Backend, Batches)> {
    let (sender, receiver) = crossbeam_channel::unbounded();
    let config = Config::default()
        .with_timeout(options.debounce)
        .with_notify_config(
            notify::Config::default()
                .with_poll_interval(options.poll_interval)
                .with_event_kinds(notify::EventKindMask::CORE),
        );
    let debouncer = new_debouncer_opt::<_, PollWatcher, NoCache>(config, sender, NoCache)?;
    Ok((Backend::Polling(debouncer), receiver))
}

/// Whether native events arrive: a file written in `folder` must produce one.
fn probe(backend: &mut Backend, batches: &Batches, folder: &Path) -> bool {
    if std::fs::create_dir_all(folder).is_err() || backend.watch(folder).is_err() {
        return false;
    }
    let file = folder.join(format!("watch-probe-{}", std::process::id()));
    let written = std::fs::write(&file, b"probe").is_ok();
    let deadline = Instant::now() + PROBE_WAIT;
    let mut seen = false;
    while written && !seen {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        match batches.recv_timeout(left) {
            Ok(Ok(events)) => {
                seen = events
                    .iter()
                    .any(|e| e.paths.iter().any(|p| p.file_name() == file.file_name()))
            }
            Ok(Err(_)) => {}
            Err(_) => break,
        }
    }
    let _ = backend.unwatch(folder);
    let _ = std::fs::remove_file(&file);
    // What the probe left queued is not the project's.
    while batches.try_recv().is_ok() {}
    seen
}

impl FileWatcher {
    /// Starts watching `directories`. Every watch is in place when this returns, so a change
    /// made after it is never missed.
    pub(crate) fn start(
        directories: &[PathBuf],
        options: &WatchOptions,
    ) -> notify::Result<(FileWatcher, Batches)> {
        let mut warnings = Vec::new();
        let (mut backend, mut batches) = if options.poll {
            polling(options)?
        } else {
            match native(options) {
                Ok(started) => started,
                Err(err) => {
                    warnings.push(format!(
                        "native file events are unavailable ({err}); polling every {} ms",
                        options.poll_interval.as_millis()
                    ));
                    polling(options)?
                }
            }
        };
        if let (Backend::Native(_), Some(folder)) = (&backend, &options.probe_folder) {
            if !probe(&mut backend, &batches, folder) {
                warnings.push(format!(
                    "no file event arrived for a file written in {} (some container and VM \
                     mounts deliver none); polling every {} ms",
                    folder.display(),
                    options.poll_interval.as_millis()
                ));
                (backend, batches) = polling(options)?;
            }
        }
        let mut watcher = FileWatcher {
            backend,
            watched: BTreeSet::new(),
            warnings,
        };
        if let Err(limit) = watcher.watch_all(directories) {
            // The watch limit: every watch again, polled.
            watcher.warnings.push(format!(
                "the file watch limit is reached ({limit}); polling every {} ms",
                options.poll_interval.as_millis()
            ));
            let (backend, polled) = polling(options)?;
            watcher.backend = backend;
            watcher.watched.clear();
            batches = polled;
            let _ = watcher.watch_all(directories);
        }
        Ok((watcher, batches))
    }

    /// Watches each directory; one that cannot be watched (permissions, gone) is a warning and
    /// the rest is still watched. `Err` only when the system's watch limit is reached.
    fn watch_all(&mut self, directories: &[PathBuf]) -> Result<(), notify::Error> {
        for directory in directories {
            if self.watched.contains(directory) {
                continue;
            }
            match self.backend.watch(directory) {
                Ok(()) => {
                    self.watched.insert(directory.clone());
                }
                Err(err) if matches!(err.kind, notify::ErrorKind::MaxFilesWatch) => {
                    return Err(err)
                }
                Err(err) => self.warnings.push(format!(
                    "cannot watch {}: {err}; its changes are not seen",
                    directory.display()
                )),
            }
        }
        Ok(())
    }

    /// Brings the watches to `directories` (after a rescan: new directories watched, removed
    /// ones dropped) and returns what the new ones hold (files and directories), listed once
    /// their watch is in place: an entry created before its directory's watch has no event.
    pub(crate) fn update(&mut self, directories: &[PathBuf]) -> Vec<PathBuf> {
        let wanted: BTreeSet<&PathBuf> = directories.iter().collect();
        let gone: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|d| !wanted.contains(d))
            .cloned()
            .collect();
        for directory in gone {
            let _ = self.backend.unwatch(&directory);
            self.watched.remove(&directory);
        }
        let new: Vec<PathBuf> = directories
            .iter()
            .filter(|d| !self.watched.contains(*d))
            .cloned()
            .collect();
        if let Err(err) = self.watch_all(&new) {
            self.warnings.push(format!(
                "the file watch limit is reached ({err}); new directories are not watched"
            ));
        }
        let mut held = Vec::new();
        for directory in new.iter().filter(|d| self.watched.contains(*d)) {
            if let Ok(entries) = std::fs::read_dir(directory) {
                held.extend(entries.filter_map(Result::ok).map(|e| e.path()));
            }
        }
        held.sort();
        held
    }

    pub(crate) fn polling(&self) -> bool {
        matches!(self.backend, Backend::Polling(_))
    }

    pub(crate) fn watched(&self) -> usize {
        self.watched.len()
    }
}

/// The FileWatcher's body (permanent): watches the tree's directories, sends each settled
/// batch to the Synchronizer and watches the directories it finds new, until stopped. Every
/// start ends with a rescan: what changed while no watch was in place is found.
pub(crate) fn serve(sync: &Context, context: &ChildContext) -> Result<(), ChildError> {
    const ID: &str = "file_watcher";
    sync.started(ID);
    let directories = lock(&sync.directories).clone();
    let (mut watcher, batches) = FileWatcher::start(&directories, &sync.settings.watch)
        .map_err(|err| ChildError::new(format!("cannot watch the tree: {err}")))?;
    for warning in watcher.warnings.drain(..) {
        sync.warn(warning);
    }
    sync.note(Note::Watching {
        directories: watcher.watched(),
        polling: watcher.polling(),
    });
    sync.send_input(Input::Rescan);
    context.report_health(Health::Healthy);
    loop {
        select! {
            recv(batches) -> batch => {
                let Ok(batch) = batch else {
                    return Err(ChildError::new("the file watcher stopped sending events"));
                };
                // An injected crash loses this batch: the restart's rescan must find it.
                faults::crash_service_once(ID);
                sync.send_input(Input::Batch(batch));
            }
            recv(sync.requests()) -> request => {
                let Ok(request) = request else { continue };
                let files = watcher.update(&request.directories);
                for warning in watcher.warnings.drain(..) {
                    sync.warn(warning);
                }
                let _ = request.reply.send(files);
            }
            recv(context.stop_signal()) -> _ => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subsystems::synchronization::synchronizer::{settle, ChangeSet};

    fn options(poll: bool, probe: Option<PathBuf>) -> WatchOptions {
        WatchOptions {
            debounce: Duration::from_millis(50),
            poll,
            poll_interval: Duration::from_millis(100),
            probe_folder: probe,
        }
    }

    /// Reads settled batches until every path of `expected` was seen (and, with `scan`,
    /// watches the new directories and scans them), or a generous deadline passes.
    fn collect(
        watcher: &mut FileWatcher,
        batches: &Batches,
        root: &Path,
        expected: &BTreeSet<PathBuf>,
    ) -> (BTreeSet<PathBuf>, Vec<ChangeSet>) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = BTreeSet::new();
        let mut sets = Vec::new();
        while !expected.is_subset(&seen) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            let Ok(batch) = batches.recv_timeout(left) else {
                break;
            };
            let set = settle(batch);
            if set.rescan || set.directories {
                let directories = crate::discover::discover(
                    &[root.to_path_buf()],
                    &crate::discover::DiscoverOptions::default(),
                )
                .unwrap()
                .directories;
                seen.extend(watcher.update(&directories));
            }
            seen.extend(set.paths.iter().cloned());
            sets.push(set);
        }
        (seen, sets)
    }

    fn exercise(poll: bool) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let lib = root.join("lib");
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::write(root.join("mix.exs"), "defmodule P.MixProject do\nend\n").unwrap();
        for name in ["a", "b", "c"] {
            std::fs::write(
                lib.join(format!("{name}.ex")),
                format!("defmodule {name} do\nend\n"),
            )
            .unwrap();
        }
        let directories = crate::discover::discover(
            std::slice::from_ref(&root),
            &crate::discover::DiscoverOptions::default(),
        )
        .unwrap()
        .directories;
        let probe = (!poll).then(|| root.join(".elixirscope"));
        let (mut watcher, batches) =
            FileWatcher::start(&directories, &options(poll, probe)).unwrap();
        assert_eq!(watcher.polling(), poll, "{:?}", watcher.warnings);
        assert_eq!(watcher.watched(), 2);
        // Every kind of change, after the watches are in place.
        std::fs::write(lib.join("a.ex"), "defmodule A do\n  def f, do: 1\nend\n").unwrap();
        std::fs::remove_file(lib.join("b.ex")).unwrap();
        std::fs::rename(lib.join("c.ex"), lib.join("renamed.ex")).unwrap();
        // An editor's atomic save: a temporary file renamed over the target.
        std::fs::write(
            lib.join(".a.ex.swp"),
            "defmodule A do\n  def g, do: 2\nend\n",
        )
        .unwrap();
        std::fs::rename(lib.join(".a.ex.swp"), lib.join("a.ex")).unwrap();
        // A new directory with files written into it at once, and a burst.
        let fresh = lib.join("fresh");
        std::fs::create_dir(&fresh).unwrap();
        std::fs::write(fresh.join("x.ex"), "defmodule X do\nend\n").unwrap();
        let mut expected: BTreeSet<PathBuf> = [
            lib.join("a.ex"),
            lib.join("b.ex"),
            lib.join("c.ex"),
            lib.join("renamed.ex"),
            fresh.join("x.ex"),
        ]
        .into_iter()
        .collect();
        for n in 0..300 {
            let path = lib.join(format!("burst_{n}.ex"));
            std::fs::write(&path, format!("defmodule B{n} do\nend\n")).unwrap();
            expected.insert(path);
        }
        let (seen, sets) = collect(&mut watcher, &batches, &root, &expected);
        let missing: Vec<&PathBuf> = expected.difference(&seen).collect();
        assert!(
            missing.is_empty(),
            "missing {missing:?} after {} batches",
            sets.len()
        );
        // Settled, not one batch per event.
        assert!(sets.len() < 100, "{} batches", sets.len());
        assert_eq!(watcher.watched(), 3);
    }

    #[test]
    fn native_events_of_every_kind_arrive_settled() {
        exercise(false);
    }

    #[test]
    fn polling_sees_the_same_changes() {
        exercise(true);
    }

    #[test]
    fn a_directory_that_cannot_be_watched_is_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let missing = root.join("gone");
        let (watcher, _batches) =
            FileWatcher::start(&[root.clone(), missing], &options(false, None)).unwrap();
        assert_eq!(watcher.watched(), 1);
        assert!(
            watcher.warnings.iter().any(|w| w.contains("cannot watch")),
            "{:?}",
            watcher.warnings
        );
    }
}
