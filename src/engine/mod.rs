//! The parallel driver: runs trials on rayon and collects their outcomes by trial index.
//!
//! Trials are cut into fixed-size chunks; each chunk writes into its own slices of the
//! output columns, so a trial's results land at its index whatever thread ran it. All
//! statistics are computed afterwards from these columns, which is why a report does not
//! depend on the number of threads.
//!
//! The columns are laid out for the statistics that follow: one row per partner and one
//! per year, each holding every trial, so that a row can be rearranged in place for exact
//! percentiles without a copy. Large runs store those rows in single precision (see
//! [`Precision`]) so that ten million trials of an 8-partner, 10-year scenario fit in
//! well under 1 GiB.

pub mod outcomes;
pub mod trace;
pub mod trial;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use crate::plan::Plan;
pub use outcomes::{Column, Outcomes, Precision, TrialEvents};
pub use trial::{
    NO_YEAR, NoObserver, Observer, PartnerState, Scratch, Status, TrialSummary, YearView, simulate,
};

/// Trials per work unit: large enough to amortise scheduling, small enough to balance
/// and to notice a cancellation within milliseconds.
const CHUNK: usize = 1024;

/// Watches a run from outside: it can be asked to stop, and it counts finished trials
/// (for progress bars). Its fields are atomics so that a signal handler or another
/// thread can use it while workers run.
#[derive(Debug, Default)]
pub struct Monitor {
    /// Set to stop the run: workers stop at the next chunk boundary.
    pub cancel: AtomicBool,
    /// Trials finished so far.
    pub done: AtomicU64,
    /// Trials the current stretch of work will have finished at its end (set by whoever
    /// starts it, such as the run API for each block of a run to a precision target), so
    /// that a progress display knows its length.
    pub total: AtomicU64,
}

impl Monitor {
    /// A monitor that has not been cancelled (const, so it can be a `static`).
    pub const fn new() -> Monitor {
        Monitor {
            cancel: AtomicBool::new(false),
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// A run was stopped through its [`Monitor`] before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the run was interrupted before it finished")]
pub struct Interrupted;

/// Runs trials `first_trial .. first_trial + trials` of `plan` under `seed` on the
/// current rayon pool, storing rows at the precision their number asks, and keeping no
/// yearly savings (the engine's plain run, which the speed guard measures; the run API
/// keeps them through [`run_keeping`]).
pub fn run(plan: &Plan, seed: u64, first_trial: u64, trials: usize) -> Outcomes {
    let precision = Precision::for_run(trials as u64, plan);
    run_keeping(
        plan,
        seed,
        first_trial,
        trials,
        precision,
        false,
        &Monitor::new(),
    )
    .expect("a run nobody can cancel finishes")
}

/// Like [`run`], with the row precision given (a shard uses its whole run's), reporting
/// progress to `monitor` and stopping early with [`Interrupted`] once it is cancelled.
pub fn run_monitored(
    plan: &Plan,
    seed: u64,
    first_trial: u64,
    trials: usize,
    precision: Precision,
    monitor: &Monitor,
) -> Result<Outcomes, Interrupted> {
    run_keeping(plan, seed, first_trial, trials, precision, true, monitor)
}

/// Like [`run_monitored`]; without `keep_cash` no trial keeps its partners' yearly
/// savings, and every trial runs the year loop without an observer (an analysis reports
/// no cash by year).
pub fn run_keeping(
    plan: &Plan,
    seed: u64,
    first_trial: u64,
    trials: usize,
    precision: Precision,
    keep_cash: bool,
    monitor: &Monitor,
) -> Result<Outcomes, Interrupted> {
    let mut out = Outcomes::zeroed_keeping(plan, first_trial, trials, precision, keep_cash);
    let views = out.chunk_views(CHUNK);
    views.into_par_iter().for_each_init(
        || Scratch::new(plan),
        |scratch, mut view| {
            if monitor.is_cancelled() {
                return;
            }
            for j in 0..view.len() {
                let trial = first_trial + (view.start + j) as u64;
                // The first trials of a run also keep their partners' yearly savings;
                // the others run the year loop exactly as before (no observer).
                let summary = match view.cash_recorder(j, plan.horizon) {
                    Some(mut keep) => simulate(plan, seed, trial, scratch, &mut keep),
                    None => simulate(plan, seed, trial, scratch, &mut NoObserver),
                };
                view.store(j, &summary, scratch);
            }
            monitor.done.fetch_add(view.len() as u64, Ordering::Relaxed);
        },
    );
    if monitor.is_cancelled() {
        return Err(Interrupted);
    }
    Ok(out)
}
