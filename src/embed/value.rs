//! Values that cross the boundary between Rust and the guest, and their conversions.
//!
//! **Why copies, not references.** The guest heap belongs to one sandbox and is collected
//! by it, so a Rust value never points into it: arguments are copied in and results copied
//! out (`int`, `float` and `bool` are free; `str`, arrays and maps cost one allocation per
//! object). Only the types that mean the same thing on both sides cross: `int` (`i64`),
//! `float` (`f64`), `bool`, `str` (`String`, or `&str` as an argument), arrays (`Vec<T>`)
//! and maps (`HashMap`, `BTreeMap`; [`Value::Map`] keeps the guest's insertion order) of
//! those, and the dynamic [`Value`]. Structs and function references stay inside.
//!
//! Each Rust type knows its guest type statically ([`GuestType`]), so a typed function
//! handle or a host function checks its whole signature once, when it is created or
//! linked, and a call converts without checking. [`Value`] is checked as it converts.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;

use rvm_vm::format::{Module as BcModule, TypeDef, TypeId};
use rvm_vm::heap::{Heap, MapObj, ValKind};
use rvm_vm::trap::TrapKind;

/// A guest type that can cross the boundary.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `str`
    Str,
    /// `[T]`
    Array(Box<ValType>),
    /// `[K: V]`
    Map(Box<ValType>, Box<ValType>),
}

impl ValType {
    /// The boundary type of a bytecode type id, if it has one (not a struct or a function).
    pub(crate) fn of(m: &BcModule, ty: TypeId) -> Option<ValType> {
        Self::of_depth(m, ty, 16)
    }

    fn of_depth(m: &BcModule, ty: TypeId, depth: u32) -> Option<ValType> {
        let d = depth.checked_sub(1)?;
        Some(match m.types.get(ty as usize)? {
            TypeDef::Int => ValType::Int,
            TypeDef::Float => ValType::Float,
            TypeDef::Bool => ValType::Bool,
            TypeDef::Str => ValType::Str,
            TypeDef::Array(e) => ValType::Array(Box::new(Self::of_depth(m, *e, d)?)),
            TypeDef::Map(k, v) => ValType::Map(
                Box::new(Self::of_depth(m, *k, d)?),
                Box::new(Self::of_depth(m, *v, d)?),
            ),
            TypeDef::Struct(_) | TypeDef::Func(_) => return None,
        })
    }

    /// How the heap stores slots of this type.
    fn kind(&self) -> ValKind {
        match self {
            ValType::Int => ValKind::Int,
            ValType::Float => ValKind::Float,
            ValType::Bool => ValKind::Bool,
            ValType::Str => ValKind::Str,
            ValType::Array(_) | ValType::Map(..) => ValKind::Ref,
        }
    }
}

impl fmt::Display for ValType {
    /// The guest spelling: `int`, `[str]`, `[str: [float]]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::Int => f.write_str("int"),
            ValType::Float => f.write_str("float"),
            ValType::Bool => f.write_str("bool"),
            ValType::Str => f.write_str("str"),
            ValType::Array(e) => write!(f, "[{e}]"),
            ValType::Map(k, v) => write!(f, "[{k}: {v}]"),
        }
    }
}

/// Writes a signature the way the guest spells it: `fn(str, int) -> bool`.
pub(crate) fn signature_text(
    params: &[Option<ValType>],
    result: Option<&Option<ValType>>,
) -> String {
    let show = |t: &Option<ValType>| t.as_ref().map_or_else(|| "_".to_owned(), |t| t.to_string());
    let ps: Vec<String> = params.iter().map(show).collect();
    match result {
        Some(r) => format!("fn({}) -> {}", ps.join(", "), show(r)),
        None => format!("fn({})", ps.join(", ")),
    }
}

