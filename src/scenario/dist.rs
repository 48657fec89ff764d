//! Distribution-valued inputs: the (D) fields of docs/model.md.
//!
//! A [`Dist`] is the validated form of `{"uniform": [lo, hi]}` and its siblings. It knows
//! its own mean (validation checks the mean against the field's range) and how to sample
//! itself from one random stream (see [`crate::sample`]).
//!
//! A `Dist` can only be made by its constructors, which check the parameters, so the
//! samplers built from one may rely on them; [`Dist::kind`] shows its parameters
//! read-only.

use std::fmt;

/// One validated distribution: parameters finite, ordered, sd >= 0, weights >= 0 with a
/// positive finite sum. Built by [`Dist::new`] or the constructor of each form.
#[derive(Debug, Clone, PartialEq)]
pub struct Dist(DistKind);

/// The form and parameters of a [`Dist`]: a read-only view (a `DistKind` made by hand
/// becomes a `Dist` only through [`Dist::new`], which checks it).
#[derive(Debug, Clone, PartialEq)]
pub enum DistKind {
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

/// Why parameters do not make a distribution. The messages are the loader's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DistError {
    #[error("{0} is not a finite number")]
    NotFinite(f64),
    #[error("lo {lo} is greater than hi {hi}")]
    LoAboveHi { lo: f64, hi: f64 },
    #[error("min {min} is greater than mode {mode}")]
    MinAboveMode { min: f64, mode: f64 },
    #[error("mode {mode} is greater than max {max}")]
    ModeAboveMax { mode: f64, max: f64 },
    #[error("a lognormal's mean must be > 0, found {0}")]
    LogNormalMean(f64),
    #[error("sd {0} is negative")]
    NegativeSd(f64),
    #[error("expected a non-empty list of [value, weight] pairs")]
    NoValues,
    #[error("weight {weight} is negative")]
    NegativeWeight { index: usize, weight: f64 },
    #[error("weights must sum to a positive finite number, found {0}")]
    WeightSum(f64),
}

impl DistError {
    /// Where in the distribution's JSON (below its form's key) the error lies, as a
    /// pointer suffix ("" for the form itself): the loader's path for the message.
    pub fn suffix(&self) -> String {
        match self {
            DistError::LogNormalMean(_) => "/mean".into(),
            DistError::NegativeWeight { index, .. } => format!("/{index}/1"),
            _ => String::new(),
        }
    }
}

fn finite(xs: &[f64]) -> Result<(), DistError> {
    match xs.iter().find(|x| !x.is_finite()) {
        Some(&x) => Err(DistError::NotFinite(x)),
        None => Ok(()),
    }
}

impl Dist {
    /// The distribution that is always 0.
    pub const ZERO: Dist = Dist(DistKind::Fixed(0.0));

    /// Checks `kind`'s parameters.
    pub fn new(kind: DistKind) -> Result<Dist, DistError> {
        match kind {
            DistKind::Fixed(x) => Dist::fixed(x),
            DistKind::Uniform { lo, hi } => Dist::uniform(lo, hi),
            DistKind::Triangular { min, mode, max } => Dist::triangular(min, mode, max),
            DistKind::Pert { min, mode, max } => Dist::pert(min, mode, max),
            DistKind::Normal { mean, sd } => Dist::normal(mean, sd),
            DistKind::LogNormal { mean, sd } => Dist::lognormal(mean, sd),
            DistKind::Discrete(pairs) => Dist::discrete(pairs),
        }
    }

    /// Always `x`.
    pub fn fixed(x: f64) -> Result<Dist, DistError> {
        finite(&[x])?;
        Ok(Dist(DistKind::Fixed(x)))
    }

    /// Uniform on `[lo, hi]`.
    pub fn uniform(lo: f64, hi: f64) -> Result<Dist, DistError> {
        finite(&[lo, hi])?;
        if lo > hi {
            return Err(DistError::LoAboveHi { lo, hi });
        }
        Ok(Dist(DistKind::Uniform { lo, hi }))
    }

    fn min_mode_max(min: f64, mode: f64, max: f64) -> Result<(), DistError> {
        finite(&[min, mode, max])?;
        if min > mode {
            return Err(DistError::MinAboveMode { min, mode });
        }
        if mode > max {
            return Err(DistError::ModeAboveMax { mode, max });
        }
        Ok(())
    }

