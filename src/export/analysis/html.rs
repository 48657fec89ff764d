//! HTML pages for sweeps, sensitivity, comparisons and agreement terms.
//!
//! Each page is self-contained like the `run` report (see [`crate::export::html`]): the
//! same shell and styles, charts as inline SVG from [`crate::export::charts`], every piece
//! of user text escaped, and a table under each chart with the exact figures for readers
//! who want numbers rather than bars.

use std::fmt::Write;

use super::{
    agreement_frontier, agreement_limits, agreement_transfers, agreement_verdict, input_value,
    param_value, short_name, term_label,
};
use crate::analysis::agreement::{Agreement, TermSet};
use crate::analysis::compare::{Column, Comparison};
use crate::analysis::sensitivity::Sensitivity;
use crate::analysis::sweep::Sweep;
use crate::export::charts::{
    self, Frontier, HeatMap, Line, LineChart, Metric, Swing, Tornado, Unit,
};
use crate::export::format::{self, money, percent, significant};
use crate::export::html::{PARTNERS_PER_TABLE, escape, figure, illustrative, page, provenance};
use crate::summary::{Provenance, RunInfo};

/// One table cell: its text, whether it is a number (right-aligned), and whether a
/// negative value is bad news (money lost) and so shown in the warning colour.
#[derive(Clone)]
struct Cell {
    text: String,
    number: bool,
    warn_if_negative: bool,
    /// A partner's name among figures: kept wide enough that a long name takes two or
    /// three lines, not one word to a line (which made every row of a wide table tall).
    name: bool,
}

/// A partner's name in a table of figures.
fn name(s: impl Into<String>) -> Cell {
    Cell {
        name: true,
        ..text(s)
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell {
        text: s.into(),
        number: false,
        warn_if_negative: false,
        name: false,
    }
}

/// A figure where negative means money lost.
fn num(s: impl Into<String>) -> Cell {
    Cell {
        text: s.into(),
        number: true,
        warn_if_negative: true,
        name: false,
    }
}

/// A figure whose sign is neither good nor bad in itself (a change in P(loss)).
fn signed(s: impl Into<String>) -> Cell {
    Cell {
        warn_if_negative: false,
        ..num(s)
    }
}

/// A table with a header row; every cell escaped here. The first column is a row header.
fn table(header: &[String], rows: &[Vec<Cell>]) -> String {
    let mut t = String::from("<div class=\"table-wrap\"><table>\n<thead><tr>");
    for (i, h) in header.iter().enumerate() {
        let class = if i > 0
            && rows
                .first()
                .is_some_and(|r| r.get(i).is_some_and(|c| c.number))
        {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(t, "<th{class}>{}</th>", escape(h));
    }
    t.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        t.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let tag = if i == 0 { "th" } else { "td" };
            let negative = c.warn_if_negative && c.text.starts_with('-') && c.text.len() > 1;
            let class = match (c.number, negative, c.name) {
                (true, true, _) => " class=\"num neg\"",
                (true, false, _) => " class=\"num\"",
                (false, _, true) => " class=\"name\"",
                _ => "",
            };
            let _ = write!(t, "<{tag}{class}>{}</{tag}>", escape(&c.text));
        }
        t.push_str("</tr>\n");
    }
    t.push_str("</tbody></table></div>\n");
    t
}

/// A table of `lead` leading columns and many more, as several tables of at most `per`
/// further columns each, every one repeating the leading columns: a page then never
/// needs a scroll bar, which a printed page would cut off (the sweep's partners, the
/// scenarios of a comparison).
fn tables(header: &[String], rows: &[Vec<Cell>], lead: usize, per: usize) -> String {
    let end = header.len();
    (lead..end)
        .step_by(per)
        .map(|start| {
            let cols: Vec<usize> = (0..lead).chain(start..(start + per).min(end)).collect();
            let h: Vec<String> = cols.iter().map(|&i| header[i].clone()).collect();
            let r: Vec<Vec<Cell>> = rows
                .iter()
                .map(|row| cols.iter().map(|&i| row[i].clone()).collect())
                .collect();
            table(&h, &r)
        })
        .collect()
}

