//! The type checker: resolves every name, infers and checks every type, and lowers the
//! syntax tree to the checked program ([`hir`]) that code generation consumes.
//!
//! It never stops at the first error: every mistake becomes a [`Diagnostic`] and the
//! offending expression gets the error type, which is compatible with everything, so one
//! mistake is reported once and the rest of the program is still checked.
//!
//! The work is done in passes over the whole program, so that functions and structs can be
//! used before their declaration:
//! 1. collect the top-level names of every file (duplicates are reported with both places);
//! 2. resolve struct fields, function and method signatures;
//! 3. check constants and global initialisers, in initialisation order (imported files
//!    first, then declaration order), folding constants;
//! 4. check every function body.
//!
//! Nothing here recurses on the length of a list (long `else if` chains, many statements or
//! many declarations are iterated), only on the nesting depth, which the parser limits.

pub mod hir;

mod assign;
mod calls;
mod decls;
mod expr;
mod externs;
mod fold;
mod methods;
mod names;
mod operators;
mod stmt;
mod suggest;

use std::collections::HashMap;

use crate::ast;
use crate::diagnostics::{Diagnostic, Diagnostics, FileId, SourceMap, Span};
use crate::types::{TyId, TypeTable};

/// One parsed file as the checker sees it.
#[derive(Debug, Clone, Copy)]
pub struct FileInput<'a> {
    /// Its syntax tree.
    pub ast: &'a ast::SourceFile,
    /// The file each `import` item resolved to, in item order (`None` if loading failed,
    /// which was already reported).
    pub imports: &'a [Option<FileId>],
}

/// The whole program to check.
#[derive(Debug, Clone)]
pub struct CheckInput<'a> {
    /// Every file of the program.
    pub files: Vec<FileInput<'a>>,
    /// The file compiled (where `main` must be).
    pub root: FileId,
    /// A library (a module for an embedder to call into): `main` is optional.
    pub library: bool,
}

/// Checks a program. Returns the checked program if no error was reported (warnings are
/// allowed); every problem found is pushed to `diags`.
pub fn check(
    input: &CheckInput<'_>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<hir::Program> {
    let errors_before = diags.error_count();
    let first_new = diags.items.len();
    let mut c = Checker::new(input, sources, diags);
    c.collect();
    c.resolve_signatures();
    c.collect_externs();
    c.compute_printable();
    c.check_module_level();
    c.check_functions();
    let main = if c.input.library && !c.has_main() {
        None
    } else {
        Some(c.check_main())
    };
    // Report in source order (file by file), whatever pass found each problem.
    let new = &mut c.diags.items[first_new..];
    new.sort_by_key(|d| (d.span.file, d.span.start));
    if c.diags.error_count() > errors_before {
        return None;
    }
    let main = match main {
        None => None,
        Some(m) => Some(m?),
    };
    Some(c.finish(main))
}

/// What a top-level name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decl {
    Fn(u32),
    Struct(u32),
    Global(u32),
    Const(u32),
    Alias(FileId),
}

/// The names visible at the top level of one file.
#[derive(Debug, Default)]
struct FileScope {
    /// The file's own declarations (and its import aliases).
    own: HashMap<String, (Decl, Span)>,
    /// Names brought in by `import "x.src";`, with the file they come from.
    imported: HashMap<String, Vec<(Decl, FileId)>>,
    /// Some import of this file could not be loaded: unknown names are not reported.
    incomplete: bool,
}

#[derive(Debug)]
struct StructEntry<'a> {
    name: String,
    file: FileId,
    decl: &'a ast::StructDecl,
    ty: TyId,
    fields: Vec<(String, TyId, Span)>,
    /// Field index by name.
    field_index: HashMap<String, u16>,
    methods: HashMap<String, u32>,
}

#[derive(Debug)]
struct FuncEntry<'a> {
    /// `name` or `Struct.name`.
    name: String,
    decl: &'a ast::FnDecl,
    file: FileId,
    /// The struct, for methods.
    owner: Option<u32>,
    params: Vec<TyId>,
    result: Option<TyId>,
    /// Its `fn` type (with `self` for methods).
    ty: TyId,
    body: Option<hir::Block>,
    locals: Vec<TyId>,
}

/// How far a module-level binding has been checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    /// Not yet reached in initialisation order.
    Pending,
    /// Checked (possibly with errors).
    Done,
}

#[derive(Debug)]
struct GlobalEntry<'a> {
    name: String,
    decl: &'a ast::GlobalDecl,
    file: FileId,
    ty: TyId,
    progress: Progress,
}

#[derive(Debug)]
struct ConstEntry<'a> {
    decl: &'a ast::GlobalDecl,
    file: FileId,
    /// The folded value (a literal), or an error expression.
    value: Option<hir::Expr>,
    progress: Progress,
}

