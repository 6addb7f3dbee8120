//! Runtime traps: the errors a verified program can still hit while running.
//!
//! Verification rules out type errors, so what remains are the dynamic checks the language
//! defines (bounds, zero divisors, malformed numbers, failed asserts, limits). Each is one
//! [`TrapKind`] variant with exactly one message, because test programs match the first
//! line of stderr (`runtime error: <message>`) and the exit code, so the wording is part of
//! the contract (`BRIEF.md`). A [`Trap`] adds the guest stack trace, innermost frame first.

use std::fmt;

use crate::value_fmt::quote_str;

/// What went wrong. The `Display` impl is the exact message after `runtime error: `.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrapKind {
    /// `i.div` / `i.rem` by zero.
    DivisionByZero,
    /// An array or string index outside `0..len`.
    IndexOutOfBounds {
        /// The index used.
        index: i64,
        /// The length at the time.
        len: usize,
    },
    /// `xs.pop()` on an empty array.
    PopEmpty,
    /// `xs.insert(i, v)` with `i` outside `0..=len`.
    InsertOutOfBounds {
        /// The index used.
        index: i64,
        /// The length at the time.
        len: usize,
    },
    /// `xs.slice(a, b)` unless `0 <= a <= b <= len`.
    SliceOutOfBounds {
        /// Start.
        start: i64,
        /// End (exclusive).
        end: i64,
        /// The length.
        len: usize,
    },
    /// `s.slice(a, b)` unless `0 <= a <= b <= len`.
    StrSliceOutOfBounds {
        /// Start byte.
        start: i64,
        /// End byte (exclusive).
        end: i64,
        /// The length in bytes.
        len: usize,
    },
    /// `s.slice(a, b)` where `a` or `b` falls inside a multi-byte character.
    StrSliceNotBoundary {
        /// Start byte.
        start: i64,
        /// End byte (exclusive).
        end: i64,
    },
    /// `m[k]` or `m.remove(k)` for an absent key; `key` is already formatted as inside a
    /// container (`"a"`, `3`, `true`).
    KeyNotFound {
        /// The formatted key.
        key: String,
    },
    /// `assert(false, message)`.
    AssertionFailed {
        /// The program's message.
        message: String,
    },
    /// `s.parse_int()` on text that is not an optional sign and decimal digits within range.
    InvalidInt {
        /// The text.
        text: String,
    },
    /// `s.parse_float()` on text that is not a float.
    InvalidFloat {
        /// The text.
        text: String,
    },
    /// `array(n, v)` with `n < 0`.
    NegativeArrayLength {
        /// The length asked for.
        len: i64,
    },
    /// `s.repeat(n)` with `n < 0`.
    NegativeRepeatCount {
        /// The count asked for.
        count: i64,
    },
    /// `chr(i)` where `i` is not a Unicode scalar value.
    InvalidCodePoint {
        /// The value.
        code: i64,
    },
    /// `ord("")`.
    OrdEmpty,
    /// `f.to_fixed(d)` with `d` outside `0..=100`.
    ToFixedDigits {
        /// The digits asked for.
        digits: i64,
    },
    /// A reference-typed global read before `$init` set it.
    GlobalUninit {
        /// The global's name.
        name: String,
    },
    /// `main`'s result or `os.exit`'s argument outside `0..=255`.
    ExitCodeOutOfRange {
        /// The code.
        code: i64,
    },
    /// The guest call stack exceeded the configured depth (exit code 71).
    StackOverflow {
        /// The configured limit.
        limit: usize,
    },
    /// An allocation the process cannot satisfy (a result longer than the address space,
    /// or a failed reservation), reported instead of aborting the process (exit code 72).
    OutOfMemory,
    /// An allocation would take the heap past its limit (`--max-heap`), but a collection
    /// might make room. The interpreter collects and retries the instruction, so this
    /// surfaces only as [`TrapKind::OutOfMemory`]; its message is the same.
    HeapLimit,
    /// The fuel given with `--fuel` ran out (exit code 73).
    OutOfFuel,
    /// The wall-clock limit given with `--timeout` passed, or the embedder interrupted the
    /// VM (exit code 74).
    Timeout,
    /// A host function was called without the capability it needs.
    PermissionDenied {
        /// The call as written, e.g. `fs.read_text("/etc/passwd")`.
        call: String,
        /// What would allow it, e.g. `--allow-read=/etc/passwd`; or why it is refused.
        remedy: String,
    },
    /// A granted host operation failed (a missing file, a full disk).
    HostError {
        /// The call as written, e.g. `fs.read_text("missing.txt")`.
        call: String,
        /// The operating system's reason.
        reason: String,
    },
    /// `random.int(low, high)` with `low >= high`.
    EmptyRandomRange {
        /// The low bound.
        low: i64,
        /// The high bound (exclusive).
        high: i64,
    },
    /// An export called through the embedding API does not exist or its arguments do not
    /// match its signature.
    BadCall {
        /// What was wrong.
        reason: String,
    },
    /// A fact the verifier proves did not hold. Never happens for a module produced by
    /// `verifier::verify`; it exists so that a broken invariant is an error, not a panic.
    Internal {
        /// What was wrong.
        what: &'static str,
    },
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrapKind::DivisionByZero => f.write_str("division by zero"),
            TrapKind::IndexOutOfBounds { index, len } => {
                write!(f, "index {index} out of bounds for length {len}")
            }
            TrapKind::PopEmpty => f.write_str("pop from an empty array"),
            TrapKind::InsertOutOfBounds { index, len } => {
                write!(f, "insert index {index} out of bounds for length {len}")
            }
            TrapKind::SliceOutOfBounds { start, end, len } => {
                write!(f, "slice {start}..{end} out of bounds for length {len}")
            }
            TrapKind::StrSliceOutOfBounds { start, end, len } => {
                write!(
                    f,
                    "string slice {start}..{end} out of bounds for length {len}"
                )
            }
            TrapKind::StrSliceNotBoundary { start, end } => {
                write!(
                    f,
                    "string slice {start}..{end} is not on a character boundary"
                )
            }
            TrapKind::KeyNotFound { key } => write!(f, "key {key} not found in map"),
            TrapKind::AssertionFailed { message } => write!(f, "assertion failed: {message}"),
            TrapKind::InvalidInt { text } => write!(f, "invalid int: {}", quote_str(text)),
            TrapKind::InvalidFloat { text } => write!(f, "invalid float: {}", quote_str(text)),
            TrapKind::NegativeArrayLength { len } => write!(f, "negative array length {len}"),
            TrapKind::NegativeRepeatCount { count } => {
                write!(f, "negative repeat count {count}")
            }
            TrapKind::InvalidCodePoint { code } => write!(f, "invalid code point {code}"),
            TrapKind::OrdEmpty => f.write_str("ord of an empty string"),
            TrapKind::ToFixedDigits { digits } => {
                write!(f, "to_fixed digits {digits} out of range 0..=100")
            }
            TrapKind::GlobalUninit { name } => {
                write!(f, "global {name} read before initialization")
            }
            TrapKind::ExitCodeOutOfRange { code } => {
                write!(f, "exit code {code} out of range 0..=255")
            }
            TrapKind::StackOverflow { limit } => {
                write!(f, "stack overflow (call depth limit {limit})")
            }
            TrapKind::OutOfMemory | TrapKind::HeapLimit => f.write_str("out of memory"),
            TrapKind::OutOfFuel => f.write_str("out of fuel"),
            TrapKind::Timeout => f.write_str("timeout"),
            TrapKind::PermissionDenied { call, remedy } => {
                write!(f, "permission denied: {call} {remedy}")
            }
            TrapKind::HostError { call, reason } => write!(f, "{call} failed: {reason}"),
            TrapKind::EmptyRandomRange { low, high } => {
                write!(f, "random.int range {low}..{high} is empty")
            }
            TrapKind::BadCall { reason } => write!(f, "bad call: {reason}"),
            TrapKind::Internal { what } => write!(f, "internal error: {what}"),
        }
    }
}

