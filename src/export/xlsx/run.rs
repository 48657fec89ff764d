//! A run's workbook (`run` and `merge`): Summary, Partners, By year (with a line chart of
//! the percentile bands), NPV distribution (with a histogram chart and its cumulative
//! curve), Events, Inputs and Trials.
//!
//! Summary holds the terminal summary's figures with a third column naming each one's
//! key in the JSON report (`consortium.npv.mean`), so a figure can be traced and a test
//! can hold every one equal to the report's. Trials holds the trials CSV's columns and
//! values, one row per trial, when they fit in a sheet.

use std::io::{self, Write};

use rust_xlsxwriter::{Chart, ChartAxisLabelPosition, ChartType, Workbook, XlsxError};
use serde_json::{Map, Value};

use super::{
    Figure, MAX_COLUMNS, MAX_ROWS, Num, Sheet, Styles, bar_categories, currency_label, error, largest,
    money_axis, new_book, place_chart, provenance, share_axis,
};
use crate::engine::outcomes::NO_YEAR_U8;
use crate::engine::{Column, Outcomes};
use crate::export::charts::npv_bins;
use crate::export::csv::trial_columns;
use crate::export::format::{self, discount};
use crate::export::html::HISTOGRAM_BINS;
use crate::export::RunResult;
use crate::scenario::Scenario;
use crate::summary::Report;

/// Rows between checks that the command has not been interrupted, while the Trials
/// sheet is written.
const CHECK_EVERY: usize = 1 << 16;

/// The run's workbook. `w` is where it will go: writing nothing to it between blocks of
/// trial rows lets an interrupted command stop (the exporter's writer then fails).
pub fn workbook(r: &RunResult, w: &mut dyn Write) -> io::Result<Workbook> {
    let report = r.report;
    let mut book = new_book(&report.scenario, report.provenance.as_ref());
    let styles = Styles::new(&r.scenario.currency);
    let sheets = [
        summary(report, r.scenario, &styles),
        partners(report, &styles),
        by_year(report, &styles),
        cash_by_year(report, &styles),
        distribution(r.outcomes, &styles),
        events(report, &styles),
        inputs(r.value, report, &styles),
    ];
    for sheet in sheets {
        book.push_worksheet(sheet.map_err(error)?);
    }
    trials(&mut book, r.scenario, r.outcomes, w)?;
    Ok(book)
}

