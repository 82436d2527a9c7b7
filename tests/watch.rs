//! `elixirscope watch` ([7]) on the real binary over a temporary copy of the
//! sample app: its events after real edits. Tests wait for events with generous deadlines;
//! no sleep decides an outcome.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use common::{bin, copy_tree, fixtures};
use serde_json::Value;

const EVENT_WAIT: Duration = Duration::from_secs(60);

/// Every event against `schema/watch.schema.json`.
fn validate(event: &Value) {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let schema = SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/watch.schema.json"),
        )
        .unwrap();
        jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
    });
    let errors: Vec<String> = schema.iter_errors(event).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}: {event}");
}

struct Session {
    child: Child,
    events: Receiver<Value>,
}

fn start(tree: &Path, extra: &[&str]) -> Session {
    start_with(tree, extra, &[])
}

fn start_with(tree: &Path, extra: &[&str], env: &[(&str, &str)]) -> Session {
    let mut command: Command = bin();
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .args(["watch", "--format", "ndjson", "--debounce-ms", "50"])
        .arg(tree)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("the binary runs");
    let stdout = child.stdout.take().unwrap();
    let (sender, events) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let value: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            validate(&value);
            if sender.send(value).is_err() {
                break;
            }
        }
    });
    Session { child, events }
}

/// A test that fails leaves no watching process behind.
impl Drop for Session {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Session {
    /// The next event of `kind` (others skipped), or a failure after a generous wait.
    fn next(&self, kind: &str) -> Value {
        loop {
            let event = self
                .events
                .recv_timeout(EVENT_WAIT)
                .unwrap_or_else(|_| panic!("no {kind} event"));
            if event["type"] == kind {
                return event;
            }
        }
    }

    fn exit_code(mut self) -> i32 {
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("watch did not stop");
    }
}

fn sample_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("sample_app"), dir.path());
    dir
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect()
}

fn exercise(extra: &[&str]) {
    let dir = sample_copy();
    let session = start(dir.path(), &[&["--max-updates", "3"], extra].concat());
    let ready = session.next("ready");
    let files = ready["summary"]["files"].as_u64().unwrap();
    assert!(files > 10, "{ready}");
    let target = dir.path().join("lib/sample_app/accounts.ex");
    let original = std::fs::read_to_string(&target).unwrap();

    // An edit: the update names the new function and its finding.
    let end = original.rfind("end").unwrap();
    let mut edited = original.clone();
    edited.insert_str(end, "  def made_by_the_test(x), do: String.to_atom(x)\n");
    std::fs::write(&target, &edited).unwrap();
    let update = session.next("update");
    assert_eq!(
        update["changed"],
        serde_json::json!(["lib/sample_app/accounts.ex"])
    );
    assert!(
        names(&update["functions"]["added"])
            .contains(&"SampleApp.Accounts.made_by_the_test".into()),
        "{update}"
    );
    assert!(
        update["findings_added"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "unsafe-to-atom" && f["file"] == "lib/sample_app/accounts.ex"),
        "{update}"
    );
    assert!(update["elapsed_ms"].is_u64());

    // A syntax error: the status changes.
    std::fs::write(&target, format!("{edited}\ndefmodule Broken do\n  def (\n")).unwrap();
    let update = session.next("update");
    assert_eq!(update["statuses"][0]["to"], "syntax_error", "{update}");

    // A new directory with a file written into it at once.
    let fresh = dir.path().join("lib/fresh");
    std::fs::create_dir(&fresh).unwrap();
    std::fs::write(
        fresh.join("made.ex"),
        "defmodule Fresh.Made do\n  def go, do: :ok\nend\n",
    )
    .unwrap();
    let update = session.next("update");
    assert_eq!(
        update["added"],
        serde_json::json!(["lib/fresh/made.ex"]),
        "{update}"
    );
    assert!(names(&update["modules"]["added"]).contains(&"Fresh.Made".into()));

    // --max-updates 3: the session stops by itself, with the summary.
    let stopped = session.next("stopped");
    assert_eq!(
        stopped["summary"]["files"].as_u64().unwrap(),
        files + 1,
        "{stopped}"
    );
    assert_eq!(session.exit_code(), 0);
}

#[test]
fn edits_syntax_errors_and_new_directories_are_updates() {
    exercise(&[]);
}

#[test]
fn polling_sees_the_same_updates() {
    exercise(&["--poll", "--poll-interval", "100"]);
}

