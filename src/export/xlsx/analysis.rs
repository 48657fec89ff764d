//! The analyses' workbooks: a sweep (its table, a line chart, and for two parameters
//! heat maps as colour-scaled cells), a sensitivity analysis (the tornado with a bar
//! chart, the rank correlations, the switching values) and a comparison (the scenarios
//! side by side with a column chart, and each partner in each scenario) and a search of
//! agreement terms (every set in rank order, with the trade-off between the consortium's
//! NPV and the worst partner's risk as a scatter chart). Each starts with a Summary
//! sheet saying what was run and where it came from.

use std::io;

use rust_xlsxwriter::{
    Chart, ChartAxisLabelPosition, ChartFormat, ChartLegendPosition, ChartType, Workbook, Worksheet, XlsxError,
};
use serde_json::Value;

use super::{
    Figure, MAX_COLUMNS, Num, Sheet, Styles, bar_categories, currency_label, error, largest, money_axis,
    new_book, place_chart, provenance, share_axis,
};
use crate::analysis::agreement::Agreement;
use crate::analysis::compare::Comparison;
use crate::analysis::sensitivity::Sensitivity;
use crate::analysis::sweep::Sweep;
use crate::export::analysis::short_name;
use crate::export::format;
use crate::scenario::inputs::is_money;
use crate::summary::{Provenance, RunInfo};

/// A workbook from its sheets, or the first error in building one.
fn book_of(
    title: &str,
    provenance: Option<&Provenance>,
    sheets: Vec<Result<Worksheet, XlsxError>>,
) -> io::Result<Workbook> {
    let mut book = new_book(title, provenance);
    for sheet in sheets {
        book.push_worksheet(sheet.map_err(error)?);
    }
    Ok(book)
}

/// The Summary sheet of an analysis: a title, what was run, lines of label and value,
/// and the provenance.
fn summary(
    styles: &Styles,
    title: &str,
    lines: &[(&str, Figure)],
    run: &RunInfo,
    p: Option<&Provenance>,
) -> Result<Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Summary", styles)?;
    sheet.title(0, title)?;
    let mut row = 2;
    let version = Figure::Text(run.engine_version.clone());
    for (label, figure) in lines.iter().chain([&("Engine version", version)]) {
        sheet.text(row, 0, label)?;
        match figure {
            // Text (a list of inputs, a sentence) runs on across the empty cells.
            Figure::Text(t) => sheet.note(row, 1, t)?,
            number => sheet.figure(row, 1, number)?,
        }
        row += 1;
    }
    row += 1;
    sheet.note(
        row,
        0,
        "Every run uses the same seed and trials (common random numbers): a difference between runs is the effect of the inputs, not sampling noise.",
    )?;
    provenance(&mut sheet, row + 2, p)?;
    sheet.finish(0, 0)
}

/// How a number from a pointer's input reads: money for costs and fees.
fn input_kind(pointer: &str) -> Num {
    if is_money(pointer) {
        Num::Money
    } else {
        Num::General
    }
}

/// The sweep's workbook.
pub fn sweep(s: &Sweep, currency: &str) -> io::Result<Workbook> {
    let styles = Styles::new(currency);
    let pointers: Vec<&str> = s.parameters.iter().map(|p| p.pointer.as_str()).collect();
    let lines = [
        ("Scenario", Figure::Text(s.scenario.clone())),
        ("Parameters", Figure::Text(pointers.join(" × "))),
        ("Points", Figure::Count(s.points.len() as u64)),
        ("Trials at each point", Figure::Count(s.trials)),
        ("Sampling", Figure::Text(format::sampling_cell(s.provenance.as_ref(), s.trials))),
        ("Seed", Figure::Count(s.seed)),
    ];
    let mut sheets = vec![
        summary(&styles, &format!("Sweep: {}", s.scenario), &lines, &s.run, s.provenance.as_ref()),
        sweep_table(s, &styles),
    ];
    if s.parameters.len() == 2 {
        sheets.push(heat_maps(s, &styles));
    }
    book_of(&s.scenario, s.provenance.as_ref(), sheets)
}

/// Columns of the sweep table after the parameters'.
const SWEEP_FIGURES: [&str; 9] = [
    "Mean NPV",
    "Standard error",
    "P(loss)",
    "P(loss) 95% CI low",
    "P(loss) 95% CI high",
    "P(collapse)",
    "P10 NPV",
    "P50 NPV",
    "P90 NPV",
];

