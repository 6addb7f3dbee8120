//! Element accesses that cannot be out of bounds: `xs[j]` inside a counting loop `for j in
//! lo..n` (or `for x in xs`) where `n` is `xs.len()` and `lo` is not negative. Such an
//! access is compiled without its index check.
//!
//! **What is proved.** For a call-free loop (see `hoist`) with counter `j` and end `e`, at
//! every instruction of its *zone* (from its header to the counter's increment) `0 <= j <
//! e <= xs.len()`, from these rules, all checked on the bytecode:
//! - **The function changes no array's length**: every reachable instruction compiles
//!   without a call (or is an inlined call), so nothing in the activation can push, pop or
//!   remove, and nothing else runs meanwhile.
//! - **The loop is a counting loop**: it is entered only from the test `j < e` just before
//!   its header, which falls through into it (or by on-stack replacement from a back edge);
//!   each of its back edges is that test (`j >= e` + `jmp.ifnot`, or `j < e` + `jmp.if`);
//!   `e` is a local, `xs.len()` read by each test, or a constant (which bounds no array,
//!   but keeps the counter from wrapping); the loop assigns neither `e` (nor
//!   `xs`) and assigns `j` only by `j = j + 1`, after the zone; and no jump from the
//!   increment on lands inside the zone except on the header. So `j < e` in the zone.
//! - **`e` is at most `xs.len()`**: `e` is `xs.len()` read at each test, or its last
//!   assignment before the guard (in the guard's bytecode block) stores `xs.len()` or a
//!   local every assignment of which stores that length (or another such local; declared
//!   locals start at 0, no more than any length), and `xs` is a local the function never
//!   assigns (a parameter).
//! - **`j` is never negative**: its last assignment before the guard stores a
//!   non-negative constant, a length, or `k + 1` where `k` is the counter of an enclosing
//!   counting loop whose own counter is never negative and the sum lies in that loop's
//!   zone (`k` is below its end there, so the sum does not wrap); and `j + 1` in its own
//!   loop does not wrap for the same reason.
//!
//! The counter's rule needs no array and no call-free function (a call changes no local):
//! every counting loop with a never-negative counter records it (`HoistLoop::nonneg`), for
//! the divisions by constants (`divide`).
//!
//! Every test reads the locals themselves, and no instruction the patterns span is a jump
//! target (but the first), so the values tested are the values stored. An access is
//! compiled unchecked only when its array operand was loaded from `xs` and its index from
//! `j` in the same bytecode block (`Translator::origin`), so the operands are the locals'
//! current values. `tests/jit_bounds.rs` breaks each rule and checks that the access still
//! traps where the interpreter's does.

use super::UNREACHABLE;
use super::facts::{block_starts, jump_target};
use super::hoist::HoistLoop;
use rvm_vm::format::Instr;

/// Where the value a `local.set` at `pc` stores comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Const(i64),
    Local(usize),
    /// The length of the array in a local.
    LenOf(usize),
    /// A length of another array.
    Len,
    /// `local + 1`, the `local.get` at the given `pc`.
    Inc(usize, usize),
    Unknown,
}

/// What is known of a local's bound (see `find`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bound {
    /// Always 0 so far: no more than any length.
    Zero,
    /// Never more than the length of the array in this local.
    LenOf(usize),
    Unknown,
}

impl Bound {
    fn meet(self, other: Bound) -> Bound {
        match (self, other) {
            (Bound::Zero, b) | (b, Bound::Zero) => b,
            (Bound::LenOf(x), Bound::LenOf(y)) if x == y => Bound::LenOf(x),
            _ => Bound::Unknown,
        }
    }
}

/// What a counting loop's test compares its counter with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// A local.
    Local(usize),
    /// The length of the array in a local, read at each test.
    LenOf(usize),
    /// A constant (no length bound, but the counter stays below it: it does not wrap).
    Const(i64),
}

/// A counting loop: its header, counter and end, the last `pc` of its zone, and what its
/// counter and end hold when the guard lets it in (the last assignments before the guard).
struct Counted {
    head: usize,
    counter: usize,
    end: End,
    zone_end: usize,
    counter_entry: Option<Source>,
    end_entry: Option<Source>,
}

