//! The command-line interface: every subcommand and flag, defined once. Doc comments here become
//! `--help`, the man pages in `man/` and the shell completions (ripgrep's habit).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The exit-code table, shown at the end of `--help` and in the man pages. A macro so it can be
/// joined to each subcommand's examples with `concat!`; the test
/// `exit_code_table_matches_constants` keeps it in step with `exit.rs`.
macro_rules! exit_codes_help {
    () => {
        "Exit codes (the first that applies wins):
  2    usage, configuration or fatal error (a missing path is named in a one-line message)
  130  interrupted by SIGINT
  143  terminated by SIGTERM
  3    a file could not be analysed: status `failed` or `timeout`
  1    reserved for `analyze`: findings at or above --fail-on
  0    success (syntax errors in the analysed code are reported, not failures)"
    };
}

macro_rules! parse_examples {
    () => {
        "Examples:
  Parse the current project and print a summary (or JSON when piped):
    elixirscope parse

  Write the JSON report of two directories to a file:
    elixirscope parse lib test --format json --output report.json

  Stream one JSON object per file, skipping generated code:
    elixirscope parse --format ndjson --exclude 'lib/generated/**'

  Find where a stable ID from a report is defined:
    elixirscope parse --locate 3f2a9c0d1e4b5a67"
    };
}

macro_rules! cache_examples {
    () => {
        "Examples:
  Where the index of this project is, how big, and how the last run used it:
    elixirscope cache info

  Delete it (the next run parses every file and fills it again):
    elixirscope cache clear"
    };
}

macro_rules! runtime_examples {
    () => {
        "Examples:
  Print the supervision tree, what is built and what is planned:
    elixirscope runtime

  Start every built subsystem, check its health, shut it down and report:
    elixirscope runtime --check --format json"
    };
}

macro_rules! analyze_examples {
    () => {
        "Examples:
  Analyze the project with the default rules (text on a terminal, JSON when piped):
    elixirscope analyze

  Only security rules, failing CI on errors only:
    elixirscope analyze --select security --fail-on error

  Everything but readability, as SARIF for code scanning:
    elixirscope analyze --select all --ignore readability --format sarif -o results.sarif

  Check an unsaved editor buffer:
    elixirscope analyze --stdin-filename lib/my_app/user.ex < buffer.ex"
    };
}

macro_rules! rules_examples {
    () => {
        "Examples:
  List every rule with its category, severity and default:
    elixirscope rules

  Print one rule's documentation:
    elixirscope rules unsafe-to-atom"
    };
}

macro_rules! query_examples {
    () => {
        "Examples:
  Functions more complex than 5, the worst first:
    elixirscope query 'functions where complexity > 5 order by complexity desc limit 10'

  GenServers without a @moduledoc:
    elixirscope query 'modules where kind = genserver and not has_moduledoc'

  Who calls a function, two levels up:
    elixirscope query 'callers of MyApp.Accounts.get_user!/1 depth 2'

  Public functions nothing calls (entry points excluded):
    elixirscope query 'functions where callers = 0 and public and not entry_point'

  How one module comes to depend on another:
    elixirscope query 'path from MyAppWeb.UserController to MyApp.Repo'

  Where a Repo is read with an id (aliases resolved, pipes normalised):
    elixirscope query \"pattern 'MyApp.Repo.get!($S, $ID)'\"

  The fields an entity has:
    elixirscope query --fields functions"
    };
}

macro_rules! completions_examples {
    () => {
        "Examples:
  elixirscope completions bash > ~/.local/share/bash-completion/completions/elixirscope
  elixirscope completions zsh > ~/.zfunc/_elixirscope
  elixirscope completions fish > ~/.config/fish/completions/elixirscope.fish"
    };
}

#[cfg(test)]
pub(crate) const EXIT_CODES_HELP: &str = exit_codes_help!();

