//! The fields with a shape of their own: the discount rate (a number, a named schedule
//! or bands), cost sharing (a rule or weights by partner name) and the correlations
//! list.

use serde_json::Value;

use super::super::correlations::{self, Correlations};
use super::super::inputs::Range;
use super::super::{
    CostSharing, DiscountRate, Disputes, Dist, Partner, Service, consortium_inputs,
};
use super::Checker;
use super::values::{MAX_HINTS, child, did_you_mean, kind};

impl Checker {
    pub(super) fn discount(&mut self, v: Option<&Value>) -> Option<DiscountRate> {
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
                        &child(&child(PATH, "0"), "from_year"),
                        "the first band must start at year 0",
                    );
                    return None;
                }
                if let Some(i) = bands.windows(2).position(|w| w[1].0 <= w[0].0) {
                    self.err(
                        &child(&child(PATH, &(i + 1).to_string()), "from_year"),
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

    pub(super) fn cost_sharing(
        &mut self,
        v: &Value,
        partners: Option<&[Partner]>,
    ) -> Option<CostSharing> {
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

    /// The `correlations` list: pairs of uncertain inputs with a rank correlation,
    /// checked to form a valid (positive semi-definite) matrix on the normal scale of the
    /// Gaussian copula, or repaired to the nearest valid one when `repair` is set.
    pub(super) fn correlations(
        &mut self,
        v: &Value,
        service: &Service,
        disputes: &Disputes,
        contagion: &Dist,
        partners: &[Partner],
        repair: bool,
    ) -> Option<Correlations> {
        let consortium = consortium_inputs(service, disputes, contagion);
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
        let mut held: Vec<bool> = Vec::new();
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
                match correlations::resolve(&pointer, &consortium, partners) {
                    Ok((label, fixed)) => Some(match labels.iter().position(|l| *l == label) {
                        Some(j) => j,
                        None => {
                            labels.push(label);
                            held.push(fixed);
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
        match correlations::Correlations::build(labels, &pairs, &held, repair) {
            Ok(c) => Some(c),
            Err(message) => {
                self.err(P, message);
                None
            }
        }
    }
}
