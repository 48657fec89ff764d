//! Analyses of a prepared run: a sweep, a sensitivity study, a comparison or a search of
//! agreement terms, each
//! checked before the first run starts and run on the run's threads under common random
//! numbers (the run's seed and trial count).

use std::sync::atomic::Ordering;

use super::error::{Error, Notice, Result, Setting, message};
use super::memory::{self, Footprint};
use super::prepare::{self, Prepared, Source};
use super::provenance;
use super::simulate::interrupted;
use crate::analysis::agreement::{self, Agreement, Limits, Term};
use crate::analysis::compare::{self, Comparison, Entrant};
use crate::analysis::crn::Crn;
use crate::analysis::sensitivity::{Sensitivity, Study, label};
use crate::analysis::sweep::{self, Param, Sweep};
use crate::analysis::{AnalysisError, Input};
use crate::engine::Monitor;
use crate::scenario::Scenario;
use crate::summary::AsRun;

/// Parses the parameters of a sweep: one (a line) or two (a grid).
pub fn sweep_params(specs: &[String]) -> Result<Vec<Param>> {
    if specs.is_empty() {
        return Err(Error::request(message![
            "a sweep needs a parameter: ",
            Setting::Param,
            " POINTER=V1,V2,... or POINTER=START:STOP:STEPS (e.g. /service/efficiency=0.1:0.3:5)",
        ]));
    }
    if specs.len() > 2 {
        return Err(Error::request(message![
            Setting::Param,
            format!(
                " was given {} times: a sweep has one parameter (a line) or two (a grid)",
                specs.len()
            ),
        ]));
    }
    let params = specs
        .iter()
        .map(|p| Param::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    if let [a, b] = &params[..]
        && a.pointer == b.pointer
    {
        return Err(AnalysisError::spec(
            Input::Param,
            &b.spec,
            format!(
                "{} is swept twice: a grid needs two different parameters",
                b.pointer
            ),
        )
        .into());
    }
    Ok(params)
}

/// The terms of an agreement analysis: those given one by one (`POINTER=V1,V2,...`),
/// then those of a terms file (`{"terms": {"POINTER": [V1, ...]}}`), if one is named.
/// A term given twice is refused. For a front end with a file option (the command
/// line); [`agreement_term_list`] is for one whose terms are a list.
pub fn agreement_terms(specs: &[String], file: Option<&std::path::Path>) -> Result<Vec<Term>> {
    let mut terms = parse_terms(specs)?;
    if let Some(path) = file {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            AnalysisError::spec(Input::Terms, &name, format!("cannot be read: {e}"))
        })?;
        terms.extend(Term::from_file(&text, &name)?);
    }
    if terms.is_empty() {
        return Err(Error::request(message![
            "an agreement needs at least one term: ",
            Setting::Term,
            " POINTER=V1,V2,... (e.g. /partners/*/exit_fee=0,250000) or ",
            Setting::Terms,
            " FILE",
        ]));
    }
    agreement::check_distinct(&terms)?;
    Ok(terms)
}

/// The terms of an agreement analysis given as a list (`terms`, each
/// `POINTER=V1,V2,...`), for a front end without a terms file (Python, the web app).
pub fn agreement_term_list(specs: &[String]) -> Result<Vec<Term>> {
    let terms = parse_terms(specs)?;
    if terms.is_empty() {
        return Err(Error::request(message![
            "an agreement needs at least one term in ",
            Setting::Terms,
            ", each POINTER=V1,V2,... (e.g. /partners/*/exit_fee=0,250000)",
        ]));
    }
    agreement::check_distinct(&terms)?;
    Ok(terms)
}

fn parse_terms(specs: &[String]) -> Result<Vec<Term>> {
    Ok(specs
        .iter()
        .map(|s| Term::parse(s))
        .collect::<Result<Vec<_>, _>>()?)
}

/// What an analysis keeps of each run beyond its partners (the figures, the point's
/// values) and writes of it.
const POINT_BYTES: u64 = 2 << 10;
/// What an analysis keeps of each partner in each run (its figures and a copy of its
/// name) and writes of it (a JSON object, CSV columns, table cells).
const POINT_PARTNER_BYTES: u64 = 200;
/// Per byte of a partner's name in each run: the copy kept, and the name in the JSON,
/// the CSV header and the table.
const POINT_NAME_BYTES: u64 = 4;
/// What a sensitivity analysis keeps of each tornado bar.
const LEVER_BYTES: u64 = 512;