/// A fast, fault-tolerant static analyzer for Elixir codebases.
///
/// elixirscope parses every .ex and .exs file of a project in parallel with tree-sitter, without
/// an Elixir toolchain and without compiling the project, and reports what it holds as JSON.
#[derive(Debug, Parser)]
#[command(name = "elixirscope", version, author, max_term_width = 100)]
#[command(after_help = exit_codes_help!())]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Parse Elixir files and report modules, functions and the status of every file.
    ///
    /// Every file found appears in the report with a status: ok, syntax_error, failed, timeout or
    /// skipped (with a reason). Paths in the report are relative to the root: the git top level
    /// that contains the given paths, else their common ancestor.
    #[command(after_help = parse_examples!(), after_long_help = concat!(parse_examples!(), "\n\n", exit_codes_help!()))]
    Parse(ParseArgs),
    /// Run the rules (complexity, design, warning, readability, security) and report findings.
    ///
    /// Rules run in the same single walk over each file as `parse`'s facts. Credo's and
    /// Sobelow's suppression comments are honoured for the rules that follow their checks, as
    /// are elixirscope's own (`# elixirscope:disable-next-line RULE`).
    #[command(after_help = analyze_examples!(), after_long_help = concat!(analyze_examples!(), "\n\n", exit_codes_help!()))]
    Analyze(AnalyzeArgs),
    /// List the rules, or print one rule's documentation.
    #[command(after_help = rules_examples!(), after_long_help = concat!(rules_examples!(), "\n\n", exit_codes_help!()))]
    Rules(RulesArgs),
    /// Show the supervision tree elixirscope runs in; with --check, start it and check its health.
    ///
    /// Every subcommand runs inside a tree of supervisors with OTP semantics (one_for_one,
    /// rest_for_one, restart intensity, ordered shutdown). This prints the tree of the design
    /// with strategies, restart intensities, restart types and shutdown times, and which Rust
    /// component plays each service or which roadmap item will build it.
    #[command(after_help = runtime_examples!(), after_long_help = concat!(runtime_examples!(), "\n\n", exit_codes_help!(), "\n  (runtime --check exits 3 when the tree is degraded or a child had to be killed)"))]
    Runtime(RuntimeArgs),
    /// Keep the repository and its findings live while files change (first version, [7]).
    ///
    /// Parses the tree, then watches the directories discovery enters and, after every settled
    /// batch of changes (one debounce window), re-parses the changed files, re-resolves what
    /// they affect and says what changed: files, modules and functions (by ID), statuses, and
    /// findings added and resolved. NDJSON events (`ready`, `update`, `warning`, `stopped`), or
    /// text on a terminal. Ctrl-C ends the session with exit 0.
    #[command(after_long_help = exit_codes_help!())]
    Watch(WatchArgs),
    /// Show or clear the index: the cache of parsed files that makes later runs fast.
    ///
    /// `parse` and `analyze` keep what they learn about each file in an SQLite database,
    /// `.elixirscope/index.db` under the root unless `--cache-dir` or ELIXIRSCOPE_CACHE_DIR
    /// moves it; a later run parses only the files that changed.
    #[command(after_help = cache_examples!(), after_long_help = concat!(cache_examples!(), "\n\n", exit_codes_help!()))]
    Cache(CacheArgs),
    /// Ask questions of the code: entities filtered and ordered, callers, callees, dependencies.
    ///
    /// QUERY is a small SQL-like language: `ENTITY [where EXPR] [select F, ...] [order by F
    /// [asc|desc], ...] [limit N] [count]` over modules, functions, clauses, calls,
    /// references, dependencies, findings and files; or a graph question: `callers of M.f/2
    /// [depth N]`, `callees of M.f/2 [depth N]`, `dependents of M`, `dependencies of M`, `path
    /// from M to N`, `cycles [label compile|export|runtime]`; or a structural pattern: `pattern
    /// 'Repo.get!($S, $ID)'`. The first query on a project
    /// fills the index; later ones read it. docs/query.md has the grammar and every field.
    #[command(after_help = query_examples!(), after_long_help = concat!(query_examples!(), "\n\n", exit_codes_help!(), "\n  (an invalid query, an unknown field or a query past --timeout-ms exits 2; an empty result exits 0)"))]
    Query(QueryArgs),
    /// Print a shell completion script to standard output.
    #[command(after_help = completions_examples!(), after_long_help = concat!(completions_examples!(), "\n\n", exit_codes_help!()))]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ParseArgs {
    /// Files or directories to parse.
    #[arg(value_name = "PATH", default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,

    #[command(flatten)]
    pub(crate) input: InputArgs,

    #[command(flatten)]
    pub(crate) output: OutputArgs,

    /// Print the file and line range where the entity with this stable ID is defined, and exit.
    #[arg(long, value_name = "ID")]
    pub(crate) locate: Option<String>,

    /// Leave out call sites, module references and the `graph` section: a smaller report with
    /// definitions only, made faster.
    #[arg(long)]
    pub(crate) no_calls: bool,

    /// Leave out the complexity metrics of clauses, functions, modules and the project. With
    /// `--no-calls` the report holds the facts alone (modules, functions, directives), and
    /// function bodies are only read where they can define something.
    #[arg(long)]
    pub(crate) no_metrics: bool,

    /// Keep the run within SIZE of memory (`512MiB`, `2G`; units KiB, MiB, GiB or K, M, G).
    /// At 80% the caches are evicted; at 95% one file is parsed at a time and each record is
    /// put aside in a temporary database, only its module table held; the report reads them
    /// back. A limit the run cannot meet exits 2 naming the least that would do.
    #[arg(long, value_name = "SIZE", env = "ELIXIRSCOPE_MEMORY_LIMIT", value_parser = memory_limit)]
    pub(crate) memory_limit: Option<u64>,
}

