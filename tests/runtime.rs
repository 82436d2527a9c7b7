//! The supervised runtime seen from outside: injected service crashes are restarted and cost
//! nothing, the tree is printed and checked, and no injected fault ever aborts the process.

mod common;

use common::{bin, run_with};

fn sample() -> std::path::PathBuf {
    common::fixtures().join("sample_app")
}

fn with_faults(faults: &str, extra: &[&str]) -> common::Run {
    run_with(
        bin()
            .env("ELIXIRSCOPE_FAULTS", faults)
            .args(["parse", "--format", "json"])
            .args(extra)
            .arg(sample()),
    )
}

fn child<'a>(runtime: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    runtime["supervision"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in {runtime:#}"))
}

#[test]
fn a_crashed_service_is_restarted_and_the_facts_are_identical() {
    let clean = common::parse_json(&[&sample()], &[]).report();
    for (service, path) in [
        ("batch_processor", "root/parsing/batch_processor"),
        ("core", "root/repository/core"),
        ("parser", "root/parsing/parser"),
    ] {
        for jobs in ["1", "4"] {
            let run = with_faults(&format!("service:{service}:crash"), &["--jobs", jobs]);
            assert_eq!(run.code(), 0, "{service}: {}", run.stderr());
            let report = run.report();
            assert_eq!(report.files, clean.files, "{service} with --jobs {jobs}");
            let entry = child(&report.runtime, path);
            assert_eq!(entry["restarts"], 1, "{service}");
            let failures = entry["failures"].as_array().unwrap();
            assert_eq!(failures.len(), 1);
            assert!(failures[0]
                .as_str()
                .unwrap()
                .contains(&format!("injected fault: service:{service}:crash")));
        }
    }
    // Without faults nothing restarts.
    for entry in clean.runtime["supervision"].as_array().unwrap() {
        assert_eq!(entry["restarts"], 0, "{entry}");
    }
}

