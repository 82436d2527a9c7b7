//! The design's Parsing.BatchProcessor: feeds one batch of files through a bounded queue to the
//! workers of the batch pool. Every file is one unit of work under catch_unwind
//! (`pipeline::process`), never a process of its own. The queue is bounded, so a full queue
//! makes the producer wait: in a batch run nothing is refused or dropped.
//!
//! The job's progress lives in the job, not in the processor: a processor that crashes and is
//! restarted resumes with the files that have no result yet, so the run's results are
//! identical to a run without the crash.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crossbeam_channel::select;

use super::{faults, ChildContext, ChildError};
use crate::discover::Entry;
use crate::pipeline::{self, FileOptions};
use crate::report::FileRecord;

/// Queue slots per worker thread: enough to keep workers busy, small enough to bound memory.
const QUEUE_SLOTS_PER_WORKER: usize = 4;

/// Files per queue message. One message per file woke the feeder once per file, and on a
/// machine with as many workers as cores each wake-up preempts a worker (12,000 context
/// switches for 4,000 files); a handful per message keeps the queue's balance at the end.
const FILES_PER_MESSAGE: usize = 4;

pub(crate) struct BatchJob {
    entries: Vec<Entry>,
    options: FileOptions,
    /// One slot per entry; a slot is filled once and emptied by `take_records`, so records are
    /// moved out, never copied.
    results: Vec<Mutex<Option<FileRecord>>>,
    completed: AtomicUsize,
    finished: (Mutex<bool>, Condvar),
    queue_high_water: AtomicUsize,
    queue_capacity: AtomicUsize,
    on_file_done: Box<dyn Fn() + Send + Sync>,
}

impl BatchJob {
    pub(crate) fn new(
        entries: Vec<Entry>,
        options: FileOptions,
        on_file_done: Box<dyn Fn() + Send + Sync>,
    ) -> Arc<BatchJob> {
        let results = (0..entries.len()).map(|_| Mutex::new(None)).collect();
        let empty = entries.is_empty();
        Arc::new(BatchJob {
            entries,
            options,
            results,
            completed: AtomicUsize::new(0),
            finished: (Mutex::new(empty), Condvar::new()),
            queue_high_water: AtomicUsize::new(0),
            queue_capacity: AtomicUsize::new(0),
            on_file_done,
        })
    }

    /// Enqueues every file without a result and returns once all are queued; `workers` pool
    /// threads drain the queue. Returns early only when the processor is told to stop.
    pub(crate) fn feed(
        self: &Arc<Self>,
        pool: &rayon::ThreadPool,
        context: &ChildContext,
    ) -> Result<(), ChildError> {
        let workers = pool.current_num_threads().max(1);
        let capacity = workers * QUEUE_SLOTS_PER_WORKER;
        // Reported in files, as the queue's depth is.
        self.queue_capacity
            .store(capacity * FILES_PER_MESSAGE, Ordering::Relaxed);
        let (sender, receiver) = crossbeam_channel::bounded::<Vec<usize>>(capacity);
        for _ in 0..workers {
            let job = Arc::clone(self);
            let receiver = receiver.clone();
            pool.spawn(move || {
                for indices in receiver.iter() {
                    for index in indices {
                        job.process(index);
                    }
                }
            });
        }
        drop(receiver);
        let pending: Vec<usize> = (0..self.entries.len())
            .filter(|&i| !self.is_done(i))
            .collect();
        let halfway = pending.len().div_ceil(FILES_PER_MESSAGE) / 2;
        for (position, indices) in pending.chunks(FILES_PER_MESSAGE).enumerate() {
            if position == halfway {
                // `service:batch_processor:crash` crashes here, mid-batch, to prove resumption.
                faults::crash_service_once(context.id());
            }
            select! {
                send(sender, indices.to_vec()) -> sent => {
                    if sent.is_err() {
                        return Err(ChildError::new("the batch pool's workers are gone"));
                    }
                }
                recv(context.stop_signal()) -> _ => return Err(ChildError::shutdown()),
            }
            self.queue_high_water
                .fetch_max(sender.len() * FILES_PER_MESSAGE, Ordering::Relaxed);
        }
        Ok(())
    }

    fn slot(&self, index: usize) -> std::sync::MutexGuard<'_, Option<FileRecord>> {
        self.results[index]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_done(&self, index: usize) -> bool {
        self.slot(index).is_some()
    }

    fn process(&self, index: usize) {
        if self.is_done(index) {
            return; // already done by a worker of an earlier, crashed processor
        }
        let record = pipeline::process(&self.entries[index], &self.options);
        let first = {
            let mut slot = self.slot(index);
            let first = slot.is_none();
            if first {
                *slot = Some(record);
            }
            first
        };
        if first {
            (self.on_file_done)();
            let done = self.completed.fetch_add(1, Ordering::AcqRel) + 1;
            if done == self.entries.len() {
                let (lock, condvar) = &self.finished;
                *lock
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
                condvar.notify_all();
            }
        }
    }

    /// Waits up to `timeout` for every file to have a result.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let (lock, condvar) = &self.finished;
        let guard = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (guard, _) = condvar
            .wait_timeout_while(guard, timeout, |finished| !*finished)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard
    }

    pub(crate) fn queue_stats(&self) -> (usize, usize) {
        (
            self.queue_capacity.load(Ordering::Relaxed),
            self.queue_high_water.load(Ordering::Relaxed),
        )
    }

    /// The records in discovery (path) order. Call once the job is finished.
    pub(crate) fn take_records(&self) -> Vec<FileRecord> {
        (0..self.entries.len())
            .map(|index| {
                let entry = &self.entries[index];
                self.slot(index).take().unwrap_or_else(|| {
                    FileRecord::unparsed(
                        entry.path.clone(),
                        crate::report::Status::Skipped,
                        crate::report::Reason::Interrupted,
                        Some("not analysed: the run ended first".into()),
                    )
                })
            })
            .collect()
    }
}
