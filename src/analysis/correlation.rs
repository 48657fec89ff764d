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

use std::f64::consts::{FRAC_1_SQRT_2, PI};
use std::fmt;

use crate::rng::normal_quantile;

/// The normal (Pearson) correlation that gives rank correlation `rho_s` under a Gaussian
/// copula: `2 sin(pi rho_s / 6)`.
///
/// This is exact, not an approximation: for a bivariate normal with correlation r the
/// Spearman correlation is `(6 / pi) asin(r / 2)`, and this is its inverse. Targets of
/// exactly -1, 0 and 1 map to exactly -1, 0 and 1 (plain floating point would give
/// 0.9999999999999999 for 1, which turns a singular matrix into a badly conditioned one).
pub fn spearman_to_pearson(rho_s: f64) -> f64 {
    if rho_s.abs() == 1.0 {
        return rho_s;
    }
    (2.0 * (PI * rho_s / 6.0).sin()).clamp(-1.0, 1.0)
}

/// The rank (Spearman) correlation of a bivariate normal with correlation `r`:
/// `(6 / pi) asin(r / 2)`. The inverse of [`spearman_to_pearson`], used to report a
/// normal correlation matrix (a repaired one, say) back in the user's terms.
pub fn pearson_to_spearman(r: f64) -> f64 {
    if r.abs() == 1.0 {
        return r;
    }
    (6.0 / PI * (r / 2.0).asin()).clamp(-1.0, 1.0)
}

/// A small dense symmetric matrix, stored row-major.
///
/// Symmetry is an invariant: [`Matrix::set`] writes both halves, and the constructors
/// refuse asymmetric input. Entries are expected to be finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    n: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// The n x n identity: n independent inputs.
    pub fn identity(n: usize) -> Matrix {
        let mut data = vec![0.0; n * n];
        for i in 0..n {
            data[i * n + i] = 1.0;
        }
        Matrix { n, data }
    }

    /// A correlation matrix with unit diagonal, the given `(a, b, r)` entries and zero
    /// (independence) for every pair not listed. This is the shape of the scenario key.
    ///
    /// Panics if an index is out of range or a pair names one variable twice.
    pub fn with_correlations(n: usize, pairs: &[(usize, usize, f64)]) -> Matrix {
        let mut m = Matrix::identity(n);
        for &(a, b, r) in pairs {
            assert!(a != b, "a correlation pair needs two different variables");
            m.set(a, b, r);
        }
        m
    }

    /// A matrix from its rows.
    ///
    /// Panics unless the rows form a square matrix that is symmetric to within 1e-12; the
    /// two halves are then averaged so that the stored matrix is exactly symmetric.
    pub fn from_rows<R: AsRef<[f64]>>(rows: &[R]) -> Matrix {
        let n = rows.len();
        let mut data = Vec::with_capacity(n * n);
        for row in rows {
            assert_eq!(row.as_ref().len(), n, "a matrix must be square");
            data.extend_from_slice(row.as_ref());
        }
        let mut m = Matrix { n, data };
        for i in 0..n {
            for j in 0..i {
                let (a, b) = (m.get(i, j), m.get(j, i));
                assert!(
                    (a - b).abs() <= 1e-12,
                    "entries ({i}, {j}) and ({j}, {i}) differ"
                );
                m.set(i, j, 0.5 * (a + b));
            }
        }
        m
    }

    /// The number of rows (and columns).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Entry (i, j).
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n + j]
    }

    /// Sets entries (i, j) and (j, i) to `value`.
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, value: f64) {
        self.data[i * self.n + j] = value;
        self.data[j * self.n + i] = value;
    }

    /// The entries, row by row.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// The matrix with `f` applied to every off-diagonal entry: turns a matrix of Spearman
    /// targets into normal correlations with `m.map_off_diagonal(spearman_to_pearson)`.
    pub fn map_off_diagonal(&self, f: impl Fn(f64) -> f64) -> Matrix {
        let mut m = self.clone();
        for i in 0..self.n {
            for j in 0..i {
                m.set(i, j, f(self.get(i, j)));
            }
        }
        m
    }

    /// The Frobenius norm of the difference, sqrt(sum of squared entry differences).
    ///
    /// Panics if the sizes differ.
    pub fn frobenius_distance(&self, other: &Matrix) -> f64 {
        assert_eq!(self.n, other.n, "matrices of different sizes");
        frobenius(self.data.iter().zip(&other.data).map(|(a, b)| a - b))
    }

    /// The principal sub-matrix on the rows and columns `idx`.
    fn principal(&self, idx: &[usize]) -> Matrix {
        let data = idx
            .iter()
            .flat_map(|&i| idx.iter().map(move |&j| self.get(i, j)))
            .collect();
        Matrix { n: idx.len(), data }
    }
}

