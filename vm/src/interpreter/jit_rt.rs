//! The interpreter's side of the compiled tier: the calls from interpreted into compiled
//! code and the `extern "C"` runtime functions that compiled code calls back into (when
//! functions are compiled, and the entry tables: `tiering`).
//!
//! **One runtime for both tiers.** The runtime functions do not re-implement anything:
//! frames are pushed by [`Vm::push_frame`], traps built by [`Vm::trap`], fuel charged by the
//! same [`Budget`](super::Budget), and every instruction the JIT does not inline runs through
//! [`rt_step`], which executes that one instruction with the interpreter's own dispatch loop
//! (`run::<STEP>`), collections (`gc!`) and heap-limit retries included.
//!
//! **The context.** Every entry from Rust into compiled code builds a [`JitCtx`] on the Rust
//! stack holding raw pointers to the VM and its value stack. While compiled code runs, the
//! VM is reached only through that context (the Rust caller's borrows are suspended until
//! the call returns), so each runtime function may turn it back into `&mut Vm` for its
//! duration. A trap or `os.exit` is stored in the context and signalled by `status`, which
//! compiled code checks after every runtime call and propagates by returning (to a compiled
//! caller with a negative fuel counter, see `tier::Entry`): Rust frames are never unwound
//! through machine code.

use super::exec::{STEP, TIERED};
use super::{Frame, Unwind, Vm};
use crate::runtime::arrays;
use crate::tier::{Entry, Runtime, trap_code};
use crate::trap::TrapKind;

/// What compiled code sees of the VM during one entry from Rust (see the module docs).
#[repr(C)]
#[derive(Debug)]
pub struct JitCtx {
    pub(crate) stack_data: *mut u64,
    pub(crate) status: u64,
    pub(crate) ticks: *mut i64,
    pub(crate) code: *const Option<Entry>,
    pub(crate) globals: *mut u64,
    pub(crate) const_strs: *const u64,
    /// The frame records' storage, their count and how many compiled code may hold before
    /// asking the runtime: the capacity, the call-depth limit, `native_frames` and the
    /// frames the value stack surely has room for (`Vm::frames_max`), whichever is lowest,
    /// so a compiled call checks one number. Compiled code keeps the count in a register
    /// and writes it here before every runtime call, which adopts it on entry (see
    /// `tier::Entry`).
    pub(crate) frames_ptr: *mut Frame,
    pub(crate) frames_len: usize,
    pub(crate) frames_max: usize,
    /// The frame count while `main` is innermost (its `ret` checks the exit code).
    pub(crate) main_depth: usize,
    /// The frame count compiled frames pushed inline may reach before the native stack
    /// would: the count at entry plus the stack left, in frames of
    /// `tier::MAX_NATIVE_FRAME` bytes. A compiled call beyond it goes through the runtime,
    /// which checks the real stack pointer (and enters compiled code again with a new
    /// context, or traps with `stack overflow`).
    native_frames: usize,
    /// The frame this context entered compiled code with: its count (the frame the last)
    /// and its base. Every frame compiled code pushes under this context descends from it,
    /// which is what the value stack's part of `frames_max` counts from
    /// (`Vm::stack_frames`).
    origin: (usize, usize),
    /// The heap's object table (read inline by compiled code, see `tier::HeapLayout`).
    pub(crate) objects: *const Vec<crate::heap::Obj>,
    /// `float::CANONICAL_NAN_BITS`, where compiled code can load it from a register.
    pub(crate) canonical_nan: u64,
    vm: *mut Vm<'static>,
    stack: *mut Vec<u64>,
    pending: Option<Unwind>,
}

pub(super) fn runtime(
    functions: u32,
    heap: Option<crate::tier::HeapLayout>,
    polls: bool,
) -> Runtime {
    Runtime {
        enter: rt_enter as *const () as usize,
        call: rt_call as *const () as usize,
        ret: rt_ret as *const () as usize,
        step: rt_step as *const () as usize,
        trap: rt_trap as *const () as usize,
        refill: rt_refill as *const () as usize,
        interpret: rt_interpret as *const () as usize,
        fmod: rt_fmod as *const () as usize,
        arr_get: rt_arr_get as *const () as usize,
        arr_set: rt_arr_set as *const () as usize,
        arr_len: rt_arr_len as *const () as usize,
        field_get: rt_field_get as *const () as usize,
        field_set: rt_field_set as *const () as usize,
        functions,
        heap,
        polls,
    }
}

