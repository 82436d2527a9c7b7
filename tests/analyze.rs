//! `elixirscope analyze` from outside: exit codes, selection, suppressions, stdin, injected
//! rule failures and the deterministic breaker, formats.

mod common;

use common::{bin, run_with, scratch, write};

fn analyze(dir: &std::path::Path, extra: &[&str]) -> common::Run {
    run_with(
        bin()
            .current_dir(dir)
            .args(["analyze", "--format", "json"])
            .args(extra)
            .arg(dir),
    )
}

fn json(run: &common::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout(), run.stderr()))
}

fn findings(report: &serde_json::Value, rule: &str) -> Vec<(String, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

const INSPECTING: &str = "defmodule A do\n  @moduledoc false\n  def a(x), do: IO.inspect(x)\nend\n";
const CLEAN: &str = "defmodule B do\n  @moduledoc false\n  def b(x), do: x\nend\n";

#[test]
fn exit_codes_follow_findings_and_fail_on() {
    let dir = scratch();
    write(dir.path(), "lib/b.ex", CLEAN);
    assert_eq!(analyze(dir.path(), &["--select", "io-inspect"]).code(), 0);
    write(dir.path(), "lib/a.ex", INSPECTING);
    assert_eq!(analyze(dir.path(), &["--select", "io-inspect"]).code(), 1);
    assert_eq!(
        analyze(
            dir.path(),
            &["--select", "io-inspect", "--fail-on", "error"]
        )
        .code(),
        0
    );
    assert_eq!(
        analyze(
            dir.path(),
            &["--select", "io-inspect", "--fail-on", "never"]
        )
        .code(),
        0
    );
    assert_eq!(
        analyze(dir.path(), &["--select", "io-inspect", "--fail-on", "info"]).code(),
        1
    );
    // Usage errors are 2.
    assert_eq!(analyze(dir.path(), &["--select", "no-such-rule"]).code(), 2);
    assert_eq!(analyze(dir.path(), &["--fail-on", "sometimes"]).code(), 2);
}

#[test]
fn select_and_ignore_are_ruff_style() {
    let dir = scratch();
    write(dir.path(), "lib/a.ex", INSPECTING);
    let report = json(&analyze(
        dir.path(),
        &["--select", "warning", "--ignore", "io-inspect"],
    ));
    assert!(findings(&report, "io-inspect").is_empty());
    let enabled: Vec<&str> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["enabled"] == true)
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(!enabled.contains(&"io-inspect"));
    let report = json(&analyze(
        dir.path(),
        &["--select", "all", "--fail-on", "never"],
    ));
    assert_eq!(
        findings(&report, "io-inspect"),
        vec![("lib/a.ex".into(), 3)]
    );
    // The runtime section says how long each rule took.
    let timed: Vec<&str> = report["runtime"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(
        timed.contains(&"io-inspect") && timed.contains(&"unsafe-to-atom"),
        "{timed:?}"
    );
}

#[test]
fn a_failed_file_makes_the_run_incomplete() {
    let dir = scratch();
    write(dir.path(), "lib/a.ex", CLEAN);
    write(dir.path(), "lib/bad.ex", CLEAN);
    let run = run_with(
        bin()
            .env("ELIXIRSCOPE_FAULTS", "parse:panic:bad.ex")
            .args(["analyze", "--format", "json", "--select", "io-inspect"])
            .arg(dir.path()),
    );
    assert_eq!(run.code(), 3);
    let report = json(&run);
    let bad = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "lib/bad.ex")
        .unwrap();
    assert_eq!(bad["status"], "failed");
}

#[test]
fn a_rule_that_panics_is_isolated_and_disabled_after_five_files() {
    let dir = scratch();
    for i in 0..6 {
        write(
            dir.path(),
            &format!("lib/m{i}.ex"),
            INSPECTING.replace("A", &format!("M{i}")),
        );
    }
    let selection = [
        "--select",
        "io-inspect,unused-suppression",
        "--fail-on",
        "never",
    ];
    let clean = json(&analyze(dir.path(), &selection));
    assert_eq!(findings(&clean, "io-inspect").len(), 6);
    for jobs in ["1", "8"] {
        let run = run_with(
            bin()
                .env("ELIXIRSCOPE_FAULTS", "rule:io-inspect:panic")
                .args(["analyze", "--format", "json", "--jobs", jobs])
                .args(selection)
                .arg(dir.path()),
        );
        assert_eq!(run.code(), 3, "{}", run.stderr());
        let report = json(&run);
        assert!(findings(&report, "io-inspect").is_empty());
        let disabled = &report["summary"]["disabled_rules"];
        assert_eq!(disabled[0]["rule"], "io-inspect");
        assert_eq!(disabled[0]["failures"], 6);
        // The other rule's results are the same as in a clean run.
        assert_eq!(
            findings(&report, "unused-suppression"),
            findings(&clean, "unused-suppression")
        );
        let failures = report["runtime"]["failures"].as_array().unwrap();
        assert_eq!(failures.len(), 6);
        assert!(failures[0]["message"]
            .as_str()
            .unwrap()
            .contains("injected fault: rule:io-inspect:panic"));
    }
}

