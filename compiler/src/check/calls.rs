//! Calls: functions, function references, struct literals, conversions and the built-in
//! functions (`print`, `abs`, `array`, `math.sqrt`, `os.args`, ...).

use super::Checker;
use super::Decl;
use super::decls::TopLookup;
use super::hir::{self, ExprKind, Op, TypedOp};
use super::names::Namespace;
use super::stmt::FnCtx;
use crate::ast::{self, Arg, Expr};
use crate::diagnostics::{Diagnostic, Span};
use crate::types::{TyId, TyKind};
use rvm_vm::format::{Instr, Scalar};
use rvm_vm::host::HostFn;
use rvm_vm::natives::Native;

/// The checker type of a native's scalar.
pub(super) fn scalar_ty(s: Scalar) -> TyId {
    match s {
        Scalar::Int => TyId::INT,
        Scalar::Float => TyId::FLOAT,
        Scalar::Bool => TyId::BOOL,
        Scalar::Str => TyId::STR,
    }
}

impl Checker<'_, '_> {
    pub(super) fn check_call(
        &mut self,
        ctx: &mut FnCtx,
        callee: &Expr,
        args: &[Arg],
        hint: Option<TyId>,
        span: Span,
    ) -> hir::Expr {
        // Struct literals are the only calls with named arguments.
        match &callee.kind {
            ast::ExprKind::Ident(name) if ctx.lookup(name).is_none() => {
                match self.lookup_top(ctx.file, name) {
                    TopLookup::Found(Decl::Struct(s)) => {
                        return self.check_struct_lit(ctx, s, args, span);
                    }
                    TopLookup::Found(Decl::Fn(f)) => return self.call_fn(ctx, f, None, args, span),
                    TopLookup::Found(_) => {}
                    TopLookup::Ambiguous(files) => {
                        self.report_ambiguous(callee.span, name, &files);
                        self.check_args_loose(ctx, args);
                        return hir::Expr::error(span);
                    }
                    TopLookup::NotFound => {
                        if super::names::BUILTIN_FUNCTIONS.contains(&name.as_str()) {
                            return self.check_builtin_fn(ctx, name, args, hint, span);
                        }
                        if self.file_complete(ctx.file) {
                            let msg = format!("cannot find function `{name}` in this scope");
                            let d = Diagnostic::error(msg, callee.span).with_label("not found");
                            let names = self.value_names(ctx, ctx.file);
                            let d = self.with_suggestion(d, name, names.iter().map(String::as_str));
                            self.report(d);
                        }
                        self.check_args_loose(ctx, args);
                        return hir::Expr::error(span);
                    }
                }
            }
            ast::ExprKind::Field(base, name) => {
                if let Some(ns) = self.namespace_of(ctx, base) {
                    return self.check_ns_call(ctx, ns, name, args, span);
                }
                let recv = self.check_value(ctx, base, None);
                return self.check_method_call(ctx, recv, name, args);
            }
            _ => {}
        }
        let f = self.check_value(ctx, callee, None);
        self.call_value(ctx, f, callee.span, args, span)
    }

    /// Checks arguments whose types are unknown (after an error), for their own errors.
    pub(super) fn check_args_loose(&mut self, ctx: &mut FnCtx, args: &[Arg]) {
        for a in args {
            self.check_expr(ctx, &a.value, None);
        }
    }

    /// Reports named arguments in a call that is not a struct literal.
    fn reject_named(&mut self, args: &[Arg]) {
        for a in args {
            if let Some(n) = &a.name {
                self.error(
                    n.span,
                    "named arguments are only allowed in struct literals",
                    "remove `name:`",
                );
            }
        }
    }

