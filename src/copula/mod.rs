//! Correlated uncertain inputs: pairwise rank correlations sampled through a Gaussian copula.
//!
//! A scenario may say that two distribution-valued inputs move together ("when the build
//! costs more than planned, it also takes longer"), as a Spearman rank correlation between
//! them. Rank correlation is the right currency because monotone transforms leave it
//! alone: it means the same whatever the two marginal distributions are, which a Pearson
//! correlation between, say, a PERT and a log-normal input would not.
//!
//! Sampling goes through a Gaussian copula. Each correlated input takes one independent
//! standard normal per trial, its score (see [`crate::sample::Sampler::normal_score`]);
//! [`Copula::correlate_scores`] mixes the scores with the Cholesky factor of the normal
//! correlation matrix, and each input takes its value at its mixed score: directly for
//! normal and log-normal inputs, through Phi and its inverse distribution function for
//! the others ([`Copula::correlate`] is the same on the uniform scale). The marginals
//! are therefore untouched, and the Spearman targets are converted to normal correlations
//! with [`spearman_to_pearson`], which is exact for this copula, so the achieved rank
//! correlations equal the targets whatever the (continuous) marginals are. Discrete inputs
//! tie, and ties pull rank correlations towards zero.
//!
//! Not every set of pairwise targets can hold at once: a~b 0.9, b~c 0.9 and a~c -0.9
//! cannot. [`check_psd`] finds a small set of inputs whose targets conflict, so that the
//! error can name them; [`nearest_correlation`] repairs a matrix instead, for users who
//! prefer a warning to an error.
//!
//! The matrices have at most a few dozen rows and are prepared once per run, so the linear
//! algebra is plain dense arithmetic written out here rather than a dependency. Only
//! [`Copula::correlate_scores`] runs once per trial, and it allocates nothing.
//!
//! This module sits upstream of the scenario, the plan and the sampler, and depends on
//! none of them. Its files follow its concerns: `rank.rs` converts between rank and
//! normal correlations and measures rank correlation ([`spearman`]); `matrix.rs` holds
//! the small symmetric matrix, its Cholesky factor and its eigenvalues; `repair.rs` says
//! what to do with an invalid matrix (name the conflict, or find the nearest valid one);
//! `normal.rs` holds the standard normal distribution function and its inverse, the two
//! halves of every trip between the uniform and the normal scale. The [`Copula`] itself
//! is here.

mod matrix;
mod normal;
mod rank;
mod repair;

pub use matrix::{
    LowerTriangular, Matrix, NotPositiveDefinite, PIVOT_TOLERANCE, cholesky, eigenvalues,
};
pub use normal::{normal_cdf, normal_quantile, open_normal_cdf};
pub use rank::{pearson_to_spearman, spearman, spearman_to_pearson};
pub use repair::{Conflict, Repair, check_psd, nearest_correlation};

use normal::{OPEN_HIGH, OPEN_LOW};

/// A Gaussian copula: turns independent uniforms into uniforms with a given correlation
/// structure, leaving each one's distribution uniform.
///
/// Built once per run from a validated normal correlation matrix; [`Copula::correlate`]
/// then runs once per trial. It is `Sync` and needs no scratch space, so one copula
/// serves every thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Copula {
    factor: LowerTriangular,
}

impl Copula {
    /// The copula of a normal (Pearson) correlation matrix, failing if the matrix is not
    /// positive semi-definite (use [`check_psd`] first to say why, or
    /// [`nearest_correlation`] to repair it).
    ///
    /// Panics if a diagonal entry is not 1: the output would not be uniform.
    pub fn new(correlation: &Matrix) -> Result<Copula, NotPositiveDefinite> {
        for i in 0..correlation.n {
            let d = correlation.get(i, i);
            assert!((d - 1.0).abs() <= 1e-12, "diagonal entry {i} is {d}, not 1");
        }
        Ok(Copula {
            factor: cholesky(correlation)?,
        })
    }

    /// The copula that achieves a matrix of Spearman rank correlations, converting each
    /// entry with [`spearman_to_pearson`].
    pub fn from_spearman(rank: &Matrix) -> Result<Copula, NotPositiveDefinite> {
        Copula::new(&rank.map_off_diagonal(spearman_to_pearson))
    }

    /// The number of correlated variables.
    pub fn n(&self) -> usize {
        self.factor.n
    }

    /// The Cholesky factor of the normal correlation matrix.
    pub fn factor(&self) -> &LowerTriangular {
        &self.factor
    }

    /// Replaces independent uniforms, one per variable, by correlated ones, in place:
    /// z = Phi^-1(u), x = L z, u = Phi(x).
    ///
    /// Inputs are clamped to the open interval (0, 1) first, and outputs land in it too
    /// (see [`open_normal_cdf`]), so that an inverse distribution function downstream
    /// never sees 0 or 1.
    ///
    /// Panics if `u.len()` is not [`Copula::n`].
    pub fn correlate(&self, u: &mut [f64]) {
        for p in u.iter_mut() {
            *p = normal_quantile(p.clamp(OPEN_LOW, OPEN_HIGH));
        }
        self.correlate_scores(u);
        for p in u.iter_mut() {
            *p = open_normal_cdf(*p);
        }
    }

