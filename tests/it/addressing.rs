//! Addressing a scenario value by pointer (#17 item 8): an unquoted canonical number is a
//! partner's index, anything else a name, and a name in double quotes is always a name,
//! so that partners named `a=b`, `7` or `01` can be reached by `--set`, `--param`,
//! `--variant` and `--switch`, and `sensitivity` (whose pointers are generated) works on
//! them.

use serde_json::{Value, json};

use crate::util::{Dir, sim};

/// Four partners whose names an index or a `=` would shadow or cut.
fn scenario() -> Value {
    json!({
        "name": "Awkward names",
        "horizon_years": 6,
        "trials": 2000,
        "discount_rate": 0.035,
        "service": {
            "efficiency": {"pert": [0.05, 0.12, 0.2]},
            "fixed_cost": 200000,
            "transition_cost": 400000
        },
        "partners": [
            {"name": "a=b", "baseline_cost": 2000000, "withdrawal_hazard": 0.05},
            {"name": "Second", "baseline_cost": 1500000, "withdrawal_hazard": 0.04},
            {"name": "7", "baseline_cost": 1200000, "withdrawal_hazard": 0.03},
            {"name": "01", "baseline_cost": 1000000, "withdrawal_hazard": 0.02}
        ]
    })
}

/// The mean consortium NPV of `run FILE ARGS` (2,000 trials, seed 1).
fn mean_npv(d: &Dir, file: &str, args: &[&str]) -> f64 {
    let out = d.path("run.json").display().to_string();
    let mut all = vec!["run", file, "--quiet", "--out", &out];
    all.extend_from_slice(args);
    sim(&all).ok();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    v["consortium"]["npv"]["mean"].as_f64().unwrap()
}

/// The mean NPV of the scenario with partner `i`'s `field` edited in the file itself.
fn edited_in_file(d: &Dir, i: usize, field: &str, x: f64) -> f64 {
    let mut v = scenario();
    v["partners"][i][field] = json!(x);
    let file = d.write_json("edited.json", &v);
    mean_npv(d, &file, &[])
}

#[test]
fn set_reaches_every_partner_by_quoted_name_or_canonical_index() {
    let d = Dir::new();
    let file = d.write_json("s.json", &scenario());
    for (set, i) in [
        (r#"/partners/"a=b"/exit_fee=300000"#, 0),
        ("/partners/1/exit_fee=300000", 1),
        (r#"/partners/"7"/exit_fee=300000"#, 2),
        ("/partners/2/exit_fee=300000", 2),
        ("/partners/01/exit_fee=300000", 3),
        (r#"/partners/"01"/exit_fee=300000"#, 3),
        ("/partners/3/exit_fee=300000", 3),
    ] {
        assert_eq!(
            mean_npv(&d, &file, &["--set", set]),
            edited_in_file(&d, i, "exit_fee", 300000.0),
            "{set}"
        );
    }
    for (set, message) in [
        (
            "/partners/7/exit_fee=1",
            "/partners/7 does not exist in the scenario (an unquoted number is an index; a \
             partner named \"7\" is written in quotes)",
        ),
        (
            "/partners/+1/exit_fee=1",
            "/partners/+1 does not exist in the scenario (an index is written without sign or \
             leading zeros, e.g. 1)",
        ),
        (
            "/partners/a=b/exit_fee=1",
            "/partners/a does not exist in the scenario",
        ),
    ] {
        sim(&["validate", &file, "--set", set])
            .bad_input()
            .stderr_has(message);
    }
}

#[test]
fn sweep_compare_and_switch_take_quoted_names() {
    let d = Dir::new();
    let file = d.write_json("s.json", &scenario());
    let at = mean_npv(&d, &file, &["--set", r#"/partners/"a=b"/exit_fee=500000"#]);

    let out = d.path("sweep.json").display().to_string();
    let param = r#"/partners/"a=b"/exit_fee=0,500000"#;
    sim(&["sweep", &file, "--quiet", "--param", param, "--out", &out]).ok();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let point = &v["points"][1];
    assert_eq!(point["at"][r#"/partners/"a=b"/exit_fee"#], json!(500000));
    assert_eq!(point["npv"]["mean"].as_f64().unwrap(), at);

    let out = d.path("compare.json").display().to_string();
    let variant = r#"fee:/partners/"a=b"/exit_fee=500000;/partners/"7"/exit_fee=0"#;
    sim(&[
        "compare",
        &file,
        "--quiet",
        "--variant",
        variant,
        "--out",
        &out,
    ])
    .ok();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains(&format!("{at}")), "{text}");

    let out = d.path("sens.json").display().to_string();
    let switch = r#"/partners/"7"/withdrawal_hazard"#;
    sim(&[
        "sensitivity",
        &file,
        "--quiet",
        "--switch",
        switch,
        "--out",
        &out,
    ])
    .ok();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["switching_values"][0]["input"], json!(switch));
    assert_eq!(
        v["switching_values"][0]["label"],
        json!("7: withdrawal hazard")
    );
    sim(&[
        "sensitivity",
        &file,
        "--switch",
        "/partners/7/withdrawal_hazard",
    ])
    .bad_input()
    .stderr_has("there is no partner \"7\"");
}

#[test]
fn sensitivity_runs_on_partners_named_like_indices_or_with_equals() {
    let d = Dir::new();
    let file = d.write_json("s.json", &scenario());
    let out = d.path("sens.json").display().to_string();
    sim(&["sensitivity", &file, "--quiet", "--out", &out]).ok();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let bar = |input: &str| {
        v["tornado"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["input"] == json!(input))
            .unwrap_or_else(|| panic!("no bar for {input}: {}", v["tornado"]))
            .clone()
    };
    for (i, input, label) in [
        (
            0,
            r#"/partners/"a=b"/withdrawal_hazard"#,
            "a=b: withdrawal hazard",
        ),
        (
            2,
            r#"/partners/"7"/withdrawal_hazard"#,
            "7: withdrawal hazard",
        ),
        (3, "/partners/01/withdrawal_hazard", "01: withdrawal hazard"),
    ] {
        let b = bar(input);
        assert_eq!(b["label"], json!(label));
        // The bar's low end is the run with that partner's hazard halved.
        let low = b["low_value"].as_f64().unwrap();
        assert_eq!(
            b["low"]["mean_npv"].as_f64().unwrap(),
            edited_in_file(&d, i, "withdrawal_hazard", low),
            "{input}"
        );
    }
}
