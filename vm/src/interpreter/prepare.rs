//! Superinstructions: the interpreter's own form of verified code.
//!
//! A stack machine spends most of its time dispatching tiny instructions: `s = s + i` is
//! four (`local.get s; local.get i; i.add; local.set s`), `while i < n` four more. When a
//! module is verified, each function's code is copied into [`Op`]s and every position where a
//! common pattern *starts* gets a fused op that does the whole pattern in one dispatch and
//! continues after it. The pattern's other instructions stay in place, one `Op::I` each, so
//! a jump into the middle of a pattern still executes exactly the original instructions;
//! and since instruction indices are unchanged, stack maps, line tables and traps need no
//! translation. Only patterns that cannot allocate are fused, and all but two cannot trap
//! (integer division and remainder only by a non-zero constant); the two that can
//! (`L L arr.get`, `L L L arr.set`) set `pc` to the array instruction before trapping, so
//! traces are exact and no collection ever observes a skipped `pc`.
//!
//! The patterns, where `op` is a non-trapping `int` or `float` operation, `k` a constant
//! (`i.const`, `f.const`, `b.const`) and `L` a `local.get`: `L L op`, `L k op`, `L op`,
//! `k op`, each optionally followed by `local.set` (or, for comparisons, by `jmp.ifnot` /
//! `jmp.if` after `L L` and `L k`); `op local.set`; `cmp jmp.ifnot|jmp.if`; `L L`;
//! `L local.set`; `k local.set`; `L ret`; and the access forms `L field.get`,
//! `L dup field.get`, `L L arr.get` and `L L L arr.set` (the last two can trap, and report
//! the array instruction).
//!
//! **Stack and local facts.** The dispatch loop's stack and local accesses are unchecked and
//! rely on the verifier's facts at each reachable instruction (see `exec`). A fused op keeps
//! them: it is only ever built where its first instruction starts, every instruction of a
//! pattern but the last falls through to the next (so all of them were reached and
//! verified, none replaced by `nop`), its local indices are those instructions' verified
//! operands, it pops no more than they pop in sequence and its peak depth never exceeds
//! theirs (`L L op` pushes one where the sequence peaks at two), and it continues exactly
//! where the last of them would.
//!
//! **Why at verification, not per VM.** The prepared code is a pure function of the verified
//! code, so it is computed once (by the verifier, stored in `VerifiedFunction`) and shared
//! by every VM that runs the module: creating a VM (a sandbox per request) costs only its
//! globals and string constants, never a pass over the code.

use crate::format::Instr;

/// A `u16` stored as bytes: fused ops keep alignment 1 so that [`Op`] fits in the niche of
/// [`Instr`]'s tag and stays 16 bytes (one cache line holds four).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct U16([u8; 2]);

impl U16 {
    #[inline(always)]
    pub(crate) fn get(self) -> usize {
        u16::from_le_bytes(self.0) as usize
    }
}

/// A `u32` stored as bytes (see [`U16`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct U32([u8; 4]);

impl U32 {
    #[inline(always)]
    pub(crate) fn get(self) -> usize {
        u32::from_le_bytes(self.0) as usize
    }
}

/// An `i64` stored as bytes (see [`U16`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct I64([u8; 8]);

impl I64 {
    #[inline(always)]
    pub(crate) fn get(self) -> u64 {
        u64::from_le_bytes(self.0)
    }
}

fn u16_(v: u16) -> U16 {
    U16(v.to_le_bytes())
}

fn u32_(v: u32) -> U32 {
    U32(v.to_le_bytes())
}

fn i64_(v: i64) -> I64 {
    I64(v.to_le_bytes())
}

/// An operation that cannot trap (the division forms are only built with a non-zero
/// constant divisor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    And,
    Or,
    Xor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    FAdd,
    FSub,
    FMul,
    FDiv,
    FRem,
    FEq,
    FNe,
    FLt,
    FLe,
    FGt,
    FGe,
}

