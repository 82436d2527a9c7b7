//! `analyze --format sarif`: a SARIF 2.1.0 log (OASIS), the format GitHub code scanning and
//! most CI dashboards ingest. One run: the tool with its rules and their documentation, one
//! result per finding with a fingerprint that survives edits elsewhere in the file, and the
//! files and rules the run could not cover as tool execution notifications.
//!
//! Locations are relative to `%SRCROOT%`, which `originalUriBaseIds` maps to the root, so a log
//! produced in a CI checkout still points at the right files anywhere else. Columns count
//! Unicode code points (`columnKind`), and an end column is the one after the finding's last
//! character, as in the JSON report. The whole log is typed structs serialised in field order,
//! so it is byte-identical between runs and builds. A test validates it against the official
//! schema (`tests/data/sarif-2.1.0.json`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use super::analysis::AnalyzeReport;
use crate::model::Status;
use crate::rules::model::{Category, Finding, RuleMeta, Severity};

const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/elixirscope/elixirscope";
const SRCROOT: &str = "%SRCROOT%";
/// Versioned so a change of the fingerprint's recipe can ship under a new key instead of
/// silently reopening every alert.
const FINGERPRINT_KEY: &str = "elixirscopeFingerprint/v1";

/// Writes the SARIF log of `report`. `rules` documents the rules (the registry's metadata); a
/// rule that appears in the report without metadata gets a descriptor with its id only.
pub(crate) fn write(
    report: &AnalyzeReport,
    rules: &[&RuleMeta],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let log = build(report, rules);
    serde_json::to_writer(&mut *out, &log)?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: ToolComponent<'a>,
    invocations: [Invocation; 1],
    original_uri_base_ids: BTreeMap<&'static str, ArtifactLocation>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct ToolComponent<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'a str,
    version: &'a str,
    semantic_version: &'a str,
    information_uri: &'static str,
    rules: Vec<RuleDescriptor>,
    notifications: Vec<NotificationDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDescriptor {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    short_description: Option<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_description: Option<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<MultiformatMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleProperties {
    category: &'static str,
    tags: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credo_check: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sobelow_check: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parameters: Vec<ParameterProperty>,
}

#[derive(Serialize)]
struct ParameterProperty {
    name: &'static str,
    default: String,
    description: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationDescriptor {
    id: &'static str,
    short_description: Message,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
struct MultiformatMessage {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    level: &'static str,
    message: Message,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
    descriptor: DescriptorReference,
    #[serde(skip_serializing_if = "Option::is_none")]
    associated_rule: Option<DescriptorReference>,
}

#[derive(Serialize)]
struct DescriptorReference {
    id: String,
    index: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, &'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

/// Tool execution notifications, declared in `driver.notifications` so each one can be
/// referenced by index.
const NOTIFICATIONS: [(&str, &str); 3] = [
    (
        "file-failed",
        "A file could not be analysed; its findings are missing.",
    ),
    (
        "file-timeout",
        "A file's analysis exceeded its deadline; its findings are missing.",
    ),
    (
        "rule-disabled",
        "A rule failed on too many files and was disabled; its findings were dropped.",
    ),
];

fn notification_index(id: &str) -> usize {
    NOTIFICATIONS
        .iter()
        .position(|(known, _)| *known == id)
        .expect("declared notification")
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn build<'a>(report: &'a AnalyzeReport, metas: &[&RuleMeta]) -> Log<'a> {
    // The rules of the run: those it selected, and any a finding names (such as
    // `unused-suppression`), in id order; `ruleIndex` points into this list.
    let mut rule_facts: BTreeMap<&str, (Category, Severity)> = BTreeMap::new();
    for rule in report.rules.iter().filter(|r| r.enabled) {
        rule_facts.insert(&rule.id, (rule.category, rule.severity));
    }
    for finding in &report.findings {
        rule_facts
            .entry(&finding.rule)
            .or_insert((finding.category, finding.severity));
    }
    for disabled in &report.summary.disabled_rules {
        if let Some(rule) = report.rules.iter().find(|r| r.id == disabled.rule) {
            rule_facts
                .entry(&rule.id)
                .or_insert((rule.category, rule.severity));
        }
    }
    let rule_index: BTreeMap<&str, usize> = rule_facts
        .keys()
        .enumerate()
        .map(|(index, id)| (*id, index))
        .collect();
    let rules = rule_facts
        .iter()
        .map(|(id, &(category, severity))| {
            let meta = metas.iter().find(|m| m.id == *id).copied();
            rule_descriptor(id, category, severity, meta)
        })
        .collect();

    let results = report
        .findings
        .iter()
        .map(|finding| SarifResult {
            rule_id: &finding.rule,
            rule_index: rule_index[finding.rule.as_str()],
            level: level(finding.severity),
            message: Message {
                text: finding.message.clone(),
            },
            locations: [finding_location(finding)],
            partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, finding.fingerprint.as_str())]),
        })
        .collect();

    let mut notifications = Vec::new();
    for file in report.problem_files() {
        let (id, what) = match file.status {
            Status::Timeout => ("file-timeout", "timed out"),
            _ => ("file-failed", "could not be analysed"),
        };
        let detail = file
            .message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        notifications.push(Notification {
            level: "error",
            message: Message {
                text: format!("{} {what}{detail}", file.path),
            },
            locations: vec![Location {
                physical_location: PhysicalLocation {
                    artifact_location: artifact(&file.path),
                    region: None,
                },
                logical_locations: Vec::new(),
            }],
            descriptor: DescriptorReference {
                id: id.to_string(),
                index: notification_index(id),
            },
            associated_rule: None,
        });
    }
    for disabled in &report.summary.disabled_rules {
        notifications.push(Notification {
            level: "error",
            message: Message {
                text: format!(
                    "Rule {} was disabled after failing on {} files; its findings were dropped.",
                    disabled.rule, disabled.failures
                ),
            },
            locations: Vec::new(),
            descriptor: DescriptorReference {
                id: "rule-disabled".to_string(),
                index: notification_index("rule-disabled"),
            },
            associated_rule: rule_index.get(disabled.rule.as_str()).map(|&index| {
                DescriptorReference {
                    id: disabled.rule.clone(),
                    index,
                }
            }),
        });
    }

    Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: ToolComponent {
                driver: Driver {
                    name: &report.tool.name,
                    version: &report.tool.version,
                    semantic_version: &report.tool.version,
                    information_uri: INFORMATION_URI,
                    rules,
                    notifications: NOTIFICATIONS
                        .iter()
                        .map(|(id, text)| NotificationDescriptor {
                            id,
                            short_description: Message {
                                text: text.to_string(),
                            },
                            default_configuration: Configuration { level: "error" },
                        })
                        .collect(),
                },
            },
            invocations: [Invocation {
                // Exit code 3's condition: part of the code base went unanalysed.
                execution_successful: !report.is_incomplete(),
                tool_execution_notifications: notifications,
            }],
            original_uri_base_ids: BTreeMap::from([(
                SRCROOT,
                ArtifactLocation {
                    uri: root_uri(&report.root),
                    uri_base_id: None,
                },
            )]),
            column_kind: "unicodeCodePoints",
            results,
        }],
    }
}

