//! The parallel driver: runs trials on rayon and collects their outcomes by trial index.
//!
//! Trials are cut into fixed-size chunks; each chunk writes into its own slices of the
//! output columns, so a trial's results land at its index whatever thread ran it. All
//! statistics are computed afterwards from these columns in index order, which is why a
//! report does not depend on the number of threads.

pub mod trace;
pub mod trial;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use crate::plan::Plan;
pub use trial::{
    NO_YEAR, NoObserver, Observer, Scratch, Status, TrialOut, TrialSummary, YearView, simulate,
};

/// Trials per work unit: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 512;

/// Every trial's results, in columns indexed by trial (trial-major for the 2-D ones).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcomes {
    pub trials: usize,
    pub partners: usize,
    pub horizon: usize,
    /// Index of the first trial (0 unless the run is a shard of a larger one).
    pub first_trial: u64,
    pub summary: Vec<TrialSummary>,
    /// `partner_npv[k * partners + i]`.
    pub partner_npv: Vec<f64>,
    /// `cumulative[k * horizon + t]`: cumulative discounted consortium saving.
    pub cumulative: Vec<f64>,
    /// `gave_notice[k * partners + i]` is 1 if partner i gave notice in trial k.
    pub gave_notice: Vec<u8>,
}

impl Outcomes {
    /// NPV of each partner in trial `k` (relative to `first_trial`).
    pub fn partner_npvs(&self, k: usize) -> &[f64] {
        &self.partner_npv[k * self.partners..(k + 1) * self.partners]
    }
}

/// Memory the outcome columns of one trial take, and (roughly) its share of the report's
/// working copies: used to refuse a run that cannot fit before it starts.
pub fn bytes_per_trial(plan: &Plan) -> u64 {
    let columns = std::mem::size_of::<TrialSummary>()
        + plan.partners * (std::mem::size_of::<f64>() + 1)
        + plan.horizon * std::mem::size_of::<f64>();
    // Summaries copy and sort one column at a time per thread.
    (columns + 4 * std::mem::size_of::<f64>()) as u64
}

/// Watches a run from outside: it can be asked to stop, and it counts finished trials
/// (for progress bars). Its fields are atomics so that a signal handler or another
/// thread can use it while workers run.
#[derive(Debug, Default)]
pub struct Monitor {
    /// Set to stop the run: workers stop at the next chunk boundary.
    pub cancel: AtomicBool,
    /// Trials finished so far.
    pub done: AtomicU64,
}

impl Monitor {
    /// A monitor that has not been cancelled (const, so it can be a `static`).
    pub const fn new() -> Monitor {
        Monitor {
            cancel: AtomicBool::new(false),
            done: AtomicU64::new(0),
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
/// current rayon pool.
pub fn run(plan: &Plan, seed: u64, first_trial: u64, trials: usize) -> Outcomes {
    run_monitored(plan, seed, first_trial, trials, &Monitor::new())
        .expect("a run nobody can cancel finishes")
}

/// Like [`run`], reporting progress to `monitor` and stopping early (with
/// [`Interrupted`]) once it is cancelled. A chunk of trials takes well under a
/// millisecond, so a cancelled run stops almost at once.
pub fn run_monitored(
    plan: &Plan,
    seed: u64,
    first_trial: u64,
    trials: usize,
    monitor: &Monitor,
) -> Result<Outcomes, Interrupted> {
    let (p, h) = (plan.partners, plan.horizon);
    let mut out = Outcomes {
        trials,
        partners: p,
        horizon: h,
        first_trial,
        summary: vec![TrialSummary::default(); trials],
        partner_npv: vec![0.0; trials * p],
        cumulative: vec![0.0; trials * h],
        gave_notice: vec![0; trials * p],
    };
    let chunks: Vec<_> = out
        .summary
        .chunks_mut(CHUNK)
        .zip(out.partner_npv.chunks_mut(CHUNK * p))
        .zip(out.cumulative.chunks_mut(CHUNK * h))
        .zip(out.gave_notice.chunks_mut(CHUNK * p))
        .enumerate()
        .collect();
    chunks.into_par_iter().for_each_init(
        || Scratch::new(plan),
        |scratch, (c, (((summary, npv), cumulative), notice))| {
            if monitor.is_cancelled() {
                return;
            }
            for (j, slot) in summary.iter_mut().enumerate() {
                let trial = first_trial + (c * CHUNK + j) as u64;
                let trial_out = TrialOut {
                    partner_npv: &mut npv[j * p..(j + 1) * p],
                    cumulative: &mut cumulative[j * h..(j + 1) * h],
                    gave_notice: &mut notice[j * p..(j + 1) * p],
                };
                *slot = simulate(plan, seed, trial, scratch, trial_out, &mut NoObserver);
            }
            monitor
                .done
                .fetch_add(summary.len() as u64, Ordering::Relaxed);
        },
    );
    if monitor.is_cancelled() {
        return Err(Interrupted);
    }
    Ok(out)
}
