//! The query language's parser: text → [`Query`] (the grammar is in `docs/query.md`).
//!
//! Hand-written, because what users see of it is its errors: each one names what was expected,
//! after what, and what was found instead, and carries the span of the offending token (or the
//! end of the query) so that `query:LINE:COLUMN:` points at it. Two stages:
//!
//! - a lexer that never fails: what it cannot read (an unterminated string, `10abc`, `#`)
//!   becomes an error token, reported only when the parser reaches it, so the first problem in
//!   reading order is the one reported;
//! - a recursive-descent parser, one function per rule of the grammar.
//!
//! Spans count characters, not bytes, like [`QueryError::render`].

use super::ast::{
    closest, Expr, FunctionTarget, Op, OrderItem, Query, QueryError, Source, Span, Spanned, Value,
    ENTITIES,
};

/// Parses a whole query, or explains the first thing in it that does not parse.
pub(crate) fn parse(text: &str) -> Result<Query, QueryError> {
    let mut parser = Parser::new(text);
    let source = parser.source()?;
    let mut query = Query {
        source,
        filter: None,
        select: None,
        order: Vec::new(),
        limit: None,
        count: false,
    };
    loop {
        let token = parser.peek();
        let clause = match &token.kind {
            Kind::End => return Ok(query),
            Kind::Word(word) => word.to_ascii_lowercase(),
            _ => return Err(parser.unexpected_after_query(&query)),
        };
        let keyword_span = token.span;
        match clause.as_str() {
            "where" => {
                if query.filter.is_some() {
                    return Err(given_twice(keyword_span, "where")
                        .with_hint("combine the conditions with 'and' or 'or'"));
                }
                parser.advance();
                query.filter = Some(parser.expr("where")?);
                parser.continuations = &["and", "or"];
            }
            "select" => {
                if query.select.is_some() {
                    return Err(given_twice(keyword_span, "select")
                        .with_hint("list all the fields in one 'select', separated by commas"));
                }
                parser.advance();
                query.select = Some(parser.select()?);
                parser.continuations = &[","];
            }
            "order" => {
                if !query.order.is_empty() {
                    return Err(given_twice(keyword_span, "order by")
                        .with_hint("list all the keys in one 'order by', separated by commas"));
                }
                parser.advance();
                query.order = parser.order()?;
            }
            "limit" => {
                if query.limit.is_some() {
                    return Err(given_twice(keyword_span, "limit"));
                }
                parser.advance();
                query.limit = Some(parser.limit()?);
                parser.continuations = &[];
            }
            "count" => {
                if query.count {
                    return Err(given_twice(keyword_span, "count"));
                }
                parser.advance();
                query.count = true;
                parser.continuations = &[];
            }
            _ => return Err(parser.unexpected_after_query(&query)),
        }
    }
}

/// Words that end an expression (the clause keywords) or build one (`and`, `or`, `not`, `in`):
/// never a field, and never a bare value, so that `where a = count` is an error rather than a
/// comparison with the word "count".
const RESERVED: &[&str] = &[
    "where", "select", "order", "limit", "count", "and", "or", "not", "in",
];

/// The words that start a source other than an entity, for the hints and the did-you-mean.
const SOURCE_KEYWORDS: &[&str] = &[
    "callers",
    "callees",
    "dependents",
    "dependencies",
    "path",
    "cycles",
    "pattern",
];

/// The labels of a dependency, which `cycles label` filters on.
const LABELS: &[&str] = &["compile", "export", "runtime"];

/// Conditions nested deeper than this (parentheses, `not`) are refused: the parser recurses
/// on them, and a query of a hundred thousand `(` must be an error, not a stack overflow.
const MAX_NESTING: usize = 100;

/// Conditions joined by `and`/`or` build a left-leaning tree as deep as they are many; its
/// users (the executor, `Drop`) recurse over it, so their number is bounded too.
const MAX_CONDITIONS: usize = 1000;

/// What may start a query, for the hints of an empty or unreadable one.
fn sources_hint() -> String {
    format!(
        "entities: {}; or a source: callers of, callees of, dependents of, dependencies of, \
         path from, cycles, pattern",
        ENTITIES.join(", ")
    )
}

fn given_twice(span: Span, clause: &str) -> QueryError {
    QueryError::new(span, format!("'{clause}' given twice"))
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// A word as written (case kept): a keyword, an entity, a field, a bare value, a module or
    /// function segment. It may end in `?` or `!`, as function names do (`get_user!`).
    Word(String),
    /// `:ets`, colon included: the index spells Erlang modules so.
    Atom(String),
    /// A quoted string, its escapes resolved.
    Str(String),
    Int(i64),
    Float(f64),
    Op(Op),
    /// A run of operator characters that is no operator (`==`, `=>`, `!`): kept whole so that
    /// the error names it and suggests the right one.
    BadOp(String),
    /// One of `( ) [ ] , . /`.
    Punct(char),
    /// What the lexer could not read; the parser reports it when it reaches it.
    Error(QueryError),
    End,
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: Kind,
    span: Span,
    /// The token as written, for the messages.
    text: String,
}

/// The characters operators are made of: a run of them is read whole (`===` is one bad
/// operator, not `=` followed by `==`).
const OP_CHARS: &[char] = &['=', '!', '<', '>', '~'];

const PUNCTUATION: &[char] = &['(', ')', '[', ']', ',', '.', '/'];

/// The tokens of `text`, always ending with [`Kind::End`] at its length in characters.
fn lex(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let next = chars.get(i + 1).copied();
        let kind = if is_word_start(c) {
            i = word_end(&chars, i);
            Kind::Word(chars[start..i].iter().collect())
        } else if c == ':' && next.is_some_and(is_word_start) {
            i = word_end(&chars, i + 1);
            Kind::Atom(chars[start..i].iter().collect())
        } else if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) {
            let (kind, end) = number(&chars, start);
            i = end;
            kind
        } else if c == '"' || c == '\'' {
            let (kind, end) = string(&chars, start);
            i = end;
            kind
        } else if OP_CHARS.contains(&c) {
            while chars.get(i).is_some_and(|c| OP_CHARS.contains(c)) {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            match operator(&run) {
                Some(op) => Kind::Op(op),
                None => Kind::BadOp(run),
            }
        } else if PUNCTUATION.contains(&c) {
            i += 1;
            Kind::Punct(c)
        } else {
            i += 1;
            Kind::Error(unexpected_character(c, Span { start, end: i }))
        };
        tokens.push(Token {
            kind,
            span: Span { start, end: i },
            text: chars[start..i].iter().collect(),
        });
    }
    let end = chars.len();
    tokens.push(Token {
        kind: Kind::End,
        span: Span { start: end, end },
        text: String::new(),
    });
    tokens
}

/// Letters of any script start a word, so that `fünctions` is read whole and reported as an
/// unknown name rather than as `f` followed by a stray `ü`.
fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

/// The end of the word starting at `start`: letters, digits, underscores, then one `?` or `!`
/// (but not the `!` of `!=`: `a!=1` is `a != 1`).
fn word_end(chars: &[char], start: usize) -> usize {
    let mut i = start;
    while chars
        .get(i)
        .is_some_and(|&c| c.is_alphanumeric() || c == '_')
    {
        i += 1;
    }
    match chars.get(i) {
        Some('?') => i + 1,
        Some('!') if chars.get(i + 1) != Some(&'=') => i + 1,
        _ => i,
    }
}

