//! The interpreter: runs a [`VerifiedModule`].
//!
//! **Shape.** All guest frames share one value stack (`Vec<u64>`): a frame is its locals
//! (parameters first) followed by its operand stack. Calls push a [`Frame`] record on a
//! separate `Vec` and continue in the same Rust loop, so guest recursion never grows the
//! Rust stack; the configured call-depth limit (default 10000) turns runaway recursion into
//! a clean `stack overflow` trap. Arguments are not copied: the caller's top operand slots
//! become the callee's first locals. The only Rust-level re-entry is `arr.sort_by`, whose
//! comparator is guest code; each nesting level counts toward the depth limit and the
//! nesting itself is capped ([`MAX_NATIVE_REENTRY`]).
//!
//! **Trust.** The verifier has proven types, jump targets, indices and stack depths, so the
//! loop performs no type checks. The hottest value-stack accesses (push, pop, the top
//! operands, locals) are unchecked: their bounds follow from the verified `max_stack`,
//! stack heights and local indices plus the frame-setup check in `push_frame` (the
//! argument is spelled out next to them in `exec`, and `debug_assert!`s re-check it in
//! debug builds). Everywhere else a proven fact is still checked (slice indexing), and a
//! failure becomes [`TrapKind::Internal`], never a panic or undefined behaviour.
//!
//! **GC invariant** (what the root scan relies on, see [`Vm::collect`]): a collection only
//! happens *between* instructions, right after an allocating instruction has pushed its
//! result, with the current frame's `pc` at the next instruction, so that instruction's
//! stack map describes its operand stack exactly. Every other frame is suspended at a call
//! (`call`, `call.ref`) or at `arr.sort_by`, with its stored `pc` at that instruction; its
//! live operand slots are the bottom of that instruction's stack map up to where the next
//! frame's locals begin (the arguments already belong to the callee, which scans them as
//! its parameters). Declared locals are zeroed on entry, so a not-yet-written reference
//! local reads as 0, which the collector skips.
//!
//! **Compiled frames** (the JIT tier, `tier.rs` and `jit_rt.rs`) keep exactly this model: a
//! compiled function has its frame record and value-stack slots like an interpreted one;
//! its values live in registers, but before every runtime call or guest call (the only
//! places a collection or a trap can happen) it stores its `pc` into the record and every
//! live reference into its slots, and the frame's declared reference locals are zeroed when
//! it is pushed. So the collector and the trace builder need not know which tier a frame
//! belongs to. While compiled code runs, the frame count lives in its context (compiled
//! calls push and pop records without the runtime); every runtime function adopts it first.

mod budget;
mod exec;
mod jit_rt;
pub(crate) mod prepare;
mod tiering;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

pub use budget::{Budget, CHECK_INTERVAL};
pub use jit_rt::JitCtx;
use tiering::JitState;
pub use tiering::JitStats;

use crate::format::Module;
use crate::heap::{Heap, HeapStats};
use crate::host::embedder::{Externs, ImportFn, no_externs, resolve_import};
use crate::runtime::host::{HostState, Input};
use crate::runtime::output::Output;
use crate::sandbox::{Capabilities, Limits};
use crate::tier::{JitConfig, JitMode};
use crate::trap::{SourcePos, TRACE_KEPT, TraceFrame, Trap, TrapKind};
use crate::verified::{GlobalUnset, VerifiedFunction, VerifiedModule};

pub use crate::runtime::output::SharedBuffer;

/// Maximum nesting of native-to-guest re-entries (`sort_by` comparators calling `sort_by`).
pub const MAX_NATIVE_REENTRY: usize = 32;

/// The value stack never grows beyond this many slots (256 MiB): a module whose frames
/// declare huge `max_stack`s gets a `stack overflow` trap rather than exhausting memory.
pub const MAX_STACK_SLOTS: usize = 1 << 25;

/// The default call-depth limit.
pub const DEFAULT_MAX_CALL_DEPTH: usize = 10_000;

