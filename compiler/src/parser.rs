//! The parser: tokens → [`ast::SourceFile`](crate::ast::SourceFile).
//!
//! The grammar (`grammar.lalrpop`) is compiled by lalrpop into a table-driven LR(1) parser,
//! which cannot overflow the Rust stack however the input nests; the logos lexer
//! ([`crate::lexer`]) feeds it tokens with byte positions.
//!
//! Errors never stop the parse early. lalrpop's error recovery (the `!` token) resumes at
//! the next statement inside a block and at the next item at top level, so one run reports
//! the syntax errors of every function. Each error becomes a [`Diagnostic`] worded for
//! people ("expected `;` or an operator, found `let`"), at the offending token.
//!
//! Expression trees are bounded too: each expression carries its depth while it is built
//! ([`E`]) and a tree deeper than [`MAX_EXPR_DEPTH`] is reported once and replaced by a leaf,
//! so later phases, which recurse over the tree, run in a small fixed stack.

use lalrpop_util::{ErrorRecovery, ParseError};

use crate::ast::{
    Arg, BinOp, Block, Expr, ExprKind, Ident, ImportDecl, SourceFile, Stmt, StmtKind, StrPart, UnOp,
};
use crate::diagnostics::{Diagnostic, Diagnostics, FileId, Span};
use crate::lexer::{self, StrLit, Tok};

lalrpop_util::lalrpop_mod!(
    #[allow(missing_docs, missing_debug_implementations, unused_qualifications)]
    #[allow(clippy::all, clippy::pedantic)]
    grammar
);

#[cfg(test)]
mod tests;

/// At most this many syntax errors are reported per file (hostile input could otherwise
/// produce one per byte).
pub const MAX_ERRORS_PER_FILE: usize = 100;

/// The deepest expression tree the parser builds (operators, calls, fields, literals).
pub const MAX_EXPR_DEPTH: u32 = 256;

/// The deepest statement tree the parser builds (blocks, loops, `else if` chains), counting
/// the expressions inside, so a function body is at most this many levels deep in all.
pub const MAX_STMT_DEPTH: u32 = 512;

/// Parses one file's text. Every problem is pushed to `diags` (sorted by position); the
/// returned tree holds whatever parsed, so later phases can report more errors.
pub fn parse_file(file: FileId, text: &str, diags: &mut Diagnostics) -> SourceFile {
    let mut out = Vec::new();
    // A byte-order mark is not part of the program.
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let items = match lexer::lex(file, text, start..text.len(), 0, &mut out) {
        Some(lexed) => {
            let mut st = State::new(file, text, &lexed);
            let result = grammar::SourceFileParser::new()
                .parse(&mut st, lexed.tokens.into_iter().map(Ok::<_, Diagnostic>));
            let items = match result {
                Ok(items) => items,
                Err(e) => {
                    st.error(e);
                    Vec::new()
                }
            };
            out.append(&mut st.diags);
            items
        }
        None => Vec::new(),
    };
    out.sort_by_key(|d| (d.span.start, d.span.end));
    if out.len() > MAX_ERRORS_PER_FILE {
        let hidden = out.len() - MAX_ERRORS_PER_FILE;
        let span = out[MAX_ERRORS_PER_FILE].span;
        out.truncate(MAX_ERRORS_PER_FILE);
        out.push(Diagnostic::error(
            format!("too many syntax errors in this file; {hidden} more not shown"),
            span,
        ));
    }
    diags.items.extend(out);
    SourceFile { file, items }
}

/// Parses the expression of an interpolation `${...}` at `range` of `text` (called by the
/// lexer). Returns the expression and its depth, or `None` after reporting an error.
pub(crate) fn parse_interpolation(
    file: FileId,
    text: &str,
    range: std::ops::Range<usize>,
    nest: u32,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Expr, u32)> {
    let end = range.end;
    let lexed = lexer::lex(file, text, range, nest, diags)?;
    let mut st = State::new(file, text, &lexed);
    st.eof = Some(end);
    let result = grammar::InterpolationParser::new()
        .parse(&mut st, lexed.tokens.into_iter().map(Ok::<_, Diagnostic>));
    let failed = st.failed || result.is_err();
    let value = match result {
        Ok(e) => Some((e.e, e.d)),
        Err(e) => {
            st.error(e);
            None
        }
    };
    diags.append(&mut st.diags);
    if failed { None } else { value }
}

