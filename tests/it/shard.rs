//! Sharded runs: shards run as separate processes, with the environment a scheduler sets,
//! merge into a report byte-identical (apart from `run`) to the unsharded run; and merge
//! refuses pieces that do not belong together.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use consortium_sim::engine::{self, Monitor, Outcomes, Precision};
use consortium_sim::export::json;
use consortium_sim::plan::Plan;
use consortium_sim::scenario;
use consortium_sim::shard::{self, Shard};
use consortium_sim::summary::{Report, RunInfo};
use serde_json::json;

use crate::util::{BIN, bad_input as refused, bin, ok};

const SCENARIO: &str = "scenarios/social_care_informal.json";
const TRIALS: &str = "30001";

/// The report's text without its `run` block and with its generation time masked (the
/// only parts allowed to differ).
fn without_run(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("  \"run\": {").expect("a run block");
    let end = start + text[start..].find('}').unwrap();
    // The provenance is compared too, but for the moment each report was made.
    let generated = regex::Regex::new(r#""generated_at": "[^"]*""#).unwrap();
    let text = format!("{}{}", &text[..start], &text[end..]);
    generated.replace(&text, "GENERATED").into_owned()
}

fn single_run(dir: &Path) -> PathBuf {
    let out = dir.join("single.json");
    ok(bin()
        .args(["run", SCENARIO, "--trials", TRIALS, "--seed", "4", "--out"])
        .arg(&out)
        .output()
        .unwrap());
    out
}

/// Runs every shard of `count` as its own process with `env(k)` set, then merges them
/// (in reverse order, which must not matter).
fn sharded_run(
    dir: &Path,
    count: u64,
    env: impl Fn(u64) -> Vec<(String, String)>,
    extra: &[&str],
) -> PathBuf {
    let mut parts = Vec::new();
    for k in 0..count {
        let part = dir.join(format!("part-{count}-{k}.bin"));
        ok(bin()
            .args([
                "run",
                SCENARIO,
                "--trials",
                TRIALS,
                "--seed",
                "4",
                "--partial",
            ])
            .arg(&part)
            .args(extra)
            .envs(env(k))
            .output()
            .unwrap());
        parts.push(part);
    }
    parts.reverse();
    let out = dir.join(format!("merged-{count}.json"));
    ok(bin()
        .arg("merge")
        .args(&parts)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap());
    out
}

#[test]
fn one_three_and_seven_shards_merge_to_the_single_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let single = without_run(&single_run(dir.path()));
    let one = sharded_run(dir.path(), 1, |_| vec![], &["--shard", "0/1"]);
    assert_eq!(without_run(&one), single, "1 shard");
    let slurm = |k: u64| {
        vec![
            ("SLURM_ARRAY_TASK_ID".to_string(), (k + 1).to_string()),
            ("SLURM_ARRAY_TASK_MIN".to_string(), "1".to_string()),
            ("SLURM_ARRAY_TASK_COUNT".to_string(), "3".to_string()),
        ]
    };
    let three = sharded_run(dir.path(), 3, slurm, &["--shard", "auto"]);
    assert_eq!(without_run(&three), single, "3 shards under Slurm");
    let k8s = |k: u64| vec![("JOB_COMPLETION_INDEX".to_string(), k.to_string())];
    let seven = sharded_run(dir.path(), 7, k8s, &["--shard", "auto", "--shards", "7"]);
    assert_eq!(
        without_run(&seven),
        single,
        "7 shards as a Kubernetes Indexed Job"
    );
}

/// Shards of a run big enough for single-precision rows join as exactly as double ones.
#[test]
fn single_precision_shards_join_exactly() {
    let s = scenario::load_file(Path::new(SCENARIO)).unwrap();
    let plan = Plan::compile(&s);
    let total = 5000u64;
    let run = |range: std::ops::Range<u64>| {
        engine::run_monitored(
            &plan,
            9,
            range.start,
            (range.end - range.start) as usize,
            Precision::Single,
            &Monitor::new(),
        )
        .unwrap()
    };
    let whole = run(0..total);
    let parts: Vec<Outcomes> = (0..3)
        .map(|k| run(Shard { index: k, count: 3 }.range(total)))
        .collect();
    let joined = Outcomes::join(parts);
    assert_eq!(joined, whole);
    let text = |o: Outcomes| json::to_json(&Report::build(&s, 9, &o, RunInfo::new(1, 1.0, 5000)));
    assert_eq!(text(joined), text(whole));
}

