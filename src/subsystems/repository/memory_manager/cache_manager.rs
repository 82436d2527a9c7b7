//! MemoryManager.CacheManager: the process's in-memory caches, each byte-counted and bounded
//! by a share of the one budget, evicted when the PressureHandler asks.
//!
//! The caches of this build:
//! - `compiled_patterns`: the PatternMatcher.Cache of compiled structural patterns
//!   (`syntax::pattern`), a byte-counted LRU;
//! - `index_pages`: the page caches of the index's reader connections (SQLite's own,
//!   measured by SQLite and given back with `shrink_memory`).
//!
//! Records are not cached: a one-shot run holds each once (the batch, spilled under
//! pressure), `watch` holds the live repository itself; and no command keeps trees (a file's
//! tree is dropped once walked; `watch` parses a changed file afresh).

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crossbeam_channel::{select, Receiver, Sender};

use super::{lock, Level, MemoryManager};
use crate::index;
use crate::otp::{ChildContext, ChildError, Health};
use crate::syntax::pattern;

/// A cache the CacheManager owns.
pub(crate) trait Evict: Send + Sync {
    fn name(&self) -> &'static str;
    /// The bytes it holds now.
    fn bytes(&self) -> u64;
    /// Caps it at `bytes` from now on.
    fn set_budget(&self, bytes: u64);
    /// Evicts until at most `target` bytes remain; the entries and bytes evicted.
    fn evict_to(&self, target: u64) -> (u64, u64);
}

/// A cache's share of the limit, in percent, while memory is normal: the caches together
/// take at most a tenth of it.
const SHARE_PERCENT: u64 = 5;

/// What the PressureHandler asks: evict for this level, and say what went.
pub(crate) struct EvictRequest {
    pub(crate) level: Level,
    pub(crate) reply: Sender<Vec<(String, u64, u64)>>,
}

pub(crate) struct CacheManager {
    limit: Option<u64>,
    caches: Mutex<Vec<Weak<dyn Evict>>>,
    requests: (Sender<EvictRequest>, Receiver<EvictRequest>),
}

impl CacheManager {
    pub(crate) fn new(limit: Option<u64>) -> CacheManager {
        CacheManager {
            limit,
            caches: Mutex::new(Vec::new()),
            requests: crossbeam_channel::unbounded(),
        }
    }

    /// Takes `cache` under the budget: with a limit, it is capped at its share at once, and
    /// at a quarter of it when memory is already past normal (`level`).
    pub(crate) fn register(&self, cache: Arc<dyn Evict>, level: Level) {
        if let Some(limit) = self.limit {
            let share = limit * SHARE_PERCENT / 100;
            cache.set_budget(if level == Level::Normal {
                share
            } else {
                share / 4
            });
        }
        let mut caches = lock(&self.caches);
        caches.retain(|c| c.strong_count() > 0);
        caches.push(Arc::downgrade(&cache));
    }

    fn live(&self) -> Vec<Arc<dyn Evict>> {
        lock(&self.caches)
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// Evicts for `level`: elevated halves every cache, critical empties them.
    fn evict(&self, level: Level) -> Vec<(String, u64, u64)> {
        self.live()
            .iter()
            .flat_map(|cache| evict_one(cache.as_ref(), level))
            .collect()
    }

    /// Puts back a request taken but not served (a crash injected on taking it).
    fn requeue(&self, request: EvictRequest) {
        let _ = self.requests.0.send(request);
    }

    /// Asks the CacheManager service to evict for `level` and waits for what went (`None`
    /// when it did not answer in time: it is restarting).
    pub(crate) fn request(
        &self,
        level: Level,
        timeout: Duration,
    ) -> Option<Vec<(String, u64, u64)>> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.requests.0.send(EvictRequest { level, reply }).ok()?;
        answer.recv_timeout(timeout).ok()
    }
}

/// Evicts one cache for `level` (elevated halves it, critical empties it): what went, by
/// name, when anything did.
pub(crate) fn evict_one(cache: &dyn Evict, level: Level) -> Vec<(String, u64, u64)> {
    let target = match level {
        Level::Normal => return Vec::new(),
        Level::Elevated => cache.bytes() / 2,
        Level::Critical => 0,
    };
    let (entries, bytes) = cache.evict_to(target);
    if entries > 0 || bytes > 0 {
        vec![(cache.name().to_string(), entries, bytes)]
    } else {
        Vec::new()
    }
}

