//! Comparisons: two or more scenarios side by side, trial paired with trial.
//!
//! "Is the formal agreement worth its higher governance cost?" is a question about a
//! difference, and a difference between two independent Monte Carlo runs carries the
//! sampling noise of both. Under common random numbers (see [`super::crn`]) trial k of one
//! scenario faces the same efficiency draw, the same disputes and the same withdrawal
//! draws as trial k of the other wherever their inputs agree, so the per-trial
//! differences vary far less than the NPVs themselves. Their standard error, the paired
//! SE, is what says whether a difference is real; the unpaired SE is shown beside it to
//! show what pairing gained.
//!
//! Scenarios may come from separate files or be variants of one file made by `--set`
//! style edits. Files with different partners compare the consortium figures; partners
//! are matched by name.

use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use super::crn::{Crn, Edit, Figures, edited, split_top_level};
use super::{AnalysisError, Input};
use crate::lhs::Sampling;
use crate::scenario::Scenario;
use crate::scenario::overrides::{parse_value, split_assignment};
use crate::stats;
use crate::summary::{AsRun, Provenance, RunInfo, SCHEMA};

/// One scenario of a comparison.
#[derive(Debug, Clone)]
pub struct Entrant {
    /// Short name for column headings: a file's stem or a variant's name.
    pub name: String,
    /// Where it came from: a file path, or the file and the variant's edits.
    pub source: String,
    pub scenario: Scenario,
    /// The file it was read from and its JSON as run, for the comparison's provenance
    /// (none for a variant, whose edits `source` gives).
    pub as_run: Option<AsRun>,
}

/// Reads `NAME:POINTER=VALUE[;POINTER=VALUE...]` and builds that variant of `base`
/// (`origin` names the base in messages). Without a name (`/ptr=v`) the edits name it.
pub fn variant(spec: &str, base: &Value, origin: &str) -> Result<Entrant, AnalysisError> {
    let fail = |message: &str| AnalysisError::spec(Input::Variant, spec, message);
    let (name, edits_text) = match spec.find(":/") {
        Some(i) => (spec[..i].trim(), &spec[i + 1..]),
        None if spec.starts_with('/') => (spec, spec),
        None => {
            return Err(fail(
                "expected NAME:POINTER=VALUE, with more edits after ';', e.g. \
                 \"cheap:/service/fixed_cost=300000;/service/efficiency=0.1\"",
            ));
        }
    };
    if name.is_empty() {
        return Err(fail("the variant's name before ':' is empty"));
    }
    // The name heads a column of the table: one line, nothing that acts on a terminal.
    if let Some(what) = crate::scenario::breaks_the_line(name) {
        return Err(fail(&format!(
            "the variant's name {what}; a name heads a column of the table"
        )));
    }
    let edits = split_top_level(edits_text, ';')
        .into_iter()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (pointer, raw) = split_assignment(e)
                .map_err(|m| fail(&m))?
                .ok_or_else(|| fail(&format!("\"{e}\" is not POINTER=VALUE")))?;
            let pointer = pointer.trim();
            if let Some(field) = super::shared_setting(pointer) {
                // The comparison runs every scenario under one seed and trial count
                // (common random numbers): the edit would be dropped without a word.
                return Err(fail(&format!(
                    "every scenario of a comparison runs with the same seed and number of \
                     trials (common random numbers), so a variant's /{field} would be \
                     ignored; set the comparison's {field} instead"
                )));
            }
            Ok(Edit::new(pointer, parse_value(raw)))
        })
        .collect::<Result<Vec<_>, AnalysisError>>()?;
    if edits.is_empty() {
        return Err(fail("no edits after the name"));
    }
    let (_, scenario) = edited(base, &edits, origin, Input::Variant, spec)?;
    let text: Vec<String> = edits.iter().map(Edit::text).collect();
    Ok(Entrant {
        name: name.to_string(),
        source: format!("{origin} with {}", text.join("; ")),
        scenario,
        as_run: None,
    })
}

/// How one scenario differs from the first, trial by trial.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Difference {
    /// Mean of (NPV here - NPV of the first) over paired trials.
    pub mean_npv: f64,
    /// Standard error of that mean from the paired differences: sd / sqrt(n).
    pub se_paired: f64,
    /// What the standard error would be for independent runs: sqrt(se_a^2 + se_b^2).
    pub se_unpaired: f64,
    /// P(loss) here - P(loss) of the first.
    pub prob_npv_negative: f64,
    /// Paired standard error of the difference in P(loss).
    pub prob_npv_negative_se_paired: f64,
}

impl Difference {
    /// The difference of `npv` from `first`, both in trial order, under plain sampling.
    pub fn between(first: &[f64], npv: &[f64]) -> Difference {
        Difference::sampled(first, npv, Sampling::Plain)
    }

