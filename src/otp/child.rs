//! Child specifications and what a running child sees: its context and stop signal.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use super::clock::SharedClock;
use super::health::{Health, HealthCell};
use super::lock;
use super::supervisor::SupervisorSpec;

/// A child's name within its supervisor, as OTP's child `id`.
pub(crate) type ChildId = String;

/// When a child that ended is started again (OTP's `restart` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RestartType {
    /// Always restarted, whatever the exit reason.
    Permanent,
    /// Restarted only after an abnormal exit: not after [`ExitReason::Normal`] or
    /// [`ExitReason::Shutdown`].
    Transient,
    /// Never restarted, not even when a `rest_for_one`/`one_for_all` sibling's restart stopped
    /// it: it is then removed from its supervisor.
    Temporary,
}

impl RestartType {
    /// OTP's `do_restart/3`: whether an exit with `reason` leads to a restart.
    pub(crate) fn restarts_after(self, reason: &ExitReason) -> bool {
        match self {
            Self::Permanent => true,
            Self::Transient => reason.is_abnormal(),
            Self::Temporary => false,
        }
    }
}

/// How a supervisor stops a child (OTP's `shutdown` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shutdown {
    /// Signal the stop and do not wait: unless the child had already ended, it is abandoned
    /// and recorded as killed (a thread cannot be killed; it should still honour its stop token).
    BrutalKill,
    /// Signal the stop and wait this long for the child to end; after that it is abandoned
    /// and recorded as killed.
    Timeout(Duration),
    /// Signal the stop and wait as long as it takes: the default for supervisor children,
    /// which need time to stop their whole subtree.
    Infinity,
}

/// OTP's default shutdown time for a worker: 5000 ms.
pub(crate) const DEFAULT_WORKER_SHUTDOWN: Shutdown = Shutdown::Timeout(Duration::from_secs(5));

/// Whether a child is a worker or a supervisor (OTP's `type` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChildKind {
    Worker,
    Supervisor,
}

/// Why a child or a supervisor ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExitReason {
    /// The body returned `Ok(())` without being asked to stop (OTP `normal`).
    Normal,
    /// The child stopped because it was asked to, or chose to end with
    /// [`ChildError::shutdown`]; supervisors exit with it too (OTP `shutdown`).
    Shutdown,
    /// The body returned an error.
    Error(String),
    /// The body panicked; the panic was caught at the thread boundary.
    Panic(String),
}

impl ExitReason {
    /// OTP's notion of abnormal: anything but `normal` and `shutdown`.
    pub(crate) fn is_abnormal(&self) -> bool {
        matches!(self, Self::Error(_) | Self::Panic(_))
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Normal => f.write_str("normal"),
            Self::Shutdown => f.write_str("shutdown"),
            Self::Error(message) => write!(f, "error: {message}"),
            Self::Panic(message) => write!(f, "panic: {message}"),
        }
    }
}

/// Why a start function or a child body failed.
///
/// Any `std::error::Error` converts into it, so bodies can use `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChildError {
    reason: ExitReason,
}

impl ChildError {
    /// An abnormal failure: a transient child is restarted after it.
    pub(crate) fn new(message: impl fmt::Display) -> Self {
        Self {
            reason: ExitReason::Error(message.to_string()),
        }
    }

    /// A deliberate `shutdown` exit (OTP's `{shutdown, Term}`): not abnormal, so a transient
    /// child is not restarted after it.
    pub(crate) fn shutdown() -> Self {
        Self {
            reason: ExitReason::Shutdown,
        }
    }

    pub(crate) fn into_exit_reason(self) -> ExitReason {
        self.reason
    }
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            ExitReason::Error(message) | ExitReason::Panic(message) => f.write_str(message),
            other => other.fmt(f),
        }
    }
}

impl<E: std::error::Error> From<E> for ChildError {
    fn from(error: E) -> Self {
        Self::new(error)
    }
}

/// The body of a started worker: runs on the child's own thread until it returns.
pub(crate) type WorkerBody = Box<dyn FnOnce(ChildContext) -> Result<(), ChildError> + Send>;

type WorkerStart = dyn Fn(&ChildContext) -> Result<WorkerBody, ChildError> + Send + Sync;
type SupervisorFactory = dyn Fn() -> SupervisorSpec + Send + Sync;

/// How a child is started; kept so it can be called again for every restart.
#[derive(Clone)]
pub(super) enum ChildStart {
    Worker(Arc<WorkerStart>),
    Supervisor(Arc<SupervisorFactory>),
}

/// Everything a supervisor needs to start, restart and stop one child (OTP's child spec).
#[derive(Clone)]
pub(crate) struct ChildSpec {
    id: ChildId,
    start: ChildStart,
    restart: RestartType,
    shutdown: Shutdown,
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("kind", &self.kind())
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .finish()
    }
}

