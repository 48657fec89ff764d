//! Model v2 against MODEL.md: the go-live delay (delay years, the ramp from go-live, the
//! delay cost, leaving and collapsing before go-live), contagion and distribution-valued
//! join years. Closed forms worked out by hand from the formulas, exact figures from
//! one-trial replays, statistical checks at 4 standard errors with fixed seeds.

use consortium_sim::engine::trial::event;
use consortium_sim::engine::{self, NO_YEAR, Outcomes, Status, trace};
use consortium_sim::export::json;
use consortium_sim::plan::Plan;
use consortium_sim::scenario::{self, Scenario};
use consortium_sim::summary::{Report, RunInfo};
use serde_json::{Value, json};

use crate::util::{Dir, f, read_json, sim};

fn scenario(v: Value) -> Scenario {
    scenario::from_value(&v, "test").unwrap_or_else(|e| panic!("{e}"))
}

fn run(s: &Scenario, seed: u64, trials: usize) -> Outcomes {
    engine::run(&Plan::compile(s), seed, 0, trials)
}

/// The JSON report of a run, as `run --out` writes it.
fn report_json(s: &Scenario, seed: u64, out: &Outcomes) -> Value {
    let r = Report::build(s, seed, out, RunInfo::new(1, 1.0, out.trials));
    serde_json::from_str(&json::to_json(&r)).unwrap()
}

/// Trial `k`'s replay.
fn replay(s: &Scenario, seed: u64, k: u64) -> trace::Replay {
    trace::replay(&Plan::compile(s), seed, k)
}

/// Partner `i`'s saving in each year of a replay.
fn savings(r: &trace::Replay, i: usize) -> Vec<f64> {
    r.years.iter().map(|y| y.partners[i].saving).collect()
}

fn assert_close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

fn assert_all_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        assert_close(&format!("{what}, year {t}"), *g, *w);
    }
}

fn assert_within_se(what: &str, observed: f64, expected: f64, se: f64) {
    assert!(
        (observed - expected).abs() <= 4.0 * se,
        "{what}: observed {observed}, expected {expected}, 4 se = {}",
        4.0 * se
    );
}

/// The standard error of a proportion p over n trials.
fn se_p(p: f64, n: usize) -> f64 {
    (p * (1.0 - p) / n as f64).sqrt()
}

/// A year's discount factors under constant rate r.
fn dfs(r: f64, horizon: usize) -> Vec<f64> {
    (0..horizon).map(|t| (1.0 + r).powi(-(t as i32))).collect()
}

/// Two equal partners (B = 1m), F = 100k, g = 0.2, no discounting: a live year saves
/// each partner 1m - 0.5 (100k + 2m x 0.8) = 150k; a delay year with no delay cost and
/// no transition saves 0. So the go-live year is the first year with a saving.
fn pair(horizon: usize, service: Value) -> Value {
    let mut v = json!({
        "name": "pair",
        "horizon_years": horizon,
        "discount_rate": 0.0,
        "min_members": 1,
        "service": {"efficiency": 0.2, "fixed_cost": 100000},
        "partners": [
            {"name": "A", "baseline_cost": 1000000},
            {"name": "B", "baseline_cost": 1000000}
        ]
    });
    for (k, x) in service.as_object().unwrap() {
        v["service"][k] = x.clone();
    }
    v
}

/// The go-live delay of a replay of `pair` (no delay cost, no transition cost).
fn go_live(r: &trace::Replay) -> usize {
    r.years
        .iter()
        .position(|y| y.partners[0].saving != 0.0)
        .unwrap_or(r.years.len())
}

