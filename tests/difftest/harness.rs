//! Runs one generated program under every execution configuration and compares what is
//! observable: standard output, standard error, the trap (message and stack trace) and
//! the exit status. Shared by `tests/difftest.rs` and `fuzz/fuzz_targets/difftest.rs`.
//!
//! Configurations: `JitMode::Off` (the reference), `Always`, `Auto`, and `Always` and `Auto`
//! with the collector running at every allocation (`gc_stress`, where the stack maps of
//! native frames, and of frames moved between tiers mid-loop, are put to the test). Every run has fuel, a heap limit and a call depth limit as a
//! backstop; fuel is deterministic in every tier (`spec/sandbox.md`), so even an
//! `out of fuel` trap must agree. A wall-clock timeout catches a hang, which is never
//! compared (it is not deterministic) but reported as a failure.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use rvm::vm::interpreter::SharedBuffer;
use rvm::vm::sandbox::Limits;
use rvm::vm::verified::VerifiedModule;
use rvm::{JitMode, RunOptions, TrapKind};

/// The call depth limit of every run (the generator's `deep(n)` calls go past it).
pub const MAX_STACK: u32 = 1000;
/// `--jit-threshold` of the `auto` runs: calls plus back-edges before a function is
/// compiled. Generated loops make at most six trips, so the default (1000) would rarely
/// switch tiers.
pub const AUTO_THRESHOLD: u32 = 3;
/// Fuel of every run: far more than the generator's cost budgets allow for.
pub const FUEL: u64 = 20_000_000;

/// One way of running a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub jit: JitMode,
    pub gc_stress: bool,
    /// Fuel instead of the default [`FUEL`] (a small amount, to stop the program in the
    /// middle: fuel is charged identically in every tier, so it must stop at the same
    /// point, with the same output and stack trace).
    pub fuel: Option<u64>,
}

impl Config {
    pub fn name(self) -> String {
        let fuel = self
            .fuel
            .map(|f| format!(" --fuel {f}"))
            .unwrap_or_default();
        format!(
            "--jit={}{fuel}{}",
            self.jit.name(),
            if self.gc_stress { " (gc stress)" } else { "" }
        )
    }
}

/// The configurations compared; the first is the reference.
pub const CONFIGS: [Config; 5] = [
    Config {
        jit: JitMode::Off,
        gc_stress: false,
        fuel: None,
    },
    Config {
        jit: JitMode::Always,
        gc_stress: false,
        fuel: None,
    },
    Config {
        jit: JitMode::Auto,
        gc_stress: false,
        fuel: None,
    },
    Config {
        jit: JitMode::Always,
        gc_stress: true,
        fuel: None,
    },
    Config {
        jit: JitMode::Auto,
        gc_stress: true,
        fuel: None,
    },
];

/// Everything observable about one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    /// `Ok(exit status)` or `Err(the trap as rvm prints it: message and stack trace)`.
    pub result: Result<u8, String>,
    /// The process exit code `rvm` would use.
    pub exit_code: i32,
}

/// Why a program failed the check.
#[derive(Debug)]
pub enum Failure {
    /// The generator wrote a program the compiler rejects (a generator bug, or a
    /// compiler bug: read the diagnostics).
    Compile(String),
    /// The compiler emitted a module the verifier rejects.
    Verify(String),
    /// The VM panicked.
    Panic { config: String, message: String },
    /// A run hit the wall-clock backstop.
    Timeout { config: String },
    /// Two configurations disagree.
    Mismatch {
        reference: String,
        config: String,
        difference: String,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Compile(d) => write!(f, "the generated program does not compile:\n{d}"),
            Failure::Verify(e) => write!(f, "the compiled program does not verify: {e}"),
            Failure::Panic { config, message } => {
                write!(f, "the VM panicked under {config}: {message}")
            }
            Failure::Timeout { config } => write!(f, "the program timed out under {config}"),
            Failure::Mismatch {
                reference,
                config,
                difference,
            } => write!(f, "{reference} and {config} disagree: {difference}"),
        }
    }
}

/// What a passing check saw (for the driver's statistics).
#[derive(Clone, Debug)]
pub struct Summary {
    /// The reference outcome.
    pub outcome: Outcome,
}

/// Compiles and verifies `src`.
pub fn compile(src: &str) -> Result<Arc<VerifiedModule>, Failure> {
    let compiled = rvm::compile_source("gen.src", src)
        .map_err(|f| Failure::Compile(f.diagnostics.render_short(&f.sources)))?;
    let verified = rvm::verify(compiled.module).map_err(|e| Failure::Verify(e.to_string()))?;
    Ok(Arc::new(verified))
}

