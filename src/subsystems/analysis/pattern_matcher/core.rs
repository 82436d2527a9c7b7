//! PatternMatcher.Core: evaluates the compiled patterns over one file. It runs inside the
//! Parser's single walk (see the subsystem's documentation): [`observe`] makes the observer the
//! walk carries, [`finish`] runs the file-level checks and applies suppressions. The evaluation
//! itself is the rule engine's (`crate::rules::engine`).

use crate::model::{FileFindings, FileRecord, FileRole};
use crate::rules::observe::Observer;
use crate::rules::Analysis;

/// The observer that feeds `analysis`'s rules from the walk over `source`.
pub(crate) fn observe<'e>(
    analysis: &'e Analysis,
    path: &'e str,
    role: FileRole,
    source: &'e [u8],
) -> Observer<'e> {
    Observer::new(analysis.engine.start_file(path, role, source), source)
}

/// The file's findings, once the walk is over and `record` holds its facts.
pub(crate) fn finish(
    analysis: &Analysis,
    observer: Observer<'_>,
    record: &FileRecord,
) -> FileFindings {
    analysis.finish_file(observer.into_run(), record)
}
