//! Querying.Executor (permanent): the queue of queries and the loop that hands each to the
//! WorkerPool. The queue lives in the host's shared state, so a restarted Executor carries on
//! with the queries waiting.

use std::collections::VecDeque;
use std::sync::Mutex;

use crossbeam_channel::{select, Receiver, Sender};

use crate::otp::{ChildContext, ChildError, Health};

/// A query for the Executor: it runs on the WorkerPool and sends its result back itself.
pub(crate) type QueryJob = Box<dyn FnOnce() + Send>;

/// The Executor's queue and its doorbell.
pub(crate) struct Queue {
    jobs: Mutex<VecDeque<QueryJob>>,
    doorbell: (Sender<()>, Receiver<()>),
}

impl Default for Queue {
    fn default() -> Queue {
        Queue {
            jobs: Mutex::new(VecDeque::new()),
            doorbell: crossbeam_channel::unbounded(),
        }
    }
}

impl Queue {
    pub(crate) fn push(&self, job: QueryJob) {
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(job);
        let _ = self.doorbell.0.send(());
    }

    fn pop(&self) -> Option<QueryJob> {
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }
}

/// The Executor's body: each query from the queue goes to a worker of `pool` (a Query.Worker,
/// temporary), until the supervisor stops the Executor.
pub(crate) fn serve(
    queue: &Queue,
    pool: &rayon::ThreadPool,
    context: &ChildContext,
) -> Result<(), ChildError> {
    context.report_health(Health::Healthy);
    loop {
        match queue.pop() {
            Some(job) => pool.spawn(job),
            None => select! {
                recv(queue.doorbell.1) -> _ => {}
                recv(context.stop_signal()) -> _ => return Ok(()),
            },
        }
    }
}
