//! A small module builder for the verifier tests: types interned by shape, functions from
//! an assembly listing with named labels resolved to byte offsets.

use rvm_vm::format::{
    Export, FieldDef, FuncType, Function, Global, Import, Instr, LineEntry, Module, StructDef,
    TypeDef, TypeId,
};

/// One line of an assembly listing.
#[derive(Clone, Debug)]
#[allow(dead_code)]
pub enum A {
    /// An instruction (jump targets are ignored; use the label forms).
    I(Instr),
    /// A label at the next instruction.
    Label(&'static str),
    /// `jmp label`.
    Jmp(&'static str),
    /// `jmp.if label`.
    JmpIf(&'static str),
    /// `jmp.ifnot label`.
    JmpIfNot(&'static str),
}

impl From<Instr> for A {
    fn from(i: Instr) -> A {
        A::I(i)
    }
}

/// Assembles a listing into instructions with byte-offset jump targets.
pub fn assemble(listing: &[A]) -> Vec<Instr> {
    let mut labels = std::collections::HashMap::new();
    let mut at = 0u32;
    for a in listing {
        match a {
            A::Label(l) => {
                labels.insert(*l, at);
            }
            A::I(i) => at += i.encoded_len() as u32,
            A::Jmp(_) | A::JmpIf(_) | A::JmpIfNot(_) => at += 5,
        }
    }
    listing
        .iter()
        .filter_map(|a| match a {
            A::Label(_) => None,
            A::I(i) => Some(*i),
            A::Jmp(l) => Some(Instr::Jmp { target: labels[l] }),
            A::JmpIf(l) => Some(Instr::JmpIf { target: labels[l] }),
            A::JmpIfNot(l) => Some(Instr::JmpIfNot { target: labels[l] }),
        })
        .collect()
}

/// Builds a module.
#[derive(Debug, Default)]
pub struct Builder {
    pub m: Module,
}

#[allow(dead_code)]
impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    pub fn ty(&mut self, t: TypeDef) -> TypeId {
        self.m.intern_type(t)
    }
    pub fn int(&mut self) -> TypeId {
        self.ty(TypeDef::Int)
    }
    pub fn float(&mut self) -> TypeId {
        self.ty(TypeDef::Float)
    }
    pub fn bool_(&mut self) -> TypeId {
        self.ty(TypeDef::Bool)
    }
    pub fn str_(&mut self) -> TypeId {
        self.ty(TypeDef::Str)
    }
    pub fn array(&mut self, e: TypeId) -> TypeId {
        self.ty(TypeDef::Array(e))
    }
    pub fn map(&mut self, k: TypeId, v: TypeId) -> TypeId {
        self.ty(TypeDef::Map(k, v))
    }
    pub fn func_ty(&mut self, params: &[TypeId], result: Option<TypeId>) -> TypeId {
        self.ty(TypeDef::Func(FuncType {
            params: params.to_vec(),
            result,
        }))
    }
    /// Adds a struct (always a new entry: structs are nominal).
    pub fn strukt(&mut self, name: &str, fields: &[(&str, TypeId)]) -> TypeId {
        self.m.types.push(TypeDef::Struct(StructDef {
            name: name.into(),
            fields: fields
                .iter()
                .map(|(n, t)| FieldDef {
                    name: (*n).into(),
                    ty: *t,
                })
                .collect(),
        }));
        (self.m.types.len() - 1) as TypeId
    }

    pub fn string(&mut self, s: &str) -> u32 {
        self.m.intern_string(s)
    }

    pub fn global(&mut self, name: &str, ty: TypeId, mutable: bool) -> u32 {
        self.m.globals.push(Global {
            name: name.into(),
            ty,
            mutable,
        });
        (self.m.globals.len() - 1) as u32
    }

    pub fn import(&mut self, module: &str, name: &str, ty: TypeId) -> u32 {
        self.m.imports.push(Import {
            module: module.into(),
            name: name.into(),
            ty,
        });
        (self.m.imports.len() - 1) as u32
    }

    /// Declares a function (with no code yet) and returns its index.
    pub fn declare(&mut self, name: &str, params: &[TypeId], result: Option<TypeId>) -> u32 {
        let ty = self.func_ty(params, result);
        self.m.functions.push(Function {
            name: name.into(),
            ty,
            locals: Vec::new(),
            max_stack: 16,
            code: Vec::new(),
            lines: Vec::new(),
        });
        (self.m.functions.len() - 1) as u32
    }

    /// Gives function `f` its locals and code.
    pub fn define(&mut self, f: u32, locals: &[TypeId], listing: &[A]) {
        let func = &mut self.m.functions[f as usize];
        func.locals = locals.to_vec();
        func.code = assemble(listing);
    }

    /// Declares and defines a function in one go.
    pub fn func(
        &mut self,
        name: &str,
        params: &[TypeId],
        result: Option<TypeId>,
        locals: &[TypeId],
        listing: &[A],
    ) -> u32 {
        let f = self.declare(name, params, result);
        self.define(f, locals, listing);
        f
    }

    pub fn max_stack(&mut self, f: u32, n: u32) {
        self.m.functions[f as usize].max_stack = n;
    }

    pub fn export(&mut self, name: &str, func: u32) {
        self.m.exports.push(Export {
            name: name.into(),
            func,
        });
    }

    pub fn file(&mut self, name: &str) -> u32 {
        self.m.files.push(name.into());
        (self.m.files.len() - 1) as u32
    }

    pub fn line(&mut self, f: u32, offset: u32, file: u32, line: u32, column: u32) {
        self.m.functions[f as usize].lines.push(LineEntry {
            offset,
            file,
            line,
            column,
        });
    }

    pub fn build(self) -> Module {
        self.m
    }
}

/// `I(instr)` shorthand.
pub fn i(instr: Instr) -> A {
    A::I(instr)
}
