//! The built-in natives of `call.native`, one exhaustive `match` over [`Native`].
//!
//! Every native takes and returns scalars (`int`, `float`, `bool`, `str`), so a call is a
//! slice of argument slots in and at most one slot out. Natives may allocate (a string
//! result) but never collect: the interpreter collects after the instruction, once the
//! result is on the operand stack where the stack map describes it.

use super::output::Output;
use super::strings;
use crate::float::canonical_bits;
use crate::heap::Heap;
use crate::natives::Native;
use crate::trap::TrapKind;

/// Runs `native` on `args` (as many slots as it has parameters, first parameter first).
pub fn call(
    native: Native,
    args: &[u64],
    heap: &mut Heap,
    out: &mut Output,
) -> Result<Option<u64>, TrapKind> {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0);
    let int = |i: usize| arg(i) as i64;
    let float = |i: usize| f64::from_bits(arg(i));
    let some_int = |v: i64| Ok(Some(v as u64));
    // Every float result is NaN-canonical (see `crate::float`).
    let some_float = |v: f64| Ok(Some(canonical_bits(v)));
    let some_bool = |v: bool| Ok(Some(v as u64));
    match native {
        Native::Print => {
            out.out(heap.str(arg(0)));
            Ok(None)
        }
        Native::Println => {
            out.out(heap.str(arg(0)));
            out.out("\n");
            Ok(None)
        }
        Native::Eprintln => {
            let mut line = String::with_capacity(heap.str(arg(0)).len() + 1);
            line.push_str(heap.str(arg(0)));
            line.push('\n');
            out.err(&line);
            Ok(None)
        }
        Native::Assert => {
            if arg(0) == 0 {
                return Err(TrapKind::AssertionFailed {
                    message: heap.str(arg(1)).to_owned(),
                });
            }
            Ok(None)
        }
        Native::StrLen => some_int(heap.str(arg(0)).len() as i64),
        Native::StrByte => {
            let s = heap.str(arg(0)).as_bytes();
            let i = int(1);
            match usize::try_from(i).ok().and_then(|i| s.get(i)) {
                Some(&b) => some_int(b as i64),
                None => Err(TrapKind::IndexOutOfBounds {
                    index: i,
                    len: s.len(),
                }),
            }
        }
        Native::StrSlice => strings::slice(heap, arg(0), int(1), int(2)).map(Some),
        Native::StrFind => some_int(
            heap.str(arg(0))
                .find(heap.str(arg(1)))
                .map_or(-1, |i| i as i64),
        ),
        Native::StrContains => some_bool(heap.str(arg(0)).contains(heap.str(arg(1)))),
        Native::StrStartsWith => some_bool(heap.str(arg(0)).starts_with(heap.str(arg(1)))),
        Native::StrEndsWith => some_bool(heap.str(arg(0)).ends_with(heap.str(arg(1)))),
        Native::StrTrim => {
            let s = heap.str(arg(0));
            let t = s.trim();
            if t.len() == s.len() {
                return Ok(Some(arg(0)));
            }
            let t: Box<str> = t.into();
            heap.alloc_str(t).map(|h| Some(h as u64))
        }
        Native::StrUpper => {
            let s = heap.str(arg(0));
            // Case mapping at most triples the length in bytes.
            heap.reserve(s.len().saturating_mul(3))?;
            let t = s.to_uppercase();
            heap.alloc_str(t.into()).map(|h| Some(h as u64))
        }
        Native::StrLower => {
            let s = heap.str(arg(0));
            // Case mapping at most triples the length in bytes.
            heap.reserve(s.len().saturating_mul(3))?;
            let t = s.to_lowercase();
            heap.alloc_str(t.into()).map(|h| Some(h as u64))
        }
        Native::StrReplace => strings::replace(heap, arg(0), arg(1), arg(2)).map(Some),
        Native::StrRepeat => strings::repeat(heap, arg(0), int(1)).map(Some),
        Native::StrParseInt => {
            let s = heap.str(arg(0));
            match strings::parse_int(s) {
                Some(v) => some_int(v),
                None => Err(TrapKind::InvalidInt { text: s.to_owned() }),
            }
        }
        Native::StrParseFloat => {
            let s = heap.str(arg(0));
            match strings::parse_float(s) {
                Some(v) => some_float(v),
                None => Err(TrapKind::InvalidFloat { text: s.to_owned() }),
            }
        }
        Native::StrIsInt => some_bool(strings::parse_int(heap.str(arg(0))).is_some()),
        Native::StrIsFloat => some_bool(strings::parse_float(heap.str(arg(0))).is_some()),
        Native::Chr => {
            let code = int(0);
            let c = u32::try_from(code)
                .ok()
                .and_then(char::from_u32)
                .ok_or(TrapKind::InvalidCodePoint { code })?;
            let mut buf = [0u8; 4];
            let s: Box<str> = (&*c.encode_utf8(&mut buf)).into();
            heap.alloc_str(s).map(|h| Some(h as u64))
        }
        Native::Ord => match heap.str(arg(0)).chars().next() {
            Some(c) => some_int(c as i64),
            None => Err(TrapKind::OrdEmpty),
        },
        Native::IntAbs => some_int(int(0).wrapping_abs()),
        Native::IntMin => some_int(int(0).min(int(1))),
        Native::IntMax => some_int(int(0).max(int(1))),
        Native::FloatAbs => some_float(float(0).abs()),
        Native::FloatMin => some_float(float_min(float(0), float(1))),
        Native::FloatMax => some_float(float_max(float(0), float(1))),
        Native::FloatToFixed => {
            let s = strings::to_fixed(float(0), int(1))?;
            heap.alloc_str(s.into()).map(|h| Some(h as u64))
        }
        // `sqrt` is exactly rounded by IEEE-754, so the hardware instruction is the same
        // everywhere. The transcendental functions are not: `f64::sin` and friends call
        // the platform's C library, whose last bit differs between libraries (glibc,
        // musl, macOS), their versions and their per-CPU variants (glibc's FMA paths).
        // The `libm` crate (a Rust port of musl's) is the same code, without fused
        // operations, on every machine.
        Native::Sqrt => some_float(float(0).sqrt()),
        Native::Sin => some_float(libm::sin(float(0))),
        Native::Cos => some_float(libm::cos(float(0))),
        Native::Tan => some_float(libm::tan(float(0))),
        Native::Asin => some_float(libm::asin(float(0))),
        Native::Acos => some_float(libm::acos(float(0))),
        Native::Atan => some_float(libm::atan(float(0))),
        Native::Atan2 => some_float(libm::atan2(float(0), float(1))),
        Native::Exp => some_float(libm::exp(float(0))),
        Native::Log => some_float(libm::log(float(0))),
        Native::Log10 => some_float(libm::log10(float(0))),
        Native::Pow => some_float(libm::pow(float(0), float(1))),
        Native::Floor => some_float(float(0).floor()),
        Native::Ceil => some_float(float(0).ceil()),
        Native::Round => some_float(float(0).round()),
    }
}

/// `min` on floats: NaN if either is NaN; `-0.0` is smaller than `0.0`.
pub fn float_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a < b {
        a
    } else if b < a {
        b
    } else if a.is_sign_negative() {
        a
    } else {
        b
    }
}

/// `max` on floats: NaN if either is NaN; `0.0` is larger than `-0.0`.
pub fn float_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a > b {
        a
    } else if b > a {
        b
    } else if a.is_sign_positive() {
        a
    } else {
        b
    }
}
