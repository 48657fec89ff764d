//! Several trials in SIMD lanes: the measurement behind benches/README.md's "Several
//! trials in SIMD lanes", kept runnable so that it can be repeated where it might come
//! out otherwise (a processor with full-width AVX2 or AVX-512 units).
//!
//! Issue #19 asks for the engine's year step to run four or eight trials at once in SIMD
//! lanes.
//! Before that is built into the engine (where it would replace the scalar year step,
//! the one place that knows the model's order), this bench measures what lanes can buy,
//! on a reduced year step that has the parts of the engine's that lanes change: per
//! partner a share of the pool, a saving, its NPV, a hazard raised by the partner's loss,
//! a withdrawal notice drawn against it and, after a notice, the recount of members that
//! decides collapse. It is not the model (no go-live delay, disputes, rejoins, exit fees
//! or contagion), so its throughputs are not the engine's; the ratios between its
//! variants are what it is for. Each partner and the year process of a trial draw from
//! their own [`Stream`], as the engine's do.
//!
//! Variants, one thread, best of [`ROUNDS`] rounds, interleaved:
//! - `scalar`: one trial at a time, with the branches the engine's loop has;
//! - `wide lanes, same numbers`: four trials in `wide::f64x4` lanes, membership as 0/1 lanes,
//!   each lane's numbers drawn from its own scalar stream, members recounted by vector
//!   sums only in years in which some lane had a notice. It must give every trial's NPV
//!   bit for bit as `scalar` does; the bench exits 1 if it does not;
//! - `wide lanes, vector SM64`: the same with the four lanes' numbers drawn by one
//!   vector SplitMix64 (other numbers, the same distribution);
//! - `wide, chosen at run time`: the same-numbers `wide` loop inlined into functions
//!   compiled for AVX-512 and AVX2, the processor's best chosen when the program runs;
//! - `arrays, chosen at run time`: the same-numbers loop in plain arrays, compiled for
//!   AVX-512, AVX2 and any x86-64, the processor's best chosen when the program runs
//!   (also bit for bit);
//! - `arithmetic only`: the scalar and `wide` lane loops with no numbers or notices.
//!
//! `cargo bench --bench lanes` prints M partner-years/s for each and the ratio to
//! `scalar`, for 4 partners over 10 years, 8 over 15 and 20 over 15. About 10 s.

// A partner's fields sit in parallel arrays (baseline, membership, NPV, stream), read by
// its index as the engine reads them.
#![allow(clippy::needless_range_loop)]

use std::time::{Duration, Instant};

use consortium_sim::rng::{Stream, mix64, trial_key};
use wide::{CmpEq, CmpGe, CmpLt, f64x4, u64x4};

const LANES: usize = 4;
const TRIALS: usize = 16_384;
const ROUNDS: usize = 31;
const SEED: u64 = 7;
/// Below this many members the consortium collapses and the trial's year loop ends.
const MIN_MEMBERS: f64 = 2.0;
/// How much a partner's loss, as a fraction of its baseline, adds to its hazard.
const DISAPPOINTMENT: f64 = 0.5;

/// One consortium: `partners` partners over `years` years.
struct Shape {
    partners: usize,
    years: usize,
    /// The partners' baselines before the trial's draw, and their base hazards.
    baseline: Vec<f64>,
    hazard: Vec<f64>,
    /// Discount factor of each year, at 3.5 %.
    discount: Vec<f64>,
}

impl Shape {
    fn new(partners: usize, years: usize) -> Shape {
        Shape {
            partners,
            years,
            baseline: (0..partners)
                .map(|i| 1.0e6 * (1.0 + (i % 3) as f64))
                .collect(),
            hazard: (0..partners)
                .map(|i| 0.02 + 0.01 * (i % 4) as f64)
                .collect(),
            discount: (0..years).map(|t| 1.035f64.powi(-(t as i32))).collect(),
        }
    }
}