fn frobenius(entries: impl Iterator<Item = f64>) -> f64 {
    entries.map(|x| x * x).sum::<f64>().sqrt()
}

/// A lower-triangular matrix, packed by rows: row i holds entries (i, 0..=i).
///
/// Packing keeps each row contiguous, which is the order [`Copula::correlate`] reads it in.
#[derive(Debug, Clone, PartialEq)]
pub struct LowerTriangular {
    n: usize,
    data: Vec<f64>,
}

impl LowerTriangular {
    /// The number of rows.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Row i: entries (i, 0) to (i, i).
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        let start = i * (i + 1) / 2;
        &self.data[start..start + i + 1]
    }

    /// Entry (i, j); zero above the diagonal.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        if j > i { 0.0 } else { self.row(i)[j] }
    }

    /// The number of non-zero pivots: less than n when the factored matrix was singular
    /// (a perfect correlation, or one input a linear combination of others).
    pub fn rank(&self) -> usize {
        (0..self.n).filter(|&i| self.row(i)[i] != 0.0).count()
    }

    /// L L^T, which reproduces the factored matrix.
    pub fn product(&self) -> Matrix {
        let mut m = Matrix::identity(self.n);
        for i in 0..self.n {
            for j in 0..=i {
                let dot = self
                    .row(i)
                    .iter()
                    .zip(self.row(j))
                    .map(|(a, b)| a * b)
                    .sum();
                m.set(i, j, dot);
            }
        }
        m
    }
}

/// How far below zero a Cholesky pivot may fall and still count as zero.
///
/// Correlation matrices that users mean as valid are often exactly singular: a
/// correlation of 1 between two inputs, or one input tied to two others. Their smallest
/// pivot is then zero in exact arithmetic and a rounding error either side of it in
/// floating point, so [`cholesky`] treats any pivot in [-1e-10, 1e-10] as exactly zero
/// and carries on with a zero column. Entries of a correlation matrix are at most 1 in
/// size, so this is a relative tolerance. Its price: below a zero pivot, entries up to
/// sqrt(1e-10) = 1e-5 are dropped (a positive semi-definite matrix cannot have larger
/// ones there), so L L^T may differ from a nearly singular matrix by that much.
pub const PIVOT_TOLERANCE: f64 = 1e-10;

/// [`cholesky`] found that the matrix is not positive semi-definite.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the matrix is not positive semi-definite: its leading {size}x{size} block fails \
     (value {value:e} at row {row})",
    size = .row + 1
)]
pub struct NotPositiveDefinite {
    /// The row where the factorisation failed. Rows before it factor fine, so the leading
    /// (row + 1) x (row + 1) block is the smallest leading block that is not valid.
    pub row: usize,
    /// The negative pivot found there or, below a zero pivot, the entry that should have
    /// been zero.
    pub value: f64,
}

/// The Cholesky factor L (with A = L L^T) of a symmetric positive semi-definite matrix.
///
/// Computed row by row (Cholesky-Banachiewicz), so a failure at row i means exactly that
/// the leading (i + 1) x (i + 1) block is not positive semi-definite. Pivots within
/// [`PIVOT_TOLERANCE`] of zero are taken as zero, so singular but valid matrices factor;
/// see there for why and at what price.
pub fn cholesky(a: &Matrix) -> Result<LowerTriangular, NotPositiveDefinite> {
    let n = a.n;
    let zero_below_pivot = PIVOT_TOLERANCE.sqrt();
    let mut data = Vec::with_capacity(n * (n + 1) / 2);
    for i in 0..n {
        let start = data.len();
        for j in 0..i {
            let lj = &data[j * (j + 1) / 2..j * (j + 1) / 2 + j + 1];
            let dot: f64 = data[start..start + j]
                .iter()
                .zip(lj)
                .map(|(x, y)| x * y)
                .sum();
            let residual = a.get(i, j) - dot;
            let pivot = lj[j];
            let entry = if pivot > 0.0 {
                residual / pivot
            } else if residual.abs() <= zero_below_pivot {
                0.0
            } else {
                return Err(NotPositiveDefinite {
                    row: i,
                    value: residual,
                });
            };
            data.push(entry);
        }
        let squares: f64 = data[start..].iter().map(|x| x * x).sum();
        let pivot = a.get(i, i) - squares;
        // Written so that a NaN pivot falls through to the error.
        if pivot > PIVOT_TOLERANCE {
            data.push(pivot.sqrt());
        } else if pivot >= -PIVOT_TOLERANCE {
            data.push(0.0);
        } else {
            return Err(NotPositiveDefinite {
                row: i,
                value: pivot,
            });
        }
    }
    Ok(LowerTriangular { n, data })
}

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
    /// the user wrote: pass [`pearson_to_spearman`] when the checked matrix holds normal
    /// correlations converted from Spearman targets, or `|r| r` otherwise.
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
/// back in the user's terms with [`Conflict::describe`] and [`pearson_to_spearman`]: a
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