/// Options shared by every subcommand that reads a project.
#[derive(Debug, Args, Clone)]
pub(crate) struct InputArgs {
    /// Number of worker threads [default: number of CPUs].
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) jobs: Option<u16>,

    /// Skip paths matching this glob (gitignore syntax, relative to the root); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,

    /// Skip files larger than this many bytes (status `skipped`, reason `too_large`).
    #[arg(long, value_name = "BYTES", default_value_t = 5 * 1024 * 1024)]
    pub(crate) max_file_size: u64,

    /// Follow symbolic links (loops are detected and reported); by default a link is listed as
    /// `skipped` with reason `symlink`.
    #[arg(long)]
    pub(crate) follow: bool,

    /// Use no index: parse every file, and read or write nothing in the cache folder (wins
    /// over `--cache-dir` and ELIXIRSCOPE_CACHE_DIR).
    #[arg(long)]
    pub(crate) no_cache: bool,

    /// Keep the index in DIR instead of `.elixirscope/` under the root; one folder may serve
    /// several roots.
    #[arg(long, value_name = "DIR", env = "ELIXIRSCOPE_CACHE_DIR")]
    pub(crate) cache_dir: Option<PathBuf>,

    /// Give up on a file after this many milliseconds of work on it: parse, extraction and
    /// rules (status `timeout`, what it produced dropped).
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub(crate) parse_timeout_ms: u64,
}

/// Options shared by every subcommand that writes a report.
#[derive(Debug, Args, Clone)]
pub(crate) struct OutputArgs {
    /// Output format: `auto` is text on a terminal and JSON otherwise.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub(crate) format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// When to use colours in text output (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,

    /// Print nothing on standard error except fatal errors (no progress bar, no warnings).
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Text on a terminal, JSON otherwise.
    Auto,
    /// One JSON document.
    Json,
    /// One JSON object per line, each with a `type` field.
    Ndjson,
    /// A readable summary with counts and problem files.
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour output that goes to a terminal (`to_terminal`) or not: `auto`
    /// colours a terminal unless NO_COLOR is set and not empty.
    pub(crate) fn enabled(self, to_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct AnalyzeArgs {
    /// Files or directories to analyze.
    #[arg(value_name = "PATH", default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,

    #[command(flatten)]
    pub(crate) input: InputArgs,

    #[command(flatten)]
    pub(crate) output: AnalyzeOutputArgs,

    /// Run these rules or categories (`all` for every rule) instead of the default set;
    /// repeatable.
    #[arg(long, value_name = "RULE|CATEGORY|all", value_delimiter = ',')]
    pub(crate) select: Vec<String>,

    /// Do not run these rules or categories; repeatable.
    #[arg(long, value_name = "RULE|CATEGORY", value_delimiter = ',')]
    pub(crate) ignore: Vec<String>,

    /// Exit with 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    pub(crate) fail_on: FailOn,

    /// In text output, also print the number of findings per rule.
    #[arg(long)]
    pub(crate) statistics: bool,

    /// Read the source from standard input and report it as if it were PATH.
    #[arg(long, value_name = "PATH", conflicts_with = "paths")]
    pub(crate) stdin_filename: Option<PathBuf>,

    /// Ignore Credo's and Sobelow's suppression comments.
    #[arg(long)]
    pub(crate) no_foreign_suppressions: bool,

    /// Keep the run within SIZE of memory (`512MiB`, `2G`; units KiB, MiB, GiB or K, M, G).
    /// At 80% the caches are evicted; at 95% one file is parsed at a time and the records
    /// held shrink to what the report reads. A limit the run cannot meet exits 2 naming the
    /// least that would do.
    #[arg(long, value_name = "SIZE", env = "ELIXIRSCOPE_MEMORY_LIMIT", value_parser = memory_limit)]
    pub(crate) memory_limit: Option<u64>,
}

/// `--memory-limit`'s value parser.
fn memory_limit(text: &str) -> Result<u64, String> {
    crate::subsystems::repository::memory_manager::budget::parse_size(text)
}

#[derive(Debug, Args, Clone)]
pub(crate) struct AnalyzeOutputArgs {
    /// Output format: `auto` is text on a terminal and JSON otherwise.
    #[arg(long, value_enum, default_value_t = AnalyzeFormat::Auto)]
    pub(crate) format: AnalyzeFormat,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// When to use colours in text output (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,

    /// Print nothing on standard error except fatal errors.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AnalyzeFormat {
    /// Text on a terminal, JSON otherwise.
    Auto,
    /// One JSON document.
    Json,
    /// One JSON object per line, each with a `type` field.
    Ndjson,
    /// `file:line:col: severity [rule] message`, with the source on a terminal.
    Text,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Debug, Args)]
pub(crate) struct RulesArgs {
    /// Print this rule's documentation instead of the list.
    #[arg(value_name = "RULE")]
    pub(crate) rule: Option<String>,

