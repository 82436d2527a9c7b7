//! The Querying subsystem (design: `ElixirScope.AST.Querying.Supervisor`, one_for_one): the
//! Executor takes queries from its queue and runs each on the WorkerPool, the interactive
//! bulkhead, so an answer never waits behind a batch. Its Cache is the index's
//! (`index::query_store`: the query tables and the answers, per run scope and generation).

pub(crate) mod executor;
