//! The ziggurat normal: a standard normal from exactly one 64-bit word, the engine's way
//! of drawing its yearly efficiency noise and its normal and log-normal inputs.
//!
//! Marsaglia and Tsang's method with 256 layers: a table read and a multiply for almost
//! every word, and a cold path (the base strip's tail and the wedges) that continues in a
//! stream seeded by the word itself, so that the normal stays a pure function of its
//! word and common random numbers hold. The tables are computed once, on first use.

use std::sync::OnceLock;

use super::Stream;

/// A standard normal from one 64-bit word, by Marsaglia and Tsang's ziggurat (256
/// layers). This is the engine's per-year efficiency noise: a year draws exactly one
/// word for it, so the stream stays in step whatever the value, and the normal costs a
/// table read and a multiply in 98.5 % of years (an inverse CDF costs several times as
/// much). The rare word that misses the fast path continues from a stream seeded by the
/// word itself, so the normal is still a pure function of that one word: common random
/// numbers hold.
///
/// Why not `rand_distr::StandardNormal`: its bit usage may change between releases, and
/// a report must stay byte-identical for a given engine version whatever the
/// dependencies resolve to.
#[inline]
pub fn normal_from_word(word: u64) -> f64 {
    let z = ziggurat();
    let (i, x) = layer_and_x(word, z);
    if x.abs() < z.x[i + 1] {
        return x;
    }
    normal_slow_path(word, i, x, z)
}

/// A ziggurat word's layer (its low 8 bits) and its point x in that layer's box: a
/// uniform in [-1, 1] from the 53 bits above the layer index, which they do not overlap
/// (the top word rounds to exactly 1, whose |x| = x[i] the fast path rejects and the
/// wedge or tail then handles like any other), times the layer's edge.
#[inline]
fn layer_and_x(word: u64, z: &Ziggurat) -> (usize, f64) {
    let i = (word & 0xff) as usize;
    let u = ((word >> 11) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64) - 1.0;
    (i, u * z.x[i])
}

/// The ziggurat's rare cases: the base strip's tail and the wedges. Kept out of line so
/// that the fast path stays small where it is inlined.
#[cold]
#[inline(never)]
fn normal_slow_path(word: u64, mut i: usize, mut x: f64, z: &Ziggurat) -> f64 {
    let mut more = Stream::new(word, ZIGGURAT_STREAM);
    loop {
        if i == 0 {
            // Marsaglia's tail beyond R, by two exponentials.
            loop {
                let a = -more.open_uniform().ln() / ZIGGURAT_R;
                let b = -more.open_uniform().ln();
                if b + b >= a * a {
                    return (ZIGGURAT_R + a).copysign(x);
                }
            }
        }
        let y = z.f[i] + (z.f[i + 1] - z.f[i]) * more.uniform();
        if y < (-0.5 * x * x).exp() {
            return x;
        }
        (i, x) = layer_and_x(more.next_u64(), z);
        if x.abs() < z.x[i + 1] {
            return x;
        }
    }
}

/// Start of the ziggurat's tail (256 layers; Marsaglia and Tsang, 2000).
const ZIGGURAT_R: f64 = 3.654_152_885_361_009;
/// Key of the stream a ziggurat word continues in when it misses the fast path.
const ZIGGURAT_STREAM: u64 = 0x5a16_6a7a_0000_0001;

/// The ziggurat's layer edges `x` (x[0] is the base strip's notional width, x[256] = 0)
/// and the density at each, `f[i] = exp(-x[i]^2 / 2)`.
struct Ziggurat {
    x: [f64; 257],
    f: [f64; 257],
}

