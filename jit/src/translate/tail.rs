//! Recursive calls in accumulator position become jumps: tail-recursion elimination, with
//! an accumulator for `return a + f(x)`.
//!
//! **Which calls.** A direct call of the function itself is in *accumulator position* when
//! its result is returned at once (`call f; ret`), or first combined with one other integer
//! by `+` or `*` and then returned: the value just under the call's arguments (`return a +
//! f(x)`, `return n * f(n - 1)`) or a constant pushed right after the call (`return f(x) +
//! 1`). Wrapping `+` and `*` are associative and commutative, so the function can carry the
//! pending combination in an accumulator instead of in a native frame: such a call folds
//! the other operand into the accumulator and jumps back to the function's start, and every
//! `ret` of the function combines its value with the accumulator. A function uses one
//! operation for its accumulator (the first such call's); calls with the other stay calls.
//! `main` is left alone (its `ret` ends the program).
//!
//! **Nothing observable changes.** The call still charges its unit of fuel at its `pc`,
//! spills what a call spills, and pushes the callee's frame record inline exactly as a
//! compiled call does, at the same depth and value-stack slots and after the same checks
//! (the whole call through the runtime when they fail, which raises `stack overflow` or
//! grows the storage). Traps, stack traces, the collector's view of the frames, the
//! call-depth limit and fuel are those of the nested calls; only the native frame, with its
//! prologue, epilogue and register saves, is saved. The frame count the function carries
//! (`depth`) and its frame (`base`) become parameters of the loop's header.

use super::{I64, Translator, UNREACHABLE};
use cranelift_codegen::ir::{BlockArg, InstBuilder, Value};
use rvm_vm::format::Instr;
use std::collections::HashMap;

/// How a function's accumulator combines values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Combine {
    Add,
    Mul,
}

impl Combine {
    fn of(instr: Instr) -> Option<Combine> {
        match instr {
            Instr::IAdd {} => Some(Combine::Add),
            Instr::IMul {} => Some(Combine::Mul),
            _ => None,
        }
    }

    /// The accumulator's starting value.
    fn identity(self) -> i64 {
        match self {
            Combine::Add => 0,
            Combine::Mul => 1,
        }
    }
}

/// What a call in accumulator position combines with its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Operand {
    /// Nothing: the result is returned as it is.
    Nothing,
    /// The operand-stack value under the call's arguments.
    Below,
    /// A constant pushed after the call.
    Const(i64),
}

/// The calls of function `index` in accumulator position (`pc` → what they combine with)
/// and the accumulator's operation, if any call needs one.
pub(super) fn accumulator_calls(
    code: &[Instr],
    heights: &[u32],
    index: u32,
    main: Option<u32>,
) -> (HashMap<usize, Operand>, Option<Combine>) {
    let mut sites = HashMap::new();
    let mut combine = None;
    if main == Some(index) {
        return (sites, combine);
    }
    let at = |pc: usize| code.get(pc).copied();
    for (pc, &instr) in code.iter().enumerate() {
        let after = heights.get(pc + 1).copied().unwrap_or(UNREACHABLE);
        if instr != (Instr::Call { func: index })
            || heights[pc] == UNREACHABLE
            || after == UNREACHABLE
        {
            continue;
        }
        let site = match (at(pc + 1), at(pc + 2), at(pc + 3)) {
            (Some(Instr::Ret {}), _, _) => Some((Operand::Nothing, None)),
            (Some(op), Some(Instr::Ret {}), _) if after >= 2 => {
                Combine::of(op).map(|c| (Operand::Below, Some(c)))
            }
            (Some(Instr::IConst { value }), Some(op), Some(Instr::Ret {})) => {
                Combine::of(op).map(|c| (Operand::Const(value), Some(c)))
            }
            _ => None,
        };
        let Some((operand, op)) = site else {
            continue;
        };
        if let Some(op) = op
            && *combine.get_or_insert(op) != op
        {
            continue;
        }
        sites.insert(pc, operand);
    }
    (sites, combine)
}

impl Translator<'_, '_> {
    /// Whether the call at `pc` becomes a jump (see the module docs).
    pub(super) fn loops_back(&self, pc: usize) -> Option<Operand> {
        self.head?;
        self.accumulator_calls.get(&pc).copied()
    }

    /// The end of a call in accumulator position whose callee frame is pushed: folds its
    /// other operand (under the `nargs` arguments on a stack of height `h`) into the
    /// accumulator and jumps to the start with the callee's frame.
    pub(super) fn jump_back(&mut self, h: usize, nargs: usize, operand: Operand, new_base: Value) {
        let Some(head) = self.head else {
            return;
        };
        let depth = self.b.ins().iadd_imm_s(self.depth, 1);
        let arg0 = self.first_arg(h, nargs);
        let mut args = vec![new_base, depth, arg0];
        if let Some((acc, op)) = self.acc {
            let with = match operand {
                Operand::Nothing => None,
                Operand::Below => Some(self.get(h - nargs - 1)),
                Operand::Const(c) => Some(self.b.ins().iconst(I64, c)),
            };
            args.push(match with {
                Some(x) => self.combine(op, acc, x),
                None => acc,
            });
        }
        if self.osr {
            args.push(self.b.ins().iconst(I64, -1));
        }
        let args: Vec<BlockArg> = args.into_iter().map(BlockArg::Value).collect();
        self.b.ins().jump(head, &args);
        self.tail_calls += 1;
    }

    /// The value a `ret` of `result` returns: combined with the accumulator, if any.
    pub(super) fn with_accumulator(&mut self, result: Value) -> Value {
        match self.acc {
            Some((acc, op)) => self.combine(op, acc, result),
            None => result,
        }
    }

    fn combine(&mut self, op: Combine, acc: Value, x: Value) -> Value {
        match op {
            Combine::Add => self.b.ins().iadd(acc, x),
            Combine::Mul => self.b.ins().imul(acc, x),
        }
    }

    /// Starts the loop's header (when the function has a call in accumulator position):
    /// the block every entry and every such call jumps to, with the frame, the frame count,
    /// the first argument, the accumulator and the on-stack-replacement `pc` as
    /// parameters. Returns those to use from here on (but the accumulator).
    pub(super) fn start_head(
        &mut self,
        base: Value,
        depth: Value,
        osr: Value,
        arg0: Value,
    ) -> [Value; 4] {
        if self.accumulator_calls.is_empty() {
            return [base, depth, osr, arg0];
        }
        let head = self.b.create_block();
        let mut args = vec![base, depth, arg0];
        for _ in 0..3 {
            self.b.append_block_param(head, I64);
        }
        if let Some(op) = self.combine {
            self.b.append_block_param(head, I64);
            args.push(self.b.ins().iconst(I64, op.identity()));
        }
        if self.osr {
            self.b.append_block_param(head, I64);
            args.push(osr);
        }
        let args: Vec<BlockArg> = args.into_iter().map(BlockArg::Value).collect();
        self.b.ins().jump(head, &args);
        // Not sealed: the calls that jump here come later.
        self.b.switch_to_block(head);
        self.head = Some(head);
        let params = self.b.block_params(head).to_vec();
        if let Some(op) = self.combine {
            self.acc = Some((params[3], op));
        }
        let osr = if self.osr {
            params[params.len() - 1]
        } else {
            osr
        };
        [params[0], params[1], osr, params[2]]
    }
}
