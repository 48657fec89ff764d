//! The results workbook (`--xlsx`), read back with calamine and unzipped: every Summary
//! figure equals the JSON report's, the Trials sheet equals the trials CSV cell for cell,
//! partner names that look like formulas are plain strings (no cell of any workbook is a
//! formula), the analyses' workbooks have their sheets and native charts, and the bytes
//! depend on the result, not the clock. Also the CSV side of the same concern: text
//! that starts like a formula is neutralised, numbers are not, and a partner named like a
//! fixed column gets a column of its own.

use std::io::Read;
use std::path::Path;

use calamine::{Data, DataType, Reader, Xlsx, open_workbook};
use serde_json::Value;

use crate::util::{Dir, ok, output, read_json, shipped, shipped_json};

/// Partners named to trip a spreadsheet (formulas, a sign, a fixed column's name).
const TRICKY: [&str; 4] = ["=HYPERLINK(\"http://x\")", "+1", "npv", "@SUM(A1)"];

/// A shipped scenario with a go-live delay (so the trial table has `delay_years`), its
/// first partners renamed to [`TRICKY`].
fn tricky_scenario(dir: &Dir) -> String {
    let mut v = shipped_json("departments_shared_service_centre.json");
    let partners = v["partners"].as_array_mut().unwrap();
    for (p, name) in partners.iter_mut().zip(TRICKY) {
        p["name"] = Value::from(name);
    }
    // Fixed cost-sharing weights name partners; the shipped scenario uses a rule.
    assert!(v["cost_sharing"].is_string() || v.get("cost_sharing").is_none());
    v.as_object_mut().unwrap().remove("$schema");
    dir.write_json("tricky.json", &v)
}

fn open(path: &Path) -> Xlsx<std::io::BufReader<std::fs::File>> {
    open_workbook(path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// Every row of a sheet, from A1.
fn rows(book: &mut Xlsx<std::io::BufReader<std::fs::File>>, sheet: &str) -> Vec<Vec<Data>> {
    let range = book.worksheet_range(sheet).unwrap();
    assert_eq!(range.start(), Some((0, 0)), "{sheet} starts at A1");
    range.rows().map(<[Data]>::to_vec).collect()
}

/// The names of a zip's entries and their bytes.
fn unzip(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (entry.name().unwrap().to_string(), bytes)
        })
        .collect()
}

fn entry<'a>(entries: &'a [(String, Vec<u8>)], name: &str) -> &'a str {
    let (_, bytes) = entries
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in the workbook"));
    std::str::from_utf8(bytes).unwrap()
}

/// No cell of any sheet is a formula: user text is always written as a string.
fn assert_no_formulas(entries: &[(String, Vec<u8>)]) {
    for (name, bytes) in entries {
        if name.starts_with("xl/worksheets/sheet") {
            let xml = std::str::from_utf8(bytes).unwrap();
            assert!(
                !xml.contains("<f>") && !xml.contains("<f "),
                "a formula in {name}"
            );
        }
    }
}

/// The value at a dotted key of the report (`consortium.prob_npv_negative.ci95.0`).
fn at<'a>(report: &'a Value, key: &str) -> &'a Value {
    let pointer = format!("/{}", key.replace('.', "/"));
    report
        .pointer(&pointer)
        .unwrap_or_else(|| panic!("no {key} in the report"))
}

/// Every figure of the Summary sheet (the rows whose third column names a report key)
/// equals the report's, exactly; returns how many were checked.
fn check_summary(book: &mut Xlsx<std::io::BufReader<std::fs::File>>, report: &Value) -> usize {
    let rows = rows(book, "Summary");
    let header = rows
        .iter()
        .position(|r| r.get(2) == Some(&Data::String("Report key (JSON)".into())))
        .expect("the figures' header row");
    let mut checked = 0;
    for row in &rows[header + 1..] {
        let Some(Data::String(key)) = row.get(2) else {
            break;
        };
        let label = &row[0];
        match (at(report, key), &row[1]) {
            (Value::Number(n), Data::Float(x)) => {
                assert_eq!(*x, n.as_f64().unwrap(), "{label}: {key}");
            }
            (Value::String(s), Data::String(t)) => assert_eq!(s, t, "{label}: {key}"),
            (Value::Null, Data::String(t)) => assert!(t.contains("fewer than half"), "{t}"),
            (expected, got) => {
                panic!("{label} ({key}): the report has {expected}, the sheet {got:?}")
            }
        }
        checked += 1;
    }
    checked
}

