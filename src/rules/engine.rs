//! The rule engine: which rule hears about which node or call, isolation of every (rule, file)
//! pair, and the per-file collection of findings.
//!
//! Rules declare what they want (ast-grep's habit): node kinds, resolved callees
//! (`String.to_atom`), or the file's finished facts. The one walk over each file's tree calls
//! [`FileRun::node`] and [`FileRun::call`]; a table lookup sends each event only to the rules
//! that asked for it, so no central dispatch grows with the rule count. A panic in a rule is
//! caught: that rule's findings for the file are dropped and the failure recorded; the
//! deterministic breaker of the run (`subsystems::run_breakers`) disables a rule that fails on 5
//! files.

use foldhash::{HashMap, HashMapExt, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::syntax::Node;

use crate::extract::compact_spaces;
use crate::faults;
use crate::model::{FileRecord, FileRole};
use crate::model::{Finding, Severity};
use crate::otp::cancel::{Deadline, Expired};
use crate::otp::panic_capture;
use crate::rules::model::RuleMeta;
use crate::syntax::{self, Positions};

/// Where a node sits, as the walk knows it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Site<'a> {
    pub(crate) module: Option<&'a str>,
    /// The enclosing definition clause: name, arity and keyword (`def`, `defp`, ...).
    pub(crate) function: Option<(&'a str, u32, &'a str)>,
    /// Inside the value of module attribute `@name` at module level.
    pub(crate) attribute: Option<&'a str>,
}

/// A call, resolved as far as the file allows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallEvent<'a, 't> {
    /// The callee module after alias expansion (`String`, `:erlang`, `Kernel` for imported
    /// Kernel functions), if known.
    pub(crate) module: Option<&'a str>,
    pub(crate) name: &'a str,
    /// Arguments including a piped value.
    pub(crate) arity: u32,
    pub(crate) piped: bool,
    /// The `call` node (for a pipe, the call on the right of `|>`).
    pub(crate) node: Node<'t>,
}

/// The module of [`Interests::callees`] that stands for every module.
pub(crate) const ANY_MODULE: &str = "*";

/// What a rule wants to hear about.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Interests {
    /// tree-sitter-elixir node kinds (`comment`, `integer`, `binary_operator`, ...).
    pub(crate) node_kinds: &'static [&'static str],
    /// Resolved callees as (module, name), any arity; the rule checks the arity. The module
    /// [`ANY_MODULE`] matches every resolved module, for rules that judge the module themselves
    /// (Sobelow finds `Repo.query` by the alias's last segment, whatever the application); a
    /// rule names a function either under one module or under any, not both.
    pub(crate) callees: &'static [(&'static str, &'static str)],
    /// Whether [`Rule::check_file`] runs once the file's facts are complete.
    pub(crate) file_facts: bool,
}