fn header(title: &str, meta: &str) -> String {
    format!(
        "<header>\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n</header>\n",
        escape(title),
        escape(meta)
    )
}

const CRN_NOTE: &str = "<section class=\"howto\">\n<h3>How to read this page</h3>\n\
<p>Every run on this page uses the same seed and number of trials (common random numbers): \
trial k of one run draws the same random numbers as trial k of every other, wherever their \
inputs agree. Differences between runs are therefore the effect of the inputs that differ, \
not sampling noise. <strong>NPV</strong> is the discounted saving against every partner \
running the service alone; <strong>P(loss)</strong> is the share of futures in which the \
consortium as a whole loses money.</p>\n</section>\n";

fn footer(run: &RunInfo, p: Option<&Provenance>) -> String {
    format!(
        "<footer>\n{}<p>The figures come from Monte Carlo simulations and are only as good \
         as the scenario's inputs.</p>\n{}<p>Generated by consortium-sim {} ({} threads, \
         {:.2} s). The same scenario, seed and number of trials give the same \
         figures.</p>\n</footer>",
        illustrative(p),
        provenance(p),
        escape(&run.engine_version),
        run.threads,
        run.elapsed_seconds
    )
}

/// The unit a parameter's values are in, for chart axes.
fn unit_of<'a>(pointer: &str, currency: &'a str) -> Unit<'a> {
    if super::is_money_field(pointer) {
        Unit::Money(currency)
    } else {
        Unit::Number
    }
}

/// The sweep page: line charts for one numeric parameter, bars for one parameter of
/// text or distributions, heat maps for two parameters; then the table of every point.
pub fn sweep(s: &Sweep, currency: &str) -> String {
    let pointers: Vec<&str> = s.parameters.iter().map(|p| p.pointer.as_str()).collect();
    let mut body = header(
        &s.scenario,
        &format!(
            "Sweep of {} · {} · {} each · seed {}{}",
            pointers.join(" × "),
            format::count(s.points.len() as u64, "point"),
            format::count(s.trials, "trial"),
            s.seed,
            format::sampling_note(s.provenance.as_ref(), s.trials)
        ),
    );
    body.push_str(CRN_NOTE);
    body.push_str("<section>\n<h2>Results</h2>\n");
    match s.parameters.as_slice() {
        [p] if p.values.iter().all(|v| v.as_f64().is_some()) => {
            body.push_str(&sweep_lines(s, currency))
        }
        [_] => body.push_str(&sweep_bars(s, currency)),
        _ => body.push_str(&sweep_heat_maps(s, currency)),
    }
    body.push_str(&sweep_table(s, currency));
    body.push_str("</section>\n");
    body.push_str(&footer(&s.run, s.provenance.as_ref()));
    page(&format!("{} — sweep", s.scenario), &body)
}