/// A dynamically typed boundary value: what [`crate::Engine::eval`] returns when asked for
/// a `Value`, and an argument or result type that fits any guest type of its shape.
///
/// ```
/// use rvm::Value;
/// let engine = rvm::Engine::default();
/// let module = rvm::Module::new(&engine, "m.src", r#"
///     fn tally(xs: [str]) -> [str: int] {
///         var m: [str: int] = [:];
///         for x in xs { m[x] = m.get(x, 0) + 1; }
///         return m;
///     }
/// "#)?;
/// let mut sandbox = rvm::Sandbox::new(&module)?;
/// let arg = Value::Array(vec![Value::Str("b".into()), Value::Str("a".into()), Value::Str("b".into())]);
/// let v: Value = sandbox.call("tally", (arg,))?;
/// assert_eq!(v.to_string(), r#"["b": 2, "a": 1]"#); // the guest's insertion order
/// # Ok::<(), rvm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `int`
    Int(i64),
    /// `float`
    Float(f64),
    /// `bool`
    Bool(bool),
    /// `str`
    Str(String),
    /// `[T]`
    Array(Vec<Value>),
    /// `[K: V]`, in insertion order.
    Map(Vec<(Value, Value)>),
}

impl fmt::Display for Value {
    /// Like the guest prints it: `[1, 2]`, `["a": 1.5]` (strings quoted inside containers).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn inner(v: &Value, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match v {
                Value::Str(s) => f.write_str(&rvm_vm::value_fmt::quote_str(s)),
                other => write!(f, "{other}"),
            }
        }
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => {
                let mut s = String::new();
                rvm_vm::value_fmt::push_float(&mut s, *x);
                f.write_str(&s)
            }
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => f.write_str(s),
            Value::Array(xs) => {
                f.write_str("[")?;
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    inner(x, f)?;
                }
                f.write_str("]")
            }
            Value::Map(kvs) if kvs.is_empty() => f.write_str("[:]"),
            Value::Map(kvs) => {
                f.write_str("[")?;
                for (i, (k, v)) in kvs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    inner(k, f)?;
                    f.write_str(": ")?;
                    inner(v, f)?;
                }
                f.write_str("]")
            }
        }
    }
}

/// A conversion failure at the boundary (a [`Value`] of the wrong shape, or the heap
/// limit while copying a value in).
#[derive(Debug)]
pub enum ConvError {
    /// The value does not have the guest type.
    Mismatch {
        /// The guest type.
        expected: String,
        /// What was given.
        found: String,
    },
    /// Copying the value into the guest heap failed (its limit).
    Trap(TrapKind),
}

impl From<TrapKind> for ConvError {
    fn from(k: TrapKind) -> ConvError {
        ConvError::Trap(k)
    }
}

/// A Rust type with a fixed guest type: every boundary type except [`Value`].
pub trait GuestType {
    /// The guest type.
    fn guest_type() -> ValType;
}

/// A Rust value that can be passed to the guest (an argument of a guest call, or the result
/// of a host function).
pub trait IntoGuest {
    /// The guest type, or `None` for [`Value`] (checked as it converts).
    fn static_type() -> Option<ValType>;
    /// Copies the value into `heap` as a slot of type `ty`.
    fn into_slot(self, ty: &ValType, heap: &mut Heap) -> Result<u64, ConvError>;
}

/// A Rust value that can be made from a guest value (the result of a guest call, or an
/// argument of a host function).
pub trait FromGuest: Sized {
    /// The guest type, or `None` for [`Value`].
    fn static_type() -> Option<ValType>;
    /// Copies slot `v` of guest type `ty` out of `heap`.
    fn from_slot(v: u64, ty: &ValType, heap: &Heap) -> Result<Self, ConvError>;
    /// Whether this is `()`: the result of a guest function that returns nothing.
    #[doc(hidden)]
    fn is_unit() -> bool {
        false
    }
}

/// `()` as a result: the guest function returns nothing.
impl FromGuest for () {
    fn static_type() -> Option<ValType> {
        None
    }
    fn from_slot(_: u64, _: &ValType, _: &Heap) -> Result<Self, ConvError> {
        Ok(())
    }
    fn is_unit() -> bool {
        true
    }
}

