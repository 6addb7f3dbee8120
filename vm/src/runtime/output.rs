//! The VM's standard output and error streams.
//!
//! Output goes to caller-provided writers (the CLI passes the process's streams, tests and
//! embedders pass buffers), never to the process's streams directly, so several VMs can
//! run in one process. Standard output is buffered; it is flushed before anything is
//! written to standard error (so interleaving on a terminal stays in program order) and
//! when the program ends. Write errors (a closed pipe) are ignored: printing is not a
//! capability whose failure the program can observe in version 1.

use std::io::{BufWriter, Write};
use std::sync::{Arc, Mutex};

/// The VM's output streams.
pub struct Output {
    stdout: BufWriter<Box<dyn Write + Send>>,
    stderr: Box<dyn Write + Send>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output").finish_non_exhaustive()
    }
}

impl Output {
    /// Wraps the two writers.
    pub fn new(stdout: Box<dyn Write + Send>, stderr: Box<dyn Write + Send>) -> Output {
        Output {
            stdout: BufWriter::with_capacity(1 << 16, stdout),
            stderr,
        }
    }

    /// Writes to standard output (buffered).
    pub fn out(&mut self, s: &str) {
        let _ = self.stdout.write_all(s.as_bytes());
    }

    /// Writes to standard error after flushing standard output.
    pub fn err(&mut self, s: &str) {
        let _ = self.stdout.flush();
        let _ = self.stderr.write_all(s.as_bytes());
        let _ = self.stderr.flush();
    }

    /// Flushes standard output.
    pub fn flush(&mut self) {
        let _ = self.stdout.flush();
        let _ = self.stderr.flush();
    }
}

/// A cloneable in-memory writer, for tests and embedders that want to capture output.
#[derive(Clone, Debug, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// An empty buffer.
    pub fn new() -> SharedBuffer {
        SharedBuffer::default()
    }

    /// Everything written so far, as (lossy) UTF-8.
    pub fn contents(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
