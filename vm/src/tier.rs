//! The narrow interface between the interpreter and a compiling tier (the Cranelift JIT in
//! `rvm-jit`).
//!
//! **Why a trait here.** `rvm-vm` must run without the JIT and must never depend on it
//! (the JIT depends on the VM). So the VM defines what it needs from a compiler —
//! [`Tier::session`] for a module, then [`TierSession::compile`] per function, giving an
//! [`Entry`] the interpreter can call — and the root crate plugs `rvm_jit` in through
//! [`JitConfig::compiler`]. Compiled code talks back to the VM only through
//! [`JitCtx`] (a `#[repr(C)]` block whose field offsets are [`ctx`]) and the `extern "C"`
//! runtime functions listed in [`Runtime`], which are the interpreter's own code: a compiled
//! instruction that touches the heap, allocates, calls a native or a host function runs
//! exactly what the interpreter runs for it, so the two tiers cannot drift apart.
//!
//! **The frame model is shared** (the GC invariant for native frames, see
//! `interpreter.rs`): a compiled function still owns a frame record in the VM's frame stack
//! and its slots in the VM's value stack; its values live in registers between safepoints,
//! and before anything that can collect, trap or run other guest code it stores its current
//! `pc` (as an argument of the runtime call) and every live reference into those slots.
//! So the collector, the trap trace builder and on-stack replacement see a compiled frame
//! exactly like an interpreted one.

use std::fmt::Debug;
use std::sync::Arc;

pub use crate::interpreter::JitCtx;
use crate::verified::VerifiedModule;

/// The machine-code entry of a compiled function: `entry(cx, base, osr_pc)`.
///
/// The caller has pushed the function's frame record (locals at `base` in the value stack,
/// arguments already there). `osr_pc < 0` starts at the first instruction; otherwise the
/// frame is an interpreted one being replaced on the stack at loop header `osr_pc` (operand
/// stack empty, locals in their slots). The result (0 for a function without one) is
/// returned; if `cx.status` is non-zero afterwards the call unwound (trap or `os.exit`) and
/// the reason is held in the context. The function pops its own frame when it returns.
pub type Entry = unsafe extern "C" fn(cx: *mut JitCtx, base: u64, osr_pc: i64) -> u64;

/// Which tiers run guest code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JitMode {
    /// Interpret only.
    #[default]
    Off,
    /// Interpret; compile functions whose call and back-edge count passes the threshold
    /// (entering a running loop by on-stack replacement).
    Auto,
    /// Compile every function before anything runs.
    Always,
}

/// The default `--jit-threshold`: calls plus loop back-edges of one function before it is
/// compiled. Compiling a small function costs about as much as interpreting ~1000 of its
/// loop iterations, so the threshold pays for itself quickly without compiling run-once code.
pub const DEFAULT_JIT_THRESHOLD: u32 = 1000;

/// How (and whether) a VM compiles.
#[derive(Clone, Debug)]
pub struct JitConfig {
    /// The mode; without a compiler every mode interprets.
    pub mode: JitMode,
    /// Calls plus back-edges before a function is compiled in [`JitMode::Auto`].
    pub threshold: u32,
    /// The compiler (`rvm_jit::CraneliftTier` in the `rvm` crate).
    pub compiler: Option<Arc<dyn Tier>>,
    /// Print each compilation and its time to the VM's standard error.
    pub trace: bool,
}

impl Default for JitConfig {
    fn default() -> JitConfig {
        JitConfig {
            mode: JitMode::Off,
            threshold: DEFAULT_JIT_THRESHOLD,
            compiler: None,
            trace: false,
        }
    }
}

/// A compiler of verified functions to machine code.
pub trait Tier: Send + Sync + Debug {
    /// Starts compiling functions of `module`. The session owns the machine code it makes:
    /// the VM keeps it alive for as long as it may run that code.
    fn session(&self, module: &VerifiedModule) -> Result<Box<dyn TierSession>, String>;
}

/// Compiles the functions of one module.
pub trait TierSession: Send + Debug {
    /// Compiles function `func` of `module` (the module the session was made for), calling
    /// the VM through `rt`.
    fn compile(
        &mut self,
        module: &VerifiedModule,
        func: u32,
        rt: &Runtime,
    ) -> Result<Entry, String>;
}

