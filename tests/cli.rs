//! The command-line contract of `rvm` and `rvmc`: exit codes, one-line error messages,
//! argument pass-through, and robustness against corrupt bytecode.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rvm::vm::format::{
    Export, FuncType, Function, Instr, LineEntry, Module, TypeDef, decode, encode,
};
use rvm::vm::natives::Native;

const RVM: &str = env!("CARGO_BIN_EXE_rvm");
const RVMC: &str = env!("CARGO_BIN_EXE_rvmc");

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

fn rvm<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(RVM)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run rvm")
}

fn rvmc<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(RVMC)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run rvmc")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "expected exit code {code}\nstdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

#[track_caller]
fn assert_no_panic(o: &Output) {
    let err = stderr(o);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "the process panicked:\n{err}"
    );
}

/// A tiny valid module built by hand (independent of the compiler): `main` prints `hi`.
fn hello_module() -> Module {
    let unit = TypeDef::Func(FuncType {
        params: vec![],
        result: None,
    });
    Module {
        types: vec![unit],
        strings: vec!["hi".into()],
        functions: vec![Function {
            name: "main".into(),
            ty: 0,
            locals: vec![],
            max_stack: 1,
            code: vec![
                Instr::SConst { index: 0 },
                Instr::CallNative {
                    native: Native::Println.id(),
                },
                Instr::Ret {},
            ],
            lines: vec![LineEntry {
                offset: 0,
                file: 0,
                line: 1,
                column: 1,
            }],
        }],
        exports: vec![Export {
            name: "main".into(),
            func: 0,
        }],
        main: Some(0),
        files: vec!["hello.src".into()],
        ..Module::default()
    }
}

// ---------------------------------------------------------------- version and help

#[test]
fn version_flags() {
    for (tool, out) in [("rvm", rvm(["--version"])), ("rvmc", rvmc(["--version"]))] {
        assert_code(&out, 0);
        let text = stdout(&out);
        assert!(
            text.starts_with(&format!("{tool} {}", env!("CARGO_PKG_VERSION"))),
            "{text}"
        );
    }
}

#[test]
fn help_shows_examples_and_exit_codes() {
    for out in [rvm(["--help"]), rvmc(["--help"]), rvmc(["build", "--help"])] {
        assert_code(&out, 0);
        let text = stdout(&out);
        assert!(text.contains("Examples:"), "{text}");
        assert!(text.contains("Exit codes:"), "{text}");
    }
    let hidden = stdout(&rvm(["--help"]));
    assert!(
        !hidden.contains("gc-stress"),
        "--gc-stress is a hidden flag"
    );
}

// ---------------------------------------------------------------- usage errors: 64

#[test]
fn usage_errors_exit_64() {
    let dir = scratch("usage");
    let bc = dir.join("hello.bc");
    std::fs::write(&bc, encode(&hello_module())).unwrap();
    let bc = bc.to_str().unwrap();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("rvm", vec![]),
        ("rvm", vec!["--jit=fast", bc]),
        ("rvm", vec!["--jit"]),
        ("rvm", vec!["--max-stack", "0", bc]),
        ("rvm", vec!["--max-stack", "lots", bc]),
        ("rvm", vec!["--bogus", bc]),
        ("rvm", vec!["run"]),
        ("rvm", vec!["disasm"]),
        ("rvm", vec!["inspect", bc, bc]),
        ("rvmc", vec![]),
        ("rvmc", vec!["build"]),
        ("rvmc", vec!["frobnicate", "x.src"]),
        ("rvmc", vec!["build", "x.src", "--message-format=long"]),
        ("rvmc", vec!["check", "x.src", "--color=sometimes"]),
        ("rvmc", vec!["check", "x.src", "-o", "y.bc"]),
    ];
    for (tool, args) in cases {
        let out = if tool == "rvm" {
            rvm(&args)
        } else {
            rvmc(&args)
        };
        assert_eq!(
            out.status.code(),
            Some(64),
            "{tool} {args:?}\nstderr:\n{}",
            stderr(&out)
        );
        assert!(!stderr(&out).is_empty(), "{tool} {args:?} explains itself");
        assert_no_panic(&out);
    }
}

#[test]
fn unknown_option_is_named() {
    let out = rvm(["--bogus"]);
    assert_code(&out, 64);
    assert!(stderr(&out).contains("--bogus"), "{}", stderr(&out));
}

// ---------------------------------------------------------------- unreadable input: 66