/// An expression under construction: the node, its depth, and whether it is a bare
/// (unparenthesised) comparison, for the "comparisons cannot be chained" check.
#[derive(Debug)]
pub(crate) struct E {
    pub(crate) e: Expr,
    pub(crate) d: u32,
    cmp: Cmp,
}

/// Whether an expression is an unparenthesised comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    /// Not a comparison (or parenthesised).
    No,
    /// `a < b`
    Bare,
    /// `a < b < c`, already reported (a longer chain is not reported again).
    Chained,
}

impl E {
    /// `(e)`: the same node, no longer a bare comparison.
    pub(crate) fn parenthesized(mut self) -> E {
        self.cmp = Cmp::No;
        self
    }
}

/// The parser's side state, threaded through the grammar actions.
#[derive(Debug)]
pub(crate) struct State<'t> {
    file: FileId,
    text: &'t str,
    /// Token start and end offsets, to count how far apart two errors are.
    starts: Vec<usize>,
    ends: Vec<usize>,
    /// Offsets of characters the lexer dropped.
    dropped: Vec<usize>,
    /// Where "end of input" is, for an interpolation (its closing `}`).
    eof: Option<usize>,
    diags: Vec<Diagnostic>,
    /// The token index just past the last reported error, to suppress cascades.
    last_error: Option<usize>,
    /// Whether the too-deep diagnostic was already given.
    reported_depth: bool,
    /// Whether any error was recorded.
    failed: bool,
}

/// How many tokens must parse cleanly after an error before another one is reported.
const ERROR_GAP: usize = 2;