/// A trial's draws, in the order each stream gives them: the year process draws the
/// efficiency and the fixed cost, then one number a year; each partner its baseline's
/// factor, then one number a year for its notice.
fn efficiency(u: f64) -> f64 {
    0.05 + 0.15 * u
}
fn fixed_cost(u: f64) -> f64 {
    3.0e5 * (0.8 + 0.4 * u)
}
fn spread(u: f64) -> f64 {
    0.8 + 0.4 * u
}
fn year_noise(u: f64) -> f64 {
    0.9 + 0.2 * u
}
/// The efficiency reached in year `t`: a three-year ramp.
fn ramp(t: usize) -> f64 {
    ((t + 1) as f64 / 3.0).min(1.0)
}

/// The partners' state in one trial (scalar) or one group of trials (lanes), allocated
/// once per loop; where a loop's numbers come from is its own.
struct Scratch<T> {
    baseline: Vec<T>,
    member: Vec<T>,
    npv: Vec<T>,
}

impl<T: Copy + Default> Scratch<T> {
    fn new(shape: &Shape) -> Self {
        Scratch {
            baseline: vec![T::default(); shape.partners],
            member: vec![T::default(); shape.partners],
            npv: vec![T::default(); shape.partners],
        }
    }
}

/// One trial at a time: the consortium's NPV of each trial into `out`; returns the
/// number of notices. Without `DRAWS`, every number is one half and no notice is drawn
/// or given: the arithmetic alone.
fn scalar<const DRAWS: bool>(shape: &Shape, out: &mut [f64]) -> u64 {
    let p = shape.partners;
    let mut s = Scratch::<f64>::new(shape);
    let mut streams = vec![Stream::default(); p + 1];
    let mut notices = 0;
    let draw = |stream: &mut Stream| if DRAWS { stream.uniform() } else { 0.5 };
    for (k, npv_out) in out.iter_mut().enumerate() {
        if DRAWS {
            let key = trial_key(SEED, k as u64);
            for (e, stream) in streams.iter_mut().enumerate() {
                *stream = Stream::new(key, e as u64);
            }
        }
        let (streams, year) = streams.split_at_mut(p);
        let year = &mut year[0];
        let g = efficiency(draw(year));
        let fixed = fixed_cost(draw(year));
        for i in 0..p {
            s.baseline[i] = shape.baseline[i] * spread(draw(&mut streams[i]));
            s.member[i] = 1.0;
            s.npv[i] = 0.0;
        }
        let mut members = p as f64;
        for t in 0..shape.years {
            if members < MIN_MEMBERS {
                break;
            }
            let mut pool = 0.0;
            for i in 0..p {
                pool += s.member[i] * s.baseline[i];
            }
            let eff = g * ramp(t) * year_noise(draw(year));
            let cost = fixed + (1.0 - eff) * pool;
            let mut changed = false;
            for i in 0..p {
                let u = if DRAWS { streams[i].uniform() } else { 1.0 };
                if s.member[i] == 0.0 {
                    continue;
                }
                let b = s.baseline[i];
                let saving = b - b / pool * cost;
                s.npv[i] += saving * shape.discount[t];
                if !DRAWS {
                    continue;
                }
                let hazard = shape.hazard[i] + DISAPPOINTMENT * ((-saving).max(0.0) / b);
                if u < hazard {
                    s.member[i] = 0.0;
                    notices += 1;
                    changed = true;
                }
            }
            if changed {
                members = s.member.iter().sum();
            }
        }
        *npv_out = s.npv.iter().fold(0.0, |a, b| a + b);
    }
    notices
}

/// Where a group of four trials' numbers come from.
trait Numbers {
    /// Opens the streams of trials `k..k + 4`.
    fn open(&mut self, first_trial: usize);
    /// The next number of entity `e`'s stream in each lane.
    fn next(&mut self, e: usize) -> f64x4;
}

