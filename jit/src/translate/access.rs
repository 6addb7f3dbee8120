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

impl Access {
    /// Whether the runtime accessor returns a value (a trap sets `cx.status`) rather than
    /// the status.
    fn returns_value(self) -> bool {
        matches!(self, Access::ArrGet | Access::ArrLen | Access::FieldGet)
    }

    fn is_struct(self) -> bool {
        matches!(self, Access::FieldGet | Access::FieldSet)
    }
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
        (obj, src): (Value, Option<usize>),
        at_index: Index,
        value: Option<Value>,
    ) -> Value {
        let Some(l) = self.rt.heap else {
            let pcv = self.b.ins().iconst(I64, pc as i64);
            let index = self.index_value(at_index);
            return self.call_accessor(kind, pcv, [obj, index, value.unwrap_or(index)]);
        };
        let om = self.objects_mem;
        let is_struct = kind.is_struct();
        let ty = match (kind, at_index) {
            (Access::ArrLen, _) => I64,
            (_, Index::Const(k)) if is_struct => self.elem_type(src, Some(k)),
            _ => self.elem_type(src, None),
        };
        // Every failing check goes to this site's cold block, which passes the `pc` and the
        // operands on to the function's shared accessor call.
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let hoisted = src.and_then(|x| self.hoisted(pc, x));
        // A tracked array's length is its hoisted one once it is known to have been found
        // (a non-null element pointer; a failed lookup leaves it null), once per bytecode
        // block.
        if let (Access::ArrLen, Some((data_var, len_var)), Some(x)) = (kind, hoisted, src) {
            if !self.checked.contains(&x) {
                let data = self.b.use_var(data_var);
                let found = self.b.create_block();
                self.b.ins().brif(data, found, &[], slow, &[]);
                self.enter(found);
                self.checked.push(x);
            }
            let result = self.b.use_var(len_var);
            return self.finish_access(pc, kind, slow, (obj, at_index, value), result);
        }
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
                self.b.ins().brif(data, c3, &[], slow, &[]);
                self.enter(c3);
                self.checked.push(x);
            }
            let off = i32::try_from(k * 8).unwrap_or(i32::MAX);
            let result = self.load_or_store(ty, (data, off), value).unwrap_or(obj);
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
                    self.b.ins().brif(ok, c3, &[], slow, &[]);
                    self.enter(c3);
                    self.checked_index.extend(key);
                }
                self.load_or_store(ty, (at, off), value).unwrap_or(obj)
            }
        };
        self.finish_access(pc, kind, slow, (obj, at_index, value), result)
    }

    /// Loads the element of type `ty` at `at + off`, or stores `value` there (`None`).
    fn load_or_store(
        &mut self,
        ty: Type,
        (at, off): (Value, i32),
        value: Option<Value>,
    ) -> Option<Value> {
        let em = self.elems_mem;
        match value {
            Some(v) => {
                let v = if ty == F64 { self.as_f64(v) } else { v };
                self.b.ins().store(em, v, at, off);
                None
            }
            None => Some(self.b.ins().load(ty, em, at, off)),
        }
    }

    /// Calls the runtime accessor of `kind` with `pc` and the operands `[object, index,
    /// value]` (those it takes); a trap unwinds. Its result, for a get or a length.
    fn call_accessor(
        &mut self,
        kind: Access,
        pcv: Value,
        [obj, index, value]: [Value; 3],
    ) -> Value {
        let (addr, args) = match kind {
            Access::ArrGet => (self.rt.arr_get, vec![obj, index]),
            Access::ArrSet => (self.rt.arr_set, vec![obj, index, value]),
            Access::ArrLen => (self.rt.arr_len, vec![obj]),
            Access::FieldGet => (self.rt.field_get, vec![obj, index]),
            Access::FieldSet => (self.rt.field_set, vec![obj, index, value]),
        };
        self.access_at(pcv, addr, &args, kind.returns_value())
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
    fn elem_type(&self, src: Option<usize>, field: Option<i64>) -> Type {
        let m = self.module.module();
        let Some(t) = src.and_then(|x| self.local_type_id(x)) else {
            return I64;
        };
        let elem = match (m.types.get(t as usize), field) {
            (Some(TypeDef::Array(e)), None) => Some(*e),
            (Some(TypeDef::Struct(sd)), Some(k)) => usize::try_from(k)
                .ok()
                .and_then(|k| sd.fields.get(k))
                .map(|f| f.ty),
            _ => None,
        };
        match elem.and_then(|e| m.types.get(e as usize)) {
            Some(TypeDef::Float) => F64,
            _ => I64,
        }
    }

    /// Calls accessor `addr` with `(cx, pc, args..)`; `value`: it returns a value and signals
    /// a trap in `cx.status`, otherwise it returns the status.
    fn access_at(&mut self, pcv: Value, addr: usize, args: &[Value], value: bool) -> Value {
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
                    self.call_accessor(kind, p[0], [p[1], p[2], p[3]]);
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
