//! Suppression comments, so an existing codebase is not flooded on day one:
//!
//! - elixirscope's own: `# elixirscope:disable-next-line [RULE...]`, `disable-line`,
//!   `disable-file` (no rule: every rule; rules separated by spaces or commas). One that
//!   suppresses nothing is reported as `unused-suppression`.
//! - Credo's, for rules that follow a Credo check, with Credo 1.7.19's exact semantics
//!   (`../shared/CREDO_CHECKS.md` §22): `# credo:disable-for-this-file`, `-for-next-line`,
//!   `-for-previous-line`, `-for-lines:N` / `-for-lines:-N`; parameter empty (all checks), a
//!   `/regex/` matched case-insensitively against `Elixir.` + the check module, or the full
//!   check module name.
//! - Sobelow's, for rules that follow a Sobelow finding: `# sobelow_skip ["DOS.StringToAtom"]`
//!   (or a category, `["DOS"]`) applies to the next `def`/`defp` clause only (§S.6).
//!
//! `--no-foreign-suppressions` ignores Credo's and Sobelow's comments.

use regex_lite::Regex;

use super::engine::{Engine, RawFinding};
use crate::model::FileRecord;
use crate::model::FunctionKind;

/// One comment of the file: its line and its text from `#`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Comment {
    pub(crate) line: u32,
    pub(crate) text: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Scope {
    File,
    Lines(u32, u32),
}

#[derive(Debug, Clone)]
enum Matcher {
    /// elixirscope rule ids; empty = all.
    Own(Vec<String>),
    /// Credo: all, a regex over `Elixir.<check>`, or one check's full name.
    CredoAll,
    CredoRegex(Regex),
    CredoName(String),
    /// Sobelow names: categories (`DOS`) or checks (`DOS.StringToAtom`).
    Sobelow(Vec<String>),
}

#[derive(Debug, Clone)]
struct Directive {
    line: u32,
    scope: Scope,
    matcher: Matcher,
    used: bool,
}

/// The result of applying a file's suppressions.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub(crate) kept: Vec<RawFinding>,
    pub(crate) suppressed: u64,
    /// elixirscope directives that suppressed nothing: (line, comment text).
    pub(crate) unused: Vec<(u32, String)>,
}

fn parse_own(comment: &Comment) -> Option<Directive> {
    let body = comment.text.trim_start_matches('#').trim();
    let rest = body.strip_prefix("elixirscope:")?;
    let (instruction, rules) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    // A further `#` starts a remark, not a rule name.
    let rules = rules.split('#').next().unwrap_or("");
    let scope = match instruction {
        "disable-next-line" => Scope::Lines(comment.line + 1, comment.line + 1),
        "disable-line" => Scope::Lines(comment.line, comment.line),
        "disable-file" => Scope::File,
        _ => return None,
    };
    let rules = rules
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect();
    Some(Directive {
        line: comment.line,
        scope,
        matcher: Matcher::Own(rules),
        used: false,
    })
}

fn parse_credo(comment: &Comment) -> Option<Directive> {
    // `#`, optional whitespace, `credo:` (any case), the instruction, optional whitespace, and
    // the parameter with its trailing whitespace (which makes a name match nothing, as in
    // Credo).
    let text = comment.text.as_str();
    let after_hash = text.strip_prefix('#')?.trim_start();
    // Byte-wise: the comment may hold any text, and `credo:` is ASCII.
    if !after_hash
        .get(..6)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("credo:"))
    {
        return None;
    }
    let rest = &after_hash[6..];
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == ':'))
        .unwrap_or(rest.len());
    let (instruction, parameter) = rest.split_at(end);
    let parameter = parameter.trim_start();
    let line = comment.line;
    let scope = match instruction {
        "disable-for-this-file" => Scope::File,
        "disable-for-next-line" => Scope::Lines(line + 1, line + 1),
        "disable-for-previous-line" => Scope::Lines(line.saturating_sub(1), line.saturating_sub(1)),
        other => {
            let count = other.strip_prefix("disable-for-lines:")?;
            let count: i64 = count.parse().ok()?;
            if count >= 0 {
                Scope::Lines(line, line + count as u32)
            } else {
                Scope::Lines(line.saturating_sub(count.unsigned_abs() as u32), line)
            }
        }
    };
    let matcher = if parameter.is_empty() {
        Matcher::CredoAll
    } else if parameter.len() >= 2 && parameter.starts_with('/') && parameter.ends_with('/') {
        Matcher::CredoRegex(
            Regex::new(&format!("(?i){}", &parameter[1..parameter.len() - 1])).ok()?,
        )
    } else {
        Matcher::CredoName(parameter.to_string())
    };
    Some(Directive {
        line,
        scope,
        matcher,
        used: false,
    })
}

