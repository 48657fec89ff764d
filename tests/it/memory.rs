//! Bounded resources: the memory guard counts what a command holds beyond its outcomes
//! (a very wide scenario is refused under a limit its outcomes alone fit in) and guards
//! every command that can grow; inputs, `--max-memory` and `--threads` are capped with a
//! clear message. The estimate's accuracy against measured peak memory is checked by
//! `tests/memory/measure.sh`, which needs `/usr/bin/time` and a minute; these tests only
//! check what is refused, never a time.

use std::fs::File;
use std::process::Stdio;

use serde_json::{Value, json};

use crate::util::{Dir, bin, cmd, shipped, sim};

const SMALL: &str = "four_districts_back_office.json";

/// A scenario of `n` partners, as `tests/memory/wide.py` writes it.
fn wide(n: usize) -> Value {
    let partners: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "name": format!("Partner {i:05}"),
                "baseline_cost": {"pert": [900000 + i, 1000000 + i, 1200000 + i]},
                "withdrawal_hazard": 0.01,
                "lock_in_years": 2,
                "exit_fee": 50000,
                "reestablish_cost": {"uniform": [200000, 300000]},
                "rejoin_probability": 0.1
            })
        })
        .collect();
    json!({
        "name": format!("{n} partners"),
        "horizon_years": 10,
        "trials": 1000,
        "service": {
            "fixed_cost": {"triangular": [n * 1000, n * 1500, n * 2000]},
            "efficiency": {"pert": [0.08, 0.15, 0.22]},
            "transition_cost": {"triangular": [n * 10000, n * 15000, n * 20000]}
        },
        "partners": partners
    })
}

/// The MiB the guard says `args` need, from its refusal under a 1 KiB limit.
fn estimate_mib(args: &[&str]) -> f64 {
    let mut all = args.to_vec();
    all.extend(["--max-memory", "1K"]);
    let out = sim(&all);
    out.bad_input().stderr_has("more than the 1 KiB allowed");
    let text = out
        .stderr
        .split(" need about ")
        .nth(1)
        .expect("an estimate");
    let (number, rest) = text.split_once(' ').unwrap();
    let mib: f64 = number.parse().unwrap();
    if rest.starts_with("KiB") {
        mib / 1024.0
    } else {
        mib
    }
}

/// Ten trials of 10,000 partners take under 1 MiB of outcomes, but the scenario itself
/// (its JSON, validated, compiled, reported) takes about 75 MiB: measured, the run peaks
/// at 86 MiB. A 64 MiB limit, which the outcome-only guard let through, refuses it.
#[test]
fn a_very_wide_scenario_is_refused_under_a_limit_its_outcomes_alone_fit_in() {
    let dir = Dir::new();
    let path = dir.write_json("wide.json", &wide(10_000));
    sim(&["run", &path, "--trials", "10", "--max-memory", "64M"])
        .bad_input()
        .stderr_has("10 trials of this scenario need about")
        .stderr_has("scenario ");
    // The same limit runs a small scenario with ten times the trials.
    sim(&[
        "run",
        &shipped(SMALL),
        "--trials",
        "100",
        "--max-memory",
        "64M",
    ])
    .ok();
    // The estimate grows with the partners (about 8 KiB each) and with the trials.
    let e10 = estimate_mib(&["run", &path, "--trials", "10"]);
    let path20 = dir.write_json("wide20.json", &wide(20_000));
    let e20 = estimate_mib(&["run", &path20, "--trials", "10"]);
    let per_partner_kib = (e20 - e10) * 1024.0 / 10_000.0;
    assert!((7.0..9.0).contains(&per_partner_kib), "{e10} {e20}");
    let e1000 = estimate_mib(&["run", &path, "--trials", "1000"]);
    // 990 trials more of 10,009 rows of 8 bytes each: 75.6 MiB more.
    assert!((e1000 - e10 - 75.6).abs() < 2.0, "{e10} {e1000}");
}

/// Every command that simulates or merges is guarded, with its own estimate.
#[test]
fn every_command_that_grows_is_guarded() {
    let dir = Dir::new();
    let s = shipped(SMALL);
    let small = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--max-memory", "1M"]);
        sim(&all)
            .bad_input()
            .stderr_has(" need about ")
            .stdout
            .clone()
    };
    assert_eq!(small(&["run", &s, "--trials", "1000"]), "");
    assert_eq!(small(&["trace", &s, "--worst", "--trials", "1000"]), "");
    assert_eq!(
        small(&[
            "sweep",
            &s,
            "--param",
            "/service/efficiency=0.1,0.2",
            "--trials",
            "100"
        ]),
        ""
    );
    assert_eq!(small(&["sensitivity", &s, "--trials", "100"]), "");
    assert_eq!(
        small(&[
            "compare",
            &s,
            "--variant",
            "v:/service/efficiency=0.1",
            "--trials",
            "100"
        ]),
        ""
    );
    let part = dir.path("p.bin");
    let part = part.to_str().unwrap();
    sim(&[
        "run",
        &s,
        "--trials",
        "1000",
        "--shard",
        "0/1",
        "--partial",
        part,
    ])
    .ok();
    sim(&["merge", part, "--max-memory", "1M"])
        .bad_input()
        .stderr_has("the 1000 trials of these partial results need about");
    sim(&["merge", part, "--max-memory", "64M"]).ok();
}

/// A 10,000 x 10,000 grid (a hundred million points) is refused before any point is
/// built or validated, instead of climbing through gigabytes.
#[test]
fn a_huge_sweep_grid_is_refused_up_front() {
    sim(&[
        "sweep",
        &shipped(SMALL),
        "--param",
        "/service/efficiency=0.05:0.25:10000",
        "--param",
        "/service/fixed_cost=100000:500000:10000",
        "--max-memory",
        "4G",
    ])
    .bad_input()
    .stderr_has("100000000 points of 100000 trials need about")
    .stderr_has("sweep fewer values");
}

/// A scenario file larger than 64 MiB stops with a message, whether it is a file, a
/// device or a pipe (read through a bounded reader, never to the end).
#[cfg(unix)]
#[test]
fn inputs_larger_than_any_scenario_are_refused() {
    sim(&["validate", "/dev/zero"])
        .bad_input()
        .stderr_has("/dev/zero is larger than 64 MiB, the most a scenario file may be");
    let piped = cmd(&["validate", "/dev/stdin"])
        .stdin(Stdio::from(File::open("/dev/zero").unwrap()))
        .output()
        .unwrap();
    assert_eq!(piped.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&piped.stderr).contains("is larger than 64 MiB"),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    // A scenario of exactly the limit's size is read (and then judged as JSON).
    let dir = Dir::new();
    let path = dir.path("big.json");
    std::fs::write(&path, vec![b' '; 64 << 20]).unwrap();
    let out = bin().arg("validate").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not valid JSON"), "{stderr}");
}

/// `--max-memory` beyond 64 bits and `--threads` beyond 1,024 are refused with a
/// message, not a panic.
#[test]
fn memory_limits_and_threads_are_bounded() {
    let s = shipped(SMALL);
    sim(&["run", &s, "--max-memory", "99999999999999999999G"])
        .bad_input()
        .stderr_has("is more than any machine's memory");
    sim(&["validate", &s]).ok();
    sim(&["run", &s, "--trials", "100", "--threads", "1025"])
        .bad_input()
        .stderr_has("--threads 1025 is more than the 1024 threads a run may have");
    sim(&["run", &s, "--trials", "100", "--threads", "3", "--quiet"]).ok();
}
