//! A call-free function over an array whose loops count through it, in the shapes the JIT
//! proves in bounds and in near misses (a start below zero, an end past the length, the
//! array swapped mid-loop, an index that is not the counter): the compiled tier removes
//! index checks in the first and must keep them in the others, so both tiers trap, or
//! not, at the same access. Some divide the counter (and what is made of it, and of the
//! elements, which may be negative) by constants, which the compiled tier makes unsigned
//! only where the dividend cannot be negative, and halve products of neighbours (a shift
//! when one factor must be even, `x * (x + k)` with `k` odd, and a division otherwise).

use super::Program;

impl Program<'_> {
    /// The `kernel` function's text (called from `main` with an array literal).
    pub(super) fn gen_kernel(&mut self) -> String {
        let start = ["0", "0", "1", "-1"][self.e.below(4)];
        let end = ["n", "n", "xs.len()", "n + 1", "n - 1", "m"][self.e.below(6)];
        let mut body = String::new();
        let k = 1 + self.e.below(9);
        match self.e.below(6) {
            0 => body += &format!("        s += xs[i] * {k};\n"),
            1 => body += &format!("        xs[i] = xs[i] + {k};\n        s += xs[i];\n"),
            2 => {
                body += "        for j in i + 1..n {\n";
                body += &format!("            s += xs[i] * xs[j] + {k};\n");
                body += "        }\n";
            }
            3 => {
                body += &format!(
                    "        if i == {} {{\n            ys = short;\n        }}\n",
                    k % 3
                );
                body += "        s += ys[i];\n";
            }
            4 => {
                let d = [1, 2, 3, 7, 10, 16, 641][self.e.below(7)];
                body += &format!(
                    "        let r = i % {d};\n        s += r * r / {k} + i / {d} + (i & 7) % {k} + \
                     xs[i] % {d} + (i * {k} + 1) % {d} + xs[i] * (xs[i] + {k}) / 2 + \
                     (i - {k}) * (i + 1) / 4;\n"
                );
            }
            _ => body += &format!("        s += xs[(i + {k}) % max(n, 1)];\n"),
        }
        let each = if self.e.chance(1, 3) {
            "    for x in xs {\n        s += x;\n    }\n"
        } else {
            ""
        };
        format!(
            "\nfn kernel(xs: [int], short: [int], m: int) -> int {{\n    let n = xs.len();\n    \
             var ys = xs;\n    var s = ys.len();\n    for i in {start}..{end} {{\n{body}    }}\n\
             {each}    return s;\n}}\n"
        )
    }

    /// An array literal of up to six small integers.
    pub(super) fn kernel_array(&mut self) -> String {
        let n = self.e.below(7);
        let items: Vec<String> = (0..n)
            .map(|_| (self.e.below(19) as i64 - 9).to_string())
            .collect();
        format!("[{}]", items.join(", "))
    }
}
