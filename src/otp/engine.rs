//! The supervisor's own thread: its state, message loop and restart logic, following OTP's
//! `supervisor.erl` (the `gen_server` callbacks, `restart/2`, `terminate_children/2`).
//!
//! Everything that changes a supervisor's children happens on its thread, one message at a
//! time: child exits, queued restart attempts, requests from [`SupervisorRef`] and the stop
//! signal. Children run on their own threads and report their exit to this mailbox.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{select, Receiver, Sender};

use super::child::{
    stop_pair, ChildContext, ChildError, ChildId, ChildKind, ChildSpec, ChildStart, ExitReason,
    RestartType, Shutdown, StopSource, StopToken, WorkerBody,
};
use super::events::EventKind;
use super::health::HealthCell;
use super::intensity::{RestartIntensity, RestartWindow};
use super::panic_message;
use super::supervisor::{
    ChildCounts, ChildInfo, ChildStatus, DynamicLimits, RuntimeEnv, Strategy, SupervisorError,
    SupervisorRef, SupervisorSpec,
};

/// What a supervisor's mailbox carries.
pub(super) enum Message {
    /// A child's thread ended (OTP's `'EXIT'` message from a linked child).
    ChildExited { instance: u64, reason: ExitReason },
    /// Another attempt at a restart that failed (OTP's `try_again_restart` cast).
    RetryRestart { id: ChildId },
    /// A request from a [`SupervisorRef`], run on the supervisor's thread.
    Call(Box<dyn FnOnce(&mut SupervisorState) + Send>),
}

/// Identifies one started instance of a child, as a pid does: exit notices from an instance
/// that was already stopped or replaced are recognised as stale and ignored.
static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(1);

fn next_instance() -> u64 {
    NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed)
}

/// Where a child supervisor reports its own exit.
pub(super) struct ParentLink {
    mailbox: Sender<Message>,
    instance: u64,
}

/// A supervisor whose thread is running and whose initial children have started.
pub(super) struct SpawnedSupervisor {
    pub(super) reference: SupervisorRef,
    pub(super) stop: StopSource,
    pub(super) done: Receiver<ExitReason>,
    pub(super) thread: JoinHandle<()>,
}

/// Starts a supervisor's thread and waits until its initial children have started in order, or
/// one failed and the others were stopped again (OTP's `init/1` inside `start_link`).
pub(super) fn spawn_supervisor(
    spec: SupervisorSpec,
    path: Arc<str>,
    env: RuntimeEnv,
    parent: Option<ParentLink>,
) -> Result<SpawnedSupervisor, SupervisorError> {
    let (mailbox, inbox) = crossbeam_channel::unbounded();
    let (stop, stop_token) = stop_pair();
    let (ack_sender, ack) = crossbeam_channel::bounded(1);
    let (done_sender, done) = crossbeam_channel::bounded(1);
    let reference = SupervisorRef::new(Arc::clone(&path), mailbox.clone());
    let supervisor_thread = SupervisorThread {
        spec,
        path: Arc::clone(&path),
        env,
        mailbox,
        inbox,
        stop: stop_token,
        ack: ack_sender,
        done: done_sender,
        parent,
    };
    let thread = thread::Builder::new()
        .name(format!("supervisor {path}"))
        .spawn(move || supervisor_thread.run())
        .map_err(|error| SupervisorError::SpawnFailed {
            supervisor: path.to_string(),
            reason: error.to_string(),
        })?;
    let started = ack.recv();
    match started {
        Ok(Ok(())) => Ok(SpawnedSupervisor {
            reference,
            stop,
            done,
            thread,
        }),
        Ok(Err(error)) => {
            let _ = thread.join();
            Err(error)
        }
        Err(_) => {
            let _ = thread.join();
            Err(SupervisorError::StartFailed {
                supervisor: path.to_string(),
                child: String::new(),
                reason: "the supervisor thread ended during start-up".to_owned(),
            })
        }
    }
}

/// Everything a supervisor thread owns.
struct SupervisorThread {
    spec: SupervisorSpec,
    path: Arc<str>,
    env: RuntimeEnv,
    mailbox: Sender<Message>,
    inbox: Receiver<Message>,
    stop: StopToken,
    ack: Sender<Result<(), SupervisorError>>,
    done: Sender<ExitReason>,
    parent: Option<ParentLink>,
}

