//! Sensitivity: which inputs move the result most, and at what value the case fails.
//!
//! Three views, each answering a question a business case reviewer asks:
//!
//! - **Tornado** ("which assumptions matter?"): each uncertain input is held at its own
//!   P10 and then at its P90 while every other input still varies, and each plain
//!   probability (a withdrawal hazard, a rejoin probability, the dispute probabilities)
//!   is halved and then raised by half. The swing in mean NPV and in P(loss) ranks them.
//! - **Rank correlation** ("which uncertainty drives the spread?"): the Spearman
//!   correlation between each uncertain input's sampled value and the consortium NPV
//!   across the trials of one ordinary run. The inputs are not stored by the engine; they
//!   are recomputed exactly, since trial k's draws depend only on (seed, k).
//! - **Switching values** (HM Treasury Green Book): the value of an input at which the
//!   mean NPV crosses zero, or at which P(loss) reaches a threshold, found by bisection.
//!
//! Every run shares the seed and trial count (common random numbers, see [`super::crn`]),
//! so a swing or a crossing reflects the input, not sampling noise, and the mean NPV is a
//! smooth function of a held input that bisection can search.

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::crn::{Crn, Edit, Headline, edited};
use super::{AnalysisError, Input};
use crate::copula::spearman;
use crate::plan::{Plan, SamplingScratch};
use crate::rng::trial_key;
use crate::scenario::overrides::{lookup, parse_pointer, partner_position, segment};
use crate::scenario::{Dist, Scenario, inputs};
use crate::summary::{Provenance, RunInfo, SCHEMA};

/// Bisection steps at most; the search also stops once the bracket is narrower than
/// [`TOLERANCE`] of the value.
pub const MAX_STEPS: usize = 30;
/// Relative width of the bracket at which a search stops.
pub const TOLERANCE: f64 = 1e-6;
/// How many of the widest tornado bars get a switching value when none is asked for.
pub const DEFAULT_SWITCHES: usize = 3;

/// How a tornado bar moves its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Basis {
    /// A distribution held at its own 10th and 90th percentiles.
    #[serde(rename = "p10_p90")]
    Percentiles,
    /// A plain probability halved and raised by half (held within [0, 1]).
    #[serde(rename = "x0.5_x1.5")]
    Scaled,
}

impl Basis {
    /// How the low and high values were chosen, for tables and charts.
    pub fn describe(self) -> &'static str {
        match self {
            Basis::Percentiles => "P10 / P90",
            Basis::Scaled => "x0.5 / x1.5",
        }
    }
}

/// An input the tornado moves, and the two values it holds it at.
#[derive(Debug, Clone, PartialEq)]
pub struct Lever {
    /// JSON pointer, partners by name (`/partners/Police/withdrawal_hazard`).
    pub pointer: String,
    pub label: String,
    pub basis: Basis,
    pub low: f64,
    pub high: f64,
}

/// One bar of the tornado: the run with the input low and the run with it high.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub input: String,
    pub label: String,
    pub basis: Basis,
    pub low_value: f64,
    pub high_value: f64,
    pub low: Headline,
    pub high: Headline,
    /// |mean NPV at high - mean NPV at low|: the order of the tornado.
    pub swing_mean_npv: f64,
    /// |P(loss) at high - P(loss) at low|.
    pub swing_prob_loss: f64,
}

/// The rank correlation of one uncertain input with the consortium NPV.
#[derive(Debug, Clone, Serialize)]
pub struct Rank {
    pub input: String,
    pub label: String,
    /// Spearman's rho over the base run's trials (null if the input never varied).
    pub spearman: f64,
}

/// What a switching value is the value of.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "metric", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// The mean consortium NPV equals this (0: the break-even value).
    MeanNpv(f64),
    /// P(consortium NPV < 0) equals this.
    ProbNpvNegative(f64),
}

