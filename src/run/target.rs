//! Runs that stop at a precision target: the target and when it is met, how many trials
//! such a run may take, and the run itself, in blocks that end at checkpoints projected
//! from the trials so far.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::error::{Error, Notice, Result, Setting, message};
use super::memory::{self, Footprint};
use super::prepare::{Prepared, RunOptions};
use super::simulate::{Simulation, interrupted};
use crate::engine::{self, Column, Monitor, Outcomes, Precision};
use crate::export::format::thousands;
use crate::lhs::{self, Sampling};
use crate::plan::Plan;
use crate::scenario::Scenario;
use crate::stats;

/// The most trials a run with a precision target runs unless its `max_trials` says.
pub const MAX_TRIALS: u64 = 10_000_000;

/// Trials in the first block of a run with a precision target (or the scenario's
/// `trials`, if fewer, but at least [`MIN_TRIALS`]); see [`next_checkpoint`] for the
/// later ones.
pub const FIRST_BLOCK: u64 = 10_000;

/// The trial count a run with a target checks first, before the cap: [`FIRST_BLOCK`],
/// or the scenario's `trials` if fewer, but at least [`MIN_TRIALS`]; under Latin
/// hypercube sampling rounded up to whole blocks of [`lhs::BLOCK`] trials (10,240), as
/// every later checkpoint is, since trials after the last whole block make the mean
/// noisier than whole blocks would.
pub fn first_checkpoint(scenario_trials: u64, sampling: Sampling) -> u64 {
    let first = FIRST_BLOCK.min(scenario_trials).max(MIN_TRIALS);
    match sampling {
        Sampling::Plain => first,
        Sampling::Lhs => first.div_ceil(lhs::BLOCK) * lhs::BLOCK,
    }
}

/// The trial count a run with a target checks next, after `trials` trials assessed as
/// `assessment`, before the cap. Not judged yet: twice the trials. Not met: the trials
/// the shortfall says are needed ([`Assessment::shortfall`]), plus a tenth so that a
/// standard error estimated a little low does not need one more checkpoint, but at
/// least a tenth more and at most twice the trials (an early estimate is rough, and
/// the memory guard counts on no block being larger than the trials before it).
/// Rounded up to whole blocks of [`lhs::BLOCK`] trials (within twice the trials),
/// which a Latin hypercube run needs for its standard errors and a plain run does not
/// mind. It is a function of the trials' results alone, so the trials a run uses
/// depend only on the seed and the target, never on threads or timing.
pub fn next_checkpoint(trials: u64, assessment: Assessment) -> u64 {
    let wanted = match assessment.verdict {
        Verdict::NotJudged | Verdict::Met => trials.saturating_mul(2),
        Verdict::NotMet => {
            let projected = trials as f64 * assessment.shortfall * 1.1;
            let (least, most) = (trials as f64 * 1.1, trials as f64 * 2.0);
            // max before min: a shortfall that is not a number (it cannot be, for
            // finite NPVs) still moves the run on by a tenth.
            projected.max(least).min(most).ceil() as u64
        }
    };
    // Whole blocks, but never more than twice the trials (10,000 doubles to 20,000).
    wanted
        .div_ceil(lhs::BLOCK)
        .saturating_mul(lhs::BLOCK)
        .min(trials.saturating_mul(2))
}

/// The fewest trials on which a target is judged. A standard error is only as good as the
/// standard deviation it is computed from, whose own relative error is about
/// sqrt((kurtosis - 1) / 4n): 2 % at 1,000 normal trials, 7 % for tails as heavy as a
/// kurtosis of 20. One trial has a standard error of 0, which would "meet" any target.
pub const MIN_TRIALS: u64 = 1_000;

/// The fewest losses, and the fewest trials without a loss, on which a P(loss) interval
/// is judged: with fewer, the estimate the interval's width follows is itself uncertain
/// by more than a fifth (1/sqrt(30) = 18 %), and the width by about a tenth.
pub const MIN_EACH: u64 = 30;

/// How far the trials so far are from a target: its verdict, and for a target not met
/// how many times the trials so far it would take to meet it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assessment {
    pub verdict: Verdict,
    /// For [`Verdict::NotMet`], the largest of (achieved / target)^2 over the targets:
    /// a standard error and an interval's width shrink as 1 / sqrt(trials), so this is
    /// the factor by which the trials must grow. 1 otherwise.
    pub shortfall: f64,
}

/// How a run with a target ended, judged on all the trials run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every target is met, on enough trials to judge it.
    Met,
    /// Enough trials to judge, and a target is not met.
    NotMet,
    /// Too few trials (or, for P(loss), too few losses or non-losses) to judge.
    NotJudged,
}

