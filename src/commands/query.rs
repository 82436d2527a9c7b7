//! `elixirscope query`: a question of the code, answered from the repository the index keeps
//! (issue [6]). The batch is `parse`'s (same run scope, so `parse` and `query` share the index
//! and its stored project phase); the query runs as a task of the TaskSupervisor under
//! `--timeout-ms`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::HashMap;
use std::path::Path;

use crate::cli::{Format, QueryArgs};
use crate::commands::batch::{self, BatchOptions};
use crate::commands::output;
use crate::discover::Discovery;
use crate::exit;
use crate::index;
use crate::index::query_store::{Generations, QueryStore, TableWriter};
use crate::model::{CacheRuntime, PhaseTiming};
use crate::otp::cancel::Deadline;
use crate::query::ast::{closest, Query, QueryError, Source, Spanned, ENTITIES};
use crate::query::exec::{self, Answer, Data, PatternMatch};
use crate::query::tables::Tables;
use crate::query::{fields, sql, syntax};
use crate::report::query::{self as report, QueryReport, QueryRuntime, Row};
use crate::subsystems::analysis::pattern_matcher::pattern_library::Selection;
use crate::subsystems::analysis::pattern_matcher::structural;
use crate::subsystems::root::{Host, QUERY_SUBSYSTEMS};
use crate::subsystems::signals;

/// Version of the query report's shape (`schema/query.schema.json`).
const SCHEMA_VERSION: u32 = 1;

/// Graph row kinds `--fields` also describes.
const GRAPH_KINDS: &[&str] = &["callers", "callees", "path", "cycles"];

pub(crate) fn run(args: &QueryArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let mut paths = args.paths.clone();
    if let Some(entity) = &args.fields {
        // `--fields ENTITY [PATH]`: a QUERY given is a path.
        return print_fields(entity, args);
    }
    // `-p PATTERN` and `--sql STATEMENT`: a QUERY given is a path.
    if args.pattern.is_some() || args.sql.is_some() {
        if let Some(path) = &args.query {
            paths.insert(0, PathBuf::from(path));
        }
    }
    let text = match (&args.pattern, &args.sql) {
        (Some(pattern), _) => Some(format!(
            "pattern '{}'",
            pattern.replace('\\', "\\\\").replace('\'', "\\'")
        )),
        (None, Some(statement)) => Some(statement.clone()),
        (None, None) => args.query.clone(),
    };
    let Some(text) = text else {
        eprintln!(
            "elixirscope: error: a query is required, e.g. `elixirscope query 'functions where \
             complexity > 5'`; `elixirscope query --help` lists the forms"
        );
        return Ok(exit::USAGE_OR_FATAL);
    };
    let work = if args.sql.is_some() {
        Work::Sql(text.clone())
    } else {
        match syntax::parse(&text).and_then(|query| exec::check(&query).map(|()| query)) {
            Ok(query) => Work::Query(Box::new(query)),
            Err(error) => return Ok(usage(&error, &text)),
        }
    };
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let scope = batch::scope(&paths, &args.input);
    let discovery = batch::discover(&paths, &args.input)?;
    let timeout = Duration::from_millis(args.timeout_ms);
    let needs = work.needs();

    // An unchanged tree is answered from the index's query tables (or its cache of answers),
    // without decoding a record or running the project phase.
    let warm = Warm::open(args, &discovery, &scope, needs.findings);
    let answered = match warm {
        Some(warm) => warm.answer(&work, &text, &discovery, timeout, started)?,
        None => None,
    };
    let root = discovery.root.clone();
    let (answer, runtime) = match answered {
        Some(answered) => answered,
        None => {
            let cold = Cold {
                args,
                text: &text,
                scope: &scope,
                timeout,
                started,
            };
            let mut entities = needs.facts.clone();
            if needs.findings {
                entities.push("findings");
            }
            cold.run(discovery, Some(&work), &entities)?
        }
    };
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => return Ok(usage(&error, &text)),
    };
    let columns: Arc<Vec<String>> = Arc::new(answer.columns.clone());
    let count = answer.rows.len();
    let report = QueryReport {
        schema_version: SCHEMA_VERSION,
        root: root.display().to_string(),
        query: text,
        kind: answer.kind.clone(),
        columns: columns.to_vec(),
        rows: answer
            .rows
            .into_iter()
            .map(|cells| Row {
                columns: Arc::clone(&columns),
                cells,
            })
            .collect(),
        count,
        runtime,
    };
    let format = output::resolved_format(&args.output);
    output::emit_to(args.output.output.as_deref(), |out| match format {
        Format::Json | Format::Auto => report::json(&report, out),
        Format::Ndjson => report::ndjson(&report, out),
        Format::Text => report::text(&report, out),
    })?;
    batch::free_at_exit(report);
    Ok(exit::SUCCESS)
}

