//! A replayed trial told year by year, for `consortium-sim trace`.
//!
//! This is how a finance officer explains "the bad case" to a board: who was in, what the
//! service cost, who left and what it cost them, when it fell apart.

use std::fmt::Write;

use super::format::{Shown, money, percent};
use crate::engine::Status;
use crate::engine::trace::Replay;
use crate::engine::trial::{NO_YEAR, drawn_join_year, event};
use crate::lhs::Sampling;
use crate::plan::{self, Plan};
use crate::scenario::Scenario;

/// Why this trial was replayed, as the story's first line gives it after the trial's
/// number: " (the 1st-percentile consortium NPV of 100,000 trials, seed 42)", ranked by
/// the NPV of `partner` (an index) when one is given; "median" for the consortium's
/// 50th percentile. Under Latin hypercube sampling it says so, as [`chosen`] does: the
/// same trial number draws other inputs under plain sampling.
pub fn why(
    scenario: &Scenario,
    percentile: f64,
    partner: Option<usize>,
    trials: u64,
    seed: u64,
    sampling: Sampling,
) -> String {
    let whose = match partner {
        Some(i) => format!("NPV of {} (its own bad case)", scenario.partners[i].name),
        None => "consortium NPV".into(),
    };
    let rank = if percentile == 50.0 && partner.is_none() {
        "median".to_string()
    } else {
        format!("{}-percentile", ordinal(percentile))
    };
    let how = match sampling {
        Sampling::Plain => "",
        Sampling::Lhs => ", Latin hypercube sampling",
    };
    format!(
        " (the {rank} {whose} of {}, seed {seed}{how})",
        super::format::count(trials, "trial")
    )
}

/// What the story's first line says after the number of a trial asked for by number:
/// nothing under plain sampling, " (Latin hypercube sampling)" under LHS.
pub fn chosen(sampling: Sampling) -> String {
    match sampling {
        Sampling::Plain => String::new(),
        Sampling::Lhs => " (Latin hypercube sampling)".into(),
    }
}

