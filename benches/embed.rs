//! The embedding API's costs (issue 6): creating a sandbox from a loaded module, a typed
//! guest call round-trip, and a host-function call made from the guest.
//!
//! Run with `cargo bench --bench embed`. Targets: creation under 10 µs, a call round-trip
//! under 1 µs.

use criterion::{Criterion, criterion_group, criterion_main};
use rvm::{Engine, HostFunctions, Module, Sandbox};

/// A plugin-sized module: a few globals (two string constants), an export taking and
/// returning ints, and one that calls a host function `n` times.
const SOURCE: &str = r#"
extern fn app.add(a: int, b: int) -> int;
let prefix = "score: ";
var calls = 0;
fn add(a: int, b: int) -> int { return a + b; }
fn greet(name: str) -> str { calls += 1; return prefix + name; }
fn host_loop(n: int) -> int {
    var acc = 0;
    for i in 0..n { acc = app.add(acc, i); }
    return acc;
}
"#;

fn bench(c: &mut Criterion) {
    let engine = Engine::default();
    let module = Module::new(&engine, "bench.src", SOURCE).expect("compiles");
    let module = Module::from_bytes(&engine, &module.to_bytes()).expect("loads");
    let mut host = HostFunctions::new();
    host.func("app", "add", |a: i64, b: i64| a + b);

    c.bench_function("sandbox creation (from a loaded module, with init)", |b| {
        b.iter(|| {
            Sandbox::builder(&module)
                .host(&host)
                .build()
                .expect("sandbox")
        })
    });

    let mut sandbox = Sandbox::builder(&module)
        .host(&host)
        .build()
        .expect("sandbox");
    let add = sandbox.func::<(i64, i64), i64>("add").expect("add");
    c.bench_function("guest call round-trip (TypedFunc, 2 ints -> int)", |b| {
        b.iter(|| {
            add.call(&mut sandbox, (std::hint::black_box(20), 22))
                .expect("call")
        })
    });
    c.bench_function("guest call by name (Sandbox::call, 2 ints -> int)", |b| {
        b.iter(|| {
            sandbox
                .call::<_, i64>("add", (std::hint::black_box(20_i64), 22_i64))
                .expect("call")
        })
    });
    let greet = sandbox.func::<(&str,), String>("greet").expect("greet");
    c.bench_function("guest call round-trip (str -> str)", |b| {
        b.iter(|| {
            greet
                .call(&mut sandbox, (std::hint::black_box("ada"),))
                .expect("call")
        })
    });

    // 1000 host calls per guest call, so the per-call cost dominates; the figure reported
    // is per 1000 host calls.
    let host_loop = sandbox.func::<(i64,), i64>("host_loop").expect("host_loop");
    c.bench_function("host-function call from the guest (x1000)", |b| {
        b.iter(|| {
            host_loop
                .call(&mut sandbox, (std::hint::black_box(1000),))
                .expect("call")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
