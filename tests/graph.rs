//! The `graph` section (issue [3a]): module dependencies with `mix xref`'s labels on
//! `fixtures/graph`, a project with known compile, export and runtime edges and a
//! compile-connected cycle; the labels checked against Elixir's compiler tracer; fan-in,
//! fan-out and cycles; output identical whatever `--jobs` is.

mod common;
#[path = "common/tracer.rs"]
mod tracer;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use common::{bin, parse_json, run_with};

fn graph_fixture() -> PathBuf {
    common::fixtures().join("graph")
}

fn report() -> common::Report {
    let run = parse_json(&[&graph_fixture()], &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    run.report()
}

/// (from, to, label, reason, path, line), hand-checked against the fixture's source.
const EXPECTED_EDGES: &[(&str, &str, &str, &str, &str, u32)] = &[
    // `defimpl` requires its protocol: export.
    (
        "Graph.Describe.Graph.User",
        "Graph.Describe",
        "export",
        "impl",
        "lib/graph/user.ex",
        16,
    ),
    // A module named as a value inside a function: runtime.
    (
        "Graph.Notifier",
        "Graph.Notifier.Log",
        "runtime",
        "alias",
        "lib/graph/notifier.ex",
        5,
    ),
    // `@behaviour` requires the behaviour: export.
    (
        "Graph.Notifier.Log",
        "Graph.Notifier",
        "export",
        "behaviour",
        "lib/graph/notifier.ex",
        9,
    ),
    (
        "Graph.Ping",
        "Graph.Pong",
        "runtime",
        "call",
        "lib/graph/ping.ex",
        3,
    ),
    (
        "Graph.Pong",
        "Graph.Ping",
        "runtime",
        "call",
        "lib/graph/ping.ex",
        7,
    ),
    // `%Graph.User{}` in a function (export) beats the runtime call on line 4.
    (
        "Graph.Repo",
        "Graph.User",
        "export",
        "struct",
        "lib/graph/repo.ex",
        3,
    ),
    (
        "Graph.Report",
        "Graph.Config",
        "export",
        "require",
        "lib/graph/settings.ex",
        25,
    ),
    // `import` (export) beats the runtime call of the imported function.
    (
        "Graph.Report",
        "Graph.Ping",
        "export",
        "import",
        "lib/graph/settings.ex",
        26,
    ),
    // An imported macro used in the module body.
    (
        "Graph.Router",
        "Graph.Router.DSL",
        "compile",
        "macro",
        "lib/graph/router.ex",
        23,
    ),
    // A route's controller: the macro expands it at run time, as Phoenix's router does.
    (
        "Graph.Router",
        "Graph.UserController",
        "runtime",
        "alias",
        "lib/graph/router.ex",
        23,
    ),
    (
        "Graph.Schema",
        "Graph.Repo",
        "runtime",
        "call",
        "lib/graph/schema.ex",
        10,
    ),
    // A call in a module attribute runs at compile time.
    (
        "Graph.Settings",
        "Graph.Config",
        "compile",
        "call",
        "lib/graph/settings.ex",
        6,
    ),
    (
        "Graph.User",
        "Graph.Schema",
        "compile",
        "use",
        "lib/graph/user.ex",
        2,
    ),
    // `use Graph.Schema` imports Graph.Schema.Fields (export), whose function the module body
    // then calls (compile).
    (
        "Graph.User",
        "Graph.Schema.Fields",
        "compile",
        "call",
        "lib/graph/user.ex",
        5,
    ),
    (
        "Graph.UserController",
        "Graph.Repo",
        "runtime",
        "call",
        "lib/graph/router.ex",
        16,
    ),
    // ExUnit's `test` body becomes a function: runtime.
    (
        "Graph.UserTest",
        "Graph.User",
        "runtime",
        "call",
        "test/graph_test.exs",
        5,
    ),
    // A macro call, even inside a function: compile.
    (
        "Graph.Worker",
        "Graph.Macros",
        "compile",
        "macro",
        "lib/graph/settings.ex",
        21,
    ),
];

fn relative(path: &str) -> &str {
    path.split("fixtures/graph/").nth(1).unwrap_or(path)
}

#[test]
fn edges_have_the_expected_labels_reasons_and_places() {
    let report = report();
    let graph = report.graph.expect("a graph section");
    let actual: Vec<(&str, &str, &str, &str, &str, u32)> = graph
        .edges
        .iter()
        .map(|e| {
            (
                e.from.as_str(),
                e.to.as_str(),
                e.label.as_str(),
                e.reason.as_str(),
                relative(&e.path),
                e.line,
            )
        })
        .collect();
    assert_eq!(actual, EXPECTED_EDGES);
    let user = graph
        .edges
        .iter()
        .find(|e| e.from == "Graph.User" && e.to == "Graph.Schema")
        .unwrap();
    assert_eq!(user.via, None);
}

#[test]
fn cycles_are_found_and_compile_connected_ones_flagged() {
    let graph = report().graph.unwrap();
    type Described<'a> = (Vec<&'a str>, bool, Vec<(&'a str, &'a str)>);
    let cycles: Vec<Described<'_>> = graph
        .cycles
        .iter()
        .map(|c| {
            (
                c.modules.iter().map(String::as_str).collect(),
                c.compile_connected,
                c.compile_edges
                    .iter()
                    .map(|e| (e.from.as_str(), e.to.as_str()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        cycles,
        vec![
            // User uses Schema (compile), Schema calls Repo, Repo builds User structs: any
            // change to one recompiles User.
            (
                vec!["Graph.Repo", "Graph.Schema", "Graph.User"],
                true,
                vec![("Graph.User", "Graph.Schema")]
            ),
            (vec!["Graph.Notifier", "Graph.Notifier.Log"], false, vec![]),
            (vec!["Graph.Ping", "Graph.Pong"], false, vec![]),
        ]
    );
}

#[test]
fn fan_in_and_fan_out_count_distinct_modules() {
    let graph = report().graph.unwrap();
    let fans: BTreeMap<&str, (u32, u32)> = graph
        .modules
        .iter()
        .map(|m| (m.name.as_str(), (m.fan_in, m.fan_out)))
        .collect();
    assert_eq!(fans["Graph.User"], (2, 2));
    assert_eq!(fans["Graph.Repo"], (2, 1));
    assert_eq!(fans["Graph.Config"], (2, 0));
    assert_eq!(fans["Graph.Report"], (0, 2));
    assert_eq!(fans["Graph.MixProject"], (0, 0));
    // Every module of the project is a node, even without edges.
    assert_eq!(graph.modules.len(), 20);
    let total_in: u32 = graph.modules.iter().map(|m| m.fan_in).sum();
    let total_out: u32 = graph.modules.iter().map(|m| m.fan_out).sum();
    assert_eq!(total_in as usize, graph.edges.len());
    assert_eq!(total_out as usize, graph.edges.len());
}

/// The strongest label between each pair of project modules, as `mix xref` computes it from
/// the compiler tracer's events.
fn xref_labels(
    events: &[tracer::Traced],
    modules: &BTreeSet<&str>,
) -> BTreeSet<(String, String, String)> {
    let rank = |label: &str| match label {
        "compile" => 2,
        "export" => 1,
        _ => 0,
    };
    let mut strongest: BTreeMap<(String, String), String> = BTreeMap::new();
    for event in events {
        let (Some(caller), Some(module)) = (&event.caller, &event.module) else {
            continue;
        };
        if caller == module
            || !modules.contains(caller.as_str())
            || !modules.contains(module.as_str())
        {
            continue;
        }
        let entry = strongest
            .entry((caller.clone(), module.clone()))
            .or_insert_with(|| event.label.clone());
        if rank(&event.label) > rank(entry) {
            *entry = event.label.clone();
        }
    }
    strongest
        .into_iter()
        .map(|((from, to), label)| (from, to, label))
        .collect()
}

#[test]
fn labels_agree_with_elixirs_compiler() {
    let Some(elixir) = tracer::elixir() else {
        return;
    };
    let events = tracer::trace(elixir, &graph_fixture());
    let report = report();
    let graph = report.graph.as_ref().unwrap();
    let modules: BTreeSet<&str> = graph.modules.iter().map(|m| m.name.as_str()).collect();
    let ours: BTreeSet<(String, String, String)> = graph
        .edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone(), e.label.clone()))
        .collect();
    let theirs = xref_labels(&events, &modules);
    assert_eq!(
        ours,
        theirs,
        "\nonly elixirscope: {:?}\nonly Elixir: {:?}",
        ours.difference(&theirs).collect::<Vec<_>>(),
        theirs.difference(&ours).collect::<Vec<_>>()
    );
    // And each call and reference behind the edges is where the compiler sees it.
    let (differences, compared) = tracer::differences(&report, &events, "fixtures/graph/");
    assert!(
        differences.is_empty(),
        "{} differences with Elixir's compiler:\n{}",
        differences.len(),
        differences.join("\n")
    );
    assert!(compared > 20, "only {compared} compared");
}

/// The report without what varies between runs.
fn stable_json(paths: &[PathBuf], jobs: &str) -> serde_json::Value {
    let run = run_with(
        bin()
            .args(["parse", "--format", "json", "--jobs", jobs])
            .args(paths),
    );
    let mut value: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    value["runtime"] = serde_json::Value::Null;
    value["summary"]["elapsed_ms"] = 0.into();
    value
}

#[test]
fn calls_and_graph_are_identical_whatever_jobs_is() {
    let paths = vec![
        common::fixtures().join("sample_app"),
        graph_fixture(),
        common::fixtures().join("calls"),
    ];
    let one = stable_json(&paths, "1");
    let four = stable_json(&paths, "4");
    assert!(one["graph"]["edges"]
        .as_array()
        .is_some_and(|e| e.len() > 20));
    assert_eq!(one, four);
}

#[test]
fn phoenix_sample_app_gets_edges_through_use_templates() {
    let run = parse_json(&[&common::fixtures().join("sample_app")], &[]);
    let report = run.report();
    let graph = report.graph.unwrap();
    let edge = |from: &str, to: &str| {
        graph
            .edges
            .iter()
            .find(|e| e.from == from && e.to == to)
            .map(|e| (e.label.as_str(), e.reason.as_str(), e.via.as_deref()))
    };
    // `use SampleAppWeb, :controller`: a compile-time dependency on the web module...
    assert_eq!(
        edge("SampleAppWeb.UserController", "SampleAppWeb"),
        Some(("compile", "use", None))
    );
    // ... and, through its `html_helpers/0` quote, an import of the core components.
    assert_eq!(
        edge("SampleAppWeb.UserLive", "SampleAppWeb.CoreComponents"),
        Some(("export", "import", Some("SampleAppWeb")))
    );
    assert!(edge("SampleAppWeb.UserController", "SampleApp.Accounts").is_some());
}
