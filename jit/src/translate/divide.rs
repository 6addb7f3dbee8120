//! Division by a constant of a value known not to be negative: `i % 7` in `for i in 0..n`,
//! `r * r % 7` with `r` that remainder.
//!
//! **Why.** `x / d` and `x % d` for a constant `d > 0` never trap, and Cranelift turns them
//! into a multiplication by a "magic" reciprocal; but for a signed `x` it needs a signed
//! high multiply (fixed registers on x86_64) and a correction for negative dividends. When
//! `x >= 0`, the quotient is `x`'s unsigned one, and a bound `x <= B` allows a cheaper
//! reciprocal: with `B < 2^63` an unsigned high multiply and a shift always do (the
//! dividend has a spare bit), and with a small `B` a plain multiply and a shift do
//! (`x * 37 >> 8` is `x / 7` for `x <= 36`).
//!
//! **What is known.** A value's bound is recorded where it is made, so it holds wherever it
//! is used (`Translator::ranges`): a non-negative constant; a counter read inside the zone
//! of its counting loop (see `bounds`: from its header to its increment it lies in
//! `[start, end)` with `start >= 0`; a fact of that read, not of the value); and the results
//! of `+`, `*` (when the bounds cannot overflow), `&` with a non-negative operand, and of
//! these divisions.
//!
//! **Exact divisions.** Apart from signs, `x / 2^k` with `x` a known multiple of `2^k`
//! (`known_twos`: from its definition, so true wherever it is used) is an arithmetic
//! shift, for negative `x` too: the quotient has no remainder to round.
//!
//! **The reciprocal.** For `0 <= x <= B` and `m = ceil(2^s / d)`, `e = m * d - 2^s`:
//! writing `x = q * d + r`, `x * m / 2^s = q + r / d + x * e / (d * 2^s)`, which rounds
//! down to `q` when `r + x * e / 2^s < d`, which holds for every `r <= d - 1` when
//! `B * e < 2^s`. The smallest such `s` is used: below 64 when `B * m < 2^64` (a wrapping
//! multiply is then exact), else the high half of the 128-bit product. With `s = 63 +
//! ceil(log2 d)`, `m < 2^64` and `B * e < 2^63 * d <= 2^s`, so one always exists.

use super::{I64, Translator};
use cranelift_codegen::ir::{InstBuilder, InstructionData, Opcode, Value, ValueDef};

/// How to divide by a constant (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reciprocal {
    /// `x >> s` (`d` is a power of two).
    Shift(u32),
    /// `(x * m) >> s`.
    Low(u64, u32),
    /// `umulhi(x, m) >> s`.
    High(u64, u32),
}

/// The reciprocal of `d > 0` for dividends in `[0, bound]` (`bound < 2^63`).
pub(super) fn reciprocal(bound: u64, d: u64) -> Option<Reciprocal> {
    if d == 0 || bound > i64::MAX as u64 {
        return None;
    }
    if d.is_power_of_two() {
        return Some(Reciprocal::Shift(d.trailing_zeros()));
    }
    let (b, d128) = (u128::from(bound), u128::from(d));
    (1..=127u32).find_map(|s| {
        let two_s = 1u128 << s;
        let m = two_s.div_ceil(d128);
        let e = m * d128 - two_s;
        if b * e >= two_s {
            return None;
        }
        if s < 64 && b * m < 1u128 << 64 {
            Some(Reciprocal::Low(m as u64, s))
        } else if s >= 64 && m < 1u128 << 64 {
            Some(Reciprocal::High(m as u64, s - 64))
        } else {
            None
        }
    })
}

/// How to multiply by a constant `c` (see [`mul_plan`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MulPlan {
    /// `(x + (x << a)) << s`: `c = (1 + 2^a) 2^s` (one `lea`, whose shift an address can
    /// absorb: an object's entry in the table).
    ScaledLea(u32, u32),
    /// `(x << hi) + (x << lo)`.
    TwoBits(u32, u32),
    /// `(x << k) - x`.
    PowerLessOne(u32),
    /// `x + ((x + (x << a)) << b)`: `c = 1 + 2^b (1 + 2^a)`.
    OnePlus(u32, u32),
    /// `t + (t << b)` with `t = x + (x << a)`: `c = (1 + 2^a)(1 + 2^b)`.
    Product(u32, u32),
    /// The multiply instruction.
    Multiply,
}

