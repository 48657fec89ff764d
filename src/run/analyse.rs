//! Analyses of a prepared run: a sweep, a sensitivity study or a comparison, each
//! checked before the first run starts and run on the run's threads under common random
//! numbers (the run's seed and trial count).

use std::sync::atomic::Ordering;

use super::error::{Error, Notice, Result, Setting, message};
use super::prepare::{self, Prepared, Source};
use super::provenance;
use super::simulate::interrupted;
use crate::analysis::compare::{self, Comparison, Entrant};
use crate::analysis::crn::Crn;
use crate::analysis::sensitivity::{Sensitivity, Study};
use crate::analysis::sweep::{self, Param, Sweep};
use crate::analysis::{AnalysisError, Input};
use crate::engine::Monitor;
use crate::summary::AsRun;

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

    /// The scenario at each value of `params`: every point validated first, then run.
    pub fn sweep(&self, params: &[Param], monitor: &Monitor) -> Result<Sweep> {
        let points = sweep::scenarios(&self.value, &self.origin, params)?;
        let mut s = self.analyse(monitor, points.len(), |crn| {
            sweep::run(&self.value, &self.origin, params, crn)
        })?;
        s.provenance = Some(self.provenance());
        Ok(s)
    }

    /// Tornado, rank correlations and switching values (of the `switch` pointers, or
    /// of the widest bars; and of P(loss) reaching `target_prob_loss`), the pointers
    /// resolved before the first run.
    pub fn sensitivity(
        &self,
        switch: &[String],
        target_prob_loss: Option<f64>,
        monitor: &Monitor,
    ) -> Result<Sensitivity> {
        let study = Study::new(&self.value, &self.origin, switch, target_prob_loss)?;
        let mut s = self.analyse(monitor, study.runs_at_most(), |crn| study.run(crn))?;
        s.provenance = Some(self.provenance());
        Ok(s)
    }

    /// The run's scenario, as "base", and its variants (`NAME:POINTER=VALUE[;...]`).
    pub fn variants(&self, specs: &[String]) -> Result<Vec<Entrant>> {
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
        let mut c = self.analyse(monitor, entrants.len(), |crn| compare::run(entrants, crn))?;
        let scenarios = entrants.iter().filter_map(|e| e.as_run.clone()).collect();
        c.provenance = Some(provenance::now(scenarios));
        Ok(c)
    }
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
