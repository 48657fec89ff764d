//! The summary of a run: docs/model.md's report as figures, with no text formatting.
//!
//! [`Report::build`] turns trial outcomes into the figures a finance officer asks for;
//! the renderers in [`crate::export`] only format them, and the analyses in
//! [`crate::analysis`] reuse [`RunInfo`] and [`SCHEMA`]. Key names and nesting follow
//! docs/model.md's report section (schema 1); keys beyond it are additions, never renamings.

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::engine::outcomes::NO_YEAR_U8;
use crate::engine::{Column, Outcomes};
use crate::lhs::{self, Sampling};
use crate::scenario::Scenario;
use crate::scenario::origin::Origin;
use crate::scenario::plausibility::Warning;
use crate::stats::{self, Band, BandRanks, CompensatedSum, Figure, Proportion, Summary};

/// Version of the report's layout.
pub const SCHEMA: u32 = 1;

/// A run's report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: u32,
    pub scenario: String,
    pub seed: u64,
    pub trials: u64,
    /// Addition to docs/model.md: present only for a run with Latin hypercube sampling
    /// (`--sampling lhs`), whose standard errors and P(loss) interval come from its
    /// blocks' means; a plain run's report keeps exactly its keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingInfo>,
    pub horizon_years: usize,
    /// Addition to docs/model.md: how many trials, the first of the run, each partner's
    /// `by_year` is computed from: `trials`, unless the run was too large to keep every
    /// trial's yearly savings (see [`crate::engine::outcomes::cash_trial_cap`]).
    pub by_year_trials: u64,
    pub consortium: Consortium,
    pub partners: Vec<PartnerReport>,
    pub events: Events,
    /// Facts about this execution; the only part that differs between identical runs.
    pub run: RunInfo,
    /// Scenario values that are valid but almost never meant (a rate typed as a whole
    /// percentage); the key is left out when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Where the report came from; set by the run API (absent only from a report built
    /// directly with [`Report::build`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// Where a result came from, for tracing a figure back to its inputs: the engine, the
/// moment, and each scenario as run with its origin. Built by the run API (which reads
/// the files and the clock) and passed to the renderers as data.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    pub engine_version: String,
    /// When the result was made: UTC, RFC 3339 to the second (`2026-12-04T07:40:12Z`).
    pub generated_at: String,
    /// The scenario as run (one; a comparison of files has one per file).
    pub scenarios: Vec<AsRun>,
    /// How the trial-level inputs were sampled; absent for plain sampling (so a plain
    /// result's provenance is as before), `"lhs"` for a Latin hypercube.
    #[serde(skip_serializing_if = "Sampling::is_plain")]
    pub sampling: Sampling,
}

/// A scenario as run: its origin and its JSON with the overrides applied.
#[derive(Debug, Clone, Serialize)]
pub struct AsRun {
    #[serde(flatten)]
    pub origin: Origin,
    pub scenario: Value,
}

impl Provenance {
    /// Whether every scenario is a shipped example, whose figures are illustrative.
    pub fn illustrative(&self) -> bool {
        self.scenarios.iter().all(|s| s.origin.shipped_example)
    }
}

/// How a Latin hypercube run sampled, and where its standard errors come from.
#[derive(Debug, Clone, Serialize)]
pub struct SamplingInfo {
    /// `"lhs"`.
    pub method: &'static str,
    /// Trials per Latin hypercube ([`lhs::BLOCK`]).
    pub block_trials: u64,
    /// Whole blocks in the run.
    pub blocks: u64,
    /// Trials after the last whole block: they hold only part of a block's strata, so
    /// their standard errors count them as independent draws, and they add noise that
    /// a whole number of blocks would not (ask for a multiple of 1,024 trials).
    pub trials_after_blocks: u64,
    /// `"block_means"`: every `se` and the P(loss) interval are estimated from the
    /// spread of the whole blocks' means; `"independent_trials"`: the run has fewer
    /// than [`lhs::MIN_BLOCKS`] whole blocks, so they are the plain figures, which
    /// usually overstate an LHS run's noise.
    pub standard_errors: &'static str,
}

impl SamplingInfo {
    fn lhs(trials: u64, from_blocks: bool) -> SamplingInfo {
        SamplingInfo {
            method: Sampling::Lhs.name(),
            block_trials: lhs::BLOCK,
            blocks: trials / lhs::BLOCK,
            trials_after_blocks: trials % lhs::BLOCK,
            standard_errors: if from_blocks {
                "block_means"
            } else {
                "independent_trials"
            },
        }
    }
}