impl BinOp {
    /// The operation of `instr`, if it is one that never traps.
    fn of(instr: &Instr) -> Option<BinOp> {
        Some(match instr {
            Instr::IAdd {} => BinOp::Add,
            Instr::ISub {} => BinOp::Sub,
            Instr::IMul {} => BinOp::Mul,
            Instr::IAnd {} => BinOp::And,
            Instr::IOr {} => BinOp::Or,
            Instr::IXor {} => BinOp::Xor,
            Instr::IShl {} => BinOp::Shl,
            Instr::IShr {} => BinOp::Shr,
            Instr::IEq {} => BinOp::Eq,
            Instr::INe {} => BinOp::Ne,
            Instr::ILt {} => BinOp::Lt,
            Instr::ILe {} => BinOp::Le,
            Instr::IGt {} => BinOp::Gt,
            Instr::IGe {} => BinOp::Ge,
            Instr::FAdd {} => BinOp::FAdd,
            Instr::FSub {} => BinOp::FSub,
            Instr::FMul {} => BinOp::FMul,
            Instr::FDiv {} => BinOp::FDiv,
            Instr::FRem {} => BinOp::FRem,
            Instr::FEq {} => BinOp::FEq,
            Instr::FNe {} => BinOp::FNe,
            Instr::FLt {} => BinOp::FLt,
            Instr::FLe {} => BinOp::FLe,
            Instr::FGt {} => BinOp::FGt,
            Instr::FGe {} => BinOp::FGe,
            _ => return None,
        })
    }

    /// The operation of `instr` with the constant right operand `k` (which makes integer
    /// division safe when `k` is not zero).
    fn with_const(instr: &Instr, k: u64) -> Option<BinOp> {
        match instr {
            Instr::IDiv {} if k != 0 => Some(BinOp::Div),
            Instr::IRem {} if k != 0 => Some(BinOp::Rem),
            other => BinOp::of(other),
        }
    }

    /// Applies the operation to two slots (comparisons give 0 or 1).
    #[inline(always)]
    pub(crate) fn eval(self, a: u64, b: u64) -> u64 {
        let (x, y) = (a as i64, b as i64);
        let (f, g) = (f64::from_bits(a), f64::from_bits(b));
        match self {
            BinOp::Add => x.wrapping_add(y) as u64,
            BinOp::Sub => x.wrapping_sub(y) as u64,
            BinOp::Mul => x.wrapping_mul(y) as u64,
            // Only built with a non-zero constant divisor; `checked` keeps a broken
            // invariant from panicking.
            BinOp::Div => x.checked_div(y).unwrap_or(x.wrapping_neg()) as u64,
            BinOp::Rem => x.checked_rem(y).unwrap_or(0) as u64,
            BinOp::And => a & b,
            BinOp::Or => a | b,
            BinOp::Xor => a ^ b,
            BinOp::Shl => x.wrapping_shl(y as u32 & 63) as u64,
            BinOp::Shr => x.wrapping_shr(y as u32 & 63) as u64,
            BinOp::Eq => (x == y) as u64,
            BinOp::Ne => (x != y) as u64,
            BinOp::Lt => (x < y) as u64,
            BinOp::Le => (x <= y) as u64,
            BinOp::Gt => (x > y) as u64,
            BinOp::Ge => (x >= y) as u64,
            BinOp::FAdd => crate::float::canonical_bits(f + g),
            BinOp::FSub => crate::float::canonical_bits(f - g),
            BinOp::FMul => crate::float::canonical_bits(f * g),
            BinOp::FDiv => crate::float::canonical_bits(f / g),
            BinOp::FRem => crate::float::canonical_bits(f % g),
            BinOp::FEq => (f == g) as u64,
            BinOp::FNe => (f != g) as u64,
            BinOp::FLt => (f < g) as u64,
            BinOp::FLe => (f <= g) as u64,
            BinOp::FGt => (f > g) as u64,
            BinOp::FGe => (f >= g) as u64,
        }
    }

    fn is_compare(self) -> bool {
        matches!(
            self,
            BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge
                | BinOp::FEq
                | BinOp::FNe
                | BinOp::FLt
                | BinOp::FLe
                | BinOp::FGt
                | BinOp::FGe
        )
    }
}