/// The Summary sheet: what was run, the headline figures (label, value, JSON key), any
/// warnings, and the provenance.
fn summary(r: &Report, s: &Scenario, styles: &Styles) -> Result<rust_xlsxwriter::Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Summary", styles)?;
    sheet.title(0, &r.scenario)?;
    let mut row = 1;
    if !s.description.trim().is_empty() {
        sheet.note(row, 0, s.description.trim())?;
        row += 1;
    }
    sheet.note(
        row,
        0,
        &format!(
            "{}, seed {}, {} at base-year prices, discounted at {}",
            format::count(r.trials, "trial"),
            r.seed,
            format::count(r.horizon_years as u64, "year"),
            discount(&s.discount, r.horizon_years)
        ),
    )?;
    if let Some(sampling) = &r.sampling {
        row += 1;
        sheet.note(row, 0, &format::sampling(sampling))?;
    }
    row += 2;
    sheet.header(row, 0, &["Figure", "Value", "Report key (JSON)"])?;
    row += 1;
    let c = &r.consortium;
    let n = &c.npv;
    let loss = &c.prob_npv_negative;
    let mut figures: Vec<(&str, Figure, &str)> = vec![
        ("Scenario", Figure::Text(r.scenario.clone()), "scenario"),
        ("Trials", Figure::Count(r.trials), "trials"),
        ("Seed", Figure::Count(r.seed), "seed"),
        ("Horizon (years)", Figure::Count(r.horizon_years as u64), "horizon_years"),
        ("Engine version", Figure::Text(r.run.engine_version.clone()), "run.engine_version"),
        ("Mean NPV", Figure::Money(n.mean), "consortium.npv.mean"),
        ("Standard error of the mean", Figure::Money(n.se), "consortium.npv.se"),
        ("Standard deviation", Figure::Money(n.sd), "consortium.npv.sd"),
        ("Median NPV (P50)", Figure::Money(n.p50), "consortium.npv.p50"),
        ("P5 NPV", Figure::Money(n.p05), "consortium.npv.p05"),
        ("P10 NPV", Figure::Money(n.p10), "consortium.npv.p10"),
        ("P25 NPV", Figure::Money(n.p25), "consortium.npv.p25"),
        ("P75 NPV", Figure::Money(n.p75), "consortium.npv.p75"),
        ("P90 NPV", Figure::Money(n.p90), "consortium.npv.p90"),
        ("P95 NPV", Figure::Money(n.p95), "consortium.npv.p95"),
        ("Worst 5% (mean, CVaR)", Figure::Money(n.cvar05), "consortium.npv.cvar05"),
        ("P(loss: NPV < 0)", Figure::Percent(loss.estimate), "consortium.prob_npv_negative.estimate"),
        ("P(loss) 95% CI, low (Wilson)", Figure::Percent(loss.ci95[0]), "consortium.prob_npv_negative.ci95.0"),
        ("P(loss) 95% CI, high (Wilson)", Figure::Percent(loss.ci95[1]), "consortium.prob_npv_negative.ci95.1"),
        ("P(collapse)", Figure::Percent(c.prob_collapse), "consortium.prob_collapse"),
        (
            "P(pays back within the horizon)",
            Figure::Percent(c.payback_year.prob_within_horizon),
            "consortium.payback_year.prob_within_horizon",
        ),
    ];
    figures.push(match c.payback_year.p50 {
        Some(y) => ("Median payback year", Figure::Count(u64::from(y)), "consortium.payback_year.p50"),
        None => (
            "Median payback year",
            Figure::Text("fewer than half of trials pay back".into()),
            "consortium.payback_year.p50",
        ),
    });
    if !c.delay_years_probability.is_empty() {
        figures.push(("Mean go-live delay (years)", Figure::Decimal(r.events.delay_years), "events.delay_years"));
    }
    for (label, figure, key) in figures {
        sheet.text(row, 0, label)?;
        sheet.figure(row, 1, &figure)?;
        sheet.text_indented(row, 2, key)?;
        row += 1;
    }
    if !r.warnings.is_empty() {
        row += 1;
        sheet.header(row, 0, &["Warning"])?;
        row += 1;
        for w in &r.warnings {
            sheet.note(row, 0, &w.to_string())?;
            row += 1;
        }
    }
    row += 1;
    sheet.note(
        row,
        0,
        "Figures come from a Monte Carlo simulation, not a forecast: they are only as good as the inputs (sheet Inputs) and carry sampling error.",
    )?;
    provenance(&mut sheet, row + 2, r.provenance.as_ref())?;
    sheet.finish(0, 0)
}

/// The Partners sheet: every figure of each partner, and a bar chart of mean NPV.
fn partners(r: &Report, styles: &Styles) -> Result<rust_xlsxwriter::Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Partners", styles)?;
    sheet.header(
        0,
        0,
        &[
            "Partner",
            "Mean NPV",
            "Standard error",
            "Standard deviation",
            "P5 NPV",
            "P10 NPV",
            "P25 NPV",
            "P50 NPV",
            "P75 NPV",
            "P90 NPV",
            "P95 NPV",
            "Worst 5% (mean)",
            "P(worse off)",
            "P(gives notice)",
        ],
    )?;
    for (i, p) in r.partners.iter().enumerate() {
        let row = i as u32 + 1;
        let n = &p.npv;
        sheet.text(row, 0, &p.name)?;
        let money = [n.mean, n.se, n.sd, n.p05, n.p10, n.p25, n.p50, n.p75, n.p90, n.p95, n.cvar05];
        for (j, x) in money.into_iter().enumerate() {
            sheet.number(row, j as u16 + 1, x, Num::Money)?;
        }
        sheet.number(row, 12, p.prob_worse_off, Num::Percent)?;
        sheet.number(row, 13, p.prob_withdraws, Num::Percent)?;
    }
    let last = r.partners.len() as u32;
    if last > 0 && last <= 60 {
        let mut chart = Chart::new(ChartType::Bar);
        chart
            .add_series()
            .set_name("Mean NPV")
            .set_categories(("Partners", 1, 0, last, 0))
            .set_values(("Partners", 1, 1, last, 1));
        chart.title().set_name("Each partner's mean NPV against going alone");
        chart.x_axis().set_name(&format!("Mean NPV ({})", currency_label(styles)));
        chart.x_axis().set_num_format(money_axis(styles, largest(r.partners.iter().map(|p| p.npv.mean))));
        bar_categories(&mut chart);
        chart.legend().set_hidden();
        chart.set_width(720).set_height(120 + 28 * last);
        sheet.ws.insert_chart(last + 2, 0, &chart)?;
    }
    sheet.finish(1, 1)
}

