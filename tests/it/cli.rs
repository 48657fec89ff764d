//! The command line, end to end: `validate`, `init`, `run`, `trace`, `--set`, `--out`,
//! exit codes and determinism, driving the real binary with std::process::Command.
//!
//! Every run uses at most 2000 trials so that the whole file takes a few seconds in
//! release mode. Tests of behaviour that is currently wrong are marked
//! `#[ignore = "BUG: ..."]` and state the correct behaviour.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{Dir, Out, all_shipped, cmd, f, read_json, shipped, sim};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

const MIXED: &str = "mixed_jv_county_district_police.json";
const FOUR: &str = "four_districts_back_office.json";

fn partner_names(scenario: &Value) -> Vec<String> {
    scenario["partners"]
        .as_array()
        .expect("partners is a list")
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

/// A small valid scenario with no uncertainty: the minimal file of the format docs, with
/// room to add fields.
fn base() -> Value {
    json!({
        "name": "Two districts: shared payroll",
        "horizon_years": 10,
        "service": {
            "efficiency": 0.15,
            "fixed_cost": 120000,
            "transition_cost": 400000
        },
        "partners": [
            {"name": "District A", "baseline_cost": 1200000},
            {"name": "District B", "baseline_cost": 900000}
        ]
    })
}

/// Sets `pointer` in `v` (the parent must exist).
fn set(v: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = if parent.is_empty() {
        &mut *v
    } else {
        v.pointer_mut(parent)
            .unwrap_or_else(|| panic!("no parent {parent}"))
    };
    match parent {
        Value::Object(m) => {
            m.insert(key.to_string(), value);
        }
        Value::Array(a) => a[key.parse::<usize>().unwrap()] = value,
        _ => panic!("{pointer}: parent is not a container"),
    }
}

fn remove(v: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    v.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key)
        .unwrap_or_else(|| panic!("{pointer} was not there"));
}

/// Runs `validate` on a scenario and returns the outcome.
fn validate_json(v: &Value) -> Out {
    let d = Dir::new();
    let f = d.write_json("scenario.json", v);
    sim(&["validate", &f])
}

/// Asserts that validating `v` fails with exit code 2 and that every `(path, reason)` is
/// one listed problem: a line "  - PATH: ..." that contains REASON.
fn assert_problems(v: &Value, expected: &[(&str, &str)]) -> Out {
    let out = validate_json(v);
    out.bad_input();
    for (path, reason) in expected {
        let prefix = format!("  - {path}: ");
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(reason)),
            "no problem line for {path} containing {reason:?}:\n{}",
            out.stderr
        );
    }
    out
}

/// The problem lines of a validation failure.
fn problem_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("  - ")).collect()
}

/// Runs `run ... --out FILE` and returns the report's text.
fn report_text(args: &[&str]) -> String {
    let d = Dir::new();
    let out_path = d.path("report.json");
    let out_s = out_path.display().to_string();
    let mut all: Vec<&str> = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", &out_s]);
    sim(&all).ok();
    std::fs::read_to_string(&out_path).expect("the report was written")
}

fn report(args: &[&str]) -> Value {
    serde_json::from_str(&report_text(args)).expect("the report is JSON")
}

/// The report with its `run` object (timings, threads) and its `provenance` (the time,
/// the overrides as given) removed, re-serialised.
fn without_run(text: &str) -> String {
    let mut v: Value = serde_json::from_str(text).unwrap();
    let report = v.as_object_mut().unwrap();
    report.remove("run").expect("the report has a run object");
    report
        .remove("provenance")
        .expect("the report has a provenance object");
    serde_json::to_string_pretty(&v).unwrap()
}

