//! Operators: unary `-` and `!`, the binary operators, and the instruction each one
//! compiles to for its operand type. Both operands must have the same type (there are no
//! implicit conversions); `==`/`!=` compare scalars by value and everything else by
//! identity; constant operands are folded.

use super::Checker;
use super::hir::{self, ExprKind, Op};
use super::stmt::FnCtx;
use crate::ast::{self, BinOp, Expr, UnOp};
use crate::diagnostics::{Diagnostic, Span};
use crate::types::TyId;
use rvm_vm::format::Instr;

impl Checker<'_, '_> {
    pub(super) fn check_unary(
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

    pub(super) fn check_binary(
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
