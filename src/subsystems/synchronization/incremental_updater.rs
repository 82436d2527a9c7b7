//! Synchronization.IncrementalUpdater (transient): the live repository of `watch` ([7]) and
//! what each update changes in it.
//!
//! It keeps the records as extracted (with their findings when rules run) and the last project
//! phase's per-file states in memory. An update takes the new records of the files that changed
//! (the parser made them) and the paths that went, runs [5]'s incremental phase over the
//! records with the kept states (only the changed files and those that read a changed export
//! are resolved again), and compares the files it touched before and after: files added and
//! removed, modules and functions added, removed and changed (by stable ID, name and arity),
//! status changes, findings added and resolved (by fingerprint).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::select;
use rayon::prelude::*;

use super::{lock, Change, Context, Note};
use crate::faults;
use crate::index::query_store::{EncodedTable, Generations, TableWriter};
use crate::index::Stat;
use crate::model::Severity;
use crate::otp::{ChildContext, ChildError, Health};
use crate::query::exec;
use crate::subsystems::parsing::parser::process;

use serde::Serialize;

use crate::model::{FileRecord, Finding, Status};
use crate::otp::cancel::CancelToken;
use crate::project::enhanced::{LivePhase, Previous, States};
use crate::project::Repository;

/// The live repository and the phase that keeps it ([`LivePhase`]).
pub(crate) struct Live {
    phase: LivePhase,
}

/// A module or function an update names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub(crate) struct Named {
    pub(crate) id: String,
    pub(crate) name: String,
    /// `None` for a module.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) arity: Option<u32>,
    pub(crate) file: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub(crate) struct Changes {
    pub(crate) added: Vec<Named>,
    pub(crate) removed: Vec<Named>,
    pub(crate) changed: Vec<Named>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub(crate) struct StatusChange {
    pub(crate) file: String,
    /// `None` for a file that appeared, or went.
    pub(crate) from: Option<Status>,
    pub(crate) to: Option<Status>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub(crate) struct FindingRef {
    pub(crate) fingerprint: String,
    pub(crate) rule: String,
    pub(crate) severity: Severity,
    pub(crate) file: String,
    pub(crate) line: u32,
    pub(crate) message: String,
}

/// What one update changed.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub(crate) struct Update {
    pub(crate) added: Vec<String>,
    pub(crate) changed: Vec<String>,
    pub(crate) removed: Vec<String>,
    pub(crate) modules: Changes,
    pub(crate) functions: Changes,
    pub(crate) statuses: Vec<StatusChange>,
    pub(crate) findings_added: Vec<FindingRef>,
    pub(crate) findings_resolved: Vec<FindingRef>,
    /// Files the phase resolved again (the changed ones and their readers).
    pub(crate) re_resolved: usize,
}

/// What the update compares of one file.
struct Snapshot {
    status: Status,
    modules: BTreeMap<String, (Named, u64)>,
    functions: BTreeMap<String, (Named, u64)>,
    findings: BTreeMap<String, FindingRef>,
}

/// A hash of a value's JSON with its positions left out: a definition that only moved (lines
/// added above it) is not a change.
fn shape_hash(value: &impl Serialize) -> u64 {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.retain(|key, _| {
                    !(key == "id"
                        || key == "line"
                        || key == "column"
                        || key.ends_with("_line")
                        || key.ends_with("_column"))
                });
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut json = serde_json::to_value(value).unwrap_or_default();
    strip(&mut json);
    let digest = blake3::hash(json.to_string().as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest.as_bytes()[..8]);
    u64::from_le_bytes(bytes)
}

fn finding_ref(file: &FileRecord, finding: &Finding) -> FindingRef {
    FindingRef {
        fingerprint: finding.fingerprint.clone(),
        rule: finding.rule.clone(),
        severity: finding.severity,
        file: file.path.clone(),
        line: finding.line,
        message: finding.message.clone(),
    }
}

fn snapshot(file: &FileRecord) -> Snapshot {
    let mut modules = BTreeMap::new();
    let mut functions = BTreeMap::new();
    for module in &file.modules {
        let named = Named {
            id: module.id.clone(),
            name: module.name.clone(),
            arity: None,
            file: file.path.clone(),
        };
        modules.insert(module.id.clone(), (named, shape_hash(module)));
        for function in &module.functions {
            let named = Named {
                id: function.id.clone(),
                name: format!("{}.{}", module.name, function.name),
                arity: Some(function.arity),
                file: file.path.clone(),
            };
            functions.insert(function.id.clone(), (named, shape_hash(function)));
        }
    }
    let findings = file
        .analysis
        .iter()
        .flat_map(|a| &a.findings)
        .map(|f| (f.fingerprint.clone(), finding_ref(file, f)))
        .collect();
    Snapshot {
        status: file.status,
        modules,
        functions,
        findings,
    }
}

fn compare(
    before: &BTreeMap<String, (Named, u64)>,
    after: &BTreeMap<String, (Named, u64)>,
    into: &mut Changes,
) {
    for (id, (named, hash)) in after {
        match before.get(id) {
            None => into.added.push(named.clone()),
            Some((_, old)) if old != hash => into.changed.push(named.clone()),
            Some(_) => {}
        }
    }
    for (id, (named, _)) in before {
        if !after.contains_key(id) {
            into.removed.push(named.clone());
        }
    }
}

/// The record of `path` in files sorted by path.
fn find<'a>(files: &'a [FileRecord], path: &str) -> Option<&'a FileRecord> {
    files
        .binary_search_by(|f| f.path.as_str().cmp(path))
        .ok()
        .map(|position| &files[position])
}

