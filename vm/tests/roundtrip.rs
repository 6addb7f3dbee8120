//! Property tests of the file format and of the loader's robustness:
//! `decode(encode(m)) == m` for arbitrary modules (valid or not), and no byte string —
//! least of all a slightly corrupted real module — makes `decode` or `verify` panic.

#[path = "verifier_rules/builder.rs"]
mod builder;

use builder::{A, Builder, i};
use proptest::collection::vec;
use proptest::prelude::*;
use rvm_vm::format::Instr::*;
use rvm_vm::format::{
    Export, F64Bits, FieldDef, FuncType, Function, Global, Import, Instr, LineEntry, Module,
    OPCODES, StructDef, TypeDef, decode, encode,
};
use rvm_vm::verifier::verify;

/// Small ids most of the time (so they often resolve), any `u32` sometimes.
fn id() -> impl Strategy<Value = u32> {
    prop_oneof![4 => 0u32..8, 1 => any::<u32>()]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z][a-z0-9_.]{0,8}",
        1 => any::<String>(),
    ]
}

fn type_def() -> impl Strategy<Value = TypeDef> {
    prop_oneof![
        Just(TypeDef::Int),
        Just(TypeDef::Float),
        Just(TypeDef::Bool),
        Just(TypeDef::Str),
        id().prop_map(TypeDef::Array),
        (id(), id()).prop_map(|(k, v)| TypeDef::Map(k, v)),
        (name(), vec((name(), id()), 0..4)).prop_map(|(name, fields)| {
            TypeDef::Struct(StructDef {
                name,
                fields: fields
                    .into_iter()
                    .map(|(name, ty)| FieldDef { name, ty })
                    .collect(),
            })
        }),
        (vec(id(), 0..4), proptest::option::of(id()))
            .prop_map(|(params, result)| TypeDef::Func(FuncType { params, result })),
    ]
}

/// Any instruction: an opcode from the table with random operand bytes.
fn instr() -> impl Strategy<Value = Instr> {
    (0..OPCODES.len(), any::<[u8; 16]>()).prop_map(|(k, operands)| {
        let mut bytes = vec![OPCODES[k].byte];
        bytes.extend_from_slice(&operands);
        let mut pos = 0;
        Instr::decode(&bytes, &mut pos).expect("every table opcode decodes")
    })
}

fn function() -> impl Strategy<Value = Function> {
    (
        name(),
        id(),
        vec(id(), 0..4),
        any::<u32>(),
        vec(instr(), 0..24),
        vec((any::<u32>(), id(), any::<u32>(), any::<u32>()), 0..4),
    )
        .prop_map(|(name, ty, locals, max_stack, code, lines)| Function {
            name,
            ty,
            locals,
            max_stack,
            code,
            lines: lines
                .into_iter()
                .map(|(offset, file, line, column)| LineEntry {
                    offset,
                    file,
                    line,
                    column,
                })
                .collect(),
        })
}

fn module() -> impl Strategy<Value = Module> {
    (
        vec(type_def(), 0..8),
        vec(any::<String>(), 0..5),
        vec((name(), name(), id()), 0..3),
        vec((name(), id(), any::<bool>()), 0..3),
        vec(function(), 0..4),
        vec((name(), id()), 0..3),
        (proptest::option::of(id()), proptest::option::of(id())),
        vec(name(), 0..3),
    )
        .prop_map(
            |(types, strings, imports, globals, functions, exports, (init, main), files)| Module {
                types,
                strings,
                imports: imports
                    .into_iter()
                    .map(|(module, name, ty)| Import { module, name, ty })
                    .collect(),
                globals: globals
                    .into_iter()
                    .map(|(name, ty, mutable)| Global { name, ty, mutable })
                    .collect(),
                functions,
                exports: exports
                    .into_iter()
                    .map(|(name, func)| Export { name, func })
                    .collect(),
                init,
                main,
                files,
            },
        )
}

