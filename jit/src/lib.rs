//! rvm's JIT tier. Until the JIT issue lands, this crate only names the tier; every
//! `--jit` mode runs the interpreter.
