//! The design's supervision tree (`shared/design/SUPERVISION_TREE.md`), one folder per
//! subsystem, its files named after the supervisor's children, assembled by [`root`].

pub(crate) mod analysis;
pub(crate) mod design;
pub(crate) mod parsing;
pub(crate) mod pools;
pub(crate) mod querying;
pub(crate) mod repository;
pub(crate) mod root;
pub(crate) mod run_breakers;
pub(crate) mod signals;
pub(crate) mod synchronization;

use std::sync::{Mutex, MutexGuard};

/// The services' locks: a service that panicked holding one has been restarted by its
/// supervisor, and the state it guards is the run's, so the guard is taken back rather than
/// the panic spread.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
