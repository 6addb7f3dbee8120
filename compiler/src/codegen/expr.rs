//! Expressions and conditions.

use super::FnGen;
use super::emitter::Label;
use crate::check::hir::{Expr, ExprKind, Op, TypedOp};
use crate::types::TyId;
use rvm_vm::format::{F64Bits, Instr};

/// Array literals longer than this are built with `arr.new` of the first elements and
/// `arr.push` of the rest, so the operand stack stays small.
const LITERAL_CHUNK: usize = 64;

/// Whether an instruction can trap or call (and so needs a precise line entry).
fn needs_position(instr: &Instr) -> bool {
    use Instr as I;
    !matches!(
        instr,
        I::IAdd {}
            | I::ISub {}
            | I::IMul {}
            | I::INeg {}
            | I::IAnd {}
            | I::IOr {}
            | I::IXor {}
            | I::IShl {}
            | I::IShr {}
            | I::IEq {}
            | I::INe {}
            | I::ILt {}
            | I::ILe {}
            | I::IGt {}
            | I::IGe {}
            | I::FAdd {}
            | I::FSub {}
            | I::FMul {}
            | I::FDiv {}
            | I::FRem {}
            | I::FNeg {}
            | I::FEq {}
            | I::FNe {}
            | I::FLt {}
            | I::FLe {}
            | I::FGt {}
            | I::FGe {}
            | I::BNot {}
            | I::BEq {}
            | I::BNe {}
            | I::SEq {}
            | I::SNe {}
            | I::SLt {}
            | I::SLe {}
            | I::SGt {}
            | I::SGe {}
            | I::REq {}
            | I::RNe {}
            | I::IToF {}
            | I::FToI {}
            | I::ArrLen {}
            | I::MapLen {}
            | I::MapHas {}
    )
}

