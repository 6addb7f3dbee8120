//! Code generation: the checked program ([`hir`]) → a bytecode [`Module`].
//!
//! Everything that can go wrong has been reported by the checker, so this never fails. Its
//! job is choosing instruction sequences the interpreter runs fast: conditions compile to
//! jumps directly (`&&`, `||` and `!` never materialise a bool in an `if` or `while`),
//! loops are inverted (one conditional backward jump per iteration), locals stay in
//! locals, and nothing dead is emitted. It also keeps the verifier's rules by construction:
//! the operand stack is empty between statements, equal at every join point, and every
//! hidden local is written before it is read.
//!
//! Function indices: `$init` is function 0 and checked function `i` is function `i + 1`.

mod emitter;
mod expr;
mod stmt;

use std::collections::HashMap;

use crate::check::hir::{self, Program};
use crate::diagnostics::{FileId, SourceMap, Span};
use crate::types::{TyId, TyKind};
use codespan_reporting::files::Files;
use emitter::{Emitter, Label};
use rvm_vm::format::{
    Export, FieldDef, FuncType, Function, Global, Import, Instr, Module, StructDef, TypeDef, TypeId,
};
use rvm_vm::host::{HostFn, HostType};

/// Generates the module for a checked program. `Err` carries the position of an
/// expression the checker left erroneous without reporting it (a compiler bug, turned
/// into a diagnostic rather than invalid bytecode).
pub fn generate(program: &Program, sources: &SourceMap) -> Result<Module, Span> {
    let mut g = Gen {
        prog: program,
        sources,
        module: Module::default(),
        type_map: vec![None; program.types.len()],
        imports: HashMap::new(),
        extern_imports: HashMap::new(),
        positions: Positions::default(),
        broken: None,
    };
    g.module.files = sources.files().iter().map(|f| f.name.clone()).collect();
    g.add_structs();
    for gl in &program.globals {
        let ty = g.ty(gl.ty);
        g.module.globals.push(Global {
            name: gl.name.clone(),
            ty,
            mutable: gl.mutable,
        });
    }
    // Function headers first would need every signature before any body; the bodies only
    // need function indices, which are fixed, so each function is generated in turn.
    let init = g.gen_init();
    g.module.functions.push(init);
    for (i, f) in program.functions.iter().enumerate() {
        let func = g.gen_function(f);
        g.module.functions.push(func);
        g.module.exports.push(Export {
            name: f.export.clone(),
            func: i as u32 + 1,
        });
    }
    g.module.init = Some(0);
    g.module.main = program.main.map(|m| m + 1);
    match g.broken {
        Some(span) => Err(span),
        None => Ok(g.module),
    }
}

/// Module-wide state.
struct Gen<'p> {
    prog: &'p Program,
    sources: &'p SourceMap,
    module: Module,
    type_map: Vec<Option<TypeId>>,
    imports: HashMap<HostFn, u32>,
    /// The import index of each embedder function used (by index into the externs).
    extern_imports: HashMap<u32, u32>,
    positions: Positions,
    /// The first erroneous expression met (see [`generate`]).
    broken: Option<Span>,
}

/// Line and column of byte offsets, remembering the last answer so that the many positions
/// on one line are counted incrementally (a program written on one long line must not
/// make code generation quadratic).
#[derive(Debug, Default)]
struct Positions {
    /// File, line index, byte offset and 1-based column of the last answer.
    last: Option<(FileId, usize, usize, u32)>,
}

impl Positions {
    fn line_col(&mut self, sources: &SourceMap, span: Span) -> (u32, u32) {
        let (file, off) = (span.file, span.start as usize);
        let Ok(line) = sources.line_index(file, off) else {
            return sources.line_col(file, span.start);
        };
        let Ok(range) = sources.line_range(file, line) else {
            return sources.line_col(file, span.start);
        };
        let text = &sources.get(file).text;
        let off = off.min(range.end).max(range.start);
        let (from, base) = match self.last {
            Some((f, l, o, c)) if f == file && l == line && o <= off => (o, c),
            _ => (range.start, 1),
        };
        let col = base
            + text
                .get(from..off)
                .map_or(off - from, |s| s.chars().count()) as u32;
        self.last = Some((file, line, off, col));
        (line as u32 + 1, col)
    }
}

