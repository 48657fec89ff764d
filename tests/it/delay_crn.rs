//! Common random numbers under model v2: the new draws (the go-live delay, a drawn join
//! year, contagion) are keyed like every other input, so adding them moves no other
//! draw, and a delay changes a trial's decisions only through the hazard terms it
//! changes.

use consortium_sim::engine::trace::{self, Replay};
use consortium_sim::engine::trial::event;
use consortium_sim::plan::{self, Plan};
use consortium_sim::scenario;
use serde_json::{Value, json};

/// Four partners who give notice often, disputes, uncertain inputs; no disappointment
/// sensitivity unless `k` is set, so that a member's hazard does not depend on its
/// running saving.
fn base(k: f64) -> Value {
    let partner = |name: &str, b: f64| {
        json!({
            "name": name,
            "baseline_cost": {"normal": [b, 0.1 * b]},
            "withdrawal_hazard": {"uniform": [0.05, 0.25]},
            "disappointment_sensitivity": k,
            "exit_fee": {"uniform": [0, 100000]},
            "reestablish_cost": 200000,
            "rejoin_probability": 0.3,
            "rejoin_fee": 50000
        })
    };
    json!({
        "name": "crn", "horizon_years": 10, "min_members": 2,
        "service": {
            "efficiency": {"pert": [0.05, 0.12, 0.2]},
            "fixed_cost": {"triangular": [100000, 200000, 300000]},
            "transition_cost": 1000000,
            "ramp": [0.3, 0.7, 1.0],
            "efficiency_noise_sd": 0.02
        },
        "partners": [
            partner("A", 4e6), partner("B", 3e6), partner("C", 2e6), partner("D", 1e6),
            {"name": "Late", "baseline_cost": 1.5e6, "joins_year": 3, "join_probability": 0.7}
        ],
        "disputes": {"annual_probability": 0.2, "resolution_probability": 0.5,
                     "annual_cost": 50000, "hazard_uplift": 0.05}
    })
}

fn with(mut v: Value, pointer: &str, x: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    v.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert(key.into(), x);
    v
}

fn plan(v: &Value) -> Plan {
    Plan::compile(&scenario::from_value(v, "test").unwrap_or_else(|e| panic!("{e}")))
}

/// Which partners gave notice (or joined) in year `t` of a replay.
fn marks(r: &Replay, t: usize, what: u8) -> Vec<bool> {
    r.years[t]
        .partners
        .iter()
        .map(|p| p.events & what != 0)
        .collect()
}

/// Every input but `except` drawn exactly as before, in every trial.
fn same_inputs(a: &Replay, b: &Replay, except: &[usize], trial: u64) {
    for (i, (x, y)) in a.inputs.iter().zip(&b.inputs).enumerate() {
        if !except.contains(&i) {
            assert_eq!(x.to_bits(), y.to_bits(), "trial {trial}: input {i} moved");
        }
    }
}

#[test]
fn a_delay_moves_no_draw_and_no_decision_before_go_live() {
    let on_time = plan(&base(0.0));
    let delayed = plan(&with(
        base(0.0),
        "/service/delay_years",
        json!({"discrete": [[2, 0.5], [4, 0.5]]}),
    ));
    let mut delays = [0usize; 5];
    for trial in 0..400 {
        let a = trace::replay(&on_time, 7, trial);
        let b = trace::replay(&delayed, 7, trial);
        same_inputs(&a, &b, &[plan::DELAY_YEARS], trial);
        let d = usize::from(b.summary.delay_years);
        assert!(d == 2 || d == 4, "trial {trial}: d = {d}");
        delays[d] += 1;
        assert_eq!(a.summary.delay_years, 0);
        // Before go-live the hazards are the same (no disappointment term), and so are
        // the disputes and the uniforms: the same notices and joins, year by year.
        for t in 0..d {
            if a.years[t].collapsed {
                break;
            }
            assert_eq!(
                a.years[t].dispute_active, b.years[t].dispute_active,
                "trial {trial}, year {t}"
            );
            assert_eq!(
                marks(&a, t, event::NOTICE),
                marks(&b, t, event::NOTICE),
                "trial {trial}, year {t}: a delay changed a notice"
            );
            assert_eq!(
                marks(&a, t, event::JOINED | event::DECLINED),
                marks(&b, t, event::JOINED | event::DECLINED),
                "trial {trial}, year {t}"
            );
            assert!(!b.years[t].live && a.years[t].live);
        }
    }
    // Both delays occur (the discrete draw is live, not stuck).
    assert!(delays[2] > 150 && delays[4] > 150, "{delays:?}");
}