/// The Sweep sheet: one row per point, the parameters' values first, then the
/// consortium's figures and each partner's mean NPV and P(worse off); with a chart.
fn sweep_table(s: &Sweep, styles: &Styles) -> Result<Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Sweep", styles)?;
    let lead = s.parameters.len();
    let partners: Vec<&str> = s
        .points
        .first()
        .map(|p| p.figures.partners.iter().map(|q| q.name.as_str()).collect())
        .unwrap_or_default();
    // Partners' columns only while they fit in a sheet.
    let room = MAX_COLUMNS.saturating_sub(lead + SWEEP_FIGURES.len()) / 2;
    let shown = &partners[..partners.len().min(room)];
    let mut header: Vec<String> = s.parameters.iter().map(|p| p.pointer.clone()).collect();
    header.extend(SWEEP_FIGURES.map(String::from));
    for name in shown {
        header.push(format!("Mean NPV: {name}"));
        header.push(format!("P(worse off): {name}"));
    }
    sheet.header(0, 0, &header)?;
    for (k, point) in s.points.iter().enumerate() {
        let row = k as u32 + 1;
        for (p, param) in s.parameters.iter().enumerate() {
            match s.value(k, p) {
                Value::Number(n) => {
                    sheet.number(row, p as u16, n.as_f64().unwrap_or(f64::NAN), input_kind(&param.pointer))?
                }
                v => sheet.value(row, p as u16, v)?,
            }
        }
        let f = &point.figures;
        let figures = [
            (f.npv.mean, Num::Money),
            (f.npv.se, Num::Money),
            (f.prob_npv_negative.estimate, Num::Percent),
            (f.prob_npv_negative.ci95[0], Num::Percent),
            (f.prob_npv_negative.ci95[1], Num::Percent),
            (f.prob_collapse, Num::Percent),
            (f.npv.p10, Num::Money),
            (f.npv.p50, Num::Money),
            (f.npv.p90, Num::Money),
        ];
        for (j, (x, kind)) in figures.into_iter().enumerate() {
            sheet.number(row, (lead + j) as u16, x, kind)?;
        }
        for (i, q) in f.partners.iter().take(shown.len()).enumerate() {
            let col = (lead + SWEEP_FIGURES.len() + 2 * i) as u16;
            sheet.number(row, col, q.mean_npv, Num::Money)?;
            sheet.number(row, col + 1, q.prob_worse_off, Num::Percent)?;
        }
    }
    let last = s.points.len() as u32;
    let chart_row = last + 2;
    match s.parameters.as_slice() {
        [p] => {
            let name = short_name(&p.pointer);
            let numeric = p.values.iter().all(|v| v.as_f64().is_some());
            let mut chart = Chart::new(if numeric { ChartType::Line } else { ChartType::Column });
            chart
                .add_series()
                .set_name("Mean NPV")
                .set_categories(("Sweep", 1, 0, last, 0))
                .set_values(("Sweep", 1, 1, last, 1));
            let mut loss = Chart::new(ChartType::Line);
            loss.add_series()
                .set_name("P(loss) (right axis)")
                .set_categories(("Sweep", 1, 0, last, 0))
                .set_values(("Sweep", 1, 3, last, 3))
                .set_secondary_axis(true);
            chart
                .title()
                .set_name(&format!("Mean NPV and P(loss) against {name}"));
            chart
                .x_axis()
                .set_name(&name)
                .set_label_position(ChartAxisLabelPosition::Low);
            chart
                .y_axis()
                .set_name(&format!("Mean consortium NPV ({})", currency_label(styles)))
                .set_num_format(money_axis(styles, largest(s.points.iter().map(|p| p.figures.npv.mean))));
            chart.combine(&loss);
            share_axis(chart.y2_axis(), "P(consortium NPV < 0)");
            place_chart(&mut sheet.ws, chart_row, 0, &mut chart)?;
        }
        [px, py] => {
            // Mean NPV against the first parameter, one line per value of the second.
            let (nx, ny) = (px.values.len(), py.values.len());
            // The points of one value of the second parameter are every ny-th row of the
            // table: a block of their own below it gives the chart contiguous ranges.
            let mut chart = Chart::new(ChartType::Line);
            let top = last + 2;
            let mut block = vec![short_name(&px.pointer)];
            block.extend(
                py.values
                    .iter()
                    .map(|v| format!("Mean NPV at {} = {}", short_name(&py.pointer), value_label(v))),
            );
            sheet.header(top, 0, &block)?;
            for (i, v) in px.values.iter().enumerate() {
                let row = top + 1 + i as u32;
                sheet.value(row, 0, v)?;
                for j in 0..ny.min(MAX_COLUMNS - 1) {
                    let f = &s.point(i, j).figures;
                    sheet.number(row, 1 + j as u16, f.npv.mean, Num::Money)?;
                }
            }
            let bottom = top + nx as u32;
            for j in 0..ny.min(12) {
                let col = 1 + j as u16;
                chart
                    .add_series()
                    .set_name(("Sweep", top, col))
                    .set_categories(("Sweep", top + 1, 0, bottom, 0))
                    .set_values(("Sweep", top + 1, col, bottom, col));
            }
            chart.title().set_name(&format!(
                "Mean NPV against {}, one line per {}",
                short_name(&px.pointer),
                short_name(&py.pointer)
            ));
            chart
                .x_axis()
                .set_name(&short_name(&px.pointer))
                .set_label_position(ChartAxisLabelPosition::Low);
            chart
                .y_axis()
                .set_name(&format!("Mean consortium NPV ({})", currency_label(styles)))
                .set_num_format(money_axis(styles, largest(s.points.iter().map(|p| p.figures.npv.mean))));
            place_chart(&mut sheet.ws, bottom + 2, 0, &mut chart)?;
        }
        _ => {}
    }
    sheet.finish(1, lead as u16)
}

