//! The `.bc` file format: the in-memory [`Module`] and its byte encoding.
//!
//! A [`Module`] is a faithful picture of a file: `decode(encode(m)) == m` for every module,
//! valid or not. Nothing here proves a module safe to run; that is the verifier's job
//! (`crate::verifier`), and the interpreter only accepts its output. The decoder's one duty
//! is to never trust a count or a length: everything it allocates is backed by bytes that are
//! actually present, so a small file cannot make it allocate a lot.
//!
//! The layout is documented in `spec/bytecode.md`; the constants below are its source.

mod decode;
pub mod disasm;
mod encode;
pub mod opcodes;

pub use decode::{DecodeError, decode};
pub use encode::encode;
pub use opcodes::{F64Bits, Instr, OPCODES, OpcodeInfo, Scalar, StackEffect};

/// The four bytes every `.bc` file starts with.
pub const MAGIC: [u8; 4] = *b"\x7fRVM";
/// The format version this VM writes, and the newest it reads.
pub const FORMAT_VERSION: u16 = 1;

/// Section identifiers, in the order they must appear (each at most once).
pub mod section {
    /// The type table.
    pub const TYPES: u8 = 1;
    /// The string constant pool.
    pub const STRINGS: u8 = 2;
    /// Imported host functions.
    pub const IMPORTS: u8 = 3;
    /// Module-level bindings.
    pub const GLOBALS: u8 = 4;
    /// Function headers and code.
    pub const FUNCTIONS: u8 = 5;
    /// Exported functions.
    pub const EXPORTS: u8 = 6;
    /// The initialiser and `main`.
    pub const ENTRY: u8 = 7;
    /// Source file names and line tables.
    pub const DEBUG: u8 = 8;
}

/// An index into [`Module::types`].
pub type TypeId = u32;

/// One entry of the type table. Non-struct types are structural and the table holds each at
/// most once, so two equal type ids mean two equal types; structs are nominal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeDef {
    /// 64-bit signed integer.
    Int,
    /// IEEE-754 binary64.
    Float,
    /// `true` or `false`.
    Bool,
    /// Immutable UTF-8 string (a heap reference).
    Str,
    /// Growable array (a heap reference).
    Array(TypeId),
    /// Insertion-ordered map; the key is `int`, `str` or `bool` (a heap reference).
    Map(TypeId, TypeId),
    /// A struct with named, mutable fields (a heap reference).
    Struct(StructDef),
    /// A function signature; values of this type are function references.
    Func(FuncType),
}

/// A struct declaration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StructDef {
    /// The source name, for printing.
    pub name: String,
    /// The fields in declaration order.
    pub fields: Vec<FieldDef>,
}

/// One field of a struct.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldDef {
    /// The field name.
    pub name: String,
    /// The field type.
    pub ty: TypeId,
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<TypeId>,
    /// The result type, if any.
    pub result: Option<TypeId>,
}

/// A host function the module imports (`module.name`, e.g. `os.args`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// The host module, e.g. `os`.
    pub module: String,
    /// The function name, e.g. `args`.
    pub name: String,
    /// Its signature: a [`TypeDef::Func`].
    pub ty: TypeId,
}

/// A module-level binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Global {
    /// The source name.
    pub name: String,
    /// Its type.
    pub ty: TypeId,
    /// `var` (true) or `let` (false). Only the initialiser may write a `let`.
    pub mutable: bool,
}

/// A function exported under a name (for embedders).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// The exported name.
    pub name: String,
    /// The function index.
    pub func: u32,
}

/// One function: its header, code and line table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// The source name (`Point.norm` for methods), for stack traces.
    pub name: String,
    /// Its signature: a [`TypeDef::Func`].
    pub ty: TypeId,
    /// Types of the locals after the parameters.
    pub locals: Vec<TypeId>,
    /// The operand stack's maximum depth, proven by the verifier.
    pub max_stack: u32,
    /// The code. Jump targets are byte offsets into its encoding.
    pub code: Vec<Instr>,
    /// Source positions by code byte offset, sorted by offset.
    pub lines: Vec<LineEntry>,
}

