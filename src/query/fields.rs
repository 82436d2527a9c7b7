//! What each entity's rows hold: its fields under their report names, with a type and a meaning
//! (`elixirscope query --fields ENTITY` prints these), and the derived ones `docs/query.md`
//! documents (`file`, `role`, `project` on every entity; `kind`, `has_moduledoc`,
//! `complexity`, `callers`, `entry_point`).

/// The type of a field, for type checks of comparisons and for `--fields`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FieldType {
    Bool,
    Int,
    Str,
    /// A list of strings: `=` and `in` test membership, `~` any element.
    List,
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    #[serde(rename = "type")]
    pub(crate) ty: FieldType,
    pub(crate) meaning: &'static str,
}

const fn f(name: &'static str, ty: FieldType, meaning: &'static str) -> Field {
    Field { name, ty, meaning }
}

use FieldType::{Bool, Int, List, Str};

/// Fields every entity has.
const FILE: Field = f("file", Str, "path of the file, relative to the root");
const ROLE: Field = f(
    "role",
    Str,
    "role of the file: lib, test, config, script, mix_project, migration, ...",
);
const PROJECT: Field = f(
    "project",
    Str,
    "path of the Mix project the file belongs to ('.' for the root project)",
);

pub(crate) const MODULES: &[Field] = &[
    f("id", Str, "stable ID of the module"),
    f("name", Str, "module name, e.g. MyApp.Accounts"),
    f(
        "definition",
        Str,
        "how it is defined: defmodule, defprotocol, defimpl",
    ),
    f(
        "kinds",
        List,
        "what the module is: genserver, phoenix_controller, ecto_schema, ...",
    ),
    f(
        "kind",
        List,
        "same as kinds: `kind = genserver` holds when any kind matches",
    ),
    f("implements", Str, "for defimpl: the protocol implemented"),
    f(
        "for_type",
        Str,
        "for defimpl: the type it is implemented for",
    ),
    f("parent", Str, "the enclosing module of a nested module"),
    f("line", Int, "first line"),
    f("end_line", Int, "last line"),
    f(
        "moduledoc",
        Str,
        "@moduledoc state: present, false (hidden) or absent",
    ),
    f(
        "has_moduledoc",
        Bool,
        "a @moduledoc is written (present or false)",
    ),
    f("derives", List, "protocols in @derive"),
    f("struct_fields", List, "fields of its defstruct"),
    f("behaviours", List, "modules named in @behaviour"),
    f("uses", List, "modules it `use`s"),
    f("imports", List, "modules it imports"),
    f("aliases", List, "modules it aliases"),
    f("functions", Int, "number of functions and macros defined"),
    f(
        "public_functions",
        Int,
        "number of public functions and macros",
    ),
    f(
        "private_functions",
        Int,
        "number of private functions and macros",
    ),
    f("lines", Int, "lines of the module"),
    f(
        "cyclomatic_sum",
        Int,
        "sum of its functions' cyclomatic complexity",
    ),
    f(
        "cyclomatic_max",
        Int,
        "highest cyclomatic complexity of its functions",
    ),
    f("fan_in", Int, "project modules that depend on it"),
    f("fan_out", Int, "project modules it depends on"),
    FILE,
    ROLE,
    PROJECT,
];

pub(crate) const FUNCTIONS: &[Field] = &[
    f("id", Str, "stable ID of the function"),
    f("module", Str, "module that defines it"),
    f("name", Str, "function name"),
    f(
        "kind",
        Str,
        "def, defp, defmacro, defmacrop, defguard, defguardp, defdelegate",
    ),
    f("arity", Int, "number of parameters"),
    f(
        "min_arity",
        Int,
        "smallest arity callable (default arguments)",
    ),
    f("signature", Str, "Module.name/arity"),
    f("line", Int, "first line of the first clause"),
    f("end_line", Int, "last line of the last clause"),
    f("doc", Str, "@doc state: present, false (hidden) or absent"),
    f("spec", Bool, "a @spec for this name and arity exists"),
    f(
        "impl",
        Bool,
        "@impl was set before a clause (a behaviour callback)",
    ),
    f("delegate_to", Str, "defdelegate: the module delegated to"),
    f("clauses", Int, "number of clauses"),
    f(
        "complexity",
        Int,
        "cyclomatic complexity (the maximum of its clauses)",
    ),
    f(
        "cyclomatic",
        Int,
        "cyclomatic complexity, as Credo computes it",
    ),
    f("perceived", Int, "perceived complexity"),
    f("nesting", Int, "deepest nesting"),
    f("abc", Int, "ABC size"),
    f("lines", Int, "lines of the longest clause"),
    f(
        "callers",
        Int,
        "resolved call sites of it in the project (outside quotes)",
    ),
    f(
        "entry_point",
        Bool,
        "called from outside the project's code: a behaviour callback (@impl or a known \
         callback of the module's kind), a controller action, a Mix task's run/1, main/1",
    ),
    f("public", Bool, "def, defmacro, defguard or defdelegate"),
    FILE,
    ROLE,
    PROJECT,
];