/// The current native stack address (approximately: a local's address).
#[inline(always)]
fn native_sp() -> usize {
    let probe = 0u8;
    std::hint::black_box(&probe) as *const u8 as usize
}

impl Vm<'_> {
    /// Runs compiled `entry` for the innermost frame (already pushed, locals at `base`),
    /// from its start (`osr_pc < 0`) or from loop header `osr_pc`. The frame is popped when
    /// this returns `Ok(Some(result))`. `Ok(None)`: the code did not run, because the
    /// function makes calls and one more frame would not fit (`tier::NO_ROOM`, only for
    /// on-stack replacement: a called function has its activation interpreted itself);
    /// the frame is untouched and the caller interprets it instead.
    pub(super) fn enter_native(
        &mut self,
        stack: &mut Vec<u64>,
        entry: Entry,
        base: usize,
        osr_pc: i64,
    ) -> Result<Option<u64>, Unwind> {
        if native_sp() < self.native_limit {
            let limit = self.config.max_call_depth;
            return Err(self.trap(TrapKind::StackOverflow { limit }, None));
        }
        // Compiled code signals unwinding by a negative fuel counter, so it must start
        // with a non-negative one (the tiers refill before going on; this never runs).
        if self.budget.ticks < 0
            && let Err(kind) = self.budget.refill()
        {
            return Err(self.trap(kind, None));
        }
        let fuel = self.budget.ticks;
        let depth = self.frames.len();
        if depth == self.frames.capacity() {
            // Room for the frames of the function's calls (`frames_max` counts the
            // storage); failing leaves them to the runtime.
            let _ = self.frames.try_reserve(1);
        }
        let native_frames =
            depth + native_sp().saturating_sub(self.native_limit) / crate::tier::MAX_NATIVE_FRAME;
        self.stack_for_compiled_code(stack, base);
        let origin = (depth, base);
        let frames_max = self.frames_max(native_frames, stack.len(), origin);
        let vm: *mut Vm<'_> = self;
        let Some(code) = self.jit.as_ref().map(|j| j.code.as_ptr()) else {
            return Err(self.trap(
                TrapKind::Internal {
                    what: "compiled code without a JIT",
                },
                None,
            ));
        };
        let mut cx = JitCtx {
            stack_data: stack.as_mut_ptr(),
            frames_ptr: self.frames_for_compiled_code(),
            frames_len: depth,
            frames_max,
            native_frames,
            origin,
            main_depth: self.main_depth,
            // SAFETY: as below; the table's header lives in the heap inside the VM, which
            // does not move while compiled code runs.
            objects: unsafe { (*vm).heap.objects_table() },
            status: 0,
            canonical_nan: crate::float::CANONICAL_NAN_BITS,
            // SAFETY: `vm` is `self`, valid for this call; taking field addresses creates
            // no reference.
            ticks: unsafe { &raw mut (*vm).budget.ticks },
            code,
            // SAFETY: as above; `globals` and `const_strs` are never resized after `new`.
            globals: unsafe { (*vm).globals.as_mut_ptr() },
            // SAFETY: as above.
            const_strs: unsafe { (*vm).const_strs.as_ptr() },
            vm: vm.cast(),
            stack,
            pending: None,
        };
        // The first argument (or whatever is in its slot: a function without parameters
        // ignores it).
        let arg0 = stack.get(base).copied().unwrap_or(0);
        // SAFETY: `entry` was produced by the tier for this module from verified code; it
        // accesses the VM only through `cx` (valid and exclusively its own until it returns:
        // `self` and `stack` are not used meanwhile) and the value stack within the frames
        // the verifier's facts allow, re-reading `cx.stack_data` after every runtime call.
        // `fuel` is not negative (above) and `depth` counts the frame being run.
        let exit = unsafe { entry(&mut cx, base as u64, osr_pc, fuel, depth as u64, arg0) };
        if exit.fuel < 0 && cx.status == 0 {
            // `NO_ROOM`: nothing ran (the frames and the counter are as they were).
            self.count_no_room();
            return Ok(None);
        }
        // A normal return popped the frame; an unwinding one left the count of the moment
        // of the trap in the context (compiled code writes it before every runtime call).
        let len = if exit.fuel >= 0 {
            depth.saturating_sub(1)
        } else {
            cx.frames_len
        };
        // SAFETY: see `adopt_frames`.
        unsafe { adopt_frames(&mut self.frames, len) };
        debug_assert_eq!(
            exit.fuel < 0,
            cx.status != 0,
            "the fuel counter signals unwinding"
        );
        if exit.fuel >= 0 {
            self.budget.ticks = exit.fuel;
        }
        let r = exit.value;
        if cx.status != 0 {
            return Err(cx.pending.take().unwrap_or_else(|| {
                Unwind::from(TrapKind::Internal {
                    what: "compiled code unwound without a reason",
                })
            }));
        }
        Ok(Some(r))
    }
}

