//! Background compilation: in `auto` mode (with [`JitConfig::background`]) a VM compiles
//! on a thread of its own while the interpreter goes on with the function that got hot,
//! and switches to the machine code at the next call or loop back-edge that finds it
//! ready. A compilation takes a millisecond or more (Cranelift, for a small function);
//! paused for it, a short program spends a sizeable part of its run waiting, while the
//! interpreter could have gone on meanwhile on the machine's other core.
//!
//! **Why the tiers may switch at any moment.** The two tiers mean the same (same output,
//! traps, positions, fuel, limits; `spec/jit.md`), so *when* a function switches changes
//! only the speed. What it changes is reproducibility of `--trace-jit` and
//! `Vm::jit_stats` (which compilations finish before the program ends), which is why the
//! synchronous mode stays (`--jit-sync`, and the default of the embedding API).
//!
//! **Who owns the machine code.** The thread makes the session (the Cranelift module that
//! owns the code memory) at its first job and keeps it in a slot it shares with the VM, so
//! the code lives as long as the VM whatever happens to the thread (a panic while compiling
//! leaves the session to the VM, and every pending compilation counts as refused). The VM
//! drops its end of the job channel when it is dropped; the thread then finishes its job
//! and exits, and the last owner frees the code, when no guest code can run any more.
//!
//! [`JitConfig::background`]: crate::tier::JitConfig::background

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::tier::{Compiled, Runtime, Tier, TierSession};
use crate::verified::VerifiedModule;

/// One function to compile.
struct Job {
    func: u32,
    osr: bool,
    rt: Runtime,
}

/// A finished compilation.
pub(in crate::interpreter) struct Done {
    pub func: u32,
    pub osr: bool,
    pub result: Result<Compiled, String>,
    pub micros: u64,
    /// Whether the code polls the budget (`Runtime::polls`).
    pub polls: bool,
    /// The tier's target (`cranelift x86_64`), or why the tier could not start.
    pub target: Result<String, String>,
}

/// The VM's end of its compile thread.
pub(in crate::interpreter) struct Background {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    /// Jobs sent whose result has not been received.
    in_flight: usize,
    /// The session, shared with the thread so that the machine code outlives it.
    _session: Arc<Mutex<Option<Box<dyn TierSession>>>>,
}

impl Background {
    /// Starts the compile thread for `module`; `None` if the thread cannot be started
    /// (the VM then compiles synchronously).
    pub fn start(compiler: Arc<dyn Tier>, module: Arc<VerifiedModule>) -> Option<Background> {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done) = mpsc::channel::<Done>();
        let session: Arc<Mutex<Option<Box<dyn TierSession>>>> = Arc::new(Mutex::new(None));
        let shared = Arc::clone(&session);
        std::thread::Builder::new()
            .name("rvm-jit".into())
            .spawn(move || {
                for job in job_rx {
                    let start = Instant::now();
                    // A poisoned lock means an earlier compilation panicked: the session
                    // may be inconsistent, so compile nothing more (the VM sees the
                    // channel close and refuses what is pending).
                    let Ok(mut slot) = shared.lock() else { return };
                    let target = match slot.as_ref() {
                        Some(s) => Ok(s.target()),
                        None => match compiler.session(&module) {
                            Ok(s) => {
                                let t = s.target();
                                *slot = Some(s);
                                Ok(t)
                            }
                            Err(e) => Err(e),
                        },
                    };
                    let result = match (slot.as_mut(), &target) {
                        (Some(s), _) => s.compile(&module, job.func, &job.rt, job.osr),
                        (None, Err(e)) => Err(format!("the tier could not start: {e}")),
                        (None, Ok(_)) => Err("no session".into()),
                    };
                    drop(slot);
                    let done = Done {
                        func: job.func,
                        osr: job.osr,
                        result,
                        micros: start.elapsed().as_micros() as u64,
                        polls: job.rt.polls,
                        target,
                    };
                    if done_tx.send(done).is_err() {
                        return;
                    }
                }
            })
            .ok()?;
        Some(Background {
            jobs: Some(jobs),
            done,
            in_flight: 0,
            _session: session,
        })
    }

    /// Queues function `func` (with on-stack replacement entries if `osr`); false if the
    /// thread is gone.
    pub fn submit(&mut self, func: u32, osr: bool, rt: Runtime) -> bool {
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|j| j.send(Job { func, osr, rt }).is_ok());
        if sent {
            self.in_flight += 1;
        }
        sent
    }

    /// Whether a result may be waiting.
    #[inline]
    pub fn busy(&self) -> bool {
        self.in_flight > 0
    }

    /// A finished compilation, if any; `Err(())` once the thread has died with jobs
    /// pending (they will never finish).
    pub fn poll(&mut self) -> Result<Option<Done>, ()> {
        match self.done.try_recv() {
            Ok(d) => {
                self.in_flight -= 1;
                Ok(Some(d))
            }
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => {
                self.in_flight = 0;
                self.jobs = None;
                Err(())
            }
        }
    }
}
