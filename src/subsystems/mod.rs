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
