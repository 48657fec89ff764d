//! Renderings of the analyses ([`crate::analysis`]): terminal tables and HTML pages
//! (their JSON and CSV are in [`super::json`] and [`super::csv`]).
//!
//! Like the rest of [`crate::export`], these only format figures that the analyses have
//! already computed: one file per format, each with one function per analysis. Money and
//! probabilities read as in the `run` summary (the same helpers), so a figure in a sweep
//! table can be compared at a glance with the same figure from `run`.

pub mod html;
pub mod terminal;

use super::format::{money, percent, significant};
use crate::analysis::agreement::{Agreement, Term, TermSet};
use crate::analysis::crn::value_text;
use crate::analysis::sensitivity::{Side, Switch, Target};
use serde_json::Value;

/// Whether the input a pointer names is money (shown with its currency): the table of
/// inputs says.
fn is_money_field(pointer: &str) -> bool {
    crate::scenario::inputs::is_money(pointer)
}

/// An input's value as a reader wants it: money with its currency for costs and fees,
/// other numbers to four significant digits.
pub fn input_value(pointer: &str, x: f64, currency: &str) -> String {
    if is_money_field(pointer) {
        money(x, currency)
    } else {
        significant(x, 4)
    }
}

/// A swept parameter's value: numbers as [`input_value`] shows them, strings bare,
/// distributions as compact JSON.
pub fn param_value(pointer: &str, v: &Value, currency: &str) -> String {
    match v.as_f64() {
        Some(x) => input_value(pointer, x, currency),
        None => value_text(v),
    }
}

/// The last segment of a pointer, unescaped: the short name of a swept parameter.
pub fn short_name(pointer: &str) -> String {
    pointer
        .rsplit('/')
        .next()
        .unwrap_or(pointer)
        .replace("~1", "/")
        .replace("~0", "~")
}

/// A term's short name: its field (`exit_fee`), with the partner's name when it sets
/// one partner's (`exit_fee (Otterby District Council)`).
pub fn term_label(t: &Term) -> String {
    let field = t.field();
    let partner = crate::scenario::overrides::parse_pointer(&t.pointer)
        .ok()
        .filter(|s| s.len() == 3 && !t.every_partner())
        .map(|s| s[1].text.clone());
    match partner {
        Some(p) => format!("{field} ({p})"),
        None => field.to_string(),
    }
}

