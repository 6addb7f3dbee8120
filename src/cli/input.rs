//! Reading program files: source or bytecode, told apart by the `.bc` magic bytes (the file
//! name's extension only matters for the error message when the magic is missing).

use std::io;
use std::path::Path;

use rvm_vm::format::{MAGIC, Module};
use rvm_vm::verified::VerifiedModule;

use super::{ColorChoice, Failure, MessageFormat, exit, output};
use crate::{CompileFailure, Compiled, LoadError};

/// The text of an I/O error without Rust's ` (os error N)` suffix.
pub(crate) fn io_reason(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_owned(),
        _ => text,
    }
}

/// Reads a whole input file; failure is exit code 66.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::new(
            exit::NO_INPUT,
            format!("cannot read `{}`: {}", path.display(), io_reason(&e)),
        )
    })
}

/// What a program file holds.
pub(crate) enum Program {
    /// Source text to compile.
    Source,
    /// A bytecode file (it starts with the magic bytes).
    Bytecode(Vec<u8>),
}

/// Classifies a file's contents.
pub(crate) fn classify(path: &Path, bytes: Vec<u8>) -> Result<Program, Failure> {
    if bytes.starts_with(&MAGIC) {
        return Ok(Program::Bytecode(bytes));
    }
    if path.extension().is_some_and(|e| e == "bc") {
        return Err(invalid_bytecode(
            path,
            "not an rvm bytecode file (bad magic number)",
        ));
    }
    Ok(Program::Source)
}

/// Exit code 67 with the decode or verification error.
pub(crate) fn invalid_bytecode(path: &Path, why: impl std::fmt::Display) -> Failure {
    Failure::new(
        exit::INVALID_BYTECODE,
        format!("invalid bytecode in `{}`: {why}", path.display()),
    )
}

/// Prints diagnostics to standard error in the chosen format.
fn print_diagnostics(
    diagnostics: &rvm_compiler::diagnostics::Diagnostics,
    sources: &rvm_compiler::diagnostics::SourceMap,
    format: MessageFormat,
    color: ColorChoice,
) {
    let text = match format {
        MessageFormat::Human => diagnostics.render(sources, color.for_stderr()),
        MessageFormat::Short => diagnostics.render_short(sources),
    };
    output::stderr(&text);
}

/// Prints compile diagnostics and returns the exit-65 failure.
pub(crate) fn report_compile_error(
    err: &CompileFailure,
    format: MessageFormat,
    color: ColorChoice,
) -> Failure {
    print_diagnostics(&err.diagnostics, &err.sources, format, color);
    Failure::silent(exit::COMPILE)
}

/// Compiles a source file; diagnostics are printed, failure is exit code 65. Warnings are
/// printed when `warnings` is true (by `rvmc`; `rvm` runs the program without them).
pub(crate) fn compile(
    path: &Path,
    format: MessageFormat,
    color: ColorChoice,
    warnings: bool,
) -> Result<Module, Failure> {
    match crate::compile_file(path) {
        Ok(Compiled {
            module,
            sources,
            warnings: found,
        }) => {
            if warnings && !found.items.is_empty() {
                print_diagnostics(&found, &sources, format, color);
            }
            Ok(module)
        }
        Err(e) => Err(report_compile_error(&e, format, color)),
    }
}

/// Reads a program (source or bytecode) and returns its module, not verified, with the
/// size of its encoding.
pub(crate) fn load_unverified(path: &Path) -> Result<(Module, usize), Failure> {
    let bytes = read(path)?;
    match classify(path, bytes)? {
        Program::Bytecode(bytes) => rvm_vm::format::decode(&bytes)
            .map(|m| (m, bytes.len()))
            .map_err(|e| invalid_bytecode(path, e)),
        Program::Source => {
            let module = compile(path, MessageFormat::Human, ColorChoice::Auto, false)?;
            let size = rvm_vm::format::encode(&module).len();
            Ok((module, size))
        }
    }
}

/// Reads a program (source or bytecode) and returns it verified, ready to run.
pub(crate) fn load_verified(path: &Path) -> Result<VerifiedModule, Failure> {
    let bytes = read(path)?;
    match classify(path, bytes)? {
        Program::Bytecode(bytes) => crate::load_bytecode(&bytes).map_err(|e| match e {
            LoadError::Decode(e) => invalid_bytecode(path, e),
            LoadError::Verify(e) => invalid_bytecode(path, e),
        }),
        Program::Source => {
            let module = compile(path, MessageFormat::Human, ColorChoice::Auto, false)?;
            crate::verify(module).map_err(|e| internal_verify_error(path, e))
        }
    }
}

/// Refuses a module that imports embedder functions (`extern fn app.log(...)`): only an
/// application that embeds rvm and registers them can run it. A link error, reported like
/// invalid bytecode (exit code 67) before anything runs.
pub(crate) fn check_linkable(path: &Path, module: &VerifiedModule) -> Result<(), Failure> {
    let m = module.module();
    let missing: Vec<String> = m
        .imports
        .iter()
        .filter(|i| rvm_vm::host::embedder::is_embedder_module(&i.module))
        .map(|i| format!("{}.{}: {}", i.module, i.name, m.type_name(i.ty)))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        exit::INVALID_BYTECODE,
        format!(
            "cannot link `{}`: it imports host functions that only an embedding application \
             provides, not the rvm command: {}",
            path.display(),
            missing.join(", ")
        ),
    ))
}

/// The compiler produced bytecode that the verifier refuses: a bug in rvm, not in the
/// program.
pub(crate) fn internal_verify_error(path: &Path, err: impl std::fmt::Display) -> Failure {
    Failure::new(
        exit::TRAP,
        format!(
            "internal error: the bytecode compiled from `{}` does not verify: {err}",
            path.display()
        ),
    )
}
