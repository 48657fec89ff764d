//! Distribution-valued inputs: the (D) fields of MODEL.md.
//!
//! A [`Dist`] is the validated form of `{"uniform": [lo, hi]}` and its siblings. It knows
//! its own mean (validation checks the mean against the field's range) and how to sample
//! itself from one random stream (see [`crate::sample`]).

use std::fmt;

/// One validated distribution. Parameters are already checked: finite, ordered, sd >= 0,
/// weights with a positive sum.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// A plain number, or `{"fixed": x}`.
    Fixed(f64),
    /// `{"uniform": [lo, hi]}`.
    Uniform { lo: f64, hi: f64 },
    /// `{"triangular": [min, mode, max]}`.
    Triangular { min: f64, mode: f64, max: f64 },
    /// `{"pert": [min, mode, max]}`: Beta-PERT with lambda 4.
    Pert { min: f64, mode: f64, max: f64 },
    /// `{"normal": [mean, sd]}`.
    Normal { mean: f64, sd: f64 },
    /// `{"lognormal": {"mean": m, "sd": s}}`: mean and sd of the variable itself.
    LogNormal { mean: f64, sd: f64 },
    /// `{"discrete": [[value, weight], ...]}`; weights need not be normalised.
    Discrete(Vec<(f64, f64)>),
}

impl Dist {
    /// The distribution's mean, used to check it against the field's range.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed(x) => x,
            Dist::Uniform { lo, hi } => 0.5 * (lo + hi),
            Dist::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            Dist::Pert { min, mode, max } => (min + 4.0 * mode + max) / 6.0,
            Dist::Normal { mean, .. } | Dist::LogNormal { mean, .. } => mean,
            Dist::Discrete(ref pairs) => {
                let total: f64 = pairs.iter().map(|&(_, w)| w).sum();
                pairs.iter().map(|&(v, w)| v * w).sum::<f64>() / total
            }
        }
    }

    /// The distribution's variance (used by tests and the scenario summary).
    pub fn variance(&self) -> f64 {
        match *self {
            Dist::Fixed(_) => 0.0,
            Dist::Uniform { lo, hi } => (hi - lo).powi(2) / 12.0,
            Dist::Triangular { min, mode, max } => {
                (min * min + mode * mode + max * max - min * mode - min * max - mode * max) / 18.0
            }
            Dist::Pert { min, mode, max } => {
                if max == min {
                    return 0.0;
                }
                let (a, b) = pert_shapes(min, mode, max);
                (max - min).powi(2) * a * b / ((a + b).powi(2) * (a + b + 1.0))
            }
            Dist::Normal { sd, .. } | Dist::LogNormal { sd, .. } => sd * sd,
            Dist::Discrete(ref pairs) => {
                let mean = self.mean();
                let total: f64 = pairs.iter().map(|&(_, w)| w).sum();
                pairs
                    .iter()
                    .map(|&(v, w)| w * (v - mean).powi(2))
                    .sum::<f64>()
                    / total
            }
        }
    }

    /// True for a distribution that always gives the same value.
    pub fn is_fixed(&self) -> bool {
        matches!(self, Dist::Fixed(_))
    }
}

/// Beta shape parameters of a Beta-PERT with lambda 4.
pub fn pert_shapes(min: f64, mode: f64, max: f64) -> (f64, f64) {
    let range = max - min;
    (
        1.0 + 4.0 * (mode - min) / range,
        1.0 + 4.0 * (max - mode) / range,
    )
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dist::Fixed(x) => write!(f, "{x}"),
            Dist::Uniform { lo, hi } => write!(f, "uniform({lo}, {hi})"),
            Dist::Triangular { min, mode, max } => write!(f, "triangular({min}, {mode}, {max})"),
            Dist::Pert { min, mode, max } => write!(f, "pert({min}, {mode}, {max})"),
            Dist::Normal { mean, sd } => write!(f, "normal(mean {mean}, sd {sd})"),
            Dist::LogNormal { mean, sd } => write!(f, "lognormal(mean {mean}, sd {sd})"),
            Dist::Discrete(pairs) => write!(f, "discrete({} values)", pairs.len()),
        }
    }
}
