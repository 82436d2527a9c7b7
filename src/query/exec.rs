//! The Executor (design: Querying.Executor): a parsed [`Query`] over the repository — rows of
//! the entity or graph question, filtered by `where`, ordered (by `order by`, else file, line,
//! then name), cut by `limit`, shaped by `select` or counted by `count`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::ops::Range;

use regex_lite::Regex;
use serde::Serialize;

use super::ast::{
    closest, Expr, FunctionTarget, Op, Query, QueryError, Source, Span, Spanned, Value,
};
use super::fields::{self, Field, FieldType};
use super::tables::{self, TableBuilder, Tables};
use crate::model::{
    Call, DirectiveKind, DocState, FileRecord, Finding, Function, FunctionKind, Module, ModuleKind,
};
use crate::otp::cancel::Deadline;
use crate::project::Repository;

/// One cell of a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    /// Only `--sql` answers hold these (an average, a ratio).
    Float(f64),
    Str(String),
    List(Vec<String>),
}

impl Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Null => serializer.serialize_none(),
            Cell::Bool(b) => serializer.serialize_bool(*b),
            Cell::Int(i) => serializer.serialize_i64(*i),
            Cell::Float(f) => serializer.serialize_f64(*f),
            Cell::Str(s) => serializer.serialize_str(s),
            Cell::List(l) => l.serialize(serializer),
        }
    }
}

impl Cell {
    /// The text a table shows.
    pub(crate) fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Bool(b) => b.to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => f.to_string(),
            Cell::Str(s) => s.clone(),
            Cell::List(l) => l.join(", "),
        }
    }

    fn truthy(&self) -> bool {
        match self {
            Cell::Null => false,
            Cell::Bool(b) => *b,
            Cell::Int(i) => *i != 0,
            Cell::Float(f) => *f != 0.0,
            Cell::Str(s) => !s.is_empty(),
            Cell::List(l) => !l.is_empty(),
        }
    }

    /// Nulls first, then by value; lists by their joined text.
    fn compare(&self, other: &Cell) -> Ordering {
        match (self, other) {
            (Cell::Null, Cell::Null) => Ordering::Equal,
            (Cell::Null, _) => Ordering::Less,
            (_, Cell::Null) => Ordering::Greater,
            (Cell::Int(a), Cell::Int(b)) => a.cmp(b),
            (Cell::Float(a), Cell::Float(b)) => a.total_cmp(b),
            (Cell::Bool(a), Cell::Bool(b)) => a.cmp(b),
            (a, b) => a.text().cmp(&b.text()),
        }
    }
}

/// The rows of `table` the filter selects, with the `needed` fields; the deadline is looked at
/// every 1024 rows.
fn select_rows(
    table: &tables::Table,
    filter: Option<&Filter>,
    needed: &[bool],
    deadline: &Deadline,
) -> Result<Vec<Vec<Cell>>, QueryError> {
    let column_filter = filter.map(|f| ColumnFilter::new(f, table));
    let mut rows = Vec::new();
    for row in 0..table.len {
        if row.is_multiple_of(1024) && deadline.expired() {
            return Err(timed_out());
        }
        if column_filter.as_ref().is_none_or(|f| f.matches(row)) {
            rows.push(table.row(row, needed));
        }
    }
    Ok(rows)
}

fn role_of(file: &FileRecord) -> Cell {
    text(name_of(&file.role))
}

fn text(value: impl Into<String>) -> Cell {
    Cell::Str(value.into())
}

fn opt(value: Option<impl Into<String>>) -> Cell {
    value.map_or(Cell::Null, |v| Cell::Str(v.into()))
}

fn int(value: impl Into<i64>) -> Cell {
    Cell::Int(value.into())
}

fn opt_int(value: Option<impl Into<i64>>) -> Cell {
    value.map_or(Cell::Null, |v| Cell::Int(v.into()))
}

/// An enum's report name (its serde name).
fn name_of<T: Serialize>(value: &T) -> String {
    crate::model::variant::name(value)
        .unwrap_or_default()
        .to_string()
}

/// The result of a query: its kind (the entity, or the graph question), columns and rows.
#[derive(Debug, Default)]
pub(crate) struct Answer {
    pub(crate) kind: String,
    pub(crate) columns: Vec<String>,
    pub(crate) rows: Vec<Vec<Cell>>,
}

/// A cell as the query cache keeps it.
#[derive(Serialize, serde::Deserialize)]
enum StoredCell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<String>),
}

#[derive(Serialize, serde::Deserialize)]
struct StoredAnswer {
    kind: String,
    columns: Vec<String>,
    rows: Vec<Vec<StoredCell>>,
}

impl Answer {
    /// The stored form (the query cache's blob).
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        let stored = StoredAnswer {
            kind: self.kind.clone(),
            columns: self.columns.clone(),
            rows: self
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|cell| match cell {
                            Cell::Null => StoredCell::Null,
                            Cell::Bool(b) => StoredCell::Bool(*b),
                            Cell::Int(i) => StoredCell::Int(*i),
                            Cell::Float(f) => StoredCell::Float(*f),
                            Cell::Str(s) => StoredCell::Str(s.clone()),
                            Cell::List(l) => StoredCell::List(l.clone()),
                        })
                        .collect()
                })
                .collect(),
        };
        crate::model::stored::encode(&stored).ok()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Answer> {
        let stored: StoredAnswer = crate::model::stored::decode(bytes).ok()?;
        Some(Answer {
            kind: stored.kind,
            columns: stored.columns,
            rows: stored
                .rows
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|cell| match cell {
                            StoredCell::Null => Cell::Null,
                            StoredCell::Bool(b) => Cell::Bool(b),
                            StoredCell::Int(i) => Cell::Int(i),
                            StoredCell::Float(f) => Cell::Float(f),
                            StoredCell::Str(s) => Cell::Str(s),
                            StoredCell::List(l) => Cell::List(l),
                        })
                        .collect()
                })
                .collect(),
        })
    }
}

/// What the executor reads: the query tables, and a pattern query's matches.
pub(crate) struct Data<'a> {
    pub(crate) tables: &'a Tables,
    /// For `pattern` queries: the PatternMatcher's matches.
    pub(crate) matches: &'a [PatternMatch],
}

impl<'a> Data<'a> {
    fn table(&self, entity: &str) -> Result<&'a tables::Table, QueryError> {
        self.tables.get(entity).ok_or_else(|| {
            QueryError::new(
                Span::default(),
                format!("the {entity} table is missing (an index that does not decode?); run again with --no-cache"),
            )
        })
    }
}

/// A structural match with where it is.
#[derive(Debug, Clone)]
pub(crate) struct PatternMatch {
    pub(crate) path: String,
    pub(crate) module: Option<String>,
    pub(crate) function: Option<String>,
    pub(crate) found: crate::syntax::pattern::Match,
}

/// A table being built: the rows of one source, every field (those not needed null).
struct Table {
    kind: &'static str,
    fields: &'static [Field],
    rows: Vec<Vec<Cell>>,
    /// The filter already ran while the rows were made.
    filtered: bool,
}

/// The kind of rows a source gives, and its default order.
fn kind_of(source: &Source) -> Result<(&'static str, &'static [&'static str]), QueryError> {
    Ok(match source {
        Source::Entity(entity) => match entity.value.as_str() {
            "modules" => ("modules", &["file", "line", "name"]),
            "functions" => ("functions", &["file", "line", "name"]),
            "clauses" => ("clauses", &["file", "line", "name"]),
            "calls" => ("calls", &["file", "line", "column"]),
            "references" => ("references", &["file", "line", "column"]),
            "dependencies" => ("dependencies", &["from", "to"]),
            "files" => ("files", &["file"]),
            "findings" => ("findings", &["file", "line", "column", "rule"]),
            other => {
                return Err(QueryError::new(
                    entity.span,
                    format!("unknown entity '{other}'"),
                ))
            }
        },
        Source::Callers { .. } => ("callers", &["depth", "file", "line", "column"]),
        Source::Callees { .. } => ("callees", &["depth", "file", "line", "column"]),
        Source::Dependents(_) | Source::DependenciesOf(_) => ("dependencies", &["from", "to"]),
        Source::Path { .. } => ("path", &["step"]),
        Source::Cycles { .. } => ("cycles", &[]),
        Source::Pattern { .. } => ("pattern", &["file", "line", "column"]),
    })
}

/// A pattern query's pattern, compiled; an error points into the pattern's text.
pub(crate) fn compile_pattern(
    pattern: &Spanned<String>,
) -> Result<std::sync::Arc<crate::syntax::pattern::Pattern>, QueryError> {
    crate::syntax::pattern::Pattern::compiled(&pattern.value).map_err(|error| {
        // The span covers the quotes: the text starts one character in.
        let at = pattern.span.start + 1 + error.offset;
        QueryError::new(
            Span {
                start: at,
                end: at + 1,
            },
            error.message,
        )
        .with_hint("docs/query.md, \"Structural patterns\"")
    })
}

/// The fields an expression reads.
fn read_by(filter: &Filter, needed: &mut [bool]) {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => {
            read_by(a, needed);
            read_by(b, needed);
        }
        Filter::Not(a) => read_by(a, needed),
        Filter::Truthy(i) | Filter::Compare(i, ..) | Filter::Match(i, _) | Filter::In(i, _) => {
            needed[*i] = true;
        }
    }
}