fn sweep_lines(s: &Sweep, currency: &str) -> String {
    let pointer = &s.parameters[0].pointer;
    let x: Vec<f64> = s.parameters[0]
        .values
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    let name = short_name(pointer);
    let mean: Vec<f64> = s.points.iter().map(|p| p.figures.npv.mean).collect();
    let se: Vec<f64> = s.points.iter().map(|p| p.figures.npv.se).collect();
    let n = s.trials as f64;
    let loss: Vec<f64> = s
        .points
        .iter()
        .map(|p| p.figures.prob_npv_negative.estimate)
        .collect();
    let loss_se: Vec<f64> = loss.iter().map(|p| (p * (1.0 - p) / n).sqrt()).collect();
    let x_unit = unit_of(pointer, currency);
    let mut out = figure(
        "sweep-mean-npv",
        &charts::line_chart(&LineChart {
            title: &format!("Mean consortium NPV against {name}"),
            x_label: &name,
            x_unit,
            y_label: "Mean NPV",
            y_unit: Unit::Money(currency),
            x: &x,
            lines: &[Line {
                name: "Mean NPV",
                y: &mean,
                se: &se,
            }],
        }),
        "Mean NPV at each value, with a band of two standard errors either side.",
    );
    out.push_str(&figure(
        "sweep-prob-loss",
        &charts::line_chart(&LineChart {
            title: &format!("P(loss) against {name}"),
            x_label: &name,
            x_unit,
            y_label: "P(loss)",
            y_unit: Unit::Percent,
            x: &x,
            lines: &[Line {
                name: "P(consortium NPV < 0)",
                y: &loss,
                se: &loss_se,
            }],
        }),
        "Probability that the consortium as a whole loses money, with a band of two \
         binomial standard errors.",
    ));
    let partners: Vec<(String, Vec<f64>)> = partner_series(s);
    if !partners.is_empty() {
        let lines: Vec<Line> = partners
            .iter()
            .map(|(name, y)| Line { name, y, se: &[] })
            .collect();
        out.push_str(&figure(
            "sweep-partners",
            &charts::line_chart(&LineChart {
                title: &format!("P(partner worse off) against {name}"),
                x_label: &name,
                x_unit,
                y_label: "P(worse off)",
                y_unit: Unit::Percent,
                x: &x,
                lines: &lines,
            }),
            "Probability that each partner ends worse off than running the service alone.",
        ));
    }
    out
}

/// Each partner's P(worse off) at every point (partners of the first point).
fn partner_series(s: &Sweep) -> Vec<(String, Vec<f64>)> {
    let Some(first) = s.points.first() else {
        return Vec::new();
    };
    first
        .figures
        .partners
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let y = s
                .points
                .iter()
                .map(|q| {
                    q.figures
                        .partners
                        .get(i)
                        .map_or(f64::NAN, |r| r.prob_worse_off)
                })
                .collect();
            (p.name.clone(), y)
        })
        .collect()
}

fn sweep_bars(s: &Sweep, currency: &str) -> String {
    let pointer = &s.parameters[0].pointer;
    let names: Vec<String> = s.parameters[0]
        .values
        .iter()
        .map(|v| param_value(pointer, v, currency))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mean: Vec<f64> = s.points.iter().map(|p| p.figures.npv.mean).collect();
    let loss: Vec<f64> = s
        .points
        .iter()
        .map(|p| p.figures.prob_npv_negative.estimate)
        .collect();
    let collapse: Vec<f64> = s.points.iter().map(|p| p.figures.prob_collapse).collect();
    figure(
        "sweep-values",
        &charts::comparison(
            &format!("Results by {}", short_name(pointer)),
            &names,
            &[
                Metric {
                    name: "Mean NPV",
                    unit: Unit::Money(currency),
                    values: &mean,
                },
                Metric {
                    name: "P(loss)",
                    unit: Unit::Percent,
                    values: &loss,
                },
                Metric {
                    name: "P(collapse)",
                    unit: Unit::Percent,
                    values: &collapse,
                },
            ],
        ),
        "Mean NPV, P(loss) and P(collapse) at each value.",
    )
}

