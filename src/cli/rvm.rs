//! `rvm`: run a program (bytecode or source), or look inside a `.bc` file.
//!
//! `rvm FILE [ARGS...]` and `rvm run FILE [ARGS...]` run; `rvm disasm FILE` and
//! `rvm inspect FILE` print. Everything after the program file belongs to the program, so
//! `rvm app.bc --help` passes `--help` to `app`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rvm_vm::sandbox::{Capabilities, Grants, Limits, Scope};

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use super::{Failure, exit, input, output};
use crate::{JitMode, RunOptions};

const EXAMPLES: &str = "\
Permissions (deny by default; a denied call stops the program with
`permission denied: fs.read_text(\"/etc/passwd\") needs --allow-read=/etc/passwd`):
  standard output and error, os.args() and os.exit() are always allowed; standard input
  is allowed unless --deny-stdin. A path grant covers the path and everything beneath it;
  `..`, absolute paths and symbolic links cannot leave it. --deny-* wins over --allow-*.

Limits (each a distinct trap and exit code):
  --fuel N           work units (1 per call, loop body length per iteration)  -> 73
  --timeout 5s       wall-clock time (ms, s, m)                               -> 74
  --max-heap 64M     live heap bytes (K, M, G; default 2G)                    -> 72
  --max-stack N      call depth (default 10000)                               -> 71

Examples:
  rvm hello.src                 compile in memory, then run
  rvm app.bc input.txt -v       run bytecode; `input.txt -v` are the program's arguments
  rvm --allow-read=data --allow-write=out/report.txt report.src data/in.txt
                                read under data/, write only out/report.txt
  rvm --allow-env=HOME,USER app.bc
                                read two environment variables
  rvm --allow-random --seed 42 sim.src
                                reproducible random numbers
  rvm --fuel 1000000 --timeout 2s --max-heap 64M untrusted.bc
                                run untrusted code with hard limits
  rvm --jit=off app.bc          run with the interpreter only
  rvm --max-stack 50000 deep.bc allow deeper recursion
  rvm disasm app.bc             print the bytecode of every function
  rvm inspect app.bc            summarise the module, its imports by capability

Exit codes:
  0-255  the program's own (main's result or os.exit)
  64     usage error            65  compile error (source input)
  66     cannot read the file   67  invalid bytecode (decode or verification)
  70     runtime trap (including permission denied)
  71     stack overflow         72  out of memory
  73     out of fuel            74  timeout";

/// Command-line interface of `rvm`.
#[derive(Debug, Parser)]
#[command(
    name = "rvm",
    version,
    about = "Run rvm programs: `.bc` bytecode, or `.src` source compiled in memory",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    override_usage = "rvm [OPTIONS] FILE [ARGS]...\n       rvm run [OPTIONS] FILE [ARGS]...\n       rvm disasm FILE\n       rvm inspect FILE",
    subcommand_help_heading = "Commands",
    disable_help_subcommand = true
)]
pub struct Cli {
    /// How to run the program.
    #[command(flatten)]
    pub run: RunFlags,
    /// `run`, `disasm` or `inspect`.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The program file (`.bc` or `.src`), then the program's arguments.
    #[arg(
        value_name = "FILE",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub program: Vec<OsString>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a program (the same as `rvm FILE`).
    #[command(after_help = EXAMPLES)]
    Run(Box<RunCommand>),
    /// Print the bytecode of every function.
    Disasm {
        /// A `.bc` file (or a `.src` file, compiled first).
        file: PathBuf,
    },
    /// Summarise a module: its sections, functions, globals and imports.
    Inspect {
        /// A `.bc` file (or a `.src` file, compiled first).
        file: PathBuf,
    },
}

/// `rvm run`.
#[derive(Debug, Args)]
pub struct RunCommand {
    /// How to run the program.
    #[command(flatten)]
    pub run: RunFlags,
    /// The program file (`.bc` or `.src`), then the program's arguments.
    #[arg(
        value_name = "FILE",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true
    )]
    pub program: Vec<OsString>,
}

