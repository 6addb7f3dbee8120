//! Tiering: when the interpreter compiles a function, and where the code goes. Each
//! function's call and back-edge count (`auto` mode) decides when it is compiled; the
//! entry tables say which code its calls and on-stack replacements use (a function is
//! compiled without replacement entries for its calls, and with them when an interpreted
//! activation gets hot in a loop).

mod background;

use std::sync::Arc;
use std::time::Instant;

use super::jit_rt::runtime;
use super::{ModuleRef, Vm};
use crate::tier::{Compiled, Entry, JitMode, Tier, TierSession};
use background::{Background, Done};

/// `JitState::pending` bits: a compilation for calls, or for on-stack replacement, is on
/// the compile thread.
const PENDING_CALLS: u8 = 1;
const PENDING_OSR: u8 = 2;

/// The JIT state of one VM.
pub(super) struct JitState {
    pub(super) mode: JitMode,
    threshold: u32,
    trace: bool,
    /// The compiler, and its session for this VM's module once the first function is
    /// compiled: a VM that never gets hot (a short sandbox call) never creates one.
    compiler: Arc<dyn Tier>,
    session: Option<Box<dyn TierSession>>,
    /// Compile hot functions on a thread of their own (`auto` mode, a shared module; see
    /// `background`); the thread once started.
    background: bool,
    worker: Option<Background>,
    /// What each function has on the compile thread (`PENDING_*` bits).
    pending: Vec<u8>,
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
    /// Whether compiled code polls the budget (`Runtime::polls`): from the start if the
    /// VM has a fuel limit or a timeout, and from the first entry that finds an interrupt
    /// handle taken or fuel set (see `Vm::sync_polls`). Never turned off again.
    polls: bool,
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
    /// Divisions and remainders by a constant of a value proved not negative, compiled as
    /// unsigned ones.
    pub unsigned_divisions: usize,
    /// Divisions by a power of two of a value proved its multiple, compiled as shifts.
    pub exact_divisions: usize,
    /// Fuel checks compiled (at calls and back edges): none while nothing can stop the
    /// guest (no fuel limit, timeout or interrupt handle; see `tier::Runtime::polls`).
    pub fuel_checks: usize,
    /// Activations compiled code left to the interpreter because one more frame would not
    /// have fitted at their start (see `tier::Entry`).
    pub no_room: usize,
}

impl JitState {
    pub(super) fn new(
        mode: JitMode,
        threshold: u32,
        trace: bool,
        background: bool,
        compiler: Arc<dyn Tier>,
        functions: usize,
        polls: bool,
    ) -> JitState {
        JitState {
            mode,
            threshold,
            trace,
            compiler,
            session: None,
            background: background && mode == JitMode::Auto,
            worker: None,
            pending: vec![0; functions],
            code: vec![None; functions],
            osr_code: vec![None; functions],
            hot: vec![0; functions],
            failed: vec![false; functions],
            stats: JitStats::default(),
            heap_layout: crate::tier::HeapLayout::probe(),
            polls,
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
        let rt = runtime(jit.code.len() as u32, jit.heap_layout, jit.polls);
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
        let session = jit.session.as_mut()?;
        let result = session.compile(&module, f, &rt, osr);
        let target = session.target();
        let micros = start.elapsed().as_micros() as u64;
        self.install(Done {
            func: f,
            osr,
            result,
            micros,
            polls: rt.polls,
            target: Ok(target),
        })
    }

    /// Compiles hot function `f` (for on-stack replacement if `osr`): on the compile
    /// thread when the VM has one (its entry once ready, `None` meanwhile), else now.
    fn compile_hot(&mut self, f: u32, osr: bool) -> Option<Entry> {
        let jit = self.jit.as_mut()?;
        if !jit.background {
            return self.compile_now(f, osr);
        }
        let i = f as usize;
        let bit = if osr { PENDING_OSR } else { PENDING_CALLS };
        let pending = jit.pending.get(i).copied().unwrap_or(0);
        if pending & bit == 0 && !jit.failed.get(i).copied().unwrap_or(true) {
            if jit.worker.is_none() {
                // Only a shared module can go to another thread; a borrowed one (and a
                // VM whose thread cannot start) compiles here.
                let started = match &self.module {
                    ModuleRef::Shared(m) => Background::start(jit.compiler.clone(), m.clone()),
                    ModuleRef::Borrowed(_) => None,
                };
                match started {
                    Some(w) => jit.worker = Some(w),
                    None => {
                        jit.background = false;
                        return self.compile_now(f, osr);
                    }
                }
            }
            let rt = runtime(jit.code.len() as u32, jit.heap_layout, jit.polls);
            if jit.worker.as_mut().is_some_and(|w| w.submit(f, osr, rt)) {
                jit.pending[i] |= bit;
            } else {
                jit.failed[i] = true;
                jit.stats.failed += 1;
            }
        }
        self.poll_compiled();
        let jit = self.jit.as_ref()?;
        let table = if osr { &jit.osr_code } else { &jit.code };
        table.get(i).copied().flatten()
    }

    /// Installs every compilation the compile thread has finished.
    fn poll_compiled(&mut self) {
        loop {
            let Some(worker) = self.jit.as_mut().and_then(|j| j.worker.as_mut()) else {
                return;
            };
            if !worker.busy() {
                return;
            }
            match worker.poll() {
                Ok(Some(done)) => {
                    if let Some(jit) = self.jit.as_mut()
                        && let Some(p) = jit.pending.get_mut(done.func as usize)
                    {
                        *p &= !if done.osr { PENDING_OSR } else { PENDING_CALLS };
                    }
                    self.install(done);
                }
                Ok(None) => return,
                Err(()) => {
                    // The thread died (a panic in the compiler): what it had is refused,
                    // and nothing is compiled any more.
                    if let Some(jit) = self.jit.as_mut() {
                        jit.stats.failed += jit.pending.iter().filter(|&&p| p != 0).count();
                        jit.pending.fill(0);
                        jit.failed.fill(true);
                    }
                    return;
                }
            }
        }
    }

    /// Records a finished compilation: its entry, its statistics, its trace line.
    fn install(&mut self, done: Done) -> Option<Entry> {
        let module = self.module.clone();
        let jit = self.jit.as_mut()?;
        let Done {
            func: f,
            osr,
            result,
            micros,
            polls,
            target,
        } = done;
        let i = f as usize;
        if jit.polls && !polls {
            // Queued before the VM needed polls (see `sync_polls`): the next call or back
            // edge queues the function again.
            return None;
        }
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
                jit.stats.count(&c);
                let osr = if osr { " for on-stack replacement" } else { "" };
                format!(
                    "jit: compiled {name}{osr} ({instrs} instructions{}) in {}.{:03} ms\n",
                    what_was_done(&c),
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
                let polls = if jit.polls {
                    ""
                } else {
                    ", no fuel checks (no limit or interrupt handle)"
                };
                match &target {
                    Ok(t) => self.out.err(&format!("jit: tier {t}{polls}\n")),
                    Err(e) => self
                        .out
                        .err(&format!("jit: the tier could not start: {e}\n")),
                }
            }
            self.out.err(&line);
        }
        if osr { jit.osr_code[i] } else { jit.code[i] }
    }