    /// Output format: `auto` is text on a terminal and JSON otherwise.
    #[arg(long, value_enum, default_value_t = SimpleFormat::Auto)]
    pub(crate) format: SimpleFormat,
}

#[derive(Debug, Args)]
pub(crate) struct RuntimeArgs {
    /// Start every built subsystem, run the health check, shut down, and report health, the
    /// shutdown order and any child killed after its shutdown timeout.
    #[arg(long)]
    pub(crate) check: bool,

    /// Output format: `auto` is text on a terminal and JSON otherwise.
    #[arg(long, value_enum, default_value_t = SimpleFormat::Auto)]
    pub(crate) format: SimpleFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SimpleFormat {
    /// Text on a terminal, JSON otherwise.
    Auto,
    Json,
    Text,
}

/// `watch`'s output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WatchFormat {
    /// Text on a terminal, NDJSON otherwise.
    Auto,
    /// One JSON object per event and line, flushed at once.
    Ndjson,
    /// A line per event.
    Text,
}

#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// Files or directories to watch [default: .].
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// Output: `auto` is text on a terminal and NDJSON otherwise.
    #[arg(long, value_enum, default_value_t = WatchFormat::Auto)]
    pub(crate) format: WatchFormat,

    /// The debounce window: changes within it are one update.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pub(crate) debounce_ms: u64,

    /// Poll the file system instead of using its events (some container and VM mounts deliver
    /// none; the watcher falls back by itself when it notices).
    #[arg(long)]
    pub(crate) poll: bool,

    /// The polling period.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub(crate) poll_interval: u64,

    /// Keep the facts live without running the rules.
    #[arg(long)]
    pub(crate) no_analyze: bool,