impl<'t> State<'t> {
    fn new(file: FileId, text: &'t str, lexed: &lexer::Lexed) -> State<'t> {
        State {
            file,
            text,
            starts: lexed.tokens.iter().map(|t| t.0).collect(),
            ends: lexed.tokens.iter().map(|t| t.2).collect(),
            dropped: lexed.dropped.clone(),
            eof: None,
            diags: Vec::new(),
            last_error: None,
            reported_depth: false,
            failed: false,
        }
    }

    pub(crate) fn span(&self, l: usize, r: usize) -> Span {
        Span::new(self.file, l, r.max(l))
    }

    /// Records an error lalrpop recovered from.
    pub(crate) fn recovered(&mut self, e: ErrorRecovery<usize, Tok, Diagnostic>) {
        let skipped = e.dropped_tokens.len();
        let at = self.error(e.error);
        if let Some(at) = at {
            self.last_error = Some(at + skipped);
        }
    }

    /// Turns a parse error into a diagnostic (unless it merely follows from the previous
    /// one); returns the index of the offending token.
    fn error(&mut self, e: ParseError<usize, Tok, Diagnostic>) -> Option<usize> {
        self.failed = true;
        let (start, end, found, expected) = match e {
            ParseError::User { error } => {
                self.diags.push(error);
                return None;
            }
            ParseError::InvalidToken { location } => (
                location,
                location,
                "an invalid token".to_string(),
                Vec::new(),
            ),
            ParseError::UnrecognizedEof { location, expected } => {
                let at = self.eof.unwrap_or(self.text.len());
                let found = if self.eof.is_some() {
                    "`}`".to_string()
                } else {
                    "end of file".to_string()
                };
                let _ = location;
                (at, at, found, expected)
            }
            ParseError::UnrecognizedToken {
                token: (l, tok, r),
                expected,
            } => {
                let text = self.text.get(l..r).unwrap_or("");
                (l, r, tok.describe(text), expected)
            }
            ParseError::ExtraToken { token: (l, tok, r) } => {
                let text = self.text.get(l..r).unwrap_or("");
                (l, r, tok.describe(text), Vec::new())
            }
        };
        let index = self.starts.partition_point(|&s| s < start);
        // A character dropped since the previous token explains this error already.
        let previous_end = index
            .checked_sub(1)
            .and_then(|i| self.ends.get(i))
            .copied()
            .unwrap_or(0);
        let first_dropped = self.dropped.partition_point(|&d| d < previous_end);
        let after_dropped = self.dropped.get(first_dropped).is_some_and(|&d| d <= start);
        let cascade = self.last_error.is_some_and(|last| index < last + ERROR_GAP);
        if after_dropped || (cascade && !self.diags.is_empty()) {
            self.last_error = Some(index);
            return Some(index);
        }
        self.last_error = Some(index);
        let message = match describe_expected(&expected) {
            Some(what) => format!("expected {what}, found {found}"),
            None => format!("unexpected {found}"),
        };
        let label = match describe_expected(&expected) {
            Some(what) => format!("expected {what}"),
            None => "unexpected token".to_string(),
        };
        self.diags.push(
            Diagnostic::error(message, Span::new(self.file, start, end.max(start)))
                .with_label(label),
        );
        Some(index)
    }

    /// Builds a statement whose parts have depth `child_depth`, or (after one diagnostic)
    /// an empty block when statements nest too deeply.
    pub(crate) fn stmt(
        &mut self,
        l: usize,
        r: usize,
        child_depth: u32,
        kind: StmtKind,
    ) -> (Stmt, u32) {
        let span = self.span(l, r);
        let d = child_depth + 1;
        if d > MAX_STMT_DEPTH {
            self.too_deep(
                span,
                "statements nested too deeply",
                MAX_STMT_DEPTH,
                "blocks or `else if` branches",
            );
            let empty = Block {
                stmts: Vec::new(),
                span,
            };
            return (
                Stmt {
                    kind: StmtKind::Block(empty),
                    span,
                },
                1,
            );
        }
        (Stmt { kind, span }, d)
    }

    /// `{ stmts }`, dropping the statements that failed to parse.
    pub(crate) fn block(
        &mut self,
        l: usize,
        r: usize,
        stmts: Vec<Option<(Stmt, u32)>>,
    ) -> (Block, u32) {
        let mut d = 0;
        let stmts = stmts
            .into_iter()
            .flatten()
            .map(|(s, sd)| {
                d = d.max(sd);
                s
            })
            .collect();
        (
            Block {
                stmts,
                span: self.span(l, r),
            },
            d + 1,
        )
    }

    /// Reports (once per file) that the tree would be too deep.
    fn too_deep(&mut self, span: Span, message: &str, limit: u32, what: &str) {
        self.failed = true;
        if !self.reported_depth {
            self.reported_depth = true;
            self.diags.push(
                Diagnostic::error(message, span)
                    .with_label(format!("more than {limit} levels of {what}")),
            );
        }
    }

    /// Builds a node whose children have depths `child_depth`, or a stand-in leaf (after
    /// one diagnostic) when the tree would be too deep.
    fn node(&mut self, l: usize, r: usize, kind: ExprKind, child_depth: u32) -> E {
        let span = self.span(l, r);
        let d = child_depth + 1;
        if d > MAX_EXPR_DEPTH {
            self.too_deep(
                span,
                "expression nested too deeply",
                MAX_EXPR_DEPTH,
                "operators, calls or literals",
            );
            return E {
                e: Expr {
                    kind: ExprKind::Int(0),
                    span,
                },
                d: 1,
                cmp: Cmp::No,
            };
        }
        E {
            e: Expr { kind, span },
            d,
            cmp: Cmp::No,
        }
    }

    pub(crate) fn leaf(&mut self, l: usize, r: usize, kind: ExprKind) -> E {
        self.node(l, r, kind, 0)
    }

    pub(crate) fn binary(&mut self, l: usize, r: usize, op: BinOp, a: E, b: E) -> E {
        let d = a.d.max(b.d);
        self.node(l, r, ExprKind::Binary(op, Box::new(a.e), Box::new(b.e)), d)
    }

    /// A comparison; a chain like `a < b < c` is reported (comparisons do not associate).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn compare(
        &mut self,
        l: usize,
        r: usize,
        ol: usize,
        or: usize,
        op: BinOp,
        a: E,
        b: E,
    ) -> E {
        let chained = a.cmp != Cmp::No;
        if a.cmp == Cmp::Bare {
            self.failed = true;
            self.diags.push(
                Diagnostic::error("comparison operators cannot be chained", self.span(ol, or))
                    .with_label("second comparison here")
                    .with_note(
                        "use `&&` to combine comparisons, e.g. `a < b && b < c`, or add \
                         parentheses",
                    ),
            );
        }
        let mut e = self.binary(l, r, op, a, b);
        e.cmp = if chained { Cmp::Chained } else { Cmp::Bare };
        e
    }

