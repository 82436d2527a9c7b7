//! Credo's complexity metrics of a clause, a function, a module and the project (issue [3b],
//! `docs/metrics.md`), as the report carries them. `extract::metrics` computes them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Credo's measures of one definition clause (`def`, `defp` or `defmacro`; Credo measures no
/// other kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClauseMetrics {
    /// Refactor.CyclomaticComplexity. Absent for `defmacro __using__(opts)` written with a
    /// head and a body, which Credo does not score (the definitions in its `quote` are scored).
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) cyclomatic: Option<u32>,
    /// Refactor.PerceivedComplexity: cyclomatic with each `case` clause weighing 0.3, rounded.
    /// Absent when `cyclomatic` is.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) perceived: Option<u32>,
    /// Refactor.Nesting: the deepest nesting of `if`, `unless`, `case`, `cond`, `fn`, `for` and
    /// `with` above any code of the body.
    pub(crate) nesting: u32,
    /// The line Credo reports the nesting on: the innermost nesting operator above the deepest
    /// code (the clause's line at depth 0).
    pub(crate) nesting_line: u32,
    /// Refactor.ABCSize over the `do` section. Absent when `cyclomatic` is.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) abc: Option<AbcSize>,
    /// Refactor.FunctionArity: the head's parameters, defaults included.
    pub(crate) arity: u32,
    /// Lines from the `def` to the end of the clause.
    pub(crate) lines: u32,
}

/// Assignments, branches and conditions as Credo counts them, and the size
/// `round(sqrt(a² + b² + c²))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AbcSize {
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) c: u32,
    pub(crate) size: u32,
}

/// A function's metrics: the maximum over its clauses (Credo reports clauses one by one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FunctionMetrics {
    /// All clauses, bodiless heads included.
    pub(crate) clauses: u32,
    /// Absent when no clause is scored (`defmacro __using__`).
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) cyclomatic: Option<u32>,
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) perceived: Option<u32>,
    pub(crate) nesting: u32,
    /// The largest ABC size of a clause.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) abc: Option<u32>,
    pub(crate) arity: u32,
    /// Lines of all clauses together.
    pub(crate) lines: u32,
}

/// A module's size and complexity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModuleMetrics {
    /// `def`, `defmacro`, `defguard` and `defdelegate` functions.
    pub(crate) public_functions: u32,
    /// `defp`, `defmacrop` and `defguardp` functions.
    pub(crate) private_functions: u32,
    /// Lines from `defmodule` to its `end`.
    pub(crate) lines: u32,
    /// Sum of the functions' cyclomatic complexity.
    pub(crate) cyclomatic_sum: u32,
    /// The most complex function's cyclomatic complexity (0 without scored functions).
    pub(crate) cyclomatic_max: u32,
}

/// Totals over every module of the run, and how the functions spread over complexity bands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectMetrics {
    pub(crate) modules: u64,
    pub(crate) public_functions: u64,
    pub(crate) private_functions: u64,
    /// Functions with a cyclomatic complexity (`def`, `defp`, `defmacro`).
    pub(crate) scored_functions: u64,
    /// Their clauses.
    pub(crate) scored_clauses: u64,
    /// Lines of all modules (a nested module's lines count for it and its parent).
    pub(crate) module_lines: u64,
    pub(crate) cyclomatic_sum: u64,
    pub(crate) cyclomatic_max: u32,
    pub(crate) perceived_max: u32,
    pub(crate) nesting_max: u32,
    pub(crate) abc_max: u32,
    pub(crate) arity_max: u32,
    /// Scored functions by cyclomatic complexity, in bands; the third band starts at 10, above
    /// Credo's default `max_complexity` of 9.
    pub(crate) distribution: Vec<ComplexityBand>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComplexityBand {
    /// Lowest cyclomatic complexity in the band.
    pub(crate) min: u32,
    /// Highest, absent for the last band.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) max: Option<u32>,
    pub(crate) functions: u64,
}
