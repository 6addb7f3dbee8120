//! One bytecode instruction at a time: the operand stack as Cranelift variables, most
//! instructions as inline code, heap accesses and calls through `access` and `call`, and
//! everything else through the interpreter's one-instruction step.

use super::access::{Access, Index};
use super::facts::runs_no_code;
use super::{F64, I64, Translator, mem};
use cranelift_codegen::ir::{
    InstBuilder, Opcode, Value, condcodes::FloatCC, condcodes::IntCC, immediates::Ieee64,
};
use cranelift_frontend::FunctionBuilder;
use rvm_vm::format::Instr;
use rvm_vm::tier::{ctx, trap_code};
use rvm_vm::verified::{GlobalUnset, UNSET_FN};

impl<'b> Translator<'_, 'b> {
    pub(super) fn ibin(
        &mut self,
        h: usize,
        f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value) -> Value,
    ) {
        let a = self.get(h - 2);
        let b = self.get(h - 1);
        let r = f(self.b, a, b);
        self.set(h - 2, r);
    }

    pub(super) fn icmp(&mut self, h: usize, cc: IntCC) {
        let a = self.get(h - 2);
        let b = self.get(h - 1);
        let c = self.b.ins().icmp(cc, a, b);
        let r = self.bool_of(c);
        self.set(h - 2, r);
    }

    pub(super) fn fbin(
        &mut self,
        h: usize,
        f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value) -> Value,
    ) {
        if self.arith_keeps_canonical_nan {
            // Canonical operands give a canonical result: no select at all.
            let a = self.getf_exact(h - 2);
            let b = self.getf_exact(h - 1);
            let r = f(self.b, a, b);
            self.set(h - 2, r);
            return;
        }
        let a = self.getf(h - 2);
        let b = self.getf(h - 1);
        let r = f(self.b, a, b);
        self.set_arith(h - 2, r);
    }

    pub(super) fn fcmp(&mut self, h: usize, cc: FloatCC) {
        let a = self.getf(h - 2);
        let b = self.getf(h - 1);
        let c = self.b.ins().fcmp(cc, a, b);
        let r = self.bool_of(c);
        self.set(h - 2, r);
    }

    /// Translates one instruction; whether the block stays open (falls through).
    pub(super) fn instr(&mut self, pc: usize, h: usize, instr: Instr) -> Result<bool, String> {
        use Instr as I;
        match instr {
            I::Nop {} | I::Pop {} => {}
            I::IConst { value } => {
                let v = self.b.ins().iconst(I64, value);
                self.set(h, v);
            }
            // Zero is one instruction (`xorpd`); another constant is made from its bits,
            // which Cranelift hoists out of loops (an `f64const` it would rematerialise at
            // every use, two instructions on x86_64 inside the loop).
            I::FConst { value } if value.0 != 0 => {
                let bits = self.b.ins().iconst(I64, value.0 as i64);
                self.set(h, bits);
            }
            I::FConst { value } => {
                let v = self.b.ins().f64const(Ieee64::with_bits(value.0));
                self.set(h, v);
            }
            I::BConst { value } => {
                let v = self.b.ins().iconst(I64, (value != 0) as i64);
                self.set(h, v);
            }
            I::FnRef { func } => {
                let v = self.b.ins().iconst(I64, func as i64);
                self.set(h, v);
            }
            I::SConst { index } => {
                let off = i32::try_from(index as u64 * 8).map_err(|_| "string index")?;
                let v = self
                    .b
                    .ins()
                    .load(I64, mem().with_readonly(), self.const_strs, off);
                self.set(h, v);
            }
            I::LocalGet { index } => {
                let i = index as usize;
                match self.raw_locals[i] {
                    // Its exact bits are the canonical form of its raw value: made here,
                    // and deleted by Cranelift where nothing needs them.
                    Some(raw) if self.canonical_of_raw[i] => {
                        let raw = self.b.use_var(raw);
                        if self.arith_keeps_canonical_nan {
                            self.set(h, raw); // canonical already (see `local.set`)
                        } else {
                            self.set_arith(h, raw);
                        }
                    }
                    raw => {
                        let v = self.b.use_var(self.locals[i]);
                        self.set(h, v);
                        if let Some(raw) = raw {
                            let raw = self.b.use_var(raw);
                            let slot = self.get(h);
                            self.raw.insert(slot, raw);
                        }
                    }
                }
                self.origin[h] = Some(i);
            }
            I::LocalSet { index } => {
                let i = index as usize;
                match self.raw_locals[i] {
                    Some(raw_var) => {
                        let raw = self.getf(h - 1);
                        if self.canonical_of_raw[i] {
                            // Where arithmetic keeps NaNs canonical, the local holds its
                            // canonical value (a native's result is canonicalised here).
                            let v = if self.arith_keeps_canonical_nan {
                                self.getf_exact(h - 1)
                            } else {
                                raw
                            };
                            self.b.def_var(raw_var, v);
                        } else {
                            let exact = self.getf_exact(h - 1);
                            self.def_local(i, exact, raw);
                        }
                    }
                    None => {
                        let v = self.get(h - 1);
                        self.b.def_var(self.locals[i], v);
                    }
                }
                self.local_assigned(pc, i);
            }
            I::GlobalGet { index } => {
                let off = i32::try_from(index as u64 * 8).map_err(|_| "global index")?;
                let v = self.b.ins().load(I64, mem(), self.globals, off);
                let unset_value = match self.module.global_unset().get(index as usize) {
                    Some(GlobalUnset::Ref) => Some(0),
                    Some(GlobalUnset::Func) => Some(UNSET_FN as i64),
                    Some(GlobalUnset::Zero) | None => None,
                };
                if let Some(unset_value) = unset_value {
                    let unset = self.b.ins().icmp_imm_s(IntCC::Equal, v, unset_value);
                    self.trap_if(unset, pc, trap_code::GLOBAL_UNINIT, index as u64);
                }
                self.set(h, v);
            }
            I::GlobalSet { index } => {
                let off = i32::try_from(index as u64 * 8).map_err(|_| "global index")?;
                let v = self.get(h - 1);
                self.b.ins().store(mem(), v, self.globals, off);
            }
            I::Dup {} => {
                let v = self.get(h - 1);
                self.set(h, v);
                self.origin[h] = self.origin[h - 1];
            }
            I::IAdd {} => self.ibin_bounded(h, pc, Opcode::Iadd, |t, x, y| t.b.ins().iadd(x, y)),
            I::ISub {} => self.ibin(h, |b, x, y| b.ins().isub(x, y)),
            I::IMul {} => self.ibin_bounded(h, pc, Opcode::Imul, Self::mul),
            I::IDiv {} | I::IRem {} if self.divide_by_constant(h, pc, instr == I::IRem {}) => {}
            I::IDiv {} | I::IRem {} => {
                let y = self.get(h - 1);
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                self.trap_if(zero, pc, trap_code::DIVISION_BY_ZERO, 0);
                let x = self.get(h - 2);
                let y = self.get(h - 1);
                // `MIN / -1` wraps (the hardware would fault): divide by 1 instead and
                // negate; the remainder by 1 is the right 0.
                let minus1 = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                let one = self.b.ins().iconst(I64, 1);
                let safe = self.b.ins().select(minus1, one, y);
                let r = if matches!(instr, I::IDiv {}) {
                    let q = self.b.ins().sdiv(x, safe);
                    let neg = self.b.ins().ineg(x);
                    self.b.ins().select(minus1, neg, q)
                } else {
                    self.b.ins().srem(x, safe)
                };
                self.set(h - 2, r);
            }
            I::INeg {} => {
                let x = self.get(h - 1);
                let r = self.b.ins().ineg(x);
                self.set(h - 1, r);
            }
            I::IAnd {} => self.ibin_bounded(h, pc, Opcode::Band, |t, x, y| t.b.ins().band(x, y)),
            I::IOr {} => self.ibin(h, |b, x, y| b.ins().bor(x, y)),
            I::IXor {} => self.ibin(h, |b, x, y| b.ins().bxor(x, y)),
            I::IShl {} => self.ibin(h, |b, x, y| {
                let y = b.ins().band_imm_u(y, 63);
                b.ins().ishl(x, y)
            }),
            I::IShr {} => self.ibin(h, |b, x, y| {
                let y = b.ins().band_imm_u(y, 63);
                b.ins().sshr(x, y)
            }),
            I::IEq {} | I::BEq {} | I::REq {} => self.icmp(h, IntCC::Equal),
            I::INe {} | I::BNe {} | I::RNe {} => self.icmp(h, IntCC::NotEqual),
            I::ILt {} => self.icmp(h, IntCC::SignedLessThan),
            I::ILe {} => self.icmp(h, IntCC::SignedLessThanOrEqual),
            I::IGt {} => self.icmp(h, IntCC::SignedGreaterThan),
            I::IGe {} => self.icmp(h, IntCC::SignedGreaterThanOrEqual),
            // NaN results are canonicalised (`set_arith`), like `float::canonical` in the
            // interpreter.
            I::FAdd {} => self.fbin(h, |b, x, y| b.ins().fadd(x, y)),
            I::FSub {} => self.fbin(h, |b, x, y| b.ins().fsub(x, y)),
            I::FMul {} => self.fbin(h, |b, x, y| b.ins().fmul(x, y)),
            I::FDiv {} => self.fbin(h, |b, x, y| b.ins().fdiv(x, y)),
            I::FRem {} => {
                let x = self.getf(h - 2);
                let y = self.getf(h - 1);
                let r = self.call_rt(self.sigs.fmod, self.rt.fmod, &[x, y]);
                self.set(h - 2, r);
            }
            // The negation of the canonical NaN is another NaN: canonicalised too.
            I::FNeg {} => {
                let x = self.getf(h - 1);
                let r = self.b.ins().fneg(x);
                self.set_arith(h - 1, r);
            }
            I::FEq {} => self.fcmp(h, FloatCC::Equal),
            I::FNe {} => self.fcmp(h, FloatCC::NotEqual),
            I::FLt {} => self.fcmp(h, FloatCC::LessThan),
            I::FLe {} => self.fcmp(h, FloatCC::LessThanOrEqual),
            I::FGt {} => self.fcmp(h, FloatCC::GreaterThan),
            I::FGe {} => self.fcmp(h, FloatCC::GreaterThanOrEqual),
            I::BNot {} => {
                let x = self.get(h - 1);
                let r = self.b.ins().bxor_imm_u(x, 1);
                self.set(h - 1, r);
            }
            I::IToF {} => {
                let x = self.get(h - 1);
                let r = self.b.ins().fcvt_from_sint(F64, x);
                self.set(h - 1, r);
            }
            I::FToI {} => {
                let x = self.getf(h - 1);
                let r = self.b.ins().fcvt_to_sint_sat(I64, x);
                self.set(h - 1, r);
            }
            I::Jmp { target } => {
                self.jump_to(target as usize, pc)?;
                return Ok(false);
            }
            I::JmpIf { target } | I::JmpIfNot { target } => {
                let t = target as usize;
                let c = self.get(h - 1);
                let next = self.edge_to(Some(pc), pc + 1)?;
                let taken = if t <= pc {
                    self.b.create_block()
                } else {
                    self.edge_to(Some(pc), t)?
                };
                if matches!(instr, I::JmpIf { .. }) {
                    self.b.ins().brif(c, taken, &[], next, &[]);
                } else {
                    self.b.ins().brif(c, next, &[], taken, &[]);
                }
                if t <= pc {
                    self.b.switch_to_block(taken);
                    self.jump_to(t, pc)?;
                }
                return Ok(false);
            }
            I::Ret {} => {
                if let Some((join, var, raw)) = self.inline_ret {
                    match raw {
                        Some(raw) => {
                            let exact = self.getf_exact(h - 1);
                            let r = self.getf(h - 1);
                            self.b.def_var(var, exact);
                            self.b.def_var(raw, r);
                        }
                        None if self.vf.result().is_some() => {
                            let r = self.get(h - 1);
                            self.b.def_var(var, r);
                        }
                        None => {}
                    }
                    self.b.ins().jump(join, &[]);
                    return Ok(false);
                }
                let result = if self.vf.result().is_some() {
                    let r = self.get(h - 1);
                    self.with_accumulator(r)
                } else {
                    self.b.ins().iconst(I64, 0)
                };
                // Pop the frame inline, unless it is `main`'s (whose exit code the runtime
                // checks). Only `main` can be at `main`'s depth (the runtime sets it for the
                // run of `main` alone), so no other function checks.
                if self.module.module().main != Some(self.index) {
                    self.return_with_fuel(result);
                    return Ok(false);
                }
                let main = self.b.ins().load(I64, mem(), self.cx, ctx::MAIN_DEPTH);
                let is_main = self.b.ins().icmp(IntCC::Equal, self.depth, main);
                let slow = self.b.create_block();
                let fast = self.b.create_block();
                self.b.set_cold_block(slow);
                self.b.ins().brif(is_main, slow, &[], fast, &[]);
                self.b.switch_to_block(fast);
                self.return_with_fuel(result);
                self.b.switch_to_block(slow);
                let pcv = self.b.ins().iconst(I64, pc as i64);
                let st = self.call_rt(self.sigs.ret, self.rt.ret, &[self.cx, pcv, result]);
                self.check(st);
                self.return_with_fuel(result);
                return Ok(false);
            }
            I::Call { func } if self.inlines(func) => self.inline_call(pc, h, func)?,
            I::Call { .. } | I::CallRef { .. } | I::CallNative { .. }
                if !runs_no_code(instr) && self.in_call_free_loop(pc) =>
            {
                return Err(format!("instruction {pc} calls in a call-free loop"));
            }
            I::Call { func } => {
                let (nargs, has_result) = self.func_sig_of(func)?;
                let callee = self.b.ins().iconst(I64, func as i64);
                self.call(pc, h, callee, nargs, has_result, 0, Some(func))?;
            }
            I::CallRef { type_ } => {
                let (nargs, has_result) = self.sig_of_type(type_)?;
                let callee = self.get(h - nargs - 1);
                self.call(pc, h, callee, nargs, has_result, 1, None)?;
            }
            // The heap accesses that cannot allocate: inline checks and loads or stores, the
            // runtime accessor only on a failing check (no spill: no collection can happen,
            // a trap needs only the `pc`).
            I::ArrGet {} => {
                let (a, i) = (self.get(h - 2), self.get(h - 1));
                let (src, i_src) = (self.origin[h - 2], self.origin[h - 1]);
                let i = Index::Dyn(i, i_src);
                let r = self.inline_access(pc, Access::ArrGet, (a, src), i, None);
                self.set(h - 2, r);
            }
            I::ArrSet {} => {
                let (a, i, v) = (self.get(h - 3), self.get(h - 2), self.get(h - 1));
                let (src, i_src) = (self.origin[h - 3], self.origin[h - 2]);
                let i = Index::Dyn(i, i_src);
                self.inline_access(pc, Access::ArrSet, (a, src), i, Some(v));
            }
            I::ArrLen {} => {
                let a = self.get(h - 1);
                let src = self.origin[h - 1];
                let r = self.inline_access(pc, Access::ArrLen, (a, src), Index::Const(0), None);
                self.set(h - 1, r);
            }
            I::FieldGet { index } => {
                let s = self.get(h - 1);
                let src = self.origin[h - 1];
                let i = Index::Const(index.into());
                let r = self.inline_access(pc, Access::FieldGet, (s, src), i, None);
                self.set(h - 1, r);
            }
            I::FieldSet { index } => {
                let (s, v) = (self.get(h - 2), self.get(h - 1));
                let src = self.origin[h - 2];
                let i = Index::Const(index.into());
                self.inline_access(pc, Access::FieldSet, (s, src), i, Some(v));
            }
            I::CallNative { native } if self.native_inline(h, native) => {}
            _ if self.in_call_free_loop(pc) => {
                return Err(format!("instruction {pc} steps in a call-free loop"));
            }
            _ => self.step(pc, h)?,
        }
        Ok(true)
    }

    /// The pure numeric natives, inline with the interpreter's results (Cranelift's `sqrt`,
    /// `fmin`, `fmax`, `floor`, `ceil`, `fabs` are IEEE-exact; NaNs are canonicalised like
    /// `runtime::natives` by `set_arith`). Whether `native` was one.
    pub(super) fn native_inline(&mut self, h: usize, native: u16) -> bool {
        use rvm_vm::natives::Native as N;
        let Some(n) = N::from_id(native) else {
            return false;
        };
        match n {
            N::Sqrt if self.arith_keeps_canonical_nan => {
                let x = self.getf_exact(h - 1);
                let r = self.b.ins().sqrt(x);
                self.set(h - 1, r);
            }
            N::Sqrt | N::Floor | N::Ceil | N::FloatAbs => {
                let x = self.getf(h - 1);
                let r = match n {
                    N::Sqrt => self.b.ins().sqrt(x),
                    N::Floor => self.b.ins().floor(x),
                    N::Ceil => self.b.ins().ceil(x),
                    _ => self.b.ins().fabs(x),
                };
                self.set_arith(h - 1, r);
            }
            N::FloatMin | N::FloatMax => {
                let x = self.getf(h - 2);
                let y = self.getf(h - 1);
                let r = if n == N::FloatMin {
                    self.b.ins().fmin(x, y)
                } else {
                    self.b.ins().fmax(x, y)
                };
                self.set_arith(h - 2, r);
            }
            N::IntAbs => {
                let x = self.get(h - 1);
                let r = self.b.ins().iabs(x);
                self.set(h - 1, r);
            }
            N::IntMin | N::IntMax => {
                let x = self.get(h - 2);
                let y = self.get(h - 1);
                let r = if n == N::IntMin {
                    self.b.ins().smin(x, y)
                } else {
                    self.b.ins().smax(x, y)
                };
                self.set(h - 2, r);
            }
            _ => return false,
        }
        true
    }
}
