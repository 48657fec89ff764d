//! Statistics over trial outcomes: moments, exact percentiles, tail means, Wilson intervals.
//!
//! Everything here is a pure function of values in trial order, so a report depends only
//! on (scenario, seed, trials), never on threads. Percentiles follow numpy's default
//! ("linear") method to the last bit, so an independent re-implementation in numpy gets
//! the same figures.

use serde::Serialize;

use crate::lhs::{self, Sampling};

/// z for a two-sided 95 % interval, as docs/model.md fixes it.
pub const Z95: f64 = 1.959964;

/// Summary of a distribution of NPVs: docs/model.md's `npv` object.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub mean: f64,
    pub sd: f64,
    pub se: f64,
    pub p05: f64,
    pub p10: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p95: f64,
    /// Mean of the lowest ceil(0.05 n) values.
    pub cvar05: f64,
}

/// One year of the fan chart: docs/model.md's `by_year` entry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Band {
    /// The year t (0-based) through which savings are accumulated.
    pub year: usize,
    pub p05: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
    pub mean: f64,
}

/// A probability estimated from trials, with its Wilson 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Proportion {
    pub estimate: f64,
    pub ci95: [f64; 2],
}

impl Proportion {
    pub fn new(successes: u64, n: u64) -> Proportion {
        Proportion {
            estimate: successes as f64 / n as f64,
            ci95: wilson(successes, n),
        }
    }
}

/// A stored figure: f64, or f32 in a large run's rows (see
/// [`crate::engine::Precision`]). Statistics read every figure as f64.
pub trait Figure: Copy + Send + Sync + PartialOrd {
    fn to_f64(self) -> f64;
    fn total_cmp(&self, other: &Self) -> std::cmp::Ordering;
}

impl Figure for f64 {
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    fn total_cmp(&self, other: &Self) -> std::cmp::Ordering {
        f64::total_cmp(self, other)
    }
}

impl Figure for f32 {
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn total_cmp(&self, other: &Self) -> std::cmp::Ordering {
        f32::total_cmp(self, other)
    }
}

/// Mean by compensated (Neumaier) summation in the given order: accurate to the penny
/// on millions of trials, and deterministic.
pub fn mean<T: Figure>(values: &[T]) -> f64 {
    let mut sum = CompensatedSum::default();
    for x in values {
        sum.add(x.to_f64());
    }
    sum.mean(values.len())
}

/// A compensated (Neumaier) sum taken one value at a time: [`mean`]'s arithmetic, for a
/// caller that means several rows in one pass. Each sum waits for its previous value,
/// so one pass feeding four sums runs them side by side where four passes would run
/// them one after another; each sum's figures are the same.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompensatedSum {
    sum: f64,
    c: f64,
}

impl CompensatedSum {
    #[inline]
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.c += (self.sum - t) + x;
        } else {
            self.c += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// The mean of the `n` values added.
    pub fn mean(self, n: usize) -> f64 {
        (self.sum + self.c) / n as f64
    }
}

/// Sample standard deviation (n - 1); 0 for a single value.
pub fn sd<T: Figure>(values: &[T], mean: f64) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    // Deviations are scaled by the largest one so that squaring cannot overflow, however
    // large the figures.
    let scale = values
        .iter()
        .fold(0.0f64, |m, x| m.max((x.to_f64() - mean).abs()));
    if scale == 0.0 || !scale.is_finite() {
        return if scale == 0.0 { 0.0 } else { f64::NAN };
    }
    let mut sum = 0.0;
    for x in values {
        let d = (x.to_f64() - mean) / scale;
        sum += d * d;
    }
    scale * (sum / (values.len() - 1) as f64).sqrt()
}

/// The q-quantile of sorted values by numpy's default linear interpolation, reproducing
/// numpy's arithmetic (virtual index `n*q + (1-q) - 1`, and its two-sided lerp).
pub fn percentile_sorted<T: Figure>(sorted: &[T], q: f64) -> f64 {
    let (lo, hi, gamma) = percentile_ranks(sorted.len(), q);
    interpolate(sorted[lo].to_f64(), sorted[hi].to_f64(), gamma)
}

/// The two ranks (0-based positions in sorted order) that numpy's linear method reads for
/// the q-quantile of n values, and the weight of the upper one.
fn percentile_ranks(n: usize, q: f64) -> (usize, usize, f64) {
    if n == 1 {
        return (0, 0, 0.0);
    }
    let virtual_index = (n as f64 * q + (1.0 - q)) - 1.0;
    let below = virtual_index.floor().clamp(0.0, (n - 1) as f64);
    let lo = below as usize;
    (lo, (lo + 1).min(n - 1), virtual_index - below)
}

/// numpy's two-sided lerp between neighbouring order statistics a <= b.
fn interpolate(a: f64, b: f64, gamma: f64) -> f64 {
    let diff = b - a;
    let out = if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    };
    if a == b { a } else { out }
}

/// The quantiles a report prints, at most this many.
const MAX_QUANTILES: usize = 7;

