//! The standard normal distribution function and its inverse, in one place.
//!
//! [`normal_cdf`] (Phi, after W. J. Cody) and [`normal_quantile`] (Phi^-1, Wichura's
//! AS 241) are the two halves of every trip between the uniform and the normal scale:
//! the copula goes there and back, the sampler takes correlated normal scores back to
//! uniforms with [`open_normal_cdf`] and independent uniforms to normals with the
//! quantile, and each is tested against the other. Both are accurate to about 1e-16
//! relative, in the tails too, where the joint extremes of correlated inputs live.

use std::f64::consts::FRAC_1_SQRT_2;

/// Phi(x) held strictly inside (0, 1): a correlated score x can reach further into the
/// tail than any single independent one, where Phi(x) rounds to 0 or 1, and an inverse
/// distribution function must see neither.
pub fn open_normal_cdf(x: f64) -> f64 {
    normal_cdf(x).clamp(OPEN_LOW, OPEN_HIGH)
}

/// The smallest and largest doubles strictly inside (0, 1), bar subnormals.
pub(super) const OPEN_LOW: f64 = f64::MIN_POSITIVE;
pub(super) const OPEN_HIGH: f64 = 1.0 - f64::EPSILON / 2.0;

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

// Coefficients of AS 241 as published (highest power first), kept digit for digit.
#[allow(clippy::excessive_precision)]
const A: [f64; 8] = [
    2509.0809287301226727,
    33430.575583588128105,
    67265.770927008700853,
    45921.953931549871457,
    13731.693765509461125,
    1971.5909503065514427,
    133.14166789178437745,
    3.387132872796366608,
];
#[allow(clippy::excessive_precision)]
const B: [f64; 8] = [
    5226.495278852545925,
    28729.085735721942674,
    39307.89580009271061,
    21213.794301586595867,
    5394.1960214247511077,
    687.1870074920579083,
    42.313330701600911252,
    1.0,
];
#[allow(clippy::excessive_precision)]
const C: [f64; 8] = [
    7.7454501427834140764e-4,
    0.0227238449892691845833,
    0.24178072517745061177,
    1.27045825245236838258,
    3.64784832476320460504,
    5.7694972214606914055,
    4.6303378461565452959,
    1.42343711074968357734,
];
#[allow(clippy::excessive_precision)]
const D: [f64; 8] = [
    1.05075007164441684324e-9,
    5.475938084995344946e-4,
    0.0151986665636164571966,
    0.14810397642748007459,
    0.68976733498510000455,
    1.6763848301838038494,
    2.05319162663775882187,
    1.0,
];
#[allow(clippy::excessive_precision)]
const E: [f64; 8] = [
    2.01033439929228813265e-7,
    2.71155556874348757815e-5,
    0.0012426609473880784386,
    0.026532189526576123093,
    0.29656057182850489123,
    1.7848265399172913358,
    5.4637849111641143699,
    6.6579046435011037772,
];
#[allow(clippy::excessive_precision)]
const F: [f64; 8] = [
    2.04426310338993978564e-15,
    1.4215117583164458887e-7,
    1.8463183175100546818e-5,
    7.868691311456132591e-4,
    0.0148753612908506148525,
    0.13692988092273580531,
    0.59983220655588793769,
    1.0,
];

/// A polynomial of degree 7 with coefficients from the highest power down, by Estrin's
/// scheme: pairs, then pairs of pairs, so the dependent chain is three multiply-adds
/// long instead of Horner's seven. The quantile turns correlated inputs' uniforms into
/// normal scores (and gives `sensitivity` its exact P10 and P90), and its two
/// polynomials are what it spends its time on.
#[inline]
fn polynomial(c: &[f64; 8], x: f64) -> f64 {
    let x2 = x * x;
    let x4 = x2 * x2;
    let low = (c[7] + c[6] * x) + (c[5] + c[4] * x) * x2;
    let high = (c[3] + c[2] * x) + (c[1] + c[0] * x) * x2;
    low + high * x4
}

/// The standard normal quantile function, Wichura's AS 241 (PPND16): relative error
/// about 1e-16 over (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * polynomial(&A, r) / polynomial(&B, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail.ln()).sqrt();
    let x = if r <= 5.0 {
        polynomial(&C, r - 1.6) / polynomial(&D, r - 1.6)
    } else {
        polynomial(&E, r - 5.0) / polynomial(&F, r - 5.0)
    };
    if q < 0.0 { -x } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copula::test_support::close;

    #[test]
    fn normal_quantile_matches_known_values() {
        // Against 40-digit values (mpmath) of the quantile at exactly these doubles,
        // across AS 241's three regions.
        for (u, z) in [
            (0.3, -0.524_400_512_708_040_8),
            (0.7, 0.524_400_512_708_040_7),
            (0.425, -0.189_118_426_272_792_5),
            (0.075, -1.439_531_470_938_456),
            (0.02, -2.053_748_910_631_823),
            (0.9999, 3.719_016_485_455_708_4),
            (1e-5, -4.264_890_793_922_825),
        ] {
            let got = normal_quantile(u);
            assert!((got - z).abs() <= 2e-15 * z.abs(), "{u}: {got} vs {z}");
        }
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
        assert!((normal_quantile(0.5)).abs() < 1e-16);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813_5).abs() < 1e-13);
        assert!((normal_quantile(1e-12) + 7.034_483_825_108_7).abs() < 1e-9);
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
}
