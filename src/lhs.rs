//! Latin hypercube sampling of the trial-level inputs (`--sampling lhs`), and the
//! standard errors that go with it.
//!
//! Plain sampling gives each trial-level input an independent uniform in every trial.
//! Latin hypercube sampling cuts each input's range of probability into [`BLOCK`]
//! equal strata and, within every block of [`BLOCK`] consecutive trials, gives each
//! stratum to exactly one trial, independently for every input. An input's values over
//! a block then cover its whole distribution evenly, so whatever part of the NPV moves
//! with that input alone averages out within the block instead of adding noise to the
//! mean. What is left is the part no single input explains (interactions, and the
//! yearly draws of disputes, noise and notices, which stay plain).
//!
//! No permutation is stored. Trial k is in block k / [`BLOCK`] at position
//! k mod [`BLOCK`]; its stratum for an input is a keyed pseudorandom permutation of
//! that position, keyed by (seed, the input's key, the block). So a trial's numbers
//! still depend only on (seed, k) and on names, and threads, shards and precision
//! targets give one report, as with plain sampling. The stratum replaces the top
//! [`BLOCK_BITS`] bits of the input's word; the rest of the word places the value
//! within its stratum. Every input's sampler is monotone in its word's uniform under
//! LHS (normal and log-normal inputs take the inverse distribution function instead of
//! the ziggurat), so a stratum of the word is a stratum of the distribution.
//!
//! Each trial's inputs are still exactly distributed as the scenario says, and
//! independent of one another before any copula: for any one trial, the block key is a
//! hash and the permutation ends with a keyed rotation, so its stratum is uniform over
//! the strata and the word's low bits uniform within it. Estimates stay unbiased; only
//! the trials' dependence on each other changes. That is also why the usual standard
//! error, which assumes independent trials, overstates the noise of an LHS mean:
//! [`crate::stats::lhs_standard_error`] estimates it from the spread of the blocks'
//! means instead.

use serde::{Deserialize, Serialize};

use crate::rng::mix64;

/// log2 of [`BLOCK`].
pub const BLOCK_BITS: u32 = 10;

/// Trials per Latin hypercube: 1,024. Large enough that an input's additive effect on
/// the NPV all but vanishes from a block's mean, small enough that a run of 65,536
/// trials has the 64 blocks a standard error needs (see [`MIN_BLOCKS`]).
pub const BLOCK: u64 = 1 << BLOCK_BITS;

/// The fewest whole blocks a standard error is estimated from; with fewer, a report
/// (and a precision target's verdict) uses the plain standard error, which errs on the
/// safe side: a Latin hypercube's variance is never more than n / (n - 1) times plain
/// sampling's (Owen, 1997), and is usually less. The block estimate's own relative
/// error is about 1 / sqrt(2 (F - 1)) for F blocks: 8.9 % at 64, about what a plain
/// standard deviation has at a thousand heavy-tailed trials. (At 16 blocks it was 18 %,
/// enough for a run to a precision target to stop with its true standard error a fifth
/// above the target.)
pub const MIN_BLOCKS: u64 = 64;

/// How a run samples its trial-level inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// An independent draw for every input in every trial.
    #[default]
    Plain,
    /// Latin hypercube over blocks of [`BLOCK`] trials.
    Lhs,
}

impl Sampling {
    /// The name the command line, the report and the Python package use.
    pub fn name(self) -> &'static str {
        match self {
            Sampling::Plain => "plain",
            Sampling::Lhs => "lhs",
        }
    }

    /// Reads a name given by [`Sampling::name`].
    pub fn parse(name: &str) -> Option<Sampling> {
        match name {
            "plain" => Some(Sampling::Plain),
            "lhs" => Some(Sampling::Lhs),
            _ => None,
        }
    }

    pub fn is_plain(&self) -> bool {
        *self == Sampling::Plain
    }
}

/// A sampling method's name that is not one: every front end (the command line's
/// `--sampling`, Python's `sampling=`, the web app's `sampling`) gives this message, each
/// with its own name for the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sampling method {0:?}; expected plain or lhs (Latin hypercube)")]
pub struct UnknownSampling(pub String);

impl std::str::FromStr for Sampling {
    type Err = UnknownSampling;

    fn from_str(name: &str) -> Result<Sampling, UnknownSampling> {
        Sampling::parse(name).ok_or_else(|| UnknownSampling(name.to_string()))
    }
}

