//! The Synchronization subsystem (design: `ElixirScope.AST.Synchronization.Supervisor`,
//! rest_for_one: FileWatcher → Synchronizer → IncrementalUpdater), issue [7].
//!
//! `watch` starts it once the repository is loaded. Its three services hand work down two
//! channels that live in the [`Context`], so a restarted service finds what was queued for it:
//!
//! - the FileWatcher (permanent) owns notify's watcher and sends each settled batch of events
//!   to the Synchronizer; it also watches the directories the Synchronizer finds new;
//! - the Synchronizer (permanent) turns batches into changes: which files to read again, which
//!   went (discovery runs again when the tree's shape changed);
//! - the IncrementalUpdater (transient) parses the changed files, updates the live repository,
//!   tells the command what changed, then writes the index and, once the tree has been quiet
//!   for a while, the query tables, so `query` in another terminal reads the live state.
//!
//! Nothing is lost to a crash: every start of the FileWatcher, and every restart of the
//! others, ends with a rescan, which compares every file's stat with the one its live record
//! was read under.

pub(crate) mod file_watcher;
pub(crate) mod incremental_updater;
pub(crate) mod synchronizer;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use notify_debouncer_full::DebounceEventResult;

use crate::discover::{DiscoverOptions, Entry};
use crate::index::{LiveIndex, Stat};
use crate::subsystems::parsing::parser::FileOptions;
use file_watcher::WatchOptions;
use incremental_updater::{Live, Update};

/// What the Synchronizer is given.
pub(crate) enum Input {
    /// One settled batch of the FileWatcher.
    Batch(DebounceEventResult),
    /// Compare the whole tree with the live records: after a start or a restart, when events
    /// may have been lost.
    Rescan,
}

/// What the Synchronizer asks of the FileWatcher: watch the tree's directories now, and say
/// which files the new ones hold once their watches are in place.
pub(crate) struct WatchRequest {
    pub(crate) directories: Vec<PathBuf>,
    pub(crate) reply: Sender<Vec<PathBuf>>,
}

/// One update's input: for each path, the file to read again, or `None` when it went.
#[derive(Debug)]
pub(crate) struct Change {
    pub(crate) paths: BTreeMap<String, Option<Entry>>,
    /// When the first batch of it settled (the update's `elapsed_ms` counts from there).
    pub(crate) settled: Instant,
}

impl Change {
    /// `later` on top of this one: for each path, the last word wins.
    pub(crate) fn merge(&mut self, later: Change) {
        self.paths.extend(later.paths);
        self.settled = self.settled.min(later.settled);
    }
}

/// What the services tell the command, which prints it.
pub(crate) enum Note {
    /// The FileWatcher's watches are in place.
    Watching {
        directories: usize,
        polling: bool,
    },
    Warning(String),
    Update {
        update: Box<Update>,
        elapsed_ms: u64,
    },
    /// A service started again after a failure.
    Restarted {
        service: &'static str,
    },
    /// The index and its query tables hold the live state.
    Indexed {
        elapsed_ms: u64,
    },
}

/// What the services are given, fixed for the session.
pub(crate) struct Settings {
    /// The paths given and the discovery options.
    pub(crate) paths: Vec<PathBuf>,
    pub(crate) discover: DiscoverOptions,
    pub(crate) root: PathBuf,
    pub(crate) watch: WatchOptions,
    /// How a changed file is read (no index: the updater writes it).
    pub(crate) file_options: FileOptions,
    /// The run scope the index keeps the phase and the query tables under.
    pub(crate) scope: String,
    pub(crate) index: Option<LiveIndex>,
    /// The rule selection's fingerprint, for the `findings` table.
    pub(crate) rules: Option<String>,
}

/// The state the subsystem's services share; it outlives any of them.
pub(crate) struct Context {
    pub(crate) settings: Settings,
    pub(crate) live: Mutex<Live>,
    /// Each file's stat when its live record was read (the updater's, read by a rescan).
    pub(crate) stamps: Mutex<HashMap<String, Stat>>,
    /// The Synchronizer's view of the tree: its Elixir sources, and the directories watched.
    pub(crate) known: Mutex<BTreeSet<String>>,
    pub(crate) directories: Mutex<Vec<PathBuf>>,
    /// Files the updater wrote since the query tables were last written.
    pub(crate) dirty: Mutex<BTreeSet<String>>,
    /// Whether the query tables are being written.
    pub(crate) tables_running: AtomicBool,
    inputs: (Sender<Input>, Receiver<Input>),
    changes: (Sender<Change>, Receiver<Change>),
    requests: (Sender<WatchRequest>, Receiver<WatchRequest>),
    notes: Sender<Note>,
    starts: Mutex<HashMap<&'static str, u32>>,
}

/// Whole milliseconds, for events.
pub(crate) fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

pub(crate) use super::lock;

impl Context {
    /// The context of a loaded tree (its live repository, each source's stat before it was
    /// read, its sources and directories), and the receiving end of the services' notes.
    pub(crate) fn new(
        settings: Settings,
        live: Live,
        stamps: HashMap<String, Stat>,
        known: BTreeSet<String>,
        directories: Vec<PathBuf>,
    ) -> (Context, Receiver<Note>) {
        let (notes, received) = crossbeam_channel::unbounded();
        let context = Context {
            settings,
            live: Mutex::new(live),
            // The index holds every file as the load read it, maybe within the racy margin.
            dirty: Mutex::new(stamps.keys().cloned().collect()),
            stamps: Mutex::new(stamps),
            known: Mutex::new(known),
            directories: Mutex::new(directories),
            tables_running: AtomicBool::new(false),
            inputs: crossbeam_channel::unbounded(),
            changes: crossbeam_channel::unbounded(),
            requests: crossbeam_channel::unbounded(),
            notes,
            starts: Mutex::new(HashMap::new()),
        };
        (context, received)
    }

    pub(crate) fn note(&self, note: Note) {
        let _ = self.notes.send(note);
    }

    pub(crate) fn warn(&self, message: String) {
        self.note(Note::Warning(message));
    }

    /// Counts a start of `service`; a restart is said, and asks for a rescan (what it was
    /// doing when it failed is lost). Whether this is a restart.
    pub(crate) fn started(&self, service: &'static str) -> bool {
        let restart = {
            let mut starts = lock(&self.starts);
            let count = starts.entry(service).or_default();
            *count += 1;
            *count > 1
        };
        if restart {
            self.note(Note::Restarted { service });
            self.send_input(Input::Rescan);
        }
        restart
    }

    pub(crate) fn send_input(&self, input: Input) {
        let _ = self.inputs.0.send(input);
    }

    pub(crate) fn inputs(&self) -> &Receiver<Input> {
        &self.inputs.1
    }

    pub(crate) fn send_change(&self, change: Change) {
        let _ = self.changes.0.send(change);
    }

    pub(crate) fn changes(&self) -> &Receiver<Change> {
        &self.changes.1
    }

    pub(crate) fn requests(&self) -> &Receiver<WatchRequest> {
        &self.requests.1
    }

    /// Asks the FileWatcher to watch `directories`; the files of the new ones. `None` when
    /// the FileWatcher is not there to answer (it is restarting: its start rescans anyway).
    pub(crate) fn watch_directories(&self, directories: Vec<PathBuf>) -> Option<Vec<PathBuf>> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.requests
            .0
            .send(WatchRequest { directories, reply })
            .ok()?;
        answer.recv_timeout(std::time::Duration::from_secs(30)).ok()
    }
}
