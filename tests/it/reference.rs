//! The engine against an independent implementation of MODEL.md (tests/reference/): the
//! two use different random numbers, so they are compared in distribution, every mean and
//! probability within 4.5 combined standard errors (fixed seeds, so the test is
//! repeatable).
//!
//! Model v2's cases (tests/reference/cases/, and shipped scenarios with v2 inputs set) are
//! a test of their own, which also compares the mean go-live delay; the reference's hand
//! checks of its own v2 (tests/reference/check_v2.py) are a third.
//!
//! The reference needs python3. Where it is missing the test says so and passes, except
//! under CI (`CI` set), where a missing python3 is a failure.

use std::path::Path;
use std::process::Command;

use consortium_sim::engine::{self, Outcomes};
use consortium_sim::export::json;
use consortium_sim::plan::Plan;
use consortium_sim::scenario;
use consortium_sim::summary::{Report, RunInfo};
use serde_json::Value;

const ENGINE_TRIALS: usize = 100_000;
const Z_LIMIT: f64 = 4.5;

struct Case {
    /// The scenario file, from the repository's root.
    path: &'static str,
    sets: &'static [&'static str],
    reference_trials: usize,
}

const CASES: &[Case] = &[
    Case {
        path: "scenarios/four_districts_back_office.json",
        sets: &[],
        reference_trials: 10_000,
    },
    Case {
        path: "scenarios/county_districts_ict.json",
        sets: &[],
        reference_trials: 10_000,
    },
    Case {
        path: "scenarios/mixed_jv_county_district_police.json",
        sets: &[],
        reference_trials: 10_000,
    },
    Case {
        path: "scenarios/london_boroughs_strong_governance.json",
        sets: &[],
        reference_trials: 8_000,
    },
    Case {
        path: "scenarios/social_care_informal.json",
        sets: &[],
        reference_trials: 10_000,
    },
    Case {
        path: "scenarios/social_care_formal.json",
        sets: &[],
        reference_trials: 10_000,
    },
    // Rarely used features together: noisy efficiency (clamped), heavy rejoining, a
    // founder's onboarding cost, strong scale effects, health discount bands past year 30.
    Case {
        path: "scenarios/social_care_informal.json",
        sets: &[
            "/service/efficiency_noise_sd=0.3",
            "/partners/0/rejoin_probability=0.6",
            "/partners/1/onboarding_cost=300000",
            "/service/scale_elasticity=0.5",
            "/discount_rate=\"green_book_health\"",
            "/horizon_years=40",
            "/service/cost_sharing=equal",
        ],
        reference_trials: 5_000,
    },
];

/// Model v2: each new feature alone and together (tests/reference/cases/), the shipped
/// scenario that uses them, and shipped v1 scenarios with v2 inputs written in.
const V2_CASES: &[Case] = &[
    Case {
        path: "tests/reference/cases/v2_fixed_delay.json",
        sets: &[],
        reference_trials: 10_000,
    },
    Case {
        path: "tests/reference/cases/v2_discrete_delay.json",
        sets: &[],
        reference_trials: 10_000,
    },
    Case {
        path: "tests/reference/cases/v2_pert_delay.json",
        sets: &[],
        reference_trials: 10_000,
    },
    Case {
        path: "tests/reference/cases/v2_never_live.json",
        sets: &[],
        reference_trials: 10_000,
    },
    Case {
        path: "tests/reference/cases/v2_contagion.json",
        sets: &[],
        reference_trials: 10_000,
    },
    Case {
        path: "tests/reference/cases/v2_joins_year.json",
        sets: &[],
        reference_trials: 10_000,
    },
    Case {
        path: "tests/reference/cases/v2_delay_collapse.json",
        sets: &[],
        reference_trials: 10_000,
    },
    Case {
        path: "tests/reference/cases/v2_all.json",
        sets: &[],
        reference_trials: 8_000,
    },
    // A delay correlated with other inputs (the engine's correlations).
    Case {
        path: "tests/reference/cases/v2_delay_correlations.json",
        sets: &[],
        reference_trials: 10_000,
    },
    // The shipped scenario of model v2.
    Case {
        path: "scenarios/departments_shared_service_centre.json",
        sets: &[],
        reference_trials: 8_000,
    },
    // The v2 inputs written out at their defaults change nothing.
    Case {
        path: "scenarios/four_districts_back_office.json",
        sets: &[
            "/service/delay_years=0",
            "/service/delay_cost=0",
            "/contagion=0",
        ],
        reference_trials: 10_000,
    },
    // A collapse-prone shipped scenario with an uncertain delay and contagion.
    Case {
        path: "scenarios/mixed_jv_county_district_police.json",
        sets: &[
            "/service/delay_years={\"pert\":[0,1,3]}",
            "/service/delay_cost=400000",
            "/contagion=0.1",
        ],
        reference_trials: 10_000,
    },
];

