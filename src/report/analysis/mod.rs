//! Renderings of the analyses ([`crate::analysis`]): terminal tables, CSV and HTML pages.
//!
//! Like the rest of [`crate::report`], these only format figures that the analyses have
//! already computed: one file per format, each with one function per analysis. Money and
//! probabilities read as in the `run` summary (the same helpers), so a figure in a sweep
//! table can be compared at a glance with the same figure from `run`.

pub mod csv;
pub mod html;
pub mod terminal;

use crate::analysis::crn::value_text;
use serde_json::Value;

/// Whether the input a pointer names is money (shown with its currency): the table of
/// inputs says.
fn is_money_field(pointer: &str) -> bool {
    crate::scenario::inputs::is_money(pointer)
}

/// A number to `digits` significant digits, trailing zeros dropped: 0.112345 -> "0.1123".
pub fn significant(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i64;
    let decimals = (digits as i64 - 1 - magnitude).max(0) as usize;
    let text = format!("{x:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" { "0".into() } else { text }
}

/// An input's value as a reader wants it: money with its currency for costs and fees,
/// other numbers to four significant digits.
pub fn input_value(pointer: &str, x: f64, currency: &str) -> String {
    if is_money_field(pointer) {
        super::terminal::money(x, currency)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits_drop_trailing_zeros() {
        assert_eq!(significant(0.112345, 4), "0.1123");
        assert_eq!(significant(0.15, 4), "0.15");
        assert_eq!(significant(1234.5678, 4), "1235");
        assert_eq!(significant(-0.00001234, 2), "-0.000012");
        assert_eq!(significant(0.0, 4), "0");
    }

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