/// Exact percentiles without sorting: the values a sorted copy of `values` would hold at
/// the ranks the quantiles `qs` read, interpolated as [`percentile_sorted`] would, and,
/// when `tail` > 0, the mean of the `tail` smallest values summed in ascending order (as
/// from a sorted row). `values` is working memory: it is left in some order. The
/// figures are those of a full sort to the last bit; only the work differs (see
/// [`order_statistics`]).
fn percentiles_in_place<T: Figure>(
    values: &mut [T],
    qs: &[f64],
    tail: usize,
) -> ([f64; MAX_QUANTILES], f64) {
    let (ranks, distinct) = distinct_ranks(values.len(), qs);
    let ranks = &ranks[..distinct];
    let mut at = [0.0; 2 * MAX_QUANTILES];
    let tail_mean = order_statistics(values, ranks, tail, &mut at[..distinct]);
    (
        interpolate_all(values.len(), qs, ranks, &at, 1.0),
        tail_mean,
    )
}

/// The ranks (ascending, distinct: the first of the array's `usize`) that the quantiles
/// `qs` of `n` values read.
fn distinct_ranks(n: usize, qs: &[f64]) -> ([usize; 2 * MAX_QUANTILES], usize) {
    let mut ranks = [0usize; 2 * MAX_QUANTILES];
    let mut count = 0;
    for &q in qs {
        let (lo, hi, _) = percentile_ranks(n, q);
        ranks[count] = lo;
        ranks[count + 1] = hi;
        count += 2;
    }
    ranks[..count].sort_unstable();
    let mut distinct = 0;
    for i in 0..count {
        if i == 0 || ranks[i] != ranks[i - 1] {
            ranks[distinct] = ranks[i];
            distinct += 1;
        }
    }
    (ranks, distinct)
}

/// The quantiles `qs` of `n` values whose sorted copy holds `at[j]` at `ranks[j]`, each
/// value read multiplied by `scale` (see [`BandRanks::band`]).
fn interpolate_all(
    n: usize,
    qs: &[f64],
    ranks: &[usize],
    at: &[f64],
    scale: f64,
) -> [f64; MAX_QUANTILES] {
    let value_at = |r: usize| {
        scale
            * at[ranks
                .binary_search(&r)
                .expect("every rank read was selected")]
    };
    let mut out = [0.0; MAX_QUANTILES];
    for (o, &q) in out.iter_mut().zip(qs) {
        let (lo, hi, gamma) = percentile_ranks(n, q);
        *o = interpolate(value_at(lo), value_at(hi), gamma);
    }
    out
}

/// The values a sorted copy of a row holds at the ranks a [`Band`]'s five percentiles
/// read, selected once and read at several scales: a row's order statistics times a
/// positive factor are the order statistics of the row times that factor, to the bit
/// (rounding a product never reverses two values' order), so the partners' discounted
/// cash by year is read off their cash's selection rather than selected again.
#[derive(Debug, Clone, Copy)]
pub struct BandRanks {
    n: usize,
    ranks: [usize; 2 * MAX_QUANTILES],
    distinct: usize,
    at: [f64; 2 * MAX_QUANTILES],
}

/// The quantiles a [`Band`] reads.
const BAND_QS: [f64; 5] = [0.05, 0.25, 0.50, 0.75, 0.95];

impl BandRanks {
    /// The order statistics of `values` (in trial order, left so): a long row is
    /// selected by buckets where it lies, any other copied to `scratch` and selected
    /// there.
    pub fn of<T: Figure>(values: &[T], scratch: &mut Vec<T>) -> BandRanks {
        let n = values.len();
        let (ranks, distinct) = distinct_ranks(n, &BAND_QS);
        let mut at = [0.0; 2 * MAX_QUANTILES];
        let bucketed = n >= BUCKETED_FROM
            && bucketed_statistics(values, &ranks[..distinct], 0, &mut at[..distinct]).is_some();
        if !bucketed {
            scratch.clear();
            scratch.extend_from_slice(values);
            select_in_place(scratch, &ranks[..distinct], 0);
            for (a, &r) in at.iter_mut().zip(&ranks[..distinct]) {
                *a = scratch[r].to_f64();
            }
        }
        BandRanks {
            n,
            ranks,
            distinct,
            at,
        }
    }

    /// The band of the row times `scale` (> 0: 1 for the row itself), given that
    /// row's mean: the figures of [`Band::of_in_place`] on the scaled row, to the bit.
    pub fn band(&self, year: usize, mean: f64, scale: f64) -> Band {
        let quantiles = interpolate_all(
            self.n,
            &BAND_QS,
            &self.ranks[..self.distinct],
            &self.at,
            scale,
        );
        Band::of_quantiles(year, quantiles, mean)
    }
}

/// Rows at least this long are selected by buckets ([`bucketed_statistics`]); shorter
/// ones in place, where the buckets would cost more than they save. Measured per value
/// for a band's five percentiles, buckets against in place: 14.2 against 11.3 ns at
/// 4,096 values, 9.1 against 10.9 at 8,192, 6.1 against 19.1 at 16,384.
const BUCKETED_FROM: usize = 1 << 13;

