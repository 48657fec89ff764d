//! Random streams: one per (seed, trial, entity), so that results never depend on threads.
//!
//! Common random numbers need more than "one stream per trial": if a change of one input
//! changed how many numbers another input consumed, every later draw would shift. So each
//! trial gives every consumer its own stream, keyed by a stable 64-bit label derived from
//! what it is (`/service/efficiency`, partner "Police", the year process), and each stream
//! consumes a fixed count of numbers per year whatever happens. Renaming or reordering an
//! unrelated partner therefore leaves a partner's draws where they were.
//!
//! The generator is Xoshiro256++ (fast, passes BigCrush), seeded through SplitMix64 as its
//! authors recommend. Uniforms and normals are computed here from raw 64-bit words rather
//! than through `rand`'s helpers, so that a report stays byte-identical across `rand`
//! releases.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng, TryRng};

/// SplitMix64's output function: a bijective 64-bit mixer.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

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

/// One random stream.
#[derive(Clone, Debug)]
pub struct Stream(Xoshiro256PlusPlus);

impl Stream {
    /// The stream of entity `entity` (a [`label_key`]) in the trial with key `trial_key`.
    #[inline]
    pub fn new(trial_key: u64, entity: u64) -> Self {
        let mut state = mix64(trial_key ^ entity.rotate_left(17)) ^ entity;
        let mut seed = [0u8; 32];
        for chunk in seed.chunks_exact_mut(8) {
            state = state.wrapping_add(GOLDEN);
            chunk.copy_from_slice(&mix64(state).to_le_bytes());
        }
        Stream(Xoshiro256PlusPlus::from_seed(seed))
    }

    /// The next raw 64-bit word.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform number in [0, 1) with 53 random bits. `u < p` is then an event of
    /// probability exactly p for p in [0, 1].
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform number strictly inside (0, 1), for inverse distribution functions.
    #[inline]
    pub fn open_uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal from exactly one word, by inverse CDF.
    #[inline]
    pub fn std_normal(&mut self) -> f64 {
        normal_quantile(self.open_uniform())
    }
}

/// `rand`'s distributions can draw from a [`Stream`] (used for Beta-PERT).
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
        self.0.fill_bytes(dst);
        Ok(())
    }
}

/// The standard normal quantile function, Wichura's AS 241 (PPND16): relative error
/// about 1e-16 over (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q
            * (((((((2509.080_928_730_122_7 * r + 33430.575_583_588_128) * r
                + 67265.770_927_008_700)
                * r
                + 45921.953_931_549_871)
                * r
                + 13731.693_765_509_461)
                * r
                + 1971.590_950_306_551_3)
                * r
                + 133.141_667_891_784_38)
                * r
                + 3.387_132_872_796_366_5)
            / (((((((5226.495_278_852_545_5 * r + 28729.085_735_721_943) * r
                + 39307.895_800_092_710)
                * r
                + 21213.794_301_586_595)
                * r
                + 5394.196_021_424_751_1)
                * r
                + 687.187_007_492_057_91)
                * r
                + 42.313_330_701_600_911)
                * r
                + 1.0);
    }
    let mut r = if q < 0.0 { p } else { 1.0 - p };
    r = (-r.ln()).sqrt();
    let x = if r <= 5.0 {
        r -= 1.6;
        (((((((7.745_450_142_783_414e-4 * r + 0.022_723_844_989_269_184) * r
            + 0.241_780_725_177_450_6)
            * r
            + 1.270_458_252_452_368_4)
            * r
            + 3.647_848_324_763_204_5)
            * r
            + 5.769_497_221_460_691)
            * r
            + 4.630_337_846_156_546)
            * r
            + 1.423_437_110_749_683_5)
            / (((((((1.050_750_071_644_416_9e-9 * r + 5.475_938_084_995_345e-4) * r
                + 0.015_198_666_563_616_457)
                * r
                + 0.148_103_976_427_480_08)
                * r
                + 0.689_767_334_985_1)
                * r
                + 1.676_384_830_183_803_8)
                * r
                + 2.053_191_626_637_759)
                * r
                + 1.0)
    } else {
        r -= 5.0;
        (((((((2.010_334_399_292_288_1e-7 * r + 2.711_555_568_743_487_6e-5) * r
            + 0.001_242_660_947_388_078_4)
            * r
            + 0.026_532_189_526_576_124)
            * r
            + 0.296_560_571_828_504_9)
            * r
            + 1.784_826_539_917_291_3)
            * r
            + 5.463_784_911_164_114)
            * r
            + 6.657_904_643_501_103)
            / (((((((2.044_263_103_389_939_7e-15 * r + 1.421_511_758_316_446e-7) * r
                + 1.846_318_317_510_054_8e-5)
                * r
                + 7.868_691_311_456_133e-4)
                * r
                + 0.014_875_361_290_850_615)
                * r
                + 0.136_929_880_922_735_8)
                * r
                + 0.599_832_206_555_888)
                * r
                + 1.0)
    };
    if q < 0.0 { -x } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_matches_known_values() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
        assert!((normal_quantile(0.5)).abs() < 1e-16);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813_5).abs() < 1e-13);
        assert!((normal_quantile(1e-12) + 7.034_483_825_108_7).abs() < 1e-9);
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
