//! `to_str`: how values print.
//!
//! The rules are part of the language contract (`BRIEF.md`, "Strings and printing"): floats
//! print like Python's `repr` (shortest round-trip digits, plain decimal for decimal
//! exponents -4..16, else `d.ddde±XX`), containers print their elements with strings quoted,
//! structs as `Name(field: value, ...)`, function references as `<fn name>`.
//!
//! Container formatting walks the object graph with an explicit task stack, never recursion,
//! so a deeply nested or long linked structure cannot overflow the Rust stack; a container
//! that (through mutable fields or elements) contains itself prints `[...]` / `Name(...)` at
//! the point of recursion, as Python does, instead of looping forever.

use std::collections::HashSet;
use std::fmt::Write;

use crate::format::{Module, TypeDef};
use crate::heap::{Heap, Obj, ValKind};

/// Appends the `repr`-style text of `f`.
pub fn push_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("nan");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f < 0.0 { "-inf" } else { "inf" });
        return;
    }
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // `{:e}` gives the shortest digits that round-trip, as `d.ddde<exp>` (`1e20`,
    // `-1.5e-5`); re-lay them out Python's way.
    let mut sci = String::with_capacity(32);
    let _ = write!(sci, "{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    }
}

/// The `repr`-style text of `f`.
pub fn float_to_string(f: f64) -> String {
    let mut s = String::new();
    push_float(&mut s, f);
    s
}