impl SupervisorThread {
    fn run(self) {
        let Self {
            spec,
            path,
            env,
            mailbox,
            inbox,
            stop,
            ack,
            done,
            parent,
        } = self;
        let mut state = SupervisorState {
            path,
            strategy: spec.strategy,
            dynamic: spec.dynamic,
            window: RestartWindow::new(spec.intensity),
            children: ChildTable::default(),
            env,
            mailbox,
            next_dynamic_id: 1,
        };
        let started = catch_unwind(AssertUnwindSafe(|| {
            state.start_initial_children(spec.children)
        }))
        .unwrap_or_else(|payload| {
            let _ = catch_unwind(AssertUnwindSafe(|| state.terminate_all_children()));
            Err(SupervisorError::StartFailed {
                supervisor: state.path.to_string(),
                child: String::new(),
                reason: format!(
                    "the supervisor panicked during start-up: {}",
                    panic_message(&*payload)
                ),
            })
        });
        if let Err(error) = started {
            let _ = ack.send(Err(error));
            return;
        }
        state.record(None, EventKind::SupervisorStarted);
        let _ = ack.send(Ok(()));

        let reason = catch_unwind(AssertUnwindSafe(|| state.run(&inbox, &stop)))
            .unwrap_or_else(|payload| ExitReason::Panic(panic_message(&*payload)));
        // As OTP's terminate/2: children stop, in reverse start order, before the supervisor
        // reports its own end. If this panics, dropping the state still signals every child.
        let _ = catch_unwind(AssertUnwindSafe(|| state.terminate_all_children()));
        state.record(
            None,
            EventKind::SupervisorStopped {
                reason: reason.clone(),
            },
        );
        // Queued requests are dropped with the inbox, so their callers get `NotRunning`.
        drop(inbox);
        let _ = done.send(reason.clone());
        if let Some(parent) = parent {
            let _ = parent.mailbox.send(Message::ChildExited {
                instance: parent.instance,
                reason,
            });
        }
    }
}

/// One started instance of a child.
struct RunningChild {
    instance: u64,
    stop: StopSource,
    /// Receives the exit reason when the child's thread ends.
    done: Receiver<ExitReason>,
    thread: Option<JoinHandle<()>>,
    health: Option<Arc<HealthCell>>,
    supervisor: Option<SupervisorRef>,
}

impl RunningChild {
    /// The thread has reported its exit and is about to end.
    fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Gives up on a child that did not stop in time. Its thread is detached, not killed:
    /// Rust has no way to kill a thread. It still holds a fired stop token.
    fn abandon(mut self) {
        drop(self.thread.take());
    }
}

enum Slot {
    Running(RunningChild),
    /// A restart failed; another attempt is queued in the mailbox.
    Restarting,
    Stopped,
}

struct ChildRecord {
    spec: ChildSpec,
    slot: Slot,
    last_exit: Option<ExitReason>,
}

/// The children of one supervisor, in start order. Positions are assigned once, when a child is
/// added, and kept across restarts, so start order is position order; maps make lookups by id
/// and by instance cheap for pools of thousands of children.
#[derive(Default)]
struct ChildTable {
    records: BTreeMap<u64, ChildRecord>,
    by_id: HashMap<ChildId, u64>,
    by_instance: HashMap<u64, u64>,
    next_position: u64,
}

impl ChildTable {
    fn insert(&mut self, spec: ChildSpec) -> u64 {
        let position = self.next_position;
        self.next_position += 1;
        self.by_id.insert(spec.id().to_owned(), position);
        self.records.insert(
            position,
            ChildRecord {
                spec,
                slot: Slot::Stopped,
                last_exit: None,
            },
        );
        position
    }

    fn remove(&mut self, position: u64) -> Option<ChildRecord> {
        let record = self.records.remove(&position)?;
        self.by_id.remove(record.spec.id());
        if let Slot::Running(running) = &record.slot {
            self.by_instance.remove(&running.instance);
        }
        Some(record)
    }

    fn get(&self, position: u64) -> Option<&ChildRecord> {
        self.records.get(&position)
    }

    fn position_of(&self, id: &str) -> Option<u64> {
        self.by_id.get(id).copied()
    }

    fn position_of_instance(&self, instance: u64) -> Option<u64> {
        self.by_instance.get(&instance).copied()
    }

