//! Replaying one trial with a full record of every year, for `consortium-sim trace`.
//!
//! The replay runs [`simulate`] itself with a recording observer, so the story it tells
//! is exactly the trial that the full run counted: same streams, same steps.

use super::trial::{Hazard, Observer, Scratch, Status, TrialSummary, YearView, simulate};
use crate::plan::Plan;

/// One partner in one year of a replayed trial.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerYear {
    pub status: Status,
    pub weight: f64,
    pub saving: f64,
    /// Bits of [`super::trial::event`].
    pub events: u8,
    /// Its withdrawal hazard this year and the parts of it, if it was a member free to
    /// give notice.
    pub hazard: Option<Hazard>,
}

/// One year of a replayed trial.
#[derive(Debug, Clone, PartialEq)]
pub struct YearRecord {
    pub t: usize,
    /// The service is live (t >= d); otherwise a delay year.
    pub live: bool,
    pub collapsed: bool,
    pub collapses_next: bool,
    pub dispute_active: bool,
    pub dispute_started: bool,
    pub members: usize,
    pub efficiency: f64,
    pub pool: f64,
    pub partners: Vec<PartnerYear>,
    pub cumulative: f64,
}

/// A whole replayed trial.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    pub trial: u64,
    pub summary: TrialSummary,
    pub partner_npv: Vec<f64>,
    pub years: Vec<YearRecord>,
    /// The trial's sampled inputs, laid out as [`Plan::inputs`].
    pub inputs: Vec<f64>,
}

struct Recorder(Vec<YearRecord>);

impl Observer for Recorder {
    const HAZARDS: bool = true;

    fn year(&mut self, v: &YearView<'_>) {
        let partners = v
            .partners
            .iter()
            .enumerate()
            .map(|(i, p)| PartnerYear {
                status: p.status,
                weight: p.weight,
                saving: p.saving,
                events: p.events,
                hazard: v.hazards.get(i).copied().flatten(),
            })
            .collect();
        self.0.push(YearRecord {
            t: v.t,
            live: v.live,
            collapsed: v.collapsed,
            collapses_next: v.collapses_next,
            dispute_active: v.dispute_active,
            dispute_started: v.dispute_started,
            members: v.members,
            efficiency: v.efficiency,
            pool: v.pool,
            partners,
            cumulative: v.cumulative,
        });
    }
}

/// Replays trial `trial` of a run seeded with `seed`.
pub fn replay(plan: &Plan, seed: u64, trial: u64) -> Replay {
    let mut scratch = Scratch::new(plan);
    let mut recorder = Recorder(Vec::with_capacity(plan.horizon));
    let summary = simulate(plan, seed, trial, &mut scratch, &mut recorder);
    Replay {
        trial,
        summary,
        partner_npv: scratch.partners.iter().map(|p| p.npv).collect(),
        years: recorder.0,
        inputs: scratch.inputs,
    }
}
