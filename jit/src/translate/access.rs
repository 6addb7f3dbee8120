//! Heap accesses (array elements, struct fields) compiled inline, with their cold paths:
//! the inline checks are exactly the runtime accessors', and a failing check calls the
//! accessor at the access's `pc` (through the function's shared cold block), which raises
//! the precise trap.

use super::facts::local_type_ids;
use super::{F64, I64, Translator, mem};
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, Type, Value, condcodes::IntCC};
use rvm_vm::format::TypeDef;
use rvm_vm::tier::{ctx, trap_code};

/// The heap accesses compiled inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    ArrGet,
    ArrSet,
    ArrLen,
    FieldGet,
    FieldSet,
}

/// The index of an access: an operand, or a field's constant index.
#[derive(Clone, Copy)]
pub(super) enum Index {
    Dyn(Value),
    Const(i64),
}

/// A shared cold path (see `Translator::cold`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Cold {
    Access(Access),
    Trap,
}

impl Translator<'_, '_> {
    /// An array or struct access: inline when the heap layout is known and every check
    /// passes (handle in the table, the right kind of object, index in range), else the
    /// runtime accessor (which raises the precise trap). Returns the value read (or a
    /// dummy for stores).
    ///
    /// The inline checks are exactly the accessors' (`Heap::array`/`Heap::struct_` and the
    /// index check), so the cold path always traps: it never rejoins the inline path, and
    /// the code after an access is dominated by the checks and loads of the inline path
    /// alone. With the table and header loads in their own alias region, Cranelift reuses
    /// them across accesses until the next call (the only thing that can change them).
    pub(super) fn inline_access(
        &mut self,
        pc: usize,
        kind: Access,
        (obj, src, ty): (Value, Option<usize>, Type),
        at_index: Index,
        value: Option<Value>,
    ) -> Value {
        let returns_value = matches!(kind, Access::ArrGet | Access::ArrLen | Access::FieldGet);
        let Some(l) = self.rt.heap else {
            let index = self.index_value(at_index);
            let (addr, args): (usize, Vec<Value>) = match kind {
                Access::ArrGet => (self.rt.arr_get, vec![obj, index]),
                Access::ArrSet => (self.rt.arr_set, vec![obj, index, value.unwrap_or(index)]),
                Access::ArrLen => (self.rt.arr_len, vec![obj]),
                Access::FieldGet => (self.rt.field_get, vec![obj, index]),
                Access::FieldSet => (self.rt.field_set, vec![obj, index, value.unwrap_or(index)]),
            };
            return self.access(pc, addr, &args, returns_value);
        };
        let om = self.objects_mem;
        // Every failing check goes to this site's cold block, which passes the `pc` and the
        // operands on to the function's shared accessor call.
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let slow_args: [BlockArg; 0] = [];
        let is_struct = matches!(kind, Access::FieldGet | Access::FieldSet);
        let hoisted = match kind {
            Access::ArrLen => None,
            _ => src.and_then(|x| self.hoisted(pc, x)),
        };
        // A tracked struct's header was checked to hold every field of its type when it was
        // loaded (`load_header`): a field access checks only that it was found, once per
        // bytecode block.
        if let (Some((data_var, _)), Index::Const(k), Some(x)) = (hoisted, at_index, src)
            && is_struct
            && self
                .struct_fields(x)
                .is_some_and(|nf| (k as u64) < nf as u64)
        {
            let data = self.b.use_var(data_var);
            if !self.checked.contains(&x) {
                let c3 = self.b.create_block();
                self.b.ins().brif(data, c3, &[], slow, &slow_args);
                self.enter(c3);
                self.checked.push(x);
            }
            let em = self.elems_mem;
            let off = i32::try_from(k * 8).unwrap_or(i32::MAX);
            let result = match value {
                Some(v) => {
                    let v = if ty == F64 { self.as_f64(v) } else { v };
                    self.b.ins().store(em, v, data, off);
                    obj
                }
                None => self.b.ins().load(ty, em, data, off),
            };
            return self.finish_access(pc, kind, slow, (obj, at_index, value), result);
        }
        let (data, n) = if let Some((data_var, len_var)) = hoisted {
            (Some(self.b.use_var(data_var)), self.b.use_var(len_var))
        } else {
            let table = self.object_table(pc).unwrap_or((obj, obj));
            let o = self.find_object(table, obj, is_struct, slow);
            let (p_off, n_off) = if is_struct {
                (l.fields_ptr, l.fields_len)
            } else {
                (l.items_ptr, l.items_len)
            };
            let n = self.b.ins().load(I64, om, o, n_off);
            let data = match kind {
                Access::ArrLen => None,
                _ => Some(self.b.ins().load(I64, om, o, p_off)),
            };
            (data, n)
        };
        let result = match data {
            None => n,
            Some(data) => {
                // A constant index (a field) is compared and addressed as an immediate.
                let (ok, at, off) = match at_index {
                    Index::Const(k) => {
                        let ok = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, n, k);
                        (ok, data, i32::try_from(k * 8).unwrap_or(i32::MAX))
                    }
                    Index::Dyn(i) => {
                        let ok = self.b.ins().icmp(IntCC::UnsignedLessThan, i, n);
                        let off = self.b.ins().ishl_imm_u(i, 3);
                        (ok, self.b.ins().iadd(data, off), 0)
                    }
                };
                // The same index into the same tracked array was checked earlier in this
                // bytecode block: the check would pass again.
                let key = match (hoisted, src, at_index) {
                    (Some(_), Some(x), Index::Dyn(i)) => Some((x, i)),
                    _ => None,
                };
                if key.is_none_or(|k| !self.checked_index.contains(&k)) {
                    let c3 = self.b.create_block();
                    self.b.ins().brif(ok, c3, &[], slow, &slow_args);
                    self.enter(c3);
                    self.checked_index.extend(key);
                }
                let em = self.elems_mem;
                match value {
                    Some(v) => {
                        let v = if ty == F64 { self.as_f64(v) } else { v };
                        self.b.ins().store(em, v, at, off);
                        obj
                    }
                    None => self.b.ins().load(ty, em, at, off),
                }
            }
        };
        self.finish_access(pc, kind, slow, (obj, at_index, value), result)
    }

    /// Ends an inline access: the fast path continues in a new block, and the site's cold
    /// block `slow` passes the operands to the shared accessor call.
    pub(super) fn finish_access(
        &mut self,
        pc: usize,
        kind: Access,
        slow: Block,
        (obj, at_index, value): (Value, Index, Option<Value>),
        result: Value,
    ) -> Value {
        // The fast path continues in `done`, its only predecessor.
        let done = self.b.create_block();
        self.b.ins().jump(done, &[]);
        let shared = self.cold_block(Cold::Access(kind), 4);
        self.enter(slow);
        let pcv = self.b.ins().iconst(I64, pc as i64);
        let index = self.index_value(at_index);
        let args = [pcv, obj, index, value.unwrap_or(index)].map(BlockArg::Value);
        self.b.ins().jump(shared, &args);
        self.enter(done);
        result
    }

    /// The number of fields of the struct type of local `x` (of the function compiled).
    pub(super) fn struct_fields(&self, x: usize) -> Option<usize> {
        let t = self.local_type_id(x)?;
        match self.module.module().types.get(t as usize) {
            Some(TypeDef::Struct(sd)) => Some(sd.fields.len()),
            _ => None,
        }
    }

    /// The type id of local `x` of the function compiled.
    pub(super) fn local_type_id(&self, x: usize) -> Option<u32> {
        local_type_ids(self.module, self.index).ok()?.nth(x)
    }

    pub(super) fn index_value(&mut self, index: Index) -> Value {
        match index {
            Index::Dyn(v) => v,
            Index::Const(k) => self.b.ins().iconst(I64, k),
        }
    }

    /// The type of the elements (of field `field`) of the array (struct) in local `src`, as
    /// loaded and stored: a float is moved as one (no transfer through an integer register).
    pub(super) fn elem_type(&self, src: Option<usize>, field: Option<u32>) -> Type {
        let m = self.module.module();
        let Some(t) = src.and_then(|x| self.local_type_id(x)) else {
            return I64;
        };
        let elem = match (m.types.get(t as usize), field) {
            (Some(TypeDef::Array(e)), None) => Some(*e),
            (Some(TypeDef::Struct(sd)), Some(k)) => sd.fields.get(k as usize).map(|f| f.ty),
            _ => None,
        };
        match elem.and_then(|e| m.types.get(e as usize)) {
            Some(TypeDef::Float) => F64,
            _ => I64,
        }
    }

    /// Calls accessor `addr` with `(cx, pc, args..)`; `value`: it returns a value and signals
    /// a trap in `cx.status`, otherwise it returns the status.
    pub(super) fn access(&mut self, pc: usize, addr: usize, args: &[Value], value: bool) -> Value {
        let pcv = self.b.ins().iconst(I64, pc as i64);
        self.access_at(pcv, addr, args, value)
    }

    /// [`Self::access`] with the `pc` as a value.
    pub(super) fn access_at(
        &mut self,
        pcv: Value,
        addr: usize,
        args: &[Value],
        value: bool,
    ) -> Value {
        let mut all = vec![self.cx, pcv];
        all.extend_from_slice(args);
        let sig = match all.len() {
            3 => self.sigs.args3,
            4 => self.sigs.args4,
            _ => self.sigs.args5,
        };
        let r = self.call_rt(sig, addr, &all);
        if value {
            let status = self.b.ins().load(I64, mem(), self.cx, ctx::STATUS);
            self.check(status);
        } else {
            self.check(r);
        }
        r
    }

    /// Fills in the shared cold blocks.
    pub(super) fn emit_cold(&mut self) {
        for (what, blk) in std::mem::take(&mut self.cold) {
            self.b.switch_to_block(blk);
            let p = self.b.block_params(blk).to_vec();
            match what {
                Cold::Trap => {
                    self.call_rt(self.sigs.trap, self.rt.trap, &[self.cx, p[0], p[1], p[2]]);
                }
                Cold::Access(kind) => {
                    let (addr, args) = match kind {
                        Access::ArrGet => (self.rt.arr_get, vec![p[1], p[2]]),
                        Access::ArrSet => (self.rt.arr_set, vec![p[1], p[2], p[3]]),
                        Access::ArrLen => (self.rt.arr_len, vec![p[1]]),
                        Access::FieldGet => (self.rt.field_get, vec![p[1], p[2]]),
                        Access::FieldSet => (self.rt.field_set, vec![p[1], p[2], p[3]]),
                    };
                    let returns_value =
                        matches!(kind, Access::ArrGet | Access::ArrLen | Access::FieldGet);
                    self.access_at(p[0], addr, &args, returns_value);
                    // Unreachable: the accessor failed where the inline checks did.
                    let internal = self.b.ins().iconst(I64, trap_code::INTERNAL as i64);
                    let zero = self.b.ins().iconst(I64, 0);
                    self.call_rt(
                        self.sigs.trap,
                        self.rt.trap,
                        &[self.cx, p[0], internal, zero],
                    );
                }
            }
            self.b.ins().jump(self.unwind, &[]);
        }
    }

    /// The shared cold block `what` (created with `params` parameters on first use).
    pub(super) fn cold_block(&mut self, what: Cold, params: usize) -> Block {
        if let Some(&(_, b)) = self.cold.iter().find(|(c, _)| *c == what) {
            return b;
        }
        let b = self.b.create_block();
        self.b.set_cold_block(b);
        for _ in 0..params {
            self.b.append_block_param(b, I64);
        }
        self.cold.push((what, b));
        b
    }
}
