//! The host functions of `call.host`, one exhaustive `match` over [`HostFn`].
//!
//! Each import of a module is resolved to a [`HostFn`] once, when the VM is created, so a
//! call is an index into that table, never a lookup by name. The capability-guarded host
//! modules of the sandbox issue join the `match` here.

use super::strings::strings_array;
use crate::heap::Heap;
use crate::host::HostFn;
use crate::trap::TrapKind;

/// What a host call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostOutcome {
    /// It returned (with a result, if the function has one).
    Return(Option<u64>),
    /// `os.exit(code)`: the program ends with this (already range-checked) exit code.
    Exit(i32),
}

/// What host functions may see of the VM.
#[derive(Debug)]
pub struct HostContext<'a> {
    /// The heap, for results that are strings or arrays.
    pub heap: &'a mut Heap,
    /// The program's command-line arguments.
    pub args: &'a [String],
}

/// Calls `host` with `args` (one slot per parameter).
pub fn call(host: HostFn, args: &[u64], cx: HostContext<'_>) -> Result<HostOutcome, TrapKind> {
    match host {
        HostFn::OsArgs => {
            let pieces = cx.args.iter().map(|a| a.as_str().into()).collect();
            let arr = strings_array(cx.heap, pieces)?;
            Ok(HostOutcome::Return(Some(arr)))
        }
        HostFn::OsExit => {
            let code = args.first().copied().unwrap_or(0) as i64;
            if (0..=255).contains(&code) {
                Ok(HostOutcome::Exit(code as i32))
            } else {
                Err(TrapKind::ExitCodeOutOfRange { code })
            }
        }
    }
}