impl Prepared {
    /// Runs `work` on the run's threads under common random numbers, `runs` runs of the
    /// trials in all (for `monitor.total`).
    fn analyse<T: Send>(
        &self,
        monitor: &Monitor,
        runs: usize,
        work: impl FnOnce(&Crn) -> Result<T, AnalysisError> + Send,
    ) -> Result<T> {
        let crn = Crn {
            seed: self.seed,
            trials: self.total_trials as usize,
            monitor,
            sampling: self.plan.sampling,
        };
        monitor.done.store(0, Ordering::Relaxed);
        let total = (runs as u64).saturating_mul(self.total_trials);
        monitor.total.store(total, Ordering::Relaxed);
        let value = self.pool.install(|| work(&crn))?;
        interrupted(monitor)?;
        Ok(value)
    }

    /// The scenario at each value of `params`: the memory the whole sweep needs checked,
    /// every point validated, then each run. A correlated input that some points hold at
    /// a number is noted in `notices`.
    pub fn sweep(
        &self,
        params: &[Param],
        monitor: &Monitor,
        notices: &mut Vec<Notice>,
    ) -> Result<Sweep> {
        let points = sweep::point_count(params).unwrap_or(usize::MAX);
        let mut footprint = self.run_footprint();
        // Each point's run holds the edited scenario beside the base; what it keeps of
        // each run (and writes at the end) is counted by point.
        footprint.scenario = footprint.scenario.saturating_mul(2);
        footprint.report = 0;
        footprint.analysis = (points as u64).saturating_mul(self.point_bytes());
        memory::check(
            self.max_memory,
            &footprint,
            format!("{points} points of {} trials", self.total_trials),
            message![
                "sweep fewer values, or ask for fewer with ",
                Setting::Trials
            ],
        )?;
        // Points are validated one at a time (a grid may be large), noting what they hold.
        let mut held: Vec<String> = Vec::new();
        sweep::check_points(&self.value, &self.origin, params, |point| {
            for label in newly_held(&self.scenario, [point]) {
                if !held.contains(&label) {
                    held.push(label);
                }
            }
        })?;
        notices.extend(held_note(&held, " at some points of the sweep"));
        let mut s = self.analyse(monitor, points, |crn| {
            sweep::run(&self.value, &self.origin, params, crn)
        })?;
        s.provenance = Some(self.provenance());
        Ok(s)
    }

    /// Every set of `terms` run and judged against `limits`: the memory the whole
    /// analysis needs checked and every set validated first, as for a sweep. A
    /// correlated input that some sets hold at a number is noted in `notices`.
    pub fn agreement(
        &self,
        terms: &[Term],
        limits: Limits,
        monitor: &Monitor,
        notices: &mut Vec<Notice>,
    ) -> Result<Agreement> {
        limits.check()?;
        let sets = agreement::set_count(terms).unwrap_or(usize::MAX);
        let mut footprint = self.run_footprint();
        // As a sweep: the edited scenario beside the base, and what is kept of each set.
        footprint.scenario = footprint.scenario.saturating_mul(2);
        footprint.report = 0;
        footprint.analysis = (sets as u64).saturating_mul(self.point_bytes());
        memory::check(
            self.max_memory,
            &footprint,
            format!("{sets} sets of terms of {} trials", self.total_trials),
            message![
                "give the terms fewer values, or ask for fewer with ",
                Setting::Trials
            ],
        )?;
        let mut held: Vec<String> = Vec::new();
        agreement::check_sets(&self.value, &self.origin, terms, |set| {
            for label in newly_held(&self.scenario, [set]) {
                if !held.contains(&label) {
                    held.push(label);
                }
            }
        })?;
        notices.extend(held_note(&held, " in some sets of terms"));
        let mut a = self.analyse(monitor, sets, |crn| {
            agreement::run(&self.value, &self.origin, terms, limits, crn)
        })?;
        a.provenance = Some(self.provenance());
        Ok(a)
    }

    /// The footprint of one run of an analysis, before what the analysis keeps.
    fn run_footprint(&self) -> Footprint {
        Footprint {
            // An analysis's runs keep no yearly savings.
            cash: 0,
            ..Footprint::run(
                &self.scenario,
                &self.plan,
                self.total_trials,
                self.pool.current_num_threads(),
                false,
            )
        }
    }

