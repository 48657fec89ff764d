//! Trial-level sampling of distribution-valued inputs.
//!
//! Each (D) input is sampled once per trial from one word at its own position of the
//! trial's inputs stream (see [`crate::rng`]), so making one input uncertain, or changing
//! its distribution, leaves every other input's draw in every trial exactly where it
//! was. Samplers are prepared once, when the plan is compiled; sampling itself allocates
//! nothing.
//!
//! Every draw is a pure function of its one word, which is what common random numbers
//! need. Normal and log-normal inputs take the ziggurat normal of the word (the same
//! exact method as the yearly efficiency noise, [`normal_from_word`]): a table lookup
//! and a comparison for 98.5 % of words, where an inverse distribution function needs a
//! rational function, and a logarithm in the tails. Every other form takes its inverse
//! distribution function at the word's uniform; Beta-PERT, whose quantile has no closed
//! form, reads a precomputed table instead of running a rejection sampler (see
//! [`PertTable`]).
//!
//! Correlated inputs (a Gaussian copula) work on the normal scale: each input's word
//! gives a standard normal score ([`Sampler::normal_score`]), the copula mixes the
//! scores, and each input takes its value at its mixed score ([`Sampler::at_score`]).
//! Score and value are inverse to each other up to rounding, so a correlation of 0
//! leaves every draw where it was uncorrelated.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::copula::{normal_quantile, open_normal_cdf};
use crate::rng::{normal_from_word, open_unit};
use crate::scenario::dist::pert_shapes;
use crate::scenario::{Dist, DistKind};

/// A distribution prepared for fast sampling.
#[derive(Debug, Clone)]
#[repr(u8)]
pub enum Sampler {
    Fixed(f64),
    Uniform {
        lo: f64,
        width: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
    },
    Pert {
        min: f64,
        range: f64,
        table: Arc<PertTable>,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    /// Values and their cumulative weights (the last is the total).
    Discrete {
        values: Vec<f64>,
        cumulative: Vec<f64>,
    },
}

impl Sampler {
    /// Prepares a validated distribution.
    pub fn new(dist: &Dist) -> Sampler {
        match *dist.kind() {
            DistKind::Fixed(x) => Sampler::Fixed(x),
            DistKind::Uniform { lo, hi } => Sampler::Uniform { lo, width: hi - lo },
            DistKind::Triangular { min, mode, max } if max > min => {
                Sampler::Triangular { min, mode, max }
            }
            DistKind::Pert { min, mode, max } if max > min => {
                let (a, b) = pert_shapes(min, mode, max);
                Sampler::Pert {
                    min,
                    range: max - min,
                    table: PertTable::cached(a, b),
                }
            }
            DistKind::Triangular { min, .. } | DistKind::Pert { min, .. } => Sampler::Fixed(min),
            DistKind::Normal { mean, sd } => Sampler::Normal { mean, sd },
            DistKind::LogNormal { mean, sd } => {
                // ln(1 + cv^2), written so that a huge coefficient of variation cannot
                // overflow (cv^2 of a tiny mean would).
                let cv = sd / mean;
                let sigma2 = if cv > 1e100 {
                    2.0 * (sd.ln() - mean.ln())
                } else {
                    cv.mul_add(cv, 1.0).ln()
                };
                Sampler::LogNormal {
                    mu: mean.ln() - 0.5 * sigma2,
                    sigma: sigma2.sqrt(),
                }
            }
            DistKind::Discrete(ref pairs) => {
                let mut total = 0.0;
                let cumulative = pairs
                    .iter()
                    .map(|&(_, w)| {
                        total += w;
                        total
                    })
                    .collect();
                Sampler::Discrete {
                    values: pairs.iter().map(|&(v, _)| v).collect(),
                    cumulative,
                }
            }
        }
    }

    /// True when the value never varies (no stream is needed).
    pub fn fixed_value(&self) -> Option<f64> {
        match *self {
            Sampler::Fixed(x) => Some(x),
            _ => None,
        }
    }