/// Checks what can be checked before any file is read: the source, every field named, the
/// values' types and the regular expressions. A typo is reported at once, not after a run over
/// a large tree.
pub(crate) fn check(query: &Query) -> Result<(), QueryError> {
    let (kind, _) = kind_of(&query.source)?;
    if let Source::Pattern { pattern, inside } = &query.source {
        compile_pattern(pattern)?;
        if let Some(expr) = inside {
            Filter::compile(expr, fields::FUNCTIONS, "functions")?;
        }
    }
    let fields = fields::of(kind).unwrap_or(&[]);
    if let Some(expr) = &query.filter {
        Filter::compile(expr, fields, kind)?;
    }
    let named = query
        .order
        .iter()
        .map(|item| &item.field)
        .chain(query.select.iter().flatten());
    for field in named {
        if !fields.iter().any(|f| f.name == field.value) {
            return Err(unknown_field(field, kind, fields));
        }
    }
    Ok(())
}

/// What a query reads: each table with the fields to load (entity, fields). The index loads
/// these columns and nothing else.
pub(crate) fn plan(query: &Query) -> Result<Vec<(&'static str, Vec<&'static str>)>, QueryError> {
    let all = |entity: &'static str| -> (&'static str, Vec<&'static str>) {
        (
            entity,
            fields::of(entity)
                .unwrap_or(&[])
                .iter()
                .map(|f| f.name)
                .collect(),
        )
    };
    let some = |entity: &'static str, names: &[&'static str]| (entity, names.to_vec());
    const CALL_EDGE_READS: &[&str] = &[
        "module",
        "function",
        "caller_id",
        "callee_module",
        "callee",
        "name",
        "arity",
        "quoted",
        "target",
        "line",
        "column",
        "file",
        "role",
        "project",
    ];
    const FUNCTION_INDEX_READS: &[&str] = &["module", "name", "arity", "min_arity", "id"];
    Ok(match &query.source {
        Source::Entity(_) => {
            let (kind, default_order) = kind_of(&query.source)?;
            let catalog = fields::of(kind).unwrap_or(&[]);
            let mut needed = vec![false; catalog.len()];
            if let Some(expr) = &query.filter {
                read_by(&Filter::compile(expr, catalog, kind)?, &mut needed);
            }
            let named = query
                .order
                .iter()
                .map(|o| o.field.value.as_str())
                .chain(query.select.iter().flatten().map(|f| f.value.as_str()));
            for name in named {
                if let Some(i) = catalog.iter().position(|f| f.name == name) {
                    needed[i] = true;
                }
            }
            if !query.count {
                if query.order.is_empty() {
                    for name in default_order {
                        if let Some(i) = catalog.iter().position(|f| f.name == *name) {
                            needed[i] = true;
                        }
                    }
                }
                if query.select.is_none() {
                    needed.iter_mut().for_each(|n| *n = true);
                }
            }
            if !needed.iter().any(|&n| n) && !needed.is_empty() {
                // A count without a filter: one column gives the number of rows.
                needed[0] = true;
            }
            vec![(
                kind,
                catalog
                    .iter()
                    .zip(&needed)
                    .filter(|(_, &n)| n)
                    .map(|(f, _)| f.name)
                    .collect(),
            )]
        }
        Source::Callers { .. } | Source::Callees { .. } => vec![
            some("calls", CALL_EDGE_READS),
            some("functions", FUNCTION_INDEX_READS),
        ],
        Source::Dependents(_) | Source::DependenciesOf(_) => vec![all("dependencies")],
        Source::Path { .. } => vec![all("dependencies"), some("modules", &["name"])],
        Source::Cycles { label: None } => vec![all("cycles")],
        Source::Cycles { label: Some(_) } => vec![
            some("dependencies", &["from", "to", "label"]),
            some("modules", &["name"]),
        ],
        Source::Pattern { inside, .. } => {
            let mut wanted = vec![
                some("files", &["file", "role", "project"]),
                some("calls", &["callee_module", "name", "file"]),
            ];
            if let Some(expr) = inside {
                let catalog = fields::FUNCTIONS;
                let mut needed = vec![false; catalog.len()];
                read_by(&Filter::compile(expr, catalog, "functions")?, &mut needed);
                for name in ["file", "line", "end_line"] {
                    if let Some(i) = catalog.iter().position(|f| f.name == name) {
                        needed[i] = true;
                    }
                }
                wanted.push((
                    "functions",
                    catalog
                        .iter()
                        .zip(&needed)
                        .filter(|(_, &n)| n)
                        .map(|(f, _)| f.name)
                        .collect(),
                ));
            }
            wanted
        }
    })
}

/// Runs `query`; `deadline` is looked at between rows (a pathological regex over a large
/// table ends with an error, not a hang).
pub(crate) fn execute(
    query: &Query,
    data: &Data<'_>,
    deadline: &Deadline,
) -> Result<Answer, QueryError> {
    if deadline.expired() {
        return Err(timed_out());
    }
    let (kind, default_order) = kind_of(&query.source)?;
    let fields = fields::of(kind).unwrap_or(&[]);
    let index = |field: &Spanned<String>| -> Result<usize, QueryError> {
        fields
            .iter()
            .position(|f| f.name == field.value)
            .ok_or_else(|| unknown_field(field, kind, fields))
    };
    // Compile the filter once: field positions, regexes, checked value types.
    let filter = query
        .filter
        .as_ref()
        .map(|expr| Filter::compile(expr, fields, kind))
        .transpose()?;
    let order: Vec<(usize, bool)> = if query.order.is_empty() && query.count {
        // A count reads no order.
        Vec::new()
    } else if query.order.is_empty() {
        default_order
            .iter()
            .filter_map(|name| fields.iter().position(|f| f.name == *name))
            .map(|i| (i, false))
            .collect()
    } else {
        query
            .order
            .iter()
            .map(|item| Ok((index(&item.field)?, item.descending)))
            .collect::<Result<_, QueryError>>()?
    };
    let selected: Vec<usize> = match &query.select {
        Some(fields) => fields.iter().map(index).collect::<Result<_, _>>()?,
        None => (0..fields.len()).collect(),
    };
    // Only what the filter, the order and the output read is computed.
    let mut needed = vec![false; fields.len()];
    if let Some(filter) = &filter {
        read_by(filter, &mut needed);
    }
    for &(i, _) in &order {
        needed[i] = true;
    }
    if !query.count {
        for &i in &selected {
            needed[i] = true;
        }
    }
    let table = rows(&query.source, data, deadline, &needed, filter.as_ref())?;
    if deadline.expired() {
        return Err(timed_out());
    }
    let mut rows = table.rows;
    if let (Some(filter), false) = (&filter, table.filtered) {
        let mut kept = Vec::with_capacity(rows.len());
        for (n, row) in rows.into_iter().enumerate() {
            if n.is_multiple_of(1024) && deadline.expired() {
                return Err(timed_out());
            }
            if filter.matches(&row) {
                kept.push(row);
            }
        }
        rows = kept;
    }
    if !order.is_empty() {
        rows.sort_by(|a, b| {
            for &(i, descending) in &order {
                let ordering = a[i].compare(&b[i]);
                let ordering = if descending {
                    ordering.reverse()
                } else {
                    ordering
                };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            Ordering::Equal
        });
    }
    if let Some(limit) = &query.limit {
        rows.truncate(usize::try_from(limit.value).unwrap_or(usize::MAX));
    }
    if query.count {
        return Ok(Answer {
            kind: table.kind.to_string(),
            columns: vec!["count".to_string()],
            rows: vec![vec![Cell::Int(
                i64::try_from(rows.len()).unwrap_or(i64::MAX),
            )]],
        });
    }
    let columns = selected
        .iter()
        .map(|&i| table.fields[i].name.to_string())
        .collect();
    let rows = if selected.len() == table.fields.len() {
        rows
    } else {
        rows.into_iter()
            .map(|mut row| {
                selected
                    .iter()
                    .map(|&i| std::mem::replace(&mut row[i], Cell::Null))
                    .collect()
            })
            .collect()
    };
    Ok(Answer {
        kind: table.kind.to_string(),
        columns,
        rows,
    })
}

fn timed_out() -> QueryError {
    QueryError::new(
        Span::default(),
        "the query ran past its time limit (--timeout-ms)",
    )
}

fn unknown_field(field: &Spanned<String>, kind: &str, fields: &[Field]) -> QueryError {
    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
    let mut hint = String::new();
    if let Some(close) = closest(&field.value, names.iter().copied()) {
        hint.push_str(&format!("did you mean '{close}'? "));
    }
    hint.push_str(&format!("fields of {kind}: {}", names.join(", ")));
    QueryError::new(
        field.span,
        format!("unknown field '{}' for {kind}", field.value),
    )
    .with_hint(hint)
}

/// A compiled `where` expression.
enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Truthy(usize),
    Compare(usize, Op, Literal),
    Match(usize, Regex),
    In(usize, Vec<Literal>),
}