/// A swept value as a label: numbers and text as they are, others as JSON.
fn value_label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One figure of a sweep's point.
type Measure = fn(&crate::analysis::crn::Figures) -> f64;

/// The Heat map sheet of a two-parameter sweep: P(loss) and mean NPV on grids (the first
/// parameter across, the second down), coloured from good to bad.
fn heat_maps(s: &Sweep, styles: &Styles) -> Result<Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Heat map", styles)?;
    let (px, py) = (&s.parameters[0], &s.parameters[1]);
    let (nx, ny) = (px.values.len(), py.values.len());
    let mut row = 0u32;
    let grids: [(&str, Num, bool, Measure); 2] = [
        ("P(loss)", Num::Percent, false, |f| f.prob_npv_negative.estimate),
        ("Mean NPV", Num::Money, true, |f| f.npv.mean),
    ];
    for (name, kind, high_is_good, figure) in grids {
        sheet.note(
            row,
            0,
            &format!(
                "{name}: {} across, {} down",
                px.pointer, py.pointer
            ),
        )?;
        row += 1;
        sheet.header(row, 0, &[format!("{} \\ {}", short_name(&py.pointer), short_name(&px.pointer))])?;
        for (i, v) in px.values.iter().enumerate() {
            let col = i as u16 + 1;
            match v {
                Value::Number(n) => sheet.number(row, col, n.as_f64().unwrap_or(f64::NAN), input_kind(&px.pointer))?,
                other => sheet.value(row, col, other)?,
            }
        }
        let top = row + 1;
        for (j, v) in py.values.iter().enumerate() {
            let r = top + j as u32;
            match v {
                Value::Number(n) => sheet.number(r, 0, n.as_f64().unwrap_or(f64::NAN), input_kind(&py.pointer))?,
                other => sheet.value(r, 0, other)?,
            }
            for i in 0..nx.min(MAX_COLUMNS - 1) {
                sheet.number(r, i as u16 + 1, figure(&s.point(i, j).figures), kind)?;
            }
        }
        if nx > 0 && ny > 0 {
            let last_col = nx.min(MAX_COLUMNS - 1) as u16;
            sheet.colour_scale((top, 1), (top + ny as u32 - 1, last_col), high_is_good)?;
        }
        row = top + ny as u32 + 1;
    }
    sheet.finish(0, 1)
}

/// The sensitivity analysis's workbook.
pub fn sensitivity(s: &Sensitivity, currency: &str) -> io::Result<Workbook> {
    let styles = Styles::new(currency);
    let b = &s.base;
    let lines = [
        ("Scenario", Figure::Text(s.scenario.clone())),
        ("Trials per run", Figure::Count(s.trials)),
        ("Sampling", Figure::Text(format::sampling_cell(s.provenance.as_ref(), s.trials))),
        ("Seed", Figure::Count(s.seed)),
        ("Base mean NPV", Figure::Money(b.mean_npv)),
        ("Base standard error", Figure::Money(b.se_npv)),
        ("Base P(loss)", Figure::Percent(b.prob_npv_negative.estimate)),
    ];
    let sheets = vec![
        summary(
            &styles,
            &format!("Sensitivity: {}", s.scenario),
            &lines,
            &s.run,
            s.provenance.as_ref(),
        ),
        tornado(s, &styles),
        ranks(s, &styles),
        switching(s, &styles),
    ];
    book_of(&s.scenario, s.provenance.as_ref(), sheets)
}

