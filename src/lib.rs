//! rvm: compile, verify and run rvm programs, from the command line or embedded in a Rust
//! program.
//!
//! This crate is the one dependency an embedder needs. It re-exports the parts
//! ([`compiler`] and [`vm`]) and offers the few calls that cover the common path:
//!
//! ```no_run
//! let compiled = rvm::compile_file("examples/hello.src")?;
//! let verified = rvm::verify(compiled.module)?;
//! let status = rvm::run(verified.into(), &rvm::RunOptions::default())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Loading a `.bc` file goes through [`load_bytecode`], which decodes *and* verifies: there is
//! no way to run a module that the verifier has not accepted. The `rvm` and `rvmc` binaries
//! are thin wrappers over [`cli`], which is built on the same calls.
//!
//! A run is sandboxed: [`RunOptions::caps`] says what the guest may reach (nothing by
//! default; see [`vm::sandbox::Grants`] and [`vm::sandbox::Capabilities::open`]) and
//! [`RunOptions::limits`] bounds its fuel, time and heap.
#![deny(missing_docs)]

pub mod cli;
mod embed;

pub use embed::{
    CallError, CompileError, CompileMessage, ConvError, Engine, EngineConfig, Error, FromGuest,
    GuestType, HostFail, HostFunctions, HostResult, IntoGuest, IntoHostFunc, LinkError, Module,
    Params, Sandbox, SandboxBuilder, SandboxLimits, TypedFunc, ValType, Value,
};

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

pub use rvm_compiler as compiler;
pub use rvm_vm as vm;

pub use rvm_compiler::{CompileFailure, Compiled};
pub use rvm_vm::trap::{Trap, TrapKind};
pub use rvm_vm::verifier::VerifyError;

use rvm_vm::format::DecodeError;
use rvm_vm::interpreter::{Vm, VmConfig};
use rvm_vm::sandbox::{Capabilities, Limits};
use rvm_vm::tier::{JitConfig, JitMode as TierMode};
use rvm_vm::verified::VerifiedModule;

/// Compiles the source file at `path`, following its imports, into a bytecode module.
///
/// The module is not verified yet; pass it to [`verify`] before running it. The error holds
/// every diagnostic found, renderable with
/// [`Diagnostics::render`](compiler::diagnostics::Diagnostics::render).
pub fn compile_file(path: impl AsRef<Path>) -> Result<Compiled, CompileFailure> {
    rvm_compiler::compile_path(path.as_ref())
}

/// Compiles source text held in memory. `name` is the file name shown in diagnostics and
/// where relative imports start from (they are read from the file system).
pub fn compile_source(name: &str, text: &str) -> Result<Compiled, CompileFailure> {
    rvm_compiler::compile_source(name, text, &rvm_compiler::program::FsLoader)
}

/// Why bytes could not be turned into a runnable module.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a well-formed `.bc` file.
    #[error("{0}")]
    Decode(#[from] DecodeError),
    /// The module is well-formed but the verifier refused it.
    #[error("{0}")]
    Verify(#[from] VerifyError),
}

/// Decodes and verifies a `.bc` file's bytes: the only way from bytes to a runnable module.
pub fn load_bytecode(bytes: &[u8]) -> Result<VerifiedModule, LoadError> {
    let module = rvm_vm::format::decode(bytes)?;
    Ok(rvm_vm::verifier::verify(module)?)
}

/// Verifies a module (for example one just compiled), so that it can be run.
pub fn verify(module: vm::format::Module) -> Result<VerifiedModule, VerifyError> {
    rvm_vm::verifier::verify(module)
}

/// Which execution tiers a run may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JitMode {
    /// Interpret only.
    Off,
    /// Interpret, and compile hot functions to native code.
    #[default]
    Auto,
    /// Compile every function before it first runs.
    Always,
}

impl JitMode {
    /// The mode's name as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            JitMode::Off => "off",
            JitMode::Auto => "auto",
            JitMode::Always => "always",
        }
    }
}

/// The default call depth limit.
pub const DEFAULT_MAX_STACK: u32 = 10_000;

