//! From command-line arguments to a run ready to start: the scenario loaded, overridden
//! and validated, the trial range fixed, memory checked, threads started; then running
//! it, whole or in blocks until a precision target is met.

use std::ops::Range;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::cli::SimArgs;
use crate::{BadInput, MONITOR, progress};
use consortium_sim::engine::{self, Column, Interrupted, Outcomes, Precision};
use consortium_sim::plan::Plan;
use consortium_sim::scenario::{self, Scenario};
use consortium_sim::summary;

/// Reads a scenario file, applies `--set` overrides, validates; returns the overridden
/// JSON (shown in reports, carried by partial results) with the scenario.
pub fn load(path: &Path, overrides: &[String]) -> Result<(Value, Scenario)> {
    let mut value = scenario::load::read_value(path)?;
    for spec in overrides {
        scenario::apply_set(&mut value, spec)?;
    }
    let scenario = scenario::from_value(&value, &origin(path, overrides))?;
    if let Some(note) = scenario
        .correlations
        .as_ref()
        .and_then(|c| c.repair_note.as_ref())
    {
        eprintln!("warning: {note}");
    }
    Ok((value, scenario))
}

/// How a scenario file is named in messages about it (and about edits of it).
pub fn origin(path: &Path, overrides: &[String]) -> String {
    if overrides.is_empty() {
        path.display().to_string()
    } else {
        format!("{} (with --set overrides)", path.display())
    }
}

/// A run ready to start.
pub struct Prepared {
    /// The scenario's JSON with overrides applied.
    pub value: Value,
    pub scenario: Scenario,
    pub plan: Plan,
    /// Trials in the whole run (all shards).
    pub total_trials: u64,
    /// The trials this process runs: all of them, or one shard's.
    pub range: Range<u64>,
    pub seed: u64,
    pub precision: Precision,
    pub quiet: bool,
    pub pool: rayon::ThreadPool,
}

/// Prepares the run of `sim`, restricted to `range(total_trials)` when sharded.
pub fn prepare(sim: &SimArgs, shard: Option<&dyn Fn(u64) -> Range<u64>>) -> Result<Prepared> {
    let (value, scenario) = load(&sim.scenario, &sim.set.all())?;
    let total_trials = sim.trials.unwrap_or(scenario.trials);
    if total_trials == 0 {
        bail!(BadInput("--trials must be at least 1".into()));
    }
    let range = shard.map_or(0..total_trials, |f| f(total_trials));
    let plan = Plan::compile(&scenario);
    let precision = Precision::for_run(total_trials, &plan);
    check_memory(
        sim,
        range.end - range.start,
        engine::outcomes::bytes_per_trial(&plan, precision)
            + summary::build_bytes_per_trial(&plan, precision, worker_threads(sim)),
        "ask for fewer with --trials or the scenario's \"trials\", split the run with --shard",
    )?;
    start(sim, value, scenario, plan, total_trials, range)
}

/// The most trials a run with a precision target runs unless `--max-trials` says.
pub const MAX_TRIALS: u64 = 10_000_000;

/// Trials in the first block of a run with a precision target (or the scenario's
/// `trials`, if fewer); each later block doubles the trials run so far.
pub const FIRST_BLOCK: u64 = 10_000;

