//! rvmc: source text → bytecode module.
//!
//! The pipeline: `lexer` (logos) → `parser` (lalrpop) → [`ast`] → `check` (names and types,
//! every error collected) → `codegen` → [`rvm_vm::format::Module`]. Diagnostics are collected in
//! [`diagnostics::Diagnostics`] and rendered with codespan-reporting.

pub mod ast;
pub mod diagnostics;
pub mod lexer;
pub mod parser;
pub mod program;
