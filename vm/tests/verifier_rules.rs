//! The verifier's rules, one by one: for every [`Rule`], a module that breaks exactly that
//! rule (checked for the rule, the function and the byte offset), and valid modules that
//! must pass, including one that uses every opcode.

#[path = "verifier_rules/builder.rs"]
mod builder;

use builder::{A, Builder, i};
use rvm_vm::format::Instr::*;
use rvm_vm::format::Module;
use rvm_vm::verified::VerifiedModule;
use rvm_vm::verifier::{VerifyError, verify};

fn ok(m: Module) -> VerifiedModule {
    match verify(m) {
        Ok(v) => v,
        Err(e) => panic!("expected a valid module, got: {e}"),
    }
}

#[allow(dead_code)]
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
