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
//! checks, returns, array and struct accesses (`access`), the pure numeric natives and
//! calls (`call`: compiled callees' machine code through the VM's entry table, small leaf
//! callees inlined, see `inline`) are compiled inline. Every other instruction (strings,
//! maps, allocation, other natives, host calls, `to_str`) calls `rt_step`, which runs that
//! one instruction with the interpreter's own code: one implementation of each operation
//! for both tiers. Call-free loops load their heap lookups once (`hoist`). The IR is
//! target-independent (no pointer-size or ISA assumptions beyond a 64-bit target), which
//! the aarch64 verifier test checks.
//!
//! Code map: this file holds the translator's state, fuel, spills and the shared cold
//! paths; `entry` the prologue (the room check, the normal and on-stack-replacement
//! starts), `instr` translates one instruction, `access` heap accesses, `call` guest calls, `inline` inlined callees, `early_exit` callees' first cases run inline,
//! `hoist` call-free loops, `bounds` the accesses of counting loops that need no index
//! check, `tail` recursive calls made loops, and `facts` what is decided before
//! translating (block starts, plain instructions, canonical float locals).

use crate::stubs::{self, Stub, Stubs};
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::{
    AbiParam, AliasRegionData, Block, BlockArg, FuncRef, Function, InstBuilder, MemFlagsData,
    Signature, StackSlot, StackSlotData, StackSlotKind, Type, Value, ValueDef, condcodes::FloatCC,
    condcodes::IntCC, types,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use rvm_vm::format::Instr;
use rvm_vm::tier::{Runtime, ctx, trap_code};
use rvm_vm::verified::{VerifiedFunction, VerifiedModule};
use std::collections::HashMap;
use target_lexicon::Architecture;

mod access;
mod bounds;
mod call;
mod divide;
mod early_exit;
mod entry;
mod facts;
mod hoist;
mod inline;
mod instr;
mod tail;
use facts::{backward_jumps, block_starts, canonical_of_raw, local_types, runs_no_code};
use hoist::HoistLoop;

const I64: Type = types::I64;
const F64: Type = types::F64;
const UNREACHABLE: u32 = u32::MAX;

/// The signature of every compiled function: `(cx, base, osr_pc, fuel, depth, arg0) ->
/// (result, fuel)` (`rvm_vm::tier::Entry`).
pub fn entry_signature(cc: CallConv) -> Signature {
    let mut sig = Signature::new(cc);
    sig.params.extend([AbiParam::new(I64); 6]);
    sig.returns.extend([AbiParam::new(I64); 2]);
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
    /// Recursive calls made jumps (see `tail`).
    pub tail_calls: u32,
    /// Call sites with their callee's early exit inlined (see `early_exit`).
    pub early_exits: u32,
    /// Struct fields loaded in a loop's preheader (see `hoist`).
    pub preloaded_fields: u32,
    /// Inlined calls a loop starts with, their fuel charged with the back edges' (see
    /// `hoist::HoistLoop::entry_call`).
    pub merged_charges: u32,
    /// Element accesses compiled without an index check (see `bounds`).
    pub unchecked_accesses: u32,
    /// Divisions by constants of values known not to be negative (see `divide`).
    pub unsigned_divisions: u32,
    /// Divisions by powers of two of values known to be their multiples (see `divide`).
    pub exact_divisions: u32,
    /// Fuel checks made (none without `Runtime::polls`).
    pub fuel_checks: u32,
}

/// Builds the IR of function `index` of `module` into `func` (whose signature must be
/// [`entry_signature`]). With `osr`, the code also accepts on-stack replacement at every
/// loop header (`osr_pc >= 0`), entering a call-free loop through its preheader as the
/// normal path does, so that what Cranelift hoists out of the loop lands there rather than
/// before the code that precedes the loop (a call clobbering every float register, say).
/// Without, it ignores `osr_pc` and every loop header has one way in from outside the
/// loop, which Cranelift's loop analysis and register allocator reward (fewer values live
/// from the entry, invariants hoisted).
#[allow(clippy::too_many_arguments)]
pub fn translate(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    module: &VerifiedModule,
    index: u32,
    rt: &Runtime,
    (stubs, self_ref): (Stubs, Option<FuncRef>),
    cc: CallConv,
    isa: &dyn TargetIsa,
    osr: bool,
) -> Result<Optimised, String> {
    let vf = module
        .functions()
        .get(index as usize)
        .ok_or("function index out of range")?;
    let local_types = local_types(module, index)?;
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
    t.osr = osr;
    t.arith_keeps_canonical_nan = isa.triple().architecture == Architecture::X86_64;
    t.run()?;
    let done = Optimised {
        inlined_calls: t.inlined_calls,
        hoisted_loops: t.loops.len() as u32,
        tail_calls: t.tail_calls,
        early_exits: t.early_exits,
        preloaded_fields: t.loops.iter().map(|l| l.fields.len() as u32).sum(),
        merged_charges: if rt.polls {
            t.loops.iter().filter(|l| l.entry_call.is_some()).count() as u32
        } else {
            0
        },
        unchecked_accesses: t.unchecked_accesses,
        unsigned_divisions: t.unsigned_divisions,
        exact_divisions: t.exact_divisions,
        fuel_checks: t.fuel_checks,
    };
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    Ok(done)
}

/// Variables for locals of types `types`: each local's, and for a float its raw value's
/// (see `Translator::raw_locals`).
fn declare_locals(
    b: &mut FunctionBuilder<'_>,
    types: &[Type],
) -> (Vec<Variable>, Vec<Option<Variable>>) {
    let locals = types.iter().map(|&ty| b.declare_var(ty)).collect();
    let raw = types
        .iter()
        .map(|&ty| (ty == F64).then(|| b.declare_var(F64)))
        .collect();
    (locals, raw)
}

struct Sigs {
    entry: cranelift_codegen::ir::SigRef,
    enter: cranelift_codegen::ir::SigRef,
    ret: cranelift_codegen::ir::SigRef,
    step: cranelift_codegen::ir::SigRef,
    trap: cranelift_codegen::ir::SigRef,
    refill: cranelift_codegen::ir::SigRef,
    interpret: cranelift_codegen::ir::SigRef,
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
    /// The fuel counter, kept in a register: passed to and returned by compiled callees,
    /// written back to the VM around runtime calls.
    fuel: Variable,
    blocks: Vec<Option<Block>>,
    osr_targets: Vec<usize>,
    // Values of the entry block (they dominate everything).
    cx: Value,
    base: Value,
    base_bytes: Value,
    /// The frame count while this function runs (its own record is the last): a
    /// parameter, written to the VM only before runtime calls.
    depth: Value,
    code_table: Value,
    globals: Value,
    const_strs: Value,
    /// The canonical NaN, once a float result needs it (see [`Self::canonical_nan`]).
    canonical_nan: Option<Value>,
    /// The entry block (where the canonical NaN is loaded).
    entry_block: Block,
    /// Where the entry block stores `cx` for stub calls (see [`Self::cold_cx`]).
    cx_slot: Option<StackSlot>,
    /// Whether the code accepts on-stack replacement (see [`translate`]).
    osr: bool,
    /// Whether the target's `+ - * /` and `sqrt` return a canonical NaN or a number when
    /// their operands are canonical NaNs or numbers (x86_64, whose default NaN is the
    /// canonical one, see `rvm_vm::float`): their results then need no canonicalisation.
    arith_keeps_canonical_nan: bool,
    unwind: Block,
    /// Memory flags of the object table and object headers.
    objects_mem: MemFlagsData,
    /// Memory flags of array elements and struct fields.
    elems_mem: MemFlagsData,
    /// Float results canonicalised by [`Self::set_arith`]: the operand-slot value (the
    /// canonical bits) → the raw result, for consumers that cannot tell NaNs apart.
    raw: HashMap<Value, Value>,
    /// Integers known not to be negative, with an upper bound (see `divide`).
    ranges: HashMap<Value, u64>,
    /// The call-free loops (see `hoist`).
    loops: Vec<HoistLoop>,
    /// Per hoisted local: its object's element/field pointer and length.
    header_vars: HashMap<usize, (Variable, Variable)>,
    /// Per struct field `(local, index)` a loop loads in its preheader: its value.
    field_vars: HashMap<(usize, u16), Variable>,
    /// The object table's data pointer, hoisted in call-free loops.
    table: Variable,
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
    /// While translating an inlined body: where its `ret` goes and the result variable.
    inline_ret: Option<(Block, Variable, Option<Variable>)>,
    /// While translating a callee's early exit: where it ends and where leaving it goes.
    bail: Option<(usize, Block)>,
    /// Direct calls inlined so far.
    inlined_calls: u32,
    /// The function itself, for direct recursive calls.
    self_ref: Option<FuncRef>,
    /// The calls in accumulator position and the accumulator's operation (see `tail`).
    accumulator_calls: HashMap<usize, tail::Operand>,
    combine: Option<tail::Combine>,
    /// The block those calls jump to, and the accumulator there.
    head: Option<Block>,
    acc: Option<(Value, tail::Combine)>,
    /// Calls made jumps so far.
    tail_calls: u32,
    /// Per function: where its early exit ends, if it has one (see `early_exit`).
    prefix_ends: Vec<Option<usize>>,
    /// Early exits inlined so far.
    early_exits: u32,
    /// Element accesses compiled without an index check so far.
    unchecked_accesses: u32,
    /// Divisions made unsigned so far (see `divide`).
    unsigned_divisions: u32,
    /// Divisions made shifts so far (see `divide`).
    exact_divisions: u32,
    /// Fuel checks made so far.
    fuel_checks: u32,
    /// Tracked array locals and index values checked earlier in the current bytecode block.
    checked_index: Vec<(usize, Value)>,
    /// The function's shared trap call, made on first use and filled in at the end: its
    /// parameters are `(pc, kind, arg, arg2)` (see `Runtime::trap`). Sharing keeps each
    /// trap site's code to a jump.
    trap_block: Option<Block>,
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
            trap: b.import_signature(sig(cc, &[I64; 5], I64)),
            refill: b.import_signature(stubs::signature(Stub::Refill)),
            interpret: b.import_signature(sig(cc, &[I64], I64)),
            fmod: b.import_signature(sig(cc, &[F64; 2], F64)),
            args3: b.import_signature(sig(cc, &[I64; 3], I64)),
            args4: b.import_signature(sig(cc, &[I64; 4], I64)),
            args5: b.import_signature(sig(cc, &[I64; 5], I64)),
        };
        let (locals, raw_locals) = declare_locals(b, &local_types);
        let stack = (0..vf.max_stack()).map(|_| b.declare_var(I64)).collect();
        let unwind = b.create_block();
        let fuel = b.declare_var(I64);
        let table = b.declare_var(I64);
        let origin = vec![None; vf.max_stack() as usize];
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
            depth: dummy,
            code_table: dummy,
            globals: dummy,
            const_strs: dummy,
            cx_slot: None,
            canonical_nan: None,
            entry_block: Block::from_u32(0),
            osr: false,
            arith_keeps_canonical_nan: false,
            unwind,
            objects_mem,
            elems_mem,
            raw: HashMap::new(),
            ranges: HashMap::new(),
            loops: Vec::new(),
            header_vars: HashMap::new(),
            field_vars: HashMap::new(),
            table,
            origin,
            inlinable: Vec::new(),
            raw_locals,
            canonical_of_raw: Vec::new(),
            inline_ret: None,
            bail: None,
            trap_block: None,
            inlined_calls: 0,
            self_ref: None,
            accumulator_calls: HashMap::new(),
            combine: None,
            head: None,
            acc: None,
            tail_calls: 0,
            prefix_ends: Vec::new(),
            early_exits: 0,
            unchecked_accesses: 0,
            unsigned_divisions: 0,
            exact_divisions: 0,
            fuel_checks: 0,
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
        self.osr_targets = backward_jumps(code, heights)
            .map(|(_, t)| t)
            .filter(|&t| self.osr && heights[t] == 0)
            .collect();
        self.osr_targets.sort_unstable();
        self.osr_targets.dedup();
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
        (self.accumulator_calls, self.combine) =
            tail::accumulator_calls(code, heights, self.index, self.module.module().main);
        self.inlinable = vec![false; self.module.functions().len()];
        self.prefix_ends = vec![None; self.module.functions().len()];
        // Once per callee, however many calls it has.
        let mut seen = vec![false; self.module.functions().len()];
        for (pc, instr) in code.iter().enumerate() {
            if let Instr::Call { func } = *instr
                && heights[pc] != UNREACHABLE
                && let Some(done) = seen.get_mut(func as usize)
                && !std::mem::replace(done, true)
            {
                let f = func as usize;
                self.inlinable[f] = inline::inlinable(self.module, self.index, func);
                if !self.inlinable[f] {
                    self.prefix_ends[f] = early_exit::prefix_end(self.module, func);
                }
            }
        }
        if self.rt.heap.is_some() {
            let inl = &self.inlinable;
            let inlined = |i: Instr| matches!(i, Instr::Call { func } if inl.get(func as usize) == Some(&true));
            self.loops =
                hoist::call_free_loops(self.module, self.vf, self.index, runs_no_code, inlined);
            let call_free = code
                .iter()
                .zip(heights)
                .all(|(&i, &h)| h == UNREACHABLE || runs_no_code(i) || inlined(i));
            bounds::find(
                code,
                heights,
                self.vf.param_count() as usize,
                self.local_count(),
                call_free,
                &mut self.loops,
            );
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

    /// The canonical NaN: loaded from the context once, in the entry block (added there
    /// at the first use, so functions without float results do not load it). Not an
    /// `f64const` (Cranelift rematerialises constants in every block that uses them, two
    /// instructions on x86_64 for this one) nor a movable load (the optimiser would place
    /// it at its uses, inside the loops); a value defined at the entry stays in a register
    /// where registers allow, and otherwise costs one reload.
    fn canonical_nan(&mut self) -> Value {
        if let Some(v) = self.canonical_nan {
            return v;
        }
        // At the top of the entry block, where `cx` (its parameter) is already defined.
        let mut pos = FuncCursor::new(self.b.func).at_first_insertion_point(self.entry_block);
        let v = pos
            .ins()
            .load(F64, mem().with_readonly(), self.cx, ctx::CANONICAL_NAN);
        self.canonical_nan = Some(v);
        v
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
            self.flush();
        }
        let callee = self.b.ins().iconst(I64, addr as i64);
        let call = self.b.ins().call_indirect(sig, callee, args);
        let r = self.b.inst_results(call)[0];
        if !pure {
            self.reload_fuel();
        }
        r
    }

    /// Writes what compiled code keeps in registers back to the VM before a runtime call:
    /// the fuel counter (which the runtime may read or charge) and the frame count (which
    /// it adopts).
    fn flush(&mut self) {
        self.flush_at(self.cx);
    }

    /// [`Self::flush`] through the context pointer `cx` (`self.cx` or a copy of it).
    fn flush_at(&mut self, cx: Value) {
        let v = self.b.use_var(self.fuel);
        let ticks = self.ticks_ptr(cx);
        self.b.ins().store(mem(), v, ticks, 0);
        self.b.ins().store(mem(), self.depth, cx, ctx::FRAMES_LEN);
    }

    /// Reads the fuel register from the VM (after a call that may have charged it).
    fn reload_fuel(&mut self) {
        self.reload_fuel_at(self.cx);
    }

    /// [`Self::reload_fuel`] through the context pointer `cx`.
    fn reload_fuel_at(&mut self, cx: Value) {
        let ticks = self.ticks_ptr(cx);
        let v = self.b.ins().load(I64, mem(), ticks, 0);
        self.b.def_var(self.fuel, v);
    }

    /// Where the VM keeps the fuel counter. Loaded where it is needed (around runtime
    /// calls, mostly cold) rather than once per function: a pointer held for the whole
    /// function would occupy a callee-saved register.
    fn ticks_ptr(&mut self, cx: Value) -> Value {
        self.b.ins().load(I64, mem(), cx, ctx::TICKS)
    }

    /// Returns `value` and the fuel counter to the caller (see `rvm_vm::tier::Entry`). This
    /// pops the frame: the frame count lives in registers (`depth`), and the caller's is
    /// one less.
    fn return_with_fuel(&mut self, value: Value) {
        let fuel = self.b.use_var(self.fuel);
        self.b.ins().return_(&[value, fuel]);
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
        let cont = self.b.create_block();
        let site = self.b.create_block();
        self.b.set_cold_block(site);
        self.b.ins().brif(cond, site, &[], cont, &[]);
        // The site's constants are made in its own cold block, not on the hot path.
        self.enter(site);
        let arg = self.b.ins().iconst(I64, arg as i64);
        self.jump_to_trap(pc, kind, [arg, arg]); // `arg2` unused by these kinds
        self.enter(cont);
    }

    /// Ends the current (cold) block with a jump to the function's shared trap call: trap
    /// `kind` at `pc` with arguments `args`.
    fn jump_to_trap(&mut self, pc: usize, kind: u64, args: [Value; 2]) {
        let cold = *self.trap_block.get_or_insert_with(|| {
            let b = self.b.create_block();
            self.b.set_cold_block(b);
            for _ in 0..4 {
                self.b.append_block_param(b, I64);
            }
            b
        });
        let pcv = self.b.ins().iconst(I64, pc as i64);
        let kind = self.b.ins().iconst(I64, kind as i64);
        let args = [pcv, kind, args[0], args[1]].map(BlockArg::Value);
        self.b.ins().jump(cold, &args);
    }

    /// Fills in the shared trap call (if a trap site used it).
    fn emit_trap_block(&mut self) {
        if let Some(blk) = self.trap_block.take() {
            self.b.switch_to_block(blk);
            let p = self.b.block_params(blk).to_vec();
            let args = [self.cx, p[0], p[1], p[2], p[3]];
            self.call_rt(self.sigs.trap, self.rt.trap, &args);
            self.b.ins().jump(self.unwind, &[]);
        }
    }

    fn trap_now(&mut self, pc: usize, kind: u64, arg: u64) {
        let pcv = self.b.ins().iconst(I64, pc as i64);
        let kind = self.b.ins().iconst(I64, kind as i64);
        let arg = self.b.ins().iconst(I64, arg as i64);
        self.call_rt(
            self.sigs.trap,
            self.rt.trap,
            &[self.cx, pcv, kind, arg, arg],
        );
        self.b.ins().jump(self.unwind, &[]);
    }

    /// Charges `units` of fuel (the interpreter's accounting, see `budget`).
    fn tick(&mut self, units: usize, pc: usize) {
        self.tick_in(units, pc, false);
    }

    /// [`Self::tick`], continuing in a block marked cold when `in_cold` (inside a cold path).
    fn tick_in(&mut self, units: usize, pc: usize, in_cold: bool) {
        self.charge(units, in_cold, |t, _, cont| {
            let pcv = t.b.ins().iconst(I64, pc as i64);
            t.call_stub(Stub::Refill, &[t.cx, pcv], cont);
        });
    }

    /// Charges `units` at `pc` and then one unit at `call` with one test: a back edge and
    /// the call its loop starts with (see `hoist::HoistLoop::entry_call`). When the counter
    /// cannot pay both, the cold path charges them one at a time, so each refill, and an
    /// out-of-fuel trap, happens at its own `pc` with the counter the interpreter has there
    /// (what runs between the header and the call changes nothing anyone can see).
    fn tick_then(&mut self, units: usize, pc: usize, call: usize) {
        self.charge(units + 1, false, |t, uncharged, cont| {
            t.b.def_var(t.fuel, uncharged);
            t.tick_in(units, pc, true);
            t.tick_in(1, call, true);
            t.b.ins().jump(cont, &[]);
        });
    }

    /// Subtracts `units` from the fuel counter and, when it goes negative, runs `cold` (in
    /// a cold block, with the counter as it was and the block to continue at, which `cold`
    /// must end by reaching); `cont` is marked cold too when `in_cold`. Nothing at all
    /// for a VM that nothing can stop (`Runtime::polls`): then no guest code looks at the
    /// counter (the interpreter keeps charging its own work), and loops have no exit but
    /// their own.
    fn charge(&mut self, units: usize, in_cold: bool, cold: impl FnOnce(&mut Self, Value, Block)) {
        if !self.rt.polls {
            return;
        }
        self.fuel_checks += 1;
        let uncharged = self.b.use_var(self.fuel);
        let v = self.b.ins().iadd_imm_s(uncharged, -(units as i64));
        self.b.def_var(self.fuel, v);
        let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, v, 0);
        let cold_blk = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(cold_blk);
        if in_cold {
            self.b.set_cold_block(cont);
        }
        self.b.ins().brif(neg, cold_blk, &[], cont, &[]);
        self.enter(cold_blk);
        cold(self, uncharged, cont);
        self.enter(cont);
    }

    /// Calls `stub` (see `stubs`) with the fuel counter written back around it, then
    /// continues at `cont`, or unwinds if the runtime function it called set the status.
    fn call_stub(&mut self, stub: Stub, args: &[Value], cont: Block) {
        let sig = match stub {
            Stub::Refill => self.sigs.refill,
        };
        // Without polls the stubs are placeholders (`Session::compile`), never to be called.
        assert!(self.rt.polls, "code without fuel checks calls no stub");
        let addr = self.stubs.get(stub);
        // Everything here goes through a reloaded copy of `cx` (see `cold_cx`).
        let cx = self.cold_cx();
        self.flush_at(cx);
        let callee = self.b.ins().iconst(I64, addr as i64);
        let args: Vec<Value> = args
            .iter()
            .map(|&a| if a == self.cx { cx } else { a })
            .collect();
        self.b.ins().call_indirect(sig, callee, &args);
        self.reload_fuel_at(cx);
        let st = self.b.ins().load(I64, mem(), cx, ctx::STATUS);
        self.b.ins().brif(st, self.unwind, &[], cont, &[]);
    }

    /// A copy of `cx` for a cold path: reloaded from a stack slot written in the entry
    /// block, so that neither the stub's fixed argument register nor the cold path's other
    /// uses keep `cx` itself alive through a loop that does not use it otherwise (the
    /// register allocator would move it into and out of registers on the hot path).
    fn cold_cx(&mut self) -> Value {
        let slot = match self.cx_slot {
            Some(s) => s,
            None => {
                let s = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    8,
                    3,
                ));
                let mut pos =
                    FuncCursor::new(self.b.func).at_first_insertion_point(self.entry_block);
                pos.ins().stack_store(I64, self.cx, s, 0);
                self.cx_slot = Some(s);
                s
            }
        };
        self.b.ins().stack_load(I64, I64, slot, 0)
    }

    /// Stores the reference locals, the operand slots from `all_from` up, and the reference
    /// operand slots below it (per the stack map at `pc`) into the frame.
    fn spill(&mut self, pc: usize, h: usize, all_from: usize) {
        // The frame's address only when something is stored (the load would stay).
        let mut fp = None;
        for i in 0..self.local_count() {
            if self.vf.local_is_ref()[i] {
                let v = self.b.use_var(self.locals[i]);
                let at = *fp.get_or_insert_with(|| self.frame_ptr());
                self.b.ins().store(mem(), v, at, (i * 8) as i32);
            }
        }
        let map = self.vf.stack_map(pc as u32);
        for k in 0..h {
            if k >= all_from || map.get(k).copied().unwrap_or(false) {
                let v = self.get(k);
                let off = self.slot_offset(k);
                let at = *fp.get_or_insert_with(|| self.frame_ptr());
                self.b.ins().store(mem(), v, at, off);
            }
        }
    }

    fn jump_to(&mut self, target: usize, pc: usize) -> Result<(), String> {
        if target <= pc {
            match self.entry_call_of(pc, target) {
                Some(call) => self.tick_then(pc + 1 - target, pc, call),
                None => self.tick(pc + 1 - target, pc),
            }
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
        self.emit_trap_block();
        // Unwinding: the VM's fuel counter is current (every runtime call that can set the
        // status was preceded by a flush), and a negative one tells the caller.
        self.b.switch_to_block(self.unwind);
        let zero = self.b.ins().iconst(I64, 0);
        let unwound = self.b.ins().iconst(I64, -1);
        self.b.ins().return_(&[zero, unwound]);
        Ok(())
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
