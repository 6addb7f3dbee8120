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

/// The machine-code entry of a compiled function: `entry(cx, base, osr_pc, fuel, depth,
/// arg0)`.
///
/// The caller has pushed the function's frame record (locals at `base` in the value stack,
/// arguments already there). `osr_pc < 0` starts at the first instruction; otherwise the
/// frame is an interpreted one being replaced on the stack at loop header `osr_pc` (operand
/// stack empty, locals in their slots). `fuel` is the fuel counter (`Budget::ticks`, never
/// negative here): compiled code keeps it in a register, passes it to the compiled
/// functions it calls and gets it back from them, and writes it to the VM only around
/// runtime calls. `depth` is the frame count, the function's own record the last: compiled
/// code keeps it in a register too, passes `depth + 1` to the callees whose records it
/// pushes, and writes it to `cx.frames_len` only before runtime calls (which adopt it). The
/// function's frame is popped when it returns normally: the count is then `depth - 1`,
/// whatever `cx.frames_len` says (the caller's register is the truth). `arg0` is the first
/// argument's bits (anything for a function without parameters, ignored by on-stack
/// replacement): a normal entry takes its first parameter from it, not from the frame,
/// whose slot compiled callers fill only when it is a reference (the collector reads it)
/// or the call goes through the runtime. Compiled code never reads a non-reference
/// local from the frame outside on-stack replacement (references it spills at every
/// safepoint).
///
/// It returns the result (0 for a function without one) and the fuel counter. A negative
/// counter means the call unwound (a trap or `os.exit`, held in the context, whose
/// `status` is then non-zero) and the VM's own counter is current, or, after on-stack
/// replacement only, that the function did not run ([`NO_ROOM`], `status` zero);
/// otherwise the returned counter is current, and is never negative. So a compiled caller
/// tests one register for both.
///
/// **Room is checked once per activation.** A function that pushes frames inline (one with
/// a direct `call`, inlined or not) first checks that one more frame fits: `depth <
/// cx.frames_max`. When the check passes it holds for the whole activation, because the
/// frame count of an activation is fixed and `frames_max` never decreases while a context
/// lives (its parts are the frame storage's capacity and the value stack's length, which
/// only grow, and the call-depth limit and the native-stack and value-stack origins, fixed
/// per context); so the function's calls and the calls it inlines push their frames
/// without checking. A recursive call made a jump (see the JIT's `tail`) checks the next
/// activation's room before jumping (and calls through the runtime when it fails). When
/// the entry's check fails, nothing has run yet: a called function has the runtime
/// interpret the activation (`Runtime::interpret`, whose calls make the exact checks:
/// `stack overflow` at the same call, or a new context with room) and returns its result;
/// on-stack replacement returns at once with the counter it was given plus [`NO_ROOM`],
/// and the interpreter goes on with the loop.
pub type Entry = unsafe extern "C" fn(
    cx: *mut JitCtx,
    base: u64,
    osr_pc: i64,
    fuel: i64,
    depth: u64,
    arg0: u64,
) -> Exit;

/// Added to the fuel counter an [`Entry`] returns when on-stack replacement did not run
/// the function because one more frame would not fit (the sign bit: the counter is never
/// negative on entry).
pub const NO_ROOM: i64 = i64::MIN;

/// What an [`Entry`] returns (two integer registers in the C convention of both targets:
/// `rax:rdx` on x86_64, `x0:x1` on aarch64).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    /// The function's result.
    pub value: u64,
    /// The fuel counter; negative: the call unwound.
    pub fuel: i64,
}

/// A compiled function: its entry and what the compiler did to it (reported by
/// `--trace-jit` and summed in `JitStats`).
#[derive(Clone, Copy, Debug)]
pub struct Compiled {
    /// The machine code.
    pub entry: Entry,
    /// Direct calls whose callee was compiled into the function (inlined).
    pub inlined_calls: u32,
    /// Loops whose heap lookups were moved out of the loop body (call-free loops).
    pub hoisted_loops: u32,
    /// Recursive calls in accumulator position compiled as jumps back to the start.
    pub tail_calls: u32,
    /// Call sites that run their callee's early exit inline (partial inlining).
    pub early_exits: u32,
    /// Struct fields loaded once before a loop instead of in it.
    pub preloaded_fields: u32,
    /// Inlined calls a loop starts with whose unit of fuel its back edges charge.
    pub merged_charges: u32,
    /// Element accesses compiled without an index check (proved in bounds).
    pub unchecked_accesses: u32,
    /// Divisions and remainders by a constant of a value proved not negative, compiled
    /// as unsigned ones.
    pub unsigned_divisions: u32,
    /// Divisions by a power of two of a value proved its multiple, compiled as shifts.
    pub exact_divisions: u32,
    /// Fuel checks (at calls and back edges; none without `Runtime::polls`).
    pub fuel_checks: u32,
}

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

