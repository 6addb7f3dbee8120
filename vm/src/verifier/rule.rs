//! The verifier's rules, one variant each, with the stable short names that error messages,
//! `spec/verifier.md` and the tests use.

macro_rules! rules {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal; )*) => {
        /// One verification rule. Every [`VerifyError`](super::VerifyError) names the rule it
        /// enforces; [`Rule::name`] is its stable short name (`stack-underflow`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Rule {
            /// Every rule, in documentation order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable short name, e.g. `stack-underflow`.
            pub fn name(self) -> &'static str {
                match self { $( Rule::$variant => $name, )* }
            }

            /// The rule with short name `name`, if any.
            pub fn by_name(name: &str) -> Option<Rule> {
                match name { $( $name => Some(Rule::$variant), )* _ => None }
            }
        }
    };
}

rules! {
    // ---- the type table
    /// A type id (in the type table, a signature, a local, a global, an import or a type
    /// operand) is out of range.
    TypeIndex = "type-index";
    /// A non-struct type refers to a later non-struct entry (which could make it infinite).
    TypeForwardReference = "type-forward-reference";
    /// A non-struct type appears twice in the type table.
    TypeDuplicate = "type-duplicate";
    /// A map's key type is not `int`, `str` or `bool`.
    MapKeyType = "map-key-type";
    /// A signature (of a function, an import or a `call.ref`) is not a function type.
    NotAFuncType = "not-a-func-type";

    // ---- indices
    /// A string constant index is out of range.
    StringIndex = "string-index";
    /// A global index is out of range.
    GlobalIndex = "global-index";
    /// A function index (in code, an export or an entry point) is out of range.
    FunctionIndex = "function-index";
    /// An import index is out of range.
    ImportIndex = "import-index";
    /// A local index is out of range.
    LocalIndex = "local-index";
    /// A field index is out of range for the struct on the stack.
    FieldIndex = "field-index";
    /// A `call.native` id names no native.
    NativeIndex = "native-index";
    /// A line table entry names a source file index out of range.
    FileIndex = "file-index";

    // ---- module structure
    /// `main` is not `fn()` or `fn() -> int`.
    MainSignature = "main-signature";
    /// The initialiser is not `fn()`.
    InitSignature = "init-signature";
    /// Two exports have the same name.
    DuplicateExport = "duplicate-export";
    /// An import names a host function this VM does not provide.
    UnknownImport = "unknown-import";
    /// An import's signature differs from the host function's.
    ImportSignature = "import-signature";
    /// A line table is not sorted by offset.
    LineTableOrder = "line-table-order";
    /// A line table entry's offset lies past the end of the code.
    LineTableOffset = "line-table-offset";

    // ---- limits
    /// More than 65535 parameters and locals.
    TooManyLocals = "too-many-locals";
    /// A declared `max_stack` above 65535.
    MaxStackTooLarge = "max-stack-too-large";
    /// More than 16 MiB of code in one function.
    CodeTooLarge = "code-too-large";
    /// The function exceeds the verifier's work or memory budget.
    TooComplex = "too-complex";

    // ---- control flow
    /// A function has no code.
    EmptyCode = "empty-code";
    /// Execution can run past the last instruction.
    FallsOffEnd = "falls-off-end";
    /// A jump target lies outside the code.
    JumpOutOfBounds = "jump-out-of-bounds";
    /// A jump target lies inside an instruction.
    JumpMidInstruction = "jump-mid-instruction";

    // ---- the abstract interpretation
    /// An instruction pops more operands than the stack holds.
    StackUnderflow = "stack-underflow";
    /// The stack grows deeper than the function's `max_stack`.
    StackOverflow = "stack-overflow";
    /// An operand has the wrong type for the instruction.
    TypeMismatch = "type-mismatch";
    /// Two paths reach an instruction with different stack heights or types.
    JoinMismatch = "join-mismatch";
    /// `ret` does not find exactly the function's result (or nothing) on the stack.
    ReturnMismatch = "return-mismatch";
    /// A `b.const` operand other than 0 or 1.
    BoolConst = "bool-const";
    /// A local is read before it is written on some path.
    UninitializedLocal = "uninitialized-local";
    /// An immutable global is written outside the initialiser.
    ImmutableGlobal = "immutable-global";
    /// `to_str` on a type that cannot be printed.
    NotPrintable = "not-printable";
    /// `arr.sort` on an array whose elements are not `int`, `float` or `str`.
    NotSortable = "not-sortable";
    /// An instruction's type operand does not have the shape the instruction needs.
    BadTypeOperand = "bad-type-operand";
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