struct Checker<'a, 'd> {
    input: &'a CheckInput<'a>,
    sources: &'a SourceMap,
    diags: &'d mut Diagnostics,
    types: TypeTable,
    structs: Vec<StructEntry<'a>>,
    funcs: Vec<FuncEntry<'a>>,
    globals: Vec<GlobalEntry<'a>>,
    consts: Vec<ConstEntry<'a>>,
    scopes: HashMap<FileId, FileScope>,
    /// Files in initialisation order (imported files before their importers).
    init_order: Vec<FileId>,
    /// Global initialisers in execution order.
    init: Vec<(u32, hir::Expr)>,
    /// Each module-level `const`/`let`/`var` by the span of its declaration.
    global_decls: HashMap<Span, Decl>,
    /// Per struct: it contains a function reference, so `to_str` refuses it.
    unprintable: Vec<bool>,
    /// How many more "did you mean" suggestions may be computed.
    suggestions_left: u32,
    /// The declared embedder functions (`extern fn`).
    externs: externs::Externs<'a>,
}

impl std::fmt::Debug for Checker<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker").finish_non_exhaustive()
    }
}

impl<'a, 'd> Checker<'a, 'd> {
    fn new(input: &'a CheckInput<'a>, sources: &'a SourceMap, diags: &'d mut Diagnostics) -> Self {
        Checker {
            input,
            sources,
            diags,
            types: TypeTable::new(),
            structs: Vec::new(),
            funcs: Vec::new(),
            globals: Vec::new(),
            consts: Vec::new(),
            scopes: HashMap::new(),
            init_order: Vec::new(),
            init: Vec::new(),
            global_decls: HashMap::new(),
            unprintable: Vec::new(),
            suggestions_left: suggest::SUGGESTION_BUDGET,
            externs: externs::Externs::default(),
        }
    }

    // ---- diagnostics helpers

    fn error(&mut self, span: Span, message: impl Into<String>, label: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(message, span).with_label(label));
    }

    fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Reports "mismatched types" unless `found` fits `expected`. Returns whether it fits.
    fn expect_type(&mut self, span: Span, found: TyId, expected: TyId) -> bool {
        if self.types.compatible(found, expected) {
            return true;
        }
        if found == TyId::UNIT {
            let msg = format!("expected a value of type `{}`", self.ty_name(expected));
            self.error(span, msg, "this call returns nothing");
            return false;
        }
        let label = format!(
            "expected `{}`, found `{}`",
            self.ty_name(expected),
            self.ty_name(found)
        );
        self.error(span, "mismatched types", label);
        false
    }

    fn ty_name(&self, ty: TyId) -> String {
        self.types.name(ty)
    }

    /// The source text of `span` (for messages such as a default assertion message).
    fn snippet(&self, span: Span) -> String {
        let text = &self.sources.get(span.file).text;
        text.get(span.start as usize..span.end as usize)
            .unwrap_or("")
            .to_owned()
    }

    fn file_name(&self, file: FileId) -> &str {
        &self.sources.get(file).name
    }

    // ---- final assembly

    fn finish(self, main: Option<u32>) -> hir::Program {
        let externs = self.extern_infos();
        let structs = self
            .structs
            .into_iter()
            .map(|s| hir::StructInfo {
                name: s.name,
                ty: s.ty,
                fields: s.fields.into_iter().map(|(n, t, _)| (n, t)).collect(),
            })
            .collect();
        let globals = self
            .globals
            .iter()
            .map(|g| hir::GlobalInfo {
                name: g.name.clone(),
                ty: g.ty,
                mutable: g.decl.kind == ast::BindingKind::Var,
            })
            .collect();
        // Export names: every function under its own name; a clash between files keeps
        // the plain name for the root file (or the first one) and qualifies the others.
        let root = self.input.root;
        let mut taken: HashMap<String, usize> = HashMap::new();
        let mut order: Vec<usize> = (0..self.funcs.len()).collect();
        order.sort_by_key(|&i| (self.funcs[i].file != root, i));
        let mut exports = vec![String::new(); self.funcs.len()];
        for i in order {
            let f = &self.funcs[i];
            let mut name = f.name.clone();
            if taken.contains_key(&name) {
                name = format!("{}:{}", self.sources.get(f.file).name, f.name);
                let mut n = 2;
                while taken.contains_key(&name) {
                    name = format!("{}:{}#{n}", self.sources.get(f.file).name, f.name);
                    n += 1;
                }
            }
            taken.insert(name.clone(), i);
            exports[i] = name;
        }
        let functions = self
            .funcs
            .into_iter()
            .zip(exports)
            .map(|(f, export)| hir::Function {
                name: f.name,
                export,
                params: f.params,
                result: f.result,
                locals: f.locals,
                body: f.body.unwrap_or_default(),
                span: f.decl.sig_span,
            })
            .collect();
        hir::Program {
            types: self.types,
            structs,
            globals,
            init: self.init,
            functions,
            main,
            externs,
        }
    }
}
