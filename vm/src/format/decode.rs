//! Bytes → module. Every count and length is checked against the bytes actually present
//! before anything is allocated, so the memory the decoder uses is bounded by a small
//! multiple of the input's size.

use super::{
    Export, FORMAT_VERSION, FieldDef, FuncType, Function, Global, Import, Instr, LineEntry, MAGIC,
    Module, StructDef, TypeDef, section,
};

/// Why a byte string is not a well-formed `.bc` file. Offsets are from the file's start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The file does not start with the magic bytes.
    #[error("not an rvm bytecode file (bad magic number)")]
    BadMagic,
    /// The file was written by a newer (or unknown) format version.
    #[error("unsupported bytecode format version {found} (this rvm reads version {supported})")]
    UnsupportedVersion {
        /// The version in the file.
        found: u16,
        /// The newest version this VM reads.
        supported: u16,
    },
    /// The file ends in the middle of something.
    #[error("unexpected end of file at byte {offset}")]
    UnexpectedEnd {
        /// Where more bytes were needed.
        offset: usize,
    },
    /// An instruction's operands run past the end of its function's code.
    #[error("truncated instruction (opcode 0x{opcode:02x}) at code byte {offset}")]
    TruncatedInstruction {
        /// Offset in the function's code.
        offset: usize,
        /// The opcode byte.
        opcode: u8,
    },
    /// A byte that names no opcode.
    #[error("unknown opcode 0x{opcode:02x} at code byte {offset}")]
    UnknownOpcode {
        /// Offset in the function's code.
        offset: usize,
        /// The byte found.
        opcode: u8,
    },
    /// A section id that is unknown, repeated or out of order.
    #[error(
        "unexpected section id {id} at byte {offset} (sections must be 1..=8, in order, once each)"
    )]
    BadSection {
        /// The id found.
        id: u8,
        /// Where.
        offset: usize,
    },
    /// A required section is absent.
    #[error("missing section {id}")]
    MissingSection {
        /// The section id.
        id: u8,
    },
    /// A section's declared length disagrees with its contents.
    #[error("section {id} has {extra} unused trailing bytes")]
    SectionLength {
        /// The section id.
        id: u8,
        /// Bytes left over.
        extra: usize,
    },
    /// A count or length larger than the bytes that remain could hold.
    #[error("{what} count {count} at byte {offset} exceeds the remaining file size")]
    CountTooLarge {
        /// What was being counted.
        what: &'static str,
        /// The declared count.
        count: u32,
        /// Where.
        offset: usize,
    },
    /// A string that is not valid UTF-8.
    #[error("invalid UTF-8 in a string at byte {offset}")]
    BadUtf8 {
        /// Where the string starts.
        offset: usize,
    },
    /// An unknown type tag in the type table.
    #[error("unknown type tag {tag} at byte {offset}")]
    BadTypeTag {
        /// The tag found.
        tag: u8,
        /// Where.
        offset: usize,
    },
    /// A flag byte that is neither 0 nor 1.
    #[error("invalid flag byte {value} at byte {offset}")]
    BadFlag {
        /// The byte found.
        value: u8,
        /// Where.
        offset: usize,
    },
    /// The debug section's line tables do not match the function count.
    #[error("debug section describes {found} functions, the module has {expected}")]
    DebugMismatch {
        /// Functions in the module.
        expected: usize,
        /// Line tables in the debug section.
        found: usize,
    },
    /// Bytes after the last section.
    #[error("{extra} trailing bytes after the last section")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// An instruction in function `function` could not be decoded.
    #[error("in function #{function}: {source}")]
    InFunction {
        /// The function index.
        function: usize,
        /// What went wrong.
        source: Box<DecodeError>,
    },
}

