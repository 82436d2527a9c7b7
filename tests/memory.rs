//! The MemoryManager ([5b]) seen from outside: `--memory-limit` drives each pressure level
//! and each response (visible in `runtime.memory`) with the findings unchanged, a limit that
//! cannot be met exits 2 naming one that would, a crash of each of its services restarts it
//! and those after it (rest_for_one) with the findings unchanged, and its Cleaner removes a
//! gone root's data at the end of a run and nothing else.
//!
//! The limits are set from the same tree's natural peak, measured by a run without one: the
//! levels are shares of the limit, so the test holds on any machine.

mod common;

use std::path::Path;

use common::{bin, run_with};
use serde_json::Value;

/// A tree whose records are a large share of the run's memory: 400 modules of 16 functions,
/// each with findings.
fn tree() -> tempfile::TempDir {
    tree_of(16)
}

/// 400 modules of `functions` functions each.
fn tree_of(functions: usize) -> tempfile::TempDir {
    let dir = common::scratch();
    let body: String = (0..functions)
        .map(|f| {
            format!(
                "  def f{f}(x, y) do\n    case Map.get(x, :k{f}) do\n      nil -> IO.inspect(y)\n      \
                 v when is_integer(v) -> Enum.map([v, y], &(&1 + {f}))\n      \
                 v -> String.to_atom(v) |> Kernel.inspect()\n    end\n  end\n\n"
            )
        })
        .collect();
    for i in 0..400 {
        common::write(
            dir.path(),
            &format!("lib/m{i}.ex"),
            format!("defmodule M{i} do\n{body}end\n"),
        );
    }
    dir
}

struct Analysis {
    code: i32,
    stderr: String,
    report: Option<Value>,
}

