//! The report as a consumer sees it: strict structs that reject unknown fields, so any change
//! to the JSON contract shows up here first (ripgrep pins its JSON output the same way).
#![allow(dead_code)] // reason: each test binary reads the fields it needs

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub command: String,
    pub root: String,
    pub summary: Summary,
    pub files: Vec<FileRecord>,
    pub graph: Option<Graph>,
    pub runtime: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub files: u64,
    pub by_status: StatusCounts,
    pub bytes: u64,
    pub lines: u64,
    pub modules: u64,
    pub functions: u64,
    pub metrics: ProjectMetrics,
    pub projects: Vec<Project>,
    pub duplicate_modules: Vec<DuplicateModule>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StatusCounts {
    pub ok: u64,
    pub syntax_error: u64,
    pub failed: u64,
    pub timeout: u64,
    pub skipped: u64,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub path: String,
    pub app: Option<String>,
    pub apps_path: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateModule {
    pub name: String,
    pub locations: Vec<Location>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub path: String,
    pub line: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
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
    #[serde(default)]
    pub calls: Vec<Call>,
    pub mix_project: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
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
    #[serde(default)]
    pub calls: Vec<Call>,
    #[serde(default)]
    pub references: Vec<Reference>,
    pub metrics: ModuleMetrics,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Implementation {
    pub protocol: String,
    #[serde(rename = "for")]
    pub for_type: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
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

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    pub name: String,
    pub line: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Callback {
    pub name: String,
    pub arity: u32,
    pub macro_callback: bool,
    pub line: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
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
    pub metrics: Option<FunctionMetrics>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Delegate {
    pub to: String,
    #[serde(rename = "as")]
    pub target_name: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    pub id: String,
    pub line: u32,
    pub end_line: u32,
    pub guard: Option<String>,
    #[serde(default)]
    pub head: bool,
    #[serde(default)]
    pub calls: Vec<Call>,
    #[serde(default)]
    pub references: Vec<Reference>,
    pub metrics: Option<ClauseMetrics>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DynamicDefinition {
    pub kind: String,
    pub head: String,
    pub line: u32,
    pub end_line: u32,
    #[serde(default)]
    pub calls: Vec<Call>,
    #[serde(default)]
    pub references: Vec<Reference>,
    pub metrics: Option<ClauseMetrics>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Injected {
    pub kind: String,
    pub name: String,
    pub arity: Option<u32>,
    pub line: u32,
    pub origin: Option<String>,
    pub options: Option<String>,
    #[serde(rename = "as")]
    pub alias_as: Option<String>,
    pub only: Option<Vec<String>>,
    pub except: Option<Vec<String>>,
    pub metrics: Option<ClauseMetrics>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Call {
    pub line: u32,
    pub column: u32,
    pub form: String,
    pub target: String,
    pub module: Option<String>,
    pub name: Option<String>,
    pub arity: Option<u32>,
    #[serde(default, rename = "macro")]
    pub is_macro: bool,
    #[serde(default)]
    pub imported: bool,
    #[serde(default)]
    pub piped: bool,
    #[serde(default)]
    pub quoted: bool,
    #[serde(default)]
    pub runtime: bool,
    #[serde(default)]
    pub undefined: bool,
    #[serde(default)]
    pub candidates: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub module: String,
    pub kind: String,
    pub line: u32,
    pub column: u32,
    #[serde(default)]
    pub runtime: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Graph {
    pub modules: Vec<GraphModule>,
    pub edges: Vec<Edge>,
    pub cycles: Vec<Cycle>,
    pub call_targets: CallTargets,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GraphModule {
    pub name: String,
    pub fan_in: u32,
    pub fan_out: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: String,
    pub reason: String,
    pub path: String,
    pub line: u32,
    pub via: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Cycle {
    pub modules: Vec<String>,
    pub compile_connected: bool,
    pub compile_edges: Vec<EdgeEnds>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EdgeEnds {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CallTargets {
    pub total: u64,
    pub local: u64,
    pub project: u64,
    pub kernel: u64,
    pub special_form: u64,
    pub external: u64,
    pub erlang: u64,
    pub dynamic: u64,
    pub unknown: u64,
}

impl FileRecord {
    /// Every call of the file with its caller: `top` (a script's top level), `M` (a module
    /// body), `M.f/2#0` (clause 0 of `M.f/2`) or `M.dynamic#0`, in report order.
    pub fn all_calls(&self) -> Vec<(String, &Call)> {
        let mut out: Vec<(String, &Call)> = self.calls.iter().map(|c| ("top".into(), c)).collect();
        for module in &self.modules {
            out.extend(module.calls.iter().map(|c| (module.name.clone(), c)));
            for function in &module.functions {
                for (index, clause) in function.clauses.iter().enumerate() {
                    let owner = format!(
                        "{}.{}/{}#{index}",
                        module.name, function.name, function.arity
                    );
                    out.extend(clause.calls.iter().map(|c| (owner.clone(), c)));
                }
            }
            for (index, definition) in module.dynamic_definitions.iter().enumerate() {
                let owner = format!("{}.dynamic#{index}", module.name);
                out.extend(definition.calls.iter().map(|c| (owner.clone(), c)));
            }
        }
        out
    }
}

impl FileRecord {
    /// Every module reference of the file with its owner, named as in [`all_calls`].
    pub fn all_references(&self) -> Vec<(String, &Reference)> {
        let mut out = Vec::new();
        for module in &self.modules {
            out.extend(module.references.iter().map(|r| (module.name.clone(), r)));
            for function in &module.functions {
                for (index, clause) in function.clauses.iter().enumerate() {
                    let owner = format!(
                        "{}.{}/{}#{index}",
                        module.name, function.name, function.arity
                    );
                    out.extend(clause.references.iter().map(|r| (owner.clone(), r)));
                }
            }
            for (index, definition) in module.dynamic_definitions.iter().enumerate() {
                let owner = format!("{}.dynamic#{index}", module.name);
                out.extend(definition.references.iter().map(|r| (owner.clone(), r)));
            }
        }
        out
    }
}

impl Call {
    /// `12:5 remote project Calls.Helpers.double/1 [imported, piped]`: one line for exact
    /// comparisons.
    pub fn describe(&self) -> String {
        let module = self.module.as_deref().unwrap_or("?");
        let name = self.name.as_deref().unwrap_or("?");
        let arity = self.arity.map_or("?".to_string(), |a| a.to_string());
        let mut flags = Vec::new();
        for (set, flag) in [
            (self.is_macro, "macro"),
            (self.imported, "imported"),
            (self.piped, "piped"),
            (self.quoted, "quoted"),
            (self.runtime, "runtime"),
            (self.undefined, "undefined"),
        ] {
            if set {
                flags.push(flag.to_string());
            }
        }
        if !self.candidates.is_empty() {
            flags.push(format!("candidates: {}", self.candidates.join(" ")));
        }
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", flags.join(", "))
        };
        format!(
            "{}:{} {} {} {module}.{name}/{arity}{flags}",
            self.line, self.column, self.form, self.target
        )
    }
}

/// Issue [3b]'s metrics objects (`docs/metrics.md`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClauseMetrics {
    pub cyclomatic: Option<u32>,
    pub perceived: Option<u32>,
    pub nesting: u32,
    pub nesting_line: u32,
    pub abc: Option<AbcSize>,
    pub arity: u32,
    pub lines: u32,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct AbcSize {
    pub a: u32,
    pub b: u32,
    pub c: u32,
    pub size: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FunctionMetrics {
    pub clauses: u32,
    pub cyclomatic: Option<u32>,
    pub perceived: Option<u32>,
    pub nesting: u32,
    pub abc: Option<u32>,
    pub arity: u32,
    pub lines: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ModuleMetrics {
    pub public_functions: u32,
    pub private_functions: u32,
    pub lines: u32,
    pub cyclomatic_sum: u32,
    pub cyclomatic_max: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProjectMetrics {
    pub modules: u64,
    pub public_functions: u64,
    pub private_functions: u64,
    pub scored_functions: u64,
    pub scored_clauses: u64,
    pub module_lines: u64,
    pub cyclomatic_sum: u64,
    pub cyclomatic_max: u32,
    pub perceived_max: u32,
    pub nesting_max: u32,
    pub abc_max: u32,
    pub arity_max: u32,
    pub distribution: Vec<ComplexityBand>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ComplexityBand {
    pub min: u32,
    pub max: Option<u32>,
    pub functions: u64,
}

impl FileRecord {
    /// The record without what the project phase decides from other files: how its calls
    /// resolved (a call into a module whose file failed cannot resolve to it) and its
    /// references' expansions. What the file alone shows stays.
    pub fn file_local(&self) -> FileRecord {
        fn local(call: &mut Call) {
            if call.form != "remote" && call.form != "capture" && call.form != "apply" {
                call.module = None;
            }
            call.target = String::new();
            call.is_macro = false;
            call.imported = false;
            call.undefined = false;
            call.candidates.clear();
        }
        let mut record = self.clone();
        record.calls.iter_mut().for_each(local);
        for module in &mut record.modules {
            module.calls.iter_mut().for_each(local);
            for clause in module.functions.iter_mut().flat_map(|f| &mut f.clauses) {
                clause.calls.iter_mut().for_each(local);
            }
            for definition in &mut module.dynamic_definitions {
                definition.calls.iter_mut().for_each(local);
            }
        }
        record
    }
}
