//! Loop-invariant heap lookups: the object table and the headers of objects held in locals,
//! computed once before a loop instead of at every access.
//!
//! **Why it is sound.** Objects are reached through handles (an index into the heap's object
//! table), and an array's element pointer and length live in its object. Only Rust code
//! changes the table or a header: allocation, `push`, the collector — all behind a runtime
//! or guest call. A *call-free* loop (no instruction in it calls the runtime, except the
//! fuel refill and the cold paths that trap and never come back) therefore sees one table
//! and, for every reference local it never assigns, one header. Such loops get a preheader
//! that loads the table and those headers; accesses in the loop then check only the index.
//! A reference local the loop assigns gets its header loaded again at each assignment, so
//! in a call-free loop the header variables of a tracked local always describe its
//! current value.
//!
//! **Nothing here traps.** A tracked local holds a verified reference, a live object of
//! its type (see `access`), so its header is loaded without a check; the accesses in the
//! loop check their indices against the hoisted length and trap at their own `pc`.
//!
//! **Entries.** A loop qualifies only if control enters its body at its header alone (no
//! jump from outside into the middle, which verified but hand-made bytecode could do).
//! Edges from outside the loop to its header go through the preheader; on-stack
//! replacement entering at a loop header runs the loads of every qualifying loop around it
//! first, then goes through the loop's own preheader (if it has one) like the normal path.
//! A nested qualifying loop loads only what its enclosing one does not already keep
//! current.

use super::facts::{backward_jumps, jump_target, local_type_ids};
use super::{Translator, UNREACHABLE};
use cranelift_codegen::ir::{Block, InstBuilder, Value, types::I64};
use cranelift_frontend::Variable;
use rvm_vm::format::{Instr, TypeDef};
use rvm_vm::tier::HeapLayout;
use rvm_vm::verified::{VerifiedFunction, VerifiedModule};

/// A call-free loop: bytecode `head..=end`, entered only at `head`.
#[derive(Clone, Debug)]
pub(super) struct HoistLoop {
    pub head: usize,
    pub end: usize,
    /// The array and struct locals the loop reads, and whether each is a struct: their
    /// headers are loaded in the preheader and at each assignment in the loop.
    pub locals: Vec<(usize, bool)>,
    /// The preheader (created by the translator).
    pub pre: Option<Block>,
    /// The fields `(local, index)` loaded in the preheader: the loop reads field `index`
    /// of the struct in `local`, assigns neither the local nor field `index` of any struct
    /// (and calls nothing, not even inline), so the field keeps its value throughout.
    pub fields: Vec<(usize, u16)>,
    /// An inlined call the loop's body starts with: only instructions that change nothing
    /// but the operand stack come before it, and nothing jumps between the header and it.
    /// Its unit of fuel is charged with the back edges' (see `Translator::tick_then`) and
    /// in the preheader, not at the call.
    pub entry_call: Option<usize>,
    /// A counting loop's `(array local, counter local, last pc of its zone)`: from the
    /// header to that `pc`, the array's element at the counter is in bounds (see `bounds`).
    pub in_bounds: Option<(usize, usize, usize)>,
    /// A counting loop's `(counter local, last pc of its zone)` when the counter is never
    /// negative: from the header to that `pc` it is not (see `bounds`).
    pub nonneg: Option<(usize, usize)>,
}

impl HoistLoop {
    pub fn contains(&self, pc: usize) -> bool {
        (self.head..=self.end).contains(&pc)
    }
}

