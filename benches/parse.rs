//! `cargo bench --bench parse -- <generate|check|run> [OPTIONS]`
//!
//! Benchmarks `elixirscope parse` against the raw floor — a tree-sitter parse of every file and
//! nothing else — on a deterministic synthetic corpus shaped like Phoenix/OTP/Ecto code.
//! Each side runs as its own child process, interleaved floor/tool/floor/tool, and is measured
//! with `wait4` (wall time, user+system CPU time, peak RSS). The house style asks benchmarks for
//! ratios against a floor measured in the same run; this prints them, and a markdown table for
//! BENCHMARKS.md. See `usage()` for the options.

mod corpus;
mod elixir;
mod measure;

use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{SystemTime, UNIX_EPOCH};
use std::{env, fs};

use anyhow::{anyhow, bail, Context as _, Result};
use rayon::prelude::*;

/// Set on the re-executed harness to make it play the floor.
const ROLE_ENV: &str = "ELIXIRSCOPE_BENCH_ROLE";
/// Overrides the elixirscope binary under test.
const BIN_ENV: &str = "ELIXIRSCOPE_BIN";
const DEFAULT_CORPUS: &str = "target/bench-corpus";
const DEFAULT_PAIRS: usize = 5;
const DEFAULT_JOBS: usize = 2;
const DEFAULT_SAMPLE: usize = 30;
/// Targets of issue [1b]; missing them prints a warning, never a failure.
/// Wall-time targets of the issues, by what the tool is asked to do (see [`wall_target`]).
const TARGET_FACTS: f64 = 1.25;
const TARGET_CALLS_AND_METRICS: f64 = 1.4;
const TARGET_ANALYZE: f64 = 1.6;
/// [6]: a cold query, which builds the index and the query tables it reads.
const TARGET_QUERY: f64 = 1.5;
/// The cold query `--command query` runs: functions with their metrics and callers counted.
const COLD_QUERY: &str = "functions where complexity > 5 count";
const TARGET_RSS_PER_CORPUS_BYTE: f64 = 7.0;

fn usage() -> &'static str {
    "\
Benchmark harness for `elixirscope parse` (run through cargo: `cargo bench --bench parse -- ...`).

USAGE:
    generate DIR [--files N]
        Write the deterministic synthetic corpus (default 4000 files, > 20 MB) into DIR, which
        must be absent, empty or an earlier generated corpus. Prints files and bytes.

    check [--corpus DIR] [--files N] [--sample N]
        Validate the corpus: regenerate it in memory and compare bytes (determinism), parse every
        file with tree-sitter-elixir (no ERROR/MISSING node allowed) and, when `elixir` is on
        PATH, parse a sample of N files (default 30, 0 = all) with Code.string_to_quoted/2.

    run [--corpus DIR] [--pairs N] [--jobs N] [--files N] [--command parse|analyze|query]
        [--extra-args \"ARGS\"]
        Generate the corpus into target/bench-corpus if needed (or use --corpus DIR), check
        once that elixirscope sees the same files as the floor, then run N interleaved pairs
        (default 5) of the floor and of
            elixirscope COMMAND DIR --jobs N --format json --output /dev/null --quiet [ARGS]
        on --jobs threads (default 2; COMMAND defaults to parse). Reports per-run and median
        wall time, CPU time and peak RSS, their ratios against the issue's target for the
        configuration ([1b] facts: --no-calls --no-metrics, 1.25x; [3a]/[3b] parse: 1.4x;
        [4a] analyze: 1.6x), and a markdown table for BENCHMARKS.md. ARGS is split on
        whitespace; analyze needs `--fail-on never`, as findings would make it exit 1.

ENVIRONMENT:
    ELIXIRSCOPE_BIN   elixirscope binary to measure (default: the one cargo built for this bench)

Exit status: 0 on success (a missed target is only a warning), 1 on failure, 2 on a usage error.
"
}

fn main() -> ExitCode {
    if let Ok(role) = env::var(ROLE_ENV) {
        return finish(match role.as_str() {
            "floor" => floor_role(),
            other => Err(anyhow!("unknown {ROLE_ENV}={other}")),
        });
    }
    // cargo bench appends `--bench` to the arguments of every bench binary.
    let args: Vec<String> = env::args().skip(1).filter(|a| a != "--bench").collect();
    let Some((command, rest)) = args.split_first() else {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    };
    let result = Options::parse(rest).and_then(|opts| match command.as_str() {
        "generate" => generate_command(&opts),
        "check" => check_command(&opts),
        "run" => run_command(&opts, &args),
        "help" | "--help" | "-h" => {
            print!("{}", usage());
            Ok(())
        }
        other => Err(UsageError(format!("unknown command {other:?}")).into()),
    });
    finish(result)
}