/// A value of the query, in the field's type.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Int(i64),
    Bool(bool),
    Str(String),
}

impl Filter {
    fn compile(expr: &Expr, fields: &'static [Field], kind: &str) -> Result<Filter, QueryError> {
        let field_of = |field: &Spanned<String>| -> Result<(usize, &Field), QueryError> {
            fields
                .iter()
                .enumerate()
                .find(|(_, f)| f.name == field.value)
                .ok_or_else(|| unknown_field(field, kind, fields))
        };
        Ok(match expr {
            Expr::And(a, b) => Filter::And(
                Box::new(Filter::compile(a, fields, kind)?),
                Box::new(Filter::compile(b, fields, kind)?),
            ),
            Expr::Or(a, b) => Filter::Or(
                Box::new(Filter::compile(a, fields, kind)?),
                Box::new(Filter::compile(b, fields, kind)?),
            ),
            Expr::Not(a) => Filter::Not(Box::new(Filter::compile(a, fields, kind)?)),
            Expr::Truthy(field) => Filter::Truthy(field_of(field)?.0),
            Expr::Compare { field, op, value } => {
                let (index, field_def) = field_of(field)?;
                if op.value == Op::Match {
                    let pattern = match &value.value {
                        Value::Str(s) | Value::Word(s) => s.clone(),
                        other => literal_text(other),
                    };
                    let regex = regex_lite::RegexBuilder::new(&pattern)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|err| {
                            QueryError::new(
                                value.span,
                                format!("invalid regular expression: {err}"),
                            )
                        })?;
                    Filter::Match(index, regex)
                } else {
                    let literal = literal(field_def, value)?;
                    if matches!(field_def.ty, FieldType::List | FieldType::Bool)
                        && !matches!(op.value, Op::Eq | Op::Ne)
                    {
                        return Err(QueryError::new(
                            op.span,
                            format!(
                                "'{}' cannot compare {}: it is a {}",
                                op.value.symbol(),
                                field_def.name,
                                type_name(field_def.ty)
                            ),
                        )
                        .with_hint("use =, != or in (and ~ for a regular expression)"));
                    }
                    Filter::Compare(index, op.value, literal)
                }
            }
            Expr::In { field, values } => {
                let (index, field_def) = field_of(field)?;
                Filter::In(
                    index,
                    values
                        .iter()
                        .map(|value| literal(field_def, value))
                        .collect::<Result<_, _>>()?,
                )
            }
        })
    }

    fn matches(&self, row: &[Cell]) -> bool {
        match self {
            Filter::And(a, b) => a.matches(row) && b.matches(row),
            Filter::Or(a, b) => a.matches(row) || b.matches(row),
            Filter::Not(a) => !a.matches(row),
            leaf => leaf.field().is_some_and(|i| leaf.leaf_matches(&row[i])),
        }
    }

    /// The field a comparison reads (`None` for `and`, `or`, `not`).
    fn field(&self) -> Option<usize> {
        match self {
            Filter::Truthy(i) | Filter::Match(i, _) | Filter::Compare(i, ..) | Filter::In(i, _) => {
                Some(*i)
            }
            _ => None,
        }
    }

    /// A comparison on its field's value.
    fn leaf_matches(&self, cell: &Cell) -> bool {
        match self {
            Filter::Truthy(_) => cell.truthy(),
            Filter::Match(_, regex) => match cell {
                Cell::Null => false,
                Cell::List(items) => items.iter().any(|item| regex.is_match(item)),
                Cell::Str(s) => regex.is_match(s),
                cell => regex.is_match(&cell.text()),
            },
            Filter::Compare(_, op, literal) => compare(cell, *op, literal),
            Filter::In(_, literals) => literals.iter().any(|l| compare(cell, Op::Eq, l)),
            _ => false,
        }
    }
}

/// A filter over a table's columns: a comparison on a string column is made once per distinct
/// string (a regex over 350,000 calls runs once per distinct callee), the others on the cell
/// of each row; rows are made only when they match.
struct ColumnFilter<'f, 't> {
    filter: &'f Filter,
    table: &'t tables::Table,
    /// By leaf: its answer per interned string, and for null.
    memo: HashMap<*const Filter, (Vec<bool>, bool)>,
}

impl<'f, 't> ColumnFilter<'f, 't> {
    fn new(filter: &'f Filter, table: &'t tables::Table) -> ColumnFilter<'f, 't> {
        let mut memo = HashMap::new();
        let mut stack = vec![filter];
        while let Some(node) = stack.pop() {
            match node {
                Filter::And(a, b) | Filter::Or(a, b) => {
                    stack.push(a);
                    stack.push(b);
                }
                Filter::Not(a) => stack.push(a),
                leaf => {
                    if let Some(tables::Column::Str { dict, .. }) =
                        leaf.field().and_then(|i| table.column(i))
                    {
                        let by_id = dict
                            .iter()
                            .map(|s| leaf.leaf_matches(&Cell::Str(s.clone())))
                            .collect();
                        memo.insert(
                            leaf as *const Filter,
                            (by_id, leaf.leaf_matches(&Cell::Null)),
                        );
                    }
                }
            }
        }
        ColumnFilter {
            filter,
            table,
            memo,
        }
    }

    fn matches(&self, row: usize) -> bool {
        self.eval(self.filter, row)
    }

    fn eval(&self, filter: &Filter, row: usize) -> bool {
        match filter {
            Filter::And(a, b) => self.eval(a, row) && self.eval(b, row),
            Filter::Or(a, b) => self.eval(a, row) || self.eval(b, row),
            Filter::Not(a) => !self.eval(a, row),
            leaf => {
                let Some(column) = leaf.field().and_then(|i| self.table.column(i)) else {
                    return leaf.leaf_matches(&Cell::Null);
                };
                match (self.memo.get(&(leaf as *const Filter)), column) {
                    (Some((by_id, null)), tables::Column::Str { ids, .. }) => match ids.get(row) {
                        Some(&id) => by_id.get(id as usize).copied().unwrap_or(*null),
                        None => *null,
                    },
                    _ => leaf.leaf_matches(&column.cell(row)),
                }
            }
        }
    }
}

fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Bool => "boolean",
        FieldType::Int => "number",
        FieldType::Str => "string",
        FieldType::List => "list",
    }
}

fn literal_text(value: &Value) -> String {
    match value {
        Value::Str(s) | Value::Word(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
    }
}

/// The query's value in the field's type, or an error pointing at it.
fn literal(field: &Field, value: &Spanned<Value>) -> Result<Literal, QueryError> {
    let mismatch = || {
        QueryError::new(
            value.span,
            format!(
                "{} is a {}, not {}",
                field.name,
                type_name(field.ty),
                match &value.value {
                    Value::Str(s) => format!("the string \"{s}\""),
                    Value::Word(w) => format!("'{w}'"),
                    Value::Int(i) => format!("the number {i}"),
                    Value::Float(f) => format!("the number {f}"),
                    Value::Bool(b) => format!("{b}"),
                }
            ),
        )
    };
    Ok(match (field.ty, &value.value) {
        (FieldType::Int, Value::Int(i)) => Literal::Int(*i),
        (FieldType::Int, Value::Float(_)) => {
            return Err(mismatch().with_hint("the counts and metrics are whole numbers"))
        }
        (FieldType::Int, _) => return Err(mismatch()),
        (FieldType::Bool, Value::Bool(b)) => Literal::Bool(*b),
        (FieldType::Bool, _) => return Err(mismatch().with_hint("use true or false")),
        (FieldType::Str | FieldType::List, other) => Literal::Str(literal_text(other)),
    })
}

/// `cell OP literal`; a missing value satisfies only `!=`.
fn compare(cell: &Cell, op: Op, literal: &Literal) -> bool {
    let ordering = match (cell, literal) {
        (Cell::Null, _) => return op == Op::Ne,
        (Cell::List(items), Literal::Str(s)) => {
            let contains = items.iter().any(|item| item == s);
            return match op {
                Op::Eq => contains,
                Op::Ne => !contains,
                _ => false,
            };
        }
        (Cell::Int(a), Literal::Int(b)) => a.cmp(b),
        (Cell::Bool(a), Literal::Bool(b)) => a.cmp(b),
        (Cell::Str(a), Literal::Str(b)) => a.as_str().cmp(b.as_str()),
        _ => return op == Op::Ne,
    };
    match op {
        Op::Eq => ordering == Ordering::Equal,
        Op::Ne => ordering != Ordering::Equal,
        Op::Lt => ordering == Ordering::Less,
        Op::Le => ordering != Ordering::Greater,
        Op::Gt => ordering == Ordering::Greater,
        Op::Ge => ordering != Ordering::Less,
        Op::Match => false,
    }
}

/// The rows of a query's source; an entity's rows are filtered as they are made.
fn rows(
    source: &Source,
    data: &Data<'_>,
    deadline: &Deadline,
    needed: &[bool],
    filter: Option<&Filter>,
) -> Result<Table, QueryError> {
    let (kind, _) = kind_of(source)?;
    let fields = fields::of(kind).unwrap_or(&[]);
    let made = |rows: Vec<Vec<Cell>>| Table {
        kind,
        fields,
        rows,
        filtered: false,
    };
    if let Source::Entity(_) = source {
        return Ok(Table {
            kind,
            fields,
            rows: select_rows(data.table(kind)?, filter, needed, deadline)?,
            filtered: true,
        });
    }
    Ok(match source {
        Source::Callers { target, depth } => {
            made(callers(data, target, depth_of(depth), deadline)?)
        }
        Source::Callees { target, depth } => {
            made(callees(data, target, depth_of(depth), deadline)?)
        }
        Source::Dependents(module) => made(edges_where(data, "to", &module.value)?),
        Source::DependenciesOf(module) => made(edges_where(data, "from", &module.value)?),
        Source::Path { from, to } => made(path(data, from, to)?),
        Source::Cycles { label } => made(cycles(data, label.as_ref().map(|l| l.value.as_str()))?),
        Source::Pattern { inside, .. } => made(pattern_rows(
            data,
            inside
                .as_ref()
                .map(|expr| Filter::compile(expr, fields::FUNCTIONS, "functions"))
                .transpose()?
                .as_ref(),
            deadline,
        )?),
        Source::Entity(_) => made(Vec::new()),
    })
}

fn depth_of(depth: &Option<Spanned<u32>>) -> u32 {
    depth.as_ref().map_or(1, |d| d.value.clamp(1, 64))
}

/// `role` and `project` of a file.
fn place(file: &FileRecord) -> [Cell; 3] {
    [
        text(&file.path),
        text(name_of(&file.role)),
        opt(file.project.clone()),
    ]
}

fn doc_state(state: DocState) -> &'static str {
    match state {
        DocState::Present => "present",
        DocState::False => "false",
        DocState::Absent => "absent",
    }
}