/// A set's terms in words: "exit_fee £500,000, lock_in_years 3".
pub fn set_terms(a: &Agreement, s: &TermSet, currency: &str) -> String {
    a.terms
        .iter()
        .map(|t| {
            let v = param_value(&t.pointer, &s.at[&t.pointer], currency);
            format!("{} {v}", term_label(t))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The limits as a sentence.
pub fn agreement_limits(a: &Agreement) -> String {
    let mut parts = Vec::new();
    if let Some(l) = a.limits.max_worse_off {
        parts.push(format!(
            "every partner's P(worse off) at most {}",
            percent(l)
        ));
    }
    if let Some(l) = a.limits.max_collapse {
        parts.push(format!("P(collapse) at most {}", percent(l)));
    }
    if parts.is_empty() {
        "Limits: none given, so every set counts as meeting them".to_string()
    } else {
        format!("Limits: {}", parts.join("; "))
    }
}

/// Which sets meet the limits and the best of them, or that none does and how close
/// the grid came.
pub fn agreement_verdict(a: &Agreement, currency: &str) -> String {
    let n = a.sets.len();
    let Some(best) = a.sets.first() else {
        return "No sets of terms were run.".into();
    };
    let describe = |s: &TermSet| {
        format!(
            "set {} ({}): mean NPV {}, worst partner's P(worse off) {} ({}), P(collapse) {}",
            s.set,
            set_terms(a, s, currency),
            money(s.figures.npv.mean, currency),
            percent(s.worst_prob_worse_off),
            s.worst_partner,
            percent(s.figures.prob_collapse)
        )
    };
    if !a.limits.any() {
        return format!("Highest mean NPV: {}.", describe(best));
    }
    if a.meeting_limits == 0 {
        // How close the grid came, on what the limits are about: with a limit on
        // P(collapse) alone, the lowest P(collapse); otherwise the lowest worst-partner
        // risk, P(collapse) breaking ties.
        let collapse_only = a.limits.max_worse_off.is_none();
        let (closest, what) = if collapse_only {
            let set = a.sets.iter().min_by(|x, y| {
                x.figures
                    .prob_collapse
                    .total_cmp(&y.figures.prob_collapse)
                    .then(x.worst_prob_worse_off.total_cmp(&y.worst_prob_worse_off))
            });
            (set, "The lowest P(collapse) is")
        } else {
            let set = a.sets.iter().min_by(|x, y| {
                x.worst_prob_worse_off
                    .total_cmp(&y.worst_prob_worse_off)
                    .then(x.figures.prob_collapse.total_cmp(&y.figures.prob_collapse))
            });
            (set, "The lowest worst-partner risk is")
        };
        return format!(
            "No set of terms in the grid meets the limits. {what} {}.",
            describe(closest.expect("a set"))
        );
    }
    let of = if a.meeting_limits == 1 {
        format!("1 of {n} sets meets the limits")
    } else {
        format!("{} of {n} sets meet the limits", a.meeting_limits)
    };
    format!("{of}. Best: {}.", describe(best))
}

/// The sets on the frontier as a sentence.
pub fn agreement_frontier(a: &Agreement) -> String {
    if a.sets.len() == 1 {
        return "Trade-off frontier: the one set run, with nothing to weigh it against.".into();
    }
    let sets: Vec<String> = a.frontier.iter().map(usize::to_string).collect();
    let (noun, these) = if sets.len() == 1 {
        ("set", "it")
    } else {
        ("sets", "one of these")
    };
    format!(
        "Trade-off frontier (highest mean NPV first): {noun} {}. Every other set is beaten \
         by {these}: as high a consortium mean NPV and as low a worst-partner \
         P(worse off), and better on one of them.",
        sets.join(", ")
    )
}

/// What exit and rejoin fees do, when any is among the terms: they are transfers, which
/// move no consortium NPV, and they move risk between partners.
pub fn agreement_transfers(a: &Agreement) -> Option<String> {
    // Each field once, in the order the terms first name it (a partner's fee may be
    // one term and another partner's a later one).
    let mut fields: Vec<&str> = Vec::new();
    for field in a
        .terms
        .iter()
        .filter(|t| t.is_transfer())
        .map(|t| t.field())
    {
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    if fields.is_empty() {
        return None;
    }
    let names = fields
        .iter()
        .map(|f| match *f {
            "exit_fee" => "Exit fees",
            _ => "Rejoin fees",
        })
        .collect::<Vec<_>>()
        .join(" and ");
    Some(format!(
        "{names} are transfers between partners: what one partner pays, the other members \
         receive in the same year, and no partner's decision to leave depends on them. So \
         they move no consortium NPV in this model (sets that differ only in fees have the \
         same mean NPV), but they move risk between partners: a partner that leaves bears \
         more of the cost of its leaving and the partners that stay bear less. That is why \
         they change each partner's P(worse off)."
    ))
}

/// What a search that found no crossing found instead, as a sentence: "mean NPV stays
/// positive over 0 to 7; the break-even lies above 7". `v` formats the input's values.
pub fn no_crossing(sw: &Switch, v: impl Fn(f64) -> String) -> String {
    let above = sw.at_ends[0] > target_level(sw.target);
    let (stays, reached) = match sw.target {
        Target::MeanNpv(0.0) => (
            format!(
                "mean NPV stays {}",
                if above { "positive" } else { "negative" }
            ),
            "the break-even".to_string(),
        ),
        Target::MeanNpv(x) => (
            format!(
                "mean NPV stays {} {x}",
                if above { "above" } else { "below" }
            ),
            format!("a mean NPV of {x}"),
        ),
        Target::ProbNpvNegative(p) => (
            format!(
                "P(loss) stays {} {:.1}%",
                if above { "above" } else { "below" },
                100.0 * p
            ),
            format!("a P(loss) of {:.1}%", 100.0 * p),
        ),
    };
    let (lo, hi) = (v(sw.searched[0]), v(sw.searched[1]));
    let lies = match sw.crossing_lies {
        Some(Side::Above) => format!("{reached} lies above {hi}"),
        Some(Side::Below) => format!("{reached} lies below {lo}"),
        None => "the input does not move it".to_string(),
    };
    format!("{stays} over {lo} to {hi}; {lies}")
}

/// The level of the metric a target asks for.
fn target_level(t: Target) -> f64 {
    match t {
        Target::MeanNpv(x) | Target::ProbNpvNegative(x) => x,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_show_money_for_costs() {
        assert_eq!(
            input_value("/service/fixed_cost", 350000.0, "£"),
            "£350,000"
        );
        assert_eq!(input_value("/service/efficiency", 0.15, "£"), "0.15");
        assert_eq!(short_name("/partners/A~1B/exit_fee"), "exit_fee");
    }
}
