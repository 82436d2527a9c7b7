//! The design's supervision tree (`shared/design/SUPERVISION_TREE.md` §1) as data: every
//! supervisor and service with its strategy, restart intensity, restart type and shutdown, and
//! which Rust component plays it, whether its work is folded into another component, or which
//! roadmap item will build it. `elixirscope runtime` prints it; [`super::root`] starts the
//! supervisors a subcommand needs from it. A node is shown built only when a started,
//! supervised component does its job in some command's run.

use std::time::Duration;

use crate::otp::{RestartIntensity, RestartType, Strategy};

/// Whether, and how, a node of the design exists in this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Built {
    /// A started, supervised child does this node's job; the named component.
    Yes(&'static str),
    /// A child is started and supervised as the design asks, but the node's work runs inside
    /// another component (named), for speed.
    Folded(&'static str),
    /// No child of its own: the node's job is done inside another component (named).
    Inside(&'static str),
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

/// The whole tree, children in start order (§1 and §6).
pub(crate) const ROOT: DesignNode = DesignNode {
    id: "root",
    design_name: "ElixirScope.AST.Supervisor",
    kind: NodeKind::Supervisor(OneForOne, RestartIntensity::ROOT),
    restart: Permanent,
    shutdown: None,
    built: Built::Yes("subsystems::root::Host"),
    children: &[
        supervisor(
            "repository",
            "ElixirScope.AST.Repository.Supervisor",
            OneForOne,
            ms(10_000),
            Built::Yes("subsystems::repository"),
            &[
                worker(
                    "core",
                    "ElixirScope.AST.Repository.Core",
                    Permanent,
                    ms(5_000),
                    Built::Yes(
                        "subsystems::repository::core::RepositoryCore (the project phase's \
                         project::Repository, a snapshot that outlives restarts), backed by \
                         the persistent index (index::Cache: unchanged files are served from \
                         it, parsed ones stored by its writer thread)",
                    ),
                ),
                worker(
                    "enhanced",
                    "ElixirScope.AST.Repository.Enhanced",
                    Permanent,
                    ms(5_000),
                    Built::Folded(
                        "subsystems::repository::enhanced: the project phase (kinds through \
                         use, IDs, call resolution, the graph), incremental over the run \
                         scope's phase stored in the index (project::enhanced); runs as the \
                         project_phase task of the TaskSupervisor",
                    ),
                ),
                DesignNode {
                    id: "memory_manager",
                    design_name: "ElixirScope.AST.Repository.MemoryManager.Supervisor",
                    kind: NodeKind::Supervisor(RestForOne, RestartIntensity::SERVICES),
                    restart: Permanent,
                    shutdown: None,
                    built: Built::Yes("subsystems::repository::memory_manager::MemoryManager"),
                    children: &[
                        worker(
                            "monitor",
                            "MemoryManager.Monitor",
                            Permanent,
                            ms(5_000),
                            Built::Yes(
                                "memory_manager::monitor (the counting allocator's live heap and \
                                 /proc's resident set against --memory-limit)",
                            ),
                        ),
                        worker(
                            "cache_manager",
                            "MemoryManager.CacheManager",
                            Permanent,
                            ms(5_000),
                            Built::Yes(
                                "memory_manager::cache_manager (byte-counted caches under one \
                                 budget: compiled patterns, the index's page caches)",
                            ),
                        ),
                        // The design says temporary, which rest_for_one would never restart as
                        // a bystander: transient (docs/runtime.md).
                        worker(
                            "cleaner",
                            "MemoryManager.Cleaner",
                            Transient,
                            ms(1_000),
                            Built::Yes(
                                "memory_manager::cleaner (index::cleaner at the end of a run \
                                 that used the index)",
                            ),
                        ),
                        worker(
                            "pressure_handler",
                            "MemoryManager.PressureHandler",
                            Permanent,
                            ms(5_000),
                            Built::Yes(
                                "memory_manager::pressure_handler (evicts; at critical narrows \
                                 the batch and spills its records)",
                            ),
                        ),
                    ],
                },
            ],
        ),
        supervisor(
            "parsing",
            "ElixirScope.AST.Parsing.Supervisor",
            OneForOne,
            ms(3_000),
            Built::Yes("subsystems::parsing"),
            &[
                worker(
                    "parser",
                    "ElixirScope.AST.Parsing.Parser",
                    Permanent,
                    ms(5_000),
                    Built::Folded(
                        "each file is parsed by subsystems::parsing::parser::process on the \
                         batch pool, fed by the batch_processor",
                    ),
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
                    Built::Yes("subsystems::parsing::batch_processor::BatchJob"),
                ),
            ],
        ),
        supervisor(
            "analysis",
            "ElixirScope.AST.Analysis.Supervisor",
            OneForOne,
            ms(5_000),
            Built::Yes("subsystems::analysis (started by analyze)"),
            &[
                supervisor(
                    "pattern_matcher",
                    "PatternMatcher.Supervisor",
                    OneForOne,
                    None,
                    Built::Yes("subsystems::analysis::pattern_matcher"),
                    &[
                        worker(
                            "core",
                            "PatternMatcher.Core",
                            Permanent,
                            ms(5_000),
                            Built::Inside(
                                "subsystems::analysis::pattern_matcher::core evaluates the rules \
                                 inside the parser's walk of each file, on the batch pool",
                            ),
                        ),
                        worker(
                            "pattern_library",
                            "PatternMatcher.PatternLibrary",
                            Permanent,
                            ms(5_000),
                            Built::Yes(
                                "subsystems::analysis::pattern_matcher::pattern_library::\
                                 PatternLibrary (compiles the selected rules when it starts)",
                            ),
                        ),
                        worker(
                            "cache",
                            "PatternMatcher.Cache",
                            Permanent,
                            ms(5_000),
                            Built::Inside(
                                "syntax::pattern::Pattern::compiled keeps the compiled patterns; \
                                 the index keeps each file's findings per rule selection and its \
                                 call sites (index::query_store)",
                            ),
                        ),
                        pool(
                            "worker_pool",
                            "PatternMatcher.WorkerPool",
                            Built::Inside(
                                "the batch pool (subsystems::pools::Bulkheads) runs the walk",
                            ),
                        ),
                    ],
                ),
                supervisor(
                    "performance_optimizer",
                    "PerformanceOptimizer.Supervisor",
                    OneForOne,
                    None,
                    Built::Inside(
                        "each of its jobs runs inside the component named below; none needs a \
                         process of its own",
                    ),
                    &[
                        worker(
                            "batch_processor",
                            "PerformanceOptimizer.BatchProcessor",
                            Permanent,
                            ms(5_000),
                            Built::Inside("the parsing subsystem's batch_processor"),
                        ),
                        worker(
                            "lazy_loader",
                            "PerformanceOptimizer.LazyLoader",
                            Permanent,
                            ms(5_000),
                            Built::Inside(
                                "index::Cache decodes from the index only what the command \
                                 needs (analyze: findings, not records), in the parse workers",
                            ),
                        ),
                        worker(
                            "optimization_scheduler",
                            "PerformanceOptimizer.OptimizationScheduler",
                            Permanent,
                            ms(5_000),
                            Built::Inside(
                                "the batch processor sizes its messages by what is left (guided \
                                 scheduling); under critical memory pressure the \
                                 memory_manager's PressureHandler narrows it to one file in \
                                 flight and spills the records",
                            ),
                        ),
                        worker(
                            "statistics_collector",
                            "PerformanceOptimizer.StatisticsCollector",
                            Permanent,
                            ms(5_000),
                            Built::Inside(
                                "the report's runtime section (phase, rule and pool figures, \
                                 breakers), collected by the commands",
                            ),
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
            Built::Yes("subsystems::querying"),
            &[
                worker(
                    "executor",
                    "Querying.Executor",
                    Permanent,
                    ms(5_000),
                    Built::Yes(
                        "subsystems::querying::executor (Host::run_query queues each query; the \
                         Executor runs it on the WorkerPool under --timeout-ms)",
                    ),
                ),
                worker(
                    "cache",
                    "Querying.Cache",
                    Permanent,
                    ms(5_000),
                    Built::Inside(
                        "index::query_store keeps the answers per run scope and generation \
                         (dropped when the query tables change)",
                    ),
                ),
                pool(
                    "worker_pool",
                    "Querying.WorkerPool",
                    Built::Inside(
                        "the interactive pool (subsystems::pools::Bulkheads) runs each query, \
                         apart from the batch pool",
                    ),
                ),
            ],
        ),
        supervisor(
            "synchronization",
            "ElixirScope.AST.Synchronization.Supervisor",
            RestForOne,
            ms(5_000),
            Built::Yes("subsystems::synchronization (started by `watch` once the tree is loaded)"),
            &[
                worker(
                    "file_watcher",
                    "Synchronization.FileWatcher",
                    Permanent,
                    ms(2_000),
                    Built::Yes(
                        "synchronization::file_watcher (notify's watcher over the directories \
                         discovery enters; polling as the fallback)",
                    ),
                ),
                worker(
                    "synchronizer",
                    "Synchronization.Synchronizer",
                    Permanent,
                    ms(5_000),
                    Built::Yes(
                        "synchronization::synchronizer (settled batches to changes; rescans)",
                    ),
                ),
                // §1 says permanent, §5.3 transient: transient wins (docs/runtime.md).
                worker(
                    "incremental_updater",
                    "Synchronization.IncrementalUpdater",
                    Transient,
                    ms(5_000),
                    Built::Yes(
                        "synchronization::incremental_updater (the live repository, the index \
                         and its query tables)",
                    ),
                ),
            ],
        ),
        pool(
            "task_supervisor",
            "ElixirScope.AST.TaskSupervisor",
            Built::Yes("subsystems::root (dynamic pool for one-off project-phase tasks)"),
        ),
    ],
};

impl DesignNode {
    /// The child with this id.
    #[cfg(test)]
    pub(crate) fn child(&self, id: &str) -> Option<&'static DesignNode> {
        self.children.iter().find(|c| c.id == id)
    }

    /// Whether the running tree starts a child for this node.
    pub(crate) fn is_started(&self) -> bool {
        matches!(self.built, Built::Yes(_) | Built::Folded(_))
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
