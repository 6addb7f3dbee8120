//! The opcode table: the single source of truth for every instruction.
//!
//! One invocation of [`opcodes!`] below generates the [`Instr`] enum, its byte encoding and
//! decoding, its mnemonic and operand printing (for the disassembler), the static stack
//! effect used by the verifier for the simple instructions, and [`OPCODES`], the table that
//! `spec/bytecode.md` is checked against. The verifier and the interpreter `match` on
//! [`Instr`] exhaustively, so adding a row here is one edit that the compiler then forces
//! through every consumer.
//!
//! Encoding: one opcode byte followed by the operands in the order listed, each fixed-width
//! little-endian (`u8`, `u16`, `u32`, `i64`, `f64` as its IEEE-754 bits). Jump targets are
//! byte offsets from the start of the function's code.

use super::DecodeError;

/// An operand type that can appear in the opcode table.
pub trait Operand: Sized + Copy {
    /// Size in bytes of the encoded operand.
    const SIZE: usize;
    /// Appends the little-endian encoding.
    fn write(self, out: &mut Vec<u8>);
    /// Reads the operand from `bytes` (which holds at least `SIZE` bytes).
    fn read(bytes: &[u8]) -> Self;
}

macro_rules! int_operand {
    ($($t:ty),*) => {$(
        impl Operand for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn write(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn read(bytes: &[u8]) -> Self {
                let mut buf = [0u8; std::mem::size_of::<$t>()];
                buf.copy_from_slice(&bytes[..std::mem::size_of::<$t>()]);
                <$t>::from_le_bytes(buf)
            }
        }
    )*};
}
int_operand!(u8, u16, u32, u64, i64);

/// A float constant kept as its bit pattern, so that `Instr` is `Eq` and NaN payloads survive
/// a round trip unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct F64Bits(pub u64);

impl F64Bits {
    /// The float value.
    pub fn get(self) -> f64 {
        f64::from_bits(self.0)
    }
    /// Wraps a float.
    pub fn new(value: f64) -> Self {
        F64Bits(value.to_bits())
    }
}

impl Operand for F64Bits {
    const SIZE: usize = 8;
    fn write(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.to_le_bytes());
    }
    fn read(bytes: &[u8]) -> Self {
        F64Bits(u64::read(bytes))
    }
}

impl std::fmt::Display for F64Bits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.get())
    }
}

/// The scalar types that appear in static stack effects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `str`
    Str,
}

/// A fixed stack effect: the operand types popped (deepest first) and pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackEffect {
    /// Popped, deepest first.
    pub pops: &'static [Scalar],
    /// Pushed, deepest first.
    pub pushes: &'static [Scalar],
}

/// Static description of one opcode, for documentation and tooling.
#[derive(Clone, Copy, Debug)]
pub struct OpcodeInfo {
    /// The opcode byte.
    pub byte: u8,
    /// The assembler name, e.g. `i.add`.
    pub mnemonic: &'static str,
    /// Operand names with their encodings, e.g. `["index: u16"]`.
    pub operands: &'static [&'static str],
    /// The stack effect as written in the spec, e.g. `int int -> int`.
    pub effect: &'static str,
}

macro_rules! effect {
    ([$($p:ident),*] -> [$($q:ident),*]) => {
        Some(StackEffect { pops: &[$(Scalar::$p),*], pushes: &[$(Scalar::$q),*] })
    };
    ($doc:literal) => {
        None
    };
}

macro_rules! effect_doc {
    ([$($p:ident),*] -> [$($q:ident),*]) => {
        concat!($(stringify!($p), " ",)* "-> " $(, " ", stringify!($q))*)
    };
    ($doc:literal) => {
        $doc
    };
}

