//! Capabilities: what a guest may reach outside itself, and the resource limits it runs
//! under.
//!
//! **Deny by default.** [`Grants`] is the plain description of what was granted (what the
//! `rvm` flags `--allow-read=...` and friends produce, or what an embedder writes); its
//! `Default` grants nothing. [`Capabilities::open`] turns it into what the host functions
//! check against, once, when the sandbox is set up: every granted path is opened as a
//! `cap_std::fs::Dir`, and every file operation of the guest goes through the directory
//! of the grant that contains it. The checks are therefore not string comparisons on
//! paths but capability-based resolution (cap-std, from the Bytecode Alliance): a `..`
//! that climbs out of the grant, an absolute path elsewhere, or a symbolic link inside the
//! grant that points outside it all fail to resolve. `Capabilities` is immutable and
//! `Send + Sync`, so one opened set can be shared (`Arc`) by many VMs.
//!
//! **Deny wins.** A `--deny-*` entry overrides any allow: a path under a denied path, or a
//! denied variable name, is refused even when an allow covers it.
//!
//! **Limits** ([`Limits`]) are the VM's cgroups: fuel, a wall-clock deadline, a heap size
//! and the call depth. They are enforced by the runtime (see `interpreter`), through state
//! that the JIT tier will check the same way.

mod paths;

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use paths::Resolved;
use paths::Root;

use crate::host::Capability;

/// Which items of one kind (paths, variable names) a grant or a denial covers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Scope<T> {
    /// None of them.
    #[default]
    Nothing,
    /// All of them (a flag without a list: `--allow-read`).
    Everything,
    /// These (`--allow-read=a,b`).
    Only(Vec<T>),
}

impl<T> Scope<T> {
    /// Whether the scope covers nothing.
    pub fn is_nothing(&self) -> bool {
        matches!(self, Scope::Nothing)
    }

    /// Adds the items of `other` (a flag given twice accumulates).
    pub fn extend(&mut self, other: Scope<T>) {
        match (&mut *self, other) {
            (Scope::Everything, _) | (_, Scope::Nothing) => {}
            (_, Scope::Everything) => *self = Scope::Everything,
            (Scope::Nothing, o @ Scope::Only(_)) => *self = o,
            (Scope::Only(a), Scope::Only(b)) => a.extend(b),
        }
    }
}

/// What a sandbox grants: the plain, unopened description. `Grants::default()` grants
/// nothing, which is what an embedder gets unless it asks for more.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// Paths that may be read (`fs.read_text`, `fs.exists`, `fs.list_dir`).
    pub read: Scope<PathBuf>,
    /// Paths that may be written, created or removed.
    pub write: Scope<PathBuf>,
    /// Environment variables that may be read.
    pub env: Scope<String>,
    /// Paths refused for reading whatever `read` says.
    pub deny_read: Scope<PathBuf>,
    /// Paths refused for writing whatever `write` says.
    pub deny_write: Scope<PathBuf>,
    /// Variables refused whatever `env` says.
    pub deny_env: Scope<String>,
    /// The clocks.
    pub time: bool,
    /// Random numbers.
    pub random: bool,
    /// Standard input.
    pub stdin: bool,
}

impl Grants {
    /// Everything (`-A`).
    pub fn all() -> Grants {
        Grants {
            read: Scope::Everything,
            write: Scope::Everything,
            env: Scope::Everything,
            time: true,
            random: true,
            stdin: true,
            ..Grants::default()
        }
    }
}

/// Why a grant could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot grant {flag}={}: {reason}", path.display())]
pub struct GrantError {
    /// The flag, e.g. `--allow-read`.
    pub flag: &'static str,
    /// The path given.
    pub path: PathBuf,
    /// Why it cannot be opened.
    pub reason: std::io::Error,
}

/// A path scope opened for resolution.
#[derive(Default)]
enum PathScope {
    #[default]
    Nothing,
    /// Everything: resolve against the process's file system as is.
    Everything,
    /// Only beneath these roots.
    Only(Vec<Root>),
}

