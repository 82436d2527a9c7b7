//! `elixirscope runtime`: the supervision tree as designed and as built; with `--check`, starts
//! every built subsystem, checks its health, shuts it down and reports how that went.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use serde_json::{json, Value};

use crate::cli::{RuntimeArgs, SimpleFormat};
use crate::exit;
use crate::otp::{HealthReport, HealthStatus, RestartIntensity, Strategy};
use crate::subsystems::analysis::pattern_matcher::pattern_library::Selection;
use crate::subsystems::design::{self, Built, DesignNode, NodeKind};
use crate::subsystems::root::Host;

pub(crate) fn run(args: &RuntimeArgs) -> anyhow::Result<u8> {
    let json = match args.format {
        SimpleFormat::Json => true,
        SimpleFormat::Text => false,
        SimpleFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let mut out = crate::commands::output::stdout();
    if !args.check {
        if json {
            serde_json::to_writer_pretty(&mut out, &node_json(&design::ROOT))?;
            writeln!(out)?;
        } else {
            write_tree(&mut out, &design::ROOT, "", true, true)?;
        }
        return Ok(exit::SUCCESS);
    }

    let started = Instant::now();
    let subsystems: Vec<&str> = design::ROOT
        .children
        .iter()
        .filter(|node| node.is_started())
        // The Synchronization subsystem watches a loaded tree: `watch` starts it, with one;
        // tests/watch.rs checks its services, their restarts and their shutdown.
        .filter(|node| node.id != "synchronization")
        .map(|node| node.id)
        .collect();
    // The default rule selection: the Analysis subsystem compiles it as `analyze` would.
    let host = Host::start(&subsystems, 1, Some(Selection::default()), None)?;
    let start_ms = started.elapsed().as_secs_f64() * 1000.0;
    // Exercise both bulkheads and the task pool once, so the check proves they serve work.
    let interactive = host.shared().bulkheads.interactive()?.install(|| 1 + 1);
    let task = host.run_task("health_probe", || 2 + 2)?;
    let query = host.run_query(|| 3 + 3)?;
    let health = host.health()?;
    let supervision = host.supervision();
    let pools = host.pools();
    let shutdown_started = Instant::now();
    let shutdown = host.shutdown();
    let shutdown_ms = shutdown_started.elapsed().as_secs_f64() * 1000.0;
    let healthy = health.status == HealthStatus::Healthy && shutdown.killed.is_empty();

    if json {
        let report = json!({
            "healthy": healthy,
            "subsystems": subsystems,
            "health": health_json(&health),
            "probes": {
                "interactive_pool": interactive == 2,
                "task_supervisor": task == 4,
                "query_executor": query == 6,
            },
            "shutdown_order": shutdown.order,
            "killed": shutdown.killed,
            "supervision": supervision,
            "pools": pools,
            "start_ms": start_ms,
            "shutdown_ms": shutdown_ms,
        });
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "started {} in {start_ms:.1} ms: {}",
            subsystems.join(", "),
            if health.status == HealthStatus::Healthy {
                "healthy"
            } else {
                "degraded"
            }
        )?;
        for (path, problem) in health.problems() {
            writeln!(out, "  {path}: {problem}")?;
        }
        writeln!(
            out,
            "probes: interactive pool {}, task supervisor {}",
            if interactive == 2 { "ok" } else { "failed" },
            if task == 4 { "ok" } else { "failed" }
        )?;
        writeln!(out, "shut down in {shutdown_ms:.1} ms, in this order:")?;
        for path in &shutdown.order {
            let note = if shutdown.killed.contains(path) {
                "  (killed after its shutdown timeout)"
            } else {
                ""
            };
            writeln!(out, "  {path}{note}")?;
        }
    }
    Ok(if healthy {
        exit::SUCCESS
    } else {
        exit::FILE_FAILURES
    })
}

fn strategy_name(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::OneForOne => "one_for_one",
        Strategy::RestForOne => "rest_for_one",
        Strategy::OneForAll => "one_for_all",
    }
}

fn intensity_text(intensity: RestartIntensity) -> String {
    format!(
        "max {} restarts in {} s",
        intensity.max_restarts,
        intensity.within.as_secs()
    )
}

fn node_json(node: &DesignNode) -> Value {
    let (kind, strategy, intensity) = match node.kind {
        NodeKind::Supervisor(strategy, intensity) => {
            ("supervisor", Some(strategy_name(strategy)), Some(intensity))
        }
        NodeKind::Pool(intensity) => ("pool", Some("simple_one_for_one"), Some(intensity)),
        NodeKind::Worker => ("worker", None, None),
    };
    let (built, component, folded, planned) = match node.built {
        Built::Yes(component) => (true, Some(component), None, None),
        Built::Folded(into) => (true, None, Some(into), None),
        Built::Inside(into) => (true, None, Some(into), None),
        Built::Planned(item) => (false, None, None, Some(item)),
    };
    let started = node.is_started();
    json!({
        "id": node.id,
        "design_name": node.design_name,
        "kind": kind,
        "strategy": strategy,
        "max_restarts": intensity.map(|i| i.max_restarts),
        "max_seconds": intensity.map(|i| i.within.as_secs()),
        "restart": format!("{:?}", node.restart).to_lowercase(),
        "shutdown_ms": node.shutdown.map(|d| d.as_millis() as u64),
        "built": built,
        "started": started,
        "component": component,
        "folded": folded,
        "planned": planned,
        "children": node.children.iter().map(node_json).collect::<Vec<_>>(),
    })
}

fn write_tree(
    out: &mut dyn Write,
    node: &DesignNode,
    prefix: &str,
    last: bool,
    root: bool,
) -> std::io::Result<()> {
    let branch = if root {
        ""
    } else if last {
        "└── "
    } else {
        "├── "
    };
    let shape = match node.kind {
        NodeKind::Supervisor(strategy, intensity) => format!(
            "supervisor {}, {}",
            strategy_name(strategy),
            intensity_text(intensity)
        ),
        NodeKind::Pool(intensity) => {
            format!("pool simple_one_for_one, {}", intensity_text(intensity))
        }
        NodeKind::Worker => "worker".to_string(),
    };
    let shutdown = match node.shutdown {
        Some(timeout) => format!("shutdown {} ms", timeout.as_millis()),
        None => "shutdown infinity".to_string(),
    };
    let built = match node.built {
        Built::Yes(component) => format!("built: {component}"),
        Built::Folded(into) => format!("started; its work is folded: {into}"),
        Built::Inside(into) => format!("no service of its own; done inside: {into}"),
        Built::Planned(item) => format!("not built yet: {item}"),
    };
    writeln!(
        out,
        "{prefix}{branch}{}  [{shape}; {}; {shutdown}]  {built}",
        node.id,
        format!("{:?}", node.restart).to_lowercase()
    )?;
    let child_prefix = if root {
        String::new()
    } else if last {
        format!("{prefix}    ")
    } else {
        format!("{prefix}│   ")
    };
    for (index, child) in node.children.iter().enumerate() {
        write_tree(
            out,
            child,
            &child_prefix,
            index + 1 == node.children.len(),
            false,
        )?;
    }
    Ok(())
}

fn health_json(report: &HealthReport) -> Value {
    json!({
        "supervisor": report.supervisor,
        "status": match report.status {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
        },
        "children": report.children.iter().map(|child| json!({
            "id": child.id,
            "status": format!("{:?}", child.status).to_lowercase(),
            "health": child.health.to_string(),
            "subtree": child.subtree.as_ref().map(health_json),
        })).collect::<Vec<_>>(),
    })
}