/// The addresses of the runtime functions compiled code calls (all `extern "C"`, first
/// argument the context). Their contracts are documented in `interpreter/jit_rt.rs`.
#[derive(Clone, Copy, Debug)]
pub struct Runtime {
    /// `enter(cx, caller_pc, callee, new_base, ret) -> status`: pushes a frame for a call.
    pub enter: usize,
    /// `call(cx, caller_pc, callee, new_base, ret) -> result`: a whole call of a function
    /// that may not be compiled (status in `cx.status`).
    pub call: usize,
    /// `ret(cx, pc, result) -> status`: pops the frame (checks `main`'s exit code).
    pub ret: usize,
    /// `step(cx, pc, sp) -> status`: runs instruction `pc` with the interpreter's code,
    /// operands in the value stack below `sp`.
    pub step: usize,
    /// `trap(cx, pc, kind, arg) -> status`: raises trap `kind` (see [`trap_code`]).
    pub trap: usize,
    /// `refill(cx, pc) -> status`: the fuel and deadline slow path.
    pub refill: usize,
    /// `fmod(a, b) -> f64`: the float remainder, canonical NaN.
    pub fmod: usize,
    /// `arr_get(cx, pc, arr, i) -> value` (a trap sets `cx.status`).
    pub arr_get: usize,
    /// `arr_set(cx, pc, arr, i, v) -> status`.
    pub arr_set: usize,
    /// `arr_len(cx, pc, arr) -> len` (a trap sets `cx.status`).
    pub arr_len: usize,
    /// `field_get(cx, pc, s, index) -> value` (a trap sets `cx.status`).
    pub field_get: usize,
    /// `field_set(cx, pc, s, index, v) -> status`.
    pub field_set: usize,
    /// Number of functions in the module (for range checks of `call.ref`).
    pub functions: u32,
}

/// Codes of the traps compiled code raises inline (`Runtime::trap`).
pub mod trap_code {
    /// `division by zero`.
    pub const DIVISION_BY_ZERO: u64 = 0;
    /// `global NAME read before initialization` (arg: the global index).
    pub const GLOBAL_UNINIT: u64 = 1;
    /// An internal error (arg ignored).
    pub const INTERNAL: u64 = 2;
}

/// Byte offsets of the [`JitCtx`] fields compiled code reads.
pub mod ctx {
    use super::JitCtx;
    /// `*mut u64`: the value stack's data (re-read after every runtime call).
    pub const STACK_DATA: i32 = std::mem::offset_of!(JitCtx, stack_data) as i32;
    /// `u64`: non-zero once the run is unwinding.
    pub const STATUS: i32 = std::mem::offset_of!(JitCtx, status) as i32;
    /// `*mut i64`: the fuel counter (`Budget::ticks`).
    pub const TICKS: i32 = std::mem::offset_of!(JitCtx, ticks) as i32;
    /// `*const Option<Entry>`: the entry of every function, null if not compiled.
    pub const CODE: i32 = std::mem::offset_of!(JitCtx, code) as i32;
    /// `*mut u64`: the globals.
    pub const GLOBALS: i32 = std::mem::offset_of!(JitCtx, globals) as i32;
    /// `*const u64`: the handles of the string constants.
    pub const CONST_STRS: i32 = std::mem::offset_of!(JitCtx, const_strs) as i32;
    /// `*mut Frame`: the frame records.
    pub const FRAMES_PTR: i32 = std::mem::offset_of!(JitCtx, frames_ptr) as i32;
    /// `usize`: the frame count.
    pub const FRAMES_LEN: i32 = std::mem::offset_of!(JitCtx, frames_len) as i32;
    /// `usize`: the most frames compiled code may push without the runtime.
    pub const FRAMES_MAX: i32 = std::mem::offset_of!(JitCtx, frames_max) as i32;
    /// `usize`: slots in the value stack.
    pub const STACK_LEN: i32 = std::mem::offset_of!(JitCtx, stack_len) as i32;
    /// `usize`: the frame count while `main` is innermost.
    pub const MAIN_DEPTH: i32 = std::mem::offset_of!(JitCtx, main_depth) as i32;
    /// `usize`: the lowest native stack address compiled code may reach.
    pub const NATIVE_LIMIT: i32 = std::mem::offset_of!(JitCtx, native_limit) as i32;
}

/// The layout of a frame record (`#[repr(C)]`) for compiled code that pushes one.
pub mod frame {
    /// Size in bytes.
    pub const SIZE: i32 = std::mem::size_of::<crate::interpreter::Frame>() as i32;
    /// `u32`: the function index.
    pub const FUNC: i32 = std::mem::offset_of!(crate::interpreter::Frame, func) as i32;
    /// `usize`: the current instruction.
    pub const PC: i32 = std::mem::offset_of!(crate::interpreter::Frame, pc) as i32;
    /// `usize`: where the locals start.
    pub const BASE: i32 = std::mem::offset_of!(crate::interpreter::Frame, base) as i32;
    /// `usize`: where the result goes.
    pub const RET: i32 = std::mem::offset_of!(crate::interpreter::Frame, ret) as i32;
}
