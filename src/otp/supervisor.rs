//! Supervisors: their specification, the owning [`Supervisor`] handle and the cloneable
//! [`SupervisorRef`] through which the tree is inspected and changed.
//!
//! The supervisor itself (its thread, state and restart logic) lives in `engine.rs`; this file
//! is what the rest of the crate calls. Requests are messages to the supervisor's thread, answered
//! in order with everything else it handles (OTP's `gen_server:call`).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::child::{ChildId, ChildKind, ChildSpec, ExitReason, RestartType, StopSource};
use super::clock::{MonotonicClock, SharedClock};
use super::engine::{self, Message, SupervisorState};
use super::events::EventLog;
use super::health::{self, ChildHealth, Health, HealthReport};
use super::intensity::RestartIntensity;

/// Which children a supervisor restarts when one of them has to be restarted (OTP's `strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// Only the child that ended: for independent children.
    OneForOne,
    /// The child that ended and every child started after it, which depend on it: those are
    /// stopped in reverse start order, then all are started again in start order.
    RestForOne,
    /// All children: the others are stopped in reverse start order, then all are started again.
    OneForAll,
}

/// Limits of a dynamic supervisor (OTP's `simple_one_for_one`, Elixir's `DynamicSupervisor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct DynamicLimits {
    pub(super) max_children: Option<usize>,
}

/// What a supervisor is: its strategy, its restart intensity and its initial children
/// (OTP's `init/1` result).
#[derive(Debug, Clone)]
pub(crate) struct SupervisorSpec {
    pub(super) name: String,
    pub(super) strategy: Strategy,
    pub(super) intensity: RestartIntensity,
    pub(super) children: Vec<ChildSpec>,
    pub(super) dynamic: Option<DynamicLimits>,
}

impl SupervisorSpec {
    /// A static supervisor with the design's service intensity ([`RestartIntensity::SERVICES`]).
    /// `name` is the path of a root supervisor; a child supervisor's path is its parent's path
    /// and its child id.
    pub(crate) fn new(name: impl Into<String>, strategy: Strategy) -> Self {
        Self {
            name: name.into(),
            strategy,
            intensity: RestartIntensity::SERVICES,
            children: Vec::new(),
            dynamic: None,
        }
    }

    /// A dynamic supervisor for a pool: children are added with
    /// [`SupervisorRef::start_child`], each gets a generated id (`<spec id>#<n>`), restarts are
    /// one-for-one, and on shutdown all children are told to stop at once and waited for in
    /// parallel (OTP's `terminate_dynamic_children`). Uses [`RestartIntensity::POOLS`].
    pub(crate) fn dynamic(name: impl Into<String>) -> Self {
        Self {
            intensity: RestartIntensity::POOLS,
            dynamic: Some(DynamicLimits::default()),
            ..Self::new(name, Strategy::OneForOne)
        }
    }

    pub(crate) fn restart_intensity(mut self, intensity: RestartIntensity) -> Self {
        self.intensity = intensity;
        self
    }

    /// Adds an initial child; children start in the order they are added.
    pub(crate) fn child(mut self, child: ChildSpec) -> Self {
        self.children.push(child);
        self
    }

    pub(crate) fn children(mut self, children: impl IntoIterator<Item = ChildSpec>) -> Self {
        self.children.extend(children);
        self
    }

    /// For a dynamic supervisor: refuse `start_child` beyond this many running children.
    /// Ignored by static supervisors.
    pub(crate) fn max_children(mut self, limit: usize) -> Self {
        if let Some(dynamic) = &mut self.dynamic {
            dynamic.max_children = Some(limit);
        }
        self
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn strategy(&self) -> Strategy {
        self.strategy
    }

    pub(crate) fn is_dynamic(&self) -> bool {
        self.dynamic.is_some()
    }
}

/// What a supervision tree shares: the clock for restart windows and timestamps, and the log
/// its supervisors write to.
#[derive(Debug, Clone)]
pub(crate) struct RuntimeEnv {
    pub(crate) clock: SharedClock,
    pub(crate) events: EventLog,
}

impl RuntimeEnv {
    pub(crate) fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            events: EventLog::new(),
        }
    }

    /// Real time, for production runs.
    pub(crate) fn monotonic() -> Self {
        Self::new(MonotonicClock::shared())
    }
}

/// Why a supervisor request failed. Each message says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SupervisorError {
    NotRunning {
        supervisor: String,
    },
    StartFailed {
        supervisor: String,
        child: ChildId,
        reason: String,
    },
    DuplicateChild {
        supervisor: String,
        child: ChildId,
    },
    AlreadyStarted {
        child: ChildId,
    },
    AlreadyPresent {
        child: ChildId,
    },
    NotFound {
        child: ChildId,
    },
    StillRunning {
        child: ChildId,
    },
    Restarting {
        child: ChildId,
    },
    NotASupervisor {
        child: ChildId,
    },
    MaxChildren {
        limit: usize,
    },
    NotForDynamicSupervisors {
        operation: &'static str,
    },
    SpawnFailed {
        supervisor: String,
        reason: String,
    },
}

impl fmt::Display for SupervisorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRunning { supervisor } => write!(
                f,
                "supervisor `{supervisor}` is not running (it was shut down or gave up after too many restarts; see the event log)"
            ),
            Self::StartFailed {
                supervisor,
                child,
                reason,
            } => write!(
                f,
                "supervisor `{supervisor}` could not start child `{child}`: {reason}"
            ),
            Self::DuplicateChild { supervisor, child } => write!(
                f,
                "supervisor `{supervisor}` lists child `{child}` twice; give every child a unique id"
            ),
            Self::AlreadyStarted { child } => write!(
                f,
                "child `{child}` is already running; stop it with terminate_child first"
            ),
            Self::AlreadyPresent { child } => write!(
                f,
                "child `{child}` exists but is not running; use restart_child, or delete_child first"
            ),
            Self::NotFound { child } => write!(f, "no child `{child}` in this supervisor"),
            Self::StillRunning { child } => write!(
                f,
                "child `{child}` is running; stop it with terminate_child first"
            ),
            Self::Restarting { child } => write!(
                f,
                "child `{child}` is being restarted; stop it with terminate_child first"
            ),
            Self::NotASupervisor { child } => write!(f, "child `{child}` is a worker"),
            Self::MaxChildren { limit } => write!(
                f,
                "the pool already runs its maximum of {limit} children; retry when one ends"
            ),
            Self::NotForDynamicSupervisors { operation } => write!(
                f,
                "{operation} is not available on a dynamic supervisor; use terminate_child and start_child"
            ),
            Self::SpawnFailed { supervisor, reason } => write!(
                f,
                "could not spawn a thread for supervisor `{supervisor}`: {reason}"
            ),
        }
    }
}

impl std::error::Error for SupervisorError {}

/// A child as its supervisor sees it (OTP's `which_children` entry).
#[derive(Debug, Clone)]
pub(crate) struct ChildInfo {
    pub(crate) id: ChildId,
    pub(crate) kind: ChildKind,
    pub(crate) restart: RestartType,
    pub(crate) status: ChildStatus,
    /// The latest health a running worker reported.
    pub(crate) health: Option<Health>,
    /// How its last instance ended, if one did.
    pub(crate) last_exit: Option<ExitReason>,
    /// For a running child supervisor: a reference to it.
    pub(crate) supervisor: Option<SupervisorRef>,
}

/// OTP shows a pid, `restarting` or `undefined`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChildStatus {
    Running,
    /// A restart failed and is queued for another attempt.
    Restarting,
    /// Kept but not running: a transient child that ended cleanly, or one stopped with
    /// `terminate_child`.
    Stopped,
}

