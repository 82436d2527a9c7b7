//! The rules' own metadata: what `elixirscope rules` prints and SARIF's rule descriptors carry.
//! Static data of the rule library; the findings themselves are records of `crate::model`.

use schemars::JsonSchema;
use serde::Serialize;

pub(crate) use crate::model::{Category, Finding, Severity};

/// A rule's parameter and its default, for `elixirscope rules ID` and SARIF.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Parameter {
    pub(crate) name: &'static str,
    pub(crate) default: String,
    pub(crate) description: &'static str,
}

/// Documentation with the fixed sections every rule has (ruff's habit).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleDocs {
    pub(crate) what_it_finds: &'static str,
    pub(crate) why_it_matters: &'static str,
    pub(crate) example: &'static str,
    pub(crate) instead: &'static str,
}

/// Everything about a rule except its check.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleMeta {
    /// Kebab-case, stable: `unsafe-to-atom`.
    pub(crate) id: &'static str,
    pub(crate) category: Category,
    pub(crate) severity: Severity,
    pub(crate) enabled_by_default: bool,
    /// One line, for listings and SARIF's shortDescription.
    pub(crate) summary: &'static str,
    /// The Credo check it follows (`Credo.Check.Warning.IoInspect`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) credo_check: Option<&'static str>,
    /// The Sobelow finding type it follows (`DOS.StringToAtom`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sobelow_check: Option<&'static str>,
    pub(crate) parameters: Vec<Parameter>,
    pub(crate) docs: RuleDocs,
}
