//! Statements and loops.
//!
//! Loops are inverted: the condition is tested once before the loop and again at the bottom
//! with a conditional jump back to the top, so an iteration costs one branch. For example
//! `for i in 0..n { body }` is
//! ```text
//!     i.const 0; local.set i; <n>; local.set end
//!     local.get i; local.get end; i.lt; jmp.ifnot BREAK
//! BODY:
//!     <body>
//! CONTINUE:
//!     local.get i; i.const 1; i.add; local.set i
//!     local.get i; local.get end; i.ge; jmp.ifnot BODY
//! BREAK:
//! ```

use super::FnGen;
use crate::check::hir::{Block, Expr, ExprKind, Stmt, StmtKind};
use crate::types::TyId;
use rvm_vm::format::Instr;

/// Where the loop bound of a range loop lives.
#[derive(Clone, Copy)]
enum Bound {
    Const(i64),
    Local(u16),
}

impl FnGen<'_, '_> {
    pub(super) fn block(&mut self, b: &Block) {
        for s in b {
            if !self.em.reachable() {
                // Dead code after `return`/`break`/`continue` is not emitted.
                break;
            }
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        debug_assert_eq!(
            self.em.height(),
            0,
            "operand stack not empty between statements"
        );
        match &s.kind {
            StmtKind::If { .. } | StmtKind::Block(_) => {}
            _ => self.mark(s.span),
        }
        match &s.kind {
            StmtKind::SetLocal(l, v) => {
                self.expr(v);
                self.em.emit(Instr::LocalSet { index: *l as u16 });
            }
            StmtKind::SetGlobal(g, v) => {
                self.expr(v);
                self.em.emit(Instr::GlobalSet { index: *g });
            }
            StmtKind::SetField { obj, field, value } => {
                self.expr(obj);
                self.expr(value);
                self.em.emit(Instr::FieldSet { index: *field });
            }
            StmtKind::SetIndex {
                map,
                base,
                index,
                value,
            } => {
                self.expr(base);
                self.expr(index);
                self.expr(value);
                self.mark(s.span);
                self.em.emit(if *map {
                    Instr::MapSet {}
                } else {
                    Instr::ArrSet {}
                });
            }
            StmtKind::CompoundField {
                obj,
                field,
                op,
                value,
            } => {
                self.expr(obj);
                self.em.emit(Instr::Dup {});
                self.em.emit(Instr::FieldGet { index: *field });
                self.expr(value);
                self.mark(s.span);
                self.em.emit(*op);
                self.em.emit(Instr::FieldSet { index: *field });
            }
            StmtKind::CompoundIndex {
                map,
                base,
                index,
                op,
                value,
            } => self.compound_index(s, *map, base, index, *op, value),
            StmtKind::Expr(e) => {
                self.expr(e);
                if e.ty != TyId::UNIT && self.em.reachable() {
                    self.em.emit(Instr::Pop {});
                }
            }
            StmtKind::If { arms, else_ } => {
                let end = self.em.label();
                let n = arms.len();
                for (i, (cond, body)) in arms.iter().enumerate() {
                    self.mark(cond.span);
                    let next = self.em.label();
                    self.cond_jump(cond, false, next);
                    self.block(body);
                    if i + 1 < n || else_.is_some() {
                        self.em.jump(Instr::Jmp { target: 0 }, end);
                    }
                    self.em.bind(next);
                }
                if let Some(b) = else_ {
                    self.block(b);
                }
                self.em.bind(end);
            }
            StmtKind::While { cond, body } => {
                let brk = self.em.label();
                let top = self.em.label();
                match cond {
                    None => {
                        self.em.bind(top);
                        self.loops.push((brk, top));
                        self.block(body);
                        self.loops.pop();
                        self.em.jump(Instr::Jmp { target: 0 }, top);
                    }
                    Some(c) => {
                        let cont = self.em.label();
                        self.cond_jump(c, false, brk);
                        self.em.bind(top);
                        self.loops.push((brk, cont));
                        self.block(body);
                        self.loops.pop();
                        self.em.bind(cont);
                        self.mark(c.span);
                        self.cond_jump(c, true, top);
                    }
                }
                self.em.bind(brk);
            }
            StmtKind::ForRange {
                var,
                start,
                end,
                inclusive,
                body,
            } => self.for_range(*var as u16, start, end, *inclusive, body),
            StmtKind::ForArray {
                index,
                elem,
                array,
                body,
            } => self.for_each(
                false,
                index.map(|i| i as u16),
                *elem as u16,
                None,
                array,
                body,
            ),
            StmtKind::ForMap {
                key,
                value,
                map,
                body,
            } => self.for_each(true, None, *key as u16, value.map(|v| v as u16), map, body),
            StmtKind::Break => {
                if let Some(&(brk, _)) = self.loops.last() {
                    self.em.jump(Instr::Jmp { target: 0 }, brk);
                }
            }
            StmtKind::Continue => {
                if let Some(&(_, cont)) = self.loops.last() {
                    self.em.jump(Instr::Jmp { target: 0 }, cont);
                }
            }
            StmtKind::Return(v) => {
                let pops = match v {
                    Some(v) => {
                        self.expr(v);
                        1
                    }
                    None => 0,
                };
                self.em.emit_with(Instr::Ret {}, pops, 0);
            }
            StmtKind::Block(b) => self.block(b),
        }
    }

    /// `base[index] op= value`: container and index are evaluated once.
    fn compound_index(
        &mut self,
        s: &Stmt,
        map: bool,
        base: &Expr,
        index: &Expr,
        op: Instr,
        value: &Expr,
    ) {
        let mut temps = Vec::new();
        let mut load = |this: &mut Self, e: &Expr| -> Option<u16> {
            if Self::is_simple(e) {
                return None;
            }
            let t = this.ty(e.ty);
            let local = this.em.temp(t);
            this.expr(e);
            this.em.emit(Instr::LocalSet { index: local });
            temps.push((t, local));
            Some(local)
        };
        let b = load(self, base);
        let i = load(self, index);
        let push = |this: &mut Self, saved: Option<u16>, e: &Expr| match saved {
            Some(local) => this.em.emit(Instr::LocalGet { index: local }),
            None => this.expr(e),
        };
        push(self, b, base);
        push(self, i, index);
        push(self, b, base);
        push(self, i, index);
        self.mark(s.span);
        self.em.emit(if map {
            Instr::MapGet {}
        } else {
            Instr::ArrGet {}
        });
        self.expr(value);
        self.mark(s.span);
        self.em.emit(op);
        self.em.emit(if map {
            Instr::MapSet {}
        } else {
            Instr::ArrSet {}
        });
        for (t, local) in temps {
            self.em.release(t, local);
        }
    }

    fn load_bound(&mut self, b: Bound) {
        match b {
            Bound::Const(v) => self.em.emit(Instr::IConst { value: v }),
            Bound::Local(l) => self.em.emit(Instr::LocalGet { index: l }),
        }
    }

    fn for_range(&mut self, var: u16, start: &Expr, end: &Expr, inclusive: bool, body: &Block) {
        let int = self.ty(TyId::INT);
        self.expr(start);
        self.em.emit(Instr::LocalSet { index: var });
        let bound = match end.kind {
            ExprKind::Int(v) => Bound::Const(v),
            _ => {
                let l = self.em.temp(int);
                self.expr(end);
                self.em.emit(Instr::LocalSet { index: l });
                Bound::Local(l)
            }
        };
        let (brk, top, cont) = (self.em.label(), self.em.label(), self.em.label());
        // Every test is `compare; jmp.ifnot`, which the interpreter fuses.
        let test = |this: &mut Self, cmp: Instr, target| {
            this.em.emit(Instr::LocalGet { index: var });
            this.load_bound(bound);
            this.em.emit(cmp);
            this.em.jump(Instr::JmpIfNot { target: 0 }, target);
        };
        test(
            self,
            if inclusive {
                Instr::ILe {}
            } else {
                Instr::ILt {}
            },
            brk,
        );
        self.em.bind(top);
        self.loops.push((brk, cont));
        self.block(body);
        self.loops.pop();
        self.em.bind(cont);
        if inclusive {
            // Stop before incrementing past the bound (it may be `int.MAX`).
            test(self, Instr::ILt {}, brk);
            self.increment(var);
            self.em.jump(Instr::Jmp { target: 0 }, top);
        } else {
            self.increment(var);
            test(self, Instr::IGe {}, top);
        }
        self.em.bind(brk);
        if let Bound::Local(l) = bound {
            self.em.release(int, l);
        }
    }

    fn increment(&mut self, var: u16) {
        self.em.emit(Instr::LocalGet { index: var });
        self.em.emit(Instr::IConst { value: 1 });
        self.em.emit(Instr::IAdd {});
        self.em.emit(Instr::LocalSet { index: var });
    }

    /// `for x in xs`, `for i, x in xs`, `for k in m`, `for k, v in m`: by position, reading
    /// the length again before every iteration.
    fn for_each(
        &mut self,
        map: bool,
        index: Option<u16>,
        first: u16,
        second: Option<u16>,
        coll: &Expr,
        body: &Block,
    ) {
        let int = self.ty(TyId::INT);
        let ct = self.ty(coll.ty);
        let c = self.em.temp(ct);
        self.expr(coll);
        self.em.emit(Instr::LocalSet { index: c });
        let (idx, idx_is_temp) = match index {
            Some(i) => (i, false),
            None => (self.em.temp(int), true),
        };
        self.em.emit(Instr::IConst { value: 0 });
        self.em.emit(Instr::LocalSet { index: idx });
        let len = if map {
            Instr::MapLen {}
        } else {
            Instr::ArrLen {}
        };
        let test = |this: &mut Self, cmp: Instr, target| {
            this.em.emit(Instr::LocalGet { index: idx });
            this.em.emit(Instr::LocalGet { index: c });
            this.em.emit(len);
            this.em.emit(cmp);
            this.em.jump(Instr::JmpIfNot { target: 0 }, target);
        };
        let (brk, top, cont) = (self.em.label(), self.em.label(), self.em.label());
        test(self, Instr::ILt {}, brk);
        self.em.bind(top);
        let fetch = |this: &mut Self, instr: Instr, into: u16| {
            this.em.emit(Instr::LocalGet { index: c });
            this.em.emit(Instr::LocalGet { index: idx });
            this.em.emit(instr);
            this.em.emit(Instr::LocalSet { index: into });
        };
        if map {
            fetch(self, Instr::MapKeyAt {}, first);
            if let Some(v) = second {
                fetch(self, Instr::MapValueAt {}, v);
            }
        } else {
            fetch(self, Instr::ArrGet {}, first);
        }
        self.loops.push((brk, cont));
        self.block(body);
        self.loops.pop();
        self.em.bind(cont);
        self.increment(idx);
        test(self, Instr::IGe {}, top);
        self.em.bind(brk);
        self.em.release(ct, c);
        if idx_is_temp {
            self.em.release(int, idx);
        }
    }
}