    /// Triangular with the given minimum, mode and maximum.
    pub fn triangular(min: f64, mode: f64, max: f64) -> Result<Dist, DistError> {
        Dist::min_mode_max(min, mode, max)?;
        Ok(Dist(DistKind::Triangular { min, mode, max }))
    }

    /// Beta-PERT (lambda 4) with the given minimum, mode and maximum.
    pub fn pert(min: f64, mode: f64, max: f64) -> Result<Dist, DistError> {
        Dist::min_mode_max(min, mode, max)?;
        Ok(Dist(DistKind::Pert { min, mode, max }))
    }

    /// Normal with the given mean and standard deviation.
    pub fn normal(mean: f64, sd: f64) -> Result<Dist, DistError> {
        finite(&[mean, sd])?;
        if sd < 0.0 {
            return Err(DistError::NegativeSd(sd));
        }
        Ok(Dist(DistKind::Normal { mean, sd }))
    }

    /// Lognormal whose variable (not its logarithm) has the given mean and sd.
    pub fn lognormal(mean: f64, sd: f64) -> Result<Dist, DistError> {
        finite(&[mean, sd])?;
        if mean <= 0.0 {
            return Err(DistError::LogNormalMean(mean));
        }
        if sd < 0.0 {
            return Err(DistError::NegativeSd(sd));
        }
        Ok(Dist(DistKind::LogNormal { mean, sd }))
    }

    /// Discrete over `(value, weight)` pairs; the weights need not be normalised.
    pub fn discrete(pairs: Vec<(f64, f64)>) -> Result<Dist, DistError> {
        if pairs.is_empty() {
            return Err(DistError::NoValues);
        }
        for (index, &(value, weight)) in pairs.iter().enumerate() {
            finite(&[value, weight])?;
            if weight < 0.0 {
                return Err(DistError::NegativeWeight { index, weight });
            }
        }
        let total: f64 = pairs.iter().map(|p| p.1).sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(DistError::WeightSum(total));
        }
        Ok(Dist(DistKind::Discrete(pairs)))
    }

    /// The form and parameters.
    pub fn kind(&self) -> &DistKind {
        &self.0
    }

    /// The distribution's mean, used to check it against the field's range.
    pub fn mean(&self) -> f64 {
        match self.0 {
            DistKind::Fixed(x) => x,
            DistKind::Uniform { lo, hi } => 0.5 * (lo + hi),
            DistKind::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            DistKind::Pert { min, mode, max } => (min + 4.0 * mode + max) / 6.0,
            DistKind::Normal { mean, .. } | DistKind::LogNormal { mean, .. } => mean,
            DistKind::Discrete(ref pairs) => {
                let total: f64 = pairs.iter().map(|&(_, w)| w).sum();
                pairs.iter().map(|&(v, w)| v * w).sum::<f64>() / total
            }
        }
    }

    /// The distribution's variance (used by tests and the scenario summary).
    pub fn variance(&self) -> f64 {
        match self.0 {
            DistKind::Fixed(_) => 0.0,
            DistKind::Uniform { lo, hi } => (hi - lo).powi(2) / 12.0,
            DistKind::Triangular { min, mode, max } => {
                (min * min + mode * mode + max * max - min * mode - min * max - mode * max) / 18.0
            }
            DistKind::Pert { min, mode, max } => {
                if max == min {
                    return 0.0;
                }
                let (a, b) = pert_shapes(min, mode, max);
                (max - min).powi(2) * a * b / ((a + b).powi(2) * (a + b + 1.0))
            }
            DistKind::Normal { sd, .. } | DistKind::LogNormal { sd, .. } => sd * sd,
            DistKind::Discrete(ref pairs) => {
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
        matches!(self.0, DistKind::Fixed(_))
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
        match &self.0 {
            DistKind::Fixed(x) => write!(f, "{x}"),
            DistKind::Uniform { lo, hi } => write!(f, "uniform({lo}, {hi})"),
            DistKind::Triangular { min, mode, max } => {
                write!(f, "triangular({min}, {mode}, {max})")
            }
            DistKind::Pert { min, mode, max } => write!(f, "pert({min}, {mode}, {max})"),
            DistKind::Normal { mean, sd } => write!(f, "normal(mean {mean}, sd {sd})"),
            DistKind::LogNormal { mean, sd } => write!(f, "lognormal(mean {mean}, sd {sd})"),
            DistKind::Discrete(pairs) => write!(f, "discrete({} values)", pairs.len()),
        }
    }
}
