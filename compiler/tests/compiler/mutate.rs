//! Robustness: thousands of small mutations of valid programs (a token deleted, duplicated,
//! or replaced by another token of the program). The compiler must never panic, and
//! whatever it accepts must pass the verifier — so a checker gap that lets an ill-typed
//! program through to code generation shows up here.

use super::*;

/// A deterministic pseudo-random generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Splits source text into tokens (identifiers/numbers, strings, punctuation) and the
/// spacing between them.
fn tokens(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        let mut t = c.to_string();
        if c.is_alphanumeric() || c == '_' || c == '.' {
            while let Some(&d) = chars.peek() {
                if d.is_alphanumeric() || d == '_' {
                    t.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
        } else if c == '"' {
            for d in chars.by_ref() {
                t.push(d);
                if d == '"' {
                    break;
                }
            }
        }
        out.push(t);
    }
    out
}

fn mutate(src: &str, rng: &mut Rng) -> String {
    let mut toks = tokens(src);
    let significant: Vec<usize> = (0..toks.len())
        .filter(|&i| !toks[i].trim().is_empty())
        .collect();
    // Names and literals: replacing one by another mostly keeps the program parseable,
    // which is what exercises the checker.
    let words: Vec<usize> = significant
        .iter()
        .copied()
        .filter(|&i| toks[i].starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '"'))
        .collect();
    for _ in 0..1 + rng.below(2) {
        let i = significant[rng.below(significant.len())];
        let j = significant[rng.below(significant.len())];
        match rng.below(10) {
            0 => toks[i] = String::new(),
            1 => {
                let t = toks[j].clone();
                toks[i].push(' ');
                toks[i].push_str(&t);
            }
            2 => toks.swap(i, j),
            _ => {
                let a = words[rng.below(words.len())];
                let b = words[rng.below(words.len())];
                toks[a] = toks[b].clone();
            }
        }
    }
    toks.concat()
}

const SEEDS: &[&str] = &[
    super::programs::WHOLE,
    r#"
struct Acc { total: float, items: [float] }
impl Acc {
    fn add(self, x: float) { self.total += x; self.items.push(x); }
    fn mean(self) -> float { if self.items.len() == 0 { return 0.0; } return self.total / float(self.items.len()); }
}
fn count(words: [str]) -> [str: int] {
    var m: [str: int] = [:];
    for w in words { m[w] = m.get(w, 0) + 1; }
    return m;
}
fn main() {
    let a = Acc(total: 0.0, items: []);
    for i in 0..10 { a.add(float(i) * 1.5); }
    println(a.mean());
    let m = count("a b a c b a".split(" "));
    for k, v in m { println("${k}: ${v}"); }
    var best = "";
    var n = -1;
    for k in m { if m[k] > n { n = m[k]; best = k; } }
    println(best);
    var i = 0;
    while i < 3 && n > 0 || false { i += 1; }
    println(!(i == 3));
}
"#,
];

#[test]
fn mutated_programs_never_panic_and_what_compiles_verifies() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let loader = Mem::default();
    let mut compiled = 0;
    let rounds: usize = std::env::var("MUTANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    for round in 0..rounds {
        let seed = SEEDS[round % SEEDS.len()];
        let src = mutate(seed, &mut rng);
        let result = std::panic::catch_unwind(|| compile_source("main.src", &src, &loader));
        let Ok(result) = result else {
            panic!("the compiler panicked on:\n{src}");
        };
        if let Ok(c) = result {
            compiled += 1;
            if let Err(e) = rvm_vm::verifier::verify(c.module.clone()) {
                panic!(
                    "accepted but does not verify ({e}):\n{src}\n{}",
                    dump(&c.module)
                );
            }
        }
    }
    eprintln!("{compiled} of {rounds} mutants compiled");
    assert!(compiled > 0);
}
