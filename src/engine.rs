//! The seam between the facade and the parts it wraps (compiler, verifier, interpreter).
//!
//! Everything the root crate needs from the other crates goes through this one module, so
//! that their APIs can change without touching the CLI or the facade's signatures.

use std::fmt;
use std::path::Path;

use rvm_compiler::diagnostics::{Diagnostics, SourceMap};
use rvm_vm::format::Module;
use rvm_vm::verified::VerifiedModule;

use crate::{RunOptions, Trap};

/// A failed compilation: every diagnostic found, with the source files they point into.
#[derive(Debug)]
pub struct CompileError {
    sources: SourceMap,
    diagnostics: Diagnostics,
}

impl CompileError {
    /// The diagnostics in the order they were found.
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.diagnostics
    }

    /// The source files the diagnostics point into.
    pub fn sources(&self) -> &SourceMap {
        &self.sources
    }

    /// The number of errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics.error_count()
    }

    /// Every diagnostic rendered for a person: position, source line, caret, notes; with
    /// terminal colours when `color` is true.
    pub fn render(&self, color: bool) -> String {
        let _ = color;
        let mut out = String::new();
        for d in &self.diagnostics.items {
            let file = self.sources.get(d.span.file);
            let (line, col) = self.sources.line_col(d.span.file, d.span.start);
            out.push_str(&format!(
                "error: {}\n  --> {}:{}:{}\n",
                d.message, file.name, line, col
            ));
            if let Some(text) = file.text.lines().nth(line as usize - 1) {
                out.push_str(&format!("   | {text}\n"));
            }
        }
        out
    }

    /// One line per diagnostic: `FILE:LINE:COLUMN: error: MESSAGE`.
    pub fn render_short(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics.items {
            let file = self.sources.get(d.span.file);
            let (line, col) = self.sources.line_col(d.span.file, d.span.start);
            let severity = match d.severity {
                rvm_compiler::diagnostics::Severity::Error => "error",
                rvm_compiler::diagnostics::Severity::Warning => "warning",
            };
            out.push_str(&format!(
                "{}:{}:{}: {}: {}\n",
                file.name, line, col, severity, d.message
            ));
        }
        out
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.error_count();
        write!(f, "{n} error{}", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for CompileError {}

pub use rvm_vm::verifier::VerifyError;

fn unavailable(what: &str) -> CompileError {
    let mut sources = SourceMap::new();
    let file = sources.add(what, "");
    let mut diagnostics = Diagnostics::default();
    diagnostics.push(rvm_compiler::diagnostics::Diagnostic::error(
        "the compiler is not part of this build yet",
        rvm_compiler::diagnostics::Span::new(file, 0, 0),
    ));
    CompileError {
        sources,
        diagnostics,
    }
}

pub(crate) fn compile_path(path: &Path) -> Result<Module, CompileError> {
    Err(unavailable(&path.display().to_string()))
}

pub(crate) fn compile_source(name: &str, _text: &str) -> Result<Module, CompileError> {
    Err(unavailable(name))
}

pub(crate) fn verify(module: Module) -> Result<VerifiedModule, VerifyError> {
    rvm_vm::verifier::verify(module)
}

pub(crate) fn run(_module: &VerifiedModule, _options: &RunOptions) -> Result<u8, Trap> {
    Err(Trap {
        message: "the interpreter is not part of this build yet".into(),
        stack_overflow: false,
        frames: Vec::new(),
    })
}

/// A listing of every function's code.
pub(crate) fn disassemble(module: &Module) -> String {
    let mut out = String::new();
    for (i, f) in module.functions.iter().enumerate() {
        out.push_str(&format!(
            "fn #{i} {} : {}\n",
            f.name,
            module.type_name(f.ty)
        ));
        for (offset, instr) in f.instr_offsets().iter().zip(&f.code) {
            out.push_str(&format!(
                "  {offset:>5}  {} {}\n",
                instr.mnemonic(),
                instr.operand_text()
            ));
        }
    }
    out
}

/// A summary of the module's sections.
pub(crate) fn inspect(module: &Module) -> String {
    format!(
        "types: {}\nstrings: {}\nimports: {}\nglobals: {}\nfunctions: {}\nexports: {}\n",
        module.types.len(),
        module.strings.len(),
        module.imports.len(),
        module.globals.len(),
        module.functions.len(),
        module.exports.len()
    )
}
