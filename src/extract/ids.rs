//! Stable IDs: the first 16 hex digits of blake3 over a fixed byte encoding of what an entity
//! is — never where it is (no byte offsets, counters or std's DefaultHasher, whose output may
//! change between Rust releases). Editing one function's body changes no other ID.

use smallvec::SmallVec;

use crate::model::Module;

/// Bumped if the encoding below ever changes.
const VERSION_TAG: &str = "elixirscope-id-v1";
/// Separates fields so that ("ab", "c") and ("a", "bc") never collide.
const SEPARATOR: u8 = 0x1f;

fn digest(fields: &[&str]) -> String {
    // The encoding is hashed in one call: blake3 of the concatenation is the same as feeding
    // the pieces one by one, and a short input then costs one compression instead of a dozen
    // buffered updates (IDs are computed for every clause of every file). Nearly every
    // encoding fits the inline buffer.
    let mut encoding: SmallVec<[u8; 256]> = SmallVec::new();
    encoding.extend_from_slice(VERSION_TAG.as_bytes());
    for field in fields {
        encoding.push(SEPARATOR);
        encoding.extend_from_slice(field.as_bytes());
    }
    blake3::hash(&encoding).to_hex()[..16].to_string()
}

/// Fills in the IDs of a module, its functions and clauses. `rank` is the module's position
/// among the places defining the same name, only when there are several.
pub(crate) fn assign(module: &mut Module, rank: Option<usize>) {
    let rank = rank.map(|r| r.to_string()).unwrap_or_default();
    module.id = digest(&["module", &module.name, &rank]);
    let mut index_text = itoa::Buffer::new();
    for function in &mut module.functions {
        let signature = format!("{}/{}", function.name, function.arity);
        let kind = function.kind.keyword();
        function.id = digest(&["function", &module.name, &rank, kind, &signature]);
        for (index, clause) in function.clauses.iter_mut().enumerate() {
            clause.id = digest(&[
                "clause",
                &module.name,
                &rank,
                kind,
                &signature,
                index_text.format(index),
            ]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_fixed() {
        // Pinned: a change here breaks every user's stored IDs. The encoding is spelled out
        // byte by byte, and its value is written down.
        let expected =
            blake3::hash(b"elixirscope-id-v1\x1fmodule\x1fA\x1f").to_hex()[..16].to_string();
        assert_eq!(digest(&["module", "A", ""]), expected);
        assert_eq!(digest(&["module", "A", ""]), "72f844d6291170a3");
        assert_ne!(digest(&["module", "AB", ""]), digest(&["module", "A", "B"]));
        // Encodings longer than the inline buffer hash the same way.
        for length in [200, 300] {
            let name = "M".repeat(length);
            let encoding = format!("elixirscope-id-v1\x1fmodule\x1f{name}\x1f");
            let expected = blake3::hash(encoding.as_bytes()).to_hex()[..16].to_string();
            assert_eq!(digest(&["module", &name, ""]), expected, "{length}");
        }
    }
}
