//! Every rule, as a plain list: adding a rule touches its own file, one line here, one
//! fixture and one snapshot.

use super::engine::Rule;
use super::{complexity, design, readability, security, warning};
use crate::model::Category;

/// All rules, in id order.
pub(crate) fn all() -> Vec<Box<dyn Rule>> {
    let mut rules: Vec<Box<dyn Rule>> = Vec::new();
    rules.extend(complexity::rules());
    rules.extend(design::rules());
    rules.extend(warning::rules());
    rules.extend(readability::rules());
    rules.extend(security::rules());
    rules.sort_by_key(|rule| rule.meta().id);
    rules
}

#[derive(Debug, thiserror::Error)]
#[error("unknown rule or category {0:?}: `elixirscope rules` lists the rules")]
pub(crate) struct UnknownSelector(pub(crate) String);

fn category(name: &str) -> Option<Category> {
    Some(match name {
        "complexity" => Category::Complexity,
        "design" => Category::Design,
        "warning" => Category::Warning,
        "security" => Category::Security,
        "readability" => Category::Readability,
        _ => return None,
    })
}

/// The rules a run uses, ruff-style: `--select` (rules, categories or `all`) replaces the
/// default set, `--ignore` removes from it.
pub(crate) fn select(
    rules: Vec<Box<dyn Rule>>,
    select: &[String],
    ignore: &[String],
) -> Result<Vec<Box<dyn Rule>>, UnknownSelector> {
    let matches = |rule: &dyn Rule, selector: &str| -> bool {
        selector == "all"
            || rule.meta().id == selector
            || category(selector) == Some(rule.meta().category)
    };
    for selector in select.iter().chain(ignore) {
        let known = selector == "all"
            || category(selector).is_some()
            || rules.iter().any(|r| r.meta().id == selector);
        if !known {
            return Err(UnknownSelector(selector.clone()));
        }
    }
    Ok(rules
        .into_iter()
        .filter(|rule| {
            let selected = if select.is_empty() {
                rule.meta().enabled_by_default
            } else {
                select.iter().any(|s| matches(rule.as_ref(), s))
            };
            selected && !ignore.iter().any(|s| matches(rule.as_ref(), s))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule: a unique kebab-case id, complete docs, a fixture.
    #[test]
    fn registry_is_complete() {
        let rules = all();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.meta().id).collect();
        let count = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate rule ids");
        for rule in &rules {
            let meta = rule.meta();
            assert!(
                meta.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not kebab-case",
                meta.id
            );
            for (section, text) in [
                ("what_it_finds", meta.docs.what_it_finds),
                ("why_it_matters", meta.docs.why_it_matters),
                ("example", meta.docs.example),
                ("instead", meta.docs.instead),
                ("summary", meta.summary),
            ] {
                assert!(!text.trim().is_empty(), "{}: empty {section}", meta.id);
            }
            let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/rules")
                .join(format!("{}.ex", meta.id));
            assert!(
                fixture.exists(),
                "{}: no fixture {}",
                meta.id,
                fixture.display()
            );
            let interests = rule.interests();
            assert!(
                rule.produced_by_engine()
                    || !interests.node_kinds.is_empty()
                    || !interests.callees.is_empty()
                    || interests.file_facts,
                "{} subscribes to nothing",
                meta.id
            );
            let language = crate::syntax::language();
            for kind in interests.node_kinds {
                assert_ne!(
                    language.id_for_node_kind(kind, true),
                    0,
                    "{}: unknown node kind {kind}",
                    meta.id
                );
            }
        }
    }

    #[test]
    fn selection_is_ruff_style() {
        let ids = |rules: Vec<Box<dyn Rule>>| -> Vec<&'static str> {
            rules.iter().map(|r| r.meta().id).collect()
        };
        let defaults = ids(select(all(), &[], &[]).unwrap());
        assert!(defaults.contains(&"io-inspect"));
        let none = ids(select(all(), &[], &["warning".into()]).unwrap());
        assert!(!none.contains(&"io-inspect"));
        assert!(select(all(), &["nope".into()], &[]).is_err());
    }
}
