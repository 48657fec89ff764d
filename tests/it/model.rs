//! The model against MODEL.md: closed forms, statistical checks against formulas (4
//! standard errors, fixed seeds), determinism and common random numbers.

use consortium_sim::engine::trial::event;
use consortium_sim::engine::{self, NO_YEAR, Outcomes, Status, trace};
use consortium_sim::export::json;
use consortium_sim::plan::{self, Plan};
use consortium_sim::scenario::{self, Scenario};
use consortium_sim::summary::{Report, RunInfo};
use serde_json::{Value, json};

fn scenario(v: Value) -> Scenario {
    scenario::from_value(&v, "test").unwrap_or_else(|e| panic!("{e}"))
}

fn run(s: &Scenario, seed: u64, trials: usize) -> Outcomes {
    engine::run(&Plan::compile(s), seed, 0, trials)
}

fn run_threads(s: &Scenario, seed: u64, trials: usize, threads: usize) -> Outcomes {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| run(s, seed, trials))
}

/// Mean and standard error of per-trial values.
fn mean_se(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = values.collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

fn assert_within_se(what: &str, observed: f64, expected: f64, se: f64) {
    assert!(
        (observed - expected).abs() <= 4.0 * se,
        "{what}: observed {observed}, expected {expected}, 4 se = {}",
        4.0 * se
    );
}

/// A scenario with no uncertainty, no withdrawals and no disputes, for MODEL.md's
/// sanity check. Forty years so that the Green Book's second band is used.
fn certain() -> Value {
    json!({
        "name": "certain",
        "horizon_years": 40,
        "discount_rate": "green_book",
        "min_members": 2,
        "service": {
            "fixed_cost": 300000,
            "efficiency": 0.15,
            "ramp": [0.25, 0.6, 1.0],
            "transition_cost": 2000000,
            "transition_profile": [0.5, 0.3, 0.2],
            "optimism_bias": 0.2
        },
        "partners": [
            {"name": "A", "baseline_cost": 4000000},
            {"name": "B", "baseline_cost": 2500000},
            {"name": "C", "baseline_cost": 1500000}
        ]
    })
}

#[test]
fn certain_scenario_npv_matches_closed_form() {
    let s = scenario(certain());
    let (g, b, f, t_prime) = (0.15, 8_000_000.0, 300_000.0, 2_000_000.0 * 1.2);
    let ramp = |t: usize| [0.25, 0.6, 1.0][t.min(2)];
    let profile = |t: usize| [0.5, 0.3, 0.2].get(t).copied().unwrap_or(0.0);
    let mut df = 1.0;
    let mut expected = 0.0;
    let mut expected_by_year = Vec::new();
    for t in 0..40 {
        if t > 0 {
            df /= 1.0 + if t <= 30 { 0.035 } else { 0.03 };
        }
        expected += df * (g * ramp(t) * b - f - t_prime * profile(t));
        expected_by_year.push(expected);
    }
    let out = run(&s, 9, 50);
    for k in 0..out.trials {
        let npv = out.summary(k).npv;
        assert!(
            ((npv - expected) / expected).abs() < 1e-9,
            "trial {k}: {npv} vs {expected}"
        );
        for (t, e) in expected_by_year.iter().enumerate() {
            let got = out.cumulative(k, t);
            assert!(
                (got - e).abs() <= 1e-9 * expected.abs(),
                "year {t}: {got} vs {e}"
            );
        }
        // Proportional sharing: each partner gets its baseline share of the saving.
        for (i, share) in [0.5, 2.5 / 8.0, 1.5 / 8.0].iter().enumerate() {
            let p = out.partner_npvs(k)[i];
            assert!(
                ((p - share * expected) / expected).abs() < 1e-9,
                "partner {i}: {p}"
            );
        }
        assert_eq!(out.summary(k).collapse_year, NO_YEAR);
    }
    let r = Report::build(&s, 9, &out, RunInfo::new(1, 1.0, 50));
    assert!(
        r.consortium.npv.sd < 1e-6 * expected.abs(),
        "{}",
        r.consortium.npv.sd
    );
    assert_eq!(r.consortium.by_year[39].p50, r.consortium.npv.p50);
}

#[test]
fn certain_scenario_payback_year_is_first_nonnegative_cumulative_year() {
    let s = scenario(certain());
    let out = run(&s, 1, 1);
    let first = (0..40).find(|&t| out.cumulative(0, t) >= 0.0).unwrap();
    assert!(first > 0);
    assert_eq!(out.summary(0).payback_year as usize, first);
}

#[test]
fn equal_sharing_changes_who_gains_not_the_consortium_total() {
    let mut v = certain();
    let proportional = run(&scenario(v.clone()), 1, 1).npv[0];
    v["service"]["cost_sharing"] = json!("equal");
    let equal = run(&scenario(v.clone()), 1, 1);
    assert!(((equal.npv[0] - proportional) / proportional).abs() < 1e-12);
    // With equal shares the smallest partner pays a third of the pool for a fifth of the
    // baseline: it is worse off than under proportional sharing.
    v["service"]["cost_sharing"] = json!({"fixed": {"A": 1, "B": 1, "C": 1}});
    let fixed = run(&scenario(v), 1, 1);
    assert_eq!(equal.partner_npv, fixed.partner_npv);
    assert!(equal.partner_npvs(0)[2] < proportional * 1.5 / 8.0);
}

/// A scenario where only constant hazards act: partner "Anchor" never leaves, so the
/// consortium never collapses and the others' survival is geometric.
fn hazard_only(h: f64, horizon: usize) -> Value {
    json!({
        "name": "hazard only",
        "horizon_years": horizon,
        "min_members": 1,
        "service": {"efficiency": 0.1},
        "partners": [
            {"name": "Anchor", "baseline_cost": 1000000},
            {"name": "X", "baseline_cost": 1000000, "withdrawal_hazard": h},
            {"name": "Y", "baseline_cost": 2000000, "withdrawal_hazard": h}
        ]
    })
}

#[test]
fn withdrawal_only_survival_matches_geometric() {
    let (h, horizon, trials) = (0.12, 8, 20_000);
    let s = scenario(hazard_only(h, horizon));
    let plan = Plan::compile(&s);
    let mut member = vec![0u32; horizon];
    for k in 0..trials {
        let replay = trace::replay(&plan, 5, k);
        for y in &replay.years {
            if y.partners[1].status == Status::Member {
                member[y.t] += 1;
            }
        }
    }
    for (t, &m) in member.iter().enumerate() {
        let p = (1.0 - h).powi(t as i32);
        let observed = f64::from(m) / trials as f64;
        let se = (p * (1.0 - p) / trials as f64).sqrt().max(1e-12);
        assert_within_se(&format!("P(member in year {t})"), observed, p, se);
    }
}

#[test]
fn expected_withdrawals_match_formula() {
    let (h, horizon, trials) = (0.07, 10, 40_000);
    let s = scenario(hazard_only(h, horizon));
    let out = run(&s, 3, trials);
    // Two partners at risk, H - 1 decisions each, no rejoins.
    let p_leave = 1.0 - (1.0 - h).powi(horizon as i32 - 1);
    let (mean, se) = mean_se(out.events.iter().map(|t| f64::from(t.withdrawals)));
    assert_within_se("withdrawals per trial", mean, 2.0 * p_leave, se);
    let r = Report::build(&s, 3, &out, RunInfo::new(1, 1.0, trials));
    let se_p = (p_leave * (1.0 - p_leave) / trials as f64).sqrt();
    assert_within_se(
        "P(X withdraws)",
        r.partners[1].prob_withdraws,
        p_leave,
        se_p,
    );
    assert_eq!(r.partners[0].prob_withdraws, 0.0);
    assert_eq!(r.consortium.prob_collapse, 0.0);
}

/// The model is homogeneous in money: scaling every amount by a power of two changes no
/// decision, down to baselines so small (below 1e-308) that 1 / B_i overflows. With an
/// efficiency of 0.1 every partner's running cost is 90 % of its baseline, so nobody is
/// disappointed and only the base hazard drives withdrawals; with -0.125 every member
/// runs at a 12.5 % loss, which raises its hazard by 2 x 0.125 (and puts the anchor,
/// whose base hazard is 0, at risk too).
#[test]
fn scaling_money_changes_no_decision_even_for_subnormal_baselines() {
    let (h, horizon, trials) = (0.1, 8, 5_000);
    let with_baselines = |scale: f64, efficiency: f64| {
        let mut v = hazard_only(h, horizon);
        v["service"]["efficiency"] = json!(efficiency);
        for p in v["partners"].as_array_mut().unwrap() {
            let b = p["baseline_cost"].as_f64().unwrap();
            p["baseline_cost"] = json!(b * scale);
            p["disappointment_sensitivity"] = json!(2.0);
        }
        run(&scenario(v), 9, trials)
    };
    let tiny_scale = 2f64.powi(-1060);
    assert!(1e6 * tiny_scale < f64::MIN_POSITIVE && (1.0 / (1e6 * tiny_scale)).is_infinite());
    // Expected withdrawals a trial: 1 - (1 - h_i)^7 for each partner at risk (a collapse,
    // which needs all three to leave in one year, is too rare to matter here).
    let at_risk =
        |hazards: &[f64]| -> f64 { hazards.iter().map(|h| 1.0 - (1.0 - h).powi(7)).sum() };
    for (efficiency, per_trial) in [
        (0.1, at_risk(&[h, h])),
        (-0.125, at_risk(&[0.25, h + 0.25, h + 0.25])),
    ] {
        let (plain, tiny) = (
            with_baselines(1.0, efficiency),
            with_baselines(tiny_scale, efficiency),
        );
        let withdrawals: u32 = plain.events.iter().map(|e| e.withdrawals).sum();
        let expected = trials as f64 * per_trial;
        assert!(
            (f64::from(withdrawals) - expected).abs() < 0.05 * expected,
            "efficiency {efficiency}: {withdrawals} withdrawals, expected about {expected}"
        );
        for k in 0..trials {
            assert_eq!(
                plain.events[k], tiny.events[k],
                "efficiency {efficiency}, trial {k}"
            );
        }
    }
}

#[test]
fn collapse_probability_of_two_partners_matches_formula() {
    let (h1, h2, horizon, trials): (f64, f64, usize, usize) = (0.05, 0.08, 10, 40_000);
    let s = scenario(json!({
        "name": "pair",
        "horizon_years": horizon,
        "min_members": 2,
        "service": {"efficiency": 0.1},
        "partners": [
            {"name": "P", "baseline_cost": 1000000, "withdrawal_hazard": h1},
            {"name": "Q", "baseline_cost": 1000000, "withdrawal_hazard": h2}
        ]
    }));
    let out = run(&s, 11, trials);
    let expected = 1.0 - ((1.0 - h1) * (1.0 - h2)).powi(horizon as i32 - 1);
    let r = Report::build(&s, 11, &out, RunInfo::new(1, 1.0, trials));
    let se = (expected * (1.0 - expected) / trials as f64).sqrt();
    assert_within_se("P(collapse)", r.consortium.prob_collapse, expected, se);
    // The year of collapse is geometric too: P(collapse from year 1) = 1 - (1-h1)(1-h2).
    let first = 1.0 - (1.0 - h1) * (1.0 - h2);
    let se1 = (first * (1.0 - first) / trials as f64).sqrt();
    assert_within_se(
        "P(collapse from year 1)",
        r.consortium.collapse_year_probability[1],
        first,
        se1,
    );
}

#[test]
fn dispute_years_match_two_state_markov_chain() {
    let (p, rho, horizon, trials) = (0.2, 0.4, 12, 40_000);
    let s = scenario(json!({
        "name": "disputes",
        "horizon_years": horizon,
        "service": {"efficiency": 0.1},
        "partners": [
            {"name": "P", "baseline_cost": 1000000},
            {"name": "Q", "baseline_cost": 1000000}
        ],
        "disputes": {"annual_probability": p, "resolution_probability": rho, "annual_cost": 50000}
    }));
    let out = run(&s, 2, trials);
    // a_t = P(active after step 4 of year t); starts happen only from inactive years.
    let (mut active, mut years, mut starts) = (0.0, 0.0, 0.0);
    for _ in 0..horizon {
        starts += (1.0 - active) * p;
        active = active * (1.0 - rho) + (1.0 - active) * p;
        years += active;
    }
    let (m, se) = mean_se(out.events.iter().map(|t| f64::from(t.dispute_years)));
    assert_within_se("dispute-years per trial", m, years, se);
    let (m, se) = mean_se(out.events.iter().map(|t| f64::from(t.disputes)));
    assert_within_se("disputes started per trial", m, starts, se);
}

#[test]
fn late_joiner_joins_with_its_probability_and_pays_onboarding() {
    let (q, trials) = (0.35, 20_000u64);
    let s = scenario(json!({
        "name": "late joiner",
        "horizon_years": 6,
        "min_members": 1,
        "service": {"efficiency": 0.1},
        "partners": [
            {"name": "Founder", "baseline_cost": 1000000},
            {"name": "Late", "baseline_cost": 1000000, "joins_year": 2,
             "join_probability": q, "onboarding_cost": 70000}
        ]
    }));
    let plan = Plan::compile(&s);
    let mut joined = 0;
    for k in 0..trials {
        let r = trace::replay(&plan, 4, k);
        let year2 = &r.years[2].partners[1];
        if year2.events & event::JOINED != 0 {
            joined += 1;
            // Year 2 saving: B - w * Pool - onboarding, with Pool = 2B (1 - 0.1).
            let expected = 1e6 - 0.5 * 2e6 * 0.9 - 70000.0;
            assert!((year2.saving - expected).abs() < 1e-6, "{}", year2.saving);
        } else {
            assert_eq!(year2.status, Status::Never);
            assert_eq!(r.partner_npv[1], 0.0);
        }
        assert_eq!(r.years[1].partners[1].status, Status::Pending);
    }
    let observed = joined as f64 / trials as f64;
    assert_within_se(
        "P(joins)",
        observed,
        q,
        (q * (1.0 - q) / trials as f64).sqrt(),
    );
}

#[test]
fn collapse_books_reestablishment_for_every_member_and_no_exit_fees() {
    // B gives notice at the end of year 0 (hazard 1): two members would fall to one,
    // below min_members 2, so the consortium collapses from year 1.
    let s = scenario(json!({
        "name": "collapse",
        "horizon_years": 5,
        "discount_rate": 0.05,
        "min_members": 2,
        "service": {"efficiency": 0.2, "fixed_cost": 100000},
        "partners": [
            {"name": "A", "baseline_cost": 1000000, "reestablish_cost": 300000, "exit_fee": 99},
            {"name": "B", "baseline_cost": 3000000, "withdrawal_hazard": 1,
             "reestablish_cost": 500000, "exit_fee": 77}
        ]
    }));
    let out = run(&s, 1, 3);
    let pool0 = 100000.0 + 4e6 * 0.8;
    let year0 = [1e6 - 0.25 * pool0, 3e6 - 0.75 * pool0];
    let expected = [year0[0] - 300000.0 / 1.05, year0[1] - 500000.0 / 1.05];
    for k in 0..3 {
        let t = out.summary(k);
        assert_eq!(t.collapse_year, 1);
        assert_eq!(t.withdrawals, 1);
        for (got, want) in out.partner_npvs(k).iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
    }
    let r = Report::build(&s, 1, &out, RunInfo::new(1, 1.0, 3));
    assert_eq!(r.consortium.prob_collapse, 1.0);
    assert_eq!(r.partners[1].prob_withdraws, 1.0);
    assert_eq!(r.partners[0].prob_withdraws, 0.0);
}

#[test]
fn leaver_pays_exit_fee_into_pool_after_lock_in() {
    // C is locked in for two years, gives notice at the end of year 1 and is out from
    // year 2, when it pays exit fee and re-establishment; A and B share its exit fee.
    let s = scenario(json!({
        "name": "exit",
        "horizon_years": 4,
        "discount_rate": 0.0,
        "min_members": 1,
        "service": {"efficiency": 0.1},
        "partners": [
            {"name": "A", "baseline_cost": 1000000},
            {"name": "B", "baseline_cost": 1000000},
            {"name": "C", "baseline_cost": 2000000, "withdrawal_hazard": 1, "lock_in_years": 2,
             "exit_fee": 40000, "reestablish_cost": 150000}
        ]
    }));
    let r = trace::replay(&Plan::compile(&s), 1, 0);
    let c: Vec<f64> = r.years.iter().map(|y| y.partners[2].saving).collect();
    assert_eq!(c, vec![200000.0, 200000.0, -190000.0, 0.0]);
    // Year 2: pool = 2e6 * 0.9 - 40000, half each.
    let a2 = 1e6 - 0.5 * (1.8e6 - 40000.0);
    assert!((r.years[2].partners[0].saving - a2).abs() < 1e-6);
    assert!(r.years[1].partners[2].events & event::NOTICE != 0);
    assert!(
        r.years[0].partners[2].events & event::NOTICE == 0,
        "locked in during year 0"
    );
    assert_eq!(r.summary.withdrawals, 1);
}

#[test]
fn rejoiner_must_sit_out_a_whole_year_and_pays_rejoin_fee() {
    let s = scenario(json!({
        "name": "rejoin",
        "horizon_years": 5,
        "discount_rate": 0.0,
        "min_members": 1,
        "service": {"efficiency": 0.1},
        "partners": [
            {"name": "A", "baseline_cost": 1000000},
            {"name": "B", "baseline_cost": 1000000, "withdrawal_hazard": {"discrete": [[1, 1]]},
             "lock_in_years": 1, "rejoin_probability": 1, "rejoin_fee": 30000,
             "hazard_profile": [1, 0]}
        ]
    }));
    // B: notice end of year 0, first year out 1, rejoins in 2 (out all of year 1), and its
    // profile is 0 from year 1 so it stays.
    let r = trace::replay(&Plan::compile(&s), 1, 0);
    let status: Vec<Status> = r.years.iter().map(|y| y.partners[1].status).collect();
    assert_eq!(
        status,
        [
            Status::Member,
            Status::Out,
            Status::Member,
            Status::Member,
            Status::Member
        ]
    );
    assert!(r.years[2].partners[1].events & event::REJOINED != 0);
    // Year 2: pool = 2e6 * 0.9 - 30000; B pays half of it plus its fee.
    let b2 = 1e6 - 0.5 * (1.8e6 - 30000.0) - 30000.0;
    assert!((r.years[2].partners[1].saving - b2).abs() < 1e-6);
    assert_eq!(r.summary.rejoins, 1);
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let s = scenario::load_file(std::path::Path::new(
        "scenarios/mixed_jv_county_district_police.json",
    ))
    .unwrap();
    let one = run_threads(&s, 7, 3000, 1);
    let two = run_threads(&s, 7, 3000, 2);
    let four = run_threads(&s, 7, 3000, 4);
    assert_eq!(one, two);
    assert_eq!(one, four);
    let text = |o: &Outcomes| json::to_json(&Report::build(&s, 7, o, RunInfo::new(1, 1.0, 3000)));
    assert_eq!(text(&one), text(&four));
    assert_ne!(run(&s, 8, 3000).npv, one.npv, "different seeds differ");
}

#[test]
fn trace_reproduces_the_trial_of_a_full_run() {
    let s =
        scenario::load_file(std::path::Path::new("scenarios/social_care_informal.json")).unwrap();
    let plan = Plan::compile(&s);
    let out = engine::run(&plan, 5, 0, 600);
    for k in [0usize, 17, 311, 599] {
        let r = trace::replay(&plan, 5, k as u64);
        assert_eq!(r.summary, out.summary(k));
        assert_eq!(r.partner_npv, out.partner_npvs(k));
        let cum: Vec<f64> = r.years.iter().map(|y| y.cumulative).collect();
        assert_eq!(
            cum,
            (0..plan.horizon)
                .map(|t| out.cumulative(k, t))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn raising_an_exit_fee_changes_no_decision_before_that_partners_first_exit() {
    let base =
        scenario::load_file(std::path::Path::new("scenarios/social_care_informal.json")).unwrap();
    let mut v =
        scenario::load::read_value(std::path::Path::new("scenarios/social_care_informal.json"))
            .unwrap();
    let name = base.partners[1].name.clone();
    scenario::apply_set(&mut v, &format!("/partners/{name}/exit_fee=900000")).unwrap();
    let raised = scenario::from_value(&v, "raised").unwrap();
    let (pa, pb) = (Plan::compile(&base), Plan::compile(&raised));
    let mut exits = 0;
    for k in 0..1500 {
        let (a, b) = (trace::replay(&pa, 3, k), trace::replay(&pb, 3, k));
        // Every sampled input but the raised fee is identical.
        let fee = Plan::partner_input(1, plan::EXIT_FEE);
        for (j, (x, y)) in a.inputs.iter().zip(&b.inputs).enumerate() {
            if j != fee {
                assert_eq!(x, y, "trial {k}, input {j}");
            }
        }
        let first_notice = a
            .years
            .iter()
            .position(|y| y.partners[1].events & event::NOTICE != 0);
        let last_equal = first_notice.unwrap_or(a.years.len() - 1);
        exits += usize::from(first_notice.is_some());
        for t in 0..=last_equal {
            let events = |r: &trace::Replay| {
                r.years[t]
                    .partners
                    .iter()
                    .map(|p| p.events)
                    .collect::<Vec<_>>()
            };
            assert_eq!(events(&a), events(&b), "trial {k}, year {t}");
            assert_eq!(
                a.years[t].cumulative, b.years[t].cumulative,
                "trial {k}, year {t}"
            );
        }
        if first_notice.is_none() || a.summary.collapse_year == (last_equal + 1) as u16 {
            // No exit fee is ever paid: the trials are identical.
            assert_eq!(a.summary, b.summary, "trial {k}");
        }
    }
    assert!(
        exits > 50,
        "the test needs exits to mean anything ({exits})"
    );
}

#[test]
fn making_one_input_uncertain_leaves_other_inputs_draws_alone() {
    let mut v = scenario::load::read_value(std::path::Path::new(
        "scenarios/four_districts_back_office.json",
    ))
    .unwrap();
    let a = Plan::compile(&scenario::from_value(&v, "a").unwrap());
    scenario::apply_set(&mut v, "/service/fixed_cost={\"uniform\":[100000,900000]}").unwrap();
    let b = Plan::compile(&scenario::from_value(&v, "b").unwrap());
    for k in 0..200 {
        let (ra, rb) = (trace::replay(&a, 1, k), trace::replay(&b, 1, k));
        assert_ne!(ra.inputs[plan::FIXED_COST], rb.inputs[plan::FIXED_COST]);
        assert_eq!(
            ra.inputs[plan::FIXED_COST + 1..],
            rb.inputs[plan::FIXED_COST + 1..]
        );
    }
}
