//! The JSON of a file record, written straight into a byte buffer.
//!
//! A `parse` report is mostly its `files` array (78 MB for the 4,000-file bench corpus, 48 MB of
//! it call sites), and serde_json spent ~18 instructions a byte on it: every key of every call
//! went through string escaping and a writer call. Here the keys are literal bytes, integers go
//! through `itoa`, and the objects that repeat by the hundred thousand (calls, references,
//! clauses, functions and their metrics) are written field by field. Everything else (module
//! directives, attributes, syntax errors, ...) is handed to serde_json as before.
//!
//! The serde derives on the report types stay the definition of the format (the JSON Schema
//! is generated from them): `tests::fast_encoding_equals_serde` encodes every fixture, and
//! records with every optional field set, both ways and wants the same bytes.

use serde::Serialize;

use crate::model::FileRecord;
use crate::model::{AbcSize, ClauseMetrics, FunctionMetrics};
use crate::model::{
    Call, CallForm, CallTarget, Clause, DocState, DynamicDefinition, Function, FunctionKind,
    Module, Reference, ReferenceKind, Symbol,
};

/// Appends the JSON of `file` (one object, no newline) to `out`.
pub(crate) fn file(out: &mut Vec<u8>, file: &FileRecord) {
    out.extend_from_slice(b"{\"path\":");
    string(out, &file.path);
    out.extend_from_slice(b",\"status\":");
    serde(out, &file.status);
    optional(out, b",\"reason\":", file.reason.as_ref(), serde);
    optional(out, b",\"message\":", file.message.as_deref(), string);
    out.extend_from_slice(b",\"bytes\":");
    integer(out, file.bytes);
    out.extend_from_slice(b",\"lines\":");
    integer(out, file.lines);
    optional(out, b",\"hash\":", file.hash.as_deref(), string);
    out.extend_from_slice(b",\"role\":");
    serde(out, &file.role);
    optional(out, b",\"project\":", file.project.as_deref(), string);
    out.extend_from_slice(b",\"errors\":");
    serde(out, &file.errors);
    optional(
        out,
        b",\"errors_truncated\":",
        file.errors_truncated,
        integer,
    );
    out.extend_from_slice(b",\"modules\":");
    list(out, &file.modules, module);
    calls_field(out, &file.calls);
    optional(out, b",\"mix_project\":", file.mix_project.as_ref(), serde);
    out.push(b'}');
}

fn module(out: &mut Vec<u8>, module: &Module) {
    out.extend_from_slice(b"{\"id\":");
    string(out, &module.id);
    out.extend_from_slice(b",\"name\":");
    string(out, &module.name);
    out.extend_from_slice(b",\"definition\":");
    serde(out, &module.definition);
    out.extend_from_slice(b",\"kinds\":");
    serde(out, &module.kinds);
    optional(out, b",\"implements\":", module.implements.as_ref(), serde);
    optional(out, b",\"parent\":", module.parent.as_deref(), string);
    out.extend_from_slice(b",\"line\":");
    integer(out, module.line);
    out.extend_from_slice(b",\"end_line\":");
    integer(out, module.end_line);
    out.extend_from_slice(b",\"directives\":");
    serde(out, &module.directives);
    out.extend_from_slice(b",\"attributes\":");
    serde(out, &module.attributes);
    out.extend_from_slice(b",\"moduledoc\":");
    out.extend_from_slice(doc_state(module.moduledoc));
    out.extend_from_slice(b",\"derives\":");
    serde(out, &module.derives);
    optional(
        out,
        b",\"struct_fields\":",
        module.struct_fields.as_ref(),
        serde,
    );
    out.extend_from_slice(b",\"callbacks\":");
    serde(out, &module.callbacks);
    out.extend_from_slice(b",\"functions\":");
    list(out, &module.functions, function);
    out.extend_from_slice(b",\"dynamic_definitions\":");
    list(out, &module.dynamic_definitions, dynamic_definition);
    out.extend_from_slice(b",\"injected\":");
    serde(out, &module.injected);
    calls_field(out, &module.calls);
    references_field(out, &module.references);
    optional(out, b",\"metrics\":", module.metrics.as_ref(), serde);
    out.push(b'}');
}