    /// The draw of an uncorrelated input whose word is `word`. For normal and
    /// log-normal inputs this is `at_score(normal_score(word))`, written out here: the
    /// call cost 7 % of the sampling time. A PERT input reads its table straight off the
    /// word ([`PertTable::quantile_of_word`], the same value bit for bit).
    #[inline(always)]
    pub fn from_word(&self, word: u64) -> f64 {
        match *self {
            Sampler::Normal { mean, sd } => mean + sd * normal_from_word(word),
            Sampler::LogNormal { mu, sigma } => (mu + sigma * normal_from_word(word)).exp(),
            Sampler::Pert {
                min,
                range,
                ref table,
            } => min + range * table.quantile_of_word(word),
            _ => self.quantile(open_unit(word)),
        }
    }

    /// The standard normal score of `word` that a copula mixes: the ziggurat normal for
    /// normal and log-normal inputs, exactly as [`Sampler::from_word`] draws them;
    /// Phi^-1 of the word's uniform for the others.
    pub fn normal_score(&self, word: u64) -> f64 {
        match *self {
            Sampler::Normal { .. } | Sampler::LogNormal { .. } => normal_from_word(word),
            _ => normal_quantile(open_unit(word)),
        }
    }

    /// The draw of an uncorrelated input from `word` by its inverse distribution
    /// function alone, so that a higher word never gives a lower value: what Latin
    /// hypercube sampling needs (see [`crate::lhs`]). Equal to [`Sampler::from_word`]
    /// for every form but normal and log-normal, which take Phi^-1 of the word's uniform
    /// instead of its ziggurat normal.
    #[inline]
    pub fn monotone_from_word(&self, word: u64) -> f64 {
        match *self {
            Sampler::Normal { .. } | Sampler::LogNormal { .. } => {
                self.at_score(normal_quantile(open_unit(word)))
            }
            _ => self.from_word(word),
        }
    }

    /// The standard normal score of `word`, Phi^-1 of its uniform for every form: the
    /// monotone counterpart of [`Sampler::normal_score`], for Latin hypercube sampling.
    pub fn monotone_normal_score(&self, word: u64) -> f64 {
        normal_quantile(open_unit(word))
    }

    /// The value at standard normal score `z`: the inverse of
    /// [`Sampler::normal_score`], up to rounding.
    pub fn at_score(&self, z: f64) -> f64 {
        match *self {
            Sampler::Normal { mean, sd } => mean + sd * z,
            Sampler::LogNormal { mu, sigma } => (mu + sigma * z).exp(),
            _ => self.quantile(open_normal_cdf(z)),
        }
    }

