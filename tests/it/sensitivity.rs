//! `consortium-sim sensitivity`: switching values against MODEL.md's closed form, the
//! tornado's ranking, "no crossing in range", rank correlations from exactly the draws
//! the engine made, and the command line end to end.

use consortium_sim::analysis::Input;
use consortium_sim::analysis::crn::{Crn, Edit, Headline, edited};
use consortium_sim::analysis::sensitivity::{Basis, Sensitivity, Side, Study, Target};
use consortium_sim::engine::Monitor;
use serde_json::{Value, json};

use crate::util::{Out, shipped, shipped_json, sim};

/// Runs the analysis in-process with `trials` trials from seed 7.
fn analyse(v: &Value, trials: usize, switch: &[&str], target: Option<f64>) -> Sensitivity {
    let switch: Vec<String> = switch.iter().map(|s| s.to_string()).collect();
    let study = Study::new(v, "test", &switch, target).unwrap_or_else(|e| panic!("{e}"));
    let monitor = Monitor::new();
    let crn = Crn {
        seed: 7,
        trials,
        monitor: &monitor,
        sampling: Default::default(),
    };
    study.run(&crn).unwrap_or_else(|e| panic!("{e}"))
}

/// Only the efficiency and fixed costs matter: no withdrawals, disputes or noise, fixed
/// baselines. The efficiency is uncertain, so it is searched between its P1 and P99.
fn linear() -> Value {
    json!({
        "name": "Linear in efficiency",
        "horizon_years": 10,
        "discount_rate": 0.035,
        "service": {
            "efficiency": {"pert": [0.02, 0.06, 0.12]},
            "fixed_cost": 250000,
            "ramp": [0.5, 1.0],
            "transition_cost": 300000,
            "transition_profile": [0.6, 0.4],
            "optimism_bias": 0.2
        },
        "partners": [
            {"name": "District A", "baseline_cost": 2000000},
            {"name": "District B", "baseline_cost": 1500000}
        ]
    })
}

#[test]
fn switching_value_of_efficiency_matches_the_closed_form() {
    // MODEL.md's sanity check: NPV = sum_t DF_t (g ramp_t sum B - F - T' profile_t), so
    // NPV = 0 at g* = sum_t DF_t (F + T' profile_t) / (sum_t DF_t ramp_t sum B).
    let df: Vec<f64> = (0..10).map(|t| 1.035f64.powi(-t)).collect();
    let ramp = |t: usize| if t == 0 { 0.5 } else { 1.0 };
    let profile = [0.6, 0.4];
    let (f, t_dash, sum_b) = (250_000.0, 300_000.0 * 1.2, 3_500_000.0);
    let cost: f64 = (0..10)
        .map(|t| df[t] * (f + t_dash * profile.get(t).copied().unwrap_or(0.0)))
        .sum();
    let saving: f64 = (0..10).map(|t| df[t] * ramp(t) * sum_b).sum();
    let g_star = cost / saving;

    let s = analyse(&linear(), 200, &["/service/efficiency"], None);
    let sw = &s.switching_values[0];
    assert_eq!(sw.target, Target::MeanNpv(0.0));
    assert_eq!(sw.result, "found");
    assert!(sw.searched[0] < g_star && g_star < sw.searched[1]);
    let g = sw.value.expect("a crossing");
    assert!(
        (g - g_star).abs() <= 1e-6 * g_star,
        "switching value {g} vs closed form {g_star}"
    );
    assert!(sw.runs <= 2 + 30);
}

#[test]
fn tornado_puts_efficiency_first_on_four_districts() {
    let s = analyse(
        &shipped_json("four_districts_back_office.json"),
        4000,
        &["/service/efficiency"],
        None,
    );
    let first = &s.tornado[0];
    assert_eq!(first.input, "/service/efficiency");
    assert_eq!(first.basis, Basis::Percentiles);
    // Held at its own P10 and P90 (pert(0.08, 0.15, 0.22)).
    assert!(
        first.low_value > 0.08 && first.low_value < 0.15,
        "{}",
        first.low_value
    );
    assert!(
        first.high_value > 0.15 && first.high_value < 0.22,
        "{}",
        first.high_value
    );
    assert!(first.high.mean_npv > first.low.mean_npv);
    assert!(
        s.tornado
            .windows(2)
            .all(|w| w[0].swing_mean_npv >= w[1].swing_mean_npv)
    );
    // Every distribution-valued input and every plain probability is there: 12
    // distributions, 4 hazards, 4 rejoin probabilities and 2 dispute probabilities.
    assert_eq!(s.tornado.len(), 22);
    let hazard = s
        .tornado
        .iter()
        .find(|b| b.input == "/partners/Otterby District Council/withdrawal_hazard")
        .expect("a plain hazard is scaled");
    assert_eq!(hazard.basis, Basis::Scaled);
    assert!(
        (hazard.low_value - 0.0175).abs() < 1e-12 && (hazard.high_value - 0.0525).abs() < 1e-12
    );
    assert!(hazard.high.mean_npv < hazard.low.mean_npv);
}

