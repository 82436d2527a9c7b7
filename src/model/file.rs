//! One file's record: its status, why it has that status, its role, its syntax errors and the
//! facts extracted from it. Everything a later run needs to reuse the file without reading it
//! again travels here.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Call, FileFindings, Module, Project};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// Parsed without syntax errors.
    Ok,
    /// Parsed; tree-sitter found ERROR or MISSING nodes, listed in `errors`.
    SyntaxError,
    /// Could not be analysed: unreadable, or the tool panicked on it (see `message`).
    Failed,
    /// The parse exceeded `--parse-timeout-ms`.
    Timeout,
    /// Listed but deliberately not parsed (see `reason`).
    Skipped,
}

/// Why a file was skipped, failed or timed out.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Reason {
    /// A `.heex`, `.eex` or `.leex` template (analysed by a later release).
    Template,
    /// A symbolic link, not followed without `--follow`.
    Symlink,
    /// A symbolic link whose target does not exist.
    BrokenSymlink,
    /// A symbolic link leading back to one of its ancestors (with `--follow`).
    SymlinkLoop,
    /// Larger than `--max-file-size`.
    TooLarge,
    /// Contains NUL bytes: not source code.
    Binary,
    /// Deleted between discovery and reading.
    Vanished,
    /// Named on the command line but not an Elixir file.
    NotElixir,
    /// Not reached before an interrupt ended the run.
    Interrupted,
    /// Permission denied.
    Unreadable,
    /// Another input/output error.
    IoError,
    /// The tool panicked while handling the file.
    Panic,
    /// The parse deadline passed.
    Deadline,
}

/// Where a file sits in a Mix project, which decides the rules that apply to it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FileRole {
    Lib,
    Test,
    TestSupport,
    Config,
    RuntimeConfig,
    Migration,
    Seeds,
    MixProject,
    Script,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileRecord {
    /// Relative to the root, `/`-separated.
    pub(crate) path: String,
    pub(crate) status: Status,
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) reason: Option<Reason>,
    /// A human-readable explanation for `failed`, `timeout` and some `skipped` files.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) message: Option<String>,
    /// Size on disk in bytes (0 when not read).
    pub(crate) bytes: u64,
    /// Number of lines (0 when not read).
    pub(crate) lines: u32,
    /// blake3 of the file's bytes as read, in hex; absent when the file was not read.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) hash: Option<String>,
    pub(crate) role: FileRole,
    /// Path of the Mix project (directory of its `mix.exs`, `.` for the root) the file belongs
    /// to; absent when no `mix.exs` encloses it.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) project: Option<String>,
    /// Syntax errors, in source order (at most `MAX_ERRORS_PER_FILE`).
    pub(crate) errors: Vec<SyntaxError>,
    /// Total number of syntax errors, when more were found than are listed.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) errors_truncated: Option<u32>,
    pub(crate) modules: Vec<Module>,
    /// Calls outside any module (a script's top level), in source order; absent with
    /// `--no-calls` or when there are none.
    #[serde(default, skip_serializing_if = "crate::model::stored::empty")]
    pub(crate) calls: Vec<Call>,
    /// What `analyze` found in the file: not part of the `parse` report.
    #[serde(default, skip_serializing_if = "crate::model::stored::json_only")]
    #[schemars(skip)]
    pub(crate) analysis: Option<Box<FileFindings>>,
    /// For a `mix.exs`: the project it defines.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) mix_project: Option<Project>,
}

/// Records a run put aside under memory pressure ([5b]): the report reads each back, whole,
/// by its position in the run's list, as it writes it.
pub(crate) trait SpilledRecords: Sync {
    /// The whole record at `position`, when it was spilled; `None` when the one in memory is
    /// whole.
    fn full(&self, position: usize) -> Option<FileRecord>;

    /// Stores `record` as the whole record at `position` from now on (the project phase's
    /// resolved form); an error when it cannot.
    fn replace(&self, position: usize, record: &FileRecord) -> Result<(), String>;
}

/// The most syntax errors listed per file: a binary file can hold thousands.
pub(crate) const MAX_ERRORS_PER_FILE: usize = 100;

impl FileRecord {
    /// The innermost module and the function whose lines hold `line`, by name and
    /// `name/arity`.
    pub(crate) fn enclosing(&self, line: u32) -> (Option<String>, Option<String>) {
        let module = self
            .modules
            .iter()
            .filter(|m| m.line <= line && line <= m.end_line)
            .max_by_key(|m| m.line);
        let function = module.and_then(|m| {
            m.functions
                .iter()
                .find(|f| f.line <= line && line <= f.end_line)
        });
        (
            module.map(|m| m.name.clone()),
            function.map(|f| format!("{}/{}", f.name, f.arity)),
        )
    }

    /// A record for a file that was not parsed.
    pub(crate) fn unparsed(
        path: String,
        status: Status,
        reason: Reason,
        message: Option<String>,
    ) -> Self {
        FileRecord {
            role: FileRole::for_path(&path),
            path,
            status,
            reason: Some(reason),
            message,
            bytes: 0,
            lines: 0,
            hash: None,
            project: None,
            errors: Vec::new(),
            errors_truncated: None,
            modules: Vec::new(),
            calls: Vec::new(),
            mix_project: None,
            analysis: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SyntaxError {
    /// 1-based.
    pub(crate) line: u32,
    /// 1-based, counting Unicode code points.
    pub(crate) column: u32,
    pub(crate) end_line: u32,
    pub(crate) end_column: u32,
    pub(crate) kind: SyntaxErrorKind,
    pub(crate) message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SyntaxErrorKind {
    /// Text the grammar could not place (a tree-sitter ERROR node).
    Unexpected,
    /// A token the parser inserted to recover (a tree-sitter MISSING node), such as `end`.
    Missing,
}
