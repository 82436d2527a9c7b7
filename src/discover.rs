//! Finding the files to analyse. ripgrep's `ignore` crate (built on walkdir) walks the tree and
//! knows `.gitignore`; on top of it this module adds the Elixir conventions: which extensions
//! count, which build directories are never source, and a status for everything it meets, so
//! nothing found is dropped silently.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

use ignore::overrides::OverrideBuilder;
use ignore::WalkBuilder;

use crate::model::Reason;

/// Directories that hold build output, dependencies or tool state, never the project's source.
const SKIPPED_DIRS: &[&str] = &[
    "_build",
    "deps",
    ".elixir_ls",
    ".elixirscope",
    "node_modules",
    "cover",
    ".git",
];

const SOURCE_EXTENSIONS: &[&str] = &["ex", "exs"];
/// Templates are listed (status `skipped`, reason `template`) until roadmap item [8] analyses them.
const TEMPLATE_EXTENSIONS: &[&str] = &["heex", "eex", "leex"];

#[derive(Debug, thiserror::Error)]
pub(crate) enum DiscoverError {
    #[error("path not found: {}", .0.display())]
    NotFound(PathBuf),
    #[error("cannot access {}: {source}", .path.display())]
    Inaccessible { path: PathBuf, source: io::Error },
    #[error("invalid --exclude glob {glob:?}: {message}")]
    BadGlob { glob: String, message: String },
}

#[derive(Debug, Clone, Default)]
pub(crate) struct DiscoverOptions {
    pub(crate) exclude: Vec<String>,
    pub(crate) follow: bool,
}

/// What discovery decided about one path. Ordered only so that a walk's findings sort
/// deterministically.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EntryKind {
    /// An Elixir source file to read and parse.
    Source,
    /// Listed in the report but not parsed.
    Skipped(Reason, Option<String>),
    /// Something that should have been analysable but could not even be listed properly.
    Failed(Reason, String),
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Relative to the root, `/`-separated.
    pub(crate) path: String,
    pub(crate) absolute: PathBuf,
    pub(crate) kind: EntryKind,
    /// The source, when it does not come from the file (`--stdin-filename`).
    pub(crate) content: Option<std::sync::Arc<[u8]>>,
}

#[derive(Debug)]
pub(crate) struct Discovery {
    pub(crate) root: PathBuf,
    /// Sorted by path; each path once.
    pub(crate) entries: Vec<Entry>,
    /// Every directory the walk entered (absolute, sorted): what `watch` ([7]) watches.
    pub(crate) directories: Vec<PathBuf>,
}

