//! Arrays, maps and structs: operations, traps and printing.

#[path = "support/builder.rs"]
mod builder;

use builder::*;
use rvm_vm::format::{F64Bits, Instr as I};
use rvm_vm::natives::Native;

fn ic(v: i64) -> I {
    I::IConst { value: v }
}

fn fc(v: f64) -> I {
    I::FConst {
        value: F64Bits::new(v),
    }
}

fn println() -> I {
    I::CallNative {
        native: Native::Println.id(),
    }
}

/// Runs `main` (with `locals`) and returns stdout, or the trap's message.
fn run_main(b: Builder, locals: &[u32], code: Vec<I>) -> Result<String, String> {
    let (out, err) = run_main_full(b, locals, code);
    match err {
        None => Ok(out),
        Some(e) => Err(e),
    }
}

/// Runs `main` and returns stdout and the trap message, if any.
fn run_main_full(mut b: Builder, locals: &[u32], mut code: Vec<I>) -> (String, Option<String>) {
    code.push(I::Ret {});
    let main = b.func("main", &[], None, locals, code);
    let r = run_both(b.finish(Some(main), None));
    (r.stdout, r.result.err().map(|t| t.kind.to_string()))
}

#[test]
fn array_operations_and_printing() {
    let mut b = Builder::new();
    let ia = b.array(INT);
    let code = vec![
        ic(3),
        ic(1),
        ic(2),
        I::ArrNew {
            type_: ia,
            count: 3,
        },
        I::LocalSet { index: 0 },
        I::LocalGet { index: 0 },
        ic(10),
        I::ArrPush {},
        I::LocalGet { index: 0 },
        ic(0),
        ic(-5),
        I::ArrInsert {},
        I::LocalGet { index: 0 },
        I::ArrSort {},
        I::LocalGet { index: 0 },
        I::ToStr { type_: ia },
        println(),
        I::LocalGet { index: 0 },
        I::ArrPop {},
        I::ToStr { type_: INT },
        println(),
        I::LocalGet { index: 0 },
        ic(1),
        ic(3),
        I::ArrSlice {},
        I::ToStr { type_: ia },
        println(),
        I::LocalGet { index: 0 },
        ic(2),
        I::ArrIndexOf {},
        I::ToStr { type_: INT },
        println(),
        I::LocalGet { index: 0 },
        I::ArrReverse {},
        I::LocalGet { index: 0 },
        I::ToStr { type_: ia },
        println(),
        ic(0),
        ic(7),
        I::ArrFill { type_: ia },
        I::ToStr { type_: ia },
        println(),
    ];
    assert_eq!(
        run_main(b, &[ia], code).unwrap(),
        "[-5, 1, 2, 3, 10]\n10\n[1, 2]\n2\n[3, 2, 1, -5]\n[]\n"
    );
}

#[test]
fn array_traps() {
    let cases: Vec<(Vec<I>, &str)> = vec![
        (
            vec![ic(5), I::ArrGet {}],
            "index 5 out of bounds for length 2",
        ),
        (
            vec![ic(-1), I::ArrGet {}],
            "index -1 out of bounds for length 2",
        ),
        (
            vec![ic(3), ic(0), I::ArrInsert {}, ic(0)],
            "insert index 3 out of bounds for length 2",
        ),
        (
            vec![ic(1), ic(3), I::ArrSlice {}],
            "slice 1..3 out of bounds for length 2",
        ),
        (
            vec![ic(9), I::ArrRemove {}],
            "index 9 out of bounds for length 2",
        ),
    ];
    for (tail, want) in cases {
        let mut b = Builder::new();
        let ia = b.array(INT);
        let mut code = vec![
            ic(1),
            ic(2),
            I::ArrNew {
                type_: ia,
                count: 2,
            },
        ];
        code.extend(tail);
        code.push(I::Pop {});
        assert_eq!(run_main(b, &[], code).unwrap_err(), want);
    }
    let mut b = Builder::new();
    let ia = b.array(INT);
    let code = vec![
        I::ArrNew {
            type_: ia,
            count: 0,
        },
        I::ArrPop {},
        I::Pop {},
    ];
    assert_eq!(
        run_main(b, &[], code).unwrap_err(),
        "pop from an empty array"
    );
    let mut b = Builder::new();
    let ia = b.array(INT);
    let code = vec![ic(-2), ic(0), I::ArrFill { type_: ia }, I::Pop {}];
    assert_eq!(
        run_main(b, &[], code).unwrap_err(),
        "negative array length -2"
    );
}

#[test]
fn float_sort_uses_total_order() {
    let mut b = Builder::new();
    let fa = b.array(FLOAT);
    let code = vec![
        fc(2.0),
        fc(f64::NAN),
        fc(-0.0),
        fc(0.0),
        fc(f64::NEG_INFINITY),
        fc(-1.5),
        I::ArrNew {
            type_: fa,
            count: 6,
        },
        I::LocalSet { index: 0 },
        I::LocalGet { index: 0 },
        I::ArrSort {},
        I::LocalGet { index: 0 },
        I::ToStr { type_: fa },
        println(),
        I::LocalGet { index: 0 },
        fc(f64::NAN),
        I::ArrContains {},
        I::ToStr { type_: BOOL },
        println(),
    ];
    assert_eq!(
        run_main(b, &[fa], code).unwrap(),
        "[-inf, -1.5, -0.0, 0.0, 2.0, nan]\nfalse\n"
    );
}

