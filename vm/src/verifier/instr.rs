//! The transfer function: what each instruction needs on the stack and leaves there.
//!
//! One exhaustive `match` over [`Instr`]: the instructions with a fixed scalar stack effect
//! share [`Instr::static_effect`], every other one is typed here by hand, and a new opcode
//! does not compile until it is added to one of the two groups.

use super::code::{Flow, FnCx, State};
use super::types::Ty;
use super::{Rule, VerifyError};
use crate::format::{Function, Instr, TypeId};
use crate::natives::Native;

impl FnCx<'_, '_> {
    /// Applies instruction `pc` to `st`, or explains why it cannot run there.
    pub(super) fn step(
        &self,
        pc: usize,
        instr: &Instr,
        st: &mut State,
    ) -> Result<Flow, VerifyError> {
        let mut op = Op {
            cx: self,
            pc,
            mnemonic: instr.mnemonic(),
            st,
        };
        let types = self.types;
        match *instr {
            Instr::Nop {}
            | Instr::IConst { .. }
            | Instr::FConst { .. }
            | Instr::IAdd {}
            | Instr::ISub {}
            | Instr::IMul {}
            | Instr::IDiv {}
            | Instr::IRem {}
            | Instr::INeg {}
            | Instr::IAnd {}
            | Instr::IOr {}
            | Instr::IXor {}
            | Instr::IShl {}
            | Instr::IShr {}
            | Instr::IEq {}
            | Instr::INe {}
            | Instr::ILt {}
            | Instr::ILe {}
            | Instr::IGt {}
            | Instr::IGe {}
            | Instr::FAdd {}
            | Instr::FSub {}
            | Instr::FMul {}
            | Instr::FDiv {}
            | Instr::FRem {}
            | Instr::FNeg {}
            | Instr::FEq {}
            | Instr::FNe {}
            | Instr::FLt {}
            | Instr::FLe {}
            | Instr::FGt {}
            | Instr::FGe {}
            | Instr::BNot {}
            | Instr::BEq {}
            | Instr::BNe {}
            | Instr::SConcat {}
            | Instr::SEq {}
            | Instr::SNe {}
            | Instr::SLt {}
            | Instr::SLe {}
            | Instr::SGt {}
            | Instr::SGe {}
            | Instr::IToF {}
            | Instr::FToI {} => op.apply_static(instr)?,
            Instr::BConst { value } => {
                if value > 1 {
                    return Err(op.err(
                        Rule::BoolConst,
                        format!("b.const {value}: a bool constant must be 0 or 1"),
                    ));
                }
                op.apply_static(instr)?;
            }
            Instr::SConst { index } => {
                if self.m.strings.get(index as usize).is_none() {
                    return Err(op.err(
                        Rule::StringIndex,
                        format!(
                            "string #{index} is out of range ({} strings)",
                            self.m.strings.len()
                        ),
                    ));
                }
                op.push(Ty::Str)?;
            }
            Instr::FnRef { func } => {
                let f = op.function(func)?;
                op.push(types.of(f.ty))?;
            }
            Instr::LocalGet { index } => {
                let ty = op.local(index)?;
                let i = index as usize;
                let set = op
                    .st
                    .assigned
                    .get(i / 64)
                    .is_some_and(|w| w & (1 << (i % 64)) != 0);
                if !set {
                    return Err(op.err(
                        Rule::UninitializedLocal,
                        format!("local #{index} may be read before it is written"),
                    ));
                }
                op.push(ty)?;
            }
            Instr::LocalSet { index } => {
                let ty = op.local(index)?;
                op.need(1)?;
                op.pop_expect(ty)?;
                let i = index as usize;
                if let Some(w) = op.st.assigned.get_mut(i / 64) {
                    *w |= 1 << (i % 64);
                }
            }
            Instr::GlobalGet { index } => {
                let ty = op.global(index)?.0;
                op.push(ty)?;
            }
            Instr::GlobalSet { index } => {
                let (ty, mutable) = op.global(index)?;
                if !mutable && !self.is_init {
                    return Err(op.err(
                        Rule::ImmutableGlobal,
                        format!(
                            "global #{index} is immutable and only the initialiser may write it"
                        ),
                    ));
                }
                op.need(1)?;
                op.pop_expect(ty)?;
            }
            Instr::Pop {} => {
                op.need(1)?;
                op.pop()?;
            }
            Instr::Dup {} => {
                op.need(1)?;
                let t = op.pop()?;
                op.push(t)?;
                op.push(t)?;
            }
            Instr::SSplit { type_ } | Instr::SChars { type_ } => {
                let arr = op.type_operand(type_)?;
                if types.array_elem(arr) != Some(Ty::Str) {
                    return Err(op.bad_type(type_, "[str]"));
                }
                let strs = if matches!(instr, Instr::SSplit { .. }) {
                    2
                } else {
                    1
                };
                op.need(strs)?;
                for _ in 0..strs {
                    op.pop_expect(Ty::Str)?;
                }
                op.push(arr)?;
            }
            Instr::REq {} | Instr::RNe {} => {
                op.need(2)?;
                let b = op.pop()?;
                let a = op.pop()?;
                if a != b || !types.is_identity_comparable(a) {
                    return Err(op.err(
                        Rule::TypeMismatch,
                        format!(
                            "{} compares two arrays, maps, structs or functions of the same type, found {} and {}",
                            op.mnemonic,
                            types.name(a),
                            types.name(b)
                        ),
                    ));
                }
                op.push(Ty::Bool)?;
            }
            Instr::ToStr { type_ } => {
                let ty = op.type_operand(type_)?;
                if !types.is_printable(ty) {
                    return Err(op.err(
                        Rule::NotPrintable,
                        format!(
                            "to_str: values of type {} cannot be printed",
                            types.name(ty)
                        ),
                    ));
                }
                op.need(1)?;
                op.pop_expect(ty)?;
                op.push(Ty::Str)?;
            }
            Instr::Jmp { target } => return Ok(Flow::Jump(target as usize)),
            Instr::JmpIf { target } | Instr::JmpIfNot { target } => {
                op.apply_static(instr)?;
                return Ok(Flow::Branch(target as usize));
            }
            Instr::Ret {} => {
                let want: &[Ty] = match &self.result {
                    Some(r) => std::slice::from_ref(r),
                    None => &[],
                };
                if op.st.stack != want {
                    return Err(op.err(
                        Rule::ReturnMismatch,
                        format!(
                            "ret needs exactly {} on the stack, found {}",
                            types.stack_name(want),
                            types.stack_name(&op.st.stack)
                        ),
                    ));
                }
                return Ok(Flow::Return);
            }
            Instr::Call { func } => {
                let f = op.function(func)?;
                let Some(sig) = types.func_of_id(f.ty) else {
                    return Err(op.err(
                        Rule::NotAFuncType,
                        format!("function #{func} has no function signature"),
                    ));
                };
                op.call(&sig.params, sig.result)?;
            }
            Instr::CallRef { type_ } => {
                let fty = op.type_operand(type_)?;
                let Some(sig) = types.func(fty) else {
                    return Err(op.err(
                        Rule::NotAFuncType,
                        format!("call.ref: type {} is not a function type", types.name(fty)),
                    ));
                };
                op.need(sig.params.len() + 1)?;
                op.call(&sig.params, None)?;
                op.pop_expect(fty)?;
                if let Some(r) = sig.result {
                    op.push(types.of(r))?;
                }
            }
            Instr::CallHost { import } => {
                let Some(imp) = self.m.imports.get(import as usize) else {
                    return Err(op.err(
                        Rule::ImportIndex,
                        format!(
                            "import #{import} is out of range ({} imports)",
                            self.m.imports.len()
                        ),
                    ));
                };
                let Some(sig) = types.func_of_id(imp.ty) else {
                    return Err(op.err(
                        Rule::NotAFuncType,
                        format!("import #{import} has no function signature"),
                    ));
                };
                op.call(&sig.params, sig.result)?;
            }
            Instr::CallNative { native } => {
                let Some(n) = Native::from_id(native) else {
                    return Err(op.err(
                        Rule::NativeIndex,
                        format!("there is no native function with id {native}"),
                    ));
                };
                op.mnemonic = n.name();
                let params = n.params();
                op.need(params.len())?;
                for p in params.iter().rev() {
                    op.pop_expect(Ty::from(*p))?;
                }
                if let Some(r) = n.result() {
                    op.push(Ty::from(r))?;
                }
            }
            Instr::ArrNew { type_, count } => {
                let arr = op.type_operand(type_)?;
                let Some(elem) = types.array_elem(arr) else {
                    return Err(op.bad_type(type_, "an array type"));
                };
                op.need_u64(count as u64)?;
                for _ in 0..count {
                    op.pop_expect(elem)?;
                }
                op.push(arr)?;
            }
            Instr::ArrFill { type_ } => {
                let arr = op.type_operand(type_)?;
                let Some(elem) = types.array_elem(arr) else {
                    return Err(op.bad_type(type_, "an array type"));
                };
                op.need(2)?;
                op.pop_expect(elem)?;
                op.pop_expect(Ty::Int)?;
                op.push(arr)?;
            }
            Instr::ArrGet {} | Instr::ArrRemove {} => {
                op.need(2)?;
                op.pop_expect(Ty::Int)?;
                let (_, elem) = op.pop_array()?;
                op.push(elem)?;
            }
            Instr::ArrSet {} | Instr::ArrInsert {} => {
                op.need(3)?;
                let v = op.pop()?;
                op.pop_expect(Ty::Int)?;
                let (_, elem) = op.pop_array()?;
                op.expect(elem, v)?;
            }
            Instr::ArrLen {} => {
                op.need(1)?;
                op.pop_array()?;
                op.push(Ty::Int)?;
            }
            Instr::ArrPush {} => {
                op.need(2)?;
                let v = op.pop()?;
                let (_, elem) = op.pop_array()?;
                op.expect(elem, v)?;
            }
            Instr::ArrPop {} => {
                op.need(1)?;
                let (_, elem) = op.pop_array()?;
                op.push(elem)?;
            }
            Instr::ArrSlice {} => {
                op.need(3)?;
                op.pop_expect(Ty::Int)?;
                op.pop_expect(Ty::Int)?;
                let (arr, _) = op.pop_array()?;
                op.push(arr)?;
            }
            Instr::ArrContains {} | Instr::ArrIndexOf {} => {
                op.need(2)?;
                let v = op.pop()?;
                let (_, elem) = op.pop_array()?;
                op.expect(elem, v)?;
                op.push(if matches!(instr, Instr::ArrContains {}) {
                    Ty::Bool
                } else {
                    Ty::Int
                })?;
            }
            Instr::ArrReverse {} => {
                op.need(1)?;
                op.pop_array()?;
            }
            Instr::ArrSort {} => {
                op.need(1)?;
                let (arr, elem) = op.pop_array()?;
                if !matches!(elem, Ty::Int | Ty::Float | Ty::Str) {
                    return Err(op.err(
                        Rule::NotSortable,
                        format!(
                            "arr.sort sorts [int], [float] or [str], not {}",
                            types.name(arr)
                        ),
                    ));
                }
            }
            Instr::ArrSortBy {} => {
                op.need(2)?;
                let f = op.pop()?;
                let (_, elem) = op.pop_array()?;
                let ok = types.func(f).is_some_and(|sig| {
                    sig.params.len() == 2
                        && sig.params.iter().all(|p| types.of(*p) == elem)
                        && sig.result.map(|r| types.of(r)) == Some(Ty::Int)
                });
                if !ok {
                    return Err(op.err(
                        Rule::TypeMismatch,
                        format!(
                            "arr.sort_by expects a comparator fn({0}, {0}) -> int, found {1}",
                            types.name(elem),
                            types.name(f)
                        ),
                    ));
                }
            }
            Instr::ArrJoin {} => {
                op.need(2)?;
                op.pop_expect(Ty::Str)?;
                let (arr, elem) = op.pop_array()?;
                if elem != Ty::Str {
                    return Err(op.err(
                        Rule::TypeMismatch,
                        format!("arr.join expects [str], found {}", types.name(arr)),
                    ));
                }
                op.push(Ty::Str)?;
            }
            Instr::MapNew { type_, count } => {
                let map = op.type_operand(type_)?;
                let Some((k, v)) = types.map_kv(map) else {
                    return Err(op.bad_type(type_, "a map type"));
                };
                op.need_u64(2 * count as u64)?;
                for _ in 0..count {
                    op.pop_expect(v)?;
                    op.pop_expect(k)?;
                }
                op.push(map)?;
            }
            Instr::MapGet {} | Instr::MapRemove {} => {
                op.need(2)?;
                let key = op.pop()?;
                let (_, k, v) = op.pop_map()?;
                op.expect(k, key)?;
                op.push(v)?;
            }
            Instr::MapGetOr {} | Instr::MapSet {} => {
                op.need(3)?;
                let val = op.pop()?;
                let key = op.pop()?;
                let (_, k, v) = op.pop_map()?;
                op.expect(k, key)?;
                op.expect(v, val)?;
                if matches!(instr, Instr::MapGetOr {}) {
                    op.push(v)?;
                }
            }
            Instr::MapHas {} => {
                op.need(2)?;
                let key = op.pop()?;
                let (_, k, _) = op.pop_map()?;
                op.expect(k, key)?;
                op.push(Ty::Bool)?;
            }
            Instr::MapLen {} => {
                op.need(1)?;
                op.pop_map()?;
                op.push(Ty::Int)?;
            }
            Instr::MapKeys { type_ } | Instr::MapValues { type_ } => {
                let arr = op.type_operand(type_)?;
                op.need(1)?;
                let (_, k, v) = op.pop_map()?;
                let (want, what) = if matches!(instr, Instr::MapKeys { .. }) {
                    (k, "key")
                } else {
                    (v, "value")
                };
                if types.array_elem(arr) != Some(want) {
                    return Err(op.err(
                        Rule::BadTypeOperand,
                        format!(
                            "{}: type operand {} must be the array of the map's {what} type, [{}]",
                            op.mnemonic,
                            types.name(arr),
                            types.name(want)
                        ),
                    ));
                }
                op.push(arr)?;
            }
            Instr::MapKeyAt {} | Instr::MapValueAt {} => {
                op.need(2)?;
                op.pop_expect(Ty::Int)?;
                let (_, k, v) = op.pop_map()?;
                op.push(if matches!(instr, Instr::MapKeyAt {}) {
                    k
                } else {
                    v
                })?;
            }
            Instr::StructNew { type_ } => {
                let sty = op.type_operand(type_)?;
                let Some(def) = types.struct_def(sty) else {
                    return Err(op.bad_type(type_, "a struct type"));
                };
                op.need(def.fields.len())?;
                for field in def.fields.iter().rev() {
                    op.pop_expect(types.of(field.ty))?;
                }
                op.push(sty)?;
            }
            Instr::FieldGet { index } => {
                op.need(1)?;
                let s = op.pop()?;
                let fty = op.field(s, index)?;
                op.push(fty)?;
            }
            Instr::FieldSet { index } => {
                op.need(2)?;
                let v = op.pop()?;
                let s = op.pop()?;
                let fty = op.field(s, index)?;
                op.expect(fty, v)?;
            }
        }
        Ok(Flow::Next)
    }
}

