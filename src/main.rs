//! elixirscope: a fast, fault-tolerant static analyzer for Elixir codebases.
//!
//! The data flows discover → parse/extract → repository → report; see the folder names.

mod cli;
mod commands;
mod discover;
mod exit;
mod extract;
mod pipeline;
mod report;
mod repository;
mod runtime;
mod runtime_support;
mod syntax;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Parse(args) => commands::parse::run(args),
        Command::Completions(args) => commands::completions::run(args),
    };
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

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
