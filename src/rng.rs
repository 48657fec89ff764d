//! Random streams: one per (seed, trial, entity), so that results never depend on threads.
//!
//! Common random numbers need more than "one stream per trial": if a change of one input
//! changed how many numbers another input consumed, every later draw would shift. So each
//! trial gives every consumer its own stream, keyed by a stable 64-bit label derived from
//! what it is (partner "Police", the year process), each stream consumes a fixed count of
//! numbers per year whatever happens, and each trial-level input reads the trial's inputs
//! stream at a position given by its own label (`/service/efficiency`). Renaming or
//! reordering an unrelated partner therefore leaves a partner's draws where they were.
//!
//! A stream is a Weyl sequence (a counter stepping by a fixed odd constant) read through
//! an output mixer: opened with SplitMix64's mixer, drawn with wyrand's (see [`Stream`]
//! for why). Uniforms and normals are computed here from raw 64-bit words rather than
//! through `rand`'s helpers, so that a report stays byte-identical across `rand`
//! releases.

use std::sync::OnceLock;

#[cfg(test)]
use rand::TryRng;

/// SplitMix64's output function: a bijective 64-bit mixer.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// wyrand's Weyl increment and output mask (Wang Yi's wyhash, final version 4).
const WY_INCREMENT: u64 = 0xa076_1d64_78bd_642f;
const WY_XOR: u64 = 0xe703_7ed1_a0b4_28db;

/// How far a stream's state moves to reach draw `index`: the Weyl increment, index + 1
/// times over.
#[inline]
pub fn step_to(index: u64) -> u64 {
    index.wrapping_add(1).wrapping_mul(WY_INCREMENT)
}

/// wyrand's output function: the two halves of a 64 x 64 -> 128-bit product, folded.
#[inline]
fn wymix(state: u64) -> u64 {
    let product = u128::from(state) * u128::from(state ^ WY_XOR);
    (product >> 64) as u64 ^ product as u64
}

/// A stable 64-bit key for a label (FNV-1a, then mixed). Used to name streams.
pub fn label_key(label: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix64(h)
}

/// The key of trial `trial` under `seed`: every stream of the trial derives from it.
#[inline]
pub fn trial_key(seed: u64, trial: u64) -> u64 {
    mix64(mix64(seed.wrapping_add(GOLDEN)) ^ trial.wrapping_mul(GOLDEN))
}

/// One random stream: a Weyl sequence through a 64-bit mixer.
///
/// A trial opens a handful of streams and draws a few dozen numbers from each, some
/// seventy words in all, so both opening and drawing must be cheap. Opening hashes the
/// (trial, entity) pair with SplitMix64's mixer (two multiplies, a strong avalanche);
/// drawing is wyrand (Wang Yi): the counter steps by wyrand's constant and one
/// 64 x 64 -> 128-bit multiply folds it into a word. wyrand passes BigCrush and
/// PractRand, and its single multiply makes a draw about half the cost of SplitMix64's,
/// which made the whole engine 6 % faster. Being a counter, any position of a stream is
/// one multiply away ([`Stream::word_at`]). Streams of different entities start at
/// unrelated points of the 2^64 cycle, so they do not overlap in the numbers a trial
/// uses.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    state: u64,
}

impl Stream {
    /// The stream of entity `entity` (a [`label_key`]) in the trial with key `trial_key`.
    #[inline]
    pub fn new(trial_key: u64, entity: u64) -> Self {
        Stream {
            state: mix64(trial_key ^ entity.rotate_left(17)) ^ entity,
        }
    }

    /// The word the stream would give at draw `index` (0-based) after being opened,
    /// without drawing: the state is a Weyl sequence, so any position is one multiply
    /// away. Only meaningful on a stream that has not been drawn from.
    #[inline]
    pub fn word_at(&self, index: u64) -> u64 {
        self.word_after(step_to(index))
    }

    /// [`Stream::word_at`] the index whose [`step_to`] is `step`: for draws at fixed
    /// positions, the step can be computed once instead of every trial.
    #[inline]
    pub fn word_after(&self, step: u64) -> u64 {
        wymix(self.state.wrapping_add(step))
    }

