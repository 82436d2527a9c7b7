//! MemoryManager.PressureHandler: answers each level the Monitor publishes.
//!
//! - elevated: the CacheManager halves every cache, and the memory freed is given back;
//! - critical: the caches are emptied, the batch narrows to one file in flight, the records
//!   held so far are spilled and every record finished from then on is held spilled (a
//!   record reduced to what the command's report reads; what it drops is in the index when
//!   the run has one). Once all of that is in force, a run still past its limit fails
//!   (the Monitor's measure).
//!
//! The run's state is the MemoryManager's: a handler restarted mid-response takes the next
//! level from the same queue, and a response already in force stays.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::select;

use super::{release_freed, Level, MemoryManager};
use crate::otp::{ChildContext, ChildError, Health};

/// How long the handler waits for the CacheManager (restarting, say) before going on.
const EVICT_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) fn serve(
    manager: &Arc<MemoryManager>,
    context: &ChildContext,
) -> Result<(), ChildError> {
    context.report_health(Health::Healthy);
    let levels = manager.levels.1.clone();
    // A level published while the handler was restarting is still in the queue; a response
    // interrupted by the crash is taken again from the level in force.
    match manager.level() {
        Level::Critical if !manager.responded.load(Ordering::Acquire) => {
            respond(manager, Level::Critical)
        }
        Level::Elevated if !manager.evicted.load(Ordering::Acquire) => {
            respond(manager, Level::Elevated)
        }
        _ => {}
    }
    loop {
        select! {
            recv(levels) -> level => {
                let Ok(level) = level else { return Ok(()) };
                // `service:pressure_handler:crash` crashes on the first level, before
                // answering it: the restarted handler answers the level in force.
                crate::faults::crash_service_once(context.id());
                respond(manager, level);
            }
            recv(context.stop_signal()) -> _ => return Ok(()),
        }
    }
}

fn respond(manager: &MemoryManager, level: Level) {
    if level == Level::Normal {
        return;
    }
    if level == Level::Critical {
        // First, so the records finishing meanwhile are held spilled and no new file starts
        // beside the one in flight.
        manager.degraded.store(true, Ordering::Release);
    }
    if let Some(evicted) = manager.caches.request(level, EVICT_TIMEOUT) {
        manager.note_evictions(&evicted);
    }
    manager.evicted.store(true, Ordering::Release);
    if level == Level::Critical {
        let spilled = manager.spill_all();
        manager.note_spilled(spilled);
    }
    release_freed();
    if level == Level::Critical {
        let heap = super::allocator::live_bytes() as u64;
        let done = manager.done.load(Ordering::Relaxed);
        *super::lock(&manager.at_response) = Some((heap, done));
        manager.responded.store(true, Ordering::Release);
    }
}
