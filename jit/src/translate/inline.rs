//! Inlining of small leaf functions at their direct call sites.
//!
//! **Which callees.** A callee is inlined when nothing in it could make its frame visible:
//! it has at most [`MAX_INLINE`] instructions, and every one of them can neither trap, call,
//! allocate nor loop (no backward jump, so no fuel check inside). Such a function leaves no
//! trace of its frame record: no trap trace can name it, the collector never runs while it
//! is active, and it charges no fuel. What remains observable of the call is kept:
//!
//! - the call's unit of fuel, charged at the call's `pc` as before;
//! - the call-depth and value-stack limits: the caller runs only when one more frame fits
//!   (checked once at its entry, see `Translator::check_room`), so the callee's frame
//!   would fit, as the interpreter would find; when it does not, the caller is not run
//!   compiled, and the runtime or the interpreter makes the call's checks.
//!
//! **How.** The translator swaps in the callee's per-function state ([`FnState`]: its
//! function, locals — fresh variables, the parameters taken from the argument slots —
//! operand slots and blocks), translates its body in place, swaps the caller's back, and
//! turns each `ret` into a jump to the join block with the result.

use super::facts::{backward_jumps, block_starts, is_inline_native, local_types, plain};
use super::{HoistLoop, Translator, UNREACHABLE, declare_locals, trap_code};
use cranelift_codegen::ir::{
    Block, InstBuilder, Type, Value, immediates::Ieee64, types::F64, types::I64,
};
use cranelift_frontend::Variable;
use rvm_vm::format::{Instr, TypeDef};
use rvm_vm::verified::{GlobalUnset, VerifiedFunction, VerifiedModule};

/// The largest callee (in instructions) that is inlined.
pub(super) const MAX_INLINE: usize = 48;

/// Whether function `f` of `module` can be inlined into function `caller` (see the module
/// docs).
pub(super) fn inlinable(module: &VerifiedModule, caller: u32, f: u32) -> bool {
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
    (0..code.len()).all(|pc| heights[pc] == UNREACHABLE || frameless(module, code, &starts, pc))
}

/// Whether instruction `pc` of `code` (whose block starts are `starts`) runs without making
/// its function's frame observable: it can neither trap, call, allocate nor loop.
pub(super) fn frameless(
    module: &VerifiedModule,
    code: &[Instr],
    starts: &[bool],
    pc: usize,
) -> bool {
    use Instr as I;
    match code[pc] {
        I::Jmp { target } | I::JmpIf { target } | I::JmpIfNot { target } => target as usize > pc,
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
        instr => plain(instr),
    }
}