/// Consortium-wide figures.
#[derive(Debug, Clone, Serialize)]
pub struct Consortium {
    pub npv: Summary,
    pub prob_npv_negative: Proportion,
    pub prob_collapse: f64,
    pub payback_year: Payback,
    /// Cumulative discounted saving through each year; the last entry is the NPV.
    pub by_year: Vec<Band>,
    /// Addition to docs/model.md: P(a collapse takes effect in year t), by year.
    pub collapse_year_probability: Vec<f64>,
    /// Addition to docs/model.md: P(d = y), the go-live delay's distribution, for y = 0
    /// ..= H (d = H: never live). Only for a scenario whose go-live may slip, so that
    /// other reports keep exactly their keys.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delay_years_probability: Vec<f64>,
}

/// When the consortium's cumulative discounted saving first reaches zero.
#[derive(Debug, Clone, Serialize)]
pub struct Payback {
    pub prob_within_horizon: f64,
    /// Smallest year y with P(payback <= y) >= 0.5; null if under half pay back.
    pub p50: Option<u16>,
}

/// One partner's figures.
#[derive(Debug, Clone, Serialize)]
pub struct PartnerReport {
    pub name: String,
    pub npv: Summary,
    /// P(NPV_i < 0).
    pub prob_worse_off: f64,
    /// P(gives notice at least once).
    pub prob_withdraws: f64,
    /// Addition to docs/model.md: the partner's cash by year, for a medium-term
    /// financial plan.
    pub by_year: Vec<CashYear>,
}

/// One year of a partner's cash: the distribution, over the trials, of its saving S_i,t
/// that year and of its cumulative saving through that year, in cash (undiscounted) and
/// discounted (the last year's cumulative discounted saving is the partner's NPV).
#[derive(Debug, Clone, Serialize)]
pub struct CashYear {
    /// The year t, from 0.
    pub year: usize,
    pub cash: Spread,
    pub cumulative_cash: Spread,
    pub discounted: Spread,
    pub cumulative_discounted: Spread,
}

/// A figure's percentiles and mean over the trials (a fan chart's band without its year).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub p05: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
    pub mean: f64,
}

impl Spread {
    /// The spread of a band: the same means and rank selection as the consortium's fan
    /// chart.
    pub fn from_band(b: Band) -> Spread {
        // + 0.0 turns -0 (the saving of a partner out with nothing to pay) into 0.
        Spread {
            p05: b.p05 + 0.0,
            p25: b.p25 + 0.0,
            p50: b.p50 + 0.0,
            p75: b.p75 + 0.0,
            p95: b.p95 + 0.0,
            mean: b.mean + 0.0,
        }
    }
}

/// Mean event counts per trial.
#[derive(Debug, Clone, Serialize)]
pub struct Events {
    pub withdrawals: f64,
    pub rejoins: f64,
    pub disputes: f64,
    pub dispute_years: f64,
    /// The mean go-live delay d, in years.
    pub delay_years: f64,
}

/// How the run went: engine version, threads, timing.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub engine_version: String,
    pub threads: usize,
    pub elapsed_seconds: f64,
    pub trials_per_second: f64,
    /// Set only by a run with a precision target (`run --target-se`, `--target-prob-ci`);
    /// its keys then sit beside the others, and an ordinary run's `run` is unchanged.
    #[serde(flatten)]
    pub convergence: Option<Convergence>,
}

/// How a run with a precision target stopped: it ran blocks of trials until every target
/// was met or `max_trials` were used.
#[derive(Debug, Clone, Serialize)]
pub struct Convergence {
    /// Trials used: the report's `trials`.
    pub trials_used: u64,
    pub max_trials: u64,
    /// Asked-for standard error of the mean consortium NPV, in currency units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_se: Option<f64>,
    /// Asked-for half-width of the Wilson 95 % interval of P(NPV < 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_prob_ci: Option<f64>,
    /// Whether every target was met at `trials_used` (if not, `trials_used` is
    /// `max_trials`).
    pub target_reached: bool,
    /// Whether the trials used were enough to judge the target at all: at least 1,000,
    /// and for a P(loss) target at least 30 losses and 30 trials without one. A target
    /// is never reported met unless judged.
    pub target_judged: bool,
    /// The trial counts at which the target was judged, in order; the last is
    /// `trials_used`. The first is 10,000 (or the scenario's `trials`, if fewer, but at
    /// least 1,000; under Latin hypercube sampling rounded up to whole blocks of 1,024);
    /// each later one is projected from the figures at the one before.
    pub checkpoints: Vec<u64>,
}