/// Shifts and adds instead of a multiply when `c` has two bits set, is one less than a
/// power of two, or is `1 + 2^b (1 + 2^a)` or `(1 + 2^a)(1 + 2^b)` for `a, b <= 3` (two
/// `lea`s on x86_64): there is one multiplier and several adders, and a division makes
/// two or three multiplies (`loop`'s iteration made five, and waited for the multiplier).
/// Wrapping makes every form equal to the product.
pub(super) fn mul_plan(c: u64) -> MulPlan {
    if c != 0 {
        let s = c.trailing_zeros();
        if let Some(a) = (1..=3u32).find(|&a| c >> s == 1 + (1u64 << a)) {
            return MulPlan::ScaledLea(a, s);
        }
    }
    if c.count_ones() == 2 {
        return MulPlan::TwoBits(63 - c.leading_zeros(), c.trailing_zeros());
    }
    for a in 1..=3u32 {
        for b in 1..=3u32 {
            let inner = 1 + (1u64 << a);
            if c == 1 + (inner << b) {
                return MulPlan::OnePlus(a, b);
            }
            if c == inner * (1 + (1u64 << b)) {
                return MulPlan::Product(a, b);
            }
        }
    }
    if c > 2 && c.checked_add(1).is_some_and(u64::is_power_of_two) {
        return MulPlan::PowerLessOne((c + 1).trailing_zeros());
    }
    MulPlan::Multiply
}

impl Translator<'_, '_> {
    /// `x * c` (wrapping), as [`mul_plan`] says.
    pub(super) fn mul_const(&mut self, x: Value, c: u64) -> Value {
        let shl = |t: &mut Self, v: Value, k: u32| match k {
            0 => v,
            k => t.b.ins().ishl_imm_u(v, i64::from(k)),
        };
        match mul_plan(c) {
            MulPlan::ScaledLea(a, s) => {
                let t = shl(self, x, a);
                let t = self.b.ins().iadd(x, t);
                shl(self, t, s)
            }
            MulPlan::TwoBits(hi, lo) => {
                let (a, b) = (shl(self, x, hi), shl(self, x, lo));
                self.b.ins().iadd(a, b)
            }
            MulPlan::PowerLessOne(k) => {
                let a = shl(self, x, k);
                self.b.ins().isub(a, x)
            }
            MulPlan::OnePlus(a, b) => {
                let s = shl(self, x, a);
                let t = self.b.ins().iadd(x, s);
                let s = shl(self, t, b);
                self.b.ins().iadd(x, s)
            }
            MulPlan::Product(a, b) => {
                let s = shl(self, x, a);
                let t = self.b.ins().iadd(x, s);
                let s = shl(self, t, b);
                self.b.ins().iadd(t, s)
            }
            MulPlan::Multiply => self.b.ins().imul_imm_u(x, c as i64),
        }
    }

    /// How many low bits of `v` are known to be zero (from its definition, so anywhere):
    /// constants, shifts, products (and `x * (x + odd)`, always even), sums and masks,
    /// looked through `depth` definitions deep.
    fn known_twos(&self, v: Value, depth: u32) -> u32 {
        if let Some(c) = self.constant(v) {
            return c.trailing_zeros();
        }
        let dfg = &self.b.func.dfg;
        let ValueDef::Result(inst, 0) = dfg.value_def(v) else {
            return 0;
        };
        if depth == 0 {
            return 0;
        }
        let twos = |x: Value| self.known_twos(x, depth - 1);
        match dfg.insts[inst] {
            InstructionData::Binary {
                opcode,
                args: [a, b],
            } => match opcode {
                Opcode::Imul => {
                    let product = (twos(a) + twos(b)).min(64);
                    let one_even = u32::from(self.differ_by_odd(a, b));
                    product.max(one_even)
                }
                Opcode::Iadd | Opcode::Isub => twos(a).min(twos(b)),
                Opcode::Band => twos(a).max(twos(b)),
                Opcode::Ishl => match self.constant(b) {
                    Some(k) => (twos(a) + (k & 63) as u32).min(64),
                    None => 0,
                },
                _ => 0,
            },
            _ => 0,
        }
    }