/// Writes to `at` the values a sorted copy of `values` holds at `ranks` (ascending,
/// distinct), and returns the mean, summed in ascending order, of the `tail` smallest
/// values (0 when `tail` is 0). A long row is selected by buckets; a short one, or one
/// the buckets cannot take, in place.
fn order_statistics<T: Figure>(
    values: &mut [T],
    ranks: &[usize],
    tail: usize,
    at: &mut [f64],
) -> f64 {
    if values.len() >= BUCKETED_FROM
        && let Some(tail_mean) = bucketed_statistics(values, ranks, tail, at)
    {
        return tail_mean;
    }
    let tail_mean = select_in_place(values, ranks, tail);
    for (a, &r) in at.iter_mut().zip(ranks) {
        *a = values[r].to_f64();
    }
    tail_mean
}

/// Rearranges `values` so that the `tail` smallest come first in ascending order and
/// each of `ranks` (ascending, distinct positions) holds what a sorted copy would hold
/// there; returns the tail's mean, summed in ascending order (0 when `tail` is 0).
fn select_in_place<T: Figure>(values: &mut [T], ranks: &[usize], tail: usize) -> f64 {
    if tail > 0 {
        values.select_nth_unstable_by(tail - 1, T::total_cmp);
        values[..tail].sort_unstable_by(T::total_cmp);
    }
    let first = ranks.partition_point(|&r| r < tail);
    select_ranks(&mut values[tail..], &ranks[first..], tail);
    if tail > 0 { mean(&values[..tail]) } else { 0.0 }
}

/// Puts in each of `ranks` (ascending, distinct, positions in the whole row) the value a
/// sorted row would hold there, for the part of the row starting at `offset`: selects the
/// middle rank, which splits the part into values below and above it, and recurses into
/// each side with the ranks that fall there.
fn select_ranks<T: Figure>(part: &mut [T], ranks: &[usize], offset: usize) {
    if ranks.is_empty() {
        return;
    }
    let mid = ranks.len() / 2;
    let at = ranks[mid] - offset;
    let (below, _, above) = part.select_nth_unstable_by(at, T::total_cmp);
    select_ranks(below, &ranks[..mid], offset);
    select_ranks(above, &ranks[mid + 1..], offset + at + 1);
}

/// How many buckets [`bucketed_statistics`] spreads the bulk of a row over (plus one
/// below and one above).
const BUCKETS: usize = 4096;

