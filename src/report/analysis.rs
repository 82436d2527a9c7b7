//! The report of `elixirscope analyze` (issue [4a], item 6): the typed contract that `--format
//! json` and `ndjson` serialise and that the text, SARIF and GitHub emitters read. As with the
//! `parse` report, field order here is the order in the JSON, every list is sorted by
//! [`AnalyzeReport::new`] so output is byte-identical whatever `--jobs` is, and
//! `schema/analyze.schema.json` is generated from these types (a test fails when it is stale).

use std::collections::BTreeMap;
use std::io::Write;

use schemars::JsonSchema;
use serde::Serialize;

use crate::model::{Reason, RuntimeInfo, Status, StatusCounts, Tool, SCHEMA_VERSION};
use crate::rules::model::{Category, Finding, Severity};

/// What `elixirscope analyze` found, with every file it looked at and every rule it ran.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnalyzeReport {
    pub(crate) schema_version: u32,
    pub(crate) tool: Tool,
    /// Always `analyze`.
    pub(crate) command: String,
    /// Absolute path of the root; every `path` in the report is relative to it.
    pub(crate) root: String,
    pub(crate) summary: AnalyzeSummary,
    /// Every rule known to this version, in id order, with whether this run selected it.
    pub(crate) rules: Vec<RuleSummary>,
    /// Every discovered file, in path order, whatever its status.
    pub(crate) files: Vec<FileOutcome>,
    /// In (path, line, column, rule, message) order; suppressed findings and those of disabled
    /// rules are not listed.
    pub(crate) findings: Vec<Finding>,
    /// Values that vary between runs (timings, threads) live only here and in
    /// `summary.elapsed_ms`.
    pub(crate) runtime: RuntimeInfo,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnalyzeSummary {
    /// Every file listed, whatever its status.
    pub(crate) files: u64,
    pub(crate) by_status: StatusCounts,
    /// Number of findings reported (after suppressions and disabled rules).
    pub(crate) findings: u64,
    pub(crate) by_severity: SeverityCounts,
    /// Findings per rule, in rule id order; rules without findings are not listed.
    pub(crate) by_rule: Vec<RuleCount>,
    /// Rules the run's circuit breaker disabled because they failed on too many files; their
    /// findings were dropped.
    pub(crate) disabled_rules: Vec<DisabledRule>,
    /// Findings silenced by suppression comments.
    pub(crate) suppressed: u64,
    /// Wall time of the whole run.
    pub(crate) elapsed_ms: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeverityCounts {
    pub(crate) error: u64,
    pub(crate) warning: u64,
    pub(crate) info: u64,
}

impl SeverityCounts {
    pub(crate) fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Error => self.error += 1,
            Severity::Warning => self.warning += 1,
            Severity::Info => self.info += 1,
        }
    }

    #[cfg(test)]
    pub(crate) fn total(&self) -> u64 {
        self.error + self.warning + self.info
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleCount {
    pub(crate) rule: String,
    pub(crate) count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DisabledRule {
    pub(crate) rule: String,
    /// Files on which the rule failed (panicked) before it was disabled.
    pub(crate) failures: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSummary {
    /// Kebab-case, stable: `unsafe-to-atom`.
    pub(crate) id: String,
    pub(crate) category: Category,
    /// The severity its findings carry in this run.
    pub(crate) severity: Severity,
    /// Whether this run selected it (`--select`, `--ignore` and the on-by-default flag).
    pub(crate) enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileOutcome {
    /// Relative to the root, `/`-separated.
    pub(crate) path: String,
    pub(crate) status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<Reason>,
    /// A human-readable explanation for `failed`, `timeout` and some `skipped` files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
}

impl From<&crate::model::FileRecord> for FileOutcome {
    fn from(record: &crate::model::FileRecord) -> Self {
        FileOutcome {
            path: record.path.clone(),
            status: record.status,
            reason: record.reason,
            message: record.message.clone(),
        }
    }
}

impl FileOutcome {
    /// A file the analysis did not cover (its findings, if any, are missing): the reason the
    /// run exits with code 3.
    pub(crate) fn is_problem(&self) -> bool {
        matches!(self.status, Status::Failed | Status::Timeout)
    }
}

/// The facts of a finished run, in any order; [`AnalyzeReport::new`] sorts and counts them.
#[derive(Debug, Default)]
pub(crate) struct AnalyzeRun {
    pub(crate) root: String,
    pub(crate) rules: Vec<RuleSummary>,
    pub(crate) files: Vec<FileOutcome>,
    /// Already filtered: no suppressed findings, none of disabled rules.
    pub(crate) findings: Vec<Finding>,
    pub(crate) disabled_rules: Vec<DisabledRule>,
    pub(crate) suppressed: u64,
    pub(crate) elapsed_ms: u64,
    pub(crate) runtime: RuntimeInfo,
}

impl AnalyzeReport {
    /// Sorts every list and computes the summary, so the report is deterministic whatever
    /// order the workers delivered their results in.
    pub(crate) fn new(run: AnalyzeRun) -> AnalyzeReport {
        let AnalyzeRun {
            root,
            mut rules,
            mut files,
            mut findings,
            mut disabled_rules,
            suppressed,
            elapsed_ms,
            runtime,
        } = run;
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        files.sort_by(|a, b| a.path.cmp(&b.path));
        sort_findings(&mut findings);
        disabled_rules.sort();

        let mut by_status = StatusCounts::default();
        for file in &files {
            by_status.add(file.status);
        }
        let mut by_severity = SeverityCounts::default();
        let mut by_rule: BTreeMap<&str, u64> = BTreeMap::new();
        for finding in &findings {
            by_severity.add(finding.severity);
            *by_rule.entry(finding.rule.as_str()).or_default() += 1;
        }
        let summary = AnalyzeSummary {
            files: files.len() as u64,
            by_status,
            findings: findings.len() as u64,
            by_severity,
            by_rule: by_rule
                .into_iter()
                .map(|(rule, count)| RuleCount {
                    rule: rule.to_string(),
                    count,
                })
                .collect(),
            disabled_rules,
            suppressed,
            elapsed_ms,
        };
        AnalyzeReport {
            schema_version: SCHEMA_VERSION,
            tool: Tool::current(),
            command: "analyze".to_string(),
            root,
            summary,
            rules,
            files,
            findings,
            runtime,
        }
    }

    /// Files that failed or timed out, in path order.
    pub(crate) fn problem_files(&self) -> impl Iterator<Item = &FileOutcome> {
        self.files.iter().filter(|f| f.is_problem())
    }

    /// Whether the run left something unanalysed: exit code 3 in the table of [1a].
    pub(crate) fn is_incomplete(&self) -> bool {
        self.problem_files().next().is_some() || !self.summary.disabled_rules.is_empty()
    }
}

/// The report's order: (path, line, column, rule, message), then the remaining fields so that
/// even two findings equal in all of those come out in one order whatever `--jobs` is.
pub(crate) fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule, &a.message)
            .cmp(&(&b.path, b.line, b.column, &b.rule, &b.message))
            .then_with(|| {
                (a.end_line, a.end_column, &a.fingerprint).cmp(&(
                    b.end_line,
                    b.end_column,
                    &b.fingerprint,
                ))
            })
    });
}

