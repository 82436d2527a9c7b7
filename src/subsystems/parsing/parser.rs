//! One file from bytes to record: read once, normalise, parse with a deadline, extract, drop the
//! tree (trees cost ~27× the source size, so none outlives its task). Every outcome, including
//! a panic in our own code, becomes a status: a failure in one file never ends the run.

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use crate::discover::{Entry, EntryKind};
use crate::extract;
use crate::extract::observe::WalkObserver;
use crate::faults::Fault;
use crate::index::{self, Cache, Lookup, Stat};
use crate::model::{FileRecord, FileRole, Reason, Status};
use crate::otp::cancel::{Deadline, Expired};
use crate::otp::panic_capture;
use crate::project::mix;
use crate::subsystems::analysis::pattern_matcher;
use crate::subsystems::signals;
use crate::syntax::{self, ParseInput, ParseOutcome};

#[derive(Debug, Clone)]
pub(crate) struct FileOptions {
    pub(crate) max_file_size: u64,
    pub(crate) parse_timeout: Duration,
    /// Extract call sites and module references (off with `--no-calls`).
    pub(crate) calls: bool,
    /// Compute complexity metrics (off with `--no-metrics`).
    pub(crate) metrics: bool,
    /// For `analyze`: the rules to run on each file.
    pub(crate) analysis: Option<Arc<crate::rules::Analysis>>,
    /// The index ([5]): unchanged files are served from it, parsed ones stored in it.
    pub(crate) cache: Option<Arc<Cache>>,
}

/// Processes one discovered entry; never panics.
pub(crate) fn process(entry: &Entry, options: &FileOptions) -> FileRecord {
    match &entry.kind {
        EntryKind::Skipped(reason, message) => FileRecord::unparsed(
            entry.path.clone(),
            Status::Skipped,
            *reason,
            message.clone(),
        ),
        EntryKind::Failed(reason, message) => FileRecord::unparsed(
            entry.path.clone(),
            Status::Failed,
            *reason,
            Some(message.clone()),
        ),
        EntryKind::Source if signals::stop_requested() => interrupted(entry),
        EntryKind::Source => {
            let outcome = panic_capture::capturing(|| {
                catch_unwind(AssertUnwindSafe(|| process_source(entry, options)))
            });
            match outcome {
                Ok(record) => record,
                Err(payload) => {
                    let message = panic_capture::take_last()
                        .unwrap_or_else(|| panic_capture::payload_message(payload.as_ref()));
                    FileRecord::unparsed(
                        entry.path.clone(),
                        Status::Failed,
                        Reason::Panic,
                        Some(message),
                    )
                }
            }
        }
    }
}

fn interrupted(entry: &Entry) -> FileRecord {
    FileRecord::unparsed(
        entry.path.clone(),
        Status::Skipped,
        Reason::Interrupted,
        Some("not analysed: the run was interrupted".into()),
    )
}