#[test]
fn sanity_closed_form_holds_with_a_fixed_delay() {
    // MODEL.md's sanity check: NPV = sum over t < d of DF_t (-delay_cost - T' profile_t)
    // + sum over t >= d of DF_t (g ramp_(t-d) B - F - T' profile_t), over Green Book bands.
    let (g, b, fixed, t_prime, cost) = (0.15, 8e6, 300_000.0, 2e6 * 1.2, 250_000.0);
    let ramp = |t: usize| [0.25, 0.6, 1.0][t.min(2)];
    let profile = |t: usize| [0.5, 0.3, 0.2].get(t).copied().unwrap_or(0.0);
    for (delay, d) in [
        (json!(3), 3),
        (json!({"discrete": [[2.6, 1]]}), 3),
        (json!(1.49), 1),
        (json!(0), 0),
    ] {
        let s = scenario(json!({
            "name": "certain",
            "horizon_years": 40,
            "discount_rate": "green_book",
            "service": {
                "fixed_cost": 300000, "efficiency": 0.15, "ramp": [0.25, 0.6, 1.0],
                "transition_cost": 2000000, "transition_profile": [0.5, 0.3, 0.2],
                "optimism_bias": 0.2, "delay_years": delay, "delay_cost": cost
            },
            "partners": [
                {"name": "A", "baseline_cost": 4000000},
                {"name": "B", "baseline_cost": 2500000},
                {"name": "C", "baseline_cost": 1500000}
            ]
        }));
        let (mut df, mut npv, mut by_year) = (1.0, 0.0, Vec::new());
        for t in 0..40 {
            if t > 0 {
                df /= 1.0 + if t <= 30 { 0.035 } else { 0.03 };
            }
            npv += df
                * if t < d {
                    -cost - t_prime * profile(t)
                } else {
                    g * ramp(t - d) * b - fixed - t_prime * profile(t)
                };
            by_year.push(npv);
        }
        let out = run(&s, 9, 20);
        for k in 0..out.trials {
            let what = format!("delay {d}, trial {k}");
            assert_close(&what, out.summary(k).npv, npv);
            for (t, want) in by_year.iter().enumerate() {
                let got = out.cumulative(k, t);
                assert!(
                    (got - want).abs() <= 1e-9 * npv.abs(),
                    "{what}, year {t}: {got} vs {want}"
                );
            }
            // Proportional sharing in delay and live years alike.
            for (i, share) in [0.5, 2.5 / 8.0, 1.5 / 8.0].iter().enumerate() {
                assert_close(&what, out.partner_npvs(k)[i], share * npv);
            }
            assert_eq!(out.summary(k).collapse_year, NO_YEAR);
        }
        assert_eq!(
            f(&report_json(&s, 9, &out), "/events/delay_years"),
            d as f64
        );
    }
}

/// Three partners; C (half the baselines) gives notice with certainty once its lock-in
/// lets it. Delay 2 years at 60k a year, F = 100k, g = 0.2, no discounting.
fn leaver(lock_in: u32) -> Scenario {
    scenario(json!({
        "name": "notice",
        "horizon_years": 5,
        "discount_rate": 0.0,
        "min_members": 1,
        "service": {"efficiency": 0.2, "fixed_cost": 100000, "delay_years": 2, "delay_cost": 60000},
        "partners": [
            {"name": "A", "baseline_cost": 1000000},
            {"name": "B", "baseline_cost": 1000000},
            {"name": "C", "baseline_cost": 2000000, "withdrawal_hazard": 1,
             "lock_in_years": lock_in, "exit_fee": 40000, "reestablish_cost": 150000}
        ]
    }))
}