#[test]
fn summary_figures_equal_the_json_report_and_every_sheet_is_there() {
    let dir = Dir::new();
    let (json, xlsx) = (dir.path("r.json"), dir.path("r.xlsx"));
    let scenario = shipped("departments_shared_service_centre.json");
    ok(output(&[
        "run",
        &scenario,
        "--trials",
        "3000",
        "--seed",
        "4",
        "--quiet",
        "--out",
        json.to_str().unwrap(),
        "--xlsx",
        xlsx.to_str().unwrap(),
        "--cashflow-csv",
        dir.path("cash.csv").to_str().unwrap(),
    ]));
    let report = read_json(&json);
    let mut book = open(&xlsx);
    assert_eq!(
        book.sheet_names(),
        [
            "Summary",
            "Partners",
            "By year",
            "Cash by year",
            "NPV distribution",
            "Events",
            "Inputs",
            "Trials"
        ]
    );
    // Headline, percentiles, Wilson interval, payback, delay, and what was run.
    assert_eq!(check_summary(&mut book, &report), 23);
    // Partners: every partner's figures, names as text.
    let partners = rows(&mut book, "Partners");
    for (i, p) in report["partners"].as_array().unwrap().iter().enumerate() {
        let row = &partners[i + 1];
        assert_eq!(row[0], Data::String(p["name"].as_str().unwrap().into()));
        assert_eq!(row[1], Data::Float(p["npv"]["mean"].as_f64().unwrap()));
        assert_eq!(row[4], Data::Float(p["npv"]["p05"].as_f64().unwrap()));
        assert_eq!(row[12], Data::Float(p["prob_worse_off"].as_f64().unwrap()));
        assert_eq!(row[13], Data::Float(p["prob_withdraws"].as_f64().unwrap()));
    }
    // By year: the fan data.
    let years = rows(&mut book, "By year");
    for (i, b) in report["consortium"]["by_year"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let expected: Vec<Data> = ["year", "p05", "p25", "p50", "p75", "p95", "mean"]
            .iter()
            .map(|k| Data::Float(b[k].as_f64().unwrap()))
            .collect();
        assert_eq!(years[i + 1], expected);
    }
    // Cash by year: the cash flow CSV's rows and columns, cell for cell.
    let cash = rows(&mut book, "Cash by year");
    let text = std::fs::read_to_string(dir.path("cash.csv")).unwrap();
    let csv_rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(csv_rows.len(), 10 * 10);
    for (k, fields) in csv_rows.iter().enumerate() {
        let row = &cash[k + 1];
        assert_eq!(row[0], Data::String(fields[0].into()));
        for (j, f) in fields.iter().enumerate().skip(1) {
            assert_eq!(
                row[j],
                Data::Float(f.parse().unwrap()),
                "row {k} column {j}"
            );
        }
    }
    // NPV distribution: 40 bins whose counts add up to the trials, cumulative to 100 %.
    let bins = rows(&mut book, "NPV distribution");
    let counts: f64 = bins[1..].iter().map(|r| r[3].as_f64().unwrap()).sum();
    assert_eq!((bins.len() - 1, counts), (40, 3000.0));
    assert_eq!(bins[40][5], Data::Float(1.0));
    // Events: mean counts per trial.
    let events = rows(&mut book, "Events");
    assert_eq!(
        events[1][1],
        Data::Float(at(&report, "events.withdrawals").as_f64().unwrap())
    );
    // Inputs: numbers as numbers, distributions in one cell.
    let inputs = rows(&mut book, "Inputs");
    let row = |name: &str| {
        inputs
            .iter()
            .find(|r| r.get(1) == Some(&Data::String(name.into())))
            .unwrap_or_else(|| panic!("no input {name}"))
            .clone()
    };
    let field = |name: &str| row(name)[2].clone();
    assert_eq!(field("horizon_years"), Data::Float(10.0));
    // The trials and seed used (--trials 3000 --seed 4), beside what the file says.
    let file = read_json(std::path::Path::new(&scenario));
    let said = |key: &str| Data::Float(file[key].as_f64().unwrap());
    assert_eq!(row("trials")[2..4], [Data::Float(3000.0), said("trials")]);
    assert_eq!(row("seed")[2..4], [Data::Float(4.0), said("seed")]);
    assert_eq!(
        field("efficiency"),
        Data::String("pert(0.05, 0.11, 0.22)".into())
    );
    // Charts: the partners' bars, the fan, the partners' cash and the histogram.
    let entries = unzip(&xlsx);
    for chart in [
        "xl/charts/chart1.xml",
        "xl/charts/chart2.xml",
        "xl/charts/chart3.xml",
        "xl/charts/chart4.xml",
    ] {
        assert!(entries.iter().any(|(n, _)| n == chart), "{chart}");
    }
    assert!(entry(&entries, "xl/charts/chart2.xml").contains("<c:lineChart>"));
    assert_no_formulas(&entries);
}

