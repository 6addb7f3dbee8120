//! Source bytes → rvmc's lexer, parser, checker and code generator. Whatever compiles must
//! pass the verifier (a compiled module that does not verify is a compiler bug), and runs
//! under fuel, heap and time limits. Imports resolve to a tiny in-memory library, never the
//! file system. The corpus is seeded with `tests/programs/**/*.src`, so libFuzzer's
//! mutations of valid programs reach the checker, not only the parser.

#![no_main]

use std::io;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rvm_compiler::program::SourceLoader;
use rvm_fuzz::{LimitedAlloc, support};

#[global_allocator]
static ALLOC: LimitedAlloc = LimitedAlloc::new();

struct Library;

impl SourceLoader for Library {
    fn load(&self, path: &Path) -> io::Result<String> {
        match path.file_name().and_then(|n| n.to_str()) {
            Some("util.src") => Ok("fn helper(x: int) -> int { return x + 1; }\n\
                                    struct P { a: int }\n"
                .into()),
            Some("loop.src") => Ok("import \"loop.src\" as l;\nfn f() {}\n".into()),
            _ => Err(io::Error::new(io::ErrorKind::NotFound, "no such file")),
        }
    }
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let compiled = match rvm_compiler::compile_source("fuzz.src", text, &Library) {
        Ok(c) => c,
        Err(failure) => {
            // Rendering diagnostics must not panic either.
            let _ = failure.to_string();
            let _ = failure.diagnostics.render(&failure.sources, false);
            return;
        }
    };
    let verified = match rvm_vm::verifier::verify(compiled.module) {
        Ok(v) => v,
        Err(e) => panic!("the compiler emitted a module the verifier refuses: {e}"),
    };
    let _ = support::run(&verified);
});
