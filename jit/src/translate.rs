//! Verified bytecode → Cranelift IR, one function at a time.
//!
//! **Registers between safepoints, the VM's frame at safepoints.** Every local and every
//! operand-stack slot (the verifier proved the stack height before each instruction, see
//! `VerifiedFunction::heights`) is a Cranelift variable, so the SSA builder turns the stack
//! machine into register code. The function keeps the interpreter's frame (pushed by its
//! caller) as a shadow stack: before anything that can collect, trap with a trace, or run
//! other guest code — a runtime call or a guest call — it passes its `pc` to the runtime
//! and stores every reference-typed local and every live operand slot into its value-stack
//! slots, so the collector and the trace builder see it exactly as an interpreted frame.
//! The heap does not move, so nothing is reloaded after a call except its result.
//!
//! **What is inline and what is a runtime call.** Constants, locals, globals, int, float and
//! bool arithmetic and comparisons, conversions, identity comparisons, branches, fuel
//! checks, returns and calls are compiled inline (calls of compiled functions go straight
//! to their machine code through the VM's entry table). Every other instruction (strings,
//! arrays, maps, structs, natives, host calls, `to_str`) calls `rt_step`, which runs that
//! one instruction with the interpreter's own code: one implementation of each operation
//! for both tiers. The IR is target-independent (no pointer-size or ISA assumptions beyond
//! a 64-bit target), which the aarch64 verifier test checks.

use crate::stubs::{self, Stub, Stubs};
use cranelift_codegen::ir::{
    AbiParam, AliasRegionData, Block, BlockArg, FuncRef, Function, InstBuilder, MemFlagsData,
    Signature, Type, Value, ValueDef, condcodes::FloatCC, condcodes::IntCC, immediates::Ieee64,
    types,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use rvm_vm::format::{Instr, TypeDef};
use rvm_vm::tier::{Runtime, ctx, frame, trap_code};
use rvm_vm::verified::{GlobalUnset, UNSET_FN, VerifiedFunction, VerifiedModule};
use std::collections::HashMap;

mod hoist;
mod inline;
use hoist::{HoistLoop, TableVars};

const I64: Type = types::I64;
const F64: Type = types::F64;
const UNREACHABLE: u32 = u32::MAX;

/// The canonical NaN in memory (see `Translator::canonical_nan`).
static CANONICAL_NAN: f64 = f64::from_bits(rvm_vm::float::CANONICAL_NAN_BITS);

/// The signature of every compiled function: `(cx, base, osr_pc) -> result`.
pub fn entry_signature(cc: CallConv) -> Signature {
    let mut sig = Signature::new(cc);
    sig.params.extend([AbiParam::new(I64); 3]);
    sig.returns.push(AbiParam::new(I64));
    sig
}

pub(crate) fn sig(cc: CallConv, params: &[Type], ret: Type) -> Signature {
    let mut s = Signature::new(cc);
    s.params.extend(params.iter().map(|&t| AbiParam::new(t)));
    s.returns.push(AbiParam::new(ret));
    s
}

/// Memory flags for the VM's own data: aligned and never trapping.
fn mem() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Alias regions (see `inline_access`): the heap's object table and object headers, which
/// only Rust code (a runtime call) changes, and the element/field storage of arrays and
/// structs, which compiled code also stores to. The two never overlap (elements live in
/// their own allocations), and neither overlaps anything else compiled code stores to.
/// Memory accesses without a region (everything else) are fences for Cranelift's alias
/// analysis, as are calls.
fn regioned(func: &mut Function, user_id: u32, what: &'static str) -> MemFlagsData {
    let r = func.dfg.alias_regions.insert(AliasRegionData {
        user_id,
        description: what.into(),
    });
    mem().with_alias_region(Some(r))
}

/// What [`translate`] did beyond a plain translation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Optimised {
    /// Direct calls inlined.
    pub inlined_calls: u32,
    /// Call-free loops (heap lookups hoisted).
    pub hoisted_loops: u32,
}

/// Builds the IR of function `index` of `module` into `func` (whose signature must be
/// [`entry_signature`]).
#[allow(clippy::too_many_arguments)]
pub fn translate(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    module: &VerifiedModule,
    index: u32,
    rt: &Runtime,
    (stubs, self_ref): (Stubs, Option<FuncRef>),
    cc: CallConv,
    frontend: TargetFrontendConfig,
) -> Result<Optimised, String> {
    let vf = module
        .functions()
        .get(index as usize)
        .ok_or("function index out of range")?;
    let local_types: Vec<Type> = local_type_ids(module, index)?
        .map(|t| match module.module().types.get(t as usize) {
            Some(TypeDef::Float) => F64,
            _ => I64,
        })
        .collect();
    if local_types.len() != vf.local_count() as usize {
        return Err("local count mismatch".into());
    }
    let regions = (
        regioned(func, 1, "rvm object table"),
        regioned(func, 2, "rvm object elements"),
    );
    let mut b = FunctionBuilder::new(func, fctx);
    let mut t = Translator::new(&mut b, module, vf, rt, stubs, cc, local_types, regions);
    t.index = index;
    t.self_ref = self_ref;
    t.run()?;
    let done = Optimised {
        inlined_calls: t.inlined_calls,
        hoisted_loops: t.loops.len() as u32,
    };
    b.seal_all_blocks();
    b.finalize(frontend);
    Ok(done)
}

/// The type ids of function `f`'s locals (its parameters first).
fn local_type_ids(
    module: &VerifiedModule,
    f: u32,
) -> Result<impl Iterator<Item = u32> + '_, String> {
    let m = module.module();
    let mf = m
        .functions
        .get(f as usize)
        .ok_or("function index out of range")?;
    let Some(TypeDef::Func(fty)) = m.types.get(mf.ty as usize) else {
        return Err("function without a function type".into());
    };
    Ok(fty.params.iter().chain(&mf.locals).copied())
}