    /// The value at cumulative probability `u` in (0, 1).
    #[inline(always)]
    pub fn quantile(&self, u: f64) -> f64 {
        match self {
            Sampler::Fixed(x) => *x,
            Sampler::Uniform { lo, width } => lo + width * u,
            Sampler::Triangular { min, mode, max } => {
                let range = max - min;
                let left = mode - min;
                // Which side of the mode u falls is a coin toss the processor cannot
                // predict, so both sides are formed and one is picked by arithmetic
                // (exact: a product with 0 or 1), with no branch. (Both sides are
                // finite for any parameters the loader accepts, at most 1e15 in
                // magnitude; picking by bit masks, safe beyond, was 10 % slower.)
                //
                // Each side takes its own square root, rather than one root of the
                // picked square: the two roots run side by side instead of after the
                // pick, which made sampling 10 % faster (3 triangular inputs). The value
                // is the one-root form's bit for bit, signed zeros included, for
                // min <= mode <= max (see the test `triangular_two_roots_are_exact`).
                // Two terms are there for a zero's sign only, as the one-root form's
                // sums had it: `low * low_root` (not `low_root`) where min is the only
                // nonzero term, and `+ 0.0`, which turns a square of -0 (max = -0.0)
                // into +0.
                let low = f64::from(u8::from(u * range < left));
                let low_root = (u * range * left).sqrt();
                let high_root = ((1.0 - u) * range * (max - mode) + 0.0).sqrt();
                low * (min + low * low_root) + (1.0 - low) * (max - high_root)
            }
            Sampler::Pert { min, range, table } => min + range * table.quantile(u),
            Sampler::Normal { mean, sd } => mean + sd * normal_quantile(u),
            Sampler::LogNormal { mu, sigma } => (mu + sigma * normal_quantile(u)).exp(),
            Sampler::Discrete { values, cumulative } => {
                let total = cumulative[cumulative.len() - 1];
                let target = u * total;
                // The count of cumulative weights <= target: by a scan without
                // branches for the few values a scenario usually lists (a binary
                // search's branches would be mispredicted half the time), by bisection
                // for long lists.
                let i = if cumulative.len() <= 16 {
                    cumulative.iter().filter(|&&c| c <= target).count()
                } else {
                    cumulative.partition_point(|&c| c <= target)
                };
                // Guard against rounding at the top end; zero-weight values are never
                // chosen because their cumulative equals the previous one.
                values[i.min(values.len() - 1)]
            }
        }
    }
}

/// Intervals of a [`PertTable`]'s main grid, evenly spaced in probability: a word's top
/// 10 bits pick one. 1,024 cubics take 32 KiB; 4,096 (error 7.5e-11 instead of 1.7e-8)
/// took 128 KiB and made a scenario with 25 PERT inputs 6 % slower, from cache misses
/// alone.
const PERT_INTERVALS: usize = 1024;

/// Intervals of the main grid at each end that a tail table serves instead. Near u = 0
/// the quantile of a Beta(a, b) goes as u^(1/a), whose slope is infinite for a > 1: no
/// polynomial in u follows it, and the linear table this replaces was off by up to
/// 1.3e-4 in probability there (Beta(1, 5)). In w = (u / u_T)^(1/a) it is smooth
/// (analytic: u is x^a times a power series in x), so the tail tables are cubic in w.
const PERT_TAIL_INTERVALS: usize = 8;

/// Intervals of each tail table, evenly spaced in w.
const PERT_TAIL_NODES: usize = 128;

/// The probability below which (and above 1 less which) the tail tables serve.
const PERT_TAIL_PROBABILITY: f64 = PERT_TAIL_INTERVALS as f64 / PERT_INTERVALS as f64;

/// One piece of a piecewise cubic: its value at fraction t of its interval is
/// `c[0] + t (c[1] + t (c[2] + t c[3]))`.
type Cubic = [f64; 4];

/// The cubic through `y0` and `y1` at the ends of an interval with slopes `d0` and
/// `d1` there (per whole interval): Hermite interpolation, whose error is of the fourth
/// order in the interval's width where the function is smooth.
fn hermite(y0: f64, y1: f64, d0: f64, d1: f64) -> Cubic {
    [
        y0,
        d0,
        3.0 * (y1 - y0) - 2.0 * d0 - d1,
        2.0 * (y0 - y1) + d0 + d1,
    ]
}

/// The cubic's value at `t` (Horner's rule; plain products and sums, not `mul_add`,
/// which is a slow library call on a processor baseline without fused multiply-add).
#[inline(always)]
fn cubic_at(c: &Cubic, t: f64) -> f64 {
    c[0] + t * (c[1] + t * (c[2] + t * c[3]))
}

/// The quantile function of a Beta(a, b) on [0, 1], as a piecewise cubic accurate to
/// 2e-8 in probability (see the test `pert_table_is_accurate_in_probability`):
/// on 1,024 equal intervals of probability it is the Hermite cubic through the exact
/// quantiles and slopes at their ends (the inverse regularised incomplete beta function
/// and 1 / density); in the first and last 8 intervals (u_T = 1/128), a cubic in
/// w = (u / u_T)^(1/a) on 128 intervals (and likewise in 1 - u with b), which costs one
/// power for 1.6 % of draws.
///
/// Why a table at all: an exact inversion per draw (Newton's method on the incomplete
/// beta function) costs about a microsecond, a rejection sampler takes a variable number
/// of words and so breaks common random numbers; the table costs a few nanoseconds and
/// keeps one word per draw.
#[derive(Debug)]
pub struct PertTable {
    /// The cubics of the main grid; the first and last [`PERT_TAIL_INTERVALS`] are never
    /// read (their tails serve), but keeping them makes an index below
    /// [`PERT_INTERVALS`] need no offset and no bounds check.
    main: Box<[Cubic; PERT_INTERVALS]>,
    /// The tail at u = 0, as a function of w = (u / u_T)^(1/a).
    lower: Tail,
    /// The tail at u = 1, as a function of w = ((1 - u) / u_T)^(1/b).
    upper: Tail,
}

/// One tail of a [`PertTable`].
#[derive(Debug)]
struct Tail {
    /// 1 / (the shape at this end).
    inverse_shape: f64,
    cubics: Box<[Cubic; PERT_TAIL_NODES]>,
}

impl Tail {
    /// The lower tail of Beta(a, b), or with `upper` the upper tail (the lower tail of
    /// Beta(b, a) turned around: x -> 1 - x).
    fn new(a: f64, b: f64, upper: bool) -> Tail {
        let ln_beta = ln_beta(a, b);
        let u_t = PERT_TAIL_PROBABILITY;
        let n = PERT_TAIL_NODES as f64;
        // x at w and its slope dx/dw (per whole tail). At w = 0 the slope is the limit
        // (a B u_T)^(1/a) of x ~ (a B u)^(1/a).
        let node = |j: usize| -> (f64, f64) {
            if j == 0 {
                return (0.0, (a * ln_beta.exp() * u_t).powf(1.0 / a));
            }
            let w = j as f64 / n;
            let u = u_t * w.powf(a);
            let x = quantile_exact(u, a, b);
            let slope = u_t * a * w.powf(a - 1.0) / density(x, a, b, ln_beta);
            (x, slope)
        };
        let mut cubics = Box::new([[0.0; 4]; PERT_TAIL_NODES]);
        let mut left = node(0);
        for (j, cubic) in cubics.iter_mut().enumerate() {
            let right = node(j + 1);
            let (y0, y1, d0, d1) = (left.0, right.0, left.1 / n, right.1 / n);
            *cubic = if upper {
                hermite(1.0 - y0, 1.0 - y1, -d0, -d1)
            } else {
                hermite(y0, y1, d0, d1)
            };
            left = right;
        }
        Tail {
            inverse_shape: 1.0 / a,
            cubics,
        }
    }

