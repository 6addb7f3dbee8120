//! Heap accesses (array elements, struct fields) compiled inline, with their cold paths.
//!
//! **Objects are found unchecked.** A handle is an index into the heap's object table.
//! The runtime accessors check that it names a live object of the expected kind (and, for
//! a struct, with the field); compiled code does not, because in verified code the check
//! cannot fail: **a verified reference is a live handle to an object of its static type.**
//! The verifier proves every operand's type (and that a field index exists in its struct
//! type) and that locals are written before they are read; an object keeps the type it was
//! allocated with; reading a global reference before it is set traps; the collector frees
//! only objects no root reaches (compiled code spills its references per the stack maps,
//! see `spill`); and values from the host enter the guest only as freshly allocated
//! objects. So a field access is two loads (the field pointer, the field), and an element
//! access checks only its index: a failing check raises `index I out of bounds for length
//! N` at the access's `pc` through the function's shared trap call, as the accessor would.
//! Without a known heap layout, every access calls the runtime accessor.

use super::facts::local_type_ids;
use super::{F64, I64, Translator, mem};
use cranelift_codegen::ir::{InstBuilder, Type, Value, condcodes::IntCC};
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
}

/// The index of an access: an operand (and the local it was loaded from in this bytecode
/// block, if any), or a field's constant index.
#[derive(Clone, Copy)]
pub(super) enum Index {
    Dyn(Value, Option<usize>),
    Const(i64),
}

impl Translator<'_, '_> {
    /// An array or struct access: inline when the heap layout is known, else the runtime
    /// accessor (which raises the precise trap). Returns the value read (or a dummy for
    /// stores).
    ///
    /// The object is found without a check: the verifier proved the operand's type, and a
    /// verified reference is a live handle to an object of its type (see the module docs).
    /// A field access therefore never fails. An element access checks its index, and a
    /// failing check traps at the access's `pc`; the cold path never rejoins the inline
    /// one. With the table and header loads in their own alias region, Cranelift reuses
    /// them across accesses until the next call (the only thing that can change them).
    pub(super) fn inline_access(
        &mut self,
        pc: usize,
        kind: Access,
        (obj, src): (Value, Option<usize>),
        at_index: Index,
        value: Option<Value>,
    ) -> Value {
        let hoisted = src.and_then(|x| self.hoisted(pc, x));
        match (self.rt.heap, kind, at_index) {
            (Some(l), Access::FieldGet | Access::FieldSet, Index::Const(k)) => {
                // A field a loop around loaded in its preheader.
                if let (Access::FieldGet, Some(x), Ok(k16)) = (kind, src, u16::try_from(k))
                    && let Some(var) = self.preloaded(pc, x, k16)
                {
                    return self.b.use_var(var);
                }
                // At a constant index, which the verifier proved the struct's type has.
                let ty = self.elem_type(src, Some(k));
                let data = match hoisted {
                    Some((data_var, _)) => self.b.use_var(data_var),
                    None => {
                        let o = self.find_object(l, pc, obj);
                        self.b.ins().load(I64, self.objects_mem, o, l.fields_ptr)
                    }
                };
                let off = i32::try_from(k * 8).unwrap_or(i32::MAX);
                self.load_or_store(ty, (data, off), value).unwrap_or(obj)
            }
            (Some(l), Access::ArrLen, _) => match hoisted {
                Some((_, len_var)) => self.b.use_var(len_var),
                None => {
                    let o = self.find_object(l, pc, obj);
                    self.b.ins().load(I64, self.objects_mem, o, l.items_len)
                }
            },
            (Some(l), Access::ArrGet | Access::ArrSet, Index::Dyn(i, i_src)) => {
                let (data, n) = match hoisted {
                    Some((data_var, len_var)) => {
                        (self.b.use_var(data_var), self.b.use_var(len_var))
                    }
                    None => {
                        let o = self.find_object(l, pc, obj);
                        let om = self.objects_mem;
                        let n = self.b.ins().load(I64, om, o, l.items_len);
                        (self.b.ins().load(I64, om, o, l.items_ptr), n)
                    }
                };
                if src
                    .zip(i_src)
                    .is_some_and(|(x, j)| self.in_bounds(pc, x, j))
                {
                    self.unchecked_accesses += 1;
                } else {
                    self.check_index(pc, (src, hoisted.is_some()), i, n);
                }
                let ty = self.elem_type(src, None);
                let off = self.b.ins().ishl_imm_u(i, 3);
                let at = self.b.ins().iadd(data, off);
                self.load_or_store(ty, (at, 0), value).unwrap_or(obj)
            }
            // No known heap layout (or an index of the other kind, which the translator
            // never passes): the runtime accessor.
            _ => {
                let pcv = self.b.ins().iconst(I64, pc as i64);
                let index = self.index_value(at_index);
                self.call_accessor(kind, pcv, [obj, index, value.unwrap_or(index)])
            }
        }
    }

    /// Traps at `pc` unless `i < n` (an element index and its array's length), from the
    /// index and the length alone, as the accessor would: the cold path keeps nothing else
    /// alive through a loop. Skipped when the same index into the same tracked array local
    /// (`src`, `tracked`) was checked earlier in this bytecode block.
    fn check_index(
        &mut self,
        pc: usize,
        (src, tracked): (Option<usize>, bool),
        i: Value,
        n: Value,
    ) {
        let key = src.filter(|_| tracked).map(|x| (x, i));
        if key.is_some_and(|k| self.checked_index.contains(&k)) {
            return;
        }
        let ok = self.b.ins().icmp(IntCC::UnsignedLessThan, i, n);
        let cont = self.b.create_block();
        let site = self.b.create_block();
        self.b.set_cold_block(site);
        self.b.ins().brif(ok, cont, &[], site, &[]);
        self.enter(site);
        self.jump_to_trap(pc, trap_code::INDEX_OUT_OF_BOUNDS, [i, n]);
        self.enter(cont);
        self.checked_index.extend(key);
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

    /// The type id of local `x` of the function compiled.
    pub(super) fn local_type_id(&self, x: usize) -> Option<u32> {
        local_type_ids(self.module, self.index).ok()?.nth(x)
    }

    pub(super) fn index_value(&mut self, index: Index) -> Value {
        match index {
            Index::Dyn(v, _) => v,
            Index::Const(k) => self.b.ins().iconst(I64, k),
        }
    }

    /// The type of the elements (of field `field`) of the array (struct) in local `src`, as
    /// loaded and stored: a float is moved as one (no transfer through an integer register).
    pub(super) fn elem_type(&self, src: Option<usize>, field: Option<i64>) -> Type {
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
}
