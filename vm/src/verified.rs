//! The verifier's output: a module proven safe, with the facts the runtime needs.
//!
//! **The interpreter (and later the JIT) accepts only a [`VerifiedModule`]**, and the only way
//! to make one is `verifier::verify`, so no unverified function is ever executed. This is
//! enforced by the type system, not by convention: every field is private to this crate and
//! other crates get read-only accessors, so safe code elsewhere can neither build a
//! `VerifiedModule` nor change one after verification (not even one it owns). The
//! interpreter's unchecked stack accesses rely on that (see `interpreter::exec`).
//!
//! ```compile_fail
//! // Outside this crate a verified function's proven facts cannot be changed ...
//! fn shrink(m: &mut rvm_vm::verified::VerifiedModule) {
//!     m.functions[0].max_stack = 0;
//! }
//! ```
//! ```compile_fail
//! // ... nor can a `VerifiedModule` be assembled by hand.
//! fn forge(module: rvm_vm::format::Module) -> rvm_vm::verified::VerifiedModule {
//!     rvm_vm::verified::VerifiedModule { module, functions: vec![], global_unset: vec![] }
//! }
//! ``` Everything
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
    pub(crate) module: Module,
    /// Per function, in the module's order.
    pub(crate) functions: Vec<VerifiedFunction>,
    /// Per global: what it holds before `$init` sets it, whether reading it then traps, and
    /// (`GlobalUnset::Ref`) whether it holds a heap reference (a GC root).
    pub(crate) global_unset: Vec<GlobalUnset>,
    /// The runtime summary of every type id, computed once here so that every VM running
    /// this module shares it.
    pub(crate) layouts: Layouts,
}

/// One verified function, ready to interpret.
#[derive(Debug)]
pub struct VerifiedFunction {
    /// The code, with every jump target rewritten from a byte offset to an index into this
    /// vector. Instructions that no path reaches were not verified and are replaced by `nop`.
    pub(crate) code: Vec<Instr>,
    /// The byte offset in the original code of each instruction (for line tables).
    pub(crate) offsets: Vec<u32>,
    /// Number of parameters (they are the first locals).
    pub(crate) param_count: u32,
    /// Parameters plus declared locals.
    pub(crate) local_count: u32,
    /// Per local (parameters first): whether it holds a heap reference.
    pub(crate) local_is_ref: Vec<bool>,
    /// Maximum operand stack depth.
    pub(crate) max_stack: u32,
    /// The result type, if the function returns a value.
    pub(crate) result: Option<TypeId>,
    /// Operand-stack reference maps, sorted by `pc`: one for every instruction before which
    /// the operand stack holds at least one heap reference. An instruction without an entry
    /// has none.
    pub(crate) stack_maps: Vec<StackMap>,
    /// For every `call.ref` instruction, sorted by `pc`: the number of arguments it passes.
    /// The function reference sits just below them, and without the types (gone at run
    /// time) the interpreter could not otherwise find it.
    pub(crate) call_ref_args: Vec<CallRefArgs>,
    /// The operand stack height before each instruction (`u32::MAX` for unreachable ones):
    /// what the JIT needs to give every operand slot a register of its own.
    pub(crate) heights: Vec<u32>,
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
        global_unset: Vec<GlobalUnset>,
    ) -> VerifiedModule {
        VerifiedModule {
            layouts: Layouts::new(&module),
            module,
            functions,
            global_unset,
        }
    }
}

/// A function-typed global's value before `$init` sets it: no function has this index
/// (indices are `u32`), so it can never be mistaken for a function reference.
pub const UNSET_FN: u64 = u64::MAX;

/// What a global holds before the module's initialiser sets it, and what reading it then
/// means. Scalars read as zero (`0`, `0.0`, `false`), as the language specifies; a
/// reference or a function reference has no such default, so reading one that is still
/// unset traps with `global NAME read before initialization` in every tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalUnset {
    /// An `int`, `float` or `bool`: starts as 0 and may be read.
    Zero,
    /// A heap reference: starts as the null handle 0; reading it traps.
    Ref,
    /// A function reference: starts as [`UNSET_FN`]; reading it traps.
    Func,
}

impl GlobalUnset {
    /// The slot's value before initialisation.
    pub fn initial(self) -> u64 {
        match self {
            GlobalUnset::Zero | GlobalUnset::Ref => 0,
            GlobalUnset::Func => UNSET_FN,
        }
    }

    /// Whether reading `value` from such a global is a read before initialisation.
    pub fn is_unset(self, value: u64) -> bool {
        match self {
            GlobalUnset::Zero => false,
            GlobalUnset::Ref => value == 0,
            GlobalUnset::Func => value == UNSET_FN,
        }
    }
}

/// Read-only access, for tools and tests.
impl VerifiedModule {
    /// The module as decoded (or as compiled).
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Per function, in the module's order.
    pub fn functions(&self) -> &[VerifiedFunction] {
        &self.functions
    }

    /// Per global: its value before initialisation and whether reading that traps.
    pub fn global_unset(&self) -> &[GlobalUnset] {
        &self.global_unset
    }

    /// Gives the module back (verification is lost with the wrapper).
    pub fn into_module(self) -> Module {
        self.module
    }
}

/// Read-only access, for tools and tests.
impl VerifiedFunction {
    /// The code, with jump targets as instruction indices and unreachable code as `nop`.
    pub fn code(&self) -> &[Instr] {
        &self.code
    }

    /// The byte offset in the original code of each instruction.
    pub fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    /// Number of parameters.
    pub fn param_count(&self) -> u32 {
        self.param_count
    }

    /// Parameters plus declared locals.
    pub fn local_count(&self) -> u32 {
        self.local_count
    }

    /// Per local: whether it holds a heap reference.
    pub fn local_is_ref(&self) -> &[bool] {
        &self.local_is_ref
    }

    /// Maximum operand stack depth.
    pub fn max_stack(&self) -> u32 {
        self.max_stack
    }

    /// The result type, if the function returns a value.
    pub fn result(&self) -> Option<TypeId> {
        self.result
    }

    /// All operand-stack reference maps, sorted by `pc`.
    pub fn stack_maps(&self) -> &[StackMap] {
        &self.stack_maps
    }

    /// The operand stack height before each instruction (`u32::MAX` if unreachable).
    pub fn heights(&self) -> &[u32] {
        &self.heights
    }

    /// The argument count of every `call.ref`, sorted by `pc`.
    pub fn call_refs(&self) -> &[CallRefArgs] {
        &self.call_ref_args
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
