//! Synchronization.Synchronizer: each settled batch of events (one debounce window, notify's
//! debouncer's own timeout) becomes one change set. The debouncer has already coalesced
//! per path (a create then modifies is one create, a rename's two halves one rename, a removed
//! directory one event); what remains is to say which paths to look at again and whether the
//! tree's shape changed. The IncrementalUpdater decides each path by what is there when it
//! reads it: a file that vanished between the event and the read is a removal, an editor's
//! atomic save (a temporary file renamed over the target) a change of the target.

use std::collections::BTreeSet;
use std::path::PathBuf;

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
