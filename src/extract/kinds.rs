//! Module kinds: what a module is, from `use`, `@behaviour`, definitions and callbacks. The
//! file-local part runs when a module's body has been walked; `classify_through_project`
//! adds what needs other files (`use MyAppWeb, :controller`, a project `ExUnit.CaseTemplate`).

use foldhash::{HashMap, HashMapExt, HashSet};
use std::collections::BTreeSet;

use super::ModuleBuilder;
use crate::model::{
    DirectiveKind, FunctionKind, InjectedKind, Module, ModuleDefinition, ModuleKind,
};

/// Kinds implied by `use Target` or `@behaviour Target`.
fn kind_of_used(target: &str) -> Option<ModuleKind> {
    Some(match target {
        "GenServer" => ModuleKind::Genserver,
        "Supervisor" => ModuleKind::Supervisor,
        "DynamicSupervisor" => ModuleKind::DynamicSupervisor,
        "Agent" => ModuleKind::Agent,
        "Task" => ModuleKind::Task,
        "Application" => ModuleKind::Application,
        "Registry" => ModuleKind::Registry,
        "Phoenix.Router" => ModuleKind::PhoenixRouter,
        "Phoenix.Endpoint" => ModuleKind::PhoenixEndpoint,
        "Phoenix.Controller" => ModuleKind::PhoenixController,
        "Phoenix.LiveView" => ModuleKind::PhoenixLiveView,
        "Phoenix.LiveComponent" => ModuleKind::PhoenixLiveComponent,
        "Phoenix.Component" => ModuleKind::PhoenixComponent,
        "Phoenix.Channel" => ModuleKind::PhoenixChannel,
        "Phoenix.Socket" => ModuleKind::PhoenixSocket,
        "Plug" | "Plug.Builder" | "Plug.Router" => ModuleKind::Plug,
        "Ecto.Migration" => ModuleKind::EctoMigration,
        "Ecto.Repo" => ModuleKind::EctoRepo,
        "ExUnit.Case" => ModuleKind::ExunitCase,
        "ExUnit.CaseTemplate" => ModuleKind::ExunitCaseTemplate,
        "Mix.Task" => ModuleKind::MixTask,
        _ => return None,
    })
}

/// Phoenix's generated `MyAppWeb` module dispatches `use MyAppWeb, :which` to a function named
/// after the atom; when that function's quote holds no recognisable `use`, the atom's
/// conventional meaning applies.
fn kind_of_phoenix_atom(atom: &str) -> Option<ModuleKind> {
    Some(match atom {
        "router" => ModuleKind::PhoenixRouter,
        "controller" => ModuleKind::PhoenixController,
        "live_view" => ModuleKind::PhoenixLiveView,
        "live_component" => ModuleKind::PhoenixLiveComponent,
        "component" | "html" => ModuleKind::PhoenixComponent,
        "channel" => ModuleKind::PhoenixChannel,
        _ => return None,
    })
}

/// Computes the kinds that this module's own file shows, and marks functions that have a spec.
pub(super) fn finish_module(builder: &mut ModuleBuilder) {
    let module = &mut builder.module;
    for function in &mut module.functions {
        function.spec = builder
            .specs
            .iter()
            .any(|(name, arity)| *name == function.name && *arity == function.arity);
    }
    let mut kinds: BTreeSet<ModuleKind> = module
        .directives
        .iter()
        .filter(|d| matches!(d.kind, DirectiveKind::Use | DirectiveKind::Behaviour))
        .filter_map(|d| kind_of_used(&d.target))
        .collect();
    match module.definition {
        ModuleDefinition::Defprotocol => {
            kinds.insert(ModuleKind::Protocol);
        }
        ModuleDefinition::Defimpl => {
            kinds.insert(ModuleKind::Impl);
        }
        ModuleDefinition::Defmodule => {}
    }
    if builder.is_exception {
        kinds.insert(ModuleKind::Exception);
    }
    if module.struct_fields.is_some() {
        kinds.insert(ModuleKind::Struct);
    }
    if !module.callbacks.is_empty() {
        kinds.insert(ModuleKind::Behaviour);
    }
    if builder.has_schema {
        kinds.insert(ModuleKind::EctoSchema);
    }
    if builder.has_embedded_schema {
        kinds.insert(ModuleKind::EctoEmbeddedSchema);
    }
    if builder.starts_registry {
        kinds.insert(ModuleKind::Registry);
    }
    if module.name.starts_with("Mix.Tasks.") {
        kinds.insert(ModuleKind::MixTask);
    }
    // A module plug: public init/1 and call/2 (Plug's behaviour, often without @behaviour).
    let public = |name: &str, arity: u32| {
        module
            .functions
            .iter()
            .any(|f| f.kind == FunctionKind::Def && f.name == name && f.arity == arity)
    };
    if public("init", 1) && public("call", 2) {
        kinds.insert(ModuleKind::Plug);
    }
    set_kinds(module, kinds);
}

