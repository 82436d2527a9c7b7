//! Fault injection for tests and demonstrations: `ELIXIRSCOPE_FAULTS`, comma-separated.
//!
//! - `parse:panic:<path-suffix>`: processing a file whose path ends with the suffix panics;
//! - `parse:hang:<path-suffix>`: the parser is fed an endless input, cancelled by the deadline;
//! - `parse:vanish:<path-suffix>`: the file is deleted between discovery and reading (the race
//!   a user's editor or build tool can cause), so that path is testable deterministically;
//! - `rule:<rule-id>:panic`: the rule panics on every file it checks; the deterministic breaker
//!   disables it after 5 files and drops its findings;
//! - `rule:<rule-id>:slow`: the rule burns 10 ms on every node it visits without checking any
//!   deadline itself, so only the engine's cancellation checks can end the file's work;
//! - `memory:elevated|critical`: with `--memory-limit`, the MemoryManager's Monitor reports
//!   at least that pressure level whatever it measures, so its responses can be tested on any
//!   tree and machine (the run keeps its index: its results are the files' own);
//! - `service:<child-id>:crash`: the named child of the supervision tree panics once (a run
//!   with only these keeps its index: its results are the files' own), right
//!   after it starts; its supervisor restarts it (or not) by its restart type.
//!
//! Without the variable the list is empty and no fault code runs.

use std::sync::{Mutex, OnceLock};

pub(crate) const ENV_VAR: &str = "ELIXIRSCOPE_FAULTS";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Panic,
    Hang,
    Vanish,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Injection {
    Parse(ParseFault),
    ServiceCrash(String),
    RulePanic(String),
    RuleSlow(String),
    /// The MemoryManager's Monitor reports at least this level (1 elevated, 2 critical).
    MemoryLevel(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ParseFault {
    fault: Fault,
    path_suffix: String,
}

/// Parses the specification; unknown entries are errors so a typo is not silently ignored.
fn parse_spec(spec: &str) -> Result<Vec<Injection>, String> {
    let mut faults = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let mut parts = item.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("parse"), Some(kind), Some(suffix)) if !suffix.is_empty() => {
                let fault = match kind {
                    "panic" => Fault::Panic,
                    "hang" => Fault::Hang,
                    "vanish" => Fault::Vanish,
                    _ => return Err(format!("unknown parse fault {kind:?} in {item:?}")),
                };
                faults.push(Injection::Parse(ParseFault {
                    fault,
                    path_suffix: suffix.to_string(),
                }));
            }
            (Some("rule"), Some(rule), Some("panic")) if !rule.is_empty() => {
                faults.push(Injection::RulePanic(rule.to_string()));
            }
            (Some("rule"), Some(rule), Some("slow")) if !rule.is_empty() => {
                faults.push(Injection::RuleSlow(rule.to_string()));
            }
            (Some("service"), Some(child), Some("crash")) if !child.is_empty() => {
                faults.push(Injection::ServiceCrash(child.to_string()));
            }
            (Some("memory"), Some("elevated"), None) => faults.push(Injection::MemoryLevel(1)),
            (Some("memory"), Some("critical"), None) => faults.push(Injection::MemoryLevel(2)),
            _ => {
                return Err(format!(
                    "cannot read fault {item:?}: expected parse:panic|hang|vanish:<path-suffix>, rule:<rule-id>:panic, service:<child-id>:crash or memory:elevated|critical"
                ))
            }
        }
    }
    Ok(faults)
}

static FAULTS: OnceLock<Vec<Injection>> = OnceLock::new();
/// Services that already crashed: each injected crash happens once.
static CRASHED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Reads `ELIXIRSCOPE_FAULTS` once; an invalid value is a configuration error.
pub(crate) fn init() -> Result<(), String> {
    let faults = match std::env::var(ENV_VAR) {
        Ok(spec) => parse_spec(&spec).map_err(|e| format!("{ENV_VAR}: {e}"))?,
        Err(_) => Vec::new(),
    };
    let _ = FAULTS.set(faults);
    Ok(())
}