/// The call-free loops of `vf`, outermost first. `runs_no_code(instr)` says whether the
/// translator compiles an instruction without any call that could change the heap, and
/// `inlined(instr)` whether it is a call the translator inlines (which runs no code
/// either).
pub(super) fn call_free_loops(
    module: &VerifiedModule,
    vf: &VerifiedFunction,
    func: u32,
    runs_no_code: impl Fn(Instr) -> bool,
    inlined: impl Fn(Instr) -> bool,
) -> Vec<HoistLoop> {
    let code = vf.code();
    let heights = vf.heights();
    let live = |pc: usize| heights.get(pc).is_some_and(|&h| h != UNREACHABLE);
    // Loops: every backward jump `end -> head`, merged per head.
    let mut loops: Vec<(usize, usize)> = Vec::new();
    for (pc, t) in backward_jumps(code, heights) {
        match loops.iter_mut().find(|l| l.0 == t) {
            Some(l) => l.1 = l.1.max(pc),
            None => loops.push((t, pc)),
        }
    }
    let types = &module.module().types;
    let Ok(local_kinds) = local_type_ids(module, func).map(|ids| {
        ids.map(|t| match types.get(t as usize) {
            Some(TypeDef::Array(_)) => Some(false),
            Some(TypeDef::Struct(_)) => Some(true),
            _ => None,
        })
        .collect::<Vec<Option<bool>>>()
    }) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (head, end) in loops {
        let body = head..=end;
        let mut ok = true;
        let mut calls = false;
        let mut read = vec![false; local_kinds.len()];
        let mut assigned = vec![false; local_kinds.len()];
        let mut stored_fields = Vec::new();
        let mut field_reads = Vec::new();
        for (pc, &instr) in code.iter().enumerate() {
            if !live(pc) {
                continue;
            }
            let inside = body.contains(&pc);
            if inside {
                match instr {
                    Instr::LocalSet { index } => {
                        if let Some(a) = assigned.get_mut(index as usize) {
                            *a = true;
                        }
                    }
                    Instr::FieldSet { index } => stored_fields.push(index),
                    Instr::FieldGet { index } if pc > head => {
                        if let Instr::LocalGet { index: x } = code[pc - 1] {
                            field_reads.push((x as usize, index));
                        }
                    }
                    _ => {}
                }
            }
            if let Some(t) = jump_target(instr)
                && !inside
                && t > head
                && t <= end
            {
                ok = false; // entered in the middle
            }
            if inside {
                calls |= inlined(instr);
                if !runs_no_code(instr) && !inlined(instr) {
                    ok = false;
                }
                if let Instr::LocalGet { index } = instr
                    && let Some(r) = read.get_mut(index as usize)
                {
                    *r = true;
                }
            }
        }
        if !ok {
            continue;
        }
        let locals = local_kinds
            .iter()
            .enumerate()
            .filter_map(|(i, k)| k.filter(|_| read[i]).map(|s| (i, s)))
            .collect();
        let mut fields: Vec<(usize, u16)> = field_reads
            .into_iter()
            .filter(|&(x, k)| {
                !calls
                    && local_kinds.get(x) == Some(&Some(true))
                    && !assigned[x]
                    && !stored_fields.contains(&k)
            })
            .collect();
        fields.sort_unstable();
        fields.dedup();
        let entry_call = entry_call(code, head, end, &inlined);
        out.push(HoistLoop {
            head,
            end,
            locals,
            pre: None,
            fields,
            entry_call,
            in_bounds: None,
            nonneg: None,
        });
    }
    // Outermost first: by head, longest first.
    out.sort_by_key(|l| (l.head, usize::MAX - l.end));
    out
}

/// The inlined call that loop `head..=end` starts with, if every instruction before it
/// only pushes onto the operand stack and no jump lands between the header and it: running
/// those instructions is invisible, so the call's fuel may be charged before them.
fn entry_call(
    code: &[Instr],
    head: usize,
    end: usize,
    inlined: impl Fn(Instr) -> bool,
) -> Option<usize> {
    let silent = |i: Instr| {
        matches!(
            i,
            Instr::Nop {}
                | Instr::LocalGet { .. }
                | Instr::IConst { .. }
                | Instr::FConst { .. }
                | Instr::BConst { .. }
                | Instr::Dup {}
        )
    };
    let call = (head..=end).find(|&pc| !silent(code[pc]))?;
    let landed = code
        .iter()
        .filter_map(|&i| jump_target(i))
        .any(|t| t > head && t <= call);
    (inlined(code[call]) && !landed).then_some(call)
}

impl Translator<'_, '_> {
    /// Whether element `j` (a local) of the array in local `x` is in bounds at `pc` (see
    /// `bounds`).
    pub(super) fn in_bounds(&self, pc: usize, x: usize, j: usize) -> bool {
        self.loops.iter().any(|l| {
            l.in_bounds.is_some_and(|(a, c, zone_end)| {
                a == x && c == j && (l.head..=zone_end).contains(&pc)
            })
        })
    }

    /// Whether local `j` is a counter known not to be negative at `pc` (see `bounds`).
    pub(super) fn nonneg_counter(&self, pc: usize, j: usize) -> bool {
        self.loops.iter().any(|l| {
            l.nonneg
                .is_some_and(|(c, zone_end)| c == j && (l.head..=zone_end).contains(&pc))
        })
    }

