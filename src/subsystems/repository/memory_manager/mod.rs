//! Repository.MemoryManager (issue [5b]; this part serves `watch` of [7]): what the process
//! holds and gives back.

pub(crate) mod allocator;

use crate::model::MemoryRuntime;

/// The run's memory so far, for the report's `runtime` section.
pub(crate) fn runtime() -> MemoryRuntime {
    MemoryRuntime {
        peak_heap_bytes: allocator::peak_bytes() as u64,
        peak_resident_bytes: allocator::peak_resident_bytes().map(|b| b as u64),
    }
}

/// Keeps glibc to one malloc arena per core. By default it opens up to eight a core as
/// threads contend, and memory freed in one arena serves only allocations made there: a long
/// process whose threads take turns (the watcher, the updater, the pool, the index writer)
/// holds each arena's high-water mark. Elsewhere a no-op.
pub(crate) fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // SAFETY: mallopt takes two integers and changes a setting of the allocator.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, i32::try_from(cores).unwrap_or(2));
        }
    }
}

/// Gives the memory freed since back to the system. glibc keeps what a thread frees in that
/// thread's arena for later, so a long `watch` whose table builds freed a hundred MiB would
/// hold it to the end; `malloc_trim` releases the free pages of every arena. Elsewhere a
/// no-op.
pub(crate) fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and only returns free pages to the kernel; it is
    // thread-safe (it locks each arena).
    unsafe {
        libc::malloc_trim(0);
    }
}
