//! Latin hypercube sampling (`--sampling lhs`): each block of 1,024 trials gives every
//! input each of its 1,024 strata once; estimates agree with plain sampling in
//! distribution; the mean NPV's variance across seeds is smaller, and the standard
//! error a report gives is the spread it estimates; threads, shards and precision
//! targets give one report, as with plain sampling.

use consortium_sim::engine;
use consortium_sim::lhs::{self, BLOCK, Sampling};
use consortium_sim::plan::{self, Plan};
use consortium_sim::scenario;
use consortium_sim::stats;
use serde_json::{Value, json};

use crate::util::{Dir, bin, f, ok, read_json, shipped, shipped_names, sim};

fn plan_of(name: &str, sampling: Sampling) -> Plan {
    let s = scenario::load_file(std::path::Path::new(&shipped(name))).unwrap();
    let mut plan = Plan::compile(&s);
    plan.sampling = sampling;
    plan
}

/// The report's text before its `run` block (the only part that may differ between
/// identical runs).
fn before_run(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text[..text.find("  \"run\": {").expect("a run block")].to_string()
}

#[test]
fn every_block_gives_each_input_every_stratum_once() {
    // The efficiency, made uniform on [0.1, 0.3], and a partner's baseline, made
    // uniform too: a value's stratum is floor(1,024 x its CDF).
    let mut v: Value = read_json(std::path::Path::new(&shipped(
        "four_districts_back_office.json",
    )));
    v["service"]["efficiency"] = json!({"uniform": [0.1, 0.3]});
    v["partners"][1]["baseline_cost"] = json!({"uniform": [4e6, 5e6]});
    let s = scenario::from_value(&v, "test").unwrap();
    let mut plan = Plan::compile(&s);
    plan.sampling = Sampling::Lhs;
    let baseline = Plan::partner_input(1, plan::BASELINE);
    let mut inputs = vec![0.0; plan.inputs.len()];
    for block in [0u64, 3] {
        let mut seen = [vec![false; BLOCK as usize], vec![false; BLOCK as usize]];
        for k in block * BLOCK..(block + 1) * BLOCK {
            plan.sample_inputs(9, k, &mut inputs);
            let u = [
                (inputs[plan::EFFICIENCY] - 0.1) / 0.2,
                (inputs[baseline] - 4e6) / 1e6,
            ];
            for (seen, u) in seen.iter_mut().zip(u) {
                let stratum = (u * BLOCK as f64) as usize;
                assert!(!seen[stratum], "block {block}: stratum {stratum} twice");
                seen[stratum] = true;
            }
        }
    }
    // Plain sampling gives no such guarantee: some stratum is hit twice in a block.
    plan.sampling = Sampling::Plain;
    let mut seen = vec![false; BLOCK as usize];
    let twice = (0..BLOCK).any(|k| {
        plan.sample_inputs(9, k, &mut inputs);
        let s = ((inputs[plan::EFFICIENCY] - 0.1) / 0.2 * BLOCK as f64) as usize;
        std::mem::replace(&mut seen[s], true)
    });
    assert!(twice);
}

#[test]
fn lhs_and_plain_agree_in_distribution_on_every_shipped_scenario() {
    // Mean NPV, P(loss) and every partner's mean NPV, within 4 combined standard errors
    // (each method's own: the LHS report's from its blocks).
    for name in shipped_names() {
        let figures = |sampling: Sampling, seed: u64| {
            let dir = Dir::new();
            let out = dir.path("r.json");
            ok(bin()
                .args(["run", &shipped(&name), "--quiet", "--trials", "32768"])
                .args(["--seed", &seed.to_string(), "--sampling", sampling.name()])
                .arg("--out")
                .arg(&out)
                .output()
                .unwrap());
            read_json(&out)
        };
        let (a, b) = (figures(Sampling::Plain, 1), figures(Sampling::Lhs, 2));
        let z = |mean: &str, se: &str| (f(&a, mean) - f(&b, mean)) / f(&a, se).hypot(f(&b, se));
        let z_npv = z("/consortium/npv/mean", "/consortium/npv/se");
        assert!(z_npv.abs() < 4.0, "{name}: mean NPV z = {z_npv}");
        let loss = |r: &Value| {
            let p = f(r, "/consortium/prob_npv_negative/estimate");
            let [lo, hi] = [0, 1].map(|i| f(r, &format!("/consortium/prob_npv_negative/ci95/{i}")));
            (p, (hi - lo) / 2.0 / 1.96)
        };
        let ((pa, sa), (pb, sb)) = (loss(&a), loss(&b));
        if sa.hypot(sb) > 0.0 {
            let z_loss = (pa - pb) / sa.hypot(sb);
            assert!(z_loss.abs() < 4.0, "{name}: P(loss) z = {z_loss}");
        }
        for i in 0..a["partners"].as_array().unwrap().len() {
            let z_i = z(
                &format!("/partners/{i}/npv/mean"),
                &format!("/partners/{i}/npv/se"),
            );
            assert!(z_i.abs() < 4.0, "{name}: partner {i} z = {z_i}");
        }
    }
}

