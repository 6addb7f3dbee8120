//! Constant folding: operations whose operands are all constants are computed at compile
//! time, with exactly the run-time semantics (wrapping int arithmetic, IEEE floats,
//! byte-wise string order). Anything that would trap at run time (a zero divisor) is left
//! for run time, so folding never changes behaviour; a `const` whose value therefore is not
//! a constant is reported by the caller.

use super::Checker;
use super::hir::{self, ExprKind, Op, TypedOp};
use crate::diagnostics::Span;
use crate::types::TyId;
use rvm_vm::format::Instr;

impl Checker<'_, '_> {
    /// Builds `op(args)` of type `ty`, folded when possible.
    pub(super) fn make_op(
        &mut self,
        op: Op,
        args: Vec<hir::Expr>,
        ty: TyId,
        span: Span,
    ) -> hir::Expr {
        if let Some(kind) = fold(op, &args) {
            return hir::Expr { kind, ty, span };
        }
        if matches!(op, Op::Identity) {
            if let Some(mut a) = args.into_iter().next() {
                a.span = span;
                return a;
            }
            return hir::Expr::error(span);
        }
        hir::Expr {
            kind: ExprKind::Op(op, args),
            ty,
            span,
        }
    }
}

fn fold(op: Op, args: &[hir::Expr]) -> Option<ExprKind> {
    use ExprKind as K;
    let kinds: Vec<&ExprKind> = args.iter().map(|a| &a.kind).collect();
    match op {
        Op::Identity => match kinds.as_slice() {
            [K::Int(_) | K::Float(_) | K::Bool(_) | K::Str(_)] => Some(kinds[0].clone()),
            _ => None,
        },
        Op::Typed(TypedOp::ToStr, _) => match kinds.as_slice() {
            [K::Int(i)] => Some(K::Str(i.to_string())),
            [K::Bool(b)] => Some(K::Str(b.to_string())),
            [K::Str(s)] => Some(K::Str(s.clone())),
            _ => None,
        },
        Op::Instr(instr) => match kinds.as_slice() {
            [K::Int(a)] => fold_int1(instr, *a),
            [K::Float(a)] => fold_float1(instr, *a),
            [K::Int(a), K::Int(b)] => fold_int2(instr, *a, *b),
            [K::Float(a), K::Float(b)] => fold_float2(instr, *a, *b),
            [K::Bool(a), K::Bool(b)] => match instr {
                Instr::BEq {} => Some(K::Bool(a == b)),
                Instr::BNe {} => Some(K::Bool(a != b)),
                _ => None,
            },
            [K::Str(a), K::Str(b)] => match instr {
                Instr::SConcat {} => Some(K::Str(format!("{a}{b}"))),
                Instr::SEq {} => Some(K::Bool(a == b)),
                Instr::SNe {} => Some(K::Bool(a != b)),
                Instr::SLt {} => Some(K::Bool(a.as_bytes() < b.as_bytes())),
                Instr::SLe {} => Some(K::Bool(a.as_bytes() <= b.as_bytes())),
                Instr::SGt {} => Some(K::Bool(a.as_bytes() > b.as_bytes())),
                Instr::SGe {} => Some(K::Bool(a.as_bytes() >= b.as_bytes())),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

fn fold_int1(instr: Instr, a: i64) -> Option<ExprKind> {
    match instr {
        Instr::INeg {} => Some(ExprKind::Int(a.wrapping_neg())),
        Instr::IToF {} => Some(ExprKind::Float(a as f64)),
        _ => None,
    }
}

fn fold_float1(instr: Instr, a: f64) -> Option<ExprKind> {
    match instr {
        Instr::FNeg {} => Some(ExprKind::Float(-a)),
        // `as` truncates toward zero, saturates, and maps NaN to 0: the language's `int(f)`.
        Instr::FToI {} => Some(ExprKind::Int(a as i64)),
        _ => None,
    }
}

fn fold_int2(instr: Instr, a: i64, b: i64) -> Option<ExprKind> {
    use ExprKind::{Bool, Int};
    Some(match instr {
        Instr::IAdd {} => Int(a.wrapping_add(b)),
        Instr::ISub {} => Int(a.wrapping_sub(b)),
        Instr::IMul {} => Int(a.wrapping_mul(b)),
        Instr::IDiv {} if b != 0 => Int(a.wrapping_div(b)),
        Instr::IRem {} if b != 0 => Int(a.wrapping_rem(b)),
        Instr::IAnd {} => Int(a & b),
        Instr::IOr {} => Int(a | b),
        Instr::IXor {} => Int(a ^ b),
        Instr::IShl {} => Int(a.wrapping_shl((b & 63) as u32)),
        Instr::IShr {} => Int(a.wrapping_shr((b & 63) as u32)),
        Instr::IEq {} => Bool(a == b),
        Instr::INe {} => Bool(a != b),
        Instr::ILt {} => Bool(a < b),
        Instr::ILe {} => Bool(a <= b),
        Instr::IGt {} => Bool(a > b),
        Instr::IGe {} => Bool(a >= b),
        _ => return None,
    })
}

fn fold_float2(instr: Instr, a: f64, b: f64) -> Option<ExprKind> {
    use ExprKind::{Bool, Float};
    use rvm_vm::float::canonical;
    Some(match instr {
        // NaN-canonical like the VM's arithmetic (`rvm_vm::float`): the machine's own
        // NaN would make the bytecode, and where the constant sorts, differ by machine.
        Instr::FAdd {} => Float(canonical(a + b)),
        Instr::FSub {} => Float(canonical(a - b)),
        Instr::FMul {} => Float(canonical(a * b)),
        Instr::FDiv {} => Float(canonical(a / b)),
        Instr::FRem {} => Float(canonical(a % b)),
        Instr::FEq {} => Bool(a == b),
        Instr::FNe {} => Bool(a != b),
        Instr::FLt {} => Bool(a < b),
        Instr::FLe {} => Bool(a <= b),
        Instr::FGt {} => Bool(a > b),
        Instr::FGe {} => Bool(a >= b),
        _ => return None,
    })
}
