//! Scenario workbooks (#14 item 2): `init --xlsx` writes the template as a workbook,
//! every command reads a workbook as it reads JSON, `convert` goes both ways, the round
//! trip JSON -> xlsx -> JSON gives every shipped scenario back, and a workbook's
//! mistakes are named by sheet and cell as well as JSON pointer, with exit code 2.

use std::path::{Path, PathBuf};

use consortium_sim::scenario::workbook;
use rust_xlsxwriter::Workbook;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::util::{Dir, all_shipped, read_json, shipped, sim};

/// `v` with every number as a double. A number cell does not say whether `1.0` was
/// written `1.0` or `1` (JSON itself does not distinguish them, nor does the loader),
/// so a whole number comes back as `1`; everything else (keys, their presence, text,
/// list order, the spelling of numbers in distribution and list cells) must be equal.
pub fn numbers_as_doubles(v: &Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.iter().map(numbers_as_doubles).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), numbers_as_doubles(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn round_trip(value: &Value) -> Value {
    let bytes = workbook::write(value, "test").expect("a valid scenario is written");
    workbook::read(&bytes, "test.xlsx")
        .expect("the workbook reads back")
        .value
}

#[test]
fn every_shipped_scenario_and_the_template_come_back_from_a_workbook() {
    let mut scenarios: Vec<(String, Value)> = all_shipped()
        .iter()
        .map(|p| (p.display().to_string(), read_json(p)))
        .collect();
    let template = serde_json::from_str(consortium_sim::TEMPLATE).unwrap();
    scenarios.push(("the template".into(), template));
    for (name, value) in &scenarios {
        let back = round_trip(value);
        assert_eq!(
            numbers_as_doubles(&back),
            numbers_as_doubles(value),
            "{name}"
        );
        // And the same scenario validated: nothing is lost or defaulted differently.
        let a = consortium_sim::scenario::from_value(value, "json").unwrap();
        let b = consortium_sim::scenario::from_value(&back, "xlsx").unwrap();
        assert_eq!(a.summary(), b.summary(), "{name}");
    }
}

#[test]
fn convert_goes_from_json_to_a_workbook_and_back_and_init_writes_the_template() {
    let dir = Dir::new();
    let (xlsx, json) = (dir.path("jv.xlsx"), dir.path("jv.json"));
    let original = shipped("mixed_jv_county_district_police.json");
    let out = sim(&["convert", &original, xlsx.to_str().unwrap()]);
    out.ok();
    assert_eq!(out.stdout, format!("wrote {}\n", xlsx.display()));
    sim(&["convert", xlsx.to_str().unwrap(), json.to_str().unwrap()]).ok();
    // Fixed cost sharing goes through the Partners sheet's weight column and back.
    assert_eq!(
        numbers_as_doubles(&read_json(&json)),
        numbers_as_doubles(&read_json(Path::new(&original)))
    );

    let template = dir.path("my.xlsx");
    sim(&["init", "--xlsx", template.to_str().unwrap()]).ok();
    let printed = sim(&["convert", template.to_str().unwrap(), "-"]);
    // The template's own layout is the one convert writes: byte for byte.
    assert_eq!(printed.ok().stdout, consortium_sim::TEMPLATE);
}

/// A cell: text or a number.
enum C<'a> {
    T(&'a str),
    N(f64),
}

/// A workbook with `sheets`, each a list of rows of cells, written with rust_xlsxwriter
/// as a spreadsheet program would save it.
fn workbook_with(path: &Path, sheets: &[(&str, Vec<Vec<C>>)]) {
    let mut book = Workbook::new();
    for (name, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    C::T("") => {}
                    C::T(t) => drop(ws.write_string(r as u32, c as u16, *t).unwrap()),
                    C::N(x) => drop(ws.write_number(r as u32, c as u16, *x).unwrap()),
                }
            }
        }
    }
    book.save(path).unwrap();
}

