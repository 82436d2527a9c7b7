//! Data that outlives the services using it: an immutable snapshot behind a swappable pointer.
//! Services hold no data that dies with them, so a restarted service reloads the current
//! snapshot and results are identical to a run without the crash.

use std::sync::{Arc, RwLock};

pub(crate) struct SnapshotStore<T> {
    current: RwLock<Arc<T>>,
}

impl<T> SnapshotStore<T> {
    pub(crate) fn new(initial: T) -> Self {
        SnapshotStore {
            current: RwLock::new(Arc::new(initial)),
        }
    }

    /// The current snapshot; readers never block writers for longer than a pointer copy.
    pub(crate) fn load(&self) -> Arc<T> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Takes the current snapshot out, leaving an empty one, so that its owner can consume it.
    pub(crate) fn take(&self) -> Arc<T>
    where
        T: Default,
    {
        std::mem::take(
            &mut *self
                .current
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Replaces the snapshot; readers holding the old one keep it until they drop it.
    pub(crate) fn publish(&self, next: T) {
        let next = Arc::new(next);
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_keep_their_snapshot() {
        let store = SnapshotStore::new(1);
        let old = store.load();
        store.publish(2);
        assert_eq!((*old, *store.load()), (1, 2));
    }
}
