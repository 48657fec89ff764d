//! The compiled scenario: flat numeric arrays that the trial loop reads.
//!
//! Compiling resolves everything that does not change between trials: defaults, repeating
//! ramps and hazard profiles expanded to one value per year, discount factors, the
//! uplifted transition cost's yearly shares, stream keys. The hot loop then indexes arrays
//! and never sees a name, a string or a map.

use crate::copula::Copula;
use crate::lhs::{BlockKeys, Sampling};
use crate::rng::{Stream, label_key, step_to, trial_key};
use crate::sample::{Clamp, Sampler};
use crate::scenario::inputs::{self, Range, Section};
use crate::scenario::{CostSharing, Dist, Scenario};

/// Index of each service-level sampled input in [`Plan::inputs`], from the table of
/// inputs ([`inputs::slot`], evaluated at compile time).
pub const FIXED_COST: usize = inputs::slot(Section::Service, "fixed_cost");
pub const EFFICIENCY: usize = inputs::slot(Section::Service, "efficiency");
pub const TRANSITION_COST: usize = inputs::slot(Section::Service, "transition_cost");
pub const DISPUTE_COST: usize = inputs::slot(Section::Disputes, "annual_cost");
pub const DELAY_YEARS: usize = inputs::slot(Section::Service, "delay_years");
pub const DELAY_COST: usize = inputs::slot(Section::Service, "delay_cost");
pub const CONTAGION: usize = inputs::slot(Section::Top, "contagion");
/// How many service-level inputs precede the partners' inputs.
pub const SERVICE_INPUTS: usize = inputs::CONSORTIUM_INPUTS;

/// Offsets of a partner's sampled inputs within its block of [`PARTNER_INPUTS`].
pub const BASELINE: usize = inputs::slot(Section::Partner, "baseline_cost");
pub const JOINS_YEAR: usize = inputs::slot(Section::Partner, "joins_year");
pub const JOIN_PROBABILITY: usize = inputs::slot(Section::Partner, "join_probability");
pub const ONBOARDING_COST: usize = inputs::slot(Section::Partner, "onboarding_cost");
pub const WITHDRAWAL_HAZARD: usize = inputs::slot(Section::Partner, "withdrawal_hazard");
pub const EXIT_FEE: usize = inputs::slot(Section::Partner, "exit_fee");
pub const REESTABLISH_COST: usize = inputs::slot(Section::Partner, "reestablish_cost");
pub const REJOIN_PROBABILITY: usize = inputs::slot(Section::Partner, "rejoin_probability");
pub const REJOIN_FEE: usize = inputs::slot(Section::Partner, "rejoin_fee");
/// How many sampled inputs each partner has.
pub const PARTNER_INPUTS: usize = inputs::PARTNER_INPUTS;

/// How this year's pool is shared between members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    Proportional,
    Equal,
    /// By [`Plan::fixed_weights`].
    Fixed,
}

/// One trial-level input: how to sample it, how to clamp it, and its stream key.
#[derive(Debug, Clone)]
pub struct Input {
    pub sampler: Sampler,
    pub clamp: Clamp,
    /// Key derived from the input's JSON path (partners by name, not index): the
    /// position of its draw in the trial's inputs stream.
    pub key: u64,
}