pub(crate) const CLAUSES: &[Field] = &[
    f("id", Str, "stable ID of the clause"),
    f("module", Str, "module of its function"),
    f("function", Str, "its function: name/arity"),
    f("name", Str, "function name"),
    f("arity", Int, "function arity"),
    f("kind", Str, "function kind"),
    f(
        "index",
        Int,
        "1-based position among the function's clauses",
    ),
    f("line", Int, "first line"),
    f("end_line", Int, "last line"),
    f("guard", Str, "the `when` guard as written"),
    f("head", Bool, "a bodiless head"),
    f("complexity", Int, "cyclomatic complexity"),
    f("cyclomatic", Int, "cyclomatic complexity"),
    f("perceived", Int, "perceived complexity"),
    f("nesting", Int, "deepest nesting"),
    f("abc", Int, "ABC size"),
    f("lines", Int, "lines"),
    f("calls", Int, "call sites in the clause"),
    FILE,
    ROLE,
    PROJECT,
];

pub(crate) const CALLS: &[Field] = &[
    f(
        "module",
        Str,
        "module the call is written in (absent at a script's top level)",
    ),
    f(
        "function",
        Str,
        "function the call is written in: name/arity (absent outside one)",
    ),
    f("caller_id", Str, "stable ID of that function"),
    f(
        "callee",
        Str,
        "Module.name/arity of the callee, as resolved",
    ),
    f(
        "callee_module",
        Str,
        "module of the callee after alias expansion and resolution",
    ),
    f("name", Str, "function or macro called"),
    f("arity", Int, "number of arguments, counting a piped value"),
    f(
        "target",
        Str,
        "local, project, kernel, special_form, external, erlang, dynamic or unknown",
    ),
    f(
        "form",
        Str,
        "how it is written: local, remote, dynamic, capture, apply, ...",
    ),
    f("macro", Bool, "the callee is a macro"),
    f("imported", Bool, "resolved through an import"),
    f("piped", Bool, "right-hand side of |>"),
    f("quoted", Bool, "inside a quote (template code)"),
    f("runtime", Bool, "in a module body but deferred to run time"),
    f(
        "undefined",
        Bool,
        "no definition of this name and arity was found in its module",
    ),
    f(
        "candidates",
        List,
        "for unknown calls: modules in scope that may define it",
    ),
    f("line", Int, "line"),
    f("column", Int, "column"),
    FILE,
    ROLE,
    PROJECT,
];

pub(crate) const REFERENCES: &[Field] = &[
    f("module", Str, "module the reference is written in"),
    f(
        "function",
        Str,
        "function it is written in: name/arity (absent in a module body)",
    ),
    f("target", Str, "module referred to, after alias expansion"),
    f(
        "kind",
        Str,
        "alias (a module named as a value) or struct (%M{})",
    ),
    f("runtime", Bool, "in a module body but deferred to run time"),
    f("line", Int, "line"),
    f("column", Int, "column"),
    FILE,
    ROLE,
    PROJECT,
];

pub(crate) const DEPENDENCIES: &[Field] = &[
    f("from", Str, "the module that depends"),
    f("to", Str, "the module depended on"),
    f(
        "label",
        Str,
        "compile, export or runtime (as mix xref labels them)",
    ),
    f(
        "reason",
        Str,
        "use, import, require, behaviour, impl, macro, call, struct, alias",
    ),
    f(
        "via",
        Str,
        "for a dependency injected by `use`: the template",
    ),
    f("line", Int, "line of the evidence"),
    FILE,
    ROLE,
    PROJECT,
];

pub(crate) const FILES: &[Field] = &[
    f("path", Str, "path relative to the root"),
    f(
        "status",
        Str,
        "ok, syntax_error, skipped, failed or timeout",
    ),
    f("reason", Str, "why it was skipped or failed"),
    f("message", Str, "details of the status"),
    f("bytes", Int, "size"),
    f("lines", Int, "lines"),
    f("hash", Str, "blake3 of the content"),
    f("modules", Int, "modules defined"),
    f("errors", Int, "syntax errors"),
    FILE,
    ROLE,
    PROJECT,
];

pub(crate) const FINDINGS: &[Field] = &[
    f("rule", Str, "rule id, e.g. unsafe-to-atom"),
    f(
        "category",
        Str,
        "complexity, design, warning, security, readability, ...",
    ),
    f("severity", Str, "error, warning, info"),
    f("message", Str, "what was found"),
    f("module", Str, "enclosing module"),
    f("function", Str, "enclosing function: name/arity"),
    f("line", Int, "line"),
    f("column", Int, "column"),
    f("end_line", Int, "last line"),
    f("end_column", Int, "last column"),
    f(
        "fingerprint",
        Str,
        "stable identity of the finding across edits",
    ),
    FILE,
    ROLE,
    PROJECT,
];