/// `-?[0-9]+(\.[0-9]+)?`. Letters or further dots glued to it (`10abc`, `1.2.3`) make the
/// whole run one invalid number, which reads better than a number followed by a stray word.
fn number(chars: &[char], start: usize) -> (Kind, usize) {
    let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    let mut i = start;
    if chars.get(i) == Some(&'-') {
        i += 1;
    }
    while digit(i) {
        i += 1;
    }
    let float = chars.get(i) == Some(&'.') && digit(i + 1);
    if float {
        i += 1;
        while digit(i) {
            i += 1;
        }
    }
    let number_end = i;
    let glued = |i: usize| {
        chars.get(i).is_some_and(|&c| {
            c.is_alphanumeric()
                || c == '_'
                || (c == '.' && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric()))
        })
    };
    while glued(i) {
        i += 1;
    }
    let text: String = chars[start..i].iter().collect();
    let span = Span { start, end: i };
    let kind = if i != number_end {
        Kind::Error(QueryError::new(span, format!("invalid number '{text}'")))
    } else if float {
        match text.parse::<f64>() {
            Ok(value) => Kind::Float(value),
            Err(_) => Kind::Error(QueryError::new(span, format!("invalid number '{text}'"))),
        }
    } else {
        match text.parse::<i64>() {
            Ok(value) => Kind::Int(value),
            Err(_) => Kind::Error(QueryError::new(
                span,
                format!("number '{text}' is too large"),
            )),
        }
    };
    (kind, i)
}

/// A string opened by the quote at `start`. `\"`, `\'` and `\\` are escapes; any other
/// backslash is kept as written, because the strings are mostly regular expressions
/// (`"Repo\.get"`) and code patterns (`'f("a\n")'`), which must arrive as typed.
fn string(chars: &[char], start: usize) -> (Kind, usize) {
    let quote = chars[start];
    let mut value = String::new();
    let mut i = start + 1;
    while let Some(&c) = chars.get(i) {
        if c == quote {
            return (Kind::Str(value), i + 1);
        }
        match (c, chars.get(i + 1)) {
            ('\\', Some(&escaped)) if matches!(escaped, '"' | '\'' | '\\') => {
                value.push(escaped);
                i += 2;
            }
            _ => {
                value.push(c);
                i += 1;
            }
        }
    }
    let span = Span {
        start,
        end: chars.len(),
    };
    let error = QueryError::new(span, "unterminated string")
        .with_hint(format!("close the string with {quote}"));
    (Kind::Error(error), chars.len())
}

fn operator(text: &str) -> Option<Op> {
    Some(match text {
        "=" => Op::Eq,
        "!=" => Op::Ne,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "~" => Op::Match,
        _ => return None,
    })
}

fn unexpected_character(c: char, span: Span) -> QueryError {
    let error = QueryError::new(span, format!("unexpected character '{c}'"));
    match c {
        '&' => error.with_hint("join conditions with 'and'"),
        '|' => error.with_hint("join conditions with 'or'"),
        '-' => error.with_hint("a negative number is written with its digits right after '-'"),
        ':' => error.with_hint("an Erlang module is written like :ets"),
        _ => error,
    }
}

// ---------------------------------------------------------------------------------------------
// Parser