/// The By year sheet: the fan chart's data and a line chart of its bands.
fn by_year(r: &Report, styles: &Styles) -> Result<rust_xlsxwriter::Worksheet, XlsxError> {
    let mut sheet = Sheet::new("By year", styles)?;
    sheet.header(
        0,
        0,
        &["Year (0 = transition)", "P5", "P25", "P50 (median)", "P75", "P95", "Mean"],
    )?;
    let years = &r.consortium.by_year;
    for (i, b) in years.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.number(row, 0, b.year as f64, Num::General)?;
        for (j, x) in [b.p05, b.p25, b.p50, b.p75, b.p95, b.mean].into_iter().enumerate() {
            sheet.number(row, j as u16 + 1, x, Num::Money)?;
        }
    }
    let last = years.len() as u32;
    if last > 0 {
        let mut chart = Chart::new(ChartType::Line);
        let colours = ["#9DC3E6", "#2E75B6", "#1F3864", "#2E75B6", "#9DC3E6"];
        for (j, colour) in colours.iter().enumerate() {
            let col = j as u16 + 1;
            let dashed = j != 2;
            let series = chart
                .add_series()
                .set_name(("By year", 0, col))
                .set_categories(("By year", 1, 0, last, 0))
                .set_values(("By year", 1, col, last, col));
            let mut line = rust_xlsxwriter::ChartLine::new();
            line.set_color(*colour).set_width(if dashed { 1.5 } else { 2.75 });
            if dashed {
                line.set_dash_type(rust_xlsxwriter::ChartLineDashType::Dash);
            }
            series.set_format(&mut line);
        }
        chart
            .title()
            .set_name("Cumulative discounted saving of the consortium (percentile bands)");
        chart
            .x_axis()
            .set_name("Year (0 = transition)")
            .set_label_position(ChartAxisLabelPosition::Low);
        chart
            .y_axis()
            .set_name(&format!("Cumulative saving ({})", currency_label(styles)))
            .set_num_format(money_axis(styles, largest(years.iter().flat_map(|b| [b.p05, b.p95]))));
        place_chart(&mut sheet.ws, last + 2, 0, &mut chart)?;
    }
    sheet.finish(1, 0)
}

/// The statistics of each measure on the Cash by year sheet, in the cash flow CSV's
/// order.
const CASH_STATISTICS: [&str; 6] = ["mean", "P5", "P25", "P50", "P75", "P95"];

