//! The runtime library behind the instructions that do more than move slots: the built-in
//! natives of `call.native`, the host functions of `call.host`, and the array, map and
//! string operations. Both tiers (this interpreter and, later, the JIT) call into these same
//! functions, so a rule such as a bounds check or a limit is written once.

pub mod arrays;
pub mod host;
pub mod maps;
pub mod natives;
pub mod output;
pub mod strings;

/// Reserves room for `extra` more elements, turning an impossible request into a trap
/// instead of a process abort.
pub(crate) fn try_reserve<T>(v: &mut Vec<T>, extra: usize) -> Result<(), crate::trap::TrapKind> {
    v.try_reserve(extra)
        .map_err(|_| crate::trap::TrapKind::OutOfMemory)
}
