//! libFuzzer target: bytes -> `scenario::from_str` (when they are UTF-8) -> for a scenario
//! that validates, a few trials and the JSON report.
//!
//! It checks the contract of tests/it/loader_fuzz.rs: no panic, no abort, no hang;
//! every problem names a JSON pointer that exists in the input (or whose parent does); a
//! syntax error gives its line and column; a valid scenario's outputs and report are
//! finite.

#![no_main]

use consortium_sim::engine::{self, Monitor, Precision};
use consortium_sim::plan::Plan;
use consortium_sim::report::{Report, RunInfo, json};
use consortium_sim::scenario::{self, Scenario, ScenarioError};
use libfuzzer_sys::fuzz_target;

/// Trials per valid scenario: enough to draw every random input, few enough to stay fast.
const TRIALS: usize = 8;

/// Single-precision rows are checked only while discount factors stay below this: past
/// it they overflow f32 (the bug that
/// `bug_single_precision_rows_overflow_with_steep_negative_discount_rates` records).
const F32_SAFE_DISCOUNT_FACTOR: f64 = 1e12;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match scenario::from_str(text, "fuzz") {
        Ok(s) => run(&s),
        Err(ScenarioError::Syntax { source, .. }) => {
            let at = format!("line {} column {}", source.line(), source.column());
            assert!(source.line() >= 1, "{source}");
            assert!(source.to_string().contains(&at), "{source}");
        }
        Err(ScenarioError::Invalid { problems, .. }) => {
            assert!(!problems.is_empty());
            let value: serde_json::Value =
                serde_json::from_str(text).expect("an Invalid scenario is JSON");
            for p in &problems {
                assert!(p.path.is_empty() || p.path.starts_with('/'), "{p:?}");
                let parent = p.path.rsplit_once('/').map_or("", |(parent, _)| parent);
                assert!(
                    value.pointer(&p.path).is_some() || value.pointer(parent).is_some(),
                    "{p:?} names nothing in the input"
                );
            }
        }
        Err(other) => panic!("unexpected error from from_str: {other:?}"),
    }
});

fn run(s: &Scenario) {
    let plan = Plan::compile(s);
    let f32_safe = s
        .discount
        .factors(s.horizon_years)
        .iter()
        .all(|&df| df <= F32_SAFE_DISCOUNT_FACTOR);
    for precision in [Precision::Double, Precision::Single] {
        let mut out = engine::run_monitored(&plan, s.seed, 0, TRIALS, precision, &Monitor::new())
            .expect("a run nobody cancels finishes");
        if precision == Precision::Single && !f32_safe {
            continue;
        }
        for k in 0..out.trials {
            assert!(
                out.summary(k).npv.is_finite(),
                "{precision:?}: npv of trial {k}"
            );
            for i in 0..out.partners {
                assert!(
                    out.partner_npv(k, i).is_finite(),
                    "{precision:?}: partner {i}"
                );
            }
            for t in 0..out.horizon {
                assert!(out.cumulative(k, t).is_finite(), "{precision:?}: year {t}");
            }
        }
        let report = Report::build(s, s.seed, &mut out, RunInfo::new(1, 1.0, TRIALS));
        let bad = json::non_finite(&report);
        assert!(bad.is_empty(), "{precision:?}: report has null at {bad:?}");
        let text = json::to_json(&report);
        serde_json::from_str::<serde_json::Value>(&text).expect("the report is JSON");
    }
}
