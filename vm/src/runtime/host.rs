//! The host functions of `call.host`, one exhaustive `match` over [`HostFn`].
//!
//! Each import of a module is resolved to a [`HostFn`] once, when the VM is created, so a
//! call is an index into that table, never a lookup by name. **Every call checks its
//! capability** against the VM's [`Capabilities`] before it does anything, so a denied
//! call traps (`permission denied: fs.read_text("/etc/passwd") needs
//! --allow-read=/etc/passwd`) and leaves nothing behind: no file is created, nothing is
//! written. This function is the one host-call interface of both tiers: the interpreter
//! calls it for `call.host`, and JIT-compiled code will call it the same way.
//!
//! Embedder functions ([`ImportFn::Extern`]) go through the same entry point: they need no
//! capability (registering a closure for a sandbox is the grant) and are called through the
//! VM's [`Externs`] table, held in [`HostState`].

mod fs;
mod random;

use std::io::{BufRead, Read};
use std::time::Instant;

use super::strings::strings_array;
use crate::heap::Heap;
use crate::host::{Capability, Externs, HostFn, ImportFn};
use crate::sandbox::{Capabilities, Denial};
use crate::trap::TrapKind;
use crate::value_fmt::quote_str;

pub use random::Rng;

/// What a host call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostOutcome {
    /// It returned (with a result, if the function has one).
    Return(Option<u64>),
    /// `os.exit(code)`: the program ends with this (already range-checked) exit code.
    Exit(i32),
}

/// Where `io.read_line` and `io.read_all` read from.
pub enum Input {
    /// The process's standard input.
    Process,
    /// A reader given by the embedder.
    Reader(Box<dyn BufRead + Send>),
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Input::Process => "Input::Process",
            Input::Reader(_) => "Input::Reader",
        })
    }
}

/// The per-VM state of the host modules.
#[derive(Debug)]
pub struct HostState {
    /// The random generator, seeded on first use.
    rng: Option<Rng>,
    /// The seed given by the runner (`--seed`), if any.
    seed: Option<u64>,
    /// When the VM started (`time.monotonic_ns` counts from here).
    started: Instant,
    /// Standard input.
    pub stdin: Input,
    /// The embedder functions, indexed by import (see [`crate::host::embedder`]).
    pub externs: Externs,
}

impl HostState {
    /// Fresh state: `seed` makes `random` deterministic.
    pub fn new(seed: Option<u64>) -> HostState {
        HostState {
            rng: None,
            seed,
            started: Instant::now(),
            stdin: Input::Process,
            externs: crate::host::embedder::no_externs(),
        }
    }
}

/// What host functions may see of the VM.
#[derive(Debug)]
pub struct HostContext<'a> {
    /// The heap, for arguments and results that are strings or arrays.
    pub heap: &'a mut Heap,
    /// The program's command-line arguments.
    pub args: &'a [String],
    /// What the sandbox grants.
    pub caps: &'a Capabilities,
    /// The host modules' own state.
    pub state: &'a mut HostState,
}

/// The call as written, for messages: `fs.read_text("a.txt")`, `time.now_ms()`.
fn call_text(host: HostFn, args: &[u64], heap: &Heap) -> String {
    use crate::host::HostType;
    let shown: Vec<String> = host
        .params()
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, (t, &v))| match t {
            // Only the first string (the path or name) is worth showing.
            HostType::Str if i == 0 => quote_str(heap.str(v)),
            HostType::Int => (v as i64).to_string(),
            _ => "...".to_owned(),
        })
        .collect();
    format!("{}.{}({})", host.module(), host.name(), shown.join(", "))
}

fn denied(host: HostFn, args: &[u64], heap: &Heap, why: Denial) -> TrapKind {
    TrapKind::PermissionDenied {
        call: call_text(host, args, heap),
        remedy: why.to_string(),
    }
}

/// Calls the resolved import `import` with `args` (one slot per parameter).
#[inline]
pub fn call(import: ImportFn, args: &[u64], cx: HostContext<'_>) -> Result<HostOutcome, TrapKind> {
    match import {
        ImportFn::Host(host) => call_builtin(host, args, cx),
        ImportFn::Extern { index, .. } => {
            let Some(Some(f)) = cx.state.externs.get(index as usize) else {
                return Err(TrapKind::Internal {
                    what: "call of an embedder function that is not linked",
                });
            };
            Ok(HostOutcome::Return(f.call(args, cx.heap)?))
        }
    }
}

