//! The seeded mutation campaign over source text: every program of the test suite is
//! damaged (bytes flipped, lines dropped, duplicated or swapped, ranges deleted, tokens
//! inserted, text truncated) and compiled. Each case must end in diagnostics that render,
//! or in a module that the verifier accepts (a compiled module the verifier refuses is a
//! compiler bug), which then runs to an exit or a trap under fuel and heap limits.
//!
//! Replay with `RVM_MUTATION_SEED=<seed>`; more cases with `RVM_MUTATION_CASES=<n>`.

#[path = "hostile/campaign.rs"]
mod campaign;
#[path = "hostile/support.rs"]
mod support;

use std::time::{Duration, Instant};

use campaign::Rng;

const TOKENS: &[&str] = &[
    "fn",
    "let",
    "var",
    "const",
    "struct",
    "impl",
    "self",
    "if",
    "else",
    "while",
    "for",
    "in",
    "break",
    "continue",
    "return",
    "true",
    "false",
    "import",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ";",
    ":",
    ".",
    "..",
    "..=",
    "->",
    "=",
    "+=",
    "==",
    "!=",
    "<",
    "<=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "&&",
    "||",
    "!",
    "<<",
    ">>",
    "&",
    "|",
    "^",
    "0",
    "1",
    "-1",
    "9223372036854775807",
    "1e308",
    "0.5",
    "\"s\"",
    "\"${x}\"",
    "x",
    "main",
    "int",
    "float",
    "bool",
    "str",
    "[int]",
    "[str: int]",
    "fn(int) -> int",
    "println",
    "math.sqrt",
    "os.args()",
    "os.exit(3)",
    "xs.push(1)",
    ".len()",
    "/*",
    "*/",
    "//",
    "\n",
    " ",
    "é",
    "\0",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let mut out = match rng.below(8) {
        // Flip bits in a few bytes (then repair UTF-8 lossily).
        0 => {
            let mut b = text.as_bytes().to_vec();
            for _ in 0..1 + rng.below(3) {
                if !b.is_empty() {
                    let p = rng.below(b.len());
                    b[p] ^= 1 << rng.below(8);
                }
            }
            return String::from_utf8_lossy(&b).into_owned();
        }
        // Drop a line.
        1 if !lines.is_empty() => {
            lines.remove(rng.below(lines.len()));
            lines.join("\n")
        }
        // Duplicate a line.
        2 if !lines.is_empty() => {
            let i = rng.below(lines.len());
            lines.insert(i, lines[i]);
            lines.join("\n")
        }
        // Swap two lines.
        3 if lines.len() > 1 => {
            let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
            lines.swap(i, j);
            lines.join("\n")
        }
        // Truncate.
        4 => {
            let mut n = rng.below(text.len() + 1);
            while !text.is_char_boundary(n) {
                n -= 1;
            }
            text[..n].to_string()
        }
        // Delete a short range.
        5 => {
            let mut s = rng.below(text.len() + 1);
            while !text.is_char_boundary(s) {
                s -= 1;
            }
            let mut e = (s + 1 + rng.below(16)).min(text.len());
            while !text.is_char_boundary(e) {
                e += 1;
            }
            format!("{}{}", &text[..s], &text[e..])
        }
        // Insert tokens.
        _ => {
            let mut t = text.to_string();
            for _ in 0..1 + rng.below(3) {
                let mut p = rng.below(t.len() + 1);
                while !t.is_char_boundary(p) {
                    p -= 1;
                }
                let tok: &&str = rng.pick(TOKENS);
                t.insert_str(p, tok);
            }
            t
        }
    };
    if rng.chance(16) {
        let tok: &&str = rng.pick(TOKENS);
        out.push_str(tok);
    }
    out
}

#[derive(Debug, Default)]
struct Tally {
    diagnostics: usize,
    compiled: usize,
    ran: usize,
}

fn check(path: &std::path::Path, text: &str, tally: &mut Tally) {
    let name = path.to_string_lossy();
    match rvm::compile_source(&name, text) {
        Err(failure) => {
            assert!(
                !failure.diagnostics.items.is_empty(),
                "failure without errors"
            );
            for d in &failure.diagnostics.items {
                let (s, e) = (d.span.start as usize, d.span.end as usize);
                assert!(s <= e, "{d:?}");
            }
            let _ = failure.diagnostics.render(&failure.sources, false);
            assert!(!failure.to_string().is_empty());
            tally.diagnostics += 1;
        }
        Ok(compiled) => {
            tally.compiled += 1;
            let verified = match rvm::verify(compiled.module) {
                Ok(v) => v,
                Err(e) => panic!("compiled but does not verify: {e}\n--- source ---\n{text}"),
            };
            let _ = support::run(&verified);
            tally.ran += 1;
        }
    }
}

#[test]
fn mutated_programs_give_diagnostics_or_verified_code() {
    let files = campaign::source_files();
    let texts: Vec<String> = files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .collect();
    let seed = campaign::seed();
    let cases = campaign::cases(10_000);
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let started = Instant::now();
    for case in 0..cases {
        let k = rng.below(files.len());
        let text = mutate(&mut rng, &texts[k]);
        let t = Instant::now();
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check(&files[k], &text, &mut tally)
        }))
        .is_err()
        {
            let path = std::env::temp_dir().join(format!("rvm-source-{seed}-{case}.src"));
            let _ = std::fs::write(&path, &text);
            panic!(
                "case {case} (seed {seed}, from {}) panicked; input saved to {}",
                files[k].display(),
                path.display()
            );
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "case {case} (seed {seed}) took {:?}",
            t.elapsed()
        );
    }
    eprintln!(
        "{cases} cases in {:?} (seed {seed}): {tally:?}",
        started.elapsed()
    );
    assert!(tally.diagnostics > cases / 10, "{tally:?}");
    assert!(tally.compiled > cases / 10, "{tally:?}");
}
