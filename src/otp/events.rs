//! The supervision event log: what OTP writes as progress and supervisor reports, kept in memory
//! in order so the run report can show it and tests can wait on outcomes instead of sleeping.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::child::{ChildId, ExitReason};
use super::lock;

/// How many events a log keeps before it drops the oldest ones. A long run with a busy pool
/// must not grow memory without bound; the count of dropped events stays available.
pub(crate) const DEFAULT_EVENT_CAPACITY: usize = 100_000;

/// One thing that happened in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// Position in the log, from 0, never reused even when old events are dropped.
    pub(crate) seq: u64,
    /// Clock reading when the event was recorded.
    pub(crate) at: Duration,
    /// Path of the supervisor that recorded it, e.g. `root/repository`.
    pub(crate) supervisor: Arc<str>,
    /// The child concerned; `None` for events about the supervisor itself.
    pub(crate) child: Option<ChildId>,
    pub(crate) kind: EventKind,
}

impl Event {
    /// Whether the event concerns child `id` (of any supervisor).
    pub(crate) fn is_about(&self, id: &str) -> bool {
        self.child.as_deref() == Some(id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// The supervisor started all its initial children and entered its message loop.
    SupervisorStarted,
    /// The supervisor's thread ended after stopping its children.
    SupervisorStopped { reason: ExitReason },
    /// A child was started: initially, by `start_child` or by `restart_child`.
    Started,
    /// A child was started again by its supervisor after an exit (its own or a sibling's).
    Restarted,
    /// A child's start function failed; a failed restart is retried through the mailbox.
    StartFailed { reason: String },
    /// A running child ended on its own.
    Exited { reason: ExitReason },
    /// A child stopped when asked to, within its shutdown time.
    Stopped { reason: ExitReason },
    /// A child did not stop within its shutdown time (or had `brutal_kill`) and was abandoned:
    /// a Rust thread cannot be killed, so its thread is detached and no longer supervised.
    Killed { waited: Duration },
    /// Restart intensity was exceeded: the supervisor stops its children and exits with
    /// `shutdown`, escalating to its parent. `child` is the child whose restart tipped it over.
    Escalated { max_restarts: u32, within: Duration },
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SupervisorStarted => f.write_str("supervisor started"),
            Self::SupervisorStopped { reason } => write!(f, "supervisor stopped: {reason}"),
            Self::Started => f.write_str("started"),
            Self::Restarted => f.write_str("restarted"),
            Self::StartFailed { reason } => write!(f, "failed to start: {reason}"),
            Self::Exited { reason } => write!(f, "exited: {reason}"),
            Self::Stopped { reason } => write!(f, "stopped: {reason}"),
            Self::Killed { waited } => write!(f, "killed after {waited:?} without stopping"),
            Self::Escalated {
                max_restarts,
                within,
            } => write!(
                f,
                "more than {max_restarts} restarts within {within:?}: shutting down"
            ),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.at.as_secs_f64();
        match &self.child {
            Some(child) => write!(
                f,
                "[{seconds:.3}s] {}/{child}: {}",
                self.supervisor, self.kind
            ),
            None => write!(f, "[{seconds:.3}s] {}: {}", self.supervisor, self.kind),
        }
    }
}

/// A shared, thread-safe, ordered log of [`Event`]s. Cloning shares the log.
#[derive(Debug, Clone)]
pub(crate) struct EventLog {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<LogState>,
    appended: Condvar,
}

#[derive(Debug)]
struct LogState {
    events: VecDeque<Event>,
    next_seq: u64,
    capacity: usize,
}

impl Default for EventLog {
    fn default() -> Self {
        Self::new()
    }
}

impl EventLog {
    pub(crate) fn new() -> Self {
        Self::with_capacity(DEFAULT_EVENT_CAPACITY)
    }