/// The grants, opened: what host functions check on every call. Immutable and shareable.
#[derive(Default)]
pub struct Capabilities {
    read: PathScope,
    write: PathScope,
    deny_read: Vec<PathBuf>,
    deny_write: Vec<PathBuf>,
    deny_all_read: bool,
    deny_all_write: bool,
    env: Scope<String>,
    deny_env: Scope<String>,
    time: bool,
    random: bool,
    stdin: bool,
    /// The working directory when opened, against which relative guest paths resolve.
    cwd: PathBuf,
}

impl fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capabilities")
            .field("env", &self.env)
            .field("time", &self.time)
            .field("random", &self.random)
            .field("stdin", &self.stdin)
            .finish_non_exhaustive()
    }
}

/// Why a host call may not go ahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denial {
    /// Not granted; this flag would allow it.
    Needs(String),
    /// Explicitly denied by this flag.
    DeniedBy(String),
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denial::Needs(flag) => write!(f, "needs {flag}"),
            Denial::DeniedBy(flag) => write!(f, "is refused by {flag}"),
        }
    }
}

impl Capabilities {
    /// Opens `grants`: every granted path is opened once, now.
    pub fn open(grants: &Grants) -> Result<Capabilities, GrantError> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let open_scope = |scope: &Scope<PathBuf>, flag: &'static str| match scope {
            Scope::Nothing => Ok(PathScope::Nothing),
            Scope::Everything => Ok(PathScope::Everything),
            Scope::Only(paths) => paths
                .iter()
                .map(|p| {
                    Root::open(&cwd.join(p)).map_err(|reason| GrantError {
                        flag,
                        path: p.clone(),
                        reason,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(PathScope::Only),
        };
        let deny_paths = |scope: &Scope<PathBuf>| match scope {
            Scope::Only(paths) => paths.iter().map(|p| paths::absolute(&cwd, p)).collect(),
            _ => Vec::new(),
        };
        Ok(Capabilities {
            read: open_scope(&grants.read, "--allow-read")?,
            write: open_scope(&grants.write, "--allow-write")?,
            deny_read: deny_paths(&grants.deny_read),
            deny_write: deny_paths(&grants.deny_write),
            deny_all_read: grants.deny_read == Scope::Everything,
            deny_all_write: grants.deny_write == Scope::Everything,
            env: grants.env.clone(),
            deny_env: grants.deny_env.clone(),
            time: grants.time,
            random: grants.random,
            stdin: grants.stdin,
            cwd,
        })
    }

    /// Whether a capability without items (time, random, stdin) is granted; `Err` names the
    /// flag that would grant it. The capabilities with items (paths, variable names) pass
    /// here and are checked per item by [`Capabilities::resolve`] and
    /// [`Capabilities::check_env`], so that the message can name the item.
    pub fn check(&self, cap: Capability) -> Result<(), Denial> {
        let (granted, flag) = match cap {
            Capability::None | Capability::Read | Capability::Write | Capability::Env => (true, ""),
            Capability::Time => (self.time, "--allow-time"),
            Capability::Random => (self.random, "--allow-random"),
            Capability::Stdin => (self.stdin, "--allow-stdin"),
        };
        if granted {
            Ok(())
        } else {
            Err(Denial::Needs(flag.to_owned()))
        }
    }

    /// Whether environment variable `name` may be read.
    pub fn check_env(&self, name: &str) -> Result<(), Denial> {
        let listed = |s: &Scope<String>| match s {
            Scope::Nothing => false,
            Scope::Everything => true,
            Scope::Only(names) => names.iter().any(|n| n == name),
        };
        if listed(&self.deny_env) {
            return Err(Denial::DeniedBy(format!("--deny-env={name}")));
        }
        if listed(&self.env) {
            Ok(())
        } else {
            Err(Denial::Needs(format!("--allow-env={name}")))
        }
    }

    /// Resolves guest path `path` for reading (`write == false`) or writing: the directory
    /// of the grant that contains it and the path relative to that directory.
    pub fn resolve(&self, path: &str, write: bool) -> Result<Resolved<'_>, Denial> {
        let (scope, deny, deny_all, kind) = if write {
            (&self.write, &self.deny_write, self.deny_all_write, "write")
        } else {
            (&self.read, &self.deny_read, self.deny_all_read, "read")
        };
        let abs = paths::absolute(&self.cwd, Path::new(path));
        if deny_all {
            return Err(Denial::DeniedBy(format!("--deny-{kind}")));
        }
        if let Some(d) = deny.iter().find(|d| paths::is_within(&abs, d)) {
            return Err(Denial::DeniedBy(format!("--deny-{kind}={}", d.display())));
        }
        let needs = || Denial::Needs(format!("--allow-{kind}={path}"));
        let resolved = match scope {
            PathScope::Nothing => return Err(needs()),
            PathScope::Everything => Resolved::Ambient(abs.clone()),
            PathScope::Only(roots) => paths::resolve_in(roots, &abs).ok_or_else(needs)?,
        };
        // A symbolic link inside an allowed directory may lead into a denied one: check
        // the real path too, when there is one.
        if !deny.is_empty()
            && let Ok(real) = std::fs::canonicalize(&abs)
            && let Some(d) = deny.iter().find(|d| paths::is_within(&real, d))
        {
            return Err(Denial::DeniedBy(format!("--deny-{kind}={}", d.display())));
        }
        Ok(resolved)
    }
}

/// The default heap limit: 2 GiB.
pub const DEFAULT_MAX_HEAP: usize = 2 << 30;

/// Resource limits. `Limits::default()` is unlimited fuel and time, a 2 GiB heap and the
/// default call depth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Work units the program may execute (`--fuel`); `None` is unlimited.
    pub fuel: Option<u64>,
    /// Wall-clock time the program may run (`--timeout`); `None` is unlimited.
    pub timeout: Option<Duration>,
    /// Bytes the guest heap may hold (`--max-heap`).
    pub max_heap: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            fuel: None,
            timeout: None,
            max_heap: DEFAULT_MAX_HEAP,
        }
    }
}

