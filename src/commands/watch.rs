//! `elixirscope watch` (issue [7], first version): the repository and its findings kept live
//! while files change. The tree is parsed once; then the FileWatcher's settled batches become
//! change sets (Synchronizer), the changed files are parsed again, and the IncrementalUpdater's
//! live repository says what each update changed.
//!
//! Not yet: the three services under the Synchronization supervisor (they run on this
//! command's thread), the index (the first parse does not read it, updates do not write it),
//! colours. The events are `report::watch::WatchEvent` (`schema/watch.schema.json`).

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::cli::{WatchArgs, WatchFormat};
use crate::commands::batch;
use crate::discover::{Discovery, Entry, EntryKind};
use crate::exit;
use crate::model::FileRecord;
use crate::project::Repository;
use crate::report::watch::{Summary, WatchEvent, SCHEMA_VERSION};
use crate::subsystems::analysis::pattern_matcher::pattern_library::Selection;
use crate::subsystems::parsing::parser::{process, FileOptions};
use crate::subsystems::signals;
use crate::subsystems::synchronization::file_watcher::{FileWatcher, WatchOptions};
use crate::subsystems::synchronization::incremental_updater::{Live, Update};
use crate::subsystems::synchronization::synchronizer::settle;

/// How often the loop looks at the signals while no change comes.
const IDLE_CHECK: Duration = Duration::from_millis(100);

struct Out {
    json: bool,
}

