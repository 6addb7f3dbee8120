//! Expressions: literals, names, operators, fields and indexing. Calls are in `calls.rs`,
//! built-in methods in `methods.rs`.
//!
//! Checking is bidirectional in a small way: the caller may pass a *hint*, the type the
//! context wants, which is what lets `[]`, `[:]` and `array(n, [])` know their type. The
//! hint never causes an error by itself; callers that require a type use
//! [`Checker::check_typed`], which compares afterwards.

use super::decls::TopLookup;
use super::hir::{self, ExprKind, Op};
use super::stmt::FnCtx;
use super::{Checker, Decl, Progress};
use crate::ast::{self, BinOp, Expr, StrPart, UnOp};
use crate::diagnostics::{Diagnostic, FileId, Span};
use crate::types::{TyId, TyKind};
use rvm_vm::format::Instr;

/// Something that is not a value but has members: `u.` (an import alias), `Point.` (static
/// methods), `math.`, `int.`, `os.`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Namespace {
    File(FileId),
    Struct(u32),
    Builtin(&'static str),
    /// An alias whose import failed (already reported): every member is an error.
    Unknown,
}

/// Built-in namespaces.
const BUILTIN_NAMESPACES: &[&str] = &[
    "math", "int", "float", "os", "fs", "env", "time", "random", "io",
];

