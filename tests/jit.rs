//! The compiled tier against the whole program suite, in process:
//! - `--jit=always` compiles every function of every test program (none falls back to the
//!   interpreter);
//! - the same IR passes Cranelift's verifier and compiles for aarch64 (portable code
//!   generation; the cross test then runs it under qemu);
//! - fuel runs out at exactly the same point in both tiers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rvm::vm::interpreter::{SharedBuffer, Vm, VmConfig};
use rvm::vm::sandbox::Limits;
use rvm::vm::tier::{JitConfig, JitMode};
use rvm::vm::verified::VerifiedModule;

fn programs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("programs dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "src") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs"),
        &mut out,
    );
    out
}

/// Every test program that compiles (those with `// error:` expectations do not).
fn modules() -> Vec<(PathBuf, VerifiedModule)> {
    programs()
        .into_iter()
        .filter_map(|p| {
            let compiled = rvm::compile_file(&p).ok()?;
            let module = rvm::verify(compiled.module).expect("compiled code verifies");
            Some((p, module))
        })
        .collect()
}

fn config(mode: JitMode) -> VmConfig {
    VmConfig {
        jit: JitConfig {
            mode,
            compiler: Some(Arc::new(rvm_jit::CraneliftTier)),
            ..JitConfig::default()
        },
        ..VmConfig::default()
    }
}

#[test]
fn always_compiles_every_function_of_every_program() {
    let mut functions = 0;
    for (path, module) in modules() {
        let n = module.functions().len();
        let vm = Vm::new(
            &module,
            config(JitMode::Always),
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
        )
        .expect("vm");
        let stats = vm.jit_stats();
        assert_eq!(stats.failed, 0, "{}: a function fell back", path.display());
        assert_eq!(stats.compiled, n, "{}", path.display());
        functions += n;
    }
    assert!(functions > 400, "only {functions} functions compiled");
}

