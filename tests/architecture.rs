//! The layers of the crate, held by a test (in the spirit of import-linter's layers contract
//! and ArchUnit): every top-level module of `src/` has a place in [`LAYERS`], bottom first, and
//! a module may import only modules placed before it. The test reads every `crate::` path in
//! `src/` — `use` lines, grouped imports `use crate::{a, b}`, paths written inline — and every
//! `super::` chain that climbs out of a top-level module, and fails naming file and line.
//!
//! `ELIXIRSCOPE_ARCH_SRC=DIR cargo test --test architecture` checks another tree (an older
//! checkout, say) with the same rules.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Bottom to top. `otp` and `model` import nothing of the crate; `report`, `cli` and `commands`
/// sit at the top, over the subsystems that do the work; `main` wires the commands.
const LAYERS: &[&str] = &[
    "otp",        // OTP library: supervisors, child specs, breakers, health, cancellation
    "model",      // the record model: plain data, encodes and decodes
    "exit",       // exit codes
    "faults",     // fault injection switches (ELIXIRSCOPE_FAULTS)
    "syntax",     // tree-sitter, node kinds, traversal
    "discover",   // finding the files
    "extract",    // tree → facts, metrics; the walk's observer hook
    "graph",      // call resolution and the module graph
    "project",    // the project phase and its in-memory repository
    "rules",      // the rule library and the engine that evaluates it
    "query",      // the query language and its executor over the repository
    "index",      // the persistent index: SQLite tables, validity, the writer thread
    "subsystems", // the design's supervision tree, one folder per subsystem
    "report",     // output formats over the model
    "cli",        // clap definitions
    "commands",   // one file per subcommand
    "main",
];

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    file: String,
    line: usize,
    from: String,
    to: String,
}

#[test]
fn every_top_level_module_has_a_layer() {
    let src = source_root();
    let mut missing = Vec::new();
    for entry in fs::read_dir(&src).expect("src/ is readable") {
        let path = entry.expect("entry").path();
        let name = match path.extension().and_then(|e| e.to_str()) {
            Some("rs") => path.file_stem().unwrap().to_string_lossy().into_owned(),
            None if path.is_dir() => path.file_name().unwrap().to_string_lossy().into_owned(),
            _ => continue,
        };
        if !LAYERS.contains(&name.as_str()) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "top-level modules without a layer in tests/architecture.rs: {missing:?}"
    );
}

#[test]
fn no_module_imports_a_later_one() {
    let src = source_root();
    let violations = check_tree(&src);
    let text: Vec<String> = violations
        .iter()
        .map(|v| {
            format!(
                "{}:{}: `{}` imports `{}`, which comes later in LAYERS",
                v.file, v.line, v.from, v.to
            )
        })
        .collect();
    assert!(
        violations.is_empty(),
        "{} layering violation(s):\n{}",
        violations.len(),
        text.join("\n")
    );
}

#[test]
fn no_two_top_level_modules_import_each_other() {
    let src = source_root();
    let edges = imports_between_modules(&src);
    let cycles: Vec<String> = edges
        .iter()
        .filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone())))
        .map(|(a, b)| format!("{a} <-> {b}"))
        .collect();
    assert!(
        cycles.is_empty(),
        "modules importing each other: {cycles:?}"
    );
}

/// The checker itself: it must see grouped imports, inline paths and `super::` chains.
#[test]
fn the_checker_sees_every_form_of_import() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    fs::create_dir_all(src.join("model")).unwrap();
    fs::create_dir_all(src.join("otp/inner")).unwrap();
    fs::write(
        src.join("model/mod.rs"),
        "use crate::{\n    otp,\n    report::json,\n};\n",
    )
    .unwrap();
    fs::write(
        src.join("otp/inner/deep.rs"),
        "// crate::report in a comment is not an import\nfn f() { let s = \"crate::cli\"; super::super::super::syntax::parse(); }\n",
    )
    .unwrap();
    fs::write(
        src.join("otp/mod.rs"),
        "fn g() -> crate::model::Record { super::exit::OK }\n",
    )
    .unwrap();
    let found = check_tree(src);
    let summary: Vec<(String, usize, String)> =
        found.into_iter().map(|v| (v.file, v.line, v.to)).collect();
    assert_eq!(
        summary,
        vec![
            ("model/mod.rs".to_string(), 3, "report".to_string()),
            ("otp/inner/deep.rs".to_string(), 2, "syntax".to_string()),
            ("otp/mod.rs".to_string(), 1, "exit".to_string()),
            ("otp/mod.rs".to_string(), 1, "model".to_string()),
        ]
    );
}

