//! `extern fn ns.name(params) -> T;`: host functions that the application embedding rvm
//! provides (see `spec/language.md`, "Embedder functions").
//!
//! Declarations are program-wide, like the host they describe: a namespace declared in any
//! file of the program can be called from every file. The same function may be declared in
//! several files if the signatures agree (they become one import). A namespace may not be a
//! built-in one (`math`, `fs`, ...), and a signature may only use the types that cross the
//! embedding boundary by value: `int`, `float`, `bool`, `str`, and arrays and maps of those.
//! Calls compile to `call.host` of an import `ns.name` whose type is the declared signature;
//! the verifier checks the types again and linking checks the embedder's closure.

use std::collections::HashMap;

use super::Checker;
use super::decls::TopLookup;
use super::hir::{self, ExprKind, Op};
use super::names::BUILTIN_NAMESPACES;
use super::stmt::FnCtx;
use crate::ast::{self, Arg, Item};
use crate::diagnostics::{Diagnostic, Span};
use crate::types::{TyId, TyKind};
use rvm_vm::host::embedder::is_embedder_module;

/// One declared embedder function.
#[derive(Debug)]
pub(super) struct ExternEntry<'a> {
    pub(super) decl: &'a ast::ExternDecl,
    pub(super) namespace: u32,
    pub(super) params: Vec<TyId>,
    pub(super) result: Option<TyId>,
}

/// Every declared embedder function, by namespace and name.
#[derive(Debug, Default)]
pub(super) struct Externs<'a> {
    pub(super) entries: Vec<ExternEntry<'a>>,
    pub(super) namespaces: Vec<String>,
    /// Each namespace's index in `namespaces` (a hash lookup: a name is resolved for every
    /// `ns.f(...)` expression, and a hostile program may declare very many namespaces).
    pub(super) namespace_index: HashMap<String, u32>,
    pub(super) by_name: HashMap<(u32, String), u32>,
}

impl Externs<'_> {
    /// The namespace called `name`, if some `extern fn` declares it.
    pub(super) fn namespace(&self, name: &str) -> Option<u32> {
        self.namespace_index.get(name).copied()
    }
}

impl<'a> Checker<'a, '_> {
    /// Pass 2 for `extern fn` items: resolves their signatures and records them.
    pub(super) fn collect_externs(&mut self) {
        let input = self.input;
        for fin in &input.files {
            let file = fin.ast.file;
            for item in &fin.ast.items {
                let Item::Extern(decl) = item else { continue };
                self.declare_extern(file, decl);
            }
        }
    }

    fn declare_extern(&mut self, file: crate::diagnostics::FileId, decl: &'a ast::ExternDecl) {
        let ns = decl.namespace.name.as_str();
        if BUILTIN_NAMESPACES.contains(&ns) || !is_embedder_module(ns) {
            let msg = format!("`{ns}` is a built-in namespace");
            self.report(
                Diagnostic::error(msg, decl.namespace.span)
                    .with_label("choose another namespace for the embedder's functions"),
            );
            return;
        }
        if let TopLookup::Found(_) | TopLookup::Ambiguous(_) = self.lookup_top(file, ns) {
            let msg = format!("the namespace `{ns}` is already a name in this file");
            self.error(decl.namespace.span, msg, "a top-level name would hide it");
            return;
        }
        let mut params = Vec::with_capacity(decl.params.len());
        let mut ok = true;
        for p in &decl.params {
            let ty = self.resolve_type(file, &p.ty);
            ok &= self.check_boundary(ty, p.ty.span);
            params.push(ty);
        }
        let result = decl.ret.as_ref().map(|r| {
            let ty = self.resolve_type(file, r);
            ok &= self.check_boundary(ty, r.span);
            ty
        });
        if !ok {
            return;
        }
        let namespace = match self.externs.namespace(ns) {
            Some(i) => i,
            None => {
                let i = self.externs.namespaces.len() as u32;
                self.externs.namespaces.push(ns.to_owned());
                self.externs.namespace_index.insert(ns.to_owned(), i);
                i
            }
        };
        let key = (namespace, decl.name.name.clone());
        if let Some(&prev) = self.externs.by_name.get(&key) {
            let prev = &self.externs.entries[prev as usize];
            if prev.params != params || prev.result != result {
                let prev_span = prev.decl.span;
                let msg = format!(
                    "`{ns}.{}` is declared with two different signatures",
                    decl.name.name
                );
                self.report(
                    Diagnostic::error(msg, decl.span)
                        .with_label("declared differently here")
                        .with_secondary(prev_span, "first declared here"),
                );
            }
            return;
        }
        self.externs.entries.push(ExternEntry {
            decl,
            namespace,
            params,
            result,
        });
        let id = self.externs.entries.len() as u32 - 1;
        self.externs.by_name.insert(key, id);
    }

    /// Reports a type that cannot cross the embedding boundary.
    fn check_boundary(&mut self, ty: TyId, span: Span) -> bool {
        if self.is_boundary(ty, 0) {
            return true;
        }
        if ty != TyId::ERROR {
            let msg = format!(
                "type `{}` cannot cross the embedding boundary",
                self.ty_name(ty)
            );
            self.report(
                Diagnostic::error(msg, span)
                    .with_label("not allowed in an `extern fn`")
                    .with_note(
                        "embedder functions take and return int, float, bool, str, \
                         and arrays and maps of those",
                    ),
            );
        }
        false
    }

    fn is_boundary(&self, ty: TyId, depth: u32) -> bool {
        if depth > 16 {
            return false;
        }
        match self.types.kind(ty) {
            TyKind::Int | TyKind::Float | TyKind::Bool | TyKind::Str => true,
            TyKind::Array(e) => self.is_boundary(*e, depth + 1),
            TyKind::Map(k, v) => self.is_boundary(*k, depth + 1) && self.is_boundary(*v, depth + 1),
            TyKind::Error | TyKind::Unit | TyKind::Struct(_) | TyKind::Fn(..) => false,
        }
    }

    /// `ns.name(args)` for an embedder namespace.
    pub(super) fn check_extern_call(
        &mut self,
        ctx: &mut FnCtx,
        ns: u32,
        name: &ast::Ident,
        args: &[Arg],
        span: Span,
    ) -> hir::Expr {
        let n = name.name.as_str();
        let Some(&id) = self.externs.by_name.get(&(ns, n.to_owned())) else {
            let ns_name = self.externs.namespaces[ns as usize].clone();
            let msg = format!("no function `{n}` in `{ns_name}`");
            self.error(name.span, msg, "not declared with `extern fn`");
            self.check_args_loose(ctx, args);
            return hir::Expr::error(span);
        };
        let entry = &self.externs.entries[id as usize];
        let params = entry.params.clone();
        let ty = entry.result.unwrap_or(TyId::UNIT);
        let what = format!("`{}.{n}`", self.externs.namespaces[ns as usize]);
        let args = self.check_args(ctx, args, &params, &what, span);
        hir::Expr {
            kind: ExprKind::Op(Op::Extern(id), args),
            ty,
            span,
        }
    }

    /// The declared embedder functions, for code generation.
    pub(super) fn extern_infos(&self) -> Vec<hir::ExternInfo> {
        self.externs
            .entries
            .iter()
            .map(|e| hir::ExternInfo {
                namespace: self.externs.namespaces[e.namespace as usize].clone(),
                name: e.decl.name.name.clone(),
                params: e.params.clone(),
                result: e.result,
            })
            .collect()
    }
}