/// Flags that control a run.
#[derive(Debug, Args, Clone)]
pub struct RunFlags {
    /// JIT mode: `off` interprets only, `auto` compiles hot functions (entering running
    /// loops by on-stack replacement), `always` compiles every function first.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = Jit::Auto)]
    pub jit: Jit,
    /// Calls plus loop back-edges of a function before `--jit=auto` compiles it.
    #[arg(long, value_name = "N", default_value_t = rvm_vm::tier::DEFAULT_JIT_THRESHOLD,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub jit_threshold: u32,
    /// Print each JIT compilation and its time to standard error (also `RVM_LOG=jit`).
    #[arg(long)]
    pub trace_jit: bool,
    /// Compile on the program's own thread, pausing it for each compilation. By default
    /// `--jit=auto` compiles on a background thread while the interpreter goes on, so
    /// which functions are compiled before a short program ends varies from run to run
    /// (its output does not); with this flag it is the same in every run.
    #[arg(long)]
    pub jit_sync: bool,
    /// Call depth limit; a deeper call stops the program with a stack overflow (exit 71).
    #[arg(long, value_name = "N", default_value_t = crate::DEFAULT_MAX_STACK,
          value_parser = clap::value_parser!(u32).range(1..=100_000_000))]
    pub max_stack: u32,
    /// Collect garbage at every allocation (debugging the collector).
    #[arg(long, hide = true)]
    pub gc_stress: bool,
    /// What the program may reach outside itself.
    #[command(flatten)]
    pub perms: PermFlags,
    /// Stop the program after N work units (exit 73).
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub fuel: Option<u64>,
    /// Stop the program after this much wall-clock time, e.g. `500ms`, `5s` (exit 74).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Limits")]
    pub timeout: Option<Duration>,
    /// The most live heap memory, e.g. `64M`, `1G` (exit 72 when exceeded) [default: 2G].
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Limits")]
    pub max_heap: Option<usize>,
    /// Seed `random` for a reproducible run.
    #[arg(long, value_name = "N", help_heading = "Permissions")]
    pub seed: Option<u64>,
}

/// The permission flags, in Deno's form.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Permissions")]
pub struct PermFlags {
    /// Allow reading files under PATHS (all files without a list).
    #[arg(long, value_name = "PATHS", num_args = 0..=1, require_equals = true,
          default_missing_value = "", value_delimiter = ',')]
    pub allow_read: Option<Vec<String>>,
    /// Allow creating, writing and removing files under PATHS (all without a list).
    #[arg(long, value_name = "PATHS", num_args = 0..=1, require_equals = true,
          default_missing_value = "", value_delimiter = ',')]
    pub allow_write: Option<Vec<String>>,
    /// Allow reading the environment variables NAMES (all without a list).
    #[arg(long, value_name = "NAMES", num_args = 0..=1, require_equals = true,
          default_missing_value = "", value_delimiter = ',')]
    pub allow_env: Option<Vec<String>>,
    /// Allow the clocks (`time.now_ms`, `time.monotonic_ns`).
    #[arg(long)]
    pub allow_time: bool,
    /// Allow random numbers (`random.int`, `random.float`).
    #[arg(long)]
    pub allow_random: bool,
    /// Allow standard input (the default; see --deny-stdin).
    #[arg(long)]
    pub allow_stdin: bool,
    /// Allow everything.
    #[arg(short = 'A', long)]
    pub allow_all: bool,
    /// Refuse reading under PATHS (everything without a list), whatever is allowed.
    #[arg(long, value_name = "PATHS", num_args = 0..=1, require_equals = true,
          default_missing_value = "", value_delimiter = ',')]
    pub deny_read: Option<Vec<String>>,
    /// Refuse writing under PATHS (everything without a list), whatever is allowed.
    #[arg(long, value_name = "PATHS", num_args = 0..=1, require_equals = true,
          default_missing_value = "", value_delimiter = ',')]
    pub deny_write: Option<Vec<String>>,
    /// Refuse the environment variables NAMES (all without a list).
    #[arg(long, value_name = "NAMES", num_args = 0..=1, require_equals = true,
          default_missing_value = "", value_delimiter = ',')]
    pub deny_env: Option<Vec<String>>,
    /// Refuse the clocks.
    #[arg(long)]
    pub deny_time: bool,
    /// Refuse random numbers.
    #[arg(long)]
    pub deny_random: bool,
    /// Refuse standard input.
    #[arg(long)]
    pub deny_stdin: bool,
}