fn process_source(entry: &Entry, options: &FileOptions) -> FileRecord {
    let path = &entry.path;
    let fault = crate::faults::for_parse(path);
    if fault == Some(Fault::Vanish) {
        let _ = std::fs::remove_file(&entry.absolute);
    }
    // The index's fast path: the stat is taken before the file is read, so a file that changes
    // while it is read is stored with an older stat and hashed again next time.
    let cache = options.cache.as_deref();
    let checked_ns = index::now_ns();
    let stat = cache
        .and_then(|_| std::fs::metadata(&entry.absolute).ok())
        .map(|metadata| Stat::of(&metadata));
    let mut compare_hash = false;
    if let (Some(cache), Some(stat)) = (cache, stat) {
        if stat.size <= options.max_file_size {
            match cache.lookup(path, stat) {
                Lookup::Served(record) => return *record,
                Lookup::CompareHash => compare_hash = true,
                Lookup::Parse => {}
            }
        }
    }
    let bytes = match read_limited(entry, options.max_file_size) {
        Ok(Read_::Bytes(bytes)) => bytes,
        Ok(Read_::TooLarge(size)) => {
            let mut record = FileRecord::unparsed(
                path.clone(),
                Status::Skipped,
                Reason::TooLarge,
                Some(format!(
                    "{size} bytes, over --max-file-size {}",
                    options.max_file_size
                )),
            );
            record.bytes = size;
            return record;
        }
        Err(err) => {
            let (status, reason) = match err.kind() {
                std::io::ErrorKind::NotFound => (Status::Skipped, Reason::Vanished),
                std::io::ErrorKind::PermissionDenied => (Status::Failed, Reason::Unreadable),
                _ => (Status::Failed, Reason::IoError),
            };
            return FileRecord::unparsed(path.clone(), status, reason, Some(err.to_string()));
        }
    };
    let hash = blake3::hash(&bytes).to_hex().to_string();
    if let (Some(cache), Some(stat), true) = (cache, stat, compare_hash) {
        if let Some(record) = cache.by_hash(path, stat, &hash, checked_ns) {
            return record;
        }
    }
    let mut record = FileRecord {
        path: path.clone(),
        status: Status::Ok,
        reason: None,
        message: None,
        bytes: bytes.len() as u64,
        lines: count_lines(&bytes),
        hash: Some(hash),
        role: FileRole::for_path(path),
        project: None,
        errors: Vec::new(),
        errors_truncated: None,
        modules: Vec::new(),
        calls: Vec::new(),
        mix_project: None,
        analysis: None,
    };
    if looks_binary(&bytes) {
        record.status = Status::Skipped;
        record.reason = Some(Reason::Binary);
        record.message = Some("contains NUL bytes; not Elixir source".into());
        return record;
    }

    if fault == Some(Fault::Panic) {
        panic!("injected fault: parse:panic for {path}");
    }
    let source = normalise(&bytes);
    let input = if fault == Some(Fault::Hang) {
        ParseInput::Endless
    } else {
        ParseInput::Bytes(&source)
    };
    // One deadline for the file's whole work: the parse, the walk that extracts the facts and
    // feeds the rules, and the file-level rules. The run's signal token ends it too.
    let deadline = Deadline::after(options.parse_timeout, signals::run_token());
    let tree = match syntax::parse(input, &deadline) {
        ParseOutcome::Parsed(tree) => tree,
        ParseOutcome::TimedOut if deadline.cancelled() => return interrupted(entry),
        ParseOutcome::TimedOut => {
            record.status = Status::Timeout;
            record.reason = Some(Reason::Deadline);
            record.message = Some(format!(
                "parse exceeded {} ms",
                options.parse_timeout.as_millis()
            ));
            return record;
        }
    };
    let (errors, total) = extract::syntax_errors(&tree, &source);
    if total > 0 {
        record.status = Status::SyntaxError;
        if total > errors.len() {
            record.errors_truncated = Some(u32::try_from(total).unwrap_or(u32::MAX));
        }
        record.errors = errors;
    }
    let mut observer = options.analysis.as_deref().map(|analysis| {
        pattern_matcher::core::observe(analysis, path, record.role, &source, &deadline)
    });
    let facts = extract::facts_observed(
        &tree,
        &source,
        options.calls,
        options.metrics,
        observer.as_mut().map(|o| o as &mut dyn WalkObserver<'_>),
        &deadline,
    );
    let Ok(facts) = facts else {
        let stage = if options.analysis.is_some() {
            "extraction and rules"
        } else {
            "extraction"
        };
        return past_deadline(entry, record, &deadline, options, stage);
    };
    record.modules = facts.modules;
    record.calls = facts.calls;
    // IDs here, on the worker threads; the project phase redoes only duplicated names.
    for module in &mut record.modules {
        extract::ids::assign(module, None);
    }
    if let (Some(analysis), Some(observer)) = (&options.analysis, observer) {
        match pattern_matcher::core::finish(analysis, observer, &record) {
            Ok(found) => record.analysis = Some(Box::new(found)),
            Err(Expired) => return past_deadline(entry, record, &deadline, options, "the rules"),
        }
    }
    if record.role == FileRole::MixProject {
        record.mix_project = Some(mix::from_mix_file(path, &tree, &source));
    }
    drop(tree);
    if let (Some(cache), Some(stat)) = (cache, stat) {
        cache.store(stat, checked_ns, &mut record);
    }
    record
}

/// The record of a file whose work passed its deadline after the parse: what it produced is
/// dropped, as for a parse timeout; a signal makes it `interrupted` instead.
fn past_deadline(
    entry: &Entry,
    record: FileRecord,
    deadline: &Deadline,
    options: &FileOptions,
    stage: &str,
) -> FileRecord {
    if deadline.cancelled() {
        return interrupted(entry);
    }
    FileRecord {
        status: Status::Timeout,
        reason: Some(Reason::Deadline),
        message: Some(format!(
            "{stage} exceeded the file's {} ms",
            options.parse_timeout.as_millis()
        )),
        errors: Vec::new(),
        errors_truncated: None,
        modules: Vec::new(),
        calls: Vec::new(),
        analysis: None,
        mix_project: None,
        ..record
    }
}

enum Read_ {
    Bytes(Vec<u8>),
    TooLarge(u64),
}

/// Reads the file once, never more than `limit + 1` bytes, so a file that grows while being
/// read cannot exhaust memory.
fn read_limited(entry: &Entry, limit: u64) -> std::io::Result<Read_> {
    if let Some(content) = &entry.content {
        return Ok(if content.len() as u64 > limit {
            Read_::TooLarge(content.len() as u64)
        } else {
            Read_::Bytes(content.to_vec())
        });
    }
    let file = std::fs::File::open(&entry.absolute)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Ok(Read_::TooLarge(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(Read_::TooLarge(bytes.len() as u64));
    }
    Ok(Read_::Bytes(bytes))
}

/// NUL bytes never occur in Elixir source; ripgrep uses the same test for binary files.
fn looks_binary(bytes: &[u8]) -> bool {
    bytes.contains(&0)
}

/// Strips a UTF-8 byte order mark and turns CRLF into LF, so such files give the same facts
/// (lines, columns, guard texts) as LF files.
fn normalise(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if !without_bom.contains(&b'\r') {
        return std::borrow::Cow::Borrowed(without_bom);
    }
    let mut out = Vec::with_capacity(without_bom.len());
    let mut iter = without_bom.iter().peekable();
    while let Some(&byte) = iter.next() {
        if byte == b'\r' && iter.peek() == Some(&&b'\n') {
            continue;
        }
        out.push(byte);
    }
    std::borrow::Cow::Owned(out)
}

fn count_lines(bytes: &[u8]) -> u32 {
    let newlines = bytes.iter().filter(|b| **b == b'\n').count();
    let trailing = usize::from(!bytes.is_empty() && !bytes.ends_with(b"\n"));
    u32::try_from(newlines + trailing).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_counts() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"a"), 1);
        assert_eq!(count_lines(b"a\n"), 1);
        assert_eq!(count_lines(b"a\nb"), 2);
    }

    #[test]
    fn normalises_bom_and_crlf() {
        assert_eq!(normalise(b"\xEF\xBB\xBFa\r\nb\r\n").as_ref(), b"a\nb\n");
        assert_eq!(normalise(b"a\rb").as_ref(), b"a\rb");
    }
}
