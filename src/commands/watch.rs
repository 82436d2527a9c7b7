//! `elixirscope watch` (issue [7]): the repository and its findings kept live while files
//! change.
//!
//! The tree is loaded as `analyze` loads it (the index serves what did not change, whole
//! records with their findings), the project phase reuses the phase the index kept for this
//! run scope, and the Synchronization subsystem starts: FileWatcher → Synchronizer →
//! IncrementalUpdater, rest_for_one under its supervisor (`subsystems::synchronization`).
//! This command prints what the services tell it: `ready` once every watch is in place, one
//! `update` per settled change, restarts, warnings, `indexed` when the index and its query
//! tables hold the live state, and `stopped` with the summary a `parse` report would give.
//! The events are `report::watch::WatchEvent` (`schema/watch.schema.json`).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::cli::{WatchArgs, WatchFormat};
use crate::commands::batch::{self, BatchOptions};
use crate::discover::EntryKind;
use crate::exit;
use crate::index::Stat;
use crate::model::{ChildRuntime, Status};
use crate::project::Repository;
use crate::report::style::Style;
use crate::report::watch::{Summary, WatchEvent, SCHEMA_VERSION};
use crate::rules::registry;
use crate::subsystems::analysis::pattern_matcher::pattern_library::Selection;
use crate::subsystems::parsing::parser::FileOptions;
use crate::subsystems::signals;
use crate::subsystems::synchronization::file_watcher::WatchOptions;
use crate::subsystems::synchronization::incremental_updater::{Live, Update};
use crate::subsystems::synchronization::synchronizer::sources;
use crate::subsystems::synchronization::{lock, Context, Note, Settings};

/// How often the loop looks at the signals and the tree's health while nothing comes.
const IDLE_CHECK: Duration = Duration::from_millis(100);

struct Out {
    json: bool,
    style: Style,
}

impl Out {
    /// One event, flushed at once.
    fn event(&self, event: &WatchEvent) {
        let mut out = std::io::stdout().lock();
        let line = if self.json {
            serde_json::to_string(event).unwrap_or_default()
        } else {
            self.text(event)
        };
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    fn warning(&self, message: &str) {
        self.event(&WatchEvent::Warning {
            message: message.to_string(),
        });
    }

    /// The text view: what changed, the findings new and resolved with `file:line`, and a
    /// one-line status.
    fn text(&self, event: &WatchEvent) -> String {
        let style = &self.style;
        let clock = style.dim(&clock());
        match event {
            WatchEvent::Ready {
                summary,
                directories,
                polling,
                elapsed_ms,
                ..
            } => format!(
                "{clock} {} {} files, {} modules, {} functions, {} findings; watching \
                 {directories} directories{} ({elapsed_ms} ms)",
                style.bold("ready"),
                summary.files,
                summary.modules,
                summary.functions,
                summary.findings,
                if *polling { " by polling" } else { "" }
            ),
            WatchEvent::Update { update, elapsed_ms } => self.text_update(update, *elapsed_ms),
            WatchEvent::Warning { message } => {
                format!("{clock} {} {message}", style.paint("1;33", "warning"))
            }
            WatchEvent::Restarted { service, reason } => format!(
                "{clock} {} {service} ({reason}); rescanning",
                style.paint("1;31", "restarted")
            ),
            WatchEvent::Indexed { elapsed_ms } => format!(
                "{clock} {} the index holds the live state ({elapsed_ms} ms)",
                style.dim("indexed")
            ),
            WatchEvent::Stopped {
                summary, updates, ..
            } => format!(
                "{clock} {} {} files, {} modules, {} functions, {} findings after {updates} \
                 updates",
                style.bold("stopped"),
                summary.files,
                summary.modules,
                summary.functions,
                summary.findings
            ),
        }
    }

    fn text_update(&self, update: &Update, elapsed: u64) -> String {
        let style = &self.style;
        let mut files: Vec<String> = Vec::new();
        files.extend(
            update
                .added
                .iter()
                .map(|p| style.paint("32", &format!("+{p}"))),
        );
        files.extend(update.changed.iter().map(|p| style.bold(p)));
        files.extend(
            update
                .removed
                .iter()
                .map(|p| style.paint("31", &format!("-{p}"))),
        );
        let mut text = format!(
            "{} {}",
            style.dim(&clock()),
            if files.is_empty() {
                "(resolved again)".to_string()
            } else {
                files.join(", ")
            }
        );
        let mut parts = Vec::new();
        for (what, changes) in [
            ("modules", &update.modules),
            ("functions", &update.functions),
        ] {
            let named =
                |list: &[crate::subsystems::synchronization::incremental_updater::Named],
                 sign: &str| {
                    list.iter()
                        .map(|n| match n.arity {
                            Some(arity) => format!("{sign}{}/{arity}", n.name),
                            None => format!("{sign}{}", n.name),
                        })
                        .collect::<Vec<_>>()
                };
            let mut all = named(&changes.added, "+");
            all.extend(named(&changes.removed, "-"));
            all.extend(named(&changes.changed, "~"));
            if !all.is_empty() {
                let shown = all.len().min(6);
                let more = all.len() - shown;
                let mut list = all[..shown].join(" ");
                if more > 0 {
                    list.push_str(&format!(" and {more} more"));
                }
                parts.push(format!("{what} {list}"));
            }
        }
        if !parts.is_empty() {
            text.push_str(&format!(" · {}", parts.join(" · ")));
        }
        text.push_str(&style.dim(&format!(" ({elapsed} ms)")));
        for status in &update.statuses {
            let name = |s: Option<Status>| s.map_or("absent".to_string(), |s| style.status(s));
            text.push_str(&format!(
                "\n  {}: {} → {}",
                status.file,
                name(status.from),
                name(status.to)
            ));
        }
        for finding in &update.findings_added {
            text.push_str(&format!(
                "\n  {} {}:{} {} {}",
                style.severity(finding.severity, "+"),
                finding.file,
                finding.line,
                style.severity(finding.severity, &finding.rule),
                finding.message
            ));
        }
        for finding in &update.findings_resolved {
            text.push_str(&format!(
                "\n  {} {}:{} {} {}",
                style.paint("32", "✓"),
                finding.file,
                finding.line,
                style.dim(&finding.rule),
                style.dim(&finding.message)
            ));
        }
        text
    }
}

/// The wall-clock time of day (UTC), for the text view.
fn clock() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60
    )
}

