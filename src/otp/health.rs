//! Health: each service reports its own state; supervisors aggregate, as the design's
//! `health_check` (§7.1) does with `:healthy` / `:degraded` and per-service detail.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use super::child::{ChildId, ChildKind, ExitReason, RestartType};
use super::lock;
use super::supervisor::{ChildInfo, ChildStatus};

/// What one service says about itself (or what its supervisor says about it when it is not
/// running).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Health {
    #[default]
    Healthy,
    /// Working, with reduced service (e.g. a file watcher fell back to polling).
    Degraded(String),
    /// Not doing its job.
    Unhealthy(String),
}

impl Health {
    pub(crate) fn is_healthy(&self) -> bool {
        matches!(self, Self::Healthy)
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Healthy => f.write_str("healthy"),
            Self::Degraded(reason) => write!(f, "degraded: {reason}"),
            Self::Unhealthy(reason) => write!(f, "unhealthy: {reason}"),
        }
    }
}

/// The latest health a running worker published through its context. A new instance (after a
/// restart) starts healthy.
#[derive(Debug, Default)]
pub(crate) struct HealthCell {
    health: Mutex<Health>,
}

impl HealthCell {
    pub(crate) fn set(&self, health: Health) {
        *lock(&self.health) = health;
    }

    pub(crate) fn get(&self) -> Health {
        lock(&self.health).clone()
    }
}

/// The design's two-valued verdict for a supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HealthStatus {
    /// Every child is running and healthy, recursively.
    Healthy,
    /// At least one child is not.
    Degraded,
}

/// The health of one supervisor and, recursively, of its subtree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HealthReport {
    pub(crate) supervisor: String,
    pub(crate) status: HealthStatus,
    /// Clock reading when the report was assembled.
    pub(crate) checked_at: Duration,
    /// In start order.
    pub(crate) children: Vec<ChildHealth>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChildHealth {
    pub(crate) id: ChildId,
    pub(crate) kind: ChildKind,
    pub(crate) status: ChildStatus,
    pub(crate) health: Health,
    /// For a running child supervisor: its own report.
    pub(crate) subtree: Option<HealthReport>,
}

impl HealthReport {
    /// Children that are not healthy, with their paths, flattened across the subtree.
    pub(crate) fn problems(&self) -> Vec<(String, Health)> {
        let mut problems = Vec::new();
        self.collect_problems(&mut problems);
        problems
    }

    fn collect_problems(&self, problems: &mut Vec<(String, Health)>) {
        for child in &self.children {
            match &child.subtree {
                Some(subtree) => subtree.collect_problems(problems),
                None if !child.health.is_healthy() => problems.push((
                    format!("{}/{}", self.supervisor, child.id),
                    child.health.clone(),
                )),
                None => {}
            }
        }
    }
}

/// The health of a child as its supervisor sees it, before looking into subtrees.
///
/// A child that is not running is unhealthy, except a transient child that finished cleanly
/// (its job is done and OTP would not restart it either).
pub(super) fn child_health(info: &ChildInfo) -> Health {
    match info.status {
        ChildStatus::Running => info.health.clone().unwrap_or_default(),
        ChildStatus::Restarting => Health::Unhealthy(match &info.last_exit {
            Some(reason) => format!("restarting after exit: {reason}"),
            None => "restarting".to_owned(),
        }),
        ChildStatus::Stopped => match &info.last_exit {
            Some(reason) if info.restart == RestartType::Transient && !reason.is_abnormal() => {
                Health::Healthy
            }
            Some(ExitReason::Normal | ExitReason::Shutdown) | None => {
                Health::Unhealthy("not running".to_owned())
            }
            Some(reason) => Health::Unhealthy(format!("not running after exit: {reason}")),
        },
    }
}

/// The health a child supervisor contributes to its parent's report.
pub(super) fn subtree_health(report: &HealthReport) -> Health {
    match report.status {
        HealthStatus::Healthy => Health::Healthy,
        HealthStatus::Degraded => {
            let problems = report.problems();
            Health::Degraded(format!(
                "{} problem(s) in subtree, first: {}",
                problems.len(),
                problems
                    .first()
                    .map(|(path, health)| format!("{path} {health}"))
                    .unwrap_or_else(|| "unknown".to_owned())
            ))
        }
    }
}

pub(super) fn aggregate(
    supervisor: &str,
    checked_at: Duration,
    children: Vec<ChildHealth>,
) -> HealthReport {
    let status = if children.iter().all(|child| child.health.is_healthy()) {
        HealthStatus::Healthy
    } else {
        HealthStatus::Degraded
    };
    HealthReport {
        supervisor: supervisor.to_owned(),
        status,
        checked_at,
        children,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(status: ChildStatus, restart: RestartType, last_exit: Option<ExitReason>) -> ChildInfo {
        ChildInfo {
            id: "child".to_owned(),
            kind: ChildKind::Worker,
            restart,
            status,
            health: None,
            last_exit,
            supervisor: None,
        }
    }

    #[test]
    fn a_running_child_is_as_healthy_as_it_says() {
        let mut running = info(ChildStatus::Running, RestartType::Permanent, None);
        assert_eq!(child_health(&running), Health::Healthy);
        running.health = Some(Health::Degraded("slow".to_owned()));
        assert_eq!(child_health(&running), Health::Degraded("slow".to_owned()));
    }

    #[test]
    fn a_child_that_is_not_running_is_unhealthy_unless_its_job_is_done() {
        let crashed = Some(ExitReason::Error("boom".to_owned()));
        assert_eq!(
            child_health(&info(
                ChildStatus::Restarting,
                RestartType::Permanent,
                crashed.clone()
            )),
            Health::Unhealthy("restarting after exit: error: boom".to_owned())
        );
        assert_eq!(
            child_health(&info(ChildStatus::Stopped, RestartType::Permanent, None)),
            Health::Unhealthy("not running".to_owned())
        );
        assert_eq!(
            child_health(&info(
                ChildStatus::Stopped,
                RestartType::Transient,
                Some(ExitReason::Normal)
            )),
            Health::Healthy
        );
        assert_eq!(
            child_health(&info(ChildStatus::Stopped, RestartType::Transient, crashed)),
            Health::Unhealthy("not running after exit: error: boom".to_owned())
        );
    }

    #[test]
    fn one_unhealthy_child_degrades_the_supervisor() {
        let child = |id: &str, health: Health| ChildHealth {
            id: id.to_owned(),
            kind: ChildKind::Worker,
            status: ChildStatus::Running,
            health,
            subtree: None,
        };
        let healthy = aggregate("root", Duration::ZERO, vec![child("a", Health::Healthy)]);
        assert_eq!(healthy.status, HealthStatus::Healthy);
        assert_eq!(subtree_health(&healthy), Health::Healthy);
        let degraded = aggregate(
            "root",
            Duration::ZERO,
            vec![
                child("a", Health::Healthy),
                child("b", Health::Unhealthy("down".to_owned())),
            ],
        );
        assert_eq!(degraded.status, HealthStatus::Degraded);
        assert_eq!(
            subtree_health(&degraded),
            Health::Degraded("1 problem(s) in subtree, first: root/b unhealthy: down".to_owned())
        );
    }
}
