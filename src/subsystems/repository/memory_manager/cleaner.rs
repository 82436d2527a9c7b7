//! MemoryManager.Cleaner: a transient service started at the end of a run that used the
//! index. It removes the roots whose folder is gone (and everything stored for them) and
//! gives the dead space back with an incremental vacuum once free pages are a quarter of the
//! file, a bounded step a transaction, so a concurrent `watch` writing the same index waits
//! one step at most (`index::cleaner`). Entries of other tool or schema versions are removed
//! when the index is opened; the run's own vanished files by the run itself.

use std::sync::Arc;

use super::{lock, MemoryManager};
use crate::index::cleaner::{self, Sweep};
use crate::model::IndexCleaned;
use crate::otp::{ChildContext, ChildError, Health};

/// The service: cleans each database it is asked to, then ends (normally: transient).
pub(crate) fn serve(
    manager: &Arc<MemoryManager>,
    context: &ChildContext,
) -> Result<(), ChildError> {
    context.report_health(Health::Healthy);
    if !manager.cleanups.1.is_empty() {
        // `service:cleaner:crash` crashes on the first request, before taking it: the
        // restarted Cleaner (transient: restarted after a crash) cleans it.
        crate::faults::crash_service_once(context.id());
    }
    while let Ok(database) = manager.cleanups.1.try_recv() {
        match cleaner::sweep(&database, Sweep::AfterRun) {
            Ok(Some(cleaned)) if !cleaned.roots_removed.is_empty() || cleaned.pages_freed > 0 => {
                lock(&manager.log).cleaned = Some(IndexCleaned {
                    roots_removed: cleaned.roots_removed.len() as u64,
                    pages_freed: cleaned.pages_freed,
                    bytes_before: cleaned.bytes_before,
                    bytes_after: cleaned.bytes_after,
                });
            }
            // Nothing to do, or an index another run is rebuilding: the next run cleans.
            Ok(_) | Err(_) => {}
        }
        let _ = manager.cleaned.0.send(());
    }
    Ok(())
}
