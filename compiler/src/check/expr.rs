//! Expressions: literals, strings, collections, fields and indexing. Names are in
//! `names.rs`, operators in `operators.rs`, calls in `calls.rs`,
//! built-in methods in `methods.rs`.
//!
//! Checking is bidirectional in a small way: the caller may pass a *hint*, the type the
//! context wants, which is what lets `[]`, `[:]` and `array(n, [])` know their type. The
//! hint never causes an error by itself; callers that require a type use
//! [`Checker::check_typed`], which compares afterwards.

use super::Checker;
use super::hir::{self, ExprKind, Op};
use super::stmt::FnCtx;
use crate::ast::{self, Expr, StrPart};
use crate::diagnostics::{Diagnostic, Span};
use crate::types::{TyId, TyKind};
use rvm_vm::format::Instr;

impl Checker<'_, '_> {
    /// Checks an expression that must produce a value of type `expected`.
    pub(super) fn check_typed(&mut self, ctx: &mut FnCtx, e: &Expr, expected: TyId) -> hir::Expr {
        let v = self.check_value(ctx, e, Some(expected));
        self.expect_type(e.span, v.ty, expected);
        v
    }

    /// Checks an expression that must produce a value (not a call returning nothing).
    pub(super) fn check_value(
        &mut self,
        ctx: &mut FnCtx,
        e: &Expr,
        hint: Option<TyId>,
    ) -> hir::Expr {
        let v = self.check_expr(ctx, e, hint);
        self.require_value(v)
    }

    /// Reports a use of a call returning nothing as a value.
    pub(super) fn require_value(&mut self, v: hir::Expr) -> hir::Expr {
        if v.ty == TyId::UNIT {
            self.error(v.span, "expected a value", "this call returns nothing");
            return hir::Expr::error(v.span);
        }
        v
    }

    /// Checks any expression (its type may be [`TyId::UNIT`]).
    pub(super) fn check_expr(
        &mut self,
        ctx: &mut FnCtx,
        e: &Expr,
        hint: Option<TyId>,
    ) -> hir::Expr {
        let span = e.span;
        let lit = |kind, ty| hir::Expr { kind, ty, span };
        match &e.kind {
            ast::ExprKind::Int(v) => match i64::try_from(*v) {
                Ok(v) => lit(ExprKind::Int(v), TyId::INT),
                Err(_) => {
                    self.error(
                        span,
                        "integer literal out of range",
                        "does not fit in `int` (at most 9223372036854775807)",
                    );
                    hir::Expr::error(span)
                }
            },
            ast::ExprKind::Float(v) => lit(ExprKind::Float(*v), TyId::FLOAT),
            ast::ExprKind::Bool(b) => lit(ExprKind::Bool(*b), TyId::BOOL),
            ast::ExprKind::Str(parts) => self.check_string(ctx, parts, span),
            ast::ExprKind::Ident(name) => self.check_ident(ctx, name, span),
            ast::ExprKind::SelfValue => match ctx.self_struct {
                Some(s) => lit(ExprKind::Local(0), self.structs[s as usize].ty),
                None => {
                    self.error(
                        span,
                        "`self` is only available in methods",
                        "not inside a method taking `self`",
                    );
                    hir::Expr::error(span)
                }
            },
            ast::ExprKind::Array(items) => self.check_array_lit(ctx, items, hint, span),
            ast::ExprKind::Map(pairs) => self.check_map_lit(ctx, pairs, hint, span),
            ast::ExprKind::Unary(op, inner) => self.check_unary(ctx, *op, inner, hint, span),
            ast::ExprKind::Binary(op, l, r) => self.check_binary(ctx, *op, l, r, hint, span),
            ast::ExprKind::Call { callee, args } => self.check_call(ctx, callee, args, hint, span),
            ast::ExprKind::Field(base, name) => self.check_field(ctx, base, name, span),
            ast::ExprKind::Index(base, index) => self.check_index(ctx, base, index, span),
        }
    }

