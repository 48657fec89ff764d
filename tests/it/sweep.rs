//! `consortium-sim sweep`, end to end: common random numbers make swept results smooth
//! and monotone, the CSV is a proper spreadsheet table, results do not depend on threads,
//! and mistakes are reported (exit code 2) naming the parameter and the value.

use std::path::PathBuf;

use serde_json::Value;

use crate::util::{Out, f, shipped, sim};

/// Runs `sweep` with `--out` into a scratch directory and returns the JSON.
fn sweep_json(args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep.json");
    let out_s = out.display().to_string();
    let mut all = vec!["sweep"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", &out_s, "--quiet"]);
    sim(&all).ok();
    serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

fn points(v: &Value) -> &Vec<Value> {
    v["points"].as_array().expect("points")
}

/// A minimal RFC 4180 reader: quoted fields with doubled quotes, CRLF or LF line ends.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field");
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[test]
fn mean_npv_rises_strictly_with_efficiency_under_common_random_numbers() {
    // four_districts' efficiency is pert(0.08, 0.15, 0.22); a number replaces it.
    let v = sweep_json(&[
        &shipped("four_districts_back_office.json"),
        "--param",
        "/service/efficiency=0.05:0.25:9",
        "--trials",
        "20000",
    ]);
    let pts = points(&v);
    assert_eq!(pts.len(), 9);
    let xs: Vec<f64> = pts
        .iter()
        .map(|p| f(p, "/at/~1service~1efficiency"))
        .collect();
    assert_eq!(
        xs,
        vec![0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25]
    );
    let mean: Vec<f64> = pts.iter().map(|p| f(p, "/npv/mean")).collect();
    assert!(
        mean.windows(2).all(|w| w[1] > w[0]),
        "mean NPV is not strictly increasing: {mean:?}"
    );
    for p in pts {
        for key in [
            "/npv/se",
            "/npv/p10",
            "/npv/p50",
            "/npv/p90",
            "/prob_collapse",
        ] {
            f(p, key);
        }
        let ci = p["prob_npv_negative"]["ci95"].as_array().unwrap();
        let est = f(p, "/prob_npv_negative/estimate");
        assert!(ci[0].as_f64().unwrap() <= est && est <= ci[1].as_f64().unwrap());
        assert_eq!(p["partners"].as_array().unwrap().len(), 4);
        f(p, "/partners/0/prob_worse_off");
    }
    assert_eq!(v["trials"], 20000);
    assert_eq!(v["seed"], 1);
}

#[test]
fn loss_probability_grid_is_monotone_in_hazard_and_efficiency() {
    // The mixed joint venture: Calderby's withdrawal hazard 0 to 0.3 (4 values, its file
    // value is 0.06) across efficiency 0.10 to 0.20 (3 values; the file's is
    // normal(0.14, 0.04)). More hazard can only add withdrawals and collapses; more
    // efficiency can only add savings.
    let hazard = "/partners/Calderby District Council/withdrawal_hazard";
    let v = sweep_json(&[
        &shipped("mixed_jv_county_district_police.json"),
        "--param",
        &format!("{hazard}=0:0.3:4"),
        "--param",
        "/service/efficiency=0.1:0.2:3",
        "--trials",
        "4000",
    ]);
    let pts = points(&v);
    assert_eq!(pts.len(), 12);
    // The first parameter varies slowest.
    let loss = |i: usize, j: usize| f(&pts[i * 3 + j], "/prob_npv_negative/estimate");
    for i in 0..4 {
        for j in 0..3 {
            let p = &pts[i * 3 + j];
            assert_eq!(p["at"][hazard].as_f64().unwrap(), [0.0, 0.1, 0.2, 0.3][i]);
            assert_eq!(
                p["at"]["/service/efficiency"].as_f64().unwrap(),
                [0.1, 0.15, 0.2][j]
            );
            if i > 0 {
                assert!(
                    loss(i, j) >= loss(i - 1, j),
                    "not non-decreasing in hazard at ({i}, {j})"
                );
            }
            if j > 0 {
                assert!(
                    loss(i, j) <= loss(i, j - 1),
                    "not non-increasing in efficiency at ({i}, {j})"
                );
            }
        }
    }
    // The grid is not flat: both parameters matter.
    assert!(loss(3, 0) > loss(0, 0) && loss(0, 0) > loss(0, 2));
}

#[test]
fn csv_has_a_header_and_one_row_per_point_and_parses() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("sweep.csv");
    let html = dir.path().join("sweep.html");
    sim(&[
        "sweep",
        &shipped("social_care_informal.json"),
        "--param",
        r#"/service/efficiency=0.1,{"uniform":[0.1,0.2]},0.2"#,
        "--trials",
        "1000",
        "--csv",
        &csv.display().to_string(),
        "--html",
        &html.display().to_string(),
        "--quiet",
    ])
    .ok();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.ends_with("\r\n"), "rows end in CRLF");
    let rows = parse_csv(&text);
    assert_eq!(rows.len(), 4, "a header and three rows:\n{text}");
    let header = &rows[0];
    assert_eq!(header[0], "/service/efficiency");
    for name in [
        "mean_npv",
        "se_npv",
        "prob_loss",
        "prob_collapse",
        "npv_p10",
        "npv_p90",
    ] {
        assert!(header.contains(&name.to_string()), "no {name} column");
    }
    assert!(header.contains(&"prob_worse_off[Wealdshire County Council]".to_string()));
    assert!(header.contains(&"mean_npv[Pellham District Council]".to_string()));
    assert_eq!(header.len(), 10 + 2 * 5);
    // The distribution value, which holds commas and quotes, survives quoting.
    assert_eq!(rows[2][0], r#"{"uniform":[0.1,0.2]}"#);
    for row in &rows[1..] {
        assert_eq!(row.len(), header.len());
        for cell in &row[1..] {
            cell.parse::<f64>()
                .unwrap_or_else(|_| panic!("not a number: {cell:?}"));
        }
    }
    let mean = |r: usize| rows[r][1].parse::<f64>().unwrap();
    assert!(mean(1) < mean(3));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("data-chart=\"sweep-values\""));
}

