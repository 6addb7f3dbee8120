//! The [`Engine`]: configuration shared by every module and sandbox made from it.
//!
//! **Why an engine at all.** Settings that must agree between a module and the sandboxes
//! running it (the execution tier, the default limits) live in one place, shared by
//! reference (`Send + Sync`, cheap to clone); compiled native code is per sandbox today
//! (its code refers to the sandbox's own tables), so that is not shared yet.

use std::sync::Arc;

use super::error::Error;
use super::module::Module;
use super::sandbox::{Sandbox, SandboxLimits};
use super::value::{FromGuest, ValType};
use crate::JitMode;
use rvm_vm::tier::{DEFAULT_JIT_THRESHOLD, JitConfig};

/// How an [`Engine`] runs guest code.
#[derive(Clone, Debug, Default)]
pub struct EngineConfig {
    /// The execution tiers sandboxes may use. With `Auto` (the default) a sandbox
    /// compiles a function once it has run hot in that sandbox; `Always` compiles every
    /// function a sandbox calls before its first run (milliseconds per function: not for
    /// a sandbox per request). Compiled code belongs to its sandbox.
    pub jit: JitMode,
    /// With `Auto`, compile on a thread of the sandbox's own while the interpreter goes
    /// on, instead of pausing the guest for each compilation (a millisecond or more per
    /// function). Off by default: a sandbox per request should not start threads, and with
    /// it which functions are compiled before a short run ends (`Sandbox::jit_stats`)
    /// varies from run to run (the guest's behaviour does not).
    pub jit_background: bool,
    /// The limits a sandbox gets unless its builder sets others.
    pub limits: SandboxLimits,
}

/// Configuration and shared state for modules and sandboxes: create one per process (or
/// per configuration) and share it between threads.
///
/// ```
/// let engine = rvm::Engine::default();
/// let sum: i64 = engine.eval("[1, 2, 3].len() * 10")?;
/// assert_eq!(sum, 30);
/// # Ok::<(), rvm::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

/// What an engine shares with its sandboxes: the configuration and the tier built from it
/// once (so that making a sandbox allocates no compiler handle).
#[derive(Debug)]
struct EngineInner {
    config: EngineConfig,
    jit: JitConfig,
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new(EngineConfig::default())
    }
}

impl Engine {
    /// An engine with the given configuration.
    ///
    /// ```
    /// use rvm::{Engine, EngineConfig, JitMode, SandboxLimits};
    /// let engine = Engine::new(EngineConfig {
    ///     jit: JitMode::Off,
    ///     limits: SandboxLimits { fuel: Some(1_000_000), ..SandboxLimits::default() },
    ///     ..EngineConfig::default()
    /// });
    /// assert_eq!(engine.config().jit, JitMode::Off);
    /// ```
    pub fn new(config: EngineConfig) -> Engine {
        let mut jit = crate::jit_config(config.jit, DEFAULT_JIT_THRESHOLD, false);
        jit.background = config.jit_background;
        Engine {
            inner: Arc::new(EngineInner { config, jit }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The tier configuration every sandbox of this engine gets.
    pub(crate) fn jit(&self) -> &JitConfig {
        &self.inner.jit
    }

    /// Evaluates one expression in a fresh sandbox with the engine's default limits and
    /// returns its value: quick scripting without declaring a module. The expression may
    /// use every built-in operation (`"abc".upper()`, `math.sqrt(2.0)`, `[1, 2].len()`),
    /// but no host functions and no capabilities. Ask for a [`crate::Value`] to accept any
    /// result type, or for `()` to run statements instead of an expression.
    ///
    /// ```
    /// let engine = rvm::Engine::default();
    /// let s: String = engine.eval(r#""abc".upper() + "!""#)?;
    /// assert_eq!(s, "ABC!");
    /// let v: rvm::Value = engine.eval("[\"a\": 1.5]")?;
    /// assert_eq!(v.to_string(), "[\"a\": 1.5]");
    /// engine.eval::<()>("var x = 1;\nx += 1;\nassert(x == 2, \"x\");")?;
    /// // Errors come back as values, with positions relative to the snippet.
    /// let err = engine.eval::<i64>("1 +").unwrap_err();
    /// assert!(matches!(err, rvm::Error::Compile(_)));
    /// # Ok::<(), rvm::Error>(())
    /// ```
    pub fn eval<T: FromGuest>(&self, expr: &str) -> Result<T, Error> {
        eval_in(self, expr)
    }
}

/// Wraps the snippet: an expression becomes the initialiser of a global (so its type is
/// inferred and read back from the module), statements become the body of `main`. The
/// snippet starts on line 2, and positions are reported relative to it.
fn eval_in<T: FromGuest>(engine: &Engine, snippet: &str) -> Result<T, Error> {
    let statements = T::is_unit();
    let source = if statements {
        format!("fn main() {{\n{snippet}\n}}\n")
    } else {
        format!("let eval_result__ =\n{snippet}\n;\n")
    };
    let module = Module::compile_snippet(engine, &source)?;
    let mut sandbox = Sandbox::new(&module)?;
    if statements {
        sandbox.run_main()?;
        return T::from_slot(0, &ValType::Int, sandbox.heap()).map_err(|e| sandbox.conv_error(e));
    }
    let m = module.bytecode();
    let (index, global) = m
        .globals
        .iter()
        .enumerate()
        .find(|(_, g)| g.name == "eval_result__")
        .ok_or_else(|| Error::Call(super::error::CallError::Invalid("no result".into())))?;
    let ty = ValType::of(m, global.ty).ok_or_else(|| {
        Error::Call(super::error::CallError::Invalid(format!(
            "the expression has type {}, which cannot leave the sandbox",
            m.type_name(global.ty)
        )))
    })?;
    if let Some(want) = T::static_type()
        && want != ty
    {
        return Err(Error::Call(super::error::CallError::Signature {
            name: "eval".into(),
            guest: ty.to_string(),
            host: want.to_string(),
        }));
    }
    let slot = sandbox.global_slot(index);
    T::from_slot(slot, &ty, sandbox.heap()).map_err(|e| sandbox.conv_error(e))
}
