//! The type table: its well-formedness rules, and the verifier's view of types.
//!
//! Because non-struct entries are structural and the table holds each at most once (a rule
//! checked here), two equal type ids mean two equal types. The verifier therefore works
//! with [`Ty`]: the four scalars by name (so code using `i.add` needs no `int` entry), and
//! everything else by its type id, compared by id.

use std::collections::HashMap;

use super::{Rule, VerifyError};
use crate::format::{FuncType, Module, Scalar, StructDef, TypeDef, TypeId};
use crate::host::HostType;

/// A type as the verifier tracks it on the operand stack and in locals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Ty {
    Int,
    Float,
    Bool,
    Str,
    /// An array, map, struct or function type, by its id in the type table.
    Id(TypeId),
}

impl From<Scalar> for Ty {
    fn from(s: Scalar) -> Ty {
        match s {
            Scalar::Int => Ty::Int,
            Scalar::Float => Ty::Float,
            Scalar::Bool => Ty::Bool,
            Scalar::Str => Ty::Str,
        }
    }
}

/// The checked type table with the facts the rest of the verifier asks about.
pub(super) struct Types<'m> {
    module: &'m Module,
    /// Per type id, its [`Ty`].
    norm: Vec<Ty>,
    /// Per type id, whether `to_str` accepts it.
    printable: Vec<bool>,
}

impl<'m> Types<'m> {
    /// Checks the type table: every id in range, no forward references among non-struct
    /// types, no duplicate structural entries, map keys of a hashable scalar type.
    pub(super) fn check(module: &'m Module) -> Result<Types<'m>, VerifyError> {
        let defs = &module.types;
        let count = defs.len();
        let err = |rule: Rule, msg: String| Err(VerifyError::module(rule, msg));
        let mut seen: HashMap<&TypeDef, usize> = HashMap::new();
        for (i, def) in defs.iter().enumerate() {
            let structural = !matches!(def, TypeDef::Struct(_));
            for id in components(def) {
                let Some(target) = defs.get(id as usize) else {
                    return err(
                        Rule::TypeIndex,
                        format!("type #{i} refers to type #{id}, but the table has {count} types"),
                    );
                };
                if structural && id as usize >= i && !matches!(target, TypeDef::Struct(_)) {
                    return err(
                        Rule::TypeForwardReference,
                        format!(
                            "type #{i} refers to type #{id}, which is neither earlier nor a struct"
                        ),
                    );
                }
            }
            if let TypeDef::Map(k, _) = def
                && !matches!(
                    defs.get(*k as usize),
                    Some(TypeDef::Int | TypeDef::Str | TypeDef::Bool)
                )
            {
                return err(
                    Rule::MapKeyType,
                    format!(
                        "type #{i} is a map with key type {}; keys must be int, str or bool",
                        module.type_name(*k)
                    ),
                );
            }
            if structural && let Some(first) = seen.insert(def, i) {
                return err(
                    Rule::TypeDuplicate,
                    format!(
                        "type #{i} ({}) duplicates type #{first}",
                        module.type_name(i as TypeId)
                    ),
                );
            }
        }

        let norm: Vec<Ty> = defs
            .iter()
            .enumerate()
            .map(|(i, d)| match d {
                TypeDef::Int => Ty::Int,
                TypeDef::Float => Ty::Float,
                TypeDef::Bool => Ty::Bool,
                TypeDef::Str => Ty::Str,
                _ => Ty::Id(i as TypeId),
            })
            .collect();

        // Printability is the greatest fixpoint of "not a function, and every component
        // printable": start from the function types and spread "not printable" to every
        // type that contains one, along reversed component edges. Linear in the table.
        let mut printable = vec![true; count];
        let mut users: Vec<Vec<u32>> = vec![Vec::new(); count];
        let mut work = Vec::new();
        for (i, def) in defs.iter().enumerate() {
            if matches!(def, TypeDef::Func(_)) {
                printable[i] = false;
                work.push(i);
            } else {
                for id in components(def) {
                    if let Some(u) = users.get_mut(id as usize) {
                        u.push(i as u32);
                    }
                }
            }
        }
        while let Some(i) = work.pop() {
            for &u in &users[i] {
                if printable[u as usize] {
                    printable[u as usize] = false;
                    work.push(u as usize);
                }
            }
        }
        Ok(Types {
            module,
            norm,
            printable,
        })
    }

    /// The [`Ty`] of type id `id`, or `None` when out of range.
    pub(super) fn get(&self, id: TypeId) -> Option<Ty> {
        self.norm.get(id as usize).copied()
    }

    /// The [`Ty`] of an id already known to be in range (a component of a checked entry).
    /// An out-of-range id maps to an id that every shape query rejects.
    pub(super) fn of(&self, id: TypeId) -> Ty {
        self.get(id).unwrap_or(Ty::Id(id))
    }

    fn def(&self, ty: Ty) -> Option<&'m TypeDef> {
        match ty {
            Ty::Id(id) => self.module.types.get(id as usize),
            _ => None,
        }
    }