#[test]
fn missing_files_exit_66_with_one_line() {
    let dir = scratch("missing");
    let missing = dir.join("x.bc");
    let shown = missing.display().to_string();
    let out = rvm([&missing]);
    assert_code(&out, 66);
    assert_eq!(
        stderr(&out),
        format!("rvm: cannot read `{shown}`: No such file or directory\n")
    );
    let out = rvm([Path::new("run"), missing.as_path()]);
    assert_code(&out, 66);
    for sub in ["disasm", "inspect"] {
        let out = rvm([Path::new(sub), missing.as_path()]);
        assert_code(&out, 66);
    }
    let src = dir.join("x.src");
    for sub in ["build", "check"] {
        let out = rvmc([Path::new(sub), src.as_path()]);
        assert_code(&out, 66);
        assert_eq!(
            stderr(&out),
            format!(
                "rvmc: cannot read `{}`: No such file or directory\n",
                src.display()
            )
        );
    }
}

#[test]
fn a_directory_is_not_a_program() {
    let dir = scratch("directory");
    let out = rvm([&dir]);
    assert_code(&out, 66);
    assert!(
        stderr(&out).starts_with("rvm: cannot read `"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------- invalid bytecode: 67

#[test]
fn truncated_bytecode_exits_67() {
    let dir = scratch("truncated");
    let bytes = encode(&hello_module());
    for len in [0, 3, 4, 8, bytes.len() / 2, bytes.len() - 1] {
        let path = dir.join(format!("cut{len}.bc"));
        std::fs::write(&path, &bytes[..len]).unwrap();
        let out = rvm([&path]);
        assert_code(&out, 67);
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("rvm: invalid bytecode in `{}`: ", path.display())),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn wrong_magic_with_bc_extension_exits_67() {
    let dir = scratch("magic");
    let path = write(&dir, "text.bc", "this is not bytecode\n");
    let out = rvm([&path]);
    assert_code(&out, 67);
    assert!(
        stderr(&out).contains("bad magic number"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn newer_format_version_is_refused() {
    let dir = scratch("version");
    let mut bytes = encode(&hello_module());
    bytes[4] = 0xff;
    bytes[5] = 0x7f;
    let path = dir.join("future.bc");
    std::fs::write(&path, &bytes).unwrap();
    let out = rvm([&path]);
    assert_code(&out, 67);
    assert!(
        stderr(&out).contains("unsupported bytecode format version"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn module_failing_verification_exits_67_with_the_rule() {
    let dir = scratch("unverifiable");
    // `i.add` with an empty stack: well-formed, but the verifier must refuse it.
    let mut m = hello_module();
    m.functions[0].code = vec![Instr::IAdd {}, Instr::Ret {}];
    let path = dir.join("underflow.bc");
    std::fs::write(&path, encode(&m)).unwrap();
    let out = rvm([&path]);
    assert_code(&out, 67);
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "rvm: invalid bytecode in `{}`: function `main`",
            path.display()
        )),
        "{err}"
    );
    assert!(err.contains("stack-underflow"), "{err}");

    // A jump into the middle of an instruction.
    let mut m = hello_module();
    m.functions[0].code = vec![Instr::Jmp { target: 2 }, Instr::Ret {}];
    let path = dir.join("midjump.bc");
    std::fs::write(&path, encode(&m)).unwrap();
    let out = rvm([&path]);
    assert_code(&out, 67);
    assert!(
        stderr(&out).contains("jump-mid-instruction"),
        "{}",
        stderr(&out)
    );

    // An unknown host import.
    let mut m = hello_module();
    m.imports.push(rvm::vm::format::Import {
        module: "net".into(),
        name: "connect".into(),
        ty: 0,
    });
    let path = dir.join("import.bc");
    std::fs::write(&path, encode(&m)).unwrap();
    let out = rvm([&path]);
    assert_code(&out, 67);
    assert!(stderr(&out).contains("unknown-import"), "{}", stderr(&out));
}

#[test]
fn hand_built_module_runs() {
    let dir = scratch("handbuilt");
    let path = dir.join("hello.bc");
    std::fs::write(&path, encode(&hello_module())).unwrap();
    let out = rvm([&path]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "hi\n");
}

#[test]
fn every_single_byte_corruption_is_handled() {
    let dir = scratch("bitflip");
    let valid = encode(&hello_module());
    assert!(decode(&valid).is_ok());
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for i in 0..valid.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bytes = valid.clone();
            bytes[i] ^= mask;
            // In process: loading never panics.
            let loaded = rvm::load_bytecode(&bytes);
            // As a process: a clean exit code, never a signal.
            let path = dir.join(format!("flip_{i}_{mask:02x}.bc"));
            std::fs::write(&path, &bytes).unwrap();
            let mut child = Command::new(RVM)
                .arg(&path)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn rvm");
            let start = std::time::Instant::now();
            let status = loop {
                if let Some(s) = child.try_wait().expect("wait") {
                    break Some(s);
                }
                if start.elapsed() > std::time::Duration::from_secs(10) {
                    // A flip may turn valid code into a valid endless loop.
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            };
            let out = child.wait_with_output().expect("collect output");
            assert_no_panic(&out);
            let key = match status.and_then(|s| s.code()) {
                Some(67) => {
                    assert!(loaded.is_err(), "byte {i} ^ {mask:#x}: loads in process");
                    assert!(
                        stderr(&out).starts_with("rvm: invalid bytecode in `"),
                        "{}",
                        stderr(&out)
                    );
                    "67 invalid".to_owned()
                }
                Some(c @ (0..=66 | 68..=255)) => {
                    assert!(loaded.is_ok(), "byte {i} ^ {mask:#x}: refused in process");
                    format!("{c}")
                }
                Some(c) => panic!("byte {i} ^ {mask:#x}: exit code {c}"),
                None if status.is_none() => "timeout".to_owned(),
                None => panic!("byte {i} ^ {mask:#x}: killed by a signal: {status:?}"),
            };
            *outcomes.entry(key).or_default() += 1;
        }
    }
    eprintln!("outcomes of {} corruptions: {outcomes:?}", valid.len() * 3);
}

// ---------------------------------------------------------------- magic decides, not the name

#[test]
fn bytecode_is_recognised_by_its_magic_not_its_name() {
    let dir = scratch("magic_decides");
    let path = dir.join("actually_bytecode.src");
    std::fs::write(&path, encode(&hello_module())).unwrap();
    let out = rvm([&path]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "hi\n");
}

#[test]
fn source_with_another_extension_is_compiled() {
    let dir = scratch("txt_source");
    let path = write(
        &dir,
        "prog.txt",
        "fn main() {\n    println(\"from txt\");\n}\n",
    );
    let out = rvm([&path]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "from txt\n");
}

// ---------------------------------------------------------------- disasm and inspect

#[test]
fn disasm_and_inspect_describe_the_module() {
    let dir = scratch("disasm");
    let path = dir.join("hello.bc");
    std::fs::write(&path, encode(&hello_module())).unwrap();
    let out = rvm([Path::new("disasm"), path.as_path()]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("main"), "{text}");
    assert!(text.contains("s.const"), "{text}");
    assert!(text.contains("call.native"), "{text}");
    assert!(text.contains("println"), "{text}");
    assert!(text.contains("ret"), "{text}");

    let out = rvm([Path::new("inspect"), path.as_path()]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("main"), "{text}");
    assert!(text.to_lowercase().contains("functions"), "{text}");

    let bad = write(&dir, "bad.bc", "nope");
    let out = rvm([Path::new("disasm"), bad.as_path()]);
    assert_code(&out, 67);
}

#[test]
fn disasm_of_source_compiles_first() {
    let dir = scratch("disasm_src");
    let path = write(
        &dir,
        "add.src",
        "fn add(a: int, b: int) -> int { return a + b; }\nfn main() { println(add(1, 2)); }\n",
    );
    let out = rvm([Path::new("disasm"), path.as_path()]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("add"), "{text}");
    assert!(text.contains("i.add"), "{text}");
}

// ---------------------------------------------------------------- compile errors: 65

const BAD: &str = "fn main() {\n    let x: int = \"text\";\n    println(nope);\n}\n";

#[test]
fn compile_errors_exit_65_and_write_nothing() {
    let dir = scratch("compile_error");
    let src = write(&dir, "bad.src", BAD);
    let out = rvmc([Path::new("build"), src.as_path()]);
    assert_code(&out, 65);
    assert!(!dir.join("bad.bc").exists(), "no output on failure");
    let err = stderr(&out);
    assert!(err.contains("bad.src:2:"), "{err}");
    assert!(err.contains("bad.src:3:"), "both errors in one run:\n{err}");

    let out = rvmc([Path::new("check"), src.as_path()]);
    assert_code(&out, 65);

    let out = rvm([&src]);
    assert_code(&out, 65);
    assert!(stderr(&out).contains("bad.src:2:"), "{}", stderr(&out));
}

#[test]
fn short_message_format_is_one_line_per_error() {
    let dir = scratch("short_format");
    let src = write(&dir, "bad.src", BAD);
    let out = rvmc([
        "check".as_ref(),
        "--message-format=short".as_ref(),
        src.as_os_str(),
    ]);
    assert_code(&out, 65);
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        err.lines()
            .all(|l| l.contains(": error: ") || l.contains(": warning: ")),
        "only diagnostic lines:\n{err}"
    );
    let shown = src.display().to_string();
    assert!(lines[0].starts_with(&format!("{shown}:2:")), "{err}");
    assert!(lines[0].contains(": error: "), "{err}");
    assert!(lines[1].starts_with(&format!("{shown}:3:")), "{err}");
}

#[test]
fn color_flag_controls_escape_codes() {
    let dir = scratch("color");
    let src = write(&dir, "bad.src", BAD);
    let always = rvmc(["check".as_ref(), "--color=always".as_ref(), src.as_os_str()]);
    assert_code(&always, 65);
    assert!(stderr(&always).contains('\x1b'), "{}", stderr(&always));
    let never = rvmc(["check".as_ref(), "--color=never".as_ref(), src.as_os_str()]);
    assert_code(&never, 65);
    assert!(!stderr(&never).contains('\x1b'), "{}", stderr(&never));
}

// ---------------------------------------------------------------- build and run

#[test]
fn build_writes_next_to_the_source_or_to_o() {
    let dir = scratch("build");
    let src = write(
        &dir,
        "ok.src",
        "fn main() -> int {\n    println(\"built\");\n    return 3;\n}\n",
    );
    let out = rvmc([Path::new("build"), src.as_path()]);
    assert_code(&out, 0);
    let bc = dir.join("ok.bc");
    assert!(bc.exists());
    let run = rvm([&bc]);
    assert_code(&run, 3);
    assert_eq!(stdout(&run), "built\n");

    let custom = dir.join("sub_out.bc");
    let out = rvmc([
        Path::new("build"),
        src.as_path(),
        Path::new("-o"),
        custom.as_path(),
    ]);
    assert_code(&out, 0);
    assert_eq!(std::fs::read(&custom).unwrap(), std::fs::read(&bc).unwrap());

    let out = rvmc([Path::new("check"), src.as_path()]);
    assert_code(&out, 0);
    assert!(stdout(&out).is_empty() && stderr(&out).is_empty());
}

#[cfg(unix)]
#[test]
fn non_utf8_program_arguments_are_usage_errors() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("non_utf8_args");
    let path = dir.join("hello.bc");
    std::fs::write(&path, encode(&hello_module())).unwrap();
    let bad = std::ffi::OsStr::from_bytes(b"caf\xe9");
    let out = rvm([path.as_os_str(), bad]);
    assert_code(&out, 64);
    assert!(stderr(&out).contains("not valid UTF-8"), "{}", stderr(&out));
}

#[test]
fn non_utf8_source_is_a_compile_error() {
    let dir = scratch("non_utf8_source");
    let path = dir.join("latin1.src");
    std::fs::write(&path, b"fn main() {\n    println(\"caf\xe9\");\n}\n").unwrap();
    let out = rvm([&path]);
    assert_code(&out, 65);
    assert!(stderr(&out).contains("UTF-8"), "{}", stderr(&out));
    assert_no_panic(&out);
}

#[test]
fn rvmc_refuses_bytecode_input() {
    let dir = scratch("rvmc_bytecode");
    let path = dir.join("hello.bc");
    std::fs::write(&path, encode(&hello_module())).unwrap();
    let out = rvmc([Path::new("build"), path.as_path()]);
    assert_code(&out, 64);
    assert!(
        stderr(&out).contains("already bytecode"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn warnings_are_shown_by_rvmc_but_not_when_running() {
    let dir = scratch("warnings");
    let src = write(
        &dir,
        "unused.src",
        "fn main() {\n    let x = 1;\n    println(\"ok\");\n}\n",
    );
    let out = rvm([&src]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "ok\n");
    assert_eq!(stderr(&out), "", "running shows no warnings");
    let out = rvmc([
        "check".as_ref(),
        "--message-format=short".as_ref(),
        src.as_os_str(),
    ]);
    assert_code(&out, 0);
    assert!(stderr(&out).contains(":2:9: warning: "), "{}", stderr(&out));
}

#[test]
fn build_to_an_unwritable_place_exits_66() {
    let dir = scratch("unwritable");
    let src = write(&dir, "ok.src", "fn main() {\n}\n");
    let target = dir.join("no/such/folder/ok.bc");
    let out = rvmc([
        Path::new("build"),
        src.as_path(),
        Path::new("-o"),
        target.as_path(),
    ]);
    assert_code(&out, 66);
    assert!(
        stderr(&out).starts_with("rvmc: cannot write `"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn program_arguments_pass_through_untouched() {
    let dir = scratch("args");
    let src = write(
        &dir,
        "args.src",
        "fn main() {\n    println(os.args());\n}\n",
    );
    let out = rvm([
        "--jit=off".as_ref(),
        src.as_os_str(),
        "--foo".as_ref(),
        "-x".as_ref(),
        "--jit=always".as_ref(),
        "--help".as_ref(),
        "".as_ref(),
        "two words".as_ref(),
    ]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "[\"--foo\", \"-x\", \"--jit=always\", \"--help\", \"\", \"two words\"]\n"
    );
    let out = rvm(["run".as_ref(), src.as_os_str(), "--version".as_ref()]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "[\"--version\"]\n");
}

// ---------------------------------------------------------------- traps: 70 and 71

#[test]
fn runtime_trap_exits_70_with_a_stack_trace() {
    let dir = scratch("trap");
    let src = write(
        &dir,
        "trap.src",
        "fn divide(a: int, b: int) -> int {\n    return a / b;\n}\n\nfn main() {\n    println(divide(1, 0));\n}\n",
    );
    let out = rvm([&src]);
    assert_code(&out, 70);
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    let shown = src.display().to_string();
    assert_eq!(lines[0], "runtime error: division by zero", "{err}");
    assert!(
        lines[1].starts_with(&format!("    at divide ({shown}:2:")),
        "{err}"
    );
    assert!(
        lines[2].starts_with(&format!("    at main ({shown}:6:")),
        "{err}"
    );
    assert_eq!(lines.len(), 3, "{err}");
}

#[test]
fn stack_overflow_exits_71_and_respects_max_stack() {
    let dir = scratch("overflow");
    let src = write(
        &dir,
        "deep.src",
        "fn down(n: int) -> int {\n    return down(n + 1) + 1;\n}\n\nfn main() {\n    println(down(0));\n}\n",
    );
    let out = rvm([&src]);
    assert_code(&out, 71);
    assert!(
        stderr(&out).starts_with("runtime error: stack overflow (call depth limit 10000)\n"),
        "{}",
        stderr(&out)
    );
    let out = rvm(["--max-stack".as_ref(), "100".as_ref(), src.as_os_str()]);
    assert_code(&out, 71);
    assert!(
        stderr(&out).starts_with("runtime error: stack overflow (call depth limit 100)\n"),
        "{}",
        stderr(&out)
    );

    let ok = write(
        &dir,
        "fine.src",
        "fn down(n: int) -> int {\n    if n == 0 { return 0; }\n    return down(n - 1) + 1;\n}\n\nfn main() {\n    println(down(50000));\n}\n",
    );
    let out = rvm([&ok]);
    assert_code(&out, 71);
    let out = rvm(["--max-stack".as_ref(), "60000".as_ref(), ok.as_os_str()]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "50000\n");
}

#[test]
fn every_jit_mode_is_accepted() {
    let dir = scratch("jit_modes");
    let path = dir.join("hello.bc");
    std::fs::write(&path, encode(&hello_module())).unwrap();
    for mode in ["off", "auto", "always"] {
        let out = rvm([format!("--jit={mode}").as_ref(), path.as_os_str()]);
        assert_code(&out, 0);
        assert_eq!(stdout(&out), "hi\n");
        let out = rvm([
            "run".as_ref(),
            "--jit".as_ref(),
            mode.as_ref(),
            "--gc-stress".as_ref(),
            path.as_os_str(),
        ]);
        assert_code(&out, 0);
    }
}

#[test]
fn closed_stdout_does_not_panic() {
    let dir = scratch("closed_pipe");
    let src = write(
        &dir,
        "loud.src",
        "fn main() {\n    for i in 0..200000 {\n        println(i);\n    }\n}\n",
    );
    let mut child = Command::new(RVM)
        .arg(&src)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rvm");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_no_panic(&out);
    assert!(
        out.status.code().is_some(),
        "killed by a signal: {:?}",
        out.status
    );
}
