//! PatternMatcher.PatternLibrary: the patterns a run evaluates. It compiles the selection a
//! command asked for (`--select`, `--ignore`, suppression options) from the rule registry into
//! one [`Analysis`] when it starts — OTP's `init/1`, so the subsystem's start-up fails if the
//! selection does — and publishes it for the Parser's walk. A restart compiles it again.

use std::sync::Arc;

use crate::otp::store::SnapshotStore;
use crate::otp::ChildError;
use crate::rules::engine::Engine;
use crate::rules::registry::{self, UnknownSelector};
use crate::rules::Analysis;

/// What a run asks the library for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    /// `--select`: rule ids, categories or `all`; empty for the default set.
    pub(crate) select: Vec<String>,
    /// `--ignore`.
    pub(crate) ignore: Vec<String>,
    /// Honour Credo's and Sobelow's suppression comments.
    pub(crate) foreign_suppressions: bool,
}

impl Selection {
    /// The default rules as `analyze` runs them, Credo's and Sobelow's suppressions honoured:
    /// what `query`'s findings and `watch` maintain.
    pub(crate) fn analyze_default() -> Selection {
        Selection {
            foreign_suppressions: true,
            ..Selection::default()
        }
    }

    /// Compiles the selection; an unknown rule or category is the caller's error.
    pub(crate) fn compile(&self) -> Result<Analysis, UnknownSelector> {
        let rules = registry::select(registry::all(), &self.select, &self.ignore)?;
        Ok(Analysis {
            engine: Engine::new(rules),
            foreign_suppressions: self.foreign_suppressions,
        })
    }
}

/// The library's state, which outlives a restart of its service.
pub(crate) struct PatternLibrary {
    selection: Selection,
    compiled: SnapshotStore<Option<Arc<Analysis>>>,
}

impl PatternLibrary {
    pub(crate) fn new(selection: Selection) -> PatternLibrary {
        PatternLibrary {
            selection,
            compiled: SnapshotStore::new(None),
        }
    }

    /// The service's start: compile and publish.
    pub(crate) fn start(&self) -> Result<(), ChildError> {
        let analysis = self
            .selection
            .compile()
            .map_err(|err| ChildError::new(format!("cannot compile the rules: {err}")))?;
        self.compiled.publish(Some(Arc::new(analysis)));
        Ok(())
    }

    /// The compiled patterns, once the service has started.
    pub(crate) fn analysis(&self) -> Option<Arc<Analysis>> {
        self.compiled.load().as_ref().clone()
    }
}
