//! PatternMatcher (`PatternMatcher.Supervisor`): [`pattern_library`] holds the compiled
//! patterns of the run, [`core`] evaluates them over one file inside the Parser's walk.

pub(crate) mod core;
pub(crate) mod pattern_library;
pub(crate) mod structural;
