//! The embedding API: run rvm modules as sandboxed scripts inside a Rust application.
//!
//! The shape is Wasmtime's (engine → module → instance) with Rhai's conveniences (typed
//! calls, closures as host functions, `eval`):
//! - [`Engine`]: configuration (JIT mode, default limits), shared by everything below;
//! - [`Module`]: verified bytecode, compiled from source or loaded from `.bc` bytes;
//! - [`Sandbox`]: an instance with its own globals, heap, grants, limits and host
//!   functions ([`HostFunctions`]), cheap enough to create per request;
//! - [`TypedFunc`]: an export resolved once and called without lookups;
//! - [`Error`]: compile errors with positions, verification errors, link errors, traps
//!   with the guest stack trace, and one variant per limit.
//!
//! Guest code declares the host functions it calls with `extern fn ns.name(...) -> T;`
//! (see `spec/language.md`), and linking checks each against the closure registered under
//! that name.

mod engine;
mod error;
mod host;
mod module;
mod sandbox;
mod value;

pub use engine::{Engine, EngineConfig};
pub use error::{CallError, CompileError, CompileMessage, Error, LinkError};
pub use host::{HostFail, HostFunctions, HostResult, IntoHostFunc};
pub use module::Module;
pub use sandbox::{Params, Sandbox, SandboxBuilder, SandboxLimits, TypedFunc};
pub use value::{ConvError, FromGuest, GuestType, IntoGuest, ValType, Value};