struct Parser<'t> {
    text: &'t str,
    /// Never empty: it ends with [`Kind::End`], past which `pos` never moves.
    tokens: Vec<Token>,
    pos: usize,
    /// What could have continued the construct just parsed (`and`/`or` after a condition,
    /// `depth` after `callers of M.f`): listed, with the clauses not yet given, when the query
    /// goes on with something else.
    continuations: &'static [&'static str],
    /// How many `(`/`not` enclose the condition being parsed.
    nesting: usize,
    /// How many conditions the query holds so far.
    conditions: usize,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Parser<'t> {
        Parser {
            text,
            tokens: lex(text),
            pos: 0,
            continuations: &[],
            nesting: 0,
            conditions: 0,
        }
    }

    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    /// The token `ahead` places on, or the end.
    fn peek_at(&self, ahead: usize) -> &Token {
        let last = self.tokens.len() - 1;
        &self.tokens[(self.pos + ahead).min(last)]
    }

    /// Consumes the current token (never the end) and returns it.
    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != Kind::End {
            self.pos += 1;
        }
        token
    }

    /// Where the previous token ended: what "adjacent" means for `MyApp.Repo` and `:ets.new`.
    fn previous_end(&self) -> usize {
        match self.pos.checked_sub(1).and_then(|p| self.tokens.get(p)) {
            Some(token) => token.span.end,
            None => 0,
        }
    }

    /// The previous token as written.
    fn previous_text(&self) -> String {
        match self.pos.checked_sub(1).and_then(|p| self.tokens.get(p)) {
            Some(token) => token.text.clone(),
            None => String::new(),
        }
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        is_keyword(self.peek(), keyword)
    }

    fn at_punct(&self, c: char) -> bool {
        self.peek().kind == Kind::Punct(c)
    }

    /// The current token, adjacent to the previous one.
    fn adjacent(&self) -> bool {
        self.peek().span.start == self.previous_end()
    }

    fn expect_keyword(
        &mut self,
        keyword: &str,
        after: &str,
        hint: &str,
    ) -> Result<Span, QueryError> {
        if self.at_keyword(keyword) {
            return Ok(self.advance().span);
        }
        Err(self
            .expected(&format!("'{keyword}'"), after)
            .with_hint(hint))
    }

    /// `expected WHAT after 'AFTER', found TOKEN` at the current token; or, when the current
    /// token is one the lexer could not read, the lexer's own error, which says more.
    fn expected(&self, what: &str, after: &str) -> QueryError {
        let token = self.peek();
        if let Kind::Error(error) = &token.kind {
            return error.clone();
        }
        QueryError::new(
            token.span,
            format!("expected {what} after '{after}', found {}", describe(token)),
        )
    }

    /// The query is complete but goes on: says what could have come instead.
    fn unexpected_after_query(&self, query: &Query) -> QueryError {
        let token = self.peek();
        if let Kind::Error(error) = &token.kind {
            return error.clone();
        }
        let error = QueryError::new(
            token.span,
            format!("unexpected {} after the query", describe(token)),
        );
        if is_keyword(token, "depth")
            && matches!(
                query.source,
                Source::Callers { .. } | Source::Callees { .. }
            )
        {
            return error
                .with_hint("'depth' goes right after the function: callers of M.f/1 depth 2");
        }
        let mut expected: Vec<&str> = self.continuations.to_vec();
        let clauses = [
            ("where", query.filter.is_none()),
            ("select", query.select.is_none()),
            ("order by", query.order.is_empty()),
            ("limit", query.limit.is_none()),
            ("count", !query.count),
        ];
        expected.extend(clauses.iter().filter(|(_, open)| *open).map(|(c, _)| *c));
        if expected.is_empty() {
            return error.with_hint("the query is complete here");
        }
        let mut hint = String::new();
        if let Kind::Word(word) = &token.kind {
            let word = word.to_ascii_lowercase();
            // Short words are too close to everything for a suggestion to mean anything.
            let candidates = expected.iter().map(|e| e.split(' ').next().unwrap_or(e));
            if word.chars().count() >= 3 {
                if let Some(suggestion) = closest(&word, candidates) {
                    hint = format!("did you mean '{suggestion}'? ");
                }
            }
        }
        hint.push_str("expected one of: ");
        hint.push_str(&expected.join(", "));
        error.with_hint(hint)
    }

    // --- sources ---

    fn source(&mut self) -> Result<Source, QueryError> {
        let token = self.peek().clone();
        let word = match &token.kind {
            Kind::Word(word) => word,
            Kind::End => {
                return Err(QueryError::new(token.span, "empty query").with_hint(sources_hint()))
            }
            Kind::Error(error) => return Err(error.clone()),
            _ => {
                return Err(QueryError::new(
                    token.span,
                    format!(
                        "expected an entity or a source at the start of the query, found {}",
                        describe(&token)
                    ),
                )
                .with_hint(sources_hint()))
            }
        };
        let followed_by_of = is_keyword(self.peek_at(1), "of");
        match word.to_ascii_lowercase().as_str() {
            "callers" | "callees" => {
                let callers = word.eq_ignore_ascii_case("callers");
                let keyword = if callers { "callers" } else { "callees" };
                self.advance();
                self.expect_keyword(
                    "of",
                    keyword,
                    &format!("write {keyword} of Module.function/arity"),
                )?;
                let target = self.target()?;
                let depth = if self.at_keyword("depth") {
                    self.advance();
                    Some(self.depth()?)
                } else {
                    self.continuations = &["depth"];
                    None
                };
                Ok(if callers {
                    Source::Callers { target, depth }
                } else {
                    Source::Callees { target, depth }
                })
            }
            "dependents" => {
                self.advance();
                self.expect_keyword("of", "dependents", "write dependents of Module")?;
                Ok(Source::Dependents(self.module("of")?))
            }
            "dependencies" if followed_by_of => {
                self.advance();
                self.advance();
                Ok(Source::DependenciesOf(self.module("of")?))
            }
            "path" => {
                self.advance();
                let hint = "write path from Module to Module";
                self.expect_keyword("from", "path", hint)?;
                let from = self.module("from")?;
                if !self.at_keyword("to") {
                    return Err(self.expected("'to'", &from.value).with_hint(hint));
                }
                self.advance();
                let to = self.module("to")?;
                Ok(Source::Path { from, to })
            }
            "cycles" => {
                self.advance();
                let label = if self.at_keyword("label") {
                    self.advance();
                    Some(self.label()?)
                } else {
                    self.continuations = &["label"];
                    None
                };
                Ok(Source::Cycles { label })
            }
            "pattern" => {
                self.advance();
                self.pattern()
            }
            _ => self.entity(),
        }
    }

    /// An entity name: lowercase, one of [`ENTITIES`].
    fn entity(&mut self) -> Result<Source, QueryError> {
        let token = self.advance();
        if let Kind::Word(word) = &token.kind {
            if ENTITIES.contains(&word.as_str()) {
                return Ok(Source::Entity(Spanned {
                    value: word.clone(),
                    span: token.span,
                }));
            }
        }
        let lower = token.text.to_lowercase();
        let candidates = ENTITIES.iter().chain(SOURCE_KEYWORDS).copied();
        let mut hint = match closest(&lower, candidates) {
            Some(suggestion) if ENTITIES.contains(&lower.as_str()) => {
                format!("entity names are lowercase: did you mean '{suggestion}'? ")
            }
            Some(suggestion) => format!("did you mean '{suggestion}'? "),
            None => String::new(),
        };
        hint.push_str(&sources_hint());
        Err(QueryError::new(token.span, format!("unknown entity '{}'", token.text)).with_hint(hint))
    }

    /// `Module.name[/arity]`: a module (an alias path or an Erlang atom), a dot, then a name
    /// starting in lowercase; all adjacent, so that the target reads as one word.
    fn target(&mut self) -> Result<Spanned<FunctionTarget>, QueryError> {
        let hint = "a function is written Module.name or Module.name/arity, \
                    like MyApp.Accounts.get_user/1 or :ets.lookup/2";
        let start = self.peek().span.start;
        let mut module = match &self.peek().kind {
            Kind::Atom(atom) => atom.clone(),
            Kind::Word(word) if starts_uppercase(word) => word.clone(),
            _ => return Err(self.expected("a function", "of").with_hint(hint)),
        };
        let erlang = module.starts_with(':');
        self.advance();
        let name = loop {
            if !(self.at_punct('.') && self.adjacent()) {
                return Err(self
                    .expected("'.' and a function name", &module)
                    .with_hint(hint));
            }
            self.advance();
            let segment = match &self.peek().kind {
                Kind::Word(word) if self.adjacent() => word.clone(),
                _ => return Err(self.expected("a function name", ".").with_hint(hint)),
            };
            if !erlang && starts_uppercase(&segment) {
                module.push('.');
                module.push_str(&segment);
                self.advance();
                continue;
            }
            if !is_function_name(&segment) {
                return Err(self.expected("a function name", ".").with_hint(hint));
            }
            self.advance();
            break segment;
        };
        let arity = if self.at_punct('/') {
            self.advance();
            match self.peek().kind {
                Kind::Int(n) => match u32::try_from(n) {
                    Ok(arity) => {
                        self.advance();
                        Some(arity)
                    }
                    Err(_) => {
                        return Err(QueryError::new(
                            self.peek().span,
                            format!("invalid arity '{}'", self.peek().text),
                        ))
                    }
                },
                _ => return Err(self.expected("an arity", "/").with_hint(hint)),
            }
        } else {
            None
        };
        Ok(Spanned {
            value: FunctionTarget {
                module,
                name,
                arity,
            },
            span: Span {
                start,
                end: self.previous_end(),
            },
        })
    }

    /// A module: an alias path of capitalised, adjacent segments (`MyApp.Repo`) or an Erlang
    /// atom (`:ets`).
    fn module(&mut self, after: &str) -> Result<Spanned<String>, QueryError> {
        let hint = "a module is written like MyApp.Repo, or :ets for an Erlang module";
        let token = self.peek().clone();
        let mut module = match &token.kind {
            Kind::Atom(atom) => {
                self.advance();
                return Ok(Spanned {
                    value: atom.clone(),
                    span: token.span,
                });
            }
            Kind::Word(word) if starts_uppercase(word) && is_alias_segment(word) => word.clone(),
            _ => return Err(self.expected("a module", after).with_hint(hint)),
        };
        self.advance();
        while self.at_punct('.') && self.adjacent() {
            self.advance();
            match &self.peek().kind {
                Kind::Word(word) if self.adjacent() && is_alias_segment(word) => {
                    module.push('.');
                    module.push_str(word);
                    self.advance();
                }
                Kind::Word(word) if self.adjacent() && !starts_uppercase(word) => {
                    return Err(QueryError::new(
                        self.peek().span,
                        format!("expected a module, found '{module}.{word}'"),
                    )
                    .with_hint("module names are capitalised; this looks like a function"))
                }
                _ => {
                    return Err(self
                        .expected("a capitalised module name", ".")
                        .with_hint(hint))
                }
            }
        }
        Ok(Spanned {
            value: module,
            span: Span {
                start: token.span.start,
                end: self.previous_end(),
            },
        })
    }

    /// After `depth`: a positive integer.
    fn depth(&mut self) -> Result<Spanned<u32>, QueryError> {
        let token = self.peek().clone();
        let Kind::Int(n) = token.kind else {
            return Err(self.expected("an integer", "depth"));
        };
        if n < 1 {
            return Err(QueryError::new(token.span, "the depth must be at least 1"));
        }
        let Ok(depth) = u32::try_from(n) else {
            return Err(QueryError::new(
                token.span,
                format!("the depth {n} is too large"),
            ));
        };
        self.advance();
        Ok(Spanned {
            value: depth,
            span: token.span,
        })
    }

    /// After `cycles label`: one of [`LABELS`].
    fn label(&mut self) -> Result<Spanned<String>, QueryError> {
        let hint = format!("labels: {}", LABELS.join(", "));
        let token = self.peek().clone();
        let Kind::Word(word) = &token.kind else {
            return Err(self.expected("a label", "label").with_hint(hint));
        };
        if LABELS.contains(&word.as_str()) {
            self.advance();
            return Ok(Spanned {
                value: word.clone(),
                span: token.span,
            });
        }
        let hint = match closest(&word.to_lowercase(), LABELS.iter().copied()) {
            Some(suggestion) => format!("did you mean '{suggestion}'? {hint}"),
            None => hint,
        };
        Err(QueryError::new(token.span, format!("unknown label '{word}'")).with_hint(hint))
    }

    /// After `pattern`: the quoted code, then `inside functions [where EXPR]`.
    fn pattern(&mut self) -> Result<Source, QueryError> {
        let token = self.peek().clone();
        let Kind::Str(code) = &token.kind else {
            return Err(self
                .expected("a quoted pattern", "pattern")
                .with_hint("quote the code to find, like pattern 'Repo.get!($S, $ID)'"));
        };
        if code.trim().is_empty() {
            return Err(QueryError::new(token.span, "the pattern is empty"));
        }
        self.advance();
        let pattern = Spanned {
            value: code.clone(),
            span: token.span,
        };
        if !self.at_keyword("inside") {
            self.continuations = &["inside functions"];
            return Ok(Source::Pattern {
                pattern,
                inside: None,
            });
        }
        self.advance();
        self.expect_keyword(
            "functions",
            "inside",
            "patterns are searched inside functions: inside functions where ...",
        )?;
        let inside = if self.at_keyword("where") {
            self.advance();
            Some(self.expr("where")?)
        } else {
            None
        };
        Ok(Source::Pattern { pattern, inside })
    }

    // --- clauses ---

    /// After `select`: `field (, field)*`.
    fn select(&mut self) -> Result<Vec<Spanned<String>>, QueryError> {
        let mut fields = vec![self.field("select")?];
        while self.at_punct(',') {
            self.advance();
            fields.push(self.field(",")?);
        }
        Ok(fields)
    }

    /// After `order`: `by field [asc|desc] (, field [asc|desc])*`.
    fn order(&mut self) -> Result<Vec<OrderItem>, QueryError> {
        self.expect_keyword("by", "order", "write order by field [asc|desc]")?;
        let mut items = Vec::new();
        let mut after = "by";
        loop {
            let field = self.field(after)?;
            let descending = if self.at_keyword("desc") {
                self.advance();
                self.continuations = &[","];
                true
            } else if self.at_keyword("asc") {
                self.advance();
                self.continuations = &[","];
                false
            } else {
                self.continuations = &[",", "asc", "desc"];
                false
            };
            items.push(OrderItem { field, descending });
            if !self.at_punct(',') {
                return Ok(items);
            }
            self.advance();
            after = ",";
        }
    }

    /// After `limit`: a non-negative integer.
    fn limit(&mut self) -> Result<Spanned<u64>, QueryError> {
        let token = self.peek().clone();
        let Kind::Int(n) = token.kind else {
            return Err(self.expected("an integer", "limit"));
        };
        let Ok(limit) = u64::try_from(n) else {
            return Err(QueryError::new(token.span, "the limit cannot be negative"));
        };
        self.advance();
        Ok(Spanned {
            value: limit,
            span: token.span,
        })
    }

    // --- expressions ---

    /// `and_expr ('or' and_expr)*`; `after` is the word before it, for the messages.
    fn expr(&mut self, after: &str) -> Result<Expr, QueryError> {
        let mut left = self.and_expr(after)?;
        while self.at_keyword("or") {
            self.advance();
            let right = self.and_expr("or")?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self, after: &str) -> Result<Expr, QueryError> {
        let mut left = self.not_expr(after)?;
        while self.at_keyword("and") {
            self.advance();
            let right = self.not_expr("and")?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_expr(&mut self, after: &str) -> Result<Expr, QueryError> {
        if !self.at_keyword("not") {
            return self.primary(after);
        }
        self.enter()?;
        self.advance();
        let inner = self.not_expr("not");
        self.nesting -= 1;
        Ok(Expr::Not(Box::new(inner?)))
    }

    /// One more level of `(` or `not`, refused past [`MAX_NESTING`].
    fn enter(&mut self) -> Result<(), QueryError> {
        if self.nesting >= MAX_NESTING {
            return Err(QueryError::new(
                self.peek().span,
                format!("the condition is nested too deeply (more than {MAX_NESTING} levels)"),
            ));
        }
        self.nesting += 1;
        Ok(())
    }

    /// `( expr )`, `field OP value`, `field in [values]`, or a bare field.
    fn primary(&mut self, after: &str) -> Result<Expr, QueryError> {
        if self.at_punct('(') {
            self.enter()?;
            let open = self.advance().span;
            let inner = self.expr("(");
            self.nesting -= 1;
            let inner = inner?;
            if !self.at_punct(')') {
                let (line, column) = line_column(self.text, open.start);
                let error = match &self.peek().kind {
                    Kind::Error(error) => error.clone(),
                    _ => QueryError::new(
                        self.peek().span,
                        format!("expected ')', found {}", describe(self.peek())),
                    )
                    .with_hint(format!("to close the '(' at {line}:{column}")),
                };
                return Err(error);
            }
            self.advance();
            return Ok(inner);
        }
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(QueryError::new(
                self.peek().span,
                format!("too many conditions (more than {MAX_CONDITIONS})"),
            ));
        }
        let field = self.field(after)?;
        let token = self.peek().clone();
        match &token.kind {
            Kind::Op(op) => {
                self.advance();
                let op = Spanned {
                    value: *op,
                    span: token.span,
                };
                let value = self.value(op.value.symbol())?;
                Ok(Expr::Compare { field, op, value })
            }
            Kind::BadOp(text) => Err(bad_operator(text, token.span)),
            Kind::Word(_) if is_keyword(&token, "in") => {
                self.advance();
                let values = self.list()?;
                Ok(Expr::In { field, values })
            }
            // A bare field followed by a value: the operator is missing.
            Kind::Str(_) | Kind::Int(_) | Kind::Float(_) => Err(QueryError::new(
                token.span,
                format!(
                    "expected an operator after '{}', found {}",
                    field.value,
                    describe(&token)
                ),
            )
            .with_hint("operators: = != < <= > >= ~, or 'in' with a list")),
            _ => Ok(Expr::Truthy(field)),
        }
    }

    /// After `in`: `[ value (, value)* ]`.
    fn list(&mut self) -> Result<Vec<Spanned<Value>>, QueryError> {
        let hint = "'in' takes a list, like kind in [def, defp]";
        if !self.at_punct('[') {
            return Err(self.expected("'['", "in").with_hint(hint));
        }
        let open = self.advance().span;
        let mut values = vec![self.value("[")?];
        loop {
            if self.at_punct(']') {
                self.advance();
                return Ok(values);
            }
            if !self.at_punct(',') {
                let (line, column) = line_column(self.text, open.start);
                let error = self.expected("',' or ']'", &shorten(&self.previous_text()));
                return Err(
                    if error.hint.is_none() && !matches!(self.peek().kind, Kind::Error(_)) {
                        error.with_hint(format!("to close the '[' at {line}:{column}"))
                    } else {
                        error
                    },
                );
            }
            self.advance();
            values.push(self.value(",")?);
        }
    }

    /// A field name: lowercase letters, digits and underscores, and no keyword.
    fn field(&mut self, after: &str) -> Result<Spanned<String>, QueryError> {
        let token = self.peek().clone();
        let Kind::Word(word) = &token.kind else {
            let error = self.expected("a field", after);
            return Err(match &token.kind {
                Kind::BadOp(op) if op == "!" => error.with_hint("negate a condition with 'not'"),
                _ => error,
            });
        };
        let lower = word.to_ascii_lowercase();
        let hint = if RESERVED.contains(&lower.as_str()) {
            Some(format!("'{lower}' is a keyword, not a field"))
        } else if !is_field_name(word) {
            Some(if is_field_name(&lower) {
                format!("field names are lowercase: '{lower}'")
            } else {
                "field names are made of lowercase letters, digits and underscores".to_string()
            })
        } else {
            None
        };
        if let Some(hint) = hint {
            return Err(self.expected("a field", after).with_hint(hint));
        }
        self.advance();
        Ok(Spanned {
            value: word.clone(),
            span: token.span,
        })
    }

    /// A literal: a string, a number, `true`/`false`, an Erlang atom, or a bare word or alias
    /// path (`genserver`, `Ecto.Changeset`), which compares as a string.
    fn value(&mut self, after: &str) -> Result<Spanned<Value>, QueryError> {
        let token = self.peek().clone();
        let value = match &token.kind {
            Kind::Str(text) => Value::Str(text.clone()),
            Kind::Int(n) => Value::Int(*n),
            Kind::Float(f) => Value::Float(*f),
            Kind::Atom(atom) => Value::Word(atom.clone()),
            Kind::Word(word) if word.eq_ignore_ascii_case("true") => Value::Bool(true),
            Kind::Word(word) if word.eq_ignore_ascii_case("false") => Value::Bool(false),
            Kind::Word(word) if RESERVED.contains(&word.to_ascii_lowercase().as_str()) => {
                return Err(self
                    .expected("a value", after)
                    .with_hint(format!("to compare with the word, quote it: \"{word}\"")))
            }
            Kind::Word(word) => return self.word_path(word.clone(), token.span),
            _ => return Err(self.expected("a value", after)),
        };
        self.advance();
        Ok(Spanned {
            value,
            span: token.span,
        })
    }

    /// A bare word and the `.segment`s glued to it: `Ecto.Changeset`, `genserver`.
    fn word_path(&mut self, first: String, start: Span) -> Result<Spanned<Value>, QueryError> {
        let mut word = first;
        self.advance();
        while self.at_punct('.') && self.adjacent() {
            self.advance();
            match &self.peek().kind {
                Kind::Word(segment) if self.adjacent() => {
                    word.push('.');
                    word.push_str(segment);
                    self.advance();
                }
                _ => return Err(self.expected("a name", ".")),
            }
        }
        Ok(Spanned {
            value: Value::Word(word),
            span: Span {
                start: start.start,
                end: self.previous_end(),
            },
        })
    }
}

fn bad_operator(text: &str, span: Span) -> QueryError {
    let suggestion = match text {
        "==" | "===" => Some("="),
        "!==" | "<>" | "=!" => Some("!="),
        "=<" => Some("<="),
        "=>" => Some(">="),
        "=~" | "~=" | "~~" => Some("~"),
        _ => None,
    };
    let operators = "operators: = != < <= > >= ~";
    let hint = match suggestion {
        Some(op) => format!("did you mean '{op}'? {operators}"),
        None => operators.to_string(),
    };
    QueryError::new(span, format!("unknown operator '{text}'")).with_hint(hint)
}

fn is_keyword(token: &Token, keyword: &str) -> bool {
    matches!(&token.kind, Kind::Word(word) if word.eq_ignore_ascii_case(keyword))
}

fn starts_uppercase(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_uppercase())
}

