//! Directed edge cases: the values where a native code generator most often departs from
//! the interpreter (x86 `idiv` faults on `int.MIN / -1`; shift counts of 64 and more;
//! `!(a < b)` rewritten as `a >= b`, which is wrong for NaN; ties-to-even instead of
//! half-away-from-zero rounding; `min`/`max` of -0.0 and NaN; NaN payloads and signs, which
//! `sort` orders by total order; saturating `int(f)`). Random expressions reach these
//! values too, but rarely together; here they are put in `var`s (so the compiler cannot
//! fold them) and combined on purpose.

use super::{Program, Ty};

const INT_EDGES: &[&str] = &[
    "int.MIN", "int.MAX", "-1", "0", "1", "63", "64", "65", "-64", "2", "-2",
];

const FLOAT_EDGES: &[&str] = &[
    "0.0",
    "-0.0",
    "math.NAN",
    "-math.NAN",
    "math.INF",
    "-math.INF",
    "2.5",
    "-2.5",
    "0.5",
    "-0.5",
    "1.5",
    "1e308",
    "5e-324",
    "9.223372036854776e18",
    "-9.223372036854776e18",
];

/// Integer operations on `{a}` and `{b}`; `/` and `%` only where `{b}` cannot be zero.
const INT_OPS: &[&str] = &[
    "{a} + {b}",
    "{a} - {b}",
    "{a} * {b}",
    "-{a}",
    "abs({a})",
    "{a} << {b}",
    "{a} >> {b}",
    "{a} & {b}",
    "{a} ^ {b}",
    "min({a}, {b})",
    "max({a}, {b})",
    "{a} < {b}",
    "{a} >= {b}",
    "float({a})",
    "{a} / ({b} | 1)",
    "{a} % ({b} | 1)",
];

const FLOAT_OPS: &[&str] = &[
    "{a} + {b}",
    "{a} - {b}",
    "{a} * {b}",
    "{a} / {b}",
    "{a} % {b}",
    "-{a}",
    "abs({a})",
    "min({a}, {b})",
    "max({a}, {b})",
    "{a} < {b}",
    "{a} <= {b}",
    "{a} > {b}",
    "{a} >= {b}",
    "{a} == {b}",
    "{a} != {b}",
    "!({a} < {b})",
    "!({a} >= {b})",
    "int({a})",
    "math.round({a})",
    "math.floor({a})",
    "math.ceil({a})",
    "math.sqrt({a})",
    "{a}.to_fixed(1)",
    "str({a}).parse_float()",
];

impl Program<'_> {
    /// A block computing edge cases through variables (see the module doc).
    pub(super) fn gen_edge(&mut self) {
        let int = self.e.chance(1, 2);
        let (pool, ops) = if int {
            (INT_EDGES, INT_OPS)
        } else {
            (FLOAT_EDGES, FLOAT_OPS)
        };
        let a = self.fresh("v");
        let b = self.fresh("v");
        let va = pool[self.e.below(pool.len())];
        let mut vb = pool[self.e.below(pool.len())];
        if int && vb == "0" && self.e.chance(1, 2) {
            vb = "-1"; // the `int.MIN / -1` pairing, more often
        }
        self.line("{");
        self.indent += 1;
        self.line(&format!("var {a} = {va};"));
        self.line(&format!("var {b} = {vb};"));
        for _ in 0..1 + self.e.below(3) {
            let op = ops[self.e.below(ops.len())]
                .replace("{a}", &a)
                .replace("{b}", &b);
            self.line(&format!("println({op});"));
        }
        match self.e.below(4) {
            // A branch on a comparison (NaN makes every ordered comparison false).
            0 => {
                let cmp = ["<", "<=", ">", ">=", "==", "!="][self.e.below(6)];
                self.line(&format!("if {a} {cmp} {b} {{"));
                self.line("    println(\"taken\");");
                self.line("} else {");
                self.line("    println(\"not taken\");");
                self.line("}");
            }
            // Computed values sorted (floats by total order: NaN signs matter).
            1 => {
                let xs = self.fresh("v");
                let t = if int { Ty::Int } else { Ty::Float };
                let extra = if int {
                    format!("{a} * {b}, {a} - {b}")
                } else {
                    format!("{a} / {b}, {a} - {b}, {b} * 0.0")
                };
                self.line(&format!(
                    "var {xs}: {} = [{a}, {b}, {extra}];",
                    Ty::arr(t).src()
                ));
                self.line(&format!("{xs}.sort();"));
                self.line(&format!("println({xs});"));
            }
            _ => {}
        }
        self.indent -= 1;
        self.line("}");
    }
}
