//! The collector and the limits: garbage is reclaimed (the heap stays bounded), deep
//! structures and deep recursion never overflow the Rust stack, GC stress gives the same
//! results, and `sort_by` re-entry is safe.

#[path = "support/builder.rs"]
mod builder;

use builder::*;
use rvm_vm::format::Instr as I;
use rvm_vm::interpreter::{SharedBuffer, Vm, VmConfig};
use rvm_vm::natives::Native;

fn ic(v: i64) -> I {
    I::IConst { value: v }
}

fn println() -> I {
    I::CallNative {
        native: Native::Println.id(),
    }
}

/// `struct Node { kids: [Node] }`, `make(d)`, `check(n)` and a `main` that builds and
/// checks `iterations` trees of depth `depth`, printing the total.
fn binary_trees(depth: i64, iterations: i64) -> std::sync::Arc<rvm_vm::verified::VerifiedModule> {
    let mut b = Builder::new();
    let node = b.struct_ty("Node", &[]);
    let kids = b.array(node);
    if let rvm_vm::format::TypeDef::Struct(s) = &mut b.m.types[node as usize] {
        s.fields.push(rvm_vm::format::FieldDef {
            name: "kids".into(),
            ty: kids,
        });
    }
    let make = b.declare("make", &[INT], Some(node));
    b.define(
        make,
        &[],
        vec![
            I::LocalGet { index: 0 },
            ic(0),
            I::IEq {},
            I::JmpIfNot { target: 7 },
            I::ArrNew {
                type_: kids,
                count: 0,
            },
            I::StructNew { type_: node },
            I::Ret {},
            I::LocalGet { index: 0 }, // 7
            ic(1),
            I::ISub {},
            I::Call { func: make },
            I::LocalGet { index: 0 },
            ic(1),
            I::ISub {},
            I::Call { func: make },
            I::ArrNew {
                type_: kids,
                count: 2,
            },
            I::StructNew { type_: node },
            I::Ret {},
        ],
    );
    // check(n) = 1 + sum(check(k) for k in n.kids)   locals: 1 = sum, 2 = i
    let check = b.declare("check", &[node], Some(INT));
    b.define(
        check,
        &[INT, INT],
        vec![
            ic(1),
            I::LocalSet { index: 1 },
            ic(0),
            I::LocalSet { index: 2 },
            I::LocalGet { index: 2 }, // 4
            I::LocalGet { index: 0 },
            I::FieldGet { index: 0 },
            I::ArrLen {},
            I::ILt {},
            I::JmpIfNot { target: 23 },
            I::LocalGet { index: 1 },
            I::LocalGet { index: 0 },
            I::FieldGet { index: 0 },
            I::LocalGet { index: 2 },
            I::ArrGet {},
            I::Call { func: check },
            I::IAdd {},
            I::LocalSet { index: 1 },
            I::LocalGet { index: 2 },
            ic(1),
            I::IAdd {},
            I::LocalSet { index: 2 },
            I::Jmp { target: 4 },
            I::LocalGet { index: 1 }, // 23
            I::Ret {},
        ],
    );
    // main: locals 0 = total, 1 = i
    let main = b.func(
        "main",
        &[],
        None,
        &[INT, INT],
        vec![
            ic(0),
            I::LocalSet { index: 0 },
            ic(0),
            I::LocalSet { index: 1 },
            I::LocalGet { index: 1 }, // 4
            ic(iterations),
            I::ILt {},
            I::JmpIfNot { target: 20 },
            I::LocalGet { index: 0 },
            ic(depth),
            I::Call { func: make },
            I::Call { func: check },
            I::IAdd {},
            I::LocalSet { index: 0 },
            I::LocalGet { index: 1 },
            ic(1),
            I::IAdd {},
            I::LocalSet { index: 1 },
            I::Jmp { target: 4 },
            I::Nop {},
            I::LocalGet { index: 0 }, // 20
            I::ToStr { type_: INT },
            println(),
            I::Ret {},
        ],
    );
    b.finish(Some(main), None)
}

#[test]
fn garbage_is_reclaimed_and_the_heap_stays_bounded() {
    let out = SharedBuffer::new();
    let mut vm = Vm::new(
        binary_trees(12, 40),
        VmConfig::default(),
        Box::new(out.clone()),
        Box::new(SharedBuffer::new()),
    )
    .unwrap();
    assert_eq!(vm.run_main().unwrap(), 0);
    assert_eq!(out.contents(), format!("{}\n", 40 * 8191));
    let stats = vm.heap_stats();
    // 40 trees of 2 × 8191 objects were allocated; only a few can be in the table at once.
    assert!(stats.collections > 0, "{stats:?}");
    assert!(stats.slots < 100_000, "{stats:?}");
}

