//! Call sites (issue [3a]): exact expected calls for every resolution form on
//! `fixtures/calls`, a differential test against Elixir's own compiler (the tracer `mix xref`
//! is built on), `--no-calls`, and the standard-library tables being current.

mod common;
#[path = "common/tracer.rs"]
mod tracer;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{parse_json, scratch, write};

fn calls_fixture() -> PathBuf {
    common::fixtures().join("calls")
}

fn report() -> common::Report {
    let run = parse_json(&[&calls_fixture()], &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    run.report()
}

/// `owner | line:column form target Module.name/arity [flags]` for every call of a file.
fn described(report: &common::Report, path: &str) -> Vec<String> {
    report
        .file(path)
        .all_calls()
        .into_iter()
        .map(|(owner, call)| format!("{owner} | {}", call.describe()))
        .collect()
}

/// Every call of `fixtures/calls`, by file: `caller | line:column form target
/// Module.name/arity [flags]`. Checked by hand (and, where the compiler sees them, by
/// `resolution_agrees_with_elixirs_compiler`).
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "lib/calls/constructs.ex",
        &[
            "Calls.Constructs | 3:26 remote project Calls.Helpers.double/1",
            "Calls.Constructs.run/1#0 | 8:19 local kernel Kernel.is_integer/1 [imported]",
            "Calls.Constructs.run/1#0 | 9:5 local kernel Kernel.if/2 [macro, imported]",
            "Calls.Constructs.run/1#0 | 10:7 local special_form Kernel.SpecialForms.case/2 [macro]",
            "Calls.Constructs.run/1#0 | 12:14 sigil kernel Kernel.sigil_r/2 [macro, imported]",
            "Calls.Constructs.run/1#0 | 15:7 local special_form Kernel.SpecialForms.for/2 [macro]",
            "Calls.Constructs.with_default/2#0 | 19:42 remote project Calls.Helpers.double/1",
            "Calls.Constructs.triple/1#0 | 20:30 delegate project Calls.Helpers.triple/1",
            "Calls.Constructs.twice/1#0 | 21:29 delegate project Calls.Helpers.double/1",
            "Calls.Constructs.structs/1#0 | 23:70 remote project Calls.Clock.now/0",
        ],
    ),
    (
        "lib/calls/helpers.ex",
        &[
            "Calls.Helpers.sum/1#0 | 7:27 remote external Enum.sum/1",
            "Calls.Helpers.twice/1#0 | 10:5 local special_form Kernel.SpecialForms.quote/1 [macro]",
            "Calls.Helpers.twice/1#0 | 11:8 local special_form Kernel.SpecialForms.unquote/1 [macro]",
            "Calls.Helpers.twice/1#0 | 11:29 local special_form Kernel.SpecialForms.unquote/1 [macro]",
        ],
    ),
    (
        "lib/calls/imports.ex",
        &[
            "Calls.Imports.run/1#0 | 8:5 local project Calls.Helpers.double/1 [imported]",
            "Calls.Imports.run/1#0 | 9:5 local local Calls.Imports.triple/1",
            "Calls.Imports.run/1#0 | 10:5 local project Calls.Store.get/1 [imported]",
            "Calls.Imports.run/1#0 | 11:5 local local Calls.Imports.put/2",
            "Calls.Imports.run/1#0 | 12:5 local project Calls.Helpers.twice/1 [macro, imported]",
            "Calls.Imports.run/1#0 | 13:5 local kernel Kernel.is_atom/1 [imported]",
            "Calls.Imports.run/1#0 | 14:5 local erlang :lists.reverse/1 [imported]",
            "Calls.Imports.run/1#0 | 15:5 local unknown ?.sqrt/1 [candidates: :math]",
            "Calls.Imports.scoped/0#0 | 20:5 local project Calls.Clock.now/0 [imported]",
        ],
    ),
    (
        "lib/calls/pipes.ex",
        &[
            "Calls.Pipes.run/1#0 | 6:13 remote external Enum.map/2 [piped]",
            "Calls.Pipes.run/1#0 | 6:26 capture project Calls.Helpers.double/1",
            "Calls.Pipes.run/1#0 | 7:13 remote external Enum.filter/2 [piped]",
            "Calls.Pipes.run/1#0 | 7:21 capture kernel Kernel.is_integer/1 [imported]",
            "Calls.Pipes.run/1#0 | 8:16 remote project Calls.Helpers.sum/1 [piped]",
            "Calls.Pipes.run/1#0 | 9:8 local local Calls.Pipes.normalize/1 [piped]",
            "Calls.Pipes.run/1#0 | 10:16 remote project Calls.Helpers.double/1 [piped]",
            "Calls.Pipes.captures/1#0 | 14:24 capture project Calls.Helpers.add/2",
            "Calls.Pipes.captures/1#0 | 15:13 capture local Calls.Pipes.normalize/1",
            "Calls.Pipes.captures/1#0 | 16:18 capture local Calls.Pipes.normalize/1",
            "Calls.Pipes.captures/1#0 | 17:20 capture project Calls.Helpers.triple/1",
            "Calls.Pipes.captures/1#0 | 17:29 anonymous dynamic ?.?/1 [piped]",
            "Calls.Pipes.captures/1#0 | 18:10 local kernel Kernel.then/2 [macro, imported, piped]",
            "Calls.Pipes.captures/1#0 | 18:24 capture project Calls.Helpers.add/2",
            "Calls.Pipes.dynamic/3#0 | 23:12 remote dynamic ?.run/1",
            "Calls.Pipes.dynamic/3#0 | 24:5 apply project Calls.Helpers.double/1",
            "Calls.Pipes.dynamic/3#0 | 25:5 apply dynamic ?.run/1",
            "Calls.Pipes.dynamic/3#0 | 26:5 apply dynamic Calls.Helpers.?/1",
            "Calls.Pipes.dynamic/3#0 | 27:13 anonymous dynamic ?.?/1",
            "Calls.Pipes.dynamic/3#0 | 29:12 apply project Calls.Helpers.add/2",
        ],
    ),
    (
        "lib/calls/remote.ex",
        &[
            "Calls.Remote.run/1#0 | 9:13 remote project Calls.Helpers.double/1",
            "Calls.Remote.run/1#0 | 10:7 remote project Calls.Helpers.double/1",
            "Calls.Remote.run/1#0 | 11:11 remote project Calls.Store.put/2",
            "Calls.Remote.run/1#0 | 12:11 remote project Calls.Clock.now/0",
            "Calls.Remote.run/1#0 | 13:12 remote project Calls.Remote.Nested.deep/1",
            "Calls.Remote.run/1#0 | 14:19 remote project Calls.Helpers.triple/1",
            "Calls.Remote.run/1#0 | 15:26 remote project Calls.Helpers.triple/1",
            "Calls.Remote.run/1#0 | 16:16 remote local Calls.Remote.visible/1",
            "Calls.Remote.run/1#0 | 17:10 remote erlang :ets.insert/2",
            "Calls.Remote.run/1#0 | 18:12 remote external String.upcase/1",
            "Calls.Remote.run/1#0 | 19:12 remote external Logger.debug/1 [macro]",
            "Calls.Remote.run/1#0 | 20:12 remote kernel Kernel.is_nil/1 [macro]",
            "Calls.Remote.run/1#0 | 21:11 remote project Calls.Clock.now/0",
            "Calls.Remote.scoped_alias/1#0 | 26:7 remote project Calls.Store.get/1",
            "Calls.Remote.Nested.deep/1#0 | 32:33 remote local Calls.Remote.Nested.deeper/1",
            "Calls.Remote.Nested.deeper/1#0 | 33:37 remote project Calls.Remote.visible/1",
        ],
    ),
    (
        "lib/calls/template.ex",
        &[
            "Calls.Template.__using__/1#0 | 5:5 local special_form Kernel.SpecialForms.quote/1 [macro]",
            "Calls.Template.__using__/1#0 | 6:36 remote project Calls.Helpers.double/1 [quoted]",
            "Calls.Template.__using__/1#0 | 7:39 remote dynamic ?.name/0 [quoted]",
        ],
    ),
    (
        "lib/calls/unicode.ex",
        &[
            "Calls.Unicode.greet/1#0 | 4:49 remote external String.upcase/1",
            "Calls.Unicode.greet/1#0 | 4:77 remote project Calls.Helpers.double/1",
        ],
    ),
    (
        "lib/calls_web.ex",
        &[
            "CallsWeb.controller/0#0 | 5:5 local special_form Kernel.SpecialForms.quote/1 [macro]",
            "CallsWeb.controller/0#0 | 12:7 local special_form Kernel.SpecialForms.unquote/1 [macro]",
            "CallsWeb.controller/0#0 | 12:15 local local CallsWeb.verified_routes/0",
            "CallsWeb.verified_routes/0#0 | 17:5 local special_form Kernel.SpecialForms.quote/1 [macro]",
            "CallsWeb.__using__/1#0 | 22:34 local kernel Kernel.is_atom/1 [imported]",
            "CallsWeb.__using__/1#0 | 23:5 apply dynamic CallsWeb.?/0",
        ],
    ),
    (
        "lib/calls_web/page_controller.ex",
        &[
            "CallsWeb.PageController.index/1#0 | 5:5 local project Calls.Helpers.double/1 [imported]",
            "CallsWeb.PageController.index/1#0 | 6:5 local project CallsWeb.Gettext.gettext/1 [imported]",
            "CallsWeb.PageController.index/1#0 | 7:5 local project CallsWeb.Paths.path/1 [imported]",
            "CallsWeb.PageController.index/1#0 | 8:12 remote project CallsWeb.Router.Helpers.page_path/2",
            "CallsWeb.PageController.index/1#0 | 9:5 local local CallsWeb.PageController.page_title/0",
        ],
    ),
    (
        "mix.exs",
        &[
        ],
    ),
    (
        "test/seeds.exs",
        &[
            "top | 1:13 remote project Calls.Store.put/2",
            "top | 1:38 remote project Calls.Clock.now/0",
            "top | 2:4 remote external IO.puts/1",
        ],
    ),
    (
        "test/support_case.exs",
        &[
            "Calls.HelperCase | 4:3 local external ExUnit.CaseTemplate.using/1 [macro, imported]",
            "Calls.HelperCase | 5:5 local special_form Kernel.SpecialForms.quote/1 [macro]",
            "Calls.HelpersTest | 14:3 local external ExUnit.Case.test/2 [macro, imported]",
            "Calls.HelpersTest | 15:5 local external ExUnit.Assertions.assert/1 [macro, imported, runtime]",
            "Calls.HelpersTest | 15:12 local project Calls.Helpers.double/1 [imported, runtime]",
        ],
    ),
];

