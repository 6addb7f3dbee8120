//! The verifier's rules, one by one: for every [`Rule`], a module that breaks exactly that
//! rule (checked for the rule, the function and the byte offset), and valid modules that
//! must pass, including one that uses every opcode.

#[path = "verifier_rules/builder.rs"]
mod builder;

use builder::{A, Builder, i};
use rvm_vm::format::Instr::*;
use rvm_vm::format::Module;
use rvm_vm::format::{F64Bits, Instr, OPCODES, TypeDef};
use rvm_vm::verified::VerifiedModule;
use rvm_vm::verifier::{Rule, VerifyError, verify};

fn ok(m: Module) -> VerifiedModule {
    match verify(m) {
        Ok(v) => v,
        Err(e) => panic!("expected a valid module, got: {e}"),
    }
}

fn err(m: Module) -> VerifyError {
    match verify(m) {
        Ok(_) => panic!("expected a verification error"),
        Err(e) => e,
    }
}

#[test]
fn fib_with_a_loop_verifies() {
    let mut b = Builder::new();
    let int = b.int();
    let fib = b.declare("fib", &[int], Some(int));
    // fib(n): a = 0; b = 1; while n > 0 { t = a + b; a = b; b = t; n -= 1 } return a
    b.define(
        fib,
        &[int, int, int],
        &[
            i(IConst { value: 0 }),
            i(LocalSet { index: 1 }),
            i(IConst { value: 1 }),
            i(LocalSet { index: 2 }),
            A::Label("head"),
            i(LocalGet { index: 0 }),
            i(IConst { value: 0 }),
            i(IGt {}),
            A::JmpIfNot("end"),
            i(LocalGet { index: 1 }),
            i(LocalGet { index: 2 }),
            i(IAdd {}),
            i(LocalSet { index: 3 }),
            i(LocalGet { index: 2 }),
            i(LocalSet { index: 1 }),
            i(LocalGet { index: 3 }),
            i(LocalSet { index: 2 }),
            i(LocalGet { index: 0 }),
            i(IConst { value: 1 }),
            i(ISub {}),
            i(LocalSet { index: 0 }),
            A::Jmp("head"),
            A::Label("end"),
            i(LocalGet { index: 1 }),
            i(Ret {}),
        ],
    );
    let main = b.func(
        "main",
        &[],
        Some(int),
        &[],
        &[i(IConst { value: 10 }), i(Call { func: fib }), i(Ret {})],
    );
    b.m.main = Some(main);
    let v = ok(b.build());
    let f = &v.functions[0];
    assert_eq!(f.param_count, 1);
    assert_eq!(f.local_count, 4);
    assert_eq!(f.local_is_ref, vec![false; 4]);
    assert!(f.stack_maps.is_empty());
    // `jmp.ifnot end` is instruction 7; `end` is instruction 21.
    assert_eq!(f.code[7], JmpIfNot { target: 21 });
    assert_eq!(f.code[20], Jmp { target: 4 });
    assert_eq!(f.offsets.len(), f.code.len());
    assert_eq!(f.offsets[1], 9);
}

#[test]
fn stack_maps_mark_reference_slots() {
    let mut b = Builder::new();
    let int = b.int();
    let s = b.str_();
    let hello = b.string("hello");
    let f = b.func(
        "f",
        &[],
        Some(int),
        &[],
        &[
            i(IConst { value: 1 }),
            i(SConst { index: hello }),
            i(CallNative { native: 10 }), // str.len
            i(IAdd {}),
            i(Ret {}),
        ],
    );
    let _ = (s, f);
    let v = ok(b.build());
    let f = &v.functions[0];
    assert_eq!(f.stack_maps.len(), 1);
    assert_eq!(f.stack_maps[0].pc, 2);
    assert_eq!(f.stack_maps[0].refs, vec![false, true]);
    assert_eq!(f.stack_map(2), &[false, true]);
    assert_eq!(f.stack_map(3), &[] as &[bool]);
}

// ---------------------------------------------------------------------------------------
// One broken module per rule.

/// Where a case's error must point.
#[derive(Clone, Copy, Debug)]
enum At {
    /// The module as a whole.
    Module,
    /// Function `f`, no instruction.
    Function(u32),
    /// Function `f`, instruction index `pc`.
    Instr(u32, usize),
    /// Function `f`, some instruction.
    SomeInstr(u32),
}