#[test]
fn no_crossing_in_range_is_reported_as_such() {
    // four_districts' fixed cost ranges over triangular(280k, 350k, 480k): the mean NPV
    // stays well above zero at both ends (about £2.9m at the mean).
    let s = analyse(
        &shipped_json("four_districts_back_office.json"),
        2000,
        &["/service/fixed_cost"],
        Some(0.9),
    );
    assert_eq!(s.switching_values.len(), 2);
    for sw in &s.switching_values {
        assert_eq!(sw.result, "no crossing in range");
        assert_eq!(sw.value, None);
        assert_eq!(sw.runs, 2);
    }
    assert!(s.switching_values[0].at_ends.iter().all(|&m| m > 0.0));
    // The mean NPV falls as the fixed cost rises: the break-even lies above the range.
    assert_eq!(s.switching_values[0].crossing_lies, Some(Side::Above));
    // P(loss) stays below 90 % and moves towards it as the cost rises.
    assert_eq!(s.switching_values[1].crossing_lies, Some(Side::Above));
}

/// The mean NPV and P(loss) of `v` with `pointer` set to each of `values`, run as the
/// analysis runs them (2,000 trials from seed 7).
fn scan(v: &Value, pointer: &str, values: std::ops::RangeInclusive<u64>) -> Vec<(u64, Headline)> {
    let monitor = Monitor::new();
    let crn = Crn {
        seed: 7,
        trials: 2000,
        monitor: &monitor,
        sampling: Default::default(),
    };
    values
        .map(|k| {
            let edit = Edit::number(pointer, k as f64);
            let (_, s) = edited(v, &[edit], "test", Input::Switch, pointer).unwrap();
            (k, Headline::of(&crn.npv(&s).unwrap()))
        })
        .collect()
}

/// The first whole number, from the low end, at which `gap` has crossed zero (is zero or
/// of the other sign than at the low end): what a search over whole numbers reports.
fn first_crossing(runs: &[(u64, Headline)], gap: impl Fn(&Headline) -> f64) -> Option<f64> {
    let start = gap(&runs[0].1).signum();
    runs.iter()
        .find(|(_, h)| gap(h) == 0.0 || gap(h).signum() != start)
        .map(|&(k, _)| k as f64)
}

#[test]
fn a_whole_number_field_is_searched_over_whole_numbers_within_its_range() {
    // min_members: 1 to the 4 founders (the old search, 0 to 3 x 2, tried 0 and 4.5).
    let v = shipped_json("four_districts_back_office.json");
    let s = analyse(&v, 2000, &["/min_members"], Some(0.2));
    let runs = scan(&v, "/min_members", 1..=4);
    let [npv, loss] = &s.switching_values[..] else {
        panic!("two targets")
    };
    assert_eq!(npv.searched, [1.0, 4.0]);
    assert_eq!(npv.range_basis, "1 to the founders");
    assert_eq!(npv.label, "min members");
    // Exactly the brute-force scan of the same common-random-number runs.
    assert_eq!(npv.value, first_crossing(&runs, |h| h.mean_npv));
    assert_eq!(
        loss.value,
        first_crossing(&runs, |h| h.prob_npv_negative.estimate - 0.2)
    );
    assert!(npv.value.is_some() && loss.value.is_some());

    // The horizon: 1 to 3 x its 10 years, every value a whole number of years. At 10 %
    // efficiency the saving outgrows the transition cost after a few years.
    let mut v = linear();
    v["service"]["efficiency"] = json!({"pert": [0.08, 0.1, 0.14]});
    let s = analyse(&v, 2000, &["/horizon_years"], None);
    let sw = &s.switching_values[0];
    assert_eq!(sw.searched, [1.0, 30.0]);
    let runs = scan(&v, "/horizon_years", 1..=30);
    assert_eq!(sw.value, first_crossing(&runs, |h| h.mean_npv));
    assert!(sw.value.is_some_and(|k| k > 1.0 && k < 30.0));
    assert!(sw.runs <= 2 + 5, "{}", sw.runs);
}

