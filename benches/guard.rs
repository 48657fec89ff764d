//! CI's speed guard: the engine's hot loop against the floor loop (`floor.rs`), timed
//! in the same process, interleaved and best-of-N, so that a slow or busy machine moves
//! both alike and only a slow commit moves their ratio.
//!
//! `cargo bench --bench guard` prints both throughputs and their ratio, and exits 1 if
//! the ratio falls below [`GUARD`]. See benches/README.md for the figures behind it.

#[path = "floor.rs"]
mod floor;

use std::path::Path;
use std::time::{Duration, Instant};

use consortium_sim::engine;
use consortium_sim::plan::Plan;
use consortium_sim::scenario;

/// The ratio (engine / floor, one thread) below which CI fails: 60 % of the ratio
/// measured when the guard was set (0.50 on the 2-core CI machine class).
const GUARD: f64 = 0.30;
const TRIALS: usize = 20_000;
const ROUNDS: usize = 15;

fn best_of(rounds: usize, mut run: impl FnMut()) -> Duration {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .min()
        .expect("at least one round")
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test --benches` passes nothing and
    // should not spend time here.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/four_districts_back_office.json");
    let s = scenario::load_file(&path).expect("shipped scenario validates");
    let plan = Plan::compile(&s);
    let partner_years = (TRIALS * plan.partners * plan.horizon) as f64;
    let mut rates = Vec::new();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("threads");
        let (mut engine_best, mut floor_best) = (Duration::MAX, Duration::MAX);
        for _ in 0..ROUNDS {
            engine_best = engine_best.min(best_of(1, || {
                pool.install(|| engine::run(&plan, 1, 0, TRIALS));
            }));
            floor_best = floor_best.min(best_of(1, || {
                pool.install(|| floor::run(TRIALS, plan.partners, plan.horizon, 1));
            }));
        }
        let engine_rate = partner_years / engine_best.as_secs_f64();
        let floor_rate = partner_years / floor_best.as_secs_f64();
        println!(
            "{threads} thread(s): hot loop {:.1} M partner-years/s, floor loop {:.1} M/s, ratio {:.2}",
            engine_rate / 1e6,
            floor_rate / 1e6,
            engine_rate / floor_rate
        );
        rates.push((engine_rate, floor_rate));
    }
    let ratio = rates[0].0 / rates[0].1;
    let speedup = (rates[1].0 / rates[0].0, rates[1].1 / rates[0].1);
    println!(
        "2-thread speedup: hot loop {:.2}x, floor loop {:.2}x ({:.0} % of the floor's)",
        speedup.0,
        speedup.1,
        100.0 * speedup.0 / speedup.1
    );
    if ratio < GUARD {
        eprintln!(
            "speed guard FAILED: the hot loop runs at {ratio:.2} of the floor loop's throughput, \
             below the guard of {GUARD}; a recent change has slowed the engine"
        );
        std::process::exit(1);
    }
    println!("speed guard passed: ratio {ratio:.2} >= {GUARD}");
}
