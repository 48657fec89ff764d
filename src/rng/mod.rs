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
//!
//! The ziggurat normal of one word, [`normal_from_word`], is in `ziggurat.rs` with its
//! tables. The normal quantile that [`Stream::std_normal`] uses lives with the normal
//! distribution function in [`crate::copula`].

#[cfg(test)]
use rand::TryRng;

use crate::copula::normal_quantile;

mod ziggurat;

pub use ziggurat::normal_from_word;

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

#[cfg(test)]
mod tests {
    use super::*;

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
