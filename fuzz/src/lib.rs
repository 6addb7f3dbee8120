//! Shared pieces of the fuzz targets: an allocator that refuses absurd requests (so that a
//! guest asking for gigabytes gets rvm's `out of memory` trap instead of tripping
//! libFuzzer's malloc limit), a generator of structured modules, and the bounded runner
//! shared with the stable-toolchain tests (`tests/hostile/support.rs`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use arbitrary::{Result, Unstructured};
use rvm_vm::format::{
    Export, FieldDef, FuncType, Function, Global, Import, Instr, LineEntry, Module, OPCODES,
    StructDef, TypeDef,
};

#[path = "../../tests/hostile/support.rs"]
pub mod support;

/// Largest single allocation granted.
const MAX_ONE: usize = 256 << 20;
/// Largest total live allocation granted.
const MAX_LIVE: usize = 1 << 30;

/// The system allocator, refusing (returning null, which `try_reserve` turns into an error)
/// any single request over 256 MiB or any request that would take the live total over
/// 1 GiB. An infallible allocation that is refused aborts, which libFuzzer reports: that is
/// an allocation the VM should have made fallible.
#[derive(Debug)]
pub struct LimitedAlloc {
    live: AtomicUsize,
}

impl LimitedAlloc {
    /// A fresh allocator.
    pub const fn new() -> LimitedAlloc {
        LimitedAlloc {
            live: AtomicUsize::new(0),
        }
    }

    fn admit(&self, size: usize) -> bool {
        if size > MAX_ONE {
            return false;
        }
        let before = self.live.fetch_add(size, Ordering::Relaxed);
        if before + size > MAX_LIVE {
            self.live.fetch_sub(size, Ordering::Relaxed);
            return false;
        }
        true
    }
}

impl Default for LimitedAlloc {
    fn default() -> Self {
        LimitedAlloc::new()
    }
}

// SAFETY: every method forwards to `System` with the caller's layout (upholding its
// contract unchanged), or returns null, which `GlobalAlloc` allows for alloc/realloc.
unsafe impl GlobalAlloc for LimitedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !self.admit(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's layout is passed through unchanged.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            self.live.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !self.admit(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's layout is passed through unchanged.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            self.live.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.live.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with this layout (see `alloc`).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !self.admit(new_size - old) {
            return std::ptr::null_mut();
        }
        if new_size > MAX_ONE {
            self.live
                .fetch_sub(new_size.saturating_sub(old), Ordering::Relaxed);
            return std::ptr::null_mut();
        }
        // SAFETY: the caller guarantees `ptr`/`layout` came from this allocator (i.e. from
        // `System`) and that `new_size` is valid for the layout's alignment.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            if new_size > old {
                self.live.fetch_sub(new_size - old, Ordering::Relaxed);
            }
        } else if new_size < old {
            self.live.fetch_sub(old - new_size, Ordering::Relaxed);
        }
        p
    }
}

/// Small ids mostly (so that they often resolve), any `u32` sometimes.
fn id(u: &mut Unstructured, bound: u32) -> Result<u32> {
    Ok(if u.ratio(1, 16)? {
        u.arbitrary()?
    } else {
        u.int_in_range(0..=bound.max(1))?
    })
}

fn name(u: &mut Unstructured) -> Result<String> {
    if u.ratio(1, 4)? {
        return u.arbitrary();
    }
    let len = u.int_in_range(1..=8)?;
    (0..len)
        .map(|_| Ok(*u.choose(b"abcxyz_.$0")? as char))
        .collect()
}

fn type_def(u: &mut Unstructured, n: u32) -> Result<TypeDef> {
    Ok(match u.int_in_range(0..=7)? {
        0 => TypeDef::Int,
        1 => TypeDef::Float,
        2 => TypeDef::Bool,
        3 => TypeDef::Str,
        4 => TypeDef::Array(id(u, n)?),
        5 => TypeDef::Map(id(u, n)?, id(u, n)?),
        6 => TypeDef::Struct(StructDef {
            name: name(u)?,
            fields: (0..u.int_in_range(0..=4)?)
                .map(|_| {
                    Ok(FieldDef {
                        name: name(u)?,
                        ty: id(u, n)?,
                    })
                })
                .collect::<Result<_>>()?,
        }),
        _ => TypeDef::Func(FuncType {
            params: (0..u.int_in_range(0..=3)?)
                .map(|_| id(u, n))
                .collect::<Result<_>>()?,
            result: if u.arbitrary()? {
                Some(id(u, n)?)
            } else {
                None
            },
        }),
    })
}

