//! MemoryManager.Monitor: measures the run's memory against its limit and publishes the
//! pressure level when it changes.
//!
//! Two measures. The live heap, from the counting allocator, is exact and costs an atomic
//! read, so the batch asks after every file ([`MemoryManager::check`]). The resident set,
//! from `/proc/self/statm`, is the ceiling the operating system enforces: it also holds
//! memory off the Rust heap (tree-sitter's trees and SQLite's caches are C allocations) and
//! what glibc keeps after a free. The service measures both every [`INTERVAL`]; between two
//! measures the quick check adds the last difference to the heap.
//!
//! When the resident set alone would raise the level, the memory glibc keeps is given back
//! first and the set read again: an evicted cache must not count.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::select;

use super::{allocator, release_freed, Level, MemoryManager};
use crate::otp::{ChildContext, ChildError, Health};

/// How often the Monitor measures while a limit is set: a batch worker allocates a few MiB
/// in this time at most.
pub(crate) const INTERVAL: Duration = Duration::from_millis(10);

/// The service. Without a limit it measures nothing: it waits to be stopped.
pub(crate) fn serve(
    manager: &Arc<MemoryManager>,
    context: &ChildContext,
) -> Result<(), ChildError> {
    context.report_health(Health::Healthy);
    if manager.limit().is_none() {
        context.wait_for_stop();
        return Ok(());
    }
    loop {
        // `service:monitor:crash` crashes on the first measure of a run with a limit.
        crate::faults::crash_service_once(context.id());
        manager.measure();
        select! {
            recv(context.stop_signal()) -> _ => return Ok(()),
            default(INTERVAL) => {}
        }
    }
}

impl MemoryManager {
    /// The quick check, after each file: the heap plus what lay outside it at the last
    /// measure. Measures fully when that would raise the level.
    pub(crate) fn check(&self) {
        let Some(limit) = self.limit else { return };
        self.done.fetch_add(1, Ordering::Relaxed);
        let heap = allocator::live_bytes() as u64;
        let estimate = heap + self.outside_heap.load(Ordering::Relaxed);
        if Level::of(estimate, limit) > self.level() || estimate > limit {
            self.measure();
        }
    }

    /// Whether what the run uses now, grown by `growth` percent, would reach the critical
    /// mark of its limit (`false` without one).
    pub(crate) fn would_pass_critical(&self, growth: u64) -> bool {
        let Some(limit) = self.limit else {
            return false;
        };
        let (level, used) = self.measure();
        level == Level::Critical || Level::of(used * growth / 100, limit) == Level::Critical
    }

    /// Measures the heap and the resident set, publishes the level, and gives up when the
    /// limit is passed with every response already in force; the level and the bytes used
    /// (normal and 0 without a limit).
    pub(crate) fn measure(&self) -> (Level, u64) {
        let Some(limit) = self.limit else {
            return (Level::Normal, 0);
        };
        let heap = allocator::live_bytes() as u64;
        let mut resident = allocator::resident_bytes().map(|r| r as u64);
        let by_heap = Level::of(heap, limit);
        if resident.is_some_and(|r| Level::of(r, limit) > by_heap.max(self.level()) || r > limit) {
            release_freed();
            resident = allocator::resident_bytes().map(|r| r as u64);
        }
        let used = heap.max(resident.unwrap_or(0));
        self.outside_heap
            .store(used.saturating_sub(heap), Ordering::Relaxed);
        // `memory:elevated|critical` (fault injection): at least that level.
        let level = Level::of(used, limit).max(Level::from_u8(crate::faults::memory_level()));
        // Levels only rise during a run: what a run held once it holds again (its next
        // files are like its last), and a level that falls back invites oscillation.
        if level > self.level() {
            self.publish(level, heap, resident);
        }
        if used > limit && self.responded.load(Ordering::Acquire) {
            self.exceed(used, heap);
        }
        (level, used)
    }
}