    fn set_running(&mut self, position: u64, running: RunningChild) {
        if let Some(record) = self.records.get_mut(&position) {
            self.by_instance.insert(running.instance, position);
            record.slot = Slot::Running(running);
        }
    }

    /// Takes the running instance out, leaving the child `Stopped`.
    fn take_running(&mut self, position: u64) -> Option<RunningChild> {
        let record = self.records.get_mut(&position)?;
        match mem::replace(&mut record.slot, Slot::Stopped) {
            Slot::Running(running) => {
                self.by_instance.remove(&running.instance);
                Some(running)
            }
            other => {
                record.slot = other;
                None
            }
        }
    }

    /// Marks a child that is not running as restarting or stopped.
    fn set_idle(&mut self, position: u64, restarting: bool) {
        if let Some(record) = self.records.get_mut(&position) {
            if !matches!(record.slot, Slot::Running(_)) {
                record.slot = if restarting {
                    Slot::Restarting
                } else {
                    Slot::Stopped
                };
            }
        }
    }

    fn set_last_exit(&mut self, position: u64, reason: ExitReason) {
        if let Some(record) = self.records.get_mut(&position) {
            record.last_exit = Some(reason);
        }
    }

    fn positions(&self) -> Vec<u64> {
        self.records.keys().copied().collect()
    }

    fn positions_from(&self, position: u64) -> Vec<u64> {
        self.records
            .range(position..)
            .map(|(&position, _)| position)
            .collect()
    }

    fn len(&self) -> usize {
        self.records.len()
    }

    fn iter(&self) -> impl Iterator<Item = &ChildRecord> {
        self.records.values()
    }
}

enum Flow {
    Continue,
    /// Restart intensity was exceeded: stop the children and exit with `shutdown`.
    Shutdown,
}

/// The state of one supervisor, owned by its thread.
pub(super) struct SupervisorState {
    path: Arc<str>,
    strategy: Strategy,
    dynamic: Option<DynamicLimits>,
    window: RestartWindow,
    children: ChildTable,
    env: RuntimeEnv,
    /// This supervisor's own mailbox: children report their exits to it and failed restarts
    /// queue their next attempt on it.
    mailbox: Sender<Message>,
    next_dynamic_id: u64,
}

impl SupervisorState {
    pub(super) fn now(&self) -> Duration {
        self.env.clock.now()
    }

    fn record(&self, child: Option<&str>, kind: EventKind) {
        self.env.events.record(self.now(), &self.path, child, kind);
    }

    fn intensity(&self) -> RestartIntensity {
        self.window.intensity()
    }

    fn start_initial_children(&mut self, specs: Vec<ChildSpec>) -> Result<(), SupervisorError> {
        // OTP's check_startspec/2: a duplicate id is an error before anything starts.
        if self.dynamic.is_none() {
            let mut seen = HashSet::new();
            if let Some(duplicate) = specs.iter().find(|spec| !seen.insert(spec.id())) {
                return Err(SupervisorError::DuplicateChild {
                    supervisor: self.path.to_string(),
                    child: duplicate.id().to_owned(),
                });
            }
        }
        for spec in specs {
            let spec = self.assign_dynamic_id(spec);
            let id = spec.id().to_owned();
            let position = self.children.insert(spec);
            if let Err(reason) = self.launch_at(position) {
                self.children.remove(position);
                self.record(
                    Some(&id),
                    EventKind::StartFailed {
                        reason: reason.clone(),
                    },
                );
                // Roll back: the children already started stop in reverse order.
                self.terminate_all_children();
                return Err(SupervisorError::StartFailed {
                    supervisor: self.path.to_string(),
                    child: id,
                    reason,
                });
            }
            self.record(Some(&id), EventKind::Started);
        }
        Ok(())
    }

    fn assign_dynamic_id(&mut self, spec: ChildSpec) -> ChildSpec {
        if self.dynamic.is_none() {
            return spec;
        }
        let id = format!("{}#{}", spec.id(), self.next_dynamic_id);
        self.next_dynamic_id += 1;
        spec.with_id(id)
    }

