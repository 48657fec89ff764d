//! Values that are valid but almost never meant (#17 item 10): a rate typed as a whole
//! percentage is run, with a warning on stderr from every command that loads the
//! scenario, in `validate`'s output and in the JSON report's `warnings`; the summary
//! states the discount rate it used.

use serde_json::Value;

use crate::util::{read_json, shipped, sim};

const FOUR: &str = "four_districts_back_office.json";

const EFFICIENCY_15: &str = "/service/efficiency is 15, that is 1500 %: did you mean 0.15? \
     (efficiency above 1 is almost never meant; rates are fractions, 0.15 for 15 %)";

#[test]
fn validate_warns_on_stderr_and_in_its_output_and_still_accepts() {
    let out = sim(&[
        "validate",
        &shipped(FOUR),
        "--set",
        "/service/efficiency=15",
        "--set",
        "/discount_rate=3.5",
        "--set",
        "/partners/2/withdrawal_hazard=50",
    ]);
    out.ok();
    let discount = "/discount_rate is 3.5, that is 350 %: did you mean 0.035?";
    let hazard = "/partners/2/withdrawal_hazard is 50, that is 5000 %: did you mean 0.5?";
    for line in [discount, EFFICIENCY_15, hazard] {
        out.stderr_has(&format!("warning: {line}"));
        assert!(
            out.stdout.contains(&format!("\n  {line}")),
            "{}",
            out.stdout
        );
    }
    assert!(
        out.stdout
            .contains("\n3 values probably meant as a fraction:\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn distributions_are_checked_on_every_value_they_take_and_the_report_lists_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = sim(&[
        "run",
        &shipped(FOUR),
        "--trials",
        "300",
        "--set",
        r#"/service/efficiency={"pert":[5,15,25]}"#,
        "--set",
        "/service/optimism_bias=20",
        "--out",
        json.to_str().unwrap(),
    ]);
    out.ok()
        .stderr_has("warning: /service/efficiency/pert/1 is 15, that is 1500 %: did you mean 0.15?")
        .stderr_has("warning: /service/optimism_bias is 20, that is 2000 %: did you mean 0.2?");
    let report = read_json(&json);
    let pointers: Vec<&str> = report["warnings"]
        .as_array()
        .expect("a warnings array")
        .iter()
        .map(|w| w["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/service/efficiency/pert/0",
            "/service/efficiency/pert/1",
            "/service/efficiency/pert/2",
            "/service/optimism_bias"
        ]
    );
    assert_eq!(
        report["warnings"][3]["message"],
        "is 20, that is 2000 %: did you mean 0.2? (optimism_bias above 2 is almost never \
         meant; rates are fractions, 0.15 for 15 %)"
    );
}

#[test]
fn plausible_values_give_no_warning_and_no_warnings_key() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = sim(&[
        "run",
        &shipped(FOUR),
        "--trials",
        "300",
        "--set",
        "/service/optimism_bias=2",
        "--set",
        "/discount_rate=1",
        "--out",
        json.to_str().unwrap(),
    ]);
    out.ok();
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    assert_eq!(read_json(&json).get("warnings"), None::<&Value>);
}

#[test]
fn every_command_that_loads_a_scenario_warns_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let s = shipped(FOUR);
    let set = ["--set", "/service/efficiency=15"];
    let few = ["--trials", "200", "--quiet"];
    let part = |k: &str| dir.path().join(format!("p{k}.bin"));
    let (p0, p1) = (part("0"), part("1"));
    let commands: Vec<Vec<&str>> = vec![
        vec!["run", &s],
        vec!["trace", &s, "--trial", "3"],
        vec!["trace", &s, "--worst"],
        vec!["sweep", &s, "--param", "/service/fixed_cost=0,100000"],
        vec!["sensitivity", &s],
        vec!["compare", &s, "--variant", "cheap:/service/fixed_cost=0"],
        vec![
            "run",
            &s,
            "--shard",
            "0/2",
            "--partial",
            p0.to_str().unwrap(),
        ],
        vec![
            "run",
            &s,
            "--shard",
            "1/2",
            "--partial",
            p1.to_str().unwrap(),
        ],
    ];
    for args in &commands {
        let quiet: &[&str] = if args[0] == "trace" && args[2] == "--trial" {
            &[]
        } else {
            &few
        };
        let all: Vec<&str> = args.iter().chain(&set).chain(quiet).copied().collect();
        sim(&all)
            .ok()
            .stderr_has(&format!("warning: {EFFICIENCY_15}\n"));
    }
    let merged = dir.path().join("m.json");
    let out = sim(&[
        "merge",
        p0.to_str().unwrap(),
        p1.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    out.ok().stderr_has(&format!("warning: {EFFICIENCY_15}\n"));
    assert_eq!(
        read_json(&merged)["warnings"][0]["pointer"],
        "/service/efficiency"
    );
}

#[test]
fn the_summary_states_the_discount_rate_used() {
    let s = shipped(FOUR);
    let line = |extra: &[&str]| {
        let mut args = vec!["run", &s, "--trials", "200"];
        args.extend_from_slice(extra);
        let out = sim(&args);
        out.ok();
        out.stdout.lines().nth(1).unwrap().to_string()
    };
    assert_eq!(
        line(&["--set", "/discount_rate=3.5"]),
        "200 trials, seed 1, 10 years at base-year prices, discounted at 350% a year"
    );
    assert_eq!(
        line(&[
            "--set",
            "/discount_rate=green_book",
            "--set",
            "/horizon_years=40"
        ]),
        "200 trials, seed 1, 40 years at base-year prices, discounted at the Green Book \
         rates, 3.5% from year 0, 3% from year 31"
    );
    assert_eq!(
        line(&[
            "--set",
            r#"/discount_rate=[{"from_year":0,"rate":0.04},{"from_year":5,"rate":0.02}]"#
        ]),
        "200 trials, seed 1, 10 years at base-year prices, discounted at 4% from year 0, \
         2% from year 5"
    );
}
