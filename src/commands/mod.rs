//! One module per subcommand: each starts the subsystems it needs (`crate::subsystems`), runs
//! its input through them and hands the result to a report format; no analysis logic of its own.

pub(crate) mod analyze;
pub(crate) mod batch;
pub(crate) mod cache;
pub(crate) mod completions;
pub(crate) mod output;
pub(crate) mod parse;
pub(crate) mod query;
pub(crate) mod rules;
pub(crate) mod runtime;
pub(crate) mod watch;
