//! `--format json`: one document, serialised straight from the typed report to a buffered
//! writer (never through a `serde_json::Value` of the whole report).

use std::io::Write;

use super::Report;

pub(crate) fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, report)?;
    out.write_all(b"\n")
}

/// Files per parallel chunk: enough to keep every core busy, few enough that the serialised
/// chunk (a few MB at most) does not raise peak memory.
const FILES_PER_CHUNK: usize = 128;

/// Serialises the file records on all cores, a chunk at a time, and writes them in order: the
/// `files` array is most of a report (tens of MB with calls), and one thread encoding it was
/// the longest serial phase of a run.
pub(crate) fn serialize_files_in_parallel<S: serde::Serializer>(
    files: &[super::FileRecord],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use rayon::prelude::*;
    use serde::ser::{Error, SerializeSeq};
    let mut seq = serializer.serialize_seq(Some(files.len()))?;
    for chunk in files.chunks(FILES_PER_CHUNK) {
        let encoded: Vec<Result<Box<serde_json::value::RawValue>, serde_json::Error>> = chunk
            .par_iter()
            .map(serde_json::value::to_raw_value)
            .collect();
        for raw in encoded {
            seq.serialize_element(&raw.map_err(S::Error::custom)?)?;
        }
    }
    seq.end()
}
