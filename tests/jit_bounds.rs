//! Index checks the compiled tier removes (see `spec/jit.md`, "Counting loops index
//! without checks"): removed where the access provably stays in bounds, kept everywhere
//! else, so every out-of-bounds access still traps at the same place in every tier.

use std::sync::Arc;

use rvm::vm::format::Instr;
use rvm::vm::tier::JitMode;

#[path = "../vm/tests/support/builder.rs"]
mod builder;
#[path = "support/modes.rs"]
mod modes;
use modes::{agree, run, source};

#[test]
fn counting_loops_over_an_array_index_it_without_checks() {
    // `sum` counts through `xs`; `dot` counts to `a.len()`, so `a[i]` is proved and `b[i]`
    // (another array) is not; `pairs` counts `j` from `i + 1` inside `i`'s loop; `twice`
    // reuses the end's slot for a second loop, which counts to `xs.len()` read at each test.
    let module = source(
        "proved.src",
        "fn sum(xs: [int]) -> int {\n    var s = 0;\n    for x in xs {\n        s += x;\n    }\n    return s;\n}\n\
         fn dot(a: [float], b: [float]) -> float {\n    let n = a.len();\n    var s = 0.0;\n    for i in 0..n {\n        s += a[i] * b[i];\n    }\n    return s;\n}\n\
         fn pairs(xs: [int]) -> int {\n    let n = xs.len();\n    var s = 0;\n    for i in 0..n {\n        for j in i + 1..n {\n            s += xs[i] * xs[j];\n        }\n    }\n    return s;\n}\n\
         fn twice(xs: [int]) -> int {\n    var s = 0;\n    for i in 0..xs.len() {\n        s += xs[i];\n    }\n    for x in xs {\n        s += x * 2;\n    }\n    return s;\n}\n\
         fn main() {\n    let xs = [3, 1, 4, 1, 5, 9, 2, 6];\n    for r in 0..40 {\n        println(sum(xs) + pairs(xs) + twice(xs));\n        println(dot([1.5, 2.0, 0.5], [2.0, 4.0, 8.0, 1.0]));\n    }\n}\n",
    );
    let (always, auto) = agree(&module, 5);
    // sum 1, dot 1 (`a[i]`), pairs 2, twice 2.
    assert_eq!(always.unchecked_accesses, 6, "{always:?}");
    assert!(auto.unchecked_accesses >= 6, "{auto:?}");
    let (_, out, _, _) = run(&module, JitMode::Always, 5);
    // 31 + 394 + 93, and 3 + 8 + 4.
    assert!(out.starts_with("518\n15.0\n518\n15.0\n"), "{out}");
}