/// Each lane's numbers from its own scalar [`Stream`]: the scalar loop's numbers.
struct ScalarStreams(Vec<Stream>);

impl Numbers for ScalarStreams {
    fn open(&mut self, first: usize) {
        let entities = self.0.len() / LANES;
        for lane in 0..LANES {
            let key = trial_key(SEED, (first + lane) as u64);
            for e in 0..entities {
                self.0[e * LANES + lane] = Stream::new(key, e as u64);
            }
        }
    }
    #[inline]
    fn next(&mut self, e: usize) -> f64x4 {
        let s = &mut self.0[e * LANES..e * LANES + LANES];
        f64x4::from([
            s[0].uniform(),
            s[1].uniform(),
            s[2].uniform(),
            s[3].uniform(),
        ])
    }
}

/// The four lanes' numbers from one vector SplitMix64 per entity: other numbers.
struct VectorSplitMix(Vec<u64x4>);

impl Numbers for VectorSplitMix {
    fn open(&mut self, first: usize) {
        for (e, state) in self.0.iter_mut().enumerate() {
            *state = u64x4::from(std::array::from_fn::<u64, LANES, _>(|lane| {
                mix64(trial_key(SEED, (first + lane) as u64) ^ e as u64)
            }));
        }
    }
    #[inline]
    fn next(&mut self, e: usize) -> f64x4 {
        let state = self.0[e] + u64x4::splat(0x9e37_79b9_7f4a_7c15);
        self.0[e] = state;
        let mut z = state;
        z = (z ^ (z >> 30)) * u64x4::splat(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)) * u64x4::splat(0x94d0_49bb_1331_11eb);
        z = z ^ (z >> 31);
        // The top 52 bits as the mantissa of a number in [1, 2), less 1: a uniform in
        // [0, 1) without a 64-bit integer to float conversion, which SSE2 and AVX2 lack.
        let one = u64x4::splat(0x3ff0_0000_0000_0000);
        let bits: f64x4 = bytemuck::cast((z >> 12) | one);
        bits - f64x4::ONE
    }
}

/// No numbers: every draw is one half.
struct NoNumbers;

impl Numbers for NoNumbers {
    fn open(&mut self, _: usize) {}
    #[inline]
    fn next(&mut self, _: usize) -> f64x4 {
        f64x4::splat(0.5)
    }
}

/// Four trials at a time in lanes: each trial's NPV into `out` (whose length is a
/// multiple of four); returns the number of notices. Without `NOTICES`, no notice is
/// drawn or given.
#[inline(always)]
fn lanes<const NOTICES: bool>(shape: &Shape, numbers: &mut impl Numbers, out: &mut [f64]) -> u64 {
    let p = shape.partners;
    let mut s = Scratch::<f64x4>::new(shape);
    let mut given = 0u64;
    let zero = f64x4::ZERO;
    for (group, npv_out) in out.chunks_exact_mut(LANES).enumerate() {
        numbers.open(group * LANES);
        let g = numbers.next(p).to_array().map(efficiency);
        let g = f64x4::from(g);
        let fixed = f64x4::from(numbers.next(p).to_array().map(fixed_cost));
        for i in 0..p {
            let factor = f64x4::from(numbers.next(i).to_array().map(spread));
            s.baseline[i] = f64x4::splat(shape.baseline[i]) * factor;
            s.member[i] = f64x4::ONE;
            s.npv[i] = zero;
        }
        let mut members = f64x4::splat(p as f64);
        for t in 0..shape.years {
            // A lane whose consortium has collapsed keeps being computed, its results
            // discarded: `alive` is all ones or all zeros per lane.
            let alive = members.cmp_ge(f64x4::splat(MIN_MEMBERS));
            if alive.none() {
                break;
            }
            let mut pool = zero;
            for i in 0..p {
                pool += s.member[i] * s.baseline[i];
            }
            let noise = f64x4::from(numbers.next(p).to_array().map(year_noise));
            let eff = g * f64x4::splat(ramp(t)) * noise;
            let cost = fixed + (f64x4::ONE - eff) * pool;
            let discount = f64x4::splat(shape.discount[t]);
            let mut changed = zero;
            for i in 0..p {
                let b = s.baseline[i];
                let counts = s.member[i].cmp_eq(f64x4::ONE) & alive;
                let saving = b - b / pool * cost;
                s.npv[i] = counts.blend(s.npv[i] + saving * discount, s.npv[i]);
                if !NOTICES {
                    continue;
                }
                let u = numbers.next(i);
                let hazard = f64x4::splat(shape.hazard[i])
                    + f64x4::splat(DISAPPOINTMENT) * ((-saving).max(zero) / b);
                let leaves = counts & u.cmp_lt(hazard);
                s.member[i] = leaves.blend(zero, s.member[i]);
                given += u64::from(leaves.move_mask().count_ones());
                changed |= leaves;
            }
            if changed.any() {
                // The recount that decides collapse, for every lane at once: a lane
                // whose membership did not change gets the count it had.
                let mut count = zero;
                for m in &s.member {
                    count += *m;
                }
                members = alive.blend(count, members);
            }
        }
        let mut total = zero;
        for npv in &s.npv {
            total += *npv;
        }
        npv_out.copy_from_slice(&total.to_array());
    }
    given
}