#[test]
fn the_trials_sheet_equals_the_trials_csv_cell_for_cell() {
    let dir = Dir::new();
    let scenario = tricky_scenario(&dir);
    let (csv, xlsx) = (dir.path("t.csv"), dir.path("t.xlsx"));
    ok(output(&[
        "run",
        &scenario,
        "--trials",
        "1500",
        "--seed",
        "9",
        "--quiet",
        "--trials-csv",
        csv.to_str().unwrap(),
        "--xlsx",
        xlsx.to_str().unwrap(),
    ]));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(&csv)
        .unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let sheet = rows(&mut open(&xlsx), "Trials");
    assert_eq!(sheet.len(), records.len());
    assert_eq!(sheet.len(), 1501);
    // The header: the workbook shows each name as typed; the CSV neutralises the ones
    // that start like a formula. A partner named `npv` has the column `npv[npv]`.
    let header: Vec<String> = sheet[0]
        .iter()
        .map(|d| match d {
            Data::String(s) => s.clone(),
            other => panic!("header cell {other:?}"),
        })
        .collect();
    assert_eq!(
        header[..6],
        [
            "trial",
            "npv",
            "=HYPERLINK(\"http://x\")",
            "+1",
            "npv[npv]",
            "@SUM(A1)"
        ]
    );
    assert_eq!(header.last().unwrap(), "delay_years");
    let csv_header: Vec<&str> = records[0].iter().collect();
    assert_eq!(
        csv_header[..6],
        [
            "trial",
            "npv",
            "'=HYPERLINK(\"http://x\")",
            "'+1",
            "npv[npv]",
            "'@SUM(A1)"
        ]
    );
    assert_eq!(csv_header.len(), header.len());
    // Every value: an empty field is an empty cell; a number is the same f64, written
    // the same way.
    let mut numbers = 0;
    for (record, row) in records[1..].iter().zip(&sheet[1..]) {
        assert_eq!(record.len(), row.len().max(record.len()));
        for (j, field) in record.iter().enumerate() {
            let cell = row.get(j).unwrap_or(&Data::Empty);
            if field.is_empty() {
                assert_eq!(*cell, Data::Empty, "column {}", header[j]);
            } else {
                let Data::Float(x) = cell else {
                    panic!("{} = {field}: the sheet has {cell:?}", header[j])
                };
                assert_eq!(x.to_string(), field, "column {}", header[j]);
                numbers += 1;
            }
        }
    }
    assert!(numbers > 1500 * 10, "{numbers}");
}

#[test]
fn formula_looking_partner_names_are_plain_strings() {
    let dir = Dir::new();
    let scenario = tricky_scenario(&dir);
    let xlsx = dir.path("f.xlsx");
    ok(output(&[
        "run",
        &scenario,
        "--trials",
        "500",
        "--quiet",
        "--xlsx",
        xlsx.to_str().unwrap(),
    ]));
    let mut book = open(&xlsx);
    let partners = rows(&mut book, "Partners");
    let names: Vec<&Data> = partners[1..=4].iter().map(|r| &r[0]).collect();
    let expected: Vec<Data> = TRICKY.iter().map(|n| Data::String(n.to_string())).collect();
    assert_eq!(names, expected.iter().collect::<Vec<_>>());
    let inputs = rows(&mut book, "Inputs");
    assert!(
        inputs
            .iter()
            .any(|r| r.first() == Some(&Data::String("+1".into())))
    );
    let entries = unzip(&xlsx);
    assert_no_formulas(&entries);
    // Shown as typed: a string cell, not a formula's cached value.
    assert!(entry(&entries, "xl/sharedStrings.xml").contains("=HYPERLINK(\"http://x\")"));
}

