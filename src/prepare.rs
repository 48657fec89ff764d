//! From command-line arguments to a run ready to start: the scenario loaded, overridden
//! and validated, the trial range fixed, memory checked, threads started.

use std::ops::Range;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::cli::SimArgs;
use crate::{BadInput, MONITOR, progress};
use consortium_sim::engine::{self, Interrupted, Outcomes, Precision};
use consortium_sim::plan::Plan;
use consortium_sim::scenario::{self, Scenario};

/// Reads a scenario file, applies `--set` overrides, validates; returns the overridden
/// JSON (shown in reports, carried by partial results) with the scenario.
pub fn load(path: &Path, overrides: &[String]) -> Result<(Value, Scenario)> {
    let mut value = scenario::load::read_value(path)?;
    for spec in overrides {
        scenario::apply_set(&mut value, spec)?;
    }
    let origin = if overrides.is_empty() {
        path.display().to_string()
    } else {
        format!("{} (with --set overrides)", path.display())
    };
    let scenario = scenario::from_value(&value, &origin)?;
    Ok((value, scenario))
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
    let (value, scenario) = load(&sim.scenario, &sim.set.overrides)?;
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
        engine::outcomes::bytes_per_trial(&plan, precision),
    )?;
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

/// Refuses, before anything starts, a run whose outcomes would not fit.
fn check_memory(sim: &SimArgs, trials: u64, per_trial: u64) -> Result<()> {
    let needed = trials.saturating_mul(per_trial);
    let (limit, whose) = match sim.max_memory {
        Some(bytes) => (bytes, "set by --max-memory"),
        None => (memory_limit(), "half this machine's memory"),
    };
    if needed > limit {
        bail!(BadInput(format!(
            "{trials} trials of this scenario need about {} MiB, more than the {} MiB allowed \
             ({whose}); ask for fewer with --trials or the scenario's \"trials\", split the run \
             with --shard, or raise --max-memory",
            needed.div_ceil(1 << 20),
            limit >> 20
        )));
    }
    Ok(())
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
}

/// Fails with [`Interrupted`] once Ctrl-C or SIGTERM has been received.
pub fn interrupted() -> Result<()> {
    if MONITOR.is_cancelled() {
        bail!(Interrupted);
    }
    Ok(())
}
