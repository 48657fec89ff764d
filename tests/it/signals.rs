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

/// Waits for `child` to end, at most `limit` (a guard against a hang, not a speed
/// test); a child still running then is killed and the test fails.
fn wait_bounded(mut child: Child, limit: Duration) -> (Option<i32>, String) {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running {limit:?} after the signal");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn kill(signal: &str, child: &Child) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Polls (for at most a minute) until `ready` holds.
fn until(what: &str, ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(60), "never {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The files in `dir` that are not `known`.
fn others(dir: &Path, known: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !known.contains(&n.as_str()))
        .collect()
}

/// The first SIGTERM ends a command still reading its scenario from a FIFO (as
/// `run <(cat s.json)` does), where nothing watches for a cancelled run yet.
#[test]
fn sigterm_while_a_fifo_scenario_is_read_ends_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("scenario.json");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let report = dir.path().join("report.json");
    let child = start(fifo.to_str().unwrap(), &report);
    std::thread::sleep(Duration::from_millis(700));
    kill("-TERM", &child);
    let (code, stderr) = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(stderr, "interrupted: nothing was written\n");
    assert_eq!(others(dir.path(), &["scenario.json"]), Vec::<String>::new());
}

/// Interrupted while the trial table streams to stdout (`--trials-csv -`), after the
/// JSON report is in place: the message names exactly what was written.
#[test]
fn an_interrupted_stream_is_reported_with_the_files_already_written() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let mut child = bin()
        .args([
            "run",
            "scenarios/four_districts_back_office.json",
            "--trials",
            "20000",
            "--trials-csv",
            "-",
            "--out",
        ])
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The report is renamed into place before the table streams, and the table (about
    // 1 MB) stops when the pipe is full, as nobody reads it yet.
    until("wrote the report", || report.exists());
    // Wait for the table to start (its first bytes are in the pipe), so that the
    // signal lands while it streams rather than just before.
    let mut stdout = child.stdout.take().unwrap();
    let mut table = vec![0u8; 10];
    std::io::Read::read_exact(&mut stdout, &mut table).unwrap();
    kill("-INT", &child);
    std::io::Read::read_to_end(&mut stdout, &mut table).unwrap();
    let (code, stderr) = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "wrote {r} (20,000 trials, mean NPV £2,875,730)\n\
             interrupted: wrote {r}; standard output cut short; nothing else was written\n",
            r = report.display()
        )
    );
    assert!(table.starts_with(b"trial,npv,"));
    let rows = table.iter().filter(|&&b| b == b'\n').count();
    assert!(rows < 20_001, "the table was cut short: {rows} lines");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["trials"], 20_000);
    assert_eq!(others(dir.path(), &["report.json"]), Vec::<String>::new());
}

/// Two quick signals while a large trial table is written (the second ends the process
/// at once) leave no temporary file, the earlier table as it was, and say so.
#[test]
fn two_signals_during_the_trial_table_leave_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    // 40 partners over 5 years: quick to simulate, 300,000 rows of 40 NPVs to write.
    let partners: Vec<_> = (0..40)
        .map(|i| json!({"name": format!("P{i}"), "baseline_cost": {"uniform": [1e6, 2e6]}}))
        .collect();
    let s = json!({
        "name": "wide",
        "horizon_years": 5,
        "trials": 300_000,
        "service": {"efficiency": {"pert": [0.05, 0.1, 0.2]}},
        "partners": partners
    });
    let scenario = dir.path().join("wide.json");
    std::fs::write(&scenario, s.to_string()).unwrap();
    let csv = dir.path().join("trials.csv");
    std::fs::write(&csv, "earlier\n").unwrap();
    let child = bin()
        .args(["run", scenario.to_str().unwrap(), "--trials-csv"])
        .arg(&csv)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let known = ["wide.json", "trials.csv"];
    let temp_in_use = || {
        others(dir.path(), &known)
            .iter()
            .any(|n| std::fs::metadata(dir.path().join(n)).is_ok_and(|m| m.len() > 1_000_000))
    };
    until("started the table", temp_in_use);
    kill("-INT", &child);
    kill("-INT", &child);
    let (code, stderr) = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr
            .lines()
            .all(|l| l == "interrupted: nothing was written"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "earlier\n");
    assert_eq!(others(dir.path(), &known), Vec::<String>::new());
}
