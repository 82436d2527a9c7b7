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
use crate::query::exec::PatternMatch;
use crate::query::fields;
use crate::query::tables::Tables;
use crate::syntax::pattern::{Match, Pattern, Shape};
use crate::syntax::sites::{self, CallSites};
use crate::syntax::{parse_tree_sitter, ParseInput};

/// What a search did, for `runtime.pattern`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct SearchCounts {
    /// Files answered from their stored call sites, without parsing.
    pub(crate) from_call_sites: u64,
    /// Files read and parsed again (no stored call sites, or a pattern the sites cannot answer).
    pub(crate) parsed: u64,
}

/// A search's matches, its counts, and the call sites of the files it parsed (for the index).
pub(crate) struct Found {
    pub(crate) matches: Vec<PatternMatch>,
    pub(crate) counts: SearchCounts,
    pub(crate) new_sites: Vec<(String, CallSites)>,
}

/// Every match of `pattern` in `files` (paths relative to `root`), with the module and function
/// around it, in file then source order. A call pattern reads only the files whose records hold
/// a call of its function's name; the others cannot match. A file whose call sites the index
/// holds (`sites`, for its current content) is answered from them when the pattern's shape
/// allows ([`Pattern::shape`]); any other is parsed again, and its call sites are returned for
/// the index. Files that no longer read or parse are left out.
pub(crate) fn search(
    pattern: &Pattern,
    root: &Path,
    files: &[FileRecord],
    sites: &HashMap<String, CallSites>,
    pool: &rayon::ThreadPool,
    deadline: &Deadline,
) -> Found {
    let may_match = may_match(pattern);
    let shape = pattern.shape();
    let per_file: Vec<(usize, InFile)> = pool.install(|| {
        files
            .par_iter()
            .enumerate()
            .filter(|(_, f)| may_match(f))
            .filter_map(|(index, file)| {
                if deadline.expired() {
                    return None;
                }
                let answered = in_file(
                    pattern,
                    shape.as_ref(),
                    root,
                    file,
                    sites.get(&file.path),
                    deadline,
                )?;
                Some((index, answered))
            })
            .collect()
    });
    let mut found = Found {
        matches: Vec::new(),
        counts: SearchCounts::default(),
        new_sites: Vec::new(),
    };
    for (index, answered) in per_file {
        let file = &files[index];
        if answered.parsed {
            found.counts.parsed += 1;
        } else {
            found.counts.from_call_sites += 1;
        }
        if let Some(new) = answered.new_sites {
            found.new_sites.push((file.path.clone(), new));
        }
        for m in answered.matches {
            let (module, function) = file.enclosing(m.line);
            found.matches.push(PatternMatch {
                path: file.path.clone(),
                module,
                function,
                found: m,
            });
        }
    }
    found
}

/// How one file was answered.
struct InFile {
    matches: Vec<Match>,
    /// Parsed again (else answered from its stored call sites).
    parsed: bool,
    /// Its call sites, for the index, when the stored ones are not of its content.
    new_sites: Option<CallSites>,
}

/// The matches in one file: from its stored call sites when they are of its current content
/// and the pattern's shape allows, else from a parse.
fn in_file(
    pattern: &Pattern,
    shape: Option<&Shape>,
    root: &Path,
    file: &FileRecord,
    stored: Option<&CallSites>,
    deadline: &Deadline,
) -> Option<InFile> {
    let bytes = std::fs::read(root.join(&file.path)).ok()?;
    let hash = blake3::hash(&bytes).to_hex().to_string();
    let aliases = aliases(file);
    let current = stored.filter(|stored| stored.hash == hash);
    if let (Some(shape), Some(stored)) = (shape, current) {
        return Some(InFile {
            matches: shape.matches(stored, &bytes, &aliases),
            parsed: false,
            new_sites: None,
        });
    }
    let tree = parse_tree_sitter(ParseInput::Bytes(&bytes), deadline)?;
    Some(InFile {
        matches: pattern.find(&tree, &bytes, &aliases, deadline),
        parsed: true,
        new_sites: current
            .is_none()
            .then(|| sites::collect(&tree, &bytes, hash)),
    })
}

