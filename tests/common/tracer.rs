//! Elixir's compiler as an oracle: `tests/oracle/calls.exs` compiles a fixture project with a
//! compilation tracer (what `mix xref` is built on) and lists the calls and references it sees.
#![allow(dead_code)] // reason: each test binary uses a subset

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::common::Report;

/// One event of Elixir's compilation tracer (see `tests/oracle/calls.exs`).
#[derive(Debug, serde::Deserialize)]
pub struct Traced {
    /// Relative to the root given to the oracle.
    pub path: String,
    pub line: u32,
    pub column: Option<u32>,
    pub event: String,
    pub module: Option<String>,
    pub name: Option<String>,
    pub arity: Option<u32>,
    /// The module being compiled, if any.
    pub caller: Option<String>,
    /// `name/arity` of the function being compiled, if any.
    pub function: Option<String>,
    /// The label `mix xref trace` gives the event.
    pub label: String,
}

/// `elixir`, or None when absent and not required (as in `tests/oracle.rs`).
pub fn elixir() -> Option<&'static str> {
    let found = Command::new("elixir")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("ELIXIRSCOPE_REQUIRE_ORACLE").as_deref() != Ok("1"),
            "ELIXIRSCOPE_REQUIRE_ORACLE=1 but `elixir` is not installed (apt-get install elixir)"
        );
        eprintln!("skipped: `elixir` is not installed, so the differential test cannot run");
        return None;
    }
    Some("elixir")
}

fn elixir_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            elixir_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("ex" | "exs")
        ) && path.file_name().is_some_and(|n| n != "mix.exs")
        {
            out.push(path);
        }
    }
}