/// Whether any fault is injected in this run (results then depend on more than the files).
/// Whether an injected fault changes what a file's result is (a parse or rule fault), so the
/// run must not store results in the index. A service crash does not: its run's results are
/// the files' own (the crash tests prove it), and the MemoryManager's Cleaner only runs with
/// an index.
pub(crate) fn alter_results() -> bool {
    FAULTS.get().is_some_and(|faults| {
        faults.iter().any(|fault| {
            !matches!(
                fault,
                Injection::ServiceCrash(_) | Injection::MemoryLevel(_)
            )
        })
    })
}

/// The fault to inject while parsing `path`, if any.
pub(crate) fn for_parse(path: &str) -> Option<Fault> {
    let faults = FAULTS.get()?;
    if faults.is_empty() {
        return None;
    }
    faults.iter().find_map(|f| match f {
        Injection::Parse(f) if path.ends_with(&f.path_suffix) => Some(f.fault),
        _ => None,
    })
}

/// Panics if `rule:<id>:panic` is injected for this rule.
pub(crate) fn panic_in_rule(rule: &str, path: &str) {
    let Some(faults) = FAULTS.get() else { return };
    if faults
        .iter()
        .any(|f| matches!(f, Injection::RulePanic(name) if name == rule))
    {
        panic!("injected fault: rule:{rule}:panic on {path}");
    }
}

/// How long `rule:<id>:slow` makes that rule take on every node it visits.
pub(crate) const SLOW_RULE_BURN: std::time::Duration = std::time::Duration::from_millis(10);

/// Burns [`SLOW_RULE_BURN`] if `rule:<id>:slow` is injected for this rule, checking nothing
/// while it does: only the engine's own deadline checks can end the file's work.
pub(crate) fn slow_rule(rule: &str) {
    let Some(faults) = FAULTS.get() else { return };
    if faults
        .iter()
        .any(|f| matches!(f, Injection::RuleSlow(name) if name == rule))
    {
        std::thread::sleep(SLOW_RULE_BURN);
    }
}

/// Panics if a crash of the child `id` is injected and has not happened yet.
/// The least pressure level (1 elevated, 2 critical) the Monitor is to report, whatever it
/// measures (`memory:elevated|critical`): the responses run on any machine, on any tree.
pub(crate) fn memory_level() -> u8 {
    FAULTS.get().map_or(0, |faults| {
        faults
            .iter()
            .filter_map(|fault| match fault {
                Injection::MemoryLevel(level) => Some(*level),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    })
}

/// Whether [`crash_service_once`] would crash `id` now.
pub(crate) fn would_crash(id: &str) -> bool {
    let Some(faults) = FAULTS.get() else {
        return false;
    };
    faults
        .iter()
        .any(|f| matches!(f, Injection::ServiceCrash(name) if name == id))
        && !CRASHED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .any(|name| name == id)
}

pub(crate) fn crash_service_once(id: &str) {
    let Some(faults) = FAULTS.get() else { return };
    let wanted = faults
        .iter()
        .any(|f| matches!(f, Injection::ServiceCrash(name) if name == id));
    if !wanted {
        return;
    }
    {
        let mut crashed = CRASHED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if crashed.iter().any(|name| name == id) {
            return;
        }
        crashed.push(id.to_string());
    }
    panic!("injected fault: service:{id}:crash");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let faults =
            parse_spec("parse:panic:lib/a.ex, parse:hang:b.ex, service:parser:crash").unwrap();
        assert_eq!(faults.len(), 3);
        assert!(matches!(&faults[0], Injection::Parse(f) if f.fault == Fault::Panic));
        assert!(matches!(&faults[1], Injection::Parse(f) if f.path_suffix == "b.ex"));
        assert_eq!(faults[2], Injection::ServiceCrash("parser".into()));
        assert!(parse_spec("service:parser:explode").is_err());
        assert!(parse_spec("parse:explode:a.ex").is_err());
        assert!(parse_spec("nonsense").is_err());
        assert!(parse_spec("").unwrap().is_empty());
    }
}