/// What the command answers: a query of the language, or a `--sql` statement.
#[derive(Clone)]
enum Work {
    Query(Box<Query>),
    Sql(String),
}

/// The tables a piece of work reads.
struct Needs {
    /// The `findings` table (the analysis).
    findings: bool,
    /// The other tables (the facts and the project phase).
    facts: Vec<&'static str>,
}

impl Work {
    /// The key its answer is kept under, with the query's text.
    fn cache_key(&self, text: &str) -> String {
        match self {
            Work::Query(_) => format!("query:{text}"),
            Work::Sql(_) => format!("sql:{text}"),
        }
    }

    fn needs(&self) -> Needs {
        let entities: Vec<&'static str> = self
            .plan()
            .unwrap_or_default()
            .into_iter()
            .map(|(entity, _)| entity)
            .collect();
        Needs {
            findings: entities.contains(&"findings"),
            facts: entities.into_iter().filter(|e| *e != "findings").collect(),
        }
    }

    /// The columns to load: the query's plan, or every column of the views a statement names.
    fn plan(&self) -> Option<Vec<(&'static str, Vec<&'static str>)>> {
        match self {
            Work::Query(query) => exec::plan(query).ok(),
            Work::Sql(statement) => Some(
                sql::views_named(statement)
                    .into_iter()
                    .map(|view| {
                        let fields = fields::of(view).unwrap_or(&[]);
                        (view, fields.iter().map(|f| f.name).collect())
                    })
                    .collect(),
            ),
        }
    }

    /// The answer from the tables (and a pattern's matches).
    fn answer(
        &self,
        tables: &Tables,
        matches: &[PatternMatch],
        deadline: &Deadline,
    ) -> Result<Answer, QueryError> {
        match self {
            Work::Query(query) => exec::execute(query, &Data { tables, matches }, deadline),
            Work::Sql(statement) => sql::run(tables, statement, deadline),
        }
    }

    fn pattern(&self) -> Option<&Spanned<String>> {
        match self {
            Work::Query(query) => match &query.source {
                Source::Pattern { pattern, .. } => Some(pattern),
                _ => None,
            },
            Work::Sql(_) => None,
        }
    }
}

/// The facts configuration of `query` (calls and metrics, as `parse` by default).
fn facts() -> String {
    index::facts_config(true, true)
}

/// The rule selection of the `findings` table: the default rules, as `analyze` runs them.
fn findings_selection() -> Selection {
    Selection::analyze_default()
}

/// A query on a tree the index holds unchanged: its query tables and answers.
struct Warm {
    store: QueryStore,
    scope: String,
    generations: Generations,
    jobs: usize,
}

/// What a query answered, how, and where.
type Answered = (Result<Answer, QueryError>, QueryRuntime);

impl Warm {
    fn open(args: &QueryArgs, discovery: &Discovery, scope: &str, findings: bool) -> Option<Warm> {
        let location =
            index::Location::of(&batch::cache_setting(&args.input, true), &discovery.root)?;
        let canonical =
            std::fs::canonicalize(&discovery.root).unwrap_or_else(|_| discovery.root.clone());
        let store = QueryStore::open(&location, &canonical, &facts())?;
        let generation = store.fresh_generation(discovery, args.input.max_file_size)?;
        let rules = if findings {
            Some(findings_selection().compile().ok()?.fingerprint())
        } else {
            None
        };
        Some(Warm {
            store,
            scope: scope.to_string(),
            generations: Generations::new(generation, rules.as_deref()),
            jobs: batch::jobs(&args.input),
        })
    }