/// [`order_statistics`] for a long row in two passes instead of a dozen partitions
/// (which were a quarter of a whole run's time), as a radix select does: a value's
/// bucket is a rounded, clamped linear function of it, which never decreases as the
/// value grows, so counting the values in each bucket says which bucket holds each
/// rank and how many values lie below it; a second pass copies out only those
/// buckets' values, and each rank is selected among them. The buckets span the
/// sampled 0.4th to 99.6th percentiles, so that outliers do not stretch them. Exact
/// for any row; `None` for a row with NaN or with too little spread to bucket, which
/// the caller selects in place. Written here because no maintained crate selects
/// several exact ranks at once (the standard library selects one).
///
/// Zeros of both signs share a bucket (a rounded function cannot tell them apart),
/// and within a bucket values are ordered by [`Figure::total_cmp`], so the figures are
/// a full sort's to the last bit.
fn bucketed_statistics<T: Figure>(
    values: &[T],
    ranks: &[usize],
    tail: usize,
    at: &mut [f64],
) -> Option<f64> {
    const NONE: u8 = u8::MAX;
    let n = values.len();
    // A sample stratified by position (one value from each of m equal stretches, at a
    // fixed pseudorandom offset within it), so that neither a sorted row nor a periodic
    // one fools it.
    let m = 4096;
    let stretch = n / m;
    // The offset is the top half of a mixed word scaled to the stretch (a division
    // per value cost more than the rest of the sample), and only the two ranks that
    // bound the buckets are selected, not the whole sample sorted: together the fixed
    // cost of a row fell from about 280 to 60 microseconds. Which values are sampled
    // moves the buckets' edges only; the figures are exact wherever the edges lie.
    let mut sample: Vec<f64> = (0..m)
        .map(|j| {
            let offset = ((crate::rng::mix64(j as u64) >> 32) * stretch as u64) >> 32;
            values[j * stretch + offset as usize].to_f64()
        })
        .collect();
    let (low_rank, high_rank) = (m / 256, m - 1 - m / 256);
    let (_, &mut lo, above) = sample.select_nth_unstable_by(low_rank, f64::total_cmp);
    let hi = *above
        .select_nth_unstable_by(high_rank - low_rank - 1, f64::total_cmp)
        .1;
    let scale = BUCKETS as f64 / (hi - lo);
    if !(scale.is_finite() && scale > 0.0) {
        return None;
    }
    // Buckets 0 ..= BUCKETS + 1: below lo, the bulk, at or above hi. Worked out for a
    // block of values at a time, in a loop the compiler turns into vector arithmetic;
    // NaN, which has no place, is counted and sent back to the caller.
    //
    // The clamped value x (never NaN: `max` returns -1 for NaN) is rounded to an integer
    // by adding 1.5 * 2^52, which leaves round(x) in the low bits of the sum (x = -1
    // wraps to 0xFFFF, and the + 1 takes it to bucket 0). Rust's `as i32` would do as
    // well, but its checks for NaN and overflow kept the loop from vector arithmetic
    // (with this, and the tallies below, a whole run of 200,000 trials of the main
    // example took a fifth less time), and any rounding that never decreases serves.
    const BLOCK: usize = 256;
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let buckets_of = |block: &[T], out: &mut [u16; BLOCK]| {
        for (o, &v) in out.iter_mut().zip(block) {
            let x = ((v.to_f64() - lo) * scale).max(-1.0).min(BUCKETS as f64);
            *o = ((x + ROUND).to_bits() as u16).wrapping_add(1);
        }
    };
    let mut buckets = [0u16; BLOCK];
    // Four tallies, one for each position mod 4, added up after: rows of money often
    // repeat a value (a partner out pays nothing), and one tally would then wait for
    // its own last increment of the same bucket at every value.
    let mut tallies = vec![[0u32; 4]; BUCKETS + 2];
    let mut unordered = 0usize;
    for block in values.chunks(BLOCK) {
        buckets_of(block, &mut buckets);
        let block_buckets = &buckets[..block.len()];
        let mut quads = block_buckets.chunks_exact(4);
        for quad in &mut quads {
            for (lane, &b) in quad.iter().enumerate() {
                tallies[usize::from(b)][lane] += 1;
            }
        }
        for &b in quads.remainder() {
            tallies[usize::from(b)][0] += 1;
        }
        unordered += block.iter().filter(|v| v.partial_cmp(v).is_none()).count();
    }
    if unordered > 0 {
        return None;
    }
    let counts: Vec<u32> = tallies.iter().map(|t| t.iter().sum()).collect();
    // Values in buckets before each bucket.
    let mut before = vec![0usize; BUCKETS + 2];
    for b in 1..BUCKETS + 2 {
        before[b] = before[b - 1] + counts[b - 1] as usize;
    }
    let holding = |r: usize| before.partition_point(|&x| x <= r) - 1;

    // Which part each bucket's values go to: the tail's buckets all to part 0, each
    // other bucket holding a rank to a part of its own.
    let mut part_of = vec![NONE; BUCKETS + 2];
    let mut firsts: Vec<usize> = Vec::with_capacity(2 * MAX_QUANTILES + 1);
    if tail > 0 {
        part_of[..=holding(tail - 1)].fill(0);
        firsts.push(0);
    }
    for &r in ranks {
        let b = holding(r);
        if part_of[b] == NONE {
            part_of[b] = firsts.len() as u8;
            firsts.push(before[b]);
        }
    }
    let mut sizes = vec![0usize; firsts.len()];
    for (b, &p) in part_of.iter().enumerate() {
        if p != NONE {
            sizes[usize::from(p)] += counts[b] as usize;
        }
    }
    let mut parts: Vec<Vec<T>> = sizes.iter().map(|&size| Vec::with_capacity(size)).collect();
    for block in values.chunks(BLOCK) {
        buckets_of(block, &mut buckets);
        for (&v, &b) in block.iter().zip(&buckets) {
            let p = part_of[usize::from(b)];
            if p != NONE {
                parts[usize::from(p)].push(v);
            }
        }
    }

    // Parts hold ascending stretches of the sorted row (the tail's first, when there is
    // one), so each takes the next run of ranks, at its own positions.
    let mut tail_mean = 0.0;
    let mut next = 0;
    for (p, part) in parts.iter_mut().enumerate() {
        let first = firsts[p];
        let end = next + ranks[next..].partition_point(|&r| r < first + part.len());
        let local: Vec<usize> = ranks[next..end].iter().map(|&r| r - first).collect();
        // Part 0 is the tail's whenever there is a tail.
        let part_tail = if p == 0 { tail } else { 0 };
        let mean = select_in_place(part, &local, part_tail);
        if p == 0 {
            tail_mean = mean;
        }
        for (a, &l) in at[next..end].iter_mut().zip(&local) {
            *a = part[l].to_f64();
        }
        next = end;
    }
    debug_assert_eq!(next, ranks.len(), "every rank lies in a part");
    Some(tail_mean)
}

/// Wilson score interval at z = 1.959964.
pub fn wilson(successes: u64, n: u64) -> [f64; 2] {
    wilson_at(successes as f64 / n as f64, n as f64)
}

