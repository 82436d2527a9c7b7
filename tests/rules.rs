//! Every rule against its fixture: `fixtures/rules/<rule-id>.ex` (and, when a rule needs more
//! than one file, the files under `fixtures/rules/<rule-id>/`). A line that must be flagged
//! carries `# expect: <rule-id>` (`<rule-id>*2` for two findings on the line); every other line
//! must not be. An optional `# select: a, b` line runs further rules with it (for example the
//! rule a suppression names). The findings are also pinned by an insta snapshot.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{bin, run_with};

fn fixtures() -> PathBuf {
    common::fixtures().join("rules")
}

/// (path relative to the fixture root, line) → expected count, for `rule`.
fn expectations(rule: &str, files: &[PathBuf], base: &Path) -> BTreeMap<(String, u32), u32> {
    let mut expected = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let relative = file
            .strip_prefix(base)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        for (index, line) in text.lines().enumerate() {
            let Some(markers) = line.split("# expect:").nth(1) else {
                continue;
            };
            for marker in markers.split(',') {
                let marker = marker.trim();
                let (id, count) = match marker.split_once('*') {
                    Some((id, count)) => (id.trim(), count.trim().parse().unwrap()),
                    None => (marker, 1),
                };
                if id == rule {
                    *expected
                        .entry((relative.clone(), index as u32 + 1))
                        .or_insert(0) += count;
                }
            }
        }
    }
    expected
}

fn extra_selection(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .flat_map(|file| {
            std::fs::read_to_string(file)
                .unwrap()
                .lines()
                .filter_map(|l| l.trim().strip_prefix("# select:").map(str::to_string))
                .collect::<Vec<_>>()
        })
        .flat_map(|s| {
            s.split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn rule_ids() -> Vec<String> {
    let run = common::run(&["rules", "--format", "json"]);
    let rules: Vec<serde_json::Value> = serde_json::from_str(&run.stdout()).unwrap();
    rules
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn files_for(rule: &str) -> Vec<PathBuf> {
    let mut files = vec![fixtures().join(format!("{rule}.ex"))];
    let directory = fixtures().join(rule);
    if directory.is_dir() {
        let mut stack = vec![directory];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_rule_flags_exactly_the_marked_lines() {
    let mut failures = Vec::new();
    for rule in rule_ids() {
        let files = files_for(&rule);
        let mut selection = vec![rule.clone()];
        selection.extend(extra_selection(&files));
        let mut command = bin();
        command
            .current_dir(fixtures())
            .args([
                "analyze",
                "--format",
                "json",
                "--fail-on",
                "never",
                "--select",
            ])
            .arg(selection.join(","))
            .args(&files);
        let run = run_with(&mut command);
        if run.code() != 0 {
            failures.push(format!("{rule}: exit {} {}", run.code(), run.stderr()));
            continue;
        }
        let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
        let root = PathBuf::from(report["root"].as_str().unwrap());
        let base = fixtures().canonicalize().unwrap();
        let mut found: BTreeMap<(String, u32), u32> = BTreeMap::new();
        let mut snapshot = String::new();
        for finding in report["findings"].as_array().unwrap() {
            if finding["rule"] != rule.as_str() {
                continue;
            }
            let path = root.join(finding["path"].as_str().unwrap());
            let relative = path
                .strip_prefix(&base)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|_| finding["path"].as_str().unwrap().to_string());
            let line = finding["line"].as_u64().unwrap() as u32;
            *found.entry((relative.clone(), line)).or_insert(0) += 1;
            snapshot.push_str(&format!(
                "{relative}:{line}:{}-{}:{} {} {}\n",
                finding["column"],
                finding["end_line"],
                finding["end_column"],
                finding["severity"].as_str().unwrap(),
                finding["message"].as_str().unwrap()
            ));
        }
        let expected = expectations(&rule, &files, &base);
        if expected.is_empty() {
            failures.push(format!(
                "{rule}: the fixture marks no line with `# expect: {rule}`"
            ));
        }
        if found != expected {
            failures.push(format!(
                "{rule}:\n    expected {expected:?}\n    found    {found:?}"
            ));
        }
        insta::assert_snapshot!(format!("rule__{rule}"), snapshot);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
