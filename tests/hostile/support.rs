//! Shared by the hostile-input tests (`tests/hostile_*.rs`) and the fuzz targets (`fuzz/`):
//! how to run a module that came from untrusted bytes without risking a hang.
//!
//! Every verified module is run, under a small budget: fuel bounds the instructions executed
//! (charged at back-edges and calls), the heap limit bounds what it may allocate (strings,
//! arrays and maps are accounted where they are allocated, before the allocation), a
//! call-depth limit bounds recursion and a wall-clock timeout is the last backstop. A run
//! must end in a clean exit or a trap — never a panic, a hang or an unbounded allocation.

#![allow(dead_code)]

use std::time::Duration;

use rvm_vm::interpreter::{Vm, VmConfig};
use rvm_vm::sandbox::Limits;
use rvm_vm::trap::Trap;
use rvm_vm::verified::VerifiedModule;

/// Fuel for one run: enough for real loops, small enough to keep a campaign fast.
pub const RUN_FUEL: u64 = 50_000;

/// The heap one run may use.
pub const RUN_MAX_HEAP: usize = 8 << 20;

/// Runs `$init` and `main` with output discarded, under [`RUN_FUEL`], [`RUN_MAX_HEAP`], a
/// small call-depth limit and a timeout.
pub fn run(v: &VerifiedModule) -> Result<i32, Trap> {
    let config = VmConfig {
        max_call_depth: 64,
        limits: Limits {
            fuel: Some(RUN_FUEL),
            timeout: Some(Duration::from_secs(5)),
            max_heap: RUN_MAX_HEAP,
        },
        seed: Some(1),
        ..VmConfig::default()
    };
    let mut vm = Vm::new(
        v,
        config,
        Box::new(std::io::sink()),
        Box::new(std::io::sink()),
    )?;
    vm.run_main()
}
