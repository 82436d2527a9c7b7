//! `sql-injection`: Sobelow's `SQL.Query` and `SQL.Stream` (`../shared/CREDO_CHECKS.md` §S.5,
//! §S.9): raw SQL built from input.

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use super::sobelow;
use crate::model::FileRole;
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site, ANY_MODULE};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};
use crate::syntax;

const QUERY: &str = "SQL.Query";
const STREAM: &str = "SQL.Stream";

pub(crate) struct SqlInjection {
    meta: RuleMeta,
}

impl SqlInjection {
    pub(crate) fn new() -> SqlInjection {
        SqlInjection {
            meta: RuleMeta {
                id: "sql-injection",
                category: Category::Security,
                severity: Severity::Error,
                enabled_by_default: true,
                summary: "Raw SQL built from input",
                credo_check: None,
                // `SQL.Stream` for `stream`, set per finding.
                sobelow_check: Some(QUERY),
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds: concat!(
                        "Raw SQL that is not a constant (interpolated, concatenated or held in a \
                         variable), as Sobelow 0.15 finds it: the SQL argument of `query` and \
                         `query!` on a module whose last segment is `SQL` \
                         (`Ecto.Adapters.SQL.query(Repo, sql, params)`; Sobelow SQL.Query) or \
                         `Repo` (`Repo.query(sql)`), of `stream` on an `SQL` module \
                         (SQL.Stream), and of a bare `query` in a file with \
                         `import Ecto.Adapters.SQL` (`query(repo, sql)`) or in a repo, a file \
                         with `use Ecto.Repo` (its own `query(sql)`). Direct, piped \
                         (`Repo |> SQL.query(sql)`) or captured. Unlike Sobelow, which matches \
                         the alias as written, the module is resolved through the file's \
                         aliases (`alias Ecto.Adapters.SQL, as: DB` makes `DB.query` count). ",
                        super::judgement_note!()
                    ),
                    why_it_matters: "Input spliced into SQL can change the statement: read \
                                     other users' rows, bypass a `WHERE`, drop tables. Query \
                                     parameters (`$1`, `?`) are sent apart from the SQL and \
                                     never parsed as SQL.",
                    example: "def search(name) do\n  \
                              Repo.query(\"SELECT * FROM users WHERE name = '#{name}'\")\nend",
                    instead: "def search(name) do\n  \
                              Repo.query(\"SELECT * FROM users WHERE name = $1\", [name])\nend\n\n\
                              # or Ecto.Query:\n\
                              from(u in User, where: u.name == ^name) |> Repo.all()",
                },
            },
        }
    }
}

/// Whether the call is written as a local call (`query(…)`, `&query/2`), not `M.query(…)`.
fn is_local(node: Node<'_>) -> bool {
    let target = if node.kind() == syntax::kinds::UNARY_OPERATOR {
        node.field(Field::Operand)
            .and_then(|slash| slash.field(Field::Left))
    } else {
        node.field(Field::Target)
    };
    target.is_some_and(|target| target.kind() == syntax::kinds::IDENTIFIER)
}

impl Rule for SqlInjection {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            // Any module: Sobelow goes by the last segment (`MyApp.Repo`, `Ecto.Adapters.SQL`).
            callees: &[
                (ANY_MODULE, "query"),
                (ANY_MODULE, "query!"),
                (ANY_MODULE, "stream"),
            ],
            ..Interests::default()
        }
    }

    fn applies_to(&self, role: FileRole) -> bool {
        super::applies_to(role)
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let Some(module) = call.module else {
            return;
        };
        let source = out.source();
        let querying = matches!(call.name, "query" | "query!");
        let (sobelow_type, names, shown) = if is_local(call.node) {
            // Sobelow 0.15 reads a bare `query` only in a file that imports
            // `Ecto.Adapters.SQL` (the SQL comes second: `query(repo, sql)`) or is a repo (its
            // own `query(sql, params)`, SQL first).
            if !querying || module != "Kernel" {
                return;
            }
            let scope = sobelow::ecto_sql_scope(sobelow::root_of(call.node), source);
            let mut names = Vec::new();
            if scope.imports_sql {
                names.extend(sobelow::fed_names(call, 1, source));
            }
            if scope.is_repo {
                names.extend(sobelow::fed_names(call, 0, source));
            }
            if !scope.imports_sql && !scope.is_repo {
                return;
            }
            (QUERY, sobelow::deduplicated(names), call.name.to_string())
        } else {
            // The SQL's index: `SQL.query(repo, sql)`, `Repo.query(sql)`; a piped value
            // counts as index 0.
            let (sobelow_type, index) = match (module.rsplit('.').next(), querying) {
                (Some("SQL"), true) => (QUERY, 1),
                (Some("SQL"), false) => (STREAM, 1),
                (Some("Repo"), true) => (QUERY, 0),
                _ => return,
            };
            (
                sobelow_type,
                sobelow::fed_names(call, index, source),
                format!("{module}.{}", call.name),
            )
        };
        if let Some(judgement) = sobelow::judge(call.node, site, source, names) {
            out.sobelow_type(Some(sobelow_type)).node(
                call.node,
                site,
                format!("SQL injection in `{shown}` {}.", judgement.suffix()),
            );
        }
    }
}