    /// The message loop. A stop request wins over queued messages, so a child that can never
    /// start (its restart re-queued again and again) cannot hold up a shutdown.
    fn run(&mut self, inbox: &Receiver<Message>, stop: &StopToken) -> ExitReason {
        loop {
            if stop.is_stop_requested() {
                return ExitReason::Shutdown;
            }
            let message = select! {
                recv(stop.signal()) -> _ => return ExitReason::Shutdown,
                recv(inbox) -> message => match message {
                    Ok(message) => message,
                    // Unreachable while `self.mailbox` is alive; end cleanly if it happens.
                    Err(_) => return ExitReason::Shutdown,
                },
            };
            if let Flow::Shutdown = self.handle(message) {
                return ExitReason::Shutdown;
            }
        }
    }

    fn handle(&mut self, message: Message) -> Flow {
        match message {
            Message::ChildExited { instance, reason } => self.child_exited(instance, reason),
            Message::RetryRestart { id } => self.retry_restart(&id),
            Message::Call(request) => {
                request(self);
                Flow::Continue
            }
        }
    }

    /// OTP's `restart_child/3` + `do_restart/3`.
    fn child_exited(&mut self, instance: u64, reason: ExitReason) -> Flow {
        // Not found: an instance this supervisor already stopped or abandoned.
        let Some(position) = self.children.position_of_instance(instance) else {
            return Flow::Continue;
        };
        if let Some(running) = self.children.take_running(position) {
            running.join();
        }
        self.children.set_last_exit(position, reason.clone());
        let Some(record) = self.children.get(position) else {
            return Flow::Continue;
        };
        let id = record.spec.id().to_owned();
        let restart = record.spec.restart_type();
        self.record(
            Some(&id),
            EventKind::Exited {
                reason: reason.clone(),
            },
        );
        if restart.restarts_after(&reason) {
            self.restart(position)
        } else {
            self.forget_if_done(position);
            Flow::Continue
        }
    }

    /// OTP's `del_child`: a temporary child (or any child of a dynamic supervisor) that is not
    /// restarted is removed; others are kept, stopped.
    fn forget_if_done(&mut self, position: u64) {
        let Some(record) = self.children.get(position) else {
            return;
        };
        if self.dynamic.is_some() || record.spec.restart_type() == RestartType::Temporary {
            self.children.remove(position);
        } else {
            self.children.set_idle(position, false);
        }
    }

    /// OTP's `try_again_restart` handler: only a child still marked restarting is retried
    /// (it may have been stopped or restarted by a sibling's restart meanwhile).
    fn retry_restart(&mut self, id: &str) -> Flow {
        match self.children.position_of(id) {
            Some(position)
                if matches!(
                    self.children.get(position).map(|record| &record.slot),
                    Some(Slot::Restarting)
                ) =>
            {
                self.restart(position)
            }
            _ => Flow::Continue,
        }
    }

    /// OTP's `restart/2`: every attempt, failed ones included, counts against the intensity.
    fn restart(&mut self, position: u64) -> Flow {
        if !self.window.record_restart(self.now()) {
            let intensity = self.intensity();
            let id = self
                .children
                .get(position)
                .map(|record| record.spec.id().to_owned());
            self.record(
                id.as_deref(),
                EventKind::Escalated {
                    max_restarts: intensity.max_restarts,
                    within: intensity.within,
                },
            );
            self.forget_if_done(position);
            return Flow::Shutdown;
        }
        let group = match self.strategy {
            Strategy::OneForOne => vec![position],
            Strategy::RestForOne => self.children.positions_from(position),
            Strategy::OneForAll => self.children.positions(),
        };
        self.restart_group(position, &group);
        Flow::Continue
    }

    /// Stops the running members of `group` other than `failed` in reverse start order
    /// (temporary ones are removed), then starts the group in start order. If a start fails,
    /// that child is marked restarting, the rest stay stopped, and a retry is queued
    /// (OTP's `restart_multiple_children/3`).
    fn restart_group(&mut self, failed: u64, group: &[u64]) {
        for &position in group.iter().rev() {
            if position == failed {
                continue;
            }
            let Some(record) = self.children.get(position) else {
                continue;
            };
            let id = record.spec.id().to_owned();
            let shutdown = record.spec.shutdown_policy();
            let temporary = record.spec.restart_type() == RestartType::Temporary;
            if let Some(running) = self.children.take_running(position) {
                self.stop_child(&id, shutdown, running);
            }
            if temporary {
                self.children.remove(position);
            } else {
                self.children.set_idle(position, false);
            }
        }
        for &position in group {
            let Some(record) = self.children.get(position) else {
                continue;
            };
            let id = record.spec.id().to_owned();
            match self.launch_at(position) {
                Ok(()) => self.record(Some(&id), EventKind::Restarted),
                Err(reason) => {
                    self.record(Some(&id), EventKind::StartFailed { reason });
                    self.children.set_idle(position, true);
                    // Through the mailbox, so requests and a stop signal get their turn first.
                    let _ = self.mailbox.send(Message::RetryRestart { id });
                    break;
                }
            }
        }
    }