/// Ctrl-C ends the session with exit 0 (the user chose to stop), after a `stopped` event.
#[test]
fn sigint_stops_the_session_with_exit_0() {
    let dir = sample_copy();
    let session = start(dir.path(), &[]);
    session.next("ready");
    let pid = i32::try_from(session.child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    session.next("stopped");
    assert_eq!(session.exit_code(), 0);
}

/// The watched folder deleted under the session: a `stopped` event, then exit 2 with a
/// message saying what happened, never a session waiting forever.
#[test]
fn a_removed_root_ends_the_session_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("app");
    copy_tree(&fixtures().join("sample_app"), &root);
    let mut child = bin()
        .args(["watch", "--format", "ndjson", "--no-cache"])
        .arg(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = stdout.lines().map_while(Result::ok);
    assert!(
        lines.by_ref().any(|line| line.contains("\"ready\"")),
        "no ready event"
    );
    // A session that never ends is killed after a generous wait (the test then fails).
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pid = i32::try_from(child.id()).unwrap();
    let watchdog = {
        let done = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            for _ in 0..600 {
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            // SAFETY: our own child, not yet reaped (`done` is set before the wait).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        })
    };
    std::fs::remove_dir_all(&root).unwrap();
    let rest: Vec<String> = lines.collect();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    watchdog.join().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        rest.iter().any(|line| line.contains("\"stopped\"")),
        "no stopped event: {rest:?}"
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("was removed or replaced"),
        "stderr: {stderr}"
    );
}

/// A rename, an editor's atomic save and a burst of 300 written files: few updates, nothing
/// missed, and the `stopped` summary equals a fresh `parse --no-cache` of the tree.
#[test]
fn renames_atomic_saves_and_bursts_end_in_the_state_a_fresh_parse_sees() {
    let dir = sample_copy();
    let root = dir.path();
    let session = start(root, &[]);
    session.next("ready");
    let lib = root.join("lib/sample_app");
    std::fs::rename(lib.join("accounts.ex"), lib.join("accounts_moved.ex")).unwrap();
    // One update, or two when the start's rescan saw half of it.
    let mut touched: Vec<String> = Vec::new();
    while !(touched
        .iter()
        .any(|p| p == "lib/sample_app/accounts_moved.ex")
        && touched.iter().any(|p| p == "lib/sample_app/accounts.ex"))
    {
        let update = session.next("update");
        touched.extend(
            ["added", "removed", "changed"]
                .iter()
                .flat_map(|k| update[k].as_array().unwrap())
                .map(|p| p.as_str().unwrap().to_string()),
        );
    }
    // An atomic save: a temporary file renamed over the target.
    let target = lib.join("accounts_moved.ex");
    let text = std::fs::read_to_string(&target).unwrap();
    let end = text.rfind("end").unwrap();
    let mut saved = text.clone();
    saved.insert_str(end, "  def saved_atomically, do: :ok\n");
    std::fs::write(lib.join(".accounts_moved.ex.tmp"), &saved).unwrap();
    std::fs::rename(lib.join(".accounts_moved.ex.tmp"), &target).unwrap();
    let update = session.next("update");
    assert!(
        names(&update["functions"]["added"])
            .contains(&"SampleApp.Accounts.saved_atomically".into()),
        "{update}"
    );
    // A burst: 300 files at once.
    let burst = root.join("lib/burst");
    std::fs::create_dir(&burst).unwrap();
    for n in 0..300 {
        std::fs::write(
            burst.join(format!("b{n}.ex")),
            format!("defmodule Burst.B{n} do\n  def f, do: {n}\nend\n"),
        )
        .unwrap();
    }
    let mut added = 0;
    let mut updates = 0;
    while added < 300 {
        let update = session.next("update");
        updates += 1;
        added += update["added"].as_array().unwrap().len();
    }
    assert_eq!(added, 300);
    assert!(updates < 100, "{updates} updates for one burst");
    // A file of the burst can be read while it is being written (its directory is scanned as
    // soon as it is watched); its write's own event brings it whole. The live state is final
    // once the tree has been quiet: `indexed` says so.
    session.next("indexed");
    signal(&session, libc::SIGTERM);
    let stopped = session.next("stopped");
    assert_eq!(session.exit_code(), 143);
    let mut parse = bin();
    parse
        .args(["parse", "--no-cache", "--format", "json"])
        .arg(root);
    let report: Value =
        serde_json::from_slice(&parse.output().expect("parse runs").stdout).unwrap();
    for key in ["files", "modules", "functions"] {
        assert_eq!(
            stopped["summary"][key], report["summary"][key],
            "{key}: {stopped}"
        );
    }
}

fn signal(session: &Session, signal: i32) {
    let pid = i32::try_from(session.child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Adds a function to a module file; the function's name.
fn add_function(file: &Path, name: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let end = text.rfind("end").unwrap();
    let mut edited = text.clone();
    edited.insert_str(end, &format!("  def {name}(x), do: x\n"));
    std::fs::write(file, edited).unwrap();
}

/// The next update naming `function` among the functions added.
fn update_adding(session: &Session, function: &str) -> Value {
    loop {
        let update = session.next("update");
        if names(&update["functions"]["added"])
            .iter()
            .any(|n| n.ends_with(function))
        {
            return update;
        }
    }
}

/// Each service of the Synchronization subsystem crashed on its first piece of work: the
/// supervisor restarts it (rest_for_one: with those after it), a `restarted` event says so,
/// no edit is lost (the start's rescan or the restart's sees what the crash dropped), and
/// later edits are still seen.
#[test]
fn each_injected_service_crash_is_restarted_and_no_edit_is_lost() {
    let order = ["file_watcher", "synchronizer", "incremental_updater"];
    for (position, service) in order.iter().enumerate() {
        let dir = sample_copy();
        let fault = format!("service:{service}:crash");
        let session = start_with(dir.path(), &[], &[("ELIXIRSCOPE_FAULTS", fault.as_str())]);
        session.next("ready");
        let lib = dir.path().join("lib/sample_app");
        add_function(&lib.join("accounts.ex"), "lost_to_the_crash");
        // The restarts and the edit's update, in whichever order they come (the edit may
        // be seen by the start's rescan, before the batch that crashes the service).
        let mut restarted = Vec::new();
        let mut seen = false;
        while restarted.len() < order.len() - position || !seen {
            let event = session
                .events
                .recv_timeout(EVENT_WAIT)
                .unwrap_or_else(|_| panic!("{service}: restarts {restarted:?}, edit seen {seen}"));
            match event["type"].as_str().unwrap() {
                "restarted" => {
                    let reason = event["reason"].as_str().unwrap();
                    if restarted.is_empty() {
                        assert!(reason.contains("injected"), "{event}");
                    } else {
                        assert!(reason.contains("rest_for_one"), "{event}");
                    }
                    restarted.push(event["service"].as_str().unwrap().to_string());
                }
                "update" => {
                    seen |= names(&event["functions"]["added"])
                        .iter()
                        .any(|n| n.ends_with(".lost_to_the_crash"));
                }
                _ => {}
            }
        }
        assert_eq!(restarted, order[position..].to_vec(), "{service}");
        add_function(&lib.join("cache.ex"), "after_the_restart");
        update_adding(&session, ".after_the_restart");
        signal(&session, libc::SIGINT);
        let stopped = session.next("stopped");
        let child = stopped["supervision"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["path"] == format!("root/synchronization/{service}"))
            .unwrap_or_else(|| panic!("{stopped}"))
            .clone();
        assert_eq!(child["restarts"], 1, "{stopped}");
        assert_eq!(session.exit_code(), 0);
    }
}

fn query(root: &Path, text: &str, extra: &[&str]) -> Value {
    let mut command = bin();
    command
        .args(["query", text])
        .arg(root)
        .args(["--format", "json"])
        .args(extra);
    let output = command.output().expect("query runs");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)))
}

