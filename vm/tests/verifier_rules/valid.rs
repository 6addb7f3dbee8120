//! Valid modules that must pass, and what the verifier makes of them.

use super::*;
use crate::cases::one;
use rvm_vm::verified::GlobalUnset;

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
    let f = &v.functions()[0];
    assert_eq!(f.param_count(), 1);
    assert_eq!(f.local_count(), 4);
    assert_eq!(f.local_is_ref(), vec![false; 4]);
    assert!(f.stack_maps().is_empty());
    // `jmp.ifnot end` is instruction 7; `end` is instruction 21.
    assert_eq!(f.code()[7], JmpIfNot { target: 21 });
    assert_eq!(f.code()[20], Jmp { target: 4 });
    assert_eq!(f.offsets().len(), f.code().len());
    assert_eq!(f.offsets()[1], 9);
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
    let f = &v.functions()[0];
    assert_eq!(f.stack_maps().len(), 1);
    assert_eq!(f.stack_maps()[0].pc, 2);
    assert_eq!(f.stack_maps()[0].refs, vec![false, true]);
    assert_eq!(f.stack_map(2), &[false, true]);
    assert_eq!(f.stack_map(3), &[] as &[bool]);
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
    let main = &v.functions()[2];
    // One `call.ref`, passing two arguments.
    assert_eq!(main.call_refs().len(), 1);
    let pc = main.call_refs()[0].pc;
    assert!(matches!(main.code()[pc as usize], CallRef { .. }));
    assert_eq!(main.call_ref_args(pc), Some(2));
    assert_eq!(main.local_is_ref(), vec![true, true, true, true]);
    assert_eq!(v.global_unset(), [GlobalUnset::Zero, GlobalUnset::Zero]);
    // The `nop` after `jmp l3` is unreachable; every other instruction is kept.
    let original = &v.module().functions[2].code;
    let changed: Vec<usize> = (0..original.len())
        .filter(|&k| original[k] != main.code()[k] && original[k].jump_target().is_none())
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
    // Stack maps are sorted and only where a reference is on the stack.
    for w in main.stack_maps().windows(2) {
        assert!(w[0].pc < w[1].pc);
    }
    for sm in main.stack_maps() {
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
        v.functions()[f as usize].code(),
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
    assert_eq!(
        v.functions()[main as usize].local_is_ref(),
        vec![true, false]
    );
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
    assert_eq!(v.functions()[f as usize].local_is_ref(), vec![true]);
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
    assert_eq!(v.global_unset(), [GlobalUnset::Ref]);
    assert_eq!(v.functions()[main as usize].result(), Some(int));
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

#[test]
fn locals_beyond_the_first_bitset_word() {
    let mut b = Builder::new();
    let int = b.int();
    let s = b.str_();
    let mut locals = vec![int; 130];
    locals[100] = s;
    let x = b.string("x");
    let f = b.func(
        "f",
        &[int],
        Some(int),
        &locals,
        &[
            i(SConst { index: x }),
            i(LocalSet { index: 101 }),
            i(LocalGet { index: 0 }),
            i(LocalSet { index: 130 }),
            i(LocalGet { index: 101 }),
            i(CallNative { native: 10 }),
            i(LocalGet { index: 130 }),
            i(IAdd {}),
            i(Ret {}),
        ],
    );
    let v = ok(b.build());
    let vf = &v.functions()[f as usize];
    assert_eq!(vf.local_count(), 131);
    assert!(vf.local_is_ref()[101]);
    assert_eq!(vf.local_is_ref().iter().filter(|r| **r).count(), 1);
    // Local 64 was never written.
    let mut b = Builder::new();
    let int = b.int();
    b.func(
        "f",
        &[],
        None,
        &[int; 70],
        &[
            i(IConst { value: 1 }),
            i(LocalSet { index: 63 }),
            i(LocalGet { index: 64 }),
            i(Pop {}),
            i(Ret {}),
        ],
    );
    assert_eq!(err(b.build()).rule, Rule::UninitializedLocal);
}