fn analyze(root: &Path, cache: Option<&Path>, extra: &[&str], env: &[(&str, &str)]) -> Analysis {
    let mut command = bin();
    if let Some(cache) = cache {
        command.env("ELIXIRSCOPE_CACHE_DIR", cache);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .args(["analyze", "--format", "json", "--fail-on", "never"])
        .args(extra)
        .arg(root);
    let run = run_with(&mut command);
    Analysis {
        code: run.code(),
        stderr: run.stderr(),
        report: serde_json::from_str(&run.stdout()).ok(),
    }
}

impl Analysis {
    fn report(&self) -> &Value {
        self.report
            .as_ref()
            .unwrap_or_else(|| panic!("no report (exit {}): {}", self.code, self.stderr))
    }

    fn memory(&self) -> &Value {
        &self.report()["runtime"]["memory"]
    }

    fn peak(&self) -> u64 {
        self.memory()["peak_resident_bytes"].as_u64().unwrap()
    }

    fn levels(&self) -> Vec<String> {
        self.memory()["transitions"]
            .as_array()
            .map(|t| {
                t.iter()
                    .map(|t| t["to"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn findings(&self) -> &Value {
        &self.report()["findings"]
    }

    fn restarts(&self, path: &str) -> u64 {
        self.report()["runtime"]["supervision"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["path"] == path)
            .unwrap_or_else(|| panic!("{path} not in the supervision"))["restarts"]
            .as_u64()
            .unwrap()
    }
}

fn limit(bytes: u64) -> String {
    bytes.to_string()
}

#[test]
fn without_a_limit_nothing_is_measured_and_the_report_says_so() {
    let dir = tree();
    let run = analyze(dir.path(), None, &["--no-cache"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let memory = run.memory();
    assert!(memory["limit_bytes"].is_null(), "{memory}");
    assert!(memory["transitions"].is_null(), "{memory}");
    assert!(memory["narrowed"].is_null(), "{memory}");
    assert!(run.peak() > 0);
}

#[test]
fn a_limit_at_the_peak_is_elevated_and_a_lower_one_narrows_and_spills() {
    let dir = tree();
    let cache = common::fresh_cache_dir();
    let cold = analyze(dir.path(), Some(&cache), &[], &[]);
    assert_eq!(cold.code, 0, "{}", cold.stderr);
    assert!(cold.findings().as_array().unwrap().len() >= 400);

    // Elevated: a warm run (its findings read from the index) with its natural peak as the
    // limit is past 80 % from the start: the caches are evicted (which caches held what at
    // that moment depends on timing; the unit tests of cache_manager check the evictions).
    let warm = analyze(dir.path(), Some(&cache), &[], &[]);
    let elevated = analyze(
        dir.path(),
        Some(&cache),
        &["--memory-limit", &limit(warm.peak())],
        &[],
    );
    assert_eq!(elevated.code, 0, "{}", elevated.stderr);
    assert_eq!(elevated.findings(), cold.findings());
    let levels = elevated.levels();
    assert!(
        levels
            .first()
            .is_some_and(|l| l == "elevated" || l == "critical"),
        "{}",
        elevated.memory()
    );
    for eviction in elevated.memory()["evictions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        assert!(eviction["cache"] == "index_pages" || eviction["cache"] == "compiled_patterns");
        assert!(eviction["bytes"].as_u64() > Some(0), "{eviction}");
    }

    // The elevated response, whatever the timing: `memory:elevated` makes the Monitor
    // report elevated under a generous limit; the index readers' page caches (filled by the
    // warm run's reads, or by the opening of the index when it is registered under
    // pressure) are given back.
    let forced = analyze(
        dir.path(),
        Some(&cache),
        &["--memory-limit", "4GiB"],
        &[("ELIXIRSCOPE_FAULTS", "memory:elevated")],
    );
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(forced.findings(), cold.findings());
    assert_eq!(forced.levels(), vec!["elevated".to_string()]);
    assert!(forced.memory()["narrowed"].is_null());
    let evictions = forced.memory()["evictions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        evictions
            .iter()
            .any(|e| e["cache"] == "index_pages" && e["bytes"].as_u64() > Some(0)),
        "{}",
        forced.memory()
    );

    // Critical: a cold run with a limit under its natural peak: one file in flight, every
    // record reduced to its outcome and findings, the findings unchanged.
    let natural = analyze(dir.path(), None, &["--no-cache"], &[]);
    let critical = analyze(
        dir.path(),
        None,
        &[
            "--no-cache",
            "--memory-limit",
            &limit(natural.peak() * 80 / 100),
        ],
        &[],
    );
    assert_eq!(critical.code, 0, "{}", critical.stderr);
    assert_eq!(critical.findings(), natural.findings());
    assert_eq!(critical.report()["files"], natural.report()["files"]);
    assert!(
        critical.levels().contains(&"critical".to_string()),
        "{}",
        critical.memory()
    );
    assert_eq!(critical.memory()["narrowed"], true);
    assert_eq!(
        critical.memory()["spilled_records"],
        400,
        "{}",
        critical.memory()
    );
}

/// `parse` under critical pressure puts each record aside in a temporary database, keeps the
/// module tables, resolves each record read back whole, and writes the report from the
/// database: the same files and graph as without a limit. The tree holds the sample
/// application too, whose templates (`use`) the phase reads through the module tables.
///
/// On a tree this small the process itself is most of a debug build's memory, so no limit
/// lets `parse` both reach critical pressure and complete; `memory:critical` makes the
/// Monitor report critical under a generous limit instead, and the responses run for real
/// (BENCHMARKS.md has `parse` under a real limit on the bench corpus).
#[test]
fn parse_under_critical_pressure_spills_and_reports_the_same_files_and_graph() {
    let dir = tree();
    common::copy_tree(
        &common::fixtures().join("sample_app"),
        &dir.path().join("sample_app"),
    );
    let parse = |extra: &[&str], faults: &str| {
        let mut command = bin();
        command
            .env("ELIXIRSCOPE_FAULTS", faults)
            .arg("parse")
            .args(extra)
            .arg(dir.path());
        let run = run_with(&mut command);
        assert_eq!(run.code(), 0, "{}", run.stderr());
        serde_json::from_str::<Value>(&run.stdout()).unwrap()
    };
    let natural = parse(&["--no-cache", "--format", "json"], "");
    for extra in [&["--no-cache"][..], &[]] {
        for format in ["json", "ndjson"] {
            let args = [extra, &["--memory-limit", "4GiB", "--format", format]].concat();
            if format == "ndjson" {
                // Every file line equals the JSON report's record.
                let mut command = bin();
                command
                    .env("ELIXIRSCOPE_FAULTS", "memory:critical")
                    .arg("parse")
                    .args(&args)
                    .arg(dir.path());
                let run = run_with(&mut command);
                assert_eq!(run.code(), 0, "{}", run.stderr());
                let files: Vec<Value> = run
                    .stdout()
                    .lines()
                    .map(|line| serde_json::from_str::<Value>(line).unwrap())
                    .filter(|line| line["type"] == "file")
                    .map(|mut line| {
                        line.as_object_mut().unwrap().remove("type");
                        line
                    })
                    .collect();
                assert_eq!(Value::Array(files), natural["files"], "{extra:?} ndjson");
                continue;
            }
            let squeezed = parse(&args, "memory:critical");
            let memory = &squeezed["runtime"]["memory"];
            assert_eq!(memory["narrowed"], true, "{memory}");
            assert!(memory["spilled_records"].as_u64() >= Some(400), "{memory}");
            assert!(memory["spilled_bytes"].as_u64() > Some(0), "{memory}");
            assert_eq!(squeezed["files"], natural["files"], "{extra:?}");
            assert_eq!(squeezed["graph"], natural["graph"], "{extra:?}");
            assert_eq!(
                squeezed["summary"]["modules"],
                natural["summary"]["modules"]
            );
        }
    }
    // The spill database is gone with the run (in the system's temporary folder here).
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("elixirscope-spill-")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_limit_that_cannot_be_met_exits_2_naming_one_that_would() {
    let dir = tree();
    for size in ["1MiB", "4M"] {
        let run = analyze(
            dir.path(),
            None,
            &["--no-cache", "--memory-limit", size],
            &[],
        );
        assert_eq!(run.code, 2, "{size}: {}", run.stderr);
        assert!(run.report.is_none());
        assert!(run.stderr.contains("cannot be met"), "{}", run.stderr);
        let suggested = run
            .stderr
            .split("try --memory-limit ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no limit suggested: {}", run.stderr));
        assert!(suggested.ends_with("MiB"), "{suggested}");
        let suggested: u64 = suggested.trim_end_matches("MiB").parse().unwrap();
        assert!(suggested > 4, "{}", run.stderr);
    }
    // The environment variable is read the same way; a bad size is a usage error.
    let run = analyze(
        dir.path(),
        None,
        &["--no-cache"],
        &[("ELIXIRSCOPE_MEMORY_LIMIT", "1MiB")],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot be met"), "{}", run.stderr);
    let run = analyze(dir.path(), None, &["--memory-limit", "12 parsecs"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read the memory limit"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_crash_of_each_memory_manager_service_restarts_it_and_those_after_it() {
    let dir = tree();
    let order = ["monitor", "cache_manager", "cleaner", "pressure_handler"];
    let natural = analyze(dir.path(), None, &["--no-cache"], &[]);
    let squeeze = limit(natural.peak() * 80 / 100);
    for (position, service) in order.iter().enumerate() {
        let cache = common::fresh_cache_dir();
        // A first run fills the index, so the Cleaner has one to clean after the second.
        let first = analyze(dir.path(), Some(&cache), &[], &[]);
        assert_eq!(first.code, 0, "{}", first.stderr);
        let fault = format!("service:{service}:crash");
        let run = analyze(
            dir.path(),
            Some(&cache),
            &["--memory-limit", &squeeze],
            &[("ELIXIRSCOPE_FAULTS", fault.as_str())],
        );
        assert_eq!(run.code, 0, "{service}: {}", run.stderr);
        assert_eq!(run.findings(), natural.findings(), "{service}");
        for (at, other) in order.iter().enumerate() {
            let path = format!("root/repository/memory_manager/{other}");
            let expected = u64::from(at >= position);
            assert_eq!(run.restarts(&path), expected, "{service} crashed: {other}");
        }
    }
}

#[test]
fn the_cleaner_removes_a_gone_roots_data_at_the_end_of_a_run_and_nothing_else() {
    let cache = common::fresh_cache_dir();
    let kept = tree();
    let gone = common::scratch();
    common::copy_tree(&common::fixtures().join("sample_app"), gone.path());
    // Both roots in one index (the same cache folder).
    assert_eq!(analyze(gone.path(), Some(&cache), &[], &[]).code, 0);
    assert_eq!(analyze(kept.path(), Some(&cache), &[], &[]).code, 0);
    std::fs::remove_dir_all(gone.path()).unwrap();

    let run = analyze(kept.path(), Some(&cache), &[], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let cleaned = &run.memory()["index_cleaned"];
    assert_eq!(cleaned["roots_removed"], 1, "{}", run.memory());
    // The kept root's entries are still served: the next run parses nothing.
    let again = analyze(kept.path(), Some(&cache), &[], &[]);
    assert_eq!(again.report()["runtime"]["cache"]["parsed"], 0);
    assert_eq!(again.findings(), run.findings());
    assert!(
        again.memory()["index_cleaned"].is_null(),
        "{}",
        again.memory()
    );
}
