//! Pages print on A4 without losing a column (#17 item 15): the print CSS asks for A4,
//! lets tables overflow visibly instead of behind a scroll bar (which print cuts off)
//! and wraps headers; wide tables (a sweep's partners, a run's partner inputs, many
//! scenarios compared) are split into tables of a few columns, each repeating the
//! leading ones. `tests/browser/check.sh` prints real pages in Chromium and checks every
//! header is in the PDF; this suite checks the pages themselves.

use std::path::Path;

use regex::Regex;

use crate::util::{root, shipped, sim};

/// Each table's header cells, in order.
fn table_headers(page: &str) -> Vec<Vec<String>> {
    let table = Regex::new(r"(?s)<thead>(.*?)</thead>").unwrap();
    let th = Regex::new(r"(?s)<th[^>]*>(.*?)</th>").unwrap();
    table
        .captures_iter(page)
        .map(|t| th.captures_iter(&t[1]).map(|c| c[1].to_string()).collect())
        .collect()
}

fn wide() -> String {
    root().join("tests/browser/wide.json").display().to_string()
}

fn page(dir: &Path, name: &str, args: &[&str]) -> String {
    let html = dir.join(format!("{name}.html"));
    let mut all = args.to_vec();
    all.extend([
        "--trials",
        "300",
        "--quiet",
        "--html",
        html.to_str().unwrap(),
    ]);
    sim(&all).ok();
    std::fs::read_to_string(html).unwrap()
}

/// Twelve partners' names, as the wide scenario gives them.
fn partner_names() -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wide()).unwrap()).unwrap();
    v["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_page_has_print_css_for_a4_without_clipping() {
    let dir = tempfile::tempdir().unwrap();
    let w = wide();
    let pages = [
        page(dir.path(), "run", &["run", &w]),
        page(
            dir.path(),
            "sweep",
            &["sweep", &w, "--param", "/service/efficiency=0.1,0.2"],
        ),
        page(dir.path(), "sensitivity", &["sensitivity", &w]),
        page(
            dir.path(),
            "agreement",
            &["agreement", &w, "--term", "/partners/*/exit_fee=0,500000"],
        ),
        page(
            dir.path(),
            "compare",
            &["compare", &w, &shipped("social_care_formal.json")],
        ),
    ];
    for p in &pages {
        assert!(p.contains("@page { size: A4; margin: 12mm; }"));
        let print = &p[p.find("@media print").expect("print CSS")..];
        for rule in [
            ".table-wrap { overflow: visible; }",
            "thead th, thead th.num { white-space: normal; overflow-wrap: break-word; }",
            "tbody th { min-width: 10em; }",
        ] {
            assert!(print.contains(rule), "print CSS lacks {rule}");
        }
    }
}

#[test]
fn an_agreements_partner_tables_are_split_six_partners_to_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let w = wide();
    let names = partner_names();
    let agreement = page(
        dir.path(),
        "agreement",
        &[
            "agreement",
            &w,
            "--term",
            "/partners/*/lock_in_years=0,3",
            "--term",
            "/partners/*/exit_fee=0,500000",
        ],
    );
    let tables = table_headers(&agreement);
    assert_eq!(tables[0][..4], ["Rank", "Set", "lock_in_years", "exit_fee"]);
    // Then mean NPV and P(worse off), each over two tables of six partners.
    assert_eq!(tables.len(), 1 + 2 * 2);
    for (what, pair) in ["Mean NPV", "P(worse off)"]
        .iter()
        .zip(tables[1..].chunks(2))
    {
        let mut partners = Vec::new();
        for t in pair {
            assert_eq!(t[0], "Set");
            assert_eq!(t.len(), 1 + 6);
            partners.extend(t[1..].iter().cloned());
        }
        let expected: Vec<String> = names.iter().map(|n| format!("{what}: {n}")).collect();
        assert_eq!(partners, expected);
    }
}

#[test]
fn wide_tables_are_split_with_every_column_kept() {
    let dir = tempfile::tempdir().unwrap();
    let w = wide();
    let names = partner_names();
    let sweep = page(
        dir.path(),
        "sweep",
        &[
            "sweep",
            &w,
            "--param",
            "/service/efficiency=0.05:0.25:3",
            "--param",
            "/partners/0/exit_fee=0,500000",
        ],
    );
    let tables = table_headers(&sweep);
    let consortium = [
        "/service/efficiency",
        "/partners/0/exit_fee",
        "Mean NPV",
        "Standard error",
        "P(loss)",
        "95% CI",
        "P(collapse)",
        "P10 NPV",
        "P50 NPV",
        "P90 NPV",
    ];
    assert_eq!(tables[0], consortium);
    // The partners' columns, six to a table after the two parameters.
    assert_eq!(tables.len(), 3);
    let mut partners = Vec::new();
    for t in &tables[1..] {
        assert_eq!(t[..2], consortium[..2]);
        assert_eq!(t.len(), 2 + 6);
        partners.extend(t[2..].iter().cloned());
    }
    let expected: Vec<String> = names.iter().map(|n| format!("P(worse off): {n}")).collect();
    assert_eq!(partners, expected);

    // A run's partner inputs: one column per partner, six to a table.
    let run = page(dir.path(), "run", &["run", &w]);
    let inputs: Vec<Vec<String>> = table_headers(&run)
        .into_iter()
        .filter(|t| t[0] == "Field" && t.len() > 2)
        .collect();
    assert_eq!(inputs.len(), 2);
    let columns: Vec<String> = inputs.iter().flat_map(|t| t[1..].to_vec()).collect();
    assert_eq!(columns, names);
    assert!(inputs.iter().all(|t| t.len() <= 1 + 6));

    // Every scenario compared: five to a table after the row labels.
    let files: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    let mut args = vec!["compare", w.as_str()];
    args.extend(files.iter().map(String::as_str));
    let compare = page(dir.path(), "compare", &args);
    let tables = table_headers(&compare);
    // The wide scenario and every shipped one, five to a table, each table led by the
    // row labels' column.
    let entrants = 1 + files.len();
    let expected: Vec<usize> = (0..entrants)
        .step_by(5)
        .map(|first| 1 + (entrants - first).min(5))
        .collect();
    assert_eq!(tables.iter().map(Vec::len).collect::<Vec<_>>(), expected);
    assert_eq!(tables[0][1], "wide");
}
