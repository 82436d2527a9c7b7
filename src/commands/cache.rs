//! `elixirscope cache info|clear|clean`: the index of a project, shown, deleted or cleaned.

use std::io::{IsTerminal, Write};

use anyhow::Context;

use crate::cli::{CacheAction, CacheArgs, CacheTarget, SimpleFormat};
use crate::commands::output;
use crate::discover;
use crate::exit;
use crate::index::{self, CacheSetting, Location};

pub(crate) fn run(args: &CacheArgs) -> anyhow::Result<u8> {
    match &args.action {
        CacheAction::Info(target) => info(target),
        CacheAction::Clear(target) => clear(target),
        CacheAction::Clean(target) => clean(target),
    }
}

fn json_output(format: SimpleFormat) -> bool {
    match format {
        SimpleFormat::Json => true,
        SimpleFormat::Text => false,
        SimpleFormat::Auto => !std::io::stdout().is_terminal(),
    }
}

fn clean(target: &CacheTarget) -> anyhow::Result<u8> {
    let location = location(target)?;
    let cleaned = index::cleaner::clean(&location.database).with_context(|| {
        format!(
            "cannot clean the index {}; `elixirscope cache clear` deletes it",
            location.database.display()
        )
    })?;
    let mut out = output::stdout();
    match (cleaned, json_output(target.format)) {
        (None, true) => writeln!(out, "null")?,
        (None, false) => writeln!(out, "no index at {}", location.database.display())?,
        (Some(cleaned), true) => {
            serde_json::to_writer_pretty(&mut out, &cleaned)?;
            writeln!(out)?;
        }
        (Some(cleaned), false) => {
            writeln!(out, "index:          {}", cleaned.database)?;
            for root in &cleaned.roots_removed {
                writeln!(out, "removed root:   {root} (its folder is gone)")?;
            }
            writeln!(
                out,
                "removed:        {} entries of files that are gone",
                cleaned.entries_removed
            )?;
            writeln!(
                out,
                "vacuum:         {} pages freed; {} -> {} bytes",
                cleaned.pages_freed, cleaned.bytes_before, cleaned.bytes_after
            )?;
        }
    }
    out.flush()?;
    Ok(exit::SUCCESS)
}

fn location(target: &CacheTarget) -> anyhow::Result<Location> {
    let root = discover::root_of(&target.path)
        .with_context(|| format!("cannot find the root of {}", target.path.display()))?;
    let setting = match &target.cache_dir {
        Some(folder) => CacheSetting::Folder(folder.clone()),
        None => CacheSetting::UnderRoot,
    };
    Ok(Location::of(&setting, &root).expect("a folder setting has a location"))
}

fn info(target: &CacheTarget) -> anyhow::Result<u8> {
    let location = location(target)?;
    let info = index::info(&location.database).with_context(|| {
        format!(
            "cannot read the index {}; `elixirscope cache clear` deletes it",
            location.database.display()
        )
    })?;
    let json = json_output(target.format);
    let mut out = output::stdout();
    if json {
        serde_json::to_writer_pretty(&mut out, &info)?;
        writeln!(out)?;
    } else if !info.exists {
        writeln!(out, "no index at {}", info.database)?;
    } else {
        writeln!(out, "index:          {}", info.database)?;
        writeln!(out, "size:           {} bytes", info.bytes)?;
        match info.schema_version {
            Some(version) => writeln!(out, "schema version: {version}")?,
            None => writeln!(out, "schema version: none (not an elixirscope index)")?,
        }
        for root in &info.roots {
            writeln!(out, "root:           {}", root.root)?;
            writeln!(
                out,
                "  entries:      {} files, {} findings, {} run scopes",
                root.files, root.findings, root.scopes
            )?;
            writeln!(
                out,
                "  queries:      tables of {} run scopes, {} answers, call sites of {} files",
                root.query_scopes, root.answers, root.call_sites
            )?;
            if let (Some(hits), Some(misses)) = (root.last_run_hits, root.last_run_misses) {
                let total = hits + misses;
                let rate = if total == 0 {
                    0.0
                } else {
                    100.0 * hits as f64 / total as f64
                };
                writeln!(
                    out,
                    "  last run:     {hits} from the index, {misses} parsed ({rate:.1}% hits)"
                )?;
            }
        }
    }
    out.flush()?;
    Ok(exit::SUCCESS)
}

fn clear(target: &CacheTarget) -> anyhow::Result<u8> {
    let location = location(target)?;
    let existed = location.database.exists();
    index::remove_database(&location.database);
    let mut out = output::stdout();
    if existed {
        writeln!(out, "removed {}", location.database.display())?;
    } else {
        writeln!(out, "no index at {}", location.database.display())?;
    }
    out.flush()?;
    Ok(exit::SUCCESS)
}
