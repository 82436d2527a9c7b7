//! The query language's syntax tree (`docs/query.md` has the grammar). Every name and value
//! keeps its [`Span`] so that the executor's errors (an unknown field, a value of the wrong
//! type) point at the query text like the parser's do.

/// A range of the query text, in characters (0-based, end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// A whole query: where the rows come from, then the clauses that filter, shape, order and
/// count them (each at most once, in any order).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    pub(crate) source: Source,
    /// `where EXPR`.
    pub(crate) filter: Option<Expr>,
    /// `select f, g`: the columns, in this order (all of the entity's default columns when
    /// absent).
    pub(crate) select: Option<Vec<Spanned<String>>>,
    /// `order by f [asc|desc], ...`.
    pub(crate) order: Vec<OrderItem>,
    /// `limit N`.
    pub(crate) limit: Option<Spanned<u64>>,
    /// `count`: one row, the number of rows.
    pub(crate) count: bool,
}

/// Where a query's rows come from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Source {
    /// `functions`, `modules`, ...: one row per entity of that kind. The name is checked by the
    /// parser against [`ENTITIES`].
    Entity(Spanned<String>),
    /// `callers of M.f/2 [depth N]`: the call sites of the function, then of their callers, up
    /// to `depth` (default 1).
    Callers {
        target: Spanned<FunctionTarget>,
        depth: Option<Spanned<u32>>,
    },
    /// `callees of M.f/2 [depth N]`.
    Callees {
        target: Spanned<FunctionTarget>,
        depth: Option<Spanned<u32>>,
    },
    /// `dependents of M`: the modules that depend on M.
    Dependents(Spanned<String>),
    /// `dependencies of M`: the modules M depends on. (`dependencies` alone is the entity.)
    DependenciesOf(Spanned<String>),
    /// `path from M to N`: a shortest chain of dependencies.
    Path {
        from: Spanned<String>,
        to: Spanned<String>,
    },
    /// `cycles [label compile|export|runtime]`.
    Cycles { label: Option<Spanned<String>> },
    /// `pattern 'Repo.get!($S, $ID)' [inside functions where EXPR]`.
    Pattern {
        pattern: Spanned<String>,
        inside: Option<Expr>,
    },
}

/// `Module.name/arity`, or `Module.name` for every arity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FunctionTarget {
    pub(crate) module: String,
    pub(crate) name: String,
    pub(crate) arity: Option<u32>,
}

/// The entities a selection query can name.
pub(crate) const ENTITIES: &[&str] = &[
    "modules",
    "functions",
    "clauses",
    "calls",
    "references",
    "dependencies",
    "findings",
    "files",
];

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `field OP value`.
    Compare {
        field: Spanned<String>,
        op: Spanned<Op>,
        value: Spanned<Value>,
    },
    /// `field in [v, ...]`.
    In {
        field: Spanned<String>,
        values: Vec<Spanned<Value>>,
    },
    /// A bare field: true when it is true, a non-zero number, a non-empty string or list.
    Truthy(Spanned<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `~`: the value is a regular expression that matches somewhere in the field.
    Match,
}

impl Op {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Match => "~",
        }
    }
}

/// A literal of the query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// `"text"` or `'text'` (backslash escapes `\"`, `\'`, `\\`).
    Str(String),
    Int(i64),
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// A bare word: `genserver`, `lib`, `compile`, `Ecto.Changeset`; compared as a string.
    Word(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OrderItem {
    pub(crate) field: Spanned<String>,
    pub(crate) descending: bool,
}

/// A query that does not parse, or names what does not exist: where, what, and a hint.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryError {
    pub(crate) span: Span,
    pub(crate) message: String,
    /// What would work: the expected tokens, the valid names, a did-you-mean.
    pub(crate) hint: Option<String>,
}

impl QueryError {
    pub(crate) fn new(span: Span, message: impl Into<String>) -> QueryError {
        QueryError {
            span,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> QueryError {
        self.hint = Some(hint.into());
        self
    }

    /// `query:LINE:COLUMN: message` (1-based, in characters), then the hint on its own line.
    pub(crate) fn render(&self, query: &str) -> String {
        let before: String = query.chars().take(self.span.start).collect();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let mut text = format!("query:{line}:{column}: {}", self.message);
        if let Some(hint) = &self.hint {
            text.push_str("\n  hint: ");
            text.push_str(hint);
        }
        text
    }
}

/// The closest of `candidates` to `word` (edit distance at most a third of its length, at
/// least 1), for did-you-mean hints.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}