/// The Cash by year sheet, for a medium-term financial plan: one row per partner and
/// year (the cash flow CSV's rows), each partner's saving in the year and cumulative, in
/// cash and discounted; below, a line chart of each partner's median cumulative cash.
fn cash_by_year(r: &Report, styles: &Styles) -> Result<rust_xlsxwriter::Worksheet, XlsxError> {
    const NAME: &str = "Cash by year";
    let mut sheet = Sheet::new(NAME, styles)?;
    let measures = [
        "Saving in the year (cash)",
        "Cumulative saving (cash)",
        "Saving in the year (discounted)",
        "Cumulative saving (discounted)",
    ];
    let mut header: Vec<String> = vec!["Partner".into(), "Year".into()];
    for m in measures {
        header.extend(CASH_STATISTICS.map(|s| format!("{m}: {s}")));
    }
    sheet.header(0, 0, &header)?;
    let rows: usize = r.partners.iter().map(|p| p.by_year.len()).sum();
    if rows > MAX_ROWS {
        sheet.note(
            2,
            0,
            &format!(
                "{} partner-years are more rows than a sheet holds: write them with --cashflow-csv FILE.",
                format::thousands(rows as u64)
            ),
        )?;
        return sheet.finish(1, 2);
    }
    let mut row = 1;
    // (first row, last row) of each partner, for the chart's series.
    let mut spans = Vec::with_capacity(r.partners.len());
    for p in &r.partners {
        let first = row;
        for y in &p.by_year {
            sheet.text(row, 0, &p.name)?;
            sheet.number(row, 1, y.year as f64, Num::General)?;
            let spreads = [y.cash, y.cumulative_cash, y.discounted, y.cumulative_discounted];
            for (m, s) in spreads.iter().enumerate() {
                for (j, x) in [s.mean, s.p05, s.p25, s.p50, s.p75, s.p95].into_iter().enumerate() {
                    sheet.number(row, (2 + 6 * m + j) as u16, x, Num::Money)?;
                }
            }
            row += 1;
        }
        if row > first {
            spans.push((p.name.as_str(), first, row - 1));
        }
    }
    let mut below = row + 1;
    if r.by_year_trials < r.trials {
        sheet.note(
            below,
            0,
            &format!(
                "Computed from the first {} of the {} trials: every trial's yearly cash would take more than the 64 MiB kept for it.",
                format::thousands(r.by_year_trials),
                format::thousands(r.trials)
            ),
        )?;
        below += 2;
    }
    if !spans.is_empty() {
        // Column of the cumulative cash's median: Partner, Year, six of the year's cash,
        // then mean, P5, P25, P50.
        let median = 2 + 6 + 3;
        let mut chart = Chart::new(ChartType::Line);
        for (name, first, last) in spans.iter().take(12) {
            chart
                .add_series()
                .set_name(*name)
                .set_categories((NAME, *first, 1, *last, 1))
                .set_values((NAME, *first, median, *last, median));
        }
        chart
            .title()
            .set_name("Each partner's median cumulative saving, in cash");
        chart
            .x_axis()
            .set_name("Year (0 = transition)")
            .set_label_position(ChartAxisLabelPosition::Low);
        let extremes = r
            .partners
            .iter()
            .flat_map(|p| p.by_year.iter().map(|y| y.cumulative_cash.p50));
        chart
            .y_axis()
            .set_name(&format!("Cumulative saving ({})", currency_label(styles)))
            .set_num_format(money_axis(styles, largest(extremes)));
        place_chart(&mut sheet.ws, below, 0, &mut chart)?;
    }
    sheet.finish(1, 2)
}

/// The NPV distribution sheet: the histogram's bins (as the page draws them) with each
/// bin's share and the cumulative share, and a chart of both.
fn distribution(outcomes: &Outcomes, styles: &Styles) -> Result<rust_xlsxwriter::Worksheet, XlsxError> {
    let mut sheet = Sheet::new("NPV distribution", styles)?;
    sheet.header(
        0,
        0,
        &[
            "NPV from",
            "NPV to",
            "Bin middle",
            "Trials",
            "Share of trials",
            "Cumulative share (at or below NPV to)",
        ],
    )?;
    let (lo, width, counts) = npv_bins(&outcomes.npv, HISTOGRAM_BINS);
    let n = outcomes.npv.len().max(1) as f64;
    let mut running = 0u64;
    for (i, &count) in counts.iter().enumerate() {
        let row = i as u32 + 1;
        let from = lo + i as f64 * width;
        running += count;
        sheet.number(row, 0, from, Num::Money)?;
        sheet.number(row, 1, from + width, Num::Money)?;
        sheet.number(row, 2, from + width / 2.0, Num::Money)?;
        sheet.number(row, 3, count as f64, Num::Count)?;
        sheet.number(row, 4, count as f64 / n, Num::Percent)?;
        sheet.number(row, 5, running as f64 / n, Num::Percent)?;
    }
    let last = counts.len() as u32;
    let mut bars = Chart::new(ChartType::Column);
    bars.add_series()
        .set_name(("NPV distribution", 0, 4))
        .set_categories(("NPV distribution", 1, 2, last, 2))
        .set_values(("NPV distribution", 1, 4, last, 4))
        .set_gap(10);
    let mut curve = Chart::new(ChartType::Line);
    curve
        .add_series()
        .set_name("Cumulative share (right axis)")
        .set_categories(("NPV distribution", 1, 2, last, 2))
        .set_values(("NPV distribution", 1, 5, last, 5))
        .set_secondary_axis(true);
    bars.title().set_name("Distribution of consortium NPV");
    bars.x_axis()
        .set_name(&format!("Consortium NPV, middle of each bin ({})", currency_label(styles)))
        .set_num_format(money_axis(styles, largest([lo, lo + width * counts.len() as f64])));
    bars.y_axis()
        .set_name("Share of trials per bin")
        .set_num_format("0%");
    bars.combine(&curve);
    // The secondary axis is set through the primary chart.
    share_axis(bars.y2_axis(), "Cumulative share of trials");
    place_chart(&mut sheet.ws, 1, 7, &mut bars)?;
    sheet.finish(1, 0)
}

