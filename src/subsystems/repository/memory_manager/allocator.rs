//! The MemoryManager's measure of the heap: the global allocator, counting.
//!
//! RSS alone misleads: glibc keeps freed memory in its arenas, so a cache evicted may not
//! lower it. The process's allocator is the system's, wrapped to keep the bytes allocated and
//! not yet freed (live) and the most there have been (peak).
//!
//! An atomic operation on every allocation cost the parse 7 % on two cores (the counter's
//! cache line moves between them). Each thread sums its own allocations and frees and adds
//! the sum to the shared counters once it passes [`FLUSH`] either way: the figures are exact
//! to within that much a thread, at a few instructions an allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

/// How far a thread's own count may drift before it is added to the shared one.
const FLUSH: isize = 256 << 10;

thread_local! {
    /// This thread's allocations minus its frees, not yet added to [`LIVE`]. A `const`
    /// initializer and no destructor: reading it never allocates.
    static PENDING: Cell<isize> = const { Cell::new(0) };
}

/// The system allocator, counting (registered in `main.rs`).
pub(crate) struct Counting;

fn note(delta: isize) {
    let due = PENDING.try_with(|pending| {
        let sum = pending.get() + delta;
        if sum.abs() >= FLUSH {
            pending.set(0);
            sum
        } else {
            pending.set(sum);
            0
        }
    });
    // A thread being torn down has no pending count left: straight to the shared one.
    let due = due.unwrap_or(delta);
    if due != 0 {
        let live = LIVE.fetch_add(due, Relaxed) + due;
        if live > PEAK.load(Relaxed) {
            PEAK.fetch_max(live, Relaxed);
        }
    }
}

fn added(size: usize) {
    note(isize::try_from(size).unwrap_or(isize::MAX));
}

fn removed(size: usize) {
    note(-isize::try_from(size).unwrap_or(isize::MAX));
}

// SAFETY: every call goes to `System` with the caller's arguments unchanged; the counters
// only observe the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            added(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            added(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(pointer, layout) };
        removed(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            removed(layout.size());
            added(new_size);
        }
        moved
    }
}

/// Bytes allocated and not freed, by every thread (exact to within [`FLUSH`] a thread).
pub(crate) fn live_bytes() -> usize {
    usize::try_from(LIVE.load(Relaxed)).unwrap_or(0)
}

/// The process's resident set size now (`/proc/self/statm`, one short read); `None` where
/// there is none.
pub(crate) fn resident_bytes() -> Option<usize> {
    use std::io::Read;
    let mut buffer = [0u8; 128];
    let mut file = std::fs::File::open("/proc/self/statm").ok()?;
    let read = file.read(&mut buffer).ok()?;
    let text = std::str::from_utf8(&buffer[..read]).ok()?;
    let pages: usize = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

fn page_size() -> usize {
    #[cfg(unix)]
    {
        // SAFETY: sysconf reads a constant of the system.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(size).unwrap_or(4096)
    }
    #[cfg(not(unix))]
    {
        4096
    }
}

/// The most bytes live at once since the start.
pub(crate) fn peak_bytes() -> usize {
    usize::try_from(PEAK.load(Relaxed)).unwrap_or(0)
}

/// The process's peak resident set size (`VmHWM` of `/proc/self/status`); `None` where
/// there is none.
pub(crate) fn peak_resident_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allocation_is_counted_while_it_lives() {
        // Other tests allocate meanwhile: a 64 MiB block stands out of their noise.
        const SIZE: usize = 64 << 20;
        let block: Vec<u8> = Vec::with_capacity(SIZE);
        let during = live_bytes();
        assert!(peak_bytes() >= during);
        drop(block);
        let after = live_bytes();
        assert!(
            during >= after + SIZE / 2,
            "live {during} with the block, {after} after"
        );
        assert!(peak_resident_bytes().is_some_and(|r| r > 0));
        assert!(resident_bytes().is_some_and(|r| r > 0));
    }
}
