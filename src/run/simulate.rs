//! Running a prepared run (whole, one shard, or to its target), and what follows from
//! its outcomes: the report, the worst trial and its replay, a shard's partial result,
//! and the merge of partial results.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::error::{Error, Message, Notice, Result, Setting, message};
use super::memory::{self, Footprint};
use super::prepare::Prepared;
use super::provenance;
use crate::engine::{self, Interrupted, Monitor, Outcomes, Precision, trace};
use crate::scenario::Scenario;
use crate::scenario::origin::Origin;
use crate::scenario::plausibility::{self, Warning};
use crate::shard::{self, PartialHeader};
use crate::summary::{self, AsRun, Convergence, Report, RunInfo};

/// The outcomes of a run, with how long it took.
pub struct Simulation {
    pub outcomes: Outcomes,
    /// Seconds the simulation took.
    pub seconds: f64,
    /// Whether a run with a target met it (a run without one always has).
    pub target_reached: bool,
    /// Whether a run with a target had enough trials to judge it (see
    /// [`super::Target::unjudged`]); true for a run without one.
    pub target_judged: bool,
    /// For a run with a target, the trial counts at which it was judged, in order (the
    /// last is the trials used); empty for a run without one.
    pub checkpoints: Vec<u64>,
}

/// Fails with [`Interrupted`] once `monitor` has been cancelled.
pub fn interrupted(monitor: &Monitor) -> Result<(), Interrupted> {
    if monitor.is_cancelled() {
        return Err(Interrupted);
    }
    Ok(())
}

impl Prepared {
    /// Simulates this process's trials (to the target, if the run has one), reporting
    /// progress to `monitor` (`done` out of `total`) and stopping early once it is
    /// cancelled.
    ///
    /// A run of fixed trials is first checked against the memory guard: its outcomes,
    /// and the report built from them ([`Prepared::report`]). A run to a target was
    /// checked when it was prepared.
    pub fn simulate(&self, monitor: &Monitor) -> Result<Simulation> {
        if let Some(target) = self.target {
            let sampling = self.plan.sampling;
            return self.simulate_until(monitor, |npv| target.judge(npv, sampling));
        }
        let split = message![", split the run with ", Setting::Shard];
        self.check_memory(&self.footprint(), split)?;
        self.simulate_fixed(monitor)
    }

    /// The footprint of this run and its report (one run of an analysis).
    pub fn footprint(&self) -> Footprint {
        let mut f = Footprint::run(
            &self.scenario,
            &self.plan,
            self.trials() as u64,
            self.pool.current_num_threads(),
            self.page,
        );
        // A shard stores its rows as its whole run does.
        f.outcomes = memory::outcome_bytes(&self.plan, self.trials() as u64, self.precision);
        f.summary = memory::summary_bytes(self.trials() as u64, self.precision);
        if !self.cash_by_year {
            f.cash = 0;
        }
        f
    }

    /// Refuses to go on if `footprint` is more than the run may take; `more` adds to
    /// the advice to ask for fewer trials.
    fn check_memory(&self, footprint: &Footprint, more: Message) -> Result<()> {
        memory::check(
            self.max_memory,
            footprint,
            format!("{} trials of this scenario", self.trials()),
            message![
                "ask for fewer with ",
                Setting::Trials,
                " or the scenario's \"trials\"",
                more,
            ],
        )
    }

    /// Simulates the whole run and finds its worst trial ([`worst_trial`]), checking
    /// first the memory that takes: the outcomes and the sort, but no report.
    pub fn worst(&self, monitor: &Monitor) -> Result<u64> {
        self.pick(Pick::CONSORTIUM_WORST, monitor)
    }

    /// Runs the whole run and returns the index of the trial that `pick` names (for
    /// `trace`), under the same memory guard as [`Prepared::worst`].
    pub fn pick(&self, pick: Pick, monitor: &Monitor) -> Result<u64> {
        let mut footprint = self.footprint();
        footprint.report = 0;
        footprint.summary = 8 * self.trials() as u64;
        self.check_memory(&footprint, Message::default())?;
        let outcomes = self.simulate_fixed(monitor)?.outcomes;
        Ok(match pick.partner {
            None => trial_at(&outcomes, pick.percentile, |k| outcomes.npv[k]),
            Some(i) => trial_at(&outcomes, pick.percentile, |k| outcomes.partner_npv(k, i)),
        })
    }

