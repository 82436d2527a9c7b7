//! `large-number-underscores`: Credo's `Readability.LargeNumbers` (CREDO_CHECKS.md §19).

use crate::syntax::kinds::{Field, Fields};
use crate::syntax::Node;

use crate::rules::anchor;
use crate::rules::engine::{Interests, Reporter, Rule, Site};
use crate::rules::model::{Category, Parameter, RuleDocs, RuleMeta, Severity};
use crate::syntax::{self, Positions};

/// Credo's default `only_greater_than`.
const ONLY_GREATER_THAN: u64 = 9_999;

pub(crate) struct LargeNumberUnderscores {
    meta: RuleMeta,
    only_greater_than: u64,
    trailing_digits: Vec<usize>,
}

impl LargeNumberUnderscores {
    pub(crate) fn new() -> LargeNumberUnderscores {
        LargeNumberUnderscores::with_params(ONLY_GREATER_THAN, Vec::new())
    }

    pub(crate) fn with_params(
        only_greater_than: u64,
        trailing_digits: Vec<usize>,
    ) -> LargeNumberUnderscores {
        LargeNumberUnderscores {
            only_greater_than,
            trailing_digits,
            meta: RuleMeta {
                id: "large-number-underscores",
                category: Category::Readability,
                severity: Severity::Warning,
                enabled_by_default: true,
                summary: "A large number written without `_` between groups of three digits",
                credo_check: Some("Credo.Check.Readability.LargeNumbers"),
                sobelow_check: None,
                parameters: vec![
                    Parameter {
                        name: "only_greater_than",
                        default: ONLY_GREATER_THAN.to_string(),
                        description: "Only numbers greater than this are checked.",
                    },
                    Parameter {
                        name: "trailing_digits",
                        default: "[]".to_string(),
                        description: "Sizes of a last group allowed besides 3 (a number, list \
                                      or range), e.g. 2 for amounts in cents: `1_000_00`.",
                    },
                ],
                docs: RuleDocs {
                    what_it_finds: "Integer and float literals greater than `only_greater_than` \
                                    that are not written with `_` between groups of three \
                                    digits (`10000`, `1_0000`, `123456.789`); an integer must \
                                    be grouped from its value, so `010000` is flagged too. A \
                                    float's fraction and exponent are left as written. \
                                    Hexadecimal, octal and binary literals and numbers inside \
                                    `#{}` interpolations are not checked. As in Credo, the \
                                    number is read from its line; Credo drops the first digit \
                                    of a number that starts a line (and so flags `10_000` \
                                    there), elixirscope does not.",
                    why_it_matters: "`1000000` and `10000000` are hard to tell apart at a \
                                     glance; `1_000_000` is read correctly every time.",
                    example: "@timeout 300000\n@max_size 1048576",
                    instead: "@timeout 300_000\n@max_size 1_048_576",
                },
            },
        }
    }

    /// The number of digits of `only_greater_than`.
    fn threshold_digits(&self) -> usize {
        self.only_greater_than.to_string().len()
    }

    /// Whether the literal's value is above `only_greater_than`.
    fn large(&self, node: Node<'_>, text: &str) -> bool {
        let digits: String = text.chars().filter(|c| *c != '_').collect();
        if node.kind() == "float" {
            return digits
                .parse::<f64>()
                .is_ok_and(|value| value > self.only_greater_than as f64);
        }
        let significant = digits.trim_start_matches('0');
        significant.len() > 20
            || significant
                .parse::<u128>()
                .is_ok_and(|value| value > u128::from(self.only_greater_than))
    }

    /// Credo's accepted spellings of a number whose source text is `source`.
    fn expected(&self, node: Node<'_>, text: &str, source: &str) -> Vec<String> {
        if node.kind() == "float" {
            return match source.split_once('.') {
                Some((integer, fraction)) => self
                    .with_underscores(integer)
                    .into_iter()
                    .map(|base| format!("{base}.{fraction}"))
                    .collect(),
                None => self.with_underscores(source),
            };
        }
        // An integer is grouped from its value.
        let digits: String = text.chars().filter(|c| *c != '_').collect();
        let significant = digits.trim_start_matches('0');
        self.with_underscores(if significant.is_empty() {
            "0"
        } else {
            significant
        })
    }

