//! Superinstructions: the interpreter's own form of verified code.
//!
//! A stack machine spends most of its time dispatching tiny instructions: `s = s + i` is
//! four (`local.get s; local.get i; i.add; local.set s`), `while i < n` four more. When the
//! VM is created, each function's code is copied into [`Op`]s and every position where a
//! common pattern *starts* gets a fused op that does the whole pattern in one dispatch and
//! continues after it. The pattern's other instructions stay in place, one `Op::I` each, so
//! a jump into the middle of a pattern still executes exactly the original instructions;
//! and since instruction indices are unchanged, stack maps, line tables and traps need no
//! translation. Only patterns that can neither trap nor allocate are fused, so a fused op is
//! never a point where a trace or a collection could observe the skipped `pc`s.

use crate::format::Instr;

/// A `u16` stored as bytes: fused ops keep alignment 1 so that [`Op`] fits in the niche of
/// [`Instr`]'s tag and stays 16 bytes (one cache line holds four).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct U16([u8; 2]);

impl U16 {
    #[inline(always)]
    pub(super) fn get(self) -> usize {
        u16::from_le_bytes(self.0) as usize
    }
}

/// A `u32` stored as bytes (see [`U16`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct U32([u8; 4]);

impl U32 {
    #[inline(always)]
    pub(super) fn get(self) -> usize {
        u32::from_le_bytes(self.0) as usize
    }
}

/// An `i64` stored as bytes (see [`U16`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct I64([u8; 8]);

impl I64 {
    #[inline(always)]
    pub(super) fn get(self) -> u64 {
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

/// An integer operation that cannot trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BinOp {
    Add,
    Sub,
    Mul,
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
}

impl BinOp {
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
            _ => return None,
        })
    }

    /// Applies the operation (wrapping, shifts masked; comparisons give 0 or 1).
    #[inline(always)]
    pub(super) fn eval(self, a: u64, b: u64) -> u64 {
        let (x, y) = (a as i64, b as i64);
        match self {
            BinOp::Add => x.wrapping_add(y) as u64,
            BinOp::Sub => x.wrapping_sub(y) as u64,
            BinOp::Mul => x.wrapping_mul(y) as u64,
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
        }
    }

    fn is_compare(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}

/// One position of prepared code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    /// The instruction itself.
    I(Instr),
    /// `local.get a; local.get b; i.<op>` (3 instructions): pushes `a op b`.
    LocalLocal { op: BinOp, a: U16, b: U16 },
    /// `local.get a; i.const v; i.<op>` (3): pushes `a op v`.
    LocalConst { op: BinOp, a: U16, v: I64 },
    /// `local.get a; local.get b; i.<op>; local.set dst` (4).
    LocalLocalSet { op: BinOp, a: U16, b: U16, dst: U16 },
    /// `local.get a; i.const v; i.<op>; local.set dst` (4).
    LocalConstSet { op: BinOp, a: U16, dst: U16, v: I64 },
    /// `local.get a; local.get b; i.<cmp>; jmp.ifnot target` (4): jumps unless `a cmp b`.
    LocalLocalJmpNot {
        op: BinOp,
        a: U16,
        b: U16,
        target: U32,
    },
    /// `local.get a; i.const v; i.<cmp>; jmp.ifnot target` (4): jumps unless `a cmp v`.
    LocalConstJmpNot {
        op: BinOp,
        a: U16,
        target: U32,
        v: I64,
    },
    /// `i.<cmp>; jmp.ifnot target` (2) on the two top operands.
    CmpJmpNot { op: BinOp, target: U32 },
    /// `local.get a; local.get b` (2).
    LocalLocalGet { a: U16, b: U16 },
    /// `local.get a; ret` (2).
    RetLocal { a: U16 },
}

/// Prepares one function's verified code.
pub(super) fn prepare(code: &[Instr]) -> Box<[Op]> {
    let mut ops: Vec<Op> = code.iter().map(|&i| Op::I(i)).collect();
    for (i, op) in ops.iter_mut().enumerate() {
        if let Some(fused) = fuse(&code[i..]) {
            *op = fused;
        }
    }
    ops.into_boxed_slice()
}

fn fuse(code: &[Instr]) -> Option<Op> {
    match code {
        [
            Instr::LocalGet { index: a },
            Instr::LocalGet { index: b },
            bin,
            rest @ ..,
        ] if BinOp::of(bin).is_some() => {
            let op = BinOp::of(bin)?;
            let (a, b) = (u16_(*a), u16_(*b));
            Some(match rest.first() {
                Some(Instr::LocalSet { index: dst }) => Op::LocalLocalSet {
                    op,
                    a,
                    b,
                    dst: u16_(*dst),
                },
                Some(Instr::JmpIfNot { target }) if op.is_compare() => Op::LocalLocalJmpNot {
                    op,
                    a,
                    b,
                    target: u32_(*target),
                },
                _ => Op::LocalLocal { op, a, b },
            })
        }
        [
            Instr::LocalGet { index: a },
            Instr::IConst { value },
            bin,
            rest @ ..,
        ] if BinOp::of(bin).is_some() => {
            let op = BinOp::of(bin)?;
            let (a, v) = (u16_(*a), i64_(*value));
            Some(match rest.first() {
                Some(Instr::LocalSet { index: dst }) => Op::LocalConstSet {
                    op,
                    a,
                    dst: u16_(*dst),
                    v,
                },
                Some(Instr::JmpIfNot { target }) if op.is_compare() => Op::LocalConstJmpNot {
                    op,
                    a,
                    target: u32_(*target),
                    v,
                },
                _ => Op::LocalConst { op, a, v },
            })
        }
        [
            Instr::LocalGet { index: a },
            Instr::LocalGet { index: b },
            ..,
        ] => Some(Op::LocalLocalGet {
            a: u16_(*a),
            b: u16_(*b),
        }),
        [Instr::LocalGet { index: a }, Instr::Ret {}, ..] => Some(Op::RetLocal { a: u16_(*a) }),
        [bin, Instr::JmpIfNot { target }, ..] => {
            let op = BinOp::of(bin).filter(|op| op.is_compare())?;
            Some(Op::CmpJmpNot {
                op,
                target: u32_(*target),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(ops[1], Op::I(code[1]));
        assert_eq!(
            ops[2],
            Op::CmpJmpNot {
                op: BinOp::Lt,
                target: u32_(9),
            }
        );
        assert_eq!(ops[4], Op::I(Instr::Ret {}));
    }
}
