//! Every example in `examples/` compiles and runs to completion (exit code 0).

use std::path::Path;
use std::process::Command;

#[test]
fn every_example_runs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut ran = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "src"))
        .collect();
    entries.sort();
    for path in entries {
        let out = Command::new(env!("CARGO_BIN_EXE_rvm"))
            .arg(&path)
            .output()
            .expect("run rvm");
        assert!(
            out.status.success(),
            "{}: {:?}\n{}",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{} printed nothing", path.display());
        ran += 1;
    }
    assert!(ran >= 5, "only {ran} examples");
}

#[test]
fn hello_says_hello() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hello.src");
    let out = Command::new(env!("CARGO_BIN_EXE_rvm"))
        .arg(&path)
        .output()
        .expect("run rvm");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Hello, world!\n");
}

#[test]
fn wordfreq_counts_its_arguments() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/wordfreq.src");
    let out = Command::new(env!("CARGO_BIN_EXE_rvm"))
        .arg(&path)
        .args(["b a c", "a b", "a"])
        .output()
        .expect("run rvm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "6 words, 3 distinct");
    assert!(
        lines[1].starts_with("a ") && lines[1].ends_with(" 3 ###"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("b ") && lines[2].ends_with(" 2 ##"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("c ") && lines[3].ends_with(" 1 #"),
        "{text}"
    );
}

#[test]
fn logreport_runs_with_the_narrowest_grants() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let report = std::env::temp_dir().join(format!("rvm-logreport-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&report);
    let run = |grants: &[String]| {
        Command::new(env!("CARGO_BIN_EXE_rvm"))
            .current_dir(root)
            .args(grants)
            .arg("examples/logreport.src")
            .arg("examples/data/access.log")
            .arg(&report)
            .output()
            .expect("run rvm")
    };
    let read = "--allow-read=examples/data/access.log".to_owned();
    let write = format!("--allow-write={}", report.display());
    // Each grant alone is not enough, and nothing is written without the write grant.
    for grants in [vec![], vec![read.clone()], vec![write.clone()]] {
        let out = run(&grants);
        assert_eq!(out.status.code(), Some(70), "{grants:?}");
        assert!(!report.exists());
    }
    let out = run(&[read, write]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&report).expect("report written");
    let _ = std::fs::remove_file(&report);
    assert!(text.starts_with("requests: 10\n"), "{text}");
    assert!(text.contains("/index.html       3\n"), "{text}");
}

/// The embedding examples, compiled into this test and run in-process (`cargo run
/// --example plugin_host` / `request_handler` run the same code).
#[allow(dead_code)]
#[path = "../examples/plugin_host.rs"]
mod plugin_host;

#[allow(dead_code)]
#[path = "../examples/request_handler.rs"]
mod request_handler;

#[test]
fn plugin_host_example_runs_every_plugin_with_limits() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plugins");
    let out = plugin_host::run(&folder).expect("runs");
    assert!(
        out.contains("skipped broken: does not compile:\n    broken:3:12: mismatched types"),
        "{out}"
    );
    assert!(
        out.contains("runaway    stopped: runtime error: out of fuel"),
        "{out}"
    );
    assert!(out.contains("shout      HELLO PLUGINS!"), "{out}");
    assert!(
        out.contains("wordstats  message #2, 4 distinct words"),
        "{out}"
    );
    assert!(
        out.contains("host log:\n  shouting 13 bytes\n  shouting 24 bytes"),
        "{out}"
    );
}

#[test]
fn request_handler_example_serves_from_several_threads() {
    let s = request_handler::run(3, 40).expect("runs");
    assert_eq!(s.ok + s.not_found + s.limited, 120);
    assert_eq!(
        s.limited, 12,
        "every tenth request spins until its fuel runs out"
    );
    assert_eq!(s.not_found, 12);
}
