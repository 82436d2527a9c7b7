//! `elixirscope query` (issue [6]): the language (`ast`, `syntax`), what each entity's rows
//! hold (`fields`) and the Executor (`exec`) over the repository.

pub(crate) mod ast;
pub(crate) mod exec;
pub(crate) mod fields;
pub(crate) mod sql;
pub(crate) mod syntax;
pub(crate) mod tables;
