//! Single values: numbers in a range, whole numbers, strings, lists of numbers, objects
//! with known keys, and the fields whose range and default the table of inputs gives.

use serde_json::{Map, Value};

use super::super::Problem;
use super::super::inputs::{Absent, Input, Kind, Range};
use super::{Checker, MAX_MAGNITUDE};

/// A JSON pointer child path, escaping `~` and `/` as RFC 6901 asks.
pub(super) fn child(parent: &str, key: &str) -> String {
    format!("{parent}/{}", key.replace('~', "~0").replace('/', "~1"))
}

pub(super) fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => "a string".into(),
        Value::String(s) => format!("the string \"{s}\""),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// How many unknown names in one object get a "did you mean" hint.
pub(super) const MAX_HINTS: usize = 20;

/// The closest known name to `word`, if it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    // Edit distance is quadratic in length: names past this are not typos worth a hint,
    // and a file of huge names must not take minutes to validate.
    const LONGEST: usize = 64;
    if word.len() > LONGEST {
        return None;
    }
    let lower = word.to_lowercase();
    let close = known
        .iter()
        .filter(|k| k.len() <= LONGEST)
        .map(|k| (strsim::levenshtein(&lower, &k.to_lowercase()), *k))
        .filter(|&(d, k)| d <= 2.max(k.len() / 3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k);
    // A shortened name ("resolution" for "resolution_probability").
    close.or_else(|| {
        known
            .iter()
            .find(|k| lower.len() >= 4 && k.to_lowercase().starts_with(&lower))
            .copied()
    })
}

pub(super) fn did_you_mean(word: &str, known: &[&str]) -> String {
    match suggest(word, known) {
        Some(k) => format!(" (did you mean \"{k}\"?)"),
        None => String::new(),
    }
}