impl Target {
    /// The target as a reader says it: "mean NPV = 0", "P(loss) = 20.0%".
    pub fn describe(self) -> String {
        match self {
            Target::MeanNpv(x) => format!("mean NPV = {x}"),
            Target::ProbNpvNegative(p) => format!("P(loss) = {:.1}%", 100.0 * p),
        }
    }

    fn gap(self, h: &Headline) -> f64 {
        match self {
            Target::MeanNpv(x) => h.mean_npv - x,
            Target::ProbNpvNegative(p) => h.prob_npv_negative.estimate - p,
        }
    }

    fn metric(self, h: &Headline) -> f64 {
        match self {
            Target::MeanNpv(_) => h.mean_npv,
            Target::ProbNpvNegative(_) => h.prob_npv_negative.estimate,
        }
    }
}

/// An input whose switching value is searched for, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Searchable {
    /// JSON pointer the input is set through (partners by name).
    pub pointer: String,
    pub label: String,
    /// The input's value in the scenario (a distribution's mean).
    pub base_value: f64,
    pub lo: f64,
    pub hi: f64,
    /// How the range was chosen: "P1 to P99", "0 to 1", "0 to 3 x the value".
    pub range_basis: &'static str,
    /// A whole-number field (`lock_in_years`, `min_members` ...): searched over whole
    /// numbers only.
    pub whole: bool,
}

/// Where the crossing lies when there is none in the range searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Above the top of the range: the metric moves towards the target as the input rises.
    Above,
    /// Below the bottom of the range.
    Below,
}

/// A switching value, or the news that there is none in the range searched.
#[derive(Debug, Clone, Serialize)]
pub struct Switch {
    pub input: String,
    pub label: String,
    pub target: Target,
    pub base_value: f64,
    /// The range searched, low end first.
    pub searched: [f64; 2],
    pub range_basis: &'static str,
    /// The metric (mean NPV or P(loss)) with the input at each end of the range.
    pub at_ends: [f64; 2],
    /// "found" or "no crossing in range".
    pub result: &'static str,
    /// The switching value; null when there is no crossing in the range. For a
    /// whole-number field, the whole number nearest the low end of the range at which
    /// the metric has crossed the target.
    pub value: Option<f64>,
    /// With no crossing in the range: on which side of it the crossing lies, judged by
    /// which end is nearer the target (null if both ends are equally far: the input does
    /// not move the metric).
    pub crossing_lies: Option<Side>,
    /// Runs the search took.
    pub runs: usize,
}