/// The compiled scenario.
#[derive(Debug, Clone)]
pub struct Plan {
    pub horizon: usize,
    pub partners: usize,
    pub min_members: usize,
    /// DF_t for t = 0 .. H-1.
    pub discount: Vec<f64>,
    /// ramp_t for every year (last value repeated).
    pub ramp: Vec<f64>,
    /// (1 + optimism_bias) * profile_t for every year (0 past the profile).
    pub transition_share: Vec<f64>,
    pub noise_sd: f64,
    pub scale_elasticity: f64,
    pub sharing: Sharing,
    /// Fixed cost-sharing weights by partner (all 1 unless [`Sharing::Fixed`]).
    pub fixed_weights: Vec<f64>,
    /// Each partner's join year when it is certain; [`UNCERTAIN_JOIN`] for a partner whose
    /// join year is drawn per trial (see [`Plan::uncertain_joins`]).
    pub joins_year: Vec<usize>,
    /// The partners whose join year is a distribution.
    pub uncertain_joins: Vec<usize>,
    /// Whether go-live may slip (the scenario's delay is not a fixed 0): only then does a
    /// run store each trial's delay.
    pub may_be_delayed: bool,
    /// Whether go-live may slip or contagion may be non-zero: only then does the year
    /// loop carry delay years and a contagion term.
    pub delay_or_contagion: bool,
    pub lock_in_years: Vec<usize>,
    pub sensitivity: Vec<f64>,
    /// Hazard multipliers, year-major (`hazard_profile[t * partners + i]`), so that a
    /// year reads one contiguous row.
    pub hazard_profile: Vec<f64>,
    /// Whether some partner may join in year t, for every year (year 0 always: founders;
    /// every year from 1 when a join year is uncertain).
    pub joins_in_year: Vec<bool>,
    pub dispute_start: f64,
    pub dispute_resolve: f64,
    pub dispute_efficiency_loss: f64,
    pub dispute_hazard_uplift: f64,
    /// Service inputs, then each partner's [`PARTNER_INPUTS`] inputs.
    pub inputs: Vec<Input>,
    /// Human-readable name of each input (its JSON path), for reports only.
    pub input_labels: Vec<String>,
    /// Indices in [`Plan::inputs`] of the distribution-valued inputs sampled on their own.
    pub uncertain: Vec<usize>,
    /// Indices of the inputs sampled together through [`Plan::copula`], in its order.
    pub correlated: Vec<usize>,
    /// The Gaussian copula of correlated inputs, if the scenario has any.
    pub copula: Option<Copula>,
    /// For [`Plan::uncertain`] then [`Plan::correlated`], every input a trial draws a
    /// word for, in the order [`Plan::sample_uncertain`] draws them: where its draw is
    /// in the trial's inputs stream (at the position of its key), as a [`step_to`].
    pub draw_steps: Vec<u64>,
    /// The key of each input of [`Plan::draw_steps`], in its order (for Latin hypercube
    /// strata).
    pub draw_keys: Vec<u64>,
    /// Stream key of each partner's year-by-year draws.
    pub partner_keys: Vec<u64>,
    /// Stream key of the consortium-wide yearly draws (disputes, efficiency noise).
    pub year_key: u64,
    /// Stream key of the trial-level inputs' draws.
    pub inputs_key: u64,
    /// How the trial-level inputs are sampled: a setting of the run, not of the
    /// scenario ([`Plan::compile`] gives [`Sampling::Plain`]; the run API sets it).
    pub sampling: Sampling,
}

/// Marks, in [`Plan::joins_year`], a join year drawn per trial.
pub const UNCERTAIN_JOIN: usize = usize::MAX;

/// Expands a list whose last value repeats to one value per year.
fn per_year_repeating(values: &[f64], horizon: usize) -> Vec<f64> {
    (0..horizon)
        .map(|t| values[t.min(values.len() - 1)])
        .collect()
}

/// How a sampled input is held to its field's range: validation checked only its mean,
/// so a draw may fall outside. A baseline cost must stay positive (it divides), so it
/// is held above a billionth of its mean.
fn clamp(range: Range, dist: &Dist) -> Clamp {
    match range {
        Range::Any => Clamp::NONE,
        Range::NonNegative => Clamp::NON_NEGATIVE,
        Range::Positive => Clamp::at_least(1e-9 * dist.mean()),
        Range::Probability => Clamp::PROBABILITY,
        Range::Above(_) => unreachable!("no distribution-valued input has such a range"),
    }
}

