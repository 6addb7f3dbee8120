//! Function bodies: local scopes, statements, assignments and definite-return analysis.
//!
//! Each statement is checked into a [`hir::Stmt`] together with whether control can fall
//! through to the next statement. `return`, `break` and `continue` do not fall through; an
//! `if` falls through unless it has an `else` and no arm falls through; `while true` without
//! a `break` never falls through. A function with a result whose body falls through is an
//! error ("missing `return`"). Assignments are in `assign.rs`.

use std::collections::HashMap;

use super::Checker;
use super::hir::{self, ExprKind, StmtKind};
use crate::ast::{self, Expr, Stmt};
use crate::diagnostics::{Diagnostic, FileId, Severity, Span};
use crate::types::{TyId, TyKind};

/// The most locals a function may have (local indices are 16-bit; code generation needs a
/// few hidden ones too).
const MAX_LOCALS: usize = 65000;

/// How a local was introduced (for assignment errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BindKind {
    Let,
    Var,
    Param,
    LoopVar,
}

/// A local variable in scope.
#[derive(Clone, Debug)]
pub(super) struct Binding {
    pub local: u32,
    pub ty: TyId,
    pub kind: BindKind,
    pub span: Span,
    depth: usize,
    /// Read somewhere (for the unused-variable warning).
    used: std::cell::Cell<bool>,
}

#[derive(Debug, Default)]
struct LoopInfo {
    has_break: bool,
}

/// The state of checking one function body (or one module-level initialiser).
#[derive(Debug)]
pub(super) struct FnCtx {
    pub file: FileId,
    /// Types of the locals allocated so far (parameters first).
    pub locals: Vec<TyId>,
    bindings: Vec<(String, Binding)>,
    names: HashMap<String, Vec<usize>>,
    marks: Vec<usize>,
    loops: Vec<LoopInfo>,
    /// The function's result type (`None`: returns nothing).
    pub result: Option<TyId>,
    /// The struct whose method this is, if `self` is available (local 0).
    pub self_struct: Option<u32>,
    /// Checking a module-level initialiser rather than a function body.
    pub module_level: bool,
    too_many_locals: bool,
}

impl FnCtx {
    fn new(file: FileId, module_level: bool) -> FnCtx {
        FnCtx {
            file,
            locals: Vec::new(),
            bindings: Vec::new(),
            names: HashMap::new(),
            marks: Vec::new(),
            loops: Vec::new(),
            result: None,
            self_struct: None,
            module_level,
            too_many_locals: false,
        }
    }

    /// A context for a `const`/`let`/`var` initialiser at module level.
    pub fn module_level(file: FileId) -> FnCtx {
        FnCtx::new(file, true)
    }

    pub fn lookup(&self, name: &str) -> Option<&Binding> {
        let idx = *self.names.get(name)?.last()?;
        Some(&self.bindings[idx].1)
    }

    /// The names of the locals in scope.
    pub fn local_names(&self) -> impl Iterator<Item = &str> {
        self.names.keys().map(String::as_str)
    }

    /// Looks up a local that is being read.
    pub fn read(&self, name: &str) -> Option<&Binding> {
        let b = self.lookup(name)?;
        b.used.set(true);
        Some(b)
    }

    fn push_scope(&mut self) {
        self.marks.push(self.bindings.len());
    }

    /// Leaves the innermost scope, returning the `let`/`var` bindings never read.
    fn pop_scope(&mut self) -> Vec<(String, Span)> {
        let mark = self.marks.pop().unwrap_or(0);
        let mut unused = Vec::new();
        while self.bindings.len() > mark {
            let Some((name, b)) = self.bindings.pop() else {
                break;
            };
            if matches!(b.kind, BindKind::Let | BindKind::Var)
                && !b.used.get()
                && !name.starts_with('_')
            {
                unused.push((name.clone(), b.span));
            }
            if let Some(stack) = self.names.get_mut(&name) {
                stack.pop();
                if stack.is_empty() {
                    self.names.remove(&name);
                }
            }
        }
        unused.reverse();
        unused
    }

    /// Allocates a local slot of type `ty`.
    fn alloc(&mut self, ty: TyId) -> u32 {
        self.locals.push(ty);
        (self.locals.len() - 1) as u32
    }
}