/// Programs whose accesses go out of bounds where a careless proof would say they cannot:
/// every tier must trap at the same access. Each names the access that traps.
const OUT_OF_BOUNDS: &[(&str, &str)] = &[
    // The loop counts to `a.len()`, the access indexes `b`.
    (
        "fn f(a: [int], b: [int]) -> int {\n    var s = 0;\n    for i in 0..a.len() {\n        s += b[i];\n    }\n    return s;\n}\n\
         fn main() {\n    println(f([1, 2, 3, 4], [1, 2, 3]));\n}\n",
        "index 3 out of bounds for length 3",
    ),
    // The counter starts below zero.
    (
        "fn f(xs: [int]) -> int {\n    var s = 0;\n    for i in -2..xs.len() {\n        s += xs[i];\n    }\n    return s;\n}\n\
         fn main() {\n    println(f([1, 2, 3]));\n}\n",
        "index -2 out of bounds for length 3",
    ),
    // The end is a parameter.
    (
        "fn f(xs: [int], n: int) -> int {\n    var s = 0;\n    for i in 0..n {\n        s += xs[i];\n    }\n    return s;\n}\n\
         fn main() {\n    println(f([1, 2, 3], 4));\n}\n",
        "index 3 out of bounds for length 3",
    ),
    // The end is one more than the length.
    (
        "fn f(xs: [int]) -> int {\n    let n = xs.len() + 1;\n    var s = 0;\n    for i in 0..n {\n        s += xs[i];\n    }\n    return s;\n}\n\
         fn main() {\n    println(f([1, 2, 3]));\n}\n",
        "index 3 out of bounds for length 3",
    ),
    // The index is not the counter.
    (
        "fn f(xs: [int]) -> int {\n    var s = 0;\n    for i in 0..xs.len() {\n        s += xs[i + 1];\n    }\n    return s;\n}\n\
         fn main() {\n    println(f([1, 2, 3]));\n}\n",
        "index 3 out of bounds for length 3",
    ),
    // The counter moves twice per iteration.
    (
        "fn f(xs: [int]) -> int {\n    var s = 0;\n    var i = 0;\n    while i < xs.len() {\n        s += xs[i];\n        i += 1;\n        s += xs[i];\n        i += 1;\n    }\n    return s;\n}\n\
         fn main() {\n    println(f([1, 2, 3]));\n}\n",
        "index 3 out of bounds for length 3",
    ),
    // The array shrinks inside the loop.
    (
        "fn f(xs: [int]) -> int {\n    let n = xs.len();\n    var s = 0;\n    for i in 0..n {\n        if i == 1 {\n            xs.pop();\n        }\n        s += xs[i];\n    }\n    return s;\n}\n\
         fn main() {\n    println(f([1, 2, 3]));\n}\n",
        "index 2 out of bounds for length 2",
    ),
    // The array shrinks after its length is read, before the loop.
    (
        "fn f(xs: [int]) -> int {\n    let n = xs.len();\n    xs.pop();\n    var s = 0;\n    for i in 0..n {\n        s += xs[i];\n    }\n    return s;\n}\n\
         fn main() {\n    println(f([1, 2, 3]));\n}\n",
        "index 2 out of bounds for length 2",
    ),
    // The array shrinks in the loop around the one that counts.
    (
        "fn f(xs: [int]) -> int {\n    let n = xs.len();\n    var s = 0;\n    for r in 0..2 {\n        for i in 0..n {\n            s += xs[i];\n        }\n        xs.pop();\n    }\n    return s;\n}\n\
         fn main() {\n    println(f([1, 2, 3]));\n}\n",
        "index 2 out of bounds for length 2",
    ),
    // The array local is assigned another array inside the loop.
    (
        "fn f(xs: [int], short: [int]) -> int {\n    var ys = xs;\n    var s = 0;\n    for i in 0..ys.len() {\n        s += ys[i];\n        if i == 1 {\n            ys = short;\n        }\n    }\n    return s;\n}\n\
         fn main() {\n    println(f([1, 2, 3, 4], [5, 6]));\n}\n",
        "index 2 out of bounds for length 2",
    ),
    // The array local is assigned between the loop's test and the access.
    (
        "fn f(xs: [int], short: [int]) -> int {\n    var ys = xs;\n    var s = 0;\n    var i = 0;\n    while i < ys.len() {\n        if i == 2 {\n            ys = short;\n        }\n        s += ys[i];\n        i += 1;\n    }\n    return s;\n}\n\
         fn main() {\n    println(f([1, 2, 3, 4], [5, 6]));\n}\n",
        "index 2 out of bounds for length 2",
    ),
];

#[test]
fn every_access_a_proof_does_not_cover_still_traps_where_the_interpreter_does() {
    for (src, expected) in OUT_OF_BOUNDS {
        let module = source("t.src", src);
        for threshold in [1, 1000] {
            let (r, _, _, _) = run(&module, JitMode::Off, threshold);
            assert!(r.contains(expected), "{src}\n{r}");
            agree(&module, threshold);
        }
    }
}