impl Plan {
    /// Compiles a validated scenario.
    pub fn compile(s: &Scenario) -> Plan {
        let h = s.horizon_years;
        let svc = &s.service;
        let uplift = 1.0 + svc.optimism_bias;
        let mut inputs = Vec::new();
        let mut labels = Vec::new();
        let mut add = |label: String, dist: &Dist, clamp: Clamp| {
            inputs.push(Input {
                sampler: Sampler::new(dist),
                clamp,
                key: label_key(&label),
            });
            labels.push(label);
        };
        let consortium = inputs::consortium_dists().zip(s.consortium_inputs());
        for (input, dist) in consortium {
            add(input.pointer(), dist, clamp(input.range(), dist));
        }
        for p in &s.partners {
            let name_part = p.name.replace('~', "~0").replace('/', "~1");
            for (input, dist) in inputs::partner_dists().zip(p.uncertain()) {
                let label = format!("/partners/{name_part}/{}", input.name);
                add(label, dist, clamp(input.range(), dist));
            }
        }
        let (correlated, copula) = match &s.correlations {
            None => (Vec::new(), None),
            Some(c) => {
                let slots = c
                    .labels
                    .iter()
                    .map(|l| labels.iter().position(|x| x == l).expect("validated label"))
                    .collect();
                let copula = Copula::new(&c.normal).expect("validated as positive semi-definite");
                (slots, Some(copula))
            }
        };
        let (sharing, fixed_weights) = match &svc.cost_sharing {
            CostSharing::Proportional => (Sharing::Proportional, vec![1.0; s.partners.len()]),
            CostSharing::Equal => (Sharing::Equal, vec![1.0; s.partners.len()]),
            CostSharing::Fixed(w) => (Sharing::Fixed, w.clone()),
        };
        let uncertain: Vec<usize> = (0..inputs.len())
            .filter(|&i| inputs[i].sampler.fixed_value().is_none() && !correlated.contains(&i))
            .collect();
        let draw_keys: Vec<u64> = uncertain
            .iter()
            .chain(&correlated)
            .map(|&i| inputs[i].key)
            .collect();
        let draw_steps = draw_keys.iter().map(|&key| step_to(key)).collect();
        Plan {
            horizon: h,
            partners: s.partners.len(),
            min_members: s.min_members,
            discount: s.discount.factors(h),
            ramp: per_year_repeating(&svc.ramp, h),
            transition_share: (0..h)
                .map(|t| svc.transition_profile.get(t).map_or(0.0, |x| x * uplift))
                .collect(),
            noise_sd: svc.efficiency_noise_sd,
            scale_elasticity: svc.scale_elasticity,
            sharing,
            fixed_weights,
            joins_year: s
                .partners
                .iter()
                .map(|p| p.join_year().unwrap_or(UNCERTAIN_JOIN))
                .collect(),
            uncertain_joins: (0..s.partners.len())
                .filter(|&i| s.partners[i].join_year().is_none())
                .collect(),
            may_be_delayed: svc.may_be_delayed(),
            delay_or_contagion: svc.may_be_delayed() || s.may_be_contagious(),
            lock_in_years: s.partners.iter().map(|p| p.lock_in_years).collect(),
            sensitivity: s
                .partners
                .iter()
                .map(|p| p.disappointment_sensitivity)
                .collect(),
            hazard_profile: {
                let by_partner: Vec<Vec<f64>> = s
                    .partners
                    .iter()
                    .map(|p| per_year_repeating(&p.hazard_profile, h))
                    .collect();
                (0..h)
                    .flat_map(|t| by_partner.iter().map(move |row| row[t]))
                    .collect()
            },
            joins_in_year: (0..h)
                .map(|t| {
                    s.partners.iter().any(|p| match p.join_year() {
                        Some(y) => y == t,
                        None => t >= 1,
                    })
                })
                .collect(),
            dispute_start: s.disputes.annual_probability,
            dispute_resolve: s.disputes.resolution_probability,
            dispute_efficiency_loss: s.disputes.efficiency_loss,
            dispute_hazard_uplift: s.disputes.hazard_uplift,
            uncertain,
            draw_steps,
            draw_keys,
            correlated,
            copula,
            inputs,
            input_labels: labels,
            partner_keys: s
                .partners
                .iter()
                .map(|p| label_key(&format!("partner:{}", p.name)))
                .collect(),
            year_key: label_key("consortium:years"),
            inputs_key: label_key("consortium:inputs"),
            sampling: Sampling::Plain,
        }
    }

    /// Index of partner `i`'s input `field` in [`Plan::inputs`].
    #[inline]
    pub fn partner_input(i: usize, field: usize) -> usize {
        SERVICE_INPUTS + i * PARTNER_INPUTS + field
    }

