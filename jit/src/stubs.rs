//! Small functions every compiled function of a session shares, in Cranelift's
//! `preserve_all` convention: they clobber no register, so a cold path that calls one
//! inside a loop does not force the loop's values out of registers (with the C convention,
//! every float register and most integer registers are clobbered by a call, and the
//! register allocator then keeps values live across the call in stack slots for the whole
//! loop). Each stub calls the runtime function in the C convention; Cranelift saves what
//! that inner call clobbers in the stub's prologue. `preserve_all` has no results: the
//! runtime functions leave their status in `cx.status`.

use crate::translate::sig;
use cranelift_codegen::ir::{AbiParam, Function, InstBuilder, Signature, types::I64};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use rvm_vm::tier::Runtime;

/// The stubs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stub {
    /// `refill(cx, pc)`: `Runtime::refill`, the fuel and deadline slow path; its status is
    /// left in `cx.status` (a loop's fuel check calls it on its cold path).
    Refill,
}

impl Stub {
    /// Every stub.
    pub const ALL: [Stub; 1] = [Stub::Refill];

    fn params(self) -> usize {
        match self {
            Stub::Refill => 2,
        }
    }
}

/// The addresses of a session's stubs.
#[derive(Clone, Copy, Debug)]
pub struct Stubs {
    /// [`Stub::Refill`].
    pub refill: usize,
}

impl Stubs {
    /// Never-called addresses, for code that is compiled but not run.
    pub fn placeholder() -> Stubs {
        Stubs { refill: 0xd000 }
    }

    /// The address of `stub`.
    pub fn get(&self, stub: Stub) -> usize {
        match stub {
            Stub::Refill => self.refill,
        }
    }

    /// The address of `stub`, to set.
    pub fn get_mut(&mut self, stub: Stub) -> &mut usize {
        match stub {
            Stub::Refill => &mut self.refill,
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
    };
    let sig = b.import_signature(sig(cc, &vec![I64; stub.params()], I64));
    let callee = b.ins().iconst(I64, target as i64);
    b.ins().call_indirect(sig, callee, &args);
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(frontend);
}
