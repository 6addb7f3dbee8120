//! Host functions: ordinary Rust closures that guest code calls as `ns.name(...)`.
//!
//! **Why a registry shared by sandboxes.** A server registers its functions once and
//! creates a sandbox per request; [`HostFunctions`] is cheap to clone (an `Arc`), so that
//! each sandbox links against the same closures without copying them. The closure's Rust
//! types give its signature ([`GuestType`]); linking compares it with the guest's
//! `extern fn` declaration and fails with both signatures spelled out when they differ.
//!
//! A closure that returns `Err(e)` traps the guest with `ns.name(...) failed: e`; a closure
//! that panics does too (the panic is caught at the boundary, so the VM stays consistent
//! and the host process keeps running).

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use rvm_vm::heap::Heap;
use rvm_vm::host::ExternFn;
use rvm_vm::trap::TrapKind;

use super::value::{ConvError, FromGuest, GuestType, IntoGuest, ValType, signature_text};

/// One registered host function: its signature and the closure behind the VM's interface.
#[derive(Clone, Debug)]
pub struct HostFunc {
    pub(crate) params: Vec<ValType>,
    pub(crate) result: Option<ValType>,
    pub(crate) func: Arc<dyn ExternFn>,
}

impl HostFunc {
    /// The signature as the guest spells it.
    pub(crate) fn signature(&self) -> String {
        let ps: Vec<Option<ValType>> = self.params.iter().cloned().map(Some).collect();
        signature_text(&ps, self.result.clone().map(Some).as_ref())
    }
}

/// A set of host functions, by namespace and name, to link sandboxes against.
///
/// ```
/// let mut host = rvm::HostFunctions::new();
/// host.func("app", "greet", |name: String| format!("hello, {name}"));
/// host.func("app", "add", |a: i64, b: i64| a + b);
/// host.func("app", "check", |x: f64| -> Result<bool, String> {
///     if x.is_nan() { Err("not a number".into()) } else { Ok(x > 0.0) }
/// });
/// assert!(host.contains("app", "add"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct HostFunctions {
    /// By namespace, then name (two levels, so a lookup by borrowed strings needs no key).
    funcs: Arc<HashMap<String, HashMap<String, HostFunc>>>,
}

impl HostFunctions {
    /// An empty set.
    pub fn new() -> HostFunctions {
        HostFunctions::default()
    }

    /// Registers `f` as `namespace.name` (replacing an earlier one of that name). Its
    /// parameters and result may be any [`GuestType`] (`i64`, `f64`, `bool`, `String`,
    /// `Vec<T>`, `HashMap<K, V>`, `BTreeMap<K, V>`), the result also `()` or a
    /// `Result<T, E>` whose error (any `Display`) traps the guest. Up to six parameters.
    ///
    /// A map result becomes a guest map in the Rust map's iteration order: return a
    /// `BTreeMap` rather than a `HashMap` when the guest's output must be deterministic.
    /// A closure runs to completion: limits are checked in guest code, so a closure that
    /// blocks holds up its sandbox's call (but nothing else).
    pub fn func<P, R>(
        &mut self,
        namespace: &str,
        name: &str,
        f: impl IntoHostFunc<P, R>,
    ) -> &mut HostFunctions {
        let qualified = format!("{namespace}.{name}");
        let func = f.into_host_func(qualified);
        Arc::make_mut(&mut self.funcs)
            .entry(namespace.to_owned())
            .or_default()
            .insert(name.to_owned(), func);
        self
    }

    /// Whether `namespace.name` is registered.
    pub fn contains(&self, namespace: &str, name: &str) -> bool {
        self.get(namespace, name).is_some()
    }

    /// The signature of `namespace.name` as the guest would declare it (`fn(str) -> int`).
    pub fn signature(&self, namespace: &str, name: &str) -> Option<String> {
        self.get(namespace, name).map(HostFunc::signature)
    }

    pub(crate) fn get(&self, namespace: &str, name: &str) -> Option<&HostFunc> {
        self.funcs.get(namespace)?.get(name)
    }

    /// The identity of this set (clones share it), for caching link results.
    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.funcs) as usize
    }
}

/// What a host function may return: `()`, a [`GuestType`] value, or a `Result` of those
/// whose error traps the guest.
pub trait HostResult {
    /// The guest result type (`None`: no result).
    fn result_type() -> Option<ValType>;
    /// Converts into the result slot, or the message of a trap.
    fn into_result(self, ty: Option<&ValType>, heap: &mut Heap) -> Result<Option<u64>, HostFail>;
}

/// Why a host function did not return a value.
#[derive(Debug)]
pub enum HostFail {
    /// It returned an error (the message).
    Error(String),
    /// Its result could not be copied into the guest heap.
    Trap(TrapKind),
}