impl FnGen<'_, '_> {
    /// Whether evaluating `e` twice gives the same value with no effect (so it need not be
    /// saved in a hidden local).
    pub(super) fn is_simple(e: &Expr) -> bool {
        matches!(
            e.kind,
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) | ExprKind::Local(_)
        )
    }

    /// Pushes the value of `e` (nothing for a call without a result).
    pub(super) fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Int(v) => self.em.emit(Instr::IConst { value: *v }),
            ExprKind::Float(v) => self.em.emit(Instr::FConst {
                value: F64Bits::new(*v),
            }),
            ExprKind::Bool(b) => self.em.emit(Instr::BConst {
                value: u8::from(*b),
            }),
            ExprKind::Str(s) => {
                let index = self.g.module.intern_string(s);
                self.em.emit(Instr::SConst { index });
            }
            ExprKind::Local(l) => self.em.emit(Instr::LocalGet { index: *l as u16 }),
            ExprKind::Global(g) => {
                self.mark(e.span);
                self.em.emit(Instr::GlobalGet { index: *g });
            }
            ExprKind::FnRef(f) => self.em.emit(Instr::FnRef { func: *f + 1 }),
            ExprKind::Concat(parts) => {
                for (i, p) in parts.iter().enumerate() {
                    self.expr(p);
                    if i > 0 {
                        self.em.emit(Instr::SConcat {});
                    }
                }
            }
            ExprKind::Array(items) => {
                let type_ = self.ty(e.ty);
                let first = items.len().min(LITERAL_CHUNK);
                for item in &items[..first] {
                    self.expr(item);
                }
                self.em.emit(Instr::ArrNew {
                    type_,
                    count: first as u32,
                });
                for item in &items[first..] {
                    self.em.emit(Instr::Dup {});
                    self.expr(item);
                    self.em.emit(Instr::ArrPush {});
                }
            }
            ExprKind::Map(pairs) => {
                let type_ = self.ty(e.ty);
                let first = pairs.len().min(LITERAL_CHUNK / 2);
                for (k, v) in &pairs[..first] {
                    self.expr(k);
                    self.expr(v);
                }
                self.em.emit(Instr::MapNew {
                    type_,
                    count: first as u32,
                });
                for (k, v) in &pairs[first..] {
                    self.em.emit(Instr::Dup {});
                    self.expr(k);
                    self.expr(v);
                    self.em.emit(Instr::MapSet {});
                }
            }
            ExprKind::Struct(_, fields) => self.struct_lit(e, fields),
            ExprKind::Op(op, args) => self.op(e, *op, args),
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                // a; dup; jmp.ifnot end (jmp.if for ||); pop; b; end:
                let end = self.em.label();
                self.expr(a);
                self.em.emit(Instr::Dup {});
                let jump = if matches!(e.kind, ExprKind::And(..)) {
                    Instr::JmpIfNot { target: 0 }
                } else {
                    Instr::JmpIf { target: 0 }
                };
                self.em.jump(jump, end);
                self.em.emit(Instr::Pop {});
                self.expr(b);
                self.em.bind(end);
            }
            ExprKind::Not(a) => {
                self.expr(a);
                self.em.emit(Instr::BNot {});
            }
            ExprKind::Call(f, args) => {
                for a in args {
                    self.expr(a);
                }
                self.mark(e.span);
                let pushes = u32::from(e.ty != TyId::UNIT);
                self.em
                    .emit_with(Instr::Call { func: *f + 1 }, args.len() as u32, pushes);
            }
            ExprKind::CallRef(f, args) => {
                let type_ = self.ty(f.ty);
                self.expr(f);
                for a in args {
                    self.expr(a);
                }
                self.mark(e.span);
                let pushes = u32::from(e.ty != TyId::UNIT);
                self.em
                    .emit_with(Instr::CallRef { type_ }, args.len() as u32 + 1, pushes);
            }
            ExprKind::Field(obj, index) => {
                self.expr(obj);
                self.em.emit(Instr::FieldGet { index: *index });
            }
            ExprKind::Error => {
                debug_assert!(false, "error expression reached code generation");
                self.g.broken.get_or_insert(e.span);
            }
        }
    }

    fn op(&mut self, e: &Expr, op: Op, args: &[Expr]) {
        for a in args {
            self.expr(a);
        }
        match op {
            Op::Identity => {}
            Op::Instr(instr) => {
                if needs_position(&instr) {
                    self.mark(e.span);
                }
                self.em.emit(instr);
            }
            Op::Typed(kind, t) => {
                let type_ = self.ty(t);
                let instr = match kind {
                    TypedOp::ToStr => Instr::ToStr { type_ },
                    TypedOp::ArrFill => Instr::ArrFill { type_ },
                    TypedOp::SSplit => Instr::SSplit { type_ },
                    TypedOp::SChars => Instr::SChars { type_ },
                    TypedOp::MapKeys => Instr::MapKeys { type_ },
                    TypedOp::MapValues => Instr::MapValues { type_ },
                };
                if kind == TypedOp::ArrFill {
                    self.mark(e.span);
                }
                self.em.emit(instr);
            }
            Op::Native(n) => {
                self.mark(e.span);
                let pushes = u32::from(n.result().is_some());
                self.em.emit_with(
                    Instr::CallNative { native: n.id() },
                    n.params().len() as u32,
                    pushes,
                );
            }
            Op::Host(h) => {
                self.mark(e.span);
                let import = self.g.import(h);
                let pushes = u32::from(h.result().is_some());
                self.em
                    .emit_with(Instr::CallHost { import }, h.params().len() as u32, pushes);
            }
            Op::Extern(x) => {
                self.mark(e.span);
                let (import, params, pushes) = self.g.extern_import(x);
                self.em
                    .emit_with(Instr::CallHost { import }, params, pushes);
            }
        }
    }

    /// `struct.new` takes the fields in declaration order; the source evaluates them in
    /// the order written. When the two differ and a value has effects, the values go
    /// through hidden locals.
    fn struct_lit(&mut self, e: &Expr, fields: &[(u16, Expr)]) {
        let type_ = self.ty(e.ty);
        let in_order = fields
            .iter()
            .enumerate()
            .all(|(i, (f, _))| *f as usize == i);
        let mut sorted: Vec<&(u16, Expr)> = fields.iter().collect();
        sorted.sort_by_key(|(f, _)| *f);
        if in_order
            || fields
                .iter()
                .all(|(_, v)| Self::is_simple(v) || Self::is_constant(v))
        {
            for (_, v) in sorted {
                self.expr(v);
            }
        } else {
            let mut temps: Vec<(u16, u16, u32)> = Vec::new(); // field, local, type
            for (f, v) in fields {
                if Self::is_simple(v) || Self::is_constant(v) {
                    continue;
                }
                let t = self.ty(v.ty);
                let local = self.em.temp(t);
                self.expr(v);
                self.em.emit(Instr::LocalSet { index: local });
                temps.push((*f, local, t));
            }
            for (f, v) in sorted {
                match temps.iter().find(|(tf, _, _)| tf == f) {
                    Some(&(_, local, _)) => self.em.emit(Instr::LocalGet { index: local }),
                    None => self.expr(v),
                }
            }
            for (_, local, t) in temps {
                self.em.release(t, local);
            }
        }
        self.mark(e.span);
        self.em
            .emit_with(Instr::StructNew { type_ }, fields.len() as u32, 1);
    }

    fn is_constant(e: &Expr) -> bool {
        matches!(e.kind, ExprKind::Str(_) | ExprKind::FnRef(_))
    }

    /// Jumps to `target` when `e` evaluates to `when`; falls through otherwise.
    pub(super) fn cond_jump(&mut self, e: &Expr, when: bool, target: Label) {
        match &e.kind {
            ExprKind::Bool(b) => {
                if *b == when {
                    self.em.jump(Instr::Jmp { target: 0 }, target);
                }
            }
            ExprKind::Not(inner) => self.cond_jump(inner, !when, target),
            ExprKind::And(a, b) => {
                if when {
                    let skip = self.em.label();
                    self.cond_jump(a, false, skip);
                    self.cond_jump(b, true, target);
                    self.em.bind(skip);
                } else {
                    self.cond_jump(a, false, target);
                    self.cond_jump(b, false, target);
                }
            }
            ExprKind::Or(a, b) => {
                if when {
                    self.cond_jump(a, true, target);
                    self.cond_jump(b, true, target);
                } else {
                    let skip = self.em.label();
                    self.cond_jump(a, true, skip);
                    self.cond_jump(b, false, target);
                    self.em.bind(skip);
                }
            }
            ExprKind::Op(Op::Instr(cmp), args)
                if when && args.len() == 2 && inverse(cmp).is_some() =>
            {
                // `jmp.if` on `a < b` is `jmp.ifnot` on `a >= b` (exact for ints): the
                // interpreter fuses compare-and-`jmp.ifnot` into one dispatch.
                self.expr(&args[0]);
                self.expr(&args[1]);
                if let Some(inv) = inverse(cmp) {
                    self.em.emit(inv);
                }
                self.em.jump(Instr::JmpIfNot { target: 0 }, target);
            }
            _ => {
                self.expr(e);
                let jump = if when {
                    Instr::JmpIf { target: 0 }
                } else {
                    Instr::JmpIfNot { target: 0 }
                };
                self.em.jump(jump, target);
            }
        }
    }
}

/// The int comparison with the opposite result (`<` ↔ `>=`), if `cmp` is one.
fn inverse(cmp: &Instr) -> Option<Instr> {
    use Instr as I;
    Some(match cmp {
        I::IEq {} => I::INe {},
        I::INe {} => I::IEq {},
        I::ILt {} => I::IGe {},
        I::IGe {} => I::ILt {},
        I::IGt {} => I::ILe {},
        I::ILe {} => I::IGt {},
        _ => return None,
    })
}