fn parse_sobelow(comment: &Comment) -> Option<Vec<String>> {
    // `#`, at most one whitespace character, `sobelow_skip`, a space, a list of double-quoted
    // names.
    let text = comment.text.strip_prefix('#')?;
    let text = text
        .strip_prefix(|c: char| c.is_whitespace())
        .unwrap_or(text);
    let list = text.strip_prefix("sobelow_skip ")?.trim_end();
    let inner = list.strip_prefix('[')?.strip_suffix(']')?;
    let mut names = Vec::new();
    for item in inner.split(',') {
        let item = item.trim();
        let name = item.strip_prefix('"')?.strip_suffix('"')?;
        names.push(name.to_string());
    }
    Some(names)
}

/// A clause's (first line, last line).
type LineRange = (u32, u32);

/// The def/defp clauses of a file, and all clauses, as line ranges in source order.
fn def_clauses(record: &FileRecord) -> (Vec<LineRange>, Vec<LineRange>) {
    let mut defs = Vec::new();
    let mut all = Vec::new();
    for module in &record.modules {
        for function in &module.functions {
            for clause in &function.clauses {
                all.push((clause.line, clause.end_line));
                if matches!(function.kind, FunctionKind::Def | FunctionKind::Defp) {
                    defs.push((clause.line, clause.end_line));
                }
            }
        }
    }
    defs.sort_unstable();
    all.sort_unstable();
    (defs, all)
}

