//! [`Sandbox`]: one instance of a module, with its own globals, heap, grants, limits and
//! host functions.
//!
//! **Why sandboxes are cheap.** Creating one allocates the VM's state (globals, the value
//! stack, the string constants) and links against a [`HostFunctions`] set whose result is
//! cached per module, and nothing else: the code, its verification and its type layouts
//! are the [`Module`]'s, shared. So a server can afford one per request (a few
//! microseconds; see `benches/embed.rs`).
//!
//! **Why limits are per sandbox and per call.** Fuel and the deadline apply to each call
//! into the guest (and to the initialiser), so a reused sandbox gives every call the same
//! budget; the heap and stack limits bound the sandbox's state. A limit hit is an error
//! value ([`Error::OutOfFuel`], [`Error::Timeout`], [`Error::OutOfMemory`],
//! [`Error::StackOverflow`]); the sandbox stays usable (its globals keep what the
//! interrupted call wrote), and nothing outside it is affected: no global state is shared
//! between sandboxes, and a host function's panic is caught at the boundary.

use std::io::Write;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use rvm_vm::heap::Heap;
use rvm_vm::host::ExternFn;
use rvm_vm::host::embedder::no_externs;
use rvm_vm::interpreter::{CallOutcome, DEFAULT_MAX_CALL_DEPTH, Vm, VmConfig};
use rvm_vm::sandbox::{Capabilities, DEFAULT_MAX_HEAP, Grants, Limits};
use rvm_vm::trap::Trap;

use super::engine::Engine;
use super::error::{CallError, Error, LinkError};
use super::host::HostFunctions;
use super::module::Module;
use super::value::{ConvError, FromGuest, IntoGuest, ValType, signature_text};

/// The limits of one sandbox.
///
/// ```
/// use std::time::Duration;
/// let limits = rvm::SandboxLimits {
///     fuel: Some(5_000_000),                  // per call
///     timeout: Some(Duration::from_millis(50)), // per call
///     max_heap: 16 << 20,                     // bytes
///     max_stack: 500,                         // frames
/// };
/// # let _ = limits;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxLimits {
    /// Instructions each call may execute (loop back-edges and calls are charged);
    /// `None`: unlimited. Exceeding it gives [`Error::OutOfFuel`].
    pub fuel: Option<u64>,
    /// Wall-clock time each call may take; `None`: unlimited. Exceeding it gives
    /// [`Error::Timeout`].
    pub timeout: Option<Duration>,
    /// The most bytes the guest heap may hold. Exceeding it (after a collection) gives
    /// [`Error::OutOfMemory`].
    pub max_heap: usize,
    /// The deepest guest call stack. Exceeding it gives [`Error::StackOverflow`].
    pub max_stack: u32,
}

impl Default for SandboxLimits {
    /// Unlimited fuel and time, a 2 GiB heap, 10000 frames.
    fn default() -> SandboxLimits {
        SandboxLimits {
            fuel: None,
            timeout: None,
            max_heap: DEFAULT_MAX_HEAP,
            max_stack: DEFAULT_MAX_CALL_DEPTH as u32,
        }
    }
}

/// The one place a sandbox's [`VmConfig`] is made: the engine's settings, the sandbox's
/// limits, grants and linked host functions. (The JIT tier plugs in here, from
/// `engine.jit`.)
fn vm_config(
    engine: &Engine,
    limits: &SandboxLimits,
    caps: Arc<Capabilities>,
    externs: rvm_vm::host::Externs,
    seed: Option<u64>,
) -> VmConfig {
    VmConfig {
        // Compiled guest calls recurse on the caller's native stack; the VM's default
        // native-stack allowance fits a 2 MiB thread stack.
        jit: engine.jit().clone(),
        max_call_depth: limits.max_stack as usize,
        caps,
        limits: Limits {
            fuel: limits.fuel,
            timeout: limits.timeout,
            max_heap: limits.max_heap,
        },
        seed,
        externs,
        ..VmConfig::default()
    }
}

