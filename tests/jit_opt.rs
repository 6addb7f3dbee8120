//! The compiled tier's optimisations (see `spec/jit.md`, "What the compiler does"): they
//! happen where they should, never where they would be wrong, and never change a result.
//! - small leaf functions are inlined at direct calls;
//! - call-free loops get their heap lookups hoisted, but not a loop that hand-made
//!   bytecode enters in the middle;
//! - on-stack replacement into nested hoisted loops, and traps inside them, behave as in
//!   the interpreter.

use std::path::Path;
use std::sync::Arc;

use rvm::vm::format::Instr;

use rvm::vm::sandbox::Limits;
use rvm::vm::tier::JitMode;
use rvm::vm::verified::VerifiedModule;
use std::time::Duration;

#[path = "../vm/tests/support/builder.rs"]
mod builder;
#[path = "support/modes.rs"]
mod modes;
use modes::{agree, agree_with, config, run, run_with, source};

#[test]
fn leaves_are_inlined_and_call_free_loops_hoisted() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/programs/spectralnorm.src");
    let compiled = rvm::compile_file(&path).expect("compiles");
    let module = rvm::verify(compiled.module).expect("verifies");
    let (always, _) = agree(&module, 1000);
    // `a(i, j)` in `mul_av` and `mul_atv`.
    assert_eq!(always.inlined_calls, 2, "{always:?}");
    // Both loops of `mul_av` and of `mul_atv`, and `main`'s last loop.
    assert!(always.hoisted_loops >= 5, "{always:?}");

    // A recursive function is no leaf; a callee that can trap is not inlined.
    let module = source(
        "noinline.src",
        "fn fib(n: int) -> int {\n    if n < 2 {\n        return n;\n    }\n    return fib(n - 1) + fib(n - 2);\n}\n\
         fn get(xs: [int], i: int) -> int {\n    return xs[i];\n}\n\
         fn main() {\n    println(fib(15) + get([1, 2], 1));\n}\n",
    );
    let (always, _) = agree(&module, 1000);
    assert_eq!(always.inlined_calls, 0, "{always:?}");
}

/// `f(xs, skip)`: sums `xs` from index `skip as int`, with a loop that is entered in the
/// middle when `skip` holds (`mid_entry`), or always at its header.
fn summing_module(mid_entry: bool) -> Arc<VerifiedModule> {
    use builder::{BOOL, Builder, INT};
    let mut b = Builder::new();
    let ints = b.array(INT);
    let skip = if mid_entry {
        Instr::JmpIf { target: 17 }
    } else {
        Instr::Pop {}
    };
    let f = b.func(
        "f",
        &[ints, BOOL],
        Some(INT),
        &[INT, INT],
        vec![
            Instr::IConst { value: 0 },
            Instr::LocalSet { index: 2 }, // i = 0
            Instr::IConst { value: 0 },
            Instr::LocalSet { index: 3 }, // acc = 0
            Instr::LocalGet { index: 1 },
            skip,                         // 5: into the loop body, past its header
            Instr::LocalGet { index: 2 }, // 6: header
            Instr::LocalGet { index: 0 },
            Instr::ArrLen {},
            Instr::ILt {},
            Instr::JmpIfNot { target: 22 },
            Instr::LocalGet { index: 3 },
            Instr::LocalGet { index: 0 },
            Instr::LocalGet { index: 2 },
            Instr::ArrGet {},
            Instr::IAdd {},
            Instr::LocalSet { index: 3 },
            Instr::LocalGet { index: 2 }, // 17: i += 1
            Instr::IConst { value: 1 },
            Instr::IAdd {},
            Instr::LocalSet { index: 2 },
            Instr::Jmp { target: 6 },
            Instr::LocalGet { index: 3 }, // 22
            Instr::Ret {},
        ],
    );
    let main = b.func(
        "main",
        &[],
        Some(INT),
        &[ints],
        vec![
            Instr::IConst { value: 5 },
            Instr::IConst { value: 7 },
            Instr::IConst { value: 11 },
            Instr::ArrNew {
                type_: ints,
                count: 3,
            },
            Instr::LocalSet { index: 0 },
            Instr::LocalGet { index: 0 },
            Instr::BConst { value: 1 },
            Instr::Call { func: f },
            Instr::LocalGet { index: 0 },
            Instr::BConst { value: 0 },
            Instr::Call { func: f },
            Instr::IAdd {},
            Instr::Ret {},
        ],
    );
    b.finish(Some(main), None)
}

