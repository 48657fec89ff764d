//! The trial table (`run --trials-csv`): its shape, that its figures are exactly the
//! engine's outcomes in trial order, RFC 4180 quoting of partner names, and the command
//! line around it (unchanged by building the report, refused with --shard,
//! accepted by merge, output path checked before the run).

use std::path::{Path, PathBuf};

use consortium_sim::engine::outcomes::NO_YEAR_U8;
use consortium_sim::engine::{Column, Outcomes};
use consortium_sim::export::csv::write_trials;
use consortium_sim::scenario::{self, Scenario};
use consortium_sim::stats;
use consortium_sim::summary::{Report, RunInfo};
use serde_json::Value;

use crate::util::{bad_input, ok, output, shipped, shipped_json};

const MIXED: &str = "mixed_jv_county_district_police.json";

fn load(name: &str) -> (Value, Scenario) {
    let value = shipped_json(name);
    let s = scenario::from_value(&value, name).unwrap();
    (value, s)
}

fn table(scenario: &Scenario, outcomes: &Outcomes) -> String {
    let mut bytes = Vec::new();
    write_trials(&mut bytes, scenario, outcomes).unwrap();
    String::from_utf8(bytes).unwrap()
}

/// A minimal RFC 4180 reader: records of fields, quoted fields may hold commas, doubled
/// quotes and line breaks; records end in '\n'.
fn parse(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => {
                assert!(field.is_empty(), "a quote inside an unquoted field");
                quoted = true;
            }
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, '\r') => panic!("line ends are '\\n', not CRLF"),
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field");
    assert!(
        field.is_empty() && record.is_empty(),
        "the last record lacks its '\\n'"
    );
    records
}

fn year(field: &str) -> u8 {
    if field.is_empty() {
        NO_YEAR_U8
    } else {
        field.parse().unwrap()
    }
}

fn expected_header(scenario: &Scenario) -> Vec<String> {
    let mut h = vec!["trial".to_string(), "npv".to_string()];
    h.extend(scenario.partners.iter().map(|p| p.name.clone()));
    for c in [
        "payback_year",
        "withdrawals",
        "rejoins",
        "disputes",
        "dispute_years",
        "collapse_year",
    ] {
        h.push(c.to_string());
    }
    h
}

/// Checks every field of the table against the outcomes, exactly.
fn assert_table_is_outcomes(text: &str, scenario: &Scenario, outcomes: &Outcomes) {
    let records = parse(text);
    assert_eq!(
        records.len(),
        outcomes.trials + 1,
        "a header and one row per trial"
    );
    assert_eq!(records[0], expected_header(scenario));
    let p = outcomes.partners;
    for (k, row) in records[1..].iter().enumerate() {
        assert_eq!(row.len(), 2 + p + 6, "row {k} has every column");
        assert_eq!(
            row[0].parse::<u64>().unwrap(),
            outcomes.first_trial + k as u64
        );
        let npv: f64 = row[1].parse().unwrap();
        assert_eq!(npv.to_bits(), outcomes.npv[k].to_bits(), "npv of trial {k}");
        for i in 0..p {
            let parsed: f64 = row[2 + i].parse().unwrap();
            assert_eq!(
                parsed,
                outcomes.partner_npv(k, i),
                "partner {i} in trial {k}"
            );
        }
        let e = &outcomes.events[k];
        let rest = &row[2 + p..];
        assert_eq!(year(&rest[0]), e.payback_year, "payback year of trial {k}");
        assert_eq!(rest[1].parse::<u32>().unwrap(), e.withdrawals);
        assert_eq!(rest[2].parse::<u32>().unwrap(), e.rejoins);
        assert_eq!(rest[3].parse::<u8>().unwrap(), e.disputes);
        assert_eq!(rest[4].parse::<u8>().unwrap(), e.dispute_years);
        assert_eq!(
            year(&rest[5]),
            e.collapse_year,
            "collapse year of trial {k}"
        );
    }
}