/// With disappointment sensitivity, a delay year's running saving (minus a share of the
/// delay's cost) differs from a live year's, and so may the notices; but only through
/// that term: with the uniforms fixed, a notice in a delay year happens exactly when the
/// withdrawal uniform is below the hazard the delay year gives.
#[test]
fn with_sensitivity_a_delay_changes_decisions_only_through_the_hazard() {
    let v = with(base(2.0), "/service/delay_years", json!(3));
    let v = with(v, "/service/delay_cost", json!(1_500_000));
    let delayed = plan(&v);
    let no_k = plan(&with(
        with(base(0.0), "/service/delay_years", json!(3)),
        "/service/delay_cost",
        json!(1_500_000),
    ));
    let (mut more, mut fewer) = (0, 0);
    for trial in 0..400 {
        let with_k = trace::replay(&delayed, 3, trial);
        let without = trace::replay(&no_k, 3, trial);
        same_inputs(&with_k, &without, &[], trial);
        for t in 0..3 {
            if with_k.years[t].collapsed || without.years[t].collapsed {
                break;
            }
            // The same members as long as the notices have agreed so far; a higher
            // hazard can only add notices, never remove one.
            let a = marks(&with_k, t, event::NOTICE);
            let b = marks(&without, t, event::NOTICE);
            for (x, y) in a.iter().zip(&b) {
                assert!(*x || !*y, "trial {trial}, year {t}: k > 0 removed a notice");
                more += usize::from(*x && !*y);
            }
            if a != b {
                fewer += 1;
                break;
            }
        }
    }
    // A loss-making delay year (a 1.5m delay cost shared by members saving nothing)
    // does add notices.
    assert!(more > 0 && fewer > 0, "{more} {fewer}");
}

#[test]
fn contagion_and_uncertain_join_years_move_no_other_draw() {
    let plain = plan(&base(0.0));
    let v = with(base(0.0), "/contagion", json!({"uniform": [0.0, 0.2]}));
    let v = with(v, "/partners/4/joins_year", json!({"uniform": [1, 6]}));
    let v2 = plan(&v);
    let late = plan::Plan::partner_input(4, plan::JOINS_YEAR);
    for trial in 0..200 {
        let a = trace::replay(&plain, 11, trial);
        let b = trace::replay(&v2, 11, trial);
        same_inputs(&a, &b, &[plan::CONTAGION, late], trial);
        // Year 0 has no notices before it, and no late joiner: the same decisions.
        assert_eq!(
            marks(&a, 0, event::NOTICE),
            marks(&b, 0, event::NOTICE),
            "trial {trial}"
        );
        let drawn = b.inputs[late];
        assert!((1.0..=6.0).contains(&drawn), "{drawn}");
        let year = ((drawn + 0.5).floor() as usize).max(1);
        // The late joiner decides in the drawn year, unless a collapse came first.
        let decided = b
            .years
            .iter()
            .position(|y| y.partners[4].events & (event::JOINED | event::DECLINED) != 0);
        match decided {
            Some(t) => assert_eq!(t, year, "trial {trial}: drew {drawn}"),
            None => assert!(
                year >= 10 || b.years[year].collapsed,
                "trial {trial}: drew {drawn}, never decided"
            ),
        }
    }
}
