//! The design's Parsing.BatchProcessor: feeds one batch of files through a bounded queue to the
//! workers of the batch pool. Every file is one unit of work under catch_unwind
//! (`parser::process`), never a process of its own. The queue is bounded, so a full queue
//! makes the producer wait: in a batch run nothing is refused or dropped.
//!
//! The job's progress lives in the job, not in the processor: a processor that crashes and is
//! restarted resumes with the files that have no result yet, so the run's results are
//! identical to a run without the crash.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crossbeam_channel::select;

use crate::discover::Entry;
use crate::faults;
use crate::index::spill::SpillStore;
use crate::model::FileRecord;
use crate::otp::{ChildContext, ChildError};
use crate::project::enhanced::keep_module_table;
use crate::subsystems::parsing::parser::{self, FileOptions};
use crate::subsystems::repository::memory_manager::{MemoryManager, Spill};

/// Reduces a record to what a command still reads of it; `true` when something went.
pub(crate) type Keep = fn(&mut FileRecord) -> bool;

/// Where a batch's records go once spilling.
pub(crate) enum SpillTo {
    /// Reduced in place to what the command's report reads (`analyze`: outcome and
    /// findings; the rest is in the index when the run has one, and read by nothing else).
    Reduce(Keep),
    /// Stored whole in the spill database; the module table stays for the project phase,
    /// which reads each whole again to resolve it, and the report reads them back (`parse`).
    Store(Arc<SpillStore>),
}

/// A batch under a memory limit: the MemoryManager, asked after every file, and where the
/// records go under critical pressure.
pub(crate) struct Pressure {
    pub(crate) memory: Arc<MemoryManager>,
    pub(crate) spill: SpillTo,
}

impl Pressure {
    /// Spills the record at `position`; `true` when it was.
    fn spill(&self, position: usize, record: &mut FileRecord) -> bool {
        match &self.spill {
            SpillTo::Reduce(keep) => keep(record),
            SpillTo::Store(store) => store_whole(store, position, record),
        }
    }
}

/// Puts the record at `position` aside whole in `store` and keeps its module table; `true`
/// when it went (not when it was there already, holds no facts, or could not be stored).
pub(crate) fn store_whole(store: &SpillStore, position: usize, record: &mut FileRecord) -> bool {
    if store.holds(position) || (record.modules.is_empty() && record.calls.is_empty()) {
        return false;
    }
    store.put(position, record).is_ok() && {
        keep_module_table(record);
        true
    }
}

/// Queue slots per worker thread: enough to keep workers busy, small enough to bound memory.
const QUEUE_SLOTS_PER_WORKER: usize = 4;

/// The most files one queue message carries. A message is a run of consecutive files whose
/// size shrinks as the batch drains (guided scheduling, see [`message_sizes`]).
const MAX_FILES_PER_MESSAGE: usize = 64;

/// How many files each queue message carries, for `files` files and `workers` workers: a
/// share of what is left (an eighth of a worker's share with 4 slots a worker), between 1 and
/// [`MAX_FILES_PER_MESSAGE`]. Large messages while much is left keep the feeder asleep: it
/// wakes once a message, and on a machine with as many workers as cores each wake-up preempts
/// a worker (4 files a message meant 1,000 wake-ups and 3,600 context switches for 4,000
/// files, ~2% of the parse's wall time). Small ones at the end keep the workers finishing
/// together. The sizes depend only on the counts, never on timing.
fn message_sizes(files: usize, workers: usize) -> Vec<usize> {
    let divisor = workers.max(1) * QUEUE_SLOTS_PER_WORKER * 2;
    let mut sizes = Vec::new();
    let mut left = files;
    while left > 0 {
        let size = left.div_ceil(divisor).clamp(1, MAX_FILES_PER_MESSAGE);
        sizes.push(size);
        left -= size;
    }
    sizes
}

/// The files waiting in the queue when `in_queue` messages are in it and `recent` holds the
/// sizes of the last messages sent, oldest first: the last `in_queue` of them.
fn waiting_files(recent: &VecDeque<usize>, in_queue: usize) -> usize {
    recent.iter().rev().take(in_queue).sum()
}

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
    pressure: Option<Pressure>,
    /// Held by the file in flight while the batch is narrowed.
    narrow: Mutex<()>,
}