    /// The answer from the cache or the tables; `None` when the index cannot give it (a table
    /// missing or stale): the query then builds the repository.
    fn answer(
        self,
        work: &Work,
        text: &str,
        discovery: &Discovery,
        timeout: Duration,
        started: Instant,
    ) -> anyhow::Result<Option<Answered>> {
        let mut phases = vec![batch::phase("discover", started)];
        let answers_generation = self.generations.answers();
        let cache_key = work.cache_key(text);
        let runtime = |phases: Vec<PhaseTiming>, answered_from: &str| QueryRuntime {
            jobs: self.jobs,
            phases,
            cache: Some(CacheRuntime {
                database: self.store.database().display().to_string(),
                unchanged: discovery.entries.len() as u64,
                ..CacheRuntime::default()
            }),
            answered_from: answered_from.to_string(),
            pattern: None,
            warnings: Vec::new(),
        };
        let cache_started = Instant::now();
        if let Some(answer) = self
            .store
            .answer(&self.scope, &answers_generation, &cache_key)
            .and_then(|blob| Answer::decode(&blob))
        {
            phases.push(batch::phase("query_cache", cache_started));
            let runtime = runtime(phases, ANSWERS);
            return Ok(Some((Ok(answer), runtime)));
        }
        let Some(plan) = work.plan() else {
            return Ok(None);
        };
        let wanted: Vec<(&str, &str, Vec<&str>)> = plan
            .iter()
            .map(|(entity, fields)| (*entity, self.generations.of_entity(entity), fields.clone()))
            .collect();
        let Some(tables) = self.store.tables(&self.scope, &wanted) else {
            return Ok(None);
        };
        phases.push(batch::phase("load_tables", cache_started));
        // A pattern reads the records of the files its call can be in (from the calls table),
        // and matches them again from source on the query pool.
        let candidates = match work.pattern() {
            Some(pattern) => {
                let Ok(compiled) = exec::compile_pattern(pattern) else {
                    return Ok(None);
                };
                let paths: Vec<&str> = match structural::candidates(&compiled, &tables) {
                    Some(paths) => paths
                        .into_iter()
                        .filter_map(|p| {
                            discovery
                                .entries
                                .binary_search_by(|e| e.path.as_str().cmp(p.as_str()))
                                .ok()
                                .map(|i| discovery.entries[i].path.as_str())
                        })
                        .collect(),
                    None => discovery
                        .entries
                        .iter()
                        .filter(|e| self.store.entry_status(&e.path).is_some())
                        .map(|e| e.path.as_str())
                        .collect(),
                };
                let Some(records) = self.store.records(&paths) else {
                    return Ok(None);
                };
                let sites = self.store.call_sites(&paths);
                Some((compiled, records, sites))
            }
            None => None,
        };
        let query_started = Instant::now();
        let host = Host::start(QUERY_SUBSYSTEMS, self.jobs, None, None)?;
        let shared = Arc::clone(host.shared());
        let root = discovery.root.clone();
        let tables = Arc::new(tables);
        let task_tables = Arc::clone(&tables);
        let task_work = work.clone();
        let answer = host.run_query(move || {
            let deadline = Deadline::after(timeout, signals::run_token());
            let found = match (candidates, shared.bulkheads.interactive()) {
                (Some((compiled, records, sites)), Ok(pool)) => Some(structural::search(
                    &compiled, &root, &records, &sites, pool, &deadline,
                )),
                _ => None,
            };
            let matches = found.as_ref().map_or(&[][..], |f| f.matches.as_slice());
            let answer = task_work.answer(&task_tables, matches, &deadline);
            (answer, found.map(|f| (f.counts, f.new_sites)))
        });
        host.shutdown();
        phases.push(batch::phase("query", query_started));
        let (answer, searched) = answer?;
        let pattern = searched.map(|(counts, new_sites)| {
            self.store.store_call_sites(&new_sites);
            counts
        });
        if let Some(blob) = answer.as_ref().ok().and_then(Answer::encode) {
            self.store
                .store_answer(&self.scope, &answers_generation, &cache_key, &blob);
        }
        let mut runtime = runtime(phases, TABLES);
        runtime.pattern = pattern;
        batch::free_at_exit(tables);
        Ok(Some((answer, runtime)))
    }
}