fn finish(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.is::<UsageError>() => {
            eprintln!("error: {err}\n\n{}", usage());
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

#[derive(Default)]
struct Options {
    positional: Vec<String>,
    corpus: Option<PathBuf>,
    files: Option<usize>,
    pairs: Option<usize>,
    jobs: Option<usize>,
    sample: Option<usize>,
    extra_args: Vec<String>,
    command: Option<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (arg.as_str(), None),
            };
            if !flag.starts_with("--") {
                o.positional.push(arg.clone());
                continue;
            }
            let mut value = || -> Result<String> {
                inline
                    .clone()
                    .or_else(|| it.next().cloned())
                    .ok_or_else(|| UsageError(format!("{flag} needs a value")).into())
            };
            let number = |v: String| -> Result<usize> {
                v.parse::<usize>()
                    .map_err(|_| UsageError(format!("{flag} wants a number, got {v:?}")).into())
            };
            match flag {
                "--corpus" => o.corpus = Some(PathBuf::from(value()?)),
                "--files" => o.files = Some(number(value()?)?),
                "--pairs" => o.pairs = Some(number(value()?)?),
                "--jobs" => o.jobs = Some(number(value()?)?),
                "--sample" => o.sample = Some(number(value()?)?),
                "--command" => {
                    let command = value()?;
                    if !matches!(command.as_str(), "parse" | "analyze" | "query") {
                        return Err(UsageError(format!(
                            "--command is parse, analyze or query, not {command}"
                        ))
                        .into());
                    }
                    o.command = Some(command);
                }
                "--extra-args" => {
                    o.extra_args = value()?.split_whitespace().map(String::from).collect()
                }
                _ => return Err(UsageError(format!("unknown option {flag}")).into()),
            }
        }
        if o.files == Some(0) || o.pairs == Some(0) || o.jobs == Some(0) {
            return Err(UsageError("--files, --pairs and --jobs must be at least 1".into()).into());
        }
        Ok(o)
    }

    fn files(&self) -> usize {
        self.files.unwrap_or(corpus::DEFAULT_FILES)
    }
}

// -------------------------------------------------------------------- generate

fn generate_command(opts: &Options) -> Result<()> {
    let [dir] = opts.positional.as_slice() else {
        return Err(UsageError("generate takes exactly one DIR".into()).into());
    };
    let (files, bytes) = corpus::generate(Path::new(dir), opts.files())?;
    println!(
        "generated {files} files, {bytes} bytes ({}) in {dir}",
        mb(bytes)
    );
    Ok(())
}

/// The corpus to use: an explicit `--corpus` is taken as it is when it exists (it may be a real
/// project); otherwise the generated corpus is (re)built unless its manifest already matches.
fn ensure_corpus(opts: &Options) -> Result<PathBuf> {
    if !opts.positional.is_empty() {
        return Err(UsageError(format!("unexpected argument {:?}", opts.positional[0])).into());
    }
    let (dir, explicit) = match &opts.corpus {
        Some(dir) => (dir.clone(), true),
        None => (PathBuf::from(DEFAULT_CORPUS), false),
    };
    let wanted = opts.files();
    match corpus::read_manifest(&dir) {
        Some((files, _)) if files == wanted || (explicit && opts.files.is_none()) => {}
        _ if explicit && dir.exists() && !dir.join(corpus::MANIFEST).exists() => {
            eprintln!("using {} as it is (not a generated corpus)", dir.display());
        }
        _ => {
            eprintln!("generating {wanted} files into {} ...", dir.display());
            let (files, bytes) = corpus::generate(&dir, wanted)?;
            eprintln!("generated {files} files, {bytes} bytes ({})", mb(bytes));
        }
    }
    Ok(dir)
}

// -------------------------------------------------------------------- floor

thread_local! {
    static PARSER: RefCell<tree_sitter::Parser> = RefCell::new(new_parser());
}

fn new_parser() -> tree_sitter::Parser {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_elixir::LANGUAGE.into())
        .expect("tree-sitter-elixir is ABI-compatible with this tree-sitter");
    parser
}

/// Reads and parses one file with this thread's parser: (bytes, tree has ERROR/MISSING nodes).
fn parse_file(path: &Path) -> Result<(u64, bool)> {
    let source = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    PARSER.with(|parser| {
        let tree = parser
            .borrow_mut()
            .parse(&source, None)
            .ok_or_else(|| anyhow!("tree-sitter returned no tree for {}", path.display()))?;
        Ok((source.len() as u64, tree.root_node().has_error()))
    })
}