fn artifact(path: &str) -> ArtifactLocation {
    ArtifactLocation {
        uri: encode_uri_path(path),
        uri_base_id: Some(SRCROOT),
    }
}

fn finding_location(finding: &Finding) -> Location {
    let logical_locations = match (&finding.module, &finding.function) {
        (Some(module), Some(function)) => vec![LogicalLocation {
            name: function.clone(),
            fully_qualified_name: format!("{module}.{function}"),
            kind: "function",
        }],
        (Some(module), None) => vec![LogicalLocation {
            name: module.clone(),
            fully_qualified_name: module.clone(),
            kind: "module",
        }],
        (None, Some(function)) => vec![LogicalLocation {
            name: function.clone(),
            fully_qualified_name: function.clone(),
            kind: "function",
        }],
        (None, None) => Vec::new(),
    };
    Location {
        physical_location: PhysicalLocation {
            artifact_location: artifact(&finding.path),
            region: Some(Region {
                start_line: finding.line.max(1),
                start_column: finding.column.max(1),
                end_line: finding.end_line.max(finding.line).max(1),
                end_column: finding.end_column.max(1),
            }),
        },
        logical_locations,
    }
}

fn rule_descriptor(
    id: &str,
    category: Category,
    severity: Severity,
    meta: Option<&RuleMeta>,
) -> RuleDescriptor {
    let Some(meta) = meta else {
        return RuleDescriptor {
            id: id.to_string(),
            name: Some(pascal_case(id)),
            short_description: None,
            full_description: None,
            help: None,
            help_uri: None,
            default_configuration: Configuration {
                level: level(severity),
            },
            properties: RuleProperties {
                category: category.as_str(),
                tags: vec![category.as_str()],
                credo_check: None,
                sobelow_check: None,
                parameters: Vec::new(),
            },
        };
    };
    RuleDescriptor {
        id: id.to_string(),
        name: Some(pascal_case(id)),
        short_description: Some(Message {
            text: meta.summary.to_string(),
        }),
        full_description: Some(Message {
            text: meta.docs.what_it_finds.to_string(),
        }),
        help: Some(help(meta)),
        help_uri: Some(help_uri(meta)),
        default_configuration: Configuration {
            level: level(severity),
        },
        properties: RuleProperties {
            category: meta.category.as_str(),
            tags: vec![meta.category.as_str()],
            credo_check: meta.credo_check,
            sobelow_check: meta.sobelow_check,
            parameters: meta
                .parameters
                .iter()
                .map(|p| ParameterProperty {
                    name: p.name,
                    default: p.default.clone(),
                    description: p.description,
                })
                .collect(),
        },
    }
}