    /// Checks `args` against `params`, reporting a count mismatch at `span`.
    pub(super) fn check_args(
        &mut self,
        ctx: &mut FnCtx,
        args: &[Arg],
        params: &[TyId],
        what: &str,
        span: Span,
    ) -> Vec<hir::Expr> {
        self.reject_named(args);
        if args.len() != params.len() {
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            let msg = format!(
                "{what} takes {} argument{} but {} {} supplied",
                params.len(),
                plural(params.len()),
                args.len(),
                if args.len() == 1 { "was" } else { "were" }
            );
            self.error(
                span,
                msg,
                format!("expected {} argument{}", params.len(), plural(params.len())),
            );
        }
        args.iter()
            .enumerate()
            .map(|(i, a)| match params.get(i) {
                Some(&p) => self.check_typed(ctx, &a.value, p),
                None => self.check_value(ctx, &a.value, None),
            })
            .collect()
    }

    /// A direct call of function `f`, with `recv` as the first argument for methods.
    pub(super) fn call_fn(
        &mut self,
        ctx: &mut FnCtx,
        f: u32,
        recv: Option<hir::Expr>,
        args: &[Arg],
        span: Span,
    ) -> hir::Expr {
        let entry = &self.funcs[f as usize];
        let skip = usize::from(recv.is_some());
        let params: Vec<TyId> = entry.params.iter().skip(skip).copied().collect();
        let result = entry.result.unwrap_or(TyId::UNIT);
        let what = format!("`{}`", entry.name);
        let mut all: Vec<hir::Expr> = recv.into_iter().collect();
        all.extend(self.check_args(ctx, args, &params, &what, span));
        hir::Expr {
            kind: ExprKind::Call(f, all),
            ty: result,
            span,
        }
    }

    /// A call through a value of function type.
    fn call_value(
        &mut self,
        ctx: &mut FnCtx,
        f: hir::Expr,
        fspan: Span,
        args: &[Arg],
        span: Span,
    ) -> hir::Expr {
        match self.types.kind(f.ty).clone() {
            TyKind::Fn(params, result) => {
                let args = self.check_args(ctx, args, &params, "this function", span);
                hir::Expr {
                    kind: ExprKind::CallRef(Box::new(f), args),
                    ty: result.unwrap_or(TyId::UNIT),
                    span,
                }
            }
            TyKind::Error => {
                self.check_args_loose(ctx, args);
                hir::Expr::error(span)
            }
            _ => {
                let label = format!("this has type `{}`", self.ty_name(f.ty));
                self.error(fspan, "this is not a function", label);
                self.check_args_loose(ctx, args);
                hir::Expr::error(span)
            }
        }
    }