/// `sum(xs)` adds `xs[i]` for `i` in `0..n`, `n = xs.len()`, in hand-made bytecode, with
/// one flaw (or none): 0, the back edge tests `i <= n`; 1, after the increment, a jump
/// lands on the access when `i == n`; 2, the guard before the loop tests `i <= n` and `i`
/// starts at 3. Each flaw reads `xs[3]` of `[7, 8, 9]`.
fn flawed_module(flaw: Option<usize>) -> Arc<rvm::vm::verified::VerifiedModule> {
    use builder::{Builder, INT};
    let mut b = Builder::new();
    let arr = b.array(INT);
    // Locals: 0 xs, 1 n, 2 i, 3 s, 4 the end.
    let mut code = vec![
        Instr::LocalGet { index: 0 }, // 0
        Instr::ArrLen {},
        Instr::LocalSet { index: 1 },
        Instr::IConst { value: 0 },
        Instr::LocalSet { index: 3 },
        Instr::IConst { value: 0 }, // 5
        Instr::LocalSet { index: 2 },
        Instr::LocalGet { index: 1 },
        Instr::LocalSet { index: 4 },
        Instr::LocalGet { index: 2 }, // 9: the guard
        Instr::LocalGet { index: 4 },
        Instr::ILt {},
        Instr::JmpIfNot { target: 28 },
        Instr::Nop {},                // 13: the header
        Instr::LocalGet { index: 3 }, // 14
        Instr::LocalGet { index: 0 },
        Instr::LocalGet { index: 2 },
        Instr::ArrGet {},
        Instr::IAdd {},
        Instr::LocalSet { index: 3 },
        Instr::LocalGet { index: 2 }, // 20: i += 1
        Instr::IConst { value: 1 },
        Instr::IAdd {},
        Instr::LocalSet { index: 2 },
        Instr::LocalGet { index: 2 }, // 24: the back edge
        Instr::LocalGet { index: 4 },
        Instr::IGe {},
        Instr::JmpIfNot { target: 13 },
        Instr::Nop {}, // 28: after the loop
        Instr::LocalGet { index: 3 },
        Instr::Ret {},
    ];
    match flaw {
        Some(0) => code[26] = Instr::IGt {},
        Some(1) => {
            // `if i == n { goto 14 }` between the increment and the back edge.
            let jump = [
                Instr::LocalGet { index: 2 },
                Instr::LocalGet { index: 1 },
                Instr::IEq {},
                Instr::JmpIf { target: 14 },
            ];
            code.splice(24..24, jump);
            code[12] = Instr::JmpIfNot { target: 32 };
        }
        Some(_) => {
            code[5] = Instr::IConst { value: 3 };
            code[11] = Instr::ILe {};
        }
        None => {}
    }
    let sum = b.func("sum", &[arr], Some(INT), &[INT, INT, INT, INT], code);
    let main = b.func(
        "main",
        &[],
        Some(INT),
        &[],
        vec![
            Instr::IConst { value: 7 },
            Instr::IConst { value: 8 },
            Instr::IConst { value: 9 },
            Instr::ArrNew {
                type_: arr,
                count: 3,
            },
            Instr::Call { func: sum },
            Instr::Ret {},
        ],
    );
    b.finish(Some(main), None)
}

#[test]
fn hand_made_loops_that_leave_the_bounds_still_trap() {
    // Without a flaw, the access is proved (so each flaw is what stops the proof).
    let module = flawed_module(None);
    let (always, _) = agree(&module, 1);
    assert_eq!(always.unchecked_accesses, 1, "{always:?}");
    assert_eq!(run(&module, JitMode::Always, 1).0, "exit 24");
    for flaw in 0..3 {
        let module = flawed_module(Some(flaw));
        for threshold in [1, 1000] {
            let (r, _, _, _) = run(&module, JitMode::Off, threshold);
            assert!(
                r.contains("index 3 out of bounds for length 3"),
                "flaw {flaw}: {r}"
            );
            let (always, _) = agree(&module, threshold);
            assert_eq!(always.unchecked_accesses, 0, "flaw {flaw}: {always:?}");
        }
    }
}