impl Gen<'_> {
    /// Adds every struct to the type table once (nominal), then fills in their fields.
    fn add_structs(&mut self) {
        for s in &self.prog.structs {
            self.module.types.push(TypeDef::Struct(StructDef {
                name: s.name.clone(),
                fields: Vec::new(),
            }));
            let id = (self.module.types.len() - 1) as TypeId;
            self.type_map[s.ty.0 as usize] = Some(id);
        }
        for s in &self.prog.structs {
            let fields: Vec<FieldDef> = s
                .fields
                .iter()
                .map(|(n, t)| FieldDef {
                    name: n.clone(),
                    ty: self.ty(*t),
                })
                .collect();
            let id = self.type_map[s.ty.0 as usize].unwrap_or(0);
            if let Some(TypeDef::Struct(def)) = self.module.types.get_mut(id as usize) {
                def.fields = fields;
            }
        }
    }

    /// The module type id of checker type `t` (interned on first use). Iterative over
    /// nested types would be overkill: nesting depth is bounded by the parser.
    fn ty(&mut self, t: TyId) -> TypeId {
        if let Some(id) = self.type_map.get(t.0 as usize).copied().flatten() {
            return id;
        }
        let def = match self.prog.types.kind(t).clone() {
            TyKind::Int => TypeDef::Int,
            TyKind::Float => TypeDef::Float,
            TyKind::Bool => TypeDef::Bool,
            TyKind::Str => TypeDef::Str,
            TyKind::Array(e) => TypeDef::Array(self.ty(e)),
            TyKind::Map(k, v) => TypeDef::Map(self.ty(k), self.ty(v)),
            TyKind::Fn(ps, r) => TypeDef::Func(FuncType {
                params: ps.iter().map(|p| self.ty(*p)).collect(),
                result: r.map(|r| self.ty(r)),
            }),
            // Structs are added up front; error and unit types never reach code generation.
            TyKind::Struct(_) | TyKind::Error | TyKind::Unit => TypeDef::Int,
        };
        let id = self.module.intern_type(def);
        if let Some(slot) = self.type_map.get_mut(t.0 as usize) {
            *slot = Some(id);
        }
        id
    }

    fn func_type(&mut self, params: &[TyId], result: Option<TyId>) -> TypeId {
        let def = TypeDef::Func(FuncType {
            params: params.iter().map(|p| self.ty(*p)).collect(),
            result: result.map(|r| self.ty(r)),
        });
        self.module.intern_type(def)
    }

    /// The import index of embedder function `x` (an index into the program's externs),
    /// adding it on first use, with its parameter count and whether it pushes a result.
    fn extern_import(&mut self, x: u32) -> (u32, u32, u32) {
        let prog = self.prog;
        let info = &prog.externs[x as usize];
        let (params, pushes) = (info.params.len() as u32, u32::from(info.result.is_some()));
        if let Some(&i) = self.extern_imports.get(&x) {
            return (i, params, pushes);
        }
        let ps = info.params.iter().map(|p| self.ty(*p)).collect();
        let result = info.result.map(|r| self.ty(r));
        let ty = self
            .module
            .intern_type(TypeDef::Func(FuncType { params: ps, result }));
        self.module.imports.push(Import {
            module: info.namespace.clone(),
            name: info.name.clone(),
            ty,
        });
        let i = self.module.imports.len() as u32 - 1;
        self.extern_imports.insert(x, i);
        (i, params, pushes)
    }

    /// The import index of host function `h`, adding it on first use.
    fn import(&mut self, h: HostFn) -> u32 {
        if let Some(&i) = self.imports.get(&h) {
            return i;
        }
        let conv = |t: HostType, g: &mut Self| match t {
            HostType::Int => g.module.intern_type(TypeDef::Int),
            HostType::Float => g.module.intern_type(TypeDef::Float),
            HostType::Bool => g.module.intern_type(TypeDef::Bool),
            HostType::Str => g.module.intern_type(TypeDef::Str),
            HostType::StrArray => {
                let s = g.module.intern_type(TypeDef::Str);
                g.module.intern_type(TypeDef::Array(s))
            }
        };
        let params = h.params().iter().map(|p| conv(*p, self)).collect();
        let result = h.result().map(|r| conv(r, self));
        let ty = self
            .module
            .intern_type(TypeDef::Func(FuncType { params, result }));
        self.module.imports.push(Import {
            module: h.module().to_owned(),
            name: h.name().to_owned(),
            ty,
        });
        let i = (self.module.imports.len() - 1) as u32;
        self.imports.insert(h, i);
        i
    }

    fn gen_init(&mut self) -> Function {
        let ty = self.func_type(&[], None);
        let prog = self.prog;
        let mut f = FnGen::new(self, 0, Vec::new());
        for (g, e) in &prog.init {
            f.mark(e.span);
            f.expr(e);
            f.em.emit(Instr::GlobalSet { index: *g });
        }
        f.em.emit_with(Instr::Ret {}, 0, 0);
        let (code, lines, locals, max_stack) = f.em.finish();
        Function {
            name: "$init".into(),
            ty,
            locals,
            max_stack,
            code,
            lines,
        }
    }

    fn gen_function(&mut self, func: &hir::Function) -> Function {
        let ty = self.func_type(&func.params, func.result);
        let nparams = func.params.len();
        let locals: Vec<TypeId> = func.locals[nparams.min(func.locals.len())..]
            .iter()
            .map(|t| self.ty(*t))
            .collect();
        let mut f = FnGen::new(self, nparams as u32, locals);
        f.mark(func.span);
        f.block(&func.body);
        if f.em.reachable() {
            debug_assert!(
                func.result.is_none(),
                "checker let a function fall off its end"
            );
            f.em.emit_with(Instr::Ret {}, 0, 0);
        }
        let (code, lines, locals, max_stack) = f.em.finish();
        Function {
            name: func.name.clone(),
            ty,
            locals,
            max_stack,
            code,
            lines,
        }
    }
}

