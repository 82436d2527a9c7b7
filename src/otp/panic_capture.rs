//! A panic hook that records instead of printing: a panic while handling one file becomes that
//! file's `failed` status with the message and location; a panic in a supervised service
//! becomes its exit reason in the report's `runtime.supervision`. The user's terminal is not
//! flooded with backtraces; `main` prints a panic that escapes everything as one line.

use std::any::Any;
use std::cell::RefCell;
use std::panic::PanicHookInfo;
use std::sync::{Mutex, Once};

thread_local! {
    /// Whether this thread is inside a capturing scope.
    static CAPTURING: RefCell<bool> = const { RefCell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();
/// The last panic outside a capturing scope (a service thread, or `main` itself).
static LAST_UNCAPTURED: Mutex<Option<String>> = Mutex::new(None);

pub(crate) fn install() {
    INSTALL.call_once(|| {
        std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            let message = describe(info);
            let captured = CAPTURING.with(|current| *current.borrow());
            if captured {
                LAST_PANIC.with(|last| *last.borrow_mut() = Some(message));
            } else {
                *LAST_UNCAPTURED
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(message);
            }
        }));
    });
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let message = payload_message(info.payload());
    match info.location() {
        Some(location) => format!(
            "panic at {}:{}: {message}",
            location.file(),
            location.line()
        ),
        None => format!("panic: {message}"),
    }
}

/// Runs `work` (which must not unwind: wrap it in catch_unwind) with panics recorded rather
/// than printed.
pub(crate) fn capturing<T>(work: impl FnOnce() -> T) -> T {
    CAPTURING.with(|current| *current.borrow_mut() = true);
    let result = work();
    CAPTURING.with(|current| *current.borrow_mut() = false);
    result
}

/// The message and location of the last panic recorded on this thread.
pub(crate) fn take_last() -> Option<String> {
    LAST_PANIC.with(|last| last.borrow_mut().take())
}

/// The last panic recorded outside a capturing scope, for `main`'s one-line error.
pub(crate) fn last_uncaptured() -> Option<String> {
    LAST_UNCAPTURED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

pub(crate) fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}