    /// What an analysis keeps of one run of a scenario like this one (its figures, each
    /// partner's with its name), and what it writes of it (JSON, CSV and the table).
    fn point_bytes(&self) -> u64 {
        let names: u64 = self
            .scenario
            .partners
            .iter()
            .map(|p| p.name.len() as u64)
            .sum();
        POINT_BYTES + POINT_PARTNER_BYTES * self.plan.partners as u64 + POINT_NAME_BYTES * names
    }

    /// Tornado, rank correlations and switching values (of the `switch` pointers, or
    /// of the widest bars; and of P(loss) reaching `target_prob_loss`), the pointers
    /// resolved before the first run. Correlated inputs that its runs hold at a number
    /// are noted in `notices`.
    pub fn sensitivity(
        &self,
        switch: &[String],
        target_prob_loss: Option<f64>,
        monitor: &Monitor,
        notices: &mut Vec<Notice>,
    ) -> Result<Sensitivity> {
        let study = Study::new(&self.value, &self.origin, switch, target_prob_loss)?;
        notices.extend(held_note(
            &study.held,
            " in some runs (tornado bars, switching values)",
        ));
        let mut footprint = self.run_footprint();
        // The study's copy of the scenario, and the edited one of each run.
        footprint.scenario = footprint.scenario.saturating_mul(3);
        // Runs keep only their NPVs: no summary, no report.
        (footprint.summary, footprint.report) = (0, 0);
        // After the base run, each uncertain input's value in every trial of it, for its
        // rank correlation, and each worker's two columns of ranks: beyond the run's
        // own memory, which it then reuses.
        let inputs = (self.plan.uncertain.len() + self.plan.correlated.len()) as u64;
        let threads = self.pool.current_num_threads() as u64;
        let ranks = self
            .total_trials
            .saturating_mul(8 + 8 * inputs + 32 * threads);
        footprint.analysis = ranks
            .saturating_sub(footprint.outcomes + footprint.workers)
            .saturating_add((study.levers.len() as u64).saturating_mul(LEVER_BYTES));
        memory::check(
            self.max_memory,
            &footprint,
            format!(
                "a sensitivity analysis of {} trials and {inputs} uncertain inputs",
                self.total_trials
            ),
            message!["ask for fewer with ", Setting::Trials],
        )?;
        let mut s = self.analyse(monitor, study.runs_at_most(), |crn| study.run(crn))?;
        s.provenance = Some(self.provenance());
        Ok(s)
    }

    /// The run's scenario, as "base", and its variants (`NAME:POINTER=VALUE[;...]`); a
    /// correlated input that a variant holds at a number is noted in `notices`.
    pub fn variants(&self, specs: &[String], notices: &mut Vec<Notice>) -> Result<Vec<Entrant>> {
        let mut entrants = vec![Entrant {
            name: "base".into(),
            source: self.origin.clone(),
            scenario: self.scenario.clone(),
            as_run: Some(self.as_run()),
        }];
        for spec in specs {
            let entrant = compare::variant(spec, &self.value, &self.origin)?;
            // Columns are told apart by name alone.
            if let Some(same) = entrants.iter().find(|e| e.name == entrant.name) {
                let message = if same.name == "base" {
                    "\"base\" names the scenario as written; give the variant another name"
                        .to_string()
                } else {
                    format!("the name \"{}\" is given to two variants", same.name)
                };
                return Err(AnalysisError::spec(Input::Variant, spec, message).into());
            }
            let held = newly_held(&self.scenario, [&entrant.scenario]);
            notices.extend(held_note(&held, &format!(" in variant {}", entrant.name)));
            entrants.push(entrant);
        }
        Ok(entrants)
    }

    /// The run's scenario, from `first`, and the scenarios of `more`, each with the
    /// run's `overrides`; each is named by its file's stem, or its path where two stems
    /// are the same. What loading each of `more` tells (a repaired correlation matrix,
    /// a workbook formula read as its saved 0) is added to `notices`, led by the file's
    /// name, since several files say alike; the first's notices are the caller's, from
    /// [`prepare`](super::prepare).
    pub fn files(
        &self,
        first: &Source,
        more: &[Source],
        overrides: &[String],
        notices: &mut Vec<Notice>,
    ) -> Result<Vec<Entrant>> {
        let files: Vec<&Source> = std::iter::once(first).chain(more).collect();
        let names = column_names(&files);
        let mut entrants = Vec::new();
        for (source, name) in files.iter().zip(names) {
            let loaded = if *source == first {
                None
            } else {
                let mut told = Vec::new();
                let loaded = prepare::load(source, overrides, &mut told);
                notices.extend(told.into_iter().map(|n| n.about(&source.name())));
                Some(loaded?)
            };
            entrants.push(match loaded {
                None => Entrant {
                    name,
                    source: self.origin.clone(),
                    scenario: self.scenario.clone(),
                    as_run: Some(self.as_run()),
                },
                Some(l) => Entrant {
                    name,
                    source: l.origin,
                    scenario: l.scenario,
                    as_run: Some(AsRun {
                        origin: l.from,
                        scenario: l.value,
                    }),
                },
            });
        }
        Ok(entrants)
    }

