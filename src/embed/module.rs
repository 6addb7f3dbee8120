//! [`Module`]: verified bytecode, ready to instantiate as many sandboxes as wanted.
//!
//! **Why verification is not optional.** A module is either compiled here from source or
//! decoded from `.bc` bytes, and both paths end in the verifier: there is no way to build a
//! `Module` the verifier has not accepted, so a sandbox never runs unproven code. The
//! verified form is immutable and behind an `Arc`, so a clone is a reference count and
//! every sandbox (on any thread) shares the code, its type layouts and its export table.
//! What a call needs from the module's signatures (each export's function index and
//! boundary types, each embedder import's signature) is computed once here, so that
//! creating a sandbox and calling into it look nothing up by scanning.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rvm_compiler::program::{FsLoader, SourceLoader};
use rvm_vm::format::{Module as BcModule, TypeDef};
use rvm_vm::host::Externs;
use rvm_vm::host::embedder::is_embedder_module;
use rvm_vm::verified::VerifiedModule;

use super::engine::Engine;
use super::error::{CompileError, Error};
use super::host::HostFunctions;
use super::value::ValType;

/// A guest function's signature in boundary types: `None` for a type that cannot cross
/// (a struct or a function reference).
#[derive(Clone, Debug)]
pub(crate) struct Signature {
    pub(crate) params: Vec<Option<ValType>>,
    /// `None`: no result; `Some(None)`: a result that cannot cross.
    pub(crate) result: Option<Option<ValType>>,
    /// As the guest spells it (`fn(str, int) -> bool`).
    pub(crate) text: String,
}

impl Signature {
    fn of(m: &BcModule, ty: u32) -> Signature {
        let (params, result) = match m.types.get(ty as usize) {
            Some(TypeDef::Func(f)) => (
                f.params.iter().map(|&p| ValType::of(m, p)).collect(),
                f.result.map(|r| ValType::of(m, r)),
            ),
            _ => (Vec::new(), None),
        };
        Signature {
            params,
            result,
            text: m.type_name(ty),
        }
    }
}

/// An exported function.
#[derive(Clone, Debug)]
pub(crate) struct ExportInfo {
    pub(crate) func: u32,
    pub(crate) sig: Signature,
}

/// An import the embedder must provide.
#[derive(Clone, Debug)]
pub(crate) struct ExternImport {
    pub(crate) index: usize,
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) sig: Signature,
}

#[derive(Debug)]
struct ModuleInner {
    engine: Engine,
    verified: Arc<VerifiedModule>,
    exports: HashMap<String, ExportInfo>,
    externs: Vec<ExternImport>,
    /// The last link result (a host function set and the table it gave), so that sandboxes
    /// created again and again against one set link once.
    link_cache: Mutex<Option<(HostFunctions, Externs)>>,
}

/// A verified module: compiled from source or loaded from `.bc` bytes. Cheap to clone and
/// to share between threads (`Send + Sync`).
///
/// ```
/// let engine = rvm::Engine::default();
/// let module = rvm::Module::new(&engine, "calc.src", "fn double(x: int) -> int { return 2 * x; }")?;
/// assert!(module.exports().any(|(name, sig)| name == "double" && sig == "fn(int) -> int"));
/// // The same module, through its bytecode.
/// let again = rvm::Module::from_bytes(&engine, &module.to_bytes())?;
/// let mut sandbox = rvm::Sandbox::new(&again)?;
/// assert_eq!(sandbox.call::<_, i64>("double", (21,))?, 42);
/// # Ok::<(), rvm::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

/// Refuses every `import "file.src"`: source given as text has no files around it.
struct NoFiles;

impl SourceLoader for NoFiles {
    fn load(&self, path: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "a module compiled from text cannot import files (`{}`); use Module::from_file",
                path.display()
            ),
        ))
    }
}

impl Module {
    /// Compiles source text (named `name` in diagnostics and stack traces) and verifies it.
    /// `main` is optional: a module is a set of functions for the host to call. The text
    /// cannot `import` files (use [`Module::from_file`] for that).
    pub fn new(engine: &Engine, name: &str, source: &str) -> Result<Module, Error> {
        let compiled = rvm_compiler::compile_library(name, source, &NoFiles)?;
        Module::from_verified(engine, rvm_vm::verifier::verify(compiled.module)?)
    }