/// Instructions compiled to inline code that can neither trap nor call anything that
/// could change the heap (`f.rem` calls the pure `fmod`).
fn plain(instr: Instr) -> bool {
    use Instr as I;
    matches!(
        instr,
        I::Nop {}
            | I::Pop {}
            | I::IConst { .. }
            | I::FConst { .. }
            | I::BConst { .. }
            | I::FnRef { .. }
            | I::SConst { .. }
            | I::LocalGet { .. }
            | I::LocalSet { .. }
            | I::GlobalSet { .. }
            | I::Dup {}
            | I::IAdd {}
            | I::ISub {}
            | I::IMul {}
            | I::INeg {}
            | I::IAnd {}
            | I::IOr {}
            | I::IXor {}
            | I::IShl {}
            | I::IShr {}
            | I::IEq {}
            | I::BEq {}
            | I::REq {}
            | I::INe {}
            | I::BNe {}
            | I::RNe {}
            | I::ILt {}
            | I::ILe {}
            | I::IGt {}
            | I::IGe {}
            | I::FAdd {}
            | I::FSub {}
            | I::FMul {}
            | I::FDiv {}
            | I::FRem {}
            | I::FNeg {}
            | I::FEq {}
            | I::FNe {}
            | I::FLt {}
            | I::FLe {}
            | I::FGt {}
            | I::FGe {}
            | I::BNot {}
            | I::IToF {}
            | I::FToI {}
    )
}

/// Per local, whether it is a declared float local every assignment of which stores the
/// value an instruction just before it (in the same block) produced, and that value's
/// exact bits are the canonical form of whatever NaN the compiled code computed: float
/// arithmetic (canonicalised, see `set_arith`), `f.rem` and the float natives (canonical
/// results), `i.to_f` and non-NaN constants (never NaN).
fn canonical_of_raw(
    code: &[Instr],
    heights: &[u32],
    starts: &[bool],
    local_types: &[Type],
    params: usize,
) -> Vec<bool> {
    use Instr as I;
    let mut ok: Vec<bool> = local_types
        .iter()
        .enumerate()
        .map(|(i, &t)| t == F64 && i >= params)
        .collect();
    for (pc, &instr) in code.iter().enumerate() {
        let I::LocalSet { index } = instr else {
            continue;
        };
        if heights[pc] == UNREACHABLE {
            continue;
        }
        let produced = pc > 0
            && !starts[pc]
            && match code[pc - 1] {
                I::FAdd {} | I::FSub {} | I::FMul {} | I::FDiv {} | I::FRem {} | I::IToF {} => true,
                I::FConst { value } => !f64::from_bits(value.0).is_nan(),
                I::CallNative { native } => {
                    use rvm_vm::natives::Native as N;
                    matches!(
                        N::from_id(native),
                        Some(
                            N::Sqrt | N::Floor | N::Ceil | N::FloatAbs | N::FloatMin | N::FloatMax
                        )
                    )
                }
                _ => false,
            };
        if !produced && let Some(o) = ok.get_mut(index as usize) {
            *o = false;
        }
    }
    ok
}

/// Which instructions start a basic block: the first, every jump target, and every
/// instruction after a jump or a `ret`.
fn block_starts(code: &[Instr], heights: &[u32]) -> Vec<bool> {
    let n = code.len();
    let mut start = vec![false; n];
    if n > 0 {
        start[0] = true;
    }
    for (pc, instr) in code.iter().enumerate() {
        if heights[pc] == UNREACHABLE {
            continue;
        }
        let next = pc + 1;
        match *instr {
            Instr::Jmp { target } | Instr::JmpIf { target } | Instr::JmpIfNot { target } => {
                if let Some(s) = start.get_mut(target as usize) {
                    *s = true;
                }
                if next < n {
                    start[next] = true;
                }
            }
            Instr::Ret {} if next < n => start[next] = true,
            _ => {}
        }
    }
    start
}

/// The natives compiled inline (`Translator::native_inline`).
fn is_inline_native(native: u16) -> bool {
    use rvm_vm::natives::Native as N;
    matches!(
        N::from_id(native),
        Some(
            N::Sqrt
                | N::Floor
                | N::Ceil
                | N::FloatAbs
                | N::FloatMin
                | N::FloatMax
                | N::IntAbs
                | N::IntMin
                | N::IntMax
        )
    )
}

/// Whether instruction `instr` compiles to code that calls nothing that could change the
/// heap or the frames: only the fuel refill, `fmod`, and cold paths that trap and never
/// come back (see `hoist`). `Translator::instr` refuses to compile a function where this
/// is wrong inside a call-free loop.
fn runs_no_code(_pc: usize, instr: Instr) -> bool {
    use Instr as I;
    match instr {
        I::CallNative { native } => is_inline_native(native),
        I::IDiv {}
        | I::IRem {}
        | I::GlobalGet { .. }
        | I::Jmp { .. }
        | I::JmpIf { .. }
        | I::JmpIfNot { .. }
        | I::Ret {}
        | I::ArrGet {}
        | I::ArrSet {}
        | I::ArrLen {}
        | I::FieldGet { .. }
        | I::FieldSet { .. } => true,
        _ => plain(instr),
    }
}

/// The heap accesses compiled inline.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    ArrGet,
    ArrSet,
    ArrLen,
    FieldGet,
    FieldSet,
}

struct Sigs {
    entry: cranelift_codegen::ir::SigRef,
    enter: cranelift_codegen::ir::SigRef,
    ret: cranelift_codegen::ir::SigRef,
    step: cranelift_codegen::ir::SigRef,
    trap: cranelift_codegen::ir::SigRef,
    refill: cranelift_codegen::ir::SigRef,
    reserve: cranelift_codegen::ir::SigRef,
    fmod: cranelift_codegen::ir::SigRef,
    args3: cranelift_codegen::ir::SigRef,
    args4: cranelift_codegen::ir::SigRef,
    args5: cranelift_codegen::ir::SigRef,
}