/// How to run a program.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The program's arguments, as `os.args()` returns them.
    pub args: Vec<String>,
    /// The execution tiers to use.
    pub jit: JitMode,
    /// Calls plus loop back-edges of a function before `JitMode::Auto` compiles it.
    pub jit_threshold: u32,
    /// Print each JIT compilation and its time to standard error (`--trace-jit`, or the
    /// environment variable `RVM_LOG=jit`).
    pub trace_jit: bool,
    /// In `JitMode::Auto`, compile on a background thread while the interpreter goes on
    /// (the default; `--jit-sync` turns it off, pausing the program for each compilation
    /// so that which functions get compiled, and when, is the same in every run).
    pub jit_background: bool,
    /// The call depth limit; deeper calls trap with a stack overflow.
    pub max_stack: u32,
    /// Collect garbage at every allocation (a debugging aid for the collector).
    pub gc_stress: bool,
    /// What the guest may reach outside itself (default: nothing).
    pub caps: Arc<Capabilities>,
    /// Fuel, wall-clock time and heap size.
    pub limits: Limits,
    /// The seed of `random` (`None`: from the operating system).
    pub seed: Option<u64>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            args: Vec::new(),
            jit: JitMode::default(),
            jit_threshold: rvm_vm::tier::DEFAULT_JIT_THRESHOLD,
            trace_jit: false,
            jit_background: true,
            max_stack: DEFAULT_MAX_STACK,
            gc_stress: false,
            caps: Arc::new(Capabilities::default()),
            limits: Limits::default(),
            seed: None,
        }
    }
}

/// Runs a verified module with the process's standard output and error: its global
/// initialiser, then `main`. Returns the exit status: `main`'s result when it returns an
/// `int`, the code given to `os.exit`, or 0. A trap's exit code is [`Trap::exit_code`].
pub fn run(module: Arc<VerifiedModule>, options: &RunOptions) -> Result<u8, Trap> {
    run_with_output(
        module,
        options,
        Box::new(std::io::stdout()),
        Box::new(std::io::stderr()),
    )
}

/// Like [`run`], writing the program's output to the given streams (for example to capture
/// it in memory with [`vm::interpreter::SharedBuffer`]).
pub fn run_with_output(
    module: Arc<VerifiedModule>,
    options: &RunOptions,
    stdout: Box<dyn Write + Send>,
    stderr: Box<dyn Write + Send>,
) -> Result<u8, Trap> {
    let trace = options.trace_jit
        || std::env::var("RVM_LOG").is_ok_and(|v| v.split(',').any(|p| p.trim() == "jit"));
    let mut jit = jit_config(options.jit, options.jit_threshold, trace);
    jit.background = options.jit_background;
    let mode = jit.mode;
    let config = VmConfig {
        max_call_depth: options.max_stack as usize,
        gc_stress: options.gc_stress,
        args: options.args.clone(),
        caps: Arc::clone(&options.caps),
        limits: options.limits.clone(),
        seed: options.seed,
        jit,
        native_stack: GUEST_NATIVE_STACK,
        ..VmConfig::default()
    };
    let run = move || -> Result<u8, Trap> {
        let mut vm = Vm::new(module, config, stdout, stderr)?;
        let code = vm.run_main()?;
        // The VM guarantees 0..=255 (anything else is a trap); clamp rather than trust
        // blindly.
        Ok(u8::try_from(code).unwrap_or(u8::MAX))
    };
    if mode == TierMode::Off {
        return run();
    }
    // Compiled guest calls recurse on the native stack: run the guest on a thread whose
    // stack leaves room for `GUEST_NATIVE_STACK` (the VM traps with `stack overflow` before
    // compiled code would use more; only touched pages are ever committed).
    std::thread::Builder::new()
        .name("rvm-guest".into())
        .stack_size(GUEST_NATIVE_STACK + (16 << 20))
        .spawn(run)
        .map_err(|_| {
            Trap::new(TrapKind::Internal {
                what: "cannot start the guest thread",
            })
        })?
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The VM's tier configuration for a JIT mode: the Cranelift tier, the threshold, and
/// whether to trace compilations. The one place both the command line (per run) and an
/// embedding [`Engine`] (once, shared by its sandboxes) get their tier from.
pub(crate) fn jit_config(mode: JitMode, threshold: u32, trace: bool) -> JitConfig {
    let mode = match mode {
        JitMode::Off => TierMode::Off,
        JitMode::Auto => TierMode::Auto,
        JitMode::Always => TierMode::Always,
    };
    JitConfig {
        mode,
        threshold,
        compiler: (mode != TierMode::Off).then(|| Arc::new(rvm_jit::CraneliftTier) as _),
        trace,
        background: false,
    }
}

/// Native stack the guest's compiled code may use (see [`VmConfig::native_stack`]).
const GUEST_NATIVE_STACK: usize = 256 << 20;
