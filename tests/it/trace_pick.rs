//! `trace` beyond `--worst` (#18 item 3): the trial at any percentile of the consortium's
//! NPV or at a partner's own 1st percentile, checked against the trials CSV of the same
//! run; and the hazard behind each notice, checked against the model's formula.

use consortium_sim::engine::trace;
use consortium_sim::plan::Plan;
use consortium_sim::scenario;
use serde_json::json;

use crate::util::{bin, root};

const SCENARIO: &str = "scenarios/four_districts_back_office.json";

/// The trial `trace` picked with `flag`, read from its first line.
fn picked(flag: &[&str]) -> u64 {
    let out = bin()
        .args([
            "trace", SCENARIO, "--trials", "3000", "--seed", "7", "--quiet",
        ])
        .args(flag)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    let k = first.split(": trial ").nth(1).unwrap();
    k.split_whitespace().next().unwrap().parse().unwrap()
}

/// The same run's trial table: (trial, consortium NPV, each partner's NPV).
fn table() -> Vec<(u64, f64, Vec<f64>)> {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    let out = bin()
        .args([
            "run", SCENARIO, "--trials", "3000", "--seed", "7", "--quiet",
        ])
        .arg("--trials-csv")
        .arg(&csv)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&csv).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let partners = f[2..6].iter().map(|x| x.parse().unwrap()).collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap(), partners)
        })
        .collect()
}

/// The trial at rank round(p (n - 1)) in the order of (value, trial).
fn at_rank(rows: &[(u64, f64)], p: f64) -> u64 {
    let mut sorted = rows.to_vec();
    sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    sorted[(p * (rows.len() - 1) as f64).round() as usize].0
}

#[test]
fn percentiles_median_and_a_partners_worst_pick_the_ranked_trial() {
    let rows = table();
    let consortium: Vec<(u64, f64)> = rows.iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(picked(&["--worst"]), at_rank(&consortium, 0.01));
    assert_eq!(picked(&["--percentile", "1"]), picked(&["--worst"]));
    assert_eq!(picked(&["--percentile", "25"]), at_rank(&consortium, 0.25));
    assert_eq!(picked(&["--median"]), at_rank(&consortium, 0.5));
    assert_eq!(picked(&["--percentile", "100"]), at_rank(&consortium, 1.0));
    // Otterby, the fourth partner, by name and by index.
    let otterby: Vec<(u64, f64)> = rows.iter().map(|r| (r.0, r.2[3])).collect();
    let worst = at_rank(&otterby, 0.01);
    assert_eq!(picked(&["--worst-for", "Otterby District Council"]), worst);
    assert_eq!(picked(&["--worst-for", "3"]), worst);
    // A partner's bad case is not the consortium's here: the flag matters.
    assert_ne!(worst, at_rank(&consortium, 0.01));
}

