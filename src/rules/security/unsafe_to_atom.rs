//! `unsafe-to-atom`: Credo's `Warning.UnsafeToAtom` (`../shared/CREDO_CHECKS.md` §16) and
//! Sobelow's `DOS.StringToAtom`, `DOS.ListToAtom` and `DOS.BinToAtom` (§S.5), for calls fed
//! something other than constants.

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use super::sobelow::{self, Judgement};
use crate::model::FileRole;
use crate::rules::engine::{CallEvent, Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, RuleDocs, RuleMeta, Severity};
use crate::syntax;

const STRING_TO_ATOM: &str = "DOS.StringToAtom";
const LIST_TO_ATOM: &str = "DOS.ListToAtom";
const BIN_TO_ATOM: &str = "DOS.BinToAtom";

pub(crate) struct UnsafeToAtom {
    meta: RuleMeta,
}

impl UnsafeToAtom {
    pub(crate) fn new() -> UnsafeToAtom {
        UnsafeToAtom {
            meta: RuleMeta {
                id: "unsafe-to-atom",
                category: Category::Security,
                severity: Severity::Error,
                enabled_by_default: true,
                summary: "An atom created at run time from input",
                credo_check: Some("Credo.Check.Warning.UnsafeToAtom"),
                // Each finding carries its own type: `DOS.StringToAtom`, `DOS.ListToAtom`,
                // `DOS.BinToAtom`, or none for the calls only Credo checks.
                sobelow_check: Some(STRING_TO_ATOM),
                parameters: Vec::new(),
                docs: RuleDocs {
                    what_it_finds: concat!(
                        "Atoms created from input: `String.to_atom/1` (Sobelow DOS.StringToAtom), \
                         `List.to_atom/1` (DOS.ListToAtom), `:erlang.binary_to_atom/1,2` and \
                         interpolated atoms such as `:\"user_#{role}\"` or `\"#{key}\": value` \
                         (DOS.BinToAtom), and, as Credo's Warning.UnsafeToAtom, \
                         `:erlang.list_to_atom/1`, `Module.concat/1,2` and `Jason.decode/2` or \
                         `Jason.decode!/2` with `keys: :atoms`. Calls count direct, piped and \
                         captured (`&String.to_atom/1`, whose input is `&1`). ",
                        "Credo flags these calls whatever their argument; elixirscope does not: \
                         `String.to_atom(\"ok\")` and `Module.concat(__MODULE__, Impl)` pass. \
                         Unlike both tools, it also finds a call through an alias \
                         (`alias String, as: S`). `# sobelow_skip` matches each finding's own \
                         type; the calls only Credo checks have none. ",
                        super::judgement_note!()
                    ),
                    why_it_matters: "Atoms are never garbage-collected and the atom table is \
                                     limited (1,048,576 by default): a caller who can choose \
                                     the atoms' names can fill it and crash the whole node.",
                    example: "def show(conn, %{\"sort\" => sort}) do\n  \
                              order = String.to_atom(sort)\n  \
                              json(conn, Posts.list(order_by: order))\nend",
                    instead: "def show(conn, %{\"sort\" => sort}) do\n  \
                              order = String.to_existing_atom(sort)\n  \
                              json(conn, Posts.list(order_by: order))\nend\n\n\
                              # or map the input onto a fixed set:\n\
                              defp order(\"title\"), do: :title\n\
                              defp order(_), do: :inserted_at",
                },
            },
        }
    }

    fn report(
        &self,
        node: Node<'_>,
        site: &Site<'_>,
        out: &mut Reporter<'_>,
        sobelow_type: Option<&'static str>,
        (safe, unsafe_call): (&str, &str),
        judgement: &Judgement,
    ) {
        let message = format!(
            "Prefer {safe} over {unsafe_call} to avoid creating atoms at runtime {}.",
            judgement.suffix()
        );
        out.sobelow_type(sobelow_type);
        if node.kind() != "quoted_keyword" {
            out.node(node, site, message);
            return;
        }
        // tree-sitter's `"k#{x}": ` includes the space after the colon: report up to the colon.
        let source = out.source();
        let text = syntax::text(node, source);
        let trimmed = text.trim_end();
        let positions = syntax::Positions::new(source);
        let (line, column) = positions.start(node);
        let end_line = line + trimmed.matches('\n').count() as u32;
        let last_line = trimmed.rsplit('\n').next().unwrap_or(trimmed);
        let end_column = if end_line == line {
            column + last_line.chars().count() as u32
        } else {
            1 + last_line.chars().count() as u32
        };
        out.at(
            (line, column, end_line, end_column),
            site.module.map(str::to_string),
            site.function
                .map(|(name, arity, _)| format!("{name}/{arity}")),
            trimmed.split_whitespace().collect::<Vec<_>>().join(" "),
            message,
        );
    }
}