impl RunInfo {
    pub fn new(threads: usize, elapsed_seconds: f64, trials: usize) -> RunInfo {
        RunInfo {
            engine_version: env!("CARGO_PKG_VERSION").to_string(),
            threads,
            elapsed_seconds,
            trials_per_second: if elapsed_seconds > 0.0 {
                trials as f64 / elapsed_seconds
            } else {
                0.0
            },
            convergence: None,
        }
    }
}

impl Report {
    /// Summarises a run's outcomes, leaving them as they were (in trial order, for the
    /// trial table or anything else that reads them afterwards).
    ///
    /// Exact percentiles select ranks in a row, which rearranges it; each row is copied
    /// first, at most two rows at a time (a fixed number, so that the memory it takes does
    /// not depend on the thread count).
    pub fn build(scenario: &Scenario, seed: u64, out: &Outcomes, run: RunInfo) -> Report {
        let n = out.trials;
        let nf = n as f64;
        let h = out.horizon;
        let negative = out.npv.iter().filter(|&&v| v < 0.0).count() as u64;
        let mut paid_back_by = vec![0u64; h];
        let mut collapse_in = vec![0u64; h];
        let (mut withdrawals, mut rejoins, mut disputes, mut dispute_years) =
            (0u64, 0u64, 0u64, 0u64);
        for e in &out.events {
            if e.payback_year != NO_YEAR_U8 {
                paid_back_by[e.payback_year as usize] += 1;
            }
            if e.collapse_year != NO_YEAR_U8 {
                collapse_in[e.collapse_year as usize] += 1;
            }
            withdrawals += u64::from(e.withdrawals);
            rejoins += u64::from(e.rejoins);
            disputes += u64::from(e.disputes);
            dispute_years += u64::from(e.dispute_years);
        }
        let collapsed: u64 = collapse_in.iter().sum();
        // Stored only when go-live may slip; then d <= H.
        let mut delayed_by = vec![0u64; if out.delay_years.is_empty() { 0 } else { h + 1 }];
        for &d in &out.delay_years {
            delayed_by[usize::from(d)] += 1;
        }
        let delay_total: u64 = delayed_by
            .iter()
            .enumerate()
            .map(|(d, &c)| d as u64 * c)
            .sum();
        let mut running = 0;
        let mut p50 = None;
        for (y, c) in paid_back_by.iter().enumerate() {
            running += c;
            if p50.is_none() && 2 * running >= n as u64 {
                p50 = Some(y as u16);
            }
        }
        let left: Vec<u64> = (0..out.partners)
            .map(|i| (0..n).filter(|&k| out.gave_notice(k, i)).count() as u64)
            .collect();

        let mut npv = Summary::of(&out.npv);
        let mut prob_npv_negative = Proportion::new(negative, n as u64);
        let sampling = match out.sampling {
            Sampling::Plain => None,
            Sampling::Lhs => {
                let se = stats::lhs_standard_error(&out.npv);
                if let Some(se) = se {
                    npv.se = se;
                    prob_npv_negative.ci95 = stats::lhs_loss_interval(&out.npv);
                }
                Some(SamplingInfo::lhs(n as u64, se.is_some()))
            }
        };
        let mut by_year = row_bands(&out.cumulative, n);
        by_year.push(Band::from_summary(h - 1, &npv));
        let partner_npv = row_summaries(&out.partner_npv, n, out.sampling);
        let cash = partner_cash(out, &scenario.discount.factors(h));
        let partners = scenario
            .partners
            .iter()
            .zip(partner_npv)
            .zip(left)
            .zip(cash)
            .map(|(((p, (npv, worse)), left), by_year)| PartnerReport {
                name: p.name.clone(),
                npv,
                prob_worse_off: worse as f64 / nf,
                prob_withdraws: left as f64 / nf,
                by_year,
            })
            .collect();
        Report {
            schema: SCHEMA,
            scenario: scenario.name.clone(),
            seed,
            trials: n as u64,
            sampling,
            horizon_years: h,
            by_year_trials: out.cash_trials as u64,
            consortium: Consortium {
                npv,
                prob_npv_negative,
                prob_collapse: collapsed as f64 / nf,
                payback_year: Payback {
                    prob_within_horizon: paid_back_by.iter().sum::<u64>() as f64 / nf,
                    p50,
                },
                by_year,
                collapse_year_probability: collapse_in.iter().map(|&c| c as f64 / nf).collect(),
                delay_years_probability: delayed_by.iter().map(|&c| c as f64 / nf).collect(),
            },
            partners,
            events: Events {
                withdrawals: withdrawals as f64 / nf,
                rejoins: rejoins as f64 / nf,
                disputes: disputes as f64 / nf,
                dispute_years: dispute_years as f64 / nf,
                delay_years: delay_total as f64 / nf,
            },
            run,
            warnings: Vec::new(),
            provenance: None,
        }
    }
}