/// The service: registers the process's own caches, then answers eviction requests.
pub(crate) fn serve(
    manager: &Arc<MemoryManager>,
    context: &ChildContext,
) -> Result<(), ChildError> {
    let patterns: Arc<dyn Evict> = Arc::new(CompiledPatterns);
    manager
        .caches
        .register(Arc::clone(&patterns), manager.level());
    context.report_health(Health::Healthy);
    let requests = manager.caches.requests.1.clone();
    loop {
        select! {
            recv(requests) -> request => {
                // `service:cache_manager:crash` crashes on the first request; the request
                // goes back to the front of the queue for the restarted service.
                if crate::faults::would_crash(context.id()) {
                    if let Ok(request) = request {
                        manager.caches.requeue(request);
                    }
                    crate::faults::crash_service_once(context.id());
                    continue;
                }
                let Ok(request) = request else { return Ok(()) };
                let evicted = manager.caches.evict(request.level);
                let _ = request.reply.send(evicted);
            }
            recv(context.stop_signal()) -> _ => return Ok(()),
        }
    }
}

/// The PatternMatcher.Cache of compiled patterns.
struct CompiledPatterns;

impl Evict for CompiledPatterns {
    fn name(&self) -> &'static str {
        "compiled_patterns"
    }

    fn bytes(&self) -> u64 {
        pattern::compiled_bytes()
    }

    fn set_budget(&self, bytes: u64) {
        pattern::set_compiled_budget(bytes);
    }

    fn evict_to(&self, target: u64) -> (u64, u64) {
        pattern::evict_compiled_to(target)
    }
}

/// The index readers' page caches, while the run has the index open.
pub(crate) struct IndexPages(pub(crate) Arc<index::Cache>);

impl Evict for IndexPages {
    fn name(&self) -> &'static str {
        "index_pages"
    }

    fn bytes(&self) -> u64 {
        index::sqlite_memory_used()
    }

    fn set_budget(&self, bytes: u64) {
        self.0.limit_page_cache(bytes);
    }

    fn evict_to(&self, _target: u64) -> (u64, u64) {
        // SQLite gives a connection's cache back whole or not at all.
        match self.0.release_memory() {
            (0, _) => (0, 0),
            (bytes, connections) => (connections, bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A byte-counted cache of entries of 100 bytes each, for the CacheManager's own rules.
    struct Entries {
        held: AtomicU64,
        budget: AtomicU64,
    }

    impl Evict for Entries {
        fn name(&self) -> &'static str {
            "entries"
        }
        fn bytes(&self) -> u64 {
            self.held.load(Ordering::Relaxed) * 100
        }
        fn set_budget(&self, bytes: u64) {
            self.budget.store(bytes, Ordering::Relaxed);
        }
        fn evict_to(&self, target: u64) -> (u64, u64) {
            let held = self.held.load(Ordering::Relaxed);
            let kept = (target / 100).min(held);
            self.held.store(kept, Ordering::Relaxed);
            (held - kept, (held - kept) * 100)
        }
    }

    #[test]
    fn elevated_halves_each_cache_critical_empties_it_and_the_budget_is_a_share() {
        let manager = CacheManager::new(Some(100 << 20));
        let cache = Arc::new(Entries {
            held: AtomicU64::new(40),
            budget: AtomicU64::new(0),
        });
        manager.register(cache.clone(), Level::Normal);
        assert_eq!(cache.budget.load(Ordering::Relaxed), 5 << 20);
        assert_eq!(manager.evict(Level::Normal), vec![]);
        assert_eq!(
            manager.evict(Level::Elevated),
            vec![("entries".into(), 20, 2_000)]
        );
        assert_eq!(
            manager.evict(Level::Critical),
            vec![("entries".into(), 20, 2_000)]
        );
        assert_eq!(cache.bytes(), 0);
        // Registered under pressure: a quarter of the share.
        let late = Arc::new(Entries {
            held: AtomicU64::new(0),
            budget: AtomicU64::new(0),
        });
        manager.register(late.clone(), Level::Elevated);
        assert_eq!(late.budget.load(Ordering::Relaxed), (5 << 20) / 4);
        // A cache dropped by its owner leaves the manager.
        drop((cache, late));
        assert!(manager.live().is_empty());
    }
}