#[test]
fn the_same_result_gives_the_same_bytes_but_for_its_time() {
    let dir = Dir::new();
    let scenario = shipped("four_districts_back_office.json");
    let run = |name: &str| {
        let (json, xlsx) = (
            dir.path(&format!("{name}.json")),
            dir.path(&format!("{name}.xlsx")),
        );
        let args = [
            "run",
            &scenario,
            "--trials",
            "800",
            "--quiet",
            "--threads",
            "1",
            "--out",
            json.to_str().unwrap(),
            "--xlsx",
            xlsx.to_str().unwrap(),
        ];
        ok(output(&args));
        (read_json(&json), unzip(&xlsx))
    };
    let (report_a, a) = run("a");
    let (_, b) = run("b");
    // The creation time is the report's generation time, not the clock's.
    let generated = report_a["provenance"]["generated_at"].as_str().unwrap();
    assert!(
        entry(&a, "docProps/core.xml").contains(&format!(">{generated}</dcterms:created>")),
        "{}",
        entry(&a, "docProps/core.xml")
    );
    // Everything else but the provenance's time (in the shared strings) is identical.
    let names = |e: &[(String, Vec<u8>)]| e.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b));
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        if name != "docProps/core.xml" && name != "xl/sharedStrings.xml" {
            assert!(x == y, "{name} differs between identical runs");
        }
    }
}

#[test]
fn a_run_too_large_for_a_sheet_says_how_to_get_its_trials() {
    let dir = Dir::new();
    let xlsx = dir.path("big.xlsx");
    let scenario = shipped("four_districts_back_office.json");
    ok(output(&[
        "run",
        &scenario,
        "--trials",
        "1048576",
        "--quiet",
        "--xlsx",
        xlsx.to_str().unwrap(),
    ]));
    let sheet = rows(&mut open(&xlsx), "Trials");
    assert_eq!(sheet.len(), 1);
    let Data::String(line) = &sheet[0][0] else {
        panic!("{:?}", sheet[0])
    };
    assert!(line.contains("1,048,576 trials"), "{line}");
    assert!(line.contains("1,048,575 rows"), "{line}");
    assert!(line.contains("--trials-csv"), "{line}");
}

#[test]
fn merge_writes_the_workbook_of_the_whole_run() {
    let dir = Dir::new();
    let scenario = shipped("four_districts_back_office.json");
    let parts: Vec<String> = (0..2)
        .map(|k| {
            let part = dir.path(&format!("p{k}.bin")).display().to_string();
            ok(output(&[
                "run",
                &scenario,
                "--trials",
                "2000",
                "--quiet",
                "--shard",
                &format!("{k}/2"),
                "--partial",
                &part,
            ]));
            part
        })
        .collect();
    let (json, xlsx) = (dir.path("m.json"), dir.path("m.xlsx"));
    ok(output(&[
        "merge",
        &parts[0],
        &parts[1],
        "--out",
        json.to_str().unwrap(),
        "--xlsx",
        xlsx.to_str().unwrap(),
    ]));
    let mut book = open(&xlsx);
    assert_eq!(check_summary(&mut book, &read_json(&json)), 22);
    assert_eq!(rows(&mut book, "Trials").len(), 2001);
}

/// The sheet names of a workbook, and whether it has `chart`.
fn sheets_and_chart(path: &Path, chart: &str) -> (Vec<String>, bool) {
    let names = open(path).sheet_names();
    let entries = unzip(path);
    assert_no_formulas(&entries);
    (names, entries.iter().any(|(n, _)| n == chart))
}

