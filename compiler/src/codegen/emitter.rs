//! The instruction buffer of one function: labels and jump patching, operand-stack height
//! tracking (for `max_stack` and for checking join points in debug builds), the line table,
//! hidden locals, and dead-code elimination.
//!
//! Dead code is never emitted: after `jmp` or `ret` the emitter is *unreachable* and drops
//! instructions until a label that some emitted jump targets is bound. The verifier
//! therefore only ever sees reachable code, and every join point is reached with the
//! height the jumps recorded.

use rvm_vm::format::{Instr, LineEntry, TypeId};

/// A jump target, bound to a code offset at most once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Label(usize);

#[derive(Debug, Default, Clone)]
struct LabelState {
    offset: Option<u32>,
    /// The stack height of the jumps to it (all equal).
    height: Option<u32>,
}

/// The code of one function under construction.
#[derive(Debug)]
pub(super) struct Emitter {
    code: Vec<Instr>,
    offset: u32,
    height: u32,
    max: u32,
    reachable: bool,
    labels: Vec<LabelState>,
    fixups: Vec<(usize, Label)>,
    lines: Vec<LineEntry>,
    /// Types of the declared locals (after the parameters).
    pub locals: Vec<TypeId>,
    params: u32,
    free_temps: Vec<(TypeId, u16)>,
}

impl Emitter {
    /// A new function with `params` parameters and the given declared locals.
    pub fn new(params: u32, locals: Vec<TypeId>) -> Emitter {
        Emitter {
            code: Vec::new(),
            offset: 0,
            height: 0,
            max: 0,
            reachable: true,
            labels: Vec::new(),
            fixups: Vec::new(),
            lines: Vec::new(),
            locals,
            params,
            free_temps: Vec::new(),
        }
    }

    /// Whether the next instruction would be reachable.
    pub fn reachable(&self) -> bool {
        self.reachable
    }

    /// The current operand-stack height.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Appends `instr`, which pops `pops` and pushes `pushes` values.
    pub fn emit_with(&mut self, instr: Instr, pops: u32, pushes: u32) {
        if !self.reachable {
            return;
        }
        debug_assert!(
            self.height >= pops,
            "operand stack underflow emitting {instr:?}"
        );
        self.height = self.height.saturating_sub(pops) + pushes;
        self.max = self.max.max(self.height);
        self.offset += instr.encoded_len() as u32;
        self.code.push(instr);
        if instr.ends_block() {
            self.reachable = false;
        }
    }

    /// Appends an instruction whose stack effect does not depend on a call signature.
    pub fn emit(&mut self, instr: Instr) {
        let (pops, pushes) = simple_effect(&instr);
        self.emit_with(instr, pops, pushes);
    }

    /// A new, unbound label.
    pub fn label(&mut self) -> Label {
        self.labels.push(LabelState::default());
        Label(self.labels.len() - 1)
    }

    /// Emits a jump (`jmp`, `jmp.if` or `jmp.ifnot`, with any target) to `label`.
    pub fn jump(&mut self, instr: Instr, label: Label) {
        if !self.reachable {
            return;
        }
        let idx = self.code.len();
        self.emit(instr);
        let height = self.height;
        let st = &mut self.labels[label.0];
        debug_assert!(
            st.height.is_none_or(|h| h == height),
            "stack height differs at a join"
        );
        st.height = Some(height);
        self.fixups.push((idx, label));
    }

    /// Binds `label` to the current offset. Code after it is reachable if the code before
    /// falls through or some jump targets it.
    pub fn bind(&mut self, label: Label) {
        let st = &mut self.labels[label.0];
        st.offset = Some(self.offset);
        if self.reachable {
            debug_assert!(
                st.height.is_none_or(|h| h == self.height),
                "stack height differs at a join"
            );
            st.height = Some(self.height);
        } else if let Some(h) = st.height {
            self.reachable = true;
            self.height = h;
        }
    }

    /// Records the source position of the next instruction (deduplicated).
    pub fn mark(&mut self, file: u32, line: u32, column: u32) {
        if !self.reachable {
            return;
        }
        let entry = LineEntry {
            offset: self.offset,
            file,
            line,
            column,
        };
        if let Some(last) = self.lines.last_mut() {
            if (last.file, last.line, last.column) == (file, line, column) {
                return;
            }
            if last.offset == self.offset {
                *last = entry;
                if self.lines.len() >= 2 {
                    let prev = self.lines[self.lines.len() - 2];
                    if (prev.file, prev.line, prev.column) == (file, line, column) {
                        self.lines.pop();
                    }
                }
                return;
            }
        }
        self.lines.push(entry);
    }