    /// Run these rules or categories (`all` for every rule) instead of the default set;
    /// repeatable.
    #[arg(
        long,
        value_name = "RULE|CATEGORY|all",
        value_delimiter = ',',
        conflicts_with = "no_analyze"
    )]
    pub(crate) select: Vec<String>,

    /// Do not run these rules or categories; repeatable.
    #[arg(
        long,
        value_name = "RULE|CATEGORY",
        value_delimiter = ',',
        conflicts_with = "no_analyze"
    )]
    pub(crate) ignore: Vec<String>,

    /// Ignore Credo's and Sobelow's suppression comments.
    #[arg(long)]
    pub(crate) no_foreign_suppressions: bool,

    /// When to use colours in the text view (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,

    /// Stop after N updates (for scripts and tests).
    #[arg(long, value_name = "N")]
    pub(crate) max_updates: Option<u64>,

    #[command(flatten)]
    pub(crate) input: InputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// The query (see docs/query.md), then the files or directories to read [default: .].
    #[arg(value_name = "QUERY")]
    pub(crate) query: Option<String>,

    /// Files or directories to read [default: .].
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// A structural pattern, as `pattern 'PATTERN'` would give it, without quoting it inside a
    /// query: `-p 'Repo.get!($S, $ID)'`. Any QUERY given is read as a path.
    #[arg(short = 'p', long, value_name = "PATTERN", conflicts_with = "fields")]
    pub(crate) pattern: Option<String>,

    /// Run one read-only SQL SELECT over the query tables (one per entity, the fields of
    /// `--fields ENTITY` as columns; see docs/query.md, "Raw SQL"). Any QUERY given is read as
    /// a path.
    #[arg(long, value_name = "STATEMENT", conflicts_with_all = ["fields", "pattern"])]
    pub(crate) sql: Option<String>,

    /// List the fields of ENTITY (modules, functions, clauses, calls, references,
    /// dependencies, findings, files; callers, callees, path, cycles) with their types and
    /// meaning, and exit. Any QUERY given is read as a path.
    #[arg(long, value_name = "ENTITY")]
    pub(crate) fields: Option<String>,

    /// Give up on the query after this many milliseconds (exit 2): a pathological regular
    /// expression never hangs the command.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub(crate) timeout_ms: u64,

    #[command(flatten)]
    pub(crate) input: InputArgs,

    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct CacheArgs {
    #[command(subcommand)]
    pub(crate) action: CacheAction,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CacheAction {
    /// Where the index is, its size, schema version, and per root its entries and the last
    /// run's hits and misses.
    Info(CacheTarget),
    /// Delete the index (the database and its journal files).
    Clear(CacheTarget),
    /// Remove what nothing can serve again (every root whose folder is gone, with all it
    /// stored; entries of files that are gone) and give the free space back (incremental
    /// vacuum when a quarter of the file is free). Safe beside a running `watch`.
    Clean(CacheTarget),
}

#[derive(Debug, Args)]
pub(crate) struct CacheTarget {
    /// A path inside the project (its root is found as for `parse`).
    #[arg(value_name = "PATH", default_value = ".")]
    pub(crate) path: PathBuf,

    /// The cache folder, when it is not `.elixirscope/` under the root.
    #[arg(long, value_name = "DIR", env = "ELIXIRSCOPE_CACHE_DIR")]
    pub(crate) cache_dir: Option<PathBuf>,

    /// Output format: `auto` is text on a terminal and JSON otherwise.
    #[arg(long, value_enum, default_value_t = SimpleFormat::Auto)]
    pub(crate) format: SimpleFormat,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    /// `man/` holds one page for the tool and one per subcommand, rendered from this file.
    /// `ELIXIRSCOPE_UPDATE=1 cargo test` rewrites them.
    #[test]
    fn man_pages_are_current() {
        let command = Cli::command();
        let mut pages = vec![("elixirscope".to_string(), command.clone())];
        for sub in command.get_subcommands() {
            let name = format!("elixirscope-{}", sub.get_name());
            pages.push((
                name.clone(),
                sub.clone().name(&*Box::leak(name.into_boxed_str())),
            ));
        }
        let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
        let update = std::env::var_os("ELIXIRSCOPE_UPDATE").is_some();
        let mut stale = Vec::new();
        for (name, page) in pages {
            let mut rendered = Vec::new();
            clap_mangen::Man::new(page)
                .render(&mut rendered)
                .expect("rendering to memory cannot fail");
            let path = directory.join(format!("{name}.1"));
            if update {
                std::fs::create_dir_all(&directory).unwrap();
                std::fs::write(&path, &rendered).unwrap();
            }
            if std::fs::read(&path).ok().as_deref() != Some(rendered.as_slice()) {
                stale.push(path.display().to_string());
            }
        }
        assert!(
            stale.is_empty(),
            "stale man pages {stale:?}: run `ELIXIRSCOPE_UPDATE=1 cargo test` and commit man/"
        );
    }
}

#[cfg(test)]
mod exit_code_tests {
    use crate::exit::*;

    #[test]
    fn exit_code_table_matches_constants() {
        let table = super::EXIT_CODES_HELP;
        let codes: Vec<u8> = table
            .lines()
            .skip(1)
            .map(|line| line.split_whitespace().next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(
            codes,
            vec![
                USAGE_OR_FATAL,
                INTERRUPTED,
                TERMINATED,
                FILE_FAILURES,
                FINDINGS,
                SUCCESS
            ]
        );
    }
}