/// [`lanes`] in plain arrays of `N` lanes, each operation a loop over the lanes, for the
/// compiler to turn into vector instructions of whatever width the function it is
/// inlined into may use: the same numbers as the scalar loop, drawn from scalar streams.
/// `wide` picks its instructions when it is compiled (SSE2 for a plain x86-64 build), and
/// inlined into a function compiled for AVX2 or AVX-512 ([`wide_dispatched`]) those are
/// only what the compiler widens; these arrays leave the choice of instructions to the
/// compiler for each such function ([`lanes_dispatched`]), chosen when the program runs.
#[inline(always)]
fn lanes_arrays<const N: usize>(shape: &Shape, out: &mut [f64]) -> u64 {
    let p = shape.partners;
    let mut baseline = vec![[0.0; N]; p];
    let mut member = vec![[0.0f64; N]; p];
    let mut npv = vec![[0.0; N]; p];
    let mut streams = vec![Stream::default(); (p + 1) * N];
    let mut given = 0u64;
    let each = |f: &mut dyn FnMut(usize)| (0..N).for_each(f);
    let _ = each;
    for (group, npv_out) in out.chunks_exact_mut(N).enumerate() {
        for lane in 0..N {
            let key = trial_key(SEED, (group * N + lane) as u64);
            for e in 0..=p {
                streams[e * N + lane] = Stream::new(key, e as u64);
            }
        }
        let mut draw = |e: usize| -> [f64; N] {
            let s = &mut streams[e * N..e * N + N];
            std::array::from_fn(|l| s[l].uniform())
        };
        let g = draw(p).map(efficiency);
        let fixed = draw(p).map(fixed_cost);
        for i in 0..p {
            let factor = draw(i);
            baseline[i] = std::array::from_fn(|l| shape.baseline[i] * spread(factor[l]));
            member[i] = [1.0; N];
            npv[i] = [0.0; N];
        }
        let mut members = [p as f64; N];
        for t in 0..shape.years {
            let alive: [bool; N] = std::array::from_fn(|l| members[l] >= MIN_MEMBERS);
            if !alive.iter().any(|a| *a) {
                break;
            }
            let mut pool = [0.0; N];
            for i in 0..p {
                for l in 0..N {
                    pool[l] += member[i][l] * baseline[i][l];
                }
            }
            let noise = draw(p);
            let ramp = ramp(t);
            let cost: [f64; N] = std::array::from_fn(|l| {
                let eff = g[l] * ramp * year_noise(noise[l]);
                fixed[l] + (1.0 - eff) * pool[l]
            });
            let discount = shape.discount[t];
            let mut changed = false;
            for i in 0..p {
                let u = draw(i);
                // One operation at a time over the lanes: loops the compiler turns into
                // one vector instruction each.
                let b = baseline[i];
                let counts: [bool; N] = std::array::from_fn(|l| (member[i][l] == 1.0) & alive[l]);
                let saving: [f64; N] = std::array::from_fn(|l| b[l] - b[l] / pool[l] * cost[l]);
                let added: [f64; N] = std::array::from_fn(|l| npv[i][l] + saving[l] * discount);
                npv[i] = std::array::from_fn(|l| if counts[l] { added[l] } else { npv[i][l] });
                let loss: [f64; N] = std::array::from_fn(|l| (-saving[l]).max(0.0) / b[l]);
                let hazard: [f64; N] =
                    std::array::from_fn(|l| shape.hazard[i] + DISAPPOINTMENT * loss[l]);
                let leaving: [bool; N] = std::array::from_fn(|l| counts[l] & (u[l] < hazard[l]));
                member[i] = std::array::from_fn(|l| if leaving[l] { 0.0 } else { member[i][l] });
                let leaves = leaving.iter().filter(|x| **x).count() as u32;
                given += u64::from(leaves);
                changed |= leaves > 0;
            }
            if changed {
                let mut count = [0.0; N];
                for m in &member {
                    for l in 0..N {
                        count[l] += m[l];
                    }
                }
                for l in 0..N {
                    members[l] = if alive[l] { count[l] } else { members[l] };
                }
            }
        }
        let mut total = [0.0; N];
        for v in &npv {
            for l in 0..N {
                total[l] += v[l];
            }
        }
        npv_out.copy_from_slice(&total);
    }
    given
}