/// An instruction from the opcode table with operands that are small (and so often valid)
/// most of the time, arbitrary sometimes; jump targets are plausible byte offsets.
fn instr(u: &mut Unstructured, code_bytes: u32) -> Result<Instr> {
    let info = u.choose(OPCODES)?;
    let mut bytes = vec![info.byte];
    let wild = u.ratio(1, 8)?;
    for _ in 0..16 {
        bytes.push(if wild { u.arbitrary()? } else { 0 });
    }
    if !wild {
        // The first operand: a small number (index, count, target or constant).
        let small: u32 = u.int_in_range(0..=code_bytes.max(8))?;
        bytes[1..5].copy_from_slice(&small.to_le_bytes());
        if u.arbitrary()? {
            let second: u32 = u.int_in_range(0..=4)?;
            bytes[5..9].copy_from_slice(&second.to_le_bytes());
        }
    }
    let mut pos = 0;
    Ok(Instr::decode(&bytes, &mut pos).expect("every table opcode decodes"))
}

/// A structured module: mostly well-formed references so that many modules get deep into
/// the verifier (and some run), with arbitrary values mixed in.
pub fn module(u: &mut Unstructured) -> Result<Module> {
    let mut m = Module::default();
    let base: &[TypeDef] = &[TypeDef::Int, TypeDef::Float, TypeDef::Bool, TypeDef::Str];
    if u.arbitrary()? {
        m.types.extend_from_slice(base);
    }
    for _ in 0..u.int_in_range(0..=8)? {
        let n = m.types.len() as u32;
        m.types.push(type_def(u, n)?);
    }
    let nt = m.types.len() as u32;
    for _ in 0..u.int_in_range(0..=4)? {
        m.strings.push(u.arbitrary()?);
    }
    for _ in 0..u.int_in_range(0..=2)? {
        let (module, name) = *u.choose(&[("os", "args"), ("os", "exit"), ("io", "read")])?;
        m.imports.push(Import {
            module: module.into(),
            name: name.into(),
            ty: id(u, nt)?,
        });
    }
    for _ in 0..u.int_in_range(0..=3)? {
        m.globals.push(Global {
            name: name(u)?,
            ty: id(u, nt)?,
            mutable: u.arbitrary()?,
        });
    }
    let nf = u.int_in_range(1..=4)?;
    for _ in 0..nf {
        let len = u.int_in_range(1..=40)?;
        let mut code = Vec::with_capacity(len);
        for _ in 0..len {
            code.push(instr(u, len as u32 * 3)?);
        }
        let mut f = Function {
            name: name(u)?,
            ty: id(u, nt)?,
            locals: (0..u.int_in_range(0..=4)?)
                .map(|_| id(u, nt))
                .collect::<Result<_>>()?,
            max_stack: if u.ratio(1, 16)? {
                u.arbitrary()?
            } else {
                u.int_in_range(0..=16)?
            },
            code,
            lines: Vec::new(),
        };
        let ends = f.instr_offsets();
        for _ in 0..u.int_in_range(0..=3)? {
            f.lines.push(LineEntry {
                offset: if ends.is_empty() {
                    0
                } else {
                    *u.choose(&ends)?
                },
                file: id(u, 1)?,
                line: u.int_in_range(1..=100)?,
                column: u.int_in_range(1..=80)?,
            });
        }
        m.functions.push(f);
    }
    for _ in 0..u.int_in_range(0..=2)? {
        m.exports.push(Export {
            name: name(u)?,
            func: id(u, nf)?,
        });
    }
    m.init = if u.arbitrary()? {
        Some(id(u, nf)?)
    } else {
        None
    };
    m.main = if u.ratio(7, 8)? {
        Some(id(u, nf)?)
    } else {
        None
    };
    for _ in 0..u.int_in_range(0..=2)? {
        m.files.push(name(u)?);
    }
    Ok(m)
}