macro_rules! scalar {
    ($t:ty, $vt:ident, |$x:ident| $into:expr, |$s:ident| $from:expr) => {
        impl GuestType for $t {
            fn guest_type() -> ValType {
                ValType::$vt
            }
        }
        impl IntoGuest for $t {
            fn static_type() -> Option<ValType> {
                Some(ValType::$vt)
            }
            #[inline]
            fn into_slot(self, _: &ValType, _: &mut Heap) -> Result<u64, ConvError> {
                let $x = self;
                Ok($into)
            }
        }
        impl FromGuest for $t {
            fn static_type() -> Option<ValType> {
                Some(ValType::$vt)
            }
            #[inline]
            fn from_slot($s: u64, _: &ValType, _: &Heap) -> Result<Self, ConvError> {
                Ok($from)
            }
        }
    };
}

scalar!(i64, Int, |x| x as u64, |s| s as i64);
scalar!(f64, Float, |x| rvm_vm::float::canonical_bits(x), |s| {
    f64::from_bits(s)
});
scalar!(bool, Bool, |x| u64::from(x), |s| s != 0);

impl GuestType for String {
    fn guest_type() -> ValType {
        ValType::Str
    }
}

impl IntoGuest for String {
    fn static_type() -> Option<ValType> {
        Some(ValType::Str)
    }
    fn into_slot(self, _: &ValType, heap: &mut Heap) -> Result<u64, ConvError> {
        Ok(heap.alloc_str(self.into_boxed_str())? as u64)
    }
}

impl IntoGuest for &str {
    fn static_type() -> Option<ValType> {
        Some(ValType::Str)
    }
    fn into_slot(self, _: &ValType, heap: &mut Heap) -> Result<u64, ConvError> {
        Ok(heap.alloc_str(self.into())? as u64)
    }
}

impl GuestType for &str {
    fn guest_type() -> ValType {
        ValType::Str
    }
}

impl FromGuest for String {
    fn static_type() -> Option<ValType> {
        Some(ValType::Str)
    }
    fn from_slot(v: u64, _: &ValType, heap: &Heap) -> Result<Self, ConvError> {
        Ok(heap.str(v).to_owned())
    }
}

/// The element type of an array type (`ty` itself if the shapes disagree, which the
/// static checks rule out).
fn elem_of(ty: &ValType) -> &ValType {
    match ty {
        ValType::Array(e) => e,
        other => other,
    }
}

fn kv_of(ty: &ValType) -> (&ValType, &ValType) {
    match ty {
        ValType::Map(k, v) => (k, v),
        other => (other, other),
    }
}

fn array_into<T: IntoGuest>(
    items: impl ExactSizeIterator<Item = T>,
    ty: &ValType,
    heap: &mut Heap,
) -> Result<u64, ConvError> {
    let elem = elem_of(ty);
    let mut slots = Vec::with_capacity(items.len());
    for x in items {
        slots.push(x.into_slot(elem, heap)?);
    }
    Ok(heap.alloc_array(elem.kind(), slots)? as u64)
}

fn array_from<T: FromGuest>(v: u64, ty: &ValType, heap: &Heap) -> Result<Vec<T>, ConvError> {
    let elem = elem_of(ty);
    let arr = heap.array(v)?;
    arr.items
        .iter()
        .map(|&x| T::from_slot(x, elem, heap))
        .collect()
}

fn map_into<K: IntoGuest, V: IntoGuest>(
    entries: impl ExactSizeIterator<Item = (K, V)>,
    ty: &ValType,
    heap: &mut Heap,
) -> Result<u64, ConvError> {
    let (kt, vt) = kv_of(ty);
    let m = heap.alloc_map(MapObj::new(kt.kind(), vt.kind(), entries.len()))? as u64;
    for (k, v) in entries {
        let k = k.into_slot(kt, heap)?;
        let v = v.into_slot(vt, heap)?;
        heap.map_set(m, k, v)?;
    }
    Ok(m)
}

