//! Literals of every type: the pools of edge-case values (wrapping boundaries, float
//! specials and subnormals, escapes, multi-byte and case-mapping text, numeric text) that
//! the expression generator draws its leaves from.

use super::{FnKind, Program, Ty};

/// String literals: ASCII, escapes, multi-byte and case-mapping edge cases, numeric text.
const STRS: &[&str] = &[
    "",
    "a",
    "abc",
    "Hello, World",
    " pad ",
    "k0",
    "k1",
    "k2",
    "é",
    "straße",
    "日本語",
    "😀x",
    "a\\\"b",
    "back\\\\slash",
    "tab\\tnl\\n",
    "\\u{1F600}",
    "\\$x",
    "a$b",
    "0",
    "-12",
    "42",
    "3.5",
    "1e5",
    "inf",
    "nan",
    ",",
    "1,2,,3",
    "ΑΒΓ",
    "İı",
    "ǅ",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
];

const FLOATS: &[&str] = &[
    "0.0",
    "1.0",
    "0.1",
    "0.5",
    "2.5",
    "1.5",
    "3.0",
    "123456.5",
    "1e16",
    "1e15",
    "1e-7",
    "0.0001",
    "1.7976931348623157e308",
    "5e-324",
    "2.2250738585072014e-308",
    "9007199254740993.0",
    "math.INF",
    "math.NAN",
    "math.PI",
    "math.E",
];

const INTS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "10",
    "255",
    "256",
    "1000",
    "0xff",
    "0b1010",
    "1_000_000",
    "int.MAX",
    "int.MIN",
    "4294967296",
    "63",
    "64",
];

impl Program<'_> {
    pub(super) fn lit_int(&mut self) -> String {
        match self.e.weighted(&[3, 4, 1, 1]) {
            0 => self.e.below(10).to_string(),
            1 => INTS[self.e.below(INTS.len())].to_string(),
            2 => format!("(-{})", self.e.below(100)),
            _ => (self.e.next_u64() >> (1 + self.e.below(63))).to_string(),
        }
    }

    pub(super) fn lit_float(&mut self) -> String {
        let s = match self.e.weighted(&[3, 2, 1]) {
            0 => FLOATS[self.e.below(FLOATS.len())].to_string(),
            1 => format!("{}.{}", self.e.below(100), self.e.below(1000)),
            _ => {
                let f = f64::from_bits(self.e.next_u64());
                if f.is_finite() {
                    format!("{:e}", f.abs())
                } else {
                    "0.25".into()
                }
            }
        };
        if self.e.chance(1, 5) {
            format!("(-{s})")
        } else {
            s
        }
    }

    /// Text that parses as a number (`parse_int`'s and `parse_float`'s edge cases),
    /// or rarely does not.
    pub(super) fn numeric_text(&mut self, int: bool) -> String {
        const INTS: &[&str] = &[
            "0",
            "-12",
            "42",
            "+7",
            "007",
            "9223372036854775807",
            "-9223372036854775808",
        ];
        const FLOATS: &[&str] = &[
            "3.5",
            "1e5",
            ".5",
            "1.",
            "-0.0",
            "inf",
            "-Infinity",
            "NaN",
            "2.5e-3",
            "1E400",
            "42",
        ];
        const BAD: &[&str] = &["99999999999999999999", "1_0", " 1", "0x10", "", "e5"];
        let pool = if self.e.chance(1, 20) {
            BAD
        } else if int {
            INTS
        } else {
            FLOATS
        };
        format!("\"{}\"", pool[self.e.below(pool.len())])
    }

    pub(super) fn lit_str(&mut self) -> String {
        format!("\"{}\"", STRS[self.e.below(STRS.len())])
    }

    /// A literal (or literal-like constructor) of any type.
    pub(super) fn lit(&mut self, ty: &Ty) -> String {
        match ty {
            Ty::Int => self.lit_int(),
            Ty::Float => self.lit_float(),
            Ty::Bool => if self.e.chance(1, 2) { "true" } else { "false" }.into(),
            Ty::Str => self.lit_str(),
            Ty::Array(t) => {
                let n = 1 + self.e.below(3);
                let items: Vec<String> = (0..n).map(|_| self.lit(t)).collect();
                format!("[{}]", items.join(", "))
            }
            Ty::Map(k, v) => {
                let n = 1 + self.e.below(2);
                let keys = self.distinct_keys(k, n);
                let items: Vec<String> = keys
                    .into_iter()
                    .map(|key| format!("{key}: {}", self.lit(v)))
                    .collect();
                format!("[{}]", items.join(", "))
            }
            Ty::Struct(s) => self.struct_lit(*s, 0),
            Ty::Fn(..) => {
                let names: Vec<String> = self
                    .fns
                    .iter()
                    .filter(|f| f.kind == FnKind::Leaf && f.ty() == *ty)
                    .map(|f| f.value_src())
                    .collect();
                self.pick(&names)
                    .expect("fn types come from leaf signatures")
            }
        }
    }

    /// `n` (1 or 2) distinct literal keys.
    pub(super) fn distinct_keys(&mut self, k: &Ty, n: usize) -> Vec<String> {
        let pool: Vec<String> = match k {
            Ty::Int => (0..5).map(|i| i.to_string()).collect(),
            Ty::Bool => vec!["true".into(), "false".into()],
            _ => ["k0", "k1", "k2", "", "é"]
                .iter()
                .map(|s| format!("\"{s}\""))
                .collect(),
        };
        let first = self.e.below(pool.len());
        let mut keys = vec![pool[first].clone()];
        if n > 1 {
            keys.push(pool[(first + 1) % pool.len()].clone());
        }
        keys
    }

    /// A map key: mostly from a small pool (so lookups hit), sometimes computed.
    pub(super) fn key_expr(&mut self, k: &Ty, d: u32) -> String {
        if self.e.chance(2, 3) {
            self.distinct_keys(k, 1).pop().expect("one key")
        } else {
            self.expr(k, d.saturating_sub(1))
        }
    }

    /// `S(x0: ..., x1: ...)`; fields that are arrays of the struct itself start empty.
    pub(super) fn struct_lit(&mut self, s: usize, d: u32) -> String {
        let fields = self.structs[s].fields.clone();
        let mut parts = Vec::new();
        for (name, t) in &fields {
            let v = if *t == Ty::arr(Ty::Struct(s)) {
                "[]".to_string()
            } else if d == 0 {
                self.lit(t)
            } else {
                self.expr(t, d - 1)
            };
            parts.push(format!("{name}: {v}"));
        }
        // Fields may be written in any order; stored in declaration order.
        if parts.len() > 1 && self.e.chance(1, 4) {
            parts.reverse();
        }
        format!("S{s}({})", parts.join(", "))
    }
}