    /// Whether `b` is `a` plus or minus an odd constant, or an odd constant minus `a` (or
    /// the other way round): one of the two is even.
    fn differ_by_odd(&self, a: Value, b: Value) -> bool {
        let dfg = &self.b.func.dfg;
        let odd = |v: Value| self.constant(v).is_some_and(|c| c & 1 == 1);
        // `y` is `x ± c` or `c ± x` with `c` odd (`c - x` has the parity of `c + x`).
        let plus_odd = |x: Value, y: Value| {
            let ValueDef::Result(inst, 0) = dfg.value_def(y) else {
                return false;
            };
            match dfg.insts[inst] {
                InstructionData::Binary {
                    opcode: Opcode::Iadd | Opcode::Isub,
                    args: [p, q],
                } => (p == x && odd(q)) || (q == x && odd(p)),
                _ => false,
            }
        };
        plus_odd(a, b) || plus_odd(b, a)
    }

    /// [`Self::divide_by_constant`] when `d` is `2^k` and `x` a known multiple of it (`s *
    /// (s + 1) / 2`): the quotient is exact, so an arithmetic shift (the remainder 0),
    /// whatever the sign.
    fn divide_exact(&mut self, h: usize, rem: bool) -> bool {
        let d = self.get(h - 1);
        let Some(k) = self
            .constant(d)
            .filter(|&d| d > 1 && (d as u64).is_power_of_two())
            .map(|d| d.trailing_zeros())
        else {
            return false;
        };
        let x = self.get(h - 2);
        if self.known_twos(x, 6) < k {
            return false;
        }
        let r = if rem {
            self.b.ins().iconst(I64, 0)
        } else {
            self.b.ins().sshr_imm_u(x, i64::from(k))
        };
        self.set(h - 2, r);
        self.exact_divisions += 1;
        true
    }

    /// The constant `v` is defined as, if any.
    pub(super) fn constant(&self, v: Value) -> Option<i64> {
        let dfg = &self.b.func.dfg;
        let ValueDef::Result(inst, 0) = dfg.value_def(v) else {
            return None;
        };
        match dfg.insts[inst] {
            InstructionData::UnaryImm {
                opcode: Opcode::Iconst,
                imm,
            } => Some(imm.bits()),
            _ => None,
        }
    }

    /// An upper bound of the integer in operand slot `slot` at `pc` if it is known not to
    /// be negative (see the module docs).
    pub(super) fn nonneg_bound(&mut self, slot: usize, pc: usize) -> Option<u64> {
        let v = self.get(slot);
        if let Some(&b) = self.ranges.get(&v) {
            return Some(b);
        }
        if let Some(c) = self.constant(v) {
            return u64::try_from(c).ok();
        }
        let counter = self.origin[slot]?;
        self.nonneg_counter(pc, counter).then_some(i64::MAX as u64)
    }

    /// `+`, `*` or `&` (`op`, made by `f`) on the operands in slots `h - 2` and `h - 1`,
    /// recording its result's bound when its operands' give one.
    pub(super) fn ibin_bounded(
        &mut self,
        h: usize,
        pc: usize,
        op: Opcode,
        f: impl FnOnce(&mut Self, Value, Value) -> Value,
    ) {
        let bound = self.result_bound(h, pc, op);
        let (x, y) = (self.get(h - 2), self.get(h - 1));
        let r = f(self, x, y);
        self.set(h - 2, r);
        if let Some(b) = bound {
            self.ranges.insert(r, b);
        }
    }

    /// `x * y`, by a constant as [`Self::mul_const`] makes it.
    pub(super) fn mul(&mut self, x: Value, y: Value) -> Value {
        match (self.constant(x), self.constant(y)) {
            (_, Some(c)) => self.mul_const(x, c as u64),
            (Some(c), _) => self.mul_const(y, c as u64),
            _ => self.b.ins().imul(x, y),
        }
    }

