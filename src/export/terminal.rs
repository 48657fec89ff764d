//! The terminal summary: what `run` prints when no `--out` is given.
//!
//! Written for a finance officer reading a terminal or pasting into an email: money with
//! thousands separators and the scenario's currency symbol, probabilities as percentages
//! with their intervals, one row per partner.

use std::fmt::Write;

use super::format::{self, column_width, discount, money, percent, thousands};
use crate::scenario::Scenario;
use crate::summary::Report;

/// Renders the summary of `r`, a run of `scenario` (its currency, its discount rate).
pub fn render(r: &Report, scenario: &Scenario) -> String {
    let currency = scenario.currency.as_str();
    let m = |x: f64| money(x, currency);
    let c = &r.consortium;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}\n{}, seed {}, {} at base-year prices, discounted at {}\n",
        r.scenario,
        format::count(r.trials, "trial"),
        r.seed,
        format::count(r.horizon_years as u64, "year"),
        discount(&scenario.discount, r.horizon_years)
    );
    if let Some(sampling) = &r.sampling {
        let _ = writeln!(s, "{}\n", format::sampling(sampling));
    }
    let _ = writeln!(
        s,
        "Consortium NPV (saving against every partner going it alone)"
    );
    let _ = writeln!(
        s,
        "  mean            {:>16}   ({})",
        m(c.npv.mean),
        format::standard_error(c.npv.se, r.trials, currency)
    );
    let _ = writeln!(s, "  median (P50)    {:>16}", m(c.npv.p50));
    let _ = writeln!(
        s,
        "  P5 .. P95       {:>16} .. {}",
        m(c.npv.p05),
        m(c.npv.p95)
    );
    let _ = writeln!(
        s,
        "  P10 .. P90      {:>16} .. {}",
        m(c.npv.p10),
        m(c.npv.p90)
    );
    let _ = writeln!(s, "  worst 5% (mean) {:>16}", m(c.npv.cvar05));
    let _ = writeln!(s);
    let p = &c.prob_npv_negative;
    let _ = writeln!(
        s,
        "  P(loss: NPV < 0)     {:>6}   (95% CI {} to {})",
        percent(p.estimate),
        percent(p.ci95[0]),
        percent(p.ci95[1])
    );
    let _ = writeln!(s, "  P(collapse)          {:>6}", percent(c.prob_collapse));
    let payback = match c.payback_year.p50 {
        Some(y) => format!("median payback year {y}"),
        None => "fewer than half of trials pay back".to_string(),
    };
    let _ = writeln!(
        s,
        "  P(pays back)         {:>6}   ({payback})",
        percent(c.payback_year.prob_within_horizon)
    );
    if !c.delay_years_probability.is_empty() {
        let _ = writeln!(s, "{}", delay_line(r));
    }
    let _ = writeln!(s);

    let width = column_width(r.partners.iter().map(|p| p.name.as_str()), 7);
    let _ = writeln!(
        s,
        "  {:<width$}  {:>14}  {:>14}  {:>10}  {:>10}",
        "Partner", "mean NPV", "P5 NPV", "P(worse)", "P(leaves)"
    );
    for p in &r.partners {
        let _ = writeln!(
            s,
            "  {}  {}  {}  {:>10}  {:>10}",
            format::left(&p.name, width),
            format::right(&m(p.npv.mean), 14),
            format::right(&m(p.npv.p05), 14),
            percent(p.prob_worse_off),
            percent(p.prob_withdraws)
        );
    }
    let e = &r.events;
    let _ = writeln!(
        s,
        "\nPer trial on average: {:.3} withdrawal notices, {:.3} rejoins, {:.3} disputes, {:.3} dispute-years",
        e.withdrawals, e.rejoins, e.disputes, e.dispute_years
    );
    let _ = writeln!(
        s,
        "({} threads, {:.2} s, {} trials/s)",
        r.run.threads,
        r.run.elapsed_seconds,
        thousands(r.run.trials_per_second.round() as u64)
    );
    s
}