fn targets(module: &Module, kind: DirectiveKind) -> Cell {
    Cell::List(
        module
            .directives
            .iter()
            .filter(|d| d.kind == kind)
            .map(|d| d.target.clone())
            .collect(),
    )
}

/// Each module's fan-in and fan-out, by name.
fn fans(repository: &Repository) -> HashMap<&str, (u32, u32)> {
    repository
        .graph()
        .modules
        .iter()
        .map(|m| (m.name.as_str(), (m.fan_in, m.fan_out)))
        .collect()
}

/// The callbacks the project's own behaviours declare: (behaviour, name, arity).
fn behaviour_callbacks(repository: &Repository) -> HashSet<(&str, &str, u32)> {
    repository
        .files()
        .iter()
        .flat_map(|f| &f.modules)
        .flat_map(|m| {
            m.callbacks
                .iter()
                .map(move |c| (m.name.as_str(), c.name.as_str(), c.arity))
        })
        .collect()
}

fn modules(
    repository: &Repository,
    range: Range<usize>,
    graph: &HashMap<&str, (u32, u32)>,
    sink: &mut TableBuilder,
) {
    for file in &repository.files()[range] {
        for module in &file.modules {
            let kinds: Vec<String> = module.kinds.iter().map(name_of).collect();
            let metrics = module.metrics.as_ref();
            let public = module
                .functions
                .iter()
                .filter(|f| is_public(f.kind))
                .count();
            let (fan_in, fan_out) = graph.get(module.name.as_str()).copied().unwrap_or((0, 0));
            sink.push_row(vec![
                text(&module.id),
                text(&module.name),
                text(name_of(&module.definition)),
                Cell::List(kinds.clone()),
                Cell::List(kinds.clone()),
                opt(module.implements.as_ref().map(|i| i.protocol.clone())),
                opt(module.implements.as_ref().map(|i| i.for_type.clone())),
                opt(module.parent.clone()),
                int(module.line),
                int(module.end_line),
                text(doc_state(module.moduledoc)),
                Cell::Bool(module.moduledoc != DocState::Absent),
                Cell::List(module.derives.clone()),
                Cell::List(module.struct_fields.clone().unwrap_or_default()),
                targets(module, DirectiveKind::Behaviour),
                targets(module, DirectiveKind::Use),
                targets(module, DirectiveKind::Import),
                targets(module, DirectiveKind::Alias),
                int(i64::try_from(module.functions.len()).unwrap_or(i64::MAX)),
                int(i64::try_from(public).unwrap_or(i64::MAX)),
                int(i64::try_from(module.functions.len() - public).unwrap_or(i64::MAX)),
                opt_int(metrics.map(|m| m.lines)),
                opt_int(metrics.map(|m| m.cyclomatic_sum)),
                opt_int(metrics.map(|m| m.cyclomatic_max)),
                int(fan_in),
                int(fan_out),
                text(&file.path),
                role_of(file),
                opt(file.project.clone()),
            ]);
        }
    }
}

fn is_public(kind: FunctionKind) -> bool {
    !matches!(
        kind,
        FunctionKind::Defp | FunctionKind::Defmacrop | FunctionKind::Defguardp
    )
}

/// Callbacks a module of each kind implements for its framework, by name and arity: called by
/// the framework, never by the project.
fn framework_callback(kinds: &[ModuleKind], name: &str, arity: u32) -> bool {
    use ModuleKind::*;
    kinds.iter().any(|kind| {
        let callbacks: &[(&str, u32)] = match kind {
            Genserver => &[
                ("init", 1),
                ("handle_call", 3),
                ("handle_cast", 2),
                ("handle_info", 2),
                ("handle_continue", 2),
                ("terminate", 2),
                ("code_change", 3),
                ("format_status", 1),
                ("format_status", 2),
                ("start_link", 0),
                ("start_link", 1),
                ("child_spec", 1),
            ],
            Supervisor | DynamicSupervisor => &[
                ("init", 1),
                ("start_link", 0),
                ("start_link", 1),
                ("child_spec", 1),
            ],
            Agent | Task => &[("start_link", 0), ("start_link", 1), ("child_spec", 1)],
            Application => &[
                ("start", 2),
                ("stop", 1),
                ("prep_stop", 1),
                ("config_change", 3),
            ],
            PhoenixLiveView => &[
                ("mount", 3),
                ("render", 1),
                ("handle_params", 3),
                ("handle_event", 3),
                ("handle_info", 2),
                ("handle_call", 3),
                ("handle_cast", 2),
                ("handle_async", 3),
                ("terminate", 2),
            ],
            PhoenixLiveComponent => &[
                ("mount", 1),
                ("update", 2),
                ("update_many", 1),
                ("render", 1),
                ("handle_event", 3),
                ("handle_async", 3),
            ],
            PhoenixChannel => &[
                ("join", 3),
                ("handle_in", 3),
                ("handle_info", 2),
                ("handle_out", 3),
                ("terminate", 2),
            ],
            PhoenixSocket => &[("connect", 2), ("connect", 3), ("id", 1)],
            Plug => &[("init", 1), ("call", 2)],
            MixTask => &[("run", 1)],
            EctoMigration => &[("change", 0), ("up", 0), ("down", 0)],
            Exception => &[("message", 1), ("exception", 1), ("blame", 2)],
            EctoRepo => &[("init", 2)],
            _ => &[],
        };
        callbacks.contains(&(name, arity))
    })
}

/// Called from outside the project's code (see the `entry_point` field).
fn entry_point(
    file: &FileRecord,
    module: &Module,
    function: &Function,
    callbacks: &HashSet<(&str, &str, u32)>,
) -> bool {
    if !is_public(function.kind) {
        return false;
    }
    // Mix calls a project's `project/0`, `application/0`, `deps/0`... by name.
    if file.role == crate::model::FileRole::MixProject {
        return true;
    }
    let kinds = &module.kinds;
    function.impl_attribute
        || function.name == "__using__"
        || (function.name == "main" && function.arity == 1)
        || framework_callback(kinds, &function.name, function.arity)
        // A controller's actions and a component's function components are called by the
        // router and the templates.
        || (kinds.contains(&ModuleKind::PhoenixController) && function.arity == 2)
        || (kinds.iter().any(|k| matches!(k, ModuleKind::PhoenixComponent | ModuleKind::PhoenixLiveView | ModuleKind::PhoenixLiveComponent))
            && function.arity == 1)
        || kinds.contains(&ModuleKind::Impl)
        || module
            .directives
            .iter()
            .filter(|d| d.kind == DirectiveKind::Behaviour)
            .any(|d| callbacks.contains(&(d.target.as_str(), function.name.as_str(), function.arity)))
}

fn signature(module: &str, name: &str, arity: u32) -> String {
    format!("{module}.{name}/{arity}")
}

