//! Interruption: a real SIGINT or SIGTERM sent to a real `consortium-sim run` stops it
//! with exit code 130, writes nothing, and leaves an earlier report at the same path as
//! it was.

#![cfg(unix)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::util::bin;

/// A scenario that takes many seconds to run but little memory: 30 partners over 100
/// years is 3,000 partner-years a trial, and nobody ever leaves.
fn slow_scenario(dir: &Path) -> String {
    let partners: Vec<_> = (0..30)
        .map(|i| json!({"name": format!("P{i}"), "baseline_cost": {"uniform": [1e6, 2e6]}}))
        .collect();
    let s = json!({
        "name": "slow",
        "horizon_years": 100,
        "trials": 2_000_000,
        "service": {"efficiency": {"pert": [0.05, 0.1, 0.2]}, "efficiency_noise_sd": 0.01},
        "partners": partners
    });
    let path = dir.join("slow.json");
    std::fs::write(&path, s.to_string()).unwrap();
    path.display().to_string()
}

fn start(scenario: &str, out: &Path) -> Child {
    bin()
        .args(["run", scenario, "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends `signal` once the run is under way, and returns the exit code and stderr.
fn interrupt(child: Child, signal: &str) -> (Option<i32>, String) {
    std::thread::sleep(Duration::from_millis(700));
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let sent = Instant::now();
    let out = child.wait_with_output().unwrap();
    // A guard against a hang, not a speed test: stopping takes well under a second.
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "took {:?}",
        sent.elapsed()
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn check(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = slow_scenario(dir.path());
    let report = dir.path().join("report.json");
    std::fs::write(&report, "{\"earlier\": true}\n").unwrap();
    let (code, stderr) = interrupt(start(&scenario, &report), signal);
    assert_eq!(code, Some(130), "stderr: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&report).unwrap(),
        "{\"earlier\": true}\n"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left behind: {names:?}");
}

#[test]
fn sigint_stops_the_run_and_keeps_the_earlier_report() {
    check("-INT");
}

#[test]
fn sigterm_stops_the_run_and_keeps_the_earlier_report() {
    check("-TERM");
}

#[test]
fn sigint_without_an_earlier_report_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = slow_scenario(dir.path());
    let report = dir.path().join("new.json");
    let (code, _) = interrupt(start(&scenario, &report), "-INT");
    assert_eq!(code, Some(130));
    assert!(!report.exists());
}

/// Output piped into a reader that has gone (`| head`) ends the process quietly, as it
/// would `cat`; it never panics.
#[test]
fn a_closed_stdout_pipe_ends_the_process_without_a_panic() {
    for args in [
        &["validate", "scenarios/four_districts_back_office.json"][..],
        &[
            "run",
            "scenarios/four_districts_back_office.json",
            "--trials",
            "500",
        ][..],
        &["init"][..],
    ] {
        let mut child = bin()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
