//! `compile-time-app-config`: Credo's `Warning.ApplicationConfigInModuleAttribute`
//! (CREDO_CHECKS.md §7).

use crate::syntax::Node;

use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};
use crate::rules::warning::{
    attribute_name, do_block, event_call, remote_parts, report_trigger, written_alias,
    written_arguments,
};

pub(crate) struct CompileTimeAppConfig {
    meta: RuleMeta,
}

impl CompileTimeAppConfig {
    pub(crate) fn new() -> CompileTimeAppConfig {
        CompileTimeAppConfig {
            meta: RuleMeta {
                id: "compile-time-app-config",
                category: Category::Design,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "A module attribute that reads application configuration at compile time",
                credo_check: Some("Credo.Check.Warning.ApplicationConfigInModuleAttribute"),
                sobelow_check: None,
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds: "Module attributes (`@name value`, anywhere, `@doc` and \
                                    `@spec` included) whose value calls `Application.get_env`, \
                                    `fetch_env`, `fetch_env!` or `get_all_env` on the alias \
                                    written `Application`. One finding per attribute, at the \
                                    last such call, as Credo reports it. `compile_env` is fine.",
                    why_it_matters: "An attribute's value is computed once, when the module is \
                                     compiled: the configuration of the build machine is frozen \
                                     into the release, and `config/runtime.exs` or a changed \
                                     environment has no effect.",
                    example: "@timeout Application.get_env(:my_app, :timeout)",
                    instead: "# read it when it is needed\ndefp timeout, do: Application.get_env(:my_app, :timeout)\n\n# or make the compile-time read explicit (Mix checks it at boot)\n@timeout Application.compile_env(:my_app, :timeout)",
                },
            },
        }
    }
}

/// The functions Credo treats as unsafe at compile time.
const UNSAFE: &[(&str, &str)] = &[
    ("Application", "fetch_env"),
    ("Application", "fetch_env!"),
    ("Application", "get_all_env"),
    ("Application", "get_env"),
];

impl Rule for CompileTimeAppConfig {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            callees: UNSAFE,
            ..Interests::default()
        }
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let source = out.source();
        let Some(node) = event_call(call.node) else {
            return;
        };
        let Some((alias, _)) = unsafe_call(node, source) else {
            return;
        };
        // Every enclosing `@name value` reports its last unsafe call in pre-order.
        let mut reports = Vec::new();
        let mut current = node.parent();
        while let Some(ancestor) = current {
            if let Some(name) = definition_name(ancestor, source) {
                if last_unsafe_call(ancestor, source).map(|n| n.id()) == Some(node.id()) {
                    reports.push((ancestor, name));
                }
            }
            current = ancestor.parent();
        }
        if reports.is_empty() {
            return;
        }
        let (trigger, function) = describe(node, source);
        for (attribute, name) in reports {
            report_trigger(
                out,
                alias,
                trigger,
                attribute,
                site,
                format!(
                    "Module attribute @{name} makes use of unsafe Application \
                     configuration call {function}"
                ),
            );
        }
    }
}

/// `Application.<unsafe>(…)` on the alias written exactly `Application`: its alias node and
/// function name.
fn unsafe_call<'t>(call: Node<'t>, source: &[u8]) -> Option<(Node<'t>, String)> {
    if call.kind() != "call" {
        return None;
    }
    let (alias, written) = written_alias(call, source)?;
    if written != "Application" {
        return None;
    }
    let (_, name) = remote_parts(call)?;
    let name = crate::syntax::text(name, source).into_owned();
    UNSAFE
        .iter()
        .any(|(_, unsafe_name)| *unsafe_name == name)
        .then_some((alias, name))
}

/// `@name value` (Credo's `{:@, _, [{name, _, _}]}`, so `@name` alone too): the name.
fn definition_name(node: Node<'_>, source: &[u8]) -> Option<String> {
    attribute_name(node, source).map(|name| name.into_owned())
}

/// The last unsafe call under `attribute` in pre-order (document order of call starts, with
/// an enclosing call before the calls in its arguments).
fn last_unsafe_call<'t>(attribute: Node<'t>, source: &[u8]) -> Option<Node<'t>> {
    let mut last = None;
    crate::syntax::walk_preorder(attribute, |node| {
        if unsafe_call(node, source).is_some() {
            last = Some(node);
        }
        true
    });
    last
}

/// Credo's trigger and the function it names in the message.
fn describe(call: Node<'_>, source: &[u8]) -> (&'static str, String) {
    let name = remote_parts(call)
        .map(|(_, name)| crate::syntax::text(name, source).into_owned())
        .unwrap_or_default();
    match name.as_str() {
        "fetch_env" => (
            "Application.fetch_env",
            "Application.fetch_env/2".to_string(),
        ),
        "fetch_env!" => (
            "Application.fetch_env",
            "Application.fetch_env!/2".to_string(),
        ),
        "get_all_env" => (
            "Application.get_all_env",
            "Application.get_all_env/1".to_string(),
        ),
        _ => {
            // Arguments as written: a piped value is not one; a capture has none.
            let written = written_arguments(call).len() + usize::from(do_block(call).is_some());
            (
                "Application.get_env",
                format!("Application.get_env/{written}"),
            )
        }
    }
}