struct Case {
    what: &'static str,
    module: Module,
    at: At,
}

fn case(what: &'static str, b: Builder, at: At) -> Case {
    Case {
        what,
        module: b.build(),
        at,
    }
}

/// A builder holding one function `f` (index 0) with the given signature and listing.
fn one(result: Option<TypeDef>, locals: &[TypeDef], listing: &[A]) -> (Builder, u32) {
    let mut b = Builder::new();
    let result = result.map(|t| b.ty(t));
    let locals: Vec<_> = locals.iter().map(|t| b.ty(t.clone())).collect();
    let f = b.func("f", &[], result, &locals, listing);
    (b, f)
}

/// `one`, as a case failing at instruction `pc`.
fn at_instr(
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
fn cases(rule: Rule) -> Vec<Case> {
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
        Rule::TooComplex => {
            // 5000 blocks × 65535 locals: too much definite-assignment state.
            let mut listing = Vec::new();
            for k in 0..5000 {
                listing.push(A::Label(LABELS[k % LABELS.len()]));
                listing.push(i(Jmp { target: 0 }));
            }
            listing.push(i(Ret {}));
            let mut code = builder::assemble(&listing);
            // Each `jmp` goes to the next instruction.
            for (k, instr) in code.iter_mut().enumerate() {
                if let Jmp { target } = instr {
                    *target = (k as u32 + 1) * 5;
                }
            }
            let mut b = Builder::new();
            let int = b.int();
            let f = b.func("f", &[], None, &vec![int; 65535], &[]);
            b.m.functions[0].code = code;
            let memory = case("5000 blocks, 65535 locals", b, At::Function(f));
            // A deep stack copied into thousands of blocks: too much work.
            let mut code = vec![IConst { value: 0 }];
            code.extend(std::iter::repeat_n(Dup {}, 60000));
            let base = 9 + 60000;
            for k in 0..5000u32 {
                code.push(Jmp {
                    target: base + (k + 1) * 5,
                });
            }
            code.push(Ret {});
            let mut b = Builder::new();
            let f = b.func("f", &[], None, &[], &[]);
            b.max_stack(f, 65535);
            b.m.functions[0].code = code;
            let work = case("60001-deep stack across 5000 blocks", b, At::SomeInstr(f));
            vec![memory, work]
        }
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
        Rule::TypeMismatch => type_mismatch_cases(),
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
        Rule::NotPrintable => {
            let mut b = Builder::new();
            let sig = b.func_ty(&[], None);
            let f = b.func(
                "f",
                &[],
                None,
                &[],
                &[
                    i(FnRef { func: 0 }),
                    i(ToStr { type_: sig }),
                    i(Pop {}),
                    i(Ret {}),
                ],
            );
            let direct = case("to_str of a fn()", b, At::Instr(f, 1));
            let mut b = Builder::new();
            let sig = b.func_ty(&[], None);
            let arr = b.array(sig);
            let f = b.func(
                "f",
                &[],
                None,
                &[],
                &[
                    i(ArrNew {
                        type_: arr,
                        count: 0,
                    }),
                    i(ToStr { type_: arr }),
                    i(Pop {}),
                    i(Ret {}),
                ],
            );
            let nested = case("to_str of a [fn()]", b, At::Instr(f, 1));
            let mut b = Builder::new();
            let sig = b.func_ty(&[], None);
            let inner = b.strukt("Inner", &[("f", sig)]);
            let outer = b.strukt("Outer", &[("i", inner)]);
            let f = b.func(
                "f",
                &[outer],
                None,
                &[],
                &[
                    i(LocalGet { index: 0 }),
                    i(ToStr { type_: outer }),
                    i(Pop {}),
                    i(Ret {}),
                ],
            );
            let deep = case("to_str of a struct holding a fn", b, At::Instr(f, 1));
            vec![direct, nested, deep]
        }
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
        Rule::BadTypeOperand => {
            let mut b = Builder::new();
            let int = b.int();
            let ints = b.array(int);
            let s = b.string("a,b");
            let f = b.func(
                "f",
                &[],
                None,
                &[],
                &[
                    i(SConst { index: s }),
                    i(SConst { index: s }),
                    i(SSplit { type_: ints }),
                    i(Pop {}),
                    i(Ret {}),
                ],
            );
            let split = case("s.split [int]", b, At::Instr(f, 2));
            let mut b = Builder::new();
            let int = b.int();
            let s = b.str_();
            let m = b.map(s, int);
            let strs = b.array(s);
            let f = b.func(
                "f",
                &[m],
                None,
                &[],
                &[
                    i(LocalGet { index: 0 }),
                    i(MapValues { type_: strs }),
                    i(Pop {}),
                    i(Ret {}),
                ],
            );
            let values = case("map.values [str] of [str: int]", b, At::Instr(f, 1));
            let mut b = Builder::new();
            let int = b.int();
            let f = b.func(
                "f",
                &[],
                None,
                &[],
                &[i(StructNew { type_: int }), i(Pop {}), i(Ret {})],
            );
            let strukt = case("struct.new int", b, At::Instr(f, 0));
            vec![split, values, strukt]
        }
    }
}

