//! The Repository subsystem (`ElixirScope.AST.Repository.Supervisor`): Repository.Core holds
//! the project's repository, Enhanced keeps its project-level data current; the MemoryManager
//! comes with issue [5b].

pub(crate) mod core;
pub(crate) mod enhanced;
pub(crate) mod memory_manager;
