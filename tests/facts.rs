//! The facts of [1b] on the sample application: kinds, roles, projects, directives, functions,
//! and the stability of IDs under edits.

mod common;

use std::collections::BTreeMap;

use common::{parse_json, scratch, write};

fn sample() -> common::Report {
    let run = parse_json(&[&common::fixtures().join("sample_app")], &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    run.report()
}

fn module<'r>(report: &'r common::Report, name: &str) -> &'r common::report::Module {
    report
        .files
        .iter()
        .flat_map(|f| &f.modules)
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no module {name}"))
}

#[test]
fn module_kinds_of_the_sample_app() {
    let report = sample();
    let expected: &[(&str, &[&str])] = &[
        ("SampleApp.Application", &["application"]),
        ("SampleApp.Cache", &["genserver"]),
        ("SampleApp.Cache.State", &["struct"]),
        ("SampleApp.Workers.JobRunner", &["genserver"]),
        ("SampleApp.Workers.Supervisor", &["dynamic_supervisor"]),
        ("SampleApp.Repo", &["ecto_repo"]),
        ("SampleApp.Accounts.User", &["ecto_schema"]),
        ("SampleApp.Accounts.Address", &["ecto_embedded_schema"]),
        ("SampleApp.Renderable", &["protocol"]),
        ("SampleApp.Renderable.Date", &["impl"]),
        ("SampleApp.Renderable.DateTime", &["impl"]),
        ("SampleApp.Renderable.SampleApp.Accounts.User", &["impl"]),
        ("SampleApp.Notifier", &["behaviour"]),
        ("SampleApp.NotFoundError", &["exception", "struct"]),
        ("Mix.Tasks.SampleApp.Seed", &["mix_task"]),
        ("SampleApp.Repo.Migrations.CreateUsers", &["ecto_migration"]),
        // Phoenix's generated idiom: `use SampleAppWeb, :controller` dispatches on the atom.
        ("SampleAppWeb.Router", &["phoenix_router"]),
        ("SampleAppWeb.UserController", &["phoenix_controller"]),
        ("SampleAppWeb.UserLive", &["phoenix_live_view"]),
        ("SampleAppWeb.UserHTML", &["phoenix_component"]),
        ("SampleAppWeb.RoomChannel", &["phoenix_channel"]),
        ("SampleAppWeb.Endpoint", &["phoenix_endpoint"]),
        ("SampleAppWeb.UserSocket", &["phoenix_socket"]),
        ("SampleAppWeb.CoreComponents", &["phoenix_component"]),
        // Test modules using the project's ExUnit.CaseTemplate modules.
        ("SampleApp.DataCase", &["exunit_case_template"]),
        ("SampleApp.AccountsTest", &["exunit_case"]),
        ("SampleAppWeb.UserControllerTest", &["exunit_case"]),
        ("SampleApp.Accounts", &["plain"]),
    ];
    for (name, kinds) in expected {
        assert_eq!(module(&report, name).kinds, kinds.to_vec(), "{name}");
    }
}

#[test]
fn roles_and_projects() {
    let report = sample();
    let roles: BTreeMap<&str, &str> = [
        ("mix.exs", "mix_project"),
        (".formatter.exs", "config"),
        ("config/config.exs", "config"),
        ("config/runtime.exs", "runtime_config"),
        ("lib/sample_app/cache.ex", "lib"),
        ("test/support/data_case.ex", "test_support"),
        ("test/sample_app/accounts_test.exs", "test"),
        ("test/test_helper.exs", "test"),
        (
            "priv/repo/migrations/20240101000000_create_users.exs",
            "migration",
        ),
        ("priv/repo/seeds.exs", "seeds"),
    ]
    .into_iter()
    .collect();
    for (path, role) in roles {
        assert_eq!(report.file(path).role, role, "{path}");
    }
    assert_eq!(report.summary.projects.len(), 1);
    assert_eq!(
        report.summary.projects[0].app.as_deref(),
        Some("sample_app")
    );
    let project = &report.summary.projects[0].path;
    assert!(report
        .files
        .iter()
        .all(|f| f.project.as_ref() == Some(project)));
}

