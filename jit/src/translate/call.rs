//! Guest calls from compiled code: the callee's early exit run inline (`early_exit`), the
//! frame record pushed inline (it fits: see `Translator::check_room`), and the call
//! straight to the callee's machine code (its own code for a recursive call; a jump back
//! for one in accumulator position, see `tail`, after checking the next activation's
//! room), with the first argument in a register; the whole call through the runtime when
//! that check fails or the callee is not compiled.

use super::{I64, Translator, mem};
use cranelift_codegen::ir::{
    Block, BlockArg, FuncRef, InstBuilder, Value, condcodes::IntCC, types,
};
use rvm_vm::format::TypeDef;
use rvm_vm::tier::{ctx, frame};

impl Translator<'_, '_> {
    pub(super) fn func_sig_of(&self, func: u32) -> Result<(usize, bool), String> {
        let f = self
            .module
            .module()
            .functions
            .get(func as usize)
            .ok_or("call of a function out of range")?;
        self.sig_of_type(f.ty)
    }

    pub(super) fn sig_of_type(&self, ty: u32) -> Result<(usize, bool), String> {
        match self.module.module().types.get(ty as usize) {
            Some(TypeDef::Func(f)) => Ok((f.params.len(), f.result.is_some())),
            _ => Err("call through a non-function type".into()),
        }
    }

