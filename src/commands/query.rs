//! `elixirscope query`: a question of the code, answered from the repository the index keeps
//! (issue [6]). The batch is `parse`'s (same run scope, so `parse` and `query` share the index
//! and its stored project phase); the query runs as a task of the TaskSupervisor under
//! `--timeout-ms`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::{Format, QueryArgs};
use crate::commands::batch::{self, BatchOptions};
use crate::commands::output;
use crate::exit;
use crate::model::{FileRecord, Finding};
use crate::otp::cancel::Deadline;
use crate::query::ast::{closest, QueryError, Source, ENTITIES};
use crate::query::exec::{self, Data};
use crate::query::{fields, syntax};
use crate::report::query::{self as report, QueryReport, QueryRuntime, Row};
use crate::subsystems::analysis::pattern_matcher::pattern_library::Selection;
use crate::subsystems::analysis::pattern_matcher::structural;
use crate::subsystems::signals;

/// Version of the query report's shape (`schema/query.schema.json`).
const SCHEMA_VERSION: u32 = 1;

/// Graph row kinds `--fields` also describes.
const GRAPH_KINDS: &[&str] = &["callers", "callees", "path", "cycles"];

pub(crate) fn run(args: &QueryArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let mut paths = args.paths.clone();
    if let Some(entity) = &args.fields {
        // `--fields ENTITY [PATH]`: a QUERY given is a path.
        return print_fields(entity, args);
    }
    // `-p PATTERN`: the pattern query, quoted for the user; a QUERY given is a path.
    let text = match &args.pattern {
        Some(pattern) => {
            if let Some(path) = &args.query {
                paths.insert(0, PathBuf::from(path));
            }
            Some(format!(
                "pattern '{}'",
                pattern.replace('\\', "\\\\").replace('\'', "\\'")
            ))
        }
        None => args.query.clone(),
    };
    let Some(text) = text else {
        eprintln!(
            "elixirscope: error: a query is required, e.g. `elixirscope query 'functions where \
             complexity > 5'`; `elixirscope query --help` lists the forms"
        );
        return Ok(exit::USAGE_OR_FATAL);
    };
    let query = match syntax::parse(&text).and_then(|query| exec::check(&query).map(|()| query)) {
        Ok(query) => query,
        Err(error) => return Ok(usage(&error, &text)),
    };
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let findings = matches!(&query.source, Source::Entity(e) if e.value == "findings");
    let discovery = batch::discover(&paths, &args.input)?;
    let batch = batch::run(
        discovery,
        &args.input,
        BatchOptions {
            calls: true,
            metrics: true,
            quiet: args.output.quiet,
            // Findings come from the analysis (cached by the index per rule selection): the
            // default rules, as `analyze` runs them.
            analysis: findings.then(|| Selection {
                foreign_suppressions: true,
                ..Selection::default()
            }),
            cache: true,
            project_phase: !findings,
            scope: Some(batch::scope(&paths, &args.input)),
        },
        started,
    )?;
    let query_started = Instant::now();
    let repository = Arc::clone(&batch.repository);
    let timeout = Duration::from_millis(args.timeout_ms);
    let shared = Arc::clone(batch.host.shared());
    let root = batch.root.clone();
    let answer = batch.host.run_task("query", move || {
        let deadline = Deadline::after(timeout, signals::run_token());
        // A structural pattern: the PatternMatcher searches every parsed file on the batch
        // pool first.
        let matches = match &query.source {
            Source::Pattern { pattern, .. } => {
                let compiled = exec::compile_pattern(pattern)?;
                structural::search(
                    &compiled,
                    &root,
                    repository.files(),
                    shared.bulkheads.batch(),
                    &deadline,
                )
            }
            _ => Vec::new(),
        };
        let found: Vec<(&FileRecord, &Finding)> = repository
            .files()
            .iter()
            .flat_map(|file| {
                file.analysis
                    .iter()
                    .flat_map(move |a| a.findings.iter().map(move |f| (file, f)))
            })
            .collect();
        let data = Data {
            repository: &repository,
            findings: &found,
            matches: &matches,
        };
        exec::execute(&query, &data, &deadline)
    });
    let mut phases = batch.phases.clone();
    phases.push(batch::phase("query", query_started));
    let shutdown_started = Instant::now();
    let root = batch.root.display().to_string();
    let jobs = batch.jobs;
    let warnings = batch.warnings.clone();
    let cache = batch.cache.clone();
    batch.host.shutdown();
    phases.push(batch::phase("runtime_shutdown", shutdown_started));
    let answer = match answer {
        Ok(Ok(answer)) => answer,
        Ok(Err(error)) => return Ok(usage(&error, &text)),
        Err(err) => return Err(err.into()),
    };
    let columns: Arc<Vec<String>> =
        Arc::new(answer.columns.iter().map(|c| c.to_string()).collect());
    let count = answer.rows.len();
    let report = QueryReport {
        schema_version: SCHEMA_VERSION,
        root,
        query: text,
        kind: answer.kind.to_string(),
        columns: columns.to_vec(),
        rows: answer
            .rows
            .into_iter()
            .map(|cells| Row {
                columns: Arc::clone(&columns),
                cells,
            })
            .collect(),
        count,
        runtime: QueryRuntime {
            jobs,
            phases,
            cache,
            warnings,
        },
    };
    let format = output::resolved_format(&args.output);
    output::emit_to(args.output.output.as_deref(), |out| match format {
        Format::Json | Format::Auto => report::json(&report, out),
        Format::Ndjson => report::ndjson(&report, out),
        Format::Text => report::text(&report, out),
    })?;
    batch::free_at_exit(report);
    Ok(exit::SUCCESS)
}

/// An invalid query: where, what, a hint; exit 2.
fn usage(error: &QueryError, text: &str) -> u8 {
    eprintln!("elixirscope: error: {}", error.render(text));
    exit::USAGE_OR_FATAL
}

/// `--fields ENTITY`: the fields with their types and meaning.
fn print_fields(entity: &str, args: &QueryArgs) -> anyhow::Result<u8> {
    let Some(list) = fields::of(entity) else {
        let known: Vec<&str> = ENTITIES.iter().chain(GRAPH_KINDS).copied().collect();
        let mut message = format!("unknown entity '{entity}'");
        if let Some(close) = closest(entity, known.iter().copied()) {
            message.push_str(&format!("; did you mean '{close}'?"));
        }
        eprintln!(
            "elixirscope: error: {message} (entities: {})",
            known.join(", ")
        );
        return Ok(exit::USAGE_OR_FATAL);
    };
    let json = match args.output.format {
        Format::Json | Format::Ndjson => true,
        Format::Text => false,
        Format::Auto => args.output.output.is_some() || !std::io::stdout().is_terminal(),
    };
    output::emit_to(args.output.output.as_deref(), |out| {
        if json {
            serde_json::to_writer_pretty(&mut *out, list)?;
            return writeln!(out);
        }
        let width = list.iter().map(|f| f.name.len()).max().unwrap_or(0);
        for field in list {
            let ty = match field.ty {
                fields::FieldType::Bool => "bool",
                fields::FieldType::Int => "int",
                fields::FieldType::Str => "string",
                fields::FieldType::List => "list",
            };
            writeln!(out, "{:width$}  {ty:6}  {}", field.name, field.meaning)?;
        }
        Ok(())
    })?;
    Ok(exit::SUCCESS)
}