/// The Tornado sheet: each input held low and high, the figures and their changes from
/// the base; a bar chart of the changes in mean NPV, widest at the top.
fn tornado(s: &Sensitivity, styles: &Styles) -> Result<Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Tornado", styles)?;
    sheet.header(
        0,
        0,
        &[
            "Input",
            "Pointer",
            "Held at",
            "Low value",
            "High value",
            "Mean NPV, low",
            "Mean NPV, high",
            "Change from base, low",
            "Change from base, high",
            "Swing in mean NPV",
            "P(loss), low",
            "P(loss), high",
            "Swing in P(loss)",
        ],
    )?;
    let base = s.base.mean_npv;
    for (i, bar) in s.tornado.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.text(row, 0, &bar.label)?;
        sheet.text(row, 1, &bar.input)?;
        sheet.text(row, 2, bar.basis.describe())?;
        sheet.number(row, 3, bar.low_value, input_kind(&bar.input))?;
        sheet.number(row, 4, bar.high_value, input_kind(&bar.input))?;
        let figures = [
            (bar.low.mean_npv, Num::Money),
            (bar.high.mean_npv, Num::Money),
            (bar.low.mean_npv - base, Num::Money),
            (bar.high.mean_npv - base, Num::Money),
            (bar.swing_mean_npv, Num::Money),
            (bar.low.prob_npv_negative.estimate, Num::Percent),
            (bar.high.prob_npv_negative.estimate, Num::Percent),
            (bar.swing_prob_loss, Num::Percent),
        ];
        for (j, (x, kind)) in figures.into_iter().enumerate() {
            sheet.number(row, 5 + j as u16, x, kind)?;
        }
    }
    let last = s.tornado.len() as u32;
    if last > 0 {
        let mut chart = Chart::new(ChartType::Bar);
        for (col, name) in [(7, "Input low (P10, or x0.5)"), (8, "Input high (P90, or x1.5)")] {
            chart
                .add_series()
                .set_name(name)
                .set_categories(("Tornado", 1, 0, last, 0))
                .set_values(("Tornado", 1, col, last, col))
                .set_overlap(100)
                .set_gap(40);
        }
        chart.title().set_name("Change in mean NPV with each input held low and high");
        chart
            .x_axis()
            .set_name(&format!(
                "Change from the base mean NPV of {} ({})",
                format::money(base, &styles.currency),
                currency_label(styles)
            ))
            .set_num_format(money_axis(styles, largest(s.tornado.iter().flat_map(|b| [b.low.mean_npv - base, b.high.mean_npv - base]))));
        bar_categories(&mut chart);
        chart.legend().set_position(ChartLegendPosition::Bottom);
        chart.set_width(760).set_height(160 + 30 * last);
        sheet.ws.insert_chart(last + 2, 0, &chart)?;
    }
    sheet.finish(1, 1)
}

/// The Rank correlation sheet: Spearman's rho of each uncertain input with the NPV.
fn ranks(s: &Sensitivity, styles: &Styles) -> Result<Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Rank correlation", styles)?;
    sheet.header(0, 0, &["Input", "Pointer", "Spearman rho with NPV"])?;
    for (i, r) in s.rank_correlation.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.text(row, 0, &r.label)?;
        sheet.text(row, 1, &r.input)?;
        if r.spearman.is_finite() {
            sheet.number(row, 2, r.spearman, Num::Decimal)?;
        } else {
            sheet.text(row, 2, "n/a (the input never varied)")?;
        }
    }
    sheet.finish(1, 1)
}