#[test]
fn umbrella_projects_and_nearest_mix_file() {
    let dir = scratch();
    let root = dir.path();
    write(root, "mix.exs", "defmodule Umbrella.MixProject do\n  use Mix.Project\n  def project, do: [apps_path: \"apps\", version: \"0.1.0\"]\nend\n");
    write(root, "config/config.exs", "import Config\n");
    write(
        root,
        "apps/core/mix.exs",
        "defmodule Core.MixProject do\n  use Mix.Project\n  def project, do: [app: :core]\nend\n",
    );
    write(root, "apps/core/lib/core.ex", "defmodule Core do\nend\n");
    write(
        root,
        "apps/web/mix.exs",
        "defmodule Web.MixProject do\n  use Mix.Project\n  def project, do: [app: :web]\nend\n",
    );
    write(
        root,
        "apps/web/test/web_test.exs",
        "defmodule WebTest do\n  use ExUnit.Case\nend\n",
    );
    let report = parse_json(&[root], &[]).report();
    let projects: Vec<(&str, Option<&str>, Option<&str>)> = report
        .summary
        .projects
        .iter()
        .map(|p| (p.path.as_str(), p.app.as_deref(), p.apps_path.as_deref()))
        .collect();
    assert_eq!(
        projects,
        vec![
            ("apps/core", Some("core"), None),
            ("apps/web", Some("web"), None),
            (".", None, Some("apps")),
        ]
    );
    assert_eq!(
        report.file("apps/core/lib/core.ex").project.as_deref(),
        Some("apps/core")
    );
    assert_eq!(
        report.file("apps/web/test/web_test.exs").project.as_deref(),
        Some("apps/web")
    );
    assert_eq!(report.file("apps/web/test/web_test.exs").role, "test");
    assert_eq!(
        report.file("config/config.exs").project.as_deref(),
        Some(".")
    );
}

#[test]
fn directives_are_resolved_to_full_names() {
    let dir = scratch();
    let root = dir.path();
    write(
        root,
        "lib/a.ex",
        r#"defmodule App.Web.Page do
  alias App.{Accounts, Repo}
  alias App.Accounts.User, as: Member
  alias __MODULE__.Helpers
  alias :ets, as: ETS
  import Ecto.Query, only: [from: 2, where: 3]
  import Member, except: [secret: 1]
  require Logger
  use App.Web, :controller
  use GenServer, restart: :temporary
  @behaviour Accounts.Policy
  @derive [Jason.Encoder, {Inspect, only: [:id]}]
  @moduledoc false
  @custom 1
end
"#,
    );
    let report = parse_json(&[root], &[]).report();
    let page = module(&report, "App.Web.Page");
    let directives: Vec<(&str, &str, Option<&str>)> = page
        .directives
        .iter()
        .map(|d| (d.kind.as_str(), d.target.as_str(), d.alias_as.as_deref()))
        .collect();
    assert_eq!(
        directives,
        vec![
            ("alias", "App.Accounts", Some("Accounts")),
            ("alias", "App.Repo", Some("Repo")),
            ("alias", "App.Accounts.User", Some("Member")),
            ("alias", "App.Web.Page.Helpers", Some("Helpers")),
            ("alias", ":ets", Some("ETS")),
            ("import", "Ecto.Query", None),
            ("import", "App.Accounts.User", None),
            ("require", "Logger", None),
            ("use", "App.Web", None),
            ("use", "GenServer", None),
            ("behaviour", "App.Accounts.Policy", None),
        ]
    );
    assert_eq!(
        page.directives[5].only,
        Some(vec!["from/2".into(), "where/3".into()])
    );
    assert_eq!(page.directives[6].except, Some(vec!["secret/1".into()]));
    assert_eq!(page.directives[8].options.as_deref(), Some(":controller"));
    assert_eq!(
        page.directives[9].options.as_deref(),
        Some("restart: :temporary")
    );
    assert_eq!(page.derives, vec!["Jason.Encoder", "Inspect"]);
    assert_eq!(page.moduledoc, "false");
    let attributes: Vec<&str> = page.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        attributes,
        vec!["behaviour", "derive", "moduledoc", "custom"]
    );
    assert_eq!(page.kinds, vec!["genserver"]);
}

