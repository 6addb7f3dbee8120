//! Counted loops: fuel charged per chunk of iterations instead of at every back edge.
//!
//! **Which loops.** An innermost call-free loop (`hoist`) whose only back edge ends the
//! rotated shape the compiler gives `for i in a..b` and `while i < b { ...; i += 1; }`,
//! all in one basic block:
//!
//! ```text
//! local.get i; i.const 1; i.add; local.set i; local.get i; <bound>; i.ge; jmp.ifnot head
//! ```
//!
//! (the two operands of `i.add` in either order; `i.lt; jmp.if head` alike), where
//! `<bound>` is `i.const` or `local.get` of a local the loop never assigns, and nothing
//! else in the loop assigns `i`. Then every taken back edge adds exactly one to `i`. Each
//! iteration charges the same `U` units: the back edge's distance, plus one per inlined
//! call when the loop has no jump but its back edge (so each call runs once per
//! iteration; inlined bodies charge nothing themselves).
//!
//! **How.** Where a chunk starts — the preheader, an on-stack replacement at the head, and
//! the back edge's cold path — the code computes from the fuel counter `f` and the counter
//! `i0` a limit `m = min(bound, i0 + (max(f, 0) >> s) + 1)` with `2^s >= U`: `i0` plus at
//! most the number of back edges the fuel pays for, plus one. The back edge then only
//! compares: while `i + 1 < m` it jumps back without charging; otherwise its cold path
//! does exactly what the plain back edge does (leave the loop when the bytecode's
//! condition says so; else charge, refill or trap `out of fuel` at the back edge) and
//! starts the next chunk. So every back edge the fuel would not pay for, and every refill
//! point, is reached on the cold path at the same `pc` as in the interpreter. An
//! `i0 + ...` that wraps leaves `m` below `i + 1` (wrapping arithmetic stays consistent:
//! `i + 1` wraps too only from the largest integer, and then within the same distance).
//!
//! With calls, a call's unit is charged before the back edge can check anything, so a
//! chunk pays for whole iterations: `m` lacks the `+ 1`, and the calls' cheap check (the
//! frame room of `inline`) also fails when `f < U`. Its cold path charges the call's unit
//! as a plain call does (refilling or trapping at the call) and moves the chunk's base by
//! what a refill added.
//!
//! **The fuel counter stays exact.** Inside the loop the counter is the pure value
//! `base - i * U` (minus the calls made so far in the iteration), with `base = f + i0 * U`
//! fixed per chunk (wrapping arithmetic, exact because the true value fits). Cranelift
//! computes it only on the cold paths that read it (traps, the refill, leaving the loop).
//! The loop carries `m` and `base` instead of a counter that changes every iteration.

use super::facts::jump_target;
use super::{HoistLoop, I64, Translator};
use cranelift_codegen::ir::{InstBuilder, Value, condcodes::IntCC};
use cranelift_frontend::Variable;
use rvm_vm::format::Instr;

