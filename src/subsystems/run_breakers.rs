//! Circuit breakers for batch runs, deterministic by construction: a protected operation (a
//! rule, from roadmap item [4a]) that fails on 5 or more units of work in the run is disabled,
//! all its results for the run are dropped and it is reported as disabled. The verdict depends
//! only on how many units failed, never on the order threads met them, so it is the same
//! whatever `--jobs` is. Half-open recovery ([`super::CircuitBreaker`]) is for `watch`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::model::{BreakerVerdict, BreakerVerdictState};

/// The design's failure threshold (§8.2).
pub(crate) const DEFAULT_THRESHOLD: u32 = 5;

#[derive(Debug)]
pub(crate) struct RunBreakers {
    threshold: u32,
    failures: Mutex<BTreeMap<String, u32>>,
}

impl Default for RunBreakers {
    fn default() -> Self {
        Self::new(DEFAULT_THRESHOLD)
    }
}

impl RunBreakers {
    pub(crate) fn new(threshold: u32) -> Self {
        RunBreakers {
            threshold: threshold.max(1),
            failures: Mutex::new(BTreeMap::new()),
        }
    }

    /// Registers an operation so it is reported even when it never fails.
    #[cfg_attr(not(test), allow(dead_code))] // reason: rules register themselves from [4a] on
    pub(crate) fn register(&self, operation: &str) {
        self.lock().entry(operation.to_string()).or_insert(0);
    }

    /// Counts one failed unit of work (one file) for `operation`.
    #[cfg_attr(not(test), allow(dead_code))] // reason: rules report failures from [4a] on
    pub(crate) fn record_failure(&self, operation: &str) {
        *self.lock().entry(operation.to_string()).or_insert(0) += 1;
    }

    /// Whether `operation`'s results must be dropped; meaningful once the batch is complete.
    #[cfg_attr(not(test), allow(dead_code))] // reason: consulted when rule results merge, [4a]
    pub(crate) fn is_disabled(&self, operation: &str) -> bool {
        self.lock()
            .get(operation)
            .is_some_and(|&failures| failures >= self.threshold)
    }

    /// Every operation with its count and state, sorted by name.
    pub(crate) fn verdicts(&self) -> Vec<BreakerVerdict> {
        self.lock()
            .iter()
            .map(|(operation, &failures)| BreakerVerdict {
                operation: operation.clone(),
                failures,
                state: if failures >= self.threshold {
                    BreakerVerdictState::Disabled
                } else {
                    BreakerVerdictState::Closed
                },
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u32>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_at_five_failures_whatever_the_order() {
        let breakers = RunBreakers::default();
        breakers.register("quiet-rule");
        std::thread::scope(|scope| {
            for _ in 0..5 {
                scope.spawn(|| breakers.record_failure("flaky-rule"));
            }
            for _ in 0..4 {
                scope.spawn(|| breakers.record_failure("almost-rule"));
            }
        });
        assert!(breakers.is_disabled("flaky-rule"));
        assert!(!breakers.is_disabled("almost-rule"));
        assert!(!breakers.is_disabled("quiet-rule"));
        let states: Vec<(String, u32, BreakerVerdictState)> = breakers
            .verdicts()
            .into_iter()
            .map(|v| (v.operation, v.failures, v.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("almost-rule".into(), 4, BreakerVerdictState::Closed),
                ("flaky-rule".into(), 5, BreakerVerdictState::Disabled),
                ("quiet-rule".into(), 0, BreakerVerdictState::Closed),
            ]
        );
    }
}
