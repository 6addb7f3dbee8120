//! Compile time per function: a few representative functions of the benchmark programs,
//! each compiled (IR translation, Cranelift optimisation and code generation, linking into
//! executable memory) in a warm session, plus the one-time cost of a session. Each function
//! both as the command line compiles it by default (no limits: no fuel checks) and with
//! fuel checks (`--fuel`, `--timeout`, an interrupt handle; see `Runtime::polls`).
//!
//! `cargo bench -p rvm-jit --bench compile`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use rvm_jit::Session;
use rvm_vm::tier::{Runtime, TierSession};
use rvm_vm::verified::VerifiedModule;

fn module(name: &str) -> VerifiedModule {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../benches/programs")
        .join(name);
    let compiled = rvm_compiler::compile_path(&path).expect("benchmark compiles");
    rvm_vm::verifier::verify(compiled.module).expect("verifies")
}

/// Runtime addresses that are never called (the code is compiled, not run).
fn runtime(m: &VerifiedModule) -> Runtime {
    Runtime::placeholder(m.functions().len() as u32)
}

fn compile(c: &mut Criterion) {
    let cases = [
        ("fib.src", "fib"),
        ("nbody.src", "advance"),
        ("fannkuch.src", "main"),
        ("spectralnorm.src", "mul_av"),
        ("mandelbrot.src", "main"),
    ];
    let mut group = c.benchmark_group("compile");
    for (file, func) in cases {
        let m = module(file);
        let Some(index) = m.module().functions.iter().position(|f| f.name == func) else {
            panic!("{file} has no function {func}");
        };
        let instrs = m.functions()[index].code().len();
        let mut session = Session::new().expect("host ISA");
        for polls in [false, true] {
            let rt = Runtime {
                polls,
                ..runtime(&m)
            };
            let checks = if polls { ", fuel checks" } else { "" };
            group.bench_function(format!("{func} ({instrs} instructions{checks})"), |b| {
                b.iter(|| {
                    black_box(
                        session
                            .compile(&m, index as u32, &rt, false)
                            .expect("compiles"),
                    )
                })
            });
        }
    }
    group.bench_function("new session", |b| {
        b.iter(|| black_box(Session::new().expect("host ISA")))
    });
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
