//! The sandbox's adversarial battery: every escape attempt and every resource bomb is
//! contained, with the right trap message and exit code, in every `--jit` mode, and the
//! process's peak memory stays within the heap limit plus a small constant.
//!
//! Each test runs the real `rvm` binary on a program written to a fresh temporary
//! directory (the child's working directory), so relative paths, grants and symbolic
//! links behave exactly as for a user.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const MODES: [&str; 3] = ["off", "always", "auto"];

/// A fresh directory with `secret.txt` outside the grant `granted/` (which holds
/// `inside.txt` and a symbolic link `link` to the secret).
struct Fixture {
    dir: PathBuf,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rvm-sandbox-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("granted")).expect("temp dir");
        std::fs::write(dir.join("secret.txt"), "top secret\n").expect("secret");
        std::fs::write(dir.join("granted/inside.txt"), "inside\n").expect("inside");
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.join("secret.txt"), dir.join("granted/link"))
            .expect("symlink");
        Fixture { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.join(p)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a run did.
#[derive(Debug)]
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    /// Peak resident set size of the child, in bytes.
    max_rss: u64,
    elapsed: Duration,
}

impl Outcome {
    fn first_error_line(&self) -> &str {
        self.stderr.lines().next().unwrap_or("")
    }
}

/// Runs `rvm --jit=MODE FLAGS prog.src` in `fx`'s directory, with the child's own peak
/// memory from `wait4`.
fn run(fx: &Fixture, mode: &str, flags: &[&str], source: &str) -> Outcome {
    let prog = fx.path("prog.src");
    std::fs::write(&prog, source).expect("write program");
    let start = Instant::now();
    // Waited for with `wait4` (for its resource usage), not `Child::wait`.
    #[allow(clippy::zombie_processes)]
    let mut child = Command::new(env!("CARGO_BIN_EXE_rvm"))
        .current_dir(&fx.dir)
        .arg(format!("--jit={mode}"))
        .args(flags)
        .arg("prog.src")
        .env("RVM_SECRET", "hunter2")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rvm");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let (code, max_rss) = wait_with_rusage(child.id());
    Outcome {
        code,
        stdout: t_out.join().expect("stdout thread"),
        stderr: t_err.join().expect("stderr thread"),
        max_rss,
        elapsed: start.elapsed(),
    }
}

