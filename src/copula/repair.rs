//! What to do with a correlation matrix that cannot hold: name the conflict, or repair it.
//!
//! [`check_psd`] finds a small set of inputs whose targets conflict, so that an error can
//! name the few pairs at fault rather than "the matrix"; [`nearest_correlation`] replaces
//! the matrix by the nearest valid one instead (Higham's alternating projections), for
//! users who prefer a warning to an error.

use std::fmt;

use super::matrix::{Matrix, cholesky, eigenvalues, frobenius, jacobi};

/// A set of variables whose correlations cannot hold together.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The variables, ascending. No proper subset of them conflicts, so every pair among
    /// them is part of the problem.
    pub variables: Vec<usize>,
    /// Every pair `(a, b, entry)` among the variables, with a < b, in lexicographic order.
    pub pairs: Vec<(usize, usize, f64)>,
    /// The most negative eigenvalue of the whole matrix: how far it is from valid.
    pub min_eigenvalue: f64,
}

impl Conflict {
    /// The message for a user: "a~b 0.9, a~c -0.9, b~c 0.9 cannot hold together ...".
    ///
    /// `names` are the variables' names, by index. `shown` converts an entry to the value
    /// the user wrote: pass [`pearson_to_spearman`](super::pearson_to_spearman) when the
    /// checked matrix holds normal correlations converted from Spearman targets, or
    /// `|r| r` otherwise.
    pub fn describe<S: AsRef<str>>(&self, names: &[S], shown: impl Fn(f64) -> f64) -> String {
        if self.pairs.is_empty() {
            // One variable alone: only possible with a negative diagonal entry, never in a
            // correlation matrix.
            let name = self.variables.first().map_or("?", |&v| names[v].as_ref());
            return format!("{name} has a negative variance");
        }
        let pairs: Vec<String> = self
            .pairs
            .iter()
            .map(|&(a, b, r)| {
                let (a, b) = (names[a].as_ref(), names[b].as_ref());
                format!("{a}~{b} {}", short(shown(r)))
            })
            .collect();
        format!(
            "{} cannot hold together: weaken at least one of them (the correlation matrix \
             has a negative eigenvalue, {}, where a valid one has none)",
            pairs.join(", "),
            short(self.min_eigenvalue)
        )
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.variables.iter().max().map_or(0, |&m| m + 1);
        let names: Vec<String> = (0..n).map(|i| format!("#{i}")).collect();
        f.write_str(&self.describe(&names, |r| r))
    }
}

impl std::error::Error for Conflict {}

