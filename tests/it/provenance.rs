//! Provenance (#17 item 14): every report, analysis and page says which scenario it was
//! made from (the file as named, the SHA-256 of its bytes, the overrides, the scenario as
//! run), by which engine and when; a merged report carries the shards' record; pages call
//! their figures illustrative only for the shipped examples, recognised by content.

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::util::{read_json, shipped, shipped_json, sim};

const FOUR: &str = "four_districts_back_office.json";
const ILLUSTRATIVE: &str = "Figures are illustrative";

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A copy of the shipped scenario with one more space at the end: the same figures,
/// different bytes, so not a shipped example.
fn edited_copy(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("our case.json");
    let mut text = std::fs::read_to_string(shipped(FOUR)).unwrap();
    text.push(' ');
    std::fs::write(&path, text).unwrap();
    path
}

/// The provenance's one scenario record, checked against the file, the overrides and
/// the clock.
fn check_record(
    p: &Value,
    file: &Path,
    overrides: &[&str],
    shipped: bool,
    window: [SystemTime; 2],
) {
    assert_eq!(p["engine_version"], env!("CARGO_PKG_VERSION"));
    let at = humantime::parse_rfc3339(p["generated_at"].as_str().unwrap()).unwrap();
    assert!(
        window[0] - Duration::from_secs(1) <= at && at <= window[1],
        "generated_at {at:?} outside the command's run"
    );
    let s = &p["scenarios"][0];
    assert_eq!(s["file"], file.to_str().unwrap());
    assert_eq!(s["sha256"], sha256(file));
    assert_eq!(s["shipped_example"], shipped);
    assert_eq!(s["overrides"], serde_json::json!(overrides));
    let mut as_run: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    as_run["service"]["fixed_cost"] = 123456.into();
    assert_eq!(s["scenario"], as_run);
}

#[test]
fn a_report_and_its_page_trace_back_to_the_file_the_overrides_and_the_moment() {
    let dir = tempfile::tempdir().unwrap();
    let file = edited_copy(dir.path());
    let (json, html) = (dir.path().join("r.json"), dir.path().join("r.html"));
    let before = SystemTime::now();
    let set = "/service/fixed_cost=123456";
    sim(&[
        "run",
        file.to_str().unwrap(),
        "--trials",
        "300",
        "--set",
        set,
        "--out",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ])
    .ok();
    let window = [before, SystemTime::now()];
    let report = read_json(&json);
    check_record(&report["provenance"], &file, &[set], false, window);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        !page.contains(ILLUSTRATIVE),
        "a real case is not illustrative"
    );
    let generated = report["provenance"]["generated_at"].as_str().unwrap();
    for needle in [
        "<h3>Provenance</h3>".to_string(),
        format!("<code>{}</code>", file.display()),
        format!("<code class=\"hash\">{}</code>", sha256(&file)),
        format!("<code>--set {set}</code>"),
        format!("<time datetime=\"{generated}\">{generated}</time>"),
        "<details><summary>Scenario as run (JSON, overrides applied)</summary><pre>{".into(),
        "&quot;fixed_cost&quot;: 123456,".into(),
    ] {
        assert!(page.contains(&needle), "the page lacks {needle}");
    }
}

#[test]
fn shipped_examples_are_recognised_by_content_and_only_they_are_illustrative() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("renamed.json");
    std::fs::copy(shipped(FOUR), &copy).unwrap();
    let page = |scenario: &Path| {
        let html = dir.path().join("p.html");
        sim(&[
            "run",
            scenario.to_str().unwrap(),
            "--trials",
            "200",
            "--html",
            html.to_str().unwrap(),
        ])
        .ok();
        std::fs::read_to_string(html).unwrap()
    };
    assert!(page(Path::new(&shipped(FOUR))).contains(ILLUSTRATIVE));
    assert!(
        page(&copy).contains(ILLUSTRATIVE),
        "a copy of an example is one"
    );
    assert!(!page(&edited_copy(dir.path())).contains(ILLUSTRATIVE));
}

#[test]
fn analyses_carry_provenance_in_json_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let file = edited_copy(dir.path());
    let f = file.to_str().unwrap();
    let set = ["--set", "/service/fixed_cost=123456"];
    let other = shipped("county_districts_ict.json");
    let runs: [(&str, Vec<&str>); 3] = [
        (
            "sweep",
            vec!["sweep", f, "--param", "/service/efficiency=0.1,0.2"],
        ),
        ("sensitivity", vec!["sensitivity", f]),
        ("compare", vec!["compare", f, &other]),
    ];
    for (name, args) in runs {
        let json = dir.path().join(format!("{name}.json"));
        let html = dir.path().join(format!("{name}.html"));
        let before = SystemTime::now();
        let mut all = args.clone();
        all.extend(set);
        all.extend([
            "--trials",
            "200",
            "--quiet",
            "--out",
            json.to_str().unwrap(),
        ]);
        all.extend(["--html", html.to_str().unwrap()]);
        sim(&all).ok();
        let result = read_json(&json);
        check_record(
            &result["provenance"],
            &file,
            &[set[1]],
            false,
            [before, SystemTime::now()],
        );
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.contains(&sha256(&file)), "{name}");
        assert!(!page.contains(ILLUSTRATIVE), "{name}");
        if name == "compare" {
            let second = &result["provenance"]["scenarios"][1];
            assert_eq!(second["file"], other.as_str());
            assert_eq!(second["sha256"], sha256(Path::new(&other)));
            assert_eq!(second["shipped_example"], true);
            assert!(page.contains(&sha256(Path::new(&other))));
        }
    }
}

#[test]
fn a_merged_report_carries_the_shards_record() {
    let dir = tempfile::tempdir().unwrap();
    let file = edited_copy(dir.path());
    let set = "/service/fixed_cost=123456";
    let before = SystemTime::now();
    let parts: Vec<String> = (0..2)
        .map(|k| {
            let part = dir.path().join(format!("p{k}.bin"));
            sim(&[
                "run",
                file.to_str().unwrap(),
                "--trials",
                "400",
                "--set",
                set,
                "--shard",
                &format!("{k}/2"),
                "--partial",
                part.to_str().unwrap(),
            ])
            .ok();
            part.to_str().unwrap().to_string()
        })
        .collect();
    let json = dir.path().join("m.json");
    sim(&[
        "merge",
        &parts[0],
        &parts[1],
        "--out",
        json.to_str().unwrap(),
    ])
    .ok();
    check_record(
        &read_json(&json)["provenance"],
        &file,
        &[set],
        false,
        [before, SystemTime::now()],
    );
}

#[test]
fn a_scenario_given_as_a_value_says_so() {
    use consortium_sim::engine::Monitor;
    use consortium_sim::run::{self, RunOptions, Source};
    let mut options = RunOptions::new(Source::Json {
        value: shipped_json(FOUR),
        name: "the request".into(),
    });
    options.trials = Some(200);
    let prepared = run::prepare(&options, &mut Vec::new()).unwrap();
    let monitor = Monitor::new();
    let simulation = prepared.simulate(&monitor).unwrap();
    let report = prepared.report(&simulation, &monitor).unwrap();
    let p = serde_json::to_value(report.provenance.unwrap()).unwrap();
    let s = &p["scenarios"][0];
    assert_eq!(s.get("file"), None);
    assert_eq!(s.get("sha256"), None);
    assert_eq!(s["note"], "given as a value, not a file: the request");
    assert_eq!(s["shipped_example"], true, "recognised by content");
}
