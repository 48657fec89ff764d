//! Golden files: every command of `tests/golden/commands.txt`, run with the built binary,
//! must print and write exactly what the fixtures beside it hold. They pin every report,
//! CSV, page and message of engine 0.3.0 byte for byte, so that a change of structure
//! (not of the model) can be shown to change nothing.
//!
//! Only what depends on the machine or the moment is masked before comparing: the output
//! folder, the thread count and the elapsed time (the JSON `run` block's `threads`,
//! `elapsed_seconds` and `trials_per_second`, and the "(2 threads, 0.01 s ...)" lines),
//! and the generation time of the provenance (`generated_at` in JSON, the `<time>` of a
//! page). Scenario files' hashes are deterministic and stay.
//!
//! After a change that is meant to change output, regenerate and review the diff:
//! `cargo test --release --test it -- --ignored golden::regenerate`.

use regex::Regex;
use std::path::{Path, PathBuf};

use crate::util::{bin, root};

fn fixtures() -> PathBuf {
    root().join("tests/golden")
}

/// (name, arguments) of each golden command; `OUT` in an argument is the output folder.
fn commands() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(fixtures().join("commands.txt")).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (name, args) = line.split_once('|').expect("NAME | ARGS");
            let args = args.split_whitespace().map(str::to_string).collect();
            (name.trim().to_string(), args)
        })
        .collect()
}

/// What one command produced: (file name, normalised content), sorted by name.
fn produce(args: &[String], out: &Path) -> Vec<(String, String)> {
    let out_text = out.to_str().unwrap();
    let args: Vec<String> = args.iter().map(|a| a.replace("OUT", out_text)).collect();
    let output = bin().args(&args).current_dir(root()).output().unwrap();
    let mut files = vec![
        ("stdout.txt".to_string(), output.stdout),
        ("stderr.txt".to_string(), output.stderr),
        (
            "status".to_string(),
            format!("{}\n", output.status.code().unwrap_or(-1)).into_bytes(),
        ),
    ];
    for entry in std::fs::read_dir(out).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        files.push((name, std::fs::read(&path).unwrap()));
    }
    files.sort();
    files
        .into_iter()
        .map(|(name, bytes)| {
            let text = String::from_utf8(bytes).expect("outputs are UTF-8");
            (name, normalise(&text.replace(out_text, "OUT")))
        })
        .collect()
}

/// Masks the parts of an output that depend on the machine and the moment.
pub fn normalise(text: &str) -> String {
    let timing = Regex::new(r"\(\d+ threads?, [0-9.]+ s(, [0-9,]+ trials/s)?\)").unwrap();
    let json = Regex::new(r#""(threads|elapsed_seconds|trials_per_second)": [0-9.e+-]+"#).unwrap();
    let generated = Regex::new(r#""generated_at": "[^"]*""#).unwrap();
    let time = Regex::new(r#"<time datetime="[^"]*">[^<]*</time>"#).unwrap();
    let text = timing.replace_all(text, "(THREADS, SECONDS)");
    let text = generated.replace_all(&text, "\"generated_at\": \"MASKED\"");
    let text = time.replace_all(&text, "<time>MASKED</time>");
    json.replace_all(&text, "\"$1\": MASKED").into_owned()
}

#[test]
fn every_output_matches_its_golden_file() {
    let mut failures = Vec::new();
    for (name, args) in commands() {
        let out = tempfile::tempdir().unwrap();
        let dir = fixtures().join(&name);
        let produced = produce(&args, out.path());
        let mut expected: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (regenerate the fixtures)", dir.display()))
            .map(|e| e.unwrap().file_name().to_str().unwrap().to_string())
            .collect();
        expected.sort();
        let names: Vec<&String> = produced.iter().map(|(n, _)| n).collect();
        if names != expected.iter().collect::<Vec<_>>() {
            failures.push(format!(
                "{name}: wrote {names:?}, fixtures hold {expected:?}"
            ));
            continue;
        }
        for (file, text) in &produced {
            let want = std::fs::read_to_string(dir.join(file)).unwrap();
            if *text != want {
                let line = text
                    .lines()
                    .zip(want.lines())
                    .position(|(a, b)| a != b)
                    .map_or_else(|| "length".to_string(), |i| format!("line {}", i + 1));
                failures.push(format!("{name}/{file}: differs at {line}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "golden files differ:\n{}",
        failures.join("\n")
    );
}

#[test]
#[ignore = "rewrites the fixtures: run by hand after an intended change of output"]
fn regenerate() {
    for (name, args) in commands() {
        let out = tempfile::tempdir().unwrap();
        let dir = fixtures().join(&name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in produce(&args, out.path()) {
            std::fs::write(dir.join(file), text).unwrap();
        }
    }
}

/// Model v2 changes nothing for a scenario that uses none of its fields: every shipped
/// scenario's report equals engine 0.3.0's (kept in `tests/v1-reports/`, never
/// regenerated) in every figure. The only keys allowed to differ are the ones that say
/// where and how the report was made (`run`, `provenance`), and `events.delay_years`,
/// which v2 adds and which must be 0.
#[test]
fn v1_reports_match_engine_0_3_0() {
    let dir = root().join("tests/v1-reports");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names.len(), 7, "one report per v1 scenario: {names:?}");
    let strip = |mut v: serde_json::Value| {
        let map = v.as_object_mut().unwrap();
        map.remove("run");
        map.remove("provenance");
        v
    };
    for name in names {
        let out = tempfile::tempdir().unwrap();
        let report = out.path().join("report.json");
        let output = bin()
            .args(["run", &format!("scenarios/{name}"), "--trials", "3000"])
            .args(["--seed", "11", "--quiet", "--out"])
            .arg(&report)
            .current_dir(root())
            .output()
            .unwrap();
        assert!(output.status.success(), "{name}");
        let mut now: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let events = now["events"].as_object_mut().unwrap();
        assert_eq!(
            events.remove("delay_years"),
            Some(serde_json::json!(0.0)),
            "{name}"
        );
        let then: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(&name)).unwrap()).unwrap();
        assert_eq!(
            serde_json::to_string_pretty(&strip(now)).unwrap(),
            serde_json::to_string_pretty(&strip(then)).unwrap(),
            "{name}: a figure differs from engine 0.3.0's"
        );
    }
}