    /// The bound of the result of `+`, `*` or `&` on the operands in slots `h - 2` and
    /// `h - 1` (read before the operation replaces them), if it is known.
    fn result_bound(&mut self, h: usize, pc: usize, op: Opcode) -> Option<u64> {
        let (a, b) = (self.nonneg_bound(h - 2, pc), self.nonneg_bound(h - 1, pc));
        let bound = match (op, a, b) {
            (Opcode::Iadd, Some(a), Some(b)) => a.checked_add(b),
            (Opcode::Imul, Some(a), Some(b)) => a.checked_mul(b),
            (Opcode::Band, Some(a), Some(b)) => Some(a.min(b)),
            (Opcode::Band, Some(x), None) | (Opcode::Band, None, Some(x)) => Some(x),
            _ => None,
        };
        bound.filter(|&b| b <= i64::MAX as u64)
    }

    /// `x / d` or `x % d` (`rem`) for the operands in slots `h - 2` and `h - 1` without a
    /// signed division, when `d` is a constant and what is known of `x` allows it (see the
    /// module docs); false otherwise (nothing emitted).
    pub(super) fn divide_by_constant(&mut self, h: usize, pc: usize, rem: bool) -> bool {
        self.divide_nonneg(h, pc, rem) || self.divide_exact(h, rem)
    }