/// `runtime.answered_from`: the query cache, the query tables, or the records.
const ANSWERS: &str = "query_cache";
const TABLES: &str = "query_tables";
const RECORDS: &str = "records";

/// A query that builds the repository (a cold index, or a tree that changed).
struct Cold<'a> {
    args: &'a QueryArgs,
    text: &'a str,
    scope: &'a str,
    timeout: Duration,
    started: Instant,
}

impl Cold<'_> {
    /// The batch as `parse` runs it (as `analyze` does for `findings` alone; both, over whole
    /// records, for `--sql` reading findings and facts), the tables of `entities` built from
    /// it and stored for the next query, and `work` answered from them. A run that only
    /// reloaded records (every file unchanged, the tables missing) builds every table, so the
    /// queries that follow are answered from the index.
    fn run(
        &self,
        discovery: Discovery,
        work: Option<&Work>,
        entities: &[&'static str],
    ) -> anyhow::Result<(Result<Answer, QueryError>, QueryRuntime)> {
        let findings = entities.contains(&"findings");
        let reads_facts = entities.iter().any(|entity| *entity != "findings");
        let batch = batch::run(
            discovery,
            &self.args.input,
            BatchOptions {
                calls: true,
                metrics: true,
                quiet: self.args.output.quiet,
                analysis: findings.then(findings_selection),
                cache: true,
                project_phase: reads_facts,
                scope: Some(self.scope.to_string()),
                querying: true,
                // The phase needs the records, the findings table their findings.
                whole_records: findings && reads_facts,
                memory_limit: None,
            },
            self.started,
        )?;
        let query_started = Instant::now();
        let repository = Arc::clone(&batch.repository);
        let shared = Arc::clone(batch.host.shared());
        let root = batch.root.clone();
        let rules = shared
            .patterns
            .as_ref()
            .and_then(|patterns| patterns.analysis())
            .map(|analysis| analysis.fingerprint());
        let reloaded = batch.cache.as_ref().is_some_and(|c| c.parsed == 0);
        let entities: Vec<&'static str> = if !findings && reloaded {
            exec::STORED.to_vec()
        } else {
            entities.to_vec()
        };
        let task_work = work.cloned();
        let timeout = self.timeout;
        // A pattern reads the stored call sites of its candidate files.
        let canonical = std::fs::canonicalize(&batch.root).unwrap_or_else(|_| batch.root.clone());
        let writer = batch
            .cache
            .as_ref()
            .and_then(|cache| TableWriter::open(Path::new(&cache.database), &canonical, &facts()));
        let sites = match (work.and_then(Work::pattern), &writer) {
            (Some(pattern), Some(writer)) => match exec::compile_pattern(pattern) {
                Ok(compiled) => {
                    writer.call_sites(&structural::candidate_files(&compiled, repository.files()))
                }
                Err(_) => HashMap::new(),
            },
            _ => HashMap::new(),
        };
        let answer = batch.host.run_query(move || {
            let deadline = Deadline::after(timeout, signals::run_token());
            let found = exec::findings_of(&repository);
            let tables = exec::build(&repository, &found, &entities);
            let Some(work) = task_work else {
                return Ok((Ok(Answer::default()), tables, None));
            };
            // A structural pattern: the PatternMatcher searches the parsed files on the
            // batch pool.
            let found = match work.pattern() {
                Some(pattern) => Some(structural::search(
                    &*exec::compile_pattern(pattern)?,
                    &root,
                    repository.files(),
                    &sites,
                    shared.bulkheads.batch(),
                    &deadline,
                )),
                None => None,
            };
            let matches = found.as_ref().map_or(&[][..], |f| f.matches.as_slice());
            let answer = work.answer(&tables, matches, &deadline);
            let searched = found.map(|f| (f.counts, f.new_sites));
            Ok::<_, QueryError>((answer, tables, searched))
        });
        let mut phases = batch.phases.clone();
        phases.push(batch::phase("query", query_started));
        let (answer, tables, pattern) = match answer {
            Ok(Ok((answer, tables, searched))) => {
                let store_started = Instant::now();
                let key = work.map(|work| work.cache_key(self.text));
                if let Some(writer) = &writer {
                    store_tables(
                        writer,
                        &batch,
                        self.scope,
                        key.as_deref(),
                        rules.as_deref(),
                        &tables,
                        &answer,
                    );
                }
                let pattern = searched.map(|(counts, new_sites)| {
                    if let Some(writer) = &writer {
                        writer.store_call_sites(&new_sites);
                    }
                    counts
                });
                phases.push(batch::phase("store_tables", store_started));
                (answer, tables, pattern)
            }
            Ok(Err(error)) => (Err(error), Tables::default(), None),
            Err(err) => return Err(err.into()),
        };
        let shutdown_started = Instant::now();
        let jobs = batch.jobs;
        let warnings = batch.warnings.clone();
        let cache = batch.cache.clone();
        batch.host.shutdown();
        phases.push(batch::phase("runtime_shutdown", shutdown_started));
        batch::free_at_exit(tables);
        Ok((
            answer,
            QueryRuntime {
                jobs,
                phases,
                cache,
                answered_from: RECORDS.to_string(),
                pattern,
                warnings,
            },
        ))
    }
}