/// Parses a size such as `64M`, `512K`, `2G` or `1000` (bytes; binary multiples).
pub fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let (digits, mult) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 1usize << 10),
        (i, 'm' | 'M') => (&t[..i], 1 << 20),
        (i, 'g' | 'G') => (&t[..i], 1 << 30),
        (i, 'b' | 'B') => (&t[..i], 1),
        _ => (t, 1),
    };
    digits.parse::<usize>().ok()?.checked_mul(mult)
}

/// Parses a duration such as `500ms`, `5s`, `2m`, `1.5s` or `250us`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ns" => n / 1e9,
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(secs).ok()
}

/// Splits a comma-separated flag value into paths.
pub fn path_list(value: &str) -> Vec<PathBuf> {
    value
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| PathBuf::from(OsString::from(s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("2g"), Some(2 << 30));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("-1s"), None);
    }

    #[test]
    fn nothing_is_granted_by_default() {
        let caps = Capabilities::open(&Grants::default()).expect("opens");
        assert!(caps.check(Capability::Time).is_err());
        assert!(caps.check(Capability::None).is_ok());
        assert!(caps.check_env("HOME").is_err());
        assert!(caps.resolve("x.txt", false).is_err());
    }

    #[test]
    fn deny_wins() {
        let grants = Grants {
            env: Scope::Everything,
            deny_env: Scope::Only(vec!["SECRET".into()]),
            ..Grants::default()
        };
        let caps = Capabilities::open(&grants).expect("opens");
        assert!(caps.check_env("HOME").is_ok());
        assert!(caps.check_env("SECRET").is_err());
    }
}