impl Checker<'_, '_> {
    /// Leaves a scope, warning about variables that were never read.
    fn end_scope(&mut self, ctx: &mut FnCtx) {
        for (name, span) in ctx.pop_scope() {
            self.report(Diagnostic {
                severity: Severity::Warning,
                message: format!("unused variable `{name}`"),
                span,
                label: "never read".into(),
                secondary: Vec::new(),
                notes: vec![format!("if this is intended, name it `_{name}`")],
            });
        }
    }

    /// Declares a local in the innermost scope, reporting a clash with a name declared in
    /// the same scope. Returns its slot.
    fn declare_local(
        &mut self,
        ctx: &mut FnCtx,
        name: &ast::Ident,
        ty: TyId,
        kind: BindKind,
    ) -> u32 {
        let depth = ctx.marks.len();
        if let Some(prev) = ctx.lookup(&name.name)
            && prev.depth == depth
        {
            let what = if prev.kind == BindKind::Param {
                "parameter"
            } else {
                "variable"
            };
            let msg = format!("`{}` is already declared in this scope", name.name);
            let d = Diagnostic::error(msg, name.span)
                .with_label("declared again here")
                .with_secondary(
                    prev.span,
                    format!("{what} `{}` first declared here", name.name),
                )
                .with_note("use another name, or shadow it in an inner block");
            self.report(d);
        }
        if ctx.locals.len() >= MAX_LOCALS && !ctx.too_many_locals {
            ctx.too_many_locals = true;
            self.error(
                name.span,
                "too many local variables in one function",
                "limit reached here",
            );
        }
        let local = ctx.alloc(ty);
        let idx = ctx.bindings.len();
        ctx.bindings.push((
            name.name.clone(),
            Binding {
                local,
                ty,
                kind,
                span: name.span,
                depth,
                used: std::cell::Cell::new(false),
            },
        ));
        ctx.names.entry(name.name.clone()).or_default().push(idx);
        local
    }

    /// Checks the body of function `fi` and stores its lowered form.
    pub(super) fn check_function(&mut self, fi: usize) {
        let (file, decl, owner) = {
            let f = &self.funcs[fi];
            (f.file, f.decl, f.owner)
        };
        let params = self.funcs[fi].params.clone();
        let result = self.funcs[fi].result;
        let mut ctx = FnCtx::new(file, false);
        ctx.result = result;
        ctx.push_scope();
        let mut pi = 0;
        if decl.self_param.is_some() {
            ctx.alloc(params.first().copied().unwrap_or(TyId::ERROR));
            ctx.self_struct = owner;
            pi = 1;
        }
        for p in &decl.params {
            let ty = params.get(pi).copied().unwrap_or(TyId::ERROR);
            pi += 1;
            self.declare_local(&mut ctx, &p.name, ty, BindKind::Param);
        }
        let (body, falls) = self.check_block(&mut ctx, &decl.body);
        self.end_scope(&mut ctx);
        if falls && let Some(r) = result {
            let end = decl.body.span.end;
            let close = Span::new(file, end.saturating_sub(1) as usize, end as usize);
            let ret_span = decl.ret.as_ref().map_or(decl.sig_span, |t| t.span);
            let rname = self.ty_name(r);
            self.report(
                Diagnostic::error(
                    format!("missing `return` in `{}`", self.funcs[fi].name),
                    close,
                )
                .with_label("the end of the body can be reached without returning a value")
                .with_secondary(ret_span, format!("the function returns `{rname}`")),
            );
        }
        let f = &mut self.funcs[fi];
        f.body = Some(body);
        f.locals = ctx.locals;
    }

    /// Checks a block in a new scope. Returns the statements and whether control can reach
    /// its end.
    pub(super) fn check_block(
        &mut self,
        ctx: &mut FnCtx,
        block: &ast::Block,
    ) -> (hir::Block, bool) {
        ctx.push_scope();
        let mut out = Vec::with_capacity(block.stmts.len());
        let mut falls = true;
        for s in &block.stmts {
            let (st, f) = self.check_stmt(ctx, s);
            out.push(st);
            falls &= f;
        }
        self.end_scope(ctx);
        (out, falls)
    }

