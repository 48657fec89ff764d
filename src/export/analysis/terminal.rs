//! Terminal tables for sweeps, sensitivity, comparisons and agreement terms.
//!
//! Plain aligned columns that survive being pasted into an email: money with thousands
//! separators and the scenario's currency, probabilities as percentages. Partner names
//! can be long, so tables with a column per partner number the partners and print the
//! key under the table.

use std::fmt::Write;

use super::{
    agreement_frontier, agreement_limits, agreement_transfers, agreement_verdict, input_value,
    param_value, short_name, term_label,
};
use crate::analysis::agreement::Agreement;
use crate::analysis::compare::{Column, Comparison, Difference};
use crate::analysis::crn::Figures;
use crate::analysis::sensitivity::Sensitivity;
use crate::analysis::sweep::Sweep;
use crate::export::format::{self, money, percent, significant, thousands};

/// Rows of cells, the first row the header; numbers right-aligned.
struct Table {
    rows: Vec<Vec<String>>,
    /// Whether each column is right-aligned.
    right: Vec<bool>,
}

impl Table {
    fn new(header: Vec<String>, right: Vec<bool>) -> Table {
        Table {
            rows: vec![header],
            right,
        }
    }

    fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// The table indented by two spaces, columns two spaces apart.
    fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let width: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| format::columns(s))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::from(" ");
            for (c, cell) in row.iter().enumerate() {
                let w = width[c];
                if self.right.get(c).copied().unwrap_or(false) {
                    let _ = write!(line, " {}", format::right(cell, w));
                } else {
                    let _ = write!(line, " {}", format::left(cell, w));
                }
                line.push(' ');
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// "13.4% (12.9% to 14.0%)": P(loss) with its Wilson interval.
fn loss_with_ci(f: &Figures) -> String {
    let p = &f.prob_npv_negative;
    format!(
        "{} ({} to {})",
        percent(p.estimate),
        percent(p.ci95[0]),
        percent(p.ci95[1])
    )
}

/// The sweep table, then each partner's P(worse off) at each point.
pub fn sweep(s: &Sweep, currency: &str) -> String {
    let m = |x: f64| money(x, currency);
    let mut out = String::new();
    let pointers: Vec<&str> = s.parameters.iter().map(|p| p.pointer.as_str()).collect();
    let _ = writeln!(
        out,
        "{}\nSweep of {}: {} of {} each, seed {}{} (common random numbers)\n",
        s.scenario,
        pointers.join(" x "),
        format::count(s.points.len() as u64, "point"),
        format::count(s.trials, "trial"),
        s.seed,
        format::sampling_note(s.provenance.as_ref(), s.trials)
    );
    let names: Vec<String> = pointers.iter().map(|p| short_name(p)).collect();
    let mut header = names.clone();
    header.extend(
        [
            "mean NPV",
            "(se)",
            "P(loss) (95% CI)",
            "P(collapse)",
            "P10 NPV",
            "P50 NPV",
            "P90 NPV",
        ]
        .map(String::from),
    );
    let mut right = vec![true; names.len()];
    right.extend([true, true, false, true, true, true, true]);
    let mut t = Table::new(header, right);
    for (k, point) in s.points.iter().enumerate() {
        let f = &point.figures;
        let mut row: Vec<String> = (0..pointers.len())
            .map(|p| param_value(pointers[p], s.value(k, p), currency))
            .collect();
        row.extend([
            m(f.npv.mean),
            format!("({})", m(f.npv.se)),
            loss_with_ci(f),
            percent(f.prob_collapse),
            m(f.npv.p10),
            m(f.npv.p50),
            m(f.npv.p90),
        ]);
        t.push(row);
    }
    out.push_str(&t.render());

    let partners: Vec<&str> = s
        .points
        .first()
        .map(|p| p.figures.partners.iter().map(|q| q.name.as_str()).collect())
        .unwrap_or_default();
    if !partners.is_empty() {
        let _ = writeln!(out, "\nP(partner ends worse off than going alone)\n");
        let mut header = names.clone();
        header.extend((1..=partners.len()).map(|i| format!("#{i}")));
        let mut t = Table::new(header, vec![true; names.len() + partners.len()]);
        for (k, point) in s.points.iter().enumerate() {
            let mut row: Vec<String> = (0..pointers.len())
                .map(|p| param_value(pointers[p], s.value(k, p), currency))
                .collect();
            row.extend(
                point
                    .figures
                    .partners
                    .iter()
                    .map(|q| percent(q.prob_worse_off)),
            );
            t.push(row);
        }
        out.push_str(&t.render());
        for (i, name) in partners.iter().enumerate() {
            let _ = writeln!(out, "  #{} {name}", i + 1);
        }
    }
    let _ = writeln!(out, "\n{}", timing(&s.run));
    out
}

/// The ranked sets of terms, each partner's mean NPV and P(worse off) in each, the
/// frontier, the verdict and, when fees are among the terms, what fees do.
pub fn agreement(a: &Agreement, currency: &str) -> String {
    let m = |x: f64| money(x, currency);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}\nAgreement terms: {} of {} each, seed {}{} (common random numbers)\n{}\n",
        a.scenario,
        format::count(a.sets.len() as u64, "set"),
        format::count(a.trials, "trial"),
        a.seed,
        format::sampling_note(a.provenance.as_ref(), a.trials),
        agreement_limits(a)
    );
    let labels: Vec<String> = a.terms.iter().map(term_label).collect();
    let lead = |s: &crate::analysis::agreement::TermSet| -> Vec<String> {
        let mut row = vec![s.rank.to_string(), s.set.to_string()];
        row.extend(
            a.terms
                .iter()
                .map(|t| param_value(&t.pointer, &s.at[&t.pointer], currency)),
        );
        row
    };
    let mut header: Vec<String> = vec!["rank".into(), "set".into()];
    header.extend(labels.iter().cloned());
    let lead_right = vec![true; header.len()];
    let partners: Vec<&str> = a
        .sets
        .first()
        .map(|s| s.figures.partners.iter().map(|q| q.name.as_str()).collect())
        .unwrap_or_default();
    let number = |name: &str| {
        partners
            .iter()
            .position(|p| *p == name)
            .map_or(String::new(), |i| format!("#{}", i + 1))
    };
    let mut main = header.clone();
    main.extend(
        [
            "mean NPV",
            "P(collapse)",
            "worst P(worse off)",
            "partner",
            "limits",
            "frontier",
        ]
        .map(String::from),
    );
    let mut right = lead_right.clone();
    right.extend([true, true, true, false, false, false]);
    let mut t = Table::new(main, right);
    for s in &a.sets {
        let mut row = lead(s);
        row.extend([
            m(s.figures.npv.mean),
            percent(s.figures.prob_collapse),
            percent(s.worst_prob_worse_off),
            number(&s.worst_partner),
            match (a.limits.any(), s.meets_limits) {
                (false, _) => "-".into(),
                (true, true) => "met".into(),
                (true, false) => "not met".into(),
            },
            if s.frontier {
                "yes".into()
            } else {
                String::new()
            },
        ]);
        t.push(row);
    }
    out.push_str(&t.render());
    if !partners.is_empty() {
        for (title, cell) in [
            (
                "Each partner's mean NPV",
                &(|q: &crate::analysis::crn::PartnerFigures| m(q.mean_npv))
                    as &dyn Fn(&crate::analysis::crn::PartnerFigures) -> String,
            ),
            ("Each partner's P(worse off than going alone)", &|q| {
                percent(q.prob_worse_off)
            }),
        ] {
            let _ = writeln!(out, "\n{title}\n");
            let mut h = header.clone();
            h.extend((1..=partners.len()).map(|i| format!("#{i}")));
            let mut t = Table::new(h, vec![true; header.len() + partners.len()]);
            for s in &a.sets {
                let mut row = lead(s);
                row.extend(s.figures.partners.iter().map(cell));
                t.push(row);
            }
            out.push_str(&t.render());
        }
        for (i, name) in partners.iter().enumerate() {
            let _ = writeln!(out, "  #{} {name}", i + 1);
        }
    }
    out.push('\n');
    let notes = [
        Some(agreement_verdict(a, currency)),
        Some(agreement_frontier(a)),
    ];
    for note in notes.into_iter().chain([agreement_transfers(a)]).flatten() {
        out.push_str(&wrap(&note, 90));
    }
    let _ = writeln!(out, "\n{}", timing(&a.run));
    out
}

