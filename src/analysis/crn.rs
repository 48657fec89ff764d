//! Common random numbers: how every analysis runs its scenarios.
//!
//! Trial k's random numbers depend only on (seed, k) and on the names of the things that
//! draw them (see [`crate::rng`]). So two runs with the same seed and trial count that
//! differ in one input draw everything else identically, trial by trial: the difference
//! between their results is the effect of that input, free of the sampling noise that two
//! independent runs would add. [`Crn`] fixes the seed and trial count once and runs every
//! scenario of an analysis with them; [`Edit`] and [`edited`] build those scenarios from
//! `--set`-style edits of the base scenario's JSON, so that an edited value goes through
//! exactly the validation a value written in the file does.
//!
//! Each run uses the current rayon pool and is deterministic whatever its size, so an
//! analysis gives the same figures on any number of threads.

use std::sync::atomic::Ordering;

use serde::Serialize;
use serde_json::Value;

use super::{AnalysisError, Input};
use crate::engine::{self, Interrupted, Monitor, Outcomes, Precision};
use crate::lhs::Sampling;
use crate::plan::Plan;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::stats::{self, Proportion, Summary};
use crate::summary::{Report, RunInfo};

/// The seed and trial count shared by every run of an analysis.
#[derive(Debug, Clone, Copy)]
pub struct Crn<'m> {
    pub seed: u64,
    pub trials: usize,
    /// Watches the runs: cancelling it stops the analysis; it counts finished trials.
    pub monitor: &'m Monitor,
    /// How every run samples its trial-level inputs: a Latin hypercube keeps common
    /// random numbers, since trial k's strata depend only on (seed, k).
    pub sampling: Sampling,
}

/// What one run of an analysis keeps: its summary figures and, in trial order, the
/// consortium NPV of each trial (which pairs trial k of one run with trial k of another).
#[derive(Debug, Clone)]
pub struct Run {
    pub figures: Figures,
    pub npv: Vec<f64>,
}

impl Crn<'_> {
    /// Takes `runs` runs off the progress total, which counted them but will not see
    /// them (a search that ended early).
    pub fn fewer_runs(&self, runs: u64) {
        let trials = runs.saturating_mul(self.trials as u64);
        let _ = self
            .monitor
            .total
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                Some(t.saturating_sub(trials))
            });
    }

    /// Runs every trial of `scenario`; rows of the outcomes are in trial order.
    pub fn outcomes(&self, scenario: &Scenario) -> Result<Outcomes, Interrupted> {
        let mut plan = Plan::compile(scenario);
        plan.sampling = self.sampling;
        let precision = Precision::for_run(self.trials as u64, &plan);
        // An analysis shows no cash by year, so its runs keep no yearly savings.
        engine::run_keeping(
            &plan,
            self.seed,
            0,
            self.trials,
            precision,
            false,
            self.monitor,
        )
    }

    /// Runs `scenario` and summarises it as a `run` report would.
    pub fn run(&self, scenario: &Scenario) -> Result<Run, Interrupted> {
        let outcomes = self.outcomes(scenario)?;
        let report = Report::build(scenario, self.seed, &outcomes, RunInfo::new(0, 0.0, 0));
        Ok(Run {
            figures: Figures::from_report(&report),
            npv: outcomes.npv,
        })
    }

    /// Runs `scenario` for its consortium NPVs alone, in trial order: the fast path for
    /// searches that need only the mean NPV and P(loss) of many runs.
    pub fn npv(&self, scenario: &Scenario) -> Result<Vec<f64>, Interrupted> {
        Ok(self.outcomes(scenario)?.npv)
    }
}

/// The figures an analysis shows for one run: docs/model.md's report, cut to what a table of
/// many runs can hold.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub npv: Summary,
    pub prob_npv_negative: Proportion,
    pub prob_collapse: f64,
    pub partners: Vec<PartnerFigures>,
}

/// One partner's figures in one run.
#[derive(Debug, Clone, Serialize)]
pub struct PartnerFigures {
    pub name: String,
    pub mean_npv: f64,
    pub prob_worse_off: f64,
    pub prob_withdraws: f64,
}

impl Figures {
    /// The figures of a run's report.
    pub fn from_report(r: &Report) -> Figures {
        Figures {
            npv: r.consortium.npv,
            prob_npv_negative: r.consortium.prob_npv_negative,
            prob_collapse: r.consortium.prob_collapse,
            partners: r
                .partners
                .iter()
                .map(|p| PartnerFigures {
                    name: p.name.clone(),
                    mean_npv: p.npv.mean,
                    prob_worse_off: p.prob_worse_off,
                    prob_withdraws: p.prob_withdraws,
                })
                .collect(),
        }
    }
}

/// Mean NPV and P(loss) of a run's NPVs: what searches and tornado bars need.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Headline {
    pub mean_npv: f64,
    /// Standard error of the mean NPV.
    pub se_npv: f64,
    pub prob_npv_negative: Proportion,
}

impl Headline {
    /// The headline figures of NPVs in trial order, under plain sampling.
    pub fn of(npv: &[f64]) -> Headline {
        Headline::sampled(npv, Sampling::Plain)
    }