/// Compiles every file under `root` (but `mix.exs`) with the tracer of
/// `tests/oracle/calls.exs` and returns the events.
pub fn trace(elixir: &str, root: &Path) -> Vec<Traced> {
    let mut files = Vec::new();
    elixir_files(root, &mut files);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/calls.exs");
    let output = Command::new(elixir)
        .arg(script)
        .arg(root)
        .args(&files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

const CALL_EVENTS: &[&str] = &[
    "remote_function",
    "remote_macro",
    "imported_function",
    "imported_macro",
    "local_function",
    "local_macro",
];

/// Names the compiler traces that elixirscope lists as constructs, not calls.
const CONSTRUCTS: &[&str] = &[
    "alias",
    "def",
    "defdelegate",
    "defexception",
    "defguard",
    "defguardp",
    "defimpl",
    "defmacro",
    "defmacrop",
    "defmodule",
    "defoverridable",
    "defp",
    "defprotocol",
    "defstruct",
    "import",
    "require",
    "use",
    "__using__",
];

/// Operators (`+`, `|>`, `..`) are not listed as calls.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .trim_end_matches(['?', '!'])
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Compares elixirscope's calls and references in `report` with the compiler's `events`:
/// every resolved call and every reference must be traced at the same place with the same
/// callee, and every call the compiler traces in the source must be listed. `fixture` is the
/// prefix of report paths that the events' paths lack. Returns the differences and how many
/// calls and references were compared.
pub fn differences(report: &Report, events: &[Traced], fixture: &str) -> (Vec<String>, usize) {
    let mut differences = Vec::new();
    let mut compared = 0usize;
    let mut ours_at: BTreeSet<(String, u32, u32)> = BTreeSet::new();
    for file in &report.files {
        let relative = file.path.split(fixture).nth(1).unwrap_or(&file.path);
        let at = |line: u32, column: Option<u32>| {
            events
                .iter()
                .filter(move |e| e.path == relative && e.line == line && e.column == column)
                .filter(|e| CALL_EVENTS.contains(&e.event.as_str()))
        };
        for (owner, call) in file.all_calls() {
            ours_at.insert((relative.to_string(), call.line, call.column));
            let describe = || format!("{relative}: {owner} | {}", call.describe());
            if call.quoted
                || matches!(call.target.as_str(), "special_form" | "dynamic")
                || call.form == "anonymous"
            {
                continue;
            }
            compared += 1;
            let name = call.name.as_deref();
            if call.form == "apply" {
                if !at(call.line, Some(call.column)).any(|e| e.name.as_deref() == Some("apply")) {
                    differences.push(format!("{}: no apply traced there", describe()));
                }
                continue;
            }
            if call.form == "delegate" {
                let function = owner
                    .rsplit_once('.')
                    .map(|(_, f)| f.split('#').next().unwrap());
                let found = at(call.line, None).any(|e| {
                    e.module == call.module
                        && e.name.as_deref() == name
                        && e.arity == call.arity
                        && e.function.as_deref() == function
                });
                if !found {
                    differences.push(format!("{}: no delegated call traced", describe()));
                }
                continue;
            }
            let candidates: Vec<&Traced> = at(call.line, Some(call.column))
                .filter(|e| e.name.as_deref() == name && e.arity == call.arity)
                .collect();
            if call.target == "unknown" {
                let explained = candidates.iter().any(|e| {
                    e.module
                        .as_ref()
                        .is_some_and(|m| call.candidates.contains(m))
                });
                if !explained {
                    differences.push(format!(
                        "{}: Elixir resolves it to {:?}",
                        describe(),
                        candidates.iter().map(|e| &e.module).collect::<Vec<_>>()
                    ));
                }
                continue;
            }
            let matching = candidates.iter().find(|e| {
                let module = e.module.clone().or_else(|| e.caller.clone());
                module == call.module
            });
            match matching {
                None => differences.push(format!(
                    "{}: Elixir traces {:?}",
                    describe(),
                    at(call.line, Some(call.column))
                        .map(|e| format!("{} {:?}.{:?}/{:?}", e.event, e.module, e.name, e.arity))
                        .collect::<Vec<_>>()
                )),
                Some(event) => {
                    if event.event.ends_with("_macro") != call.is_macro {
                        differences.push(format!("{}: Elixir says {}", describe(), event.event));
                    }
                    if event.event.starts_with("imported_") != call.imported {
                        differences.push(format!("{}: Elixir says {}", describe(), event.event));
                    }
                }
            }
        }
    }
    // Module references: each is an alias reference or struct expansion the compiler traces.
    for file in &report.files {
        let relative = file.path.split(fixture).nth(1).unwrap_or(&file.path);
        for (owner, reference) in file.all_references() {
            compared += 1;
            let event = if reference.kind == "struct" {
                "struct_expansion"
            } else {
                "alias_reference"
            };
            let traced = events.iter().any(|e| {
                e.path == relative
                    && e.line == reference.line
                    && e.column == Some(reference.column)
                    && e.event == event
                    && e.module.as_deref() == Some(reference.module.as_str())
            });
            if !traced {
                differences.push(format!(
                    "{relative}: {owner} | reference {reference:?}: Elixir traces no {event} there"
                ));
            }
        }
    }
    // The other way: every call the compiler sees in the source is listed.
    for event in events {
        let (Some(column), Some(name)) = (event.column, event.name.as_deref()) else {
            continue;
        };
        if !CALL_EVENTS.contains(&event.event.as_str())
            || !is_identifier(name)
            || CONSTRUCTS.contains(&name)
            || event
                .module
                .as_deref()
                .is_some_and(|m| m.starts_with(":elixir"))
        {
            continue;
        }
        // Kernel functions the compiler inlines are traced twice, once as `:erlang`.
        if event.module.as_deref() == Some(":erlang")
            && events.iter().any(|other| {
                other.path == event.path
                    && other.line == event.line
                    && other.module.as_deref() == Some("Kernel")
                    && other.name == event.name
            })
        {
            continue;
        }
        // Code a project macro expands to is traced at the caller's line with the columns of
        // the macro's `quote`.
        let expanded_here = events.iter().any(|other| {
            other.path == event.path
                && other.line == event.line
                && other.event.ends_with("_macro")
                && other.module.as_deref() != Some("Kernel")
        });
        if !expanded_here && !ours_at.contains(&(event.path.clone(), event.line, column)) {
            differences.push(format!(
                "{}:{}:{}: Elixir traces {} {:?}.{name}/{:?}, elixirscope lists no call there",
                event.path, event.line, column, event.event, event.module, event.arity
            ));
        }
    }
    (differences, compared)
}
