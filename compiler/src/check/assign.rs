//! Assignments: resolving the target (a `var` local or global, a field, an array element
//! or a map entry) with a precise error for everything that cannot be assigned, and
//! lowering `x op= v`.

use super::decls::TopLookup;
use super::hir::{self, ExprKind, StmtKind};
use super::stmt::{BindKind, FnCtx};
use super::{Checker, Decl};
use crate::ast::{self, Expr};
use crate::diagnostics::{Diagnostic, Span};
use crate::types::{TyId, TyKind};

impl Checker<'_, '_> {
    pub(super) fn check_assign(
        &mut self,
        ctx: &mut FnCtx,
        target: &Expr,
        op: Option<ast::BinOp>,
        value: &Expr,
    ) -> StmtKind {
        if op.is_some()
            && let ast::ExprKind::Ident(name) = &target.kind
        {
            // `x += 1` reads `x`.
            ctx.read(name);
        }
        let place = self.check_place(ctx, target);
        let place_ty = place.ty();
        let v = if op.is_some() {
            self.check_value(ctx, value, Some(place_ty))
        } else {
            self.check_typed(ctx, value, place_ty)
        };
        let Some(op) = op else {
            return match place {
                Place::Local(l, _) => StmtKind::SetLocal(l, v),
                Place::Global(g, _) => StmtKind::SetGlobal(g, v),
                Place::Field(obj, field, _) => StmtKind::SetField {
                    obj,
                    field,
                    value: v,
                },
                Place::Index(map, base, index, _) => StmtKind::SetIndex {
                    map,
                    base,
                    index,
                    value: v,
                },
                Place::Error => StmtKind::Expr(v),
            };
        };
        let span = target.span.to(value.span);
        let Some((instr, result)) = self.binop_instr(op, place_ty, v.ty, span) else {
            return StmtKind::Expr(hir::Expr::error(span));
        };
        if !self.expect_type(span, result, place_ty) {
            return StmtKind::Expr(hir::Expr::error(span));
        }
        match place {
            Place::Local(l, t) => {
                let cur = hir::Expr {
                    kind: ExprKind::Local(l),
                    ty: t,
                    span: target.span,
                };
                StmtKind::SetLocal(
                    l,
                    self.make_op(hir::Op::Instr(instr), vec![cur, v], t, span),
                )
            }
            Place::Global(g, t) => {
                let cur = hir::Expr {
                    kind: ExprKind::Global(g),
                    ty: t,
                    span: target.span,
                };
                StmtKind::SetGlobal(
                    g,
                    self.make_op(hir::Op::Instr(instr), vec![cur, v], t, span),
                )
            }
            Place::Field(obj, field, _) => StmtKind::CompoundField {
                obj,
                field,
                op: instr,
                value: v,
            },
            Place::Index(map, base, index, _) => StmtKind::CompoundIndex {
                map,
                base,
                index,
                op: instr,
                value: v,
            },
            Place::Error => StmtKind::Expr(v),
        }
    }