fn function(out: &mut Vec<u8>, function: &Function) {
    out.extend_from_slice(b"{\"id\":");
    string(out, &function.id);
    out.extend_from_slice(b",\"name\":");
    string(out, &function.name);
    out.extend_from_slice(b",\"kind\":");
    out.extend_from_slice(function_kind(function.kind));
    out.extend_from_slice(b",\"arity\":");
    integer(out, function.arity);
    out.extend_from_slice(b",\"min_arity\":");
    integer(out, function.min_arity);
    out.extend_from_slice(b",\"line\":");
    integer(out, function.line);
    out.extend_from_slice(b",\"end_line\":");
    integer(out, function.end_line);
    out.extend_from_slice(b",\"doc\":");
    out.extend_from_slice(doc_state(function.doc));
    out.extend_from_slice(b",\"spec\":");
    boolean(out, function.spec);
    out.extend_from_slice(b",\"impl\":");
    boolean(out, function.impl_attribute);
    optional(out, b",\"delegate\":", function.delegate.as_ref(), serde);
    out.extend_from_slice(b",\"clauses\":");
    list(out, &function.clauses, clause);
    optional(
        out,
        b",\"metrics\":",
        function.metrics.as_ref(),
        function_metrics,
    );
    out.push(b'}');
}

fn clause(out: &mut Vec<u8>, clause: &Clause) {
    out.extend_from_slice(b"{\"id\":");
    string(out, &clause.id);
    out.extend_from_slice(b",\"line\":");
    integer(out, clause.line);
    out.extend_from_slice(b",\"end_line\":");
    integer(out, clause.end_line);
    optional(out, b",\"guard\":", clause.guard.as_deref(), string);
    if clause.head {
        out.extend_from_slice(b",\"head\":true");
    }
    calls_field(out, &clause.calls);
    references_field(out, &clause.references);
    optional(
        out,
        b",\"metrics\":",
        clause.metrics.as_ref(),
        clause_metrics,
    );
    out.push(b'}');
}

fn dynamic_definition(out: &mut Vec<u8>, definition: &DynamicDefinition) {
    out.extend_from_slice(b"{\"kind\":");
    out.extend_from_slice(function_kind(definition.kind));
    out.extend_from_slice(b",\"head\":");
    string(out, &definition.head);
    out.extend_from_slice(b",\"line\":");
    integer(out, definition.line);
    out.extend_from_slice(b",\"end_line\":");
    integer(out, definition.end_line);
    calls_field(out, &definition.calls);
    references_field(out, &definition.references);
    optional(
        out,
        b",\"metrics\":",
        definition.metrics.as_ref(),
        clause_metrics,
    );
    out.push(b'}');
}

/// `,"calls":[...]`, absent when there are none.
fn calls_field(out: &mut Vec<u8>, calls: &[Call]) {
    if !calls.is_empty() {
        out.extend_from_slice(b",\"calls\":");
        list(out, calls, call);
    }
}

/// `,"references":[...]`, absent when there are none.
fn references_field(out: &mut Vec<u8>, references: &[Reference]) {
    if !references.is_empty() {
        out.extend_from_slice(b",\"references\":");
        list(out, references, reference);
    }
}

fn call(out: &mut Vec<u8>, call: &Call) {
    out.extend_from_slice(b"{\"line\":");
    integer(out, call.line);
    out.extend_from_slice(b",\"column\":");
    integer(out, call.column);
    out.extend_from_slice(b",\"form\":");
    out.extend_from_slice(call_form(call.form));
    out.extend_from_slice(b",\"target\":");
    out.extend_from_slice(call_target(call.target));
    optional(
        out,
        b",\"module\":",
        call.module.as_ref().map(Symbol::as_str),
        string,
    );
    optional(
        out,
        b",\"name\":",
        call.name.as_ref().map(Symbol::as_str),
        string,
    );
    optional(out, b",\"arity\":", call.arity, integer);
    for (set, field) in [
        (call.is_macro, &b",\"macro\":true"[..]),
        (call.imported, b",\"imported\":true"),
        (call.piped, b",\"piped\":true"),
        (call.quoted, b",\"quoted\":true"),
        (call.runtime, b",\"runtime\":true"),
        (call.undefined, b",\"undefined\":true"),
    ] {
        if set {
            out.extend_from_slice(field);
        }
    }
    optional(
        out,
        b",\"candidates\":",
        call.imports.as_deref(),
        |out, candidates| {
            list(out, candidates, |out, (module, _)| {
                string(out, module.as_str())
            });
        },
    );
    out.push(b'}');
}