impl BatchJob {
    pub(crate) fn new(
        entries: Vec<Entry>,
        options: FileOptions,
        on_file_done: Box<dyn Fn() + Send + Sync>,
        pressure: Option<Pressure>,
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
            pressure,
            narrow: Mutex::new(()),
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
            .store(capacity * MAX_FILES_PER_MESSAGE, Ordering::Relaxed);
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
        // The sizes of the last `capacity` messages sent: the queue is FIFO, so the messages
        // in it are the last ones sent, and its depth in files follows from its length.
        let mut recent: VecDeque<usize> = VecDeque::with_capacity(capacity + 1);
        drop(receiver);
        let pending: Vec<usize> = (0..self.entries.len())
            .filter(|&i| !self.is_done(i))
            .collect();
        let sizes = message_sizes(pending.len(), workers);
        let halfway = sizes.len() / 2;
        let mut rest = pending.as_slice();
        for (position, size) in sizes.into_iter().enumerate() {
            if position == halfway {
                // `service:batch_processor:crash` crashes here, mid-batch, to prove resumption.
                faults::crash_service_once(context.id());
            }
            let (indices, after) = rest.split_at(size);
            rest = after;
            select! {
                send(sender, indices.to_vec()) -> sent => {
                    if sent.is_err() {
                        return Err(ChildError::new("the batch pool's workers are gone"));
                    }
                }
                recv(context.stop_signal()) -> _ => return Err(ChildError::shutdown()),
            }
            recent.push_back(size);
            if recent.len() > capacity {
                recent.pop_front();
            }
            self.queue_high_water
                .fetch_max(waiting_files(&recent, sender.len()), Ordering::Relaxed);
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
        let record = match &self.pressure {
            None => parser::process(&self.entries[index], &self.options),
            Some(pressure) => self.process_under(pressure, index),
        };
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

    /// [`parser::process`] under a memory limit: once degraded (critical), one file at a time
    /// and the record in its spilled form; none past a limit that cannot be met.
    fn process_under(&self, pressure: &Pressure, index: usize) -> FileRecord {
        let memory = &pressure.memory;
        let entry = &self.entries[index];
        if memory.exceeded().is_some() {
            return FileRecord::unparsed(
                entry.path.clone(),
                crate::model::Status::Skipped,
                crate::model::Reason::Interrupted,
                Some("not analysed: the memory limit cannot be met".into()),
            );
        }
        let gate = memory.degraded().then(|| {
            self.narrow
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        });
        let mut record = parser::process(entry, &self.options);
        drop(gate);
        // Asked again: pressure may have turned critical while the file was parsed.
        if memory.degraded() && pressure.spill(index, &mut record) {
            memory.note_spilled(1);
        }
        memory.check();
        record
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
                        crate::model::Status::Skipped,
                        crate::model::Reason::Interrupted,
                        Some("not analysed: the run ended first".into()),
                    )
                })
            })
            .collect()
    }
}

impl Spill for BatchJob {
    /// Reduces every record held so far to what the report reads.
    fn spill(&self) -> u64 {
        let Some(pressure) = &self.pressure else {
            return 0;
        };
        let mut spilled = 0;
        for index in 0..self.results.len() {
            if let Some(record) = self.slot(index).as_mut() {
                if pressure.spill(index, record) {
                    spilled += 1;
                }
            }
        }
        spilled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_sizes_cover_every_file_and_shrink_towards_the_end() {
        for (files, workers) in [(0, 2), (1, 1), (7, 4), (4000, 2), (4000, 16), (100_000, 2)] {
            let sizes = message_sizes(files, workers);
            assert_eq!(
                sizes.iter().sum::<usize>(),
                files,
                "{files} files, {workers} workers"
            );
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
            assert!(sizes
                .iter()
                .all(|&s| (1..=MAX_FILES_PER_MESSAGE).contains(&s)));
            if files > 0 {
                // The last messages are single files, so the workers finish together.
                assert_eq!(sizes.last(), Some(&1));
            }
        }
        // 4,000 files on 2 workers: about 130 messages, not 1,000.
        let sizes = message_sizes(4000, 2);
        assert!((100..200).contains(&sizes.len()), "{}", sizes.len());
        assert_eq!(sizes[0], MAX_FILES_PER_MESSAGE);
    }

    #[test]
    fn the_queue_depth_counts_the_files_of_the_messages_in_it() {
        let recent: VecDeque<usize> = [64, 64, 30, 20].into_iter().collect();
        assert_eq!(waiting_files(&recent, 0), 0);
        assert_eq!(waiting_files(&recent, 2), 50);
        assert_eq!(waiting_files(&recent, 4), 178);
        // Never more than the messages remembered.
        assert_eq!(waiting_files(&recent, 9), 178);
    }
}
