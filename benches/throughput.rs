//! Throughput benches. Each group sets its throughput, so criterion prints elements/s:
//!
//! - `run/<scenario>`: a whole run, report included (elements: trials);
//! - `hot_loop/<scenario>/<threads>`: the engine's trial loop (elements: partner-years);
//! - `floor/<threads>`: the floor loop of `floor.rs` over as many partner-years as the
//!   first scenario (its throughput hardly depends on the shape), for the ratio the
//!   engine is held to (printed per scenario by the `guard` bench);
//! - `sampling/<scenario>`: trial-level sampling of every input (elements: trials);
//! - `statistics/<scenario>`: building the report from outcomes (elements: trials).

#[path = "floor.rs"]
mod floor;
#[path = "shipped.rs"]
mod shipped;

use std::time::Duration;

use consortium_sim::engine::{self, Outcomes};
use consortium_sim::plan::SamplingScratch;
use consortium_sim::rng::trial_key;
use consortium_sim::summary::{Report, RunInfo};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shipped::{SHIPPED, load, pool};

const TRIALS: usize = 20_000;

fn whole_runs(c: &mut Criterion) {
    let mut group = c.benchmark_group("run");
    group.throughput(Throughput::Elements(TRIALS as u64));
    for name in SHIPPED {
        let (s, plan) = load(name);
        group.bench_function(*name, |b| {
            b.iter(|| {
                let out = engine::run(&plan, 1, 0, TRIALS);
                Report::build(&s, 1, &out, RunInfo::new(1, 1.0, TRIALS))
            })
        });
    }
    group.finish();
}

fn hot_loops(c: &mut Criterion) {
    let mut group = c.benchmark_group("hot_loop");
    for name in SHIPPED {
        let (_, plan) = load(name);
        group.throughput(Throughput::Elements(
            (TRIALS * plan.partners * plan.horizon) as u64,
        ));
        for threads in [1, 2] {
            let pool = pool(threads);
            group.bench_function(format!("{name}/{threads}t"), |b| {
                b.iter(|| pool.install(|| engine::run(&plan, 1, 0, TRIALS)))
            });
        }
    }
    group.finish();
}

fn floor_loop(c: &mut Criterion) {
    let (_, plan) = load(SHIPPED[0]);
    let mut group = c.benchmark_group("floor");
    group.throughput(Throughput::Elements(
        (TRIALS * plan.partners * plan.horizon) as u64,
    ));
    for threads in [1, 2] {
        let pool = pool(threads);
        group.bench_function(format!("{threads}t"), |b| {
            b.iter(|| pool.install(|| floor::run(TRIALS, plan.partners, plan.horizon, 1)))
        });
    }
    group.finish();
}

fn sampling(c: &mut Criterion) {
    let mut group = c.benchmark_group("sampling");
    group.throughput(Throughput::Elements(TRIALS as u64));
    for name in SHIPPED {
        let (_, plan) = load(name);
        // As the engine does it: fixed inputs written once, buffers reused.
        let mut inputs = vec![0.0; plan.inputs.len()];
        plan.fill_fixed(&mut inputs);
        let mut scratch = SamplingScratch::new(&plan);
        group.bench_function(*name, |b| {
            b.iter(|| {
                for k in 0..TRIALS as u64 {
                    plan.sample_uncertain(1, k, trial_key(1, k), &mut inputs, &mut scratch);
                }
                inputs[0]
            })
        });
    }
    group.finish();
}

fn statistics(c: &mut Criterion) {
    let mut group = c.benchmark_group("statistics");
    group.throughput(Throughput::Elements(TRIALS as u64));
    for name in SHIPPED {
        let (s, plan) = load(name);
        let outcomes: Outcomes = engine::run(&plan, 1, 0, TRIALS);
        group.bench_function(*name, |b| {
            // Building reads the outcomes without changing them: no copy per iteration.
            b.iter(|| Report::build(&s, 1, &outcomes, RunInfo::new(1, 1.0, TRIALS)))
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = hot_loops, floor_loop, sampling, statistics, whole_runs
}
criterion_main!(benches);