/// The Events sheet: mean counts per trial, the collapse year's distribution and, when
/// go-live may slip, the delay's.
fn events(r: &Report, styles: &Styles) -> Result<rust_xlsxwriter::Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Events", styles)?;
    sheet.header(0, 0, &["Event", "Mean per trial"])?;
    let e = &r.events;
    let mut rows = vec![
        ("Withdrawal notices", e.withdrawals),
        ("Rejoins", e.rejoins),
        ("Disputes started", e.disputes),
        ("Years in dispute", e.dispute_years),
    ];
    if !r.consortium.delay_years_probability.is_empty() {
        rows.push(("Go-live delay (years)", e.delay_years));
    }
    let mut row = 1;
    for (name, x) in rows {
        sheet.text(row, 0, name)?;
        sheet.number(row, 1, x, Num::Decimal)?;
        row += 1;
    }
    row += 1;
    sheet.header(row, 0, &["Collapse takes effect in year", "Probability"])?;
    row += 1;
    for (year, p) in r.consortium.collapse_year_probability.iter().enumerate() {
        sheet.number(row, 0, year as f64, Num::General)?;
        sheet.number(row, 1, *p, Num::Percent)?;
        row += 1;
    }
    sheet.text(row, 0, "Any year (P(collapse))")?;
    sheet.number(row, 1, r.consortium.prob_collapse, Num::Percent)?;
    row += 1;
    let by_delay = &r.consortium.delay_years_probability;
    if !by_delay.is_empty() {
        row += 1;
        sheet.header(row, 0, &["Go-live delay (years; the last: never live)", "Probability"])?;
        row += 1;
        for (d, p) in by_delay.iter().enumerate() {
            sheet.number(row, 0, d as f64, Num::General)?;
            sheet.number(row, 1, *p, Num::Percent)?;
            row += 1;
        }
    }
    // Several small tables: no one header row to freeze.
    sheet.finish(0, 0)
}

/// The Inputs sheet: the scenario as run (overrides applied), section by section, then
/// one row per partner with one column per field any partner sets.
///
/// Trials and seed are the run's, not the file's: `--trials`, `--seed` and a run to a
/// target change them without touching the scenario, and a reader reproducing the run
/// from this sheet needs the ones used. Where the file said otherwise, a fourth column
/// says what it said.
fn inputs(value: &Value, r: &Report, styles: &Styles) -> Result<rust_xlsxwriter::Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Inputs", styles)?;
    sheet.title(0, "The scenario as run (fields not listed take their defaults)")?;
    let mut row = 2;
    sheet.header(row, 0, &["Section", "Field", "Value", "The file says"])?;
    row += 1;
    let empty = Map::new();
    let top = value.as_object().unwrap_or(&empty);
    for (key, used) in [("trials", r.trials), ("seed", r.seed)] {
        sheet.text(row, 0, "scenario")?;
        sheet.text(row, 1, key)?;
        sheet.value(row, 2, &Value::from(used))?;
        match top.get(key) {
            Some(v) if v.as_u64() != Some(used) => sheet.value(row, 3, v)?,
            Some(_) => {}
            None => sheet.text(row, 3, "(not set)")?,
        }
        row += 1;
    }
    if let Some(sampling) = &r.sampling {
        sheet.text(row, 0, "run")?;
        sheet.text(row, 1, "sampling")?;
        sheet.text(row, 2, sampling.method)?;
        row += 1;
    }
    let nested = ["$schema", "service", "partners", "disputes", "trials", "seed"];
    for (key, v) in top.iter().filter(|(k, _)| !nested.contains(&k.as_str())) {
        sheet.text(row, 0, "scenario")?;
        sheet.text(row, 1, key)?;
        sheet.value(row, 2, v)?;
        row += 1;
    }
    for section in ["service", "disputes"] {
        if let Some(obj) = top.get(section).and_then(Value::as_object) {
            for (key, v) in obj {
                sheet.text(row, 0, section)?;
                sheet.text(row, 1, key)?;
                sheet.value(row, 2, v)?;
                row += 1;
            }
        }
    }
    if let Some(list) = top.get("partners").and_then(Value::as_array) {
        row += 1;
        let partners: Vec<&Map<String, Value>> = list.iter().filter_map(Value::as_object).collect();
        let mut fields: Vec<&str> = vec!["name"];
        for p in &partners {
            for k in p.keys() {
                if !fields.contains(&k.as_str()) {
                    fields.push(k);
                }
            }
        }
        fields.truncate(MAX_COLUMNS);
        sheet.note(row, 0, "Partners (an empty cell takes the default)")?;
        row += 1;
        sheet.header(row, 0, &fields)?;
        row += 1;
        for p in partners {
            for (j, field) in fields.iter().enumerate() {
                if let Some(v) = p.get(*field) {
                    sheet.value(row, j as u16, v)?;
                }
            }
            row += 1;
        }
    }
    sheet.finish(3, 0)
}

