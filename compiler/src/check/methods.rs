//! Method calls: user methods on structs (and calls of function-typed fields), and the
//! built-in methods of arrays, maps, strings and floats.

use super::Checker;
use super::calls::scalar_ty;
use super::hir::{self, ExprKind, Op, TypedOp};
use super::stmt::FnCtx;
use crate::ast::{self, Arg};
use crate::diagnostics::{Diagnostic, Span};
use crate::types::{TyId, TyKind};
use rvm_vm::format::Instr;
use rvm_vm::natives::Native;

const ARRAY_METHODS: &[&str] = &[
    "len", "push", "pop", "insert", "remove", "slice", "contains", "index_of", "reverse", "sort",
    "sort_by", "join",
];
const MAP_METHODS: &[&str] = &["len", "has", "get", "remove", "keys", "values"];
const STR_METHODS: &[&str] = &[
    "len",
    "chars",
    "byte",
    "slice",
    "find",
    "contains",
    "starts_with",
    "ends_with",
    "split",
    "trim",
    "upper",
    "lower",
    "replace",
    "repeat",
    "parse_int",
    "parse_float",
    "is_int",
    "is_float",
];

impl Checker<'_, '_> {
    /// Whether type `ty` has a built-in method `name`.
    pub(super) fn builtin_method_exists(&self, ty: TyId, name: &str) -> bool {
        match self.types.kind(ty) {
            TyKind::Array(_) => ARRAY_METHODS.contains(&name),
            TyKind::Map(..) => MAP_METHODS.contains(&name),
            TyKind::Str => STR_METHODS.contains(&name),
            TyKind::Float => name == "to_fixed",
            _ => false,
        }
    }

    /// `recv.name(args)`
    pub(super) fn check_method_call(
        &mut self,
        ctx: &mut FnCtx,
        recv: hir::Expr,
        name: &ast::Ident,
        args: &[Arg],
    ) -> hir::Expr {
        // Runtime errors in a method call point at the method name.
        let call_span = name.span;
        let n = name.name.as_str();
        let ty = recv.ty;
        match self.types.kind(ty).clone() {
            TyKind::Error => {
                self.check_args_loose(ctx, args);
                hir::Expr::error(call_span)
            }
            TyKind::Struct(s) => {
                if let Some(&f) = self.structs[s as usize].methods.get(n) {
                    if self.funcs[f as usize].decl.self_param.is_none() {
                        let sn = self.structs[s as usize].name.clone();
                        self.report(
                            Diagnostic::error(
                                format!("`{sn}.{n}` does not take `self`"),
                                name.span,
                            )
                            .with_label("called on a value")
                            .with_note(format!("call it as `{sn}.{n}(...)`")),
                        );
                        self.check_args_loose(ctx, args);
                        return hir::Expr::error(call_span);
                    }
                    return self.call_fn(ctx, f, Some(recv), args, call_span);
                }
                if let Some((idx, fty)) = self.field_index(ty, n)
                    && let TyKind::Fn(params, result) = self.types.kind(fty).clone()
                {
                    let field = hir::Expr {
                        kind: ExprKind::Field(Box::new(recv), idx),
                        ty: fty,
                        span: name.span,
                    };
                    let args =
                        self.check_args(ctx, args, &params, &format!("field `{n}`"), call_span);
                    return hir::Expr {
                        kind: ExprKind::CallRef(Box::new(field), args),
                        ty: result.unwrap_or(TyId::UNIT),
                        span: call_span,
                    };
                }
                let sn = self.structs[s as usize].name.clone();
                let mut d = Diagnostic::error(format!("no method `{n}` on `{sn}`"), name.span)
                    .with_label("method not found");
                if let Some((_, fty)) = self.field_index(ty, n) {
                    let ft = self.ty_name(fty);
                    d = d.with_note(format!("`{n}` is a field of type `{ft}`, not a method"));
                } else {
                    let mut names: Vec<String> =
                        self.structs[s as usize].methods.keys().cloned().collect();
                    names.sort();
                    d = self.with_suggestion(d, n, names.iter().map(String::as_str));
                }
                self.report(d);
                self.check_args_loose(ctx, args);
                hir::Expr::error(call_span)
            }
            TyKind::Array(elem) => self.array_method(ctx, recv, elem, name, args, call_span),
            TyKind::Map(k, v) => self.map_method(ctx, recv, k, v, name, args, call_span),
            TyKind::Str => self.str_method(ctx, recv, name, args, call_span),
            TyKind::Float if n == "to_fixed" => self.native_method(
                ctx,
                recv,
                Native::FloatToFixed,
                args,
                "`to_fixed`",
                call_span,
            ),
            _ => {
                let tn = self.ty_name(ty);
                self.error(
                    name.span,
                    format!("no method `{n}` on type `{tn}`"),
                    "method not found",
                );
                self.check_args_loose(ctx, args);
                hir::Expr::error(call_span)
            }
        }
    }