/// The whole analysis, as `sensitivity --out` writes it.
#[derive(Debug, Clone, Serialize)]
pub struct Sensitivity {
    pub schema: u32,
    pub analysis: &'static str,
    pub scenario: String,
    pub seed: u64,
    pub trials: u64,
    /// The scenario as written: every input varying.
    pub base: Headline,
    /// Widest swing in mean NPV first.
    pub tornado: Vec<Bar>,
    /// Largest |rho| first.
    pub rank_correlation: Vec<Rank>,
    pub switching_values: Vec<Switch>,
    pub run: RunInfo,
    /// Where the result came from; set by the run API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// A sensitivity analysis ready to run: inputs found, `--switch` pointers resolved.
#[derive(Debug, Clone)]
pub struct Study {
    base: Value,
    origin: String,
    scenario: Scenario,
    plan: Plan,
    pub levers: Vec<Lever>,
    /// The inputs asked for with `--switch`; `None` for the top of the tornado.
    pub switches: Option<Vec<Searchable>>,
    pub targets: Vec<Target>,
    /// The correlated inputs (labels) that some run holds at a number (tornado bars,
    /// searches asked for), so that their correlations are dropped in those runs.
    pub held: Vec<String>,
}

impl Study {
    /// Prepares the analysis of `base` (a scenario's JSON, `--set` edits applied; `origin`
    /// names it in messages). `switch` lists the pointers to find switching values for
    /// (empty: the [`DEFAULT_SWITCHES`] widest tornado bars); `target_prob_loss` adds the
    /// search for the value at which P(loss) reaches it.
    pub fn new(
        base: &Value,
        origin: &str,
        switch: &[String],
        target_prob_loss: Option<f64>,
    ) -> Result<Study, AnalysisError> {
        let scenario = crate::scenario::from_value(base, origin)?;
        let plan = Plan::compile(&scenario);
        let mut targets = vec![Target::MeanNpv(0.0)];
        if let Some(p) = target_prob_loss {
            if !(0.0..=1.0).contains(&p) {
                return Err(AnalysisError::spec(
                    Input::TargetProbLoss,
                    &p.to_string(),
                    "must be a probability between 0 and 1, e.g. 0.2 for 20%",
                ));
            }
            targets.push(Target::ProbNpvNegative(p));
        }
        let switches: Option<Vec<Searchable>> = if switch.is_empty() {
            None
        } else {
            Some(
                switch
                    .iter()
                    .map(|p| searchable(p, base, &scenario, &plan))
                    .collect::<Result<_, _>>()?,
            )
        };
        let levers = levers(&scenario, &plan);
        let moved = |pointer: &str| {
            levers.iter().any(|l| l.pointer == pointer)
                || switches.iter().flatten().any(|s| s.pointer == pointer)
        };
        let held = scenario.correlations.as_ref().map_or_else(Vec::new, |c| {
            c.labels
                .iter()
                .filter(|l| !c.held.contains(l) && moved(&address_of(&scenario, l)))
                .cloned()
                .collect()
        });
        Ok(Study {
            levers,
            held,
            base: base.clone(),
            origin: origin.to_string(),
            scenario,
            plan,
            switches,
            targets,
        })
    }

    /// The most runs the analysis can take (searches may stop early): for a progress bar.
    pub fn runs_at_most(&self) -> usize {
        let searches = self
            .switches
            .as_ref()
            .map_or(DEFAULT_SWITCHES.min(self.levers.len()), Vec::len);
        1 + 2 * self.levers.len() + searches * self.targets.len() * (MAX_STEPS + 2)
    }

    /// Runs the tornado, the rank correlations and the switching-value searches.
    pub fn run(&self, crn: &Crn) -> Result<Sensitivity, AnalysisError> {
        let start = Instant::now();
        let mut runs = 0;
        let base_npv = crn.npv(&self.scenario)?;
        runs += 1;
        let base = Headline::sampled(&base_npv, crn.sampling);
        let rank_correlation = self.rank_correlations(crn, &base_npv);
        drop(base_npv);

        let mut tornado = Vec::with_capacity(self.levers.len());
        for lever in &self.levers {
            let low = self.headline_at(crn, &lever.pointer, lever.low)?;
            let high = self.headline_at(crn, &lever.pointer, lever.high)?;
            runs += 2;
            tornado.push(Bar {
                input: lever.pointer.clone(),
                label: lever.label.clone(),
                basis: lever.basis,
                low_value: lever.low,
                high_value: lever.high,
                swing_mean_npv: (high.mean_npv - low.mean_npv).abs(),
                swing_prob_loss: (high.prob_npv_negative.estimate - low.prob_npv_negative.estimate)
                    .abs(),
                low,
                high,
            });
        }
        // A stable sort: equal swings keep the order of the scenario file.
        tornado.sort_by(|a, b| b.swing_mean_npv.total_cmp(&a.swing_mean_npv));

        let searches = match &self.switches {
            Some(s) => s.clone(),
            None => tornado
                .iter()
                .filter(|b| b.swing_mean_npv > 0.0)
                .take(DEFAULT_SWITCHES)
                .map(|b| searchable(&b.input, &self.base, &self.scenario, &self.plan))
                .collect::<Result<_, _>>()?,
        };
        // The progress total counted every search at its most runs; as each ends (or
        // turns out not to be needed) the runs it did not take come off it, so the bar
        // reaches its end with the work rather than jumping from part way.
        let per_search = (MAX_STEPS + 2) as u64;
        let planned = (self.runs_at_most() - 1 - 2 * self.levers.len()) as u64 / per_search;
        let searched = (searches.len() * self.targets.len()) as u64;
        crn.fewer_runs(planned.saturating_sub(searched) * per_search);
        let mut switching_values = Vec::new();
        for s in &searches {
            for &target in &self.targets {
                let found = self.switching_value(crn, s, target)?;
                runs += found.runs;
                crn.fewer_runs(per_search.saturating_sub(found.runs as u64));
                switching_values.push(found);
            }
        }
        Ok(Sensitivity {
            schema: SCHEMA,
            analysis: "sensitivity",
            scenario: self.scenario.name.clone(),
            seed: crn.seed,
            trials: crn.trials as u64,
            base,
            tornado,
            rank_correlation,
            switching_values,
            run: RunInfo::new(
                rayon::current_num_threads(),
                start.elapsed().as_secs_f64(),
                runs * crn.trials,
            ),
            provenance: None,
        })
    }

