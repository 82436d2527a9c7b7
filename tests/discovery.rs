//! Discovery: which files are found, how they are named, what is skipped and why.

mod common;

use common::{parse_json, scratch, write};

#[test]
fn finds_hidden_elixir_files_and_lists_templates() {
    let dir = scratch();
    let root = dir.path();
    write(root, ".formatter.exs", "[inputs: []]\n");
    write(root, ".credo.exs", "%{configs: []}\n");
    write(root, "lib/a.ex", "defmodule A do\nend\n");
    write(root, "lib/page.html.heex", "<div></div>\n");
    write(root, "lib/old.eex", "<%= 1 %>\n");
    write(root, "lib/old.leex", "<%= 1 %>\n");
    write(root, "README.md", "# not elixir\n");
    let report = parse_json(&[root], &[]).report();
    assert_eq!(
        report.paths(),
        vec![
            ".credo.exs",
            ".formatter.exs",
            "lib/a.ex",
            "lib/old.eex",
            "lib/old.leex",
            "lib/page.html.heex"
        ]
    );
    for template in ["lib/old.eex", "lib/old.leex", "lib/page.html.heex"] {
        let file = report.file(template);
        assert_eq!(file.status, "skipped");
        assert_eq!(file.reason.as_deref(), Some("template"));
    }
    assert_eq!(report.file("lib/a.ex").status, "ok");
}

#[test]
fn skips_build_and_dependency_directories() {
    let dir = scratch();
    let root = dir.path();
    for skipped in [
        "_build",
        "deps",
        ".elixir_ls",
        ".elixirscope",
        "node_modules",
        "cover",
        ".git",
    ] {
        write(root, &format!("{skipped}/x.ex"), "defmodule X do\nend\n");
    }
    write(root, "lib/deps/kept.ex", "defmodule Kept do\nend\n");
    write(root, "lib/a.ex", "defmodule A do\nend\n");
    let report = parse_json(&[root], &[]).report();
    // A directory named `deps` is skipped anywhere, as Mix's own is at any app's root.
    assert_eq!(report.paths(), vec!["lib/a.ex"]);
}

#[test]
fn honours_gitignore_outside_a_git_repository() {
    let dir = scratch();
    let root = dir.path();
    write(root, ".gitignore", "generated/\n*.tmp.ex\n");
    write(root, "lib/a.ex", "defmodule A do\nend\n");
    write(root, "lib/b.tmp.ex", "defmodule B do\nend\n");
    write(root, "generated/c.ex", "defmodule C do\nend\n");
    let report = parse_json(&[root], &[]).report();
    assert_eq!(report.paths(), vec!["lib/a.ex"]);
}

#[test]
fn honours_gitignore_inside_a_git_repository_and_roots_at_its_top_level() {
    let dir = scratch();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    write(root, ".gitignore", "/lib/ignored.ex\n");
    write(root, "lib/sub/.gitignore", "local.ex\n");
    write(root, "lib/a.ex", "defmodule A do\nend\n");
    write(root, "lib/ignored.ex", "defmodule I do\nend\n");
    write(root, "lib/sub/local.ex", "defmodule L do\nend\n");
    write(root, "lib/sub/kept.ex", "defmodule K do\nend\n");
    // Given only lib/sub, paths are still relative to the git top level.
    let report = parse_json(&[&root.join("lib/sub")], &[]).report();
    assert_eq!(report.paths(), vec!["lib/sub/kept.ex"]);
    assert_eq!(
        std::path::Path::new(&report.root),
        root.canonicalize().unwrap()
    );
    let report = parse_json(&[root], &[]).report();
    assert_eq!(report.paths(), vec!["lib/a.ex", "lib/sub/kept.ex"]);
}

#[test]
fn root_is_the_common_ancestor_without_git() {
    let dir = scratch();
    let root = dir.path();
    write(root, "a/lib/x.ex", "defmodule X do\nend\n");
    write(root, "b/lib/y.ex", "defmodule Y do\nend\n");
    let report = parse_json(&[&root.join("a"), &root.join("b/lib/y.ex")], &[]).report();
    assert_eq!(report.paths(), vec!["a/lib/x.ex", "b/lib/y.ex"]);
    assert_eq!(
        std::path::Path::new(&report.root),
        root.canonicalize().unwrap()
    );
}

