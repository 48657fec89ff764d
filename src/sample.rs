//! Trial-level sampling of distribution-valued inputs.
//!
//! Each (D) input is sampled once per trial from its own stream (see [`crate::rng`]), so
//! making one input uncertain, or changing its distribution, leaves every other input's
//! draw in every trial exactly where it was. Samplers are prepared once, when the plan is
//! compiled; sampling itself allocates nothing.

use rand::distr::Distribution;
use rand_distr::Beta;

use crate::rng::Stream;
use crate::scenario::Dist;
use crate::scenario::dist::pert_shapes;

/// A distribution prepared for fast sampling.
#[derive(Debug, Clone)]
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
        beta: Beta<f64>,
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
        match *dist {
            Dist::Fixed(x) => Sampler::Fixed(x),
            Dist::Uniform { lo, hi } => Sampler::Uniform { lo, width: hi - lo },
            Dist::Triangular { min, mode, max } if max > min => {
                Sampler::Triangular { min, mode, max }
            }
            Dist::Pert { min, mode, max } if max > min => {
                let (a, b) = pert_shapes(min, mode, max);
                Sampler::Pert {
                    min,
                    range: max - min,
                    beta: Beta::new(a, b).expect("PERT shapes are >= 1"),
                }
            }
            Dist::Triangular { min, .. } | Dist::Pert { min, .. } => Sampler::Fixed(min),
            Dist::Normal { mean, sd } => Sampler::Normal { mean, sd },
            Dist::LogNormal { mean, sd } => {
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
            Dist::Discrete(ref pairs) => {
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

    /// One draw. Every form but PERT consumes exactly one word of the stream.
    #[inline]
    pub fn sample(&self, s: &mut Stream) -> f64 {
        match self {
            Sampler::Fixed(x) => *x,
            Sampler::Uniform { lo, width } => lo + width * s.uniform(),
            Sampler::Triangular { min, mode, max } => {
                let u = s.uniform();
                let range = max - min;
                let left = mode - min;
                if u * range < left {
                    min + (u * range * left).sqrt()
                } else {
                    max - ((1.0 - u) * range * (max - mode)).sqrt()
                }
            }
            Sampler::Pert { min, range, beta } => min + range * beta.sample(s),
            Sampler::Normal { mean, sd } => mean + sd * s.std_normal(),
            Sampler::LogNormal { mu, sigma } => (mu + sigma * s.std_normal()).exp(),
            Sampler::Discrete { values, cumulative } => {
                let total = cumulative[cumulative.len() - 1];
                let target = s.uniform() * total;
                let i = cumulative.partition_point(|&c| c <= target);
                // Guard against rounding at the top end; zero-weight values are never
                // chosen because their cumulative equals the previous one.
                values[i.min(values.len() - 1)]
            }
        }
    }
}

/// How a sampled value is brought into its field's range (MODEL.md, fine print).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clamp {
    /// No range (the efficiency g).
    None,
    /// Costs, fees and hazards: >= 0.
    NonNegative,
    /// Probabilities: [0, 1].
    Probability,
    /// Baseline costs: at least this floor (1e-9 of the distribution's mean).
    AtLeast(f64),
}

impl Clamp {
    #[inline]
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Clamp::None => x,
            Clamp::NonNegative => x.max(0.0),
            Clamp::Probability => x.clamp(0.0, 1.0),
            Clamp::AtLeast(floor) => x.max(floor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::trial_key;

    /// Sample mean and variance against the formulas, 4-5 standard errors.
    fn check_moments(dist: Dist) {
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
        check_moments(Dist::Uniform { lo: 2.0, hi: 5.0 });
        check_moments(Dist::Triangular {
            min: 1.0,
            mode: 2.0,
            max: 6.0,
        });
        check_moments(Dist::Triangular {
            min: 1.0,
            mode: 1.0,
            max: 3.0,
        });
        check_moments(Dist::Pert {
            min: 0.05,
            mode: 0.15,
            max: 0.3,
        });
        check_moments(Dist::Pert {
            min: 10.0,
            mode: 10.0,
            max: 20.0,
        });
        check_moments(Dist::Normal {
            mean: -3.0,
            sd: 2.0,
        });
        check_moments(Dist::LogNormal {
            mean: 100.0,
            sd: 40.0,
        });
        check_moments(Dist::Discrete(vec![
            (1.0, 1.0),
            (5.0, 3.0),
            (7.0, 0.0),
            (9.0, 1.0),
        ]));
    }

    #[test]
    fn degenerate_distributions_return_their_value() {
        let mut s = Stream::new(1, 2);
        assert_eq!(
            Sampler::new(&Dist::Pert {
                min: 3.0,
                mode: 3.0,
                max: 3.0
            })
            .sample(&mut s),
            3.0
        );
        assert_eq!(
            Sampler::new(&Dist::LogNormal { mean: 4.0, sd: 0.0 }).sample(&mut s),
            4.0
        );
        let d = Sampler::new(&Dist::Discrete(vec![(1.0, 0.0), (2.0, 1.0)]));
        assert!((0..1000).all(|_| d.sample(&mut s) == 2.0));
    }
}