/// The precision a run must reach before it stops, with the most trials it may run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Target {
    /// The standard error of the mean consortium NPV, at most (currency units).
    pub se: Option<f64>,
    /// Half the width of the Wilson 95% interval of P(loss), at most (a probability).
    pub prob_ci: Option<f64>,
    /// The most trials to run (default [`MAX_TRIALS`], or fewer if the memory guard
    /// allows fewer).
    pub max_trials: Option<u64>,
}

impl Target {
    /// Refuses a target that cannot be met, or that goes with a shard (`sharded`) or a
    /// fixed number of trials (`trials`).
    pub fn check(&self, sharded: bool, trials: Option<u64>) -> Result<()> {
        let bad = |message| Err(Error::Request(message));
        if self.se.is_none() && self.prob_ci.is_none() {
            return bad(message![
                Setting::MaxTrials,
                " goes with ",
                Setting::TargetSe,
                " or ",
                Setting::TargetProbCi
            ]);
        }
        if sharded {
            return bad(message![
                Setting::TargetSe,
                " and ",
                Setting::TargetProbCi,
                " cannot be used with ",
                Setting::Shard,
                ": the run stops when the trials so far are enough, which one shard cannot \
                 know; run with the target in one process, or shard a run of a fixed ",
                Setting::Trials,
            ]);
        }
        if trials.is_some() {
            return bad(message![
                Setting::Trials,
                " cannot be used with ",
                Setting::TargetSe,
                " or ",
                Setting::TargetProbCi,
                ": the target decides how many trials run (cap them with ",
                Setting::MaxTrials,
                ")",
            ]);
        }
        if self.se.is_some_and(|x| !(x > 0.0 && x.is_finite())) {
            return bad(message![
                Setting::TargetSe,
                " must be a positive amount in the scenario's currency, such as 5000",
            ]);
        }
        if self.prob_ci.is_some_and(|w| !(w > 0.0 && w < 0.5)) {
            return bad(message![
                Setting::TargetProbCi,
                " must be a probability above 0 and below 0.5: the half-width of P(loss)'s \
                 95% interval, so 0.005 is half a percentage point",
            ]);
        }
        Ok(())
    }

    /// Whether the consortium NPVs so far meet every target, judged on the figures the
    /// report will give (its standard error, and half the width of its P(loss)
    /// interval) once there are enough of them (see [`Target::unjudged`]).
    ///
    /// Under Latin hypercube sampling both figures come from the blocks' means once
    /// there are [`lhs::MIN_BLOCKS`] whole blocks, as the report's do (see
    /// [`crate::lhs`]); before that they are the plain figures, which overstate an LHS
    /// run's noise a little and so never stop it early.
    ///
    /// A standard error target that is judged and not met makes the verdict "not met"
    /// even while a P(loss) target still waits for its losses: the run is short of a
    /// target either way, and the report should say by how much.
    pub fn judge(&self, npv: &[f64], sampling: Sampling) -> Assessment {
        let trials = npv.len() as u64;
        let losses = npv.iter().filter(|&&v| v < 0.0).count() as u64;
        let not_judged = Assessment {
            verdict: Verdict::NotJudged,
            shortfall: 1.0,
        };
        if trials < MIN_TRIALS {
            return not_judged;
        }
        let squared = |achieved: f64, target: f64| (achieved / target).powi(2);
        let se_shortfall = self
            .se
            .map_or(0.0, |t| squared(stats::standard_error(npv, sampling), t));
        let loss_judged = self.unjudged(trials, losses).is_none();
        let shortfall = if loss_judged {
            se_shortfall.max(self.prob_ci.map_or(0.0, |t| {
                squared(loss_half_width(stats::loss_interval(npv, sampling)), t)
            }))
        } else {
            se_shortfall
        };
        if shortfall > 1.0 {
            Assessment {
                verdict: Verdict::NotMet,
                shortfall,
            }
        } else if !loss_judged {
            not_judged
        } else {
            Assessment {
                verdict: Verdict::Met,
                shortfall: 1.0,
            }
        }
    }