fn reference(out: &mut Vec<u8>, reference: &Reference) {
    out.extend_from_slice(b"{\"module\":");
    string(out, reference.module.as_str());
    out.extend_from_slice(match reference.kind {
        ReferenceKind::Alias => b",\"kind\":\"alias\"",
        ReferenceKind::Struct => b",\"kind\":\"struct\"",
    });
    out.extend_from_slice(b",\"line\":");
    integer(out, reference.line);
    out.extend_from_slice(b",\"column\":");
    integer(out, reference.column);
    if reference.runtime {
        out.extend_from_slice(b",\"runtime\":true");
    }
    out.push(b'}');
}

fn clause_metrics(out: &mut Vec<u8>, metrics: &ClauseMetrics) {
    out.push(b'{');
    let mut first = true;
    let mut key = |out: &mut Vec<u8>, name: &[u8]| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        out.extend_from_slice(name);
    };
    if let Some(cyclomatic) = metrics.cyclomatic {
        key(out, b"\"cyclomatic\":");
        integer(out, cyclomatic);
    }
    if let Some(perceived) = metrics.perceived {
        key(out, b"\"perceived\":");
        integer(out, perceived);
    }
    key(out, b"\"nesting\":");
    integer(out, metrics.nesting);
    key(out, b"\"nesting_line\":");
    integer(out, metrics.nesting_line);
    if let Some(abc) = metrics.abc {
        key(out, b"\"abc\":");
        abc_size(out, abc);
    }
    key(out, b"\"arity\":");
    integer(out, metrics.arity);
    key(out, b"\"lines\":");
    integer(out, metrics.lines);
    out.push(b'}');
}

fn abc_size(out: &mut Vec<u8>, abc: AbcSize) {
    out.extend_from_slice(b"{\"a\":");
    integer(out, abc.a);
    out.extend_from_slice(b",\"b\":");
    integer(out, abc.b);
    out.extend_from_slice(b",\"c\":");
    integer(out, abc.c);
    out.extend_from_slice(b",\"size\":");
    integer(out, abc.size);
    out.push(b'}');
}

fn function_metrics(out: &mut Vec<u8>, metrics: &FunctionMetrics) {
    out.extend_from_slice(b"{\"clauses\":");
    integer(out, metrics.clauses);
    optional(out, b",\"cyclomatic\":", metrics.cyclomatic, integer);
    optional(out, b",\"perceived\":", metrics.perceived, integer);
    out.extend_from_slice(b",\"nesting\":");
    integer(out, metrics.nesting);
    optional(out, b",\"abc\":", metrics.abc, integer);
    out.extend_from_slice(b",\"arity\":");
    integer(out, metrics.arity);
    out.extend_from_slice(b",\"lines\":");
    integer(out, metrics.lines);
    out.push(b'}');
}

fn call_form(form: CallForm) -> &'static [u8] {
    match form {
        CallForm::Local => b"\"local\"",
        CallForm::Remote => b"\"remote\"",
        CallForm::Anonymous => b"\"anonymous\"",
        CallForm::Capture => b"\"capture\"",
        CallForm::Apply => b"\"apply\"",
        CallForm::Delegate => b"\"delegate\"",
        CallForm::Sigil => b"\"sigil\"",
    }
}

fn call_target(target: CallTarget) -> &'static [u8] {
    match target {
        CallTarget::Local => b"\"local\"",
        CallTarget::Project => b"\"project\"",
        CallTarget::Kernel => b"\"kernel\"",
        CallTarget::SpecialForm => b"\"special_form\"",
        CallTarget::External => b"\"external\"",
        CallTarget::Erlang => b"\"erlang\"",
        CallTarget::Dynamic => b"\"dynamic\"",
        CallTarget::Unknown => b"\"unknown\"",
    }
}