    fn launch_at(&mut self, position: u64) -> Result<(), String> {
        let Some(record) = self.children.get(position) else {
            return Err("the child was removed".to_owned());
        };
        let spec = record.spec.clone();
        let running = self.launch(&spec)?;
        self.children.set_running(position, running);
        Ok(())
    }

    fn launch(&self, spec: &ChildSpec) -> Result<RunningChild, String> {
        let instance = next_instance();
        match spec.start_fn() {
            ChildStart::Worker(start) => launch_worker(
                Arc::clone(start),
                spec.id(),
                &self.path,
                &self.env,
                self.mailbox.clone(),
                instance,
            ),
            ChildStart::Supervisor(factory) => {
                let nested = catch_unwind(AssertUnwindSafe(|| factory())).map_err(|payload| {
                    format!(
                        "building the supervisor spec panicked: {}",
                        panic_message(&*payload)
                    )
                })?;
                let path: Arc<str> = Arc::from(format!("{}/{}", self.path, spec.id()));
                let link = ParentLink {
                    mailbox: self.mailbox.clone(),
                    instance,
                };
                let spawned = spawn_supervisor(nested, path, self.env.clone(), Some(link))
                    .map_err(|error| error.to_string())?;
                Ok(RunningChild {
                    instance,
                    stop: spawned.stop,
                    done: spawned.done,
                    thread: Some(spawned.thread),
                    health: None,
                    supervisor: Some(spawned.reference),
                })
            }
        }
    }

    /// OTP's `shutdown/2`: signal the stop, wait up to the child's shutdown time.
    fn stop_child(&self, id: &str, shutdown: Shutdown, mut running: RunningChild) {
        running.stop.request_stop();
        let outcome = match shutdown {
            Shutdown::BrutalKill => running.done.try_recv().ok(),
            Shutdown::Timeout(limit) => running.done.recv_timeout(limit).ok(),
            Shutdown::Infinity => running.done.recv().ok(),
        };
        self.finish_stop(id, shutdown, running, outcome);
    }

    fn finish_stop(
        &self,
        id: &str,
        shutdown: Shutdown,
        running: RunningChild,
        outcome: Option<ExitReason>,
    ) {
        match outcome {
            Some(reason) => {
                running.join();
                self.record(Some(id), EventKind::Stopped { reason });
            }
            None => {
                running.abandon();
                let waited = match shutdown {
                    Shutdown::Timeout(limit) => limit,
                    Shutdown::BrutalKill | Shutdown::Infinity => Duration::ZERO,
                };
                self.record(Some(id), EventKind::Killed { waited });
            }
        }
    }

    /// OTP's `terminate/2`: static children one by one in reverse start order; a dynamic
    /// supervisor's children all at once, then waited for (`terminate_dynamic_children`).
    fn terminate_all_children(&mut self) {
        let positions = self.children.positions();
        let mut stopping = Vec::new();
        for &position in positions.iter().rev() {
            let Some(record) = self.children.get(position) else {
                continue;
            };
            let id = record.spec.id().to_owned();
            let shutdown = record.spec.shutdown_policy();
            let Some(mut running) = self.children.take_running(position) else {
                continue;
            };
            if self.dynamic.is_some() {
                running.stop.request_stop();
                stopping.push((id, shutdown, running));
            } else {
                self.stop_child(&id, shutdown, running);
            }
        }
        let signalled_at = Instant::now();
        for (id, shutdown, running) in stopping {
            let outcome = match shutdown {
                Shutdown::BrutalKill => running.done.try_recv().ok(),
                Shutdown::Timeout(limit) => running.done.recv_deadline(signalled_at + limit).ok(),
                Shutdown::Infinity => running.done.recv().ok(),
            };
            self.finish_stop(&id, shutdown, running, outcome);
        }
    }