#[test]
fn exclude_globs_are_repeatable() {
    let dir = scratch();
    let root = dir.path();
    write(root, "lib/a.ex", "defmodule A do\nend\n");
    write(root, "lib/generated/b.ex", "defmodule B do\nend\n");
    write(root, "test/c_test.exs", "defmodule CTest do\nend\n");
    let report = parse_json(
        &[root],
        &["--exclude", "lib/generated/**", "--exclude", "*_test.exs"],
    )
    .report();
    assert_eq!(report.paths(), vec!["lib/a.ex"]);
}

#[test]
fn the_same_file_given_twice_is_listed_once() {
    let dir = scratch();
    let root = dir.path();
    let file = write(root, "lib/a.ex", "defmodule A do\nend\n");
    let report = parse_json(&[&root.join("lib"), &file], &[]).report();
    // The root is the common ancestor of the two arguments: `lib` itself.
    assert_eq!(report.paths(), vec!["a.ex"]);
}

#[cfg(unix)]
#[test]
fn symlinks_are_listed_not_followed_by_default() {
    use std::os::unix::fs::symlink;
    let dir = scratch();
    let root = dir.path();
    write(root, "real/lib/a.ex", "defmodule A do\nend\n");
    symlink(root.join("real/lib"), root.join("linked_dir")).unwrap();
    symlink(root.join("real/lib/a.ex"), root.join("linked.ex")).unwrap();
    symlink(root.join("nowhere.ex"), root.join("broken.ex")).unwrap();
    let report = parse_json(&[root], &[]).report();
    assert_eq!(
        report.paths(),
        vec!["broken.ex", "linked.ex", "linked_dir", "real/lib/a.ex"]
    );
    for link in ["broken.ex", "linked.ex", "linked_dir"] {
        let file = report.file(link);
        assert_eq!(file.status, "skipped", "{link}");
        assert_eq!(file.reason.as_deref(), Some("symlink"), "{link}");
    }
}

#[cfg(unix)]
#[test]
fn follow_resolves_links_and_reports_loops_and_broken_links() {
    use std::os::unix::fs::symlink;
    let dir = scratch();
    let root = dir.path();
    write(root, "real/a.ex", "defmodule A do\nend\n");
    symlink(root.join("real"), root.join("linked_dir")).unwrap();
    symlink(root, root.join("real/loop")).unwrap();
    symlink(root.join("nowhere.ex"), root.join("broken.ex")).unwrap();
    let run = parse_json(&[root], &["--follow"]);
    let report = run.report();
    assert_eq!(report.file("linked_dir/a.ex").status, "ok");
    assert_eq!(report.file("real/a.ex").status, "ok");
    let looped = report.file("real/loop");
    assert_eq!(looped.status, "skipped");
    assert_eq!(looped.reason.as_deref(), Some("symlink_loop"));
    let broken = report.file("broken.ex");
    assert_eq!(broken.status, "skipped");
    assert_eq!(broken.reason.as_deref(), Some("broken_symlink"));
    assert_eq!(run.code(), 0, "{}", run.stderr());
}

#[test]
fn output_is_identical_whatever_the_number_of_jobs() {
    let sample = common::fixtures().join("sample_app");
    let one = parse_json(&[&sample], &["--jobs", "1"]).report();
    let eight = parse_json(&[&sample], &["--jobs", "8"]).report();
    assert!(one.files.len() >= 20);
    assert_eq!(one.files, eight.files);
    // Byte-identical `files` too: serialise both the same way.
    let run1 = parse_json(&[&sample], &["--jobs", "1"]).stdout();
    let run8 = parse_json(&[&sample], &["--jobs", "8"]).stdout();
    let files = |text: &str| {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        serde_json::to_string(&value["files"]).unwrap()
    };
    assert_eq!(files(&run1), files(&run8));
}
