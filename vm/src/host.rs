//! The host functions a module may import (`call.host`), and their signatures.
//!
//! Version 1 has only the always-available `os` module; the capability-guarded modules
//! (`fs`, `env`, `time`, `random`, `io`) join this table with the sandbox. The verifier
//! checks every import of a module against this table (name and signature), so a module
//! asking for a host function this VM lacks is refused at load time. The interpreter
//! implements each [`HostFn`] in one exhaustive `match`.

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

macro_rules! host_functions {
    ($( $(#[doc = $doc:literal])* $variant:ident = $module:literal . $name:literal, ($($p:ident),*) -> $ret:tt; )*) => {
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
    OsArgs = "os"."args", () -> StrArray;
    /// `os.exit(code)`: ends the program with `code` (0..=255, else a trap).
    OsExit = "os"."exit", (Int) -> ();
}