    /// `ns.name(args)`
    #[allow(clippy::too_many_arguments)]
    fn check_ns_call(
        &mut self,
        ctx: &mut FnCtx,
        ns: Namespace,
        name: &ast::Ident,
        args: &[Arg],
        span: Span,
    ) -> hir::Expr {
        let n = name.name.as_str();
        match ns {
            Namespace::Unknown => {
                self.check_args_loose(ctx, args);
                hir::Expr::error(span)
            }
            Namespace::Extern(e) => self.check_extern_call(ctx, e, name, args, span),
            Namespace::File(t) => match self.lookup_own(t, n) {
                Some(Decl::Fn(f)) => self.call_fn(ctx, f, None, args, span),
                Some(Decl::Struct(s)) => self.check_struct_lit(ctx, s, args, span),
                Some(d) => {
                    let f = self.decl_value(ctx, d, n, name.span);
                    self.call_value(ctx, f, name.span, args, span)
                }
                None => {
                    let msg = format!("cannot find `{n}` in `{}`", self.file_name(t));
                    self.error(name.span, msg, "not declared in the imported file");
                    self.check_args_loose(ctx, args);
                    hir::Expr::error(span)
                }
            },
            Namespace::Struct(s) => match self.structs[s as usize].methods.get(n) {
                // `Point.new(...)`, or `Point.norm(p)` with `self` passed explicitly.
                Some(&f) => self.call_fn(ctx, f, None, args, span),
                None => {
                    let sn = self.structs[s as usize].name.clone();
                    self.error(name.span, format!("no method `{n}` on `{sn}`"), "not found");
                    self.check_args_loose(ctx, args);
                    hir::Expr::error(span)
                }
            },
            Namespace::Builtin("math") => match Native::by_name(&format!("math.{n}")) {
                Some(native) => self.call_native(ctx, native, args, &format!("`math.{n}`"), span),
                None => {
                    self.error(
                        name.span,
                        format!("no function `{n}` in `math`"),
                        "not found",
                    );
                    self.check_args_loose(ctx, args);
                    hir::Expr::error(span)
                }
            },
            Namespace::Builtin(m) if HostFn::is_module(m) => match HostFn::lookup(m, n) {
                Some(host) => {
                    let params: Vec<TyId> =
                        host.params().iter().map(|p| self.host_ty(*p)).collect();
                    let what = format!("`{m}.{n}`");
                    let args = self.check_args(ctx, args, &params, &what, span);
                    let ty = host.result().map_or(TyId::UNIT, |r| self.host_ty(r));
                    hir::Expr {
                        kind: ExprKind::Op(Op::Host(host), args),
                        ty,
                        span,
                    }
                }
                None => {
                    let names: Vec<String> = HostFn::functions_of(m)
                        .map(|h| format!("`{m}.{}()`", h.name()))
                        .collect();
                    self.error(
                        name.span,
                        format!("no function `{n}` in `{m}`"),
                        format!("`{m}` has {}", names.join(", ")),
                    );
                    self.check_args_loose(ctx, args);
                    hir::Expr::error(span)
                }
            },
            Namespace::Builtin(m) => {
                self.error(
                    name.span,
                    format!("no function `{n}` in `{m}`"),
                    "not found",
                );
                self.check_args_loose(ctx, args);
                hir::Expr::error(span)
            }
        }
    }

    fn host_ty(&mut self, t: rvm_vm::host::HostType) -> TyId {
        use rvm_vm::host::HostType as H;
        match t {
            H::Int => TyId::INT,
            H::Float => TyId::FLOAT,
            H::Bool => TyId::BOOL,
            H::Str => TyId::STR,
            H::StrArray => self.types.array(TyId::STR),
        }
    }

    /// A call of a native with its table signature.
    pub(super) fn call_native(
        &mut self,
        ctx: &mut FnCtx,
        native: Native,
        args: &[Arg],
        what: &str,
        span: Span,
    ) -> hir::Expr {
        let params: Vec<TyId> = native.params().iter().map(|p| scalar_ty(*p)).collect();
        let args = self.check_args(ctx, args, &params, what, span);
        let ty = native.result().map_or(TyId::UNIT, scalar_ty);
        hir::Expr {
            kind: ExprKind::Op(Op::Native(native), args),
            ty,
            span,
        }
    }