fn summary(repository: &Repository) -> Summary {
    let files = repository.files();
    let modules: usize = files.iter().map(|f| f.modules.len()).sum();
    let functions: usize = files
        .iter()
        .flat_map(|f| &f.modules)
        .map(|m| m.functions.len())
        .sum();
    let findings: usize = files
        .iter()
        .flat_map(|f| &f.analysis)
        .map(|a| a.findings.len())
        .sum();
    Summary {
        files: files.len(),
        modules,
        functions,
        findings,
    }
}

pub(crate) fn run(args: &WatchArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    // A long-lived process: its threads' turns must not each keep an arena's high-water mark.
    crate::subsystems::repository::memory_manager::limit_arenas();
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let to_terminal = std::io::stdout().is_terminal();
    let json = match args.format {
        WatchFormat::Ndjson => true,
        WatchFormat::Text => false,
        WatchFormat::Auto => !to_terminal,
    };
    let color = args.color.enabled(to_terminal);
    let out = Out {
        json,
        style: Style { on: color },
    };
    let selection = (!args.no_analyze).then(|| Selection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        foreign_suppressions: !args.no_foreign_suppressions,
    });
    // Checked here so a bad selector is a usage error.
    if selection.is_some() {
        registry::select(registry::all(), &args.select, &args.ignore)?;
    }
    let discovery = batch::discover(&paths, &args.input)?;
    let scope = batch::scope(&paths, &args.input);
    let root = discovery.root.clone();
    let known = sources(&discovery);
    let directories = discovery.directories.clone();
    // Each file's stat before it is read: the first rescan finds what changed while loading.
    let stamps: HashMap<String, Stat> = discovery
        .entries
        .par_iter()
        .filter(|e| matches!(e.kind, EntryKind::Source))
        .filter_map(|e| {
            let metadata = std::fs::metadata(&e.absolute).ok()?;
            Some((e.path.clone(), Stat::of(&metadata)))
        })
        .collect();

    let batch = batch::run(
        discovery,
        &args.input,
        BatchOptions {
            calls: true,
            metrics: true,
            quiet: true,
            analysis: selection,
            cache: true,
            project_phase: false,
            scope: Some(scope.clone()),
            querying: false,
            whole_records: true,
            memory_limit: None,
        },
        started,
    )?;
    for warning in &batch.warnings {
        out.warning(warning);
    }
    let from_index = batch
        .cache
        .as_ref()
        .map_or(0, |cache| cache.unchanged + cache.rehashed);
    let analysis = batch
        .host
        .shared()
        .patterns
        .as_ref()
        .and_then(|patterns| patterns.analysis());
    let rules = analysis.as_deref().map(|a| a.fingerprint());
    let stored = batch
        .index
        .as_ref()
        .and_then(|index| index.previous(&scope));
    let before: Vec<String> = stored
        .as_ref()
        .map(|p| p.files.keys().cloned().collect())
        .unwrap_or_default();
    let repository = Arc::try_unwrap(batch.repository)
        .unwrap_or_else(|shared| Repository::without_phase(shared.files().to_vec(), Vec::new()));
    let (records, _) = repository.into_files_and_graph();
    let (live, states) = Live::start(records, stored, true, &signals::run_token());
    let index = batch.index.as_ref().map(|index| index.live());
    if let Some(index) = &index {
        index.update(
            &mut [],
            &[],
            &scope,
            live.repository(),
            states,
            before.iter(),
        );
    }
    let ready_summary = summary(live.repository());
    // The load's parse trees, sources and copies are freed: give them back before watching.
    crate::subsystems::repository::memory_manager::release_freed();
    // The start-up probe writes in the index's folder.
    let probe_folder = crate::index::Location::of(&batch::cache_setting(&args.input, true), &root)
        .map(|location| location.folder);
    let settings = Settings {
        paths,
        discover: batch::discover_options(&args.input),
        root: root.clone(),
        watch: WatchOptions {
            debounce: Duration::from_millis(args.debounce_ms.max(1)),
            poll: args.poll,
            poll_interval: Duration::from_millis(args.poll_interval.max(10)),
            probe_folder,
        },
        file_options: FileOptions {
            max_file_size: args.input.max_file_size,
            parse_timeout: Duration::from_millis(args.input.parse_timeout_ms),
            calls: true,
            metrics: true,
            analysis,
            cache: None,
        },
        scope,
        index,
        rules,
    };
    let (context, notes) = Context::new(settings, live, stamps, known, directories);
    let context = Arc::new(context);
    let host = batch.host;
    host.start_synchronization(Arc::clone(&context))?;

    let mut ready = false;
    let mut updates = 0u64;
    let mut failure: Option<String> = None;
    let mut failed: Option<String> = None;
    // The watched folder itself: once it is gone (or another folder took its path) no watch
    // sees anything again, and the session would wait forever.
    let folder = folder_identity(&root);
    let mut folder_checked = Instant::now();
    while !signals::stop_requested() && args.max_updates.is_none_or(|max| updates < max) {
        if folder_checked.elapsed() >= IDLE_CHECK {
            folder_checked = Instant::now();
            if folder_identity(&root) != folder {
                failure = Some(format!(
                    "the watched folder {} was removed or replaced: start watch again once it \
                     is back",
                    root.display()
                ));
                break;
            }
        }
        let note = match notes.recv_timeout(IDLE_CHECK) {
            Ok(note) => note,
            Err(_) => {
                if !host.is_running() {
                    failure = Some(
                        "the Synchronization subsystem gave up (restart intensity exceeded)".into(),
                    );
                    break;
                }
                continue;
            }
        };
        match note {
            Note::Watching {
                directories,
                polling,
            } if !ready => {
                ready = true;
                out.event(&WatchEvent::Ready {
                    schema_version: SCHEMA_VERSION,
                    root: root.display().to_string(),
                    summary: ready_summary.clone(),
                    directories,
                    polling,
                    from_index,
                    elapsed_ms: batch::millis(started.elapsed()),
                });
            }
            Note::Watching { .. } => {}
            Note::Warning(message) => out.warning(&message),
            Note::Update { update, elapsed_ms } => {
                updates += 1;
                out.event(&WatchEvent::Update { update, elapsed_ms });
            }
            Note::Restarted { service } => {
                // The service that failed says why; those after it were restarted with it.
                let reason = match host.failure_of(service) {
                    Some(reason) => {
                        failed = Some(service.to_string());
                        reason
                    }
                    _ => format!(
                        "restarted after {} failed (rest_for_one)",
                        failed.as_deref().unwrap_or("a service before it")
                    ),
                };
                out.event(&WatchEvent::Restarted {
                    service: service.to_string(),
                    reason,
                });
            }
            Note::Indexed { elapsed_ms } => {
                out.event(&WatchEvent::Indexed { elapsed_ms });
            }
        }
    }
    // The services stop first (the Synchronization subsystem is the root's last child), then
    // the index's last transaction is committed.
    let supervision: Vec<ChildRuntime> = host.supervision();
    drop(host.shutdown());
    if let Some(index) = &context.settings.index {
        if let Some(error) = index.finish() {
            out.warning(&format!("cannot write the index: {error}"));
        }
    }
    let live = lock(&context.live);
    out.event(&WatchEvent::Stopped {
        summary: summary(live.repository()),
        updates,
        supervision,
    });
    if let Some(failure) = failure {
        anyhow::bail!(failure);
    }
    // Ctrl-C is how a watch ends: the user chose to stop.
    Ok(match signals::exit_code() {
        Some(exit::TERMINATED) => exit::TERMINATED,
        _ => exit::SUCCESS,
    })
}

/// The device and inode of a folder, `None` when it is not one: the same path naming another
/// folder (deleted and made again, a checkout moved into place) is another folder.
#[cfg(unix)]
fn folder_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path).ok()?;
    metadata.is_dir().then(|| (metadata.dev(), metadata.ino()))
}

/// Elsewhere, whether it is still a folder.
#[cfg(not(unix))]
fn folder_identity(path: &Path) -> Option<(u64, u64)> {
    path.is_dir().then_some((0, 0))
}