#[test]
fn gc_stress_gives_the_same_results() {
    let r = run_both(binary_trees(6, 3));
    assert_eq!(r.stdout, format!("{}\n", 3 * 127));
}

#[test]
fn deep_recursion_traps_cleanly() {
    // f(n) = if n == 0 { 0 } else { f(n - 1) + 1 }
    let build = || {
        let mut b = Builder::new();
        let f = b.declare("f", &[INT], Some(INT));
        b.define(
            f,
            &[],
            vec![
                I::LocalGet { index: 0 },
                ic(0),
                I::IEq {},
                I::JmpIfNot { target: 6 },
                ic(0),
                I::Ret {},
                I::LocalGet { index: 0 }, // 6
                ic(1),
                I::ISub {},
                I::Call { func: f },
                ic(1),
                I::IAdd {},
                I::Ret {},
            ],
        );
        (b, f)
    };
    let main_for = |n: i64| {
        let (mut b, f) = build();
        let main = b.func(
            "main",
            &[],
            None,
            &[],
            vec![
                ic(n),
                I::Call { func: f },
                I::ToStr { type_: INT },
                println(),
                I::Ret {},
            ],
        );
        b.finish(Some(main), None)
    };
    let r = run(main_for(1_000_000));
    let t = r.result.unwrap_err();
    assert_eq!(
        t.kind.to_string(),
        "stack overflow (call depth limit 10000)"
    );
    assert_eq!(t.exit_code(), 71);
    assert_eq!(t.trace.len() + t.omitted_frames, 10_000);
    assert_eq!(t.trace.len(), 200);
    assert_eq!(t.trace[0].to_string(), "f (test.src:10:1)");
    assert_eq!(t.trace[199].to_string(), "main (test.src:2:1)");
    let text = t.to_string();
    assert_eq!(text.lines().count(), 1 + 20 + 1 + 20);
    assert!(text.contains("\n    ... 9960 more frames\n"), "{text}");

    assert_eq!(run(main_for(9_000)).stdout, "9000\n");

    // With a high limit, a million frames run without touching the Rust stack.
    let r = run_with(
        main_for(1_000_000),
        VmConfig {
            max_call_depth: 2_000_000,
            ..VmConfig::default()
        },
    );
    assert_eq!(r.stdout, "1000000\n");
}

#[test]
fn a_million_deep_linked_structure_is_marked_without_recursion() {
    // struct Link { next: [Link] }; var head = Link([]); repeat n: head = Link([head])
    let mut b = Builder::new();
    let link = b.struct_ty("Link", &[]);
    let next = b.array(link);
    if let rvm_vm::format::TypeDef::Struct(s) = &mut b.m.types[link as usize] {
        s.fields.push(rvm_vm::format::FieldDef {
            name: "next".into(),
            ty: next,
        });
    }
    let main = b.func(
        "main",
        &[],
        None,
        &[link, INT],
        vec![
            I::ArrNew {
                type_: next,
                count: 0,
            },
            I::StructNew { type_: link },
            I::LocalSet { index: 0 },
            ic(0),
            I::LocalSet { index: 1 },
            I::LocalGet { index: 1 }, // 5
            ic(1_000_000),
            I::ILt {},
            I::JmpIfNot { target: 19 },
            I::LocalGet { index: 0 },
            I::ArrNew {
                type_: next,
                count: 1,
            },
            I::StructNew { type_: link },
            I::LocalSet { index: 0 },
            I::LocalGet { index: 1 },
            ic(1),
            I::IAdd {},
            I::LocalSet { index: 1 },
            I::Jmp { target: 5 },
            I::Nop {},
            I::LocalGet { index: 0 }, // 19
            I::FieldGet { index: 0 },
            I::ArrLen {},
            I::ToStr { type_: INT },
            println(),
            I::Ret {},
        ],
    );
    let out = SharedBuffer::new();
    let mut vm = Vm::new(
        b.finish(Some(main), None),
        VmConfig::default(),
        Box::new(out.clone()),
        Box::new(SharedBuffer::new()),
    )
    .unwrap();
    assert_eq!(vm.run_main().unwrap(), 0);
    assert_eq!(out.contents(), "1\n");
    assert!(vm.heap_stats().collections > 0);
}