    /// Whether `pc` is a call whose fuel a loop charges elsewhere (see
    /// [`HoistLoop::entry_call`]).
    pub(super) fn charged_by_loop(&self, pc: usize) -> bool {
        self.loops.iter().any(|l| l.entry_call == Some(pc))
    }

    /// The call whose fuel a back edge from `from` to `target` charges too: the entry call
    /// of the loop headed at `target`, when `from` lies inside it.
    pub(super) fn entry_call_of(&self, from: usize, target: usize) -> Option<usize> {
        self.loops
            .iter()
            .find(|l| l.head == target && l.contains(from))
            .and_then(|l| l.entry_call)
    }

    /// Whether `pc` lies in a call-free loop (whose table variables are then defined).
    pub(super) fn in_call_free_loop(&self, pc: usize) -> bool {
        self.loops.iter().any(|l| l.contains(pc))
    }

    /// Whether the header of local `x` is tracked at `pc`: its variables and whether it is
    /// a struct.
    pub(super) fn tracked(&self, pc: usize, x: usize) -> Option<((Variable, Variable), bool)> {
        let is_struct = self
            .loops
            .iter()
            .filter(|l| l.contains(pc))
            .find_map(|l| l.locals.iter().find(|&&(i, _)| i == x))?
            .1;
        Some((*self.header_vars.get(&x)?, is_struct))
    }

    /// The variable holding field `k` of the struct in local `x` at `pc`, if a loop around
    /// `pc` loads it in its preheader.
    pub(super) fn preloaded(&self, pc: usize, x: usize, k: u16) -> Option<Variable> {
        let around = |l: &HoistLoop| l.contains(pc) && l.fields.contains(&(x, k));
        self.loops
            .iter()
            .any(around)
            .then_some(*self.field_vars.get(&(x, k))?)
    }

    /// The header variables of local `x` at `pc`, if tracked.
    pub(super) fn hoisted(&self, pc: usize, x: usize) -> Option<(Variable, Variable)> {
        self.tracked(pc, x).map(|(vars, _)| vars)
    }

    /// After `local.set x` at `pc`: loads the new value's header if `x` is tracked there.
    pub(super) fn local_assigned(&mut self, pc: usize, x: usize) {
        self.checked_index.retain(|&(c, _)| c != x);
        for o in &mut self.origin {
            if *o == Some(x) {
                *o = None;
            }
        }
        if let Some((vars, is_struct)) = self.tracked(pc, x) {
            self.load_header(x, vars, is_struct);
        }
    }

    /// The block an edge from `from` (`None`: the function's entry) to `target` goes to:
    /// the preheader of a call-free loop headed at `target` when `from` is outside it.
    pub(super) fn edge_to(&self, from: Option<usize>, target: usize) -> Result<Block, String> {
        for l in &self.loops {
            if l.head == target && !from.is_some_and(|f| l.contains(f)) {
                return l.pre.ok_or_else(|| "loop without a preheader".into());
            }
        }
        self.block_at(target)
    }

    /// Creates the preheaders and the variables of hoisted values.
    pub(super) fn plan_hoisting(&mut self) {
        let mut loops = std::mem::take(&mut self.loops);
        for l in &mut loops {
            l.pre = Some(self.b.create_block());
            for &(x, _) in &l.locals {
                if !self.header_vars.contains_key(&x) {
                    let data = self.b.declare_var(I64);
                    let len = self.b.declare_var(I64);
                    self.header_vars.insert(x, (data, len));
                }
            }
            for &(x, k) in &l.fields {
                if !self.field_vars.contains_key(&(x, k)) {
                    let ty = self.elem_type(Some(x), Some(k.into()));
                    let var = self.b.declare_var(ty);
                    self.field_vars.insert((x, k), var);
                }
            }
        }
        self.loops = loops;
    }

    /// Emits the preheader of the loop headed at `head` (if it has one): the hoisted values,
    /// then a jump to the loop header. Called when the translation reaches `head`.
    pub(super) fn emit_preheader(&mut self, head: usize) -> Result<(), String> {
        let Some(i) = self.loops.iter().position(|l| l.head == head) else {
            return Ok(());
        };
        let pre = self.loops[i].pre.ok_or("loop without a preheader")?;
        self.enter(pre);
        self.emit_hoisted(i);
        if let Some(call) = self.loops[i].entry_call {
            self.tick(1, call);
        }
        let blk = self.block_at(head)?;
        self.b.ins().jump(blk, &[]);
        Ok(())
    }