/// The Switching values sheet.
fn switching(s: &Sensitivity, styles: &Styles) -> Result<Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Switching values", styles)?;
    sheet.header(
        0,
        0,
        &[
            "Input",
            "Pointer",
            "Target",
            "Base value",
            "Searched from",
            "Searched to",
            "Range",
            "Result",
            "Switching value",
            "Runs",
        ],
    )?;
    for (i, sw) in s.switching_values.iter().enumerate() {
        let row = i as u32 + 1;
        let kind = input_kind(&sw.input);
        sheet.text(row, 0, &sw.label)?;
        sheet.text(row, 1, &sw.input)?;
        sheet.text(row, 2, &sw.target.describe())?;
        sheet.number(row, 3, sw.base_value, kind)?;
        sheet.number(row, 4, sw.searched[0], kind)?;
        sheet.number(row, 5, sw.searched[1], kind)?;
        sheet.text(row, 6, sw.range_basis)?;
        sheet.text(row, 7, sw.result)?;
        match sw.value {
            Some(x) => sheet.number(row, 8, x, kind)?,
            None => sheet.text(row, 8, "none in range")?,
        }
        sheet.number(row, 9, sw.runs as f64, Num::General)?;
    }
    sheet.finish(1, 1)
}

/// The comparison's workbook.
pub fn compare(c: &Comparison, currency: &str) -> io::Result<Workbook> {
    let styles = Styles::new(currency);
    let lines = [
        ("Scenarios", Figure::Count(c.scenarios.len() as u64)),
        ("Trials each", Figure::Count(c.trials)),
        ("Sampling", Figure::Text(format::sampling_cell(c.provenance.as_ref(), c.trials))),
        ("Seed", Figure::Count(c.seed)),
    ];
    let sheets = vec![
        summary(&styles, "Comparison", &lines, &c.run, c.provenance.as_ref()),
        comparison(c, &styles),
        compare_partners(c, &styles),
    ];
    book_of("Comparison", c.provenance.as_ref(), sheets)
}

/// The Comparison sheet: one row per scenario with its figures and its paired
/// difference from the first; a column chart of mean NPV.
fn comparison(c: &Comparison, styles: &Styles) -> Result<Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Comparison", styles)?;
    sheet.header(
        0,
        0,
        &[
            "Name",
            "Scenario",
            "Source",
            "Mean NPV",
            "Standard error",
            "P10 NPV",
            "P50 NPV",
            "P90 NPV",
            "P(loss)",
            "P(loss) 95% CI low",
            "P(loss) 95% CI high",
            "P(collapse)",
            "Mean NPV minus the first's",
            "Paired standard error",
            "Unpaired standard error",
            "P(loss) minus the first's",
            "Its paired standard error",
        ],
    )?;
    for (i, col) in c.scenarios.iter().enumerate() {
        let row = i as u32 + 1;
        let f = &col.figures;
        sheet.text(row, 0, &col.name)?;
        sheet.text(row, 1, &col.scenario)?;
        sheet.text(row, 2, &col.source)?;
        let figures = [
            (f.npv.mean, Num::Money),
            (f.npv.se, Num::Money),
            (f.npv.p10, Num::Money),
            (f.npv.p50, Num::Money),
            (f.npv.p90, Num::Money),
            (f.prob_npv_negative.estimate, Num::Percent),
            (f.prob_npv_negative.ci95[0], Num::Percent),
            (f.prob_npv_negative.ci95[1], Num::Percent),
            (f.prob_collapse, Num::Percent),
        ];
        for (j, (x, kind)) in figures.into_iter().enumerate() {
            sheet.number(row, 3 + j as u16, x, kind)?;
        }
        if let Some(d) = &col.vs_first {
            let diffs = [
                (d.mean_npv, Num::Money),
                (d.se_paired, Num::Money),
                (d.se_unpaired, Num::Money),
                (d.prob_npv_negative, Num::Percent),
                (d.prob_npv_negative_se_paired, Num::Percent),
            ];
            for (j, (x, kind)) in diffs.into_iter().enumerate() {
                sheet.number(row, 12 + j as u16, x, kind)?;
            }
        }
    }
    let last = c.scenarios.len() as u32;
    if last > 0 {
        let mut chart = Chart::new(ChartType::Column);
        chart
            .add_series()
            .set_name("Mean NPV")
            .set_categories(("Comparison", 1, 0, last, 0))
            .set_values(("Comparison", 1, 3, last, 3));
        let mut loss = Chart::new(ChartType::Line);
        loss.add_series()
            .set_name("P(loss) (right axis)")
            .set_categories(("Comparison", 1, 0, last, 0))
            .set_values(("Comparison", 1, 8, last, 8))
            .set_secondary_axis(true);
        chart.title().set_name("Scenarios compared: mean NPV and P(loss)");
        chart
            .x_axis()
            .set_name("Scenario")
            .set_label_position(ChartAxisLabelPosition::Low);
        chart
            .y_axis()
            .set_name(&format!("Mean consortium NPV ({})", currency_label(styles)))
            .set_num_format(money_axis(styles, largest(c.scenarios.iter().map(|s| s.figures.npv.mean))));
        chart.combine(&loss);
        share_axis(chart.y2_axis(), "P(consortium NPV < 0)");
        place_chart(&mut sheet.ws, last + 2, 0, &mut chart)?;
    }
    sheet.finish(1, 1)
}

