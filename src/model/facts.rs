//! The facts of one file, as they appear in the report. Compact and owned, each depending only
//! on the file's bytes, the tool version and the configuration, so later items can cache, diff
//! and stream them.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Symbol;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) implements: Option<Implementation>,
    /// The enclosing module, for nested modules.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
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
    #[serde(skip_serializing_if = "crate::model::stored::none")]
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
    /// Calls in the module body outside any definition (`@attr M.f()`, `plug`, `schema`): the
    /// compiler runs them when it compiles the module. Calls inside definitions are listed by
    /// their clause.
    #[serde(default, skip_serializing_if = "crate::model::stored::empty")]
    pub(crate) calls: Vec<Call>,
    /// Modules named in the module body outside any call receiver (`@x M`, `%M{}`), each once.
    #[serde(default, skip_serializing_if = "crate::model::stored::empty")]
    pub(crate) references: Vec<Reference>,
    /// Size and complexity (issue [3b], `docs/metrics.md`); absent with `--no-metrics`.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) metrics: Option<super::ModuleMetrics>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ModuleDefinition {
    Defmodule,
    Defprotocol,
    Defimpl,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Implementation {
    pub(crate) protocol: String,
    #[serde(rename = "for")]
    pub(crate) for_type: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DirectiveKind {
    Alias,
    Import,
    Require,
    Use,
    Behaviour,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Directive {
    pub(crate) kind: DirectiveKind,
    /// The full module name after alias expansion (`:ets` for Erlang modules).
    pub(crate) target: String,
    pub(crate) line: u32,
    /// `alias ..., as: X`, or the implicit last segment of an alias.
    #[serde(rename = "as", skip_serializing_if = "crate::model::stored::none")]
    pub(crate) alias_as: Option<String>,
    /// `import ..., only: [...]` as `name/arity` (or `:functions`, `:macros`, `:sigils`).
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) only: Option<Vec<String>>,
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) except: Option<Vec<String>>,
    /// The options of `use`, as written (whitespace collapsed).
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) options: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Attribute {
    pub(crate) name: String,
    pub(crate) line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DocState {
    Present,
    /// `@doc false` / `@moduledoc false`: deliberately hidden.
    False,
    Absent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Callback {
    pub(crate) name: String,
    pub(crate) arity: u32,
    pub(crate) macro_callback: bool,
    pub(crate) line: u32,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) delegate: Option<Delegate>,
    pub(crate) clauses: Vec<Clause>,
    /// The maximum of its clauses' metrics; absent for kinds Credo does not measure
    /// (`defmacrop`, `defguard`, `defguardp`, `defdelegate`).
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) metrics: Option<super::FunctionMetrics>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Delegate {
    pub(crate) to: String,
    #[serde(rename = "as")]
    pub(crate) target_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Clause {
    pub(crate) id: String,
    pub(crate) line: u32,
    pub(crate) end_line: u32,
    /// The `when` guard as written (whitespace collapsed).
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) guard: Option<String>,
    /// A bodiless head (declaring defaults, or a protocol function).
    #[serde(default, skip_serializing_if = "crate::model::stored::falsy")]
    pub(crate) head: bool,
    /// The calls made by this clause (head, guard and body), in source order; absent with
    /// `--no-calls` or when there are none.
    #[serde(default, skip_serializing_if = "crate::model::stored::empty")]
    pub(crate) calls: Vec<Call>,
    /// Modules this clause names outside call receivers (`%M{}` patterns, `M` passed as a
    /// value), each once, in order of first appearance.
    #[serde(default, skip_serializing_if = "crate::model::stored::empty")]
    pub(crate) references: Vec<Reference>,
    /// Credo's complexity metrics of this clause (`def`, `defp` and `defmacro` only).
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) metrics: Option<super::ClauseMetrics>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DynamicDefinition {
    pub(crate) kind: FunctionKind,
    /// The head as written, whitespace collapsed, at most 120 characters.
    pub(crate) head: String,
    pub(crate) line: u32,
    pub(crate) end_line: u32,
    /// The calls of its body (run when the generated function is called).
    #[serde(default, skip_serializing_if = "crate::model::stored::empty")]
    pub(crate) calls: Vec<Call>,
    #[serde(default, skip_serializing_if = "crate::model::stored::empty")]
    pub(crate) references: Vec<Reference>,
    /// Credo measures these clauses too (`def`, `defp` and `defmacro` only).
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) metrics: Option<super::ClauseMetrics>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Injected {
    pub(crate) kind: InjectedKind,
    /// The function name for definitions; the full target module for directives.
    pub(crate) name: String,
    /// For definitions.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) arity: Option<u32>,
    pub(crate) line: u32,
    /// The function or macro whose `quote` holds it (`__using__/1`, `controller/0`), if any.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) origin: Option<String>,
    /// For `use`/`import` directives: the options as written.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) options: Option<String>,
    /// For `alias` directives: the name it defines (`as:`, or the last segment).
    #[serde(rename = "as", skip_serializing_if = "crate::model::stored::none")]
    pub(crate) alias_as: Option<String>,
    /// For `import` directives: `only:` and `except:` as `name/arity` (or `:functions`, ...).
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) only: Option<Vec<String>>,
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) except: Option<Vec<String>>,
    /// For `def`, `defp` and `defmacro` templates: Credo measures each quoted clause.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) metrics: Option<super::ClauseMetrics>,
}

