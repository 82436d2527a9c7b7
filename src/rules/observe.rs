//! The bridge between the single walk over a file and the rules: turns the nodes the walk
//! meets into the events rules subscribed to — node kinds as they are, calls resolved through
//! the walk's lexical aliases (pipes count the piped value; captures `&M.f/2` carry their
//! arity), each with the site the walk knows.

use crate::syntax::kinds::{self, Field, Fields, Kind};
use foldhash::{HashSet, HashSetExt};

use crate::syntax::Node;

use super::engine::{CallEvent, FileRun, Site};
use crate::extract::observe::{SiteOwned, WalkObserver, WalkView};
use crate::syntax;

/// The site as the rules see it.
fn borrow(site: &SiteOwned) -> Site<'_> {
    Site {
        module: site.module.as_deref(),
        function: site
            .function
            .as_ref()
            .map(|(name, arity, kind)| (name.as_str(), *arity, *kind)),
        attribute: site.attribute.as_deref(),
    }
}

/// Per-file state of the bridge.
pub(crate) struct Observer<'e> {
    pub(crate) run: FileRun<'e>,
    /// Calls on the right of `|>`: their arity counts the piped value.
    piped: HashSet<usize>,
    /// Calls already reported as the target of a capture `&M.f/n`.
    captured: HashSet<usize>,
    source: &'e [u8],
}

impl<'e> Observer<'e> {
    pub(crate) fn new(run: FileRun<'e>, source: &'e [u8]) -> Observer<'e> {
        Observer {
            run,
            piped: HashSet::new(),
            captured: HashSet::new(),
            source,
        }
    }

    pub(crate) fn into_run(self) -> FileRun<'e> {
        self.run
    }

    /// Called by the walk on entering every named node.
    fn enter_node(&mut self, node: Node<'e>, kind: Kind, view: &dyn WalkView) {
        if kind == Kind::BinaryOperator {
            if let (Some(op), Some(right)) = (node.field(Field::Operator), node.field(Field::Right))
            {
                if &self.source[op.byte_range()] == b"|>" && kinds::kind(right) == Kind::Call {
                    self.piped.insert(right.id());
                }
            }
        }
        let wants_kind = self.run.wants_kind(node.kind_id());
        let call = if kind == Kind::Call && !self.captured.contains(&node.id()) {
            self.call_parts(node, view)
        } else if kind == Kind::UnaryOperator {
            self.capture_parts(node, view)
        } else {
            None
        };
        if !wants_kind
            && call
                .as_ref()
                .is_none_or(|c| !self.run.wants_callee(c.0.as_deref(), &c.1))
        {
            return;
        }
        let site = view.site();
        if wants_kind {
            self.run.node(node, &borrow(&site));
        }
        if let Some((module, name, arity, piped, call_node)) = call {
            let event = CallEvent {
                module: module.as_deref(),
                name: &name,
                arity,
                piped,
                node: call_node,
            };
            self.run.call(&event, &borrow(&site));
        }
    }

    /// `M.f(args)`, `f(args)` (as `Kernel` when unqualified: rules that subscribe to Kernel
    /// functions check that the name is not shadowed), with the pipe's value counted.
    #[allow(clippy::type_complexity)] // reason: a private tuple, named at its only use
    fn call_parts<'t>(
        &self,
        node: Node<'t>,
        view: &dyn WalkView,
    ) -> Option<(Option<String>, String, u32, bool, Node<'t>)> {
        let target = node.field(Field::Target)?;
        // The name first: it is free to read, and most calls interest no rule, so their
        // module is never resolved.
        let target_kind = kinds::kind(target);
        let name_node = match target_kind {
            Kind::Dot => target.field(Field::Right)?,
            Kind::Identifier => target,
            _ => return None,
        };
        if !self.run.wants_name(&syntax::text(name_node, self.source)) {
            return None;
        }
        let piped = self.piped.contains(&node.id());
        let arguments = count_arguments(node);
        let arity = arguments + u32::from(piped);
        match target_kind {
            Kind::Dot => {
                let left = target.field(Field::Left)?;
                let right = target.field(Field::Right)?;
                let module = view.resolve_module(left)?;
                let name = syntax::text(right, self.source).into_owned();
                Some((Some(module), name, arity, piped, node))
            }
            Kind::Identifier => {
                let name = syntax::text(target, self.source).into_owned();
                Some((Some("Kernel".to_string()), name, arity, piped, node))
            }
            _ => None,
        }
    }

    /// `&M.f/2` and `&f/1`.
    #[allow(clippy::type_complexity)] // reason: as above
    fn capture_parts<'t>(
        &mut self,
        node: Node<'t>,
        view: &dyn WalkView,
    ) -> Option<(Option<String>, String, u32, bool, Node<'t>)> {
        let operator = node.field(Field::Operator)?;
        if &self.source[operator.byte_range()] != b"&" {
            return None;
        }
        let operand = node.field(Field::Operand)?;
        if operand.kind() != "binary_operator" {
            return None;
        }
        let slash = operand.field(Field::Operator)?;
        if &self.source[slash.byte_range()] != b"/" {
            return None;
        }
        let left = operand.field(Field::Left)?;
        let arity: u32 = syntax::text(operand.field(Field::Right)?, self.source)
            .parse()
            .ok()?;
        let (module, name) = match left.kind() {
            "call" => {
                let target = left.field(Field::Target)?;
                if target.kind() != "dot" {
                    return None;
                }
                self.captured.insert(left.id());
                let module = view.resolve_module(target.field(Field::Left)?)?;
                let name = syntax::text(target.field(Field::Right)?, self.source);
                (Some(module), name.into_owned())
            }
            "identifier" => (
                Some("Kernel".to_string()),
                syntax::text(left, self.source).into_owned(),
            ),
            _ => return None,
        };
        Some((module, name, arity, false, node))
    }
}

/// Arguments as written (a trailing keyword list counts one; a `do` block counts one).
fn count_arguments(call: Node<'_>) -> u32 {
    u32::try_from(syntax::ast_argument_count(call)).unwrap_or(u32::MAX)
}

impl<'e> WalkObserver<'e> for Observer<'e> {
    fn enter(&mut self, node: Node<'e>, kind: Kind, view: &dyn WalkView) {
        self.enter_node(node, kind, view);
    }
}