/// The Partners sheet of a comparison: each partner's mean NPV and P(worse off) in each
/// scenario (empty where a scenario does not have the partner).
fn compare_partners(c: &Comparison, styles: &Styles) -> Result<Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Partners", styles)?;
    let shown = &c.scenarios[..c.scenarios.len().min((MAX_COLUMNS - 1) / 2)];
    let mut header = vec!["Partner".to_string()];
    header.extend(shown.iter().map(|s| format!("Mean NPV: {}", s.name)));
    header.extend(shown.iter().map(|s| format!("P(worse off): {}", s.name)));
    sheet.header(0, 0, &header)?;
    let n = shown.len() as u16;
    for (i, name) in c.partners.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.text(row, 0, name)?;
        for (j, col) in shown.iter().enumerate() {
            if let Some(p) = col.figures.partners.iter().find(|p| &p.name == name) {
                sheet.number(row, 1 + j as u16, p.mean_npv, Num::Money)?;
                sheet.number(row, 1 + n + j as u16, p.prob_worse_off, Num::Percent)?;
            }
        }
    }
    sheet.finish(1, 1)
}

/// The agreement analysis's workbook.
pub fn agreement(a: &Agreement, currency: &str) -> io::Result<Workbook> {
    let styles = Styles::new(currency);
    let terms: Vec<&str> = a.terms.iter().map(|t| t.pointer.as_str()).collect();
    let limit = |p: Option<f64>| p.map_or_else(|| Figure::Text("none".into()), Figure::Percent);
    let best = a
        .sets
        .iter()
        .find(|s| s.meets_limits)
        .map_or_else(|| "no set meets the limits".to_string(), |s| format!("set {}", s.set));
    let lines = [
        ("Scenario", Figure::Text(a.scenario.clone())),
        ("Terms", Figure::Text(terms.join(" × "))),
        ("Sets", Figure::Count(a.sets.len() as u64)),
        ("Trials of each set", Figure::Count(a.trials)),
        ("Sampling", Figure::Text(format::sampling_cell(a.provenance.as_ref(), a.trials))),
        ("Seed", Figure::Count(a.seed)),
        ("Limit on any partner's P(worse off)", limit(a.limits.max_worse_off)),
        ("Limit on P(collapse)", limit(a.limits.max_collapse)),
        ("Sets meeting the limits", Figure::Count(a.meeting_limits as u64)),
        ("Best set", Figure::Text(best)),
    ];
    let sheets = vec![
        summary(&styles, &format!("Agreement terms: {}", a.scenario), &lines, &a.run, a.provenance.as_ref()),
        agreement_table(a, &styles),
    ];
    book_of(&a.scenario, a.provenance.as_ref(), sheets)
}

/// Columns of the agreement table after the terms'.
const AGREEMENT_FIGURES: [&str; 8] = [
    "Meets limits",
    "On frontier",
    "Mean NPV",
    "Standard error",
    "P(loss)",
    "P(collapse)",
    "Worst partner",
    "Worst P(worse off)",
];