macro_rules! opcodes {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident = $byte:literal, $mnemonic:literal, { $($field:ident : $fty:ty),* }, ($($effect:tt)+)
    );* $(;)?) => {
        /// One decoded instruction. Jump targets are byte offsets within the function's code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Instr {
            $( $(#[doc = $doc])* $name { $($field: $fty),* }, )*
        }

        /// Every opcode, in byte order, for documentation and tooling.
        pub const OPCODES: &[OpcodeInfo] = &[
            $( OpcodeInfo {
                byte: $byte,
                mnemonic: $mnemonic,
                operands: &[$(concat!(stringify!($field), ": ", stringify!($fty))),*],
                effect: effect_doc!($($effect)+),
            }, )*
        ];

        impl Instr {
            /// The opcode byte.
            pub fn opcode(&self) -> u8 {
                match self { $( Instr::$name { .. } => $byte, )* }
            }

            /// The assembler name, e.g. `i.add`.
            pub fn mnemonic(&self) -> &'static str {
                match self { $( Instr::$name { .. } => $mnemonic, )* }
            }

            /// The encoded size in bytes, opcode included.
            pub fn encoded_len(&self) -> usize {
                match self { $( Instr::$name { .. } => 1 $(+ <$fty as Operand>::SIZE)*, )* }
            }

            /// The fixed stack effect, for instructions whose operand types do not depend on
            /// the types already on the stack; `None` for the rest, which the verifier types
            /// one by one.
            pub fn static_effect(&self) -> Option<StackEffect> {
                match self { $( Instr::$name { .. } => effect!($($effect)+), )* }
            }

            /// Appends the encoding of this instruction.
            pub fn encode(&self, out: &mut Vec<u8>) {
                match *self {
                    $( Instr::$name { $($field),* } => {
                        out.push($byte);
                        $( Operand::write($field, out); )*
                    } )*
                }
            }

            /// Decodes one instruction at `bytes[*pos..]`, advancing `pos`.
            pub fn decode(bytes: &[u8], pos: &mut usize) -> Result<Instr, DecodeError> {
                let at = *pos;
                let Some(&op) = bytes.get(at) else {
                    return Err(DecodeError::UnexpectedEnd { offset: at });
                };
                match op {
                    $( $byte => {
                        let need = 1 $(+ <$fty as Operand>::SIZE)*;
                        if bytes.len() - at < need {
                            return Err(DecodeError::TruncatedInstruction { offset: at, opcode: op });
                        }
                        #[allow(unused_mut, unused_variables)]
                        let mut p = at + 1;
                        $(
                            let $field = <$fty as Operand>::read(&bytes[p..]);
                            p += <$fty as Operand>::SIZE;
                        )*
                        debug_assert_eq!(p, at + need);
                        *pos = at + need;
                        Ok(Instr::$name { $($field),* })
                    } )*
                    _ => Err(DecodeError::UnknownOpcode { offset: at, opcode: op }),
                }
            }

            /// The operands, formatted for the disassembler (`name=value` pairs).
            pub fn operand_text(&self) -> String {
                #[allow(unused_mut)]
                let mut parts: Vec<String> = Vec::new();
                match *self {
                    $( Instr::$name { $($field),* } => {
                        $( parts.push(format!("{}", $field)); )*
                    } )*
                }
                parts.join(" ")
            }
        }
    };
}