/// A number for a message: at most four decimals, no trailing zeros.
fn short(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Checks that a symmetric matrix is positive semi-definite (as [`cholesky`] judges it),
/// and if not, says which variables conflict.
///
/// A user who wrote twenty pairwise correlations needs to know which few of them are
/// incompatible, not that "the matrix" is. Conflicts are usually among three inputs, so
/// every single variable, pair and triple is tried first, and the worst one (the most
/// negative smallest eigenvalue) is reported. If none fails on its own, the smallest
/// leading block that fails is shrunk, dropping one variable at a time while the rest
/// still fails, to a set of which no proper subset conflicts.
///
/// Check the matrix that will be factored, the normal correlations, and show its entries
/// back in the user's terms with [`Conflict::describe`] and
/// [`pearson_to_spearman`](super::pearson_to_spearman): a
/// matrix of Spearman targets can be valid while its normal counterpart is not.
pub fn check_psd(a: &Matrix) -> Result<(), Conflict> {
    let Err(failure) = cholesky(a) else {
        return Ok(());
    };
    let variables = smallest_subset_conflict(a)
        .unwrap_or_else(|| shrink_conflict(a, (0..=failure.row).collect()));
    let mut pairs = Vec::new();
    for (k, &i) in variables.iter().enumerate() {
        for &j in &variables[k + 1..] {
            pairs.push((i, j, a.get(i, j)));
        }
    }
    Err(Conflict {
        variables,
        pairs,
        min_eigenvalue: eigenvalues(a)[0],
    })
}

/// The failing single, pair or triple of variables with the most negative eigenvalue,
/// trying smaller sets first.
fn smallest_subset_conflict(a: &Matrix) -> Option<Vec<usize>> {
    for size in 1..=a.n.min(3) {
        let mut worst: Option<(f64, Vec<usize>)> = None;
        let mut idx: Vec<usize> = (0..size).collect();
        loop {
            let sub = a.principal(&idx);
            if cholesky(&sub).is_err() {
                let lowest = eigenvalues(&sub)[0];
                if worst.as_ref().is_none_or(|(w, _)| lowest < *w) {
                    worst = Some((lowest, idx.clone()));
                }
            }
            if !next_combination(&mut idx, a.n) {
                break;
            }
        }
        if let Some((_, idx)) = worst {
            return Some(idx);
        }
    }
    None
}

/// Advances `idx` to the next k-subset of 0..n in lexicographic order; false after the last.
fn next_combination(idx: &mut [usize], n: usize) -> bool {
    let k = idx.len();
    for i in (0..k).rev() {
        if idx[i] < n - k + i {
            idx[i] += 1;
            for j in i + 1..k {
                idx[j] = idx[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// Drops variables from a failing set while what is left still fails.
fn shrink_conflict(a: &Matrix, mut set: Vec<usize>) -> Vec<usize> {
    let mut k = 0;
    while k < set.len() {
        let mut without = set.clone();
        without.remove(k);
        if cholesky(&a.principal(&without)).is_err() {
            set = without;
        } else {
            k += 1;
        }
    }
    set
}

/// The nearest positive semi-definite matrix in the Frobenius norm: negative eigenvalues
/// set to zero.
fn project_psd(m: &Matrix) -> Matrix {
    let n = m.n;
    let (values, v) = jacobi(m);
    let kept: Vec<f64> = values.iter().map(|&x| x.max(0.0)).collect();
    let mut out = Matrix::identity(n);
    for i in 0..n {
        for j in 0..=i {
            let x = (0..n).map(|k| v[i * n + k] * kept[k] * v[j * n + k]).sum();
            out.set(i, j, x);
        }
    }
    out
}

/// [`nearest_correlation`] stops when successive iterates, and its two projections,
/// agree to this relative tolerance.
const NEAREST_TOLERANCE: f64 = 1e-10;
/// Alternating projections converge linearly, sometimes slowly; past this many iterations
/// the current iterate is made valid and returned, with `converged: false`.
const NEAREST_MAX_ITERATIONS: usize = 2000;

/// A repaired correlation matrix, from [`nearest_correlation`].
#[derive(Debug, Clone, PartialEq)]
pub struct Repair {
    /// The repaired matrix: symmetric, unit diagonal, and accepted by [`cholesky`].
    pub matrix: Matrix,
    /// The Frobenius distance from the input: how much the repair moved the correlations.
    pub distance: f64,
    /// Alternating-projection iterations used.
    pub iterations: usize,
    /// False if the iteration cap was reached first; the matrix is still valid, but may
    /// be a little further from the input than the nearest one.
    pub converged: bool,
}

/// The nearest correlation matrix (symmetric, unit diagonal, positive semi-definite) to a
/// symmetric matrix in the Frobenius norm, for `--repair-correlations`.
///
/// Higham's alternating projections with Dykstra's correction (N. J. Higham, "Computing
/// the nearest correlation matrix - a problem from finance", IMA J. Numer. Anal. 22, 2002,
/// algorithm 3.3 with unit weights): project alternately onto the positive semi-definite
/// matrices and onto the unit-diagonal ones, carrying a correction for the first, which
/// is not a subspace. Plain alternating projections would converge to a valid matrix, but
/// not to the nearest one.
///
/// The last iterate has a unit diagonal but may sit a rounding error outside the positive
/// semi-definite cone, so it is projected once more, rescaled to a unit diagonal (which
/// keeps it semi-definite), and if rounding still defeats [`cholesky`], shrunk towards the
/// identity by the smallest of a few factors that makes it pass. The input's diagonal is
/// ignored except in `distance`.
pub fn nearest_correlation(a: &Matrix) -> Repair {
    let mut y = a.clone();
    let mut x_prev = a.clone();
    let mut correction = vec![0.0; a.data.len()];
    let mut iterations = 0;
    let mut converged = false;
    while iterations < NEAREST_MAX_ITERATIONS && !converged {
        iterations += 1;
        let mut r = y.clone();
        r.data
            .iter_mut()
            .zip(&correction)
            .for_each(|(r, c)| *r -= c);
        let x = project_psd(&r);
        correction
            .iter_mut()
            .zip(x.data.iter().zip(&r.data))
            .for_each(|(c, (x, r))| *c = x - r);
        let mut y_next = x.clone();
        for i in 0..a.n {
            y_next.data[i * a.n + i] = 1.0;
        }
        let size = frobenius(y_next.data.iter().copied());
        let change = x
            .frobenius_distance(&x_prev)
            .max(y_next.frobenius_distance(&y))
            .max(y_next.frobenius_distance(&x));
        converged = change <= NEAREST_TOLERANCE * size;
        y = y_next;
        x_prev = x;
    }
    let matrix = make_valid(&y);
    Repair {
        distance: matrix.frobenius_distance(a),
        matrix,
        iterations,
        converged,
    }
}

/// A nearly valid unit-diagonal matrix made exactly valid; see [`nearest_correlation`].
fn make_valid(y: &Matrix) -> Matrix {
    let n = y.n;
    let mut m = project_psd(y);
    let scale: Vec<f64> = (0..n)
        .map(|i| 1.0 / m.get(i, i).max(f64::MIN_POSITIVE).sqrt())
        .collect();
    for i in 0..n {
        for j in 0..i {
            let x = m.get(i, j) * scale[i] * scale[j];
            m.set(i, j, x.clamp(-1.0, 1.0));
        }
        m.set(i, i, 1.0);
    }
    // Blending with the identity keeps the unit diagonal and moves every eigenvalue l to
    // (1 - t) l + t, so a rounding-sized negative one becomes positive.
    for t in [0.0, 1e-14, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2] {
        let blended = m.map_off_diagonal(|x| (1.0 - t) * x);
        if cholesky(&blended).is_ok() {
            return blended;
        }
    }
    Matrix::identity(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copula::test_support::{close, gram_correlation};
    use crate::copula::{pearson_to_spearman, spearman_to_pearson};
    use crate::rng::{Stream, label_key, trial_key};

    #[test]
    fn check_psd_names_the_conflicting_triple() {
        // Variables 1, 2 and 4 conflict; 0 and 3 carry harmless correlations.
        let a = Matrix::with_correlations(
            5,
            &[
                (1, 2, 0.9),
                (2, 4, 0.9),
                (1, 4, -0.9),
                (0, 3, 0.5),
                (0, 1, 0.2),
            ],
        );
        let conflict = check_psd(&a).unwrap_err();
        assert_eq!(conflict.variables, vec![1, 2, 4]);
        assert_eq!(conflict.pairs, vec![(1, 2, 0.9), (1, 4, -0.9), (2, 4, 0.9)]);
        assert!(close(conflict.min_eigenvalue, eigenvalues(&a)[0], 1e-15));
        assert!(conflict.min_eigenvalue < -0.5);
        let names = ["x", "a", "b", "y", "c"];
        let message = conflict.describe(&names, |r| r);
        assert!(
            message.starts_with("a~b 0.9, a~c -0.9, b~c 0.9 cannot hold together"),
            "{message}"
        );
        assert!(check_psd(&gram_correlation()).is_ok());
    }

    #[test]
    fn check_psd_reports_in_spearman_terms_when_asked() {
        let targets = Matrix::with_correlations(3, &[(0, 1, 0.9), (1, 2, 0.9), (0, 2, -0.9)]);
        let normal = targets.map_off_diagonal(spearman_to_pearson);
        let message = check_psd(&normal)
            .unwrap_err()
            .describe(&["a", "b", "c"], pearson_to_spearman);
        assert!(
            message.starts_with("a~b 0.9, a~c -0.9, b~c 0.9 "),
            "{message}"
        );
    }

    #[test]
    fn check_psd_shrinks_a_conflict_that_no_triple_shows() {
        // Four variables at -0.34 each: every triple is valid (1 + 2r > 0), the four are
        // not (1 + 3r < 0). Variables 0 and 3 are bystanders.
        let four = [1, 2, 4, 5];
        let mut pairs = vec![(0, 3, 0.3), (0, 1, 0.1)];
        for (k, &i) in four.iter().enumerate() {
            for &j in &four[k + 1..] {
                pairs.push((i, j, -0.34));
            }
        }
        let a = Matrix::with_correlations(6, &pairs);
        let conflict = check_psd(&a).unwrap_err();
        assert_eq!(conflict.variables, four);
        assert_eq!(conflict.pairs.len(), 6);
        assert!(conflict.min_eigenvalue < 0.0);
    }

    fn assert_valid_correlation(m: &Matrix) {
        for i in 0..m.n() {
            assert_eq!(m.get(i, i), 1.0);
            for j in 0..m.n() {
                assert_eq!(m.get(i, j), m.get(j, i));
            }
        }
        assert!(cholesky(m).is_ok());
        assert!(check_psd(m).is_ok());
    }

    /// Valid correlation matrices form a convex set, so if `x` is the nearest to `a`, no
    /// step from `x` towards another valid matrix `other` gets nearer.
    fn assert_no_valid_step_is_nearer(a: &Matrix, x: &Matrix, other: &Matrix) {
        let best = x.frobenius_distance(a);
        for t in [1e-4, 1e-3, 1e-2, 0.1, 0.5] {
            let mut step = x.clone();
            step.data
                .iter_mut()
                .zip(&other.data)
                .for_each(|(s, o)| *s += t * (o - *s));
            assert!(step.frobenius_distance(a) >= best - 1e-12, "t = {t}");
        }
    }

    #[test]
    fn nearest_correlation_matches_highams_example() {
        // Higham (2002), section 4: the nearest correlation matrix to this one has
        // off-diagonal entries 0.7607 (twice) and 0.1573.
        let a = Matrix::from_rows(&[[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]]);
        let repair = nearest_correlation(&a);
        assert!(repair.converged, "{repair:?}");
        let m = &repair.matrix;
        assert_valid_correlation(m);
        assert!(close(m.get(0, 1), 0.7607, 5e-5), "{m:?}");
        assert!(close(m.get(1, 2), 0.7607, 5e-5), "{m:?}");
        assert!(close(m.get(0, 2), 0.1573, 5e-5), "{m:?}");
        assert!(close(repair.distance, m.frobenius_distance(&a), 0.0));
        // The answer is singular: Higham's matrix has a zero eigenvalue.
        assert!(eigenvalues(m)[0].abs() < 1e-9);
    }

    #[test]
    fn nearest_correlation_repairs_a_conflict_and_leaves_a_valid_matrix_alone() {
        let a =
            Matrix::with_correlations(4, &[(0, 1, 0.9), (1, 2, 0.9), (0, 2, -0.9), (2, 3, 0.4)]);
        let repair = nearest_correlation(&a);
        assert!(repair.converged);
        assert_valid_correlation(&repair.matrix);
        // Nearer than the obvious fix of halving the three conflicting targets.
        let halved =
            Matrix::with_correlations(4, &[(0, 1, 0.45), (1, 2, 0.45), (0, 2, -0.45), (2, 3, 0.4)]);
        assert!(check_psd(&halved).is_ok());
        assert!(
            repair.distance < halved.frobenius_distance(&a),
            "{repair:?}"
        );
        assert_no_valid_step_is_nearer(&a, &repair.matrix, &halved);

        let g = gram_correlation();
        let unchanged = nearest_correlation(&g);
        assert!(unchanged.distance < 1e-9, "{unchanged:?}");
    }

    /// A random valid n x n correlation matrix: normalised Gram matrix of random vectors.
    fn gram_like(n: usize, s: &mut Stream) -> Matrix {
        let vectors: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..n).map(|_| s.std_normal()).collect())
            .collect();
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let mut m = Matrix::identity(n);
        for i in 0..n {
            for j in 0..i {
                let (a, b) = (&vectors[i], &vectors[j]);
                m.set(i, j, dot(a, b) / (dot(a, a) * dot(b, b)).sqrt());
            }
        }
        m
    }

    #[test]
    fn nearest_correlation_repairs_a_large_arbitrary_matrix() {
        let n = 30;
        let mut s = Stream::new(trial_key(5, 0), label_key("nearest"));
        let mut a = Matrix::identity(n);
        for i in 0..n {
            for j in 0..i {
                a.set(i, j, 2.0 * s.uniform() - 1.0);
            }
        }
        assert!(check_psd(&a).is_err());
        let repair = nearest_correlation(&a);
        assert_valid_correlation(&repair.matrix);
        // Nearest means no further than any other valid matrix: the identity, or the
        // one-shot fix of clipping negative eigenvalues and rescaling the diagonal.
        assert!(repair.distance < a.frobenius_distance(&Matrix::identity(n)));
        let clipped = make_valid(&a);
        assert!(
            repair.distance < clipped.frobenius_distance(&a),
            "{}",
            repair.distance
        );
        assert_no_valid_step_is_nearer(&a, &repair.matrix, &clipped);
        assert_no_valid_step_is_nearer(&a, &repair.matrix, &Matrix::identity(n));
        assert_no_valid_step_is_nearer(&a, &repair.matrix, &gram_like(n, &mut s));
    }
}
