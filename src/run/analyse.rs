//! Analyses of a prepared run: a sweep, a sensitivity study or a comparison, each
//! checked before the first run starts and run on the run's threads under common random
//! numbers (the run's seed and trial count).

use std::sync::atomic::Ordering;

use super::error::{Error, Notice, Result, Setting, message};
use super::prepare::{self, Prepared, Source};
use super::simulate::interrupted;
use crate::analysis::compare::{self, Comparison, Entrant};
use crate::analysis::crn::Crn;
use crate::analysis::sensitivity::{Sensitivity, Study, label};
use crate::analysis::sweep::{self, Param, Sweep};
use crate::analysis::{AnalysisError, Input};
use crate::engine::Monitor;
use crate::scenario::Scenario;

/// Parses the parameters of a sweep: one (a line) or two (a grid).
pub fn sweep_params(specs: &[String]) -> Result<Vec<Param>> {
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
        };
        monitor.done.store(0, Ordering::Relaxed);
        let total = (runs as u64).saturating_mul(self.total_trials);
        monitor.total.store(total, Ordering::Relaxed);
        let value = self.pool.install(|| work(&crn))?;
        interrupted(monitor)?;
        Ok(value)
    }

    /// The scenario at each value of `params`: every point validated first, then run. A
    /// correlated input that some points hold at a number is noted in `notices`.
    pub fn sweep(
        &self,
        params: &[Param],
        monitor: &Monitor,
        notices: &mut Vec<Notice>,
    ) -> Result<Sweep> {
        let points = sweep::scenarios(&self.value, &self.origin, params)?;
        let held = newly_held(&self.scenario, points.iter().map(|(_, s)| s));
        notices.extend(held_note(&held, " at some points of the sweep"));
        self.analyse(monitor, points.len(), |crn| {
            sweep::run(&self.value, &self.origin, params, crn)
        })
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
        self.analyse(monitor, study.runs_at_most(), |crn| study.run(crn))
    }

    /// The run's scenario, as "base", and its variants (`NAME:POINTER=VALUE[;...]`); a
    /// correlated input that a variant holds at a number is noted in `notices`.
    pub fn variants(&self, specs: &[String], notices: &mut Vec<Notice>) -> Result<Vec<Entrant>> {
        let mut entrants = vec![Entrant {
            name: "base".into(),
            source: self.origin.clone(),
            scenario: self.scenario.clone(),
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
    /// are the same. Repaired correlation matrices are added to `notices`.
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
                Some(prepare::load(source, overrides, notices)?)
            };
            entrants.push(Entrant {
                name,
                source: loaded
                    .as_ref()
                    .map_or_else(|| self.origin.clone(), |l| l.origin.clone()),
                scenario: loaded.map_or_else(|| self.scenario.clone(), |l| l.scenario),
            });
        }
        Ok(entrants)
    }

    /// Compares `entrants` trial by trial, each with the first.
    pub fn compare(&self, entrants: &[Entrant], monitor: &Monitor) -> Result<Comparison> {
        self.analyse(monitor, entrants.len(), |crn| compare::run(entrants, crn))
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