impl HostResult for () {
    fn result_type() -> Option<ValType> {
        None
    }
    fn into_result(self, _: Option<&ValType>, _: &mut Heap) -> Result<Option<u64>, HostFail> {
        Ok(None)
    }
}

impl<T: IntoGuest + GuestType> HostResult for T {
    fn result_type() -> Option<ValType> {
        Some(T::guest_type())
    }
    fn into_result(self, ty: Option<&ValType>, heap: &mut Heap) -> Result<Option<u64>, HostFail> {
        let ty = ty.cloned().unwrap_or_else(T::guest_type);
        match self.into_slot(&ty, heap) {
            Ok(v) => Ok(Some(v)),
            Err(ConvError::Trap(k)) => Err(HostFail::Trap(k)),
            Err(ConvError::Mismatch { expected, found }) => Err(HostFail::Error(format!(
                "result {found} does not have type {expected}"
            ))),
        }
    }
}

impl<T: HostResult, E: fmt::Display> HostResult for Result<T, E> {
    fn result_type() -> Option<ValType> {
        T::result_type()
    }
    fn into_result(self, ty: Option<&ValType>, heap: &mut Heap) -> Result<Option<u64>, HostFail> {
        match self {
            Ok(v) => v.into_result(ty, heap),
            Err(e) => Err(HostFail::Error(e.to_string())),
        }
    }
}

/// A Rust closure usable as a host function: `Fn(A, B, ...) -> R` with up to six
/// [`GuestType`] parameters and a [`HostResult`]. Implemented for every such closure that
/// is `Send + Sync + 'static`; `P` is the parameter tuple (inferred).
pub trait IntoHostFunc<P, R>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_host_func(self, name: String) -> HostFunc;
}

/// A closure behind the VM's [`ExternFn`] interface.
struct Closure<F, P, R> {
    name: String,
    f: F,
    params: Vec<ValType>,
    result: Option<ValType>,
    _sig: PhantomData<fn(P) -> R>,
}

impl<F, P, R> fmt::Debug for Closure<F, P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "host function {}", self.name)
    }
}

fn fail(name: &str, reason: String) -> TrapKind {
    TrapKind::HostError {
        call: format!("{name}(...)"),
        reason,
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked".to_owned()
    }
}

macro_rules! host_arity {
    ($($a:ident $i:tt),*) => {
        impl<F, R, $($a),*> IntoHostFunc<($($a,)*), R> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            R: HostResult + 'static,
            $($a: FromGuest + GuestType + 'static,)*
        {
            fn into_host_func(self, name: String) -> HostFunc {
                let params = vec![$($a::guest_type()),*];
                let result = R::result_type();
                let closure = Closure::<F, ($($a,)*), R> {
                    name,
                    f: self,
                    params: params.clone(),
                    result: result.clone(),
                    _sig: PhantomData,
                };
                HostFunc { params, result, func: Arc::new(closure) }
            }
        }

        impl<F, R, $($a),*> ExternFn for Closure<F, ($($a,)*), R>
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            R: HostResult + 'static,
            $($a: FromGuest + GuestType + 'static,)*
        {
            #[allow(unused_variables, non_snake_case)]
            fn call(&self, args: &[u64], heap: &mut Heap) -> Result<Option<u64>, TrapKind> {
                $(
                    let $a = match $a::from_slot(
                        args.get($i).copied().unwrap_or(0),
                        &self.params[$i],
                        heap,
                    ) {
                        Ok(v) => v,
                        Err(ConvError::Trap(k)) => return Err(k),
                        Err(ConvError::Mismatch { expected, found }) => {
                            return Err(fail(&self.name, format!("argument {found} is not {expected}")))
                        }
                    };
                )*
                let r = catch_unwind(AssertUnwindSafe(|| (self.f)($($a),*)))
                    .map_err(|p| fail(&self.name, panic_message(&*p)))?;
                match catch_unwind(AssertUnwindSafe(|| r.into_result(self.result.as_ref(), heap))) {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(HostFail::Error(msg))) => Err(fail(&self.name, msg)),
                    Ok(Err(HostFail::Trap(k))) => Err(k),
                    Err(p) => Err(fail(&self.name, panic_message(&*p))),
                }
            }
        }
    };
}

host_arity!();
host_arity!(A0 0);
host_arity!(A0 0, A1 1);
host_arity!(A0 0, A1 1, A2 2);
host_arity!(A0 0, A1 1, A2 2, A3 3);
host_arity!(A0 0, A1 1, A2 2, A3 3, A4 4);
host_arity!(A0 0, A1 1, A2 2, A3 3, A4 4, A5 5);