/// A percentile as an ordinal: 1st, 2nd, 3rd, 4th, 11th, 22nd, 12.5th.
fn ordinal(p: f64) -> String {
    if p.fract() != 0.0 {
        return format!("{p}th");
    }
    let n = p as u64;
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Renders a replayed trial as text for a terminal (names in its tables escaped as the
/// command line prints them; see [`Shown`]).
pub fn render(scenario: &Scenario, replay: &Replay, why: &str) -> String {
    render_as(scenario, replay, why, Shown::Escaped)
}

/// [`render`], with the tables' names written and sized as they will be `shown`.
fn render_as(scenario: &Scenario, replay: &Replay, why: &str, shown: Shown) -> String {
    let cur = scenario.currency.as_str();
    let m = |x: f64| money(x, cur);
    let mut s = String::new();
    let _ = writeln!(s, "{}: trial {}{}\n", scenario.name, replay.trial, why);
    let _ = writeln!(s, "Sampled inputs of this trial:");
    let _ = writeln!(
        s,
        "  efficiency g {:.4}, fixed cost {}, transition cost {} (before optimism bias), dispute cost {}/yr",
        replay.inputs[plan::EFFICIENCY],
        m(replay.inputs[plan::FIXED_COST]),
        m(replay.inputs[plan::TRANSITION_COST]),
        m(replay.inputs[plan::DISPUTE_COST])
    );
    // Names in one column: at least 28 characters wide, wider for a longer name.
    let width = shown.column_width(scenario.partners.iter().map(|p| p.name.as_str()), 28);
    let horizon = replay.years.len();
    let delay = usize::from(replay.summary.delay_years);
    if scenario.service.may_be_delayed() {
        let _ = writeln!(
            s,
            "  go-live delay: drew {:.2} years, so d = {delay}: {}; delay cost {}/yr",
            replay.inputs[plan::DELAY_YEARS],
            if delay >= horizon {
                format!("the service never goes live within the {horizon}-year horizon")
            } else if delay == 0 {
                "the service goes live on time, in year 0".to_string()
            } else {
                format!("the service goes live in year {delay}")
            },
            m(replay.inputs[plan::DELAY_COST])
        );
    }
    let contagion = replay.inputs[plan::CONTAGION];
    if scenario.may_be_contagious() {
        let _ = writeln!(
            s,
            "  contagion {contagion:.4}: each notice adds this to every member's hazard the next year"
        );
    }
    for (i, p) in scenario.partners.iter().enumerate() {
        let v = |f| replay.inputs[Plan::partner_input(i, f)];
        let join = if p.join_year().is_none() {
            let drawn = v(plan::JOINS_YEAR);
            let year = drawn_join_year(drawn, horizon);
            let joined = replay
                .years
                .iter()
                .any(|y| y.partners[i].events & (event::JOINED | event::DECLINED) != 0);
            let when = if year >= horizon {
                "after the horizon: it never joins".to_string()
            } else if joined {
                format!("year {year}")
            } else {
                format!("year {year}, but the consortium had collapsed: it never joins")
            };
            format!(", join year drawn {drawn:.2}, so {when}")
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "  {}: baseline {}/yr, hazard {:.4}, exit fee {}, re-establishment {}{join}",
            p.name,
            m(v(plan::BASELINE)),
            v(plan::WITHDRAWAL_HAZARD),
            m(v(plan::EXIT_FEE)),
            m(v(plan::REESTABLISH_COST))
        );
    }
    let _ = writeln!(s);
    for (t, y) in replay.years.iter().enumerate() {
        let _ = write!(s, "Year {:>2}: ", y.t);
        let dispute = match (y.dispute_active, y.dispute_started) {
            (true, true) => ", a dispute starts",
            (true, false) => ", dispute continues",
            _ => "",
        };
        let members = format!(
            "{} member{}",
            y.members,
            if y.members == 1 { "" } else { "s" }
        );
        if y.collapsed {
            let _ = writeln!(s, "consortium has collapsed");
        } else if !y.live {
            let _ = writeln!(
                s,
                "delay year {} of {delay} (go-live has slipped: no shared service yet, each \
                 member still runs its own; the pool pays the delay cost), {members}, pool {}{dispute}",
                t + 1,
                m(y.pool)
            );
        } else {
            if t == delay && delay > 0 {
                let _ = write!(s, "the service goes live after {delay} year(s) of delay; ");
            }
            let _ = writeln!(
                s,
                "{members}, efficiency {}, pool {}{dispute}",
                percent(y.efficiency),
                m(y.pool)
            );
        }
        for (p, py) in scenario.partners.iter().zip(&y.partners) {
            let mut notes = Vec::new();
            let e = py.events;
            if e & event::JOINED != 0 {
                notes.push("joins");
            }
            if e & event::DECLINED != 0 {
                notes.push("declines to join");
            }
            if e & event::REJOINED != 0 {
                notes.push("rejoins, pays rejoin fee");
            }
            if e & event::FIRST_YEAR_OUT != 0 {
                // Notice was given at the end of last year.
                notes.push(if t > delay {
                    "first year out: pays exit fee and re-establishment"
                } else {
                    "first year out: pays exit fee (it left before go-live: nothing to re-establish)"
                });
            }
            if e & event::REESTABLISHED_AFTER_COLLAPSE != 0 {
                notes.push("re-creates the service after the collapse");
            }
            let notice;
            if e & event::NOTICE != 0 {
                notice = match py.hazard {
                    Some(h) => format!("gives notice: {}", hazard_text(&h)),
                    None => "gives notice".to_string(),
                };
                notes.push(&notice);
            }
            let state = match py.status {
                Status::Member => format!("member, share {}", percent(py.weight)),
                Status::Out => "out".into(),
                Status::Pending => "not yet joined".into(),
                Status::Never => "never joins".into(),
            };
            if py.saving == 0.0 && notes.is_empty() && py.status != Status::Member {
                continue;
            }
            let _ = writeln!(
                s,
                "    {} saving {:>14}  ({state}{}{})",
                shown.left(&p.name, width),
                m(py.saving),
                if notes.is_empty() { "" } else { "; " },
                notes.join(", ")
            );
        }
        if y.collapses_next {
            let _ = writeln!(
                s,
                "    -> too few members would remain: the consortium collapses from year {}{}",
                y.t + 1,
                if y.live {
                    ""
                } else {
                    " (before go-live: no one has a shared service to re-create)"
                }
            );
        }
        let _ = writeln!(s, "    cumulative discounted saving {}", m(y.cumulative));
    }
    let sum = &replay.summary;
    let _ = writeln!(s, "\nConsortium NPV {}", m(sum.npv));
    for (p, v) in scenario.partners.iter().zip(&replay.partner_npv) {
        let _ = writeln!(s, "  {} NPV {:>14}", shown.left(&p.name, width), m(*v));
    }
    let payback = if sum.payback_year == NO_YEAR {
        "never pays back".to_string()
    } else {
        format!("pays back in year {}", sum.payback_year)
    };
    let collapse = if sum.collapse_year == NO_YEAR {
        "no collapse".to_string()
    } else {
        format!("collapse from year {}", sum.collapse_year)
    };
    let years = |d: usize| format!("{d} year{}", if d == 1 { "" } else { "s" });
    let delayed = if !scenario.service.may_be_delayed() {
        String::new()
    } else if delay >= horizon {
        format!("; never live ({} of delay)", years(delay))
    } else if usize::from(sum.collapse_year) <= delay {
        format!("; never live: collapsed before go-live (due in year {delay})")
    } else {
        format!("; live from year {delay}")
    };
    let _ = writeln!(
        s,
        "{payback}; {collapse}; {} withdrawal notice(s), {} rejoin(s), {} dispute(s){delayed}",
        sum.withdrawals, sum.rejoins, sum.disputes
    );
    s
}

/// Why a member gave notice: the hazard it faced that year and its parts (only the parts
/// that are not zero), as a board would ask.
fn hazard_text(h: &crate::engine::trial::Hazard) -> String {
    let mut parts = vec![format!("base {:.3}", h.base)];
    for (name, x) in [
        ("dispute", h.dispute),
        ("disappointment", h.disappointment),
        ("contagion", h.contagion),
    ] {
        if x != 0.0 {
            parts.push(format!("{name} {x:.3}"));
        }
    }
    let capped = if h.total < h.base + h.dispute + h.disappointment + h.contagion {
        ", held to 1"
    } else {
        ""
    };
    format!("hazard {:.3} = {}{capped}", h.total, parts.join(" + "))
}

/// A replayed trial as a self-contained page, for a board pack: the cumulative saving as
/// a chart, then the year-by-year story of [`render`].
pub fn page(scenario: &Scenario, replay: &Replay, why: &str) -> String {
    use super::html::{escape, figure};
    let cumulative: Vec<f64> = replay.years.iter().map(|y| y.cumulative).collect();
    let delay = usize::from(replay.summary.delay_years);
    let title = format!("{}: trial {}", scenario.name, replay.trial);
    let mut body = format!(
        "<header>\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n</header>\n",
        escape(&title),
        escape(why.trim().trim_start_matches('(').trim_end_matches(')'))
    );
    body.push_str(&figure(
        "trial-cumulative",
        &super::charts::trial_cumulative(&cumulative, Some(delay), &scenario.currency),
        "The consortium's cumulative discounted saving through each year of this one \
         trial. Where the line crosses zero, this future has paid back.",
    ));
    body.push_str("<section>\n<h2>Year by year</h2>\n<pre class=\"story\">");
    body.push_str(&escape(&render_as(scenario, replay, why, Shown::AsGiven)));
    body.push_str("</pre>\n</section>\n");
    super::html::page(&title, &body)
}
