//! The float rules that must not depend on the machine, in one place for every tier: the
//! compiler's constant folder, the interpreter, the runtime's natives and the JIT.
//!
//! IEEE-754 fixes every result bit of `+ - * / %` and `sqrt` except one thing: *which*
//! NaN comes out. x86_64 makes the "default NaN" with the sign bit set, aarch64 with it
//! clear, and when an operand is already a NaN the hardware propagates one of them, which
//! one depending on operand order that the Rust compiler may swap. So rvm has one NaN:
//! every operation that computes a float result, negation and `abs` included, turns a NaN
//! into the canonical NaN, a float constant that is a NaN is made canonical when its
//! function is verified, and floats from the host are made canonical on the way in.
//!
//! The canonical NaN is x86_64's default NaN (negative, quiet, zero payload). On x86_64,
//! `+ - * /` and `sqrt` of operands that are canonical or not NaN return either the first
//! NaN operand or the default NaN, so compiled code there needs no canonicalisation after
//! them (see `spec/jit.md`); on aarch64 it canonicalises like the interpreter.

/// The canonical NaN: negative, quiet, zero payload (x86_64's default NaN). The only NaN a
/// running program holds.
pub const CANONICAL_NAN_BITS: u64 = 0xfff8_0000_0000_0000;

/// `x`, or the canonical NaN if `x` is any NaN.
#[inline(always)]
pub fn canonical(x: f64) -> f64 {
    if x.is_nan() {
        f64::from_bits(CANONICAL_NAN_BITS)
    } else {
        x
    }
}

/// The bits of [`canonical`]`(x)`: what the interpreter stores in a slot.
#[inline(always)]
pub fn canonical_bits(x: f64) -> u64 {
    canonical(x).to_bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nan_becomes_the_canonical_one() {
        let zero = std::hint::black_box(0.0f64);
        for nan in [
            zero / zero,
            -(zero / zero),
            f64::from_bits(0x7ff8_0000_0000_0000),
            f64::from_bits(0x7ff0_0000_0000_0001), // signalling
            f64::from_bits(0xffff_ffff_ffff_ffff),
            (-1.0f64).sqrt(),
        ] {
            assert_eq!(canonical_bits(nan), CANONICAL_NAN_BITS);
        }
    }

    #[test]
    fn other_values_keep_their_bits() {
        for x in [
            0.0,
            -0.0,
            1.5,
            -1.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            5e-324,
            f64::MAX,
        ] {
            assert_eq!(canonical_bits(x), x.to_bits());
        }
    }
}
