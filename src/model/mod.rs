//! The record model: plain data every layer speaks — a file's record and the facts in it
//! (modules, functions, clauses, calls, references, metrics), its status and role, findings,
//! Mix projects, the graph, and the report that carries them.
//!
//! It sits at the bottom of the crate and imports nothing from it (`tests/architecture.rs`).
//! Every type serialises to the report's JSON (the JSON Schemas in `schema/` are generated from
//! these derives) and both encodes and decodes in the stored form of [`stored`], the index's
//! encoding. The logic that fills these records lives above: `extract` (facts, metrics),
//! `project` and `graph` (the project phase), `rules` (findings).

mod facts;
mod file;
mod findings;
mod graph;
mod metrics;
mod project;
mod report;
mod role;
#[cfg(test)]
pub(crate) mod schema_file;
pub(crate) mod stored;
mod symbol;
pub(crate) mod variant;

pub(crate) use facts::*;
pub(crate) use file::*;
pub(crate) use findings::*;
pub(crate) use graph::*;
pub(crate) use metrics::*;
pub(crate) use project::*;
pub(crate) use report::*;
pub(crate) use symbol::{global_symbol, intern, Symbol};