#[test]
fn fewer_than_five_failures_keep_the_rule() {
    let dir = scratch();
    write(dir.path(), "lib/a.ex", INSPECTING);
    let run = run_with(
        bin()
            .env("ELIXIRSCOPE_FAULTS", "rule:io-inspect:panic")
            .args(["analyze", "--format", "json", "--select", "io-inspect"])
            .arg(dir.path()),
    );
    // The rule failed on one file: its findings there are dropped and the failure reported,
    // but the rule is not disabled.
    let report = json(&run);
    assert!(report["summary"]["disabled_rules"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(report["runtime"]["failures"].as_array().unwrap().len(), 1);
    assert_eq!(run.code(), 0);
}

#[test]
fn suppression_comments() {
    let dir = scratch();
    write(
        dir.path(),
        "lib/s.ex",
        r#"defmodule S do
  @moduledoc false
  # elixirscope:disable-next-line io-inspect
  def a(x), do: IO.inspect(x)
  def b(x), do: IO.inspect(x) # elixirscope:disable-line
  # credo:disable-for-next-line Credo.Check.Warning.IoInspect
  def c(x), do: IO.inspect(x)
  # credo:disable-for-next-line /ioinspect/
  def d(x), do: IO.inspect(x)
  # credo:disable-for-next-line IoInspect
  def e(x), do: IO.inspect(x)
  # elixirscope:disable-next-line io-inspect
  def f(x), do: x
  def g(x), do: IO.inspect(x)
end
"#,
    );
    let report = json(&analyze(dir.path(), &["--fail-on", "never"]));
    let lines: Vec<u64> = findings(&report, "io-inspect")
        .iter()
        .map(|f| f.1)
        .collect();
    // `IoInspect` is not a full check name: Credo ignores it, and so do we.
    assert_eq!(lines, vec![11, 14]);
    assert_eq!(
        findings(&report, "unused-suppression"),
        vec![("lib/s.ex".into(), 12)]
    );
    assert_eq!(report["summary"]["suppressed"], 4);

    let report = json(&analyze(
        dir.path(),
        &["--fail-on", "never", "--no-foreign-suppressions"],
    ));
    let lines: Vec<u64> = findings(&report, "io-inspect")
        .iter()
        .map(|f| f.1)
        .collect();
    assert_eq!(lines, vec![7, 9, 11, 14]);

    write(dir.path(), "lib/t.ex", "# elixirscope:disable-file io-inspect\ndefmodule T do\n  @moduledoc false\n  def a(x), do: IO.inspect(x)\nend\n");
    let report = json(&analyze(dir.path(), &["--fail-on", "never"]));
    assert!(!findings(&report, "io-inspect")
        .iter()
        .any(|f| f.0 == "lib/t.ex"));
}

#[test]
fn stdin_filename_reports_the_buffer_as_that_path() {
    let dir = scratch();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    write(dir.path(), "lib/on_disk.ex", CLEAN);
    let run = common::run_with_input(
        bin().current_dir(dir.path()).args([
            "analyze",
            "--format",
            "json",
            "--select",
            "io-inspect",
            "--stdin-filename",
            "lib/on_disk.ex",
        ]),
        INSPECTING.as_bytes(),
    );
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let report = json(&run);
    assert_eq!(
        findings(&report, "io-inspect"),
        vec![("lib/on_disk.ex".into(), 3)]
    );
    assert_eq!(report["files"].as_array().unwrap().len(), 1);
}

#[test]
fn findings_are_identical_whatever_the_number_of_jobs() {
    let sample = common::fixtures().join("sample_app");
    let run = |jobs: &str| {
        let run = run_with(
            bin()
                .args([
                    "analyze",
                    "--format",
                    "json",
                    "--select",
                    "all",
                    "--fail-on",
                    "never",
                    "--jobs",
                    jobs,
                ])
                .arg(&sample),
        );
        json(&run)["findings"].clone()
    };
    assert_eq!(run("1"), run("8"));
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let dir = scratch();
    write(dir.path(), "lib/a.ex", INSPECTING);
    write(
        dir.path(),
        "lib/é.ex",
        "defmodule E do\n  @moduledoc false\n  def e(x), do: IO.inspect(x)\nend\n",
    );
    let run = run_with(
        bin()
            .args([
                "analyze",
                "--format",
                "sarif",
                "--select",
                "all",
                "--fail-on",
                "never",
            ])
            .arg(dir.path()),
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/sarif-2.1.0.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
}

#[test]
fn github_output_annotates_findings() {
    let dir = scratch();
    write(dir.path(), "lib/a.ex", INSPECTING);
    let run = run_with(
        bin()
            .args(["analyze", "--format", "github", "--select", "io-inspect"])
            .arg(dir.path()),
    );
    assert_eq!(run.code(), 1);
    assert!(
        run.stdout().contains("::warning file=lib/a.ex,line=3,"),
        "{}",
        run.stdout()
    );
}

#[test]
fn rules_lists_and_documents() {
    let list = common::run(&["rules", "--format", "text"]).stdout();
    assert!(list.contains("io-inspect"));
    let doc = common::run(&["rules", "io-inspect", "--format", "text"]).stdout();
    for section in ["What it finds", "Why it matters", "Example", "Instead"] {
        assert!(doc.contains(section), "{section}");
    }
    assert_eq!(common::run(&["rules", "no-such-rule"]).code(), 2);
}
