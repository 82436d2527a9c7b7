//! elixirscope: a fast, fault-tolerant static analyzer for Elixir codebases.
//!
//! The data flows discover → parse/extract → project phase → rules → report, carried by the
//! supervised subsystems of the design; see the folder names and `tests/architecture.rs`.

// Bottom to top (`tests/architecture.rs` holds this order): a module imports only modules
// listed before it.
mod cli;
mod commands;
mod discover;
mod exit;
mod extract;
mod faults;
mod graph;
mod index;
mod model;
mod otp;
mod project;
mod query;
mod report;
mod rules;
mod subsystems;
mod syntax;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// The system allocator, counting the live heap for the MemoryManager.
#[global_allocator]
static ALLOCATOR: subsystems::repository::memory_manager::allocator::Counting =
    subsystems::repository::memory_manager::allocator::Counting;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A panic that escapes every per-file and per-service boundary is a bug: report it in one
    // line and exit as a fatal error, never as an abort.
    let result = std::panic::catch_unwind(|| {
        setup().and_then(|()| match &cli.command {
            Command::Parse(args) => commands::parse::run(args),
            Command::Analyze(args) => commands::analyze::run(args),
            Command::Rules(args) => commands::rules::run(args),
            Command::Runtime(args) => commands::runtime::run(args),
            Command::Cache(args) => commands::cache::run(args),
            Command::Query(args) => commands::query::run(args),
            Command::Watch(args) => commands::watch::run(args),
            Command::Completions(args) => commands::completions::run(args),
        })
    })
    .unwrap_or_else(|payload| {
        let message = otp::panic_capture::last_uncaptured()
            .unwrap_or_else(|| otp::panic_capture::payload_message(payload.as_ref()));
        Err(anyhow::anyhow!(
            "internal error (please report it): {message}"
        ))
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                // The reader went away (`| head`): not an error worth a message.
                return ExitCode::from(exit::SUCCESS);
            }
            eprintln!("elixirscope: error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(exit::USAGE_OR_FATAL)
        }
    }
}

/// What every subcommand runs under: recorded (not printed) panics, the fault-injection
/// switches, and graceful SIGINT/SIGTERM handling.
fn setup() -> anyhow::Result<()> {
    otp::panic_capture::install();
    faults::init().map_err(anyhow::Error::msg)?;
    subsystems::signals::install()
        .map_err(|err| anyhow::anyhow!("cannot install the signal handlers: {err}"))?;
    Ok(())
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
