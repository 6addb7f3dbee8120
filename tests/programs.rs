//! Runs every program in `tests/programs/**/*.src` against the `rvm` and `rvmc` binaries and
//! checks the expectations written in its comments (see `tests/programs/README.md`).
//!
//! Each program that should run is executed with `rvm --jit=off|always|auto FILE.src`, with
//! `--jit=auto --jit-threshold=2` (compiling hot code and entering loops by on-stack
//! replacement), with `--gc-stress` in both tiers (`off` and `always`), and once through
//! `rvmc build` + `rvm FILE.bc`.
//! Programs with `// error:` comments are checked with
//! `rvmc check --message-format=short`. A filter (a substring of the path) can be given as
//! the first argument or in `RVM_TEST_FILTER`.

use std::io::Read;

/// Programs not run with `--gc-stress`: collecting at every one of their allocations is
/// quadratic (`deep_nesting` builds a 220000-deep structure, and each collection traces all
/// of it), minutes in a debug build. `gc/` programs cover the collector under stress.
const GC_STRESS_SKIP: &[&str] = &["printing/deep_nesting.src"];
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

const RVM: &str = env!("CARGO_BIN_EXE_rvm");
const RVMC: &str = env!("CARGO_BIN_EXE_rvmc");
const TIMEOUT: Duration = Duration::from_secs(120);
const WORKERS: usize = 2;

/// What a test program's comments ask for.
#[derive(Debug, Default)]
struct Expectations {
    stdout: Vec<String>,
    runtime_error: Option<String>,
    /// (line, message substring)
    compile_errors: Vec<(usize, String)>,
    exit: Option<i32>,
    args: Vec<String>,
}

fn parse_expectations(text: &str) -> Result<Expectations, String> {
    let mut e = Expectations::default();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if let Some(at) = line.find("// expect runtime error:") {
            let msg = line[at + "// expect runtime error:".len()..].trim();
            if e.runtime_error.replace(msg.to_owned()).is_some() {
                return Err(format!("line {lineno}: a second `expect runtime error`"));
            }
        } else if let Some(at) = line.find("// expect:") {
            let rest = &line[at + "// expect:".len()..];
            e.stdout
                .push(rest.strip_prefix(' ').unwrap_or(rest).to_owned());
        } else if let Some(at) = line.find("// error:") {
            let msg = line[at + "// error:".len()..].trim();
            e.compile_errors.push((lineno, msg.to_owned()));
        } else if let Some(at) = line.find("// exit:") {
            let n = line[at + "// exit:".len()..].trim();
            let n: i32 = n
                .parse()
                .map_err(|_| format!("line {lineno}: bad exit code `{n}`"))?;
            e.exit = Some(n);
        } else if let Some(at) = line.find("// args:") {
            e.args = line[at + "// args:".len()..]
                .split_whitespace()
                .map(str::to_owned)
                .collect();
        }
    }
    if !e.compile_errors.is_empty() && (!e.stdout.is_empty() || e.runtime_error.is_some()) {
        return Err("a program cannot expect both compile errors and output".into());
    }
    Ok(e)
}

/// The result of one process run.
struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    timed_out: bool,
}

fn run(cmd: &mut Command) -> Output {
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return Output {
                code: None,
                stdout: String::new(),
                stderr: format!("cannot spawn {cmd:?}: {e}"),
                timed_out: false,
            };
        }
    };
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                timed_out = true;
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => break None,
        }
    };
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    Output {
        code: status.and_then(|s| s.code()),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        timed_out,
    }
}

fn describe_exit(out: &Output) -> String {
    if out.timed_out {
        return format!("timed out after {}s", TIMEOUT.as_secs());
    }
    match out.code {
        Some(c) => format!("exit code {c}"),
        None => "killed by a signal".to_owned(),
    }
}

