//! Reading and validating scenario JSON.
//!
//! serde's derive stops at the first error, but a finance officer editing a file wants every
//! mistake at once, each located by its JSON pointer. So the file is parsed into a
//! `serde_json::Value` (which gives line and column for syntax errors) and then walked by
//! hand here, collecting [`Problem`]s as it goes.

use std::path::Path;

use serde_json::{Map, Value};

use super::correlations::{self, Correlations};
use super::{
    CostSharing, DiscountRate, Disputes, Dist, Partner, Problem, Scenario, ScenarioError, Service,
};

/// Reads a scenario file into JSON without validating it.
pub fn read_value(path: &Path) -> Result<Value, ScenarioError> {
    let text = std::fs::read(path).map_err(|source| ScenarioError::Io {
        path: path.display().to_string(),
        source,
    })?;
    // Windows editors (Notepad among them) may start a UTF-8 file with a byte-order
    // mark, which JSON does not allow; it carries no content, so it is skipped.
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&text);
    serde_json::from_slice(text).map_err(|source| ScenarioError::Syntax {
        origin: path.display().to_string(),
        source,
    })
}

/// Reads and validates a scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    from_value(&read_value(path)?, &path.display().to_string())
}

/// Parses and validates scenario JSON text; `origin` names it in error messages.
pub fn from_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    // A byte-order mark is skipped, as by `read_value`.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(text).map_err(|source| ScenarioError::Syntax {
        origin: origin.to_string(),
        source,
    })?;
    from_value(&value, origin)
}

/// Validates scenario JSON; `origin` names it in error messages.
pub fn from_value(value: &Value, origin: &str) -> Result<Scenario, ScenarioError> {
    let mut c = Checker::default();
    let scenario = c.scenario(value);
    match scenario {
        Some(s) if c.problems.is_empty() => Ok(s),
        _ => Err(ScenarioError::Invalid {
            origin: origin.to_string(),
            problems: c.problems,
        }),
    }
}

/// The range a numeric field must lie in. Distribution-valued fields are checked on
/// their mean; sampled values outside the range are clamped at run time (MODEL.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    Any,
    NonNegative,
    Positive,
    Probability,
    /// Strictly greater than the bound (discount rates: > -0.99).
    Above(f64),
}

impl Range {
    fn contains(self, x: f64) -> bool {
        match self {
            Range::Any => true,
            Range::NonNegative => x >= 0.0,
            Range::Positive => x > 0.0,
            Range::Probability => (0.0..=1.0).contains(&x),
            Range::Above(b) => x > b,
        }
    }

    fn describe(self) -> String {
        match self {
            Range::Any => "any number".into(),
            Range::NonNegative => ">= 0".into(),
            Range::Positive => "> 0".into(),
            Range::Probability => "between 0 and 1".into(),
            Range::Above(b) => format!("> {b}"),
        }
    }
}

/// The largest magnitude any number in a scenario may have. A quadrillion pounds is far
/// beyond any public body's budget, and the bound keeps every product and sum the model
/// forms (costs x discount factors x trials) finite.
pub const MAX_MAGNITUDE: f64 = 1e15;

pub const TOP_KEYS: &[&str] = &[
    "$schema",
    "name",
    "description",
    "currency",
    "horizon_years",
    "discount_rate",
    "trials",
    "seed",
    "min_members",
    "service",
    "partners",
    "disputes",
    "correlations",
    "repair_correlations",
];
pub const SERVICE_KEYS: &[&str] = &[
    "fixed_cost",
    "efficiency",
    "ramp",
    "efficiency_noise_sd",
    "scale_elasticity",
    "transition_cost",
    "transition_profile",
    "optimism_bias",
    "cost_sharing",
];
pub const PARTNER_KEYS: &[&str] = &[
    "name",
    "baseline_cost",
    "joins_year",
    "join_probability",
    "onboarding_cost",
    "withdrawal_hazard",
    "hazard_profile",
    "disappointment_sensitivity",
    "lock_in_years",
    "exit_fee",
    "reestablish_cost",
    "rejoin_probability",
    "rejoin_fee",
];
pub const DISPUTE_KEYS: &[&str] = &[
    "annual_probability",
    "resolution_probability",
    "annual_cost",
    "efficiency_loss",
    "hazard_uplift",
];
pub const DIST_FORMS: &[&str] = &[
    "fixed",
    "uniform",
    "triangular",
    "pert",
    "normal",
    "lognormal",
    "discrete",
];

