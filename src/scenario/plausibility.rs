//! Values that are valid but that a finance officer almost never means: rates typed as
//! whole percentages (`"efficiency": 15` for 15 %, a discount rate of 3.5 for 3.5 %).
//!
//! The model allows them (an efficiency above 1 is clamped, a hazard above 1 is a
//! certainty), so they are not errors; but a run with them answers a question nobody
//! asked, so every command that loads a scenario warns about them. The bounds are the
//! table of inputs' `implausible_above` ([`super::inputs`]); this module only walks a
//! validated scenario's JSON to the values they apply to: a plain number, every value a
//! distribution can take (its bounds, mode, mean or outcomes, never a spread), and each
//! band of a discount schedule.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::inputs::{INPUTS, Input, Section};

/// One value that is probably a percentage typed as a whole number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// JSON pointer of the value in the scenario (partners by index).
    pub pointer: String,
    /// What is wrong and the likely intent, e.g. "15 is 1500 %: did you mean 0.15? ...".
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.pointer, self.message)
    }
}

/// The implausible values of a validated scenario's JSON (`value` as run, overrides
/// applied), in the table's order, partners in file order. A value of a shape the
/// loader would refuse is skipped: this only advises.
pub fn implausible(value: &Value) -> Vec<Warning> {
    let mut found = Vec::new();
    for input in INPUTS {
        let Some(bound) = input.implausible_above else {
            continue;
        };
        for (at, v) in places(value, input) {
            check(v, &at, input.name, bound, &mut found);
        }
    }
    found
}

/// The field's values with their pointers: one, or one per partner.
fn places<'a>(value: &'a Value, input: &Input) -> Vec<(String, &'a Value)> {
    let name = input.name;
    let section = |key: &str| value.get(key).and_then(|s| s.get(name));
    let one = |v: Option<&'a Value>, at: String| v.map(|v| (at, v)).into_iter().collect();
    match input.section {
        Section::Top => one(value.get(name), format!("/{name}")),
        Section::Service => one(section("service"), format!("/service/{name}")),
        Section::Disputes => one(section("disputes"), format!("/disputes/{name}")),
        Section::Partner => value
            .get("partners")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, p)| Some((format!("/partners/{i}/{name}"), p.get(name)?)))
            .collect(),
    }
}

/// Checks a number, a distribution object or a list of discount bands at `at`.
fn check(v: &Value, at: &str, field: &str, bound: f64, found: &mut Vec<Warning>) {
    let mut number = |v: Option<&Value>, at: String| {
        if let Some(x) = v.and_then(Value::as_f64).filter(|&x| x > bound) {
            found.push(warning(at, x, field, bound));
        }
    };
    match v {
        Value::Number(_) => number(Some(v), at.to_string()),
        // Discount bands: each band's rate.
        Value::Array(bands) => {
            for (i, band) in bands.iter().enumerate() {
                number(band.get("rate"), format!("{at}/{i}/rate"));
            }
        }
        Value::Object(map) if map.len() == 1 => {
            let (form, args) = map.iter().next().expect("one key");
            let at = format!("{at}/{form}");
            let list = |k: usize| args.get(k);
            match form.as_str() {
                "fixed" => number(Some(args), at),
                "uniform" | "triangular" | "pert" => {
                    let n = args.as_array().map_or(0, Vec::len);
                    (0..n).for_each(|k| number(list(k), format!("{at}/{k}")));
                }
                // A spread (sd) is not a value the input takes.
                "normal" => number(list(0), format!("{at}/0")),
                "lognormal" => number(args.get("mean"), format!("{at}/mean")),
                "discrete" => {
                    let pairs = args.as_array().map_or(&[][..], Vec::as_slice);
                    for (k, pair) in pairs.iter().enumerate() {
                        number(pair.get(0), format!("{at}/{k}/0"));
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

fn warning(pointer: String, x: f64, field: &str, bound: f64) -> Warning {
    Warning {
        pointer,
        message: format!(
            "is {x}, that is {} %: did you mean {}? ({field} above {bound} is almost never \
             meant; rates are fractions, 0.15 for 15 %)",
            short(x * 100.0),
            short(x / 100.0)
        ),
    }
}

/// A number to at most 10 significant digits, without trailing zeros (`0.035`, not
/// `0.034999999999999996`).
fn short(x: f64) -> String {
    let digits = (9 - x.abs().log10().floor() as i32).clamp(0, 17) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers(v: &Value) -> Vec<String> {
        implausible(v).into_iter().map(|w| w.pointer).collect()
    }

    #[test]
    fn whole_percentages_are_found_in_numbers_distributions_and_bands() {
        let v = json!({
            "discount_rate": [{"from_year": 0, "rate": 3.5}, {"from_year": 5, "rate": 0.03}],
            "service": {"efficiency": {"pert": [5, 15, 25]}, "optimism_bias": 20},
            "partners": [
                {"withdrawal_hazard": 0.05},
                {"withdrawal_hazard": {"normal": [50, 80]}},
            ],
            "disputes": {"hazard_uplift": {"discrete": [[0.1, 1], [10, 1]]}}
        });
        assert_eq!(
            pointers(&v),
            [
                "/discount_rate/0/rate",
                "/service/efficiency/pert/0",
                "/service/efficiency/pert/1",
                "/service/efficiency/pert/2",
                "/service/optimism_bias",
                "/partners/1/withdrawal_hazard/normal/0",
                "/disputes/hazard_uplift/discrete/1/0",
            ]
        );
        let w = &implausible(&json!({"discount_rate": 3.5}))[0];
        assert_eq!(
            w.to_string(),
            "/discount_rate is 3.5, that is 350 %: did you mean 0.035? (discount_rate above 1 \
             is almost never meant; rates are fractions, 0.15 for 15 %)"
        );
    }

    #[test]
    fn values_at_or_below_the_bound_and_named_schedules_pass() {
        let v = json!({
            "discount_rate": "green_book",
            "service": {"efficiency": {"uniform": [0.1, 1]}, "optimism_bias": 2,
                        "efficiency_noise_sd": 0.5},
            "partners": [{"withdrawal_hazard": {"lognormal": {"mean": 0.1, "sd": 5}}}]
        });
        assert!(pointers(&v).is_empty());
        assert!(pointers(&json!({"discount_rate": 1})).is_empty());
    }

    #[test]
    fn short_trims_binary_noise() {
        assert_eq!(short(3.5 / 100.0), "0.035");
        assert_eq!(short(15.0 / 100.0), "0.15");
        assert_eq!(short(1500.0), "1500");
        assert_eq!(short(0.2 * 100.0), "20");
    }
}