opcodes! {
    /// Does nothing.
    Nop = 0x00, "nop", {}, ([] -> []);

    // ---- constants
    /// Pushes an int constant.
    IConst = 0x01, "i.const", { value: i64 }, ([] -> [Int]);
    /// Pushes a float constant.
    FConst = 0x02, "f.const", { value: F64Bits }, ([] -> [Float]);
    /// Pushes a bool constant; `value` must be 0 or 1.
    BConst = 0x03, "b.const", { value: u8 }, ([] -> [Bool]);
    /// Pushes string constant `index` of the string pool.
    SConst = 0x04, "s.const", { index: u32 }, ([] -> [Str]);
    /// Pushes a reference to function `func` (its type is the function's signature type).
    FnRef = 0x05, "fn.ref", { func: u32 }, ("-> fn");

    // ---- locals, globals, stack shuffling
    /// Pushes local `index` (parameters first, then declared locals).
    LocalGet = 0x08, "local.get", { index: u16 }, ("-> T");
    /// Pops into local `index`.
    LocalSet = 0x09, "local.set", { index: u16 }, ("T ->");
    /// Pushes global `index`; traps if a reference-typed global is read before initialisation.
    GlobalGet = 0x0a, "global.get", { index: u32 }, ("-> T");
    /// Pops into global `index`.
    GlobalSet = 0x0b, "global.set", { index: u32 }, ("T ->");
    /// Discards the top value.
    Pop = 0x0c, "pop", {}, ("T ->");
    /// Duplicates the top value.
    Dup = 0x0d, "dup", {}, ("T -> T T");

    // ---- int arithmetic (wrapping; shifts mask their count to 0..63)
    /// Wrapping addition.
    IAdd = 0x10, "i.add", {}, ([Int, Int] -> [Int]);
    /// Wrapping subtraction.
    ISub = 0x11, "i.sub", {}, ([Int, Int] -> [Int]);
    /// Wrapping multiplication.
    IMul = 0x12, "i.mul", {}, ([Int, Int] -> [Int]);
    /// Division truncating toward zero; traps on a zero divisor; `MIN / -1` wraps.
    IDiv = 0x13, "i.div", {}, ([Int, Int] -> [Int]);
    /// Remainder with the sign of the dividend; traps on a zero divisor.
    IRem = 0x14, "i.rem", {}, ([Int, Int] -> [Int]);
    /// Wrapping negation.
    INeg = 0x15, "i.neg", {}, ([Int] -> [Int]);
    /// Bitwise and.
    IAnd = 0x16, "i.and", {}, ([Int, Int] -> [Int]);
    /// Bitwise or.
    IOr = 0x17, "i.or", {}, ([Int, Int] -> [Int]);
    /// Bitwise exclusive or.
    IXor = 0x18, "i.xor", {}, ([Int, Int] -> [Int]);
    /// Shift left by the count masked to 0..63.
    IShl = 0x19, "i.shl", {}, ([Int, Int] -> [Int]);
    /// Arithmetic shift right by the count masked to 0..63.
    IShr = 0x1a, "i.shr", {}, ([Int, Int] -> [Int]);
    /// Equality.
    IEq = 0x1b, "i.eq", {}, ([Int, Int] -> [Bool]);
    /// Inequality.
    INe = 0x1c, "i.ne", {}, ([Int, Int] -> [Bool]);
    /// Less than.
    ILt = 0x1d, "i.lt", {}, ([Int, Int] -> [Bool]);
    /// Less than or equal.
    ILe = 0x1e, "i.le", {}, ([Int, Int] -> [Bool]);
    /// Greater than.
    IGt = 0x1f, "i.gt", {}, ([Int, Int] -> [Bool]);
    /// Greater than or equal.
    IGe = 0x20, "i.ge", {}, ([Int, Int] -> [Bool]);

    // ---- float arithmetic (IEEE-754 binary64, never fused)
    /// Addition.
    FAdd = 0x30, "f.add", {}, ([Float, Float] -> [Float]);
    /// Subtraction.
    FSub = 0x31, "f.sub", {}, ([Float, Float] -> [Float]);
    /// Multiplication.
    FMul = 0x32, "f.mul", {}, ([Float, Float] -> [Float]);
    /// Division.
    FDiv = 0x33, "f.div", {}, ([Float, Float] -> [Float]);
    /// Remainder with the sign of the dividend (C's `fmod`).
    FRem = 0x34, "f.rem", {}, ([Float, Float] -> [Float]);
    /// Negation.
    FNeg = 0x35, "f.neg", {}, ([Float] -> [Float]);
    /// Equality (false when either is NaN).
    FEq = 0x36, "f.eq", {}, ([Float, Float] -> [Bool]);
    /// Inequality (true when either is NaN).
    FNe = 0x37, "f.ne", {}, ([Float, Float] -> [Bool]);
    /// Less than.
    FLt = 0x38, "f.lt", {}, ([Float, Float] -> [Bool]);
    /// Less than or equal.
    FLe = 0x39, "f.le", {}, ([Float, Float] -> [Bool]);
    /// Greater than.
    FGt = 0x3a, "f.gt", {}, ([Float, Float] -> [Bool]);
    /// Greater than or equal.
    FGe = 0x3b, "f.ge", {}, ([Float, Float] -> [Bool]);

    // ---- bool
    /// Logical not.
    BNot = 0x40, "b.not", {}, ([Bool] -> [Bool]);
    /// Equality.
    BEq = 0x41, "b.eq", {}, ([Bool, Bool] -> [Bool]);
    /// Inequality.
    BNe = 0x42, "b.ne", {}, ([Bool, Bool] -> [Bool]);

    // ---- strings
    /// Concatenation.
    SConcat = 0x48, "s.concat", {}, ([Str, Str] -> [Str]);
    /// Equality by content.
    SEq = 0x49, "s.eq", {}, ([Str, Str] -> [Bool]);
    /// Inequality by content.
    SNe = 0x4a, "s.ne", {}, ([Str, Str] -> [Bool]);
    /// Byte-wise less than.
    SLt = 0x4b, "s.lt", {}, ([Str, Str] -> [Bool]);
    /// Byte-wise less than or equal.
    SLe = 0x4c, "s.le", {}, ([Str, Str] -> [Bool]);
    /// Byte-wise greater than.
    SGt = 0x4d, "s.gt", {}, ([Str, Str] -> [Bool]);
    /// Byte-wise greater than or equal.
    SGe = 0x4e, "s.ge", {}, ([Str, Str] -> [Bool]);
    /// Splits the first string at every occurrence of the second; `type` must be `[str]`.
    SSplit = 0x4f, "s.split", { type_: u32 }, ("str str -> [str]");
    /// The characters of a string, one string each; `type` must be `[str]`.
    SChars = 0x50, "s.chars", { type_: u32 }, ("str -> [str]");

    // ---- identity comparison of arrays, maps, structs and function references
    /// Identity equality of two values of the same reference or function type.
    REq = 0x58, "r.eq", {}, ("R R -> bool");
    /// Identity inequality of two values of the same reference or function type.
    RNe = 0x59, "r.ne", {}, ("R R -> bool");

    // ---- conversions
    /// `float(i)`.
    IToF = 0x60, "i.to_f", {}, ([Int] -> [Float]);
    /// `int(f)`: truncates toward zero, saturates, NaN gives 0.
    FToI = 0x61, "f.to_i", {}, ([Float] -> [Int]);
    /// `str(x)` for a value of type `type_` (which must be printable).
    ToStr = 0x62, "to_str", { type_: u32 }, ("T -> str");

    // ---- control
    /// Unconditional jump.
    Jmp = 0x68, "jmp", { target: u32 }, ([] -> []);
    /// Jumps when the popped bool is true.
    JmpIf = 0x69, "jmp.if", { target: u32 }, ([Bool] -> []);
    /// Jumps when the popped bool is false.
    JmpIfNot = 0x6a, "jmp.ifnot", { target: u32 }, ([Bool] -> []);
    /// Returns; the stack holds exactly the result (or nothing for a function without one).
    Ret = 0x6b, "ret", {}, ("R ->");
    /// Calls function `func`: pops its arguments, pushes its result if any.
    Call = 0x6c, "call", { func: u32 }, ("args -> R");
    /// Calls the function reference under the arguments. `type_` is the reference's
    /// signature (a func type): it tells how many arguments lie above the reference, which
    /// the runtime could not otherwise know (slots are untagged).
    CallRef = 0x6d, "call.ref", { type_: u32 }, ("fn args -> R");
    /// Calls imported host function `import`.
    CallHost = 0x6e, "call.host", { import: u32 }, ("args -> R");
    /// Calls built-in native `native` (see `natives`).
    CallNative = 0x6f, "call.native", { native: u16 }, ("args -> R");

    // ---- arrays (the element type comes from the array's type on the stack)
    /// Pops `count` elements into a new array of type `type_`.
    ArrNew = 0x70, "arr.new", { type_: u32, count: u32 }, ("T{count} -> [T]");
    /// `array(n, v)`: an array of type `type_` holding `n` copies of `v`; traps if `n < 0`.
    ArrFill = 0x71, "arr.fill", { type_: u32 }, ("int T -> [T]");
    /// `xs[i]`; traps when out of bounds.
    ArrGet = 0x72, "arr.get", {}, ("[T] int -> T");
    /// `xs[i] = v`; traps when out of bounds.
    ArrSet = 0x73, "arr.set", {}, ("[T] int T ->");
    /// `xs.len()`.
    ArrLen = 0x74, "arr.len", {}, ("[T] -> int");
    /// `xs.push(v)`.
    ArrPush = 0x75, "arr.push", {}, ("[T] T ->");
    /// `xs.pop()`; traps when empty.
    ArrPop = 0x76, "arr.pop", {}, ("[T] -> T");
    /// `xs.insert(i, v)`; traps unless `0 <= i <= len`.
    ArrInsert = 0x77, "arr.insert", {}, ("[T] int T ->");
    /// `xs.remove(i)`; traps when out of bounds.
    ArrRemove = 0x78, "arr.remove", {}, ("[T] int -> T");
    /// `xs.slice(a, b)`: a new array; traps unless `0 <= a <= b <= len`.
    ArrSlice = 0x79, "arr.slice", {}, ("[T] int int -> [T]");
    /// `xs.contains(v)` (by `==` of T).
    ArrContains = 0x7a, "arr.contains", {}, ("[T] T -> bool");
    /// `xs.index_of(v)`, -1 when absent.
    ArrIndexOf = 0x7b, "arr.index_of", {}, ("[T] T -> int");
    /// `xs.reverse()` in place.
    ArrReverse = 0x7c, "arr.reverse", {}, ("[T] ->");
    /// `xs.sort()` in place, stable; T is int, float (total order) or str.
    ArrSort = 0x7d, "arr.sort", {}, ("[T] ->");
    /// `xs.sort_by(f)` in place, stable, with `f: fn(T, T) -> int`.
    ArrSortBy = 0x7e, "arr.sort_by", {}, ("[T] fn(T,T)->int ->");
    /// `xs.join(sep)` for `[str]`.
    ArrJoin = 0x7f, "arr.join", {}, ("[str] str -> str");

    // ---- maps (insertion-ordered)
    /// Pops `count` key/value pairs into a new map of type `type_`.
    MapNew = 0x88, "map.new", { type_: u32, count: u32 }, ("(K V){count} -> [K: V]");
    /// `m[k]`; traps when absent.
    MapGet = 0x89, "map.get", {}, ("[K: V] K -> V");
    /// `m.get(k, default)`.
    MapGetOr = 0x8a, "map.get_or", {}, ("[K: V] K V -> V");
    /// `m[k] = v`: updates in place or appends.
    MapSet = 0x8b, "map.set", {}, ("[K: V] K V ->");
    /// `m.has(k)`.
    MapHas = 0x8c, "map.has", {}, ("[K: V] K -> bool");
    /// `m.remove(k)`: returns the value; traps when absent; keeps the others' order.
    MapRemove = 0x8d, "map.remove", {}, ("[K: V] K -> V");
    /// `m.len()`.
    MapLen = 0x8e, "map.len", {}, ("[K: V] -> int");
    /// `m.keys()` as a new array of type `type_` (which must be `[K]`).
    MapKeys = 0x8f, "map.keys", { type_: u32 }, ("[K: V] -> [K]");
    /// `m.values()` as a new array of type `type_` (which must be `[V]`).
    MapValues = 0x90, "map.values", { type_: u32 }, ("[K: V] -> [V]");
    /// The key at insertion position `i` (for `for k, v in m`); traps when out of bounds.
    MapKeyAt = 0x91, "map.key_at", {}, ("[K: V] int -> K");
    /// The value at insertion position `i`; traps when out of bounds.
    MapValueAt = 0x92, "map.value_at", {}, ("[K: V] int -> V");

    // ---- structs
    /// Pops the fields (in declaration order) into a new struct of type `type_`.
    StructNew = 0x98, "struct.new", { type_: u32 }, ("F0 .. Fn -> S");
    /// Pushes field `index` of the struct on the stack.
    FieldGet = 0x99, "field.get", { index: u16 }, ("S -> F");
    /// Stores into field `index`.
    FieldSet = 0x9a, "field.set", { index: u16 }, ("S F ->");
}