    pub(super) fn which_children(&self) -> Vec<ChildInfo> {
        self.children
            .iter()
            .map(|record| {
                let (status, health, supervisor) = match &record.slot {
                    Slot::Running(running) => (
                        ChildStatus::Running,
                        running.health.as_ref().map(|cell| cell.get()),
                        running.supervisor.clone(),
                    ),
                    Slot::Restarting => (ChildStatus::Restarting, None, None),
                    Slot::Stopped => (ChildStatus::Stopped, None, None),
                };
                ChildInfo {
                    id: record.spec.id().to_owned(),
                    kind: record.spec.kind(),
                    restart: record.spec.restart_type(),
                    status,
                    health,
                    last_exit: record.last_exit.clone(),
                    supervisor,
                }
            })
            .collect()
    }

    pub(super) fn count_children(&self) -> ChildCounts {
        let mut counts = ChildCounts::default();
        for record in self.children.iter() {
            counts.specs += 1;
            if matches!(record.slot, Slot::Running(_)) {
                counts.active += 1;
            }
            match record.spec.kind() {
                ChildKind::Worker => counts.workers += 1,
                ChildKind::Supervisor => counts.supervisors += 1,
            }
        }
        counts
    }

    pub(super) fn start_child(&mut self, spec: ChildSpec) -> Result<ChildId, SupervisorError> {
        if let Some(limits) = self.dynamic {
            if let Some(limit) = limits.max_children {
                if self.children.len() >= limit {
                    return Err(SupervisorError::MaxChildren { limit });
                }
            }
        } else if let Some(position) = self.children.position_of(spec.id()) {
            let child = spec.id().to_owned();
            let running = matches!(
                self.children.get(position).map(|record| &record.slot),
                Some(Slot::Running(_))
            );
            return Err(if running {
                SupervisorError::AlreadyStarted { child }
            } else {
                SupervisorError::AlreadyPresent { child }
            });
        }
        let spec = self.assign_dynamic_id(spec);
        let id = spec.id().to_owned();
        let position = self.children.insert(spec);
        match self.launch_at(position) {
            Ok(()) => {
                self.record(Some(&id), EventKind::Started);
                Ok(id)
            }
            Err(reason) => {
                self.children.remove(position);
                self.record(
                    Some(&id),
                    EventKind::StartFailed {
                        reason: reason.clone(),
                    },
                );
                Err(SupervisorError::StartFailed {
                    supervisor: self.path.to_string(),
                    child: id,
                    reason,
                })
            }
        }
    }

    pub(super) fn terminate_child(&mut self, id: &str) -> Result<(), SupervisorError> {
        let position = self.position(id)?;
        let Some(record) = self.children.get(position) else {
            return Err(not_found(id));
        };
        let shutdown = record.spec.shutdown_policy();
        if let Some(running) = self.children.take_running(position) {
            self.stop_child(id, shutdown, running);
        }
        // A queued retry finds the child stopped and does nothing.
        self.forget_if_done(position);
        Ok(())
    }

    pub(super) fn restart_child(&mut self, id: &str) -> Result<(), SupervisorError> {
        if self.dynamic.is_some() {
            return Err(SupervisorError::NotForDynamicSupervisors {
                operation: "restart_child",
            });
        }
        let position = self.position(id)?;
        match self.children.get(position).map(|record| &record.slot) {
            Some(Slot::Running(_)) => Err(SupervisorError::StillRunning {
                child: id.to_owned(),
            }),
            Some(Slot::Restarting) => Err(SupervisorError::Restarting {
                child: id.to_owned(),
            }),
            Some(Slot::Stopped) => match self.launch_at(position) {
                Ok(()) => {
                    self.record(Some(id), EventKind::Started);
                    Ok(())
                }
                Err(reason) => {
                    self.record(
                        Some(id),
                        EventKind::StartFailed {
                            reason: reason.clone(),
                        },
                    );
                    Err(SupervisorError::StartFailed {
                        supervisor: self.path.to_string(),
                        child: id.to_owned(),
                        reason,
                    })
                }
            },
            None => Err(not_found(id)),
        }
    }