pub(crate) trait Rule: Send + Sync {
    fn meta(&self) -> &RuleMeta;
    fn interests(&self) -> Interests;
    /// The file roles the rule applies to (by default those Credo analyses).
    fn applies_to(&self, role: FileRole) -> bool {
        matches!(
            role,
            FileRole::Lib | FileRole::Test | FileRole::TestSupport | FileRole::MixProject
        )
    }
    fn check_node(&self, _node: Node<'_>, _site: &Site<'_>, _out: &mut Reporter<'_>) {}
    fn check_call(&self, _call: &CallEvent<'_, '_>, _site: &Site<'_>, _out: &mut Reporter<'_>) {}
    fn check_file(&self, _file: &FileRecord, _out: &mut Reporter<'_>) {}
    /// Findings the engine itself produces for this rule (`unused-suppression`), rather than
    /// events of the walk.
    #[cfg_attr(not(test), allow(dead_code))] // reason: read by the registry test, which lets
                                             // engine-produced rules subscribe to nothing
    fn produced_by_engine(&self) -> bool {
        false
    }
}

/// The rules of one run, with their dispatch tables.
pub(crate) struct Engine {
    rules: Vec<Box<dyn Rule>>,
    /// Effective severity per rule (configuration may change the default later, [4c]).
    severities: Vec<Severity>,
    by_kind: HashMap<u16, Vec<usize>>,
    /// module → function name → rules.
    by_callee: HashMap<&'static str, HashMap<&'static str, Vec<usize>>>,
    file_rules: Vec<usize>,
    /// `comment` nodes are always collected, for suppressions.
    comment_kind: u16,
    /// Indexed by node kind id: whether any rule (or the comment collector) wants the kind. A
    /// vector, not a map: it is asked for every node of every file.
    kind_wanted: Vec<bool>,
    /// Every function name some rule subscribed to, whatever the module: the walk checks the
    /// name, which costs nothing, before it resolves the module.
    callee_names: HashSet<&'static str>,
}

impl Engine {
    pub(crate) fn new(rules: Vec<Box<dyn Rule>>) -> Engine {
        let language = syntax::language();
        let mut by_kind: HashMap<u16, Vec<usize>> = HashMap::new();
        let mut by_callee: HashMap<&'static str, HashMap<&'static str, Vec<usize>>> =
            HashMap::new();
        let mut file_rules = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let interests = rule.interests();
            for kind in interests.node_kinds {
                let id = language.id_for_node_kind(kind, true);
                by_kind.entry(id).or_default().push(index);
            }
            for (module, name) in interests.callees {
                by_callee
                    .entry(module)
                    .or_default()
                    .entry(name)
                    .or_default()
                    .push(index);
            }
            if interests.file_facts {
                file_rules.push(index);
            }
        }
        let severities = rules.iter().map(|r| r.meta().severity).collect();
        let comment_kind = language.id_for_node_kind("comment", true);
        let mut kind_wanted = vec![false; language.node_kind_count() + 1];
        for &id in by_kind.keys().chain([&comment_kind]) {
            if let Some(slot) = kind_wanted.get_mut(usize::from(id)) {
                *slot = true;
            }
        }
        let callee_names = by_callee
            .values()
            .flat_map(|names| names.keys().copied())
            .collect();
        Engine {
            rules,
            severities,
            by_kind,
            by_callee,
            file_rules,
            comment_kind,
            kind_wanted,
            callee_names,
        }
    }

    pub(crate) fn rules(&self) -> impl Iterator<Item = &dyn Rule> {
        self.rules.iter().map(|r| r.as_ref())
    }

    pub(crate) fn rule(&self, index: usize) -> &dyn Rule {
        self.rules[index].as_ref()
    }

    /// Whether the walk must report node events of this kind at all.
    pub(crate) fn wants_kind(&self, kind_id: u16) -> bool {
        self.kind_wanted
            .get(usize::from(kind_id))
            .copied()
            .unwrap_or(false)
    }

    /// Whether any rule subscribed to a function of this name.
    pub(crate) fn wants_name(&self, name: &str) -> bool {
        self.callee_names.contains(name)
    }

    /// The index of the rule with this id, if it runs.
    pub(crate) fn index_of(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.meta().id == id)
    }

    pub(crate) fn start_file<'e>(
        &'e self,
        path: &'e str,
        role: FileRole,
        source: &'e [u8],
        deadline: &'e Deadline,
    ) -> FileRun<'e> {
        let active = self
            .rules
            .iter()
            .map(|rule| rule.applies_to(role))
            .collect();
        FileRun {
            engine: self,
            path,
            source,
            active,
            raw: Vec::new(),
            failures: Vec::new(),
            comments: Vec::new(),
            nanos: vec![0; self.rules.len()],
            ancestors: AncestorMemo::default(),
            deadline,
            expired: false,
        }
    }
}

/// Answers of [`Reporter::has_ancestor`] for one file: for a question and a node, whether the
/// node or one of its ancestors has the property. Kept per file so that rules asking about
/// the ancestors of every node of a deep expression climb each ancestor once in all (a
/// 30,000-deep chain of additions took large-number-underscores 10 s when each number climbed
/// to the root).
#[derive(Default)]
pub(crate) struct AncestorMemo {
    known: foldhash::HashMap<(&'static str, usize), bool>,
}

/// A finding before fingerprints and suppressions.
#[derive(Debug, Clone)]
pub(crate) struct RawFinding {
    pub(crate) rule: usize,
    pub(crate) message: String,
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) end_line: u32,
    pub(crate) end_column: u32,
    pub(crate) module: Option<String>,
    pub(crate) function: Option<String>,
    /// The finding's code, whitespace collapsed, for the fingerprint.
    pub(crate) snippet: String,
    /// The Sobelow finding type `# sobelow_skip` matches (the rule's `sobelow_check` unless the
    /// rule follows several types and said which).
    pub(crate) sobelow_type: Option<&'static str>,
}

/// What a rule reports into; it knows the rule, the file and how to turn nodes into positions.
pub(crate) struct Reporter<'r> {
    rule: usize,
    source: &'r [u8],
    /// The file's path relative to the root (`/`-separated), for rules that follow a file
    /// naming rule of their model (Credo's ModuleDoc skips `.exs` files).
    path: &'r str,
    out: &'r mut Vec<RawFinding>,
    sobelow_type: Option<&'static str>,
    ancestors: &'r mut AncestorMemo,
}

