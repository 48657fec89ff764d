//! The one-cell text forms of a scenario workbook: a distribution (`pert(0.08, 0.15,
//! 0.22)`, `lognormal(mean=400000, sd=80000)`, `discrete(0: 0.5, 1: 0.5)`), a list of
//! numbers (`0.3, 0.7, 1`) and discount bands (`bands(0: 0.035, 31: 0.03)`), each
//! turned into exactly the JSON the file format has and back.
//!
//! Only the syntax is checked here (a known word, the right number and kind of
//! arguments, numbers that are numbers); ranges and the rules between parameters are
//! the loader's, so a workbook gets the same messages as a JSON file. Numbers are read
//! and written through serde_json's own number type, so `1.0` stays `1.0`.

use serde_json::{Map, Number, Value};

use super::super::inputs::DIST_FORMS;
use super::super::load::suggest;

/// The arguments a distribution form takes in a cell, mirroring its JSON form.
#[derive(Clone, Copy)]
enum Args {
    /// `fixed(x)`: `{"fixed": x}`.
    One,
    /// `word(a, b, ...)`: `{"word": [a, b, ...]}`, with these parameter names.
    List(&'static [&'static str]),
    /// `word(mean=m, sd=s)`: `{"word": {"mean": m, "sd": s}}`.
    Named(&'static [&'static str]),
    /// `word(v: w, ...)`: `{"word": [[v, w], ...]}`.
    Pairs,
}

/// Every distribution form of the JSON format and its arguments (a test checks the
/// words against [`DIST_FORMS`]).
const FORMS: &[(&str, Args)] = &[
    ("fixed", Args::One),
    ("uniform", Args::List(&["lo", "hi"])),
    ("triangular", Args::List(&["min", "mode", "max"])),
    ("pert", Args::List(&["min", "mode", "max"])),
    ("normal", Args::List(&["mean", "sd"])),
    ("lognormal", Args::Named(&["mean", "sd"])),
    ("discrete", Args::Pairs),
];

/// The word of discount bands in a cell.
const BANDS: &str = "bands";

/// A distribution-valued cell's text as JSON: a plain number, or a distribution in its
/// one-cell form.
pub fn dist(text: &str) -> Result<Value, String> {
    dist_form(text.trim()).map_err(|e| e + &decimal_comma(text))
}

/// What to add to a message about `text` if it looks written with a decimal comma (a
/// spreadsheet set to a continental locale writes `0,15` and separates with `;`) or a
/// thousands separator (`250,000`), which is otherwise read as a wrong count of numbers.
pub(super) fn decimal_comma(text: &str) -> String {
    // `pert(1,2)` is a count mistake, not a decimal comma: only a lone `0,15` is taken
    // for one.
    let lone_decimal_comma = text.trim().split_once(',').is_some_and(|(whole, part)| {
        number(whole).is_ok() && !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())
    });
    if text.contains(';') || lone_decimal_comma {
        " (a number here is written with a decimal point and no thousands separator, such \
         as 0.15 or 250000, and numbers are separated by commas, not ';')"
            .into()
    } else {
        String::new()
    }
}

/// Whether a list cell's `text` has a comma between two digits and no decimal point
/// anywhere: `0,5` is read as the two numbers 0 and 5, but was almost surely typed as a
/// half in a spreadsheet set to a decimal comma, so it is refused rather than read
/// silently. (`0.3,0.7,1` has points, so its commas separate; `0, 5` has a space.)
fn list_with_decimal_comma(text: &str) -> bool {
    !text.contains('.')
        && text
            .as_bytes()
            .windows(3)
            .any(|w| w[0].is_ascii_digit() && w[1] == b',' && w[2].is_ascii_digit())
}

fn dist_form(text: &str) -> Result<Value, String> {
    if let Ok(x) = number(text) {
        return Ok(x);
    }
    let Some((word, inner)) = call(text) else {
        return Err(format!(
            "expected a number or a distribution such as pert(0.08, 0.15, 0.22), found the text \"{text}\""
        ));
    };
    let Some(&(form, args)) = FORMS.iter().find(|(w, _)| *w == word) else {
        let hint = suggest(&word, DIST_FORMS)
            .map(|k| format!(" (did you mean \"{k}\"?)"))
            .unwrap_or_default();
        return Err(format!(
            "unknown distribution \"{word}\"{hint}; expected one of {}",
            DIST_FORMS.join(", ")
        ));
    };
    let parts = split(inner);
    let value = match args {
        Args::One => match parts[..] {
            [x] => number(x).map_err(|e| malformed(form, &e))?,
            _ => return Err(arity(form, "1 number", parts.len())),
        },
        Args::List(names) => {
            if parts.len() != names.len() {
                let shape = format!("{} numbers ({})", names.len(), names.join(", "));
                return Err(arity(form, &shape, parts.len()));
            }
            Value::Array(numbers(&parts).map_err(|e| malformed(form, &e))?)
        }
        Args::Named(names) => named(form, names, &parts)?,
        Args::Pairs => pairs(form, &parts)?,
    };
    Ok(Value::Object(Map::from_iter([(form.to_string(), value)])))
}

