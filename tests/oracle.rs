//! The differential test: Elixir's own parser is the judge of module names and definitions.
//! `tests/oracle/definitions.exs` lists them through `Code.string_to_quoted`; this test runs it
//! and `elixirscope parse` on every fixture and compares. Without `elixir` on PATH the test
//! says it skipped, unless ELIXIRSCOPE_REQUIRE_ORACLE=1 (as in CI) makes that a failure.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct OracleFile {
    path: String,
    parse: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    modules: Vec<OracleModule>,
}

#[derive(Debug, Deserialize)]
struct OracleModule {
    name: String,
    line: u32,
    definitions: Vec<OracleDefinition>,
    dynamic: usize,
    injected: Vec<OracleInjected>,
}

#[derive(Debug, Deserialize)]
struct OracleDefinition {
    kind: String,
    name: String,
    arity: u32,
    min_arity: u32,
}

#[derive(Debug, Deserialize)]
struct OracleInjected {
    kind: String,
    name: String,
    arity: u32,
}

/// `elixir`, or None when absent and not required.
fn oracle() -> Option<PathBuf> {
    let found = Command::new("elixir")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("elixir"));
    if found.is_none() {
        assert!(
            std::env::var("ELIXIRSCOPE_REQUIRE_ORACLE").as_deref() != Ok("1"),
            "ELIXIRSCOPE_REQUIRE_ORACLE=1 but `elixir` is not installed (apt-get install elixir)"
        );
        eprintln!("skipped: `elixir` is not installed, so the differential test cannot run");
    }
    found
}

fn elixir_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
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
        ) {
            out.push(path);
        }
    }
}

type DefinitionSet = BTreeSet<(String, String, u32, u32)>;
type InjectedSet = BTreeSet<(String, String, u32)>;

#[test]
fn modules_and_definitions_match_elixirs_parser() {
    let Some(elixir) = oracle() else { return };
    let fixtures = common::fixtures();
    let mut files = Vec::new();
    elixir_files(&fixtures, &mut files);
    assert!(files.len() >= 50, "fixtures missing: {}", files.len());

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/definitions.exs");
    let output = Command::new(elixir)
        .arg(script)
        .args(&files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected: Vec<OracleFile> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(expected.len(), files.len());

    let run = common::parse_json(&[&fixtures], &[]);
    let report = run.report();
    let root = PathBuf::from(&report.root);
    let ours: BTreeMap<PathBuf, &common::report::FileRecord> = report
        .files
        .iter()
        .map(|f| (root.join(&f.path), f))
        .collect();

    let mut differences = Vec::new();
    let mut compared_modules = 0;
    let mut compared_definitions = 0;
    for file in &expected {
        let path = PathBuf::from(&file.path).canonicalize().unwrap();
        let Some(record) = ours.get(&path) else {
            differences.push(format!("{}: not in elixirscope's report", file.path));
            continue;
        };
        let short = &record.path;
        if file.parse != "ok" {
            // Files Elixir rejects are compared separately: both must call them broken.
            if record.status != "syntax_error" {
                differences.push(format!(
                    "{short}: Elixir rejects it ({:?}) but elixirscope says {}",
                    file.message, record.status
                ));
            }
            continue;
        }
        if record.status != "ok" {
            differences.push(format!(
                "{short}: Elixir parses it but elixirscope says {}",
                record.status
            ));
            continue;
        }
        let theirs_names: Vec<(String, u32)> = file
            .modules
            .iter()
            .map(|m| (m.name.clone(), m.line))
            .collect();
        let mut ours_names: Vec<(String, u32)> = record
            .modules
            .iter()
            .map(|m| (m.name.clone(), m.line))
            .collect();
        ours_names.sort();
        if theirs_names != ours_names {
            differences.push(format!(
                "{short}: modules differ\n    elixir:      {theirs_names:?}\n    elixirscope: {ours_names:?}"
            ));
            continue;
        }
        for module in &file.modules {
            compared_modules += 1;
            let mine = record
                .modules
                .iter()
                .find(|m| m.name == module.name && m.line == module.line)
                .unwrap();
            let theirs: DefinitionSet = module
                .definitions
                .iter()
                .map(|d| (d.kind.clone(), d.name.clone(), d.arity, d.min_arity))
                .collect();
            let ours: DefinitionSet = mine
                .functions
                .iter()
                .map(|f| (f.kind.clone(), f.name.clone(), f.arity, f.min_arity))
                .collect();
            compared_definitions += theirs.len();
            if theirs != ours {
                differences.push(format!(
                    "{short}: {} definitions differ\n    only elixir:      {:?}\n    only elixirscope: {:?}",
                    module.name,
                    theirs.difference(&ours).collect::<Vec<_>>(),
                    ours.difference(&theirs).collect::<Vec<_>>()
                ));
            }
            if module.dynamic != mine.dynamic_definitions.len() {
                differences.push(format!(
                    "{short}: {} dynamic definitions: elixir {} elixirscope {}",
                    module.name,
                    module.dynamic,
                    mine.dynamic_definitions.len()
                ));
            }
            let theirs: InjectedSet = module
                .injected
                .iter()
                .map(|i| (i.kind.clone(), i.name.clone(), i.arity))
                .collect();
            let ours: InjectedSet = mine
                .injected
                .iter()
                .filter_map(|i| i.arity.map(|arity| (i.kind.clone(), i.name.clone(), arity)))
                .collect();
            if theirs != ours {
                differences.push(format!(
                    "{short}: {} injected differ\n    only elixir:      {:?}\n    only elixirscope: {:?}",
                    module.name,
                    theirs.difference(&ours).collect::<Vec<_>>(),
                    ours.difference(&theirs).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "{} differences with Elixir's parser:\n{}",
        differences.len(),
        differences.join("\n")
    );
    eprintln!(
        "compared {} files, {compared_modules} modules, {compared_definitions} definitions with Elixir's parser",
        expected.len()
    );
}