    pub(super) fn delete_child(&mut self, id: &str) -> Result<(), SupervisorError> {
        if self.dynamic.is_some() {
            return Err(SupervisorError::NotForDynamicSupervisors {
                operation: "delete_child",
            });
        }
        let position = self.position(id)?;
        match self.children.get(position).map(|record| &record.slot) {
            Some(Slot::Running(_)) => Err(SupervisorError::StillRunning {
                child: id.to_owned(),
            }),
            Some(Slot::Restarting) => Err(SupervisorError::Restarting {
                child: id.to_owned(),
            }),
            Some(Slot::Stopped) => {
                self.children.remove(position);
                Ok(())
            }
            None => Err(not_found(id)),
        }
    }

    pub(super) fn child_supervisor(&self, id: &str) -> Result<SupervisorRef, SupervisorError> {
        let position = self.position(id)?;
        let Some(record) = self.children.get(position) else {
            return Err(not_found(id));
        };
        if record.spec.kind() != ChildKind::Supervisor {
            return Err(SupervisorError::NotASupervisor {
                child: id.to_owned(),
            });
        }
        match &record.slot {
            Slot::Running(RunningChild {
                supervisor: Some(supervisor),
                ..
            }) => Ok(supervisor.clone()),
            _ => Err(SupervisorError::NotRunning {
                supervisor: format!("{}/{id}", self.path),
            }),
        }
    }

    fn position(&self, id: &str) -> Result<u64, SupervisorError> {
        self.children.position_of(id).ok_or_else(|| not_found(id))
    }
}

fn not_found(id: &str) -> SupervisorError {
    SupervisorError::NotFound {
        child: id.to_owned(),
    }
}

type WorkerStart = dyn Fn(&ChildContext) -> Result<WorkerBody, ChildError> + Send + Sync;

/// Starts a worker on its own thread: `start` runs there first and the supervisor waits for
/// its verdict (as `proc_lib:start_link` waits for `init_ack`), then the body runs. Panics are
/// caught at the thread boundary; the exit reason goes both to the `done` channel (for a
/// supervisor waiting to stop it) and to the supervisor's mailbox (for an unexpected exit).
fn launch_worker(
    start: Arc<WorkerStart>,
    id: &str,
    path: &Arc<str>,
    env: &RuntimeEnv,
    mailbox: Sender<Message>,
    instance: u64,
) -> Result<RunningChild, String> {
    let (stop, stop_token) = stop_pair();
    let health = Arc::new(HealthCell::default());
    let context = ChildContext::new(
        id,
        path,
        stop_token.clone(),
        Arc::clone(&health),
        Arc::clone(&env.clock),
    );
    let (ack_sender, ack) = crossbeam_channel::bounded::<Result<(), String>>(1);
    let (done_sender, done) = crossbeam_channel::bounded::<ExitReason>(1);
    let thread = thread::Builder::new()
        .name(format!("{path}/{id}"))
        .spawn(move || {
            let body = match catch_unwind(AssertUnwindSafe(|| start(&context))) {
                Ok(Ok(body)) => body,
                Ok(Err(error)) => {
                    let _ = ack_sender.send(Err(error.to_string()));
                    return;
                }
                Err(payload) => {
                    let message = format!("start panicked: {}", panic_message(&*payload));
                    let _ = ack_sender.send(Err(message));
                    return;
                }
            };
            let _ = ack_sender.send(Ok(()));
            let reason = match catch_unwind(AssertUnwindSafe(move || body(context))) {
                Ok(Ok(())) if stop_token.is_stop_requested() => ExitReason::Shutdown,
                Ok(Ok(())) => ExitReason::Normal,
                Ok(Err(error)) => error.into_exit_reason(),
                Err(payload) => ExitReason::Panic(panic_message(&*payload)),
            };
            let _ = done_sender.send(reason.clone());
            let _ = mailbox.send(Message::ChildExited { instance, reason });
        })
        .map_err(|error| format!("could not spawn a thread: {error}"))?;
    match ack.recv() {
        Ok(Ok(())) => Ok(RunningChild {
            instance,
            stop,
            done,
            thread: Some(thread),
            health: Some(health),
            supervisor: None,
        }),
        Ok(Err(reason)) => {
            let _ = thread.join();
            Err(reason)
        }
        Err(_) => {
            let _ = thread.join();
            Err("the child thread ended before reporting its start".to_owned())
        }
    }
}
