//! Test doubles for the supervisor tests: children that exit, fail or refuse to stop on command,
//! in the spirit of OTP's `supervisor_1` / `supervisor_3` test modules, and helpers that wait on
//! the event log instead of sleeping.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{select, Receiver, Sender};

use super::child::{ChildError, ChildSpec, ExitReason};
use super::clock::ManualClock;
use super::events::{Event, EventKind};
use super::lock;
use super::supervisor::{RuntimeEnv, Supervisor};

/// Generous: only reached when something is broken.
pub(super) const WAIT: Duration = Duration::from_secs(10);

/// An environment on a manual clock.
pub(super) fn manual_env() -> (Arc<ManualClock>, RuntimeEnv) {
    let clock = Arc::new(ManualClock::new());
    let env = RuntimeEnv::new(clock.clone());
    (clock, env)
}

/// What a probe child does next.
#[derive(Debug, Clone)]
pub(super) enum Command {
    ExitNormally,
    ExitShutdown,
    Fail,
    Panic,
    /// Publish this health.
    Report(super::health::Health),
}

/// Whether a probe child's next start succeeds (as `supervisor_1:start_child(error)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StartPolicy {
    Succeed,
    FailNext(usize),
    FailAlways,
}

#[derive(Default)]
struct ProbeState {
    commands: HashMap<String, Sender<Command>>,
    policies: HashMap<String, StartPolicy>,
    starts: HashMap<String, usize>,
}

/// Controls the children it creates, by child id; a restarted child is reached through the
/// same id. Children that ignore their stop signal are released when the probe is dropped.
#[derive(Clone)]
pub(super) struct Probe {
    state: Arc<Mutex<ProbeState>>,
    release: Arc<Mutex<Option<Sender<()>>>>,
    released: Receiver<()>,
}

impl Default for Probe {
    fn default() -> Self {
        let (release, released) = crossbeam_channel::bounded(0);
        Self {
            state: Arc::default(),
            release: Arc::new(Mutex::new(Some(release))),
            released,
        }
    }
}

impl Probe {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// A permanent worker that runs until stopped or commanded.
    pub(super) fn service(&self, id: &str) -> ChildSpec {
        let state = Arc::clone(&self.state);
        ChildSpec::worker(id, move |context| {
            let id = context.id().to_owned();
            let mut probe = lock(&state);
            *probe.starts.entry(id.clone()).or_default() += 1;
            let policy = probe
                .policies
                .get(&id)
                .copied()
                .unwrap_or(StartPolicy::Succeed);
            match policy {
                StartPolicy::Succeed => {}
                StartPolicy::FailNext(count) => {
                    let next = if count <= 1 {
                        StartPolicy::Succeed
                    } else {
                        StartPolicy::FailNext(count - 1)
                    };
                    probe.policies.insert(id.clone(), next);
                    return Err(ChildError::new(format!("{id} refused to start")));
                }
                StartPolicy::FailAlways => {
                    return Err(ChildError::new(format!("{id} refused to start")));
                }
            }
            let (sender, commands) = crossbeam_channel::unbounded();
            probe.commands.insert(id, sender);
            Ok(move |context: super::child::ChildContext| loop {
                select! {
                    recv(context.stop_signal()) -> _ => return Ok(()),
                    recv(commands) -> command => match command {
                        Ok(Command::ExitNormally) | Err(_) => return Ok(()),
                        Ok(Command::ExitShutdown) => return Err(ChildError::shutdown()),
                        Ok(Command::Fail) => return Err(ChildError::new("abnormal")),
                        Ok(Command::Panic) => panic!("probe child told to panic"),
                        Ok(Command::Report(health)) => context.report_health(health),
                    },
                }
            })
        })
    }

    /// A worker that ignores its stop signal until the probe is dropped.
    pub(super) fn stubborn(&self, id: &str) -> ChildSpec {
        let released = self.released.clone();
        ChildSpec::service(id, move |_context| {
            let _ = released.recv();
            Ok(())
        })
    }

