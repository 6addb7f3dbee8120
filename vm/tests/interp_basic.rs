//! Core interpreter behaviour on hand-built modules: arithmetic, locals, jumps, calls,
//! strings, printing, exit codes and traps with positions.

#[path = "support/builder.rs"]
mod builder;

use builder::*;
use rvm_vm::format::{F64Bits, Instr as I};
use rvm_vm::interpreter::VmConfig;
use rvm_vm::natives::Native;

fn println() -> I {
    I::CallNative {
        native: Native::Println.id(),
    }
}

/// `main` that evaluates `body` (leaving one value of type `ty`) and prints it.
fn print_expr(ty: u32, mut body: Vec<I>) -> String {
    let mut b = Builder::new();
    body.extend([I::ToStr { type_: ty }, println(), I::Ret {}]);
    let main = b.func("main", &[], None, &[], body);
    let r = run_both(b.finish(Some(main), None));
    assert_eq!(r.result.as_ref().ok(), Some(&0), "{:?}", r.result);
    r.stdout
}

fn trap_of(mut b: Builder, main: u32) -> String {
    let r = run(b_finish(&mut b, main));
    r.result.expect_err("expected a trap").to_string()
}

fn b_finish(b: &mut Builder, main: u32) -> std::sync::Arc<rvm_vm::verified::VerifiedModule> {
    std::mem::replace(b, Builder::new()).finish(Some(main), None)
}

fn ic(v: i64) -> I {
    I::IConst { value: v }
}

fn fc(v: f64) -> I {
    I::FConst {
        value: F64Bits::new(v),
    }
}

#[test]
fn int_arithmetic() {
    assert_eq!(print_expr(INT, vec![ic(7), ic(3), I::IDiv {}]), "2\n");
    assert_eq!(print_expr(INT, vec![ic(-7), ic(3), I::IDiv {}]), "-2\n");
    assert_eq!(print_expr(INT, vec![ic(-7), ic(3), I::IRem {}]), "-1\n");
    assert_eq!(
        print_expr(INT, vec![ic(i64::MIN), ic(-1), I::IDiv {}]),
        format!("{}\n", i64::MIN)
    );
    assert_eq!(
        print_expr(INT, vec![ic(i64::MIN), ic(-1), I::IRem {}]),
        "0\n"
    );
    assert_eq!(
        print_expr(INT, vec![ic(i64::MAX), ic(1), I::IAdd {}]),
        format!("{}\n", i64::MIN)
    );
    assert_eq!(print_expr(INT, vec![ic(1), ic(65), I::IShl {}]), "2\n");
    assert_eq!(print_expr(INT, vec![ic(-16), ic(2), I::IShr {}]), "-4\n");
    assert_eq!(print_expr(INT, vec![ic(6), ic(3), I::IXor {}]), "5\n");
    assert_eq!(print_expr(BOOL, vec![ic(2), ic(3), I::ILt {}]), "true\n");
    assert_eq!(print_expr(INT, vec![ic(5), I::INeg {}]), "-5\n");
}

#[test]
fn float_arithmetic_and_conversions() {
    assert_eq!(
        print_expr(FLOAT, vec![fc(0.1), fc(0.2), I::FAdd {}]),
        "0.30000000000000004\n"
    );
    assert_eq!(
        print_expr(FLOAT, vec![fc(1.0), fc(0.0), I::FDiv {}]),
        "inf\n"
    );
    assert_eq!(
        print_expr(FLOAT, vec![fc(-7.5), fc(2.0), I::FRem {}]),
        "-1.5\n"
    );
    assert_eq!(print_expr(FLOAT, vec![ic(3), I::IToF {}]), "3.0\n");
    assert_eq!(print_expr(INT, vec![fc(-3.9), I::FToI {}]), "-3\n");
    assert_eq!(print_expr(INT, vec![fc(f64::NAN), I::FToI {}]), "0\n");
    assert_eq!(
        print_expr(INT, vec![fc(1e300), I::FToI {}]),
        format!("{}\n", i64::MAX)
    );
    assert_eq!(
        print_expr(BOOL, vec![fc(f64::NAN), fc(f64::NAN), I::FEq {}]),
        "false\n"
    );
    assert_eq!(print_expr(FLOAT, vec![fc(1e20)]), "1e+20\n");
    assert_eq!(print_expr(FLOAT, vec![fc(1.5e-5)]), "1.5e-05\n");
}