struct Translator<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    module: &'a VerifiedModule,
    vf: &'a VerifiedFunction,
    /// The function's index in the module.
    index: u32,
    rt: &'a Runtime,
    stubs: Stubs,
    sigs: Sigs,
    local_types: Vec<Type>,
    locals: Vec<Variable>,
    stack: Vec<Variable>,
    /// The fuel counter, kept in a register and written back around every call.
    fuel: Variable,
    blocks: Vec<Option<Block>>,
    osr_targets: Vec<usize>,
    // Values of the entry block (they dominate everything).
    cx: Value,
    base: Value,
    base_bytes: Value,
    ticks: Value,
    code_table: Value,
    globals: Value,
    const_strs: Value,
    osr: Value,
    unwind: Block,
    /// Memory flags of the object table and object headers.
    objects_mem: MemFlagsData,
    /// Memory flags of array elements and struct fields.
    elems_mem: MemFlagsData,
    /// Float results canonicalised by [`Self::set_arith`]: the operand-slot value (the
    /// canonical bits) → the raw result, for consumers that cannot tell NaNs apart.
    raw: HashMap<Value, Value>,
    /// The call-free loops (see `hoist`).
    loops: Vec<HoistLoop>,
    /// Per hoisted local: its object's element/field pointer and length.
    header_vars: HashMap<usize, (Variable, Variable)>,
    /// The object table, hoisted in call-free loops.
    table_vars: TableVars,
    /// Per operand slot: the local it was loaded from in the current block, if any.
    origin: Vec<Option<usize>>,
    /// Per float local: its value as computed, before NaN canonicalisation (see
    /// [`Self::set_arith`]; `locals` holds the canonical bits).
    raw_locals: Vec<Option<Variable>>,
    /// Per local: whether it is a float every assignment of which is a value whose exact
    /// bits are the canonical form of its raw value (an arithmetic result, a non-NaN
    /// constant); it then keeps only its raw value, and a read makes the canonical bits
    /// (unused ones are deleted, so a loop carries one value, not two).
    canonical_of_raw: Vec<bool>,
    /// Per function: whether its calls from here are inlined (see `inline`).
    inlinable: Vec<bool>,
    /// Whether one more frame fits, hoisted in call-free loops that inline calls.
    room: Variable,
    /// Value-stack slots (from `base`) that any inlined call's frame would end within.
    inline_need: usize,
    /// While translating an inlined body: where its `ret` goes and the result variable.
    inline_ret: Option<(Block, Variable, Option<Variable>)>,
    /// Direct calls inlined so far.
    inlined_calls: u32,
    /// The function itself, for direct recursive calls.
    self_ref: Option<FuncRef>,
    /// Tracked struct locals whose header was found valid earlier in the current bytecode
    /// block (their next field accesses need no check).
    checked: Vec<usize>,
    /// Tracked array locals and index values checked earlier in the current bytecode block.
    checked_index: Vec<(usize, Value)>,
    /// The function's shared cold paths, made on first use and filled in at the end: per
    /// access kind `(pc, object, index, value)` → the runtime accessor's trap, and
    /// `(pc, kind, arg)` → an inline trap. Sharing keeps each access's code to its checks.
    cold: Vec<(Cold, Block)>,
}

/// The index of an access: an operand, or a field's constant index.
#[derive(Clone, Copy)]
enum Index {
    Dyn(Value),
    Const(i64),
}

/// A shared cold path (see `Translator::cold`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cold {
    Access(Access),
    Trap,
}