/// One position of prepared code. `a`, `b` and `dst` are local indices, `v` a constant's
/// slot, `target` an instruction index. The comment gives the pattern and its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// The instruction itself.
    I(Instr),
    /// `L a; L b; op` (3): pushes `a op b`.
    LocalLocal { op: BinOp, a: U16, b: U16 },
    /// `L a; L b; op; local.set dst` (4).
    LocalLocalSet { op: BinOp, a: U16, b: U16, dst: U16 },
    /// `L a; L b; cmp; jmp.ifnot target` (4).
    LocalLocalJmpNot {
        op: BinOp,
        a: U16,
        b: U16,
        target: U32,
    },
    /// `L a; L b; cmp; jmp.if target` (4).
    LocalLocalJmpIf {
        op: BinOp,
        a: U16,
        b: U16,
        target: U32,
    },
    /// `L a; k v; op` (3): pushes `a op v`.
    LocalConst { op: BinOp, a: U16, v: I64 },
    /// `L a; k v; op; local.set dst` (4).
    LocalConstSet { op: BinOp, a: U16, dst: U16, v: I64 },
    /// `L a; k v; cmp; jmp.ifnot target` (4).
    LocalConstJmpNot {
        op: BinOp,
        a: U16,
        target: U32,
        v: I64,
    },
    /// `L a; k v; cmp; jmp.if target` (4).
    LocalConstJmpIf {
        op: BinOp,
        a: U16,
        target: U32,
        v: I64,
    },
    /// `L a; op` (2): the top becomes `top op a`.
    StackLocal { op: BinOp, a: U16 },
    /// `L a; op; local.set dst` (3): pops the top, stores `top op a`.
    StackLocalSet { op: BinOp, a: U16, dst: U16 },
    /// `k v; op` (2): the top becomes `top op v`.
    StackConst { op: BinOp, v: I64 },
    /// `k v; op; local.set dst` (3).
    StackConstSet { op: BinOp, dst: U16, v: I64 },
    /// `op; local.set dst` (2): pops two, stores the result.
    BinSet { op: BinOp, dst: U16 },
    /// `cmp; jmp.ifnot target` (2) on the two top operands.
    CmpJmpNot { op: BinOp, target: U32 },
    /// `cmp; jmp.if target` (2) on the two top operands.
    CmpJmpIf { op: BinOp, target: U32 },
    /// `L a; L b` (2).
    LocalLocalGet { a: U16, b: U16 },
    /// `L a; local.set dst` (2).
    LocalMove { a: U16, dst: U16 },
    /// `k v; local.set dst` (2).
    ConstSet { dst: U16, v: I64 },
    /// `L a; ret` (2).
    RetLocal { a: U16 },
    /// `L a; field.get index` (2).
    LocalField { a: U16, index: U16 },
    /// `L a; dup; field.get index` (3): the start of `a.f op= x`.
    LocalDupField { a: U16, index: U16 },
    /// `L a; L b; arr.get` (3): may trap (bounds), reported at the `arr.get`.
    LocalLocalArrGet { a: U16, b: U16 },
    /// `L a; L b; L c; arr.set` (4): `a[b] = c`; may trap, reported at the `arr.set`.
    LocalsArrSet { a: U16, b: U16, c: U16 },
}

/// Prepares one function's verified code.
pub(crate) fn prepare(code: &[Instr]) -> Box<[Op]> {
    let mut ops: Vec<Op> = code.iter().map(|&i| Op::I(i)).collect();
    for (i, op) in ops.iter_mut().enumerate() {
        if let Some(fused) = fuse(&code[i..]) {
            *op = fused;
        }
    }
    ops.into_boxed_slice()
}

/// The slot of a scalar constant instruction.
fn constant(instr: &Instr) -> Option<u64> {
    match *instr {
        Instr::IConst { value } => Some(value as u64),
        Instr::FConst { value } => Some(value.0),
        Instr::BConst { value } => Some((value != 0) as u64),
        _ => None,
    }
}