#[test]
fn a_loop_entered_in_the_middle_is_not_hoisted() {
    // Entered at its header only: hoisted, 23 + 23.
    let module = summing_module(false);
    let (r, ..) = run(&module, JitMode::Off, 1);
    assert_eq!(r, "exit 46");
    let (always, _) = agree(&module, 1);
    assert_eq!(always.hoisted_loops, 1, "{always:?}");
    // Entered in the middle as well: the preheader would be skipped, so no hoisting;
    // 18 (from index 1) + 23.
    let module = summing_module(true);
    let (r, ..) = run(&module, JitMode::Off, 1);
    assert_eq!(r, "exit 41");
    let (always, _) = agree(&module, 1);
    assert_eq!(always.hoisted_loops, 0, "{always:?}");
}

const NESTED: &str = r#"
struct Acc { total: int, hits: int }

fn main() {
    let xs = array(300, 1);
    for i in 0..300 {
        xs[i] = i * 7 % 13;
    }
    let acc = Acc(total: 0, hits: 0);
    var row = xs;
    for round in 0..40 {
        for i in 0..300 {
            for j in 0..5 {
                // In the last round, index 300: a trap in the innermost loop.
                acc.total = (acc.total + row[(i + j) % 300 + round / 39 * 300] * (j + 1)) % 1000003;
            }
            if xs[i] == round % 13 {
                acc.hits += 1;
            }
        }
        if round % 2 == 0 {
            row = xs;
        }
        if round % 10 == 0 {
            println("${acc.total} ${acc.hits}");
        }
    }
}
"#;

#[test]
fn osr_into_nested_hoisted_loops_and_a_trap_inside_them() {
    let module = source("nested.src", NESTED);
    let (r, out, _, _) = run(&module, JitMode::Off, 50);
    assert_eq!(
        r,
        "trap runtime error: index 300 out of bounds for length 300\n    at main (nested.src:15:42)\n",
        "{out}"
    );
    assert_eq!(out.lines().count(), 4, "{out}");
    for threshold in [1, 50, 2000] {
        let (always, auto) = agree(&module, threshold);
        assert!(always.hoisted_loops >= 3, "{always:?}");
        if threshold == 50 {
            assert!(auto.osr_entries >= 1, "{auto:?}");
        }
    }
}

const DEEP: &str = "
fn leaf(a: int, b: int, c: int, d: int) -> int {
    let s = a + b;
    let t = c + d;
    return s * t - s + t;
}

fn down(n: int) -> int {
    let a = n + 1;
    let b = a * 2;
    let c = b - 3;
    let d = c + a;
    return leaf(a, b, c, d) + down(n + 1);
}

fn main() {
    println(down(0));
}
";

#[test]
fn an_inlined_call_traps_where_its_frame_would_not_fit() {
    // `leaf` is inlined into `down`; the call that overflows is the inlined one, first
    // at the call-depth limit, then (small heap, so a small value stack) at the value-stack
    // limit, in each case at the same call, with the same trace, in every tier.
    let module = source("deep.src", DEEP);
    for (max_heap, depth) in [(None, 500), (Some(65536), 10000)] {
        let runs = agree_with(&module, |cfg| {
            cfg.max_call_depth = depth;
            if let Some(h) = max_heap {
                cfg.limits.max_heap = h;
            }
        });
        for (mode, r, stats) in runs {
            assert!(r.starts_with(&format!("trap runtime error: stack overflow (call depth limit {depth})\n    at down (deep.src:13:12)")), "{r}");
            if mode == JitMode::Always {
                assert_eq!(stats.inlined_calls, 1, "{stats:?}");
            }
        }
    }
}

