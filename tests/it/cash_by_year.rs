//! Each partner's cash by year (`partners[].by_year`, `run --by-year`, `--cashflow-csv`):
//! the closed form of a scenario without uncertainty, the percentiles against a
//! brute-force recomputation from every trial's replay, independence of threads and
//! shards, the CSV's contents, and the memory it is allowed (the first trials only, said
//! plainly, when a run is too large).

use std::path::Path;

use consortium_sim::engine::{self, Monitor, Outcomes, Precision, trace};
use consortium_sim::plan::Plan;
use consortium_sim::run::Footprint;
use consortium_sim::scenario::{self, Scenario};
use consortium_sim::stats::percentile_sorted;
use consortium_sim::summary::{Report, RunInfo, Spread};
use serde_json::{Value, json};

use crate::util::{Dir, read_json, shipped_json, sim};

fn scenario(v: Value) -> Scenario {
    scenario::from_value(&v, "test").unwrap_or_else(|e| panic!("{e}"))
}

/// Trials `first .. first + n` of `plan`, keeping the yearly savings as the run API does.
fn keeping(plan: &Plan, seed: u64, first: u64, n: usize) -> Outcomes {
    let precision = Precision::for_run(n as u64, plan);
    engine::run_keeping(plan, seed, first, n, precision, true, &Monitor::new()).unwrap()
}

fn report(s: &Scenario, seed: u64, out: &Outcomes) -> Report {
    Report::build(s, seed, out, RunInfo::new(1, 1.0, out.trials))
}