#[test]
fn locals_jumps_and_loops() {
    // var s = 0; var i = 0; while i < 10 { s += i; i += 1 }; println(s)
    let code = vec![
        ic(0),
        I::LocalSet { index: 0 },
        ic(0),
        I::LocalSet { index: 1 },
        I::LocalGet { index: 1 }, // 4
        ic(10),
        I::ILt {},
        I::JmpIfNot { target: 17 },
        I::LocalGet { index: 0 },
        I::LocalGet { index: 1 },
        I::IAdd {},
        I::LocalSet { index: 0 },
        I::LocalGet { index: 1 },
        ic(1),
        I::IAdd {},
        I::LocalSet { index: 1 },
        I::Jmp { target: 4 },
        I::LocalGet { index: 0 }, // 17
        I::ToStr { type_: INT },
        println(),
        I::Ret {},
    ];
    let mut b = Builder::new();
    let main = b.func("main", &[], None, &[INT, INT], code);
    let r = run_both(b.finish(Some(main), None));
    assert_eq!(r.stdout, "45\n");
}

pub fn fib_module(n: i64) -> std::sync::Arc<rvm_vm::verified::VerifiedModule> {
    let mut b = Builder::new();
    let fib = b.declare("fib", &[INT], Some(INT));
    b.define(
        fib,
        &[],
        vec![
            I::LocalGet { index: 0 },
            ic(2),
            I::ILt {},
            I::JmpIfNot { target: 6 },
            I::LocalGet { index: 0 },
            I::Ret {},
            I::LocalGet { index: 0 },
            ic(1),
            I::ISub {},
            I::Call { func: fib },
            I::LocalGet { index: 0 },
            ic(2),
            I::ISub {},
            I::Call { func: fib },
            I::IAdd {},
            I::Ret {},
        ],
    );
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        vec![
            ic(n),
            I::Call { func: fib },
            I::ToStr { type_: INT },
            println(),
            I::Ret {},
        ],
    );
    b.finish(Some(main), None)
}

#[test]
fn recursion() {
    let r = run_both(fib_module(20));
    assert_eq!(r.stdout, "6765\n");
}

#[test]
fn main_result_is_the_exit_code() {
    let mut b = Builder::new();
    let main = b.func("main", &[], Some(INT), &[], vec![ic(42), I::Ret {}]);
    assert_eq!(run(b.finish(Some(main), None)).result.unwrap(), 42);

    let mut b = Builder::new();
    let main = b.func("main", &[], Some(INT), &[], vec![ic(256), I::Ret {}]);
    let r = run(b.finish(Some(main), None));
    assert_eq!(
        r.result.unwrap_err().to_string(),
        "runtime error: exit code 256 out of range 0..=255\n    at main (test.src:2:1)\n"
    );
}

#[test]
fn os_exit_unwinds_cleanly() {
    let mut b = Builder::new();
    let exit_ty = b.fn_ty(&[INT], None);
    let exit = b.import("os", "exit", exit_ty);
    let hello = b.str("before");
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        vec![
            I::SConst { index: hello },
            println(),
            ic(3),
            I::CallHost { import: exit },
            I::SConst { index: hello },
            println(),
            I::Ret {},
        ],
    );
    let r = run(b.finish(Some(main), None));
    assert_eq!(r.result.unwrap(), 3);
    assert_eq!(r.stdout, "before\n");
}

#[test]
fn os_args() {
    let mut b = Builder::new();
    let sa = b.array(STR);
    let args_ty = b.fn_ty(&[], Some(sa));
    let args = b.import("os", "args", args_ty);
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        vec![
            I::CallHost { import: args },
            I::ToStr { type_: sa },
            println(),
            I::Ret {},
        ],
    );
    let r = run_with(
        b.finish(Some(main), None),
        VmConfig {
            args: vec!["a".into(), "b c".into()],
            ..VmConfig::default()
        },
    );
    assert_eq!(r.stdout, "[\"a\", \"b c\"]\n");
}

#[test]
fn division_by_zero_traps_with_a_stack_trace() {
    let mut b = Builder::new();
    let div = b.func(
        "div",
        &[INT, INT],
        Some(INT),
        &[],
        vec![
            I::LocalGet { index: 0 },
            I::LocalGet { index: 1 },
            I::IDiv {},
            I::Ret {},
        ],
    );
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        vec![ic(1), ic(0), I::Call { func: div }, I::Pop {}, I::Ret {}],
    );
    let text = trap_of(b, main);
    assert_eq!(
        text,
        "runtime error: division by zero\n    at div (test.src:3:1)\n    at main (test.src:3:1)\n"
    );
}