/// Takes over the frame count compiled code kept in its context.
///
/// # Safety
/// `len` must come from a context whose `frames_ptr` is `frames`' buffer (or be the count
/// before the entry minus the popped frame): compiled code writes a count only after
/// writing the fields that matter of the records below it, at indices below `frames_max
/// <= capacity`, and every record up to the capacity was initialised before
/// (`Vm::frames_for_compiled_code`), so the first `len` records are initialised.
unsafe fn adopt_frames(frames: &mut Vec<Frame>, len: usize) {
    debug_assert!(len <= frames.capacity());
    if len <= frames.capacity() {
        // SAFETY: per the contract.
        unsafe { frames.set_len(len) };
    }
}

/// Turns the context back into the VM and its value stack for the duration of a runtime
/// function, adopting the frame count compiled code kept.
///
/// # Safety
/// `cx` must be the live context of the current entry into compiled code (see the module
/// docs), and the two references must not outlive the runtime function.
unsafe fn parts<'a>(cx: *mut JitCtx) -> (&'a mut JitCtx, &'a mut Vm<'static>, &'a mut Vec<u64>) {
    // SAFETY: per the contract, `cx`, its VM and its value stack are valid and not
    // otherwise borrowed while the runtime function runs; the three are distinct objects;
    // the frame count is the context's (see `adopt_frames`).
    unsafe {
        let c = &mut *cx;
        let vm = &mut *c.vm;
        let stack = &mut *c.stack;
        adopt_frames(&mut vm.frames, c.frames_len);
        // `frames_max` kept every frame compiled code pushed within the value stack.
        debug_assert!(
            vm.frames.last().is_none_or(|f| {
                let size = vm
                    .module
                    .functions
                    .get(f.func as usize)
                    .map_or(0, |vf| vf.local_count as usize + vf.max_stack as usize);
                f.base + size <= stack.len()
            }),
            "a frame beyond the value stack"
        );
        (c, vm, stack)
    }
}

impl JitCtx {
    /// Records an unwind; returns the non-zero status.
    fn fail(&mut self, u: Unwind) -> u64 {
        self.pending = Some(u);
        self.status = 1;
        1
    }

    /// Hands the (possibly moved or grown) value stack and frames back to compiled code.
    fn refresh(&mut self, vm: &mut Vm<'_>, stack: &mut [u64]) {
        self.stack_data = stack.as_mut_ptr();
        self.frames_ptr = vm.frames_for_compiled_code();
        self.frames_len = vm.frames.len();
        self.frames_max = vm.frames_max(self.native_frames, stack.len(), self.origin);
    }
}