fn sweep_heat_maps(s: &Sweep, currency: &str) -> String {
    let (px, py) = (&s.parameters[0], &s.parameters[1]);
    let columns: Vec<String> = px
        .values
        .iter()
        .map(|v| param_value(&px.pointer, v, currency))
        .collect();
    let rows: Vec<String> = py
        .values
        .iter()
        .map(|v| param_value(&py.pointer, v, currency))
        .collect();
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    // Row-major with the second parameter up the rows: cell (r, c) is point (c, r).
    let grid = |f: &dyn Fn(&crate::analysis::crn::Figures) -> f64| -> Vec<f64> {
        (0..rows.len())
            .flat_map(|r| (0..columns.len()).map(move |c| (r, c)))
            .map(|(r, c)| f(&s.point(c, r).figures))
            .collect()
    };
    let loss = grid(&|f| f.prob_npv_negative.estimate);
    let mean = grid(&|f| f.npv.mean);
    let (xl, yl) = (short_name(&px.pointer), short_name(&py.pointer));
    let mut out = figure(
        "sweep-prob-loss",
        &charts::heat_map(&HeatMap {
            title: &format!("P(loss) by {xl} and {yl}"),
            x_label: &xl,
            y_label: &yl,
            columns: &columns,
            rows: &rows,
            values: &loss,
            value_label: "P(consortium NPV < 0)",
            unit: Unit::Percent,
        }),
        &format!(
            "Probability that the consortium loses money for each pair of values of {} \
             (across) and {} (up).",
            px.pointer, py.pointer
        ),
    );
    out.push_str(&figure(
        "sweep-mean-npv",
        &charts::heat_map(&HeatMap {
            title: &format!("Mean NPV by {xl} and {yl}"),
            x_label: &xl,
            y_label: &yl,
            columns: &columns,
            rows: &rows,
            values: &mean,
            value_label: "Mean consortium NPV",
            unit: Unit::Money(currency),
        }),
        "Mean consortium NPV for each pair of values.",
    ));
    out
}

fn sweep_table(s: &Sweep, currency: &str) -> String {
    let m = |x: f64| money(x, currency);
    let mut header: Vec<String> = s.parameters.iter().map(|p| p.pointer.clone()).collect();
    header.extend(
        [
            "Mean NPV",
            "Standard error",
            "P(loss)",
            "95% CI",
            "P(collapse)",
            "P10 NPV",
            "P50 NPV",
            "P90 NPV",
        ]
        .map(String::from),
    );
    let partners: Vec<String> = s
        .points
        .first()
        .map(|p| p.figures.partners.iter().map(|q| q.name.clone()).collect())
        .unwrap_or_default();
    header.extend(partners.iter().map(|n| format!("P(worse off): {n}")));
    let rows: Vec<Vec<Cell>> = s
        .points
        .iter()
        .enumerate()
        .map(|(k, point)| {
            let f = &point.figures;
            let mut row: Vec<Cell> = s
                .parameters
                .iter()
                .enumerate()
                .map(|(p, param)| text(param_value(&param.pointer, s.value(k, p), currency)))
                .collect();
            let ci = f.prob_npv_negative.ci95;
            row.extend([
                num(m(f.npv.mean)),
                num(m(f.npv.se)),
                num(percent(f.prob_npv_negative.estimate)),
                num(format!("{} to {}", percent(ci[0]), percent(ci[1]))),
                num(percent(f.prob_collapse)),
                num(m(f.npv.p10)),
                num(m(f.npv.p50)),
                num(m(f.npv.p90)),
            ]);
            row.extend(f.partners.iter().map(|p| num(percent(p.prob_worse_off))));
            row
        })
        .collect();
    // The consortium's figures, then the partners' P(worse off) a few at a time.
    let lead = s.parameters.len();
    let consortium = header.len() - partners.len();
    let first: Vec<Vec<Cell>> = rows.iter().map(|r| r[..consortium].to_vec()).collect();
    let mut out = table(&header[..consortium], &first);
    if !partners.is_empty() {
        // The parameters' columns, then the partners'.
        fn keep<T: Clone>(v: &[T], lead: usize, from: usize) -> Vec<T> {
            v[..lead].iter().chain(&v[from..]).cloned().collect()
        }
        let r: Vec<Vec<Cell>> = rows.iter().map(|r| keep(r, lead, consortium)).collect();
        let h = keep(&header, lead, consortium);
        out.push_str(&tables(&h, &r, lead, PARTNERS_PER_TABLE));
    }
    out
}

