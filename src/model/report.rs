//! The report: the typed contract every output format serialises. Field order here is the order
//! in the JSON; every list is sorted before it gets here, so output is byte-identical whatever
//! `--jobs` is. `schema/report.schema.json` is generated from these types (schemars) and a test
//! fails when it is stale. New fields and enum values are additive within schema_version 1.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FileRecord, Graph, Project, ProjectMetrics, Reason, Status};

/// Bumped only for changes that break consumers; additions keep it.
pub(crate) const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Report {
    pub(crate) schema_version: u32,
    pub(crate) tool: Tool,
    /// The subcommand that produced the report, e.g. `parse`.
    pub(crate) command: String,
    /// Absolute path of the root; every `path` in the report is relative to it.
    pub(crate) root: String,
    pub(crate) summary: Summary,
    pub(crate) files: Vec<FileRecord>,
    /// Module dependencies with `mix xref`'s labels, fan-in/fan-out and cycles; absent with
    /// `--no-calls`.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) graph: Option<Graph>,
    /// Values that vary between runs (timings, threads) live only here and in
    /// `summary.elapsed_ms`.
    pub(crate) runtime: RuntimeInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Tool {
    pub(crate) name: String,
    pub(crate) version: String,
}

impl Tool {
    pub(crate) fn current() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Summary {
    /// Every file listed, whatever its status.
    pub(crate) files: u64,
    pub(crate) by_status: StatusCounts,
    /// Bytes and lines of the files read.
    pub(crate) bytes: u64,
    pub(crate) lines: u64,
    pub(crate) modules: u64,
    pub(crate) functions: u64,
    /// Complexity totals and distribution (issue [3b], `docs/metrics.md`); absent with
    /// `--no-metrics`.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) metrics: Option<ProjectMetrics>,
    /// Every Mix project under the root.
    pub(crate) projects: Vec<Project>,
    /// Module names defined in more than one place: kept apart, never merged.
    pub(crate) duplicate_modules: Vec<DuplicateModule>,
    /// Wall time of the whole run.
    pub(crate) elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusCounts {
    pub(crate) ok: u64,
    pub(crate) syntax_error: u64,
    pub(crate) failed: u64,
    pub(crate) timeout: u64,
    pub(crate) skipped: u64,
}

impl StatusCounts {
    pub(crate) fn add(&mut self, status: Status) {
        match status {
            Status::Ok => self.ok += 1,
            Status::SyntaxError => self.syntax_error += 1,
            Status::Failed => self.failed += 1,
            Status::Timeout => self.timeout += 1,
            Status::Skipped => self.skipped += 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DuplicateModule {
    pub(crate) name: String,
    pub(crate) locations: Vec<Location>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Location {
    pub(crate) path: String,
    pub(crate) line: u32,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuntimeInfo {
    /// Worker threads used for the parse phase.
    pub(crate) jobs: usize,
    pub(crate) phases: Vec<PhaseTiming>,
    /// Every file that failed or timed out, in path order.
    pub(crate) failures: Vec<FailureRecord>,
    /// Every supervised child that ran, by path, with its restarts and failures.
    pub(crate) supervision: Vec<ChildRuntime>,
    /// Protected operations of the run and their breaker state.
    pub(crate) breakers: Vec<BreakerVerdict>,
    /// Worker pools (bulkheads) and their queues.
    pub(crate) pools: Vec<PoolRuntime>,
    /// `analyze`: the time each rule took over the run, summed over the worker threads.
    #[serde(default, skip_serializing_if = "crate::model::stored::empty")]
    pub(crate) rules: Vec<RuleTiming>,
    /// The index ([5], `docs/index.md`): how it served this run; absent with `--no-cache`.
    #[serde(default, skip_serializing_if = "crate::model::stored::none")]
    pub(crate) cache: Option<CacheRuntime>,
    /// What the run held in memory at most (the MemoryManager's measures).
    #[serde(default)]
    pub(crate) memory: MemoryRuntime,
    /// Non-fatal warnings, in the order they arose: each is also printed to stderr as
    /// `elixirscope: warning: ...` unless `-q`, so a quiet CI run still has them here.
    pub(crate) warnings: Vec<String>,
}

/// The run's memory, as the MemoryManager measures it ([5b]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemoryRuntime {
    /// The most heap bytes allocated and not yet freed at once, counted by the allocator,
    /// until the report was made.
    pub(crate) peak_heap_bytes: u64,
    /// The process's peak resident set size (`VmHWM`) by then; absent where the system
    /// does not say.
    #[serde(default, skip_serializing_if = "crate::model::stored::none")]
    pub(crate) peak_resident_bytes: Option<u64>,
    /// `--memory-limit` in bytes; absent without one.
    #[serde(default, skip_serializing_if = "crate::model::stored::none")]
    pub(crate) limit_bytes: Option<u64>,
    /// Each change of the pressure level, in order (with a limit only).
    #[serde(default, skip_serializing_if = "crate::model::stored::empty")]
    pub(crate) transitions: Vec<PressureTransition>,
    /// What each cache gave up under pressure, by cache name.
    #[serde(default, skip_serializing_if = "crate::model::stored::empty")]
    pub(crate) evictions: Vec<CacheEviction>,
    /// Whether the batch was narrowed to one file in flight (critical pressure).
    #[serde(default, skip_serializing_if = "crate::model::stored::falsy")]
    pub(crate) narrowed: bool,
    /// Records held in their spilled form: only what the report reads (critical pressure).
    #[serde(default, skip_serializing_if = "crate::model::stored::is_zero")]
    pub(crate) spilled_records: u64,
    /// `parse`: the bytes written to the spill database (records as parsed, then resolved).
    #[serde(default, skip_serializing_if = "crate::model::stored::is_zero")]
    pub(crate) spilled_bytes: u64,
    /// What the MemoryManager's Cleaner did to the index at the end of the run, when it did
    /// anything.
    #[serde(default, skip_serializing_if = "crate::model::stored::none")]
    pub(crate) index_cleaned: Option<IndexCleaned>,
}

/// A change of the pressure level, as the Monitor measured it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PressureTransition {
    /// Milliseconds since the runtime started.
    pub(crate) at_ms: u64,
    /// `normal`, `elevated` or `critical`.
    pub(crate) from: String,
    pub(crate) to: String,
    /// The live heap then.
    pub(crate) heap_bytes: u64,
    /// The resident set then; absent where the system does not say.
    #[serde(default, skip_serializing_if = "crate::model::stored::none")]
    pub(crate) resident_bytes: Option<u64>,
}

/// What one cache gave up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CacheEviction {
    /// `compiled_patterns` or `index_pages`.
    pub(crate) cache: String,
    /// Entries (patterns, or connections whose page cache was given back).
    pub(crate) entries: u64,
    pub(crate) bytes: u64,
}

/// The Cleaner's work on the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IndexCleaned {
    /// Roots whose folder is gone, removed with everything stored for them.
    pub(crate) roots_removed: u64,
    /// Pages the incremental vacuum gave back.
    pub(crate) pages_freed: u64,
    pub(crate) bytes_before: u64,
    pub(crate) bytes_after: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CacheRuntime {
    /// The database file.
    pub(crate) database: String,
    /// Files served from the index because their size, mtime and inode were unchanged.
    pub(crate) unchanged: u64,
    /// Files whose stat changed but whose content hash did not: served from the index.
    pub(crate) rehashed: u64,
    /// Files parsed: new, changed, or without stored findings for this rule selection.
    pub(crate) parsed: u64,
    /// Entries written by this run.
    pub(crate) stored: u64,
    /// Entries of files that no longer exist, removed.
    pub(crate) removed: u64,
    /// Stored entries that could not be read or decoded, and were parsed again.
    pub(crate) bad_entries: u64,
    /// Files whose project phase (kinds through `use`, IDs, call resolution, graph edges) ran
    /// this run: new and changed files, and files that read a changed file's exports. The
    /// others got their stored resolution back. Always 0 for `analyze`, which has no project
    /// phase.
    pub(crate) re_resolved: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleTiming {
    pub(crate) rule: String,
    /// Microseconds of CPU spent in the rule's checks, all files and threads together.
    pub(crate) elapsed_us: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChildRuntime {
    /// Path in the supervision tree, e.g. `root/parsing/batch_processor`.
    pub(crate) path: String,
    /// `supervisor` or `worker`.
    pub(crate) kind: String,
    /// `permanent`, `transient` or `temporary`.
    pub(crate) restart: String,
    pub(crate) restarts: u32,
    /// Abnormal exits and failed starts, with their reasons, in order.
    pub(crate) failures: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PoolRuntime {
    pub(crate) name: String,
    pub(crate) threads: usize,
    /// Capacity of the bounded queue that feeds it (0 when it has none).
    pub(crate) queue_capacity: usize,
    /// The most items that waited in that queue at once.
    pub(crate) queue_high_water: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhaseTiming {
    pub(crate) phase: String,
    pub(crate) elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FailureRecord {
    pub(crate) path: String,
    pub(crate) status: Status,
    pub(crate) reason: Reason,
    pub(crate) message: String,
}

impl FailureRecord {
    /// The failure a file's record stands for, if it failed or timed out.
    pub(crate) fn of(file: &FileRecord) -> Option<FailureRecord> {
        match (file.status, file.reason) {
            (Status::Failed | Status::Timeout, Some(reason)) => Some(FailureRecord {
                path: file.path.clone(),
                status: file.status,
                reason,
                message: file.message.clone().unwrap_or_default(),
            }),
            _ => None,
        }
    }
}

/// The generated JSON Schema of the report, as committed in `schema/report.schema.json`.
#[cfg(test)]
fn schema_json() -> String {
    crate::model::schema_file::text(&schemars::schema_for!(Report))
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_schema_is_current() {
        crate::model::schema_file::assert_current("report.schema.json", &super::schema_json());
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BreakerVerdict {
    pub(crate) operation: String,
    pub(crate) failures: u32,
    /// `closed`, or `disabled` when its results were dropped.
    pub(crate) state: BreakerVerdictState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BreakerVerdictState {
    Closed,
    Disabled,
}