impl Vm<'_> {
    /// `JitCtx::frames_max`: the frame storage's capacity, the call-depth limit, the
    /// frames the native stack has room for, or [`Self::stack_frames`] from `origin`,
    /// whichever is lowest.
    fn frames_max(&self, native_frames: usize, stack_len: usize, origin: (usize, usize)) -> usize {
        self.frames
            .capacity()
            .min(self.config.max_call_depth)
            .min(native_frames)
            .min(self.stack_frames(stack_len, origin))
    }

    /// The frame count below which every frame compiled code pushes under a context that
    /// entered with `depth` frames, the last at `base` (`JitCtx::origin`), fits in a value
    /// stack of `stack_len` slots, whichever function pushes it. A frame starts within its
    /// caller's slots and takes at most `frame_slots` (the largest function's locals and
    /// operand stack), and every such frame descends from the origin frame, so the one at
    /// index `n` (pushed at count `n`) ends by `base + (n - depth + 2) * frame_slots`; it
    /// fits while `n < depth + (stack_len - base) / frame_slots - 1`. Counting from the
    /// innermost frame instead would be wrong: after it returns, its caller pushes frames
    /// that need not start above it. Conservative: past the count, compiled code asks the
    /// runtime, which makes the exact check and enters compiled code again with the new
    /// frame as origin (and [`Self::stack_for_compiled_code`] grows the stack).
    fn stack_frames(&self, stack_len: usize, (depth, base): (usize, usize)) -> usize {
        (depth + stack_len.saturating_sub(base) / self.frame_slots).saturating_sub(1)
    }

    /// Grows the value stack (doubling, within the stack limit) when it would stop compiled
    /// calls from the frame entering compiled code at once (`stack_frames` at most one more
    /// frame): the runtime's exact check lets calls through that the conservative count
    /// does not, and without this a deep recursion near the stack's end would take the
    /// runtime's path at every call. Failing to grow changes nothing but speed.
    fn stack_for_compiled_code(&mut self, stack: &mut Vec<u64>, base: usize) {
        let depth = self.frames.len();
        if self.stack_frames(stack.len(), (depth, base)) > depth + 1
            || stack.len() >= self.stack_limit
        {
            return;
        }
        let target = stack.len().saturating_mul(2).clamp(1, self.stack_limit);
        if stack.try_reserve(target - stack.len()).is_ok() {
            stack.resize(target, 0);
        }
    }

    /// The frame storage for compiled code, whose spare records (up to the capacity) are
    /// initialised: compiled code writes only the fields of a record that are read later
    /// (not `pc` and `ret`, see `write_frame` in the JIT), and the VM adopts the records it
    /// pushed, so every field must hold some value (stale, never read). Filled once per
    /// capacity: records the VM truncated keep their values.
    fn frames_for_compiled_code(&mut self) -> *mut Frame {
        if self.frames.capacity() != self.frames_initialised {
            let empty = Frame {
                func: 0,
                pc: 0,
                base: 0,
                ret: 0,
            };
            for slot in self.frames.spare_capacity_mut() {
                slot.write(empty);
            }
            self.frames_initialised = self.frames.capacity();
        }
        self.frames.as_mut_ptr()
    }

    /// See [`rt_interpret`].
    fn interpret_innermost(&mut self, stack: &mut Vec<u64>) -> Result<u64, Unwind> {
        self.count_no_room();
        let module = self.module.clone();
        let depth = self.frames.len();
        let frame = self.frames.last_mut().map(|fr| {
            fr.pc = 0;
            fr.ret = fr.base;
            (fr.func, fr.base)
        });
        let Some((f, base)) = frame.and_then(|(i, b)| Some((module.functions.get(i as usize)?, b)))
        else {
            let what = "an interpreted activation without a frame";
            return Err(self.trap(TrapKind::Internal { what }, None));
        };
        let (params, locals) = (f.param_count as usize, f.local_count as usize);
        // In range: the caller checked that the frame fits in the value stack.
        let Some(declared) = stack.get_mut(base + params..base + locals) else {
            let what = "an interpreted activation outside the value stack";
            return Err(self.trap(TrapKind::Internal { what }, None));
        };
        declared.fill(0);
        self.run::<TIERED>(stack, depth - 1, base + locals)
            .map(|r| r.unwrap_or(0))
    }

    fn set_pc(&mut self, pc: u64) {
        if let Some(fr) = self.frames.last_mut() {
            fr.pc = pc as usize;
        }
    }

    /// Pushes the callee's frame for a call from compiled code at `caller_pc`.
    fn jit_push(
        &mut self,
        stack: &mut Vec<u64>,
        caller_pc: u64,
        callee: u64,
        new_base: u64,
        ret: u64,
    ) -> Result<usize, Unwind> {
        self.set_pc(caller_pc);
        let module = self.module.clone();
        let Some(f) = module.functions.get(callee as usize) else {
            let what = "call of a function index out of range";
            return Err(self.trap(TrapKind::Internal { what }, None));
        };
        if native_sp() < self.native_limit {
            let limit = self.config.max_call_depth;
            return Err(self.trap(TrapKind::StackOverflow { limit }, None));
        }
        self.push_frame(stack, callee as u32, f, new_base as usize, ret as usize)
            .map_err(|k| self.trap(k, None))
    }
}

/// Pushes the frame of a call from compiled code to a compiled callee.
///
/// # Safety
/// Called by compiled code with its live context.
unsafe extern "C" fn rt_enter(
    cx: *mut JitCtx,
    caller_pc: u64,
    callee: u64,
    new_base: u64,
    ret: u64,
) -> u64 {
    // SAFETY: called by compiled code with its context.
    let (cx, vm, stack) = unsafe { parts(cx) };
    let r = vm.jit_push(stack, caller_pc, callee, new_base, ret);
    cx.refresh(vm, stack);
    match r {
        Ok(_) => 0,
        Err(u) => cx.fail(u),
    }
}