#[test]
fn a_lock_in_is_searched_up_to_the_horizon_and_says_where_the_break_even_lies() {
    let out = sim(&[
        "sensitivity",
        &shipped("four_districts_back_office.json"),
        "--trials",
        "2000",
        "--quiet",
        "--switch",
        "/partners/Brackenfield District Council/lock_in_years",
    ]);
    out.ok();
    assert!(
        out.stdout
            .contains("2  0 to 10 (0 to the horizon)  no crossing in range"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "  Brackenfield District Council: lock in years: mean NPV stays positive over 0 to \
             10; the break-even lies below 0\n"
        ),
        "{}",
        out.stdout
    );
    for (switch, needle) in [
        ("/seed", "seed cannot be searched"),
        ("/trials", "trials cannot be searched"),
    ] {
        sim(&[
            "sensitivity",
            &shipped("four_districts_back_office.json"),
            "--switch",
            switch,
        ])
        .bad_input()
        .stderr_has(needle);
    }
}

#[test]
fn rank_correlation_of_efficiency_with_npv_is_positive_and_large() {
    let s = analyse(
        &shipped_json("four_districts_back_office.json"),
        5000,
        &["/service/efficiency"],
        None,
    );
    let top = &s.rank_correlation[0];
    assert_eq!(top.input, "/service/efficiency");
    assert!(top.spearman > 0.5, "rho = {}", top.spearman);
    let fixed = s
        .rank_correlation
        .iter()
        .find(|r| r.input == "/service/fixed_cost")
        .unwrap();
    assert!(fixed.spearman < 0.0);
}

#[test]
fn recomputed_inputs_are_exactly_the_engines_draws() {
    // Here NPV is an increasing function of the efficiency alone, so if trial k's
    // recomputed efficiency is the one the engine drew, the ranks agree exactly.
    let s = analyse(&linear(), 3000, &["/service/efficiency"], None);
    assert_eq!(s.rank_correlation.len(), 1);
    assert!((s.rank_correlation[0].spearman - 1.0).abs() < 1e-12);
}

#[test]
fn target_probability_of_loss_is_met_at_the_switching_value() {
    let v = shipped_json("four_districts_back_office.json");
    let s = analyse(&v, 3000, &["/service/efficiency"], Some(0.25));
    let sw = &s.switching_values[1];
    assert_eq!(sw.target, Target::ProbNpvNegative(0.25));
    let g = sw.value.expect("a crossing");
    // Lower efficiency, more losses: 25% is reached below the base P(loss)'s efficiency.
    assert!(g > 0.08 && g < 0.15, "{g}");
    assert!(sw.at_ends[0] > 0.25 && sw.at_ends[1] < 0.25);
}

