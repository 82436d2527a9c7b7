//! Complexity metrics equal to Credo's (issue [3b]).
//!
//! - The fixtures under `fixtures/metrics/` state the expected values of each clause in a
//!   comment on the line above it, worked out from ../shared/CREDO_CHECKS.md §1–5:
//!   `# expect: cyclomatic=3 perceived=2 nesting=1 nesting_line=+4 abc=4 a=0 b=2 c=3 arity=1`
//!   (`-` = not scored, `metrics=none` = not measured, `nesting_line` relative to the clause).
//! - `tests/oracle/credo_metrics.exs` computes the same definitions on Elixir's own AST; every
//!   definition of every fixture must agree with it (skipped without `elixir`, unless
//!   ELIXIRSCOPE_REQUIRE_ORACLE=1).
//! - Functions, modules and the project sum their clauses up.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::report::{ClauseMetrics, FileRecord};
use common::{parse_json, scratch, write};
use serde::Deserialize;

/// A measured definition of the report: a clause, a quoted template or a dynamic definition.
struct Measured<'r> {
    line: u32,
    kind: String,
    name: Option<String>,
    arity: Option<u32>,
    metrics: Option<&'r ClauseMetrics>,
}

fn measured(file: &FileRecord) -> Vec<Measured<'_>> {
    let mut out = Vec::new();
    for module in &file.modules {
        for function in &module.functions {
            for clause in &function.clauses {
                out.push(Measured {
                    line: clause.line,
                    kind: function.kind.clone(),
                    name: Some(function.name.clone()),
                    arity: Some(function.arity),
                    metrics: clause.metrics.as_ref(),
                });
            }
        }
        for injected in &module.injected {
            if injected.arity.is_some() {
                out.push(Measured {
                    line: injected.line,
                    kind: injected.kind.clone(),
                    name: Some(injected.name.clone()),
                    arity: injected.arity,
                    metrics: injected.metrics.as_ref(),
                });
            }
        }
        for dynamic in &module.dynamic_definitions {
            out.push(Measured {
                line: dynamic.line,
                kind: dynamic.kind.clone(),
                name: None,
                arity: None,
                metrics: dynamic.metrics.as_ref(),
            });
        }
    }
    out
}

fn metrics_fixtures() -> PathBuf {
    common::fixtures().join("metrics")
}

/// `# expect:` comments: (line of the clause, key → value).
fn expectations(path: &Path) -> Vec<(u32, BTreeMap<String, String>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("# expect:") else {
            continue;
        };
        let fields = rest
            .split_whitespace()
            .map(|pair| {
                let (key, value) = pair
                    .split_once('=')
                    .unwrap_or_else(|| panic!("{}:{}: bad `{pair}`", path.display(), index + 1));
                (key.to_string(), value.to_string())
            })
            .collect();
        out.push((u32::try_from(index).unwrap() + 2, fields));
    }
    out
}

fn check_field(key: &str, value: &str, line: u32, metrics: &ClauseMetrics) -> Result<(), String> {
    let number = |v: &str| -> Option<u32> {
        (v != "-").then(|| {
            v.parse()
                .unwrap_or_else(|_| panic!("{key}={v} is not a number"))
        })
    };
    let (expected, actual): (Option<u32>, Option<u32>) = match key {
        "cyclomatic" => (number(value), metrics.cyclomatic),
        "perceived" => (number(value), metrics.perceived),
        "abc" => (number(value), metrics.abc.map(|abc| abc.size)),
        "a" => (number(value), metrics.abc.map(|abc| abc.a)),
        "b" => (number(value), metrics.abc.map(|abc| abc.b)),
        "c" => (number(value), metrics.abc.map(|abc| abc.c)),
        "nesting" => (number(value), Some(metrics.nesting)),
        "nesting_line" => {
            let offset: u32 = value
                .strip_prefix('+')
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("nesting_line={value}: write +N"));
            (Some(line + offset), Some(metrics.nesting_line))
        }
        "arity" => (number(value), Some(metrics.arity)),
        "lines" => (number(value), Some(metrics.lines)),
        other => panic!("unknown expectation key {other}"),
    };
    if expected == actual {
        Ok(())
    } else {
        Err(format!("{key}: expected {expected:?}, got {actual:?}"))
    }
}

