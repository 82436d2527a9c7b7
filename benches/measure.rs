//! Runs one child process and measures it with `wait4`: wall time, CPU time, peak RSS.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

pub(crate) struct Measured {
    pub(crate) wall: Duration,
    /// User + system time of the child (and of any children it waited for).
    pub(crate) cpu: Duration,
    /// `ru_maxrss`: KiB on Linux.
    pub(crate) max_rss_kib: u64,
    /// The child's stdout when captured, else empty.
    pub(crate) stdout: String,
}

/// Spawns `cmd`, waits for it with `wait4` and fails unless it exits with status 0.
///
/// Linux carries the RSS high-water mark across `exec` (`exec_mmap` folds the old mm's peak into
/// the process's `maxrss`), so a child's `ru_maxrss` is at least what this process had resident
/// when it forked. The harness therefore never holds the corpus in memory.
pub(crate) fn run(cmd: &mut Command, capture_stdout: bool) -> Result<Measured> {
    cmd.stdin(Stdio::null());
    if capture_stdout {
        cmd.stdout(Stdio::piped());
    }
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let pid = child.id() as libc::pid_t;
    let mut stdout = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_string(&mut stdout)
            .context("reading the child's stdout")?;
    }
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value that wait4 overwrites.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not yet reaped (std's `Child` is never waited on);
        // both out-pointers are valid for the duration of the call.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).context("wait4");
        }
    }
    let wall = start.elapsed();
    drop(child);
    if libc::WIFSIGNALED(status) {
        bail!(
            "{:?} was killed by signal {}",
            cmd.get_program(),
            libc::WTERMSIG(status)
        );
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!(
            "{:?} exited with status {}",
            cmd.get_program(),
            libc::WEXITSTATUS(status)
        );
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(Measured {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss as u64,
        stdout,
    })
}

/// Peak RSS of this process so far, KiB.
pub(crate) fn self_max_rss_kib() -> u64 {
    // SAFETY: as above; getrusage only writes into `usage`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid out-pointer.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
        usage.ru_maxrss as u64
    } else {
        0
    }
}

/// Median of a non-empty slice (mean of the middle two for an even count).
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}
