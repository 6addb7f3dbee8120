//! Writing the tools' own output. `print!` panics when the reader has gone away (a closed
//! pipe); these helpers report failure instead, so the tools never panic on output.

use std::io::{self, Write};

/// Writes `text` to standard output; returns false if that failed.
pub(crate) fn stdout(text: &str) -> bool {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).is_ok() && out.flush().is_ok()
}

/// Writes `text` to standard error, ignoring failure (there is nowhere left to report it).
pub(crate) fn stderr(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}
