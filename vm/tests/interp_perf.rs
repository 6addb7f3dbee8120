//! Rough speed checks, ignored by default (run with
//! `cargo test --release -p rvm-vm --test interp_perf -- --ignored --nocapture`).
//! Reference on the development machine: Lua 5.4 runs fib(32) in about 0.10 s and a
//! 10^8-iteration int loop in about 1 s. Measured (user CPU time, shared 2-core machine):
//! this interpreter runs fib(32) in about 0.12 s and this 10^8 loop in about 1.0 s.

#[path = "support/builder.rs"]
mod builder;

use std::time::Instant;

use builder::*;
use rvm_vm::format::Instr as I;
use rvm_vm::natives::Native;

fn ic(v: i64) -> I {
    I::IConst { value: v }
}

fn fib_module(n: i64) -> std::sync::Arc<rvm_vm::verified::VerifiedModule> {
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
            I::CallNative {
                native: Native::Println.id(),
            },
            I::Ret {},
        ],
    );
    b.finish(Some(main), None)
}

/// `var s = 0; var i = 0; while i < n { s = s + i; i = i + 1 }`
fn loop_module(n: i64) -> std::sync::Arc<rvm_vm::verified::VerifiedModule> {
    let mut b = Builder::new();
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
            ic(n),
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
            I::CallNative {
                native: Native::Println.id(),
            },
            I::Ret {},
        ],
    );
    b.finish(Some(main), None)
}

#[test]
#[ignore]
fn perf_fib_32() {
    let m = fib_module(32);
    let t = Instant::now();
    let r = run(m);
    println!("fib(32): {:?} -> {}", t.elapsed(), r.stdout.trim());
    assert_eq!(r.stdout, "2178309\n");
}

#[test]
#[ignore]
fn perf_int_loop_1e8() {
    let m = loop_module(100_000_000);
    let t = Instant::now();
    let r = run(m);
    println!("loop 1e8: {:?} -> {}", t.elapsed(), r.stdout.trim());
}