    /// Samples every input of trial `trial` under `seed` into `out`.
    pub fn sample_inputs(&self, seed: u64, trial: u64, out: &mut [f64]) {
        self.fill_fixed(out);
        let key = trial_key(seed, trial);
        self.sample_uncertain(seed, trial, key, out, &mut SamplingScratch::new(self));
    }

    /// Writes the inputs that never vary (most of a scenario's) into `out`: done once
    /// per worker, so that each trial samples only the uncertain ones.
    pub fn fill_fixed(&self, out: &mut [f64]) {
        for (slot, input) in out.iter_mut().zip(&self.inputs) {
            if let Some(x) = input.sampler.fixed_value() {
                *slot = input.clamp.apply(x);
            }
        }
    }

    /// Samples the distribution-valued inputs of trial `trial` under `seed` (whose
    /// [`trial_key`] is `key`, which the caller has already computed) into their slots
    /// of `out`, leaving the fixed ones as [`Plan::fill_fixed`] wrote them.
    ///
    /// Each input's draw comes from the word of the trial's inputs stream at the position
    /// given by the input's key (a hash of its JSON path, partners by name), so that no
    /// input's draw depends on which other inputs exist or are uncertain. The words are
    /// all drawn first (independent integer work that the processor overlaps), then
    /// turned into values. A correlated input draws its word exactly as it would
    /// uncorrelated; the copula then bends the words' normal scores together. So a
    /// correlation of 0 moves a draw by rounding only, and correlating two inputs leaves
    /// every other input's draws where they were.
    ///
    /// Under [`Sampling::Lhs`] each word's top bits are first replaced by the input's
    /// stratum in this trial (see [`crate::lhs`]), and normal and log-normal inputs take
    /// the inverse distribution function of the word rather than its ziggurat normal,
    /// which is not monotone in the word and so would not keep the strata.
    #[inline(never)]
    pub fn sample_uncertain(
        &self,
        seed: u64,
        trial: u64,
        key: u64,
        out: &mut [f64],
        scratch: &mut SamplingScratch,
    ) {
        let stream = Stream::new(key, self.inputs_key);
        for (w, &step) in scratch.words.iter_mut().zip(&self.draw_steps) {
            *w = stream.word_after(step);
        }
        let lhs = self.sampling == Sampling::Lhs;
        if lhs {
            scratch
                .strata
                .stratify(seed, trial, &self.draw_keys, &mut scratch.words);
        }
        let (own, correlated) = scratch.words.split_at(self.uncertain.len());
        for (&w, &i) in own.iter().zip(&self.uncertain) {
            let input = &self.inputs[i];
            let x = if lhs {
                input.sampler.monotone_from_word(w)
            } else {
                input.sampler.from_word(w)
            };
            out[i] = input.clamp.apply(x);
        }
        if let Some(copula) = &self.copula {
            for ((z, &w), &i) in scratch
                .scores
                .iter_mut()
                .zip(correlated)
                .zip(&self.correlated)
            {
                let sampler = &self.inputs[i].sampler;
                *z = if lhs {
                    sampler.monotone_normal_score(w)
                } else {
                    sampler.normal_score(w)
                };
            }
            copula.correlate_scores(&mut scratch.scores);
            for (&z, &i) in scratch.scores.iter().zip(&self.correlated) {
                let input = &self.inputs[i];
                out[i] = input.clamp.apply(input.sampler.at_score(z));
            }
        }
    }
}

/// Working memory of [`Plan::sample_uncertain`], made once per worker: a word for each of
/// [`Plan::draw_steps`], and a normal score for each correlated input.
#[derive(Debug, Clone)]
pub struct SamplingScratch {
    words: Vec<u64>,
    scores: Vec<f64>,
    /// The current block's Latin hypercube keys (unused by plain sampling).
    strata: BlockKeys,
}

impl SamplingScratch {
    pub fn new(plan: &Plan) -> SamplingScratch {
        SamplingScratch {
            words: vec![0; plan.draw_steps.len()],
            scores: vec![0.0; plan.correlated.len()],
            strata: BlockKeys::new(plan.draw_keys.len()),
        }
    }
}