/// Decodes a `.bc` file. Never panics and never allocates more than a small multiple of
/// `bytes.len()`.
pub fn decode(bytes: &[u8]) -> Result<Module, DecodeError> {
    let mut r = Reader { bytes, pos: 0 };
    if r.take(4).map_err(|_| DecodeError::BadMagic)? != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    let version = r.u16()?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let _flags = r.u16()?;

    let mut module = Module::default();
    let mut next_id = section::TYPES;
    let mut line_tables: Option<Vec<Vec<LineEntry>>> = None;
    while r.pos < bytes.len() {
        let at = r.pos;
        let id = r.u8()?;
        if id < next_id || id > section::DEBUG {
            return Err(DecodeError::BadSection { id, offset: at });
        }
        next_id = id + 1;
        let len = r.u32()? as usize;
        r.take(len)?;
        // A reader that cannot see past this section's end.
        let mut s = Reader {
            bytes: &bytes[..r.pos],
            pos: r.pos - len,
        };
        match id {
            section::TYPES => module.types = s.vec("type", 1, |s| s.type_def())?,
            section::STRINGS => module.strings = s.vec("string", 4, |s| s.string())?,
            section::IMPORTS => {
                module.imports = s.vec("import", 12, |s| {
                    Ok(Import {
                        module: s.string()?,
                        name: s.string()?,
                        ty: s.u32()?,
                    })
                })?
            }
            section::GLOBALS => {
                module.globals = s.vec("global", 9, |s| {
                    Ok(Global {
                        name: s.string()?,
                        ty: s.u32()?,
                        mutable: s.flag()?,
                    })
                })?
            }
            section::FUNCTIONS => {
                let mut index = 0;
                module.functions = s.vec("function", 16, |s| {
                    let f = s.function().map_err(|e| match e {
                        e @ (DecodeError::UnknownOpcode { .. }
                        | DecodeError::TruncatedInstruction { .. }) => DecodeError::InFunction {
                            function: index,
                            source: Box::new(e),
                        },
                        e => e,
                    });
                    index += 1;
                    f
                })?
            }
            section::EXPORTS => {
                module.exports = s.vec("export", 8, |s| {
                    Ok(Export {
                        name: s.string()?,
                        func: s.u32()?,
                    })
                })?
            }
            section::ENTRY => {
                module.init = s.opt()?;
                module.main = s.opt()?;
            }
            section::DEBUG => {
                module.files = s.vec("file", 4, |s| s.string())?;
                line_tables = Some(s.vec("line table", 4, |s| {
                    s.vec("line entry", 16, |s| {
                        Ok(LineEntry {
                            offset: s.u32()?,
                            file: s.u32()?,
                            line: s.u32()?,
                            column: s.u32()?,
                        })
                    })
                })?);
            }
            _ => unreachable!("section ids are range-checked above"),
        }
        if s.pos != r.pos {
            return Err(DecodeError::SectionLength {
                id,
                extra: r.pos - s.pos,
            });
        }
    }
    if next_id <= section::DEBUG {
        return Err(DecodeError::MissingSection { id: next_id });
    }
    let tables = line_tables.unwrap_or_default();
    if tables.len() != module.functions.len() {
        return Err(DecodeError::DebugMismatch {
            expected: module.functions.len(),
            found: tables.len(),
        });
    }
    for (f, lines) in module.functions.iter_mut().zip(tables) {
        f.lines = lines;
    }
    Ok(module)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.bytes.len() - self.pos < n {
            return Err(DecodeError::UnexpectedEnd {
                offset: self.bytes.len(),
            });
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn flag(&mut self) -> Result<bool, DecodeError> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(DecodeError::BadFlag { value, offset: at }),
        }
    }

    fn opt(&mut self) -> Result<Option<u32>, DecodeError> {
        Ok(if self.flag()? {
            Some(self.u32()?)
        } else {
            None
        })
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let at = self.pos;
        let len = self.u32()? as usize;
        let raw = self.take(len)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| DecodeError::BadUtf8 { offset: at })
    }

    /// Reads a count, then `count` items, refusing counts that the remaining bytes cannot
    /// hold at `min_size` bytes per item.
    fn vec<T>(
        &mut self,
        what: &'static str,
        min_size: usize,
        mut item: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let at = self.pos;
        let count = self.u32()?;
        let remaining = self.bytes.len() - self.pos;
        if (count as usize).saturating_mul(min_size) > remaining {
            return Err(DecodeError::CountTooLarge {
                what,
                count,
                offset: at,
            });
        }
        let mut out = Vec::with_capacity(count as usize);
        for _ in 0..count {
            out.push(item(self)?);
        }
        Ok(out)
    }

    fn type_def(&mut self) -> Result<TypeDef, DecodeError> {
        let at = self.pos;
        Ok(match self.u8()? {
            0 => TypeDef::Int,
            1 => TypeDef::Float,
            2 => TypeDef::Bool,
            3 => TypeDef::Str,
            4 => TypeDef::Array(self.u32()?),
            5 => TypeDef::Map(self.u32()?, self.u32()?),
            6 => TypeDef::Struct(StructDef {
                name: self.string()?,
                fields: self.vec("field", 8, |s| {
                    Ok(FieldDef {
                        name: s.string()?,
                        ty: s.u32()?,
                    })
                })?,
            }),
            7 => TypeDef::Func(FuncType {
                params: self.vec("parameter", 4, |s| s.u32())?,
                result: self.opt()?,
            }),
            tag => return Err(DecodeError::BadTypeTag { tag, offset: at }),
        })
    }

    fn function(&mut self) -> Result<Function, DecodeError> {
        let name = self.string()?;
        let ty = self.u32()?;
        let locals = self.vec("local", 4, |s| s.u32())?;
        let max_stack = self.u32()?;
        let len = self.u32()? as usize;
        let code_bytes = self.take(len)?;
        // Each instruction takes at least one byte, so `len` bounds the vector.
        let mut code = Vec::with_capacity(len.min(1 << 16));
        let mut pos = 0;
        while pos < code_bytes.len() {
            code.push(Instr::decode(code_bytes, &mut pos)?);
        }
        Ok(Function {
            name,
            ty,
            locals,
            max_stack,
            code,
            lines: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::encode;

    #[test]
    fn empty_module_round_trips() {
        let m = Module::default();
        assert_eq!(decode(&encode(&m)).unwrap(), m);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let mut m = Module::default();
        m.types.push(TypeDef::Int);
        m.strings.push("hi".into());
        let bytes = encode(&m);
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "prefix of {n} bytes decoded");
        }
    }

    #[test]
    fn huge_count_is_refused_before_allocating() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&0u16.to_le_bytes());
        bytes.push(section::TYPES);
        bytes.extend_from_slice(&4u32.to_le_bytes());
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            decode(&bytes),
            Err(DecodeError::CountTooLarge { .. })
        ));
    }

    #[test]
    fn newer_version_is_refused() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&0u16.to_le_bytes());
        assert!(matches!(
            decode(&bytes),
            Err(DecodeError::UnsupportedVersion { found: 2, .. })
        ));
    }
}