/// Shards 0/2 and 1/2 of a 2000-trial run; the second with `seed`, `trials` and `extra`.
fn two_parts_with(dir: &Path, seed: &str, trials: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
    let a = dir.join("a.bin");
    let b = dir.join("b.bin");
    ok(bin()
        .args([
            "run",
            SCENARIO,
            "--trials",
            "2000",
            "--seed",
            "4",
            "--shard",
            "0/2",
            "--partial",
        ])
        .arg(&a)
        .output()
        .unwrap());
    ok(bin()
        .args([
            "run",
            SCENARIO,
            "--trials",
            trials,
            "--seed",
            seed,
            "--shard",
            "1/2",
            "--partial",
        ])
        .arg(&b)
        .args(extra)
        .output()
        .unwrap());
    (a, b)
}

fn two_parts(dir: &Path) -> (PathBuf, PathBuf) {
    two_parts_with(dir, "4", "2000", &[])
}

fn merge(parts: &[&Path]) -> Output {
    bin().arg("merge").args(parts).output().unwrap()
}

#[test]
fn merge_refuses_a_different_scenario_seed_or_trial_count() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_parts_with(
        dir.path(),
        "4",
        "2000",
        &["--set", "/partners/0/exit_fee=5"],
    );
    refused(merge(&[&a, &b]), "different scenario");
    let (a, b) = two_parts_with(dir.path(), "5", "2000", &[]);
    refused(merge(&[&a, &b]), "seed");
    let (a, b) = two_parts_with(dir.path(), "4", "3000", &[]);
    refused(merge(&[&a, &b]), "3000-trial run");
}

#[test]
fn merge_refuses_overlapping_and_missing_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_parts(dir.path());
    refused(merge(&[&a]), "trials 1000..2000 are missing");
    refused(merge(&[&b]), "trials 0..1000 are missing");
    refused(merge(&[&a, &a, &b]), "overlap");
    let third = dir.path().join("third.bin");
    ok(bin()
        .args([
            "run",
            SCENARIO,
            "--trials",
            "2000",
            "--seed",
            "4",
            "--shard",
            "1/3",
            "--partial",
        ])
        .arg(&third)
        .output()
        .unwrap());
    refused(merge(&[&a, &third, &b]), "overlap");
    ok(merge(&[&b, &a]));
}

#[test]
fn merge_refuses_another_engine_version_and_damaged_files() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_parts(dir.path());
    // Another engine version: rewrite b's header through the library.
    let mut part = shard::read_partial(&b).unwrap();
    part.header.engine_version = "0.0.1".into();
    let old = dir.path().join("old.bin");
    shard::write_partial(&old, &part.header, &part.outcomes).unwrap();
    refused(merge(&[&a, &old]), "engine version 0.0.1");
    // Cut short.
    let bytes = std::fs::read(&b).unwrap();
    let short = dir.path().join("short.bin");
    std::fs::write(&short, &bytes[..bytes.len() - 100]).unwrap();
    refused(merge(&[&a, &short]), "damaged or incomplete");
    // One bit flipped in the body.
    let mut flipped = bytes.clone();
    let i = flipped.len() - 50;
    flipped[i] ^= 1;
    let bad = dir.path().join("flipped.bin");
    std::fs::write(&bad, &flipped).unwrap();
    refused(merge(&[&a, &bad]), "checksum");
    // Not a partial at all.
    refused(
        merge(&[&a, Path::new(SCENARIO)]),
        "not a consortium-sim partial result",
    );
    refused(merge(&[&a, &dir.path().join("missing.bin")]), "missing.bin");
}