/// `--fail-on`: whether any finding is at or above `fail_on`; `None` (`never`) never fails.
pub(crate) fn exceeds(findings: &[Finding], fail_on: Option<Severity>) -> bool {
    fail_on.is_some_and(|threshold| findings.iter().any(|f| f.severity.is_at_least(threshold)))
}

/// `--format json`: one document, serialised straight from the typed report to the writer.
pub(crate) fn write_json(report: &AnalyzeReport, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, report)?;
    out.write_all(b"\n")
}

/// One line of `--format ndjson`.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line<'a> {
    /// The rules travel in the header: they are known before the first finding, so a consumer
    /// that streams can map a finding to its rule as it arrives.
    Header {
        schema_version: u32,
        tool: &'a Tool,
        command: &'a str,
        root: &'a str,
        rules: &'a [RuleSummary],
    },
    Finding(&'a Finding),
    File(&'a FileOutcome),
    Summary(&'a AnalyzeSummary),
    Runtime(&'a RuntimeInfo),
}

/// `--format ndjson`: a `header`, one `finding` per line, a `file` line for each file whose
/// status is not `ok`, then `summary` and `runtime`.
///
/// Files that were analysed cleanly are left out: on a large codebase they are almost every
/// line and say nothing a streaming consumer needs (their findings already name them), while a
/// failed, timed-out, skipped or unparsable file explains why findings may be missing.
/// `summary.files` and `summary.by_status` still count every file.
pub(crate) fn write_ndjson(report: &AnalyzeReport, out: &mut dyn Write) -> std::io::Result<()> {
    let mut emit = |line: Line<'_>| -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")
    };
    emit(Line::Header {
        schema_version: report.schema_version,
        tool: &report.tool,
        command: &report.command,
        root: &report.root,
        rules: &report.rules,
    })?;
    for finding in &report.findings {
        emit(Line::Finding(finding))?;
    }
    for file in report.files.iter().filter(|f| f.status != Status::Ok) {
        emit(Line::File(file))?;
    }
    emit(Line::Summary(&report.summary))?;
    emit(Line::Runtime(&report.runtime))
}

/// The generated JSON Schema of the report, as committed in `schema/analyze.schema.json`.
#[cfg(test)]
fn schema_json() -> String {
    crate::model::schema_file::text(&schemars::schema_for!(AnalyzeReport))
}

/// A realistic run shared by the tests of every `analyze` emitter: all severities, several
/// rules, Unicode and tab columns, a multi-line span, a failed and a timed-out file, a skipped
/// template, a file with syntax errors and a rule the breaker disabled.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::rules::model::{Parameter, RuleDocs, RuleMeta};

    pub(crate) const ROOT: &str = "/home/dev/my shop";

    #[allow(clippy::too_many_arguments)] // reason: a table of test data reads best flat
    fn finding(
        rule: &str,
        category: Category,
        severity: Severity,
        path: &str,
        (line, column, end_line, end_column): (u32, u32, u32, u32),
        module: Option<&str>,
        function: Option<&str>,
        message: &str,
    ) -> Finding {
        Finding {
            rule: rule.to_string(),
            category,
            severity,
            message: message.to_string(),
            path: path.to_string(),
            line,
            column,
            end_line,
            end_column,
            module: module.map(String::from),
            function: function.map(String::from),
            fingerprint: format!("{rule}:{path}:{line}:{column}")
                .bytes()
                .fold(0xcbf29ce484222325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
                })
                .to_string(),
        }
    }

    /// In a scrambled order, as workers would deliver them.
    pub(crate) fn findings() -> Vec<Finding> {
        use Category as C;
        use Severity as S;
        vec![
            finding(
                "io-inspect",
                C::Warning,
                S::Warning,
                "lib/shop/café.ex",
                (4, 35, 4, 47),
                Some("Shop.Café"),
                Some("menu/0"),
                "`IO.inspect/2` left in the code: remove it before it reaches production",
            ),
            finding(
                "unsafe-to-atom",
                C::Security,
                S::Error,
                "lib/shop/accounts.ex",
                (12, 16, 12, 46),
                Some("Shop.Accounts"),
                Some("register/2"),
                "`String.to_atom/1` on a runtime value can exhaust the atom table; use `String.to_existing_atom/1`",
            ),
            finding(
                "cyclomatic-complexity",
                C::Complexity,
                S::Warning,
                "lib/shop/orders.ex",
                (5, 3, 30, 6),
                Some("Shop.Orders"),
                Some("checkout/3"),
                "Function is too complex (cyclomatic complexity is 14, max is 9)",
            ),
            finding(
                "todo-tag",
                C::Design,
                S::Info,
                "lib/shop/orders.ex",
                (18, 7, 18, 29),
                Some("Shop.Orders"),
                Some("checkout/3"),
                "Found a TODO tag in a comment: handle refunds",
            ),
            finding(
                "sql-injection",
                C::Security,
                S::Error,
                "lib/shop/orders.ex",
                (42, 5, 42, 61),
                Some("Shop.Orders"),
                Some("search/1"),
                "SQL built by interpolation is passed to `Repo.query!/2`: pass the values as parameters",
            ),
            finding(
                "dbg-call",
                C::Warning,
                S::Warning,
                "lib/shop/legacy.ex",
                (7, 3, 7, 14),
                Some("Shop.Legacy"),
                Some("run/1"),
                "`dbg/1` left in the code",
            ),
            finding(
                "predicate-function-name",
                C::Readability,
                S::Warning,
                "lib/shop/accounts.ex",
                (30, 7, 30, 16),
                Some("Shop.Accounts"),
                Some("is_admin?/1"),
                "Predicate function names should not start with `is_` and end with `?`: name it `admin?`",
            ),
            finding(
                "unused-suppression",
                C::Warning,
                S::Info,
                "lib/shop/accounts.ex",
                (11, 5, 11, 47),
                Some("Shop.Accounts"),
                Some("register/2"),
                "This `elixirscope:disable-next-line io-inspect` suppresses nothing",
            ),
            finding(
                "io-inspect",
                C::Warning,
                S::Warning,
                "lib/shop/accounts.ex",
                (12, 5, 12, 47),
                Some("Shop.Accounts"),
                Some("register/2"),
                "`IO.inspect/2` left in the code: remove it before it reaches production",
            ),
        ]
    }

    /// Source lines at the findings, as the command would look them up.
    pub(crate) fn source_line(path: &str, line: u32) -> Option<String> {
        let text = match (path, line) {
            ("lib/shop/accounts.ex", 11) => "    # elixirscope:disable-next-line io-inspect",
            ("lib/shop/accounts.ex", 12) => "    IO.inspect(String.to_atom(params[\"role\"]))",
            ("lib/shop/accounts.ex", 30) => "  def is_admin?(user), do: user.role == :admin",
            ("lib/shop/café.ex", 4) => "  def menu, do: \"crème brûlée\" |> IO.inspect()",
            ("lib/shop/orders.ex", 5) => "  def checkout(cart, user, opts) do",
            ("lib/shop/orders.ex", 18) => "      # TODO: handle refunds",
            ("lib/shop/orders.ex", 42) => {
                "    Repo.query!(\"SELECT * FROM orders WHERE ref = '#{ref}'\")"
            }
            ("lib/shop/legacy.ex", 7) => "\t\tdbg(result)\r",
            _ => return None,
        };
        Some(text.to_string())
    }

    pub(crate) fn files() -> Vec<FileOutcome> {
        let file = |path: &str, status, reason, message: Option<&str>| FileOutcome {
            path: path.to_string(),
            status,
            reason,
            message: message.map(String::from),
        };
        vec![
            file("test/shop_test.exs", Status::Ok, None, None),
            file("lib/shop/orders.ex", Status::Ok, None, None),
            file(
                "lib/shop/broken.ex",
                Status::Failed,
                Some(Reason::Panic),
                Some("the tool panicked: index out of bounds: the len is 3 but the index is 7"),
            ),
            file("lib/shop/accounts.ex", Status::Ok, None, None),
            file("lib/shop/café.ex", Status::Ok, None, None),
            file(
                "lib/shop/generated.ex",
                Status::Timeout,
                Some(Reason::Deadline),
                Some("parse exceeded 5000 ms"),
            ),
            file("lib/shop/legacy.ex", Status::Ok, None, None),
            file(
                "lib/shop_web/page.html.heex",
                Status::Skipped,
                Some(Reason::Template),
                None,
            ),
            file("lib/shop/half_written.ex", Status::SyntaxError, None, None),
        ]
    }

    pub(crate) fn rules() -> Vec<RuleSummary> {
        use Category as C;
        use Severity as S;
        let rule = |id: &str, category, severity, enabled| RuleSummary {
            id: id.to_string(),
            category,
            severity,
            enabled,
        };
        vec![
            rule("unsafe-to-atom", C::Security, S::Error, true),
            rule("sql-injection", C::Security, S::Error, true),
            rule("code-eval", C::Security, S::Error, true),
            rule("io-inspect", C::Warning, S::Warning, true),
            rule("dbg-call", C::Warning, S::Warning, true),
            rule("cyclomatic-complexity", C::Complexity, S::Warning, true),
            rule("abc-size", C::Complexity, S::Warning, false),
            rule("todo-tag", C::Design, S::Info, true),
            rule("predicate-function-name", C::Readability, S::Warning, true),
            rule("unused-suppression", C::Warning, S::Info, true),
        ]
    }

    pub(crate) fn report() -> AnalyzeReport {
        let mut report = AnalyzeReport::new(AnalyzeRun {
            root: ROOT.to_string(),
            rules: rules(),
            files: files(),
            findings: findings(),
            disabled_rules: vec![DisabledRule {
                rule: "code-eval".to_string(),
                failures: 5,
            }],
            suppressed: 3,
            elapsed_ms: 1234,
            runtime: RuntimeInfo::default(),
        });
        // Snapshots must not change with every release.
        report.tool.version = "0.0.0-test".to_string();
        report
    }

    fn meta(
        id: &'static str,
        category: Category,
        severity: Severity,
        summary: &'static str,
        credo_check: Option<&'static str>,
        sobelow_check: Option<&'static str>,
    ) -> RuleMeta {
        RuleMeta {
            id,
            category,
            severity,
            enabled_by_default: true,
            summary,
            credo_check,
            sobelow_check,
            parameters: Vec::new(),
            docs: RuleDocs {
                what_it_finds: "Calls that match the rule.",
                why_it_matters: "Because they cause trouble in production.",
                example: "IO.inspect(value)",
                instead: "Logger.debug(inspect(value))",
            },
        }
    }

    /// Documentation of the fixture's rules; `unused-suppression` has none, as a rule
    /// the engine reports without a registry entry would.
    pub(crate) fn metas() -> Vec<RuleMeta> {
        use Category as C;
        use Severity as S;
        let mut complexity = meta(
            "cyclomatic-complexity",
            C::Complexity,
            S::Warning,
            "Functions with too many branches",
            Some("Credo.Check.Refactor.CyclomaticComplexity"),
            None,
        );
        complexity.parameters.push(Parameter {
            name: "max_complexity",
            default: "9".to_string(),
            description: "The highest complexity allowed",
        });
        complexity.docs = RuleDocs {
            what_it_finds: "Functions whose cyclomatic complexity exceeds `max_complexity`.",
            why_it_matters: "Every branch is a path to test and to keep in mind when reading.",
            example: "def f(x) do\n  if x do\n    case x do\n      1 -> :a\n      _ -> :b\n    end\n  end\nend",
            instead: "Split the function: one small function per decision.",
        };
        vec![
            meta(
                "unsafe-to-atom",
                C::Security,
                S::Error,
                "Atoms created from runtime values",
                Some("Credo.Check.Warning.UnsafeToAtom"),
                Some("DOS.StringToAtom"),
            ),
            meta(
                "sql-injection",
                C::Security,
                S::Error,
                "SQL built from interpolated strings",
                None,
                Some("SQL.Query"),
            ),
            meta(
                "code-eval",
                C::Security,
                S::Error,
                "Code evaluated at runtime",
                None,
                Some("RCE.CodeModule"),
            ),
            meta(
                "io-inspect",
                C::Warning,
                S::Warning,
                "`IO.inspect` calls left in the code",
                Some("Credo.Check.Warning.IoInspect"),
                None,
            ),
            meta(
                "dbg-call",
                C::Warning,
                S::Warning,
                "`dbg` calls left in the code",
                Some("Credo.Check.Warning.Dbg"),
                None,
            ),
            complexity,
            meta(
                "abc-size",
                C::Complexity,
                S::Warning,
                "Functions with too many assignments, branches and conditions",
                Some("Credo.Check.Refactor.ABCSize"),
                None,
            ),
            meta(
                "todo-tag",
                C::Design,
                S::Info,
                "TODO comments",
                Some("Credo.Check.Design.TagTODO"),
                None,
            ),
            meta(
                "predicate-function-name",
                C::Readability,
                S::Warning,
                "Predicate functions named `is_*?`",
                Some("Credo.Check.Readability.PredicateFunctionNames"),
                None,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pretty-printed in field order (the tests enable serde_json's `preserve_order`).
    fn pretty_lines(text: &str) -> String {
        text.lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                serde_json::to_string_pretty(&value).unwrap()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn committed_schema_is_current() {
        crate::model::schema_file::assert_current("analyze.schema.json", &super::schema_json());
    }

    #[test]
    fn report_is_sorted_and_counted() {
        let report = fixtures::report();
        let keys: Vec<_> = report
            .findings
            .iter()
            .map(|f| (f.path.as_str(), f.line, f.column, f.rule.as_str()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        let paths: Vec<_> = report.files.iter().map(|f| f.path.as_str()).collect();
        assert!(paths.windows(2).all(|w| w[0] < w[1]), "{paths:?}");

        let summary = &report.summary;
        assert_eq!(summary.files, 9);
        assert_eq!(summary.by_status.ok, 5);
        assert_eq!(summary.by_status.failed, 1);
        assert_eq!(summary.by_status.timeout, 1);
        assert_eq!(summary.findings, 9);
        assert_eq!(
            summary.by_severity,
            SeverityCounts {
                error: 2,
                warning: 5,
                info: 2
            }
        );
        assert_eq!(summary.by_severity.total(), summary.findings);
        assert_eq!(
            summary.by_rule.iter().find(|r| r.rule == "io-inspect"),
            Some(&RuleCount {
                rule: "io-inspect".into(),
                count: 2
            })
        );
        assert!(summary.by_rule.windows(2).all(|w| w[0].rule < w[1].rule));
        assert!(report.is_incomplete());
        assert_eq!(
            report
                .problem_files()
                .map(|f| f.path.as_str())
                .collect::<Vec<_>>(),
            ["lib/shop/broken.ex", "lib/shop/generated.ex"]
        );
    }

    #[test]
    fn sort_is_independent_of_input_order() {
        let mut forward = fixtures::findings();
        let mut backward = fixtures::findings();
        backward.reverse();
        // Two findings equal in every sort key but their span and fingerprint.
        let mut twin = forward[0].clone();
        twin.end_column += 3;
        twin.fingerprint = "0".into();
        forward.push(twin.clone());
        backward.insert(0, twin);
        sort_findings(&mut forward);
        sort_findings(&mut backward);
        assert_eq!(forward, backward);
    }

    #[test]
    fn fail_on_compares_at_or_above() {
        let findings = fixtures::findings();
        let warnings: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .cloned()
            .collect();
        let infos: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Info)
            .cloned()
            .collect();
        assert!(exceeds(&findings, Some(Severity::Error)));
        assert!(!exceeds(&warnings, Some(Severity::Error)));
        assert!(exceeds(&warnings, Some(Severity::Warning)));
        assert!(exceeds(&warnings, Some(Severity::Info)));
        assert!(!exceeds(&infos, Some(Severity::Warning)));
        assert!(exceeds(&infos, Some(Severity::Info)));
        assert!(!exceeds(&findings, None));
        assert!(!exceeds(&[], Some(Severity::Info)));
    }

    #[test]
    fn json_validates_against_the_committed_schema() {
        let mut out = Vec::new();
        write_json(&fixtures::report(), &mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let schema: serde_json::Value = serde_json::from_str(&super::schema_json()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }

    #[test]
    fn json_snapshot() {
        let mut out = Vec::new();
        write_json(&fixtures::report(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.ends_with('\n'));
        insta::assert_snapshot!(pretty_lines(&text));
    }

    #[test]
    fn ndjson_lists_findings_then_files_that_are_not_ok() {
        let report = fixtures::report();
        let mut out = Vec::new();
        write_ndjson(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
        let mut expected = vec!["header"];
        expected.extend(std::iter::repeat_n("finding", report.findings.len()));
        expected.extend(std::iter::repeat_n("file", 4)); // failed, syntax_error, timeout, skipped
        expected.extend(["summary", "runtime"]);
        assert_eq!(types, expected);
        // Each `finding` line is the JSON document's finding plus its `type`.
        let document = serde_json::to_value(&report).unwrap();
        for (index, line) in lines[1..=report.findings.len()].iter().enumerate() {
            let mut finding = line.clone();
            finding.as_object_mut().unwrap().remove("type");
            assert_eq!(finding, document["findings"][index]);
        }
        insta::assert_snapshot!(pretty_lines(&text));
    }
}
