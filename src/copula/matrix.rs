//! The copula's linear algebra: a small dense symmetric [`Matrix`], its Cholesky factor
//! ([`cholesky`], [`LowerTriangular`]) and its eigenvalues (cyclic Jacobi).
//!
//! The matrices have at most a few dozen rows and are prepared once per run, so this is
//! plain dense arithmetic written out rather than a dependency. The Cholesky factor is
//! both the copula's mixing matrix and the test of validity (positive semi-definiteness);
//! the eigenvalues say how far an invalid matrix is from valid and drive its repair.

/// A small dense symmetric matrix, stored row-major.
///
/// Symmetry is an invariant: [`Matrix::set`] writes both halves, and the constructors
/// refuse asymmetric input. Entries are expected to be finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub(super) n: usize,
    pub(super) data: Vec<f64>,
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
    pub(super) fn principal(&self, idx: &[usize]) -> Matrix {
        let data = idx
            .iter()
            .flat_map(|&i| idx.iter().map(move |&j| self.get(i, j)))
            .collect();
        Matrix { n: idx.len(), data }
    }
}

pub(super) fn frobenius(entries: impl Iterator<Item = f64>) -> f64 {
    entries.map(|x| x * x).sum::<f64>().sqrt()
}

/// A lower-triangular matrix, packed by rows: row i holds entries (i, 0..=i).
///
/// Packing keeps each row contiguous, which is the order
/// [`Copula::correlate`](super::Copula::correlate) reads it in.
#[derive(Debug, Clone, PartialEq)]
pub struct LowerTriangular {
    pub(super) n: usize,
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
pub(super) fn jacobi(m: &Matrix) -> (Vec<f64>, Vec<f64>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copula::spearman_to_pearson;
    use crate::copula::test_support::{close, gram_correlation};

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
}