/// `watch` keeps the index current: once it says `indexed`, a `query` in another process
/// answers from the query tables with the edit in them, the same rows a query without the
/// index gives; a second `watch` starts from the index, parsing nothing.
#[test]
fn query_during_watch_sees_the_edit_and_a_second_watch_starts_from_the_index() {
    let dir = sample_copy();
    let root = dir.path();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let session = start(root, &["--cache-dir", cache_dir]);
    let ready = session.next("ready");
    assert_eq!(ready["from_index"], 0, "{ready}");
    add_function(&root.join("lib/sample_app/accounts.ex"), "seen_by_query");
    update_adding(&session, ".seen_by_query");
    session.next("indexed");
    for text in [
        "functions where name = 'seen_by_query'",
        "functions",
        "callers of SampleApp.Accounts.list_users/1",
        "findings",
    ] {
        let live = query(root, text, &["--cache-dir", cache_dir]);
        assert_eq!(
            live["runtime"]["answered_from"], "query_tables",
            "{text}: {live}"
        );
        let fresh = query(root, text, &["--no-cache"]);
        assert_eq!(live["rows"], fresh["rows"], "{text}");
        if text.contains("seen_by_query") {
            assert_eq!(live["rows"].as_array().unwrap().len(), 1, "{live}");
        }
    }
    signal(&session, libc::SIGINT);
    let stopped = session.next("stopped");
    assert_eq!(session.exit_code(), 0);

    let session = start(root, &["--cache-dir", cache_dir]);
    let ready = session.next("ready");
    assert_eq!(ready["summary"], stopped["summary"], "{ready}");
    let sources = ready["summary"]["files"].as_u64().unwrap();
    assert!(
        ready["from_index"].as_u64().unwrap() + 2 >= sources,
        "{ready}"
    );
    signal(&session, libc::SIGINT);
    session.next("stopped");
    assert_eq!(session.exit_code(), 0);
}