    /// Why `trials` trials with `losses` losses (NPV < 0) are too few to judge this
    /// target, in words ("fewer than 1,000 trials"); `None` if they are enough: at least
    /// [`MIN_TRIALS`], and for a P(loss) target at least [`MIN_EACH`] losses and as many
    /// trials without one.
    pub fn unjudged(&self, trials: u64, losses: u64) -> Option<String> {
        if trials < MIN_TRIALS {
            return Some(format!(
                "{} trials are too few to judge it (a verdict needs at least {})",
                thousands(trials),
                thousands(MIN_TRIALS)
            ));
        }
        let wins = trials - losses;
        if self.prob_ci.is_some() && (losses < MIN_EACH || wins < MIN_EACH) {
            let plural = if losses == 1 { "" } else { "es" };
            return Some(format!(
                "{} loss{plural} and {} trials without one are too few to judge a P(loss) \
                 interval (it needs at least {MIN_EACH} of each)",
                thousands(losses),
                thousands(wins)
            ));
        }
        None
    }
}

/// Half the width of an interval.
fn loss_half_width([low, high]: [f64; 2]) -> f64 {
    (high - low) / 2.0
}

/// The most trials a run to `target` may run: its `max_trials`, or else [`MAX_TRIALS`]
/// or as many as the memory guard allows, whichever is fewer (with a note saying so).
/// The guard counts the memory that joining the blocks takes at the end (see
/// [`Prepared::simulate_until`]), and the workers' scratch for at least
/// [`RESERVED_WORKERS`] threads, so that the trials a run may take (and with them its
/// report) do not depend on the number of threads.
pub(super) fn most_trials(
    target: &Target,
    scenario: &Scenario,
    plan: &Plan,
    threads: usize,
    options: &RunOptions,
    notices: &mut Vec<Notice>,
) -> Result<u64> {
    let (max_memory, page, cash_by_year) = (options.max_memory, options.page, options.cash_by_year);
    let rows = (plan.partners + plan.horizon - 1) as u64;
    let join_per_trial =
        |precision: Precision| rows * precision.bytes() as u64 / 2 + join_scalar_bytes(plan);
    let first = first_checkpoint(scenario.trials, plan.sampling);
    let footprint = |trials: u64| {
        let precision = Precision::for_run(trials, plan);
        let mut f = Footprint::run(scenario, plan, trials, threads, page);
        f.summary = join_bytes(plan, first, trials, precision, cash_by_year);
        if !cash_by_year {
            f.cash = 0;
        }
        f
    };
    let lhs = plan.sampling == Sampling::Lhs;
    let total_trials = match target.max_trials {
        Some(n) if n < MIN_TRIALS => {
            return Err(Error::request(message![
                Setting::MaxTrials,
                format!(
                    " must be at least {} with a target: fewer trials cannot judge it",
                    thousands(MIN_TRIALS)
                ),
            ]));
        }
        Some(n) if lhs && n >= lhs::BLOCK && n % lhs::BLOCK != 0 => {
            let whole = n - n % lhs::BLOCK;
            notices.push(Notice::Note(message![
                Setting::MaxTrials,
                format!(
                    " {} taken as {}, whole blocks of {} trials: under Latin hypercube \
                     sampling, trials after the last whole block would make the mean \
                     noisier, not less noisy",
                    thousands(n),
                    thousands(whole),
                    thousands(lhs::BLOCK)
                ),
            ]));
            whole
        }
        Some(n) => n,
        None => {
            // The workers are counted as at least RESERVED_WORKERS threads, all busy,
            // so that the cap does not depend on the threads.
            let reserved = |trials: u64| Footprint {
                workers: memory::worker_bytes(plan, threads.max(RESERVED_WORKERS)),
                ..footprint(trials)
            };
            // Everything but the trials, counting the report beside the join (the
            // footprint counts the larger of the two).
            let fixed = reserved(0);
            let room = memory::allowed(max_memory)
                .0
                .saturating_sub(fixed.total() + fixed.report + rows * 16);
            // The first trials also keep their yearly savings, up to a cap.
            let cap = engine::outcomes::cash_trial_cap(plan);
            let (cash_each, cash_most) = if cash_by_year {
                (
                    memory::cash_footprint(plan, 1),
                    memory::cash_footprint(plan, u64::MAX),
                )
            } else {
                (0, 0)
            };
            let fits = |precision: Precision| {
                let per_trial = engine::outcomes::bytes_per_trial(plan, precision)
                    + join_per_trial(precision)
                    + (rows * 16).div_ceil(1024);
                let n = match room / (per_trial + cash_each) {
                    n if n <= cap => n,
                    _ => room.saturating_sub(cash_most) / per_trial,
                };
                MAX_TRIALS.min(n)
            };
            let mut n = match fits(Precision::Double) {
                n if Precision::for_run(n, plan) == Precision::Double => n,
                _ => fits(Precision::Single),
            };
            // The estimate above counts half a row per trial for the join, and neither
            // a first block of more than half the trials nor the yearly savings the
            // join copies: the whole footprint decides, a step of 2 % at a time.
            let limit = memory::allowed(max_memory).0;
            while n > 0 && reserved(n).total() > limit {
                n -= n.div_ceil(50);
            }
            if n < MIN_TRIALS {
                return Err(Error::request(message![
                    format!(
                        "the memory guard allows at most {} trials of this scenario with a \
                         target, fewer than the {} a verdict needs (see ",
                        thousands(n),
                        thousands(MIN_TRIALS)
                    ),
                    Setting::MaxMemory,
                    "); raise it, or run a fixed number of ",
                    Setting::Trials,
                ]));
            }
            // Whether memory, not the default cap, is what holds the run back: only
            // then is there something to say (a cap rounded down to whole blocks is
            // still the default's, and the status line shows it).
            let by_memory = n < MAX_TRIALS;
            if lhs && n >= lhs::BLOCK {
                n -= n % lhs::BLOCK;
            }
            if by_memory {
                notices.push(Notice::Note(message![
                    format!(
                        "at most {} trials, the most the memory guard allows{} (see ",
                        thousands(n),
                        if lhs { " in whole blocks" } else { "" }
                    ),
                    Setting::MaxMemory,
                    "), instead of the default ",
                    Setting::MaxTrials,
                    format!(" {}", thousands(MAX_TRIALS)),
                ]));
            }
            n
        }
    };
    memory::check(
        max_memory,
        &footprint(total_trials),
        format!("{total_trials} trials of this scenario"),
        message!["lower ", Setting::MaxTrials],
    )?;
    Ok(total_trials)
}

