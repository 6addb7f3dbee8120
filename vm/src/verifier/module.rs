//! The module-level rules: imports, globals, function headers, exports, entry points and
//! line tables. They run before any code is looked at, so the code checks can rely on every
//! signature being a well-formed function type.

use std::collections::HashSet;

use super::types::{Ty, Types};
use super::{MAX_CODE_BYTES, MAX_LOCALS, MAX_STACK, Rule, VerifyError};
use crate::format::{FuncType, Function, Module};
use crate::host::HostFn;
use crate::host::embedder::{is_boundary_type, is_embedder_module};

/// Checks imports against the host table. An import from a namespace that is not a
/// built-in host module is an embedder function (see [`crate::host::embedder`]): only its
/// signature's types are checked here; linking checks the rest.
pub(super) fn check_imports(m: &Module, types: &Types<'_>) -> Result<(), VerifyError> {
    for (i, imp) in m.imports.iter().enumerate() {
        let what = format!("import #{i} ({}.{})", imp.module, imp.name);
        let sig = signature(m, types, imp.ty, &what)?;
        if is_embedder_module(&imp.module) {
            let ok = sig
                .params
                .iter()
                .chain(&sig.result)
                .all(|&t| is_boundary_type(m, t));
            if !ok {
                return Err(VerifyError::module(
                    Rule::ImportSignature,
                    format!(
                        "{what} has type {}, but an embedder function takes and returns only \
                         int, float, bool, str, and arrays and maps of those",
                        m.type_name(imp.ty)
                    ),
                ));
            }
            continue;
        }
        let Some(host) = HostFn::lookup(&imp.module, &imp.name) else {
            return Err(VerifyError::module(
                Rule::UnknownImport,
                format!(
                    "{what}: this VM has no host function {}.{}",
                    imp.module, imp.name
                ),
            ));
        };
        let params_match = sig.params.len() == host.params().len()
            && sig
                .params
                .iter()
                .zip(host.params())
                .all(|(p, h)| types.matches_host(types.of(*p), *h));
        let result_match = match (sig.result, host.result()) {
            (None, None) => true,
            (Some(r), Some(h)) => types.matches_host(types.of(r), h),
            _ => false,
        };
        if !params_match || !result_match {
            return Err(VerifyError::module(
                Rule::ImportSignature,
                format!(
                    "{what} has type {}, but the host function's signature differs",
                    m.type_name(imp.ty)
                ),
            ));
        }
    }
    Ok(())
}