/// Stores the tables a run built (and its answer) for the next query on the same scope, when
/// the run used the index and its project phase was whole.
fn store_tables(
    writer: &TableWriter,
    batch: &batch::Batch,
    scope: &str,
    key: Option<&str>,
    rules: Option<&str>,
    tables: &Tables,
    answer: &Result<Answer, QueryError>,
) {
    if batch.repository.unresolved_files() > 0 {
        return;
    }
    let generations = Generations::of(batch.repository.files(), rules);
    if writer.store(scope, &generations, tables.iter()).is_err() {
        return;
    }
    if let (Some(key), Some(blob)) = (key, answer.as_ref().ok().and_then(Answer::encode)) {
        writer.store_answer(scope, &generations.answers(), key, &blob);
    }
}

/// An invalid query: where, what, a hint; exit 2.
fn usage(error: &QueryError, text: &str) -> u8 {
    eprintln!("elixirscope: error: {}", error.render(text));
    exit::USAGE_OR_FATAL
}

/// `--fields ENTITY`: the fields with their types and meaning.
fn print_fields(entity: &str, args: &QueryArgs) -> anyhow::Result<u8> {
    let Some(list) = fields::of(entity) else {
        let known: Vec<&str> = ENTITIES.iter().chain(GRAPH_KINDS).copied().collect();
        let mut message = format!("unknown entity '{entity}'");
        if let Some(close) = closest(entity, known.iter().copied()) {
            message.push_str(&format!("; did you mean '{close}'?"));
        }
        eprintln!(
            "elixirscope: error: {message} (entities: {})",
            known.join(", ")
        );
        return Ok(exit::USAGE_OR_FATAL);
    };
    let json = match args.output.format {
        Format::Json | Format::Ndjson => true,
        Format::Text => false,
        Format::Auto => args.output.output.is_some() || !std::io::stdout().is_terminal(),
    };
    output::emit_to(args.output.output.as_deref(), |out| {
        if json {
            serde_json::to_writer_pretty(&mut *out, list)?;
            return writeln!(out);
        }
        let width = list.iter().map(|f| f.name.len()).max().unwrap_or(0);
        for field in list {
            let ty = match field.ty {
                fields::FieldType::Bool => "bool",
                fields::FieldType::Int => "int",
                fields::FieldType::Str => "string",
                fields::FieldType::List => "list",
            };
            writeln!(out, "{:width$}  {ty:6}  {}", field.name, field.meaning)?;
        }
        Ok(())
    })?;
    Ok(exit::SUCCESS)
}
