//! What the translator knows before translating: which instructions start blocks, which
//! compile to plain code, which natives and locals get special treatment. Pure functions of
//! the verified bytecode.

use super::{F64, I64, UNREACHABLE};
use cranelift_codegen::ir::Type;
use rvm_vm::format::{Instr, TypeDef};
use rvm_vm::verified::VerifiedModule;

/// The jump target of `instr`, if it is a jump.
pub(super) fn jump_target(instr: Instr) -> Option<usize> {
    match instr {
        Instr::Jmp { target } | Instr::JmpIf { target } | Instr::JmpIfNot { target } => {
            Some(target as usize)
        }
        _ => None,
    }
}

/// The reachable backward jumps of a function, as `(from, target)` with `target <= from`:
/// loop back-edges (a loop's header is the target).
pub(super) fn backward_jumps<'c>(
    code: &'c [Instr],
    heights: &'c [u32],
) -> impl Iterator<Item = (usize, usize)> + 'c {
    code.iter().enumerate().filter_map(|(pc, &instr)| {
        let t = jump_target(instr)?;
        (t <= pc && heights[pc] != UNREACHABLE).then_some((pc, t))
    })
}

/// The Cranelift types of function `f`'s locals (its parameters first): floats as `F64`,
/// everything else as its `I64` bits.
pub(super) fn local_types(module: &VerifiedModule, f: u32) -> Result<Vec<Type>, String> {
    let types = &module.module().types;
    Ok(local_type_ids(module, f)?
        .map(|t| match types.get(t as usize) {
            Some(TypeDef::Float) => F64,
            _ => I64,
        })
        .collect())
}

/// The type ids of function `f`'s locals (its parameters first).
pub(super) fn local_type_ids(
    module: &VerifiedModule,
    f: u32,
) -> Result<impl Iterator<Item = u32> + '_, String> {
    let m = module.module();
    let mf = m
        .functions
        .get(f as usize)
        .ok_or("function index out of range")?;
    let Some(TypeDef::Func(fty)) = m.types.get(mf.ty as usize) else {
        return Err("function without a function type".into());
    };
    Ok(fty.params.iter().chain(&mf.locals).copied())
}

/// Instructions compiled to inline code that can neither trap nor call anything that
/// could change the heap (`f.rem` calls the pure `fmod`).
pub(super) fn plain(instr: Instr) -> bool {
    use Instr as I;
    matches!(
        instr,
        I::Nop {}
            | I::Pop {}
            | I::IConst { .. }
            | I::FConst { .. }
            | I::BConst { .. }
            | I::FnRef { .. }
            | I::SConst { .. }
            | I::LocalGet { .. }
            | I::LocalSet { .. }
            | I::GlobalSet { .. }
            | I::Dup {}
            | I::IAdd {}
            | I::ISub {}
            | I::IMul {}
            | I::INeg {}
            | I::IAnd {}
            | I::IOr {}
            | I::IXor {}
            | I::IShl {}
            | I::IShr {}
            | I::IEq {}
            | I::BEq {}
            | I::REq {}
            | I::INe {}
            | I::BNe {}
            | I::RNe {}
            | I::ILt {}
            | I::ILe {}
            | I::IGt {}
            | I::IGe {}
            | I::FAdd {}
            | I::FSub {}
            | I::FMul {}
            | I::FDiv {}
            | I::FRem {}
            | I::FNeg {}
            | I::FEq {}
            | I::FNe {}
            | I::FLt {}
            | I::FLe {}
            | I::FGt {}
            | I::FGe {}
            | I::BNot {}
            | I::IToF {}
            | I::FToI {}
    )
}

/// Per local, whether it is a declared float local every assignment of which stores the
/// value an instruction just before it (in the same block) produced, and that value's
/// exact bits are the canonical form of whatever NaN the compiled code computed: float
/// arithmetic (canonicalised, see `set_arith`), `f.rem` and the float natives (canonical
/// results), `i.to_f` and non-NaN constants (never NaN).
pub(super) fn canonical_of_raw(
    code: &[Instr],
    heights: &[u32],
    starts: &[bool],
    local_types: &[Type],
    params: usize,
) -> Vec<bool> {
    use Instr as I;
    let mut ok: Vec<bool> = local_types
        .iter()
        .enumerate()
        .map(|(i, &t)| t == F64 && i >= params)
        .collect();
    for (pc, &instr) in code.iter().enumerate() {
        let I::LocalSet { index } = instr else {
            continue;
        };
        if heights[pc] == UNREACHABLE {
            continue;
        }
        let produced = pc > 0
            && !starts[pc]
            && match code[pc - 1] {
                I::FAdd {} | I::FSub {} | I::FMul {} | I::FDiv {} | I::FRem {} | I::IToF {} => true,
                I::FConst { value } => !f64::from_bits(value.0).is_nan(),
                I::CallNative { native } => is_inline_float_native(native),
                _ => false,
            };
        if !produced && let Some(o) = ok.get_mut(index as usize) {
            *o = false;
        }
    }
    ok
}

/// Which instructions start a basic block: the first, every jump target, and every
/// instruction after a jump or a `ret`.
pub(super) fn block_starts(code: &[Instr], heights: &[u32]) -> Vec<bool> {
    let n = code.len();
    let mut start = vec![false; n];
    if n > 0 {
        start[0] = true;
    }
    for (pc, &instr) in code.iter().enumerate() {
        if heights[pc] == UNREACHABLE {
            continue;
        }
        let next = pc + 1;
        if let Some(t) = jump_target(instr) {
            if let Some(s) = start.get_mut(t) {
                *s = true;
            }
            if next < n {
                start[next] = true;
            }
        } else if matches!(instr, Instr::Ret {}) && next < n {
            start[next] = true;
        }
    }
    start
}

/// The natives compiled inline (`Translator::native_inline`).
pub(super) fn is_inline_native(native: u16) -> bool {
    use rvm_vm::natives::Native as N;
    is_inline_float_native(native)
        || matches!(N::from_id(native), Some(N::IntAbs | N::IntMin | N::IntMax))
}

/// The float natives compiled inline; their results are canonicalised (`set_arith`).
fn is_inline_float_native(native: u16) -> bool {
    use rvm_vm::natives::Native as N;
    matches!(
        N::from_id(native),
        Some(N::Sqrt | N::Floor | N::Ceil | N::FloatAbs | N::FloatMin | N::FloatMax)
    )
}

/// Whether instruction `instr` compiles to code that calls nothing that could change the
/// heap or the frames: only the fuel refill, `fmod`, and cold paths that trap and never
/// come back (see `hoist`). `Translator::instr` refuses to compile a function where this
/// is wrong inside a call-free loop.
pub(super) fn runs_no_code(instr: Instr) -> bool {
    use Instr as I;
    match instr {
        I::CallNative { native } => is_inline_native(native),
        I::IDiv {}
        | I::IRem {}
        | I::GlobalGet { .. }
        | I::Jmp { .. }
        | I::JmpIf { .. }
        | I::JmpIfNot { .. }
        | I::Ret {}
        | I::ArrGet {}
        | I::ArrSet {}
        | I::ArrLen {}
        | I::FieldGet { .. }
        | I::FieldSet { .. } => true,
        _ => plain(instr),
    }
}