#[test]
fn command_line_writes_json_and_html_and_rejects_unknown_inputs() {
    let scenario = shipped("social_care_formal.json");
    let dir = tempfile::tempdir().unwrap();
    let (out, html) = (dir.path().join("s.json"), dir.path().join("s.html"));
    let Out {
        code,
        stdout,
        stderr,
    } = sim(&[
        "sensitivity",
        &scenario,
        "--trials",
        "1000",
        "--out",
        &out.display().to_string(),
        "--html",
        &html.display().to_string(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Tornado"), "{stdout}");
    assert!(stdout.contains("Switching values"), "{stdout}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["analysis"], "sensitivity");
    // By default, the three widest tornado bars get a switching value each.
    assert_eq!(v["switching_values"].as_array().unwrap().len(), 3);
    assert_eq!(v["switching_values"][0]["input"], v["tornado"][0]["input"]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("data-chart=\"tornado-mean-npv\""));
    assert!(page.contains("data-chart=\"tornado-prob-loss\""));

    for (args, needle) in [
        (
            vec!["--switch", "/service/efficiensy"],
            "--switch /service/efficiensy: does not exist",
        ),
        (
            vec!["--switch", "/partners/Nobody/exit_fee"],
            "no partner \"Nobody\"",
        ),
        (vec!["--switch", "/service/cost_sharing"], "not a number"),
        (vec!["--target-prob-loss", "1.5"], "--target-prob-loss 1.5"),
    ] {
        let mut all = vec!["sensitivity", &scenario, "--trials", "100"];
        all.extend(args);
        let Out { code, stderr, .. } = sim(&all);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
}

/// A late joiner's join year, fixed or drawn, is searched over the years a late joiner
/// can have (1 to the last); a founder's cannot be searched (moving it would change who
/// founds the consortium), and saying so beats failing half-way.
#[test]
fn join_years_are_searched_as_a_late_joiners_years_only() {
    let mut v = linear();
    v["partners"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "Late", "baseline_cost": 1000000, "joins_year": {"uniform": [1, 4]}}));
    v["min_members"] = json!(2);
    let s = analyse(&v, 500, &["/partners/Late/joins_year"], None);
    let sw = &s.switching_values[0];
    assert_eq!(sw.searched, [1.0, 9.0]);
    assert_eq!(sw.range_basis, "1 to the last year");
    let Err(err) = Study::new(&v, "test", &["/partners/0/joins_year".to_string()], None) else {
        panic!("a founder's join year is refused");
    };
    assert!(
        err.to_string()
            .contains("District A is a founder (joins_year 0): its join year cannot be searched"),
        "{err}"
    );
}

/// The progress total counts every switching-value search at its most runs; the runs a
/// search did not need come off it, so that the analysis ends with done = total (the
/// bar was seen at 180,000 of 351,000 trials, then done).
#[test]
fn progress_ends_at_its_total() {
    use consortium_sim::run::{self, RunOptions, Source};
    use std::sync::atomic::Ordering::Relaxed;
    let mut options = RunOptions::new(Source::Path(
        crate::util::shipped("four_districts_back_office.json").into(),
    ));
    options.trials = Some(300);
    let prepared = run::prepare(&options, &mut Vec::new()).unwrap();
    let monitor = Monitor::new();
    let study = prepared
        .sensitivity(&[], None, &monitor, &mut Vec::new())
        .unwrap();
    let (done, total) = (monitor.done.load(Relaxed), monitor.total.load(Relaxed));
    let runs: usize =
        1 + 2 * study.tornado.len() + study.switching_values.iter().map(|s| s.runs).sum::<usize>();
    assert_eq!(done, runs as u64 * 300, "every run's trials counted once");
    assert_eq!(total, done);
}

/// A field that must lie strictly above a bound cannot be run at the bound: a plain
/// baseline or fixed weight (> 0) is searched from a millionth of its value, and a
/// negative discount rate from just above -0.99, where the search used to start at 0
/// (or 3 x the rate) and the whole analysis was refused with a value the user never
/// typed.
#[test]
fn a_field_that_must_be_above_a_bound_is_searched_from_just_above_it() {
    // The mean NPV of `linear` is linear in a plain baseline (no withdrawals, no economies
    // of scale), so the crossing is where the straight line through the two ends meets 0.
    let s = analyse(
        &linear(),
        200,
        &["/partners/District A/baseline_cost"],
        None,
    );
    let sw = &s.switching_values[0];
    assert_eq!(sw.searched, [2.0, 6_000_000.0]);
    assert_eq!(sw.range_basis, "just above 0 to 3 x the value");
    assert_eq!(sw.result, "found");
    let [m_lo, m_hi] = sw.at_ends;
    let line = sw.searched[0] + (sw.searched[1] - sw.searched[0]) * m_lo / (m_lo - m_hi);
    let found = sw.value.expect("a crossing");
    assert!(
        (found - line).abs() <= 1e-6 * line,
        "switching baseline {found} vs the straight line's {line}"
    );

    // A fixed weight, also > 0: the search runs, from a millionth of the weight.
    let mut v = linear();
    v["service"]["cost_sharing"] = json!({"fixed": {"District A": 0.7, "District B": 0.3}});
    let s = analyse(&v, 200, &["/service/cost_sharing/fixed/District A"], None);
    let sw = &s.switching_values[0];
    assert_eq!(sw.searched, [0.7 * 1e-6, 3.0 * 0.7]);
    assert_eq!(sw.range_basis, "just above 0 to 3 x the value");

    // A negative discount rate three times over would be below -0.99.
    let mut v = linear();
    v["discount_rate"] = json!(-0.5);
    let s = analyse(&v, 200, &["/discount_rate"], None);
    let sw = &s.switching_values[0];
    assert_eq!(sw.searched, [-0.99 + (-0.5 + 0.99) * 1e-6, 0.0]);
    assert_eq!(sw.range_basis, "just above -0.99 to 0");
    // So is a negative rate in discount bands.
    let mut v = linear();
    v["discount_rate"] = json!([{"from_year": 0, "rate": -0.5}]);
    let s = analyse(&v, 200, &["/discount_rate/0/rate"], None);
    let sw = &s.switching_values[0];
    assert_eq!(sw.searched, [-0.99 + (-0.5 + 0.99) * 1e-6, 0.0]);
    // A plain 0 gives no range to search: refused, not searched from 0 to 0.
    let mut v = linear();
    v["discount_rate"] = json!(0);
    let study = Study::new(&v, "test", &["/discount_rate".to_string()], None);
    let e = study.expect_err("refused").to_string();
    assert!(
        e.starts_with("`switch` /discount_rate: its value is 0, and a plain number is searched from 0 to three times its value, so there is no range to search"),
        "{e}"
    );
    // A small negative rate keeps its plain range, 3 x the value to 0.
    let mut v = linear();
    v["discount_rate"] = json!(-0.5);
    v["discount_rate"] = json!(-0.1);
    let s = analyse(&v, 200, &["/discount_rate"], None);
    assert_eq!(s.switching_values[0].searched, [3.0 * -0.1, 0.0]);
    assert_eq!(s.switching_values[0].range_basis, "0 to 3 x the value");
}
