//! The running tree: builds, from [`super::design`], the subsystems a subcommand needs, in the
//! design's dependency order (§6), hands them their shared state, runs batch work through the
//! Parsing subsystem and one-off tasks through the TaskSupervisor, reports what happened, and
//! shuts everything down in reverse order.
//!
//! Start-up waits for nothing but the supervisors themselves: `Supervisor::start` returns once
//! every child has started, in order, so there are no readiness polls (the design's
//! `Process.sleep(100)` waits).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crossbeam_channel::{select, Receiver, Sender};

use super::analysis::pattern_matcher::pattern_library::{PatternLibrary, Selection};
use super::design::{self, DesignNode, NodeKind};
use super::lock;
use super::parsing::batch_processor::BatchJob;
use super::pools::Bulkheads;
use super::querying::executor;
use super::repository::core::RepositoryCore;
use super::repository::memory_manager::{
    cache_manager, cleaner, monitor, pressure_handler, MemoryManager,
};
use super::run_breakers::RunBreakers;
use super::synchronization::{self, file_watcher, incremental_updater, synchronizer};
use crate::faults;
use crate::model::{ChildRuntime, FileRecord, PoolRuntime};
use crate::otp::{
    ChildContext, ChildError, ChildKind, ChildSpec, EventKind, Health, HealthReport, RuntimeEnv,
    Shutdown, Supervisor, SupervisorError, SupervisorRef, SupervisorSpec,
};
use crate::project::Repository;

/// The subsystems a batch command over files needs, in start order.
pub(crate) const BATCH_SUBSYSTEMS: &[&str] = &["repository", "parsing", "task_supervisor"];
/// A query answered from the index's tables: the Querying subsystem alone.
pub(crate) const QUERY_SUBSYSTEMS: &[&str] = &["querying"];
/// A query that builds the repository first.
pub(crate) const BATCH_QUERY_SUBSYSTEMS: &[&str] =
    &["repository", "parsing", "querying", "task_supervisor"];
/// A `findings` query: the analysis, then the query.
pub(crate) const ANALYSIS_QUERY_SUBSYSTEMS: &[&str] = &[
    "repository",
    "parsing",
    "analysis",
    "querying",
    "task_supervisor",
];

/// `analyze` adds the Analysis subsystem.
pub(crate) const ANALYSIS_SUBSYSTEMS: &[&str] =
    &["repository", "parsing", "analysis", "task_supervisor"];

