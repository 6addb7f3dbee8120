//! Bytes → decode → verify → run what verifies under fuel, heap and time limits (see
//! `tests/hostile/support.rs`), the limited allocator and a small call-depth limit.
//! Nothing may panic, abort, hang or allocate without bound.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rvm_fuzz::{LimitedAlloc, support};

#[global_allocator]
static ALLOC: LimitedAlloc = LimitedAlloc::new();

fuzz_target!(|bytes: &[u8]| {
    let Ok(module) = rvm_vm::format::decode(bytes) else {
        return;
    };
    let Ok(verified) = rvm_vm::verifier::verify(module) else {
        return;
    };
    let _ = support::run(&verified);
});
