//! complexity rules: Credo's Refactor checks over the clause metrics that `extract::metrics`
//! computes in the single walk (issue [3b], `docs/metrics.md`). The metrics are Credo-exact,
//! so these rules only apply Credo's thresholds and anchor the finding where Credo does: the
//! `def` line, with the column computed from the function name (CREDO_CHECKS.md §0–5).

pub(crate) mod abc_size;
pub(crate) mod cyclomatic_complexity;
pub(crate) mod function_arity;
pub(crate) mod nesting_depth;
pub(crate) mod perceived_complexity;

use crate::model::ClauseMetrics;
use crate::model::FileRecord;
use crate::model::{FunctionKind, InjectedKind};
use crate::rules::anchor;
use crate::rules::engine::{Reporter, Rule};

/// The rules of this category.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(abc_size::AbcSize::new()),
        Box::new(cyclomatic_complexity::CyclomaticComplexity::new()),
        Box::new(function_arity::FunctionArity::new()),
        Box::new(nesting_depth::NestingDepth::new()),
        Box::new(perceived_complexity::PerceivedComplexity::new()),
    ]
}

/// One measured definition clause of a file, wherever the facts keep it.
pub(crate) struct MeasuredClause<'f> {
    /// The module that defines it, or whose `quote` holds it.
    pub(crate) module: &'f str,
    /// `None` for a definition whose name is computed (`def unquote(name)(x)`).
    pub(crate) name: Option<&'f str>,
    pub(crate) kind: FunctionKind,
    /// The line of the `def`.
    pub(crate) line: u32,
    /// A head without a body: Credo cannot read its name (`Credo.Code.Module.def_name` wants
    /// a head and a body), so its trigger is `""`.
    pub(crate) bodiless: bool,
    pub(crate) metrics: &'f ClauseMetrics,
}

impl MeasuredClause<'_> {
    /// The trigger Credo's Refactor checks compute the column from.
    pub(crate) fn trigger(&self) -> &str {
        match self.name {
            Some(name) if !self.bodiless => name,
            _ => "",
        }
    }

    fn function(&self) -> Option<String> {
        self.name
            .map(|name| format!("{name}/{}", self.metrics.arity))
    }
}

fn function_kind(kind: InjectedKind) -> Option<FunctionKind> {
    Some(match kind {
        InjectedKind::Def => FunctionKind::Def,
        InjectedKind::Defp => FunctionKind::Defp,
        InjectedKind::Defmacro => FunctionKind::Defmacro,
        InjectedKind::Defmacrop => FunctionKind::Defmacrop,
        InjectedKind::Defguard => FunctionKind::Defguard,
        InjectedKind::Defguardp => FunctionKind::Defguardp,
        InjectedKind::Defdelegate => FunctionKind::Defdelegate,
        _ => return None,
    })
}

/// Every clause the facts carry metrics for: module-level clauses, the definitions inside a
/// module's `quote` blocks (Credo measures those too) and definitions with computed names.
pub(crate) fn measured_clauses(file: &FileRecord) -> Vec<MeasuredClause<'_>> {
    let mut clauses = Vec::new();
    for module in &file.modules {
        for function in &module.functions {
            for clause in &function.clauses {
                if let Some(metrics) = &clause.metrics {
                    clauses.push(MeasuredClause {
                        module: &module.name,
                        name: Some(&function.name),
                        kind: function.kind,
                        line: clause.line,
                        bodiless: clause.head,
                        metrics,
                    });
                }
            }
        }
        for injected in &module.injected {
            let (Some(metrics), Some(kind)) = (&injected.metrics, function_kind(injected.kind))
            else {
                continue;
            };
            clauses.push(MeasuredClause {
                module: &module.name,
                name: Some(&injected.name),
                kind,
                line: injected.line,
                // The facts do not say whether a quoted definition has a body; one without
                // (arity is the only metric it can exceed a threshold with) keeps its name.
                bodiless: false,
                metrics,
            });
        }
        for dynamic in &module.dynamic_definitions {
            if let Some(metrics) = &dynamic.metrics {
                clauses.push(MeasuredClause {
                    module: &module.name,
                    name: None,
                    kind: dynamic.kind,
                    line: dynamic.line,
                    bodiless: false,
                    metrics,
                });
            }
        }
    }
    clauses
}

/// Reports `clause` on `line`, the column computed from `trigger` as Credo does.
pub(crate) fn report_clause(
    out: &mut Reporter<'_>,
    clause: &MeasuredClause<'_>,
    line: u32,
    trigger: &str,
    message: String,
) {
    let def_line = anchor::line_text(out.source(), clause.line);
    let snippet = anchor::snippet(def_line);
    let text = anchor::line_text(out.source(), line);
    let span = anchor::trigger_span(line, text, trigger);
    out.at(
        span,
        Some(clause.module.to_string()),
        clause.function(),
        snippet,
        message,
    );
}

/// Runs `check_file`-style metric rules: every measured clause whose value exceeds `max`.
pub(crate) fn over_threshold(
    file: &FileRecord,
    out: &mut Reporter<'_>,
    max: i64,
    value: impl Fn(&MeasuredClause<'_>) -> Option<u32>,
    message: impl Fn(u32) -> String,
) {
    for clause in measured_clauses(file) {
        if let Some(value) = value(&clause) {
            if i64::from(value) > max {
                report_clause(out, &clause, clause.line, clause.trigger(), message(value));
            }
        }
    }
}

/// Runs one rule over a source as `analyze` would, for the rules' unit tests (which use
/// Credo's thresholds of the confirmed examples, not the defaults the fixtures use).
#[cfg(test)]
pub(crate) mod harness {
    use std::time::Duration;

    use crate::model::{FileRecord, FileRole, Reason, Status};
    use crate::rules::engine::{Engine, Rule};
    use crate::rules::observe::Observer;
    use crate::syntax::{self, ParseInput, ParseOutcome};

    /// (line, column, end column, message) of each finding, in position order.
    pub(crate) fn findings(
        rule: Box<dyn Rule>,
        path: &str,
        source: &str,
    ) -> Vec<(u32, u32, u32, String)> {
        let engine = Engine::new(vec![rule]);
        let bytes = source.as_bytes();
        let ParseOutcome::Parsed(tree) = syntax::parse(
            ParseInput::Bytes(bytes),
            &crate::syntax::within(Duration::from_secs(20)),
        ) else {
            panic!("parse timed out");
        };
        let role = FileRole::for_path(path);
        let deadline = crate::syntax::within(Duration::from_secs(60));
        let mut observer = Observer::new(engine.start_file(path, role, bytes, &deadline), bytes);
        let facts = crate::extract::facts_observed(
            &tree,
            bytes,
            true,
            true,
            Some(&mut observer),
            &deadline,
        )
        .expect("within the deadline");
        let mut record = FileRecord::unparsed(path.to_string(), Status::Ok, Reason::Template, None);
        record.reason = None;
        record.modules = facts.modules;
        record.calls = facts.calls;
        let analysis = observer
            .into_run()
            .finish(&record)
            .expect("within the deadline");
        assert!(analysis.failures.is_empty(), "{:?}", analysis.failures);
        let mut found: Vec<(u32, u32, u32, String)> = analysis
            .findings
            .into_iter()
            .map(|f| (f.line, f.column, f.end_column, f.message))
            .collect();
        found.sort();
        found
    }
}
