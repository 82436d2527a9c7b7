//! PatternMatcher.Core: evaluates the compiled patterns over one file. It runs inside the
//! Parser's single walk (see the subsystem's documentation): [`observe`] makes the observer the
//! walk carries, [`finish`] runs the file-level checks and applies suppressions. The evaluation
//! itself is the rule engine's (`crate::rules::engine`).

use crate::model::{FileFindings, FileRecord, FileRole};
use crate::otp::cancel::{Deadline, Expired};
use crate::rules::observe::Observer;
use crate::rules::Analysis;

/// The observer that feeds `analysis`'s rules from the walk over `source`.
pub(crate) fn observe<'e>(
    analysis: &'e Analysis,
    path: &'e str,
    role: FileRole,
    source: &'e [u8],
    deadline: &'e Deadline,
) -> Observer<'e> {
    Observer::new(
        analysis.engine.start_file(path, role, source, deadline),
        source,
    )
}

/// The file's findings, once the walk is over and `record` holds its facts; [`Expired`] when
/// the file's deadline passed while the rules ran.
pub(crate) fn finish(
    analysis: &Analysis,
    observer: Observer<'_>,
    record: &FileRecord,
) -> Result<FileFindings, Expired> {
    analysis.finish_file(observer.into_run(), record)
}