fn source_root() -> PathBuf {
    std::env::var_os("ELIXIRSCOPE_ARCH_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| *layer == module)
}

fn check_tree(src: &Path) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (relative, from, imports) in scan(src) {
        let Some(from_rank) = rank(&from) else {
            continue;
        };
        for (line, to) in imports {
            if to == from {
                continue;
            }
            // A name the layer list does not know (a crate-root item) cannot be ranked:
            // every module of src/ is ranked by `every_top_level_module_has_a_layer`.
            if rank(&to).is_some_and(|to_rank| to_rank > from_rank) {
                violations.push(Violation {
                    file: relative.clone(),
                    line,
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    violations.sort();
    violations.dedup();
    violations
}

fn imports_between_modules(src: &Path) -> BTreeSet<(String, String)> {
    let mut edges = BTreeSet::new();
    for (_, from, imports) in scan(src) {
        for (_, to) in imports {
            if to != from && rank(&to).is_some() {
                edges.insert((from.clone(), to));
            }
        }
    }
    edges
}

/// A file's path relative to `src`, its top-level module, and the top-level modules it names,
/// each with its line.
type Scanned = (String, String, Vec<(usize, String)>);

/// Every `.rs` file under `src`.
fn scan(src: &Path) -> Vec<Scanned> {
    let mut files = Vec::new();
    collect(src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let module_path = module_path(&relative);
            let text = fs::read_to_string(&path).unwrap_or_default();
            let imports = imported_modules(&strip_comments_and_strings(&text), &module_path);
            (relative, module_path[0].clone(), imports)
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `extract/calls.rs` → [extract, calls]; `extract/mod.rs` → [extract]; `main.rs` → [main].
fn module_path(relative: &str) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if parts.len() > 1 && parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The text with comments and string literals blanked (newlines kept, so lines still count).
fn strip_comments_and_strings(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(text.len(), |n| i + n);
            i = end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(text.len(), |n| i + n + 2);
            out.extend(text[i..end].chars().filter(|c| *c == '\n'));
            i = end;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].chars().take_while(|c| *c == '#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let body = 2 + hashes;
            let end = rest[body..]
                .find(&close)
                .map_or(text.len(), |n| i + body + n + close.len());
            out.extend(text[i..end].chars().filter(|c| *c == '\n'));
            i = end;
        } else if rest.starts_with('"') {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(bytes.len());
            out.extend(text[i..end].chars().filter(|c| *c == '\n'));
            i = end;
        } else if rest.starts_with("'") && is_char_literal(rest) {
            let end = rest[1..].find('\'').map_or(text.len(), |n| i + n + 2);
            i = end;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `'a'`, `'\n'`, `'"'` but not a lifetime `'a`.
fn is_char_literal(rest: &str) -> bool {
    let mut chars = rest.chars().skip(1);
    match chars.next() {
        Some('\\') => true,
        Some(_) => chars.next() == Some('\''),
        None => false,
    }
}

/// The top-level modules named by `crate::` paths and by `super::` chains that reach the crate
/// root, each with its line.
fn imported_modules(code: &str, module_path: &[String]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let line_of = |offset: usize| code[..offset].matches('\n').count() + 1;
    // crate::name and crate::{a, b::c, ...}
    let mut search = 0;
    while let Some(at) = code[search..].find("crate::") {
        let start = search + at;
        search = start + "crate::".len();
        if start > 0 && is_ident_byte(code.as_bytes()[start - 1]) {
            continue; // `$crate::`, `my_crate::`
        }
        let after = &code[search..];
        if let Some(group) = after.strip_prefix('{') {
            let close = matching_brace(group);
            let inner = &group[..close];
            let mut offset = search + 1;
            for item in split_top_level(inner) {
                let name = leading_ident(item.trim_start());
                if !name.is_empty() && name != "self" {
                    let lead = item.len() - item.trim_start().len();
                    found.push((line_of(offset + lead), name.to_string()));
                }
                offset += item.len() + 1;
            }
        } else {
            let name = leading_ident(after);
            if !name.is_empty() {
                found.push((line_of(start), name.to_string()));
            }
        }
    }
    // super::super::name: climbs out of the file's module.
    let mut search = 0;
    while let Some(at) = code[search..].find("super::") {
        let start = search + at;
        if start > 0 && is_ident_byte(code.as_bytes()[start - 1]) {
            search = start + 1;
            continue;
        }
        let mut depth = 0;
        let mut cursor = start;
        while code[cursor..].starts_with("super::") {
            depth += 1;
            cursor += "super::".len();
        }
        search = cursor;
        // A module at depth d (crate root's children have d = 1) reaches the root after d supers.
        if depth >= module_path.len() && module_path[0] != "main" {
            let name = leading_ident(&code[cursor..]);
            if !name.is_empty() {
                found.push((line_of(start), name.to_string()));
            }
        }
    }
    found
}

fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$'
}

fn leading_ident(text: &str) -> &str {
    let end = text
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// Index of the `}` closing a group whose `{` was just before `text`.
fn matching_brace(text: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

/// Splits `a, b::{c, d}, e` at its top-level commas.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items
}