    /// The difference of `npv` from `first`, both in trial order, from runs sampled by
    /// `sampling`: under Latin hypercube sampling every standard error comes from the
    /// blocks, as the runs' own do (see [`crate::stats::lhs_standard_error`]).
    pub fn sampled(first: &[f64], npv: &[f64], sampling: Sampling) -> Difference {
        let d: Vec<f64> = npv.iter().zip(first).map(|(b, a)| b - a).collect();
        let mean = stats::mean(&d);
        let loss = |x: &f64| f64::from(u8::from(*x < 0.0));
        let dl: Vec<f64> = npv
            .iter()
            .zip(first)
            .map(|(b, a)| loss(b) - loss(a))
            .collect();
        let mean_loss = stats::mean(&dl);
        let se = |v: &[f64]| stats::standard_error(v, sampling);
        Difference {
            mean_npv: mean,
            se_paired: se(&d),
            se_unpaired: se(first).hypot(se(npv)),
            prob_npv_negative: mean_loss,
            prob_npv_negative_se_paired: se(&dl),
        }
    }
}

/// One column of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub name: String,
    /// The scenario's own name.
    pub scenario: String,
    pub source: String,
    #[serde(flatten)]
    pub figures: Figures,
    /// Null for the first scenario, which the others are compared with.
    pub vs_first: Option<Difference>,
}

/// A whole comparison, as `compare --out` writes it.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub schema: u32,
    pub analysis: &'static str,
    pub seed: u64,
    /// Trials of every scenario (the same for all: common random numbers).
    pub trials: u64,
    /// Every partner of any scenario, in order of first appearance.
    pub partners: Vec<String>,
    pub scenarios: Vec<Column>,
    pub run: RunInfo,
    /// Where the result came from; set by the run API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// Runs every entrant under `crn` and compares each with the first.
pub fn run(entrants: &[Entrant], crn: &Crn) -> Result<Comparison, AnalysisError> {
    let start = Instant::now();
    let mut first: Option<Vec<f64>> = None;
    let mut columns = Vec::with_capacity(entrants.len());
    for e in entrants {
        let run = crn.run(&e.scenario)?;
        let vs_first = first
            .as_deref()
            .map(|a| Difference::sampled(a, &run.npv, crn.sampling));
        if first.is_none() {
            first = Some(run.npv);
        }
        columns.push(Column {
            name: e.name.clone(),
            scenario: e.scenario.name.clone(),
            source: e.source.clone(),
            figures: run.figures,
            vs_first,
        });
    }
    let mut partners: Vec<String> = Vec::new();
    for p in entrants.iter().flat_map(|e| &e.scenario.partners) {
        if !partners.contains(&p.name) {
            partners.push(p.name.clone());
        }
    }
    Ok(Comparison {
        schema: SCHEMA,
        analysis: "compare",
        seed: crn.seed,
        trials: crn.trials as u64,
        partners,
        scenarios: columns,
        run: RunInfo::new(
            rayon::current_num_threads(),
            start.elapsed().as_secs_f64(),
            entrants.len().saturating_mul(crn.trials),
        ),
        provenance: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "name": "t", "horizon_years": 3,
            "service": {"efficiency": 0.1, "fixed_cost": 10},
            "partners": [{"name": "A", "baseline_cost": 100}, {"name": "B", "baseline_cost": 100}]
        })
    }

    #[test]
    fn a_variant_has_a_name_and_several_edits() {
        let v = variant(
            r#"cheap:/service/fixed_cost=5;/service/efficiency={"uniform":[0.1,0.2]}"#,
            &base(),
            "t.json",
        )
        .unwrap();
        assert_eq!(v.name, "cheap");
        assert_eq!(
            v.source,
            r#"t.json with /service/fixed_cost=5; /service/efficiency={"uniform":[0.1,0.2]}"#
        );
        let v = variant("/service/cost_sharing=equal", &base(), "t.json").unwrap();
        assert_eq!(v.name, "/service/cost_sharing=equal");
    }

    #[test]
    fn malformed_variants_name_the_option() {
        for (spec, needle) in [
            ("cheap", "expected NAME:POINTER=VALUE"),
            (":/service/fixed_cost=1", "name before ':' is empty"),
            ("x:/service/fixed_cost", "is not POINTER=VALUE"),
            ("x:/servise/fixed_cost=1", "/servise does not exist"),
        ] {
            let e = variant(spec, &base(), "t.json").unwrap_err().to_string();
            assert!(e.starts_with(&format!("`variant` {spec}: ")), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn a_variant_may_not_change_the_seed_or_the_trials() {
        for (spec, field) in [
            ("s:/seed=5", "seed"),
            ("t:/service/efficiency=0.2; /trials=50", "trials"),
            ("q:/\"seed\"=5", "seed"),
        ] {
            let e = variant(spec, &base(), "t.json").unwrap_err().to_string();
            assert_eq!(
                e,
                format!(
                    "`variant` {spec}: every scenario of a comparison runs with the same \
                     seed and number of trials (common random numbers), so a variant's \
                     /{field} would be ignored; set the comparison's {field} instead"
                )
            );
        }
    }

    #[test]
    fn paired_differences_of_identical_runs_are_exactly_zero() {
        let a = [1.0, -2.0, 3.5, 7.0];
        let d = Difference::between(&a, &a);
        assert_eq!(
            (d.mean_npv, d.se_paired, d.prob_npv_negative),
            (0.0, 0.0, 0.0)
        );
        assert!(d.se_unpaired > 0.0);
        let b = [2.0, -1.0, 4.5, 8.0];
        let d = Difference::between(&a, &b);
        assert_eq!((d.mean_npv, d.se_paired), (1.0, 0.0));
    }
}