    fn check_string(&mut self, ctx: &mut FnCtx, parts: &[StrPart], span: Span) -> hir::Expr {
        let mut out: Vec<hir::Expr> = Vec::new();
        for p in parts {
            match p {
                StrPart::Lit(s) => {
                    if s.is_empty() {
                        continue;
                    }
                    if let Some(hir::Expr {
                        kind: ExprKind::Str(prev),
                        ..
                    }) = out.last_mut()
                    {
                        prev.push_str(s);
                    } else {
                        out.push(hir::Expr {
                            kind: ExprKind::Str(s.clone()),
                            ty: TyId::STR,
                            span,
                        });
                    }
                }
                StrPart::Expr(e) => {
                    let v = self.check_value(ctx, e, None);
                    let v = self.stringify(v);
                    if let ExprKind::Str(s) = &v.kind
                        && let Some(hir::Expr {
                            kind: ExprKind::Str(prev),
                            ..
                        }) = out.last_mut()
                    {
                        prev.push_str(s);
                    } else {
                        out.push(v);
                    }
                }
            }
        }
        match out.len() {
            0 => hir::Expr {
                kind: ExprKind::Str(String::new()),
                ty: TyId::STR,
                span,
            },
            1 if out[0].ty == TyId::STR => out.pop().unwrap_or_else(|| hir::Expr::error(span)),
            _ => {
                let ty = if out.iter().any(|p| p.ty == TyId::ERROR) {
                    TyId::ERROR
                } else {
                    TyId::STR
                };
                hir::Expr {
                    kind: ExprKind::Concat(out),
                    ty,
                    span,
                }
            }
        }
    }

    /// `to_str` of a value (the identity on strings; folded on constants).
    pub(super) fn stringify(&mut self, v: hir::Expr) -> hir::Expr {
        if v.ty == TyId::STR || v.ty == TyId::ERROR {
            return v;
        }
        if !self.is_printable(v.ty) {
            let tn = self.ty_name(v.ty);
            self.report(
                Diagnostic::error(format!("values of type `{tn}` cannot be printed"), v.span)
                    .with_label(format!("this is a `{tn}`"))
                    .with_note(
                        "function references (and values containing them) have no text form",
                    ),
            );
            return hir::Expr::error(v.span);
        }
        let span = v.span;
        let ty = v.ty;
        self.make_op(Op::Typed(hir::TypedOp::ToStr, ty), vec![v], TyId::STR, span)
    }

    fn check_field(
        &mut self,
        ctx: &mut FnCtx,
        base: &Expr,
        name: &ast::Ident,
        span: Span,
    ) -> hir::Expr {
        if let Some(ns) = self.namespace_of(ctx, base) {
            return self.namespace_value(ctx, ns, name, span);
        }
        let obj = self.check_value(ctx, base, None);
        if obj.ty == TyId::ERROR {
            return hir::Expr::error(span);
        }
        if let Some((idx, ty)) = self.field_index(obj.ty, &name.name) {
            return hir::Expr {
                kind: ExprKind::Field(Box::new(obj), idx),
                ty,
                span,
            };
        }
        let is_method = match self.struct_of(obj.ty) {
            Some(s) => self.structs[s as usize].methods.contains_key(&name.name),
            None => self.builtin_method_exists(obj.ty, &name.name),
        };
        if is_method {
            let msg = format!("`{}` is a method, not a field", name.name);
            self.error(name.span, msg, format!("call it: `.{}(...)`", name.name));
        } else {
            self.report_no_field(obj.ty, name);
        }
        hir::Expr::error(span)
    }

