//! Background compilation (`JitConfig::background`, the command line's default in
//! `--jit=auto`): the interpreter goes on while a thread compiles, and switches to the
//! machine code at a later call or back-edge. Whenever the switch happens, the run must be
//! the interpreter's; a VM dropped with compilations in flight, and a compiler that
//! panics on its thread, must leave the program running correctly.

use std::sync::Arc;
use std::time::Duration;

use rvm::vm::interpreter::{CallOutcome, JitStats, SharedBuffer, Vm, VmConfig};
use rvm::vm::tier::{Compiled, JitConfig, JitMode, Runtime, Tier, TierSession};
use rvm::vm::verified::VerifiedModule;

fn module(src: &str) -> Arc<VerifiedModule> {
    let compiled = rvm::compile_source("t.src", src).expect("compiles");
    Arc::new(rvm::verify(compiled.module).expect("verifies"))
}

fn config(mode: JitMode, compiler: Arc<dyn Tier>, background: bool) -> VmConfig {
    VmConfig {
        jit: JitConfig {
            mode,
            threshold: 100,
            compiler: Some(compiler),
            trace: true,
            background,
        },
        ..VmConfig::default()
    }
}

/// Runs `main` of a shared module: (result, stdout, stderr, statistics).
fn run(module: &Arc<VerifiedModule>, cfg: VmConfig) -> (String, String, String, JitStats) {
    let (out, err) = (SharedBuffer::new(), SharedBuffer::new());
    let mut vm = Vm::new(
        Arc::clone(module),
        cfg,
        Box::new(out.clone()),
        Box::new(err.clone()),
    )
    .expect("vm");
    let result = match vm.run_main() {
        Ok(code) => format!("exit {code}"),
        Err(t) => format!("trap {t}"),
    };
    (result, out.contents(), err.contents(), vm.jit_stats())
}

fn cranelift() -> Arc<dyn Tier> {
    Arc::new(rvm_jit::CraneliftTier)
}

/// A loop far longer, interpreted, than compiling `main` takes, calling a function that
/// gets hot too; it prints on the way, so a tier switch that repeated or skipped work
/// would show.
const LONG_RUN: &str = "
fn step(s: int, i: int) -> int {
    return (s + i * 7) % 1000003;
}
fn main() {
    var s = 0;
    var i = 0;
    while i < 3000000 {
        s = step(s, i);
        if i % 500000 == 0 {
            println(s);
        }
        i = i + 1;
    }
    println(s);
}
";

#[test]
fn a_running_loop_switches_to_code_compiled_in_the_background() {
    let m = module(LONG_RUN);
    let (r0, o0, e0, _) = run(&m, config(JitMode::Off, cranelift(), false));
    let (r1, o1, e1, stats) = run(&m, config(JitMode::Auto, cranelift(), true));
    assert_eq!((&r0, &o0), (&r1, &o1));
    assert_eq!(e0, "");
    // The loop runs for hundreds of milliseconds interpreted; compiling `main` takes a few.
    assert_eq!(stats.osr_entries, 1, "{stats:?}\n{e1}");
    assert!(
        e1.contains("jit: compiled main for on-stack replacement ("),
        "{e1}"
    );
    assert_eq!(stats.failed, 0, "{stats:?}");
}

/// The same program compiled synchronously: the tiers switch at the same points in every
/// run, so the trace (but for the times) and the statistics are the same.
#[test]
fn synchronous_compilation_switches_at_the_threshold() {
    let m = module(LONG_RUN);
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (r, out, err, stats) = run(&m, config(JitMode::Auto, cranelift(), false));
            let trace: Vec<String> = err
                .lines()
                .map(|l| l.split(" in ").next().unwrap_or(l).to_string())
                .collect();
            (r, out, trace, (stats.compiled, stats.osr_entries))
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(
        runs[0].2,
        [
            "jit: tier cranelift x86_64, no fuel checks (no limit or interrupt handle)"
                .replace("x86_64", std::env::consts::ARCH),
            "jit: compiled main for on-stack replacement (33 instructions, 1 call inlined)".into()
        ]
    );
    assert_eq!(runs[0].3, (1, 1));
}

/// Many functions, each hot after a few calls, in a program that ends soon after: most
/// compilations are still in flight when the VM is dropped.
const SHORT_RUN: &str = "
fn a(x: int) -> int { return x + 1; }
fn b(x: int) -> int { return a(x) * 2; }
fn c(x: int) -> int { return b(x) - a(x); }
fn d(x: int) -> int { return c(x) + b(x); }
fn main() {
    var s = 0;
    for i in 0..300 {
        s = s + d(i) + c(i);
    }
    println(s);
}
";

#[test]
fn a_vm_dropped_with_compilations_in_flight_is_safe() {
    let m = module(SHORT_RUN);
    let (r0, o0, _, _) = run(&m, config(JitMode::Off, cranelift(), false));
    for _ in 0..20 {
        let mut cfg = config(JitMode::Auto, cranelift(), true);
        cfg.jit.threshold = 5;
        let (r, o, _, _) = run(&m, cfg);
        assert_eq!((&r0, &o0), (&r, &o));
    }
}

/// A tier whose compilations take long (the program always ends first) or panic.
#[derive(Debug)]
struct Odd {
    panic: bool,
}

#[derive(Debug)]
struct OddSession {
    inner: Box<dyn TierSession>,
    panic: bool,
}