/// Checks every global's type index.
pub(super) fn check_globals(m: &Module, types: &Types<'_>) -> Result<(), VerifyError> {
    for (i, g) in m.globals.iter().enumerate() {
        if types.get(g.ty).is_none() {
            return Err(VerifyError::module(
                Rule::TypeIndex,
                format!(
                    "global #{i} `{}` has type #{}, but the table has {} types",
                    g.name,
                    g.ty,
                    m.types.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Checks a function's header: signature, local types and the size limits.
pub(super) fn check_function_header(
    m: &Module,
    types: &Types<'_>,
    index: u32,
    f: &Function,
) -> Result<(), VerifyError> {
    let err = |rule, msg| Err(VerifyError::in_function(rule, index, &f.name, msg));
    let sig = match types.get(f.ty) {
        None => {
            return err(
                Rule::TypeIndex,
                format!(
                    "signature type #{} is out of range ({} types)",
                    f.ty,
                    m.types.len()
                ),
            );
        }
        Some(t) => match types.func(t) {
            Some(sig) => sig,
            None => {
                return err(
                    Rule::NotAFuncType,
                    format!("signature {} is not a function type", m.type_name(f.ty)),
                );
            }
        },
    };
    for (i, l) in f.locals.iter().enumerate() {
        if types.get(*l).is_none() {
            return err(
                Rule::TypeIndex,
                format!(
                    "local #{} has type #{l}, out of range",
                    sig.params.len() + i
                ),
            );
        }
    }
    let locals = sig.params.len() as u64 + f.locals.len() as u64;
    if locals > MAX_LOCALS as u64 {
        return err(
            Rule::TooManyLocals,
            format!("{locals} parameters and locals (the limit is {MAX_LOCALS})"),
        );
    }
    if f.max_stack > MAX_STACK {
        return err(
            Rule::MaxStackTooLarge,
            format!("max_stack {} exceeds the limit of {MAX_STACK}", f.max_stack),
        );
    }
    let bytes: u64 = f.code.iter().map(|i| i.encoded_len() as u64).sum();
    if bytes > MAX_CODE_BYTES as u64 {
        return err(
            Rule::CodeTooLarge,
            format!("{bytes} bytes of code (the limit is {MAX_CODE_BYTES})"),
        );
    }
    if f.code.is_empty() {
        return err(Rule::EmptyCode, "the function has no code".into());
    }
    Ok(())
}

/// Checks the exports and the entry points.
pub(super) fn check_exports_and_entry(m: &Module, types: &Types<'_>) -> Result<(), VerifyError> {
    let mut names = HashSet::new();
    for e in &m.exports {
        if m.functions.get(e.func as usize).is_none() {
            return Err(VerifyError::module(
                Rule::FunctionIndex,
                format!(
                    "export `{}` names function #{}, but the module has {} functions",
                    e.name,
                    e.func,
                    m.functions.len()
                ),
            ));
        }
        if !names.insert(e.name.as_str()) {
            return Err(VerifyError::module(
                Rule::DuplicateExport,
                format!("export `{}` appears more than once", e.name),
            ));
        }
    }
    for (what, entry, rule) in [
        ("initialiser", m.init, Rule::InitSignature),
        ("main", m.main, Rule::MainSignature),
    ] {
        let Some(index) = entry else { continue };
        let Some(f) = m.functions.get(index as usize) else {
            return Err(VerifyError::module(
                Rule::FunctionIndex,
                format!(
                    "the {what} is function #{index}, but the module has {} functions",
                    m.functions.len()
                ),
            ));
        };
        let ok = match types.func_of_id(f.ty) {
            Some(sig) if sig.params.is_empty() => match sig.result {
                None => true,
                Some(r) => rule == Rule::MainSignature && types.of(r) == Ty::Int,
            },
            _ => false,
        };
        if !ok {
            let want = if rule == Rule::MainSignature {
                "fn() or fn() -> int"
            } else {
                "fn()"
            };
            return Err(VerifyError::in_function(
                rule,
                index,
                &f.name,
                format!(
                    "the {what} must have type {want}, not {}",
                    m.type_name(f.ty)
                ),
            ));
        }
    }
    Ok(())
}

/// Checks a function's line table against its code and the file list.
pub(super) fn check_lines(
    m: &Module,
    index: u32,
    f: &Function,
    code_len: u32,
) -> Result<(), VerifyError> {
    let err = |rule, msg| Err(VerifyError::in_function(rule, index, &f.name, msg));
    let mut prev = 0u32;
    for (i, e) in f.lines.iter().enumerate() {
        if e.offset < prev {
            return err(
                Rule::LineTableOrder,
                format!(
                    "line entry #{i} has offset {} after an entry with offset {prev}",
                    e.offset
                ),
            );
        }
        prev = e.offset;
        if e.offset >= code_len {
            return err(
                Rule::LineTableOffset,
                format!(
                    "line entry #{i} has offset {}, past the code's {code_len} bytes",
                    e.offset
                ),
            );
        }
        if m.files.get(e.file as usize).is_none() {
            return err(
                Rule::FileIndex,
                format!(
                    "line entry #{i} names file #{}, but the module has {} files",
                    e.file,
                    m.files.len()
                ),
            );
        }
    }
    Ok(())
}

/// The signature of an import, refusing ids out of range and non-function types.
fn signature<'m>(
    m: &Module,
    types: &Types<'m>,
    id: u32,
    what: &str,
) -> Result<&'m FuncType, VerifyError> {
    match types.get(id) {
        None => Err(VerifyError::module(
            Rule::TypeIndex,
            format!(
                "{what} has type #{id}, but the table has {} types",
                m.types.len()
            ),
        )),
        Some(t) => types.func(t).ok_or_else(|| {
            VerifyError::module(
                Rule::NotAFuncType,
                format!(
                    "{what} has type {}, which is not a function type",
                    m.type_name(id)
                ),
            )
        }),
    }
}
