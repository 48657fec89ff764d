//! Renderings of the analyses ([`crate::analysis`]): terminal tables and HTML pages
//! (their JSON and CSV are in [`super::json`] and [`super::csv`]).
//!
//! Like the rest of [`crate::export`], these only format figures that the analyses have
//! already computed: one file per format, each with one function per analysis. Money and
//! probabilities read as in the `run` summary (the same helpers), so a figure in a sweep
//! table can be compared at a glance with the same figure from `run`.

pub mod html;
pub mod terminal;

use super::format::{money, significant};
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