/// A whole call from compiled code of a function that may not be compiled: pushes its
/// frame and runs it in whichever tier it has (compiling it if it became hot).
///
/// # Safety
/// Called by compiled code with its live context.
unsafe extern "C" fn rt_call(
    cx: *mut JitCtx,
    caller_pc: u64,
    callee: u64,
    new_base: u64,
    ret: u64,
) -> u64 {
    // SAFETY: called by compiled code with its context.
    let (cx, vm, stack) = unsafe { parts(cx) };
    let stop = vm.frames.len();
    let r = vm
        .jit_push(stack, caller_pc, callee, new_base, ret)
        .and_then(|sp| {
            let native = match vm.tier_entry(callee as u32) {
                Some(e) => vm.enter_native(stack, e, new_base as usize, -1)?,
                None => None,
            };
            match native {
                Some(r) => Ok(r),
                None => vm.run::<TIERED>(stack, stop, sp).map(|r| r.unwrap_or(0)),
            }
        });
    cx.refresh(vm, stack);
    match r {
        Ok(v) => v,
        Err(u) => {
            cx.fail(u);
            0
        }
    }
}

/// Returns from the innermost (compiled) frame at instruction `pc` with `result`.
///
/// # Safety
/// Called by compiled code with its live context.
unsafe extern "C" fn rt_ret(cx: *mut JitCtx, pc: u64, result: u64) -> u64 {
    // SAFETY: called by compiled code with its context.
    let (cx, vm, _) = unsafe { parts(cx) };
    if vm.frames.len() == vm.main_depth {
        let code = result as i64;
        let has_result = vm
            .frames
            .last()
            .and_then(|fr| vm.module.functions.get(fr.func as usize))
            .is_some_and(|f| f.result.is_some());
        if has_result && !(0..=255).contains(&code) {
            let u = vm.trap(TrapKind::ExitCodeOutOfRange { code }, Some(pc as usize));
            return cx.fail(u);
        }
    }
    vm.frames.pop();
    cx.frames_len = vm.frames.len();
    0
}

/// Runs instruction `pc` of the innermost frame with the interpreter's code. The operand
/// stack (top at `sp`) and every reference local are in the value stack.
///
/// # Safety
/// Called by compiled code with its live context.
unsafe extern "C" fn rt_step(cx: *mut JitCtx, pc: u64, sp: u64) -> u64 {
    // SAFETY: called by compiled code with its context.
    let (cx, vm, stack) = unsafe { parts(cx) };
    vm.set_pc(pc);
    let r = vm.run::<STEP>(stack, 0, sp as usize);
    cx.refresh(vm, stack);
    match r {
        Ok(_) => 0,
        Err(u) => cx.fail(u),
    }
}

/// Raises the trap `kind` ([`trap_code`]) at instruction `pc` of the innermost frame.
///
/// # Safety
/// Called by compiled code with its live context.
unsafe extern "C" fn rt_trap(cx: *mut JitCtx, pc: u64, kind: u64, arg: u64, arg2: u64) -> u64 {
    // SAFETY: called by compiled code with its context.
    let (cx, vm, _) = unsafe { parts(cx) };
    let kind = match kind {
        trap_code::DIVISION_BY_ZERO => TrapKind::DivisionByZero,
        trap_code::GLOBAL_UNINIT => {
            let name = vm
                .module
                .module
                .globals
                .get(arg as usize)
                .map_or_else(|| "?".into(), |g| g.name.clone());
            TrapKind::GlobalUninit { name }
        }
        trap_code::INDEX_OUT_OF_BOUNDS => TrapKind::IndexOutOfBounds {
            index: arg as i64,
            len: arg2 as _,
        },
        _ => TrapKind::Internal {
            what: "compiled code reached an impossible state",
        },
    };
    let u = vm.trap(kind, Some(pc as usize));
    cx.fail(u)
}

/// Runs the innermost frame in the interpreter from its start, to its return: a compiled
/// function's whose entry found no room for one more frame (see `tier::Entry`). Its record
/// holds its function and base (written by its caller), its arguments are in its slots;
/// its declared locals are zeroed here as `push_frame` would. Returns the result (status
/// in the context).
///
/// # Safety
/// Called by compiled code with its live context.
unsafe extern "C" fn rt_interpret(cx: *mut JitCtx) -> u64 {
    // SAFETY: called by compiled code with its context.
    let (cx, vm, stack) = unsafe { parts(cx) };
    let r = vm.interpret_innermost(stack);
    cx.refresh(vm, stack);
    match r {
        Ok(v) => v,
        Err(u) => {
            cx.fail(u);
            0
        }
    }
}

