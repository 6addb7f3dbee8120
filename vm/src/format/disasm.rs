//! Human-readable listings of a module, for `rvm disasm` and `rvm inspect`.
//!
//! [`disassemble`] prints everything, like `javap -c`: the tables, then every function's
//! instructions at their byte offsets, with indices resolved to names (`call 3 <fib>`,
//! `s.const 0 "hello"`) and the source position whenever it changes. [`inspect`] prints
//! the outline: section sizes, the imports grouped by capability (the permissions
//! manifest: what the program may ask of the host, before it runs), the exports and entry points.
//!
//! Both take a [`Module`] that may not have been verified — the point of a disassembler is
//! to look at files that fail to load — so every index is checked and an out-of-range one
//! prints as `<invalid>`; nothing here panics.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{FORMAT_VERSION, Function, Instr, Module, TypeDef, TypeId};
use crate::host::{Capability, HostFn};
use crate::natives::Native;

/// The full listing of `module`.
pub fn disassemble(module: &Module) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "; rvm bytecode, format version {FORMAT_VERSION}");
    tables(module, &mut out);
    for (index, f) in module.functions.iter().enumerate() {
        out.push('\n');
        function(module, index, f, &mut out);
    }
    out
}

/// The outline of `module`, read from a file of `file_size` bytes.
pub fn inspect(module: &Module, file_size: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "rvm bytecode, format version {FORMAT_VERSION}, {file_size} bytes"
    );
    let instrs: usize = module.functions.iter().map(|f| f.code.len()).sum();
    let code_bytes: u64 = module
        .functions
        .iter()
        .flat_map(|f| &f.code)
        .map(|i| i.encoded_len() as u64)
        .sum();
    let lines: usize = module.functions.iter().map(|f| f.lines.len()).sum();
    let _ = writeln!(out, "sections:");
    let _ = writeln!(out, "  types      {}", module.types.len());
    let _ = writeln!(out, "  strings    {}", module.strings.len());
    let _ = writeln!(out, "  imports    {}", module.imports.len());
    let _ = writeln!(out, "  globals    {}", module.globals.len());
    let _ = writeln!(
        out,
        "  functions  {} ({instrs} instructions, {code_bytes} code bytes)",
        module.functions.len()
    );
    let _ = writeln!(out, "  exports    {}", module.exports.len());
    let entries = module.init.is_some() as usize + module.main.is_some() as usize;
    let _ = writeln!(out, "  entry      {entries}");
    let _ = writeln!(
        out,
        "  debug      {} source files, {lines} line entries",
        module.files.len()
    );

    // The permissions manifest: what the program may ask of the host, by capability.
    let _ = writeln!(out, "imports by capability:");
    let mut by_cap: BTreeMap<Option<Capability>, Vec<String>> = BTreeMap::new();
    for imp in &module.imports {
        let cap = HostFn::lookup(&imp.module, &imp.name).map(HostFn::capability);
        by_cap.entry(cap).or_default().push(format!(
            "{}.{}: {}",
            imp.module,
            imp.name,
            type_plain(module, imp.ty)
        ));
    }
    if by_cap.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for (cap, names) in by_cap {
        let heading = match cap {
            Some(Capability::None) => "always allowed".to_owned(),
            Some(Capability::Read | Capability::Write | Capability::Env) => {
                let c = cap.map_or("", Capability::name);
                format!("{c} (--allow-{c}[=...])")
            }
            Some(c) => format!("{} (--allow-{})", c.name(), c.name()),
            None => "embedder functions (provided by the application that embeds rvm; \
                     the `rvm` command refuses to run the module)"
                .to_owned(),
        };
        let _ = writeln!(out, "  {heading}");
        for n in names {
            let _ = writeln!(out, "    {n}");
        }
    }
    exports(module, &mut out);
    entry(module, &mut out);
    out
}

fn tables(m: &Module, out: &mut String) {
    let _ = writeln!(out, "types ({}):", m.types.len());
    for (i, t) in m.types.iter().enumerate() {
        let text = match t {
            TypeDef::Struct(s) => {
                let fields: Vec<String> = s
                    .fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name, type_plain(m, f.ty)))
                    .collect();
                format!("struct {} {{ {} }}", s.name, fields.join(", "))
            }
            _ => m.type_name(i as TypeId),
        };
        let _ = writeln!(out, "  #{i:<3} {text}");
    }
    let _ = writeln!(out, "strings ({}):", m.strings.len());
    for (i, s) in m.strings.iter().enumerate() {
        let _ = writeln!(out, "  #{i:<3} {}", quote(s));
    }
    let _ = writeln!(out, "imports ({}):", m.imports.len());
    for (i, imp) in m.imports.iter().enumerate() {
        let _ = writeln!(
            out,
            "  #{i:<3} {}.{}: {}",
            imp.module,
            imp.name,
            type_plain(m, imp.ty)
        );
    }
    let _ = writeln!(out, "globals ({}):", m.globals.len());
    for (i, g) in m.globals.iter().enumerate() {
        let kind = if g.mutable { "var" } else { "let" };
        let _ = writeln!(out, "  #{i:<3} {kind} {}: {}", g.name, type_plain(m, g.ty));
    }
    exports(m, out);
    entry(m, out);
}

