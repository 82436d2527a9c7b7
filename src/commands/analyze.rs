//! `elixirscope analyze`: the rules over every file, in the same single walk as the facts,
//! inside the supervised runtime; findings as JSON, NDJSON, text, SARIF or GitHub annotations.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Read, Write};
use std::time::Instant;

use anyhow::Context;

use crate::cli::{AnalyzeArgs, AnalyzeFormat, FailOn};
use crate::commands::batch::{self, BatchOptions};
use crate::commands::output;
use crate::exit;
use crate::model::BreakerVerdictState;
use crate::model::{FailureRecord, FileRecord, Reason, RuleTiming, RuntimeInfo, Status};
use crate::report::analysis::{
    self, AnalyzeReport, AnalyzeRun, DisabledRule, FileOutcome, RuleSummary,
};
use crate::report::{findings_text, github, sarif};
use crate::rules::model::{RuleMeta, Severity};
use crate::rules::registry;
use crate::subsystems::analysis::pattern_matcher::pattern_library::Selection;
use crate::subsystems::signals;

pub(crate) fn run(args: &AnalyzeArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let all_rules = registry::all();
    let all_meta: Vec<RuleMeta> = all_rules.iter().map(|r| r.meta().clone()).collect();
    let selection = Selection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        foreign_suppressions: !args.no_foreign_suppressions,
    };
    // Checked here so a bad selector is a usage error; the Analysis subsystem compiles the
    // same selection when it starts.
    let selected = registry::select(all_rules, &args.select, &args.ignore)?;
    let enabled: Vec<&'static str> = selected.iter().map(|r| r.meta().id).collect();

    let mut stdin_source = None;
    let discovery = match &args.stdin_filename {
        Some(path) => {
            let mut content = Vec::new();
            std::io::stdin()
                .read_to_end(&mut content)
                .context("cannot read the source from standard input")?;
            stdin_source = Some(content.clone());
            crate::discover::stdin_entry(path, content)
        }
        None => batch::discover(&args.paths, &args.input)?,
    };
    let batch = batch::run(
        discovery,
        &args.input,
        BatchOptions {
            metrics: true,
            calls: true,
            quiet: args.output.quiet,
            analysis: Some(selection),
            cache: args.stdin_filename.is_none(),
            project_phase: false,
            scope: None,
            querying: false,
            whole_records: false,
            memory_limit: args
                .memory_limit
                .map(|limit| (limit, batch::SpillMode::Reduce(keep_outcome))),
        },
        started,
    )?;
    let breakers = &batch.host.shared().breakers;

    let mut findings = Vec::new();
    let mut files = Vec::new();
    let mut failures = Vec::new();
    let mut suppressed = 0;
    let mut rule_nanos: BTreeMap<&'static str, u64> = BTreeMap::new();
    for id in &enabled {
        breakers.register(id);
    }
    for record in batch.repository.files() {
        files.push(FileOutcome::from(record));
        failures.extend(FailureRecord::of(record));
        let Some(found) = &record.analysis else {
            continue;
        };
        findings.extend(found.findings.iter().cloned());
        suppressed += found.suppressed;
        for (rule, nanos) in &found.rule_nanos {
            *rule_nanos.entry(rule).or_default() += nanos;
        }
        for (rule, message) in &found.failures {
            breakers.record_failure(rule);
            failures.push(FailureRecord {
                path: record.path.clone(),
                status: Status::Failed,
                reason: Reason::Panic,
                message: format!("rule {rule}: {message}"),
            });
        }
    }
    // The deterministic breaker: a rule that failed on 5 or more files is disabled and all its
    // findings of the run are dropped, whatever order the workers met the failures in.
    let verdicts = breakers.verdicts();
    let disabled: Vec<DisabledRule> = verdicts
        .iter()
        .filter(|v| v.state == BreakerVerdictState::Disabled)
        .map(|v| DisabledRule {
            rule: v.operation.clone(),
            failures: v.failures,
        })
        .collect();
    findings.retain(|f| !disabled.iter().any(|d| d.rule == f.rule));
    if !args.output.quiet {
        for failure in &failures {
            eprintln!("elixirscope: {}: {}", failure.path, failure.message);
        }
    }
    let mut warnings = batch.warnings.clone();
    for rule in &disabled {
        output::warn(
            &mut warnings,
            args.output.quiet,
            format!(
                "rule {} failed on {} files and was disabled for this run",
                rule.rule, rule.failures
            ),
        );
    }

    let rules = all_meta
        .iter()
        .map(|meta| RuleSummary {
            id: meta.id.to_string(),
            category: meta.category,
            severity: meta.severity,
            enabled: enabled.contains(&meta.id),
        })
        .collect();
    let runtime = RuntimeInfo {
        jobs: batch.jobs,
        phases: batch.phases.clone(),
        failures,
        supervision: batch.host.supervision(),
        breakers: verdicts,
        pools: batch.host.pools(),
        rules: rule_nanos
            .into_iter()
            .map(|(rule, nanos)| RuleTiming {
                rule: rule.to_string(),
                elapsed_us: nanos / 1_000,
            })
            .collect(),
        cache: batch.cache.clone(),
        memory: batch.host.shared().memory.runtime(),
        warnings,
    };
    let batch::Batch {
        root,
        host,
        repository,
        ..
    } = batch;
    host.shutdown();
    let report = AnalyzeReport::new(AnalyzeRun {
        root: root.to_string_lossy().into_owned(),
        rules,
        files,
        findings,
        disabled_rules: disabled,
        suppressed,
        elapsed_ms: batch::millis(started.elapsed()),
        runtime,
    });
    batch::free_at_exit(repository);

    let metas: Vec<&RuleMeta> = all_meta.iter().collect();
    write(&report, args, &metas, &root, stdin_source.as_deref())?;

    let fail_on = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    if let Some(code) = signals::exit_code() {
        return Ok(code);
    }
    let code = if report.is_incomplete() {
        exit::FILE_FAILURES
    } else if analysis::exceeds(&report.findings, fail_on) {
        exit::FINDINGS
    } else {
        exit::SUCCESS
    };
    batch::free_at_exit(report);
    Ok(code)
}

