//! The code rules: jump resolution, then one abstract interpretation of each function.
//!
//! The function is cut into basic blocks at jump targets and after branches. A worklist,
//! always taking the block that comes first in the code, runs the transfer function of
//! [`super::instr`] over each block from its entry state: the operand stack's types and
//! the set of definitely assigned locals. Stack types must be equal on every edge into a
//! block; the assigned set is the intersection over the edges, so it only ever shrinks
//! and a block is re-run only when it did. In code with only natural loops every block is
//! run once; crafted irreducible control flow may re-run blocks, which the work budget
//! bounds.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::types::{Ty, Types};
use super::{Budget, MAX_BITSET_WORDS, Rule, VerifyError, module};
use crate::format::{Function, Instr, Module};
use crate::verified::{CallRefArgs, StackMap, VerifiedFunction};

/// Everything the transfer function needs to know about the function being verified.
pub(super) struct FnCx<'a, 'm> {
    pub(super) m: &'m Module,
    pub(super) types: &'a Types<'m>,
    pub(super) index: u32,
    pub(super) f: &'m Function,
    /// Byte offset of every instruction, plus the code length at the end.
    pub(super) offsets: Vec<u32>,
    /// Parameter and local types.
    pub(super) locals: Vec<Ty>,
    /// The result type.
    pub(super) result: Option<Ty>,
    /// The declared maximum stack depth.
    pub(super) max_stack: usize,
    /// Whether this is the module's initialiser (which may write immutable globals).
    pub(super) is_init: bool,
}

impl FnCx<'_, '_> {
    /// An error at instruction `pc`.
    pub(super) fn err(&self, rule: Rule, pc: usize, message: String) -> VerifyError {
        VerifyError::at(
            rule,
            self.index,
            &self.f.name,
            self.offsets.get(pc).copied().unwrap_or(0),
            message,
        )
    }

    /// An error about the function as a whole.
    fn err_fn(&self, rule: Rule, message: String) -> VerifyError {
        VerifyError::in_function(rule, self.index, &self.f.name, message)
    }

    /// The instruction index at byte offset `target`.
    fn resolve(&self, pc: usize, target: u32) -> Result<usize, VerifyError> {
        let n = self.offsets.len() - 1;
        let code_len = self.offsets[n];
        if target >= code_len {
            return Err(self.err(
                Rule::JumpOutOfBounds,
                pc,
                format!("jump target {target} is outside the code ({code_len} bytes)"),
            ));
        }
        self.offsets[..n].binary_search(&target).map_err(|_| {
            self.err(
                Rule::JumpMidInstruction,
                pc,
                format!("jump target {target} is inside an instruction"),
            )
        })
    }
}

/// The abstract state before an instruction.
#[derive(Clone, Debug)]
pub(super) struct State {
    /// Operand types, bottom first.
    pub(super) stack: Vec<Ty>,
    /// How many of them are heap references.
    pub(super) refs: usize,
    /// One bit per local: definitely assigned.
    pub(super) assigned: Vec<u64>,
}

/// Where control goes after an instruction.
pub(super) enum Flow {
    /// To the next instruction.
    Next,
    /// Only to the instruction with this index.
    Jump(usize),
    /// To the next instruction or to this one.
    Branch(usize),
    /// Out of the function.
    Return,
}