#[test]
fn shard_options_are_checked_before_running() {
    let run = |args: &[&str]| {
        bin()
            .args(["run", SCENARIO, "--trials", "100"])
            .args(args)
            .output()
            .unwrap()
    };
    refused(
        run(&["--shard", "3/3", "--partial", "x.bin"]),
        "does not exist",
    );
    refused(run(&["--shard", "0/3"]), "--partial");
    refused(
        run(&["--shard", "0/3", "--partial", "x.bin", "--out", "r.json"]),
        "merge",
    );
    refused(
        run(&["--shard", "auto", "--partial", "x.bin"]),
        "SLURM_ARRAY_TASK_ID",
    );
    let k8s = bin()
        .args([
            "run",
            SCENARIO,
            "--trials",
            "100",
            "--shard",
            "auto",
            "--partial",
            "x.bin",
        ])
        .env("JOB_COMPLETION_INDEX", "1")
        .output()
        .unwrap();
    refused(k8s, "--shards");
    refused(run(&["--partial", "x.bin"]), "--shard");
    assert!(!Path::new("x.bin").exists());
}

/// The shipped Slurm example, run as Slurm would run it: each array task with its
/// variables, then the merge script; the report equals the single run's.
#[test]
fn slurm_example_scripts_work_as_shipped() {
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("scenarios/four_districts_back_office.json");
    // A small edit of the trial count keeps the test quick; nothing else is changed.
    let script = std::fs::read_to_string(root.join("examples/slurm/run.sbatch"))
        .unwrap()
        .replace("--trials 10000000", "--trials 3000");
    std::fs::write(dir.path().join("run.sbatch"), script).unwrap();
    for k in 0..3 {
        ok(Command::new("bash")
            .arg("run.sbatch")
            .arg(&scenario)
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("SLURM_ARRAY_TASK_ID", k.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "0")
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .env("SLURM_CPUS_PER_TASK", "1")
            .output()
            .unwrap());
    }
    ok(Command::new("bash")
        .arg(root.join("examples/slurm/merge.sbatch"))
        .current_dir(dir.path())
        .env("PATH", &path)
        .output()
        .unwrap());
    let single = dir.path().join("single.json");
    ok(bin()
        .arg("run")
        .arg(&scenario)
        .args(["--trials", "3000", "--seed", "1", "--out"])
        .arg(&single)
        .output()
        .unwrap());
    assert_eq!(
        without_run(&dir.path().join("report.json")),
        without_run(&single)
    );
    assert!(dir.path().join("report.html").exists());
}

/// A scenario whose go-live may slip stores each trial's delay in its partials, and the
/// merged report (the delay's mean and distribution included) is the single run's.
#[test]
fn shards_of_a_delayed_scenario_merge_to_the_single_run() {
    const DELAYED: &str = "scenarios/departments_shared_service_centre.json";
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str], out: &Path| {
        ok(bin()
            .args(["run", DELAYED, "--trials", "5001", "--seed", "9"])
            .args(extra)
            .arg(out)
            .output()
            .unwrap())
    };
    let single = dir.path().join("single.json");
    run(&["--out"], &single);
    let mut parts = Vec::new();
    for k in 0..3 {
        let part = dir.path().join(format!("p{k}.bin"));
        let shard = format!("{k}/3");
        run(&["--shard", &shard, "--partial"], &part);
        parts.push(part);
    }
    let merged = dir.path().join("merged.json");
    ok(bin()
        .arg("merge")
        .args(&parts)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap());
    assert_eq!(without_run(&merged), without_run(&single));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&single).unwrap()).unwrap();
    let by_delay = report["consortium"]["delay_years_probability"]
        .as_array()
        .unwrap();
    // d = 0 ..= H, and the scenario's delay of 0 to 3 years shows in the distribution.
    assert_eq!(by_delay.len(), 11);
    assert!(by_delay[1].as_f64().unwrap() > 0.2 && by_delay[3].as_f64().unwrap() > 0.05);
    assert!(report["events"]["delay_years"].as_f64().unwrap() > 1.0);
}

