//! The circuit breaker of design §8.2: stop calling something that keeps failing, and try it
//! again after a while, on the tree's injectable clock.
//!
//! Closed → (N consecutive failures) → Open → (recovery timeout) → HalfOpen → one trial call:
//! success closes the circuit, failure opens it again for another recovery timeout.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::Duration;

use super::clock::SharedClock;
use super::{lock, panic_message};

/// The design's `@failure_threshold` and `@recovery_timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BreakerConfig {
    /// Consecutive failures that open the circuit.
    pub(crate) failure_threshold: u32,
    /// How long the circuit stays open before one trial call is let through.
    pub(crate) recovery_timeout: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            recovery_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BreakerState {
    /// Calls go through; failures are counted.
    Closed,
    /// Calls are refused without running.
    Open,
    /// The recovery timeout has passed: the next call is a trial.
    HalfOpen,
}

/// Why [`CircuitBreaker::call`] did not return a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BreakerError<E> {
    /// The circuit is open (or a half-open trial is already under way): nothing was called.
    Open,
    /// The call ran and failed; counted as a failure.
    Failed(E),
    /// The call panicked; the panic was caught and counted as a failure.
    Panicked(String),
}

impl<E: fmt::Display> fmt::Display for BreakerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open => f.write_str("circuit open: the call was not attempted; retry later"),
            Self::Failed(error) => error.fmt(f),
            Self::Panicked(message) => write!(f, "the call panicked: {message}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for BreakerError<E> {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed { consecutive_failures: u32 },
    Open { since: Duration },
    HalfOpen { trial_in_flight: bool },
}

/// A thread-safe circuit breaker; share it with `Arc`.
#[derive(Debug)]
pub(crate) struct CircuitBreaker {
    name: String,
    config: BreakerConfig,
    clock: SharedClock,
    phase: Mutex<Phase>,
}