    /// The headline figures of NPVs in trial order from a run sampled by `sampling`:
    /// under Latin hypercube sampling the standard error and P(loss) interval come from
    /// the blocks, as a report's do.
    pub fn sampled(npv: &[f64], sampling: Sampling) -> Headline {
        let negative = npv.iter().filter(|&&v| v < 0.0).count() as u64;
        Headline {
            mean_npv: stats::mean(npv),
            se_npv: stats::standard_error(npv, sampling),
            prob_npv_negative: Proportion {
                estimate: negative as f64 / npv.len() as f64,
                ci95: stats::loss_interval(npv, sampling),
            },
        }
    }
}

/// One `POINTER=VALUE` edit of a scenario's JSON, as `--set` writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edit {
    pub pointer: String,
    pub value: Value,
}

impl Edit {
    /// An edit setting `pointer` to `value`.
    pub fn new(pointer: &str, value: Value) -> Edit {
        Edit {
            pointer: pointer.to_string(),
            value,
        }
    }

    /// An edit setting `pointer` to a number.
    pub fn number(pointer: &str, x: f64) -> Edit {
        Edit::new(pointer, number(x))
    }

    /// The edit as a user would write it: `/service/cost_sharing=equal`,
    /// `/service/efficiency={"uniform":[0.1,0.2]}`.
    pub fn text(&self) -> String {
        format!("{}={}", self.pointer, value_text(&self.value))
    }
}

/// `x` as a JSON number (null if it is not finite, which validation then rejects).
pub fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// A value as a user writes it on the command line: strings bare, everything else as
/// compact JSON.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The scenario made by applying `edits` to a copy of `base` and validating it.
///
/// A pointer whose parent does not exist is reported as a mistake in `option spec` (the
/// input the user wrote, such as a swept parameter); a value that fails validation is reported
/// with every problem, under `origin` followed by the edits, so that the message names
/// both the parameter and the value.
pub fn edited(
    base: &Value,
    edits: &[Edit],
    origin: &str,
    option: Input,
    spec: &str,
) -> Result<(Value, Scenario), AnalysisError> {
    let with: Vec<String> = edits.iter().map(Edit::text).collect();
    edited_as(base, edits, origin, &with, option, spec)
}

/// [`edited`], the edits named in `origin` by `with`: as the user wrote them, where one
/// stands for several (an agreement's `/partners/*/exit_fee=-5` is an edit of every
/// partner, which would otherwise be listed one by one, by name).
pub fn edited_as(
    base: &Value,
    edits: &[Edit],
    origin: &str,
    with: &[String],
    option: Input,
    spec: &str,
) -> Result<(Value, Scenario), AnalysisError> {
    let mut value = base.clone();
    for edit in edits {
        // The value is passed as JSON text, so a string stays a string.
        let set = format!("{}={}", edit.pointer, edit.value);
        scenario::apply_set(&mut value, &set).map_err(|e| match e {
            ScenarioError::Override { message, .. } => AnalysisError::spec(option, spec, message),
            other => AnalysisError::Scenario(other),
        })?;
    }
    let origin = if with.is_empty() {
        origin.to_string()
    } else {
        format!("{origin} with {}", with.join(" and "))
    };
    let scenario = scenario::from_value(&value, &origin)?;
    Ok((value, scenario))
}

/// Splits `text` at each `sep` that is outside brackets, braces and double-quoted
/// strings, so that `0.1,{"uniform":[0.1,0.2]},equal` splits into three values.
pub fn split_top_level(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut start) = (0i32, false, false, 0);
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            _ if c == sep && depth <= 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_only_at_top_level_separators() {
        assert_eq!(
            split_top_level(r#"0.1,{"uniform":[0.1,0.2]},equal"#, ','),
            vec!["0.1", r#"{"uniform":[0.1,0.2]}"#, "equal"]
        );
        assert_eq!(
            split_top_level(r#""a,b",[1,2]"#, ','),
            vec![r#""a,b""#, "[1,2]"]
        );
        assert_eq!(
            split_top_level(r#"/a="x;\"y";/b=2"#, ';'),
            vec![r#"/a="x;\"y""#, "/b=2"]
        );
        assert_eq!(split_top_level("one", ','), vec!["one"]);
    }

    #[test]
    fn edits_read_as_the_user_wrote_them() {
        assert_eq!(
            Edit::new("/service/cost_sharing", json!("equal")).text(),
            "/service/cost_sharing=equal"
        );
        assert_eq!(
            Edit::new("/service/efficiency", json!({"uniform": [0.1, 0.2]})).text(),
            r#"/service/efficiency={"uniform":[0.1,0.2]}"#
        );
        assert_eq!(Edit::number("/x", 0.25).text(), "/x=0.25");
    }

    #[test]
    fn a_missing_parent_names_the_option_and_an_invalid_value_names_the_edit() {
        let base = json!({
            "name": "t", "horizon_years": 2,
            "service": {"efficiency": 0.1},
            "partners": [{"name": "A", "baseline_cost": 1}, {"name": "B", "baseline_cost": 1}]
        });
        let e = edited(
            &base,
            &[Edit::number("/servise/efficiency", 0.2)],
            "f.json",
            Input::Param,
            "/servise/efficiency=0.2",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("`param` /servise/efficiency=0.2: /servise does not exist"),
            "{e}"
        );
        let e = edited(
            &base,
            &[Edit::number("/partners/A/join_probability", 2.0)],
            "f.json",
            Input::Param,
            "x",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("f.json with /partners/A/join_probability=2.0"),
            "{e}"
        );
        assert!(e.contains("/partners/0/join_probability"), "{e}");
    }
}