/// Finds the accesses of `loops` (the function's call-free loops, outermost first) that
/// need no index check, recording them in each loop's `in_bounds`. `call_free` says
/// whether the whole function compiles without calls; `params` is its parameter count.
pub(super) fn find(
    code: &[Instr],
    heights: &[u32],
    params: usize,
    locals: usize,
    call_free: bool,
    loops: &mut [HoistLoop],
) {
    if loops.is_empty() {
        return;
    }
    let c = Code::new(code, heights, locals);
    let (source, stores) = (|s: usize| c.source(s), &c.stores);
    let never_assigned = |x: usize| stores.get(x).is_some_and(Vec::is_empty);

    // Locals every assignment of which is a length of the array in one local that is never
    // assigned (or 0, where they start): the greatest fixed point.
    let mut bound: Vec<Bound> = (0..locals)
        .map(|l| {
            if l >= params {
                Bound::Zero
            } else {
                Bound::Unknown
            }
        })
        .collect();
    loop {
        let mut changed = false;
        for l in params..locals {
            let b = stores[l].iter().fold(Bound::Zero, |acc, &s| {
                acc.meet(match source(s) {
                    Source::LenOf(x) if never_assigned(x) => Bound::LenOf(x),
                    Source::Local(m) => bound.get(m).copied().unwrap_or(Bound::Unknown),
                    Source::Const(0) => Bound::Zero,
                    _ => Bound::Unknown,
                })
            });
            if b != bound[l] {
                bound[l] = b;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    // Counting loops, outermost first, with whether each counter is never negative: its
    // value on entry is not, and its increment cannot wrap (it is below the end there).
    let mut counted: Vec<(Counted, bool)> = Vec::new();
    for l in loops.iter() {
        let Some(counting) = counted_loop(&c, l) else {
            continue;
        };
        let nonneg = match counting.counter_entry {
            Some(Source::Const(v)) => v >= 0,
            Some(Source::LenOf(_) | Source::Len) => true,
            Some(Source::Inc(k, at)) => counted
                .iter()
                .any(|(o, ok)| *ok && o.counter == k && (o.head..=o.zone_end).contains(&at)),
            _ => false,
        };
        counted.push((counting, nonneg));
    }
    for (counting, _) in counted.iter().filter(|(_, nonneg)| *nonneg) {
        if let Some(l) = loops.iter_mut().find(|l| l.head == counting.head) {
            l.nonneg = Some((counting.counter, counting.zone_end));
        }
    }
    // Only a function that resizes no array keeps a length bound through its loops.
    if !call_free {
        return;
    }
    for (counting, nonneg) in counted {
        if !nonneg {
            continue;
        }
        // The array whose length bounds the end.
        let array = match (counting.end, counting.end_entry) {
            (End::LenOf(x), _) => Some(x),
            (End::Local(_), Some(Source::LenOf(x))) if never_assigned(x) => Some(x),
            (End::Local(_), Some(Source::Local(m))) => match bound.get(m) {
                Some(&Bound::LenOf(x)) => Some(x),
                _ => None,
            },
            _ => None,
        };
        if let Some(x) = array
            && let Some(l) = loops.iter_mut().find(|l| l.head == counting.head)
        {
            l.in_bounds = Some((x, counting.counter, counting.zone_end));
        }
    }
}

/// The function's bytecode with what the rules read of it: where blocks start and where
/// each local is assigned.
struct Code<'c> {
    code: &'c [Instr],
    heights: &'c [u32],
    starts: Vec<bool>,
    /// Per local, the `pc`s of its reachable `local.set`s.
    stores: Vec<Vec<usize>>,
}

impl<'c> Code<'c> {
    fn new(code: &'c [Instr], heights: &'c [u32], locals: usize) -> Self {
        let mut c = Code {
            code,
            heights,
            starts: block_starts(code, heights),
            stores: vec![Vec::new(); locals],
        };
        for (pc, &instr) in code.iter().enumerate() {
            if let Instr::LocalSet { index } = instr
                && c.live(pc)
                && let Some(s) = c.stores.get_mut(index as usize)
            {
                s.push(pc);
            }
        }
        c
    }

    fn live(&self, pc: usize) -> bool {
        self.heights.get(pc).is_some_and(|&h| h != UNREACHABLE)
    }

    /// Whether `pc`s `from..=to` run one after the other: `from` is reachable and none of
    /// the others is a jump target.
    fn straight(&self, from: usize, to: usize) -> bool {
        (from + 1..=to).all(|p| !self.starts[p]) && self.live(from)
    }

    /// Where the value the `local.set` at `s` stores comes from.
    fn source(&self, s: usize) -> Source {
        let at = |k: usize| {
            s.checked_sub(k)
                .filter(|&p| self.straight(p, s))
                .map(|p| self.code[p])
        };
        match (at(1), at(2), at(3)) {
            (Some(Instr::IConst { value }), _, _) => Source::Const(value),
            (Some(Instr::LocalGet { index }), _, _) => Source::Local(index as usize),
            (Some(Instr::ArrLen {}), Some(Instr::LocalGet { index }), _) => {
                Source::LenOf(index as usize)
            }
            (Some(Instr::ArrLen {}), _, _) => Source::Len,
            (
                Some(Instr::IAdd {}),
                Some(Instr::IConst { value: 1 }),
                Some(Instr::LocalGet { index }),
            ) => Source::Inc(index as usize, s - 3),
            _ => Source::Unknown,
        }
    }
}

/// Loop `l` as a counting loop, if it is one (see the module docs).
fn counted_loop(c: &Code<'_>, l: &HoistLoop) -> Option<Counted> {
    let (code, stores) = (c.code, &c.stores);
    let (h, end) = (l.head, l.end);
    let inside = |pc: usize| (h..=end).contains(&pc);
    // The test before the jump at `at`: `local.get j; local.get e; cmp` or `local.get j;
    // local.get x; arr.len; cmp`, none of it but the first a jump target.
    let test = |at: usize, cmp: Instr| -> Option<(usize, End)> {
        let get = |p: usize| match code.get(p) {
            Some(&Instr::LocalGet { index }) => Some(index as usize),
            _ => None,
        };
        if at >= 4
            && code[at - 1] == cmp
            && matches!(code[at - 2], Instr::ArrLen {})
            && c.straight(at - 4, at)
        {
            return Some((get(at - 4)?, End::LenOf(get(at - 3)?)));
        }
        if at >= 3 && code[at - 1] == cmp && c.straight(at - 3, at) {
            let end = match code[at - 2] {
                Instr::IConst { value } => End::Const(value),
                _ => End::Local(get(at - 2)?),
            };
            return Some((get(at - 3)?, end));
        }
        None
    };
    // Entered from the guard just before the header, which falls through when `j < e`.
    let guard = h.checked_sub(1)?;
    let Instr::JmpIfNot { target } = code[guard] else {
        return None;
    };
    if (target as usize) <= end || !c.live(guard) {
        return None;
    }
    let (j, e) = test(guard, Instr::ILt {})?;
    // Every back edge is that test; nothing else jumps to the header.
    for (pc, &instr) in code.iter().enumerate() {
        if jump_target(instr) != Some(h) || !c.live(pc) {
            continue;
        }
        if !inside(pc) {
            return None;
        }
        let tested = match instr {
            Instr::JmpIfNot { .. } => test(pc, Instr::IGe {}),
            Instr::JmpIf { .. } => test(pc, Instr::ILt {}),
            _ => None,
        };
        if tested != Some((j, e)) {
            return None;
        }
    }
    // The end's local (or the array) is never assigned in the loop, the counter once, by
    // its increment.
    let e_local = match e {
        End::Local(x) | End::LenOf(x) => Some(x),
        End::Const(_) => None,
    };
    if let Some(x) = e_local
        && stores.get(x)?.iter().any(|&s| inside(s))
    {
        return None;
    }
    let mut incs = stores.get(j)?.iter().filter(|&&s| inside(s));
    let (Some(&s), None) = (incs.next(), incs.next()) else {
        return None;
    };
    let Source::Inc(k, zone_end) = c.source(s) else {
        return None;
    };
    if k != j || zone_end < h {
        return None;
    }
    // No jump from the increment on lands inside the zone other than on the header.
    let lands_inside = code.iter().enumerate().any(|(pc, &instr)| {
        (zone_end..=end).contains(&pc) && jump_target(instr).is_some_and(|t| t > h && t <= zone_end)
    });
    if lands_inside {
        return None;
    }
    // What the counter and the end's local hold at the guard: their last assignments in
    // the guard's bytecode block.
    let block_start = (0..=guard).rev().find(|&p| c.starts[p])?;
    let entry = |x: usize| {
        stores[x]
            .iter()
            .rev()
            .find(|&&s| (block_start..guard).contains(&s))
            .map(|&s| c.source(s))
    };
    Some(Counted {
        head: h,
        counter: j,
        end: e,
        zone_end,
        counter_entry: entry(j),
        end_entry: e_local.and_then(entry),
    })
}