fn ziggurat() -> &'static Ziggurat {
    static TABLE: OnceLock<Ziggurat> = OnceLock::new();
    TABLE.get_or_init(|| {
        let density = |x: f64| (-0.5 * x * x).exp();
        let r = ZIGGURAT_R;
        // Area of each layer: the base strip (rectangle plus tail) sets it.
        let v = r * density(r)
            + (std::f64::consts::PI / 2.0).sqrt() * puruspe::erfc(r / std::f64::consts::SQRT_2);
        let mut x = [0.0; 257];
        x[0] = v / density(r);
        x[1] = r;
        for i in 1..256 {
            let a = v / x[i] + density(x[i]);
            x[i + 1] = if a < 1.0 { (-2.0 * a.ln()).sqrt() } else { 0.0 };
        }
        x[256] = 0.0;
        let f = x.map(density);
        Ziggurat { x, f }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::trial_key;

    #[test]
    fn ziggurat_normal_passes_a_ks_test_at_a_million_draws() {
        let n = 1_000_000;
        let mut s = Stream::new(trial_key(31, 0), 7);
        let mut xs: Vec<f64> = (0..n).map(|_| normal_from_word(s.next_u64())).collect();
        xs.sort_unstable_by(f64::total_cmp);
        let cdf = |x: f64| 0.5 * puruspe::erfc(-x / std::f64::consts::SQRT_2);
        let d = xs
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = cdf(x);
                (f - i as f64 / n as f64)
                    .abs()
                    .max((f - (i + 1) as f64 / n as f64).abs())
            })
            .fold(0.0, f64::max);
        assert!(d < 1.95 / (n as f64).sqrt(), "KS D = {d}");
        // The tails beyond the base strip (|z| > R) are sampled too, at their rate.
        let beyond = xs.iter().filter(|x| x.abs() > ZIGGURAT_R).count() as f64;
        let expected = n as f64 * puruspe::erfc(ZIGGURAT_R / std::f64::consts::SQRT_2);
        assert!(
            (beyond - expected).abs() < 5.0 * expected.sqrt(),
            "{beyond} draws beyond R, expected {expected}"
        );
    }

    /// The wedges (where a layer's box overhangs the density) must reject the right
    /// draws; too few rejections would move about 0.7 % of the mass outwards within each
    /// layer, which a KS test at a million draws cannot see. Counts the draws in the outer
    /// half of every layer above the base strip against the exact normal mass there.
    #[test]
    fn ziggurat_wedges_hold_the_exact_mass() {
        let zig = ziggurat();
        let cdf = |x: f64| 0.5 * puruspe::erfc(-x / std::f64::consts::SQRT_2);
        let outer_half = |z: f64| {
            let a = z.abs();
            // Layer i spans (x[i + 1], x[i]); x falls from x[1] = R to x[256] = 0.
            let i = zig.x[1..].partition_point(|&edge| edge > a);
            (1..256).contains(&i) && a > 0.5 * (zig.x[i] + zig.x[i + 1])
        };
        let expected: f64 = (1..256)
            .map(|i| 2.0 * (cdf(zig.x[i]) - cdf(0.5 * (zig.x[i] + zig.x[i + 1]))))
            .sum();
        // Four million draws: the fault would be about 9 standard errors.
        let n = 4_000_000;
        let mut s = Stream::new(trial_key(33, 0), 9);
        let hits = (0..n)
            .filter(|_| outer_half(normal_from_word(s.next_u64())))
            .count();
        let share = hits as f64 / n as f64;
        let se = (expected * (1.0 - expected) / n as f64).sqrt();
        assert!(
            (share - expected).abs() < 5.0 * se,
            "share in the layers' outer halves {share}, exact {expected} (se {se})"
        );
    }

    /// The normal is a pure function of its word, rare slow-path words included, and the
    /// fast path takes about 98.5 % of words.
    #[test]
    fn ziggurat_normal_is_a_function_of_its_word() {
        let mut s = Stream::new(trial_key(32, 0), 8);
        let mut fast = 0usize;
        let n = 200_000;
        for _ in 0..n {
            let w = s.next_u64();
            let z = normal_from_word(w);
            assert_eq!(z.to_bits(), normal_from_word(w).to_bits());
            assert!(z.is_finite());
            let zig = ziggurat();
            let (i, x) = layer_and_x(w, zig);
            if x.abs() < zig.x[i + 1] {
                fast += 1;
            }
        }
        // The fast path's probability is the mean ratio of a layer's inner to outer edge.
        let zig = ziggurat();
        let expected = (0..256).map(|i| zig.x[i + 1] / zig.x[i]).sum::<f64>() / 256.0;
        let share = fast as f64 / n as f64;
        let se = (expected * (1.0 - expected) / n as f64).sqrt();
        assert!(
            (share - expected).abs() < 5.0 * se && expected > 0.98,
            "fast path share {share}, expected {expected}"
        );
    }
}