/// Jacobi stops when the off-diagonal part is this small relative to the whole matrix.
const JACOBI_TOLERANCE: f64 = 1e-15;
/// Jacobi converges quadratically; a few dozen sweeps is far more than a 50 x 50 needs.
const JACOBI_MAX_SWEEPS: usize = 60;

/// The eigenvalues of a symmetric matrix, ascending.
///
/// Computed with the cyclic Jacobi method: slower than QR, which does not matter at this
/// size, but short, and accurate to a few units of rounding for small eigenvalues too,
/// which is the one that decides validity.
pub fn eigenvalues(a: &Matrix) -> Vec<f64> {
    let (mut values, _) = jacobi(a);
    values.sort_by(f64::total_cmp);
    values
}

/// Eigenvalues (unsorted) and the matching eigenvectors as the columns of a row-major
/// n x n array, by cyclic Jacobi rotations.
fn jacobi(m: &Matrix) -> (Vec<f64>, Vec<f64>) {
    let n = m.n;
    let mut a = m.data.clone();
    let mut v = Matrix::identity(n).data;
    let scale = frobenius(a.iter().copied());
    for _ in 0..JACOBI_MAX_SWEEPS {
        let off = frobenius(
            (0..n)
                .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
                .map(|(p, q)| a[p * n + q]),
        );
        if off <= JACOBI_TOLERANCE * scale || off.is_nan() {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                rotate(&mut a, &mut v, n, p, q);
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// One Jacobi rotation A <- J^T A J that zeroes entries (p, q) and (q, p), accumulating
/// V <- V J.
fn rotate(a: &mut [f64], v: &mut [f64], n: usize, p: usize, q: usize) {
    let apq = a[p * n + q];
    if apq == 0.0 {
        return;
    }
    // t = tan of the rotation angle, the smaller root of t^2 + 2 theta t - 1 = 0; hypot
    // keeps theta^2 from overflowing when apq is tiny.
    let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
    let t = theta.signum() / (theta.abs() + theta.hypot(1.0));
    let c = 1.0 / t.hypot(1.0);
    let s = t * c;
    for k in 0..n {
        let (x, y) = (a[k * n + p], a[k * n + q]);
        a[k * n + p] = c * x - s * y;
        a[k * n + q] = s * x + c * y;
        let (x, y) = (v[k * n + p], v[k * n + q]);
        v[k * n + p] = c * x - s * y;
        v[k * n + q] = s * x + c * y;
    }
    for k in 0..n {
        let (x, y) = (a[p * n + k], a[q * n + k]);
        a[p * n + k] = c * x - s * y;
        a[q * n + k] = s * x + c * y;
    }
    a[p * n + q] = 0.0;
    a[q * n + p] = 0.0;
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

/// Phi(x) held strictly inside (0, 1): a correlated score x can reach further into the
/// tail than any single independent one, where Phi(x) rounds to 0 or 1, and an inverse
/// distribution function must see neither.
pub fn open_normal_cdf(x: f64) -> f64 {
    normal_cdf(x).clamp(OPEN_LOW, OPEN_HIGH)
}

/// The smallest and largest doubles strictly inside (0, 1), bar subnormals.
const OPEN_LOW: f64 = f64::MIN_POSITIVE;
const OPEN_HIGH: f64 = 1.0 - f64::EPSILON / 2.0;

/// The standard normal distribution function Phi(x), with relative error below 1e-15
/// (7.7e-16 at worst on a fine grid over [-37.5, 9], against 50-digit mpmath).
///
/// The lower tail is where a copula needs care: it carries the joint extremes, and it is
/// where the naive `0.5 * erfc(-x / sqrt 2)` loses digits, because dividing by sqrt 2
/// rounds the argument and exp(-x^2) magnifies that rounding by about 2x^2 (relative
/// errors up to 2e-13 with the platform's erfc). So the tail is computed as
/// `exp(-x^2 / 2) * R(|x| / sqrt 2) / 2`, where R = exp(y^2) erfc(y) is W. J. Cody's
/// rational Chebyshev approximation (Math. Comp. 23, 1969; netlib specfun CALERF), which
/// varies slowly and so is barely disturbed by a rounded argument, and exp(-x^2 / 2) is
/// evaluated exactly split (x = s + d with s a multiple of 1/16, so s^2 is exact). For
/// x > 0 the result is 1 - Phi(-x), as precise as a number near 1 can be.
pub fn normal_cdf(x: f64) -> f64 {
    let y = x.abs() * FRAC_1_SQRT_2;
    if y <= 0.46875 {
        return 0.5 + 0.5 * erf_small(x * FRAC_1_SQRT_2);
    }
    let a = x.abs();
    let s = (a * 16.0).trunc() / 16.0;
    let gaussian = (-0.5 * s * s).exp() * (-0.5 * (a - s) * (a + s)).exp();
    let tail = 0.5 * gaussian * erfc_scaled(y);
    if x < 0.0 { tail } else { 1.0 - tail }
}

// Cody's coefficients as published in CALERF, digit for digit.
#[allow(clippy::excessive_precision)]
const ERF_A: [f64; 5] = [
    3.16112374387056560e00,
    1.13864154151050156e02,
    3.77485237685302021e02,
    3.20937758913846947e03,
    1.85777706184603153e-1,
];
#[allow(clippy::excessive_precision)]
const ERF_B: [f64; 4] = [
    2.36012909523441209e01,
    2.44024637934444173e02,
    1.28261652607737228e03,
    2.84423683343917062e03,
];
#[allow(clippy::excessive_precision)]
const ERFC_C: [f64; 9] = [
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
    2.15311535474403846e-8,
];
#[allow(clippy::excessive_precision)]
const ERFC_D: [f64; 8] = [
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
];
#[allow(clippy::excessive_precision)]
const ERFC_P: [f64; 6] = [
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
    1.63153871373020978e-2,
];
#[allow(clippy::excessive_precision)]
const ERFC_Q: [f64; 5] = [
    2.56852019228982242e00,
    1.87295284992346047e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
];
#[allow(clippy::excessive_precision)]
const FRAC_1_SQRT_PI: f64 = 5.6418958354775628695e-1;

/// erf(x) for |x| <= 0.46875 (Cody's first interval).
fn erf_small(x: f64) -> f64 {
    let z = x * x;
    let mut num = ERF_A[4] * z;
    let mut den = z;
    for i in 0..3 {
        num = (num + ERF_A[i]) * z;
        den = (den + ERF_B[i]) * z;
    }
    x * (num + ERF_A[3]) / (den + ERF_B[3])
}

/// exp(y^2) erfc(y) for y > 0.46875 (Cody's second and third intervals).
fn erfc_scaled(y: f64) -> f64 {
    if y <= 4.0 {
        let mut num = ERFC_C[8] * y;
        let mut den = y;
        for i in 0..7 {
            num = (num + ERFC_C[i]) * y;
            den = (den + ERFC_D[i]) * y;
        }
        (num + ERFC_C[7]) / (den + ERFC_D[7])
    } else {
        let z = 1.0 / (y * y);
        let mut num = ERFC_P[5] * z;
        let mut den = z;
        for i in 0..4 {
            num = (num + ERFC_P[i]) * z;
            den = (den + ERFC_Q[i]) * z;
        }
        (FRAC_1_SQRT_PI - z * (num + ERFC_P[4]) / (den + ERFC_Q[4])) / y
    }
}

/// The Spearman rank correlation of two samples: the Pearson correlation of their ranks,
/// with tied values sharing the average of their ranks.
///
/// For reports and tests (achieved against target correlations); it sorts, so it
/// allocates. NaN if the samples have fewer than two values or either is constant.
///
/// Panics if the lengths differ.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "samples of different lengths");
    pearson(&ranks(a), &ranks(b))
}

/// Ranks from 1, ties sharing their average rank.
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    let mut ranks = vec![0.0; x.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && x[order[end]] == x[order[start]] {
            end += 1;
        }
        // Positions start..end hold equal values: ranks start + 1 ..= end, averaged.
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if x.len() < 2 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, label_key, trial_key};

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn spearman_pearson_conversions_round_trip_and_fix_the_endpoints() {
        for k in -100..=100 {
            let rho = f64::from(k) / 100.0;
            let r = spearman_to_pearson(rho);
            assert!(close(pearson_to_spearman(r), rho, 1e-14), "{rho}");
            assert!(r.abs() <= 1.0 && (r == 0.0 || r.signum() == rho.signum()));
            // Normal correlation is larger in size, by at most 0.0181 (near |rho| 0.58).
            assert!(
                r.abs() >= rho.abs() && r.abs() - rho.abs() < 0.0182,
                "{rho} -> {r}"
            );
        }
        assert_eq!(spearman_to_pearson(1.0), 1.0);
        assert_eq!(spearman_to_pearson(-1.0), -1.0);
        assert_eq!(spearman_to_pearson(0.0), 0.0);
        assert_eq!(pearson_to_spearman(1.0), 1.0);
        assert!(close(
            spearman_to_pearson(0.5),
            2.0 * (PI / 12.0).sin(),
            1e-16
        ));
    }

    /// A valid 5 x 5 correlation matrix: normalised Gram matrix of some vectors.
    fn gram_correlation() -> Matrix {
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

    #[test]
    fn cholesky_reproduces_the_matrix() {
        let a = gram_correlation();
        let l = cholesky(&a).unwrap();
        assert_eq!(l.rank(), 5);
        assert!(l.product().frobenius_distance(&a) < 1e-14);
        assert_eq!(l.get(1, 3), 0.0);
    }

    #[test]
    fn cholesky_accepts_singular_but_valid_matrices() {
        // A perfect correlation, from a Spearman target of exactly 1.
        let perfect = Matrix::with_correlations(
            3,
            &[(0, 1, spearman_to_pearson(1.0)), (1, 2, 0.3), (0, 2, 0.3)],
        );
        let l = cholesky(&perfect).unwrap();
        assert_eq!(l.rank(), 2);
        assert!(l.product().frobenius_distance(&perfect) < 1e-14);
        // c = (a + b) / sqrt(2(1 + r)) for a~b r: a linear dependence, rank 2.
        let r: f64 = 0.4;
        let rc = (1.0 + r) / (2.0 * (1.0 + r)).sqrt();
        let dependent = Matrix::with_correlations(3, &[(0, 1, r), (0, 2, rc), (1, 2, rc)]);
        let l = cholesky(&dependent).unwrap();
        assert_eq!(l.rank(), 2);
        assert!(l.product().frobenius_distance(&dependent) < 1e-12);
    }

    #[test]
    fn cholesky_rejects_an_indefinite_matrix_at_its_first_bad_row() {
        let a = Matrix::with_correlations(4, &[(0, 1, 0.9), (1, 2, 0.9), (0, 2, -0.9)]);
        let err = cholesky(&a).unwrap_err();
        assert_eq!(err.row, 2);
        assert!(err.value < -PIVOT_TOLERANCE);
        // Perfect correlation of a and b forces a~c = b~c; anything else is rejected.
        let b = Matrix::with_correlations(3, &[(0, 1, 1.0), (0, 2, 0.5), (1, 2, 0.2)]);
        assert_eq!(cholesky(&b).unwrap_err().row, 2);
    }

    #[test]
    fn eigenvalues_match_a_known_spectrum_and_the_trace() {
        // Equicorrelation r among n: eigenvalues 1 + (n - 1) r once and 1 - r (n - 1) times.
        let r = -0.34;
        let pairs: Vec<_> = (0..4)
            .flat_map(|i| (i + 1..4).map(move |j| (i, j, r)))
            .collect();
        let values = eigenvalues(&Matrix::with_correlations(4, &pairs));
        assert!(close(values[0], 1.0 + 3.0 * r, 1e-14), "{values:?}");
        for &v in &values[1..] {
            assert!(close(v, 1.0 - r, 1e-14), "{values:?}");
        }
        let g = gram_correlation();
        let values = eigenvalues(&g);
        assert!(close(values.iter().sum(), 5.0, 1e-13));
        assert!(values[0] > 0.0);
        // The eigenvectors reconstruct the matrix: V diag(values) V^T = A.
        let (values, v) = jacobi(&g);
        for i in 0..5 {
            for j in 0..5 {
                let x: f64 = (0..5)
                    .map(|k| v[i * 5 + k] * values[k] * v[j * 5 + k])
                    .sum();
                assert!(close(x, g.get(i, j), 1e-14));
            }
        }
    }

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

    #[test]
    #[allow(clippy::excessive_precision)]
    fn normal_cdf_matches_reference_values() {
        // Reference values from mpmath at 40 digits, kept as printed.
        let cases = [
            (-37.5, 4.6053530095819548438e-308),
            (-30.0, 4.9067139271481870595e-198),
            (-20.0, 2.7536241186062336951e-89),
            (-10.0, 7.619853024160526066e-24),
            (-8.0, 6.2209605742717841235e-16),
            (-5.0, 2.8665157187919391167e-7),
            (-3.0, 0.0013498980316300945267),
            (-2.0, 0.0227501319481792072),
            (-1.5, 0.066807201268858066004),
            (-1.0, 0.15865525393145705141),
            (-0.6, 0.27425311775007358769),
            (-0.5, 0.30853753872598689636),
            (-0.25, 0.40129367431707627576),
            (0.0, 0.5),
            (0.3, 0.61791142218895263307),
            (0.66, 0.74537308532866386236),
            (1.0, 0.84134474606854294859),
            (2.5, 0.99379033467422386483),
            (5.0, 0.99999971334842812081),
            (8.0, 0.9999999999999993779),
        ];
        for (x, p) in cases {
            let got = normal_cdf(x);
            let relative = ((got - p) / p).abs();
            assert!(
                relative < 2e-15,
                "Phi({x}) = {got:e}, want {p:e}, relative error {relative:e}"
            );
        }
        assert_eq!(normal_cdf(-40.0), 0.0);
        assert_eq!(normal_cdf(40.0), 1.0);
        assert!(normal_cdf(f64::NAN).is_nan());
    }

    #[test]
    fn normal_cdf_inverts_normal_quantile() {
        // Both functions have relative errors of about 1e-16, but in the tail a relative
        // error d in the quantile x becomes about x^2 d in Phi(x) (d log Phi / d log |x| is
        // close to x^2 there), so allow 1e-15 (1 + x^2), relative to the smaller tail.
        let mut p = 1e-300_f64;
        let mut worst: f64 = 0.0;
        while p < 0.5 {
            let x = normal_quantile(p);
            let allowed = 1e-15 * (1.0 + x * x);
            let error = (normal_cdf(x) - p).abs() / p;
            assert!(error <= allowed, "{p:e}: relative error {error:e}");
            worst = worst.max(error / allowed);
            let q = 1.0 - p;
            if q < 1.0 {
                // 1 - q is exact, so compare tails; 1 - Phi(x) adds a rounding of 1.
                let back = 1.0 - normal_cdf(normal_quantile(q));
                assert!(
                    close(back, 1.0 - q, allowed * (1.0 - q) + f64::EPSILON),
                    "{q}"
                );
            }
            p *= 1.7;
        }
        eprintln!("worst round trip used {worst:.2} of the allowance");
        for k in 1..1000 {
            let x = -9.0 + 0.018 * f64::from(k);
            assert!(
                close(normal_cdf(x) + normal_cdf(-x), 1.0, 2.0 * f64::EPSILON),
                "{x}"
            );
        }
    }

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

    #[test]
    fn spearman_averages_tied_ranks() {
        // Ranks [1, 2.5, 2.5, 4] against [1, 2, 3, 4]: 4.5 / sqrt(4.5 * 5).
        let rho = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]);
        assert!(close(rho, 4.5 / 22.5_f64.sqrt(), 1e-15), "{rho}");
        // Invariant under monotone transforms, -1 for a reversal.
        let x = [0.3, 1.2, -0.7, 2.2, 0.0];
        let y: Vec<f64> = x.iter().map(|v: &f64| v.exp() * 3.0).collect();
        assert!(close(spearman(&x, &y), 1.0, 1e-15));
        let z: Vec<f64> = x.iter().map(|v| -v * v * v).collect();
        assert!(close(spearman(&x, &z), -1.0, 1e-15));
        assert!(spearman(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
    }
}