/// Calls the built-in host function `host` with `args` (one slot per parameter).
fn call_builtin(host: HostFn, args: &[u64], cx: HostContext<'_>) -> Result<HostOutcome, TrapKind> {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0);
    cx.caps
        .check(host.capability())
        .map_err(|why| denied(host, args, cx.heap, why))?;
    let ret = |v: u64| Ok(HostOutcome::Return(Some(v)));
    let str_result = |heap: &mut Heap, s: String| -> Result<HostOutcome, TrapKind> {
        Ok(HostOutcome::Return(Some(heap.alloc_str(s.into())? as u64)))
    };
    match host {
        HostFn::OsArgs => {
            let pieces = cx.args.iter().map(|a| a.as_str().into()).collect();
            let arr = strings_array(cx.heap, pieces)?;
            ret(arr)
        }
        HostFn::OsExit => {
            let code = arg(0) as i64;
            if (0..=255).contains(&code) {
                Ok(HostOutcome::Exit(code as i32))
            } else {
                Err(TrapKind::ExitCodeOutOfRange { code })
            }
        }
        HostFn::FsReadText
        | HostFn::FsWriteText
        | HostFn::FsAppendText
        | HostFn::FsExists
        | HostFn::FsListDir
        | HostFn::FsRemove
        | HostFn::FsMkdir => fs::call(host, args, cx),
        HostFn::EnvGet => {
            let name = cx.heap.str(arg(0));
            cx.caps
                .check_env(name)
                .map_err(|why| denied(host, args, cx.heap, why))?;
            match std::env::var_os(name) {
                Some(v) => {
                    let v = v.to_string_lossy().into_owned();
                    str_result(cx.heap, v)
                }
                None => ret(arg(1)),
            }
        }
        HostFn::TimeNowMs => {
            let ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            ret(ms as u64)
        }
        HostFn::TimeMonotonicNs => {
            let ns = cx.state.started.elapsed().as_nanos();
            ret(i64::try_from(ns).unwrap_or(i64::MAX) as u64)
        }
        HostFn::RandomInt => {
            let (low, high) = (arg(0) as i64, arg(1) as i64);
            if low >= high {
                return Err(TrapKind::EmptyRandomRange { low, high });
            }
            let rng = rng(cx.state);
            let span = high.wrapping_sub(low) as u64;
            ret(low.wrapping_add(rng.below(span) as i64) as u64)
        }
        HostFn::RandomFloat => {
            let rng = rng(cx.state);
            ret(rng.unit_f64().to_bits())
        }
        HostFn::IoReadLine | HostFn::IoReadAll => {
            // Standard input cannot be read twice, so this read is never retried after a
            // collection: it is bounded by the room left instead.
            let room = cx.heap.room();
            let text = read_input(&mut cx.state.stdin, host == HostFn::IoReadLine, room)
                .map_err(|e| TrapKind::HostError {
                    call: call_text(host, args, cx.heap),
                    reason: fs::reason(&e),
                })?
                .ok_or(TrapKind::OutOfMemory)?;
            str_result(cx.heap, text)
        }
    }
}

/// The generator, seeded on first use from `--seed` or the operating system.
fn rng(state: &mut HostState) -> &mut Rng {
    let seed = state.seed;
    state.rng.get_or_insert_with(|| match seed {
        Some(s) => Rng::seeded(s),
        None => Rng::from_entropy(),
    })
}

/// Reads a line (with its `\n`) or everything, at most `room` bytes (`None` past that).
fn read_input(input: &mut Input, line: bool, room: usize) -> std::io::Result<Option<String>> {
    let limit = room.saturating_add(1) as u64;
    let mut bytes = Vec::new();
    match input {
        Input::Process => {
            let stdin = std::io::stdin();
            let mut lock = stdin.lock();
            read_from(&mut lock, line, limit, &mut bytes)?;
        }
        Input::Reader(r) => read_from(r, line, limit, &mut bytes)?,
    }
    if bytes.len() > room {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

fn read_from(
    r: &mut dyn BufRead,
    line: bool,
    limit: u64,
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    let mut limited = r.take(limit);
    if line {
        limited.read_until(b'\n', out)?;
    } else {
        limited.read_to_end(out)?;
    }
    Ok(())
}

/// Whether `cap` is granted (for embedders and tests).
pub fn granted(caps: &Capabilities, cap: Capability) -> bool {
    caps.check(cap).is_ok()
}
