//! `elixirscope rules [ID]`: the rule list, or one rule's documentation.

use std::io::{IsTerminal, Write};

use crate::cli::{RulesArgs, SimpleFormat};
use crate::commands::analyze::rule_metas;
use crate::exit;

pub(crate) fn run(args: &RulesArgs) -> anyhow::Result<u8> {
    let json = match args.format {
        SimpleFormat::Json => true,
        SimpleFormat::Text => false,
        SimpleFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let metas = rule_metas();
    let mut out = crate::commands::output::stdout();
    match &args.rule {
        None if json => {
            let list: Vec<_> = metas.values().collect();
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        }
        None => {
            let width = metas.keys().map(|id| id.len()).max().unwrap_or(0);
            for meta in metas.values() {
                writeln!(
                    out,
                    "{:width$}  {:11}  {:7}  {:3}  {}",
                    meta.id,
                    meta.category.as_str(),
                    meta.severity.as_str(),
                    if meta.enabled_by_default { "on" } else { "off" },
                    meta.summary,
                )?;
            }
        }
        Some(id) => {
            let Some(meta) = metas.get(id.as_str()) else {
                anyhow::bail!("unknown rule {id:?}: `elixirscope rules` lists the rules");
            };
            if json {
                serde_json::to_writer_pretty(&mut out, meta)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{} ({}, {})",
                    meta.id,
                    meta.category.as_str(),
                    meta.severity.as_str()
                )?;
                writeln!(out, "{}\n", meta.summary)?;
                writeln!(
                    out,
                    "On by default: {}",
                    if meta.enabled_by_default { "yes" } else { "no" }
                )?;
                if let Some(check) = meta.credo_check {
                    writeln!(out, "Follows Credo's {check}")?;
                }
                if let Some(check) = meta.sobelow_check {
                    writeln!(out, "Follows Sobelow's {check}")?;
                }
                for parameter in &meta.parameters {
                    writeln!(
                        out,
                        "Parameter {} (default {}): {}",
                        parameter.name, parameter.default, parameter.description
                    )?;
                }
                writeln!(out, "\nWhat it finds\n  {}", meta.docs.what_it_finds)?;
                writeln!(out, "\nWhy it matters\n  {}", meta.docs.why_it_matters)?;
                writeln!(out, "\nExample\n{}", indent(meta.docs.example))?;
                writeln!(out, "\nInstead\n{}", indent(meta.docs.instead))?;
            }
        }
    }
    Ok(exit::SUCCESS)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