/// Sets up a [`Sandbox`]: host functions, grants, limits, output.
///
/// ```
/// use rvm::{HostFunctions, Module, Sandbox, SandboxLimits};
/// let engine = rvm::Engine::default();
/// let module = Module::new(&engine, "greet.src", r#"
///     extern fn app.name() -> str;
///     fn greet() -> str { return "hello, " + app.name(); }
/// "#)?;
/// let mut host = HostFunctions::new();
/// host.func("app", "name", || "world".to_string());
/// let mut sandbox = Sandbox::builder(&module)
///     .host(&host)
///     .limits(SandboxLimits { fuel: Some(10_000), ..SandboxLimits::default() })
///     .build()?;
/// assert_eq!(sandbox.call::<_, String>("greet", ())?, "hello, world");
/// # Ok::<(), rvm::Error>(())
/// ```
#[must_use]
pub struct SandboxBuilder<'m> {
    module: &'m Module,
    host: Option<HostFunctions>,
    limits: Option<SandboxLimits>,
    caps: Option<Arc<Capabilities>>,
    grants: Option<Grants>,
    seed: Option<u64>,
    stdout: Option<Box<dyn Write + Send>>,
    stderr: Option<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for SandboxBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxBuilder")
            .field("host", &self.host)
            .field("limits", &self.limits)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl<'m> SandboxBuilder<'m> {
    /// The host functions the module's `extern fn` declarations link against.
    pub fn host(mut self, host: &HostFunctions) -> Self {
        self.host = Some(host.clone());
        self
    }

    /// The limits (default: the engine's).
    pub fn limits(mut self, limits: SandboxLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// What the guest may reach outside itself: files, environment, clocks, randomness,
    /// standard input (default: nothing). Opened when the sandbox is built; to share one
    /// opened set between many sandboxes, use [`SandboxBuilder::capabilities`].
    pub fn grants(mut self, grants: Grants) -> Self {
        self.grants = Some(grants);
        self
    }

    /// Already opened grants, shared (no file system work per sandbox).
    pub fn capabilities(mut self, caps: Arc<Capabilities>) -> Self {
        self.caps = Some(caps);
        self
    }

    /// The seed of `random` (default: from the operating system).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Where the guest's `print`/`println` go (default: the process's standard output).
    pub fn stdout(mut self, w: impl Write + Send + 'static) -> Self {
        self.stdout = Some(Box::new(w));
        self
    }

    /// Where the guest's `eprintln` goes (default: the process's standard error).
    pub fn stderr(mut self, w: impl Write + Send + 'static) -> Self {
        self.stderr = Some(Box::new(w));
        self
    }

    /// Links the module against the host functions and creates the sandbox, running the
    /// module's initialiser (its `let`/`var` globals).
    pub fn build(self) -> Result<Sandbox, Error> {
        let module = self.module;
        let host = self.host.unwrap_or_default();
        let externs = link(module, &host)?;
        let caps = match (self.caps, self.grants) {
            (Some(c), _) => c,
            (None, Some(g)) => Arc::new(Capabilities::open(&g)?),
            (None, None) => default_caps(),
        };
        let engine = module.engine();
        let limits = self
            .limits
            .unwrap_or_else(|| engine.config().limits.clone());
        let config = vm_config(engine, &limits, caps, externs, self.seed);
        let stdout = self.stdout.unwrap_or_else(|| Box::new(std::io::stdout()));
        let stderr = self.stderr.unwrap_or_else(|| Box::new(std::io::stderr()));
        let vm = Vm::new(Arc::clone(module.verified()), config, stdout, stderr)?;
        let mut sandbox = Sandbox {
            vm,
            module: module.clone(),
            fuel: limits.fuel,
        };
        match sandbox.vm.initialize()? {
            CallOutcome::Exit(code) => Err(Error::Exit(code)),
            CallOutcome::Return(_) => Ok(sandbox),
        }
    }
}

/// Nothing granted, shared by every sandbox that asks for nothing.
fn default_caps() -> Arc<Capabilities> {
    static NONE: std::sync::OnceLock<Arc<Capabilities>> = std::sync::OnceLock::new();
    Arc::clone(NONE.get_or_init(|| Arc::new(Capabilities::default())))
}

/// Checks every embedder import of `module` against `host` and builds the table the VM
/// calls through (cached per module for the last set linked).
fn link(module: &Module, host: &HostFunctions) -> Result<rvm_vm::host::Externs, Error> {
    if module.externs().is_empty() {
        return Ok(no_externs());
    }
    if let Some(e) = module.cached_link(host) {
        return Ok(e);
    }
    let mut table: Vec<Option<Arc<dyn ExternFn>>> = vec![None; module.bytecode().imports.len()];
    for imp in module.externs() {
        let name = format!("{}.{}", imp.namespace, imp.name);
        let Some(f) = host.get(&imp.namespace, &imp.name) else {
            return Err(LinkError::Missing {
                name,
                guest: imp.sig.text.clone(),
            }
            .into());
        };
        let same = imp.sig.params.len() == f.params.len()
            && imp
                .sig
                .params
                .iter()
                .zip(&f.params)
                .all(|(g, h)| g.as_ref() == Some(h))
            && match (&imp.sig.result, &f.result) {
                (None, None) => true,
                (Some(g), Some(h)) => g.as_ref() == Some(h),
                _ => false,
            };
        if !same {
            return Err(LinkError::Mismatch {
                name,
                guest: imp.sig.text.clone(),
                host: f.signature(),
            }
            .into());
        }
        table[imp.index] = Some(Arc::clone(&f.func));
    }
    let externs: rvm_vm::host::Externs = Arc::from(table);
    module.cache_link(host, &externs);
    Ok(externs)
}

/// The most arguments a guest call takes through the typed API.
const MAX_ARGS: usize = 8;

/// An instance of a [`Module`]: its globals and heap, its grants and limits, and the host
/// functions it was linked with. `Send`: create it on one thread, use it on another; use
/// one sandbox from one thread at a time (calls take `&mut self`).
///
/// ```
/// let engine = rvm::Engine::default();
/// let module = rvm::Module::new(&engine, "counter.src", r#"
///     var count = 0;
///     fn bump(by: int) -> int { count += by; return count; }
/// "#)?;
/// let mut a = rvm::Sandbox::new(&module)?;
/// let mut b = rvm::Sandbox::new(&module)?;
/// a.call::<_, i64>("bump", (5,))?;
/// assert_eq!(a.call::<_, i64>("bump", (1,))?, 6);
/// assert_eq!(b.call::<_, i64>("bump", (1,))?, 1, "each sandbox has its own globals");
/// # Ok::<(), rvm::Error>(())
/// ```
#[derive(Debug)]
pub struct Sandbox {
    vm: Vm<'static>,
    module: Module,
    /// The fuel each call gets.
    fuel: Option<u64>,
}

impl Sandbox {
    /// A sandbox with the engine's limits, no host functions and no grants.
    pub fn new(module: &Module) -> Result<Sandbox, Error> {
        Sandbox::builder(module).build()
    }

    /// A builder, to give host functions, limits, grants or output streams.
    pub fn builder(module: &Module) -> SandboxBuilder<'_> {
        SandboxBuilder {
            module,
            host: None,
            limits: None,
            caps: None,
            grants: None,
            seed: None,
            stdout: None,
            stderr: None,
        }
    }

    /// The module this sandbox runs.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// What the JIT has done in this sandbox (functions compiled, on-stack replacements,
    /// compile time); all zero when the engine's [`JitMode`](crate::JitMode) is `Off`.
    pub fn jit_stats(&self) -> rvm_vm::interpreter::JitStats {
        self.vm.jit_stats()
    }

    /// Calls the exported function `name` with `args` (a tuple: `()`, `(x,)`, `(a, b)`,
    /// ...; up to eight) and converts its result to `R` (`()` for a function without one).
    /// Looks the name up on every call; for a hot path resolve it once with
    /// [`Sandbox::func`].
    pub fn call<P: Params, R: FromGuest>(&mut self, name: &str, args: P) -> Result<R, Error> {
        let f = self.func::<P, R>(name)?;
        f.call(self, args)
    }

    /// Resolves the exported function `name` as a typed handle, checking its signature
    /// against `P` and `R` once; calling the handle then converts and calls without any
    /// lookup. The handle works with every sandbox of the same module.
    ///
    /// ```
    /// let engine = rvm::Engine::default();
    /// let module = rvm::Module::new(&engine, "m.src", r#"
    ///     fn score(words: [str], bonus: [str: int]) -> int {
    ///         var total = 0;
    ///         for w in words { total += w.len() + bonus.get(w, 0); }
    ///         return total;
    ///     }
    /// "#)?;
    /// let mut sandbox = rvm::Sandbox::new(&module)?;
    /// let score = sandbox.func::<(Vec<String>, std::collections::HashMap<String, i64>), i64>("score")?;
    /// let bonus = [("rust".to_string(), 10)].into_iter().collect();
    /// assert_eq!(score.call(&mut sandbox, (vec!["rust".into(), "vm".into()], bonus))?, 16);
    /// // A wrong signature is refused when the handle is made.
    /// assert!(sandbox.func::<(i64,), i64>("score").is_err());
    /// # Ok::<(), rvm::Error>(())
    /// ```
    pub fn func<P: Params, R: FromGuest>(&self, name: &str) -> Result<TypedFunc<P, R>, Error> {
        let export = self
            .module
            .export(name)
            .ok_or_else(|| CallError::NoExport(name.to_owned()))?;
        let sig = &export.sig;
        let host_params = P::static_types();
        let host_result = (!R::is_unit()).then(R::static_type);
        let mismatch = || CallError::Signature {
            name: name.to_owned(),
            guest: sig.text.clone(),
            host: signature_text(&host_params, host_result.as_ref()),
        };
        if host_params.len() != sig.params.len() || sig.params.len() > MAX_ARGS {
            return Err(mismatch().into());
        }
        let mut params = Vec::with_capacity(sig.params.len());
        for (h, g) in host_params.iter().zip(&sig.params) {
            match (h, g) {
                (_, None) => return Err(mismatch().into()),
                (Some(h), Some(g)) if h != g => return Err(mismatch().into()),
                (_, Some(g)) => params.push(g.clone()),
            }
        }
        let result = match (&sig.result, R::is_unit()) {
            (None, true) => None,
            (Some(Some(g)), false) => {
                if R::static_type().is_some_and(|h| &h != g) {
                    return Err(mismatch().into());
                }
                Some(g.clone())
            }
            _ => return Err(mismatch().into()),
        };
        Ok(TypedFunc {
            module: self.module.clone(),
            func: export.func,
            params: params.into(),
            result,
            _sig: PhantomData,
        })
    }

    /// Runs the module's `main` (if it has one), returning its exit code.
    pub fn run_main(&mut self) -> Result<i32, Error> {
        self.vm.set_fuel(self.fuel);
        Ok(self.vm.run_main()?)
    }

    /// A flag that, once set from any thread, stops the running call at its next loop
    /// back-edge or call with [`Error::Timeout`] (then clears itself). Take it before the
    /// call it is to stop: compiled code of a sandbox without limits checks the flag only
    /// from the first call after the handle was taken.
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.vm.interrupt_handle()
    }

    /// The fuel the last call left, if fuel is limited.
    pub fn fuel_remaining(&self) -> Option<u64> {
        self.vm.fuel_remaining()
    }

    /// Bytes of guest heap live after the last collection plus allocated since.
    pub fn heap_bytes(&self) -> usize {
        let s = self.vm.heap_stats();
        s.live_bytes + s.allocated_bytes
    }

    /// Runs a full garbage collection now.
    pub fn collect_garbage(&mut self) {
        self.vm.collect_garbage();
    }

    pub(crate) fn heap(&self) -> &Heap {
        self.vm.heap()
    }

    pub(crate) fn global_slot(&self, index: usize) -> u64 {
        self.vm.global(index).unwrap_or(0)
    }

    pub(crate) fn conv_error(&self, e: ConvError) -> Error {
        conv_error(e)
    }
}