/// What makes a loop counted (see the module docs).
#[derive(Clone, Debug)]
pub(super) struct Counted {
    /// The counter local.
    pub counter: usize,
    /// The bound: a constant or a local the loop never assigns.
    pub bound: Bound,
    /// Whether the back edge is `jmp.if` (on `i.lt`) rather than `jmp.ifnot` (on `i.ge`).
    pub jump_if: bool,
    /// Fuel per iteration: the back edge's distance, plus one per inlined call.
    pub units: i64,
    /// The inlined calls in the loop, in order (each runs once per iteration).
    pub calls: Vec<usize>,
    /// With calls: the frames that fit less one, or less when the fuel at the chunk's
    /// start does not pay for a whole iteration (declared by the translator).
    pub room: Option<Variable>,
    /// The chunk's fuel base and limit (declared by the translator).
    pub vars: Option<(Variable, Variable)>,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Bound {
    Const(i64),
    Local(usize),
}

/// The counted shape of `l` in `code` (whose block starts are `starts`), if it has one.
pub(super) fn shape(
    code: &[Instr],
    starts: &[bool],
    l: &HoistLoop,
    inlined: impl Fn(Instr) -> bool,
) -> Option<Counted> {
    use Instr as I;
    let (head, end) = (l.head, l.end);
    if end < head + 7 {
        return None;
    }
    let jump_if = match (code[end - 1], code[end]) {
        (I::IGe {}, I::JmpIfNot { target }) if target as usize == head => false,
        (I::ILt {}, I::JmpIf { target }) if target as usize == head => true,
        _ => return None,
    };
    // One basic block from the increment to the back edge.
    if (end - 6..=end).any(|pc| starts[pc]) {
        return None;
    }
    let bound = match code[end - 2] {
        I::IConst { value } => Bound::Const(value),
        I::LocalGet { index } => Bound::Local(index as usize),
        _ => return None,
    };
    let I::LocalGet { index } = code[end - 3] else {
        return None;
    };
    let counter = index as usize;
    let is_counter = |i: Instr| matches!(i, I::LocalGet { index } if index as usize == counter);
    let is_one = |i: Instr| matches!(i, I::IConst { value: 1 });
    let increments = matches!(code[end - 4], I::LocalSet { index } if index as usize == counter)
        && matches!(code[end - 5], I::IAdd {})
        && ((is_counter(code[end - 7]) && is_one(code[end - 6]))
            || (is_one(code[end - 7]) && is_counter(code[end - 6])));
    if !increments || matches!(bound, Bound::Local(n) if n == counter) {
        return None;
    }
    let mut calls = Vec::new();
    for (pc, &instr) in code.iter().enumerate().take(end).skip(head) {
        if inlined(instr) {
            calls.push(pc);
        }
        match instr {
            I::LocalSet { index } if pc != end - 4 => {
                let x = index as usize;
                if x == counter || matches!(bound, Bound::Local(n) if n == x) {
                    return None;
                }
            }
            // One back edge, no loop inside.
            _ if jump_target(instr).is_some_and(|t| t <= pc) => return None,
            _ => {}
        }
    }
    // With calls, every one must run once per iteration: no jump at all but the back edge.
    if !calls.is_empty() && (head..end).any(|pc| jump_target(code[pc]).is_some()) {
        return None;
    }
    Some(Counted {
        counter,
        bound,
        jump_if,
        units: (end + 1 - head + calls.len()) as i64,
        calls,
        vars: None,
        room: None,
    })
}

impl Translator<'_, '_> {
    /// The counted loop whose back edge is at `pc`, if any.
    fn counted_at_end(&self, pc: usize) -> Option<(usize, &Counted)> {
        self.loops.iter().find_map(|l| {
            l.counted
                .as_ref()
                .filter(|_| l.end == pc)
                .map(|c| (l.head, c))
        })
    }

    /// Starts a chunk of counted loop `i` (see the module docs) from the current fuel
    /// counter and counter.
    pub(super) fn start_chunk(&mut self, i: usize) {
        let Some(c) = self.loops[i].counted.clone() else {
            return;
        };
        let Some((base_var, limit_var)) = c.vars else {
            return;
        };
        let fuel = self.b.use_var(self.fuel);
        let i0 = self.b.use_var(self.locals[c.counter]);
        let zero = self.b.ins().iconst(I64, 0);
        let f = self.b.ins().smax(fuel, zero);
        let shift = 64 - (c.units as u64 - 1).leading_zeros();
        let q = self.b.ins().ushr_imm_u(f, i64::from(shift));
        // Without calls the back edge is the only charge: one more back edge is paid
        // for (the next iteration's body costs nothing until its own back edge).
        let q1 = match c.room {
            None => self.b.ins().iadd_imm_s(q, 1),
            Some(room_var) => {
                let margin = self.b.use_var(self.room);
                let short = self.b.ins().iadd_imm_s(f, -c.units);
                let room = self.b.ins().smin(margin, short);
                self.b.def_var(room_var, room);
                q
            }
        };
        let mut lim = self.b.ins().iadd(i0, q1);
        if c.room.is_some() {
            // No back edge paid for: `i0 + 1` wraps from the largest integer to below
            // `lim`, so `lim` must be the smallest integer instead.
            let none = self.b.ins().icmp_imm_s(IntCC::Equal, q1, 0);
            let min = self.b.ins().iconst(I64, i64::MIN);
            lim = self.b.ins().select(none, min, lim);
        }
        let bound = self.bound(&c.bound);
        let m = self.b.ins().smin(bound, lim);
        let paid = self.b.ins().imul_imm_s(i0, c.units);
        let base = self.b.ins().iadd(fuel, paid);
        self.b.def_var(limit_var, m);
        self.b.def_var(base_var, base);
    }

    fn bound(&mut self, bound: &Bound) -> Value {
        match *bound {
            Bound::Const(v) => self.b.ins().iconst(I64, v),
            Bound::Local(n) => self.b.use_var(self.locals[n]),
        }
    }

    /// At the head of a counted loop: the fuel counter is `base - i * U` throughout.
    pub(super) fn enter_counted_head(&mut self, pc: usize) {
        let Some(c) = self
            .loops
            .iter()
            .find(|l| l.head == pc)
            .and_then(|l| l.counted.clone())
        else {
            return;
        };
        let Some((base_var, _)) = c.vars else {
            return;
        };
        let base = self.b.use_var(base_var);
        let i = self.b.use_var(self.locals[c.counter]);
        let spent = self.b.ins().imul_imm_s(i, c.units);
        let fuel = self.b.ins().isub(base, spent);
        self.b.def_var(self.fuel, fuel);
    }