/// Three partners sharing in proportion to fixed baselines, nothing uncertain, nobody
/// leaving: every trial is the same, so every percentile is the value.
fn certain() -> Value {
    json!({
        "name": "certain",
        "horizon_years": 6,
        "discount_rate": 0.035,
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

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-9 * want.abs().max(1.0)
}

#[test]
fn without_uncertainty_every_percentile_is_the_closed_form_value() {
    let s = scenario(certain());
    let r = report(&s, 3, &keeping(&Plan::compile(&s), 3, 0, 40));
    assert_eq!(r.by_year_trials, 40);
    let (g, b, f, t_prime) = (0.15, 8_000_000.0, 300_000.0, 2_000_000.0 * 1.2);
    let ramp = |t: usize| [0.25, 0.6, 1.0][t.min(2)];
    let profile = |t: usize| [0.5, 0.3, 0.2].get(t).copied().unwrap_or(0.0);
    for (i, share) in [0.5, 2.5 / 8.0, 1.5 / 8.0].into_iter().enumerate() {
        let p = &r.partners[i];
        assert_eq!(p.by_year.len(), 6);
        let (mut cum, mut dcum, mut df) = (0.0, 0.0, 1.0);
        for (t, y) in p.by_year.iter().enumerate() {
            if t > 0 {
                df /= 1.035;
            }
            // S_i,t = w_i (g ramp_t B - F - T' profile_t).
            let saving = share * (g * ramp(t) * b - f - t_prime * profile(t));
            cum += saving;
            dcum += df * saving;
            assert_eq!(y.year, t);
            for (what, spread, want) in [
                ("cash", &y.cash, saving),
                ("cumulative cash", &y.cumulative_cash, cum),
                ("discounted", &y.discounted, df * saving),
                ("cumulative discounted", &y.cumulative_discounted, dcum),
            ] {
                let all = [spread.p05, spread.p25, spread.p50, spread.p75, spread.p95];
                assert!(
                    all.iter().all(|&x| x == spread.p05),
                    "{} year {t} {what}: percentiles differ: {all:?}",
                    p.name
                );
                assert!(
                    close(spread.mean, spread.p05),
                    "{what} mean {}",
                    spread.mean
                );
                assert!(
                    close(spread.p50, want),
                    "{} year {t} {what}: {} vs {want}",
                    p.name,
                    spread.p50
                );
            }
        }
        // The last year's cumulative discounted saving is the partner's NPV.
        assert_eq!(p.by_year[5].cumulative_discounted.p50, p.npv.p50);
    }
}

/// numpy's linear percentiles of values sorted here (not by the engine's selection).
fn brute_spread(mut values: Vec<f64>) -> Spread {
    values.sort_by(f64::total_cmp);
    let q = |p: f64| percentile_sorted(&values, p) + 0.0;
    Spread {
        p05: q(0.05),
        p25: q(0.25),
        p50: q(0.50),
        p75: q(0.75),
        p95: q(0.95),
        mean: values.iter().sum::<f64>() / values.len() as f64,
    }
}

fn assert_spread(what: &str, got: &Spread, want: &Spread) {
    let (a, b) = (
        [got.p05, got.p25, got.p50, got.p75, got.p95],
        [want.p05, want.p25, want.p50, want.p75, want.p95],
    );
    assert_eq!(a, b, "{what}: percentiles");
    // The engine's mean is compensated and in trial order; the plain sum here may differ
    // in the last bits.
    assert!(
        close(got.mean, want.mean),
        "{what}: mean {} vs {}",
        got.mean,
        want.mean
    );
}

#[test]
fn percentiles_equal_a_brute_force_recomputation_from_every_trials_replay() {
    let s = scenario(shipped_json("four_districts_back_office.json"));
    let plan = Plan::compile(&s);
    let (seed, n) = (17, 1500);
    let r = report(&s, seed, &keeping(&plan, seed, 0, n));
    let discount = s.discount.factors(plan.horizon);
    let replays: Vec<trace::Replay> = (0..n as u64)
        .map(|k| trace::replay(&plan, seed, k))
        .collect();
    for (i, p) in r.partners.iter().enumerate() {
        let mut cum = vec![0.0; n];
        let mut dcum = vec![0.0; n];
        for (t, y) in p.by_year.iter().enumerate() {
            let saving: Vec<f64> = replays
                .iter()
                .map(|rp| rp.years[t].partners[i].saving)
                .collect();
            for k in 0..n {
                cum[k] += saving[k];
                dcum[k] += discount[t] * saving[k];
            }
            let what = |f: &str| format!("{} year {t} {f}", p.name);
            assert_spread(&what("cash"), &y.cash, &brute_spread(saving.clone()));
            assert_spread(
                &what("cumulative cash"),
                &y.cumulative_cash,
                &brute_spread(cum.clone()),
            );
            let discounted = saving.iter().map(|x| discount[t] * x).collect();
            assert_spread(
                &what("discounted"),
                &y.discounted,
                &brute_spread(discounted),
            );
            assert_spread(
                &what("cumulative discounted"),
                &y.cumulative_discounted,
                &brute_spread(dcum.clone()),
            );
        }
        // The replay's NPV is the sum the engine made, so the last year's is exact.
        for (k, rp) in replays.iter().enumerate() {
            assert_eq!(dcum[k], rp.partner_npv[i], "trial {k}");
        }
    }
}

/// A report's JSON without what differs between identical runs.
fn figures(path: &Path) -> Value {
    let mut v = read_json(path);
    let o = v.as_object_mut().unwrap();
    o.remove("run");
    o.remove("provenance");
    v
}

#[test]
fn one_thread_two_threads_and_two_merged_shards_give_the_same_cash_by_year() {
    let dir = Dir::new();
    let scenario = "scenarios/four_districts_back_office.json";
    let common = ["--trials", "3000", "--seed", "4", "--quiet"];
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let (json, csv) = (
            dir.path(&format!("t{threads}.json")),
            dir.path(&format!("t{threads}.csv")),
        );
        let mut args = vec!["run", scenario, "--threads", threads];
        args.extend(common);
        args.extend([
            "--out",
            json.to_str().unwrap(),
            "--cashflow-csv",
            csv.to_str().unwrap(),
        ]);
        sim(&args).ok();
        outputs.push((json, csv));
    }
    let mut parts = Vec::new();
    for k in ["0/2", "1/2"] {
        let part = dir.path(&format!("part{}.bin", &k[..1]));
        let mut args = vec![
            "run",
            scenario,
            "--shard",
            k,
            "--partial",
            part.to_str().unwrap(),
        ];
        args.extend(common);
        sim(&args).ok();
        parts.push(part);
    }
    let (json, csv) = (dir.path("merged.json"), dir.path("merged.csv"));
    sim(&[
        "merge",
        parts[0].to_str().unwrap(),
        parts[1].to_str().unwrap(),
        "--out",
        json.to_str().unwrap(),
        "--cashflow-csv",
        csv.to_str().unwrap(),
    ])
    .ok();
    outputs.push((json, csv));
    let (first_json, first_csv) = (&outputs[0].0, &outputs[0].1);
    let by_year = figures(first_json)["partners"][0]["by_year"].clone();
    assert_eq!(by_year.as_array().unwrap().len(), 10);
    for (json, csv) in &outputs[1..] {
        assert_eq!(figures(json), figures(first_json), "{}", json.display());
        assert_eq!(
            std::fs::read(csv).unwrap(),
            std::fs::read(first_csv).unwrap()
        );
    }
}

#[test]
fn the_cashflow_csv_holds_the_reports_figures_with_names_made_safe() {
    let dir = Dir::new();
    let (json, csv) = (dir.path("r.json"), dir.path("cash.csv"));
    sim(&[
        "run",
        "scenarios/four_districts_back_office.json",
        "--trials",
        "500",
        "--quiet",
        "--set",
        "/partners/1/name=\"=HYPERLINK(1)\"",
        "--set",
        "/partners/2/name=\"'=HYPERLINK(1)\"",
        "--out",
        json.to_str().unwrap(),
        "--cashflow-csv",
        csv.to_str().unwrap(),
    ])
    .ok();
    let r = read_json(&json);
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert!(text.ends_with("\r\n"));
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header[..3], ["partner", "year", "cash_mean"]);
    assert_eq!(header.len(), 2 + 4 * 6);
    assert_eq!(header[25], "cumulative_discounted_p95");
    assert_eq!(lines.len(), 1 + 4 * 10);
    for (row, line) in lines[1..].iter().enumerate() {
        let (i, t) = (row / 10, row % 10);
        let cells: Vec<&str> = line.split(',').collect();
        let partner = &r["partners"][i];
        let name = partner["name"].as_str().unwrap();
        // The second's name, quoted, would be the third's as written: the third's own
        // quote is quoted too, so the two stay apart.
        let shown = match i {
            1 => "'=HYPERLINK(1)".to_string(),
            2 => "''=HYPERLINK(1)".to_string(),
            _ => name.to_string(),
        };
        assert_eq!(cells[0], shown);
        assert_eq!(cells[1], t.to_string());
        for (c, column) in header.iter().enumerate().skip(2) {
            let (figure, stat) = column.rsplit_once('_').unwrap();
            let want = partner["by_year"][t][figure][stat].as_f64().unwrap();
            assert_eq!(
                cells[c].parse::<f64>().unwrap(),
                want,
                "{name} year {t} {column}"
            );
        }
    }
}

