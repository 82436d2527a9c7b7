//! Exit codes: one documented table (`cli::EXIT_CODES_HELP`, the man pages and the README).
//! The first that applies wins, in the order below.

/// Usage, configuration or fatal error. clap uses 2 for usage errors too.
pub(crate) const USAGE_OR_FATAL: u8 = 2;
/// Interrupted by SIGINT (128 + 2), the shell convention.
pub(crate) const INTERRUPTED: u8 = 130;
/// Terminated by SIGTERM (128 + 15).
pub(crate) const TERMINATED: u8 = 143;
/// At least one file could not be analysed (status `failed` or `timeout`).
pub(crate) const FILE_FAILURES: u8 = 3;
/// Reserved for `analyze`: findings at or above `--fail-on`.
#[allow(dead_code)] // reason: the `analyze` subcommand of roadmap item [4a] returns it
pub(crate) const FINDINGS: u8 = 1;
/// Everything was analysed. Syntax errors in the input are facts about the code, not failures.
pub(crate) const SUCCESS: u8 = 0;
