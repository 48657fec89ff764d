//! CI's speed guard: the engine's hot loop against the floor loop (`floor.rs`), timed
//! in the same process, interleaved and best-of-N, so that a slow or busy machine moves
//! both alike and only a slow commit moves their ratio.
//!
//! `cargo bench --bench guard` prints, for every shipped scenario, the hot loop's and
//! the floor loop's throughput on one thread, their ratio and the share of a trial spent
//! in trial-level sampling; then both loops' 2-thread speedups. It exits 1 if any
//! scenario's ratio falls below [`GUARD`]. See benches/README.md for the figures behind it.

#[path = "floor.rs"]
mod floor;
#[path = "shipped.rs"]
mod shipped;

use std::time::{Duration, Instant};

use consortium_sim::engine;
use consortium_sim::plan::{Plan, SamplingScratch};
use consortium_sim::rng::trial_key;
use shipped::{SHIPPED, load, pool};

/// The ratio (engine / floor, one thread) below which CI fails, for any shipped scenario:
/// the 0.6 the issue proposed, about 70 % of the lowest ratio measured when it was set
/// (0.87, `social_care_informal`, on the 2-core CI machine class).
const GUARD: f64 = 0.6;
const TRIALS: usize = 20_000;
const ROUNDS: usize = 15;

fn time(run: impl FnOnce()) -> Duration {
    let start = Instant::now();
    run();
    start.elapsed()
}

/// Best-of-[`ROUNDS`] times of the hot loop, of the floor loop over the same
/// partner-years and of the engine's trial-level sampling for as many trials, on `pool`,
/// interleaved round by round so that a busy spell slows all three alike.
fn engine_floor_sampling(plan: &Plan, pool: &rayon::ThreadPool) -> [Duration; 3] {
    let mut inputs = vec![0.0; plan.inputs.len()];
    plan.fill_fixed(&mut inputs);
    let mut scratch = SamplingScratch::new(plan);
    let mut best = [Duration::MAX; 3];
    for _ in 0..ROUNDS {
        let times = [
            time(|| {
                pool.install(|| engine::run(plan, 1, 0, TRIALS));
            }),
            time(|| {
                pool.install(|| floor::run(TRIALS, plan.partners, plan.horizon, 1));
            }),
            time(|| {
                for k in 0..TRIALS as u64 {
                    plan.sample_uncertain(1, k, trial_key(1, k), &mut inputs, &mut scratch);
                }
                std::hint::black_box(&inputs);
            }),
        ];
        for (b, t) in best.iter_mut().zip(times) {
            *b = (*b).min(t);
        }
    }
    best
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test --benches` passes nothing and
    // should not spend time here.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let one = pool(1);
    println!(
        "{:<36} {:>22} {:>12} {:>6} {:>9}",
        "one thread", "hot loop", "floor loop", "ratio", "sampling"
    );
    let mut lowest = (f64::INFINITY, "");
    for name in SHIPPED {
        let (_, plan) = load(name);
        let partner_years = (TRIALS * plan.partners * plan.horizon) as f64;
        let [engine_time, floor_time, sampling_time] = engine_floor_sampling(&plan, &one);
        let ratio = floor_time.as_secs_f64() / engine_time.as_secs_f64();
        println!(
            "{name:<36} {:>6.1} M partner-years/s {:>8.1} M/s {ratio:>6.2} {:>8.0} %",
            partner_years / engine_time.as_secs_f64() / 1e6,
            partner_years / floor_time.as_secs_f64() / 1e6,
            100.0 * sampling_time.as_secs_f64() / engine_time.as_secs_f64()
        );
        if ratio < lowest.0 {
            lowest = (ratio, name);
        }
    }

    // One thread is timed again, just before two, so that both sides of each speedup
    // come from the same spell of the (shared) machine.
    let (_, plan) = load(SHIPPED[0]);
    let [engine_one, floor_one, _] = engine_floor_sampling(&plan, &one);
    let [engine_two, floor_two, _] = engine_floor_sampling(&plan, &pool(2));
    let speedup = (
        engine_one.as_secs_f64() / engine_two.as_secs_f64(),
        floor_one.as_secs_f64() / floor_two.as_secs_f64(),
    );
    println!(
        "2-thread speedup on {}: hot loop {:.2}x, floor loop {:.2}x ({:.0} % of the floor's)",
        SHIPPED[0],
        speedup.0,
        speedup.1,
        100.0 * speedup.0 / speedup.1
    );

    let (ratio, name) = lowest;
    if ratio < GUARD {
        eprintln!(
            "speed guard FAILED: the hot loop of {name} runs at {ratio:.2} of the floor \
             loop's throughput, below the guard of {GUARD}; a recent change has slowed \
             the engine"
        );
        std::process::exit(1);
    }
    println!("speed guard passed: lowest ratio {ratio:.2} ({name}) >= {GUARD}");
}
