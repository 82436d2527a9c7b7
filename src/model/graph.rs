//! The `graph` section of a report: module dependencies with `mix xref`'s labels, fan-in and
//! fan-out, cycles and how calls resolved. `graph` builds it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `graph` section of the report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Graph {
    /// Every module of the project, one node per name, sorted by name.
    pub(crate) modules: Vec<GraphModule>,
    /// One edge per pair of distinct project modules, sorted by (`from`, `to`).
    pub(crate) edges: Vec<Edge>,
    /// Strongly connected components of two or more modules, largest first, then by name.
    pub(crate) cycles: Vec<Cycle>,
    /// How the project's calls resolved, counted by target.
    pub(crate) call_targets: CallTargetCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GraphModule {
    pub(crate) name: String,
    /// Project modules that depend on it.
    pub(crate) fan_in: u32,
    /// Project modules it depends on.
    pub(crate) fan_out: u32,
}

/// `from` depends on `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Edge {
    pub(crate) from: String,
    pub(crate) to: String,
    /// The strongest dependency between the two.
    pub(crate) label: DependencyLabel,
    /// What first made it that strong, and where.
    pub(crate) reason: DependencyReason,
    pub(crate) path: String,
    pub(crate) line: u32,
    /// For a directive injected by a template: the module whose `use` injected it.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) via: Option<String>,
}

/// `mix xref`'s labels, weakest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DependencyLabel {
    Runtime,
    Export,
    Compile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DependencyReason {
    Use,
    Require,
    Import,
    Behaviour,
    /// `defimpl` of the protocol.
    Impl,
    /// A call of a macro.
    Macro,
    /// A call or capture of a function.
    Call,
    /// `%M{}`.
    Struct,
    /// The module named as a value.
    Alias,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Cycle {
    /// Sorted by name.
    pub(crate) modules: Vec<String>,
    /// Some edge inside the cycle is a compile edge: changing any module in it recompiles the
    /// modules that depend on it at compile time.
    pub(crate) compile_connected: bool,
    /// The compile edges inside the cycle, sorted: the ones to break first.
    pub(crate) compile_edges: Vec<EdgeEnds>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EdgeEnds {
    pub(crate) from: String,
    pub(crate) to: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallTargetCounts {
    pub(crate) total: u64,
    pub(crate) local: u64,
    pub(crate) project: u64,
    pub(crate) kernel: u64,
    pub(crate) special_form: u64,
    pub(crate) external: u64,
    pub(crate) erlang: u64,
    pub(crate) dynamic: u64,
    pub(crate) unknown: u64,
}
