//! `EngineConfig::jit_background`: a sandbox of such an engine compiles on a thread of its
//! own (one more thread in the process while the sandbox lives), gives the same results as
//! one that compiles synchronously, and leaves no thread behind once dropped.
//!
//! A test binary of its own, with one test: it counts the process's threads, which other
//! tests running alongside would change.

use rvm::{Engine, EngineConfig, JitMode, Module, Sandbox};

/// The threads of this process (Linux: `/proc/self/task`).
fn threads() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/task").ok()?.count())
}

const SRC: &str = r#"
fn sum(n: int) -> int {
    var total = 0;
    for i in 0..n { total += i * i % 7; }
    return total;
}
"#;

#[test]
fn background_sandboxes_compile_on_their_own_thread() {
    let mut sums = Vec::new();
    for background in [false, true] {
        let engine = Engine::new(EngineConfig {
            jit: JitMode::Auto,
            jit_background: background,
            ..EngineConfig::default()
        });
        let m = Module::new(&engine, "bg.src", SRC).expect("compiles");
        let before = threads();
        let mut sb = Sandbox::builder(&m).build().expect("sandbox");
        // Long enough, interpreted, for the compilation to finish meanwhile.
        let sum = sb.call::<_, i64>("sum", (3_000_000,)).expect("runs");
        let during = threads();
        let stats = sb.jit_stats();
        assert!(stats.compiled >= 1, "background {background}: {stats:?}");
        assert_eq!(stats.osr_entries, 1, "background {background}: {stats:?}");
        drop(sb);
        if let (Some(before), Some(during)) = (before, during) {
            assert_eq!(
                during,
                before + usize::from(background),
                "background {background}"
            );
            // The thread ends once its sandbox is gone (it may be finishing a job).
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while threads() != Some(before) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            assert_eq!(threads(), Some(before), "background {background}");
        }
        sums.push(sum);
    }
    assert_eq!(sums[0], sums[1]);
}
