//! Rank correlation: the user's currency for correlations, and its exact conversion to
//! and from the normal correlation a Gaussian copula needs.
//!
//! A Spearman target becomes a normal correlation with [`spearman_to_pearson`] before
//! the matrix is built, and a normal correlation (a repaired one, say) is shown back in
//! the user's terms with [`pearson_to_spearman`]. [`spearman`] measures the rank
//! correlation a sample achieved, for tests and for the sensitivity analysis.

use std::f64::consts::PI;

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
    use crate::copula::test_support::close;

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