#[test]
fn lhs_shrinks_the_mean_npvs_variance_and_its_reported_se_is_honest() {
    // Four districts, 200 seeds of 64 blocks each way (the fewest a reported LHS standard
    // error is estimated from). benches/sampling.rs measures the variance ratio at 1.93
    // (95 % interval 1.59-2.35 over 400 seeds); with 200 seeds the ratio's log has a
    // standard deviation of sqrt(4 / 199) = 0.14, so 1.25 is 3.1 of them below 1.93
    // (the seeds are fixed, so the test does not flake; sampling that gained nothing
    // would read about 1). The reports' mean standard error against the LHS means'
    // spread: the spread's log has a standard deviation of 0.05, so 0.8-1.25 is 4 of
    // them either side (plain standard errors would read about sqrt(1.93) = 1.39).
    let trials = (lhs::MIN_BLOCKS * BLOCK) as usize;
    let seeds = 200u64;
    let variance = |v: &[f64]| {
        let s = stats::sd(v, stats::mean(v));
        s * s
    };
    let mut spread = Vec::new();
    let mut reported = Vec::new();
    for sampling in [Sampling::Plain, Sampling::Lhs] {
        let plan = plan_of("four_districts_back_office.json", sampling);
        let mut means = Vec::new();
        for seed in 0..seeds {
            let out = engine::run(&plan, 500 + seed, 0, trials);
            means.push(stats::mean(&out.npv));
            if sampling == Sampling::Lhs {
                reported.push(stats::lhs_standard_error(&out.npv).unwrap());
            }
        }
        spread.push(variance(&means));
    }
    let ratio = spread[0] / spread[1];
    assert!(ratio > 1.25, "variance ratio {ratio}");
    let honest = stats::mean(&reported) / spread[1].sqrt();
    assert!(
        (0.8..1.25).contains(&honest),
        "reported / actual SE {honest}"
    );
}

#[test]
fn threads_and_shards_give_one_lhs_report() {
    let dir = Dir::new();
    let scenario = shipped("social_care_informal.json");
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path(name);
        ok(bin()
            .args([
                "run", &scenario, "--quiet", "--trials", "70000", "--seed", "4",
            ])
            .args(["--sampling", "lhs"])
            .args(extra)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap());
        out
    };
    let one = run("one.json", &["--threads", "1"]);
    let two = run("two.json", &["--threads", "2"]);
    assert_eq!(before_run(&one), before_run(&two));
    let text = std::fs::read_to_string(&one).unwrap();
    assert!(text.contains("\"method\": \"lhs\""), "{text}");
    assert!(text.contains("\"standard_errors\": \"block_means\""));

    let mut parts = Vec::new();
    for k in 0..3 {
        let part = dir.path(&format!("part{k}.bin"));
        ok(bin()
            .args([
                "run", &scenario, "--quiet", "--trials", "70000", "--seed", "4",
            ])
            .args([
                "--sampling",
                "lhs",
                "--shard",
                &format!("{k}/3"),
                "--partial",
            ])
            .arg(&part)
            .output()
            .unwrap());
        parts.push(part);
    }
    // An LHS partial result has its own format version, which engines from before
    // --sampling refuse rather than merge as plain.
    let bytes = std::fs::read(&parts[0]).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("\"format_version\":3"), "{}", &text[..200]);
    let merged = dir.path("merged.json");
    ok(bin()
        .arg("merge")
        .args(&parts)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap());
    assert_eq!(before_run(&merged), before_run(&one));

    // A shard of a plain run does not merge with shards of an LHS run.
    let plain = dir.path("plain.bin");
    ok(bin()
        .args([
            "run", &scenario, "--quiet", "--trials", "70000", "--seed", "4",
        ])
        .args(["--shard", "0/3", "--partial"])
        .arg(&plain)
        .output()
        .unwrap());
    let text = String::from_utf8_lossy(&std::fs::read(&plain).unwrap()).into_owned();
    assert!(text.contains("\"format_version\":2"), "{}", &text[..200]);
    let out = bin()
        .arg("merge")
        .arg(&plain)
        .args(&parts[1..])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("used --sampling plain"), "{err}");
    assert!(err.contains("used --sampling lhs"), "{err}");
}