/// One call site, resolved as far as the source allows.
///
/// Calls are listed per clause (`Clause.calls`) rather than in one flat list keyed by caller
/// ID: the clause that holds a call *is* its caller — module, function, arity and clause index
/// follow from where it sits — so no caller field is repeated on each call, and the record
/// needs no ID, which only the project phase can assign (a duplicate module's rank is part of
/// it). Calls outside any definition are in `Module.calls` (run at compile time), those of a
/// definition whose name is computed in `DynamicDefinition.calls`, and those of a script's top
/// level in the file's `calls`.
///
/// The extractor fills in what one file shows (form, expanded module, name, arity, position);
/// the project phase decides `target`, and for local-form calls the `module`, using every
/// file: whether a module belongs to the project, what it defines and what `use` imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Call {
    /// 1-based line where the call is written: its name for `f(x)` and sigils, its receiver
    /// for `M.f(x)`, the `&` of a capture, `apply` for `apply/3`, the `to:` module of a
    /// `defdelegate`.
    pub(crate) line: u32,
    /// 1-based column, in Unicode code points.
    pub(crate) column: u32,
    pub(crate) form: CallForm,
    pub(crate) target: CallTarget,
    /// The callee's module after alias expansion (`SampleApp.Repo`, `Kernel`, `:ets`); for a
    /// local-form call, the module it resolved to. Absent when unknown.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) module: Option<Symbol>,
    /// Absent for an anonymous function call (`fun.(x)`) and a computed `apply` name.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) name: Option<Symbol>,
    /// The number of arguments, counting a piped value and a `do` block. Absent when an
    /// `apply` argument list is not a literal list.
    #[serde(skip_serializing_if = "crate::model::stored::none")]
    pub(crate) arity: Option<u32>,
    /// The callee is a macro (known for project modules, Kernel and the standard modules
    /// elixirscope knows the exports of).
    #[serde(
        rename = "macro",
        default,
        skip_serializing_if = "crate::model::stored::falsy"
    )]
    pub(crate) is_macro: bool,
    /// Resolved through an `import`: written in scope, made by a `use`, or Kernel's default
    /// import (as Elixir's compiler tracer reports them).
    #[serde(default, skip_serializing_if = "crate::model::stored::falsy")]
    pub(crate) imported: bool,
    /// The right-hand side of `|>`: `arity` counts the piped value.
    #[serde(default, skip_serializing_if = "crate::model::stored::falsy")]
    pub(crate) piped: bool,
    /// Inside a `quote` and outside its `unquote`s: template code, run in the module that
    /// injects it, so it makes no dependency of this module.
    #[serde(default, skip_serializing_if = "crate::model::stored::falsy")]
    pub(crate) quoted: bool,
    /// In a module body but run at run time: inside the body or arguments of a module-level
    /// macro known to defer them (ExUnit's `test` and `setup`, the router's route macros,
    /// Ecto's associations). Such a call makes a runtime dependency, not a compile-time one.
    #[serde(default, skip_serializing_if = "crate::model::stored::falsy")]
    pub(crate) runtime: bool,
    /// For targets `local` and `project`: no definition of this name and arity was found in the
    /// module (one generated by a macro such as `use Ecto.Repo`, or a call that cannot work).
    #[serde(default, skip_serializing_if = "crate::model::stored::falsy")]
    pub(crate) undefined: bool,
    /// For target `unknown`: modules imported or used in scope whose exports elixirscope does
    /// not know, any of which may define the function (sorted).
    ///
    /// One slot serves two phases, to keep every call small: the extractor puts here, for a
    /// local-form call, the modules imported in its lexical scope whose `only:`/`except:` admit
    /// it (innermost first, the last `import` of a module replacing earlier ones), each with
    /// whether `only:` names the call's name and arity itself; the project phase consumes them
    /// and leaves only the candidates of an `unknown` call.
    #[serde(
        rename = "candidates",
        default,
        skip_serializing_if = "crate::model::stored::none",
        serialize_with = "serialize_candidates",
        deserialize_with = "deserialize_candidates"
    )]
    #[schemars(with = "Option<Vec<String>>")]
    pub(crate) imports: Option<ImportCandidates>,
    /// An explicit `import Kernel, ...` is in scope: it replaces Kernel's default import.
    #[serde(default, skip_serializing_if = "crate::model::stored::json_only")]
    #[schemars(skip)]
    pub(crate) kernel_imported: bool,
    /// The receiver was written as an alias that no `alias` in the file matched: an alias
    /// injected by a `use`d template may still expand it.
    #[serde(default, skip_serializing_if = "crate::model::stored::json_only")]
    #[schemars(skip)]
    pub(crate) unexpanded_alias: bool,
}