/// The Sets sheet: one row per set in rank order (rank, set, each term's value, the
/// limits and frontier flags, the consortium's figures, the worst partner, then each
/// partner's mean NPV and P(worse off)); below it, the trade-off as a scatter chart.
fn agreement_table(a: &Agreement, styles: &Styles) -> Result<Worksheet, XlsxError> {
    let mut sheet = Sheet::new("Sets", styles)?;
    let lead = 2 + a.terms.len();
    let partners: Vec<&str> = a
        .sets
        .first()
        .map(|s| s.figures.partners.iter().map(|q| q.name.as_str()).collect())
        .unwrap_or_default();
    let room = MAX_COLUMNS.saturating_sub(lead + AGREEMENT_FIGURES.len()) / 2;
    let shown = &partners[..partners.len().min(room)];
    let mut header: Vec<String> = vec!["Rank".into(), "Set".into()];
    header.extend(a.terms.iter().map(|t| t.pointer.clone()));
    header.extend(AGREEMENT_FIGURES.map(String::from));
    for name in shown {
        header.push(format!("Mean NPV: {name}"));
        header.push(format!("P(worse off): {name}"));
    }
    sheet.header(0, 0, &header)?;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    for (k, set) in a.sets.iter().enumerate() {
        let row = k as u32 + 1;
        sheet.number(row, 0, set.rank as f64, Num::Count)?;
        sheet.number(row, 1, set.set as f64, Num::Count)?;
        for (j, term) in a.terms.iter().enumerate() {
            let col = (2 + j) as u16;
            match &set.at[&term.pointer] {
                Value::Number(n) => {
                    sheet.number(row, col, n.as_f64().unwrap_or(f64::NAN), input_kind(&term.pointer))?
                }
                v => sheet.value(row, col, v)?,
            }
        }
        let col = lead as u16;
        sheet.text(row, col, yes_no(set.meets_limits))?;
        sheet.text(row, col + 1, yes_no(set.frontier))?;
        let f = &set.figures;
        sheet.number(row, col + 2, f.npv.mean, Num::Money)?;
        sheet.number(row, col + 3, f.npv.se, Num::Money)?;
        sheet.number(row, col + 4, f.prob_npv_negative.estimate, Num::Percent)?;
        sheet.number(row, col + 5, f.prob_collapse, Num::Percent)?;
        sheet.text(row, col + 6, &set.worst_partner)?;
        sheet.number(row, col + 7, set.worst_prob_worse_off, Num::Percent)?;
        for (i, q) in f.partners.iter().take(shown.len()).enumerate() {
            let c = (lead + AGREEMENT_FIGURES.len() + 2 * i) as u16;
            sheet.number(row, c, q.mean_npv, Num::Money)?;
            sheet.number(row, c + 1, q.prob_worse_off, Num::Percent)?;
        }
    }
    let last = a.sets.len() as u32;
    if last > 0 {
        // x: the worst partner's P(worse off); y: the consortium's mean NPV. Every set
        // is a point; the frontier's sets (no other set is better on both) are a second
        // series, listed by increasing risk below the table so that their line is a
        // contiguous range.
        let (risk, npv) = (lead as u16 + 7, lead as u16 + 2);
        let mut chart = Chart::new(ChartType::ScatterStraightWithMarkers);
        chart
            .add_series()
            .set_name("Every set")
            .set_categories(("Sets", 1, risk, last, risk))
            .set_values(("Sets", 1, npv, last, npv))
            .set_format(ChartFormat::new().set_no_line());
        let mut frontier: Vec<_> = a.sets.iter().filter(|s| s.frontier).collect();
        frontier.sort_by(|x, y| x.worst_prob_worse_off.total_cmp(&y.worst_prob_worse_off));
        let top = last + 2;
        sheet.header(top, 0, &["Frontier set", "Worst P(worse off)", "Mean NPV"])?;
        for (i, set) in frontier.iter().enumerate() {
            let row = top + 1 + i as u32;
            sheet.number(row, 0, set.set as f64, Num::Count)?;
            sheet.number(row, 1, set.worst_prob_worse_off, Num::Percent)?;
            sheet.number(row, 2, set.figures.npv.mean, Num::Money)?;
        }
        let bottom = top + frontier.len() as u32;
        if !frontier.is_empty() {
            chart
                .add_series()
                .set_name("Frontier")
                .set_categories(("Sets", top + 1, 1, bottom, 1))
                .set_values(("Sets", top + 1, 2, bottom, 2));
        }
        chart
            .title()
            .set_name("The trade-off: consortium NPV against the worst partner's risk");
        chart
            .x_axis()
            .set_name("Worst partner's P(worse off)")
            .set_num_format("0%")
            .set_label_position(ChartAxisLabelPosition::Low);
        chart
            .y_axis()
            .set_name(&format!("Mean consortium NPV ({})", currency_label(styles)))
            .set_num_format(money_axis(styles, largest(a.sets.iter().map(|s| s.figures.npv.mean))));
        place_chart(&mut sheet.ws, bottom + 2, 0, &mut chart)?;
    }
    sheet.finish(1, lead as u16)
}