#[test]
fn strings_and_natives() {
    let mut b = Builder::new();
    let sa = b.array(STR);
    let s = b.str("héllo, world");
    let comma = b.str(", ");
    let native = |n: Native| I::CallNative { native: n.id() };
    let show = |ty: u32| [I::ToStr { type_: ty }, println()];
    let mut code = vec![I::SConst { index: s }, native(Native::StrLen)];
    code.extend(show(INT));
    code.extend([
        I::SConst { index: s },
        I::SConst { index: comma },
        native(Native::StrFind),
    ]);
    code.extend(show(INT));
    code.extend([
        I::SConst { index: s },
        ic(0),
        ic(6),
        native(Native::StrSlice),
        native(Native::StrUpper),
    ]);
    code.extend(show(STR));
    code.extend([
        I::SConst { index: s },
        I::SConst { index: comma },
        I::SSplit { type_: sa },
    ]);
    code.extend(show(sa));
    code.extend([fc(2.675), ic(2), native(Native::FloatToFixed)]);
    code.extend(show(STR));
    code.extend([
        I::SConst { index: s },
        I::SConst { index: comma },
        I::SConcat {},
    ]);
    code.extend(show(STR));
    code.push(I::Ret {});
    let main = b.func("main", &[], None, &[], code);
    let r = run_both(b.finish(Some(main), None));
    assert_eq!(
        r.stdout,
        "13\n6\nHÉLLO\n[\"héllo\", \"world\"]\n2.67\nhéllo, world, \n"
    );
}

#[test]
fn string_slice_traps() {
    let mut b = Builder::new();
    let s = b.str("héllo");
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        vec![
            I::SConst { index: s },
            ic(0),
            ic(2),
            I::CallNative {
                native: Native::StrSlice.id(),
            },
            I::Pop {},
            I::Ret {},
        ],
    );
    assert!(
        trap_of(b, main)
            .starts_with("runtime error: string slice 0..2 is not on a character boundary\n")
    );

    let mut b = Builder::new();
    let s = b.str("abc");
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        vec![
            I::SConst { index: s },
            ic(2),
            ic(9),
            I::CallNative {
                native: Native::StrSlice.id(),
            },
            I::Pop {},
            I::Ret {},
        ],
    );
    assert!(
        trap_of(b, main)
            .starts_with("runtime error: string slice 2..9 out of bounds for length 3\n")
    );
}

#[test]
fn parse_traps_quote_the_text() {
    let mut b = Builder::new();
    let s = b.str("12a");
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        vec![
            I::SConst { index: s },
            I::CallNative {
                native: Native::StrParseInt.id(),
            },
            I::Pop {},
            I::Ret {},
        ],
    );
    assert!(trap_of(b, main).starts_with("runtime error: invalid int: \"12a\"\n"));
}

#[test]
fn assert_and_eprintln_order() {
    let mut b = Builder::new();
    let a = b.str("out");
    let e = b.str("err");
    let msg = b.str("boom");
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        vec![
            I::SConst { index: a },
            println(),
            I::SConst { index: e },
            I::CallNative {
                native: Native::Eprintln.id(),
            },
            I::BConst { value: 0 },
            I::SConst { index: msg },
            I::CallNative {
                native: Native::Assert.id(),
            },
            I::Ret {},
        ],
    );
    let r = run(b.finish(Some(main), None));
    assert_eq!(r.stdout, "out\n");
    assert_eq!(r.stderr, "err\n");
    let t = r.result.unwrap_err();
    assert_eq!(t.kind.to_string(), "assertion failed: boom");
    assert_eq!(t.exit_code(), 70);
}

#[test]
fn globals_and_init() {
    let mut b = Builder::new();
    let g = b.global("greeting", STR);
    let hi = b.str("hi");
    let init = b.func(
        "$init",
        &[],
        None,
        &[],
        vec![
            I::SConst { index: hi },
            I::GlobalSet { index: g },
            I::Ret {},
        ],
    );
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        vec![I::GlobalGet { index: g }, println(), I::Ret {}],
    );
    let m = b.finish(Some(main), Some(init));
    assert_eq!(run_both(m).stdout, "hi\n");

    // Without the initialiser the read traps.
    let mut b = Builder::new();
    let g = b.global("greeting", STR);
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        vec![I::GlobalGet { index: g }, println(), I::Ret {}],
    );
    let r = run(b.finish(Some(main), None));
    assert_eq!(
        r.result.unwrap_err().kind.to_string(),
        "global greeting read before initialization"
    );
}

#[test]
fn function_references() {
    let mut b = Builder::new();
    let add = b.func(
        "add",
        &[INT, INT],
        Some(INT),
        &[],
        vec![
            I::LocalGet { index: 0 },
            I::LocalGet { index: 1 },
            I::IAdd {},
            I::Ret {},
        ],
    );
    let fty = b.fn_ty(&[INT, INT], Some(INT));
    let main = b.func(
        "main",
        &[],
        None,
        &[],
        vec![
            I::FnRef { func: add },
            ic(2),
            ic(40),
            I::CallRef { type_: fty },
            I::ToStr { type_: INT },
            println(),
            I::Ret {},
        ],
    );
    let r = run_both(b.finish(Some(main), None));
    assert_eq!(r.stdout, "42\n");
}

