//! The stored form of the model: the same serde derives, encoded with postcard (compact,
//! maintained, non-self-describing) for the index of issue [5].
//!
//! A non-self-describing codec decodes a struct field by field, so every field must be written
//! whatever its value. The report's JSON shape, on the other hand, leaves out empty and absent
//! fields (`skip_serializing_if`). The model's skip predicates are therefore the ones below:
//! they skip only while JSON is written, and never while [`encode`] runs on this thread. Fields
//! that only a stored record carries (state the project phase reads, a file's findings) are
//! skipped by [`json_only`] and are not part of the JSON Schema.

use std::cell::Cell;

use serde::de::DeserializeOwned;
use serde::Serialize;

thread_local! {
    /// Set while [`encode`] runs on this thread.
    static STORING: Cell<bool> = const { Cell::new(false) };
}

/// Whether the value is being written in the stored form (for `serialize_with` functions whose
/// JSON shape drops information).
pub(crate) fn storing() -> bool {
    STORING.with(Cell::get)
}

/// Resets the flag when encoding ends, also by a panic.
#[cfg_attr(not(test), allow(dead_code))] // reason: see `encode`
struct Storing(bool);

impl Storing {
    #[cfg_attr(not(test), allow(dead_code))] // reason: see `encode`
    fn enter() -> Storing {
        Storing(STORING.with(|flag| flag.replace(true)))
    }
}

impl Drop for Storing {
    fn drop(&mut self) {
        let previous = self.0;
        STORING.with(|flag| flag.set(previous));
    }
}

/// Encodes a value of the model in the stored form.
#[cfg_attr(not(test), allow(dead_code))] // reason: the index of [5] is its first caller
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, postcard::Error> {
    let _storing = Storing::enter();
    postcard::to_allocvec(value)
}

/// Decodes a value [`encode`] wrote; symbols are interned again on the way.
#[cfg_attr(not(test), allow(dead_code))] // reason: the index of [5] is its first caller
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, postcard::Error> {
    postcard::from_bytes(bytes)
}

/// `skip_serializing_if` of an optional field: absent from the JSON when `None`.
pub(crate) fn none<T>(value: &Option<T>) -> bool {
    value.is_none() && !storing()
}

/// `skip_serializing_if` of a list the JSON leaves out when empty.
pub(crate) fn empty<T>(value: &[T]) -> bool {
    value.is_empty() && !storing()
}

/// `skip_serializing_if` of a flag the JSON leaves out when false.
pub(crate) fn falsy(value: &bool) -> bool {
    !*value && !storing()
}

/// `skip_serializing_if` of a count the JSON leaves out when zero.
pub(crate) fn is_zero(value: &u64) -> bool {
    *value == 0 && !storing()
}

/// `skip_serializing_if` of a field that only the stored form carries.
pub(crate) fn json_only<T>(_value: &T) -> bool {
    !storing()
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        #[serde(default, skip_serializing_if = "super::none")]
        absent: Option<u32>,
        #[serde(default, skip_serializing_if = "super::empty")]
        list: Vec<u32>,
        #[serde(default, skip_serializing_if = "super::falsy")]
        flag: bool,
        #[serde(default, skip_serializing_if = "super::json_only")]
        stored: u32,
        last: String,
    }

    #[test]
    fn json_skips_what_the_stored_form_keeps() {
        let value = Sample {
            absent: None,
            list: Vec::new(),
            flag: false,
            stored: 7,
            last: "x".into(),
        };
        assert_eq!(serde_json::to_string(&value).unwrap(), r#"{"last":"x"}"#);
        let bytes = super::encode(&value).unwrap();
        assert_eq!(super::decode::<Sample>(&bytes).unwrap(), value);
        // The flag does not leak out of `encode`.
        assert!(!super::storing());
    }
}