#[test]
fn recursive_calls_in_accumulator_position_loop_and_keep_every_frame() {
    // `f` traps 30 calls deep, `g` combines with a constant, `h` passes its result through,
    // `k`'s call is followed by more than its combination and stays a call; the tiers agree
    // on every result and on the trap's trace (its 32 frames), at threshold 2 and 1000.
    let module = source(
        "acc.src",
        "fn f(n: int, d: int) -> int {\n    if n == 0 {\n        return 10 / d;\n    }\n    return n + f(n - 1, d);\n}\n\
         fn g(n: int) -> int {\n    if n == 0 {\n        return 1;\n    }\n    return g(n - 1) * 3;\n}\n\
         fn h(n: int) -> int {\n    if n < 5 {\n        return n;\n    }\n    return h(n - 5);\n}\n\
         fn k(n: int) -> int {\n    if n == 0 {\n        return 0;\n    }\n    return k(n - 1) + n * 2;\n}\n\
         fn main() {\n    println(f(30, 1));\n    println(g(5));\n    println(h(1003));\n    println(k(10));\n    println(f(30, 0));\n}\n",
    );
    let (always, _) = agree(&module, 1000);
    assert_eq!(always.tail_calls, 3, "{always:?}");
    let (r, out, _, _) = run(&module, JitMode::Always, 1000);
    assert_eq!(out, "475\n243\n3\n110\n");
    assert!(r.starts_with("trap runtime error: division by zero"), "{r}");
    assert_eq!(r.matches("    at f (").count(), 31, "{r}");
    agree(&module, 2);

    // The call-depth limit stops such a loop at the same call, with the same trace.
    let module = source(
        "deep.src",
        "fn s(n: int) -> int {\n    if n == 0 {\n        return 0;\n    }\n    return n + s(n - 1);\n}\n\
         fn main() {\n    println(s(9000));\n    println(s(20000));\n}\n",
    );
    agree(&module, 2);
    let (r, out, _, _) = run(&module, JitMode::Always, 2);
    assert_eq!(out, "40504500\n");
    assert!(r.contains("stack overflow (call depth limit 10000)"), "{r}");

    // A loop inside: an interpreted activation enters it by on-stack replacement, through
    // the header the looped calls jump to.
    let module = source(
        "osr.src",
        "fn walk(n: int, acc: int) -> int {\n    if n == 0 {\n        return acc;\n    }\n    var s = 0;\n    var i = 0;\n\
         \x20   while i < n * 50 {\n        s = s + i % 7;\n        i = i + 1;\n    }\n    return walk(n - 1, acc + s) + 1;\n}\n\
         fn main() {\n    println(walk(40, 0));\n    println(walk(300, 5));\n}\n",
    );
    let (_, auto) = agree(&module, 2);
    assert!(auto.osr_entries > 0, "{auto:?}");
    // `walk`, compiled for on-stack replacement, then again for its calls.
    assert_eq!((auto.compiled, auto.tail_calls), (2, 2), "{auto:?}");
}

#[test]
fn early_exits_are_inlined_at_direct_calls() {
    // `fib`'s `if k < 2 { return k; }` runs inline at both of its calls and at `main`'s;
    // `set`'s prefix ends at its store to a global (before its `ret`), so it has none.
    let module = source(
        "exit.src",
        "var g = 0;\n\
         fn fib(k: int) -> int {\n    if k < 2 {\n        return k;\n    }\n    return fib(k - 1) + fib(k - 2);\n}\n\
         fn set(k: int) -> int {\n    g = k;\n    if k < 2 {\n        return k;\n    }\n    return set(k - 1) * 2;\n}\n\
         fn main() {\n    println(fib(20));\n    println(set(30));\n    println(g);\n}\n",
    );
    let (always, _) = agree(&module, 1000);
    assert_eq!(always.early_exits, 3, "{always:?}");
    let (_, out, _, _) = run(&module, JitMode::Always, 1000);
    assert_eq!(out, "6765\n536870912\n1\n");
    agree(&module, 2);
}

