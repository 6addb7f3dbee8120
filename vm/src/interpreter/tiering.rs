//! Tiering: when the interpreter compiles a function, and where the code goes. Each
//! function's call and back-edge count (`auto` mode) decides when it is compiled; the
//! entry tables say which code its calls and on-stack replacements use (a function is
//! compiled without replacement entries for its calls, and with them when an interpreted
//! activation gets hot in a loop).

use std::sync::Arc;
use std::time::Instant;

use super::Vm;
use super::jit_rt::runtime;
use crate::tier::{Entry, JitMode, Tier, TierSession};

/// The JIT state of one VM.
pub(super) struct JitState {
    pub(super) mode: JitMode,
    threshold: u32,
    trace: bool,
    /// The compiler, and its session for this VM's module once the first function is
    /// compiled: a VM that never gets hot (a short sandbox call) never creates one.
    compiler: Arc<dyn Tier>,
    session: Option<Box<dyn TierSession>>,
    /// The entry of each function, `None` until compiled. Never resized (compiled code
    /// holds a pointer to it through the context).
    pub(super) code: Vec<Option<Entry>>,
    /// The entry of each function for on-stack replacement, compiled when an interpreted
    /// activation of it gets hot in a loop. It serves no calls (code without replacement
    /// entries is faster): a later call compiles the function for calls (its count is past
    /// the threshold already), and a function compiled for calls first is compiled again
    /// for this.
    osr_code: Vec<Option<Entry>>,
    hot: Vec<u32>,
    failed: Vec<bool>,
    stats: JitStats,
    /// The heap layout for inline accesses, measured once per VM.
    heap_layout: Option<crate::tier::HeapLayout>,
    /// Whether the trace has named the tier yet.
    announced: bool,
}

impl std::fmt::Debug for JitState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitState")
            .field("mode", &self.mode)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// What the JIT did in one VM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Functions compiled.
    pub compiled: usize,
    /// Functions the compiler refused (they keep running interpreted).
    pub failed: usize,
    /// Entries into compiled code by on-stack replacement.
    pub osr_entries: usize,
    /// Total compile time in microseconds.
    pub compile_micros: u64,
    /// Direct calls inlined into compiled functions.
    pub inlined_calls: usize,
    /// Loops compiled with their heap lookups hoisted (call-free loops).
    pub hoisted_loops: usize,
    /// Recursive calls compiled as jumps back to the function's start.
    pub tail_calls: usize,
    /// Call sites that run their callee's early exit inline.
    pub early_exits: usize,
    /// Struct fields loaded once before a loop instead of in it.
    pub preloaded_fields: usize,
    /// Inlined calls a loop starts with whose unit of fuel its back edges charge.
    pub merged_charges: usize,
    /// Element accesses compiled without an index check (proved in bounds).
    pub unchecked_accesses: usize,
    /// Activations compiled code left to the interpreter because one more frame would not
    /// have fitted at their start (see `tier::Entry`).
    pub no_room: usize,
}

impl JitState {
    pub(super) fn new(
        mode: JitMode,
        threshold: u32,
        trace: bool,
        compiler: Arc<dyn Tier>,
        functions: usize,
    ) -> JitState {
        JitState {
            mode,
            threshold,
            trace,
            compiler,
            session: None,
            code: vec![None; functions],
            osr_code: vec![None; functions],
            hot: vec![0; functions],
            failed: vec![false; functions],
            stats: JitStats::default(),
            heap_layout: crate::tier::HeapLayout::probe(),
            announced: false,
        }
    }
}