/// Appends `s` in double quotes with `\" \\ \n \t \r` escaped (how strings print inside
/// containers and in trap messages).
pub fn push_quoted(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `s` quoted as by [`push_quoted`].
pub fn quote_str(s: &str) -> String {
    let mut out = String::new();
    push_quoted(&mut out, s);
    out
}

/// Appends a scalar (non-container) value: `int`, `float`, `bool`, function reference, or a
/// string (raw when `quoted` is false).
pub fn push_scalar(
    out: &mut String,
    heap: &Heap,
    module: &Module,
    kind: ValKind,
    v: u64,
    quoted: bool,
) {
    match kind {
        ValKind::Int => {
            let _ = write!(out, "{}", v as i64);
        }
        ValKind::Float => push_float(out, f64::from_bits(v)),
        ValKind::Bool => out.push_str(if v != 0 { "true" } else { "false" }),
        ValKind::Str if quoted => push_quoted(out, heap.str(v)),
        ValKind::Str => out.push_str(heap.str(v)),
        ValKind::Func => {
            let name = module
                .functions
                .get(v as usize)
                .map_or("?", |f| f.name.as_str());
            let _ = write!(out, "<fn {name}>");
        }
        ValKind::Ref => {
            let _ = push_value(out, heap, module, kind, v, usize::MAX);
        }
    }
}

enum Task<'a> {
    Value(ValKind, u64),
    Text(&'a str),
    Leave(u32),
}

/// The text of a container would exceed the byte budget given to [`push_value`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge;

/// Appends value `v` of kind `kind` as `to_str` shows it (top-level strings raw), giving up
/// with [`TooLarge`] once `out` grows past `max_len` bytes.
///
/// The budget matters because a container's text can be far larger than the container:
/// an array holding one big string a thousand times, or a DAG (`a = [a, a]` sixty times)
/// whose text doubles at every level. The caller passes the heap's remaining room, so
/// formatting can neither escape `--max-heap` nor run for an unbounded time.
pub fn push_value(
    out: &mut String,
    heap: &Heap,
    module: &Module,
    kind: ValKind,
    v: u64,
    max_len: usize,
) -> Result<(), TooLarge> {
    if kind != ValKind::Ref {
        push_scalar(out, heap, module, kind, v, false);
        return if out.len() > max_len {
            Err(TooLarge)
        } else {
            Ok(())
        };
    }
    let mut tasks: Vec<Task<'_>> = vec![Task::Value(kind, v)];
    let mut active: HashSet<u32, foldhash::fast::FixedState> = HashSet::default();
    while let Some(task) = tasks.pop() {
        if out.len() > max_len {
            return Err(TooLarge);
        }
        let (kind, v) = match task {
            Task::Text(t) => {
                out.push_str(t);
                continue;
            }
            Task::Leave(h) => {
                active.remove(&h);
                continue;
            }
            Task::Value(kind, v) => (kind, v),
        };
        if kind != ValKind::Ref {
            push_scalar(out, heap, module, kind, v, true);
            continue;
        }
        let h = v as u32;
        let obj = heap.get(v);
        if active.contains(&h) {
            match obj {
                Obj::Struct(s) => {
                    out.push_str(struct_name(module, s.ty));
                    out.push_str("(...)");
                }
                _ => out.push_str("[...]"),
            }
            continue;
        }
        match obj {
            Obj::Free => out.push_str("<freed>"),
            Obj::Str(s) => push_quoted(out, s),
            Obj::Array(a) => {
                if a.items.is_empty() {
                    out.push_str("[]");
                    continue;
                }
                active.insert(h);
                out.push('[');
                tasks.push(Task::Leave(h));
                tasks.push(Task::Text("]"));
                for (i, &item) in a.items.iter().enumerate().rev() {
                    tasks.push(Task::Value(a.elem, item));
                    if i > 0 {
                        tasks.push(Task::Text(", "));
                    }
                }
            }
            Obj::Map(m) => {
                if m.is_empty() {
                    out.push_str("[:]");
                    continue;
                }
                active.insert(h);
                out.push('[');
                tasks.push(Task::Leave(h));
                tasks.push(Task::Text("]"));
                let entries: Vec<(u64, u64)> = m.iter().collect();
                for (i, &(k, val)) in entries.iter().enumerate().rev() {
                    tasks.push(Task::Value(m.val, val));
                    tasks.push(Task::Text(": "));
                    tasks.push(Task::Value(m.key, k));
                    if i > 0 {
                        tasks.push(Task::Text(", "));
                    }
                }
            }
            Obj::Struct(s) => {
                let Some(TypeDef::Struct(def)) = module.types.get(s.ty as usize) else {
                    out.push_str("<struct>");
                    continue;
                };
                active.insert(h);
                out.push_str(&def.name);
                out.push('(');
                tasks.push(Task::Leave(h));
                tasks.push(Task::Text(")"));
                let n = def.fields.len().min(s.fields.len());
                for i in (0..n).rev() {
                    let field = &def.fields[i];
                    let fk = field_kind(module, field.ty);
                    tasks.push(Task::Value(fk, s.fields[i]));
                    tasks.push(Task::Text(": "));
                    tasks.push(Task::Text(&field.name));
                    if i > 0 {
                        tasks.push(Task::Text(", "));
                    }
                }
            }
        }
    }
    if out.len() > max_len {
        Err(TooLarge)
    } else {
        Ok(())
    }
}

fn struct_name(module: &Module, ty: u32) -> &str {
    match module.types.get(ty as usize) {
        Some(TypeDef::Struct(def)) => &def.name,
        _ => "?",
    }
}

fn field_kind(module: &Module, ty: u32) -> ValKind {
    match module.types.get(ty as usize) {
        Some(TypeDef::Float) => ValKind::Float,
        Some(TypeDef::Bool) => ValKind::Bool,
        Some(TypeDef::Str) => ValKind::Str,
        Some(TypeDef::Func(_)) => ValKind::Func,
        Some(TypeDef::Array(_) | TypeDef::Map(..) | TypeDef::Struct(_)) => ValKind::Ref,
        Some(TypeDef::Int) | None => ValKind::Int,
    }
}

/// The text of map key `k` of kind `kind` as a trap message shows it (`"a"`, `3`, `true`).
pub fn key_text(heap: &Heap, kind: ValKind, k: u64) -> String {
    match kind {
        ValKind::Str => quote_str(heap.str(k)),
        ValKind::Bool => (if k != 0 { "true" } else { "false" }).to_owned(),
        ValKind::Float => float_to_string(f64::from_bits(k)),
        ValKind::Int | ValKind::Func | ValKind::Ref => (k as i64).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python_repr() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (123456.5, "123456.5"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e20, "1e+20"),
            (1.5e-5, "1.5e-05"),
            (1e-7, "1e-07"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (2.71, "2.71"),
            (100.0, "100.0"),
            (9999999999999998.0, "9999999999999998.0"),
        ];
        for &(f, want) in cases {
            assert_eq!(float_to_string(f), want, "{f:e}");
        }
    }

    #[test]
    fn quoting_escapes() {
        assert_eq!(quote_str("a\"b\\c\nd\te\rf"), r#""a\"b\\c\nd\te\rf""#);
    }
}
