//! Output formats: snapshots of text, JSON and NDJSON on a small fixture, and the plumbing
//! around them (`--output`, `--color`, completions, `--locate`).

mod common;

use std::path::{Path, PathBuf};

use common::{bin, run_with, scratch};

/// Copies `fixtures/snapshot` into a fresh git-rooted directory so paths and root are stable.
fn snapshot_project() -> (tempfile::TempDir, PathBuf) {
    let dir = scratch();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    common::copy_tree(&common::fixtures().join("snapshot"), &root);
    (dir, root)
}

/// Replaces what varies between machines and runs: the root and the timings.
fn stable(text: &str, root: &Path) -> String {
    let text = text.replace(&root.display().to_string(), "[ROOT]");
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(&stabilise_line(line));
        out.push('\n');
    }
    out
}

fn stabilise_line(line: &str) -> String {
    if line.starts_with('{') {
        let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
        stabilise_value(&mut value);
        return serde_json::to_string_pretty(&value).unwrap();
    }
    // Text: "... files in 0.01 s under ..."
    match (line.find(" files in "), line.find(" s under ")) {
        (Some(start), Some(end)) => format!("{} files in [T]{}", &line[..start], &line[end..]),
        _ => line.to_string(),
    }
}

fn stabilise_value(value: &mut serde_json::Value) {
    if let Some(object) = value.as_object_mut() {
        // Timings, thread counts and queue depths vary between runs and machines.
        for key in [
            "elapsed_ms",
            "threads",
            "queue_capacity",
            "queue_high_water",
            "peak_heap_bytes",
            "peak_resident_bytes",
        ] {
            if object.contains_key(key) {
                object.insert(key.into(), 0.into());
            }
        }
        // The index of each test run is a folder of its own.
        if object.get("database").is_some_and(|d| d.is_string()) {
            object.insert("database".into(), "[INDEX]".into());
        }
        if object.get("type").and_then(|t| t.as_str()) == Some("runtime")
            || object.contains_key("jobs")
        {
            object.insert("jobs".into(), 0.into());
            if let Some(phases) = object.get_mut("phases").and_then(|p| p.as_array_mut()) {
                for phase in phases {
                    phase["elapsed_ms"] = 0.into();
                }
            }
        }
        for (_, child) in object.iter_mut() {
            stabilise_value(child);
        }
    } else if let Some(items) = value.as_array_mut() {
        for item in items {
            stabilise_value(item);
        }
    }
}

fn parse_output(root: &Path, format: &str) -> String {
    let run = run_with(
        bin()
            .args(["parse", "--format", format, "--color", "never"])
            .arg(root),
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    stable(&run.stdout(), root)
}

#[test]
fn text_snapshot() {
    let (_dir, root) = snapshot_project();
    insta::assert_snapshot!(parse_output(&root, "text"));
}

#[test]
fn json_snapshot() {
    let (_dir, root) = snapshot_project();
    let text = parse_output(&root, "json");
    common::validate(&serde_json::from_str(&text).unwrap());
    insta::assert_snapshot!(text);
}

#[test]
fn ndjson_snapshot_has_one_typed_object_per_line() {
    let (_dir, root) = snapshot_project();
    let run = run_with(bin().args(["parse", "--format", "ndjson"]).arg(&root));
    let lines: Vec<serde_json::Value> = run
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        vec!["header", "file", "file", "file", "file", "graph", "summary", "runtime"]
    );
    // Each `file` line carries the same record as the JSON document.
    let json: serde_json::Value = serde_json::from_str(
        &run_with(bin().args(["parse", "--format", "json"]).arg(&root)).stdout(),
    )
    .unwrap();
    for (index, line) in lines[1..5].iter().enumerate() {
        let mut record = line.clone();
        record.as_object_mut().unwrap().remove("type");
        assert_eq!(record, json["files"][index]);
    }
    insta::assert_snapshot!(parse_output(&root, "ndjson"));
}

#[test]
fn auto_format_is_json_when_piped_and_color_never_has_no_escapes() {
    let (_dir, root) = snapshot_project();
    let run = run_with(bin().arg("parse").arg(&root));
    assert!(run.stdout().starts_with("{\"schema_version\":1,"));
    let text = run_with(
        bin()
            .args(["parse", "--format", "text", "--color", "always"])
            .arg(&root),
    );
    assert!(text.stdout().contains("\x1b["));
    let plain = run_with(bin().args(["parse", "--format", "text"]).arg(&root));
    assert!(!plain.stdout().contains("\x1b["));
}

#[test]
fn output_file_receives_the_report() {
    let (_dir, root) = snapshot_project();
    let out = root.join("report.json");
    let run = run_with(
        bin()
            .args(["parse", "--format", "json", "--output"])
            .arg(&out)
            .arg(root.join("lib")),
    );
    assert_eq!(run.code(), 0);
    assert!(run.stdout().is_empty());
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    common::validate(&value);
    assert_eq!(value["summary"]["files"], 3);
}

#[test]
fn locate_prints_where_an_id_is_defined() {
    let (_dir, root) = snapshot_project();
    let report = common::parse_json(&[&root], &[]).report();
    let demo = &report.file("lib/demo.ex").modules[0];
    let function = demo
        .functions
        .iter()
        .find(|f| f.name == "handle_call")
        .unwrap();
    let run = run_with(bin().args(["parse", "--locate", &function.id]).arg(&root));
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(
        run.stdout(),
        "lib/demo.ex:16-19\tfunction\tdef Demo.handle_call/3\n"
    );
    let clause = &function.clauses[1];
    let run = run_with(bin().args(["parse", "--locate", &clause.id]).arg(&root));
    assert_eq!(
        run.stdout(),
        "lib/demo.ex:17-19\tclause\tdef Demo.handle_call/3 clause 2\n"
    );
    let missing = run_with(
        bin()
            .args(["parse", "--locate", "0000000000000000"])
            .arg(&root),
    );
    assert_eq!(missing.code(), 2);
}

#[test]
fn completions_are_generated_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = common::run(&["completions", shell]);
        assert_eq!(run.code(), 0);
        assert!(run.stdout().contains("elixirscope"), "{shell}");
        assert!(run.stdout().contains("max-file-size"), "{shell}");
    }
}

#[test]
fn help_ends_with_examples_and_exit_codes() {
    let run = common::run(&["parse", "--help"]);
    let help = run.stdout();
    let examples = help.find("Examples:").expect("examples in --help");
    let codes = help.find("Exit codes").expect("exit codes in --help");
    assert!(examples < codes);
    let short = common::run(&["parse", "-h"]).stdout();
    assert!(short
        .trim_end()
        .ends_with("elixirscope parse --locate 3f2a9c0d1e4b5a67"));
}