/// Modules that may provide a call, each with whether `only:` names it (see `Call.imports`).
pub(crate) type ImportCandidates = Box<[(Symbol, bool)]>;

/// The JSON lists the candidate modules only; the stored form keeps each one's `only:` flag,
/// which the project phase reads.
fn serialize_candidates<S: Serializer>(
    candidates: &Option<ImportCandidates>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    if crate::model::stored::storing() {
        return candidates.serialize(serializer);
    }
    let candidates = candidates.as_deref().unwrap_or(&[]);
    let mut sequence = serializer.serialize_seq(Some(candidates.len()))?;
    for (module, _) in candidates {
        sequence.serialize_element(module)?;
    }
    sequence.end()
}

/// Reads what [`serialize_candidates`] stored.
fn deserialize_candidates<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ImportCandidates>, D::Error> {
    Option::<Vec<(Symbol, bool)>>::deserialize(deserializer)
        .map(|candidates| candidates.map(Vec::into_boxed_slice))
}

/// How a call is written.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CallForm {
    /// `f(x)`, `f x`, `x |> f`: a local or imported function, or a special form.
    Local,
    /// `M.f(x)`, `M.f`, `:ets.insert(t, x)`, `__MODULE__.f()`, `mod.f()`.
    Remote,
    /// `fun.(x)`: an anonymous function; never resolved.
    Anonymous,
    /// `&M.f/2`, `&f/1`, `&M.f(&1, 1)`: a function captured, called later.
    Capture,
    /// `apply(M, :f, [a, b])` (also `Kernel.apply/3`, `:erlang.apply/3`) and `apply(fun, args)`.
    Apply,
    /// The call a `defdelegate` compiles to.
    Delegate,
    /// `~r/.../`: a call of the `sigil_r/2` macro.
    Sigil,
}

/// What a call reaches, decided in the project phase. `dynamic` and `unknown` are the
/// unresolved ones.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CallTarget {
    /// A function or macro of the caller's own module (defined there, or injected into it by a
    /// project module's `use`).
    Local,
    /// A function or macro of another module of the project.
    Project,
    /// `Kernel`, auto-imported or called by name.
    Kernel,
    /// `Kernel.SpecialForms` (`case`, `for`, `quote`, `super`, ...).
    SpecialForm,
    /// An Elixir module that is not part of the project (standard library or dependency).
    External,
    /// An Erlang module (`:ets`, `:crypto`).
    Erlang,
    /// The module or function is computed at run time (`mod.f()`, `apply(m, f, args)`,
    /// `fun.(x)`).
    Dynamic,
    /// A local-form call that no definition, known import or Kernel function explains: it may
    /// come from one of `candidates`, or be defined by a macro.
    Unknown,
}

/// A module named outside a call receiver: a compile-time, export or runtime dependency
/// depending on where it appears (see the `graph` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reference {
    /// The module after alias expansion.
    pub(crate) module: Symbol,
    pub(crate) kind: ReferenceKind,
    pub(crate) line: u32,
    pub(crate) column: u32,
    /// In a module body but a runtime dependency: in the arguments or body of a module-level
    /// macro known to defer them (see `Call.runtime`).
    #[serde(default, skip_serializing_if = "crate::model::stored::falsy")]
    pub(crate) runtime: bool,
    #[serde(default, skip_serializing_if = "crate::model::stored::json_only")]
    #[schemars(skip)]
    pub(crate) unexpanded_alias: bool,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ReferenceKind {
    /// The module as a value: `M`, `[M, N]`, `GenServer.start_link(M, ...)`.
    Alias,
    /// A struct literal or pattern: `%M{}`.
    Struct,
}