    /// Credo's `add_underscores_to_number_string`: the digits grouped in threes from the right,
    /// then one alternative per allowed trailing group size.
    fn with_underscores(&self, string: &str) -> Vec<String> {
        let chars: Vec<char> = string.chars().collect();
        let mut versions = vec![group_in_threes(&chars)];
        for &trailing in &self.trailing_digits {
            if chars.len() > trailing {
                // `String.slice(s, 0..-(t+1))` and `String.slice(s, -t..-1)`: for 0 both are
                // the whole string.
                let (base, tail) = if trailing == 0 {
                    (&chars[..], &chars[..])
                } else {
                    chars.split_at(chars.len() - trailing)
                };
                let tail: String = tail.iter().collect();
                versions.push(format!("{}_{tail}", group_in_threes(base)));
            }
        }
        let mut unique = Vec::new();
        for version in versions {
            if !unique.contains(&version) {
                unique.push(version);
            }
        }
        unique
    }
}

/// `s |> reverse |> replace(~r/(\d{3})(?=\d)/, "\\1_") |> reverse`.
fn group_in_threes(chars: &[char]) -> String {
    let reversed: Vec<char> = chars.iter().rev().copied().collect();
    let mut out = Vec::with_capacity(reversed.len() + reversed.len() / 3);
    let mut index = 0;
    while index < reversed.len() {
        let three = index + 3 <= reversed.len()
            && reversed[index..index + 3].iter().all(char::is_ascii_digit);
        if three && reversed.get(index + 3).is_some_and(char::is_ascii_digit) {
            out.extend_from_slice(&reversed[index..index + 3]);
            out.push('_');
            index += 3;
        } else {
            out.push(reversed[index]);
            index += 1;
        }
    }
    out.iter().rev().collect()
}

/// Credo's reading of a number from its line: the run of `[0-9_oxb]` ending at the token's
/// second character, then the run of `[0-9_.]` after it, cut at `..` (so `1..100000` reads
/// `100000` and `12345.0e3` reads `12345.0`). `at` is the token's byte offset in `line`.
fn source_fragment(line: &[u8], at: usize) -> String {
    let leading = |b: u8| b.is_ascii_digit() || matches!(b, b'_' | b'o' | b'x' | b'b');
    let head_end = (at + 2).min(line.len());
    let mut begin = head_end;
    while begin > 0 && leading(line[begin - 1]) {
        begin -= 1;
    }
    let rest = &line[head_end..];
    let run = rest
        .iter()
        .take_while(|b| b.is_ascii_digit() || matches!(b, b'_' | b'.'))
        .count();
    let mut ending = &rest[..run];
    if let Some(cut) = ending.windows(2).position(|pair| pair == b"..") {
        ending = &ending[..cut];
    }
    let mut fragment = String::from_utf8_lossy(&line[begin..head_end]).into_owned();
    fragment.push_str(&String::from_utf8_lossy(ending));
    fragment
}

/// Module attributes whose value the single walk does not enter (their names are types, not
/// code): this rule reads them itself, so every number is reported once whatever the walk
/// does.
const TYPE_ATTRIBUTES: [&str; 7] = [
    "spec",
    "type",
    "typep",
    "opaque",
    "callback",
    "macrocallback",
    "behaviour",
];

/// Whether `node` is `@spec …`, `@type …` or another of [`TYPE_ATTRIBUTES`].
fn type_attribute(node: Node<'_>, source: &[u8]) -> bool {
    node.kind() == "unary_operator"
        && node
            .field(Field::Operator)
            .is_some_and(|op| &source[op.byte_range()] == b"@")
        && node
            .field(Field::Operand)
            .and_then(|operand| super::local_call_name(operand, source))
            .is_some_and(|name| TYPE_ATTRIBUTES.contains(&name))
}

/// What lies above a number: an interpolation (Credo reads the top-level tokens only, and a
/// number inside `#{}` is part of a string token) and a type attribute.
fn enclosing(node: Node<'_>, out: &mut Reporter<'_>) -> (bool, bool) {
    let interpolated = out.has_ancestor(node, "interpolation", |ancestor, _| {
        ancestor.kind() == "interpolation"
    });
    let in_type = out.has_ancestor(node, "type attribute", type_attribute);
    (interpolated, in_type)
}