    /// Mean NPV and P(loss) with the input at `pointer` held at `x` in every trial.
    fn headline_at(&self, crn: &Crn, pointer: &str, x: f64) -> Result<Headline, AnalysisError> {
        let edit = Edit::number(pointer, x);
        let (_, scenario) = edited(&self.base, &[edit], &self.origin, Input::Switch, pointer)?;
        Ok(Headline::sampled(&crn.npv(&scenario)?, crn.sampling))
    }

    /// Spearman's rho of each uncertain input with the NPV of the base run's trials.
    fn rank_correlations(&self, crn: &Crn, npv: &[f64]) -> Vec<Rank> {
        let seed = crn.seed;
        // Sampled as the base run sampled them.
        let mut plan = self.plan.clone();
        plan.sampling = crn.sampling;
        let uncertain: Vec<usize> = (0..self.plan.inputs.len())
            .filter(|&i| self.plan.inputs[i].sampler.fixed_value().is_none())
            .filter(|&i| !self.is_founders_join(&self.plan.input_labels[i]))
            .collect();
        let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(npv.len()); uncertain.len()];
        let mut buf = vec![0.0; self.plan.inputs.len()];
        self.plan.fill_fixed(&mut buf);
        let mut scratch = SamplingScratch::new(&self.plan);
        for k in 0..npv.len() {
            // Exactly the draws the engine made for trial k (first trial 0).
            plan.sample_uncertain(
                seed,
                k as u64,
                trial_key(seed, k as u64),
                &mut buf,
                &mut scratch,
            );
            for (column, &i) in columns.iter_mut().zip(&uncertain) {
                column.push(buf[i]);
            }
        }
        let mut ranks: Vec<Rank> = uncertain
            .par_iter()
            .zip(columns.par_iter())
            .map(|(&i, column)| {
                let input = self.plan.input_labels[i].clone();
                Rank {
                    label: label(&input),
                    input,
                    spearman: spearman(column, npv),
                }
            })
            .collect();
        let size = |r: &Rank| {
            if r.spearman.is_finite() {
                r.spearman.abs()
            } else {
                -1.0
            }
        };
        ranks.sort_by(|a, b| size(b).total_cmp(&size(a)));
        ranks
    }

    /// A founder's join probability has no effect (founders always join).
    fn is_founders_join(&self, pointer: &str) -> bool {
        self.scenario
            .partners
            .iter()
            .any(|p| p.is_founder() && pointer == plan_label(&p.name, "join_probability"))
    }