/// A partial result taken apart: its header (JSON) and its outcome bytes.
fn take_apart(path: &Path) -> (serde_json::Value, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let magic = b"consortium-sim partial\n".len();
    let len = u64::from_le_bytes(bytes[magic..magic + 8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[magic + 8..magic + 8 + len]).unwrap();
    let body = bytes[magic + 8 + len..bytes.len() - 8].to_vec();
    (header, body)
}

/// Writes a partial result from a header and outcome bytes, with the checksum (FNV-1a
/// over every byte before it) recomputed as a forger would.
fn forge(path: &Path, header: &serde_json::Value, body: &[u8]) {
    let head = serde_json::to_vec(header).unwrap();
    let mut bytes = b"consortium-sim partial\n".to_vec();
    bytes.extend((head.len() as u64).to_le_bytes());
    bytes.extend(&head);
    bytes.extend(body);
    let sum = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    bytes.extend(sum.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

/// A partial whose checksum is valid but whose header does not hold together (forged,
/// or written by a faulty program) is refused, naming the file and the field, before
/// anything is allocated from its counts: a claimed 2^49 trials, a partner count or
/// horizon its scenario does not have, a range its shard does not cover, a precision
/// its run would not use.
#[test]
fn merge_refuses_forged_headers_with_valid_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_parts(dir.path());
    let (header, body) = take_apart(&b);
    // The forger's checksum is the writer's: an unchanged forgery merges.
    let same = dir.path().join("same.bin");
    forge(&same, &header, &body);
    ok(merge(&[&a, &same]));
    let forged = dir.path().join("forged.bin");
    let partners = header["partners"].as_u64().unwrap();
    let cases: [(&str, serde_json::Value, &str); 8] = [
        (
            "trials",
            json!(1u64 << 49),
            "`trials` is 562949953421312, but shard 1 of 2 of a 2000-trial run has 1000 trials",
        ),
        (
            "total_trials",
            json!(1u64 << 49),
            "`first_trial` is 1000, but shard 1 of 2 of a 562949953421312-trial run starts at trial 281474976710656",
        ),
        (
            "partners",
            json!(partners + 1),
            &format!(
                "`partners` is {}, but its scenario has {partners} partners",
                partners + 1
            ),
        ),
        (
            "horizon",
            json!(99),
            "`horizon` is 99, but its scenario's horizon is",
        ),
        (
            "shard_index",
            json!(2),
            "`shard_index` is 2 of 2 shards, which does not exist",
        ),
        (
            "precision",
            json!("single"),
            "`precision` is \"single\", but a 2000-trial run of its scenario stores \"double\"",
        ),
        (
            "sampling",
            json!("lhs"),
            "`format_version` is 2, but a partial result of a run with --sampling lhs has version 3",
        ),
        (
            "scenario_hash",
            json!("0000000000000000"),
            "`scenario_hash` is 0000000000000000, which is not the hash of its scenario",
        ),
    ];
    for (field, value, message) in cases {
        let mut h = header.clone();
        h[field] = value;
        forge(&forged, &h, &body);
        let out = bin()
            .arg("merge")
            .args([&a, &forged])
            .args(["--max-memory", "64M"])
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(0), "{field} forged, and merged");
        refused(
            out,
            &format!("forged.bin does not hold together: its header's {message}"),
        );
    }
    // Counts that agree with each other but not with the file's length.
    let mut h = header.clone();
    h["total_trials"] = json!(1u64 << 49);
    h["first_trial"] = json!(1u64 << 48);
    h["trials"] = json!(1u64 << 48);
    h["precision"] = json!("single");
    forge(&forged, &h, &body);
    refused(
        merge(&[&a, &forged]),
        "`trials` is 281474976710656, whose outcomes take",
    );
    // The body cut short, with the checksum recomputed.
    forge(&forged, &header, &body[..body.len() - 8]);
    refused(merge(&[&a, &forged]), "but the file holds");
    // A format this engine does not read.
    let mut h = header.clone();
    h["format_version"] = json!(4);
    forge(&forged, &h, &body);
    refused(
        merge(&[&a, &forged]),
        "it has format version 4, and this engine reads versions 2 and 3",
    );
    // A header that is not the header's layout.
    forge(&forged, &json!({"format_version": 2, "trials": 3}), &body);
    refused(merge(&[&a, &forged]), "its header is damaged");
}