#[test]
fn every_resolution_form_gives_the_expected_calls() {
    let report = report();
    let paths: Vec<&str> = EXPECTED.iter().map(|(path, _)| *path).collect();
    let mut ours: Vec<&str> = report
        .files
        .iter()
        .map(|f| f.path.split("fixtures/calls/").nth(1).unwrap_or(&f.path))
        .collect();
    ours.sort_unstable();
    assert_eq!(ours, paths, "the fixture's files");
    for (path, expected) in EXPECTED {
        let actual = described(&report, path);
        let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(actual, expected, "calls of {path}");
    }
}

#[test]
fn resolution_agrees_with_elixirs_compiler() {
    let Some(elixir) = tracer::elixir() else {
        return;
    };
    let events = tracer::trace(elixir, &calls_fixture());
    let (differences, compared) = tracer::differences(&report(), &events, "fixtures/calls/");
    assert!(
        differences.is_empty(),
        "{} differences with Elixir's compiler:\n{}",
        differences.len(),
        differences.join("\n")
    );
    assert!(
        compared > 60,
        "only {compared} calls and references compared"
    );
    eprintln!("compared {compared} calls and references with Elixir's compiler");
}

#[test]
fn no_calls_leaves_out_calls_references_and_the_graph() {
    let with = report();
    let run = parse_json(&[&calls_fixture()], &["--no-calls"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let without = run.report();
    assert!(with.graph.is_some());
    assert!(without.graph.is_none());
    let text = run.stdout();
    for field in ["\"calls\":", "\"references\":", "\"graph\":"] {
        assert!(!text.contains(field), "{field} in a --no-calls report");
    }
    // Everything else is the same.
    for (a, b) in with.files.iter().zip(&without.files) {
        assert_eq!(a.path, b.path);
        let names = |f: &common::report::FileRecord| -> Vec<(String, Vec<(String, u32)>)> {
            f.modules
                .iter()
                .map(|m| {
                    let functions = m
                        .functions
                        .iter()
                        .map(|f| (f.name.clone(), f.arity))
                        .collect();
                    (m.id.clone(), functions)
                })
                .collect()
        };
        assert_eq!(names(a), names(b), "{}", a.path);
    }
}

#[test]
fn deep_nesting_and_long_pipelines_are_walked_without_recursion() {
    let dir = scratch();
    let depth = 5_000;
    let nested = format!("{}x{}", "f(".repeat(depth), ")".repeat(depth));
    let pipeline = format!("x{}", " |> g()".repeat(depth));
    write(
        dir.path(),
        "lib/deep.ex",
        format!(
            "defmodule Deep do\n  def a(x), do: {nested}\n  def b(x), do: {pipeline}\n  def f(x), do: x\n  def g(x), do: x\nend\n"
        ),
    );
    let run = parse_json(&[dir.path()], &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let report = run.report();
    let file = report.file("lib/deep.ex");
    assert_eq!(file.status, "ok");
    let calls = file.all_calls();
    let of = |owner: &str| calls.iter().filter(|(o, _)| o == owner).count();
    assert_eq!(of("Deep.a/1#0"), depth);
    assert_eq!(of("Deep.b/1#0"), depth);
    assert!(calls.iter().all(|(_, c)| c.target == "local"));
    assert!(calls
        .iter()
        .filter(|(o, _)| o == "Deep.b/1#0")
        .all(|(_, c)| c.piped && c.arity == Some(1)));
}

/// `src/extract/stdlib.rs` is what `tests/oracle/stdlib_exports.exs` prints for the installed
/// Elixir (compared without whitespace: the committed file is rustfmt'ed).
#[test]
fn standard_library_tables_are_current() {
    let Some(elixir) = tracer::elixir() else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(elixir)
        .arg(root.join("tests/oracle/stdlib_exports.exs"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let squeeze = |text: &str| -> String { text.chars().filter(|c| !c.is_whitespace()).collect() };
    let generated = squeeze(&String::from_utf8(output.stdout).unwrap());
    let committed = squeeze(&std::fs::read_to_string(root.join("src/extract/stdlib.rs")).unwrap());
    // rustfmt joins short lists onto one line and adds trailing commas where it breaks them.
    let normalise = |text: String| text.replace(",]", "]").replace(",)", ")");
    assert!(
        normalise(generated) == normalise(committed),
        "src/extract/stdlib.rs is stale: run `elixir tests/oracle/stdlib_exports.exs > src/extract/stdlib.rs && rustfmt --edition 2021 src/extract/stdlib.rs`"
    );
}