/// How often the host re-checks, while waiting for a batch, that the tree is still alive: a
/// safety net for a tree that gave up, not a readiness poll.
const LIVENESS_CHECK: Duration = Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub(crate) enum HostError {
    #[error("cannot start the runtime: {0}")]
    Start(#[from] SupervisorError),
    #[error("cannot start the worker threads: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
    #[error("the runtime stopped before the work was done: {0}")]
    Stopped(String),
    #[error("task {name} failed: {reason}")]
    Task { name: String, reason: String },
}

/// State shared by the services; it outlives any of them.
pub(crate) struct Shared {
    pub(crate) repository: RepositoryCore,
    /// The Analysis subsystem's compiled patterns; `None` when the command runs no rules.
    pub(crate) patterns: Option<PatternLibrary>,
    pub(crate) bulkheads: Bulkheads,
    pub(crate) breakers: RunBreakers,
    /// The Repository.MemoryManager's state: the budget, the level, the caches.
    pub(crate) memory: Arc<MemoryManager>,
    batch_jobs: Mutex<VecDeque<Arc<BatchJob>>>,
    doorbell: (Sender<()>, Receiver<()>),
    /// The Querying.Executor's queue: the queries waiting for a worker.
    queries: executor::Queue,
    /// The Synchronization subsystem's state, once `watch` starts it.
    synchronization: OnceLock<Arc<synchronization::Context>>,
    /// The TaskSupervisor, for services that start tasks of their own.
    tasks: OnceLock<SupervisorRef>,
}

pub(crate) struct Host {
    root: Option<Supervisor>,
    env: RuntimeEnv,
    shared: Arc<Shared>,
    batch_queue: Mutex<Option<(usize, usize)>>,
}

/// What a shutdown did, for `runtime --check`.
#[derive(Debug, Clone)]
pub(crate) struct ShutdownReport {
    /// Children in the order they stopped.
    pub(crate) order: Vec<String>,
    /// Children abandoned after their shutdown timeout.
    pub(crate) killed: Vec<String>,
}

impl Host {
    /// Starts the root with the given subsystems (ids of the design's root children), in the
    /// design's order whatever the order given.
    /// `selection`: the patterns the Analysis subsystem compiles, when it is started;
    /// `memory_limit`: the MemoryManager's budget in bytes (`--memory-limit`).
    pub(crate) fn start(
        subsystems: &[&str],
        batch_threads: usize,
        selection: Option<Selection>,
        memory_limit: Option<u64>,
    ) -> Result<Host, HostError> {
        let shared = Arc::new(Shared {
            repository: RepositoryCore::new(Repository::default()),
            patterns: selection.map(PatternLibrary::new),
            bulkheads: Bulkheads::new(batch_threads)?,
            breakers: RunBreakers::default(),
            memory: MemoryManager::new(memory_limit),
            batch_jobs: Mutex::new(VecDeque::new()),
            doorbell: crossbeam_channel::unbounded(),
            queries: executor::Queue::default(),
            synchronization: OnceLock::new(),
            tasks: OnceLock::new(),
        });
        let root = &design::ROOT;
        let NodeKind::Supervisor(strategy, intensity) = root.kind else {
            unreachable!("the design's root is a supervisor")
        };
        let children = root
            .children
            .iter()
            .filter(|node| node.is_started() && subsystems.contains(&node.id))
            .map(|node| child_spec(node, &shared));
        let spec = SupervisorSpec::new(root.id, strategy)
            .restart_intensity(intensity)
            .children(children);
        let env = RuntimeEnv::monotonic();
        let root = Supervisor::start(spec, &env)?;
        if let Ok(tasks) = root.reference().child_supervisor("task_supervisor") {
            let _ = shared.tasks.set(tasks);
        }
        Ok(Host {
            root: Some(root),
            env,
            shared,
            batch_queue: Mutex::new(None),
        })
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn root(&self) -> &SupervisorRef {
        self.root.as_ref().expect("the root lives until shutdown")
    }

    /// Runs a batch through the Parsing subsystem's BatchProcessor and waits for every file.
    pub(crate) fn run_batch(&self, job: Arc<BatchJob>) -> Result<Vec<FileRecord>, HostError> {
        lock(&self.shared.batch_jobs).push_back(Arc::clone(&job));
        let _ = self.shared.doorbell.0.send(());
        let parsing = self.root().child_supervisor("parsing")?;
        // A transient processor that finished an earlier batch is stopped: start it again.
        let stopped = parsing
            .which_children()?
            .iter()
            .any(|c| c.id == "batch_processor" && c.status == crate::otp::ChildStatus::Stopped);
        if stopped {
            parsing.restart_child("batch_processor")?;
        }
        while !job.wait(LIVENESS_CHECK) {
            if !self.root().is_running() {
                return Err(HostError::Stopped(
                    "the supervision tree shut down (restart intensity exceeded)".into(),
                ));
            }
        }
        *lock(&self.batch_queue) = Some(job.queue_stats());
        Ok(job.take_records())
    }

    /// Has the MemoryManager's Cleaner clean the index at `database`, now the run is done
    /// with it, and waits for it: the transient Cleaner is started again for the request.
    pub(crate) fn clean_index(&self, database: std::path::PathBuf) {
        let memory = &self.shared.memory;
        memory.request_clean(database);
        let started = self
            .root()
            .child_supervisor("repository")
            .and_then(|repository| repository.child_supervisor("memory_manager"))
            .and_then(|manager| manager.restart_child("cleaner"));
        if started.is_ok() {
            // A clean is a few queries and bounded vacuum steps; past this, the process
            // exits and SQLite rolls the step back.
            let _ = memory.wait_cleaned(Duration::from_secs(30));
        }
    }

    /// Runs a query through the Querying subsystem: the Executor takes it from its queue and
    /// runs it on the WorkerPool (the interactive bulkhead), so a query never waits behind a
    /// batch; its result comes back here. A query that panics is reported as failed.
    pub(crate) fn run_query<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HostError> {
        let (sender, receiver) = crossbeam_channel::bounded(1);
        let job: executor::QueryJob = Box::new(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = sender.send(result.map_err(|panic| {
                panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "it panicked".into())
            }));
        });
        self.shared.queries.push(job);
        loop {
            match receiver.recv_timeout(LIVENESS_CHECK) {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(reason)) => {
                    return Err(HostError::Task {
                        name: "query".into(),
                        reason,
                    })
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    if !self.root().is_running() {
                        return Err(HostError::Stopped(
                            "the supervision tree shut down (restart intensity exceeded)".into(),
                        ));
                    }
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    return Err(HostError::Task {
                        name: "query".into(),
                        reason: "the query was dropped before it ran".into(),
                    })
                }
            }
        }
    }

    /// Starts the Synchronization subsystem (`watch`, once its repository is loaded) with its
    /// shared state; it is the last child of the root, so it stops first.
    pub(crate) fn start_synchronization(
        &self,
        context: Arc<synchronization::Context>,
    ) -> Result<(), HostError> {
        let _ = self.shared.synchronization.set(context);
        let node = design::ROOT
            .children
            .iter()
            .find(|node| node.id == "synchronization")
            .expect("the design has a Synchronization subsystem");
        self.root().start_child(child_spec(node, &self.shared))?;
        Ok(())
    }

    /// Why `child` last ended, when it ended by failing (not when a sibling's restart
    /// stopped it).
    pub(crate) fn failure_of(&self, child: &str) -> Option<String> {
        self.env
            .events
            .snapshot()
            .into_iter()
            .rev()
            .filter(|event| event.child.as_deref() == Some(child))
            .find_map(|event| match event.kind {
                EventKind::Exited { reason } => {
                    Some(reason.is_abnormal().then(|| reason.to_string()))
                }
                EventKind::Stopped { .. } | EventKind::Killed { .. } => Some(None),
                _ => None,
            })
            .flatten()
    }

    /// Whether the tree is still running (it gives up past its restart intensity).
    pub(crate) fn is_running(&self) -> bool {
        self.root().is_running()
    }

    /// Runs `work` as a temporary child of the TaskSupervisor and returns its result.
    pub(crate) fn run_task<T: Send + 'static>(
        &self,
        name: &str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HostError> {
        let tasks = self.root().child_supervisor("task_supervisor")?;
        let (sender, receiver) = crossbeam_channel::bounded(1);
        let task_name = name.to_string();
        tasks.start_child(ChildSpec::task(name.to_string(), move |_context| {
            let _ = sender.send(work());
            Ok(())
        }))?;
        receiver.recv().map_err(|_| HostError::Task {
            name: task_name,
            reason: self
                .last_failure(name)
                .unwrap_or_else(|| "it ended without a result".into()),
        })
    }

    fn last_failure(&self, child: &str) -> Option<String> {
        self.env
            .events
            .snapshot()
            .into_iter()
            .rev()
            .find_map(|event| match (&event.child, &event.kind) {
                (Some(id), EventKind::Exited { reason }) if id.starts_with(child) => {
                    Some(reason.to_string())
                }
                _ => None,
            })
    }

    pub(crate) fn health(&self) -> Result<HealthReport, HostError> {
        Ok(self.root().health_check()?)
    }

    /// Every child of the running tree in start order, with its restarts and failures so far.
    pub(crate) fn supervision(&self) -> Vec<ChildRuntime> {
        let mut restarts: BTreeMap<String, u32> = BTreeMap::new();
        let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for event in self.env.events.snapshot() {
            let Some(child) = &event.child else { continue };
            let path = format!("{}/{child}", event.supervisor);
            match &event.kind {
                EventKind::Restarted => *restarts.entry(path).or_default() += 1,
                EventKind::Exited { reason } if reason.is_abnormal() => {
                    failures.entry(path).or_default().push(reason.to_string())
                }
                EventKind::StartFailed { reason } => failures
                    .entry(path)
                    .or_default()
                    .push(format!("failed to start: {reason}")),
                _ => {}
            }
        }
        let mut children = Vec::new();
        let mut stack: Vec<SupervisorRef> = vec![self.root().clone()];
        while let Some(supervisor) = stack.pop() {
            let Ok(infos) = supervisor.which_children() else {
                continue;
            };
            let mut nested = Vec::new();
            for info in infos {
                let path = format!("{}/{}", supervisor.path(), info.id);
                // Pool tasks are many and short: the pool's own line carries their failures.
                if supervisor.path().ends_with("task_supervisor") {
                    continue;
                }
                children.push(ChildRuntime {
                    restarts: restarts.get(&path).copied().unwrap_or(0),
                    failures: failures.remove(&path).unwrap_or_default(),
                    kind: match info.kind {
                        ChildKind::Supervisor => "supervisor".into(),
                        ChildKind::Worker => "worker".into(),
                    },
                    restart: format!("{:?}", info.restart).to_lowercase(),
                    path,
                });
                if let Some(child) = info.supervisor {
                    nested.push(child);
                }
            }
            stack.extend(nested.into_iter().rev());
        }
        children.sort_by(|a, b| a.path.cmp(&b.path));
        children
    }

    /// The pools and their queue high-water marks.
    pub(crate) fn pools(&self) -> Vec<PoolRuntime> {
        let (capacity, high_water) = lock(&self.batch_queue).unwrap_or((0, 0));
        let mut pools = vec![PoolRuntime {
            name: "batch".into(),
            threads: self.shared.bulkheads.batch().current_num_threads(),
            queue_capacity: capacity,
            queue_high_water: high_water,
        }];
        if let Some(threads) = self.shared.bulkheads.interactive_threads() {
            pools.push(PoolRuntime {
                name: "interactive".into(),
                threads,
                queue_capacity: 0,
                queue_high_water: 0,
            });
        }
        pools
    }

    /// Stops the tree in reverse start order, each child within its shutdown time.
    pub(crate) fn shutdown(mut self) -> ShutdownReport {
        let first = self.env.events.snapshot().last().map_or(0, |e| e.seq + 1);
        if let Some(root) = self.root.take() {
            root.shutdown();
        }
        let mut order = Vec::new();
        let mut killed = Vec::new();
        for event in self.env.events.snapshot() {
            if event.seq < first {
                continue;
            }
            let path = match &event.child {
                Some(child) => format!("{}/{child}", event.supervisor),
                None => continue,
            };
            match event.kind {
                EventKind::Stopped { .. } => order.push(path),
                EventKind::Killed { .. } => {
                    order.push(path.clone());
                    killed.push(path);
                }
                _ => {}
            }
        }
        ShutdownReport { order, killed }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(root) = self.root.take() {
            root.shutdown();
        }
    }
}

