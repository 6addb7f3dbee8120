//! The parser: tokens → [`ast::SourceFile`](crate::ast::SourceFile).
//!
//! The grammar (`grammar.lalrpop`) is compiled by lalrpop into a table-driven LR(1) parser,
//! which cannot overflow the Rust stack however the input nests; the logos lexer
//! ([`crate::lexer`]) feeds it tokens with byte positions.
//!
//! Errors never stop the parse early. lalrpop's error recovery (the `!` token) resumes at
//! the next statement inside a block and at the next item at top level, so one run reports
//! the syntax errors of every function. Each error becomes a [`Diagnostic`] worded for
//! people ("expected one of `;` or an operator, found `let`"), at the offending token.
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

/// The deepest expression tree the parser builds (operators, calls, fields, literals).
pub const MAX_EXPR_DEPTH: u32 = 256;

/// Parses one file's text. Every problem is pushed to `diags` (sorted by position); the
/// returned tree holds whatever parsed, so later phases can report more errors.
pub fn parse_file(file: FileId, text: &str, diags: &mut Diagnostics) -> SourceFile {
    let mut out = Vec::new();
    let items = match lexer::lex(file, text, 0..text.len(), 0, &mut out) {
        Some(tokens) => {
            let mut st = State::new(file, text, &tokens);
            let result = grammar::SourceFileParser::new()
                .parse(&mut st, tokens.iter().cloned().map(Ok::<_, Diagnostic>));
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
    let tokens = lexer::lex(file, text, range, nest, diags)?;
    let mut st = State::new(file, text, &tokens);
    st.eof = Some(end);
    let result = grammar::InterpolationParser::new()
        .parse(&mut st, tokens.iter().cloned().map(Ok::<_, Diagnostic>));
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
pub struct E {
    pub(crate) e: Expr,
    pub(crate) d: u32,
    cmp: bool,
}

impl E {
    /// `(e)`: the same node, no longer a bare comparison.
    pub(crate) fn parenthesized(mut self) -> E {
        self.cmp = false;
        self
    }
}

/// The parser's side state, threaded through the grammar actions.
#[derive(Debug)]
pub struct State<'t> {
    file: FileId,
    text: &'t str,
    /// Token start offsets, to count how far apart two errors are.
    starts: Vec<usize>,
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
    fn new(file: FileId, text: &'t str, tokens: &[lexer::Spanned]) -> State<'t> {
        State {
            file,
            text,
            starts: tokens.iter().map(|t| t.0).collect(),
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
        if let Some(last) = self.last_error
            && index < last + ERROR_GAP
            && !self.diags.is_empty()
        {
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

    pub(crate) fn stmt(&self, l: usize, r: usize, kind: StmtKind) -> Stmt {
        Stmt {
            kind,
            span: self.span(l, r),
        }
    }

    /// Builds a node whose children have depths `child_depth`, or a stand-in leaf (after
    /// one diagnostic) when the tree would be too deep.
    fn node(&mut self, l: usize, r: usize, kind: ExprKind, child_depth: u32) -> E {
        let span = self.span(l, r);
        let d = child_depth + 1;
        if d > MAX_EXPR_DEPTH {
            if !self.reported_depth {
                self.reported_depth = true;
                self.failed = true;
                self.diags.push(
                    Diagnostic::error("expression nested too deeply", span).with_label(format!(
                        "more than {MAX_EXPR_DEPTH} levels of operators, calls or literals"
                    )),
                );
            }
            return E {
                e: Expr {
                    kind: ExprKind::Int(0),
                    span,
                },
                d: 1,
                cmp: false,
            };
        }
        E {
            e: Expr { kind, span },
            d,
            cmp: false,
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
        if a.cmp {
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
        e.cmp = true;
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
        body: Block,
    ) -> Stmt {
        let kind = match range {
            Some((inclusive, end)) => {
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
        self.stmt(l, r, kind)
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

/// Compound assignment operators, as lalrpop names them.
const ASSIGN_OPS: &[&str] = &["\"=\"", "\"+=\"", "\"-=\"", "\"*=\"", "\"/=\"", "\"%=\""];

/// "one of `;`, `}` or an expression" from lalrpop's list of expected terminals.
fn describe_expected(expected: &[String]) -> Option<String> {
    let has_all = |set: &[&str]| set.iter().all(|t| expected.iter().any(|e| e == t));
    let exprs = has_all(EXPR_START);
    let ops = has_all(BINARY_OPS);
    let assigns = has_all(ASSIGN_OPS);
    let mut items: Vec<String> = Vec::new();
    for e in expected {
        let e = e.as_str();
        if (exprs && EXPR_START.contains(&e))
            || (ops && (BINARY_OPS.contains(&e) || e == "\".\"" || e == "\"(\"" || e == "\"[\""))
            || (assigns && ASSIGN_OPS.contains(&e))
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
    if exprs {
        items.push("an expression".to_string());
    }
    if ops {
        items.push("an operator".to_string());
    }
    match items.len() {
        0 => None,
        1 => items.pop(),
        n => {
            let last = items.pop().unwrap_or_default();
            let _ = n;
            Some(format!("one of {} or {last}", items.join(", ")))
        }
    }
}
