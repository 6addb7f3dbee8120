//! rvm's virtual machine: the `.bc` format, the verifier, the interpreter, the heap and its
//! garbage collector.
//!
//! The pipeline is `format::decode` → `verifier::verify` → `interpreter`. Only a
//! `VerifiedModule` can be run, so the VM never executes unverified code.

pub mod float;
pub mod format;
pub mod heap;
pub mod host;
pub mod interpreter;
pub mod natives;
pub mod runtime;
pub mod sandbox;
pub mod tier;
pub mod trap;
pub mod value_fmt;
pub mod verified;
pub mod verifier;