/// Resolved call sites by callee, counted once per query (what `callers` of every function
/// reads), with the smallest arity each `Module.name/arity` accepts: the same answer as
/// `Repository::callers`, without a lookup per function.
struct CallerCounts<'r> {
    /// (module, name) → call sites by arity.
    sites: HashMap<(&'r str, &'r str), BTreeMap<u32, u64>>,
    /// (module, name, arity) → the smallest min_arity among its definitions.
    min_arity: HashMap<(&'r str, &'r str, u32), u32>,
}

impl<'r> CallerCounts<'r> {
    fn of(repository: &'r Repository) -> CallerCounts<'r> {
        let mut counts = CallerCounts {
            sites: HashMap::new(),
            min_arity: HashMap::new(),
        };
        let mut add = |calls: &'r [Call]| {
            for call in calls.iter().filter(|c| !c.quoted) {
                if let (Some(module), Some(name), Some(arity)) =
                    (call.module, call.name, call.arity)
                {
                    *counts
                        .sites
                        .entry((module.as_str(), name.as_str()))
                        .or_default()
                        .entry(arity)
                        .or_default() += 1;
                }
            }
        };
        for file in repository.files() {
            add(&file.calls);
            for module in &file.modules {
                add(&module.calls);
                for function in &module.functions {
                    for clause in &function.clauses {
                        add(&clause.calls);
                    }
                }
                for definition in &module.dynamic_definitions {
                    add(&definition.calls);
                }
            }
        }
        for module in repository.files().iter().flat_map(|f| &f.modules) {
            for function in &module.functions {
                let entry = counts
                    .min_arity
                    .entry((module.name.as_str(), function.name.as_str(), function.arity))
                    .or_insert(function.min_arity);
                *entry = (*entry).min(function.min_arity);
            }
        }
        counts
    }

    fn callers(&self, module: &str, name: &str, arity: u32) -> i64 {
        let low = self
            .min_arity
            .get(&(module, name, arity))
            .copied()
            .unwrap_or(arity);
        let total: u64 = self
            .sites
            .get(&(module, name))
            .map(|by_arity| by_arity.range(low..=arity).map(|(_, n)| n).sum())
            .unwrap_or(0);
        i64::try_from(total).unwrap_or(i64::MAX)
    }
}

fn functions(
    repository: &Repository,
    range: Range<usize>,
    counts: &CallerCounts<'_>,
    callbacks: &HashSet<(&str, &str, u32)>,
    sink: &mut TableBuilder,
) {
    for file in &repository.files()[range] {
        for module in &file.modules {
            for function in &module.functions {
                let metrics = function.metrics.as_ref();
                sink.push_row(vec![
                    text(&function.id),
                    text(&module.name),
                    text(&function.name),
                    text(function.kind.keyword()),
                    int(function.arity),
                    int(function.min_arity),
                    text(signature(&module.name, &function.name, function.arity)),
                    int(function.line),
                    int(function.end_line),
                    text(doc_state(function.doc)),
                    Cell::Bool(function.spec),
                    Cell::Bool(function.impl_attribute),
                    opt(function.delegate.as_ref().map(|d| d.to.clone())),
                    int(i64::try_from(function.clauses.len()).unwrap_or(i64::MAX)),
                    opt_int(metrics.and_then(|m| m.cyclomatic)),
                    opt_int(metrics.and_then(|m| m.cyclomatic)),
                    opt_int(metrics.and_then(|m| m.perceived)),
                    opt_int(metrics.map(|m| m.nesting)),
                    opt_int(metrics.and_then(|m| m.abc)),
                    opt_int(metrics.map(|m| m.lines)),
                    int(counts.callers(&module.name, &function.name, function.arity)),
                    Cell::Bool(entry_point(file, module, function, callbacks)),
                    Cell::Bool(is_public(function.kind)),
                    text(&file.path),
                    role_of(file),
                    opt(file.project.clone()),
                ]);
            }
        }
    }
}

fn clauses(repository: &Repository, range: Range<usize>, sink: &mut TableBuilder) {
    for file in &repository.files()[range] {
        for module in &file.modules {
            for function in &module.functions {
                for (index, clause) in function.clauses.iter().enumerate() {
                    let metrics = clause.metrics.as_ref();
                    sink.push_row(vec![
                        text(&clause.id),
                        text(&module.name),
                        text(format!("{}/{}", function.name, function.arity)),
                        text(&function.name),
                        int(function.arity),
                        text(function.kind.keyword()),
                        int(i64::try_from(index + 1).unwrap_or(i64::MAX)),
                        int(clause.line),
                        int(clause.end_line),
                        opt(clause.guard.clone()),
                        Cell::Bool(clause.head),
                        opt_int(metrics.and_then(|m| m.cyclomatic)),
                        opt_int(metrics.and_then(|m| m.cyclomatic)),
                        opt_int(metrics.and_then(|m| m.perceived)),
                        opt_int(metrics.map(|m| m.nesting)),
                        opt_int(metrics.and_then(|m| m.abc.as_ref().map(|a| a.size))),
                        opt_int(metrics.map(|m| m.lines)),
                        int(i64::try_from(clause.calls.len()).unwrap_or(i64::MAX)),
                        text(&file.path),
                        role_of(file),
                        opt(file.project.clone()),
                    ]);
                }
            }
        }
    }
}

fn callee_text(call: &Call) -> Option<String> {
    let name = call.name?;
    Some(match (call.module, call.arity) {
        (Some(module), Some(arity)) => format!("{module}.{name}/{arity}"),
        (Some(module), None) => format!("{module}.{name}"),
        (None, Some(arity)) => format!("{name}/{arity}"),
        (None, None) => name.to_string(),
    })
}

fn call_row(
    file: &FileRecord,
    module: Option<&Module>,
    function: Option<&Function>,
    call: &Call,
) -> Vec<Cell> {
    vec![
        opt(module.map(|m| m.name.clone())),
        opt(function.map(|f| format!("{}/{}", f.name, f.arity))),
        opt(function.map(|f| f.id.clone())),
        opt(callee_text(call)),
        opt(call.module.map(|m| m.to_string())),
        opt(call.name.map(|n| n.to_string())),
        opt_int(call.arity),
        text(name_of(&call.target)),
        text(name_of(&call.form)),
        Cell::Bool(call.is_macro),
        Cell::Bool(call.imported),
        Cell::Bool(call.piped),
        Cell::Bool(call.quoted),
        Cell::Bool(call.runtime),
        Cell::Bool(call.undefined),
        Cell::List(
            call.imports
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .map(|(m, _)| m.to_string())
                .collect(),
        ),
        int(call.line),
        int(call.column),
        text(&file.path),
        role_of(file),
        opt(file.project.clone()),
    ]
}

fn calls(repository: &Repository, range: Range<usize>, sink: &mut TableBuilder) {
    for file in &repository.files()[range] {
        for call in &file.calls {
            sink.push_row(call_row(file, None, None, call));
        }
        for module in &file.modules {
            for call in &module.calls {
                sink.push_row(call_row(file, Some(module), None, call));
            }
            for function in &module.functions {
                for call in function.clauses.iter().flat_map(|c| &c.calls) {
                    sink.push_row(call_row(file, Some(module), Some(function), call));
                }
            }
            for call in module.dynamic_definitions.iter().flat_map(|d| &d.calls) {
                sink.push_row(call_row(file, Some(module), None, call));
            }
        }
    }
}

fn references(repository: &Repository, range: Range<usize>, sink: &mut TableBuilder) {
    for file in &repository.files()[range] {
        for module in &file.modules {
            let lists = std::iter::once((None, &module.references))
                .chain(
                    module
                        .functions
                        .iter()
                        .flat_map(|f| f.clauses.iter().map(move |c| (Some(f), &c.references))),
                )
                .chain(
                    module
                        .dynamic_definitions
                        .iter()
                        .map(|d| (None, &d.references)),
                );
            for (function, references) in lists {
                for reference in references {
                    sink.push_row(vec![
                        text(&module.name),
                        opt(function.map(|f| format!("{}/{}", f.name, f.arity))),
                        text(reference.module.to_string()),
                        text(name_of(&reference.kind)),
                        Cell::Bool(reference.runtime),
                        int(reference.line),
                        int(reference.column),
                        text(&file.path),
                        role_of(file),
                        opt(file.project.clone()),
                    ]);
                }
            }
        }
    }
}

fn edge_row(repository: &Repository, edge: &crate::model::Edge) -> Vec<Cell> {
    let mut row = Vec::new();
    row.extend([
        text(&edge.from),
        text(&edge.to),
        text(name_of(&edge.label)),
        text(name_of(&edge.reason)),
        opt(edge.via.clone()),
        int(edge.line),
    ]);
    match repository.file(&edge.path) {
        Some(file) => row.extend(place(file)),
        None => row.extend([text(&edge.path), Cell::Null, Cell::Null]),
    }
    row
}

