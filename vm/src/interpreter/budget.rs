//! Fuel and the wall-clock deadline: the limit state that both execution tiers check.
//!
//! **One counter on the hot path.** Guest code is charged at loop back-edges (the number of
//! instructions the jump goes back over: the length of the loop body) and at calls (one
//! unit), by subtracting from [`Budget::ticks`] and taking the slow path only when it goes
//! negative. The slow path ([`Budget::refill`]) hands out the next chunk of at most
//! [`CHECK_INTERVAL`] units from the fuel that is left (trapping `out of fuel` when none is),
//! and checks the deadline and the interrupt flag. So a run without limits pays one
//! subtract-and-branch per back-edge or call, the clock is read once per
//! `CHECK_INTERVAL` units (no timer thread, no thread per VM), and fuel is exact:
//! deterministic across runs and machines. The JIT tier will emit the same
//! subtract-and-branch against the same field and call the same slow path, charging each
//! block's static instruction count at its back-edges.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::sandbox::Limits;
use crate::trap::TrapKind;

/// Units handed out per slow-path check: how often the deadline is looked at.
pub const CHECK_INTERVAL: i64 = 10_000;

/// The fuel counter and the deadline of one VM.
#[derive(Debug)]
pub struct Budget {
    /// Units that may be spent before the next slow-path check. Charged by the tiers;
    /// negative means "check now".
    pub ticks: i64,
    /// Fuel not yet handed out to `ticks` (`u64::MAX` when fuel is unlimited).
    reserve: u64,
    limited: bool,
    deadline: Option<Instant>,
    interrupt: Arc<AtomicBool>,
}

impl Budget {
    /// A budget for `limits` (the deadline starts with [`Budget::start`]).
    pub fn new(limits: &Limits) -> Budget {
        let mut b = Budget {
            ticks: 0,
            reserve: limits.fuel.unwrap_or(u64::MAX),
            limited: limits.fuel.is_some(),
            deadline: None,
            interrupt: Arc::new(AtomicBool::new(false)),
        };
        b.hand_out();
        b
    }

    /// Starts the wall-clock limit (at each top-level entry into guest code).
    pub fn start(&mut self, timeout: Option<Duration>) {
        self.deadline = timeout.map(|t| Instant::now() + t);
    }

    /// Replaces the fuel left with `fuel` (`None`: unlimited), keeping the deadline and the
    /// interrupt flag: how an embedder refuels a sandbox between calls.
    pub fn set_fuel(&mut self, fuel: Option<u64>) {
        self.ticks = 0;
        self.reserve = fuel.unwrap_or(u64::MAX);
        self.limited = fuel.is_some();
        self.hand_out();
    }

    /// The interrupt flag.
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.interrupt)
    }

    /// Whether anything can stop the guest: a fuel limit, a deadline (`timeout`: whether
    /// one is configured), or an interrupt handle someone holds. Only then must compiled
    /// code poll the budget (see `tier::Runtime::polls`).
    pub fn watched(&self, timeout: bool) -> bool {
        self.limited || timeout || Arc::strong_count(&self.interrupt) > 1
    }

    /// The fuel left, if limited.
    pub fn fuel_remaining(&self) -> Option<u64> {
        self.limited
            .then(|| self.reserve.saturating_add(self.ticks.max(0) as u64))
    }

    fn hand_out(&mut self) {
        let chunk = self.reserve.min(CHECK_INTERVAL as u64);
        self.reserve -= chunk;
        self.ticks += chunk as i64;
    }

    /// Charges `units` (the hot path; inlined into the tiers).
    #[inline(always)]
    pub fn charge(&mut self, units: i64) -> Result<(), TrapKind> {
        self.ticks -= units;
        if self.ticks < 0 {
            return self.refill();
        }
        Ok(())
    }

    /// The slow path: more fuel, or `out of fuel`; then the deadline and the interrupt.
    #[cold]
    #[inline(never)]
    pub fn refill(&mut self) -> Result<(), TrapKind> {
        while self.ticks < 0 {
            if self.reserve == 0 {
                if self.limited {
                    return Err(TrapKind::OutOfFuel);
                }
                self.reserve = u64::MAX;
            }
            self.hand_out();
        }
        if self.interrupt.swap(false, Ordering::Relaxed) {
            return Err(TrapKind::Timeout);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(TrapKind::Timeout);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuel_is_exact() {
        let limits = Limits {
            fuel: Some(25_000),
            ..Limits::default()
        };
        let mut b = Budget::new(&limits);
        for _ in 0..25_000 {
            b.charge(1).expect("fuel left");
        }
        assert_eq!(b.fuel_remaining(), Some(0));
        assert_eq!(b.charge(1), Err(TrapKind::OutOfFuel));
    }

    #[test]
    fn watched_by_limits_and_handles() {
        let mut b = Budget::new(&Limits::default());
        assert!(!b.watched(false));
        assert!(b.watched(true));
        let handle = b.interrupt_handle();
        assert!(b.watched(false));
        drop(handle);
        assert!(!b.watched(false));
        b.set_fuel(Some(10));
        assert!(b.watched(false));
    }

    #[test]
    fn unlimited_never_runs_out() {
        let mut b = Budget::new(&Limits::default());
        for _ in 0..100 {
            b.charge(CHECK_INTERVAL * 3).expect("unlimited");
        }
    }

    #[test]
    fn deadline_and_interrupt() {
        let mut b = Budget::new(&Limits::default());
        b.start(Some(Duration::ZERO));
        assert_eq!(b.charge(CHECK_INTERVAL + 1), Err(TrapKind::Timeout));
        let mut b = Budget::new(&Limits::default());
        b.interrupt_handle().store(true, Ordering::Relaxed);
        assert_eq!(b.charge(CHECK_INTERVAL + 1), Err(TrapKind::Timeout));
    }
}
