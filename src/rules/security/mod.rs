//! security rules: Sobelow's findings for code that builds atoms, evaluates code, runs
//! commands, queries SQL or deserialises terms from input (`../shared/CREDO_CHECKS.md` §S).

/// What every security rule's docs say about how a call is judged, and where elixirscope
/// reads more than Sobelow.
macro_rules! judgement_note {
    () => {
        "As in Sobelow, a call fed only constants is not reported, and the message names the \
         input and Sobelow's confidence: in a Phoenix controller (a file with \
         `use …, :controller`) high when the input is a parameter of the function or \
         `conn.params`, else medium; low elsewhere. Unlike Sobelow, elixirscope also reads \
         configuration, test support and scripts, code outside functions that runs at run time \
         (a script's top level, `quote` in a macro), and piped calls Sobelow skips (in a \
         function with an implicit `rescue`, in a pipe holding a `do` block). Code that runs \
         at compile time, fed by the source alone, is left alone: module attributes, \
         `unquote`, macro bodies and module bodies outside functions."
    };
}
pub(crate) use judgement_note;

pub(crate) mod code_eval;
pub(crate) mod command_injection;
pub(crate) mod sobelow;
pub(crate) mod sql_injection;
pub(crate) mod unsafe_binary_to_term;
pub(crate) mod unsafe_to_atom;

use crate::model::FileRole;
use crate::rules::engine::Rule;

/// The rules of this category.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(code_eval::CodeEval::new()),
        Box::new(command_injection::CommandInjection::new()),
        Box::new(sql_injection::SqlInjection::new()),
        Box::new(unsafe_binary_to_term::UnsafeBinaryToTerm::new()),
        Box::new(unsafe_to_atom::UnsafeToAtom::new()),
    ]
}

/// The files security rules read: the code that ships (lib, and test support, which other
/// projects' tests may load), configuration (`config/*.exs`, `runtime.exs`, evaluated when
/// the application starts) and scripts. Sobelow reads only `lib/**/*.ex`; configuration and
/// scripts also run with outside input (environment variables, arguments). Tests, migrations,
/// seeds and `mix.exs` run only on developers' machines and are left alone.
pub(crate) fn applies_to(role: FileRole) -> bool {
    matches!(
        role,
        FileRole::Lib
            | FileRole::TestSupport
            | FileRole::Config
            | FileRole::RuntimeConfig
            | FileRole::Script
    )
}
