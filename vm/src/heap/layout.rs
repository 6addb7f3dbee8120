//! What the runtime needs to know about each type id, precomputed once per verified module
//! (and shared by every VM running it).
//!
//! The bytecode names types by id; the interpreter needs, at a glance, whether a slot of a
//! type is a reference (for the collector), how to compare it (`contains`, `sort`, map keys)
//! and how to print it. [`ValKind`] is that summary, and [`Layouts`] maps every type id to
//! it, plus the element kinds of array and map types and the field kinds of struct types.

use crate::format::{Module, TypeDef};

/// How a 64-bit slot is interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValKind {
    /// `int`: i64.
    Int,
    /// `float`: f64 bits.
    Float,
    /// `bool`: 0 or 1.
    Bool,
    /// `str`: a handle to a string object.
    Str,
    /// A function reference: the function index.
    Func,
    /// An array, map or struct: a handle (compared by identity).
    Ref,
}

impl ValKind {
    /// Whether slots of this kind hold heap handles.
    #[inline]
    pub fn is_ref(self) -> bool {
        matches!(self, ValKind::Str | ValKind::Ref)
    }
}

/// The runtime summary of one type id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeLayout {
    /// `int`, `float`, `bool` or `str`.
    Scalar(ValKind),
    /// An array with this element kind.
    Array(ValKind),
    /// A map with these key and value kinds.
    Map(ValKind, ValKind),
    /// A struct with these field kinds.
    Struct(Box<[ValKind]>),
    /// A function type with this many parameters.
    Func(usize),
}

/// [`TypeLayout`] for every type id of a module.
#[derive(Clone, Debug)]
pub struct Layouts {
    types: Vec<TypeLayout>,
}

impl Layouts {
    /// Computes the layouts of `module`'s types. Ids out of range (which verified modules do
    /// not contain) are treated as `int`.
    pub fn new(module: &Module) -> Layouts {
        let kind = |id: u32| match module.types.get(id as usize) {
            Some(TypeDef::Int) | None => ValKind::Int,
            Some(TypeDef::Float) => ValKind::Float,
            Some(TypeDef::Bool) => ValKind::Bool,
            Some(TypeDef::Str) => ValKind::Str,
            Some(TypeDef::Func(_)) => ValKind::Func,
            Some(TypeDef::Array(_) | TypeDef::Map(..) | TypeDef::Struct(_)) => ValKind::Ref,
        };
        let types = module
            .types
            .iter()
            .enumerate()
            .map(|(id, t)| match t {
                TypeDef::Array(e) => TypeLayout::Array(kind(*e)),
                TypeDef::Map(k, v) => TypeLayout::Map(kind(*k), kind(*v)),
                TypeDef::Struct(s) => {
                    TypeLayout::Struct(s.fields.iter().map(|f| kind(f.ty)).collect())
                }
                TypeDef::Func(f) => TypeLayout::Func(f.params.len()),
                _ => TypeLayout::Scalar(kind(id as u32)),
            })
            .collect();
        Layouts { types }
    }

    /// The layout of type `ty`.
    #[inline]
    pub fn get(&self, ty: u32) -> &TypeLayout {
        const INT: TypeLayout = TypeLayout::Scalar(ValKind::Int);
        self.types.get(ty as usize).unwrap_or(&INT)
    }

    /// The kind of a value of type `ty`.
    #[inline]
    pub fn kind(&self, ty: u32) -> ValKind {
        match self.get(ty) {
            TypeLayout::Scalar(k) => *k,
            TypeLayout::Func(_) => ValKind::Func,
            TypeLayout::Array(_) | TypeLayout::Map(..) | TypeLayout::Struct(_) => ValKind::Ref,
        }
    }

    /// The element kind of array type `ty`.
    #[inline]
    pub fn elem(&self, ty: u32) -> ValKind {
        match self.get(ty) {
            TypeLayout::Array(k) => *k,
            _ => ValKind::Int,
        }
    }

    /// The key and value kinds of map type `ty`.
    #[inline]
    pub fn map_kinds(&self, ty: u32) -> (ValKind, ValKind) {
        match self.get(ty) {
            TypeLayout::Map(k, v) => (*k, *v),
            _ => (ValKind::Int, ValKind::Int),
        }
    }

    /// The parameter count of function type `ty` (0 if `ty` is not a function type).
    #[inline]
    pub fn param_count(&self, ty: u32) -> usize {
        match self.get(ty) {
            TypeLayout::Func(n) => *n,
            _ => 0,
        }
    }

    /// The field kinds of struct type `ty` (empty if `ty` is not a struct).
    #[inline]
    pub fn fields(&self, ty: u32) -> &[ValKind] {
        match self.get(ty) {
            TypeLayout::Struct(f) => f,
            _ => &[],
        }
    }
}