impl ChildSpec {
    /// A worker started in two steps, as OTP's `start_link` + `init/1`: `start` runs on the new
    /// child thread and the supervisor waits for it, so a failing `start` is a start failure
    /// (the supervisor's start-up is rolled back, a restart is retried); the body it returns then
    /// runs on the same thread. `start` is called again for every restart. As in OTP, a
    /// `start` that never returns blocks its supervisor.
    pub(crate) fn worker<S, B>(id: impl Into<ChildId>, start: S) -> Self
    where
        S: Fn(&ChildContext) -> Result<B, ChildError> + Send + Sync + 'static,
        B: FnOnce(ChildContext) -> Result<(), ChildError> + Send + 'static,
    {
        let start: Arc<WorkerStart> =
            Arc::new(move |context| start(context).map(|body| Box::new(body) as WorkerBody));
        Self {
            id: id.into(),
            start: ChildStart::Worker(start),
            restart: RestartType::Permanent,
            shutdown: DEFAULT_WORKER_SHUTDOWN,
        }
    }

    /// A long-lived worker with nothing to set up: its start cannot fail, `run` is the body
    /// and is called again for every restart. It should return once its stop token fires.
    pub(crate) fn service<R>(id: impl Into<ChildId>, run: R) -> Self
    where
        R: Fn(ChildContext) -> Result<(), ChildError> + Send + Sync + 'static,
    {
        let run = Arc::new(run);
        Self::worker(id, move |_context| {
            let run = Arc::clone(&run);
            Ok(move |context| run(context))
        })
    }

    /// A one-shot temporary worker for a pool: `run` executes once and is never restarted
    /// (OTP's temporary children keep no start arguments). Making it restartable with
    /// [`ChildSpec::restart`] makes every restart fail to start.
    pub(crate) fn task<R>(id: impl Into<ChildId>, run: R) -> Self
    where
        R: FnOnce(ChildContext) -> Result<(), ChildError> + Send + 'static,
    {
        let run = Mutex::new(Some(run));
        Self::worker(id, move |_context| {
            lock(&run)
                .take()
                .ok_or_else(|| ChildError::new("a task runs only once and cannot be restarted"))
        })
        .restart(RestartType::Temporary)
    }

    /// A nested supervisor. `spec` is called for every (re)start, like OTP calling the child
    /// supervisor's `init/1` again: children added later with `start_child` are not restored.
    /// It defaults to [`Shutdown::Infinity`] so its whole subtree can stop.
    pub(crate) fn supervisor<F>(id: impl Into<ChildId>, spec: F) -> Self
    where
        F: Fn() -> SupervisorSpec + Send + Sync + 'static,
    {
        Self {
            id: id.into(),
            start: ChildStart::Supervisor(Arc::new(spec)),
            restart: RestartType::Permanent,
            shutdown: Shutdown::Infinity,
        }
    }

    pub(crate) fn restart(mut self, restart: RestartType) -> Self {
        self.restart = restart;
        self
    }

    pub(crate) fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn restart_type(&self) -> RestartType {
        self.restart
    }

    pub(crate) fn shutdown_policy(&self) -> Shutdown {
        self.shutdown
    }

    pub(crate) fn kind(&self) -> ChildKind {
        match self.start {
            ChildStart::Worker(_) => ChildKind::Worker,
            ChildStart::Supervisor(_) => ChildKind::Supervisor,
        }
    }

    pub(super) fn start_fn(&self) -> &ChildStart {
        &self.start
    }

    pub(super) fn with_id(mut self, id: ChildId) -> Self {
        self.id = id;
        self
    }
}

/// Never sent: the stop channel only ever disconnects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopNever {}

/// The cooperative stop signal of one child or supervisor.
///
/// It fires when the owner asks the child to stop, and also when the owner is dropped (a
/// supervisor thread that unwinds still tells its children to stop, as an OTP exit signal
/// reaches linked processes). Waiting on it does not poll.
#[derive(Debug, Clone)]
pub(crate) struct StopToken {
    signal: Receiver<StopNever>,
}

impl StopToken {
    pub(crate) fn is_stop_requested(&self) -> bool {
        matches!(self.signal.try_recv(), Err(TryRecvError::Disconnected))
    }

    /// Blocks until the stop is requested.
    pub(crate) fn wait(&self) {
        // Nothing is ever sent, so this only returns once the sender is gone.
        let _ = self.signal.recv();
    }

    /// Blocks until the stop is requested or `timeout` passes; `true` if stop was requested.
    pub(crate) fn wait_timeout(&self, timeout: Duration) -> bool {
        !matches!(
            self.signal.recv_timeout(timeout),
            Err(RecvTimeoutError::Timeout)
        )
    }

    /// A channel that becomes ready (disconnected) when the stop is requested, for use in
    /// `crossbeam_channel::select!` next to the child's own channels.
    pub(crate) fn signal(&self) -> &Receiver<StopNever> {
        &self.signal
    }
}

