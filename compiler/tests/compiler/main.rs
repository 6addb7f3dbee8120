//! End-to-end tests of the compiler: source text → checked → bytecode that the verifier
//! accepts, and the diagnostics for programs that must not compile.

mod errors;
mod mutate;
mod programs;
mod returns;
mod semantics;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use rvm_compiler::diagnostics::Severity;
use rvm_compiler::program::SourceLoader;
use rvm_compiler::{Compiled, compile_source};
use rvm_vm::format::{Function, Module};

/// Sources held in memory, by path.
#[derive(Debug, Default)]
pub struct Mem(HashMap<PathBuf, String>);

impl Mem {
    pub fn with(files: &[(&str, &str)]) -> Mem {
        Mem(files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect())
    }
}

impl SourceLoader for Mem {
    fn load(&self, path: &Path) -> io::Result<String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
}

/// Compiles `src` (with extra files for imports), panicking with the rendered diagnostics
/// on failure, and checks that the module verifies and survives an encode/decode trip.
pub fn compile_with(src: &str, files: &[(&str, &str)]) -> Compiled {
    let loader = Mem::with(files);
    match compile_source("main.src", src, &loader) {
        Ok(c) => {
            let bytes = rvm_vm::format::encode(&c.module);
            let decoded = rvm_vm::format::decode(&bytes).expect("module decodes");
            assert_eq!(decoded, c.module);
            if let Err(e) = rvm_vm::verifier::verify(c.module.clone()) {
                panic!("verification failed: {e}\n{}", dump(&c.module));
            }
            c
        }
        Err(f) => panic!(
            "compilation failed:\n{}",
            f.diagnostics.render(&f.sources, false)
        ),
    }
}

pub fn compile(src: &str) -> Compiled {
    compile_with(src, &[])
}

/// The diagnostics of a program that must fail, as `line:col: message` strings.
pub fn errors_with(src: &str, files: &[(&str, &str)]) -> Vec<String> {
    let loader = Mem::with(files);
    match compile_source("main.src", src, &loader) {
        Ok(c) => panic!("expected errors, compiled:\n{}", dump(&c.module)),
        Err(f) => f
            .diagnostics
            .items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                let (l, c) = f.sources.line_col(d.span.file, d.span.start);
                format!("{l}:{c}: {} [{}]", d.message, d.label)
            })
            .collect(),
    }
}

pub fn errors(src: &str) -> Vec<String> {
    errors_with(src, &[])
}

/// Asserts that compiling `src` fails with exactly the errors whose texts contain the
/// given `(line, fragment)` pairs, in order.
#[track_caller]
pub fn assert_errors(src: &str, expected: &[(u32, &str)]) {
    let got = errors(src);
    let ok = got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|(g, (line, frag))| g.starts_with(&format!("{line}:")) && g.contains(frag));
    assert!(ok, "expected {expected:#?}\ngot {got:#?}");
}

/// A readable listing of one function.
pub fn listing(f: &Function) -> String {
    let mut out = String::new();
    let offsets = f.instr_offsets();
    for (i, instr) in f.code.iter().enumerate() {
        out.push_str(&format!(
            "{:>4}: {} {}\n",
            offsets[i],
            instr.mnemonic(),
            instr.operand_text()
        ));
    }
    out
}

pub fn dump(m: &Module) -> String {
    let mut out = String::new();
    for f in &m.functions {
        out.push_str(&format!(
            "fn {} (max_stack {}, locals {:?})\n{}",
            f.name,
            f.max_stack,
            f.locals,
            listing(f)
        ));
    }
    out
}

pub fn function<'m>(m: &'m Module, name: &str) -> &'m Function {
    m.functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name}"))
}

/// The mnemonics of a function's code, space-separated.
pub fn mnemonics(f: &Function) -> String {
    f.code
        .iter()
        .map(|i| i.mnemonic())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `Write` that appends to a shared buffer.
#[derive(Clone, Default)]
struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Compiles and runs `src`, returning standard output, or the first line of the trap.
pub fn run(src: &str) -> String {
    let c = compile(src);
    let verified = rvm_vm::verifier::verify(c.module).expect("verifies");
    let out = Capture::default();
    let mut vm = rvm_vm::interpreter::Vm::new(
        &verified,
        rvm_vm::interpreter::VmConfig::default(),
        Box::new(out.clone()),
        Box::new(io::sink()),
    )
    .expect("vm");
    let result = vm.run_main();
    drop(vm);
    let mut text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    if let Err(t) = result {
        text.push_str(t.to_string().lines().next().unwrap_or(""));
    }
    text
}