impl Out {
    /// One event, flushed at once.
    fn event(&self, event: &WatchEvent) {
        let mut out = std::io::stdout().lock();
        let line = if self.json {
            serde_json::to_string(event).unwrap_or_default()
        } else {
            text_event(event)
        };
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    fn warning(&self, message: &str) {
        self.event(&WatchEvent::Warning {
            message: message.to_string(),
        });
    }
}

fn text_event(event: &WatchEvent) -> String {
    match event {
        WatchEvent::Ready {
            summary,
            directories,
            polling,
            ..
        } => format!(
            "ready: {} files, {} modules, {} functions, {} findings; watching {directories} \
             directories{}",
            summary.files,
            summary.modules,
            summary.functions,
            summary.findings,
            if *polling { " (polling)" } else { "" }
        ),
        WatchEvent::Update { update, elapsed_ms } => text_update(update, *elapsed_ms),
        WatchEvent::Warning { message } => format!("warning: {message}"),
        WatchEvent::Stopped { summary } => format!(
            "stopped: {} files, {} modules, {} functions, {} findings",
            summary.files, summary.modules, summary.functions, summary.findings
        ),
    }
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

/// The paths of the tree's Elixir sources, relative to the root.
fn sources(discovery: &Discovery) -> BTreeSet<String> {
    discovery
        .entries
        .iter()
        .filter(|e| matches!(e.kind, EntryKind::Source))
        .map(|e| e.path.clone())
        .collect()
}

fn relative(root: &Path, path: &Path) -> Option<String> {
    let rest = path.strip_prefix(root).ok()?;
    Some(rest.to_string_lossy().replace('\\', "/"))
}

pub(crate) fn run(args: &WatchArgs) -> anyhow::Result<u8> {
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let json = match args.format {
        WatchFormat::Ndjson => true,
        WatchFormat::Text => false,
        WatchFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let out = Out { json };
    let discovery = batch::discover(&paths, &args.input)?;
    let root = discovery.root.clone();
    let analysis = if args.no_analyze {
        None
    } else {
        Some(Arc::new(
            Selection::analyze_default()
                .compile()
                .map_err(|err| anyhow::anyhow!("{err}"))?,
        ))
    };
    let options = FileOptions {
        max_file_size: args.input.max_file_size,
        parse_timeout: Duration::from_millis(args.input.parse_timeout_ms),
        calls: true,
        metrics: true,
        analysis,
        cache: None,
    };
    let jobs = batch::jobs(&args.input);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .thread_name(|i| format!("elixirscope-watch-{i}"))
        .build()?;
    let started = Instant::now();
    let records: Vec<FileRecord> = pool.install(|| {
        discovery
            .entries
            .par_iter()
            .map(|entry| process(entry, &options))
            .collect()
    });
    let cancel = signals::run_token();
    let mut live = Live::start(records, true, &cancel);
    let mut known = sources(&discovery);

    // Every watch is in place before `ready`: a change made after it is never missed.
    let probe = crate::index::Location::of(&batch::cache_setting(&args.input, true), &root)
        .map(|location| location.folder);
    let (mut watcher, batches) = FileWatcher::start(
        &discovery.directories,
        &WatchOptions {
            debounce: Duration::from_millis(args.debounce_ms.max(1)),
            poll: args.poll,
            poll_interval: Duration::from_millis(args.poll_interval.max(10)),
            probe_folder: probe,
        },
    )?;
    for warning in watcher.warnings.drain(..) {
        out.warning(&warning);
    }
    out.event(&WatchEvent::Ready {
        schema_version: SCHEMA_VERSION,
        root: root.display().to_string(),
        summary: summary(live.repository()),
        directories: watcher.watched(),
        polling: watcher.polling(),
        elapsed_ms: batch::millis(started.elapsed()),
    });

    let mut updates = 0u64;
    while !signals::stop_requested() && args.max_updates.is_none_or(|max| updates < max) {
        let batch = match batches.recv_timeout(IDLE_CHECK) {
            Ok(batch) => batch,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        };
        let settled = Instant::now();
        let set = settle(batch);
        for error in &set.errors {
            out.warning(error);
        }
        let mut candidates: BTreeSet<String> = set
            .paths
            .iter()
            .filter_map(|p| relative(&root, p))
            .collect();
        // A new path, a directory or a rescan: discovery says what the tree is now.
        let new_path = candidates.iter().any(|p| !known.contains(p));
        let current = if set.directories || set.rescan || new_path {
            let current = batch::discover(&paths, &args.input)?;
            let scanned = watcher.update(&current.directories);
            candidates.extend(scanned.iter().filter_map(|p| relative(&root, p)));
            let now = sources(&current);
            if set.rescan || set.directories {
                candidates.extend(known.iter().cloned());
                candidates.extend(now.iter().cloned());
            }
            for warning in watcher.warnings.drain(..) {
                out.warning(&warning);
            }
            Some(now)
        } else {
            None
        };
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        for path in candidates {
            let absolute = root.join(&path);
            let in_tree = match &current {
                Some(now) => now.contains(&path),
                None => known.contains(&path),
            };
            if in_tree && absolute.is_file() {
                changed.push(Entry {
                    path: path.clone(),
                    absolute,
                    kind: EntryKind::Source,
                    content: None,
                });
                known.insert(path);
            } else if known.remove(&path) {
                removed.push(path);
            }
        }
        if changed.is_empty() && removed.is_empty() {
            continue;
        }
        let records: Vec<FileRecord> = pool.install(|| {
            changed
                .par_iter()
                .map(|entry| process(entry, &options))
                .collect()
        });
        let update = live.apply(records, &removed, &cancel);
        if update == Update::default() {
            continue;
        }
        updates += 1;
        out.event(&WatchEvent::Update {
            update: Box::new(update),
            elapsed_ms: batch::millis(settled.elapsed()),
        });
    }
    out.event(&WatchEvent::Stopped {
        summary: summary(live.repository()),
    });
    batch::free_at_exit(live);
    // Ctrl-C is how a watch ends: the user chose to stop.
    Ok(match signals::exit_code() {
        Some(exit::TERMINATED) => exit::TERMINATED,
        _ => exit::SUCCESS,
    })
}

fn text_update(update: &Update, elapsed: u64) -> String {
    let mut files: Vec<String> = Vec::new();
    files.extend(update.added.iter().map(|p| format!("+{p}")));
    files.extend(update.changed.iter().cloned());
    files.extend(update.removed.iter().map(|p| format!("-{p}")));
    let mut text = format!(
        "{}: functions +{} -{} ~{}, findings +{} -{} ({elapsed} ms)",
        files.join(", "),
        update.functions.added.len(),
        update.functions.removed.len(),
        update.functions.changed.len(),
        update.findings_added.len(),
        update.findings_resolved.len(),
    );
    for status in &update.statuses {
        let name = |s: Option<crate::model::Status>| {
            s.map_or("absent".to_string(), |s| {
                crate::model::variant::name(&s).unwrap_or("").to_string()
            })
        };
        text.push_str(&format!(
            "\n  {}: {} -> {}",
            status.file,
            name(status.from),
            name(status.to)
        ));
    }
    for finding in &update.findings_added {
        text.push_str(&format!(
            "\n  + {}:{} {} {}",
            finding.file, finding.line, finding.rule, finding.message
        ));
    }
    for finding in &update.findings_resolved {
        text.push_str(&format!(
            "\n  - {}:{} {} {}",
            finding.file, finding.line, finding.rule, finding.message
        ));
    }
    text
}
