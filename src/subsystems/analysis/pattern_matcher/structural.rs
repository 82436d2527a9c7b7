//! The PatternMatcher's structural search (issue [6] item 3): a compiled
//! [`Pattern`](crate::syntax::pattern::Pattern) over every parsed file of a batch, on the batch
//! pool. Each file is read and parsed again (its tree is not kept: trees cost ~27x the source),
//! and matched with the aliases its modules declare, so `Repo.get!` under `alias MyApp.Repo`
//! matches `MyApp.Repo.get!(...)`.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use rayon::prelude::*;

use crate::model::{DirectiveKind, FileRecord, Status};
use crate::otp::cancel::Deadline;
use crate::query::exec::{enclosing_at, PatternMatch};
use crate::query::fields;
use crate::query::tables::Tables;
use crate::syntax::pattern::{Match, Pattern};
use crate::syntax::{parse_tree_sitter, ParseInput};

/// Every match of `pattern` in `files` (paths relative to `root`), with the module and function
/// around it, in file then source order. Files that no longer read or parse are left out. A
/// call pattern reads only the files whose records hold a call of its function's name; the
/// others cannot match.
pub(crate) fn search(
    pattern: &Pattern,
    root: &Path,
    files: &[FileRecord],
    pool: &rayon::ThreadPool,
    deadline: &Deadline,
) -> Vec<PatternMatch> {
    let name = pattern.call_name();
    let module = pattern.call_module();
    pool.install(|| {
        files
            .par_iter()
            .enumerate()
            .filter(|(_, f)| matches!(f.status, Status::Ok | Status::SyntaxError))
            .filter(|(_, f)| {
                name.as_deref()
                    .is_none_or(|name| calls(f, name, module.as_deref()))
            })
            .flat_map_iter(|(index, file)| {
                let found = if deadline.expired() {
                    Vec::new()
                } else {
                    in_file(pattern, root, file, deadline)
                };
                found.into_iter().map(move |m| (index, m))
            })
            .collect::<Vec<(usize, Match)>>()
    })
    .into_iter()
    .map(|(index, found)| {
        let file = &files[index];
        let (module, function) = enclosing_at(file, found.line);
        PatternMatch {
            path: file.path.clone(),
            module,
            function,
            found,
        }
    })
    .collect()
}

/// The files a call pattern can match in, from the `calls` query table (its callee module and
/// name columns): those with a call of the pattern's function whose module fits. `None` when
/// the pattern is not a call (every file is a candidate) or the columns are missing.
pub(crate) fn candidates(pattern: &Pattern, tables: &Tables) -> Option<BTreeSet<String>> {
    let name = pattern.call_name()?;
    let module = pattern.call_module();
    let calls = tables.get("calls")?;
    let position = |field: &str| fields::CALLS.iter().position(|f| f.name == field);
    let names = calls.column(position("name")?)?;
    let modules = calls.column(position("callee_module")?)?;
    let paths = calls.column(position("file")?)?;
    Some(
        (0..calls.len)
            .filter(|&row| names.str(row) == Some(name.as_str()))
            .filter(|&row| fits(module.as_deref(), modules.str(row)))
            .filter_map(|row| paths.str(row).map(str::to_string))
            .collect(),
    )
}

/// Whether a call's module (after alias expansion) fits the module a pattern writes: the same,
/// one ending with it (`Repo` is written for `MyApp.Repo`), or unknown.
fn fits(written: Option<&str>, found: Option<&str>) -> bool {
    match (written, found) {
        (None, _) | (_, None) => true,
        (Some(written), Some(found)) => {
            found == written
                || found
                    .strip_suffix(written)
                    .is_some_and(|head| head.ends_with('.'))
                || written
                    .strip_suffix(found)
                    .is_some_and(|head| head.ends_with('.'))
        }
    }
}

fn in_file(pattern: &Pattern, root: &Path, file: &FileRecord, deadline: &Deadline) -> Vec<Match> {
    let Ok(bytes) = std::fs::read(root.join(&file.path)) else {
        return Vec::new();
    };
    let Some(tree) = parse_tree_sitter(ParseInput::Bytes(&bytes), deadline) else {
        return Vec::new();
    };
    pattern.find(&tree, &bytes, &aliases(file), deadline)
}

/// Short name → full name of every `alias` in the file (`as:`, else the last segment).
fn aliases(file: &FileRecord) -> HashMap<String, String> {
    file.modules
        .iter()
        .flat_map(|m| &m.directives)
        .filter(|d| d.kind == DirectiveKind::Alias)
        .filter_map(|d| {
            let short = d
                .alias_as
                .clone()
                .or_else(|| d.target.rsplit('.').next().map(str::to_string))?;
            Some((short, d.target.clone()))
        })
        .collect()
}

/// Whether the record holds a call of `name` (any form) whose module, after alias expansion,
/// is `module` as written or ends with it (`Repo` is written for `MyApp.Repo`), or may be
/// unknown.
fn calls(file: &FileRecord, name: &str, module: Option<&str>) -> bool {
    let fits = |call_module: Option<crate::model::Symbol>| {
        fits(module, call_module.as_ref().map(|m| m.as_str()))
    };
    let named = |calls: &[crate::model::Call]| {
        calls
            .iter()
            .any(|c| c.name.is_some_and(|n| n.as_str() == name) && fits(c.module))
    };
    named(&file.calls)
        || file.modules.iter().any(|m| {
            named(&m.calls)
                || m.functions
                    .iter()
                    .flat_map(|f| &f.clauses)
                    .any(|c| named(&c.calls))
                || m.dynamic_definitions.iter().any(|d| named(&d.calls))
        })
}