/// How a VM runs.
#[derive(Clone, Debug)]
pub struct VmConfig {
    /// Frames the guest call stack may hold before trapping with `stack overflow`.
    pub max_call_depth: usize,
    /// Collect garbage at every allocation site (slow; for tests).
    pub gc_stress: bool,
    /// The program's command-line arguments (`os.args()`).
    pub args: Vec<String>,
    /// What the guest may reach (files, environment, clocks, randomness, standard input).
    /// The default grants nothing; one opened set can be shared by many VMs.
    pub caps: Arc<Capabilities>,
    /// Fuel, wall-clock time and heap size.
    pub limits: Limits,
    /// The seed of `random` (`None`: from the operating system on first use).
    pub seed: Option<u64>,
    /// The embedder's host functions, indexed by import (see
    /// [`crate::host::embedder`]); empty for a module without embedder imports.
    pub externs: Externs,
    /// The compiled tier: mode, threshold and the compiler (none: interpret only).
    pub jit: JitConfig,
    /// Bytes of native stack that compiled code (whose guest calls recurse on the native
    /// stack) may use below the point where the VM was entered; a deeper call traps with
    /// `stack overflow`. The CLI runs the guest on a thread with a stack this large plus
    /// slack; an embedder calling from its own thread should leave it at the default, which
    /// fits Rust's 2 MiB default thread stack.
    pub native_stack: usize,
}

/// The default [`VmConfig::native_stack`].
pub const DEFAULT_NATIVE_STACK: usize = 1 << 20;

impl Default for VmConfig {
    fn default() -> VmConfig {
        VmConfig {
            max_call_depth: DEFAULT_MAX_CALL_DEPTH,
            gc_stress: false,
            args: Vec::new(),
            caps: Arc::new(Capabilities::default()),
            limits: Limits::default(),
            seed: None,
            externs: no_externs(),
            jit: JitConfig::default(),
            native_stack: DEFAULT_NATIVE_STACK,
        }
    }
}

/// The module a VM runs: borrowed for the VM's lifetime (`Vm<'m>`, what a command-line run
/// wants) or shared (`Vm<'static>`, what an embedder that keeps VMs around wants).
#[derive(Clone, Debug)]
pub enum ModuleRef<'m> {
    /// Borrowed.
    Borrowed(&'m VerifiedModule),
    /// Shared ownership.
    Shared(Arc<VerifiedModule>),
}

impl std::ops::Deref for ModuleRef<'_> {
    type Target = VerifiedModule;

    fn deref(&self) -> &VerifiedModule {
        match self {
            ModuleRef::Borrowed(m) => m,
            ModuleRef::Shared(m) => m,
        }
    }
}

impl<'m> From<&'m VerifiedModule> for ModuleRef<'m> {
    fn from(m: &'m VerifiedModule) -> ModuleRef<'m> {
        ModuleRef::Borrowed(m)
    }
}

impl From<Arc<VerifiedModule>> for ModuleRef<'static> {
    fn from(m: Arc<VerifiedModule>) -> ModuleRef<'static> {
        ModuleRef::Shared(m)
    }
}

impl From<VerifiedModule> for ModuleRef<'static> {
    fn from(m: VerifiedModule) -> ModuleRef<'static> {
        ModuleRef::Shared(Arc::new(m))
    }
}

/// One guest activation record. `repr(C)`: compiled code pushes and pops records itself
/// (offsets in `tier::frame`).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(crate) struct Frame {
    /// The function index.
    pub(crate) func: u32,
    /// The instruction being executed (for a suspended frame: its call instruction).
    pub(crate) pc: usize,
    /// Where its locals start in the value stack.
    pub(crate) base: usize,
    /// Where its result goes in the caller's operand stack (and the caller's stack top after
    /// the return).
    pub(crate) ret: usize,
}

/// Why guest execution stopped before returning normally.
#[derive(Debug)]
enum Unwind {
    /// A trap, with its trace already built.
    Trap(Box<Trap>),
    /// `os.exit(code)`.
    Exit(i32),
}