impl CircuitBreaker {
    pub(crate) fn new(name: impl Into<String>, config: BreakerConfig, clock: SharedClock) -> Self {
        Self {
            name: name.into(),
            config,
            clock,
            phase: Mutex::new(Phase::Closed {
                consecutive_failures: 0,
            }),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The current state; an open circuit whose recovery timeout has passed reads as half-open.
    pub(crate) fn state(&self) -> BreakerState {
        let mut phase = lock(&self.phase);
        self.refresh(&mut phase);
        match *phase {
            Phase::Closed { .. } => BreakerState::Closed,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Runs `call` if the circuit allows it and records the outcome (design §8.2's `call/2`).
    /// In half-open state only one trial runs at a time; concurrent callers get `Open`.
    pub(crate) fn call<T, E>(
        &self,
        call: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, BreakerError<E>> {
        if !self.try_acquire() {
            return Err(BreakerError::Open);
        }
        match catch_unwind(AssertUnwindSafe(call)) {
            Ok(Ok(value)) => {
                self.record_success();
                Ok(value)
            }
            Ok(Err(error)) => {
                self.record_failure();
                Err(BreakerError::Failed(error))
            }
            Err(payload) => {
                self.record_failure();
                Err(BreakerError::Panicked(panic_message(&*payload)))
            }
        }
    }

    /// For callers that run the protected operation themselves: `true` if it may run now.
    /// A `true` in half-open state claims the single trial; report its outcome with
    /// [`Self::record_success`] or [`Self::record_failure`].
    pub(crate) fn try_acquire(&self) -> bool {
        let mut phase = lock(&self.phase);
        self.refresh(&mut phase);
        match *phase {
            Phase::Closed { .. } => true,
            Phase::Open { .. }
            | Phase::HalfOpen {
                trial_in_flight: true,
            } => false,
            Phase::HalfOpen {
                trial_in_flight: false,
            } => {
                *phase = Phase::HalfOpen {
                    trial_in_flight: true,
                };
                true
            }
        }
    }

    /// A success closes a half-open circuit and resets the failure count of a closed one. A
    /// late success arriving while open changes nothing: the trial decides.
    pub(crate) fn record_success(&self) {
        let mut phase = lock(&self.phase);
        if !matches!(*phase, Phase::Open { .. }) {
            *phase = Phase::Closed {
                consecutive_failures: 0,
            };
        }
    }

    /// A failure counts towards the threshold when closed, and reopens a half-open circuit for
    /// a whole new recovery timeout.
    pub(crate) fn record_failure(&self) {
        let now = self.clock.now();
        let mut phase = lock(&self.phase);
        *phase = match *phase {
            Phase::Closed {
                consecutive_failures,
            } => {
                let consecutive_failures = consecutive_failures.saturating_add(1);
                if consecutive_failures >= self.config.failure_threshold {
                    Phase::Open { since: now }
                } else {
                    Phase::Closed {
                        consecutive_failures,
                    }
                }
            }
            Phase::HalfOpen { .. } => Phase::Open { since: now },
            open @ Phase::Open { .. } => open,
        };
    }

    fn refresh(&self, phase: &mut Phase) {
        if let Phase::Open { since } = *phase {
            if self.clock.now().saturating_sub(since) >= self.config.recovery_timeout {
                *phase = Phase::HalfOpen {
                    trial_in_flight: false,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::clock::ManualClock;
    use std::sync::Arc;

    fn breaker(threshold: u32, recovery: Duration) -> (Arc<ManualClock>, CircuitBreaker) {
        let clock = Arc::new(ManualClock::new());
        let config = BreakerConfig {
            failure_threshold: threshold,
            recovery_timeout: recovery,
        };
        let breaker = CircuitBreaker::new("test", config, clock.clone());
        (clock, breaker)
    }

    fn fail(breaker: &CircuitBreaker) -> Result<(), BreakerError<&'static str>> {
        breaker.call(|| Err::<(), _>("boom"))
    }

    fn succeed(breaker: &CircuitBreaker) -> Result<u32, BreakerError<&'static str>> {
        breaker.call(|| Ok(7))
    }

    #[test]
    fn defaults_follow_the_design() {
        let config = BreakerConfig::default();
        assert_eq!(config.failure_threshold, 5);
        assert_eq!(config.recovery_timeout, Duration::from_secs(30));
    }

    #[test]
    fn closed_passes_calls_through() {
        let (_, breaker) = breaker(5, Duration::from_secs(30));
        assert_eq!(breaker.name(), "test");
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(succeed(&breaker), Ok(7));
        assert_eq!(fail(&breaker), Err(BreakerError::Failed("boom")));
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[test]
    fn closed_opens_after_threshold_consecutive_failures() {
        let (_, breaker) = breaker(5, Duration::from_secs(30));
        for _ in 0..4 {
            let _ = fail(&breaker);
            assert_eq!(breaker.state(), BreakerState::Closed);
        }
        let _ = fail(&breaker);
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let (_, breaker) = breaker(3, Duration::from_secs(30));
        let _ = fail(&breaker);
        let _ = fail(&breaker);
        assert_eq!(succeed(&breaker), Ok(7));
        let _ = fail(&breaker);
        let _ = fail(&breaker);
        assert_eq!(breaker.state(), BreakerState::Closed);
        let _ = fail(&breaker);
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[test]
    fn open_refuses_calls_without_running_them() {
        let (_, breaker) = breaker(1, Duration::from_secs(30));
        let _ = fail(&breaker);
        let mut ran = false;
        let result: Result<(), BreakerError<&str>> = breaker.call(|| {
            ran = true;
            Ok(())
        });
        assert_eq!(result, Err(BreakerError::Open));
        assert!(!ran);
    }

    #[test]
    fn open_becomes_half_open_exactly_at_the_recovery_timeout() {
        let (clock, breaker) = breaker(1, Duration::from_secs(30));
        let _ = fail(&breaker);
        clock.advance(Duration::from_secs(30) - Duration::from_millis(1));
        assert_eq!(breaker.state(), BreakerState::Open);
        clock.advance(Duration::from_millis(1));
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
    }

    #[test]
    fn half_open_closes_after_a_successful_trial() {
        let (clock, breaker) = breaker(2, Duration::from_secs(30));
        let _ = fail(&breaker);
        let _ = fail(&breaker);
        clock.advance(Duration::from_secs(30));
        assert_eq!(succeed(&breaker), Ok(7));
        assert_eq!(breaker.state(), BreakerState::Closed);
        // The failure count starts from zero again.
        let _ = fail(&breaker);
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[test]
    fn half_open_reopens_after_a_failed_trial_for_a_full_timeout() {
        let (clock, breaker) = breaker(1, Duration::from_secs(30));
        let _ = fail(&breaker);
        clock.advance(Duration::from_secs(30));
        assert_eq!(fail(&breaker), Err(BreakerError::Failed("boom")));
        assert_eq!(breaker.state(), BreakerState::Open);
        clock.advance(Duration::from_secs(29));
        assert_eq!(breaker.state(), BreakerState::Open);
        clock.advance(Duration::from_secs(1));
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
    }

    #[test]
    fn half_open_lets_one_trial_through_at_a_time() {
        let (clock, breaker) = breaker(1, Duration::from_secs(30));
        let _ = fail(&breaker);
        clock.advance(Duration::from_secs(30));
        assert!(breaker.try_acquire());
        assert!(!breaker.try_acquire());
        assert_eq!(succeed(&breaker), Err(BreakerError::Open));
        breaker.record_success();
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert!(breaker.try_acquire());
    }

    #[test]
    fn a_late_success_does_not_close_an_open_circuit() {
        let (_, breaker) = breaker(1, Duration::from_secs(30));
        assert!(breaker.try_acquire());
        let _ = fail(&breaker);
        breaker.record_success();
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[test]
    fn a_panicking_call_counts_as_a_failure_and_does_not_escape() {
        let (_, breaker) = breaker(1, Duration::from_secs(30));
        let result: Result<(), BreakerError<&str>> = breaker.call(|| panic!("exploded"));
        assert_eq!(result, Err(BreakerError::Panicked("exploded".to_owned())));
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[test]
    fn shared_across_threads_with_a_shared_clock() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<CircuitBreaker>();

        let (clock, breaker) = breaker(8, Duration::from_secs(30));
        let breaker = Arc::new(breaker);
        let failing: Vec<_> = (0..4)
            .map(|_| {
                let breaker = Arc::clone(&breaker);
                std::thread::spawn(move || {
                    let _ = fail(&breaker);
                    let _ = fail(&breaker);
                })
            })
            .collect();
        for thread in failing {
            thread.join().expect("failing thread");
        }
        assert_eq!(breaker.state(), BreakerState::Open);
        clock.advance(Duration::from_secs(30));
        let other = Arc::clone(&breaker);
        let trial = std::thread::spawn(move || other.state());
        assert_eq!(trial.join().expect("observer"), BreakerState::HalfOpen);
        assert_eq!(succeed(&breaker), Ok(7));
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
}
