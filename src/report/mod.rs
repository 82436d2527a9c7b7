//! The output formats over the record model (`crate::model`): one emitter per format. The
//! records themselves, and the JSON shape they define, live in the model.

pub(crate) mod analysis;
mod encode;
pub(crate) mod findings_text;
pub(crate) mod github;
pub(crate) mod json;
pub(crate) mod ndjson;
pub(crate) mod query;
pub(crate) mod sarif;
pub(crate) mod style;
pub(crate) mod text;
pub(crate) mod watch;
