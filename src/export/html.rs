//! The HTML report: one self-contained page with charts, for a cabinet or a board.
//!
//! A page must open from an email attachment or a shared drive with no network: styles
//! are inline, charts are inline SVG (see [`charts`]), there is no script and no web
//! font (the system font stack). Every piece of user text (scenario and partner names,
//! descriptions, input values) goes through [`escape`]. Numbers are formatted for people
//! through [`super::format`], as in the terminal summary, so both read the same.
//!
//! [`page`] and [`figure`] are the shell and chart wrapper that other pages (sweeps,
//! sensitivity, comparisons, in [`super::analysis::html`]) reuse; the HTML format
//! renders a run with [`run_page`] and an analysis with those pages.

use std::fmt::Write;
use std::io;

use serde_json::{Map, Value};

use super::charts::{self, FanYear};
use super::analysis::html as analysis;
use super::format::{self, exact_money, money, money_short, percent, thousands};
use super::{Exporter, Format, Kind, Subject};
use crate::engine::Outcomes;
use crate::scenario::Scenario;
use crate::summary::{PartnerReport, Provenance, Report};

/// HTML: a self-contained page with charts, for a run or an analysis.
pub const FORMAT: Format = Format::new("html", "an HTML page", &["html", "htm"], &Html);

struct Html;

impl Exporter for Html {
    fn supports(&self, _: Kind) -> bool {
        true
    }

    fn write(&self, subject: &Subject, w: &mut dyn io::Write) -> io::Result<()> {
        let page = match *subject {
            Subject::Run(r) => run_page(r.report, r.scenario, r.value, r.outcomes),
            Subject::Sweep(s, currency) => analysis::sweep(s, currency),
            Subject::Sensitivity(s, currency) => analysis::sensitivity(s, currency),
            Subject::Compare(c, currency) => analysis::compare(c, currency),
            Subject::Agreement(a, currency) => analysis::agreement(a, currency),
        };
        w.write_all(page.as_bytes())
    }
}

/// Bins of the NPV histogram: fine enough to show shape, coarse enough to stay smooth at
/// a few thousand trials.
pub const HISTOGRAM_BINS: usize = 40;

/// Partner columns in one table of a page: few enough for an A4 page in print, so that
/// a wide table is split rather than cut off.
pub const PARTNERS_PER_TABLE: usize = 6;

/// The system font stack: what the reader's own system uses, nothing downloaded.
const FONT_STACK: &str = "system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", \
                          Arial, \"Noto Sans\", \"Liberation Sans\", sans-serif";

const CSS: &str = r#"
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --panel: #f6f8fa;
        --accent: #0b3c5d; --good: #0072b2; --bad: #b3470a; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font-family: FONT_STACK; color: var(--ink); background: #fff;
       line-height: 1.5; font-size: 16px; }
main { max-width: 1040px; margin: 0 auto; padding: 32px 24px 48px; }
h1 { font-size: 1.85rem; line-height: 1.25; margin: 0 0 .4rem; color: var(--accent); }
h2 { font-size: 1.35rem; margin: 2.6rem 0 .8rem; padding-bottom: .3rem;
     border-bottom: 2px solid var(--line); color: var(--accent); }
h3 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
p { margin: .5rem 0; max-width: 75ch; }
.lede { color: var(--muted); }
.meta { color: var(--muted); font-size: .92rem; }
.headline { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr));
            gap: 12px; margin: 1.4rem 0; }
.stat { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
        background: var(--panel); }
.stat .label { font-size: .78rem; text-transform: uppercase; letter-spacing: .05em;
               color: var(--muted); }
.stat .value { font-size: 1.45rem; font-weight: 650; font-variant-numeric: tabular-nums;
               white-space: nowrap; }
.stat .note { font-size: .86rem; color: var(--muted); }
.stat .long { font-size: 1.15rem; line-height: 2.1rem; }
.neg { color: var(--bad); }
.howto { background: #eef5fb; border-left: 4px solid var(--good); padding: 10px 16px;
         border-radius: 4px; margin: 1rem 0; }
.howto p { max-width: none; }
figure.chart { margin: 1.4rem 0; }
figure.chart svg { display: block; width: 100%; height: auto; border: 1px solid var(--line);
                   border-radius: 6px; }
.multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr));
             gap: 0 16px; }
.multiples figure.chart { margin: .6rem 0; }
figcaption { font-size: .9rem; color: var(--muted); margin-top: .4rem; max-width: 80ch; }
.table-wrap { overflow-x: auto; margin: .8rem 0 1.2rem; }
table { border-collapse: collapse; width: 100%; font-size: .92rem;
        font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; }
