//! The JSON Schemas of the outputs, committed in `schema/` and kept current by a test each:
//! the text of a generated schema, and the check (`ELIXIRSCOPE_UPDATE=1 cargo test` rewrites the
//! committed file instead of failing).

/// A generated schema as committed: pretty JSON and a final newline.
pub(crate) fn text(schema: &schemars::Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("schema serialises");
    text.push('\n');
    text
}

/// Fails unless `schema/NAME` holds `generated`; with `ELIXIRSCOPE_UPDATE` set, writes it.
pub(crate) fn assert_current(name: &str, generated: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    if std::env::var_os("ELIXIRSCOPE_UPDATE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/{name} is stale: run `ELIXIRSCOPE_UPDATE=1 cargo test` and commit it"
    );
}