fn python() -> Option<&'static str> {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some("python3")
}

fn run_reference(python: &str, case: &Case) -> Value {
    let mut cmd = Command::new(python);
    cmd.arg("tests/reference/refmodel.py").arg(case.path).args([
        "--trials",
        &case.reference_trials.to_string(),
        "--seed",
        "5",
    ]);
    for s in case.sets {
        cmd.args(["--set", s]);
    }
    let out = cmd.output().expect("python3 runs");
    assert!(
        out.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("reference prints JSON")
}

fn run_engine(case: &Case) -> (Report, Outcomes) {
    let mut v = scenario::load::read_value(Path::new(case.path)).unwrap();
    for s in case.sets {
        scenario::apply_set(&mut v, s).unwrap_or_else(|e| panic!("{}: {s}: {e}", case.path));
    }
    let s = scenario::from_value(&v, case.path).unwrap_or_else(|e| panic!("{}: {e}", case.path));
    let out = engine::run(&Plan::compile(&s), 3, 0, ENGINE_TRIALS);
    (
        Report::build(&s, 3, &out, RunInfo::new(1, 1.0, ENGINE_TRIALS)),
        out,
    )
}

/// The reference reports probabilities as `{estimate, ci95}`; the engine as numbers
/// except `prob_npv_negative`.
fn estimate(v: &Value) -> f64 {
    v.get("estimate").unwrap_or(v).as_f64().expect("a number")
}

struct Comparison<'a> {
    label: String,
    n_ref: f64,
    failures: &'a mut Vec<String>,
}

impl Comparison<'_> {
    fn check(&mut self, what: &str, engine: f64, reference: f64, se: f64) {
        let z = if se > 0.0 {
            (engine - reference) / se
        } else if engine == reference {
            0.0
        } else {
            f64::INFINITY
        };
        if z.abs() > Z_LIMIT {
            self.failures.push(format!(
                "{}: {what}: engine {engine}, reference {reference}, z = {z:.2}",
                self.label
            ));
        }
    }

    fn mean(&mut self, what: &str, engine: (f64, f64), reference: (f64, f64)) {
        let se = (engine.1.powi(2) + reference.1.powi(2)).sqrt();
        self.check(what, engine.0, reference.0, se);
    }

    fn probability(&mut self, what: &str, engine: f64, reference: f64) {
        let n_eng = ENGINE_TRIALS as f64;
        let pooled = (engine * n_eng + reference * self.n_ref) / (n_eng + self.n_ref);
        let se = (pooled * (1.0 - pooled) * (1.0 / n_eng + 1.0 / self.n_ref)).sqrt();
        self.check(what, engine, reference, se);
    }

    /// An event count, whose per-trial sd comes from the engine's own trials.
    fn count(&mut self, what: &str, engine: &[f64], reference: f64) {
        let n = engine.len() as f64;
        let mean = engine.iter().sum::<f64>() / n;
        let sd = (engine.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let se = sd * (1.0 / n + 1.0 / self.n_ref).sqrt();
        self.check(what, mean, reference, se);
    }
}