    /// Replaces independent standard normals, one per variable, by correlated ones, in
    /// place: x = L z. This is the copula's core; the engine calls it directly, so that
    /// normal and lognormal inputs never leave the normal scale.
    ///
    /// Because L is lower-triangular, x_i needs only z_0..=z_i, so working from the last
    /// row up lets x overwrite z in place: no scratch, no allocation.
    ///
    /// Panics if `z.len()` is not [`Copula::n`].
    pub fn correlate_scores(&self, z: &mut [f64]) {
        assert_eq!(
            z.len(),
            self.factor.n,
            "one normal score per correlated variable"
        );
        for i in (0..z.len()).rev() {
            z[i] = self
                .factor
                .row(i)
                .iter()
                .zip(&z[..=i])
                .map(|(l, z)| l * z)
                .sum();
        }
    }
}

/// Helpers shared by the unit tests of the copula's files.
#[cfg(test)]
mod test_support {
    use super::Matrix;

    pub(super) fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// A valid 5 x 5 correlation matrix: normalised Gram matrix of some vectors.
    pub(super) fn gram_correlation() -> Matrix {
        let vectors = [
            [1.0, 0.2, -0.3, 0.5, 0.1],
            [0.4, 1.0, 0.1, -0.2, 0.0],
            [-0.6, 0.3, 1.0, 0.0, 0.2],
            [0.9, 0.8, -0.1, 0.3, -0.4],
            [0.0, -0.5, 0.7, 1.0, 0.6],
        ];
        let dot = |a: &[f64; 5], b: &[f64; 5]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let mut m = Matrix::identity(5);
        for i in 0..5 {
            for j in 0..i {
                let r = dot(&vectors[i], &vectors[j])
                    / (dot(&vectors[i], &vectors[i]) * dot(&vectors[j], &vectors[j])).sqrt();
                m.set(i, j, r);
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, label_key, trial_key};
    use test_support::close;

    /// Independent uniforms for `trials` trials of `n` variables, one stream per trial
    /// and variable as the engine opens them.
    fn uniforms(trials: u64, n: usize) -> Vec<Vec<f64>> {
        (0..trials)
            .map(|t| {
                let key = trial_key(2024, t);
                (0..n)
                    .map(|v| Stream::new(key, label_key(&format!("/input/{v}"))).open_uniform())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn copula_achieves_target_rank_correlations() {
        // a~b 0.7, b~c -0.4, a~c unspecified (0). The issue asks for 0.02 at 100k trials;
        // the standard error of Spearman's rho there is below 1 / sqrt(n) = 0.0032, so
        // also hold it to 0.01 (over 3 standard errors), which catches a copula fed the
        // Spearman targets unconverted (off by 0.017 at 0.7).
        let targets = Matrix::with_correlations(3, &[(0, 1, 0.7), (1, 2, -0.4)]);
        let copula = Copula::from_spearman(&targets).unwrap();
        let n = 100_000;
        let mut columns: Vec<Vec<f64>> = (0..3).map(|_| Vec::with_capacity(n as usize)).collect();
        for mut u in uniforms(n, 3) {
            copula.correlate(&mut u);
            for (column, x) in columns.iter_mut().zip(&u) {
                assert!(*x > 0.0 && *x < 1.0);
                column.push(*x);
            }
        }
        for (a, b) in [(0, 1), (1, 2), (0, 2)] {
            let achieved = spearman(&columns[a], &columns[b]);
            let target = targets.get(a, b);
            assert!(
                close(achieved, target, 0.01),
                "{a}~{b}: {achieved} vs {target}"
            );
        }
        // The marginals stay uniform: Kolmogorov-Smirnov distance under its 0.1% point.
        for column in &mut columns {
            column.sort_by(f64::total_cmp);
            let d = column
                .iter()
                .enumerate()
                .map(|(i, &x)| {
                    (x - i as f64 / n as f64)
                        .abs()
                        .max(((i + 1) as f64 / n as f64 - x).abs())
                })
                .fold(0.0, f64::max);
            assert!(d < 1.95 / (n as f64).sqrt(), "KS distance {d}");
        }
    }

    #[test]
    fn copula_with_perfect_correlation_copies_the_uniform() {
        let copula = Copula::from_spearman(&Matrix::with_correlations(2, &[(0, 1, 1.0)])).unwrap();
        for mut u in uniforms(1000, 2) {
            let first = u[0];
            copula.correlate(&mut u);
            assert!(
                close(u[0], first, 1e-13 * first.min(1.0 - first)),
                "{first} -> {u:?}"
            );
            assert!(close(u[1], u[0], 1e-14), "{u:?}");
        }
        let identity = Copula::new(&Matrix::identity(3)).unwrap();
        let mut u = [0.1, 0.5, 0.975];
        identity.correlate(&mut u);
        assert!(close(u[0], 0.1, 1e-15) && close(u[1], 0.5, 1e-16) && close(u[2], 0.975, 1e-15));
    }

    #[test]
    fn copula_output_stays_strictly_inside_the_unit_interval() {
        let copula = Copula::new(&Matrix::with_correlations(2, &[(0, 1, 0.7)])).unwrap();
        for input in [
            [0.0, 0.0],
            [1.0, 1.0],
            [OPEN_HIGH, OPEN_HIGH],
            [1e-300, 1e-300],
            [0.0, 1.0],
        ] {
            let mut u = input;
            copula.correlate(&mut u);
            assert!(u.iter().all(|&x| x > 0.0 && x < 1.0), "{input:?} -> {u:?}");
        }
    }

    #[test]
    fn rejects_matrices_that_are_not_positive_semi_definite() {
        let targets = Matrix::with_correlations(3, &[(0, 1, 0.9), (1, 2, 0.9), (0, 2, -0.9)]);
        assert!(Copula::from_spearman(&targets).is_err());
    }
}