    /// `Point(x: 1.0, y: 2.0)`: every field named exactly once, in any order.
    pub(super) fn check_struct_lit(
        &mut self,
        ctx: &mut FnCtx,
        s: u32,
        args: &[Arg],
        span: Span,
    ) -> hir::Expr {
        let sname = self.structs[s as usize].name.clone();
        let nfields = self.structs[s as usize].fields.len();
        let mut seen: Vec<Option<Span>> = vec![None; nfields];
        let mut out = Vec::with_capacity(args.len());
        let mut ok = true;
        for a in args {
            let Some(n) = &a.name else {
                self.report(
                    Diagnostic::error("struct literal fields must be named", a.value.span)
                        .with_label("expected `field: value`")
                        .with_note(format!("write `{sname}(field: value, ...)`")),
                );
                self.check_expr(ctx, &a.value, None);
                ok = false;
                continue;
            };
            let found = self.structs[s as usize]
                .field_index
                .get(&n.name)
                .map(|&i| i as usize);
            let Some(idx) = found else {
                let msg = format!("struct `{sname}` has no field named `{}`", n.name);
                let d = Diagnostic::error(msg, n.span).with_label("unknown field");
                let fields: Vec<String> = self.structs[s as usize]
                    .fields
                    .iter()
                    .map(|(f, _, _)| f.clone())
                    .collect();
                let d = self.with_suggestion(d, &n.name, fields.iter().map(String::as_str));
                self.report(d);
                self.check_expr(ctx, &a.value, None);
                ok = false;
                continue;
            };
            if let Some(prev) = seen[idx] {
                self.report(
                    Diagnostic::error(
                        format!("field `{}` specified more than once", n.name),
                        n.span,
                    )
                    .with_label("specified again here")
                    .with_secondary(prev, "first specified here"),
                );
                self.check_expr(ctx, &a.value, None);
                ok = false;
                continue;
            }
            seen[idx] = Some(n.span);
            let fty = self.structs[s as usize].fields[idx].1;
            let v = self.check_typed(ctx, &a.value, fty);
            out.push((idx as u16, v));
        }
        let missing: Vec<String> = self.structs[s as usize]
            .fields
            .iter()
            .zip(&seen)
            .filter(|(_, s)| s.is_none())
            .map(|((n, _, _), _)| format!("`{n}`"))
            .collect();
        if !missing.is_empty() && ok {
            let plural = if missing.len() == 1 { "" } else { "s" };
            let msg = format!(
                "missing field{plural} {} in `{sname}` literal",
                missing.join(", ")
            );
            self.error(span, msg, "every field must be given a value");
            ok = false;
        }
        if !ok {
            // The type is known even if the literal is wrong: keep checking its uses.
            return hir::Expr {
                kind: ExprKind::Error,
                ty: self.structs[s as usize].ty,
                span,
            };
        }
        hir::Expr {
            kind: ExprKind::Struct(s, out),
            ty: self.structs[s as usize].ty,
            span,
        }
    }