/// `text` broken into lines of at most `width` characters at spaces (a longer word
/// stays whole), each ending in a newline.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

fn timing(r: &crate::summary::RunInfo) -> String {
    format!(
        "({} threads, {:.2} s, {} trials/s)",
        r.threads,
        r.elapsed_seconds,
        thousands(r.trials_per_second.round() as u64)
    )
}

/// The tornado, the rank correlations and the switching values.
pub fn sensitivity(s: &Sensitivity, currency: &str) -> String {
    let m = |x: f64| money(x, currency);
    let mut out = String::new();
    let b = &s.base;
    let _ = writeln!(
        out,
        "{}\nSensitivity: {} per run, seed {}{} (common random numbers)\n\
         Base: mean NPV {} (se {}), P(loss) {}\n",
        s.scenario,
        format::count(s.trials, "trial"),
        s.seed,
        format::sampling_note(s.provenance.as_ref(), s.trials),
        m(b.mean_npv),
        m(b.se_npv),
        percent(b.prob_npv_negative.estimate)
    );
    let _ = writeln!(
        out,
        "Tornado: each input held low, then high, while every other input varies\n"
    );
    let mut t = Table::new(
        [
            "input",
            "held at",
            "low",
            "high",
            "mean NPV low",
            "mean NPV high",
            "swing",
            "P(loss) low",
            "high",
            "swing",
        ]
        .map(String::from)
        .to_vec(),
        vec![false, false, true, true, true, true, true, true, true, true],
    );
    for bar in &s.tornado {
        t.push(vec![
            bar.label.clone(),
            bar.basis.describe().to_string(),
            input_value(&bar.input, bar.low_value, currency),
            input_value(&bar.input, bar.high_value, currency),
            m(bar.low.mean_npv),
            m(bar.high.mean_npv),
            m(bar.swing_mean_npv),
            percent(bar.low.prob_npv_negative.estimate),
            percent(bar.high.prob_npv_negative.estimate),
            percent(bar.swing_prob_loss),
        ]);
    }
    out.push_str(&t.render());

    if !s.rank_correlation.is_empty() {
        let _ = writeln!(
            out,
            "\nRank correlation of each uncertain input with consortium NPV (Spearman, base run)\n"
        );
        let mut t = Table::new(vec!["input".into(), "rho".into()], vec![false, true]);
        for r in &s.rank_correlation {
            let rho = if r.spearman.is_finite() {
                format!("{:+.3}", r.spearman)
            } else {
                "n/a".into()
            };
            t.push(vec![r.label.clone(), rho]);
        }
        out.push_str(&t.render());
    }

    if !s.switching_values.is_empty() {
        let _ = writeln!(
            out,
            "\nSwitching values: the input's value, held in every trial, at which the target is met\n"
        );
        let mut t = Table::new(
            [
                "input",
                "target",
                "base value",
                "searched",
                "switching value",
            ]
            .map(String::from)
            .to_vec(),
            vec![false, false, true, false, true],
        );
        for sw in &s.switching_values {
            let v = |x: f64| input_value(&sw.input, x, currency);
            let value = match sw.value {
                Some(x) if super::is_money_field(&sw.input) => v(x),
                Some(x) => significant(x, 6),
                None => "no crossing in range".into(),
            };
            t.push(vec![
                sw.label.clone(),
                sw.target.describe(),
                v(sw.base_value),
                format!(
                    "{} to {} ({})",
                    v(sw.searched[0]),
                    v(sw.searched[1]),
                    sw.range_basis
                ),
                value,
            ]);
        }
        out.push_str(&t.render());
        for sw in s.switching_values.iter().filter(|sw| sw.value.is_none()) {
            let v = |x: f64| input_value(&sw.input, x, currency);
            let _ = writeln!(out, "  {}: {}", sw.label, super::no_crossing(sw, v));
        }
    }
    let _ = writeln!(out, "\n{}", timing(&s.run));
    out
}

