//! String operations on UTF-8 with byte offsets.
//!
//! Decisions written down here because the language leaves them to the runtime:
//! - `parse_int` accepts an optional `+`/`-` sign followed by ASCII decimal digits, within
//!   the `int` range; nothing else (no `_`, no white space, no `0x`), so `is_int` and
//!   `parse_int` agree with what a user sees.
//! - `parse_float` accepts exactly Rust's `f64::from_str` forms: an optional sign, digits
//!   with an optional `.` and exponent (`1`, `1.`, `.5`, `2.5e-3`), and `inf`, `infinity`,
//!   `nan` in any case; no white space or `_`.
//! - `s.split("")` splits into characters (like `s.chars()`), rather than producing the
//!   empty strings at both ends that a literal reading would give.
//! - `to_fixed` rounds the exact binary value to `d` decimals (like C's `%.*f`), and prints
//!   `nan`, `inf`, `-inf` for the non-finite values.

use super::try_reserve;
use crate::heap::{Heap, ValKind};
use crate::trap::TrapKind;

fn alloc(heap: &mut Heap, s: impl Into<Box<str>>) -> Result<u64, TrapKind> {
    heap.alloc_str(s.into()).map(|h| h as u64)
}

/// `s.slice(a, b)` by byte offsets.
pub fn slice(heap: &mut Heap, s: u64, start: i64, end: i64) -> Result<u64, TrapKind> {
    let text = heap.str(s);
    let len = text.len();
    if start < 0 || end < start || end as u64 > len as u64 {
        return Err(TrapKind::StrSliceOutOfBounds { start, end, len });
    }
    let (a, b) = (start as usize, end as usize);
    if !text.is_char_boundary(a) || !text.is_char_boundary(b) {
        return Err(TrapKind::StrSliceNotBoundary { start, end });
    }
    if a == 0 && b == len {
        return Ok(s);
    }
    heap.reserve(b - a)?;
    let piece: Box<str> = text[a..b].into();
    alloc(heap, piece)
}

/// `s.replace(from, to)`: every occurrence, left to right.
pub fn replace(heap: &mut Heap, s: u64, from: u64, to: u64) -> Result<u64, TrapKind> {
    let (text, pat, with) = (heap.str(s), heap.str(from), heap.str(to));
    if !pat.is_empty() && !text.contains(pat) {
        return Ok(s);
    }
    // Bound the result before building it: every match adds `with` and there are at most
    // `len + 1` of them (for an empty pattern).
    let matches = if pat.is_empty() {
        text.chars().count() + 1
    } else {
        text.matches(pat).count()
    };
    let size = with
        .len()
        .checked_mul(matches)
        .and_then(|n| n.checked_add(text.len()))
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or(TrapKind::OutOfMemory)?;
    heap.reserve(size)?;
    let replaced = text.replace(pat, with);
    alloc(heap, replaced)
}

/// `s.repeat(n)`.
pub fn repeat(heap: &mut Heap, s: u64, count: i64) -> Result<u64, TrapKind> {
    if count < 0 {
        return Err(TrapKind::NegativeRepeatCount { count });
    }
    let text = heap.str(s);
    let size = usize::try_from(count)
        .ok()
        .and_then(|n| text.len().checked_mul(n))
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or(TrapKind::OutOfMemory)?;
    heap.reserve(size)?;
    let mut out = String::new();
    out.try_reserve(size).map_err(|_| TrapKind::OutOfMemory)?;
    for _ in 0..count {
        out.push_str(text);
    }
    alloc(heap, out)
}

/// The value of `s` as an `int`: an optional sign and ASCII decimal digits, in range.
pub fn parse_int(s: &str) -> Option<i64> {
    // `i64::from_str` accepts exactly this grammar (and rejects `_`, white space, `0x`,
    // a lone sign and the empty string).
    s.parse::<i64>().ok()
}

/// The value of `s` as a `float` (Rust's `f64::from_str` forms).
pub fn parse_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

/// `f.to_fixed(digits)`.
pub fn to_fixed(f: f64, digits: i64) -> Result<String, TrapKind> {
    if !(0..=100).contains(&digits) {
        return Err(TrapKind::ToFixedDigits { digits });
    }
    if f.is_nan() {
        return Ok("nan".into());
    }
    if f.is_infinite() {
        return Ok(if f < 0.0 { "-inf" } else { "inf" }.into());
    }
    Ok(format!("{:.*}", digits as usize, f))
}

