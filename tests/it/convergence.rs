//! Runs with a precision target (`run --target-se`, `--target-prob-ci`): they stop at the
//! first checkpoint where every target is met (10,000 trials, or the scenario's `trials`
//! if fewer, then as many as each checkpoint projects, capped at `--max-trials`); the report
//! is the plain run of the trials used, byte for byte apart from `run`, whatever the
//! threads; a target out of reach stops at `--max-trials` and says so; what cannot go
//! with a target is refused with exit code 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::util::{bad_input as refused, bin, f as f64_at, ok, read_json};

/// Standard deviation of NPV about £5.2m: a target SE of £25,000 needs about 43,000
/// trials.
const SCENARIO: &str = "scenarios/social_care_informal.json";

/// Runs `run SCENARIO ARGS --out FILE` and returns the report's path.
fn report(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    ok(bin()
        .args(["run", SCENARIO, "--quiet"])
        .args(args)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap());
    out
}

/// The report's text up to its `run` block (the last key, and the only part allowed to
/// differ).
fn before_run(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let end = text.find("  \"run\": {").expect("a run block");
    text[..end].to_string()
}

#[test]
fn a_reached_target_se_stops_at_the_first_checkpoint_that_meets_it() {
    let dir = tempfile::tempdir().unwrap();
    let r = read_json(&report(
        dir.path(),
        "target.json",
        &["--target-se", "25000", "--seed", "5"],
    ));
    let trials = r["trials"].as_u64().unwrap();
    assert_eq!(r["run"]["trials_used"], json!(trials));
    assert_eq!(r["run"]["target_reached"], json!(true));
    assert_eq!(r["run"]["target_se"], json!(25000.0));
    assert_eq!(r["run"]["max_trials"], json!(10_000_000));
    assert!(r["run"].get("target_prob_ci").is_none());
    assert!(r["consortium"]["npv"]["se"].as_f64().unwrap() <= 25000.0);
    // The checkpoints: 10,000, then each projected from the one before, the last the
    // trials used; the one before the last did not meet the target.
    let checkpoints: Vec<u64> = serde_json::from_value(r["run"]["checkpoints"].clone()).unwrap();
    assert_eq!(checkpoints[0], 10_000, "{checkpoints:?}");
    assert_eq!(*checkpoints.last().unwrap(), trials);
    assert!((40_000..60_000).contains(&trials), "{checkpoints:?}");
    for pair in checkpoints.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        assert!(after > before && after <= 2 * before, "{checkpoints:?}");
        let r = read_json(&report(
            dir.path(),
            "before.json",
            &["--trials", &before.to_string(), "--seed", "5"],
        ));
        let se = r["consortium"]["npv"]["se"].as_f64().unwrap();
        assert!(se > 25000.0, "{before}: {se}");
        // Projected: a tenth more than (se / target)^2 times the trials, in whole
        // blocks of 1,024, at least a tenth more and at most double.
        let projected = (before as f64 * (se / 25000.0).powi(2) * 1.1)
            .clamp(before as f64 * 1.1, before as f64 * 2.0)
            .ceil() as u64;
        assert_eq!(after, (projected.div_ceil(1024) * 1024).min(2 * before));
    }
}

#[test]
fn the_report_is_the_plain_run_of_the_trials_used() {
    let dir = tempfile::tempdir().unwrap();
    let csv = |name: &str| dir.path().join(name);
    let target = report(
        dir.path(),
        "target.json",
        &[
            "--target-prob-ci",
            "0.004",
            "--seed",
            "8",
            "--trials-csv",
            csv("target.csv").to_str().unwrap(),
        ],
    );
    let used = read_json(&target)["run"]["trials_used"].to_string();
    assert_ne!(used, "10000", "the target should need more than one block");
    let plain = report(
        dir.path(),
        "plain.json",
        &[
            "--trials",
            &used,
            "--seed",
            "8",
            "--trials-csv",
            csv("plain.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(before_run(&target), before_run(&plain));
    assert!(read_json(&plain)["run"].get("trials_used").is_none());
    let read = |name| std::fs::read(csv(name)).unwrap();
    assert!(
        read("target.csv") == read("plain.csv"),
        "trial tables differ"
    );
}

#[test]
fn the_stopping_point_and_report_do_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let args = |threads| {
        [
            "--target-se",
            "30000",
            "--target-prob-ci",
            "0.005",
            "--seed",
            "2",
            "--threads",
            threads,
        ]
    };
    let one = report(dir.path(), "one.json", &args("1"));
    let two = report(dir.path(), "two.json", &args("2"));
    assert_eq!(before_run(&one), before_run(&two));
    let (one, two) = (read_json(&one), read_json(&two));
    for key in ["trials_used", "max_trials", "target_reached"] {
        assert_eq!(one["run"][key], two["run"][key], "{key}");
    }
    assert_eq!(one["run"]["threads"], json!(1));
}

/// Runs `run SCENARIO ARGS --out FILE`, which must exit with code 3 (target not met, the
/// report written all the same), and returns the report.
fn not_met(dir: &Path, name: &str, args: &[&str]) -> serde_json::Value {
    let out = dir.join(name);
    let status = bin()
        .args(["run", SCENARIO, "--quiet"])
        .args(args)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3), "{args:?}");
    read_json(&out)
}