    /// A hidden local of type `ty`, reusing a released one when possible.
    pub fn temp(&mut self, ty: TypeId) -> u16 {
        if let Some(pos) = self.free_temps.iter().rposition(|(t, _)| *t == ty) {
            return self.free_temps.swap_remove(pos).1;
        }
        self.locals.push(ty);
        (self.params as usize + self.locals.len() - 1) as u16
    }

    /// Returns a hidden local for reuse.
    pub fn release(&mut self, ty: TypeId, local: u16) {
        self.free_temps.push((ty, local));
    }

    /// Patches the jumps and returns `(code, lines, locals, max_stack)`.
    pub fn finish(mut self) -> (Vec<Instr>, Vec<LineEntry>, Vec<TypeId>, u32) {
        for &(idx, label) in &self.fixups {
            let target = self.labels[label.0].offset.unwrap_or(0);
            match &mut self.code[idx] {
                Instr::Jmp { target: t }
                | Instr::JmpIf { target: t }
                | Instr::JmpIfNot { target: t } => *t = target,
                _ => debug_assert!(false, "fixup on a non-jump"),
            }
        }
        // A position recorded after the last instruction describes nothing.
        let end = self.offset;
        self.lines.retain(|e| e.offset < end);
        (self.code, self.lines, self.locals, self.max)
    }
}

/// The stack effect of instructions that do not call anything.
fn simple_effect(instr: &Instr) -> (u32, u32) {
    if let Some(e) = instr.static_effect() {
        return (e.pops.len() as u32, e.pushes.len() as u32);
    }
    match *instr {
        Instr::FnRef { .. } | Instr::LocalGet { .. } | Instr::GlobalGet { .. } => (0, 1),
        Instr::LocalSet { .. } | Instr::GlobalSet { .. } | Instr::Pop {} => (1, 0),
        Instr::Dup {} => (1, 2),
        Instr::SSplit { .. } | Instr::REq {} | Instr::RNe {} => (2, 1),
        Instr::SChars { .. } | Instr::ToStr { .. } => (1, 1),
        Instr::ArrNew { count, .. } => (count, 1),
        Instr::ArrFill { .. } => (2, 1),
        Instr::ArrGet {} => (2, 1),
        Instr::ArrSet {} => (3, 0),
        Instr::ArrLen {} | Instr::ArrPop {} => (1, 1),
        Instr::ArrPush {} => (2, 0),
        Instr::ArrInsert {} => (3, 0),
        Instr::ArrRemove {} | Instr::ArrContains {} | Instr::ArrIndexOf {} | Instr::ArrJoin {} => {
            (2, 1)
        }
        Instr::ArrSlice {} => (3, 1),
        Instr::ArrReverse {} | Instr::ArrSort {} => (1, 0),
        Instr::ArrSortBy {} => (2, 0),
        Instr::MapNew { count, .. } => (count.saturating_mul(2), 1),
        Instr::MapGet {} | Instr::MapHas {} | Instr::MapRemove {} => (2, 1),
        Instr::MapGetOr {} => (3, 1),
        Instr::MapSet {} => (3, 0),
        Instr::MapLen {} | Instr::MapKeys { .. } | Instr::MapValues { .. } => (1, 1),
        Instr::MapKeyAt {} | Instr::MapValueAt {} => (2, 1),
        Instr::FieldGet { .. } => (1, 1),
        Instr::FieldSet { .. } => (2, 0),
        // Calls, `ret` and `struct.new` are emitted with `emit_with`.
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_patch_to_byte_offsets_and_dead_code_is_dropped() {
        let mut e = Emitter::new(0, vec![]);
        let end = e.label();
        e.emit(Instr::BConst { value: 1 });
        e.jump(Instr::JmpIfNot { target: 0 }, end);
        e.emit(Instr::IConst { value: 1 });
        e.emit(Instr::Pop {});
        e.jump(Instr::Jmp { target: 0 }, end);
        e.emit(Instr::IConst { value: 2 }); // dead
        e.bind(end);
        e.emit_with(Instr::Ret {}, 0, 0);
        let (code, _, _, max) = e.finish();
        assert_eq!(code.len(), 6);
        assert_eq!(max, 1);
        assert_eq!(code[1], Instr::JmpIfNot { target: 22 });
        assert_eq!(code[4], Instr::Jmp { target: 22 });
    }
}