    /// The quantile at probability `p` <= u_T from this tail's end (u for the lower
    /// tail, 1 - u for the upper).
    #[inline(never)]
    fn at(&self, p: f64) -> f64 {
        // p / u_T is exact: u_T is a power of two.
        let w = (p * (1.0 / PERT_TAIL_PROBABILITY)).powf(self.inverse_shape);
        let x = w * PERT_TAIL_NODES as f64;
        let j = (x as usize).min(PERT_TAIL_NODES - 1);
        cubic_at(&self.cubics[j], x - j as f64)
    }
}

/// ln B(a, b).
fn ln_beta(a: f64, b: f64) -> f64 {
    puruspe::ln_gamma(a) + puruspe::ln_gamma(b) - puruspe::ln_gamma(a + b)
}

/// The Beta(a, b) density at x in (0, 1).
fn density(x: f64, a: f64, b: f64, ln_beta: f64) -> f64 {
    ((a - 1.0) * x.ln() + (b - 1.0) * (-x).ln_1p() - ln_beta).exp()
}

/// The exact quantile (to rounding) by the inverse regularised incomplete beta function.
fn quantile_exact(u: f64, a: f64, b: f64) -> f64 {
    puruspe::invbetai(u, a, b).clamp(0.0, 1.0)
}

impl PertTable {
    fn new(a: f64, b: f64) -> PertTable {
        let ln_beta = ln_beta(a, b);
        let n = PERT_INTERVALS as f64;
        // The quantile and its slope per whole interval at node i; the tails' nodes
        // are never used.
        let node = |i: usize| -> (f64, f64) {
            if !(PERT_TAIL_INTERVALS..=PERT_INTERVALS - PERT_TAIL_INTERVALS).contains(&i) {
                return (0.0, 0.0);
            }
            let x = quantile_exact(i as f64 / n, a, b);
            (x, 1.0 / (n * density(x, a, b, ln_beta)))
        };
        let mut main = Box::new([[0.0; 4]; PERT_INTERVALS]);
        let mut left = node(0);
        for (i, cubic) in main.iter_mut().enumerate() {
            let right = node(i + 1);
            *cubic = hermite(left.0, right.0, left.1, right.1);
            left = right;
        }
        PertTable {
            main,
            lower: Tail::new(a, b, false),
            upper: Tail::new(b, a, true),
        }
    }