    /// The value of `s` at which `target` is met, by bisection under common random
    /// numbers, finished by one secant step inside the final bracket (exact when the
    /// metric is linear in the input, as the NPV is in the efficiency).
    fn switching_value(
        &self,
        crn: &Crn,
        s: &Searchable,
        target: Target,
    ) -> Result<Switch, AnalysisError> {
        let mut runs = 0;
        let mut eval = |x: f64| -> Result<Headline, AnalysisError> {
            runs += 1;
            self.headline_at(crn, &s.pointer, x)
        };
        let (mut lo, mut hi) = (s.lo, s.hi);
        let (at_lo, at_hi) = (eval(lo)?, eval(hi)?);
        let at_ends = [target.metric(&at_lo), target.metric(&at_hi)];
        let (mut g_lo, mut g_hi) = (target.gap(&at_lo), target.gap(&at_hi));
        let crosses = g_lo == 0.0 || g_hi == 0.0 || g_lo.signum() != g_hi.signum();
        let crossing_lies = match (g_hi.abs(), g_lo.abs()) {
            _ if crosses => None,
            (h, l) if h < l => Some(Side::Above),
            (h, l) if h > l => Some(Side::Below),
            _ => None,
        };
        let value = if g_lo == 0.0 {
            Some(lo)
        } else if g_hi == 0.0 {
            Some(hi)
        } else if g_lo.signum() == g_hi.signum() || lo == hi {
            None
        } else if s.whole {
            // Bisection on whole numbers: hi stays past the crossing, lo before it.
            while hi - lo > 1.0 {
                let mid = (0.5 * (lo + hi)).floor();
                let g = target.gap(&eval(mid)?);
                if g != 0.0 && g.signum() == g_lo.signum() {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            Some(hi)
        } else {
            let mut exact = None;
            for _ in 0..MAX_STEPS {
                let mid = 0.5 * (lo + hi);
                let g = target.gap(&eval(mid)?);
                if g == 0.0 {
                    exact = Some(mid);
                    break;
                }
                if g.signum() == g_lo.signum() {
                    (lo, g_lo) = (mid, g);
                } else {
                    (hi, g_hi) = (mid, g);
                }
                if hi - lo <= TOLERANCE * lo.abs().max(hi.abs()) {
                    break;
                }
            }
            Some(exact.unwrap_or_else(|| (lo - g_lo * (hi - lo) / (g_hi - g_lo)).clamp(lo, hi)))
        };
        Ok(Switch {
            input: s.pointer.clone(),
            label: s.label.clone(),
            target,
            base_value: s.base_value,
            searched: [s.lo, s.hi],
            range_basis: s.range_basis,
            at_ends,
            result: if value.is_some() {
                "found"
            } else {
                "no crossing in range"
            },
            value,
            crossing_lies,
            runs,
        })
    }
}

/// The plan's label of a partner's field: the partner named, escaped as RFC 6901 asks.
/// (Labels key the random streams, so they never change; see [`address`] for the
/// pointer an edit uses.)
fn plan_label(name: &str, field: &str) -> String {
    format!(
        "/partners/{}/{field}",
        name.replace('~', "~0").replace('/', "~1")
    )
}

/// The pointer that addresses a partner's field whatever the partner's name (quoted when
/// the name is a number or holds '=': see [`crate::scenario::overrides`]). The same as
/// its [`plan_label`] for every other name.
fn address(name: &str, field: &str) -> String {
    format!("/partners/{}/{field}", segment(name))
}

/// The pointer an edit uses for the input the plan labels `label`.
fn address_of(scenario: &Scenario, label: &str) -> String {
    let field = label.rsplit('/').next().unwrap_or_default();
    scenario
        .partners
        .iter()
        .find(|p| label == plan_label(&p.name, field))
        .map_or_else(|| label.to_string(), |p| address(&p.name, field))
}

/// Probability fields: held within [0, 1] and searched over [0, 1].
fn is_probability(field: &str) -> bool {
    matches!(
        field,
        "join_probability" | "rejoin_probability" | "annual_probability" | "resolution_probability"
    )
}

/// A pointer as a reader says it: "efficiency", "dispute annual cost",
/// "Ravensmoor Police: withdrawal hazard".
pub fn label(pointer: &str) -> String {
    let Ok(segments) = parse_pointer(pointer) else {
        return pointer.to_string();
    };
    let words = |s: &str| s.replace('_', " ");
    match segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>()[..] {
        [field] => words(field),
        ["service", field] => words(field),
        ["disputes", field] => format!("dispute {}", words(field)),
        ["partners", name, field] => format!("{name}: {}", words(field)),
        _ => pointer.to_string(),
    }
}

/// Every input the tornado moves, in the order of the scenario file.
pub fn levers(scenario: &Scenario, plan: &Plan) -> Vec<Lever> {
    let mut out = Vec::new();
    for (input, pointer) in plan.inputs.iter().zip(&plan.input_labels) {
        let field = pointer.rsplit('/').next().unwrap_or_default();
        let founder = scenario
            .partners
            .iter()
            .any(|p| p.is_founder() && *pointer == plan_label(&p.name, field));
        if founder && field == "join_probability" {
            continue;
        }
        let (basis, low, high) = match input.sampler.fixed_value() {
            None => (
                Basis::Percentiles,
                input.clamp.apply(input.sampler.quantile(0.1)),
                input.clamp.apply(input.sampler.quantile(0.9)),
            ),
            // Hazards (contagion is one) scale like probabilities.
            Some(x)
                if x > 0.0
                    && (is_probability(field)
                        || field == "withdrawal_hazard"
                        || field == "contagion") =>
            {
                (
                    Basis::Scaled,
                    input.clamp.apply(0.5 * x),
                    input.clamp.apply(1.5 * x),
                )
            }
            Some(_) => continue,
        };
        // Years are held at whole numbers, as a trial rounds them (a join year drawn per
        // trial is a late joiner's, so at least 1).
        let (low, high) = match field {
            "delay_years" => (round_years(low), round_years(high)),
            "joins_year" => (round_years(low).max(1.0), round_years(high).max(1.0)),
            _ => (low, high),
        };
        out.push(Lever {
            label: label(pointer),
            pointer: address_of(scenario, pointer),
            basis,
            low,
            high,
        });
    }
    let d = &scenario.disputes;
    for (field, x) in [
        ("annual_probability", d.annual_probability),
        ("resolution_probability", d.resolution_probability),
    ] {
        if x > 0.0 {
            let pointer = format!("/disputes/{field}");
            out.push(Lever {
                label: label(&pointer),
                pointer,
                basis: Basis::Scaled,
                low: 0.5 * x,
                high: (1.5 * x).min(1.0),
            });
        }
    }
    out
}

/// A number of years rounded as a trial rounds a drawn one: floor(x + 0.5).
fn round_years(x: f64) -> f64 {
    (x + 0.5).floor()
}

/// The distribution of a model input named by its plan label, if it is one.
fn dist_at<'s>(scenario: &'s Scenario, pointer: &str) -> Option<&'s Dist> {
    let mut consortium = inputs::consortium_dists().zip(scenario.consortium_inputs());
    if let Some((_, dist)) = consortium.find(|(i, _)| i.pointer() == pointer) {
        return Some(dist);
    }
    let field = pointer.rsplit('/').next()?;
    let p = scenario
        .partners
        .iter()
        .find(|p| pointer == plan_label(&p.name, field))?;
    p.uncertain_field(field)
}

