//! Compiles `src/syntax/flatten.c`, which copies tree-sitter's trees into flat arrays by
//! reading tree-sitter's internal structures: it needs the private headers next to the public
//! one the `tree-sitter` crate exports (`DEP_TREE_SITTER_INCLUDE`), and the exact tree-sitter
//! version pinned in Cargo.toml.

use std::path::PathBuf;

fn main() {
    let include = PathBuf::from(
        std::env::var("DEP_TREE_SITTER_INCLUDE")
            .expect("the tree-sitter crate exports its include directory"),
    );
    let private = include
        .parent()
        .expect("tree-sitter's include directory has a parent")
        .join("src");
    println!("cargo:rerun-if-changed=src/syntax/flatten.c");
    cc::Build::new()
        .file("src/syntax/flatten.c")
        .include(&private)
        .include(&include)
        .flag_if_supported("-std=c11")
        .flag_if_supported("-fvisibility=hidden")
        .define("_POSIX_C_SOURCE", "200112L")
        .define("_DEFAULT_SOURCE", None)
        .warnings(true)
        .compile("elixirscope-flatten");
}