    pub(super) fn send(&self, id: &str, command: Command) {
        let sender = lock(&self.state).commands.get(id).cloned();
        sender
            .unwrap_or_else(|| panic!("no probe child `{id}` was started"))
            .send(command)
            .unwrap_or_else(|_| panic!("probe child `{id}` is not running"));
    }

    pub(super) fn set_start_policy(&self, id: &str, policy: StartPolicy) {
        lock(&self.state).policies.insert(id.to_owned(), policy);
    }

    /// How many times `id`'s start function ran (failed attempts included).
    pub(super) fn starts(&self, id: &str) -> usize {
        lock(&self.state).starts.get(id).copied().unwrap_or(0)
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        // The last clone releases stubborn children so no thread outlives the test for long.
        if Arc::strong_count(&self.release) == 1 {
            lock(&self.release).take();
        }
    }
}

/// Shuts a supervisor down on a helper thread and fails the test if that takes longer than
/// [`WAIT`]: a shutdown that hangs is a bug this module promises not to have.
pub(super) fn shutdown_within_wait(supervisor: Supervisor) -> ExitReason {
    let (sender, reason) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let _ = sender.send(supervisor.shutdown());
    });
    reason
        .recv_timeout(WAIT)
        .expect("supervisor shutdown did not finish in time")
}

/// Waits for an event about `child` matching `kind`; fails the test after [`WAIT`].
pub(super) fn wait_event(
    env: &RuntimeEnv,
    child: &str,
    mut kind: impl FnMut(&EventKind) -> bool,
) -> Event {
    env.events
        .wait_for(WAIT, |event| event.is_about(child) && kind(&event.kind))
        .unwrap_or_else(|| panic!("no matching event for `{child}`; log:\n{}", log_text(env)))
}

/// Waits until `count` events about `child` match `kind`.
pub(super) fn wait_events(
    env: &RuntimeEnv,
    child: &str,
    count: usize,
    mut kind: impl FnMut(&EventKind) -> bool,
) {
    let reached = env.events.wait_until(WAIT, |events| {
        events
            .iter()
            .filter(|event| event.is_about(child) && kind(&event.kind))
            .count()
            >= count
    });
    assert!(
        reached,
        "fewer than {count} matching events for `{child}`; log:\n{}",
        log_text(env)
    );
}

/// Waits for the supervisor at `path` to record its own stop.
pub(super) fn wait_supervisor_stopped(env: &RuntimeEnv, path: &str) -> ExitReason {
    let event = env
        .events
        .wait_for(WAIT, |event| {
            &*event.supervisor == path
                && event.child.is_none()
                && matches!(event.kind, EventKind::SupervisorStopped { .. })
        })
        .unwrap_or_else(|| panic!("`{path}` did not stop; log:\n{}", log_text(env)));
    match event.kind {
        EventKind::SupervisorStopped { reason } => reason,
        _ => unreachable!("matched above"),
    }
}

pub(super) fn count_events(
    env: &RuntimeEnv,
    child: &str,
    mut kind: impl FnMut(&EventKind) -> bool,
) -> usize {
    env.events
        .count(|event| event.is_about(child) && kind(&event.kind))
}

/// `(child, kind)` of every event matching `filter`, in order: for asserting sequences.
pub(super) fn sequence(
    env: &RuntimeEnv,
    mut filter: impl FnMut(&Event) -> bool,
) -> Vec<(String, &'static str)> {
    env.events
        .snapshot()
        .into_iter()
        .filter(|event| filter(event))
        .map(|event| {
            (
                event.child.clone().unwrap_or_default(),
                kind_name(&event.kind),
            )
        })
        .collect()
}

pub(super) fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::SupervisorStarted => "supervisor_started",
        EventKind::SupervisorStopped { .. } => "supervisor_stopped",
        EventKind::Started => "started",
        EventKind::Restarted => "restarted",
        EventKind::StartFailed { .. } => "start_failed",
        EventKind::Exited { .. } => "exited",
        EventKind::Stopped { .. } => "stopped",
        EventKind::Killed { .. } => "killed",
        EventKind::Escalated { .. } => "escalated",
    }
}

pub(super) fn log_text(env: &RuntimeEnv) -> String {
    env.events
        .snapshot()
        .iter()
        .map(|event| event.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
