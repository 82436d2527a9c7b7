//! The report as a consumer sees it: strict structs that reject unknown fields, so any change
//! to the JSON contract shows up here first (ripgrep pins its JSON output the same way).
#![allow(dead_code)] // reason: each test binary reads the fields it needs

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub command: String,
    pub root: String,
    pub summary: Summary,
    pub files: Vec<FileRecord>,
    pub runtime: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub files: u64,
    pub by_status: StatusCounts,
    pub bytes: u64,
    pub lines: u64,
    pub modules: u64,
    pub functions: u64,
    pub projects: Vec<Project>,
    pub duplicate_modules: Vec<DuplicateModule>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StatusCounts {
    pub ok: u64,
    pub syntax_error: u64,
    pub failed: u64,
    pub timeout: u64,
    pub skipped: u64,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub path: String,
    pub app: Option<String>,
    pub apps_path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateModule {
    pub name: String,
    pub locations: Vec<Location>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub path: String,
    pub line: u32,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileRecord {
    pub path: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub bytes: u64,
    pub lines: u32,
    pub hash: Option<String>,
    pub role: String,
    pub project: Option<String>,
    pub errors: Vec<SyntaxError>,
    pub errors_truncated: Option<u32>,
    pub modules: Vec<Module>,
    pub mix_project: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Module {
    pub id: String,
    pub name: String,
    pub definition: String,
    pub kinds: Vec<String>,
    pub implements: Option<Implementation>,
    pub parent: Option<String>,
    pub line: u32,
    pub end_line: u32,
    pub directives: Vec<Directive>,
    pub attributes: Vec<Attribute>,
    pub moduledoc: String,
    pub derives: Vec<String>,
    pub struct_fields: Option<Vec<String>>,
    pub callbacks: Vec<Callback>,
    pub functions: Vec<Function>,
    pub dynamic_definitions: Vec<DynamicDefinition>,
    pub injected: Vec<Injected>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Implementation {
    pub protocol: String,
    #[serde(rename = "for")]
    pub for_type: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Directive {
    pub kind: String,
    pub target: String,
    pub line: u32,
    #[serde(rename = "as")]
    pub alias_as: Option<String>,
    pub only: Option<Vec<String>>,
    pub except: Option<Vec<String>>,
    pub options: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    pub name: String,
    pub line: u32,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Callback {
    pub name: String,
    pub arity: u32,
    pub macro_callback: bool,
    pub line: u32,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Function {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub arity: u32,
    pub min_arity: u32,
    pub line: u32,
    pub end_line: u32,
    pub doc: String,
    pub spec: bool,
    #[serde(rename = "impl")]
    pub impl_attribute: bool,
    pub delegate: Option<Delegate>,
    pub clauses: Vec<Clause>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Delegate {
    pub to: String,
    #[serde(rename = "as")]
    pub target_name: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    pub id: String,
    pub line: u32,
    pub end_line: u32,
    pub guard: Option<String>,
    #[serde(default)]
    pub head: bool,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DynamicDefinition {
    pub kind: String,
    pub head: String,
    pub line: u32,
    pub end_line: u32,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Injected {
    pub kind: String,
    pub name: String,
    pub arity: Option<u32>,
    pub line: u32,
    pub origin: Option<String>,
    pub options: Option<String>,
}
