//! Restart intensity: how many restarts a supervisor tolerates before it gives up.

use std::collections::VecDeque;
use std::time::Duration;

/// At most `max_restarts` restarts within `within`; one more and the supervisor stops its
/// children and exits with `shutdown`, escalating to its parent (OTP's `intensity`/`period`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RestartIntensity {
    pub(crate) max_restarts: u32,
    pub(crate) within: Duration,
}

impl RestartIntensity {
    /// The root supervisor: conservative, a failing subsystem soon takes the run down
    /// (design §5.2, `@root_restart_intensity`).
    pub(crate) const ROOT: Self = Self::new(3, Duration::from_secs(10));
    /// Service supervisors: moderate tolerance (design §5.2, `@service_restart_intensity`).
    pub(crate) const SERVICES: Self = Self::new(5, Duration::from_secs(10));
    /// Worker pools: many short-lived workers, higher tolerance (design §5.2,
    /// `@worker_pool_intensity`).
    pub(crate) const POOLS: Self = Self::new(10, Duration::from_secs(5));

    pub(crate) const fn new(max_restarts: u32, within: Duration) -> Self {
        Self {
            max_restarts,
            within,
        }
    }
}

/// The restart timestamps of one supervisor, shared by all its children (OTP keeps one
/// `restarts` list per supervisor, not one per child).
#[derive(Debug)]
pub(crate) struct RestartWindow {
    intensity: RestartIntensity,
    /// Oldest first.
    restarts: VecDeque<Duration>,
}

impl RestartWindow {
    pub(crate) fn new(intensity: RestartIntensity) -> Self {
        Self {
            intensity,
            restarts: VecDeque::new(),
        }
    }

    pub(crate) fn intensity(&self) -> RestartIntensity {
        self.intensity
    }

    /// Records a restart (or a restart attempt: OTP counts failed attempts too) at `now` and
    /// says whether it is allowed. As in OTP's `add_restart/3`, a restart exactly `within` old
    /// still counts: the window is `[now - within, now]`.
    pub(crate) fn record_restart(&mut self, now: Duration) -> bool {
        if let Some(threshold) = now.checked_sub(self.intensity.within) {
            while self.restarts.front().is_some_and(|&at| at < threshold) {
                self.restarts.pop_front();
            }
        }
        self.restarts.push_back(now);
        self.restarts.len() <= self.intensity.max_restarts as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    #[test]
    fn restarts_up_to_the_limit_are_allowed_and_one_more_is_not() {
        let mut window = RestartWindow::new(RestartIntensity::new(3, secs(10)));
        assert!(window.record_restart(secs(0)));
        assert!(window.record_restart(secs(1)));
        assert!(window.record_restart(secs(2)));
        assert!(!window.record_restart(secs(3)));
    }

    #[test]
    fn zero_intensity_forbids_the_first_restart() {
        let mut window = RestartWindow::new(RestartIntensity::new(0, secs(10)));
        assert!(!window.record_restart(secs(0)));
    }

    #[test]
    fn a_restart_exactly_one_window_old_still_counts() {
        let mut window = RestartWindow::new(RestartIntensity::new(1, secs(10)));
        assert!(window.record_restart(secs(0)));
        assert!(!window.record_restart(secs(10)));
    }

    #[test]
    fn restarts_older_than_the_window_slide_out() {
        let mut window = RestartWindow::new(RestartIntensity::new(1, secs(10)));
        assert!(window.record_restart(secs(0)));
        assert!(window.record_restart(secs(10) + Duration::from_millis(1)));
        assert!(window.record_restart(secs(21)));
        assert!(!window.record_restart(secs(22)));
    }

    #[test]
    fn design_defaults() {
        assert_eq!(RestartIntensity::ROOT, RestartIntensity::new(3, secs(10)));
        assert_eq!(
            RestartIntensity::SERVICES,
            RestartIntensity::new(5, secs(10))
        );
        assert_eq!(RestartIntensity::POOLS, RestartIntensity::new(10, secs(5)));
    }
}