impl<'a, 'b> Translator<'a, 'b> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        b: &'a mut FunctionBuilder<'b>,
        module: &'a VerifiedModule,
        vf: &'a VerifiedFunction,
        rt: &'a Runtime,
        stubs: Stubs,
        cc: CallConv,
        local_types: Vec<Type>,
        (objects_mem, elems_mem): (MemFlagsData, MemFlagsData),
    ) -> Self {
        let sigs = Sigs {
            entry: b.import_signature(entry_signature(cc)),
            enter: b.import_signature(sig(cc, &[I64; 5], I64)),
            ret: b.import_signature(sig(cc, &[I64; 3], I64)),
            step: b.import_signature(sig(cc, &[I64; 3], I64)),
            trap: b.import_signature(sig(cc, &[I64; 4], I64)),
            refill: b.import_signature(stubs::signature(Stub::Refill)),
            reserve: b.import_signature(stubs::signature(Stub::Reserve)),
            fmod: b.import_signature(sig(cc, &[F64; 2], F64)),
            args3: b.import_signature(sig(cc, &[I64; 3], I64)),
            args4: b.import_signature(sig(cc, &[I64; 4], I64)),
            args5: b.import_signature(sig(cc, &[I64; 5], I64)),
        };
        let locals = local_types.iter().map(|&ty| b.declare_var(ty)).collect();
        let raw_locals = local_types
            .iter()
            .map(|&ty| (ty == F64).then(|| b.declare_var(F64)))
            .collect();
        let stack = (0..vf.max_stack()).map(|_| b.declare_var(I64)).collect();
        let unwind = b.create_block();
        let fuel = b.declare_var(I64);
        let table_vars = TableVars {
            objs: b.declare_var(I64),
            count: b.declare_var(I64),
        };
        let origin = vec![None; vf.max_stack() as usize];
        let room = b.declare_var(types::I8);
        let dummy = Value::from_u32(0);
        Translator {
            b,
            module,
            vf,
            index: 0,
            rt,
            stubs,
            sigs,
            local_types,
            locals,
            stack,
            fuel,
            blocks: Vec::new(),
            osr_targets: Vec::new(),
            cx: dummy,
            base: dummy,
            base_bytes: dummy,
            ticks: dummy,
            code_table: dummy,
            globals: dummy,
            const_strs: dummy,
            osr: dummy,
            unwind,
            objects_mem,
            elems_mem,
            raw: HashMap::new(),
            loops: Vec::new(),
            header_vars: HashMap::new(),
            table_vars,
            origin,
            inlinable: Vec::new(),
            raw_locals,
            canonical_of_raw: Vec::new(),
            room,
            inline_need: 0,
            inline_ret: None,
            cold: Vec::new(),
            inlined_calls: 0,
            self_ref: None,
            checked: Vec::new(),
            checked_index: Vec::new(),
        }
    }

    fn local_count(&self) -> usize {
        self.vf.local_count() as usize
    }

    /// Creates a block for every reachable block start and finds the loop headers an
    /// on-stack replacement may enter.
    fn plan(&mut self) {
        let code = self.vf.code();
        let heights = self.vf.heights();
        let n = code.len();
        let start = block_starts(code, heights);
        for (pc, instr) in code.iter().enumerate() {
            if heights[pc] == UNREACHABLE {
                continue;
            }
            if let Instr::Jmp { target } | Instr::JmpIf { target } | Instr::JmpIfNot { target } =
                *instr
            {
                let t = target as usize;
                if t <= pc && heights[t] == 0 && !self.osr_targets.contains(&t) {
                    self.osr_targets.push(t);
                }
            }
        }
        self.osr_targets.sort_unstable();
        self.blocks = (0..n)
            .map(|pc| (start[pc] && heights[pc] != UNREACHABLE).then(|| self.b.create_block()))
            .collect();
        self.canonical_of_raw = canonical_of_raw(
            code,
            heights,
            &start,
            &self.local_types,
            self.vf.param_count() as usize,
        );
        self.inlinable = vec![false; self.module.functions().len()];
        for (pc, instr) in code.iter().enumerate() {
            if let Instr::Call { func } = *instr
                && heights[pc] != UNREACHABLE
                && let Some(slot) = self.inlinable.get_mut(func as usize)
            {
                *slot = inline::inlinable(self.module, self.index, func);
                if *slot && let Some(callee) = self.module.functions().get(func as usize) {
                    let need = self.vf.local_count() as usize
                        + self.vf.max_stack() as usize
                        + callee.local_count() as usize
                        + callee.max_stack() as usize;
                    self.inline_need = self.inline_need.max(need);
                }
            }
        }
        if self.rt.heap.is_some() {
            let inl = &self.inlinable;
            let calls_inline = |i: Instr| matches!(i, Instr::Call { func } if inl.get(func as usize) == Some(&true));
            self.loops = hoist::call_free_loops(self.module, self.vf, self.index, |pc, i| {
                runs_no_code(pc, i) || calls_inline(i)
            });
            for l in &mut self.loops {
                l.calls = (l.head..=l.end).any(|pc| code.get(pc).is_some_and(|&i| calls_inline(i)));
            }
            self.plan_hoisting();
        }
    }

    fn block_at(&self, pc: usize) -> Result<Block, String> {
        self.blocks
            .get(pc)
            .copied()
            .flatten()
            .ok_or_else(|| format!("no block at instruction {pc}"))
    }

    /// The address of the current frame's first local (re-read: the value stack may have
    /// moved during any runtime call).
    fn frame_ptr(&mut self) -> Value {
        let data = self.b.ins().load(I64, mem(), self.cx, ctx::STACK_DATA);
        self.b.ins().iadd(data, self.base_bytes)
    }

    fn slot_offset(&self, k: usize) -> i32 {
        ((self.local_count() + k) * 8) as i32
    }

    fn as_i64(&mut self, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == I64 {
            return v;
        }
        if let Some(x) = self.unbitcast(v, I64) {
            return x;
        }
        self.b.ins().bitcast(I64, MemFlagsData::new(), v)
    }

    fn as_f64(&mut self, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == F64 {
            return v;
        }
        if let Some(x) = self.unbitcast(v, F64) {
            return x;
        }
        self.b.ins().bitcast(F64, MemFlagsData::new(), v)
    }

    /// If `v` is a bitcast of a value of type `ty`, that value.
    fn unbitcast(&self, v: Value, ty: Type) -> Option<Value> {
        let dfg = &self.b.func.dfg;
        let ValueDef::Result(inst, 0) = dfg.value_def(v) else {
            return None;
        };
        if dfg.insts[inst].opcode() != cranelift_codegen::ir::Opcode::Bitcast {
            return None;
        }
        let arg = dfg.inst_args(inst)[0];
        (dfg.value_type(arg) == ty).then_some(arg)
    }

    fn get(&mut self, slot: usize) -> Value {
        self.b.use_var(self.stack[slot])
    }

    /// Operand `slot` as a float for an operation whose result does not depend on which NaN
    /// it is (arithmetic, comparisons, conversions, the float natives): the raw result of
    /// an arithmetic instruction when the slot holds one (see [`Self::set_arith`]).
    fn getf(&mut self, slot: usize) -> Value {
        let v = self.get(slot);
        if let Some(&x) = self.raw.get(&v) {
            return x;
        }
        self.as_f64(v)
    }

    /// Operand `slot` as a float with its exact bits (for `f.neg` and `local.set`).
    fn getf_exact(&mut self, slot: usize) -> Value {
        let v = self.get(slot);
        self.as_f64(v)
    }

    /// Sets operand `slot` to the result `x` of a float operation that must produce the
    /// canonical NaN (`float::canonical`, see `spec/bytecode.md`). The slot gets the
    /// canonical bits; consumers that cannot tell NaNs apart read `x` itself through
    /// [`Self::getf`], so a chain of arithmetic canonicalises once, where its result
    /// leaves the chain (Cranelift deletes the unused selects), instead of after every
    /// operation. Whether a result is NaN never depends on which NaN an operand was.
    fn set_arith(&mut self, slot: usize, x: Value) {
        let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        let canon = self.canonical_nan();
        let c = self.b.ins().select(nan, canon, x);
        let v = self.b.ins().bitcast(I64, MemFlagsData::new(), c);
        self.raw.insert(v, x);
        self.b.def_var(self.stack[slot], v);
        self.origin[slot] = None;
    }

    /// The canonical NaN, as a pure load from a constant rather than an `f64const`:
    /// Cranelift rematerialises constants in every block that uses them (two instructions
    /// on x86_64 for this one), while a loaded value is hoisted out of loops and kept in a
    /// register.
    fn canonical_nan(&mut self) -> Value {
        let addr = self
            .b
            .ins()
            .iconst(I64, std::ptr::addr_of!(CANONICAL_NAN) as i64);
        let ro = mem().with_readonly().with_can_move();
        self.b.ins().load(F64, ro, addr, 0)
    }

    /// Defines local `i` (a float's exact bits and its raw value; the same for others).
    fn def_local(&mut self, i: usize, exact: Value, raw: Value) {
        self.b.def_var(self.locals[i], exact);
        if let Some(r) = self.raw_locals[i] {
            self.b.def_var(r, raw);
        }
    }

    fn set(&mut self, slot: usize, v: Value) {
        let v = self.as_i64(v);
        self.b.def_var(self.stack[slot], v);
        self.origin[slot] = None;
    }

    fn bool_of(&mut self, c: Value) -> Value {
        self.b.ins().uextend(I64, c)
    }

    fn call_rt(
        &mut self,
        sig: cranelift_codegen::ir::SigRef,
        addr: usize,
        args: &[Value],
    ) -> Value {
        let pure = addr == self.rt.fmod;
        if !pure {
            self.flush_fuel();
        }
        let callee = self.b.ins().iconst(I64, addr as i64);
        let call = self.b.ins().call_indirect(sig, callee, args);
        let r = self.b.inst_results(call)[0];
        if !pure {
            self.reload_fuel();
        }
        r
    }

    /// Writes the fuel register back to the VM (before anything that may read or charge it).
    fn flush_fuel(&mut self) {
        let v = self.b.use_var(self.fuel);
        self.b.ins().store(mem(), v, self.ticks, 0);
    }

    /// Reads the fuel register from the VM (after a call that may have charged it).
    fn reload_fuel(&mut self) {
        let v = self.b.ins().load(I64, mem(), self.ticks, 0);
        self.b.def_var(self.fuel, v);
    }

    /// Branches to `unwind` when `status` is non-zero, continuing in a new block.
    fn check(&mut self, status: Value) {
        let cont = self.b.create_block();
        self.b.ins().brif(status, self.unwind, &[], cont, &[]);
        self.enter(cont);
    }

    /// Switches to `blk`, every predecessor of which is already branched to: sealed now, so
    /// variables read in it are their predecessors' values rather than block parameters
    /// (smaller IR, and a float read across a check stays a float).
    fn enter(&mut self, blk: Block) {
        self.b.switch_to_block(blk);
        self.b.seal_block(blk);
    }

    /// Raises trap `kind` when `cond` is non-zero (in the shared cold block).
    fn trap_if(&mut self, cond: Value, pc: usize, kind: u64, arg: u64) {
        let cold = self.cold_block(Cold::Trap, 3);
        let cont = self.b.create_block();
        let site = self.b.create_block();
        self.b.set_cold_block(site);
        self.b.ins().brif(cond, site, &[], cont, &[]);
        // The site's constants are made in its own cold block, not on the hot path.
        self.enter(site);
        let args = [pc as i64, kind as i64, arg as i64]
            .map(|c| BlockArg::Value(self.b.ins().iconst(I64, c)));
        self.b.ins().jump(cold, &args);
        self.enter(cont);
    }

    /// The shared cold block `what` (created with `params` parameters on first use).
    fn cold_block(&mut self, what: Cold, params: usize) -> Block {
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

    /// Fills in the shared cold blocks.
    fn emit_cold(&mut self) {
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

    fn trap_now(&mut self, pc: usize, kind: u64, arg: u64) {
        let pcv = self.b.ins().iconst(I64, pc as i64);
        let kind = self.b.ins().iconst(I64, kind as i64);
        let arg = self.b.ins().iconst(I64, arg as i64);
        self.call_rt(self.sigs.trap, self.rt.trap, &[self.cx, pcv, kind, arg]);
        self.b.ins().jump(self.unwind, &[]);
    }

    /// Charges `units` of fuel (the interpreter's accounting, see `budget`).
    fn tick(&mut self, units: usize, pc: usize) {
        let v = self.b.use_var(self.fuel);
        let v = self.b.ins().iadd_imm_s(v, -(units as i64));
        self.b.def_var(self.fuel, v);
        let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, v, 0);
        let cold = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(cold);
        self.b.ins().brif(neg, cold, &[], cont, &[]);
        self.enter(cold);
        let pcv = self.b.ins().iconst(I64, pc as i64);
        self.flush_fuel();
        let stub = self.b.ins().iconst(I64, self.stubs.refill as i64);
        self.b
            .ins()
            .call_indirect(self.sigs.refill, stub, &[self.cx, pcv]);
        self.reload_fuel();
        let st = self.b.ins().load(I64, mem(), self.cx, ctx::STATUS);
        self.b.ins().brif(st, self.unwind, &[], cont, &[]);
        self.enter(cont);
    }

    /// Stores the reference locals, the operand slots from `all_from` up, and the reference
    /// operand slots below it (per the stack map at `pc`) into the frame.
    fn spill(&mut self, pc: usize, h: usize, all_from: usize) {
        let fp = self.frame_ptr();
        for i in 0..self.local_count() {
            if self.vf.local_is_ref()[i] {
                let v = self.b.use_var(self.locals[i]);
                self.b.ins().store(mem(), v, fp, (i * 8) as i32);
            }
        }
        let map = self.vf.stack_map(pc as u32);
        for k in 0..h {
            if k >= all_from || map.get(k).copied().unwrap_or(false) {
                let v = self.get(k);
                let off = self.slot_offset(k);
                self.b.ins().store(mem(), v, fp, off);
            }
        }
    }

    fn jump_to(&mut self, target: usize, pc: usize) -> Result<(), String> {
        if target <= pc {
            self.tick(pc + 1 - target, pc);
        }
        let blk = self.edge_to(Some(pc), target)?;
        self.b.ins().jump(blk, &[]);
        Ok(())
    }

    fn run(&mut self) -> Result<(), String> {
        self.plan();
        let code = self.vf.code();
        let n = code.len();
        self.prologue()?;
        self.body(n.saturating_sub(1))?;
        self.emit_cold();
        self.b.switch_to_block(self.unwind);
        let zero = self.b.ins().iconst(I64, 0);
        self.b.ins().return_(&[zero]);
        Ok(())
    }

    fn prologue(&mut self) -> Result<(), String> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let params = self.b.block_params(entry).to_vec();
        let [cx, base, osr] = params[..] else {
            return Err("bad entry signature".into());
        };
        self.cx = cx;
        self.base = base;
        self.osr = osr;
        self.base_bytes = self.b.ins().ishl_imm_u(base, 3);
        // These `JitCtx` fields are fixed while compiled code runs and `cx` is always valid:
        // pure loads (`can_move`), which Cranelift deletes where a function does not use them.
        let ro = mem().with_readonly().with_can_move();
        self.ticks = self.b.ins().load(I64, ro, cx, ctx::TICKS);
        self.reload_fuel();
        self.code_table = self.b.ins().load(I64, ro, cx, ctx::CODE);
        self.globals = self.b.ins().load(I64, ro, cx, ctx::GLOBALS);
        self.const_strs = self.b.ins().load(I64, ro, cx, ctx::CONST_STRS);
        let normal = self.b.create_block();
        let osr_block = self.b.create_block();
        let is_osr = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, osr, 0);
        self.b.ins().brif(is_osr, osr_block, &[], normal, &[]);

        // Normal entry: parameters from the frame, declared locals zero.
        self.b.switch_to_block(normal);
        let fp = self.frame_ptr();
        let params = self.vf.param_count() as usize;
        for i in 0..self.local_count() {
            let ty = self.local_types[i];
            let v = if i < params {
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
            let blk = self.block_at(t)?;
            let enter = self.b.create_block();
            let next = self.b.create_block();
            let is = self.b.ins().icmp_imm_s(IntCC::Equal, osr, t as i64);
            self.b.ins().brif(is, enter, &[], next, &[]);
            self.b.switch_to_block(enter);
            self.emit_hoisted_around(t);
            self.b.ins().jump(blk, &[]);
            self.b.switch_to_block(next);
        }
        self.trap_now(0, trap_code::INTERNAL, 0);
        Ok(())
    }

    fn zero_stack(&mut self) {
        let zero = self.b.ins().iconst(I64, 0);
        for k in 0..self.stack.len() {
            self.b.def_var(self.stack[k], zero);
        }
    }

    fn ibin(&mut self, h: usize, f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value) -> Value) {
        let a = self.get(h - 2);
        let b = self.get(h - 1);
        let r = f(self.b, a, b);
        self.set(h - 2, r);
    }

    fn icmp(&mut self, h: usize, cc: IntCC) {
        let a = self.get(h - 2);
        let b = self.get(h - 1);
        let c = self.b.ins().icmp(cc, a, b);
        let r = self.bool_of(c);
        self.set(h - 2, r);
    }

    fn fbin(&mut self, h: usize, f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value) -> Value) {
        let a = self.getf(h - 2);
        let b = self.getf(h - 1);
        let r = f(self.b, a, b);
        self.set_arith(h - 2, r);
    }

    fn fcmp(&mut self, h: usize, cc: FloatCC) {
        let a = self.getf(h - 2);
        let b = self.getf(h - 1);
        let c = self.b.ins().fcmp(cc, a, b);
        let r = self.bool_of(c);
        self.set(h - 2, r);
    }

    /// Translates one instruction; whether the block stays open (falls through).
    fn instr(&mut self, pc: usize, h: usize, instr: Instr) -> Result<bool, String> {
        use Instr as I;
        match instr {
            I::Nop {} | I::Pop {} => {}
            I::IConst { value } => {
                let v = self.b.ins().iconst(I64, value);
                self.set(h, v);
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
                if let Some(raw) = self.raw_locals[i].filter(|_| self.canonical_of_raw[i]) {
                    // Its exact bits are the canonical form of its raw value: made here,
                    // and deleted by Cranelift where nothing needs them.
                    let raw = self.b.use_var(raw);
                    self.set_arith(h, raw);
                    self.origin[h] = Some(i);
                    return Ok(true);
                }
                let v = self.b.use_var(self.locals[i]);
                self.set(h, v);
                if let Some(raw) = self.raw_locals[i] {
                    let raw = self.b.use_var(raw);
                    let slot = self.get(h);
                    self.raw.insert(slot, raw);
                }
                self.origin[h] = Some(i);
            }
            I::LocalSet { index } => {
                let i = index as usize;
                if let Some(raw_var) = self.raw_locals[i].filter(|_| self.canonical_of_raw[i]) {
                    let raw = self.getf(h - 1);
                    self.b.def_var(raw_var, raw);
                } else if self.local_types[i] == F64 {
                    let exact = self.getf_exact(h - 1);
                    let raw = self.getf(h - 1);
                    self.def_local(i, exact, raw);
                } else {
                    let v = self.get(h - 1);
                    self.b.def_var(self.locals[i], v);
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
            I::IAdd {} => self.ibin(h, |b, x, y| b.ins().iadd(x, y)),
            I::ISub {} => self.ibin(h, |b, x, y| b.ins().isub(x, y)),
            I::IMul {} => self.ibin(h, |b, x, y| b.ins().imul(x, y)),
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
            I::IAnd {} => self.ibin(h, |b, x, y| b.ins().band(x, y)),
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
            I::FNeg {} => {
                let x = self.getf_exact(h - 1);
                let r = self.b.ins().fneg(x);
                self.set(h - 1, r);
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
                let result = if self.vf.result().is_some() {
                    self.get(h - 1)
                } else {
                    self.b.ins().iconst(I64, 0)
                };
                if let Some((join, var, raw)) = self.inline_ret {
                    match raw {
                        Some(raw) => {
                            let exact = self.getf_exact(h - 1);
                            let r = self.getf(h - 1);
                            self.b.def_var(var, exact);
                            self.b.def_var(raw, r);
                        }
                        None => self.b.def_var(var, result),
                    }
                    self.b.ins().jump(join, &[]);
                    return Ok(false);
                }
                // Pop the frame inline, unless it is `main`'s (whose exit code the runtime
                // checks). Only `main` can be at `main`'s depth (the runtime sets it for the
                // run of `main` alone), so no other function checks.
                let len = self.b.ins().load(I64, mem(), self.cx, ctx::FRAMES_LEN);
                if self.module.module().main != Some(self.index) {
                    let len1 = self.b.ins().iadd_imm_s(len, -1);
                    self.b.ins().store(mem(), len1, self.cx, ctx::FRAMES_LEN);
                    self.flush_fuel();
                    self.b.ins().return_(&[result]);
                    return Ok(false);
                }
                let main = self.b.ins().load(I64, mem(), self.cx, ctx::MAIN_DEPTH);
                let is_main = self.b.ins().icmp(IntCC::Equal, len, main);
                let slow = self.b.create_block();
                let fast = self.b.create_block();
                self.b.set_cold_block(slow);
                self.b.ins().brif(is_main, slow, &[], fast, &[]);
                self.b.switch_to_block(fast);
                let len1 = self.b.ins().iadd_imm_s(len, -1);
                self.b.ins().store(mem(), len1, self.cx, ctx::FRAMES_LEN);
                self.flush_fuel();
                self.b.ins().return_(&[result]);
                self.b.switch_to_block(slow);
                let pcv = self.b.ins().iconst(I64, pc as i64);
                let st = self.call_rt(self.sigs.ret, self.rt.ret, &[self.cx, pcv, result]);
                self.check(st);
                self.b.ins().return_(&[result]);
                return Ok(false);
            }
            I::Call { func } if self.inlines(func) => self.inline_call(pc, h, func)?,
            I::Call { .. } | I::CallRef { .. } | I::CallNative { .. }
                if !runs_no_code(pc, instr) && self.in_call_free_loop(pc) =>
            {
                return Err(format!("instruction {pc} calls in a call-free loop"));
            }
            I::Call { func } => {
                let (nargs, has_result) = self.func_sig_of(func)?;
                let callee = self.b.ins().iconst(I64, func as i64);
                self.call(pc, h, callee, nargs, has_result, 0, Some(func), true)?;
            }
            I::CallRef { type_ } => {
                let (nargs, has_result) = self.sig_of_type(type_)?;
                let callee = self.get(h - nargs - 1);
                self.call(pc, h, callee, nargs, has_result, 1, None, true)?;
            }
            // The common heap accesses that cannot allocate: a direct runtime call, no
            // spill (no collection can happen; a trap needs only the `pc`).
            I::ArrGet {} => {
                let (a, i) = (self.get(h - 2), self.get(h - 1));
                let src = self.origin[h - 2];
                let ty = self.elem_type(src, None);
                let r = self.inline_access(pc, Access::ArrGet, (a, src, ty), Index::Dyn(i), None);
                self.set(h - 2, r);
            }
            I::ArrSet {} => {
                let (a, i, v) = (self.get(h - 3), self.get(h - 2), self.get(h - 1));
                let src = self.origin[h - 3];
                let ty = self.elem_type(src, None);
                self.inline_access(pc, Access::ArrSet, (a, src, ty), Index::Dyn(i), Some(v));
            }
            I::ArrLen {} => {
                let a = self.get(h - 1);
                let r =
                    self.inline_access(pc, Access::ArrLen, (a, None, I64), Index::Const(0), None);
                self.set(h - 1, r);
            }
            I::FieldGet { index } => {
                let s = self.get(h - 1);
                let src = self.origin[h - 1];
                let ty = self.elem_type(src, Some(index.into()));
                let i = Index::Const(index.into());
                let r = self.inline_access(pc, Access::FieldGet, (s, src, ty), i, None);
                self.set(h - 1, r);
            }
            I::FieldSet { index } => {
                let (s, v) = (self.get(h - 2), self.get(h - 1));
                let src = self.origin[h - 2];
                let ty = self.elem_type(src, Some(index.into()));
                let i = Index::Const(index.into());
                self.inline_access(pc, Access::FieldSet, (s, src, ty), i, Some(v));
            }
            I::CallNative { native } if self.native_inline(h, native) => {}
            _ if self.in_call_free_loop(pc) => {
                return Err(format!("instruction {pc} steps in a call-free loop"));
            }
            _ => self.step(pc, h)?,
        }
        Ok(true)
    }

    fn func_sig_of(&self, func: u32) -> Result<(usize, bool), String> {
        let f = self
            .module
            .module()
            .functions
            .get(func as usize)
            .ok_or("call of a function out of range")?;
        self.sig_of_type(f.ty)
    }

    fn sig_of_type(&self, ty: u32) -> Result<(usize, bool), String> {
        match self.module.module().types.get(ty as usize) {
            Some(TypeDef::Func(f)) => Ok((f.params.len(), f.result.is_some())),
            _ => Err("call through a non-function type".into()),
        }
    }

    /// A guest call at `pc`: `nargs` arguments on top of the stack, `below` more slots
    /// (the function reference of `call.ref`) under them that the call consumes.
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        pc: usize,
        h: usize,
        callee: Value,
        nargs: usize,
        has_result: bool,
        below: usize,
        known: Option<u32>,
        charge: bool,
    ) -> Result<(), String> {
        let callee_index = known.unwrap_or(0);
        let known = known.is_some();
        if charge {
            self.tick(1, pc);
        }
        self.spill(pc, h, h - nargs);
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
        // A recursive call goes straight to this function's code; any other to the
        // callee's entry from the VM's table (a range check first for `call.ref`).
        let self_call = self
            .self_ref
            .filter(|_| known && callee_index == self.index && self.inline_ret.is_none());
        let entry = if self_call.is_some() {
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
            Some((need, zero)) => {
                self.push_frame_inline(pc, callee, new_base, ret, need, &zero, pushed, slow)
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
        self.enter(pushed);
        let minus1 = self.b.ins().iconst(I64, -1);
        self.flush_fuel();
        let args = [self.cx, new_base, minus1];
        let call = match (self_call, entry) {
            (Some(f), _) => self.b.ins().call(f, &args),
            (None, Some(entry)) => self.b.ins().call_indirect(self.sigs.entry, entry, &args),
            (None, None) => return Err("a call without a callee".into()),
        };
        let r = self.b.inst_results(call)[0];
        self.reload_fuel();
        self.b.ins().jump(join, &[BlockArg::Value(r)]);

        self.enter(slow);
        let r = self.call_rt(
            self.sigs.enter,
            self.rt.call,
            &[self.cx, pcv, callee, new_base, ret],
        );
        self.b.ins().jump(join, &[BlockArg::Value(r)]);

        self.enter(join);
        let r = self.b.block_params(join)[0];
        let status = self.b.ins().load(I64, mem(), self.cx, ctx::STATUS);
        self.check(status);
        if has_result {
            self.set(h - nargs - below, r);
        }
        Ok(())
    }

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
    fn inline_access(
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
    fn finish_access(
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
    fn struct_fields(&self, x: usize) -> Option<usize> {
        let t = self.local_type_id(x)?;
        match self.module.module().types.get(t as usize) {
            Some(TypeDef::Struct(sd)) => Some(sd.fields.len()),
            _ => None,
        }
    }

    /// The type id of local `x` of the function compiled.
    fn local_type_id(&self, x: usize) -> Option<u32> {
        local_type_ids(self.module, self.index).ok()?.nth(x)
    }

    fn index_value(&mut self, index: Index) -> Value {
        match index {
            Index::Dyn(v) => v,
            Index::Const(k) => self.b.ins().iconst(I64, k),
        }
    }

    /// The type of the elements (of field `field`) of the array (struct) in local `src`, as
    /// loaded and stored: a float is moved as one (no transfer through an integer register).
    fn elem_type(&self, src: Option<usize>, field: Option<u32>) -> Type {
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

    /// The pure numeric natives, inline with the interpreter's results (Cranelift's `sqrt`,
    /// `fmin`, `fmax`, `floor`, `ceil`, `fabs` are IEEE-exact; NaNs are canonicalised like
    /// `runtime::natives` by `set_arith`). Whether `native` was one.
    fn native_inline(&mut self, h: usize, native: u16) -> bool {
        use rvm_vm::natives::Native as N;
        let Some(n) = N::from_id(native) else {
            return false;
        };
        match n {
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

    /// Calls accessor `addr` with `(cx, pc, args..)`; `value`: it returns a value and signals
    /// a trap in `cx.status`, otherwise it returns the status.
    fn access(&mut self, pc: usize, addr: usize, args: &[Value], value: bool) -> Value {
        let pcv = self.b.ins().iconst(I64, pc as i64);
        self.access_at(pcv, addr, args, value)
    }

    /// [`Self::access`] with the `pc` as a value.
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

    /// For a direct call of function `f`: the value-stack slots its frame needs (locals and
    /// operand stack) and its declared reference locals (zeroed on entry for the collector).
    fn callee_frame(&self, f: u32) -> Option<(i64, Vec<usize>)> {
        let vf = self.module.functions().get(f as usize)?;
        let need = vf.local_count() as i64 + vf.max_stack() as i64;
        let zero = (vf.param_count() as usize..vf.local_count() as usize)
            .filter(|&i| vf.local_is_ref()[i])
            .collect();
        Some((need, zero))
    }

    /// Pushes the callee's frame record without a runtime call when the frame storage, the
    /// value stack and the native stack have room (and the call-depth limit is not reached),
    /// continuing in `pushed`; otherwise continues in `slow`, the whole call through the
    /// runtime (which grows the storage or traps).
    #[allow(clippy::too_many_arguments)]
    fn push_frame_inline(
        &mut self,
        pc: usize,
        callee: Value,
        new_base: Value,
        ret: Value,
        need: i64,
        zero: &[usize],
        pushed: Block,
        slow: Block,
    ) {
        let inline = self.b.create_block();
        let c2 = self.b.create_block();
        let c3 = self.b.create_block();
        let len = self.b.ins().load(I64, mem(), self.cx, ctx::FRAMES_LEN);
        let max = self.b.ins().load(I64, mem(), self.cx, ctx::FRAMES_MAX);
        let room = self.b.ins().icmp(IntCC::UnsignedLessThan, len, max);
        self.b.ins().brif(room, c2, &[], slow, &[]);
        self.enter(c2);
        let end = self.b.ins().iadd_imm_s(new_base, need);
        let slots = self.b.ins().load(I64, mem(), self.cx, ctx::STACK_LEN);
        let fits = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, end, slots);
        self.b.ins().brif(fits, c3, &[], slow, &[]);
        self.enter(c3);
        let sp = self.b.ins().get_stack_pointer(I64);
        let limit = self.b.ins().load(I64, mem(), self.cx, ctx::NATIVE_LIMIT);
        let deep_ok = self.b.ins().icmp(IntCC::UnsignedGreaterThan, sp, limit);
        self.b.ins().brif(deep_ok, inline, &[], slow, &[]);

        self.enter(inline);
        let frames = self.b.ins().load(I64, mem(), self.cx, ctx::FRAMES_PTR);
        let off = self.b.ins().imul_imm_s(len, frame::SIZE as i64);
        let rec = self.b.ins().iadd(frames, off);
        // The caller's record (just below) gets the call's pc.
        let pcv = self.b.ins().iconst(I64, pc as i64);
        self.b.ins().store(mem(), pcv, rec, frame::PC - frame::SIZE);
        let func32 = self.b.ins().ireduce(types::I32, callee);
        self.b.ins().store(mem(), func32, rec, frame::FUNC);
        let zero_v = self.b.ins().iconst(I64, 0);
        self.b.ins().store(mem(), zero_v, rec, frame::PC);
        self.b.ins().store(mem(), new_base, rec, frame::BASE);
        self.b.ins().store(mem(), ret, rec, frame::RET);
        if !zero.is_empty() {
            let data = self.b.ins().load(I64, mem(), self.cx, ctx::STACK_DATA);
            let nb = self.b.ins().ishl_imm_u(new_base, 3);
            let at = self.b.ins().iadd(data, nb);
            for &i in zero {
                self.b.ins().store(mem(), zero_v, at, (i * 8) as i32);
            }
        }
        let len1 = self.b.ins().iadd_imm_s(len, 1);
        self.b.ins().store(mem(), len1, self.cx, ctx::FRAMES_LEN);
        self.b.ins().jump(pushed, &[]);
    }

    /// Any other instruction: the interpreter runs it on the spilled operand stack; its
    /// result (at most one value) is reloaded.
    fn step(&mut self, pc: usize, h: usize) -> Result<(), String> {
        self.spill(pc, h, 0);
        let sp_rel = (self.local_count() + h) as i64;
        let base = self.base;
        let sp = self.b.ins().iadd_imm_s(base, sp_rel);
        let pcv = self.b.ins().iconst(I64, pc as i64);
        let st = self.call_rt(self.sigs.step, self.rt.step, &[self.cx, pcv, sp]);
        self.check(st);
        let after = self
            .vf
            .heights()
            .get(pc + 1)
            .copied()
            .ok_or("an instruction falls off the end")?;
        if after != UNREACHABLE && after > 0 {
            let k = after as usize - 1;
            let fp = self.frame_ptr();
            let off = self.slot_offset(k);
            let v = self.b.ins().load(I64, mem(), fp, off);
            self.set(k, v);
        }
        Ok(())
    }
}