fn exports(m: &Module, out: &mut String) {
    let _ = writeln!(out, "exports ({}):", m.exports.len());
    for e in &m.exports {
        let _ = writeln!(out, "  {} = {}", e.name, func_ref(m, e.func));
    }
}

fn entry(m: &Module, out: &mut String) {
    let _ = writeln!(out, "entry points:");
    for (what, f) in [("init", m.init), ("main", m.main)] {
        match f {
            Some(f) => {
                let _ = writeln!(out, "  {what} = {}", func_ref(m, f));
            }
            None => {
                let _ = writeln!(out, "  {what} = (none)");
            }
        }
    }
}

fn function(m: &Module, index: usize, f: &Function, out: &mut String) {
    let _ = writeln!(out, "fn #{index} {}: {}", f.name, type_plain(m, f.ty));
    let locals: Vec<String> = f.locals.iter().map(|t| type_plain(m, *t)).collect();
    let params = match m.types.get(f.ty as usize) {
        Some(TypeDef::Func(sig)) => sig.params.len(),
        _ => 0,
    };
    let _ = writeln!(
        out,
        "  params: {params}  locals: [{}]  max_stack: {}",
        locals.join(", "),
        f.max_stack
    );
    let many_files = m.files.len() > 1;
    let mut last = None;
    let mut at = 0u32;
    for instr in &f.code {
        let text = instr_text(m, instr);
        let pos = f.position_at(at);
        let here = pos.map(|p| (p.file, p.line, p.column));
        if here != last
            && let Some(p) = pos
        {
            let file = if many_files {
                match m.files.get(p.file as usize) {
                    Some(name) => format!("{name} "),
                    None => "<invalid> ".into(),
                }
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  {at:04}  {text:<32} ; {file}line {}:{}",
                p.line, p.column
            );
        } else {
            let _ = writeln!(out, "  {at:04}  {text}");
        }
        last = here;
        at = at.saturating_add(instr.encoded_len() as u32);
    }
}

/// `mnemonic operands <annotation>` for one instruction.
fn instr_text(m: &Module, instr: &Instr) -> String {
    let mut text = instr.mnemonic().to_string();
    let operands = instr.operand_text();
    if !operands.is_empty() {
        text.push(' ');
        text.push_str(&operands);
    }
    let note = match *instr {
        Instr::SConst { index } => Some(match m.strings.get(index as usize) {
            Some(s) => quote(s),
            None => "<invalid>".into(),
        }),
        Instr::FnRef { func } | Instr::Call { func } => Some(func_name(m, func)),
        Instr::GlobalGet { index } | Instr::GlobalSet { index } => {
            Some(match m.globals.get(index as usize) {
                Some(g) => format!("<{}>", g.name),
                None => "<invalid>".into(),
            })
        }
        Instr::CallHost { import } => Some(match m.imports.get(import as usize) {
            Some(imp) => format!("<{}.{}>", imp.module, imp.name),
            None => "<invalid>".into(),
        }),
        Instr::CallNative { native } => Some(match Native::from_id(native) {
            Some(n) => format!("<{}>", n.name()),
            None => "<invalid>".into(),
        }),
        Instr::SSplit { type_ }
        | Instr::SChars { type_ }
        | Instr::ToStr { type_ }
        | Instr::CallRef { type_ }
        | Instr::ArrNew { type_, .. }
        | Instr::ArrFill { type_ }
        | Instr::MapNew { type_, .. }
        | Instr::MapKeys { type_ }
        | Instr::MapValues { type_ }
        | Instr::StructNew { type_ } => Some(type_ref(m, type_)),
        _ => None,
    };
    if let Some(note) = note {
        text.push(' ');
        text.push_str(&note);
    }
    text
}

/// `<[int]>`, or `<invalid>` when out of range: an instruction's type operand.
fn type_ref(m: &Module, id: TypeId) -> String {
    if (id as usize) < m.types.len() {
        format!("<{}>", m.type_name(id))
    } else {
        "<invalid>".into()
    }
}

/// `[int]`, or `<invalid>` when out of range: a type in a table.
fn type_plain(m: &Module, id: TypeId) -> String {
    if (id as usize) < m.types.len() {
        m.type_name(id)
    } else {
        "<invalid>".into()
    }
}

/// `<fib>`, or `<invalid>` when out of range.
fn func_name(m: &Module, func: u32) -> String {
    match m.functions.get(func as usize) {
        Some(f) => format!("<{}>", f.name),
        None => "<invalid>".into(),
    }
}

/// `#3 <fib>`.
fn func_ref(m: &Module, func: u32) -> String {
    format!("#{func} {}", func_name(m, func))
}

/// A string literal with escapes, as the language writes it.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
