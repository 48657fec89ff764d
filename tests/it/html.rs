//! The HTML report and its charts: every chart present and labelled, nothing fetched
//! from the network, user text escaped, no NaN or infinity shown, and each chart
//! function drawn from synthetic data including the degenerate cases (one trial, all
//! values equal, one partner, a one-year horizon).
//!
//! `tests/browser/check.sh` complements these by rendering pages in a real browser.

use consortium_sim::engine;
use consortium_sim::export::charts::{
    self, FanYear, HeatMap, Line, LineChart, Metric, Swing, Tornado, Unit,
};
use consortium_sim::export::format::{money, percent};
use consortium_sim::export::html::{self, run_page};
use consortium_sim::plan::Plan;
use consortium_sim::scenario;
use consortium_sim::summary::{Report, RunInfo};
use serde_json::{Value, json};

use crate::util::{shipped_json, shipped_names};

/// The charts a run page must contain, by `data-chart` name.
const RUN_CHARTS: [&str; 5] = [
    "fan",
    "npv-histogram",
    "partner-npv",
    "partner-risk",
    "collapse-year",
];

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Runs a scenario given as JSON and renders its page; returns the page and the report.
fn render(inputs: &Value, seed: u64, trials: usize) -> (String, Report) {
    let s = scenario::from_value(inputs, "test").unwrap_or_else(|e| panic!("{e}"));
    let out = engine::run(&Plan::compile(&s), seed, 0, trials);
    let report = Report::build(&s, seed, &out, RunInfo::new(1, 0.5, trials));
    (run_page(&report, &s, inputs, &out), report)
}

/// A small scenario with uncertainty, withdrawals and disputes.
fn small(name: &str, horizon: u32, partners: Value) -> Value {
    json!({
        "name": name,
        "horizon_years": horizon,
        "min_members": 1,
        "service": {
            "fixed_cost": 100000,
            "efficiency": {"pert": [0.05, 0.12, 0.2]},
            "ramp": [0.5, 1.0],
            "transition_cost": {"triangular": [200000, 300000, 500000]}
        },
        "partners": partners,
        "disputes": {
            "annual_probability": 0.2,
            "resolution_probability": 0.5,
            "annual_cost": 50000,
            "efficiency_loss": 0.3,
            "hazard_uplift": 0.02
        }
    })
}

fn partner(name: &str, baseline: f64) -> Value {
    json!({"name": name, "baseline_cost": baseline, "withdrawal_hazard": 0.05,
           "reestablish_cost": 100000})
}

/// The `<figure data-chart="name">` element of a page.
fn chart_of<'a>(page: &'a str, name: &str) -> &'a str {
    let open = format!("data-chart=\"{name}\"");
    let start = page
        .find(&open)
        .unwrap_or_else(|| panic!("no chart {name}"));
    let end = page[start..].find("</figure>").expect("unclosed figure") + start;
    &page[start..end]
}

/// The text contents of every `<text>` element of an SVG, in document order.
fn texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        let after = &rest[i..];
        let body_start = after.find('>').unwrap() + 1;
        let body_end = after.find("</text>").unwrap();
        out.push(after[body_start..body_end].trim().to_string());
        rest = &after[body_end..];
    }
    out
}

/// The y attribute of the first `<text>` whose content is `label`.
fn text_y(svg: &str, label: &str) -> i32 {
    let end = svg
        .find(&format!(">\n{label}\n</text>"))
        .unwrap_or_else(|| panic!("no text {label}"));
    let start = svg[..end].rfind("<text").unwrap();
    let tag = &svg[start..end];
    let y = tag.find(" y=\"").unwrap() + 4;
    tag[y..y + tag[y..].find('"').unwrap()].parse().unwrap()
}