#[test]
fn analysis_workbooks_have_their_sheets_and_charts() {
    let dir = Dir::new();
    let scenario = shipped("four_districts_back_office.json");
    let path = |n: &str| dir.path(n).display().to_string();
    let common = ["--trials", "500", "--seed", "3", "--quiet"];
    let sim = |args: &[&str]| ok(output(&[args, &common[..]].concat()));
    sim(&[
        "sweep",
        &scenario,
        "--param",
        "/service/efficiency=0.05:0.25:5",
        "--xlsx",
        &path("line.xlsx"),
    ]);
    sim(&[
        "sweep",
        &scenario,
        "--param",
        "/service/efficiency=0.1,0.2",
        "--param",
        "/partners/0/exit_fee=0,500000",
        "--export",
        &format!("xlsx={}", path("grid.xlsx")),
    ]);
    sim(&[
        "sensitivity",
        &scenario,
        "--switch",
        "/service/efficiency",
        "--xlsx",
        &path("sens.xlsx"),
        "--out",
        &path("sens.json"),
    ]);
    sim(&[
        "compare",
        &scenario,
        "--variant",
        "lean:/service/efficiency=0.08",
        "--xlsx",
        &path("cmp.xlsx"),
    ]);
    sim(&[
        "agreement",
        &scenario,
        "--term",
        "/partners/*/lock_in_years=0,4",
        "--term",
        "/partners/*/exit_fee=0,600000",
        "--xlsx",
        &path("terms.xlsx"),
        "--out",
        &path("terms.json"),
    ]);
    let chart = "xl/charts/chart1.xml";
    assert_eq!(
        sheets_and_chart(&dir.path("terms.xlsx"), chart),
        (vec!["Summary".into(), "Sets".into()], true)
    );
    // The trade-off is a scatter chart; each set's row holds its JSON figures, in rank
    // order, and the frontier's table below lists exactly the frontier's sets.
    assert!(entry(&unzip(&dir.path("terms.xlsx")), chart).contains("<c:scatterChart>"));
    let json = read_json(&dir.path("terms.json"));
    let sets = json["sets"].as_array().unwrap();
    let table = rows(&mut open(&dir.path("terms.xlsx")), "Sets");
    let col = |name: &str| {
        table[0]
            .iter()
            .position(|c| c == &Data::String(name.into()))
            .unwrap()
    };
    for (k, set) in sets.iter().enumerate() {
        let row = &table[k + 1];
        assert_eq!(row[0], Data::Float(set["rank"].as_f64().unwrap()));
        assert_eq!(row[1], Data::Float(set["set"].as_f64().unwrap()));
        assert_eq!(
            row[col("/partners/*/exit_fee")],
            Data::Float(set["at"]["/partners/*/exit_fee"].as_f64().unwrap())
        );
        assert_eq!(
            row[col("Mean NPV")],
            Data::Float(set["npv"]["mean"].as_f64().unwrap())
        );
        assert_eq!(
            row[col("Worst P(worse off)")],
            Data::Float(set["worst_prob_worse_off"].as_f64().unwrap())
        );
        let on = if set["frontier"].as_bool().unwrap() {
            "yes"
        } else {
            "no"
        };
        assert_eq!(row[col("On frontier")], Data::String(on.into()));
    }
    // The Summary's figures are numbers too, equal to the JSON's.
    let summary = |file: &str| -> Vec<Vec<Data>> { rows(&mut open(&dir.path(file)), "Summary") };
    let figure = |rows: &[Vec<Data>], label: &str| {
        rows.iter()
            .find(|r| r.first() == Some(&Data::String(label.into())))
            .unwrap_or_else(|| panic!("no {label}"))[1]
            .clone()
    };
    let terms = summary("terms.xlsx");
    let number = |v: &serde_json::Value| Data::Float(v.as_f64().unwrap());
    assert_eq!(figure(&terms, "Sets"), Data::Float(sets.len() as f64));
    assert_eq!(
        figure(&terms, "Trials of each set"),
        number(&json["trials"])
    );
    assert_eq!(figure(&terms, "Seed"), number(&json["seed"]));
    let sens = summary("sens.xlsx");
    let sens_json = read_json(&dir.path("sens.json"));
    assert_eq!(
        figure(&sens, "Base mean NPV"),
        number(&sens_json["base"]["mean_npv"])
    );
    assert_eq!(
        figure(&sens, "Base P(loss)"),
        number(&sens_json["base"]["prob_npv_negative"]["estimate"])
    );
    let listed: Vec<f64> = table[sets.len() + 3..]
        .iter()
        .filter_map(|r| match r.first() {
            Some(Data::Float(x)) => Some(*x),
            _ => None,
        })
        .collect();
    let mut frontier: Vec<f64> = json["frontier"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort_by(f64::total_cmp);
    frontier.sort_by(f64::total_cmp);
    assert_eq!(listed_sorted, frontier);
    assert_eq!(
        sheets_and_chart(&dir.path("line.xlsx"), chart),
        (vec!["Summary".into(), "Sweep".into()], true)
    );
    assert_eq!(
        sheets_and_chart(&dir.path("grid.xlsx"), chart),
        (
            vec!["Summary".into(), "Sweep".into(), "Heat map".into()],
            true
        )
    );
    assert_eq!(
        sheets_and_chart(&dir.path("sens.xlsx"), chart),
        (
            ["Summary", "Tornado", "Rank correlation", "Switching values"]
                .map(String::from)
                .to_vec(),
            true
        )
    );
    assert_eq!(
        sheets_and_chart(&dir.path("cmp.xlsx"), chart),
        (
            ["Summary", "Comparison", "Partners"]
                .map(String::from)
                .to_vec(),
            true
        )
    );
    // The sweep's line chart, the tornado's bars, the heat map's colour scales.
    assert!(entry(&unzip(&dir.path("line.xlsx")), chart).contains("<c:lineChart>"));
    assert!(entry(&unzip(&dir.path("sens.xlsx")), chart).contains("<c:barDir val=\"bar\"/>"));
    let grid = unzip(&dir.path("grid.xlsx"));
    assert_eq!(
        entry(&grid, "xl/worksheets/sheet3.xml")
            .matches("<colorScale>")
            .count(),
        2
    );
    // Figures are numbers: the sweep's mean NPVs equal its JSON's.
    sim(&[
        "sweep",
        &scenario,
        "--param",
        "/service/efficiency=0.05:0.25:5",
        "--out",
        &path("line.json"),
    ]);
    let json = read_json(&dir.path("line.json"));
    let sweep = rows(&mut open(&dir.path("line.xlsx")), "Sweep");
    for (k, point) in json["points"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            sweep[k + 1][1],
            Data::Float(point["npv"]["mean"].as_f64().unwrap())
        );
    }
}

