//! What `parse` and `analyze` share: discover, start the runtime, run the batch through the
//! Parsing subsystem, run the project phase on the TaskSupervisor.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use std::path::Path;

use crate::cli::InputArgs;
use crate::commands::output;
use crate::discover::{self, DiscoverOptions, Discovery};
use crate::index::spill::SpillStore;
use crate::index::{self, Cache, CacheSetting};
use crate::model::CacheRuntime;
use crate::model::PhaseTiming;
use crate::project::Repository;
use crate::rules::Analysis;
use crate::subsystems::analysis::pattern_matcher::pattern_library::Selection;
use crate::subsystems::parsing::batch_processor::{store_whole, BatchJob, Keep, Pressure, SpillTo};
use crate::subsystems::parsing::parser::FileOptions;
use crate::subsystems::repository::enhanced::{self, PhaseRequest};
use crate::subsystems::repository::memory_manager::cache_manager::{Evict, IndexPages};
use crate::subsystems::repository::memory_manager::{self, Spill};
use crate::subsystems::root::{
    Host, ANALYSIS_QUERY_SUBSYSTEMS, ANALYSIS_SUBSYSTEMS, BATCH_QUERY_SUBSYSTEMS, BATCH_SUBSYSTEMS,
};
use crate::subsystems::signals;

/// What the project phase adds to a `parse`'s memory at the end of its batch, in percent of
/// it: the natural run's peak over its use when the batch ends (126 MiB over 95 MiB on the
/// bench corpus), with room.
const PHASE_GROWTH: u64 = 140;

/// A progress bar appears only when a run lasts longer than this, and only on a terminal.
const PROGRESS_DELAY: Duration = Duration::from_millis(400);

/// A finished batch: the repository (taken out of the runtime's store, so the records can be
/// moved into the report) and the still-running host.
pub(crate) struct Batch {
    pub(crate) root: PathBuf,
    pub(crate) host: Host,
    pub(crate) repository: Arc<Repository>,
    pub(crate) jobs: usize,
    pub(crate) phases: Vec<PhaseTiming>,
    /// Warnings of the run so far (already printed unless `-q`).
    pub(crate) warnings: Vec<String>,
    /// What the index did; `None` without one.
    pub(crate) cache: Option<CacheRuntime>,
    /// The index itself, for a run that goes on writing it (`watch`).
    pub(crate) index: Option<Arc<Cache>>,
    /// The records spilled under memory pressure, which the report reads back.
    pub(crate) spill: Option<Arc<SpillStore>>,
    /// The index's page caches, under the CacheManager while the index is open.
    #[allow(dead_code)]
    // reason: held, not read: its registration with the CacheManager lives as long
    pub(crate) index_pages: Option<Arc<dyn Evict>>,
}

/// How a command's records are spilled under critical memory pressure.
#[derive(Clone, Copy)]
pub(crate) enum SpillMode {
    /// Reduced to what its report reads (`analyze`).
    Reduce(Keep),
    /// Stored whole in a spill database, the module table kept (`parse`): the report reads
    /// them back.
    Store,
}

pub(crate) struct BatchOptions {
    pub(crate) calls: bool,
    pub(crate) metrics: bool,
    pub(crate) quiet: bool,
    /// For `analyze`: the rules the Analysis subsystem compiles and the walk evaluates.
    pub(crate) analysis: Option<Selection>,
    /// Whether the index may be used (never for `--stdin-filename` input).
    pub(crate) cache: bool,
    /// Whether the project phase runs (not for `analyze`, whose rules read each file alone).
    pub(crate) project_phase: bool,
    /// The run scope the index keeps the project phase under ([`scope`]).
    pub(crate) scope: Option<String>,
    /// Whether the Querying subsystem starts too (`query`).
    pub(crate) querying: bool,
    /// Whether stored files are served whole with their findings (`watch` keeps them), not
    /// as the findings alone.
    pub(crate) whole_records: bool,
    /// `--memory-limit` in bytes, and how the records are spilled under pressure.
    pub(crate) memory_limit: Option<(u64, SpillMode)>,
}

