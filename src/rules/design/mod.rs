//! design rules.

pub(crate) mod compile_time_app_config;
pub(crate) mod fixme_tag;
pub(crate) mod mix_env_at_runtime;
mod tags;
pub(crate) mod todo_tag;
pub(crate) mod unused_suppression;

use crate::rules::engine::Rule;

/// The rules of this category.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(compile_time_app_config::CompileTimeAppConfig::new()),
        Box::new(fixme_tag::FixmeTag::new()),
        Box::new(mix_env_at_runtime::MixEnvAtRuntime::new()),
        Box::new(todo_tag::TodoTag::new()),
        Box::new(unused_suppression::UnusedSuppression::new()),
    ]
}
