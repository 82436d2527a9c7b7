//! `elixirscope parse`: discover → parse every file in parallel → repository → report.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::ParseArgs;
use crate::commands::output;
use crate::discover::{self, DiscoverOptions};
use crate::exit;
use crate::pipeline::FileOptions;
use crate::report::{
    FailureRecord, PhaseTiming, Report, RuntimeInfo, Status, StatusCounts, Summary, Tool,
    SCHEMA_VERSION,
};
use crate::repository::Repository;
use crate::runtime::batch::BatchJob;
use crate::runtime::host::{Host, BATCH_SUBSYSTEMS};
use crate::runtime::signals;

/// A progress bar appears only when a run lasts longer than this, and only on a terminal.
const PROGRESS_DELAY: Duration = Duration::from_millis(400);

pub(crate) fn run(args: &ParseArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let mut phases = Vec::new();

    let discovery = discover::discover(
        &args.paths,
        &DiscoverOptions {
            exclude: args.input.exclude.clone(),
            follow: args.input.follow,
        },
    )?;
    phases.push(phase("discover", started));

    let jobs = args
        .input
        .jobs
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let startup = Instant::now();
    let host = Host::start(BATCH_SUBSYSTEMS, jobs)?;
    phases.push(phase("runtime_start", startup));

    let parse_started = Instant::now();
    let progress = Arc::new(Progress::new(
        discovery.entries.len() as u64,
        args.output.quiet,
    ));
    let ticker = Arc::clone(&progress);
    let job = BatchJob::new(
        discovery.entries,
        FileOptions {
            max_file_size: args.input.max_file_size,
            parse_timeout: Duration::from_millis(args.input.parse_timeout_ms),
        },
        Box::new(move || ticker.tick()),
    );
    let records = host.run_batch(job)?;
    progress.finish();
    phases.push(phase("parse", parse_started));

    // The project-wide phase runs as a task of the TaskSupervisor; its result is published
    // to the Repository.Core snapshot store, which outlives any service restart.
    let project_started = Instant::now();
    let shared = Arc::clone(host.shared());
    host.run_task("project_phase", move || {
        let projects = records
            .iter()
            .filter_map(|record| record.mix_project.clone())
            .collect();
        shared
            .repository
            .publish(Repository::build(records, projects));
    })?;
    // Taken out of the store: the report moves the records instead of copying them.
    let repository = host.shared().repository.take();
    phases.push(phase("project", project_started));

    if let Some(id) = &args.locate {
        let code = locate(&repository, id);
        host.shutdown();
        return code;
    }

    let mut summary = Summary {
        projects: repository.projects().to_vec(),
        duplicate_modules: repository.duplicates().to_vec(),
        ..Summary::default()
    };
    let mut counts = StatusCounts::default();
    let mut failures = Vec::new();
    for file in repository.files() {
        counts.add(file.status);
        summary.files += 1;
        summary.bytes += file.bytes;
        summary.lines += u64::from(file.lines);
        summary.modules += file.modules.len() as u64;
        summary.functions += file
            .modules
            .iter()
            .map(|m| m.functions.len() as u64)
            .sum::<u64>();
        if let (Status::Failed | Status::Timeout, Some(reason)) = (file.status, file.reason) {
            failures.push(FailureRecord {
                path: file.path.clone(),
                status: file.status,
                reason,
                message: file.message.clone().unwrap_or_default(),
            });
        }
    }
    summary.by_status = counts;
    let failed = summary.by_status.failed + summary.by_status.timeout > 0;

    if !args.output.quiet {
        for failure in &failures {
            eprintln!("elixirscope: {}: {}", failure.path, failure.message);
        }
    }

    let files = Arc::try_unwrap(repository)
        .map(Repository::into_files)
        // Only if a service still holds the snapshot.
        .unwrap_or_else(|shared| shared.files().to_vec());
    let runtime = RuntimeInfo {
        jobs,
        phases,
        failures,
        supervision: host.supervision(),
        breakers: host.shared().breakers.verdicts(),
        pools: host.pools(),
    };
    let shutdown_started = Instant::now();
    host.shutdown();
    let write_started = Instant::now();
    summary.elapsed_ms = millis(started.elapsed());
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool::current(),
        command: "parse".into(),
        root: discovery.root.to_string_lossy().into_owned(),
        summary,
        files,
        runtime,
    };
    report
        .runtime
        .phases
        .push(phase("runtime_shutdown", shutdown_started));
    report.runtime.phases.push(phase("report", write_started));
    output::write_report(&report, &args.output)?;

    if let Some(code) = signals::exit_code() {
        return Ok(code);
    }
    Ok(if failed {
        exit::FILE_FAILURES
    } else {
        exit::SUCCESS
    })
}

fn locate(repository: &Repository, id: &str) -> anyhow::Result<u8> {
    match repository.locate(id) {
        Some(location) => {
            println!(
                "{}:{}-{}\t{}\t{}",
                location.path,
                location.line,
                location.end_line,
                location.entity,
                location.description
            );
            Ok(exit::SUCCESS)
        }
        None => anyhow::bail!("no module, function or clause has the ID {id:?} under these paths"),
    }
}

fn phase(name: &str, started: Instant) -> PhaseTiming {
    PhaseTiming {
        phase: name.to_string(),
        elapsed_ms: millis(started.elapsed()),
    }
}

fn millis(duration: Duration) -> u64 {
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