/// What joining the blocks of a run to a target at the end ([`Outcomes::join`]) takes
/// beyond the outcomes themselves, for `trials` trials whose first block is `first`
/// trials: a copy of the per-trial scalars and, since each block's rows are freed once
/// copied while the joined rows fill, the largest block's rows, and with `cash` the
/// yearly savings it holds. The largest block is half the trials, as no later block is
/// larger than the trials before it, or the first block, if it is more. (Measured: 233
/// MiB for 20,000 trials of 1,000 partners, 64 MiB more than a plain run; 38 MiB for
/// 200,000 of 4.) It is more than the summary's copies afterwards, once the blocks are
/// freed.
fn join_bytes(plan: &Plan, first: u64, trials: u64, precision: Precision, cash: bool) -> u64 {
    let rows = (plan.partners + plan.horizon - 1) as u64;
    let largest_block = first.min(trials).max(trials.div_ceil(2));
    let cash_rows = if cash {
        engine::outcomes::cash_bytes(plan, largest_block)
    } else {
        0
    };
    trials
        .saturating_mul(join_scalar_bytes(plan))
        .saturating_add(largest_block.saturating_mul(rows * precision.bytes() as u64))
        .saturating_add(cash_rows)
}

/// Per trial, the scalars [`join_bytes`] copies.
fn join_scalar_bytes(plan: &Plan) -> u64 {
    8 + std::mem::size_of::<engine::TrialEvents>() as u64
        + engine::outcomes::notice_bytes(plan.partners) as u64
}

/// Threads whose scratch a run to a target reserves memory for, however few it has: its
/// trial cap is then the same on any number of threads up to this.
pub const RESERVED_WORKERS: usize = 64;