    fn simulate_fixed(&self, monitor: &Monitor) -> Result<Simulation> {
        let start = Instant::now();
        monitor.done.store(0, Ordering::Relaxed);
        monitor.total.store(self.trials() as u64, Ordering::Relaxed);
        let outcomes = self.pool.install(|| {
            engine::run_keeping(
                &self.plan,
                self.seed,
                self.range.start,
                self.trials(),
                self.precision,
                self.cash_by_year,
                monitor,
            )
        })?;
        Ok(Simulation {
            outcomes,
            seconds: start.elapsed().as_secs_f64(),
            target_reached: true,
            target_judged: true,
            checkpoints: Vec::new(),
        })
    }

    /// Builds the report of `simulation` on the run's threads (see [`build_report`]),
    /// with how a run with a target stopped. Building the report rearranges the
    /// outcomes' partner rows: write the trial table first.
    pub fn report(&self, simulation: &Simulation, monitor: &Monitor) -> Result<Report> {
        let threads = self.pool.current_num_threads();
        let mut report = self.pool.install(|| {
            build_report(
                &self.scenario,
                self.seed,
                &simulation.outcomes,
                threads,
                simulation.seconds,
                monitor,
            )
        })?;
        report.warnings = self.warnings.clone();
        report.provenance = Some(self.provenance());
        report.run.convergence = self.target.map(|t| Convergence {
            trials_used: simulation.outcomes.trials as u64,
            max_trials: self.total_trials,
            target_se: t.se,
            target_prob_ci: t.prob_ci,
            target_reached: simulation.target_reached,
            target_judged: simulation.target_judged,
            checkpoints: simulation.checkpoints.clone(),
        });
        Ok(report)
    }

    /// Replays `trial` of this run year by year.
    pub fn replay(&self, trial: u64) -> Result<trace::Replay> {
        if trial >= self.total_trials {
            return Err(Error::request(message![
                Setting::Trial,
                format!(
                    " {trial} is not a trial of this run: trials are numbered 0 to {}",
                    self.total_trials - 1
                ),
            ]));
        }
        Ok(trace::replay(&self.plan, self.seed, trial))
    }

    /// Writes a shard's outcomes as a partial result to `path`, unless the run has been
    /// interrupted meanwhile. Only for a sharded run.
    pub fn write_partial(
        &self,
        path: &Path,
        simulation: &Simulation,
        monitor: &Monitor,
    ) -> Result<()> {
        let header = self.partial_header(simulation);
        interrupted(monitor)?;
        shard::write_partial(path, &header, &simulation.outcomes)?;
        Ok(())
    }

    /// A shard's outcomes as a partial result in memory, the bytes
    /// [`Prepared::write_partial`] would write: for a front end whose workers hand
    /// results back rather than share a disk. [`merge`] reads them from files.
    pub fn partial_bytes(&self, simulation: &Simulation) -> Vec<u8> {
        shard::partial_bytes(&self.partial_header(simulation), &simulation.outcomes)
    }

    /// The header of this shard's partial result. Only for a sharded run.
    fn partial_header(&self, simulation: &Simulation) -> PartialHeader {
        let shard = self
            .shard
            .expect("a partial result comes from a sharded run");
        PartialHeader {
            format_version: shard::format_version(self.plan.sampling),
            engine_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_hash: shard::scenario_hash(&self.value),
            scenario: self.value.clone(),
            seed: self.seed,
            total_trials: self.total_trials,
            shard_index: shard.index,
            shard_count: shard.count,
            first_trial: self.range.start,
            trials: self.trials() as u64,
            partners: self.plan.partners,
            horizon: self.plan.horizon,
            precision: match self.precision {
                Precision::Double => "double".into(),
                Precision::Single => "single".into(),
            },
            threads: self.pool.current_num_threads(),
            elapsed_seconds: simulation.seconds,
            origin: Some(self.from.clone()),
            sampling: self.plan.sampling,
        }
    }
}

/// Builds the report, timing the summary with the simulation (`seconds`), and refuses
/// to go on with a report that has a non-finite figure (a bug, never to be written).
pub fn build_report(
    scenario: &Scenario,
    seed: u64,
    outcomes: &Outcomes,
    threads: usize,
    seconds: f64,
    monitor: &Monitor,
) -> Result<Report> {
    let start = Instant::now();
    let mut report = Report::build(scenario, seed, outcomes, RunInfo::new(0, 0.0, 0));
    report.run = RunInfo::new(
        threads,
        seconds + start.elapsed().as_secs_f64(),
        outcomes.trials,
    );
    interrupted(monitor)?;
    let bad = summary::non_finite(&report);
    if !bad.is_empty() {
        return Err(Error::Fault {
            message: format!(
                "internal error: the report has non-finite figures at {}; please report this \
                 with the scenario",
                bad.join(", ")
            ),
            source: None,
        });
    }
    Ok(report)
}

