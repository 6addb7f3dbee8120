//! The checked program: what the checker hands to code generation.
//!
//! Names are resolved (locals are slot numbers, globals and functions are indices), every
//! expression carries its type, operators and built-ins are resolved to the instruction or
//! native that implements them, constants are folded and `else if` chains are flattened.
//! Code generation therefore never reports an error and never looks a name up; it only
//! decides the instruction sequence. A program containing [`ExprKind::Error`] is never
//! handed to code generation (the checker reports errors instead).

use crate::diagnostics::Span;
use crate::types::{TyId, TypeTable};
use rvm_vm::format::Instr;
use rvm_vm::host::HostFn;
use rvm_vm::natives::Native;

/// A whole checked program.
#[derive(Debug)]
pub struct Program {
    /// Every type mentioned.
    pub types: TypeTable,
    /// Struct declarations, indexed by struct id.
    pub structs: Vec<StructInfo>,
    /// Module-level `let`/`var` bindings (constants are folded away).
    pub globals: Vec<GlobalInfo>,
    /// Initialisers, in execution order.
    pub init: Vec<(u32, Expr)>,
    /// Functions and methods.
    pub functions: Vec<Function>,
    /// The index of `main` in `functions` (`None` for a library: see
    /// [`crate::compile_library`]).
    pub main: Option<u32>,
    /// The embedder functions declared with `extern fn`, indexed by [`Op::Extern`].
    pub externs: Vec<ExternInfo>,
}

/// An embedder function (`extern fn ns.name(...)`), imported as `ns.name`.
#[derive(Debug, Clone)]
pub struct ExternInfo {
    /// The namespace.
    pub namespace: String,
    /// The function name.
    pub name: String,
    /// Parameter types.
    pub params: Vec<TyId>,
    /// The result type, if any.
    pub result: Option<TyId>,
}

/// A struct declaration.
#[derive(Debug)]
pub struct StructInfo {
    /// The source name.
    pub name: String,
    /// Its type.
    pub ty: TyId,
    /// Fields in declaration order.
    pub fields: Vec<(String, TyId)>,
}

/// A module-level binding.
#[derive(Debug)]
pub struct GlobalInfo {
    /// The source name.
    pub name: String,
    /// Its type.
    pub ty: TyId,
    /// `var` rather than `let`.
    pub mutable: bool,
}

/// A function or method.
#[derive(Debug)]
pub struct Function {
    /// `name` or `Struct.method`.
    pub name: String,
    /// The name it is exported under (unique in the module).
    pub export: String,
    /// Parameter types (`self` first for methods).
    pub params: Vec<TyId>,
    /// The result type.
    pub result: Option<TyId>,
    /// Types of every local, parameters first.
    pub locals: Vec<TyId>,
    /// The body.
    pub body: Block,
    /// The declaration (for the function's first line entry).
    pub span: Span,
}

/// A sequence of statements.
pub type Block = Vec<Stmt>;

/// A statement with its position.
#[derive(Debug)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// Where it was written.
    pub span: Span,
}