#[test]
fn an_unreachable_target_stops_at_max_trials_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let r = not_met(
        dir.path(),
        "far.json",
        &["--target-se", "1", "--max-trials", "25000"],
    );
    assert_eq!(r["trials"], json!(25_000));
    assert_eq!(r["run"]["trials_used"], json!(25_000));
    assert_eq!(r["run"]["max_trials"], json!(25_000));
    assert_eq!(r["run"]["target_reached"], json!(false));
    assert_eq!(r["run"]["target_judged"], json!(true));

    let out = bin()
        .args(["run", SCENARIO, "--quiet", "--target-se", "1"])
        .args(["--max-trials", "25000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("25,000 trials, seed 1"), "{text}");
    assert!(
        text.contains("Target NOT met: stopped at its cap of 25,000 trials"),
        "{text}"
    );
}

#[test]
fn a_missed_standard_error_is_not_met_while_p_loss_waits_for_losses() {
    // At 90 % efficiency 2,000 trials hold 9 losses, too few to judge P(loss); the
    // standard error target of £1 is judged and plainly missed, so the run says "not
    // met" and by how much, rather than "could not be judged".
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--set",
        "/service/efficiency=0.9",
        "--target-se",
        "1",
        "--target-prob-ci",
        "0.2",
        "--max-trials",
        "2000",
    ];
    let r = not_met(dir.path(), "both.json", &args);
    assert_eq!(r["run"]["target_judged"], json!(true));
    assert_eq!(r["run"]["checkpoints"], json!([2000]));
    let out = bin()
        .args(["run", SCENARIO, "--quiet"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Target NOT met: stopped at its cap of 2,000 trials: standard error £"),
        "{text}"
    );
}

#[test]
fn an_lhs_cap_is_whole_blocks() {
    // Under LHS a --max-trials that is not whole blocks is taken down to whole blocks
    // (trials after the last one would make the mean noisier), and the run says so.
    let out = bin()
        .args(["run", SCENARIO, "--quiet", "--sampling", "lhs"])
        .args(["--target-se", "1", "--max-trials", "20000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("--max-trials 20,000 taken as 19,456, whole blocks of 1,024 trials"),
        "{err}"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Target NOT met: stopped at its cap of 19,456 trials"),
        "{text}"
    );
}

#[test]
fn the_default_lhs_cap_is_whole_blocks_without_blaming_memory() {
    // 10,000,000 is not whole blocks: under LHS the default cap is 9,999,360, and the
    // memory guard, which allows far more of this scenario, is not said to set it.
    let out = bin()
        .args(["run", SCENARIO, "--quiet", "--sampling", "lhs"])
        .args(["--target-se", "1000000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("memory guard"), "{err}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("(at most 9,999,360)"), "{text}");
}

#[test]
fn a_p_loss_target_is_printed_to_two_significant_digits() {
    // 0.04 % is not "0.00%".
    let out = bin()
        .args(["run", SCENARIO, "--quiet", "--target-prob-ci", "0.0004"])
        .args(["--max-trials", "1000"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("(target 0.040%)"), "{text}");
}

#[test]
fn no_target_is_judged_before_a_checkpoint_of_a_thousand_trials() {
    // One trial has a standard error of 0: it used to "meet" any target.
    let dir = tempfile::tempdir().unwrap();
    let r = read_json(&report(
        dir.path(),
        "one.json",
        &["--set", "/trials=1", "--target-se", "1e12"],
    ));
    assert_eq!(r["trials"], json!(1000));
    assert_eq!(r["run"]["target_reached"], json!(true));
    assert_eq!(r["run"]["target_judged"], json!(true));
    // The same, asked of the terminal summary.
    let out = ok(bin()
        .args(["run", SCENARIO, "--quiet", "--set", "/trials=1"])
        .args(["--target-se", "1e12"])
        .output()
        .unwrap());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Target met after 1,000 trials (at most 10,000,000)"),
        "{text}"
    );
    // Fewer than that cannot be asked for.
    refused(
        bin()
            .args(["run", SCENARIO, "--quiet", "--target-se", "5000"])
            .args(["--max-trials", "999"])
            .output()
            .unwrap(),
        "--max-trials must be at least 1,000 with a target: fewer trials cannot judge it",
    );
}

#[test]
fn a_loss_interval_is_not_judged_on_fewer_than_thirty_losses() {
    // At 90 % efficiency losses are rare: 2,000 trials hold too few to judge P(loss)'s
    // interval, however narrow it looks, so the target is not met and the run says why.
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--set",
        "/service/efficiency=0.9",
        "--target-prob-ci",
        "0.2",
        "--max-trials",
        "2000",
    ];
    let r = not_met(dir.path(), "rare.json", &args);
    assert_eq!(r["trials"], json!(2000));
    assert_eq!(r["run"]["target_reached"], json!(false));
    assert_eq!(r["run"]["target_judged"], json!(false));
    let losses = (f64_at(&r, "/consortium/prob_npv_negative/estimate") * 2000.0).round();
    let out = bin()
        .args(["run", SCENARIO, "--quiet"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(losses, 9.0);
    let why = "Target NOT met: it could not be judged, stopped at its cap of 2,000 trials: 9 \
               losses and 1,991 trials without one are too few to judge a P(loss) interval (it \
               needs at least 30 of each); P(loss) 95% CI half-width 0.31% (target 20.00%)";
    assert!(text.contains(why), "{text}");
    // Without the cap, the run goes on until there are 30 losses, then judges.
    let r = read_json(&report(
        dir.path(),
        "enough.json",
        &[
            "--set",
            "/service/efficiency=0.9",
            "--target-prob-ci",
            "0.2",
        ],
    ));
    let n = r["trials"].as_f64().unwrap();
    let losses = (f64_at(&r, "/consortium/prob_npv_negative/estimate") * n).round();
    assert!(losses >= 30.0, "{losses} of {n}");
    assert_eq!(r["run"]["target_reached"], json!(true));
}

#[test]
fn the_terminal_summary_says_when_the_target_was_met() {
    let out = ok(bin()
        .args(["run", SCENARIO, "--quiet", "--target-prob-ci", "0.2"])
        .output()
        .unwrap());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Target met after 10,000 trials (at most 10,000,000): P(loss) 95% CI"),
        "{text}"
    );
}

#[test]
fn the_first_block_is_the_scenarios_trials_when_fewer() {
    let dir = tempfile::tempdir().unwrap();
    let r = read_json(&report(
        dir.path(),
        "small.json",
        &["--set", "/trials=3000", "--target-se", "1e12"],
    ));
    assert_eq!(r["trials"], json!(3000));
    assert_eq!(r["run"]["target_reached"], json!(true));
}

#[test]
fn what_cannot_go_with_a_target_is_refused() {
    let run = |args: &[&str]| {
        bin()
            .args(["run", SCENARIO, "--quiet"])
            .args(args)
            .output()
            .unwrap()
    };
    refused(
        run(&["--target-se", "0"]),
        "--target-se must be a positive amount",
    );
    refused(
        run(&["--target-se", "-5"]),
        "--target-se must be a positive amount",
    );
    refused(
        run(&["--target-se", "inf"]),
        "--target-se must be a positive amount",
    );
    refused(run(&["--target-prob-ci", "0"]), "--target-prob-ci must be");
    refused(
        run(&["--target-prob-ci", "0.5"]),
        "--target-prob-ci must be",
    );
    refused(
        run(&["--target-se", "100", "--trials", "1000"]),
        "--trials cannot be used with --target-se",
    );
    refused(
        run(&[
            "--target-prob-ci",
            "0.01",
            "--shard",
            "0/2",
            "--partial",
            "p.bin",
        ]),
        "cannot be used with --shard",
    );
    refused(run(&["--max-trials", "1000"]), "--max-trials goes with");
    refused(
        run(&["--target-se", "100", "--max-trials", "0"]),
        "--max-trials must be at least 1,000 with a target",
    );
    // A cap the memory guard would set below the thousand trials a verdict needs is
    // refused as --max-trials 999 is, not run to a certain "not judged".
    refused(
        run(&["--target-se", "1", "--max-memory", "8M"]),
        "the memory guard allows at most",
    );
    // The memory guard checks --max-trials before anything runs.
    refused(
        run(&[
            "--target-se",
            "100",
            "--max-trials",
            "100000000",
            "--max-memory",
            "64M",
        ]),
        "lower --max-trials",
    );
}

/// Ctrl-C during a run with a target stops it between or within blocks, with exit code
/// 130 and nothing written.
#[cfg(unix)]
#[test]
fn sigint_stops_a_run_with_a_target() {
    let dir = tempfile::tempdir().unwrap();
    // 30 partners over 100 years: slow enough to be interrupted, and the target cannot
    // be met.
    let partners: Vec<_> = (0..30)
        .map(|i| json!({"name": format!("P{i}"), "baseline_cost": {"uniform": [1e6, 2e6]}}))
        .collect();
    let scenario = dir.path().join("slow.json");
    let s = json!({
        "name": "slow",
        "horizon_years": 100,
        "service": {"efficiency": {"pert": [0.05, 0.1, 0.2]}, "efficiency_noise_sd": 0.01},
        "partners": partners
    });
    std::fs::write(&scenario, s.to_string()).unwrap();
    let out = dir.path().join("report.json");
    let child = bin()
        .arg("run")
        .arg(&scenario)
        .args([
            "--target-se",
            "1",
            "--max-trials",
            "300000",
            "--max-memory",
            "1G",
            "--out",
        ])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let sent = Instant::now();
    let result = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "{:?}",
        sent.elapsed()
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(130), "stderr: {stderr}");
    assert!(!out.exists());
}