    /// Compares `entrants` trial by trial, each with the first.
    pub fn compare(&self, entrants: &[Entrant], monitor: &Monitor) -> Result<Comparison> {
        // Each column is shown in one currency and the differences subtract one's figures
        // from the first's: in two currencies both would be wrong.
        if let [first, rest @ ..] = entrants
            && let Some(other) = rest
                .iter()
                .find(|e| e.scenario.currency != first.scenario.currency)
        {
            return Err(Error::request(format!(
                "{} is in \"{}\" and {} in \"{}\": a comparison subtracts each scenario's \
                 figures from the first's, so every scenario must be in one currency",
                other.source, other.scenario.currency, first.source, first.scenario.currency
            )));
        }
        let mut footprint = self.run_footprint();
        footprint.report = 0;
        let runs = entrants.len() as u64;
        // Every entrant's validated scenario is held (about half of what its JSON, its
        // validation and its plan take), and the one running compiled; the widest sets
        // the size of each run.
        for e in entrants {
            let plan = crate::plan::Plan::compile(&e.scenario);
            let wider = Footprint::run(&e.scenario, &plan, self.total_trials, 0, false);
            footprint.outcomes = footprint.outcomes.max(wider.outcomes);
            footprint.scenario = footprint
                .scenario
                .saturating_add(memory::scenario_bytes(&e.scenario, &plan) / 2);
        }
        // The first run's NPVs beside each later run; what is kept of each run.
        footprint.analysis =
            (8 * self.total_trials).saturating_add(runs.saturating_mul(self.point_bytes()));
        memory::check(
            self.max_memory,
            &footprint,
            format!("{runs} runs of {} trials", self.total_trials),
            message!["compare fewer, or ask for fewer with ", Setting::Trials],
        )?;
        let mut c = self.analyse(monitor, entrants.len(), |crn| compare::run(entrants, crn))?;
        let scenarios = entrants.iter().filter_map(|e| e.as_run.clone()).collect();
        c.provenance = Some(provenance::now(scenarios, self.plan.sampling));
        Ok(c)
    }
}

/// The correlated inputs (labels) that some of `edited` hold at a number and `base` does
/// not, in the order of the base's correlations.
fn newly_held<'s>(base: &Scenario, edited: impl IntoIterator<Item = &'s Scenario>) -> Vec<String> {
    let already = base.correlations.as_ref().map_or(&[][..], |c| &c.held[..]);
    let mut held: Vec<String> = Vec::new();
    for s in edited {
        for label in s.correlations.iter().flat_map(|c| &c.held) {
            if !already.contains(label) && !held.contains(label) {
                held.push(label.clone());
            }
        }
    }
    held
}

/// The note that the correlated inputs `held` (labels) are held at a number (`context`
/// says where), so that their correlations are dropped there.
pub(super) fn held_note(held: &[String], context: &str) -> Option<Notice> {
    if held.is_empty() {
        return None;
    }
    let names: Vec<String> = held.iter().map(|l| label(l)).collect();
    let (is, its) = if held.len() == 1 {
        ("is", "its")
    } else {
        ("are", "their")
    };
    let there = if context.is_empty() { "" } else { " there" };
    Some(Notice::Note(
        format!(
            "{} {is} held at a number{context}, so {its} rank correlations are dropped{there}; \
             the other correlated inputs keep theirs with each other",
            names.join(", "),
        )
        .into(),
    ))
}

/// Column names for sources: their stems, or their names where two stems are the same.
fn column_names(files: &[&Source]) -> Vec<String> {
    files
        .iter()
        .map(|f| {
            let s = f.stem();
            if files.iter().filter(|g| g.stem() == s).count() > 1 {
                f.name()
            } else {
                s
            }
        })
        .collect()
}