/// A virtual machine running one verified module. Create as many as you like: a VM owns
/// all its state (heap, stacks, globals, output).
pub struct Vm<'m> {
    module: ModuleRef<'m>,
    config: VmConfig,
    heap: Heap,
    /// The value stack (taken out into a local while the loop runs).
    stack: Vec<u64>,
    /// The first free slot of the value stack between runs.
    sp: usize,
    frames: Vec<Frame>,
    /// The capacity of `frames` whose spare records were last initialised (see
    /// `Vm::frames_for_compiled_code`).
    frames_initialised: usize,
    /// The most value-stack slots one frame takes (the largest locals and operand stack of
    /// any function, at least 1), for compiled code's frame count (`Vm::stack_frames`).
    frame_slots: usize,
    globals: Vec<u64>,
    /// The handle of each string constant (permanent roots).
    const_strs: Vec<u64>,
    /// Each import resolved to its host function.
    imports: Vec<ImportFn>,
    /// References held by natives across re-entry into guest code (`sort_by`).
    temp_roots: Vec<u64>,
    /// Current native re-entry nesting.
    reentry: usize,
    /// The frame count while `main` (run by [`Vm::run_main`]) is the innermost frame, so
    /// that its `ret` can check the exit code with `main` still on the trace; `usize::MAX`
    /// otherwise.
    main_depth: usize,
    out: Output,
    initialized: bool,
    /// The state of the host modules (random generator, standard input, clock origin).
    host: HostState,
    /// Fuel and the deadline: the limit state both tiers check at back-edges and calls.
    budget: Budget,
    /// The value stack never grows beyond this many slots.
    stack_limit: usize,
    /// The compiled tier's state (`None` when interpreting only).
    jit: Option<Box<JitState>>,
    /// The lowest native stack address compiled code may reach (see
    /// [`VmConfig::native_stack`]).
    native_limit: usize,
}

impl std::fmt::Debug for Vm<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vm")
            .field("config", &self.config)
            .field("frames", &self.frames.len())
            .field("heap", &self.heap.stats())
            .finish_non_exhaustive()
    }
}