#[test]
fn table_has_a_header_and_one_row_per_trial_equal_to_the_outcomes() {
    let (_, s) = load(MIXED);
    let outcomes = consortium_sim::simulate(&s, 7, 3000);
    let text = table(&s, &outcomes);
    assert!(text.starts_with(
        "trial,npv,Ravensmoor County Council,Calderby District Council,Ravensmoor Police,\
         payback_year,withdrawals,rejoins,disputes,dispute_years,collapse_year\n"
    ));
    assert_table_is_outcomes(&text, &s, &outcomes);
    // The scenario is collapse-prone and not every trial pays back: both kinds of empty
    // year field occur, as do filled ones.
    let records = parse(&text);
    for col in [2 + 3, 2 + 3 + 5] {
        assert!(
            records[1..].iter().any(|r| r[col].is_empty()),
            "column {col}"
        );
        assert!(
            records[1..].iter().any(|r| !r[col].is_empty()),
            "column {col}"
        );
    }
}

/// Building the report reads the outcomes without reordering them, so the trial table
/// written after it is the same as one written before.
#[test]
fn building_the_report_leaves_the_outcomes_in_trial_order() {
    use consortium_sim::summary::{Report, RunInfo};
    let (_, s) = load(MIXED);
    let outcomes = consortium_sim::simulate(&s, 7, 3000);
    let before = outcomes.clone();
    let report = Report::build(&s, 7, &outcomes, RunInfo::new(1, 1.0, 3000));
    assert_eq!(outcomes, before);
    assert_table_is_outcomes(&table(&s, &outcomes), &s, &before);
    assert_eq!(report.trials, 3000);
}

#[test]
fn numbers_are_plain_decimals_that_round_trip() {
    let (_, s) = load(MIXED);
    let outcomes = consortium_sim::simulate(&s, 1, 500);
    let text = table(&s, &outcomes);
    for line in text.lines().skip(1) {
        assert!(
            !line.contains(['e', 'E', 'N', 'i']),
            "exponent, NaN or inf in {line}"
        );
    }
    let sum: f64 = parse(&text)[1..]
        .iter()
        .map(|r| r[1].parse::<f64>().unwrap())
        .sum();
    assert_eq!(sum, outcomes.npv.iter().sum::<f64>());
}

/// (A name cannot hold a line break: validation refuses control characters in names.)
#[test]
fn partner_names_with_commas_and_quotes_are_quoted_rfc_4180() {
    let (mut value, _) = load(MIXED);
    value["partners"][0]["name"] = "Smith, \"Jones\"".into();
    value["partners"][1]["name"] = "Comma, only".into();
    let sharing = &mut value["service"]["cost_sharing"]["fixed"];
    let weights = sharing.as_object_mut().unwrap();
    let w0 = weights.remove("Ravensmoor County Council").unwrap();
    let w1 = weights.remove("Calderby District Council").unwrap();
    weights.insert("Smith, \"Jones\"".into(), w0);
    weights.insert("Comma, only".into(), w1);
    let s = scenario::from_value(&value, "renamed").unwrap();
    let outcomes = consortium_sim::simulate(&s, 1, 200);
    let text = table(&s, &outcomes);
    assert!(
        text.starts_with("trial,npv,\"Smith, \"\"Jones\"\"\",\"Comma, only\",Ravensmoor Police,"),
        "{}",
        &text[..120]
    );
    let header = &parse(&text)[0];
    assert_eq!(header[2], "Smith, \"Jones\"");
    assert_eq!(header[3], "Comma, only");
    assert_table_is_outcomes(&text, &s, &outcomes);
}

/// Single-precision partner NPVs (very large runs) parse as f64 (pandas' default) to
/// exactly the stored values, so figures recomputed from the CSV are the report's to
/// the last bit: the mean by the report's own summation, the percentiles by its own
/// interpolation.
#[test]
fn single_precision_partner_npvs_parse_as_f64_to_the_stored_values_and_the_reports_figures() {
    let (_, s) = load(MIXED);
    let mut outcomes = consortium_sim::simulate(&s, 3, 300);
    let Column::F64(rows) = &outcomes.partner_npv else {
        panic!("a small run is stored in double precision")
    };
    let narrowed: Vec<f32> = rows.iter().map(|&v| v as f32).collect();
    outcomes.partner_npv = Column::F32(narrowed.clone());
    let report = Report::build(&s, 3, &outcomes, RunInfo::new(1, 1.0, outcomes.trials));
    let text = table(&s, &outcomes);
    let records = parse(&text);
    let n = outcomes.trials;
    for i in 0..outcomes.partners {
        let mut column: Vec<f64> = records[1..]
            .iter()
            .map(|row| row[2 + i].parse::<f64>().unwrap())
            .collect();
        for (k, &parsed) in column.iter().enumerate() {
            assert_eq!(
                parsed,
                f64::from(narrowed[i * n + k]),
                "partner {i}, trial {k}"
            );
        }
        let figures = &report.partners[i].npv;
        assert_eq!(stats::mean(&column), figures.mean, "partner {i}");
        column.sort_by(f64::total_cmp);
        assert_eq!(stats::percentile_sorted(&column, 0.05), figures.p05);
        assert_eq!(stats::percentile_sorted(&column, 0.95), figures.p95);
    }
}