#[test]
fn sort_by_calls_guest_comparators_under_gc_stress() {
    // Sort strings by length (stable), with a comparator that allocates.
    let mut b = Builder::new();
    let sa = b.array(STR);
    let words: Vec<u32> = ["ccc", "a", "bb", "dd", "e", "ffff"]
        .iter()
        .map(|w| b.str(w))
        .collect();
    let cmp = b.func(
        "by_len",
        &[STR, STR],
        Some(INT),
        &[],
        vec![
            I::LocalGet { index: 0 },
            I::LocalGet { index: 1 },
            I::SConcat {},
            I::Pop {},
            I::LocalGet { index: 0 },
            I::CallNative {
                native: Native::StrLen.id(),
            },
            I::LocalGet { index: 1 },
            I::CallNative {
                native: Native::StrLen.id(),
            },
            I::ISub {},
            I::Ret {},
        ],
    );
    let mut code: Vec<I> = words.iter().map(|&w| I::SConst { index: w }).collect();
    code.extend([
        I::ArrNew {
            type_: sa,
            count: words.len() as u32,
        },
        I::LocalSet { index: 0 },
        I::LocalGet { index: 0 },
        I::FnRef { func: cmp },
        I::ArrSortBy {},
        I::LocalGet { index: 0 },
        I::ToStr { type_: sa },
        println(),
        I::Ret {},
    ]);
    let main = b.func("main", &[], None, &[sa], code);
    let r = run_both(b.finish(Some(main), None));
    assert_eq!(
        r.stdout,
        "[\"a\", \"e\", \"bb\", \"dd\", \"ccc\", \"ffff\"]\n"
    );
}

#[test]
fn nested_sort_by_is_capped() {
    // A comparator that sorts a global array with itself recurses through Rust.
    let mut b = Builder::new();
    let ia = b.array(INT);
    let g = b.global("g", ia);
    let cmp = b.declare("cmp", &[INT, INT], Some(INT));
    b.define(
        cmp,
        &[],
        vec![
            I::GlobalGet { index: g },
            I::FnRef { func: cmp },
            I::ArrSortBy {},
            I::LocalGet { index: 0 },
            I::LocalGet { index: 1 },
            I::ISub {},
            I::Ret {},
        ],
    );
    let init = b.func(
        "$init",
        &[],
        None,
        &[],
        vec![
            ic(3),
            ic(1),
            ic(2),
            I::ArrNew {
                type_: ia,
                count: 3,
            },
            I::GlobalSet { index: g },
            I::Ret {},
        ],
    );
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        vec![
            I::GlobalGet { index: g },
            I::FnRef { func: cmp },
            I::ArrSortBy {},
            I::Ret {},
        ],
    );
    let r = run(b.finish(Some(main), Some(init)));
    let t = r.result.unwrap_err();
    assert_eq!(
        t.kind.to_string(),
        "stack overflow (call depth limit 10000)"
    );
    assert!(t.trace.len() > 32, "{}", t.trace.len());
    assert_eq!(t.omitted_frames, 0);
}

#[test]
fn printing_a_deeply_nested_structure_does_not_recurse() {
    // Link chain of depth 100_000, printed with to_str and measured.
    let mut b = Builder::new();
    let link = b.struct_ty("Link", &[]);
    let next = b.array(link);
    if let rvm_vm::format::TypeDef::Struct(s) = &mut b.m.types[link as usize] {
        s.fields.push(rvm_vm::format::FieldDef {
            name: "next".into(),
            ty: next,
        });
    }
    let main = b.func(
        "main",
        &[],
        None,
        &[link, INT],
        vec![
            I::ArrNew {
                type_: next,
                count: 0,
            },
            I::StructNew { type_: link },
            I::LocalSet { index: 0 },
            ic(0),
            I::LocalSet { index: 1 },
            I::LocalGet { index: 1 }, // 5
            ic(100_000),
            I::ILt {},
            I::JmpIfNot { target: 19 },
            I::LocalGet { index: 0 },
            I::ArrNew {
                type_: next,
                count: 1,
            },
            I::StructNew { type_: link },
            I::LocalSet { index: 0 },
            I::LocalGet { index: 1 },
            ic(1),
            I::IAdd {},
            I::LocalSet { index: 1 },
            I::Jmp { target: 5 },
            I::Nop {},
            I::LocalGet { index: 0 }, // 19
            I::ToStr { type_: link },
            I::CallNative {
                native: Native::StrLen.id(),
            },
            I::ToStr { type_: INT },
            println(),
            I::Ret {},
        ],
    );
    let r = run(b.finish(Some(main), None));
    assert_eq!(r.stdout, format!("{}\n", 14 * 100_001));
}