    /// The table for shapes (a, b), built once per process: a sweep recompiles its plan
    /// at every point, and the shapes rarely change between points.
    fn cached(a: f64, b: f64) -> Arc<PertTable> {
        type Tables = Mutex<HashMap<(u64, u64), Arc<PertTable>>>;
        static TABLES: OnceLock<Tables> = OnceLock::new();
        let tables = TABLES.get_or_init(Default::default);
        let mut tables = tables.lock().unwrap_or_else(|e| e.into_inner());
        tables
            .entry((a.to_bits(), b.to_bits()))
            .or_insert_with(|| Arc::new(PertTable::new(a, b)))
            .clone()
    }

    /// The quantile at `u` in [0, 1].
    #[inline]
    pub fn quantile(&self, u: f64) -> f64 {
        let x = u * PERT_INTERVALS as f64;
        let i = (x as usize).min(PERT_INTERVALS - 1);
        self.at(i, x - i as f64, u)
    }

    /// The quantile in interval `i` of the main grid at fraction `frac` of it, where
    /// the probability is `u`.
    #[inline(always)]
    fn at(&self, i: usize, frac: f64, u: f64) -> f64 {
        if i < PERT_TAIL_INTERVALS {
            self.lower.at(u)
        } else if i >= PERT_INTERVALS - PERT_TAIL_INTERVALS {
            // 1 - u is exact here (u >= 1/2).
            self.upper.at(1.0 - u)
        } else {
            cubic_at(&self.main[i], frac)
        }
    }

    /// [`PertTable::quantile`] at `open_unit(word)`, bit for bit, read off the word's
    /// bits instead of converting through the float: the uniform is (k + 1/2) / 2^52
    /// for the word's top 52 bits k, so u x 1024 = (k + 1/2) / 2^42 exactly, whose whole
    /// part (the interval) is the word's top 10 bits and whose fraction, (the next 42
    /// bits + 1/2) / 2^42, is exact too. This skips the saturating float-to-integer
    /// conversion, the `min` and the bounds checks (10 bits always index the table), and
    /// the fraction no longer waits for the interval. Only the tails, 1.6 % of words,
    /// form the uniform.
    #[inline]
    pub fn quantile_of_word(&self, word: u64) -> f64 {
        const FRACTION_BITS: u32 = 52 - PERT_INTERVALS.trailing_zeros();
        // The interval's bits are the uniform's 52 less the fraction's: as many as the
        // table has intervals.
        const _: () = assert!(PERT_INTERVALS == 1 << (52 - FRACTION_BITS));
        let i = (word >> (12 + FRACTION_BITS)) as usize;
        let below = (word >> 12) & ((1 << FRACTION_BITS) - 1);
        let frac = (below as f64 + 0.5) * (1.0 / (1u64 << FRACTION_BITS) as f64);
        // One comparison for both tails: below the lower one, i - 8 wraps around.
        if i.wrapping_sub(PERT_TAIL_INTERVALS) < PERT_INTERVALS - 2 * PERT_TAIL_INTERVALS {
            cubic_at(&self.main[i], frac)
        } else {
            self.at(i, frac, open_unit(word))
        }
    }
}

/// How a sampled value is brought into its field's range (docs/model.md, fine print): held
/// between two bounds, so that applying it is two comparisons with no branch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clamp {
    lo: f64,
    hi: f64,
}

impl Clamp {
    /// No range (the efficiency g).
    pub const NONE: Clamp = Clamp {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };
    /// Costs, fees and hazards: >= 0.
    pub const NON_NEGATIVE: Clamp = Clamp {
        lo: 0.0,
        hi: f64::INFINITY,
    };
    /// Probabilities: [0, 1].
    pub const PROBABILITY: Clamp = Clamp { lo: 0.0, hi: 1.0 };

    /// Baseline costs: at least `floor` (1e-9 of the distribution's mean).
    pub fn at_least(floor: f64) -> Clamp {
        Clamp {
            lo: floor,
            hi: f64::INFINITY,
        }
    }

    /// `x` held within the bounds. Written as comparisons rather than `max`/`min`,
    /// whose NaN rules cost instructions: a sampled value is never NaN.
    #[inline]
    pub fn apply(self, x: f64) -> f64 {
        let x = if x < self.lo { self.lo } else { x };
        if x > self.hi { self.hi } else { x }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, trial_key};