impl LargeNumberUnderscores {
    /// Checks one number literal; `from_type` when this rule found it inside a type attribute.
    fn check_number(
        &self,
        node: Node<'_>,
        from_type: bool,
        site: &Site<'_>,
        out: &mut Reporter<'_>,
    ) {
        let source_bytes = out.source();
        let bytes = &source_bytes[node.byte_range()];
        // Most integers are short: fewer characters than the threshold has digits cannot
        // exceed it.
        if node.kind() == "integer" && bytes.len() <= self.threshold_digits() {
            return;
        }
        let text = String::from_utf8_lossy(bytes);
        if ["0x", "0o", "0b"]
            .iter()
            .any(|prefix| text.starts_with(prefix))
            || !self.large(node, &text)
        {
            return;
        }
        let line = anchor::node_line(source_bytes, node);
        let source = source_fragment(line, node.start_position().column);
        if source.is_empty() || ["0x", "0o", "0b"].iter().any(|p| source.starts_with(p)) {
            return;
        }
        let expected = self.expected(node, &text, &source);
        if expected.contains(&source) {
            return;
        }
        let (interpolated, in_type) = enclosing(node, out);
        if interpolated || in_type != from_type {
            return;
        }
        let (line_no, column) = Positions::new(source_bytes).start(node);
        let end = column + u32::try_from(source.chars().count()).unwrap_or(0);
        let message = format!(
            "Numbers larger than {} should be written with underscores: {}",
            self.only_greater_than,
            expected.join(" or ")
        );
        out.at(
            (line_no, column, line_no, end),
            site.module.map(str::to_string),
            site.function
                .map(|(name, arity, _)| format!("{name}/{arity}")),
            source,
            message,
        );
    }
}

impl Rule for LargeNumberUnderscores {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn interests(&self) -> Interests {
        Interests {
            // `@` attributes for the type attributes the walk does not enter.
            node_kinds: &["integer", "float", "unary_operator"],
            ..Interests::default()
        }
    }

    fn check_node(&self, node: Node<'_>, site: &Site<'_>, out: &mut Reporter<'_>) {
        if node.kind() != "unary_operator" {
            self.check_number(node, false, site, out);
        } else if type_attribute(node, out.source()) {
            let mut numbers = Vec::new();
            syntax::walk_preorder(node, |inner| {
                if matches!(inner.kind(), "integer" | "float") {
                    numbers.push(inner);
                }
                true
            });
            for number in numbers {
                self.check_number(number, true, site, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::complexity::harness::findings;

    fn run(rule: LargeNumberUnderscores, source: &str) -> Vec<(u32, u32, u32, String)> {
        findings(Box::new(rule), "lib/x.ex", source)
    }

    fn message(expected: &str) -> String {
        format!("Numbers larger than 9999 should be written with underscores: {expected}")
    }

    /// The confirmed examples of CREDO_CHECKS.md §19.
    #[test]
    fn confirmed_examples() {
        let source = "\
x = 10000
x = 1_0000
x = 123456.789
x = 1..100000
x = 0x10000
x = 10_000
x = \"#{10000}\"
";
        assert_eq!(
            run(LargeNumberUnderscores::new(), source),
            vec![
                (1, 5, 10, message("10_000")),
                (2, 5, 11, message("10_000")),
                (3, 5, 15, message("123_456.789")),
                (4, 8, 14, message("100_000")),
            ]
        );
        assert_eq!(
            run(
                LargeNumberUnderscores::with_params(99_999, vec![2]),
                "x = 100000\n"
            ),
            vec![(
                1,
                5,
                11,
                "Numbers larger than 99999 should be written with underscores: 100_000 or \
                 1_000_00"
                    .to_string()
            )]
        );
    }

    #[test]
    fn floats_keep_their_fraction_and_drop_the_exponent() {
        let source = "\
x = 100_00.5
x = 1.0e10
x = 12345.0e3
x = 010000
x = -12345
x = 9999
x = 9999.5
";
        assert_eq!(
            run(LargeNumberUnderscores::new(), source),
            vec![
                (3, 5, 12, message("12_345.0")),
                (4, 5, 11, message("10_000")),
                (5, 6, 11, message("12_345")),
                (7, 5, 11, message("9_999.5")),
            ]
        );
    }

    #[test]
    fn a_number_at_the_start_of_a_line_is_read_whole() {
        assert!(run(LargeNumberUnderscores::new(), "10_000\n").is_empty());
        assert_eq!(
            run(LargeNumberUnderscores::new(), "10000\n"),
            vec![(1, 1, 6, message("10_000"))]
        );
    }
}