/// The translation state that belongs to one function body, swapped for an inlined
/// callee's and back (see [`Translator::swap_fn_state`]).
pub(super) struct FnState<'a> {
    vf: &'a VerifiedFunction,
    local_types: Vec<Type>,
    locals: Vec<Variable>,
    raw_locals: Vec<Option<Variable>>,
    canonical_of_raw: Vec<bool>,
    stack: Vec<Variable>,
    pub(super) blocks: Vec<Option<Block>>,
    origin: Vec<Option<usize>>,
    loops: Vec<HoistLoop>,
    checked_index: Vec<(usize, Value)>,
    inline_ret: Option<(Block, Variable, Option<Variable>)>,
    /// For an early exit: where the translated part ends, and the block that leaving it
    /// goes to.
    pub(super) bail: Option<(usize, Block)>,
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
        self.inlined_calls += 1;
        if !self.charged_by_loop(pc) {
            self.tick(1, pc);
        }
        let join = self.b.create_block();
        let (result, result_raw) = self.result_vars(callee);

        // The body, in place (the frame fits: see the module docs).
        let mut state = self.callee_state(f, h, nargs, (join, result, result_raw))?;
        self.swap_fn_state(&mut state);
        self.zero_stack();
        let first = self.edge_to(None, 0);
        let body = first.and_then(|first| {
            self.b.ins().jump(first, &[]);
            self.body(pc)
        });
        self.swap_fn_state(&mut state);
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

    /// Variables for the result of `callee` translated in place: a float's exact bits and
    /// its raw value (see `set_arith`), another value's bits.
    pub(super) fn result_vars(
        &mut self,
        callee: &VerifiedFunction,
    ) -> (Variable, Option<Variable>) {
        let float_result = matches!(
            callee
                .result()
                .and_then(|t| self.module.module().types.get(t as usize)),
            Some(TypeDef::Float)
        );
        let rty = if float_result { F64 } else { I64 };
        let result = self.b.declare_var(rty);
        (result, float_result.then(|| self.b.declare_var(F64)))
    }

    /// The per-function state of callee `f`, translated in place at a call with `nargs`
    /// arguments on top of an operand stack of height `h`: fresh locals (the parameters
    /// bound to the arguments), operand slots and blocks; its `ret`s define the result
    /// variables of `ret` and jump to its block. The callee's loops are not hoisted, and no
    /// float local keeps more than its exact bits.
    pub(super) fn callee_state(
        &mut self,
        f: u32,
        h: usize,
        nargs: usize,
        ret: (Block, Variable, Option<Variable>),
    ) -> Result<FnState<'a>, String> {
        let module: &'a VerifiedModule = self.module;
        let callee = module
            .functions()
            .get(f as usize)
            .ok_or("call of a function out of range")?;
        let callee_types = local_types(module, f)?;
        let args: Vec<Value> = (h - nargs..h).map(|k| self.get(k)).collect();
        let (locals, raw_locals) = declare_locals(self.b, &callee_types);
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
        Ok(FnState {
            vf: callee,
            local_types: callee_types,
            locals,
            raw_locals,
            canonical_of_raw: vec![false; callee.local_count() as usize],
            stack,
            blocks,
            origin: vec![None; callee.max_stack() as usize],
            loops: Vec::new(),
            checked_index: Vec::new(),
            inline_ret: Some(ret),
            bail: None,
        })
    }

    /// Exchanges the translator's per-function state with `s`.
    pub(super) fn swap_fn_state(&mut self, s: &mut FnState<'a>) {
        use std::mem::swap;
        swap(&mut self.vf, &mut s.vf);
        swap(&mut self.local_types, &mut s.local_types);
        swap(&mut self.locals, &mut s.locals);
        swap(&mut self.raw_locals, &mut s.raw_locals);
        swap(&mut self.canonical_of_raw, &mut s.canonical_of_raw);
        swap(&mut self.stack, &mut s.stack);
        swap(&mut self.blocks, &mut s.blocks);
        swap(&mut self.origin, &mut s.origin);
        swap(&mut self.loops, &mut s.loops);
        swap(&mut self.checked_index, &mut s.checked_index);
        swap(&mut self.inline_ret, &mut s.inline_ret);
        swap(&mut self.bail, &mut s.bail);
    }

    /// Translates the current function's body (its entry has jumped to the first
    /// instruction already). `end_pc` names the internal error a verified body cannot reach
    /// (falling off its end).
    pub(super) fn body(&mut self, end_pc: usize) -> Result<(), String> {
        let code = self.vf.code();
        // Blocks no backward jump reaches have all their predecessors emitted when the
        // translation reaches them, so they are sealed then.
        let mut back_target = vec![false; code.len()];
        for (_, t) in backward_jumps(code, self.vf.heights()) {
            if let Some(b) = back_target.get_mut(t) {
                *b = true;
            }
        }
        let mut open = false;
        for (pc, &instr) in code.iter().enumerate() {
            if let Some((end, bail)) = self.bail
                && pc >= end
            {
                // An early exit ends here (see `early_exit`).
                if open {
                    self.b.ins().jump(bail, &[]);
                }
                return Ok(());
            }
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
