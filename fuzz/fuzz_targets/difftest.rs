//! Differential fuzzing of the execution tiers: the input bytes drive the random program
//! generator of `tests/difftest/` (the first choices read the bytes, two per choice; a PRNG
//! seeded with the input's hash makes the rest, so short inputs give full programs), and
//! the program must compile, verify and behave identically under `--jit=off`, `always`,
//! `auto`, and `always` and `auto` with GC stress (see `tests/difftest/harness.rs`).
//! libFuzzer's coverage feedback then steers the choices towards new paths in the compiler,
//! the verifier, the interpreter and the JIT. A failure panics with the program's source;
//! the crashing input is kept by `fuzz/run.sh` in `tests/fuzz-regressions/difftest/`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use harness::Config;
use rvm::JitMode;
use rvm_fuzz::LimitedAlloc;

#[global_allocator]
static ALLOC: LimitedAlloc = LimitedAlloc::new();

#[path = "../../tests/difftest/gen.rs"]
#[allow(dead_code)]
mod r#gen;
#[path = "../../tests/difftest/harness.rs"]
#[allow(dead_code)]
mod harness;

/// Fewer runs than `cargo test`'s (`harness::CONFIGS`): Cranelift instrumented with
/// AddressSanitizer and coverage compiles slowly, so `always` runs once, with GC stress.
const CONFIGS: [Config; 4] = [
    Config {
        jit: JitMode::Off,
        gc_stress: false,
        fuel: None,
    },
    Config {
        jit: JitMode::Auto,
        gc_stress: false,
        fuel: None,
    },
    Config {
        jit: JitMode::Always,
        gc_stress: true,
        fuel: None,
    },
    Config {
        jit: JitMode::Auto,
        gc_stress: true,
        fuel: None,
    },
];
const STARVED: [JitMode; 2] = [JitMode::Off, JitMode::Auto];

fuzz_target!(|bytes: &[u8]| {
    let src = r#gen::generate_from_bytes(bytes, r#gen::Limits::small());
    // Also stop it early with a little fuel (varying with the input): every tier must stop
    // at the same point.
    let fuel = 100 + bytes.iter().map(|&b| u64::from(b)).sum::<u64>() % 4000;
    if let Err(failure) = harness::check_with(&src, &CONFIGS, &STARVED, Some(fuel)) {
        panic!("{failure}\n--- program ---\n{src}");
    }
});
