//! The dispatch loop: one exhaustive `match` over the prepared code, whose `Op::I` arms
//! cover every [`Instr`] (no wildcard, so a new opcode is a compile error here) and whose
//! other arms are the superinstructions of `prepare`.
//!
//! The hot state (`pc`, `sp`, `base`, the current code slice) lives in locals and is
//! re-fetched from the frame records only on calls and returns. The value stack is passed
//! in as `&mut Vec<u64>` taken out of the `Vm`, so the optimiser knows no other path writes
//! it. Instructions that allocate end with `gc!()`, the only place a collection can start
//! (see the GC invariant in the parent module).

use super::prepare::Op;
use super::{Unwind, Vm};
use crate::float::canonical_bits;
use crate::format::Instr;
use crate::natives::Native;
use crate::runtime::host::{HostContext, HostOutcome};
use crate::runtime::{arrays, host, maps, natives, strings};
use crate::trap::TrapKind;
use crate::value_fmt::push_value;
use crate::verified::UNSET_FN;

/// `run` without a compiled tier: the plain dispatch loop.
pub(super) const PLAIN: u8 = 0;
/// `run` with a compiled tier: calls of compiled functions go to their machine code, and in
/// `auto` mode calls and loop back-edges are counted, compiling hot functions and entering
/// a hot loop by on-stack replacement.
pub(super) const TIERED: u8 = 1;
/// `run` executing exactly one (unfused) instruction of the innermost frame and returning
/// the new stack top: how compiled code runs the instructions it does not inline.
pub(super) const STEP: u8 = 2;

const fn internal(what: &'static str) -> TrapKind {
    TrapKind::Internal { what }
}

