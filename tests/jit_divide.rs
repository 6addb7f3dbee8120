//! Divisions by constants the compiled tier makes unsigned (see `spec/jit.md`, "Division
//! by a constant of a non-negative value"): where the dividend is proved not negative, and
//! only there, so every tier computes the interpreter's quotients and remainders.

#[path = "support/modes.rs"]
mod modes;
use modes::{agree, run, source};
use rvm::vm::tier::JitMode;

/// A counting loop's counter, and what is made of it with `%`, `*` and `&`, divided by
/// constants: 12 divisions, each proved (the counter from 0, and from a start near the
/// largest integer, where a reciprocal that lost precision would show).
const PROVED: &str = "
fn small(n: int) -> int {
    var s = 0;
    for i in 0..n {
        let r = i % 7;
        s += r * r % 7 + i / 3 + i % 8 + i / 16 + (i & 255) % 10;
        let w = i % 1000003;
        s += w * w % 1000000007 + (w * 1000 + 999) / 641;
    }
    return s;
}
fn huge() -> int {
    var s = 0;
    for i in 9223372036854774807..9223372036854775807 {
        s = s + i % 7 + i / 1000000007 + i % 9223372036854775783;
    }
    return s;
}
fn main() {
    for r in 0..30 {
        println(small(2000 + r));
    }
    println(huge());
}
";

#[test]
fn divisions_of_counters_and_their_remainders_are_unsigned() {
    let module = source("proved.src", PROVED);
    let (always, auto) = agree(&module, 5);
    // `small`: 9 (r, r * r, i / 3, i % 8, i / 16, & 255, w, w * w, (w * 1000 + 999));
    // `huge`: 3.
    assert_eq!(always.unsigned_divisions, 12, "{always:?}");
    assert!(auto.unsigned_divisions >= 12, "{auto:?}");
    let (_, out, _, _) = run(&module, JitMode::Off, 5);
    let (_, jit_out, _, _) = run(&module, JitMode::Always, 5);
    assert_eq!(out, jit_out);
}

/// Dividends that look like those above but can be negative: each must stay signed, and
/// every tier must agree (a negative dividend divided unsigned gives a different result).
const NEAR_MISSES: &[&str] = &[
    // The counter starts below zero.
    "fn f() -> int {\n    var s = 0;\n    for i in -50..50 {\n        s = s * 3 + i % 7 + i / 7;\n    }\n    return s;\n}\n",
    // A square that wraps past the largest integer.
    "fn f() -> int {\n    var s = 0;\n    for i in 3037000400..3037000600 {\n        s = s * 3 + i * i % 7 + i * i / 7;\n    }\n    return s;\n}\n",
    // A difference of counters.
    "fn f() -> int {\n    var s = 0;\n    for i in 0..100 {\n        s = s * 3 + (i - 50) % 7 + (i - 50) / 7;\n    }\n    return s;\n}\n",
    // The counter assigned in the loop besides its increment.
    "fn f() -> int {\n    var s = 0;\n    var i = 0;\n    while i < 100 {\n        i = i - 3;\n        s = s * 3 + i % 7 + i / 7;\n        i = i + 4;\n    }\n    return s;\n}\n",
    // A sum that wraps: two large non-negative values.
    "fn f() -> int {\n    var s = 0;\n    for i in 9223372036854775000..9223372036854775100 {\n        s = s * 3 + (i + i) % 7 + (i + i) / 7;\n    }\n    return s;\n}\n",
    // A product of two unbounded counters.
    "fn f() -> int {\n    var s = 0;\n    for i in 4294967200..4294967300 {\n        for j in 4294967200..4294967300 {\n            s = s * 3 + i * j % 7;\n        }\n    }\n    return s;\n}\n",
];

#[test]
fn dividends_that_may_be_negative_stay_signed() {
    for (k, f) in NEAR_MISSES.iter().enumerate() {
        let src = format!(
            "{f}fn main() {{\n    for r in 0..20 {{\n        println(f() + r);\n    }}\n}}\n"
        );
        let module = source("near.src", &src);
        let (always, _) = agree(&module, 5);
        assert_eq!(always.unsigned_divisions, 0, "near miss {k}: {always:?}");
    }
}

/// Products by constants, which the compiled tier makes of shifts and adds where it can:
/// they wrap exactly as the multiply does, for negative and huge factors alike.
#[test]
fn products_by_constants_wrap_like_the_multiply() {
    let consts: [i64; 21] = [
        0,
        1,
        2,
        3,
        5,
        7,
        9,
        10,
        11,
        13,
        15,
        31,
        37,
        45,
        641,
        -1,
        -7,
        -37,
        4611686018427387905,
        9223372036854775807,
        -9223372036854775807,
    ];
    let terms: Vec<String> = consts
        .iter()
        .enumerate()
        .map(|(k, c)| format!("x * {c} * {} + ({c}) * x", k + 1))
        .collect();
    let src = format!(
        "fn f(x: int) -> int {{\n    return {};\n}}\n\
         fn main() {{\n    var s = 0;\n    for i in 0..300 {{\n        \
         s = s * 31 + f(i * 7919 - 1000000) + f(i * 9223372036854775 + 3);\n    }}\n    \
         println(s);\n    println(f(-9223372036854775807 - 1));\n}}\n",
        terms.join(" + ")
    );
    let module = source("products.src", &src);
    agree(&module, 5);
}

/// Divisions by powers of two of values known to be their multiples (`s * (s + 1) / 2`,
/// spectralnorm's), made shifts, and products that look alike but are not multiples:
/// every tier must agree, for negative values and products that wrap too.
#[test]
fn exact_divisions_by_powers_of_two_are_shifts() {
    let exact = "fn f(x: int) -> int {\n    \
                 return x * (x + 1) / 2 + (x - 3) * x / 2 + x * (x + 7) % 2 + (x * 8 + 16) / 4 \
                 + (x * 4) * (x * 2) / 8 + (3 - x) * x / 2;\n}\n";
    let near = "fn f(x: int) -> int {\n    \
                return x * (x + 2) / 2 + x * (x + 1) / 4 + (x * 2 + 1) / 2 + (4 - x) * x / 2;\n}\n";
    let main = "fn main() {\n    var s = 0;\n    for i in -300..300 {\n        \
                s = s * 31 + f(i) + f(i + 3037000400) + f(-i - 3037000400) + f(i * 1000003);\n    \
                }\n    println(s);\n}\n";
    // Six in `f` (too long to be inlined into `main`).
    for (k, (f, count)) in [(exact, 6), (near, 0)].into_iter().enumerate() {
        let module = source("exact.src", &format!("{f}{main}"));
        let (always, _) = agree(&module, 5);
        assert_eq!(always.exact_divisions, count, "program {k}: {always:?}");
    }
}