impl Live {
    /// The live repository of `records` (every file of the tree, as the parser made them or
    /// the index kept them); `stored`: the phase the index kept for this run scope, whose
    /// states serve the files unchanged since.
    pub(crate) fn start(
        records: Vec<FileRecord>,
        stored: Option<Previous>,
        calls: bool,
        cancel: &CancelToken,
    ) -> (Live, States) {
        let mut records = records;
        records.sort_by(|a, b| a.path.cmp(&b.path));
        let (phase, states) = LivePhase::start(records, stored, calls, cancel);
        (Live { phase }, states)
    }

    pub(crate) fn repository(&self) -> &Arc<Repository> {
        self.phase.repository()
    }

    /// Applies the new records of the files that changed or appeared, and the removal of
    /// `removed`; says what changed.
    pub(crate) fn apply(
        &mut self,
        records: Vec<FileRecord>,
        removed: &[String],
        cancel: &CancelToken,
    ) -> (Update, States) {
        let mut update = Update::default();
        let files = self.phase.repository().files();
        // Read again with the same content (a touch, a rescan): nothing to do for it.
        let records: Vec<FileRecord> = records
            .into_iter()
            .filter(|record| {
                find(files, &record.path)
                    .is_none_or(|old| old.hash != record.hash || old.status != record.status)
            })
            .collect();
        let removed: Vec<String> = removed
            .iter()
            .filter(|path| find(files, path).is_some())
            .cloned()
            .collect();
        if records.is_empty() && removed.is_empty() {
            return (update, Vec::new());
        }
        let mut touched: BTreeSet<String> = removed.iter().cloned().collect();
        for record in &records {
            match find(files, &record.path) {
                Some(_) => update.changed.push(record.path.clone()),
                None => update.added.push(record.path.clone()),
            }
            touched.insert(record.path.clone());
        }
        update.removed.clone_from(&removed);
        update.added.sort();
        update.changed.sort();
        update.removed.sort();
        // What each file the update changes was, taken before it changes it.
        let mut was: BTreeMap<String, Snapshot> = BTreeMap::new();
        let applied = self.phase.apply(records, &removed, cancel, &mut |file| {
            was.insert(file.path.clone(), snapshot(file));
        });
        update.re_resolved = applied.resolved.len();
        // A file resolved again may change too (kinds through `use`, what a template injects).
        let mut compared = touched;
        compared.extend(applied.resolved);
        let files = self.phase.repository().files();
        let empty = BTreeMap::new();
        for path in &compared {
            let was = was.get(path.as_str());
            let now = find(files, path).map(snapshot);
            compare(
                was.map_or(&empty, |s| &s.modules),
                now.as_ref().map_or(&empty, |s| &s.modules),
                &mut update.modules,
            );
            compare(
                was.map_or(&empty, |s| &s.functions),
                now.as_ref().map_or(&empty, |s| &s.functions),
                &mut update.functions,
            );
            let (from, to) = (was.map(|s| s.status), now.as_ref().map(|s| s.status));
            if from != to {
                update.statuses.push(StatusChange {
                    file: path.clone(),
                    from,
                    to,
                });
            }
            let no_findings = BTreeMap::new();
            let old_findings = was.map_or(&no_findings, |s| &s.findings);
            let new_findings = now.as_ref().map_or(&no_findings, |s| &s.findings);
            for (fingerprint, finding) in new_findings {
                if !old_findings.contains_key(fingerprint) {
                    update.findings_added.push(finding.clone());
                }
            }
            for (fingerprint, finding) in old_findings {
                if !new_findings.contains_key(fingerprint) {
                    update.findings_resolved.push(finding.clone());
                }
            }
        }
        for list in [
            &mut update.modules.added,
            &mut update.modules.removed,
            &mut update.modules.changed,
            &mut update.functions.added,
            &mut update.functions.removed,
            &mut update.functions.changed,
        ] {
            list.sort();
            list.dedup();
        }
        update.findings_added.sort();
        update.findings_resolved.sort();
        (update, applied.states)
    }
}