/// The fuel and deadline slow path, for the jump or call at `pc`.
///
/// # Safety
/// Called by compiled code with its live context.
unsafe extern "C" fn rt_refill(cx: *mut JitCtx, pc: u64) -> u64 {
    // SAFETY: called by compiled code with its context.
    let (cx, vm, _) = unsafe { parts(cx) };
    match vm.budget.refill() {
        Ok(()) => 0,
        Err(kind) => {
            let u = vm.trap(kind, Some(pc as usize));
            cx.fail(u)
        }
    }
}

/// Records the trap `kind` at `pc`; returns the non-zero status.
fn access_fail(cx: &mut JitCtx, vm: &mut Vm<'_>, pc: u64, kind: TrapKind) -> u64 {
    let u = vm.trap(kind, Some(pc as usize));
    cx.fail(u)
}

/// `arr.get` (cannot collect; a trap sets the status and returns 0).
///
/// # Safety
/// Called by compiled code with its live context.
unsafe extern "C" fn rt_arr_get(cx: *mut JitCtx, pc: u64, arr: u64, i: u64) -> u64 {
    // SAFETY: called by compiled code with its context.
    let (cx, vm, _) = unsafe { parts(cx) };
    match arrays::get(&vm.heap, arr, i as i64) {
        Ok(v) => v,
        Err(kind) => {
            access_fail(cx, vm, pc, kind);
            0
        }
    }
}

/// `arr.set`; returns the status.
///
/// # Safety
/// Called by compiled code with its live context.
unsafe extern "C" fn rt_arr_set(cx: *mut JitCtx, pc: u64, arr: u64, i: u64, v: u64) -> u64 {
    // SAFETY: called by compiled code with its context.
    let (cx, vm, _) = unsafe { parts(cx) };
    match arrays::set(&mut vm.heap, arr, i as i64, v) {
        Ok(()) => 0,
        Err(kind) => access_fail(cx, vm, pc, kind),
    }
}

/// `arr.len` (a trap sets the status and returns 0).
///
/// # Safety
/// Called by compiled code with its live context.
unsafe extern "C" fn rt_arr_len(cx: *mut JitCtx, pc: u64, arr: u64) -> u64 {
    // SAFETY: called by compiled code with its context.
    let (cx, vm, _) = unsafe { parts(cx) };
    match vm.heap.array(arr) {
        Ok(a) => a.items.len() as u64,
        Err(kind) => {
            access_fail(cx, vm, pc, kind);
            0
        }
    }
}

/// `field.get` (a trap sets the status and returns 0).
///
/// # Safety
/// Called by compiled code with its live context.
unsafe extern "C" fn rt_field_get(cx: *mut JitCtx, pc: u64, s: u64, index: u64) -> u64 {
    // SAFETY: called by compiled code with its context.
    let (cx, vm, _) = unsafe { parts(cx) };
    let r = vm.heap.struct_(s).and_then(|o| {
        o.fields
            .get(index as usize)
            .copied()
            .ok_or(TrapKind::Internal {
                what: "field index out of range",
            })
    });
    match r {
        Ok(v) => v,
        Err(kind) => {
            access_fail(cx, vm, pc, kind);
            0
        }
    }
}

/// `field.set`; returns the status.
///
/// # Safety
/// Called by compiled code with its live context.
unsafe extern "C" fn rt_field_set(cx: *mut JitCtx, pc: u64, s: u64, index: u64, v: u64) -> u64 {
    // SAFETY: called by compiled code with its context.
    let (cx, vm, _) = unsafe { parts(cx) };
    let r = vm.heap.struct_mut(s).and_then(|o| {
        o.fields
            .get_mut(index as usize)
            .map(|slot| *slot = v)
            .ok_or(TrapKind::Internal {
                what: "field index out of range",
            })
    });
    match r {
        Ok(()) => 0,
        Err(kind) => access_fail(cx, vm, pc, kind),
    }
}

/// `a % b` as the interpreter computes it (C's `fmod`, canonical NaN).
extern "C" fn rt_fmod(a: f64, b: f64) -> f64 {
    crate::float::canonical(a % b)
}