#[test]
fn text_values_sweep_cost_sharing() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("sweep.html");
    let v = sweep_json(&[
        &shipped("four_districts_back_office.json"),
        "--param",
        "/service/cost_sharing=proportional,equal",
        "--trials",
        "2000",
        "--html",
        &html.display().to_string(),
    ]);
    let pts = points(&v);
    assert_eq!(pts.len(), 2);
    assert_eq!(pts[0]["at"]["/service/cost_sharing"], "proportional");
    assert_eq!(pts[1]["at"]["/service/cost_sharing"], "equal");
    // Equal shares on partners of different sizes move money between them.
    let worse = |p: &Value| f(p, "/partners/1/prob_worse_off");
    assert!(worse(&pts[1]) > worse(&pts[0]));
    assert!(std::fs::read_to_string(&html).unwrap().contains("<svg"));
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let run = |threads: &str| {
        let mut v = sweep_json(&[
            &shipped("mixed_jv_county_district_police.json"),
            "--param",
            "/service/efficiency=0.1:0.2:3",
            "--param",
            "/disputes/annual_probability=0.1,0.4",
            "--trials",
            "3000",
            "--threads",
            threads,
        ]);
        let run = v
            .as_object_mut()
            .unwrap()
            .remove("run")
            .expect("a run object");
        assert_eq!(run["threads"].as_u64().unwrap().to_string(), threads);
        // The moment each sweep was made differs; the rest of its provenance may not.
        let provenance = v["provenance"]
            .as_object_mut()
            .expect("a provenance object");
        provenance
            .remove("generated_at")
            .expect("a generation time");
        serde_json::to_string_pretty(&v).unwrap()
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn a_missing_pointer_or_an_invalid_value_is_bad_input_naming_it() {
    let four = shipped("four_districts_back_office.json");
    let Out {
        code,
        stdout: out,
        stderr: err,
    } = sim(&[
        "sweep",
        &four,
        "--param",
        "/servise/efficiency=0.1:0.2:3",
        "--trials",
        "100",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--param /servise/efficiency=0.1:0.2:3"),
        "{err}"
    );
    assert!(err.contains("/servise does not exist"), "{err}");
    assert!(out.is_empty(), "{out}");

    // The last value of the range is invalid: reported before anything runs.
    let Out {
        code, stderr: err, ..
    } = sim(&[
        "sweep",
        &four,
        "--param",
        "/partners/Otterby District Council/rejoin_probability=0.5:1.5:3",
        "--trials",
        "100",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("with /partners/Otterby District Council/rejoin_probability=1.5"),
        "{err}"
    );
    assert!(err.contains("/partners/3/rejoin_probability"), "{err}");

    let Out {
        code, stderr: err, ..
    } = sim(&["sweep", &four, "--param", "/service/efficiency=0:1:0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("STEPS"), "{err}");

    let missing: PathBuf = tempfile::tempdir()
        .unwrap()
        .path()
        .join("no/such/dir/x.csv");
    let Out {
        code, stderr: err, ..
    } = sim(&[
        "sweep",
        &four,
        "--param",
        "/service/efficiency=0.1",
        "--csv",
        &missing.display().to_string(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not exist"), "{err}");
}

/// Sweeps whose points could not differ, or whose labels would be wrong, are refused
/// with a message before anything runs (issue #17, item 9).
#[test]
fn sweeps_that_cannot_differ_or_repeat_a_parameter_are_refused() {
    let s = shipped("four_districts_back_office.json");
    sim(&[
        "sweep",
        &s,
        "--param",
        "/service/efficiency=0.1,0.2",
        "--param",
        "/service/efficiency=0.3,0.4",
    ])
    .bad_input()
    .stderr_has("/service/efficiency is swept twice: a grid needs two different parameters");
    // However the pointer is written: a quoted segment names the same field.
    for (pointer, field) in [
        ("/seed", "seed"),
        ("/trials", "trials"),
        ("/\"seed\"", "seed"),
        ("/\"trials\"", "trials"),
    ] {
        let spec = format!("{pointer}=1000,2000");
        sim(&["sweep", &s, "--param", &spec])
            .bad_input()
            .stderr_has(&format!(
                "so sweeping /{field} would give the same figures at every point"
            ));
    }
}