fn compare(case: &Case, engine: &(Report, Outcomes), r: &Value, failures: &mut Vec<String>) {
    let (report, outcomes) = engine;
    let mut c = Comparison {
        label: format!("{} {:?}", case.path, case.sets),
        n_ref: case.reference_trials as f64,
        failures,
    };
    let con = &report.consortium;
    let rc = &r["consortium"];
    let mean_se = |v: &Value| (v["mean"].as_f64().unwrap(), v["se"].as_f64().unwrap());
    c.mean(
        "consortium npv mean",
        (con.npv.mean, con.npv.se),
        mean_se(&rc["npv"]),
    );
    c.probability(
        "P(NPV < 0)",
        con.prob_npv_negative.estimate,
        estimate(&rc["prob_npv_negative"]),
    );
    c.probability(
        "P(collapse)",
        con.prob_collapse,
        estimate(&rc["prob_collapse"]),
    );
    c.probability(
        "P(payback within horizon)",
        con.payback_year.prob_within_horizon,
        estimate(&rc["payback_year"]["prob_within_horizon"]),
    );
    for (p, rp) in report
        .partners
        .iter()
        .zip(r["partners"].as_array().unwrap())
    {
        assert_eq!(rp["name"].as_str(), Some(p.name.as_str()));
        c.mean(
            &format!("{} npv mean", p.name),
            (p.npv.mean, p.npv.se),
            mean_se(&rp["npv"]),
        );
        c.probability(
            &format!("{} P(worse off)", p.name),
            p.prob_worse_off,
            estimate(&rp["prob_worse_off"]),
        );
        c.probability(
            &format!("{} P(withdraws)", p.name),
            p.prob_withdraws,
            estimate(&rp["prob_withdraws"]),
        );
    }
    let per_trial = |f: fn(&engine::TrialSummary) -> u32| -> Vec<f64> {
        (0..outcomes.trials)
            .map(|k| f64::from(f(&outcomes.summary(k))))
            .collect()
    };
    let ev = &r["events"];
    c.count(
        "withdrawals",
        &per_trial(|s| s.withdrawals),
        ev["withdrawals"].as_f64().unwrap(),
    );
    c.count(
        "rejoins",
        &per_trial(|s| s.rejoins),
        ev["rejoins"].as_f64().unwrap(),
    );
    c.count(
        "disputes",
        &per_trial(|s| s.disputes),
        ev["disputes"].as_f64().unwrap(),
    );
    c.count(
        "dispute years",
        &per_trial(|s| s.dispute_years),
        ev["dispute_years"].as_f64().unwrap(),
    );
}

/// Model v2's `events.delay_years`, read from the engine's JSON report (the key every
/// run writes), against the reference's mean with the reference's per-trial sd.
fn compare_delay(case: &Case, report: &Report, r: &Value, failures: &mut Vec<String>) {
    let engine: Value = serde_json::from_str(&json::to_json(report)).unwrap();
    let Some(delay) = engine
        .pointer("/events/delay_years")
        .and_then(Value::as_f64)
    else {
        failures.push(format!(
            "{}: the report has no events.delay_years",
            case.path
        ));
        return;
    };
    let sd = r["events_sd"]["delay_years"].as_f64().unwrap();
    let n_ref = case.reference_trials as f64;
    let mut c = Comparison {
        label: format!("{} {:?}", case.path, case.sets),
        n_ref,
        failures,
    };
    let se = sd * (1.0 / ENGINE_TRIALS as f64 + 1.0 / n_ref).sqrt();
    c.check(
        "delay years",
        delay,
        r["events"]["delay_years"].as_f64().unwrap(),
        se,
    );
}

/// python3, or None (with a note) where it is missing outside CI.
fn python_or_skip() -> Option<&'static str> {
    let found = python();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is needed for this test under CI"
        );
        eprintln!("python3 not found: the reference comparison was not run");
    }
    found
}

fn agree(cases: &[Case], v2: bool) {
    let Some(python) = python_or_skip() else {
        return;
    };
    // The reference is slow: start every case at once and let them share the cores.
    let references: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|case| scope.spawn(move || run_reference(python, case)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failures = Vec::new();
    for (case, reference) in cases.iter().zip(&references) {
        let engine = run_engine(case);
        compare(case, &engine, reference, &mut failures);
        if v2 {
            compare_delay(case, &engine.0, reference, &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "engine and reference disagree:\n{}",
        failures.join("\n")
    );
}

#[test]
fn engine_agrees_in_distribution_with_the_independent_reference() {
    agree(CASES, false);
}

#[test]
fn engine_agrees_with_the_reference_on_model_v2_cases() {
    agree(V2_CASES, true);
}

#[test]
fn reference_passes_its_hand_checks_of_model_v2() {
    let Some(python) = python_or_skip() else {
        return;
    };
    let out = Command::new(python)
        .arg("tests/reference/check_v2.py")
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(" passed, 0 failed"),
        "check_v2.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