/// Resolves a `--switch` pointer to the input it names and the range to search.
///
/// A distribution-valued input is searched between its P1 and P99; a plain probability
/// (or withdrawal hazard) over [0, 1]; any other number between 0 and three times its
/// value. Partners may be named or numbered.
pub fn searchable(
    spec: &str,
    base: &Value,
    scenario: &Scenario,
    plan: &Plan,
) -> Result<Searchable, AnalysisError> {
    let fail = |message: String| AnalysisError::spec(Input::Switch, spec, message);
    let parsed = parse_pointer(spec).map_err(fail)?;
    let segments: Vec<String> = parsed.iter().map(|s| s.text.clone()).collect();
    // Partners by name: `label` as the plan labels its inputs, `pointer` as an edit
    // addresses them; `json` keeps the index for lookup.
    let (label_of, pointer, json, partner) = match segments.as_slice() {
        [section, who, field] if section == "partners" => {
            let names = scenario.partners.iter().map(|p| p.name.as_str());
            let i = partner_position(names, &parsed[1]).ok_or_else(|| {
                let names = scenario.partners.iter().map(|p| p.name.as_str());
                fail(format!(
                    "there is no partner \"{who}\" (partners: {})",
                    crate::scenario::some_names(names)
                ))
            })?;
            let name = &scenario.partners[i].name;
            (
                plan_label(name, field),
                address(name, field),
                format!("/partners/{i}/{}", segment(field)),
                Some(i),
            )
        }
        _ => (spec.to_string(), spec.to_string(), spec.to_string(), None),
    };
    let field = segments.last().map_or("", String::as_str);
    let searchable = |base_value: f64, lo: f64, hi: f64, range_basis| Searchable {
        label: label(&label_of),
        pointer: pointer.clone(),
        base_value,
        lo,
        hi,
        range_basis,
        whole: false,
    };
    if let Some(range) = whole_range(&segments, partner, scenario).map_err(fail)? {
        let (x, lo, hi, range_basis) = range;
        return Ok(Searchable {
            whole: true,
            ..searchable(x, lo as f64, hi as f64, range_basis)
        });
    }
    // A field whose values must lie strictly above a bound (a plain baseline or fixed
    // weight above 0, a discount rate above -0.99) cannot be run at the bound, where the
    // search would start: its range then starts a millionth of the way from the bound
    // to the value, as near the bound as makes no difference to a switching value.
    let exclusive_floor = match segments.as_slice() {
        [p, _, f] if p == "partners" && f == "baseline_cost" => Some(0.0),
        [s, c, f, _] if s == "service" && c == "cost_sharing" && f == "fixed" => Some(0.0),
        [f] if f == "discount_rate" => Some(-0.99),
        [f, _, r] if f == "discount_rate" && r == "rate" => Some(-0.99),
        _ => None,
    };
    let up_to_three_times = |x: f64| {
        if x == 0.0 {
            // Three times nothing is no range: the search would run every trial twice
            // at 0 and report that the input does not move the figure.
            return Err(fail(
                "its value is 0, and a plain number is searched from 0 to three times its \
                 value, so there is no range to search; give it a value first (with --set \
                 or in the scenario), or make it a distribution, searched between its P1 \
                 and P99"
                    .into(),
            ));
        }
        let (a, b) = (0.0f64.min(3.0 * x), 0.0f64.max(3.0 * x));
        Ok(match exclusive_floor {
            Some(floor) if a <= floor => searchable(
                x,
                floor + (x - floor) * 1e-6,
                b,
                if floor == 0.0 {
                    "just above 0 to 3 x the value"
                } else {
                    "just above -0.99 to 0"
                },
            ),
            _ => searchable(x, a, b, "0 to 3 x the value"),
        })
    };
    if let Some(i) = plan.input_labels.iter().position(|l| *l == label_of) {
        let input = &plan.inputs[i];
        return Ok(match input.sampler.fixed_value() {
            Some(x)
                if is_probability(field)
                    || field == "withdrawal_hazard"
                    || field == "contagion" =>
            {
                searchable(x, 0.0, 1.0, "0 to 1")
            }
            Some(x) => up_to_three_times(x)?,
            None => {
                let mean = dist_at(scenario, &label_of).map_or(f64::NAN, Dist::mean);
                searchable(
                    mean,
                    input.clamp.apply(input.sampler.quantile(0.01)),
                    input.clamp.apply(input.sampler.quantile(0.99)),
                    "P1 to P99",
                )
            }
        });
    }
    match lookup(base, &json) {
        // Dispute probabilities: validated values, 0 when the file leaves them out.
        _ if segments[0] == "disputes" && segments.len() == 2 && is_probability(field) => {
            let d = &scenario.disputes;
            let x = if field == "annual_probability" {
                d.annual_probability
            } else {
                d.resolution_probability
            };
            Ok(searchable(x, 0.0, 1.0, "0 to 1"))
        }
        Some(v) if v.is_number() => up_to_three_times(v.as_f64().unwrap_or(0.0)),
        Some(_) => Err(fail(
            "the value there is not a number; a switching value is searched for a number \
             or a distribution-valued input"
                .into(),
        )),
        None => Err(fail("does not exist in the scenario".into())),
    }
}

