//! Repository.Core: the project's repository — every file record and the indexes of the
//! project phase (`crate::project::Repository`) — held as a snapshot that readers share
//! without waiting for a writer. The project phase, a task of the TaskSupervisor, publishes
//! it; a command takes it to write its report. It lives in the runtime's shared state, so a
//! restart of the `core` service loses nothing. The persistent index of [5] goes here.

use crate::otp::store::SnapshotStore;
use crate::project::Repository;

/// The repository as the runtime holds it.
pub(crate) type RepositoryCore = SnapshotStore<Repository>;

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::time::Duration;

    use crate::discover::{discover, DiscoverOptions};
    use crate::model::{stored, FileRecord, Report, RuntimeInfo, Summary, Tool};
    use crate::project::Repository;
    use crate::subsystems::analysis::pattern_matcher::pattern_library::Selection;
    use crate::subsystems::parsing::parser::{process, FileOptions};

    /// Every record of `paths`, with every rule's findings, after the project phase.
    fn records(paths: &[PathBuf]) -> (Vec<FileRecord>, crate::model::Graph) {
        let discovery = discover(
            paths,
            &DiscoverOptions {
                exclude: Vec::new(),
                follow: false,
            },
        )
        .expect("inputs are readable");
        let analysis = Selection {
            select: vec!["all".into()],
            ignore: Vec::new(),
            foreign_suppressions: true,
        }
        .compile()
        .expect("`all` is a selection");
        let options = FileOptions {
            max_file_size: 10 << 20,
            parse_timeout: Duration::from_secs(60),
            calls: true,
            metrics: true,
            analysis: Some(Arc::new(analysis)),
            cache: None,
        };
        let records: Vec<FileRecord> = discovery
            .entries
            .iter()
            .map(|entry| process(entry, &options))
            .collect();
        let projects = records
            .iter()
            .filter_map(|r| r.mix_project.clone())
            .collect();
        Repository::build(
            records,
            projects,
            true,
            &crate::otp::cancel::CancelToken::new(),
        )
        .into_files_and_graph()
    }

    /// The stored form loses nothing: every record (facts, calls with their import candidates,
    /// metrics, findings, the project phase's state) decodes to an equal value, and so does a
    /// whole report. The fixtures always; the bench corpus too when it has been generated
    /// (`cargo bench --bench parse -- generate target/bench-corpus`), or any tree named by
    /// `ELIXIRSCOPE_ROUNDTRIP_DIR`.
    #[test]
    fn every_record_round_trips_in_the_stored_form() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut inputs = vec![root.join("fixtures"), root.join("tests")];
        let corpus = std::env::var_os("ELIXIRSCOPE_ROUNDTRIP_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/bench-corpus"));
        if corpus.is_dir() {
            inputs.push(corpus);
        }
        for input in inputs {
            let (files, graph) = records(std::slice::from_ref(&input));
            assert!(!files.is_empty(), "{}", input.display());
            let mut with_findings = 0;
            for file in &files {
                let bytes = stored::encode(file).expect("a record encodes");
                let decoded: FileRecord =
                    stored::decode(&bytes).unwrap_or_else(|err| panic!("{}: {err}", file.path));
                assert!(decoded == *file, "{} changed in the stored form", file.path);
                with_findings += usize::from(file.analysis.is_some());
            }
            assert!(with_findings > 0, "{}: no findings stored", input.display());
            let report = Report {
                schema_version: crate::model::SCHEMA_VERSION,
                tool: Tool::current(),
                command: "analyze".into(),
                root: input.display().to_string(),
                summary: Summary::default(),
                files,
                graph: Some(graph),
                runtime: RuntimeInfo::default(),
            };
            let bytes = stored::encode(&report).expect("a report encodes");
            let decoded: Report = stored::decode(&bytes).expect("a report decodes");
            assert!(decoded == report, "{}: the report changed", input.display());
        }
    }
}