    fn check_stmt(&mut self, ctx: &mut FnCtx, s: &Stmt) -> (hir::Stmt, bool) {
        let span = s.span;
        let mk = |kind| hir::Stmt { kind, span };
        match &s.kind {
            ast::StmtKind::Let {
                mutable,
                name,
                ty,
                value,
            } => {
                let written = ty.as_ref().map(|t| self.resolve_type(ctx.file, t));
                let v = match written {
                    Some(w) => self.check_typed(ctx, value, w),
                    None => self.check_value(ctx, value, None),
                };
                let ty = written.unwrap_or(v.ty);
                let kind = if *mutable {
                    BindKind::Var
                } else {
                    BindKind::Let
                };
                let local = self.declare_local(ctx, name, ty, kind);
                (mk(StmtKind::SetLocal(local, v)), true)
            }
            ast::StmtKind::Assign { target, op, value } => {
                (mk(self.check_assign(ctx, target, *op, value)), true)
            }
            ast::StmtKind::Expr(e) => {
                let v = self.check_expr(ctx, e, None);
                if !matches!(e.kind, ast::ExprKind::Call { .. }) && v.ty != TyId::ERROR {
                    let mut d = Diagnostic::error("this expression has no effect", e.span)
                        .with_label("only calls can be used as statements");
                    if let ast::ExprKind::Binary(ast::BinOp::Eq, ..) = e.kind {
                        d = d.with_note("to assign, use `=` instead of `==`");
                    }
                    self.report(d);
                }
                (mk(StmtKind::Expr(v)), true)
            }
            ast::StmtKind::If { .. } => self.check_if(ctx, s),
            ast::StmtKind::While { cond, body } => {
                let c = self.check_typed(ctx, cond, TyId::BOOL);
                let infinite = matches!(c.kind, ExprKind::Bool(true));
                ctx.loops.push(LoopInfo::default());
                let (b, _) = self.check_block(ctx, body);
                let info = ctx.loops.pop().unwrap_or_default();
                let cond = if infinite { None } else { Some(c) };
                let falls = !infinite || info.has_break;
                (mk(StmtKind::While { cond, body: b }), falls)
            }
            ast::StmtKind::ForRange {
                var,
                start,
                end,
                inclusive,
                body,
            } => {
                let st = self.check_typed(ctx, start, TyId::INT);
                let en = self.check_typed(ctx, end, TyId::INT);
                ctx.push_scope();
                let v = self.declare_local(ctx, var, TyId::INT, BindKind::LoopVar);
                ctx.loops.push(LoopInfo::default());
                let (b, _) = self.check_block(ctx, body);
                ctx.loops.pop();
                self.end_scope(ctx);
                let kind = StmtKind::ForRange {
                    var: v,
                    start: st,
                    end: en,
                    inclusive: *inclusive,
                    body: b,
                };
                (mk(kind), true)
            }
            ast::StmtKind::ForEach {
                first,
                second,
                iterable,
                body,
            } => (
                mk(self.check_for_each(ctx, first, second.as_ref(), iterable, body)),
                true,
            ),
            ast::StmtKind::Break | ast::StmtKind::Continue => {
                let is_break = matches!(s.kind, ast::StmtKind::Break);
                let word = if is_break { "break" } else { "continue" };
                match ctx.loops.last_mut() {
                    Some(l) => {
                        if is_break {
                            l.has_break = true;
                        }
                    }
                    None => self.error(
                        span,
                        format!("`{word}` outside of a loop"),
                        format!("`{word}` can only be used inside `while` or `for`"),
                    ),
                }
                let kind = if is_break {
                    StmtKind::Break
                } else {
                    StmtKind::Continue
                };
                (mk(kind), false)
            }
            ast::StmtKind::Return(value) => {
                (mk(self.check_return(ctx, span, value.as_ref())), false)
            }
            ast::StmtKind::Block(b) => {
                let (b, falls) = self.check_block(ctx, b);
                (mk(StmtKind::Block(b)), falls)
            }
        }
    }

