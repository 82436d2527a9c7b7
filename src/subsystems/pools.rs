//! Bulkheads: batch work and interactive work (queries, re-analysis in `watch`) run on separate
//! rayon pools, so one never waits behind the other. A batch phase uses all `--jobs` threads.

use std::sync::OnceLock;

/// Threads of the interactive pool: answers must not queue behind each other either.
const INTERACTIVE_THREADS: usize = 2;

pub(crate) struct Bulkheads {
    batch: rayon::ThreadPool,
    interactive: OnceLock<rayon::ThreadPool>,
}

impl Bulkheads {
    pub(crate) fn new(batch_threads: usize) -> Result<Bulkheads, rayon::ThreadPoolBuildError> {
        let batch = rayon::ThreadPoolBuilder::new()
            .num_threads(batch_threads.max(1))
            .thread_name(|i| format!("elixirscope-batch-{i}"))
            .build()?;
        Ok(Bulkheads {
            batch,
            interactive: OnceLock::new(),
        })
    }

    pub(crate) fn batch(&self) -> &rayon::ThreadPool {
        &self.batch
    }

    /// Built on first use: batch-only commands never pay for it.
    pub(crate) fn interactive(&self) -> Result<&rayon::ThreadPool, rayon::ThreadPoolBuildError> {
        if let Some(pool) = self.interactive.get() {
            return Ok(pool);
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(INTERACTIVE_THREADS)
            .thread_name(|i| format!("elixirscope-interactive-{i}"))
            .build()?;
        Ok(self.interactive.get_or_init(|| pool))
    }

    pub(crate) fn interactive_threads(&self) -> Option<usize> {
        self.interactive
            .get()
            .map(rayon::ThreadPool::current_num_threads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A batch pool saturated with blocked work does not delay interactive work.
    #[test]
    fn interactive_work_does_not_wait_behind_batch_work() {
        let bulkheads = Bulkheads::new(2).unwrap();
        let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(0);
        for _ in 0..2 {
            let release = release_rx.clone();
            bulkheads.batch().spawn(move || {
                let _ = release.recv();
            });
        }
        let (done_tx, done_rx) = mpsc::channel();
        bulkheads.interactive().unwrap().spawn(move || {
            done_tx.send(42).unwrap();
        });
        let answer = done_rx.recv_timeout(std::time::Duration::from_secs(10));
        drop(release_tx);
        assert_eq!(answer, Ok(42));
    }
}