/// Walks `paths` and lists every Elixir file, template, link and unreadable place found.
pub(crate) fn discover(
    paths: &[PathBuf],
    options: &DiscoverOptions,
) -> Result<Discovery, DiscoverError> {
    let mut canonical = Vec::with_capacity(paths.len());
    for path in paths {
        // symlink_metadata first, so a dangling link given on the command line is reported as
        // such rather than as a missing path.
        match std::fs::symlink_metadata(path) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(DiscoverError::NotFound(path.clone()))
            }
            Err(source) => {
                return Err(DiscoverError::Inaccessible {
                    path: path.clone(),
                    source,
                })
            }
            Ok(_) => {}
        }
        let absolute = match path.canonicalize() {
            Ok(p) => p,
            Err(_) => absolute_without_resolving(path),
        };
        canonical.push(absolute);
    }
    let root = find_root(&canonical);

    let mut overrides = OverrideBuilder::new(&root);
    for glob in &options.exclude {
        overrides
            .add(&format!("!{glob}"))
            .map_err(|err| DiscoverError::BadGlob {
                glob: glob.clone(),
                message: err.to_string(),
            })?;
    }
    let overrides = overrides.build().map_err(|err| DiscoverError::BadGlob {
        glob: options.exclude.join(", "),
        message: err.to_string(),
    })?;

    let mut found: BTreeMap<String, Entry> = BTreeMap::new();
    let mut directories: Vec<PathBuf> = Vec::new();
    let mut add = |absolute: PathBuf, kind: EntryKind| {
        let path = relative_path(&root, &absolute);
        // The first verdict on a path wins; the same file reached twice (`lib lib/a.ex`) is one.
        found.entry(path.clone()).or_insert(Entry {
            path,
            absolute,
            kind,
            content: None,
        });
    };

    for start in &canonical {
        let meta = std::fs::symlink_metadata(start);
        if meta.as_ref().map(|m| !m.is_dir()).unwrap_or(false) && !start.is_dir() {
            // An explicitly named file is analysed even if ignored, as ripgrep does.
            if let Some(kind) = classify_file(start) {
                add(start.clone(), kind);
            } else {
                add(
                    start.clone(),
                    EntryKind::Skipped(Reason::NotElixir, Some("not an .ex or .exs file".into())),
                );
            }
            continue;
        }
        let mut builder = WalkBuilder::new(start);
        builder
            .hidden(false)
            .ignore(false)
            .git_global(false)
            .git_ignore(true)
            .git_exclude(true)
            .require_git(false)
            .parents(true)
            .follow_links(options.follow)
            .overrides(overrides.clone())
            .filter_entry(|entry| {
                let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
                !(is_dir
                    && entry.depth() > 0
                    && entry
                        .file_name()
                        .to_str()
                        .is_some_and(|name| SKIPPED_DIRS.contains(&name)))
            });
        // Walked on several threads (listing a large tree is I/O-bound and each directory's
        // ignore files are parsed on the way); the entries are then added in path order, so
        // the result does not depend on which thread saw what first.
        let (sender, receiver) = std::sync::mpsc::channel();
        builder.threads(WALK_THREADS).build_parallel().run(|| {
            let sender = sender.clone();
            Box::new(move |result| {
                if let Some(found) = walk_entry(result) {
                    let _ = sender.send(found);
                }
                ignore::WalkState::Continue
            })
        });
        drop(sender);
        let mut walked: Vec<(PathBuf, EntryKind)> = Vec::new();
        for (absolute, kind) in receiver {
            match kind {
                Some(kind) => walked.push((absolute, kind)),
                None => directories.push(absolute),
            }
        }
        walked.sort();
        for (absolute, kind) in walked {
            add(absolute, kind);
        }
    }

    directories.sort();
    directories.dedup();
    Ok(Discovery {
        root,
        directories,
        entries: found.into_values().collect(),
    })
}

/// Threads listing a directory tree.
const WALK_THREADS: usize = 2;

/// What one step of the walk lists, if anything: an entry, or (kind `None`) a directory
/// entered.
fn walk_entry(
    result: Result<ignore::DirEntry, ignore::Error>,
) -> Option<(PathBuf, Option<EntryKind>)> {
    match result {
        Ok(entry) => {
            // `None` only for stdin, never produced for a directory walk.
            let file_type = entry.file_type()?;
            let absolute = entry.path().to_path_buf();
            if file_type.is_symlink() {
                // Only reached without --follow: with it, the walker resolves links.
                link_is_relevant(&absolute)
                    .then_some((absolute, Some(EntryKind::Skipped(Reason::Symlink, None))))
            } else if file_type.is_file() {
                classify_file(&absolute).map(|kind| (absolute, Some(kind)))
            } else if file_type.is_dir() {
                Some((absolute, None))
            } else {
                None
            }
        }
        Err(err) => classify_walk_error(&err).map(|(path, kind)| (path, Some(kind))),
    }
}

fn classify_file(path: &Path) -> Option<EntryKind> {
    let ext = path.extension()?.to_str()?;
    if SOURCE_EXTENSIONS.contains(&ext) {
        Some(EntryKind::Source)
    } else if TEMPLATE_EXTENSIONS.contains(&ext) {
        Some(EntryKind::Skipped(Reason::Template, None))
    } else {
        None
    }
}

/// A link is listed when following it could have led to Elixir code: it is named like a source
/// or template file, points at a directory, or points nowhere.
fn link_is_relevant(path: &Path) -> bool {
    classify_file(path).is_some()
        || match std::fs::metadata(path) {
            Ok(meta) => meta.is_dir(),
            Err(_) => true,
        }
}