    /// A method implemented by a native whose first parameter is the receiver.
    fn native_method(
        &mut self,
        ctx: &mut FnCtx,
        recv: hir::Expr,
        native: Native,
        args: &[Arg],
        what: &str,
        span: Span,
    ) -> hir::Expr {
        let params: Vec<TyId> = native.params()[1..].iter().map(|p| scalar_ty(*p)).collect();
        let mut all = vec![recv];
        all.extend(self.check_args(ctx, args, &params, what, span));
        hir::Expr {
            kind: ExprKind::Op(Op::Native(native), all),
            ty: native.result().map_or(TyId::UNIT, scalar_ty),
            span,
        }
    }

    /// A method implemented by an operation taking the receiver and `params`.
    #[allow(clippy::too_many_arguments)]
    fn op_method(
        &mut self,
        ctx: &mut FnCtx,
        recv: hir::Expr,
        op: Op,
        params: &[TyId],
        result: TyId,
        args: &[Arg],
        name: &str,
        span: Span,
    ) -> hir::Expr {
        let mut all = vec![recv];
        all.extend(self.check_args(ctx, args, params, &format!("`{name}`"), span));
        hir::Expr {
            kind: ExprKind::Op(op, all),
            ty: result,
            span,
        }
    }

    fn array_method(
        &mut self,
        ctx: &mut FnCtx,
        recv: hir::Expr,
        elem: TyId,
        name: &ast::Ident,
        args: &[Arg],
        span: Span,
    ) -> hir::Expr {
        use Instr as I;
        let n = name.name.as_str();
        let arr = recv.ty;
        let i = |x| Op::Instr(x);
        let (op, params, result) = match n {
            "len" => (i(I::ArrLen {}), vec![], TyId::INT),
            "push" => (i(I::ArrPush {}), vec![elem], TyId::UNIT),
            "pop" => (i(I::ArrPop {}), vec![], elem),
            "insert" => (i(I::ArrInsert {}), vec![TyId::INT, elem], TyId::UNIT),
            "remove" => (i(I::ArrRemove {}), vec![TyId::INT], elem),
            "slice" => (i(I::ArrSlice {}), vec![TyId::INT, TyId::INT], arr),
            "contains" => (i(I::ArrContains {}), vec![elem], TyId::BOOL),
            "index_of" => (i(I::ArrIndexOf {}), vec![elem], TyId::INT),
            "reverse" => (i(I::ArrReverse {}), vec![], TyId::UNIT),
            "sort" => {
                if !matches!(elem, TyId::INT | TyId::FLOAT | TyId::STR | TyId::ERROR) {
                    let tn = self.ty_name(arr);
                    self.report(
                        Diagnostic::error(format!("cannot sort `{tn}`"), name.span)
                            .with_label("`sort` works on `[int]`, `[float]` and `[str]`")
                            .with_note("use `sort_by(f)` with a comparison function"),
                    );
                }
                (i(I::ArrSort {}), vec![], TyId::UNIT)
            }
            "sort_by" => {
                let f = self.types.func(vec![elem, elem], Some(TyId::INT));
                (i(I::ArrSortBy {}), vec![f], TyId::UNIT)
            }
            "join" => {
                if !matches!(elem, TyId::STR | TyId::ERROR) {
                    let tn = self.ty_name(arr);
                    self.report(
                        Diagnostic::error(format!("cannot join `{tn}`"), name.span)
                            .with_label("`join` works on `[str]`")
                            .with_note("convert the elements with `str(x)` first"),
                    );
                }
                (i(I::ArrJoin {}), vec![TyId::STR], TyId::STR)
            }
            _ => return self.unknown_method(ctx, arr, name, args, span),
        };
        self.op_method(ctx, recv, op, &params, result, args, n, span)
    }

