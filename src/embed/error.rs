//! The one error type of the embedding API.
//!
//! **Why one enum with a variant per cause.** An embedder reacts differently to a script
//! that does not compile (show the user the positions), bytecode that does not verify
//! (reject the file), a script that does not fit the host (a link error naming both
//! signatures), a guest bug (a trap with the guest's stack trace) and a limit (fuel, time,
//! memory, stack: bill, throttle or kill the tenant). Each is its own variant, so a `match`
//! decides, not string inspection.

use std::fmt;

use rvm_compiler::CompileFailure;
use rvm_vm::format::DecodeError;
use rvm_vm::sandbox::GrantError;
use rvm_vm::trap::{Trap, TrapKind};
use rvm_vm::verifier::VerifyError;

/// Anything that can go wrong between source text and a guest call's result.
///
/// ```
/// use rvm::{Error, Module, Sandbox, SandboxLimits};
/// let engine = rvm::Engine::default();
/// let module = Module::new(&engine, "m.src", r#"
///     fn forever() { while true {} }
///     fn divide(a: int, b: int) -> int { return a / b; }
/// "#)?;
/// let limits = SandboxLimits { fuel: Some(10_000), ..SandboxLimits::default() };
/// let mut sandbox = Sandbox::builder(&module).limits(limits).build()?;
/// match sandbox.call::<_, ()>("forever", ()) {
///     Err(Error::OutOfFuel(_)) => {} // bill the tenant, or give up on the script
///     other => panic!("{other:?}"),
/// }
/// let err = sandbox.call::<_, i64>("divide", (1, 0)).unwrap_err();
/// let trap = err.trap().expect("a trap");
/// assert_eq!(trap.to_string().lines().next(), Some("runtime error: division by zero"));
/// assert_eq!(trap.trace[0].function, "divide");
/// // The sandbox is still usable.
/// assert_eq!(sandbox.call::<_, i64>("divide", (9, 3))?, 3);
/// # Ok::<(), rvm::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A source file could not be read ([`crate::Module::from_file`]).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The source text does not compile. Every diagnostic found, with its position.
    #[error("{0}")]
    Compile(CompileError),
    /// The bytes are not a well-formed `.bc` module.
    #[error("invalid bytecode: {0}")]
    Decode(#[from] DecodeError),
    /// The module is well-formed but the verifier refused it.
    #[error("verification failed: {0}")]
    Verify(#[from] VerifyError),
    /// The module's imports do not match the host functions given to the sandbox.
    #[error("{0}")]
    Link(#[from] LinkError),
    /// The host asked for something the module does not have (an export, a signature).
    #[error("{0}")]
    Call(#[from] CallError),
    /// The grants could not be opened (a granted path does not exist, ...).
    #[error("{0}")]
    Grants(#[from] GrantError),
    /// The guest trapped (a runtime error, an assertion, a host function that failed). The
    /// [`Trap`] holds the message and the guest stack trace.
    #[error("{0}")]
    Trap(Trap),
    /// The call used up the sandbox's fuel.
    #[error("{0}")]
    OutOfFuel(Trap),
    /// The call ran past the sandbox's deadline, or was interrupted.
    #[error("{0}")]
    Timeout(Trap),
    /// The guest heap would exceed the sandbox's heap limit.
    #[error("{0}")]
    OutOfMemory(Trap),
    /// The guest call stack exceeded the sandbox's depth limit.
    #[error("{0}")]
    StackOverflow(Trap),
    /// The guest called `os.exit(code)`.
    #[error("the guest exited with code {0}")]
    Exit(i32),
}

impl Error {
    /// The trap behind a trap or limit variant (its message and guest stack trace).
    pub fn trap(&self) -> Option<&Trap> {
        match self {
            Error::Trap(t)
            | Error::OutOfFuel(t)
            | Error::Timeout(t)
            | Error::OutOfMemory(t)
            | Error::StackOverflow(t) => Some(t),
            _ => None,
        }
    }

    /// Whether this is one of the limit variants (fuel, timeout, memory, stack).
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            Error::OutOfFuel(_)
                | Error::Timeout(_)
                | Error::OutOfMemory(_)
                | Error::StackOverflow(_)
        )
    }
}

impl From<Trap> for Error {
    /// Sorts a trap into its variant: the limits apart from every other trap.
    fn from(t: Trap) -> Error {
        match t.kind {
            TrapKind::OutOfFuel => Error::OutOfFuel(t),
            TrapKind::Timeout => Error::Timeout(t),
            TrapKind::OutOfMemory | TrapKind::HeapLimit => Error::OutOfMemory(t),
            TrapKind::StackOverflow { .. } => Error::StackOverflow(t),
            TrapKind::BadCall { reason } => Error::Call(CallError::Invalid(reason)),
            _ => Error::Trap(t),
        }
    }
}

impl From<CompileFailure> for Error {
    fn from(f: CompileFailure) -> Error {
        Error::Compile(CompileError::new(f))
    }
}

/// A compile failure: every diagnostic with its file, line and column.
#[derive(Debug)]
pub struct CompileError {
    messages: Vec<CompileMessage>,
    failure: CompileFailure,
}

/// One compile diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileMessage {
    /// The file name given when compiling.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
    /// What is wrong (`mismatched types`).
    pub message: String,
    /// The detail at the position (`expected int, found str`).
    pub label: String,
}

impl CompileError {
    pub(crate) fn new(failure: CompileFailure) -> CompileError {
        CompileError::with_line_offset(failure, 0)
    }

    /// For source wrapped around a snippet: lines are reported `offset` lines earlier.
    pub(crate) fn with_line_offset(failure: CompileFailure, offset: u32) -> CompileError {
        use rvm_compiler::diagnostics::Severity;
        let messages = failure
            .diagnostics
            .items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                let (line, column) = failure.sources.line_col(d.span.file, d.span.start);
                CompileMessage {
                    file: failure.sources.get(d.span.file).name.clone(),
                    line: line.saturating_sub(offset).max(1),
                    column,
                    message: d.message.clone(),
                    label: d.label.clone(),
                }
            })
            .collect();
        CompileError { messages, failure }
    }

    /// Every error found, in source order.
    pub fn messages(&self) -> &[CompileMessage] {
        &self.messages
    }

    /// The diagnostics rendered like `rvmc` does (source line and caret), for a terminal.
    pub fn render(&self) -> String {
        self.failure
            .diagnostics
            .render(&self.failure.sources, false)
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.messages.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(
                f,
                "{}:{}:{}: error: {}",
                m.file, m.line, m.column, m.message
            )?;
            if !m.label.is_empty() {
                write!(f, " ({})", m.label)?;
            }
        }
        Ok(())
    }
}

