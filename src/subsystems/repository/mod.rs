//! The Repository subsystem (`ElixirScope.AST.Repository.Supervisor`): Repository.Core holds
//! the project's repository; Enhanced and the MemoryManager come with issues [5]/[7] and [5b].

pub(crate) mod core;