    /// Makes compiled code poll the budget from now on if anything can stop the guest
    /// (`Budget::watched`): called at each entry from the host, the only moment a fuel
    /// limit or an interrupt handle can have appeared since the last run. Code compiled
    /// without polls is dropped from the entry tables (the session keeps the memory) and
    /// compiled again: at once in `always` mode, at the next call or back edge in `auto`
    /// (its count is past the threshold).
    pub(super) fn sync_polls(&mut self) {
        let watched = self.budget.watched(self.config.limits.timeout.is_some());
        let Some(jit) = self.jit.as_mut() else { return };
        if jit.polls || !watched {
            return;
        }
        jit.polls = true;
        let dropped = jit.code.iter().chain(&jit.osr_code).flatten().count();
        jit.code.fill(None);
        jit.osr_code.fill(None);
        if jit.trace && jit.announced {
            let s = if dropped == 1 { "" } else { "s" };
            self.out.err(&format!(
                "jit: fuel checks from now on (a limit or an interrupt handle appeared); \
                 {dropped} compiled function{s} dropped\n"
            ));
        }
        if jit.mode == JitMode::Always {
            self.compile_all();
        }
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
        jit.hot[i] = jit.hot[i].saturating_add(1);
        if jit.hot[i] < jit.threshold {
            return None;
        }
        self.compile_hot(f, false)
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
            None if jit.code.get(i).copied().flatten().is_some() => self.compile_hot(f, true)?,
            None => {
                if jit.mode != JitMode::Auto || jit.failed.get(i).copied().unwrap_or(true) {
                    return None;
                }
                jit.hot[i] = jit.hot[i].saturating_add(1);
                if jit.hot[i] < jit.threshold {
                    return None;
                }
                self.compile_hot(f, true)?
            }
        };
        if let Some(jit) = self.jit.as_mut() {
            jit.stats.osr_entries += 1;
        }
        Some(e)
    }
}

impl JitStats {
    /// Adds what the compiler did to one function.
    fn count(&mut self, c: &Compiled) {
        self.inlined_calls += c.inlined_calls as usize;
        self.hoisted_loops += c.hoisted_loops as usize;
        self.tail_calls += c.tail_calls as usize;
        self.early_exits += c.early_exits as usize;
        self.preloaded_fields += c.preloaded_fields as usize;
        self.merged_charges += c.merged_charges as usize;
        self.unchecked_accesses += c.unchecked_accesses as usize;
        self.unsigned_divisions += c.unsigned_divisions as usize;
        self.exact_divisions += c.exact_divisions as usize;
        self.fuel_checks += c.fuel_checks as usize;
    }
}

/// What `--trace-jit` says the compiler did to a function (`, 1 call inlined, ...`).
fn what_was_done(c: &Compiled) -> String {
    let mut what = String::new();
    let mut say = |n: u32, one: &str, done: &str| match n {
        0 => {}
        1 => what += &format!(", 1 {one} {done}"),
        n => what += &format!(", {n} {one}s {done}"),
    };
    say(c.inlined_calls, "call", "inlined");
    say(c.hoisted_loops, "loop", "hoisted");
    say(c.tail_calls, "recursive call", "looped");
    say(c.early_exits, "early exit", "inlined");
    say(c.preloaded_fields, "field", "preloaded");
    say(c.merged_charges, "call charge", "merged");
    say(c.unchecked_accesses, "index check", "removed");
    say(c.unsigned_divisions, "division", "made unsigned");
    say(c.exact_divisions, "exact division", "made a shift");
    what
}
