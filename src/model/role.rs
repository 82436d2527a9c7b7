//! File roles: where a file sits in a Mix project decides which rules apply to it later.

use super::FileRole;

impl FileRole {
    /// The role of a file from its path relative to the root. The first conventional directory
    /// (`lib`, `test`, `config`, `priv`) from the left decides, so `apps/a/test/x_test.exs` is a
    /// test in an umbrella and `lib/app/test_helpers.ex` is lib code.
    pub(crate) fn for_path(path: &str) -> FileRole {
        let segments: Vec<&str> = path.split('/').collect();
        let file_name = segments.last().copied().unwrap_or("");
        if file_name == "mix.exs" {
            return FileRole::MixProject;
        }
        if matches!(file_name, ".formatter.exs" | ".credo.exs" | ".sobelow-conf") {
            return FileRole::Config;
        }
        let directories = &segments[..segments.len().saturating_sub(1)];
        for (index, directory) in directories.iter().enumerate() {
            let below = &directories[index + 1..];
            match *directory {
                "lib" => return FileRole::Lib,
                "test" => {
                    return if below.first() == Some(&"support") {
                        FileRole::TestSupport
                    } else {
                        FileRole::Test
                    }
                }
                "config" => {
                    return if file_name == "runtime.exs" {
                        FileRole::RuntimeConfig
                    } else {
                        FileRole::Config
                    }
                }
                "priv" => {
                    return if below.contains(&"migrations") {
                        FileRole::Migration
                    } else if file_name == "seeds.exs" {
                        FileRole::Seeds
                    } else {
                        FileRole::Script
                    }
                }
                _ => {}
            }
        }
        if file_name.ends_with("_test.exs") {
            FileRole::Test
        } else if file_name.ends_with(".exs") {
            FileRole::Script
        } else {
            FileRole::Lib
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_mix_conventions() {
        let cases = [
            ("mix.exs", FileRole::MixProject),
            ("apps/web/mix.exs", FileRole::MixProject),
            ("lib/app/user.ex", FileRole::Lib),
            ("apps/web/lib/web/router.ex", FileRole::Lib),
            ("test/app/user_test.exs", FileRole::Test),
            ("test/support/data_case.ex", FileRole::TestSupport),
            ("test/test_helper.exs", FileRole::Test),
            ("config/config.exs", FileRole::Config),
            ("config/runtime.exs", FileRole::RuntimeConfig),
            (
                "priv/repo/migrations/20240101_create.exs",
                FileRole::Migration,
            ),
            ("priv/repo/seeds.exs", FileRole::Seeds),
            ("scripts/bench.exs", FileRole::Script),
            (".formatter.exs", FileRole::Config),
            ("lib/app/test/helpers.ex", FileRole::Lib),
        ];
        for (path, role) in cases {
            assert_eq!(FileRole::for_path(path), role, "{path}");
        }
    }
}
