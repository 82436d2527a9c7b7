//! Stopping well (issue [2d]): the file's deadline and the run's signals reach every stage of a
//! file's work (extraction, metrics, calls, every rule), a reader that closes the pipe early
//! ends the run quietly, and warnings go to stderr unless `-q` and always to the report.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, run_with, scratch, write};

/// A project where only `lib/slow.ex` calls `IO.inspect`, 2,000 times: with the fault
/// `rule:io-inspect:slow` (10 ms a visited node) its rules would take 20 s.
fn slow_project() -> tempfile::TempDir {
    let dir = scratch();
    let mut slow = String::from("defmodule Slow do\n  def run(x) do\n");
    for i in 0..2000 {
        slow.push_str(&format!("    IO.inspect(x + {i})\n"));
    }
    slow.push_str("  end\nend\n");
    write(dir.path(), "lib/slow.ex", slow);
    for i in 0..6 {
        write(
            dir.path(),
            &format!("lib/quick_{i}.ex"),
            format!("defmodule Quick{i} do\n  def run(x), do: IO.inspect(x)\nend\n"),
        );
    }
    dir
}

fn analyze_slow(dir: &std::path::Path, extra: &[&str]) -> Command {
    let mut command = bin();
    command
        .env("ELIXIRSCOPE_FAULTS", "rule:io-inspect:slow")
        .args([
            "analyze",
            "--format",
            "json",
            "--select",
            "io-inspect",
            "--fail-on",
            "never",
            "--jobs",
            "2",
        ])
        .args(extra)
        .arg(dir);
    command
}

fn json(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(stdout)))
}

fn file<'a>(report: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in {report:#}"))
}

#[test]
fn a_rule_that_overruns_the_deadline_times_out_its_file_and_no_other() {
    let dir = slow_project();
    let run = run_with(&mut analyze_slow(
        dir.path(),
        &["--parse-timeout-ms", "300"],
    ));
    assert_eq!(run.code(), 3, "{}", run.stderr());
    let report = json(&run.output.stdout);
    let slow = file(&report, "lib/slow.ex");
    assert_eq!(slow["status"], "timeout", "{slow}");
    assert_eq!(slow["reason"], "deadline");
    assert_eq!(
        slow["message"],
        "extraction and rules exceeded the file's 300 ms"
    );
    for i in 0..6 {
        assert_eq!(file(&report, &format!("lib/quick_{i}.ex"))["status"], "ok");
    }
    // What the slow file produced is dropped; the other files' findings are all there.
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["path"] != "lib/slow.ex"));
    assert_eq!(findings.len(), 6);
    // `parse` runs no rules: the fault changes nothing there.
    let parse = run_with(
        bin()
            .env("ELIXIRSCOPE_FAULTS", "rule:io-inspect:slow")
            .args(["parse", "--format", "json", "--parse-timeout-ms", "300"])
            .arg(dir.path()),
    );
    assert_eq!(parse.code(), 0);
    assert_eq!(parse.report().file("lib/slow.ex").status, "ok");
}

/// SIGTERM while a rule is slow: the rule's own loop never checks anything, yet the run ends
/// with 143 and a valid partial report, long before the 20 s the rule would take.
#[cfg(target_os = "linux")]
#[test]
fn sigterm_during_a_slow_rule_ends_the_run_with_143() {
    let dir = slow_project();
    let mut child = analyze_slow(dir.path(), &["--parse-timeout-ms", "600000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_for_handler(child.id(), libc::SIGTERM);
    // Let the slow rule start on its file.
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    let latency = signalled.elapsed();
    eprintln!("SIGTERM to exit: {latency:?}");
    assert_eq!(status.code(), Some(143));
    // Uncancelled, the slow file alone takes 20 s; a check every 64 nodes and after every
    // rule makes it stop within a few of the rule's 10 ms steps.
    assert!(latency < Duration::from_secs(5), "{latency:?}");
    let report = json(&stdout);
    let slow = file(&report, "lib/slow.ex");
    assert_eq!(slow["status"], "skipped", "{slow}");
    assert_eq!(slow["reason"], "interrupted");
}

/// Runs `args` with stdout closed before the process writes anything, and once normally;
/// both must exit alike, and the closed pipe must print nothing.
fn closed_pipe_is_quiet(args: &[&str]) {
    let normal = run_with(bin().args(args));
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once: every write meets EPIPE
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(normal.code()),
        "{args:?}: {stderr}"
    );
    assert_eq!(stderr, normal.stderr(), "{args:?}");
    assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
}

#[test]
fn a_reader_that_closes_early_ends_every_subcommand_quietly() {
    let sample = common::fixtures().join("sample_app");
    let sample = sample.to_str().unwrap();
    for format in ["json", "ndjson", "text"] {
        closed_pipe_is_quiet(&["parse", "--format", format, sample]);
    }
    for format in ["json", "ndjson", "text", "sarif", "github"] {
        closed_pipe_is_quiet(&["analyze", "--format", format, "--select", "all", sample]);
    }
    for format in ["json", "text"] {
        closed_pipe_is_quiet(&["rules", "--format", format]);
        closed_pipe_is_quiet(&["rules", "--format", format, "unsafe-to-atom"]);
        closed_pipe_is_quiet(&["runtime", "--format", format]);
        closed_pipe_is_quiet(&["runtime", "--check", "--format", format]);
    }
    closed_pipe_is_quiet(&["completions", "bash"]);
    // `--locate` prints one line.
    let report = common::parse_json(&[std::path::Path::new(sample)], &[]).report();
    let id = report
        .files
        .iter()
        .flat_map(|f| &f.modules)
        .next()
        .unwrap()
        .id
        .clone();
    closed_pipe_is_quiet(&["parse", "--locate", &id, sample]);
}

/// A rule that fails on five files is disabled: a warning, on stderr unless `-q`, and always
/// in `runtime.warnings`.
#[test]
fn warnings_go_to_stderr_unless_quiet_and_always_to_the_report() {
    let dir = slow_project();
    let analyze = |quiet: bool| {
        let mut command = bin();
        command
            .env("ELIXIRSCOPE_FAULTS", "rule:io-inspect:panic")
            .args([
                "analyze",
                "--format",
                "json",
                "--select",
                "io-inspect",
                "--fail-on",
                "never",
            ]);
        if quiet {
            command.arg("-q");
        }
        run_with(command.arg(dir.path()))
    };
    let expected = "rule io-inspect failed on 7 files and was disabled for this run";
    let loud = analyze(false);
    assert!(
        loud.stderr()
            .lines()
            .any(|l| l == format!("elixirscope: warning: {expected}")),
        "{}",
        loud.stderr()
    );
    let quiet = analyze(true);
    assert_eq!(quiet.stderr(), "");
    for run in [loud, quiet] {
        let report = json(&run.output.stdout);
        assert_eq!(report["runtime"]["warnings"], serde_json::json!([expected]));
    }
    // A run without warnings has an empty list.
    let clean = common::parse_json(&[dir.path()], &["-q"]);
    assert_eq!(clean.report().runtime["warnings"], serde_json::json!([]));
}
