//! Repository.Enhanced (issue [5] item 3): the project-level data — kinds through `use`, the
//! IDs of modules defined in several places, call resolution, the module graph — kept up to
//! date from the files that changed rather than rebuilt. The phase itself is
//! `project::enhanced::phase`; this is the service side: it reads the last phase of the run
//! scope from the index, runs the phase, and stores what it resolved.
//!
//! The `enhanced` child is started and supervised; its work runs as the `project_phase` task
//! of the TaskSupervisor, on the records the batch produced (folded, like the parser).

use crate::index::Cache;
use crate::model::{FileRecord, Project, SpilledRecords};
use crate::otp::cancel::CancelToken;
use crate::project::{enhanced, Repository};

/// What the phase is asked to do.
pub(crate) struct PhaseRequest<'a> {
    /// Resolve calls and build the graph (off with `--no-calls`).
    pub(crate) calls: bool,
    /// The index and the run scope the phase is stored under; `None` without an index.
    pub(crate) stored: Option<(&'a Cache, &'a str)>,
    pub(crate) cancel: &'a CancelToken,
    /// The records spilled under memory pressure ([5b]); such a phase runs whole and is not
    /// stored (the next run resolves every file again).
    pub(crate) spilled: Option<&'a dyn SpilledRecords>,
}

/// The project phase over a batch's records (sorted by path): incremental over the scope's
/// stored phase when there is one.
pub(crate) fn update(records: Vec<FileRecord>, request: &PhaseRequest<'_>) -> Repository {
    let projects: Vec<Project> = records
        .iter()
        .filter_map(|record| record.mix_project.clone())
        .collect();
    let stored = request.stored.filter(|_| request.spilled.is_none());
    let previous = stored.and_then(|(index, scope)| index.previous(scope));
    let mut outcome = enhanced::phase(
        records,
        projects,
        request.calls,
        request.cancel,
        previous.as_ref(),
        request.spilled,
    );
    if let Some((index, scope)) = stored {
        index.store_scope(scope, &mut outcome, previous.as_ref());
    }
    outcome.repository
}