impl<'r> Reporter<'r> {
    /// Sets the Sobelow finding type of the findings reported next, for a rule that follows
    /// several (`unsafe-to-atom` is `DOS.StringToAtom`, `DOS.ListToAtom` or `DOS.BinToAtom`;
    /// `None` for one Sobelow does not report), so `# sobelow_skip` matches each exactly.
    pub(crate) fn sobelow_type(&mut self, sobelow_type: Option<&'static str>) -> &mut Self {
        self.sobelow_type = sobelow_type;
        self
    }

    pub(crate) fn source(&self) -> &'r [u8] {
        self.source
    }

    /// Whether a strict ancestor of `node` satisfies `property`, remembered for the file under
    /// `question` (a name unique to the property): each node's answer is computed once, from
    /// its parent's, so asking it of every node of a deep expression stays linear.
    pub(crate) fn has_ancestor(
        &mut self,
        node: Node<'_>,
        question: &'static str,
        property: impl Fn(Node<'_>, &[u8]) -> bool,
    ) -> bool {
        let Some(parent) = node.parent() else {
            return false;
        };
        // Climb until an answer is known (or the root is passed), then fill in the answers
        // on the way back down: a node has the property above-or-at it if it has it itself or
        // its parent does.
        let mut chain = Vec::new();
        let mut current = Some(parent);
        let mut above = false;
        while let Some(ancestor) = current {
            if let Some(&known) = self.ancestors.known.get(&(question, ancestor.id())) {
                above = known;
                break;
            }
            chain.push(ancestor);
            current = ancestor.parent();
        }
        for ancestor in chain.into_iter().rev() {
            above = above || property(ancestor, self.source);
            self.ancestors
                .known
                .insert((question, ancestor.id()), above);
        }
        above
    }

    pub(crate) fn path(&self) -> &str {
        self.path
    }

    /// Reports `node` (its whole span) with `message`.
    pub(crate) fn node(&mut self, node: Node<'_>, site: &Site<'_>, message: impl Into<String>) {
        let positions = Positions::new(self.source);
        let (line, column) = positions.start(node);
        let (end_line, end_column) = positions.end(node);
        let snippet = compact_spaces(&syntax::text(node, self.source));
        self.at(
            (line, column, end_line, end_column),
            site.module.map(str::to_string),
            site.function
                .map(|(name, arity, _)| format!("{name}/{arity}")),
            snippet,
            message,
        );
    }

    /// Reports a position the rule computed itself (file-level rules).
    pub(crate) fn at(
        &mut self,
        (line, column, end_line, end_column): (u32, u32, u32, u32),
        module: Option<String>,
        function: Option<String>,
        snippet: String,
        message: impl Into<String>,
    ) {
        self.out.push(RawFinding {
            rule: self.rule,
            message: message.into(),
            line,
            column,
            end_line,
            end_column,
            module,
            function,
            snippet,
            sobelow_type: self.sobelow_type,
        });
    }
}

/// One file's pass through the engine.
pub(crate) struct FileRun<'e> {
    engine: &'e Engine,
    path: &'e str,
    source: &'e [u8],
    active: Vec<bool>,
    raw: Vec<RawFinding>,
    /// (rule, panic message) for rules that failed on this file.
    failures: Vec<(usize, String)>,
    comments: Vec<super::suppress::Comment>,
    /// Time spent in each rule on this file, for the report's `runtime.rules`.
    nanos: Vec<u64>,
    ancestors: AncestorMemo,
    /// The file's deadline, looked at after every rule's check (the engine reads the clock
    /// there anyway, for the rule timings).
    deadline: &'e Deadline,
    /// The deadline passed: no rule runs any more on this file and its findings are dropped.
    expired: bool,
}

