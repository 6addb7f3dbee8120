//! rvm's virtual machine: the `.bc` format, the verifier, the interpreter, the heap and its
//! garbage collector.
//!
//! The pipeline is `format::decode` → `verifier::verify` → `interpreter`. Only a
//! `VerifiedModule` can be run, so the VM never executes unverified code.

pub mod format;
pub mod host;
pub mod natives;
pub mod verified;
pub mod verifier;