    pub(crate) fn unary(&mut self, l: usize, r: usize, op: UnOp, e: E) -> E {
        self.node(l, r, ExprKind::Unary(op, Box::new(e.e)), e.d)
    }

    pub(crate) fn call(
        &mut self,
        l: usize,
        r: usize,
        callee: E,
        args: Vec<(Option<Ident>, E)>,
    ) -> E {
        let d = args.iter().map(|a| a.1.d).fold(callee.d, u32::max);
        let args = args
            .into_iter()
            .map(|(name, value)| Arg {
                name,
                value: value.e,
            })
            .collect();
        self.node(
            l,
            r,
            ExprKind::Call {
                callee: Box::new(callee.e),
                args,
            },
            d,
        )
    }

    pub(crate) fn index(&mut self, l: usize, r: usize, base: E, index: E) -> E {
        let d = base.d.max(index.d);
        self.node(
            l,
            r,
            ExprKind::Index(Box::new(base.e), Box::new(index.e)),
            d,
        )
    }

    pub(crate) fn field(&mut self, l: usize, r: usize, base: E, name: Ident) -> E {
        self.node(l, r, ExprKind::Field(Box::new(base.e), name), base.d)
    }

    pub(crate) fn array(&mut self, l: usize, r: usize, items: Vec<E>) -> E {
        let d = items.iter().map(|e| e.d).max().unwrap_or(0);
        self.node(
            l,
            r,
            ExprKind::Array(items.into_iter().map(|e| e.e).collect()),
            d,
        )
    }

    pub(crate) fn map(&mut self, l: usize, r: usize, entries: Vec<(E, E)>) -> E {
        let d = entries.iter().map(|(k, v)| k.d.max(v.d)).max().unwrap_or(0);
        let entries = entries.into_iter().map(|(k, v)| (k.e, v.e)).collect();
        self.node(l, r, ExprKind::Map(entries), d)
    }

    pub(crate) fn string(&mut self, l: usize, r: usize, s: StrLit) -> E {
        self.node(l, r, ExprKind::Str(s.parts), s.depth)
    }

    /// `for a [, b] in start [..[=] end] { }`
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn for_stmt(
        &mut self,
        l: usize,
        r: usize,
        first: Ident,
        second: Option<Ident>,
        start: E,
        range: Option<(bool, E)>,
        body: (Block, u32),
    ) -> (Stmt, u32) {
        let (body, body_depth) = body;
        let mut d = start.d.max(body_depth);
        let kind = match range {
            Some((inclusive, end)) => {
                d = d.max(end.d);
                if let Some(second) = &second {
                    self.failed = true;
                    self.diags.push(
                        Diagnostic::error(
                            "a range loop has exactly one loop variable",
                            second.span,
                        )
                        .with_label("unexpected second variable"),
                    );
                }
                StmtKind::ForRange {
                    var: first,
                    start: start.e,
                    end: end.e,
                    inclusive,
                    body,
                }
            }
            None => StmtKind::ForEach {
                first,
                second,
                iterable: start.e,
                body,
            },
        };
        self.stmt(l, r, d, kind)
    }