/// `[a-z_][a-z0-9_]*`.
fn is_field_name(word: &str) -> bool {
    let mut chars = word.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A segment of an alias: capitalised, no `?`/`!`.
fn is_alias_segment(word: &str) -> bool {
    starts_uppercase(word) && word.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// A function name as the target of `callers of`: not capitalised, `?` or `!` only at the end
/// (the lexer sees to that).
fn is_function_name(word: &str) -> bool {
    word.chars()
        .next()
        .is_some_and(|c| c == '_' || (c.is_alphabetic() && !c.is_uppercase()))
}

/// How a token reads in a message: quoted as written (strings keep their own quotes), long
/// ones cut.
fn describe(token: &Token) -> String {
    match token.kind {
        Kind::End => "end of query".to_string(),
        Kind::Str(_) => shorten(&token.text),
        _ => format!("'{}'", shorten(&token.text)),
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let cut: String = text.chars().take(MAX - 3).collect();
        format!("{cut}...")
    }
}

/// The 1-based line and column of a character offset, as [`QueryError::render`] counts them.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before: String = text.chars().take(offset).collect();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query, which must parse.
    fn ok(text: &str) -> Query {
        match parse(text) {
            Ok(query) => query,
            Err(error) => panic!("{text:?} does not parse:\n{}", error.render(text)),
        }
    }

    /// The rendered error of a query that must not parse.
    fn err(text: &str) -> String {
        match parse(text) {
            Ok(query) => panic!("{text:?} parses: {query:?}"),
            Err(error) => error.render(text),
        }
    }

    fn span(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// An expression as an s-expression, spans left out: `(and (= kind genserver) flag)`.
    /// Strings are quoted, words bare, booleans `#true`.
    fn show(expr: &Expr) -> String {
        match expr {
            Expr::And(a, b) => format!("(and {} {})", show(a), show(b)),
            Expr::Or(a, b) => format!("(or {} {})", show(a), show(b)),
            Expr::Not(e) => format!("(not {})", show(e)),
            Expr::Compare { field, op, value } => format!(
                "({} {} {})",
                op.value.symbol(),
                field.value,
                show_value(&value.value)
            ),
            Expr::In { field, values } => {
                let values: Vec<String> = values.iter().map(|v| show_value(&v.value)).collect();
                format!("(in {} [{}])", field.value, values.join(" "))
            }
            Expr::Truthy(field) => field.value.clone(),
        }
    }

    fn show_value(value: &Value) -> String {
        match value {
            Value::Str(s) => format!("{s:?}"),
            Value::Int(n) => n.to_string(),
            Value::Float(f) => format!("{f:?}"),
            Value::Bool(b) => format!("#{b}"),
            Value::Word(w) => w.clone(),
        }
    }

    fn filter(query: &Query) -> String {
        show(query.filter.as_ref().expect("a where clause"))
    }

    fn entity(query: &Query) -> &str {
        match &query.source {
            Source::Entity(name) => &name.value,
            other => panic!("not an entity: {other:?}"),
        }
    }

    fn names(fields: &[Spanned<String>]) -> Vec<&str> {
        fields.iter().map(|f| f.value.as_str()).collect()
    }

    // --- valid queries ---

    #[test]
    fn compares_a_field_with_a_string() {
        let query = ok(r#"functions where module = "Ecto.Changeset""#);
        assert_eq!(
            query.source,
            Source::Entity(Spanned {
                value: "functions".to_string(),
                span: span(0, 9)
            })
        );
        let Some(Expr::Compare { field, op, value }) = &query.filter else {
            panic!("{:?}", query.filter);
        };
        assert_eq!(field.span, span(16, 22));
        assert_eq!(op.value, Op::Eq);
        assert_eq!(op.span, span(23, 24));
        assert_eq!(value.value, Value::Str("Ecto.Changeset".to_string()));
        assert_eq!(value.span, span(25, 41));
        assert_eq!(query.select, None);
        assert!(query.order.is_empty());
        assert_eq!(query.limit, None);
        assert!(!query.count);
    }

    #[test]
    fn filters_orders_and_limits() {
        let query = ok("functions where complexity > 5 order by complexity desc limit 10");
        assert_eq!(filter(&query), "(> complexity 5)");
        assert_eq!(query.order.len(), 1);
        assert_eq!(query.order[0].field.value, "complexity");
        assert!(query.order[0].descending);
        assert_eq!(
            query.limit,
            Some(Spanned {
                value: 10,
                span: span(62, 64)
            })
        );
    }

    #[test]
    fn bare_words_and_not() {
        let query = ok("modules where kind = genserver and not has_moduledoc");
        assert_eq!(entity(&query), "modules");
        assert_eq!(
            filter(&query),
            "(and (= kind genserver) (not has_moduledoc))"
        );
        let Some(Expr::And(left, _)) = &query.filter else {
            panic!()
        };
        let Expr::Compare { value, .. } = left.as_ref() else {
            panic!()
        };
        assert_eq!(value.value, Value::Word("genserver".to_string()));
    }

    #[test]
    fn regular_expression_matches() {
        let query = ok(r#"calls where callee ~ "Repo" and module ~ "Controller$""#);
        assert_eq!(entity(&query), "calls");
        assert_eq!(
            filter(&query),
            r#"(and (~ callee "Repo") (~ module "Controller$"))"#
        );
    }

    #[test]
    fn findings_by_rule_and_role() {
        let query = ok(r#"findings where rule = "unsafe-to-atom" and role = lib"#);
        assert_eq!(entity(&query), "findings");
        assert_eq!(
            filter(&query),
            r#"(and (= rule "unsafe-to-atom") (= role lib))"#
        );
    }

    #[test]
    fn dependencies_without_of_is_the_entity() {
        let query = ok("dependencies where label = compile");
        assert_eq!(entity(&query), "dependencies");
        assert_eq!(filter(&query), "(= label compile)");
    }

    #[test]
    fn source_words_are_fields_after_the_source() {
        let query = ok("functions where callers = 0 and kind = def");
        assert_eq!(filter(&query), "(and (= callers 0) (= kind def))");
    }

    #[test]
    fn select_in_and_count() {
        let query = ok("functions select name, arity where arity in [1, 2] count");
        let select = query.select.as_ref().expect("select");
        assert_eq!(names(select), ["name", "arity"]);
        assert_eq!(select[1].span, span(23, 28));
        assert_eq!(filter(&query), "(in arity [1 2])");
        assert!(query.count);
        let Some(Expr::In { values, .. }) = &query.filter else {
            panic!()
        };
        assert_eq!(values[1].span, span(48, 49));
    }

    #[test]
    fn callers_of_a_function_with_arity_and_depth() {
        let text = "callers of MyApp.Accounts.get_user!/1 depth 2";
        let Source::Callers { target, depth } = ok(text).source else {
            panic!("not callers")
        };
        assert_eq!(
            target.value,
            FunctionTarget {
                module: "MyApp.Accounts".to_string(),
                name: "get_user!".to_string(),
                arity: Some(1)
            }
        );
        assert_eq!(target.span, span(11, 37));
        assert_eq!(
            depth,
            Some(Spanned {
                value: 2,
                span: span(44, 45)
            })
        );
    }

    #[test]
    fn callees_of_every_arity() {
        let Source::Callees { target, depth } = ok("callees of Enum.map").source else {
            panic!("not callees")
        };
        assert_eq!(target.value.module, "Enum");
        assert_eq!(target.value.name, "map");
        assert_eq!(target.value.arity, None);
        assert_eq!(depth, None);
    }

    #[test]
    fn targets_in_erlang_modules_and_predicates() {
        let Source::Callers { target, .. } = ok("callers of :ets.lookup/2").source else {
            panic!()
        };
        assert_eq!(
            (target.value.module.as_str(), target.value.name.as_str()),
            (":ets", "lookup")
        );
        assert_eq!(target.value.arity, Some(2));
        let Source::Callees { target, .. } = ok("CALLEES OF MyApp.valid?/0 limit 3").source else {
            panic!()
        };
        assert_eq!(target.value.name, "valid?");
    }

    #[test]
    fn dependents_and_dependencies_of_a_module() {
        assert_eq!(
            ok("dependents of MyApp.Repo").source,
            Source::Dependents(Spanned {
                value: "MyApp.Repo".to_string(),
                span: span(14, 24)
            })
        );
        assert_eq!(
            ok("dependencies of MyApp.Repo").source,
            Source::DependenciesOf(Spanned {
                value: "MyApp.Repo".to_string(),
                span: span(16, 26)
            })
        );
        let Source::Dependents(module) = ok("dependents of :crypto").source else {
            panic!()
        };
        assert_eq!(module.value, ":crypto");
    }

    #[test]
    fn path_between_modules() {
        let Source::Path { from, to } = ok("path from A.B to C").source else {
            panic!()
        };
        assert_eq!((from.value.as_str(), from.span), ("A.B", span(10, 13)));
        assert_eq!((to.value.as_str(), to.span), ("C", span(17, 18)));
    }

    #[test]
    fn cycles_with_and_without_label() {
        let Source::Cycles { label } = ok("cycles label compile").source else {
            panic!()
        };
        assert_eq!(
            label,
            Some(Spanned {
                value: "compile".to_string(),
                span: span(13, 20)
            })
        );
        assert_eq!(ok("cycles count").source, Source::Cycles { label: None });
        assert!(ok("cycles count").count);
    }

    #[test]
    fn pattern_inside_functions() {
        let query = ok(r#"pattern 'Repo.get!($S, $ID)' inside functions where name ~ "show""#);
        let Source::Pattern { pattern, inside } = &query.source else {
            panic!()
        };
        assert_eq!(pattern.value, "Repo.get!($S, $ID)");
        assert_eq!(pattern.span, span(8, 28));
        assert_eq!(
            inside.as_ref().map(show).as_deref(),
            Some(r#"(~ name "show")"#)
        );
        // The `where` of `inside functions` belongs to the source, not the query.
        assert_eq!(query.filter, None);
    }

    #[test]
    fn pattern_alone_and_with_its_own_clauses() {
        let query = ok(r#"pattern "IO.inspect(_)" limit 5"#);
        assert_eq!(
            query.source,
            Source::Pattern {
                pattern: Spanned {
                    value: "IO.inspect(_)".to_string(),
                    span: span(8, 23)
                },
                inside: None
            }
        );
        assert_eq!(query.limit.as_ref().map(|l| l.value), Some(5));
        let query = ok("pattern 'x' inside functions where a limit 2 where b");
        let Source::Pattern { inside, .. } = &query.source else {
            panic!()
        };
        assert_eq!(inside.as_ref().map(show).as_deref(), Some("a"));
        assert_eq!(filter(&query), "b");
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tighter_than_and() {
        assert_eq!(
            filter(&ok("functions where a or b and not c")),
            "(or a (and b (not c)))"
        );
        assert_eq!(
            filter(&ok("functions where not a and b or c and d")),
            "(or (and (not a) b) (and c d))"
        );
        assert_eq!(
            filter(&ok("functions where a or b or c")),
            "(or (or a b) c)"
        );
    }

    #[test]
    fn parentheses_group() {
        assert_eq!(
            filter(&ok("functions where (a or b) and not (c = 1 or d)")),
            "(and (or a b) (not (or (= c 1) d)))"
        );
        assert_eq!(filter(&ok("functions where ((a))")), "a");
    }

    #[test]
    fn negative_and_float_numbers() {
        let query = ok("functions where x > -3 and y <= 2.5 and z != -0.25 and w in [-1, 1.0]");
        assert_eq!(
            filter(&query),
            "(and (and (and (> x -3) (<= y 2.5)) (!= z -0.25)) (in w [-1 1.0]))"
        );
        let query = ok("functions where x>=-3");
        assert_eq!(filter(&query), "(>= x -3)");
    }

    #[test]
    fn string_escapes() {
        let query =
            ok(r#"functions where a = "say \"hi\" \\ o/" and b = 'it\'s' and c ~ "\d+\.ex""#);
        assert_eq!(
            filter(&query),
            r#"(and (and (= a "say \"hi\" \\ o/") (= b "it's")) (~ c "\\d+\\.ex"))"#
        );
        // The other quote needs no escape.
        assert_eq!(filter(&ok(r#"files where a = "it's""#)), r#"(= a "it's")"#);
    }

    #[test]
    fn values_of_every_kind() {
        let query = ok(
            "modules where a = true and b = FALSE and c = Ecto.Changeset and d = :ets and e = 7",
        );
        assert_eq!(
            filter(&query),
            "(and (and (and (and (= a #true) (= b #false)) (= c Ecto.Changeset)) (= d :ets)) (= e 7))"
        );
        let Some(Expr::And(left, _)) = &query.filter else {
            panic!()
        };
        let Expr::And(left, _) = left.as_ref() else {
            panic!()
        };
        let Expr::And(_, c) = left.as_ref() else {
            panic!()
        };
        let Expr::Compare { value, .. } = c.as_ref() else {
            panic!()
        };
        assert_eq!(value.span, span(45, 59));
    }

    #[test]
    fn keywords_are_case_insensitive_and_clauses_in_any_order() {
        let query =
            ok("functions LIMIT 3 Order By a DESC, b asc, c WHERE x IN [1] And Not y COUNT");
        assert_eq!(query.limit.as_ref().map(|l| l.value), Some(3));
        let order: Vec<(&str, bool)> = query
            .order
            .iter()
            .map(|o| (o.field.value.as_str(), o.descending))
            .collect();
        assert_eq!(order, [("a", true), ("b", false), ("c", false)]);
        assert_eq!(filter(&query), "(and (in x [1]) (not y))");
        assert!(query.count);
    }

    #[test]
    fn whitespace_and_newlines_are_free() {
        let query = ok("  functions\n  where\tname = \"a\nb\"\n  select name  ");
        assert_eq!(filter(&query), "(= name \"a\\nb\")");
        assert_eq!(query.select.as_deref().map(names), Some(vec!["name"]));
    }

    #[test]
    fn every_entity_parses() {
        for name in ENTITIES {
            assert_eq!(entity(&ok(name)), *name);
        }
    }

    #[test]
    fn the_documented_examples_parse() {
        // docs/query.md: the synopsis and the recipes.
        let examples = [
            "functions where complexity > 5 order by complexity desc limit 10",
            "functions where callers = 0 and public and not entry_point",
            "functions order by complexity desc limit 10",
            "findings where category = security and role = lib",
            "callers of MyApp.Accounts.get_user!/1 depth 3",
            "path from A to B",
            "functions where role = test count",
        ];
        for text in examples {
            ok(text);
        }
        assert_eq!(
            filter(&ok(examples[1])),
            "(and (and (= callers 0) public) (not entry_point))"
        );
    }

    // --- errors ---

    #[test]
    fn missing_field_after_where() {
        assert_eq!(
            err("functions where > 5"),
            "query:1:17: expected a field after 'where', found '>'"
        );
        assert_eq!(
            err("functions where"),
            "query:1:16: expected a field after 'where', found end of query"
        );
        assert_eq!(
            err("functions where a = 1 and"),
            "query:1:26: expected a field after 'and', found end of query"
        );
        assert_eq!(
            err("functions where select name"),
            "query:1:17: expected a field after 'where', found 'select'\n  \
             hint: 'select' is a keyword, not a field"
        );
        assert_eq!(
            err("functions where Name = 1"),
            "query:1:17: expected a field after 'where', found 'Name'\n  \
             hint: field names are lowercase: 'name'"
        );
        assert_eq!(
            err("functions where !a"),
            "query:1:17: expected a field after 'where', found '!'\n  \
             hint: negate a condition with 'not'"
        );
    }

    #[test]
    fn missing_value() {
        assert_eq!(
            err("functions where a ="),
            "query:1:20: expected a value after '=', found end of query"
        );
        assert_eq!(
            err("functions where a >= limit 5"),
            "query:1:22: expected a value after '>=', found 'limit'\n  \
             hint: to compare with the word, quote it: \"limit\""
        );
        assert_eq!(
            err("functions where a 5"),
            "query:1:19: expected an operator after 'a', found '5'\n  \
             hint: operators: = != < <= > >= ~, or 'in' with a list"
        );
    }

    #[test]
    fn bad_operators() {
        assert_eq!(
            err("functions where a === 1"),
            "query:1:19: unknown operator '==='\n  \
             hint: did you mean '='? operators: = != < <= > >= ~"
        );
        assert_eq!(
            err("functions where a => 1"),
            "query:1:19: unknown operator '=>'\n  \
             hint: did you mean '>='? operators: = != < <= > >= ~"
        );
        assert_eq!(
            err("functions where a && b"),
            "query:1:19: unexpected character '&'\n  hint: join conditions with 'and'"
        );
    }

    #[test]
    fn unterminated_strings() {
        assert_eq!(
            err(r#"functions where name = "abc"#),
            "query:1:24: unterminated string\n  hint: close the string with \""
        );
        assert_eq!(
            err(r"functions where name = 'abc\'"),
            "query:1:24: unterminated string\n  hint: close the string with '"
        );
        // The first problem in reading order wins.
        assert_eq!(
            err("functions where > 'abc"),
            "query:1:17: expected a field after 'where', found '>'"
        );
    }

    #[test]
    fn unknown_entities() {
        let everything = "entities: modules, functions, clauses, calls, references, dependencies, \
                          findings, files; or a source: callers of, callees of, dependents of, \
                          dependencies of, path from, cycles, pattern";
        assert_eq!(
            err("fuctions where a"),
            format!("query:1:1: unknown entity 'fuctions'\n  hint: did you mean 'functions'? {everything}")
        );
        assert_eq!(
            err("  caller of A.f"),
            format!(
                "query:1:3: unknown entity 'caller'\n  hint: did you mean 'callers'? {everything}"
            )
        );
        assert_eq!(
            err("Functions"),
            format!(
                "query:1:1: unknown entity 'Functions'\n  hint: entity names are lowercase: \
                 did you mean 'functions'? {everything}"
            )
        );
        assert_eq!(
            err("xyzzy"),
            format!("query:1:1: unknown entity 'xyzzy'\n  hint: {everything}")
        );
        assert_eq!(
            err("   "),
            format!("query:1:4: empty query\n  hint: {everything}")
        );
        assert_eq!(
            err(""),
            format!("query:1:1: empty query\n  hint: {everything}")
        );
        assert_eq!(
            err("> 5"),
            format!(
                "query:1:1: expected an entity or a source at the start of the query, \
                 found '>'\n  hint: {everything}"
            )
        );
    }

    #[test]
    fn clauses_given_twice() {
        assert_eq!(
            err("functions where a where b"),
            "query:1:19: 'where' given twice\n  hint: combine the conditions with 'and' or 'or'"
        );
        assert_eq!(
            err("functions limit 1 count LIMIT 2"),
            "query:1:25: 'limit' given twice"
        );
        assert_eq!(
            err("functions count count"),
            "query:1:17: 'count' given twice"
        );
        assert_eq!(
            err("functions order by a order by b"),
            "query:1:22: 'order by' given twice\n  \
             hint: list all the keys in one 'order by', separated by commas"
        );
        assert_eq!(
            err("functions select a select b"),
            "query:1:20: 'select' given twice\n  \
             hint: list all the fields in one 'select', separated by commas"
        );
    }

    #[test]
    fn trailing_garbage() {
        assert_eq!(
            err("functions where a = 1 foo"),
            "query:1:23: unexpected 'foo' after the query\n  \
             hint: expected one of: and, or, select, order by, limit, count"
        );
        assert_eq!(
            err("functions wher a = 1"),
            "query:1:11: unexpected 'wher' after the query\n  \
             hint: did you mean 'where'? expected one of: where, select, order by, limit, count"
        );
        assert_eq!(
            err("functions where a = 1 limit 2 count )"),
            "query:1:37: unexpected ')' after the query\n  \
             hint: expected one of: select, order by"
        );
        assert_eq!(
            err("functions select a where b order by c desc limit 2 count x"),
            "query:1:58: unexpected 'x' after the query\n  hint: the query is complete here"
        );
        assert_eq!(
            err("callers of A.f where a depth 2"),
            "query:1:24: unexpected 'depth' after the query\n  \
             hint: 'depth' goes right after the function: callers of M.f/1 depth 2"
        );
        assert_eq!(
            err("cycles labl compile"),
            "query:1:8: unexpected 'labl' after the query\n  \
             hint: did you mean 'label'? expected one of: label, where, select, order by, \
             limit, count"
        );
    }

    #[test]
    fn limit_needs_an_integer() {
        assert_eq!(
            err("functions limit ten"),
            "query:1:17: expected an integer after 'limit', found 'ten'"
        );
        assert_eq!(
            err("functions limit"),
            "query:1:16: expected an integer after 'limit', found end of query"
        );
        assert_eq!(
            err("functions limit 2.5"),
            "query:1:17: expected an integer after 'limit', found '2.5'"
        );
        assert_eq!(
            err("functions limit -1"),
            "query:1:17: the limit cannot be negative"
        );
        assert_eq!(
            err("functions limit 99999999999999999999"),
            "query:1:17: number '99999999999999999999' is too large"
        );
        assert_eq!(
            err("functions limit 10abc"),
            "query:1:17: invalid number '10abc'"
        );
    }

    #[test]
    fn callers_without_a_target() {
        let hint = "hint: a function is written Module.name or Module.name/arity, like \
                    MyApp.Accounts.get_user/1 or :ets.lookup/2";
        assert_eq!(
            err("callers of"),
            format!("query:1:11: expected a function after 'of', found end of query\n  {hint}")
        );
        assert_eq!(
            err("callers of get_user/1"),
            format!("query:1:12: expected a function after 'of', found 'get_user'\n  {hint}")
        );
        assert_eq!(
            err("callers of MyApp.Accounts depth 2"),
            format!(
                "query:1:27: expected '.' and a function name after 'MyApp.Accounts', \
                 found 'depth'\n  {hint}"
            )
        );
        assert_eq!(
            err("callees of MyApp. f"),
            format!("query:1:19: expected a function name after '.', found 'f'\n  {hint}")
        );
        assert_eq!(
            err("callers of A.f/x"),
            format!("query:1:16: expected an arity after '/', found 'x'\n  {hint}")
        );
        assert_eq!(
            err("callers MyApp.f"),
            "query:1:9: expected 'of' after 'callers', found 'MyApp'\n  \
             hint: write callers of Module.function/arity"
        );
        assert_eq!(
            err("callers of A.f depth 0"),
            "query:1:22: the depth must be at least 1"
        );
        assert_eq!(
            err("callers of A.f depth"),
            "query:1:21: expected an integer after 'depth', found end of query"
        );
    }

    #[test]
    fn module_errors() {
        let hint = "hint: a module is written like MyApp.Repo, or :ets for an Erlang module";
        assert_eq!(
            err("dependents of"),
            format!("query:1:14: expected a module after 'of', found end of query\n  {hint}")
        );
        assert_eq!(
            err("dependencies of myapp"),
            format!("query:1:17: expected a module after 'of', found 'myapp'\n  {hint}")
        );
        assert_eq!(
            err("dependents of MyApp.Repo.get"),
            "query:1:26: expected a module, found 'MyApp.Repo.get'\n  \
             hint: module names are capitalised; this looks like a function"
        );
        assert_eq!(
            err("path from A"),
            "query:1:12: expected 'to' after 'A', found end of query\n  \
             hint: write path from Module to Module"
        );
        assert_eq!(
            err("path A to B"),
            "query:1:6: expected 'from' after 'path', found 'A'\n  \
             hint: write path from Module to Module"
        );
    }

    #[test]
    fn unknown_labels() {
        assert_eq!(
            err("cycles label foo"),
            "query:1:14: unknown label 'foo'\n  hint: labels: compile, export, runtime"
        );
        assert_eq!(
            err("cycles label runtme"),
            "query:1:14: unknown label 'runtme'\n  \
             hint: did you mean 'runtime'? labels: compile, export, runtime"
        );
        assert_eq!(
            err("cycles label"),
            "query:1:13: expected a label after 'label', found end of query\n  \
             hint: labels: compile, export, runtime"
        );
    }

    #[test]
    fn pattern_errors() {
        assert_eq!(
            err("pattern Repo.get"),
            "query:1:9: expected a quoted pattern after 'pattern', found 'Repo'\n  \
             hint: quote the code to find, like pattern 'Repo.get!($S, $ID)'"
        );
        assert_eq!(err("pattern ' '"), "query:1:9: the pattern is empty");
        assert_eq!(
            err("pattern 'x' inside modules"),
            "query:1:20: expected 'functions' after 'inside', found 'modules'\n  \
             hint: patterns are searched inside functions: inside functions where ..."
        );
    }

    #[test]
    fn unclosed_groups_and_lists() {
        assert_eq!(
            err("functions where (a or b"),
            "query:1:24: expected ')', found end of query\n  hint: to close the '(' at 1:17"
        );
        assert_eq!(
            err("functions where a in [1, 2"),
            "query:1:27: expected ',' or ']' after '2', found end of query\n  \
             hint: to close the '[' at 1:22"
        );
        assert_eq!(
            err("functions where a in 1"),
            "query:1:22: expected '[' after 'in', found '1'\n  \
             hint: 'in' takes a list, like kind in [def, defp]"
        );
        assert_eq!(
            err("functions where a in []"),
            "query:1:23: expected a value after '[', found ']'"
        );
        assert_eq!(
            err("functions select a,"),
            "query:1:20: expected a field after ',', found end of query"
        );
        assert_eq!(
            err("functions order name"),
            "query:1:17: expected 'by' after 'order', found 'name'\n  \
             hint: write order by field [asc|desc]"
        );
    }

    #[test]
    fn positions_count_characters_and_lines() {
        // `é` is two bytes: a byte offset would put the column one further.
        assert_eq!(
            err(r#"functions where name = "héllo" foo"#),
            "query:1:32: unexpected 'foo' after the query\n  \
             hint: expected one of: and, or, select, order by, limit, count"
        );
        assert_eq!(
            err("functions\nwhere naïve = 1"),
            "query:2:7: expected a field after 'where', found 'naïve'\n  \
             hint: field names are made of lowercase letters, digits and underscores"
        );
        assert_eq!(
            err("functions where a = 1 #"),
            "query:1:23: unexpected character '#'"
        );
    }

    #[test]
    fn nesting_and_length_are_bounded() {
        let deep = format!("functions where {}a{}", "(".repeat(150), ")".repeat(150));
        assert!(err(&deep).contains("nested too deeply"));
        let nots = format!("functions where {}a", "not ".repeat(150));
        assert!(err(&nots).contains("nested too deeply"));
        let long = format!("functions where a{}", " and a".repeat(2000));
        assert!(err(&long).contains("too many conditions"));
        // Just under the bounds still parses.
        ok(&format!(
            "functions where {}a{}",
            "(".repeat(99),
            ")".repeat(99)
        ));
        ok(&format!("functions where a{}", " or a".repeat(999)));
    }

    /// A small deterministic generator (xorshift), so that the garbage is the same on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Parses `text` (it must not panic) and checks that an error points inside it.
    fn survives(text: &str) {
        if let Err(error) = parse(text) {
            let length = text.chars().count();
            assert!(
                error.span.start <= error.span.end && error.span.end <= length,
                "{text:?}: span {:?} outside 0..{length}",
                error.span
            );
            assert!(!error.message.is_empty(), "{text:?}: empty message");
            let rendered = error.render(text);
            assert!(rendered.starts_with("query:"), "{rendered}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        const PIECES: &[&str] = &[
            "functions",
            "modules",
            "dependencies",
            "callers",
            "callees",
            "of",
            "dependents",
            "path",
            "from",
            "to",
            "cycles",
            "label",
            "compile",
            "pattern",
            "inside",
            "where",
            "select",
            "order",
            "by",
            "limit",
            "count",
            "and",
            "or",
            "not",
            "in",
            "depth",
            "asc",
            "desc",
            "true",
            "name",
            "MyApp",
            "Repo",
            ":ets",
            "get!",
            "ok?",
            "(",
            ")",
            "[",
            "]",
            ",",
            ".",
            "/",
            "=",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "~",
            "==",
            "!",
            "-",
            "-1",
            "2.5",
            "1.",
            "10abc",
            "99999999999999999999",
            "\"",
            "'",
            "\"str\"",
            "'x'",
            "\\",
            "\"\\",
            "#",
            "&",
            ":",
            "é",
            "日本",
            "🦀",
            "\u{301}",
            "\n",
            "\t",
            " ",
            "",
            "\u{0}",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..600 {
            let mut text = String::new();
            for _ in 0..rng.below(12) {
                text.push_str(PIECES[rng.below(PIECES.len())]);
                if rng.below(3) > 0 {
                    text.push(' ');
                }
            }
            survives(&text);
        }
        for _ in 0..300 {
            let text: String = (0..rng.below(30))
                .map(|_| char::from_u32(rng.below(0x2_0000) as u32).unwrap_or('?'))
                .collect();
            survives(&text);
        }
        for text in ["", " ", "\n", "'", "\"", "-", ":", "(", "[", ".", "é"] {
            survives(text);
        }
        survives(&"(".repeat(100_000));
        survives(&format!("functions where {}", "not ".repeat(100_000)));
        survives(&format!("functions where a{}", " and a".repeat(100_000)));
        survives(&format!(
            "functions where a in [{}1]",
            "1, ".repeat(100_000)
        ));
    }

    #[test]
    fn every_prefix_of_a_valid_query_parses_or_errs_cleanly() {
        let queries = [
            r#"functions select name, arity where arity in [1, -2.5] and not (a or b = "x\"y") order by name desc limit 10 count"#,
            "callers of MyApp.Accounts.get_user!/1 depth 2 where kind = def",
            r#"pattern 'Repo.get!($S, $ID)' inside functions where name ~ "show""#,
            "path from A.B to :ets",
            "cycles label runtime",
        ];
        for query in queries {
            ok(query);
            let chars: Vec<char> = query.chars().collect();
            for end in 0..=chars.len() {
                survives(&chars[..end].iter().collect::<String>());
            }
        }
    }
}
