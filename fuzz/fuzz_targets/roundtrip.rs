//! Structured modules (from `arbitrary` bytes) → encode → decode → equal; and the same
//! modules through the verifier, and the interpreter when they verify and terminate.

#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use rvm_fuzz::{LimitedAlloc, module, support};
use rvm_vm::format::{decode, encode};

#[global_allocator]
static ALLOC: LimitedAlloc = LimitedAlloc::new();

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(m) = module(&mut u) else {
        return;
    };
    let bytes = encode(&m);
    let back = decode(&bytes).expect("an encoded module decodes");
    assert_eq!(back, m, "decode(encode(m)) != m");
    assert_eq!(encode(&back), bytes, "encoding is not canonical");
    if let Ok(verified) = rvm_vm::verifier::verify(m) {
        let _ = support::run(&verified);
    }
});