#[test]
fn a_notice_in_a_delay_year_owes_the_exit_fee_and_no_reestablishment() {
    // Notice at the end of year 0. Year 0: pool = 60k, C pays half, A a quarter. Year 1:
    // C's first year out, -40k (exit fee only); pool = 60k - 40k over A and B. Years 2+:
    // live, pool = 100k + 2m x 0.8, half each.
    let r = replay(&leaver(0), 1, 0);
    assert_all_close("C", &savings(&r, 2), &[-30000.0, -40000.0, 0.0, 0.0, 0.0]);
    let live = 1e6 - 0.5 * (100000.0 + 2e6 * 0.8);
    assert_all_close(
        "A",
        &savings(&r, 0),
        &[-15000.0, -10000.0, live, live, live],
    );
    assert!(r.years[0].partners[2].events & event::NOTICE != 0);
    assert_eq!(r.years[1].partners[2].status, Status::Out);
    assert_eq!(r.summary.withdrawals, 1);

    // Lock-in counts calendar years, delay years included: with L = 2 the notice comes
    // at the end of year 1, the last delay year, so still no re-establishment; the exit
    // fee goes into the pool of the go-live year.
    let r = replay(&leaver(2), 1, 0);
    assert!(r.years[1].partners[2].events & event::NOTICE != 0);
    assert_all_close(
        "C",
        &savings(&r, 2),
        &[-30000.0, -30000.0, -40000.0, 0.0, 0.0],
    );
    let year2 = 1e6 - 0.5 * (100000.0 + 2e6 * 0.8 - 40000.0);
    assert_all_close(
        "A",
        &savings(&r, 0),
        &[-15000.0, -15000.0, year2, live, live],
    );

    // With L = 3 the notice comes at the end of year 2, the first live year: C pays its
    // exit fee and its re-establishment cost.
    let r = replay(&leaver(3), 1, 0);
    let c2 = 2e6 - 0.5 * (100000.0 + 4e6 * 0.8);
    assert_all_close(
        "C",
        &savings(&r, 2),
        &[-30000.0, -30000.0, c2, -190000.0, 0.0],
    );
}

/// A (1m) and B (3m, certain leaver once its two-year lock-in ends), min_members 2: B's
/// notice at the end of year 1 collapses the pair from year 2. Delay cost 80k; T = 500k
/// paid 60/40 in years 0 and 1; 5 % discounting.
fn collapsing(delay: u32) -> Scenario {
    scenario(json!({
        "name": "collapse",
        "horizon_years": 5,
        "discount_rate": 0.05,
        "min_members": 2,
        "service": {
            "efficiency": 0.2, "fixed_cost": 100000, "delay_years": delay, "delay_cost": 80000,
            "transition_cost": 500000, "transition_profile": [0.6, 0.4]
        },
        "partners": [
            {"name": "A", "baseline_cost": 1000000, "reestablish_cost": 300000, "exit_fee": 99},
            {"name": "B", "baseline_cost": 3000000, "withdrawal_hazard": 1, "lock_in_years": 2,
             "reestablish_cost": 500000, "exit_fee": 77}
        ]
    }))
}

#[test]
fn a_collapse_decided_in_a_delay_year_books_no_reestablishment_and_no_exit_fee() {
    // d = 3: years 0 and 1 are delay years with pools 80k + 300k and 80k + 200k, shared
    // 1:3; the collapse from year 2 books nothing.
    let s = collapsing(3);
    let out = run(&s, 1, 3);
    let want = [
        -0.25 * 380000.0 - 0.25 * 280000.0 / 1.05,
        -0.75 * 380000.0 - 0.75 * 280000.0 / 1.05,
    ];
    for k in 0..3 {
        assert_eq!(out.summary(k).collapse_year, 2);
        assert_eq!(out.summary(k).withdrawals, 1);
        assert_all_close("NPVs", &out.partner_npvs(k), &want);
    }
    let r = replay(&s, 1, 0);
    for i in 0..2 {
        assert_eq!(&savings(&r, i)[2..], &[0.0, 0.0, 0.0], "partner {i}");
    }
}

#[test]
fn a_collapse_after_go_live_books_every_members_reestablishment() {
    // d = 1: year 0 is a delay year (pool 80k + 300k); year 1 is live (pool 100k +
    // 4m x 0.8 + 200k, ramp 1); B's notice at its end collapses a live service, so both
    // pay their re-establishment cost in year 2, and no exit fee is paid.
    let s = collapsing(1);
    let pool1 = 100000.0 + 4e6 * 0.8 + 200000.0;
    let want = [
        -0.25 * 380000.0 + (1e6 - 0.25 * pool1) / 1.05 - 300000.0 / 1.05 / 1.05,
        -0.75 * 380000.0 + (3e6 - 0.75 * pool1) / 1.05 - 500000.0 / 1.05 / 1.05,
    ];
    let out = run(&s, 1, 3);
    for k in 0..3 {
        assert_eq!(out.summary(k).collapse_year, 2);
        assert_all_close("NPVs", &out.partner_npvs(k), &want);
    }
}

