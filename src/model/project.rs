//! A Mix project: every `mix.exs` under the root is one, and a file belongs to the nearest.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Project {
    /// Directory of the `mix.exs`, relative to the root (`.` for the root itself).
    pub(crate) path: String,
    /// `app:` from `project/0`, when written as a literal atom.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) app: Option<String>,
    /// `apps_path:` of an umbrella project.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) apps_path: Option<String>,
}
