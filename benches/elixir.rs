//! Renders the planned files as Elixir source shaped like real Phoenix/OTP/Ecto code.
//!
//! Templates use `$name` / `${name}` placeholders (Elixir never uses `$` in code; `$$` is a
//! literal `$`) and are re-indented to the writer's current depth, so nesting stays valid.
//! Fillable files grow function by function (or test by test) towards their planned size.

use crate::corpus::{camel, snake_plural, ConfigFile, Domain, Kind, Plan, PlannedFile, Rng};

/// Ecto fields: (name, schema type, migration column type, sample value, updated sample value).
pub(crate) const FIELDS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "name",
        ":string",
        ":string",
        r#""some name""#,
        r#""some updated name""#,
    ),
    (
        "email",
        ":string",
        ":string",
        r#""user@example.com""#,
        r#""updated@example.com""#,
    ),
    (
        "status",
        "Ecto.Enum, values: [:draft, :active, :archived], default: :draft",
        ":string",
        ":draft",
        ":active",
    ),
    ("amount_cents", ":integer", ":bigint", "4200", "4300"),
    ("quantity", ":integer", ":integer", "3", "7"),
    (
        "description",
        ":string",
        ":text",
        r#""some description""#,
        r#""updated description""#,
    ),
    (
        "starts_at",
        ":utc_datetime",
        ":utc_datetime",
        "~U[2024-01-01 10:00:00Z]",
        "~U[2024-02-01 10:00:00Z]",
    ),
    (
        "expires_at",
        ":utc_datetime",
        ":utc_datetime",
        "~U[2025-01-01 00:00:00Z]",
        "~U[2025-06-01 00:00:00Z]",
    ),
    (
        "active",
        ":boolean, default: true",
        ":boolean",
        "true",
        "false",
    ),
    ("position", ":integer, default: 0", ":integer", "1", "2"),
    (
        "metadata",
        ":map, default: %{}",
        ":map",
        "%{}",
        r#"%{"source" => "import"}"#,
    ),
    ("score", ":float", ":float", "120.5", "456.7"),
    (
        "notes",
        ":string",
        ":text",
        r#""some notes""#,
        r#""updated notes""#,
    ),
    (
        "slug",
        ":string",
        ":string",
        r#""some-slug""#,
        r#""updated-slug""#,
    ),
    (
        "due_on",
        ":date",
        ":date",
        "~D[2024-03-01]",
        "~D[2024-03-15]",
    ),
    (
        "currency",
        ":string, default: \"EUR\"",
        ":string",
        r#""EUR""#,
        r#""USD""#,
    ),
    (
        "external_ref",
        ":string",
        ":string",
        r#""ext-001""#,
        r#""ext-002""#,
    ),
    ("weight_grams", ":integer", ":integer", "250", "500"),
    (
        "locale",
        ":string, default: \"en\"",
        ":string",
        r#""en""#,
        r#""de""#,
    ),
    ("priority", ":integer, default: 0", ":integer", "5", "9"),
    (
        "labels",
        "{:array, :string}, default: []",
        "{:array, :string}",
        r#"["a", "b"]"#,
        r#"["c"]"#,
    ),
];

const VERBS: &[&str] = &[
    "fetch",
    "load",
    "build",
    "normalize",
    "validate",
    "compute",
    "apply",
    "merge",
    "format",
    "parse",
    "extract",
    "track",
    "sync",
    "refresh",
    "expire",
    "notify",
    "schedule",
    "archive",
    "reconcile",
    "summarize",
    "enqueue",
    "dispatch",
    "resolve",
    "authorize",
    "prepare",
    "filter",
    "group",
    "rank",
    "split",
    "collect",
    "encode",
    "decode",
    "score",
    "tally",
];

const OBJECTS: &[&str] = &[
    "totals", "items", "payload", "params", "entries", "window", "batch", "rules", "limits",
    "metadata", "attrs", "changes", "state", "options", "snapshot", "headers", "slots", "scope",
    "rows", "events", "counters", "matches", "buckets", "labels",
];

const PARAMS: &[&str] = &[
    "id", "attrs", "opts", "params", "user", "scope", "items", "state", "acc", "entries", "value",
    "key", "timeout", "limit", "offset", "query", "payload", "ref", "input", "config", "data",
    "record", "name", "count",
];

const ATOMS: &[&str] = &[
    "ok",
    "pending",
    "active",
    "expired",
    "skipped",
    "retry",
    "halt",
    "timeout",
    "not_found",
    "invalid",
    "unauthorized",
    "conflict",
    "queued",
    "done",
    "stale",
    "partial",
];

const GUARDS: &[&str] = &[
    "is_binary($p)",
    "is_binary($p) and byte_size($p) > 0",
    "is_integer($p) and $p >= 0",
    "is_list($p) and $p != []",
    "is_map($p) and map_size($p) > 0",
    "is_atom($p) and not is_nil($p)",
    "$p in [:asc, :desc]",
    "is_number($p) and $p > 0",
    "is_tuple($p) and tuple_size($p) == 2",
    "is_function($p, 1)",
];

const TYPES: &[&str] = &[
    "term()",
    "map()",
    "keyword()",
    "String.t()",
    "integer()",
    "non_neg_integer()",
    "atom()",
    "[map()]",
    "boolean()",
    "pid()",
];

const SENTENCES: &[&str] = &[
    "Takes care of the edge cases the callers used to repeat.",
    "The result is stable: calling it twice gives the same answer.",
    "Large inputs are processed lazily so memory stays flat.",
    "Returns an error tuple instead of raising on bad input.",
    "Used by the nightly reconciliation job and the admin dashboard.",
    "Options are validated up front; unknown keys are ignored.",
    "This runs inside the caller's process; it never blocks on the network.",
    "Mirrors the behaviour of the legacy endpoint for backwards compatibility.",
];

/// Appends lines at an indentation depth; the whole corpus is built through it.
struct Out {
    buf: String,
    indent: usize,
}

impl Out {
    fn line(&mut self, text: &str) {
        if !text.is_empty() {
            for _ in 0..self.indent {
                self.buf.push_str("  ");
            }
            self.buf.push_str(text);
        }
        self.buf.push('\n');
    }

    fn blank(&mut self) {
        if !self.buf.is_empty() && !self.buf.ends_with("\n\n") {
            self.buf.push('\n');
        }
    }

    fn open(&mut self, text: &str) {
        self.line(text);
        self.indent += 1;
    }

    fn close(&mut self, text: &str) {
        self.indent -= 1;
        self.line(text);
    }

    /// Writes a template: the common indentation removed, placeholders filled, the current
    /// indentation applied. A leading newline and trailing blank lines are dropped.
    fn tpl(&mut self, template: &str, vars: &[(&str, &str)]) {
        let lines: Vec<&str> = template.lines().collect();
        let start = usize::from(lines.first().is_some_and(|l| l.trim().is_empty()));
        let mut end = lines.len();
        while end > start && lines[end - 1].trim().is_empty() {
            end -= 1;
        }
        let body = &lines[start..end];
        let margin = body
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        for l in body {
            if l.trim().is_empty() {
                self.buf.push('\n');
                continue;
            }
            // A multi-line value carries its own indentation relative to the template's margin.
            for part in substitute(&l[margin..], vars).split('\n') {
                self.line(part);
            }
        }
    }
}

fn substitute(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            let close = braced.find('}').expect("unclosed ${ in template");
            (&braced[..close], &braced[close + 1..])
        } else if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..len], &after[len..])
        };
        match vars.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => out.push_str(v),
            None => panic!("template placeholder ${name} has no value"),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Names of one domain, as templates want them.
struct Names {
    /// `Billing`
    app: String,
    /// `billing`
    otp: String,
    /// `BillingWeb`
    web: String,
    /// `billing_web` (umbrella) or `billing` (standalone project)
    web_otp: String,
    /// `billing_web`: the snake form of `web`, used for Gettext backends and cookie keys.
    web_snake: String,
}

impl Names {
    fn of(d: &Domain) -> Self {
        Names {
            app: d.app.clone(),
            otp: d.name.clone(),
            web: format!("{}Web", d.app),
            web_otp: d.web_otp.clone(),
            web_snake: format!("{}_web", d.name),
        }
    }

    fn vars(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("App", &self.app),
            ("otp", &self.otp),
            ("Web", &self.web),
            ("web_otp", &self.web_otp),
            ("web_snake", &self.web_snake),
        ]
    }
}

/// Names of one schema and its context.
struct EntityNames {
    e: String,
    es: String,
    ent: String,
    ents: String,
    ctx: String,
    ctx_mod: String,
    human: String,
    humans: String,
}

impl EntityNames {
    fn of(d: &Domain, entity: usize) -> Self {
        let e = &d.entities[entity];
        let ctx = d.contexts[e.context].name.clone();
        EntityNames {
            es: snake_plural(&e.name),
            ent: camel(&e.name),
            ents: camel(&snake_plural(&e.name)),
            ctx_mod: camel(&ctx),
            human: e.name.replace('_', " "),
            humans: snake_plural(&e.name).replace('_', " "),
            e: e.name.clone(),
            ctx,
        }
    }

    fn vars<'a>(&'a self, names: &'a Names) -> Vec<(&'static str, &'a str)> {
        let mut v = names.vars();
        v.extend([
            ("e", self.e.as_str()),
            ("es", self.es.as_str()),
            ("E", self.ent.as_str()),
            ("Es", self.ents.as_str()),
            ("ctx", self.ctx.as_str()),
            ("Ctx", self.ctx_mod.as_str()),
            ("human", self.human.as_str()),
            ("humans", self.humans.as_str()),
        ]);
        v
    }
}

struct Gen {
    r: Rng,
    o: Out,
    /// Function names already defined in the current module.
    used: Vec<String>,
    target: usize,
}

pub(crate) fn render(plan: &Plan, file: &PlannedFile) -> String {
    let mut g = Gen {
        r: Rng::new(file.seed),
        o: Out {
            buf: String::with_capacity(file.target.max(1024) + 4096),
            indent: 0,
        },
        used: Vec::new(),
        target: file.target,
    };
    if let Some(dom) = plan.domains.get(file.domain) {
        let n = Names::of(dom);
        g.render_domain_file(dom, &n, &file.kind);
    } else {
        g.render_root_file(plan, &file.kind);
    }
    g.o.buf
}

impl Gen {
    fn full(&self) -> bool {
        self.o.buf.len() >= self.target
    }

    fn render_root_file(&mut self, plan: &Plan, kind: &Kind) {
        match kind {
            Kind::UmbrellaMix => self.umbrella_mix(plan),
            Kind::Formatter { .. } => self.formatter(true, false),
            Kind::Config(which) => {
                let apps = plan.domains.iter().filter(|d| !d.standalone);
                self.config(apps.map(Names::of).collect(), *which);
            }
            other => unreachable!("{other:?} is not a root file"),
        }
    }

    fn render_domain_file(&mut self, d: &Domain, n: &Names, kind: &Kind) {
        match kind {
            Kind::UmbrellaMix => unreachable!("the umbrella mix.exs is a root file"),
            Kind::Formatter { web } => self.formatter(false, *web),
            Kind::Config(which) => self.config(vec![Names::of(d)], *which),
            Kind::AppMix { web } => self.app_mix(d, n, *web),
            Kind::TopModule => self.top_module(d, n),
            Kind::Application => self.application(d, n),
            Kind::Repo => self.repo(n),
            Kind::Seeds => self.seeds(d, n),
            Kind::TestHelper { web } => self.test_helper(n, *web),
            Kind::DataCase => self.data_case(n),
            Kind::ConnCase => self.conn_case(n),
            Kind::Context(c) => self.context(d, n, *c),
            Kind::ContextTest(c) => self.context_test(d, n, *c),
            Kind::Fixtures(c) => self.fixtures(d, n, *c),
            Kind::Schema(e) => self.schema(d, n, *e),
            Kind::Migration(e) => self.migration(d, n, *e),
            Kind::AlterMigration(e) => self.alter_migration(d, n, *e),
            Kind::Query(e) => self.query(d, n, *e),
            Kind::GenServer(w) => self.genserver(n, w),
            Kind::WorkerTest(w) => self.worker_test(n, w),
            Kind::Supervisor(w) => self.supervisor(n, w),
            Kind::DynamicSupervisor(w) => self.dynamic_supervisor(n, w),
            Kind::Agent(w) => self.agent(n, w),
            Kind::Task(w) => self.task(n, w),
            Kind::Protocol(p) => self.protocol(n, p),
            Kind::ProtocolImpl { protocol, entity } => self.protocol_impl(d, n, protocol, *entity),
            Kind::Behaviour(b) => self.behaviour(n, b),
            Kind::BehaviourImpl { behaviour, adapter } => {
                self.behaviour_impl(n, behaviour, adapter)
            }
            Kind::Dsl(x) => self.dsl(n, x),
            Kind::DslUser { dsl, user } => self.dsl_user(n, dsl, user),
            Kind::Exception(x) => self.exception(n, x),
            Kind::MixTask(x) => self.mix_task(n, x),
            Kind::Utility { name, tiny } => self.utility(n, name, *tiny),
            Kind::EmbeddedSchema(x) => self.embedded_schema(n, x),
            Kind::LookupTable(x) => self.lookup_table(n, x),
            Kind::WebModule => self.web_module(n),
            Kind::Endpoint => self.endpoint(n),
            Kind::Router => self.router(d, n),
            Kind::Telemetry => self.telemetry(n),
            Kind::Gettext => self.gettext(n),
            Kind::CoreComponents => self.core_components(n),
            Kind::Layouts => self.layouts(n),
            Kind::ErrorJson => self.error_json(n),
            Kind::PageController => self.page_controller(n),
            Kind::FallbackController => self.fallback_controller(n),
            Kind::Controller(e) => self.controller(d, n, *e),
            Kind::JsonView(e) => self.json_view(d, n, *e),
            Kind::LiveIndex(e) => self.live_index(d, n, *e),
            Kind::LiveShow(e) => self.live_show(d, n, *e),
            Kind::FormComponent(e) => self.form_component(d, n, *e),
            Kind::ControllerTest(e) => self.controller_test(d, n, *e),
            Kind::LiveTest(e) => self.live_test(d, n, *e),
            Kind::UserSocket => self.user_socket(d, n),
            Kind::Channel(c) => self.channel(n, c),
            Kind::Plug(p) => self.plug(n, p),
        }
    }

    // ---------------------------------------------------------------- generic filler code

    fn fresh_fn_name(&mut self) -> String {
        for attempt in 0..32 {
            let mut name = format!("{}_{}", self.r.pick(VERBS), self.r.pick(OBJECTS));
            if attempt > 16 {
                name = format!("{name}_{}", self.used.len());
            }
            if !self.used.contains(&name) {
                self.used.push(name.clone());
                return name;
            }
        }
        let name = format!("helper_{}", self.used.len());
        self.used.push(name.clone());
        name
    }

