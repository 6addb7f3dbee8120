//! The bytecode verifier: proves a decoded [`Module`] safe to run, once, at load time.
//!
//! The interpreter and the JIT skip every check that can be done statically, so they trust
//! this module completely; [`verify`] is the only way to make the
//! [`VerifiedModule`] they accept. In the style of Cranelift's verifier, every rule is
//! listed here with its stable short name (the [`Rule`] variant, and the name shown in
//! [`VerifyError`]'s message); `spec/verifier.md` gives each one's rationale.
//!
//! The rules run in this order, and the first violation is reported.
//!
//! **The type table**
//! - `type-index`: every type id (in the table, a signature, a local, a global, an import,
//!   an instruction's type operand) is in range.
//! - `type-forward-reference`: a non-struct type refers only to earlier entries or to
//!   structs, so no type is infinite (structs are nominal and may be recursive).
//! - `type-duplicate`: no non-struct type appears twice, so equal ids mean equal types.
//! - `map-key-type`: map keys are `int`, `str` or `bool`.
//! - `not-a-func-type`: function and import signatures, and `call.ref`'s type operand, are
//!   function types.
//!
//! **Module structure**
//! - `unknown-import`: every import names a host function of this VM
//!   ([`crate::host::HostFn::lookup`]).
//! - `import-signature`: and has exactly its signature (`[str]` for `StrArray`).
//! - `too-many-locals`: at most 65535 parameters and locals per function.
//! - `max-stack-too-large`: a declared `max_stack` of at most 65535.
//! - `code-too-large`: at most 16 MiB of code per function.
//! - `empty-code`: every function has code.
//! - `function-index`: exports, entry points, `call` and `fn.ref` name existing functions.
//! - `duplicate-export`: export names are unique.
//! - `init-signature`: the initialiser has type `fn()`.
//! - `main-signature`: `main` has type `fn()` or `fn() -> int`.
//! - `line-table-order`: line tables are sorted by offset.
//! - `line-table-offset`: their offsets lie inside the code.
//! - `file-index`: their file indices are in range.
//!
//! **Control flow**
//! - `jump-out-of-bounds`: jump targets lie inside the code.
//! - `jump-mid-instruction`: jump targets are instruction boundaries.
//! - `falls-off-end`: no path runs past the last instruction.
//! - `too-complex`: the analysis stays within its work and memory budget (see below).
//!
//! **The abstract interpretation** (one pass over each function's reachable code,
//! tracking the operand stack's types and the definitely assigned locals)
//! - `stack-underflow`: an instruction finds at least the operands it pops.
//! - `stack-overflow`: the stack never grows deeper than the declared `max_stack`.
//! - `type-mismatch`: every operand has the type the instruction needs (natives by their
//!   scalar signature, `call.ref` on its declared function type, `r.eq` on two values of
//!   one array, map, struct or function type, `arr.join` on `[str]`, `arr.sort_by` with a
//!   `fn(T, T) -> int`, `field.get`/`field.set` on a struct).
//! - `join-mismatch`: every path into an instruction brings the same stack height and types.
//! - `return-mismatch`: `ret` finds exactly the result (or nothing) on the stack.
//! - `bool-const`: `b.const` is 0 or 1.
//! - `uninitialized-local`: `local.get` reads only locals written on every path to it
//!   (parameters are written on entry).
//! - `immutable-global`: `global.set` on an immutable global only in the initialiser.
//! - `not-printable`: `to_str` only on printable types (no function types, even inside
//!   containers).
//! - `not-sortable`: `arr.sort` only on `[int]`, `[float]` or `[str]`.
//! - `bad-type-operand`: a type operand has the needed shape: `s.split`/`s.chars` `[str]`,
//!   `map.keys`/`map.values` `[K]`/`[V]`, `arr.new`/`arr.fill` an array, `map.new` a map,
//!   `struct.new` a struct.
//! - `string-index`, `global-index`, `import-index`, `local-index`, `field-index`,
//!   `native-index`: the instruction's index operand is in range.
//!
//! **Bounded work.** Every size a file can declare is capped (locals, `max_stack`, code), and
//! the analysis spends a budget proportional to the code (plus a fixed allowance per
//! module) on block visits and stack maps, so a crafted file cannot make verification slow
//! or large: `too-complex` refuses what exceeds it. Compiled code from `rvmc` stays far
//! below the budget.
//!
//! **What the output holds.** Jump targets become instruction indices; instructions that
//! no path reaches are never checked and are replaced by `nop`, so every instruction a
//! consumer sees was verified. Stack maps record, for every reachable instruction before
//! which the stack holds a reference, which slots do; `call_ref_args` gives each
//! `call.ref`'s argument count.