/// The owner's side of a [`StopToken`].
#[derive(Debug)]
pub(super) struct StopSource {
    sender: Option<Sender<StopNever>>,
}

impl StopSource {
    pub(super) fn request_stop(&mut self) {
        self.sender = None;
    }
}

pub(super) fn stop_pair() -> (StopSource, StopToken) {
    let (sender, signal) = crossbeam_channel::bounded(0);
    (
        StopSource {
            sender: Some(sender),
        },
        StopToken { signal },
    )
}

/// What a running worker knows about its place in the tree.
#[derive(Debug, Clone)]
pub(crate) struct ChildContext {
    id: ChildId,
    supervisor: Arc<str>,
    stop: StopToken,
    health: Arc<HealthCell>,
    clock: SharedClock,
}

impl ChildContext {
    pub(super) fn new(
        id: &str,
        supervisor: &Arc<str>,
        stop: StopToken,
        health: Arc<HealthCell>,
        clock: SharedClock,
    ) -> Self {
        Self {
            id: id.to_owned(),
            supervisor: Arc::clone(supervisor),
            stop,
            health,
            clock,
        }
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Path of the supervising supervisor, e.g. `root/repository`.
    pub(crate) fn supervisor_path(&self) -> &str {
        &self.supervisor
    }

    pub(crate) fn stop_token(&self) -> &StopToken {
        &self.stop
    }

    pub(crate) fn is_stop_requested(&self) -> bool {
        self.stop.is_stop_requested()
    }

    /// Blocks until the supervisor asks this child to stop.
    pub(crate) fn wait_for_stop(&self) {
        self.stop.wait();
    }

    /// Blocks until asked to stop or `timeout` passes; `true` if asked to stop.
    pub(crate) fn wait_for_stop_timeout(&self, timeout: Duration) -> bool {
        self.stop.wait_timeout(timeout)
    }

    /// See [`StopToken::signal`].
    pub(crate) fn stop_signal(&self) -> &Receiver<StopNever> {
        self.stop.signal()
    }

    /// Publishes this child's health; its supervisor's health check reads the latest report.
    pub(crate) fn report_health(&self, health: Health) {
        self.health.set(health);
    }

    pub(crate) fn clock(&self) -> &SharedClock {
        &self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_type_by_exit_reason() {
        let reasons = [
            ExitReason::Normal,
            ExitReason::Shutdown,
            ExitReason::Error("boom".into()),
            ExitReason::Panic("boom".into()),
        ];
        let restarted = |restart: RestartType| {
            reasons
                .iter()
                .map(|reason| restart.restarts_after(reason))
                .collect::<Vec<_>>()
        };
        assert_eq!(restarted(RestartType::Permanent), [true, true, true, true]);
        assert_eq!(
            restarted(RestartType::Transient),
            [false, false, true, true]
        );
        assert_eq!(
            restarted(RestartType::Temporary),
            [false, false, false, false]
        );
    }

    #[test]
    fn stop_token_fires_on_request_and_on_drop() {
        let (mut source, token) = stop_pair();
        assert!(!token.is_stop_requested());
        assert!(!token.wait_timeout(Duration::from_millis(1)));
        source.request_stop();
        assert!(token.is_stop_requested());
        assert!(token.wait_timeout(Duration::from_secs(10)));
        token.wait();

        let (source, token) = stop_pair();
        drop(source);
        assert!(token.is_stop_requested());
    }

    #[test]
    fn stop_token_wakes_a_waiting_thread() {
        let (mut source, token) = stop_pair();
        let waiter = std::thread::spawn(move || token.wait_timeout(Duration::from_secs(10)));
        source.request_stop();
        assert!(waiter.join().expect("waiting thread"));
    }

    #[test]
    fn child_errors_convert_from_std_errors() {
        fn parse(text: &str) -> Result<u32, ChildError> {
            Ok(text.parse::<u32>()?)
        }
        let error = parse("x").expect_err("not a number");
        assert!(error.clone().into_exit_reason().is_abnormal());
        assert_eq!(error.to_string(), "invalid digit found in string");
        assert!(!ChildError::shutdown().into_exit_reason().is_abnormal());
    }

    #[test]
    fn spec_defaults_follow_otp() {
        let worker = ChildSpec::service("w", |_| Ok(()));
        assert_eq!(worker.restart_type(), RestartType::Permanent);
        assert_eq!(worker.shutdown_policy(), DEFAULT_WORKER_SHUTDOWN);
        assert_eq!(worker.kind(), ChildKind::Worker);
        let task = ChildSpec::task("t", |_| Ok(()));
        assert_eq!(task.restart_type(), RestartType::Temporary);
        let supervisor = ChildSpec::supervisor("s", || {
            SupervisorSpec::new("s", super::super::Strategy::OneForOne)
        });
        assert_eq!(supervisor.kind(), ChildKind::Supervisor);
        assert_eq!(supervisor.shutdown_policy(), Shutdown::Infinity);
    }
}