impl<'e> FileRun<'e> {
    fn run(&mut self, rule: usize, check: impl FnOnce(&dyn Rule, &mut Reporter<'_>)) {
        if !self.active[rule] || self.expired {
            return;
        }
        let engine = self.engine;
        let mut found = Vec::new();
        let started = std::time::Instant::now();
        let outcome = panic_capture::capturing(|| {
            catch_unwind(AssertUnwindSafe(|| {
                let rule_ref = engine.rules[rule].as_ref();
                faults::panic_in_rule(rule_ref.meta().id, self.path);
                faults::slow_rule(rule_ref.meta().id);
                let mut reporter = Reporter {
                    rule,
                    source: self.source,
                    path: self.path,
                    out: &mut found,
                    sobelow_type: rule_ref.meta().sobelow_check,
                    ancestors: &mut self.ancestors,
                };
                check(rule_ref, &mut reporter);
            }))
        });
        let now = std::time::Instant::now();
        self.nanos[rule] +=
            u64::try_from(now.duration_since(started).as_nanos()).unwrap_or(u64::MAX);
        if self.deadline.expired_at(now) {
            self.expired = true;
        }
        match outcome {
            Ok(()) => self.raw.extend(found),
            Err(payload) => {
                let message = panic_capture::take_last()
                    .unwrap_or_else(|| panic_capture::payload_message(payload.as_ref()));
                // The rule is out for the rest of this file: its findings here are dropped.
                self.active[rule] = false;
                self.raw.retain(|f| f.rule != rule);
                self.failures.push((rule, message));
            }
        }
    }

    /// A node of a kind some rule asked for.
    pub(crate) fn node(&mut self, node: Node<'_>, site: &Site<'_>) {
        if node.kind_id() == self.engine.comment_kind {
            self.comments.push(super::suppress::Comment {
                line: Positions::line(node.start_position()),
                text: syntax::text(node, self.source)
                    .trim_end_matches(['\r', '\n'])
                    .to_string(),
            });
        }
        let Some(rules) = self.engine.by_kind.get(&node.kind_id()) else {
            return;
        };
        for &rule in rules {
            self.run(rule, |r, out| r.check_node(node, site, out));
        }
    }

    /// A resolved call.
    pub(crate) fn call(&mut self, call: &CallEvent<'_, '_>, site: &Site<'_>) {
        let Some(module) = call.module else { return };
        let engine = self.engine;
        let rules = [module, ANY_MODULE]
            .into_iter()
            .filter_map(|module| engine.by_callee.get(module)?.get(call.name))
            .flatten();
        for &rule in rules {
            self.run(rule, |r, out| r.check_call(call, site, out));
        }
    }

    /// Runs the file-level rules and returns what the file produced, or [`Expired`] when the
    /// file's deadline passed while a rule ran (here or during the walk).
    pub(crate) fn finish(mut self, record: &FileRecord) -> Result<FileAnalysis, Expired> {
        for rule in self.engine.file_rules.clone() {
            self.run(rule, |r, out| r.check_file(record, out));
        }
        if self.expired {
            return Err(Expired);
        }
        Ok(FileAnalysis {
            findings: self.raw,
            failures: self.failures,
            comments: self.comments,
            nanos: self.nanos,
        })
    }

    pub(crate) fn path(&self) -> &str {
        self.path
    }

    pub(crate) fn wants_kind(&self, kind_id: u16) -> bool {
        self.engine.wants_kind(kind_id)
    }

    pub(crate) fn wants_name(&self, name: &str) -> bool {
        self.engine.wants_name(name)
    }

    pub(crate) fn wants_callee(&self, module: Option<&str>, name: &str) -> bool {
        module.is_some_and(|module| {
            [module, ANY_MODULE].into_iter().any(|module| {
                self.engine
                    .by_callee
                    .get(module)
                    .is_some_and(|names| names.contains_key(name))
            })
        })
    }
}

/// What the rules produced for one file, before suppressions and fingerprints.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileAnalysis {
    pub(crate) findings: Vec<RawFinding>,
    pub(crate) failures: Vec<(usize, String)>,
    pub(crate) comments: Vec<super::suppress::Comment>,
    /// Nanoseconds spent in each rule (by index).
    pub(crate) nanos: Vec<u64>,
}

/// Turns raw findings into report findings with fingerprints: rule, enclosing function, the
/// normalised code and the occurrence index among identical triples — never a line number, so
/// a finding keeps its fingerprint when code above it moves.
pub(crate) fn finalize(engine: &Engine, path: &str, raw: Vec<RawFinding>) -> Vec<Finding> {
    let mut seen: HashMap<(usize, Option<String>, String), u32> = HashMap::new();
    let mut ordered = raw;
    ordered.sort_by_key(|f| (f.line, f.column, f.rule));
    ordered
        .into_iter()
        .map(|raw| {
            let meta = engine.rules[raw.rule].meta();
            let key = (raw.rule, raw.function.clone(), raw.snippet.clone());
            let occurrence = seen.entry(key).or_insert(0);
            let mut hasher = blake3::Hasher::new();
            for part in [
                meta.id,
                raw.module.as_deref().unwrap_or(""),
                raw.function.as_deref().unwrap_or(""),
                &raw.snippet,
                &occurrence.to_string(),
            ] {
                hasher.update(part.as_bytes());
                hasher.update(&[0x1f]);
            }
            *occurrence += 1;
            Finding {
                rule: meta.id.to_string(),
                category: meta.category,
                severity: engine.severities[raw.rule],
                message: raw.message,
                path: path.to_string(),
                line: raw.line,
                column: raw.column,
                end_line: raw.end_line,
                end_column: raw.end_column,
                module: raw.module,
                function: raw.function,
                fingerprint: hasher.finalize().to_hex()[..16].to_string(),
            }
        })
        .collect()
}