fn conv_error(e: ConvError) -> Error {
    match e {
        ConvError::Mismatch { expected, found } => CallError::Value { expected, found }.into(),
        ConvError::Trap(kind) => Trap::new(kind).into(),
    }
}

/// An exported guest function resolved once, with its signature checked against the Rust
/// types `P` (a tuple of [`IntoGuest`] arguments) and `R` (a [`FromGuest`] result, `()` for
/// none): like Wasmtime's `TypedFunc`. Calling it converts the arguments straight into the
/// VM's slots and calls by function index: no name lookup and no allocation for scalar
/// arguments and results.
///
/// ```
/// let engine = rvm::Engine::default();
/// let module = rvm::Module::new(&engine, "m.src", "fn add(a: int, b: int) -> int { return a + b; }")?;
/// let mut sandbox = rvm::Sandbox::new(&module)?;
/// let add = sandbox.func::<(i64, i64), i64>("add")?;
/// let mut total = 0;
/// for i in 0..100 {
///     total = add.call(&mut sandbox, (total, i))?;
/// }
/// assert_eq!(total, 4950);
/// # Ok::<(), rvm::Error>(())
/// ```
#[derive(Debug)]
pub struct TypedFunc<P, R> {
    module: Module,
    func: u32,
    params: Arc<[ValType]>,
    result: Option<ValType>,
    _sig: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        TypedFunc {
            module: self.module.clone(),
            func: self.func,
            params: Arc::clone(&self.params),
            result: self.result.clone(),
            _sig: PhantomData,
        }
    }
}