/// Wilson score interval at z = 1.959964 for an estimate `p` worth `n` independent
/// trials (not necessarily a whole number: an LHS run's effective trials, see
/// [`lhs_effective_trials`]).
pub fn wilson_at(p: f64, n: f64) -> [f64; 2] {
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

// Latin hypercube estimates (see crate::lhs): standard errors from blocks' means.

/// The variance of an LHS mean: the whole blocks' part estimated from the spread of
/// their means, the trials after the last whole block counted as independent draws.
/// With F whole blocks of B trials whose means have sample variance s^2, and r trials
/// left over whose values have variance v (estimated from every trial, as plain
/// sampling's would be), the mean of n = F B + r trials has variance
/// (F B^2 s^2 + r v) / n^2. The left-over trials hold a random part of a block's
/// strata (strata drawn without replacement), which spreads their mean no more than
/// plain draws would, so counting them as plain errs on the safe side; counting them
/// as a share of a whole block did not (it understated the noise of 20,000 trials of
/// a nearly additive scenario four times over). `block_mean` gives a
/// whole block's mean, `variance` every trial's plain variance. `None` with fewer than
/// [`lhs::MIN_BLOCKS`] whole blocks.
fn variance_of_mean<T>(
    values: &[T],
    block_mean: impl Fn(&[T]) -> f64,
    variance: impl FnOnce() -> f64,
) -> Option<f64> {
    let b = lhs::BLOCK as usize;
    let blocks = values.len() / b;
    if (blocks as u64) < lhs::MIN_BLOCKS {
        return None;
    }
    let means: Vec<f64> = values.chunks_exact(b).map(block_mean).collect();
    let s = sd(&means, mean(&means));
    let left = (values.len() - blocks * b) as f64;
    let whole = blocks as f64 * (b * b) as f64 * s * s;
    let rest = if left > 0.0 { left * variance() } else { 0.0 };
    let n = values.len() as f64;
    Some((whole + rest) / (n * n))
}

/// The standard error of the mean of `values` (trial order, from trial 0) from an LHS
/// run, or `None` with too few blocks to estimate it (see [`lhs::MIN_BLOCKS`]).
pub fn lhs_standard_error<T: Figure>(values: &[T]) -> Option<f64> {
    let plain = || {
        let s = sd(values, mean(values));
        s * s
    };
    variance_of_mean(values, mean, plain).map(f64::sqrt)
}

/// The effective number of independent trials behind an LHS estimate of P(NPV < 0)
/// from `npv` (trial order, from trial 0): p (1 - p) over the estimate's variance from
/// its blocks, so that a Wilson interval at this n has the LHS estimate's width. So that
/// a run whose blocks happened to agree exactly does not claim a certainty no sample
/// gives, the variance is held at no less than the smaller of 1 / (4 B n) (the most a
/// perfectly stratified indicator's mean can vary: a block's count of losses is then
/// fixed but for one) and p (1 - p) / n (plain sampling's): for a loss rarer than about
/// 1 in 4,096 the first is the larger, and a floor above plain sampling's variance would
/// make the interval wider than a plain run's, which a Latin hypercube's never is.
/// `None` with too few blocks, or when p is 0 or 1 (the plain interval then applies).
pub fn lhs_effective_trials(npv: &[f64]) -> Option<f64> {
    let n = npv.len() as f64;
    // Counted block by block: no copy of the trials.
    let loss_rate =
        |values: &[f64]| values.iter().filter(|&&v| v < 0.0).count() as f64 / values.len() as f64;
    let p = loss_rate(npv);
    if p <= 0.0 || p >= 1.0 {
        return None;
    }
    let floor = (1.0 / (4.0 * lhs::BLOCK as f64 * n)).min(p * (1.0 - p) / n);
    variance_of_mean(npv, loss_rate, || p * (1.0 - p)).map(|v| p * (1.0 - p) / v.max(floor))
}

/// The Wilson 95 % interval of P(NPV < 0) as an LHS run reports it: at the effective
/// number of trials ([`lhs_effective_trials`]), or the plain interval when that cannot be
/// estimated.
pub fn lhs_loss_interval(npv: &[f64]) -> [f64; 2] {
    let losses = npv.iter().filter(|&&v| v < 0.0).count() as u64;
    let n = npv.len() as u64;
    match lhs_effective_trials(npv) {
        Some(effective) => wilson_at(losses as f64 / n as f64, effective),
        None => wilson(losses, n),
    }
}

/// The standard error of the mean of `values` (trial order, from trial 0) from a run
/// sampled by `sampling`, as a report gives it: from the blocks under Latin hypercube
/// sampling when there are enough of them, the plain sd / sqrt(n) otherwise.
pub fn standard_error<T: Figure>(values: &[T], sampling: Sampling) -> f64 {
    let plain = || sd(values, mean(values)) / (values.len() as f64).sqrt();
    match sampling {
        Sampling::Plain => plain(),
        Sampling::Lhs => lhs_standard_error(values).unwrap_or_else(plain),
    }
}

/// The Wilson 95 % interval of P(NPV < 0) from a run sampled by `sampling`, as a
/// report gives it (see [`lhs_loss_interval`]).
pub fn loss_interval(npv: &[f64], sampling: Sampling) -> [f64; 2] {
    match sampling {
        Sampling::Plain => {
            let losses = npv.iter().filter(|&&v| v < 0.0).count() as u64;
            wilson(losses, npv.len() as u64)
        }
        Sampling::Lhs => lhs_loss_interval(npv),
    }
}

impl Summary {
    /// Summarises values given in trial order (a copy is rearranged).
    pub fn of(values: &[f64]) -> Summary {
        Summary::of_in_place(&mut values.to_vec())
    }

    /// Summarises values given in trial order, rearranging them in place (the mean and
    /// sd are taken first, in trial order).
    pub fn of_in_place<T: Figure>(values: &mut [T]) -> Summary {
        let m = mean(values);
        let sd = sd(values, m);
        // ceil(0.05 n) in integers: 0.05 has no exact binary form.
        let tail = values.len().div_ceil(20);
        let ([p05, p10, p25, p50, p75, p90, p95], cvar05) =
            percentiles_in_place(values, &[0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95], tail);
        Summary {
            mean: m,
            sd,
            se: sd / (values.len() as f64).sqrt(),
            p05,
            p10,
            p25,
            p50,
            p75,
            p90,
            p95,
            // Summed in ascending order, as from a sorted row.
            cvar05,
        }
    }
}

impl Band {
    /// The fan-chart band for year `year`, rearranging values (in trial order) in place.
    pub fn of_in_place<T: Figure>(year: usize, values: &mut [T]) -> Band {
        let m = mean(values);
        let (quantiles, _) = percentiles_in_place(values, &BAND_QS, 0);
        Band::of_quantiles(year, quantiles, m)
    }

    /// The band whose [`BAND_QS`] quantiles lead `quantiles`.
    fn of_quantiles(year: usize, quantiles: [f64; MAX_QUANTILES], mean: f64) -> Band {
        let [p05, p25, p50, p75, p95, ..] = quantiles;
        Band {
            year,
            p05,
            p25,
            p50,
            p75,
            p95,
            mean,
        }
    }

    /// The band of a summary (the last year's band is the NPV's).
    pub fn from_summary(year: usize, s: &Summary) -> Band {
        Band {
            year,
            p05: s.p05,
            p25: s.p25,
            p50: s.p50,
            p75: s.p75,
            p95: s.p95,
            mean: s.mean,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_match_numpy_linear() {
        // numpy.percentile([1, 2, 3, 4], [5, 25, 50, 90]) = [1.15, 1.75, 2.5, 3.7]
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((percentile_sorted(&v, 0.05) - 1.15).abs() < 1e-15);
        assert!((percentile_sorted(&v, 0.25) - 1.75).abs() < 1e-15);
        assert_eq!(percentile_sorted(&v, 0.5), 2.5);
        assert!((percentile_sorted(&v, 0.9) - 3.7).abs() < 1e-15);
        assert_eq!(percentile_sorted(&v, 0.0), 1.0);
        assert_eq!(percentile_sorted(&v, 1.0), 4.0);
        assert_eq!(percentile_sorted(&[7.0], 0.3), 7.0);
    }

    /// The summary and band, by sorting a copy: what `of_in_place` computed before it
    /// selected ranks instead of sorting.
    fn by_sorting<T: Figure>(values: &[T]) -> (Summary, Band) {
        let m = mean(values);
        let sd = sd(values, m);
        let mut s = values.to_vec();
        s.sort_unstable_by(T::total_cmp);
        let tail = s.len().div_ceil(20);
        let p = |q| percentile_sorted(&s, q);
        let summary = Summary {
            mean: m,
            sd,
            se: sd / (s.len() as f64).sqrt(),
            p05: p(0.05),
            p10: p(0.10),
            p25: p(0.25),
            p50: p(0.50),
            p75: p(0.75),
            p90: p(0.90),
            p95: p(0.95),
            cvar05: mean(&s[..tail]),
        };
        let band = Band {
            year: 3,
            p05: p(0.05),
            p25: p(0.25),
            p50: p(0.50),
            p75: p(0.75),
            p95: p(0.95),
            mean: m,
        };
        (summary, band)
    }

    /// Selecting ranks gives every figure of a full sort, bit for bit: every length up to
    /// 70 and some long rows, with ties, signed zeros and single precision.
    #[test]
    fn selected_percentiles_equal_sorted_ones_exactly() {
        use crate::rng::Stream;
        let mut s = Stream::new(41, 7);
        // Rows from 8,192 values on are selected by buckets (see `bucketed_statistics`),
        // the others in place; the long rows take each of the four kinds of value.
        let lengths = (1..=70usize).chain([
            99, 100, 101, 1000, 8191, 8192, 12_345, 65_535, 65_536, 100_000, 300_001, 200_000,
        ]);
        for (case, n) in lengths.enumerate() {
            let values: Vec<f64> = (0..n)
                .map(|_| match case % 4 {
                    // Heavy ties, and zeros of both signs.
                    0 => [(-0.0), 0.0, 1.0, -2.5][(s.uniform() * 4.0) as usize],
                    1 => s.std_normal() * 1e6,
                    2 => (s.uniform() * 10.0).floor() - 5.0,
                    // Magnitudes from 1 to 1e25, where the order of summation shows in
                    // the last bits of even a compensated sum.
                    _ => (s.uniform() - 0.5) * 10f64.powf(25.0 * s.uniform()),
                })
                .collect();
            let (want, want_band) = by_sorting(&values);
            let got = Summary::of_in_place(&mut values.clone());
            let got_band = Band::of_in_place(3, &mut values.clone());
            let bits = |x: &Summary| {
                [
                    x.mean, x.sd, x.se, x.p05, x.p10, x.p25, x.p50, x.p75, x.p90, x.p95, x.cvar05,
                ]
                .map(f64::to_bits)
            };
            assert_eq!(bits(&got), bits(&want), "n = {n}: {got:?} vs {want:?}");
            assert_eq!(got_band, want_band, "n = {n}");
            let single: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            assert_eq!(
                bits(&Summary::of_in_place(&mut single.clone())),
                bits(&by_sorting(&single).0),
                "n = {n}, single precision"
            );
        }
    }

    /// Rows that could fool the buckets' sample or their spread: sorted either way,
    /// constant, two values, a spike of ties, a period equal to the sample's stretch,
    /// zeros of both signs, far outliers and a dense cluster. Each figure must be a full
    /// sort's, to the bit; and a row with a NaN must be left to in-place selection.
    #[test]
    fn bucketed_percentiles_survive_awkward_rows() {
        let n = 200_003;
        let stretch = n / 4096;
        let mut s = crate::rng::Stream::new(5, 9);
        let rows: Vec<Vec<f64>> = vec![
            (0..n).map(|i| i as f64).collect(),
            (0..n).map(|i| -(i as f64)).collect(),
            vec![3.25; n],
            (0..n)
                .map(|i| if i % 3 == 0 { -1.0 } else { 1.0 })
                .collect(),
            (0..n)
                .map(|i| if i % 5 == 0 { i as f64 } else { 1e6 })
                .collect(),
            (0..n).map(|i| (i % stretch) as f64 * 1e-3).collect(),
            (0..n)
                .map(|i| if i % 2 == 0 { -0.0 } else { 0.0 })
                .collect(),
            (0..n)
                .map(|i| match i % 100 {
                    0 => -1e300,
                    1 => 1e300,
                    2 => f64::MIN_POSITIVE,
                    _ => s.std_normal(),
                })
                .collect(),
            (0..n)
                .map(|_| 1e7 + (s.uniform() * 8.0).floor() * f64::EPSILON * 1e7)
                .collect(),
        ];
        for (case, values) in rows.iter().enumerate() {
            let (want, want_band) = by_sorting(values);
            let got = Summary::of_in_place(&mut values.clone());
            let bits = |x: &Summary| {
                [x.p05, x.p10, x.p25, x.p50, x.p75, x.p90, x.p95, x.cvar05].map(f64::to_bits)
            };
            assert_eq!(bits(&got), bits(&want), "row {case}: {got:?} vs {want:?}");
            assert_eq!(
                Band::of_in_place(3, &mut values.clone()),
                want_band,
                "row {case}"
            );
        }

        let mut with_nan = rows[7].clone();
        with_nan[12_345] = f64::NAN;
        let mut at = [0.0; 2];
        assert_eq!(
            bucketed_statistics(&with_nan, &[100, 100_000], 5, &mut at),
            None
        );
        assert_eq!(bucketed_statistics(&rows[2], &[100], 0, &mut at), None);
        assert!(bucketed_statistics(&rows[7], &[100, 100_000], 5, &mut at).is_some());
    }

    /// A row's band read at a scale from one selection ([`BandRanks`]) is the band of
    /// the scaled row, to the bit, whether the row is selected by buckets or in place,
    /// and the row is left in trial order.
    #[test]
    fn band_ranks_read_at_a_scale_equal_the_scaled_rows_band() {
        let mut s = crate::rng::Stream::new(12, 3);
        let band_bits = |b: Band| [b.p05, b.p25, b.p50, b.p75, b.p95, b.mean].map(f64::to_bits);
        for n in [1, 2, 5, 1000, 65_535, 65_536, 200_003] {
            let rows: Vec<Vec<f64>> = vec![
                (0..n).map(|_| s.std_normal() * 1e6 - 2e5).collect(),
                // Heavy ties and zeros of both signs: a partner out pays nothing.
                (0..n)
                    .map(|_| [-0.0, 0.0, 0.0, 125_000.5, -3e5][(s.uniform() * 5.0) as usize])
                    .collect(),
                (0..n)
                    .map(|_| (s.uniform() - 0.5) * 10f64.powf(25.0 * s.uniform()))
                    .collect(),
            ];
            for row in &rows {
                let kept = row.clone();
                let mut scratch = Vec::new();
                let ranks = BandRanks::of(row, &mut scratch);
                assert_eq!(row, &kept, "n = {n}: the row keeps its order");
                for scale in [1.0, 0.961_538_461_538_461_6, 1.0 / 3.0, 7.5, 1e-300] {
                    let mut scaled: Vec<f64> = row.iter().map(|&x| scale * x).collect();
                    let m = mean(&scaled);
                    let want = Band::of_in_place(4, &mut scaled);
                    assert_eq!(
                        band_bits(ranks.band(4, m, scale)),
                        band_bits(want),
                        "n = {n}, scale {scale}"
                    );
                }
            }
        }
    }

    #[test]
    fn cvar_is_mean_of_lowest_ceil_five_percent() {
        // n = 30: ceil(1.5) = 2 lowest values: -10 and -8.
        let mut v: Vec<f64> = (0..28).map(f64::from).collect();
        v.push(-10.0);
        v.push(-8.0);
        assert_eq!(Summary::of(&v).cvar05, -9.0);
    }

    #[test]
    fn sd_uses_n_minus_one() {
        let s = Summary::of(&[1.0, 2.0, 3.0, 4.0]);
        assert!((s.sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert!((s.se - s.sd / 2.0).abs() < 1e-15);
        assert_eq!(Summary::of(&[5.0]).sd, 0.0);
    }

    #[test]
    fn wilson_matches_textbook_values() {
        // 10 successes in 100 at z = 1.96: (0.0552, 0.1744).
        let [lo, hi] = wilson(10, 100);
        assert!(
            (lo - 0.05522).abs() < 1e-4 && (hi - 0.17437).abs() < 1e-4,
            "{lo} {hi}"
        );
        let [lo, hi] = wilson(0, 50);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.0 && hi < 0.1);
    }

    #[test]
    fn compensated_mean_is_exact_where_naive_is_not() {
        let v = [1e16, 1.0, -1e16, 1.0];
        assert_eq!(mean(&v), 0.5);
    }

    #[test]
    fn block_standard_error_of_independent_values_is_the_plain_one() {
        // For independent values the block estimate and the plain one agree within the
        // block estimate's own error (about 1/sqrt(2 x 63) = 9 % at 64 blocks; 4 sigma).
        let mut stream = crate::rng::Stream::new(1, 2);
        let v: Vec<f64> = (0..64 * lhs::BLOCK).map(|_| stream.uniform()).collect();
        let plain = sd(&v, mean(&v)) / (v.len() as f64).sqrt();
        let block = lhs_standard_error(&v).unwrap();
        assert!((block / plain - 1.0).abs() < 0.36, "{block} vs {plain}");
        assert_eq!(
            lhs_standard_error(&v[..(lhs::MIN_BLOCKS as usize * 1024 - 1)]),
            None
        );
    }

    #[test]
    fn trials_after_the_last_whole_block_count_as_plain_draws() {
        // x = u, stratified exactly in 64 whole blocks (their means all 1/2), then 512
        // more trials: the whole blocks add nothing to the variance, the 512 their plain
        // variance, 1/12 each.
        let mut v: Vec<f64> = (0..64 * lhs::BLOCK)
            .map(|k| ((k % lhs::BLOCK) as f64 + 0.5) / lhs::BLOCK as f64)
            .collect();
        v.extend((0..512).map(|k| (k as f64 + 0.5) / 512.0));
        let n = v.len() as f64;
        let plain = {
            let s = sd(&v, mean(&v));
            s * s
        };
        let se = lhs_standard_error(&v).unwrap();
        let expected = (512.0 * plain).sqrt() / n;
        assert!(
            (se - expected).abs() < 1e-12 * expected,
            "{se} vs {expected}"
        );
        // Whole blocks only: no left-over term.
        assert_eq!(lhs_standard_error(&v[..64 * 1024]), Some(0.0));
    }

    #[test]
    fn a_rare_loss_interval_is_no_wider_than_plain_samplings() {
        // One loss in every eighth block of 64: p = 1/8,192, rarer than 1 in 4,096, so
        // the stratified bound 1 / (4 B n) is more than plain sampling's variance. The
        // blocks' own estimate is less than either; the interval is then the plain one,
        // not the wider one the stratified bound would give.
        let n = (lhs::MIN_BLOCKS * lhs::BLOCK) as usize;
        let npv: Vec<f64> = (0..n)
            .map(|k| {
                if k % (8 * lhs::BLOCK as usize) == 5 {
                    -1.0
                } else {
                    1.0
                }
            })
            .collect();
        let p = 8.0 / n as f64;
        let n_eff = lhs_effective_trials(&npv).unwrap();
        assert!((n_eff - n as f64).abs() < 1e-6 * n as f64, "{n_eff} vs {n}");
        let [lo, hi] = lhs_loss_interval(&npv);
        let [plain_lo, plain_hi] = wilson_at(p, n as f64);
        assert!((lo - plain_lo).abs() < 1e-12 && (hi - plain_hi).abs() < 1e-12);
    }

    #[test]
    fn a_perfectly_stratified_loss_keeps_a_finite_interval() {
        // NPV = u - 0.3 with u stratified exactly: every block has the same 307 losses.
        let npv: Vec<f64> = (0..lhs::MIN_BLOCKS * lhs::BLOCK)
            .map(|k| ((k % lhs::BLOCK) as f64 + 0.5) / lhs::BLOCK as f64 - 0.3)
            .collect();
        let n_eff = lhs_effective_trials(&npv).unwrap();
        let p: f64 = 307.0 / 1024.0;
        let bound = p * (1.0 - p) * 4.0 * lhs::BLOCK as f64 * npv.len() as f64;
        assert!((n_eff - bound).abs() < 1e-6 * bound, "{n_eff} vs {bound}");
        let [lo, hi] = lhs_loss_interval(&npv);
        assert!(lo < p && p < hi && hi - lo > 0.0);
    }
}