#[test]
fn csv_text_that_starts_like_a_formula_is_neutralised_and_numbers_are_not() {
    let dir = Dir::new();
    let scenario = shipped("four_districts_back_office.json");
    let csv = dir.path("s.csv");
    ok(output(&[
        "sweep",
        &scenario,
        "--trials",
        "200",
        "--quiet",
        "--param",
        "/name=-a,b",
        "--param",
        "/service/scale_elasticity=-0.1,0.1",
        "--csv",
        csv.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].starts_with("'-a,-0.1,"), "{}", lines[1]);
    assert!(lines[2].starts_with("'-a,0.1,"), "{}", lines[2]);
    assert!(lines[3].starts_with("b,-0.1,"), "{}", lines[3]);
    // Negative figures stay numbers: the P10 NPV here is a loss.
    let p10 = lines[1].split(',').nth(8).unwrap();
    assert!(
        p10.starts_with('-') && p10.parse::<f64>().is_ok(),
        "{}",
        lines[1]
    );
}

/// A seed above 2^53, which a double would round, is written as text on the Summary and
/// Inputs sheets, so that it can be typed back and the run repeated.
#[test]
fn a_seed_too_large_for_a_double_is_written_as_text() {
    let dir = Dir::new();
    let xlsx = dir.path("r.xlsx");
    let seed = "18446744073709551615";
    ok(output(&[
        "run",
        &shipped("four_districts_back_office.json"),
        "--trials",
        "200",
        "--set",
        &format!("/seed={seed}"),
        "--quiet",
        "--xlsx",
        xlsx.to_str().unwrap(),
    ]));
    let mut book = open(&xlsx);
    let has_seed = |rows: &[Vec<Data>]| rows.iter().any(|r| r.contains(&Data::String(seed.into())));
    assert!(has_seed(&rows(&mut book, "Summary")));
    assert!(has_seed(&rows(&mut book, "Inputs")));
}
