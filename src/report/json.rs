//! `--format json`: one document, written straight from the typed report to a buffered writer
//! (never through a `serde_json::Value` of the whole report). The `files` array, most of a
//! report, is encoded on all cores by [`super::encode`]; the other sections go through serde.
//! The bytes are those of `serde_json::to_writer(report)` (a test holds them equal).

use std::io::Write;

use super::encode;
use crate::model::{FileRecord, Report, SpilledRecords};

/// `spilled`: the records the run put aside under memory pressure ([5b]), read back whole as
/// they are written; the report's own are their module tables.
pub(crate) fn write(
    report: &Report,
    out: &mut dyn Write,
    spilled: Option<&dyn SpilledRecords>,
) -> std::io::Result<()> {
    let Report {
        schema_version,
        tool,
        command,
        root,
        summary,
        files,
        graph,
        runtime,
    } = report;
    out.write_all(b"{\"schema_version\":")?;
    serde_json::to_writer(&mut *out, schema_version)?;
    out.write_all(b",\"tool\":")?;
    serde_json::to_writer(&mut *out, tool)?;
    out.write_all(b",\"command\":")?;
    serde_json::to_writer(&mut *out, command)?;
    out.write_all(b",\"root\":")?;
    serde_json::to_writer(&mut *out, root)?;
    out.write_all(b",\"summary\":")?;
    serde_json::to_writer(&mut *out, summary)?;
    out.write_all(b",\"files\":[")?;
    write_files_in_parallel(files, out, spilled)?;
    out.write_all(b"]")?;
    if let Some(graph) = graph {
        out.write_all(b",\"graph\":")?;
        serde_json::to_writer(&mut *out, graph)?;
    }
    out.write_all(b",\"runtime\":")?;
    serde_json::to_writer(&mut *out, runtime)?;
    out.write_all(b"}\n")
}

/// Files per parallel chunk: enough to keep every core busy, few enough that the serialised
/// chunk (a few MB at most) does not raise peak memory.
const FILES_PER_CHUNK: usize = 64;

/// Serialises the file records on all cores, a chunk at a time, and writes them in order: the
/// `files` array is most of a report (tens of MB with calls), and one thread encoding it was
/// the longest serial phase of a run. The next chunk is encoded while this thread writes the
/// last one, so neither the pool nor the writer waits at every chunk's end; at most two
/// encoded chunks exist at once.
fn write_files_in_parallel(
    files: &[FileRecord],
    out: &mut dyn Write,
    spilled: Option<&dyn SpilledRecords>,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let encode = |(start, chunk): (usize, &[FileRecord])| -> Vec<Vec<u8>> {
        chunk
            .par_iter()
            .enumerate()
            .map(|(offset, file)| {
                let whole = spilled.and_then(|spilled| spilled.full(start + offset));
                let file = whole.as_ref().unwrap_or(file);
                // A record's JSON is about 3.5 times its file's size (calls included): sized
                // once, it is written without regrowing.
                let estimate = usize::try_from(file.bytes).unwrap_or(0).saturating_mul(4);
                let mut bytes = Vec::with_capacity(estimate.clamp(1024, 8 << 20));
                encode::file(&mut bytes, file);
                bytes
            })
            .collect()
    };
    let mut chunks = files
        .chunks(FILES_PER_CHUNK)
        .enumerate()
        .map(|(index, chunk)| (index * FILES_PER_CHUNK, chunk));
    let mut current = chunks.next().map(encode);
    let mut first = true;
    while let Some(encoded) = current.take() {
        let next = chunks.next();
        // This thread (not necessarily a pool thread) writes `encoded` while the pool encodes
        // `next`.
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let written = rayon::in_place_scope(|scope| {
            if let Some(next) = next {
                scope.spawn(move |_| {
                    let _ = sender.send(encode(next));
                });
            }
            for file in &encoded {
                if !std::mem::take(&mut first) {
                    out.write_all(b",")?;
                }
                out.write_all(file)?;
            }
            Ok::<(), std::io::Error>(())
        });
        written?;
        current = receiver.try_recv().ok();
    }
    Ok(())
}