    pub(super) fn report_no_field(&mut self, ty: TyId, name: &ast::Ident) {
        if ty == TyId::ERROR {
            return;
        }
        let tn = self.ty_name(ty);
        let msg = format!("no field `{}` on type `{tn}`", name.name);
        let mut d = Diagnostic::error(msg, name.span).with_label("unknown field");
        if let Some(s) = self.struct_of(ty) {
            let names: Vec<String> = self.structs[s as usize]
                .fields
                .iter()
                .map(|(n, _, _)| n.clone())
                .collect();
            let before = d.notes.len();
            d = self.with_suggestion(d, &name.name, names.iter().map(String::as_str));
            if d.notes.len() == before && !names.is_empty() {
                let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                d = d.with_note(format!("`{tn}` has fields {}", list.join(", ")));
            }
        }
        self.report(d);
    }

    /// The index and type of field `name` of struct type `ty`.
    pub(super) fn field_index(&self, ty: TyId, name: &str) -> Option<(u16, TyId)> {
        let s = self.struct_of(ty)?;
        let entry = &self.structs[s as usize];
        let i = *entry.field_index.get(name)?;
        Some((i, entry.fields[i as usize].1))
    }

    fn check_index(&mut self, ctx: &mut FnCtx, base: &Expr, index: &Expr, span: Span) -> hir::Expr {
        let b = self.check_value(ctx, base, None);
        match self.types.kind(b.ty).clone() {
            TyKind::Array(elem) => {
                let i = self.check_typed(ctx, index, TyId::INT);
                hir::Expr {
                    kind: ExprKind::Op(Op::Instr(Instr::ArrGet {}), vec![b, i]),
                    ty: elem,
                    span,
                }
            }
            TyKind::Map(k, v) => {
                let i = self.check_typed(ctx, index, k);
                hir::Expr {
                    kind: ExprKind::Op(Op::Instr(Instr::MapGet {}), vec![b, i]),
                    ty: v,
                    span,
                }
            }
            kind => {
                self.check_expr(ctx, index, None);
                if kind != TyKind::Error {
                    let label = format!("`{}` cannot be indexed", self.ty_name(b.ty));
                    let mut d = Diagnostic::error("cannot index into this value", base.span)
                        .with_label(label);
                    if kind == TyKind::Str {
                        d = d.with_note("use `s.byte(i)`, `s.slice(a, b)` or `s.chars()`");
                    }
                    self.report(d);
                }
                hir::Expr::error(span)
            }
        }
    }

    fn check_array_lit(
        &mut self,
        ctx: &mut FnCtx,
        items: &[Expr],
        hint: Option<TyId>,
        span: Span,
    ) -> hir::Expr {
        let hint_elem = hint.and_then(|h| self.types.array_elem(h));
        let Some(first) = items.first() else {
            return match hint_elem {
                Some(_) => hir::Expr {
                    kind: ExprKind::Array(Vec::new()),
                    ty: hint.unwrap_or(TyId::ERROR),
                    span,
                },
                None => {
                    self.report_empty_literal(span, hint.is_none(), "array", "let xs: [int] = [];");
                    hir::Expr::error(span)
                }
            };
        };
        let mut out = Vec::with_capacity(items.len());
        let elem = match hint_elem {
            Some(h) => {
                out.push(self.check_typed(ctx, first, h));
                h
            }
            None => {
                let v = self.check_value(ctx, first, None);
                let t = v.ty;
                out.push(v);
                t
            }
        };
        for item in &items[1..] {
            out.push(self.check_typed(ctx, item, elem));
        }
        let ty = self.types.array(elem);
        hir::Expr {
            kind: ExprKind::Array(out),
            ty,
            span,
        }
    }

    fn report_empty_literal(&mut self, span: Span, no_context: bool, what: &str, example: &str) {
        let label = if no_context {
            "its element type cannot be inferred"
        } else {
            "the expected type here is not a matching collection"
        };
        self.report(
            Diagnostic::error(format!("cannot infer the type of this empty {what}"), span)
                .with_label(label)
                .with_note(format!("write the type, e.g. `{example}`")),
        );
    }