/// The files of `files` a call pattern can match in (all parsed ones for another pattern).
pub(crate) fn candidate_files<'f>(pattern: &Pattern, files: &'f [FileRecord]) -> Vec<&'f str> {
    let may_match = may_match(pattern);
    files
        .iter()
        .filter(|f| may_match(f))
        .map(|f| f.path.as_str())
        .collect()
}

/// Whether a parsed file can hold a match: for a call pattern, its record holds a call of the
/// pattern's function (of its module, when written).
fn may_match(pattern: &Pattern) -> impl Fn(&FileRecord) -> bool + Sync {
    let name = pattern.call_name();
    let module = pattern.call_module();
    move |file: &FileRecord| {
        matches!(file.status, Status::Ok | Status::SyntaxError)
            && name
                .as_deref()
                .is_none_or(|name| calls(file, name, module.as_deref()))
    }
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

/// Short name → full name of every `alias` in the file (`as:`, else the last segment).
fn aliases(file: &FileRecord) -> HashMap<String, String> {
    aliases_of(&file.modules)
}

fn aliases_of(modules: &[crate::model::Module]) -> HashMap<String, String> {
    modules
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The call-site index answers exactly as the matcher does over the tree: every fixture
    /// file, patterns of every shape the index takes (local and remote, aliases as written and
    /// expanded, `$$$` anywhere, repeated variables, `$_`, calls without arguments, pipes).
    #[test]
    fn call_sites_answer_as_the_matcher_does() {
        let patterns = [
            "String.to_atom($A)",
            "String.to_atom($$$A)",
            "Repo.get($S, $ID)",
            "SampleApp.Repo.get($S, $ID)",
            "Repo.all",
            "Repo.all()",
            "Enum.map($L, $F)",
            "Enum.map($$$ARGS)",
            "Enum.reduce($$$A, $F)",
            "Enum.reduce($L, $$$REST)",
            "Map.get($M, $K, $_)",
            "Map.put($M, $K, $K)",
            "Logger.info($$$_)",
            "to_string($X)",
            "is_nil($X)",
            "def($$$X)",
            "defp($HEAD)",
            "raise($E)",
            "send($P, $M)",
            "Keyword.get($$$A, $B, $$$C)",
        ];
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let files: Vec<std::path::PathBuf> =
            crate::discover::discover(&[fixtures], &crate::discover::DiscoverOptions::default())
                .unwrap()
                .entries
                .into_iter()
                .filter(|e| matches!(e.kind, crate::discover::EntryKind::Source))
                .map(|e| e.absolute)
                .collect();
        assert!(files.len() > 100);
        let deadline = Deadline::never(crate::otp::cancel::CancelToken::new());
        let mut compared = 0;
        let mut matched = 0;
        for pattern in patterns {
            let compiled = Pattern::compile(pattern).unwrap();
            let shape = compiled
                .shape()
                .unwrap_or_else(|| panic!("{pattern}: the index should take it"));
            for path in &files {
                let bytes = std::fs::read(path).unwrap();
                let Some(tree) = parse_tree_sitter(ParseInput::Bytes(&bytes), &deadline) else {
                    continue;
                };
                let flat = crate::syntax::Tree::from_tree_sitter(tree.clone());
                let aliases = aliases_of(&crate::extract::modules(&flat, &bytes));
                let by_tree = compiled.find(&tree, &bytes, &aliases, &deadline);
                let sites = sites::collect(&tree, &bytes, String::new());
                let by_sites = shape.matches(&sites, &bytes, &aliases);
                assert_eq!(by_sites, by_tree, "{pattern} in {}", path.display());
                compared += 1;
                matched += by_tree.len();
            }
        }
        assert!(
            compared > 2000 && matched > 300,
            "{compared} files, {matched} matches"
        );
        // Patterns the index does not take: the files are matched from source.
        for pattern in [
            "Repo.get!($S, id)",
            "$M.get($A)",
            "Enum.map($L, fn $X -> $Y end)",
            "x |> $F",
        ] {
            assert!(
                Pattern::compile(pattern).unwrap().shape().is_none(),
                "{pattern}"
            );
        }
    }
}
