//! The seeded mutation campaign's machinery (shared by `tests/hostile_mutation.rs` and
//! `tests/hostile_source.rs`): a dependency-free xorshift RNG, the valid modules and
//! sources of the test suite, and the checks each mutated case must pass.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// xorshift64*: deterministic, seedable, good enough to drive mutations.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn byte(&mut self) -> u8 {
        self.next() as u8
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The campaign's seed: `RVM_MUTATION_SEED` if set (to replay a failure), else fixed.
pub fn seed() -> u64 {
    std::env::var("RVM_MUTATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x005e_ed0f_4e57)
}

/// Cases per campaign: `RVM_MUTATION_CASES` if set, else `default`.
pub fn cases(default: usize) -> usize {
    std::env::var("RVM_MUTATION_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "src") {
            out.push(p);
        }
    }
}

/// Every `.src` file of the test suite and the examples, sorted.
pub fn source_files() -> &'static [PathBuf] {
    static FILES: OnceLock<Vec<PathBuf>> = OnceLock::new();
    FILES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        collect(&root.join("tests/programs"), &mut out);
        collect(&root.join("examples"), &mut out);
        out.sort();
        out
    })
}

/// The encoded modules of every test program that compiles.
pub fn valid_modules() -> &'static [Vec<u8>] {
    static MODULES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    MODULES.get_or_init(|| {
        source_files()
            .iter()
            .filter_map(|p| rvm::compile_file(p).ok())
            .map(|c| rvm::vm::format::encode(&c.module))
            .collect()
    })
}