impl Tier for Odd {
    fn session(&self, module: &VerifiedModule) -> Result<Box<dyn TierSession>, String> {
        Ok(Box::new(OddSession {
            inner: rvm_jit::CraneliftTier.session(module)?,
            panic: self.panic,
        }))
    }
}

impl TierSession for OddSession {
    fn target(&self) -> String {
        self.inner.target()
    }

    fn compile(
        &mut self,
        module: &VerifiedModule,
        func: u32,
        rt: &Runtime,
        osr: bool,
    ) -> Result<Compiled, String> {
        if self.panic {
            panic!("a compiler bug (on purpose)");
        }
        std::thread::sleep(Duration::from_millis(300));
        self.inner.compile(module, func, rt, osr)
    }
}

/// Runs `src` with the `Odd` tier in the background; it must agree with the interpreter,
/// having compiled nothing.
fn with_odd_tier(src: &str, panic: bool) -> JitStats {
    let m = module(src);
    let (r0, o0, _, _) = run(&m, config(JitMode::Off, cranelift(), false));
    let (r, o, _, stats) = run(&m, config(JitMode::Auto, Arc::new(Odd { panic }), true));
    assert_eq!((&r0, &o0), (&r, &o));
    assert_eq!(stats.compiled, 0, "{stats:?}");
    stats
}

#[test]
fn a_slow_compiler_leaves_the_program_interpreted_meanwhile() {
    with_odd_tier(SHORT_RUN, false);
}

#[test]
fn a_compiler_that_panics_on_its_thread_leaves_the_program_interpreted() {
    let stats = with_odd_tier(LONG_RUN, true);
    // What was on the thread when it died is refused; nothing more is compiled.
    assert!(stats.failed >= 1, "{stats:?}");
}

#[test]
fn a_borrowed_module_compiles_synchronously() {
    let m = module(LONG_RUN);
    let (out, err) = (SharedBuffer::new(), SharedBuffer::new());
    let mut vm = Vm::new(
        &*m,
        config(JitMode::Auto, cranelift(), true),
        Box::new(out.clone()),
        Box::new(err.clone()),
    )
    .expect("vm");
    vm.run_main().expect("runs");
    let stats = vm.jit_stats();
    // The same tier switch as `synchronous_compilation_switches_at_the_threshold`.
    assert_eq!((stats.compiled, stats.osr_entries), (1, 1), "{stats:?}");
    assert!(
        err.contents()
            .contains("jit: compiled main for on-stack replacement")
    );
}

/// The command line compiles in the background by default; `--jit-sync` pauses instead.
#[test]
fn the_command_line_compiles_in_the_background_unless_told_otherwise() {
    let dir = std::env::temp_dir().join(format!("rvm-background-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("t.src");
    std::fs::write(&file, LONG_RUN).expect("write");
    let run = |flags: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rvm"))
            .args(["--jit=auto", "--jit-threshold=100", "--trace-jit"])
            .args(flags)
            .arg(&file)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{out:?}");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (sync_out, sync_err) = run(&["--jit-sync"]);
    let (bg_out, bg_err) = run(&[]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(sync_out, bg_out);
    for err in [&sync_err, &bg_err] {
        assert!(
            err.contains("jit: compiled main for on-stack replacement ("),
            "{err}"
        );
    }
}

/// A compilation queued before the VM had to poll (no limit, no interrupt handle) and
/// finished after it got an interrupt handle is dropped, not installed: code without fuel
/// checks would never see the flag (`tier::Runtime::polls`).
#[test]
fn code_queued_without_polls_is_dropped_once_a_handle_is_taken() {
    let m = module(
        "fn spin(n: int) -> int {\n    var s = 0;\n    for i in 0..n {\n        s = (s * 31 + i) % 1000003;\n    }\n    return s;\n}\nfn main() {}\n",
    );
    let mut cfg = config(JitMode::Auto, Arc::new(Odd { panic: false }), true);
    cfg.jit.trace = false;
    let mut vm = Vm::new(
        Arc::clone(&m),
        cfg,
        Box::new(SharedBuffer::new()),
        Box::new(SharedBuffer::new()),
    )
    .expect("vm");
    let spin = |vm: &mut Vm<'_>, n: u64| match vm.call_export("spin", &[n]) {
        Ok(CallOutcome::Return(Some(v))) => Ok(v),
        Ok(other) => Err(format!("{other:?}")),
        Err(t) => Err(t.to_string()),
    };
    // Hot: queued without polls; the compiler takes 300 ms.
    let expected = spin(&mut vm, 1000).expect("runs");
    let flag = vm.interrupt_handle();
    std::thread::sleep(Duration::from_millis(400));
    // This call finds the finished code and drops it, and queues the function again.
    assert_eq!(spin(&mut vm, 1000), Ok(expected));
    assert_eq!(vm.jit_stats().compiled, 0, "{:?}", vm.jit_stats());
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(spin(&mut vm, 1000), Ok(expected));
    let stats = vm.jit_stats();
    assert!(stats.compiled >= 1 && stats.fuel_checks > 0, "{stats:?}");
    flag.store(true, std::sync::atomic::Ordering::Relaxed);
    let r = spin(&mut vm, 10_000_000);
    assert!(
        r.as_ref()
            .is_err_and(|e| e.starts_with("runtime error: timeout")),
        "{r:?}"
    );
}