impl<P: Params, R: FromGuest> TypedFunc<P, R> {
    /// Calls the function in `sandbox` (a sandbox of the module the handle was made from).
    #[inline]
    pub fn call(&self, sandbox: &mut Sandbox, args: P) -> Result<R, Error> {
        if !self.module.same(&sandbox.module) {
            return Err(CallError::WrongModule.into());
        }
        let n = self.params.len();
        // Arguments and results copied in and out are garbage once the call is over, and
        // only guest allocations trigger collections: collect here when it is due, so a
        // guest that never allocates cannot make the heap grow call after call.
        if sandbox.vm.heap().should_collect() {
            sandbox.vm.collect_garbage();
        }
        let mut slots = [0u64; MAX_ARGS];
        args.into_slots(&self.params, sandbox.vm.heap_mut(), &mut slots)
            .map_err(conv_error)?;
        if sandbox.fuel.is_some() {
            sandbox.vm.set_fuel(sandbox.fuel);
        }
        match sandbox.vm.call_function(self.func, &slots[..n])? {
            CallOutcome::Exit(code) => Err(Error::Exit(code)),
            CallOutcome::Return(v) => match &self.result {
                None => R::from_slot(0, &ValType::Int, sandbox.vm.heap()).map_err(conv_error),
                Some(ty) => R::from_slot(v.unwrap_or(0), ty, sandbox.vm.heap()).map_err(conv_error),
            },
        }
    }
}