/// Which trial `trace` replays when it is not given one: the trial at a percentile of the
/// consortium's NPV, or of one partner's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    /// The percentile, 0 to 100: 1 is the "worst" case, 50 the median.
    pub percentile: f64,
    /// The partner (its index) whose NPV ranks the trials; `None` for the consortium's.
    pub partner: Option<usize>,
}

impl Pick {
    /// The 1st-percentile consortium NPV: `trace --worst`.
    pub const CONSORTIUM_WORST: Pick = Pick {
        percentile: 1.0,
        partner: None,
    };
}

/// The trial at the 1st percentile of consortium NPV: rank round(0.01 (n - 1)) in the
/// order of (NPV, trial index).
pub fn worst_trial(outcomes: &Outcomes) -> u64 {
    trial_at(outcomes, 1.0, |k| outcomes.npv[k])
}

/// The trial at `percentile` (0 to 100) of the values `value(k)`: rank
/// round(percentile / 100 x (n - 1)) in the order of (value, trial index), so that ties
/// and the choice of trial are the same on every machine.
pub fn trial_at(outcomes: &Outcomes, percentile: f64, value: impl Fn(usize) -> f64) -> u64 {
    let mut order: Vec<usize> = (0..outcomes.trials).collect();
    order.sort_by(|&a, &b| value(a).total_cmp(&value(b)).then(a.cmp(&b)));
    let rank = (percentile.clamp(0.0, 100.0) / 100.0 * (outcomes.trials - 1) as f64).round();
    outcomes.first_trial + order[rank as usize] as u64
}

/// Partial results joined back into one run (with its scenario validated, in
/// `merged.validated`).
pub struct Merged {
    pub merged: shard::Merged,
    /// The scenario's values that are valid but almost never meant.
    pub warnings: Vec<Warning>,
}

impl Merged {
    /// The report of the joined run, timed as the shards' time plus `seconds` spent
    /// merging.
    pub fn report(&self, seconds: f64, monitor: &Monitor) -> Result<Report> {
        let mut report = build_report(
            &self.merged.validated,
            self.merged.seed,
            &self.merged.outcomes,
            self.merged.threads,
            self.merged.elapsed_seconds + seconds,
            monitor,
        )?;
        report.warnings = self.warnings.clone();
        let origin = self.merged.origin.clone().unwrap_or_else(|| Origin {
            file: None,
            sha256: None,
            note: Some(
                "the partial results do not record the scenario's file, its hash or the \
                 overrides (written before they did)"
                    .into(),
            ),
            shipped_example: false,
            overrides: Vec::new(),
        });
        report.provenance = Some(provenance::now(
            vec![AsRun {
                origin,
                scenario: self.merged.scenario.clone(),
            }],
            self.merged.outcomes.sampling,
        ));
        Ok(report)
    }
}

/// Reads the partial results at `paths` (in any order) and joins them into the outcomes
/// of the unsharded run: every file checked first (its checksum over the whole file,
/// its header against its scenario, the set against itself), then the memory the whole
/// run's outcomes and report need checked against `max_memory`, then the outcomes read.
/// `page` says whether the report will also be rendered as a page with charts. The
/// scenario's values that are valid but almost never meant are added to `notices`, as by
/// [`load`](super::load).
pub fn merge(
    paths: &[PathBuf],
    max_memory: Option<u64>,
    page: bool,
    notices: &mut Vec<Notice>,
) -> Result<Merged> {
    let parts = shard::check_parts(paths)?;
    let trials = parts.total_trials();
    let precision = parts.precision();
    let run = Footprint::run(parts.scenario(), &parts.plan, 0, 0, page);
    let footprint = Footprint {
        outcomes: memory::outcome_bytes(&parts.plan, trials, precision),
        cash: memory::cash_footprint(&parts.plan, trials),
        summary: memory::summary_bytes(trials, precision),
        // Checking a part holds its scenario beside the first part's.
        loading: run.loading.saturating_add(run.scenario),
        ..run
    };
    memory::check(
        max_memory,
        &footprint,
        format!("the {trials} trials of these partial results"),
        message!["merge on a machine with more memory"],
    )?;
    let merged = parts.load()?;
    let warnings = plausibility::implausible(&merged.scenario);
    notices.extend(
        warnings
            .iter()
            .map(|w| Notice::Warning(w.to_string().into())),
    );
    Ok(Merged { merged, warnings })
}