    /// The back edge at `pc` of a counted loop, if it is one (its condition `cond` on
    /// top of the operand stack): jumps back while the chunk lasts, else leaves the loop
    /// or charges, refills and starts the next chunk. Returns whether it was.
    pub(super) fn counted_back_edge(&mut self, pc: usize, cond: Value) -> Result<bool, String> {
        let Some((head, c)) = self.counted_at_end(pc) else {
            return Ok(false);
        };
        let c = c.clone();
        let Some((_, limit_var)) = c.vars else {
            return Ok(false);
        };
        let i = self.b.use_var(self.locals[c.counter]);
        let m = self.b.use_var(limit_var);
        let hot = self.b.ins().icmp(IntCC::SignedLessThan, i, m);
        let head_blk = self.block_at(head)?;
        let slow = self.b.create_block();
        self.b.ins().brif(hot, head_blk, &[], slow, &[]);
        self.enter(slow);
        let next = self.edge_to(Some(pc), pc + 1)?;
        let again = self.b.create_block();
        self.b.set_cold_block(again);
        if c.jump_if {
            self.b.ins().brif(cond, again, &[], next, &[]);
        } else {
            self.b.ins().brif(cond, next, &[], again, &[]);
        }
        self.enter(again);
        // The back edge's own charge (the calls charged theirs in the iteration).
        self.tick(c.units as usize - c.calls.len(), pc);
        if let Some(cont) = self.b.current_block() {
            self.b.set_cold_block(cont);
        }
        let Some(i) = self.loops.iter().position(|l| l.head == head) else {
            return Err("counted loop without its loop".into());
        };
        self.start_chunk(i);
        self.b.ins().jump(head_blk, &[]);
        Ok(true)
    }

    /// The counted loop with calls around the inlined call at `pc`, and the call's place
    /// among them.
    fn counted_call(&self, pc: usize) -> Option<(Counted, usize)> {
        self.loops.iter().find_map(|l| {
            let c = l.counted.as_ref()?;
            let k = c.calls.iter().position(|&p| p == pc)?;
            Some((c.clone(), k))
        })
    }

    /// Whether the inlined call at `pc` is in a counted loop: its fuel is then part of the
    /// chunk's, and its room check (returned) also fails when the chunk did not start
    /// with a whole iteration paid for. Otherwise charges the call's unit and returns the
    /// plain room check.
    pub(super) fn inline_call_check(&mut self, pc: usize) -> (Value, bool) {
        match self.counted_call(pc).and_then(|(c, _)| c.room) {
            Some(room_var) => {
                let margin = self.b.use_var(room_var);
                let ok = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, margin, 0);
                (ok, true)
            }
            None => {
                self.tick(1, pc);
                (self.frame_room(pc), false)
            }
        }
    }

    /// The failed check of an inlined call in a counted loop (cold): charges its unit as a
    /// plain call does, then moves the chunk's fuel base by what a refill added, so that
    /// `fuel0 - (i - i0) * U - calls` is the counter again.
    pub(super) fn counted_call_slow(&mut self, pc: usize) {
        let Some((c, k)) = self.counted_call(pc) else {
            return;
        };
        let Some((base_var, _)) = c.vars else {
            return;
        };
        self.tick(1, pc);
        if let Some(cont) = self.b.current_block() {
            self.b.set_cold_block(cont);
        }
        let fuel = self.b.use_var(self.fuel);
        let i = self.b.use_var(self.locals[c.counter]);
        let spent = self.b.ins().imul_imm_s(i, c.units);
        let back = self.b.ins().iadd(fuel, spent);
        let base = self.b.ins().iadd_imm_s(back, k as i64 + 1);
        self.b.def_var(base_var, base);
    }

    /// After the check of an inlined call in a counted loop: the fuel counter, with the
    /// call's unit charged.
    pub(super) fn counted_call_charged(&mut self, pc: usize) {
        let Some((c, k)) = self.counted_call(pc) else {
            return;
        };
        let Some((base_var, _)) = c.vars else {
            return;
        };
        let base = self.b.use_var(base_var);
        let i = self.b.use_var(self.locals[c.counter]);
        let spent = self.b.ins().imul_imm_s(i, c.units);
        let left = self.b.ins().isub(base, spent);
        let fuel = self.b.ins().iadd_imm_s(left, -(k as i64 + 1));
        self.b.def_var(self.fuel, fuel);
    }
}