fn set_kinds(module: &mut Module, mut kinds: BTreeSet<ModuleKind>) {
    kinds.remove(&ModuleKind::Plain);
    if kinds.is_empty() {
        kinds.insert(ModuleKind::Plain);
    }
    module.kinds = kinds.into_iter().collect();
}

/// What `use Target, ...` brings, when `Target` is a module of the project: the kinds its
/// quoted templates `use`, and `exunit_case` for a project `ExUnit.CaseTemplate`.
pub(crate) struct Templates(HashMap<String, Template>);

/// A project module some module `use`s, as the file-local extraction saw it.
struct Template {
    kinds: Vec<ModuleKind>,
    /// (origin, used module)
    uses: Vec<(Option<String>, String)>,
    dispatches_on_atom: bool,
}

impl Templates {
    /// The templates among `modules` (every project module, in path order, each with its
    /// kinds before any classification through the project): the first definition of each
    /// name some module `use`s.
    pub(crate) fn of(modules: &[(&Module, &[ModuleKind])]) -> Templates {
        let mut templates: HashMap<String, Template> = HashMap::new();
        // Only modules some module `use`s can be templates.
        let used: HashSet<&str> = modules
            .iter()
            .flat_map(|(module, _)| &module.directives)
            .filter(|directive| directive.kind == DirectiveKind::Use)
            .map(|directive| directive.target.as_str())
            .collect();
        for (module, kinds) in modules {
            if !used.contains(module.name.as_str()) {
                continue;
            }
            templates
                .entry(module.name.clone())
                .or_insert_with(|| Template {
                    kinds: kinds.to_vec(),
                    uses: module
                        .injected
                        .iter()
                        .filter(|i| i.kind == InjectedKind::Use)
                        .map(|i| (i.origin.clone(), i.name.clone()))
                        .collect(),
                    dispatches_on_atom: module
                        .functions
                        .iter()
                        .any(|f| f.name == "__using__" && f.kind == FunctionKind::Defmacro),
                });
        }
        Templates(templates)
    }
}

/// Adds to `module` the kinds its `use` of project templates brings.
pub(crate) fn classify_through_project(module: &mut Module, templates: &Templates) {
    let templates = &templates.0;
    {
        let mut added: BTreeSet<ModuleKind> = BTreeSet::new();
        for directive in module
            .directives
            .iter()
            .filter(|d| d.kind == DirectiveKind::Use)
        {
            let Some(template) = templates.get(&directive.target) else {
                continue;
            };
            let atom = directive
                .options
                .as_deref()
                .and_then(|o| o.strip_prefix(':'))
                .filter(|a| a.chars().all(|c| c.is_alphanumeric() || c == '_'));
            match atom {
                Some(atom) if template.dispatches_on_atom => {
                    let origin = format!("{atom}/0");
                    let before = added.len();
                    added.extend(
                        template
                            .uses
                            .iter()
                            .filter(|(o, _)| o.as_deref() == Some(origin.as_str()))
                            .filter_map(|(_, used)| kind_of_used(used)),
                    );
                    if added.len() == before {
                        added.extend(kind_of_phoenix_atom(atom));
                    }
                }
                _ => {
                    if template.kinds.contains(&ModuleKind::ExunitCaseTemplate) {
                        added.insert(ModuleKind::ExunitCase);
                    }
                    added.extend(
                        template
                            .uses
                            .iter()
                            .filter(|(o, _)| o.as_deref() == Some("__using__/1"))
                            .filter_map(|(_, used)| kind_of_used(used)),
                    );
                }
            }
        }
        if !added.is_empty() {
            let mut kinds: BTreeSet<ModuleKind> = module.kinds.iter().copied().collect();
            kinds.extend(added);
            set_kinds(module, kinds);
        }
    }
}
