//! The Parsing subsystem (`ElixirScope.AST.Parsing.Supervisor`): the Parser turns one file into
//! its record; the BatchProcessor feeds a batch of files through the batch pool.

pub(crate) mod batch_processor;
pub(crate) mod parser;