/// How long the tree must stay quiet before the query tables are written again: past the
/// index's racy margin, so the files just written count as unchanged by their stat alone.
const TABLES_QUIET: Duration =
    Duration::from_millis(crate::index::RACY_MARGIN.as_millis() as u64 + 500);

/// Runs work in the background, supervised (the TaskSupervisor's temporary children).
pub(crate) type Background<'a> = &'a dyn Fn(&'static str, Box<dyn FnOnce() + Send>);

/// The IncrementalUpdater's body (transient): applies each change (what queued meanwhile
/// with it), tells the command what changed, writes the index, and writes the query tables
/// once the tree has been quiet for [`TABLES_QUIET`], until stopped.
pub(crate) fn serve(
    sync: &Arc<Context>,
    pool: &rayon::ThreadPool,
    background: Background<'_>,
    context: &ChildContext,
) -> Result<(), ChildError> {
    const ID: &str = "incremental_updater";
    sync.started(ID);
    context.report_health(Health::Healthy);
    // An update in flight completes: the command stops the loop between updates.
    let cancel = CancelToken::new();
    let mut tables_due = Some(Instant::now() + TABLES_QUIET);
    loop {
        let timer = match tables_due {
            Some(due) => crossbeam_channel::at(due),
            None => crossbeam_channel::never(),
        };
        select! {
            recv(sync.changes()) -> change => {
                let Ok(mut change) = change else { return Ok(()) };
                for later in sync.changes().try_iter() {
                    change.merge(later);
                }
                // An injected crash loses this change: the restart's rescan must find it.
                faults::crash_service_once(ID);
                apply(sync, pool, change, &cancel);
                tables_due = Some(Instant::now() + TABLES_QUIET);
            }
            recv(timer) -> _ => {
                tables_due = None;
                if sync.settings.index.is_some() && !sync.tables_running.swap(true, Ordering::AcqRel) {
                    let sync = Arc::clone(sync);
                    background("query_tables", Box::new(move || {
                        let written = write_tables(&sync);
                        sync.tables_running.store(false, Ordering::Release);
                        if let Some(elapsed) = written {
                            sync.note(Note::Indexed { elapsed_ms: super::millis(elapsed) });
                        }
                    }));
                }
            }
            recv(context.stop_signal()) -> _ => return Ok(()),
        }
    }
}

/// One change: the changed files read (each file's stat taken before), the live repository
/// updated, the update told, then the index written.
fn apply(sync: &Context, pool: &rayon::ThreadPool, change: Change, cancel: &CancelToken) {
    let settings = &sync.settings;
    let mut changed = Vec::new();
    let mut removed = Vec::new();
    for (path, entry) in change.paths {
        match entry {
            Some(entry) => changed.push(entry),
            None => removed.push(path),
        }
    }
    // Each file with its stat taken before the read; one that vanished between the event
    // and the read is a removal.
    let read: Vec<Result<(Stat, FileRecord), String>> = pool.install(|| {
        changed
            .par_iter()
            .map(|entry| {
                let metadata = std::fs::metadata(&entry.absolute);
                let stat = metadata.map_err(|_| entry.path.clone())?;
                let record = process(entry, &settings.file_options);
                if record.status == Status::Failed && !entry.absolute.is_file() {
                    return Err(record.path);
                }
                Ok((Stat::of(&stat), record))
            })
            .collect()
    });
    let mut parsed = Vec::with_capacity(read.len());
    for result in read {
        match result {
            Ok(file) => parsed.push(file),
            Err(path) => removed.push(path),
        }
    }
    let mut live = lock(&sync.live);
    let records = parsed.iter().map(|(_, record)| record.clone()).collect();
    let (update, states) = live.apply(records, &removed, cancel);
    if update != Update::default() {
        sync.note(Note::Update {
            update: Box::new(update),
            elapsed_ms: super::millis(change.settled.elapsed()),
        });
    }
    {
        let mut stamps = lock(&sync.stamps);
        for (stat, record) in &parsed {
            stamps.insert(record.path.clone(), *stat);
        }
        for path in &removed {
            stamps.remove(path);
        }
    }
    if let Some(index) = &settings.index {
        index.update(
            &mut parsed,
            &removed,
            &settings.scope,
            live.repository(),
            states,
            removed.iter(),
        );
    }
    lock(&sync.dirty).extend(parsed.into_iter().map(|(_, record)| record.path));
    drop(live);
    // The update's transient memory goes back (the event is out already).
    crate::subsystems::repository::memory_manager::release_freed();
}

/// Writes the query tables of the live state, so `query` answers from them: the files
/// written since the last time are marked checked (their stat unchanged, past the racy
/// margin), then every stored entity's table is built and stored under the generation of the
/// live records. `None` when it cannot (a change came meanwhile, the index failed).
fn write_tables(sync: &Context) -> Option<Duration> {
    let started = Instant::now();
    let settings = &sync.settings;
    let index = settings.index.as_ref()?;
    let repository = Arc::clone(lock(&sync.live).repository());
    let dirty: Vec<(String, Option<Stat>)> = {
        let paths = std::mem::take(&mut *lock(&sync.dirty));
        let stamps = lock(&sync.stamps);
        paths
            .into_iter()
            .map(|path| {
                let stamp = stamps.get(&path).copied();
                (path, stamp)
            })
            .collect()
    };
    let mut checked = Vec::with_capacity(dirty.len());
    for (path, stamp) in &dirty {
        let now = std::fs::metadata(settings.root.join(path))
            .ok()
            .map(|m| Stat::of(&m));
        match (now, stamp) {
            (Some(now), Some(stamp)) if now == *stamp => checked.push((path.clone(), now)),
            // Changed again: the next update writes the tables.
            (Some(_), _) => {
                lock(&sync.dirty).extend(dirty.into_iter().map(|(path, _)| path));
                return None;
            }
            _ => {}
        }
    }
    index.touch(&checked);
    index.sync();
    if repository.unresolved_files() > 0 {
        return None;
    }
    let canonical = std::fs::canonicalize(&settings.root).unwrap_or_else(|_| settings.root.clone());
    let config =
        crate::index::facts_config(settings.file_options.calls, settings.file_options.metrics);
    let writer = TableWriter::open(&index.location().database, &canonical, &config)?;
    let findings = exec::findings_of(&repository);
    let mut entities = exec::STORED.to_vec();
    if settings.rules.is_some() {
        entities.push("findings");
    }
    // Part by part: each window of files' rows is drained from its builder, encoded and
    // written before the next is built (one transaction for all): the session never holds a
    // whole table, nor every table encoded.
    let generations = Generations::of(repository.files(), settings.rules.as_deref());
    writer
        .store_parts(&settings.scope, &generations, &entities, |parts| {
            let mut result = Ok(());
            exec::build_parts(
                &repository,
                &findings,
                &entities,
                &mut |entity, builder, _| {
                    if result.is_ok() {
                        result = parts.put(EncodedTable::of(entity, &builder.drain()));
                    }
                },
            );
            result
        })
        .ok()?;
    drop(findings);
    // What the builds freed goes back: glibc would keep it.
    crate::subsystems::repository::memory_manager::release_freed();
    Some(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::{DiscoverOptions, Entry, EntryKind};
    use crate::subsystems::analysis::pattern_matcher::pattern_library::Selection;
    use crate::subsystems::parsing::parser::{process, FileOptions};
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    fn options() -> FileOptions {
        FileOptions {
            max_file_size: 10 << 20,
            parse_timeout: Duration::from_secs(30),
            calls: true,
            metrics: true,
            analysis: Some(Arc::new(Selection::analyze_default().compile().unwrap())),
            cache: None,
        }
    }

    /// A record without its rules' timings (which differ run to run).
    fn timeless(mut record: FileRecord) -> FileRecord {
        if let Some(analysis) = &mut record.analysis {
            analysis.rule_nanos.clear();
        }
        record
    }

    fn parse_tree(root: &Path, options: &FileOptions) -> Vec<FileRecord> {
        let discovery =
            crate::discover::discover(&[root.to_path_buf()], &DiscoverOptions::default()).unwrap();
        discovery
            .entries
            .iter()
            .map(|entry| timeless(process(entry, options)))
            .collect()
    }

    fn parse_one(root: &Path, path: &str, options: &FileOptions) -> FileRecord {
        let entry = Entry {
            path: path.to_string(),
            absolute: root.join(path),
            kind: EntryKind::Source,
            content: None,
        };
        timeless(process(&entry, options))
    }

    /// The live repository after a sequence of edits equals a fresh build of the edited tree,
    /// findings included, and each update names what it changed.
    #[test]
    fn updates_keep_the_repository_equal_to_a_rebuild_and_name_the_changes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample_app");
        copy(&fixtures, &root);
        let options = options();
        let cancel = CancelToken::new();
        let mut live = Live::start(parse_tree(&root, &options), None, true, &cancel).0;
        let check = |live: &Live, step: &str| {
            let rebuilt = Live::start(parse_tree(&root, &options), None, true, &cancel).0;
            crate::project::enhanced::tests::assert_same(
                live.repository(),
                rebuilt.repository(),
                step,
            );
            let findings = |r: &Repository| -> Vec<String> {
                r.files()
                    .iter()
                    .flat_map(|f| f.analysis.iter().flat_map(|a| &a.findings))
                    .map(|f| f.fingerprint.clone())
                    .collect()
            };
            assert_eq!(
                findings(live.repository()),
                findings(rebuilt.repository()),
                "{step}"
            );
        };
        let target = "lib/sample_app/accounts.ex";
        let original = std::fs::read_to_string(root.join(target)).unwrap();

        // A new function with an unsafe call: it is added, its finding too.
        let end = original.rfind("end").unwrap();
        let mut edited = original.clone();
        edited.insert_str(end, "  def made_by_the_test(x), do: String.to_atom(x)\n");
        std::fs::write(root.join(target), &edited).unwrap();
        let (update, _) = live.apply(vec![parse_one(&root, target, &options)], &[], &cancel);
        assert_eq!(update.changed, vec![target.to_string()]);
        assert!(
            update
                .functions
                .added
                .iter()
                .any(|f| f.name.ends_with(".made_by_the_test") && f.arity == Some(1)),
            "{update:#?}"
        );
        assert!(update.functions.removed.is_empty(), "{update:#?}");
        assert!(
            update
                .findings_added
                .iter()
                .any(|f| f.rule == "unsafe-to-atom"),
            "{update:#?}"
        );
        check(&live, "a function added");

        // A syntax error, then the fix: the status goes and comes back.
        std::fs::write(
            root.join(target),
            format!("{edited}\ndefmodule Broken do\n  def (\n"),
        )
        .unwrap();
        let (update, _) = live.apply(vec![parse_one(&root, target, &options)], &[], &cancel);
        assert_eq!(
            update.statuses,
            vec![StatusChange {
                file: target.into(),
                from: Some(Status::Ok),
                to: Some(Status::SyntaxError)
            }]
        );
        check(&live, "a syntax error");
        std::fs::write(root.join(target), &original).unwrap();
        let (update, _) = live.apply(vec![parse_one(&root, target, &options)], &[], &cancel);
        assert_eq!(update.statuses[0].to, Some(Status::Ok));
        assert!(
            update
                .findings_resolved
                .iter()
                .any(|f| f.rule == "unsafe-to-atom"),
            "{update:#?}"
        );
        assert!(update
            .functions
            .removed
            .iter()
            .any(|f| f.name.ends_with(".made_by_the_test")));
        check(&live, "the fix");

        // A new file, then its removal.
        let added = "lib/sample_app/added_by_the_test.ex";
        std::fs::write(root.join(added), "defmodule SampleApp.AddedByTheTest do\n  def go, do: SampleApp.Accounts.list_users()\nend\n").unwrap();
        let (update, _) = live.apply(vec![parse_one(&root, added, &options)], &[], &cancel);
        assert_eq!(update.added, vec![added.to_string()]);
        assert!(update
            .modules
            .added
            .iter()
            .any(|m| m.name == "SampleApp.AddedByTheTest"));
        check(&live, "a file added");
        std::fs::remove_file(root.join(added)).unwrap();
        let (update, _) = live.apply(Vec::new(), &[added.to_string()], &cancel);
        assert_eq!(update.removed, vec![added.to_string()]);
        assert!(update
            .modules
            .removed
            .iter()
            .any(|m| m.name == "SampleApp.AddedByTheTest"));
        check(&live, "a file removed");

        // Lines added above a function move it: it is not a change.
        std::fs::write(root.join(target), format!("\n\n{original}")).unwrap();
        let (update, _) = live.apply(vec![parse_one(&root, target, &options)], &[], &cancel);
        assert!(update.functions.changed.is_empty(), "{update:#?}");
        check(&live, "lines moved");
    }

    fn copy(from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                std::fs::create_dir_all(&target).unwrap();
                copy(&path, &target);
            } else {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
}
