//! Host functions provided by an embedding application (`extern fn app.log(msg: str);` in
//! the guest, a Rust closure in the host).
//!
//! **Why a second kind of import.** The built-in host functions ([`HostFn`]) are a fixed table
//! that every VM provides, so the verifier can check an import against it at load time. An
//! embedder's functions are only known when a sandbox is created, so the bytecode records
//! them like any other import (`module.name` plus a function type), the verifier only checks
//! that their signature uses boundary types ([`is_boundary_type`]: values that can be
//! converted to and from Rust without sharing the guest heap), and *linking* (in the root
//! crate's embedding API) checks each one against the closure registered under that name.
//! An import whose module is a built-in host module (`fs`, `os`, ...) is always a built-in
//! one; any other module name is an embedder namespace.
//!
//! At run time the interpreter resolves every import once, in `Vm::new`, to an [`ImportFn`]:
//! a built-in [`HostFn`] or an index into the VM's [`Externs`] table; a `call.host` is then
//! a `match` and an indirect call, never a lookup by name.

use std::sync::Arc;

use super::HostFn;
use crate::format::{Module, TypeDef, TypeId};
use crate::heap::Heap;
use crate::trap::TrapKind;

/// A host function implemented by the embedder. The root crate wraps typed Rust closures in
/// this interface; it sees raw slots, one per parameter, and the VM's heap to read string,
/// array and map arguments and to allocate its result.
pub trait ExternFn: Send + Sync + std::fmt::Debug {
    /// Calls the function. `args` holds one slot per parameter of the import's signature
    /// (which linking has checked against this function); the result must be a slot of the
    /// signature's result type, or `None` when it has none. An `Err` traps the guest.
    fn call(&self, args: &[u64], heap: &mut Heap) -> Result<Option<u64>, TrapKind>;
}

/// The embedder functions a VM may call, indexed like the module's import table: entry `i`
/// serves import `i` when that import is an embedder import, and is `None` otherwise.
/// Shared (an `Arc`), so that creating a VM from a linked module copies nothing.
pub type Externs = Arc<[Option<Arc<dyn ExternFn>>]>;

/// An empty [`Externs`] table (for VMs that run modules without embedder imports).
pub fn no_externs() -> Externs {
    Arc::from(Vec::new())
}

/// An import resolved for execution: what `call.host` with that import index calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFn {
    /// A built-in host function.
    Host(HostFn),
    /// An embedder function: entry `index` of the VM's [`Externs`], taking `params`
    /// arguments.
    Extern {
        /// The import index (and the index into [`Externs`]).
        index: u32,
        /// The number of parameters.
        params: u32,
    },
}

impl ImportFn {
    /// The number of arguments a call pops.
    #[inline]
    pub fn param_count(self) -> usize {
        match self {
            ImportFn::Host(h) => h.params().len(),
            ImportFn::Extern { params, .. } => params as usize,
        }
    }
}

/// Namespaces reserved for the VM besides the host modules of [`HostFn`]: the built-in
/// namespaces of the language (`math`, `int`, `float`) and host modules planned but not yet
/// provided (`net`). An import from one of them is never an embedder import.
pub const RESERVED_MODULES: &[&str] = &["math", "int", "float", "net"];

/// Whether `module` names an embedder namespace rather than a built-in or reserved one.
pub fn is_embedder_module(module: &str) -> bool {
    !HostFn::is_module(module) && !RESERVED_MODULES.contains(&module)
}

/// Whether values of type `ty` may cross the embedding boundary: `int`, `float`, `bool`,
/// `str`, and arrays and maps of those (nested). Structs and function references are
/// excluded: they only mean something inside one VM. Depth is bounded so that a crafted
/// type table cannot recurse deeply.
pub fn is_boundary_type(m: &Module, ty: TypeId) -> bool {
    boundary(m, ty, 16)
}

fn boundary(m: &Module, ty: TypeId, depth: u32) -> bool {
    if depth == 0 {
        return false;
    }
    match m.types.get(ty as usize) {
        Some(TypeDef::Int | TypeDef::Float | TypeDef::Bool | TypeDef::Str) => true,
        Some(TypeDef::Array(e)) => boundary(m, *e, depth - 1),
        Some(TypeDef::Map(k, v)) => boundary(m, *k, depth - 1) && boundary(m, *v, depth - 1),
        Some(TypeDef::Struct(_) | TypeDef::Func(_)) | None => false,
    }
}

/// Resolves import `index` of `m` for execution: a built-in host function, or an embedder
/// function present in `externs`. The error says what is missing.
pub fn resolve_import(m: &Module, index: usize, externs: &Externs) -> Result<ImportFn, String> {
    let Some(imp) = m.imports.get(index) else {
        return Err(format!("import #{index} does not exist"));
    };
    if let Some(h) = HostFn::lookup(&imp.module, &imp.name) {
        return Ok(ImportFn::Host(h));
    }
    let params = match m.types.get(imp.ty as usize) {
        Some(TypeDef::Func(f)) => f.params.len() as u32,
        _ => {
            return Err(format!(
                "import {}.{} has no function type",
                imp.module, imp.name
            ));
        }
    };
    match externs.get(index) {
        Some(Some(_)) => Ok(ImportFn::Extern {
            index: index as u32,
            params,
        }),
        _ => Err(format!(
            "the module imports {}.{}: {}, which the host does not provide",
            imp.module,
            imp.name,
            m.type_name(imp.ty)
        )),
    }
}
