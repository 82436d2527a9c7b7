//! Runtime pieces the parse pipeline needs from its first day: fault injection and the panic
//! hook. They join `src/runtime/` (the supervisor library) when the tree of issue [2b] runs
//! every subcommand.

pub(crate) mod faults;
pub(crate) mod panic_capture;
pub(crate) mod signals;
