//! Distribution-valued (D) fields: a plain number or a distribution object, checked
//! into a [`Dist`] whose mean lies in the field's range.

use serde_json::{Map, Value};

use super::super::dist::{Dist, DistError};
use super::super::inputs::{Absent, DIST_FORMS, Input, Kind, Range};
use super::Checker;
use super::values::{child, did_you_mean, kind};

impl Checker {
    /// A (D) field: a plain number or a distribution object whose mean lies in `range`.
    pub(super) fn dist(&mut self, v: &Value, path: &str, range: Range) -> Option<Dist> {
        let dist = match v {
            Value::Number(_) => {
                let x = self.number(v, path, Range::Any)?;
                self.made(Dist::fixed(x), path)?
            }
            Value::Object(map) => self.dist_object(map, path)?,
            _ => {
                self.err(
                    path,
                    format!(
                        "expected a number or a distribution such as {{\"uniform\": [lo, hi]}}, found {}",
                        kind(v)
                    ),
                );
                return None;
            }
        };
        let mean = dist.mean();
        if !range.contains(mean) {
            let what = if dist.is_fixed() {
                format!("{mean} is out of range")
            } else {
                format!("the distribution's mean {mean} lies outside the field's range")
            };
            self.err(path, format!("{what}: must be {}", range.describe()));
            return None;
        }
        Some(dist)
    }

    /// The (D) field `input` of `map` at `parent`, or its default (a fixed number).
    pub(super) fn dist_field(
        &mut self,
        map: &Map<String, Value>,
        parent: &str,
        input: &Input,
    ) -> Option<Dist> {
        debug_assert!(input.is_dist(), "{}", input.name);
        match (map.get(input.name), input.absent) {
            (Some(v), _) => self.dist(v, &child(parent, input.name), input.range()),
            (None, Absent::Number(x)) => self.made(Dist::fixed(x), parent),
            (None, _) => self.missing(map, parent, input),
        }
    }

    /// A partner's `joins_year` ([`Kind::WholeOrDist`]): a plain year (or `{"fixed": y}`,
    /// the same thing) must be a whole number >= 0; any other distribution makes an
    /// uncertain late joiner and needs only a mean >= 0 (its draws are rounded per trial).
    pub(super) fn join_year_field(
        &mut self,
        map: &Map<String, Value>,
        parent: &str,
        input: &Input,
    ) -> Option<Dist> {
        debug_assert_eq!(input.kind, Kind::WholeOrDist, "{}", input.name);
        let Some(v) = map.get(input.name) else {
            let Absent::Number(x) = input.absent else {
                unreachable!("joins_year has a default")
            };
            return self.made(Dist::fixed(x), parent);
        };
        let path = child(parent, input.name);
        let dist = self.dist(v, &path, input.range())?;
        if dist.is_fixed() {
            let x = dist.mean();
            if x.fract() != 0.0 {
                self.err(
                    &path,
                    format!(
                        "expected a whole number of years, found {x} (an uncertain join year \
                         is a distribution such as {{\"uniform\": [2, 4]}})"
                    ),
                );
                return None;
            }
        }
        Some(dist)
    }

    /// The distribution a constructor made, or its error reported at `at` (or below it,
    /// where the error lies).
    fn made(&mut self, dist: Result<Dist, DistError>, at: &str) -> Option<Dist> {
        match dist {
            Ok(d) => Some(d),
            Err(e) => {
                self.err(&format!("{at}{}", e.suffix()), e.to_string());
                None
            }
        }
    }

    fn dist_object(&mut self, map: &Map<String, Value>, path: &str) -> Option<Dist> {
        if map.len() != 1 {
            self.err(
                path,
                format!(
                    "a distribution object has exactly one key, one of: {}",
                    DIST_FORMS.join(", ")
                ),
            );
            return None;
        }
        let (form, args) = map.iter().next().expect("one key");
        let at = child(path, form);
        match form.as_str() {
            "fixed" => {
                let x = self.number(args, &at, Range::Any)?;
                self.made(Dist::fixed(x), &at)
            }
            "uniform" => {
                let [lo, hi] = self.numbers::<2>(args, &at, "[lo, hi]")?;
                self.made(Dist::uniform(lo, hi), &at)
            }
            "triangular" | "pert" => {
                let [min, mode, max] = self.numbers::<3>(args, &at, "[min, mode, max]")?;
                let dist = if form == "pert" {
                    Dist::pert(min, mode, max)
                } else {
                    Dist::triangular(min, mode, max)
                };
                self.made(dist, &at)
            }
            "normal" => {
                let [mean, sd] = self.numbers::<2>(args, &at, "[mean, sd]")?;
                self.made(Dist::normal(mean, sd), &at)
            }
            "lognormal" => self.lognormal(args, &at),
            "discrete" => self.discrete(args, &at),
            other => {
                self.err(
                    &at,
                    format!(
                        "unknown distribution \"{other}\"{}; expected one of {}",
                        did_you_mean(other, DIST_FORMS),
                        DIST_FORMS.join(", ")
                    ),
                );
                None
            }
        }
    }

    /// Exactly `N` finite numbers in a list.
    fn numbers<const N: usize>(&mut self, v: &Value, path: &str, shape: &str) -> Option<[f64; N]> {
        match v.as_array() {
            Some(items) if items.len() == N => {
                let mut out = [0.0; N];
                let mut ok = true;
                for (i, x) in items.iter().enumerate() {
                    match self.number(x, &child(path, &i.to_string()), Range::Any) {
                        Some(x) => out[i] = x,
                        None => ok = false,
                    }
                }
                ok.then_some(out)
            }
            _ => {
                self.err(
                    path,
                    format!("expected {shape}, a list of {N} numbers, found {}", kind(v)),
                );
                None
            }
        }
    }

    fn lognormal(&mut self, v: &Value, path: &str) -> Option<Dist> {
        let map = self.object(v, path, &["mean", "sd"])?;
        let (Some(m), Some(s)) = (map.get("mean"), map.get("sd")) else {
            self.err(path, "expected {\"mean\": m, \"sd\": s}");
            return None;
        };
        let mean = self.number(m, &child(path, "mean"), Range::Any);
        let sd = self.number(s, &child(path, "sd"), Range::Any);
        let (mean, sd) = (mean?, sd?);
        match Dist::lognormal(mean, sd) {
            // The error names the parameter: the message is put at it.
            Err(e @ DistError::NegativeSd(_)) => {
                self.err(&child(path, "sd"), e.to_string());
                None
            }
            made => self.made(made, path),
        }
    }

    fn discrete(&mut self, v: &Value, path: &str) -> Option<Dist> {
        let Some(items) = v.as_array().filter(|a| !a.is_empty()) else {
            self.err(
                path,
                format!(
                    "expected a non-empty list of [value, weight] pairs, found {}",
                    kind(v)
                ),
            );
            return None;
        };
        let before = self.problems.len();
        let mut pairs = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = child(path, &i.to_string());
            if let Some([value, weight]) = self.numbers::<2>(item, &at, "[value, weight]") {
                // Every negative weight is reported, not only the first as by the
                // constructor.
                if weight < 0.0 {
                    let e = DistError::NegativeWeight { index: i, weight };
                    self.err(&format!("{path}{}", e.suffix()), e.to_string());
                }
                pairs.push((value, weight));
            }
        }
        if self.problems.len() > before {
            return None;
        }
        self.made(Dist::discrete(pairs), path)
    }
}