impl TrapKind {
    /// The process exit code for this trap (`BRIEF.md`): 71 for a stack overflow, 72 for
    /// out of memory, 73 out of fuel, 74 timeout, 70 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            TrapKind::StackOverflow { .. } => 71,
            TrapKind::OutOfMemory | TrapKind::HeapLimit => 72,
            TrapKind::OutOfFuel => 73,
            TrapKind::Timeout => 74,
            _ => 70,
        }
    }
}

/// One guest frame of a stack trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceFrame {
    /// The bytecode function name (`Point.norm`, `$init`).
    pub function: String,
    /// The source position, when the line table covers the instruction.
    pub position: Option<SourcePos>,
}

/// A source position resolved from a line table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourcePos {
    /// The file name from `Module::files`.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// A runtime trap with its guest stack trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    /// What went wrong.
    pub kind: TrapKind,
    /// The guest frames, innermost first (empty for traps raised outside guest code). A
    /// very deep stack keeps only its innermost and outermost [`TRACE_KEPT`] frames each.
    pub trace: Vec<TraceFrame>,
    /// How many frames between those were left out of `trace` (0 unless the stack was
    /// deeper than `2 × TRACE_KEPT`).
    pub omitted_frames: usize,
}

/// Frames kept at each end of a trace (so that a trap at depth 1,000,000 does not build a
/// million-entry trace).
pub const TRACE_KEPT: usize = 100;

impl Trap {
    /// A trap without a stack trace.
    pub fn new(kind: TrapKind) -> Trap {
        Trap {
            kind,
            trace: Vec::new(),
            omitted_frames: 0,
        }
    }

    /// The process exit code for this trap.
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl fmt::Display for TraceFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.position {
            Some(p) => write!(f, "{} ({}:{}:{})", self.function, p.file, p.line, p.column),
            None => write!(f, "{} (<unknown>)", self.function),
        }
    }
}

/// Frames shown at each end of a long trace.
const TRACE_ENDS: usize = 20;

/// Renders the trap exactly as the runner prints it on stderr: `runtime error: <message>`
/// then one `    at <frame>` line per frame, innermost first, each line ending in `\n`. A
/// trace of more than 50 frames (deep recursion) shows its first and last 20 frames around
/// a `    ... N more frames` line.
impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "runtime error: {}", self.kind)?;
        let n = self.trace.len();
        let total = n + self.omitted_frames;
        if total <= 50 {
            for frame in &self.trace {
                writeln!(f, "    at {frame}")?;
            }
            return Ok(());
        }
        for frame in &self.trace[..TRACE_ENDS.min(n)] {
            writeln!(f, "    at {frame}")?;
        }
        writeln!(f, "    ... {} more frames", total - 2 * TRACE_ENDS)?;
        for frame in &self.trace[n.saturating_sub(TRACE_ENDS).max(TRACE_ENDS.min(n))..] {
            writeln!(f, "    at {frame}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}

impl From<TrapKind> for Trap {
    fn from(kind: TrapKind) -> Trap {
        Trap::new(kind)
    }
}