/// The floor: list the files, parse each on a pool of `jobs` threads, drop the tree.
/// Invoked as `ELIXIRSCOPE_BENCH_ROLE=floor <harness> DIR JOBS`; prints one summary line.
fn floor_role() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let [dir, jobs] = args.as_slice() else {
        bail!("the floor role wants DIR JOBS, got {args:?}");
    };
    let jobs: usize = jobs.parse().context("JOBS")?;
    let files = corpus::list_sources(Path::new(dir))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("building the thread pool")?;
    let (bytes, errors) = pool.install(|| {
        files
            .par_iter()
            .map(|p| parse_file(p).map(|(b, e)| (b, usize::from(e))))
            .try_reduce(|| (0, 0), |a, b| Ok((a.0 + b.0, a.1 + b.1)))
    })?;
    println!("files={} bytes={bytes} errors={errors}", files.len());
    Ok(())
}

struct FloorCounts {
    files: usize,
    bytes: u64,
    errors: usize,
}

fn parse_floor_output(out: &str) -> Result<FloorCounts> {
    let field = |name: &str| -> Result<u64> {
        out.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow!("the floor printed no {name}=: {out:?}"))
    };
    Ok(FloorCounts {
        files: field("files")? as usize,
        bytes: field("bytes")?,
        errors: field("errors")? as usize,
    })
}

// -------------------------------------------------------------------- check

fn check_command(opts: &Options) -> Result<()> {
    let dir = ensure_corpus(opts)?;
    let files = corpus::list_sources(&dir)?;
    let mut failures = Vec::new();

    // 1. Determinism: the bytes on disk are what the generator produces now.
    if let Some((count, _)) = corpus::read_manifest(&dir) {
        let plan = corpus::plan(count);
        let differing: Vec<&str> = plan
            .files
            .par_iter()
            .filter(|f| {
                let text = elixir::render(&plan, f);
                fs::read(dir.join(&f.path)).map_or(true, |disk| disk != text.as_bytes())
            })
            .map(|f| f.path.as_str())
            .collect();
        if differing.is_empty() {
            println!("determinism: all {count} files regenerate byte-identically");
        } else {
            println!(
                "determinism: {} files differ from a fresh generation, e.g. {}",
                differing.len(),
                differing[0]
            );
            failures.push("generated files are not deterministic");
        }
        if plan.files.len() != files.len() {
            failures.push("the corpus holds other .ex/.exs files than the plan");
            println!(
                "files: planned {}, found {} .ex/.exs files",
                plan.files.len(),
                files.len()
            );
        }
    } else {
        println!(
            "determinism: skipped ({} is not a generated corpus)",
            dir.display()
        );
    }

    // 2. Shape: sizes.
    let mut sizes: Vec<(u64, &Path)> = files
        .iter()
        .map(|p| Ok((fs::metadata(p)?.len(), p.as_path())))
        .collect::<Result<_>>()?;
    sizes.sort();
    let total: u64 = sizes.iter().map(|s| s.0).sum();
    let tiny = sizes.iter().filter(|s| s.0 < 1024).count();
    let large = sizes.iter().filter(|s| s.0 >= 50 * 1024).count();
    let (biggest, biggest_path) = sizes.last().copied().unwrap_or((0, Path::new("-")));
    println!(
        "corpus: {} files, {total} bytes ({}), mean {} bytes, median {} bytes, {tiny} under 1 KiB, \
         {large} of 50 KiB or more, largest {biggest} bytes ({})",
        files.len(),
        mb(total),
        total / files.len().max(1) as u64,
        sizes.get(sizes.len() / 2).map_or(0, |s| s.0),
        biggest_path.strip_prefix(&dir).unwrap_or(biggest_path).display()
    );

    if total < 20_000_000 && files.len() >= corpus::DEFAULT_FILES {
        failures.push("the default-sized corpus is under 20 MB");
    }

    // 3. tree-sitter: no ERROR or MISSING node anywhere.
    let with_errors: Vec<String> = files
        .par_iter()
        .filter_map(|p| match first_syntax_error(p) {
            Ok(None) => None,
            Ok(Some(at)) => Some(format!("{}: {at}", p.display())),
            Err(err) => Some(format!("{}: {err:#}", p.display())),
        })
        .collect();
    if with_errors.is_empty() {
        println!(
            "tree-sitter: all {} files parse without ERROR/MISSING nodes",
            files.len()
        );
    } else {
        println!(
            "tree-sitter: {} files have ERROR/MISSING nodes:",
            with_errors.len()
        );
        for line in with_errors.iter().take(20) {
            println!("  {line}");
        }
        failures.push("tree-sitter found syntax errors");
    }

    // 4. Elixir's own parser on a sample (or everything).
    match elixir_check(&files, opts.sample.unwrap_or(DEFAULT_SAMPLE)) {
        Ok(Some(summary)) => println!("elixir: {summary}"),
        Ok(None) => println!("elixir: skipped (`elixir` is not on PATH)"),
        Err(err) => {
            println!("elixir: {err:#}");
            failures.push("Code.string_to_quoted rejected generated files");
        }
    }

    if failures.is_empty() {
        println!("check passed");
        Ok(())
    } else {
        bail!("check failed: {}", failures.join("; "))
    }
}