const LABELS: &[&str] = &["a"];

/// Operands of the wrong type, one instruction family each.
fn type_mismatch_cases() -> Vec<Case> {
    let mut out = vec![
        at_instr(
            "i.add int float",
            None,
            &[],
            &[
                i(IConst { value: 1 }),
                i(FConst {
                    value: F64Bits::new(1.0),
                }),
                i(IAdd {}),
                i(Pop {}),
                i(Ret {}),
            ],
            2,
        ),
        at_instr(
            "local.set of a float into an int",
            None,
            &[TypeDef::Int],
            &[
                i(FConst {
                    value: F64Bits::new(1.0),
                }),
                i(LocalSet { index: 0 }),
                i(Ret {}),
            ],
            1,
        ),
        at_instr(
            "jmp.if on an int",
            None,
            &[],
            &[
                i(IConst { value: 1 }),
                A::JmpIf("end"),
                A::Label("end"),
                i(Ret {}),
            ],
            1,
        ),
        at_instr(
            "str.len of an int (call.native)",
            None,
            &[],
            &[
                i(IConst { value: 1 }),
                i(CallNative { native: 10 }),
                i(Pop {}),
                i(Ret {}),
            ],
            1,
        ),
    ];
    // r.eq on two strings.
    let mut b = Builder::new();
    let s = b.string("x");
    let f = b.func(
        "f",
        &[],
        None,
        &[],
        &[
            i(SConst { index: s }),
            i(SConst { index: s }),
            i(REq {}),
            i(Pop {}),
            i(Ret {}),
        ],
    );
    out.push(case("r.eq str str", b, At::Instr(f, 2)));
    // call.ref whose reference has another type than declared.
    let mut b = Builder::new();
    let int = b.int();
    let g = b.func(
        "g",
        &[],
        Some(int),
        &[],
        &[i(IConst { value: 1 }), i(Ret {})],
    );
    let other = b.func_ty(&[int], Some(int));
    let f = b.func(
        "f",
        &[],
        None,
        &[],
        &[
            i(FnRef { func: g }),
            i(IConst { value: 1 }),
            i(CallRef { type_: other }),
            i(Pop {}),
            i(Ret {}),
        ],
    );
    out.push(case(
        "call.ref fn(int)->int on a fn()->int",
        b,
        At::Instr(f, 2),
    ));
    // arr.join on [int].
    let mut b = Builder::new();
    let int = b.int();
    let ints = b.array(int);
    let sep = b.string(",");
    let f = b.func(
        "f",
        &[ints],
        None,
        &[],
        &[
            i(LocalGet { index: 0 }),
            i(SConst { index: sep }),
            i(ArrJoin {}),
            i(Pop {}),
            i(Ret {}),
        ],
    );
    out.push(case("arr.join on [int]", b, At::Instr(f, 2)));
    // arr.push of a str into [int].
    let mut b = Builder::new();
    let int = b.int();
    let ints = b.array(int);
    let x = b.string("x");
    let f = b.func(
        "f",
        &[ints],
        None,
        &[],
        &[
            i(LocalGet { index: 0 }),
            i(SConst { index: x }),
            i(ArrPush {}),
            i(Ret {}),
        ],
    );
    out.push(case("arr.push str into [int]", b, At::Instr(f, 2)));
    // arr.sort_by with a comparator of the wrong shape.
    let mut b = Builder::new();
    let int = b.int();
    let ints = b.array(int);
    let cmp = b.func(
        "cmp",
        &[int],
        Some(int),
        &[],
        &[i(LocalGet { index: 0 }), i(Ret {})],
    );
    let f = b.func(
        "f",
        &[ints],
        None,
        &[],
        &[
            i(LocalGet { index: 0 }),
            i(FnRef { func: cmp }),
            i(ArrSortBy {}),
            i(Ret {}),
        ],
    );
    out.push(case("arr.sort_by with fn(int) -> int", b, At::Instr(f, 2)));
    // field.get on an array; map.get with a wrong key.
    let mut b = Builder::new();
    let int = b.int();
    let s = b.str_();
    let ints = b.array(int);
    let m = b.map(s, int);
    let f = b.func(
        "f",
        &[ints, m],
        None,
        &[],
        &[
            i(LocalGet { index: 1 }),
            i(IConst { value: 1 }),
            i(MapGet {}),
            i(Pop {}),
            i(Ret {}),
        ],
    );
    out.push(case(
        "map.get with an int key on [str: int]",
        b,
        At::Instr(f, 2),
    ));
    let mut b = Builder::new();
    let int = b.int();
    let ints = b.array(int);
    let f = b.func(
        "f",
        &[ints],
        None,
        &[],
        &[
            i(LocalGet { index: 0 }),
            i(FieldGet { index: 0 }),
            i(Pop {}),
            i(Ret {}),
        ],
    );
    out.push(case("field.get on [int]", b, At::Instr(f, 1)));
    out
}