    /// `import "path" [as alias];` — the path must be a plain string.
    pub(crate) fn import(
        &mut self,
        l: usize,
        r: usize,
        path: StrLit,
        pl: usize,
        pr: usize,
        alias: Option<Ident>,
    ) -> ImportDecl {
        let path_span = self.span(pl, pr);
        let mut text = String::new();
        for part in path.parts {
            match part {
                StrPart::Lit(s) => text.push_str(&s),
                StrPart::Expr(e) => {
                    self.failed = true;
                    self.diags.push(
                        Diagnostic::error("an import path cannot contain interpolations", e.span)
                            .with_label("not allowed in an import path"),
                    );
                }
            }
        }
        ImportDecl {
            path: text,
            path_span,
            alias,
            span: self.span(l, r),
        }
    }
}

/// Expression-starting tokens, as lalrpop names them.
const EXPR_START: &[&str] = &[
    "Ident",
    "Int",
    "Float",
    "Str",
    "\"true\"",
    "\"false\"",
    "\"self\"",
    "\"(\"",
    "\"[\"",
    "\"-\"",
    "\"!\"",
];

/// Binary operators, as lalrpop names them.
const BINARY_OPS: &[&str] = &[
    "\"+\"", "\"-\"", "\"*\"", "\"/\"", "\"%\"", "\"==\"", "\"!=\"", "\"<\"", "\"<=\"", "\">\"",
    "\">=\"", "\"&&\"", "\"||\"", "\"&\"", "\"|\"", "\"^\"", "\"<<\"", "\">>\"",
];

/// Keywords and `{` that start a statement (with the expression starts).
const STMT_START: &[&str] = &[
    "\"let\"",
    "\"var\"",
    "\"if\"",
    "\"while\"",
    "\"for\"",
    "\"break\"",
    "\"continue\"",
    "\"return\"",
    "\"{\"",
];

/// Keywords that start an item.
const ITEM_START: &[&str] = &[
    "\"fn\"",
    "\"let\"",
    "\"var\"",
    "\"const\"",
    "\"struct\"",
    "\"impl\"",
    "\"import\"",
];

/// Tokens that start a type.
const TYPE_START: &[&str] = &["Ident", "\"[\"", "\"fn\""];

/// Compound assignment operators, as lalrpop names them.
const ASSIGN_OPS: &[&str] = &["\"=\"", "\"+=\"", "\"-=\"", "\"*=\"", "\"/=\"", "\"%=\""];

/// "one of `;`, `}` or an expression" from lalrpop's list of expected terminals.
fn describe_expected(expected: &[String]) -> Option<String> {
    let has_all = |set: &[&str]| set.iter().all(|t| expected.iter().any(|e| e == t));
    let exprs = has_all(EXPR_START);
    let ops = has_all(BINARY_OPS);
    let assigns = has_all(ASSIGN_OPS);
    let stmts = exprs && has_all(STMT_START);
    let item = has_all(ITEM_START);
    let ty = !exprs && !item && has_all(TYPE_START);
    let mut items: Vec<String> = Vec::new();
    for e in expected {
        let e = e.as_str();
        if (exprs && EXPR_START.contains(&e))
            || (ops && (BINARY_OPS.contains(&e) || e == "\".\"" || e == "\"(\"" || e == "\"[\""))
            || (assigns && ASSIGN_OPS.contains(&e))
            || (stmts && STMT_START.contains(&e))
            || (item && ITEM_START.contains(&e))
            || (ty && TYPE_START.contains(&e))
        {
            continue;
        }
        let item = match e {
            "Ident" => "identifier".to_string(),
            "Int" => "integer".to_string(),
            "Float" => "float".to_string(),
            "Str" => "string literal".to_string(),
            quoted => format!("`{}`", quoted.trim_matches('"')),
        };
        if !items.contains(&item) {
            items.push(item);
        }
    }
    if assigns {
        items.push("`=`".to_string());
    }
    if item {
        items.push("an item".to_string());
    }
    if ty {
        items.push("a type".to_string());
    }
    if stmts {
        items.push("a statement".to_string());
    } else if exprs {
        items.push("an expression".to_string());
    }
    if ops {
        items.push("an operator".to_string());
    }
    match items.len() {
        0 => None,
        1 => items.pop(),
        2 => Some(format!("{} or {}", items[0], items[1])),
        _ => {
            let last = items.pop().unwrap_or_default();
            Some(format!("one of {} or {last}", items.join(", ")))
        }
    }
}