/// Built-in functions (called by name).
pub(super) const BUILTIN_FUNCTIONS: &[&str] = &[
    "print", "println", "eprintln", "assert", "abs", "min", "max", "chr", "ord", "array", "int",
    "float", "str",
];

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

    fn check_ident(&mut self, ctx: &mut FnCtx, name: &str, span: Span) -> hir::Expr {
        if let Some(b) = ctx.read(name) {
            return hir::Expr {
                kind: ExprKind::Local(b.local),
                ty: b.ty,
                span,
            };
        }
        match self.lookup_top(ctx.file, name) {
            TopLookup::Found(d) => self.decl_value(ctx, d, name, span),
            TopLookup::Ambiguous(files) => {
                self.report_ambiguous(span, name, &files);
                hir::Expr::error(span)
            }
            TopLookup::NotFound => {
                if BUILTIN_FUNCTIONS.contains(&name) {
                    let msg = format!("built-in function `{name}` cannot be used as a value");
                    self.error(span, msg, "call it instead");
                } else if BUILTIN_NAMESPACES.contains(&name) {
                    let msg = format!("`{name}` is a module, not a value");
                    self.error(span, msg, format!("use one of its members: `{name}.name`"));
                } else if self.file_complete(ctx.file) {
                    let msg = format!("cannot find value `{name}` in this scope");
                    self.error(span, msg, "not found");
                }
                hir::Expr::error(span)
            }
        }
    }

    /// The value of a top-level declaration used as an expression.
    pub(super) fn decl_value(&mut self, ctx: &FnCtx, d: Decl, name: &str, span: Span) -> hir::Expr {
        match d {
            Decl::Global(g) => {
                let entry = &self.globals[g as usize];
                if ctx.module_level && entry.progress == Progress::Pending {
                    let decl_span = entry.decl.name.span;
                    self.report_before_decl(span, name, decl_span);
                    return hir::Expr::error(span);
                }
                hir::Expr {
                    kind: ExprKind::Global(g),
                    ty: entry.ty,
                    span,
                }
            }
            Decl::Const(c) => {
                let entry = &self.consts[c as usize];
                match &entry.value {
                    Some(v) => hir::Expr { span, ..v.clone() },
                    None => {
                        let decl_span = entry.decl.name.span;
                        self.report_before_decl(span, name, decl_span);
                        hir::Expr::error(span)
                    }
                }
            }
            Decl::Fn(f) => hir::Expr {
                kind: ExprKind::FnRef(f),
                ty: self.funcs[f as usize].ty,
                span,
            },
            Decl::Struct(_) => {
                self.report(
                    Diagnostic::error(format!("`{name}` is a struct, not a value"), span)
                        .with_label("expected a value")
                        .with_note(format!("create one with `{name}(field: value, ...)`")),
                );
                hir::Expr::error(span)
            }
            Decl::Alias(_) => {
                let msg = format!("`{name}` is an import alias, not a value");
                self.error(span, msg, format!("use one of its members: `{name}.name`"));
                hir::Expr::error(span)
            }
        }
    }

    fn report_before_decl(&mut self, span: Span, name: &str, decl_span: Span) {
        self.report(
            Diagnostic::error(format!("`{name}` is used before its declaration"), span)
                .with_label("used here, before it is initialised")
                .with_secondary(decl_span, format!("`{name}` declared here"))
                .with_note("module-level bindings are initialised in order; move this declaration after it"),
        );
    }

    /// If `e` names a namespace (and not a value), which one.
    pub(super) fn namespace_of(&mut self, ctx: &FnCtx, e: &Expr) -> Option<Namespace> {
        match &e.kind {
            ast::ExprKind::Ident(name) => {
                if ctx.lookup(name).is_some() {
                    return None;
                }
                match self.lookup_top(ctx.file, name) {
                    TopLookup::Found(Decl::Alias(t)) => Some(Namespace::File(t)),
                    TopLookup::Found(Decl::Struct(s)) => Some(Namespace::Struct(s)),
                    TopLookup::Found(_) | TopLookup::Ambiguous(_) => None,
                    TopLookup::NotFound => {
                        if let Some(b) = BUILTIN_NAMESPACES.iter().find(|b| **b == name) {
                            Some(Namespace::Builtin(b))
                        } else if !self.file_complete(ctx.file) {
                            Some(Namespace::Unknown)
                        } else {
                            None
                        }
                    }
                }
            }
            ast::ExprKind::Field(base, name) => match self.namespace_of(ctx, base)? {
                Namespace::File(t) => match self.lookup_own(t, &name.name) {
                    Some(Decl::Struct(s)) => Some(Namespace::Struct(s)),
                    _ => None,
                },
                Namespace::Unknown => Some(Namespace::Unknown),
                _ => None,
            },
            _ => None,
        }
    }

    /// A member of an import alias as a declaration (for assignment), reporting misses.
    pub(super) fn namespace_member(
        &mut self,
        _ctx: &FnCtx,
        ns: Namespace,
        field: &ast::Ident,
    ) -> Option<Decl> {
        match ns {
            Namespace::File(t) => {
                let d = self.lookup_own(t, &field.name);
                if d.is_none() {
                    let msg = format!("cannot find `{}` in `{}`", field.name, self.file_name(t));
                    self.error(field.span, msg, "not declared in the imported file");
                }
                d
            }
            Namespace::Unknown => None,
            Namespace::Struct(_) | Namespace::Builtin(_) => {
                self.error(field.span, "invalid assignment target", "not a variable");
                None
            }
        }
    }

    fn check_field(
        &mut self,
        ctx: &mut FnCtx,
        base: &Expr,
        name: &ast::Ident,
        span: Span,
    ) -> hir::Expr {
        if let Some(ns) = self.namespace_of(ctx, base) {
            return self.namespace_value(ctx, ns, base, name, span);
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
            let fields: Vec<String> = self.structs[s as usize]
                .fields
                .iter()
                .map(|(n, _, _)| format!("`{n}`"))
                .collect();
            if !fields.is_empty() {
                d = d.with_note(format!("`{tn}` has fields {}", fields.join(", ")));
            }
        }
        self.report(d);
    }

    /// The index and type of field `name` of struct type `ty`.
    pub(super) fn field_index(&self, ty: TyId, name: &str) -> Option<(u16, TyId)> {
        let s = self.struct_of(ty)?;
        let fields = &self.structs[s as usize].fields;
        let i = fields.iter().position(|(n, _, _)| n == name)?;
        Some((i as u16, fields[i].1))
    }

    /// `ns.name` used as a value.
    fn namespace_value(
        &mut self,
        ctx: &FnCtx,
        ns: Namespace,
        base: &Expr,
        name: &ast::Ident,
        span: Span,
    ) -> hir::Expr {
        let n = name.name.as_str();
        let float = |v: f64| hir::Expr {
            kind: ExprKind::Float(v),
            ty: TyId::FLOAT,
            span,
        };
        match ns {
            Namespace::Unknown => hir::Expr::error(span),
            Namespace::File(t) => match self.lookup_own(t, n) {
                Some(d) => self.decl_value(ctx, d, n, span),
                None => {
                    let msg = format!("cannot find `{n}` in `{}`", self.file_name(t));
                    self.error(name.span, msg, "not declared in the imported file");
                    hir::Expr::error(span)
                }
            },
            Namespace::Struct(s) => match self.structs[s as usize].methods.get(n) {
                Some(&f) => hir::Expr {
                    kind: ExprKind::FnRef(f),
                    ty: self.funcs[f as usize].ty,
                    span,
                },
                None => {
                    let sn = self.structs[s as usize].name.clone();
                    let msg = format!("no method `{n}` on `{sn}`");
                    self.error(name.span, msg, "not found");
                    hir::Expr::error(span)
                }
            },
            Namespace::Builtin("math") => match n {
                "PI" => float(std::f64::consts::PI),
                "E" => float(std::f64::consts::E),
                "INF" => float(f64::INFINITY),
                "NAN" => float(f64::NAN),
                _ => {
                    if rvm_vm::natives::Native::by_name(&format!("math.{n}")).is_some() {
                        let msg = format!("built-in function `math.{n}` cannot be used as a value");
                        self.error(span, msg, "call it instead");
                    } else {
                        self.error(name.span, format!("no `{n}` in `math`"), "not found");
                    }
                    hir::Expr::error(span)
                }
            },
            Namespace::Builtin("int") => match n {
                "MAX" => hir::Expr {
                    kind: ExprKind::Int(i64::MAX),
                    ty: TyId::INT,
                    span,
                },
                "MIN" => hir::Expr {
                    kind: ExprKind::Int(i64::MIN),
                    ty: TyId::INT,
                    span,
                },
                _ => {
                    self.error(
                        name.span,
                        format!("no `{n}` in `int`"),
                        "expected `int.MAX` or `int.MIN`",
                    );
                    hir::Expr::error(span)
                }
            },
            Namespace::Builtin(m) => {
                if self.host_module_error(m, base.span) {
                    return hir::Expr::error(span);
                }
                if m == "os" && matches!(n, "args" | "exit") {
                    let msg = format!("host function `os.{n}` cannot be used as a value");
                    self.error(span, msg, "call it instead");
                } else {
                    self.error(name.span, format!("no `{n}` in `{m}`"), "not found");
                }
                hir::Expr::error(span)
            }
        }
    }

    /// Reports the host modules that this version does not provide yet. Returns whether it
    /// did.
    pub(super) fn host_module_error(&mut self, m: &str, span: Span) -> bool {
        if matches!(m, "fs" | "env" | "time" | "random" | "io") {
            let msg = format!("the host module `{m}` is not supported yet");
            self.error(span, msg, "only `os.args()` and `os.exit()` are available");
            return true;
        }
        false
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

    fn check_unary(
        &mut self,
        ctx: &mut FnCtx,
        op: UnOp,
        inner: &Expr,
        hint: Option<TyId>,
        span: Span,
    ) -> hir::Expr {
        match op {
            UnOp::Neg => {
                if let ast::ExprKind::Int(v) = inner.kind
                    && v == 1u64 << 63
                {
                    return hir::Expr {
                        kind: ExprKind::Int(i64::MIN),
                        ty: TyId::INT,
                        span,
                    };
                }
                let v = self.check_value(ctx, inner, hint);
                let instr = match v.ty {
                    TyId::INT => Instr::INeg {},
                    TyId::FLOAT => Instr::FNeg {},
                    TyId::ERROR => return hir::Expr::error(span),
                    t => {
                        let label =
                            format!("expected `int` or `float`, found `{}`", self.ty_name(t));
                        self.error(inner.span, "cannot negate this value", label);
                        return hir::Expr::error(span);
                    }
                };
                let ty = v.ty;
                self.make_op(Op::Instr(instr), vec![v], ty, span)
            }
            UnOp::Not => {
                let v = self.check_typed(ctx, inner, TyId::BOOL);
                if v.ty != TyId::BOOL {
                    return hir::Expr::error(span);
                }
                if let ExprKind::Bool(b) = v.kind {
                    return hir::Expr {
                        kind: ExprKind::Bool(!b),
                        ty: TyId::BOOL,
                        span,
                    };
                }
                hir::Expr {
                    kind: ExprKind::Not(Box::new(v)),
                    ty: TyId::BOOL,
                    span,
                }
            }
        }
    }

    fn check_binary(
        &mut self,
        ctx: &mut FnCtx,
        op: BinOp,
        l: &Expr,
        r: &Expr,
        hint: Option<TyId>,
        span: Span,
    ) -> hir::Expr {
        if matches!(op, BinOp::And | BinOp::Or) {
            let a = self.check_typed(ctx, l, TyId::BOOL);
            let b = self.check_typed(ctx, r, TyId::BOOL);
            if a.ty != TyId::BOOL || b.ty != TyId::BOOL {
                return hir::Expr::error(span);
            }
            let is_and = op == BinOp::And;
            if let ExprKind::Bool(x) = a.kind {
                // `true && b` is `b`; `false && b` is `false` (b has no effect to keep only
                // if it is a constant; otherwise it would not run anyway).
                return if x == is_and {
                    hir::Expr { span, ..b }
                } else {
                    hir::Expr {
                        kind: ExprKind::Bool(x),
                        ty: TyId::BOOL,
                        span,
                    }
                };
            }
            let kind = if is_and {
                ExprKind::And(Box::new(a), Box::new(b))
            } else {
                ExprKind::Or(Box::new(a), Box::new(b))
            };
            return hir::Expr {
                kind,
                ty: TyId::BOOL,
                span,
            };
        }
        let arith = matches!(
            op,
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem
        );
        let a = self.check_value(ctx, l, if arith { hint } else { None });
        let b = self.check_value(ctx, r, Some(a.ty).filter(|t| *t != TyId::ERROR));
        match self.binop_instr(op, a.ty, b.ty, span) {
            Some((instr, ty)) => self.make_op(Op::Instr(instr), vec![a, b], ty, span),
            None => hir::Expr::error(span),
        }
    }

    /// The instruction and result type of `lt op rt` (not `&&`/`||`), reporting operand
    /// types that do not fit. `None` after an error.
    pub(super) fn binop_instr(
        &mut self,
        op: BinOp,
        lt: TyId,
        rt: TyId,
        span: Span,
    ) -> Option<(Instr, TyId)> {
        if self.types.contains_error(lt) || self.types.contains_error(rt) {
            return None;
        }
        let sym = op.symbol();
        if lt != rt {
            let (ln, rn) = (self.ty_name(lt), self.ty_name(rt));
            let mut d = Diagnostic::error(format!("mismatched types for `{sym}`"), span)
                .with_label(format!("`{ln}` {sym} `{rn}`"));
            if matches!(
                (lt, rt),
                (TyId::INT, TyId::FLOAT) | (TyId::FLOAT, TyId::INT)
            ) {
                d = d.with_note("there are no implicit conversions: use `float(i)` or `int(f)`");
            } else if op == BinOp::Mul && lt == TyId::STR && rt == TyId::INT {
                d = d.with_note("repeat a string with `s.repeat(n)`");
            } else if op == BinOp::Add && (lt == TyId::STR || rt == TyId::STR) {
                d = d.with_note("convert to a string with `str(x)` or use interpolation: \"${x}\"");
            }
            self.report(d);
            return None;
        }
        use Instr as I;
        let t = lt;
        let found = match (op, t) {
            (BinOp::Add, TyId::INT) => Some((I::IAdd {}, t)),
            (BinOp::Sub, TyId::INT) => Some((I::ISub {}, t)),
            (BinOp::Mul, TyId::INT) => Some((I::IMul {}, t)),
            (BinOp::Div, TyId::INT) => Some((I::IDiv {}, t)),
            (BinOp::Rem, TyId::INT) => Some((I::IRem {}, t)),
            (BinOp::Add, TyId::FLOAT) => Some((I::FAdd {}, t)),
            (BinOp::Sub, TyId::FLOAT) => Some((I::FSub {}, t)),
            (BinOp::Mul, TyId::FLOAT) => Some((I::FMul {}, t)),
            (BinOp::Div, TyId::FLOAT) => Some((I::FDiv {}, t)),
            (BinOp::Rem, TyId::FLOAT) => Some((I::FRem {}, t)),
            (BinOp::Add, TyId::STR) => Some((I::SConcat {}, t)),
            (BinOp::BitAnd, TyId::INT) => Some((I::IAnd {}, t)),
            (BinOp::BitOr, TyId::INT) => Some((I::IOr {}, t)),
            (BinOp::BitXor, TyId::INT) => Some((I::IXor {}, t)),
            (BinOp::Shl, TyId::INT) => Some((I::IShl {}, t)),
            (BinOp::Shr, TyId::INT) => Some((I::IShr {}, t)),
            (BinOp::Eq, TyId::INT) => Some((I::IEq {}, TyId::BOOL)),
            (BinOp::Ne, TyId::INT) => Some((I::INe {}, TyId::BOOL)),
            (BinOp::Lt, TyId::INT) => Some((I::ILt {}, TyId::BOOL)),
            (BinOp::Le, TyId::INT) => Some((I::ILe {}, TyId::BOOL)),
            (BinOp::Gt, TyId::INT) => Some((I::IGt {}, TyId::BOOL)),
            (BinOp::Ge, TyId::INT) => Some((I::IGe {}, TyId::BOOL)),
            (BinOp::Eq, TyId::FLOAT) => Some((I::FEq {}, TyId::BOOL)),
            (BinOp::Ne, TyId::FLOAT) => Some((I::FNe {}, TyId::BOOL)),
            (BinOp::Lt, TyId::FLOAT) => Some((I::FLt {}, TyId::BOOL)),
            (BinOp::Le, TyId::FLOAT) => Some((I::FLe {}, TyId::BOOL)),
            (BinOp::Gt, TyId::FLOAT) => Some((I::FGt {}, TyId::BOOL)),
            (BinOp::Ge, TyId::FLOAT) => Some((I::FGe {}, TyId::BOOL)),
            (BinOp::Eq, TyId::STR) => Some((I::SEq {}, TyId::BOOL)),
            (BinOp::Ne, TyId::STR) => Some((I::SNe {}, TyId::BOOL)),
            (BinOp::Lt, TyId::STR) => Some((I::SLt {}, TyId::BOOL)),
            (BinOp::Le, TyId::STR) => Some((I::SLe {}, TyId::BOOL)),
            (BinOp::Gt, TyId::STR) => Some((I::SGt {}, TyId::BOOL)),
            (BinOp::Ge, TyId::STR) => Some((I::SGe {}, TyId::BOOL)),
            (BinOp::Eq, TyId::BOOL) => Some((I::BEq {}, TyId::BOOL)),
            (BinOp::Ne, TyId::BOOL) => Some((I::BNe {}, TyId::BOOL)),
            (BinOp::Eq, t) if self.types.is_identity(t) => Some((I::REq {}, TyId::BOOL)),
            (BinOp::Ne, t) if self.types.is_identity(t) => Some((I::RNe {}, TyId::BOOL)),
            _ => None,
        };
        if found.is_none() {
            let tn = self.ty_name(t);
            let what = match op {
                BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                    "values of this type cannot be ordered (only `int`, `float` and `str`)"
                }
                BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr => {
                    "bitwise operators work on `int` only"
                }
                BinOp::Eq | BinOp::Ne => "these values cannot be compared",
                BinOp::Add if t == TyId::BOOL => "`bool` values cannot be added",
                _ => "arithmetic works on `int` and `float` (and `+` on `str`)",
            };
            self.report(
                Diagnostic::error(format!("cannot apply `{sym}` to `{tn}`"), span)
                    .with_label(format!("`{tn}` {sym} `{tn}`"))
                    .with_note(what),
            );
        }
        found
    }
}

impl Checker<'_, '_> {
    /// Computes which structs cannot be printed (they contain a function reference,
    /// directly or through other types): the least fixpoint of "some field is not
    /// printable", iterated to convergence (structs may be recursive).
    pub(super) fn compute_printable(&mut self) {
        let n = self.structs.len();
        self.unprintable = vec![false; n];
        loop {
            let mut changed = false;
            for s in 0..n {
                if self.unprintable[s] {
                    continue;
                }
                let bad = self.structs[s]
                    .fields
                    .iter()
                    .any(|(_, t, _)| !self.is_printable(*t));
                if bad {
                    self.unprintable[s] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
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
