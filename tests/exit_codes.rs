//! One test per exit code of the documented table.

mod common;

use std::process::Stdio;

use common::{bin, run, scratch, write};

#[test]
fn success_is_0_even_with_syntax_errors() {
    let dir = scratch();
    write(dir.path(), "a.ex", "defmodule A do\n");
    let run = common::parse_json(&[dir.path()], &[]);
    assert_eq!(run.code(), 0);
    assert_eq!(run.report().file("a.ex").status, "syntax_error");
}

#[test]
fn a_missing_path_is_2_with_a_one_line_message() {
    let run = run(&["parse", "/definitely/not/here"]);
    assert_eq!(run.code(), 2);
    let stderr = run.stderr();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/definitely/not/here"), "{stderr}");
}

#[test]
fn a_usage_error_is_2() {
    assert_eq!(run(&["parse", "--format", "yaml"]).code(), 2);
    assert_eq!(run(&["frobnicate"]).code(), 2);
    assert_eq!(run(&["parse", "--jobs", "0"]).code(), 2);
}

#[test]
fn a_configuration_error_is_2() {
    let dir = scratch();
    let run = common::run_with(
        bin()
            .env("ELIXIRSCOPE_FAULTS", "parse:explode:x")
            .arg("parse")
            .arg(dir.path()),
    );
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("ELIXIRSCOPE_FAULTS"));
}

#[test]
fn a_failed_file_is_3_and_the_rest_is_unaffected() {
    let sample = common::fixtures().join("sample_app");
    let clean = common::parse_json(&[&sample], &[]).report();
    let run = common::run_with(
        bin()
            .env("ELIXIRSCOPE_FAULTS", "parse:panic:lib/sample_app/repo.ex")
            .args(["parse", "--format", "json"])
            .arg(&sample),
    );
    assert_eq!(run.code(), 3);
    let faulty = run.report();
    let failed = faulty.file("lib/sample_app/repo.ex");
    assert_eq!(failed.status, "failed");
    assert_eq!(failed.reason.as_deref(), Some("panic"));
    assert!(failed
        .message
        .as_deref()
        .unwrap()
        .contains("injected fault: parse:panic"));
    // The panic message is in the report, not dumped on stderr as a backtrace.
    assert!(!run.stderr().contains("panicked at"), "{}", run.stderr());
    for (a, b) in clean.files.iter().zip(&faulty.files) {
        if !a.path.ends_with("lib/sample_app/repo.ex") {
            // Calls into SampleApp.Repo no longer resolve to a project module; the rest holds.
            assert_eq!(a.file_local(), b.file_local());
        }
    }
}

#[test]
fn a_timed_out_file_is_3() {
    let dir = scratch();
    write(dir.path(), "lib/a.ex", "defmodule A do\nend\n");
    write(dir.path(), "lib/hang.ex", "defmodule H do\nend\n");
    let run = common::run_with(
        bin()
            .env("ELIXIRSCOPE_FAULTS", "parse:hang:hang.ex")
            .args(["parse", "--format", "json", "--parse-timeout-ms", "200"])
            .arg(dir.path()),
    );
    assert_eq!(run.code(), 3);
    let report = run.report();
    let hung = report.file("lib/hang.ex");
    assert_eq!(hung.status, "timeout");
    assert_eq!(hung.reason.as_deref(), Some("deadline"));
    assert_eq!(report.file("lib/a.ex").status, "ok");
}

#[cfg(target_os = "linux")]
fn interrupted_run(signal: i32) -> (i32, common::Report) {
    let dir = scratch();
    for i in 0..20 {
        write(
            dir.path(),
            &format!("lib/m{i:02}.ex"),
            "defmodule M do\nend\n",
        );
    }
    write(dir.path(), "lib/aaa_hang.ex", "defmodule H do\nend\n");
    let child = bin()
        .env("ELIXIRSCOPE_FAULTS", "parse:hang:aaa_hang.ex")
        .args([
            "parse",
            "--format",
            "json",
            "--jobs",
            "1",
            "--parse-timeout-ms",
            "600000",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_for_handler(child.id(), signal);
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    let output = child.wait_with_output().unwrap();
    let run = common::Run { output };
    let report = run.report();
    (run.code(), report)
}

#[cfg(target_os = "linux")]
#[test]
fn sigint_is_130_with_a_valid_report() {
    let (code, report) = interrupted_run(libc::SIGINT);
    assert_eq!(code, 130);
    assert_eq!(report.files.len(), 21);
    let interrupted = report
        .files
        .iter()
        .filter(|f| f.reason.as_deref() == Some("interrupted"))
        .count();
    assert!(interrupted >= 1);
    assert!(report
        .files
        .iter()
        .all(|f| f.status == "ok" || f.status == "skipped"));
}

#[cfg(target_os = "linux")]
#[test]
fn sigterm_is_143() {
    let (code, report) = interrupted_run(libc::SIGTERM);
    assert_eq!(code, 143);
    assert_eq!(report.files.len(), 21);
}

/// Exit code 1 belongs to `analyze` (roadmap [4a]); `parse` never returns it, whatever it meets.
#[test]
fn parse_never_exits_1() {
    let dir = scratch();
    write(dir.path(), "a.ex", "defmodule A do\n  def x(, do: 1\n");
    write(dir.path(), "b.ex", "IO.inspect(1)\n");
    let run = common::parse_json(&[dir.path()], &[]);
    assert_eq!(run.code(), 0);
}