/// What of a record `analyze`'s report reads, kept when records are spilled under memory
/// pressure: the path, the outcome and the findings. The facts go (they are in the index
/// when the run has one); `true` when there were any.
fn keep_outcome(record: &mut FileRecord) -> bool {
    let held = !record.modules.is_empty()
        || !record.calls.is_empty()
        || !record.errors.is_empty()
        || record.mix_project.is_some();
    record.modules = Vec::new();
    record.calls = Vec::new();
    record.errors = Vec::new();
    record.mix_project = None;
    held
}

fn write(
    report: &AnalyzeReport,
    args: &AnalyzeArgs,
    metas: &[&RuleMeta],
    root: &std::path::Path,
    stdin_source: Option<&[u8]>,
) -> anyhow::Result<()> {
    let to_terminal = args.output.output.is_none() && std::io::stdout().is_terminal();
    let format = match args.output.format {
        AnalyzeFormat::Auto if to_terminal => AnalyzeFormat::Text,
        AnalyzeFormat::Auto => AnalyzeFormat::Json,
        other => other,
    };
    let color = args.output.color.enabled(to_terminal);
    // Source lines for the text format's excerpts, read once per file and only on a terminal.
    let sources: RefCell<HashMap<String, Option<String>>> = RefCell::new(HashMap::new());
    let source_line = |path: &str, line: u32| -> Option<String> {
        let mut sources = sources.borrow_mut();
        let text = sources
            .entry(path.to_string())
            .or_insert_with(|| match stdin_source {
                Some(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
                None => std::fs::read(root.join(path))
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned()),
            });
        text.as_deref()
            .and_then(|t| findings_text::nth_line(t, line))
            .map(str::to_string)
    };
    let emit = |out: &mut dyn Write| -> std::io::Result<()> {
        match format {
            AnalyzeFormat::Json | AnalyzeFormat::Auto => analysis::write_json(report, out),
            AnalyzeFormat::Ndjson => analysis::write_ndjson(report, out),
            AnalyzeFormat::Sarif => sarif::write(report, metas, out),
            AnalyzeFormat::Github => github::write(report, out),
            AnalyzeFormat::Text => findings_text::write(
                report,
                out,
                &findings_text::TextOptions {
                    color,
                    statistics: args.statistics,
                    source: to_terminal.then_some(&source_line as &findings_text::SourceLine<'_>),
                },
            ),
        }
    };
    output::emit_to(args.output.output.as_deref(), emit)
}

/// For `elixirscope rules`: every rule's metadata.
pub(crate) fn rule_metas() -> BTreeMap<&'static str, RuleMeta> {
    registry::all()
        .iter()
        .map(|r| (r.meta().id, r.meta().clone()))
        .collect()
}