thead th { background: var(--panel); font-weight: 600; border-bottom: 2px solid var(--line); }
tbody th { font-weight: 600; }
.num { text-align: right; white-space: nowrap; }
td.name { min-width: 14em; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
       font-size: .88em; }
footer { margin-top: 3rem; padding-top: 1rem; border-top: 1px solid var(--line);
         color: var(--muted); font-size: .86rem; }
.provenance dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px;
                 margin: .4rem 0; }
.provenance dt { font-weight: 600; }
.provenance dd { margin: 0; overflow-wrap: anywhere; }
.provenance pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .8rem; }
pre.story { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .8rem;
            line-height: 1.35; }
@page { size: A4; margin: 12mm; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  figure.chart, .stat { break-inside: avoid; }
  .multiples { grid-template-columns: 1fr 1fr; }
  h2, h3 { break-after: avoid; }
  .table-wrap { overflow: visible; }
  table { font-size: 7.5pt; }
  th, td { padding: 3px 5px; }
  thead th, thead th.num { white-space: normal; overflow-wrap: break-word; }
  tbody th { min-width: 10em; }
  td.name { min-width: 9em; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  details pre { font-size: 6.5pt; }
}
"#;

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: the common shell (doctype, inline CSS) around `body`, which is HTML.
/// `title` is plain text and is escaped here.
pub fn page(title: &str, body: &str) -> String {
    let css = CSS.replace("FONT_STACK", FONT_STACK);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{css}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n\
         </body>\n</html>\n",
        escape(title)
    )
}

/// A chart in its figure, marked `data-chart="name"` so that tests and scripts can find
/// it. `svg` comes from [`charts`]; `caption` is plain text and is escaped here.
pub fn figure(name: &str, svg: &str, caption: &str) -> String {
    format!(
        "<figure class=\"chart\" data-chart=\"{}\">\n{svg}<figcaption>{}</figcaption>\n</figure>\n",
        escape(name),
        escape(caption)
    )
}

/// The page for one run: headline figures, charts and the scenario's inputs.
pub fn run_page(
    report: &Report,
    scenario: &Scenario,
    inputs: &Value,
    outcomes: &Outcomes,
) -> String {
    let c = scenario.currency.as_str();
    let mut body = String::new();
    body.push_str(&header(report, scenario));
    body.push_str(&headline(report, scenario));
    body.push_str(HOW_TO_READ);
    body.push_str(&npv_section(report, outcomes, c));
    body.push_str(&partners_section(&report.partners, c));
    body.push_str(&cash_section(report, c));
    body.push_str(&delay_section(report));
    body.push_str(&events_section(report));
    body.push_str(&inputs_section(report, inputs, c));
    body.push_str(&footer(report));
    page(
        &format!("{} — consortium-sim report", report.scenario),
        &body,
    )
}

/// A run's headline figures and its fan chart as a fragment to place inside another
/// page: a notebook cell (the Python package's `_repr_html_`), say. It has no page around
/// it and styles only its own elements (under `.consortium-sim`), so it cannot restyle
/// the notebook.
pub fn run_fragment(report: &Report, scenario: &Scenario) -> String {
    let years: Vec<FanYear> = report.consortium.by_year.iter().map(FanYear::from).collect();
    let go_live = median_go_live(&report.consortium.delay_years_probability);
    format!(
        "<div class=\"consortium-sim\">\n<style>{}</style>\n<p class=\"meta\"><strong>{}</strong> · \
         {} · seed {} · {}</p>\n{}{}</div>\n",
        FRAGMENT_CSS,
        escape(&report.scenario),
        format::count(report.trials, "trial"),
        report.seed,
        format::count(report.horizon_years as u64, "year"),
        headline(report, scenario),
        figure(
            "fan",
            &charts::fan_chart_with_go_live(&years, &scenario.currency, go_live),
            "Cumulative discounted saving through each year: the median, the middle half \
             and 90% of futures.",
        ),
    )
}