#[test]
fn exported_functions_can_be_called_repeatedly() {
    use rvm_vm::interpreter::{CallOutcome, SharedBuffer, Vm};
    let mut b = Builder::new();
    let g = b.global("calls", INT);
    let init = b.func(
        "$init",
        &[],
        None,
        &[],
        vec![ic(100), I::GlobalSet { index: g }, I::Ret {}],
    );
    let bang = b.str("!");
    let shout = b.func(
        "shout",
        &[STR],
        Some(STR),
        &[],
        vec![
            I::GlobalGet { index: g },
            ic(1),
            I::IAdd {},
            I::GlobalSet { index: g },
            I::LocalGet { index: 0 },
            I::CallNative {
                native: Native::StrUpper.id(),
            },
            I::SConst { index: bang },
            I::SConcat {},
            I::Ret {},
        ],
    );
    let count = b.func(
        "count",
        &[],
        Some(INT),
        &[],
        vec![I::GlobalGet { index: g }, I::Ret {}],
    );
    let div = b.func(
        "div",
        &[INT, INT],
        Some(INT),
        &[],
        vec![
            I::LocalGet { index: 0 },
            I::LocalGet { index: 1 },
            I::IDiv {},
            I::Ret {},
        ],
    );
    b.export("shout", shout);
    b.export("count", count);
    b.export("div", div);
    let m = b.finish(None, Some(init));
    let mut vm = Vm::new(
        m,
        VmConfig {
            gc_stress: true,
            ..VmConfig::default()
        },
        Box::new(SharedBuffer::new()),
        Box::new(SharedBuffer::new()),
    )
    .unwrap();
    for word in ["hi", "there"] {
        let s = vm.alloc_str(word).unwrap();
        let CallOutcome::Return(Some(r)) = vm.call_export("shout", &[s]).unwrap() else {
            panic!("no result");
        };
        assert_eq!(vm.str_value(r), format!("{}!", word.to_uppercase()));
    }
    let trap = vm.call_export("div", &[1, 0]).unwrap_err();
    assert_eq!(trap.kind.to_string(), "division by zero");
    assert_eq!(
        vm.call_export("div", &[7, 2]).unwrap(),
        CallOutcome::Return(Some(3))
    );
    assert_eq!(
        vm.call_export("count", &[]).unwrap(),
        CallOutcome::Return(Some(102))
    );
    assert!(vm.call_export("nope", &[]).is_err());
    assert!(vm.call_export("div", &[1]).is_err());
}

#[test]
fn fused_array_access_traps_at_the_arr_get() {
    let mut b = Builder::new();
    let ia = b.array(INT);
    let main = b.func(
        "main",
        &[],
        None,
        &[ia, INT],
        vec![
            ic(1),
            I::ArrNew {
                type_: ia,
                count: 1,
            },
            I::LocalSet { index: 0 },
            ic(3),
            I::LocalSet { index: 1 },
            I::LocalGet { index: 0 }, // 5: fused `L L arr.get`
            I::LocalGet { index: 1 },
            I::ArrGet {}, // 7 -> line 8
            I::Pop {},
            I::Ret {},
        ],
    );
    let text = trap_of(b, main);
    assert_eq!(
        text,
        "runtime error: index 3 out of bounds for length 1\n    at main (test.src:8:1)\n"
    );
}

#[test]
fn fused_array_store_traps_at_the_arr_set() {
    let mut b = Builder::new();
    let ia = b.array(INT);
    let main = b.func(
        "main",
        &[],
        None,
        &[ia, INT],
        vec![
            ic(1),
            I::ArrNew {
                type_: ia,
                count: 1,
            },
            I::LocalSet { index: 0 },
            ic(-1),
            I::LocalSet { index: 1 },
            I::LocalGet { index: 0 }, // 5: fused `L L L arr.set`
            I::LocalGet { index: 1 },
            I::LocalGet { index: 1 },
            I::ArrSet {}, // 8 -> line 9
            I::Ret {},
        ],
    );
    let text = trap_of(b, main);
    assert_eq!(
        text,
        "runtime error: index -1 out of bounds for length 1\n    at main (test.src:9:1)\n"
    );
}

#[test]
fn a_vm_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<rvm_vm::interpreter::Vm<'static>>();
    let module = fib_module(15);
    let handle = std::thread::spawn(move || run(module).stdout);
    assert_eq!(handle.join().unwrap(), "610\n");
}