/// The key of a run scope: the paths given and the discovery options. Two runs with the same
/// scope see the same files, so the second resolves only what changed since the first.
pub(crate) fn scope(paths: &[PathBuf], input: &InputArgs) -> String {
    let mut paths: Vec<String> = paths
        .iter()
        .map(|p| {
            std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.clone())
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    paths.sort();
    paths.dedup();
    let key = serde_json::json!({
        "paths": paths,
        "exclude": input.exclude,
        "follow": input.follow,
        "max_file_size": input.max_file_size,
    });
    blake3::hash(key.to_string().as_bytes()).to_hex()[..32].to_string()
}

/// `--jobs`, else one thread per core.
pub(crate) fn jobs(input: &InputArgs) -> usize {
    input
        .jobs
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

pub(crate) fn discover(paths: &[PathBuf], input: &InputArgs) -> anyhow::Result<Discovery> {
    Ok(discover::discover(paths, &discover_options(input))?)
}

/// The discovery options of `--exclude` and `--follow`.
pub(crate) fn discover_options(input: &InputArgs) -> DiscoverOptions {
    DiscoverOptions {
        exclude: input.exclude.clone(),
        follow: input.follow,
    }
}

pub(crate) fn run(
    discovery: Discovery,
    input: &InputArgs,
    options: BatchOptions,
    started: Instant,
) -> anyhow::Result<Batch> {
    let mut phases = vec![phase("discover", started)];
    let jobs = jobs(input);
    let startup = Instant::now();
    let subsystems = match (options.analysis.is_some(), options.querying) {
        (true, false) => ANALYSIS_SUBSYSTEMS,
        (false, false) => BATCH_SUBSYSTEMS,
        (true, true) => ANALYSIS_QUERY_SUBSYSTEMS,
        (false, true) => BATCH_QUERY_SUBSYSTEMS,
    };
    let host = Host::start(
        subsystems,
        jobs,
        options.analysis.clone(),
        options.memory_limit.map(|(limit, _)| limit),
    )?;
    let memory = Arc::clone(&host.shared().memory);
    if options.memory_limit.is_some() {
        let largest = discovery
            .entries
            .iter()
            .filter_map(|entry| std::fs::metadata(&entry.absolute).ok())
            .map(|metadata| metadata.len().min(input.max_file_size))
            .max()
            .unwrap_or(0);
        memory
            .set_floor(largest, discovery.entries.len() as u64)
            .map_err(|exceeded| anyhow::anyhow!(exceeded.message()))?;
    }
    let analysis = host
        .shared()
        .patterns
        .as_ref()
        .and_then(|patterns| patterns.analysis());
    phases.push(phase("runtime_start", startup));

    let mut warnings = Vec::new();
    let cache = open_cache(
        &discovery.root,
        input,
        &options,
        analysis.as_deref(),
        &mut warnings,
    );
    // The index's page caches are the CacheManager's while the run has it open.
    let index_pages: Option<Arc<dyn Evict>> = cache.as_ref().map(|cache| {
        let pages: Arc<dyn Evict> = Arc::new(IndexPages(Arc::clone(cache)));
        memory.register_cache(Arc::clone(&pages));
        pages
    });
    // Where the records go under critical pressure; `parse`'s database is created up front,
    // so a run that cannot have one fails now.
    let spill_to = match options.memory_limit {
        None => None,
        Some((_, SpillMode::Reduce(keep))) => Some(SpillTo::Reduce(keep)),
        Some((_, SpillMode::Store)) => {
            let near = cache
                .as_ref()
                .and_then(|c| c.database().parent().map(Path::to_path_buf));
            let store =
                SpillStore::create(near.as_deref(), discovery.entries.len()).map_err(|err| {
                    anyhow::anyhow!(
                        "cannot create the database --memory-limit spills records into: {err}; \
                     free the temporary folder or run without --memory-limit"
                    )
                })?;
            Some(SpillTo::Store(Arc::new(store)))
        }
    };
    let spill_store = match &spill_to {
        Some(SpillTo::Store(store)) => Some(Arc::clone(store)),
        _ => None,
    };
    let parse_started = Instant::now();
    let progress = Arc::new(Progress::new(discovery.entries.len() as u64, options.quiet));
    let ticker = Arc::clone(&progress);
    let job = BatchJob::new(
        discovery.entries,
        FileOptions {
            max_file_size: input.max_file_size,
            parse_timeout: Duration::from_millis(input.parse_timeout_ms),
            calls: options.calls,
            metrics: options.metrics,
            analysis,
            cache: cache.clone(),
        },
        Box::new(move || ticker.tick()),
        spill_to.map(|spill| Pressure {
            memory: Arc::clone(&memory),
            spill,
        }),
    );
    memory.register_spill(Arc::downgrade(&job) as std::sync::Weak<dyn Spill>);
    let mut records = host.run_batch(job)?;
    progress.finish();
    if let Some(exceeded) = memory.exceeded() {
        anyhow::bail!(exceeded.message());
    }
    // The project phase builds its tables on top of the records (a third more, measured on
    // the bench corpus): a run that would pass its critical mark then puts its records
    // aside first, as critical pressure would.
    if let (Some(store), true) = (&spill_store, memory.would_pass_critical(PHASE_GROWTH)) {
        let spilled = records
            .iter_mut()
            .enumerate()
            .map(|(position, record)| store_whole(store, position, record))
            .filter(|stored| *stored)
            .count();
        memory.note_spilled(spilled as u64);
        memory_manager::release_freed();
    }
    if let Some(cache) = &cache {
        let seen = records.iter().map(|r| r.path.as_str()).collect();
        cache.forget_vanished(&discovery.root, &seen);
    }
    phases.push(phase("parse", parse_started));

    // The project-wide phase runs as a task of the TaskSupervisor; its result is published
    // to the Repository.Core snapshot store, which outlives any service restart.
    let project_started = Instant::now();
    let shared = Arc::clone(host.shared());
    let calls = options.calls;
    let project_phase = options.project_phase;
    let scope = options.scope.clone().filter(|_| cache.is_some());
    let index = cache.clone();
    let spilled = spill_store.clone().filter(|_| memory.spilled_records() > 0);
    host.run_task("project_phase", move || {
        let repository = if project_phase {
            enhanced::update(
                records,
                &PhaseRequest {
                    calls,
                    stored: index.as_deref().zip(scope.as_deref()),
                    cancel: &signals::run_token(),
                    spilled: spilled
                        .as_deref()
                        .map(|store| store as &dyn crate::model::SpilledRecords),
                },
            )
        } else {
            let projects = records
                .iter()
                .filter_map(|record| record.mix_project.clone())
                .collect();
            Repository::without_phase(records, projects)
        };
        shared.repository.publish(repository);
    })?;
    let repository = host.shared().repository.take();
    phases.push(phase("project", project_started));
    if let Some(exceeded) = memory.exceeded() {
        anyhow::bail!(exceeded.message());
    }
    let index = cache.clone();
    let cache = cache.map(|cache| {
        let (runtime, cache_warnings) = cache.finish();
        for warning in cache_warnings {
            output::warn(&mut warnings, options.quiet, warning);
        }
        runtime
    });
    if let Some(index) = &index {
        // The run is done with the index: the MemoryManager's Cleaner sees whether it
        // needs cleaning.
        host.clean_index(index.database().to_path_buf());
    }
    if repository.unresolved_files() > 0 {
        output::warn(
            &mut warnings,
            options.quiet,
            format!(
                "interrupted during the project phase: the calls of {} files are unresolved \
                 and the graph is incomplete",
                repository.unresolved_files()
            ),
        );
    }
    Ok(Batch {
        root: discovery.root,
        host,
        repository,
        jobs,
        phases,
        warnings,
        cache,
        index,
        spill: spill_store,
        index_pages,
    })
}

/// Where a run's index is: off for `--no-cache`, standard input (`allowed` false) and runs
/// with injected parse or rule faults (their results are not the files').
pub(crate) fn cache_setting(input: &InputArgs, allowed: bool) -> CacheSetting {
    match &input.cache_dir {
        _ if input.no_cache || !allowed || crate::faults::alter_results() => CacheSetting::Off,
        Some(folder) => CacheSetting::Folder(folder.clone()),
        None => CacheSetting::UnderRoot,
    }
}

/// Opens the index for this run, or says in a warning why it cannot be used. Off for
/// `--no-cache`, standard input, and runs with injected faults (their results are not the
/// files').
fn open_cache(
    root: &Path,
    input: &InputArgs,
    options: &BatchOptions,
    analysis: Option<&Analysis>,
    warnings: &mut Vec<String>,
) -> Option<Arc<Cache>> {
    let location = index::Location::of(&cache_setting(input, options.cache), root)?;
    let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let config = index::facts_config(options.calls, options.metrics);
    match Cache::open(
        location,
        &canonical,
        config,
        analysis.map(Analysis::fingerprint),
    ) {
        Ok(cache) if options.whole_records => Some(Arc::new(cache.serving_whole_records())),
        Ok(cache) => Some(Arc::new(cache)),
        Err(err) => {
            output::warn(
                warnings,
                options.quiet,
                format!("{err}; running without the index"),
            );
            None
        }
    }
}

/// Leaves a one-shot command's records to the operating system instead of freeing them: the
/// process exits right after, and freeing a large project's millions of small allocations one
/// by one took 40 ms of a 3 s run (1.3% of its wall time), on the main thread, after all the
/// work. Only for values that die at exit; never in a long-lived service.
pub(crate) fn free_at_exit<T>(value: T) {
    std::mem::forget(value);
}

pub(crate) fn phase(name: &str, started: Instant) -> PhaseTiming {
    PhaseTiming {
        phase: name.to_string(),
        elapsed_ms: millis(started.elapsed()),
    }
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// An indicatif bar on stderr, drawn only on a terminal and only once the run has lasted
/// [`PROGRESS_DELAY`]: short runs stay quiet.
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: std::sync::atomic::AtomicBool,
}

impl Progress {
    fn new(total: u64, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} parsing {pos}/{len} files {wide_bar} {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            shown: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn tick(&self) {
        let Some(bar) = &self.bar else { return };
        bar.inc(1);
        if self.started.elapsed() >= PROGRESS_DELAY
            && !self.shown.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