#[test]
fn hazard_profile_stays_on_calendar_years_during_a_delay() {
    // C's hazard is 1 in calendar year 2 only: with a delay of 2 it gives notice at the
    // end of year 2 (the go-live year), not at the end of year 4 (two years after it).
    let mut v = pair(6, json!({"delay_years": 2}));
    v["partners"].as_array_mut().unwrap().push(json!(
        {"name": "C", "baseline_cost": 1000000, "withdrawal_hazard": 1,
         "hazard_profile": [0, 0, 1, 0]}
    ));
    let r = replay(&scenario(v), 1, 0);
    let notices: Vec<usize> = (0..6)
        .filter(|&t| r.years[t].partners[2].events & event::NOTICE != 0)
        .collect();
    assert_eq!(notices, [2]);
}

/// L leaves with certainty at the end of year 0; X and Y have no hazard of their own;
/// Z is locked in for four years.
fn cascade(contagion: f64) -> Scenario {
    scenario(json!({
        "name": "cascade",
        "horizon_years": 6,
        "discount_rate": 0.0,
        "min_members": 1,
        "contagion": contagion,
        "service": {"efficiency": 0.1},
        "partners": [
            {"name": "L", "baseline_cost": 1000000, "withdrawal_hazard": 1},
            {"name": "X", "baseline_cost": 1000000},
            {"name": "Y", "baseline_cost": 1000000},
            {"name": "Z", "baseline_cost": 1000000, "lock_in_years": 4}
        ]
    }))
}

#[test]
fn contagion_carries_every_unlocked_member_out_the_year_after_a_notice() {
    // c = 1 and one notice at the end of year 0: at the end of year 1 X and Y face
    // hazard 1 and leave; Z is locked in (1 + 1 < 4); at the end of years 2 and 3 Z is
    // still locked in or there were no notices the year before, so it stays.
    let s = cascade(1.0);
    for k in 0..20 {
        let r = replay(&s, 3, k);
        let notice_years: Vec<Vec<usize>> = (0..4)
            .map(|i| {
                (0..6)
                    .filter(|&t| r.years[t].partners[i].events & event::NOTICE != 0)
                    .collect()
            })
            .collect();
        assert_eq!(
            notice_years,
            [vec![0], vec![1], vec![1], vec![]],
            "trial {k}"
        );
        assert_eq!(r.summary.withdrawals, 3);
        assert_eq!(r.summary.collapse_year, NO_YEAR);
        // Z alone from year 2: it saves 1m - 0.9m.
        assert_close("Z in year 5", r.years[5].partners[3].saving, 100000.0);
        assert_eq!(r.years[2].partners[1].status, Status::Out);
    }
    // Without contagion only L leaves.
    let r = replay(&cascade(0.0), 3, 0);
    assert_eq!(r.summary.withdrawals, 1);
}

#[test]
fn contagion_adds_c_per_notice_of_the_previous_year() {
    // Horizon 3: decisions at the end of years 0 and 1 only. L's certain notice at the
    // end of year 0 gives each of the four others hazard c = 0.2 at the end of year 1:
    // withdrawals = 1 + Binomial(4, 0.2), mean 1.8, variance 0.64.
    let s = scenario(json!({
        "name": "rate",
        "horizon_years": 3,
        "min_members": 1,
        "contagion": 0.2,
        "service": {"efficiency": 0.1},
        "partners": [
            {"name": "L", "baseline_cost": 1000000, "withdrawal_hazard": 1},
            {"name": "M1", "baseline_cost": 1000000},
            {"name": "M2", "baseline_cost": 1000000},
            {"name": "M3", "baseline_cost": 1000000},
            {"name": "M4", "baseline_cost": 1000000}
        ]
    }));
    let n = 20_000;
    let out = run(&s, 7, n);
    let mean = out
        .events
        .iter()
        .map(|e| f64::from(e.withdrawals))
        .sum::<f64>()
        / n as f64;
    assert_within_se("withdrawals per trial", mean, 1.8, (0.64 / n as f64).sqrt());
}