/// [`lanes_arrays`] compiled for AVX-512 (eight lanes), for AVX2 (four), or for any
/// x86-64 (four), whichever the processor has, found when the program runs; the name of
/// the one used is returned with the notices.
fn lanes_dispatched(shape: &Shape, out: &mut [f64]) -> (u64, &'static str) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
        fn avx512(shape: &Shape, out: &mut [f64]) -> u64 {
            lanes_arrays::<8>(shape, out)
        }
        #[target_feature(enable = "avx2,fma")]
        fn avx2(shape: &Shape, out: &mut [f64]) -> u64 {
            lanes_arrays::<4>(shape, out)
        }
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the processor has the features the function is compiled for.
            return (unsafe { avx512(shape, out) }, "AVX-512, 8 lanes");
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: as above.
            return (unsafe { avx2(shape, out) }, "AVX2, 4 lanes");
        }
    }
    (lanes_arrays::<4>(shape, out), "baseline, 4 lanes")
}

/// [`lanes`] with the scalar streams' numbers, inlined into functions compiled for
/// AVX-512 and AVX2 and chosen at run time (`wide`'s SSE2 instructions, which the
/// compiler may then widen).
fn wide_dispatched(
    shape: &Shape,
    numbers: &mut ScalarStreams,
    out: &mut [f64],
) -> (u64, &'static str) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
        fn avx512(shape: &Shape, numbers: &mut ScalarStreams, out: &mut [f64]) -> u64 {
            lanes::<true>(shape, numbers, out)
        }
        #[target_feature(enable = "avx2,fma")]
        fn avx2(shape: &Shape, numbers: &mut ScalarStreams, out: &mut [f64]) -> u64 {
            lanes::<true>(shape, numbers, out)
        }
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the processor has the features the function is compiled for.
            return (unsafe { avx512(shape, numbers, out) }, "AVX-512");
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: as above.
            return (unsafe { avx2(shape, numbers, out) }, "AVX2");
        }
    }
    (lanes::<true>(shape, numbers, out), "baseline")
}

