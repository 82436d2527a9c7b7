// A library: not every part of its API has a caller in the crate yet (the half-open breaker
// and the dynamic pools' inspection calls serve `watch` and `query`).
#![cfg_attr(not(test), allow(dead_code))]
//! The OTP library: `supervisor` semantics on std threads and crossbeam channels.
//!
//! This module knows nothing about Elixir and imports nothing from the rest of the crate
//! (`tests/architecture.rs`), so it could become a crate of its own. It gives the rest of the crate what
//! `../shared/design/SUPERVISION_TREE.md` asks of Erlang/OTP:
//!
//! - [`Supervisor`] / [`SupervisorRef`]: a supervisor runs on its own thread with a message loop
//!   (child exits, queued restarts, inspection calls, a stop signal), with the strategies
//!   [`Strategy::OneForOne`], [`Strategy::RestForOne`] and [`Strategy::OneForAll`], and
//!   [`SupervisorSpec::dynamic`] pools (OTP's `simple_one_for_one`, Elixir's `DynamicSupervisor`).
//! - [`ChildSpec`]: id, start function (called again for every restart), [`RestartType`],
//!   [`Shutdown`], [`ChildKind`]. A child's body receives a [`ChildContext`] whose
//!   [`StopToken`] it waits on without polling.
//! - [`RestartIntensity`]: one sliding window of restarts per supervisor, on an injectable
//!   [`Clock`] so tests advance a [`ManualClock`] instead of sleeping.
//! - [`EventLog`]: started, exited, restarted, escalated, stopped, killed, start failures, in order,
//!   for reports and for tests that wait on outcomes.
//! - [`CircuitBreaker`] (design §8.2) and health aggregation ([`HealthReport`], design §7.1).
//!
//! Building a tree:
//!
//! ```ignore
//! let env = RuntimeEnv::monotonic();
//! let spec = SupervisorSpec::new("root", Strategy::OneForOne)
//!     .restart_intensity(RestartIntensity::ROOT)
//!     .child(ChildSpec::service("parser", |ctx| {
//!         // serve requests until told to stop
//!         ctx.wait_for_stop();
//!         Ok(())
//!     }))
//!     .child(ChildSpec::supervisor("workers", || SupervisorSpec::dynamic("workers")));
//! let root = Supervisor::start(spec, &env)?;
//! let pool = root.child_supervisor("workers")?;
//! pool.start_child(ChildSpec::task("query", |_ctx| Ok(())))?;
//! let health = root.health_check()?;
//! let reason = root.shutdown(); // reverse start order, whole subtree
//! ```

mod breaker;
pub(crate) mod cancel;
mod child;
mod clock;

mod engine;
mod events;
mod health;
mod intensity;
pub(crate) mod panic_capture;
pub(crate) mod store;
mod supervisor;
#[cfg(test)]
mod testkit;

// The module's API, re-exported flat for [2b]; not every item is used by the tests yet.
#[allow(unused_imports)]
pub(crate) use breaker::{BreakerConfig, BreakerError, BreakerState, CircuitBreaker};
#[allow(unused_imports)]
pub(crate) use child::{
    ChildContext, ChildError, ChildId, ChildKind, ChildSpec, ExitReason, RestartType, Shutdown,
    StopNever, StopToken, DEFAULT_WORKER_SHUTDOWN,
};
#[allow(unused_imports)]
pub(crate) use clock::{Clock, ManualClock, MonotonicClock, SharedClock};
#[allow(unused_imports)]
pub(crate) use events::{Event, EventKind, EventLog, DEFAULT_EVENT_CAPACITY};
#[allow(unused_imports)]
pub(crate) use health::{ChildHealth, Health, HealthReport, HealthStatus};
#[allow(unused_imports)]
pub(crate) use intensity::RestartIntensity;
#[allow(unused_imports)]
pub(crate) use supervisor::{
    ChildCounts, ChildInfo, ChildStatus, RuntimeEnv, Strategy, Supervisor, SupervisorError,
    SupervisorRef, SupervisorSpec,
};

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a mutex even if a thread panicked while holding it: every value guarded in this module
/// stays consistent between statements, and a poisoned lock must not turn one child's panic into
/// a panic of the supervisor or of the caller.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The text of a caught panic, for exit reasons and start failures.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
