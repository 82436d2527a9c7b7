use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit;

pub(crate) fn run(args: &CompletionsArgs) -> anyhow::Result<u8> {
    let mut command = Cli::command();
    let mut out = crate::commands::output::stdout();
    clap_complete::generate(args.shell, &mut command, "elixirscope", &mut out);
    out.flush()?;
    Ok(exit::SUCCESS)
}