#[test]
fn every_rule_has_a_failing_case_with_its_position() {
    for &rule in Rule::ALL {
        let cases = cases(rule);
        assert!(!cases.is_empty(), "no case for {rule}");
        for c in cases {
            let offsets: Vec<Vec<u32>> = c
                .module
                .functions
                .iter()
                .map(|f| f.instr_offsets())
                .collect();
            let names: Vec<String> = c.module.functions.iter().map(|f| f.name.clone()).collect();
            let e = match verify(c.module) {
                Ok(_) => panic!("{rule} / {}: verified, expected an error", c.what),
                Err(e) => e,
            };
            assert_eq!(e.rule, rule, "{rule} / {}: got {e}", c.what);
            let (function, offset) = match c.at {
                At::Module => (None, None),
                At::Function(f) => (Some(f), None),
                At::Instr(f, pc) => (Some(f), Some(offsets[f as usize][pc])),
                At::SomeInstr(f) => (Some(f), e.offset),
            };
            assert_eq!(e.function, function, "{rule} / {}: {e}", c.what);
            assert_eq!(e.offset, offset, "{rule} / {}: {e}", c.what);
            if let Some(f) = function {
                assert_eq!(e.function_name.as_deref(), Some(names[f as usize].as_str()));
            }
            if matches!(c.at, At::SomeInstr(_)) {
                assert!(e.offset.is_some(), "{rule} / {}: {e}", c.what);
            }
            assert!(e.to_string().contains(&format!("[{}]", rule.name())));
        }
    }
}

#[test]
fn error_display_names_function_offset_and_rule() {
    let c = &mut cases(Rule::StackUnderflow)[0];
    let e = err(std::mem::take(&mut c.module));
    assert_eq!(
        e.to_string(),
        "function `f` at byte 9: [stack-underflow] i.add needs 2 operands, found 1"
    );
    let e = err(cases(Rule::TypeDuplicate).remove(0).module);
    assert_eq!(
        e.to_string(),
        "[type-duplicate] type #2 ([int]) duplicates type #1"
    );
}

