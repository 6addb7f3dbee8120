//! One broken module per rule: the table the rule tests iterate.

use super::*;

/// Where a case's error must point.
#[derive(Clone, Copy, Debug)]
pub enum At {
    /// The module as a whole.
    Module,
    /// Function `f`, no instruction.
    Function(u32),
    /// Function `f`, instruction index `pc`.
    Instr(u32, usize),
    /// Function `f`, some instruction.
    SomeInstr(u32),
}

pub struct Case {
    pub what: &'static str,
    pub module: Module,
    pub at: At,
}

pub fn case(what: &'static str, b: Builder, at: At) -> Case {
    Case {
        what,
        module: b.build(),
        at,
    }
}

/// A builder holding one function `f` (index 0) with the given signature and listing.
pub fn one(result: Option<TypeDef>, locals: &[TypeDef], listing: &[A]) -> (Builder, u32) {
    let mut b = Builder::new();
    let result = result.map(|t| b.ty(t));
    let locals: Vec<_> = locals.iter().map(|t| b.ty(t.clone())).collect();
    let f = b.func("f", &[], result, &locals, listing);
    (b, f)
}

/// `one`, as a case failing at instruction `pc`.
pub fn at_instr(
    what: &'static str,
    result: Option<TypeDef>,
    locals: &[TypeDef],
    listing: &[A],
    pc: usize,
) -> Case {
    let (b, f) = one(result, locals, listing);
    case(what, b, At::Instr(f, pc))
}