/// Rows summarised at once, each in a copy of its own. A fixed number, not one per
/// worker thread: the memory a report takes must not depend on the thread count, since
/// the memory guard's decisions (and with them how many trials a run to a precision
/// target may run) must not, and two rows keep both cores of a small machine busy.
///
/// The copies take at most two rows (16 bytes per trial in double precision), after
/// the consortium NPVs' copy (8 bytes per trial) is freed. The memory guard's estimate
/// counts neither, as in engine 0.3.0, whose report sorted the rows in place but also
/// copied the NPVs.
const ROWS_AT_ONCE: usize = 2;

/// `f(t, row, copy)` for each row `t` of `v` (rows of `n` values), given a copy of the
/// row that `f` may rearrange: the outcomes stay in trial order. The rows are dealt
/// into [`ROWS_AT_ONCE`] stripes (row t to stripe t mod 2), each summarised in turn in
/// one reused buffer, the stripes in parallel. Results in row order.
fn each_row<T, R>(v: &[T], n: usize, f: impl Fn(usize, &[T], &mut [T]) -> R + Sync) -> Vec<R>
where
    T: Copy + Send + Sync,
    R: Send,
{
    let rows: Vec<&[T]> = v.chunks(n).collect();
    let stripes: Vec<Vec<(usize, R)>> = (0..ROWS_AT_ONCE)
        .into_par_iter()
        .map(|stripe| {
            let mut copy = Vec::with_capacity(n);
            (stripe..rows.len())
                .step_by(ROWS_AT_ONCE)
                .map(|t| {
                    copy.clear();
                    copy.extend_from_slice(rows[t]);
                    (t, f(t, rows[t], &mut copy))
                })
                .collect()
        })
        .collect();
    let mut out: Vec<(usize, R)> = stripes.into_iter().flatten().collect();
    out.sort_unstable_by_key(|&(t, _)| t);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Each partner's cash by year from the kept trials' yearly savings, with `discount`'s
/// factors. Partners are dealt into [`ROWS_AT_ONCE`] stripes like the rows, each stripe
/// with three buffers of one value per kept trial: the running cumulative saving in cash
/// and discounted, and a copy for rows too short to select by buckets. The discounted
/// cumulative saving is summed in year order as the engine sums a partner's NPV, so its
/// last year is the NPV exactly.
///
/// This was half the time of a run of 200,000 trials of four partners, so each year
/// takes one pass over its trials for the running sums and all four means (see
/// [`stats::CompensatedSum`]), and three selections, not four: the discounted cash's
/// percentiles are the cash's times the year's discount factor (see [`BandRanks`]).
/// The figures are those of four separate spreads, to the bit.
fn partner_cash(out: &Outcomes, discount: &[f64]) -> Vec<Vec<CashYear>> {
    let m = out.cash_trials;
    if m == 0 {
        // Outcomes that kept no yearly savings (an analysis's).
        return vec![Vec::new(); out.partners];
    }
    let stripes: Vec<Vec<(usize, Vec<CashYear>)>> = (0..ROWS_AT_ONCE)
        .into_par_iter()
        .map(|stripe| {
            let (mut cum, mut dcum, mut copy) = (vec![0.0; m], vec![0.0; m], Vec::new());
            (stripe..out.partners)
                .step_by(ROWS_AT_ONCE)
                .map(|i| {
                    cum.fill(0.0);
                    dcum.fill(0.0);
                    let years = discount
                        .iter()
                        .enumerate()
                        .map(|(t, &df)| {
                            let row = out.cash_row(i, t);
                            let mut sums = [CompensatedSum::default(); 4];
                            for ((c, d), &x) in cum.iter_mut().zip(dcum.iter_mut()).zip(row) {
                                let discounted = df * x;
                                *c += x;
                                *d += discounted;
                                sums[0].add(x);
                                sums[1].add(*c);
                                sums[2].add(discounted);
                                sums[3].add(*d);
                            }
                            let [cash, cumulative_cash, discounted, cumulative_discounted] =
                                sums.map(|s| s.mean(m));
                            let ranks = BandRanks::of(row, &mut copy);
                            // A factor that is not a positive, finite number (a rate
                            // near the loader's -0.99 over centuries could overflow)
                            // would not keep the order: that row is selected itself.
                            let discounted = if df > 0.0 && df.is_finite() {
                                ranks.band(t, discounted, df)
                            } else {
                                let scaled: Vec<f64> = row.iter().map(|&x| df * x).collect();
                                BandRanks::of(&scaled, &mut copy).band(t, discounted, 1.0)
                            };
                            CashYear {
                                year: t,
                                cash: Spread::from_band(ranks.band(t, cash, 1.0)),
                                cumulative_cash: Spread::from_band(
                                    BandRanks::of(&cum, &mut copy).band(t, cumulative_cash, 1.0),
                                ),
                                discounted: Spread::from_band(discounted),
                                cumulative_discounted: Spread::from_band(
                                    BandRanks::of(&dcum, &mut copy).band(
                                        t,
                                        cumulative_discounted,
                                        1.0,
                                    ),
                                ),
                            }
                        })
                        .collect();
                    (i, years)
                })
                .collect()
        })
        .collect();
    let mut all: Vec<(usize, Vec<CashYear>)> = stripes.into_iter().flatten().collect();
    all.sort_unstable_by_key(|&(i, _)| i);
    all.into_iter().map(|(_, years)| years).collect()
}

/// Summary of each row (and its count of negative values).
/// Under Latin hypercube sampling each standard error is estimated from the row's
/// blocks (see [`crate::stats::lhs_standard_error`]), read in trial order before the copy is
/// rearranged.
fn row_summaries(column: &Column, n: usize, sampling: Sampling) -> Vec<(Summary, u64)> {
    fn rows<T: Figure + PartialOrd + Default>(
        v: &[T],
        n: usize,
        sampling: Sampling,
    ) -> Vec<(Summary, u64)> {
        each_row(v, n, |_, row, copy| {
            let negative = row.iter().filter(|&&x| x < T::default()).count() as u64;
            let lhs_se = match sampling {
                Sampling::Lhs => stats::lhs_standard_error(row),
                Sampling::Plain => None,
            };
            let mut summary = Summary::of_in_place(copy);
            if let Some(se) = lhs_se {
                summary.se = se;
            }
            (summary, negative)
        })
    }
    match column {
        Column::F64(v) => rows(v, n, sampling),
        Column::F32(v) => rows(v, n, sampling),
    }
}

/// The fan-chart band of each year's row.
fn row_bands(column: &Column, n: usize) -> Vec<Band> {
    fn rows<T: Figure>(v: &[T], n: usize) -> Vec<Band> {
        each_row(v, n, |t, _, copy| Band::of_in_place(t, copy))
    }
    match column {
        Column::F64(v) => rows(v, n),
        Column::F32(v) => rows(v, n),
    }
}

/// JSON pointers of figures that are not finite numbers (serde_json turns NaN and
/// infinity into `null`). A report with any is a bug, never something to write: the
/// only legitimate null is `payback_year.p50` when under half the trials pay back.
pub fn non_finite(report: &Report) -> Vec<String> {
    let value = serde_json::to_value(report).expect("a report always serialises");
    let mut found = Vec::new();
    collect_nulls(&value, String::new(), &mut found);
    found.retain(|p| p != "/consortium/payback_year/p50");
    found
}

fn collect_nulls(v: &Value, path: String, found: &mut Vec<String>) {
    match v {
        Value::Null => found.push(path),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_nulls(item, format!("{path}/{i}"), found);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                collect_nulls(item, format!("{path}/{k}"), found);
            }
        }
        _ => {}
    }
}