#[test]
fn loop_invariant_fields_are_preloaded_unless_the_loop_stores_that_field() {
    // nbody's `advance`: the inner loop reads `a.x`, `a.y`, `a.z` and `a.mass` and stores
    // only velocities, so those four are loaded once per `a`.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/programs/nbody.src");
    let compiled = rvm::compile_file(&path).expect("compiles");
    let module = rvm::verify(compiled.module).expect("verifies");
    let (always, _) = agree(&module, 1000);
    assert!(always.preloaded_fields >= 4, "{always:?}");

    // `a.x` is stored through `b` (which can be `a`): only `a.y` is preloaded, and the sum
    // sees every store.
    let module = source(
        "aliased.src",
        "struct P { x: float, y: float }\n\
         fn sum(ps: [P], a: P) -> float {\n    var s = 0.0;\n    for b in ps {\n        b.x = b.x + a.y;\n        s += a.x;\n    }\n    return s;\n}\n\
         fn main() {\n    let a = P(x: 1.0, y: 0.5);\n    let ps = [P(x: 2.0, y: 1.0), a, a];\n    println(sum(ps, a));\n}\n",
    );
    let (always, _) = agree(&module, 1000);
    assert_eq!(always.preloaded_fields, 1, "{always:?}");
}

/// A counting loop that hand-made bytecode enters with its counter at the largest integer
/// (no test before the loop): the first increment wraps, and the loop runs on from the
/// smallest integer. Fuel must still run out where the interpreter's does, with and
/// without an inlined call: a guard against loop optimisations that reason about the
/// counter (a timeout turns a loop that stopped charging into a failure, not a hang).
fn wrapping_counter_module(with_call: bool) -> Arc<VerifiedModule> {
    use builder::{Builder, INT};
    let mut b = Builder::new();
    let leaf = b.func(
        "leaf",
        &[INT],
        Some(INT),
        &[],
        vec![Instr::LocalGet { index: 0 }, Instr::Ret {}],
    );
    let use_counter = if with_call {
        Instr::Call { func: leaf }
    } else {
        Instr::Nop {}
    };
    let main = b.func(
        "main",
        &[],
        Some(INT),
        &[INT, INT],
        vec![
            Instr::IConst { value: 0 },
            Instr::LocalSet { index: 1 },
            Instr::IConst { value: i64::MAX },
            Instr::LocalSet { index: 0 },
            Instr::LocalGet { index: 1 }, // 4: head
            Instr::LocalGet { index: 0 },
            use_counter,
            Instr::IAdd {},
            Instr::LocalSet { index: 1 },
            Instr::LocalGet { index: 0 }, // 9: i += 1
            Instr::IConst { value: 1 },
            Instr::IAdd {},
            Instr::LocalSet { index: 0 },
            Instr::LocalGet { index: 0 },
            Instr::IConst { value: 5 },
            Instr::IGe {},
            Instr::JmpIfNot { target: 4 },
            Instr::LocalGet { index: 1 },
            Instr::Ret {},
        ],
    );
    b.finish(Some(main), None)
}

#[test]
fn a_counter_that_wraps_still_runs_out_of_fuel_where_the_interpreter_does() {
    for with_call in [false, true] {
        let module = wrapping_counter_module(with_call);
        for fuel in [1, 9, 10, 11, 100, 12_345, 100_003] {
            let results: Vec<_> = [JitMode::Off, JitMode::Always, JitMode::Auto]
                .map(|mode| {
                    let mut cfg = config(mode, 1);
                    cfg.limits = Limits {
                        fuel: Some(fuel),
                        timeout: Some(Duration::from_secs(20)),
                        ..Limits::default()
                    };
                    run_with(&module, cfg)
                })
                .into_iter()
                .map(|(r, out, err, _)| (r, out, err))
                .collect();
            assert!(results[0].0.contains("out of fuel"), "{results:?}");
            assert_eq!(
                results[0], results[1],
                "always: calls {with_call}, fuel {fuel}"
            );
            assert_eq!(
                results[0], results[2],
                "auto: calls {with_call}, fuel {fuel}"
            );
        }
    }
}

const ROOMLESS: &str = "
fn leaf(x: int) -> int {
    return x * 2 + 1;
}