/// Scenarios side by side, one column each, with differences from the first.
pub fn compare(c: &Comparison, currency: &str) -> String {
    let m = |x: f64| money(x, currency);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Comparison: {} each, seed {}{} (common random numbers: trial k pairs with trial k)\n",
        format::count(c.trials, "trial"),
        c.seed,
        format::sampling_note(c.provenance.as_ref(), c.trials)
    );
    for col in &c.scenarios {
        let _ = writeln!(out, "  {}: {} ({})", col.name, col.scenario, col.source);
    }
    out.push('\n');
    let n = c.scenarios.len();
    let mut header = vec![String::new()];
    header.extend(c.scenarios.iter().map(|s| s.name.clone()));
    let mut right = vec![false];
    right.extend(vec![true; n]);
    let mut t = Table::new(header, right);
    let row = |label: &str, f: &dyn Fn(&Column) -> String| {
        let mut r = vec![label.to_string()];
        r.extend(c.scenarios.iter().map(f));
        r
    };
    let diff =
        |s: &Column, f: &dyn Fn(&Difference) -> String| s.vs_first.as_ref().map_or("-".into(), f);
    t.push(row("mean NPV", &|s| m(s.figures.npv.mean)));
    t.push(row("  standard error", &|s| m(s.figures.npv.se)));
    t.push(row("P10 NPV", &|s| m(s.figures.npv.p10)));
    t.push(row("P50 NPV", &|s| m(s.figures.npv.p50)));
    t.push(row("P90 NPV", &|s| m(s.figures.npv.p90)));
    t.push(row("P(loss)", &|s| {
        percent(s.figures.prob_npv_negative.estimate)
    }));
    t.push(row("  95% CI", &|s| {
        let ci = s.figures.prob_npv_negative.ci95;
        format!("{} to {}", percent(ci[0]), percent(ci[1]))
    }));
    t.push(row("P(collapse)", &|s| percent(s.figures.prob_collapse)));
    t.push(row("difference in mean NPV vs first", &|s| {
        diff(s, &|d| m(d.mean_npv))
    }));
    t.push(row("  paired standard error", &|s| {
        diff(s, &|d| m(d.se_paired))
    }));
    t.push(row("  unpaired standard error", &|s| {
        diff(s, &|d| m(d.se_unpaired))
    }));
    t.push(row("difference in P(loss) vs first", &|s| {
        diff(s, &|d| format!("{:+.1} pts", 100.0 * d.prob_npv_negative))
    }));
    t.push(row("  paired standard error", &|s| {
        diff(s, &|d| {
            format!("{:.1} pts", 100.0 * d.prob_npv_negative_se_paired)
        })
    }));
    for name in &c.partners {
        let partner = |s: &Column| s.figures.partners.iter().find(|p| &p.name == name).cloned();
        t.push(row(&format!("{name}: mean NPV"), &|s| {
            partner(s).map_or(String::new(), |p| m(p.mean_npv))
        }));
        t.push(row(&format!("{name}: P(worse off)"), &|s| {
            partner(s).map_or(String::new(), |p| percent(p.prob_worse_off))
        }));
    }
    out.push_str(&t.render());
    let _ = writeln!(out, "\n{}", timing(&c.run));
    out
}