    /// Where on-stack replacement at loop header `head` goes, after loading what the
    /// call-free loops around it hoist: the loop's own preheader if it has one (which the
    /// normal path goes through too, so the preheader dominates the loop, and what
    /// Cranelift hoists out of the loop is computed there, not before the function's first
    /// instruction, where it would live across the calls that precede the loop); else the
    /// header.
    pub(super) fn osr_target(&mut self, head: usize) -> Result<Block, String> {
        let own = self
            .loops
            .iter()
            .position(|l| l.head == head && l.pre.is_some());
        for i in 0..self.loops.len() {
            if Some(i) != own && self.loops[i].contains(head) {
                self.emit_hoisted(i);
            }
        }
        match own.and_then(|i| self.loops[i].pre) {
            Some(pre) => Ok(pre),
            None => self.block_at(head),
        }
    }

    /// Loads the table and the headers of the locals loop `i` tracks into their variables.
    ///
    /// Inside an enclosing call-free loop the table and the headers that
    /// loop tracks are current already (it loaded them and keeps them so): only the rest is
    /// loaded.
    fn emit_hoisted(&mut self, i: usize) {
        let Some(l) = self.rt.heap else {
            return;
        };
        let head = self.loops[i].head;
        let outer = (0..self.loops.len())
            .filter(|&j| j != i && self.loops[j].contains(head))
            .min_by_key(|&j| self.loops[j].end - self.loops[j].head);
        if outer.is_none() {
            let objs = self.load_table(l);
            self.b.def_var(self.table, objs);
        }
        for (x, is_struct) in self.loops[i].locals.clone() {
            let current = outer.is_some_and(|j| self.loops[j].locals.iter().any(|&(y, _)| y == x));
            if !current && let Some(&vars) = self.header_vars.get(&x) {
                self.load_header(x, vars, is_struct);
            }
        }
        for (x, k) in self.loops[i].fields.clone() {
            let current = outer.is_some_and(|j| self.loops[j].fields.contains(&(x, k)));
            if let (false, Some(&(data_var, _)), Some(&var)) = (
                current,
                self.header_vars.get(&x),
                self.field_vars.get(&(x, k)),
            ) {
                let data = self.b.use_var(data_var);
                let ty = self.elem_type(Some(x), Some(k.into()));
                let v = self
                    .b
                    .ins()
                    .load(ty, self.elems_mem, data, i32::from(k) * 8);
                self.b.def_var(var, v);
            }
        }
    }

    /// Loads the header of the object in local `x` into `(data, len)` (only `data`, the
    /// field pointer, for a struct).
    fn load_header(
        &mut self,
        x: usize,
        (data_var, len_var): (Variable, Variable),
        is_struct: bool,
    ) {
        let Some(l) = self.rt.heap else {
            return;
        };
        let om = self.objects_mem;
        let objs = self.b.use_var(self.table);
        let h = self.b.use_var(self.locals[x]);
        let o = self.object_at(l, objs, h);
        if is_struct {
            let data = self.b.ins().load(I64, om, o, l.fields_ptr);
            self.b.def_var(data_var, data);
        } else {
            let data = self.b.ins().load(I64, om, o, l.items_ptr);
            let n = self.b.ins().load(I64, om, o, l.items_len);
            self.b.def_var(data_var, data);
            self.b.def_var(len_var, n);
        }
    }

    /// The address of object `h`, for an access at `pc`: in the table hoisted in a call-free
    /// loop, else in the table loaded now. Unchecked: `h` is a verified reference (see
    /// `access`).
    pub(super) fn find_object(&mut self, l: HeapLayout, pc: usize, h: Value) -> Value {
        let objs = if self.in_call_free_loop(pc) {
            self.b.use_var(self.table)
        } else {
            self.load_table(l)
        };
        self.object_at(l, objs, h)
    }

    /// The object table's data pointer, loaded now.
    fn load_table(&mut self, l: HeapLayout) -> Value {
        let om = self.objects_mem;
        let table = self
            .b
            .ins()
            .load(I64, om, self.cx, rvm_vm::tier::ctx::OBJECTS);
        self.b.ins().load(I64, om, table, l.table_ptr)
    }

    /// The address of object `h` in the table at `objs`.
    fn object_at(&mut self, l: HeapLayout, objs: Value, h: Value) -> Value {
        // A multiply by a constant, as shifts and adds where they do (see `divide`): the
        // entry size is 40 on x86_64, `(h + 4h) * 8`, whose `* 8` the load absorbs.
        let off = self.mul_const(h, l.obj_size as u64);
        self.b.ins().iadd(objs, off)
    }
}
