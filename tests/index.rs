//! The index ([5]) seen from outside: a warm run reports exactly what a cold one and a
//! `--no-cache` one do, parses only what changed, and survives every way its folder and
//! database can be broken — with one warning, the same output and the same exit code.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{bin, fixtures, run_with, scratch, write, Run};
use serde_json::Value;

/// The command with its index in `cache` (a folder of the test's own).
fn with_cache(cache: &Path, args: &[&str], path: &Path) -> Command {
    let mut command = bin();
    command
        .env("ELIXIRSCOPE_CACHE_DIR", cache)
        .args(args)
        .args(["--format", "json"])
        .arg(path);
    command
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout(), run.stderr()))
}

/// The report without what varies between runs: the runtime section and the elapsed time.
fn stable(mut report: Value) -> Value {
    report.as_object_mut().unwrap().remove("runtime");
    report["summary"]
        .as_object_mut()
        .unwrap()
        .remove("elapsed_ms");
    report
}

fn cache_counters(report: &Value) -> (u64, u64, u64) {
    let cache = &report["runtime"]["cache"];
    (
        cache["unchanged"].as_u64().unwrap(),
        cache["rehashed"].as_u64().unwrap(),
        cache["parsed"].as_u64().unwrap(),
    )
}

fn no_cache(args: &[&str], path: &Path) -> (i32, Value) {
    let mut all = args.to_vec();
    all.push("--no-cache");
    let run = run_with(bin().args(&all).args(["--format", "json"]).arg(path));
    let report = json(&run);
    assert!(
        report["runtime"].get("cache").is_none(),
        "--no-cache uses no index"
    );
    (run.code(), stable(report))
}

const PARSE: &[&str] = &["parse"];
const ANALYZE: &[&str] = &["analyze", "--select", "all", "--fail-on", "never"];

#[test]
fn warm_runs_report_exactly_what_cold_runs_do_on_every_fixture_tree() {
    let mut trees: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    trees.sort();
    for tree in trees {
        for args in [PARSE, ANALYZE] {
            let cache = scratch();
            let (code, expected) = no_cache(args, &tree);
            let cold = run_with(&mut with_cache(cache.path(), args, &tree));
            let warm = run_with(&mut with_cache(cache.path(), args, &tree));
            let (cold, warm) = (json(&cold), json(&warm));
            let (_, _, parsed_cold) = cache_counters(&cold);
            let (unchanged, _, parsed_warm) = cache_counters(&warm);
            assert!(parsed_cold > 0, "{}", tree.display());
            assert_eq!(
                parsed_warm,
                0,
                "{} {args:?}: {:#}",
                tree.display(),
                warm["runtime"]
            );
            assert!(unchanged > 0);
            assert_eq!(stable(cold), expected, "{} {args:?} cold", tree.display());
            assert_eq!(stable(warm), expected, "{} {args:?} warm", tree.display());
            let again = run_with(&mut with_cache(cache.path(), args, &tree));
            assert_eq!(
                again.code(),
                code,
                "the exit code does not depend on the index"
            );
        }
    }
}

/// A copy of the sample app, to edit.
fn sample_copy() -> tempfile::TempDir {
    let dir = scratch();
    common::copy_tree(&fixtures().join("sample_app"), dir.path());
    dir
}

fn first_ex_file(root: &Path) -> PathBuf {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with(".elixirscope") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "ex") {
                files.push(path);
            }
        }
    }
    files.sort();
    files.into_iter().next().unwrap()
}

