//! Synchronization.Synchronizer: each settled batch of events (one debounce window, notify's
//! debouncer's own timeout) becomes one change set. The debouncer has already coalesced
//! per path (a create then modifies is one create, a rename's two halves one rename, a removed
//! directory one event); what remains is to say which paths to look at again and whether the
//! tree's shape changed. The IncrementalUpdater decides each path by what is there when it
//! reads it: a file that vanished between the event and the read is a removal, an editor's
//! atomic save (a temporary file renamed over the target) a change of the target.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crossbeam_channel::select;
use rayon::prelude::*;

use super::{lock, Change, Context, Input};
use crate::discover::{Discovery, Entry, EntryKind};
use crate::faults;
use crate::index::Stat;
use crate::otp::{ChildContext, ChildError, Health};

use notify::event::{CreateKind, EventKind, ModifyKind, RemoveKind, RenameMode};
use notify_debouncer_full::DebounceEventResult;

/// What one settled batch asks the IncrementalUpdater to do.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ChangeSet {
    /// Every file path an event named (absolute): created, changed, removed, renamed from or
    /// to. Which of them are Elixir files of the tree is decided on reading.
    pub(crate) paths: BTreeSet<PathBuf>,
    /// A directory appeared or went, or a `.gitignore` changed: discovery runs again, new
    /// directories are watched and scanned.
    pub(crate) directories: bool,
    /// A `mix.exs` changed: the Mix projects are recomputed.
    pub(crate) projects: bool,
    /// The watcher lost events (a queue overflow, a rescan notice, an error): everything is
    /// compared with the index again.
    pub(crate) rescan: bool,
    /// The watcher's errors, said once each.
    pub(crate) errors: Vec<String>,
}

/// The change set of one settled batch.
pub(crate) fn settle(batch: DebounceEventResult) -> ChangeSet {
    let mut set = ChangeSet::default();
    let events = match batch {
        Ok(events) => events,
        Err(errors) => {
            set.rescan = true;
            for error in errors {
                let message = error.to_string();
                if !set.errors.contains(&message) {
                    set.errors.push(message);
                }
            }
            return set;
        }
    };
    for event in events {
        if event.need_rescan() {
            set.rescan = true;
        }
        let folder = matches!(
            event.kind,
            EventKind::Create(CreateKind::Folder) | EventKind::Remove(RemoveKind::Folder)
        );
        let renamed = matches!(
            event.kind,
            EventKind::Modify(ModifyKind::Name(
                RenameMode::Both | RenameMode::From | RenameMode::To
            ))
        );
        for path in &event.paths {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if folder || (renamed && path.is_dir()) || name == ".gitignore" {
                set.directories = true;
            }
            if name == "mix.exs" {
                set.projects = true;
            }
            if !folder && !path.is_dir() {
                set.paths.insert(path.clone());
            }
        }
        if matches!(event.kind, EventKind::Create(CreateKind::Any))
            && event.paths.iter().any(|p| p.is_dir())
        {
            set.directories = true;
        }
    }
    set
}

impl ChangeSet {
    /// Another batch's change set on top of this one.
    fn merge(&mut self, other: ChangeSet) {
        self.paths.extend(other.paths);
        self.directories |= other.directories;
        self.projects |= other.projects;
        self.rescan |= other.rescan;
        for error in other.errors {
            if !self.errors.contains(&error) {
                self.errors.push(error);
            }
        }
    }
}

/// The Synchronizer's body (permanent): every input queued when it looks is one change (a
/// burst of batches, a `git checkout`, is one update), until stopped.
pub(crate) fn serve(sync: &Context, context: &ChildContext) -> Result<(), ChildError> {
    const ID: &str = "synchronizer";
    sync.started(ID);
    context.report_health(Health::Healthy);
    loop {
        let first = select! {
            recv(sync.inputs()) -> input => match input {
                Ok(input) => input,
                Err(_) => return Ok(()),
            },
            recv(context.stop_signal()) -> _ => return Ok(()),
        };
        let mut inputs = vec![first];
        inputs.extend(sync.inputs().try_iter());
        if inputs.iter().any(|input| matches!(input, Input::Batch(_))) {
            // An injected crash loses these batches: the restart's rescan must find them.
            faults::crash_service_once(ID);
        }
        let change = change_of(sync, inputs);
        if !change.paths.is_empty() {
            sync.send_change(change);
        }
    }
}

/// The paths of the tree's Elixir sources, relative to the root.
pub(crate) fn sources(discovery: &Discovery) -> BTreeSet<String> {
    discovery
        .entries
        .iter()
        .filter(|e| matches!(e.kind, EntryKind::Source))
        .map(|e| e.path.clone())
        .collect()
}

fn relative(root: &Path, path: &Path) -> Option<String> {
    let rest = path.strip_prefix(root).ok()?;
    Some(rest.to_string_lossy().replace('\\', "/"))
}