/// Line and column (1-based) and kind of the first ERROR or MISSING node, if any.
fn first_syntax_error(path: &Path) -> Result<Option<String>> {
    let source = fs::read(path)?;
    PARSER.with(|parser| {
        let tree = parser
            .borrow_mut()
            .parse(&source, None)
            .ok_or_else(|| anyhow!("no tree"))?;
        if !tree.root_node().has_error() {
            return Ok(None);
        }
        // Iterative pre-order walk, descending only into subtrees that contain an error.
        let mut cursor = tree.walk();
        loop {
            let node = cursor.node();
            if node.is_error() || node.is_missing() {
                let p = node.start_position();
                let what = if node.is_missing() {
                    "MISSING"
                } else {
                    "ERROR"
                };
                return Ok(Some(format!("{what} at {}:{}", p.row + 1, p.column + 1)));
            }
            if node.has_error() && cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    return Ok(Some("error flag without an ERROR node".into()));
                }
            }
        }
    })
}

const ELIXIR_CHECK: &str = r##"
paths = System.argv()
failed =
  Enum.count(paths, fn path ->
    case Code.string_to_quoted(File.read!(path), file: path, columns: true) do
      {:ok, _ast} -> false
      {:error, {meta, message, token}} ->
        IO.puts(:stderr, "#{path}:#{inspect(meta)}: #{inspect(message)} #{inspect(token)}")
        true
    end
  end)
IO.puts("#{length(paths) - failed} of #{length(paths)} files parsed by Code.string_to_quoted/2")
System.halt(if failed == 0, do: 0, else: 1)
"##;

/// Parses `sample` files (spread evenly over the sorted list, plus the largest; 0 = all) with
/// Elixir's own parser. `Ok(None)` when `elixir` is not installed.
fn elixir_check(files: &[PathBuf], sample: usize) -> Result<Option<String>> {
    let probe = Command::new("elixir")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        return Ok(None);
    }
    let mut chosen: Vec<&PathBuf> = if sample == 0 || sample >= files.len() {
        files.iter().collect()
    } else {
        let mut v: Vec<&PathBuf> = (0..sample)
            .map(|i| &files[i * files.len() / sample])
            .collect();
        if let Some(largest) = files
            .iter()
            .max_by_key(|p| fs::metadata(p).map_or(0, |m| m.len()))
        {
            v.push(largest);
        }
        v
    };
    chosen.dedup();
    let out = Command::new("elixir")
        .arg("-e")
        .arg(ELIXIR_CHECK)
        .args(&chosen)
        .output()
        .context("running elixir")?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() {
        Ok(Some(stdout))
    } else {
        bail!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr).trim())
    }
}

// -------------------------------------------------------------------- run

struct Run {
    wall: f64,
    cpu: f64,
    rss_kib: u64,
}

impl Run {
    fn of(m: &measure::Measured) -> Run {
        Run {
            wall: m.wall.as_secs_f64(),
            cpu: m.cpu.as_secs_f64(),
            rss_kib: m.max_rss_kib,
        }
    }
}

fn tool_binary() -> Result<PathBuf> {
    let path = match env::var_os(BIN_ENV) {
        Some(p) => PathBuf::from(p),
        None => match option_env!("CARGO_BIN_EXE_elixirscope") {
            Some(p) => PathBuf::from(p),
            None => bail!("no elixirscope binary: set {BIN_ENV}=/path/to/elixirscope"),
        },
    };
    if !path.is_file() {
        bail!(
            "elixirscope binary {} does not exist (set {BIN_ENV})",
            path.display()
        );
    }
    Ok(path)
}

fn floor_command(dir: &Path, jobs: usize) -> Result<Command> {
    let exe = env::current_exe().context("locating the harness executable")?;
    let mut cmd = Command::new(exe);
    cmd.env(ROLE_ENV, "floor").arg(dir).arg(jobs.to_string());
    Ok(cmd)
}

