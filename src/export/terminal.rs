//! The terminal summary: what `run` prints when no `--out` is given.
//!
//! Written for a finance officer reading a terminal or pasting into an email: money with
//! thousands separators and the scenario's currency symbol, probabilities as percentages
//! with their intervals, one row per partner.

use std::fmt::Write;

use super::format::{discount, money, percent, thousands};
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
        "{}\n{} trials, seed {}, {} years at base-year prices, discounted at {}\n",
        r.scenario,
        thousands(r.trials),
        r.seed,
        r.horizon_years,
        discount(&scenario.discount, r.horizon_years)
    );
    let _ = writeln!(
        s,
        "Consortium NPV (saving against every partner going it alone)"
    );
    let _ = writeln!(
        s,
        "  mean            {:>16}   (standard error {})",
        m(c.npv.mean),
        m(c.npv.se)
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
    let _ = writeln!(s);

    let width = r
        .partners
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        s,
        "  {:<width$}  {:>14}  {:>14}  {:>10}  {:>10}",
        "Partner", "mean NPV", "P5 NPV", "P(worse)", "P(leaves)"
    );
    for p in &r.partners {
        let _ = writeln!(
            s,
            "  {:<width$}  {:>14}  {:>14}  {:>10}  {:>10}",
            p.name,
            m(p.npv.mean),
            m(p.npv.p05),
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
