//! What `analyze` reports: findings and the rules that produce them. The JSON, SARIF, text and
//! GitHub emitters all read these types.

use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
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

/// One finding. Positions are 1-based; columns count Unicode code points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) module: Option<String>,
    /// The enclosing function as `name/arity`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) function: Option<String>,
    /// Stable across edits elsewhere: rule, enclosing function, the finding's normalised code
    /// and its occurrence index among identical ones — never a line number.
    pub(crate) fingerprint: String,
}