/// The source position of the instructions from `offset` up to the next entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineEntry {
    /// Byte offset in the function's code.
    pub offset: u32,
    /// Index into [`Module::files`].
    pub file: u32,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// A whole bytecode module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Module {
    /// The type table.
    pub types: Vec<TypeDef>,
    /// The string constant pool.
    pub strings: Vec<String>,
    /// Imported host functions.
    pub imports: Vec<Import>,
    /// Module-level bindings.
    pub globals: Vec<Global>,
    /// Functions.
    pub functions: Vec<Function>,
    /// Exported functions.
    pub exports: Vec<Export>,
    /// The function that initialises the globals, run once before anything else.
    pub init: Option<u32>,
    /// The program's entry point: `fn()` or `fn() -> int`.
    pub main: Option<u32>,
    /// Source file names, for positions.
    pub files: Vec<String>,
}

impl Function {
    /// The byte offset of every instruction, plus the code's total length at the end.
    pub fn instr_offsets(&self) -> Vec<u32> {
        let mut offsets = Vec::with_capacity(self.code.len() + 1);
        let mut at = 0u32;
        for instr in &self.code {
            offsets.push(at);
            at = at.saturating_add(instr.encoded_len() as u32);
        }
        offsets.push(at);
        offsets
    }

    /// The line entry covering code byte `offset`, if any.
    pub fn position_at(&self, offset: u32) -> Option<LineEntry> {
        let idx = self.lines.partition_point(|e| e.offset <= offset);
        idx.checked_sub(1).map(|i| self.lines[i])
    }
}

impl Module {
    /// Adds `ty` to the type table unless an equal entry exists, returning its id.
    /// (Structs are nominal: callers add each struct once.)
    pub fn intern_type(&mut self, ty: TypeDef) -> TypeId {
        if let Some(pos) = self.types.iter().position(|t| *t == ty) {
            return pos as TypeId;
        }
        self.types.push(ty);
        (self.types.len() - 1) as TypeId
    }

    /// Adds `s` to the string pool unless present, returning its index.
    pub fn intern_string(&mut self, s: &str) -> u32 {
        if let Some(pos) = self.strings.iter().position(|t| t == s) {
            return pos as u32;
        }
        self.strings.push(s.to_owned());
        (self.strings.len() - 1) as u32
    }

    /// A readable rendering of type `id` (`[int]`, `[str: float]`, `Point`, `fn(int) -> int`),
    /// or `<type #id>` when out of range. At most 64 type nodes are spelled out (the rest
    /// print as `...`), so a crafted table of nested wide function types cannot make the
    /// name exponentially long.
    pub fn type_name(&self, id: TypeId) -> String {
        let mut out = String::new();
        let mut budget = 64u32;
        self.write_type_name(id, &mut out, &mut budget);
        out
    }

    fn write_type_name(&self, id: TypeId, out: &mut String, budget: &mut u32) {
        if *budget == 0 {
            out.push_str("...");
            return;
        }
        *budget -= 1;
        let Some(ty) = self.types.get(id as usize) else {
            out.push_str(&format!("<type #{id}>"));
            return;
        };
        match ty {
            TypeDef::Int => out.push_str("int"),
            TypeDef::Float => out.push_str("float"),
            TypeDef::Bool => out.push_str("bool"),
            TypeDef::Str => out.push_str("str"),
            TypeDef::Array(e) => {
                out.push('[');
                self.write_type_name(*e, out, budget);
                out.push(']');
            }
            TypeDef::Map(k, v) => {
                out.push('[');
                self.write_type_name(*k, out, budget);
                out.push_str(": ");
                self.write_type_name(*v, out, budget);
                out.push(']');
            }
            TypeDef::Struct(s) => out.push_str(&s.name),
            TypeDef::Func(f) => {
                out.push_str("fn(");
                for (i, p) in f.params.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if *budget == 0 {
                        out.push_str("...");
                        break;
                    }
                    self.write_type_name(*p, out, budget);
                }
                out.push(')');
                if let Some(r) = f.result {
                    out.push_str(" -> ");
                    self.write_type_name(r, out, budget);
                }
            }
        }
    }
}
