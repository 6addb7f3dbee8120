//! Names in expressions: locals, top-level declarations, and namespaces (`u.` for an
//! import alias, `Point.` for static methods, and the built-in `math.`, `int.`, `os.`).
//!
//! A local always wins over a top-level name, and a top-level name over a built-in
//! namespace, so a program may call a variable `math` without breaking.

use super::decls::TopLookup;
use super::hir::{self, ExprKind};
use super::stmt::FnCtx;
use super::{Checker, Decl, Progress};
use crate::ast::{self, Expr};
use crate::diagnostics::{Diagnostic, FileId, Span};
use crate::types::TyId;

/// Something that is not a value but has members: `u.` (an import alias), `Point.` (static
/// methods), `math.`, `int.`, `os.`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Namespace {
    File(FileId),
    Struct(u32),
    Builtin(&'static str),
    /// An embedder namespace declared by `extern fn` (an index into the checker's list).
    Extern(u32),
    /// An alias whose import failed (already reported): every member is an error.
    Unknown,
}

/// Built-in namespaces.
pub(super) const BUILTIN_NAMESPACES: &[&str] = &[
    "math", "int", "float", "os", "fs", "env", "time", "random", "io",
];

/// Built-in functions (called by name).
pub(super) const BUILTIN_FUNCTIONS: &[&str] = &[
    "print", "println", "eprintln", "assert", "abs", "min", "max", "chr", "ord", "array", "int",
    "float", "str",
];

impl Checker<'_, '_> {
    pub(super) fn check_ident(&mut self, ctx: &mut FnCtx, name: &str, span: Span) -> hir::Expr {
        if let Some(b) = ctx.read(name) {
            return hir::Expr {
                kind: ExprKind::Local(b.local),
                ty: b.ty,
                span,
            };
        }
        match self.lookup_top(ctx.file, name) {
            TopLookup::Found(d) => self.decl_value(ctx, d, name, span),
            TopLookup::Ambiguous(files) => {
                self.report_ambiguous(span, name, &files);
                hir::Expr::error(span)
            }
            TopLookup::NotFound => {
                if BUILTIN_FUNCTIONS.contains(&name) {
                    let msg = format!("built-in function `{name}` cannot be used as a value");
                    self.error(span, msg, "call it instead");
                } else if BUILTIN_NAMESPACES.contains(&name) {
                    let msg = format!("`{name}` is a module, not a value");
                    self.error(span, msg, format!("use one of its members: `{name}.name`"));
                } else if self.file_complete(ctx.file) {
                    let msg = format!("cannot find value `{name}` in this scope");
                    let d = Diagnostic::error(msg, span).with_label("not found");
                    let names = self.value_names(ctx, ctx.file);
                    let d = self.with_suggestion(d, name, names.iter().map(String::as_str));
                    self.report(d);
                }
                hir::Expr::error(span)
            }
        }
    }

    /// The value of a top-level declaration used as an expression.
    pub(super) fn decl_value(&mut self, ctx: &FnCtx, d: Decl, name: &str, span: Span) -> hir::Expr {
        match d {
            Decl::Global(g) => {
                let entry = &self.globals[g as usize];
                if ctx.module_level && entry.progress == Progress::Pending {
                    let decl_span = entry.decl.name.span;
                    self.report_before_decl(span, name, decl_span);
                    return hir::Expr::error(span);
                }
                hir::Expr {
                    kind: ExprKind::Global(g),
                    ty: entry.ty,
                    span,
                }
            }
            Decl::Const(c) => {
                let entry = &self.consts[c as usize];
                match &entry.value {
                    Some(v) => hir::Expr { span, ..v.clone() },
                    None => {
                        let decl_span = entry.decl.name.span;
                        self.report_before_decl(span, name, decl_span);
                        hir::Expr::error(span)
                    }
                }
            }
            Decl::Fn(f) => hir::Expr {
                kind: ExprKind::FnRef(f),
                ty: self.funcs[f as usize].ty,
                span,
            },
            Decl::Struct(_) => {
                self.report(
                    Diagnostic::error(format!("`{name}` is a struct, not a value"), span)
                        .with_label("expected a value")
                        .with_note(format!("create one with `{name}(field: value, ...)`")),
                );
                hir::Expr::error(span)
            }
            Decl::Alias(_) => {
                let msg = format!("`{name}` is an import alias, not a value");
                self.error(span, msg, format!("use one of its members: `{name}.name`"));
                hir::Expr::error(span)
            }
        }
    }

    fn report_before_decl(&mut self, span: Span, name: &str, decl_span: Span) {
        self.report(
            Diagnostic::error(format!("`{name}` is used before its declaration"), span)
                .with_label("used here, before it is initialised")
                .with_secondary(decl_span, format!("`{name}` declared here"))
                .with_note("module-level bindings are initialised in order; move this declaration after it"),
        );
    }

