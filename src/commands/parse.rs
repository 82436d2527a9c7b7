//! `elixirscope parse`: discover → parse every file in parallel → repository → report.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use crate::cli::ParseArgs;
use crate::commands::batch::{self, millis, phase, BatchOptions};
use crate::commands::output;
use crate::exit;
use crate::model::{
    FailureRecord, Report, RuntimeInfo, StatusCounts, Summary, Tool, SCHEMA_VERSION,
};
use crate::project::Repository;
use crate::subsystems::signals;

pub(crate) fn run(args: &ParseArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let discovery = batch::discover(&args.paths, &args.input)?;
    let batch::Batch {
        root,
        host,
        repository,
        jobs,
        phases,
        warnings,
        cache,
        spill,
        ..
    } = batch::run(
        discovery,
        &args.input,
        BatchOptions {
            calls: !args.no_calls,
            metrics: !args.no_metrics,
            quiet: args.output.quiet,
            analysis: None,
            cache: true,
            project_phase: true,
            scope: Some(batch::scope(&args.paths, &args.input)),
            querying: false,
            whole_records: false,
            memory_limit: args
                .memory_limit
                .map(|limit| (limit, batch::SpillMode::Store)),
        },
        started,
    )?;

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
        failures.extend(FailureRecord::of(file));
    }
    summary.by_status = counts;
    summary.metrics = (!args.no_metrics).then(|| {
        crate::extract::metrics::project(repository.files().iter().flat_map(|f| &f.modules))
    });
    let failed = summary.by_status.failed + summary.by_status.timeout > 0;

    if !args.output.quiet {
        for failure in &failures {
            eprintln!("elixirscope: {}: {}", failure.path, failure.message);
        }
    }

    let (files, graph) = Arc::try_unwrap(repository)
        .map(Repository::into_files_and_graph)
        // Only if a service still holds the snapshot.
        .unwrap_or_else(|shared| (shared.files().to_vec(), shared.graph().clone()));
    let graph = (!args.no_calls).then_some(graph);
    let runtime = RuntimeInfo {
        jobs,
        phases,
        failures,
        supervision: host.supervision(),
        breakers: host.shared().breakers.verdicts(),
        pools: host.pools(),
        rules: Vec::new(),
        cache,
        memory: {
            let mut memory = host.shared().memory.runtime();
            memory.spilled_bytes = spill.as_ref().map_or(0, |store| store.bytes());
            memory
        },
        warnings,
    };
    let shutdown_started = Instant::now();
    host.shutdown();
    let write_started = Instant::now();
    summary.elapsed_ms = millis(started.elapsed());
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool::current(),
        command: "parse".into(),
        root: root.to_string_lossy().into_owned(),
        summary,
        files,
        graph,
        runtime,
    };
    report
        .runtime
        .phases
        .push(phase("runtime_shutdown", shutdown_started));
    report.runtime.phases.push(phase("report", write_started));
    let spilled = spill
        .as_deref()
        .map(|store| store as &dyn crate::model::SpilledRecords);
    output::write_report(&report, &args.output, spilled)?;
    batch::free_at_exit(report);

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
            let mut out = output::stdout();
            writeln!(
                out,
                "{}:{}-{}\t{}\t{}",
                location.path,
                location.line,
                location.end_line,
                location.entity,
                location.description
            )?;
            out.flush()?;
            Ok(exit::SUCCESS)
        }
        None => anyhow::bail!("no module, function or clause has the ID {id:?} under these paths"),
    }
}