#[test]
fn functions_group_clauses_with_docs_specs_guards_and_defaults() {
    let report = sample();
    let cache = module(&report, "SampleApp.Cache");
    let function = |name: &str, arity: u32| {
        cache
            .functions
            .iter()
            .find(|f| f.name == name && f.arity == arity)
            .unwrap_or_else(|| panic!("{name}/{arity}"))
    };
    let start_link = function("start_link", 1);
    assert_eq!((start_link.min_arity, start_link.spec), (0, true));
    let get = function("get", 2);
    assert_eq!(
        (get.min_arity, get.doc.as_str(), get.spec),
        (1, "present", true)
    );
    assert_eq!(function("stats", 1).doc, "absent");
    let handle_call = function("handle_call", 3);
    assert_eq!(handle_call.clauses.len(), 3);
    assert!(handle_call.impl_attribute);
    assert_eq!(handle_call.line, handle_call.clauses[0].line);
    let handle_info = function("handle_info", 2);
    assert_eq!(handle_info.clauses.len(), 2);
    assert_eq!(function("now", 0).kind, "defp");

    let dir = scratch();
    write(
        dir.path(),
        "g.ex",
        "defmodule G do\n  def f(a, b \\\\ 1)\n  def f(a, b) when is_integer(a) and\n    is_integer(b), do: a + b\n  def g, do: 1\n  def f(a, b), do: {a, b}\n  defguard is_even(x) when rem(x, 2) == 0\n  defdelegate size(m), to: Kernel, as: :map_size\nend\n",
    );
    let report = parse_json(&[dir.path()], &[]).report();
    let g = module(&report, "G");
    let f = &g.functions[0];
    assert_eq!((f.name.as_str(), f.arity, f.min_arity), ("f", 2, 1));
    assert_eq!(f.clauses.len(), 3);
    assert!(f.clauses[0].head);
    assert_eq!(
        f.clauses[1].guard.as_deref(),
        Some("is_integer(a) and is_integer(b)")
    );
    assert_eq!((f.clauses[2].line, f.end_line), (6, 6));
    let guard = g.functions.iter().find(|f| f.name == "is_even").unwrap();
    assert_eq!(guard.kind, "defguard");
    let delegate = g.functions.iter().find(|f| f.name == "size").unwrap();
    let target = delegate.delegate.as_ref().unwrap();
    assert_eq!(
        (target.to.as_str(), target.target_name.as_str()),
        ("Kernel", "map_size")
    );
}

#[test]
fn injected_templates_and_dynamic_definitions_are_kept_apart() {
    let report = sample();
    let web = module(&report, "SampleAppWeb");
    assert!(web
        .functions
        .iter()
        .any(|f| f.name == "controller" && f.arity == 0));
    let controller_uses: Vec<&str> = web
        .injected
        .iter()
        .filter(|i| i.kind == "use" && i.origin.as_deref() == Some("controller/0"))
        .map(|i| i.name.as_str())
        .collect();
    assert!(
        controller_uses.contains(&"Phoenix.Controller"),
        "{controller_uses:?}"
    );
    // Nothing injected is a function of the module that holds the template.
    for injected in web.injected.iter().filter(|i| i.arity.is_some()) {
        assert!(!web.functions.iter().any(|f| f.name == injected.name));
    }
}

#[test]
fn the_same_module_in_two_files_is_kept_twice_and_reported() {
    let dir = scratch();
    write(
        dir.path(),
        "lib/a.ex",
        "defmodule Same do\n  def a, do: 1\nend\n",
    );
    write(
        dir.path(),
        "lib/b.ex",
        "\n\ndefmodule Same do\n  def b, do: 2\nend\n",
    );
    let report = parse_json(&[dir.path()], &[]).report();
    assert_eq!(report.summary.duplicate_modules.len(), 1);
    let duplicate = &report.summary.duplicate_modules[0];
    assert_eq!(duplicate.name, "Same");
    let places: Vec<(&str, u32)> = duplicate
        .locations
        .iter()
        .map(|l| (l.path.as_str(), l.line))
        .collect();
    assert_eq!(places, vec![("lib/a.ex", 1), ("lib/b.ex", 3)]);
    let a = &report.file("lib/a.ex").modules[0];
    let b = &report.file("lib/b.ex").modules[0];
    assert_ne!(a.id, b.id);
    assert_eq!(a.functions[0].name, "a");
    assert_eq!(b.functions[0].name, "b");
}