fn files(repository: &Repository, range: Range<usize>, sink: &mut TableBuilder) {
    for file in &repository.files()[range] {
        sink.push_row(vec![
            text(&file.path),
            text(name_of(&file.status)),
            opt(file.reason.as_ref().map(name_of)),
            opt(file.message.clone()),
            int(i64::try_from(file.bytes).unwrap_or(i64::MAX)),
            int(file.lines),
            opt(file.hash.clone()),
            int(i64::try_from(file.modules.len()).unwrap_or(i64::MAX)),
            int(i64::try_from(file.errors.len()).unwrap_or(i64::MAX)),
            text(&file.path),
            role_of(file),
            opt(file.project.clone()),
        ]);
    }
}

fn finding_row(repository: &Repository, file: &FileRecord, finding: &Finding) -> Vec<Cell> {
    vec![
        text(&finding.rule),
        text(finding.category.as_str()),
        text(finding.severity.as_str()),
        text(&finding.message),
        opt(finding.module.clone()),
        opt(finding.function.clone()),
        int(finding.line),
        int(finding.column),
        int(finding.end_line),
        int(finding.end_column),
        text(&finding.fingerprint),
        text(&file.path),
        role_of(file),
        opt(
            crate::project::mix::nearest(repository.projects(), &file.path).map(|p| p.path.clone()),
        ),
    ]
}

/// Every finding of the repository with its file: the `findings` table's input.
pub(crate) fn findings_of(repository: &Repository) -> Vec<(&FileRecord, &Finding)> {
    repository
        .files()
        .iter()
        .flat_map(|file| {
            file.analysis
                .iter()
                .flat_map(move |a| a.findings.iter().map(move |f| (file, f)))
        })
        .collect()
}

/// Every table of `entities` (entity names, and `cycles` for the report's cycles), built from
/// a repository and, for `findings`, the analysis' findings.
pub(crate) fn build(
    repository: &Repository,
    findings: &[(&FileRecord, &Finding)],
    entities: &[&str],
) -> Tables {
    // One entity at a time, each finished before the next starts: the peak memory is the
    // tables built plus one entity's pieces, not every entity's twice.
    let mut tables = Tables::default();
    build_parts(
        repository,
        findings,
        entities,
        &mut |entity, builder, last| {
            if last {
                let table = std::mem::replace(builder, TableBuilder::new(&[])).finish();
                tables.insert(entity, table);
            }
        },
    );
    tables
}

/// Builds the tables of `entities` one at a time, each a window of pieces (chunks of files
/// built in parallel) after another, appended in order. After each window `sink` gets the
/// entity's builder (to [`drain`](TableBuilder::drain) what it holds, or leave it to grow),
/// and whether that was the entity's last window.
pub(crate) fn build_parts(
    repository: &Repository,
    findings: &[(&FileRecord, &Finding)],
    entities: &[&str],
    sink: &mut dyn FnMut(&str, &mut TableBuilder, bool),
) {
    use rayon::prelude::*;
    // What every chunk reads of the whole repository, made once.
    let counts = entities
        .contains(&"functions")
        .then(|| CallerCounts::of(repository));
    let callbacks = entities
        .contains(&"functions")
        .then(|| behaviour_callbacks(repository));
    let fans = entities.contains(&"modules").then(|| fans(repository));
    // Per-file entities are built in chunks of files, in parallel, then appended in order.
    let total = repository.files().len();
    let size = (total / 32).max(64);
    let chunks: Vec<Range<usize>> = (0..total.div_ceil(size).max(1))
        .map(|i| i * size..((i + 1) * size).min(total))
        .collect();
    let per_file = [
        "modules",
        "functions",
        "clauses",
        "calls",
        "references",
        "files",
    ];
    for &entity in entities {
        let Some(catalog) = fields::of(entity) else {
            continue;
        };
        // The whole-repository entities are one piece.
        let ranges: Vec<Range<usize>> = if per_file.contains(&entity) {
            chunks.clone()
        } else {
            std::iter::once(0..total).collect()
        };
        let piece = |range: Range<usize>| -> Option<tables::Table> {
            let mut out = TableBuilder::new(catalog);
            match entity {
                "modules" => modules(repository, range, fans.as_ref()?, &mut out),
                "functions" => functions(
                    repository,
                    range,
                    counts.as_ref()?,
                    callbacks.as_ref()?,
                    &mut out,
                ),
                "clauses" => clauses(repository, range, &mut out),
                "calls" => calls(repository, range, &mut out),
                "references" => references(repository, range, &mut out),
                "files" => files(repository, range, &mut out),
                "dependencies" => {
                    for edge in &repository.graph().edges {
                        out.push_row(edge_row(repository, edge));
                    }
                }
                "cycles" => {
                    for row in report_cycles(repository) {
                        out.push_row(row);
                    }
                }
                "findings" => {
                    for (file, finding) in findings {
                        out.push_row(finding_row(repository, file, finding));
                    }
                }
                _ => return None,
            }
            Some(out.finish())
        };
        // A few pieces at a time, each appended (in order) and dropped before the next are
        // built: the peak is the builder and a window of pieces, not every piece.
        let window = rayon::current_num_threads();
        let mut merged = TableBuilder::new(catalog);
        let groups: Vec<&[Range<usize>]> = ranges.chunks(window).collect();
        for (n, group) in groups.iter().enumerate() {
            let pieces: Vec<Option<tables::Table>> = group.par_iter().cloned().map(piece).collect();
            for piece in pieces.into_iter().flatten() {
                merged.append(piece);
            }
            sink(entity, &mut merged, n + 1 == groups.len());
        }
    }
}

/// The entities the index keeps per run scope (`findings` apart: they come from the analysis).
pub(crate) const STORED: &[&str] = &[
    "modules",
    "functions",
    "clauses",
    "calls",
    "references",
    "dependencies",
    "files",
    "cycles",
];

/// One table with its fields, read by field name.
struct View<'t> {
    table: &'t tables::Table,
    /// Each field's column, by name: the graph questions read a few fields of every row.
    positions: HashMap<&'static str, usize>,
    /// Every field, for whole rows.
    all: Vec<bool>,
}

impl<'t> View<'t> {
    fn of(data: &Data<'t>, entity: &str) -> Result<View<'t>, QueryError> {
        let fields = fields::of(entity).unwrap_or(&[]);
        Ok(View {
            table: data.table(entity)?,
            positions: fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name, i))
                .collect(),
            all: vec![true; fields.len()],
        })
    }

    fn len(&self) -> usize {
        self.table.len
    }

    fn column(&self, name: &str) -> Option<&'t tables::Column> {
        let table: &'t tables::Table = self.table;
        self.positions.get(name).and_then(|&i| table.column(i))
    }

    fn str(&self, row: usize, name: &str) -> Option<&'t str> {
        self.column(name)?.str(row)
    }

    fn int(&self, row: usize, name: &str) -> Option<i64> {
        self.column(name)?.int(row)
    }

    fn bool(&self, row: usize, name: &str) -> Option<bool> {
        self.column(name)?.bool(row)
    }

    fn cell(&self, row: usize, name: &str) -> Cell {
        self.column(name).map_or(Cell::Null, |c| c.cell(row))
    }

    /// Every field of `row`.
    fn whole(&self, row: usize) -> Vec<Cell> {
        self.table.row(row, &self.all)
    }
}

/// What the graph questions read of the `functions` table: (module, name, arity) → the
/// smallest min_arity and the first id; (module, name) → the arities defined.
struct FunctionIndex<'t> {
    by_function: HashMap<(&'t str, &'t str, u32), (u32, &'t str)>,
    arities: HashMap<(&'t str, &'t str), Vec<u32>>,
}

impl<'t> FunctionIndex<'t> {
    fn of(functions: &View<'t>) -> FunctionIndex<'t> {
        let mut index = FunctionIndex {
            by_function: HashMap::new(),
            arities: HashMap::new(),
        };
        for row in 0..functions.len() {
            let (Some(module), Some(name), Some(arity)) = (
                functions.str(row, "module"),
                functions.str(row, "name"),
                functions.int(row, "arity"),
            ) else {
                continue;
            };
            let arity = u32::try_from(arity).unwrap_or(0);
            let min = functions
                .int(row, "min_arity")
                .and_then(|m| u32::try_from(m).ok())
                .unwrap_or(arity);
            let id = functions.str(row, "id").unwrap_or("");
            let entry = index
                .by_function
                .entry((module, name, arity))
                .or_insert((min, id));
            entry.0 = entry.0.min(min);
            index.arities.entry((module, name)).or_default().push(arity);
        }
        index
    }

    fn id(&self, module: &str, name: &str, arity: u32) -> Option<String> {
        self.by_function
            .get(&(module, name, arity))
            .map(|(_, id)| id.to_string())
    }
}

/// Call sites outside `quote`s by callee (module, name), in table order.
fn sites_by_callee<'t>(calls: &View<'t>) -> HashMap<(&'t str, &'t str), Vec<usize>> {
    let mut sites: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for row in 0..calls.len() {
        if calls.bool(row, "quoted") == Some(true) || calls.int(row, "arity").is_none() {
            continue;
        }
        if let (Some(module), Some(name)) =
            (calls.str(row, "callee_module"), calls.str(row, "name"))
        {
            sites.entry((module, name)).or_default().push(row);
        }
    }
    sites
}