    /// [`Stream::uniform`] at draw `index` (see [`Stream::word_at`]).
    #[inline]
    pub fn uniform_at(&self, index: u64) -> f64 {
        (self.word_at(index) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// The next raw 64-bit word.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(WY_INCREMENT);
        wymix(self.state)
    }

    /// A uniform number in [0, 1) with 53 random bits. `u < p` is then an event of
    /// probability exactly p for p in [0, 1].
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform number strictly inside (0, 1), for inverse distribution functions.
    /// 52 bits, so that adding the half step is exact: with 53, the top value would
    /// round up to exactly 1.
    #[inline]
    pub fn open_uniform(&mut self) -> f64 {
        open_unit(self.next_u64())
    }

    /// A standard normal from exactly one word, by inverse CDF.
    #[inline]
    pub fn std_normal(&mut self) -> f64 {
        normal_quantile(self.open_uniform())
    }
}

/// The open-interval uniform of one word (see [`Stream::open_uniform`]).
#[inline]
pub fn open_unit(word: u64) -> f64 {
    ((word >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
}

/// `rand`'s distributions can draw from a [`Stream`]: the unit tests check the PERT table
/// against `rand_distr`'s sampler. Only tests draw through `rand`, so it is a
/// dev-dependency.
#[cfg(test)]
impl TryRng for Stream {
    type Error = std::convert::Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.next_u64() >> 32) as u32)
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(())
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

    #[test]
    fn streams_differ_by_trial_and_entity_and_repeat_exactly() {
        let k = trial_key(1, 0);
        let a: Vec<u64> = (0..4)
            .map({
                let mut s = Stream::new(k, 7);
                move |_| s.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut s = Stream::new(k, 7);
                move |_| s.next_u64()
            })
            .collect();
        let c: Vec<u64> = (0..4)
            .map({
                let mut s = Stream::new(k, 8);
                move |_| s.next_u64()
            })
            .collect();
        let d: Vec<u64> = (0..4)
            .map({
                let mut s = Stream::new(trial_key(1, 1), 7);
                move |_| s.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_ne!(trial_key(1, 5), trial_key(2, 5));
    }

    #[test]
    fn open_uniform_stays_inside_the_interval_at_its_extremes() {
        // The largest and smallest words a stream can give.
        let (top, bottom) = (open_unit(u64::MAX), open_unit(0));
        assert!(top < 1.0 && bottom > 0.0);
        assert!(normal_quantile(top).is_finite() && normal_quantile(bottom).is_finite());
    }

    #[test]
    fn word_at_is_the_sequential_draw_at_that_position() {
        let opened = Stream::new(trial_key(4, 2), 9);
        let mut s = opened.clone();
        for i in 0..20 {
            assert_eq!(opened.word_at(i), s.next_u64());
        }
    }

    #[test]
    fn words_are_uncorrelated_along_a_stream_across_streams_and_across_trials() {
        let n = 200_000u64;
        // Pearson correlation of two sequences of uniforms; se is about 1 / sqrt(n).
        let correlation = |a: &dyn Fn(u64) -> f64, b: &dyn Fn(u64) -> f64| {
            let (mut sa, mut sb, mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for k in 0..n {
                let (x, y) = (a(k), b(k));
                sa += x;
                sb += y;
                sab += x * y;
                saa += x * x;
                sbb += y * y;
            }
            let m = n as f64;
            (sab / m - sa / m * sb / m)
                / ((saa / m - (sa / m).powi(2)) * (sbb / m - (sb / m).powi(2))).sqrt()
        };
        let bound = 5.0 / (n as f64).sqrt();
        let one = Stream::new(trial_key(4, 0), 10);
        // Neighbouring positions of one stream, and positions three apart (a partner's
        // draws for the same decision in consecutive years).
        let lag1 = correlation(&|k| one.uniform_at(k), &|k| one.uniform_at(k + 1));
        let lag3 = correlation(&|k| one.uniform_at(3 * k), &|k| one.uniform_at(3 * k + 3));
        // The same position in two entities' streams of one trial, and in one entity's
        // streams of neighbouring trials.
        let entities = correlation(&|k| Stream::new(trial_key(4, k), 10).uniform_at(0), &|k| {
            Stream::new(trial_key(4, k), 11).uniform_at(0)
        });
        let trials = correlation(&|k| Stream::new(trial_key(4, k), 10).uniform_at(5), &|k| {
            Stream::new(trial_key(4, k + 1), 10).uniform_at(5)
        });
        for (what, r) in [
            ("lag 1", lag1),
            ("lag 3", lag3),
            ("entities", entities),
            ("trials", trials),
        ] {
            assert!(r.abs() < bound, "{what}: correlation {r} (bound {bound})");
        }
    }

    #[test]
    fn uniform_mean_and_variance_are_right() {
        let mut s = Stream::new(trial_key(3, 0), 1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| s.uniform()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        // se of the mean is sqrt(1/12/n) ~ 0.00065; 4 se.
        assert!(
            (mean - 0.5).abs() < 4.0 * (1.0 / 12.0 / n as f64).sqrt(),
            "{mean}"
        );
        assert!((var - 1.0 / 12.0).abs() < 0.002, "{var}");
    }
}