/// The statement forms.
#[derive(Debug)]
pub enum StmtKind {
    /// `local = value`
    SetLocal(u32, Expr),
    /// `global = value`
    SetGlobal(u32, Expr),
    /// `obj.field = value`
    SetField {
        /// The struct.
        obj: Expr,
        /// The field index.
        field: u16,
        /// The value.
        value: Expr,
    },
    /// `base[index] = value` on an array (`map: false`) or a map.
    SetIndex {
        /// A map rather than an array.
        map: bool,
        /// The container.
        base: Expr,
        /// The index or key.
        index: Expr,
        /// The value.
        value: Expr,
    },
    /// `obj.field op= value`, evaluating `obj` once.
    CompoundField {
        /// The struct.
        obj: Expr,
        /// The field index.
        field: u16,
        /// The binary operation applied to the old value and `value`.
        op: Instr,
        /// The right operand.
        value: Expr,
    },
    /// `base[index] op= value`, evaluating `base` and `index` once.
    CompoundIndex {
        /// A map rather than an array.
        map: bool,
        /// The container.
        base: Expr,
        /// The index or key.
        index: Expr,
        /// The binary operation.
        op: Instr,
        /// The right operand.
        value: Expr,
    },
    /// An expression evaluated for its effect (its value, if any, is dropped).
    Expr(Expr),
    /// `if a {} else if b {} else {}`, flattened.
    If {
        /// Conditions with their blocks, in order.
        arms: Vec<(Expr, Block)>,
        /// The final `else`.
        else_: Option<Block>,
    },
    /// `while cond {}`; `cond` is `None` for a loop whose condition is constant `true`.
    While {
        /// The condition.
        cond: Option<Expr>,
        /// The body.
        body: Block,
    },
    /// `for var in start..end` (or `..=`).
    ForRange {
        /// The loop variable (an int local).
        var: u32,
        /// The start.
        start: Expr,
        /// The end, evaluated once.
        end: Expr,
        /// `..=`
        inclusive: bool,
        /// The body.
        body: Block,
    },
    /// `for x in xs` / `for i, x in xs`.
    ForArray {
        /// The index variable, if named.
        index: Option<u32>,
        /// The element variable.
        elem: u32,
        /// The array.
        array: Expr,
        /// The body.
        body: Block,
    },
    /// `for k in m` / `for k, v in m`.
    ForMap {
        /// The key variable.
        key: u32,
        /// The value variable, if named.
        value: Option<u32>,
        /// The map.
        map: Expr,
        /// The body.
        body: Block,
    },
    /// `break`
    Break,
    /// `continue`
    Continue,
    /// `return [e]`
    Return(Option<Expr>),
    /// A nested block.
    Block(Block),
}

/// An expression with its type and the position reported if it traps.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Its type ([`TyId::UNIT`] for calls without a result).
    pub ty: TyId,
    /// Its position.
    pub span: Span,
}

/// The expression forms.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// An int constant.
    Int(i64),
    /// A float constant.
    Float(f64),
    /// A bool constant.
    Bool(bool),
    /// A string constant.
    Str(String),
    /// A local variable.
    Local(u32),
    /// A global variable.
    Global(u32),
    /// A reference to a function.
    FnRef(u32),
    /// String interpolation: every part is a `str`, concatenated in order.
    Concat(Vec<Expr>),
    /// `[a, b]`
    Array(Vec<Expr>),
    /// `[k: v]`
    Map(Vec<(Expr, Expr)>),
    /// A struct literal: struct id and `(field index, value)` in source order.
    Struct(u32, Vec<(u16, Expr)>),
    /// An operation applied to operands evaluated in order.
    Op(Op, Vec<Expr>),
    /// `a && b`
    And(Box<Expr>, Box<Expr>),
    /// `a || b`
    Or(Box<Expr>, Box<Expr>),
    /// `!a`
    Not(Box<Expr>),
    /// A direct call.
    Call(u32, Vec<Expr>),
    /// A call through a function reference (the callee is evaluated first).
    CallRef(Box<Expr>, Vec<Expr>),
    /// `obj.field`
    Field(Box<Expr>, u16),
    /// An expression that already produced a diagnostic.
    Error,
}

/// How an [`ExprKind::Op`] is computed from its operands.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    /// A single instruction without a type operand (`i.add`, `arr.get`, `map.len`, ...).
    Instr(Instr),
    /// An instruction taking a type operand: the given type (converted by code generation).
    Typed(TypedOp, TyId),
    /// A built-in native.
    Native(Native),
    /// A host function.
    Host(HostFn),
    /// An embedder function: an index into [`Program::externs`].
    Extern(u32),
    /// The operand itself (`int(i)` on an int).
    Identity,
}

/// Instructions whose operand is a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypedOp {
    /// `to_str T` (T is the operand's type).
    ToStr,
    /// `arr.fill [T]` (the result type).
    ArrFill,
    /// `s.split [str]`
    SSplit,
    /// `s.chars [str]`
    SChars,
    /// `map.keys [K]`
    MapKeys,
    /// `map.values [V]`
    MapValues,
}

impl Expr {
    /// An error expression (never compiled).
    pub fn error(span: Span) -> Expr {
        Expr {
            kind: ExprKind::Error,
            ty: TyId::ERROR,
            span,
        }
    }
}