impl Prepared {
    /// Simulates blocks of trials until `judge(npv)`, given the consortium NPVs of the
    /// trials so far in trial order, says the target is met, or all `total_trials` have run;
    /// stops early once `monitor` is cancelled. `monitor.total` is set to each block's
    /// end, for progress displays.
    ///
    /// The blocks end at checkpoints: [`first_checkpoint`], then as many as the last
    /// assessment projects
    /// ([`next_checkpoint`]), capped at `total_trials`; so the result depends only on the
    /// seed and the target, never on threads or timing. Each
    /// block stores its rows at the precision of a plain run of the trials so far, and
    /// earlier blocks are narrowed to single precision (as the engine narrows) before
    /// the first block that needs it: the outcomes equal a plain run of the trials used,
    /// bit for bit.
    pub fn simulate_until(
        &self,
        monitor: &Monitor,
        judge: impl Fn(&[f64]) -> Assessment,
    ) -> Result<Simulation> {
        let start = Instant::now();
        monitor.done.store(0, Ordering::Relaxed);
        let mut blocks: Vec<Outcomes> = Vec::new();
        let mut checkpoints = Vec::new();
        let mut end =
            first_checkpoint(self.scenario.trials, self.plan.sampling).min(self.total_trials);
        loop {
            let begin = blocks.iter().map(|b| b.trials as u64).sum::<u64>();
            let precision = Precision::for_run(end, &self.plan);
            if precision == Precision::Single {
                blocks.iter_mut().for_each(narrow);
            }
            monitor.total.store(end, Ordering::Relaxed);
            let block = self.pool.install(|| {
                engine::run_keeping(
                    &self.plan,
                    self.seed,
                    begin,
                    (end - begin) as usize,
                    precision,
                    self.cash_by_year,
                    monitor,
                )
            })?;
            blocks.push(block);
            interrupted(monitor)?;
            // The consortium NPVs so far, in trial order (a transient copy).
            let npv: Vec<f64> = blocks.iter().flat_map(|b| b.npv.iter().copied()).collect();
            let assessment = judge(&npv);
            let verdict = assessment.verdict;
            checkpoints.push(end);
            if verdict == Verdict::Met || end >= self.total_trials {
                drop(npv);
                return Ok(Simulation {
                    checkpoints,
                    outcomes: Outcomes::join(blocks),
                    seconds: start.elapsed().as_secs_f64(),
                    target_reached: verdict == Verdict::Met,
                    target_judged: verdict != Verdict::NotJudged,
                });
            }
            end = next_checkpoint(end, assessment).min(self.total_trials);
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

#[cfg(test)]
mod tests {
    use std::ops::Range;

    #[test]
    fn checkpoints_grow_by_a_tenth_to_double_in_whole_blocks() {
        let not_met = |shortfall| Assessment {
            verdict: Verdict::NotMet,
            shortfall,
        };
        // 1.3^2 x 1.1 = 1.859 times 10,000 = 18,590, up to whole blocks: 18,432 + 1,024.
        assert_eq!(next_checkpoint(10_000, not_met(1.69)), 19_456);
        // Barely short: a tenth more (11,000), in whole blocks.
        assert_eq!(next_checkpoint(10_000, not_met(1.0001)), 11_264);
        // Far short: at most double, even when that is not whole blocks.
        assert_eq!(next_checkpoint(10_000, not_met(50.0)), 20_000);
        assert_eq!(next_checkpoint(10_000, not_met(f64::NAN)), 11_264);
        assert_eq!(next_checkpoint(10_000, not_met(f64::INFINITY)), 20_000);
        let unjudged = Assessment {
            verdict: Verdict::NotJudged,
            shortfall: 1.0,
        };
        assert_eq!(next_checkpoint(16_384, unjudged), 32_768);
        assert_eq!(first_checkpoint(100_000, Sampling::Plain), 10_000);
        assert_eq!(first_checkpoint(100_000, Sampling::Lhs), 10_240);
        assert_eq!(first_checkpoint(5_000, Sampling::Lhs), 5_120);
        assert_eq!(first_checkpoint(10, Sampling::Plain), 1_000);
        assert_eq!(first_checkpoint(10, Sampling::Lhs), 1_024);
    }

    use super::*;
    use crate::scenario;

    fn plan() -> Plan {
        let value = serde_json::from_str(crate::TEMPLATE).unwrap();
        Plan::compile(&scenario::from_value(&value, "the template").unwrap())
    }

    fn block(plan: &Plan, trials: Range<u64>, precision: Precision) -> Outcomes {
        let n = (trials.end - trials.start) as usize;
        engine::run_monitored(plan, 7, trials.start, n, precision, &Monitor::new()).unwrap()
    }

    #[test]
    fn joining_counts_the_largest_block() {
        let plan = plan();
        let rows = (plan.partners + plan.horizon - 1) as u64 * 8;
        let scalars = join_scalar_bytes(&plan);
        // 100,000 trials: no block is more than half of them.
        assert_eq!(
            join_bytes(&plan, 10_000, 100_000, Precision::Double, false),
            100_000 * scalars + 50_000 * rows
        );
        // 12,000 trials: the first block, 10,000 of them, is the largest.
        assert_eq!(
            join_bytes(&plan, 10_000, 12_000, Precision::Double, false),
            12_000 * scalars + 10_000 * rows
        );
        // Fewer trials than the first block: one block.
        assert_eq!(
            join_bytes(&plan, 10_000, 3_000, Precision::Double, false),
            3_000 * scalars + 3_000 * rows
        );
        // With the yearly savings: those of the largest block too.
        assert_eq!(
            join_bytes(&plan, 10_000, 100_000, Precision::Double, true),
            100_000 * scalars + 50_000 * rows + engine::outcomes::cash_bytes(&plan, 50_000)
        );
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