#[test]
fn an_edit_reparses_that_file_only_even_within_the_same_clock_tick() {
    let project = sample_copy();
    let cache = scratch();
    for args in [PARSE, ANALYZE] {
        let cold = json(&run_with(&mut with_cache(
            cache.path(),
            args,
            project.path(),
        )));
        let files = cold["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == "ok" || f["status"] == "syntax_error")
            .count() as u64;
        let file = first_ex_file(project.path());
        // Same size, new content, and the old mtime put back: the stat is identical (size,
        // mtime, inode), as after a same-size edit within one clock tick, so only the
        // racily-clean rule (the entry was checked less than 2 s after that mtime) catches it.
        let text = std::fs::read_to_string(&file).unwrap();
        let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
        let edited = format!("{} ", text.trim_end_matches('\n'));
        assert_eq!(edited.len(), text.len());
        std::fs::write(&file, &edited).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let warm = run_with(&mut with_cache(cache.path(), args, project.path()));
        let report = json(&warm);
        let (unchanged, rehashed, parsed) = cache_counters(&report);
        assert_eq!(parsed, 1, "{args:?}: {:#}", report["runtime"]["cache"]);
        assert_eq!(unchanged + rehashed + parsed, files);
        assert_eq!(stable(report), no_cache(args, project.path()).1, "{args:?}");
        // The next run serves it from the index.
        let next = json(&run_with(&mut with_cache(
            cache.path(),
            args,
            project.path(),
        )));
        assert_eq!(cache_counters(&next).2, 0, "{:#}", next["runtime"]["cache"]);
        std::fs::write(&file, text).unwrap();
        run_with(&mut with_cache(cache.path(), args, project.path()));
    }
}

#[test]
fn a_deleted_file_leaves_the_index_and_a_touched_one_is_rehashed_not_parsed() {
    let project = sample_copy();
    let cache = scratch();
    run_with(&mut with_cache(cache.path(), PARSE, project.path()));
    let file = first_ex_file(project.path());
    std::fs::remove_file(&file).unwrap();
    let other = project.path().join("mix.exs");
    let text = std::fs::read(&other).unwrap();
    std::fs::remove_file(&other).unwrap();
    std::fs::write(&other, &text).unwrap(); // new inode, same content
    let report = json(&run_with(&mut with_cache(
        cache.path(),
        PARSE,
        project.path(),
    )));
    let cache_section = &report["runtime"]["cache"];
    assert_eq!(cache_section["removed"], 1, "{cache_section:#}");
    // Every file of the fresh copy is within the racily-clean margin, so all are hashed; the
    // one with a new inode is among them, and none is parsed.
    assert!(
        cache_section["rehashed"].as_u64().unwrap() >= 1,
        "{cache_section:#}"
    );
    assert_eq!(cache_section["parsed"], 0, "{cache_section:#}");
    assert_eq!(stable(report), no_cache(PARSE, project.path()).1);
}

/// Stored findings belong to a rule selection; the facts are shared by all of them.
#[test]
fn another_rule_selection_keeps_the_facts_and_the_first_selections_findings() {
    let project = sample_copy();
    let cache = scratch();
    let first = ["analyze", "--select", "all", "--fail-on", "never"];
    let second = ["analyze", "--select", "io-inspect", "--fail-on", "never"];
    run_with(&mut with_cache(cache.path(), &first, project.path()));
    let other = json(&run_with(&mut with_cache(
        cache.path(),
        &second,
        project.path(),
    )));
    assert_eq!(cache_counters(&other).0, 0, "new findings need a walk");
    let back = json(&run_with(&mut with_cache(
        cache.path(),
        &first,
        project.path(),
    )));
    assert_eq!(cache_counters(&back).2, 0, "{:#}", back["runtime"]["cache"]);
    let parse = json(&run_with(&mut with_cache(
        cache.path(),
        PARSE,
        project.path(),
    )));
    assert_eq!(
        cache_counters(&parse).2,
        0,
        "{:#}",
        parse["runtime"]["cache"]
    );
}

/// Runs `args` against an index folder broken by `damage`; the run must warn (when
/// `warning` is given, with that text), report what `--no-cache` reports, exit alike, and
/// leave an index the next run uses.
fn survives(damage: impl Fn(&Path), warning: Option<&str>) {
    let project = sample_copy();
    let cache = scratch();
    let index = cache.path().join("index.db");
    for args in [PARSE, ANALYZE] {
        run_with(&mut with_cache(cache.path(), args, project.path()));
        damage(&index);
        let run = run_with(&mut with_cache(cache.path(), args, project.path()));
        let (code, expected) = no_cache(args, project.path());
        assert_eq!(run.code(), code, "{}", run.stderr());
        let report = json(&run);
        if let Some(warning) = warning {
            let warnings = report["runtime"]["warnings"].as_array().unwrap();
            assert!(
                warnings
                    .iter()
                    .any(|w| w.as_str().unwrap().contains(warning)),
                "{warnings:?}"
            );
            assert!(
                run.stderr().contains("elixirscope: warning: "),
                "{}",
                run.stderr()
            );
        }
        assert_eq!(stable(report), expected);
        let next = json(&run_with(&mut with_cache(
            cache.path(),
            args,
            project.path(),
        )));
        assert_eq!(cache_counters(&next).2, 0, "{:#}", next["runtime"]);
        assert_eq!(next["runtime"]["warnings"], serde_json::json!([]));
    }
}

#[test]
fn a_garbage_database_is_rebuilt() {
    survives(
        |index| {
            std::fs::write(
                index,
                b"this is not an SQLite database at all, not even close".repeat(200),
            )
            .unwrap()
        },
        Some("was unreadable"),
    );
}

#[test]
fn a_zeroed_database_is_rebuilt() {
    survives(
        |index| std::fs::write(index, vec![0u8; 64 * 1024]).unwrap(),
        Some("was unreadable"),
    );
}

#[test]
fn a_truncated_database_is_rebuilt_or_its_bad_entries_ignored() {
    survives(
        |index| {
            let bytes = std::fs::read(index).unwrap();
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", index.display()));
            }
            std::fs::write(index, &bytes[..bytes.len() / 3]).unwrap();
        },
        None,
    );
}