    #[allow(clippy::too_many_arguments)]
    fn map_method(
        &mut self,
        ctx: &mut FnCtx,
        recv: hir::Expr,
        k: TyId,
        v: TyId,
        name: &ast::Ident,
        args: &[Arg],
        span: Span,
    ) -> hir::Expr {
        use Instr as I;
        let n = name.name.as_str();
        let i = |x| Op::Instr(x);
        let (op, params, result) = match n {
            "len" => (i(I::MapLen {}), vec![], TyId::INT),
            "has" => (i(I::MapHas {}), vec![k], TyId::BOOL),
            "get" => (i(I::MapGetOr {}), vec![k, v], v),
            "remove" => (i(I::MapRemove {}), vec![k], v),
            "keys" => {
                let t = self.types.array(k);
                (Op::Typed(TypedOp::MapKeys, t), vec![], t)
            }
            "values" => {
                let t = self.types.array(v);
                (Op::Typed(TypedOp::MapValues, t), vec![], t)
            }
            _ => return self.unknown_method(ctx, recv.ty, name, args, span),
        };
        self.op_method(ctx, recv, op, &params, result, args, n, span)
    }

    fn str_method(
        &mut self,
        ctx: &mut FnCtx,
        recv: hir::Expr,
        name: &ast::Ident,
        args: &[Arg],
        span: Span,
    ) -> hir::Expr {
        let n = name.name.as_str();
        match n {
            "chars" => {
                let t = self.types.array(TyId::STR);
                self.op_method(
                    ctx,
                    recv,
                    Op::Typed(TypedOp::SChars, t),
                    &[],
                    t,
                    args,
                    n,
                    span,
                )
            }
            "split" => {
                let t = self.types.array(TyId::STR);
                self.op_method(
                    ctx,
                    recv,
                    Op::Typed(TypedOp::SSplit, t),
                    &[TyId::STR],
                    t,
                    args,
                    n,
                    span,
                )
            }
            _ => match Native::by_name(&format!("str.{n}")) {
                Some(native) => {
                    self.native_method(ctx, recv, native, args, &format!("`{n}`"), span)
                }
                None => self.unknown_method(ctx, TyId::STR, name, args, span),
            },
        }
    }

    fn unknown_method(
        &mut self,
        ctx: &mut FnCtx,
        ty: TyId,
        name: &ast::Ident,
        args: &[Arg],
        span: Span,
    ) -> hir::Expr {
        let tn = self.ty_name(ty);
        let d = Diagnostic::error(
            format!("no method `{}` on type `{tn}`", name.name),
            name.span,
        )
        .with_label("method not found");
        let list = match self.types.kind(ty) {
            TyKind::Array(_) => ARRAY_METHODS,
            TyKind::Map(..) => MAP_METHODS,
            _ => STR_METHODS,
        };
        let d = self.with_suggestion(d, &name.name, list.iter().copied());
        self.report(d);
        self.check_args_loose(ctx, args);
        hir::Expr::error(span)
    }
}