    /// `if` / `else if` chains, iterated rather than recursed.
    fn check_if(&mut self, ctx: &mut FnCtx, s: &Stmt) -> (hir::Stmt, bool) {
        let mut arms = Vec::new();
        let mut else_ = None;
        let mut falls = false;
        let mut cur = s;
        loop {
            let ast::StmtKind::If {
                cond,
                then,
                else_: e,
            } = &cur.kind
            else {
                // An `else` that is a plain statement (the parser gives a block).
                let (st, f) = self.check_stmt(ctx, cur);
                else_ = Some(vec![st]);
                falls |= f;
                break;
            };
            let c = self.check_typed(ctx, cond, TyId::BOOL);
            let (b, f) = self.check_block(ctx, then);
            falls |= f;
            arms.push((c, b));
            match e.as_deref() {
                None => {
                    falls = true;
                    break;
                }
                Some(
                    next @ Stmt {
                        kind: ast::StmtKind::If { .. },
                        ..
                    },
                ) => cur = next,
                Some(Stmt {
                    kind: ast::StmtKind::Block(b),
                    ..
                }) => {
                    let (b, f) = self.check_block(ctx, b);
                    falls |= f;
                    else_ = Some(b);
                    break;
                }
                Some(other) => cur = other,
            }
        }
        let kind = StmtKind::If { arms, else_ };
        (hir::Stmt { kind, span: s.span }, falls)
    }

    fn check_for_each(
        &mut self,
        ctx: &mut FnCtx,
        first: &ast::Ident,
        second: Option<&ast::Ident>,
        iterable: &Expr,
        body: &ast::Block,
    ) -> StmtKind {
        let it = self.check_value(ctx, iterable, None);
        ctx.push_scope();
        ctx.loops.push(LoopInfo::default());
        let kind = match self.types.kind(it.ty).clone() {
            TyKind::Array(elem) => {
                let (index, elem_var) = match second {
                    Some(second) => {
                        let i = self.declare_local(ctx, first, TyId::INT, BindKind::LoopVar);
                        let e = self.declare_local(ctx, second, elem, BindKind::LoopVar);
                        (Some(i), e)
                    }
                    None => (
                        None,
                        self.declare_local(ctx, first, elem, BindKind::LoopVar),
                    ),
                };
                let (b, _) = self.check_block(ctx, body);
                StmtKind::ForArray {
                    index,
                    elem: elem_var,
                    array: it,
                    body: b,
                }
            }
            TyKind::Map(k, v) => {
                let key = self.declare_local(ctx, first, k, BindKind::LoopVar);
                let value = second.map(|s| self.declare_local(ctx, s, v, BindKind::LoopVar));
                let (b, _) = self.check_block(ctx, body);
                StmtKind::ForMap {
                    key,
                    value,
                    map: it,
                    body: b,
                }
            }
            other => {
                if !matches!(other, TyKind::Error) {
                    let label = format!("`{}` is not an array or a map", self.ty_name(it.ty));
                    let mut d = Diagnostic::error("cannot iterate over this value", iterable.span)
                        .with_label(label);
                    if other == TyKind::Str {
                        d = d.with_note("iterate over the characters with `s.chars()`");
                    }
                    if other == TyKind::Int {
                        d = d.with_note("iterate over a range with `0..n`");
                    }
                    self.report(d);
                }
                self.declare_local(ctx, first, TyId::ERROR, BindKind::LoopVar);
                if let Some(s) = second {
                    self.declare_local(ctx, s, TyId::ERROR, BindKind::LoopVar);
                }
                let (b, _) = self.check_block(ctx, body);
                StmtKind::Block(b)
            }
        };
        ctx.loops.pop();
        self.end_scope(ctx);
        kind
    }

    fn check_return(&mut self, ctx: &mut FnCtx, span: Span, value: Option<&Expr>) -> StmtKind {
        match (ctx.result, value) {
            (Some(r), Some(v)) => StmtKind::Return(Some(self.check_typed(ctx, v, r))),
            (None, Some(v)) => {
                let e = self.check_expr(ctx, v, None);
                if e.ty != TyId::ERROR {
                    self.error(
                        v.span,
                        "this function returns nothing",
                        format!("unexpected value of type `{}`", self.ty_name(e.ty)),
                    );
                }
                StmtKind::Return(None)
            }
            (Some(r), None) => {
                let msg = format!("expected a value of type `{}`", self.ty_name(r));
                self.error(span, msg, "`return` without a value");
                StmtKind::Return(None)
            }
            (None, None) => StmtKind::Return(None),
        }
    }
}
