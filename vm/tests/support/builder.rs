//! Hand-built modules for the interpreter tests.
//!
//! Tests write code with jump targets as instruction indices; `finish` converts them to byte
//! offsets, gives instruction `i` source line `i + 1`, and runs the real verifier, so every
//! module the interpreter tests run is one the verifier accepts (with exact stack maps).
#![allow(dead_code)]

use std::sync::Arc;

use rvm_vm::format::{
    FieldDef, FuncType, Function, Global, Import, Instr, LineEntry, Module, StructDef, TypeDef,
    TypeId,
};
use rvm_vm::interpreter::{SharedBuffer, Vm, VmConfig};
use rvm_vm::trap::Trap;
use rvm_vm::verified::VerifiedModule;
use rvm_vm::verifier::verify;

pub struct Builder {
    pub m: Module,
    /// Per function: its code with instruction-index jump targets.
    code: Vec<Vec<Instr>>,
}

pub const INT: TypeId = 0;
pub const FLOAT: TypeId = 1;
pub const BOOL: TypeId = 2;
pub const STR: TypeId = 3;

impl Builder {
    pub fn new() -> Builder {
        let mut m = Module::default();
        for t in [TypeDef::Int, TypeDef::Float, TypeDef::Bool, TypeDef::Str] {
            m.intern_type(t);
        }
        m.files.push("test.src".into());
        Builder {
            m,
            code: Vec::new(),
        }
    }

    pub fn ty(&mut self, t: TypeDef) -> TypeId {
        self.m.intern_type(t)
    }

    pub fn array(&mut self, elem: TypeId) -> TypeId {
        self.ty(TypeDef::Array(elem))
    }

    pub fn map(&mut self, k: TypeId, v: TypeId) -> TypeId {
        self.ty(TypeDef::Map(k, v))
    }

    pub fn fn_ty(&mut self, params: &[TypeId], result: Option<TypeId>) -> TypeId {
        self.ty(TypeDef::Func(FuncType {
            params: params.to_vec(),
            result,
        }))
    }

    pub fn struct_ty(&mut self, name: &str, fields: &[(&str, TypeId)]) -> TypeId {
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

    pub fn str(&mut self, s: &str) -> u32 {
        self.m.intern_string(s)
    }

    pub fn global(&mut self, name: &str, ty: TypeId) -> u32 {
        self.m.globals.push(Global {
            name: name.into(),
            ty,
            mutable: true,
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

    /// Declares a function (its code can be set later with `define`), returns its index.
    pub fn declare(&mut self, name: &str, params: &[TypeId], result: Option<TypeId>) -> u32 {
        let ty = self.fn_ty(params, result);
        self.m.functions.push(Function {
            name: name.into(),
            ty,
            locals: Vec::new(),
            max_stack: 0,
            code: Vec::new(),
            lines: Vec::new(),
        });
        self.code.push(Vec::new());
        (self.m.functions.len() - 1) as u32
    }

    /// Sets a function's locals and code (jump targets are instruction indices). Every
    /// instruction `i` is given source line `i + 1`, column 1.
    pub fn define(&mut self, f: u32, locals: &[TypeId], code: Vec<Instr>) {
        let func = &mut self.m.functions[f as usize];
        func.locals = locals.to_vec();
        func.max_stack = code.len() as u32 + 4;
        self.code[f as usize] = code;
    }

    pub fn func(
        &mut self,
        name: &str,
        params: &[TypeId],
        result: Option<TypeId>,
        locals: &[TypeId],
        code: Vec<Instr>,
    ) -> u32 {
        let f = self.declare(name, params, result);
        self.define(f, locals, code);
        f
    }

    /// Forgets the functions' code (after `m.functions` was cleared).
    pub fn reset_code(&mut self) {
        self.code.clear();
    }

    pub fn export(&mut self, name: &str, func: u32) {
        self.m.exports.push(rvm_vm::format::Export {
            name: name.into(),
            func,
        });
    }

    pub fn finish(mut self, main: Option<u32>, init: Option<u32>) -> Arc<VerifiedModule> {
        self.m.main = main;
        self.m.init = init;
        for (i, code) in self.code.iter().enumerate() {
            // Byte offsets of each instruction, then the module's code with byte targets.
            let mut offsets = Vec::with_capacity(code.len() + 1);
            let mut at = 0u32;
            for ins in code {
                offsets.push(at);
                at += ins.encoded_len() as u32;
            }
            let to_bytes = |t: u32| offsets.get(t as usize).copied().unwrap_or(at);
            let byte_code: Vec<Instr> = code
                .iter()
                .map(|ins| match *ins {
                    Instr::Jmp { target } => Instr::Jmp {
                        target: to_bytes(target),
                    },
                    Instr::JmpIf { target } => Instr::JmpIf {
                        target: to_bytes(target),
                    },
                    Instr::JmpIfNot { target } => Instr::JmpIfNot {
                        target: to_bytes(target),
                    },
                    other => other,
                })
                .collect();
            let lines = offsets
                .iter()
                .enumerate()
                .map(|(pc, &offset)| LineEntry {
                    offset,
                    file: 0,
                    line: pc as u32 + 1,
                    column: 1,
                })
                .collect();
            let func = &mut self.m.functions[i];
            func.code = byte_code;
            func.lines = lines;
        }
        match verify(self.m) {
            Ok(v) => Arc::new(v),
            Err(e) => panic!("the test module does not verify: {e}"),
        }
    }
}

/// The result of running a module.
pub struct Run {
    pub result: Result<i32, Trap>,
    pub stdout: String,
    pub stderr: String,
}

pub fn run_with(module: Arc<VerifiedModule>, config: VmConfig) -> Run {
    let out = SharedBuffer::new();
    let err = SharedBuffer::new();
    let mut vm =
        Vm::new(module, config, Box::new(out.clone()), Box::new(err.clone())).expect("vm creation");
    let result = vm.run_main();
    Run {
        result,
        stdout: out.contents(),
        stderr: err.contents(),
    }
}

pub fn run(module: Arc<VerifiedModule>) -> Run {
    run_with(module, VmConfig::default())
}

/// Runs `module` both normally and with GC stress, checking both agree, and returns the
/// normal run.
pub fn run_both(module: Arc<VerifiedModule>) -> Run {
    let normal = run(module.clone());
    let stressed = run_with(
        module,
        VmConfig {
            gc_stress: true,
            ..VmConfig::default()
        },
    );
    assert_eq!(
        normal.stdout, stressed.stdout,
        "stdout differs under GC stress"
    );
    assert_eq!(
        normal.result.as_ref().map_err(|t| t.to_string()),
        stressed.result.as_ref().map_err(|t| t.to_string()),
        "result differs under GC stress"
    );
    normal
}
