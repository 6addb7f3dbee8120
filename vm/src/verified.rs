//! The verifier's output: a module proven safe, with the facts the runtime needs.
//!
//! **The interpreter (and later the JIT) accepts only a [`VerifiedModule`]**, and the only way
//! to make one is `verifier::verify`, so no unverified function is ever executed. Everything
//! here is derived from the module by the verifier; the runtime trusts it without
//! re-checking: jump targets are in range, every instruction finds the types it needs, the
//! stack never exceeds `max_stack`, and the stack maps say exactly which slots hold heap
//! references.

use crate::format::{Instr, Module, TypeId};
use crate::heap::Layouts;
use crate::interpreter::prepare::Op;

/// A module that passed verification.
#[derive(Debug)]
pub struct VerifiedModule {
    /// The module as decoded (or as compiled).
    pub module: Module,
    /// Per function, in the module's order.
    pub functions: Vec<VerifiedFunction>,
    /// Per global: whether it holds a heap reference (a GC root).
    pub global_is_ref: Vec<bool>,
    /// The runtime summary of every type id, computed once here so that every VM running
    /// this module shares it.
    pub(crate) layouts: Layouts,
}

/// One verified function, ready to interpret.
#[derive(Debug)]
pub struct VerifiedFunction {
    /// The code, with every jump target rewritten from a byte offset to an index into this
    /// vector. Instructions that no path reaches were not verified and are replaced by `nop`.
    pub code: Vec<Instr>,
    /// The byte offset in the original code of each instruction (for line tables).
    pub offsets: Vec<u32>,
    /// Number of parameters (they are the first locals).
    pub param_count: u32,
    /// Parameters plus declared locals.
    pub local_count: u32,
    /// Per local (parameters first): whether it holds a heap reference.
    pub local_is_ref: Vec<bool>,
    /// Maximum operand stack depth.
    pub max_stack: u32,
    /// The result type, if the function returns a value.
    pub result: Option<TypeId>,
    /// Operand-stack reference maps, sorted by `pc`: one for every instruction before which
    /// the operand stack holds at least one heap reference. An instruction without an entry
    /// has none.
    pub stack_maps: Vec<StackMap>,
    /// For every `call.ref` instruction, sorted by `pc`: the number of arguments it passes.
    /// The function reference sits just below them, and without the types (gone at run
    /// time) the interpreter could not otherwise find it.
    pub call_ref_args: Vec<CallRefArgs>,
    /// The interpreter's form of `code` (with superinstructions, see
    /// `interpreter::prepare`), derived once at verification so that creating a VM costs
    /// nothing per instruction: every VM running this module shares it.
    pub(crate) ops: Box<[Op]>,
}

/// The argument count of the `call.ref` at instruction `pc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallRefArgs {
    /// The instruction index.
    pub pc: u32,
    /// The number of arguments (the referenced function's parameter count).
    pub args: u32,
}

/// Which operand stack slots hold heap references before instruction `pc` executes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackMap {
    /// The instruction index.
    pub pc: u32,
    /// One flag per operand slot, bottom of the operand stack first.
    pub refs: Vec<bool>,
}

impl VerifiedModule {
    /// Assembles the verifier's results, deriving the type layouts the runtime shares. Only
    /// the verifier calls this.
    pub(crate) fn new(
        module: Module,
        functions: Vec<VerifiedFunction>,
        global_is_ref: Vec<bool>,
    ) -> VerifiedModule {
        VerifiedModule {
            layouts: Layouts::new(&module),
            module,
            functions,
            global_is_ref,
        }
    }
}

impl VerifiedFunction {
    /// The stack map before instruction `pc` (empty when no slot holds a reference).
    pub fn stack_map(&self, pc: u32) -> &[bool] {
        match self.stack_maps.binary_search_by_key(&pc, |m| m.pc) {
            Ok(i) => &self.stack_maps[i].refs,
            Err(_) => &[],
        }
    }

    /// The argument count of the `call.ref` at instruction `pc`, if there is one.
    pub fn call_ref_args(&self, pc: u32) -> Option<u32> {
        self.call_ref_args
            .binary_search_by_key(&pc, |c| c.pc)
            .ok()
            .map(|i| self.call_ref_args[i].args)
    }
}