/// Why a module could not be linked against a sandbox's host functions.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The module imports a function no host function was registered for.
    #[error(
        "link error: the module imports `{name}: {guest}`, but no host function `{name}` is registered"
    )]
    Missing {
        /// `namespace.name`.
        name: String,
        /// The signature the guest declared (`fn(str) -> int`).
        guest: String,
    },
    /// The registered host function has another signature than the guest declared.
    #[error(
        "link error: `{name}` is declared by the guest as `{guest}`, but the host function registered under that name is `{host}`"
    )]
    Mismatch {
        /// `namespace.name`.
        name: String,
        /// The guest's declaration.
        guest: String,
        /// The host function's signature.
        host: String,
    },
}

/// A call the module cannot serve: how the host used the API wrongly.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No exported function has this name.
    #[error("the module exports no function `{0}`")]
    NoExport(String),
    /// The Rust types do not match the guest function's signature.
    #[error("`{name}` has type `{guest}`, but it was called as `{host}`")]
    Signature {
        /// The export's name.
        name: String,
        /// Its guest signature.
        guest: String,
        /// The signature the Rust types give.
        host: String,
    },
    /// A value does not fit the guest type (a dynamic [`crate::Value`] of the wrong shape).
    #[error("a value of the wrong type for `{expected}`: {found}")]
    Value {
        /// The guest type expected.
        expected: String,
        /// What was given.
        found: String,
    },
    /// A function handle was used with a sandbox of another module.
    #[error("this function handle belongs to another module")]
    WrongModule,
    /// Anything else the VM refused (for example a value too large for the heap limit).
    #[error("invalid call: {0}")]
    Invalid(String),
}