#[test]
fn a_garbage_write_ahead_log_is_ignored() {
    survives(
        |index| {
            std::fs::write(
                format!("{}-wal", index.display()),
                b"garbage frames".repeat(1000),
            )
            .unwrap()
        },
        None,
    );
}

fn sql(index: &Path, statement: &str) {
    let connection = rusqlite::Connection::open(index).unwrap();
    connection.execute_batch(statement).unwrap();
}

#[test]
fn a_foreign_schema_version_is_rebuilt() {
    survives(
        |index| {
            sql(
                index,
                "UPDATE meta SET value = '999' WHERE key = 'schema_version'",
            )
        },
        Some("has schema version 999"),
    );
}

#[test]
fn a_blob_that_does_not_decode_is_ignored_and_replaced() {
    survives(
        |index| {
            sql(
                index,
                "UPDATE files SET record = x'ff00ff00'; UPDATE findings SET findings = x'ff'",
            )
        },
        Some("do not decode"),
    );
}

/// A record whose first string claims four gigabytes: postcard reads the length, finds no
/// such bytes, and fails; nothing is allocated for it.
#[test]
fn a_blob_claiming_a_huge_length_is_ignored() {
    survives(
        |index| {
            sql(
                index,
                "UPDATE files SET record = x'ffffffff0f61'; \
                 UPDATE findings SET findings = x'ffffffff0f'",
            )
        },
        Some("do not decode"),
    );
}

#[test]
fn a_database_that_cannot_be_opened_leaves_the_run_without_an_index() {
    let project = sample_copy();
    let cache = scratch();
    std::fs::create_dir_all(cache.path().join("index.db")).unwrap();
    let run = run_with(&mut with_cache(cache.path(), PARSE, project.path()));
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let report = json(&run);
    assert!(report["runtime"].get("cache").is_none());
    let warnings = report["runtime"]["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("running without the index")),
        "{warnings:?}"
    );
    assert_eq!(stable(report), no_cache(PARSE, project.path()).1);
}

/// The default folder `.elixirscope/` inside the analysed tree: a file or a symbolic link
/// there is refused (a checkout must not make elixirscope write elsewhere).
#[test]
fn a_cache_folder_that_is_a_file_or_a_symlink_is_refused() {
    let elsewhere = scratch();
    for make in ["file", "symlink"] {
        let project = sample_copy();
        let folder = project.path().join(".elixirscope");
        match make {
            "file" => std::fs::write(&folder, "not a folder").unwrap(),
            _ => std::os::unix::fs::symlink(elsewhere.path(), &folder).unwrap(),
        }
        let run = run_with(
            bin()
                .env_remove("ELIXIRSCOPE_CACHE_DIR")
                .args(["parse", "--format", "json"])
                .arg(project.path()),
        );
        assert_eq!(run.code(), 0, "{}", run.stderr());
        let report = json(&run);
        let warnings = report["runtime"]["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(report["runtime"].get("cache").is_none());
        assert_eq!(stable(report), no_cache(PARSE, project.path()).1);
    }
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "nothing was written through the link"
    );
}

