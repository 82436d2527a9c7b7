//! The injectable time source behind restart intensity, the circuit breaker and event timestamps.
//!
//! OTP's supervisor reads `erlang:monotonic_time(1)` when it records a restart; here that reading
//! comes from a [`Clock`] so tests can move time with a [`ManualClock`] instead of sleeping.
//! Blocking waits (shutdown timeouts) still use real time: a thread cannot be woken by a fake clock.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::lock;

/// A monotonic time source: readings never go backwards and are durations since the clock's
/// own origin, so only differences between readings of one clock are meaningful.
pub(crate) trait Clock: Send + Sync + fmt::Debug {
    /// Time elapsed since this clock's origin.
    fn now(&self) -> Duration;
}

/// The clock shared by a supervision tree, its event log and its circuit breakers.
pub(crate) type SharedClock = Arc<dyn Clock>;

/// Real time, from [`Instant`]; the clock of production runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    pub(crate) fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }

    pub(crate) fn shared() -> SharedClock {
        Arc::new(Self::new())
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that only moves when told to, so restart windows and breaker timeouts are tested
/// exactly, at and just past their limits, without sleeping.
#[derive(Debug, Default)]
pub(crate) struct ManualClock {
    now: Mutex<Duration>,
}

impl ManualClock {
    /// A clock standing at its origin.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Moves time forward; every holder of the clock sees the new time at once.
    pub(crate) fn advance(&self, by: Duration) {
        let mut now = lock(&self.now);
        *now = now.saturating_add(by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *lock(&self.now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::new();
        assert_eq!(clock.now(), Duration::ZERO);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now(), Duration::from_millis(1500));
        assert_eq!(clock.now(), Duration::from_millis(1500));
    }

    #[test]
    fn manual_clock_is_shared_across_threads() {
        let clock = Arc::new(ManualClock::new());
        let shared: SharedClock = clock.clone();
        std::thread::spawn(move || clock.advance(Duration::from_secs(2)))
            .join()
            .expect("advancing thread");
        assert_eq!(shared.now(), Duration::from_secs(2));
    }

    #[test]
    fn monotonic_clock_never_goes_backwards() {
        let clock = MonotonicClock::new();
        let first = clock.now();
        let second = clock.now();
        assert!(second >= first);
    }
}