/// A small valid module with loops, calls, strings, arrays, maps, structs, globals, an
/// import and line tables: the seed for the mutation tests.
fn valid_module() -> Module {
    let mut b = Builder::new();
    let int = b.int();
    let float = b.float();
    let s = b.str_();
    let strs = b.array(s);
    let counts = b.map(s, int);
    let point = b.strukt("Point", &[("x", float), ("label", s)]);
    let args_ty = b.func_ty(&[], Some(strs));
    let args = b.import("os", "args", args_ty);
    let total = b.global("total", int, true);
    let text = b.string("a b a c — ünïcode");
    let space = b.string(" ");
    let file = b.file("app.src");
    let init = b.func(
        "$init",
        &[],
        None,
        &[],
        &[
            i(IConst { value: 0 }),
            i(GlobalSet { index: total }),
            i(Ret {}),
        ],
    );
    // count(words) -> [str: int]
    let count = b.func(
        "count",
        &[strs],
        Some(counts),
        &[counts, int],
        &[
            i(MapNew {
                type_: counts,
                count: 0,
            }),
            i(LocalSet { index: 1 }),
            i(IConst { value: 0 }),
            i(LocalSet { index: 2 }),
            A::Label("head"),
            i(LocalGet { index: 2 }),
            i(LocalGet { index: 0 }),
            i(ArrLen {}),
            i(ILt {}),
            A::JmpIfNot("end"),
            i(LocalGet { index: 1 }),
            i(LocalGet { index: 0 }),
            i(LocalGet { index: 2 }),
            i(ArrGet {}),
            i(LocalGet { index: 1 }),
            i(LocalGet { index: 0 }),
            i(LocalGet { index: 2 }),
            i(ArrGet {}),
            i(IConst { value: 0 }),
            i(MapGetOr {}),
            i(IConst { value: 1 }),
            i(IAdd {}),
            i(MapSet {}),
            i(LocalGet { index: 2 }),
            i(IConst { value: 1 }),
            i(IAdd {}),
            i(LocalSet { index: 2 }),
            A::Jmp("head"),
            A::Label("end"),
            i(LocalGet { index: 1 }),
            i(Ret {}),
        ],
    );
    let main = b.func(
        "main",
        &[],
        Some(int),
        &[point],
        &[
            i(SConst { index: text }),
            i(SConst { index: space }),
            i(SSplit { type_: strs }),
            i(Call { func: count }),
            i(ToStr { type_: counts }),
            i(CallNative { native: 1 }),
            i(FConst {
                value: F64Bits::new(1.5),
            }),
            i(SConst { index: space }),
            i(StructNew { type_: point }),
            i(LocalSet { index: 0 }),
            i(LocalGet { index: 0 }),
            i(ToStr { type_: point }),
            i(CallNative { native: 1 }),
            i(CallHost { import: args }),
            i(ArrLen {}),
            i(GlobalGet { index: total }),
            i(IAdd {}),
            i(Ret {}),
        ],
    );
    b.line(count, 0, file, 3, 5);
    b.line(count, 9, file, 4, 9);
    b.line(main, 0, file, 10, 5);
    b.m.init = Some(init);
    b.m.main = Some(main);
    b.export("count", count);
    b.export("main", main);
    b.build()
}

#[test]
fn the_seed_module_is_valid_and_round_trips() {
    let m = valid_module();
    assert_eq!(decode(&encode(&m)).as_ref(), Ok(&m));
    if let Err(e) = verify(m) {
        panic!("{e}");
    }
}

/// One way to damage a file.
#[derive(Clone, Debug)]
enum Mutation {
    /// Overwrite the byte at this position (modulo the length).
    Set(usize, u8),
    /// Flip one bit.
    Flip(usize, u8),
    /// Insert a byte.
    Insert(usize, u8),
    /// Delete a byte.
    Delete(usize),
    /// Cut the file here.
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Set(p, b)),
        4 => (any::<usize>(), 0u8..8).prop_map(|(p, b)| Mutation::Flip(p, b)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Insert(p, b)),
        1 => any::<usize>().prop_map(Mutation::Delete),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let len = bytes.len();
    match *m {
        Mutation::Set(p, b) => bytes[p % len] = b,
        Mutation::Flip(p, bit) => bytes[p % len] ^= 1 << bit,
        Mutation::Insert(p, b) => bytes.insert(p % (len + 1), b),
        Mutation::Delete(p) => {
            bytes.remove(p % len);
        }
        Mutation::Truncate(p) => bytes.truncate(p % len),
    }
}

/// Decodes and, if that succeeds, verifies; neither may panic.
fn load(bytes: &[u8]) {
    if let Ok(m) = decode(bytes) {
        let _ = verify(m);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn decode_inverts_encode(m in module()) {
        let bytes = encode(&m);
        prop_assert_eq!(decode(&bytes), Ok(m));
    }

    #[test]
    fn arbitrary_modules_never_panic_the_verifier(m in module()) {
        let _ = verify(m);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_valid_modules_never_panic(muts in vec(mutation(), 1..4)) {
        let mut bytes = encode(&valid_module());
        for m in &muts {
            apply(&mut bytes, m);
        }
        load(&bytes);
    }

    #[test]
    fn mutated_random_modules_never_panic(m in module(), muts in vec(mutation(), 1..4)) {
        let mut bytes = encode(&m);
        for mu in &muts {
            apply(&mut bytes, mu);
        }
        load(&bytes);
    }

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
        load(&bytes);
        // And after a valid header.
        let mut with_header = b"\x7fRVM\x01\x00\x00\x00".to_vec();
        with_header.extend_from_slice(&bytes);
        load(&with_header);
    }
}