fn all_ids(report: &common::Report) -> BTreeMap<String, String> {
    let mut ids = BTreeMap::new();
    for file in &report.files {
        for module in &file.modules {
            ids.insert(module.name.clone(), module.id.clone());
            for function in &module.functions {
                let key = format!("{}.{}/{}", module.name, function.name, function.arity);
                ids.insert(key.clone(), function.id.clone());
                for (index, clause) in function.clauses.iter().enumerate() {
                    ids.insert(format!("{key}#{index}"), clause.id.clone());
                }
            }
        }
    }
    ids
}

#[test]
fn editing_one_function_body_changes_no_id() {
    let dir = scratch();
    let original =
        std::fs::read_to_string(common::fixtures().join("sample_app/lib/sample_app/cache.ex"))
            .unwrap();
    write(dir.path(), "lib/cache.ex", &original);
    let before = all_ids(&parse_json(&[dir.path()], &[]).report());
    // A longer body for one clause: every line after it moves.
    let edited = original.replacen(
        "def init(opts) do\n",
        "def init(opts) do\n    _ = :one_more_line\n    _ = :and_another\n",
        1,
    );
    assert_ne!(edited, original);
    write(dir.path(), "lib/cache.ex", &edited);
    let after = all_ids(&parse_json(&[dir.path()], &[]).report());
    assert!(before.len() > 20);
    assert_eq!(before, after);
    // Moving the file elsewhere keeps the IDs too: they name what, not where.
    let moved = scratch();
    write(moved.path(), "lib/deeper/cache.ex", &edited);
    assert_eq!(all_ids(&parse_json(&[moved.path()], &[]).report()), after);
}

/// Removes every key in `keys`, at any depth.
fn strip(value: &mut serde_json::Value, keys: &[&str]) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|key, _| !keys.contains(&key.as_str()));
            map.values_mut().for_each(|v| strip(v, keys));
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| strip(v, keys)),
        _ => {}
    }
}

/// `--no-calls --no-metrics` reads a definition's body only where it can define something
/// (a nested module, a quote, a registry): the facts must be exactly those of a full parse, on
/// every fixture of every test.
#[test]
fn facts_alone_equal_the_facts_of_a_full_parse() {
    let roots = [common::fixtures(), std::path::PathBuf::from("tests")];
    let roots: Vec<&std::path::Path> = roots.iter().map(|p| p.as_path()).collect();
    let decode = |run: common::Run| -> serde_json::Value {
        let value: serde_json::Value = serde_json::from_str(&run.stdout()).expect("JSON");
        common::validate(&value);
        value
    };
    let mut full = decode(parse_json(&roots, &[]));
    let mut facts = decode(parse_json(&roots, &["--no-calls", "--no-metrics"]));
    assert!(facts["graph"].is_null(), "no graph without calls");
    assert!(facts["summary"]["metrics"].is_null(), "no project metrics");
    let files = facts["files"].as_array().unwrap();
    assert!(
        files.len() > 100,
        "the fixtures are all there: {}",
        files.len()
    );
    let first_module = files
        .iter()
        .flat_map(|f| f["modules"].as_array().into_iter().flatten())
        .next()
        .expect("some module");
    assert!(first_module.get("metrics").is_none());
    let keys = [
        "calls",
        "references",
        "metrics",
        "graph",
        "runtime",
        "elapsed_ms",
    ];
    strip(&mut full, &keys);
    strip(&mut facts, &keys);
    assert_eq!(full["summary"], facts["summary"]);
    for (a, b) in full["files"]
        .as_array()
        .unwrap()
        .iter()
        .zip(facts["files"].as_array().unwrap())
    {
        assert_eq!(a, b, "{}", a["path"]);
    }
    assert_eq!(full, facts);
}