/// Verifies one function's code and builds its [`VerifiedFunction`].
pub(super) fn verify_function(
    m: &Module,
    types: &Types<'_>,
    index: u32,
    budget: &mut Budget,
) -> Result<VerifiedFunction, VerifyError> {
    let Some(f) = m.functions.get(index as usize) else {
        return Err(VerifyError::module(
            Rule::FunctionIndex,
            format!("function #{index} does not exist"),
        ));
    };
    let Some(sig) = types.func_of_id(f.ty) else {
        return Err(VerifyError::in_function(
            Rule::NotAFuncType,
            index,
            &f.name,
            format!("signature {} is not a function type", m.type_name(f.ty)),
        ));
    };
    let n = f.code.len();
    if n == 0 {
        return Err(VerifyError::in_function(
            Rule::EmptyCode,
            index,
            &f.name,
            "the function has no code".into(),
        ));
    }
    let offsets = f.instr_offsets();
    module::check_lines(m, index, f, offsets[n])?;
    let locals: Vec<Ty> = sig
        .params
        .iter()
        .chain(&f.locals)
        .map(|t| types.of(*t))
        .collect();
    let cx = FnCx {
        m,
        types,
        index,
        f,
        offsets,
        result: sig.result.map(|r| types.of(r)),
        max_stack: f.max_stack as usize,
        is_init: m.init == Some(index),
        locals,
    };

    // Rewrite jump targets to instruction indices and find the block leaders.
    let mut code = f.code.clone();
    let mut leader = vec![false; n];
    leader[0] = true;
    for pc in 0..n {
        let instr = &mut code[pc];
        let branches = instr.jump_target().is_some();
        if let Some(target) = instr.jump_target() {
            let to = cx.resolve(pc, target)?;
            set_target(instr, to as u32);
            leader[to] = true;
        }
        if (branches || instr.ends_block()) && pc + 1 < n {
            leader[pc + 1] = true;
        }
    }
    let starts: Vec<u32> = (0..n).filter(|&i| leader[i]).map(|i| i as u32).collect();
    drop(leader);
    let blocks = starts.len();
    let words = cx.locals.len().div_ceil(64);
    if (blocks as u64).saturating_mul(words as u64) > MAX_BITSET_WORDS {
        return Err(cx.err_fn(
            Rule::TooComplex,
            format!(
                "{blocks} basic blocks with {} locals exceed the verifier's memory budget",
                cx.locals.len()
            ),
        ));
    }
    budget.work_left = budget
        .work_left
        .saturating_add(8 * (n as u64 + blocks as u64 * (words as u64 + 1)));

    let mut assigned = vec![0u64; words];
    for p in 0..sig.params.len() {
        assigned[p / 64] |= 1 << (p % 64);
    }
    let mut flow = Dataflow {
        cx: &cx,
        starts: &starts,
        entry: vec![None; blocks],
        queued: vec![false; blocks],
        heap: BinaryHeap::new(),
        budget,
    };
    flow.enqueue(
        0,
        State {
            stack: Vec::new(),
            refs: 0,
            assigned,
        },
    );
    let mut visited = vec![false; n];
    let mut heights = vec![u32::MAX; n];
    let mut maps: Vec<StackMap> = Vec::new();
    while let Some(Reverse(b)) = flow.heap.pop() {
        let b = b as usize;
        flow.queued[b] = false;
        let Some(mut st) = flow.entry[b].clone() else {
            continue;
        };
        let start = starts[b] as usize;
        let end = starts.get(b + 1).map_or(n, |s| *s as usize);
        flow.spend(start, (end - start + words + st.stack.len()) as u64)?;
        let mut falls = true;
        for pc in start..end {
            if !visited[pc] {
                visited[pc] = true;
                heights[pc] = st.stack.len() as u32;
                if st.refs > 0 {
                    let slots = st.stack.len() as u64;
                    if slots > flow.budget.map_slots_left {
                        return Err(cx.err(
                            Rule::TooComplex,
                            pc,
                            "the stack maps exceed the verifier's memory budget".into(),
                        ));
                    }
                    flow.budget.map_slots_left -= slots;
                    maps.push(StackMap {
                        pc: pc as u32,
                        refs: st.stack.iter().map(|t| types.is_ref(*t)).collect(),
                    });
                }
            }
            match cx.step(pc, &code[pc], &mut st)? {
                Flow::Next => {}
                Flow::Branch(t) => flow.merge(pc, t, &st)?,
                Flow::Jump(t) => {
                    flow.merge(pc, t, &st)?;
                    falls = false;
                    break;
                }
                Flow::Return => {
                    falls = false;
                    break;
                }
            }
        }
        if falls {
            if end >= n {
                return Err(cx.err(
                    Rule::FallsOffEnd,
                    n - 1,
                    "execution can run past the last instruction".into(),
                ));
            }
            flow.merge(end - 1, end, &st)?;
        }
    }

    // Unreachable instructions were never checked: make them harmless. A NaN constant
    // becomes the canonical NaN, the only NaN a running program holds (`float`).
    for (instr, seen) in code.iter_mut().zip(&visited) {
        if !seen {
            *instr = Instr::Nop {};
        } else if let Instr::FConst { value } = instr {
            value.0 = crate::float::canonical_bits(value.get());
        }
    }
    maps.sort_unstable_by_key(|m| m.pc);
    let call_ref_args = code
        .iter()
        .enumerate()
        .filter_map(|(pc, instr)| match *instr {
            Instr::CallRef { type_ } => types.func_of_id(type_).map(|sig| CallRefArgs {
                pc: pc as u32,
                args: sig.params.len() as u32,
            }),
            _ => None,
        })
        .collect();
    let FnCx {
        offsets, locals, ..
    } = cx;
    let mut offsets = offsets;
    offsets.truncate(n);
    Ok(VerifiedFunction {
        ops: crate::interpreter::prepare::prepare(&code),
        code,
        offsets,
        param_count: sig.params.len() as u32,
        local_count: locals.len() as u32,
        local_is_ref: locals.iter().map(|t| types.is_ref(*t)).collect(),
        max_stack: f.max_stack,
        result: sig.result,
        stack_maps: maps,
        call_ref_args,
        heights,
    })
}

