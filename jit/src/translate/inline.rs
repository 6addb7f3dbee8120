//! Inlining of small leaf functions at their direct call sites.
//!
//! **Which callees.** A callee is inlined when nothing in it could make its frame visible:
//! it has at most [`MAX_INLINE`] instructions, and every one of them can neither trap, call,
//! allocate nor loop (no backward jump, so no fuel check inside). Such a function leaves no
//! trace of its frame record: no trap trace can name it, the collector never runs while it
//! is active, and it charges no fuel. What remains observable of the call is kept:
//!
//! - the call's unit of fuel, charged at the call's `pc` as before;
//! - the call-depth limit: the inlined body runs only when one more frame would fit
//!   (`frames_len < frames_max`), otherwise the ordinary call sequence runs (which grows the
//!   frame storage or raises `stack overflow` exactly as before).
//!
//! **How.** The translator swaps in the callee's function, locals (fresh variables, the
//! parameters taken from the argument slots) and operand slots, translates its body in
//! place, and turns each `ret` into a jump to the join block with the result.

use super::facts::{block_starts, is_inline_native, local_type_ids, plain};
use super::{Translator, UNREACHABLE, trap_code};
use cranelift_codegen::ir::{
    InstBuilder, Value, condcodes::IntCC, immediates::Ieee64, types::F64, types::I64,
};
use cranelift_frontend::Variable;
use rvm_vm::format::{Instr, TypeDef};
use rvm_vm::tier::ctx;
use rvm_vm::verified::{GlobalUnset, VerifiedModule};

/// The largest callee (in instructions) that is inlined.
pub(super) const MAX_INLINE: usize = 48;

/// Whether function `f` of `module` can be inlined into function `caller` (see the module
/// docs).
pub(super) fn inlinable(module: &VerifiedModule, caller: u32, f: u32) -> bool {
    use Instr as I;
    if f == caller {
        return false;
    }
    let Some(vf) = module.functions().get(f as usize) else {
        return false;
    };
    let code = vf.code();
    let heights = vf.heights();
    if code.is_empty() || code.len() > MAX_INLINE {
        return false;
    }
    let starts = block_starts(code, heights);
    code.iter().enumerate().all(|(pc, &instr)| {
        if heights[pc] == UNREACHABLE {
            return true;
        }
        match instr {
            I::Jmp { target } | I::JmpIf { target } | I::JmpIfNot { target } => {
                target as usize > pc
            }
            // Division by a non-zero constant pushed just before (in the same block).
            I::IDiv {} | I::IRem {} => {
                pc > 0 && !starts[pc] && matches!(code[pc - 1], I::IConst { value } if value != 0)
            }
            I::GlobalGet { index } => matches!(
                module.global_unset().get(index as usize),
                Some(GlobalUnset::Zero) | None
            ),
            I::CallNative { native } => is_inline_native(native),
            I::Ret {} => true,
            _ => plain(instr),
        }
    })
}

/// The caller's translation state that inlining swaps out.
struct Saved<'a> {
    vf: &'a rvm_vm::verified::VerifiedFunction,
    local_types: Vec<cranelift_codegen::ir::Type>,
    locals: Vec<Variable>,
    raw_locals: Vec<Option<Variable>>,
    canonical_of_raw: Vec<bool>,
    stack: Vec<Variable>,
    blocks: Vec<Option<cranelift_codegen::ir::Block>>,
    origin: Vec<Option<usize>>,
    loops: Vec<super::HoistLoop>,
    checked: Vec<usize>,
    checked_index: Vec<(usize, Value)>,
    inline_ret: Option<(cranelift_codegen::ir::Block, Variable, Option<Variable>)>,
}