/// OTP's `count_children`. A dynamic supervisor counts each running child as a spec, as
/// Elixir's `DynamicSupervisor.count_children` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ChildCounts {
    pub(crate) specs: usize,
    pub(crate) active: usize,
    pub(crate) supervisors: usize,
    pub(crate) workers: usize,
}

/// A cloneable, non-owning reference to a running supervisor. Requests to a supervisor that has
/// ended return [`SupervisorError::NotRunning`] instead of blocking.
#[derive(Clone)]
pub(crate) struct SupervisorRef {
    path: Arc<str>,
    mailbox: Sender<Message>,
}

impl fmt::Debug for SupervisorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SupervisorRef").field(&self.path).finish()
    }
}

impl SupervisorRef {
    pub(super) fn new(path: Arc<str>, mailbox: Sender<Message>) -> Self {
        Self { path, mailbox }
    }

    /// The supervisor's path, e.g. `root/repository`.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    fn not_running(&self) -> SupervisorError {
        SupervisorError::NotRunning {
            supervisor: self.path.to_string(),
        }
    }

    /// Runs `request` on the supervisor's thread, in turn with its other messages.
    fn call<R: Send + 'static>(
        &self,
        request: impl FnOnce(&mut SupervisorState) -> R + Send + 'static,
    ) -> Result<R, SupervisorError> {
        let (reply_sender, reply) = crossbeam_channel::bounded(1);
        let message = Message::Call(Box::new(move |state: &mut SupervisorState| {
            let _ = reply_sender.send(request(state));
        }));
        self.mailbox.send(message).map_err(|_| self.not_running())?;
        // A supervisor that ends drops its queued requests, and with them `reply_sender`.
        reply.recv().map_err(|_| self.not_running())
    }

    /// Children in start order (OTP lists them in reverse).
    pub(crate) fn which_children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        self.call(|state| state.which_children())
    }

    pub(crate) fn count_children(&self) -> Result<ChildCounts, SupervisorError> {
        self.call(|state| state.count_children())
    }

    /// Starts a child and adds it last (OTP's `start_child/2`); returns its id, generated for
    /// a dynamic supervisor.
    pub(crate) fn start_child(&self, child: ChildSpec) -> Result<ChildId, SupervisorError> {
        self.call(move |state| state.start_child(child))?
    }

    /// Stops a child within its shutdown time. Its spec is kept (temporary children and
    /// children of dynamic supervisors are removed), and a queued restart is cancelled.
    pub(crate) fn terminate_child(&self, id: &str) -> Result<(), SupervisorError> {
        let id = id.to_owned();
        self.call(move |state| state.terminate_child(&id))?
    }

    /// Starts a stopped child again (OTP's `restart_child/2`).
    pub(crate) fn restart_child(&self, id: &str) -> Result<(), SupervisorError> {
        let id = id.to_owned();
        self.call(move |state| state.restart_child(&id))?
    }

    /// Removes a stopped child's spec (OTP's `delete_child/2`).
    pub(crate) fn delete_child(&self, id: &str) -> Result<(), SupervisorError> {
        let id = id.to_owned();
        self.call(move |state| state.delete_child(&id))?
    }

    /// A reference to the running child supervisor `id`.
    pub(crate) fn child_supervisor(&self, id: &str) -> Result<SupervisorRef, SupervisorError> {
        let id = id.to_owned();
        self.call(move |state| state.child_supervisor(&id))?
    }

    /// Whether the supervisor still answers requests.
    pub(crate) fn is_running(&self) -> bool {
        self.call(|_| ()).is_ok()
    }

    /// The design's `health_check` (§7.1) for this subtree: `Healthy` only if every child is
    /// running and reports itself healthy, recursively; per-child detail otherwise.
    pub(crate) fn health_check(&self) -> Result<HealthReport, SupervisorError> {
        let (checked_at, children) = self.call(|state| (state.now(), state.which_children()))?;
        let children = children
            .into_iter()
            .map(|info| {
                let subtree = match (&info.supervisor, info.status) {
                    (Some(supervisor), ChildStatus::Running) => supervisor.health_check().ok(),
                    _ => None,
                };
                let health = match &subtree {
                    Some(report) => health::subtree_health(report),
                    None if info.kind == ChildKind::Supervisor
                        && info.status == ChildStatus::Running =>
                    {
                        Health::Unhealthy("supervisor stopped answering".to_owned())
                    }
                    None => health::child_health(&info),
                };
                ChildHealth {
                    id: info.id,
                    kind: info.kind,
                    status: info.status,
                    health,
                    subtree,
                }
            })
            .collect();
        Ok(health::aggregate(&self.path, checked_at, children))
    }
}

/// The owner of a root supervisor. Dropping it shuts the tree down (and waits for it), so a
/// tree never outlives the code that started it.
pub(crate) struct Supervisor {
    reference: SupervisorRef,
    stop: StopSource,
    done: Receiver<ExitReason>,
    exit: Option<ExitReason>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("path", &self.reference.path)
            .field("exit", &self.exit)
            .finish()
    }
}

impl Supervisor {
    /// Starts a root supervisor and its children, in order, before returning (OTP's
    /// `start_link`). If a child fails to start, the children already started are stopped in
    /// reverse order and the error names the child.
    pub(crate) fn start(spec: SupervisorSpec, env: &RuntimeEnv) -> Result<Self, SupervisorError> {
        let path: Arc<str> = Arc::from(spec.name.as_str());
        let spawned = engine::spawn_supervisor(spec, path, env.clone(), None)?;
        Ok(Self {
            reference: spawned.reference,
            stop: spawned.stop,
            done: spawned.done,
            exit: None,
            thread: Some(spawned.thread),
        })
    }

    pub(crate) fn reference(&self) -> &SupervisorRef {
        &self.reference
    }

    /// Stops the tree: children in reverse start order, each subtree completely, each worker
    /// within its shutdown time. Returns why the supervisor ended (`Shutdown`, also when it had
    /// already given up after too many restarts).
    pub(crate) fn shutdown(mut self) -> ExitReason {
        self.stop_and_wait()
    }

    /// Waits for the supervisor to end by itself (after escalation); `None` on timeout.
    pub(crate) fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitReason> {
        if self.exit.is_none() {
            let reason = match self.done.recv_timeout(timeout) {
                Ok(reason) => reason,
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => vanished(),
            };
            self.finish(reason);
        }
        self.exit.clone()
    }

    fn stop_and_wait(&mut self) -> ExitReason {
        if let Some(reason) = &self.exit {
            return reason.clone();
        }
        self.stop.request_stop();
        let reason = self.done.recv().unwrap_or_else(|_| vanished());
        self.finish(reason.clone());
        reason
    }

    fn finish(&mut self, reason: ExitReason) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.exit = Some(reason);
    }
}

fn vanished() -> ExitReason {
    ExitReason::Panic("supervisor thread ended without reporting why".to_owned())
}

impl Deref for Supervisor {
    type Target = SupervisorRef;

    fn deref(&self) -> &SupervisorRef {
        &self.reference
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop_and_wait();
    }
}