#[test]
fn fixtures_get_the_values_their_comments_state() {
    let dir = metrics_fixtures();
    let run = parse_json(&[&dir], &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let report = run.report();
    let mut failures = Vec::new();
    let mut per_metric: BTreeMap<String, usize> = BTreeMap::new();
    let mut files = 0;
    for file in &report.files {
        files += 1;
        assert_eq!(file.status, "ok", "{} must parse cleanly", file.path);
        let path = PathBuf::from(&report.root).join(&file.path);
        let expected = expectations(&path);
        let measured = measured(file);
        let expected_lines: BTreeSet<u32> = expected.iter().map(|(line, _)| *line).collect();
        for entry in &measured {
            if entry.metrics.is_some() && !expected_lines.contains(&entry.line) {
                failures.push(format!(
                    "{}:{}: {} {:?} has metrics but no `# expect:` comment",
                    file.path, entry.line, entry.kind, entry.name
                ));
            }
        }
        for (line, fields) in &expected {
            let here: Vec<&Measured> = measured.iter().filter(|m| m.line == *line).collect();
            if here.is_empty() {
                failures.push(format!("{}:{line}: no definition here", file.path));
                continue;
            }
            for entry in here {
                let label = format!("{}:{line} {} {:?}", file.path, entry.kind, entry.name);
                if fields.get("metrics").map(String::as_str) == Some("none") {
                    if let Some(metrics) = entry.metrics {
                        failures.push(format!("{label}: expected no metrics, got {metrics:?}"));
                    }
                    continue;
                }
                let Some(metrics) = entry.metrics else {
                    failures.push(format!("{label}: no metrics"));
                    continue;
                };
                for (key, value) in fields {
                    if value != "-" {
                        *per_metric.entry(key.clone()).or_default() += 1;
                    }
                    if let Err(message) = check_field(key, value, *line, metrics) {
                        failures.push(format!("{label}: {message}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for metric in ["cyclomatic", "perceived", "nesting", "abc", "arity"] {
        let count = per_metric.get(metric).copied().unwrap_or(0);
        assert!(count >= 40, "only {count} clauses state `{metric}`");
    }
    eprintln!("{files} fixture files, clauses per metric: {per_metric:?}");
}

// ---------------------------------------------------------------------------------------------
// The differential test against the oracle.

#[derive(Debug, Deserialize)]
struct OracleFile {
    path: String,
    parse: String,
    defs: Vec<OracleDef>,
}

#[derive(Debug, Deserialize)]
struct OracleDef {
    kind: String,
    name: Option<String>,
    line: u32,
    arity: u32,
    scored: bool,
    cyclomatic: u32,
    perceived: u32,
    nesting: u32,
    nesting_line: u32,
    abc: [u32; 3],
}

impl OracleDef {
    fn expected(&self) -> ClauseMetrics {
        let [a, b, c] = self.abc;
        let size = (f64::from(a * a + b * b + c * c)).sqrt().round() as u32;
        ClauseMetrics {
            cyclomatic: self.scored.then_some(self.cyclomatic),
            perceived: self.scored.then_some(self.perceived),
            nesting: self.nesting,
            nesting_line: self.nesting_line,
            abc: self
                .scored
                .then_some(common::report::AbcSize { a, b, c, size }),
            arity: self.arity,
            lines: 0,
        }
    }
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

fn run_oracle(elixir: &Path, files: &[PathBuf]) -> Vec<OracleFile> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/credo_metrics.exs");
    let output = Command::new(elixir)
        .arg(script)
        .args(files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Compares every definition elixirscope reports with the oracle's; returns the number compared.
fn compare_with_oracle(dir: &Path, differences: &mut Vec<String>) -> usize {
    let Some(elixir) = oracle() else { return 0 };
    let mut files = Vec::new();
    elixir_files(dir, &mut files);
    let expected = run_oracle(&elixir, &files);
    assert_eq!(expected.len(), files.len());

    let run = parse_json(&[dir], &[]);
    let report = run.report();
    let root = PathBuf::from(&report.root);
    let ours: BTreeMap<PathBuf, &FileRecord> = report
        .files
        .iter()
        .map(|f| (root.join(&f.path).canonicalize().unwrap(), f))
        .collect();
    let mut compared = 0;
    for file in &expected {
        if file.parse != "ok" {
            continue;
        }
        let path = PathBuf::from(&file.path).canonicalize().unwrap();
        let record = ours[&path];
        if record.status != "ok" {
            // Elixir parses it, tree-sitter recovers from an error: not comparable.
            continue;
        }
        for entry in measured(record) {
            if entry.metrics.is_none()
                && !matches!(entry.kind.as_str(), "def" | "defp" | "defmacro")
            {
                continue;
            }
            let candidates: Vec<&OracleDef> = file
                .defs
                .iter()
                .filter(|d| {
                    d.line == entry.line
                        && d.kind == entry.kind
                        && (entry.name.is_none() || d.name == entry.name)
                        && entry.arity.is_none_or(|arity| d.arity == arity)
                })
                .collect();
            let label = format!(
                "{}:{} {} {:?}",
                record.path, entry.line, entry.kind, entry.name
            );
            let [theirs] = candidates.as_slice() else {
                differences.push(format!(
                    "{label}: {} oracle definitions match",
                    candidates.len()
                ));
                continue;
            };
            let Some(mine) = entry.metrics else {
                differences.push(format!("{label}: no metrics"));
                continue;
            };
            compared += 1;
            let mut expected = theirs.expected();
            expected.lines = mine.lines;
            if &expected != mine {
                differences.push(format!(
                    "{label}\n    oracle:      {expected:?}\n    elixirscope: {mine:?}"
                ));
            }
        }
    }
    compared
}

#[test]
fn metrics_fixtures_match_the_oracle() {
    let mut differences = Vec::new();
    let compared = compare_with_oracle(&metrics_fixtures(), &mut differences);
    assert!(
        differences.is_empty(),
        "{} differences with the oracle:\n{}",
        differences.len(),
        differences.join("\n")
    );
    eprintln!("compared {compared} definitions with the oracle");
}

#[test]
fn every_other_fixture_matches_the_oracle() {
    let mut differences = Vec::new();
    let mut compared = 0;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(common::fixtures())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir() && !path.ends_with("metrics"))
        .collect();
    dirs.sort();
    for dir in dirs {
        compared += compare_with_oracle(&dir, &mut differences);
    }
    assert!(
        differences.is_empty(),
        "{} differences with the oracle:\n{}",
        differences.len(),
        differences.join("\n")
    );
    eprintln!("compared {compared} definitions with the oracle");
}

// ---------------------------------------------------------------------------------------------
// Functions, modules and the project.

#[test]
fn functions_modules_and_the_project_sum_their_clauses_up() {
    let dir = scratch();
    write(
        dir.path(),
        "lib/shapes.ex",
        "\
defmodule Shapes do
  def area({:square, s}), do: s * s

  def area({:rect, w, h}) do
    if w > 0 and h > 0 do
      w * h
    else
      0
    end
  end

  defp helper(x), do: x
  defmacrop private_macro(x), do: x
  defdelegate size(x), to: Enum, as: :count
end
",
    );
    let run = parse_json(&[dir.path()], &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let report = run.report();
    let module = &report.file("lib/shapes.ex").modules[0];
    let area = &module.functions[0];
    let clauses: Vec<u32> = area
        .clauses
        .iter()
        .map(|c| c.metrics.as_ref().unwrap().cyclomatic.unwrap())
        .collect();
    assert_eq!(clauses, [1, 3]);
    let metrics = area.metrics.as_ref().unwrap();
    assert_eq!(
        (
            metrics.clauses,
            metrics.cyclomatic,
            metrics.nesting,
            metrics.arity,
            metrics.lines
        ),
        (2, Some(3), 1, 1, 1 + 7)
    );
    // `defmacrop` and `defdelegate` are not measured by Credo.
    assert!(module.functions[2].metrics.is_none());
    assert!(module.functions[3].metrics.is_none());
    assert!(module.functions[3].clauses[0].metrics.is_none());
    let module_metrics = &module.metrics;
    assert_eq!(
        (
            module_metrics.public_functions,
            module_metrics.private_functions,
            module_metrics.lines,
            module_metrics.cyclomatic_sum,
            module_metrics.cyclomatic_max
        ),
        (2, 2, 15, 4, 3)
    );
    let project = &report.summary.metrics;
    assert_eq!(project.modules, 1);
    assert_eq!(project.scored_functions, 2);
    assert_eq!(project.scored_clauses, 3);
    assert_eq!(project.cyclomatic_sum, 4);
    assert_eq!(project.cyclomatic_max, 3);
    let bands: Vec<(u32, Option<u32>, u64)> = project
        .distribution
        .iter()
        .map(|b| (b.min, b.max, b.functions))
        .collect();
    assert_eq!(
        bands,
        [
            (1, Some(5), 2),
            (6, Some(9), 0),
            (10, Some(19), 0),
            (20, Some(49), 0),
            (50, None, 0)
        ]
    );
}

#[test]
fn import_ecto_query_anywhere_excludes_query_functions_from_abc() {
    let body = "\
defmodule Q do
  def q(x) do
    from(p in Post, where: p.id == ^x, select: p)
  end
end
";
    let dir = scratch();
    write(dir.path(), "lib/plain.ex", body);
    // The import after the function still counts (§4: anywhere in the file).
    write(
        dir.path(),
        "lib/ecto.ex",
        format!("{body}defmodule Later do\n  import Ecto.Query, only: [from: 2]\nend\n"),
    );
    let run = parse_json(&[dir.path()], &[]);
    let report = run.report();
    let abc = |path: &str| {
        let clause = &report.file(path).modules[0].functions[0].clauses[0];
        clause.metrics.as_ref().unwrap().abc.unwrap()
    };
    // `from`, `in`, `p`, the `p` of `p.id` (a dot on a variable is free), the `p` of `select`;
    // `Post`, `==` and `^` are free, `x` is known.
    let plain = abc("lib/plain.ex");
    assert_eq!((plain.a, plain.b, plain.c), (0, 5, 0));
    let ecto = abc("lib/ecto.ex");
    assert_eq!((ecto.a, ecto.b, ecto.c), (0, 0, 0));
}

#[test]
fn deep_nesting_is_measured_without_recursion() {
    let depth = 20_000;
    let mut source = String::from("defmodule Deep do\n  def f(x) do\n");
    source.push_str(&"if x do\n".repeat(depth));
    source.push_str("x\n");
    source.push_str(&"end\n".repeat(depth));
    source.push_str("  end\nend\n");
    let dir = scratch();
    write(dir.path(), "lib/deep.ex", source);
    let run = parse_json(&[dir.path()], &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let report = run.report();
    let file = report.file("lib/deep.ex");
    assert_eq!(file.status, "ok");
    let metrics = file.modules[0].functions[0].clauses[0]
        .metrics
        .clone()
        .unwrap();
    assert_eq!(metrics.nesting, u32::try_from(depth).unwrap());
    assert_eq!(metrics.cyclomatic, Some(u32::try_from(depth).unwrap() + 1));
    assert_eq!(metrics.nesting_line, 2 + u32::try_from(depth).unwrap());
}