/// Walks a JSON value and collects every problem it finds.
#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

/// A JSON pointer child path, escaping `~` and `/` as RFC 6901 asks.
fn child(parent: &str, key: &str) -> String {
    format!("{parent}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn kind(v: &Value) -> String {
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
const MAX_HINTS: usize = 20;

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

fn did_you_mean(word: &str, known: &[&str]) -> String {
    match suggest(word, known) {
        Some(k) => format!(" (did you mean \"{k}\"?)"),
        None => String::new(),
    }
}

impl Checker {
    fn err(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_string(),
            message: message.into(),
        });
    }

    /// Checks that `v` is an object with no keys beyond `known`.
    fn object<'v>(
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

    fn number(&mut self, v: &Value, path: &str, range: Range) -> Option<f64> {
        let Some(x) = v.as_f64() else {
            self.err(path, format!("expected a number, found {}", kind(v)));
            return None;
        };
        if !x.is_finite() {
            self.err(path, "must be a finite number");
            return None;
        }
        if x.abs() > MAX_MAGNITUDE {
            self.err(
                path,
                format!("{x} is too large: numbers are limited to 1e15 in magnitude (a typo?)"),
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

    fn opt_number(
        &mut self,
        map: &Map<String, Value>,
        parent: &str,
        key: &str,
        default: f64,
        range: Range,
    ) -> Option<f64> {
        match map.get(key) {
            None => Some(default),
            Some(v) => self.number(v, &child(parent, key), range),
        }
    }

    /// A whole number in `lo..=hi` (JSON `10` and `10.0` both count).
    fn integer(&mut self, v: &Value, path: &str, lo: u64, hi: u64) -> Option<u64> {
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

    fn opt_integer(
        &mut self,
        map: &Map<String, Value>,
        parent: &str,
        key: &str,
        default: u64,
        lo: u64,
        hi: u64,
    ) -> Option<u64> {
        match map.get(key) {
            None => Some(default),
            Some(v) => self.integer(v, &child(parent, key), lo, hi),
        }
    }

    fn string(&mut self, v: &Value, path: &str) -> Option<String> {
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.err(path, format!("expected a string, found {}", kind(v)));
                None
            }
        }
    }

    /// A non-empty list of numbers, each in `range`.
    fn number_list(&mut self, v: &Value, path: &str, range: Range) -> Option<Vec<f64>> {
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

    fn opt_number_list(
        &mut self,
        map: &Map<String, Value>,
        parent: &str,
        key: &str,
        default: &[f64],
        range: Range,
    ) -> Option<Vec<f64>> {
        match map.get(key) {
            None => Some(default.to_vec()),
            Some(v) => self.number_list(v, &child(parent, key), range),
        }
    }

    /// A (D) field: a plain number or a distribution object whose mean lies in `range`.
    fn dist(&mut self, v: &Value, path: &str, range: Range) -> Option<Dist> {
        let dist = match v {
            Value::Number(_) => Dist::Fixed(self.number(v, path, Range::Any)?),
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

    fn opt_dist(
        &mut self,
        map: &Map<String, Value>,
        parent: &str,
        key: &str,
        default: f64,
        range: Range,
    ) -> Option<Dist> {
        match map.get(key) {
            None => Some(Dist::Fixed(default)),
            Some(v) => self.dist(v, &child(parent, key), range),
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
            "fixed" => Some(Dist::Fixed(self.number(args, &at, Range::Any)?)),
            "uniform" => {
                let [lo, hi] = self.numbers::<2>(args, &at, "[lo, hi]")?;
                if lo > hi {
                    self.err(&at, format!("lo {lo} is greater than hi {hi}"));
                    return None;
                }
                Some(Dist::Uniform { lo, hi })
            }
            "triangular" | "pert" => {
                let [min, mode, max] = self.numbers::<3>(args, &at, "[min, mode, max]")?;
                if min > mode {
                    self.err(&at, format!("min {min} is greater than mode {mode}"));
                    return None;
                }
                if mode > max {
                    self.err(&at, format!("mode {mode} is greater than max {max}"));
                    return None;
                }
                Some(if form == "pert" {
                    Dist::Pert { min, mode, max }
                } else {
                    Dist::Triangular { min, mode, max }
                })
            }
            "normal" => {
                let [mean, sd] = self.numbers::<2>(args, &at, "[mean, sd]")?;
                if sd < 0.0 {
                    self.err(&at, format!("sd {sd} is negative"));
                    return None;
                }
                Some(Dist::Normal { mean, sd })
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
        if mean <= 0.0 {
            self.err(
                &child(path, "mean"),
                format!("a lognormal's mean must be > 0, found {mean}"),
            );
            return None;
        }
        if sd < 0.0 {
            self.err(&child(path, "sd"), format!("sd {sd} is negative"));
            return None;
        }
        Some(Dist::LogNormal { mean, sd })
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
                if weight < 0.0 {
                    self.err(&child(&at, "1"), format!("weight {weight} is negative"));
                }
                pairs.push((value, weight));
            }
        }
        if self.problems.len() > before {
            return None;
        }
        let total: f64 = pairs.iter().map(|p| p.1).sum();
        if !(total > 0.0 && total.is_finite()) {
            self.err(
                path,
                format!("weights must sum to a positive finite number, found {total}"),
            );
            return None;
        }
        Some(Dist::Discrete(pairs))
    }

    fn scenario(&mut self, v: &Value) -> Option<Scenario> {
        let map = self.object(v, "", TOP_KEYS)?;
        let name = self
            .required(map, "", "name")
            .and_then(|v| self.string(v, "/name"));
        if name.as_deref() == Some("") {
            self.err("/name", "must not be empty");
        }
        let description = match map.get("description") {
            Some(v) => self.string(v, "/description"),
            None => Some(String::new()),
        };
        let currency = match map.get("currency") {
            Some(v) => self.string(v, "/currency"),
            None => Some("£".to_string()),
        };
        if let Some(v) = map.get("$schema") {
            self.string(v, "/$schema");
        }
        let horizon = self
            .required(map, "", "horizon_years")
            .and_then(|v| self.integer(v, "/horizon_years", 1, 100));
        let discount = self.discount(map.get("discount_rate"));
        let trials = self.opt_integer(map, "", "trials", 100_000, 1, u64::MAX);
        let seed = self.opt_integer(map, "", "seed", 1, 0, u64::MAX);
        let min_members = self.opt_integer(map, "", "min_members", 2, 1, u64::MAX);
        let partners = self
            .required(map, "", "partners")
            .and_then(|v| self.partners(v));
        let service = self
            .required(map, "", "service")
            .and_then(|v| self.service(v, partners.as_deref()));
        let disputes = match map.get("disputes") {
            Some(v) => self.disputes(v),
            None => Some(Disputes::default()),
        };
        let repair = match map.get("repair_correlations") {
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.err(
                    "/repair_correlations",
                    format!("expected true or false, found {}", kind(other)),
                );
                false
            }
            None => false,
        };
        let correlations = match (map.get("correlations"), &service, &disputes, &partners) {
            (None, ..) => Some(None),
            (Some(v), Some(service), Some(disputes), Some(partners)) => self
                .correlations(v, service, disputes, partners, repair)
                .map(Some),
            // The inputs named are themselves invalid: reported where they are.
            (Some(_), ..) => None,
        };
        if let (Some(partners), Some(min)) = (&partners, min_members) {
            let founders = partners.iter().filter(|p| p.is_founder()).count() as u64;
            if founders < min {
                self.err(
                    "/min_members",
                    format!(
                        "min_members is {min} but only {founders} partner{} found the consortium \
                         (joins_year 0): it would collapse at once",
                        if founders == 1 { "" } else { "s" }
                    ),
                );
            }
        }
        Some(Scenario {
            name: name?,
            description: description?,
            currency: currency?,
            horizon_years: horizon? as usize,
            discount: discount?,
            trials: trials?,
            seed: seed?,
            min_members: min_members? as usize,
            service: service?,
            partners: partners?,
            disputes: disputes?,
            correlations: correlations?,
        })
    }

    /// The `correlations` list: pairs of uncertain inputs with a rank correlation,
    /// checked to form a valid (positive semi-definite) matrix on the normal scale of the
    /// Gaussian copula, or repaired to the nearest valid one when `repair` is set.
    fn correlations(
        &mut self,
        v: &Value,
        service: &Service,
        disputes: &Disputes,
        partners: &[Partner],
        repair: bool,
    ) -> Option<Correlations> {
        const P: &str = "/correlations";
        let Some(items) = v.as_array() else {
            self.err(
                P,
                format!(
                    "expected a list of {{\"a\", \"b\", \"rank_correlation\"}}, found {}",
                    kind(v)
                ),
            );
            return None;
        };
        let before = self.problems.len();
        let mut labels: Vec<String> = Vec::new();
        let mut pairs: Vec<(usize, usize, f64)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = child(P, &i.to_string());
            let Some(map) = self.object(item, &at, &["a", "b", "rank_correlation"]) else {
                continue;
            };
            let mut end = |key: &str, this: &mut Checker| -> Option<usize> {
                let path = child(&at, key);
                let pointer = this
                    .required(map, &at, key)
                    .and_then(|v| this.string(v, &path))?;
                match correlations::resolve(&pointer, service, disputes, partners) {
                    Ok(label) => Some(match labels.iter().position(|l| *l == label) {
                        Some(j) => j,
                        None => {
                            labels.push(label);
                            labels.len() - 1
                        }
                    }),
                    Err(message) => {
                        this.err(&path, message);
                        None
                    }
                }
            };
            let a = end("a", self);
            let b = end("b", self);
            let r = self
                .required(map, &at, "rank_correlation")
                .and_then(|v| self.number(v, &child(&at, "rank_correlation"), Range::Any));
            if let Some(r) = r
                && !(-1.0..=1.0).contains(&r)
            {
                self.err(
                    &child(&at, "rank_correlation"),
                    format!("{r} is out of range: must be between -1 and 1"),
                );
                continue;
            }
            let (Some(a), Some(b), Some(r)) = (a, b, r) else {
                continue;
            };
            if a == b {
                self.err(&at, "an input cannot be correlated with itself");
            } else if let Some(j) = pairs
                .iter()
                .position(|&(x, y, _)| (x, y) == (a, b) || (x, y) == (b, a))
            {
                self.err(&at, format!("this pair is already correlated at {P}/{j}"));
            } else {
                pairs.push((a, b, r));
            }
        }
        if self.problems.len() > before {
            return None;
        }
        match correlations::Correlations::build(labels, &pairs, repair) {
            Ok(c) => Some(c),
            Err(message) => {
                self.err(P, message);
                None
            }
        }
    }

    fn required<'v>(
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

    fn discount(&mut self, v: Option<&Value>) -> Option<DiscountRate> {
        const PATH: &str = "/discount_rate";
        let above = Range::Above(-0.99);
        match v {
            None => Some(DiscountRate::Constant(0.035)),
            Some(Value::Number(_)) => Some(DiscountRate::Constant(self.number(v?, PATH, above)?)),
            Some(Value::String(s)) => match s.as_str() {
                "green_book" => Some(DiscountRate::green_book()),
                "green_book_health" => Some(DiscountRate::green_book_health()),
                other => {
                    let known = ["green_book", "green_book_health"];
                    self.err(
                        PATH,
                        format!(
                            "unknown discount rate \"{other}\"{}; expected a number, \"green_book\", \
                             \"green_book_health\" or a list of {{\"from_year\", \"rate\"}} bands",
                            did_you_mean(other, &known)
                        ),
                    );
                    None
                }
            },
            Some(Value::Array(items)) if !items.is_empty() => {
                let before = self.problems.len();
                let mut bands = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let at = child(PATH, &i.to_string());
                    let Some(band) = self.object(item, &at, &["from_year", "rate"]) else {
                        continue;
                    };
                    let from = self
                        .required(band, &at, "from_year")
                        .and_then(|v| self.integer(v, &child(&at, "from_year"), 0, u64::MAX));
                    let rate = self
                        .required(band, &at, "rate")
                        .and_then(|v| self.number(v, &child(&at, "rate"), above));
                    if let (Some(from), Some(rate)) = (from, rate) {
                        bands.push((from as usize, rate));
                    }
                }
                if self.problems.len() > before {
                    return None;
                }
                if bands[0].0 != 0 {
                    self.err(
                        &child(PATH, "0/from_year"),
                        "the first band must start at year 0",
                    );
                    return None;
                }
                if let Some(i) = bands.windows(2).position(|w| w[1].0 <= w[0].0) {
                    self.err(
                        &child(PATH, &format!("{}/from_year", i + 1)),
                        "bands must be in strictly increasing from_year order",
                    );
                    return None;
                }
                Some(DiscountRate::Bands(bands))
            }
            Some(other) => {
                self.err(
                    PATH,
                    format!(
                        "expected a number, \"green_book\", \"green_book_health\" or a non-empty \
                         list of {{\"from_year\", \"rate\"}} bands, found {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    fn service(&mut self, v: &Value, partners: Option<&[Partner]>) -> Option<Service> {
        const P: &str = "/service";
        let map = self.object(v, P, SERVICE_KEYS)?;
        let fixed_cost = self.opt_dist(map, P, "fixed_cost", 0.0, Range::NonNegative);
        let efficiency = self
            .required(map, P, "efficiency")
            .and_then(|v| self.dist(v, "/service/efficiency", Range::Any));
        let ramp = self.opt_number_list(map, P, "ramp", &[1.0], Range::Any);
        let noise = self.opt_number(map, P, "efficiency_noise_sd", 0.0, Range::NonNegative);
        let elasticity = self.opt_number(map, P, "scale_elasticity", 0.0, Range::Any);
        let transition_cost = self.opt_dist(map, P, "transition_cost", 0.0, Range::NonNegative);
        let profile =
            self.opt_number_list(map, P, "transition_profile", &[1.0], Range::NonNegative);
        if let Some(profile) = &profile {
            let sum: f64 = profile.iter().sum();
            if (sum - 1.0).abs() > 1e-9 {
                self.err(
                    "/service/transition_profile",
                    format!("shares must sum to 1 (within 1e-9), but they sum to {sum}"),
                );
            }
        }
        let bias = self.opt_number(map, P, "optimism_bias", 0.0, Range::NonNegative);
        let sharing = match map.get("cost_sharing") {
            None => Some(CostSharing::Proportional),
            Some(v) => self.cost_sharing(v, partners),
        };
        Some(Service {
            fixed_cost: fixed_cost?,
            efficiency: efficiency?,
            ramp: ramp?,
            efficiency_noise_sd: noise?,
            scale_elasticity: elasticity?,
            transition_cost: transition_cost?,
            transition_profile: profile?,
            optimism_bias: bias?,
            cost_sharing: sharing?,
        })
    }

    fn cost_sharing(&mut self, v: &Value, partners: Option<&[Partner]>) -> Option<CostSharing> {
        const P: &str = "/service/cost_sharing";
        match v {
            Value::String(s) if s == "proportional" => Some(CostSharing::Proportional),
            Value::String(s) if s == "equal" => Some(CostSharing::Equal),
            Value::Object(_) => {
                let map = self.object(v, P, &["fixed"])?;
                let Some(weights) = map.get("fixed") else {
                    self.err(P, "expected {\"fixed\": {\"<partner name>\": weight, ...}}");
                    return None;
                };
                let at = child(P, "fixed");
                let Some(weights) = weights.as_object() else {
                    self.err(
                        &at,
                        format!(
                            "expected an object of partner weights, found {}",
                            kind(weights)
                        ),
                    );
                    return None;
                };
                // Partner errors are reported where the partners are; nothing to match here.
                let partners = partners?;
                let names: Vec<&str> = partners.iter().map(|p| p.name.as_str()).collect();
                let known: std::collections::HashSet<&str> = names.iter().copied().collect();
                let before = self.problems.len();
                // A misspelt name most likely means a partner that has no weight yet.
                let unweighted: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|n| !weights.contains_key(*n))
                    .collect();
                // Hints for the first few unknown names only: each costs a comparison
                // with every unweighted partner.
                let mut hints = 0;
                for key in weights.keys() {
                    if !known.contains(key.as_str()) {
                        hints += 1;
                        let hint = if hints <= MAX_HINTS {
                            did_you_mean(key, &unweighted)
                        } else {
                            String::new()
                        };
                        self.err(
                            &child(&at, key),
                            format!("\"{key}\" is not a partner{hint}"),
                        );
                    }
                }
                let mut out = Vec::with_capacity(partners.len());
                let mut missing = Vec::new();
                for p in partners {
                    match weights.get(&p.name) {
                        Some(w) => out.push(
                            self.number(w, &child(&at, &p.name), Range::Positive)
                                .unwrap_or(1.0),
                        ),
                        None => missing.push(format!("\"{}\"", p.name)),
                    }
                }
                if !missing.is_empty() {
                    self.err(
                        &at,
                        format!(
                            "fixed weights must name every partner; missing {}",
                            missing.join(", ")
                        ),
                    );
                }
                (self.problems.len() == before).then_some(CostSharing::Fixed(out))
            }
            other => {
                let hint = other
                    .as_str()
                    .map(|s| did_you_mean(s, &["proportional", "equal"]))
                    .unwrap_or_default();
                self.err(
                    P,
                    format!(
                        "expected \"proportional\", \"equal\" or {{\"fixed\": {{...}}}}, found {}{hint}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    fn partners(&mut self, v: &Value) -> Option<Vec<Partner>> {
        let Some(items) = v.as_array() else {
            self.err(
                "/partners",
                format!("expected a list of partners, found {}", kind(v)),
            );
            return None;
        };
        if items.is_empty() {
            self.err("/partners", "must list at least one partner");
            return None;
        }
        let before = self.problems.len();
        let partners: Vec<Option<Partner>> = items
            .iter()
            .enumerate()
            .map(|(i, p)| self.partner(p, &format!("/partners/{i}")))
            .collect();
        // Names are compared as written, so a duplicate is found even in a partner
        // with other problems.
        let names: Vec<Option<&str>> = items
            .iter()
            .map(|p| p.get("name").and_then(Value::as_str))
            .collect();
        let mut first_at: std::collections::HashMap<&str, usize> = Default::default();
        for (i, name) in names.iter().enumerate() {
            let Some(name) = name else { continue };
            let j = *first_at.entry(name).or_insert(i);
            if j != i {
                self.err(
                    &format!("/partners/{i}/name"),
                    format!("duplicate partner name \"{name}\" (also at /partners/{j})"),
                );
            }
        }
        if self.problems.len() > before {
            return None;
        }
        partners.into_iter().collect()
    }

    fn partner(&mut self, v: &Value, at: &str) -> Option<Partner> {
        let map = self.object(v, at, PARTNER_KEYS)?;
        let name = self
            .required(map, at, "name")
            .and_then(|v| self.string(v, &child(at, "name")));
        if name.as_deref() == Some("") {
            self.err(&child(at, "name"), "must not be empty");
        }
        let baseline = self
            .required(map, at, "baseline_cost")
            .and_then(|v| self.dist(v, &child(at, "baseline_cost"), Range::Positive));
        let nonneg = Range::NonNegative;
        let prob = Range::Probability;
        let joins_year = self.opt_integer(map, at, "joins_year", 0, 0, u64::MAX);
        let join_probability = self.opt_dist(map, at, "join_probability", 1.0, prob);
        let onboarding_cost = self.opt_dist(map, at, "onboarding_cost", 0.0, nonneg);
        let withdrawal_hazard = self.opt_dist(map, at, "withdrawal_hazard", 0.0, nonneg);
        let hazard_profile = self.opt_number_list(map, at, "hazard_profile", &[1.0], nonneg);
        let sensitivity = self.opt_number(map, at, "disappointment_sensitivity", 0.0, nonneg);
        let lock_in_years = self.opt_integer(map, at, "lock_in_years", 0, 0, u64::MAX);
        let exit_fee = self.opt_dist(map, at, "exit_fee", 0.0, nonneg);
        let reestablish_cost = self.opt_dist(map, at, "reestablish_cost", 0.0, nonneg);
        let rejoin_probability = self.opt_dist(map, at, "rejoin_probability", 0.0, prob);
        let rejoin_fee = self.opt_dist(map, at, "rejoin_fee", 0.0, nonneg);
        Some(Partner {
            name: name?,
            baseline_cost: baseline?,
            joins_year: joins_year? as usize,
            join_probability: join_probability?,
            onboarding_cost: onboarding_cost?,
            withdrawal_hazard: withdrawal_hazard?,
            hazard_profile: hazard_profile?,
            disappointment_sensitivity: sensitivity?,
            lock_in_years: lock_in_years? as usize,
            exit_fee: exit_fee?,
            reestablish_cost: reestablish_cost?,
            rejoin_probability: rejoin_probability?,
            rejoin_fee: rejoin_fee?,
        })
    }

    fn disputes(&mut self, v: &Value) -> Option<Disputes> {
        const P: &str = "/disputes";
        let map = self.object(v, P, DISPUTE_KEYS)?;
        let prob = Range::Probability;
        let annual_probability = self.opt_number(map, P, "annual_probability", 0.0, prob);
        let resolution_probability = self.opt_number(map, P, "resolution_probability", 0.0, prob);
        let annual_cost = self.opt_dist(map, P, "annual_cost", 0.0, Range::NonNegative);
        let efficiency_loss = self.opt_number(map, P, "efficiency_loss", 0.0, prob);
        let hazard_uplift = self.opt_number(map, P, "hazard_uplift", 0.0, Range::NonNegative);
        Some(Disputes {
            annual_probability: annual_probability?,
            resolution_probability: resolution_probability?,
            annual_cost: annual_cost?,
            efficiency_loss: efficiency_loss?,
            hazard_uplift: hazard_uplift?,
        })
    }
}
