//! `consortium-sim compare`: pairing trial k with trial k makes the standard error of a
//! difference far smaller than that of two independent runs; a scenario compared with
//! itself differs by exactly nothing; files with different partners compare by name.

use serde_json::{Value, json};

use crate::util::{Out, f, shipped, sim};

/// Runs `compare ARGS --out FILE` and returns the JSON.
fn compare(args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("compare.json");
    let out_s = out.display().to_string();
    let mut all = vec!["compare"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", &out_s, "--quiet"]);
    let Out {
        code,
        stdout,
        stderr,
    } = sim(&all);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

#[test]
fn pairing_shrinks_the_standard_error_of_informal_against_formal() {
    let v = compare(&[
        &shipped("social_care_informal.json"),
        &shipped("social_care_formal.json"),
        "--trials",
        "5000",
    ]);
    assert!(v["scenarios"][0]["vs_first"].is_null());
    let d = &v["scenarios"][1]["vs_first"];
    let (se_a, se_b) = (f(&v, "/scenarios/0/npv/se"), f(&v, "/scenarios/1/npv/se"));
    let unpaired = se_a.hypot(se_b);
    assert!((f(d, "/se_unpaired") - unpaired).abs() <= 1e-9 * unpaired);
    let paired = f(d, "/se_paired");
    // The formal agreement's lock-in, faster dispute resolution and lower hazard uplift
    // change which trials see withdrawals and collapses (P(collapse) 17% against 3%), so
    // the pair's NPVs correlate at about 0.72 and pairing gains a factor of 1.88 in SE
    // (3.5 in variance), the same at 5,000 and 100,000 trials and on seeds 1 to 3. Each
    // of those terms alone gives 2.9 to 3.9; see the next test for a pure cost change.
    assert!(
        paired * 1.75 < unpaired,
        "paired SE {paired} is not far below the unpaired {unpaired}"
    );
    let diff = f(d, "/mean_npv");
    let means = f(&v, "/scenarios/1/npv/mean") - f(&v, "/scenarios/0/npv/mean");
    assert!((diff - means).abs() < 1e-6 * means.abs().max(1.0));
    assert!(
        diff > 10.0 * paired,
        "the formal agreement is better by far more than noise"
    );
    let dl = f(d, "/prob_npv_negative");
    let pl = f(&v, "/scenarios/1/prob_npv_negative/estimate")
        - f(&v, "/scenarios/0/prob_npv_negative/estimate");
    assert!((dl - pl).abs() < 1e-12);
}

#[test]
fn pairing_removes_nearly_all_noise_when_only_a_cost_differs() {
    // The informal agreement with the formal one's governance cost: every trial draws the
    // same numbers, so the differences vary only with the cost's own draw.
    let v = compare(&[
        &shipped("social_care_informal.json"),
        "--variant",
        r#"formal cost:/service/fixed_cost={"triangular":[530000,630000,780000]}"#,
        "--trials",
        "2000",
    ]);
    assert_eq!(v["scenarios"][0]["name"], "base");
    assert_eq!(v["scenarios"][1]["name"], "formal cost");
    let d = &v["scenarios"][1]["vs_first"];
    assert!(f(d, "/se_paired") * 10.0 < f(d, "/se_unpaired"));
    assert!(f(d, "/mean_npv") < 0.0);
}

#[test]
fn a_scenario_compared_with_itself_differs_by_exactly_zero() {
    let four = shipped("four_districts_back_office.json");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.json");
    std::fs::copy(&four, &copy).unwrap();
    let v = compare(&[&four, &copy.display().to_string(), "--trials", "2000"]);
    let d = &v["scenarios"][1]["vs_first"];
    assert_eq!(f(d, "/mean_npv"), 0.0);
    assert_eq!(f(d, "/se_paired"), 0.0);
    assert_eq!(f(d, "/prob_npv_negative"), 0.0);
    assert_eq!(f(d, "/prob_npv_negative_se_paired"), 0.0);
    assert!(f(d, "/se_unpaired") > 0.0);
    assert_eq!(v["scenarios"][0]["name"], "four_districts_back_office");
    assert_eq!(v["scenarios"][1]["name"], "copy");
}

#[test]
fn different_partner_sets_compare_by_name() {
    let four = shipped("four_districts_back_office.json");
    let mut three: Value = serde_json::from_str(&std::fs::read_to_string(&four).unwrap()).unwrap();
    three["partners"].as_array_mut().unwrap().remove(1);
    three["partners"][2]["name"] = json!("Newby District Council");
    three["name"] = json!("Three districts");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("three.json");
    std::fs::write(&path, three.to_string()).unwrap();
    let html = dir.path().join("c.html");
    let v = compare(&[
        &four,
        &path.display().to_string(),
        "--trials",
        "1000",
        "--html",
        &html.display().to_string(),
    ]);
    let partners: Vec<&str> = v["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        partners,
        [
            "Brackenfield District Council",
            "Harrowmere District Council",
            "Linford District Council",
            "Otterby District Council",
            "Newby District Council"
        ]
    );
    assert_eq!(v["scenarios"][1]["partners"].as_array().unwrap().len(), 3);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("data-chart=\"comparison\""));
    assert!(page.contains("Newby District Council: mean NPV"));
}

#[test]
fn usage_mistakes_are_bad_input() {
    let four = shipped("four_districts_back_office.json");
    let formal = shipped("social_care_formal.json");
    for (args, needle) in [
        (vec![four.as_str()], "two or more scenario files"),
        (
            vec![
                four.as_str(),
                formal.as_str(),
                "--variant",
                "a:/service/efficiency=0.1",
            ],
            "either several files or one file",
        ),
        (
            vec![four.as_str(), "--variant", "a:/servise/efficiency=0.1"],
            "--variant a:/servise/efficiency=0.1: /servise does not exist",
        ),
        (
            vec![
                four.as_str(),
                "--variant",
                "bad:/service/efficiency=-2;/service/fixed_cost=-1",
            ],
            "/service/fixed_cost",
        ),
    ] {
        let mut all = vec!["compare"];
        all.extend(args);
        all.extend(["--trials", "100"]);
        let Out { code, stderr, .. } = sim(&all);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
}

/// Two variants of one name (or one named "base", the scenario as written) would make
/// two columns that cannot be told apart: refused (issue #17, item 9).
#[test]
fn variant_names_must_be_distinct_and_not_base() {
    let s = shipped("four_districts_back_office.json");
    sim(&[
        "compare",
        &s,
        "--variant",
        "a:/service/efficiency=0.1",
        "--variant",
        "a:/service/efficiency=0.2",
    ])
    .bad_input()
    .stderr_has("the name \"a\" is given to two variants");
    sim(&["compare", &s, "--variant", "base:/service/efficiency=0.1"])
        .bad_input()
        .stderr_has("\"base\" names the scenario as written");
}

/// A comparison subtracts one scenario's figures from another's and shows each column in
/// one currency: scenarios in two currencies are refused, whether from files or from a
/// variant that changes the currency, and a variant's seed or trial count, which the
/// comparison's common random numbers would silently override, is refused as `sweep`
/// refuses it.
#[test]
fn currencies_must_agree_and_variants_keep_the_seed_and_trials() {
    let dir = tempfile::tempdir().unwrap();
    let four = shipped("four_districts_back_office.json");
    let mut euro: Value = serde_json::from_str(&std::fs::read_to_string(&four).unwrap()).unwrap();
    euro["currency"] = json!("€");
    let euro_path = dir.path().join("euro.json");
    std::fs::write(&euro_path, euro.to_string()).unwrap();
    let euro_s = euro_path.display().to_string();
    let out = dir.path().join("c.json");
    let out_s = out.display().to_string();
    sim(&[
        "compare", &four, &euro_s, "--trials", "100", "--out", &out_s,
    ])
    .bad_input()
    .stderr_has(&format!(
        "{euro_s} is in \"€\" and {four} in \"£\": a comparison subtracts each \
         scenario's figures from the first's, so every scenario must be in one currency"
    ));
    assert!(!out.exists(), "nothing is written for a refused comparison");
    sim(&[
        "compare",
        &four,
        "--variant",
        "eu:/currency=€",
        "--trials",
        "100",
    ])
    .bad_input()
    .stderr_has("four_districts_back_office.json with /currency=€ is in \"€\" and ");
    for (variant, field) in [("s:/seed=5", "seed"), ("t:/trials=50", "trials")] {
        sim(&["compare", &four, "--variant", variant, "--trials", "100"])
            .bad_input()
            .stderr_has(&format!(
                "--variant {variant}: every scenario of a comparison runs with the same \
                 seed and number of trials (common random numbers), so a variant's \
                 /{field} would be ignored; set the comparison's {field} instead"
            ));
    }
}