fn tool_command(
    bin: &Path,
    command: &str,
    dir: &Path,
    jobs: usize,
    output: &str,
    extra: &[String],
) -> Command {
    // Every tool run is a cold run that fills the index ([5]): the harness owns the index
    // folder and empties it first, so no run is served by the one before.
    let cache = bench_cache_dir();
    let _ = fs::remove_dir_all(&cache);
    let mut cmd = Command::new(bin);
    cmd.env("ELIXIRSCOPE_CACHE_DIR", &cache).arg(command);
    if command == "query" {
        cmd.arg(COLD_QUERY);
    }
    cmd.arg(dir)
        .args([
            "--jobs",
            &jobs.to_string(),
            "--format",
            "json",
            "--output",
            output,
            "--quiet",
        ])
        .args(extra)
        .stdout(std::process::Stdio::null());
    cmd
}

/// The index folder of the tool's runs, outside the corpus.
fn bench_cache_dir() -> PathBuf {
    env::temp_dir().join(format!("elixirscope-bench-index-{}", std::process::id()))
}

/// The parts of elixirscope's JSON report the harness checks (unknown fields are skipped).
#[derive(serde::Deserialize)]
struct ReportHead {
    files: Vec<ReportFile>,
}

#[derive(serde::Deserialize)]
struct ReportFile {
    path: String,
    status: String,
}

/// Runs the tool once with its JSON kept and checks that it parsed the same `.ex`/`.exs` files
/// as the floor. Returns a one-line description.
fn validate_tool(bin: &Path, dir: &Path, opts: &RunOptions, floor: &FloorCounts) -> Result<String> {
    let report = env::temp_dir().join(format!("elixirscope-bench-{}.json", std::process::id()));
    let report_arg = report.to_string_lossy().into_owned();
    let mut cmd = tool_command(
        bin,
        &opts.command,
        dir,
        opts.jobs,
        &report_arg,
        &opts.extra_args,
    );
    let measured = measure::run(&mut cmd, false)
        .with_context(|| format!("elixirscope {} (validation run)", opts.command));
    if opts.command == "query" {
        // A query writes its answer, not a report.
        let answer = measured.and_then(|_| {
            let file = fs::File::open(&report).context("opening the query answer")?;
            serde_json::from_reader::<_, serde_json::Value>(std::io::BufReader::new(file))
                .context("decoding the query answer")
        });
        let _ = fs::remove_file(&report);
        let answer = answer?;
        let parsed = answer["runtime"]["cache"]["parsed"].as_u64().unwrap_or(0) as usize;
        let count = answer["rows"][0]["count"].as_u64().unwrap_or(0);
        if answer["runtime"]["answered_from"] != "records" || parsed < floor.files {
            bail!(
                "the cold query parsed {parsed} files (answered from {}) but the floor parsed {}",
                answer["runtime"]["answered_from"],
                floor.files
            );
        }
        return Ok(format!(
            "`{COLD_QUERY}` answers {count} after parsing {parsed} files"
        ));
    }
    let parsed = measured.and_then(|_| {
        let file = fs::File::open(&report).context("opening the JSON report")?;
        serde_json::from_reader::<_, ReportHead>(std::io::BufReader::new(file))
            .context("decoding the JSON report (`files[].path`, `files[].status`)")
    });
    let _ = fs::remove_file(&report);
    let head = parsed?;
    let mut parsed_sources = 0;
    let mut statuses: Vec<(String, usize)> = Vec::new();
    for f in &head.files {
        if f.path.ends_with(".ex") || f.path.ends_with(".exs") {
            match statuses.iter_mut().find(|(s, _)| *s == f.status) {
                Some((_, n)) => *n += 1,
                None => statuses.push((f.status.clone(), 1)),
            }
            if f.status == "ok" || f.status == "syntax_error" {
                parsed_sources += 1;
            }
        }
    }
    statuses.sort();
    let described = statuses
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    if parsed_sources != floor.files {
        bail!(
            "elixirscope parsed {parsed_sources} .ex/.exs files ({described}) but the floor \
             parsed {}: the two sides would not measure the same work",
            floor.files
        );
    }
    Ok(format!(
        "elixirscope reports {} files: {described}",
        head.files.len()
    ))
}

struct RunOptions {
    /// How the binary under test was chosen, for the report.
    binary: String,
    /// What the corpus is, for the report.
    corpus: String,
    pairs: usize,
    jobs: usize,
    extra_args: Vec<String>,
    /// `parse`, `analyze` or `query`.
    command: String,
}

