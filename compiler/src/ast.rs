//! The syntax tree produced by the parser and consumed by the type checker.
//!
//! It records what was written, with a [`Span`] on everything a diagnostic may point at;
//! names are not resolved and types are not inferred here. Method calls are `Call` with a
//! `Field` callee; struct literals (`Point(x: 1.0)`) are `Call` with named arguments; the
//! checker tells these apart.

use crate::diagnostics::{FileId, Span};

/// One parsed source file.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceFile {
    /// Which file.
    pub file: FileId,
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// A top-level declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `import "path.src";` or `import "path.src" as name;`
    Import(ImportDecl),
    /// `const`, `let` or `var` at module level.
    Global(GlobalDecl),
    /// `struct Name { ... }`
    Struct(StructDecl),
    /// `impl Name { ... }`
    Impl(ImplDecl),
    /// `fn name(...) { ... }`
    Fn(FnDecl),
    /// `extern fn ns.name(...) -> T;`: a host function the embedding application provides.
    Extern(ExternDecl),
}

/// `extern fn ns.name(params) -> T;`: declares a host function provided by the application
/// that embeds rvm, called as `ns.name(...)`. It becomes an import `ns.name` of the module,
/// which linking checks against the closure the embedder registered.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternDecl {
    /// The namespace (`app` in `app.log`).
    pub namespace: Ident,
    /// The function name.
    pub name: Ident,
    /// The parameters.
    pub params: Vec<Param>,
    /// `-> Type`, if written.
    pub ret: Option<TypeExpr>,
    /// The whole declaration.
    pub span: Span,
}

/// An identifier with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// `import "path" [as alias];`
#[derive(Clone, Debug, PartialEq)]
pub struct ImportDecl {
    /// The path as written (relative to the importing file).
    pub path: String,
    /// The span of the path string literal.
    pub path_span: Span,
    /// `as alias`, if given.
    pub alias: Option<Ident>,
    /// The whole declaration.
    pub span: Span,
}

/// Which keyword introduced a binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingKind {
    /// `const`: a compile-time constant.
    Const,
    /// `let`: immutable.
    Let,
    /// `var`: mutable.
    Var,
}

/// A module-level `const`/`let`/`var`.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalDecl {
    /// The keyword.
    pub kind: BindingKind,
    /// The bound name.
    pub name: Ident,
    /// The written type, if any.
    pub ty: Option<TypeExpr>,
    /// The initialiser.
    pub value: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `struct Name { field: Type, ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct StructDecl {
    /// The struct's name.
    pub name: Ident,
    /// Fields in declaration order.
    pub fields: Vec<FieldDecl>,
    /// The whole declaration.
    pub span: Span,
}

/// One field of a struct declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    /// The field name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
}

/// `impl Name { fn ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct ImplDecl {
    /// The struct the methods belong to.
    pub target: Ident,
    /// The methods.
    pub methods: Vec<FnDecl>,
    /// The whole block.
    pub span: Span,
}

/// A function or method.
#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    /// Its name.
    pub name: Ident,
    /// `Some(span of self)` for a method taking `self` as its first parameter.
    pub self_param: Option<Span>,
    /// The other parameters.
    pub params: Vec<Param>,
    /// `-> Type`, if written.
    pub ret: Option<TypeExpr>,
    /// The body.
    pub body: Block,
    /// From `fn` to the end of the signature (for "declared here" notes).
    pub sig_span: Span,
    /// The whole declaration.
    pub span: Span,
}

/// `name: Type`
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The parameter name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
}

/// A written type.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    /// What kind of type.
    pub kind: TypeExprKind,
    /// Where it was written.
    pub span: Span,
}

/// The forms a written type takes.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `int`, `float`, `bool`, `str` or a struct name.
    Named(Ident),
    /// `alias.Name`: a struct from a file imported `as alias`.
    Qualified(Ident, Ident),
    /// `[T]`
    Array(Box<TypeExpr>),
    /// `[K: V]`
    Map(Box<TypeExpr>, Box<TypeExpr>),
    /// `fn(A, B) -> R` (result absent when it returns nothing).
    Fn(Vec<TypeExpr>, Option<Box<TypeExpr>>),
}