/// Keeps LHS strata apart from every other use of the seed.
const SALT: u64 = 0x4c48_535f_7374_7261; // "LHS_stra"

/// Where trial k's strata come from: its block's key and its position in the block.
/// [`BlockKeys`] does the same work for a worker's many trials, hashing each input's
/// key once a block instead of once a trial.
#[derive(Debug, Clone, Copy)]
pub struct Strata {
    block_key: u64,
    position: u64,
}

/// The key of block `block` under `seed`, from which each input's permutation key is
/// hashed.
#[inline]
fn block_key(seed: u64, block: u64) -> u64 {
    mix64(seed ^ SALT) ^ block.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The key of the permutation of the input with key `input_key` in the block with key
/// `block_key`.
#[inline]
fn permutation_key(block_key: u64, input_key: u64) -> u64 {
    mix64(block_key ^ input_key)
}

/// `word` with its top [`BLOCK_BITS`] bits replaced by `stratum`.
#[inline]
fn with_stratum(word: u64, stratum: u64) -> u64 {
    (stratum << (64 - BLOCK_BITS)) | (word & (u64::MAX >> BLOCK_BITS))
}

impl Strata {
    /// Trial `trial`'s strata under `seed`.
    #[inline]
    pub fn of_trial(seed: u64, trial: u64) -> Strata {
        Strata {
            block_key: block_key(seed, trial >> BLOCK_BITS),
            position: trial & (BLOCK - 1),
        }
    }

    /// The input with key `input_key`'s stratum in this trial, in 0 .. [`BLOCK`].
    #[inline]
    pub fn stratum(&self, input_key: u64) -> u64 {
        permute(self.position, permutation_key(self.block_key, input_key))
    }

    /// `word` with its top [`BLOCK_BITS`] bits replaced by the input's stratum: its
    /// uniform then lies in [s / BLOCK, (s + 1) / BLOCK) for stratum s, placed within
    /// it by the word's other bits.
    #[inline]
    pub fn stratify(&self, input_key: u64, word: u64) -> u64 {
        with_stratum(word, self.stratum(input_key))
    }
}

/// A worker's permutation keys for the inputs a trial draws, kept while its trials stay
/// in one block (a worker's trials come in chunks of consecutive trials), so that each
/// trial costs a permutation per input and no hashing. Gives exactly [`Strata`]'s
/// words.
#[derive(Debug, Clone)]
pub struct BlockKeys {
    /// The (seed, block) the keys are for, if any yet.
    of: Option<(u64, u64)>,
    keys: Vec<u64>,
}

impl BlockKeys {
    /// Room for `inputs` inputs' keys.
    pub fn new(inputs: usize) -> BlockKeys {
        BlockKeys {
            of: None,
            keys: vec![0; inputs],
        }
    }

    /// Replaces the top bits of each of `words`, the words of trial `trial` under
    /// `seed` of the inputs with keys `input_keys` (in the same order), by that input's
    /// stratum in the trial (see [`Strata::stratify`]).
    #[inline]
    pub fn stratify(&mut self, seed: u64, trial: u64, input_keys: &[u64], words: &mut [u64]) {
        let block = trial >> BLOCK_BITS;
        if self.of != Some((seed, block)) {
            let key = block_key(seed, block);
            for (k, &input) in self.keys.iter_mut().zip(input_keys) {
                *k = permutation_key(key, input);
            }
            self.of = Some((seed, block));
        }
        let position = trial & (BLOCK - 1);
        for (w, &k) in words.iter_mut().zip(&self.keys) {
            *w = with_stratum(*w, permute(position, k));
        }
    }
}

/// A keyed permutation of 0 .. [`BLOCK`]: each step (xor with key bits, multiplication
/// by an odd number, xor with a right shift of itself, all modulo [`BLOCK`]) is a
/// bijection, so their composition is; three rounds with independent key bits leave no
/// visible linear relation between two keys' permutations, and the final keyed
/// rotation makes any one position's image uniform over the keys. Written here because
/// what is needed is a few lines of arithmetic on a 10-bit index, not a cipher: a
/// format-preserving encryption crate would be far slower for no use here.
#[inline]
fn permute(position: u64, key: u64) -> u64 {
    const MASK: u64 = BLOCK - 1;
    let mut x = position;
    let mut k = key;
    for _ in 0..3 {
        x = (x ^ k) & MASK;
        x = x.wrapping_mul((k >> BLOCK_BITS) | 1) & MASK;
        x ^= x >> (BLOCK_BITS / 2);
        k = k.rotate_right(21);
    }
    x.wrapping_add(key >> (64 - BLOCK_BITS)) & MASK
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats;

    #[test]
    fn each_block_gives_every_stratum_to_one_trial_for_every_input() {
        for seed in [0, 1, 99] {
            for block in [0u64, 1, 7_000_000] {
                for input_key in [1u64, 2, 0xdead_beef, u64::MAX] {
                    let mut seen = vec![false; BLOCK as usize];
                    for j in 0..BLOCK {
                        let s = Strata::of_trial(seed, block * BLOCK + j).stratum(input_key);
                        assert!(!seen[s as usize], "stratum {s} given twice");
                        seen[s as usize] = true;
                    }
                }
            }
        }
    }

    #[test]
    fn two_inputs_strata_are_uncorrelated_over_a_block() {
        // Pearson's r of two inputs' strata over one block is about N(0, 1/B) if they
        // are unrelated: |r| < 4 / sqrt(B) = 0.125 for every pair tried (and the mean
        // of r^2 near 1/B, not far above it, which a linear relation would give).
        let mut sum_r2 = 0.0;
        let mut pairs = 0.0;
        for seed in 0..20u64 {
            let strata: Vec<Strata> = (0..BLOCK).map(|k| Strata::of_trial(seed, k)).collect();
            let a: Vec<f64> = strata.iter().map(|s| s.stratum(11) as f64).collect();
            for other in [12u64, 13, 1 << 40] {
                let b: Vec<f64> = strata.iter().map(|s| s.stratum(other) as f64).collect();
                let (ma, mb) = (stats::mean(&a), stats::mean(&b));
                let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - ma) * (y - mb)).sum();
                let var: f64 = a.iter().map(|x| (x - ma) * (x - ma)).sum();
                let r = cov / var; // both are permutations: equal variances
                assert!(r.abs() < 0.125, "seed {seed}, input {other}: r = {r}");
                sum_r2 += r * r;
                pairs += 1.0;
            }
        }
        let mean_r2 = sum_r2 / pairs;
        assert!(mean_r2 < 2.0 / BLOCK as f64, "mean r^2 {mean_r2}");
    }

    #[test]
    fn one_trials_stratum_is_uniform_over_seeds() {
        // Trial 5's stratum over 64k seeds, in 16 bins of 64 strata: chi-square with 15
        // degrees of freedom, below 37.7 (p = 0.001).
        let n = 65_536u64;
        let mut bins = [0u64; 16];
        for seed in 0..n {
            bins[(Strata::of_trial(seed, 5).stratum(42) / 64) as usize] += 1;
        }
        let e = n as f64 / 16.0;
        let chi2: f64 = bins.iter().map(|&c| (c as f64 - e).powi(2) / e).sum();
        assert!(chi2 < 37.7, "chi-square {chi2}, bins {bins:?}");
    }

    #[test]
    fn block_keys_give_the_strata_of_each_trial() {
        let inputs = [5u64, 6, 1 << 50];
        let mut keys = BlockKeys::new(inputs.len());
        for trial in [0u64, 1, 1023, 1024, 5000, 3, 1 << 40] {
            for seed in [1u64, 2] {
                let mut words = [u64::MAX, 0, 0x5555_5555_5555_5555];
                let before = words;
                keys.stratify(seed, trial, &inputs, &mut words);
                let strata = Strata::of_trial(seed, trial);
                for ((w, b), input) in words.iter().zip(before).zip(inputs) {
                    assert_eq!(*w, strata.stratify(input, b), "trial {trial} seed {seed}");
                }
            }
        }
    }

    #[test]
    fn stratify_keeps_the_low_bits_and_sets_the_top_ones() {
        let s = Strata::of_trial(3, 77);
        let w = 0x0123_4567_89ab_cdef;
        let x = s.stratify(9, w);
        assert_eq!(x >> (64 - BLOCK_BITS), s.stratum(9));
        assert_eq!(x << BLOCK_BITS, w << BLOCK_BITS);
    }
}