/// The agreement page: the verdict, the frontier chart, what fees do, the ranked sets,
/// then each partner's mean NPV and P(worse off) in each set.
pub fn agreement(a: &Agreement, currency: &str) -> String {
    let m = |x: f64| money(x, currency);
    let labels: Vec<String> = a.terms.iter().map(term_label).collect();
    let mut body = header(
        &a.scenario,
        &format!(
            "Agreement terms: {} · {} · {} each · seed {}{}",
            labels.join(" × "),
            format::count(a.sets.len() as u64, "set"),
            format::count(a.trials, "trial"),
            a.seed,
            format::sampling_note(a.provenance.as_ref(), a.trials)
        ),
    );
    body.push_str(CRN_NOTE);
    let _ = write!(
        body,
        "<section>\n<h2>Which terms keep every partner within the limits</h2>\n<p>{}.</p>\n\
         <p><strong>{}</strong></p>\n",
        escape(&agreement_limits(a)),
        escape(&agreement_verdict(a, currency))
    );
    if let Some(note) = agreement_transfers(a) {
        let _ = writeln!(body, "<p>{}</p>", escape(&note));
    }
    let worst: Vec<f64> = a.sets.iter().map(|s| s.worst_prob_worse_off).collect();
    let mean: Vec<f64> = a.sets.iter().map(|s| s.figures.npv.mean).collect();
    let numbers: Vec<String> = a.sets.iter().map(|s| format!("set {}", s.set)).collect();
    let meets: Vec<bool> = a.sets.iter().map(|s| s.meets_limits).collect();
    let on: Vec<bool> = a.sets.iter().map(|s| s.frontier).collect();
    body.push_str(&figure(
        "agreement-frontier",
        &charts::frontier(&Frontier {
            title: "Consortium mean NPV against the worst partner's P(worse off)",
            worst: &worst,
            mean_npv: &mean,
            labels: &numbers,
            meets: &meets,
            on_frontier: &on,
            limit: a.limits.max_worse_off,
            currency,
        }),
        &agreement_frontier(a),
    ));
    let mut head: Vec<String> = vec!["Rank".into(), "Set".into()];
    head.extend(labels.iter().cloned());
    let lead = |s: &TermSet| -> Vec<Cell> {
        let mut row = vec![text(s.rank.to_string()), num(s.set.to_string())];
        row.extend(
            a.terms
                .iter()
                .map(|t| text(param_value(&t.pointer, &s.at[&t.pointer], currency))),
        );
        row
    };
    let mut main = head.clone();
    main.extend(
        [
            "Mean NPV",
            "P(loss)",
            "P(collapse)",
            "Worst P(worse off)",
            "Worst partner",
            "Limits",
            "Frontier",
        ]
        .map(String::from),
    );
    let rows: Vec<Vec<Cell>> = a
        .sets
        .iter()
        .map(|s| {
            let mut row = lead(s);
            row.extend([
                num(m(s.figures.npv.mean)),
                num(percent(s.figures.prob_npv_negative.estimate)),
                num(percent(s.figures.prob_collapse)),
                num(percent(s.worst_prob_worse_off)),
                name(s.worst_partner.clone()),
                text(match (a.limits.any(), s.meets_limits) {
                    (false, _) => "-",
                    (true, true) => "met",
                    (true, false) => "not met",
                }),
                text(if s.frontier { "yes" } else { "" }),
            ]);
            row
        })
        .collect();
    body.push_str("<h3>Every set, ranked</h3>\n");
    body.push_str(&table(&main, &rows));
    body.push_str("</section>\n");
    let partners: Vec<String> = a
        .sets
        .first()
        .map(|s| s.figures.partners.iter().map(|q| q.name.clone()).collect())
        .unwrap_or_default();
    if !partners.is_empty() {
        type Cellf = fn(&crate::analysis::crn::PartnerFigures, &str) -> Cell;
        let cells: [(&str, &str, Cellf); 2] = [
            ("Each partner's mean NPV", "Mean NPV", |q, c| {
                num(money(q.mean_npv, c))
            }),
            (
                "Each partner's chance of ending worse off than going alone",
                "P(worse off)",
                |q, _| num(percent(q.prob_worse_off)),
            ),
        ];
        body.push_str(
            "<section>\n<h2>What each set does to each partner</h2>\n<p>Sets in rank \
             order, each named by its number and its terms.</p>\n",
        );
        for (title, what, cell) in cells {
            let _ = writeln!(body, "<h3>{}</h3>", escape(title));
            // One leading column that names the set by its terms: the tables then keep
            // their width for the partners, six to a table.
            let mut h = vec!["Set".to_string()];
            h.extend(partners.iter().map(|n| format!("{what}: {n}")));
            let rows: Vec<Vec<Cell>> = a
                .sets
                .iter()
                .map(|s| {
                    let mut row = vec![text(format!(
                        "{}: {}",
                        s.set,
                        super::set_terms(a, s, currency)
                    ))];
                    row.extend(s.figures.partners.iter().map(|q| cell(q, currency)));
                    row
                })
                .collect();
            body.push_str(&tables(&h, &rows, 1, PARTNERS_PER_TABLE));
        }
        body.push_str("</section>\n");
    }
    body.push_str(&footer(&a.run, a.provenance.as_ref()));
    page(&format!("{} — agreement terms", a.scenario), &body)
}