fn work(n: int) -> int {
    var s = 0;
    for i in 0..n {
        s += i % 7;
    }
    println(s);
    return leaf(s);
}

fn down(d: int) -> int {
    if d == 0 {
        return work(3000);
    }
    return down(d - 1) + 1;
}

fn main() {
    println(down(5));
    println(down(arg()));
}
";

#[test]
fn an_activation_without_room_for_its_calls_runs_interpreted_and_traps_at_the_same_call() {
    // `work` (which inlines `leaf`) runs as the deepest frame the call-depth limit allows:
    // its entry finds no room for one more frame, so a call of its compiled code has the
    // runtime interpret it, and on-stack replacement into its loop declines; the loop
    // still runs and prints, then the inlined call traps exactly where the interpreter's
    // push does. One frame less and everything runs compiled.
    const LIMIT: usize = 200;
    for (deepest, trap) in [(LIMIT - 3, true), (LIMIT - 4, false)] {
        let src = ROOMLESS.replace("arg()", &deepest.to_string());
        let module = source("roomless.src", &src);
        let runs = agree_with(&module, |cfg| cfg.max_call_depth = LIMIT);
        for (mode, r, stats) in runs {
            if trap {
                assert!(
                    r.starts_with(&format!(
                        "trap runtime error: stack overflow (call depth limit {LIMIT})\n    at work (roomless.src:12:12)"
                    )),
                    "{mode:?}: {r}"
                );
                if mode != JitMode::Off {
                    assert!(stats.no_room >= 1, "{mode:?}: {stats:?}");
                }
            } else {
                assert_eq!(r, "exit 0", "{mode:?}");
                assert_eq!(stats.no_room, 0, "{mode:?}: {stats:?}");
            }
            if mode != JitMode::Off {
                assert!(stats.inlined_calls >= 1, "{stats:?}");
                // A declined on-stack replacement is not retried at every back edge.
                assert!(stats.osr_entries <= 2, "{mode:?}: {stats:?}");
            }
        }
        let mut cfg = config(JitMode::Off, 50);
        cfg.max_call_depth = LIMIT;
        let (_, out, _, _) = run_with(&module, cfg);
        let expected = if trap {
            "8994\n17994\n8994\n"
        } else {
            "8994\n17994\n8994\n18185\n"
        };
        assert_eq!(out, expected);
    }
}

/// Runs `module` with `fuel` units in every mode (threshold 1): all must agree.
fn agree_on_fuel(module: &VerifiedModule, fuel: u64, what: &str) {
    let results: Vec<_> = [JitMode::Off, JitMode::Always, JitMode::Auto]
        .map(|mode| {
            let mut cfg = config(mode, 1);
            cfg.limits = Limits {
                fuel: Some(fuel),
                timeout: Some(Duration::from_secs(20)),
                ..Limits::default()
            };
            let (r, out, err, _) = run_with(module, cfg);
            (r, out, err)
        })
        .into_iter()
        .collect();
    assert_eq!(results[0], results[1], "always: {what}, fuel {fuel}");
    assert_eq!(results[0], results[2], "auto: {what}, fuel {fuel}");
}

/// A fuel limit that never runs out: code charges fuel only where something can stop the
/// program (`tier::Runtime::polls`).
fn fueled(cfg: &mut rvm::vm::interpreter::VmConfig) {
    cfg.limits.fuel = Some(1 << 50);
}

/// The statistics of `module` compiled up front and tiered (threshold `threshold`) with
/// fuel, after `agree`.
fn fueled_stats(module: &VerifiedModule, threshold: u32) -> Vec<rvm::vm::interpreter::JitStats> {
    agree(module, threshold);
    [JitMode::Always, JitMode::Auto]
        .map(|mode| {
            let mut cfg = config(mode, threshold);
            fueled(&mut cfg);
            run_with(module, cfg).3
        })
        .to_vec()
}

