//! Cooperative cancellation: Rust cannot pre-empt a thread, so long work checks a token it is
//! handed. A [`CancelToken`] is set once (by a signal handler, a supervisor, a caller giving
//! up) and read by anyone holding a clone; a [`Deadline`] adds a point in time to a token, for
//! work with a budget of its own (one file's parse). Lower layers receive these values; they
//! never ask the runtime whether to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A flag shared by everyone who may stop a piece of work and everyone doing it.
#[derive(Debug, Clone, Default)]
pub(crate) struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub(crate) fn new() -> CancelToken {
        CancelToken::default()
    }

    /// A token over an existing flag (one that signal-hook's handlers set, say).
    pub(crate) fn from_flag(flag: Arc<AtomicBool>) -> CancelToken {
        CancelToken(flag)
    }

    pub(crate) fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Cheap enough to ask between nodes of a walk.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Stop at a point in time, or when a token is cancelled, whichever comes first.
#[derive(Debug, Clone)]
pub(crate) struct Deadline {
    at: Option<Instant>,
    token: CancelToken,
}

impl Deadline {
    /// `timeout` from now, or earlier if `token` is cancelled.
    pub(crate) fn after(timeout: Duration, token: CancelToken) -> Deadline {
        Deadline {
            at: Instant::now().checked_add(timeout),
            token,
        }
    }

    /// A deadline nothing ends but `token`.
    pub(crate) fn never(token: CancelToken) -> Deadline {
        Deadline { at: None, token }
    }

    /// Whether the work should stop now.
    pub(crate) fn expired(&self) -> bool {
        self.token.is_cancelled() || self.at.is_some_and(|at| Instant::now() >= at)
    }

    /// [`Deadline::expired`] with a clock reading the caller already has.
    pub(crate) fn expired_at(&self, now: Instant) -> bool {
        self.token.is_cancelled() || self.at.is_some_and(|at| now >= at)
    }

    /// Whether it was the token, not the time, that ended the work.
    pub(crate) fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// The work stopped because its [`Deadline`] expired; what it produced is incomplete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expired;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_expires_by_time_or_by_its_token() {
        let token = CancelToken::new();
        let long = Deadline::after(Duration::from_secs(3600), token.clone());
        assert!(!long.expired());
        token.cancel();
        assert!(long.expired());
        let past = Deadline::after(Duration::ZERO, CancelToken::new());
        assert!(past.expired());
        let endless = Deadline::after(Duration::MAX, CancelToken::new());
        assert!(!endless.expired());
    }
}