/// `s.split(sep)` as a new `[str]` array.
pub fn split(heap: &mut Heap, s: u64, sep: u64) -> Result<u64, TrapKind> {
    let (text, pat) = (heap.str(s), heap.str(sep));
    if pat.is_empty() {
        return chars(heap, s);
    }
    let n = text.matches(pat).count() + 1;
    heap.reserve(pieces_bytes(n, text.len()))?;
    let pieces: Vec<Box<str>> = text.split(pat).map(Into::into).collect();
    strings_array(heap, pieces)
}

/// `s.chars()` as a new `[str]` array, one string per character.
pub fn chars(heap: &mut Heap, s: u64) -> Result<u64, TrapKind> {
    let text = heap.str(s);
    heap.reserve(pieces_bytes(text.chars().count(), text.len()))?;
    let pieces: Vec<Box<str>> = heap
        .str(s)
        .chars()
        .map(|c| {
            let mut buf = [0u8; 4];
            Box::<str>::from(&*c.encode_utf8(&mut buf))
        })
        .collect();
    strings_array(heap, pieces)
}

/// What `n` strings of `total` bytes together and an array of them cost the heap.
fn pieces_bytes(n: usize, total: usize) -> usize {
    n.saturating_mul(crate::heap::OBJECT_OVERHEAD + 8)
        .saturating_add(total)
}

/// Allocates each piece as a string and an array holding them. No collection happens in
/// between (the runtime only collects after an instruction completes), so the new strings
/// need no temporary roots.
pub fn strings_array(heap: &mut Heap, pieces: Vec<Box<str>>) -> Result<u64, TrapKind> {
    let mut items = Vec::new();
    try_reserve(&mut items, pieces.len())?;
    for p in pieces {
        items.push(heap.alloc_str(p)? as u64);
    }
    heap.alloc_array(ValKind::Str, items).map(|h| h as u64)
}

/// `xs.join(sep)` for a `[str]` array.
pub fn join(heap: &mut Heap, arr: u64, sep: u64) -> Result<u64, TrapKind> {
    let a = heap.array(arr)?;
    let sep_text = heap.str(sep);
    let mut size = sep_text
        .len()
        .saturating_mul(a.items.len().saturating_sub(1));
    for &item in &a.items {
        size = size.saturating_add(heap.str(item).len());
    }
    heap.reserve(size)?;
    let mut out = String::new();
    out.try_reserve(size).map_err(|_| TrapKind::OutOfMemory)?;
    for (i, &item) in a.items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep_text);
        }
        out.push_str(heap.str(item));
    }
    alloc(heap, out)
}

/// `a + b` for strings (`s.concat`).
pub fn concat(heap: &mut Heap, a: u64, b: u64) -> Result<u64, TrapKind> {
    let (x, y) = (heap.str(a), heap.str(b));
    if y.is_empty() {
        return Ok(a);
    }
    if x.is_empty() {
        return Ok(b);
    }
    heap.reserve(x.len().saturating_add(y.len()))?;
    let mut out = String::new();
    out.try_reserve(x.len() + y.len())
        .map_err(|_| TrapKind::OutOfMemory)?;
    out.push_str(x);
    out.push_str(y);
    alloc(heap, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_int_grammar() {
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int("-42"), Some(-42));
        assert_eq!(parse_int("+7"), Some(7));
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
        for bad in [
            "",
            "+",
            "-",
            " 1",
            "1 ",
            "1_000",
            "0x10",
            "9223372036854775808",
            "1.0",
        ] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parse_float_grammar() {
        assert_eq!(parse_float("2.5e-3"), Some(2.5e-3));
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float("1."), Some(1.0));
        assert_eq!(parse_float("-inf"), Some(f64::NEG_INFINITY));
        assert!(parse_float("nan").is_some_and(f64::is_nan));
        for bad in ["", " 1", "1_0", "abc", "1e"] {
            assert_eq!(parse_float(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn to_fixed_rounds_exactly() {
        assert_eq!(to_fixed(2.5, 0).unwrap(), "2");
        assert_eq!(to_fixed(0.125, 2).unwrap(), "0.12");
        assert_eq!(to_fixed(1.005, 2).unwrap(), "1.00");
        assert_eq!(to_fixed(-0.04, 1).unwrap(), "-0.0");
        assert_eq!(to_fixed(3.0, 3).unwrap(), "3.000");
        assert!(to_fixed(1.0, 101).is_err());
        assert!(to_fixed(1.0, -1).is_err());
    }
}