/// The raw report text with the `"run": {...}` block cut out and the provenance's
/// generation time masked (the moment differs between runs), otherwise byte for byte.
pub(crate) fn cut_run_block(text: &str) -> String {
    let start = text
        .find("\n  \"run\": {")
        .unwrap_or_else(|| panic!("no run block in:\n{text}"));
    let len = text[start + 1..]
        .find("\n  }")
        .expect("the run block closes");
    let end = start + 1 + len + "\n  }".len();
    assert_eq!(
        text.matches("\"run\": {").count(),
        1,
        "exactly one run block"
    );
    let generated = regex::Regex::new(r#""generated_at": "[^"]*""#).unwrap();
    let text = format!("{}{}", &text[..start], &text[end..]);
    generated.replace(&text, "GENERATED").into_owned()
}

/// A money figure as printed by the terminal and trace output ("-£1,234,567") in units.
fn money(s: &str) -> i64 {
    let digits: String = s
        .trim()
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits
        .parse()
        .unwrap_or_else(|e| panic!("not money: {s:?}: {e}"))
}

/// The "Consortium NPV X" figure of a trace.
fn trace_npv(trace: &str) -> i64 {
    let line = trace
        .lines()
        .find(|l| l.starts_with("Consortium NPV "))
        .unwrap_or_else(|| panic!("no Consortium NPV line in:\n{trace}"));
    money(&line["Consortium NPV ".len()..])
}

/// The "cumulative discounted saving X" figures of a trace, one per year.
fn trace_cumulative(trace: &str) -> Vec<i64> {
    trace
        .lines()
        .filter_map(|l| l.trim().strip_prefix("cumulative discounted saving "))
        .map(money)
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. Validation errors, through `validate FILE`
// ---------------------------------------------------------------------------------------

#[test]
fn validate_accepts_the_minimal_documented_file() {
    let out = validate_json(&base());
    out.ok();
    assert!(out.stdout.starts_with("ok\n"), "{}", out.stdout);
    assert!(out.stdout.contains("Two districts: shared payroll"));
}

#[test]
fn unknown_service_field_is_reported_with_did_you_mean() {
    let mut v = base();
    remove(&mut v, "/service/efficiency");
    set(&mut v, "/service/efficency", json!(0.15));
    assert_problems(
        &v,
        &[(
            "/service/efficency",
            "unknown field \"efficency\" (did you mean \"efficiency\"?)",
        )],
    );
}

#[test]
fn unknown_partner_field_is_reported_with_did_you_mean() {
    let mut v = base();
    set(&mut v, "/partners/1/withdrawl_hazard", json!(0.02));
    set(&mut v, "/partners/0/exit_fe", json!(1000));
    assert_problems(
        &v,
        &[
            (
                "/partners/1/withdrawl_hazard",
                "unknown field \"withdrawl_hazard\" (did you mean \"withdrawal_hazard\"?)",
            ),
            (
                "/partners/0/exit_fe",
                "unknown field \"exit_fe\" (did you mean \"exit_fee\"?)",
            ),
        ],
    );
}

#[test]
fn unknown_top_level_and_dispute_fields_are_reported() {
    let mut v = base();
    set(&mut v, "/horizon", json!(10));
    set(&mut v, "/disputes", json!({"hazzard_uplift": 0.1}));
    assert_problems(
        &v,
        &[
            ("/horizon", "unknown field \"horizon\""),
            (
                "/disputes/hazzard_uplift",
                "(did you mean \"hazard_uplift\"?)",
            ),
        ],
    );
}

#[test]
fn string_where_a_number_is_expected_is_a_type_error() {
    let mut v = base();
    set(&mut v, "/service/efficiency", json!("0.15"));
    set(&mut v, "/horizon_years", json!("ten"));
    set(&mut v, "/partners/0/baseline_cost", json!("lots"));
    assert_problems(
        &v,
        &[
            ("/service/efficiency", "expected a number"),
            ("/service/efficiency", "\"0.15\""),
            ("/horizon_years", "expected a whole number"),
            ("/partners/0/baseline_cost", "expected a number"),
        ],
    );
}

#[test]
fn fractional_year_count_is_rejected() {
    let mut v = base();
    set(&mut v, "/horizon_years", json!(10.5));
    assert_problems(&v, &[("/horizon_years", "expected a whole number")]);
    // ...but 10.0 is a whole number.
    set(&mut v, "/horizon_years", json!(10.0));
    validate_json(&v).ok();
}

/// A whole number too large for 64 bits, or negative, is out of range, not "not whole".
#[test]
fn whole_numbers_beyond_64_bits_are_out_of_range() {
    for seed in [2e19, 18446744073709551616.0] {
        let mut v = base();
        set(&mut v, "/seed", json!(seed));
        set(&mut v, "/trials", json!(-5));
        assert_problems(
            &v,
            &[
                ("/seed", "must be at most 18446744073709551615"),
                ("/trials", "out of range: must be at least 1"),
            ],
        );
    }
    // Whole doubles below 2^64 are valid seeds, up to the largest.
    for seed in [1.81e19, 18446744073709549568.0] {
        let mut v = base();
        set(&mut v, "/seed", json!(seed));
        validate_json(&v).ok();
    }
}

#[test]
fn dispute_probability_above_one_is_out_of_range() {
    let mut v = base();
    set(
        &mut v,
        "/disputes",
        json!({"annual_probability": 1.5, "resolution_probability": 0.5}),
    );
    assert_problems(
        &v,
        &[(
            "/disputes/annual_probability",
            "1.5 is out of range: must be between 0 and 1",
        )],
    );
}

#[test]
fn join_probability_above_one_is_out_of_range() {
    let mut v = base();
    set(&mut v, "/partners/1/joins_year", json!(2));
    set(&mut v, "/partners/1/join_probability", json!(2));
    set(&mut v, "/min_members", json!(1));
    assert_problems(
        &v,
        &[(
            "/partners/1/join_probability",
            "2 is out of range: must be between 0 and 1",
        )],
    );
}

#[test]
fn negative_probability_is_out_of_range() {
    let mut v = base();
    set(&mut v, "/partners/0/rejoin_probability", json!(-0.1));
    assert_problems(
        &v,
        &[("/partners/0/rejoin_probability", "must be between 0 and 1")],
    );
}

#[test]
fn distribution_with_mean_outside_range_is_rejected() {
    let mut v = base();
    set(
        &mut v,
        "/partners/0/exit_fee",
        json!({"normal": [-100, 10]}),
    );
    set(
        &mut v,
        "/partners/1/join_probability",
        json!({"uniform": [0.8, 1.6]}),
    );
    assert_problems(
        &v,
        &[
            (
                "/partners/0/exit_fee",
                "the distribution's mean -100 lies outside the field's range: must be >= 0",
            ),
            (
                "/partners/1/join_probability",
                "lies outside the field's range: must be between 0 and 1",
            ),
        ],
    );
}

#[test]
fn distribution_with_mean_inside_range_is_accepted_even_if_it_can_draw_outside() {
    // MODEL.md: validation checks the mean; draws outside the range are clamped.
    let mut v = base();
    set(
        &mut v,
        "/partners/0/withdrawal_hazard",
        json!({"normal": [0.02, 0.03]}),
    );
    validate_json(&v).ok();
}

#[test]
fn triangular_and_pert_with_min_above_mode_or_mode_above_max_are_rejected() {
    let mut v = base();
    set(
        &mut v,
        "/service/efficiency",
        json!({"triangular": [0.2, 0.1, 0.3]}),
    );
    set(
        &mut v,
        "/service/fixed_cost",
        json!({"triangular": [100, 200, 150]}),
    );
    set(
        &mut v,
        "/service/transition_cost",
        json!({"pert": [500, 400, 600]}),
    );
    set(&mut v, "/partners/0/exit_fee", json!({"pert": [1, 5, 3]}));
    assert_problems(
        &v,
        &[
            (
                "/service/efficiency/triangular",
                "min 0.2 is greater than mode 0.1",
            ),
            (
                "/service/fixed_cost/triangular",
                "mode 200 is greater than max 150",
            ),
            (
                "/service/transition_cost/pert",
                "min 500 is greater than mode 400",
            ),
            ("/partners/0/exit_fee/pert", "mode 5 is greater than max 3"),
        ],
    );
}

#[test]
fn negative_sd_in_normal_and_lognormal_is_rejected() {
    let mut v = base();
    set(
        &mut v,
        "/service/efficiency",
        json!({"normal": [0.1, -0.1]}),
    );
    set(
        &mut v,
        "/partners/1/baseline_cost",
        json!({"lognormal": {"mean": 900000, "sd": -5}}),
    );
    assert_problems(
        &v,
        &[
            ("/service/efficiency/normal", "sd -0.1 is negative"),
            (
                "/partners/1/baseline_cost/lognormal/sd",
                "sd -5 is negative",
            ),
        ],
    );
}

#[test]
fn transition_profile_not_summing_to_one_is_rejected() {
    let mut v = base();
    set(&mut v, "/service/transition_profile", json!([0.5, 0.49]));
    assert_problems(
        &v,
        &[(
            "/service/transition_profile",
            "shares must sum to 1 (within 1e-9), but they sum to 0.99",
        )],
    );
}

#[test]
fn duplicate_partner_names_are_rejected() {
    let mut v = base();
    set(&mut v, "/partners/1/name", json!("District A"));
    assert_problems(
        &v,
        &[(
            "/partners/1/name",
            "duplicate partner name \"District A\" (also at /partners/0)",
        )],
    );
}

/// Names that differ only by spaces at their ends would look alike in every table.
#[test]
fn partner_names_that_differ_only_by_spaces_at_their_ends_are_rejected() {
    let mut v = base();
    set(&mut v, "/partners/1/name", json!(" District A  "));
    assert_problems(
        &v,
        &[(
            "/partners/1/name",
            "partner name \" District A  \" differs from \"District A\" (at /partners/0) only \
             by spaces at its ends, so the two would look alike in every table; give them \
             different names",
        )],
    );
    // So do characters that do not show, and spaces other than a plain one: named.
    set(&mut v, "/partners/1/name", json!("District A\u{200b}"));
    assert_problems(
        &v,
        &[(
            "/partners/1/name",
            "only by spaces at its ends or characters that do not show (U+200B), so the two \
             would look alike",
        )],
    );
    set(&mut v, "/partners/1/name", json!("\u{a0}District A"));
    assert_problems(
        &v,
        &[(
            "/partners/1/name",
            "only by spaces at its ends or characters that do not show (U+00A0), so",
        )],
    );
    // Spaces inside a name make another name.
    set(&mut v, "/partners/1/name", json!("District  A"));
    validate_json(&v).ok();
}

#[test]
fn duplicate_partner_name_is_found_even_when_that_partner_has_other_problems() {
    let mut v = base();
    set(&mut v, "/partners/1/name", json!("District A"));
    set(&mut v, "/partners/1/exit_fee", json!(-1));
    assert_problems(
        &v,
        &[
            ("/partners/1/name", "duplicate partner name \"District A\""),
            ("/partners/1/exit_fee", "out of range"),
        ],
    );
}

#[test]
fn fixed_cost_sharing_naming_an_unknown_partner_and_missing_one_is_rejected() {
    let mut v = base();
    set(
        &mut v,
        "/service/cost_sharing",
        json!({"fixed": {"District A": 1, "Police": 2}}),
    );
    let out = assert_problems(
        &v,
        &[
            (
                "/service/cost_sharing/fixed/Police",
                "\"Police\" is not a partner",
            ),
            (
                "/service/cost_sharing/fixed",
                "fixed weights must name every partner; missing \"District B\"",
            ),
        ],
    );
    assert_eq!(problem_lines(&out.stderr).len(), 2, "{}", out.stderr);
}

#[test]
fn fixed_cost_sharing_suggestion_points_to_the_missing_partner() {
    let mut v = base();
    set(
        &mut v,
        "/service/cost_sharing",
        json!({"fixed": {"District A": 1, "District C": 2}}),
    );
    let out = validate_json(&v);
    out.bad_input();
    let line = problem_lines(&out.stderr)
        .into_iter()
        .find(|l| l.starts_with("  - /service/cost_sharing/fixed/District C: "))
        .unwrap_or_else(|| panic!("no problem for District C:\n{}", out.stderr));
    assert!(
        line.contains("(did you mean \"District B\"?)"),
        "the suggestion should be the partner with no weight: {line}"
    );
}

#[test]
fn horizon_of_zero_and_above_one_hundred_is_rejected_and_bounds_accepted() {
    for bad in [0, 101] {
        let mut v = base();
        set(&mut v, "/horizon_years", json!(bad));
        assert_problems(
            &v,
            &[(
                "/horizon_years",
                &format!("{bad} is out of range: must be between 1 and 100"),
            )],
        );
    }
    for good in [1, 100] {
        let mut v = base();
        set(&mut v, "/horizon_years", json!(good));
        validate_json(&v).ok();
    }
}

#[test]
fn missing_efficiency_is_a_required_field_error() {
    let mut v = base();
    remove(&mut v, "/service/efficiency");
    let out = assert_problems(
        &v,
        &[(
            "/service/efficiency",
            "required field \"efficiency\" is missing",
        )],
    );
    assert_eq!(problem_lines(&out.stderr).len(), 1, "{}", out.stderr);
}

#[test]
fn fewer_founders_than_min_members_is_rejected() {
    // Three members needed, two partners.
    let mut v = base();
    set(&mut v, "/min_members", json!(3));
    assert_problems(
        &v,
        &[(
            "/min_members",
            "min_members is 3 but only 2 partners found the consortium",
        )],
    );
    // Two partners but only one founder: the late joiner does not count.
    let mut v = base();
    set(&mut v, "/partners/1/joins_year", json!(2));
    assert_problems(
        &v,
        &[(
            "/min_members",
            "min_members is 2 but only 1 partner found the consortium",
        )],
    );
    // min_members 1 with one founder is fine.
    set(&mut v, "/min_members", json!(1));
    validate_json(&v).ok();
}

#[test]
fn json_syntax_error_reports_line_and_column() {
    let d = Dir::new();
    // Missing comma at the end of line 2; serde_json notices it on line 3.
    let f = d.write(
        "broken.json",
        "{\n  \"name\": \"x\"\n  \"horizon_years\": 10\n}\n",
    );
    let out = sim(&["validate", &f]);
    out.bad_input()
        .stderr_has("broken.json")
        .stderr_has("not valid JSON")
        .stderr_has("line 3 column");
}

/// Notepad's UTF-8 byte-order mark is skipped, not reported as a syntax error.
#[test]
fn a_byte_order_mark_is_skipped() {
    let d = Dir::new();
    let text = format!("\u{feff}{}", serde_json::to_string(&base()).unwrap());
    let f = d.write("bom.json", &text);
    sim(&["validate", &f]).ok();
}

#[test]
fn json_syntax_error_message_is_not_repeated() {
    let d = Dir::new();
    let f = d.write(
        "broken.json",
        "{\n  \"name\": \"x\",\n  \"horizon_years\": 10,,\n}\n",
    );
    let out = sim(&["validate", &f]);
    out.bad_input();
    assert_eq!(
        out.stderr.matches("line 3 column").count(),
        1,
        "the position is given more than once:\n{}",
        out.stderr
    );
}

#[test]
fn unknown_distribution_form_is_reported_with_suggestion() {
    let mut v = base();
    set(
        &mut v,
        "/service/efficiency",
        json!({"trianglar": [0.1, 0.15, 0.2]}),
    );
    assert_problems(
        &v,
        &[(
            "/service/efficiency/trianglar",
            "unknown distribution \"trianglar\" (did you mean \"triangular\"?)",
        )],
    );
}

#[test]
fn discrete_weights_summing_to_zero_are_rejected() {
    let mut v = base();
    set(
        &mut v,
        "/service/efficiency",
        json!({"discrete": [[0.1, 0], [0.2, 0]]}),
    );
    assert_problems(
        &v,
        &[(
            "/service/efficiency/discrete",
            "weights must sum to a positive finite number, found 0",
        )],
    );
}

#[test]
fn empty_file_is_bad_input_naming_the_file() {
    let d = Dir::new();
    let f = d.write("empty.json", "");
    sim(&["validate", &f])
        .bad_input()
        .stderr_has("empty.json is not valid JSON: it is empty");
    let f = d.write("blank.json", " \n\t\n");
    sim(&["validate", &f])
        .bad_input()
        .stderr_has("blank.json is not valid JSON: it is empty");
}

/// A scenario saved as UTF-16 (PowerShell's `>`, some editors' "Unicode") is named as
/// such, with or without its byte-order mark, in either byte order; the parser's line
/// and column follow. A UTF-8 file that is merely broken gets no such hint.
#[test]
fn a_utf16_file_is_named_as_such() {
    let d = Dir::new();
    let json = std::fs::read_to_string(shipped("four_districts_back_office.json")).unwrap();
    let units: Vec<u16> = "\u{feff}"
        .encode_utf16()
        .chain(json.encode_utf16())
        .collect();
    let little: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
    let big: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
    for (name, bytes) in [
        ("le.json", little.clone()),
        ("be.json", big.clone()),
        ("le-no-mark.json", little[2..].to_vec()),
        ("be-no-mark.json", big[2..].to_vec()),
    ] {
        let path = d.path(name);
        std::fs::write(&path, bytes).unwrap();
        sim(&["validate", path.to_str().unwrap()])
            .bad_input()
            .stderr_has(&format!(
                "{name} is not valid JSON: it looks like UTF-16 text (as PowerShell's > and some Windows editors save); save it as UTF-8"
            ))
            .stderr_has("line 1 column");
    }
    let utf32: Vec<u8> = "\u{feff}{}"
        .chars()
        .flat_map(|c| (c as u32).to_le_bytes())
        .collect();
    let path = d.path("utf32.json");
    std::fs::write(&path, utf32).unwrap();
    sim(&["validate", path.to_str().unwrap()])
        .bad_input()
        .stderr_has("utf32.json is not valid JSON: it looks like UTF-32 text; save it as UTF-8");
    // Merely broken, or a stray NUL before UTF-8 JSON: no hint.
    let nul = d.write("nul.json", &format!("\0{json}"));
    for f in [d.write("broken.json", "{\"name\": }"), nul] {
        let out = sim(&["validate", &f]);
        out.bad_input().stderr_has(" is not valid JSON: ");
        assert!(!out.stderr.contains("UTF-"), "{}", out.stderr);
        assert!(!out.stderr.contains("empty"), "{}", out.stderr);
    }
}

#[test]
fn nonexistent_file_is_bad_input_naming_the_file() {
    let d = Dir::new();
    let missing = d.path("no-such-scenario.json").display().to_string();
    sim(&["validate", &missing])
        .bad_input()
        .stderr_has(&missing);
    // run and trace treat it the same way.
    sim(&["run", &missing, "--trials", "10"])
        .bad_input()
        .stderr_has(&missing);
    sim(&["trace", &missing, "--trial", "0"])
        .bad_input()
        .stderr_has(&missing);
}

#[test]
fn nonexistent_file_message_is_not_repeated() {
    let d = Dir::new();
    let missing = d.path("no-such-scenario.json").display().to_string();
    let out = sim(&["validate", &missing]);
    out.bad_input();
    assert_eq!(
        out.stderr.matches("os error 2").count(),
        1,
        "the reason is given more than once:\n{}",
        out.stderr
    );
}

#[test]
fn scenario_path_that_is_a_directory_is_bad_input() {
    let d = Dir::new();
    let dir = d.0.path().display().to_string();
    sim(&["validate", &dir]).bad_input().stderr_has(&dir);
}

#[test]
fn every_problem_of_a_broken_file_is_listed_each_with_its_path() {
    let broken = json!({
        "name": "",
        "horizon_years": 0,
        "discount_rate": "green_bok",
        "service": {
            "efficency": 0.1,
            "transition_profile": [0.5, 0.4],
            "fixed_cost": {"uniform": [5, 1]}
        },
        "partners": [
            {"name": "A", "baseline_cost": -5, "join_probability": 2},
            {"name": "B", "baseline_cost": "lots", "exit_fee": {"normal": [1, -1]}}
        ],
        "disputes": {"annual_probability": 1.5, "hazzard_uplift": 0.1}
    });
    let expected = [
        ("/name", "must not be empty"),
        ("/horizon_years", "0 is out of range"),
        ("/discount_rate", "(did you mean \"green_book\"?)"),
        ("/service/efficency", "unknown field \"efficency\""),
        (
            "/service/efficiency",
            "required field \"efficiency\" is missing",
        ),
        ("/service/transition_profile", "shares must sum to 1"),
        ("/service/fixed_cost/uniform", "lo 5 is greater than hi 1"),
        (
            "/partners/0/baseline_cost",
            "-5 is out of range: must be > 0",
        ),
        ("/partners/0/join_probability", "must be between 0 and 1"),
        ("/partners/1/baseline_cost", "expected a number"),
        ("/partners/1/exit_fee/normal", "sd -1 is negative"),
        ("/disputes/annual_probability", "must be between 0 and 1"),
        (
            "/disputes/hazzard_uplift",
            "unknown field \"hazzard_uplift\"",
        ),
    ];
    let out = assert_problems(&broken, &expected);
    let lines = problem_lines(&out.stderr);
    assert_eq!(
        lines.len(),
        expected.len(),
        "one line per problem, no more:\n{}",
        out.stderr
    );
    out.stderr_has(&format!("has {} problems", expected.len()));
}

// ---------------------------------------------------------------------------------------
// 2. validate on shipped scenarios; init
// ---------------------------------------------------------------------------------------

#[test]
fn every_shipped_scenario_validates() {
    for path in all_shipped() {
        let p = path.display().to_string();
        let out = sim(&["validate", &p]);
        assert_eq!(out.code, 0, "{p}:\n{}", out.stderr);
        assert!(
            out.stdout.starts_with("ok\n"),
            "{p}: validate did not print ok:\n{}",
            out.stdout
        );
        let name = read_json(&path)["name"].as_str().unwrap().to_string();
        assert!(out.stdout.contains(&name), "{p}: summary lacks the name");
    }
}

#[test]
fn init_output_is_a_valid_scenario_with_every_section() {
    let out = sim(&["init"]);
    out.ok();
    let v: Value = serde_json::from_str(&out.stdout).expect("init prints JSON");
    assert!(v["service"].is_object(), "no service section");
    assert!(
        v["partners"].as_array().is_some_and(|p| !p.is_empty()),
        "no partners"
    );
    assert!(v["disputes"].is_object(), "no disputes section");
    let d = Dir::new();
    let f = d.write("my.json", &out.stdout);
    let checked = sim(&["validate", &f]);
    checked.ok();
    assert!(checked.stdout.starts_with("ok\n"), "{}", checked.stdout);
    // And the template runs.
    let run = sim(&["run", &f, "--trials", "300"]);
    run.ok();
    for name in partner_names(&v) {
        assert!(run.stdout.contains(&name), "summary lacks {name}");
    }
}

// ---------------------------------------------------------------------------------------
// 3. run on every shipped scenario
// ---------------------------------------------------------------------------------------

#[test]
fn run_prints_a_summary_for_every_shipped_scenario() {
    for path in all_shipped() {
        let p = path.display().to_string();
        let out = sim(&["run", &p, "--trials", "500"]);
        assert_eq!(out.code, 0, "{p}:\n{}", out.stderr);
        let s = &out.stdout;
        assert!(s.contains("P(collapse)"), "{p}: no P(collapse):\n{s}");
        assert!(s.contains("Consortium NPV"), "{p}: no NPV:\n{s}");
        assert!(s.contains("500 trials"), "{p}: trial count not shown:\n{s}");
        let v = read_json(&path);
        assert!(s.contains(v["name"].as_str().unwrap()), "{p}: no name");
        for name in partner_names(&v) {
            assert!(s.contains(&name), "{p}: summary lacks partner {name}:\n{s}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// 4. The JSON report
// ---------------------------------------------------------------------------------------

const NPV_KEYS: &[&str] = &[
    "mean", "sd", "se", "p05", "p10", "p25", "p50", "p75", "p90", "p95", "cvar05",
];
const BAND_KEYS: &[&str] = &["p05", "p25", "p50", "p75", "p95", "mean"];

fn assert_numbers(v: &Value, at: &str, keys: &[&str]) {
    for k in keys {
        let x = &v[*k];
        assert!(
            x.as_f64().is_some_and(f64::is_finite),
            "{at}.{k} is not a finite number: {x}"
        );
    }
}

/// Checks every key of MODEL.md's report section.
fn assert_report_schema(r: &Value, scenario: &Value, trials: u64, seed: u64, threads: u64) {
    assert_eq!(r["schema"], json!(1));
    assert_eq!(r["scenario"], scenario["name"]);
    assert_eq!(r["seed"], json!(seed));
    assert_eq!(r["trials"], json!(trials));
    let h = scenario["horizon_years"].as_u64().unwrap();
    assert_eq!(r["horizon_years"], json!(h));

    let c = &r["consortium"];
    assert!(c.is_object(), "no consortium object");
    assert_numbers(&c["npv"], "consortium.npv", NPV_KEYS);
    let neg = &c["prob_npv_negative"];
    let est = neg["estimate"]
        .as_f64()
        .expect("prob_npv_negative.estimate");
    let ci = neg["ci95"].as_array().expect("prob_npv_negative.ci95");
    assert_eq!(ci.len(), 2, "ci95 is [lo, hi]");
    let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(
        0.0 <= lo && lo <= est && est <= hi && hi <= 1.0,
        "Wilson interval [{lo}, {hi}] around {est}"
    );
    let pc = c["prob_collapse"].as_f64().expect("prob_collapse");
    assert!((0.0..=1.0).contains(&pc));
    let pb = &c["payback_year"];
    let within = pb["prob_within_horizon"]
        .as_f64()
        .expect("payback_year.prob_within_horizon");
    assert!((0.0..=1.0).contains(&within));
    let p50 = pb.get("p50").expect("payback_year.p50 is present");
    assert!(
        p50.is_null() || p50.as_u64().is_some_and(|y| y < h),
        "payback_year.p50 is null or a year: {p50}"
    );
    let by_year = c["by_year"].as_array().expect("by_year is a list");
    assert_eq!(by_year.len() as u64, h, "one by_year entry per year");
    for (t, band) in by_year.iter().enumerate() {
        assert_numbers(band, &format!("by_year[{t}]"), BAND_KEYS);
    }

    let partners = r["partners"].as_array().expect("partners is a list");
    let names = partner_names(scenario);
    assert_eq!(partners.len(), names.len());
    for (p, name) in partners.iter().zip(&names) {
        assert_eq!(p["name"].as_str(), Some(name.as_str()), "partner order");
        assert_numbers(&p["npv"], &format!("partner {name} npv"), NPV_KEYS);
        for k in ["prob_worse_off", "prob_withdraws"] {
            let x = p[k].as_f64().unwrap_or_else(|| panic!("{name}: no {k}"));
            assert!((0.0..=1.0).contains(&x), "{name}.{k} = {x}");
        }
    }

    let e = &r["events"];
    for k in ["withdrawals", "rejoins", "disputes", "dispute_years"] {
        let x = e[k].as_f64().unwrap_or_else(|| panic!("no events.{k}"));
        assert!(x >= 0.0, "events.{k} = {x}");
    }

    let run = &r["run"];
    assert!(
        run["engine_version"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "run.engine_version"
    );
    assert_eq!(run["threads"], json!(threads), "run.threads");
    assert!(run["elapsed_seconds"].as_f64().is_some_and(|x| x >= 0.0));
    assert!(run["trials_per_second"].as_f64().is_some_and(|x| x >= 0.0));
}

#[test]
fn report_has_every_key_of_the_model_report_section() {
    for name in [MIXED, FOUR] {
        let path = shipped(name);
        let r = report(&[&path, "--trials", "700", "--seed", "11", "--threads", "2"]);
        assert_report_schema(&r, &read_json(Path::new(&path)), 700, 11, 2);
    }
}

#[test]
fn report_by_year_last_p50_equals_npv_p50() {
    for path in all_shipped() {
        let p = path.display().to_string();
        let r = report(&[&p, "--trials", "400"]);
        let by_year = r["consortium"]["by_year"].as_array().unwrap();
        let last = by_year.last().unwrap();
        assert_eq!(
            last["p50"], r["consortium"]["npv"]["p50"],
            "{p}: by_year[H-1].p50 is not the NPV median"
        );
        assert_eq!(
            last["mean"], r["consortium"]["npv"]["mean"],
            "{p}: by_year[H-1].mean is not the NPV mean"
        );
    }
}

#[test]
fn run_out_prints_where_it_wrote_instead_of_the_summary() {
    let d = Dir::new();
    let out_path = d.path("r.json").display().to_string();
    let out = sim(&["run", &shipped(FOUR), "--trials", "200", "--out", &out_path]);
    out.ok();
    assert!(out.stdout.contains("wrote"), "{}", out.stdout);
    assert!(out.stdout.contains(&out_path), "{}", out.stdout);
    assert!(!out.stdout.contains("P(collapse)"), "{}", out.stdout);
    let text = std::fs::read_to_string(&out_path).unwrap();
    assert!(text.ends_with('\n'));
}

#[test]
fn run_out_accepts_a_bare_file_name_in_the_current_directory() {
    let d = Dir::new();
    let o = cmd(&[
        "run",
        &shipped(FOUR),
        "--trials",
        "100",
        "--out",
        "bare.json",
    ])
    .current_dir(d.0.path())
    .output()
    .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = read_json(&d.path("bare.json"));
    assert_eq!(r["trials"], json!(100));
}

// ---------------------------------------------------------------------------------------
// 5. Determinism
// ---------------------------------------------------------------------------------------

#[test]
fn report_is_byte_identical_across_thread_counts() {
    let path = shipped(MIXED);
    let texts: Vec<String> = [1, 2, 4]
        .iter()
        .map(|t| report_text(&[&path, "--trials", "2000", "--threads", &t.to_string()]))
        .collect();
    let threads: Vec<Value> = texts
        .iter()
        .map(|t| serde_json::from_str::<Value>(t).unwrap()["run"]["threads"].clone())
        .collect();
    assert_eq!(threads, vec![json!(1), json!(2), json!(4)], "run.threads");
    for (i, t) in texts.iter().enumerate().skip(1) {
        assert_eq!(
            without_run(&texts[0]),
            without_run(t),
            "parsed report differs between 1 thread and run {i}"
        );
        assert_eq!(
            cut_run_block(&texts[0]),
            cut_run_block(t),
            "raw report text differs between 1 thread and run {i}"
        );
    }
}

#[test]
fn every_shipped_scenario_is_thread_count_independent() {
    for path in all_shipped() {
        let p = path.display().to_string();
        // 1100 trials: more than two of the engine's work chunks, with a ragged last one.
        let one = report_text(&[&p, "--trials", "1100", "--threads", "1"]);
        let three = report_text(&[&p, "--trials", "1100", "--threads", "3"]);
        assert_eq!(cut_run_block(&one), cut_run_block(&three), "{p}");
    }
}

#[test]
fn same_seed_twice_gives_identical_reports() {
    let path = shipped(MIXED);
    let a = report_text(&[&path, "--trials", "1000", "--seed", "42"]);
    let b = report_text(&[&path, "--trials", "1000", "--seed", "42"]);
    assert_eq!(without_run(&a), without_run(&b));
    assert_eq!(cut_run_block(&a), cut_run_block(&b));
}

#[test]
fn different_seeds_give_different_results() {
    let path = shipped(MIXED);
    let a = report(&[&path, "--trials", "1000", "--seed", "1"]);
    let b = report(&[&path, "--trials", "1000", "--seed", "2"]);
    assert_eq!(a["seed"], json!(1));
    assert_eq!(b["seed"], json!(2));
    assert_ne!(
        a["consortium"]["npv"], b["consortium"]["npv"],
        "the NPV figures do not depend on the seed"
    );
    assert_ne!(a["partners"], b["partners"]);
}

#[test]
fn seed_and_trials_flags_override_the_scenario_file() {
    let path = shipped(FOUR);
    // The file says seed 1: --seed 1 is the same run as no --seed.
    let default = report_text(&[&path, "--trials", "300"]);
    let explicit = report_text(&[&path, "--trials", "300", "--seed", "1"]);
    assert_eq!(without_run(&default), without_run(&explicit));
    // --seed beats the file's seed; --set /seed is the same as --seed.
    let flag = report_text(&[&path, "--trials", "300", "--seed", "7"]);
    let via_set = report_text(&[&path, "--trials", "300", "--set", "/seed=7"]);
    assert_eq!(without_run(&flag), without_run(&via_set));
    assert_ne!(without_run(&flag), without_run(&default));
    // --trials beats the file's trials (100000 there).
    let via_set = report_text(&[&path, "--set", "/trials=300", "--seed", "7"]);
    assert_eq!(without_run(&flag), without_run(&via_set));
}

// ---------------------------------------------------------------------------------------
// 6. --set
// ---------------------------------------------------------------------------------------

#[test]
fn set_number_changes_the_result() {
    let path = shipped(FOUR);
    let before = report(&[&path, "--trials", "500"]);
    let after = report(&[&path, "--trials", "500", "--set", "/service/efficiency=0.3"]);
    let (m0, m1) = (
        f(&before, "/consortium/npv/mean"),
        f(&after, "/consortium/npv/mean"),
    );
    assert!(
        m1 > m0,
        "raising efficiency to 0.3 should raise the mean NPV: {m0} -> {m1}"
    );
}

#[test]
fn set_distribution_json_is_used_as_a_distribution() {
    let d = Dir::new();
    let f0 = d.write_json("certain.json", &base());
    let fixed = report(&[&f0, "--trials", "1000"]);
    assert_eq!(f(&fixed, "/consortium/npv/sd"), 0.0, "no uncertainty");
    let npv = f(&fixed, "/consortium/npv/mean");
    let spread = report(&[
        &f0,
        "--trials",
        "1000",
        "--set",
        "/service/efficiency={\"uniform\": [0.1, 0.2]}",
    ]);
    let sd = f(&spread, "/consortium/npv/sd");
    assert!(sd > 0.0, "a uniform efficiency should spread the NPV");
    // No withdrawals and no disputes: NPV is linear in g, so the mean matches g = 0.15.
    let (mean, se) = (
        f(&spread, "/consortium/npv/mean"),
        f(&spread, "/consortium/npv/se"),
    );
    assert!(
        (mean - npv).abs() <= 4.0 * se,
        "mean {mean} vs {npv} (4 se = {})",
        4.0 * se
    );
    // validate accepts --set too, and counts the new uncertain input.
    let v = sim(&[
        "validate",
        &f0,
        "--set",
        "/service/efficiency={\"pert\": [0.08, 0.12, 0.18]}",
    ]);
    v.ok();
    assert!(v.stdout.contains("1 uncertain input"), "{}", v.stdout);
}

#[test]
fn set_by_partner_name_equals_set_by_index() {
    let path = shipped(MIXED);
    let plain = report_text(&[&path, "--trials", "500"]);
    let by_name = report_text(&[
        &path,
        "--trials",
        "500",
        "--set",
        "/partners/Ravensmoor Police/exit_fee=5000000",
    ]);
    let by_index = report_text(&[
        &path,
        "--trials",
        "500",
        "--set",
        "/partners/2/exit_fee=5000000",
    ]);
    assert_eq!(without_run(&by_name), without_run(&by_index));
    let (p0, p1): (Value, Value) = (
        serde_json::from_str(&plain).unwrap(),
        serde_json::from_str(&by_name).unwrap(),
    );
    assert_eq!(p1["partners"][2]["name"], json!("Ravensmoor Police"));
    let (m0, m1) = (
        f(&p0, "/partners/2/npv/mean"),
        f(&p1, "/partners/2/npv/mean"),
    );
    assert!(
        m1 < m0,
        "a £5m exit fee should cost the police when it leaves: {m0} -> {m1}"
    );
}

#[test]
fn set_with_missing_parent_exits_2_naming_the_pointer() {
    let path = shipped(FOUR);
    sim(&[
        "run",
        &path,
        "--trials",
        "10",
        "--set",
        "/servise/efficiency=0.2",
    ])
    .bad_input()
    .stderr_has("/servise/efficiency=0.2")
    .stderr_has("/servise does not exist");
    sim(&[
        "run",
        &path,
        "--trials",
        "10",
        "--set",
        "/partners/Nobody/exit_fee=1",
    ])
    .bad_input()
    .stderr_has("/partners/Nobody does not exist");
    sim(&[
        "run",
        &path,
        "--trials",
        "10",
        "--set",
        "/partners/9/exit_fee=1",
    ])
    .bad_input()
    .stderr_has("/partners/9 does not exist");
    sim(&["validate", &path, "--set", "/servise/efficiency=0.2"])
        .bad_input()
        .stderr_has("/servise does not exist");
}

#[test]
fn set_without_equals_or_slash_exits_2() {
    let path = shipped(FOUR);
    sim(&[
        "run",
        &path,
        "--trials",
        "10",
        "--set",
        "/service/efficiency",
    ])
    .bad_input()
    .stderr_has("POINTER=VALUE");
    sim(&[
        "run",
        &path,
        "--trials",
        "10",
        "--set",
        "service/efficiency=0.2",
    ])
    .bad_input()
    .stderr_has("must start with '/'");
}

#[test]
fn set_value_failing_validation_exits_2_naming_the_path() {
    let path = shipped(MIXED);
    sim(&[
        "run",
        &path,
        "--trials",
        "10",
        "--set",
        "/service/efficiency=abc",
    ])
    .bad_input()
    .stderr_has("  - /service/efficiency: expected a number");
    sim(&[
        "run",
        &path,
        "--trials",
        "10",
        "--set",
        "/partners/Ravensmoor Police/exit_fee=-5",
    ])
    .bad_input()
    .stderr_has("  - /partners/2/exit_fee: -5 is out of range");
    sim(&["run", &path, "--trials", "10", "--set", "/horizon_years=0"])
        .bad_input()
        .stderr_has("  - /horizon_years: 0 is out of range");
    // A new field is added, then rejected as unknown, with a suggestion.
    sim(&["validate", &path, "--set", "/service/efficency=0.2"])
        .bad_input()
        .stderr_has(
            "  - /service/efficency: unknown field \"efficency\" (did you mean \"efficiency\"?)",
        )
        .stderr_has("with --set overrides");
}

// ---------------------------------------------------------------------------------------
// 7. Exit codes and --out
// ---------------------------------------------------------------------------------------

#[test]
fn bad_flag_usage_exits_2() {
    let path = shipped(FOUR);
    sim(&["run", &path, "--bogus"]).bad_input();
    sim(&["run", &path, "--trials", "abc"]).bad_input();
    sim(&["run", &path, "--trials", "-5"]).bad_input();
    sim(&["run"]).bad_input();
    sim(&["frobnicate"]).bad_input();
    sim(&[]).bad_input();
    // trace needs exactly one of --trial and --worst.
    sim(&["trace", &path, "--trials", "10"]).bad_input();
    sim(&["trace", &path, "--trials", "10", "--trial", "1", "--worst"]).bad_input();
}

#[test]
fn help_and_version_exit_0() {
    sim(&["--help"]).ok();
    sim(&["run", "--help"]).ok();
    sim(&["--version"]).ok();
}

#[test]
fn zero_trials_or_threads_exit_2() {
    let path = shipped(FOUR);
    sim(&["run", &path, "--trials", "0"])
        .bad_input()
        .stderr_has("--trials must be at least 1");
    sim(&["trace", &path, "--trials", "0", "--worst"])
        .bad_input()
        .stderr_has("--trials");
    sim(&["run", &path, "--trials", "10", "--threads", "0"])
        .bad_input()
        .stderr_has("--threads");
    // trials 0 in the file is also rejected.
    let mut v = base();
    set(&mut v, "/trials", json!(0));
    assert_problems(&v, &[("/trials", "out of range")]);
}

#[test]
fn absurd_trial_count_is_bad_input_not_a_panic() {
    let out = sim(&["run", &shipped(FOUR), "--trials", &u64::MAX.to_string()]);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out.bad_input().stderr_has("--trials");
}

/// Runs a command, killing it if it takes longer than `limit`.
fn sim_timed(args: &[&str], limit: Duration) -> (Out, Duration) {
    let start = Instant::now();
    let mut child = cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = start.elapsed();
    let o = child.wait_with_output().unwrap();
    let out = Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8(o.stdout).unwrap(),
        stderr: String::from_utf8(o.stderr).unwrap(),
    };
    (out, elapsed)
}

#[test]
fn out_into_missing_directory_exits_2_before_running() {
    // Three million single-threaded trials would take several seconds: the error must
    // come first.
    let (out, took) = sim_timed(
        &[
            "run",
            &shipped(MIXED),
            "--trials",
            "3000000",
            "--threads",
            "1",
            "--out",
            "/nonexistent-dir/x.json",
        ],
        Duration::from_secs(30),
    );
    out.bad_input()
        .stderr_has("/nonexistent-dir/x.json")
        .stderr_has("the directory /nonexistent-dir does not exist");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        took < Duration::from_secs(2),
        "the output path was checked only after the run ({took:?})"
    );
}

#[test]
fn out_onto_a_directory_exits_2() {
    let d = Dir::new();
    let dir = d.0.path().display().to_string();
    sim(&["run", &shipped(FOUR), "--trials", "10", "--out", &dir])
        .bad_input()
        .stderr_has("is a directory");
}

#[test]
fn out_onto_a_directory_message_is_not_repeated() {
    let d = Dir::new();
    let dir = d.0.path().display().to_string();
    let out = sim(&["run", &shipped(FOUR), "--trials", "10", "--out", &dir]);
    out.bad_input();
    assert_eq!(
        out.stderr.matches("is a directory").count(),
        1,
        "{}",
        out.stderr
    );
}

#[test]
fn existing_report_is_replaced_only_on_success() {
    let d = Dir::new();
    let target = d.path("report.json");
    let t = target.display().to_string();
    let old = "{\"old\": true}\n";
    std::fs::write(&target, old).unwrap();
    let path = shipped(FOUR);

    // Failures of every kind leave the old report alone.
    sim(&["run", &path, "--trials", "0", "--out", &t]).bad_input();
    sim(&[
        "run",
        &path,
        "--trials",
        "50",
        "--set",
        "/horizon_years=0",
        "--out",
        &t,
    ])
    .bad_input();
    sim(&[
        "run",
        &path,
        "--trials",
        "50",
        "--set",
        "/nope/x=1",
        "--out",
        &t,
    ])
    .bad_input();
    let broken = d.write("broken.json", "{");
    sim(&["run", &broken, "--trials", "50", "--out", &t]).bad_input();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), old);

    // Success replaces it, and leaves no temporary files behind.
    sim(&["run", &path, "--trials", "50", "--out", &t]).ok();
    let r = read_json(&target);
    assert_eq!(r["trials"], json!(50));
    let mut names: Vec<String> = std::fs::read_dir(d.0.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["broken.json", "report.json"]);
}

// ---------------------------------------------------------------------------------------
// 8. trace
// ---------------------------------------------------------------------------------------

#[test]
fn trace_of_a_trial_is_repeatable() {
    let path = shipped(MIXED);
    let a = sim(&["trace", &path, "--trial", "3", "--trials", "100"]);
    let b = sim(&["trace", &path, "--trial", "3", "--trials", "100"]);
    a.ok();
    b.ok();
    assert_eq!(a.stdout, b.stdout);
    assert!(a.stdout.contains("trial 3"), "{}", a.stdout);
}

#[test]
fn trace_does_not_depend_on_threads() {
    let path = shipped(MIXED);
    let one = sim(&[
        "trace",
        &path,
        "--trial",
        "3",
        "--trials",
        "100",
        "--threads",
        "1",
    ]);
    let two = sim(&[
        "trace",
        &path,
        "--trial",
        "3",
        "--trials",
        "100",
        "--threads",
        "2",
    ]);
    one.ok();
    assert_eq!(one.stdout, two.stdout);
    let one = sim(&[
        "trace",
        &path,
        "--worst",
        "--trials",
        "1500",
        "--threads",
        "1",
    ]);
    let two = sim(&[
        "trace",
        &path,
        "--worst",
        "--trials",
        "1500",
        "--threads",
        "2",
    ]);
    one.ok();
    assert_eq!(one.stdout, two.stdout, "--worst picks a different trial");
}

#[test]
fn trace_does_not_depend_on_the_trial_count() {
    // Trial k's random numbers depend only on (seed, k).
    let path = shipped(MIXED);
    let small = sim(&["trace", &path, "--trial", "3", "--trials", "4"]);
    let large = sim(&["trace", &path, "--trial", "3", "--trials", "2000"]);
    small.ok();
    assert_eq!(small.stdout, large.stdout);
    let seed2 = sim(&[
        "trace", &path, "--trial", "3", "--trials", "4", "--seed", "2",
    ]);
    seed2.ok();
    assert_ne!(small.stdout, seed2.stdout, "the seed changes the trial");
}

#[test]
fn trace_has_one_year_line_per_horizon_year() {
    for path in all_shipped() {
        let p = path.display().to_string();
        let h = read_json(&path)["horizon_years"].as_u64().unwrap() as usize;
        let out = sim(&["trace", &p, "--trial", "5", "--trials", "10"]);
        out.ok();
        let years: Vec<usize> = out
            .stdout
            .lines()
            .filter_map(|l| l.strip_prefix("Year "))
            .map(|rest| rest.split(':').next().unwrap().trim().parse().unwrap())
            .collect();
        assert_eq!(years, (0..h).collect::<Vec<_>>(), "{p}: Year lines");
        assert_eq!(trace_cumulative(&out.stdout).len(), h, "{p}");
        assert!(out.stdout.contains("Consortium NPV "), "{p}");
    }
}

#[test]
fn trace_final_npv_agrees_with_its_own_years_and_partners() {
    let path = shipped(MIXED);
    let out = sim(&["trace", &path, "--trial", "3", "--trials", "10"]);
    out.ok();
    let npv = trace_npv(&out.stdout);
    let last = *trace_cumulative(&out.stdout).last().unwrap();
    assert!(
        (npv - last).abs() <= 1,
        "Consortium NPV {npv} vs last cumulative saving {last}"
    );
    let names = partner_names(&read_json(Path::new(&path)));
    let partner_sum: i64 = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Consortium NPV "))
        .skip(1)
        .filter_map(|l| l.split_once(" NPV "))
        .filter(|(who, _)| names.iter().any(|n| n == who.trim()))
        .map(|(_, x)| money(x))
        .sum();
    assert!(
        (npv - partner_sum).abs() <= names.len() as i64,
        "partner NPVs sum to {partner_sum}, consortium {npv}"
    );
}

#[test]
fn trace_figures_match_the_run_for_that_trial() {
    // The run's report is over trials 0..n, so a one-trial run gives trial 0's figures,
    // and mean(n = k+1) * (k+1) - mean(n = k) * k gives trial k's NPV.
    let path = shipped(MIXED);
    let r1 = report(&[&path, "--trials", "1"]);
    let t0 = sim(&["trace", &path, "--trial", "0", "--trials", "1"]);
    t0.ok();
    let expected = f(&r1, "/consortium/npv/p50").round() as i64;
    assert_eq!(trace_npv(&t0.stdout), expected, "trial 0's NPV");
    let by_year: Vec<i64> = r1["consortium"]["by_year"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["p50"].as_f64().unwrap().round() as i64)
        .collect();
    assert_eq!(
        trace_cumulative(&t0.stdout),
        by_year,
        "trial 0's cumulative saving by year"
    );

    let r3 = report(&[&path, "--trials", "3"]);
    let r4 = report(&[&path, "--trials", "4"]);
    let k3 = 4.0 * f(&r4, "/consortium/npv/mean") - 3.0 * f(&r3, "/consortium/npv/mean");
    let t3 = sim(&["trace", &path, "--trial", "3", "--trials", "4"]);
    t3.ok();
    let got = trace_npv(&t3.stdout);
    assert!(
        (got as f64 - k3).abs() <= 2.0,
        "trace --trial 3 says {got}, the run implies {k3}"
    );
}

#[test]
fn trace_trial_beyond_the_trial_count_exits_2() {
    let path = shipped(FOUR);
    sim(&["trace", &path, "--trials", "100", "--trial", "100"])
        .bad_input()
        .stderr_has("--trial 100")
        .stderr_has("0 to 99");
    sim(&["trace", &path, "--trials", "100", "--trial", "99"]).ok();
    // Without --trials the scenario's count (100000) bounds the trial number.
    sim(&["trace", &path, "--trial", "100000"]).bad_input();
    sim(&["trace", &path, "--trial", "99999"]).ok();
}

#[test]
fn trace_worst_tells_the_bad_case() {
    let path = shipped(MIXED);
    let out = sim(&["trace", &path, "--worst", "--trials", "2000"]);
    out.ok();
    let s = &out.stdout;
    assert!(s.contains("1st-percentile"), "{s}");
    assert!(
        s.contains("collapse") || s.contains("notice"),
        "the worst case mentions neither collapse nor notice:\n{s}"
    );
    // The 1st-percentile trial is no better than the run's 5th percentile.
    let r = report(&[&path, "--trials", "2000"]);
    let p05 = f(&r, "/consortium/npv/p05");
    let worst = trace_npv(s);
    assert!(
        worst as f64 <= p05 + 1.0,
        "worst trial NPV {worst} above P5 {p05}"
    );
}

#[test]
fn trace_does_not_call_partners_members_after_a_collapse() {
    // District B gives notice at the end of year 2 (hazard 1 after a two-year lock-in):
    // one member would remain, below min_members 2, so the consortium collapses from 3.
    let mut v = base();
    set(&mut v, "/partners/1/withdrawal_hazard", json!(1));
    set(&mut v, "/partners/1/lock_in_years", json!(3));
    set(&mut v, "/partners/0/reestablish_cost", json!(50000));
    let d = Dir::new();
    let path = d.write_json("collapse.json", &v);
    let out = sim(&["trace", &path, "--trial", "0", "--trials", "10"]);
    out.ok();
    let s = &out.stdout;
    assert!(s.contains("collapses from year 3"), "{s}");
    let after = s
        .find("consortium has collapsed")
        .expect("the consortium collapses");
    let tail = &s[after..s.find("\nConsortium NPV").unwrap()];
    assert!(
        !tail.contains("(member"),
        "partners still called members after the collapse:\n{tail}"
    );
    assert!(tail.contains("re-creates the service"), "{tail}");
}

/// `--export FORMAT=FILE` writes through the same exporters as `--out`: the JSON it
/// writes is the `--out` report, figure for figure.
#[test]
fn export_by_format_name_writes_what_the_named_flag_writes() {
    let dir = Dir::new();
    let scenario = shipped("four_districts_back_office.json");
    let by_flag = report_text(&[&scenario, "--trials", "800", "--quiet"]);
    let b = dir.path("b.json");
    let exported = format!("json={}", b.display());
    let out = sim(&[
        "run", &scenario, "--trials", "800", "--quiet", "--export", &exported,
    ]);
    out.ok();
    assert!(out.stdout.contains(&format!("wrote {}\n", b.display())));
    assert!(
        out.stdout.contains("Consortium NPV"),
        "the summary still prints"
    );
    let by_name = std::fs::read_to_string(&b).expect("the export was written");
    assert_eq!(without_run(&by_flag), without_run(&by_name));
}

/// A format that has no rendering of the command's result, or no such format, is
/// refused before anything runs, and no file is written.
#[test]
fn export_of_an_unknown_or_unsuitable_format_is_refused_before_the_run() {
    let dir = Dir::new();
    let scenario = shipped("four_districts_back_office.json");
    let csv = dir.path("c.csv");
    let spec = format!("csv={}", csv.display());
    sim(&[
        "compare",
        &scenario,
        "--variant",
        "a:/service/efficiency=0.1",
        "--export",
        &spec,
    ])
    .bad_input()
    .stderr_has("the csv format has no rendering of a comparison");
    assert!(!csv.exists());
    sim(&["run", &scenario, "--export", "ods=a.ods"])
        .bad_input()
        .stderr_has("no format named 'ods' (formats: json, html, csv, xlsx, cashflow)");
    sim(&["run", &scenario, "--export", "report.json"])
        .bad_input()
        .stderr_has("expected FORMAT=FILE");
}

/// A key given twice in one object is refused at its pointer, every one of them, instead
/// of JSON's silent "last one wins" (issue #17, item 4).
#[test]
fn a_key_given_twice_is_refused_at_its_pointer() {
    let dir = Dir::new();
    let text = r#"{"name": "d", "horizon_years": 5,
        "service": {"efficiency": 0.1, "optimism_bias": 0.2, "optimism_bias": 99},
        "partners": [{"name": "A", "baseline_cost": 1000000},
                     {"name": "B", "baseline_cost": 1000000, "exit_fee": 1, "exit_fee": 2}]}"#;
    let file = dir.write("dup.json", text);
    for command in ["validate", "run"] {
        sim(&[command, &file])
            .bad_input()
            .stderr_has("has 2 problems:")
            .stderr_has("  - /service/optimism_bias: \"optimism_bias\" is given more than once")
            .stderr_has("  - /partners/1/exit_fee: \"exit_fee\" is given more than once");
    }
    let once = dir.write(
        "once.json",
        &text
            .replace(r#", "optimism_bias": 99"#, "")
            .replace(r#", "exit_fee": 2"#, ""),
    );
    sim(&["validate", &once]).ok();
}

/// The discount bands' order problems point at the band's `from_year` key, not at a key
/// named "0/from_year" (issue #17, item 4: the pointer was escaped as `/0~1from_year`).
#[test]
fn discount_band_problems_point_at_the_bands_from_year() {
    let dir = Dir::new();
    let scenario = |bands: &str| {
        format!(
            r#"{{"name": "d", "horizon_years": 5, "discount_rate": {bands},
                "service": {{"efficiency": 0.1}},
                "partners": [{{"name": "A", "baseline_cost": 1e6}}, {{"name": "B", "baseline_cost": 1e6}}]}}"#
        )
    };
    let late = dir.write(
        "late.json",
        &scenario(r#"[{"from_year": 1, "rate": 0.03}]"#),
    );
    sim(&["validate", &late])
        .bad_input()
        .stderr_has("  - /discount_rate/0/from_year: the first band must start at year 0");
    let order = scenario(r#"[{"from_year": 0, "rate": 0.03}, {"from_year": 0, "rate": 0.02}]"#);
    let order = dir.write("order.json", &order);
    sim(&["validate", &order])
        .bad_input()
        .stderr_has("  - /discount_rate/1/from_year: bands must be in strictly increasing");
}

/// Names and file names are the user's text. A name is printed on one line of every
/// table, so a control character in it (a pasted line break, an ESC) is refused, naming
/// it; a bidirectional mark is allowed and shown as its escape on the terminal, as are
/// control characters in a file's name and in arguments the command line refuses. The
/// files written keep names as given.
#[test]
fn control_characters_in_names_are_refused_and_the_terminal_shows_user_text_escaped() {
    let dir = Dir::new();
    let raw = |s: &str| {
        s.chars()
            .any(|c| c != '\n' && consortium_sim::scenario::hidden(c))
    };

    let mut v = base();
    set(&mut v, "/name", json!("Payroll\u{1b}[31m red"));
    set(&mut v, "/partners/0/name", json!("A\nok"));
    set(&mut v, "/partners/1/name", json!("B\t"));
    let refused = dir.write_json("refused.json", &v);
    let out = sim(&["validate", &refused]);
    out.bad_input();
    assert_eq!(
        out.stderr,
        format!(
            "error: {refused} has 3 problems:\n\
             \x20 - /name: holds the control character (U+001B) at character 8: it is printed on one line of tables and reports; remove it\n\
             \x20 - /partners/0/name: holds a line break (U+000A) at character 2: it is printed on one line of tables and reports; remove it\n\
             \x20 - /partners/1/name: holds a tab (U+0009) at character 2: it is printed on one line of tables and reports; remove it\n"
        )
    );

    // A bidirectional mark is allowed in a name; on the terminal it shows as its escape,
    // in the JSON report as given.
    let mut v = base();
    set(&mut v, "/name", json!("Payroll \u{202e}lanoitan"));
    set(&mut v, "/partners/0/name", json!("A\u{200f}"));
    let file = dir.write_json("bad\u{1b}[2Jname.json", &v);
    let run = sim(&["run", &file, "--trials", "200"]);
    run.ok();
    assert!(!raw(&run.stdout), "{:?}", run.stdout);
    assert!(
        run.stdout.starts_with("Payroll \\u{202e}lanoitan\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\n  A\\u{200f}  "), "{}", run.stdout);
    let report = dir.path("report.json");
    sim(&[
        "run",
        &file,
        "--trials",
        "200",
        "--out",
        report.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(
        read_json(&report)["scenario"],
        json!("Payroll \u{202e}lanoitan")
    );

    // A file's name in a message.
    let bad = sim(&["validate", &file, "--set", "/trials=0"]);
    bad.bad_input()
        .stderr_has("bad\\u{1b}[2Jname.json (with --set overrides) has 1 problem");
    assert!(!raw(&bad.stderr), "{:?}", bad.stderr);

    // The trace on the terminal, and its page, which keeps the name as given.
    let page = dir.path("trace.html");
    let trace = sim(&[
        "trace",
        &file,
        "--trial",
        "1",
        "--html",
        page.to_str().unwrap(),
    ]);
    trace.ok();
    assert!(!raw(&trace.stdout), "{:?}", trace.stdout);
    assert!(
        trace.stdout.contains("A\\u{200f}: baseline"),
        "{}",
        trace.stdout
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("A\u{200f}: baseline") && !html.contains("\\u{200f}"));

    // A variant's name heads a column of compare's table: refused likewise.
    sim(&[
        "compare",
        &file,
        "--variant",
        "v\u{1b}[31mX:/seed=3",
        "--trials",
        "200",
    ])
    .bad_input()
    .stderr_has(
        "the variant's name holds the control character (U+001B) at character 2; a name heads a column",
    );

    // A command-line argument clap refuses is quoted escaped too (exit code 2).
    let bad = sim(&["run", &file, "--trials", "5\u{1b}]0;T\u{7}"]);
    bad.bad_input()
        .stderr_has("error: invalid value '5\\u{1b}]0;T\\u{7}' for '--trials <N>'");
    assert!(!raw(&bad.stderr), "{:?}", bad.stderr);
}

/// A table's columns line up on the screen whatever script a name is in: a CJK character
/// takes two columns of a terminal and a combining accent none, and the tables count
/// columns, not characters.
#[test]
fn tables_line_up_for_wide_and_combining_characters() {
    use consortium_sim::export::format::columns;
    let dir = Dir::new();
    let mut v = base();
    set(&mut v, "/partners/0/name", json!("東京都庁共同"));
    // A combining accent takes no column; a right-to-left mark is shown as its escape
    // (nine columns), and the table is sized by what it shows.
    set(
        &mut v,
        "/partners/1/name",
        json!("Cafe\u{301} \u{200f}Council"),
    );
    let file = dir.write_json("wide.json", &v);
    let run = sim(&["run", &file, "--trials", "200"]);
    run.ok();
    let rows: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("東京") || l.contains("Cafe") || l.contains("mean NPV  "))
        .collect();
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    let widths: Vec<usize> = rows.iter().map(|r| columns(r)).collect();
    assert!(
        widths.windows(2).all(|w| w[0] == w[1]),
        "{widths:?}\n{}",
        rows.join("\n")
    );

    // The trace's year rows likewise: "saving" starts in the same column on every row.
    let trace = sim(&["trace", &file, "--trial", "1"]);
    trace.ok();
    let at: Vec<usize> = trace
        .stdout
        .lines()
        .filter(|l| l.starts_with("    ") && l.contains(" saving ") && !l.contains("cumulative"))
        .map(|l| columns(&l[..l.find(" saving ").unwrap()]))
        .collect();
    assert!(
        at.len() >= 4 && at.windows(2).all(|w| w[0] == w[1]),
        "{at:?}\n{}",
        trace.stdout
    );

    // An analysis's table: compare's header, with a variant named in kanji, lines up
    // with its rows.
    let cmp = sim(&[
        "compare",
        &file,
        "--variant",
        "東京:/service/fixed_cost=300000",
        "--trials",
        "200",
    ]);
    cmp.ok();
    let lines: Vec<&str> = cmp.stdout.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.ends_with("東京"))
        .expect("header");
    assert_eq!(
        columns(lines[header]),
        columns(lines[header + 1]),
        "{}",
        cmp.stdout
    );
}
