//! rvm's compiled tier: verified bytecode functions → Cranelift IR → native code for the
//! host (`cranelift-native`), loaded with `cranelift-jit`.
//!
//! The crate implements the VM's [`Tier`] trait (`rvm_vm::tier`); the VM decides what to
//! compile and when, and the compiled code calls back into the VM's runtime functions (see
//! [`translate`] for the code shape, and `vm/src/interpreter/jit_rt.rs` for the runtime).
//! [`compile_for_target`] builds the same IR for another architecture (the aarch64 test),
//! which keeps the translation target-independent.

mod stubs;
mod translate;

use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, ir};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::Module;
use rvm_vm::tier::{Compiled, Entry, MAX_NATIVE_FRAME, Runtime, Tier, TierSession};
use rvm_vm::verified::VerifiedModule;

pub use stubs::{Stub, Stubs};
pub use translate::{Optimised, entry_signature, translate};

/// The Cranelift tier (stateless: each module gets its own [`Session`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct CraneliftTier;

impl Tier for CraneliftTier {
    fn session(&self, _module: &VerifiedModule) -> Result<Box<dyn TierSession>, String> {
        Ok(Box::new(Session::new()?))
    }
}

/// The Cranelift settings every target shares: optimise for speed and no PIC for in-memory
/// code. Cranelift's NaN canonicalisation is off: the translator canonicalises float
/// results itself, once per chain of arithmetic (`Translator::set_arith`).
fn flags() -> Result<settings::Flags, String> {
    let mut b = settings::builder();
    for (k, v) in [
        ("opt_level", "speed"),
        ("enable_nan_canonicalization", "false"),
        ("is_pic", "false"),
        ("use_colocated_libcalls", "false"),
        (
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        ),
    ] {
        b.set(k, v)
            .map_err(|e| format!("cranelift setting {k}: {e}"))?;
    }
    Ok(settings::Flags::new(b))
}

/// The host ISA.
fn host_isa() -> Result<OwnedTargetIsa, String> {
    let builder = cranelift_native::builder().map_err(|e| format!("unsupported host: {e}"))?;
    builder
        .finish(flags()?)
        .map_err(|e| format!("cranelift ISA: {e}"))
}

/// Compiles the functions of one module into executable memory it owns.
pub struct Session {
    module: JITModule,
    fctx: FunctionBuilderContext,
    ctx: Context,
    /// The stubs every compiled function calls, made at the first compilation.
    stubs: Option<Stubs>,
    /// Print Cranelift's disassembly of each function (`RVM_JIT_DISASM`, a debugging aid).
    disasm: bool,
    /// Print each function's Cranelift IR after optimisation (`RVM_JIT_CLIF`, a debugging
    /// aid).
    clif: bool,
    /// Write each function's machine code to this folder (`RVM_JIT_DUMP`, a profiling aid
    /// for `scripts/jit-profile.py`).
    dump_dir: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

// SAFETY: a `Session` is owned by one VM and only used through `&mut` (never shared); the
// raw pointers inside `JITModule` refer to code memory the module itself owns, so moving the
// whole session to another thread moves that ownership with it.
unsafe impl Send for Session {}

impl Session {
    /// A session for the host.
    pub fn new() -> Result<Session, String> {
        let isa = host_isa()?;
        let module = JITModule::new(JITBuilder::with_isa(
            isa,
            cranelift_module::default_libcall_names(),
        ));
        let ctx = module.make_context();
        Ok(Session {
            module,
            fctx: FunctionBuilderContext::new(),
            ctx,
            stubs: None,
            disasm: std::env::var_os("RVM_JIT_DISASM").is_some(),
            clif: std::env::var_os("RVM_JIT_CLIF").is_some(),
            dump_dir: std::env::var_os("RVM_JIT_DUMP").map(Into::into),
        })
    }

