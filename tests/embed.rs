//! The embedding facade (`rvm::compile_source`, `load_bytecode`, `verify`, `run_with_output`):
//! a host program compiles, loads and runs guest code without touching the CLI.

use std::sync::Arc;

use rvm::vm::interpreter::SharedBuffer;
use rvm::{JitMode, LoadError, RunOptions};

fn run_captured(src: &str, options: &RunOptions) -> (Result<u8, rvm::Trap>, String, String) {
    let compiled = rvm::compile_source("embedded.src", src).expect("compiles");
    let module = rvm::verify(compiled.module).expect("verifies");
    let (out, err) = (SharedBuffer::new(), SharedBuffer::new());
    let result = rvm::run_with_output(
        Arc::new(module),
        options,
        Box::new(out.clone()),
        Box::new(err.clone()),
    );
    (result, out.contents(), err.contents())
}

#[test]
fn compile_verify_and_run_in_memory() {
    let (result, out, err) = run_captured(
        "fn main() -> int {\n    println(\"hi ${os.args()}\");\n    eprintln(\"e\");\n    return 4;\n}\n",
        &RunOptions {
            args: vec!["a".into()],
            ..RunOptions::default()
        },
    );
    assert_eq!(result.expect("runs"), 4);
    assert_eq!(out, "hi [\"a\"]\n");
    assert_eq!(err, "e\n");
}

#[test]
fn traps_come_back_as_values() {
    let src = "fn f(n: int) -> int {\n    return f(n + 1);\n}\nfn main() {\n    f(0);\n}\n";
    let options = RunOptions {
        max_stack: 50,
        jit: JitMode::Off,
        ..RunOptions::default()
    };
    let (result, _, _) = run_captured(src, &options);
    let trap = result.expect_err("overflows");
    assert_eq!(trap.exit_code(), 71);
    assert!(
        trap.to_string()
            .starts_with("runtime error: stack overflow (call depth limit 50)\n"),
        "{trap}"
    );
}

#[test]
fn several_vms_in_one_process() {
    let src = "var n = 0;\nfn main() {\n    n += 1;\n    println(n);\n}\n";
    let compiled = rvm::compile_source("counter.src", src).expect("compiles");
    let module = Arc::new(rvm::verify(compiled.module).expect("verifies"));
    for _ in 0..3 {
        let out = SharedBuffer::new();
        let code = rvm::run_with_output(
            Arc::clone(&module),
            &RunOptions::default(),
            Box::new(out.clone()),
            Box::new(SharedBuffer::new()),
        )
        .expect("runs");
        assert_eq!(code, 0);
        assert_eq!(out.contents(), "1\n", "each VM has its own globals");
    }
}

#[test]
fn compile_errors_are_values_with_positions() {
    let err = rvm::compile_source("bad.src", "fn main() {\n    let x: int = \"s\";\n}\n")
        .expect_err("does not compile");
    let short = err.diagnostics.render_short(&err.sources);
    assert!(short.starts_with("bad.src:2:"), "{short}");
    assert!(short.contains("error: mismatched types"), "{short}");
}

#[test]
fn load_bytecode_decodes_and_verifies() {
    let compiled = rvm::compile_source("ok.src", "fn main() {\n}\n").expect("compiles");
    let bytes = rvm::vm::format::encode(&compiled.module);
    assert!(rvm::load_bytecode(&bytes).is_ok());
    assert!(matches!(
        rvm::load_bytecode(&bytes[..bytes.len() - 1]),
        Err(LoadError::Decode(_))
    ));
    let mut module = compiled.module;
    module.functions[0]
        .code
        .insert(0, rvm::vm::format::Instr::IAdd {});
    let bytes = rvm::vm::format::encode(&module);
    assert!(matches!(
        rvm::load_bytecode(&bytes),
        Err(LoadError::Verify(_))
    ));
}

/// Creating a VM (a per-request sandbox) from an already loaded module must not depend on
/// the module's code size: the prepared code and type layouts are computed once, at
/// verification, and shared. Ignored by default; run with
/// `cargo test --release --test embed vm_creation_cost -- --ignored --nocapture`.
/// Measured on the development machine (shared 2 cores), `benches/programs/nbody.src`:
/// about 0.26 µs per `Vm::new` (+ drop), down from 4.2 µs when each VM prepared the code.
#[test]
#[ignore]
fn vm_creation_cost() {
    use rvm::vm::interpreter::{Vm, VmConfig};
    let compiled = rvm::compile_file("benches/programs/nbody.src").expect("compiles");
    let module = Arc::new(rvm::verify(compiled.module).expect("verifies"));
    const N: u32 = 20_000;
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        for _ in 0..N {
            let vm = Vm::new(
                Arc::clone(&module),
                VmConfig::default(),
                Box::new(std::io::sink()),
                Box::new(std::io::sink()),
            )
            .expect("creates");
            std::hint::black_box(&vm);
        }
        best = best.min(start.elapsed() / N);
    }
    println!("Vm::new + drop on nbody: {best:?}");
    assert!(
        best < std::time::Duration::from_micros(10),
        "Vm::new took {best:?}"
    );
}
