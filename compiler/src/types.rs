//! The checker's types: interned, so that equality is an integer comparison.
//!
//! Every type the checker meets is stored once in a [`TypeTable`] and named by a [`TyId`];
//! structs are nominal (one entry per declaration, even if two declarations look alike),
//! everything else is structural. Two special types keep the checker going after mistakes:
//! [`TyId::ERROR`] is the type of an expression that already produced a diagnostic and is
//! compatible with everything (so one mistake is reported once), and [`TyId::UNIT`] is the
//! "type" of a call to a function without a result, which is not a value.

use std::collections::HashMap;

/// An interned type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TyId(pub u32);

impl TyId {
    /// The type of an erroneous expression; compatible with every type.
    pub const ERROR: TyId = TyId(0);
    /// No value (the result of a call to a function without a result).
    pub const UNIT: TyId = TyId(1);
    /// `int`
    pub const INT: TyId = TyId(2);
    /// `float`
    pub const FLOAT: TyId = TyId(3);
    /// `bool`
    pub const BOOL: TyId = TyId(4);
    /// `str`
    pub const STR: TyId = TyId(5);
}

/// The shape of a type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TyKind {
    /// See [`TyId::ERROR`].
    Error,
    /// See [`TyId::UNIT`].
    Unit,
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `str`
    Str,
    /// `[T]`
    Array(TyId),
    /// `[K: V]`
    Map(TyId, TyId),
    /// A struct, by its index in the checker's struct list.
    Struct(u32),
    /// `fn(A, B) -> R`
    Fn(Vec<TyId>, Option<TyId>),
}

/// The table of interned types.
#[derive(Clone, Debug)]
pub struct TypeTable {
    kinds: Vec<TyKind>,
    index: HashMap<TyKind, TyId>,
    struct_names: Vec<String>,
}

impl Default for TypeTable {
    fn default() -> Self {
        TypeTable::new()
    }
}

impl TypeTable {
    /// A table holding the built-in types at their fixed ids.
    pub fn new() -> TypeTable {
        let mut t = TypeTable {
            kinds: Vec::new(),
            index: HashMap::new(),
            struct_names: Vec::new(),
        };
        for k in [
            TyKind::Error,
            TyKind::Unit,
            TyKind::Int,
            TyKind::Float,
            TyKind::Bool,
            TyKind::Str,
        ] {
            t.intern(k);
        }
        t
    }

    /// The id of `kind`, adding it if new.
    pub fn intern(&mut self, kind: TyKind) -> TyId {
        if let Some(&id) = self.index.get(&kind) {
            return id;
        }
        let id = TyId(self.kinds.len() as u32);
        self.kinds.push(kind.clone());
        self.index.insert(kind, id);
        id
    }

    /// `[elem]`
    pub fn array(&mut self, elem: TyId) -> TyId {
        self.intern(TyKind::Array(elem))
    }

    /// `[key: value]`
    pub fn map(&mut self, key: TyId, value: TyId) -> TyId {
        self.intern(TyKind::Map(key, value))
    }

    /// `fn(params) -> result`
    pub fn func(&mut self, params: Vec<TyId>, result: Option<TyId>) -> TyId {
        self.intern(TyKind::Fn(params, result))
    }

    /// Adds a new nominal struct type named `name` (its index is the struct's id).
    pub fn new_struct(&mut self, name: &str) -> TyId {
        let sid = self.struct_names.len() as u32;
        self.struct_names.push(name.to_owned());
        self.intern(TyKind::Struct(sid))
    }

    /// The shape of `id`.
    pub fn kind(&self, id: TyId) -> &TyKind {
        &self.kinds[id.0 as usize]
    }

    /// The number of interned types.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Whether the table is empty (never: the built-ins are always there).
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// The element type, if `id` is an array.
    pub fn array_elem(&self, id: TyId) -> Option<TyId> {
        match self.kind(id) {
            TyKind::Array(e) => Some(*e),
            _ => None,
        }
    }

