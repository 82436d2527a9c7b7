//! What `analyze` reports: findings, their severities and categories, and one file's findings.
//! The JSON, SARIF, text and GitHub emitters all read these types; the rules' own metadata
//! (`rules::model::RuleMeta`) is static data of the rule library, not part of a record.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use super::symbol::intern;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Severity {
    /// Ordered from most to least severe, so `--fail-on` compares with `<=`.
    Error,
    Warning,
    Info,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// Whether a finding of this severity is at or above `threshold` (`--fail-on`).
    pub(crate) fn is_at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Category {
    Complexity,
    Design,
    Warning,
    Security,
    Readability,
}

impl Category {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Category::Complexity => "complexity",
            Category::Design => "design",
            Category::Warning => "warning",
            Category::Security => "security",
            Category::Readability => "readability",
        }
    }
}

/// One finding. Positions are 1-based; columns count Unicode code points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Finding {
    pub(crate) rule: String,
    pub(crate) category: Category,
    pub(crate) severity: Severity,
    pub(crate) message: String,
    /// Relative to the report's root, `/`-separated.
    pub(crate) path: String,
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) end_line: u32,
    pub(crate) end_column: u32,
    /// The enclosing module, if any.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) module: Option<String>,
    /// The enclosing function as `name/arity`, if any.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) function: Option<String>,
    /// Stable across edits elsewhere: rule, enclosing function, the finding's normalised code
    /// and its occurrence index among identical ones — never a line number.
    pub(crate) fingerprint: String,
}

/// What the rules found in one file, after suppressions, with fingerprints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct FileFindings {
    pub(crate) findings: Vec<Finding>,
    /// (rule id, panic message) for every rule that failed on the file.
    #[serde(deserialize_with = "rule_failures")]
    pub(crate) failures: Vec<(&'static str, String)>,
    pub(crate) suppressed: u64,
    /// (rule id, nanoseconds spent on this file), for every rule that ran.
    #[serde(deserialize_with = "rule_nanos")]
    pub(crate) rule_nanos: Vec<(&'static str, u64)>,
}

/// Rule ids are `&'static str` in a run; a decoded record interns them (see `symbol`).
fn rule_failures<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(&'static str, String)>, D::Error> {
    let pairs = Vec::<(String, String)>::deserialize(deserializer)?;
    Ok(pairs
        .into_iter()
        .map(|(rule, message)| (intern(&rule).as_str(), message))
        .collect())
}

fn rule_nanos<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(&'static str, u64)>, D::Error> {
    let pairs = Vec::<(String, u64)>::deserialize(deserializer)?;
    Ok(pairs
        .into_iter()
        .map(|(rule, nanos)| (intern(&rule).as_str(), nanos))
        .collect())
}