    /// `print`, `abs`, `int(x)`, `array(n, v)`, ...
    fn check_builtin_fn(
        &mut self,
        ctx: &mut FnCtx,
        name: &str,
        args: &[Arg],
        hint: Option<TyId>,
        span: Span,
    ) -> hir::Expr {
        self.reject_named(args);
        let arity_error = |c: &mut Self, expected: &str| {
            let msg = format!("`{name}` takes {expected} but {} were supplied", args.len());
            c.error(span, msg, format!("expected {expected}"));
        };
        match name {
            "print" | "println" | "eprintln" => {
                let native = match name {
                    "print" => Native::Print,
                    "println" => Native::Println,
                    _ => Native::Eprintln,
                };
                let arg = match args {
                    [a] => {
                        let v = self.check_value(ctx, &a.value, None);
                        self.stringify(v)
                    }
                    [] if name != "print" => hir::Expr {
                        kind: ExprKind::Str(String::new()),
                        ty: TyId::STR,
                        span,
                    },
                    _ => {
                        arity_error(self, "1 argument");
                        self.check_args_loose(ctx, args);
                        return hir::Expr::error(span);
                    }
                };
                hir::Expr {
                    kind: ExprKind::Op(Op::Native(native), vec![arg]),
                    ty: TyId::UNIT,
                    span,
                }
            }
            "assert" => {
                let (cond, msg) = match args {
                    [c] => {
                        let cond = self.check_typed(ctx, &c.value, TyId::BOOL);
                        let text = self.snippet(c.value.span);
                        let msg = hir::Expr {
                            kind: ExprKind::Str(text),
                            ty: TyId::STR,
                            span,
                        };
                        (cond, msg)
                    }
                    [c, m] => (
                        self.check_typed(ctx, &c.value, TyId::BOOL),
                        self.check_typed(ctx, &m.value, TyId::STR),
                    ),
                    _ => {
                        arity_error(self, "1 or 2 arguments");
                        self.check_args_loose(ctx, args);
                        return hir::Expr::error(span);
                    }
                };
                hir::Expr {
                    kind: ExprKind::Op(Op::Native(Native::Assert), vec![cond, msg]),
                    ty: TyId::UNIT,
                    span,
                }
            }
            "abs" | "min" | "max" => {
                let n = if name == "abs" { 1 } else { 2 };
                if args.len() != n {
                    arity_error(self, if n == 1 { "1 argument" } else { "2 arguments" });
                    self.check_args_loose(ctx, args);
                    return hir::Expr::error(span);
                }
                let first = self.check_value(ctx, &args[0].value, hint);
                let t = first.ty;
                let mut vals = vec![first];
                for a in &args[1..] {
                    vals.push(self.check_typed(ctx, &a.value, t));
                }
                let native = match (name, t) {
                    ("abs", TyId::INT) => Native::IntAbs,
                    ("min", TyId::INT) => Native::IntMin,
                    ("max", TyId::INT) => Native::IntMax,
                    ("abs", TyId::FLOAT) => Native::FloatAbs,
                    ("min", TyId::FLOAT) => Native::FloatMin,
                    ("max", TyId::FLOAT) => Native::FloatMax,
                    (_, TyId::ERROR) => return hir::Expr::error(span),
                    _ => {
                        let label =
                            format!("expected `int` or `float`, found `{}`", self.ty_name(t));
                        self.error(
                            args[0].value.span,
                            format!("`{name}` works on numbers"),
                            label,
                        );
                        return hir::Expr::error(span);
                    }
                };
                hir::Expr {
                    kind: ExprKind::Op(Op::Native(native), vals),
                    ty: t,
                    span,
                }
            }
            "chr" => self.call_native(ctx, Native::Chr, args, "`chr`", span),
            "ord" => self.call_native(ctx, Native::Ord, args, "`ord`", span),
            "array" => {
                if args.len() != 2 {
                    arity_error(self, "2 arguments (a length and a value)");
                    self.check_args_loose(ctx, args);
                    return hir::Expr::error(span);
                }
                let n = self.check_typed(ctx, &args[0].value, TyId::INT);
                let elem_hint = hint.and_then(|h| self.types.array_elem(h));
                let v = match elem_hint {
                    Some(h) => self.check_typed(ctx, &args[1].value, h),
                    None => self.check_value(ctx, &args[1].value, None),
                };
                let elem = elem_hint.unwrap_or(v.ty);
                if v.ty == TyId::ERROR && elem_hint.is_none() {
                    return hir::Expr::error(span);
                }
                let ty = self.types.array(elem);
                hir::Expr {
                    kind: ExprKind::Op(Op::Typed(TypedOp::ArrFill, ty), vec![n, v]),
                    ty,
                    span,
                }
            }
            "int" | "float" | "str" => {
                let [a] = args else {
                    arity_error(self, "1 argument");
                    self.check_args_loose(ctx, args);
                    return hir::Expr::error(span);
                };
                let v = self.check_value(ctx, &a.value, None);
                let t = v.ty;
                if t == TyId::ERROR {
                    return hir::Expr::error(span);
                }
                match (name, t) {
                    ("str", _) => {
                        let mut s = self.stringify(v);
                        s.span = span;
                        s
                    }
                    ("int", TyId::INT) | ("float", TyId::FLOAT) => {
                        self.make_op(Op::Identity, vec![v], t, span)
                    }
                    ("int", TyId::FLOAT) => {
                        self.make_op(Op::Instr(Instr::FToI {}), vec![v], TyId::INT, span)
                    }
                    ("float", TyId::INT) => {
                        self.make_op(Op::Instr(Instr::IToF {}), vec![v], TyId::FLOAT, span)
                    }
                    _ => {
                        let mut d = Diagnostic::error(
                            format!("cannot convert `{}` to `{name}`", self.ty_name(t)),
                            a.value.span,
                        )
                        .with_label(format!(
                            "expected `int` or `float`, found `{}`",
                            self.ty_name(t)
                        ));
                        if t == TyId::STR {
                            d = d.with_note(format!("to parse a string, use `s.parse_{name}()`"));
                        }
                        self.report(d);
                        hir::Expr::error(span)
                    }
                }
            }
            _ => {
                self.check_args_loose(ctx, args);
                hir::Expr::error(span)
            }
        }
    }
}