/// The issue's wall-time target for this configuration, and where it comes from: [1b] for the
/// facts alone (`--no-calls --no-metrics`), [3a]/[3b] for `parse` with calls or metrics, [4a]
/// for `analyze`.
fn wall_target(run: &RunOptions) -> (f64, &'static str) {
    let has = |flag: &str| run.extra_args.iter().any(|a| a == flag);
    if run.command == "query" {
        (TARGET_QUERY, "[6] cold query")
    } else if run.command == "analyze" {
        (TARGET_ANALYZE, "[4a] analyze")
    } else if has("--no-calls") && has("--no-metrics") {
        (TARGET_FACTS, "[1b] facts")
    } else {
        (TARGET_CALLS_AND_METRICS, "[3a]/[3b] calls and metrics")
    }
}

fn run_command(opts: &Options, argv: &[String]) -> Result<()> {
    let mut run = RunOptions {
        binary: String::new(),
        corpus: String::new(),
        pairs: opts.pairs.unwrap_or(DEFAULT_PAIRS),
        jobs: opts.jobs.unwrap_or(DEFAULT_JOBS),
        extra_args: opts.extra_args.clone(),
        command: opts.command.clone().unwrap_or_else(|| "parse".into()),
    };
    if run.pairs < DEFAULT_PAIRS {
        eprintln!(
            "warning: {} pairs; issue [1b] asks for at least {DEFAULT_PAIRS} for published figures",
            run.pairs
        );
    }
    let dir = ensure_corpus(opts)?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    run.corpus = match corpus::read_manifest(&dir) {
        Some(_) => format!(
            "synthetic Phoenix/OTP/Ecto code from the deterministic generator (version {})",
            corpus::GENERATOR_VERSION
        ),
        None => format!("the source files under `{}`", dir.display()),
    };
    let bin = tool_binary()?;
    run.binary = match env::var_os(BIN_ENV) {
        Some(_) => format!("`{}` (from {BIN_ENV})", bin.display()),
        None => "built by cargo for this bench".to_string(),
    };
    let tool_line = format!(
        "elixirscope {} CORPUS --jobs {} --format json --output /dev/null --quiet{}",
        run.command,
        run.jobs,
        run.extra_args
            .iter()
            .map(|a| format!(" {a}"))
            .collect::<String>()
    );
    eprintln!("corpus: {}", dir.display());
    eprintln!("tool:   {} ({})", tool_line, bin.display());

    // Warm-up (untimed): fills the page cache, learns the floor's counts, validates the tool.
    let warm =
        measure::run(&mut floor_command(&dir, run.jobs)?, true).context("floor (warm-up)")?;
    let counts = parse_floor_output(&warm.stdout)?;
    if counts.errors > 0 {
        eprintln!(
            "warning: tree-sitter found syntax errors in {} files of the corpus",
            counts.errors
        );
    }
    let validation = validate_tool(&bin, &dir, &run, &counts)?;
    eprintln!(
        "floor:  {} files, {} bytes; {validation}",
        counts.files, counts.bytes
    );

    let mut floor = Vec::new();
    let mut tool = Vec::new();
    println!(
        "{:>4}  {:<11} {:>9} {:>9} {:>11}",
        "pair", "side", "wall s", "cpu s", "peak RSS"
    );
    for pair in 1..=run.pairs {
        let f = measure::run(&mut floor_command(&dir, run.jobs)?, true)
            .with_context(|| format!("floor, pair {pair}"))?;
        let again = parse_floor_output(&f.stdout)?;
        if again.files != counts.files || again.bytes != counts.bytes {
            bail!("the corpus changed during the benchmark");
        }
        let f = Run::of(&f);
        print_run(pair, "floor", &f);
        floor.push(f);
        let mut cmd = tool_command(
            &bin,
            &run.command,
            &dir,
            run.jobs,
            "/dev/null",
            &run.extra_args,
        );
        let t = measure::run(&mut cmd, false)
            .with_context(|| format!("elixirscope {}, pair {pair}", run.command))?;
        ensure_dev_null_intact()?;
        let t = Run::of(&t);
        print_run(pair, "elixirscope", &t);
        tool.push(t);
    }

    let summary = Summary::new(&floor, &tool, counts.bytes);
    println!();
    let (target, target_of) = wall_target(&run);
    println!("{}", summary.text(target));
    let command = format!(
        "cargo bench --bench parse -- {}",
        argv.iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!();
    println!(
        "{}",
        markdown(&summary, &floor, &tool, &counts, &run, &command, &tool_line)
    );
    if summary.wall_ratio > target {
        eprintln!(
            "warning: median wall-time ratio {:.2}x misses the {target_of} target of {target}x the floor",
            summary.wall_ratio
        );
    }
    if summary.tool_rss_per_byte > TARGET_RSS_PER_CORPUS_BYTE {
        eprintln!(
            "warning: peak RSS is {:.2}x the corpus size, over the target of {TARGET_RSS_PER_CORPUS_BYTE}x",
            summary.tool_rss_per_byte
        );
    }
    eprintln!(
        "note: the harness's own peak RSS is {} (a lower bound inherited by every child)",
        mib(measure::self_max_rss_kib())
    );
    Ok(())
}

/// The tool is told `--output /dev/null`; an implementation that writes through a temporary file
/// and renames it over the target would replace the device (we may run as root). Stop at once.
fn ensure_dev_null_intact() -> Result<()> {
    use std::os::unix::fs::FileTypeExt as _;
    let meta = fs::metadata("/dev/null").context("inspecting /dev/null")?;
    if !meta.file_type().is_char_device() {
        bail!(
            "/dev/null is no longer a character device after `elixirscope parse --output /dev/null`: \
             --output must write to the path, not rename over it (restore with \
             `rm /dev/null && mknod -m 666 /dev/null c 1 3`)"
        );
    }
    Ok(())
}

fn print_run(pair: usize, side: &str, r: &Run) {
    println!(
        "{pair:>4}  {side:<11} {:>9.3} {:>9.3} {:>11}",
        r.wall,
        r.cpu,
        mib(r.rss_kib)
    );
}

struct Summary {
    floor_wall: f64,
    tool_wall: f64,
    floor_cpu: f64,
    tool_cpu: f64,
    floor_rss_kib: f64,
    tool_rss_kib: f64,
    /// Medians of the per-pair ratios.
    wall_ratio: f64,
    cpu_ratio: f64,
    /// The fastest run of each side, and their ratio: on a machine other work disturbs, the
    /// least disturbed runs (a second opinion; the targets are judged on the medians).
    best_floor_wall: f64,
    best_tool_wall: f64,
    best_floor_cpu: f64,
    best_tool_cpu: f64,
    tool_rss_per_byte: f64,
    floor_rss_per_byte: f64,
}

impl Summary {
    fn new(floor: &[Run], tool: &[Run], corpus_bytes: u64) -> Summary {
        let med = |runs: &[Run], f: fn(&Run) -> f64| {
            measure::median(&runs.iter().map(f).collect::<Vec<_>>())
        };
        let ratios = |f: fn(&Run) -> f64| {
            let v: Vec<f64> = floor.iter().zip(tool).map(|(a, b)| f(b) / f(a)).collect();
            measure::median(&v)
        };
        let best =
            |runs: &[Run], f: fn(&Run) -> f64| runs.iter().map(f).fold(f64::INFINITY, f64::min);
        let floor_rss_kib = med(floor, |r| r.rss_kib as f64);
        let tool_rss_kib = med(tool, |r| r.rss_kib as f64);
        Summary {
            floor_wall: med(floor, |r| r.wall),
            tool_wall: med(tool, |r| r.wall),
            floor_cpu: med(floor, |r| r.cpu),
            tool_cpu: med(tool, |r| r.cpu),
            wall_ratio: ratios(|r| r.wall),
            cpu_ratio: ratios(|r| r.cpu),
            best_floor_wall: best(floor, |r| r.wall),
            best_tool_wall: best(tool, |r| r.wall),
            best_floor_cpu: best(floor, |r| r.cpu),
            best_tool_cpu: best(tool, |r| r.cpu),
            tool_rss_per_byte: tool_rss_kib * 1024.0 / corpus_bytes.max(1) as f64,
            floor_rss_per_byte: floor_rss_kib * 1024.0 / corpus_bytes.max(1) as f64,
            floor_rss_kib,
            tool_rss_kib,
        }
    }

    fn text(&self, target: f64) -> String {
        format!(
            "median wall: floor {:.3} s, elixirscope {:.3} s, ratio {:.2}x (target <= {target}x)\n\
             median CPU:  floor {:.3} s, elixirscope {:.3} s, ratio {:.2}x\n\
             fastest:     wall ratio {:.2}x, CPU ratio {:.2}x (fastest run of each side)\n\
             peak RSS:    floor {} ({:.2}x corpus), elixirscope {} ({:.2}x corpus, target <= {TARGET_RSS_PER_CORPUS_BYTE}x)",
            self.floor_wall,
            self.tool_wall,
            self.wall_ratio,
            self.floor_cpu,
            self.tool_cpu,
            self.cpu_ratio,
            self.best_tool_wall / self.best_floor_wall,
            self.best_tool_cpu / self.best_floor_cpu,
            mib(self.floor_rss_kib as u64),
            self.floor_rss_per_byte,
            mib(self.tool_rss_kib as u64),
            self.tool_rss_per_byte,
        )
    }
}

fn markdown(
    s: &Summary,
    floor: &[Run],
    tool: &[Run],
    counts: &FloorCounts,
    run: &RunOptions,
    command: &str,
    tool_line: &str,
) -> String {
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    let mut md = String::new();
    let _ = writeln!(
        md,
        "### `elixirscope {}` against the tree-sitter floor, {}",
        run.command,
        today()
    );
    let _ = writeln!(md);
    let _ = writeln!(md, "- Machine: {}", machine());
    let _ = writeln!(
        md,
        "- Corpus: {} `.ex`/`.exs` files, {} bytes ({}), {}",
        counts.files,
        counts.bytes,
        mb(counts.bytes),
        run.corpus
    );
    let _ = writeln!(md, "- Command: `{command}`");
    let _ = writeln!(md, "- Tool side: `{tool_line}`, binary {}", run.binary);
    let _ = writeln!(
        md,
        "- Floor side: list the files, then on {} rayon threads (one tree-sitter parser each) \
         read and parse every file and drop the tree",
        run.jobs
    );
    let _ = writeln!(
        md,
        "- {} interleaved pairs (floor, tool, floor, tool, ...) after one untimed warm-up of each; \
         medians; ratios are medians of the per-pair ratios (the fastest-run rows compare each \
         side's least disturbed run); peak RSS is `ru_maxrss` from `wait4`",
        run.pairs
    );
    let _ = writeln!(md);
    let (target, target_of) = wall_target(run);
    let _ = writeln!(
        md,
        "| | floor | elixirscope {} | ratio | target ({target_of}) |",
        run.command
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---|");
    let _ = writeln!(
        md,
        "| wall time | {:.3} s | {:.3} s | {:.2}x | <= {target}x: {} |",
        s.floor_wall,
        s.tool_wall,
        s.wall_ratio,
        mark(s.wall_ratio <= target)
    );
    let _ = writeln!(
        md,
        "| CPU time (user + sys) | {:.3} s | {:.3} s | {:.2}x | |",
        s.floor_cpu, s.tool_cpu, s.cpu_ratio
    );
    let _ = writeln!(
        md,
        "| wall time, fastest run | {:.3} s | {:.3} s | {:.2}x | (second opinion) |",
        s.best_floor_wall,
        s.best_tool_wall,
        s.best_tool_wall / s.best_floor_wall
    );
    let _ = writeln!(
        md,
        "| CPU time, fastest run | {:.3} s | {:.3} s | {:.2}x | |",
        s.best_floor_cpu,
        s.best_tool_cpu,
        s.best_tool_cpu / s.best_floor_cpu
    );
    let _ = writeln!(
        md,
        "| peak RSS | {} | {} | {:.2}x the floor | |",
        mib(s.floor_rss_kib as u64),
        mib(s.tool_rss_kib as u64),
        s.tool_rss_kib / s.floor_rss_kib.max(1.0)
    );
    let _ = writeln!(
        md,
        "| peak RSS / corpus size | {:.2}x | {:.2}x | | <= {TARGET_RSS_PER_CORPUS_BYTE}x: {} |",
        s.floor_rss_per_byte,
        s.tool_rss_per_byte,
        mark(s.tool_rss_per_byte <= TARGET_RSS_PER_CORPUS_BYTE)
    );
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "<details><summary>Every run</summary>\n\n\
         | pair | floor wall | tool wall | wall ratio | floor CPU | tool CPU | CPU ratio | floor RSS | tool RSS |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (i, (f, t)) in floor.iter().zip(tool).enumerate() {
        let _ = writeln!(
            md,
            "| {} | {:.3} s | {:.3} s | {:.2}x | {:.3} s | {:.3} s | {:.2}x | {} | {} |",
            i + 1,
            f.wall,
            t.wall,
            t.wall / f.wall,
            f.cpu,
            t.cpu,
            t.cpu / f.cpu,
            mib(f.rss_kib),
            mib(t.rss_kib)
        );
    }
    let _ = writeln!(md, "\n</details>");
    md
}

// -------------------------------------------------------------------- small helpers

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// CPU model, logical CPUs and memory, from /proc.
fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, v)| v.trim())
        })
        .unwrap_or("unknown CPU");
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_kib: u64 = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    format!(
        "{model}, nproc {nproc}, {:.1} GiB RAM, {} {}",
        mem_kib as f64 / 1024.0 / 1024.0,
        env::consts::OS,
        env::consts::ARCH
    )
}

/// Today's UTC date as YYYY-MM-DD (civil-from-days, H. Hinnant).
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