    fn check_map_lit(
        &mut self,
        ctx: &mut FnCtx,
        pairs: &[(Expr, Expr)],
        hint: Option<TyId>,
        span: Span,
    ) -> hir::Expr {
        let hint_kv = hint.and_then(|h| self.types.map_kv(h));
        let Some((fk, fv)) = pairs.first() else {
            return match hint_kv {
                Some(_) => hir::Expr {
                    kind: ExprKind::Map(Vec::new()),
                    ty: hint.unwrap_or(TyId::ERROR),
                    span,
                },
                None => {
                    self.report_empty_literal(
                        span,
                        hint.is_none(),
                        "map",
                        "let m: [str: int] = [:];",
                    );
                    hir::Expr::error(span)
                }
            };
        };
        let mut out = Vec::with_capacity(pairs.len());
        let (kt, vt) = match hint_kv {
            Some((hk, hv)) => {
                let k = self.check_typed(ctx, fk, hk);
                let v = self.check_typed(ctx, fv, hv);
                out.push((k, v));
                (hk, hv)
            }
            None => {
                let k = self.check_value(ctx, fk, None);
                let v = self.check_value(ctx, fv, None);
                let (kt, vt) = (k.ty, v.ty);
                if !matches!(kt, TyId::INT | TyId::STR | TyId::BOOL | TyId::ERROR) {
                    let label = format!("found `{}`", self.ty_name(kt));
                    self.error(fk.span, "map keys must be `int`, `str` or `bool`", label);
                }
                out.push((k, v));
                (kt, vt)
            }
        };
        for (k, v) in &pairs[1..] {
            let k = self.check_typed(ctx, k, kt);
            let v = self.check_typed(ctx, v, vt);
            out.push((k, v));
        }
        let ty = self.types.map(kt, vt);
        hir::Expr {
            kind: ExprKind::Map(out),
            ty,
            span,
        }
    }
}

impl Checker<'_, '_> {
    /// Computes which structs cannot be printed: those containing a function reference,
    /// directly or through other structs (which may be recursive). Linear in the size of
    /// the struct declarations: "unprintable" spreads from the structs with a function
    /// type in a field to every struct that contains them.
    pub(super) fn compute_printable(&mut self) {
        let n = self.structs.len();
        let mut unprintable = vec![false; n];
        let mut users: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut work = Vec::new();
        for (s, entry) in self.structs.iter().enumerate() {
            let mut seen = std::collections::HashSet::new();
            let mut stack: Vec<TyId> = entry.fields.iter().map(|(_, t, _)| *t).collect();
            let mut has_fn = false;
            while let Some(t) = stack.pop() {
                if !seen.insert(t) {
                    continue;
                }
                match self.types.kind(t) {
                    TyKind::Fn(..) => has_fn = true,
                    TyKind::Array(e) => stack.push(*e),
                    TyKind::Map(k, v) => stack.extend([*k, *v]),
                    TyKind::Struct(d) => {
                        if let Some(u) = users.get_mut(*d as usize) {
                            u.push(s as u32);
                        }
                    }
                    _ => {}
                }
            }
            if has_fn {
                unprintable[s] = true;
                work.push(s);
            }
        }
        while let Some(s) = work.pop() {
            for &u in &users[s] {
                if !unprintable[u as usize] {
                    unprintable[u as usize] = true;
                    work.push(u as usize);
                }
            }
        }
        self.unprintable = unprintable;
    }

    /// Whether `to_str` accepts values of type `ty`.
    pub(super) fn is_printable(&self, ty: TyId) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![ty];
        while let Some(t) = stack.pop() {
            if !seen.insert(t) {
                continue;
            }
            match self.types.kind(t) {
                TyKind::Fn(..) | TyKind::Unit => return false,
                TyKind::Array(e) => stack.push(*e),
                TyKind::Map(k, v) => {
                    stack.push(*k);
                    stack.push(*v);
                }
                TyKind::Struct(s)
                    if self.unprintable.get(*s as usize).copied().unwrap_or(false) =>
                {
                    return false;
                }
                _ => {}
            }
        }
        true
    }
}
