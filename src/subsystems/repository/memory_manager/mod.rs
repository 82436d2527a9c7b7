//! Repository.MemoryManager (issue [5b]): the run's memory against a budget.
//!
//! One [`MemoryManager`] per process run holds the state its four services share, so a
//! service restarted by its supervisor (rest_for_one: Monitor → CacheManager → Cleaner →
//! PressureHandler) carries on where it was:
//!
//! - the [`monitor`] measures the live heap (the counting allocator) and the resident set
//!   (`/proc`, the ceiling: tree-sitter's and SQLite's C allocations are not on the Rust heap)
//!   against `--memory-limit`, and publishes a [`Level`] when it changes;
//! - the [`cache_manager`] owns the in-memory caches, each a byte-counted LRU under a share
//!   of the budget, and evicts them when asked;
//! - the [`cleaner`] cleans the index once a run has finished with it;
//! - the [`pressure_handler`] answers each level: elevated evicts the caches; critical also
//!   narrows the batch to one file in flight and spills the records held so far. A limit that
//!   cannot be met even then ends the run with exit 2, naming the least that would do.
//!
//! Without a limit nothing is measured during the run: the services wait, and the report's
//! peaks come from the allocator's counters.

pub(crate) mod allocator;
pub(crate) mod budget;
pub(crate) mod cache_manager;
pub(crate) mod cleaner;
pub(crate) mod monitor;
pub(crate) mod pressure_handler;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};

pub(crate) use budget::Level;
use cache_manager::CacheManager;

use crate::model::{CacheEviction, IndexCleaned, MemoryRuntime, PressureTransition};
use crate::subsystems::lock;

/// Something that holds records it can give up under pressure (the batch in progress).
pub(crate) trait Spill: Send + Sync {
    /// Reduces what is held to what the run still needs; the records spilled.
    fn spill(&self) -> u64;
}

/// Why the run could not stay within its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exceeded {
    pub(crate) limit: u64,
    /// The least limit the run would have worked with, as far as it can tell.
    pub(crate) needed: u64,
}

impl Exceeded {
    pub(crate) fn message(&self) -> String {
        format!(
            "the memory limit of {} cannot be met: this run needs at least {} even with one \
             file in flight and its records spilled; try --memory-limit {} or more",
            budget::human(self.limit),
            budget::human(self.needed),
            budget::as_limit(self.needed),
        )
    }
}

#[derive(Default)]
struct Log {
    transitions: Vec<PressureTransition>,
    evictions: BTreeMap<String, (u64, u64)>,
    spilled: u64,
    cleaned: Option<IndexCleaned>,
}

/// The MemoryManager's shared state (one per run, in the runtime's shared state).
pub(crate) struct MemoryManager {
    limit: Option<u64>,
    started: Instant,
    level: AtomicU8,
    /// Resident bytes not on the Rust heap at the last full measure (code, stacks, C
    /// allocations): added to the heap for the quick check between measures.
    outside_heap: AtomicU64,
    /// Set at the first critical level, for the rest of the run: one file in flight, and
    /// finished records held in their spilled form.
    degraded: AtomicBool,
    /// Set once the critical responses are all in force: past the limit then, the run fails.
    responded: AtomicBool,
    /// Set once the caches were evicted for a level.
    evicted: AtomicBool,
    exceeded: Mutex<Option<Exceeded>>,
    /// The least the run needs (see [`MemoryManager::set_floor`]).
    floor: AtomicU64,
    /// The files of the batch, and how many are done (counted by [`MemoryManager::check`]).
    files: AtomicU64,
    done: AtomicU64,
    /// The live heap and the files done when the critical responses were all in force.
    at_response: Mutex<Option<(u64, u64)>>,
    log: Mutex<Log>,
    /// Level changes, from the Monitor to the PressureHandler.
    levels: (Sender<Level>, Receiver<Level>),
    pub(crate) caches: CacheManager,
    spillers: Mutex<Vec<Weak<dyn Spill>>>,
    /// Databases to clean, for the Cleaner.
    cleanups: (Sender<PathBuf>, Receiver<PathBuf>),
    cleaned: (Sender<()>, Receiver<()>),
}