impl<'a> Translator<'a, '_> {
    /// Whether the call at `pc` to `f` is inlined.
    pub(super) fn inlines(&self, f: u32) -> bool {
        self.inlinable.get(f as usize).copied().unwrap_or(false)
    }

    /// `call f` at `pc` (operand height `h`), `f` inlinable.
    pub(super) fn inline_call(&mut self, pc: usize, h: usize, f: u32) -> Result<(), String> {
        let (nargs, has_result) = self.func_sig_of(f)?;
        let module: &'a VerifiedModule = self.module;
        let callee = module
            .functions()
            .get(f as usize)
            .ok_or("call of a function out of range")?;
        let m = module.module();
        let callee_types: Vec<_> = local_type_ids(module, f)?
            .map(|t| match m.types.get(t as usize) {
                Some(TypeDef::Float) => F64,
                _ => I64,
            })
            .collect();
        let float_result = matches!(
            m.functions
                .get(f as usize)
                .and_then(|mf| match m.types.get(mf.ty as usize) {
                    Some(TypeDef::Func(fty)) => fty.result,
                    _ => None,
                })
                .and_then(|t| m.types.get(t as usize)),
            Some(TypeDef::Float)
        );
        self.inlined_calls += 1;
        self.tick(1, pc);
        let room = self.frame_room(pc);
        let inline = self.b.create_block();
        let reserve = self.b.create_block();
        let join = self.b.create_block();
        // The result (a float's exact bits and its raw value, see `set_arith`).
        let rty = if float_result { F64 } else { I64 };
        let result = self.b.declare_var(rty);
        let result_raw = float_result.then(|| self.b.declare_var(F64));
        self.b.set_cold_block(reserve);
        self.b.ins().brif(room, inline, &[], reserve, &[]);

        // The inline check failed: the runtime makes the checks of pushing the callee's
        // frame (trapping exactly where that would) and makes room, through the stub that
        // clobbers no register; then the body runs.
        self.enter(reserve);
        let need = (self.local_count() + h - nargs) as i64
            + callee.local_count() as i64
            + callee.max_stack() as i64;
        let need = self.b.ins().iadd_imm_s(self.base, need);
        let pcv = self.b.ins().iconst(I64, pc as i64);
        let stub = self.b.ins().iconst(I64, self.stubs.reserve as i64);
        self.flush_fuel();
        self.b
            .ins()
            .call_indirect(self.sigs.reserve, stub, &[self.cx, pcv, need]);
        self.reload_fuel();
        let status = self.b.ins().load(I64, super::mem(), self.cx, ctx::STATUS);
        self.b.ins().brif(status, self.unwind, &[], inline, &[]);

        // The body, in place.
        self.enter(inline);
        let args: Vec<Value> = (h - nargs..h).map(|k| self.get(k)).collect();
        let locals: Vec<Variable> = callee_types
            .iter()
            .map(|&ty| self.b.declare_var(ty))
            .collect();
        let raw_locals: Vec<Option<Variable>> = callee_types
            .iter()
            .map(|&ty| (ty == F64).then(|| self.b.declare_var(F64)))
            .collect();
        for (i, (&var, &ty)) in locals.iter().zip(&callee_types).enumerate() {
            let v = match args.get(i) {
                Some(&a) if ty == F64 => self.as_f64(a),
                Some(&a) => a,
                None if ty == F64 => self.b.ins().f64const(Ieee64::with_bits(0)),
                None => self.b.ins().iconst(I64, 0),
            };
            self.b.def_var(var, v);
            if let Some(r) = raw_locals[i] {
                self.b.def_var(r, v);
            }
        }
        let stack: Vec<Variable> = (0..callee.max_stack())
            .map(|_| self.b.declare_var(I64))
            .collect();
        let starts = block_starts(callee.code(), callee.heights());
        let blocks = starts
            .iter()
            .zip(callee.heights())
            .map(|(&s, &ht)| (s && ht != UNREACHABLE).then(|| self.b.create_block()))
            .collect();
        let saved = Saved {
            vf: std::mem::replace(&mut self.vf, callee),
            local_types: std::mem::replace(&mut self.local_types, callee_types),
            locals: std::mem::replace(&mut self.locals, locals),
            raw_locals: std::mem::replace(&mut self.raw_locals, raw_locals),
            canonical_of_raw: std::mem::replace(
                &mut self.canonical_of_raw,
                vec![false; callee.local_count() as usize],
            ),
            stack: std::mem::replace(&mut self.stack, stack),
            blocks: std::mem::replace(&mut self.blocks, blocks),
            origin: std::mem::replace(&mut self.origin, vec![None; callee.max_stack() as usize]),
            loops: std::mem::take(&mut self.loops),
            checked: std::mem::take(&mut self.checked),
            checked_index: std::mem::take(&mut self.checked_index),
            inline_ret: self.inline_ret.replace((join, result, result_raw)),
        };
        self.zero_stack();
        let first = self.edge_to(None, 0);
        let body = first.and_then(|first| {
            self.b.ins().jump(first, &[]);
            self.body(pc)
        });
        self.vf = saved.vf;
        self.local_types = saved.local_types;
        self.locals = saved.locals;
        self.raw_locals = saved.raw_locals;
        self.canonical_of_raw = saved.canonical_of_raw;
        self.stack = saved.stack;
        self.blocks = saved.blocks;
        self.origin = saved.origin;
        self.loops = saved.loops;
        self.checked = saved.checked;
        self.checked_index = saved.checked_index;
        self.inline_ret = saved.inline_ret;
        body?;

        self.enter(join);
        if has_result {
            let r = self.b.use_var(result);
            self.set(h - nargs, r);
            if let Some(raw) = result_raw {
                let raw = self.b.use_var(raw);
                let slot = self.get(h - nargs);
                self.raw.insert(slot, raw);
            }
        }
        Ok(())
    }

    /// Whether the frame of any call this function inlines would fit without the runtime
    /// (`frames_len < frames_max`, and the value stack holds `base + inline_need` slots): in
    /// a call-free loop, computed once in its preheader (these only change in a runtime
    /// call, and a stale "no room" merely takes the runtime check).
    pub(super) fn frame_room(&mut self, pc: usize) -> Value {
        if self.in_call_free_loop(pc) {
            return self.b.use_var(self.room);
        }
        self.frame_room_now()
    }

    /// [`Self::frame_room`], loaded now.
    pub(super) fn frame_room_now(&mut self) -> Value {
        let mem = super::mem();
        let len = self.b.ins().load(I64, mem, self.cx, ctx::FRAMES_LEN);
        let max = self.b.ins().load(I64, mem, self.cx, ctx::FRAMES_MAX);
        let depth_ok = self.b.ins().icmp(IntCC::UnsignedLessThan, len, max);
        let end = self.b.ins().iadd_imm_s(self.base, self.inline_need as i64);
        let slots = self.b.ins().load(I64, mem, self.cx, ctx::STACK_LEN);
        let fits = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, end, slots);
        self.b.ins().band(depth_ok, fits)
    }

    /// Translates the current function's body (its entry has jumped to the first
    /// instruction already). `end_pc` names the internal error a verified body cannot reach
    /// (falling off its end).
    pub(super) fn body(&mut self, end_pc: usize) -> Result<(), String> {
        let code = self.vf.code();
        // Blocks no backward jump reaches have all their predecessors emitted when the
        // translation reaches them, so they are sealed then.
        let mut back_target = vec![false; code.len()];
        for (pc, &instr) in code.iter().enumerate() {
            if let Instr::Jmp { target } | Instr::JmpIf { target } | Instr::JmpIfNot { target } =
                instr
                && (target as usize) <= pc
                && let Some(b) = back_target.get_mut(target as usize)
            {
                *b = true;
            }
        }
        let mut open = false;
        for (pc, &instr) in code.iter().enumerate() {
            if let Some(blk) = self.blocks[pc] {
                if open {
                    let to = self.edge_to(pc.checked_sub(1), pc)?;
                    self.b.ins().jump(to, &[]);
                }
                self.emit_preheader(pc)?;
                if back_target[pc] {
                    self.b.switch_to_block(blk);
                } else {
                    self.enter(blk);
                }
                self.origin.fill(None);
                self.checked.clear();
                self.checked_index.clear();
                open = true;
            }
            let h = self.vf.heights()[pc];
            if !open || h == UNREACHABLE {
                continue;
            }
            open = self.instr(pc, h as usize, instr)?;
        }
        if open {
            // The verifier rules out falling off the end.
            self.trap_now(end_pc, trap_code::INTERNAL, 0);
        }
        Ok(())
    }
}
