//! Callees' early exits inlined at their call sites (partial inlining).
//!
//! Many functions begin by testing for a trivial case and returning at once (`if n < 2 {
//! return n; }`). A callee's *prefix* is its code before the first instruction that could
//! make its frame observable or change anything outside its own locals: a call, anything
//! that can trap or allocate, a backward jump (which charges fuel), a store to a global
//! (`inline::frameless` without `global.set`), cut at [`MAX_PREFIX`] instructions. When a
//! prefix holds a reachable `ret`, a direct call of the function runs the prefix inline on
//! the arguments:
//!
//! - reaching a `ret`, the call is complete: no frame record and no native call were
//!   needed, since nothing in the prefix could observe the frame;
//! - leaving the prefix (a jump or fall-through past its end), the caller pushes the frame
//!   and makes the call as usual; the callee runs from its start, repeating the prefix,
//!   which changed nothing but its own locals.
//!
//! The call's unit of fuel is charged before, and the callee's frame fits (the caller runs
//! compiled only when one more frame fits, see `Translator::check_room`), so fuel, limits
//! and traces are unchanged.

use super::facts::block_starts;
use super::inline::frameless;
use super::{I64, Translator, UNREACHABLE};
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder};
use rvm_vm::format::Instr;
use rvm_vm::verified::VerifiedModule;

/// The longest prefix (in instructions) inlined.
pub(super) const MAX_PREFIX: usize = 16;

/// Where the prefix of function `f` ends, when it holds a reachable `ret` (see the module
/// docs).
pub(super) fn prefix_end(module: &VerifiedModule, f: u32) -> Option<usize> {
    let vf = module.functions().get(f as usize)?;
    let code = vf.code();
    let heights = vf.heights();
    let starts = block_starts(code, heights);
    let end = (0..code.len().min(MAX_PREFIX))
        .find(|&pc| {
            heights[pc] != UNREACHABLE
                && (matches!(code[pc], Instr::GlobalSet { .. })
                    || !frameless(module, code, &starts, pc))
        })
        .unwrap_or(code.len().min(MAX_PREFIX));
    (0..end)
        .any(|pc| heights[pc] != UNREACHABLE && code[pc] == Instr::Ret {})
        .then_some(end)
}

impl Translator<'_, '_> {
    /// The early exit of a direct call of `f` with `nargs` arguments on top of an operand
    /// stack of height `h`: the prefix of `f` (ending at `end`) runs on the arguments; a
    /// `ret` jumps to `join` with the result's bits, leaving the prefix jumps to `bail`.
    pub(super) fn early_exit(
        &mut self,
        f: u32,
        (h, nargs): (usize, usize),
        end: usize,
        join: Block,
        bail: Block,
    ) -> Result<(), String> {
        let callee = self
            .module
            .functions()
            .get(f as usize)
            .ok_or("call of a function out of range")?;
        let (result, result_raw) = self.result_vars(callee);
        let done = self.b.create_block();
        let mut state = self.callee_state(f, h, nargs, (done, result, result_raw))?;
        // Every way out of the prefix goes to `bail`.
        for blk in state.blocks.iter_mut().skip(end) {
            if blk.is_some() {
                *blk = Some(bail);
            }
        }
        state.bail = Some((end, bail));
        self.swap_fn_state(&mut state);
        self.zero_stack();
        let first = self.edge_to(None, 0);
        let body = first.and_then(|first| {
            self.b.ins().jump(first, &[]);
            self.body(0)
        });
        self.swap_fn_state(&mut state);
        body?;
        self.early_exits += 1;

        self.enter(done);
        let r = if callee.result().is_some() {
            let r = self.b.use_var(result);
            self.as_i64(r)
        } else {
            self.b.ins().iconst(I64, 0)
        };
        self.b.ins().jump(join, &[BlockArg::Value(r)]);
        Ok(())
    }
}