impl MemoryManager {
    pub(crate) fn new(limit: Option<u64>) -> Arc<MemoryManager> {
        Arc::new(MemoryManager {
            limit,
            started: Instant::now(),
            level: AtomicU8::new(Level::Normal.as_u8()),
            outside_heap: AtomicU64::new(0),
            degraded: AtomicBool::new(false),
            responded: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            exceeded: Mutex::new(None),
            floor: AtomicU64::new(0),
            files: AtomicU64::new(0),
            done: AtomicU64::new(0),
            at_response: Mutex::new(None),
            log: Mutex::new(Log::default()),
            levels: crossbeam_channel::unbounded(),
            caches: CacheManager::new(limit),
            spillers: Mutex::new(Vec::new()),
            cleanups: crossbeam_channel::unbounded(),
            cleaned: crossbeam_channel::unbounded(),
        })
    }

    pub(crate) fn limit(&self) -> Option<u64> {
        self.limit
    }

    pub(crate) fn level(&self) -> Level {
        Level::from_u8(self.level.load(Ordering::Acquire))
    }

    /// Whether the critical responses hold: the batch keeps one file in flight and holds
    /// finished records in their spilled form.
    pub(crate) fn degraded(&self) -> bool {
        self.degraded.load(Ordering::Acquire)
    }

    /// Set when the limit cannot be met: the run stops taking files and fails.
    pub(crate) fn exceeded(&self) -> Option<Exceeded> {
        lock(&self.exceeded).clone()
    }