impl Vm<'_> {
    /// Runs the innermost frame (from its stored `pc`, with stack top `sp`) and everything
    /// it calls, until the frame count drops back to `stop`; returns the result of the
    /// frame that returned last. In the [`STEP`] mode, runs one instruction and returns
    /// the new stack top instead.
    pub(super) fn run<const MODE: u8>(
        &mut self,
        stack: &mut Vec<u64>,
        stop: usize,
        sp: usize,
    ) -> Result<Option<u64>, Unwind> {
        let module = self.module.clone();
        let funcs = &module.functions[..];
        let Some(top) = self.frames.last().copied() else {
            return Err(internal("run without a frame").into());
        };
        let Some(mut func) = funcs.get(top.func as usize) else {
            return Err(internal("frame of a function index out of range").into());
        };
        let mut code: &[Op] = &func.ops;
        let mut pc = top.pc;
        let mut base = top.base;
        let mut sp = sp;
        // The activation (frame count, base) whose on-stack replacement was declined for
        // want of room (see `tier::Entry`): it is not attempted again at every back edge.
        let mut declined: Option<(usize, usize)> = None;
        // The stack as a plain slice (pointer and length in registers); re-derived after
        // anything that may grow the `Vec`.
        let mut st: &mut [u64] = &mut stack[..];

        // Traps: `pc` has already moved past the failing instruction.
        macro_rules! fail {
            ($kind:expr) => {
                return Err(self.trap($kind, Some(pc - 1)))
            };
        }
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(kind) => fail!(kind),
                }
            };
        }
        macro_rules! gc {
            () => {
                if self.heap.should_collect() {
                    self.collect(st, pc, sp);
                    if self.heap.over_limit() {
                        fail!(TrapKind::OutOfMemory);
                    }
                }
            };
        }
        // `tri!` for allocating instructions, with `$sp0` the stack top before the
        // instruction: when the heap limit is in the way (`HeapLimit`), collect with the
        // instruction's own stack map (its operands are still in place below `$sp0`: popping
        // only moves `sp`) and evaluate the call once more. The allocating runtime functions
        // reserve before they mutate anything, so the second try starts from the same state.
        macro_rules! atri {
            ($sp0:expr, $e:expr) => {{
                let mut collected = false;
                loop {
                    match $e {
                        Ok(v) => break v,
                        Err(TrapKind::HeapLimit) if !collected => {
                            collected = true;
                            self.collect(st, pc - 1, $sp0);
                        }
                        Err(TrapKind::HeapLimit) => fail!(TrapKind::OutOfMemory),
                        Err(kind) => fail!(kind),
                    }
                }
            }};
        }
        // Charges `$units` of fuel (back-edges and calls): one subtract and a branch; the
        // slow path hands out more fuel and checks the deadline (see `budget`).
        macro_rules! tick {
            ($units:expr) => {
                self.budget.ticks -= $units as i64;
                if self.budget.ticks < 0 {
                    if let Err(kind) = self.budget.refill() {
                        fail!(kind);
                    }
                }
            };
        }
        // A taken jump: backward jumps (loop back-edges) are charged their distance.
        macro_rules! jump {
            ($target:expr) => {{
                let t = $target;
                if t < pc {
                    tick!(pc - t);
                    if MODE == TIERED && sp == ops_base!() {
                        osr!(t);
                    }
                }
                pc = t;
            }};
        }
        // ---- Unchecked value-stack access (the hottest accesses of the loop).
        //
        // What makes it sound, for the current frame of verified function `func` at a
        // reachable instruction (prepared ops are checked against the same facts: each
        // fused op does what its verified instructions do, in one step, see `prepare`):
        // (1) the verifier proved the operand stack height `h` there exactly, with
        //     `h >= ` what the instruction pops (`stack-underflow`) and `h <= max_stack`
        //     after what it pushes (`stack-overflow`); the loop keeps
        //     `sp == base + local_count + h`;
        // (2) every local index is `< local_count` (`local-index`);
        // (3) `push_frame` made `stack.len() >= base + local_count + max_stack` before the
        //     frame ran, the value stack never shrinks, and `st` is re-derived from it after
        //     anything that may grow it (calls, `sort_by`);
        // (4) only the verifier can make or change a `VerifiedModule` (its fields are
        //     private to this crate), so these facts are the verifier's, not a caller's.
        // The `debug_assert!`s check the same bounds, frame-precisely, in debug builds
        // (the whole test suite).
        macro_rules! ops_base {
            () => {
                base + func.local_count as usize
            };
        }
        macro_rules! pop {
            () => {{
                debug_assert!(sp > ops_base!() && sp <= st.len());
                sp -= 1;
                // SAFETY: by (1) the instruction finds an operand (`h >= 1`), so
                // `ops_base <= sp - 1 < ops_base + max_stack <= st.len()` by (3).
                unsafe { *st.get_unchecked(sp) }
            }};
        }
        macro_rules! push {
            ($v:expr) => {{
                let v = $v;
                debug_assert!(sp < ops_base!() + func.max_stack as usize && sp < st.len());
                // SAFETY: by (1) the push keeps `h + 1 <= max_stack`, so
                // `sp < ops_base + max_stack <= st.len()` by (3).
                unsafe { *st.get_unchecked_mut(sp) = v };
                sp += 1;
            }};
        }
        // The `k`-th operand from the top (1 = the top), as a place.
        macro_rules! opnd {
            ($k:expr) => {
                *{
                    let k: usize = $k;
                    debug_assert!(sp >= ops_base!() + k && sp <= st.len());
                    // SAFETY: by (1) the instruction (which pops at least `k`) finds
                    // `h >= k` operands, so `ops_base <= sp - k < sp <= st.len()` by (3).
                    unsafe { st.get_unchecked_mut(sp - k) }
                }
            };
        }
        macro_rules! top {
            () => {
                opnd!(1)
            };
        }
        // Local `i` of the current frame, as a place.
        macro_rules! local {
            ($i:expr) => {
                *{
                    let i: usize = $i;
                    debug_assert!(i < func.local_count as usize && base + i < st.len());
                    // SAFETY: by (2) `i < local_count`, so
                    // `base + i < ops_base <= st.len()` by (3).
                    unsafe { st.get_unchecked_mut(base + i) }
                }
            };
        }
        macro_rules! ibin {
            ($a:ident, $b:ident => $e:expr) => {{
                let $b = opnd!(1) as i64;
                let $a = opnd!(2) as i64;
                opnd!(2) = $e;
                sp -= 1;
            }};
        }
        macro_rules! fbin {
            ($a:ident, $b:ident => $e:expr) => {{
                let $b = f64::from_bits(opnd!(1));
                let $a = f64::from_bits(opnd!(2));
                opnd!(2) = $e;
                sp -= 1;
            }};
        }
        macro_rules! sbin {
            ($a:ident, $b:ident => $e:expr) => {{
                let hb = opnd!(1);
                let ha = opnd!(2);
                let $a = self.heap.str(ha);
                let $b = self.heap.str(hb);
                opnd!(2) = $e as u64;
                sp -= 1;
            }};
        }

        // After frame `$done` was popped with `$result`: out of this run, or on in its
        // caller after the call, the result pushed.
        macro_rules! resume_caller {
            ($done:expr, $result:expr) => {{
                let result: Option<u64> = $result;
                if self.frames.len() <= stop {
                    return Ok(result);
                }
                let Some(&caller) = self.frames.last() else {
                    fail!(internal("return without a caller"));
                };
                sp = $done.ret;
                func = &funcs[caller.func as usize];
                code = &func.ops;
                pc = caller.pc + 1;
                base = caller.base;
                if let Some(v) = result {
                    push!(v);
                }
            }};
        }

        // On-stack replacement at loop header `$t` (operand stack empty): once the current
        // function is hot, its compiled code finishes this activation (the frame stays,
        // the machine code pops it), then execution continues in the caller as after `ret`.
        macro_rules! osr {
            ($t:expr) => {{
                let Some(&done) = self.frames.last() else {
                    fail!(internal("jump without a frame"));
                };
                if declined != Some((self.frames.len(), base))
                    && let Some(entry) = self.osr_entry(done.func)
                {
                    let t: usize = $t;
                    if let Some(fr) = self.frames.last_mut() {
                        fr.pc = t;
                    }
                    let has_result = func.result.is_some();
                    let native = self.enter_native(stack, entry, base, t as i64)?;
                    st = &mut stack[..];
                    // Not entered (no room for its calls): the loop goes on here.
                    if native.is_none() {
                        declined = Some((self.frames.len(), base));
                    }
                    if let Some(r) = native {
                        resume_caller!(done, has_result.then_some(r));
                        continue;
                    }
                }
            }};
        }

        // Returns from the current frame with `result` to the caller (or out of this run).
        macro_rules! ret {
            ($result:expr) => {{
                let result = $result;
                if self.frames.len() == self.main_depth {
                    let code = result.unwrap_or(0) as i64;
                    if !(0..=255).contains(&code) {
                        fail!(TrapKind::ExitCodeOutOfRange { code });
                    }
                }
                let Some(done) = self.frames.pop() else {
                    fail!(internal("return without a frame"));
                };
                resume_caller!(done, result);
            }};
        }

        let mut stepped = false;
        loop {
            if MODE == STEP {
                if stepped {
                    return Ok(Some(sp as u64));
                }
                stepped = true;
            }
            debug_assert!(pc < code.len(), "execution ran past the end of a function");
            // Why the unchecked fetch is sound: `code` is the prepared form of verified code, one op per instruction,
            // and `pc` only ever holds: 0 when a frame starts (`empty-code`: there is an
            // instruction); a verified jump target (`jump-out-of-bounds`, rewritten to an
            // instruction index); the instruction after a reachable one that falls through,
            // or after a fused pattern (whose continuation is its last instruction's
            // fall-through, see `prepare`), or after a call being returned to
            // (`falls-off-end`: no reachable path runs past the last instruction), or a loop
            // header an on-stack replacement starts at (a verified jump target). Fact (4)
            // above makes these the verifier's facts.
            // In the step mode the instruction itself, never a fused pattern starting there.
            let op = if MODE == STEP {
                match func.code.get(pc) {
                    Some(&i) => Op::I(i),
                    None => fail!(internal("step past the end of a function")),
                }
            } else {
                // SAFETY: see above.
                unsafe { *code.get_unchecked(pc) }
            };
            pc += 1;
            match op {
                // ---- superinstructions (see `prepare`); `pc` already counts the first
                Op::LocalLocal { op, a, b } => {
                    push!(op.eval(local!(a.get()), local!(b.get())));
                    pc += 2;
                }
                Op::LocalLocalSet { op, a, b, dst } => {
                    local!(dst.get()) = op.eval(local!(a.get()), local!(b.get()));
                    pc += 3;
                }
                Op::LocalLocalJmpNot { op, a, b, target } => {
                    // Charged from the jump instruction, exactly as unfused.
                    pc += 3;
                    if op.eval(local!(a.get()), local!(b.get())) == 0 {
                        jump!(target.get());
                    }
                }
                Op::LocalLocalJmpIf { op, a, b, target } => {
                    // Charged from the jump instruction, exactly as unfused.
                    pc += 3;
                    if op.eval(local!(a.get()), local!(b.get())) != 0 {
                        jump!(target.get());
                    }
                }
                Op::LocalConst { op, a, v } => {
                    push!(op.eval(local!(a.get()), v.get()));
                    pc += 2;
                }
                Op::LocalConstSet { op, a, dst, v } => {
                    local!(dst.get()) = op.eval(local!(a.get()), v.get());
                    pc += 3;
                }
                Op::LocalConstJmpNot { op, a, target, v } => {
                    // Charged from the jump instruction, exactly as unfused.
                    pc += 3;
                    if op.eval(local!(a.get()), v.get()) == 0 {
                        jump!(target.get());
                    }
                }
                Op::LocalConstJmpIf { op, a, target, v } => {
                    // Charged from the jump instruction, exactly as unfused.
                    pc += 3;
                    if op.eval(local!(a.get()), v.get()) != 0 {
                        jump!(target.get());
                    }
                }
                Op::StackLocal { op, a } => {
                    top!() = op.eval(top!(), local!(a.get()));
                    pc += 1;
                }
                Op::StackLocalSet { op, a, dst } => {
                    let x = pop!();
                    local!(dst.get()) = op.eval(x, local!(a.get()));
                    pc += 2;
                }
                Op::StackConst { op, v } => {
                    top!() = op.eval(top!(), v.get());
                    pc += 1;
                }
                Op::StackConstSet { op, dst, v } => {
                    let x = pop!();
                    local!(dst.get()) = op.eval(x, v.get());
                    pc += 2;
                }
                Op::BinSet { op, dst } => {
                    let y = pop!();
                    let x = pop!();
                    local!(dst.get()) = op.eval(x, y);
                    pc += 1;
                }
                Op::CmpJmpNot { op, target } => {
                    let y = pop!();
                    let x = pop!();
                    // Charged from the jump instruction, exactly as unfused.
                    pc += 1;
                    if op.eval(x, y) == 0 {
                        jump!(target.get());
                    }
                }
                Op::CmpJmpIf { op, target } => {
                    let y = pop!();
                    let x = pop!();
                    // Charged from the jump instruction, exactly as unfused.
                    pc += 1;
                    if op.eval(x, y) != 0 {
                        jump!(target.get());
                    }
                }
                Op::LocalLocalGet { a, b } => {
                    push!(local!(a.get()));
                    push!(local!(b.get()));
                    pc += 1;
                }
                Op::LocalMove { a, dst } => {
                    local!(dst.get()) = local!(a.get());
                    pc += 1;
                }
                Op::ConstSet { dst, v } => {
                    local!(dst.get()) = v.get();
                    pc += 1;
                }
                Op::LocalField { a, index } => {
                    let obj = tri!(self.heap.struct_(local!(a.get())));
                    let v = tri!(
                        obj.fields
                            .get(index.get())
                            .copied()
                            .ok_or(internal("field index out of range"))
                    );
                    push!(v);
                    pc += 1;
                }
                Op::LocalDupField { a, index } => {
                    let h = local!(a.get());
                    let obj = tri!(self.heap.struct_(h));
                    let v = tri!(
                        obj.fields
                            .get(index.get())
                            .copied()
                            .ok_or(internal("field index out of range"))
                    );
                    push!(h);
                    push!(v);
                    pc += 2;
                }
                Op::LocalLocalArrGet { a, b } => {
                    let arr = local!(a.get());
                    let i = local!(b.get()) as i64;
                    match arrays::get(&self.heap, arr, i) {
                        Ok(v) => {
                            push!(v);
                            pc += 2;
                        }
                        Err(kind) => {
                            // Report the trap at the `arr.get` (`fail!` uses `pc - 1`).
                            pc += 2;
                            fail!(kind);
                        }
                    }
                }
                Op::LocalsArrSet { a, b, c } => {
                    let arr = local!(a.get());
                    let i = local!(b.get()) as i64;
                    let v = local!(c.get());
                    pc += 3;
                    tri!(arrays::set(&mut self.heap, arr, i, v));
                }
                Op::RetLocal { a } => {
                    let v = local!(a.get());
                    // A trap (`main`'s exit code) is reported at the `ret` (`fail!` uses `pc - 1`).
                    pc += 1;
                    ret!(Some(v));
                }

                Op::I(Instr::Nop {}) => {}

                // ---- constants
                Op::I(Instr::IConst { value }) => push!(value as u64),
                Op::I(Instr::FConst { value }) => push!(value.0),
                Op::I(Instr::BConst { value }) => push!((value != 0) as u64),
                Op::I(Instr::SConst { index }) => {
                    let h = tri!(
                        self.const_strs
                            .get(index as usize)
                            .copied()
                            .ok_or(internal("string constant out of range"))
                    );
                    push!(h)
                }
                Op::I(Instr::FnRef { func }) => push!(func as u64),

                // ---- locals, globals, stack shuffling
                Op::I(Instr::LocalGet { index }) => push!(local!(index as usize)),
                Op::I(Instr::LocalSet { index }) => {
                    let v = pop!();
                    local!(index as usize) = v;
                }
                Op::I(Instr::GlobalGet { index }) => {
                    let i = index as usize;
                    let v = self.globals[i];
                    // Only 0 and `UNSET_FN` can mean "unset": test the value first.
                    if (v == 0 || v == UNSET_FN)
                        && module.global_unset.get(i).is_some_and(|u| u.is_unset(v))
                    {
                        let name = module.module.globals[i].name.clone();
                        fail!(TrapKind::GlobalUninit { name });
                    }
                    push!(v)
                }
                Op::I(Instr::GlobalSet { index }) => {
                    let v = pop!();
                    self.globals[index as usize] = v;
                }
                Op::I(Instr::Pop {}) => sp -= 1,
                Op::I(Instr::Dup {}) => push!(top!()),

                // ---- int arithmetic
                Op::I(Instr::IAdd {}) => ibin!(a, b => a.wrapping_add(b) as u64),
                Op::I(Instr::ISub {}) => ibin!(a, b => a.wrapping_sub(b) as u64),
                Op::I(Instr::IMul {}) => ibin!(a, b => a.wrapping_mul(b) as u64),
                Op::I(Instr::IDiv {}) => {
                    if top!() == 0 {
                        fail!(TrapKind::DivisionByZero);
                    }
                    ibin!(a, b => a.wrapping_div(b) as u64)
                }
                Op::I(Instr::IRem {}) => {
                    if top!() == 0 {
                        fail!(TrapKind::DivisionByZero);
                    }
                    ibin!(a, b => a.wrapping_rem(b) as u64)
                }
                Op::I(Instr::INeg {}) => top!() = (top!() as i64).wrapping_neg() as u64,
                Op::I(Instr::IAnd {}) => ibin!(a, b => (a & b) as u64),
                Op::I(Instr::IOr {}) => ibin!(a, b => (a | b) as u64),
                Op::I(Instr::IXor {}) => ibin!(a, b => (a ^ b) as u64),
                Op::I(Instr::IShl {}) => ibin!(a, b => a.wrapping_shl(b as u32 & 63) as u64),
                Op::I(Instr::IShr {}) => ibin!(a, b => a.wrapping_shr(b as u32 & 63) as u64),
                Op::I(Instr::IEq {}) => ibin!(a, b => (a == b) as u64),
                Op::I(Instr::INe {}) => ibin!(a, b => (a != b) as u64),
                Op::I(Instr::ILt {}) => ibin!(a, b => (a < b) as u64),
                Op::I(Instr::ILe {}) => ibin!(a, b => (a <= b) as u64),
                Op::I(Instr::IGt {}) => ibin!(a, b => (a > b) as u64),
                Op::I(Instr::IGe {}) => ibin!(a, b => (a >= b) as u64),

                // ---- float arithmetic
                Op::I(Instr::FAdd {}) => fbin!(a, b => canonical_bits(a + b)),
                Op::I(Instr::FSub {}) => fbin!(a, b => canonical_bits(a - b)),
                Op::I(Instr::FMul {}) => fbin!(a, b => canonical_bits(a * b)),
                Op::I(Instr::FDiv {}) => fbin!(a, b => canonical_bits(a / b)),
                Op::I(Instr::FRem {}) => fbin!(a, b => canonical_bits(a % b)),
                Op::I(Instr::FNeg {}) => top!() = canonical_bits(-f64::from_bits(top!())),
                Op::I(Instr::FEq {}) => fbin!(a, b => (a == b) as u64),
                Op::I(Instr::FNe {}) => fbin!(a, b => (a != b) as u64),
                Op::I(Instr::FLt {}) => fbin!(a, b => (a < b) as u64),
                Op::I(Instr::FLe {}) => fbin!(a, b => (a <= b) as u64),
                Op::I(Instr::FGt {}) => fbin!(a, b => (a > b) as u64),
                Op::I(Instr::FGe {}) => fbin!(a, b => (a >= b) as u64),

                // ---- bool
                Op::I(Instr::BNot {}) => top!() ^= 1,
                Op::I(Instr::BEq {}) => ibin!(a, b => (a == b) as u64),
                Op::I(Instr::BNe {}) => ibin!(a, b => (a != b) as u64),

                // ---- strings
                Op::I(Instr::SConcat {}) => {
                    let sp0 = sp;
                    let b = pop!();
                    let a = top!();
                    top!() = atri!(sp0, strings::concat(&mut self.heap, a, b));
                    gc!();
                }
                Op::I(Instr::SEq {}) => sbin!(a, b => a == b),
                Op::I(Instr::SNe {}) => sbin!(a, b => a != b),
                Op::I(Instr::SLt {}) => sbin!(a, b => a < b),
                Op::I(Instr::SLe {}) => sbin!(a, b => a <= b),
                Op::I(Instr::SGt {}) => sbin!(a, b => a > b),
                Op::I(Instr::SGe {}) => sbin!(a, b => a >= b),
                Op::I(Instr::SSplit { type_: _ }) => {
                    let sp0 = sp;
                    let sep = pop!();
                    let s = top!();
                    top!() = atri!(sp0, strings::split(&mut self.heap, s, sep));
                    gc!();
                }
                Op::I(Instr::SChars { type_: _ }) => {
                    let sp0 = sp;
                    let s = top!();
                    top!() = atri!(sp0, strings::chars(&mut self.heap, s));
                    gc!();
                }

                // ---- identity comparison
                Op::I(Instr::REq {}) => ibin!(a, b => (a == b) as u64),
                Op::I(Instr::RNe {}) => ibin!(a, b => (a != b) as u64),

                // ---- conversions
                Op::I(Instr::IToF {}) => top!() = (top!() as i64 as f64).to_bits(),
                // `as` saturates and maps NaN to 0, exactly the language's `int(f)`.
                Op::I(Instr::FToI {}) => top!() = f64::from_bits(top!()) as i64 as u64,
                Op::I(Instr::ToStr { type_ }) => {
                    let kind = module.layouts.kind(type_);
                    if kind != crate::heap::ValKind::Str {
                        let v = top!();
                        // Bounded by the heap's room: a container's text can dwarf it.
                        let text = atri!(sp, {
                            let mut text = String::new();
                            let room = self.heap.room();
                            push_value(&mut text, &self.heap, &module.module, kind, v, room)
                                .map(|()| text)
                                .map_err(|_| TrapKind::HeapLimit)
                        });
                        top!() = tri!(self.heap.alloc_str(text.into())) as u64;
                        gc!();
                    }
                }

                // ---- control
                Op::I(Instr::Jmp { target }) => jump!(target as usize),
                Op::I(Instr::JmpIf { target }) => {
                    if pop!() != 0 {
                        jump!(target as usize);
                    }
                }
                Op::I(Instr::JmpIfNot { target }) => {
                    if pop!() == 0 {
                        jump!(target as usize);
                    }
                }
                Op::I(Instr::Ret {}) => {
                    let result = if func.result.is_some() {
                        Some(top!())
                    } else {
                        None
                    };
                    ret!(result);
                }
                Op::I(Instr::Call { func: callee }) => {
                    let Some(f) = funcs.get(callee as usize) else {
                        fail!(internal("call of a function index out of range"));
                    };
                    tick!(1);
                    let new_base = sp - f.param_count as usize;
                    if let Some(fr) = self.frames.last_mut() {
                        fr.pc = pc - 1;
                    }
                    sp = tri!(self.push_frame(stack, callee, f, new_base, new_base));
                    if MODE == TIERED
                        && let Some(entry) = self.tier_entry(callee)
                        && let Some(r) = self.enter_native(stack, entry, new_base, -1)?
                    {
                        st = &mut stack[..];
                        sp = new_base;
                        if f.result.is_some() {
                            push!(r);
                        }
                        continue;
                    }
                    st = &mut stack[..];
                    func = f;
                    code = &f.ops;
                    pc = 0;
                    base = new_base;
                }
                Op::I(Instr::CallRef { type_ }) => {
                    let nargs = module.layouts.param_count(type_);
                    let new_base = sp - nargs;
                    let callee = st[new_base - 1] as u32;
                    let Some(f) = funcs.get(callee as usize) else {
                        fail!(internal("call.ref of a function index out of range"));
                    };
                    tick!(1);
                    if let Some(fr) = self.frames.last_mut() {
                        fr.pc = pc - 1;
                    }
                    sp = tri!(self.push_frame(stack, callee, f, new_base, new_base - 1));
                    if MODE == TIERED
                        && let Some(entry) = self.tier_entry(callee)
                        && let Some(r) = self.enter_native(stack, entry, new_base, -1)?
                    {
                        st = &mut stack[..];
                        sp = new_base - 1;
                        if f.result.is_some() {
                            push!(r);
                        }
                        continue;
                    }
                    st = &mut stack[..];
                    func = f;
                    code = &f.ops;
                    pc = 0;
                    base = new_base;
                }
                Op::I(Instr::CallHost { import }) => {
                    let sp0 = sp;
                    let Some(&hf) = self.imports.get(import as usize) else {
                        fail!(internal("import out of range"));
                    };
                    let n = hf.param_count();
                    let outcome = atri!(
                        sp0,
                        host::call(
                            hf,
                            &st[sp - n..sp],
                            HostContext {
                                heap: &mut self.heap,
                                args: &self.config.args,
                                caps: &self.config.caps,
                                state: &mut self.host,
                            }
                        )
                    );
                    sp -= n;
                    match outcome {
                        HostOutcome::Return(Some(v)) => push!(v),
                        HostOutcome::Return(None) => {}
                        HostOutcome::Exit(code) => return Err(Unwind::Exit(code)),
                    }
                    gc!();
                }
                Op::I(Instr::CallNative { native }) => {
                    let sp0 = sp;
                    let Some(n) = Native::from_id(native) else {
                        fail!(internal("unknown native"));
                    };
                    let k = n.params().len();
                    let r = atri!(
                        sp0,
                        natives::call(n, &st[sp - k..sp], &mut self.heap, &mut self.out)
                    );
                    sp -= k;
                    if let Some(v) = r {
                        push!(v);
                    }
                    gc!();
                }

                // ---- arrays
                Op::I(Instr::ArrNew { type_, count }) => {
                    let n = count as usize;
                    let elem = module.layouts.elem(type_);
                    let h = tri!(arrays::new_array(&mut self.heap, elem, &st[sp - n..sp]));
                    sp -= n;
                    push!(h);
                    gc!();
                }
                Op::I(Instr::ArrFill { type_ }) => {
                    let sp0 = sp;
                    let v = pop!();
                    let n = top!() as i64;
                    let elem = module.layouts.elem(type_);
                    top!() = atri!(sp0, arrays::fill(&mut self.heap, elem, n, v));
                    gc!();
                }
                Op::I(Instr::ArrGet {}) => {
                    let i = pop!() as i64;
                    top!() = tri!(arrays::get(&self.heap, top!(), i));
                }
                Op::I(Instr::ArrSet {}) => {
                    let v = pop!();
                    let i = pop!() as i64;
                    let a = pop!();
                    tri!(arrays::set(&mut self.heap, a, i, v));
                }
                Op::I(Instr::ArrLen {}) => {
                    top!() = tri!(self.heap.array(top!())).items.len() as u64;
                }
                Op::I(Instr::ArrPush {}) => {
                    let sp0 = sp;
                    let v = pop!();
                    let a = pop!();
                    atri!(sp0, arrays::push(&mut self.heap, a, v));
                    gc!();
                }
                Op::I(Instr::ArrPop {}) => top!() = tri!(arrays::pop(&mut self.heap, top!())),
                Op::I(Instr::ArrInsert {}) => {
                    let sp0 = sp;
                    let v = pop!();
                    let i = pop!() as i64;
                    let a = pop!();
                    atri!(sp0, arrays::insert(&mut self.heap, a, i, v));
                    gc!();
                }
                Op::I(Instr::ArrRemove {}) => {
                    let i = pop!() as i64;
                    top!() = tri!(arrays::remove(&mut self.heap, top!(), i));
                }
                Op::I(Instr::ArrSlice {}) => {
                    let sp0 = sp;
                    let end = pop!() as i64;
                    let start = pop!() as i64;
                    top!() = atri!(sp0, arrays::slice(&mut self.heap, top!(), start, end));
                    gc!();
                }
                Op::I(Instr::ArrContains {}) => {
                    let v = pop!();
                    top!() = (tri!(arrays::index_of(&self.heap, top!(), v)) >= 0) as u64;
                }
                Op::I(Instr::ArrIndexOf {}) => {
                    let v = pop!();
                    top!() = tri!(arrays::index_of(&self.heap, top!(), v)) as u64;
                }
                Op::I(Instr::ArrReverse {}) => {
                    let a = pop!();
                    tri!(arrays::reverse(&mut self.heap, a));
                }
                Op::I(Instr::ArrSort {}) => {
                    let a = pop!();
                    tri!(arrays::sort(&mut self.heap, a));
                }
                Op::I(Instr::ArrSortBy {}) => {
                    // The array and comparator stay on the operand stack (rooted by this
                    // instruction's stack map) while guest comparators run above them.
                    if let Some(fr) = self.frames.last_mut() {
                        fr.pc = pc - 1;
                    }
                    let f = st[sp - 1] as u32;
                    let a = st[sp - 2];
                    self.sort_by(stack, sp, a, f)?;
                    st = &mut stack[..];
                    sp -= 2;
                }
                Op::I(Instr::ArrJoin {}) => {
                    let sp0 = sp;
                    let sep = pop!();
                    top!() = atri!(sp0, strings::join(&mut self.heap, top!(), sep));
                    gc!();
                }

                // ---- maps
                Op::I(Instr::MapNew { type_, count }) => {
                    let n = count as usize * 2;
                    let (k, v) = module.layouts.map_kinds(type_);
                    let h = tri!(maps::new_map(&mut self.heap, k, v, &st[sp - n..sp]));
                    sp -= n;
                    push!(h);
                    gc!();
                }
                Op::I(Instr::MapGet {}) => {
                    let k = pop!();
                    top!() = tri!(maps::get(&self.heap, top!(), k));
                }
                Op::I(Instr::MapGetOr {}) => {
                    let d = pop!();
                    let k = pop!();
                    top!() = tri!(maps::get_or(&self.heap, top!(), k, d));
                }
                Op::I(Instr::MapSet {}) => {
                    let sp0 = sp;
                    let v = pop!();
                    let k = pop!();
                    let m = pop!();
                    atri!(sp0, self.heap.map_set(m, k, v));
                    gc!();
                }
                Op::I(Instr::MapHas {}) => {
                    let k = pop!();
                    top!() = tri!(maps::has(&self.heap, top!(), k)) as u64;
                }
                Op::I(Instr::MapRemove {}) => {
                    let k = pop!();
                    top!() = tri!(maps::remove(&mut self.heap, top!(), k));
                }
                Op::I(Instr::MapLen {}) => top!() = tri!(self.heap.map(top!())).len() as u64,
                Op::I(Instr::MapKeys { type_: _ }) => {
                    let sp0 = sp;
                    top!() = atri!(sp0, maps::to_array(&mut self.heap, top!(), false));
                    gc!();
                }
                Op::I(Instr::MapValues { type_: _ }) => {
                    let sp0 = sp;
                    top!() = atri!(sp0, maps::to_array(&mut self.heap, top!(), true));
                    gc!();
                }
                Op::I(Instr::MapKeyAt {}) => {
                    let i = pop!() as i64;
                    top!() = tri!(maps::at(&self.heap, top!(), i, false));
                }
                Op::I(Instr::MapValueAt {}) => {
                    let i = pop!() as i64;
                    top!() = tri!(maps::at(&self.heap, top!(), i, true));
                }

                // ---- structs
                Op::I(Instr::StructNew { type_ }) => {
                    let n = module.layouts.fields(type_).len();
                    let fields: Box<[u64]> = st[sp - n..sp].into();
                    let h = tri!(self.heap.alloc_struct(type_, fields));
                    sp -= n;
                    push!(h as u64);
                    gc!();
                }
                Op::I(Instr::FieldGet { index }) => {
                    let s = tri!(self.heap.struct_(top!()));
                    top!() = tri!(
                        s.fields
                            .get(index as usize)
                            .copied()
                            .ok_or(internal("field index out of range"))
                    );
                }
                Op::I(Instr::FieldSet { index }) => {
                    let v = pop!();
                    let s = pop!();
                    let obj = tri!(self.heap.struct_mut(s));
                    let slot = tri!(
                        obj.fields
                            .get_mut(index as usize)
                            .ok_or(internal("field index out of range"))
                    );
                    *slot = v;
                }
            }
        }
    }

    /// `xs.sort_by(f)`: a stable merge sort of a snapshot of the elements, calling the guest
    /// comparator `f` for each comparison, then storing the sorted snapshot back. The
    /// snapshot is rooted in `temp_roots` for the duration, so the comparator may allocate
    /// (and even mutate `xs` through another path) without anything being freed under us.
    fn sort_by(&mut self, stack: &mut Vec<u64>, sp: usize, arr: u64, f: u32) -> Result<(), Unwind> {
        if self.reentry >= super::MAX_NATIVE_REENTRY {
            let limit = self.config.max_call_depth;
            return Err(self.trap(TrapKind::StackOverflow { limit }, None));
        }
        let (mut items, is_ref) = match self.heap.array(arr) {
            Ok(a) => (a.items.clone(), a.elem.is_ref()),
            Err(kind) => return Err(self.trap(kind, None)),
        };
        let mark = self.temp_roots.len();
        if is_ref {
            self.temp_roots.extend_from_slice(&items);
        }
        self.reentry += 1;
        let result: Result<(), Unwind> = arrays::merge_sort_by(&mut items, |x, y| {
            let r = self.call_in(stack, sp, f, &[x, y])?;
            Ok((r.unwrap_or(0) as i64).cmp(&0))
        });
        self.reentry -= 1;
        self.temp_roots.truncate(mark);
        result?;
        match self.heap.array_mut(arr) {
            Ok(a) => {
                let before = a.items.capacity();
                a.items.clear();
                a.items.extend_from_slice(&items);
                let grown = a.items.capacity().saturating_sub(before);
                self.heap.account(grown * 8);
                Ok(())
            }
            Err(kind) => Err(self.trap(kind, None)),
        }
    }
}