/// The options of a run under `config`.
pub fn options(config: Config) -> RunOptions {
    RunOptions {
        jit: config.jit,
        gc_stress: config.gc_stress,
        max_stack: MAX_STACK,
        limits: Limits {
            fuel: Some(config.fuel.unwrap_or(FUEL)),
            timeout: Some(Duration::from_secs(60)),
            max_heap: 64 << 20,
        },
        seed: Some(1),
        // Compile after a few calls or back-edges, so `auto` switches tiers mid-run (in
        // the middle of loops, through on-stack replacement) in most programs.
        jit_threshold: AUTO_THRESHOLD,
        ..RunOptions::default()
    }
}

/// Runs the module once; a panic is caught and returned as its message.
pub fn run(module: &Arc<VerifiedModule>, options: &RunOptions) -> Result<Outcome, String> {
    let (out, err) = (SharedBuffer::new(), SharedBuffer::new());
    let result = catch_unwind(AssertUnwindSafe(|| {
        rvm::run_with_output(
            Arc::clone(module),
            options,
            Box::new(out.clone()),
            Box::new(err.clone()),
        )
    }))
    .map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "(non-string panic payload)".into())
    })?;
    let (result, exit_code) = match result {
        Ok(code) => (Ok(code), i32::from(code)),
        Err(trap) if trap.kind == TrapKind::Timeout => (Err("timeout".into()), -1),
        Err(trap) => (Err(trap.to_string()), trap.exit_code()),
    };
    Ok(Outcome {
        stdout: out.contents(),
        stderr: err.contents(),
        result,
        exit_code,
    })
}

/// The first difference between two outcomes, described for a person; `None` if equal.
pub fn compare(a: &Outcome, b: &Outcome) -> Option<String> {
    if a.exit_code != b.exit_code {
        return Some(format!("exit code {} vs {}", a.exit_code, b.exit_code));
    }
    if a.result != b.result {
        return Some(format!("result {:?}\nvs     {:?}", a.result, b.result));
    }
    for (what, x, y) in [
        ("stdout", &a.stdout, &b.stdout),
        ("stderr", &a.stderr, &b.stderr),
    ] {
        if x != y {
            return Some(first_diff(what, x, y));
        }
    }
    None
}

/// The first differing line of two texts, with its line number.
fn first_diff(what: &str, x: &str, y: &str) -> String {
    let (xl, yl): (Vec<&str>, Vec<&str>) = (x.lines().collect(), y.lines().collect());
    for i in 0..xl.len().max(yl.len()) {
        let (l, r) = (xl.get(i), yl.get(i));
        if l != r {
            return format!(
                "{what} line {}: {:?}\nvs {:?}",
                i + 1,
                l.unwrap_or(&"<end>"),
                r.unwrap_or(&"<end>")
            );
        }
    }
    format!("{what} differs only in its final newline")
}

/// Compiles `src` and runs it under every configuration of [`CONFIGS`], comparing each
/// with the first; then, if `fuel` is given, under `off`, `always` and `auto` with only
/// that much fuel, comparing those three.
pub fn check(src: &str, fuel: Option<u64>) -> Result<Summary, Failure> {
    check_with(
        src,
        &CONFIGS,
        &[JitMode::Off, JitMode::Always, JitMode::Auto],
        fuel,
    )
}

/// [`check`] with a choice of configurations (the fuzz target, whose instrumented build
/// compiles slowly, runs fewer): `configs` with the default fuel, then `starved` with
/// `fuel` if given.
pub fn check_with(
    src: &str,
    configs: &[Config],
    starved: &[JitMode],
    fuel: Option<u64>,
) -> Result<Summary, Failure> {
    let module = compile(src)?;
    let summary = check_module(&module, configs)?;
    if let Some(fuel) = fuel {
        let starved: Vec<Config> = starved
            .iter()
            .map(|&jit| Config {
                jit,
                gc_stress: false,
                fuel: Some(fuel),
            })
            .collect();
        check_module(&module, &starved)?;
    }
    Ok(summary)
}

/// Runs a compiled module under `configs`, comparing each with the first.
pub fn check_module(module: &Arc<VerifiedModule>, configs: &[Config]) -> Result<Summary, Failure> {
    let mut reference: Option<Outcome> = None;
    for &config in configs {
        let outcome = run(module, &options(config)).map_err(|message| Failure::Panic {
            config: config.name(),
            message,
        })?;
        if outcome.result.as_ref().is_err_and(|t| t == "timeout") {
            return Err(Failure::Timeout {
                config: config.name(),
            });
        }
        match &reference {
            None => reference = Some(outcome),
            Some(r) => {
                if let Some(difference) = compare(r, &outcome) {
                    return Err(Failure::Mismatch {
                        reference: configs[0].name(),
                        config: config.name(),
                        difference,
                    });
                }
            }
        }
    }
    Ok(Summary {
        outcome: reference.expect("at least one configuration"),
    })
}