/// Each partner's cash by year (`run --by-year`): one compact table per partner, a row
/// per year with the mean, P5, P50 and P95 of its saving that year and of its
/// cumulative saving, both undiscounted, as a medium-term financial plan reads them (the
/// report and the cash-flow CSV add P25, P75 and the discounted figures).
pub fn by_year(r: &Report, scenario: &Scenario) -> String {
    let currency = scenario.currency.as_str();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Cash by year: each partner's saving against going alone, in cash (undiscounted)"
    );
    let _ = writeln!(
        s,
        "mean, P5, P50 and P95 {}; P25, P75 and discounted figures in --out and --cashflow-csv",
        by_year_source(r)
    );
    for p in &r.partners {
        let cells: Vec<[String; 8]> = p
            .by_year
            .iter()
            .map(|y| {
                let (a, c) = (&y.cash, &y.cumulative_cash);
                [a.mean, a.p05, a.p50, a.p95, c.mean, c.p05, c.p50, c.p95]
                    .map(|x| money(x, currency))
            })
            .collect();
        let w = column_width(cells.iter().flatten().map(String::as_str), 10);
        let group = 4 * (w + 2) - 2;
        let _ = writeln!(
            s,
            "
  {}",
            p.name
        );
        let _ = writeln!(
            s,
            "  {:>4}  {:>group$}  {:>group$}",
            "", "saving in the year", "cumulative saving"
        );
        let _ = writeln!(
            s,
            "  {:>4}  {:>w$}  {:>w$}  {:>w$}  {:>w$}  {:>w$}  {:>w$}  {:>w$}  {:>w$}",
            "year", "mean", "P5", "P50", "P95", "mean", "P5", "P50", "P95"
        );
        for (y, row) in p.by_year.iter().zip(&cells) {
            let _ = write!(s, "  {:>4}", y.year);
            for cell in row {
                let _ = write!(s, "  {}", format::right(cell, w));
            }
            let _ = writeln!(s);
        }
    }
    s
}

/// Which trials the partners' cash by year comes from: all of them, or, when the run was
/// too large to keep every trial's yearly savings, the first ones, said plainly.
pub fn by_year_source(r: &Report) -> String {
    if r.by_year_trials == r.trials {
        format!("of {} trials", thousands(r.trials))
    } else {
        format!(
            "of the first {} of the {} trials (a run this large keeps the yearly savings of the first {} only)",
            thousands(r.by_year_trials),
            thousands(r.trials),
            thousands(r.by_year_trials)
        )
    }
}

/// The go-live delay's line, for a scenario whose go-live may slip: its mean and the
/// probability of each delay, in order of delay; when there are many, the likeliest few
/// and, if it can happen, never going live.
fn delay_line(r: &Report) -> String {
    const MOST: usize = 6;
    let by_delay = &r.consortium.delay_years_probability;
    let never = by_delay.len() - 1;
    let mut delays: Vec<usize> = (0..by_delay.len()).filter(|&d| by_delay[d] > 0.0).collect();
    let all = delays.len();
    if all > MOST {
        // The likeliest, ties to the shorter delay; never going live always shown.
        delays.sort_by(|&a, &b| by_delay[b].total_cmp(&by_delay[a]).then(a.cmp(&b)));
        let keep_never = by_delay[never] > 0.0;
        delays.retain(|&d| d != never);
        delays.truncate(MOST - usize::from(keep_never));
        if keep_never {
            delays.push(never);
        }
        delays.sort_unstable();
    }
    let mut shown: Vec<String> = delays
        .iter()
        .map(|&d| {
            let what = match d {
                0 => "on time".to_string(),
                d if d == never => "never live".to_string(),
                1 => "1 year".to_string(),
                d => format!("{d} years"),
            };
            format!("{what} {}", percent(by_delay[d]))
        })
        .collect();
    if all > delays.len() {
        shown.push(format!("{} other delays", all - delays.len()));
    }
    format!(
        "  Go-live delay   mean {:.2} years ({})",
        r.events.delay_years,
        shown.join(", ")
    )
}
