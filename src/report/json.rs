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
/// the longest serial phase of a run. The next chunk is encoded while this thread writes the
/// last one, so neither the pool nor the writer waits at every chunk's end; at most two
/// encoded chunks exist at once.
pub(crate) fn serialize_files_in_parallel<S: serde::Serializer>(
    files: &[super::FileRecord],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use rayon::prelude::*;
    use serde::ser::{Error, SerializeSeq};
    type Encoded = Vec<Result<Box<serde_json::value::RawValue>, serde_json::Error>>;
    let encode = |chunk: &[super::FileRecord]| -> Encoded {
        chunk
            .par_iter()
            .map(serde_json::value::to_raw_value)
            .collect()
    };
    let mut seq = serializer.serialize_seq(Some(files.len()))?;
    let mut chunks = files.chunks(FILES_PER_CHUNK);
    let mut current = chunks.next().map(encode);
    while let Some(encoded) = current.take() {
        let next = chunks.next();
        // The writer (this thread, which may not be a pool thread: `S` need not be `Send`)
        // writes `encoded` while the pool encodes `next`.
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let written = rayon::in_place_scope(|scope| {
            if let Some(next) = next {
                scope.spawn(move |_| {
                    let _ = sender.send(encode(next));
                });
            }
            for raw in encoded {
                seq.serialize_element(&raw.map_err(S::Error::custom)?)?;
            }
            Ok::<(), S::Error>(())
        });
        written?;
        current = receiver.try_recv().ok();
    }
    seq.end()
}
