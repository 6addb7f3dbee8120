//! A compiled function's entry: its parameters, the room check that lets its calls push
//! frames unchecked (`check_room`), then the normal start (the first parameter from its
//! register, the others from the frame, declared locals zero) or, for code compiled for
//! on-stack replacement, the loads of every local from the interpreter's frame and the
//! jump to the loop header named by `osr_pc`.

use super::{F64, I64, Translator, mem};
use cranelift_codegen::ir::{InstBuilder, Value, condcodes::IntCC, immediates::Ieee64};
use rvm_vm::format::Instr;
use rvm_vm::tier::{NO_ROOM, ctx, trap_code};

impl Translator<'_, '_> {
    pub(super) fn prologue(&mut self) -> Result<(), String> {
        let entry = self.b.create_block();
        self.entry_block = entry;
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let params = self.b.block_params(entry).to_vec();
        let [cx, base, osr, fuel, depth, arg0] = params[..] else {
            return Err("bad entry signature".into());
        };
        self.cx = cx;
        // These `JitCtx` fields are fixed while compiled code runs and `cx` is always valid:
        // pure loads (`can_move`), which Cranelift deletes where a function does not use them.
        let ro = mem().with_readonly().with_can_move();
        self.b.def_var(self.fuel, fuel);
        self.code_table = self.b.ins().load(I64, ro, cx, ctx::CODE);
        self.globals = self.b.ins().load(I64, ro, cx, ctx::GLOBALS);
        self.const_strs = self.b.ins().load(I64, ro, cx, ctx::CONST_STRS);
        self.depth = depth;
        self.check_room(base, arg0);
        let [base, depth, osr, arg0] = self.start_head(base, depth, osr, arg0);
        self.depth = depth;
        self.base = base;
        self.base_bytes = self.b.ins().ishl_imm_u(base, 3);
        let normal = self.b.create_block();
        let osr_block = self.osr.then(|| self.b.create_block());
        match osr_block {
            // The VM enters code for on-stack replacement only that way (`osr_pc >= 0`),
            // but its normal start stays: the paths around the loops keep the shape of the
            // code for calls (a loop's exit keeps the predecessor its guard gives it).
            Some(osr_block) => {
                let is_osr = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, osr, 0);
                self.b.ins().brif(is_osr, osr_block, &[], normal, &[]);
            }
            None => {
                self.b.ins().jump(normal, &[]);
            }
        }

        // Normal entry: the first parameter from its register, the others from the frame,
        // declared locals zero.
        self.b.switch_to_block(normal);
        let fp = (self.vf.param_count() > 1).then(|| self.frame_ptr());
        let params = self.vf.param_count() as usize;
        for i in 0..self.local_count() {
            let ty = self.local_types[i];
            let v = if i == 0 && params > 0 {
                if ty == F64 { self.as_f64(arg0) } else { arg0 }
            } else if let Some(fp) = fp.filter(|_| i < params) {
                self.b.ins().load(ty, mem(), fp, (i * 8) as i32)
            } else if ty == F64 {
                self.b.ins().f64const(Ieee64::with_bits(0))
            } else {
                self.b.ins().iconst(I64, 0)
            };
            self.def_local(i, v, v);
        }
        self.zero_stack();
        if self.blocks.first().copied().flatten().is_some() {
            let first = self.edge_to(None, 0)?;
            self.b.ins().jump(first, &[]);
        } else {
            self.trap_now(0, trap_code::INTERNAL, 0);
        }

        // On-stack replacement: every local from the frame, then the loop header.
        let Some(osr_block) = osr_block else {
            return Ok(());
        };
        self.b.switch_to_block(osr_block);
        let fp = self.frame_ptr();
        for i in 0..self.local_count() {
            let v = self
                .b
                .ins()
                .load(self.local_types[i], mem(), fp, (i * 8) as i32);
            self.def_local(i, v, v);
        }
        self.zero_stack();
        for t in self.osr_targets.clone() {
            let enter = self.b.create_block();
            let next = self.b.create_block();
            let is = self.b.ins().icmp_imm_s(IntCC::Equal, osr, t as i64);
            self.b.ins().brif(is, enter, &[], next, &[]);
            self.b.switch_to_block(enter);
            let target = self.osr_target(t)?;
            self.b.ins().jump(target, &[]);
            self.b.switch_to_block(next);
        }
        self.trap_now(0, trap_code::INTERNAL, 0);
        Ok(())
    }

    /// A function that pushes frames inline (it has a direct call, inlined or not) runs
    /// only when one more frame fits at its frame count (`self.depth`, the entry's), which
    /// then holds for the whole activation (see `rvm_vm::tier::Entry`). Otherwise, called,
    /// it has the runtime interpret the activation (which makes the exact checks at its
    /// calls) and returns its result; entered by on-stack replacement (the only way into
    /// code compiled for it), it returns at once with `NO_ROOM` and the interpreter goes on.
    fn check_room(&mut self, base: Value, arg0: Value) {
        if !self
            .vf
            .code()
            .iter()
            .any(|i| matches!(i, Instr::Call { .. }))
        {
            return;
        }
        let full = self.frame_full(self.depth);
        let run = self.b.create_block();
        let refuse = self.b.create_block();
        self.b.set_cold_block(refuse);
        self.b.ins().brif(full, refuse, &[], run, &[]);
        self.enter(refuse);
        if self.osr {
            let zero = self.b.ins().iconst(I64, 0);
            let fuel = self.b.use_var(self.fuel);
            let fuel = self.b.ins().bor_imm_s(fuel, NO_ROOM);
            self.b.ins().return_(&[zero, fuel]);
        } else {
            // The first argument to its slot (a compiled caller stores only the others),
            // then the whole activation in the interpreter.
            if self.vf.param_count() > 0 {
                let data = self.b.ins().load(I64, mem(), self.cx, ctx::STACK_DATA);
                let off = self.b.ins().ishl_imm_u(base, 3);
                let fp = self.b.ins().iadd(data, off);
                self.b.ins().store(mem(), arg0, fp, 0);
            }
            let r = self.call_rt(self.sigs.interpret, self.rt.interpret, &[self.cx]);
            let status = self.b.ins().load(I64, mem(), self.cx, ctx::STATUS);
            self.check(status);
            self.return_with_fuel(r);
        }
        self.enter(run);
    }

    pub(super) fn zero_stack(&mut self) {
        let zero = self.b.ins().iconst(I64, 0);
        for k in 0..self.stack.len() {
            self.b.def_var(self.stack[k], zero);
        }
    }
}
