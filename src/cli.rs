//! The command-line tools `rvm` and `rvmc`, as library code so that they can be tested
//! without spawning processes and so that `main` stays a one-liner.
//!
//! Every failure becomes a [`Failure`]: an exit code from [`exit`] and one line for standard
//! error saying what went wrong, where and why. Nothing on these paths panics; output
//! errors (a closed pipe) end the tool quietly instead.

pub mod rvm;
pub mod rvmc;

mod input;
mod output;

use std::fmt;
use std::io::IsTerminal;

/// Exit codes shared by `rvm` and `rvmc` (documented in the README and the spec).
///
/// A program's own exit codes are 0..=255 (its `main` result or `os.exit`); the tools
/// themselves use the `sysexits.h` range for their failures.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Bad command-line flags or arguments.
    pub const USAGE: u8 = 64;
    /// The source program does not compile.
    pub const COMPILE: u8 = 65;
    /// An input file cannot be read (or an output file cannot be written).
    pub const NO_INPUT: u8 = 66;
    /// A `.bc` file failed to decode or verify.
    pub const INVALID_BYTECODE: u8 = 67;
    /// A runtime trap (or, from `rvmc`, an internal error).
    pub const TRAP: u8 = 70;
    /// The program exceeded the call depth limit.
    pub const STACK_OVERFLOW: u8 = 71;
    /// The program asked for more memory than the heap limit (or the process) allows.
    pub const OUT_OF_MEMORY: u8 = 72;
    /// The program used up the fuel given with `--fuel`.
    pub const OUT_OF_FUEL: u8 = 73;
    /// The program ran past `--timeout`.
    pub const TIMEOUT: u8 = 74;
}

/// Prints a clap outcome: help and version to standard output (exit 0), errors to standard
/// error (exit 64, the usage-error code, rather than clap's 2).
pub(crate) fn report_clap_error(e: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    let ensure_newline = |mut s: String| {
        if !s.ends_with('\n') {
            s.push('\n');
        }
        s
    };
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let text = if std::io::stdout().is_terminal() {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            output::stdout(&ensure_newline(text));
            exit::OK
        }
        _ => {
            let text = if std::io::stderr().is_terminal() {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            output::stderr(&ensure_newline(text));
            exit::USAGE
        }
    }
}

/// A failed tool run: the exit code and the message for standard error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The process exit code.
    pub code: u8,
    /// One line (without the tool name prefix); empty when everything was printed already.
    pub message: String,
}

impl Failure {
    /// A failure with `code` and `message`.
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// A failure whose explanation was already printed.
    pub fn silent(code: u8) -> Failure {
        Failure {
            code,
            message: String::new(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// When to colour diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// When standard error is a terminal.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour output written to standard error.
    pub fn for_stderr(self) -> bool {
        match self {
            ColorChoice::Auto => std::io::stderr().is_terminal(),
            ColorChoice::Always => true,
            ColorChoice::Never => false,
        }
    }
}

/// How to print compile errors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    /// Position, source line, caret and notes.
    #[default]
    Human,
    /// One line per diagnostic: `FILE:LINE:COLUMN: error: MESSAGE`.
    Short,
}
