//! Regressions for hostile source text found while fuzzing the front end: each input must
//! compile or fail with diagnostics, on a thread with a small stack, in a debug build.

use rvm_compiler::compile_source;
use rvm_compiler::program::FsLoader;

/// Compiles `text` on a thread with a 1 MiB stack (embedders' threads may be small).
fn compile_on_small_stack(text: String) {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let _ = compile_source("hostile.src", &text, &FsLoader);
        })
        .expect("spawn")
        .join()
        .expect("the compiler panicked");
}

/// Found by the mutation campaign (`tests/programs/printing/large_output.src` has 2000
/// comment lines): logos restarted its state machine with a call per skipped comment, so
/// alternating comments and whitespace overflowed the stack in debug builds.
#[test]
fn many_comment_lines() {
    compile_on_small_stack("// expect: 1\n".repeat(1 << 17) + "fn main() {}");
    compile_on_small_stack("//\n ".repeat(1 << 18) + "fn main() {}");
}

#[test]
fn many_block_comments() {
    compile_on_small_stack("/* */".repeat(1 << 18) + "fn main() {}");
    compile_on_small_stack("/* a */ // b\n".repeat(1 << 16) + "fn main() {}");
}

#[test]
fn long_runs_of_one_token() {
    compile_on_small_stack(" ".repeat(1 << 20) + "fn main() {}");
    compile_on_small_stack("\n".repeat(1 << 20) + "fn main() {}");
    compile_on_small_stack(format!("fn main() {{ let {} = 1; }}", "a".repeat(1 << 20)));
    compile_on_small_stack(format!(
        "fn main() {{ let s = \"{}\"; }}",
        "a".repeat(1 << 20)
    ));
    compile_on_small_stack(format!("fn main() {{ let s = {}; }}", "1".repeat(1 << 16)));
}

#[test]
fn comments_still_work() {
    let text = "// a\nfn main() { /* b /* nested */ */ println(1); // c\n}\n/* unterminated";
    let failure = compile_source("c.src", text, &FsLoader).expect_err("unterminated comment");
    assert!(
        failure.to_string().contains("unterminated block comment"),
        "{failure}"
    );
    compile_source("c.src", &text[..text.len() - 15], &FsLoader).expect("compiles");
}
