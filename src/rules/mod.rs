//! The rule library of `elixirscope analyze`: one file per rule under its category, a plain
//! registry, the engine that feeds rules from the single walk, and suppressions.

pub(crate) mod anchor;
pub(crate) mod complexity;
pub(crate) mod design;
pub(crate) mod engine;
pub(crate) mod model;
pub(crate) mod observe;
pub(crate) mod readability;
pub(crate) mod registry;
pub(crate) mod security;
pub(crate) mod suppress;
pub(crate) mod warning;

use engine::{Engine, FileRun, RawFinding};

use crate::model::FileFindings;
use crate::model::FileRecord;
use crate::otp::cancel::Expired;

/// Everything `analyze` runs on each file.
pub(crate) struct Analysis {
    pub(crate) engine: Engine,
    /// Honour Credo's and Sobelow's suppression comments (`--no-foreign-suppressions` turns
    /// that off).
    pub(crate) foreign_suppressions: bool,
}

impl std::fmt::Debug for Analysis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analysis")
            .field(
                "rules",
                &self.engine.rules().map(|r| r.meta().id).collect::<Vec<_>>(),
            )
            .field("foreign_suppressions", &self.foreign_suppressions)
            .finish()
    }
}

impl Analysis {
    /// What makes findings reusable between runs (the index's key for them): the rules that
    /// run, their parameters and the suppression options.
    pub(crate) fn fingerprint(&self) -> String {
        let mut text = format!("foreign_suppressions={};", self.foreign_suppressions);
        for rule in self.engine.rules() {
            let meta = rule.meta();
            text.push_str(meta.id);
            for parameter in &meta.parameters {
                text.push_str(&format!(",{}={}", parameter.name, parameter.default));
            }
            text.push(';');
        }
        blake3::hash(text.as_bytes()).to_hex()[..32].to_string()
    }

    /// Runs the file-level rules, applies suppressions and fingerprints the findings.
    /// [`Expired`] when the file's deadline passed while its rules ran.
    pub(crate) fn finish_file(
        &self,
        run: FileRun<'_>,
        record: &FileRecord,
    ) -> Result<FileFindings, Expired> {
        let path = run.path().to_string();
        let analysis = run.finish(record)?;
        let applied = suppress::apply(
            &self.engine,
            &analysis.comments,
            record,
            analysis.findings,
            self.foreign_suppressions,
        );
        let mut kept = applied.kept;
        if let Some(rule) = self.engine.index_of(design::unused_suppression::ID) {
            for (line, text) in applied.unused {
                let column = 1;
                kept.push(RawFinding {
                    rule,
                    message: format!("This suppression suppresses nothing: `{}`", text.trim()),
                    line,
                    column,
                    end_line: line,
                    end_column: column + text.chars().count() as u32,
                    module: None,
                    function: None,
                    snippet: text,
                    sobelow_type: None,
                });
            }
        }
        Ok(FileFindings {
            findings: engine::finalize(&self.engine, &path, kept),
            failures: analysis
                .failures
                .into_iter()
                .map(|(rule, message)| (self.engine.rule(rule).meta().id, message))
                .collect(),
            suppressed: applied.suppressed,
            rule_nanos: analysis
                .nanos
                .iter()
                .enumerate()
                .map(|(rule, nanos)| (self.engine.rule(rule).meta().id, *nanos))
                .collect(),
        })
    }
}