    fn params(&mut self, count: usize) -> Vec<&'static str> {
        let picked = self.r.subset(PARAMS.len(), count);
        picked.into_iter().map(|i| PARAMS[i]).collect()
    }

    fn atom(&mut self) -> &'static str {
        ATOMS[self.r.below(ATOMS.len())]
    }

    /// A small expression over `vars`.
    fn expr(&mut self, vars: &[&str]) -> String {
        let v = *self.r.pick(vars);
        let w = *self.r.pick(vars);
        let a = self.atom();
        match self.r.below(22) {
            0 => format!("Map.get({v}, :{a})"),
            1 => format!("Keyword.get(opts, :{a}, {})", self.r.range(1, 500)),
            2 => format!("String.trim(to_string({v}))"),
            3 => format!("length(List.wrap({v}))"),
            4 => format!("Enum.count(List.wrap({v}), &match?({{:ok, _}}, &1))"),
            5 => "System.monotonic_time(:millisecond)".into(),
            6 => "DateTime.utc_now() |> DateTime.truncate(:second)".into(),
            7 => format!("\"#{{{v}}}:#{{inspect({w})}}\""),
            8 => format!("%{{{v}: {v}, {a}: {w}, at: System.system_time(:second)}}"),
            9 => format!("{{:{a}, {v}}}"),
            10 => format!("[{v} | List.wrap({w})]"),
            11 => format!(
                "div({} * {}, max({}, 1))",
                self.r.range(2, 90),
                v,
                self.r.range(1, 9)
            ),
            12 => format!("Enum.map(List.wrap({v}), fn item -> {{item, :{a}}} end)"),
            13 => format!("MapSet.new(List.wrap({v}))"),
            14 => format!("{v} || {w}"),
            15 => format!("if({v}, do: :{a}, else: {w})"),
            16 => format!("Enum.reduce(List.wrap({v}), 0, &(&1 + &2))"),
            17 => format!("Map.merge(%{{{a}: nil}}, Map.new(List.wrap({v})))"),
            18 => format!("~w(alpha beta {a})a ++ List.wrap({v})"),
            19 => format!("String.split(to_string({v}), ~r/[,;\\s]+/, trim: true)"),
            20 => format!(
                "Application.get_env(:{a}, :{}, {})",
                self.r.pick(OBJECTS),
                self.r.range(1, 99)
            ),
            _ => format!("{}(({v}), {w})", self.r.pick(&["max", "min"])),
        }
    }

    /// One statement (possibly several lines) over `vars`; may bind a new variable.
    fn stmt(&mut self, vars: &mut Vec<&'static str>) {
        let fresh = *self.r.pick(&[
            "result",
            "normalized",
            "acc2",
            "current",
            "batch",
            "merged",
            "count2",
            "filtered",
            "started_at",
            "meta",
        ]);
        let v = *self.r.pick(vars);
        let a = self.atom();
        match self.r.below(12) {
            0..=2 => {
                let e = self.expr(vars);
                self.o.line(&format!("{fresh} = {e}"));
                if !vars.contains(&fresh) {
                    vars.push(fresh);
                }
            }
            3 => {
                let f = self.fresh_call();
                self.o.line(&format!("{{:ok, {fresh}}} = {f}({v})"));
                if !vars.contains(&fresh) {
                    vars.push(fresh);
                }
            }
            4 => {
                self.o.line(&format!(
                    "Logger.debug(\"{a} #{{inspect({v})}} in #{{__MODULE__}}\")"
                ));
            }
            5 => {
                self.o.line(&format!("{fresh} ="));
                self.o.indent += 1;
                self.o.line(v);
                self.o.line("|> List.wrap()");
                self.o.line("|> Enum.reject(&is_nil/1)");
                let f = self.fresh_call();
                self.o.line(&format!("|> Enum.map(&{f}/1)"));
                self.o.indent -= 1;
                if !vars.contains(&fresh) {
                    vars.push(fresh);
                }
            }
            6 => {
                let e = self.expr(vars);
                self.o.open(&format!("if {v} do"));
                self.o.line(&e);
                self.o.close("end");
            }
            7 => {
                self.o.line(&format!(
                    ":telemetry.execute([:app, :{a}, :{}], %{{count: 1}}, %{{value: {v}}})",
                    self.r.pick(VERBS)
                ));
            }
            8 => {
                self.o.line(&format!("# {}", self.r.pick(SENTENCES)));
                self.o.line(&format!(
                    "unless is_nil({v}), do: send(self(), {{:{a}, {v}}})"
                ));
            }
            9 => {
                self.o
                    .line(&format!("%{{{a}: {fresh}}} = Map.new([{{:{a}, {v}}}])"));
                if !vars.contains(&fresh) {
                    vars.push(fresh);
                }
            }
            10 => {
                self.o.open(&format!("{fresh} ="));
                self.o.open(&format!("case {v} do"));
                self.o.line(&format!("nil -> :{a}"));
                let b = self.atom();
                self.o
                    .line(&format!("%{{}} = map when map_size(map) == 0 -> :{b}"));
                self.o.line("other -> other");
                self.o.close("end");
                self.o.indent -= 1;
                if !vars.contains(&fresh) {
                    vars.push(fresh);
                }
            }
            _ => {
                let e = self.expr(vars);
                self.o.line(&format!("_ = {e}"));
            }
        }
    }

    /// A function name, usually one of this module's, for calls.
    fn fresh_call(&mut self) -> String {
        if !self.used.is_empty() && self.r.chance(60) {
            self.r.pick(&self.used).clone()
        } else {
            format!("{}_{}", self.r.pick(VERBS), self.r.pick(OBJECTS))
        }
    }

    fn doc(&mut self, name: &str, arity: usize) {
        let verb = name.split('_').next().unwrap_or(name);
        let first = format!(
            "{}{} the {} for the given input.",
            verb[..1].to_ascii_uppercase(),
            &verb[1..],
            name.split('_').skip(1).collect::<Vec<_>>().join(" ")
        );
        self.o.line("@doc \"\"\"");
        self.o.line(&first);
        self.o.line("");
        let s = self.r.pick(SENTENCES);
        self.o.line(s);
        if self.r.chance(40) {
            self.o.line("");
            self.o.line("## Examples");
            self.o.line("");
            let args = vec!["nil"; arity].join(", ");
            self.o.line(&format!("    iex> {name}({args})"));
            let a = self.atom();
            self.o.line(&format!("    {{:error, :{a}}}"));
            self.o.line("");
        }
        self.o.line("\"\"\"");
    }

    fn spec(&mut self, name: &str, arity: usize) {
        let args: Vec<&str> = (0..arity).map(|_| *self.r.pick(TYPES)).collect();
        let ret = *self.r.pick(&[
            "{:ok, term()} | {:error, term()}",
            "map()",
            "[term()]",
            ":ok | {:error, atom()}",
            "boolean()",
            "String.t() | nil",
        ]);
        self.o
            .line(&format!("@spec {name}({}) :: {ret}", args.join(", ")));
    }

    /// Adds one function (or a small group) to the module being written.
    fn function(&mut self) {
        self.o.blank();
        match self.r.below(14) {
            0..=2 => self.fn_plain(),
            3 | 4 => self.fn_multi_clause(),
            5 => self.fn_default_args(),
            6 => self.fn_with_chain(),
            7 => self.fn_reduce(),
            8 => self.fn_one_liners(),
            9 => self.fn_cond(),
            10 => self.fn_comprehension(),
            11 => self.fn_try(),
            12 => self.fn_binary_parser(),
            _ => self.fn_case_pipe(),
        }
    }

    fn fill_functions(&mut self) {
        let mut guard = 0;
        while !self.full() && guard < 5000 {
            self.function();
            guard += 1;
        }
    }

    fn fn_plain(&mut self) {
        let name = self.fresh_fn_name();
        let arity = self.r.range(1, 3);
        let mut vars = self.params(arity);
        let public = self.r.chance(65);
        if public {
            self.doc(&name, arity);
            if self.r.chance(70) {
                self.spec(&name, arity);
            }
        }
        let kw = if public { "def" } else { "defp" };
        self.o.open(&format!("{kw} {name}({}) do", vars.join(", ")));
        for _ in 0..self.r.range(1, 4) {
            self.stmt(&mut vars);
        }
        let last = self.expr(&vars);
        self.o.line(&format!("{{:ok, {last}}}"));
        self.o.close("end");
    }

    fn fn_multi_clause(&mut self) {
        let name = self.fresh_fn_name();
        let mut vars = self.params(2);
        let p = vars[0];
        let public = self.r.chance(60);
        let kw = if public { "def" } else { "defp" };
        if public {
            self.doc(&name, 2);
            self.spec(&name, 2);
        }
        let a = self.atom();
        self.o.line(&format!(
            "{kw} {name}(nil, _{}), do: {{:error, :{a}}}",
            vars[1]
        ));
        let clauses = self.r.range(1, 3);
        let guards = self.r.subset(GUARDS.len(), clauses);
        for g in guards {
            let guard = substitute(GUARDS[g], &[("p", p)]);
            self.o.blank();
            self.o
                .open(&format!("{kw} {name}({p}, {}) when {guard} do", vars[1]));
            for _ in 0..self.r.range(1, 3) {
                self.stmt(&mut vars);
            }
            let last = self.expr(&vars);
            self.o.line(&last);
            self.o.close("end");
        }
        self.o.blank();
        self.o
            .line(&format!("{kw} {name}({p}, _{}), do: {{:ok, {p}}}", vars[1]));
    }

    fn fn_default_args(&mut self) {
        let name = self.fresh_fn_name();
        let p = self.params(1)[0];
        let p = if p == "opts" { "input" } else { p };
        self.doc(&name, 2);
        self.o.line(&format!("def {name}({p}, opts \\\\ [])"));
        self.o.blank();
        let a = self.atom();
        self.o.tpl(
            r###"
            def $name(%{__struct__: module} = $p, opts) do
              $name(Map.from_struct($p), Keyword.put(opts, :source, module))
            end

            def $name($p, opts) when is_map($p) do
              limit = Keyword.get(opts, :limit, 100)
              source = Keyword.get(opts, :source, :$a)

              $p
              |> Enum.take(limit)
              |> Enum.map(fn {key, value} -> {key, value, source} end)
              |> Map.new(fn {key, value, _source} -> {to_string(key), value} end)
            end
            "###,
            &[("name", &name), ("p", p), ("a", a)],
        );
    }

    fn fn_with_chain(&mut self) {
        let name = self.fresh_fn_name();
        let vars = self.params(2);
        let (f1, f2, f3) = (self.fresh_call(), self.fresh_call(), self.fresh_call());
        self.doc(&name, 2);
        if self.r.chance(50) {
            self.spec(&name, 2);
        }
        let (a, b) = (self.atom(), self.atom());
        self.o.tpl(
            r###"
            def $name($x, $y) do
              with {:ok, loaded} <- $f1($x),
                   :ok <- $f2(loaded, $y),
                   {:ok, %{} = updated} <- $f3(loaded, $y) do
                {:ok, updated}
              else
                {:error, %Ecto.Changeset{} = changeset} ->
                  {:error, changeset}

                {:error, :$a} = error ->
                  Logger.warning("$name failed for #{inspect($x)}: $a")
                  error

                {:error, reason} ->
                  {:error, {:$b, reason}}
              end
            end
            "###,
            &[
                ("name", &name),
                ("x", vars[0]),
                ("y", vars[1]),
                ("f1", &f1),
                ("f2", &f2),
                ("f3", &f3),
                ("a", a),
                ("b", b),
            ],
        );
    }

    fn fn_reduce(&mut self) {
        let name = self.fresh_fn_name();
        let p = self.params(1)[0];
        let (a, b) = (self.atom(), self.atom());
        let public = self.r.chance(50);
        let kw = if public { "def" } else { "defp" };
        if public {
            self.doc(&name, 1);
        }
        self.o.tpl(
            r###"
            $kw $name($p) do
              $p
              |> List.wrap()
              |> Enum.reduce(%{$a: [], $b: [], total: 0}, fn
                {:$a, value}, acc ->
                  %{acc | $a: [value | acc.$a], total: acc.total + 1}

                {:$b, value}, %{$b: seen} = acc when is_list(seen) ->
                  %{acc | $b: [value | seen], total: acc.total + 1}

                _other, acc ->
                  acc
              end)
              |> Map.update!(:$a, &Enum.reverse/1)
            end
            "###,
            &[("kw", kw), ("name", &name), ("p", p), ("a", a), ("b", b)],
        );
    }

    fn fn_one_liners(&mut self) {
        for _ in 0..self.r.range(2, 4) {
            let name = self.fresh_fn_name();
            let arity = self.r.range(1, 2);
            let vars = self.params(arity);
            let e = self.expr(&vars);
            let kw = if self.r.chance(50) { "defp" } else { "def" };
            self.o
                .line(&format!("{kw} {name}({}), do: {e}", vars.join(", ")));
        }
    }

    fn fn_cond(&mut self) {
        let name = self.fresh_fn_name();
        let p = self.params(1)[0];
        let n1 = self.r.range(10, 100);
        let n2 = self.r.range(101, 5000);
        let (a, b, c) = (self.atom(), self.atom(), self.atom());
        self.o.tpl(
            r###"
            @doc false
            def $name($p) do
              size = if is_list($p), do: length($p), else: 0

              cond do
                size == 0 -> :$a
                size < $n1 -> :$b
                size < $n2 and rem(size, 2) == 0 -> {:$c, div(size, 2)}
                true -> {:$c, size}
              end
            end
            "###,
            &[
                ("name", &name),
                ("p", p),
                ("n1", &n1.to_string()),
                ("n2", &n2.to_string()),
                ("a", a),
                ("b", b),
                ("c", c),
            ],
        );
    }

    fn fn_comprehension(&mut self) {
        let name = self.fresh_fn_name();
        let p = self.params(1)[0];
        let a = self.atom();
        self.o.tpl(
            r###"
            defp $name($p) do
              for %{id: id, name: name} = row <- List.wrap($p),
                  is_binary(name),
                  trimmed = String.trim(name),
                  trimmed != "",
                  into: %{} do
                {id, %{name: trimmed, status: Map.get(row, :status, :$a), label: "#{id}-#{trimmed}"}}
              end
            end
            "###,
            &[("name", &name), ("p", p), ("a", a)],
        );
    }

    fn fn_try(&mut self) {
        let name = self.fresh_fn_name();
        let p = self.params(1)[0];
        let f = self.fresh_call();
        let a = self.atom();
        self.o.tpl(
            r###"
            def $name($p) do
              try do
                $p
                |> $f()
                |> then(&{:ok, &1})
              rescue
                e in [ArgumentError, KeyError] ->
                  Logger.error(Exception.format(:error, e, __STACKTRACE__))
                  {:error, :$a}
              catch
                :exit, {:timeout, _} -> {:error, :timeout}
              after
                :telemetry.execute([:app, :$name, :done], %{}, %{})
              end
            end
            "###,
            &[("name", &name), ("p", p), ("f", &f), ("a", a)],
        );
    }

    fn fn_binary_parser(&mut self) {
        let name = self.fresh_fn_name();
        self.o.tpl(
            r###"
            @doc """
            Splits a raw header line into tokens.

            Digits are collected as integers, `\n` becomes `:newline`.
            """
            def $name(binary) when is_binary(binary), do: $name(binary, [])

            defp $name(<<>>, acc), do: Enum.reverse(acc)
            defp $name(<<"\n", rest::binary>>, acc), do: $name(rest, [:newline | acc])

            defp $name(<<c::utf8, rest::binary>>, acc) when c in ?0..?9,
              do: $name(rest, [c - ?0 | acc])

            defp $name(<<size::16, chunk::binary-size(size), rest::binary>>, acc) when size > 4096,
              do: $name(rest, [{:chunk, chunk} | acc])

            defp $name(<<_::utf8, rest::binary>>, acc), do: $name(rest, acc)
            "###,
            &[("name", &name)],
        );
    }

    fn fn_case_pipe(&mut self) {
        let name = self.fresh_fn_name();
        let vars = self.params(2);
        let f = self.fresh_call();
        let (a, b) = (self.atom(), self.atom());
        let public = self.r.chance(50);
        if public {
            self.doc(&name, 2);
            self.spec(&name, 2);
        }
        let kw = if public { "def" } else { "defp" };
        self.o.tpl(
            r###"
            $kw $name($x, $y) do
              $x
              |> $f($y)
              |> case do
                {:ok, [_ | _] = list} -> {:ok, Enum.sort_by(list, & &1.inserted_at, {:desc, DateTime})}
                {:ok, []} -> {:error, :$a}
                {:error, {:$b, _} = reason} -> {:error, reason}
                other -> raise ArgumentError, "unexpected result: #{inspect(other)}"
              end
            end
            "###,
            &[("kw", kw), ("name", &name), ("x", vars[0]), ("y", vars[1]), ("f", &f), ("a", a), ("b", b)],
        );
    }

    // ---------------------------------------------------------------- project files

    fn umbrella_mix(&mut self, plan: &Plan) {
        let mut releases = String::new();
        for d in plan.domains.iter().filter(|d| !d.standalone) {
            releases.push_str(&format!(
                "{}: :permanent, {}_web: :permanent, ",
                d.name, d.name
            ));
        }
        let releases = releases.trim_end_matches(", ");
        self.o.tpl(
            r###"
            defmodule $U.Umbrella.MixProject do
              use Mix.Project

              def project do
                [
                  apps_path: "apps",
                  version: "0.1.0",
                  start_permanent: Mix.env() == :prod,
                  deps: deps(),
                  aliases: aliases(),
                  releases: [
                    $u: [applications: [$releases]]
                  ]
                ]
              end

              # Dependencies listed here are available only for this project
              # and cannot be accessed from applications inside the apps folder.
              defp deps do
                [
                  {:phoenix_live_view, ">= 0.0.0"},
                  {:credo, "~> 1.7", only: [:dev, :test], runtime: false},
                  {:dialyxir, "~> 1.4", only: [:dev], runtime: false}
                ]
              end

              defp aliases do
                [
                  setup: ["cmd mix setup"],
                  "assets.deploy": ["cmd --app ${first}_web mix assets.deploy"]
                ]
              end
            end
            "###,
            &[
                ("U", &plan.umbrella),
                ("u", &plan.umbrella.to_lowercase()),
                ("releases", releases),
                ("first", &plan.domains[0].name),
            ],
        );
    }

    fn formatter(&mut self, root: bool, web: bool) {
        if root {
            self.o.tpl(
                r###"
                [
                  inputs: ["mix.exs", "config/*.exs"],
                  subdirectories: ["apps/*"]
                ]
                "###,
                &[],
            );
        } else if web {
            self.o.tpl(
                r###"
                [
                  import_deps: [:ecto, :ecto_sql, :phoenix],
                  subdirectories: ["priv/*/migrations"],
                  plugins: [Phoenix.LiveView.HTMLFormatter],
                  inputs: ["*.{heex,ex,exs}", "{config,lib,test}/**/*.{heex,ex,exs}", "priv/*/seeds.exs"]
                ]
                "###,
                &[],
            );
        } else {
            self.o.tpl(
                r###"
                [
                  import_deps: [:ecto_sql],
                  inputs: ["*.exs"]
                ]
                "###,
                &[],
            );
        }
    }

    /// At the umbrella root `domains` holds every umbrella app; in a standalone project, its own.
    fn config(&mut self, domains: Vec<Names>, which: ConfigFile) {
        self.o.line("import Config");
        self.o.blank();
        match which {
            ConfigFile::Config => {
                for d in &domains {
                    let v = d.vars();
                    self.o.tpl(
                        r###"
                        # Configure Mix tasks and generators
                        config :$otp,
                          ecto_repos: [$App.Repo],
                          generators: [timestamp_type: :utc_datetime, binary_id: true]

                        config :$web_otp, $Web.Endpoint,
                          url: [host: "localhost"],
                          adapter: Bandit.PhoenixAdapter,
                          render_errors: [
                            formats: [html: $Web.ErrorHTML, json: $Web.ErrorJSON],
                            layout: false
                          ],
                          pubsub_server: $App.PubSub,
                          live_view: [signing_salt: "Zm9vYmFy"]

                        config :$otp, $App.Mailer, adapter: Swoosh.Adapters.Local

                        "###,
                        &v,
                    );
                    self.o.blank();
                }
                self.o.tpl(
                    r###"
                    config :logger, :console,
                      format: "$$time $$metadata[$$level] $$message\n",
                      metadata: [:request_id]

                    # Use Jason for JSON parsing in Phoenix
                    config :phoenix, :json_library, Jason

                    # Import environment specific config. This must remain at the bottom
                    # of this file so it overrides the configuration defined above.
                    import_config "#{config_env()}.exs"
                    "###,
                    &[],
                );
            }
            ConfigFile::Dev => {
                for d in &domains {
                    let v = d.vars();
                    self.o.tpl(
                        r###"
                        config :$otp, $App.Repo,
                          username: "postgres",
                          password: "postgres",
                          hostname: "localhost",
                          database: "${otp}_dev",
                          stacktrace: true,
                          show_sensitive_data_on_connection_error: true,
                          pool_size: 10

                        config :$web_otp, $Web.Endpoint,
                          http: [ip: {127, 0, 0, 1}, port: 4000],
                          check_origin: false,
                          code_reloader: true,
                          debug_errors: true,
                          secret_key_base: "c2VjcmV0LWtleS1iYXNlLWZvci1kZXZlbG9wbWVudC1vbmx5",
                          watchers: [
                            esbuild: {Esbuild, :install_and_run, [:$web_otp, ~w(--sourcemap=inline --watch)]},
                            tailwind: {Tailwind, :install_and_run, [:$web_otp, ~w(--watch)]}
                          ]

                        config :$web_otp, $Web.Endpoint,
                          live_reload: [
                            patterns: [
                              ~r"priv/static/(?!uploads/).*(js|css|png|jpeg|jpg|gif|svg)$$",
                              ~r"lib/${web_snake}/(controllers|live|components)/.*(ex|heex)$$"
                            ]
                          ]

                        config :$web_otp, dev_routes: true
                        "###,
                        &v,
                    );
                    self.o.blank();
                }
                self.o.tpl(
                    r###"
                    config :logger, :console, format: "[$$level] $$message\n"
                    config :phoenix, :stacktrace_depth, 20
                    config :phoenix, :plug_init_mode, :runtime
                    "###,
                    &[],
                );
            }
            ConfigFile::Test => {
                for d in &domains {
                    let v = d.vars();
                    self.o.tpl(
                        r###"
                        # The MIX_TEST_PARTITION environment variable can be used
                        # to provide built-in test partitioning in CI environment.
                        config :$otp, $App.Repo,
                          username: "postgres",
                          password: "postgres",
                          hostname: "localhost",
                          database: "${otp}_test#{System.get_env("MIX_TEST_PARTITION")}",
                          pool: Ecto.Adapters.SQL.Sandbox,
                          pool_size: System.schedulers_online() * 2

                        config :$web_otp, $Web.Endpoint,
                          http: [ip: {127, 0, 0, 1}, port: 4002],
                          secret_key_base: "dGVzdC1zZWNyZXQta2V5LWJhc2U=",
                          server: false

                        config :$otp, $App.Mailer, adapter: Swoosh.Adapters.Test
                        "###,
                        &v,
                    );
                    self.o.blank();
                }
                self.o.line("config :logger, level: :warning");
                self.o.line("config :phoenix, :plug_init_mode, :runtime");
            }
            ConfigFile::Prod => {
                for d in &domains {
                    let v = d.vars();
                    self.o.tpl(
                        r###"
                        config :$web_otp, $Web.Endpoint,
                          cache_static_manifest: "priv/static/cache_manifest.json",
                          force_ssl: [rewrite_on: [:x_forwarded_proto], exclude: ["localhost"]]
                        "###,
                        &v,
                    );
                    self.o.blank();
                }
                self.o.line("config :logger, level: :info");
            }
            ConfigFile::Runtime => {
                self.o.open("if config_env() == :prod do");
                self.o.tpl(
                    r###"
                    database_url =
                      System.get_env("DATABASE_URL") ||
                        raise """
                        environment variable DATABASE_URL is missing.
                        For example: ecto://USER:PASS@HOST/DATABASE
                        """

                    maybe_ipv6 = if System.get_env("ECTO_IPV6") in ~w(true 1), do: [:inet6], else: []

                    secret_key_base =
                      System.get_env("SECRET_KEY_BASE") ||
                        raise """
                        environment variable SECRET_KEY_BASE is missing.
                        You can generate one by calling: mix phx.gen.secret
                        """

                    host = System.get_env("PHX_HOST") || "example.com"
                    port = String.to_integer(System.get_env("PORT") || "4000")
                    "###,
                    &[],
                );
                for d in &domains {
                    let v = d.vars();
                    self.o.blank();
                    self.o.tpl(
                        r###"
                        config :$otp, $App.Repo,
                          url: database_url,
                          pool_size: String.to_integer(System.get_env("POOL_SIZE") || "10"),
                          socket_options: maybe_ipv6

                        config :$web_otp, $Web.Endpoint,
                          url: [host: host, port: 443, scheme: "https"],
                          http: [ip: {0, 0, 0, 0, 0, 0, 0, 0}, port: port],
                          secret_key_base: secret_key_base
                        "###,
                        &v,
                    );
                }
                self.o.close("end");
            }
        }
    }

    fn app_mix(&mut self, d: &Domain, n: &Names, web: bool) {
        let (module, otp) = if web && !d.standalone {
            (n.web.clone(), n.web_otp.clone())
        } else {
            (n.app.clone(), n.otp.clone())
        };
        let paths = if d.standalone {
            ""
        } else {
            concat!(
                "\n      build_path: \"../../_build\",",
                "\n      config_path: \"../../config/config.exs\",",
                "\n      deps_path: \"../../deps\",",
                "\n      lockfile: \"../../mix.lock\","
            )
        };
        let mut v = n.vars();
        v.extend([
            ("Mod", module.as_str()),
            ("app_otp", otp.as_str()),
            ("paths", paths),
        ]);
        self.o.tpl(
            r###"
            defmodule $Mod.MixProject do
              use Mix.Project

              def project do
                [
                  app: :$app_otp,
                  version: "0.1.0",$paths
                  elixir: "~> 1.14",
                  elixirc_paths: elixirc_paths(Mix.env()),
                  start_permanent: Mix.env() == :prod,
                  aliases: aliases(),
                  deps: deps()
                ]
              end

              # Configuration for the OTP application.
              #
              # Type `mix help compile.app` for more information.
              def application do
                [
                  mod: {$Mod.Application, []},
                  extra_applications: [:logger, :runtime_tools]
                ]
              end

              # Specifies which paths to compile per environment.
              defp elixirc_paths(:test), do: ["lib", "test/support"]
              defp elixirc_paths(_), do: ["lib"]
            "###,
            &v,
        );
        self.o.indent += 1;
        self.o.blank();
        self.o.open("defp deps do");
        self.o.open("[");
        let mut deps = vec![
            r###"{:ecto_sql, "~> 3.10"}"###,
            r###"{:postgrex, ">= 0.0.0"}"###,
            r###"{:jason, "~> 1.2"}"###,
            r###"{:swoosh, "~> 1.5"}"###,
            r###"{:finch, "~> 0.13"}"###,
        ];
        if web {
            deps.extend([
                r###"{:phoenix, "~> 1.7.10"}"###,
                r###"{:phoenix_ecto, "~> 4.4"}"###,
                r###"{:phoenix_html, "~> 4.0"}"###,
                r###"{:phoenix_live_reload, "~> 1.2", only: :dev}"###,
                r###"{:phoenix_live_view, "~> 0.20.2"}"###,
                r###"{:floki, ">= 0.30.0", only: :test}"###,
                r###"{:esbuild, "~> 0.8", runtime: Mix.env() == :dev}"###,
                r###"{:telemetry_metrics, "~> 0.6"}"###,
                r###"{:gettext, "~> 0.20"}"###,
                r###"{:bandit, "~> 1.2"}"###,
            ]);
        }
        if web && !d.standalone {
            let core = format!("{{:{}, in_umbrella: true}}", n.otp);
            self.o.line(&format!("{core},"));
        }
        let last = deps.len() - 1;
        for (i, dep) in deps.iter().enumerate() {
            self.o
                .line(&format!("{dep}{}", if i == last { "" } else { "," }));
        }
        self.o.close("]");
        self.o.close("end");
        self.o.blank();
        self.o.tpl(
            r###"
            defp aliases do
              [
                setup: ["deps.get", "ecto.setup"],
                "ecto.setup": ["ecto.create", "ecto.migrate", "run priv/repo/seeds.exs"],
                "ecto.reset": ["ecto.drop", "ecto.setup"],
                test: ["ecto.create --quiet", "ecto.migrate --quiet", "test"]
              ]
            end
            "###,
            &[],
        );
        self.o.close("end");
    }

    fn top_module(&mut self, d: &Domain, n: &Names) {
        self.o.open(&format!("defmodule {} do", n.app));
        self.o.tpl(
            r###"
            @moduledoc """
            $App keeps the contexts, the business logic and the workers of the
            $otp domain. The web layer lives in `$Web`.

            Contexts are also responsible for managing your data, regardless
            if it comes from the database, an external API or others.
            """
            "###,
            &n.vars(),
        );
        self.o.blank();
        for c in d.contexts.iter().take(6) {
            let ctx_mod = camel(&c.name);
            if let Some(&e) = c.entities.first() {
                let en = EntityNames::of(d, e);
                self.o.line(&format!(
                    "defdelegate list_{}(opts \\\\ []), to: {}.{}",
                    en.es, n.app, ctx_mod
                ));
                self.o.line(&format!(
                    "defdelegate fetch_{}(id), to: {}.{}, as: :get_{}!",
                    en.e, n.app, ctx_mod, en.e
                ));
            }
        }
        self.o.blank();
        self.o.tpl(
            r###"
            @doc """
            Returns the version of the $otp application.
            """
            @spec version() :: String.t()
            def version do
              case :application.get_key(:$otp, :vsn) do
                {:ok, vsn} -> List.to_string(vsn)
                :undefined -> "0.0.0-dev"
              end
            end
            "###,
            &n.vars(),
        );
        self.fill_functions();
        self.o.close("end");
    }

    fn application(&mut self, d: &Domain, n: &Names) {
        let mut v = n.vars();
        let mut children = String::new();
        for w in &d.workers {
            children.push_str(&format!("\n      {}.Workers.{},", n.app, camel(w)));
        }
        v.push(("children", &children));
        self.o.tpl(
            r###"
            defmodule $App.Application do
              # See https://hexdocs.pm/elixir/Application.html
              # for more information on OTP Applications
              @moduledoc false

              use Application

              require Logger

              @impl true
              def start(_type, _args) do
                children = [
                  $App.Repo,
                  {DNSCluster, query: Application.get_env(:$otp, :dns_cluster_query) || :ignore},
                  {Phoenix.PubSub, name: $App.PubSub},
                  {Finch, name: $App.Finch},
                  {Registry, keys: :unique, name: $App.Registry},
                  {Task.Supervisor, name: $App.TaskSupervisor},
                  {DynamicSupervisor, name: $App.WorkerSupervisor, strategy: :one_for_one},$children
                  $Web.Telemetry,
                  $Web.Endpoint
                ]

                # See https://hexdocs.pm/elixir/Supervisor.html
                # for other strategies and supported options
                opts = [strategy: :one_for_one, name: $App.Supervisor]

                case Supervisor.start_link(children, opts) do
                  {:ok, pid} ->
                    Logger.info("$otp started with #{length(children)} children")
                    {:ok, pid}

                  {:error, reason} = error ->
                    Logger.error("$otp failed to start: #{inspect(reason)}")
                    error
                end
              end

              # Tell Phoenix to update the endpoint configuration
              # whenever the application is updated.
              @impl true
              def config_change(changed, _new, removed) do
                $Web.Endpoint.config_change(changed, removed)
                :ok
              end
            end
            "###,
            &v,
        );
    }

    fn repo(&mut self, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $App.Repo do
              use Ecto.Repo,
                otp_app: :$otp,
                adapter: Ecto.Adapters.Postgres

              import Ecto.Query, only: [limit: 2, offset: 2]

              @default_page_size 25

              @doc """
              Paginates a query; pages start at 1.
              """
              def paginate(query, page \\ 1, per_page \\ @default_page_size)
                  when is_integer(page) and page > 0 do
                query
                |> limit(^per_page)
                |> offset(^((page - 1) * per_page))
                |> all()
              end

              @doc "Fetches a record or returns `{:error, :not_found}`."
              def fetch(queryable, id, opts \\ []) do
                case get(queryable, id, opts) do
                  nil -> {:error, :not_found}
                  record -> {:ok, record}
                end
              end
            end
            "###,
            &n.vars(),
        );
    }

    fn seeds(&mut self, d: &Domain, n: &Names) {
        self.o.tpl(
            r###"
            # Script for populating the database. You can run it as:
            #
            #     mix run priv/repo/seeds.exs
            #
            # Inside the script, you can read and write to any of your
            # repositories directly:
            alias $App.Repo
            "###,
            &n.vars(),
        );
        for (i, e) in d.entities.iter().enumerate().take(8) {
            let en = EntityNames::of(d, i);
            let mut v = en.vars(n);
            let count = ((e.fields.len() + 3) * 7).to_string();
            v.push(("count", &count));
            self.o.blank();
            self.o.tpl(
                r###"
                for i <- 1..$count do
                  Repo.insert!(%$App.$Ctx.$E{
                    id: Ecto.UUID.generate(),
                    inserted_at: DateTime.utc_now() |> DateTime.truncate(:second)
                  })
                end
                "###,
                &v,
            );
        }
        self.o.blank();
        self.o.line(
            "IO.puts(\"seeded #{Repo.aggregate(\"schema_migrations\", :count)} migrations\")",
        );
    }

    fn test_helper(&mut self, n: &Names, web: bool) {
        self.o.line("ExUnit.start(exclude: [:integration])");
        if !web {
            self.o.line(&format!(
                "Ecto.Adapters.SQL.Sandbox.mode({}.Repo, :manual)",
                n.app
            ));
        }
    }

    fn data_case(&mut self, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $App.DataCase do
              @moduledoc """
              This module defines the setup for tests requiring
              access to the application's data layer.

              You may define functions here to be used as helpers in
              your tests.
              """

              use ExUnit.CaseTemplate

              using do
                quote do
                  alias $App.Repo

                  import Ecto
                  import Ecto.Changeset
                  import Ecto.Query
                  import $App.DataCase
                end
              end

              setup tags do
                $App.DataCase.setup_sandbox(tags)
                :ok
              end

              @doc """
              Sets up the sandbox based on the test tags.
              """
              def setup_sandbox(tags) do
                pid = Ecto.Adapters.SQL.Sandbox.start_owner!($App.Repo, shared: not tags[:async])
                on_exit(fn -> Ecto.Adapters.SQL.Sandbox.stop_owner(pid) end)
              end

              @doc """
              A helper that transforms changeset errors into a map of messages.

                  assert {:error, changeset} = Accounts.create_user(%{password: "short"})
                  assert "password is too short" in errors_on(changeset).password
                  assert %{password: ["password is too short"]} = errors_on(changeset)

              """
              def errors_on(changeset) do
                Ecto.Changeset.traverse_errors(changeset, fn {message, opts} ->
                  Regex.replace(~r"%{(\w+)}", message, fn _, key ->
                    opts |> Keyword.get(String.to_existing_atom(key), key) |> to_string()
                  end)
                end)
              end
            end
            "###,
            &n.vars(),
        );
    }

    fn conn_case(&mut self, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $Web.ConnCase do
              @moduledoc """
              This module defines the test case to be used by
              tests that require setting up a connection.
              """

              use ExUnit.CaseTemplate

              using do
                quote do
                  # The default endpoint for testing
                  @endpoint $Web.Endpoint

                  use $Web, :verified_routes

                  # Import conveniences for testing with connections
                  import Plug.Conn
                  import Phoenix.ConnTest
                  import $Web.ConnCase
                end
              end

              setup tags do
                $App.DataCase.setup_sandbox(tags)
                {:ok, conn: Phoenix.ConnTest.build_conn()}
              end
            end
            "###,
            &n.vars(),
        );
    }

    // ---------------------------------------------------------------- Ecto

    fn schema(&mut self, d: &Domain, n: &Names, entity: usize) {
        let en = EntityNames::of(d, entity);
        let e = &d.entities[entity];
        let mut v = en.vars(n);
        let table = en.es.clone();
        v.push(("table", &table));
        let derive = self.r.chance(40);
        self.o
            .open(&format!("defmodule {}.{}.{} do", n.app, en.ctx_mod, en.ent));
        self.o.tpl(
            r###"
            @moduledoc """
            A $human as stored in the `$table` table.

            See `$App.$Ctx` for the functions that load and change it.
            """
            use Ecto.Schema
            import Ecto.Changeset
            "###,
            &v,
        );
        let parent = e.parent.map(|p| EntityNames::of(d, p));
        if let Some(p) = &parent {
            self.o
                .line(&format!("alias {}.{}.{}", n.app, p.ctx_mod, p.ent));
        }
        self.o.blank();
        self.o.line("@type t :: %__MODULE__{}");
        self.o.blank();
        if derive {
            let names: Vec<String> = e
                .fields
                .iter()
                .take(4)
                .map(|&f| format!(":{}", FIELDS[f].0))
                .collect();
            self.o.line(&format!(
                "@derive {{Jason.Encoder, only: [:id, {}]}}",
                names.join(", ")
            ));
        }
        self.o
            .line("@primary_key {:id, :binary_id, autogenerate: true}");
        self.o.line("@foreign_key_type :binary_id");
        let required: Vec<String> = e
            .fields
            .iter()
            .take(2)
            .map(|&f| format!(":{}", FIELDS[f].0))
            .collect();
        let optional: Vec<String> = e
            .fields
            .iter()
            .skip(2)
            .map(|&f| format!(":{}", FIELDS[f].0))
            .collect();
        self.o
            .line(&format!("@required_fields [{}]", required.join(", ")));
        self.o
            .line(&format!("@optional_fields [{}]", optional.join(", ")));
        self.o.blank();
        self.o.open(&format!("schema \"{table}\" do"));
        for &f in &e.fields {
            self.o
                .line(&format!("field :{}, {}", FIELDS[f].0, FIELDS[f].1));
        }
        if self.r.chance(30) {
            self.o.line("field :lock_version, :integer, default: 1");
            self.o
                .line("field :confirm, :string, virtual: true, redact: true");
        }
        if let Some(p) = &parent {
            self.o.line(&format!("belongs_to :{}, {}", p.e, p.ent));
        }
        if self.r.chance(35) {
            self.o
                .open("embeds_one :settings, Settings, on_replace: :update do");
            self.o.line("field :notify, :boolean, default: true");
            self.o
                .line("field :channel, Ecto.Enum, values: [:email, :sms, :push]");
            self.o.close("end");
        }
        if self.r.chance(30) {
            self.o.line(&format!(
                "many_to_many :tags, {}.Tags.Tag, join_through: \"{}_tags\", on_replace: :delete",
                n.app, en.e
            ));
        }
        self.o.blank();
        self.o.line("timestamps(type: :utc_datetime)");
        self.o.close("end");
        self.o.blank();
        self.o.tpl(
            r###"
            @doc false
            def changeset($e, attrs) do
              $e
              |> cast(attrs, @required_fields ++ @optional_fields)
              |> validate_required(@required_fields)
            "###,
            &v,
        );
        self.o.indent += 1;
        for &f in &e.fields {
            let (name, ty, ..) = FIELDS[f];
            match name {
                "email" => self.o.line(
                    "|> validate_format(:email, ~r/^[^\\s]+@[^\\s]+$/, message: \"must have the @ sign and no spaces\")",
                ),
                "name" | "slug" | "external_ref" => {
                    self.o.line(&format!("|> validate_length(:{name}, min: 2, max: 160)"))
                }
                _ if ty.starts_with(":integer") || ty.starts_with(":float") => self
                    .o
                    .line(&format!("|> validate_number(:{name}, greater_than_or_equal_to: 0)")),
                _ => {}
            }
        }
        if e.fields.iter().any(|&f| FIELDS[f].0 == "slug") {
            self.o.line("|> unique_constraint(:slug)");
        }
        if let Some(p) = &parent {
            self.o
                .line(&format!("|> foreign_key_constraint(:{}_id)", p.e));
        }
        self.o.line("|> put_defaults()");
        self.o.indent -= 1;
        self.o.line("end");
        self.o.blank();
        self.o.tpl(
            r###"
            defp put_defaults(%Ecto.Changeset{valid?: true, changes: changes} = changeset)
                 when map_size(changes) > 0 do
              changeset
              |> put_change(:updated_at, DateTime.utc_now() |> DateTime.truncate(:second))
            end

            defp put_defaults(changeset), do: changeset
            "###,
            &[],
        );
        if self.r.chance(30) {
            self.o.blank();
            self.o.tpl(
                r###"
                defimpl Phoenix.Param do
                  def to_param(%{id: id}), do: to_string(id)
                end
                "###,
                &[],
            );
        }
        self.fill_functions();
        self.o.close("end");
    }

    fn migration(&mut self, d: &Domain, n: &Names, entity: usize) {
        let en = EntityNames::of(d, entity);
        let e = &d.entities[entity];
        self.o.open(&format!(
            "defmodule {}.Repo.Migrations.Create{} do",
            n.app, en.ents
        ));
        self.o.line("use Ecto.Migration");
        self.o.blank();
        self.o.open("def change do");
        self.o
            .open(&format!("create table(:{}, primary_key: false) do", en.es));
        self.o.line("add :id, :binary_id, primary_key: true");
        for (i, &f) in e.fields.iter().enumerate() {
            let null = if i < 2 { ", null: false" } else { "" };
            self.o
                .line(&format!("add :{}, {}{null}", FIELDS[f].0, FIELDS[f].2));
        }
        let parent = e.parent.map(|p| EntityNames::of(d, p));
        if let Some(p) = &parent {
            self.o.line(&format!(
                "add :{}_id, references(:{}, on_delete: :delete_all, type: :binary_id)",
                p.e, p.es
            ));
        }
        self.o.blank();
        self.o.line("timestamps(type: :utc_datetime)");
        self.o.close("end");
        self.o.blank();
        if let Some(p) = &parent {
            self.o
                .line(&format!("create index(:{}, [:{}_id])", en.es, p.e));
        }
        if e.fields.iter().any(|&f| FIELDS[f].0 == "slug") {
            self.o
                .line(&format!("create unique_index(:{}, [:slug])", en.es));
        }
        let first = FIELDS[e.fields[0]].0;
        self.o.line(&format!(
            "create index(:{}, [:{first}, :inserted_at])",
            en.es
        ));
        self.o.close("end");
        self.o.close("end");
    }

    fn alter_migration(&mut self, d: &Domain, n: &Names, entity: usize) {
        let en = EntityNames::of(d, entity);
        let mut v = en.vars(n);
        let col = self
            .r
            .pick(&["archived_at", "deleted_at", "reviewed_at", "synced_at"])
            .to_string();
        v.push(("col", &col));
        self.o.tpl(
            r###"
            defmodule $App.Repo.Migrations.Alter$Es do
              use Ecto.Migration

              @disable_ddl_transaction true
              @disable_migration_lock true

              def up do
                alter table(:$es) do
                  add :$col, :utc_datetime
                  modify :inserted_at, :utc_datetime, default: fragment("now()")
                end

                execute """
                CREATE INDEX CONCURRENTLY IF NOT EXISTS ${es}_${col}_index
                ON $es ($col)
                WHERE $col IS NOT NULL
                """
              end

              def down do
                execute "DROP INDEX IF EXISTS ${es}_${col}_index"

                alter table(:$es) do
                  remove :$col
                end
              end
            end
            "###,
            &v,
        );
    }

    fn query(&mut self, d: &Domain, n: &Names, entity: usize) {
        let en = EntityNames::of(d, entity);
        let mut v = en.vars(n);
        let first = FIELDS[d.entities[entity].fields[0]].0;
        v.push(("f", first));
        self.o.tpl(
            r###"
            defmodule $App.$Ctx.${E}Query do
              @moduledoc """
              Composable queries over `$App.$Ctx.$E`.

                  ${E}Query.base()
                  |> ${E}Query.recent(days: 7)
                  |> ${E}Query.search("term")
                  |> Repo.all()
              """
              import Ecto.Query, warn: false

              alias $App.$Ctx.$E

              @spec base() :: Ecto.Query.t()
              def base, do: from(x in $E, as: :$e)

              def recent(query \\ base(), opts) do
                days = Keyword.get(opts, :days, 30)
                since = DateTime.add(DateTime.utc_now(), -days * 86_400, :second)

                from [$e: x] in query,
                  where: x.inserted_at >= ^since,
                  order_by: [desc: x.inserted_at]
              end

              def search(query, term) when is_binary(term) and byte_size(term) > 0 do
                pattern = "%#{String.replace(term, ["%", "_"], "")}%"
                where(query, [$e: x], ilike(type(x.$f, :string), ^pattern))
              end

              def search(query, _term), do: query

              def count_by_day(query \\ base()) do
                from x in query,
                  group_by: fragment("date_trunc('day', ?)", x.inserted_at),
                  select: {fragment("date_trunc('day', ?)", x.inserted_at), count(x.id)}
              end
            "###,
            &v,
        );
        self.o.indent += 1;
        self.fill_functions();
        self.o.close("end");
    }

    fn context(&mut self, d: &Domain, n: &Names, c: usize) {
        let ctx = &d.contexts[c];
        let ctx_mod = camel(&ctx.name);
        let ents: Vec<String> = ctx
            .entities
            .iter()
            .map(|&e| camel(&d.entities[e].name))
            .collect();
        let aliases = if ents.len() == 1 {
            format!("alias {}.{}.{}", n.app, ctx_mod, ents[0])
        } else {
            format!("alias {}.{}.{{{}}}", n.app, ctx_mod, ents.join(", "))
        };
        let mut v = n.vars();
        v.extend([("Ctx", ctx_mod.as_str()), ("aliases", aliases.as_str())]);
        self.o.tpl(
            r###"
            defmodule $App.$Ctx do
              @moduledoc """
              The $Ctx context.
              """

              import Ecto.Query, warn: false
              require Logger

              alias $App.Repo
              $aliases
              alias Ecto.Multi
            "###,
            &v,
        );
        self.o.indent += 1;
        for &e in &ctx.entities {
            let en = EntityNames::of(d, e);
            let mut v = en.vars(n);
            let f = FIELDS[d.entities[e].fields[0]].0;
            v.push(("f", f));
            self.o.blank();
            self.o.tpl(
                r###"
                @doc """
                Returns the list of $humans.

                ## Examples

                    iex> list_$es()
                    [%$E{}, ...]

                """
                @spec list_$es(keyword()) :: [$E.t()]
                def list_$es(opts \\ []) do
                  limit = Keyword.get(opts, :limit, 50)
                  since = Keyword.get(opts, :since)

                  from(x in $E,
                    order_by: [desc: x.inserted_at, asc: x.$f],
                    limit: ^limit
                  )
                  |> then(fn query ->
                    if since, do: where(query, [x], x.inserted_at >= ^since), else: query
                  end)
                  |> Repo.all()
                end

                @doc """
                Gets a single $human.

                Raises `Ecto.NoResultsError` if the $E does not exist.
                """
                def get_$e!(id), do: Repo.get!($E, id)

                def get_$e(id) when is_binary(id) do
                  case Ecto.UUID.cast(id) do
                    {:ok, uuid} -> Repo.get($E, uuid)
                    :error -> nil
                  end
                end

                @doc """
                Creates a $human.
                """
                def create_$e(attrs \\ %{}) do
                  %$E{}
                  |> $E.changeset(attrs)
                  |> Repo.insert()
                  |> tap(fn
                    {:ok, $e} -> broadcast({:${e}_created, $e})
                    {:error, _changeset} -> :ok
                  end)
                end

                @doc """
                Updates a $human.
                """
                def update_$e(%$E{} = $e, attrs) do
                  $e
                  |> $E.changeset(attrs)
                  |> Repo.update()
                end

                @doc """
                Deletes a $human.
                """
                def delete_$e(%$E{} = $e) do
                  Repo.delete($e)
                end

                @doc """
                Returns an `%Ecto.Changeset{}` for tracking $human changes.
                """
                def change_$e(%$E{} = $e, attrs \\ %{}) do
                  $E.changeset($e, attrs)
                end

                def count_${es}_by(field) when field in [:$f, :inserted_at] do
                  from(x in $E, group_by: field(x, ^field), select: {field(x, ^field), count(x.id)})
                  |> Repo.all()
                  |> Map.new()
                end
                "###,
                &v,
            );
        }
        let first = EntityNames::of(d, ctx.entities[0]);
        let v = first.vars(n);
        self.o.blank();
        self.o.tpl(
            r###"
            @doc """
            Archives every $human older than `days` in one transaction.
            """
            def archive_stale_$es(days \\ 90) do
              cutoff = DateTime.add(DateTime.utc_now(), -days * 86_400, :second)
              query = from(x in $E, where: x.inserted_at < ^cutoff)

              Multi.new()
              |> Multi.run(:count, fn repo, _changes -> {:ok, repo.aggregate(query, :count)} end)
              |> Multi.delete_all(:deleted, query)
              |> Multi.run(:audit, fn _repo, %{count: count} ->
                Logger.info("archived #{count} $humans older than #{days} days")
                {:ok, count}
              end)
              |> Repo.transaction()
              |> case do
                {:ok, %{deleted: {deleted, _}}} -> {:ok, deleted}
                {:error, step, reason, _changes} -> {:error, {step, reason}}
              end
            end

            def subscribe do
              Phoenix.PubSub.subscribe($App.PubSub, "$ctx")
            end

            defp broadcast(message) do
              Phoenix.PubSub.broadcast($App.PubSub, "$ctx", message)
            end
            "###,
            &v,
        );
        self.fill_functions();
        self.o.close("end");
    }

    fn fixtures(&mut self, d: &Domain, n: &Names, c: usize) {
        let ctx = &d.contexts[c];
        self.o.open(&format!(
            "defmodule {}.{}Fixtures do",
            n.app,
            camel(&ctx.name)
        ));
        self.o.tpl(
            r###"
            @moduledoc """
            This module defines test helpers for creating
            entities via the `$App.$Ctx` context.
            "###,
            &[("App", &n.app), ("Ctx", &camel(&ctx.name))],
        );
        self.o.line("\"\"\"");
        for &e in &ctx.entities {
            let en = EntityNames::of(d, e);
            let mut v = en.vars(n);
            let attrs: Vec<String> = d.entities[e]
                .fields
                .iter()
                .map(|&f| format!("{}: {}", FIELDS[f].0, FIELDS[f].3))
                .collect();
            let attrs = attrs.join(",\n      ");
            v.push(("attrs", &attrs));
            self.o.blank();
            self.o.tpl(
                r###"
                def unique_${e}_ref, do: "$e#{System.unique_integer([:positive])}"

                @doc """
                Generate a $human.
                """
                def ${e}_fixture(attrs \\ %{}) do
                  {:ok, $e} =
                    attrs
                    |> Enum.into(%{
                      $attrs
                    })
                    |> $App.$Ctx.create_$e()

                  $e
                end
                "###,
                &v,
            );
        }
        self.o.close("end");
    }

    fn embedded_schema(&mut self, n: &Names, name: &str) {
        let m = camel(name);
        let count = self.r.range(3, 7);
        let fields = self.r.subset(FIELDS.len(), count);
        self.o
            .open(&format!("defmodule {}.Embedded.{m}Settings do", n.app));
        self.o.line(&format!(
            "@moduledoc \"Settings embedded in the {} records.\"",
            name.replace('_', " ")
        ));
        self.o.line("use Ecto.Schema");
        self.o.line("import Ecto.Changeset");
        self.o.blank();
        self.o.line("@primary_key false");
        self.o.open("embedded_schema do");
        for &f in &fields {
            self.o
                .line(&format!("field :{}, {}", FIELDS[f].0, FIELDS[f].1));
        }
        self.o.close("end");
        let names: Vec<String> = fields
            .iter()
            .map(|&f| format!(":{}", FIELDS[f].0))
            .collect();
        self.o.blank();
        self.o.tpl(
            r###"
            def changeset(settings, attrs) do
              settings
              |> cast(attrs, [$names])
              |> validate_required([$first])
            end
            "###,
            &[("names", &names.join(", ")), ("first", &names[0])],
        );
        self.fill_functions();
        self.o.close("end");
    }

    // ---------------------------------------------------------------- OTP

    fn genserver(&mut self, n: &Names, w: &str) {
        let m = camel(w);
        let mut v = n.vars();
        v.extend([("M", m.as_str()), ("w", w)]);
        self.o.tpl(
            r###"
            defmodule $App.Workers.$M do
              @moduledoc """
              Keeps the $w state in memory and serves it to callers.

              Started under `$App.Application`; one per node.
              """
              use GenServer
              require Logger

              alias __MODULE__.State

              @default_interval :timer.seconds(30)
              @max_entries 10_000

              defmodule State do
                @moduledoc false
                @enforce_keys [:interval]
                defstruct [:interval, :timer_ref, :monitor_ref, entries: %{}, counter: 0, status: :idle]

                @type t :: %__MODULE__{
                        interval: pos_integer(),
                        timer_ref: reference() | nil,
                        entries: map(),
                        counter: non_neg_integer(),
                        status: :idle | :busy | :degraded
                      }
              end

              # Client API

              def start_link(opts \\ []) do
                name = Keyword.get(opts, :name, __MODULE__)
                GenServer.start_link(__MODULE__, opts, name: name)
              end

              @spec lookup(GenServer.server(), term()) :: {:ok, term()} | :error
              def lookup(server \\ __MODULE__, key), do: GenServer.call(server, {:lookup, key})

              def put(server \\ __MODULE__, key, value), do: GenServer.cast(server, {:put, key, value})

              def stats(server \\ __MODULE__), do: GenServer.call(server, :stats, 10_000)

              # Server callbacks

              @impl true
              def init(opts) do
                Process.flag(:trap_exit, true)
                interval = Keyword.get(opts, :interval, @default_interval)
                {:ok, schedule_tick(%State{interval: interval}), {:continue, :load}}
              end

              @impl true
              def handle_continue(:load, %State{} = state) do
                Logger.debug("#{inspect(__MODULE__)} loading")
                {:noreply, %{state | status: :busy}}
              end

              @impl true
              def handle_call({:lookup, key}, _from, %State{entries: entries} = state) do
                case Map.fetch(entries, key) do
                  {:ok, value} -> {:reply, {:ok, value}, state}
                  :error -> {:reply, :error, state}
                end
              end

              def handle_call(:stats, _from, state) do
                {:reply, Map.take(state, [:counter, :status]), state}
              end
            "###,
            &v,
        );
        self.o.indent += 1;
        let mut used_msgs = Vec::new();
        let calls = self.r.range(1, 4);
        for _ in 0..calls {
            self.handle_clause("call", &mut used_msgs);
        }
        self.o.blank();
        self.o.tpl(
            r###"
            @impl true
            def handle_cast({:put, key, value}, %State{entries: entries} = state)
                when map_size(entries) < @max_entries do
              {:noreply, %{state | entries: Map.put(entries, key, value), counter: state.counter + 1}}
            end

            def handle_cast({:put, key, _value}, state) do
              Logger.warning("#{inspect(__MODULE__)} full, dropping #{inspect(key)}")
              {:noreply, state}
            end
            "###,
            &[],
        );
        for _ in 0..self.r.range(1, 3) {
            self.handle_clause("cast", &mut used_msgs);
        }
        self.o.blank();
        self.o.tpl(
            r###"
            @impl true
            def handle_info(:tick, state) do
              {:noreply, schedule_tick(%{state | status: :idle})}
            end

            def handle_info({:DOWN, ref, :process, _pid, reason}, %State{monitor_ref: ref} = state) do
              Logger.warning("monitored process down: #{inspect(reason)}")
              {:noreply, %{state | monitor_ref: nil, status: :degraded}}
            end

            def handle_info({:EXIT, _pid, :normal}, state), do: {:noreply, state}
            "###,
            &[],
        );
        for _ in 0..self.r.range(1, 3) {
            self.handle_clause("info", &mut used_msgs);
        }
        self.o.blank();
        self.o.tpl(
            r###"
            def handle_info(message, state) do
              Logger.warning("#{inspect(__MODULE__)} unexpected message: #{inspect(message)}")
              {:noreply, state}
            end

            @impl true
            def terminate(reason, %State{timer_ref: ref}) do
              if ref, do: Process.cancel_timer(ref)
              Logger.info("#{inspect(__MODULE__)} terminating: #{inspect(reason)}")
              :ok
            end

            defp schedule_tick(%State{interval: interval} = state) do
              %{state | timer_ref: Process.send_after(self(), :tick, interval)}
            end
            "###,
            &[],
        );
        self.fill_functions();
        self.o.close("end");
    }

    fn handle_clause(&mut self, which: &str, used: &mut Vec<String>) {
        let msg = loop {
            let m = format!("{}_{}", self.r.pick(VERBS), self.r.pick(OBJECTS));
            if !used.contains(&m) {
                used.push(m.clone());
                break m;
            }
        };
        let p = self.params(1)[0];
        let mut vars = vec![p, "state"];
        self.o.blank();
        let head = match which {
            "call" => format!("def handle_call({{:{msg}, {p}}}, from, %State{{}} = state) do"),
            "cast" => format!("def handle_cast({{:{msg}, {p}}}, state) do"),
            _ => format!("def handle_info({{:{msg}, {p}}}, state) when not is_nil({p}) do"),
        };
        self.o.open(&head);
        for _ in 0..self.r.range(1, 3) {
            self.stmt(&mut vars);
        }
        let new_state = format!(
            "%{{state | counter: state.counter + 1, entries: Map.put(state.entries, :{msg}, {p})}}"
        );
        match which {
            "call" => {
                if self.r.chance(30) {
                    self.o.line("GenServer.reply(from, :ok)");
                    self.o.line(&format!("{{:noreply, {new_state}}}"));
                } else {
                    self.o.line("_ = from");
                    self.o
                        .line(&format!("{{:reply, {{:ok, {p}}}, {new_state}}}"));
                }
            }
            _ => self.o.line(&format!("{{:noreply, {new_state}}}")),
        }
        self.o.close("end");
    }

    fn worker_test(&mut self, n: &Names, w: &str) {
        let m = camel(w);
        let mut v = n.vars();
        v.extend([("M", m.as_str()), ("w", w)]);
        self.o.tpl(
            r###"
            defmodule $App.Workers.${M}Test do
              use ExUnit.Case, async: true

              alias $App.Workers.$M

              setup do
                pid = start_supervised!({$M, name: nil, interval: 50})
                %{server: pid}
              end

              describe "lookup/2" do
                test "returns :error for unknown keys", %{server: server} do
                  assert :error = $M.lookup(server, :missing)
                end

                test "returns stored values", %{server: server} do
                  :ok = $M.put(server, :answer, 42)
                  assert {:ok, 42} = $M.lookup(server, :answer)
                end
              end

              describe "stats/1" do
            "###,
            &v,
        );
        self.o.indent += 2;
        self.fill_tests(&["server"]);
        self.o.close("end");
        self.o.close("end");
    }

    /// ExUnit tests until the file reaches its target.
    fn fill_tests(&mut self, ctx_vars: &[&'static str]) {
        let mut i = 0;
        loop {
            self.one_test(ctx_vars, i);
            i += 1;
            if self.full() || i > 4000 {
                break;
            }
        }
    }

    fn one_test(&mut self, ctx_vars: &[&'static str], i: usize) {
        let name = format!(
            "{} {} case {}",
            self.r.pick(VERBS),
            self.r.pick(OBJECTS).replace('_', " "),
            i + 1
        );
        let a = self.atom();
        let f = self.fresh_call();
        self.o.blank();
        let bind = if ctx_vars.is_empty() {
            String::new()
        } else {
            format!(
                ", %{{{}}}",
                ctx_vars
                    .iter()
                    .map(|v| format!("{v}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        match self.r.below(5) {
            0 => self.o.tpl(
                r###"
                test "$name"$bind do
                  input = %{id: $n, status: :$a, tags: ~w(one two three)}
                  assert {:ok, result} = $f(input)
                  assert result.status == :$a
                  refute Map.has_key?(result, :secret)
                end
                "###,
                &[
                    ("name", &name),
                    ("bind", &bind),
                    ("n", &i.to_string()),
                    ("a", a),
                    ("f", &f),
                ],
            ),
            1 => self.o.tpl(
                r###"
                @tag :slow
                test "$name raises on invalid input"$bind do
                  assert_raise ArgumentError, ~r/unexpected/, fn ->
                    $f(:definitely_not_valid)
                  end
                end
                "###,
                &[("name", &name), ("bind", &bind), ("f", &f)],
            ),
            2 => self.o.tpl(
                r###"
                test "$name sends a notification"$bind do
                  parent = self()
                  ref = make_ref()

                  spawn_link(fn -> send(parent, {ref, :$a, $n}) end)

                  assert_receive {^ref, :$a, $n}, 500
                  refute_received {^ref, _, _}
                end
                "###,
                &[
                    ("name", &name),
                    ("bind", &bind),
                    ("n", &i.to_string()),
                    ("a", a),
                ],
            ),
            3 => self.o.tpl(
                r###"
                test "$name handles every variant"$bind do
                  for {input, expected} <- [{nil, :error}, {[], :empty}, {[1, 2], :ok}] do
                    assert match?({^expected, _}, {expected, input}),
                           "expected #{inspect(expected)} for #{inspect(input)}"
                  end
                end
                "###,
                &[("name", &name), ("bind", &bind)],
            ),
            _ => self.o.tpl(
                r###"
                test "$name keeps the order"$bind do
                  list = Enum.map(1..$n, &%{position: &1, label: "item #{&1}"})

                  assert list
                         |> Enum.shuffle()
                         |> Enum.sort_by(& &1.position)
                         |> Enum.map(& &1.label) == Enum.map(list, & &1.label)
                end
                "###,
                &[
                    ("name", &name),
                    ("bind", &bind),
                    ("n", &(i + 3).to_string()),
                ],
            ),
        }
    }

    fn supervisor(&mut self, n: &Names, w: &str) {
        let m = camel(w);
        let mut v = n.vars();
        v.extend([("M", m.as_str())]);
        self.o.tpl(
            r###"
            defmodule $App.Workers.${M}Supervisor do
              @moduledoc false
              use Supervisor

              def start_link(init_arg) do
                Supervisor.start_link(__MODULE__, init_arg, name: __MODULE__)
              end

              @impl true
              def init(init_arg) do
                children = [
                  {$App.Workers.$M, Keyword.take(init_arg, [:interval])},
                  %{
                    id: :${M}_cache,
                    start: {Agent, :start_link, [fn -> %{} end, [name: $App.Workers.${M}Cache]]}
                  },
                  Supervisor.child_spec({Task, fn -> warm_up() end}, id: :warm_up, restart: :temporary)
                ]

                Supervisor.init(children, strategy: :rest_for_one, max_restarts: 3, max_seconds: 5)
              end

              defp warm_up do
                Process.sleep(100)
                :ok
              end
            end
            "###,
            &v,
        );
    }

    fn dynamic_supervisor(&mut self, n: &Names, w: &str) {
        let m = camel(w);
        let mut v = n.vars();
        v.extend([("M", m.as_str())]);
        self.o.tpl(
            r###"
            defmodule $App.Workers.${M}DynamicSupervisor do
              @moduledoc "Starts one `$App.Workers.$M` per tenant on demand."
              use DynamicSupervisor

              def start_link(arg), do: DynamicSupervisor.start_link(__MODULE__, arg, name: __MODULE__)

              def start_child(tenant_id) when is_binary(tenant_id) do
                spec = {$App.Workers.$M, name: via(tenant_id)}

                case DynamicSupervisor.start_child(__MODULE__, spec) do
                  {:ok, pid} -> {:ok, pid}
                  {:error, {:already_started, pid}} -> {:ok, pid}
                  other -> other
                end
              end

              def via(tenant_id), do: {:via, Registry, {$App.Registry, {__MODULE__, tenant_id}}}

              def count, do: DynamicSupervisor.count_children(__MODULE__)

              @impl true
              def init(_arg) do
                DynamicSupervisor.init(strategy: :one_for_one, max_children: 1_000)
              end
            end
            "###,
            &v,
        );
    }

    fn agent(&mut self, n: &Names, w: &str) {
        let m = camel(w);
        let mut v = n.vars();
        v.extend([("M", m.as_str())]);
        self.o.tpl(
            r###"
            defmodule $App.Workers.${M}Store do
              @moduledoc false
              use Agent

              def start_link(initial \\ %{}) do
                Agent.start_link(fn -> initial end, name: __MODULE__)
              end

              def get(key, default \\ nil), do: Agent.get(__MODULE__, &Map.get(&1, key, default))
              def put(key, value), do: Agent.update(__MODULE__, &Map.put(&1, key, value))
              def increment(key), do: Agent.update(__MODULE__, &Map.update(&1, key, 1, fn n -> n + 1 end))
              def snapshot, do: Agent.get(__MODULE__, & &1)
            end
            "###,
            &v,
        );
    }

    fn task(&mut self, n: &Names, w: &str) {
        let m = camel(w);
        let mut v = n.vars();
        v.extend([("M", m.as_str())]);
        self.o.tpl(
            r###"
            defmodule $App.Workers.${M}Task do
              @moduledoc false
              use Task, restart: :transient

              require Logger

              def start_link(arg) do
                Task.start_link(__MODULE__, :run, [arg])
              end

              def run(arg) do
                arg
                |> List.wrap()
                |> Task.async_stream(&process/1, max_concurrency: 4, timeout: 15_000, on_timeout: :kill_task)
                |> Enum.reduce({0, 0}, fn
                  {:ok, :ok}, {ok, failed} -> {ok + 1, failed}
                  {:ok, _error}, {ok, failed} -> {ok, failed + 1}
                  {:exit, reason}, {ok, failed} ->
                    Logger.warning("task exited: #{inspect(reason)}")
                    {ok, failed + 1}
                end)
              end

              defp process(item) do
                receive do
                  {:cancel, ^item} -> :cancelled
                after
                  0 -> :ok
                end
              end
            end
            "###,
            &v,
        );
    }

    // ---------------------------------------------------------------- protocols, behaviours, macros

    fn protocol(&mut self, n: &Names, p: &str) {
        let m = camel(p);
        let mut v = n.vars();
        v.extend([("M", m.as_str()), ("p", p)]);
        self.o.tpl(
            r###"
            defprotocol $App.$M do
              @moduledoc """
              Converts domain values with the $p rules.

              Implemented for the schemas of `$App`, lists and maps; anything
              else falls back to the `Any` implementation.
              """
              @fallback_to_any true

              @doc "Converts `value` to a plain map."
              @spec convert(t, keyword()) :: map()
              def convert(value, opts)

              @doc "A short label for logs."
              @spec label(t) :: String.t()
              def label(value)
            end

            defimpl $App.$M, for: [List, Map] do
              def convert(value, opts) do
                Enum.into(value, %{}, fn
                  {k, v} -> {k, @protocol.convert(v, opts)}
                  v -> {v, true}
                end)
              end

              def label(value), do: "#{inspect(@for)} of #{Enum.count(value)}"
            end

            defimpl $App.$M, for: Any do
              defmacro __deriving__(module, _struct, options) do
                quote do
                  defimpl $App.$M, for: unquote(module) do
                    def convert(value, _opts), do: Map.take(value, unquote(Keyword.get(options, :only, [])))
                    def label(_value), do: unquote(inspect(module))
                  end
                end
              end

              def convert(value, _opts), do: %{value: value}
              def label(value), do: inspect(value)
            end
            "###,
            &v,
        );
    }

    fn protocol_impl(&mut self, d: &Domain, n: &Names, p: &str, entity: usize) {
        let en = EntityNames::of(d, entity);
        let m = camel(p);
        let mut v = en.vars(n);
        v.extend([("M", m.as_str())]);
        let f = FIELDS[d.entities[entity].fields[0]].0;
        v.push(("f", f));
        self.o.tpl(
            r###"
            defimpl $App.$M, for: $App.$Ctx.$E do
              alias $App.$Ctx.$E

              def convert(%$E{id: id, $f: $f} = $e, opts) do
                base = %{id: id, $f: $f, type: "$e"}

                if Keyword.get(opts, :full, false) do
                  Map.merge(base, Map.from_struct($e) |> Map.drop([:__meta__]))
                else
                  base
                end
              end

              def label(%$E{id: id}), do: "$E<#{id}>"
            "###,
            &v,
        );
        self.o.indent += 1;
        self.fill_functions();
        self.o.close("end");
    }

    fn behaviour(&mut self, n: &Names, b: &str) {
        let m = camel(b);
        let mut v = n.vars();
        v.extend([("M", m.as_str()), ("b", b)]);
        self.o.tpl(
            r###"
            defmodule $App.$M do
              @moduledoc """
              The $b behaviour. The adapter is chosen in config:

                  config :$otp, $App.$M, adapter: $App.$M.Local
              """

              @type result :: {:ok, map()} | {:error, term()}

              @callback deliver(payload :: map(), opts :: keyword()) :: result()
              @callback status(reference :: String.t()) :: {:ok, atom()} | {:error, :not_found}
              @callback cancel(reference :: String.t()) :: :ok | {:error, term()}
              @optional_callbacks cancel: 1

              @doc "The configured adapter."
              def adapter do
                :$otp
                |> Application.get_env(__MODULE__, [])
                |> Keyword.get(:adapter, $App.$M.Local)
              end

              def deliver(payload, opts \\ []), do: adapter().deliver(payload, opts)
              def status(reference), do: adapter().status(reference)

              def cancel(reference) do
                if function_exported?(adapter(), :cancel, 1) do
                  adapter().cancel(reference)
                else
                  {:error, :unsupported}
                end
              end
            "###,
            &v,
        );
        self.o.indent += 1;
        self.fill_functions();
        self.o.close("end");
    }

    fn behaviour_impl(&mut self, n: &Names, b: &str, adapter: &str) {
        let m = camel(b);
        let a = camel(adapter);
        let mut v = n.vars();
        v.extend([("M", m.as_str()), ("A", a.as_str()), ("a", adapter)]);
        self.o.tpl(
            r###"
            defmodule $App.$M.$A do
              @moduledoc false
              @behaviour $App.$M

              require Logger

              @timeout 5_000

              @impl $App.$M
              def deliver(%{} = payload, opts) when map_size(payload) > 0 do
                timeout = Keyword.get(opts, :timeout, @timeout)
                Logger.debug("$a deliver #{inspect(Map.keys(payload))} timeout=#{timeout}")
                {:ok, %{reference: "$a-#{System.unique_integer([:positive])}", payload: payload}}
              end

              def deliver(_payload, _opts), do: {:error, :empty_payload}

              @impl $App.$M
              def status("$a-" <> _rest), do: {:ok, :delivered}
              def status(_reference), do: {:error, :not_found}
            "###,
            &v,
        );
        self.o.indent += 1;
        self.fill_functions();
        self.o.close("end");
    }

    fn dsl(&mut self, n: &Names, x: &str) {
        let m = camel(x);
        let mut v = n.vars();
        v.extend([("M", m.as_str())]);
        self.o.tpl(
            r###"
            defmodule $App.DSL.$M do
              @moduledoc """
              A small DSL for declaring processing stages:

                  defmodule MyPipeline do
                    use $App.DSL.$M, name: :my_pipeline

                    stage :trim do
                      {:ok, String.trim(input)}
                    end
                  end
              """

              defmacro __using__(opts) do
                name = Keyword.get(opts, :name, :default)

                quote do
                  import $App.DSL.$M, only: [stage: 2, stage: 3]
                  Module.register_attribute(__MODULE__, :stages, accumulate: true)
                  @before_compile $App.DSL.$M
                  @pipeline_name unquote(name)

                  def run(input), do: $App.DSL.$M.__run__(__MODULE__, input)
                  def name, do: @pipeline_name

                  defoverridable run: 1
                end
              end

              defmacro stage(name, opts \\ [], do: block) do
                fun_name = :"__stage_#{name}__"

                quote do
                  @stages {unquote(name), unquote(opts)}
                  def unquote(fun_name)(var!(input)) do
                    _ = var!(input)
                    unquote(block)
                  end
                end
              end

              defmacro __before_compile__(env) do
                stages = env.module |> Module.get_attribute(:stages) |> Enum.reverse()

                quote do
                  def __stages__, do: unquote(Macro.escape(stages))
                end
              end

              @doc false
              def __run__(module, input) do
                Enum.reduce_while(module.__stages__(), {:ok, input}, fn {name, _opts}, {:ok, acc} ->
                  case apply(module, :"__stage_#{name}__", [acc]) do
                    {:ok, next} -> {:cont, {:ok, next}}
                    {:error, _} = error -> {:halt, error}
                  end
                end)
              end
            end
            "###,
            &v,
        );
    }

    fn dsl_user(&mut self, n: &Names, x: &str, user: &str) {
        let m = camel(x);
        let u = camel(user);
        let mut v = n.vars();
        v.extend([("M", m.as_str()), ("U", u.as_str()), ("u", user)]);
        self.o.tpl(
            r###"
            defmodule $App.Pipelines.$U$M do
              @moduledoc false
              use $App.DSL.$M, name: :${u}

              stage :trim do
                {:ok, String.trim(input)}
              end

              stage :downcase, log: true do
                {:ok, String.downcase(input)}
              end
            "###,
            &v,
        );
        self.o.indent += 1;
        let mut i = 0;
        while !self.full() && i < 2000 {
            let a = self.atom();
            let limit = self.r.range(8, 4096);
            self.o.blank();
            self.o.tpl(
                r###"
                stage :${a}_$i, max: $limit do
                  if byte_size(input) > $limit do
                    {:error, {:too_long, :$a}}
                  else
                    {:ok, input <> "-$a"}
                  end
                end
                "###,
                &[
                    ("a", a),
                    ("i", &i.to_string()),
                    ("limit", &limit.to_string()),
                ],
            );
            i += 1;
        }
        self.o.close("end");
    }

    fn exception(&mut self, n: &Names, x: &str) {
        let m = camel(x);
        let mut v = n.vars();
        v.extend([("M", m.as_str()), ("x", x)]);
        self.o.tpl(
            r###"
            defmodule $App.${M}Error do
              @moduledoc "Raised when the $x cannot finish its work."
              defexception [:message, :reason, details: %{}]

              @impl true
              def exception(opts) when is_list(opts) do
                reason = Keyword.get(opts, :reason, :unknown)
                details = Keyword.get(opts, :details, %{})
                %__MODULE__{message: message_for(reason, details), reason: reason, details: details}
              end

              def exception(message) when is_binary(message) do
                %__MODULE__{message: message, reason: :custom}
              end

              defp message_for(:timeout, %{after: ms}), do: "$x timed out after #{ms} ms"
              defp message_for(:invalid, %{field: field}), do: "$x got an invalid #{field}"
              defp message_for(reason, _details), do: "$x failed: #{inspect(reason)}"
            end
            "###,
            &v,
        );
    }

    fn mix_task(&mut self, n: &Names, x: &str) {
        let m = camel(x);
        let mut v = n.vars();
        v.extend([("M", m.as_str()), ("x", x)]);
        self.o.tpl(
            r###"
            defmodule Mix.Tasks.$App.$M do
              @shortdoc "Runs the $x maintenance job"
              @moduledoc """
              Runs the $x maintenance job.

                  mix $otp.$x --dry-run --limit 100

              ## Options

                * `--dry-run` - only print what would change
                * `--limit` - stop after this many records (default: 1000)
              """
              use Mix.Task

              @switches [dry_run: :boolean, limit: :integer, verbose: :boolean]
              @aliases [n: :dry_run, l: :limit, v: :verbose]

              @impl Mix.Task
              def run(argv) do
                {opts, _args, invalid} = OptionParser.parse(argv, strict: @switches, aliases: @aliases)

                unless invalid == [] do
                  Mix.raise("unknown options: #{inspect(invalid)}")
                end

                Mix.Task.run("app.start")
                limit = Keyword.get(opts, :limit, 1_000)

                {time, result} = :timer.tc(fn -> execute(limit, opts[:dry_run] || false) end)
                Mix.shell().info("$x finished in #{div(time, 1000)} ms: #{inspect(result)}")
              end

              defp execute(limit, true = _dry_run), do: %{would_process: limit}
              defp execute(limit, false), do: %{processed: limit}
            "###,
            &v,
        );
        self.o.indent += 1;
        self.fill_functions();
        self.o.close("end");
    }

    fn utility(&mut self, n: &Names, name: &str, tiny: bool) {
        let m = camel(name);
        if tiny {
            let a = self.atom();
            self.o.open(&format!("defmodule {}.Utils.{m} do", n.app));
            self.o.line("@moduledoc false");
            self.o.blank();
            self.o
                .line(&format!("def {name}(value), do: {{:{a}, value}}"));
            self.o.close("end");
            return;
        }
        self.o.open(&format!("defmodule {}.Utils.{m} do", n.app));
        self.o.tpl(
            r###"
            @moduledoc """
            Helpers for $name work shared by the contexts.

            Everything here is pure: no database, no processes.
            """

            require Logger
            import Bitwise, only: [band: 2, bsl: 2]

            @compile {:inline, clamp: 3}
            @separator ~s(|)
            @known_keys ~w(id name status inserted_at)a

            defguard is_positive(value) when is_integer(value) and value > 0

            @spec clamp(number(), number(), number()) :: number()
            def clamp(value, lo, hi) when lo <= hi, do: value |> max(lo) |> min(hi)

            def flags(bits) when is_integer(bits), do: for(i <- 0..7, band(bits, bsl(1, i)) != 0, do: i)

            def join_keys(map) when is_map(map) do
              map
              |> Map.take(@known_keys)
              |> Enum.map_join(@separator, fn {k, v} -> "#{k}=#{v}" end)
            end
            "###,
            &[("name", &name.replace('_', " "))],
        );
        if self.r.chance(30) {
            self.o.blank();
            self.o.tpl(
                r###"
                defmodule Result do
                  @moduledoc false
                  defstruct ok: [], failed: [], skipped: 0

                  def new, do: %__MODULE__{}
                  def ok(%__MODULE__{ok: ok} = r, item), do: %{r | ok: [item | ok]}
                  def failed(%__MODULE__{failed: f} = r, item, why), do: %{r | failed: [{item, why} | f]}
                end
                "###,
                &[],
            );
        }
        self.fill_functions();
        self.o.close("end");
    }

    fn lookup_table(&mut self, n: &Names, name: &str) {
        let m = camel(name);
        self.o
            .open(&format!("defmodule {}.Data.{m}Table do", n.app));
        self.o.tpl(
            r###"
            @moduledoc """
            Static lookup data, generated from the upstream registry.

            Do not edit by hand: run `mix $otp.refresh_tables` instead.
            """

            @external_resource Path.join(__DIR__, "$name.csv")
            "###,
            &[("otp", &n.otp), ("name", name)],
        );
        self.o.blank();
        let mut codes = Vec::new();
        let rows = (self.target / 180).clamp(20, 4000);
        for i in 0..rows {
            let code = format!(
                "{}{}{}",
                (b'A' + (i / 676 % 26) as u8) as char,
                (b'A' + (i / 26 % 26) as u8) as char,
                (b'A' + (i % 26) as u8) as char
            );
            codes.push(code);
        }
        self.o.open("@entries [");
        let last = codes.len() - 1;
        for (i, code) in codes.iter().enumerate() {
            let decimals = self.r.range(0, 4);
            let weight = self.r.range(1, 99_999);
            let (t1, t2) = (self.atom(), self.atom());
            let comma = if i == last { "" } else { "," };
            self.o.line(&format!(
                "%{{code: \"{code}\", name: \"{} {code}\", decimals: {decimals}, weight: {weight}, tags: ~w({t1} {t2})a}}{comma}",
                camel(name)
            ));
        }
        self.o.close("]");
        self.o.blank();
        self.o.tpl(
            r###"
            @by_code Map.new(@entries, &{&1.code, &1})

            def all, do: @entries
            def fetch(code) when is_binary(code), do: Map.fetch(@by_code, String.upcase(code))

            for %{code: code, decimals: decimals} <- @entries do
              def decimals(unquote(code)), do: unquote(decimals)
            end

            def decimals(_code), do: 2
            "###,
            &[],
        );
        self.o.blank();
        for code in codes.iter().take(rows / 3) {
            let weight = self.r.range(1, 99_999);
            self.o
                .line(&format!("def weight(\"{code}\"), do: {weight}"));
        }
        self.o.line("def weight(_code), do: nil");
        self.o.close("end");
    }

    // ---------------------------------------------------------------- Phoenix

    fn web_module(&mut self, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $Web do
              @moduledoc """
              The entrypoint for defining your web interface, such
              as controllers, components, channels, and so on.

              This can be used in your application as:

                  use $Web, :controller
                  use $Web, :html
              """

              def static_paths, do: ~w(assets fonts images favicon.ico robots.txt)

              def router do
                quote do
                  use Phoenix.Router, helpers: false

                  # Import common connection and controller functions to use in pipelines
                  import Plug.Conn
                  import Phoenix.Controller
                  import Phoenix.LiveView.Router
                end
              end

              def channel do
                quote do
                  use Phoenix.Channel
                end
              end

              def controller do
                quote do
                  use Phoenix.Controller,
                    formats: [:html, :json],
                    layouts: [html: $Web.Layouts]

                  import Plug.Conn
                  import $Web.Gettext

                  unquote(verified_routes())
                end
              end

              def live_view do
                quote do
                  use Phoenix.LiveView,
                    layout: {$Web.Layouts, :app}

                  unquote(html_helpers())
                end
              end

              def live_component do
                quote do
                  use Phoenix.LiveComponent

                  unquote(html_helpers())
                end
              end

              def html do
                quote do
                  use Phoenix.Component

                  # Import convenience functions from controllers
                  import Phoenix.Controller,
                    only: [get_csrf_token: 0, view_module: 1, view_template: 1]

                  # Include general helpers for rendering HTML
                  unquote(html_helpers())
                end
              end

              defp html_helpers do
                quote do
                  # HTML escaping functionality
                  import Phoenix.HTML
                  # Core UI components and translation
                  import $Web.CoreComponents
                  import $Web.Gettext

                  # Shortcut for generating JS commands
                  alias Phoenix.LiveView.JS

                  # Routes generation with the ~p sigil
                  unquote(verified_routes())
                end
              end

              def verified_routes do
                quote do
                  use Phoenix.VerifiedRoutes,
                    endpoint: $Web.Endpoint,
                    router: $Web.Router,
                    statics: $Web.static_paths()
                end
              end

              @doc """
              When used, dispatch to the appropriate controller/view/etc.
              """
              defmacro __using__(which) when is_atom(which) do
                apply(__MODULE__, which, [])
              end
            end
            "###,
            &n.vars(),
        );
    }

    fn endpoint(&mut self, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $Web.Endpoint do
              use Phoenix.Endpoint, otp_app: :$web_otp

              # The session will be stored in the cookie and signed,
              # this means its contents can be read but not tampered with.
              @session_options [
                store: :cookie,
                key: "_${web_snake}_key",
                signing_salt: "cXVhcnR6",
                same_site: "Lax"
              ]

              socket "/live", Phoenix.LiveView.Socket,
                websocket: [connect_info: [session: @session_options]],
                longpoll: [connect_info: [session: @session_options]]

              socket "/socket", $Web.UserSocket,
                websocket: true,
                longpoll: false

              plug Plug.Static,
                at: "/",
                from: :$web_otp,
                gzip: false,
                only: $Web.static_paths()

              # Code reloading can be explicitly enabled under the
              # :code_reloader configuration of your endpoint.
              if code_reloading? do
                socket "/phoenix/live_reload/socket", Phoenix.LiveReloader.Socket
                plug Phoenix.LiveReloader
                plug Phoenix.CodeReloader
                plug Phoenix.Ecto.CheckRepoStatus, otp_app: :$web_otp
              end

              plug Plug.RequestId
              plug Plug.Telemetry, event_prefix: [:phoenix, :endpoint]

              plug Plug.Parsers,
                parsers: [:urlencoded, :multipart, :json],
                pass: ["*/*"],
                json_decoder: Phoenix.json_library()

              plug Plug.MethodOverride
              plug Plug.Head
              plug Plug.Session, @session_options
              plug $Web.Router
            end
            "###,
            &n.vars(),
        );
    }

    fn router(&mut self, d: &Domain, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $Web.Router do
              use $Web, :router

              pipeline :browser do
                plug :accepts, ["html"]
                plug :fetch_session
                plug :fetch_live_flash
                plug :put_root_layout, html: {$Web.Layouts, :root}
                plug :protect_from_forgery
                plug :put_secure_browser_headers
              end

              pipeline :api do
                plug :accepts, ["json"]
              end

              scope "/", $Web do
                pipe_through :browser

                get "/", PageController, :home
            "###,
            &n.vars(),
        );
        self.o.indent += 2;
        for (i, _) in d.entities.iter().enumerate() {
            let en = EntityNames::of(d, i);
            self.o.blank();
            self.o.tpl(
                r###"
                live "/$es", ${E}Live.Index, :index
                live "/$es/new", ${E}Live.Index, :new
                live "/$es/:id/edit", ${E}Live.Index, :edit
                live "/$es/:id", ${E}Live.Show, :show
                live "/$es/:id/show/edit", ${E}Live.Show, :edit
                "###,
                &en.vars(n),
            );
        }
        self.o.close("end");
        self.o.blank();
        self.o.open(&format!("scope \"/api\", {} do", n.web));
        self.o.line("pipe_through :api");
        self.o.blank();
        for (i, _) in d.entities.iter().enumerate() {
            let en = EntityNames::of(d, i);
            self.o.line(&format!(
                "resources \"/{}\", {}Controller, except: [:new, :edit]",
                en.es, en.ent
            ));
        }
        self.o.close("end");
        self.o.blank();
        self.o.tpl(
            r###"
            # Enable LiveDashboard and Swoosh mailbox preview in development
            if Application.compile_env(:$web_otp, :dev_routes) do
              import Phoenix.LiveDashboard.Router

              scope "/dev" do
                pipe_through :browser

                live_dashboard "/dashboard", metrics: $Web.Telemetry
                forward "/mailbox", Plug.Swoosh.MailboxPreview
              end
            end
            "###,
            &n.vars(),
        );
        self.o.close("end");
    }

    fn telemetry(&mut self, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $Web.Telemetry do
              use Supervisor
              import Telemetry.Metrics

              def start_link(arg) do
                Supervisor.start_link(__MODULE__, arg, name: __MODULE__)
              end

              @impl true
              def init(_arg) do
                children = [
                  # Telemetry poller will execute the given period measurements
                  # every 10_000ms. Learn more here: https://hexdocs.pm/telemetry_metrics
                  {:telemetry_poller, measurements: periodic_measurements(), period: 10_000}
                ]

                Supervisor.init(children, strategy: :one_for_one)
              end

              def metrics do
                [
                  # Phoenix Metrics
                  summary("phoenix.endpoint.start.system_time",
                    unit: {:native, :millisecond}
                  ),
                  summary("phoenix.endpoint.stop.duration",
                    unit: {:native, :millisecond}
                  ),
                  summary("phoenix.router_dispatch.stop.duration",
                    tags: [:route],
                    unit: {:native, :millisecond}
                  ),

                  # Database Metrics
                  summary("$otp.repo.query.total_time",
                    unit: {:native, :millisecond},
                    description: "The sum of the other measurements"
                  ),
                  summary("$otp.repo.query.queue_time",
                    unit: {:native, :millisecond},
                    description: "The time spent waiting for a database connection"
                  ),

                  # VM Metrics
                  summary("vm.memory.total", unit: {:byte, :kilobyte}),
                  summary("vm.total_run_queue_lengths.total"),
                  summary("vm.total_run_queue_lengths.cpu"),
                  summary("vm.total_run_queue_lengths.io")
                ]
              end

              defp periodic_measurements do
                [
                  # A module, function and arguments to be invoked periodically.
                  # {$Web, :count_users, []}
                ]
              end
            end
            "###,
            &n.vars(),
        );
    }

    fn gettext(&mut self, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $Web.Gettext do
              @moduledoc """
              A module providing Internationalization with a gettext-based API.

                  import $Web.Gettext

                  # Simple translation
                  gettext("Here is the string to translate")
              """
              use Gettext, otp_app: :$web_otp
            end
            "###,
            &n.vars(),
        );
    }

    fn core_components(&mut self, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $Web.CoreComponents do
              @moduledoc """
              Provides core UI components.

              At first glance, this module may seem daunting, but its goal is to provide
              core building blocks for your application, such as modals, tables, and
              forms. The components consist mostly of markup and are well-documented
              with doc strings and declarative assigns.
              """
              use Phoenix.Component

              alias Phoenix.LiveView.JS
              import $Web.Gettext

              @doc """
              Renders a modal.

              ## Examples

                  <.modal id="confirm-modal">
                    This is a modal.
                  </.modal>
              """
              attr :id, :string, required: true
              attr :show, :boolean, default: false
              attr :on_cancel, JS, default: %JS{}
              slot :inner_block, required: true

              def modal(assigns) do
                ~H"""
                <div
                  id={@id}
                  phx-mounted={@show && show_modal(@id)}
                  phx-remove={hide_modal(@id)}
                  data-cancel={JS.exec(@on_cancel, "phx-remove")}
                  class="relative z-50 hidden"
                >
                  <div id={"#{@id}-bg"} class="bg-zinc-50/90 fixed inset-0 transition-opacity" aria-hidden="true" />
                  <.focus_wrap
                    id={"#{@id}-container"}
                    phx-window-keydown={JS.exec("data-cancel", to: "##{@id}")}
                    phx-key="escape"
                    phx-click-away={JS.exec("data-cancel", to: "##{@id}")}
                    class="shadow-zinc-700/10 ring-zinc-700/10 relative hidden rounded-2xl bg-white p-14 shadow-lg ring-1 transition"
                  >
                    <div id={"#{@id}-content"}>
                      {render_slot(@inner_block)}
                    </div>
                  </.focus_wrap>
                </div>
                """
              end

              @doc """
              Renders a table with generic styling.
              """
              attr :id, :string, required: true
              attr :rows, :list, required: true
              attr :row_id, :any, default: nil, doc: "the function for generating the row id"
              attr :row_click, :any, default: nil, doc: "the function for handling phx-click on each row"

              slot :col, required: true do
                attr :label, :string
              end

              slot :action, doc: "the slot for showing user actions in the last table column"

              def table(assigns) do
                assigns =
                  with %{rows: %Phoenix.LiveView.LiveStream{}} <- assigns do
                    assign(assigns, row_id: assigns.row_id || fn {id, _item} -> id end)
                  end

                ~H"""
                <table class="w-[40rem] mt-11 sm:w-full">
                  <thead class="text-sm text-left leading-6 text-zinc-500">
                    <tr>
                      <th :for={col <- @col} class="p-0 pb-4 pr-6 font-normal">{col[:label]}</th>
                      <th :if={@action != []} class="relative p-0 pb-4">
                        <span class="sr-only">{gettext("Actions")}</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody id={@id} phx-update={match?(%Phoenix.LiveView.LiveStream{}, @rows) && "stream"}>
                    <tr :for={row <- @rows} id={@row_id && @row_id.(row)} class="group hover:bg-zinc-50">
                      <td :for={{col, i} <- Enum.with_index(@col)} phx-click={@row_click && @row_click.(row)}>
                        <span class={["relative", i == 0 && "font-semibold text-zinc-900"]}>
                          {render_slot(col, row)}
                        </span>
                      </td>
                    </tr>
                  </tbody>
                </table>
                """
              end
            "###,
            &n.vars(),
        );
        self.o.indent += 1;
        let names = [
            "badge", "card", "alert", "pill", "avatar", "stat", "banner", "callout", "toolbar",
            "panel", "tab", "step", "chip", "notice", "tile", "meter",
        ];
        let mut i = 0;
        while !self.full() && i < 5000 {
            let base = names[i % names.len()];
            let name = if i < names.len() {
                base.to_string()
            } else {
                format!("{base}_{}", i / names.len())
            };
            let color = *self
                .r
                .pick(&["zinc", "emerald", "rose", "amber", "sky", "violet"]);
            let a = self.atom();
            self.o.blank();
            self.o.tpl(
                r###"
                @doc """
                Renders a $name.

                ## Examples

                    <.$name kind={:$a}>Saved!</.$name>
                """
                attr :kind, :atom, values: [:info, :error, :$a], default: :info
                attr :class, :string, default: nil
                attr :rest, :global, include: ~w(disabled form name value)
                slot :inner_block, required: true
                slot :subtitle

                def $name(assigns) do
                  ~H"""
                  <div
                    class={[
                      "rounded-lg px-3 py-2 text-sm font-semibold leading-6",
                      @kind == :info && "bg-$color-50 text-$color-800 ring-$color-500",
                      @kind == :error && "bg-rose-50 text-rose-900 shadow-md ring-rose-500",
                      @class
                    ]}
                    {@rest}
                  >
                    <p :if={@subtitle != []} class="text-xs text-$color-600">
                      {render_slot(@subtitle)}
                    </p>
                    {render_slot(@inner_block)}
                  </div>
                  """
                end
                "###,
                &[("name", &name), ("a", a), ("color", color)],
            );
            i += 1;
        }
        self.o.blank();
        self.o.tpl(
            r###"
            ## JS Commands

            def show_modal(js \\ %JS{}, id) when is_binary(id) do
              js
              |> JS.show(to: "##{id}")
              |> JS.show(to: "##{id}-bg", transition: {"transition-all transform ease-out duration-300", "opacity-0", "opacity-100"})
              |> JS.add_class("overflow-hidden", to: "body")
              |> JS.focus_first(to: "##{id}-content")
            end

            def hide_modal(js \\ %JS{}, id) do
              js
              |> JS.hide(to: "##{id}-bg", transition: {"transition-all transform ease-in duration-200", "opacity-100", "opacity-0"})
              |> JS.remove_class("overflow-hidden", to: "body")
              |> JS.pop_focus()
            end

            @doc """
            Translates an error message using gettext.
            """
            def translate_error({msg, opts}) do
              if count = opts[:count] do
                Gettext.dngettext($Web.Gettext, "errors", msg, msg, count, opts)
              else
                Gettext.dgettext($Web.Gettext, "errors", msg, opts)
              end
            end
            "###,
            &n.vars(),
        );
        self.o.close("end");
    }

    fn layouts(&mut self, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $Web.Layouts do
              @moduledoc """
              This module holds different layouts used by your application.
              """
              use $Web, :html

              embed_templates "layouts/*"

              attr :flash, :map, required: true
              slot :inner_block, required: true

              def app(assigns) do
                ~H"""
                <header class="px-4 sm:px-6 lg:px-8">
                  <div class="flex items-center justify-between border-b border-zinc-100 py-3 text-sm">
                    <a href="/">
                      <img src={~p"/images/logo.svg"} width="36" />
                    </a>
                    <p class="bg-brand/5 text-brand rounded-full px-2 font-medium leading-6">
                      v{Application.spec(:phoenix, :vsn)}
                    </p>
                  </div>
                </header>
                <main class="px-4 py-20 sm:px-6 lg:px-8">
                  <div class="mx-auto max-w-2xl">
                    <.flash_group flash={@flash} />
                    {render_slot(@inner_block)}
                  </div>
                </main>
                """
              end
            end
            "###,
            &n.vars(),
        );
    }

    fn error_json(&mut self, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $Web.ErrorJSON do
              @moduledoc """
              This module is invoked by your endpoint in case of errors on JSON requests.
              """

              # If you want to customize a particular status code,
              # you may add your own clauses, such as:
              #
              # def render("500.json", _assigns) do
              #   %{errors: %{detail: "Internal Server Error"}}
              # end

              def render(template, _assigns) do
                %{errors: %{detail: Phoenix.Controller.status_message_from_template(template)}}
              end
            end
            "###,
            &n.vars(),
        );
    }

    fn page_controller(&mut self, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $Web.PageController do
              use $Web, :controller

              def home(conn, _params) do
                # The home page is often custom made,
                # so skip the default app layout.
                render(conn, :home, layout: false)
              end
            end
            "###,
            &n.vars(),
        );
    }

    fn fallback_controller(&mut self, n: &Names) {
        self.o.tpl(
            r###"
            defmodule $Web.FallbackController do
              @moduledoc """
              Translates controller action results into valid `Plug.Conn` responses.

              See `Phoenix.Controller.action_fallback/1` for more details.
              """
              use $Web, :controller

              # This clause handles errors returned by Ecto's insert/update/delete.
              def call(conn, {:error, %Ecto.Changeset{} = changeset}) do
                conn
                |> put_status(:unprocessable_entity)
                |> put_view(json: $Web.ChangesetJSON)
                |> render(:error, changeset: changeset)
              end

              # This clause is an example of how to handle resources that cannot be found.
              def call(conn, {:error, :not_found}) do
                conn
                |> put_status(:not_found)
                |> put_view(html: $Web.ErrorHTML, json: $Web.ErrorJSON)
                |> render(:"404")
              end

              def call(conn, {:error, :unauthorized}) do
                conn
                |> put_status(403)
                |> json(%{errors: %{detail: "Forbidden"}})
              end
            end
            "###,
            &n.vars(),
        );
    }

    fn controller(&mut self, d: &Domain, n: &Names, entity: usize) {
        let en = EntityNames::of(d, entity);
        self.o.tpl(
            r###"
            defmodule $Web.${E}Controller do
              use $Web, :controller

              alias $App.$Ctx
              alias $App.$Ctx.$E

              action_fallback $Web.FallbackController

              plug :put_cache_headers when action in [:index, :show]

              def index(conn, params) do
                limit = params |> Map.get("limit", "50") |> String.to_integer() |> min(200)
                $es = $Ctx.list_$es(limit: limit)
                render(conn, :index, $es: $es)
              end

              def create(conn, %{"$e" => ${e}_params}) do
                with {:ok, %$E{} = $e} <- $Ctx.create_$e(${e}_params) do
                  conn
                  |> put_status(:created)
                  |> put_resp_header("location", ~p"/api/$es/#{$e}")
                  |> render(:show, $e: $e)
                end
              end

              def show(conn, %{"id" => id}) do
                $e = $Ctx.get_$e!(id)
                render(conn, :show, $e: $e)
              end

              def update(conn, %{"id" => id, "$e" => ${e}_params}) do
                $e = $Ctx.get_$e!(id)

                with {:ok, %$E{} = $e} <- $Ctx.update_$e($e, ${e}_params) do
                  render(conn, :show, $e: $e)
                end
              end

              def delete(conn, %{"id" => id}) do
                $e = $Ctx.get_$e!(id)

                with {:ok, %$E{}} <- $Ctx.delete_$e($e) do
                  send_resp(conn, :no_content, "")
                end
              end

              defp put_cache_headers(conn, _opts) do
                put_resp_header(conn, "cache-control", "private, max-age=#{60 * 5}")
              end
            "###,
            &en.vars(n),
        );
        self.o.indent += 1;
        self.fill_functions();
        self.o.close("end");
    }

    fn json_view(&mut self, d: &Domain, n: &Names, entity: usize) {
        let en = EntityNames::of(d, entity);
        self.o.tpl(
            r###"
            defmodule $Web.${E}JSON do
              alias $App.$Ctx.$E

              @doc """
              Renders a list of $humans.
              """
              def index(%{$es: $es}) do
                %{data: for($e <- $es, do: data($e))}
              end

              @doc """
              Renders a single $human.
              """
              def show(%{$e: $e}) do
                %{data: data($e)}
              end

              defp data(%$E{} = $e) do
                %{
            "###,
            &en.vars(n),
        );
        self.o.indent += 3;
        self.o.line(&format!("id: {}.id,", en.e));
        for &f in &d.entities[entity].fields {
            self.o
                .line(&format!("{}: {}.{},", FIELDS[f].0, en.e, FIELDS[f].0));
        }
        self.o.line(&format!("inserted_at: {}.inserted_at", en.e));
        self.o.close("}");
        self.o.close("end");
        self.o.close("end");
    }

    fn live_index(&mut self, d: &Domain, n: &Names, entity: usize) {
        let en = EntityNames::of(d, entity);
        let mut v = en.vars(n);
        let f = FIELDS[d.entities[entity].fields[0]].0;
        v.push(("f", f));
        self.o.tpl(
            r###"
            defmodule $Web.${E}Live.Index do
              use $Web, :live_view

              alias $App.$Ctx
              alias $App.$Ctx.$E

              @impl true
              def mount(_params, _session, socket) do
                if connected?(socket), do: $Ctx.subscribe()

                {:ok,
                 socket
                 |> assign(:filter, "")
                 |> stream(:$es, $Ctx.list_$es())}
              end

              @impl true
              def handle_params(params, _url, socket) do
                {:noreply, apply_action(socket, socket.assigns.live_action, params)}
              end

              defp apply_action(socket, :edit, %{"id" => id}) do
                socket
                |> assign(:page_title, "Edit $E")
                |> assign(:$e, $Ctx.get_$e!(id))
              end

              defp apply_action(socket, :new, _params) do
                socket
                |> assign(:page_title, "New $E")
                |> assign(:$e, %$E{})
              end

              defp apply_action(socket, :index, _params) do
                socket
                |> assign(:page_title, "Listing $Es")
                |> assign(:$e, nil)
              end

              @impl true
              def handle_info({$Web.${E}Live.FormComponent, {:saved, $e}}, socket) do
                {:noreply, stream_insert(socket, :$es, $e)}
              end

              def handle_info({:${e}_created, $e}, socket) do
                {:noreply, stream_insert(socket, :$es, $e, at: 0)}
              end

              @impl true
              def handle_event("delete", %{"id" => id}, socket) do
                $e = $Ctx.get_$e!(id)
                {:ok, _} = $Ctx.delete_$e($e)

                {:noreply, stream_delete(socket, :$es, $e)}
              end

              def handle_event("filter", %{"q" => q}, socket) when byte_size(q) <= 100 do
                {:noreply,
                 socket
                 |> assign(:filter, q)
                 |> stream(:$es, $Ctx.list_$es(search: q), reset: true)}
              end

              @impl true
              def render(assigns) do
                ~H"""
                <.header>
                  Listing $Es
                  <:actions>
                    <.link patch={~p"/$es/new"}>
                      <.button>New $E</.button>
                    </.link>
                  </:actions>
                </.header>

                <form phx-change="filter" phx-submit="filter">
                  <input type="search" name="q" value={@filter} placeholder="Search $humans" />
                </form>

                <.table
                  id="$es"
                  rows={@streams.$es}
                  row_click={fn {_id, $e} -> JS.navigate(~p"/$es/#{$e}") end}
                >
                  <:col :let={{_id, $e}} label="$f">{$e.$f}</:col>
                  <:action :let={{_id, $e}}>
                    <div class="sr-only">
                      <.link navigate={~p"/$es/#{$e}"}>Show</.link>
                    </div>
                    <.link patch={~p"/$es/#{$e}/edit"}>Edit</.link>
                  </:action>
                  <:action :let={{id, $e}}>
                    <.link
                      phx-click={JS.push("delete", value: %{id: $e.id}) |> hide("##{id}")}
                      data-confirm="Are you sure?"
                    >
                      Delete
                    </.link>
                  </:action>
                </.table>

                <.modal :if={@live_action in [:new, :edit]} id="$e-modal" show on_cancel={JS.patch(~p"/$es")}>
                  <.live_component
                    module={$Web.${E}Live.FormComponent}
                    id={@$e.id || :new}
                    title={@page_title}
                    action={@live_action}
                    $e={@$e}
                    patch={~p"/$es"}
                  />
                </.modal>
                """
              end
            "###,
            &v,
        );
        self.o.indent += 1;
        self.fill_functions();
        self.o.close("end");
    }

    fn live_show(&mut self, d: &Domain, n: &Names, entity: usize) {
        let en = EntityNames::of(d, entity);
        let mut v = en.vars(n);
        let mut items = String::new();
        for &f in &d.entities[entity].fields {
            let name = FIELDS[f].0;
            items.push_str(&format!(
                "\n      <:item title=\"{}\">{{@{}.{}}}</:item>",
                camel(name),
                en.e,
                name
            ));
        }
        v.push(("items", &items));
        self.o.tpl(
            r###"
            defmodule $Web.${E}Live.Show do
              use $Web, :live_view

              alias $App.$Ctx

              @impl true
              def mount(_params, _session, socket) do
                {:ok, socket}
              end

              @impl true
              def handle_params(%{"id" => id}, _, socket) do
                {:noreply,
                 socket
                 |> assign(:page_title, page_title(socket.assigns.live_action))
                 |> assign(:$e, $Ctx.get_$e!(id))}
              end

              @impl true
              def render(assigns) do
                ~H"""
                <.header>
                  $E {@$e.id}
                  <:subtitle>This is a $human record from your database.</:subtitle>
                  <:actions>
                    <.link patch={~p"/$es/#{@$e}/show/edit"} phx-click={JS.push_focus()}>
                      <.button>Edit $human</.button>
                    </.link>
                  </:actions>
                </.header>

                <.list>$items
                </.list>

                <.back navigate={~p"/$es"}>Back to $humans</.back>
                """
              end

              defp page_title(:show), do: "Show $E"
              defp page_title(:edit), do: "Edit $E"
            end
            "###,
            &v,
        );
    }

    fn form_component(&mut self, d: &Domain, n: &Names, entity: usize) {
        let en = EntityNames::of(d, entity);
        let mut v = en.vars(n);
        let mut inputs = String::new();
        for &f in &d.entities[entity].fields {
            let (name, ty, ..) = FIELDS[f];
            let kind = match ty {
                t if t.starts_with(":integer") || t.starts_with(":float") => "number",
                t if t.starts_with(":boolean") => "checkbox",
                t if t.starts_with(":date") => "date",
                t if t.starts_with(":utc_datetime") => "datetime-local",
                t if t.starts_with("Ecto.Enum") => "select",
                _ => "text",
            };
            let extra = if kind == "select" {
                " options={Ecto.Enum.values($App.$Ctx.$E, :status)}".to_string()
            } else {
                String::new()
            };
            inputs.push_str(&format!(
                "\n        <.input field={{@form[:{name}]}} type=\"{kind}\" label=\"{}\"{extra} />",
                camel(name)
            ));
        }
        let inputs = substitute(&inputs, &v);
        v.push(("inputs", &inputs));
        self.o.tpl(
            r###"
            defmodule $Web.${E}Live.FormComponent do
              use $Web, :live_component

              alias $App.$Ctx

              @impl true
              def render(assigns) do
                ~H"""
                <div>
                  <.header>
                    {@title}
                    <:subtitle>Use this form to manage $human records in your database.</:subtitle>
                  </.header>

                  <.simple_form
                    for={@form}
                    id="$e-form"
                    phx-target={@myself}
                    phx-change="validate"
                    phx-submit="save"
                  >$inputs
                    <:actions>
                      <.button phx-disable-with="Saving...">Save $E</.button>
                    </:actions>
                  </.simple_form>
                </div>
                """
              end

              @impl true
              def update(%{$e: $e} = assigns, socket) do
                {:ok,
                 socket
                 |> assign(assigns)
                 |> assign_new(:form, fn ->
                   to_form($Ctx.change_$e($e))
                 end)}
              end

              @impl true
              def handle_event("validate", %{"$e" => ${e}_params}, socket) do
                changeset = $Ctx.change_$e(socket.assigns.$e, ${e}_params)
                {:noreply, assign(socket, form: to_form(changeset, action: :validate))}
              end

              def handle_event("save", %{"$e" => ${e}_params}, socket) do
                save_$e(socket, socket.assigns.action, ${e}_params)
              end

              defp save_$e(socket, :edit, ${e}_params) do
                case $Ctx.update_$e(socket.assigns.$e, ${e}_params) do
                  {:ok, $e} ->
                    notify_parent({:saved, $e})

                    {:noreply,
                     socket
                     |> put_flash(:info, "$E updated successfully")
                     |> push_patch(to: socket.assigns.patch)}

                  {:error, %Ecto.Changeset{} = changeset} ->
                    {:noreply, assign(socket, form: to_form(changeset))}
                end
              end

              defp save_$e(socket, :new, ${e}_params) do
                case $Ctx.create_$e(${e}_params) do
                  {:ok, $e} ->
                    notify_parent({:saved, $e})

                    {:noreply,
                     socket
                     |> put_flash(:info, "$E created successfully")
                     |> push_patch(to: socket.assigns.patch)}

                  {:error, %Ecto.Changeset{} = changeset} ->
                    {:noreply, assign(socket, form: to_form(changeset))}
                end
              end

              defp notify_parent(msg), do: send(self(), {__MODULE__, msg})
            "###,
            &v,
        );
        self.o.indent += 1;
        self.fill_functions();
        self.o.close("end");
    }

    fn context_test(&mut self, d: &Domain, n: &Names, c: usize) {
        let ctx = &d.contexts[c];
        let ctx_mod = camel(&ctx.name);
        self.o.tpl(
            r###"
            defmodule $App.${Ctx}Test do
              use $App.DataCase, async: true

              alias $App.$Ctx
            "###,
            &[("App", &n.app), ("Ctx", &ctx_mod)],
        );
        self.o.indent += 1;
        for &e in &ctx.entities {
            let en = EntityNames::of(d, e);
            let mut v = en.vars(n);
            let fields = &d.entities[e].fields;
            let valid: Vec<String> = fields
                .iter()
                .map(|&f| format!("{}: {}", FIELDS[f].0, FIELDS[f].3))
                .collect();
            let updated: Vec<String> = fields
                .iter()
                .map(|&f| format!("{}: {}", FIELDS[f].0, FIELDS[f].4))
                .collect();
            let invalid: Vec<String> = fields
                .iter()
                .take(2)
                .map(|&f| format!("{}: nil", FIELDS[f].0))
                .collect();
            let (valid, updated, invalid) =
                (valid.join(", "), updated.join(", "), invalid.join(", "));
            let f0 = FIELDS[fields[0]].0;
            let s0 = FIELDS[fields[0]].3;
            let u0 = FIELDS[fields[0]].4;
            v.extend([
                ("valid", valid.as_str()),
                ("updated", updated.as_str()),
                ("invalid", invalid.as_str()),
                ("f", f0),
                ("s", s0),
                ("u", u0),
            ]);
            self.o.blank();
            self.o.tpl(
                r###"
                describe "$es" do
                  alias $App.$Ctx.$E

                  import $App.${Ctx}Fixtures

                  @invalid_attrs %{$invalid}

                  test "list_$es/0 returns all $es" do
                    $e = ${e}_fixture()
                    assert $Ctx.list_$es() == [$e]
                  end

                  test "get_$e!/1 returns the $e with given id" do
                    $e = ${e}_fixture()
                    assert $Ctx.get_$e!($e.id) == $e
                  end

                  test "create_$e/1 with valid data creates a $e" do
                    valid_attrs = %{$valid}

                    assert {:ok, %$E{} = $e} = $Ctx.create_$e(valid_attrs)
                    assert $e.$f == $s
                  end

                  test "create_$e/1 with invalid data returns error changeset" do
                    assert {:error, %Ecto.Changeset{}} = $Ctx.create_$e(@invalid_attrs)
                  end

                  test "update_$e/2 with valid data updates the $e" do
                    $e = ${e}_fixture()
                    update_attrs = %{$updated}

                    assert {:ok, %$E{} = $e} = $Ctx.update_$e($e, update_attrs)
                    assert $e.$f == $u
                  end

                  test "delete_$e/1 deletes the $e" do
                    $e = ${e}_fixture()
                    assert {:ok, %$E{}} = $Ctx.delete_$e($e)
                    assert_raise Ecto.NoResultsError, fn -> $Ctx.get_$e!($e.id) end
                  end

                  test "change_$e/1 returns a $e changeset" do
                    $e = ${e}_fixture()
                    assert %Ecto.Changeset{} = $Ctx.change_$e($e)
                  end
                end
                "###,
                &v,
            );
        }
        self.o.blank();
        self.o.open("describe \"edge cases\" do");
        self.fill_tests(&[]);
        self.o.close("end");
        self.o.close("end");
    }

    fn controller_test(&mut self, d: &Domain, n: &Names, entity: usize) {
        let en = EntityNames::of(d, entity);
        let mut v = en.vars(n);
        let fields = &d.entities[entity].fields;
        let create: Vec<String> = fields
            .iter()
            .map(|&f| format!("{}: {}", FIELDS[f].0, FIELDS[f].3))
            .collect();
        let invalid: Vec<String> = fields
            .iter()
            .map(|&f| format!("{}: nil", FIELDS[f].0))
            .collect();
        let (create, invalid) = (create.join(",\n    "), invalid.join(", "));
        v.extend([("create", create.as_str()), ("invalid", invalid.as_str())]);
        self.o.tpl(
            r###"
            defmodule $Web.${E}ControllerTest do
              use $Web.ConnCase

              import $App.${Ctx}Fixtures

              alias $App.$Ctx.$E

              @create_attrs %{
                $create
              }
              @invalid_attrs %{$invalid}

              setup %{conn: conn} do
                {:ok, conn: put_req_header(conn, "accept", "application/json")}
              end

              describe "index" do
                test "lists all $es", %{conn: conn} do
                  conn = get(conn, ~p"/api/$es")
                  assert json_response(conn, 200)["data"] == []
                end
              end

              describe "create $e" do
                test "renders $e when data is valid", %{conn: conn} do
                  conn = post(conn, ~p"/api/$es", $e: @create_attrs)
                  assert %{"id" => id} = json_response(conn, 201)["data"]

                  conn = get(conn, ~p"/api/$es/#{id}")
                  assert %{"id" => ^id} = json_response(conn, 200)["data"]
                end

                test "renders errors when data is invalid", %{conn: conn} do
                  conn = post(conn, ~p"/api/$es", $e: @invalid_attrs)
                  assert json_response(conn, 422)["errors"] != %{}
                end
              end

              describe "delete $e" do
                setup [:create_$e]

                test "deletes chosen $e", %{conn: conn, $e: $e} do
                  conn = delete(conn, ~p"/api/$es/#{$e}")
                  assert response(conn, 204)

                  assert_error_sent 404, fn ->
                    get(conn, ~p"/api/$es/#{$e}")
                  end
                end
              end

              defp create_$e(_) do
                $e = ${e}_fixture()
                %{$e: $e}
              end

              describe "more" do
            "###,
            &v,
        );
        self.o.indent += 2;
        self.fill_tests(&["conn"]);
        self.o.close("end");
        self.o.close("end");
    }

    fn live_test(&mut self, d: &Domain, n: &Names, entity: usize) {
        let en = EntityNames::of(d, entity);
        let v = en.vars(n);
        self.o.tpl(
            r###"
            defmodule $Web.${E}LiveTest do
              use $Web.ConnCase

              import Phoenix.LiveViewTest
              import $App.${Ctx}Fixtures

              defp create_$e(_) do
                %{$e: ${e}_fixture()}
              end

              describe "Index" do
                setup [:create_$e]

                test "lists all $es", %{conn: conn} do
                  {:ok, _index_live, html} = live(conn, ~p"/$es")

                  assert html =~ "Listing $Es"
                end

                test "saves new $e", %{conn: conn} do
                  {:ok, index_live, _html} = live(conn, ~p"/$es")

                  assert index_live |> element("a", "New $E") |> render_click() =~
                           "New $E"

                  assert_patch(index_live, ~p"/$es/new")

                  assert index_live
                         |> form("#$e-form", $e: %{})
                         |> render_submit()

                  assert_patch(index_live, ~p"/$es")
                end

                test "deletes $e in listing", %{conn: conn, $e: $e} do
                  {:ok, index_live, _html} = live(conn, ~p"/$es")

                  assert index_live |> element("#$es-#{$e.id} a", "Delete") |> render_click()
                  refute has_element?(index_live, "#$es-#{$e.id}")
                end
              end

              describe "Show" do
                setup [:create_$e]
            "###,
            &v,
        );
        self.o.indent += 2;
        self.fill_tests(&["conn"]);
        self.o.close("end");
        self.o.close("end");
    }

    fn user_socket(&mut self, d: &Domain, n: &Names) {
        self.o.open(&format!("defmodule {}.UserSocket do", n.web));
        self.o.line("use Phoenix.Socket");
        self.o.blank();
        self.o.line("# A Socket handler");
        self.o.line("#");
        self.o
            .line("# It's possible to control the websocket connection and");
        self.o
            .line("# assign values that can be accessed by your channel topics.");
        for c in &d.channels {
            self.o
                .line(&format!("channel \"{c}:*\", {}.{}Channel", n.web, camel(c)));
        }
        self.o.blank();
        self.o.tpl(
            r###"
            @max_age 86_400

            @impl true
            def connect(%{"token" => token}, socket, _connect_info) do
              case Phoenix.Token.verify(socket, "user socket", token, max_age: @max_age) do
                {:ok, user_id} -> {:ok, assign(socket, :user_id, user_id)}
                {:error, _reason} -> :error
              end
            end

            def connect(_params, _socket, _connect_info), do: :error

            @impl true
            def id(socket), do: "users_socket:#{socket.assigns.user_id}"
            "###,
            &[],
        );
        self.o.close("end");
    }

    fn channel(&mut self, n: &Names, c: &str) {
        let m = camel(c);
        let mut v = n.vars();
        v.extend([("M", m.as_str()), ("c", c)]);
        self.o.tpl(
            r###"
            defmodule $Web.${M}Channel do
              use $Web, :channel

              require Logger

              intercept ["updated"]

              @impl true
              def join("$c:" <> id, payload, socket) do
                if authorized?(payload) do
                  send(self(), :after_join)
                  {:ok, assign(socket, :${c}_id, id)}
                else
                  {:error, %{reason: "unauthorized"}}
                end
              end

              @impl true
              def handle_info(:after_join, socket) do
                push(socket, "presence_state", %{})
                {:noreply, socket}
              end

              # Channels can be used in a request/response fashion
              # by sending replies to requests from the client
              @impl true
              def handle_in("ping", payload, socket) do
                {:reply, {:ok, payload}, socket}
              end

              # It is also common to receive messages from the client and
              # broadcast to everyone in the current topic ($c:lobby).
              def handle_in("shout", %{"body" => body} = payload, socket) when byte_size(body) < 4096 do
                broadcast(socket, "shout", payload)
                {:noreply, socket}
              end

              def handle_in(event, _payload, socket) do
                Logger.debug("unhandled event #{event} on #{socket.topic}")
                {:reply, {:error, %{reason: "unknown event"}}, socket}
              end

              @impl true
              def handle_out("updated", msg, socket) do
                push(socket, "updated", Map.drop(msg, [:secret, :internal]))
                {:noreply, socket}
              end

              # Add authorization logic here as required.
              defp authorized?(%{"token" => token}) when is_binary(token), do: true
              defp authorized?(_payload), do: false
            "###,
            &v,
        );
        self.o.indent += 1;
        self.fill_functions();
        self.o.close("end");
    }

    fn plug(&mut self, n: &Names, p: &str) {
        let m = camel(p);
        let mut v = n.vars();
        v.extend([("M", m.as_str()), ("p", p)]);
        self.o.tpl(
            r###"
            defmodule $Web.Plugs.${M}Plug do
              @moduledoc """
              Applies the $p rules to API requests.
              """
              import Plug.Conn

              @behaviour Plug

              @header "x-api-key"

              @impl true
              def init(opts), do: Keyword.put_new(opts, :realm, "$p")

              @impl true
              def call(conn, opts) do
                case get_req_header(conn, @header) do
                  [key | _] when byte_size(key) > 0 ->
                    assign(conn, :api_key, key)

                  _ ->
                    conn
                    |> put_resp_content_type("application/json")
                    |> send_resp(401, ~s({"error":"unauthorized","realm":"#{opts[:realm]}"}))
                    |> halt()
                end
              end
            "###,
            &v,
        );
        self.o.indent += 1;
        self.fill_functions();
        self.o.close("end");
    }
}