    /// If `e` names a namespace (and not a value), which one.
    pub(super) fn namespace_of(&mut self, ctx: &FnCtx, e: &Expr) -> Option<Namespace> {
        match &e.kind {
            ast::ExprKind::Ident(name) => {
                if ctx.lookup(name).is_some() {
                    return None;
                }
                match self.lookup_top(ctx.file, name) {
                    TopLookup::Found(Decl::Alias(t)) => Some(Namespace::File(t)),
                    TopLookup::Found(Decl::Struct(s)) => Some(Namespace::Struct(s)),
                    TopLookup::Found(_) | TopLookup::Ambiguous(_) => None,
                    TopLookup::NotFound => {
                        if let Some(b) = BUILTIN_NAMESPACES.iter().find(|b| **b == name) {
                            Some(Namespace::Builtin(b))
                        } else if let Some(e) = self.externs.namespace(name) {
                            Some(Namespace::Extern(e))
                        } else if !self.file_complete(ctx.file) {
                            Some(Namespace::Unknown)
                        } else {
                            None
                        }
                    }
                }
            }
            ast::ExprKind::Field(base, name) => match self.namespace_of(ctx, base)? {
                Namespace::File(t) => match self.lookup_own(t, &name.name) {
                    Some(Decl::Struct(s)) => Some(Namespace::Struct(s)),
                    _ => None,
                },
                Namespace::Unknown => Some(Namespace::Unknown),
                _ => None,
            },
            _ => None,
        }
    }

    /// A member of an import alias as a declaration (for assignment), reporting misses.
    pub(super) fn namespace_member(
        &mut self,
        _ctx: &FnCtx,
        ns: Namespace,
        field: &ast::Ident,
    ) -> Option<Decl> {
        match ns {
            Namespace::File(t) => {
                let d = self.lookup_own(t, &field.name);
                if d.is_none() {
                    let msg = format!("cannot find `{}` in `{}`", field.name, self.file_name(t));
                    self.error(field.span, msg, "not declared in the imported file");
                }
                d
            }
            Namespace::Unknown => None,
            Namespace::Struct(_) | Namespace::Builtin(_) | Namespace::Extern(_) => {
                self.error(field.span, "invalid assignment target", "not a variable");
                None
            }
        }
    }

    /// `ns.name` used as a value.
    pub(super) fn namespace_value(
        &mut self,
        ctx: &FnCtx,
        ns: Namespace,
        name: &ast::Ident,
        span: Span,
    ) -> hir::Expr {
        let n = name.name.as_str();
        let float = |v: f64| hir::Expr {
            kind: ExprKind::Float(v),
            ty: TyId::FLOAT,
            span,
        };
        match ns {
            Namespace::Unknown => hir::Expr::error(span),
            Namespace::File(t) => match self.lookup_own(t, n) {
                Some(d) => self.decl_value(ctx, d, n, span),
                None => {
                    let msg = format!("cannot find `{n}` in `{}`", self.file_name(t));
                    self.error(name.span, msg, "not declared in the imported file");
                    hir::Expr::error(span)
                }
            },
            Namespace::Struct(s) => match self.structs[s as usize].methods.get(n) {
                Some(&f) => hir::Expr {
                    kind: ExprKind::FnRef(f),
                    ty: self.funcs[f as usize].ty,
                    span,
                },
                None => {
                    let sn = self.structs[s as usize].name.clone();
                    let msg = format!("no method `{n}` on `{sn}`");
                    self.error(name.span, msg, "not found");
                    hir::Expr::error(span)
                }
            },
            Namespace::Builtin("math") => match n {
                "PI" => float(std::f64::consts::PI),
                "E" => float(std::f64::consts::E),
                "INF" => float(f64::INFINITY),
                "NAN" => float(f64::NAN),
                _ => {
                    if rvm_vm::natives::Native::by_name(&format!("math.{n}")).is_some() {
                        let msg = format!("built-in function `math.{n}` cannot be used as a value");
                        self.error(span, msg, "call it instead");
                    } else {
                        self.error(name.span, format!("no `{n}` in `math`"), "not found");
                    }
                    hir::Expr::error(span)
                }
            },
            Namespace::Builtin("int") => match n {
                "MAX" => hir::Expr {
                    kind: ExprKind::Int(i64::MAX),
                    ty: TyId::INT,
                    span,
                },
                "MIN" => hir::Expr {
                    kind: ExprKind::Int(i64::MIN),
                    ty: TyId::INT,
                    span,
                },
                _ => {
                    self.error(
                        name.span,
                        format!("no `{n}` in `int`"),
                        "expected `int.MAX` or `int.MIN`",
                    );
                    hir::Expr::error(span)
                }
            },
            Namespace::Extern(e) => {
                let m = &self.externs.namespaces[e as usize];
                let msg = format!("embedder function `{m}.{n}` cannot be used as a value");
                self.error(span, msg, "call it instead");
                hir::Expr::error(span)
            }
            Namespace::Builtin(m) => {
                if rvm_vm::host::HostFn::lookup(m, n).is_some() {
                    let msg = format!("host function `{m}.{n}` cannot be used as a value");
                    self.error(span, msg, "call it instead");
                } else {
                    self.error(name.span, format!("no `{n}` in `{m}`"), "not found");
                }
                hir::Expr::error(span)
            }
        }
    }
}
