//! Hand-crafted worst cases for the loader, verifier and interpreter: deep and wide type
//! tables, recursive structs, huge declared sizes. Each must verify or fail cleanly and
//! quickly, and what verifies must run on a test thread's small stack.

#[path = "verifier_rules/builder.rs"]
mod builder;

use builder::{Builder, i};
use rvm_vm::format::Instr::*;
use rvm_vm::format::{Module, TypeDef, decode, encode};
use rvm_vm::interpreter::{Vm, VmConfig};
use rvm_vm::verifier::verify;

fn run(m: Module) -> Result<i32, String> {
    let bytes = encode(&m);
    let m = decode(&bytes).map_err(|e| e.to_string())?;
    let v = verify(m).map_err(|e| e.to_string())?;
    let mut vm = Vm::new(
        &v,
        VmConfig::default(),
        Box::new(std::io::sink()),
        Box::new(std::io::sink()),
    )
    .map_err(|t| t.to_string())?;
    vm.run_main().map_err(|t| t.to_string())
}

/// `[[[...[int]...]]]` 100,000 deep, printed (as an empty array) from straight-line code.
#[test]
fn deep_array_type_chain() {
    let mut b = Builder::new();
    let mut t = b.int();
    // Pushed directly: the builder's `ty` deduplicates by linear search.
    for _ in 0..100_000 {
        b.m.types.push(TypeDef::Array(t));
        t = (b.m.types.len() - 1) as u32;
    }
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        &[
            i(ArrNew { type_: t, count: 0 }),
            i(ToStr { type_: t }),
            i(CallNative { native: 1 }),
            i(Ret {}),
        ],
    );
    b.m.main = Some(main);
    assert_eq!(run(b.build()), Ok(0));
}

/// Struct k has two fields of struct k-1: spelled out, struct 60 has 2^60 leaves.
#[test]
fn exponential_struct_dag() {
    let mut b = Builder::new();
    let mut t = b.int();
    for k in 0..60 {
        t = b.strukt(&format!("S{k}"), &[("a", t), ("b", t)]);
    }
    let g = b.global("g", t, true);
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        &[
            i(GlobalGet { index: g }),
            i(ToStr { type_: t }),
            i(CallNative { native: 1 }),
            i(Ret {}),
        ],
    );
    b.m.main = Some(main);
    let e = run(b.build()).expect_err("reading an unset global traps");
    assert!(e.contains("read before initialization"), "{e}");
}

/// A struct that contains itself, and maps of maps of it, printed.
#[test]
fn recursive_struct_prints() {
    let mut b = Builder::new();
    let int = b.int();
    let s = b.strukt("Node", &[("v", int)]);
    // Make field 0 refer to the struct itself.
    if let TypeDef::Struct(def) = &mut b.m.types[s as usize] {
        def.fields.push(rvm_vm::format::FieldDef {
            name: "next".into(),
            ty: s,
        });
    }
    let main = b.func(
        "main",
        &[],
        None,
        &[s],
        &[i(IConst { value: 1 }), i(GlobalGet { index: 0 }), i(Ret {})],
    );
    b.m.main = Some(main);
    // Whatever the verdict, it is an error or a run, not a panic.
    let _ = run(b.build());
}

/// The largest sizes a header may declare, with almost no code behind them.
#[test]
fn huge_declared_sizes() {
    for (locals, max_stack) in [(65_535usize, 65_535u32), (70_000, 16), (0, u32::MAX)] {
        let mut b = Builder::new();
        let int = b.int();
        let main = b.func("main", &[], None, &vec![int; locals], &[i(Ret {})]);
        b.max_stack(main, max_stack);
        b.m.main = Some(main);
        let _ = run(b.build());
    }
}