fn map_from<K: FromGuest, V: FromGuest>(
    v: u64,
    ty: &ValType,
    heap: &Heap,
) -> Result<Vec<(K, V)>, ConvError> {
    let (kt, vt) = kv_of(ty);
    let map = heap.map(v)?;
    map.iter()
        .map(|(k, v)| Ok((K::from_slot(k, kt, heap)?, V::from_slot(v, vt, heap)?)))
        .collect()
}

impl<T: GuestType> GuestType for Vec<T> {
    fn guest_type() -> ValType {
        ValType::Array(Box::new(T::guest_type()))
    }
}

impl<T: IntoGuest> IntoGuest for Vec<T> {
    fn static_type() -> Option<ValType> {
        Some(ValType::Array(Box::new(T::static_type()?)))
    }
    fn into_slot(self, ty: &ValType, heap: &mut Heap) -> Result<u64, ConvError> {
        array_into(self.into_iter(), ty, heap)
    }
}

impl<T: FromGuest> FromGuest for Vec<T> {
    fn static_type() -> Option<ValType> {
        Some(ValType::Array(Box::new(T::static_type()?)))
    }
    fn from_slot(v: u64, ty: &ValType, heap: &Heap) -> Result<Self, ConvError> {
        array_from(v, ty, heap)
    }
}

macro_rules! map_type {
    ($map:ident, $($bound:path),*) => {
        impl<K: GuestType, V: GuestType> GuestType for $map<K, V> {
            fn guest_type() -> ValType {
                ValType::Map(Box::new(K::guest_type()), Box::new(V::guest_type()))
            }
        }
        impl<K: IntoGuest, V: IntoGuest> IntoGuest for $map<K, V> {
            fn static_type() -> Option<ValType> {
                Some(ValType::Map(Box::new(K::static_type()?), Box::new(V::static_type()?)))
            }
            fn into_slot(self, ty: &ValType, heap: &mut Heap) -> Result<u64, ConvError> {
                map_into(self.into_iter(), ty, heap)
            }
        }
        impl<K: FromGuest $(+ $bound)*, V: FromGuest> FromGuest for $map<K, V> {
            fn static_type() -> Option<ValType> {
                Some(ValType::Map(Box::new(K::static_type()?), Box::new(V::static_type()?)))
            }
            fn from_slot(v: u64, ty: &ValType, heap: &Heap) -> Result<Self, ConvError> {
                Ok(map_from::<K, V>(v, ty, heap)?.into_iter().collect())
            }
        }
    };
}

map_type!(HashMap, Eq, Hash);
map_type!(BTreeMap, Ord);

impl IntoGuest for Value {
    fn static_type() -> Option<ValType> {
        None
    }
    fn into_slot(self, ty: &ValType, heap: &mut Heap) -> Result<u64, ConvError> {
        match (self, ty) {
            (Value::Int(i), ValType::Int) => Ok(i as u64),
            (Value::Float(x), ValType::Float) => Ok(rvm_vm::float::canonical_bits(x)),
            (Value::Bool(b), ValType::Bool) => Ok(u64::from(b)),
            (Value::Str(s), ValType::Str) => s.into_slot(ty, heap),
            (Value::Array(xs), ValType::Array(_)) => array_into(xs.into_iter(), ty, heap),
            (Value::Map(kvs), ValType::Map(..)) => map_into(kvs.into_iter(), ty, heap),
            (v, ty) => Err(ConvError::Mismatch {
                expected: ty.to_string(),
                found: v.to_string(),
            }),
        }
    }
}

impl FromGuest for Value {
    fn static_type() -> Option<ValType> {
        None
    }
    fn from_slot(v: u64, ty: &ValType, heap: &Heap) -> Result<Self, ConvError> {
        Ok(match ty {
            ValType::Int => Value::Int(v as i64),
            ValType::Float => Value::Float(f64::from_bits(v)),
            ValType::Bool => Value::Bool(v != 0),
            ValType::Str => Value::Str(heap.str(v).to_owned()),
            ValType::Array(_) => Value::Array(array_from(v, ty, heap)?),
            ValType::Map(..) => Value::Map(map_from(v, ty, heap)?),
        })
    }
}