fn shutdown_of(node: &DesignNode) -> Shutdown {
    match node.shutdown {
        Some(timeout) => Shutdown::Timeout(timeout),
        None => Shutdown::Infinity,
    }
}

/// The running form of a built design node.
fn child_spec(node: &'static DesignNode, shared: &Arc<Shared>) -> ChildSpec {
    match node.kind {
        NodeKind::Supervisor(..) | NodeKind::Pool(_) => {
            let shared = Arc::clone(shared);
            ChildSpec::supervisor(node.id, move || supervisor_spec(node, &shared))
                .restart(node.restart)
                .shutdown(shutdown_of(node))
        }
        NodeKind::Worker if node.id == "pattern_library" => {
            // OTP's init/1: the supervisor waits for the compile, so the patterns are
            // published before any batch starts, and a bad selection fails the start-up.
            let shared = Arc::clone(shared);
            ChildSpec::worker(node.id, move |_context| {
                if let Some(patterns) = &shared.patterns {
                    patterns.start()?;
                }
                let shared = Arc::clone(&shared);
                Ok(move |context: ChildContext| service_body("pattern_library", &shared, context))
            })
            .restart(node.restart)
            .shutdown(shutdown_of(node))
        }
        NodeKind::Worker => {
            let shared = Arc::clone(shared);
            let id = node.id;
            ChildSpec::service(node.id, move |context| service_body(id, &shared, context))
                .restart(node.restart)
                .shutdown(shutdown_of(node))
        }
    }
}