/// The functions a target names: one arity, or every arity defined (or called) when absent.
fn target_arities(
    functions: &FunctionIndex<'_>,
    calls: &View<'_>,
    sites: &HashMap<(&str, &str), Vec<usize>>,
    target: &FunctionTarget,
) -> Vec<u32> {
    if let Some(arity) = target.arity {
        return vec![arity];
    }
    let key = (target.module.as_str(), target.name.as_str());
    let mut arities = functions.arities.get(&key).cloned().unwrap_or_default();
    if arities.is_empty() {
        // Not the project's: every arity it is called with.
        arities = sites
            .get(&key)
            .into_iter()
            .flatten()
            .filter_map(|&row| calls.int(row, "arity"))
            .filter_map(|a| u32::try_from(a).ok())
            .collect();
    }
    arities.sort_unstable();
    arities.dedup();
    arities
}

/// A `callers`/`callees` row from a row of the `calls` table.
fn call_edge_row(depth: u32, calls: &View<'_>, row: usize, callee_id: Option<String>) -> Vec<Cell> {
    let module = calls.str(row, "module");
    let function = calls.str(row, "function");
    vec![
        int(depth),
        opt(module),
        opt(module.zip(function).map(|(m, f)| format!("{m}.{f}"))),
        calls.cell(row, "caller_id"),
        calls.cell(row, "callee_module"),
        calls.cell(row, "callee"),
        opt(callee_id),
        calls.cell(row, "target"),
        calls.cell(row, "line"),
        calls.cell(row, "column"),
        calls.cell(row, "file"),
        calls.cell(row, "role"),
        calls.cell(row, "project"),
    ]
}

/// `name/arity` split.
fn name_arity(function: &str) -> Option<(&str, u32)> {
    let (name, arity) = function.rsplit_once('/')?;
    Some((name, arity.parse().ok()?))
}

/// `callers of M.f/a depth N`: breadth first, each caller function visited once. For a
/// project function with default arguments, calls that omit them count too.
fn callers(
    data: &Data<'_>,
    target: &Spanned<FunctionTarget>,
    depth: u32,
    deadline: &Deadline,
) -> Result<Vec<Vec<Cell>>, QueryError> {
    let calls = View::of(data, "calls")?;
    let functions = FunctionIndex::of(&View::of(data, "functions")?);
    let sites = sites_by_callee(&calls);
    let mut rows = Vec::new();
    let mut seen: HashSet<(String, String, u32)> = HashSet::new();
    let mut frontier: VecDeque<(String, String, u32, u32)> =
        target_arities(&functions, &calls, &sites, &target.value)
            .into_iter()
            .map(|a| (target.value.module.clone(), target.value.name.clone(), a, 1))
            .collect();
    while let Some((module, name, arity, level)) = frontier.pop_front() {
        if deadline.expired() {
            return Err(timed_out());
        }
        if !seen.insert((module.clone(), name.clone(), arity)) {
            continue;
        }
        let key = (module.as_str(), name.as_str(), arity);
        let low = functions
            .by_function
            .get(&key)
            .map_or(arity, |(min, _)| *min);
        let callee_id = functions.id(&module, &name, arity);
        for &row in sites
            .get(&(module.as_str(), name.as_str()))
            .into_iter()
            .flatten()
        {
            let called = calls
                .int(row, "arity")
                .and_then(|a| u32::try_from(a).ok())
                .unwrap_or(u32::MAX);
            if called < low || called > arity {
                continue;
            }
            rows.push(call_edge_row(level, &calls, row, callee_id.clone()));
            if level < depth {
                let caller = calls
                    .str(row, "module")
                    .zip(calls.str(row, "function").and_then(name_arity));
                if let Some((m, (f, a))) = caller {
                    frontier.push_back((m.to_string(), f.to_string(), a, level + 1));
                }
            }
        }
    }
    Ok(rows)
}

/// `callees of M.f/a depth N`: the calls its clauses make, then those of the project
/// functions they call.
fn callees(
    data: &Data<'_>,
    target: &Spanned<FunctionTarget>,
    depth: u32,
    deadline: &Deadline,
) -> Result<Vec<Vec<Cell>>, QueryError> {
    let calls = View::of(data, "calls")?;
    let functions = FunctionIndex::of(&View::of(data, "functions")?);
    let sites = sites_by_callee(&calls);
    // (module, name/arity) of the function holding each clause call.
    let mut by_caller: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for row in 0..calls.len() {
        if calls.bool(row, "quoted") == Some(true) {
            continue;
        }
        if let (Some(module), Some(function)) =
            (calls.str(row, "module"), calls.str(row, "function"))
        {
            by_caller.entry((module, function)).or_default().push(row);
        }
    }
    let mut rows = Vec::new();
    let mut seen: HashSet<(String, String, u32)> = HashSet::new();
    let mut frontier: VecDeque<(String, String, u32, u32)> =
        target_arities(&functions, &calls, &sites, &target.value)
            .into_iter()
            .map(|a| (target.value.module.clone(), target.value.name.clone(), a, 1))
            .collect();
    while let Some((module, name, arity, level)) = frontier.pop_front() {
        if deadline.expired() {
            return Err(timed_out());
        }
        if !seen.insert((module.clone(), name.clone(), arity)) {
            continue;
        }
        let function = format!("{name}/{arity}");
        for &row in by_caller
            .get(&(module.as_str(), function.as_str()))
            .into_iter()
            .flatten()
        {
            let callee = (
                calls.str(row, "callee_module"),
                calls.str(row, "name"),
                calls.int(row, "arity").and_then(|a| u32::try_from(a).ok()),
            );
            let (Some(callee_module), Some(callee_name), Some(callee_arity)) = callee else {
                rows.push(call_edge_row(level, &calls, row, None));
                continue;
            };
            let project = matches!(calls.str(row, "target"), Some("local" | "project"));
            let callee_id = project
                .then(|| functions.id(callee_module, callee_name, callee_arity))
                .flatten();
            rows.push(call_edge_row(level, &calls, row, callee_id));
            if project && level < depth {
                frontier.push_back((
                    callee_module.to_string(),
                    callee_name.to_string(),
                    callee_arity,
                    level + 1,
                ));
            }
        }
    }
    Ok(rows)
}

/// `dependents of M` (`to` = M) and `dependencies of M` (`from` = M): the edges, whole.
fn edges_where(data: &Data<'_>, end: &str, module: &str) -> Result<Vec<Vec<Cell>>, QueryError> {
    let edges = View::of(data, "dependencies")?;
    Ok((0..edges.len())
        .filter(|&row| edges.str(row, end) == Some(module))
        .map(|row| edges.whole(row))
        .collect())
}

/// The project's module names (the `modules` table).
fn module_names<'t>(data: &Data<'t>) -> Result<BTreeSet<&'t str>, QueryError> {
    let modules = View::of(data, "modules")?;
    Ok((0..modules.len())
        .filter_map(|row| modules.str(row, "name"))
        .collect())
}

/// `path from A to B`: a shortest chain of dependencies (breadth first over the graph, edges
/// in name order, so the answer is deterministic).
fn path(
    data: &Data<'_>,
    from: &Spanned<String>,
    to: &Spanned<String>,
) -> Result<Vec<Vec<Cell>>, QueryError> {
    let names = module_names(data)?;
    for module in [from, to] {
        if !names.contains(module.value.as_str()) {
            let mut error = QueryError::new(
                module.span,
                format!("no module '{}' in the project", module.value),
            );
            if let Some(close) = closest(&module.value, names.iter().copied()) {
                error = error.with_hint(format!("did you mean '{close}'?"));
            }
            return Err(error);
        }
    }
    let edges = View::of(data, "dependencies")?;
    let mut outgoing: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for row in 0..edges.len() {
        if let Some(start) = edges.str(row, "from") {
            outgoing.entry(start).or_default().push(row);
        }
    }
    let mut came_from: HashMap<&str, usize> = HashMap::new();
    let mut queue = VecDeque::from([from.value.as_str()]);
    let mut visited: HashSet<&str> = HashSet::from([from.value.as_str()]);
    while let Some(module) = queue.pop_front() {
        if module == to.value {
            break;
        }
        for &row in outgoing.get(module).map_or(&[][..], Vec::as_slice) {
            let Some(next) = edges.str(row, "to") else {
                continue;
            };
            if visited.insert(next) {
                came_from.insert(next, row);
                queue.push_back(next);
            }
        }
    }
    let mut chain = Vec::new();
    let mut at = to.value.as_str();
    while at != from.value {
        let Some(&row) = came_from.get(at) else {
            return Ok(Vec::new());
        };
        chain.push(row);
        at = edges.str(row, "from").unwrap_or_default();
    }
    chain.reverse();
    Ok(chain
        .into_iter()
        .enumerate()
        .map(|(step, row)| {
            let mut cells = vec![int(i64::try_from(step + 1).unwrap_or(i64::MAX))];
            cells.extend(edges.whole(row));
            cells
        })
        .collect())
}