    /// Key and value types, if `id` is a map.
    pub fn map_kv(&self, id: TyId) -> Option<(TyId, TyId)> {
        match self.kind(id) {
            TyKind::Map(k, v) => Some((*k, *v)),
            _ => None,
        }
    }

    /// The struct index, if `id` is a struct.
    pub fn struct_id(&self, id: TyId) -> Option<u32> {
        match self.kind(id) {
            TyKind::Struct(s) => Some(*s),
            _ => None,
        }
    }

    /// Whether values of `id` are heap references or function references (compared by
    /// identity with `==`).
    pub fn is_identity(&self, id: TyId) -> bool {
        matches!(
            self.kind(id),
            TyKind::Array(_) | TyKind::Map(..) | TyKind::Struct(_) | TyKind::Fn(..)
        )
    }

    /// Whether `id` is the error type or is built from it (`[<error>]`).
    pub fn contains_error(&self, id: TyId) -> bool {
        match self.kind(id) {
            TyKind::Error => return true,
            TyKind::Array(_) | TyKind::Map(..) | TyKind::Fn(..) => {}
            _ => return false,
        }
        // Types are interned bottom-up, so they form a DAG: visit each node once.
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![id];
        while let Some(t) = stack.pop() {
            if !seen.insert(t) {
                continue;
            }
            match self.kind(t) {
                TyKind::Error => return true,
                TyKind::Array(e) => stack.push(*e),
                TyKind::Map(k, v) => stack.extend([*k, *v]),
                TyKind::Fn(ps, r) => {
                    stack.extend(ps.iter().copied());
                    stack.extend(*r);
                }
                _ => {}
            }
        }
        false
    }

    /// Whether a value of type `found` may be used where `expected` is wanted: they are
    /// equal, or one of them involves an earlier error.
    pub fn compatible(&self, found: TyId, expected: TyId) -> bool {
        found == expected || self.contains_error(found) || self.contains_error(expected)
    }

    /// The type as written in source: `int`, `[str: [float]]`, `Point`, `fn(int) -> bool`.
    pub fn name(&self, id: TyId) -> String {
        let mut out = String::new();
        self.write_name(id, &mut out, 0);
        out
    }

    fn write_name(&self, id: TyId, out: &mut String, depth: u32) {
        if depth > 32 {
            out.push_str("...");
            return;
        }
        match self.kind(id) {
            TyKind::Error => out.push_str("{unknown}"),
            TyKind::Unit => out.push_str("()"),
            TyKind::Int => out.push_str("int"),
            TyKind::Float => out.push_str("float"),
            TyKind::Bool => out.push_str("bool"),
            TyKind::Str => out.push_str("str"),
            TyKind::Array(e) => {
                out.push('[');
                self.write_name(*e, out, depth + 1);
                out.push(']');
            }
            TyKind::Map(k, v) => {
                out.push('[');
                self.write_name(*k, out, depth + 1);
                out.push_str(": ");
                self.write_name(*v, out, depth + 1);
                out.push(']');
            }
            TyKind::Struct(s) => out.push_str(&self.struct_names[*s as usize]),
            TyKind::Fn(ps, r) => {
                out.push_str("fn(");
                for (i, p) in ps.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.write_name(*p, out, depth + 1);
                }
                out.push(')');
                if let Some(r) = r {
                    out.push_str(" -> ");
                    self.write_name(*r, out, depth + 1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_and_names() {
        let mut t = TypeTable::new();
        let a = t.array(TyId::INT);
        assert_eq!(a, t.array(TyId::INT));
        let m = t.map(TyId::STR, a);
        assert_eq!(t.name(m), "[str: [int]]");
        let p = t.new_struct("Point");
        let f = t.func(vec![p, TyId::FLOAT], Some(TyId::BOOL));
        assert_eq!(t.name(f), "fn(Point, float) -> bool");
        let q = t.new_struct("Point");
        assert_ne!(p, q);
        let e = t.array(TyId::ERROR);
        assert!(t.compatible(e, a));
        assert!(!t.compatible(a, m));
    }
}