fn function_kind(kind: FunctionKind) -> &'static [u8] {
    match kind {
        FunctionKind::Def => b"\"def\"",
        FunctionKind::Defp => b"\"defp\"",
        FunctionKind::Defmacro => b"\"defmacro\"",
        FunctionKind::Defmacrop => b"\"defmacrop\"",
        FunctionKind::Defguard => b"\"defguard\"",
        FunctionKind::Defguardp => b"\"defguardp\"",
        FunctionKind::Defdelegate => b"\"defdelegate\"",
    }
}

fn doc_state(state: DocState) -> &'static [u8] {
    match state {
        DocState::Present => b"\"present\"",
        DocState::False => b"\"false\"",
        DocState::Absent => b"\"absent\"",
    }
}

/// `key` and the value, only when there is one (serde's `skip_serializing_if = "Option::is_none"`).
fn optional<T>(
    out: &mut Vec<u8>,
    key: &[u8],
    value: Option<T>,
    write: impl FnOnce(&mut Vec<u8>, T),
) {
    if let Some(value) = value {
        out.extend_from_slice(key);
        write(out, value);
    }
}

fn list<T>(out: &mut Vec<u8>, items: &[T], mut item: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, value) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(out, value);
    }
    out.push(b']');
}

/// A JSON string: copied as it is unless a byte needs escaping (a quote, a backslash or a
/// control character), which serde_json then escapes as it always did.
fn string(out: &mut Vec<u8>, text: &str) {
    if text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        serde(out, text);
    } else {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

fn integer(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

fn boolean(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

fn serde<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing into a Vec cannot fail, and these types serialise without error.
    serde_json::to_writer(&mut *out, value).expect("report values serialise");
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::discover::{discover, DiscoverOptions};
    use crate::model::global_symbol;
    use crate::model::Project;
    use crate::model::{Delegate, Implementation};
    use crate::model::{Reason, Report, RuntimeInfo, Summary, Tool};
    use crate::project::Repository;
    use crate::subsystems::parsing::parser::{process, FileOptions};

    /// Every fixture (and the test data), parsed with calls and metrics, after the project phase.
    fn fixture_report() -> Report {
        let paths = [PathBuf::from("fixtures"), PathBuf::from("tests")];
        let options = DiscoverOptions {
            exclude: Vec::new(),
            follow: false,
        };
        let discovery = discover(&paths, &options).expect("fixtures are readable");
        let file_options = FileOptions {
            max_file_size: 10 << 20,
            parse_timeout: Duration::from_secs(60),
            calls: true,
            metrics: true,
            analysis: None,
            cache: None,
        };
        let records: Vec<FileRecord> = discovery
            .entries
            .iter()
            .map(|entry| process(entry, &file_options))
            .collect();
        assert!(records.len() > 100, "only {} fixture files", records.len());
        let projects = records
            .iter()
            .filter_map(|r| r.mix_project.clone())
            .collect();
        let (files, graph) = Repository::build(
            records,
            projects,
            true,
            &crate::otp::cancel::CancelToken::new(),
        )
        .into_files_and_graph();
        Report {
            schema_version: crate::model::SCHEMA_VERSION,
            tool: Tool::current(),
            command: "parse".into(),
            root: "/r\"oot".into(),
            summary: Summary::default(),
            files,
            graph: Some(graph),
            runtime: RuntimeInfo::default(),
        }
    }

    fn assert_same(report: &Report) {
        for file in &report.files {
            let mut fast = Vec::new();
            super::file(&mut fast, file);
            let reference = serde_json::to_vec(file).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&reference),
                "{}",
                file.path
            );
        }
        let mut fast = Vec::new();
        super::super::json::write(report, &mut fast, None).unwrap();
        let mut reference = serde_json::to_vec(report).unwrap();
        reference.push(b'\n');
        assert!(fast == reference, "the whole report differs");
        let mut fast = Vec::new();
        super::super::ndjson::write(report, &mut fast, None).unwrap();
        let mut reference = Vec::new();
        super::super::ndjson::write_with_serde(report, &mut reference);
        assert!(fast == reference, "the NDJSON report differs");
    }

    #[test]
    fn fast_encoding_equals_serde() {
        assert_same(&fixture_report());
    }

    /// The optional fields the fixtures leave unset (or always set) are set (or unset) here,
    /// with strings that need escaping.
    #[test]
    fn fast_encoding_equals_serde_with_every_option_flipped() {
        let mut report = fixture_report();
        let odd = "q\"uote \\ back\nline \u{1} é 日本";
        let symbol = global_symbol(odd);
        for (i, file) in report.files.iter_mut().enumerate() {
            let set = i % 2 == 0;
            file.reason = set.then_some(Reason::Binary);
            file.message = set.then(|| odd.to_string());
            file.hash = (!set).then(|| "abc".to_string());
            file.project = set.then(|| odd.to_string());
            file.errors_truncated = set.then_some(7);
            file.mix_project = set.then(|| Project {
                path: odd.into(),
                app: Some("app".into()),
                apps_path: None,
            });
            file.path = format!("{odd}{i}");
            for module in &mut file.modules {
                module.name = odd.into();
                module.implements = set.then(|| Implementation {
                    protocol: odd.into(),
                    for_type: "Any".into(),
                });
                module.parent = set.then(|| odd.into());
                module.struct_fields = set.then(|| vec![odd.into()]);
                module.metrics = if set { module.metrics.take() } else { None };
                for function in &mut module.functions {
                    function.name = odd.into();
                    function.spec = set;
                    function.impl_attribute = !set;
                    function.delegate = set.then(|| Delegate {
                        to: odd.into(),
                        target_name: "f".into(),
                    });
                    if let Some(metrics) = &mut function.metrics {
                        metrics.cyclomatic = set.then_some(3);
                        metrics.perceived = (!set).then_some(4);
                        metrics.abc = set.then_some(5);
                    }
                    for clause in &mut function.clauses {
                        clause.guard = set.then(|| odd.into());
                        clause.head = set;
                        if let Some(metrics) = &mut clause.metrics {
                            metrics.cyclomatic = (!set).then_some(1);
                            metrics.perceived = set.then_some(2);
                            metrics.abc = if set { None } else { metrics.abc };
                        }
                        for call in &mut clause.calls {
                            call.module = set.then_some(symbol);
                            call.name = (!set).then_some(symbol);
                            call.arity = set.then_some(u32::MAX);
                            call.is_macro = set;
                            call.imported = !set;
                            call.piped = set;
                            call.quoted = !set;
                            call.runtime = set;
                            call.undefined = !set;
                            call.imports =
                                set.then(|| vec![(symbol, true), (symbol, false)].into());
                        }
                        for reference in &mut clause.references {
                            reference.module = symbol;
                            reference.runtime = set;
                        }
                    }
                }
                for definition in &mut module.dynamic_definitions {
                    definition.head = odd.into();
                    definition.metrics = if set { definition.metrics.take() } else { None };
                }
            }
        }
        assert_same(&report);
    }

    #[test]
    fn enum_tables_equal_serde() {
        let json = |value: &dyn erased::Json| value.json();
        for form in [
            CallForm::Local,
            CallForm::Remote,
            CallForm::Anonymous,
            CallForm::Capture,
            CallForm::Apply,
            CallForm::Delegate,
            CallForm::Sigil,
        ] {
            assert_eq!(call_form(form), json(&form).as_slice());
        }
        for target in [
            CallTarget::Local,
            CallTarget::Project,
            CallTarget::Kernel,
            CallTarget::SpecialForm,
            CallTarget::External,
            CallTarget::Erlang,
            CallTarget::Dynamic,
            CallTarget::Unknown,
        ] {
            assert_eq!(call_target(target), json(&target).as_slice());
        }
        for kind in [
            FunctionKind::Def,
            FunctionKind::Defp,
            FunctionKind::Defmacro,
            FunctionKind::Defmacrop,
            FunctionKind::Defguard,
            FunctionKind::Defguardp,
            FunctionKind::Defdelegate,
        ] {
            assert_eq!(function_kind(kind), json(&kind).as_slice());
        }
        for state in [DocState::Present, DocState::False, DocState::Absent] {
            assert_eq!(doc_state(state), json(&state).as_slice());
        }
    }

    mod erased {
        pub(super) trait Json {
            fn json(&self) -> Vec<u8>;
        }
        impl<T: serde::Serialize> Json for T {
            fn json(&self) -> Vec<u8> {
                serde_json::to_vec(self).unwrap()
            }
        }
    }
}
