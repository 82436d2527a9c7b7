//! The design's supervision tree (`shared/design/SUPERVISION_TREE.md` §1) as data: every
//! supervisor and service with its strategy, restart intensity, restart type and shutdown, and
//! which Rust component plays it — or which roadmap item will build it. `elixirscope runtime`
//! prints it; [`super::host`] builds the supervisors that a subcommand needs from it.

use std::time::Duration;

use crate::otp::{RestartIntensity, RestartType, Strategy};

/// Whether a node of the design exists in this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Built {
    /// Played by the named Rust component.
    Yes(&'static str),
    /// Not built yet; the roadmap item that builds it.
    Planned(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Supervisor(Strategy, RestartIntensity),
    /// A pool of temporary workers (the design's `simple_one_for_one`).
    Pool(RestartIntensity),
    Worker,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct DesignNode {
    /// Child id in the running tree, e.g. `batch_processor`.
    pub(crate) id: &'static str,
    /// The design's name, e.g. `ElixirScope.AST.Parsing.BatchProcessor`.
    pub(crate) design_name: &'static str,
    pub(crate) kind: NodeKind,
    pub(crate) restart: RestartType,
    /// `None`: wait as long as the subtree needs (OTP's `infinity` for supervisors).
    pub(crate) shutdown: Option<Duration>,
    pub(crate) built: Built,
    pub(crate) children: &'static [DesignNode],
}

const fn ms(millis: u64) -> Option<Duration> {
    Some(Duration::from_millis(millis))
}

const fn worker(
    id: &'static str,
    design_name: &'static str,
    restart: RestartType,
    shutdown: Option<Duration>,
    built: Built,
) -> DesignNode {
    DesignNode {
        id,
        design_name,
        kind: NodeKind::Worker,
        restart,
        shutdown,
        built,
        children: &[],
    }
}

const fn supervisor(
    id: &'static str,
    design_name: &'static str,
    strategy: Strategy,
    shutdown: Option<Duration>,
    built: Built,
    children: &'static [DesignNode],
) -> DesignNode {
    DesignNode {
        id,
        design_name,
        kind: NodeKind::Supervisor(strategy, RestartIntensity::SERVICES),
        restart: RestartType::Permanent,
        shutdown,
        built,
        children,
    }
}

const fn pool(id: &'static str, design_name: &'static str, built: Built) -> DesignNode {
    DesignNode {
        id,
        design_name,
        kind: NodeKind::Pool(RestartIntensity::POOLS),
        restart: RestartType::Permanent,
        shutdown: None,
        built,
        children: &[],
    }
}

use RestartType::{Permanent, Transient};
use Strategy::{OneForOne, RestForOne};

const PLANNED_MEMORY: Built = Built::Planned("[5] persistent cache and memory manager");
const PLANNED_ANALYSIS: Built = Built::Planned("[4a] analyze: rule engine");
const PLANNED_QUERY: Built = Built::Planned("[6] query");
const PLANNED_WATCH: Built = Built::Planned("[7] watch");

/// The whole tree, children in start order (§1 and §6).
pub(crate) const ROOT: DesignNode = DesignNode {
    id: "root",
    design_name: "ElixirScope.AST.Supervisor",
    kind: NodeKind::Supervisor(OneForOne, RestartIntensity::ROOT),
    restart: Permanent,
    shutdown: None,
    built: Built::Yes("runtime::host::Host"),
    children: &[
        supervisor(
            "repository",
            "ElixirScope.AST.Repository.Supervisor",
            OneForOne,
            ms(10_000),
            Built::Yes("runtime::host (subsystem)"),
            &[
                worker(
                    "core",
                    "ElixirScope.AST.Repository.Core",
                    Permanent,
                    ms(5_000),
                    Built::Yes("repository::Repository behind runtime::store::SnapshotStore"),
                ),
                worker(
                    "enhanced",
                    "ElixirScope.AST.Repository.Enhanced",
                    Permanent,
                    ms(5_000),
                    // Its data (the call graph of [3a], the metrics of [3b]) is computed in the
                    // project phase of every batch run; a long-lived service that keeps it up
                    // to date is [7]'s.
                    Built::Planned("[7] watch (graph and metrics are computed per run today)"),
                ),
                DesignNode {
                    id: "memory_manager",
                    design_name: "ElixirScope.AST.Repository.MemoryManager.Supervisor",
                    kind: NodeKind::Supervisor(RestForOne, RestartIntensity::SERVICES),
                    restart: Permanent,
                    shutdown: None,
                    built: PLANNED_MEMORY,
                    children: &[
                        worker("monitor", "MemoryManager.Monitor", Permanent, ms(5_000), PLANNED_MEMORY),
                        worker("cache_manager", "MemoryManager.CacheManager", Permanent, ms(5_000), PLANNED_MEMORY),
                        // The design says temporary, which rest_for_one would never restart as
                        // a bystander: transient (docs/runtime.md).
                        worker("cleaner", "MemoryManager.Cleaner", Transient, ms(1_000), PLANNED_MEMORY),
                        worker("pressure_handler", "MemoryManager.PressureHandler", Permanent, ms(5_000), PLANNED_MEMORY),
                    ],
                },
            ],
        ),
        supervisor(
            "parsing",
            "ElixirScope.AST.Parsing.Supervisor",
            OneForOne,
            ms(3_000),
            Built::Yes("runtime::host (subsystem)"),
            &[
                worker(
                    "parser",
                    "ElixirScope.AST.Parsing.Parser",
                    Permanent,
                    ms(5_000),
                    Built::Yes("runtime::pools::Bulkheads (batch pool) + syntax::parse"),
                ),
                worker(
                    "instrumentation_mapper",
                    "ElixirScope.AST.Parsing.InstrumentationMapper",
                    Permanent,
                    ms(5_000),
                    Built::Planned("[3c] control-flow graphs and instrumentation points"),
                ),
                worker(
                    "batch_processor",
                    "ElixirScope.AST.Parsing.BatchProcessor",
                    Transient,
                    ms(5_000),
                    Built::Yes("runtime::batch::BatchJob"),
                ),
            ],
        ),
        supervisor(
            "analysis",
            "ElixirScope.AST.Analysis.Supervisor",
            OneForOne,
            ms(5_000),
            PLANNED_ANALYSIS,
            &[
                supervisor(
                    "pattern_matcher",
                    "PatternMatcher.Supervisor",
                    OneForOne,
                    None,
                    PLANNED_ANALYSIS,
                    &[
                        worker("core", "PatternMatcher.Core", Permanent, ms(5_000), PLANNED_ANALYSIS),
                        worker("pattern_library", "PatternMatcher.PatternLibrary", Permanent, ms(5_000), PLANNED_ANALYSIS),
                        worker("cache", "PatternMatcher.Cache", Permanent, ms(5_000), PLANNED_ANALYSIS),
                        pool("worker_pool", "PatternMatcher.WorkerPool", PLANNED_ANALYSIS),
                    ],
                ),
                supervisor(
                    "performance_optimizer",
                    "PerformanceOptimizer.Supervisor",
                    OneForOne,
                    None,
                    PLANNED_ANALYSIS,
                    &[
                        worker("batch_processor", "PerformanceOptimizer.BatchProcessor", Permanent, ms(5_000), PLANNED_ANALYSIS),
                        worker("lazy_loader", "PerformanceOptimizer.LazyLoader", Permanent, ms(5_000), PLANNED_MEMORY),
                        worker("optimization_scheduler", "PerformanceOptimizer.OptimizationScheduler", Permanent, ms(5_000), PLANNED_ANALYSIS),
                        worker(
                            "statistics_collector",
                            "PerformanceOptimizer.StatisticsCollector",
                            Permanent,
                            ms(5_000),
                            Built::Yes("report::RuntimeInfo (phase timings, pools, breakers), not a thread"),
                        ),
                    ],
                ),
            ],
        ),
        supervisor(
            "querying",
            "ElixirScope.AST.Querying.Supervisor",
            OneForOne,
            ms(3_000),
            PLANNED_QUERY,
            &[
                worker("executor", "Querying.Executor", Permanent, ms(5_000), PLANNED_QUERY),
                worker("cache", "Querying.Cache", Permanent, ms(5_000), PLANNED_QUERY),
                pool("worker_pool", "Querying.WorkerPool", PLANNED_QUERY),
            ],
        ),
        supervisor(
            "synchronization",
            "ElixirScope.AST.Synchronization.Supervisor",
            RestForOne,
            ms(5_000),
            PLANNED_WATCH,
            &[
                worker("file_watcher", "Synchronization.FileWatcher", Permanent, ms(2_000), PLANNED_WATCH),
                worker("synchronizer", "Synchronization.Synchronizer", Permanent, ms(5_000), PLANNED_WATCH),
                // §1 says permanent, §5.3 transient: transient wins (docs/runtime.md).
                worker("incremental_updater", "Synchronization.IncrementalUpdater", Transient, ms(5_000), PLANNED_WATCH),
            ],
        ),
        pool(
            "task_supervisor",
            "ElixirScope.AST.TaskSupervisor",
            Built::Yes("runtime::host (dynamic pool for one-off project-phase tasks)"),
        ),
    ],
};

impl DesignNode {
    /// The child with this id.
    #[cfg(test)]
    pub(crate) fn child(&self, id: &str) -> Option<&'static DesignNode> {
        self.children.iter().find(|c| c.id == id)
    }

    pub(crate) fn is_built(&self) -> bool {
        matches!(self.built, Built::Yes(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsystems_in_dependency_order() {
        let ids: Vec<&str> = ROOT.children.iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            vec![
                "repository",
                "parsing",
                "analysis",
                "querying",
                "synchronization",
                "task_supervisor"
            ]
        );
        let sync = ROOT.child("synchronization").unwrap();
        assert!(matches!(sync.kind, NodeKind::Supervisor(RestForOne, _)));
        let sync_ids: Vec<&str> = sync.children.iter().map(|c| c.id).collect();
        assert_eq!(
            sync_ids,
            vec!["file_watcher", "synchronizer", "incremental_updater"]
        );
        assert!(
            matches!(ROOT.kind, NodeKind::Supervisor(OneForOne, i) if i == RestartIntensity::ROOT)
        );
        let batch = ROOT
            .child("parsing")
            .unwrap()
            .child("batch_processor")
            .unwrap();
        assert_eq!(batch.restart, Transient);
    }
}