    /// Whether values of `ty` are heap references (strings, arrays, maps, structs).
    pub(super) fn is_fn(&self, ty: Ty) -> bool {
        matches!(self.def(ty), Some(TypeDef::Func(_)))
    }

    pub(super) fn is_ref(&self, ty: Ty) -> bool {
        match ty {
            Ty::Str => true,
            Ty::Int | Ty::Float | Ty::Bool => false,
            Ty::Id(_) => matches!(
                self.def(ty),
                Some(TypeDef::Array(_) | TypeDef::Map(..) | TypeDef::Struct(_))
            ),
        }
    }

    /// Whether `r.eq` may compare two values of `ty` by identity.
    pub(super) fn is_identity_comparable(&self, ty: Ty) -> bool {
        matches!(
            self.def(ty),
            Some(TypeDef::Array(_) | TypeDef::Map(..) | TypeDef::Struct(_) | TypeDef::Func(_))
        )
    }

    /// Whether `to_str` accepts `ty`.
    pub(super) fn is_printable(&self, ty: Ty) -> bool {
        match ty {
            Ty::Id(id) => self.printable.get(id as usize).copied().unwrap_or(false),
            _ => true,
        }
    }

    /// The element type, when `ty` is an array.
    pub(super) fn array_elem(&self, ty: Ty) -> Option<Ty> {
        match self.def(ty) {
            Some(TypeDef::Array(e)) => Some(self.of(*e)),
            _ => None,
        }
    }

    /// The key and value types, when `ty` is a map.
    pub(super) fn map_kv(&self, ty: Ty) -> Option<(Ty, Ty)> {
        match self.def(ty) {
            Some(TypeDef::Map(k, v)) => Some((self.of(*k), self.of(*v))),
            _ => None,
        }
    }

    /// The struct definition, when `ty` is a struct.
    pub(super) fn struct_def(&self, ty: Ty) -> Option<&'m StructDef> {
        match self.def(ty) {
            Some(TypeDef::Struct(s)) => Some(s),
            _ => None,
        }
    }

    /// The signature, when `ty` is a function type.
    pub(super) fn func(&self, ty: Ty) -> Option<&'m FuncType> {
        match self.def(ty) {
            Some(TypeDef::Func(f)) => Some(f),
            _ => None,
        }
    }

    /// The signature of type id `id`, when it is a function type.
    pub(super) fn func_of_id(&self, id: TypeId) -> Option<&'m FuncType> {
        self.get(id).and_then(|t| self.func(t))
    }

    /// Whether `ty` is the host type `host`.
    pub(super) fn matches_host(&self, ty: Ty, host: HostType) -> bool {
        match host {
            HostType::Int => ty == Ty::Int,
            HostType::Float => ty == Ty::Float,
            HostType::Bool => ty == Ty::Bool,
            HostType::Str => ty == Ty::Str,
            HostType::StrArray => self.array_elem(ty) == Some(Ty::Str),
        }
    }

    /// A readable name (`int`, `[str]`, `Point`, `fn(int) -> int`).
    pub(super) fn name(&self, ty: Ty) -> String {
        match ty {
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Bool => "bool".into(),
            Ty::Str => "str".into(),
            Ty::Id(id) => self.module.type_name(id),
        }
    }

    /// Readable names of a stack, bottom first: `[int, str]`.
    pub(super) fn stack_name(&self, stack: &[Ty]) -> String {
        let names: Vec<String> = stack.iter().map(|t| self.name(*t)).collect();
        format!("[{}]", names.join(", "))
    }
}

/// The type ids an entry refers to.
fn components(def: &TypeDef) -> Vec<TypeId> {
    match def {
        TypeDef::Int | TypeDef::Float | TypeDef::Bool | TypeDef::Str => Vec::new(),
        TypeDef::Array(e) => vec![*e],
        TypeDef::Map(k, v) => vec![*k, *v],
        TypeDef::Struct(s) => s.fields.iter().map(|f| f.ty).collect(),
        TypeDef::Func(f) => f.params.iter().copied().chain(f.result).collect(),
    }
}
