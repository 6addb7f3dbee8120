//! Polls only where something can stop the guest (`tier::Runtime::polls`): a VM with no
//! fuel limit, no timeout and no interrupt handle runs compiled code without fuel checks;
//! one with any of them polls at every call and back edge, and a VM that gets a handle or a
//! fuel limit after compiling drops the code without polls at its next entry.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rvm::vm::interpreter::{CallOutcome, JitStats, SharedBuffer, Vm, VmConfig};
use rvm::vm::sandbox::Limits;
use rvm::vm::tier::{JitConfig, JitMode};
use rvm::vm::verified::VerifiedModule;

const SPIN: &str = "
fn step(s: int, i: int) -> int {
    return (s * 31 + i) % 1000003;
}
fn spin(n: int) -> int {
    var s = 0;
    for i in 0..n {
        s = step(s, i);
    }
    return s;
}
fn main() {
    println(spin(1000));
}
";

fn module(src: &str) -> Arc<VerifiedModule> {
    let compiled = rvm::compile_source("t.src", src).expect("compiles");
    Arc::new(rvm::verify(compiled.module).expect("verifies"))
}

fn vm(m: &Arc<VerifiedModule>, mode: JitMode, limits: Limits) -> Vm<'static> {
    let config = VmConfig {
        jit: JitConfig {
            mode,
            threshold: 50,
            compiler: Some(Arc::new(rvm_jit::CraneliftTier)),
            trace: false,
            background: false,
        },
        limits,
        ..VmConfig::default()
    };
    let out = SharedBuffer::new();
    Vm::new(Arc::clone(m), config, Box::new(out.clone()), Box::new(out)).expect("vm")
}

fn spin(vm: &mut Vm<'_>, n: u64) -> Result<u64, String> {
    match vm.call_export("spin", &[n]) {
        Ok(CallOutcome::Return(Some(v))) => Ok(v),
        Ok(other) => Err(format!("{other:?}")),
        Err(t) => Err(t.to_string()),
    }
}

fn polled(stats: JitStats) -> bool {
    stats.fuel_checks > 0
}

#[test]
fn nothing_to_stop_the_guest_means_no_fuel_checks() {
    let m = module(SPIN);
    for mode in [JitMode::Always, JitMode::Auto] {
        let mut free = vm(&m, mode, Limits::default());
        let expected = spin(&mut free, 100_000).expect("runs");
        let stats = free.jit_stats();
        assert!(stats.compiled >= 1, "{mode:?}: {stats:?}");
        assert!(!polled(stats), "{mode:?}: {stats:?}");

        for limits in [
            Limits {
                fuel: Some(1 << 40),
                ..Limits::default()
            },
            Limits {
                timeout: Some(std::time::Duration::from_secs(3600)),
                ..Limits::default()
            },
        ] {
            let mut limited = vm(&m, mode, limits);
            assert_eq!(spin(&mut limited, 100_000), Ok(expected));
            assert!(
                polled(limited.jit_stats()),
                "{mode:?}: {:?}",
                limited.jit_stats()
            );
        }
    }
}

#[test]
fn an_interrupt_handle_taken_after_compiling_still_stops_compiled_code() {
    let m = module(SPIN);
    for mode in [JitMode::Always, JitMode::Auto] {
        let mut vm = vm(&m, mode, Limits::default());
        spin(&mut vm, 100_000).expect("runs");
        let before = vm.jit_stats();
        assert!(
            !polled(before) && before.compiled >= 1,
            "{mode:?}: {before:?}"
        );

        // Set before the call, the flag stops the loop at its first poll; code that does
        // not poll would run all 10^7 iterations and return.
        let flag = vm.interrupt_handle();
        flag.store(true, Ordering::Relaxed);
        let r = spin(&mut vm, 10_000_000);
        assert!(
            r.as_ref()
                .is_err_and(|e| e.starts_with("runtime error: timeout")),
            "{mode:?}: {r:?}"
        );
        let after = vm.jit_stats();
        assert!(polled(after), "{mode:?}: {after:?}");
        assert!(
            after.compiled > before.compiled,
            "{mode:?}: recompiled: {after:?}"
        );
        // The flag is consumed by the trap; the VM goes on, polling.
        assert!(spin(&mut vm, 1000).is_ok());
    }
}

#[test]
fn fuel_set_after_compiling_runs_out_where_the_interpreter_does() {
    let m = module(SPIN);
    let mut results = Vec::new();
    for mode in [JitMode::Off, JitMode::Always, JitMode::Auto] {
        let mut vm = vm(&m, mode, Limits::default());
        let full = spin(&mut vm, 100_000).expect("runs");
        vm.set_fuel(Some(123_457));
        let trapped = spin(&mut vm, 10_000_000);
        let left = vm.fuel_remaining();
        vm.set_fuel(Some(1 << 40));
        let again = spin(&mut vm, 100_000);
        results.push((full, trapped, left, again));
        if mode != JitMode::Off {
            assert!(polled(vm.jit_stats()), "{mode:?}: {:?}", vm.jit_stats());
        }
    }
    let trapped = &results[0].1;
    assert!(
        trapped
            .as_ref()
            .is_err_and(|e| e.starts_with("runtime error: out of fuel")),
        "{trapped:?}"
    );
    assert_eq!(results[0].2, Some(0));
    assert_eq!(results[0], results[1], "always");
    assert_eq!(results[0], results[2], "auto");
}

/// `--trace-jit` says when code has no fuel checks, and when it gets them.
#[test]
fn the_trace_says_whether_code_checks_fuel() {
    let m = module(SPIN);
    let traced = |limits: Limits| {
        let err = SharedBuffer::new();
        let config = VmConfig {
            jit: JitConfig {
                mode: JitMode::Always,
                compiler: Some(Arc::new(rvm_jit::CraneliftTier)),
                trace: true,
                ..JitConfig::default()
            },
            limits,
            ..VmConfig::default()
        };
        let vm = Vm::new(
            Arc::clone(&m),
            config,
            Box::new(SharedBuffer::new()),
            Box::new(err.clone()),
        )
        .expect("vm");
        (vm, err)
    };
    let tier = format!("jit: tier cranelift {}", std::env::consts::ARCH);

    let (mut vm, err) = traced(Limits::default());
    spin(&mut vm, 1000).expect("runs");
    let first = err.contents();
    assert_eq!(
        first.lines().next(),
        Some(format!("{tier}, no fuel checks (no limit or interrupt handle)").as_str()),
        "{first}"
    );
    let _flag = vm.interrupt_handle();
    spin(&mut vm, 1000).expect("runs");
    let compiled = first
        .lines()
        .filter(|l| l.starts_with("jit: compiled "))
        .count();
    let switch = format!(
        "jit: fuel checks from now on (a limit or an interrupt handle appeared); \
         {compiled} compiled functions dropped"
    );
    let all = err.contents();
    assert!(all.lines().any(|l| l == switch), "{switch}\n{all}");

    let (_vm, err) = traced(Limits {
        fuel: Some(1 << 40),
        ..Limits::default()
    });
    assert_eq!(err.contents().lines().next(), Some(tier.as_str()));
}