#[test]
fn rule_names_are_unique_and_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = std::fs::read_to_string(root.join("../spec/verifier.md")).expect("spec/verifier.md");
    let doc = std::fs::read_to_string(root.join("src/verifier.rs")).expect("src/verifier.rs");
    let mut seen = std::collections::HashSet::new();
    for &rule in Rule::ALL {
        assert!(seen.insert(rule.name()), "duplicate name {}", rule.name());
        assert_eq!(Rule::by_name(rule.name()), Some(rule));
        let quoted = format!("`{}`", rule.name());
        assert!(
            spec.contains(&quoted),
            "{quoted} missing from spec/verifier.md"
        );
        assert!(
            doc.contains(&quoted),
            "{quoted} missing from the verifier's module doc"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Valid modules.

/// A module whose `main` uses every opcode correctly, plus an initialiser, a comparator and
/// an import.
fn every_opcode_module() -> Module {
    let mut b = Builder::new();
    let int = b.int();
    let float = b.float();
    let boolean = b.bool_();
    let s = b.str_();
    let ints = b.array(int);
    let strs = b.array(s);
    let m = b.map(s, int);
    let point = b.strukt("Point", &[("x", int), ("name", s)]);
    let cmp_ty = b.func_ty(&[int, int], Some(int));
    let args_ty = b.func_ty(&[], Some(strs));
    let args = b.import("os", "args", args_ty);
    let g = b.global("counter", int, true);
    let limit = b.global("limit", float, false);
    let hello = b.string("hello");
    let comma = b.string(",");
    let key = b.string("a");
    let _ = boolean;

    let init = b.func(
        "$init",
        &[],
        None,
        &[],
        &[
            i(IConst { value: 0 }),
            i(GlobalSet { index: g }),
            i(FConst {
                value: F64Bits::new(2.5),
            }),
            i(GlobalSet { index: limit }),
            i(Ret {}),
        ],
    );
    let cmp = b.func(
        "cmp",
        &[int, int],
        Some(int),
        &[],
        &[
            i(LocalGet { index: 0 }),
            i(LocalGet { index: 1 }),
            i(ISub {}),
            i(Ret {}),
        ],
    );
    // Locals of main: 0 xs: [int], 1 m: [str: int], 2 p: Point, 3 words: [str].
    let mut l: Vec<A> = vec![
        i(Nop {}),
        i(IConst { value: 7 }),
        i(FConst {
            value: F64Bits::new(1.5),
        }),
        i(Pop {}),
        i(Pop {}),
        i(BConst { value: 1 }),
        i(Pop {}),
        i(SConst { index: hello }),
        i(Pop {}),
        i(FnRef { func: cmp }),
        i(Pop {}),
        i(GlobalGet { index: g }),
        i(Dup {}),
        i(IAdd {}),
        i(GlobalSet { index: g }),
        i(GlobalGet { index: limit }),
        i(Pop {}),
    ];
    let int_bin = [
        IAdd {},
        ISub {},
        IMul {},
        IDiv {},
        IRem {},
        IAnd {},
        IOr {},
        IXor {},
        IShl {},
        IShr {},
        IEq {},
        INe {},
        ILt {},
        ILe {},
        IGt {},
        IGe {},
    ];
    for op in int_bin {
        l.extend([
            i(IConst { value: 6 }),
            i(IConst { value: 3 }),
            i(op),
            i(Pop {}),
        ]);
    }
    l.extend([i(IConst { value: 1 }), i(INeg {}), i(Pop {})]);
    let float_bin = [
        FAdd {},
        FSub {},
        FMul {},
        FDiv {},
        FRem {},
        FEq {},
        FNe {},
        FLt {},
        FLe {},
        FGt {},
        FGe {},
    ];
    for op in float_bin {
        l.extend([
            i(FConst {
                value: F64Bits::new(6.0),
            }),
            i(FConst {
                value: F64Bits::new(3.0),
            }),
            i(op),
            i(Pop {}),
        ]);
    }
    l.extend([
        i(FConst {
            value: F64Bits::new(1.0),
        }),
        i(FNeg {}),
        i(Pop {}),
        i(BConst { value: 0 }),
        i(BNot {}),
        i(BConst { value: 1 }),
        i(BEq {}),
        i(BConst { value: 1 }),
        i(BNe {}),
        i(Pop {}),
    ]);
    for op in [SConcat {}, SEq {}, SNe {}, SLt {}, SLe {}, SGt {}, SGe {}] {
        l.extend([
            i(SConst { index: hello }),
            i(SConst { index: comma }),
            i(op),
            i(Pop {}),
        ]);
    }
    l.extend([
        i(SConst { index: hello }),
        i(SConst { index: comma }),
        i(SSplit { type_: strs }),
        i(LocalSet { index: 3 }),
        i(SConst { index: hello }),
        i(SChars { type_: strs }),
        i(Pop {}),
        // r.eq / r.ne on arrays and function references
        i(ArrNew {
            type_: ints,
            count: 0,
        }),
        i(Dup {}),
        i(REq {}),
        i(Pop {}),
        i(FnRef { func: cmp }),
        i(FnRef { func: cmp }),
        i(RNe {}),
        i(Pop {}),
        // conversions
        i(IConst { value: 3 }),
        i(IToF {}),
        i(FToI {}),
        i(ToStr { type_: int }),
        i(Pop {}),
        // control
        i(BConst { value: 1 }),
        A::JmpIf("l1"),
        A::Label("l1"),
        i(BConst { value: 0 }),
        A::JmpIfNot("l2"),
        A::Label("l2"),
        A::Jmp("l3"),
        i(Nop {}), // unreachable
        A::Label("l3"),
        // calls
        i(IConst { value: 1 }),
        i(IConst { value: 2 }),
        i(Call { func: cmp }),
        i(Pop {}),
        i(FnRef { func: cmp }),
        i(IConst { value: 1 }),
        i(IConst { value: 2 }),
        i(CallRef { type_: cmp_ty }),
        i(Pop {}),
        i(CallHost { import: args }),
        i(Pop {}),
        i(SConst { index: hello }),
        i(CallNative { native: 1 }), // println
        // arrays
        i(IConst { value: 1 }),
        i(IConst { value: 2 }),
        i(ArrNew {
            type_: ints,
            count: 2,
        }),
        i(LocalSet { index: 0 }),
        i(IConst { value: 3 }),
        i(IConst { value: 0 }),
        i(ArrFill { type_: ints }),
        i(ToStr { type_: ints }),
        i(Pop {}),
        i(LocalGet { index: 0 }),
        i(IConst { value: 0 }),
        i(ArrGet {}),
        i(Pop {}),
        i(LocalGet { index: 0 }),
        i(IConst { value: 0 }),
        i(IConst { value: 5 }),
        i(ArrSet {}),
        i(LocalGet { index: 0 }),
        i(ArrLen {}),
        i(Pop {}),
        i(LocalGet { index: 0 }),
        i(IConst { value: 4 }),
        i(ArrPush {}),
        i(LocalGet { index: 0 }),
        i(ArrPop {}),
        i(Pop {}),
        i(LocalGet { index: 0 }),
        i(IConst { value: 0 }),
        i(IConst { value: 9 }),
        i(ArrInsert {}),
        i(LocalGet { index: 0 }),
        i(IConst { value: 0 }),
        i(ArrRemove {}),
        i(Pop {}),
        i(LocalGet { index: 0 }),
        i(IConst { value: 0 }),
        i(IConst { value: 1 }),
        i(ArrSlice {}),
        i(Pop {}),
        i(LocalGet { index: 0 }),
        i(IConst { value: 1 }),
        i(ArrContains {}),
        i(Pop {}),
        i(LocalGet { index: 0 }),
        i(IConst { value: 1 }),
        i(ArrIndexOf {}),
        i(Pop {}),
        i(LocalGet { index: 0 }),
        i(ArrReverse {}),
        i(LocalGet { index: 0 }),
        i(ArrSort {}),
        i(LocalGet { index: 0 }),
        i(FnRef { func: cmp }),
        i(ArrSortBy {}),
        i(LocalGet { index: 3 }),
        i(SConst { index: comma }),
        i(ArrJoin {}),
        i(Pop {}),
        // maps
        i(SConst { index: key }),
        i(IConst { value: 1 }),
        i(MapNew { type_: m, count: 1 }),
        i(LocalSet { index: 1 }),
        i(LocalGet { index: 1 }),
        i(SConst { index: key }),
        i(MapGet {}),
        i(Pop {}),
        i(LocalGet { index: 1 }),
        i(SConst { index: key }),
        i(IConst { value: 0 }),
        i(MapGetOr {}),
        i(Pop {}),
        i(LocalGet { index: 1 }),
        i(SConst { index: comma }),
        i(IConst { value: 2 }),
        i(MapSet {}),
        i(LocalGet { index: 1 }),
        i(SConst { index: key }),
        i(MapHas {}),
        i(Pop {}),
        i(LocalGet { index: 1 }),
        i(SConst { index: key }),
        i(MapRemove {}),
        i(Pop {}),
        i(LocalGet { index: 1 }),
        i(MapLen {}),
        i(Pop {}),
        i(LocalGet { index: 1 }),
        i(MapKeys { type_: strs }),
        i(Pop {}),
        i(LocalGet { index: 1 }),
        i(MapValues { type_: ints }),
        i(Pop {}),
        i(LocalGet { index: 1 }),
        i(IConst { value: 0 }),
        i(MapKeyAt {}),
        i(Pop {}),
        i(LocalGet { index: 1 }),
        i(IConst { value: 0 }),
        i(MapValueAt {}),
        i(Pop {}),
        i(LocalGet { index: 1 }),
        i(ToStr { type_: m }),
        i(Pop {}),
        // structs
        i(IConst { value: 1 }),
        i(SConst { index: hello }),
        i(StructNew { type_: point }),
        i(LocalSet { index: 2 }),
        i(LocalGet { index: 2 }),
        i(FieldGet { index: 1 }),
        i(Pop {}),
        i(LocalGet { index: 2 }),
        i(IConst { value: 2 }),
        i(FieldSet { index: 0 }),
        i(LocalGet { index: 2 }),
        i(ToStr { type_: point }),
        i(Pop {}),
        i(IConst { value: 0 }),
        i(Ret {}),
    ]);
    let main = b.func("main", &[], Some(int), &[ints, m, point, strs], &l);
    b.m.init = Some(init);
    b.m.main = Some(main);
    b.export("cmp", cmp);
    b.export("main", main);
    b.build()
}

#[test]
fn a_module_using_every_opcode_verifies() {
    let m = every_opcode_module();
    let used: std::collections::HashSet<&str> = m
        .functions
        .iter()
        .flat_map(|f| f.code.iter().map(Instr::mnemonic))
        .collect();
    for op in OPCODES {
        assert!(
            used.contains(op.mnemonic),
            "{} is not exercised",
            op.mnemonic
        );
    }
    let v = ok(m);
    let main = &v.functions[2];
    assert_eq!(main.local_is_ref, vec![true, true, true, true]);
    assert_eq!(v.global_is_ref, vec![false, false]);
    // The `nop` after `jmp l3` is unreachable; every other instruction is kept.
    let original = &v.module.functions[2].code;
    let changed: Vec<usize> = (0..original.len())
        .filter(|&k| original[k] != main.code[k] && original[k].jump_target().is_none())
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
    // Stack maps are sorted and only where a reference is on the stack.
    for w in main.stack_maps.windows(2) {
        assert!(w[0].pc < w[1].pc);
    }
    for sm in &main.stack_maps {
        assert!(sm.refs.iter().any(|r| *r));
    }
}

#[test]
fn unreachable_code_becomes_nop() {
    let mut b = Builder::new();
    let f = b.func(
        "f",
        &[],
        None,
        &[],
        &[
            A::Jmp("end"),
            // Never reached, never checked: it would underflow.
            i(IAdd {}),
            A::Label("end"),
            i(Ret {}),
        ],
    );
    let v = ok(b.build());
    assert_eq!(
        v.functions[f as usize].code,
        vec![Jmp { target: 2 }, Nop {}, Ret {}]
    );
}

#[test]
fn nested_calls_loops_and_definite_assignment_across_branches() {
    let mut b = Builder::new();
    let int = b.int();
    let s = b.str_();
    let twice = b.declare("twice", &[int], Some(int));
    let abs = b.declare("abs", &[int], Some(int));
    b.define(
        twice,
        &[],
        &[
            i(LocalGet { index: 0 }),
            i(Call { func: abs }),
            i(LocalGet { index: 0 }),
            i(Call { func: abs }),
            i(IAdd {}),
            i(Ret {}),
        ],
    );
    // abs(x): if x < 0 { r = -x } else { r = x }; return r (r assigned on both paths)
    b.define(
        abs,
        &[int],
        &[
            i(LocalGet { index: 0 }),
            i(IConst { value: 0 }),
            i(ILt {}),
            A::JmpIfNot("else"),
            i(LocalGet { index: 0 }),
            i(INeg {}),
            i(LocalSet { index: 1 }),
            A::Jmp("end"),
            A::Label("else"),
            i(LocalGet { index: 0 }),
            i(LocalSet { index: 1 }),
            A::Label("end"),
            i(LocalGet { index: 1 }),
            i(Ret {}),
        ],
    );
    // A do-while loop entered by a jump to its condition, holding a string across the
    // back edge: s = ""; i = 0; goto cond; body: s = s + "x"; i += 1; cond: if i < 3 goto body
    let x = b.string("x");
    let empty = b.string("");
    let main = b.func(
        "main",
        &[],
        None,
        &[s, int],
        &[
            i(SConst { index: empty }),
            i(LocalSet { index: 0 }),
            i(IConst { value: 0 }),
            i(LocalSet { index: 1 }),
            A::Jmp("cond"),
            A::Label("body"),
            i(LocalGet { index: 0 }),
            i(SConst { index: x }),
            i(SConcat {}),
            i(LocalSet { index: 0 }),
            i(LocalGet { index: 1 }),
            i(IConst { value: 1 }),
            i(IAdd {}),
            i(LocalSet { index: 1 }),
            A::Label("cond"),
            i(LocalGet { index: 1 }),
            i(IConst { value: 3 }),
            i(ILt {}),
            A::JmpIf("body"),
            i(IConst { value: -5 }),
            i(Call { func: twice }),
            i(ToStr { type_: int }),
            i(CallNative { native: 1 }),
            i(Ret {}),
        ],
    );
    b.m.main = Some(main);
    let v = ok(b.build());
    assert_eq!(v.functions[main as usize].local_is_ref, vec![true, false]);
}

#[test]
fn a_value_carried_across_a_join_is_fine() {
    // b ? 1 : 2, then return it: the join sees [int] from both sides.
    let (b, _) = one(
        Some(TypeDef::Int),
        &[],
        &[
            i(BConst { value: 1 }),
            A::JmpIfNot("else"),
            i(IConst { value: 1 }),
            A::Jmp("end"),
            A::Label("else"),
            i(IConst { value: 2 }),
            A::Label("end"),
            i(Ret {}),
        ],
    );
    ok(b.build());
}

#[test]
fn recursive_structs_and_printable_containers() {
    let mut b = Builder::new();
    let int = b.int();
    // struct Node { value: int, next: [Node] } refers to the array type after it.
    b.m.types.push(TypeDef::Struct(rvm_vm::format::StructDef {
        name: "Node".into(),
        fields: vec![
            rvm_vm::format::FieldDef {
                name: "value".into(),
                ty: int,
            },
            rvm_vm::format::FieldDef {
                name: "next".into(),
                ty: 2,
            },
        ],
    }));
    let node = 1;
    let nodes = b.array(node);
    assert_eq!(nodes, 2);
    let f = b.func(
        "f",
        &[node],
        None,
        &[],
        &[
            i(LocalGet { index: 0 }),
            i(ToStr { type_: node }),
            i(Pop {}),
            i(LocalGet { index: 0 }),
            i(FieldGet { index: 1 }),
            i(ToStr { type_: nodes }),
            i(Pop {}),
            i(Ret {}),
        ],
    );
    let v = ok(b.build());
    assert_eq!(v.functions[f as usize].local_is_ref, vec![true]);
}

#[test]
fn init_may_write_immutable_globals_and_main_may_return_int() {
    let mut b = Builder::new();
    let int = b.int();
    let s = b.str_();
    let g = b.global("name", s, false);
    let hi = b.string("hi");
    let init = b.func(
        "$init",
        &[],
        None,
        &[],
        &[
            i(SConst { index: hi }),
            i(GlobalSet { index: g }),
            i(Ret {}),
        ],
    );
    let main = b.func(
        "main",
        &[],
        Some(int),
        &[],
        &[
            i(GlobalGet { index: g }),
            i(CallNative { native: 10 }),
            i(Ret {}),
        ],
    );
    b.m.init = Some(init);
    b.m.main = Some(main);
    let v = ok(b.build());
    assert_eq!(v.global_is_ref, vec![true]);
    assert_eq!(v.functions[main as usize].result, Some(int));
}

#[test]
fn irreducible_control_flow_converges() {
    // Two blocks jumping into each other's middle, entered at either: verification still
    // terminates and accepts it (locals assigned before the split).
    let (b, _) = one(
        None,
        &[TypeDef::Int],
        &[
            i(IConst { value: 0 }),
            i(LocalSet { index: 0 }),
            i(BConst { value: 1 }),
            A::JmpIf("b"),
            A::Label("a"),
            i(LocalGet { index: 0 }),
            i(IConst { value: 10 }),
            i(IGt {}),
            A::JmpIf("end"),
            A::Label("b"),
            i(LocalGet { index: 0 }),
            i(IConst { value: 1 }),
            i(IAdd {}),
            i(LocalSet { index: 0 }),
            A::Jmp("a"),
            A::Label("end"),
            i(Ret {}),
        ],
    );
    ok(b.build());
}