#[test]
fn the_queue_never_reports_more_waiting_files_than_it_holds() {
    // Enough files for full-size messages (64 files), each with enough code for the workers
    // to fall behind the feeder: every slot of the queue fills and the feeder waits.
    let dir = common::scratch();
    let body: String = (0..12)
        .map(|f| format!("  def f{f}(x) when is_integer(x), do: Enum.map([x, {f}], &(&1 + 1))\n"))
        .collect();
    for i in 0..1_500 {
        common::write(
            dir.path(),
            &format!("lib/m{i}.ex"),
            format!("defmodule M{i} do\n{body}end\n"),
        );
    }
    let run = common::parse_json(&[dir.path()], &["--jobs", "2", "--no-calls"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let report = run.report();
    assert_eq!(report.files.len(), 1_500);
    let batch = &report.runtime["pools"][0];
    let capacity = batch["queue_capacity"].as_u64().unwrap();
    let high_water = batch["queue_high_water"].as_u64().unwrap();
    assert!(high_water > 0, "{batch}");
    assert!(high_water <= capacity, "{batch}");
}

#[test]
fn the_report_shows_pools_breakers_and_phases() {
    let report = common::parse_json(&[&sample()], &["--jobs", "3"]).report();
    let runtime = &report.runtime;
    let batch = &runtime["pools"][0];
    assert_eq!(batch["name"], "batch");
    assert_eq!(batch["threads"], 3);
    assert!(
        batch["queue_high_water"].as_u64().unwrap() <= batch["queue_capacity"].as_u64().unwrap()
    );
    assert!(runtime["breakers"].as_array().unwrap().is_empty());
    let phases: Vec<&str> = runtime["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        phases,
        vec![
            "discover",
            "runtime_start",
            "parse",
            "project",
            "runtime_shutdown",
            "report"
        ]
    );
    let paths: Vec<&str> = runtime["supervision"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        vec![
            "root/parsing",
            "root/parsing/batch_processor",
            "root/parsing/parser",
            "root/repository",
            "root/repository/core",
            "root/repository/enhanced",
            "root/repository/memory_manager",
            "root/repository/memory_manager/cache_manager",
            "root/repository/memory_manager/cleaner",
            "root/repository/memory_manager/monitor",
            "root/repository/memory_manager/pressure_handler",
            "root/task_supervisor",
        ]
    );
}

#[test]
fn no_injected_fault_aborts_the_process() {
    let dir = common::scratch();
    for i in 0..6 {
        common::write(dir.path(), &format!("lib/m{i}.ex"), "defmodule M do\nend\n");
    }
    let faults = [
        "parse:panic:.ex",
        "parse:hang:m1.ex",
        "parse:vanish:m2.ex",
        "service:batch_processor:crash",
        "service:core:crash",
        "service:parser:crash",
        "parse:panic:m0.ex,parse:hang:m1.ex,service:core:crash,service:batch_processor:crash",
    ];
    for fault in faults {
        let run = run_with(
            bin()
                .env("ELIXIRSCOPE_FAULTS", fault)
                .args(["parse", "--format", "json", "--parse-timeout-ms", "100"])
                .arg(dir.path()),
        );
        let code = run.code();
        assert!(
            matches!(code, 0 | 3),
            "{fault}: exit {code}: {}",
            run.stderr()
        );
        run.report();
    }
    // Every profile unwinds, so a panic becomes a status and never an abort (exit 134).
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    assert!(!manifest.contains("panic = \"abort\""));
    for profile in ["[profile.dev]", "[profile.release]"] {
        let section = manifest.split(profile).nth(1).expect(profile);
        let section = section.split("\n[").next().unwrap();
        assert!(section.contains("panic = \"unwind\""), "{profile}");
    }
}

#[test]
fn runtime_prints_the_design_tree() {
    let run = common::run(&["runtime", "--format", "text"]);
    assert_eq!(run.code(), 0);
    let text = run.stdout();
    for id in [
        "repository",
        "core",
        "enhanced",
        "memory_manager",
        "cleaner",
        "parsing",
        "parser",
        "instrumentation_mapper",
        "batch_processor",
        "analysis",
        "pattern_matcher",
        "performance_optimizer",
        "querying",
        "synchronization",
        "file_watcher",
        "synchronizer",
        "incremental_updater",
        "task_supervisor",
    ] {
        assert!(text.contains(&format!(" {id}  [")), "{id} missing:\n{text}");
    }
    assert!(text.contains("synchronization  [supervisor rest_for_one, max 5 restarts in 10 s"));
    assert!(text.contains("root  [supervisor one_for_one, max 3 restarts in 10 s"));
    let json: serde_json::Value =
        serde_json::from_str(&common::run(&["runtime", "--format", "json"]).stdout()).unwrap();
    assert_eq!(json["children"].as_array().unwrap().len(), 6);
    assert_eq!(json["children"][1]["children"][2]["restart"], "transient");
}

#[test]
fn runtime_check_starts_checks_and_stops_in_reverse_order() {
    let run = common::run(&["runtime", "--check", "--format", "json"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(report["healthy"], true);
    assert_eq!(report["health"]["status"], "healthy");
    assert_eq!(report["probes"]["interactive_pool"], true);
    assert_eq!(report["probes"]["task_supervisor"], true);
    assert_eq!(report["probes"]["query_executor"], true);
    assert!(report["killed"].as_array().unwrap().is_empty());
    let order: Vec<&str> = report["shutdown_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        vec![
            "root/task_supervisor",
            "root/querying/executor",
            "root/querying",
            "root/analysis/pattern_matcher/pattern_library",
            "root/analysis/pattern_matcher",
            "root/analysis",
            "root/parsing/batch_processor",
            "root/parsing/parser",
            "root/parsing",
            // The Cleaner is transient and ended with nothing to clean: not running.
            "root/repository/memory_manager/pressure_handler",
            "root/repository/memory_manager/cache_manager",
            "root/repository/memory_manager/monitor",
            "root/repository/memory_manager",
            "root/repository/enhanced",
            "root/repository/core",
            "root/repository",
        ]
    );
    let text = common::run(&["runtime", "--check", "--format", "text"]).stdout();
    assert!(text.contains("healthy"));
}

/// `analyze` runs through the Analysis subsystem: its PatternLibrary is a supervised child
/// (`parse` does not start it), and a crash of that child is restarted — the restart compiles
/// the rules again — with the findings unchanged.
#[test]
fn analyze_runs_through_the_analysis_subsystem() {
    let analyze = |faults: Option<&str>| {
        let mut command = bin();
        if let Some(faults) = faults {
            command.env("ELIXIRSCOPE_FAULTS", faults);
        }
        let run = run_with(
            command
                .args([
                    "analyze",
                    "--format",
                    "json",
                    "--select",
                    "all",
                    "--fail-on",
                    "never",
                ])
                .arg(sample()),
        );
        assert_eq!(run.code(), 0, "{}", run.stderr());
        serde_json::from_str::<serde_json::Value>(&run.stdout()).unwrap()
    };
    let clean = analyze(None);
    let path = "root/analysis/pattern_matcher/pattern_library";
    assert_eq!(child(&clean["runtime"], path)["restarts"], 0);
    assert!(!clean["findings"].as_array().unwrap().is_empty());
    let crashed = analyze(Some("service:pattern_library:crash"));
    assert_eq!(crashed["findings"], clean["findings"]);
    assert_eq!(child(&crashed["runtime"], path)["restarts"], 1);
    let parse = with_faults("", &[]).report();
    assert!(parse.runtime["supervision"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| !c["path"].as_str().unwrap().starts_with("root/analysis")));
}