/// `unsafe-to-atom` → `UnsafeToAtom`: SARIF's human-readable rule name.
fn pascal_case(id: &str) -> String {
    id.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// The rule's source file, which holds its documentation (one file per rule, house style).
fn help_uri(meta: &RuleMeta) -> String {
    format!(
        "{INFORMATION_URI}/blob/main/src/rules/{}/{}.rs",
        meta.category.as_str(),
        meta.id.replace('-', "_")
    )
}

/// An `example` or `instead` section is Elixir code unless it reads as a sentence (ends with a
/// full stop) or is already Markdown.
fn is_code(text: &str) -> bool {
    !text.contains("```") && !text.trim_end().ends_with('.')
}

fn help(meta: &RuleMeta) -> MultiformatMessage {
    let docs = &meta.docs;
    let mut text = format!(
        "{}\n\nWhat it finds: {}\n\nWhy it matters: {}\n",
        meta.summary, docs.what_it_finds, docs.why_it_matters
    );
    let mut markdown = format!(
        "{}\n\n## What it finds\n\n{}\n\n## Why it matters\n\n{}\n",
        meta.summary, docs.what_it_finds, docs.why_it_matters
    );
    for (title, body) in [("Example", docs.example), ("Instead", docs.instead)] {
        if is_code(body) {
            let indented: Vec<String> = body.lines().map(|l| format!("    {l}")).collect();
            let _ = write!(text, "\n{title}:\n{}\n", indented.join("\n"));
            let _ = write!(markdown, "\n## {title}\n\n```elixir\n{body}\n```\n");
        } else {
            let _ = write!(text, "\n{title}: {body}\n");
            let _ = write!(markdown, "\n## {title}\n\n{body}\n");
        }
    }
    if !meta.parameters.is_empty() {
        text.push_str("\nParameters:\n");
        markdown.push_str("\n## Parameters\n\n");
        for parameter in &meta.parameters {
            let _ = writeln!(
                text,
                "  {} (default {}): {}",
                parameter.name, parameter.default, parameter.description
            );
            let _ = writeln!(
                markdown,
                "- `{}` (default `{}`): {}",
                parameter.name, parameter.default, parameter.description
            );
        }
    }
    let models: Vec<String> = [
        meta.credo_check.map(|c| format!("Credo's `{c}`")),
        meta.sobelow_check.map(|c| format!("Sobelow's `{c}`")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !models.is_empty() {
        let sentence = format!("Follows {}.", models.join(" and "));
        let _ = write!(text, "\n{}\n", sentence.replace('`', ""));
        let _ = write!(markdown, "\n{sentence}\n");
    }
    MultiformatMessage { text, markdown }
}

/// Percent-encodes a `/`-separated relative path as a URI reference (RFC 3986): everything
/// but unreserved characters and `/`, so a space, a `#` or a `:` in a file name (which would
/// read as a scheme) cannot change what the URI means. Non-ASCII is encoded as UTF-8.
fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

/// The root as an absolute `file:` URI ending in `/`, as `originalUriBaseIds` requires
/// (SARIF §3.14.14). A Windows root `C:\src` becomes `file:///C:/src/`.
fn root_uri(root: &str) -> String {
    let path = root.replace('\\', "/");
    let bytes = path.as_bytes();
    let mut uri = String::from("file://");
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        uri.push('/');
        uri.push_str(&path[..2]);
        uri.push_str(&encode_uri_path(&path[2..]));
    } else {
        if !path.starts_with('/') {
            uri.push('/');
        }
        uri.push_str(&encode_uri_path(&path));
    }
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::super::analysis::fixtures;
    use super::*;

    fn sarif() -> serde_json::Value {
        let report = fixtures::report();
        let metas = fixtures::metas();
        let metas: Vec<&RuleMeta> = metas.iter().collect();
        let mut out = Vec::new();
        write(&report, &metas, &mut out).unwrap();
        assert!(out.ends_with(b"\n"));
        serde_json::from_slice(&out).unwrap()
    }

    /// The official SARIF 2.1.0 schema, vendored from the npm package
    /// `@microsoft/sarif-multitool-linux` 5.7.0 (`package/sarif-2.1.0.json`). It declares
    /// draft 2020-12, whose meta-schema the validator carries, and has no remote references, so
    /// validation needs no network.
    fn official_validator() -> jsonschema::Validator {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sarif-2.1.0.json");
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the vendored SARIF schema compiles")
    }

    fn violations(validator: &jsonschema::Validator, value: &serde_json::Value) -> Vec<String> {
        validator
            .iter_errors(value)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect()
    }

    #[test]
    fn validates_against_the_official_schema() {
        let log = sarif();
        let validator = official_validator();
        let errors = violations(&validator, &log);
        assert!(errors.is_empty(), "{errors:#?}");
        // The fixture exercises what the schema constrains: every level, a multi-line region,
        // Unicode paths and columns, notifications for files and a disabled rule.
        let results = log["runs"][0]["results"].as_array().unwrap();
        let levels: std::collections::BTreeSet<&str> = results
            .iter()
            .map(|r| r["level"].as_str().unwrap())
            .collect();
        assert_eq!(levels, ["error", "note", "warning"].into_iter().collect());
        let notifications = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        assert_eq!(notifications.len(), 3);
    }

    #[test]
    fn the_validator_is_not_vacuous() {
        let validator = official_validator();
        let mut log = sarif();
        log["runs"][0]["results"][0]["level"] = "fatal".into();
        log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"] =
            0.into();
        log["runs"][0]["columnKind"] = "bytes".into();
        let errors = violations(&validator, &log);
        assert_eq!(errors.len(), 3, "{errors:#?}");
    }

    #[test]
    fn snapshot() {
        let log = sarif();
        insta::assert_snapshot!(serde_json::to_string_pretty(&log).unwrap());
    }

    #[test]
    fn results_point_at_their_rules_and_the_root() {
        let log = sarif();
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        for result in run["results"].as_array().unwrap() {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            let location = &result["locations"][0]["physicalLocation"]["artifactLocation"];
            assert_eq!(location["uriBaseId"], SRCROOT);
            assert!(!location["uri"].as_str().unwrap().starts_with('/'));
            assert!(result["partialFingerprints"][FINGERPRINT_KEY].is_string());
        }
        assert_eq!(
            run["originalUriBaseIds"][SRCROOT]["uri"],
            "file:///home/dev/my%20shop/"
        );
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);
        // Unselected rules are left out; rules without metadata still get a descriptor.
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert!(!ids.contains(&"abc-size"));
        assert!(ids.contains(&"unused-suppression"));
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn output_is_deterministic() {
        let report = fixtures::report();
        let metas = fixtures::metas();
        let forward: Vec<&RuleMeta> = metas.iter().collect();
        let backward: Vec<&RuleMeta> = metas.iter().rev().collect();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write(&report, &forward, &mut a).unwrap();
        write(&report, &backward, &mut b).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(encode_uri_path("lib/shop/café.ex"), "lib/shop/caf%C3%A9.ex");
        assert_eq!(encode_uri_path("lib/a b#c:d.ex"), "lib/a%20b%23c%3Ad.ex");
        assert_eq!(root_uri("/srv/app"), "file:///srv/app/");
        assert_eq!(root_uri("/srv/app/"), "file:///srv/app/");
        assert_eq!(root_uri(r"C:\work\my app"), "file:///C:/work/my%20app/");
    }

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(pascal_case("unsafe-to-atom"), "UnsafeToAtom");
        assert_eq!(pascal_case("io-inspect"), "IoInspect");
    }
}