/// Prepares a run that stops at a precision target (`run --target-se`,
/// `--target-prob-ci`): `total_trials` is the most it may run, `max_trials` or else
/// [`MAX_TRIALS`] or as many as the memory guard allows, whichever is fewer. The guard
/// counts the memory that joining the blocks takes at the end (see
/// [`Prepared::simulate_until`]).
pub fn prepare_converging(sim: &SimArgs, max_trials: Option<u64>) -> Result<Prepared> {
    let (value, scenario) = load(&sim.scenario, &sim.set.all())?;
    let plan = Plan::compile(&scenario);
    // Joining the blocks at the end needs, beyond the outcomes themselves, the widest
    // row column and (at most) a copy of the per-trial scalars (Outcomes::join), and each
    // check of the target a transient copy of the NPVs: count one of each.
    let per_trial = |precision: Precision| {
        let widest = plan.partners.max(plan.horizon - 1) as u64;
        let scalars = 8
            + std::mem::size_of::<engine::TrialEvents>() as u64
            + engine::outcomes::notice_bytes(plan.partners) as u64;
        // Building the report comes after the join has freed its copies.
        let build = summary::build_bytes_per_trial(&plan, precision, worker_threads(sim));
        engine::outcomes::bytes_per_trial(&plan, precision)
            + (widest * precision.bytes() as u64 + scalars).max(build)
    };
    let total_trials = match max_trials {
        Some(0) => bail!(BadInput("--max-trials must be at least 1".into())),
        Some(n) => n,
        None => {
            let fits = |precision| MAX_TRIALS.min(allowed(sim).0 / per_trial(precision));
            let n = match fits(Precision::Double) {
                n if Precision::for_run(n, &plan) == Precision::Double => n,
                _ => fits(Precision::Single),
            };
            if 0 < n && n < MAX_TRIALS {
                eprintln!(
                    "note: at most {n} trials, the most the memory guard allows (see \
                     --max-memory), instead of the default --max-trials {MAX_TRIALS}"
                );
            }
            n.max(1)
        }
    };
    check_memory(
        sim,
        total_trials,
        per_trial(Precision::for_run(total_trials, &plan)),
        "lower --max-trials",
    )?;
    start(sim, value, scenario, plan, total_trials, 0..total_trials)
}

/// Starts the worker threads for a run of `range` of `total_trials`.
fn start(
    sim: &SimArgs,
    value: Value,
    scenario: Scenario,
    plan: Plan,
    total_trials: u64,
    range: Range<u64>,
) -> Result<Prepared> {
    let precision = Precision::for_run(total_trials, &plan);
    if sim.threads == Some(0) {
        bail!(BadInput("--threads must be at least 1".into()));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(sim.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    Ok(Prepared {
        seed: sim.seed.unwrap_or(scenario.seed),
        quiet: sim.quiet,
        value,
        scenario,
        plan,
        total_trials,
        range,
        precision,
        pool,
    })
}

/// Refuses, before anything starts, a run whose outcomes would not fit; `advice` says
/// how to ask for less.
fn check_memory(sim: &SimArgs, trials: u64, per_trial: u64, advice: &str) -> Result<()> {
    let needed = trials.saturating_mul(per_trial);
    let (limit, whose) = allowed(sim);
    if needed > limit {
        bail!(BadInput(format!(
            "{trials} trials of this scenario need about {} MiB, more than the {} MiB allowed \
             ({whose}); {advice}, or raise --max-memory",
            needed.div_ceil(1 << 20),
            limit >> 20
        )));
    }
    Ok(())
}

/// The worker threads the run's pool will have: `--threads`, else as rayon chooses by
/// default (`RAYON_NUM_THREADS`, else one per core).
fn worker_threads(sim: &SimArgs) -> usize {
    let from_env = || {
        std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n: &usize| n > 0)
    };
    sim.threads
        .or_else(from_env)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The memory a run may take, and who set that limit.
fn allowed(sim: &SimArgs) -> (u64, &'static str) {
    match sim.max_memory {
        Some(bytes) => (bytes, "set by --max-memory"),
        None => (memory_limit(), "half this machine's memory"),
    }
}

/// Half of this machine's memory (from /proc/meminfo), or 8 GiB where that cannot be read.
fn memory_limit() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        });
    total.map_or(8 << 30, |bytes| bytes / 2)
}

impl Prepared {
    /// Trials this process runs.
    pub fn trials(&self) -> usize {
        (self.range.end - self.range.start) as usize
    }

    /// Simulates this process's trials with a progress bar, stopping early on Ctrl-C.
    /// Returns the outcomes and the seconds taken.
    pub fn simulate(&self) -> Result<(Outcomes, f64)> {
        let start = Instant::now();
        MONITOR.done.store(0, Ordering::Relaxed);
        let outcomes =
            progress::while_running(&MONITOR, self.trials() as u64, !self.quiet, || {
                self.pool.install(|| {
                    engine::run_monitored(
                        &self.plan,
                        self.seed,
                        self.range.start,
                        self.trials(),
                        self.precision,
                        &MONITOR,
                    )
                })
            })?;
        Ok((outcomes, start.elapsed().as_secs_f64()))
    }