/// One instruction being typed.
struct Op<'s, 'c, 'm> {
    cx: &'c FnCx<'c, 'm>,
    pc: usize,
    mnemonic: &'static str,
    st: &'s mut State,
}

impl Op<'_, '_, '_> {
    fn err(&self, rule: Rule, message: String) -> VerifyError {
        self.cx.err(rule, self.pc, message)
    }

    fn bad_type(&self, id: TypeId, want: &str) -> VerifyError {
        self.err(
            Rule::BadTypeOperand,
            format!(
                "{}: type operand {} must be {want}",
                self.mnemonic,
                self.cx.m.type_name(id)
            ),
        )
    }

    fn need(&self, count: usize) -> Result<(), VerifyError> {
        self.need_u64(count as u64)
    }

    fn need_u64(&self, count: u64) -> Result<(), VerifyError> {
        let found = self.st.stack.len();
        if (found as u64) < count {
            let s = if count == 1 { "" } else { "s" };
            return Err(self.err(
                Rule::StackUnderflow,
                format!("{} needs {count} operand{s}, found {found}", self.mnemonic),
            ));
        }
        Ok(())
    }

    fn pop(&mut self) -> Result<Ty, VerifyError> {
        let Some(t) = self.st.stack.pop() else {
            return Err(self.err(
                Rule::StackUnderflow,
                format!("{} needs more operands than the stack holds", self.mnemonic),
            ));
        };
        if self.cx.types.is_ref(t) {
            self.st.refs = self.st.refs.saturating_sub(1);
        }
        Ok(t)
    }

    fn push(&mut self, t: Ty) -> Result<(), VerifyError> {
        if self.st.stack.len() >= self.cx.max_stack {
            return Err(self.err(
                Rule::StackOverflow,
                format!(
                    "{} pushes beyond the declared max_stack of {}",
                    self.mnemonic, self.cx.max_stack
                ),
            ));
        }
        if self.cx.types.is_ref(t) {
            self.st.refs += 1;
        }
        self.st.stack.push(t);
        Ok(())
    }

    /// Checks that `found` is `want`.
    fn expect(&self, want: Ty, found: Ty) -> Result<(), VerifyError> {
        if want != found {
            let types = self.cx.types;
            return Err(self.err(
                Rule::TypeMismatch,
                format!(
                    "{} expects {}, found {}",
                    self.mnemonic,
                    types.name(want),
                    types.name(found)
                ),
            ));
        }
        Ok(())
    }

    fn pop_expect(&mut self, want: Ty) -> Result<(), VerifyError> {
        let found = self.pop()?;
        self.expect(want, found)
    }

    /// Pops an array; returns its type and element type.
    fn pop_array(&mut self) -> Result<(Ty, Ty), VerifyError> {
        let t = self.pop()?;
        match self.cx.types.array_elem(t) {
            Some(e) => Ok((t, e)),
            None => Err(self.err(
                Rule::TypeMismatch,
                format!(
                    "{} expects an array, found {}",
                    self.mnemonic,
                    self.cx.types.name(t)
                ),
            )),
        }
    }

    /// Pops a map; returns its type, key and value types.
    fn pop_map(&mut self) -> Result<(Ty, Ty, Ty), VerifyError> {
        let t = self.pop()?;
        match self.cx.types.map_kv(t) {
            Some((k, v)) => Ok((t, k, v)),
            None => Err(self.err(
                Rule::TypeMismatch,
                format!(
                    "{} expects a map, found {}",
                    self.mnemonic,
                    self.cx.types.name(t)
                ),
            )),
        }
    }

    /// Pops the arguments of a call and pushes its result.
    fn call(&mut self, params: &[TypeId], result: Option<TypeId>) -> Result<(), VerifyError> {
        let types = self.cx.types;
        self.need(params.len())?;
        for p in params.iter().rev() {
            self.pop_expect(types.of(*p))?;
        }
        if let Some(r) = result {
            self.push(types.of(r))?;
        }
        Ok(())
    }

    fn type_operand(&self, id: TypeId) -> Result<Ty, VerifyError> {
        self.cx.types.get(id).ok_or_else(|| {
            self.err(
                Rule::TypeIndex,
                format!(
                    "{}: type #{id} is out of range ({} types)",
                    self.mnemonic,
                    self.cx.m.types.len()
                ),
            )
        })
    }

    fn function(&self, func: u32) -> Result<&Function, VerifyError> {
        self.cx.m.functions.get(func as usize).ok_or_else(|| {
            self.err(
                Rule::FunctionIndex,
                format!(
                    "function #{func} is out of range ({} functions)",
                    self.cx.m.functions.len()
                ),
            )
        })
    }

    fn local(&self, index: u16) -> Result<Ty, VerifyError> {
        self.cx.locals.get(index as usize).copied().ok_or_else(|| {
            self.err(
                Rule::LocalIndex,
                format!(
                    "local #{index} is out of range ({} locals)",
                    self.cx.locals.len()
                ),
            )
        })
    }

    fn global(&self, index: u32) -> Result<(Ty, bool), VerifyError> {
        let Some(g) = self.cx.m.globals.get(index as usize) else {
            return Err(self.err(
                Rule::GlobalIndex,
                format!(
                    "global #{index} is out of range ({} globals)",
                    self.cx.m.globals.len()
                ),
            ));
        };
        Ok((self.cx.types.of(g.ty), g.mutable))
    }

    /// The type of field `index` of struct type `s`.
    fn field(&self, s: Ty, index: u16) -> Result<Ty, VerifyError> {
        let types = self.cx.types;
        let Some(def) = types.struct_def(s) else {
            return Err(self.err(
                Rule::TypeMismatch,
                format!(
                    "{} expects a struct, found {}",
                    self.mnemonic,
                    types.name(s)
                ),
            ));
        };
        match def.fields.get(index as usize) {
            Some(f) => Ok(types.of(f.ty)),
            None => Err(self.err(
                Rule::FieldIndex,
                format!(
                    "{} has {} fields, there is no field #{index}",
                    def.name,
                    def.fields.len()
                ),
            )),
        }
    }

    fn apply_static(&mut self, instr: &Instr) -> Result<(), VerifyError> {
        let Some(effect) = instr.static_effect() else {
            return Err(self.err(
                Rule::TypeMismatch,
                format!("{} has no fixed stack effect", self.mnemonic),
            ));
        };
        self.need(effect.pops.len())?;
        for p in effect.pops.iter().rev() {
            self.pop_expect(Ty::from(*p))?;
        }
        for p in effect.pushes {
            self.push(Ty::from(*p))?;
        }
        Ok(())
    }
}
