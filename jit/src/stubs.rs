//! Small functions every compiled function of a session shares, in Cranelift's
//! `preserve_all` convention: they clobber no register, so a cold path that calls one
//! inside a loop does not force the loop's values out of registers (with the C convention,
//! every float register and most integer registers are clobbered by a call, and the
//! register allocator then keeps values live across the call in stack slots for the whole
//! loop). Each stub calls the runtime function in the C convention; Cranelift saves what
//! that inner call clobbers in the stub's prologue. `preserve_all` has no results, so the
//! stubs leave theirs in memory.

use crate::translate::{mem, sig};
use cranelift_codegen::ir::{AbiParam, Function, InstBuilder, Signature, types::I64};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use rvm_vm::tier::{Runtime, ctx};

/// The stubs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stub {
    /// `refill(cx, pc)`: `Runtime::refill`, the fuel and deadline slow path; its status is
    /// left in `cx.status` (a loop's fuel check calls it on its cold path).
    Refill,
    /// `call(cx, pc, callee, new_base, ret)`: `Runtime::call`, a whole guest call; its
    /// result is stored in value-stack slot `ret` (0 if the call unwound, with `cx.status`
    /// set). The fallback of an inlined call (see `translate::inline`).
    Call,
}

impl Stub {
    /// Every stub.
    pub const ALL: [Stub; 2] = [Stub::Refill, Stub::Call];

    fn params(self) -> usize {
        match self {
            Stub::Refill => 2,
            Stub::Call => 5,
        }
    }
}

/// The addresses of a session's stubs.
#[derive(Clone, Copy, Debug)]
pub struct Stubs {
    /// [`Stub::Refill`].
    pub refill: usize,
    /// [`Stub::Call`].
    pub call: usize,
}

impl Stubs {
    /// Never-called addresses, for code that is compiled but not run.
    pub fn placeholder() -> Stubs {
        Stubs {
            refill: 0xd000,
            call: 0xe000,
        }
    }
}

/// The `preserve_all` signature of `stub`.
pub fn signature(stub: Stub) -> Signature {
    let mut s = Signature::new(CallConv::PreserveAll);
    s.params.extend(vec![AbiParam::new(I64); stub.params()]);
    s
}

/// Builds `stub` into `func`. `cc` is the runtime's (the C) convention.
pub fn build(
    stub: Stub,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    rt: &Runtime,
    cc: CallConv,
    frontend: TargetFrontendConfig,
) {
    func.signature = signature(stub);
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let args = b.block_params(entry).to_vec();
    let target = match stub {
        Stub::Refill => rt.refill,
        Stub::Call => rt.call,
    };
    let sig = b.import_signature(sig(cc, &vec![I64; stub.params()], I64));
    let callee = b.ins().iconst(I64, target as i64);
    let call = b.ins().call_indirect(sig, callee, &args);
    if stub == Stub::Call {
        // The value stack may have moved during the call: re-read its address.
        let r = b.inst_results(call)[0];
        let data = b.ins().load(I64, mem(), args[0], ctx::STACK_DATA);
        let off = b.ins().ishl_imm_u(args[4], 3);
        let at = b.ins().iadd(data, off);
        b.ins().store(mem(), r, at, 0);
    }
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(frontend);
}