#[test]
fn a_loop_that_starts_with_an_inlined_call_charges_the_call_with_its_back_edge() {
    // The first loop starts with `leaf(i)` (after loads only): its back edge charges the
    // call's unit too. The second stores first, the third prints: theirs stay at the call.
    let module = source(
        "merged.src",
        "fn leaf(x: int) -> int {\n    return x * 2 + 1;\n}\n\
         fn main() {\n    let xs = array(40, 0);\n    var s = 0;\n    for round in 0..30 {\n        \
         for i in 0..40 {\n            s += leaf(i) % 7;\n        }\n        \
         for i in 0..40 {\n            xs[i] = s;\n            s += leaf(i) % 5;\n        }\n        \
         var j = 0;\n        while j < 3 {\n            print(j);\n            s += leaf(j);\n            j += 1;\n        }\n        \
         println(s);\n    }\n}\n",
    );
    let stats = fueled_stats(&module, 5);
    assert_eq!(stats[0].merged_charges, 1, "{stats:?}");
    assert!(stats[1].merged_charges >= 1, "{stats:?}");
    // `--trace-jit` says so.
    let mut cfg = config(JitMode::Always, 5);
    fueled(&mut cfg);
    cfg.jit.trace = true;
    let (_, _, err, _) = run_with(&module, cfg);
    assert!(
        err.lines()
            .any(|l| l.starts_with("jit: compiled main (") && l.contains(", 1 call charge merged")),
        "{err}"
    );
    // Out of fuel in the middle of each loop, at the back edge, and at the call.
    for fuel in (1..200).chain((200..12_000).step_by(37)) {
        agree_on_fuel(&module, fuel, "merged.src");
    }
}

/// A loop `4..=24` that hand-made bytecode re-enters between its header and its first
/// call: the inner loop `5..=19` starts at the call's argument and is a loop of its own.
/// `main`'s result is no exit code (out of range): the trap must name the `ret` in every
/// tier (the interpreter runs `local.get; ret` as one fused instruction).
fn reentered_module() -> Arc<VerifiedModule> {
    use builder::{Builder, INT};
    let mut b = Builder::new();
    let leaf = b.func(
        "leaf",
        &[INT],
        Some(INT),
        &[],
        vec![
            Instr::LocalGet { index: 0 },
            Instr::IConst { value: 3 },
            Instr::IMul {},
            Instr::Ret {},
        ],
    );
    let main = b.func(
        "main",
        &[],
        Some(INT),
        &[INT, INT],
        vec![
            Instr::IConst { value: 0 },
            Instr::LocalSet { index: 1 },
            Instr::IConst { value: 0 },
            Instr::LocalSet { index: 0 },
            Instr::LocalGet { index: 1 }, // 4: the outer loop's header
            Instr::LocalGet { index: 0 }, // 5: the inner loop's header
            Instr::Call { func: leaf },
            Instr::IAdd {},
            Instr::LocalSet { index: 1 },
            Instr::LocalGet { index: 0 }, // 9: i += 1
            Instr::IConst { value: 1 },
            Instr::IAdd {},
            Instr::LocalSet { index: 0 },
            Instr::LocalGet { index: 1 },
            Instr::LocalGet { index: 0 },
            Instr::IConst { value: 3 },
            Instr::IRem {},
            Instr::IConst { value: 0 },
            Instr::IEq {},
            Instr::JmpIf { target: 5 }, // 19: back into the middle, total on the stack
            Instr::Pop {},
            Instr::LocalGet { index: 0 },
            Instr::IConst { value: 3000 },
            Instr::IGe {},
            Instr::JmpIfNot { target: 4 }, // 24
            Instr::LocalGet { index: 1 },
            Instr::Ret {},
        ],
    );
    b.finish(Some(main), None)
}

#[test]
fn a_loop_reentered_before_its_first_call_charges_the_call_where_it_is() {
    // Only the inner loop (which the jump at 19 heads) starts with the call; the outer
    // one does not, as the jump lands between its header and the call.
    let module = reentered_module();
    let stats = fueled_stats(&module, 5);
    assert_eq!(stats[0].merged_charges, 1, "{stats:?}");
    for fuel in (1..120).chain((120..60_000).step_by(101)) {
        agree_on_fuel(&module, fuel, "reentered");
    }
}
