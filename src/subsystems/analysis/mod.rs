//! The Analysis subsystem (`ElixirScope.AST.Analysis.Supervisor`). `analyze` starts it; `parse`
//! does not. Its PatternMatcher is the one owner of pattern matching in the crate: the
//! PatternLibrary compiles the patterns a run asks for (today the rules of `crate::rules`,
//! selected with `--select`/`--ignore`; later the user patterns of [4b] and the structural
//! patterns of `query`), and the Core evaluates them over each file.
//!
//! For speed the evaluation is folded into the Parsing subsystem: the Core's observer rides
//! along the Parser's single walk of each file, on the batch pool, so one walk serves the facts
//! and every rule (the design's PatternMatcher.WorkerPool is that pool). `elixirscope runtime`
//! says so rather than claiming separate services. The PerformanceOptimizer's statistics are
//! the report's `runtime` section.

pub(crate) mod pattern_matcher;