fn best_of(rounds: &mut [Duration], k: usize, run: impl FnOnce()) {
    let start = Instant::now();
    run();
    rounds[k] = rounds[k].min(start.elapsed());
}

fn main() {
    println!(
        "{TRIALS} trials, one thread, best of {ROUNDS}; M partner-years/s (ratio to the scalar loop)"
    );
    println!(
        "{:<8} {:>7} {:>15} {:>15} {:>15} {:>15} | {:>21}",
        "", "", "wide lanes:", "wide lanes:", "wide, chosen", "arrays, chosen", "arithmetic only:"
    );
    println!(
        "{:<8} {:>7} {:>15} {:>15} {:>15} {:>15} | {:>7} {:>13}",
        "P x H",
        "scalar",
        "same numbers",
        "vector SM64",
        "at run time",
        "at run time",
        "scalar",
        "wide lanes"
    );
    let mut differs = false;
    let mut used = "";
    let mut wide_used = "";
    for (partners, years) in [(4, 10), (8, 15), (20, 15)] {
        let shape = Shape::new(partners, years);
        let mut out: [Vec<f64>; 7] = std::array::from_fn(|_| vec![0.0; TRIALS]);
        let mut best = [Duration::MAX; 7];
        let mut notices = [0; 7];
        let entities = partners + 1;
        let mut same = ScalarStreams(vec![Stream::default(); entities * LANES]);
        let mut vector = VectorSplitMix(vec![u64x4::splat(0); entities]);
        for _ in 0..ROUNDS {
            let [a, b, c, d, e, f, h] = &mut out;
            best_of(&mut best, 0, || notices[0] = scalar::<true>(&shape, a));
            best_of(&mut best, 1, || {
                notices[1] = lanes::<true>(&shape, &mut same, b)
            });
            best_of(&mut best, 2, || {
                notices[2] = lanes::<true>(&shape, &mut vector, c)
            });
            best_of(&mut best, 3, || notices[3] = scalar::<false>(&shape, d));
            best_of(&mut best, 4, || {
                notices[4] = lanes::<false>(&shape, &mut NoNumbers, e)
            });
            best_of(&mut best, 5, || {
                (notices[5], used) = lanes_dispatched(&shape, f)
            });
            best_of(&mut best, 6, || {
                (notices[6], wide_used) = wide_dispatched(&shape, &mut same, h)
            });
            std::hint::black_box(&out);
        }
        // Lanes drawing the scalar streams' numbers must give the scalar loop's results
        // bit for bit, and the arithmetic alone likewise; otherwise the comparison is of
        // two different loops.
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (x, y) in [(0, 1), (3, 4), (0, 5), (0, 6)] {
            if bits(&out[x]) != bits(&out[y]) || notices[x] != notices[y] {
                eprintln!("error: {partners} x {years}: variant {y} differs from variant {x}");
                differs = true;
            }
        }
        let rate = |k: usize| (TRIALS * partners * years) as f64 / best[k].as_secs_f64() / 1e6;
        let cell = |k: usize, of: usize| format!("{:.1} ({:.2}x)", rate(k), rate(k) / rate(of));
        println!(
            "{:<8} {:>7.1} {:>15} {:>15} {:>15} {:>15} | {:>7.1} {:>13}",
            format!("{partners} x {years}"),
            rate(0),
            cell(1, 0),
            cell(2, 0),
            cell(6, 0),
            cell(5, 0),
            rate(3),
            cell(4, 3)
        );
        println!(
            "{:<8} notices a trial: {:.3} (scalar streams), {:.3} (vector SplitMix64)",
            "",
            notices[0] as f64 / TRIALS as f64,
            notices[2] as f64 / TRIALS as f64
        );
    }
    println!("chosen at run time: wide compiled for {wide_used}; arrays compiled for {used}");
    if differs {
        std::process::exit(1);
    }
}