impl PermFlags {
    /// The grants these flags ask for. The command line grants standard input unless
    /// `--deny-stdin`; everything else is denied unless allowed.
    pub fn grants(&self) -> Grants {
        fn scope<T>(v: &Option<Vec<String>>, f: impl Fn(&str) -> T) -> Scope<T> {
            match v {
                None => Scope::Nothing,
                Some(items) if items.iter().any(String::is_empty) => Scope::Everything,
                Some(items) => Scope::Only(items.iter().map(|s| f(s)).collect()),
            }
        }
        let path = |s: &str| PathBuf::from(s);
        let name = |s: &str| s.to_owned();
        let mut g = if self.allow_all {
            Grants::all()
        } else {
            Grants::default()
        };
        g.read.extend(scope(&self.allow_read, path));
        g.write.extend(scope(&self.allow_write, path));
        g.env.extend(scope(&self.allow_env, name));
        g.deny_read = scope(&self.deny_read, path);
        g.deny_write = scope(&self.deny_write, path);
        g.deny_env = scope(&self.deny_env, name);
        g.time = (g.time || self.allow_time) && !self.deny_time;
        g.random = (g.random || self.allow_random) && !self.deny_random;
        g.stdin = !self.deny_stdin;
        if g.deny_read == Scope::Everything {
            g.read = Scope::Nothing;
        }
        if g.deny_write == Scope::Everything {
            g.write = Scope::Nothing;
        }
        if g.deny_env == Scope::Everything {
            g.env = Scope::Nothing;
        }
        g
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    rvm_vm::sandbox::parse_duration(s)
        .ok_or_else(|| format!("`{s}` is not a duration (e.g. 500ms, 5s, 2m)"))
}

fn parse_size(s: &str) -> Result<usize, String> {
    rvm_vm::sandbox::parse_size(s)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{s}` is not a size (e.g. 64M, 512K, 2G)"))
}

/// `--jit` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Jit {
    /// Interpret only.
    Off,
    /// Compile hot functions.
    Auto,
    /// Compile every function before it runs.
    Always,
}

impl From<Jit> for JitMode {
    fn from(j: Jit) -> JitMode {
        match j {
            Jit::Off => JitMode::Off,
            Jit::Auto => JitMode::Auto,
            Jit::Always => JitMode::Always,
        }
    }
}

/// Runs `rvm` with the given command line (program name first) and returns the exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> u8 {
    match parse(args) {
        Ok(cli) => match execute(cli) {
            Ok(code) => code,
            Err(f) => {
                if !f.message.is_empty() {
                    output::stderr(&format!("rvm: {}\n", f.message));
                }
                f.code
            }
        },
        Err(code) => code,
    }
}

/// Parses the command line; help and version are printed here (`Err(0)`), usage errors too
/// (`Err(64)`).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, u8> {
    let matches = Cli::command().try_get_matches_from(args);
    match matches.and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(cli) => Ok(cli),
        Err(e) => Err(super::report_clap_error(e)),
    }
}

/// Runs a parsed command line.
pub fn execute(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Some(Command::Run(r)) => run_program(&r.run, r.program),
        Some(Command::Disasm { file }) => {
            let (module, _) = input::load_unverified(&file)?;
            print(&rvm_vm::format::disasm::disassemble(&module))
        }
        Some(Command::Inspect { file }) => {
            let (module, size) = input::load_unverified(&file)?;
            print(&rvm_vm::format::disasm::inspect(&module, size))
        }
        None if cli.program.is_empty() => {
            let help = Cli::command().render_help().to_string();
            output::stderr(&help);
            Err(Failure::new(exit::USAGE, "no program given"))
        }
        None => run_program(&cli.run, cli.program),
    }
}

fn print(text: &str) -> Result<u8, Failure> {
    output::stdout(text);
    Ok(exit::OK)
}

/// Loads and runs `program[0]` with the rest as its arguments.
fn run_program(flags: &RunFlags, mut program: Vec<OsString>) -> Result<u8, Failure> {
    if program.is_empty() {
        return Err(Failure::new(exit::USAGE, "no program given"));
    }
    let file = PathBuf::from(program.remove(0));
    if file.as_os_str().to_string_lossy().starts_with('-') && !file.exists() {
        return Err(Failure::new(
            exit::USAGE,
            format!("unknown option `{}` (see `rvm --help`)", file.display()),
        ));
    }
    let args = program_args(program)?;
    let caps = Capabilities::open(&flags.perms.grants())
        .map_err(|e| Failure::new(exit::USAGE, e.to_string()))?;
    let module = input::load_verified(&file)?;
    input::check_linkable(&file, &module)?;
    let mut limits = Limits {
        fuel: flags.fuel,
        timeout: flags.timeout,
        ..Limits::default()
    };
    if let Some(h) = flags.max_heap {
        limits.max_heap = h;
    }
    let options = RunOptions {
        args,
        jit: flags.jit.into(),
        jit_threshold: flags.jit_threshold,
        trace_jit: flags.trace_jit,
        jit_background: !flags.jit_sync,
        max_stack: flags.max_stack,
        gc_stress: flags.gc_stress,
        caps: Arc::new(caps),
        limits,
        seed: flags.seed,
    };
    run_verified(module, &options)
}

/// The program's arguments must be UTF-8 (they become `str` values).
fn program_args(raw: Vec<OsString>) -> Result<Vec<String>, Failure> {
    raw.into_iter()
        .enumerate()
        .map(|(i, a)| {
            a.into_string().map_err(|a| {
                Failure::new(
                    exit::USAGE,
                    format!(
                        "program argument {} ({}) is not valid UTF-8",
                        i + 1,
                        a.to_string_lossy()
                    ),
                )
            })
        })
        .collect()
}

/// Runs the module; a trap is reported on standard error in the contract's format.
fn run_verified(
    module: rvm_vm::verified::VerifiedModule,
    options: &RunOptions,
) -> Result<u8, Failure> {
    match crate::run(std::sync::Arc::new(module), options) {
        Ok(code) => Ok(code),
        Err(trap) => {
            output::stderr(&trap.to_string());
            let code = u8::try_from(trap.exit_code()).unwrap_or(exit::TRAP);
            Err(Failure::silent(code))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(args: &[&str]) -> Cli {
        let mut all = vec![OsString::from("rvm")];
        all.extend(args.iter().map(OsString::from));
        parse(all).expect("parses")
    }

    fn program(cli: &Cli) -> Vec<String> {
        let p = match &cli.command {
            Some(Command::Run(r)) => &r.program,
            _ => &cli.program,
        };
        p.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn arguments_after_the_file_belong_to_the_program() {
        let cli = parse_ok(&[
            "--jit=off",
            "app.bc",
            "--jit=always",
            "-h",
            "--version",
            "x",
        ]);
        assert_eq!(cli.run.jit, Jit::Off);
        assert!(cli.command.is_none());
        assert_eq!(
            program(&cli),
            ["app.bc", "--jit=always", "-h", "--version", "x"]
        );
    }

    #[test]
    fn run_subcommand_takes_flags_and_program() {
        let cli = parse_ok(&["run", "--max-stack", "50", "--gc-stress", "a.src", "--foo"]);
        match &cli.command {
            Some(Command::Run(r)) => {
                assert_eq!(r.run.max_stack, 50);
                assert!(r.run.gc_stress);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(program(&cli), ["a.src", "--foo"]);
    }

    #[test]
    fn subcommand_names_after_a_file_are_program_arguments() {
        let cli = parse_ok(&["app.bc", "disasm", "run"]);
        assert!(cli.command.is_none());
        assert_eq!(program(&cli), ["app.bc", "disasm", "run"]);
    }

    #[test]
    fn defaults() {
        let cli = parse_ok(&["app.bc"]);
        assert_eq!(cli.run.jit, Jit::Auto);
        assert_eq!(cli.run.max_stack, crate::DEFAULT_MAX_STACK);
        assert!(!cli.run.gc_stress);
        assert!(!cli.run.jit_sync);
        assert!(parse_ok(&["--jit-sync", "app.bc"]).run.jit_sync);
    }

    #[test]
    fn permission_flags() {
        let cli = parse_ok(&[
            "--allow-read=a,b",
            "--allow-read=c",
            "--allow-env",
            "--deny-env=SECRET",
            "--allow-time",
            "--deny-stdin",
            "--fuel",
            "10",
            "--timeout",
            "2s",
            "--max-heap",
            "64M",
            "--seed",
            "7",
            "app.src",
        ]);
        let g = cli.run.perms.grants();
        assert_eq!(
            g.read,
            Scope::Only(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(g.write, Scope::Nothing);
        assert_eq!(g.env, Scope::Everything);
        assert_eq!(g.deny_env, Scope::Only(vec!["SECRET".into()]));
        assert!(g.time && !g.random && !g.stdin);
        assert_eq!(cli.run.fuel, Some(10));
        assert_eq!(cli.run.timeout, Some(Duration::from_secs(2)));
        assert_eq!(cli.run.max_heap, Some(64 << 20));
        assert_eq!(cli.run.seed, Some(7));
        assert_eq!(program(&cli), ["app.src"]);
        let all = parse_ok(&["-A", "--deny-random", "app.src"])
            .run
            .perms
            .grants();
        assert!(all.time && !all.random && all.stdin);
        assert_eq!(all.read, Scope::Everything);
        let none = parse_ok(&["app.src"]).run.perms.grants();
        assert!(none.stdin && !none.time && none.read == Scope::Nothing);
    }

    #[test]
    fn bad_flag_values_are_usage_errors() {
        for bad in [
            &["--jit=fast", "a.bc"][..],
            &["--max-stack", "0", "a.bc"],
            &["--max-stack", "x", "a.bc"],
            &["disasm"],
            &["inspect", "a.bc", "b.bc"],
            &["--timeout", "5", "a.bc"],
            &["--max-heap", "lots", "a.bc"],
            &["--fuel", "-1", "a.bc"],
        ] {
            let mut all = vec![OsString::from("rvm")];
            all.extend(bad.iter().map(OsString::from));
            assert_eq!(parse(all).unwrap_err(), exit::USAGE, "{bad:?}");
        }
    }
}