impl Instr {
    /// The jump target, for the branch instructions.
    pub fn jump_target(&self) -> Option<u32> {
        match *self {
            Instr::Jmp { target } | Instr::JmpIf { target } | Instr::JmpIfNot { target } => {
                Some(target)
            }
            _ => None,
        }
    }

    /// Whether control never falls through to the next instruction.
    pub fn ends_block(&self) -> bool {
        matches!(self, Instr::Jmp { .. } | Instr::Ret {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcode_bytes_are_unique_and_sorted() {
        for pair in OPCODES.windows(2) {
            assert!(
                pair[0].byte < pair[1].byte,
                "{} / {}",
                pair[0].mnemonic,
                pair[1].mnemonic
            );
        }
    }

    #[test]
    fn every_opcode_round_trips() {
        let samples = [
            Instr::IConst { value: -5 },
            Instr::FConst {
                value: F64Bits::new(f64::NAN),
            },
            Instr::ArrNew { type_: 7, count: 3 },
            Instr::FieldSet { index: 2 },
            Instr::IAdd {},
        ];
        for instr in samples {
            let mut bytes = Vec::new();
            instr.encode(&mut bytes);
            assert_eq!(bytes.len(), instr.encoded_len());
            let mut pos = 0;
            assert_eq!(Instr::decode(&bytes, &mut pos).unwrap(), instr);
            assert_eq!(pos, bytes.len());
        }
    }

    #[test]
    fn truncated_operand_is_an_error() {
        let mut pos = 0;
        let err = Instr::decode(&[0x01, 1, 2], &mut pos).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::TruncatedInstruction {
                offset: 0,
                opcode: 0x01
            }
        ));
    }
}