/// `{ statements }`
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The statements.
    pub stmts: Vec<Stmt>,
    /// From `{` to `}`.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What kind.
    pub kind: StmtKind,
    /// Where.
    pub span: Span,
}

/// The statement forms.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `let x [: T] = e;` (`mutable: false`) or `var x [: T] = e;`
    Let {
        /// `var` rather than `let`.
        mutable: bool,
        /// The bound name.
        name: Ident,
        /// The written type, if any.
        ty: Option<TypeExpr>,
        /// The initialiser.
        value: Expr,
    },
    /// `target = value;` or `target op= value;`
    Assign {
        /// A variable, field or index expression.
        target: Expr,
        /// `Some(Add)` for `+=`, etc.; `None` for `=`.
        op: Option<BinOp>,
        /// The assigned value.
        value: Expr,
    },
    /// An expression evaluated for its effect: `f(x);`
    Expr(Expr),
    /// `if c { } [else if ... | else { }]`
    If {
        /// The condition.
        cond: Expr,
        /// The `then` block.
        then: Block,
        /// The `else` part: another `if` statement or a block.
        else_: Option<Box<Stmt>>,
    },
    /// `while c { }`
    While {
        /// The condition.
        cond: Expr,
        /// The body.
        body: Block,
    },
    /// `for i in a..b { }` / `for i in a..=b { }`
    ForRange {
        /// The loop variable.
        var: Ident,
        /// The start.
        start: Expr,
        /// The end.
        end: Expr,
        /// `..=` rather than `..`.
        inclusive: bool,
        /// The body.
        body: Block,
    },
    /// `for x in xs { }`, `for i, x in xs { }`, `for k, v in m { }`
    ForEach {
        /// The first name (the element, or the index/key when `second` is present).
        first: Ident,
        /// The second name (the element/value).
        second: Option<Ident>,
        /// The array or map.
        iterable: Expr,
        /// The body.
        body: Block,
    },
    /// `break;`
    Break,
    /// `continue;`
    Continue,
    /// `return [e];`
    Return(Option<Expr>),
    /// A nested `{ }` block.
    Block(Block),
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What kind.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// The expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An integer literal's magnitude. Values above `i64::MAX` are kept so that the checker
    /// can accept `-9223372036854775808` and report the rest as out of range.
    Int(u64),
    /// A float literal.
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// A string literal, split at its `${...}` interpolations.
    Str(Vec<StrPart>),
    /// A name: local, global, constant, function, or the start of `alias.name`/`math.PI`.
    Ident(String),
    /// `self` inside a method.
    SelfValue,
    /// `[a, b, c]` (possibly empty: `[]`).
    Array(Vec<Expr>),
    /// `[k: v, ...]`; `[:]` is the empty map.
    Map(Vec<(Expr, Expr)>),
    /// `-e`, `!e`
    Unary(UnOp, Box<Expr>),
    /// `a op b` (including `&&` and `||`).
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `callee(args)`: a function call, a method call (`Field` callee), a struct literal
    /// (named arguments) or a conversion (`int(x)`).
    Call {
        /// What is called.
        callee: Box<Expr>,
        /// The arguments.
        args: Vec<Arg>,
    },
    /// `e.name`: a field, or a qualified name like `math.PI` or `u.helper`.
    Field(Box<Expr>, Ident),
    /// `e[i]`
    Index(Box<Expr>, Box<Expr>),
}

/// A piece of a string literal.
#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    /// Literal text with escapes already processed.
    Lit(String),
    /// An interpolated `${expr}`.
    Expr(Expr),
}

/// A call argument, `value` or `name: value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// The name, for struct literals.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-`
    Neg,
    /// `!`
    Not,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
        }
    }
}