fn field(section: &'static str, name: &'static str, value: C<'static>) -> Vec<C<'static>> {
    vec![C::T(section), C::T(name), value]
}

#[test]
fn a_workbook_with_mistakes_names_each_sheet_and_cell_and_exits_2() {
    use C::{N, T};
    let dir = Dir::new();
    let path = dir.path("mistakes.xlsx");
    workbook_with(
        &path,
        &[
            (
                "Scenario",
                vec![
                    vec![T("Section"), T("Field"), T("Value")],
                    field("scenario", "name", T("Mistakes")),
                    field("scenario", "horizon_years", T("ten")),
                    field("service", "efficiency", T("betta(0.1, 0.2)")),
                    field("service", "transition_cost", T("pert(100, 200)")),
                    field("service", "rampp", T("0.5, 1")),
                ],
            ),
            (
                "Partners",
                vec![
                    vec![T("name"), T("baseline_cost (£ a year)"), T("exit_fee")],
                    vec![T("North\nShire"), N(4e6), N(0.0)],
                    vec![T("South"), N(3e6), N(-5.0)],
                    vec![T(""), N(2e6)],
                ],
            ),
        ],
    );
    let out = sim(&["validate", path.to_str().unwrap()]);
    out.bad_input();
    assert_eq!(
        out.stderr,
        format!(
            "error: {} has 7 problems:\n\
             \x20 - Scenario!C3 (/horizon_years): expected a number, found the text \"ten\"\n\
             \x20 - Scenario!C4 (/service/efficiency): unknown distribution \"betta\"; expected one of fixed, uniform, triangular, pert, normal, lognormal, discrete\n\
             \x20 - Scenario!C5 (/service/transition_cost): pert takes 3 numbers (min, mode, max), found 2\n\
             \x20 - Scenario!B6 (/service/rampp): unknown field \"rampp\" (did you mean \"ramp\"?)\n\
             \x20 - Partners!A2 (/partners/0/name): holds a line break (U+000A) at character 6: it is printed on one line of tables and reports; remove it\n\
             \x20 - Partners!C3 (/partners/1/exit_fee): -5 is out of range: must be >= 0\n\
             \x20 - Partners!A4 (/partners/2/name): required field \"name\" is missing from /partners/2\n",
            path.display()
        )
    );
    // Every command that takes a scenario says the same.
    let run = sim(&["run", path.to_str().unwrap(), "--trials", "100"]);
    assert_eq!(run.bad_input().stderr, out.stderr);
}

/// A sheet of the workbook's under another name would be ignored with its settings (the
/// scenario run on their defaults): refused, by its name or by its headers; a notes
/// sheet of the user's own is still ignored.
#[test]
fn a_renamed_sheet_is_refused_not_ignored() {
    use C::{N, T};
    let dir = Dir::new();
    let scenario = || {
        vec![
            vec![T("Section"), T("Field"), T("Value")],
            field("scenario", "name", T("Renamed")),
            field("scenario", "horizon_years", N(10.0)),
            field("service", "efficiency", N(0.1)),
            field("service", "transition_cost", N(1e5)),
        ]
    };
    let partners = || {
        vec![
            vec![T("name"), T("baseline_cost")],
            vec![T("North"), N(4e6)],
            vec![T("South"), N(3e6)],
        ]
    };
    let disputes = || {
        vec![
            vec![T("Section"), T("Field"), T("Value")],
            field("disputes", "annual_probability", N(0.5)),
        ]
    };
    let notes = || {
        vec![
            vec![T("My notes")],
            vec![T("Checked with finance on Monday")],
        ]
    };
    type Sheets<'a> = Vec<(&'a str, Vec<Vec<C<'a>>>)>;
    let cases: [(&str, Sheets, &str); 3] = [
        (
            "by_headers.xlsx",
            vec![
                ("Scenario", scenario()),
                ("Partners", partners()),
                ("Dispute risk", disputes()),
            ],
            "sheet Dispute risk: the sheet \"Dispute risk\" is laid out as the Disputes sheet, which this workbook lacks, but only a sheet named Disputes is read: rename it Disputes, or its settings are ignored",
        ),
        (
            "by_name.xlsx",
            vec![
                ("Scenario", scenario()),
                ("Partners", partners()),
                ("disputes", disputes()),
            ],
            "sheet disputes: sheets are read by their exact names, and \"disputes\" is not one: rename it Disputes, or its settings are ignored",
        ),
        (
            "correlation.xlsx",
            vec![
                ("Scenario", scenario()),
                ("Partners", partners()),
                (
                    "Correlation",
                    vec![vec![T("a"), T("b"), T("rank_correlation")]],
                ),
            ],
            "sheet Correlation: sheets are read by their exact names, and \"Correlation\" is not one: rename it Correlations, or its settings are ignored",
        ),
    ];
    for (file, sheets, problem) in cases {
        let path = dir.path(file);
        workbook_with(&path, &sheets);
        let out = sim(&["validate", path.to_str().unwrap()]);
        let stderr = out.bad_input().stderr.clone();
        assert!(stderr.contains(problem), "{file}: {stderr}");
    }
    let path = dir.path("notes.xlsx");
    workbook_with(
        &path,
        &[
            ("Scenario", scenario()),
            ("Partners", partners()),
            ("My notes", notes()),
            ("Readme", notes()),
        ],
    );
    sim(&["validate", path.to_str().unwrap()]).ok();
}

/// A formula saved without its value (as openpyxl writes them) would read as an empty
/// cell, the field's default, and one whose saved value nothing calculated (as
/// XlsxWriter writes them) as 0: both refused at their cell. A spreadsheet's own
/// workbook, with formulas it calculated, is read.
#[test]
fn a_formula_saved_without_its_value_is_refused_at_its_cell() {
    let dir = Dir::new();
    let path = dir.path("formulas.xlsx");
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("Scenario").unwrap();
    for (r, row) in [
        ["Section", "Field", "Value"],
        ["scenario", "name", "Formulas"],
        ["scenario", "horizon_years", ""],
        ["service", "efficiency", ""],
        ["service", "transition_cost", ""],
    ]
    .iter()
    .enumerate()
    {
        for (c, text) in row.iter().enumerate().filter(|(_, t)| !t.is_empty()) {
            ws.write_string(r as u32, c as u16, *text).unwrap();
        }
    }
    ws.write_number(2, 2, 10.0).unwrap();
    ws.write_number(4, 2, 1e5).unwrap();
    // Written as a script would write it: the formula, and no value calculated.
    ws.write_formula(3, 2, "=0.05*2").unwrap();
    let ws = book.add_worksheet();
    ws.set_name("Partners").unwrap();
    ws.write_string(0, 0, "name").unwrap();
    ws.write_string(0, 1, "baseline_cost").unwrap();
    ws.write_string(1, 0, "North").unwrap();
    ws.write_number(1, 1, 4e6).unwrap();
    ws.write_string(2, 0, "South").unwrap();
    ws.write_number(2, 1, 3e6).unwrap();
    book.save(&path).unwrap();
    let written = std::fs::read(&path).unwrap();
    let sheet = "xl/worksheets/sheet1.xml";
    assert!(part(&written, sheet).contains("<f>0.05*2</f><v>0</v>"));
    assert!(part(&written, "xl/workbook.xml").contains("fullCalcOnLoad=\"1\""));
    let validate = |bytes: Vec<u8>| {
        std::fs::write(&path, bytes).unwrap();
        sim(&["validate", path.to_str().unwrap()])
    };

    // As written: rust_xlsxwriter (and Python's XlsxWriter) saves a formula's value as
    // 0 until told it, and asks the spreadsheet to calculate on opening.
    let out = validate(written.clone());
    out.bad_input().stderr_has(
        "Scenario!C4: holds the formula =0.05*2 in a workbook that asks to be calculated when opened, as programs such as XlsxWriter write them",
    );
    // The flag as XML Schema reads a boolean (spaces around it), and in a workbook part
    // that the package's relationships put elsewhere than xl/workbook.xml.
    let spaced = rewrite(&written, "xl/workbook.xml", |x| {
        x.replace("fullCalcOnLoad=\"1\"", "fullCalcOnLoad=\" 1 \"")
    });
    let mut moved = Vec::new();
    for (from, to) in [
        ("xl/workbook.xml", "xl/main.xml"),
        ("xl/_rels/workbook.xml.rels", "xl/_rels/main.xml.rels"),
    ] {
        moved = rename(if moved.is_empty() { &written } else { &moved }, from, to);
    }
    let moved = rewrite(&moved, "_rels/.rels", |x| {
        x.replace("xl/workbook.xml", "xl/main.xml")
    });
    let moved = rewrite(&moved, "[Content_Types].xml", |x| {
        x.replace("/xl/workbook.xml", "/xl/main.xml")
    });
    for bytes in [spaced, moved] {
        validate(bytes)
            .bad_input()
            .stderr_has("Scenario!C4: holds the formula =0.05*2 in a workbook that asks to be calculated when opened");
    }
    // openpyxl saves no value at all.
    let out = validate(rewrite(&written, sheet, |x| {
        x.replace("<f>0.05*2</f><v>0</v>", "<f>0.05*2</f>")
    }));
    out.bad_input()
        .stderr_has("Scenario!C4: holds the formula =0.05*2 with no value saved with it")
        // What follows from it (efficiency is then missing) is not said again.
        .stderr_has("has 1 problem:");
    // Saved by a spreadsheet: the value it calculated, and no request to calculate again.
    let calculated = rewrite(&written, sheet, |x| {
        x.replace("<f>0.05*2</f><v>0</v>", "<f>0.05*2</f><v>0.1</v>")
    });
    let calculated = rewrite(&calculated, "xl/workbook.xml", |x| {
        x.replace(" fullCalcOnLoad=\"1\"", "")
    });
    let out = validate(calculated);
    out.ok();
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let json = dir.path("calculated.json");
    sim(&["convert", path.to_str().unwrap(), json.to_str().unwrap()]).ok();
    let read: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(read["service"]["efficiency"], 0.1);

    // Saved as 0 with the flag gone, as LibreOffice saves XlsxWriter's workbook unless
    // told to recalculate: nothing tells it from a formula whose value is 0, so it is
    // read, with a warning at its cell from every command that loads it.
    let kept = rewrite(&written, "xl/workbook.xml", |x| {
        x.replace(" fullCalcOnLoad=\"1\"", "")
    });
    let warning = "warning: Scenario!C4 (/service/efficiency) is 0, the saved value of its formula =0.05*2: a workbook written by a program and never calculated saves 0 for every formula";
    validate(kept.clone()).ok().stderr_has(warning);
    sim(&["run", path.to_str().unwrap(), "--trials", "200"])
        .ok()
        .stderr_has(warning);
    // Not once `--set` replaces the value, even by the same 0 (the user's value now);
    // a `--set` of another field leaves the warning.
    let with_set = |spec: &str| sim(&["validate", path.to_str().unwrap(), "--set", spec]);
    for spec in ["/service/efficiency=0.1", "/service/efficiency=0"] {
        let out = with_set(spec);
        out.ok();
        assert!(!out.stderr.contains("warning"), "{spec}: {}", out.stderr);
    }
    with_set("/service/efficiency_noise_sd=0")
        .ok()
        .stderr_has(warning);
    // Nor for a formula in a cell that is not read.
    let unread = rewrite(&kept, sheet, |x| {
        x.replace(
            "<f>0.05*2</f><v>0</v>",
            "<v>0.1</v></c><c r=\"D4\"><f>0*2</f><v>0</v>",
        )
    });
    let out = validate(unread.clone());
    out.ok();
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    // (The reader does see that formula: with the flag back, it is refused.)
    let flagged = rewrite(&unread, "xl/workbook.xml", |x| {
        x.replace("<calcPr", "<calcPr fullCalcOnLoad=\"1\"")
    });
    validate(flagged)
        .bad_input()
        .stderr_has("Scenario!D4: holds the formula =0*2");
}

/// Formulas read as their saved 0, in a workbook with no request to calculate it: past
/// ten, the rest are counted in one line; a formula's text result "0" counts; a value
/// then refused keeps its warning (which says why the cell holds 0); and a formula's
/// text is shown with its control characters escaped, so it prints no line of its own.
#[test]
fn formulas_read_as_a_saved_0_are_counted_past_ten_and_shown_safely() {
    let dir = Dir::new();
    let mut v = read_json(Path::new(&shipped("four_districts_back_office.json")));
    let first = v["partners"][0].clone();
    v["partners"] = (0..30)
        .map(|i| {
            let mut p = first.clone();
            p["name"] = serde_json::json!(format!("P{i}"));
            p
        })
        .collect();
    let json = dir.path("thirty.json");
    std::fs::write(&json, v.to_string()).unwrap();
    let book = dir.path("thirty.xlsx");
    sim(&["convert", json.to_str().unwrap(), book.to_str().unwrap()]).ok();
    let written = std::fs::read(&book).unwrap();
    // The workbook `bytes` written to `path` as LibreOffice saves one that a program
    // wrote (no request to calculate on opening), and validated.
    let validate_uncalculated = |path: &Path, bytes: &[u8]| {
        let bytes = rewrite(bytes, "xl/workbook.xml", |x| {
            x.replace(" fullCalcOnLoad=\"1\"", "")
        });
        std::fs::write(path, bytes).unwrap();
        sim(&["validate", path.to_str().unwrap()])
    };
    // Every partner's exit fee (column J; its header is text, t="s", and stays).
    let fee = regex::Regex::new(r#"<c r="J(\d+)"( s="\d+")><v>[^<]*</v>"#).unwrap();
    let zeroed = rewrite(&written, "xl/worksheets/sheet3.xml", |x| {
        fee.replace_all(x, r#"<c r="J$1"$2><f>I$1*0</f><v>0</v>"#)
            .into_owned()
    });
    let out = validate_uncalculated(&book, &zeroed);
    out.ok().stderr_has(
        "warning: 20 more cells, from Partners!J12 to Partners!J31, hold formulas read as their saved 0, as above\n",
    );
    let one_by_one: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: Partners!J"))
        .collect();
    assert_eq!(one_by_one.len(), 10, "{}", out.stderr);
    assert!(one_by_one[9].starts_with("warning: Partners!J11 (/partners/9/exit_fee) is 0"));

    // Four partners: a text "0", a refused trials count, a formula with a line break.
    let (four, written) = four_districts_workbook(&dir);
    let partners = rewrite(&written, "xl/worksheets/sheet3.xml", |x| {
        x.replace(
            r#"<c r="J3" s="5"><v>150000</v>"#,
            r#"<c r="J3" s="5" t="str"><f>J2*0</f><v>0</v>"#,
        )
        .replace(
            r#"<c r="J4" s="5"><v>150000</v>"#,
            r#"<c r="J4" s="5"><f>J2*0&#10;error: not from the tool</f><v>0</v>"#,
        )
    });
    let out = validate_uncalculated(&four, &partners);
    out.ok()
        .stderr_has("warning: Partners!J3 (/partners/1/exit_fee) is 0, the saved value of its formula =J2*0: ")
        .stderr_has("warning: Partners!J4 (/partners/2/exit_fee) is 0, the saved value of its formula =J2*0\\u{a}error: not from the tool: ");
    assert!(
        !out.stderr.lines().any(|l| l.starts_with("error")),
        "{}",
        out.stderr
    );
    // A merged area: the formula at its top-left is read into every cell of it (each
    // warned about), and one hidden under it (which saved 5) is not read at all.
    let merged = rewrite(&written, "xl/worksheets/sheet3.xml", |x| {
        x.replace(
            r#"<c r="J2" s="5"><v>150000</v>"#,
            r#"<c r="J2" s="5"><f>1*0</f><v>0</v>"#,
        )
        .replace(
            r#"<c r="J3" s="5"><v>150000</v>"#,
            r#"<c r="J3" s="5"><f>J2+5</f><v>5</v>"#,
        )
        .replace(
            "</sheetData>",
            r#"</sheetData><mergeCells count="1"><mergeCell ref="J2:J5"/></mergeCells>"#,
        )
    });
    let out = validate_uncalculated(&four, &merged);
    out.ok();
    let warned: Vec<&str> = out
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("warning: "))
        .map(|l| l.split(": a workbook").next().unwrap())
        .collect();
    assert_eq!(
        warned,
        (2..=5)
            .map(|r| format!(
                "Partners!J{r} (/partners/{}/exit_fee) is 0, the saved value of its formula =1*0",
                r - 2
            ))
            .collect::<Vec<_>>(),
        "{}",
        out.stderr
    );

    let trials = rewrite(&written, "xl/worksheets/sheet1.xml", |x| {
        x.replace(
            r#"<c r="C8" s="3"><v>100000</v>"#,
            r#"<c r="C8" s="3"><f>1*0</f><v>0</v>"#,
        )
    });
    validate_uncalculated(&four, &trials)
        .bad_input()
        .stderr_has("warning: Scenario!C8 (/trials) is 0, the saved value of its formula =1*0: ")
        .stderr_has("Scenario!C8 (/trials): 0 is out of range");
    // The same with a mistake only a workbook makes (text in a number cell), which
    // refuses the workbook before it is validated: still told.
    let text = rewrite(&trials, "xl/worksheets/sheet3.xml", |x| {
        let lock_in = regex::Regex::new(r#"<c r="I4"( s="\d+")><v>[^<]*</v>"#).unwrap();
        let edited = lock_in
            .replace(x, r#"<c r="I4"$1 t="inlineStr"><is><t>zz</t></is>"#)
            .into_owned();
        assert_ne!(edited, x);
        edited
    });
    validate_uncalculated(&four, &text)
        .bad_input()
        .stderr_has("warning: Scenario!C8 (/trials) is 0, the saved value of its formula =1*0: ")
        .stderr_has(
            "Partners!I4 (/partners/2/lock_in_years): expected a number, found the text \"zz\"",
        )
        .stderr_has("Scenario!C8 (/trials): 0 is out of range");
}

/// An array formula (`{=I2:I5*0}` over J2:J5, or a dynamic array's spill) is written at
/// its first cell only; the other cells of its area hold plain values. Each of them is
/// the formula's result, refused or warned about as a formula is.
#[test]
fn array_formulas_are_read_over_their_whole_area() {
    let dir = Dir::new();
    let (four, written) = four_districts_workbook(&dir);
    let sheet = "xl/worksheets/sheet3.xml";
    // The exit fees (column J), J2 heading an array formula over `area` saved as `first`,
    // the rest of J2:J5 saved as `rest` (None: no cell at all, as openpyxl writes them).
    let array = |area: &str, first: &str, rest: [Option<&str>; 3]| {
        let fee = |r: usize| format!(r#"<c r="J{r}" s="5"><v>150000</v></c>"#);
        let bytes = rewrite(&written, sheet, |x| {
            let mut x = x.replace(
                &fee(2),
                &format!(r#"<c r="J2" s="5"><f t="array" ref="{area}">I2:I5*0</f>{first}</c>"#),
            );
            for (r, v) in (3..=5).zip(rest) {
                let cell = v.map_or(String::new(), |v| {
                    format!(r#"<c r="J{r}" s="5"><v>{v}</v></c>"#)
                });
                x = x.replace(&fee(r), &cell);
            }
            x
        });
        assert_ne!(bytes, written);
        bytes
    };
    let validate = |bytes: Vec<u8>, calculate_on_opening: bool| {
        let bytes = if calculate_on_opening {
            bytes
        } else {
            rewrite(&bytes, "xl/workbook.xml", |x| {
                x.replace(" fullCalcOnLoad=\"1\"", "")
            })
        };
        std::fs::write(&four, bytes).unwrap();
        sim(&["validate", four.to_str().unwrap()])
    };
    let warned = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter_map(|l| l.strip_prefix("warning: "))
            .map(|l| l.split(" is 0,").next().unwrap().to_string())
            .collect()
    };

    // Calculated, every result 0: each cell is warned about, not the first only.
    let zeros = array("J2:J5", "<v>0</v>", [Some("0"); 3]);
    let out = validate(zeros.clone(), false);
    out.ok();
    assert_eq!(
        warned(&out.stderr),
        (0..4)
            .map(|i| format!("Partners!J{} (/partners/{i}/exit_fee)", i + 2))
            .collect::<Vec<_>>(),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("the saved value of its formula =I2:I5*0: ")
    );
    // Only the cells that are 0; an area written end first, with $ signs.
    let out = validate(
        array("$J$5:J2", "<v>7</v>", [Some("3"), Some("0"), Some("1")]),
        false,
    );
    out.ok();
    assert_eq!(warned(&out.stderr), ["Partners!J4 (/partners/2/exit_fee)"]);
    // An area of one cell is a formula like any other.
    let out = validate(array("J2", "<v>0</v>", [Some("9"); 3]), false);
    assert_eq!(
        warned(&out.ok().stderr),
        ["Partners!J2 (/partners/0/exit_fee)"]
    );

    // Written by a program that asks for calculation on opening: refused as one, at its
    // first cell, naming its area; what the loader would say of its cells (a placeholder
    // -5 out of range at J3) follows from that and is not said.
    let out = validate(
        array("J2:J5", "<v>0</v>", [Some("-5"), Some("0"), Some("0")]),
        true,
    );
    out.bad_input()
        .stderr_has("has 1 problem:")
        .stderr_has("Partners!J2: holds the array formula =I2:I5*0 over J2:J5 in a workbook that asks to be calculated when opened");
    // The same -5 without the array is the loader's to name: the test above can fail.
    let plain = rewrite(&written, sheet, |x| {
        x.replace(
            r#"<c r="J3" s="5"><v>150000</v>"#,
            r#"<c r="J3" s="5"><v>-5</v>"#,
        )
    });
    validate(plain, false)
        .bad_input()
        .stderr_has("Partners!J3 (/partners/1/exit_fee)");
    // As openpyxl writes it: no values at all.
    validate(array("J2:J5", "", [None; 3]), false)
        .bad_input()
        .stderr_has("has 1 problem:")
        .stderr_has("Partners!J2: holds the array formula =I2:I5*0 over J2:J5 with no value saved in J2 (the program");
    // A value saved in the first cell but not in the others.
    validate(
        array("J2:J5", "<v>0</v>", [Some("0"), None, Some("0")]),
        false,
    )
    .bad_input()
    .stderr_has("over J2:J5 with no value saved in J4 (the program");

    // Past the used range, with no value saved anywhere: still refused at its cell.
    let far = rewrite(&written, sheet, |x| {
        x.replace(
            "</row></sheetData>",
            r#"</row><row r="20"><c r="Z20"><f t="array" ref="Z20:Z23">1*0</f></c></row></sheetData>"#,
        )
    });
    validate(far, false).bad_input().stderr_has(
        "Partners!Z20: holds the array formula =1*0 over Z20:Z23 with no value saved in Z20",
    );
    // An area that does not hold its formula's cell (a damaged file): an ordinary
    // formula, at its own cell.
    let out = validate(array("K5:K9", "<v>0</v>", [Some("9"); 3]), false);
    assert_eq!(
        warned(&out.ok().stderr),
        ["Partners!J2 (/partners/0/exit_fee)"]
    );

    // Overlapping areas (which no spreadsheet writes): a cell is told once, and the
    // areas' cells, added up, are bounded as a sheet's are.
    let out = validate(array("J2:J5", "<v>0</v>", [Some("0"); 3]), false);
    let twice = rewrite(&std::fs::read(&four).unwrap(), sheet, |x| {
        x.replace(
            r#"<c r="J3" s="5"><v>0</v>"#,
            r#"<c r="J3" s="5"><f t="array" ref="J3:J5">I3:I5*0</f><v>0</v>"#,
        )
    });
    assert_eq!(
        // (true: `four` was written without the request to calculate on opening.)
        warned(&validate(twice, true).ok().stderr),
        warned(&out.ok().stderr)
    );
    let many = rewrite(&written, sheet, |x| {
        let rows: String = (10..=1500)
            .map(|r| format!(r#"<row r="{r}"><c r="Z{r}"><f t="array" ref="Z1:Z1500">1</f><v>1</v></c></row>"#))
            .collect();
        x.replace("</row></sheetData>", &format!("</row>{rows}</sheetData>"))
    });
    validate(many, false).bad_input().stderr_has(
        "sheet Partners: its array formulas cover more than the 2000000 cells a scenario sheet may span",
    );

    // A refused formula heading a merged area stands for the area: the second
    // partner's name, hidden under it, is not then said to be missing.
    let merged_name = rewrite(&written, sheet, |x| {
        let name = regex::Regex::new(r#"<c r="A([23])" s="3" t="s"><v>\d+</v></c>"#).unwrap();
        let x = name
            .replace_all(x, |c: &regex::Captures| match &c[1] {
                "2" => r#"<c r="A2" s="3" t="str"><f>"x"</f></c>"#.to_string(),
                _ => String::new(),
            })
            .into_owned();
        x.replace(
            "</sheetData>",
            r#"</sheetData><mergeCells count="1"><mergeCell ref="A2:A3"/></mergeCells>"#,
        )
    });
    validate(merged_name, false)
        .bad_input()
        .stderr_has("has 1 problem:")
        .stderr_has("Partners!A2: holds the formula =\"x\" with no value saved with it");

    // The sheet's part is found where the workbook's relationships put it.
    let moved = rename(&zeros, sheet, "xl/worksheets/partners.xml");
    let moved = rewrite(&moved, "xl/_rels/workbook.xml.rels", |x| {
        x.replace("worksheets/sheet3.xml", "/xl/worksheets/partners.xml")
    });
    let moved = rewrite(&moved, "[Content_Types].xml", |x| {
        x.replace("/xl/worksheets/sheet3.xml", "/xl/worksheets/partners.xml")
    });
    let out = validate(moved, false);
    assert_eq!(warned(&out.ok().stderr).len(), 4, "{}", out.stderr);

    // Compared, each file's warnings are led by its name.
    let other = dir.path("other.xlsx");
    std::fs::copy(&four, &other).unwrap();
    let out = sim(&[
        "compare",
        four.to_str().unwrap(),
        other.to_str().unwrap(),
        "--trials",
        "200",
    ]);
    let led: Vec<&str> = out
        .ok()
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("warning: "))
        .map(|l| l.split(" (/partners").next().unwrap())
        .collect();
    let (four, other) = (four.display(), other.display());
    let expected: Vec<String> = [four, other]
        .iter()
        .flat_map(|f| (2..=5).map(move |r| format!("{f}: Partners!J{r}")))
        .collect();
    assert_eq!(led, expected, "{}", out.stderr);
}

/// The four districts scenario converted to a workbook in `dir`: its path and bytes.
fn four_districts_workbook(dir: &Dir) -> (PathBuf, Vec<u8>) {
    let four = dir.path("four.xlsx");
    sim(&[
        "convert",
        &shipped("four_districts_back_office.json"),
        four.to_str().unwrap(),
    ])
    .ok();
    let written = std::fs::read(&four).unwrap();
    (four, written)
}

/// The text of part `name` of a workbook's zip.
fn part(workbook: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(workbook)).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut archive.by_name(name).unwrap(), &mut text).unwrap();
    text
}

/// A formula that gave empty text (Excel saves `=IF(..., "", ...)`'s result as an empty
/// `t="str"` value) reads as a blank cell, so its field takes its default: said, by cell
/// and field, unless `--set` gave the field; a required field left blank so is refused,
/// with the warning saying why it is missing.
#[test]
fn a_formula_that_gave_empty_text_is_read_as_blank_and_said() {
    let dir = Dir::new();
    let (_, written) = four_districts_workbook(&dir);
    let blank = |column: &str, formula: &str| {
        let cell = regex::Regex::new(&format!(
            r#"<c r="{column}2"( s="\d+")?( t="\w+")?>(<v>[^<]*</v>|<is>.*?</is>)</c>"#
        ))
        .unwrap();
        let bytes = rewrite(&written, "xl/worksheets/sheet3.xml", |x| {
            cell.replace(
                x,
                format!(r#"<c r="{column}2"$1 t="str"><f>{formula}</f><v></v></c>"#).as_str(),
            )
            .into_owned()
        });
        // As Excel saves a workbook it calculated: no request to calculate on opening.
        rewrite(&bytes, "xl/workbook.xml", |x| {
            x.replace(" fullCalcOnLoad=\"1\"", "")
        })
    };
    let path = dir.path("blank.xlsx");
    let p = path.to_str().unwrap();
    std::fs::write(&path, blank("J", "IF(I2&gt;0,\"\",5)")).unwrap();
    let said = "warning: Partners!J2 (/partners/0/exit_fee) is blank: its formula =IF(I2>0,\"\",5) gave empty text, which reads as an empty cell, so the field takes its default (or is missing). If a value is meant, make the formula give it\n";
    let out = sim(&["validate", p]);
    out.ok().stderr_has(said);
    // The run's figures are the default's (no exit fee): what the warning says.
    let mut v = read_json(Path::new(&shipped("four_districts_back_office.json")));
    v["partners"][0].as_object_mut().unwrap().remove("exit_fee");
    let json = dir.path("no-fee.json");
    std::fs::write(&json, v.to_string()).unwrap();
    let mean = |file: &str| {
        let out = sim(&["run", file, "--trials", "2000"]);
        out.ok();
        out.stdout
            .lines()
            .find(|l| l.trim_start().starts_with("mean "))
            .unwrap()
            .to_string()
    };
    assert_eq!(mean(p), mean(json.to_str().unwrap()));
    // A field --set gave is the user's: nothing to say.
    let out = sim(&["validate", p, "--set", "/partners/0/exit_fee=5"]);
    out.ok();
    assert!(!out.stderr.contains("is blank"), "{}", out.stderr);
    // A required field (the name, column A) left blank so is refused; the warning
    // comes first and says why.
    std::fs::write(&path, blank("A", "\"\"")).unwrap();
    let out = sim(&["validate", p]);
    out.bad_input();
    let warned = out
        .stderr
        .find("warning: Partners!A2 (/partners/0/name) is blank: its formula =\"\" gave empty text")
        .expect("the warning");
    assert!(
        warned < out.stderr.find("error:").unwrap(),
        "{}",
        out.stderr
    );
    // The weight column (N, empty here) is no field: blank there without fixed cost
    // sharing is what it should be, and nothing is said of a
    // `/partners/0/cost_sharing_weight`.
    let last = regex::Regex::new(r#"(<c r="M2"[^>]*>.*?</c>)"#).unwrap();
    let bytes = rewrite(&written, "xl/worksheets/sheet3.xml", |x| {
        last.replace(x, r#"$1<c r="N2" t="str"><f>""</f><v></v></c>"#)
            .into_owned()
    });
    let bytes = rewrite(&bytes, "xl/workbook.xml", |x| {
        x.replace(" fullCalcOnLoad=\"1\"", "")
    });
    std::fs::write(&path, bytes).unwrap();
    let out = sim(&["validate", p]);
    out.ok();
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

/// A weight read as a formula's saved 0 under fixed cost sharing is named by the
/// pointer its value is read into, `/service/cost_sharing/fixed/NAME`, not by the
/// weight column's own name, which is no field.
#[test]
fn a_weight_read_as_a_saved_0_is_named_by_its_fixed_pointer() {
    let dir = Dir::new();
    let mut v = read_json(Path::new(&shipped("four_districts_back_office.json")));
    let names: Vec<String> = v["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    let weights: serde_json::Map<String, Value> = names
        .iter()
        .map(|n| (n.clone(), serde_json::json!(1.0)))
        .collect();
    v["service"]["cost_sharing"] = serde_json::json!({ "fixed": weights });
    let json = dir.path("fixed.json");
    std::fs::write(&json, v.to_string()).unwrap();
    let book = dir.path("fixed.xlsx");
    sim(&["convert", json.to_str().unwrap(), book.to_str().unwrap()]).ok();
    let written = std::fs::read(&book).unwrap();
    let weight = regex::Regex::new(r#"<c r="N2"( s="\d+")?><v>[^<]*</v></c>"#).unwrap();
    let bytes = rewrite(&written, "xl/worksheets/sheet3.xml", |x| {
        weight
            .replace(x, r#"<c r="N2"$1><f>M2*0</f><v>0</v></c>"#)
            .into_owned()
    });
    let bytes = rewrite(&bytes, "xl/workbook.xml", |x| {
        x.replace(" fullCalcOnLoad=\"1\"", "")
    });
    std::fs::write(&book, bytes).unwrap();
    let out = sim(&["validate", book.to_str().unwrap()]);
    out.stderr_has(&format!(
        "warning: Partners!N2 (/service/cost_sharing/fixed/{}) is 0, the saved value of its formula =M2*0",
        names[0]
    ));
}

/// A copy of a workbook's zip, each part's name and bytes passed through `change`.
fn rezip(workbook: &[u8], change: impl Fn(String, Vec<u8>) -> (String, Vec<u8>)) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(workbook)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        let (name, content) = change(name, content);
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut out, &content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// A copy of a workbook's zip with part `from` named `to`.
fn rename(workbook: &[u8], from: &str, to: &str) -> Vec<u8> {
    let archive = zip::ZipArchive::new(std::io::Cursor::new(workbook)).unwrap();
    assert!(archive.index_for_name(from).is_some(), "{from}");
    rezip(workbook, |name, content| {
        (if name == from { to.to_string() } else { name }, content)
    })
}

/// A copy of a workbook's zip with part `name`'s text edited by `edit`.
pub(crate) fn rewrite(workbook: &[u8], name: &str, edit: impl Fn(&str) -> String) -> Vec<u8> {
    rezip(workbook, |entry, content| {
        if entry != name {
            return (entry, content);
        }
        let edited = edit(std::str::from_utf8(&content).unwrap());
        assert_ne!(edited.as_bytes(), &content[..], "{name} unchanged");
        (entry, edited.into_bytes())
    })
}

#[test]
fn a_mistake_only_the_loader_sees_is_located_and_an_override_is_not_blamed_on_its_cell() {
    let dir = Dir::new();
    let xlsx = dir.path("four.xlsx");
    let four = shipped("four_districts_back_office.json");
    sim(&["convert", &four, xlsx.to_str().unwrap()]).ok();
    let x = xlsx.to_str().unwrap();
    let set = sim(&["validate", x, "--set", "/partners/1/exit_fee=-7"]);
    set.bad_input()
        .stderr_has("\n  - /partners/1/exit_fee: -7 is out of range");
    assert!(!set.stderr.contains("Partners!"), "{}", set.stderr);
    // An edit elsewhere leaves the cells of the values read from the file named: three
    // founders made late joiners leave one, below min_members, which is as read.
    let late = |i: usize| format!("/partners/{i}/joins_year=1");
    let (a, b, c) = (late(0), late(1), late(2));
    let args = ["validate", x, "--set", &a, "--set", &b, "--set", &c];
    sim(&args).bad_input().stderr_has(
        "\n  - Scenario!C10 (/min_members): min_members is 2 but only 1 partner found the consortium",
    );
}

fn sha256_hex(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_workbook_runs_as_its_json_does_and_its_bytes_are_hashed() {
    let dir = Dir::new();
    let xlsx = dir.path("four.xlsx");
    let four = shipped("four_districts_back_office.json");
    sim(&["convert", &four, xlsx.to_str().unwrap()]).ok();
    let (a, b) = (dir.path("a.json"), dir.path("b.json"));
    let args = ["--trials", "2000", "--seed", "4", "--quiet", "--out"];
    let run = |scenario: &str, out: &Path| {
        let mut all = vec!["run", scenario];
        all.extend(args);
        all.push(out.to_str().unwrap());
        sim(&all).ok();
        read_json(out)
    };
    let (from_json, from_xlsx) = (run(&four, &a), run(xlsx.to_str().unwrap(), &b));
    for part in ["/consortium", "/partners"] {
        assert_eq!(from_json.pointer(part), from_xlsx.pointer(part), "{part}");
    }
    let record = &from_xlsx["provenance"]["scenarios"][0];
    assert_eq!(record["file"], xlsx.display().to_string());
    assert_eq!(record["sha256"], sha256_hex(&xlsx));
    // A workbook of a shipped example's very values is that example.
    assert_eq!(record["shipped_example"], true);
}

#[test]
fn convert_refuses_to_replace_its_input_and_an_unknown_extension() {
    let dir = Dir::new();
    let xlsx = dir.path("in.xlsx");
    sim(&["init", "--xlsx", xlsx.to_str().unwrap()]).ok();
    let before = std::fs::read(&xlsx).unwrap();
    let link = dir.path("link.xlsx");
    std::os::unix::fs::symlink(&xlsx, &link).unwrap();
    let same = sim(&["convert", xlsx.to_str().unwrap(), link.to_str().unwrap()]);
    same.bad_input().stderr_has(&format!(
        "error: the converted scenario {} would replace the scenario {}",
        link.display(),
        xlsx.display()
    ));
    assert_eq!(std::fs::read(&xlsx).unwrap(), before);
    let text = dir.path("out.txt");
    sim(&["convert", xlsx.to_str().unwrap(), text.to_str().unwrap()])
        .bad_input()
        .stderr_has("convert writes a workbook (.xlsx) or JSON (.json)");
    assert!(!text.exists());
}

/// A text longer than a cell holds is named by its field, as a scenario that cannot be
/// written as a workbook (it used to be called "not a readable Excel workbook", of a
/// JSON file that was never meant to be one); nothing is written.
#[test]
fn a_text_too_long_for_a_cell_is_named_by_its_field() {
    let dir = Dir::new();
    let mut v = read_json(Path::new(&shipped("four_districts_back_office.json")));
    v["description"] = Value::String("x".repeat(40_000));
    let json = dir.write("long.json", &v.to_string());
    let xlsx = dir.path("long.xlsx");
    sim(&["convert", &json, xlsx.to_str().unwrap()])
        .bad_input()
        .stderr_has(&format!(
            "error: {json} cannot be written as a workbook: /description is a text of 40000 \
             characters, longer than the 32767 an Excel cell holds"
        ));
    assert!(!xlsx.exists());
    // A partner's name is found where it is first written.
    let mut v = read_json(Path::new(&shipped("four_districts_back_office.json")));
    v["partners"][2]["name"] = Value::String("n".repeat(33_000));
    let json = dir.write("named.json", &v.to_string());
    sim(&["convert", &json, xlsx.to_str().unwrap()])
        .bad_input()
        .stderr_has(
            "cannot be written as a workbook: /partners/2/name is a text of 33000 characters",
        );
    assert!(!xlsx.exists());
    // The same name as a fixed weight's key (read before the partners) is still named by
    // the partner's own field, the cell it is written in.
    let weights: serde_json::Map<String, Value> = v["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_string(), Value::from(1.0)))
        .collect();
    v["service"]["cost_sharing"] = serde_json::json!({ "fixed": weights });
    let json = dir.write("weighted.json", &v.to_string());
    sim(&["convert", &json, xlsx.to_str().unwrap()])
        .bad_input()
        .stderr_has(
            "cannot be written as a workbook: /partners/2/name is a text of 33000 characters",
        );
    // Numbers written as one cell of text (a ramp, a distribution) count as that text.
    let mut v = read_json(Path::new(&shipped("four_districts_back_office.json")));
    v["service"]["ramp"] = Value::Array(vec![Value::from(0.123456789); 6000]);
    let json = dir.write("ramp.json", &v.to_string());
    sim(&["convert", &json, xlsx.to_str().unwrap()])
        .bad_input()
        .stderr_has(&format!(
            "error: {json} cannot be written as a workbook: /service/ramp is a text of 77998 \
             characters, longer than the 32767 an Excel cell holds"
        ));
    assert!(!xlsx.exists());
}

#[test]
fn a_damaged_workbook_is_refused_as_bad_input() {
    let dir = Dir::new();
    let path = dir.write("broken.xlsx", "PK\u{3}\u{4} not really a zip");
    sim(&["validate", &path])
        .bad_input()
        .stderr_has("broken.xlsx is not a readable Excel workbook (.xlsx)");

    // A zip of other files (here a zipped scenario, renamed) is named by what it holds.
    let path = dir.path("zipped.xlsx");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for name in ["folder/", "folder/four.json", "notes.txt", "a.csv", "b.csv"] {
        let options = zip::write::SimpleFileOptions::default();
        if name.ends_with('/') {
            zip.add_directory(name, options).unwrap();
        } else {
            zip.start_file(name, options).unwrap();
            std::io::Write::write_all(&mut zip, b"{}").unwrap();
        }
    }
    zip.finish().unwrap();
    sim(&["validate", path.to_str().unwrap()]).bad_input().stderr_has(
        "zipped.xlsx is not a readable Excel workbook (.xlsx): it is a zip archive of other files (\"folder/four.json\", \"notes.txt\", \"a.csv\" and 1 more), not a workbook: unzip it and give the scenario's JSON file or workbook itself",
    );
    // An empty zip begins with its end record, not an entry's header.
    let path = dir.path("empty.json");
    zip::ZipWriter::new(std::fs::File::create(&path).unwrap())
        .finish()
        .unwrap();
    sim(&["validate", path.to_str().unwrap()]).bad_input().stderr_has(
        "empty.json is not a readable Excel workbook (.xlsx): it is a zip archive that holds no files, not a workbook",
    );
}

/// A workbook that would unpack to more than 256 MiB (a "zip bomb": 300 MiB of one
/// letter packs into well under a megabyte) is refused from its zip directory, before
/// anything is unpacked, with exit code 2; one part under the bound is read as usual.
#[test]
fn a_workbook_that_unpacks_too_large_is_refused_before_it_is_read() {
    use std::io::Write;
    let dir = Dir::new();
    let path = dir.path("bomb.xlsx");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    let block = vec![b'a'; 1 << 20];
    for _ in 0..300 {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 2 << 20);
    sim(&["validate", path.to_str().unwrap()])
        .bad_input()
        .stderr_has("bomb.xlsx is not a readable Excel workbook (.xlsx): it unpacks to 300 MiB, more than the 256 MiB a scenario workbook may hold");
}

/// A sheet whose used cells lie far apart (A1 and the last cell of a sheet: a file of a
/// few kilobytes) is refused before calamine would lay out its whole area in memory.
#[test]
fn a_sheet_spanning_too_many_cells_is_refused_before_it_is_laid_out() {
    let dir = Dir::new();
    let path = dir.path("stray.xlsx");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Partners").unwrap();
    sheet.write_string(0, 0, "name").unwrap();
    sheet.write_string(1_048_575, 16_383, "stray").unwrap();
    book.save(&path).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 64 << 10);
    sim(&["validate", path.to_str().unwrap()])
        .bad_input()
        .stderr_has("stray.xlsx is not a readable Excel workbook (.xlsx): its sheet Partners uses cells from Partners!A1 to Partners!XFD1048576, more than the 2000000 cells a scenario sheet may span");
}

/// A spreadsheet saved in another format (Excel 97-2003, OpenDocument) or a PDF is
/// refused by what it is, with what to do, not as JSON's syntax error at line 1.
#[test]
fn a_file_of_another_format_is_named_as_such() {
    use std::io::Write;
    let dir = Dir::new();
    let xls = dir.path("old.xls");
    let mut old = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".to_vec();
    old.resize(512, 0);
    std::fs::write(&xls, old).unwrap();
    // An OpenDocument spreadsheet: a zip whose first entry, stored, is its type.
    let ods = dir.path("plan.ods");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&ods).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("content.xml", stored).unwrap();
    zip.write_all(b"<office:document-content/>").unwrap();
    zip.finish().unwrap();
    let pdf = dir.path("report.json");
    std::fs::write(&pdf, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n").unwrap();
    // Other Office zips: a binary workbook, a Word document.
    let zipped = |name: &str, entry: &str| {
        let path = dir.path(name);
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        zip.start_file(entry, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"<x/>").unwrap();
        zip.finish().unwrap();
        path
    };
    let xlsb = zipped("plan.xlsb", "xl/workbook.bin");
    let docx = zipped("plan.docx", "word/document.xml");
    for (path, said) in [
        (
            &xls,
            "is an Excel 97-2003 workbook (.xls) or another old Office document, not a scenario",
        ),
        (
            &ods,
            "is an OpenDocument spreadsheet (.ods), not a scenario",
        ),
        (&pdf, "is a PDF document, not a scenario"),
        (&xlsb, "is an Excel binary workbook (.xlsb), not a scenario"),
        (&docx, "is a Word document, not a scenario"),
    ] {
        let out = sim(&["validate", path.to_str().unwrap()]);
        let err = &out.stderr;
        assert_eq!(out.code, 2, "{err}");
        assert!(err.contains(said), "{err}");
        assert!(!err.contains("JSON:"), "{err}");
    }
    let err = sim(&["validate", xls.to_str().unwrap()]).stderr;
    assert!(
        err.contains("save it as an Excel workbook (.xlsx)"),
        "{err}"
    );
}

/// The scenario workbook `written`, copied cell by cell, with the cells of its Partners
/// sheet that `area` picks (first row, first column, last row, last column, from 0)
/// merged, and `top_left` written into the merge if given (else it keeps its value).
fn with_partners_merged(
    written: &[u8],
    area: impl Fn(&calamine::Range<calamine::Data>) -> (u32, u16, u32, u16),
    top_left: Option<f64>,
) -> Vec<u8> {
    use calamine::{Data, Reader, open_workbook_from_rs};
    let mut source: calamine::Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(written.to_vec())).unwrap();
    let mut book = Workbook::new();
    for name in source.sheet_names() {
        let range = source.worksheet_range(&name).unwrap();
        let ws = book.add_worksheet();
        ws.set_name(&name).unwrap();
        let write = |ws: &mut rust_xlsxwriter::Worksheet, r: u32, c: u16, cell: &Data| match cell {
            Data::String(t) => drop(ws.write_string(r, c, t).unwrap()),
            Data::Float(x) => drop(ws.write_number(r, c, *x).unwrap()),
            Data::Int(x) => drop(ws.write_number(r, c, *x as f64).unwrap()),
            Data::Bool(b) => drop(ws.write_boolean(r, c, *b).unwrap()),
            other => panic!("{name}: {other:?}"),
        };
        let first = range.start().unwrap_or((0, 0)).0;
        for (r, c, cell) in range.used_cells() {
            write(ws, r as u32 + first, c as u16, cell);
        }
        if name == "Partners" {
            let (r1, c1, r2, c2) = area(&range);
            ws.merge_range(r1, c1, r2, c2, "", &rust_xlsxwriter::Format::new())
                .unwrap();
            match top_left {
                Some(x) => drop(ws.write_number(r1, c1, x).unwrap()),
                None => write(ws, r1, c1, range.get_value((r1, c1.into())).unwrap()),
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// A value merged down several rows (an exit fee over four partners' rows) is each row's
/// value, as the spreadsheet shows it, where it was the first row's only and the others
/// silently took the default.
#[test]
fn a_merged_cell_gives_its_value_to_every_row_it_covers() {
    let value = read_json(Path::new(&shipped("four_districts_back_office.json")));
    let written = workbook::write(&value, "test").unwrap();
    // The exit_fee column merged over every partner's row, holding one fee.
    let fee = 250_000.0;
    let partners = value["partners"].as_array().unwrap().len() as u32;
    let fee_column = |range: &calamine::Range<calamine::Data>| {
        let col = (0..range.width())
            .find(|&c| {
                range
                    .get((0, c))
                    .is_some_and(|h| h.to_string().starts_with("exit_fee"))
            })
            .expect("an exit_fee column") as u16;
        (1, col, partners, col)
    };
    let bytes = with_partners_merged(&written, fee_column, Some(fee));
    let read = workbook::read(&bytes, "merged.xlsx").expect("reads").value;
    let mut expected = value.clone();
    for p in expected["partners"].as_array_mut().unwrap() {
        p["exit_fee"] = serde_json::json!(fee);
    }
    assert_eq!(
        crate::workbook::numbers_as_doubles(&read),
        crate::workbook::numbers_as_doubles(&expected)
    );
    // A heading merged down into the first partner's row would become its name: refused.
    let bytes = with_partners_merged(&written, |_| (0, 0, 1, 0), None);
    let err = workbook::read(&bytes, "heading.xlsx")
        .expect_err("a heading merged into the data")
        .to_string();
    assert!(
        err.contains(
            "its sheet Partners merges the heading Partners!A1 with the cells below it (A1:A2)"
        ),
        "{err}"
    );
    // Unmerged, the same workbook reads as before: the merge is what changed it.
    assert_eq!(
        crate::workbook::numbers_as_doubles(&workbook::read(&written, "w.xlsx").unwrap().value),
        crate::workbook::numbers_as_doubles(&value)
    );
}