/// Applies every suppression of the file to its raw findings.
pub(crate) fn apply(
    engine: &Engine,
    comments: &[Comment],
    record: &FileRecord,
    findings: Vec<RawFinding>,
    foreign: bool,
) -> Applied {
    let mut directives: Vec<Directive> = comments.iter().filter_map(parse_own).collect();
    let own_count = directives.len();
    if foreign {
        directives.extend(comments.iter().filter_map(parse_credo));
        let (defs, all) = def_clauses(record);
        // Sobelow: a skip lands on the next def/defp clause; stacked skips, the nearest wins;
        // a skip inside a body does nothing.
        let mut skips: Vec<(u32, Vec<String>)> = comments
            .iter()
            .filter_map(|c| parse_sobelow(c).map(|names| (c.line, names)))
            .filter(|(line, _)| {
                !all.iter()
                    .any(|&(start, end)| start < *line && *line <= end)
            })
            .collect();
        skips.sort_by_key(|(line, _)| *line);
        for &(start, end) in &defs {
            // Only a def/defp clause in between takes the skip: Sobelow does not count a
            // `defmacro`, so a skip above one lands on the next def (§S.6, confirmed).
            let nearest = skips
                .iter()
                .rev()
                .find(|(line, _)| *line < start)
                .filter(|(line, _)| !defs.iter().any(|&(s, _)| *line < s && s < start));
            if let Some((line, names)) = nearest {
                directives.push(Directive {
                    line: *line,
                    scope: Scope::Lines(start, end),
                    matcher: Matcher::Sobelow(names.clone()),
                    used: false,
                });
            }
        }
    }
    let mut applied = Applied::default();
    for finding in findings {
        let meta = engine.rule(finding.rule).meta();
        let mut hit = false;
        for directive in &mut directives {
            let in_scope = match directive.scope {
                Scope::File => true,
                Scope::Lines(first, last) => (first..=last).contains(&finding.line),
            };
            if !in_scope {
                continue;
            }
            let matches = match &directive.matcher {
                Matcher::Own(rules) => rules.is_empty() || rules.iter().any(|r| r == meta.id),
                Matcher::CredoAll => meta.credo_check.is_some(),
                Matcher::CredoRegex(regex) => meta
                    .credo_check
                    .is_some_and(|check| regex.is_match(&format!("Elixir.{check}"))),
                Matcher::CredoName(name) => meta.credo_check == Some(name.as_str()),
                Matcher::Sobelow(names) => finding.sobelow_type.is_some_and(|check| {
                    names
                        .iter()
                        .any(|name| name == check || check.split('.').next() == Some(name.as_str()))
                }),
            };
            if matches {
                directive.used = true;
                hit = true;
            }
        }
        if hit {
            applied.suppressed += 1;
        } else {
            applied.kept.push(finding);
        }
    }
    for directive in directives.iter().take(own_count) {
        if !directive.used {
            let text = comments
                .iter()
                .find(|c| c.line == directive.line)
                .map(|c| c.text.clone())
                .unwrap_or_default();
            applied.unused.push((directive.line, text));
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(line: u32, text: &str) -> Comment {
        Comment {
            line,
            text: text.into(),
        }
    }

    #[test]
    fn own_directives() {
        let d = parse_own(&comment(
            3,
            "# elixirscope:disable-next-line io-inspect, dbg-call",
        ))
        .unwrap();
        assert_eq!(d.scope, Scope::Lines(4, 4));
        assert!(matches!(d.matcher, Matcher::Own(ref r) if r == &["io-inspect", "dbg-call"]));
        assert_eq!(
            parse_own(&comment(3, "# elixirscope:disable-file"))
                .unwrap()
                .scope,
            Scope::File
        );
        assert!(parse_own(&comment(3, "# elixirscope:disable-everything")).is_none());
    }

    #[test]
    fn credo_directives_follow_credo() {
        let d = parse_credo(&comment(
            5,
            "# credo:disable-for-previous-line Credo.Check.Warning.IoInspect",
        ))
        .unwrap();
        assert_eq!(d.scope, Scope::Lines(4, 4));
        assert!(
            matches!(d.matcher, Matcher::CredoName(ref n) if n == "Credo.Check.Warning.IoInspect")
        );
        let d = parse_credo(&comment(3, "# credo:disable-for-lines:2")).unwrap();
        assert_eq!(d.scope, Scope::Lines(3, 5));
        let d = parse_credo(&comment(16, "# credo:disable-for-lines:-2")).unwrap();
        assert_eq!(d.scope, Scope::Lines(14, 16));
        assert!(parse_credo(&comment(1, "# CREDO:disable-for-next-line")).is_some());
        // The instruction must be lowercase; a trailing colon makes it inert.
        assert!(parse_credo(&comment(1, "# credo:Disable-For-Next-Line")).is_none());
        assert!(parse_credo(&comment(1, "# credo:disable-for-next-line:")).is_none());
        // Non-ASCII text where `credo:` would be is no directive, and no panic.
        assert!(parse_credo(&comment(1, "# §3 → näive")).is_none());
        assert!(parse_own(&comment(1, "# §3 → näive")).is_none());
        let d = parse_credo(&comment(1, "# credo:disable-for-next-line /ioinspect/")).unwrap();
        assert!(
            matches!(d.matcher, Matcher::CredoRegex(ref r) if r.is_match("Elixir.Credo.Check.Warning.IoInspect"))
        );
        // Trailing spaces are part of the name, which then matches nothing.
        let d = parse_credo(&comment(
            1,
            "# credo:disable-for-next-line Credo.Check.Warning.IoInspect  ",
        ))
        .unwrap();
        assert!(matches!(d.matcher, Matcher::CredoName(ref n) if n.ends_with("  ")));
    }

    #[test]
    fn sobelow_skips() {
        assert_eq!(
            parse_sobelow(&comment(1, "# sobelow_skip [\"DOS.StringToAtom\", \"CI\"]")),
            Some(vec!["DOS.StringToAtom".to_string(), "CI".to_string()])
        );
        assert_eq!(
            parse_sobelow(&comment(1, "#sobelow_skip [\"DOS\"]")),
            Some(vec!["DOS".to_string()])
        );
        assert_eq!(
            parse_sobelow(&comment(1, "# sobelow_skip [DOS.StringToAtom]")),
            None
        );
    }
}