/// The worklist and the block entry states.
struct Dataflow<'a, 'c, 'm> {
    cx: &'c FnCx<'c, 'm>,
    starts: &'a [u32],
    entry: Vec<Option<State>>,
    queued: Vec<bool>,
    heap: BinaryHeap<Reverse<u32>>,
    budget: &'a mut Budget,
}

impl Dataflow<'_, '_, '_> {
    fn enqueue(&mut self, block: usize, st: State) {
        self.entry[block] = Some(st);
        if !self.queued[block] {
            self.queued[block] = true;
            self.heap.push(Reverse(block as u32));
        }
    }

    fn spend(&mut self, pc: usize, units: u64) -> Result<(), VerifyError> {
        if units > self.budget.work_left {
            return Err(self.cx.err(
                Rule::TooComplex,
                pc,
                "the control flow exceeds the verifier's work budget".into(),
            ));
        }
        self.budget.work_left -= units;
        Ok(())
    }

    /// Joins `st` into the entry state of the block starting at instruction `target`,
    /// reached from instruction `from`.
    fn merge(&mut self, from: usize, target: usize, st: &State) -> Result<(), VerifyError> {
        self.spend(from, (st.stack.len() + st.assigned.len()) as u64)?;
        let Ok(block) = self.starts.binary_search(&(target as u32)) else {
            return Err(self.cx.err(
                Rule::JumpMidInstruction,
                from,
                format!("instruction #{target} does not start a block"),
            ));
        };
        match &mut self.entry[block] {
            None => self.enqueue(block, st.clone()),
            Some(e) => {
                if e.stack != st.stack {
                    let types = self.cx.types;
                    return Err(self.cx.err(
                        Rule::JoinMismatch,
                        from,
                        format!(
                            "the stack at byte {} is {} on one path and {} on another",
                            self.cx.offsets.get(target).copied().unwrap_or(0),
                            types.stack_name(&e.stack),
                            types.stack_name(&st.stack)
                        ),
                    ));
                }
                let mut changed = false;
                for (w, x) in e.assigned.iter_mut().zip(&st.assigned) {
                    let both = *w & *x;
                    changed |= both != *w;
                    *w = both;
                }
                if changed && !self.queued[block] {
                    self.queued[block] = true;
                    self.heap.push(Reverse(block as u32));
                }
            }
        }
        Ok(())
    }
}

fn set_target(instr: &mut Instr, to: u32) {
    match instr {
        Instr::Jmp { target } | Instr::JmpIf { target } | Instr::JmpIfNot { target } => {
            *target = to
        }
        _ => {}
    }
}