/// A list cell's text as JSON: numbers separated by commas.
pub fn list(text: &str) -> Result<Value, String> {
    if list_with_decimal_comma(text) {
        return Err(format!(
            "\"{}\" would be read as separate whole numbers, but it looks written with a \
             decimal comma: write decimals with a point (0.5 rather than 0,5), and separate \
             numbers with a comma and a space (0, 5)",
            text.trim()
        ));
    }
    numbers(&split(text.trim())).map(Value::Array).map_err(|e| {
        format!(
            "expected numbers separated by commas, such as 0.3, 0.7, 1: {e}{}",
            decimal_comma(text)
        )
    })
}

/// A discount-rate cell's text as JSON: a number, a schedule's name, or
/// `bands(from_year: rate, ...)`.
pub fn discount(text: &str) -> Result<Value, String> {
    let text = text.trim();
    if let Ok(x) = number(text) {
        return Ok(x);
    }
    let hint = decimal_comma(text);
    match call(text) {
        Some((word, inner)) if word == BANDS => {
            let parts = split(inner);
            let bands = parts
                .iter()
                .map(|p| {
                    let (from, rate) = pair(p).ok_or_else(|| {
                        format!(
                            "bands take from_year: rate pairs, such as bands(0: 0.035, 31: 0.03), found \"{p}\"{hint}"
                        )
                    })?;
                    Ok(Value::Object(Map::from_iter([
                        ("from_year".to_string(), from),
                        ("rate".to_string(), rate),
                    ])))
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Value::Array(bands))
        }
        // A rate typed with a decimal comma is no schedule's name.
        _ if !hint.is_empty() => Err(format!(
            "expected a rate, a schedule's name or bands(...), found the text \"{text}\"{hint}"
        )),
        // A schedule's name, checked (with its hint) by the loader.
        _ => Ok(Value::String(text.to_string())),
    }
}

/// A distribution's one-cell text, if `v` is one of the JSON forms with the JSON shape
/// its word takes (anything else is written as JSON text).
pub fn format_dist(v: &Value) -> Option<String> {
    let map = v.as_object().filter(|m| m.len() == 1)?;
    let (word, args) = map.iter().next()?;
    let &(_, shape) = FORMS.iter().find(|(w, _)| w == word)?;
    let inner = match shape {
        Args::One => shown(args)?,
        Args::List(names) => {
            let items = args.as_array().filter(|a| a.len() == names.len())?;
            joined(items)?
        }
        Args::Named(names) => {
            let fields = args.as_object().filter(|m| m.len() == names.len())?;
            let parts: Option<Vec<String>> = names
                .iter()
                .map(|n| Some(format!("{n}={}", shown(fields.get(*n)?)?)))
                .collect();
            parts?.join(", ")
        }
        Args::Pairs => pairs_text(args)?,
    };
    Some(format!("{word}({inner})"))
}

/// A list of numbers as one cell's text: `0.3, 0.7, 1.0`.
pub fn format_list(v: &Value) -> Option<String> {
    joined(v.as_array()?)
}

/// Discount bands as one cell's text: `bands(0: 0.035, 31: 0.03)`.
pub fn format_bands(v: &Value) -> Option<String> {
    let parts: Option<Vec<String>> = v
        .as_array()?
        .iter()
        .map(|band| {
            let band = band.as_object().filter(|b| b.len() == 2)?;
            Some(format!(
                "{}: {}",
                shown(band.get("from_year")?)?,
                shown(band.get("rate")?)?
            ))
        })
        .collect();
    Some(format!("{BANDS}({})", parts?.join(", ")))
}

/// `word(inner)`, the word lower-cased (a spreadsheet user may type `PERT(...)`).
fn call(text: &str) -> Option<(String, &str)> {
    let (word, rest) = text.split_once('(')?;
    let inner = rest.trim_end().strip_suffix(')')?;
    let word = word.trim();
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then(|| (word.to_ascii_lowercase(), inner))
}

/// The comma-separated parts of `inner`, trimmed; none for blank text.
fn split(inner: &str) -> Vec<&str> {
    if inner.trim().is_empty() {
        return Vec::new();
    }
    inner.split(',').map(str::trim).collect()
}

/// A number as serde_json reads it (so `1.0` stays a float and `2` a whole number),
/// forgiving the spellings a spreadsheet allows: `+5`, `.5`, `-.5`.
pub fn number(text: &str) -> Result<Value, String> {
    let text = text.trim();
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let spelt = match unsigned.strip_prefix('-') {
        Some(rest) if rest.starts_with('.') => format!("-0{rest}"),
        _ if unsigned.starts_with('.') => format!("0{unsigned}"),
        _ => unsigned.to_string(),
    };
    match serde_json::from_str::<Number>(&spelt) {
        Ok(n) => Ok(Value::Number(n)),
        Err(_) if text.is_empty() => Err("a number is missing".into()),
        Err(_) => Err(format!("\"{text}\" is not a number")),
    }
}

fn numbers(parts: &[&str]) -> Result<Vec<Value>, String> {
    parts.iter().map(|p| number(p)).collect()
}

/// `a: b` as two numbers.
fn pair(text: &str) -> Option<(Value, Value)> {
    let (a, b) = text.split_once(':')?;
    Some((number(a).ok()?, number(b).ok()?))
}

fn named(form: &str, names: &[&str], parts: &[&str]) -> Result<Value, String> {
    let example = || {
        let args: Vec<String> = names.iter().map(|n| format!("{n}=...")).collect();
        format!(
            "{form} takes {}, such as {form}(mean=400000, sd=80000)",
            args.join(", ")
        )
    };
    let mut map = Map::new();
    for part in parts {
        let (name, x) = part.split_once('=').ok_or_else(example)?;
        let name = name.trim().to_ascii_lowercase();
        if !names.contains(&name.as_str()) || map.contains_key(&name) {
            return Err(example());
        }
        map.insert(name, number(x).map_err(|e| malformed(form, &e))?);
    }
    if map.len() != names.len() {
        return Err(example());
    }
    // In the order the JSON form lists them, whatever the order typed.
    Ok(Value::Object(
        names
            .iter()
            .map(|n| (n.to_string(), map[*n].clone()))
            .collect(),
    ))
}

fn pairs(form: &str, parts: &[&str]) -> Result<Value, String> {
    if parts.is_empty() {
        return Err(arity(form, "at least one value: weight pair", 0));
    }
    let items = parts
        .iter()
        .map(|p| {
            let (v, w) = pair(p).ok_or_else(|| {
                format!("{form} takes value: weight pairs, such as {form}(0: 0.6, 1: 0.4), found \"{p}\"")
            })?;
            Ok(Value::Array(vec![v, w]))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Value::Array(items))
}

fn arity(form: &str, shape: &str, found: usize) -> String {
    format!("{form} takes {shape}, found {found}")
}

fn malformed(form: &str, e: &str) -> String {
    format!("in {form}(...): {e}")
}

/// A number's text as serde_json writes it; `None` for anything else.
fn shown(v: &Value) -> Option<String> {
    v.as_number().map(Number::to_string)
}

fn joined(items: &[Value]) -> Option<String> {
    let parts: Option<Vec<String>> = items.iter().map(shown).collect();
    Some(parts?.join(", "))
}

fn pairs_text(v: &Value) -> Option<String> {
    let parts: Option<Vec<String>> = v
        .as_array()?
        .iter()
        .map(|p| match p.as_array()?.as_slice() {
            [a, b] => Some(format!("{}: {}", shown(a)?, shown(b)?)),
            _ => None,
        })
        .collect();
    Some(parts?.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_json_form_has_a_cell_form() {
        let words: Vec<&str> = FORMS.iter().map(|(w, _)| *w).collect();
        assert_eq!(words, DIST_FORMS);
    }

    #[test]
    fn each_form_reads_into_its_json_and_back() {
        let cases = [
            ("fixed(3)", json!({"fixed": 3})),
            ("uniform(0.02, 0.05)", json!({"uniform": [0.02, 0.05]})),
            ("triangular(1.5, 2, 4)", json!({"triangular": [1.5, 2, 4]})),
            (
                "pert(0.08, 0.15, 0.22)",
                json!({"pert": [0.08, 0.15, 0.22]}),
            ),
            (
                "normal(4000000, 200000)",
                json!({"normal": [4000000, 200000]}),
            ),
            (
                "lognormal(mean=1500000, sd=400000)",
                json!({"lognormal": {"mean": 1500000, "sd": 400000}}),
            ),
            (
                "discrete(1.0: 0.6, 0.0: 0.4)",
                serde_json::from_str(r#"{"discrete": [[1.0, 0.6], [0.0, 0.4]]}"#).unwrap(),
            ),
        ];
        for (text, value) in cases {
            assert_eq!(dist(text).unwrap(), value, "{text}");
            assert_eq!(format_dist(&value).unwrap(), text);
        }
    }

    #[test]
    fn spreadsheet_spellings_are_forgiven() {
        assert_eq!(
            dist(" PERT( .08 ,0.15,+0.22 ) ").unwrap(),
            json!({"pert": [0.08, 0.15, 0.22]})
        );
        assert_eq!(
            dist("lognormal(sd=2, MEAN=10)").unwrap(),
            json!({"lognormal": {"mean": 10, "sd": 2}})
        );
        assert_eq!(dist("-.5").unwrap(), json!(-0.5));
    }

    #[test]
    fn mistakes_are_named() {
        let e = |t| dist(t).unwrap_err();
        assert_eq!(
            e("pertt(1, 2, 3)"),
            "unknown distribution \"pertt\" (did you mean \"pert\"?); expected one of fixed, \
             uniform, triangular, pert, normal, lognormal, discrete"
        );
        assert_eq!(
            e("pert(1, 2)"),
            "pert takes 3 numbers (min, mode, max), found 2"
        );
        assert_eq!(e("uniform(1, x)"), "in uniform(...): \"x\" is not a number");
        assert_eq!(
            e("lognormal(400000, 80000)"),
            "lognormal takes mean=..., sd=..., such as lognormal(mean=400000, sd=80000)"
        );
        assert_eq!(
            e("discrete(0, 1)"),
            "discrete takes value: weight pairs, such as discrete(0: 0.6, 1: 0.4), found \"0\""
        );
        assert_eq!(
            e("about 5"),
            "expected a number or a distribution such as pert(0.08, 0.15, 0.22), found the text \"about 5\""
        );
        // A spreadsheet set to a decimal comma: said as such.
        let hint = " (a number here is written with a decimal point and no thousands \
                    separator, such as 0.15 or 250000, and numbers are separated by commas, \
                    not ';')";
        assert_eq!(
            e("pert(0,08; 0,15; 0,22)"),
            format!("pert takes 3 numbers (min, mode, max), found 4{hint}")
        );
        assert_eq!(
            e("0,15"),
            format!(
                "expected a number or a distribution such as pert(0.08, 0.15, 0.22), found the \
                 text \"0,15\"{hint}"
            )
        );
        assert_eq!(
            list("0.3; 0.7; 1").unwrap_err(),
            format!(
                "expected numbers separated by commas, such as 0.3, 0.7, 1: \"0.3; 0.7; 1\" is \
                 not a number{hint}"
            )
        );
        // Numbers typed without spaces are a count mistake, not a decimal comma.
        assert_eq!(
            e("pert(1,2)"),
            "pert takes 3 numbers (min, mode, max), found 2"
        );
        // A list cell that would be read as whole numbers split at a decimal comma is
        // refused; with a point or a space its commas separate.
        let refused = "would be read as separate whole numbers, but it looks written with a \
                       decimal comma: write decimals with a point (0.5 rather than 0,5), and \
                       separate numbers with a comma and a space (0, 5)";
        assert_eq!(list("0,5").unwrap_err(), format!("\"0,5\" {refused}"));
        assert_eq!(
            list(" 0,3; 0,7; 1").unwrap_err(),
            format!("\"0,3; 0,7; 1\" {refused}")
        );
        assert_eq!(list("0, 5").unwrap(), json!([0, 5]));
        assert_eq!(list("0.3,0.7,1").unwrap(), json!([0.3, 0.7, 1]));
        assert_eq!(
            discount("0,035").unwrap_err(),
            format!(
                "expected a rate, a schedule's name or bands(...), found the text \"0,035\"{hint}"
            )
        );
        assert!(
            discount("bands(0: 0,035; 5: 0,03)")
                .unwrap_err()
                .ends_with(hint)
        );
        assert_eq!(discount("green_book").unwrap(), json!("green_book"));
    }

    #[test]
    fn lists_and_bands_read_and_write() {
        let ramp: Value = serde_json::from_str("[0.3, 0.7, 1.0]").unwrap();
        assert_eq!(list("0.3, 0.7, 1.0").unwrap(), ramp);
        assert_eq!(format_list(&ramp).unwrap(), "0.3, 0.7, 1.0");
        let bands = json!([{"from_year": 0, "rate": 0.035}, {"from_year": 31, "rate": 0.03}]);
        assert_eq!(discount("bands(0: 0.035, 31: 0.03)").unwrap(), bands);
        assert_eq!(format_bands(&bands).unwrap(), "bands(0: 0.035, 31: 0.03)");
        assert_eq!(discount("green_book").unwrap(), json!("green_book"));
        assert_eq!(discount("0.035").unwrap(), json!(0.035));
    }
}