#[test]
fn bad_picks_are_refused_with_a_message() {
    let run = |args: &[&str]| {
        let out = bin()
            .args(["trace", SCENARIO])
            .args(args)
            .current_dir(root())
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let (code, err) = run(&["--worst-for", "Nobody"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(
            "--worst-for Nobody: there is no partner of that name (partners: Brackenfield"
        ),
        "{err}"
    );
    // A number is an index: one past the last is said as such, not as a name.
    let (code, err) = run(&["--worst-for", "7"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(
            "--worst-for 7: there is no partner 7: partners are numbered from 0 to 3 (or \
             named: Brackenfield"
        ),
        "{err}"
    );
    let (code, err) = run(&["--percentile", "101"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("expected a percentile from 0 to 100"), "{err}");
    let (code, err) = run(&["--worst", "--median"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("cannot be used with"), "{err}");
}

/// Every member free to leave has its hazard recorded with its parts, equal to the
/// formula of docs/model.md step 8 with this scenario's numbers: base h x profile_t, the
/// dispute uplift (a dispute is active every year), and no disappointment or contagion.
/// A member still locked in, and anyone in the last year, has none.
#[test]
fn each_members_hazard_and_its_parts_are_recorded() {
    let s = scenario::from_value(
        &json!({
            "name": "hazards", "horizon_years": 4, "min_members": 1,
            "service": {"efficiency": 0.1},
            "disputes": {"annual_probability": 1, "resolution_probability": 0,
                         "hazard_uplift": 0.05},
            "partners": [
                {"name": "A", "baseline_cost": 1e6, "withdrawal_hazard": 0.2,
                 "hazard_profile": [1, 2]},
                {"name": "B", "baseline_cost": 1e6, "withdrawal_hazard": 0.1,
                 "lock_in_years": 3}
            ]
        }),
        "test",
    )
    .unwrap();
    let plan = Plan::compile(&s);
    let mut notices = 0;
    for k in 0..200 {
        let r = trace::replay(&plan, 3, k);
        let mut a_in = true;
        for (t, y) in r.years.iter().enumerate() {
            let a = &y.partners[0];
            if a_in && t < 3 {
                let h = a.hazard.expect("A is free to leave");
                let profile = if t == 0 { 1.0 } else { 2.0 };
                assert_eq!(h.base, 0.2 * profile, "trial {k}, year {t}");
                assert_eq!(h.dispute, 0.05);
                assert_eq!((h.disappointment, h.contagion), (0.0, 0.0));
                assert_eq!(h.total, 0.2 * profile + 0.05);
            } else {
                assert_eq!(a.hazard, None, "trial {k}, year {t}");
            }
            if a.events & consortium_sim::engine::trial::event::NOTICE != 0 {
                a_in = false;
                notices += 1;
            }
            // B's notice can take effect from year 3 (its lock-in) at the earliest, so it
            // decides only at the end of year 2; year 3 is the last, with no notices.
            let b = y.partners[1].hazard;
            if t == 2
                && !y.collapsed
                && y.partners[1].status == consortium_sim::engine::Status::Member
            {
                assert_eq!(b.map(|h| h.total), Some(0.1 + 0.05), "trial {k}");
            } else {
                assert_eq!(b, None, "trial {k}, year {t}");
            }
        }
    }
    assert!(notices > 50, "{notices}");
}

#[test]
fn the_story_shows_the_hazard_behind_each_notice() {
    let out = bin()
        .args(["trace", "scenarios/mixed_jv_county_district_police.json"])
        .args(["--trials", "3000", "--seed", "11", "--worst", "--quiet"])
        .current_dir(root())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let notices: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("gives notice"))
        .collect();
    assert!(!notices.is_empty());
    for line in notices {
        assert!(line.contains("gives notice: hazard 0."), "{line}");
        assert!(line.contains(" = base 0."), "{line}");
    }
}

/// `--html` writes the story as a page: the trial's chart and the very text printed.
#[test]
fn the_story_as_a_page_holds_the_chart_and_the_printed_text() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("trace.html");
    let out = bin()
        .args(["trace", "scenarios/departments_shared_service_centre.json"])
        .args([
            "--trials", "2000", "--seed", "3", "--median", "--quiet", "--html",
        ])
        .arg(&page)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (wrote, story) = stdout.split_once('\n').unwrap();
    assert_eq!(wrote, format!("wrote {}", page.display()));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("data-chart=\"trial-cumulative\""));
    assert!(html.contains("<svg"));
    let escaped = consortium_sim::export::html::escape(story);
    assert!(html.contains(&format!("<pre class=\"story\">{escaped}</pre>")));
    // The page may not replace the scenario.
    let copy = dir.path().join("s.json");
    std::fs::copy(root().join(SCENARIO), &copy).unwrap();
    let out = bin()
        .arg("trace")
        .arg(&copy)
        .args(["--worst", "--html"])
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("would replace the scenario"), "{err}");
}