#[test]
fn delay_years_rounds_half_up_and_is_clamped_to_the_horizon() {
    for (delay, d) in [
        (json!(1.49), 1),
        (json!({"fixed": 1.49}), 1),
        (json!({"fixed": 1.5}), 2),
        (json!({"uniform": [0.49, 0.49]}), 0),
        (json!({"uniform": [-0.4, 0.4]}), 0),
        (json!({"discrete": [[2.5, 1]]}), 3),
        (json!(5), 5),
        (json!({"fixed": 9.7}), 5),
    ] {
        let s = scenario(pair(5, json!({"delay_years": delay.clone()})));
        let r = replay(&s, 2, 0);
        let mut want = vec![0.0; d];
        want.resize(5, 150000.0);
        assert_all_close(&format!("delay {delay}"), &savings(&r, 0), &want);
        let out = run(&s, 2, 50);
        assert_eq!(
            f(&report_json(&s, 2, &out), "/events/delay_years"),
            d as f64,
            "delay {delay}"
        );
    }
    for bad in [json!(-1), json!({"uniform": [-3, -1]})] {
        let err = scenario::from_value(&pair(5, json!({"delay_years": bad})), "bad")
            .err()
            .unwrap_or_else(|| panic!("delay_years {bad} accepted"));
        assert!(err.to_string().contains("delay_years"), "{err}");
    }
}

#[test]
fn a_distribution_valued_joins_year_makes_a_late_joiner_and_rounds_half_up() {
    for (joins, year) in [
        (json!({"uniform": [1.49, 1.49]}), 1),
        (json!({"uniform": [1.5, 1.5]}), 2),
        (json!({"uniform": [2.5, 2.5]}), 3),
        (json!({"discrete": [[0.49, 1]]}), 1),
        (json!({"discrete": [[0, 1]]}), 1),
        (json!({"fixed": 2}), 2),
        (json!(2), 2),
        (json!({"fixed": 0}), 0),
    ] {
        let mut v = pair(5, json!({}));
        v["partners"].as_array_mut().unwrap().push(json!(
            {"name": "J", "baseline_cost": 1000000, "joins_year": joins.clone()}
        ));
        let r = replay(&scenario(v), 1, 0);
        let member: Vec<bool> = r
            .years
            .iter()
            .map(|y| y.partners[2].status == Status::Member)
            .collect();
        assert_eq!(
            member,
            (0..5).map(|t| t >= year).collect::<Vec<_>>(),
            "joins_year {joins}"
        );
        if year > 0 {
            assert!(r.years[year].partners[2].events & event::JOINED != 0);
            assert_eq!(r.years[year - 1].partners[2].status, Status::Pending);
        }
    }
    for bad in [
        json!({"fixed": 1.5}),
        json!(1.5),
        json!(-1),
        json!({"uniform": [-3, -1]}),
    ] {
        let mut v = pair(5, json!({}));
        v["partners"].as_array_mut().unwrap().push(json!(
            {"name": "J", "baseline_cost": 1000000, "joins_year": bad.clone()}
        ));
        let err = scenario::from_value(&v, "bad")
            .err()
            .unwrap_or_else(|| panic!("joins_year {bad} accepted"));
        assert!(err.to_string().contains("joins_year"), "{bad}: {err}");
    }
    // A single-valued distribution still makes a late joiner, so it is no founder: one
    // founder cannot meet min_members 2.
    let mut v = pair(5, json!({}));
    v["min_members"] = json!(2);
    v["partners"][1]["joins_year"] = json!({"discrete": [[0, 1]]});
    assert!(scenario::from_value(&v, "one founder").is_err());
}