    /// Simulates blocks of trials until `enough(npv)`, given the consortium NPVs of the
    /// trials so far in trial order, says they suffice, or all `total_trials` have run;
    /// stops early on Ctrl-C. Returns the outcomes, the seconds taken and whether
    /// `enough` said yes.
    ///
    /// The blocks end at fixed checkpoints, [`FIRST_BLOCK`] (or the scenario's `trials`,
    /// if fewer) then twice the trials so far, capped at `total_trials`, so the result
    /// depends only on the seed and the trials used, never on threads or timing. Each
    /// block stores its rows at the precision of a plain run of the trials so far, and
    /// earlier blocks are narrowed to single precision (as the engine narrows) before
    /// the first block that needs it: the outcomes equal a plain run of the trials used,
    /// bit for bit.
    pub fn simulate_until(&self, enough: impl Fn(&[f64]) -> bool) -> Result<(Outcomes, f64, bool)> {
        let start = Instant::now();
        MONITOR.done.store(0, Ordering::Relaxed);
        let mut blocks: Vec<Outcomes> = Vec::new();
        let mut end = FIRST_BLOCK
            .min(self.scenario.trials)
            .clamp(1, self.total_trials);
        loop {
            let begin = blocks.iter().map(|b| b.trials as u64).sum::<u64>();
            let precision = Precision::for_run(end, &self.plan);
            if precision == Precision::Single {
                blocks.iter_mut().for_each(narrow);
            }
            let block = progress::while_running(&MONITOR, end, !self.quiet, || {
                self.pool.install(|| {
                    engine::run_monitored(
                        &self.plan,
                        self.seed,
                        begin,
                        (end - begin) as usize,
                        precision,
                        &MONITOR,
                    )
                })
            })?;
            blocks.push(block);
            interrupted()?;
            // The consortium NPVs so far, in trial order (a transient copy).
            let npv: Vec<f64> = blocks.iter().flat_map(|b| b.npv.iter().copied()).collect();
            let reached = enough(&npv);
            if reached || end >= self.total_trials {
                drop(npv);
                let outcomes = Outcomes::join(blocks);
                return Ok((outcomes, start.elapsed().as_secs_f64(), reached));
            }
            end = end.saturating_mul(2).min(self.total_trials);
        }
    }
}

/// Stores a block's rows in single precision, exactly as the engine stores them (`as
/// f32`) in a run large enough to need it.
fn narrow(block: &mut Outcomes) {
    for column in [&mut block.partner_npv, &mut block.cumulative] {
        if let Column::F64(values) = column {
            *column = Column::F32(values.iter().map(|&v| v as f32).collect());
        }
    }
}

/// Fails with [`Interrupted`] once Ctrl-C or SIGTERM has been received.
pub fn interrupted() -> Result<()> {
    if MONITOR.is_cancelled() {
        bail!(Interrupted);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use consortium_sim::engine::Monitor;

    fn plan() -> Plan {
        let value = serde_json::from_str(consortium_sim::TEMPLATE).unwrap();
        Plan::compile(&scenario::from_value(&value, "the template").unwrap())
    }

    fn block(plan: &Plan, trials: Range<u64>, precision: Precision) -> Outcomes {
        let n = (trials.end - trials.start) as usize;
        engine::run_monitored(plan, 7, trials.start, n, precision, &Monitor::new()).unwrap()
    }

    #[test]
    fn joined_blocks_equal_a_whole_run() {
        let plan = plan();
        let whole = block(&plan, 0..450, Precision::Double);
        let blocks: Vec<_> = [0..100, 100..200, 200..400, 400..450]
            .into_iter()
            .map(|r| block(&plan, r, Precision::Double))
            .collect();
        assert_eq!(Outcomes::join(blocks), whole);
    }

    #[test]
    fn narrowed_blocks_equal_a_single_precision_run() {
        let plan = plan();
        let whole = block(&plan, 0..450, Precision::Single);
        let mut blocks = vec![
            block(&plan, 0..100, Precision::Double),
            block(&plan, 100..200, Precision::Double),
        ];
        blocks.iter_mut().for_each(narrow);
        blocks.push(block(&plan, 200..450, Precision::Single));
        assert_eq!(Outcomes::join(blocks), whole);
    }
}