/// Checks that markup's tags nest properly (enough to catch a broken SVG or page).
fn assert_balanced(markup: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = markup;
    while let Some(i) = rest.find('<') {
        let end = rest[i..].find('>').expect("unclosed tag") + i;
        let tag = &rest[i + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if ["meta", "br", "link"].contains(&name.as_str()) {
            continue;
        }
        if tag.starts_with('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.as_str()),
                "misnested </{name}>"
            );
        } else {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

/// No NaN or infinity anywhere a reader could see it.
fn assert_finite_text(text: &str) {
    for bad in ["NaN", "Infinity", "∞"] {
        assert!(!text.contains(bad), "found {bad}");
    }
    let words = text.split(|c: char| !c.is_ascii_alphabetic());
    assert!(!words.into_iter().any(|w| w == "inf"), "found inf");
}

/// A chart is one balanced SVG with a title, finite text and at least `min_texts`
/// labels, including every one of `expected`.
fn assert_chart(svg: &str, title: &str, min_texts: usize, expected: &[&str]) {
    assert!(
        svg.starts_with("<svg"),
        "not an SVG: {}",
        &svg[..svg.len().min(80)]
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_balanced(svg);
    assert_finite_text(svg);
    let labels = texts(svg);
    assert!(
        labels.len() >= min_texts,
        "{} labels: {labels:?}",
        labels.len()
    );
    assert_eq!(
        labels.first().map(String::as_str),
        Some(title),
        "{labels:?}"
    );
    for e in expected {
        assert!(
            labels.iter().any(|l| l == e),
            "no label {e:?} in {labels:?}"
        );
    }
    assert!(
        !labels
            .iter()
            .any(|l| l.starts_with("This chart could not be drawn"))
    );
}

fn fan(values: &[(f64, f64, f64, f64, f64)]) -> Vec<FanYear> {
    values
        .iter()
        .map(|&(p05, p25, p50, p75, p95)| FanYear {
            p05,
            p25,
            p50,
            p75,
            p95,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The run page
// ---------------------------------------------------------------------------------------

#[test]
fn every_shipped_scenario_page_has_all_charts_with_labelled_svgs() {
    for file in shipped_names() {
        let (page, _) = render(&shipped_json(&file), 1, 2000);
        assert_balanced(&page);
        for name in RUN_CHARTS {
            let figure = chart_of(&page, name);
            assert!(figure.contains("<svg"), "{file}: {name} has no svg");
            assert!(figure.contains("</svg>"), "{file}: {name} svg not closed");
            assert!(texts(figure).len() >= 8, "{file}: {name} has few labels");
            assert!(
                figure.contains("<figcaption>"),
                "{file}: {name} has no caption"
            );
        }
        // A scenario whose go-live may slip has one more: the delay's distribution.
        let delayed = shipped_json(&file)["service"].get("delay_years").is_some();
        if delayed {
            let figure = chart_of(&page, "delay-years");
            assert!(
                texts(figure).len() >= 8,
                "{file}: delay-years has few labels"
            );
        }
        // And one cash fan per partner, each titled with its partner's name.
        let partners = shipped_json(&file)["partners"].as_array().unwrap().len();
        assert_eq!(
            page.matches("data-chart=\"cash-fan\"").count(),
            partners,
            "{file}"
        );
        for p in shipped_json(&file)["partners"].as_array().unwrap() {
            let name = html::escape(p["name"].as_str().unwrap());
            assert!(
                page.contains(&format!("{name}: cumulative cash by year.")),
                "{file}: {name}"
            );
        }
        assert_eq!(
            page.matches("data-chart=").count(),
            RUN_CHARTS.len() + usize::from(delayed) + partners,
            "{file}"
        );
        assert!(!page.contains("could not be drawn"), "{file}");
    }
}

#[test]
fn page_needs_no_network() {
    let (page, _) = render(&shipped_json("four_districts_back_office.json"), 1, 2000);
    let svg_ns = "http://www.w3.org/2000/svg";
    let stripped = page.replace(svg_ns, "");
    assert!(!stripped.contains("http://"), "external http reference");
    assert!(!stripped.contains("https://"), "external https reference");
    assert!(!stripped.contains("//cdn"));
    for tag in ["<script", "<link", "<img", "<iframe", "@import", "url("] {
        assert!(!page.contains(tag), "page contains {tag}");
    }
    assert!(page.contains("<style>"), "CSS is inline");
}

#[test]
fn page_shows_headline_figures_formatted_for_people() {
    let (page, r) = render(&shipped_json("four_districts_back_office.json"), 3, 2000);
    let c = &r.consortium;
    for figure in [
        money(c.npv.mean, "£"),
        money(c.npv.p50, "£"),
        money(c.npv.cvar05, "£"),
        percent(c.prob_npv_negative.estimate),
        format!(
            "95% CI {} to {}",
            percent(c.prob_npv_negative.ci95[0]),
            percent(c.prob_npv_negative.ci95[1])
        ),
        percent(c.prob_collapse),
        percent(c.payback_year.prob_within_horizon),
        "2,000".to_string(),
        "seed 3".to_string(),
    ] {
        assert!(page.contains(&html::escape(&figure)), "missing {figure}");
    }
    if let Some(y) = c.payback_year.p50 {
        assert!(page.contains(&format!("median payback year {y}")));
    }
    assert!(page.contains("How to read this report"));
    assert!(page.contains("Monte Carlo"));
    assert!(page.contains(&format!("consortium-sim {}", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn page_has_partner_table_events_and_inputs() {
    let (page, r) = render(&shipped_json("four_districts_back_office.json"), 1, 2000);
    for p in &r.partners {
        assert!(page.contains(&format!("<tr><th>{}</th>", html::escape(&p.name))));
        assert!(page.contains(&money(p.npv.p05, "£")));
        assert!(page.contains(&percent(p.prob_withdraws)));
    }
    for label in [
        "Withdrawal notices",
        "Rejoins",
        "Disputes started",
        "Years in dispute",
    ] {
        assert!(page.contains(label), "no {label}");
    }
    assert!(page.contains(&format!("{:.3}", r.events.withdrawals)));
    // Inputs: distributions compact, money with separators, partners' fields.
    assert!(page.contains("pert(0.08, 0.15, 0.22)"));
    assert!(page.contains("triangular(£1,500,000, £2,000,000, £3,200,000)"));
    assert!(page.contains("uniform(£600,000, £1,000,000)"));
    assert!(page.contains("<code>withdrawal_hazard</code>"));
    assert!(page.contains("green_book (3.5%"));
}

#[test]
fn partner_names_are_escaped() {
    let inputs = small(
        "Names",
        5,
        json!([
            partner("Smith & Jones <Borough>", 2e6),
            partner("O'Neil \"Trust\"", 1e6)
        ]),
    );
    let (page, _) = render(&inputs, 1, 500);
    assert!(!page.contains("<Borough>"));
    assert!(page.contains("Smith &amp; Jones &lt;Borough&gt;"));
    // Escaped once, in the SVG as in the HTML, never twice.
    assert!(!page.contains("&amp;amp;") && !page.contains("&amp;lt;"));
    let bars = chart_of(&page, "partner-npv");
    assert!(bars.contains("Smith &amp; Jones &lt;Borough&gt;"));
    assert_balanced(&page);
}

#[test]
fn scenario_name_with_script_and_quotes_is_escaped() {
    let name = "Evil <script>alert(\"x\")</script> & 'co'";
    let inputs = small(name, 5, json!([partner("A", 2e6), partner("B", 1e6)]));
    let (page, _) = render(&inputs, 1, 500);
    assert!(!page.contains("<script"), "unescaped script tag");
    assert!(!page.contains("alert(\"x\")"));
    let escaped = "Evil &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;";
    assert!(page.contains(&format!("<h1>{escaped}</h1>")));
    assert!(page.contains(&format!("<title>{escaped}")));
    assert_balanced(&page);
}

#[test]
fn page_shows_no_nan_or_infinity_even_in_degenerate_runs() {
    let cases = [
        (
            "one trial",
            small(
                "One trial",
                10,
                json!([partner("A", 2e6), partner("B", 1e6)]),
            ),
            1,
        ),
        (
            "one year",
            small("One year", 1, json!([partner("A", 2e6), partner("B", 1e6)])),
            300,
        ),
        (
            "one partner",
            small("One partner", 8, json!([partner("Solo", 2e6)])),
            300,
        ),
    ];
    for (what, inputs, trials) in cases {
        let (page, _) = render(&inputs, 1, trials);
        assert_finite_text(&page);
        assert_balanced(&page);
        for name in RUN_CHARTS {
            assert!(chart_of(&page, name).contains("<svg"), "{what}: {name}");
        }
        assert!(!page.contains("could not be drawn"), "{what}");
    }
}

#[test]
fn page_uses_the_scenario_currency() {
    let mut inputs = small("Euro", 6, json!([partner("A", 2e6), partner("B", 1e6)]));
    inputs["currency"] = json!("€");
    let (page, r) = render(&inputs, 1, 500);
    assert!(page.contains(&money(r.consortium.npv.mean, "€")));
    assert!(chart_of(&page, "fan").contains("€"));
    assert!(!page.contains('£'), "a pound sign in a euro report");
}

#[test]
fn page_notes_trials_and_seed_overridden_on_the_command_line() {
    let (page, _) = render(&shipped_json("four_districts_back_office.json"), 5, 700);
    assert!(page.contains("This run used 700 trials and seed 5"));
}

// ---------------------------------------------------------------------------------------
// Run report charts
// ---------------------------------------------------------------------------------------

#[test]
fn fan_chart_has_bands_median_zero_line_and_money_ticks() {
    let years = fan(&[
        (-3e6, -2.5e6, -2e6, -1.5e6, -1e6),
        (-3.5e6, -2e6, -1e6, 0.0, 1e6),
        (-3e6, -1e6, 0.5e6, 2e6, 4e6),
        (-2e6, 0.0, 2e6, 4e6, 7e6),
    ]);
    let svg = charts::fan_chart(&years, "£");
    assert_chart(
        &svg,
        "Cumulative discounted saving by year",
        15,
        &[
            "Year (0 = transition year)",
            "Cumulative saving (£)",
            "P5–P95: 90% of futures",
            "P25–P75: 50% of futures",
            "Median",
            "Break-even",
            "£0",
            "£2m",
            "-£2m",
            "0",
            "3",
        ],
    );
    assert_eq!(svg.matches("<polygon").count(), 2, "two bands");
}

#[test]
fn fan_chart_handles_one_year_and_equal_values() {
    let one = charts::fan_chart(&fan(&[(-1e5, -5e4, 0.0, 5e4, 1e5)]), "£");
    assert_chart(
        &one,
        "Cumulative discounted saving by year",
        8,
        &["0", "£0"],
    );
    let flat = charts::fan_chart(&fan(&[(0.0, 0.0, 0.0, 0.0, 0.0); 5]), "£");
    assert_chart(&flat, "Cumulative discounted saving by year", 8, &["£0"]);
    let empty = charts::fan_chart(&[], "£");
    assert_chart(&empty, "Cumulative discounted saving by year", 4, &[]);
}

#[test]
fn histogram_has_bins_cumulative_axis_and_zero_line() {
    let npv: Vec<f64> = (0..1000).map(|i| (i as f64 - 300.0) * 10_000.0).collect();
    let svg = charts::npv_histogram(&npv, 40, "£");
    assert_chart(
        &svg,
        "Distribution of consortium NPV",
        15,
        &[
            "Consortium NPV (£)",
            "Share of trials per bin (%)",
            "Cumulative share of trials (%)",
            "Cumulative share (right axis)",
            "Break-even (NPV = 0)",
            "£0",
        ],
    );
    // 40 bars, one per bin, plus the legend swatches.
    assert!(svg.matches("<rect").count() >= 40);
    let right_axis = texts(&svg);
    assert!(
        right_axis.iter().any(|t| t.ends_with("100%")),
        "{right_axis:?}"
    );
}

#[test]
fn histogram_handles_one_trial_equal_values_and_non_finite_values() {
    for values in [
        vec![1.5e6],
        vec![250_000.0; 50],
        vec![0.0; 10],
        vec![f64::NAN, 1e6, f64::INFINITY, 2e6],
        vec![],
    ] {
        let svg = charts::npv_histogram(&values, 40, "£");
        assert_chart(
            &svg,
            "Distribution of consortium NPV",
            8,
            &["Consortium NPV (£)"],
        );
    }
}

#[test]
fn histogram_far_from_zero_has_no_break_even_line() {
    let npv: Vec<f64> = (0..100).map(|i| 5e7 + i as f64 * 1e5).collect();
    let svg = charts::npv_histogram(&npv, 40, "£");
    assert!(!texts(&svg).iter().any(|t| t.starts_with("Break-even")));
}

#[test]
fn partner_npv_bars_show_names_values_and_escape_text() {
    let names = ["Alpha & <Beta>", "Gamma"];
    let svg = charts::partner_npv(&names, &[1.25e6, -3.4e5], "£");
    assert_chart(
        &svg,
        "Mean NPV by partner",
        8,
        &[
            "Alpha &amp; &lt;Beta&gt;",
            "Gamma",
            "£1.25m",
            "-£340k",
            "Mean NPV (£)",
        ],
    );
    // First partner at the top.
    assert!(text_y(&svg, "Alpha &amp; &lt;Beta&gt;") < text_y(&svg, "Gamma"));
}

#[test]
fn partner_charts_handle_a_single_partner_and_zero_risks() {
    let svg = charts::partner_npv(&["Solo"], &[0.0], "£");
    assert_chart(&svg, "Mean NPV by partner", 5, &["Solo", "£0"]);
    let svg = charts::partner_risks(&["Solo"], &[0.0], &[0.0]);
    assert_chart(&svg, "Risks by partner", 6, &["Solo", "0.0%", "0%"]);
}

#[test]
fn partner_risks_have_both_series_in_a_legend() {
    let svg = charts::partner_risks(&["A", "B", "C"], &[0.19, 0.255, 0.004], &[0.24, 0.3, 0.1]);
    assert_chart(
        &svg,
        "Risks by partner",
        12,
        &[
            "P(worse off than going alone)",
            "P(gives notice at least once)",
            "Probability (%)",
            "19.0%",
            "25.5%",
            "0.40%",
            "30.0%",
        ],
    );
}

#[test]
fn partner_charts_with_mismatched_inputs_say_so_instead_of_panicking() {
    let svg = charts::partner_npv(&["A", "B"], &[1.0], "£");
    assert!(texts(&svg).iter().any(|t| t.contains("could not be drawn")));
    assert_balanced(&svg);
}

#[test]
fn collapse_chart_labels_years_and_bars() {
    let p = [0.0, 0.0, 0.0003, 0.01, 0.02, 0.015];
    let svg = charts::collapse_years(&p);
    assert_chart(
        &svg,
        "When collapses take effect",
        10,
        &[
            "Year the collapse takes effect",
            "Share of trials (%)",
            "0.03%",
            "2.0%",
            "5",
        ],
    );
}

#[test]
fn collapse_chart_handles_no_collapse_one_year_and_long_horizons() {
    let none = charts::collapse_years(&[0.0; 10]);
    assert_chart(
        &none,
        "When collapses take effect",
        5,
        &["No collapse in any trial"],
    );
    let one = charts::collapse_years(&[0.0]);
    assert_chart(&one, "When collapses take effect", 4, &["0"]);
    let long: Vec<f64> = (0..100).map(|t| t as f64 / 10_000.0).collect();
    let svg = charts::collapse_years(&long);
    assert_chart(&svg, "When collapses take effect", 8, &["0", "50"]);
    // Year ticks are thinned to stay readable: not one label per year.
    let year_labels = texts(&svg)
        .iter()
        .filter(|t| t.parse::<u32>().is_ok())
        .count();
    assert!(year_labels <= 15, "{year_labels} year labels");
}

// ---------------------------------------------------------------------------------------
// Charts for later commands
// ---------------------------------------------------------------------------------------

#[test]
fn line_chart_draws_two_series_with_bands_and_legend() {
    let x = [0.05, 0.1, 0.15, 0.2];
    let lines = [
        Line {
            name: "Consortium",
            y: &[-5e5, 1e6, 2.5e6, 4e6],
            se: &[2e4, 2e4, 3e4, 3e4],
        },
        Line {
            name: "Partner <A>",
            y: &[-1e5, 2e5, 6e5, 9e5],
            se: &[1e4, 1e4, 1e4, 1e4],
        },
    ];
    let svg = charts::line_chart(&LineChart {
        title: "Mean NPV against efficiency",
        x_label: "Efficiency",
        x_unit: Unit::Percent,
        y_label: "Mean NPV",
        y_unit: Unit::Money("£"),
        x: &x,
        lines: &lines,
    });
    assert_chart(
        &svg,
        "Mean NPV against efficiency",
        12,
        &[
            "Consortium",
            "Partner &lt;A&gt;",
            "± 2 standard errors",
            "Efficiency (%)",
            "Mean NPV (£)",
            "10%",
            "£0",
        ],
    );
    assert_eq!(svg.matches("<polygon").count(), 2);
}

#[test]
fn line_chart_handles_one_point_and_no_errors() {
    let lines = [Line {
        name: "Mean",
        y: &[3.0],
        se: &[],
    }];
    let svg = charts::line_chart(&LineChart {
        title: "One point",
        x_label: "Members",
        x_unit: Unit::Number,
        y_label: "Value",
        y_unit: Unit::Number,
        x: &[2.0],
        lines: &lines,
    });
    assert_chart(&svg, "One point", 5, &["Mean", "Members", "Value"]);
    assert!(!svg.contains("standard errors"));
}

#[test]
fn heat_map_labels_cells_and_has_a_colour_scale() {
    let columns = ["5%", "10%", "15%"];
    let rows = ["0.0", "0.5", "1.0"];
    let values = [-2e6, -5e5, 1e6, -1e6, 5e5, 2e6, 0.0, 1.5e6, 3e6];
    let svg = charts::heat_map(&HeatMap {
        title: "Mean NPV by efficiency and sensitivity",
        x_label: "Efficiency",
        y_label: "Disappointment sensitivity",
        columns: &columns,
        rows: &rows,
        values: &values,
        value_label: "Mean NPV (£)",
        unit: Unit::Money("£"),
    });
    assert_chart(
        &svg,
        "Mean NPV by efficiency and sensitivity",
        20,
        &[
            "Efficiency",
            "Disappointment sensitivity",
            "Mean NPV (£)",
            "-£2m",
            "£3m",
            "£1.5m",
            "-£500k",
            "5%",
            "1.0",
        ],
    );
    // Nine cells and the colour bar's steps.
    assert!(svg.matches("<rect").count() >= 9 + 64);
}

#[test]
fn heat_map_of_one_cell_and_of_equal_values() {
    let svg = charts::heat_map(&HeatMap {
        title: "One cell",
        x_label: "x",
        y_label: "y",
        columns: &["a"],
        rows: &["b"],
        values: &[0.25],
        value_label: "P(loss)",
        unit: Unit::Percent,
    });
    assert_chart(&svg, "One cell", 5, &["25.0%", "a", "b", "P(loss)"]);
    let svg = charts::heat_map(&HeatMap {
        title: "Equal",
        x_label: "x",
        y_label: "y",
        columns: &["a", "b"],
        rows: &["c", "d"],
        values: &[1.0; 4],
        value_label: "v",
        unit: Unit::Number,
    });
    assert_chart(&svg, "Equal", 8, &["1"]);
}

#[test]
fn tornado_sorts_widest_swing_to_the_top() {
    let swings = [
        Swing {
            name: "Fixed cost",
            low: 2.8e6,
            high: 2.6e6,
        },
        Swing {
            name: "Efficiency",
            low: 0.5e6,
            high: 5e6,
        },
        Swing {
            name: "Hazard",
            low: 3.2e6,
            high: 2.0e6,
        },
    ];
    let svg = charts::tornado(&Tornado {
        title: "What moves mean NPV",
        base: 2.7e6,
        value_label: "Mean NPV",
        unit: Unit::Money("£"),
        low_label: "Input at its low value",
        high_label: "Input at its high value",
        swings: &swings,
    });
    assert_chart(
        &svg,
        "What moves mean NPV",
        12,
        &[
            "Input at its low value",
            "Input at its high value",
            "Base: £2.7m",
            "Mean NPV (£)",
            "£5m",
            "£500k",
        ],
    );
    let (e, h, f) = (
        text_y(&svg, "Efficiency"),
        text_y(&svg, "Hazard"),
        text_y(&svg, "Fixed cost"),
    );
    assert!(e < h && h < f, "order top to bottom: {e} {h} {f}");
}

#[test]
fn tornado_handles_a_single_input_with_no_swing() {
    let swings = [Swing {
        name: "Only",
        low: 1.0,
        high: 1.0,
    }];
    let svg = charts::tornado(&Tornado {
        title: "Flat",
        base: 1.0,
        value_label: "Value",
        unit: Unit::Number,
        low_label: "low",
        high_label: "high",
        swings: &swings,
    });
    assert_chart(&svg, "Flat", 6, &["Only"]);
}

#[test]
fn comparison_has_a_panel_per_metric_with_its_unit() {
    let scenarios = ["Informal", "Formal <2025>", "Strong governance"];
    let metrics = [
        Metric {
            name: "Mean NPV",
            unit: Unit::Money("£"),
            values: &[1.2e6, 2.9e6, -4e5],
        },
        Metric {
            name: "P(loss)",
            unit: Unit::Percent,
            values: &[0.31, 0.13, 0.52],
        },
        Metric {
            name: "Withdrawals per trial",
            unit: Unit::Number,
            values: &[1.4, 0.6, 0.2],
        },
    ];
    let svg = charts::comparison("Scenarios compared", &scenarios, &metrics);
    assert_chart(
        &svg,
        "Scenarios compared",
        15,
        &[
            "Mean NPV (£)",
            "P(loss) (%)",
            "Withdrawals per trial",
            "Informal",
            "Formal &lt;2025&gt;",
            "£2.9m",
            "-£400k",
            "13.0%",
            "1.4",
        ],
    );
    // Every panel names the scenarios, in the same order.
    assert_eq!(texts(&svg).iter().filter(|t| *t == "Informal").count(), 3);
}

#[test]
fn comparison_handles_one_scenario_and_no_metrics() {
    let metrics = [Metric {
        name: "Mean NPV",
        unit: Unit::Money("£"),
        values: &[0.0],
    }];
    let svg = charts::comparison("One", &["Only"], &metrics);
    assert_chart(&svg, "One", 4, &["Only", "£0"]);
    let svg = charts::comparison("None", &["Only"], &[]);
    assert!(texts(&svg).iter().any(|t| t.contains("could not be drawn")));
}

#[test]
fn money_short_form_reads_like_a_finance_officer_writes() {
    assert_eq!(
        consortium_sim::export::format::money_short(1_234_567.0, "£"),
        "£1.23m"
    );
    assert_eq!(
        consortium_sim::export::format::money_short(-250_000.0, "£"),
        "-£250k"
    );
    assert_eq!(
        consortium_sim::export::format::money_short(12_500_000.0, "£"),
        "£12.5m"
    );
    assert_eq!(Unit::Percent.short(0.134), "13.4%");
    assert_eq!(Unit::Number.short(1234.0), "1,234");
}