    /// The sampler of a distribution with valid parameters.
    fn sampler(kind: DistKind) -> Sampler {
        Sampler::new(&Dist::new(kind).expect("valid parameters"))
    }

    impl Sampler {
        /// One draw, from the stream's next word, as a trial draws it.
        fn sample(&self, s: &mut Stream) -> f64 {
            self.from_word(s.next_u64())
        }
    }

    /// Sample mean and variance against the formulas, 4-5 standard errors.
    fn check_moments(kind: DistKind) {
        let dist = Dist::new(kind).expect("valid parameters");
        let sampler = Sampler::new(&dist);
        let n = 200_000usize;
        let mut s = Stream::new(trial_key(11, 0), 99);
        let xs: Vec<f64> = (0..n).map(|_| sampler.sample(&mut s)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64;
        let se_mean = (dist.variance() / n as f64).sqrt();
        // se of the sample variance: sqrt((m4 - var^2) / n).
        let se_var = ((m4 - var * var) / n as f64).sqrt();
        assert!(
            (mean - dist.mean()).abs() <= 4.0 * se_mean + 1e-12,
            "{dist}: mean {mean} vs {} (se {se_mean})",
            dist.mean()
        );
        assert!(
            (var - dist.variance()).abs() <= 5.0 * se_var + 1e-12,
            "{dist}: variance {var} vs {} (se {se_var})",
            dist.variance()
        );
    }

    #[test]
    fn every_distribution_has_the_right_mean_and_variance() {
        check_moments(DistKind::Uniform { lo: 2.0, hi: 5.0 });
        check_moments(DistKind::Triangular {
            min: 1.0,
            mode: 2.0,
            max: 6.0,
        });
        check_moments(DistKind::Triangular {
            min: 1.0,
            mode: 1.0,
            max: 3.0,
        });
        check_moments(DistKind::Pert {
            min: 0.05,
            mode: 0.15,
            max: 0.3,
        });
        check_moments(DistKind::Pert {
            min: 10.0,
            mode: 10.0,
            max: 20.0,
        });
        check_moments(DistKind::Normal {
            mean: -3.0,
            sd: 2.0,
        });
        check_moments(DistKind::LogNormal {
            mean: 100.0,
            sd: 40.0,
        });
        check_moments(DistKind::Discrete(vec![
            (1.0, 1.0),
            (5.0, 3.0),
            (7.0, 0.0),
            (9.0, 1.0),
        ]));
    }

    /// Kolmogorov-Smirnov at a million draws: the tabulated PERT cannot be told apart
    /// from the exact Beta-PERT (critical value at the 0.1 % level: 1.95 / sqrt(n)).
    #[test]
    fn pert_table_matches_the_exact_beta_in_distribution() {
        let n = 1_000_000usize;
        for (min, mode, max) in [
            (0.05, 0.15, 0.3),
            (10.0, 10.0, 20.0),
            (0.0, 0.9, 1.0),
            (0.0, 0.5, 1.0),
        ] {
            let sampler = sampler(DistKind::Pert { min, mode, max });
            let (a, b) = pert_shapes(min, mode, max);
            let mut s = Stream::new(trial_key(21, 0), 5);
            let mut xs: Vec<f64> = (0..n)
                .map(|_| (sampler.sample(&mut s) - min) / (max - min))
                .collect();
            xs.sort_unstable_by(f64::total_cmp);
            let d = xs
                .iter()
                .enumerate()
                .map(|(i, &x)| {
                    let f = puruspe::betai(a, b, x.clamp(0.0, 1.0));
                    (f - i as f64 / n as f64)
                        .abs()
                        .max((f - (i + 1) as f64 / n as f64).abs())
                })
                .fold(0.0, f64::max);
            assert!(
                d < 1.95 / (n as f64).sqrt(),
                "PERT({min}, {mode}, {max}): KS D = {d}"
            );
        }
    }

    /// Two-sample KS against rand_distr's own PERT sampler (rejection-based, exact).
    #[test]
    fn pert_table_agrees_with_rand_distr() {
        use rand::distr::Distribution;
        let n = 200_000usize;
        let ours = sampler(DistKind::Pert {
            min: 1.0,
            mode: 2.0,
            max: 6.0,
        });
        let theirs = rand_distr::Pert::new(1.0, 6.0).with_mode(2.0).unwrap();
        let mut s = Stream::new(trial_key(8, 0), 1);
        let mut a: Vec<f64> = (0..n).map(|_| ours.sample(&mut s)).collect();
        let mut b: Vec<f64> = (0..n).map(|_| theirs.sample(&mut s)).collect();
        a.sort_unstable_by(f64::total_cmp);
        b.sort_unstable_by(f64::total_cmp);
        // D of two samples of n each, at the 0.1 % level: 1.95 * sqrt(2 / n).
        let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
        while i < n && j < n {
            if a[i] <= b[j] {
                i += 1;
            } else {
                j += 1;
            }
            d = d.max((i as f64 - j as f64).abs() / n as f64);
        }
        assert!(d < 1.95 * (2.0 / n as f64).sqrt(), "D = {d}");
    }

    /// The largest error in probability, |I_x(a, b) - u| at x = the table's quantile at
    /// u, over every interval of the main grid (five points each), the tails (points
    /// spaced evenly in w, down to u = 1e-300) and 200,000 words of a stream.
    fn largest_probability_error(a: f64, b: f64) -> f64 {
        let t = PertTable::new(a, b);
        let error = |u: f64| (puruspe::betai(a, b, t.quantile(u)) - u).abs();
        let mut worst = 0.0f64;
        for i in 0..PERT_INTERVALS {
            for f in [0.1, 0.3, 0.5, 0.7, 0.9] {
                worst = worst.max(error((i as f64 + f) / PERT_INTERVALS as f64));
            }
        }
        for k in 1..=4000 {
            let p = PERT_TAIL_PROBABILITY * (k as f64 / 4000.0).powi(5);
            worst = worst.max(error(p)).max(error(1.0 - p));
        }
        worst = worst.max(error(1e-300));
        let mut s = Stream::new(trial_key(5, 0), 9);
        for _ in 0..200_000 {
            worst = worst.max(error(open_unit(s.next_u64())));
        }
        worst
    }

    /// Issue 17's bar: a probability error of 1e-5 must not pass (the linear table this
    /// replaced was off by 1.3e-4). The table is within 2e-8 over the whole range of
    /// PERT shapes (a + b = 6, each from 1 to 5; measured 1.7e-8 at worst, next to the
    /// upper tail of Beta(1, 5)), which keeps the bias of a variance below 0.2 standard
    /// errors up to about 10^13 trials, far beyond any run the memory guard admits.
    #[test]
    fn pert_table_is_accurate_in_probability() {
        for a in [
            1.0,
            1.0 + 1e-9,
            1.2,
            1.5,
            2.0,
            2.5,
            3.0,
            3.7,
            4.5,
            5.0 - 1e-9,
            5.0,
        ] {
            let e = largest_probability_error(a, 6.0 - a);
            eprintln!("Beta({a}, {}): {e:e}", 6.0 - a);
            assert!(e < 2e-8, "Beta({a}, {}): error {e:e}", 6.0 - a);
        }
    }

    #[test]
    fn pert_table_is_exact_at_its_ends_and_monotone() {
        for (a, b) in [(2.0, 4.0), (1.0, 5.0), (5.0, 1.0), (3.0, 3.0)] {
            let t = PertTable::new(a, b);
            assert_eq!((t.quantile(0.0), t.quantile(1.0)), (0.0, 1.0));
            let n = 1 << 22;
            let mut last = 0.0;
            for k in 0..=n {
                let x = t.quantile(k as f64 / n as f64);
                assert!(x >= last, "Beta({a}, {b}): decreases at {k}/{n}");
                last = x;
            }
        }
    }

    /// The triangular quantile with a square root per side is the one-root form it
    /// replaced, bit for bit (signed zeros included), over parameters from the ordinary
    /// to the absurd (signed zeros, subnormals, the 1e15 limit) and uniforms from a
    /// stream and at both ends of what a trial or a copula can pass.
    #[test]
    fn triangular_two_roots_are_exact() {
        fn one_root(min: f64, mode: f64, max: f64, u: f64) -> f64 {
            let range = max - min;
            let left = mode - min;
            let low = f64::from(u8::from(u * range < left));
            let square =
                low * (u * range * left) + (1.0 - low) * ((1.0 - u) * range * (max - mode));
            let root = square.sqrt();
            low * (min + root) + (1.0 - low) * (max - root)
        }
        let tiny = f64::from_bits(1);
        let params = [
            (1.0, 2.0, 6.0),
            (1.0, 1.0, 3.0),
            (0.0, 1.0, 1.0),
            (450_000.0, 550_000.0, 700_000.0),
            (-3.0, -1.0, 2.0),
            (-1.0, -0.0, -0.0),
            (-1.0, 0.0, -0.0),
            (-1.0, -1.0, -0.0),
            (0.0, -0.0, 1.0),
            (-0.0, 0.0, 1.0),
            (-0.0, -0.0, 1e-300),
            (-1e-158, -0.5e-158, -0.0),
            (-1e-158, -1e-158 + 1e-170, -0.0),
            (tiny, 2.0 * tiny, 3.0 * tiny),
            (-3.0 * tiny, -tiny, -0.0),
            (-1e15, 0.0, 1e15),
            (-1e15, 1e15, 1e15),
            (0.1, 0.2, 0.3),
            // Where a zero's sign needs `low * low_root` and `+ 0.0` (found in review).
            (-tiny, 0.0, -0.0),
            (-3.1341818870965255e-162, -5.900209730278889e-163, -0.0),
        ];
        let mut s = Stream::new(trial_key(5, 0), 9);
        let mut us: Vec<f64> = (0..20_000).map(|_| open_unit(s.next_u64())).collect();
        us.extend([
            open_unit(0),
            open_unit(u64::MAX),
            f64::MIN_POSITIVE,
            1.0 - f64::EPSILON / 2.0,
            0.5,
        ]);
        for (min, mode, max) in params {
            let sampler = sampler(DistKind::Triangular { min, mode, max });
            for (k, &u) in us.iter().enumerate() {
                // Probe both sides of the mode's probability too.
                let u = if k % 2 == 0 {
                    u
                } else {
                    let p = (mode - min) / (max - min);
                    let w = f64::from_bits(p.to_bits().wrapping_add(k as u64 % 9).wrapping_sub(4));
                    if w > 0.0 && w < 1.0 { w } else { u }
                };
                assert_eq!(
                    sampler.quantile(u).to_bits(),
                    one_root(min, mode, max, u).to_bits(),
                    "triangular({min:e}, {mode:e}, {max:e}) at u = {u:e}"
                );
            }
        }
    }

    /// The word-based lookup is the float-based one, bit for bit, at the edges of the
    /// word range, at every interval boundary and at a million words of a stream.
    #[test]
    fn pert_table_reads_a_word_exactly_as_its_uniform() {
        let t = PertTable::new(2.0, 4.0);
        let check = |w: u64| {
            assert_eq!(
                t.quantile_of_word(w).to_bits(),
                t.quantile(open_unit(w)).to_bits(),
                "word {w:#x}"
            );
        };
        for w in [0, 1, u64::MAX, u64::MAX - 4095, 1 << 63, (1 << 52) - 1] {
            check(w);
        }
        for i in 0..PERT_INTERVALS as u64 {
            let top = i << 52;
            for w in [top, top | 0xfff, top | ((1 << 52) - 1), top | (1 << 51)] {
                check(w);
            }
        }
        let mut s = Stream::new(trial_key(3, 0), 7);
        for _ in 0..1_000_000 {
            check(s.next_u64());
        }
    }

    #[test]
    fn degenerate_distributions_return_their_value() {
        let mut s = Stream::new(1, 2);
        assert_eq!(
            sampler(DistKind::Pert {
                min: 3.0,
                mode: 3.0,
                max: 3.0
            })
            .sample(&mut s),
            3.0
        );
        assert_eq!(
            sampler(DistKind::LogNormal { mean: 4.0, sd: 0.0 }).sample(&mut s),
            4.0
        );
        let d = sampler(DistKind::Discrete(vec![(1.0, 0.0), (2.0, 1.0)]));
        assert!((0..1000).all(|_| d.sample(&mut s) == 2.0));
    }
}