    /// Resolves an assignment target.
    fn check_place(&mut self, ctx: &mut FnCtx, target: &Expr) -> Place {
        match &target.kind {
            ast::ExprKind::Ident(name) => {
                if let Some(b) = ctx.lookup(name).cloned() {
                    if b.kind == BindKind::Var {
                        return Place::Local(b.local, b.ty);
                    }
                    let (msg, secondary, note) = match b.kind {
                        BindKind::Param => (
                            format!("cannot assign to parameter `{name}`"),
                            format!("`{name}` is a parameter; parameters are immutable"),
                            format!("copy it into a mutable local first: `var {name} = {name};`"),
                        ),
                        BindKind::LoopVar => (
                            format!("cannot assign to loop variable `{name}`"),
                            format!("`{name}` declared here by the loop"),
                            "loop variables are immutable".to_owned(),
                        ),
                        _ => (
                            format!("cannot assign to `{name}`, which is immutable"),
                            format!("`{name}` declared here as `let`"),
                            format!("declare it with `var` to make it mutable: `var {name} = ...`"),
                        ),
                    };
                    self.report(
                        Diagnostic::error(msg, target.span)
                            .with_label("cannot assign")
                            .with_secondary(b.span, secondary)
                            .with_note(note),
                    );
                    return Place::Error;
                }
                match self.lookup_top(ctx.file, name) {
                    TopLookup::Found(d) => self.global_place(ctx, d, name, target.span),
                    TopLookup::Ambiguous(files) => {
                        self.report_ambiguous(target.span, name, &files);
                        Place::Error
                    }
                    TopLookup::NotFound => {
                        if self.file_complete(ctx.file) {
                            let msg = format!("cannot find variable `{name}` in this scope");
                            self.error(target.span, msg, "not found");
                        }
                        Place::Error
                    }
                }
            }
            ast::ExprKind::SelfValue => {
                self.error(
                    target.span,
                    "cannot assign to `self`",
                    "`self` is immutable",
                );
                Place::Error
            }
            ast::ExprKind::Field(base, field) => {
                if let Some(ns) = self.namespace_of(ctx, base) {
                    return match self.namespace_member(ctx, ns, field) {
                        Some(d) => self.global_place(ctx, d, &field.name, target.span),
                        None => Place::Error,
                    };
                }
                let obj = self.check_value(ctx, base, None);
                if obj.ty == TyId::ERROR {
                    return Place::Error;
                }
                match self.field_index(obj.ty, &field.name) {
                    Some((idx, fty)) => Place::Field(obj, idx, fty),
                    None => {
                        self.report_no_field(obj.ty, field);
                        Place::Error
                    }
                }
            }
            ast::ExprKind::Index(base, index) => {
                let b = self.check_value(ctx, base, None);
                match self.types.kind(b.ty).clone() {
                    TyKind::Array(elem) => {
                        let i = self.check_typed(ctx, index, TyId::INT);
                        Place::Index(false, b, i, elem)
                    }
                    TyKind::Map(k, v) => {
                        let i = self.check_typed(ctx, index, k);
                        Place::Index(true, b, i, v)
                    }
                    TyKind::Error => {
                        self.check_expr(ctx, index, None);
                        Place::Error
                    }
                    TyKind::Str => {
                        self.check_expr(ctx, index, None);
                        self.error(
                            target.span,
                            "cannot assign to a character of a string",
                            "strings are immutable",
                        );
                        Place::Error
                    }
                    _ => {
                        self.check_expr(ctx, index, None);
                        let label = format!("`{}` cannot be indexed", self.ty_name(b.ty));
                        self.error(base.span, "cannot index into this value", label);
                        Place::Error
                    }
                }
            }
            _ => {
                self.check_expr(ctx, target, None);
                self.error(
                    target.span,
                    "invalid assignment target",
                    "expected a variable, a field, an array element or a map entry",
                );
                Place::Error
            }
        }
    }

    /// A top-level declaration as an assignment target.
    fn global_place(&mut self, ctx: &FnCtx, d: Decl, name: &str, span: Span) -> Place {
        match d {
            Decl::Global(g) => {
                let entry = &self.globals[g as usize];
                let (gty, decl_span) = (entry.ty, entry.decl.name.span);
                if entry.decl.kind == ast::BindingKind::Var {
                    if ctx.module_level {
                        self.error(
                            span,
                            "assignment at module level",
                            "globals can only be assigned inside functions",
                        );
                    }
                    return Place::Global(g, gty);
                }
                self.report(
                    Diagnostic::error(
                        format!("cannot assign to `{name}`, which is immutable"),
                        span,
                    )
                    .with_label("cannot assign")
                    .with_secondary(decl_span, format!("`{name}` declared here as `let`"))
                    .with_note(format!(
                        "declare it with `var` to make it mutable: `var {name} = ...`"
                    )),
                );
                Place::Error
            }
            Decl::Const(c) => {
                let decl_span = self.consts[c as usize].decl.name.span;
                self.report(
                    Diagnostic::error(format!("cannot assign to constant `{name}`"), span)
                        .with_label("cannot assign")
                        .with_secondary(decl_span, format!("`{name}` declared here as `const`")),
                );
                Place::Error
            }
            Decl::Fn(_) => {
                self.error(
                    span,
                    format!("cannot assign to function `{name}`"),
                    "not a variable",
                );
                Place::Error
            }
            Decl::Struct(_) => {
                self.error(
                    span,
                    format!("cannot assign to struct `{name}`"),
                    "not a variable",
                );
                Place::Error
            }
            Decl::Alias(_) => {
                self.error(
                    span,
                    format!("cannot assign to import alias `{name}`"),
                    "not a variable",
                );
                Place::Error
            }
        }
    }
}

/// A resolved assignment target.
#[derive(Debug)]
enum Place {
    Local(u32, TyId),
    Global(u32, TyId),
    Field(hir::Expr, u16, TyId),
    /// map?, container, index, element type
    Index(bool, hir::Expr, hir::Expr, TyId),
    Error,
}

impl Place {
    fn ty(&self) -> TyId {
        match self {
            Place::Local(_, t)
            | Place::Global(_, t)
            | Place::Field(_, _, t)
            | Place::Index(.., t) => *t,
            Place::Error => TyId::ERROR,
        }
    }
}
