//! Shared by the hostile-input tests (`tests/hostile_*.rs`) and the fuzz targets (`fuzz/`):
//! how to run a module that came from untrusted bytes without risking a hang.
//!
//! The interpreter has no instruction budget (fuel) yet, so a verified module is run only
//! when it provably terminates quickly: no function contains a backward jump or a call
//! (`call`, `call.ref`, `arr.sort_by`, whose comparator is guest code), so every function
//! runs each instruction at most once. Such a module is still run for real: every
//! instruction it contains executes on the interpreter, with the traps, the heap and the
//! collector. When fuel exists this filter should go and every verified module should run
//! under a small budget.

#![allow(dead_code)]

use rvm_vm::format::Instr;
use rvm_vm::interpreter::{Vm, VmConfig};
use rvm_vm::trap::Trap;
use rvm_vm::verified::VerifiedModule;

/// The most instructions a straight-line module may have to be run (bounds the time).
pub const MAX_RUN_INSTRS: usize = 4096;

/// True when every function runs each instruction at most once: no backward (or
/// self-) jumps and nothing that calls guest code.
pub fn terminates(v: &VerifiedModule) -> bool {
    let mut total = 0;
    for f in &v.functions {
        total += f.code.len();
        for (pc, ins) in f.code.iter().enumerate() {
            match *ins {
                Instr::Jmp { target } | Instr::JmpIf { target } | Instr::JmpIfNot { target }
                    if target as usize <= pc =>
                {
                    return false;
                }
                Instr::Call { .. } | Instr::CallRef { .. } | Instr::ArrSortBy {} => return false,
                _ => {}
            }
        }
    }
    total <= MAX_RUN_INSTRS
}

/// True when every integer constant is small, so that `arr.fill`, `s.repeat` and friends
/// cannot be asked for gigabytes by a constant alone (used where no allocation limit is
/// installed, i.e. in `cargo test`).
pub fn small_constants(v: &VerifiedModule, limit: i64) -> bool {
    v.functions.iter().all(|f| {
        f.code.iter().all(|ins| match *ins {
            Instr::IConst { value } => (-limit..=limit).contains(&value),
            _ => true,
        })
    })
}

/// Runs `$init` and `main` with output discarded and a small call-depth limit.
pub fn run(v: &VerifiedModule) -> Result<i32, Trap> {
    let config = VmConfig {
        max_call_depth: 64,
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