#[test]
fn strings_inside_containers_are_quoted() {
    let mut b = Builder::new();
    let sa = b.array(STR);
    let nested = b.array(sa);
    let s1 = b.str("a\"b");
    let s2 = b.str("tab\there\n");
    let code = vec![
        I::SConst { index: s1 },
        I::SConst { index: s2 },
        I::ArrNew {
            type_: sa,
            count: 2,
        },
        I::ArrNew {
            type_: sa,
            count: 0,
        },
        I::ArrNew {
            type_: nested,
            count: 2,
        },
        I::ToStr { type_: nested },
        println(),
        I::SConst { index: s1 },
        println(),
    ];
    assert_eq!(
        run_main(b, &[], code).unwrap(),
        "[[\"a\\\"b\", \"tab\\there\\n\"], []]\na\"b\n"
    );
}

#[test]
fn maps_keep_insertion_order() {
    let mut b = Builder::new();
    let m = b.map(STR, INT);
    let sa = b.array(STR);
    let [ka, kb, kc, kz] = ["a", "b", "c", "z"].map(|k| b.str(k));
    let code = vec![
        I::SConst { index: kb },
        ic(1),
        I::SConst { index: ka },
        ic(2),
        I::MapNew { type_: m, count: 2 },
        I::LocalSet { index: 0 },
        // m["c"] = 3; m["b"] = 10 (update in place)
        I::LocalGet { index: 0 },
        I::SConst { index: kc },
        ic(3),
        I::MapSet {},
        I::LocalGet { index: 0 },
        I::SConst { index: kb },
        ic(10),
        I::MapSet {},
        I::LocalGet { index: 0 },
        I::ToStr { type_: m },
        println(),
        // remove "b" keeps the order of the rest
        I::LocalGet { index: 0 },
        I::SConst { index: kb },
        I::MapRemove {},
        I::ToStr { type_: INT },
        println(),
        I::LocalGet { index: 0 },
        I::ToStr { type_: m },
        println(),
        I::LocalGet { index: 0 },
        I::MapKeys { type_: sa },
        I::ToStr { type_: sa },
        println(),
        I::LocalGet { index: 0 },
        I::SConst { index: kz },
        ic(-1),
        I::MapGetOr {},
        I::ToStr { type_: INT },
        println(),
        I::LocalGet { index: 0 },
        ic(1),
        I::MapKeyAt {},
        println(),
        I::LocalGet { index: 0 },
        I::MapLen {},
        I::ToStr { type_: INT },
        println(),
        I::MapNew { type_: m, count: 0 },
        I::ToStr { type_: m },
        println(),
        I::LocalGet { index: 0 },
        I::SConst { index: kz },
        I::MapGet {},
        I::Pop {},
    ];
    let (out, err) = run_main_full(b, &[m], code);
    assert_eq!(
        out,
        "[\"b\": 10, \"a\": 2, \"c\": 3]\n10\n[\"a\": 2, \"c\": 3]\n[\"a\", \"c\"]\n-1\nc\n2\n[:]\n"
    );
    assert_eq!(err.unwrap(), "key \"z\" not found in map");
}

#[test]
fn map_output_before_the_trap() {
    let mut b = Builder::new();
    let m = b.map(INT, BOOL);
    let code = vec![
        ic(2),
        I::BConst { value: 1 },
        ic(1),
        I::BConst { value: 0 },
        I::MapNew { type_: m, count: 2 },
        I::LocalSet { index: 0 },
        I::LocalGet { index: 0 },
        I::ToStr { type_: m },
        println(),
        I::LocalGet { index: 0 },
        ic(1),
        I::MapHas {},
        I::ToStr { type_: BOOL },
        println(),
        I::LocalGet { index: 0 },
        ic(7),
        I::MapRemove {},
        I::Pop {},
    ];
    let (out, err) = run_main_full(b, &[m], code);
    assert_eq!(out, "[2: true, 1: false]\ntrue\n");
    assert_eq!(err.unwrap(), "key 7 not found in map");
}

#[test]
fn structs_print_and_cycles_terminate() {
    let mut b = Builder::new();
    let point = b.struct_ty("Point", &[("x", FLOAT), ("y", FLOAT)]);
    let pa = b.array(point);
    let code = vec![
        fc(1.0),
        fc(2.5),
        I::StructNew { type_: point },
        I::LocalSet { index: 0 },
        I::LocalGet { index: 0 },
        fc(-3.0),
        I::FieldSet { index: 1 },
        I::LocalGet { index: 0 },
        I::ToStr { type_: point },
        println(),
        // a = [p]; a.push(a) is not well-typed, so build a cycle through a struct field
        I::LocalGet { index: 0 },
        I::LocalGet { index: 0 },
        I::ArrNew {
            type_: pa,
            count: 2,
        },
        I::ToStr { type_: pa },
        println(),
    ];
    assert_eq!(
        run_main(b, &[point], code).unwrap(),
        "Point(x: 1.0, y: -3.0)\n[Point(x: 1.0, y: -3.0), Point(x: 1.0, y: -3.0)]\n"
    );

    // struct Box { items: [Box] } with box.items.push(box): prints without looping.
    let mut b = Builder::new();
    let bx = b.struct_ty("Box", &[]);
    let ba = b.array(bx);
    if let rvm_vm::format::TypeDef::Struct(s) = &mut b.m.types[bx as usize] {
        s.fields.push(rvm_vm::format::FieldDef {
            name: "items".into(),
            ty: ba,
        });
    }
    let code = vec![
        I::ArrNew {
            type_: ba,
            count: 0,
        },
        I::StructNew { type_: bx },
        I::LocalSet { index: 0 },
        I::LocalGet { index: 0 },
        I::FieldGet { index: 0 },
        I::LocalGet { index: 0 },
        I::ArrPush {},
        I::LocalGet { index: 0 },
        I::ToStr { type_: bx },
        println(),
    ];
    assert_eq!(
        run_main(b, &[bx], code).unwrap(),
        "Box(items: [Box(...)])\n"
    );
}