/// Per-function state.
struct FnGen<'g, 'p> {
    g: &'g mut Gen<'p>,
    em: Emitter,
    /// `(break, continue)` targets of the enclosing loops.
    loops: Vec<(Label, Label)>,
}

impl<'g, 'p> FnGen<'g, 'p> {
    fn new(g: &'g mut Gen<'p>, params: u32, locals: Vec<TypeId>) -> Self {
        FnGen {
            g,
            em: Emitter::new(params, locals),
            loops: Vec::new(),
        }
    }

    /// Records `span` as the source position of the next instruction.
    fn mark(&mut self, span: Span) {
        if !self.em.reachable() {
            return;
        }
        let (line, col) = self.g.positions.line_col(self.g.sources, span);
        self.em.mark(span.file.0, line, col);
    }

    fn ty(&mut self, t: TyId) -> TypeId {
        self.g.ty(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_positions_match_the_source_map() {
        let mut sources = SourceMap::new();
        let text = "ab\nhé llo wörld\n\nxyz é";
        let f = sources.add("t.src", text);
        let mut p = Positions::default();
        let offsets: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for &o in offsets
            .iter()
            .chain(offsets.iter().rev())
            .chain(offsets.iter().step_by(3))
        {
            let span = Span::new(f, o, o);
            assert_eq!(
                p.line_col(&sources, span),
                sources.line_col(f, o as u32),
                "offset {o}"
            );
        }
    }
}
