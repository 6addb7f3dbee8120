//! The larger failing cases of the code rules.

use super::cases::{At, Case, at_instr, case};
use super::*;

/// Budgets: too much definite-assignment state, and too much work.
pub fn too_complex() -> Vec<Case> {
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

/// `to_str` of a function, directly or inside containers.
pub fn not_printable() -> Vec<Case> {
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

/// Type operands of the wrong shape.
pub fn bad_type_operand() -> Vec<Case> {
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

const LABELS: &[&str] = &["a"];

/// Operands of the wrong type, one instruction family each.
pub fn type_mismatch() -> Vec<Case> {
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