/// The most native stack, in bytes, one compiled frame may take (its Cranelift frame:
/// saved registers, spill slots, frame pointer and return address). A tier refuses a
/// function whose frame would be larger (it keeps running interpreted; the largest frame
/// among the test programs and benchmarks is under 256 bytes). So a compiled call need not check the stack
/// pointer: the VM turns the native stack left at each entry into compiled code into a
/// number of frames (`JitCtx::frames_max`), and the frame-count check every compiled call
/// makes anyway covers both.
pub const MAX_NATIVE_FRAME: usize = 2048;

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
    /// In [`JitMode::Auto`], compile on a thread of the VM's own while the interpreter
    /// goes on (the function switches to machine code at its next call or loop back-edge
    /// after the compilation finishes), instead of pausing the program for each
    /// compilation. Only a VM that shares its module (`Vm<'static>`) can; others compile
    /// synchronously. Off by default: with it, which compilations finish before a short
    /// program ends (and so `--trace-jit` and `Vm::jit_stats`) varies from run to run,
    /// though the program's behaviour does not.
    pub background: bool,
}

impl Default for JitConfig {
    fn default() -> JitConfig {
        JitConfig {
            mode: JitMode::Off,
            threshold: DEFAULT_JIT_THRESHOLD,
            compiler: None,
            trace: false,
            background: false,
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
    /// What the session compiles for, e.g. `cranelift x86_64` (printed by `--trace-jit`).
    fn target(&self) -> String;

    /// Compiles function `func` of `module` (the module the session was made for), calling
    /// the VM through `rt`. With `osr`, the entry also accepts on-stack replacement at any
    /// loop header (`osr_pc >= 0`; the VM uses it only for that, and compiles the function
    /// again for its calls); without, `osr_pc` must be negative, and the code is smaller
    /// and faster (a loop header then has one way in from outside its loop).
    fn compile(
        &mut self,
        module: &VerifiedModule,
        func: u32,
        rt: &Runtime,
        osr: bool,
    ) -> Result<Compiled, String>;
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
    /// `trap(cx, pc, kind, arg, arg2) -> status`: raises trap `kind` (see [`trap_code`]).
    pub trap: usize,
    /// `refill(cx, pc) -> status`: the fuel and deadline slow path.
    pub refill: usize,
    /// `interpret(cx) -> result`: runs the innermost frame, a compiled function's that had
    /// no room for its calls, in the interpreter from its start (status in `cx.status`).
    pub interpret: usize,
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
    /// How to read arrays and structs inline, if the layout could be established.
    pub heap: Option<HeapLayout>,
    /// Whether the code charges fuel and polls the budget (`refill`) at calls and back
    /// edges. Without, it never looks at the fuel counter (it passes it on unchanged): for
    /// a VM that nothing can stop, with no fuel limit, no timeout and no interrupt handle
    /// (`Vm::sync_polls` discards such code when one appears).
    pub polls: bool,
}

impl Runtime {
    /// Distinct, never-called addresses for every runtime function: for code that is
    /// compiled but not run (another architecture's code, compile-time benchmarks).
    pub fn placeholder(functions: u32) -> Runtime {
        Runtime {
            enter: 0x1000,
            call: 0x2000,
            ret: 0x3000,
            step: 0x4000,
            trap: 0x5000,
            refill: 0x6000,
            interpret: 0x6800,
            fmod: 0x7000,
            arr_get: 0x8000,
            arr_set: 0x9000,
            arr_len: 0xa000,
            field_get: 0xb000,
            field_set: 0xc000,
            functions,
            heap: HeapLayout::probe(),
            polls: true,
        }
    }
}

/// Where compiled code finds array elements and struct fields, established at run time by
/// [`HeapLayout::probe`] (Rust does not fix the layout of `Vec` or `Box<[T]>`, so it is
/// measured on real values rather than assumed; if anything looks unexpected there is no
/// layout and every access goes through the runtime). All offsets are in bytes.
///
/// The inline access it enables: the object of handle `h` at `table.ptr + h * obj_size`
/// (unchecked: compiled code holds only verified references, live objects of their static
/// type, see `ARCHITECTURE.md`); then the element pointer and length at
/// `items_ptr`/`items_len` (or the field pointer at `fields_ptr`) within the object, and for
/// an element an index check, which traps when it fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeapLayout {
    /// The object table's data pointer within its `Vec` header.
    pub table_ptr: i32,
    /// The size of one object slot.
    pub obj_size: i64,
    /// The element pointer of an array, within its object.
    pub items_ptr: i32,
    /// The element count of an array, within its object.
    pub items_len: i32,
    /// The field pointer of a struct, within its object.
    pub fields_ptr: i32,
}

impl HeapLayout {
    /// Measures the layout (see the type's docs); `None` if it is not the expected one.
    pub fn probe() -> Option<HeapLayout> {
        use crate::heap::{ArrayObj, Obj, StructObj, ValKind};
        use std::mem::size_of;

        /// The word offsets of the data pointer and the length in a `Vec` header.
        fn vec_words<T>(v: &Vec<T>) -> Option<(i32, i32)> {
            const W: usize = size_of::<usize>();
            if size_of::<Vec<T>>() != 3 * W || v.len() == v.capacity() {
                return None;
            }
            // SAFETY: a `Vec` is three words (checked above) and has no padding, so its
            // bytes can be read as three integers.
            let words: [usize; 3] = unsafe { std::ptr::read((v as *const Vec<T>).cast()) };
            let ptr = words.iter().position(|&w| w == v.as_ptr() as usize)?;
            let len = words.iter().position(|&w| w == v.len())?;
            let cap = words.iter().position(|&w| w == v.capacity())?;
            (ptr != len && len != cap && ptr != cap).then_some(((ptr * W) as i32, (len * W) as i32))
        }
        fn offset<T, U>(outer: &T, inner: &U) -> Option<i32> {
            let o = (inner as *const U as usize).checked_sub(outer as *const T as usize)?;
            (o + size_of::<U>() <= size_of::<T>()).then_some(o as i32)
        }
        let mut table: Vec<Obj> = Vec::with_capacity(4);
        table.push(Obj::Free);
        let (table_ptr, _) = vec_words(&table)?;

        let mut items = Vec::with_capacity(4);
        items.push(7u64);
        let array = Obj::Array(ArrayObj {
            elem: ValKind::Int,
            items,
        });
        let Obj::Array(a) = &array else { return None };
        let at = offset(&array, &a.items)?;
        let (ip, il) = vec_words(&a.items)?;

        let fields: Box<[u64]> = vec![1, 2, 3].into_boxed_slice();
        let strukt = Obj::Struct(StructObj { ty: 0, fields });
        let Obj::Struct(st) = &strukt else {
            return None;
        };
        let ft = offset(&strukt, &st.fields)?;
        const W: usize = size_of::<usize>();
        if size_of::<Box<[u64]>>() != 2 * W {
            return None;
        }
        // SAFETY: a boxed slice is two words (checked), a pointer and a length.
        let words: [usize; 2] = unsafe { std::ptr::read((&st.fields as *const Box<[u64]>).cast()) };
        let fp = words
            .iter()
            .position(|&w| w == st.fields.as_ptr() as usize)?;
        let fl = words.iter().position(|&w| w == st.fields.len())?;
        if fp == fl {
            return None;
        }
        Some(HeapLayout {
            table_ptr,
            obj_size: size_of::<Obj>() as i64,
            items_ptr: at + ip,
            items_len: at + il,
            fields_ptr: ft + (fp * W) as i32,
        })
    }
}

/// Codes of the traps compiled code raises inline (`Runtime::trap`).
pub mod trap_code {
    /// `division by zero`.
    pub const DIVISION_BY_ZERO: u64 = 0;
    /// `global NAME read before initialization` (arg: the global index).
    pub const GLOBAL_UNINIT: u64 = 1;
    /// An internal error (args ignored).
    pub const INTERNAL: u64 = 2;
    /// `index I out of bounds for length N` (arg: the index, arg2: the length).
    pub const INDEX_OUT_OF_BOUNDS: u64 = 3;
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
    /// `usize`: the frame count while `main` is innermost.
    pub const MAIN_DEPTH: i32 = std::mem::offset_of!(JitCtx, main_depth) as i32;
    /// `*const Vec<Obj>`: the heap's object table (see [`super::HeapLayout`]).
    pub const OBJECTS: i32 = std::mem::offset_of!(JitCtx, objects) as i32;
    /// `u64`: the canonical NaN's bits.
    pub const CANONICAL_NAN: i32 = std::mem::offset_of!(JitCtx, canonical_nan) as i32;
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