    /// Compiles the source file at `path`, following its imports, and verifies it.
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let name = path.to_string_lossy();
        let compiled = rvm_compiler::compile_library(&name, &text, &FsLoader)?;
        Module::from_verified(engine, rvm_vm::verifier::verify(compiled.module)?)
    }

    /// Decodes and verifies a `.bc` file's bytes.
    pub fn from_bytes(engine: &Engine, bytes: &[u8]) -> Result<Module, Error> {
        let module = rvm_vm::format::decode(bytes)?;
        Module::from_verified(engine, rvm_vm::verifier::verify(module)?)
    }

    /// The `.bc` encoding of this module (what `rvmc build` writes).
    pub fn to_bytes(&self) -> Vec<u8> {
        rvm_vm::format::encode(self.bytecode())
    }

    /// Source wrapped by [`Engine::eval`]: positions are reported relative to the snippet
    /// (which starts on line 2).
    pub(crate) fn compile_snippet(engine: &Engine, source: &str) -> Result<Module, Error> {
        let compiled = rvm_compiler::compile_library("eval", source, &NoFiles)
            .map_err(|f| Error::Compile(CompileError::with_line_offset(f, 1)))?;
        Module::from_verified(engine, rvm_vm::verifier::verify(compiled.module)?)
    }

    fn from_verified(engine: &Engine, verified: VerifiedModule) -> Result<Module, Error> {
        let m = verified.module();
        let exports = m
            .exports
            .iter()
            .filter_map(|e| {
                let f = m.functions.get(e.func as usize)?;
                let sig = Signature::of(m, f.ty);
                Some((e.name.clone(), ExportInfo { func: e.func, sig }))
            })
            .collect();
        let externs = m
            .imports
            .iter()
            .enumerate()
            .filter(|(_, i)| is_embedder_module(&i.module))
            .map(|(index, i)| ExternImport {
                index,
                namespace: i.module.clone(),
                name: i.name.clone(),
                sig: Signature::of(m, i.ty),
            })
            .collect();
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                verified: Arc::new(verified),
                exports,
                externs,
                link_cache: Mutex::new(None),
            }),
        })
    }

    /// The engine this module was made with.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Every exported function with its signature as the guest spells it
    /// (`("double", "fn(int) -> int")`), in no particular order.
    pub fn exports(&self) -> impl Iterator<Item = (&str, &str)> {
        self.inner
            .exports
            .iter()
            .map(|(n, e)| (n.as_str(), e.sig.text.as_str()))
    }

    /// The host functions the module needs from the embedder (`extern fn` declarations):
    /// `("app.log", "fn(str)")`, in import order.
    pub fn imports(&self) -> impl Iterator<Item = (String, &str)> {
        self.inner
            .externs
            .iter()
            .map(|e| (format!("{}.{}", e.namespace, e.name), e.sig.text.as_str()))
    }

    /// The bytecode.
    pub(crate) fn bytecode(&self) -> &BcModule {
        self.inner.verified.module()
    }

    pub(crate) fn verified(&self) -> &Arc<VerifiedModule> {
        &self.inner.verified
    }

    pub(crate) fn export(&self, name: &str) -> Option<&ExportInfo> {
        self.inner.exports.get(name)
    }

    /// Whether two handles name the same module.
    pub(crate) fn same(&self, other: &Module) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The embedder imports.
    pub(crate) fn externs(&self) -> &[ExternImport] {
        &self.inner.externs
    }

    /// The cached link result for `host`, if the last link was against this set.
    pub(crate) fn cached_link(&self, host: &HostFunctions) -> Option<Externs> {
        let cache = self.inner.link_cache.lock().ok()?;
        match &*cache {
            Some((h, e)) if h.id() == host.id() => Some(Arc::clone(e)),
            _ => None,
        }
    }

    pub(crate) fn cache_link(&self, host: &HostFunctions, externs: &Externs) {
        if let Ok(mut cache) = self.inner.link_cache.lock() {
            *cache = Some((host.clone(), Arc::clone(externs)));
        }
    }
}