/// The modules that break `rule` and nothing else. The `match` is exhaustive, so a new rule
/// does not compile without a test.
pub fn cases(rule: Rule) -> Vec<Case> {
    match rule {
        Rule::TypeIndex => {
            let mut b = Builder::new();
            b.ty(TypeDef::Array(5));
            let table = case("array of type #5 in a 1-entry table", b, At::Module);
            let mut b = Builder::new();
            b.global("g", 3, true);
            let global = case("global of type #3", b, At::Module);
            let operand = at_instr(
                "to_str 99",
                None,
                &[],
                &[
                    i(IConst { value: 1 }),
                    i(ToStr { type_: 99 }),
                    i(Pop {}),
                    i(Ret {}),
                ],
                1,
            );
            let mut b = Builder::new();
            let f = b.func("f", &[], None, &[], &[i(Ret {})]);
            b.m.functions[0].locals = vec![42];
            let local = case("local of type #42", b, At::Function(f));
            vec![table, global, operand, local]
        }
        Rule::TypeForwardReference => {
            let mut b = Builder::new();
            b.m.types = vec![TypeDef::Array(1), TypeDef::Int];
            let fwd = case("[#1] before #1", b, At::Module);
            let mut b = Builder::new();
            b.m.types = vec![TypeDef::Array(0)];
            let selfref = case("[#0] as #0", b, At::Module);
            vec![fwd, selfref]
        }
        Rule::TypeDuplicate => {
            let mut b = Builder::new();
            b.m.types = vec![TypeDef::Int, TypeDef::Array(0), TypeDef::Array(0)];
            vec![case("[int] twice", b, At::Module)]
        }
        Rule::MapKeyType => {
            let mut b = Builder::new();
            b.m.types = vec![TypeDef::Float, TypeDef::Int, TypeDef::Map(0, 1)];
            vec![case("[float: int]", b, At::Module)]
        }
        Rule::NotAFuncType => {
            let mut b = Builder::new();
            let f = b.func("f", &[], None, &[], &[i(Ret {})]);
            let int = b.int();
            b.m.functions[0].ty = int;
            let sig = case("function of type int", b, At::Function(f));
            let mut b = Builder::new();
            let int = b.int();
            b.import("os", "exit", int);
            let import = case("import of type int", b, At::Module);
            let mut b = Builder::new();
            let int = b.int();
            let f = b.func("f", &[], None, &[], &[i(CallRef { type_: int }), i(Ret {})]);
            let call_ref = case("call.ref int", b, At::Instr(f, 0));
            vec![sig, import, call_ref]
        }
        Rule::StringIndex => vec![at_instr(
            "s.const 5",
            None,
            &[],
            &[i(SConst { index: 5 }), i(Pop {}), i(Ret {})],
            0,
        )],
        Rule::GlobalIndex => vec![at_instr(
            "global.get 0",
            None,
            &[],
            &[i(GlobalGet { index: 0 }), i(Pop {}), i(Ret {})],
            0,
        )],
        Rule::FunctionIndex => {
            let call = at_instr("call 7", None, &[], &[i(Call { func: 7 }), i(Ret {})], 0);
            let fnref = at_instr(
                "fn.ref 7",
                None,
                &[],
                &[i(Nop {}), i(FnRef { func: 7 }), i(Pop {}), i(Ret {})],
                1,
            );
            let mut b = Builder::new();
            b.export("f", 3);
            let export = case("export of function #3", b, At::Module);
            let mut b = Builder::new();
            b.m.main = Some(0);
            let main = case("main = #0 without functions", b, At::Module);
            vec![call, fnref, export, main]
        }
        Rule::ImportIndex => vec![at_instr(
            "call.host 0",
            None,
            &[],
            &[i(CallHost { import: 0 }), i(Ret {})],
            0,
        )],
        Rule::LocalIndex => vec![
            at_instr(
                "local.get 3",
                None,
                &[TypeDef::Int],
                &[i(LocalGet { index: 3 }), i(Pop {}), i(Ret {})],
                0,
            ),
            at_instr(
                "local.set 1",
                None,
                &[TypeDef::Int],
                &[i(IConst { value: 1 }), i(LocalSet { index: 1 }), i(Ret {})],
                1,
            ),
        ],
        Rule::FieldIndex => {
            let mut b = Builder::new();
            let int = b.int();
            let p = b.strukt("P", &[("x", int)]);
            let f = b.func(
                "f",
                &[p],
                None,
                &[],
                &[
                    i(LocalGet { index: 0 }),
                    i(FieldGet { index: 1 }),
                    i(Pop {}),
                    i(Ret {}),
                ],
            );
            vec![case("field.get 1 of P(x)", b, At::Instr(f, 1))]
        }
        Rule::NativeIndex => vec![at_instr(
            "call.native 999",
            None,
            &[],
            &[i(CallNative { native: 999 }), i(Ret {})],
            0,
        )],
        Rule::FileIndex => {
            let (mut b, f) = one(None, &[], &[i(Ret {})]);
            b.line(f, 0, 3, 1, 1);
            vec![case("line entry in file #3 of 0", b, At::Function(f))]
        }
        Rule::MainSignature => {
            let mut b = Builder::new();
            let int = b.int();
            let f = b.func("main", &[int], None, &[], &[i(Ret {})]);
            b.m.main = Some(f);
            let param = case("main(int)", b, At::Function(f));
            let mut b = Builder::new();
            let s = b.str_();
            let f = b.func(
                "main",
                &[],
                Some(s),
                &[],
                &[i(SConst { index: 0 }), i(Ret {})],
            );
            b.string("x");
            b.m.main = Some(f);
            let result = case("main() -> str", b, At::Function(f));
            vec![param, result]
        }
        Rule::InitSignature => {
            let mut b = Builder::new();
            let int = b.int();
            let f = b.func(
                "$init",
                &[],
                Some(int),
                &[],
                &[i(IConst { value: 0 }), i(Ret {})],
            );
            b.m.init = Some(f);
            vec![case("$init() -> int", b, At::Function(f))]
        }
        Rule::DuplicateExport => {
            let (mut b, f) = one(None, &[], &[i(Ret {})]);
            b.export("f", f);
            b.export("f", f);
            vec![case("export f twice", b, At::Module)]
        }
        Rule::UnknownImport => {
            let mut b = Builder::new();
            let sig = b.func_ty(&[], None);
            b.import("os", "format_disk", sig);
            vec![case("os.format_disk", b, At::Module)]
        }
        Rule::ImportSignature => {
            let mut b = Builder::new();
            let int = b.int();
            let ints = b.array(int);
            let sig = b.func_ty(&[], Some(ints));
            b.import("os", "args", sig);
            let args = case("os.args() -> [int]", b, At::Module);
            let mut b = Builder::new();
            let sig = b.func_ty(&[], None);
            b.import("os", "exit", sig);
            let exit = case("os.exit()", b, At::Module);
            vec![args, exit]
        }
        Rule::LineTableOrder => {
            let (mut b, f) = one(None, &[], &[i(Nop {}), i(Ret {})]);
            let file = b.file("a.src");
            b.line(f, 1, file, 2, 1);
            b.line(f, 0, file, 1, 1);
            vec![case("offsets 1 then 0", b, At::Function(f))]
        }
        Rule::LineTableOffset => {
            let (mut b, f) = one(None, &[], &[i(Ret {})]);
            let file = b.file("a.src");
            b.line(f, 1, file, 1, 1);
            vec![case("offset 1 in 1 byte of code", b, At::Function(f))]
        }
        Rule::TooManyLocals => {
            let mut b = Builder::new();
            let int = b.int();
            let f = b.func("f", &[int], None, &vec![int; 65535], &[i(Ret {})]);
            vec![case("1 parameter + 65535 locals", b, At::Function(f))]
        }
        Rule::MaxStackTooLarge => {
            let (mut b, f) = one(None, &[], &[i(Ret {})]);
            b.max_stack(f, 65536);
            vec![case("max_stack 65536", b, At::Function(f))]
        }
        Rule::CodeTooLarge => {
            let n = (16 << 20) / 9 + 1;
            let mut listing = vec![i(IConst { value: 0 }); n];
            listing.push(i(Ret {}));
            let (b, f) = one(None, &[], &listing);
            vec![case("16 MiB + 9 bytes of i.const", b, At::Function(f))]
        }
        Rule::TooComplex => code_cases::too_complex(),
        Rule::EmptyCode => {
            let (b, f) = one(None, &[], &[]);
            vec![case("no code", b, At::Function(f))]
        }
        Rule::FallsOffEnd => vec![
            at_instr(
                "i.const; pop",
                None,
                &[],
                &[i(IConst { value: 1 }), i(Pop {})],
                1,
            ),
            at_instr(
                "jmp.if as the last instruction",
                None,
                &[],
                &[A::Label("top"), i(BConst { value: 1 }), A::JmpIf("top")],
                1,
            ),
        ],
        Rule::JumpOutOfBounds => vec![at_instr(
            "jmp 1000",
            None,
            &[],
            &[i(Nop {}), i(Jmp { target: 1000 }), i(Ret {})],
            1,
        )],
        Rule::JumpMidInstruction => vec![at_instr(
            "jmp 1 into an i.const",
            None,
            &[],
            &[
                i(IConst { value: 0 }),
                i(Pop {}),
                i(Jmp { target: 1 }),
                i(Ret {}),
            ],
            2,
        )],
        Rule::StackUnderflow => vec![
            at_instr(
                "i.add with one operand",
                None,
                &[],
                &[i(IConst { value: 1 }), i(IAdd {}), i(Ret {})],
                1,
            ),
            at_instr("pop on empty", None, &[], &[i(Pop {}), i(Ret {})], 0),
            {
                let mut b = Builder::new();
                let int = b.int();
                let ints = b.array(int);
                let f = b.func(
                    "f",
                    &[],
                    None,
                    &[],
                    &[
                        i(IConst { value: 1 }),
                        i(ArrNew {
                            type_: ints,
                            count: u32::MAX,
                        }),
                        i(Ret {}),
                    ],
                );
                case("arr.new 4294967295 with 1 operand", b, At::Instr(f, 1))
            },
        ],
        Rule::StackOverflow => {
            let (mut b, f) = one(
                None,
                &[],
                &[
                    i(IConst { value: 1 }),
                    i(IConst { value: 2 }),
                    i(IAdd {}),
                    i(Pop {}),
                    i(Ret {}),
                ],
            );
            b.max_stack(f, 1);
            vec![case("two pushes with max_stack 1", b, At::Instr(f, 1))]
        }
        Rule::TypeMismatch => code_cases::type_mismatch(),
        Rule::JoinMismatch => vec![
            at_instr(
                "int and float meet",
                None,
                &[],
                &[
                    i(BConst { value: 1 }),
                    A::JmpIf("l"),
                    i(IConst { value: 1 }),
                    A::Jmp("m"),
                    A::Label("l"),
                    i(FConst {
                        value: F64Bits::new(1.0),
                    }),
                    A::Label("m"),
                    i(Pop {}),
                    i(Ret {}),
                ],
                4,
            ),
            at_instr(
                "heights 1 and 0 meet",
                None,
                &[],
                &[
                    i(BConst { value: 1 }),
                    A::JmpIf("m"),
                    i(IConst { value: 1 }),
                    A::Label("m"),
                    i(Ret {}),
                ],
                2,
            ),
        ],
        Rule::ReturnMismatch => vec![
            at_instr(
                "ret without the result",
                Some(TypeDef::Int),
                &[],
                &[i(Ret {})],
                0,
            ),
            at_instr(
                "ret with an extra value",
                Some(TypeDef::Int),
                &[],
                &[i(IConst { value: 1 }), i(IConst { value: 2 }), i(Ret {})],
                2,
            ),
            at_instr(
                "ret with a float for an int",
                Some(TypeDef::Int),
                &[],
                &[
                    i(FConst {
                        value: F64Bits::new(0.5),
                    }),
                    i(Ret {}),
                ],
                1,
            ),
            at_instr(
                "ret with a value from fn()",
                None,
                &[],
                &[i(IConst { value: 1 }), i(Ret {})],
                1,
            ),
        ],
        Rule::BoolConst => vec![at_instr(
            "b.const 2",
            None,
            &[],
            &[i(BConst { value: 2 }), i(Pop {}), i(Ret {})],
            0,
        )],
        Rule::UninitializedLocal => vec![
            at_instr(
                "never written",
                None,
                &[TypeDef::Int],
                &[i(LocalGet { index: 0 }), i(Pop {}), i(Ret {})],
                0,
            ),
            at_instr(
                "written on one path only",
                None,
                &[TypeDef::Int],
                &[
                    i(BConst { value: 1 }),
                    A::JmpIfNot("skip"),
                    i(IConst { value: 1 }),
                    i(LocalSet { index: 0 }),
                    A::Label("skip"),
                    i(LocalGet { index: 0 }),
                    i(Pop {}),
                    i(Ret {}),
                ],
                4,
            ),
            at_instr(
                "written only after a loop's first read",
                None,
                &[TypeDef::Int],
                &[
                    A::Label("top"),
                    i(LocalGet { index: 0 }),
                    i(Pop {}),
                    i(IConst { value: 1 }),
                    i(LocalSet { index: 0 }),
                    A::Jmp("top"),
                ],
                0,
            ),
        ],
        Rule::ImmutableGlobal => {
            let mut b = Builder::new();
            let int = b.int();
            let g = b.global("limit", int, false);
            let init = b.func(
                "$init",
                &[],
                None,
                &[],
                &[i(IConst { value: 1 }), i(GlobalSet { index: g }), i(Ret {})],
            );
            let main = b.func(
                "main",
                &[],
                None,
                &[],
                &[i(IConst { value: 2 }), i(GlobalSet { index: g }), i(Ret {})],
            );
            b.m.init = Some(init);
            b.m.main = Some(main);
            vec![case("main writes a let", b, At::Instr(main, 1))]
        }
        Rule::NotPrintable => code_cases::not_printable(),
        Rule::NotSortable => {
            let mut b = Builder::new();
            let boolean = b.bool_();
            let arr = b.array(boolean);
            let f = b.func(
                "f",
                &[arr],
                None,
                &[],
                &[i(LocalGet { index: 0 }), i(ArrSort {}), i(Ret {})],
            );
            vec![case("sort [bool]", b, At::Instr(f, 1))]
        }
        Rule::BadTypeOperand => code_cases::bad_type_operand(),
    }
}
