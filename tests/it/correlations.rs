//! Correlated inputs: achieved rank correlations, common random numbers, and the
//! refusal (or repair) of targets that cannot hold together.

use consortium_sim::copula::spearman;
use consortium_sim::plan::Plan;
use consortium_sim::scenario::{self, ScenarioError};
use serde_json::{Value, json};

use crate::util::bin;

fn base(correlations: Value) -> Value {
    json!({
        "name": "correlated",
        "horizon_years": 5,
        "service": {
            "efficiency": {"pert": [0.05, 0.12, 0.2]},
            "fixed_cost": {"uniform": [100000, 300000]},
            "transition_cost": {"lognormal": {"mean": 500000, "sd": 200000}}
        },
        "partners": [
            {"name": "A", "baseline_cost": {"normal": [2000000, 200000]}},
            {"name": "B", "baseline_cost": {"triangular": [1000000, 1500000, 2500000]}},
            {"name": "C", "baseline_cost": 1000000, "exit_fee": {"discrete": [[0, 1], [50000, 1]]}}
        ],
        "correlations": correlations
    })
}

/// Every trial's sampled inputs, as columns.
fn sampled(v: &Value, trials: u64) -> (Plan, Vec<Vec<f64>>) {
    let s = scenario::from_value(v, "test").unwrap_or_else(|e| panic!("{e}"));
    let plan = Plan::compile(&s);
    let mut columns = vec![Vec::with_capacity(trials as usize); plan.inputs.len()];
    let mut buf = vec![0.0; plan.inputs.len()];
    for k in 0..trials {
        plan.sample_inputs(3, k, &mut buf);
        for (c, &x) in columns.iter_mut().zip(&buf) {
            c.push(x);
        }
    }
    (plan, columns)
}

fn column<'a>(plan: &Plan, columns: &'a [Vec<f64>], label: &str) -> &'a [f64] {
    let i = plan.input_labels.iter().position(|l| l == label).unwrap();
    &columns[i]
}

#[test]
fn achieved_rank_correlations_are_within_two_hundredths_of_target_at_100k_trials() {
    let v = base(json!([
        {"a": "/service/efficiency", "b": "/service/transition_cost", "rank_correlation": -0.6},
        {"a": "/partners/A/baseline_cost", "b": "/partners/1/baseline_cost", "rank_correlation": 0.8},
        {"a": "/service/efficiency", "b": "/partners/B/baseline_cost", "rank_correlation": 0.3}
    ]));
    let (plan, cols) = sampled(&v, 100_000);
    let rho = |a: &str, b: &str| spearman(column(&plan, &cols, a), column(&plan, &cols, b));
    let cases = [
        ("/service/efficiency", "/service/transition_cost", -0.6),
        (
            "/partners/A/baseline_cost",
            "/partners/B/baseline_cost",
            0.8,
        ),
        ("/service/efficiency", "/partners/B/baseline_cost", 0.3),
        ("/service/fixed_cost", "/service/efficiency", 0.0),
    ];
    for (a, b, target) in cases {
        let got = rho(a, b);
        assert!((got - target).abs() < 0.02, "{a} ~ {b}: {got} vs {target}");
    }
}

