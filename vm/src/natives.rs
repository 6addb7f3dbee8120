//! The table of built-in native functions called by `call.native`.
//!
//! Like the opcode table, this is the single source for every consumer: the compiler looks
//! built-ins up here by name, the verifier checks calls against the signatures, the
//! disassembler prints the names, and the interpreter implements each [`Native`] in one
//! exhaustive `match`. Every native takes and returns scalars only (`int`, `float`, `bool`,
//! `str`); built-ins that produce arrays are opcodes with a type operand instead.

use crate::format::Scalar;

macro_rules! natives {
    ($( $(#[doc = $doc:literal])* $variant:ident = $id:literal, $name:literal, ($($p:ident),*) -> $ret:tt; )*) => {
        /// A built-in native function.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Native {
            $( $(#[doc = $doc])* $variant = $id, )*
        }

        /// Every native, in id order.
        pub const NATIVES: &[Native] = &[$(Native::$variant),*];

        impl Native {
            /// The native with id `id`, if any.
            pub fn from_id(id: u16) -> Option<Native> {
                match id { $( $id => Some(Native::$variant), )* _ => None }
            }

            /// The native called `name` in source (e.g. `str.find`, `math.sqrt`), if any.
            pub fn by_name(name: &str) -> Option<Native> {
                match name { $( $name => Some(Native::$variant), )* _ => None }
            }

            /// The id used in `call.native`.
            pub fn id(self) -> u16 {
                self as u16
            }

            /// The name as written in source.
            pub fn name(self) -> &'static str {
                match self { $( Native::$variant => $name, )* }
            }

            /// Parameter types.
            pub fn params(self) -> &'static [Scalar] {
                match self { $( Native::$variant => &[$(Scalar::$p),*], )* }
            }

            /// Result type, if any.
            pub fn result(self) -> Option<Scalar> {
                match self { $( Native::$variant => natives!(@ret $ret), )* }
            }
        }
    };
    (@ret ()) => { None };
    (@ret $t:ident) => { Some(Scalar::$t) };
}

natives! {
    /// `print(s)` without a newline (the compiler converts the argument with `to_str`).
    Print = 0, "print", (Str) -> ();
    /// `println(s)`.
    Println = 1, "println", (Str) -> ();
    /// `eprintln(s)` to standard error.
    Eprintln = 2, "eprintln", (Str) -> ();
    /// `assert(cond, message)`: traps with the message when false.
    Assert = 3, "assert", (Bool, Str) -> ();

    /// `s.len()` in bytes.
    StrLen = 10, "str.len", (Str) -> Int;
    /// `s.byte(i)`; traps when out of bounds.
    StrByte = 11, "str.byte", (Str, Int) -> Int;
    /// `s.slice(a, b)` by byte offsets; traps unless on character boundaries within bounds.
    StrSlice = 12, "str.slice", (Str, Int, Int) -> Str;
    /// `s.find(t)`: byte offset of the first occurrence, or -1.
    StrFind = 13, "str.find", (Str, Str) -> Int;
    /// `s.contains(t)`.
    StrContains = 14, "str.contains", (Str, Str) -> Bool;
    /// `s.starts_with(t)`.
    StrStartsWith = 15, "str.starts_with", (Str, Str) -> Bool;
    /// `s.ends_with(t)`.
    StrEndsWith = 16, "str.ends_with", (Str, Str) -> Bool;
    /// `s.trim()`: without leading and trailing white space.
    StrTrim = 17, "str.trim", (Str) -> Str;
    /// `s.upper()` (Unicode).
    StrUpper = 18, "str.upper", (Str) -> Str;
    /// `s.lower()` (Unicode).
    StrLower = 19, "str.lower", (Str) -> Str;
    /// `s.replace(a, b)`: every occurrence.
    StrReplace = 20, "str.replace", (Str, Str, Str) -> Str;
    /// `s.repeat(n)`; traps if `n < 0`.
    StrRepeat = 21, "str.repeat", (Str, Int) -> Str;
    /// `s.parse_int()`; traps on malformed text.
    StrParseInt = 22, "str.parse_int", (Str) -> Int;
    /// `s.parse_float()`; traps on malformed text.
    StrParseFloat = 23, "str.parse_float", (Str) -> Float;
    /// `s.is_int()`.
    StrIsInt = 24, "str.is_int", (Str) -> Bool;
    /// `s.is_float()`.
    StrIsFloat = 25, "str.is_float", (Str) -> Bool;
    /// `chr(i)`: the character with code point `i`; traps on an invalid code point.
    Chr = 26, "chr", (Int) -> Str;
    /// `ord(s)`: the code point of the first character; traps on an empty string.
    Ord = 27, "ord", (Str) -> Int;

    /// `abs(i)` (wrapping for `int.MIN`).
    IntAbs = 40, "int.abs", (Int) -> Int;
    /// `min(a, b)` on ints.
    IntMin = 41, "int.min", (Int, Int) -> Int;
    /// `max(a, b)` on ints.
    IntMax = 42, "int.max", (Int, Int) -> Int;
    /// `abs(f)`.
    FloatAbs = 43, "float.abs", (Float) -> Float;
    /// `min(a, b)` on floats (NaN if either is NaN).
    FloatMin = 44, "float.min", (Float, Float) -> Float;
    /// `max(a, b)` on floats (NaN if either is NaN).
    FloatMax = 45, "float.max", (Float, Float) -> Float;
    /// `f.to_fixed(d)`: `d` decimals (0..=100, else a trap), exact decimal rounding.
    FloatToFixed = 46, "float.to_fixed", (Float, Int) -> Str;

    /// `math.sqrt`.
    Sqrt = 60, "math.sqrt", (Float) -> Float;
    /// `math.sin`.
    Sin = 61, "math.sin", (Float) -> Float;
    /// `math.cos`.
    Cos = 62, "math.cos", (Float) -> Float;
    /// `math.tan`.
    Tan = 63, "math.tan", (Float) -> Float;
    /// `math.asin`.
    Asin = 64, "math.asin", (Float) -> Float;
    /// `math.acos`.
    Acos = 65, "math.acos", (Float) -> Float;
    /// `math.atan`.
    Atan = 66, "math.atan", (Float) -> Float;
    /// `math.atan2(y, x)`.
    Atan2 = 67, "math.atan2", (Float, Float) -> Float;
    /// `math.exp`.
    Exp = 68, "math.exp", (Float) -> Float;
    /// `math.log` (natural).
    Log = 69, "math.log", (Float) -> Float;
    /// `math.log10`.
    Log10 = 70, "math.log10", (Float) -> Float;
    /// `math.pow(x, y)`.
    Pow = 71, "math.pow", (Float, Float) -> Float;
    /// `math.floor`.
    Floor = 72, "math.floor", (Float) -> Float;
    /// `math.ceil`.
    Ceil = 73, "math.ceil", (Float) -> Float;
    /// `math.round`: half away from zero.
    Round = 74, "math.round", (Float) -> Float;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_consistent() {
        for &n in NATIVES {
            assert_eq!(Native::from_id(n.id()), Some(n));
            assert_eq!(Native::by_name(n.name()), Some(n));
        }
    }
}