/// The sensitivity page: tornado charts, then tables of the tornado, the rank
/// correlations and the switching values.
pub fn sensitivity(s: &Sensitivity, currency: &str) -> String {
    let m = |x: f64| money(x, currency);
    let b = &s.base;
    let mut body = header(
        &s.scenario,
        &format!(
            "Sensitivity analysis · {} per run · seed {}{} · base mean NPV {} \
             (standard error {}), P(loss) {}",
            format::count(s.trials, "trial"),
            s.seed,
            format::sampling_note(s.provenance.as_ref(), s.trials),
            m(b.mean_npv),
            m(b.se_npv),
            percent(b.prob_npv_negative.estimate)
        ),
    );
    body.push_str(CRN_NOTE);
    body.push_str("<section>\n<h2>Which inputs matter most</h2>\n");
    // The basis (P10 / P90 or x0.5 / x1.5) is in the table: in the chart it would cut
    // long partner names short.
    let names: Vec<String> = s.tornado.iter().map(|bar| bar.label.clone()).collect();
    let swings = |f: &dyn Fn(&crate::analysis::crn::Headline) -> f64| -> Vec<Swing> {
        s.tornado
            .iter()
            .zip(&names)
            .map(|(bar, name)| Swing {
                name,
                low: f(&bar.low),
                high: f(&bar.high),
            })
            .collect()
    };
    let npv_swings = swings(&|h| h.mean_npv);
    let loss_swings = swings(&|h| h.prob_npv_negative.estimate);
    if !s.tornado.is_empty() {
        body.push_str(&figure(
            "tornado-mean-npv",
            &charts::tornado(&Tornado {
                title: "Mean NPV with each input held low and high",
                base: b.mean_npv,
                value_label: "Mean consortium NPV",
                unit: Unit::Money(currency),
                low_label: "Input low (P10, or x0.5)",
                high_label: "Input high (P90, or x1.5)",
                swings: &npv_swings,
            }),
            "Each uncertain input held at its own 10th and then 90th percentile (plain \
             probabilities at half and one and a half times their value) while every other \
             input varies. The widest bars are the assumptions the case depends on most.",
        ));
        body.push_str(&figure(
            "tornado-prob-loss",
            &charts::tornado(&Tornado {
                title: "P(loss) with each input held low and high",
                base: b.prob_npv_negative.estimate,
                value_label: "P(consortium NPV < 0)",
                unit: Unit::Percent,
                low_label: "Input low (P10, or x0.5)",
                high_label: "Input high (P90, or x1.5)",
                swings: &loss_swings,
            }),
            "The same runs, read as the probability that the consortium loses money.",
        ));
    }
    let header_row: Vec<String> = [
        "Input",
        "Held at",
        "Low value",
        "High value",
        "Mean NPV, low",
        "Mean NPV, high",
        "Swing",
        "P(loss), low",
        "P(loss), high",
        "Swing",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<Cell>> = s
        .tornado
        .iter()
        .map(|bar| {
            vec![
                text(bar.label.clone()),
                text(bar.basis.describe()),
                num(input_value(&bar.input, bar.low_value, currency)),
                num(input_value(&bar.input, bar.high_value, currency)),
                num(m(bar.low.mean_npv)),
                num(m(bar.high.mean_npv)),
                num(m(bar.swing_mean_npv)),
                num(percent(bar.low.prob_npv_negative.estimate)),
                num(percent(bar.high.prob_npv_negative.estimate)),
                num(percent(bar.swing_prob_loss)),
            ]
        })
        .collect();
    body.push_str(&table(&header_row, &rows));
    body.push_str("</section>\n");

    if !s.rank_correlation.is_empty() {
        body.push_str(
            "<section>\n<h2>Which uncertainty drives the spread</h2>\n<p>Spearman rank \
             correlation between each uncertain input's sampled value and the consortium NPV \
             across the trials of the base run: near +1 or -1, the input largely decides \
             where in the range a future falls; near 0, it hardly matters.</p>\n",
        );
        let rows: Vec<Vec<Cell>> = s
            .rank_correlation
            .iter()
            .map(|r| {
                let rho = if r.spearman.is_finite() {
                    format!("{:+.3}", r.spearman)
                } else {
                    "n/a".into()
                };
                vec![text(r.label.clone()), num(rho)]
            })
            .collect();
        body.push_str(&table(&["Input".into(), "Spearman rho".into()], &rows));
        body.push_str("</section>\n");
    }

    if !s.switching_values.is_empty() {
        body.push_str(
            "<section>\n<h2>Switching values</h2>\n<p>The value of an input, held in every \
             trial, at which the mean NPV falls to zero (or P(loss) reaches the threshold \
             asked for): how far an assumption can move before the case no longer stands \
             (HM Treasury Green Book).</p>\n",
        );
        let rows: Vec<Vec<Cell>> = s
            .switching_values
            .iter()
            .map(|sw| {
                let v = |x: f64| input_value(&sw.input, x, currency);
                let value = match sw.value {
                    Some(x) if super::is_money_field(&sw.input) => v(x),
                    Some(x) => significant(x, 6),
                    None => format!("no crossing in range: {}", super::no_crossing(sw, v)),
                };
                vec![
                    text(sw.label.clone()),
                    text(sw.target.describe()),
                    num(v(sw.base_value)),
                    num(format!(
                        "{} to {} ({})",
                        v(sw.searched[0]),
                        v(sw.searched[1]),
                        sw.range_basis
                    )),
                    num(value),
                ]
            })
            .collect();
        body.push_str(&table(
            &[
                "Input",
                "Target",
                "Base value",
                "Range searched",
                "Switching value",
            ]
            .map(String::from),
            &rows,
        ));
        body.push_str("</section>\n");
    }
    body.push_str(&footer(&s.run, s.provenance.as_ref()));
    page(&format!("{} — sensitivity", s.scenario), &body)
}

/// The comparison page: bars per scenario, then the table with paired differences.
pub fn compare(c: &Comparison, currency: &str) -> String {
    let m = |x: f64| money(x, currency);
    let mut body = header(
        "Comparison",
        &format!(
            "{} scenarios · {} each · seed {}{}",
            c.scenarios.len(),
            format::count(c.trials, "trial"),
            c.seed,
            format::sampling_note(c.provenance.as_ref(), c.trials)
        ),
    );
    body.push_str("<ul>\n");
    for col in &c.scenarios {
        let _ = writeln!(
            body,
            "<li><strong>{}</strong>: {} <span class=\"meta\">({})</span></li>",
            escape(&col.name),
            escape(&col.scenario),
            escape(&col.source)
        );
    }
    body.push_str("</ul>\n");
    body.push_str(CRN_NOTE);
    let names: Vec<&str> = c.scenarios.iter().map(|s| s.name.as_str()).collect();
    let values = |f: &dyn Fn(&Column) -> f64| -> Vec<f64> { c.scenarios.iter().map(f).collect() };
    let mean = values(&|s| s.figures.npv.mean);
    let loss = values(&|s| s.figures.prob_npv_negative.estimate);
    let collapse = values(&|s| s.figures.prob_collapse);
    let diff = values(&|s| s.vs_first.map_or(0.0, |d| d.mean_npv));
    body.push_str("<section>\n<h2>Side by side</h2>\n");
    body.push_str(&figure(
        "comparison",
        &charts::comparison(
            "Scenarios compared",
            &names,
            &[
                Metric {
                    name: "Mean NPV",
                    unit: Unit::Money(currency),
                    values: &mean,
                },
                Metric {
                    name: "Difference in mean NPV from the first",
                    unit: Unit::Money(currency),
                    values: &diff,
                },
                Metric {
                    name: "P(loss)",
                    unit: Unit::Percent,
                    values: &loss,
                },
                Metric {
                    name: "P(collapse)",
                    unit: Unit::Percent,
                    values: &collapse,
                },
            ],
        ),
        "Each scenario's headline figures. The difference from the first is the mean of \
         the trial-by-trial differences; its paired standard error is in the table.",
    ));
    let mut header_row = vec![String::new()];
    header_row.extend(c.scenarios.iter().map(|s| s.name.clone()));
    let row = |label: &str, f: &dyn Fn(&Column) -> String| -> Vec<Cell> {
        let mut r = vec![text(label)];
        r.extend(c.scenarios.iter().map(|s| num(f(s))));
        r
    };
    // Changes in P(loss) read "+2.0 pts" or "-21.7 pts": neither sign is a loss of money.
    let points = |label: &str, f: &dyn Fn(&Column) -> String| -> Vec<Cell> {
        let mut r = vec![text(label)];
        r.extend(c.scenarios.iter().map(|s| signed(f(s))));
        r
    };
    let dash = || "-".to_string();
    let mut rows = vec![
        row("Mean NPV", &|s| m(s.figures.npv.mean)),
        row("Standard error", &|s| m(s.figures.npv.se)),
        row("P10 NPV", &|s| m(s.figures.npv.p10)),
        row("P50 NPV", &|s| m(s.figures.npv.p50)),
        row("P90 NPV", &|s| m(s.figures.npv.p90)),
        row("P(loss)", &|s| {
            percent(s.figures.prob_npv_negative.estimate)
        }),
        row("P(loss) 95% CI", &|s| {
            let ci = s.figures.prob_npv_negative.ci95;
            format!("{} to {}", percent(ci[0]), percent(ci[1]))
        }),
        row("P(collapse)", &|s| percent(s.figures.prob_collapse)),
        row("Difference in mean NPV from the first", &|s| {
            s.vs_first.map_or_else(dash, |d| m(d.mean_npv))
        }),
        row("Paired standard error", &|s| {
            s.vs_first.map_or_else(dash, |d| m(d.se_paired))
        }),
        row("Unpaired standard error (for reference)", &|s| {
            s.vs_first.map_or_else(dash, |d| m(d.se_unpaired))
        }),
        points("Difference in P(loss) from the first", &|s| {
            s.vs_first
                .map_or_else(dash, |d| format!("{:+.1} pts", 100.0 * d.prob_npv_negative))
        }),
        points("Paired standard error of the difference in P(loss)", &|s| {
            s.vs_first.map_or_else(dash, |d| {
                format!("{:.1} pts", 100.0 * d.prob_npv_negative_se_paired)
            })
        }),
    ];
    for name in &c.partners {
        let partner = |s: &Column| s.figures.partners.iter().find(|p| &p.name == name).cloned();
        rows.push(row(&format!("{name}: mean NPV"), &|s| {
            partner(s).map_or(String::new(), |p| m(p.mean_npv))
        }));
        rows.push(row(&format!("{name}: P(worse off)"), &|s| {
            partner(s).map_or(String::new(), |p| percent(p.prob_worse_off))
        }));
    }
    body.push_str(&tables(&header_row, &rows, 1, PARTNERS_PER_TABLE - 1));
    body.push_str("</section>\n");
    body.push_str(&footer(&c.run, c.provenance.as_ref()));
    page("Comparison — consortium-sim", &body)
}