impl Checker {
    pub(super) fn err(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_string(),
            message: message.into(),
            cell: None,
        });
    }

    /// Checks that `v` is an object with no keys beyond `known`.
    pub(super) fn object<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        known: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(map) = v.as_object() else {
            self.err(path, format!("expected an object, found {}", kind(v)));
            return None;
        };
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                self.err(
                    &child(path, key),
                    format!("unknown field \"{key}\"{}", did_you_mean(key, known)),
                );
            }
        }
        Some(map)
    }

    pub(super) fn number(&mut self, v: &Value, path: &str, range: Range) -> Option<f64> {
        let Some(x) = v.as_f64() else {
            self.err(path, format!("expected a number, found {}", kind(v)));
            return None;
        };
        if !x.is_finite() {
            self.err(path, "must be a finite number");
            return None;
        }
        if x.abs() > MAX_MAGNITUDE {
            // 1e300 in exponent form, not as its 301 digits.
            let shown = if x.abs() < 1e21 {
                x.to_string()
            } else {
                format!("{x:e}")
            };
            self.err(
                path,
                format!("{shown} is too large: numbers are limited to 1e15 in magnitude (a typo?)"),
            );
            return None;
        }
        if !range.contains(x) {
            self.err(
                path,
                format!("{x} is out of range: must be {}", range.describe()),
            );
            return None;
        }
        Some(x)
    }

    /// A whole number in `lo..=hi` (JSON `10` and `10.0` both count).
    pub(super) fn integer(&mut self, v: &Value, path: &str, lo: u64, hi: u64) -> Option<u64> {
        let n = match v {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    // 2^64, exactly: every whole double below it fits in a u64.
                    .filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x < 18_446_744_073_709_551_616.0)
                    .map(|x| x as u64)
            }),
            _ => None,
        };
        // Formatted only for an error: most numbers are in range.
        let bounds = || {
            if hi == u64::MAX {
                format!("at least {lo}")
            } else {
                format!("between {lo} and {hi}")
            }
        };
        match n {
            // A whole number beyond what 64 bits hold (a seed of 2e19, or a negative
            // count) is out of range, not "not whole".
            None if v.as_f64().is_some_and(|x| x.fract() == 0.0) => {
                let found = kind(v);
                let bounds = match v.as_f64() {
                    Some(x) if x > 0.0 && hi == u64::MAX => format!("at most {hi}"),
                    _ => bounds(),
                };
                self.err(path, format!("{found} is out of range: must be {bounds}"));
                None
            }
            None => {
                let found = kind(v);
                self.err(path, format!("expected a whole number, found {found}"));
                None
            }
            Some(n) if n < lo || n > hi => {
                self.err(path, format!("{n} is out of range: must be {}", bounds()));
                None
            }
            Some(n) => Some(n),
        }
    }

    pub(super) fn string(&mut self, v: &Value, path: &str) -> Option<String> {
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.err(path, format!("expected a string, found {}", kind(v)));
                None
            }
        }
    }

    /// A non-empty list of numbers, each in `range`.
    pub(super) fn number_list(&mut self, v: &Value, path: &str, range: Range) -> Option<Vec<f64>> {
        let Some(items) = v.as_array() else {
            self.err(
                path,
                format!("expected a list of numbers, found {}", kind(v)),
            );
            return None;
        };
        if items.is_empty() {
            self.err(path, "must not be empty");
            return None;
        }
        let before = self.problems.len();
        let out: Vec<f64> = items
            .iter()
            .enumerate()
            .filter_map(|(i, x)| self.number(x, &child(path, &i.to_string()), range))
            .collect();
        (self.problems.len() == before).then_some(out)
    }

    pub(super) fn required<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        parent: &str,
        key: &str,
    ) -> Option<&'v Value> {
        let v = map.get(key);
        if v.is_none() {
            let at = if parent.is_empty() {
                "(top level)"
            } else {
                parent
            };
            self.err(
                &child(parent, key),
                format!("required field \"{key}\" is missing from {at}"),
            );
        }
        v
    }

    /// The number field `input` of the object `map` at `parent`, or its default.
    pub(super) fn number_field(
        &mut self,
        map: &Map<String, Value>,
        parent: &str,
        input: &Input,
    ) -> Option<f64> {
        debug_assert!(matches!(input.kind, Kind::Number(_)), "{}", input.name);
        match (map.get(input.name), input.absent) {
            (Some(v), _) => self.number(v, &child(parent, input.name), input.range()),
            (None, Absent::Number(x)) => Some(x),
            (None, _) => self.missing(map, parent, input),
        }
    }

    /// The whole-number field `input` of `map` at `parent`, or its default.
    pub(super) fn whole_field(
        &mut self,
        map: &Map<String, Value>,
        parent: &str,
        input: &Input,
    ) -> Option<u64> {
        let Kind::Whole(lo, hi) = input.kind else {
            unreachable!("{} is not a whole number", input.name)
        };
        match (map.get(input.name), input.absent) {
            (Some(v), _) => self.integer(v, &child(parent, input.name), lo, hi),
            (None, Absent::Whole(n)) => Some(n),
            (None, _) => self.missing(map, parent, input),
        }
    }

    /// The list field `input` of `map` at `parent`, or its default.
    pub(super) fn list_field(
        &mut self,
        map: &Map<String, Value>,
        parent: &str,
        input: &Input,
    ) -> Option<Vec<f64>> {
        debug_assert!(matches!(input.kind, Kind::List(_)), "{}", input.name);
        match (map.get(input.name), input.absent) {
            (Some(v), _) => self.number_list(v, &child(parent, input.name), input.range()),
            (None, Absent::List(list)) => Some(list.to_vec()),
            (None, _) => self.missing(map, parent, input),
        }
    }

    /// The string field `input` of `map` at `parent`, or its default.
    pub(super) fn text_field(
        &mut self,
        map: &Map<String, Value>,
        parent: &str,
        input: &Input,
    ) -> Option<String> {
        debug_assert!(matches!(input.kind, Kind::Text), "{}", input.name);
        match (map.get(input.name), input.absent) {
            (Some(v), _) => self.string(v, &child(parent, input.name)),
            (None, Absent::Text(text)) => Some(text.to_string()),
            (None, _) => self.missing(map, parent, input),
        }
    }

    /// Reports the required field `input` as missing from `map`.
    pub(super) fn missing<T>(
        &mut self,
        map: &Map<String, Value>,
        parent: &str,
        input: &Input,
    ) -> Option<T> {
        debug_assert_eq!(input.absent, Absent::Required, "{}", input.name);
        self.required(map, parent, input.name);
        None
    }
}
