//! The host functions a module may import (`call.host`), their signatures and the
//! capability each one needs.
//!
//! This table is the single source for host functions: the checker resolves `fs.read_text`
//! by [`HostFn::lookup`] (so a new row needs no checker edit), codegen records the import
//! with the signature from here, the verifier checks every import of a module against it
//! (name and signature, so a module asking for a host function this VM lacks is refused at
//! load time), `rvm inspect` groups a module's imports by [`Capability`] (the permissions
//! manifest), and the runtime (`runtime/host.rs`) implements each [`HostFn`] in one
//! exhaustive `match` that checks the capability on every call.
//!
//! An embedding application adds its own host functions ([`embedder`]): imports from any
//! other namespace, checked at link time instead of against this table.

pub mod embedder;

pub use embedder::{ExternFn, Externs, ImportFn};

/// A type in a host function's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostType {
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `str`
    Str,
    /// `[str]`
    StrArray,
}

/// What a host function needs to be granted before it may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    /// Always available (`os.args`, `os.exit`).
    None,
    /// Reading files and directories under granted paths (`--allow-read`).
    Read,
    /// Creating, writing and removing files under granted paths (`--allow-write`).
    Write,
    /// Reading granted environment variables (`--allow-env`).
    Env,
    /// The clocks (`--allow-time`).
    Time,
    /// Random numbers (`--allow-random`).
    Random,
    /// Standard input (`--allow-stdin`; the `rvm` command line grants it by default).
    Stdin,
}

impl Capability {
    /// Every capability, in manifest order.
    pub const ALL: [Capability; 7] = [
        Capability::None,
        Capability::Read,
        Capability::Write,
        Capability::Env,
        Capability::Time,
        Capability::Random,
        Capability::Stdin,
    ];

    /// The capability's name as in the flags (`read` for `--allow-read`); `none` for the
    /// always-available functions.
    pub fn name(self) -> &'static str {
        match self {
            Capability::None => "none",
            Capability::Read => "read",
            Capability::Write => "write",
            Capability::Env => "env",
            Capability::Time => "time",
            Capability::Random => "random",
            Capability::Stdin => "stdin",
        }
    }
}

macro_rules! host_functions {
    ($( $(#[doc = $doc:literal])* $variant:ident = $module:literal . $name:literal, ($($p:ident),*) -> $ret:tt, $cap:ident; )*) => {
        /// A host function.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum HostFn {
            $( $(#[doc = $doc])* $variant, )*
        }

        /// Every host function.
        pub const HOST_FUNCTIONS: &[HostFn] = &[$(HostFn::$variant),*];

        impl HostFn {
            /// The host function `module.name`, if this VM provides it.
            pub fn lookup(module: &str, name: &str) -> Option<HostFn> {
                match (module, name) { $( ($module, $name) => Some(HostFn::$variant), )* _ => None }
            }

            /// The module name, e.g. `os`.
            pub fn module(self) -> &'static str {
                match self { $( HostFn::$variant => $module, )* }
            }

            /// The function name, e.g. `args`.
            pub fn name(self) -> &'static str {
                match self { $( HostFn::$variant => $name, )* }
            }

            /// Whether `module` is a host module (`fs`, `os`, ...).
            pub fn is_module(module: &str) -> bool {
                HOST_FUNCTIONS.iter().any(|h| h.module() == module)
            }

            /// The functions of host module `module`.
            pub fn functions_of(module: &str) -> impl Iterator<Item = HostFn> + '_ {
                HOST_FUNCTIONS.iter().copied().filter(move |h| h.module() == module)
            }

            /// The capability a call needs.
            pub fn capability(self) -> Capability {
                match self { $( HostFn::$variant => Capability::$cap, )* }
            }

            /// Parameter types.
            pub fn params(self) -> &'static [HostType] {
                match self { $( HostFn::$variant => &[$(HostType::$p),*], )* }
            }

            /// The result type, if any.
            pub fn result(self) -> Option<HostType> {
                match self { $( HostFn::$variant => host_functions!(@ret $ret), )* }
            }
        }
    };
    (@ret ()) => { None };
    (@ret $t:ident) => { Some(HostType::$t) };
}

host_functions! {
    /// `os.args()`: the program's command-line arguments (after the program path).
    OsArgs = "os"."args", () -> StrArray, None;
    /// `os.exit(code)`: ends the program with `code` (0..=255, else a trap).
    OsExit = "os"."exit", (Int) -> (), None;
    /// `fs.read_text(path)`: the whole file as a string (invalid UTF-8 is replaced).
    FsReadText = "fs"."read_text", (Str) -> Str, Read;
    /// `fs.write_text(path, text)`: creates or truncates the file and writes `text`.
    FsWriteText = "fs"."write_text", (Str, Str) -> (), Write;
    /// `fs.append_text(path, text)`: appends `text`, creating the file if needed.
    FsAppendText = "fs"."append_text", (Str, Str) -> (), Write;
    /// `fs.exists(path)`: whether a file or directory exists at `path`.
    FsExists = "fs"."exists", (Str) -> Bool, Read;
    /// `fs.list_dir(path)`: the names in a directory, sorted.
    FsListDir = "fs"."list_dir", (Str) -> StrArray, Read;
    /// `fs.remove(path)`: removes a file or an empty directory.
    FsRemove = "fs"."remove", (Str) -> (), Write;
    /// `fs.mkdir(path)`: creates a directory and any missing parents.
    FsMkdir = "fs"."mkdir", (Str) -> (), Write;
    /// `env.get(name, default)`: an environment variable, or `default` if unset.
    EnvGet = "env"."get", (Str, Str) -> Str, Env;
    /// `time.now_ms()`: milliseconds since the Unix epoch.
    TimeNowMs = "time"."now_ms", () -> Int, Time;
    /// `time.monotonic_ns()`: nanoseconds on a clock that never goes back (since the VM
    /// started).
    TimeMonotonicNs = "time"."monotonic_ns", () -> Int, Time;
    /// `random.int(low, high)`: a uniform integer in `low..high` (traps if empty).
    RandomInt = "random"."int", (Int, Int) -> Int, Random;
    /// `random.float()`: a uniform float in `0.0..1.0`.
    RandomFloat = "random"."float", () -> Float, Random;
    /// `io.read_line()`: the next line of standard input with its `\n`, or `""` at the end.
    IoReadLine = "io"."read_line", () -> Str, Stdin;
    /// `io.read_all()`: the rest of standard input.
    IoReadAll = "io"."read_all", () -> Str, Stdin;
}
