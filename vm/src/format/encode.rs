//! Module → bytes. The layout is the one `decode` reads and `spec/bytecode.md` documents.

use super::{FORMAT_VERSION, MAGIC, Module, TypeDef, section};

/// Encodes a module into the `.bc` byte format.
pub fn encode(module: &Module) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // flags, reserved

    let mut body = Vec::new();
    u32_(&mut body, module.types.len());
    for ty in &module.types {
        match ty {
            TypeDef::Int => body.push(0),
            TypeDef::Float => body.push(1),
            TypeDef::Bool => body.push(2),
            TypeDef::Str => body.push(3),
            TypeDef::Array(e) => {
                body.push(4);
                u32v(&mut body, *e);
            }
            TypeDef::Map(k, v) => {
                body.push(5);
                u32v(&mut body, *k);
                u32v(&mut body, *v);
            }
            TypeDef::Struct(s) => {
                body.push(6);
                string(&mut body, &s.name);
                u32_(&mut body, s.fields.len());
                for f in &s.fields {
                    string(&mut body, &f.name);
                    u32v(&mut body, f.ty);
                }
            }
            TypeDef::Func(f) => {
                body.push(7);
                u32_(&mut body, f.params.len());
                for p in &f.params {
                    u32v(&mut body, *p);
                }
                opt(&mut body, f.result);
            }
        }
    }
    put_section(&mut out, section::TYPES, &mut body);

    u32_(&mut body, module.strings.len());
    for s in &module.strings {
        string(&mut body, s);
    }
    put_section(&mut out, section::STRINGS, &mut body);

    u32_(&mut body, module.imports.len());
    for imp in &module.imports {
        string(&mut body, &imp.module);
        string(&mut body, &imp.name);
        u32v(&mut body, imp.ty);
    }
    put_section(&mut out, section::IMPORTS, &mut body);

    u32_(&mut body, module.globals.len());
    for g in &module.globals {
        string(&mut body, &g.name);
        u32v(&mut body, g.ty);
        body.push(g.mutable as u8);
    }
    put_section(&mut out, section::GLOBALS, &mut body);

    u32_(&mut body, module.functions.len());
    let mut code = Vec::new();
    for f in &module.functions {
        string(&mut body, &f.name);
        u32v(&mut body, f.ty);
        u32_(&mut body, f.locals.len());
        for l in &f.locals {
            u32v(&mut body, *l);
        }
        u32v(&mut body, f.max_stack);
        code.clear();
        for instr in &f.code {
            instr.encode(&mut code);
        }
        u32_(&mut body, code.len());
        body.extend_from_slice(&code);
    }
    put_section(&mut out, section::FUNCTIONS, &mut body);

    u32_(&mut body, module.exports.len());
    for e in &module.exports {
        string(&mut body, &e.name);
        u32v(&mut body, e.func);
    }
    put_section(&mut out, section::EXPORTS, &mut body);

    opt(&mut body, module.init);
    opt(&mut body, module.main);
    put_section(&mut out, section::ENTRY, &mut body);

    u32_(&mut body, module.files.len());
    for f in &module.files {
        string(&mut body, f);
    }
    u32_(&mut body, module.functions.len());
    for f in &module.functions {
        u32_(&mut body, f.lines.len());
        for e in &f.lines {
            for v in [e.offset, e.file, e.line, e.column] {
                u32v(&mut body, v);
            }
        }
    }
    put_section(&mut out, section::DEBUG, &mut body);
    out
}

fn put_section(out: &mut Vec<u8>, id: u8, body: &mut Vec<u8>) {
    out.push(id);
    u32_(out, body.len());
    out.append(body);
}

fn u32v(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32_(out: &mut Vec<u8>, v: usize) {
    u32v(
        out,
        u32::try_from(v).expect("module too large to encode (over 4 GiB in one table)"),
    );
}

fn string(out: &mut Vec<u8>, s: &str) {
    u32_(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn opt(out: &mut Vec<u8>, v: Option<u32>) {
    match v {
        Some(v) => {
            out.push(1);
            u32v(out, v);
        }
        None => out.push(0),
    }
}
