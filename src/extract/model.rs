//! The facts of one file, as they appear in the report. Compact and owned, each depending only
//! on the file's bytes, the tool version and the configuration, so later items can cache, diff
//! and stream them.

use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Module {
    /// Stable ID: 16 hex digits of blake3 over the module's identity, never its position.
    pub(crate) id: String,
    /// Full name by Elixir's nesting rules, without the `Elixir.` prefix.
    pub(crate) name: String,
    /// The construct that defined it.
    pub(crate) definition: ModuleDefinition,
    /// Every kind that applies, sorted (a GenServer that defines a struct is both).
    pub(crate) kinds: Vec<ModuleKind>,
    /// For `defimpl`: the protocol and the type it is implemented for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) implements: Option<Implementation>,
    /// The enclosing module, for nested modules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parent: Option<String>,
    pub(crate) line: u32,
    pub(crate) end_line: u32,
    /// `alias`, `import`, `require`, `use` and `@behaviour` at module level, in source order.
    pub(crate) directives: Vec<Directive>,
    /// Module attributes set in the module body (first line of each name), in source order.
    pub(crate) attributes: Vec<Attribute>,
    pub(crate) moduledoc: DocState,
    /// Protocols named by `@derive`, resolved.
    pub(crate) derives: Vec<String>,
    /// Fields of `defstruct`/`defexception`; absent when the module defines no struct, empty
    /// when the fields are computed (e.g. `defstruct @fields`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) struct_fields: Option<Vec<String>>,
    /// `@callback` and `@macrocallback` declarations.
    pub(crate) callbacks: Vec<Callback>,
    /// One entry per (kind, name, arity), in order of first appearance.
    pub(crate) functions: Vec<Function>,
    /// Definitions whose name is computed (`def unquote(name)(...)`).
    pub(crate) dynamic_definitions: Vec<DynamicDefinition>,
    /// Definitions and directives inside `quote` blocks: templates injected into other modules
    /// (by `use`), not functions of this one.
    pub(crate) injected: Vec<Injected>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ModuleDefinition {
    Defmodule,
    Defprotocol,
    Defimpl,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Implementation {
    pub(crate) protocol: String,
    #[serde(rename = "for")]
    pub(crate) for_type: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ModuleKind {
    Genserver,
    Supervisor,
    DynamicSupervisor,
    Agent,
    Task,
    Application,
    Registry,
    PhoenixRouter,
    PhoenixEndpoint,
    PhoenixController,
    PhoenixLiveView,
    PhoenixLiveComponent,
    PhoenixComponent,
    PhoenixChannel,
    PhoenixSocket,
    Plug,
    EctoSchema,
    EctoEmbeddedSchema,
    EctoMigration,
    EctoRepo,
    ExunitCase,
    ExunitCaseTemplate,
    Protocol,
    Impl,
    Exception,
    Struct,
    Behaviour,
    MixTask,
    Plain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DirectiveKind {
    Alias,
    Import,
    Require,
    Use,
    Behaviour,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Directive {
    pub(crate) kind: DirectiveKind,
    /// The full module name after alias expansion (`:ets` for Erlang modules).
    pub(crate) target: String,
    pub(crate) line: u32,
    /// `alias ..., as: X`, or the implicit last segment of an alias.
    #[serde(rename = "as", skip_serializing_if = "Option::is_none")]
    pub(crate) alias_as: Option<String>,
    /// `import ..., only: [...]` as `name/arity` (or `:functions`, `:macros`, `:sigils`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) only: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) except: Option<Vec<String>>,
    /// The options of `use`, as written (whitespace collapsed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) options: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Attribute {
    pub(crate) name: String,
    pub(crate) line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DocState {
    Present,
    /// `@doc false` / `@moduledoc false`: deliberately hidden.
    False,
    Absent,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Callback {
    pub(crate) name: String,
    pub(crate) arity: u32,
    pub(crate) macro_callback: bool,
    pub(crate) line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FunctionKind {
    Def,
    Defp,
    Defmacro,
    Defmacrop,
    Defguard,
    Defguardp,
    Defdelegate,
}

impl FunctionKind {
    pub(crate) fn from_keyword(keyword: &str) -> Option<FunctionKind> {
        Some(match keyword {
            "def" => FunctionKind::Def,
            "defp" => FunctionKind::Defp,
            "defmacro" => FunctionKind::Defmacro,
            "defmacrop" => FunctionKind::Defmacrop,
            "defguard" => FunctionKind::Defguard,
            "defguardp" => FunctionKind::Defguardp,
            "defdelegate" => FunctionKind::Defdelegate,
            _ => return None,
        })
    }

    pub(crate) fn keyword(self) -> &'static str {
        match self {
            FunctionKind::Def => "def",
            FunctionKind::Defp => "defp",
            FunctionKind::Defmacro => "defmacro",
            FunctionKind::Defmacrop => "defmacrop",
            FunctionKind::Defguard => "defguard",
            FunctionKind::Defguardp => "defguardp",
            FunctionKind::Defdelegate => "defdelegate",
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Function {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: FunctionKind,
    pub(crate) arity: u32,
    /// Smallest arity callable, when default arguments (`\\`) make one definition cover several.
    pub(crate) min_arity: u32,
    /// First line of the first clause.
    pub(crate) line: u32,
    /// Last line of the last clause.
    pub(crate) end_line: u32,
    pub(crate) doc: DocState,
    /// A `@spec` for this name and arity exists in the module.
    pub(crate) spec: bool,
    /// `@impl` was set before a clause.
    #[serde(rename = "impl")]
    pub(crate) impl_attribute: bool,
    /// `defdelegate ..., to: M` (resolved) and `as:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) delegate: Option<Delegate>,
    pub(crate) clauses: Vec<Clause>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Delegate {
    pub(crate) to: String,
    #[serde(rename = "as")]
    pub(crate) target_name: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Clause {
    pub(crate) id: String,
    pub(crate) line: u32,
    pub(crate) end_line: u32,
    /// The `when` guard as written (whitespace collapsed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) guard: Option<String>,
    /// A bodiless head (declaring defaults, or a protocol function).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) head: bool,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DynamicDefinition {
    pub(crate) kind: FunctionKind,
    /// The head as written, whitespace collapsed, at most 120 characters.
    pub(crate) head: String,
    pub(crate) line: u32,
    pub(crate) end_line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum InjectedKind {
    Def,
    Defp,
    Defmacro,
    Defmacrop,
    Defguard,
    Defguardp,
    Defdelegate,
    Alias,
    Import,
    Require,
    Use,
    Behaviour,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Injected {
    pub(crate) kind: InjectedKind,
    /// The function name for definitions; the full target module for directives.
    pub(crate) name: String,
    /// For definitions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) arity: Option<u32>,
    pub(crate) line: u32,
    /// The function or macro whose `quote` holds it (`__using__/1`, `controller/0`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) origin: Option<String>,
    /// For `use`/`import` directives: the options as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) options: Option<String>,
}