/// A `cycles` row.
fn cycle_row(modules: Vec<String>, compile_edges: Vec<String>) -> Vec<Cell> {
    vec![
        Cell::Int(i64::try_from(modules.len()).unwrap_or(i64::MAX)),
        Cell::Bool(!compile_edges.is_empty()),
        Cell::List(compile_edges),
    ]
    .into_iter()
    .fold(vec![Cell::List(modules)], |mut row, cell| {
        row.push(cell);
        row
    })
}

/// The report's cycles, as rows (the stored `cycles` table).
fn report_cycles(repository: &Repository) -> Vec<Vec<Cell>> {
    repository
        .graph()
        .cycles
        .iter()
        .map(|cycle| {
            cycle_row(
                cycle.modules.clone(),
                cycle
                    .compile_edges
                    .iter()
                    .map(|e| format!("{} -> {}", e.from, e.to))
                    .collect(),
            )
        })
        .collect()
}

/// `cycles [label L]`: the report's cycles, or with a label the strongly connected components
/// of the edges with that label alone.
fn cycles(data: &Data<'_>, label: Option<&str>) -> Result<Vec<Vec<Cell>>, QueryError> {
    let Some(label) = label else {
        let stored = View::of(data, "cycles")?;
        return Ok((0..stored.len()).map(|row| stored.whole(row)).collect());
    };
    let names: Vec<&str> = module_names(data)?.into_iter().collect();
    let position: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let edges = View::of(data, "dependencies")?;
    let ends = |row: usize| {
        edges
            .str(row, "from")
            .zip(edges.str(row, "to"))
            .zip(edges.str(row, "label"))
    };
    let mut adjacency = vec![Vec::new(); names.len()];
    for row in 0..edges.len() {
        if let Some(((a, b), l)) = ends(row) {
            if let (true, Some(&a), Some(&b)) = (l == label, position.get(a), position.get(b)) {
                adjacency[a].push(b);
            }
        }
    }
    let mut components: Vec<Vec<String>> = crate::graph::strongly_connected(&adjacency)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut modules: Vec<String> = c.into_iter().map(|i| names[i].to_string()).collect();
            modules.sort();
            modules
        })
        .collect();
    components.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    Ok(components
        .into_iter()
        .map(|modules| {
            let members: HashSet<&str> = modules.iter().map(String::as_str).collect();
            let compile_edges = (0..edges.len())
                .filter_map(ends)
                .filter(|((a, b), l)| *l == "compile" && members.contains(a) && members.contains(b))
                .map(|((a, b), _)| format!("{a} -> {b}"))
                .collect();
            cycle_row(modules, compile_edges)
        })
        .collect())
}

/// The rows of a pattern query; with `inside`, only the matches within the functions it
/// selects.
fn pattern_rows(
    data: &Data<'_>,
    inside: Option<&Filter>,
    deadline: &Deadline,
) -> Result<Vec<Vec<Cell>>, QueryError> {
    // (file, first line, last line) of the functions `inside` selects.
    let ranges: Option<Vec<(String, i64, i64)>> = match inside {
        Some(filter) => {
            let functions = data.table("functions")?;
            let position = |name: &str| fields::FUNCTIONS.iter().position(|f| f.name == name);
            let (Some(file), Some(line), Some(end)) =
                (position("file"), position("line"), position("end_line"))
            else {
                return Ok(Vec::new());
            };
            let mut needed = vec![false; fields::FUNCTIONS.len()];
            needed[file] = true;
            needed[line] = true;
            needed[end] = true;
            Some(
                select_rows(functions, Some(filter), &needed, deadline)?
                    .into_iter()
                    .filter_map(|row| match (&row[file], &row[line], &row[end]) {
                        (Cell::Str(f), Cell::Int(l), Cell::Int(e)) => Some((f.clone(), *l, *e)),
                        _ => None,
                    })
                    .collect(),
            )
        }
        None => None,
    };
    let files = View::of(data, "files")?;
    let place: HashMap<&str, usize> = (0..files.len())
        .filter_map(|row| Some((files.str(row, "file")?, row)))
        .collect();
    let mut rows = Vec::new();
    for found in data.matches {
        if let Some(ranges) = &ranges {
            let line = i64::from(found.found.line);
            if !ranges
                .iter()
                .any(|(f, l, e)| *f == found.path && *l <= line && line <= *e)
            {
                continue;
            }
        }
        let (role, project) = match place.get(found.path.as_str()) {
            Some(&row) => (files.cell(row, "role"), files.cell(row, "project")),
            None => (Cell::Null, Cell::Null),
        };
        let m = &found.found;
        rows.push(vec![
            opt(found.module.clone()),
            opt(found.function.clone()),
            int(m.line),
            int(m.column),
            int(m.end_line),
            int(m.end_column),
            text(&m.text),
            Cell::List(
                m.captures
                    .iter()
                    .map(|(name, captured)| format!("{name}={captured}"))
                    .collect(),
            ),
            text(&found.path),
            role,
            project,
        ]);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::cancel::CancelToken;
    use crate::project::tests::record_with_calls;

    /// The answer of `text` over the tables of `repository`.
    fn ask(repository: &Repository, text: &str) -> Answer {
        let query = crate::query::syntax::parse(text).unwrap();
        let tables = build(repository, &[], STORED);
        let data = Data {
            tables: &tables,
            matches: &[],
        };
        execute(&query, &data, &Deadline::never(CancelToken::new())).unwrap()
    }

    /// The named columns of every row, as text.
    fn columns(answer: &Answer, names: &[&str]) -> Vec<Vec<String>> {
        let positions: Vec<usize> = names
            .iter()
            .map(|name| answer.columns.iter().position(|c| c == name).unwrap())
            .collect();
        answer
            .rows
            .iter()
            .map(|row| positions.iter().map(|&i| row[i].text()).collect())
            .collect()
    }

    fn repository(files: &[(&str, &str)]) -> Repository {
        let files = files
            .iter()
            .map(|(path, source)| record_with_calls(path, source))
            .collect();
        Repository::build(files, Vec::new(), true, &CancelToken::new())
    }

    /// Modules and functions by name and signature, duplicates included.
    #[test]
    fn entities_by_name_and_signature() {
        let repository = repository(&[
            ("lib/a.ex", "defmodule A do\n  def f(x), do: x\nend\n"),
            (
                "lib/b.ex",
                "defmodule A do\n  def f(x), do: x\nend\ndefmodule B do\nend\n",
            ),
        ]);
        assert_eq!(ask(&repository, "modules where name = 'A'").rows.len(), 2);
        assert_eq!(ask(&repository, "modules where name = 'B'").rows.len(), 1);
        let f = |arity| format!("functions where module = 'A' and name = 'f' and arity = {arity}");
        assert_eq!(ask(&repository, &f(1)).rows.len(), 2);
        assert!(ask(&repository, &f(2)).rows.is_empty());
    }

    /// Callers count the calls that leave a default argument out (a local call, a script, an
    /// imported call); callees, dependencies, dependents and cycles come from the same
    /// tables.
    #[test]
    fn callers_callees_dependencies_dependents_and_cycles() {
        let repository = repository(&[
            (
                "lib/a.ex",
                "defmodule A do\n  def f(x, y \\\\ 1), do: B.g(x) + y\n  def h, do: f(1)\nend\n",
            ),
            (
                "lib/b.ex",
                "defmodule B do\n  import A\n  def g(x), do: f(x, 2)\n  def k, do: %C{}\nend\n\
                 defmodule C do\n  defstruct [:a]\nend\n",
            ),
            ("priv/seeds.exs", "A.f(1)\nB.g(2)\n"),
        ]);
        let callers = ask(&repository, "callers of A.f/2");
        assert_eq!(
            columns(&callers, &["file", "line"]),
            vec![
                vec!["lib/a.ex".to_string(), "3".into()],
                vec!["lib/b.ex".into(), "3".into()],
                vec!["priv/seeds.exs".into(), "1".into()],
            ]
        );
        assert!(ask(&repository, "callers of A.f/3").rows.is_empty());
        let callees = ask(&repository, "callees of A.f/2");
        assert_eq!(
            columns(&callees, &["callee"]),
            vec![vec!["B.g/1".to_string()]]
        );
        assert_eq!(
            columns(
                &ask(&repository, "dependencies of B"),
                &["from", "to", "label"]
            ),
            vec![
                vec!["B".to_string(), "A".into(), "export".into()],
                vec!["B".into(), "C".into(), "export".into()],
            ]
        );
        assert_eq!(
            columns(
                &ask(&repository, "dependents of B"),
                &["from", "to", "label"]
            ),
            vec![vec!["A".to_string(), "B".into(), "runtime".into()]]
        );
        assert!(ask(&repository, "dependents of Missing").rows.is_empty());
        let cycles = &repository.graph().cycles;
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].modules, vec!["A", "B"]);
        assert!(!cycles[0].compile_connected);
    }
}
