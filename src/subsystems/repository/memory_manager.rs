//! Repository.MemoryManager (issue [5b]; this part serves `watch` of [7]): what the process
//! holds and gives back.

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