// ---------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------

#[test]
fn run_writes_the_engines_outcomes_in_trial_order_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = shipped(MIXED);
    let paths: Vec<PathBuf> = ["1", "2"]
        .iter()
        .map(|threads| {
            let csv = dir.path().join(format!("t{threads}.csv"));
            let out = ok(output(&[
                "run",
                &scenario,
                "--trials",
                "2000",
                "--seed",
                "5",
                "--threads",
                threads,
                "--trials-csv",
                csv.to_str().unwrap(),
                "--out",
                dir.path().join("r.json").to_str().unwrap(),
            ]));
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                stdout.contains(&format!("wrote {}", csv.display())),
                "{stdout}"
            );
            csv
        })
        .collect();
    let one = std::fs::read_to_string(&paths[0]).unwrap();
    assert_eq!(one, std::fs::read_to_string(&paths[1]).unwrap());
    // The rows are the library's outcomes in trial order.
    let (_, s) = load(MIXED);
    let outcomes = consortium_sim::simulate(&s, 5, 2000);
    assert_eq!(one, table(&s, &outcomes));
    // And they agree with the report built from them.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let rows = parse(&one);
    let negative = rows[1..]
        .iter()
        .filter(|r| r[1].parse::<f64>().unwrap() < 0.0)
        .count();
    let estimate = report["consortium"]["prob_npv_negative"]["estimate"]
        .as_f64()
        .unwrap();
    assert_eq!(negative as f64 / 2000.0, estimate);
}

#[test]
fn run_refuses_a_missing_directory_before_the_run_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("no/such/dir/t.csv");
    let report = dir.path().join("r.json");
    bad_input(
        output(&[
            "run",
            &shipped(MIXED),
            "--trials",
            "100",
            "--trials-csv",
            csv.to_str().unwrap(),
            "--out",
            report.to_str().unwrap(),
        ]),
        "does not exist",
    );
    assert!(!report.exists(), "the run went ahead");
}

#[test]
fn shard_refuses_trials_csv_and_merge_writes_the_unsharded_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let scenario = shipped(MIXED);
    let scenario = scenario.as_str();
    let common = ["--trials", "1500", "--seed", "9"];
    let mut refused = vec!["run", scenario, "--shard", "0/2"];
    let p0 = d("p0.bin");
    refused.extend(["--partial", &p0, "--trials-csv"]);
    let never = d("never.csv");
    refused.push(&never);
    refused.extend(common);
    bad_input(
        output(&refused),
        "--cashflow-csv and --by-year go with `consortium-sim merge`",
    );
    assert!(!Path::new(&never).exists());

    let whole = d("whole.csv");
    let mut args = vec!["run", scenario, "--trials-csv", &whole, "--quiet"];
    args.extend(common);
    ok(output(&args));
    let parts = [d("p0.bin"), d("p1.bin")];
    for (k, part) in parts.iter().enumerate() {
        let shard = format!("{k}/2");
        let mut args = vec!["run", scenario, "--shard", &shard, "--partial", part];
        args.extend(common);
        ok(output(&args));
    }
    let merged = d("merged.csv");
    ok(output(&[
        "merge",
        &parts[1],
        &parts[0],
        "--trials-csv",
        &merged,
        "--out",
        &d("merged.json"),
    ]));
    assert_eq!(
        std::fs::read_to_string(&merged).unwrap(),
        std::fs::read_to_string(&whole).unwrap()
    );
}