impl<'m> Vm<'m> {
    /// A VM for `module` (a `&VerifiedModule`, an `Arc<VerifiedModule>` or an owned one), printing to `stdout` and `stderr`. Allocates the string constants
    /// and resolves the imports; fails only if an import names no host function (which the
    /// verifier rules out) or the constants do not fit in memory.
    pub fn new(
        module: impl Into<ModuleRef<'m>>,
        config: VmConfig,
        stdout: Box<dyn Write + Send>,
        stderr: Box<dyn Write + Send>,
    ) -> Result<Vm<'m>, Trap> {
        let module = module.into();
        let m = &module.module;
        let mut heap = Heap::new(config.gc_stress);
        heap.set_limit(config.limits.max_heap);
        let mut const_strs = Vec::with_capacity(m.strings.len());
        for s in &m.strings {
            const_strs.push(heap.alloc_str(s.as_str().into())? as u64);
        }
        let imports = (0..m.imports.len())
            .map(|i| resolve_import(m, i, &config.externs))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| TrapKind::BadCall { reason })?;
        let mut host = HostState::new(config.seed);
        host.externs = Arc::clone(&config.externs);
        let budget = Budget::new(&config.limits);
        let jit = match (&config.jit.compiler, config.jit.mode) {
            (Some(compiler), JitMode::Auto | JitMode::Always) => Some(Box::new(JitState::new(
                config.jit.mode,
                config.jit.threshold.max(1),
                config.jit.trace,
                config.jit.background,
                Arc::clone(compiler),
                module.functions.len(),
                budget.watched(config.limits.timeout.is_some()),
            ))),
            _ => None,
        };
        let mut vm = Vm {
            globals: module.global_unset.iter().map(|u| u.initial()).collect(),
            heap,
            stack: vec![0; 1024],
            sp: 0,
            frames: Vec::with_capacity(64),
            frames_initialised: 0,
            frame_slots: module
                .functions
                .iter()
                .map(|f| f.local_count as usize + f.max_stack as usize)
                .max()
                .unwrap_or(0)
                .max(1),
            const_strs,
            imports,
            temp_roots: Vec::new(),
            reentry: 0,
            main_depth: usize::MAX,
            out: Output::new(stdout, stderr),
            initialized: false,
            host,
            budget,
            // The value stack counts against the heap limit too (at least 64K slots).
            stack_limit: MAX_STACK_SLOTS.min((config.limits.max_heap / 8).max(1 << 16)),
            jit,
            native_limit: 0,
            config,
            module,
        };
        if vm.jit.as_ref().is_some_and(|j| j.mode == JitMode::Always) {
            vm.compile_all();
        }
        Ok(vm)
    }

    /// The module this VM runs.
    pub fn module(&self) -> &VerifiedModule {
        &self.module
    }

    /// Reads `io.read_line()` and `io.read_all()` from `input` instead of the process's
    /// standard input (which still needs the `stdin` capability).
    pub fn set_stdin(&mut self, input: Box<dyn std::io::BufRead + Send>) {
        self.host.stdin = Input::Reader(input);
    }

    /// A flag that, once set (from any thread), stops the guest at its next back-edge or
    /// call with a `timeout` trap: how an embedder cancels a run without a deadline. Take
    /// it before the run it is to stop: compiled code of a VM without limits checks the
    /// flag only from the first entry after the handle was taken (`sync_polls`).
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.budget.interrupt_handle()
    }

    /// The fuel left, if fuel is limited.
    pub fn fuel_remaining(&self) -> Option<u64> {
        self.budget.fuel_remaining()
    }

    /// Heap statistics.
    pub fn heap_stats(&self) -> HeapStats {
        self.heap.stats()
    }

    /// Runs the initialiser (once) and then `main`, returning the exit code: 0, `main`'s
    /// result, or the code given to `os.exit`. Standard output is flushed before returning.
    pub fn run_main(&mut self) -> Result<i32, Trap> {
        let result = self.run_main_inner();
        self.out.flush();
        result
    }

    fn run_main_inner(&mut self) -> Result<i32, Trap> {
        match self.ensure_init() {
            Ok(()) => {}
            Err(Unwind::Exit(code)) => return Ok(code),
            Err(Unwind::Trap(t)) => return Err(*t),
        }
        let Some(main) = self.module.module.main else {
            return Ok(0);
        };
        self.main_depth = self.frames.len() + 1;
        let result = self.invoke(main, &[]);
        self.main_depth = usize::MAX;
        match result {
            Ok(None) => Ok(0),
            // `ret` has checked the range (see `main_depth`).
            Ok(Some(v)) => Ok((v as i64).clamp(0, 255) as i32),
            Err(Unwind::Exit(code)) => Ok(code),
            Err(Unwind::Trap(t)) => Err(*t),
        }
    }

    /// Calls the exported function `name` with `args` (raw slots, one per parameter), after
    /// running the initialiser if it has not run yet. A call that returns gives
    /// [`CallOutcome::Return`] (with `None` for a function without a result); `os.exit`
    /// inside the call gives [`CallOutcome::Exit`]. The VM stays usable after either, and
    /// after a trap. Reference arguments must be live handles of this VM (e.g. from
    /// [`Vm::alloc_str`]); a bad handle can make the call misbehave but never unsafe.
    pub fn call_export(&mut self, name: &str, args: &[u64]) -> Result<CallOutcome, Trap> {
        let result = self.call_export_inner(name, args);
        self.out.flush();
        result
    }

    fn call_export_inner(&mut self, name: &str, args: &[u64]) -> Result<CallOutcome, Trap> {
        let bad = |reason: String| Trap::new(TrapKind::BadCall { reason });
        let func = self
            .module
            .module
            .exports
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.func)
            .ok_or_else(|| bad(format!("no export named {name:?}")))?;
        self.call_function_inner(func, args)
    }

    /// Calls function `func` (an index into the module's functions, e.g. from its exports)
    /// like [`Vm::call_export`], without looking a name up: the embedder's fast path, for a
    /// function resolved once and called many times. Standard output is flushed afterwards.
    pub fn call_function(&mut self, func: u32, args: &[u64]) -> Result<CallOutcome, Trap> {
        let result = self.call_function_inner(func, args);
        self.out.flush();
        result
    }

    fn call_function_inner(&mut self, func: u32, args: &[u64]) -> Result<CallOutcome, Trap> {
        let Some(f) = self.module.functions.get(func as usize) else {
            return Err(Trap::new(TrapKind::BadCall {
                reason: format!("no function #{func}"),
            }));
        };
        let params = f.param_count as usize;
        if params != args.len() {
            let name = self.module.module.functions.get(func as usize);
            let name = name.map_or("?", |f| f.name.as_str());
            return Err(Trap::new(TrapKind::BadCall {
                reason: format!("{name} takes {params} arguments, {} given", args.len()),
            }));
        }
        let outcome = self.ensure_init().and_then(|()| self.invoke(func, args));
        match outcome {
            Ok(v) => Ok(CallOutcome::Return(v)),
            Err(Unwind::Exit(code)) => Ok(CallOutcome::Exit(code)),
            Err(Unwind::Trap(t)) => Err(*t),
        }
    }

    fn ensure_init(&mut self) -> Result<(), Unwind> {
        if self.initialized {
            return Ok(());
        }
        self.initialized = true;
        match self.module.module.init {
            Some(init) => self.invoke(init, &[]).map(|_| ()),
            None => Ok(()),
        }
    }

    /// Runs function `func` with `args` from the top level, leaving the VM's stacks as they
    /// were whatever happens.
    fn invoke(&mut self, func: u32, args: &[u64]) -> Result<Option<u64>, Unwind> {
        let depth = self.frames.len();
        if depth == 0 {
            self.budget.start(self.config.limits.timeout);
            self.sync_polls();
            let probe = 0u8;
            let here = std::hint::black_box(&probe) as *const u8 as usize;
            self.native_limit = here.saturating_sub(self.config.native_stack);
        }
        let sp = self.sp;
        let mut stack = std::mem::take(&mut self.stack);
        let result = self.call_in(&mut stack, sp, func, args);
        self.stack = stack;
        self.frames.truncate(depth);
        self.sp = sp;
        result
    }

    /// Calls `func` with `args` placed at `stack[sp..]` and runs it to completion (used at
    /// the top level and by natives that call guest code).
    fn call_in(
        &mut self,
        stack: &mut Vec<u64>,
        sp: usize,
        func: u32,
        args: &[u64],
    ) -> Result<Option<u64>, Unwind> {
        let need = sp + args.len();
        if stack.len() < need {
            grow(stack, need).map_err(|k| self.trap(k, None))?;
        }
        stack[sp..need].copy_from_slice(args);
        let stop = self.frames.len();
        let module = self.module.clone();
        let f = module.functions.get(func as usize).ok_or_else(|| {
            self.trap(
                TrapKind::Internal {
                    what: "call of a function index out of range",
                },
                None,
            )
        })?;
        if let Err(k) = self.budget.charge(1) {
            return Err(self.trap(k, None));
        }
        let new_sp = self
            .push_frame(stack, func, f, sp, sp)
            .map_err(|k| self.trap(k, None))?;
        if self.jit.is_none() {
            return self.run::<{ exec::PLAIN }>(stack, stop, new_sp);
        }
        if let Some(entry) = self.tier_entry(func)
            && let Some(r) = self.enter_native(stack, entry, sp, -1)?
        {
            return Ok(f.result.is_some().then_some(r));
        }
        self.run::<{ exec::TIERED }>(stack, stop, new_sp)
    }

    /// The checks of pushing a frame whose slots end at `need`: the call-depth limit and
    /// the value-stack limit (growing the stack when it is too short).
    #[inline(always)]
    fn frame_room(&mut self, stack: &mut Vec<u64>, need: usize) -> Result<(), TrapKind> {
        if self.frames.len() >= self.config.max_call_depth {
            return Err(TrapKind::StackOverflow {
                limit: self.config.max_call_depth,
            });
        }
        if stack.len() < need {
            if need > self.stack_limit {
                return Err(TrapKind::StackOverflow {
                    limit: self.config.max_call_depth,
                });
            }
            grow(stack, need)?;
        }
        Ok(())
    }

    /// Pushes a frame for function `func` (whose verified form is `f`) with its locals
    /// starting at `base` (the arguments are already there), zeroing the declared locals;
    /// returns the new stack top.
    #[inline(always)]
    fn push_frame(
        &mut self,
        stack: &mut Vec<u64>,
        func: u32,
        f: &VerifiedFunction,
        base: usize,
        ret: usize,
    ) -> Result<usize, TrapKind> {
        // The unchecked stack accesses in `exec` rely on this function establishing
        // `stack.len() >= base + local_count + max_stack` before the frame runs.
        let locals_end = base + f.local_count as usize;
        let need = locals_end + f.max_stack as usize;
        self.frame_room(stack, need)?;
        if f.param_count < f.local_count {
            stack[base + f.param_count as usize..locals_end].fill(0);
        }
        self.frames.push(Frame {
            func,
            pc: 0,
            base,
            ret,
        });
        Ok(locals_end)
    }

    /// Builds a trap from `kind` with the current guest stack trace. `top_pc` is the
    /// instruction the innermost frame is executing, when it is not stored in the frame.
    fn trap(&self, kind: TrapKind, top_pc: Option<usize>) -> Unwind {
        let module = &self.module;
        let m: &Module = &module.module;
        let last = self.frames.len().wrapping_sub(1);
        let n = self.frames.len();
        let omitted = n.saturating_sub(2 * TRACE_KEPT);
        let trace = self
            .frames
            .iter()
            .enumerate()
            .rev()
            .filter(|(i, _)| omitted == 0 || *i < TRACE_KEPT || *i >= n - TRACE_KEPT)
            .map(|(i, fr)| {
                let pc = if i == last {
                    top_pc.unwrap_or(fr.pc)
                } else {
                    fr.pc
                };
                let function = m.functions.get(fr.func as usize);
                let position = module
                    .functions
                    .get(fr.func as usize)
                    .and_then(|vf| vf.offsets.get(pc))
                    .and_then(|&off| function.and_then(|f| f.position_at(off)))
                    .map(|e| SourcePos {
                        file: m
                            .files
                            .get(e.file as usize)
                            .cloned()
                            .unwrap_or_else(|| "<unknown>".into()),
                        line: e.line,
                        column: e.column,
                    });
                TraceFrame {
                    function: function.map_or_else(|| "?".into(), |f| f.name.clone()),
                    position,
                }
            })
            .collect();
        Unwind::Trap(Box::new(Trap {
            kind,
            trace,
            omitted_frames: omitted,
        }))
    }

    /// A full collection. `top_pc` is the next instruction of the innermost frame and `sp`
    /// its stack top (see the GC invariant in the module docs).
    fn collect(&mut self, stack: &[u64], top_pc: usize, sp: usize) {
        let module = &*self.module;
        let heap = &mut self.heap;
        for &h in &self.const_strs {
            heap.mark_root(h);
        }
        for (&v, &unset) in self.globals.iter().zip(&module.global_unset) {
            if unset == GlobalUnset::Ref {
                heap.mark_root(v);
            }
        }
        for &v in &self.temp_roots {
            heap.mark_root(v);
        }
        let n = self.frames.len();
        for (i, fr) in self.frames.iter().enumerate() {
            let Some(f) = module.functions.get(fr.func as usize) else {
                continue;
            };
            let locals = stack.get(fr.base..).unwrap_or(&[]);
            for (&v, &is_ref) in locals.iter().zip(&f.local_is_ref) {
                if is_ref {
                    heap.mark_root(v);
                }
            }
            let (pc, top) = if i + 1 == n {
                (top_pc, sp)
            } else {
                (fr.pc, self.frames[i + 1].base)
            };
            let ops_start = fr.base + f.local_count as usize;
            let ops = stack.get(ops_start..top.max(ops_start)).unwrap_or(&[]);
            for (&v, &is_ref) in ops.iter().zip(f.stack_map(pc as u32)) {
                if is_ref {
                    heap.mark_root(v);
                }
            }
        }
        heap.finish_collection(&module.layouts);
    }

    /// Runs a full collection now (only between runs; for tests and embedders).
    pub fn collect_garbage(&mut self) {
        let stack = std::mem::take(&mut self.stack);
        if self.frames.is_empty() {
            self.collect(&stack, 0, self.sp);
        }
        self.stack = stack;
    }
}

