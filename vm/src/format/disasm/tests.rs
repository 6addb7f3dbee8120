//! Golden tests of the listings.

use super::{disassemble, inspect};
use crate::format::{
    Export, F64Bits, FieldDef, FuncType, Function, Global, Import, Instr, LineEntry, Module,
    StructDef, TypeDef,
};

/// A small module: fib with a loop, and main printing a point and calling a host function.
fn sample() -> Module {
    let types = vec![
        TypeDef::Int,
        TypeDef::Str,
        TypeDef::Array(1),
        TypeDef::Func(FuncType {
            params: vec![0],
            result: Some(0),
        }),
        TypeDef::Func(FuncType {
            params: vec![],
            result: None,
        }),
        TypeDef::Func(FuncType {
            params: vec![],
            result: Some(2),
        }),
        TypeDef::Float,
        TypeDef::Struct(StructDef {
            name: "Point".into(),
            fields: vec![
                FieldDef {
                    name: "x".into(),
                    ty: 6,
                },
                FieldDef {
                    name: "y".into(),
                    ty: 6,
                },
            ],
        }),
    ];
    use Instr::*;
    let fib = Function {
        name: "fib".into(),
        ty: 3,
        locals: vec![],
        max_stack: 3,
        code: vec![
            LocalGet { index: 0 },   // 0
            IConst { value: 2 },     // 3
            ILt {},                  // 12
            JmpIfNot { target: 22 }, // 13
            LocalGet { index: 0 },   // 18
            Ret {},                  // 21
            LocalGet { index: 0 },   // 22
            IConst { value: 1 },     // 25
            ISub {},                 // 34
            Call { func: 0 },        // 35
            Ret {},                  // 40
        ],
        lines: vec![
            LineEntry {
                offset: 0,
                file: 0,
                line: 2,
                column: 5,
            },
            LineEntry {
                offset: 18,
                file: 0,
                line: 2,
                column: 17,
            },
            LineEntry {
                offset: 22,
                file: 0,
                line: 3,
                column: 5,
            },
        ],
    };
    let main = Function {
        name: "main".into(),
        ty: 4,
        locals: vec![7],
        max_stack: 2,
        code: vec![
            FConst {
                value: F64Bits::new(1.5),
            },
            FConst {
                value: F64Bits::new(-2.0),
            },
            StructNew { type_: 7 },
            LocalSet { index: 0 },
            LocalGet { index: 0 },
            ToStr { type_: 7 },
            CallNative { native: 1 },
            SConst { index: 0 },
            CallNative { native: 1 },
            CallHost { import: 0 },
            Pop {},
            GlobalGet { index: 0 },
            Pop {},
            Ret {},
        ],
        lines: vec![LineEntry {
            offset: 0,
            file: 0,
            line: 7,
            column: 5,
        }],
    };
    Module {
        types,
        strings: vec!["hello, \"wörld\"\n".into()],
        imports: vec![Import {
            module: "os".into(),
            name: "args".into(),
            ty: 5,
        }],
        globals: vec![Global {
            name: "count".into(),
            ty: 0,
            mutable: true,
        }],
        functions: vec![fib, main],
        exports: vec![
            Export {
                name: "fib".into(),
                func: 0,
            },
            Export {
                name: "main".into(),
                func: 1,
            },
        ],
        init: None,
        main: Some(1),
        files: vec!["app.src".into()],
    }
}

#[test]
fn disassembly_golden() {
    let text = disassemble(&sample());
    assert_eq!(text, GOLDEN_DISASM);
}

#[test]
fn inspect_golden() {
    let text = inspect(&sample(), 1234);
    assert_eq!(text, GOLDEN_INSPECT);
}

#[test]
fn invalid_indices_print_as_invalid() {
    use Instr::*;
    let m = Module {
        types: vec![TypeDef::Array(40)],
        strings: vec![],
        imports: vec![Import {
            module: "os".into(),
            name: "nope".into(),
            ty: 99,
        }],
        globals: vec![Global {
            name: "g".into(),
            ty: 12,
            mutable: false,
        }],
        functions: vec![Function {
            name: "f".into(),
            ty: 77,
            locals: vec![5],
            max_stack: 0,
            code: vec![
                SConst { index: 3 },
                Call { func: 9 },
                FnRef { func: 9 },
                GlobalGet { index: 4 },
                CallHost { import: 8 },
                CallNative { native: 999 },
                ToStr { type_: 1234 },
                Jmp { target: 4000 },
            ],
            lines: vec![LineEntry {
                offset: 0,
                file: 3,
                line: 1,
                column: 1,
            }],
        }],
        exports: vec![Export {
            name: "x".into(),
            func: 12,
        }],
        init: Some(5),
        main: Some(6),
        files: vec!["a".into(), "b".into()],
    };
    let text = disassemble(&m);
    for expected in [
        "s.const 3 <invalid>",
        "call 9 <invalid>",
        "fn.ref 9 <invalid>",
        "global.get 4 <invalid>",
        "call.host 8 <invalid>",
        "call.native 999 <invalid>",
        "to_str 1234 <invalid>",
        "jmp 4000",
        "fn #0 f: <invalid>",
        "x = #12 <invalid>",
        "<invalid> line 1:1",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    let _ = inspect(&m, 0);
}

const GOLDEN_DISASM: &str = r#"; rvm bytecode, format version 1
types (8):
  #0   int
  #1   str
  #2   [str]
  #3   fn(int) -> int
  #4   fn()
  #5   fn() -> [str]
  #6   float
  #7   struct Point { x: float, y: float }
strings (1):
  #0   "hello, \"wörld\"\n"
imports (1):
  #0   os.args: fn() -> [str]
globals (1):
  #0   var count: int
exports (2):
  fib = #0 <fib>
  main = #1 <main>
entry points:
  init = (none)
  main = #1 <main>

fn #0 fib: fn(int) -> int
  params: 1  locals: []  max_stack: 3
  0000  local.get 0                      ; line 2:5
  0003  i.const 2
  0012  i.lt
  0013  jmp.ifnot 22
  0018  local.get 0                      ; line 2:17
  0021  ret
  0022  local.get 0                      ; line 3:5
  0025  i.const 1
  0034  i.sub
  0035  call 0 <fib>
  0040  ret

fn #1 main: fn()
  params: 0  locals: [Point]  max_stack: 2
  0000  f.const 1.5                      ; line 7:5
  0009  f.const -2.0
  0018  struct.new 7 <Point>
  0023  local.set 0
  0026  local.get 0
  0029  to_str 7 <Point>
  0034  call.native 1 <println>
  0037  s.const 0 "hello, \"wörld\"\n"
  0042  call.native 1 <println>
  0045  call.host 0 <os.args>
  0050  pop
  0051  global.get 0 <count>
  0056  pop
  0057  ret
"#;
const GOLDEN_INSPECT: &str = r#"rvm bytecode, format version 1, 1234 bytes
sections:
  types      8
  strings    1
  imports    1
  globals    1
  functions  2 (25 instructions, 99 code bytes)
  exports    2
  entry      1
  debug      1 source files, 4 line entries
imports by capability:
  always allowed
    os.args: fn() -> [str]
exports (2):
  fib = #0 <fib>
  main = #1 <main>
entry points:
  init = (none)
  main = #1 <main>
"#;