#[test]
fn the_default_folder_is_tagged_and_ignored_by_git() {
    let project = sample_copy();
    let run = run_with(
        bin()
            .env_remove("ELIXIRSCOPE_CACHE_DIR")
            .args(["parse", "--format", "json"])
            .arg(project.path()),
    );
    assert_eq!(run.code(), 0);
    let folder = project.path().join(".elixirscope");
    assert!(folder.join("index.db").is_file());
    assert!(std::fs::read_to_string(folder.join("CACHEDIR.TAG"))
        .unwrap()
        .starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
    assert!(std::fs::read_to_string(folder.join(".gitignore"))
        .unwrap()
        .lines()
        .any(|l| l == "*"));
    // Discovery never lists the folder's files.
    let report = json(&run);
    assert!(report["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !f["path"].as_str().unwrap().contains(".elixirscope")));
}

#[test]
fn two_concurrent_runs_both_succeed() {
    let project = sample_copy();
    let cache = scratch();
    let (_, expected) = no_cache(ANALYZE, project.path());
    let children: Vec<_> = (0..2)
        .map(|_| {
            with_cache(cache.path(), ANALYZE, project.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let run = Run {
            output: child.wait_with_output().unwrap(),
        };
        assert_eq!(run.code(), 0, "{}", run.stderr());
        let report = json(&run);
        assert_eq!(report["runtime"]["warnings"], serde_json::json!([]));
        assert_eq!(stable(report), expected);
    }
}

/// SIGKILL in the middle of filling the index: the next run uses what was committed.
#[cfg(target_os = "linux")]
#[test]
fn a_run_killed_mid_write_leaves_a_usable_index() {
    let project = scratch();
    for i in 0..400 {
        let mut text = format!("defmodule M{i} do\n");
        for f in 0..40 {
            text.push_str(&format!("  def f{f}(x), do: Enum.map(x, &(&1 + {f}))\n"));
        }
        text.push_str("end\n");
        write(project.path(), &format!("lib/m{i:03}.ex"), text);
    }
    let cache = scratch();
    for delay in [50, 150, 400] {
        let _ = std::fs::remove_dir_all(cache.path().join("index.db"));
        let mut child = with_cache(cache.path(), PARSE, project.path())
            .arg("--jobs")
            .arg("1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        unsafe {
            libc::kill(child.id() as i32, libc::SIGKILL);
        }
        let _ = child.wait();
        let run = run_with(&mut with_cache(cache.path(), PARSE, project.path()));
        assert_eq!(run.code(), 0, "{}", run.stderr());
        let report = json(&run);
        assert_eq!(
            report["runtime"]["warnings"],
            serde_json::json!([]),
            "after {delay} ms"
        );
        assert_eq!(stable(report), no_cache(PARSE, project.path()).1);
    }
}

#[test]
fn cache_info_and_clear() {
    let project = sample_copy();
    let cache = scratch();
    run_with(&mut with_cache(cache.path(), PARSE, project.path()));
    run_with(&mut with_cache(cache.path(), PARSE, project.path()));
    let info = run_with(
        bin()
            .env("ELIXIRSCOPE_CACHE_DIR", cache.path())
            .args(["cache", "info", "--format", "json"])
            .arg(project.path()),
    );
    assert_eq!(info.code(), 0, "{}", info.stderr());
    let info = json(&info);
    assert_eq!(info["exists"], true);
    assert_eq!(info["schema_version"], 4);
    let root = &info["roots"][0];
    assert!(root["files"].as_u64().unwrap() > 0);
    assert_eq!(root["scopes"], 1, "one run scope: {root:#}");
    assert_eq!(
        root["query_scopes"], 0,
        "parse builds no query tables: {root:#}"
    );
    assert_eq!(root["last_run_misses"], 0);
    let clear = run_with(
        bin()
            .env("ELIXIRSCOPE_CACHE_DIR", cache.path())
            .args(["cache", "clear"])
            .arg(project.path()),
    );
    assert_eq!(clear.code(), 0);
    assert!(!cache.path().join("index.db").exists());
    let text = run_with(
        bin()
            .env("ELIXIRSCOPE_CACHE_DIR", cache.path())
            .args(["cache", "info", "--format", "text"])
            .arg(project.path()),
    );
    assert!(
        text.stdout().starts_with("no index at "),
        "{}",
        text.stdout()
    );
}

/// `--stdin-filename` input is never cached.
#[test]
fn standard_input_is_never_cached() {
    let cache = scratch();
    let run = common::run_with_input(
        bin().env("ELIXIRSCOPE_CACHE_DIR", cache.path()).args([
            "analyze",
            "--format",
            "json",
            "--stdin-filename",
            "lib/x.ex",
        ]),
        b"defmodule X do\n  def f(x), do: IO.inspect(x)\nend\n",
    );
    let report = json(&run);
    assert!(report["runtime"].get("cache").is_none());
    assert!(!cache.path().join("index.db").exists());
}

/// A full disk: the index's folder is a 256 KiB tmpfs, far too small for the index of 300
/// files. Needs root to mount; elsewhere the test says it could not run and passes (CI runs it:
/// `.ci/run` runs as root).
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_costs_one_warning_and_nothing_else() {
    struct Mounted(PathBuf);
    impl Drop for Mounted {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let folder = scratch();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(folder.path())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !mounted {
        eprintln!("a_full_disk_costs_one_warning_and_nothing_else: cannot mount a tmpfs here (not root); not run");
        return;
    }
    let _unmount = Mounted(folder.path().to_path_buf());
    let project = scratch();
    for i in 0..300 {
        let mut text = format!("defmodule Full{i} do\n");
        for f in 0..20 {
            text.push_str(&format!(
                "  def f{f}(x), do: IO.inspect(Enum.map(x, &(&1 + {f})))\n"
            ));
        }
        text.push_str("end\n");
        write(project.path(), &format!("lib/full_{i:03}.ex"), text);
    }
    let run = run_with(&mut with_cache(folder.path(), ANALYZE, project.path()));
    let (code, expected) = no_cache(ANALYZE, project.path());
    assert_eq!(run.code(), code, "{}", run.stderr());
    let report = json(&run);
    let warnings = report["runtime"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].as_str().unwrap().contains("index"),
        "{warnings:?}"
    );
    assert_eq!(stable(report), expected);
    // The next run on the full disk fares the same.
    let again = run_with(&mut with_cache(folder.path(), ANALYZE, project.path()));
    assert_eq!(again.code(), code);
    assert_eq!(stable(json(&again)), expected);
}

fn re_resolved(report: &Value) -> u64 {
    report["runtime"]["cache"]["re_resolved"].as_u64().unwrap()
}

/// Inserts `line` after the first line of `file` that `at` accepts.
fn insert_after(file: &Path, at: impl Fn(&str) -> bool, line: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let position = lines.iter().position(|l| at(l)).unwrap();
    lines.insert(position + 1, line);
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

/// Repository.Enhanced across runs: an edit inside a function body re-resolves that file
/// alone; a new public function re-resolves the files that read its module, not the others;
/// each time the report is a `--no-cache` run's.
#[test]
fn a_body_edit_re_resolves_its_file_alone_and_a_new_export_its_readers() {
    let project = sample_copy();
    let cache = scratch();
    let cold = json(&run_with(&mut with_cache(
        cache.path(),
        PARSE,
        project.path(),
    )));
    let parsed = cold["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "ok" || f["status"] == "syntax_error")
        .count() as u64;
    assert_eq!(re_resolved(&cold), parsed, "a cold run resolves every file");
    let warm = json(&run_with(&mut with_cache(
        cache.path(),
        PARSE,
        project.path(),
    )));
    assert_eq!(re_resolved(&warm), 0, "{:#}", warm["runtime"]["cache"]);

    let accounts = project.path().join("lib/sample_app/accounts.ex");
    insert_after(
        &accounts,
        |l| l.trim_start().starts_with("def ") && l.ends_with(" do"),
        "    _ = :an_edit_inside_a_body",
    );
    let body = json(&run_with(&mut with_cache(
        cache.path(),
        PARSE,
        project.path(),
    )));
    assert_eq!(cache_counters(&body).2, 1, "{:#}", body["runtime"]["cache"]);
    assert_eq!(re_resolved(&body), 1, "{:#}", body["runtime"]["cache"]);
    assert_eq!(stable(body), no_cache(PARSE, project.path()).1);

    insert_after(
        &accounts,
        |l| l.trim_start().starts_with("defmodule "),
        "  def a_new_export(x), do: x",
    );
    let export = json(&run_with(&mut with_cache(
        cache.path(),
        PARSE,
        project.path(),
    )));
    let count = re_resolved(&export);
    assert!(
        count > 1 && count < parsed,
        "the readers of SampleApp.Accounts, not every file: {count} of {parsed}"
    );
    assert_eq!(stable(export), no_cache(PARSE, project.path()).1);
}

/// The stored project phase is checked like every blob: a state that does not decode, or
/// claims a huge length, costs a warning and its file is resolved again; a scope whose own
/// row does not decode is resolved afresh. The report is a `--no-cache` run's.
#[test]
fn a_stored_resolution_that_does_not_decode_is_resolved_again() {
    for damage in [
        "UPDATE resolutions SET state = x'ff00ff00' WHERE path LIKE 'lib/%'",
        "UPDATE resolutions SET state = x'ffffffff0f61'",
        "UPDATE scopes SET projects = x'ffffffff0f'",
    ] {
        let project = sample_copy();
        let cache = scratch();
        run_with(&mut with_cache(cache.path(), PARSE, project.path()));
        sql(&cache.path().join("index.db"), damage);
        let run = run_with(&mut with_cache(cache.path(), PARSE, project.path()));
        let report = json(&run);
        let warnings = report["runtime"]["warnings"].as_array().unwrap();
        assert!(
            warnings
                .iter()
                .any(|w| w.as_str().unwrap().contains("do not decode")),
            "{damage}: {warnings:?}"
        );
        assert!(re_resolved(&report) > 0, "{damage}");
        assert_eq!(
            stable(report),
            no_cache(PARSE, project.path()).1,
            "{damage}"
        );
        let next = json(&run_with(&mut with_cache(
            cache.path(),
            PARSE,
            project.path(),
        )));
        assert_eq!(re_resolved(&next), 0, "{damage}: {:#}", next["runtime"]);
        assert_eq!(next["runtime"]["warnings"], serde_json::json!([]));
    }
}

/// `cache clean`: a root whose folder is gone goes with everything stored for it, an entry
/// of a file that is gone goes, the space is given back, and the root kept is served as
/// before.
#[test]
fn cache_clean_removes_gone_roots_and_files_and_vacuums() {
    let kept = sample_copy();
    let gone = sample_copy();
    let cache = scratch();
    for project in [&kept, &gone] {
        let run = run_with(&mut with_cache(cache.path(), PARSE, project.path()));
        assert_eq!(run.code(), 0, "{}", run.stderr());
    }
    let gone_root = std::fs::canonicalize(gone.path()).unwrap();
    drop(gone);
    let removed_file = first_ex_file(kept.path());
    std::fs::remove_file(&removed_file).unwrap();

    let clean = |format: &str| {
        run_with(
            bin()
                .env("ELIXIRSCOPE_CACHE_DIR", cache.path())
                .args(["cache", "clean", "--format", format])
                .arg(kept.path()),
        )
    };
    let run = clean("json");
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let cleaned = json(&run);
    assert_eq!(
        cleaned["roots_removed"],
        serde_json::json!([gone_root.display().to_string()])
    );
    assert_eq!(cleaned["entries_removed"], 1, "{cleaned:#}");
    assert!(cleaned["pages_freed"].as_u64().unwrap() > 0, "{cleaned:#}");
    assert!(
        cleaned["bytes_after"].as_u64() < cleaned["bytes_before"].as_u64(),
        "{cleaned:#}"
    );
    // Nothing left to clean.
    let again = json(&clean("json"));
    assert_eq!(again["roots_removed"], serde_json::json!([]));
    assert_eq!(again["entries_removed"], 0);
    assert!(clean("text").stdout().contains("removed:        0 entries"));

    let info = json(&run_with(
        bin()
            .env("ELIXIRSCOPE_CACHE_DIR", cache.path())
            .args(["cache", "info", "--format", "json"])
            .arg(kept.path()),
    ));
    assert_eq!(info["roots"].as_array().unwrap().len(), 1, "{info:#}");
    // The root kept is served as a fresh run sees it.
    let warm = run_with(&mut with_cache(cache.path(), PARSE, kept.path()));
    assert_eq!(warm.code(), 0, "{}", warm.stderr());
    assert_eq!(stable(json(&warm)), no_cache(PARSE, kept.path()).1);

    // No index: nothing to clean, not an error.
    let empty = scratch();
    let none = run_with(
        bin()
            .env("ELIXIRSCOPE_CACHE_DIR", empty.path())
            .args(["cache", "clean", "--format", "text"])
            .arg(kept.path()),
    );
    assert_eq!(none.code(), 0);
    assert!(none.stdout().contains("no index at"), "{}", none.stdout());
}