#[test]
fn a_plain_report_has_no_sampling_key_and_an_lhs_one_says_how_it_sampled() {
    let dir = Dir::new();
    let scenario = shipped("four_districts_back_office.json");
    let out = dir.path("plain.json");
    ok(bin()
        .args(["run", &scenario, "--quiet", "--trials", "2000", "--out"])
        .arg(&out)
        .output()
        .unwrap());
    assert!(read_json(&out).get("sampling").is_none());
    // Under 64 blocks: plain standard errors, and the report says so.
    let r = sim(&[
        "run",
        &scenario,
        "--quiet",
        "--trials",
        "2000",
        "--sampling",
        "lhs",
    ]);
    r.ok();
    assert!(
        r.stdout.contains(
            "Latin hypercube sampling in blocks of 1,024 trials; standard errors as if the \
             trials were independent, which errs on the safe side (fewer than 64 whole \
             blocks to estimate them from)"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn an_unknown_sampling_method_is_refused_by_name() {
    let scenario = shipped("four_districts_back_office.json");
    sim(&["run", &scenario, "--sampling", "sobol"])
        .bad_input()
        .stderr_has("unknown sampling method \"sobol\"; expected plain or lhs");
}

#[test]
fn lhs_reaches_a_target_se_with_fewer_trials() {
    // Four districts at --target-se 5000: plain sampling needs about 274,000 trials, LHS
    // about 1.8 times fewer (benches/sampling.rs).
    let scenario = shipped("four_districts_back_office.json");
    let used = |sampling: &str| {
        let dir = Dir::new();
        let out = dir.path("r.json");
        ok(bin()
            .args(["run", &scenario, "--quiet", "--target-se", "5000"])
            .args(["--sampling", sampling, "--out"])
            .arg(&out)
            .output()
            .unwrap());
        let r = read_json(&out);
        assert_eq!(r["run"]["target_reached"], json!(true));
        assert!(f(&r, "/consortium/npv/se") <= 5000.0);
        r["run"]["trials_used"].as_u64().unwrap()
    };
    let (plain, lhs) = (used("plain"), used("lhs"));
    assert!(lhs < plain, "LHS {lhs} trials, plain {plain}");
    assert_eq!(lhs % BLOCK, 0, "an LHS run stops at whole blocks: {lhs}");
}

#[test]
fn an_lhs_target_is_judged_on_plain_figures_before_the_blocks_suffice() {
    // A target the first checkpoint meets: under LHS that is 10 whole blocks, fewer than
    // the 64 a block estimate needs, so the verdict (like the report) rests on the plain
    // standard error, which overstates an LHS run's noise rather than understating it.
    let dir = Dir::new();
    let out = dir.path("r.json");
    let scenario = shipped("four_districts_back_office.json");
    ok(bin()
        .args(["run", &scenario, "--quiet", "--target-se", "100000"])
        .args(["--sampling", "lhs", "--out"])
        .arg(&out)
        .output()
        .unwrap());
    let r = read_json(&out);
    assert_eq!(r["run"]["trials_used"], json!(10_240));
    assert_eq!(r["run"]["checkpoints"], json!([10_240]));
    assert_eq!(r["run"]["target_reached"], json!(true));
    assert_eq!(
        r["sampling"]["standard_errors"],
        json!("independent_trials")
    );
}

#[test]
fn a_trace_says_it_sampled_by_latin_hypercube() {
    // Trial k draws other inputs under LHS than under plain sampling, so the story names
    // its sampling, whether the trial was picked or asked for by number.
    let scenario = shipped("four_districts_back_office.json");
    let picked = sim(&[
        "trace",
        &scenario,
        "--worst",
        "--trials",
        "2000",
        "--sampling",
        "lhs",
        "--quiet",
    ]);
    picked.ok();
    let first = picked.stdout.lines().next().unwrap_or_default();
    assert!(
        first.ends_with("of 2,000 trials, seed 1, Latin hypercube sampling)"),
        "{first}"
    );
    let asked = sim(&["trace", &scenario, "--trial", "5", "--sampling", "lhs"]);
    asked.ok();
    assert!(
        asked.stdout.starts_with(
            "Four districts: shared HR, payroll and finance: trial 5 (Latin hypercube sampling)\n"
        ),
        "{}",
        asked.stdout
    );
    let plain = sim(&["trace", &scenario, "--trial", "5"]);
    plain.ok();
    assert!(
        plain
            .stdout
            .starts_with("Four districts: shared HR, payroll and finance: trial 5\n"),
        "{}",
        plain.stdout
    );
}

#[test]
fn an_analysis_says_it_sampled_by_latin_hypercube() {
    let scenario = shipped("four_districts_back_office.json");
    let dir = Dir::new();
    let out = dir.path("sweep.json");
    let r = sim(&[
        "sweep",
        &scenario,
        "--quiet",
        "--trials",
        "2048",
        "--sampling",
        "lhs",
        "--param",
        "/service/efficiency=0.1,0.2",
        "--out",
        out.to_str().unwrap(),
    ]);
    r.ok();
    assert!(
        r.stdout.contains(
            "2 points of 2,048 trials each, seed 1, Latin hypercube sampling \
                       (standard errors as if the trials were independent, which errs on the \
                       safe side: fewer than 64 whole blocks of 1,024 trials)"
        ),
        "{}",
        r.stdout
    );
    assert_eq!(read_json(&out)["provenance"]["sampling"], json!("lhs"));
    // A plain analysis's provenance is as before: no sampling key.
    let plain = sim(&[
        "sweep",
        &scenario,
        "--quiet",
        "--trials",
        "2048",
        "--param",
        "/service/efficiency=0.1,0.2",
        "--out",
        out.to_str().unwrap(),
    ]);
    plain.ok();
    assert!(!plain.stdout.contains("Latin hypercube"));
    assert!(read_json(&out)["provenance"].get("sampling").is_none());
}
