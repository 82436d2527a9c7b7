//! The rule library of `elixirscope analyze` (roadmap item [4a]).
#![cfg_attr(not(test), allow(dead_code))] // reason: `analyze` ([4a]) is being built on these types

pub(crate) mod model;
