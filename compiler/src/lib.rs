//! rvmc: source text → bytecode module.
//!
//! The pipeline: `lexer` (logos) → `parser` (lalrpop) → [`ast`] → [`check`] (names and types,
//! every error collected) → [`codegen`] → [`rvm_vm::format::Module`]. Diagnostics are collected in
//! [`diagnostics::Diagnostics`] and rendered with codespan-reporting.

pub mod ast;
pub mod check;
pub mod codegen;
pub mod diagnostics;
pub mod lexer;
pub mod parser;
pub mod program;
pub mod types;

use std::path::Path;

use diagnostics::{Diagnostics, Severity, SourceMap};
use program::{FsLoader, ParsedProgram, SourceLoader};
use rvm_vm::format::Module;

/// A successful compilation.
#[derive(Debug)]
pub struct Compiled {
    /// The bytecode module.
    pub module: Module,
    /// Every source file of the program (for rendering the warnings).
    pub sources: SourceMap,
    /// Warnings (never errors).
    pub warnings: Diagnostics,
}

/// A failed compilation: at least one error.
#[derive(Debug)]
pub struct CompileFailure {
    /// Every source file that was read (for rendering the diagnostics).
    pub sources: SourceMap,
    /// Every error and warning found, in the order found.
    pub diagnostics: Diagnostics,
}

impl std::fmt::Display for CompileFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.diagnostics.render_short(&self.sources).trim_end())
    }
}

impl std::error::Error for CompileFailure {}

/// Compiles the program whose root file is `path` (imports are read from the file system,
/// relative to the importing file).
pub fn compile_path(path: &Path) -> Result<Compiled, CompileFailure> {
    let mut diags = Diagnostics::default();
    let program = program::load_program(path, &FsLoader, &mut diags);
    compile_parsed(program, diags)
}

/// Compiles source text named `name` (shown in positions; relative imports start from
/// it), reading imports through `loader`.
pub fn compile_source(
    name: &str,
    text: &str,
    loader: &dyn SourceLoader,
) -> Result<Compiled, CompileFailure> {
    let mut diags = Diagnostics::default();
    let program = program::load_source(name, text, loader, &mut diags);
    compile_parsed(program, diags)
}

/// Like [`compile_source`], for a library: a module whose functions an embedding
/// application calls, for which `main` is optional (if present it must still have the type
/// of a `main`). Its module has no entry point besides the initialiser.
pub fn compile_library(
    name: &str,
    text: &str,
    loader: &dyn SourceLoader,
) -> Result<Compiled, CompileFailure> {
    let mut diags = Diagnostics::default();
    let program = program::load_source(name, text, loader, &mut diags);
    compile_parsed_as(program, diags, true)
}

/// Stack for checking and code generation, which recurse over the (depth-limited) syntax
/// tree: generous, so that the deepest tree the parser accepts is safe in debug builds too.
const COMPILER_STACK: usize = 64 << 20;

/// Checks and generates code for a loaded program. Syntax errors stop before checking
/// (a partially parsed file would only produce follow-on errors).
pub fn compile_parsed(
    program: ParsedProgram,
    diags: Diagnostics,
) -> Result<Compiled, CompileFailure> {
    compile_parsed_as(program, diags, false)
}

fn compile_parsed_as(
    program: ParsedProgram,
    diags: Diagnostics,
    library: bool,
) -> Result<Compiled, CompileFailure> {
    if diags.has_errors() {
        return Err(CompileFailure {
            sources: program.sources,
            diagnostics: diags,
        });
    }
    // Run on a thread with a known, large stack rather than whatever the caller has; the
    // syntax tree is also dropped there (dropping a long `else if` chain recurses).
    let (module, diags, sources) = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("rvmc-check".into())
            .stack_size(COMPILER_STACK)
            .spawn_scoped(s, move || check_and_generate(program, diags, library))
            .map(|h| h.join())
    })
    .unwrap_or_else(|e| panic!("cannot start the compiler thread: {e}"))
    .unwrap_or_else(|p| std::panic::resume_unwind(p));
    match module {
        Some(module) if !diags.has_errors() => {
            let mut warnings = diags;
            warnings.items.retain(|d| d.severity == Severity::Warning);
            Ok(Compiled {
                module,
                sources,
                warnings,
            })
        }
        _ => Err(CompileFailure {
            sources,
            diagnostics: diags,
        }),
    }
}

fn check_and_generate(
    program: ParsedProgram,
    mut diags: Diagnostics,
    library: bool,
) -> (Option<Module>, Diagnostics, SourceMap) {
    let module = {
        let input = check::CheckInput {
            files: program
                .files
                .iter()
                .map(|f| check::FileInput {
                    ast: &f.ast,
                    imports: &f.imports,
                })
                .collect(),
            root: program.root,
            library,
        };
        let checked = check::check(&input, &program.sources, &mut diags);
        checked.and_then(|p| match codegen::generate(&p, &program.sources) {
            Ok(m) => Some(m),
            Err(span) => {
                diags.push(
                    diagnostics::Diagnostic::error("internal compiler error", span)
                        .with_label("this expression could not be compiled")
                        .with_note("please report this program as a bug"),
                );
                None
            }
        })
    };
    let ParsedProgram { sources, files, .. } = program;
    drop(files);
    (module, diags, sources)
}
