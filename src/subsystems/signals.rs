//! SIGINT and SIGTERM start a graceful stop: work not yet started is listed as `skipped`
//! (reason `interrupted`), a parse in progress is cancelled through its progress callback, the
//! report is still written, and the exit code says which signal it was (130/143). A second
//! signal ends the process at once, as users expect of a second Ctrl-C.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

use crate::exit;
use crate::otp::cancel::CancelToken;

struct Flags {
    any: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

static FLAGS: OnceLock<Flags> = OnceLock::new();

/// Installs the handlers once. Only the signal-safe flag stores of signal-hook run in them.
pub(crate) fn install() -> std::io::Result<()> {
    if FLAGS.get().is_some() {
        return Ok(());
    }
    let flags = Flags {
        any: Arc::new(AtomicBool::new(false)),
        which: Arc::new(AtomicUsize::new(0)),
    };
    for signal in [SIGINT, SIGTERM] {
        let code = if signal == SIGINT {
            exit::INTERRUPTED
        } else {
            exit::TERMINATED
        };
        // The second signal: exit now. Registered first, so it sees the flag before the store.
        flag::register_conditional_shutdown(signal, i32::from(code), Arc::clone(&flags.any))?;
        flag::register_usize(signal, Arc::clone(&flags.which), signal as usize)?;
        flag::register(signal, Arc::clone(&flags.any))?;
    }
    let _ = FLAGS.set(flags);
    Ok(())
}

/// The run's cancellation token: cancelled by the first SIGINT or SIGTERM. Handed to the work
/// that must stop early (a parse in progress), which never imports this module. Before
/// [`install`] it is a token nothing cancels.
pub(crate) fn run_token() -> CancelToken {
    FLAGS.get().map_or_else(CancelToken::new, |flags| {
        CancelToken::from_flag(Arc::clone(&flags.any))
    })
}

/// Whether a stop was requested; cheap enough to ask before every file and in parse callbacks.
pub(crate) fn stop_requested() -> bool {
    FLAGS
        .get()
        .is_some_and(|flags| flags.any.load(Ordering::Relaxed))
}

/// The exit code owed to the signal received, if any.
pub(crate) fn exit_code() -> Option<u8> {
    let flags = FLAGS.get()?;
    if !flags.any.load(Ordering::Relaxed) {
        return None;
    }
    Some(match flags.which.load(Ordering::Relaxed) as i32 {
        SIGTERM => exit::TERMINATED,
        _ => exit::INTERRUPTED,
    })
}