/// The Trials sheet: the trials CSV's columns and values, one row per trial, when they
/// fit in a sheet; otherwise a line saying how to get them.
fn trials(book: &mut Workbook, s: &Scenario, o: &Outcomes, w: &mut dyn Write) -> io::Result<()> {
    let delay = !o.delay_years.is_empty();
    let columns = trial_columns(s.partners.iter().map(|p| p.name.as_str()), delay);
    let ws = book.add_worksheet_with_constant_memory().map_err(error)?;
    ws.set_name("Trials").map_err(error)?;
    if o.trials > MAX_ROWS || columns.len() > MAX_COLUMNS {
        let why = format!(
            "This run has {} trials of {} partners: more than a sheet holds ({} rows of {} columns). \
             Write one row per trial with --trials-csv FILE (or the csv format) instead.",
            format::thousands(o.trials as u64),
            s.partners.len(),
            format::thousands(MAX_ROWS as u64),
            format::thousands(MAX_COLUMNS as u64),
        );
        ws.write_string(0, 0, why).map_err(error)?;
        return Ok(());
    }
    let p = o.partners;
    let money = Styles::new(&s.currency).money;
    let header = rust_xlsxwriter::Format::new().set_bold().set_background_color("#DCE6F1");
    // Constant-memory sheets take their widths before their rows.
    for (col, name) in columns.iter().enumerate() {
        let width = if (1..=p + 1).contains(&col) { 14.0 } else { 8.43 };
        let width = f64::max(width, name.chars().count().min(40) as f64 + 2.0);
        ws.set_column_width(col as u16, width).map_err(error)?;
    }
    ws.set_freeze_panes(1, 1).map_err(error)?;
    super::print_setup(ws, 1).map_err(error)?;
    for (col, name) in columns.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, name, &header).map_err(error)?;
    }
    let n = o.trials;
    let mut cells: Vec<Option<f64>> = Vec::with_capacity(columns.len());
    for k in 0..n {
        if k % CHECK_EVERY == 0 {
            // Writing nothing lets the exporter's writer report an interruption.
            let _ = w.write(&[])?;
        }
        let e = &o.events[k];
        let year = |y: u8| (y != NO_YEAR_U8).then_some(f64::from(y));
        cells.clear();
        cells.push(Some((o.first_trial + k as u64) as f64));
        cells.push(Some(o.npv[k]));
        cells.extend((0..p).map(|i| {
            Some(match &o.partner_npv {
                Column::F64(v) => v[i * n + k],
                Column::F32(v) => f64::from(v[i * n + k]),
            })
        }));
        cells.extend([
            year(e.payback_year),
            Some(f64::from(e.withdrawals)),
            Some(f64::from(e.rejoins)),
            Some(f64::from(e.disputes)),
            Some(f64::from(e.dispute_years)),
            year(e.collapse_year),
        ]);
        cells.extend(o.delay_years.get(k).map(|d| Some(f64::from(*d))));
        let row = k as u32 + 1;
        for (col, x) in cells.iter().enumerate() {
            let Some(x) = *x else { continue };
            let col = col as u16;
            if (1..=p + 1).contains(&usize::from(col)) {
                ws.write_number_with_format(row, col, x, &money)
            } else {
                ws.write_number(row, col, x)
            }
            .map_err(error)?;
        }
    }
    Ok(())
}
