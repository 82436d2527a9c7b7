//! Helpers shared by the integration tests: run the real binary, decode and validate its JSON.
#![allow(dead_code)] // reason: each test binary uses a subset

pub mod report;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub use report::Report;

/// The binary, with an index folder of its own: tests never share an index (nor write one
/// into the fixtures' tree).
pub fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_elixirscope"));
    command
        .env_remove("ELIXIRSCOPE_FAULTS")
        .env_remove("ELIXIRSCOPE_MEMORY_LIMIT")
        .env_remove("NO_COLOR")
        .env("ELIXIRSCOPE_CACHE_DIR", fresh_cache_dir());
    command
}

/// A folder no other command of any test uses, under cargo's scratch folder for tests.
pub fn fresh_cache_dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "index-{}-{}-{n}",
        std::process::id(),
        std::thread::current()
            .name()
            .unwrap_or("main")
            .replace("::", "-")
    ))
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    /// Decodes the JSON report strictly and validates it against the committed schema.
    pub fn report(&self) -> Report {
        let text = self.stdout();
        let value: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {text}\nstderr: {}", self.stderr()));
        validate(&value);
        serde_json::from_value(value).expect("report matches the test structs")
    }
}

pub fn run(args: &[&str]) -> Run {
    run_with(bin().args(args))
}

pub fn run_with(command: &mut Command) -> Run {
    Run {
        output: command.output().expect("the binary runs"),
    }
}

/// `parse --format json` over `paths` with extra args.
pub fn parse_json(paths: &[&Path], extra: &[&str]) -> Run {
    let mut command = bin();
    command.arg("parse").arg("--format").arg("json");
    command.args(extra);
    command.args(paths);
    run_with(&mut command)
}

fn schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json");
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::validator_for(&schema).expect("the committed schema is a valid JSON Schema")
    })
}

pub fn validate(value: &serde_json::Value) {
    let errors: Vec<String> = schema()
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .take(10)
        .collect();
    assert!(errors.is_empty(), "report violates the schema: {errors:#?}");
}

/// A scratch project directory.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("elixirscope-test")
        .tempdir()
        .unwrap()
}

pub fn write(dir: &Path, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, contents).unwrap();
    path
}

impl Report {
    /// The record of `path`, matched exactly or as a suffix after `/` (fixtures inside this
    /// repository are reported relative to its git top level).
    pub fn file(&self, path: &str) -> &report::FileRecord {
        let suffix = format!("/{path}");
        self.files
            .iter()
            .find(|f| f.path == path || f.path.ends_with(&suffix))
            .unwrap_or_else(|| {
                panic!(
                    "{path} not in report: {:?}",
                    self.files.iter().map(|f| &f.path).collect::<Vec<_>>()
                )
            })
    }
    pub fn paths(&self) -> Vec<&str> {
        self.files.iter().map(|f| f.path.as_str()).collect()
    }
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Waits until the process has a handler for `signal` (Linux: SigCgt in /proc), so the test
/// sends it neither too early nor after a fixed sleep.
#[cfg(target_os = "linux")]
pub fn wait_for_handler(pid: u32, signal: i32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .unwrap_or(0);
        if caught & (1 << (signal - 1)) != 0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "no handler installed");
        std::thread::yield_now();
    }
}

/// Runs `command` with `input` on its standard input.
pub fn run_with_input(command: &mut Command, input: &[u8]) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    Run {
        output: child.wait_with_output().unwrap(),
    }
}