#[test]
fn run_by_year_prints_a_table_per_partner() {
    let out = sim(&[
        "run",
        "scenarios/four_districts_back_office.json",
        "--trials",
        "2000",
        "--quiet",
        "--by-year",
    ]);
    out.ok();
    let text = &out.stdout;
    assert!(text.contains(
        "Cash by year: each partner's saving against going alone, in cash (undiscounted)"
    ));
    assert!(text.contains("mean, P5, P50 and P95 of 2,000 trials"));
    for name in ["Brackenfield", "Harrowmere", "Linford", "Otterby"] {
        assert!(
            text.contains(&format!("\n  {name} District Council\n")),
            "{name}"
        );
    }
    assert_eq!(text.matches("cumulative saving").count(), 4);
    assert!(text.contains("\n     9  "));
}

/// A scenario of `n` partners whose yearly savings of every trial would not fit in 64 MiB.
fn wide(n: usize) -> Scenario {
    let partners: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("P{i}"), "baseline_cost": {"uniform": [900000, 1100000]}, "withdrawal_hazard": 0.02}))
        .collect();
    scenario(json!({
        "name": "wide",
        "horizon_years": 10,
        "service": {"fixed_cost": n * 1000, "efficiency": {"pert": [0.08, 0.15, 0.22]}, "transition_cost": n * 10000},
        "partners": partners
    }))
}

#[test]
fn a_run_too_large_keeps_the_first_trials_yearly_savings_and_says_so() {
    // 200 partners x 10 years x 8 bytes: 64 MiB holds 4,194 trials.
    let s = wide(200);
    let plan = Plan::compile(&s);
    assert_eq!(engine::outcomes::cash_trial_cap(&plan), 4194);
    // The engine's plain run (which the speed guard measures) keeps none.
    assert_eq!(engine::run(&plan, 2, 0, 10).cash_trials, 0);
    let whole = keeping(&plan, 2, 0, 6000);
    assert_eq!(whole.cash_trials, 4194);
    let r = report(&s, 2, &whole);
    assert_eq!((r.trials, r.by_year_trials), (6000, 4194));
    // The figures are those of a run of the first 4,194 trials.
    let first = report(&s, 2, &keeping(&plan, 2, 0, 4194));
    for (a, b) in r.partners.iter().zip(&first.partners) {
        assert_eq!(
            serde_json::to_value(&a.by_year).unwrap(),
            serde_json::to_value(&b.by_year).unwrap()
        );
    }
    // Pieces keep what the whole run keeps: the second of these none.
    let parts = vec![keeping(&plan, 2, 0, 3000), keeping(&plan, 2, 3000, 3000)];
    assert_eq!((parts[0].cash_trials, parts[1].cash_trials), (3000, 1194));
    assert_eq!(Outcomes::join(parts), whole);
    let text = consortium_sim::export::terminal::by_year(&r, &s);
    assert!(
        text.contains("of the first 4,194 of the 6,000 trials (a run this large keeps the yearly savings of the first 4,194 only)"),
        "{text}"
    );
}

#[test]
fn ten_million_trials_of_the_eight_partner_scenario_stay_under_1_gib() {
    let s = scenario(shipped_json("eight_councils_revenues_benefits.json"));
    let plan = Plan::compile(&s);
    // 8 partners x 10 years x 8 bytes = 640 bytes a trial kept; 104,857 trials fit in
    // 64 MiB, more than the default 100,000.
    assert_eq!(engine::outcomes::cash_trial_cap(&plan), 104_857);
    assert_eq!(engine::outcomes::cash_bytes(&plan, 100_000), 64_000_000);
    assert_eq!(
        engine::outcomes::cash_bytes(&plan, 10_000_000),
        104_857 * 640
    );
    let without = Footprint::run(&s, &plan, 10_000_000, 2, false);
    assert!(without.total() < 1 << 30, "{} bytes", without.total());
    let page = Footprint::run(&s, &plan, 10_000_000, 2, true);
    assert!(page.total() < 1 << 30, "{} bytes", page.total());
}