/// For a whole-number field, its value in `scenario` and the whole numbers to search:
/// the field's range in the table of inputs, narrowed to what the scenario makes
/// meaningful (a lock-in up to the horizon, a joining year within it, a minimum
/// membership up to the founders, a horizon up to three times its value); `None` for
/// any other field. The seed and the trial count cannot be searched.
#[allow(clippy::type_complexity)]
fn whole_range(
    segments: &[String],
    partner: Option<usize>,
    scenario: &Scenario,
) -> Result<Option<(f64, u64, u64, &'static str)>, String> {
    let horizon = scenario.horizon_years as u64;
    // The go-live delay counts whole years (a trial rounds its draw): 0 to the horizon,
    // which means never live.
    if let [section, field] = segments
        && section == "service"
        && field == "delay_years"
    {
        // Its base value is the mean delay, as the scenario gives it.
        let x = scenario.service.delay_years.mean();
        return Ok(Some((x, 0, horizon, "0 to the horizon")));
    }
    let (section, field) = match segments {
        [field] => (inputs::Section::Top, field.as_str()),
        [p, _, field] if p == "partners" => (inputs::Section::Partner, field.as_str()),
        _ => return Ok(None),
    };
    let (min, max) = match inputs::INPUTS
        .iter()
        .find(|i| i.name == field && i.section == section)
        .map(|i| i.kind)
    {
        Some(inputs::Kind::Whole(min, max)) => (min, max),
        // A join year, fixed or drawn: whole years.
        Some(inputs::Kind::WholeOrDist) => (0, u64::MAX),
        _ => return Ok(None),
    };
    let p = partner.map(|i| &scenario.partners[i]);
    let (x, lo, hi, basis) = match (field, p) {
        ("horizon_years", _) => (horizon as f64, min, 3 * horizon, "1 to 3 x the value"),
        ("min_members", _) => {
            let founders = scenario.partners.iter().filter(|p| p.is_founder()).count();
            let x = scenario.min_members as u64;
            (x as f64, min, founders as u64, "1 to the founders")
        }
        ("lock_in_years", Some(p)) => (p.lock_in_years as f64, min, horizon, "0 to the horizon"),
        // A founder's join year is not searched: moving it would change who founds the
        // consortium (and may leave fewer founders than min_members).
        ("joins_year", Some(p)) if p.is_founder() => {
            return Err(format!(
                "{} is a founder (joins_year 0): its join year cannot be searched; search a \
                 late joiner's",
                p.name
            ));
        }
        // A late joiner stays one, as a drawn join year always is: years 1 to the last.
        // A drawn join year's base value is its mean.
        ("joins_year", Some(p)) => (
            p.joins_year.mean(),
            min.max(1),
            horizon - 1,
            "1 to the last year",
        ),
        _ => {
            return Err(format!(
                "{field} cannot be searched: every run of a sensitivity analysis shares the \
                 seed and the number of trials (common random numbers)"
            ));
        }
    };
    Ok(Some((x, lo.max(min), hi.min(max), basis)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_as_words() {
        assert_eq!(label("/service/fixed_cost"), "fixed cost");
        assert_eq!(label("/disputes/annual_cost"), "dispute annual cost");
        assert_eq!(
            label("/partners/A~1B/withdrawal_hazard"),
            "A/B: withdrawal hazard"
        );
        assert_eq!(label("/service/ramp/0"), "/service/ramp/0");
        assert_eq!(label("/contagion"), "contagion");
    }
}