/// The arguments of a guest call: a tuple of up to eight [`IntoGuest`] values.
pub trait Params {
    /// Each argument's guest type (`None`: a dynamic [`crate::Value`]).
    fn static_types() -> Vec<Option<ValType>>;
    /// Converts the arguments into `out[..n]`.
    #[doc(hidden)]
    fn into_slots(
        self,
        tys: &[ValType],
        heap: &mut Heap,
        out: &mut [u64; MAX_ARGS],
    ) -> Result<(), ConvError>;
}

macro_rules! params {
    ($($a:ident $i:tt),*) => {
        impl<$($a: IntoGuest),*> Params for ($($a,)*) {
            fn static_types() -> Vec<Option<ValType>> {
                vec![$($a::static_type()),*]
            }
            #[inline]
            #[allow(unused_variables)]
            fn into_slots(self, tys: &[ValType], heap: &mut Heap, out: &mut [u64; MAX_ARGS]) -> Result<(), ConvError> {
                $( out[$i] = self.$i.into_slot(&tys[$i], heap)?; )*
                Ok(())
            }
        }
    };
}

params!();
params!(A0 0);
params!(A0 0, A1 1);
params!(A0 0, A1 1, A2 2);
params!(A0 0, A1 1, A2 2, A3 3);
params!(A0 0, A1 1, A2 2, A3 3, A4 4);
params!(A0 0, A1 1, A2 2, A3 3, A4 4, A5 5);
params!(A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6);
params!(A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7);