/// Cases from erlang/otp `lib/stdlib/test/supervisor_SUITE.erl`, named after them where one
/// maps. Outcomes are awaited on the event log; time only moves on the manual clock.
#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::otp::child::{ChildContext, ChildError, RestartType, Shutdown};
    use crate::otp::events::EventKind;
    use crate::otp::health::HealthStatus;
    use crate::otp::testkit::{
        count_events, log_text, manual_env, sequence, shutdown_within_wait, wait_event,
        wait_events, wait_supervisor_stopped, Command, Probe, StartPolicy, WAIT,
    };

    const HOUR: Duration = Duration::from_secs(3600);

    fn is_restarted(kind: &EventKind) -> bool {
        matches!(kind, EventKind::Restarted)
    }

    fn is_exited(kind: &EventKind) -> bool {
        matches!(kind, EventKind::Exited { .. })
    }

    fn is_start_failed(kind: &EventKind) -> bool {
        matches!(kind, EventKind::StartFailed { .. })
    }

    fn is_stopped(kind: &EventKind) -> bool {
        matches!(kind, EventKind::Stopped { .. })
    }

    fn is_escalated(kind: &EventKind) -> bool {
        matches!(kind, EventKind::Escalated { .. })
    }

    fn spec(strategy: Strategy, max_restarts: u32) -> SupervisorSpec {
        SupervisorSpec::new("sup_test", strategy)
            .restart_intensity(RestartIntensity::new(max_restarts, HOUR))
    }

    fn counts(specs: usize, active: usize, supervisors: usize, workers: usize) -> ChildCounts {
        ChildCounts {
            specs,
            active,
            supervisors,
            workers,
        }
    }

    fn statuses(supervisor: &SupervisorRef) -> Vec<(String, ChildStatus)> {
        supervisor
            .which_children()
            .expect("which_children")
            .into_iter()
            .map(|child| (child.id, child.status))
            .collect()
    }

    fn pairs(items: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
        items
            .iter()
            .map(|&(child, kind)| (child.to_owned(), kind))
            .collect()
    }

    /// Events about the children named in `ids`, from the first event matching `from` on.
    fn child_sequence(
        env: &RuntimeEnv,
        ids: &[&str],
        from_seq: u64,
    ) -> Vec<(String, &'static str)> {
        sequence(env, |event| {
            event.seq >= from_seq && ids.iter().any(|id| event.is_about(id))
        })
    }

    fn next_seq(env: &RuntimeEnv) -> u64 {
        env.events
            .snapshot()
            .last()
            .map_or(0, |event| event.seq + 1)
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Outcome {
        Restarted,
        KeptStopped,
        Removed,
    }

    /// One cell of OTP's restart-type × exit-reason matrix.
    fn restart_matrix_case(restart: RestartType, command: Command, outcome: Outcome) {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let supervisor = Supervisor::start(spec(Strategy::OneForOne, 2), &env).expect("start");
        supervisor
            .start_child(probe.service("child1").restart(restart))
            .expect("start_child");
        probe.send("child1", command);
        match outcome {
            Outcome::Restarted => {
                wait_event(&env, "child1", is_restarted);
                assert_eq!(
                    statuses(&supervisor),
                    [("child1".to_owned(), ChildStatus::Running)]
                );
                assert_eq!(supervisor.count_children(), Ok(counts(1, 1, 0, 1)));
                assert_eq!(probe.starts("child1"), 2);
            }
            Outcome::KeptStopped => {
                wait_event(&env, "child1", is_exited);
                assert_eq!(
                    statuses(&supervisor),
                    [("child1".to_owned(), ChildStatus::Stopped)]
                );
                assert_eq!(supervisor.count_children(), Ok(counts(1, 0, 0, 1)));
                // The spec is kept: it can be restarted by hand (as transient_shutdown does).
                assert_eq!(supervisor.restart_child("child1"), Ok(()));
                assert_eq!(supervisor.count_children(), Ok(counts(1, 1, 0, 1)));
            }
            Outcome::Removed => {
                wait_event(&env, "child1", is_exited);
                assert!(supervisor.which_children().expect("which").is_empty());
                assert_eq!(supervisor.count_children(), Ok(counts(0, 0, 0, 0)));
                assert_eq!(probe.starts("child1"), 1);
            }
        }
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
    }

    #[test]
    fn permanent_normal() {
        restart_matrix_case(
            RestartType::Permanent,
            Command::ExitNormally,
            Outcome::Restarted,
        );
    }

    #[test]
    fn permanent_shutdown() {
        restart_matrix_case(
            RestartType::Permanent,
            Command::ExitShutdown,
            Outcome::Restarted,
        );
    }

    #[test]
    fn permanent_abnormal() {
        restart_matrix_case(RestartType::Permanent, Command::Fail, Outcome::Restarted);
    }

    #[test]
    fn permanent_panic() {
        restart_matrix_case(RestartType::Permanent, Command::Panic, Outcome::Restarted);
    }

    #[test]
    fn transient_normal() {
        restart_matrix_case(
            RestartType::Transient,
            Command::ExitNormally,
            Outcome::KeptStopped,
        );
    }

    #[test]
    fn transient_shutdown() {
        restart_matrix_case(
            RestartType::Transient,
            Command::ExitShutdown,
            Outcome::KeptStopped,
        );
    }

    #[test]
    fn transient_abnormal() {
        restart_matrix_case(RestartType::Transient, Command::Fail, Outcome::Restarted);
    }

    #[test]
    fn transient_panic() {
        restart_matrix_case(RestartType::Transient, Command::Panic, Outcome::Restarted);
    }

    #[test]
    fn temporary_normal() {
        restart_matrix_case(
            RestartType::Temporary,
            Command::ExitNormally,
            Outcome::Removed,
        );
    }

    #[test]
    fn temporary_shutdown() {
        restart_matrix_case(
            RestartType::Temporary,
            Command::ExitShutdown,
            Outcome::Removed,
        );
    }

    #[test]
    fn temporary_abnormal() {
        restart_matrix_case(RestartType::Temporary, Command::Fail, Outcome::Removed);
    }

    #[test]
    fn exit_reasons_are_logged() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let supervisor = Supervisor::start(spec(Strategy::OneForOne, 5), &env).expect("start");
        supervisor
            .start_child(probe.service("child1"))
            .expect("start_child");
        probe.send("child1", Command::Panic);
        let event = wait_event(&env, "child1", is_exited);
        assert_eq!(
            event.kind,
            EventKind::Exited {
                reason: ExitReason::Panic("probe child told to panic".to_owned())
            }
        );
        wait_event(&env, "child1", is_restarted);
        probe.send("child1", Command::Fail);
        wait_events(&env, "child1", 2, |kind| {
            *kind
                == EventKind::Exited {
                    reason: ExitReason::Error("abnormal".to_owned()),
                }
                || matches!(
                    kind,
                    EventKind::Exited {
                        reason: ExitReason::Panic(_)
                    }
                )
        });
        drop(supervisor);
    }

    /// A temporary child stopped by a sibling's restart is removed, not restarted.
    #[test]
    fn temporary_bystander() {
        for strategy in [Strategy::OneForAll, Strategy::RestForOne] {
            let (_clock, env) = manual_env();
            let probe = Probe::new();
            let supervisor = Supervisor::start(
                spec(strategy, 2)
                    .child(probe.service("child1"))
                    .child(probe.service("child2").restart(RestartType::Temporary)),
                &env,
            )
            .expect("start");
            probe.send("child1", Command::ExitNormally);
            wait_event(&env, "child1", is_restarted);
            assert_eq!(
                statuses(&supervisor),
                [("child1".to_owned(), ChildStatus::Running)],
                "{strategy:?}"
            );
            assert_eq!(count_events(&env, "child2", is_stopped), 1);
            assert_eq!(probe.starts("child2"), 1);
            assert!(supervisor.is_running());
            assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
        }
    }

    /// Crashes spaced further apart than the window never add up (OTP: intensity 1 per second,
    /// a crash every 2.1 s).
    #[test]
    fn multiple_restarts() {
        let (clock, env) = manual_env();
        let probe = Probe::new();
        let supervisor = Supervisor::start(
            SupervisorSpec::new("sup_test", Strategy::OneForOne)
                .restart_intensity(RestartIntensity::new(1, Duration::from_secs(1)))
                .child(probe.service("child1").shutdown(Shutdown::BrutalKill)),
            &env,
        )
        .expect("start");
        probe.send("child1", Command::Fail);
        wait_events(&env, "child1", 1, is_restarted);
        for crash in 2..=4 {
            clock.advance(Duration::from_millis(2100));
            probe.send("child1", Command::Fail);
            wait_events(&env, "child1", crash, is_restarted);
        }
        assert!(supervisor.is_running());
        assert_eq!(count_events(&env, "child1", is_escalated), 0);
        assert_eq!(supervisor.terminate_child("child1"), Ok(()));
        assert_eq!(supervisor.delete_child("child1"), Ok(()));
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
    }

    fn crash_times(
        probe: &Probe,
        env: &RuntimeEnv,
        already_restarted: usize,
        crashes: usize,
    ) -> usize {
        for crash in 1..=crashes {
            probe.send("child1", Command::Fail);
            wait_events(env, "child1", already_restarted + crash, is_restarted);
        }
        already_restarted + crashes
    }

    fn three_in_ten_seconds(probe: &Probe, env: &RuntimeEnv) -> Supervisor {
        Supervisor::start(
            SupervisorSpec::new("sup_test", Strategy::OneForOne)
                .restart_intensity(RestartIntensity::new(3, Duration::from_secs(10)))
                .child(probe.service("child1")),
            env,
        )
        .expect("start")
    }

    #[test]
    fn multiple_restarts_exactly_at_the_limit() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let supervisor = three_in_ten_seconds(&probe, &env);
        crash_times(&probe, &env, 0, 3);
        assert!(supervisor.is_running());
        assert_eq!(count_events(&env, "child1", is_escalated), 0);
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
    }

    #[test]
    fn multiple_restarts_just_over_the_limit() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let mut supervisor = three_in_ten_seconds(&probe, &env);
        crash_times(&probe, &env, 0, 3);
        probe.send("child1", Command::Fail);
        assert_eq!(supervisor.wait_for_exit(WAIT), Some(ExitReason::Shutdown));
        let escalated = wait_event(&env, "child1", is_escalated);
        assert_eq!(
            escalated.kind,
            EventKind::Escalated {
                max_restarts: 3,
                within: Duration::from_secs(10)
            }
        );
        assert!(!supervisor.is_running());
    }

    /// OTP keeps restarts with `time >= now - period`: one exactly a window old still counts.
    #[test]
    fn multiple_restarts_window_edge_is_inclusive() {
        let (clock, env) = manual_env();
        let probe = Probe::new();
        let mut supervisor = three_in_ten_seconds(&probe, &env);
        crash_times(&probe, &env, 0, 3);
        clock.advance(Duration::from_secs(10));
        probe.send("child1", Command::Fail);
        assert_eq!(supervisor.wait_for_exit(WAIT), Some(ExitReason::Shutdown));
        wait_event(&env, "child1", is_escalated);
    }

    #[test]
    fn multiple_restarts_window_slides_past() {
        let (clock, env) = manual_env();
        let probe = Probe::new();
        let mut supervisor = three_in_ten_seconds(&probe, &env);
        let restarted = crash_times(&probe, &env, 0, 3);
        clock.advance(Duration::from_secs(10) + Duration::from_millis(1));
        // The three old restarts slid out: three more fit.
        crash_times(&probe, &env, restarted, 3);
        assert!(supervisor.is_running());
        probe.send("child1", Command::Fail);
        assert_eq!(supervisor.wait_for_exit(WAIT), Some(ExitReason::Shutdown));
    }

    #[test]
    fn one_for_one() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let mut supervisor = Supervisor::start(
            spec(Strategy::OneForOne, 2)
                .child(probe.service("child1"))
                .child(probe.service("child2")),
            &env,
        )
        .expect("start");
        probe.send("child1", Command::Fail);
        wait_event(&env, "child1", is_restarted);
        assert_eq!(probe.starts("child2"), 1);
        assert_eq!(count_events(&env, "child2", is_stopped), 0);
        assert_eq!(supervisor.count_children(), Ok(counts(2, 2, 0, 2)));

        // Restart frequency: a second restart is fine, a third exceeds 2 per hour.
        probe.send("child2", Command::Fail);
        wait_event(&env, "child2", is_restarted);
        probe.send("child1", Command::Fail);
        assert_eq!(supervisor.wait_for_exit(WAIT), Some(ExitReason::Shutdown));
        let seq = sequence(&env, |event| {
            matches!(
                event.kind,
                EventKind::Escalated { .. }
                    | EventKind::Stopped { .. }
                    | EventKind::SupervisorStopped { .. }
            )
        });
        assert_eq!(
            seq,
            pairs(&[
                ("child1", "escalated"),
                ("child2", "stopped"),
                ("", "supervisor_stopped")
            ])
        );
    }

    /// Failed restart attempts count: a child that cannot start again exhausts the intensity
    /// and takes its siblings down with the supervisor.
    #[test]
    fn one_for_one_escalation() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let mut supervisor = Supervisor::start(
            spec(Strategy::OneForOne, 4)
                .child(probe.service("child1"))
                .child(probe.service("child2")),
            &env,
        )
        .expect("start");
        probe.set_start_policy("child1", StartPolicy::FailAlways);
        probe.send("child1", Command::Fail);
        assert_eq!(supervisor.wait_for_exit(WAIT), Some(ExitReason::Shutdown));
        assert_eq!(count_events(&env, "child1", is_start_failed), 4);
        assert_eq!(count_events(&env, "child1", is_escalated), 1);
        assert_eq!(count_events(&env, "child2", is_stopped), 1);
    }

    #[test]
    fn one_for_all() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let mut supervisor = Supervisor::start(
            spec(Strategy::OneForAll, 2)
                .child(probe.service("child1"))
                .child(probe.service("child2")),
            &env,
        )
        .expect("start");
        let from = next_seq(&env);
        probe.send("child1", Command::Fail);
        wait_event(&env, "child2", is_restarted);
        assert_eq!(
            child_sequence(&env, &["child1", "child2"], from),
            pairs(&[
                ("child1", "exited"),
                ("child2", "stopped"),
                ("child1", "restarted"),
                ("child2", "restarted"),
            ])
        );
        assert_eq!(supervisor.count_children(), Ok(counts(2, 2, 0, 2)));
        assert_eq!((probe.starts("child1"), probe.starts("child2")), (2, 2));

        probe.send("child1", Command::Fail);
        wait_events(&env, "child2", 2, is_restarted);
        probe.send("child2", Command::Fail);
        assert_eq!(supervisor.wait_for_exit(WAIT), Some(ExitReason::Shutdown));
    }

    #[test]
    fn one_for_all_escalation() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let mut supervisor = Supervisor::start(
            spec(Strategy::OneForAll, 4)
                .child(probe.service("child1"))
                .child(probe.service("child2")),
            &env,
        )
        .expect("start");
        probe.set_start_policy("child2", StartPolicy::FailAlways);
        probe.send("child1", Command::Fail);
        assert_eq!(supervisor.wait_for_exit(WAIT), Some(ExitReason::Shutdown));
        assert_eq!(count_events(&env, "child2", is_start_failed), 4);
        assert_eq!(count_events(&env, "child2", is_escalated), 1);
        // child1 came back for every attempt and was stopped before the next one, and at the end.
        assert_eq!(count_events(&env, "child1", is_restarted), 4);
        assert_eq!(count_events(&env, "child1", is_stopped), 4);
    }

    #[test]
    fn rest_for_one() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let mut supervisor = Supervisor::start(
            spec(Strategy::RestForOne, 2)
                .child(probe.service("child1"))
                .child(probe.service("child2"))
                .child(probe.service("child3")),
            &env,
        )
        .expect("start");
        assert_eq!(supervisor.count_children(), Ok(counts(3, 3, 0, 3)));
        let from = next_seq(&env);
        probe.send("child2", Command::Fail);
        wait_event(&env, "child3", is_restarted);
        assert_eq!(
            child_sequence(&env, &["child1", "child2", "child3"], from),
            pairs(&[
                ("child2", "exited"),
                ("child3", "stopped"),
                ("child2", "restarted"),
                ("child3", "restarted"),
            ])
        );
        assert_eq!(probe.starts("child1"), 1);
        assert_eq!(supervisor.count_children(), Ok(counts(3, 3, 0, 3)));

        probe.send("child3", Command::Fail);
        wait_events(&env, "child3", 2, is_restarted);
        probe.send("child2", Command::Fail);
        assert_eq!(supervisor.wait_for_exit(WAIT), Some(ExitReason::Shutdown));
    }

    #[test]
    fn rest_for_one_escalation() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let mut supervisor = Supervisor::start(
            spec(Strategy::RestForOne, 4)
                .child(probe.service("child1"))
                .child(probe.service("child2")),
            &env,
        )
        .expect("start");
        probe.set_start_policy("child2", StartPolicy::FailAlways);
        probe.send("child1", Command::Fail);
        assert_eq!(supervisor.wait_for_exit(WAIT), Some(ExitReason::Shutdown));
        assert_eq!(count_events(&env, "child2", is_start_failed), 4);
        // Retries start from the failed child: child1 restarted once, then stopped at the end.
        assert_eq!(count_events(&env, "child1", is_restarted), 1);
        assert_eq!(count_events(&env, "child1", is_stopped), 1);
    }

    #[test]
    fn one_for_one_other_child_fails_restart() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let supervisor = Supervisor::start(
            spec(Strategy::OneForOne, 3)
                .child(probe.service("child1"))
                .child(probe.service("child2")),
            &env,
        )
        .expect("start");
        let from = next_seq(&env);
        probe.set_start_policy("child1", StartPolicy::FailNext(1));
        probe.send("child1", Command::Fail);
        wait_event(&env, "child1", is_restarted);
        assert_eq!(
            child_sequence(&env, &["child1", "child2"], from),
            pairs(&[
                ("child1", "exited"),
                ("child1", "start_failed"),
                ("child1", "restarted"),
            ])
        );
        assert_eq!(probe.starts("child2"), 1);
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
    }

    /// The restarted child1 is stopped again when child2 fails to start, then both restart.
    #[test]
    fn one_for_all_other_child_fails_restart() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let supervisor = Supervisor::start(
            spec(Strategy::OneForAll, 3)
                .child(probe.service("child1"))
                .child(probe.service("child2")),
            &env,
        )
        .expect("start");
        let from = next_seq(&env);
        probe.set_start_policy("child2", StartPolicy::FailNext(1));
        probe.send("child1", Command::Fail);
        wait_event(&env, "child2", is_restarted);
        assert_eq!(
            child_sequence(&env, &["child1", "child2"], from),
            pairs(&[
                ("child1", "exited"),
                ("child2", "stopped"),
                ("child1", "restarted"),
                ("child2", "start_failed"),
                ("child1", "stopped"),
                ("child1", "restarted"),
                ("child2", "restarted"),
            ])
        );
        assert_eq!(supervisor.count_children(), Ok(counts(2, 2, 0, 2)));
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
    }

    /// The retry restarts from the child that failed: child1 is not restarted again.
    #[test]
    fn rest_for_one_other_child_fails_restart() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let supervisor = Supervisor::start(
            spec(Strategy::RestForOne, 3)
                .child(probe.service("child1"))
                .child(probe.service("child2")),
            &env,
        )
        .expect("start");
        let from = next_seq(&env);
        probe.set_start_policy("child2", StartPolicy::FailNext(1));
        probe.send("child1", Command::Fail);
        wait_event(&env, "child2", is_restarted);
        assert_eq!(
            child_sequence(&env, &["child1", "child2"], from),
            pairs(&[
                ("child1", "exited"),
                ("child2", "stopped"),
                ("child1", "restarted"),
                ("child2", "start_failed"),
                ("child2", "restarted"),
            ])
        );
        assert_eq!(probe.starts("child1"), 2);
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
    }

    #[test]
    fn order_of_children() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        // Ids that are not in alphabetical order.
        let ids = ["ch7", "ch3", "ch10", "ch2", "ch5"];
        let supervisor = Supervisor::start(
            spec(Strategy::RestForOne, 2).children(ids.iter().map(|id| probe.service(id))),
            &env,
        )
        .expect("start");
        let started: Vec<_> = sequence(&env, |event| matches!(event.kind, EventKind::Started))
            .into_iter()
            .map(|(child, _)| child)
            .collect();
        assert_eq!(started, ids);
        assert_eq!(
            statuses(&supervisor)
                .into_iter()
                .map(|(id, _)| id)
                .collect::<Vec<_>>(),
            ids
        );

        let from = next_seq(&env);
        probe.send("ch10", Command::Fail);
        wait_event(&env, "ch5", is_restarted);
        assert_eq!(
            child_sequence(&env, &ids, from),
            pairs(&[
                ("ch10", "exited"),
                ("ch5", "stopped"),
                ("ch2", "stopped"),
                ("ch10", "restarted"),
                ("ch2", "restarted"),
                ("ch5", "restarted"),
            ])
        );

        let from = next_seq(&env);
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
        assert_eq!(
            child_sequence(&env, &ids, from),
            pairs(&[
                ("ch5", "stopped"),
                ("ch2", "stopped"),
                ("ch10", "stopped"),
                ("ch3", "stopped"),
                ("ch7", "stopped"),
            ])
        );
    }

    /// A child that ignores its stop is abandoned after its shutdown time; the others still
    /// stop gracefully, in reverse start order.
    #[test]
    fn sup_stop_timeout() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let supervisor = Supervisor::start(
            spec(Strategy::OneForOne, 2)
                .child(probe.service("first"))
                .child(
                    probe
                        .stubborn("stubborn")
                        .shutdown(Shutdown::Timeout(Duration::from_millis(100))),
                )
                .child(probe.service("last")),
            &env,
        )
        .expect("start");
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
        assert_eq!(
            sequence(&env, |event| matches!(
                event.kind,
                EventKind::Stopped { .. } | EventKind::Killed { .. }
            )),
            pairs(&[
                ("last", "stopped"),
                ("stubborn", "killed"),
                ("first", "stopped"),
            ])
        );
        let killed = wait_event(&env, "stubborn", |kind| {
            matches!(kind, EventKind::Killed { .. })
        });
        assert_eq!(
            killed.kind,
            EventKind::Killed {
                waited: Duration::from_millis(100)
            }
        );
        let stopped = wait_event(&env, "first", is_stopped);
        assert_eq!(
            stopped.kind,
            EventKind::Stopped {
                reason: ExitReason::Shutdown
            }
        );
    }

    #[test]
    fn brutal_kill_does_not_wait() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let supervisor = Supervisor::start(
            spec(Strategy::OneForOne, 2)
                .child(probe.stubborn("stubborn").shutdown(Shutdown::BrutalKill)),
            &env,
        )
        .expect("start");
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
        let killed = wait_event(&env, "stubborn", |kind| {
            matches!(kind, EventKind::Killed { .. })
        });
        assert_eq!(
            killed.kind,
            EventKind::Killed {
                waited: Duration::ZERO
            }
        );
    }

    /// A failing start rolls back the children already started, in reverse order.
    #[test]
    fn sup_start_fail() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        probe.set_start_policy("c", StartPolicy::FailNext(1));
        let error = Supervisor::start(
            spec(Strategy::OneForOne, 2)
                .child(probe.service("a"))
                .child(probe.service("b"))
                .child(probe.service("c"))
                .child(probe.service("d")),
            &env,
        )
        .expect_err("c cannot start");
        assert_eq!(
            error,
            SupervisorError::StartFailed {
                supervisor: "sup_test".to_owned(),
                child: "c".to_owned(),
                reason: "c refused to start".to_owned(),
            }
        );
        assert_eq!(
            sequence(&env, |_| true),
            pairs(&[
                ("a", "started"),
                ("b", "started"),
                ("c", "start_failed"),
                ("b", "stopped"),
                ("a", "stopped"),
            ])
        );
        assert_eq!(probe.starts("d"), 0);
    }

    #[test]
    fn nested_start_failure_rolls_back_the_parent() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        probe.set_start_policy("inner", StartPolicy::FailAlways);
        let nested = probe.clone();
        let error = Supervisor::start(
            spec(Strategy::OneForOne, 2)
                .child(probe.service("before"))
                .child(ChildSpec::supervisor("nested", move || {
                    SupervisorSpec::new("nested", Strategy::OneForOne)
                        .child(nested.service("inner"))
                })),
            &env,
        )
        .expect_err("inner cannot start");
        assert!(
            matches!(&error, SupervisorError::StartFailed { child, reason, .. }
                if child == "nested" && reason.contains("inner refused to start")),
            "{error}"
        );
        assert_eq!(count_events(&env, "before", is_stopped), 1);
    }

    #[test]
    fn duplicate_child_ids_are_rejected_before_anything_starts() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let error = Supervisor::start(
            spec(Strategy::OneForOne, 2)
                .child(probe.service("twin"))
                .child(probe.service("twin")),
            &env,
        )
        .expect_err("duplicate");
        assert!(matches!(error, SupervisorError::DuplicateChild { .. }));
        assert_eq!(probe.starts("twin"), 0);
    }

    #[test]
    fn a_panicking_start_is_a_start_failure() {
        let (_clock, env) = manual_env();
        let error = Supervisor::start(
            spec(Strategy::OneForOne, 2).child(ChildSpec::worker(
                "broken",
                |context: &ChildContext| {
                    if context.id() == "broken" {
                        panic!("no config");
                    }
                    Ok(|_context: ChildContext| Ok::<(), ChildError>(()))
                },
            )),
            &env,
        )
        .expect_err("panicking start");
        assert!(
            matches!(&error, SupervisorError::StartFailed { reason, .. } if reason == "start panicked: no config"),
            "{error}"
        );
    }

    /// OTP-9549: a child that can never start keeps being retried through the mailbox, and the
    /// supervisor still answers requests, `terminate_child` and shutdown.
    #[test]
    fn hanging_restart_loop() {
        let (clock, env) = manual_env();
        let fail_start = Arc::new(AtomicBool::new(false));
        let (crash, crashes) = crossbeam_channel::unbounded::<()>();
        let child = {
            let fail_start = Arc::clone(&fail_start);
            let clock = Arc::clone(&clock);
            ChildSpec::worker("child1", move |_context| {
                if fail_start.load(Ordering::SeqCst) {
                    // Each failing start "takes" 2 s, as supervisor_deadlock's does, so 8
                    // restarts per 10 s are never exceeded and the loop goes on.
                    clock.advance(Duration::from_secs(2));
                    return Err(ChildError::new("cannot start"));
                }
                let crashes = crashes.clone();
                Ok(move |context: ChildContext| select_stop_or_crash(&context, &crashes))
            })
            .shutdown(Shutdown::BrutalKill)
        };
        let supervisor = Supervisor::start(
            SupervisorSpec::new("sup_test", Strategy::OneForOne)
                .restart_intensity(RestartIntensity::new(8, Duration::from_secs(10))),
            &env,
        )
        .expect("start");
        supervisor.start_child(child.clone()).expect("start_child");

        fail_start.store(true, Ordering::SeqCst);
        crash.send(()).expect("crash");
        wait_events(&env, "child1", 5, is_start_failed);
        assert_eq!(
            supervisor.start_child(child.clone()),
            Err(SupervisorError::AlreadyPresent {
                child: "child1".to_owned()
            })
        );
        let restarting = Err(SupervisorError::Restarting {
            child: "child1".to_owned(),
        });
        assert_eq!(supervisor.restart_child("child1"), restarting);
        assert_eq!(supervisor.delete_child("child1"), restarting);
        assert_eq!(
            statuses(&supervisor),
            [("child1".to_owned(), ChildStatus::Restarting)]
        );
        assert_eq!(supervisor.count_children(), Ok(counts(1, 0, 0, 1)));

        assert_eq!(supervisor.terminate_child("child1"), Ok(()));
        assert_eq!(
            statuses(&supervisor),
            [("child1".to_owned(), ChildStatus::Stopped)]
        );
        // The retry queued before terminate_child found the child stopped: the loop is over.
        let failures = count_events(&env, "child1", is_start_failed);
        assert!(supervisor.is_running());
        assert_eq!(count_events(&env, "child1", is_start_failed), failures);

        fail_start.store(false, Ordering::SeqCst);
        assert_eq!(supervisor.restart_child("child1"), Ok(()));
        fail_start.store(true, Ordering::SeqCst);
        crash.send(()).expect("crash");
        wait_events(&env, "child1", failures + 5, is_start_failed);
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
        assert_eq!(count_events(&env, "child1", is_escalated), 0);
    }

    fn select_stop_or_crash(
        context: &ChildContext,
        crashes: &crossbeam_channel::Receiver<()>,
    ) -> Result<(), ChildError> {
        crossbeam_channel::select! {
            recv(context.stop_signal()) -> _ => Ok(()),
            recv(crashes) -> _ => Err(ChildError::new("error")),
        }
    }

    fn empty_one_for_one(max_restarts: u32) -> SupervisorSpec {
        SupervisorSpec::new("unnamed", Strategy::OneForOne)
            .restart_intensity(RestartIntensity::new(max_restarts, HOUR))
    }

    /// OTP's `tree`: a child supervisor that gives up is restarted by the root with its
    /// siblings (one_for_all); children added to it dynamically are not restored.
    #[test]
    fn tree() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let workers = probe.clone();
        let supervisor = Supervisor::start(
            SupervisorSpec::new("top", Strategy::OneForAll)
                .restart_intensity(RestartIntensity::new(4, HOUR)),
            &env,
        )
        .expect("start");
        supervisor
            .start_child(ChildSpec::supervisor("supchild1", move || {
                empty_one_for_one(4)
                    .child(workers.service("child1"))
                    .child(workers.service("child2"))
            }))
            .expect("supchild1");
        supervisor
            .start_child(ChildSpec::supervisor("supchild2", || empty_one_for_one(4)))
            .expect("supchild2");
        supervisor
            .start_child(
                ChildSpec::supervisor("supchild3", || empty_one_for_one(4))
                    .restart(RestartType::Transient),
            )
            .expect("supchild3");
        assert_eq!(supervisor.terminate_child("supchild3"), Ok(()));
        assert_eq!(supervisor.count_children(), Ok(counts(3, 2, 3, 0)));

        let sup1 = supervisor.child_supervisor("supchild1").expect("sup1");
        let sup2 = supervisor.child_supervisor("supchild2").expect("sup2");
        assert_eq!(sup1.path(), "top/supchild1");
        assert_eq!(sup1.count_children(), Ok(counts(2, 2, 0, 2)));
        assert_eq!(sup2.count_children(), Ok(counts(0, 0, 0, 0)));

        sup2.start_child(probe.service("child3")).expect("child3");
        sup2.start_child(probe.service("child4")).expect("child4");
        assert_eq!(sup2.count_children(), Ok(counts(2, 2, 0, 2)));

        // Only the child that dies is restarted.
        probe.send("child4", Command::Fail);
        wait_event(&env, "child4", is_restarted);
        assert_eq!(probe.starts("child1"), 1);
        assert_eq!(probe.starts("child3"), 1);
        assert_eq!(sup1.count_children(), Ok(counts(2, 2, 0, 2)));
        assert_eq!(sup2.count_children(), Ok(counts(2, 2, 0, 2)));

        // child3 cannot restart: supchild2 gives up, the root restarts all three subtrees.
        probe.set_start_policy("child3", StartPolicy::FailAlways);
        probe.send("child3", Command::Fail);
        wait_event(&env, "supchild3", is_restarted);
        assert_eq!(
            wait_supervisor_stopped(&env, "top/supchild2"),
            ExitReason::Shutdown
        );
        assert_eq!(count_events(&env, "child3", is_escalated), 1);
        let exited = wait_event(&env, "supchild2", is_exited);
        assert_eq!(
            exited.kind,
            EventKind::Exited {
                reason: ExitReason::Shutdown
            }
        );
        assert_eq!(supervisor.count_children(), Ok(counts(3, 3, 3, 0)));
        assert!(!sup1.is_running(), "the old supchild1 was stopped");

        let new_sup1 = supervisor.child_supervisor("supchild1").expect("new sup1");
        let new_sup2 = supervisor.child_supervisor("supchild2").expect("new sup2");
        let new_sup3 = supervisor.child_supervisor("supchild3").expect("new sup3");
        assert_eq!(
            statuses(&new_sup1),
            [
                ("child1".to_owned(), ChildStatus::Running),
                ("child2".to_owned(), ChildStatus::Running)
            ]
        );
        assert_eq!(probe.starts("child1"), 2);
        assert_eq!(new_sup2.count_children(), Ok(counts(0, 0, 0, 0)));
        assert_eq!(new_sup3.count_children(), Ok(counts(0, 0, 0, 0)));

        let from = next_seq(&env);
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
        // A supervisor child waits for its whole subtree before its parent goes on.
        assert_eq!(
            child_sequence(&env, &["supchild1", "child1", "child2"], from),
            pairs(&[
                ("child2", "stopped"),
                ("child1", "stopped"),
                ("supchild1", "stopped"),
            ])
        );
    }

    /// Escalation all the way up: the root gives up too and ends with `shutdown`.
    #[test]
    fn tree_escalates_to_the_root() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let workers = probe.clone();
        let mut root = Supervisor::start(
            SupervisorSpec::new("root", Strategy::OneForOne)
                .restart_intensity(RestartIntensity::new(0, HOUR))
                .child(ChildSpec::supervisor("services", move || {
                    SupervisorSpec::new("services", Strategy::OneForOne)
                        .restart_intensity(RestartIntensity::new(1, HOUR))
                        .child(workers.service("worker"))
                })),
            &env,
        )
        .expect("start");
        probe.send("worker", Command::Fail);
        wait_event(&env, "worker", is_restarted);
        probe.send("worker", Command::Fail);
        assert_eq!(root.wait_for_exit(WAIT), Some(ExitReason::Shutdown));
        assert_eq!(count_events(&env, "worker", is_escalated), 1);
        assert_eq!(count_events(&env, "services", is_escalated), 1);
        assert_eq!(
            wait_supervisor_stopped(&env, "root/services"),
            ExitReason::Shutdown
        );
        assert_eq!(wait_supervisor_stopped(&env, "root"), ExitReason::Shutdown);
    }

    #[test]
    fn dynamic_pool_starts_and_stops_many_temporary_children() {
        let (_clock, env) = manual_env();
        let pool = Supervisor::start(SupervisorSpec::dynamic("pool"), &env).expect("start");
        let mut ids = Vec::new();
        for _ in 0..200 {
            let id = pool
                .start_child(ChildSpec::task("query", |context| {
                    context.wait_for_stop();
                    Ok(())
                }))
                .expect("start task");
            ids.push(id);
        }
        assert_eq!(ids.first().map(String::as_str), Some("query#1"));
        assert_eq!(ids.last().map(String::as_str), Some("query#200"));
        assert_eq!(pool.count_children(), Ok(counts(200, 200, 0, 200)));
        assert_eq!(shutdown_within_wait(pool), ExitReason::Shutdown);
        let stopped = env
            .events
            .count(|event| matches!(event.kind, EventKind::Stopped { .. }));
        let killed = env
            .events
            .count(|event| matches!(event.kind, EventKind::Killed { .. }));
        assert_eq!((stopped, killed), (200, 0), "{}", log_text(&env));
    }

    #[test]
    fn dynamic_pool_removes_finished_tasks() {
        let (_clock, env) = manual_env();
        let pool = Supervisor::start(SupervisorSpec::dynamic("pool"), &env).expect("start");
        let (results, finished) = crossbeam_channel::unbounded();
        for number in 0..50 {
            let results = results.clone();
            pool.start_child(ChildSpec::task("job", move |_context| {
                results.send(number * 2).map_err(ChildError::new)
            }))
            .expect("start task");
        }
        assert!(env.events.wait_until(WAIT, |events| {
            events
                .iter()
                .filter(|event| matches!(event.kind, EventKind::Exited { .. }))
                .count()
                == 50
        }));
        assert_eq!(pool.count_children(), Ok(counts(0, 0, 0, 0)));
        let mut sum = 0;
        for _ in 0..50 {
            sum += finished.recv_timeout(WAIT).expect("result");
        }
        assert_eq!(sum, (0..50).map(|number| number * 2).sum::<i32>());
        drop(pool);
    }

    #[test]
    fn dynamic_pool_limits_and_unsupported_requests() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let pool = Supervisor::start(SupervisorSpec::dynamic("pool").max_children(2), &env)
            .expect("start");
        let first = pool.start_child(probe.service("worker")).expect("first");
        pool.start_child(probe.service("worker")).expect("second");
        assert_eq!(
            pool.start_child(probe.service("worker")),
            Err(SupervisorError::MaxChildren { limit: 2 })
        );
        assert!(matches!(
            pool.restart_child(&first),
            Err(SupervisorError::NotForDynamicSupervisors { .. })
        ));
        assert!(matches!(
            pool.delete_child(&first),
            Err(SupervisorError::NotForDynamicSupervisors { .. })
        ));
        // terminate_child removes a dynamic child, which frees a place.
        assert_eq!(pool.terminate_child(&first), Ok(()));
        assert_eq!(pool.count_children(), Ok(counts(1, 1, 0, 1)));
        pool.start_child(probe.service("worker")).expect("third");
        assert_eq!(shutdown_within_wait(pool), ExitReason::Shutdown);
    }

    #[test]
    fn dynamic_pool_restarts_permanent_children_in_place() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let pool = Supervisor::start(SupervisorSpec::dynamic("pool"), &env).expect("start");
        let id = pool.start_child(probe.service("worker")).expect("start");
        assert_eq!(id, "worker#1");
        probe.send(&id, Command::Fail);
        wait_event(&env, &id, is_restarted);
        assert_eq!(statuses(&pool), [(id.clone(), ChildStatus::Running)]);
        // A transient child that ends cleanly is removed, as in OTP's simple_one_for_one.
        let transient = pool
            .start_child(probe.service("worker").restart(RestartType::Transient))
            .expect("transient");
        probe.send(&transient, Command::ExitNormally);
        wait_event(&env, &transient, is_exited);
        assert_eq!(statuses(&pool), [(id, ChildStatus::Running)]);
        assert_eq!(shutdown_within_wait(pool), ExitReason::Shutdown);
    }

    #[test]
    fn pool_inside_a_tree_is_reachable_and_shut_down_with_it() {
        let (_clock, env) = manual_env();
        let root = Supervisor::start(
            SupervisorSpec::new("root", Strategy::OneForOne)
                .restart_intensity(RestartIntensity::ROOT)
                .child(ChildSpec::supervisor("workers", || {
                    SupervisorSpec::dynamic("workers")
                })),
            &env,
        )
        .expect("start");
        let pool = root.child_supervisor("workers").expect("pool");
        for _ in 0..10 {
            pool.start_child(ChildSpec::task("task", |context| {
                context.wait_for_stop();
                Ok(())
            }))
            .expect("task");
        }
        assert_eq!(shutdown_within_wait(root), ExitReason::Shutdown);
        assert_eq!(
            env.events
                .count(|event| &*event.supervisor == "root/workers"
                    && matches!(event.kind, EventKind::Stopped { .. })),
            10
        );
        assert!(!pool.is_running());
    }

    /// On real time: what a child learns from its context, and a stop it waits for.
    #[test]
    fn context_tells_a_child_where_it_is_and_when_to_stop() {
        let env = RuntimeEnv::monotonic();
        let (report, reports) = crossbeam_channel::unbounded();
        let spec = SupervisorSpec::new("root", Strategy::RestForOne).child(ChildSpec::service(
            "watcher",
            move |context| {
                let _ = report.send((
                    context.id().to_owned(),
                    context.supervisor_path().to_owned(),
                    context.is_stop_requested(),
                    context.wait_for_stop_timeout(Duration::from_millis(1)),
                    context.clock().now() > Duration::ZERO,
                ));
                while !context.stop_token().wait_timeout(Duration::from_secs(60)) {}
                Ok(())
            },
        ));
        assert_eq!(
            (spec.name(), spec.strategy(), spec.is_dynamic()),
            ("root", Strategy::RestForOne, false)
        );
        assert!(SupervisorSpec::dynamic("pool").is_dynamic());
        let root = Supervisor::start(spec, &env).expect("start");
        assert_eq!(
            reports.recv_timeout(WAIT).expect("report"),
            ("watcher".to_owned(), "root".to_owned(), false, false, true)
        );
        assert_eq!(shutdown_within_wait(root), ExitReason::Shutdown);
        let stopped = wait_event(&env, "watcher", is_stopped);
        assert_eq!(
            stopped.kind,
            EventKind::Stopped {
                reason: ExitReason::Shutdown
            }
        );
    }

    #[test]
    fn handles_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Supervisor>();
        assert_send_sync::<SupervisorRef>();
        assert_send_sync::<ChildSpec>();
        assert_send_sync::<ChildContext>();
        assert_send_sync::<RuntimeEnv>();
    }

    #[test]
    fn start_child_rejects_ids_in_use() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let supervisor = Supervisor::start(
            spec(Strategy::OneForOne, 2).child(probe.service("child1")),
            &env,
        )
        .expect("start");
        assert_eq!(
            supervisor.start_child(probe.service("child1")),
            Err(SupervisorError::AlreadyStarted {
                child: "child1".to_owned()
            })
        );
        assert_eq!(supervisor.terminate_child("child1"), Ok(()));
        assert_eq!(
            supervisor.start_child(probe.service("child1")),
            Err(SupervisorError::AlreadyPresent {
                child: "child1".to_owned()
            })
        );
        assert_eq!(supervisor.restart_child("child1"), Ok(()));
        assert_eq!(
            supervisor.restart_child("child1"),
            Err(SupervisorError::StillRunning {
                child: "child1".to_owned()
            })
        );
        assert_eq!(
            supervisor.delete_child("child1"),
            Err(SupervisorError::StillRunning {
                child: "child1".to_owned()
            })
        );
        assert_eq!(supervisor.terminate_child("child1"), Ok(()));
        assert_eq!(supervisor.delete_child("child1"), Ok(()));
        assert_eq!(
            supervisor.terminate_child("child1"),
            Err(SupervisorError::NotFound {
                child: "child1".to_owned()
            })
        );
        assert!(matches!(
            supervisor.child_supervisor("child1"),
            Err(SupervisorError::NotFound { child }) if child == "child1"
        ));
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
    }

    #[test]
    fn requests_to_an_ended_supervisor_fail_fast() {
        let (_clock, env) = manual_env();
        let supervisor = Supervisor::start(spec(Strategy::OneForOne, 2), &env).expect("start");
        let reference = supervisor.reference().clone();
        assert!(reference.is_running());
        assert_eq!(shutdown_within_wait(supervisor), ExitReason::Shutdown);
        assert_eq!(
            reference.which_children().map(|children| children.len()),
            Err(SupervisorError::NotRunning {
                supervisor: "sup_test".to_owned()
            })
        );
        assert!(!reference.is_running());
    }

    #[test]
    fn dropping_the_handle_shuts_the_tree_down() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let supervisor = Supervisor::start(
            spec(Strategy::OneForOne, 2).child(probe.service("child1")),
            &env,
        )
        .expect("start");
        drop(supervisor);
        assert_eq!(
            wait_supervisor_stopped(&env, "sup_test"),
            ExitReason::Shutdown
        );
        assert_eq!(count_events(&env, "child1", is_stopped), 1);
    }

    #[test]
    fn health_check_is_healthy_when_everything_runs() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let workers = probe.clone();
        let root = Supervisor::start(
            spec(Strategy::OneForOne, 2)
                .child(probe.service("parser"))
                .child(ChildSpec::supervisor("repository", move || {
                    empty_one_for_one(2).child(workers.service("core"))
                })),
            &env,
        )
        .expect("start");
        let report = root.health_check().expect("health");
        assert_eq!(report.status, HealthStatus::Healthy);
        assert_eq!(report.children.len(), 2);
        let subtree = report.children[1].subtree.as_ref().expect("subtree");
        assert_eq!(subtree.supervisor, "sup_test/repository");
        assert_eq!(subtree.children[0].id, "core");
        assert!(report.problems().is_empty());
        drop(root);
    }

    #[test]
    fn health_check_reports_degraded_services_with_detail() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let workers = probe.clone();
        let root = Supervisor::start(
            spec(Strategy::OneForOne, 2)
                .child(probe.service("parser"))
                .child(ChildSpec::supervisor("sync", move || {
                    empty_one_for_one(2).child(workers.service("file_watcher"))
                })),
            &env,
        )
        .expect("start");
        probe.send(
            "file_watcher",
            Command::Report(Health::Degraded("polling".to_owned())),
        );
        // The report is published by the child's thread; ask until it shows.
        let report = wait_for_report(&root, |report| report.status == HealthStatus::Degraded);
        assert_eq!(
            report.problems(),
            [(
                "sup_test/sync/file_watcher".to_owned(),
                Health::Degraded("polling".to_owned())
            )]
        );
        assert!(
            matches!(&report.children[1].health, Health::Degraded(detail)
            if detail.contains("sup_test/sync/file_watcher"))
        );
        assert_eq!(report.children[0].health, Health::Healthy);

        probe.send("file_watcher", Command::Report(Health::Healthy));
        wait_for_report(&root, |report| report.status == HealthStatus::Healthy);
        drop(root);
    }

    fn wait_for_report(
        supervisor: &SupervisorRef,
        mut accept: impl FnMut(&HealthReport) -> bool,
    ) -> HealthReport {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let report = supervisor.health_check().expect("health");
            if accept(&report) {
                return report;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "health never matched: {report:?}"
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn health_check_counts_stopped_children() {
        let (_clock, env) = manual_env();
        let probe = Probe::new();
        let root = Supervisor::start(
            spec(Strategy::OneForOne, 2)
                .child(probe.service("core"))
                .child(probe.service("batch").restart(RestartType::Transient)),
            &env,
        )
        .expect("start");
        // A transient child that finished its work cleanly is not a problem.
        probe.send("batch", Command::ExitNormally);
        wait_event(&env, "batch", is_exited);
        assert_eq!(
            root.health_check().expect("health").status,
            HealthStatus::Healthy
        );
        // A permanent child stopped by hand is.
        assert_eq!(root.terminate_child("core"), Ok(()));
        let report = root.health_check().expect("health");
        assert_eq!(report.status, HealthStatus::Degraded);
        assert_eq!(
            report.problems(),
            [(
                "sup_test/core".to_owned(),
                Health::Unhealthy("not running".to_owned())
            )]
        );
        drop(root);
    }
}