/// Rows of graph queries.
pub(crate) const CALL_EDGES: &[Field] = &[
    f(
        "depth",
        Int,
        "1 for direct callers/callees, 2 for theirs, ...",
    ),
    f("caller_module", Str, "module of the calling code"),
    f(
        "caller",
        Str,
        "calling function: Module.name/arity (absent outside a function)",
    ),
    f("caller_id", Str, "stable ID of the calling function"),
    f("callee_module", Str, "module of the called function"),
    f("callee", Str, "called function: Module.name/arity"),
    f(
        "callee_id",
        Str,
        "stable ID of the called function, when it is the project's",
    ),
    f("target", Str, "how the call resolved"),
    f("line", Int, "line of the call site"),
    f("column", Int, "column of the call site"),
    FILE,
    ROLE,
    PROJECT,
];

pub(crate) const PATH_STEPS: &[Field] = &[
    f("step", Int, "1-based position in the chain"),
    f("from", Str, "the module that depends"),
    f("to", Str, "the module depended on"),
    f("label", Str, "compile, export or runtime"),
    f("reason", Str, "why"),
    f("via", Str, "template of an injected dependency"),
    f("line", Int, "line of the evidence"),
    FILE,
    ROLE,
    PROJECT,
];

pub(crate) const CYCLES: &[Field] = &[
    f("modules", List, "the modules of the cycle, sorted"),
    f("size", Int, "number of modules"),
    f(
        "compile_connected",
        Bool,
        "one of its edges is a compile edge",
    ),
    f("compile_edges", List, "its compile edges, as From -> To"),
];

/// Rows of structural patterns.
pub(crate) const PATTERN_MATCHES: &[Field] = &[
    f("module", Str, "module the match is in"),
    f("function", Str, "function the match is in: name/arity"),
    f("line", Int, "first line"),
    f("column", Int, "first column"),
    f("end_line", Int, "last line"),
    f("end_column", Int, "column after the last character"),
    f("text", Str, "the matched source"),
    f(
        "captures",
        List,
        "what each metavariable matched, as NAME=source",
    ),
    FILE,
    ROLE,
    PROJECT,
];

/// The fields of an entity (or graph row kind), by the name `query` uses.
pub(crate) fn of(entity: &str) -> Option<&'static [Field]> {
    Some(match entity {
        "modules" => MODULES,
        "functions" => FUNCTIONS,
        "clauses" => CLAUSES,
        "calls" => CALLS,
        "references" => REFERENCES,
        "dependencies" => DEPENDENCIES,
        "files" => FILES,
        "findings" => FINDINGS,
        "callers" | "callees" => CALL_EDGES,
        "path" => PATH_STEPS,
        "cycles" => CYCLES,
        "pattern" => PATTERN_MATCHES,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables of `docs/query.md`'s "Fields" section.
    fn tables() -> String {
        let mut text = String::new();
        for entity in [
            "modules",
            "functions",
            "clauses",
            "calls",
            "references",
            "dependencies",
            "findings",
            "files",
            "callers",
            "path",
            "cycles",
            "pattern",
        ] {
            let title = match entity {
                "callers" => "callers / callees (graph rows)".to_string(),
                "path" => "path (graph rows)".to_string(),
                "cycles" => "cycles (graph rows)".to_string(),
                "pattern" => "pattern (structural matches)".to_string(),
                other => other.to_string(),
            };
            text.push_str(&format!(
                "\n### {title}\n\n| field | type | meaning |\n|---|---|---|\n"
            ));
            for field in of(entity).unwrap() {
                let ty = match field.ty {
                    FieldType::Bool => "bool",
                    FieldType::Int => "int",
                    FieldType::Str => "string",
                    FieldType::List => "list",
                };
                text.push_str(&format!(
                    "| `{}` | {ty} | {} |\n",
                    field.name,
                    field.meaning.replace('|', "\\|")
                ));
            }
        }
        text.push('\n');
        text
    }

    #[test]
    fn the_documented_fields_are_the_fields() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/query.md");
        let docs = std::fs::read_to_string(path).unwrap();
        let (begin, end) = ("<!-- fields:begin -->", "<!-- fields:end -->");
        let start = docs.find(begin).expect("the begin marker") + begin.len();
        let stop = docs.find(end).expect("the end marker");
        let generated = tables();
        if std::env::var_os("ELIXIRSCOPE_UPDATE").is_some() {
            let updated = format!("{}{generated}{}", &docs[..start], &docs[stop..]);
            std::fs::write(path, updated).unwrap();
            return;
        }
        assert!(
            docs[start..stop] == generated,
            "docs/query.md's fields are stale: run `ELIXIRSCOPE_UPDATE=1 cargo test` and commit it"
        );
    }

    #[test]
    fn every_entity_has_file_role_and_project_and_no_field_twice() {
        for entity in crate::query::ast::ENTITIES {
            let fields = of(entity).unwrap();
            for common in ["file", "role", "project"] {
                assert!(
                    fields.iter().any(|f| f.name == common),
                    "{entity}: {common}"
                );
            }
            let mut names: Vec<&str> = fields.iter().map(|f| f.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), fields.len(), "{entity}");
        }
    }
}