    /// [`Self::divide_by_constant`] when `d` is positive and `x` is known not to be
    /// negative.
    fn divide_nonneg(&mut self, h: usize, pc: usize, rem: bool) -> bool {
        let d = self.get(h - 1);
        let Some(d) = self.constant(d).and_then(|d| u64::try_from(d).ok()) else {
            return false;
        };
        let Some(bound) = self.nonneg_bound(h - 2, pc) else {
            return false;
        };
        let Some(how) = reciprocal(bound, d) else {
            return false;
        };
        let x = self.get(h - 2);
        let q = match how {
            Reciprocal::Shift(s) => self.b.ins().ushr_imm_u(x, i64::from(s)),
            Reciprocal::Low(m, s) => {
                let p = self.mul_const(x, m);
                self.b.ins().ushr_imm_u(p, i64::from(s))
            }
            Reciprocal::High(m, s) => {
                let m = self.b.ins().iconst(I64, m as i64);
                let p = self.b.ins().umulhi(x, m);
                self.b.ins().ushr_imm_u(p, i64::from(s))
            }
        };
        let (r, rb) = if rem {
            let r = match how {
                Reciprocal::Shift(_) => self.b.ins().band_imm_u(x, (d - 1) as i64),
                _ => {
                    let p = self.mul_const(q, d);
                    self.b.ins().isub(x, p)
                }
            };
            (r, bound.min(d - 1))
        } else {
            (q, bound / d)
        };
        self.set(h - 2, r);
        self.ranges.insert(r, rb);
        self.unsigned_divisions += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::{MulPlan, Reciprocal, mul_plan, reciprocal};

    #[test]
    fn multiply_plans_multiply() {
        let apply = |p: MulPlan, x: u64, c: u64| match p {
            MulPlan::ScaledLea(a, s) => x.wrapping_add(x << a) << s,
            MulPlan::TwoBits(hi, lo) => (x << hi).wrapping_add(x << lo),
            MulPlan::PowerLessOne(k) => (x << k).wrapping_sub(x),
            MulPlan::OnePlus(a, b) => x.wrapping_add(x.wrapping_add(x << a) << b),
            MulPlan::Product(a, b) => {
                let t = x.wrapping_add(x << a);
                t.wrapping_add(t << b)
            }
            MulPlan::Multiply => x.wrapping_mul(c),
        };
        let mut cs: Vec<u64> = (0..200).collect();
        cs.extend([
            1 << 63,
            (1 << 63) + 1,
            u64::MAX,
            u64::MAX - 1,
            (1 << 32) - 1,
            3 << 62,
        ]);
        let xs = [
            0,
            1,
            2,
            7,
            1 << 40,
            u64::MAX,
            i64::MAX as u64,
            i64::MIN as u64,
            0x1234_5678_9abc_def1,
        ];
        for &c in &cs {
            let p = mul_plan(c);
            for &x in &xs {
                assert_eq!(apply(p, x, c), x.wrapping_mul(c), "{x} * {c} by {p:?}");
            }
        }
        assert_eq!(mul_plan(7), MulPlan::OnePlus(1, 1));
        assert_eq!(mul_plan(31), MulPlan::PowerLessOne(5));
        assert_eq!(mul_plan(37), MulPlan::OnePlus(3, 2));
        assert_eq!(mul_plan(45), MulPlan::Product(2, 3));
        assert_eq!(mul_plan(10), MulPlan::ScaledLea(2, 1));
        assert_eq!(mul_plan(40), MulPlan::ScaledLea(2, 3));
        assert_eq!(mul_plan(3), MulPlan::ScaledLea(1, 0));
        assert_eq!(mul_plan(12), MulPlan::ScaledLea(1, 2));
        assert_eq!(mul_plan(6 << 60), MulPlan::ScaledLea(1, 61));
        assert_eq!(mul_plan(34), MulPlan::TwoBits(5, 1));
        assert_eq!(mul_plan(11), MulPlan::OnePlus(2, 1));
        assert_eq!(mul_plan(13), MulPlan::OnePlus(1, 2));
        assert_eq!(mul_plan(641), MulPlan::Multiply);
    }

    /// What the machine code computes for `x` with reciprocal `r` (64-bit registers: the
    /// low product wraps, the high one is the upper half of the 128-bit product).
    fn quotient(r: Reciprocal, x: u64) -> u64 {
        match r {
            Reciprocal::Shift(s) => x >> s,
            Reciprocal::Low(m, s) => x.wrapping_mul(m) >> s,
            Reciprocal::High(m, s) => ((u128::from(x) * u128::from(m)) >> 64) as u64 >> s,
        }
    }

    /// Dividends that stress a reciprocal: the ends of the range and the neighbours of
    /// multiples of `d` (where rounding errors show), plus a spread of others.
    fn dividends(bound: u64, d: u64) -> Vec<u64> {
        let mut xs = vec![0, 1, bound, bound - bound % d, bound.saturating_sub(1)];
        for k in [1, 2, 3, bound / d / 2, bound / d] {
            let m = k.saturating_mul(d);
            xs.extend([m.saturating_sub(1), m, m.saturating_add(1)]);
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            xs.push(x % (bound + 1));
        }
        xs.retain(|&x| x <= bound);
        xs
    }

    #[test]
    fn reciprocals_divide_exactly() {
        let mut divisors: Vec<u64> = (1..=300).collect();
        divisors.extend([
            641,
            1_000_003,
            1_000_000_007,
            (1 << 32) + 1,
            (1 << 62) + 1,
            (1 << 62) - 1,
            i64::MAX as u64 - 1,
            i64::MAX as u64,
        ]);
        let bounds = [
            0,
            1,
            6,
            36,
            255,
            1000,
            1 << 20,
            1 << 32,
            1 << 40,
            i64::MAX as u64,
        ];
        for &d in &divisors {
            for &bound in &bounds {
                let r = reciprocal(bound, d).expect("a reciprocal exists");
                for x in dividends(bound, d) {
                    assert_eq!(
                        quotient(r, x),
                        x / d,
                        "{x} / {d} with {r:?} (bound {bound})"
                    );
                }
            }
        }
    }

    #[test]
    fn small_bounds_need_no_high_multiply() {
        assert_eq!(reciprocal(36, 7), Some(Reciprocal::Low(37, 8)));
        assert!(matches!(
            reciprocal(i64::MAX as u64, 7),
            Some(Reciprocal::High(..))
        ));
        assert_eq!(reciprocal(i64::MAX as u64, 8), Some(Reciprocal::Shift(3)));
        assert_eq!(reciprocal(u64::MAX, 7), None);
        assert_eq!(reciprocal(10, 0), None);
    }
}