/// What the inputs change: the files to read again, the files gone.
fn change_of(sync: &Context, inputs: Vec<Input>) -> Change {
    let settled = Instant::now();
    let mut set = ChangeSet::default();
    for input in inputs {
        match input {
            Input::Batch(batch) => set.merge(settle(batch)),
            Input::Rescan => set.rescan = true,
        }
    }
    for error in std::mem::take(&mut set.errors) {
        sync.warn(format!("the file watcher reported: {error}; rescanning"));
    }
    let root = &sync.settings.root;
    let mut known = lock(&sync.known);
    let mut candidates: BTreeSet<String> =
        set.paths.iter().filter_map(|p| relative(root, p)).collect();
    // A new path, a directory, a `.gitignore` or a rescan: discovery says what the tree is now.
    let new_path = candidates.iter().any(|p| !known.contains(p));
    let mut current = None;
    if set.directories || set.rescan || new_path {
        if let Some(now) = discover_watched(sync) {
            // Files that entered or left the tree (a directory created, removed or renamed; a
            // `.gitignore` changed).
            candidates.extend(now.symmetric_difference(&known).cloned());
            if set.rescan {
                candidates.extend(stale(sync, &now));
            }
            current = Some(now);
        }
    }
    let mut change = Change {
        paths: BTreeMap::new(),
        settled,
    };
    for path in candidates {
        let absolute = root.join(&path);
        let in_tree = match &current {
            Some(now) => now.contains(&path),
            None => known.contains(&path),
        };
        if in_tree && absolute.is_file() {
            let entry = Entry {
                path: path.clone(),
                absolute,
                kind: EntryKind::Source,
                content: None,
            };
            known.insert(path.clone());
            change.paths.insert(path, Some(entry));
        } else if known.remove(&path) || lock(&sync.stamps).contains_key(&path) {
            change.paths.insert(path, None);
        }
    }
    if let Some(mut now) = current {
        now.retain(|path| !matches!(change.paths.get(path), Some(None)));
        *known = now;
    }
    change
}

/// How many times discovery runs again for directories that appeared meanwhile.
const DISCOVERY_ROUNDS: usize = 8;

/// The tree's sources, from a discovery made once every directory it lists is watched: a new
/// directory that already holds something (created before its watch, so without an event) is
/// listed again by the next round. `None` when the tree cannot be listed.
fn discover_watched(sync: &Context) -> Option<BTreeSet<String>> {
    let settings = &sync.settings;
    let mut now = None;
    for _ in 0..DISCOVERY_ROUNDS {
        let discovery = match crate::discover::discover(&settings.paths, &settings.discover) {
            Ok(discovery) => discovery,
            Err(err) => {
                sync.warn(format!("cannot list the tree again: {err:#}"));
                return now;
            }
        };
        *lock(&sync.directories) = discovery.directories.clone();
        now = Some(sources(&discovery));
        // The FileWatcher is restarting when it does not answer: its start rescans.
        let held = sync
            .watch_directories(discovery.directories)
            .unwrap_or_default();
        if held.is_empty() {
            break;
        }
    }
    now
}

/// The sources whose stat is not the one their live record was read under, and the live
/// files no longer in the tree.
fn stale(sync: &Context, now: &BTreeSet<String>) -> Vec<String> {
    let stamps = lock(&sync.stamps).clone();
    let mut stale: Vec<String> = now
        .par_iter()
        .filter(|path| {
            let stat = std::fs::metadata(sync.settings.root.join(path))
                .ok()
                .map(|m| Stat::of(&m));
            stat.is_none() || stamps.get(*path) != stat.as_ref()
        })
        .cloned()
        .collect();
    stale.extend(stamps.keys().filter(|p| !now.contains(*p)).cloned());
    stale
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{DataChange, Flag};
    use notify::Event;
    use notify_debouncer_full::DebouncedEvent;
    use std::time::Instant;

    fn event(kind: EventKind, paths: &[&str]) -> DebouncedEvent {
        let mut event = Event::new(kind);
        for path in paths {
            event = event.add_path(PathBuf::from(path));
        }
        DebouncedEvent::new(event, Instant::now())
    }

    #[test]
    fn a_batch_becomes_paths_and_flags() {
        let set = settle(Ok(vec![
            event(EventKind::Create(CreateKind::File), &["/r/lib/a.ex"]),
            event(
                EventKind::Modify(ModifyKind::Data(DataChange::Content)),
                &["/r/lib/b.ex"],
            ),
            event(EventKind::Remove(RemoveKind::File), &["/r/lib/c.ex"]),
            event(
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                &["/r/lib/d.ex", "/r/lib/e.ex"],
            ),
            event(EventKind::Create(CreateKind::Folder), &["/r/lib/new"]),
            event(EventKind::Modify(ModifyKind::Any), &["/r/mix.exs"]),
        ]));
        let paths: Vec<&str> = set.paths.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(
            paths,
            vec![
                "/r/lib/a.ex",
                "/r/lib/b.ex",
                "/r/lib/c.ex",
                "/r/lib/d.ex",
                "/r/lib/e.ex",
                "/r/mix.exs"
            ]
        );
        assert!(set.directories && set.projects && !set.rescan);
    }

    #[test]
    fn lost_events_ask_for_a_rescan() {
        let mut notice = Event::new(EventKind::Other);
        notice = notice.set_flag(Flag::Rescan);
        let set = settle(Ok(vec![DebouncedEvent::new(notice, Instant::now())]));
        assert!(set.rescan);
        let set = settle(Err(vec![
            notify::Error::generic("queue overflow"),
            notify::Error::generic("queue overflow"),
        ]));
        assert!(set.rescan);
        assert_eq!(set.errors.len(), 1);
        let set = settle(Ok(vec![event(
            EventKind::Modify(ModifyKind::Any),
            &["/r/.gitignore"],
        )]));
        assert!(set.directories);
    }
}