#[test]
fn a_delay_of_at_least_the_horizon_never_goes_live() {
    // d = 5 = H: every year is a delay year. No F, no pooled saving, no efficiency (the
    // noise and the scale have nothing to act on), the delay cost every year, the
    // transition paid as profiled: each partner pays half of 50k + 150k, then of 50k.
    let s = scenario(json!({
        "name": "never live",
        "horizon_years": 5,
        "discount_rate": 0.035,
        "min_members": 1,
        "service": {
            "efficiency": 0.2, "fixed_cost": 100000, "ramp": [0.5, 1.0],
            "efficiency_noise_sd": 0.05, "scale_elasticity": 0.3,
            "transition_cost": 300000, "transition_profile": [0.5, 0.5],
            "delay_years": {"uniform": [6.5, 9]}, "delay_cost": 50000
        },
        "partners": [
            {"name": "A", "baseline_cost": 1000000},
            {"name": "B", "baseline_cost": 1000000}
        ]
    }));
    let each = [-100000.0, -100000.0, -25000.0, -25000.0, -25000.0];
    let npv: f64 = dfs(0.035, 5)
        .iter()
        .zip(each)
        .map(|(d, x)| 2.0 * d * x)
        .sum();
    let out = run(&s, 5, 200);
    for k in 0..out.trials {
        assert_close(&format!("trial {k}"), out.summary(k).npv, npv);
    }
    for k in [0, 1, 199] {
        let r = replay(&s, 5, k);
        assert_all_close("A", &savings(&r, 0), &each);
        assert_all_close("B", &savings(&r, 1), &each);
    }
    let report = report_json(&s, 5, &out);
    assert_eq!(f(&report, "/events/delay_years"), 5.0);
    assert_eq!(
        f(&report, "/consortium/payback_year/prob_within_horizon"),
        0.0
    );
}

#[test]
fn a_v1_scenario_is_unchanged_by_the_v2_fields_at_their_defaults() {
    let path = std::path::Path::new("scenarios/four_districts_back_office.json");
    let plain = scenario::load::read_value(path).unwrap();
    let text = |v: &Value| {
        let s = scenario(v.clone());
        let out = run(&s, 4, 3000);
        json::to_json(&Report::build(&s, 4, &out, RunInfo::new(1, 1.0, 3000)))
    };
    let base = text(&plain);
    for (delay, cost, contagion) in [
        (json!(0), json!(0), json!(0)),
        (
            json!({"fixed": 0}),
            json!({"fixed": 0}),
            json!({"fixed": 0}),
        ),
    ] {
        let mut v = plain.clone();
        v["service"]["delay_years"] = delay.clone();
        v["service"]["delay_cost"] = cost;
        v["contagion"] = contagion;
        assert!(text(&v) == base, "delay {delay}: the report changed");
    }
    let report: Value = serde_json::from_str(&base).unwrap();
    assert_eq!(f(&report, "/events/delay_years"), 0.0);
}