fn fuse(code: &[Instr]) -> Option<Op> {
    let (first, second) = (code.first()?, code.get(1)?);
    let third = code.get(2);
    let fourth = code.get(3);
    let local_set = |i: Option<&Instr>| match i {
        Some(Instr::LocalSet { index }) => Some(u16_(*index)),
        _ => None,
    };
    let jump = |i: Option<&Instr>| match i {
        Some(Instr::JmpIfNot { target }) => Some((false, u32_(*target))),
        Some(Instr::JmpIf { target }) => Some((true, u32_(*target))),
        _ => None,
    };
    match (first, second) {
        (Instr::LocalGet { index: a }, Instr::LocalGet { index: b })
            if matches!(third, Some(Instr::LocalGet { .. }))
                && fourth == Some(&Instr::ArrSet {}) =>
        {
            let Some(Instr::LocalGet { index: c }) = third else {
                return None;
            };
            Some(Op::LocalsArrSet {
                a: u16_(*a),
                b: u16_(*b),
                c: u16_(*c),
            })
        }
        (Instr::LocalGet { index: a }, Instr::LocalGet { index: b })
            if third == Some(&Instr::ArrGet {}) =>
        {
            Some(Op::LocalLocalArrGet {
                a: u16_(*a),
                b: u16_(*b),
            })
        }
        (Instr::LocalGet { index: a }, Instr::FieldGet { index }) => Some(Op::LocalField {
            a: u16_(*a),
            index: u16_(*index),
        }),
        (Instr::LocalGet { index: a }, Instr::Dup {}) => match third {
            Some(Instr::FieldGet { index }) => Some(Op::LocalDupField {
                a: u16_(*a),
                index: u16_(*index),
            }),
            _ => None,
        },
        (Instr::LocalGet { index: a }, Instr::LocalGet { index: b }) => {
            let (a, b) = (u16_(*a), u16_(*b));
            let Some(op) = third.and_then(BinOp::of) else {
                return Some(Op::LocalLocalGet { a, b });
            };
            if let Some(dst) = local_set(fourth) {
                return Some(Op::LocalLocalSet { op, a, b, dst });
            }
            Some(match jump(fourth) {
                Some((false, target)) if op.is_compare() => {
                    Op::LocalLocalJmpNot { op, a, b, target }
                }
                Some((true, target)) if op.is_compare() => Op::LocalLocalJmpIf { op, a, b, target },
                _ => Op::LocalLocal { op, a, b },
            })
        }
        (Instr::LocalGet { index: a }, k) if constant(k).is_some() => {
            let (a, k) = (u16_(*a), constant(k)?);
            let op = third.and_then(|i| BinOp::with_const(i, k))?;
            let v = i64_(k as i64);
            if let Some(dst) = local_set(fourth) {
                return Some(Op::LocalConstSet { op, a, dst, v });
            }
            Some(match jump(fourth) {
                Some((false, target)) if op.is_compare() => {
                    Op::LocalConstJmpNot { op, a, target, v }
                }
                Some((true, target)) if op.is_compare() => Op::LocalConstJmpIf { op, a, target, v },
                _ => Op::LocalConst { op, a, v },
            })
        }
        (Instr::LocalGet { index: a }, Instr::Ret {}) => Some(Op::RetLocal { a: u16_(*a) }),
        (Instr::LocalGet { index: a }, Instr::LocalSet { index: dst }) => Some(Op::LocalMove {
            a: u16_(*a),
            dst: u16_(*dst),
        }),
        (Instr::LocalGet { index: a }, bin) => {
            let (a, op) = (u16_(*a), BinOp::of(bin)?);
            Some(match local_set(third) {
                Some(dst) => Op::StackLocalSet { op, a, dst },
                None => Op::StackLocal { op, a },
            })
        }
        (k, Instr::LocalSet { index: dst }) if constant(k).is_some() => Some(Op::ConstSet {
            dst: u16_(*dst),
            v: i64_(constant(k)? as i64),
        }),
        (k, bin) if constant(k).is_some() => {
            let k = constant(k)?;
            let op = BinOp::with_const(bin, k)?;
            let v = i64_(k as i64);
            Some(match local_set(third) {
                Some(dst) => Op::StackConstSet { op, dst, v },
                None => Op::StackConst { op, v },
            })
        }
        (bin, next) => {
            let op = BinOp::of(bin)?;
            if let Some(dst) = local_set(Some(next)) {
                return Some(Op::BinSet { op, dst });
            }
            match jump(Some(next)) {
                Some((false, target)) if op.is_compare() => Some(Op::CmpJmpNot { op, target }),
                Some((true, target)) if op.is_compare() => Some(Op::CmpJmpIf { op, target }),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::F64Bits;

    #[test]
    fn op_stays_small() {
        assert!(
            std::mem::size_of::<Op>() <= 16,
            "{}",
            std::mem::size_of::<Op>()
        );
    }

    #[test]
    fn fuses_a_loop_header_and_keeps_the_originals() {
        let code = [
            Instr::LocalGet { index: 0 },
            Instr::IConst { value: 10 },
            Instr::ILt {},
            Instr::JmpIfNot { target: 9 },
            Instr::Ret {},
        ];
        let ops = prepare(&code);
        assert_eq!(
            ops[0],
            Op::LocalConstJmpNot {
                op: BinOp::Lt,
                a: u16_(0),
                target: u32_(9),
                v: i64_(10),
            }
        );
        assert_eq!(
            ops[1],
            Op::StackConst {
                op: BinOp::Lt,
                v: i64_(10)
            }
        );
        assert_eq!(
            ops[2],
            Op::CmpJmpNot {
                op: BinOp::Lt,
                target: u32_(9),
            }
        );
        assert_eq!(ops[4], Op::I(Instr::Ret {}));
    }

    #[test]
    fn fused_arithmetic_matches_the_instructions() {
        let min = i64::MIN as u64;
        let m1 = -1i64 as u64;
        assert_eq!(BinOp::Div.eval(min, m1), min);
        assert_eq!(BinOp::Rem.eval(min, m1), 0);
        assert_eq!(BinOp::Div.eval(-7i64 as u64, 2) as i64, -3);
        assert_eq!(BinOp::Rem.eval(-7i64 as u64, 2) as i64, -1);
        assert_eq!(BinOp::Shl.eval(1, 65), 2);
        assert_eq!(BinOp::Shr.eval(-16i64 as u64, 2) as i64, -4);
        assert_eq!(BinOp::Add.eval(i64::MAX as u64, 1), min);
        let nan = f64::NAN.to_bits();
        assert_eq!(BinOp::FEq.eval(nan, nan), 0);
        assert_eq!(BinOp::FNe.eval(nan, nan), 1);
        assert_eq!(
            f64::from_bits(BinOp::FRem.eval((-7.5f64).to_bits(), 2.0f64.to_bits())),
            -1.5
        );
    }

    #[test]
    fn division_is_fused_only_by_a_nonzero_constant() {
        let rem = |k: i64| {
            prepare(&[
                Instr::LocalGet { index: 0 },
                Instr::IConst { value: k },
                Instr::IRem {},
                Instr::Ret {},
            ])[0]
        };
        assert!(matches!(rem(7), Op::LocalConst { op: BinOp::Rem, .. }));
        assert_eq!(rem(0), Op::I(Instr::LocalGet { index: 0 }));
        let div = prepare(&[
            Instr::LocalGet { index: 0 },
            Instr::LocalGet { index: 1 },
            Instr::IDiv {},
            Instr::Ret {},
        ]);
        assert_eq!(
            div[0],
            Op::LocalLocalGet {
                a: u16_(0),
                b: u16_(1)
            }
        );
        assert_eq!(div[1], Op::I(Instr::LocalGet { index: 1 }));
        let float = prepare(&[
            Instr::LocalGet { index: 0 },
            Instr::FConst {
                value: F64Bits::new(2.0),
            },
            Instr::FMul {},
            Instr::LocalSet { index: 1 },
        ]);
        assert_eq!(
            float[0],
            Op::LocalConstSet {
                op: BinOp::FMul,
                a: u16_(0),
                dst: u16_(1),
                v: i64_(2.0f64.to_bits() as i64),
            }
        );
    }
}