/// `keys: :atoms` in some keyword-list argument (the first `keys`, as `Keyword.get`).
fn decodes_keys_to_atoms(call: Node<'_>, source: &[u8]) -> bool {
    sobelow::written_arguments(call)
        .into_iter()
        .any(|argument| {
            let keywords = match argument.kind() {
                "keywords" => Some(argument),
                "list" => {
                    let children: Vec<Node<'_>> = argument
                        .named_children()
                        .filter(|c| c.kind() != "comment")
                        .collect();
                    (children.len() == 1 && children[0].kind() == "keywords").then(|| children[0])
                }
                _ => None,
            };
            let Some(keywords) = keywords else {
                return false;
            };
            let keys = keywords.named_children().find(|pair| {
                pair.field(Field::Key).is_some_and(|key| {
                    syntax::text(key, source).trim_end().trim_end_matches(':') == "keys"
                })
            });
            keys.and_then(|pair| pair.field(Field::Value))
                .is_some_and(|value| syntax::text(value, source) == ":atoms")
        })
}

impl Rule for UnsafeToAtom {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            node_kinds: &["quoted_atom", "quoted_keyword"],
            callees: &[
                ("String", "to_atom"),
                ("List", "to_atom"),
                (":erlang", "binary_to_atom"),
                (":erlang", "list_to_atom"),
                ("Module", "concat"),
                ("Jason", "decode"),
                ("Jason", "decode!"),
            ],
            ..Interests::default()
        }
    }

    fn applies_to(&self, role: FileRole) -> bool {
        super::applies_to(role)
    }

    fn check_call(&self, call: &CallEvent<'_, '_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        let source = out.source();
        let captured = call.node.kind() == syntax::kinds::UNARY_OPERATOR;
        let (sobelow_type, safe, unsafe_call, names) = match (call.module, call.name, call.arity) {
            (Some("String"), "to_atom", 1) => (
                Some(STRING_TO_ATOM),
                "String.to_existing_atom/1".to_string(),
                "String.to_atom/1".to_string(),
                sobelow::fed_names(call, 0, source),
            ),
            (Some("List"), "to_atom", 1) => (
                Some(LIST_TO_ATOM),
                "List.to_existing_atom/1".to_string(),
                "List.to_atom/1".to_string(),
                sobelow::fed_names(call, 0, source),
            ),
            // Credo checks the 2-argument form only; Sobelow any.
            (Some(":erlang"), "binary_to_atom", arity @ (1 | 2)) => (
                Some(BIN_TO_ATOM),
                format!(":erlang.binary_to_existing_atom/{arity}"),
                format!(":erlang.binary_to_atom/{arity}"),
                sobelow::fed_names(call, 0, source),
            ),
            (Some(":erlang"), "list_to_atom", 1) => (
                None,
                ":erlang.list_to_existing_atom/1".to_string(),
                ":erlang.list_to_atom/1".to_string(),
                sobelow::fed_names(call, 0, source),
            ),
            (Some("Module"), "concat", arity @ (1 | 2)) => {
                // Credo names the arity as written, so `a |> Module.concat(b)` is `/1`.
                let written = if call.piped { 1 } else { arity };
                (
                    None,
                    format!("Module.safe_concat/{written}"),
                    format!("Module.concat/{written}"),
                    sobelow::all_fed_names(call, source),
                )
            }
            (Some("Jason"), name @ ("decode" | "decode!"), _)
                if !captured && decodes_keys_to_atoms(call.node, source) =>
            {
                (
                    None,
                    format!("Jason.{name}(..., keys: :atoms!)"),
                    format!("Jason.{name}(..., keys: :atoms)"),
                    sobelow::fed_names(call, 0, source),
                )
            }
            _ => return,
        };
        if let Some(judgement) = sobelow::judge(call.node, site, source, names) {
            self.report(
                call.node,
                site,
                out,
                sobelow_type,
                (&safe, &unsafe_call),
                &judgement,
            );
        }
    }

    /// `:"a#{x}"` and `"a#{x}": v` parse as `:erlang.binary_to_atom/2` (Sobelow's
    /// DOS.BinToAtom; Credo does not see them).
    fn check_node(&self, node: Node<'_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        if !node
            .named_children()
            .any(|child| child.kind() == "interpolation")
        {
            return;
        }
        let source = out.source();
        let names = sobelow::interpolated_names(node, source);
        if let Some(judgement) = sobelow::judge(node, site, source, names) {
            self.report(
                node,
                site,
                out,
                Some(BIN_TO_ATOM),
                ("String.to_existing_atom/1", "atom interpolation"),
                &judgement,
            );
        }
    }
}
