//! Running a module in every JIT mode and comparing the runs (shared by the JIT's
//! integration tests).

// Each test crate that includes this uses a part of it.
#![allow(dead_code)]

use std::sync::Arc;

use rvm::vm::interpreter::{JitStats, SharedBuffer, Vm, VmConfig};
use rvm::vm::tier::{JitConfig, JitMode};
use rvm::vm::verified::VerifiedModule;

/// A configuration for `mode` with the Cranelift tier and call threshold `threshold`.
pub fn config(mode: JitMode, threshold: u32) -> VmConfig {
    VmConfig {
        jit: JitConfig {
            mode,
            threshold,
            compiler: Some(Arc::new(rvm_jit::CraneliftTier)),
            ..JitConfig::default()
        },
        ..VmConfig::default()
    }
}

/// Runs `module` in `mode`: (exit code or trap message, stdout, stderr, JIT statistics).
pub fn run(
    module: &VerifiedModule,
    mode: JitMode,
    threshold: u32,
) -> (String, String, String, JitStats) {
    run_with(module, config(mode, threshold))
}

/// [`run`] with a whole configuration.
pub fn run_with(module: &VerifiedModule, cfg: VmConfig) -> (String, String, String, JitStats) {
    let out = SharedBuffer::new();
    let err = SharedBuffer::new();
    let mut vm = Vm::new(module, cfg, Box::new(out.clone()), Box::new(err.clone())).expect("vm");
    let result = match vm.run_main() {
        Ok(code) => format!("exit {code}"),
        Err(t) => format!("trap {t}"),
    };
    (result, out.contents(), err.contents(), vm.jit_stats())
}

/// Runs `module` interpreted, compiled up front and tiered (threshold `threshold`); all
/// three must agree. Returns the statistics of the `always` run and of the `auto` run.
pub fn agree(module: &VerifiedModule, threshold: u32) -> (JitStats, JitStats) {
    let (r0, o0, e0, _) = run(module, JitMode::Off, threshold);
    let (r1, o1, e1, always) = run(module, JitMode::Always, threshold);
    let (r2, o2, e2, auto) = run(module, JitMode::Auto, threshold);
    assert_eq!((&r0, &o0, &e0), (&r1, &o1, &e1), "always differs");
    assert_eq!((&r0, &o0, &e0), (&r2, &o2, &e2), "auto differs");
    assert_eq!(always.failed + auto.failed, 0, "a function fell back");
    (always, auto)
}

/// Runs `module` interpreted, compiled up front and tiered (threshold 50), each with the
/// configuration `tune` makes; all three must agree on the result, the output and the
/// errors. Returns each mode with its result and statistics.
pub fn agree_with(
    module: &VerifiedModule,
    tune: impl Fn(&mut VmConfig),
) -> Vec<(JitMode, String, JitStats)> {
    let mut runs = Vec::new();
    let mut first = None;
    for mode in [JitMode::Off, JitMode::Always, JitMode::Auto] {
        let mut cfg = config(mode, 50);
        tune(&mut cfg);
        let (r, out, err, stats) = run_with(module, cfg);
        let seen = (r.clone(), out, err);
        assert_eq!(
            first.get_or_insert_with(|| seen.clone()),
            &seen,
            "{mode:?} differs"
        );
        runs.push((mode, r, stats));
    }
    runs
}

pub fn source(name: &str, src: &str) -> VerifiedModule {
    let compiled = rvm::compile_source(name, src).expect("compiles");
    rvm::verify(compiled.module).expect("verifies")
}