#[test]
fn every_function_compiles_for_aarch64() {
    for (path, module) in modules() {
        rvm_jit::compile_for_target(&module, "aarch64-unknown-linux-gnu")
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

const FUEL_PROGRAM: &str = "
fn step(x: int) -> int {
    if x % 3 == 0 {
        return x / 3;
    }
    return x + 1;
}
fn main() {
    var total = 0;
    var i = 0;
    while i < 100000 {
        var j = 0;
        for k in 0..5 {
            j = j + step(i + k);
        }
        total = total + j;
        if i % 1000 == 0 {
            println(total);
        }
        i = i + 1;
    }
}
";

fn run_with_fuel(module: &VerifiedModule, mode: JitMode, fuel: u64) -> (String, String) {
    let out = SharedBuffer::new();
    let mut cfg = config(mode);
    cfg.jit.threshold = 3;
    cfg.limits = Limits {
        fuel: Some(fuel),
        ..Limits::default()
    };
    let mut vm = Vm::new(
        module,
        cfg,
        Box::new(out.clone()),
        Box::new(std::io::sink()),
    )
    .expect("vm");
    let result = vm.run_main();
    let fuel_left = vm.fuel_remaining();
    (
        out.contents(),
        format!("{:?} left {fuel_left:?}", result.map_err(|t| t.to_string())),
    )
}

/// Recursion with calls in accumulator position (compiled as loops), one per line.
const FUEL_RECURSION: &str = "
fn fib(k: int) -> int {
    if k < 2 {
        return k;
    }
    return fib(k - 1) + fib(k - 2);
}
fn main() {
    for n in 0..25 {
        println(fib(n));
    }
}
";

/// Counting loops (`for i in a..b`, `while i < b { ...; i += 1; }`): without calls, with
/// an inlined call, with a `break`, with a counter near the largest integer, and with a
/// trap inside.
const FUEL_COUNTED: &str = "
fn sq(x: int) -> int {
    return x * x;
}
fn main() {
    let xs = array(64, 3);
    var total = 0;
    for round in 0..12 {
        for i in 0..200 {
            total += i % 7;
        }
        for i in 0..150 {
            total += sq(i) % 5 + xs[i % 64];
        }
        var j = 0;
        while j < 1000 {
            total += j;
            if total % 97 == 0 {
                break;
            }
            j += 1;
        }
        var k = 9223372036854775000;
        while k < 9223372036854775807 {
            total += 1;
            k += 1;
        }
        println(total);
    }
    for i in 0..100 {
        total += xs[i];
    }
}
";

#[test]
fn counting_loops_run_out_of_fuel_where_the_interpreter_does() {
    let compiled = rvm::compile_source("counted.src", FUEL_COUNTED).expect("compiles");
    let module = rvm::verify(compiled.module).expect("verifies");
    // Every 997th unit up to past the end (the last run traps at `xs[64]`), and the
    // first few, so that fuel runs out in every loop and at many places in each.
    let levels = (1..40).chain((40..400_000).step_by(997));
    for fuel in levels {
        let off = run_with_fuel(&module, JitMode::Off, fuel);
        let always = run_with_fuel(&module, JitMode::Always, fuel);
        assert_eq!(off, always, "fuel {fuel}: off vs always");
        if fuel % 7 == 0 {
            let auto = run_with_fuel(&module, JitMode::Auto, fuel);
            assert_eq!(off, auto, "fuel {fuel}: off vs auto");
        }
    }
    let last = run_with_fuel(&module, JitMode::Always, 10_000_000);
    assert!(last.1.contains("index 64 out of bounds"), "{last:?}");
}

#[test]
fn fuel_runs_out_at_the_same_point_in_every_tier() {
    for src in [FUEL_PROGRAM, FUEL_RECURSION] {
        let compiled = rvm::compile_source("fuel.src", src).expect("compiles");
        let module = rvm::verify(compiled.module).expect("verifies");
        for fuel in [1, 7, 50, 999, 12_345, 100_000, 1_000_003] {
            let off = run_with_fuel(&module, JitMode::Off, fuel);
            let always = run_with_fuel(&module, JitMode::Always, fuel);
            let auto = run_with_fuel(&module, JitMode::Auto, fuel);
            assert_eq!(off, always, "fuel {fuel}: off vs always");
            assert_eq!(off, auto, "fuel {fuel}: off vs auto");
        }
    }
}

#[test]
fn the_heap_layout_is_measured() {
    // Without it every array and field access would be a runtime call.
    assert!(rvm::vm::tier::HeapLayout::probe().is_some());
}

const LONG_LOOP: &str = "
fn main() {
    var total = 0;
    var i = 0;
    while i < 200000 {
        total = (total + i * 7) % 1000003;
        i = i + 1;
    }
    println(total);
}
";

/// What [`run_source`] saw.
struct Ran {
    result: Result<i32, rvm::vm::trap::Trap>,
    out: String,
    err: String,
    stats: rvm::vm::interpreter::JitStats,
}

/// Compiles `src` and runs its `main` with `cfg`.
fn run_source(src: &str, cfg: VmConfig) -> Ran {
    let compiled = rvm::compile_source("t.src", src).expect("compiles");
    let module = rvm::verify(compiled.module).expect("verifies");
    let (out, err) = (SharedBuffer::new(), SharedBuffer::new());
    let mut vm = Vm::new(&module, cfg, Box::new(out.clone()), Box::new(err.clone())).expect("vm");
    let result = vm.run_main();
    Ran {
        result,
        out: out.contents(),
        err: err.contents(),
        stats: vm.jit_stats(),
    }
}

#[test]
fn a_long_loop_in_main_switches_to_native_code_mid_run() {
    let mut outputs = Vec::new();
    for mode in [JitMode::Off, JitMode::Auto] {
        let mut cfg = config(mode);
        cfg.jit.threshold = 100;
        let Ran {
            result, out, stats, ..
        } = run_source(LONG_LOOP, cfg);
        result.expect("runs");
        if mode == JitMode::Auto {
            assert_eq!(stats.osr_entries, 1, "{stats:?}");
            assert_eq!(stats.compiled, 1, "only main is hot: {stats:?}");
        }
        outputs.push(out);
    }
    assert_eq!(outputs[0], outputs[1]);
}

/// `f` gets hot through its calls while its outer activations are still interpreted;
/// when they reach their loops, `f` is compiled again, with on-stack replacement entries
/// (entering code without them would run the activation again from its start: the
/// output would repeat lines).
const CALLS_THEN_LOOPS: &str = "
fn f(n: int) -> int {
    var s = 0;
    if n > 0 {
        s = f(n - 1);
    }
    if n % 20 == 0 {
        println(n);
    }
    var i = 0;
    while i < 3000 {
        s = (s + i * 7) % 1000003;
        i = i + 1;
    }
    return s;
}
fn main() {
    println(f(60));
}
";

#[test]
fn code_compiled_for_calls_is_compiled_again_for_on_stack_replacement() {
    let mut outputs = Vec::new();
    for mode in [JitMode::Off, JitMode::Auto, JitMode::Always] {
        let mut cfg = config(mode);
        cfg.jit.threshold = 20;
        cfg.jit.trace = true;
        let Ran {
            result,
            out,
            err,
            stats,
        } = run_source(CALLS_THEN_LOOPS, cfg);
        result.expect("runs");
        match mode {
            // `f` for calls (at its 20th call), then for replacement when the loop of an
            // interpreted activation gets hot; `main` never gets hot. The trace says which.
            JitMode::Auto => {
                assert_eq!(stats.compiled, 2, "{stats:?}");
                assert!(stats.osr_entries >= 1, "{stats:?}");
                let lines: Vec<&str> = err.lines().filter(|l| l.contains("compiled")).collect();
                assert!(lines[0].starts_with("jit: compiled f ("), "{err}");
                assert!(
                    lines[1].starts_with("jit: compiled f for on-stack replacement ("),
                    "{err}"
                );
            }
            // Everything compiled before it runs: no activation is ever interpreted.
            JitMode::Always => assert_eq!(stats.osr_entries, 0, "{stats:?}"),
            JitMode::Off => {}
        }
        outputs.push(out);
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
}

/// Writes `src` to a fresh temporary folder (named after `tag`) and runs the `rvm` binary
/// on it with `args` and the environment variables `env`; removes the folder after.
fn run_cli(
    tag: &str,
    src: &str,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> std::process::Output {
    let dir = std::env::temp_dir().join(format!("rvm-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("t.src");
    std::fs::write(&file, src).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rvm"))
        .args(args)
        .arg(&file)
        .envs(env.iter().copied())
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn trace_jit_prints_each_compilation() {
    let src = "fn f() -> int {\n    return 1;\n}\n\
         fn g(n: int) -> int {\n    if n < 1 {\n        return 0;\n    }\n    return n + g(n - 1);\n}\n\
         struct P { x: int }\n\
         fn h(ps: [P], p: P) -> int {\n    var s = 0;\n    for q in ps {\n        s += p.x + q.x;\n    }\n    return s;\n}\n\
         fn main() {\n    println(f());\n    println(g(3));\n    println(h([P(x: 1)], P(x: 2)));\n}\n";
    let log = std::ffi::OsStr::new("jit");
    for (flags, env) in [
        (&["--jit=always", "--trace-jit"][..], &[][..]),
        (&["--jit=always"], &[("RVM_LOG", log)]),
    ] {
        let flag = flags.join(" ");
        let out = run_cli("trace-jit", src, flags, env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n6\n3\n");
        for name in ["main", "f", "g", "h"] {
            assert!(
                err.lines().any(
                    |l| l.starts_with(&format!("jit: compiled {name} (")) && l.ends_with(" ms")
                ),
                "{flag}: {err}"
            );
        }
        // `f` is a leaf: compiled into `main`; `g`'s first case runs inline at its calls,
        // and its recursive call is a loop. The trace says so.
        assert!(
            err.lines().any(|l| l.starts_with("jit: compiled main (")
                && l.contains(", 1 call inlined, 1 early exit inlined)")),
            "{flag}: {err}"
        );
        assert!(
            err.lines().any(|l| l.starts_with("jit: compiled g (")
                && l.contains(", 1 recursive call looped, 1 early exit inlined)")),
            "{flag}: {err}"
        );
        // `h`'s loop reads `p.x` and stores no field: loaded once, before the loop; it
        // counts through `ps`, so `q`'s element needs no index check.
        assert!(
            err.lines().any(|l| l.starts_with("jit: compiled h (")
                && l.contains(", 1 loop hoisted, 1 field preloaded, 1 index check removed)")),
            "{flag}: {err}"
        );
    }
}

#[test]
fn rvm_jit_disasm_prints_the_machine_code() {
    let one = std::ffi::OsStr::new("1");
    let out = run_cli(
        "jit-disasm",
        "fn main() {\n    println(1);\n}\n",
        &["--jit=always"],
        &[("RVM_JIT_DISASM", one)],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n");
    // One listing per compiled function ($init and main), each with a return.
    assert_eq!(err.matches("== function ").count(), 2, "{err}");
    assert!(err.contains("ret"), "{err}");
}

#[test]
fn rvm_jit_dump_writes_each_function_with_its_address() {
    let code = std::env::temp_dir().join(format!("rvm-jit-dump-code-{}", std::process::id()));
    std::fs::create_dir_all(&code).expect("temp dir");
    let out = run_cli(
        "jit-dump",
        "fn main() {\n    println(1);\n}\n",
        &["--jit=always"],
        &[("RVM_JIT_DUMP", code.as_os_str())],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n");
    // `f<index>-<address>.bin` for $init (0) and main (1), each some machine code.
    let mut names: Vec<String> = std::fs::read_dir(&code)
        .expect("dump folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    for (i, name) in names.iter().enumerate() {
        let (index, addr) = name
            .strip_suffix(".bin")
            .and_then(|n| n.strip_prefix('f'))
            .and_then(|n| n.split_once('-'))
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(index, i.to_string());
        assert!(
            u64::from_str_radix(addr, 16).is_ok_and(|a| a != 0),
            "{name}"
        );
        assert!(std::fs::metadata(code.join(name)).expect("file").len() > 0);
    }
    let _ = std::fs::remove_dir_all(&code);
}

const DEEP: &str = "
fn down(n: int) -> int {
    if n == 0 {
        return 0;
    }
    // A local read after the call: a real call, not a loop (see `tail` in the JIT).
    let r = down(n - 1);
    return r + 1;
}
fn main() {
    println(down(60000));
}
";

#[test]
fn compiled_recursion_traps_at_the_native_stack_limit_and_never_overflows_it() {
    // 100000 frames allowed, but only 900 KiB of native stack: the interpreter (which
    // keeps guest frames off the native stack) finishes; compiled code, whose calls
    // recurse natively, traps with `stack overflow` when its native stack runs out (at a
    // smaller depth) instead of overflowing it, in both compiled modes.
    // The VM runs on a thread whose stack is the limit plus 100 KiB: compiled code that
    // overran the limit by more would crash the test (a frame takes about 64 bytes, so
    // 60000 of them would need 3.8 MiB).
    const LIMIT: usize = 900 << 10;
    std::thread::Builder::new()
        .stack_size(LIMIT + (100 << 10))
        .spawn(run_deep)
        .expect("thread")
        .join()
        .expect("no panic");
}

fn run_deep() {
    for mode in [JitMode::Off, JitMode::Always, JitMode::Auto] {
        let mut cfg = config(mode);
        cfg.max_call_depth = 100_000;
        cfg.native_stack = 900 << 10;
        cfg.jit.threshold = 50;
        let Ran { result, out, .. } = run_source(DEEP, cfg);
        match mode {
            JitMode::Off => {
                assert!(result.is_ok(), "{result:?}");
                assert_eq!(out, "60000\n");
            }
            _ => {
                let trap = result.expect_err("the native stack runs out");
                let text = trap.to_string();
                assert!(
                    text.contains("stack overflow (call depth limit 100000)"),
                    "{mode:?}: {text}"
                );
            }
        }
    }
}

#[test]
fn a_function_whose_native_frame_is_too_large_runs_interpreted() {
    // 400 floats live across a call: Cranelift keeps them in ~3 KiB of spill slots, more
    // than `MAX_NATIVE_FRAME`. The tier refuses the function (it runs interpreted, with
    // the same output); the small one it calls is compiled.
    let n = 400;
    // (`one` loops, so it is called, not inlined: its results stay in spill slots.)
    let mut src = String::from(
        "fn one(k: int) -> float {\n    var i = 0;\n    while i < 1 {\n        i += 1;\n    }\n    return float(k);\n}\nfn big() -> float {\n",
    );
    for i in 0..n {
        src += &format!("    let x{i} = one({i}) * 1.5;\n");
    }
    src += "    var r = one(7);\n";
    for i in 0..n {
        src += &format!("    r += x{i};\n");
    }
    src += "    return r;\n}\nfn main() {\n    println(big());\n}\n";
    let reference = run_source(&src, config(JitMode::Off));
    reference.result.expect("runs interpreted");
    let Ran {
        result, out, stats, ..
    } = run_source(&src, config(JitMode::Always));
    result.expect("runs");
    assert_eq!(out, reference.out);
    assert_eq!(stats.failed, 1, "{stats:?}");
    assert!(stats.compiled >= 2, "{stats:?}");
}

#[test]
fn compiled_calls_reach_the_value_stack_limit_where_the_interpreter_does() {
    // Compiled calls check one frame count, which counts the value stack in frames of the
    // module's largest function (`wide`, 300 locals): far fewer than `down`'s frames that
    // fit. Past that count the runtime makes the exact check and grows the stack, so the
    // tiers agree on the output and on where the value stack (small, from a 1 MiB heap
    // limit) overflows, with the same trace.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(run_to_the_value_stack_limit)
        .expect("thread")
        .join()
        .expect("no panic");
}

fn run_to_the_value_stack_limit() {
    let mut src = String::from("fn wide(k: int) -> int {\n    var s = k;\n");
    for i in 0..300 {
        src += &format!("    let x{i} = s + {i};\n    s = x{i} % 1000;\n");
    }
    src += "    return s;\n}\n";
    src += "fn down(n: int, a: int, b: int) -> int {\n    if n == 0 {\n        return wide(a);\n    }\n\
            \x20   let x = a + b;\n    let y = a * b;\n    let r = down(n - 1, x % 7, y % 11);\n    return r + 1;\n}\n\
            fn main() {\n    println(down(3000, 1, 2));\n    println(down(1000000, 1, 2));\n}\n";
    let run = |mode| {
        let mut cfg = config(mode);
        cfg.max_call_depth = 10_000_000;
        cfg.native_stack = 48 << 20;
        cfg.jit.threshold = 2;
        cfg.limits = Limits {
            max_heap: 1 << 20,
            ..Limits::default()
        };
        let Ran { result, out, .. } = run_source(&src, cfg);
        (out, result.map_err(|t| t.to_string()))
    };
    let off = run(JitMode::Off);
    let trap = off.1.as_ref().expect_err("the value stack runs out");
    assert!(trap.starts_with("runtime error: stack overflow"), "{trap}");
    assert!(off.0.ends_with("\n"), "{off:?}");
    assert_eq!(off, run(JitMode::Always), "off vs always");
    assert_eq!(off, run(JitMode::Auto), "off vs auto");
}