#[test]
fn a_zero_correlation_moves_draws_by_rounding_only_and_others_stay_put() {
    let (plan0, none) = sampled(&base(json!([])), 2000);
    // Pairs of a PERT and a lognormal, and of a normal and a triangular, input.
    let zero = base(json!([
        {"a": "/service/efficiency", "b": "/service/transition_cost", "rank_correlation": 0.0},
        {"a": "/partners/A/baseline_cost", "b": "/partners/B/baseline_cost", "rank_correlation": 0.0}
    ]));
    let (_, with_zero) = sampled(&zero, 2000);
    // The copula's round trip through the normal scale moves a value by rounding only.
    for (i, label) in plan0.input_labels.iter().enumerate() {
        for (k, (a, b)) in none[i].iter().zip(&with_zero[i]).enumerate() {
            assert!(
                (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                "{label}, trial {k}: {a} vs {b}"
            );
        }
    }
    let strong = base(json!([
        {"a": "/service/efficiency", "b": "/service/transition_cost", "rank_correlation": 0.9}
    ]));
    let (_, with_strong) = sampled(&strong, 2000);
    for (i, label) in plan0.input_labels.iter().enumerate() {
        let moved = none[i]
            .iter()
            .zip(&with_strong[i])
            .filter(|(a, b)| a != b)
            .count();
        match label.as_str() {
            "/service/transition_cost" => assert!(moved > 1900, "{label}: {moved} moved"),
            // The first correlated input keeps its own uniform up to rounding.
            "/service/efficiency" => {}
            // Every uncorrelated input keeps its own stream exactly.
            _ => assert_eq!(moved, 0, "{label}: {moved} draws moved"),
        }
    }
}

fn problems(v: &Value) -> String {
    match scenario::from_value(v, "test") {
        Err(e @ ScenarioError::Invalid { .. }) => e.to_string(),
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn bad_correlation_entries_are_located() {
    let e = problems(&base(json!([
        {"a": "/service/efficency", "b": "/service/efficiency", "rank_correlation": 0.5},
        {"a": "/partners/C/baseline_cost", "b": "/service/efficiency", "rank_correlation": 0.5},
        {"a": "/service/efficiency", "b": "/service/efficiency", "rank_correlation": 0.5},
        {"a": "/service/efficiency", "b": "/service/fixed_cost", "rank_correlation": 1.5},
        {"a": "/partners/Z/exit_fee", "b": "/service/fixed_cost", "rank_correlation": 0.1}
    ])));
    assert!(
        e.contains("/correlations/0/a: \"/service/efficency\" is not an input"),
        "{e}"
    );
    // C's baseline cost is a plain number: held, not refused (see below).
    assert!(!e.contains("/correlations/1"), "{e}");
    assert!(
        e.contains("/correlations/2: an input cannot be correlated with itself"),
        "{e}"
    );
    assert!(
        e.contains("/correlations/3/rank_correlation: 1.5 is out of range"),
        "{e}"
    );
    assert!(
        e.contains("/correlations/4/a: \"/partners/Z/exit_fee\": there is no partner \"Z\""),
        "{e}"
    );
    let e = problems(&base(json!([
        {"a": "/service/efficiency", "b": "/service/fixed_cost", "rank_correlation": 0.5},
        {"a": "/service/fixed_cost", "b": "/service/efficiency", "rank_correlation": 0.2}
    ])));
    assert!(
        e.contains("/correlations/1: this pair is already correlated at /correlations/0"),
        "{e}"
    );
}

fn conflicting() -> Value {
    base(json!([
        {"a": "/service/efficiency", "b": "/service/transition_cost", "rank_correlation": 0.9},
        {"a": "/service/transition_cost", "b": "/service/fixed_cost", "rank_correlation": 0.9},
        {"a": "/service/efficiency", "b": "/service/fixed_cost", "rank_correlation": -0.9}
    ]))
}

#[test]
fn inconsistent_targets_are_refused_naming_the_pairs_or_repaired_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conflict.json");
    std::fs::write(&path, conflicting().to_string()).unwrap();
    let run = |extra: &[&str]| {
        bin()
            .arg("run")
            .arg(&path)
            .args(["--trials", "20000"])
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = run(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    for pair in [
        "/service/efficiency~/service/transition_cost 0.9",
        "/service/efficiency~/service/fixed_cost -0.9",
        "/service/transition_cost~/service/fixed_cost 0.9",
        "--repair-correlations",
    ] {
        assert!(stderr.contains(pair), "missing {pair}: {stderr}");
    }
    let repaired = run(&["--repair-correlations"]);
    let stderr = String::from_utf8_lossy(&repaired.stderr);
    assert!(repaired.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: the rank correlations were inconsistent"),
        "{stderr}"
    );
    assert!(
        stderr.contains("have been repaired to the nearest valid set"),
        "{stderr}"
    );
    // The repaired matrix is what gets sampled: valid, and close to the nearest one.
    let mut v = conflicting();
    v["repair_correlations"] = json!(true);
    let (plan, cols) = sampled(&v, 20_000);
    let rho = spearman(
        column(&plan, &cols, "/service/efficiency"),
        column(&plan, &cols, "/service/transition_cost"),
    );
    assert!((rho - 0.483).abs() < 0.03, "{rho}");
}

/// Efficiency, fixed cost, A's and B's baseline costs, in the copula's order; the fixed
/// cost held at `fixed` (a number) or left uncertain (`None`).
fn held(fixed: Option<f64>) -> Value {
    let mut v = base(json!([
        {"a": "/service/efficiency", "b": "/service/fixed_cost", "rank_correlation": 0.5},
        {"a": "/service/fixed_cost", "b": "/partners/A/baseline_cost", "rank_correlation": 0.4},
        {"a": "/partners/A/baseline_cost", "b": "/partners/B/baseline_cost", "rank_correlation": 0.7},
        {"a": "/service/efficiency", "b": "/partners/B/baseline_cost", "rank_correlation": 0.3}
    ]));
    if let Some(x) = fixed {
        v["service"]["fixed_cost"] = json!(x);
    }
    v
}

#[test]
fn a_held_input_leaves_the_copula_and_earlier_inputs_keep_their_draws() {
    let (plan, free) = sampled(&held(None), 100_000);
    let (_, fixed) = sampled(&held(Some(200_000.0)), 100_000);
    let col = |cols: &[Vec<f64>], label: &str| column(&plan, cols, label).to_vec();
    // Held: the number in every trial.
    assert!(
        col(&fixed, "/service/fixed_cost")
            .iter()
            .all(|&x| x == 200_000.0)
    );
    // Inputs before it in the copula's order, and inputs outside it, keep their draws
    // exactly, trial by trial.
    for label in [
        "/service/efficiency",
        "/service/transition_cost",
        "/partners/C/exit_fee",
    ] {
        assert_eq!(col(&free, label), col(&fixed, label), "{label}");
    }
    // Those after it keep their own distribution and the submatrix of the others: A~B
    // 0.7, efficiency~B 0.3, and efficiency~A none (its only link was the fixed cost).
    // Spearman's rho over 100,000 trials has a standard error below 0.004.
    let rho = |a: &str, b: &str| spearman(&col(&fixed, a), &col(&fixed, b));
    for (a, b, target) in [
        (
            "/partners/A/baseline_cost",
            "/partners/B/baseline_cost",
            0.7,
        ),
        ("/service/efficiency", "/partners/B/baseline_cost", 0.3),
        ("/service/efficiency", "/partners/A/baseline_cost", 0.0),
    ] {
        let r = rho(a, b);
        assert!((r - target).abs() < 0.02, "{a}~{b}: {r} vs {target}");
    }
    let mut a_free = col(&free, "/partners/A/baseline_cost");
    let mut a_fixed = col(&fixed, "/partners/A/baseline_cost");
    a_free.sort_by(f64::total_cmp);
    a_fixed.sort_by(f64::total_cmp);
    let median = |v: &[f64]| v[v.len() / 2];
    assert!((median(&a_free) - median(&a_fixed)).abs() < 0.01 * median(&a_free));
}

#[test]
fn holding_an_input_checks_only_the_correlations_that_remain() {
    // The three targets cannot hold together; without the transition cost the one pair
    // left can, so holding it needs no repair.
    let mut v = conflicting();
    assert!(scenario::from_value(&v, "test").is_err());
    v["service"]["transition_cost"] = json!(400_000);
    let s = scenario::from_value(&v, "test").unwrap_or_else(|e| panic!("{e}"));
    let c = s.correlations.clone().unwrap();
    assert_eq!(c.held, vec!["/service/transition_cost".to_string()]);
    assert_eq!(c.repair_note, None);
}

#[test]
fn analyses_hold_correlated_inputs_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("held.json");
    std::fs::write(&path, held(None).to_string()).unwrap();
    let path = path.to_str().unwrap();
    let out = |args: &[&str]| {
        let o = bin().args(args).output().unwrap();
        let stderr = String::from_utf8(o.stderr).unwrap();
        assert!(o.status.success(), "{args:?}: {stderr}");
        (String::from_utf8(o.stdout).unwrap(), stderr)
    };
    let trials = ["--trials", "3000", "--quiet"];
    let mean = |args: &[&str]| {
        let report = dir.path().join("r.json");
        let report = report.to_str().unwrap();
        let mut all = vec!["run", path, "--out", report];
        all.extend_from_slice(&trials);
        all.extend_from_slice(args);
        let (_, stderr) = out(&all);
        let v: Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
        (v["consortium"]["npv"]["mean"].as_f64().unwrap(), stderr)
    };

    let (_, stderr) = mean(&["--set", "/service/fixed_cost=250000"]);
    assert!(
        stderr.contains(
            "note: fixed cost is held at a number, so its rank correlations are dropped; the \
             other correlated inputs keep theirs with each other"
        ),
        "{stderr}"
    );

    let report = dir.path().join("s.json");
    let report = report.to_str().unwrap();
    let mut args = vec!["sensitivity", path, "--out", report];
    args.extend_from_slice(&trials);
    let (_, stderr) = out(&args);
    assert!(
        stderr.contains(
            "note: efficiency, fixed cost, A: baseline cost, B: baseline cost are held at a \
             number in some runs (tornado bars, switching values)"
        ),
        "{stderr}"
    );
    // A tornado bar is the run that holds its input, as `run --set` holds it.
    let v: Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    let bar = v["tornado"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["input"] == json!("/service/fixed_cost"))
        .unwrap();
    let low = bar["low_value"].as_f64().unwrap();
    let set = format!("/service/fixed_cost={low}");
    assert_eq!(
        bar["low"]["mean_npv"].as_f64().unwrap(),
        mean(&["--set", &set]).0
    );

    let mut args = vec![
        "sweep",
        path,
        "--param",
        "/partners/A/baseline_cost=1900000,2100000",
    ];
    args.extend_from_slice(&trials);
    let (_, stderr) = out(&args);
    assert!(
        stderr.contains("note: A: baseline cost is held at a number at some points of the sweep"),
        "{stderr}"
    );
    let mut args = vec![
        "compare",
        path,
        "--variant",
        "cheap:/service/efficiency=0.15",
    ];
    args.extend_from_slice(&trials);
    let (_, stderr) = out(&args);
    assert!(
        stderr.contains("note: efficiency is held at a number in variant cheap"),
        "{stderr}"
    );
}