fn supervisor_spec(node: &'static DesignNode, shared: &Arc<Shared>) -> SupervisorSpec {
    match node.kind {
        NodeKind::Supervisor(strategy, intensity) => SupervisorSpec::new(node.id, strategy)
            .restart_intensity(intensity)
            .children(
                node.children
                    .iter()
                    .filter(|child| child.is_started())
                    .map(|child| child_spec(child, shared)),
            ),
        NodeKind::Pool(intensity) => SupervisorSpec::dynamic(node.id).restart_intensity(intensity),
        NodeKind::Worker => unreachable!("workers are not supervisors"),
    }
}

/// What each built service does while it runs. Services keep their data in [`Shared`], so a
/// restarted one simply carries on.
fn service_body(id: &str, shared: &Arc<Shared>, context: ChildContext) -> Result<(), ChildError> {
    match id {
        "batch_processor" => loop {
            let job = lock(&shared.batch_jobs).front().cloned();
            if let Some(job) = job {
                job.feed(shared.bulkheads.batch(), &context)?;
                lock(&shared.batch_jobs).pop_front();
                // Transient: done with its batch, it ends normally and is not restarted.
                return Ok(());
            }
            select! {
                recv(shared.doorbell.1) -> _ => {}
                recv(context.stop_signal()) -> _ => return Ok(()),
            }
        },
        "file_watcher" | "synchronizer" | "incremental_updater" => {
            let sync = shared
                .synchronization
                .get()
                .ok_or_else(|| ChildError::new("the Synchronization subsystem has no state"))?;
            match id {
                "file_watcher" => file_watcher::serve(sync, &context),
                "synchronizer" => synchronizer::serve(sync, &context),
                _ => {
                    let background = |name: &'static str, work: Box<dyn FnOnce() + Send>| {
                        // A task of the TaskSupervisor, on the interactive pool: apart from
                        // the updater's parsing (a bulkhead), and never holding it up.
                        let tasks = shared.tasks.get().cloned();
                        let shared = Arc::clone(shared);
                        let run = move || match shared.bulkheads.interactive() {
                            Ok(pool) => pool.install(work),
                            Err(_) => work(),
                        };
                        match tasks {
                            Some(tasks) => {
                                let _ = tasks.start_child(ChildSpec::task(name, move |_| {
                                    run();
                                    Ok(())
                                }));
                            }
                            None => run(),
                        }
                    };
                    incremental_updater::serve(
                        sync,
                        shared.bulkheads.batch(),
                        &background,
                        &context,
                    )
                }
            }
        }
        "monitor" => monitor::serve(&shared.memory, &context),
        "cache_manager" => cache_manager::serve(&shared.memory, &context),
        "cleaner" => cleaner::serve(&shared.memory, &context),
        "pressure_handler" => pressure_handler::serve(&shared.memory, &context),
        "executor" => {
            faults::crash_service_once(id);
            let pool = shared
                .bulkheads
                .interactive()
                .map_err(|err| ChildError::new(format!("cannot start the query pool: {err}")))?;
            executor::serve(&shared.queries, pool, &context)
        }
        _ => {
            faults::crash_service_once(id);
            context.report_health(Health::Healthy);
            context.wait_for_stop();
            Ok(())
        }
    }
}