    /// The least the run can need, estimated before it starts: the resident set once the
    /// runtime is up, the tree of the largest file, and each file's spilled record. A limit
    /// below it fails at once, before any work.
    pub(crate) fn set_floor(&self, largest_file: u64, files: u64) -> Result<(), Exceeded> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        self.files.store(files, Ordering::Relaxed);
        let resident = allocator::resident_bytes().unwrap_or(0) as u64;
        let floor = resident
            + largest_file.saturating_mul(TREE_BYTES_PER_SOURCE_BYTE)
            + files * SPILLED_RECORD_BYTES;
        self.floor.store(floor, Ordering::Relaxed);
        // The levels are reached before the limit: a floor above the critical mark could
        // never settle.
        let needed = floor * 100 / budget::CRITICAL;
        if needed > limit {
            let exceeded = Exceeded { limit, needed };
            *lock(&self.exceeded) = Some(exceeded.clone());
            return Err(exceeded);
        }
        Ok(())
    }

    /// Gives up: the limit cannot be met; `used` is what the run held at the time, `heap`
    /// the live heap.
    fn exceed(&self, used: u64, heap: u64) {
        let Some(limit) = self.limit else { return };
        let floor = self.floor.load(Ordering::Relaxed);
        // What it holds now with every response in force, and for each file still to come
        // what each file since the responses added to the heap (its spilled record), with a
        // tenth to spare. The resident set's own growth is not linear (glibc's arenas
        // settle), so it is not projected: an estimate, from below.
        let done = self.done.load(Ordering::Relaxed);
        let left = self.files.load(Ordering::Relaxed).saturating_sub(done);
        let per_file = match *lock(&self.at_response) {
            Some((then, done_then)) if done > done_then => {
                heap.saturating_sub(then) / (done - done_then)
            }
            _ => SPILLED_RECORD_BYTES,
        }
        .clamp(SPILLED_RECORD_BYTES, 64 << 10);
        let projected = used.max(floor) + per_file * left;
        let needed = (projected + projected / 10).max(limit + (1 << 20));
        let mut exceeded = lock(&self.exceeded);
        if exceeded.is_none() {
            *exceeded = Some(Exceeded { limit, needed });
        }
    }

    /// Puts `cache` under the budget. Under pressure already, it is trimmed at once as the
    /// level asks (a cache opened then holds what its opening read), and the eviction logged.
    pub(crate) fn register_cache(&self, cache: Arc<dyn cache_manager::Evict>) {
        let level = self.level();
        self.caches.register(Arc::clone(&cache), level);
        if level > Level::Normal {
            let evicted = cache_manager::evict_one(cache.as_ref(), level);
            self.note_evictions(&evicted);
        }
    }

    /// The batch in progress offers its records to be spilled.
    pub(crate) fn register_spill(&self, spill: Weak<dyn Spill>) {
        let mut spillers = lock(&self.spillers);
        spillers.retain(|s| s.strong_count() > 0);
        spillers.push(spill);
    }

    fn spill_all(&self) -> u64 {
        let spillers: Vec<Arc<dyn Spill>> = lock(&self.spillers)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        spillers.iter().map(|s| s.spill()).sum()
    }

    /// The records spilled so far.
    pub(crate) fn spilled_records(&self) -> u64 {
        lock(&self.log).spilled
    }

    /// Counts records spilled as they finished (by the batch, once spilling).
    pub(crate) fn note_spilled(&self, records: u64) {
        if records > 0 {
            lock(&self.log).spilled += records;
        }
    }

    fn note_evictions(&self, evicted: &[(String, u64, u64)]) {
        let mut log = lock(&self.log);
        for (cache, entries, bytes) in evicted {
            let total = log.evictions.entry(cache.clone()).or_default();
            total.0 += entries;
            total.1 += bytes;
        }
    }

    /// Publishes `level` if it is new: the transition is logged and the PressureHandler told.
    fn publish(&self, level: Level, heap: u64, resident: Option<u64>) {
        let before = Level::from_u8(self.level.swap(level.as_u8(), Ordering::AcqRel));
        if before == level {
            return;
        }
        lock(&self.log).transitions.push(PressureTransition {
            at_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            from: before.name().to_string(),
            to: level.name().to_string(),
            heap_bytes: heap,
            resident_bytes: resident,
        });
        let _ = self.levels.0.send(level);
    }

    /// Asks the Cleaner to clean `database` once the run is done with it (it answers each
    /// request on [`MemoryManager::wait_cleaned`]).
    pub(crate) fn request_clean(&self, database: PathBuf) {
        let _ = self.cleanups.0.send(database);
    }

    /// Waits up to `timeout` for the Cleaner to finish one request (it takes them in order).
    pub(crate) fn wait_cleaned(&self, timeout: std::time::Duration) -> bool {
        self.cleaned.1.recv_timeout(timeout).is_ok()
    }

    /// The run's memory so far, for the report's `runtime` section.
    pub(crate) fn runtime(&self) -> MemoryRuntime {
        let log = lock(&self.log);
        MemoryRuntime {
            peak_heap_bytes: allocator::peak_bytes() as u64,
            peak_resident_bytes: allocator::peak_resident_bytes().map(|b| b as u64),
            limit_bytes: self.limit,
            transitions: log.transitions.clone(),
            evictions: log
                .evictions
                .iter()
                .map(|(cache, (entries, bytes))| CacheEviction {
                    cache: cache.clone(),
                    entries: *entries,
                    bytes: *bytes,
                })
                .collect(),
            narrowed: self.degraded(),
            spilled_records: log.spilled,
            spilled_bytes: 0,
            index_cleaned: log.cleaned.clone(),
        }
    }
}

/// A tree costs about this many bytes per byte of source while a file is parsed (measured on
/// the bench corpus: 27; with the walk's tables).
const TREE_BYTES_PER_SOURCE_BYTE: u64 = 32;
/// What a spilled record keeps: its path, status and findings (a generous average).
const SPILLED_RECORD_BYTES: u64 = 1_024;

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
