//! Replays every input under `tests/fuzz-regressions/` (see its README): each must load or
//! compile to an error or a clean run, without a panic, on a test thread's small stack.

#[path = "hostile/support.rs"]
mod support;

use std::path::{Path, PathBuf};

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.retain(|p| p.is_file());
    out.sort();
    out
}

fn load(bytes: &[u8]) {
    if let Ok(v) = rvm::load_bytecode(bytes) {
        let _ = support::run(&v);
    }
}

#[test]
fn load_regressions() {
    for p in files("load").into_iter().chain(files("roundtrip")) {
        eprintln!("replaying {}", p.display());
        load(&std::fs::read(&p).expect("read"));
    }
}

#[test]
fn compile_regressions() {
    for p in files("compile") {
        eprintln!("replaying {}", p.display());
        let bytes = std::fs::read(&p).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(c) = rvm::compile_source("regression.src", &text) {
            let v = rvm::verify(c.module).expect("compiled modules verify");
            let _ = support::run(&v);
        }
    }
}