    /// A guest call at `pc`: `nargs` arguments on top of the stack, `below` more slots
    /// (the function reference of `call.ref`) under them that the call consumes.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn call(
        &mut self,
        pc: usize,
        h: usize,
        callee: Value,
        nargs: usize,
        has_result: bool,
        below: usize,
        known: Option<u32>,
    ) -> Result<(), String> {
        let callee_index = known.unwrap_or(0);
        let known = known.is_some();
        self.tick(1, pc);
        // The arguments go to the callee's frame but the first, which goes in a register
        // (`rvm_vm::tier::Entry`), and to the frame only when the runtime makes the call
        // (or it is a reference, which every spill stores).
        self.spill(pc, h, h - nargs + nargs.min(1));
        let new_base_rel = (self.local_count() + h - nargs) as i64;
        let base = self.base;
        let new_base = self.b.ins().iadd_imm_s(base, new_base_rel);
        let ret = self.b.ins().iadd_imm_s(new_base, -(below as i64));
        let pcv = self.b.ins().iconst(I64, pc as i64);

        let fast = self.b.create_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let join = self.b.create_block();
        self.b.append_block_param(join, I64);
        // A recursive call goes straight to this function's code, unless that code is for
        // on-stack replacement (calls have code of their own); any other to the callee's
        // entry from the VM's table (a range check first for `call.ref`). (The function's
        // own code only: an inlined body's `pc`s are its callee's.)
        let recursive = known && callee_index == self.index && self.inline_ret.is_none();
        let self_call = self.self_ref.filter(|_| recursive && !self.osr);
        let tail = recursive.then(|| self.loops_back(pc)).flatten();
        let entry = if self_call.is_some() || tail.is_some() {
            self.b.ins().jump(fast, &[]);
            None
        } else {
            let entry_check = self.b.create_block();
            if known {
                self.b.ins().jump(entry_check, &[]);
            } else {
                let in_range = self.b.ins().icmp_imm_u(
                    IntCC::UnsignedLessThan,
                    callee,
                    self.rt.functions as i64,
                );
                self.b.ins().brif(in_range, entry_check, &[], slow, &[]);
            }
            self.enter(entry_check);
            let off = self.b.ins().ishl_imm_u(callee, 3);
            let addr = self.b.ins().iadd(self.code_table, off);
            let entry = self.b.ins().load(I64, mem(), addr, 0);
            self.b.ins().brif(entry, fast, &[], slow, &[]);
            Some(entry)
        };

        self.enter(fast);
        let pushed = self.b.create_block();
        match known.then(|| self.callee_frame(callee_index)).flatten() {
            Some(zero) => {
                // The frame fits (checked at the function's entry, see `check_room`).
                if let Some(end) = self
                    .prefix_ends
                    .get(callee_index as usize)
                    .copied()
                    .flatten()
                {
                    let write = self.b.create_block();
                    self.early_exit(callee_index, (h, nargs), end, join, write)?;
                    self.enter(write);
                }
                if tail.is_some() {
                    // The jump skips the callee's entry, so its check is made here (the
                    // hot path the fall-through: see `frame_full`).
                    let next = self.b.ins().iadd_imm_s(self.depth, 1);
                    let full = self.frame_full(next);
                    let inline = self.b.create_block();
                    self.b.ins().brif(full, slow, &[], inline, &[]);
                    self.enter(inline);
                }
                self.write_frame(pc, callee, new_base, &zero);
                self.b.ins().jump(pushed, &[]);
            }
            None => {
                let st = self.call_rt(
                    self.sigs.enter,
                    self.rt.enter,
                    &[self.cx, pcv, callee, new_base, ret],
                );
                self.b.ins().brif(st, self.unwind, &[], pushed, &[]);
            }
        }
        // The fuel counter goes to the callee and comes back in registers; a negative one
        // back means the callee unwound (see `rvm_vm::tier::Entry`).
        self.enter(pushed);
        if let Some(operand) = tail {
            self.jump_back(h, nargs, operand, new_base);
        } else {
            let arg0 = self.first_arg(h, nargs);
            self.call_compiled(self_call, entry, (new_base, arg0), join)?;
        }

        // The whole call through the runtime (status in the context).
        self.enter(slow);
        if nargs > 0 {
            let arg0 = self.get(h - nargs);
            let fp = self.frame_ptr();
            let off = self.slot_offset(h - nargs);
            self.b.ins().store(mem(), arg0, fp, off);
        }
        let r = self.call_rt(
            self.sigs.enter,
            self.rt.call,
            &[self.cx, pcv, callee, new_base, ret],
        );
        let status = self.b.ins().load(I64, mem(), self.cx, ctx::STATUS);
        self.check(status);
        self.b.ins().jump(join, &[BlockArg::Value(r)]);

        self.enter(join);
        let r = self.b.block_params(join)[0];
        if has_result {
            self.set(h - nargs - below, r);
        }
        Ok(())
    }

    /// The call itself, to this function's code (`self_call`) or to `entry`, with the callee's
    /// frame at `new_base` and its first argument `arg0`; continues at `join` with the
    /// result.
    fn call_compiled(
        &mut self,
        self_call: Option<FuncRef>,
        entry: Option<Value>,
        (new_base, arg0): (Value, Value),
        join: Block,
    ) -> Result<(), String> {
        let minus1 = self.b.ins().iconst(I64, -1);
        let fuel = self.b.use_var(self.fuel);
        let depth = self.b.ins().iadd_imm_s(self.depth, 1);
        let args = [self.cx, new_base, minus1, fuel, depth, arg0];
        let call = match (self_call, entry) {
            (Some(f), _) => self.b.ins().call(f, &args),
            (None, Some(entry)) => self.b.ins().call_indirect(self.sigs.entry, entry, &args),
            (None, None) => return Err("a call without a callee".into()),
        };
        let &[r, fuel] = self.b.inst_results(call) else {
            return Err("a compiled call without two results".into());
        };
        self.b.def_var(self.fuel, fuel);
        let returned = self.b.create_block();
        let unwound = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, fuel, 0);
        self.b.ins().brif(unwound, self.unwind, &[], returned, &[]);
        self.enter(returned);
        self.b.ins().jump(join, &[BlockArg::Value(r)]);
        Ok(())
    }

    /// The first of the `nargs` arguments on top of an operand stack of height `h` (its
    /// bits), or any value when there are none.
    pub(super) fn first_arg(&mut self, h: usize, nargs: usize) -> Value {
        match nargs {
            0 => self.b.ins().iconst(I64, 0),
            _ => self.get(h - nargs),
        }
    }

    /// Whether one more frame would not fit without the runtime at frame count `depth`:
    /// the count is not below `frames_max`, which includes the call-depth limit, the frame
    /// storage, the native stack and the value stack (counted in frames of the module's
    /// largest size, see `Vm::stack_frames`). Branch on it with the cold path as the first
    /// target: Cranelift lays out a branch's second target right after it.
    pub(super) fn frame_full(&mut self, depth: Value) -> Value {
        let max = self.b.ins().load(I64, mem(), self.cx, ctx::FRAMES_MAX);
        self.b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, depth, max)
    }

    /// For a direct call of function `f`: its declared reference locals (zeroed on entry
    /// for the collector).
    pub(super) fn callee_frame(&self, f: u32) -> Option<Vec<usize>> {
        let vf = self.module.functions().get(f as usize)?;
        Some(
            (vf.param_count() as usize..vf.local_count() as usize)
                .filter(|&i| vf.local_is_ref()[i])
                .collect(),
        )
    }

    /// Writes the frame record of a call at `pc` of compiled `callee` (frame at
    /// `new_base`), whose checks passed, and zeroes its declared reference locals `zero`.
    ///
    /// Only the fields something reads: the function and the frame (for traces and the
    /// collector) and the caller's `pc`. A record's `pc` is written before anything reads
    /// it (the runtime sets the innermost frame's at every call from compiled code, a call
    /// the caller's), and its `ret` is read only by the interpreter's `ret`, which never
    /// pops a frame that compiled code pushed for compiled code.
    pub(super) fn write_frame(
        &mut self,
        pc: usize,
        callee: Value,
        new_base: Value,
        zero: &[usize],
    ) {
        let len = self.depth;
        let frames = self.b.ins().load(I64, mem(), self.cx, ctx::FRAMES_PTR);
        let off = self.b.ins().imul_imm_s(len, frame::SIZE as i64);
        let rec = self.b.ins().iadd(frames, off);
        // The caller's record (just below) gets the call's pc.
        let pcv = self.b.ins().iconst(I64, pc as i64);
        self.b.ins().store(mem(), pcv, rec, frame::PC - frame::SIZE);
        let func32 = self.b.ins().ireduce(types::I32, callee);
        self.b.ins().store(mem(), func32, rec, frame::FUNC);
        self.b.ins().store(mem(), new_base, rec, frame::BASE);
        if !zero.is_empty() {
            let zero_v = self.b.ins().iconst(I64, 0);
            let data = self.b.ins().load(I64, mem(), self.cx, ctx::STACK_DATA);
            let nb = self.b.ins().ishl_imm_u(new_base, 3);
            let at = self.b.ins().iadd(data, nb);
            for &i in zero {
                self.b.ins().store(mem(), zero_v, at, (i * 8) as i32);
            }
        }
    }
}
