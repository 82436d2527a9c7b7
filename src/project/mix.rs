//! Mix projects: every `mix.exs` under the root is one; a file belongs to the nearest. An
//! umbrella's root `mix.exs` names its `apps_path`; each app under it has its own `mix.exs`.

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Tree;

use crate::model::Project;
use crate::syntax;
use crate::syntax::kinds::{Kind, KindOf};

/// Reads `app:` and `apps_path:` from a parsed `mix.exs`.
pub(crate) fn from_mix_file(path: &str, tree: &Tree, source: &[u8]) -> Project {
    let directory = match path.rsplit_once('/') {
        Some((directory, _)) => directory.to_string(),
        None => ".".to_string(),
    };
    let mut project = Project {
        path: directory,
        app: None,
        apps_path: None,
    };
    syntax::walk_preorder(tree.root_node(), |node| {
        if node.k() == Kind::Pair {
            let key = node.field(Field::Key);
            let value = node.field(Field::Value);
            if let (Some(key), Some(value)) = (key, value) {
                let key = syntax::text(key, source);
                let key = key.trim_end().trim_end_matches(':');
                match (key, value.k()) {
                    ("app", Kind::Atom) if project.app.is_none() => {
                        project.app = Some(
                            syntax::text(value, source)
                                .trim_start_matches(':')
                                .to_string(),
                        )
                    }
                    ("apps_path", Kind::String) if project.apps_path.is_none() => {
                        project.apps_path =
                            Some(syntax::text(value, source).trim_matches('"').to_string())
                    }
                    _ => {}
                }
            }
        }
        true
    });
    project
}

/// The project whose directory is the longest prefix of `path`.
pub(crate) fn nearest<'p>(projects: &'p [Project], path: &str) -> Option<&'p Project> {
    projects
        .iter()
        .filter(|p| {
            p.path == "."
                || path
                    .strip_prefix(p.path.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|p| if p.path == "." { 0 } else { p.path.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(path: &str) -> Project {
        Project {
            path: path.into(),
            app: None,
            apps_path: None,
        }
    }

    #[test]
    fn nearest_project_wins() {
        let projects = vec![project("."), project("apps/web")];
        assert_eq!(
            nearest(&projects, "apps/web/lib/a.ex").unwrap().path,
            "apps/web"
        );
        assert_eq!(nearest(&projects, "config/config.exs").unwrap().path, ".");
        assert_eq!(nearest(&projects, "apps/webx/lib/a.ex").unwrap().path, ".");
        assert!(nearest(&[project("apps/web")], "lib/a.ex").is_none());
    }
}