    /// Compiles the stubs (once per session).
    fn stubs(&mut self, rt: &Runtime) -> Result<Stubs, String> {
        if let Some(s) = self.stubs {
            return Ok(s);
        }
        let cc = self.module.isa().default_call_conv();
        let frontend = self.module.isa().frontend_config();
        let mut ids = Vec::new();
        for stub in Stub::ALL {
            self.module.clear_context(&mut self.ctx);
            stubs::build(stub, &mut self.ctx.func, &mut self.fctx, rt, cc, frontend);
            let id = self
                .module
                .declare_anonymous_function(&self.ctx.func.signature)
                .map_err(|e| e.to_string())?;
            self.module
                .define_function(id, &mut self.ctx)
                .map_err(|e| format!("{e:?}"))?;
            ids.push((stub, id));
        }
        self.module
            .finalize_definitions()
            .map_err(|e| e.to_string())?;
        let mut stubs = Stubs::placeholder();
        for (stub, id) in ids {
            *stubs.get_mut(stub) = self.module.get_finalized_function(id) as usize;
        }
        self.stubs = Some(stubs);
        Ok(stubs)
    }
}

impl TierSession for Session {
    fn target(&self) -> String {
        format!("cranelift {}", self.module.isa().triple().architecture)
    }

    fn compile(
        &mut self,
        module: &VerifiedModule,
        func: u32,
        rt: &Runtime,
        osr: bool,
    ) -> Result<Compiled, String> {
        // Code without fuel checks calls no stub (the refill is the only one): a session
        // that never needs them never compiles them.
        let stubs = if rt.polls {
            self.stubs(rt)?
        } else {
            Stubs::placeholder()
        };
        let cc = self.module.isa().default_call_conv();
        let sig = entry_signature(cc);
        self.module.clear_context(&mut self.ctx);
        self.ctx.func.signature = sig.clone();
        let id = self
            .module
            .declare_anonymous_function(&sig)
            .map_err(|e| e.to_string())?;
        // Recursive calls go straight to the function itself.
        let self_ref = self.module.declare_func_in_func(id, &mut self.ctx.func);
        let done = translate(
            &mut self.ctx.func,
            &mut self.fctx,
            module,
            func,
            rt,
            (stubs, Some(self_ref)),
            cc,
            self.module.isa(),
            osr,
        )?;
        let dump = self.disasm;
        self.ctx.set_disasm(dump);
        self.module
            .define_function(id, &mut self.ctx)
            .map_err(|e| format!("{e:?}"))?;
        // The VM bounds compiled recursion by frames of at most this size (see the
        // constant); a larger frame would make that bound unsafe, so the function stays
        // interpreted. (The layout is known for every compiled function; the frame
        // pointer and the return address are the 16 bytes above it on both targets.)
        let frame = self
            .ctx
            .compiled_code()
            .and_then(|c| c.buffer.frame_layout())
            .map(|l| l.frame_to_fp_offset as usize + 16);
        match frame {
            Some(bytes) if bytes <= MAX_NATIVE_FRAME => {}
            Some(bytes) => {
                return Err(format!(
                    "its native frame ({bytes} bytes) is larger than {MAX_NATIVE_FRAME}"
                ));
            }
            None => return Err("no frame layout".into()),
        }
        if self.clif {
            eprintln!("== function {func} (IR)\n{}", self.ctx.func.display());
        }
        if dump && let Some(code) = self.ctx.compiled_code() {
            eprintln!(
                "== function {func}\n{}",
                code.vcode.as_deref().unwrap_or("")
            );
        }
        self.module
            .finalize_definitions()
            .map_err(|e| e.to_string())?;
        let ptr = self.module.get_finalized_function(id);
        if let Some(dir) = &self.dump_dir
            && let Some(code) = self.ctx.compiled_code()
        {
            // `f<index>-<address in hex>.bin`: what a profiler's addresses map back to.
            let name = format!("f{func}-{:x}.bin", ptr as usize);
            if let Err(e) = std::fs::write(dir.join(&name), code.code_buffer()) {
                eprintln!("jit: cannot write {name} to RVM_JIT_DUMP: {e}");
            }
        }
        // SAFETY: `ptr` is the finalized machine code of a function with signature
        // `entry_signature(default_call_conv)`: six integer arguments and two integer
        // results, which is `extern "C" fn(*mut JitCtx, u64, i64, i64, u64, u64) -> Exit`
        // on this host (six integer arguments go in registers in the C convention of x86_64
        // and aarch64; `Exit` is two integers in `repr(C)`, returned in the two result
        // registers, as Cranelift returns two values); it stays mapped as long as
        // `self.module` lives, which the VM guarantees by keeping this session alive while
        // it may call the code.
        let entry = unsafe { std::mem::transmute::<*const u8, Entry>(ptr) };
        Ok(Compiled {
            entry,
            inlined_calls: done.inlined_calls,
            hoisted_loops: done.hoisted_loops,
            tail_calls: done.tail_calls,
            early_exits: done.early_exits,
            preloaded_fields: done.preloaded_fields,
            merged_charges: done.merged_charges,
            unchecked_accesses: done.unchecked_accesses,
            unsigned_divisions: done.unsigned_divisions,
            exact_divisions: done.exact_divisions,
            fuel_checks: done.fuel_checks,
        })
    }
}

/// Builds and compiles the IR of every function of `module` for `triple` (for example
/// `aarch64-unknown-linux-gnu`) with Cranelift's verifier on, without running anything,
/// each with and without on-stack replacement entries, and without fuel checks
/// (`Runtime::polls`); returns the total machine-code size. Runtime addresses are
/// placeholders.
pub fn compile_for_target(module: &VerifiedModule, triple: &str) -> Result<usize, String> {
    let triple: target_lexicon::Triple = triple.parse().map_err(|e| format!("{e}"))?;
    let mut b = settings::builder();
    for (k, v) in [
        ("opt_level", "speed"),
        ("enable_nan_canonicalization", "false"),
        ("enable_verifier", "true"),
    ] {
        b.set(k, v).map_err(|e| e.to_string())?;
    }
    let isa = isa::lookup(triple)
        .map_err(|e| e.to_string())?
        .finish(settings::Flags::new(b))
        .map_err(|e| e.to_string())?;
    let cc = isa.default_call_conv();
    let rt = Runtime::placeholder(module.functions().len() as u32);
    let stubs = Stubs::placeholder();
    let mut fctx = FunctionBuilderContext::new();
    // Verifies and compiles one function, returning its code size.
    let finish = |mut ctx: Context, what: &str| -> Result<usize, String> {
        cranelift_codegen::verify_function(&ctx.func, isa.flags())
            .map_err(|e| format!("{what}: {e}"))?;
        let code = ctx
            .compile(&*isa, &mut Default::default())
            .map_err(|e| format!("{what}: {e:?}"))?;
        Ok(code.code_info().total_size as usize)
    };
    let mut total = 0;
    for stub in Stub::ALL {
        let mut ctx = Context::new();
        let frontend = isa.frontend_config();
        stubs::build(stub, &mut ctx.func, &mut fctx, &rt, cc, frontend);
        total += finish(ctx, &format!("{stub:?} stub"))?;
    }
    let unpolled = Runtime { polls: false, ..rt };
    let variants = [(false, &rt), (true, &rt), (false, &unpolled)];
    for (i, (osr, rt)) in (0..module.functions().len()).flat_map(|i| variants.map(|v| (i, v))) {
        let mut ctx = Context::new();
        ctx.func.signature = entry_signature(cc);
        // A reference to the function itself, as `JITModule::declare_func_in_func` makes.
        let name = ctx
            .func
            .declare_imported_user_function(ir::UserExternalName::new(0, i as u32));
        let signature = ctx.func.import_signature(entry_signature(cc));
        let self_ref = ctx.func.import_function(ir::ExtFuncData {
            name: ir::ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        translate(
            &mut ctx.func,
            &mut fctx,
            module,
            i as u32,
            rt,
            (stubs, Some(self_ref)),
            cc,
            &*isa,
            osr,
        )?;
        total += finish(ctx, &format!("function {i}"))?;
    }
    Ok(total)
}