#[test]
fn mean_delay_matches_the_closed_form_of_its_distribution() {
    // Discrete 0/1/3 with weights 0.5/0.3/0.2: mean 0.9, E[d^2] = 2.1, variance 1.29.
    // Uniform(0, 3) rounded: d = 0, 1, 2, 3 with probabilities 1/6, 1/3, 1/3, 1/6: mean
    // 1.5, E[d^2] = 19/6, variance 11/12.
    let n = 20_000;
    for (delay, mean, var, probs) in [
        (
            json!({"discrete": [[0, 0.5], [1, 0.3], [3, 0.2]]}),
            0.9,
            1.29,
            vec![0.5, 0.3, 0.0, 0.2],
        ),
        (
            json!({"uniform": [0, 3]}),
            1.5,
            11.0 / 12.0,
            vec![1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
        ),
    ] {
        let s = scenario(pair(6, json!({"delay_years": delay.clone()})));
        let out = run(&s, 12, n);
        let got = f(&report_json(&s, 12, &out), "/events/delay_years");
        assert_within_se(
            &format!("mean delay of {delay}"),
            got,
            mean,
            (var / n as f64).sqrt(),
        );
        // The go-live year of each trial, from its replay.
        let m = 4000;
        let plan = Plan::compile(&s);
        let mut counts = [0usize; 7];
        for k in 0..m {
            counts[go_live(&trace::replay(&plan, 12, k as u64))] += 1;
        }
        for (d, p) in probs.iter().enumerate() {
            assert_within_se(
                &format!("P(d = {d}) of {delay}"),
                counts[d] as f64 / m as f64,
                *p,
                se_p(*p, m).max(1e-12),
            );
        }
    }
}

#[test]
fn a_late_joiners_uncertain_year_follows_the_rounding_rule() {
    // joins_year uniform(0.2, 3.8) -> max(1, floor(x + 0.5)): year 1 for x < 1.5
    // (1.3 / 3.6), 2 and 3 (1 / 3.6 each), 4 for x >= 3.5 (0.3 / 3.6); it then joins with
    // probability 0.6 in that year, or never.
    let mut v = pair(8, json!({}));
    v["partners"].as_array_mut().unwrap().push(json!(
        {"name": "J", "baseline_cost": 1000000, "join_probability": 0.6,
         "joins_year": {"uniform": [0.2, 3.8]}}
    ));
    let plan = Plan::compile(&scenario(v));
    let n = 10_000;
    let mut joined = [0usize; 8];
    for k in 0..n {
        let r = trace::replay(&plan, 6, k as u64);
        for (t, y) in r.years.iter().enumerate() {
            if y.partners[2].events & event::JOINED != 0 {
                joined[t] += 1;
            }
        }
        assert_ne!(r.years[0].partners[2].status, Status::Member);
    }
    for (y, p) in [0.0, 1.3, 1.0, 1.0, 0.3, 0.0, 0.0, 0.0].iter().enumerate() {
        let q = 0.6 * p / 3.6;
        assert_within_se(
            &format!("P(joins in year {y})"),
            joined[y] as f64 / n as f64,
            q,
            se_p(q, n).max(1e-12),
        );
    }
}

#[test]
fn disappointment_in_a_delay_year_comes_from_the_delay_cost() {
    // One decision (horizon 2) at the end of the delay year 0: R_i = -0.5 x 100k, so
    // h = k x 50k / 1m = 0.1 with k = 2.
    let s = scenario(json!({
        "name": "disappointed",
        "horizon_years": 2,
        "min_members": 1,
        "service": {"efficiency": 0.2, "delay_years": 1, "delay_cost": 100000},
        "partners": [
            {"name": "A", "baseline_cost": 1000000, "disappointment_sensitivity": 2},
            {"name": "B", "baseline_cost": 1000000, "disappointment_sensitivity": 2}
        ]
    }));
    let n = 20_000;
    let out = run(&s, 3, n);
    let r = Report::build(&s, 3, &out, RunInfo::new(1, 1.0, n));
    for p in &r.partners {
        assert_within_se(&p.name, p.prob_withdraws, 0.1, se_p(0.1, n));
    }
}

#[test]
fn trials_csv_gives_each_trials_delay_and_the_report_its_mean() {
    let dir = Dir::new();
    let v = pair(
        6,
        json!({"delay_years": {"discrete": [[0, 0.4], [1, 0.3], [2, 0.2], [7, 0.1]]}}),
    );
    let file = dir.write_json("delay.json", &v);
    let (csv, out) = (dir.path("trials.csv"), dir.path("report.json"));
    sim(&[
        "run",
        &file,
        "--trials",
        "400",
        "--seed",
        "4",
        "--quiet",
        "--trials-csv",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .ok();
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "delay_years")
        .unwrap_or_else(|| panic!("no delay_years column in {header:?}"));
    let plan = Plan::compile(&scenario(v));
    let mut sum = 0.0;
    for (k, line) in lines.enumerate() {
        let d: usize = line.split(',').nth(col).unwrap().parse().unwrap();
        assert!([0, 1, 2, 6].contains(&d), "trial {k}: {d}");
        assert_eq!(d, go_live(&trace::replay(&plan, 4, k as u64)), "trial {k}");
        sum += d as f64;
    }
    assert_close(
        "events.delay_years",
        f(&read_json(&out), "/events/delay_years"),
        sum / 400.0,
    );
}
