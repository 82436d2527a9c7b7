//! One module per subcommand: each wires discovery, the pipeline, the repository and a report
//! together and holds no analysis logic of its own.

pub(crate) mod analyze;
pub(crate) mod batch;
pub(crate) mod completions;
pub(crate) mod output;
pub(crate) mod parse;
pub(crate) mod rules;
pub(crate) mod runtime;
