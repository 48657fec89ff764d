//! The report: MODEL.md's summary of a run, and its renderings.
//!
//! [`Report::build`] turns trial outcomes into the figures a finance officer asks for;
//! [`json`] and [`terminal`] only format them. Key names and nesting follow MODEL.md's
//! report section (schema 1); keys beyond it are additions, never renamings.

pub mod html;
pub mod json;
pub mod story;
pub mod terminal;

use rayon::prelude::*;
use serde::Serialize;

use crate::engine::{NO_YEAR, Outcomes};
use crate::scenario::Scenario;
use crate::stats::{Band, Proportion, Summary};

/// Version of the report's layout.
pub const SCHEMA: u32 = 1;

/// A run's report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: u32,
    pub scenario: String,
    pub seed: u64,
    pub trials: u64,
    pub horizon_years: usize,
    pub consortium: Consortium,
    pub partners: Vec<PartnerReport>,
    pub events: Events,
    /// Facts about this execution; the only part that differs between identical runs.
    pub run: RunInfo,
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
    /// Addition to MODEL.md: P(a collapse takes effect in year t), by year.
    pub collapse_year_probability: Vec<f64>,
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
}

/// Mean event counts per trial.
#[derive(Debug, Clone, Serialize)]
pub struct Events {
    pub withdrawals: f64,
    pub rejoins: f64,
    pub disputes: f64,
    pub dispute_years: f64,
}

/// How the run went: engine version, threads, timing.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub engine_version: String,
    pub threads: usize,
    pub elapsed_seconds: f64,
    pub trials_per_second: f64,
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
        }
    }
}

/// Column `j` of a trial-major table with `width` columns.
fn column<T: Copy>(table: &[T], width: usize, j: usize) -> Vec<T> {
    table.iter().skip(j).step_by(width).copied().collect()
}

impl Report {
    /// Summarises a run's outcomes.
    pub fn build(scenario: &Scenario, seed: u64, out: &Outcomes, run: RunInfo) -> Report {
        let n = out.trials;
        let nf = n as f64;
        let npv: Vec<f64> = out.summary.iter().map(|s| s.npv).collect();
        let count = |f: &dyn Fn(&crate::engine::TrialSummary) -> bool| {
            out.summary.iter().filter(|s| f(s)).count() as u64
        };
        let negative = count(&|s| s.npv < 0.0);
        let collapsed = count(&|s| s.collapse_year != NO_YEAR);

        let h = out.horizon;
        let mut paid_back_by = vec![0u64; h];
        let mut collapse_in = vec![0u64; h];
        for s in &out.summary {
            if s.payback_year != NO_YEAR {
                paid_back_by[s.payback_year as usize] += 1;
            }
            if s.collapse_year != NO_YEAR {
                collapse_in[s.collapse_year as usize] += 1;
            }
        }
        let mut running = 0;
        let mut p50 = None;
        for (y, c) in paid_back_by.iter().enumerate() {
            running += c;
            if p50.is_none() && 2 * running >= n as u64 {
                p50 = Some(y as u16);
            }
        }

        let by_year: Vec<Band> = (0..h)
            .into_par_iter()
            .map(|t| Band::of(t, &column(&out.cumulative, h, t)))
            .collect();
        let partners: Vec<PartnerReport> = scenario
            .partners
            .par_iter()
            .enumerate()
            .map(|(i, p)| {
                let values = column(&out.partner_npv, out.partners, i);
                let worse = values.iter().filter(|&&v| v < 0.0).count();
                let left = column(&out.gave_notice, out.partners, i)
                    .iter()
                    .filter(|&&g| g != 0)
                    .count();
                PartnerReport {
                    name: p.name.clone(),
                    npv: Summary::of(&values),
                    prob_worse_off: worse as f64 / nf,
                    prob_withdraws: left as f64 / nf,
                }
            })
            .collect();
        let event_mean = |f: fn(&crate::engine::TrialSummary) -> u32| {
            out.summary.iter().map(|s| u64::from(f(s))).sum::<u64>() as f64 / nf
        };
        Report {
            schema: SCHEMA,
            scenario: scenario.name.clone(),
            seed,
            trials: n as u64,
            horizon_years: h,
            consortium: Consortium {
                npv: Summary::of(&npv),
                prob_npv_negative: Proportion::new(negative, n as u64),
                prob_collapse: collapsed as f64 / nf,
                payback_year: Payback {
                    prob_within_horizon: paid_back_by.iter().sum::<u64>() as f64 / nf,
                    p50,
                },
                by_year,
                collapse_year_probability: collapse_in.iter().map(|&c| c as f64 / nf).collect(),
            },
            partners,
            events: Events {
                withdrawals: event_mean(|s| s.withdrawals),
                rejoins: event_mean(|s| s.rejoins),
                disputes: event_mean(|s| s.disputes),
                dispute_years: event_mean(|s| s.dispute_years),
            },
            run,
        }
    }
}