    /// A log that keeps at most `capacity` events (at least one), dropping the oldest.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(LogState {
                    events: VecDeque::new(),
                    next_seq: 0,
                    capacity: capacity.max(1),
                }),
                appended: Condvar::new(),
            }),
        }
    }

    pub(crate) fn record(
        &self,
        at: Duration,
        supervisor: &Arc<str>,
        child: Option<&str>,
        kind: EventKind,
    ) {
        let mut state = lock(&self.shared.state);
        let seq = state.next_seq;
        state.next_seq += 1;
        if state.events.len() == state.capacity {
            state.events.pop_front();
        }
        state.events.push_back(Event {
            seq,
            at,
            supervisor: Arc::clone(supervisor),
            child: child.map(str::to_owned),
            kind,
        });
        drop(state);
        self.shared.appended.notify_all();
    }

    /// A copy of the events still held, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<Event> {
        lock(&self.shared.state).events.iter().cloned().collect()
    }

    /// How many events were dropped to respect the capacity.
    pub(crate) fn dropped(&self) -> u64 {
        let state = lock(&self.shared.state);
        state.next_seq - state.events.len() as u64
    }

    /// How many held events match `predicate`.
    pub(crate) fn count(&self, mut predicate: impl FnMut(&Event) -> bool) -> usize {
        lock(&self.shared.state)
            .events
            .iter()
            .filter(|event| predicate(event))
            .count()
    }

    /// Waits until an event matching `predicate` has been recorded (looking at past events
    /// too) and returns the first such event, or `None` once `timeout` has passed.
    pub(crate) fn wait_for(
        &self,
        timeout: Duration,
        mut predicate: impl FnMut(&Event) -> bool,
    ) -> Option<Event> {
        let mut found = None;
        self.wait_until(timeout, |events| {
            found = events.iter().find(|event| predicate(event)).cloned();
            found.is_some()
        });
        found
    }

    /// Waits until `predicate` holds for the held events (oldest first); `false` on timeout.
    pub(crate) fn wait_until(
        &self,
        timeout: Duration,
        mut predicate: impl FnMut(&[Event]) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = lock(&self.shared.state);
        loop {
            if predicate(state.events.make_contiguous()) {
                return true;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            if left.is_zero() {
                return false;
            }
            state = self
                .shared
                .appended
                .wait_timeout(state, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Arc<str> {
        Arc::from(text)
    }

    #[test]
    fn events_keep_their_order_and_sequence() {
        let log = EventLog::new();
        let root = path("root");
        log.record(Duration::ZERO, &root, Some("a"), EventKind::Started);
        log.record(Duration::from_secs(1), &root, Some("b"), EventKind::Started);
        log.record(
            Duration::from_secs(2),
            &root,
            None,
            EventKind::SupervisorStarted,
        );
        let events = log.snapshot();
        assert_eq!(events.len(), 3);
        assert_eq!(
            events.iter().map(|event| event.seq).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(events[1].is_about("b"));
        assert_eq!(events[2].to_string(), "[2.000s] root: supervisor started");
    }

    #[test]
    fn capacity_drops_the_oldest_events() {
        let log = EventLog::with_capacity(2);
        let root = path("root");
        for child in ["a", "b", "c"] {
            log.record(Duration::ZERO, &root, Some(child), EventKind::Started);
        }
        let events = log.snapshot();
        assert_eq!(events.len(), 2);
        assert!(events[0].is_about("b"));
        assert_eq!(events[1].seq, 2);
        assert_eq!(log.dropped(), 1);
    }

    #[test]
    fn wait_for_wakes_when_another_thread_records() {
        let log = EventLog::new();
        let writer = log.clone();
        let recorder = std::thread::spawn(move || {
            writer.record(
                Duration::ZERO,
                &path("root"),
                Some("late"),
                EventKind::Started,
            );
        });
        let event = log.wait_for(Duration::from_secs(10), |event| event.is_about("late"));
        recorder.join().expect("recorder thread");
        assert_eq!(event.map(|event| event.kind), Some(EventKind::Started));
    }

    #[test]
    fn wait_for_gives_up_after_its_timeout() {
        let log = EventLog::new();
        assert!(log
            .wait_for(Duration::from_millis(1), |event| event.is_about("never"))
            .is_none());
    }
}