/// How an exported function call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// It returned, with its result if it has one.
    Return(Option<u64>),
    /// The guest called `os.exit(code)`.
    Exit(i32),
}

/// Grows the value stack to at least `need` slots (doubling), or reports out of memory.
#[cold]
#[inline(never)]
fn grow(stack: &mut Vec<u64>, need: usize) -> Result<(), TrapKind> {
    let target = need
        .max(stack.len().saturating_mul(2))
        .min(MAX_STACK_SLOTS.max(need));
    let extra = target - stack.len();
    stack
        .try_reserve(extra)
        .map_err(|_| TrapKind::OutOfMemory)?;
    stack.resize(target, 0);
    Ok(())
}

impl From<TrapKind> for Unwind {
    fn from(kind: TrapKind) -> Unwind {
        Unwind::Trap(Box::new(Trap::new(kind)))
    }
}

/// Access to values, for embedders.
impl Vm<'_> {
    /// The string behind a `str` slot (for embedders reading results).
    pub fn str_value(&self, v: u64) -> &str {
        self.heap.str(v)
    }

    /// Allocates a string and returns its slot (for embedders passing arguments). It is not
    /// a root: pass it to a call before the next allocation.
    pub fn alloc_str(&mut self, s: &str) -> Result<u64, Trap> {
        Ok(self.heap.alloc_str(s.into())? as u64)
    }

    /// The heap, for embedders reading results (strings, arrays, maps).
    pub fn heap(&self) -> &Heap {
        &self.heap
    }

    /// The heap, for embedders building arguments. Nothing allocated here is a root: pass
    /// it to a call before guest code runs again.
    pub fn heap_mut(&mut self) -> &mut Heap {
        &mut self.heap
    }

    /// Replaces the fuel left (`None`: unlimited), e.g. to give each call of a reused VM
    /// the same budget.
    pub fn set_fuel(&mut self, fuel: Option<u64>) {
        self.config.limits.fuel = fuel;
        self.budget.set_fuel(fuel);
    }

    /// The slot of global `index` (0 for a reference-typed global not yet set), for
    /// embedders reading module-level bindings after the initialiser.
    pub fn global(&self, index: usize) -> Option<u64> {
        self.globals.get(index).copied()
    }

    /// Whether the initialiser has run (it runs on the first call or `run_main`).
    pub fn is_initialized(&self) -> bool {
        self.initialized
    }

    /// Runs the initialiser now if it has not run yet (otherwise it runs on the first call).
    /// `os.exit` in the initialiser gives [`CallOutcome::Exit`].
    pub fn initialize(&mut self) -> Result<CallOutcome, Trap> {
        let result = match self.ensure_init() {
            Ok(()) => Ok(CallOutcome::Return(None)),
            Err(Unwind::Exit(code)) => Ok(CallOutcome::Exit(code)),
            Err(Unwind::Trap(t)) => Err(*t),
        };
        self.out.flush();
        result
    }
}