/// The styles of [`run_fragment`], each scoped to it.
const FRAGMENT_CSS: &str = ".consortium-sim { font-family: system-ui, sans-serif; color: #1f2328; max-width: 1040px; }
.consortium-sim .meta { color: #57606a; margin: .3rem 0; }
.consortium-sim .headline { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 10px; margin: .6rem 0; }
.consortium-sim .stat { border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 12px; background: #f6f8fa; }
.consortium-sim .stat .label { font-size: .75rem; text-transform: uppercase; letter-spacing: .05em; color: #57606a; }
.consortium-sim .stat .value { font-size: 1.3rem; font-weight: 650; white-space: nowrap; }
.consortium-sim .stat .long { font-size: 1.05rem; }
.consortium-sim .stat .note { font-size: .82rem; color: #57606a; }
.consortium-sim .neg { color: #b3470a; }
.consortium-sim figure { margin: .8rem 0; }
.consortium-sim figure svg { display: block; width: 100%; height: auto; border: 1px solid #d0d7de; border-radius: 6px; }
.consortium-sim figcaption { font-size: .85rem; color: #57606a; }";

/// Title, description and what was run.
fn header(r: &Report, s: &Scenario) -> String {
    let mut h = format!("<header>\n<h1>{}</h1>\n", escape(&r.scenario));
    if !s.description.trim().is_empty() {
        let _ = writeln!(h, "<p class=\"lede\">{}</p>", escape(&s.description));
    }
    let _ = writeln!(
        h,
        "<p class=\"meta\">{} · seed {} · {} · money discounted to base-year prices</p>",
        format::count(r.trials, "trial"),
        r.seed,
        format::count(r.horizon_years as u64, "year"),
    );
    if let Some(sampling) = &r.sampling {
        let _ = writeln!(h, "<p class=\"meta\">{}</p>", escape(&format::sampling(sampling)));
    }
    h.push_str("</header>\n");
    h
}

/// One headline figure: a label, a value and a note under it.
fn stat(label: &str, value: &str, note: &str, negative: bool) -> String {
    let class = match (negative, value.chars().count() > 14) {
        (true, _) => "value neg",
        (false, true) => "value long",
        (false, false) => "value",
    };
    format!(
        "<div class=\"stat\"><div class=\"label\">{}</div><div class=\"{class}\">{}</div>\
         <div class=\"note\">{}</div></div>\n",
        escape(label),
        escape(value),
        escape(note)
    )
}

/// The headline box: the figures a board asks for first.
fn headline(r: &Report, s: &Scenario) -> String {
    let c = &r.consortium;
    let m = |x: f64| money(x, &s.currency);
    let loss = &c.prob_npv_negative;
    let payback_note = match c.payback_year.p50 {
        Some(y) => format!("median payback year {y} (year 0 = transition)"),
        None => "fewer than half of futures pay back".to_string(),
    };
    let cards = [
        stat(
            "Mean NPV",
            &m(c.npv.mean),
            &format::standard_error(c.npv.se, r.trials, &s.currency),
            c.npv.mean < 0.0,
        ),
        stat(
            "Median NPV (P50)",
            &m(c.npv.p50),
            "half of futures do better",
            c.npv.p50 < 0.0,
        ),
        stat(
            "90% range (P5 to P95)",
            &format!("{} to {}", short(c.npv.p05, s), short(c.npv.p95, s)),
            &format!("{} to {}", m(c.npv.p05), m(c.npv.p95)),
            false,
        ),
        stat(
            "Worst 5% (mean)",
            &m(c.npv.cvar05),
            "average of the worst 1 in 20 futures",
            c.npv.cvar05 < 0.0,
        ),
        stat(
            "P(loss: NPV < 0)",
            &percent(loss.estimate),
            &format!(
                "95% CI {} to {}",
                percent(loss.ci95[0]),
                percent(loss.ci95[1])
            ),
            false,
        ),
        stat(
            "P(collapse)",
            &percent(c.prob_collapse),
            &format!("fewer than {} members remain", s.min_members),
            false,
        ),
        stat(
            "P(pays back)",
            &percent(c.payback_year.prob_within_horizon),
            &payback_note,
            false,
        ),
        stat(
            "Trials",
            &thousands(r.trials),
            &format!("seed {}", r.seed),
            false,
        ),
    ];
    format!(
        "<section class=\"headline\" aria-label=\"Headline figures\">\n{}</section>\n",
        cards.concat()
    )
}

/// Money in short form for the headline range, where both ends share one line.
fn short(x: f64, s: &Scenario) -> String {
    money_short(x, &s.currency)
}

const HOW_TO_READ: &str = "<section class=\"howto\">\n<h3>How to read this report</h3>\n\
<p>The simulation plays out many possible futures of the consortium, each with its own \
draw of the uncertain inputs, withdrawals, disputes and any collapse. <strong>NPV</strong> \
is the discounted saving over the whole period against every partner running the service \
alone: positive means the consortium saves money. Ranges such as <em>P5 to P95</em> hold \
90% of the simulated futures; <em>P(loss)</em> is the share of futures in which the \
consortium as a whole loses money, with the 95% confidence interval from the finite number \
of trials. A partner can lose money even when the consortium saves, so read the partner \
figures as well as the totals. Years are counted from 0, the transition year.</p>\n\
</section>\n";

/// Consortium NPV: the fan chart and the histogram.
fn npv_section(r: &Report, outcomes: &Outcomes, c: &str) -> String {
    let years: Vec<FanYear> = r.consortium.by_year.iter().map(FanYear::from).collect();
    let mut s = String::from("<section>\n<h2>Consortium NPV</h2>\n");
    let go_live = median_go_live(&r.consortium.delay_years_probability);
    let mut caption = String::from(
        "Cumulative discounted saving of the whole consortium through each year. The dark \
         band holds the middle half of futures, the light band 90% of them; the line is \
         the median. Where the line crosses zero the typical future has paid back.",
    );
    if go_live.is_some() {
        caption.push_str(
            " The green line marks the start of the year in which the median future's \
             service goes live; before it, the partners pay for the delay and save nothing.",
        );
    }
    s.push_str(&figure(
        "fan",
        &charts::fan_chart_with_go_live(&years, c, go_live),
        &caption,
    ));
    s.push_str(&figure(
        "npv-histogram",
        &charts::npv_histogram(&outcomes.npv, HISTOGRAM_BINS, c),
        "How the consortium's NPV varies across futures. Bars: share of trials in each \
         range of NPV. Curve (right axis): share of trials at or below each NPV; where it \
         crosses the break-even line it reads P(loss).",
    ));
    s.push_str("</section>\n");
    s
}

/// Per-partner charts and table.
fn partners_section(partners: &[PartnerReport], c: &str) -> String {
    let names: Vec<&str> = partners.iter().map(|p| p.name.as_str()).collect();
    let mean: Vec<f64> = partners.iter().map(|p| p.npv.mean).collect();
    let worse: Vec<f64> = partners.iter().map(|p| p.prob_worse_off).collect();
    let leaves: Vec<f64> = partners.iter().map(|p| p.prob_withdraws).collect();
    let mut s = String::from("<section>\n<h2>Partners</h2>\n");
    s.push_str(&figure(
        "partner-npv",
        &charts::partner_npv(&names, &mean, c),
        "Each partner's mean NPV against running the service alone.",
    ));
    s.push_str(&figure(
        "partner-risk",
        &charts::partner_risks(&names, &worse, &leaves),
        "For each partner: the probability that it ends worse off than going alone, and \
         the probability that it gives notice to withdraw at least once.",
    ));
    s.push_str(&partner_table(partners, c));
    s.push_str("</section>\n");
    s
}

/// Each partner's cash by year: small multiples, one fan of its cumulative cash
/// (undiscounted) per partner, all on one scale, two to a row.
fn cash_section(r: &Report, c: &str) -> String {
    let fans: Vec<Vec<FanYear>> = r
        .partners
        .iter()
        .map(|p| {
            p.by_year
                .iter()
                .map(|y| {
                    let s = &y.cumulative_cash;
                    FanYear {
                        p05: s.p05,
                        p25: s.p25,
                        p50: s.p50,
                        p75: s.p75,
                        p95: s.p95,
                    }
                })
                .collect()
        })
        .collect();
    let mut s = String::from("<section>\n<h2>Cash by year</h2>\n");
    let _ = writeln!(
        s,
        "<p>Each partner's cumulative saving against going alone, in cash (undiscounted), \
         through each year, {}: the dark band holds the middle half of futures, the light \
         band 90% of them, the line is the median and the dashed line break-even. Every \
         chart has the same scale. The figures for a financial plan, year by year and \
         also discounted, are in the report's <code>partners[].by_year</code> and \
         <code>--cashflow-csv</code>.</p>",
        escape(&super::terminal::by_year_source(r))
    );
    s.push_str("<div class=\"multiples\">\n");
    let names: Vec<&str> = r.partners.iter().map(|p| p.name.as_str()).collect();
    for (name, svg) in names.iter().zip(charts::cash_fans(&names, &fans, c)) {
        s.push_str(&figure(
            "cash-fan",
            &svg,
            &format!("{name}: cumulative cash by year."),
        ));
    }
    s.push_str("</div>\n</section>\n");
    s
}

/// The partner figures as a table, for readers who want the exact numbers.
fn partner_table(partners: &[PartnerReport], c: &str) -> String {
    let mut t = String::from(
        "<div class=\"table-wrap\"><table>\n<thead><tr><th>Partner</th>\
         <th class=\"num\">Mean NPV</th><th class=\"num\">P5 NPV</th>\
         <th class=\"num\">P(worse off)</th><th class=\"num\">P(withdraws)</th></tr></thead>\n<tbody>\n",
    );
    for p in partners {
        let _ = writeln!(
            t,
            "<tr><th>{}</th>{}{}<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&p.name),
            money_cell(p.npv.mean, c),
            money_cell(p.npv.p05, c),
            percent(p.prob_worse_off),
            percent(p.prob_withdraws)
        );
    }
    t.push_str("</tbody></table></div>\n");
    t
}

/// A right-aligned money cell, marked when negative.
fn money_cell(x: f64, c: &str) -> String {
    let class = if x.round() < 0.0 { "num neg" } else { "num" };
    format!("<td class=\"{class}\">{}</td>", escape(&money(x, c)))
}

/// The smallest delay d with P(delay <= d) >= 1/2, for a scenario whose go-live may slip.
fn median_go_live(by_delay: &[f64]) -> Option<usize> {
    let mut running = 0.0;
    by_delay.iter().position(|&p| {
        running += p;
        running >= 0.5
    })
}

/// The go-live delay's distribution, for a scenario whose go-live may slip.
fn delay_section(r: &Report) -> String {
    let by_delay = &r.consortium.delay_years_probability;
    let Some((&never, _)) = by_delay.split_last() else {
        return String::new();
    };
    let on_time = by_delay[0];
    let median = median_go_live(by_delay).unwrap_or(by_delay.len() - 1);
    let mut s = String::from(
        "<section>\n<h2>Go-live delay</h2>\n<p>How many whole years the shared service's \
         go-live slipped in each future. In a year of delay each partner still runs its own \
         service and the pool pays the cost of the delay; the savings ramp starts at \
         go-live.</p>\n<div class=\"table-wrap\"><table>\n<thead><tr><th>Go-live</th>\
         <th class=\"num\">Value</th></tr></thead>\n<tbody>\n",
    );
    let rows = [
        ("Mean delay (years)", format!("{:.2}", r.events.delay_years)),
        ("Median delay (years)", median.to_string()),
        ("On time (no delay)", percent(on_time)),
        ("Never live within the horizon", percent(never)),
    ];
    for (name, value) in rows {
        let _ = writeln!(s, "<tr><th>{name}</th><td class=\"num\">{value}</td></tr>");
    }
    s.push_str("</tbody></table></div>\n");
    s.push_str(&figure(
        "delay-years",
        &charts::delay_years(by_delay),
        "Share of all trials by the number of years go-live slipped (the bars add up to \
         100%).",
    ));
    s.push_str("</section>\n");
    s
}

/// Mean event counts and the collapse-year chart.
fn events_section(r: &Report) -> String {
    let e = &r.events;
    let rows = [
        ("Withdrawal notices", e.withdrawals),
        ("Rejoins", e.rejoins),
        ("Disputes started", e.disputes),
        ("Years in dispute", e.dispute_years),
    ];
    let mut s = String::from(
        "<section>\n<h2>Events</h2>\n<p>Average number per future (per trial) over the whole period.</p>\n\
         <div class=\"table-wrap\"><table>\n<thead><tr><th>Event</th>\
         <th class=\"num\">Mean per trial</th></tr></thead>\n<tbody>\n",
    );
    for (name, value) in rows {
        let _ = writeln!(
            s,
            "<tr><th>{name}</th><td class=\"num\">{value:.3}</td></tr>"
        );
    }
    let _ = writeln!(
        s,
        "<tr><th>Collapse within the horizon</th><td class=\"num\">{}</td></tr>",
        percent(r.consortium.prob_collapse)
    );
    s.push_str("</tbody></table></div>\n");
    s.push_str(&figure(
        "collapse-year",
        &charts::collapse_years(&r.consortium.collapse_year_probability),
        "Share of all trials in which the consortium's collapse takes effect in each year \
         (the bars add up to P(collapse)).",
    ));
    s.push_str("</section>\n");
    s
}

/// The scenario's inputs as written (after any --set), so the page stands on its own.
fn inputs_section(r: &Report, inputs: &Value, c: &str) -> String {
    let mut s = String::from(
        "<section>\n<h2>Inputs</h2>\n<p>The scenario as given to this run. Fields not \
         listed take their defaults (see the scenario format documentation); a \
         distribution is sampled once per trial.</p>\n",
    );
    let Some(top) = inputs.as_object() else {
        s.push_str("<p>(The inputs are not a JSON object.)</p>\n</section>\n");
        return s;
    };
    let run_note = run_override_note(r, top);
    if !run_note.is_empty() {
        let _ = writeln!(s, "<p class=\"meta\">{}</p>", escape(&run_note));
    }
    s.push_str("<h3>Scenario</h3>\n");
    let skip = ["$schema", "service", "partners", "disputes"];
    s.push_str(&field_table(top, &skip, c));
    for (key, title) in [("service", "Shared service"), ("disputes", "Disputes")] {
        if let Some(obj) = top.get(key).and_then(Value::as_object) {
            let _ = writeln!(s, "<h3>{title}</h3>");
            s.push_str(&field_table(obj, &[], c));
        }
    }
    if let Some(list) = top.get("partners").and_then(Value::as_array) {
        s.push_str("<h3>Partners</h3>\n");
        s.push_str(&partners_input_table(list, c));
    }
    s.push_str("</section>\n");
    s
}

/// Says when the command line changed the trials or seed the file gives.
fn run_override_note(r: &Report, top: &Map<String, Value>) -> String {
    let file_trials = top.get("trials").and_then(Value::as_f64);
    let file_seed = top.get("seed").and_then(Value::as_f64);
    let trials_differ = file_trials.is_some_and(|t| t != r.trials as f64);
    let seed_differ = file_seed.is_some_and(|s| s != r.seed as f64);
    if trials_differ || seed_differ {
        format!(
            "This run used {} and seed {}: the command line overrides the file's values below.",
            format::count(r.trials, "trial"),
            r.seed
        )
    } else {
        String::new()
    }
}

/// A two-column table of an object's fields (except `skip`), values shown compactly.
fn field_table(obj: &Map<String, Value>, skip: &[&str], c: &str) -> String {
    let mut t = String::from(
        "<div class=\"table-wrap\"><table>\n<thead><tr><th>Field</th><th>Value</th></tr></thead>\n<tbody>\n",
    );
    for (key, value) in obj.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
        let _ = writeln!(
            t,
            "<tr><th><code>{}</code></th><td>{}</td></tr>",
            escape(key),
            escape(&value_text(key, value, c))
        );
    }
    t.push_str("</tbody></table></div>\n");
    t
}

/// Partners' inputs: one column per partner, one row per field any partner sets.
fn partners_input_table(list: &[Value], c: &str) -> String {
    let partners: Vec<&Map<String, Value>> = list.iter().filter_map(Value::as_object).collect();
    let mut fields: Vec<&str> = Vec::new();
    for p in &partners {
        for k in p.keys().filter(|k| k.as_str() != "name") {
            if !fields.contains(&k.as_str()) {
                fields.push(k);
            }
        }
    }
    // A few partners per table, so that a printed page holds every column.
    let mut t = String::new();
    for group in partners.chunks(PARTNERS_PER_TABLE) {
        t.push_str("<div class=\"table-wrap\"><table>\n<thead><tr><th>Field</th>");
        for p in group {
            let name = p.get("name").and_then(Value::as_str).unwrap_or("(unnamed)");
            let _ = write!(t, "<th>{}</th>", escape(name));
        }
        t.push_str("</tr></thead>\n<tbody>\n");
        for field in &fields {
            let _ = write!(t, "<tr><th><code>{}</code></th>", escape(field));
            for p in group {
                let text = p
                    .get(*field)
                    .map_or_else(|| "default".to_string(), |v| value_text(field, v, c));
                let _ = write!(t, "<td>{}</td>", escape(&text));
            }
            t.push_str("</tr>\n");
        }
        t.push_str("</tbody></table></div>\n");
    }
    t
}

/// An input value as plain text: distributions as "pert(0.08, 0.15, 0.22)", money with
/// its currency and thousands separators, lists joined by commas.
fn value_text(key: &str, v: &Value, c: &str) -> String {
    let money_field = crate::scenario::inputs::is_money_name(key);
    match (key, v) {
        ("discount_rate", _) => discount_text(v),
        ("cost_sharing", Value::Object(o)) => cost_sharing_text(o),
        (_, Value::Object(o)) => {
            distribution_text(o, money_field, c).unwrap_or_else(|| generic_text(v))
        }
        (_, Value::Number(_)) => number_text(v, money_field, c),
        (_, Value::Array(items)) => items
            .iter()
            .map(|i| value_text(key, i, c))
            .collect::<Vec<_>>()
            .join(", "),
        _ => generic_text(v),
    }
}

/// A number: money with symbol and separators, large counts with separators, others as
/// written.
fn number_text(v: &Value, money_field: bool, c: &str) -> String {
    let Some(x) = v.as_f64() else {
        return v.to_string();
    };
    if money_field {
        exact_money(x, c)
    } else if x.fract() == 0.0 && x.abs() >= 10_000.0 {
        money(x, "")
    } else {
        v.to_string()
    }
}

/// A distribution object such as {"pert": [a, b, c]} as "pert(a, b, c)"; None if `o`
/// is not one.
fn distribution_text(o: &Map<String, Value>, money_field: bool, c: &str) -> Option<String> {
    if o.len() != 1 {
        return None;
    }
    let (kind, params) = o.iter().next()?;
    let num = |v: &Value| number_text(v, money_field, c);
    let inner = match (kind.as_str(), params) {
        ("fixed", v) => return Some(num(v)),
        ("uniform" | "triangular" | "pert" | "normal", Value::Array(a)) => {
            a.iter().map(num).collect::<Vec<_>>().join(", ")
        }
        ("lognormal", Value::Object(p)) => format!(
            "mean {}, sd {}",
            p.get("mean").map_or("?".into(), num),
            p.get("sd").map_or("?".into(), num)
        ),
        ("discrete", Value::Array(pairs)) => pairs
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([value, weight]) => format!("{} (weight {})", num(value), weight),
                _ => generic_text(pair),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => return None,
    };
    Some(format!("{kind}({inner})"))
}

/// The discount rate as a name with its rates, a rate, or a list of bands.
fn discount_text(v: &Value) -> String {
    match v {
        Value::String(s) if s == "green_book" => {
            "green_book (3.5% for years 0–30, 3.0% for 31–75, 2.5% from 76)".into()
        }
        Value::String(s) if s == "green_book_health" => {
            "green_book_health (1.5% for years 0–30, 1.29% for 31–75, 1.07% from 76)".into()
        }
        Value::Number(_) => v.as_f64().map_or(v.to_string(), format::rate),
        Value::Array(bands) => bands
            .iter()
            .map(|b| {
                let from = b.get("from_year").map_or("?".into(), Value::to_string);
                let rate = b
                    .get("rate")
                    .and_then(Value::as_f64)
                    .map_or("?".into(), format::rate);
                format!("from year {from}: {rate}")
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => generic_text(v),
    }
}

/// Fixed cost-sharing weights as "fixed weights: A 55.5, B 7.5".
fn cost_sharing_text(o: &Map<String, Value>) -> String {
    match o.get("fixed").and_then(Value::as_object) {
        Some(w) => {
            let parts: Vec<String> = w
                .iter()
                .map(|(name, weight)| format!("{name} {weight}"))
                .collect();
            format!("fixed weights: {}", parts.join(", "))
        }
        None => generic_text(&Value::Object(o.clone())),
    }
}

/// Any other value: strings as they are, everything else as compact JSON.
fn generic_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

/// The caveat, the provenance, engine version and timing.
fn footer(r: &Report) -> String {
    format!(
        "<footer>\n{}<p>The figures come from a Monte Carlo simulation of {} random futures \
         of the inputs above, not from a forecast: they are only as good as those inputs, \
         and they carry sampling error (the standard error of the mean NPV is shown above; \
         more trials shrink it).</p>\n{}<p>Generated by consortium-sim {} ({} threads, \
         {:.2} s). The same scenario, seed and number of trials give the same \
         figures.</p>\n</footer>",
        illustrative(r.provenance.as_ref()),
        thousands(r.trials),
        provenance(r.provenance.as_ref()),
        escape(&r.run.engine_version),
        r.run.threads,
        r.run.elapsed_seconds
    )
}

/// "Figures are illustrative", for the shipped examples only: a real case's figures are
/// not.
pub fn illustrative(p: Option<&Provenance>) -> &'static str {
    if p.is_some_and(Provenance::illustrative) {
        "<p>Figures are illustrative: the scenario is one of the examples shipped with \
         consortium-sim.</p>\n"
    } else {
        ""
    }
}

/// Where the page came from: each scenario's file and SHA-256 (or how it was given),
/// its overrides, the time and engine, and the scenario as run in a collapsed block.
pub fn provenance(p: Option<&Provenance>) -> String {
    let Some(p) = p else {
        return String::new();
    };
    let mut s = String::from("<section class=\"provenance\">\n<h3>Provenance</h3>\n");
    for run in &p.scenarios {
        let o = &run.origin;
        s.push_str("<dl>\n");
        if let Some(file) = &o.file {
            let _ = writeln!(s, "<dt>Scenario file</dt><dd><code>{}</code></dd>", escape(file));
        }
        if let Some(hash) = &o.sha256 {
            let _ = writeln!(s, "<dt>SHA-256</dt><dd><code class=\"hash\">{hash}</code></dd>");
        }
        if let Some(note) = &o.note {
            let _ = writeln!(s, "<dt>Scenario</dt><dd>{}</dd>", escape(note));
        }
        let overrides = if o.overrides.is_empty() {
            "none".to_string()
        } else {
            o.overrides
                .iter()
                .map(|x| format!("<code>--set {}</code>", escape(x)))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let _ = writeln!(s, "<dt>Overrides</dt><dd>{overrides}</dd>\n</dl>");
        let json = serde_json::to_string_pretty(&run.scenario).expect("JSON serialises");
        let _ = writeln!(
            s,
            "<details><summary>Scenario as run (JSON, overrides applied)</summary>\
             <pre>{}</pre></details>",
            escape(&json)
        );
    }
    let _ = writeln!(
        s,
        "<p>Generated <time datetime=\"{0}\">{0}</time> by consortium-sim {1}.</p>\n</section>",
        escape(&p.generated_at),
        escape(&p.engine_version)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The notebook fragment has the headline figures and the fan chart, and styles
    /// nothing outside itself.
    #[test]
    fn the_fragment_shows_the_headline_and_the_fan_and_keeps_its_styles_to_itself() {
        let value: Value = serde_json::from_str(crate::TEMPLATE).unwrap();
        let scenario = crate::scenario::from_value(&value, "the template").unwrap();
        let plan = crate::plan::Plan::compile(&scenario);
        let outcomes = crate::engine::run(&plan, 1, 0, 500);
        let report = Report::build(&scenario, 1, &outcomes, crate::summary::RunInfo::new(1, 0.0, 500));
        let html = run_fragment(&report, &scenario);
        assert!(html.starts_with("<div class=\"consortium-sim\">"));
        assert!(html.contains("Mean NPV") && html.contains("P(loss: NPV &lt; 0)"));
        assert!(html.contains("data-chart=\"fan\"") && html.contains("<svg"));
        let css = html.split("<style>").nth(1).unwrap().split("</style>").next().unwrap();
        for rule in css.lines().filter(|l| l.contains('{')) {
            assert!(rule.starts_with(".consortium-sim"), "{rule}");
        }
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn distributions_are_shown_compactly() {
        let pert = json!({"pert": [0.08, 0.15, 0.22]});
        assert_eq!(
            value_text("efficiency", &pert, "£"),
            "pert(0.08, 0.15, 0.22)"
        );
        let fee = json!({"uniform": [50000, 150000]});
        assert_eq!(
            value_text("exit_fee", &fee, "£"),
            "uniform(£50,000, £150,000)"
        );
        let logn = json!({"lognormal": {"mean": 12000000, "sd": 1000000}});
        assert_eq!(
            value_text("baseline_cost", &logn, "£"),
            "lognormal(mean £12,000,000, sd £1,000,000)"
        );
        let discrete = json!({"discrete": [[900000, 0.5], [1200000, 0.5]]});
        assert_eq!(
            value_text("fixed_cost", &discrete, "€"),
            "discrete(€900,000 (weight 0.5), €1,200,000 (weight 0.5))"
        );
        assert_eq!(
            value_text("ramp", &json!([0.2, 0.6, 1.0]), "£"),
            "0.2, 0.6, 1.0"
        );
        assert_eq!(value_text("exit_fee", &json!(1234.5), "£"), "£1,234.50");
    }

    #[test]
    fn discount_rates_read_as_percentages() {
        assert_eq!(value_text("discount_rate", &json!(0.035), "£"), "3.5%");
        let bands = json!([{"from_year": 0, "rate": 0.035}, {"from_year": 5, "rate": 0.03}]);
        assert_eq!(
            value_text("discount_rate", &bands, "£"),
            "from year 0: 3.5%; from year 5: 3%"
        );
    }

    #[test]
    fn page_shell_escapes_the_title() {
        let p = page("<b>&", "<p>body</p>");
        assert!(p.contains("<title>&lt;b&gt;&amp;</title>"));
        assert!(p.contains("<p>body</p>"));
    }
}
