//! Bad input gets a status, never a crash or a hang.

mod common;

use common::{parse_json, scratch, write};

#[test]
fn every_kind_of_bad_file_gets_a_status() {
    let dir = scratch();
    let root = dir.path();
    write(root, "empty.ex", "");
    write(
        root,
        "latin1.ex",
        b"# caf\xe9\ndefmodule Cafe do\n  def x, do: \"\xe9\"\nend\n",
    );
    let junk: Vec<u8> = (0..900u32).map(|i| (i * 7919 % 251) as u8).collect();
    write(root, "junk.ex", &junk);
    // Junk without NUL bytes is parsed, and is full of syntax errors.
    let high: Vec<u8> = (0..900u32).map(|i| 128 + (i * 31 % 127) as u8).collect();
    write(root, "high.ex", &high);
    write(root, "large.ex", "# padding\n".repeat(20_000));
    let deep = format!(
        "defmodule Deep do\n  def x, do: {}1{}\nend\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    write(root, "deep.ex", deep);
    write(root, "unclosed.ex", "defmodule Open do\n  def x do\n");
    let run = parse_json(&[root], &["--max-file-size", "150000"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let report = run.report();

    let empty = report.file("empty.ex");
    assert_eq!(
        (empty.status.as_str(), empty.lines, empty.bytes),
        ("ok", 0, 0)
    );

    let latin1 = report.file("latin1.ex");
    assert_eq!(latin1.status, "ok");
    assert_eq!(latin1.modules.len(), 1);

    let junk = report.file("junk.ex");
    assert_eq!(junk.status, "skipped");
    assert_eq!(junk.reason.as_deref(), Some("binary"));

    let high = report.file("high.ex");
    assert_eq!(high.status, "syntax_error");

    let large = report.file("large.ex");
    assert_eq!(large.status, "skipped");
    assert_eq!(large.reason.as_deref(), Some("too_large"));
    assert_eq!(large.bytes, 200_000);

    let deep = report.file("deep.ex");
    assert_eq!(deep.status, "ok");
    assert_eq!(deep.modules[0].functions[0].name, "x");

    let unclosed = report.file("unclosed.ex");
    assert_eq!(unclosed.status, "syntax_error");
    assert!(!unclosed.errors.is_empty());
}

#[test]
fn deep_nesting_with_syntax_errors_does_not_overflow() {
    let dir = scratch();
    let root = dir.path();
    write(root, "deep.ex", "(".repeat(50_000));
    write(root, "deep_do.ex", "if x do\n".repeat(20_000));
    let report = parse_json(&[root], &[]).report();
    assert_eq!(report.file("deep.ex").status, "syntax_error");
    assert_eq!(report.file("deep_do.ex").status, "syntax_error");
    let truncated = report.file("deep_do.ex");
    assert!(truncated.errors.len() <= 100);
}

#[test]
fn a_file_deleted_between_discovery_and_read_is_listed_as_vanished() {
    let dir = scratch();
    let root = dir.path();
    write(root, "lib/a.ex", "defmodule A do\nend\n");
    write(root, "lib/gone.ex", "defmodule Gone do\nend\n");
    let run = common::run_with(
        common::bin()
            .env("ELIXIRSCOPE_FAULTS", "parse:vanish:lib/gone.ex")
            .args(["parse", "--format", "json"])
            .arg(root),
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let report = run.report();
    let gone = report.file("lib/gone.ex");
    assert_eq!(gone.status, "skipped");
    assert_eq!(gone.reason.as_deref(), Some("vanished"));
    assert_eq!(report.file("lib/a.ex").status, "ok");
}

#[test]
fn syntax_errors_have_code_point_columns() {
    let dir = scratch();
    let root = dir.path();
    write(root, "e.ex", "x = \"é\" + )\n");
    let report = parse_json(&[root], &[]).report();
    let file = report.file("e.ex");
    assert_eq!(file.status, "syntax_error");
    let error = &file.errors[0];
    assert_eq!(error.line, 1);
    // The unexpected `+ )` starts at the 9th code point (the 10th byte: `é` takes two).
    assert_eq!(error.column, 9, "{:?}", file.errors);
}

#[test]
fn bom_and_crlf_give_the_same_facts_as_lf() {
    let dir = scratch();
    let root = dir.path();
    let lf = "defmodule A do\n  @doc \"x\"\n  def f(a) when is_integer(a) and\n      a > 0 do\n    a\n  end\nend\n";
    write(root, "lf/a.ex", lf);
    write(root, "crlf/a.ex", lf.replace('\n', "\r\n"));
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(lf.as_bytes());
    write(root, "bom/a.ex", bom);
    // One run per file: the same module in one run would be a duplicate with ranked IDs.
    let facts = |dir: &str| {
        let report = parse_json(&[&root.join(dir)], &[]).report();
        let file = &report.files[0];
        assert_eq!(file.status, "ok");
        assert_eq!(file.lines, 7);
        format!("{:?}", file.modules)
    };
    assert_eq!(facts("lf"), facts("crlf"));
    assert_eq!(facts("lf"), facts("bom"));
}

/// An unreadable directory is reported, not fatal. Root reads everything, so as root the test
/// runs the binary as `nobody` through util-linux's setpriv.
#[cfg(unix)]
#[test]
fn an_unreadable_directory_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    let root = dir.path();
    write(root, "lib/a.ex", "defmodule A do\nend\n");
    write(root, "lib/secret/b.ex", "defmodule B do\nend\n");
    std::fs::set_permissions(
        root.join("lib/secret"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    let is_root = unsafe { libc::geteuid() } == 0;
    let mut command = if is_root {
        if std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("skipped: running as root without setpriv to drop privileges");
            return;
        }
        // The temporary tree must be reachable by `nobody`.
        for ancestor in [root, root.join("lib").as_path()] {
            std::fs::set_permissions(ancestor, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::set_permissions(
            root.join("lib/a.ex"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let mut command = std::process::Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        command.arg(env!("CARGO_BIN_EXE_elixirscope"));
        command
    } else {
        common::bin()
    };
    command.args(["parse", "--format", "json"]).arg(root);
    let run = common::run_with(&mut command);
    std::fs::set_permissions(
        root.join("lib/secret"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let report = run.report();
    let secret = report.file("lib/secret");
    assert_eq!(secret.status, "failed");
    assert_eq!(secret.reason.as_deref(), Some("unreadable"));
    assert_eq!(report.file("lib/a.ex").status, "ok");
    assert_eq!(run.code(), 3);
}

/// Every rule on deeply nested code (this input took 30 s when `unused-enum-result` climbed
/// ancestors through tree-sitter's `Node::parent`, which descends from the root at every step;
/// it terminates either way, so this test guards correctness at depth).
#[test]
fn every_rule_on_deeply_nested_calls_finishes_with_findings_intact() {
    let dir = scratch();
    let root = dir.path();
    let depth = 3_000;
    let nested = format!(
        "defmodule Deep do\n  def f(x) do\n    {}x{}\n    Enum.map(x, & &1)\n    :ok\n  end\nend\n",
        "Enum.map([".repeat(depth),
        "], & &1)".repeat(depth)
    );
    write(root, "lib/deep.ex", nested);
    let report = analyze_json(root, "all");
    let unused: Vec<u64> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "unused-enum-result")
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    // The nested calls are arguments (used); the two statements before `:ok` are not.
    assert_eq!(unused, vec![3, 4], "{report}");
}

/// Rules that ask what lies above a node (`@dbg`, `@spec`, a type attribute, an interpolation)
/// on expressions nested thousands deep: each answer is remembered per file, and the operands
/// of `x == (x == ...)` are compared without copying them (30,000 deep took dbg-call and
/// operation-on-same-values 5-10 s before, quadratically). This guards the findings.
#[test]
fn ancestor_questions_on_deep_expressions_keep_their_findings() {
    let dir = scratch();
    let root = dir.path();
    let depth = 4_000;
    write(
        root,
        "lib/deep_dbg.ex",
        format!(
            "defmodule DeepDbg do\n  def f(x) do\n    dbg({}x{})\n  end\n  @dbg dbg(1)\nend\n",
            "(x == ".repeat(depth),
            ")".repeat(depth)
        ),
    );
    write(
        root,
        "lib/deep_sum.ex",
        format!(
            "defmodule DeepSum do\n  def f(x) do\n    {}x{}\n  end\nend\n",
            "(100000 + ".repeat(depth),
            ")".repeat(depth)
        ),
    );
    let report = analyze_json(
        root,
        "dbg-call,operation-on-same-values,large-number-underscores",
    );
    let count = |rule: &str, path: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule && f["path"] == path)
            .count()
    };
    // The `dbg(...)` call, not the one inside `@dbg`.
    assert_eq!(count("dbg-call", "lib/deep_dbg.ex"), 1, "{report}");
    // Only the innermost `x == x` compares the same values.
    assert_eq!(
        count("operation-on-same-values", "lib/deep_dbg.ex"),
        1,
        "{report}"
    );
    assert_eq!(
        count("large-number-underscores", "lib/deep_sum.ex"),
        depth,
        "{report}"
    );
}

/// `analyze --select SELECT --format json --fail-on never ROOT`, which must exit 0.
fn analyze_json(root: &std::path::Path, select: &str) -> serde_json::Value {
    let run = common::run_with(
        common::bin()
            .args([
                "analyze",
                "--select",
                select,
                "--format",
                "json",
                "--fail-on",
                "never",
            ])
            .arg(root),
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    serde_json::from_str(&run.stdout()).expect("JSON")
}