/// Checks one run of a program that should compile.
fn check_run(label: &str, exp: &Expectations, out: &Output) -> Result<(), String> {
    let mut problems = Vec::new();
    let actual: Vec<&str> = out.stdout.lines().collect();
    if actual != exp.stdout.iter().map(String::as_str).collect::<Vec<_>>() {
        problems.push(stdout_diff(&exp.stdout, &actual));
    }
    let want_code = match &exp.runtime_error {
        Some(_) if exp.exit.is_some() => exp.exit.unwrap_or(70),
        Some(msg) if msg.starts_with("stack overflow") => 71,
        Some(msg) if msg == "out of memory" => 72,
        Some(_) => 70,
        None => exp.exit.unwrap_or(0),
    };
    if out.code != Some(want_code) || out.timed_out {
        problems.push(format!(
            "expected exit code {want_code}, got {}",
            describe_exit(out)
        ));
    }
    if let Some(msg) = &exp.runtime_error {
        let want = format!("runtime error: {msg}");
        let first = out.stderr.lines().next().unwrap_or("");
        if first != want {
            problems.push(format!(
                "expected stderr to start with\n    {want}\n  got\n    {first}"
            ));
        } else if !msg.starts_with("exit code")
            && !out
                .stderr
                .lines()
                .nth(1)
                .unwrap_or("")
                .starts_with("    at ")
        {
            // (An out-of-range result of `main` is found after main returned: no frames.)
            problems.push("the trap report has no stack trace (`    at ...` lines)".into());
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let mut report = format!("[{label}]\n  {}", problems.join("\n  "));
    let stderr: String = out
        .stderr
        .lines()
        .take(15)
        .collect::<Vec<_>>()
        .join("\n    ");
    if !stderr.is_empty() {
        report.push_str(&format!("\n  stderr:\n    {stderr}"));
    }
    Err(report)
}

fn stdout_diff(expected: &[String], actual: &[&str]) -> String {
    let mut s = String::from("stdout differs (- expected, + actual):");
    let n = expected.len().max(actual.len());
    let mut shown = 0;
    for i in 0..n {
        let e = expected.get(i).map(String::as_str);
        let a = actual.get(i).copied();
        if e == a {
            continue;
        }
        if shown == 12 {
            s.push_str("\n    ...");
            break;
        }
        shown += 1;
        if let Some(e) = e {
            s.push_str(&format!("\n    line {:>3} - {e}", i + 1));
        }
        if let Some(a) = a {
            s.push_str(&format!("\n    line {:>3} + {a}", i + 1));
        }
    }
    s
}

/// A diagnostic line `FILE:LINE:COLUMN: error: MESSAGE`.
fn parse_short_diagnostic(line: &str) -> Option<(String, usize, String)> {
    let (head, message) = line.split_once(": error: ")?;
    let mut parts = head.rsplitn(3, ':');
    let _col: usize = parts.next()?.parse().ok()?;
    let lineno: usize = parts.next()?.parse().ok()?;
    let file = parts.next()?.to_owned();
    Some((file, lineno, message.to_owned()))
}

fn check_compile_errors(path: &Path, exp: &Expectations, out: &Output) -> Result<(), String> {
    let mut problems = Vec::new();
    if out.code != Some(65) {
        problems.push(format!("expected exit code 65, got {}", describe_exit(out)));
    }
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let diags: Vec<(String, usize, String)> = out
        .stderr
        .lines()
        .chain(out.stdout.lines())
        .filter_map(parse_short_diagnostic)
        .collect();
    for (line, msg) in &exp.compile_errors {
        let found = diags
            .iter()
            .any(|(f, l, m)| f.ends_with(file_name.as_ref()) && l == line && m.contains(msg));
        if !found {
            problems.push(format!("missing error on line {line} containing `{msg}`"));
        }
    }
    for (f, l, m) in &diags {
        let expected =
            f.ends_with(file_name.as_ref()) && exp.compile_errors.iter().any(|(line, _)| line == l);
        if !expected {
            problems.push(format!("unexpected error {f}:{l}: {m}"));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let stderr: String = out
        .stderr
        .lines()
        .take(20)
        .collect::<Vec<_>>()
        .join("\n    ");
    Err(format!(
        "[rvmc check --message-format=short]\n  {}\n  output:\n    {stderr}",
        problems.join("\n  ")
    ))
}

/// Runs every check for one program; returns the failure reports.
fn test_program(root: &Path, rel: &Path, tmp: &Path) -> Vec<String> {
    let path = root.join(rel);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => return vec![format!("cannot read: {e}")],
    };
    let exp = match parse_expectations(&text) {
        Ok(e) => e,
        Err(e) => return vec![format!("bad test comments: {e}")],
    };
    let shown = Path::new("tests/programs").join(rel);
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();

    if !exp.compile_errors.is_empty() {
        let out = run(Command::new(RVMC)
            .current_dir(manifest)
            .args(["check", "--message-format=short", "--color=never"])
            .arg(&shown));
        if let Err(e) = check_compile_errors(&path, &exp, &out) {
            failures.push(e);
        }
        let out = run(Command::new(RVM).current_dir(manifest).arg(&shown));
        if out.code != Some(65) {
            failures.push(format!(
                "[rvm FILE.src] expected exit code 65, got {}",
                describe_exit(&out)
            ));
        }
        return failures;
    }

    // Every tier, `auto` also with a threshold low enough that hot functions are compiled
    // and loops entered by on-stack replacement mid-run, and a collection at every
    // allocation in both tiers.
    let modes: Vec<Vec<String>> = [
        &["--jit=off"][..],
        &["--jit=always"],
        &["--jit=auto"],
        &["--jit=auto", "--jit-threshold=2"],
        &["--jit=off", "--gc-stress"],
        &["--jit=always", "--gc-stress"],
    ]
    .iter()
    .filter(|m| !(m.contains(&"--gc-stress") && GC_STRESS_SKIP.iter().any(|p| rel.ends_with(p))))
    .map(|m| m.iter().map(|s| s.to_string()).collect())
    .collect();
    for flags in &modes {
        let out = run(Command::new(RVM)
            .current_dir(manifest)
            .args(flags)
            .arg(&shown)
            .args(&exp.args));
        if let Err(e) = check_run(&format!("rvm {} FILE.src", flags.join(" ")), &exp, &out) {
            failures.push(e);
        }
    }

    let bc = tmp
        .join(rel.to_string_lossy().replace(['/', '\\'], "__"))
        .with_extension("bc");
    let build = run(Command::new(RVMC)
        .current_dir(manifest)
        .args(["build", "--color=never"])
        .arg(&shown)
        .arg("-o")
        .arg(&bc));
    if build.code != Some(0) {
        failures.push(format!(
            "[rvmc build] failed with {}:\n    {}",
            describe_exit(&build),
            build
                .stderr
                .lines()
                .take(10)
                .collect::<Vec<_>>()
                .join("\n    ")
        ));
    } else {
        let out = run(Command::new(RVM)
            .current_dir(manifest)
            .arg(&bc)
            .args(&exp.args));
        if let Err(e) = check_run("rvm FILE.bc", &exp, &out) {
            failures.push(e);
        }
    }
    failures
}

fn collect(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "lib") {
                continue;
            }
            collect(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "src") {
            out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs");
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("programs");
    std::fs::create_dir_all(&tmp).expect("create the temporary folder");

    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .or_else(|| std::env::var("RVM_TEST_FILTER").ok())
        .unwrap_or_default();
    let mut programs = Vec::new();
    collect(&root, &root, &mut programs);
    programs.retain(|p| p.to_string_lossy().contains(&filter));
    let total = programs.len();
    println!("running {total} test programs");

    let queue = Arc::new(Mutex::new(programs));
    let (tx, rx) = mpsc::channel();
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let queue = Arc::clone(&queue);
        let tx = tx.clone();
        let root = root.clone();
        let tmp = tmp.clone();
        workers.push(std::thread::spawn(move || {
            loop {
                let next = queue.lock().map(|mut q| q.pop()).unwrap_or(None);
                let Some(rel) = next else { break };
                let failures = test_program(&root, &rel, &tmp);
                if tx.send((rel, failures)).is_err() {
                    break;
                }
            }
        }));
    }
    drop(tx);

    let mut failed = Vec::new();
    for (rel, failures) in rx {
        if failures.is_empty() {
            println!("ok      {}", rel.display());
        } else {
            println!("FAILED  {}", rel.display());
            failed.push((rel, failures));
        }
    }
    for w in workers {
        let _ = w.join();
    }

    failed.sort();
    for (rel, failures) in &failed {
        println!("\n---- tests/programs/{} ----", rel.display());
        for f in failures {
            println!("{f}");
        }
    }
    let passed = total - failed.len();
    println!("\n{passed} passed, {} failed", failed.len());
    if !failed.is_empty() {
        std::process::exit(1);
    }
}
