//! rvm: compile, verify and run rvm programs, from the command line or embedded in a Rust
//! program.
//!
//! This crate is the one dependency an embedder needs. It re-exports the parts
//! ([`compiler`] and [`vm`]) and offers the few calls that cover the common path:
//!
//! ```no_run
//! let module = rvm::compile_file("examples/hello.src").map_err(|e| e.render_short())?;
//! let verified = rvm::verify(module)?;
//! let status = rvm::run(&verified, &rvm::RunOptions::default());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Loading a `.bc` file goes through [`load_bytecode`], which decodes *and* verifies: there is
//! no way to run a module that the verifier has not accepted. The `rvm` and `rvmc` binaries
//! are thin wrappers over [`cli`], which is built on the same calls.
//!
//! This is the first version of the embedding API; host functions, capabilities and
//! resource limits join it with the sandbox.
#![deny(missing_docs)]

pub mod cli;
mod engine;

use std::fmt;
use std::path::Path;

pub use rvm_compiler as compiler;
pub use rvm_vm as vm;

use rvm_vm::format::{DecodeError, Module};
use rvm_vm::verified::VerifiedModule;

pub use engine::{CompileError, VerifyError};

/// Compiles the source file at `path`, following its imports, into a bytecode module.
///
/// The module is not verified yet; pass it to [`verify`] before running it.
pub fn compile_file(path: impl AsRef<Path>) -> Result<Module, CompileError> {
    engine::compile_path(path.as_ref())
}

/// Compiles source text held in memory. `name` is the file name shown in diagnostics and
/// the base for resolving imports.
pub fn compile_source(name: &str, text: &str) -> Result<Module, CompileError> {
    engine::compile_source(name, text)
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

/// Decodes and verifies a `.bc` file's bytes.
pub fn load_bytecode(bytes: &[u8]) -> Result<VerifiedModule, LoadError> {
    let module = rvm_vm::format::decode(bytes)?;
    Ok(engine::verify(module)?)
}

/// Verifies a module (for example one just compiled), so that it can be run.
pub fn verify(module: Module) -> Result<VerifiedModule, VerifyError> {
    engine::verify(module)
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
    /// The execution tiers to use. (Until the JIT exists every mode interprets.)
    pub jit: JitMode,
    /// The call depth limit; deeper calls trap with a stack overflow.
    pub max_stack: u32,
    /// Collect garbage at every allocation (a debugging aid for the collector).
    pub gc_stress: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            args: Vec::new(),
            jit: JitMode::default(),
            max_stack: DEFAULT_MAX_STACK,
            gc_stress: false,
        }
    }
}

/// A runtime trap: what went wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    /// The message, e.g. `division by zero`.
    pub message: String,
    /// Whether the trap is a stack overflow (exit code 71 rather than 70).
    pub stack_overflow: bool,
    /// The call stack, innermost frame first.
    pub frames: Vec<Frame>,
}

/// One frame of a trap's stack trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The bytecode function's name (`main`, `Point.norm`, `$init`).
    pub function: String,
    /// The source position, when the module has line information for it.
    pub position: Option<Position>,
}

/// A position in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The file name as recorded by the compiler.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl fmt::Display for Trap {
    /// The trap report exactly as `rvm` prints it on standard error (without a final
    /// newline): `runtime error: MSG` then one `    at FUNCTION (FILE:LINE:COLUMN)` line per
    /// frame, innermost first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "runtime error: {}", self.message)?;
        for frame in &self.frames {
            match &frame.position {
                Some(p) => write!(
                    f,
                    "\n    at {} ({}:{}:{})",
                    frame.function, p.file, p.line, p.column
                )?,
                None => write!(f, "\n    at {}", frame.function)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}

/// Runs a verified module: its global initialiser, then `main`. Returns the exit status:
/// `main`'s result when it returns an `int`, the code given to `os.exit`, or 0.
pub fn run(module: &VerifiedModule, options: &RunOptions) -> Result<u8, Trap> {
    engine::run(module, options)
}