impl Vm<'_> {
    /// The JIT statistics (all zero without a JIT).
    pub fn jit_stats(&self) -> JitStats {
        self.jit.as_ref().map_or(JitStats::default(), |j| j.stats)
    }

    /// Counts an activation left to the interpreter for want of room (`JitStats::no_room`).
    pub(super) fn count_no_room(&mut self) {
        if let Some(jit) = self.jit.as_mut() {
            jit.stats.no_room += 1;
        }
    }

    /// Compiles function `f` now (if not compiled or refused already), with on-stack
    /// replacement entries if `osr`; its entry if any.
    pub(super) fn compile_now(&mut self, f: u32, osr: bool) -> Option<Entry> {
        let module = self.module.clone();
        let jit = self.jit.as_mut()?;
        let i = f as usize;
        let table = if osr { &jit.osr_code } else { &jit.code };
        if let Some(e) = table.get(i).copied().flatten() {
            return Some(e);
        }
        if jit.failed.get(i).copied().unwrap_or(true) {
            return None;
        }
        let rt = runtime(jit.code.len() as u32, jit.heap_layout);
        let start = Instant::now();
        if jit.session.is_none() {
            match jit.compiler.session(&module) {
                Ok(s) => jit.session = Some(s),
                Err(e) => {
                    jit.failed[i] = true;
                    jit.stats.failed += 1;
                    if jit.trace {
                        self.out
                            .err(&format!("jit: the tier could not start: {e}\n"));
                    }
                    return None;
                }
            }
        }
        let result = match jit.session.as_mut() {
            Some(session) => session.compile(&module, f, &rt, osr),
            None => return None,
        };
        let micros = start.elapsed().as_micros() as u64;
        jit.stats.compile_micros += micros;
        let name = module
            .module
            .functions
            .get(i)
            .map_or("?", |f| f.name.as_str());
        let instrs = module.functions.get(i).map_or(0, |f| f.code.len());
        let line = match result {
            Ok(c) => {
                // Code for on-stack replacement serves no calls (see `TierSession`).
                if osr {
                    jit.osr_code[i] = Some(c.entry);
                } else {
                    jit.code[i] = Some(c.entry);
                }
                jit.stats.compiled += 1;
                jit.stats.inlined_calls += c.inlined_calls as usize;
                jit.stats.hoisted_loops += c.hoisted_loops as usize;
                jit.stats.tail_calls += c.tail_calls as usize;
                jit.stats.early_exits += c.early_exits as usize;
                jit.stats.preloaded_fields += c.preloaded_fields as usize;
                jit.stats.merged_charges += c.merged_charges as usize;
                jit.stats.unchecked_accesses += c.unchecked_accesses as usize;
                let mut what = format!("{instrs} instructions");
                let plural = |n: u32, one: &str| match n {
                    1 => format!(", 1 {one}"),
                    n => format!(", {n} {one}s"),
                };
                if c.inlined_calls > 0 {
                    what += &(plural(c.inlined_calls, "call") + " inlined");
                }
                if c.hoisted_loops > 0 {
                    what += &(plural(c.hoisted_loops, "loop") + " hoisted");
                }
                if c.tail_calls > 0 {
                    what += &(plural(c.tail_calls, "recursive call") + " looped");
                }
                if c.early_exits > 0 {
                    what += &(plural(c.early_exits, "early exit") + " inlined");
                }
                if c.preloaded_fields > 0 {
                    what += &(plural(c.preloaded_fields, "field") + " preloaded");
                }
                if c.merged_charges > 0 {
                    what += &(plural(c.merged_charges, "call charge") + " merged");
                }
                if c.unchecked_accesses > 0 {
                    what += &(plural(c.unchecked_accesses, "index check") + " removed");
                }
                let osr = if osr { " for on-stack replacement" } else { "" };
                format!(
                    "jit: compiled {name}{osr} ({what}) in {}.{:03} ms\n",
                    micros / 1000,
                    micros % 1000
                )
            }
            Err(e) => {
                jit.failed[i] = true;
                jit.stats.failed += 1;
                format!("jit: cannot compile {name}: {e}\n")
            }
        };
        if jit.trace {
            if !jit.announced {
                jit.announced = true;
                let target = jit.session.as_ref().map_or("?".into(), |s| s.target());
                self.out.err(&format!("jit: tier {target}\n"));
            }
            self.out.err(&line);
        }
        if osr { jit.osr_code[i] } else { jit.code[i] }
    }

    /// Compiles every function (`--jit=always`).
    pub(super) fn compile_all(&mut self) {
        for f in 0..self.module.functions.len() {
            self.compile_now(f as u32, false);
        }
    }

    /// The entry to use for a call of `f`: its compiled code, after counting the call in
    /// `auto` mode and compiling once the threshold is reached.
    #[inline]
    pub(super) fn tier_entry(&mut self, f: u32) -> Option<Entry> {
        let jit = self.jit.as_mut()?;
        let i = f as usize;
        if let Some(e) = jit.code.get(i).copied().flatten() {
            return Some(e);
        }
        if jit.mode != JitMode::Auto || jit.failed.get(i).copied().unwrap_or(true) {
            return None;
        }
        jit.hot[i] += 1;
        if jit.hot[i] < jit.threshold {
            return None;
        }
        self.compile_now(f, false)
    }

    /// Counts a loop back-edge of `f` (`auto` mode); the entry to switch to by on-stack
    /// replacement once the function is hot (compiled with replacement entries: again, if
    /// it was compiled for calls only).
    #[inline]
    pub(super) fn osr_entry(&mut self, f: u32) -> Option<Entry> {
        let jit = self.jit.as_mut()?;
        let i = f as usize;
        let e = match jit.osr_code.get(i).copied().flatten() {
            Some(e) => e,
            None if jit.code.get(i).copied().flatten().is_some() => self.compile_now(f, true)?,
            None => {
                if jit.mode != JitMode::Auto || jit.failed.get(i).copied().unwrap_or(true) {
                    return None;
                }
                jit.hot[i] += 1;
                if jit.hot[i] < jit.threshold {
                    return None;
                }
                self.compile_now(f, true)?
            }
        };
        if let Some(jit) = self.jit.as_mut() {
            jit.stats.osr_entries += 1;
        }
        Some(e)
    }
}