/// Waits for child `pid` and returns its exit code and peak RSS in bytes.
#[cfg(unix)]
fn wait_with_rusage(pid: u32) -> (i32, u64) {
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (its `Child` is never waited on),
    // and both out-pointers point to live, writable locals of the right types.
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(r, pid as libc::pid_t, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    // Linux reports `ru_maxrss` in KiB.
    (code, usage.ru_maxrss as u64 * 1024)
}

fn assert_trap(o: &Outcome, code: i32, message: &str, what: &str) {
    assert_eq!(
        o.first_error_line(),
        format!("runtime error: {message}"),
        "{what}: stderr was {:?}",
        o.stderr
    );
    assert_eq!(o.code, code, "{what}: {o:?}");
}

// ---- escapes

#[test]
fn read_without_a_grant() {
    let fx = Fixture::new("read");
    for mode in MODES {
        let o = run(
            &fx,
            mode,
            &[],
            "fn main() { println(fs.read_text(\"secret.txt\")); }\n",
        );
        assert_trap(
            &o,
            70,
            "permission denied: fs.read_text(\"secret.txt\") needs --allow-read=secret.txt",
            mode,
        );
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn write_without_a_grant_leaves_nothing() {
    let fx = Fixture::new("write");
    for mode in MODES {
        let o = run(
            &fx,
            mode,
            &[],
            "fn main() { fs.write_text(\"out.txt\", \"data\"); }\n",
        );
        assert_trap(
            &o,
            70,
            "permission denied: fs.write_text(\"out.txt\", ...) needs --allow-write=out.txt",
            mode,
        );
        assert!(!fx.path("out.txt").exists(), "{mode}: file created");
    }
}

#[test]
fn dot_dot_traversal_out_of_the_grant() {
    let fx = Fixture::new("dotdot");
    for mode in MODES {
        let o = run(
            &fx,
            mode,
            &["--allow-read=granted"],
            "fn main() {\n    println(fs.read_text(\"granted/inside.txt\").trim());\n    println(fs.read_text(\"granted/../secret.txt\"));\n}\n",
        );
        assert_eq!(o.stdout, "inside\n", "{mode}: the grant itself works");
        assert_trap(
            &o,
            70,
            "permission denied: fs.read_text(\"granted/../secret.txt\") needs --allow-read=granted/../secret.txt",
            mode,
        );
    }
}

#[test]
fn absolute_path_outside_the_grant() {
    let fx = Fixture::new("abs");
    let secret = fx.path("secret.txt").display().to_string();
    let inside = fx.path("granted/inside.txt").display().to_string();
    for mode in MODES {
        let src = format!(
            "fn main() {{\n    println(fs.read_text(\"{inside}\").trim());\n    println(fs.read_text(\"{secret}\"));\n}}\n"
        );
        let o = run(&fx, mode, &["--allow-read=granted"], &src);
        assert_eq!(
            o.stdout, "inside\n",
            "{mode}: absolute path inside the grant"
        );
        assert_trap(
            &o,
            70,
            &format!("permission denied: fs.read_text(\"{secret}\") needs --allow-read={secret}"),
            mode,
        );
    }
}

#[cfg(unix)]
#[test]
fn symlink_inside_the_grant_pointing_outside() {
    let fx = Fixture::new("symlink");
    for mode in MODES {
        for call in [
            "fs.read_text(\"granted/link\")",
            "fs.exists(\"granted/link\")",
        ] {
            let o = run(
                &fx,
                mode,
                &["--allow-read=granted", "--allow-write=granted"],
                &format!("fn main() {{ println({call}); }}\n"),
            );
            assert_trap(
                &o,
                70,
                &format!("permission denied: {call} needs --allow-read=granted/link"),
                mode,
            );
            assert!(o.stdout.is_empty(), "{mode}: leaked {:?}", o.stdout);
        }
        // Writing through the link must not touch the target either.
        let o = run(
            &fx,
            mode,
            &["--allow-write=granted"],
            "fn main() { fs.write_text(\"granted/link\", \"pwned\"); }\n",
        );
        assert_eq!(o.code, 70, "{mode}: {o:?}");
        assert!(o.first_error_line().contains("permission denied"), "{o:?}");
        assert_eq!(
            std::fs::read_to_string(fx.path("secret.txt")).expect("secret"),
            "top secret\n"
        );
    }
}

#[test]
fn write_with_only_a_read_grant() {
    let fx = Fixture::new("readonly");
    for mode in MODES {
        let o = run(
            &fx,
            mode,
            &["--allow-read=granted"],
            "fn main() { fs.write_text(\"granted/new.txt\", \"x\"); }\n",
        );
        assert_trap(
            &o,
            70,
            "permission denied: fs.write_text(\"granted/new.txt\", ...) needs --allow-write=granted/new.txt",
            mode,
        );
        assert!(!fx.path("granted/new.txt").exists());
    }
}

#[test]
fn environment_variable_not_granted() {
    let fx = Fixture::new("env");
    for mode in MODES {
        let src = "fn main() { println(env.get(\"RVM_SECRET\", \"unset\")); }\n";
        let o = run(&fx, mode, &["--allow-env=HOME"], src);
        assert_trap(
            &o,
            70,
            "permission denied: env.get(\"RVM_SECRET\", ...) needs --allow-env=RVM_SECRET",
            mode,
        );
        // Granted by name it works; a deny wins over allow-all.
        let o = run(&fx, mode, &["--allow-env=RVM_SECRET"], src);
        assert_eq!(o.stdout, "hunter2\n", "{mode}: {o:?}");
        let o = run(&fx, mode, &["-A", "--deny-env=RVM_SECRET"], src);
        assert_eq!(o.code, 70, "{mode}: {o:?}");
    }
}

// ---- limits

const SPIN: &str = "fn main() {\n    var i = 0;\n    while true {\n        i += 1;\n    }\n}\n";

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let fx = Fixture::new("fuel");
    for mode in MODES {
        let o = run(&fx, mode, &["--fuel", "1000000"], SPIN);
        assert_trap(&o, 73, "out of fuel", mode);
    }
}

#[test]
fn infinite_loop_times_out() {
    let fx = Fixture::new("timeout");
    for mode in MODES {
        let o = run(&fx, mode, &["--timeout", "300ms"], SPIN);
        assert_trap(&o, 74, "timeout", mode);
        assert!(
            o.elapsed < Duration::from_secs(10),
            "{mode}: {:?}",
            o.elapsed
        );
        assert!(
            o.elapsed >= Duration::from_millis(300),
            "{mode}: {:?}",
            o.elapsed
        );
    }
}

#[test]
fn infinite_loop_of_calls() {
    let fx = Fixture::new("calls");
    let src = "fn step(x: int) -> int { return x + 1; }\nfn main() {\n    var i = 0;\n    while true {\n        i = step(i);\n    }\n}\n";
    for mode in MODES {
        let o = run(&fx, mode, &["--fuel", "500000"], src);
        assert_trap(&o, 73, "out of fuel", mode);
        let o = run(&fx, mode, &["--timeout", "200ms"], src);
        assert_trap(&o, 74, "timeout", mode);
    }
}

/// The heap limit of the memory bombs, and what the process may use beyond it (the
/// binary, the allocator's slack and one object being made).
const HEAP: u64 = 64 << 20;
const SLACK: u64 = 48 << 20;

#[test]
fn allocation_bomb_of_arrays() {
    let fx = Fixture::new("arrays");
    let src = "fn main() {\n    var keep: [[int]] = [];\n    while true {\n        keep.push(array(100000, 7));\n    }\n}\n";
    for mode in MODES {
        let o = run(&fx, mode, &["--max-heap", "64M"], src);
        assert_trap(&o, 72, "out of memory", mode);
        assert!(
            o.max_rss <= HEAP + SLACK,
            "{mode}: peak {} MiB",
            o.max_rss >> 20
        );
    }
}

#[test]
fn string_that_doubles_forever() {
    let fx = Fixture::new("strings");
    let src = "fn main() {\n    var s = \"x\";\n    while true {\n        s = s + s;\n    }\n}\n";
    for mode in MODES {
        let o = run(&fx, mode, &["--max-heap", "64M"], src);
        assert_trap(&o, 72, "out of memory", mode);
        assert!(
            o.max_rss <= HEAP + SLACK,
            "{mode}: peak {} MiB",
            o.max_rss >> 20
        );
    }
}

#[test]
fn printing_a_container_cannot_escape_the_heap_limit() {
    // A container's text can dwarf the container: one big string shared by many elements,
    // or a DAG whose text doubles at every level (2^64 leaves here). Formatting is bounded
    // by the heap's room, so both end in `out of memory` instead of eating the machine.
    let fx = Fixture::new("print-bomb");
    let shared = "fn main() {\n    let xs = array(2000, \"x\".repeat(100000));\n    println(str(xs).len());\n}\n";
    let dag = "struct T { kids: [T] }\nfn main() {\n    var t = T(kids: []);\n    for i in 0..64 {\n        t = T(kids: [t, t]);\n    }\n    println(t);\n}\n";
    for src in [shared, dag] {
        for mode in MODES {
            let o = run(&fx, mode, &["--max-heap", "4M"], src);
            assert_trap(&o, 72, "out of memory", mode);
            assert!(
                o.max_rss <= (4 << 20) + SLACK,
                "{mode}: peak {} MiB",
                o.max_rss >> 20
            );
        }
    }
}

#[test]
fn single_huge_allocations_are_refused_up_front() {
    let fx = Fixture::new("huge");
    for src in [
        "fn main() { println(array(1 << 40, 0).len()); }\n",
        "fn main() { println(\"x\".repeat(1 << 40).len()); }\n",
        "fn main() { println(\"ab\".repeat(1 << 26).len()); }\n",
    ] {
        for mode in MODES {
            let o = run(&fx, mode, &["--max-heap", "64M"], src);
            assert_trap(&o, 72, "out of memory", mode);
            assert!(
                o.max_rss <= HEAP + SLACK,
                "{mode}: peak {} MiB",
                o.max_rss >> 20
            );
        }
    }
}

#[test]
fn garbage_does_not_count_against_the_limit() {
    let fx = Fixture::new("garbage");
    // 10 000 × 800 KB of short-lived arrays: far more than the limit in total.
    let src = "fn main() {\n    var total = 0;\n    for i in 0..10000 {\n        let a = array(100000, i);\n        total += a[99999];\n    }\n    println(total);\n}\n";
    for mode in MODES {
        let o = run(&fx, mode, &["--max-heap", "16M"], src);
        assert_eq!(o.stdout, "49995000\n", "{mode}: {o:?}");
        assert_eq!(o.code, 0);
    }
}

#[test]
fn unbounded_recursion() {
    let fx = Fixture::new("recursion");
    let src = "fn down(n: int) -> int {\n    return down(n + 1) + 1;\n}\nfn main() {\n    println(down(0));\n}\n";
    for mode in MODES {
        let o = run(&fx, mode, &[], src);
        assert_trap(&o, 71, "stack overflow (call depth limit 10000)", mode);
        let o = run(&fx, mode, &["--max-stack", "100"], src);
        assert_trap(&o, 71, "stack overflow (call depth limit 100)", mode);
    }
}

// ---- grants that work

#[test]
fn granted_file_operations_work() {
    let fx = Fixture::new("granted");
    let src = "fn main() {\n    fs.mkdir(\"granted/sub\");\n    fs.write_text(\"granted/sub/a.txt\", \"one\\n\");\n    fs.append_text(\"granted/sub/a.txt\", \"two\\n\");\n    print(fs.read_text(\"granted/sub/a.txt\"));\n    println(fs.list_dir(\"granted/sub\"));\n    println(fs.exists(\"granted/sub/b.txt\"));\n    fs.remove(\"granted/sub/a.txt\");\n    println(fs.exists(\"granted/sub/a.txt\"));\n}\n";
    for mode in MODES {
        let o = run(
            &fx,
            mode,
            &["--allow-read=granted", "--allow-write=granted"],
            src,
        );
        assert_eq!(
            o.stdout, "one\ntwo\n[\"a.txt\"]\nfalse\nfalse\n",
            "{mode}: {o:?}"
        );
    }
}

#[test]
fn deny_read_wins_over_allow_read() {
    let fx = Fixture::new("deny");
    let src = "fn main() { println(fs.read_text(\"granted/inside.txt\")); }\n";
    let o = run(&fx, "off", &["--allow-read", "--deny-read=granted"], src);
    assert_eq!(o.code, 70, "{o:?}");
    assert!(
        o.first_error_line().contains("is refused by --deny-read="),
        "{o:?}"
    );
}

#[test]
fn time_random_and_seed() {
    let fx = Fixture::new("random");
    let src = "fn main() {\n    println(random.int(0, 1000000));\n    println(random.float() < 1.0);\n}\n";
    let o = run(&fx, "off", &[], src);
    assert_trap(
        &o,
        70,
        "permission denied: random.int(0, 1000000) needs --allow-random",
        "random",
    );
    let a = run(&fx, "off", &["--allow-random", "--seed", "42"], src);
    let b = run(&fx, "always", &["--allow-random", "--seed", "42"], src);
    assert_eq!(a.code, 0, "{a:?}");
    assert_eq!(a.stdout, b.stdout);
    let o = run(&fx, "off", &[], "fn main() { println(time.now_ms()); }\n");
    assert_trap(
        &o,
        70,
        "permission denied: time.now_ms() needs --allow-time",
        "time",
    );
    let o = run(
        &fx,
        "off",
        &["--allow-time"],
        "fn main() { println(time.now_ms() > 0 && time.monotonic_ns() >= 0); }\n",
    );
    assert_eq!(o.stdout, "true\n", "{o:?}");
}

#[test]
fn stdin_is_granted_by_default_and_can_be_denied() {
    let fx = Fixture::new("stdin");
    let prog = fx.path("prog.src");
    std::fs::write(
        &prog,
        "fn main() {\n    let first = io.read_line();\n    print(first.upper());\n    print(io.read_all());\n    println(io.read_line() == \"\");\n}\n",
    )
    .expect("write");
    let run_with = |flags: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rvm"))
            .args(flags)
            .arg(&prog)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        use std::io::Write;
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(b"one\ntwo\nthree").expect("write stdin");
        drop(input);
        child.wait_with_output().expect("wait")
    };
    let o = run_with(&[]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "ONE\ntwo\nthreetrue\n");
    let o = run_with(&["--deny-stdin"]);
    assert_eq!(o.status.code(), Some(70));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .starts_with("runtime error: permission denied: io.read_line() needs --allow-stdin")
    );
}

#[test]
fn inspect_lists_imports_by_capability() {
    let fx = Fixture::new("inspect");
    let prog = fx.path("prog.src");
    std::fs::write(
        &prog,
        "fn main() {\n    println(fs.read_text(\"a\"));\n    println(env.get(\"A\", \"\"));\n    println(os.args());\n}\n",
    )
    .expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_rvm"))
        .arg("inspect")
        .arg(&prog)
        .output()
        .expect("inspect");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("imports by capability:\n  always allowed\n    os.args: fn() -> [str]\n  read (--allow-read[=...])\n    fs.read_text: fn(str) -> str\n  env (--allow-env[=...])\n    env.get: fn(str, str) -> str\n"),
        "{text}"
    );
}

#[test]
fn a_grant_that_cannot_be_opened_is_a_usage_error() {
    let fx = Fixture::new("badgrant");
    let o = run(&fx, "off", &["--allow-read=no/such/dir"], "fn main() {}\n");
    assert_eq!(o.code, 64, "{o:?}");
    assert!(
        o.stderr.contains("cannot grant --allow-read=no/such/dir"),
        "{o:?}"
    );
    let _ = Path::new(".");
}