/// Turns a walk error into a listed entry, when it names a path.
fn classify_walk_error(err: &ignore::Error) -> Option<(PathBuf, EntryKind)> {
    let mut path = None;
    let mut current = err;
    loop {
        match current {
            ignore::Error::WithPath { path: p, err } => {
                path.get_or_insert_with(|| p.clone());
                current = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                current = err
            }
            ignore::Error::Loop { child, ancestor } => {
                let message = format!("symbolic link loop back to {}", ancestor.display());
                return Some((
                    child.clone(),
                    EntryKind::Skipped(Reason::SymlinkLoop, Some(message)),
                ));
            }
            ignore::Error::Io(io_err) => {
                let path = path?;
                let kind = match io_err.kind() {
                    io::ErrorKind::NotFound => EntryKind::Skipped(
                        Reason::BrokenSymlink,
                        Some("symbolic link target does not exist".into()),
                    ),
                    io::ErrorKind::PermissionDenied => {
                        EntryKind::Failed(Reason::Unreadable, io_err.to_string())
                    }
                    _ => EntryKind::Failed(Reason::IoError, io_err.to_string()),
                };
                return Some((path, kind));
            }
            other => {
                let path = path?;
                return Some((path, EntryKind::Failed(Reason::IoError, other.to_string())));
            }
        }
    }
}

/// A single source read from standard input, reported as if it were `path` (editor
/// integration): the root is found from the path as if the file existed.
pub(crate) fn stdin_entry(path: &Path, content: Vec<u8>) -> Discovery {
    let absolute = absolute_without_resolving(path);
    // The directory may not exist (an unsaved buffer): walk up to one that does.
    let mut existing = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
    while !existing.as_os_str().is_empty() && !existing.exists() {
        if !existing.pop() {
            break;
        }
    }
    let existing = existing.canonicalize().unwrap_or(existing);
    let root = find_root(std::slice::from_ref(&existing));
    let resolved = match absolute.parent() {
        Some(parent) => parent
            .canonicalize()
            .map(|p| p.join(absolute.file_name().unwrap_or_default()))
            .unwrap_or(absolute.clone()),
        None => absolute.clone(),
    };
    Discovery {
        directories: Vec::new(),
        entries: vec![Entry {
            path: relative_path(&root, &resolved),
            absolute: resolved,
            kind: EntryKind::Source,
            content: Some(content.into()),
        }],
        root,
    }
}

/// The root `discover` would choose for `path` alone (for `cache info` and `cache clear`).
pub(crate) fn root_of(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = path.canonicalize()?;
    Ok(find_root(&[absolute]))
}

/// The git top level that contains every path, else their deepest common ancestor.
fn find_root(paths: &[PathBuf]) -> PathBuf {
    let dirs: Vec<PathBuf> = paths
        .iter()
        .map(|p| {
            if p.is_dir() {
                p.clone()
            } else {
                p.parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| p.clone())
            }
        })
        .collect();
    let mut common = dirs[0].clone();
    for dir in &dirs[1..] {
        while !dir.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    let mut candidate = common.clone();
    loop {
        if candidate.join(".git").exists() {
            return candidate;
        }
        if !candidate.pop() {
            return common;
        }
    }
}

fn absolute_without_resolving(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

/// `path` relative to `root`, with `/` separators; `.` for the root itself.
pub(crate) fn relative_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_ancestor_without_git() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("a/b")).unwrap();
        std::fs::create_dir_all(base.join("a/c")).unwrap();
        let root = find_root(&[base.join("a/b"), base.join("a/c")]);
        assert_eq!(root, base.join("a"));
    }

    #[test]
    fn git_top_level_wins() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join(".git")).unwrap();
        std::fs::create_dir_all(base.join("lib/x")).unwrap();
        assert_eq!(find_root(&[base.join("lib/x")]), base);
    }

    #[test]
    fn relative_paths_use_slashes() {
        assert_eq!(
            relative_path(Path::new("/r"), Path::new("/r/lib/a.ex")),
            "lib/a.ex"
        );
        assert_eq!(relative_path(Path::new("/r"), Path::new("/r")), ".");
    }
}