mod code;
mod instr;
mod module;
mod rule;
mod types;

pub use rule::Rule;

use crate::format::Module;
use crate::verified::{GlobalUnset, VerifiedModule};

/// The most parameters plus locals a function may declare.
pub const MAX_LOCALS: u32 = 65535;
/// The largest `max_stack` a function may declare.
pub const MAX_STACK: u32 = 65535;
/// The most code bytes one function may hold.
pub const MAX_CODE_BYTES: u32 = 16 << 20;
/// The most definite-assignment bitset words (blocks × locals / 64) for one function.
const MAX_BITSET_WORDS: u64 = 1 << 22;
/// The fixed work allowance per module, on top of the allowance proportional to the code.
const BASE_WORK: u64 = 1 << 25;
/// The most stack-map slots a module may need in total.
const MAX_STACK_MAP_SLOTS: u64 = 1 << 26;

/// Why a module failed verification: the rule, where, and a human message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// The rule that was broken.
    pub rule: Rule,
    /// The function index, when the problem is in a function.
    pub function: Option<u32>,
    /// The function's name, when the problem is in a function.
    pub function_name: Option<String>,
    /// The instruction's byte offset in the function's code, when at an instruction.
    pub offset: Option<u32>,
    /// What is wrong, for people.
    pub message: String,
}

impl VerifyError {
    /// An error about the module as a whole.
    pub(crate) fn module(rule: Rule, message: String) -> VerifyError {
        VerifyError {
            rule,
            function: None,
            function_name: None,
            offset: None,
            message,
        }
    }

    /// An error about function `index` as a whole.
    pub(crate) fn in_function(rule: Rule, index: u32, name: &str, message: String) -> Self {
        VerifyError {
            rule,
            function: Some(index),
            function_name: Some(name.to_owned()),
            offset: None,
            message,
        }
    }

    /// An error at the instruction at byte `offset` of function `index`.
    pub(crate) fn at(rule: Rule, index: u32, name: &str, offset: u32, message: String) -> Self {
        VerifyError {
            offset: Some(offset),
            ..VerifyError::in_function(rule, index, name, message)
        }
    }
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(name) = &self.function_name {
            write!(f, "function `{name}`")?;
            if let Some(offset) = self.offset {
                write!(f, " at byte {offset}")?;
            }
            f.write_str(": ")?;
        }
        write!(f, "[{}] {}", self.rule, self.message)
    }
}

impl std::error::Error for VerifyError {}

/// What the analysis may still spend, module-wide.
#[derive(Debug)]
struct Budget {
    /// Work units (instructions and bitset words visited, stack slots copied) left.
    work_left: u64,
    /// Stack-map slots left.
    map_slots_left: u64,
}

/// Verifies `module`, returning it with the facts the runtime needs, or the first rule it
/// breaks. Never panics, and runs in time and memory proportional to the module's size.
pub fn verify(module: Module) -> Result<VerifiedModule, VerifyError> {
    let (functions, global_unset) = {
        let types = types::Types::check(&module)?;
        module::check_imports(&module, &types)?;
        module::check_globals(&module, &types)?;
        for (i, f) in module.functions.iter().enumerate() {
            module::check_function_header(&module, &types, i as u32, f)?;
        }
        module::check_exports_and_entry(&module, &types)?;
        let mut budget = Budget {
            work_left: BASE_WORK,
            map_slots_left: MAX_STACK_MAP_SLOTS,
        };
        let mut functions = Vec::with_capacity(module.functions.len());
        for i in 0..module.functions.len() {
            functions.push(code::verify_function(
                &module,
                &types,
                i as u32,
                &mut budget,
            )?);
        }
        let global_unset = module
            .globals
            .iter()
            .map(|g| {
                let ty = types.of(g.ty);
                if types.is_ref(ty) {
                    GlobalUnset::Ref
                } else if types.is_fn(ty) {
                    GlobalUnset::Func
                } else {
                    GlobalUnset::Zero
                }
            })
            .collect();
        (functions, global_unset)
    };
    Ok(VerifiedModule::new(module, functions, global_unset))
}
