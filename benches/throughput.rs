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

use std::path::Path;
use std::time::Duration;

use consortium_sim::engine::{self, Outcomes};
use consortium_sim::plan::Plan;
use consortium_sim::report::{Report, RunInfo};
use consortium_sim::rng::trial_key;
use consortium_sim::scenario::{self, Scenario};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const TRIALS: usize = 20_000;
const SHIPPED: &[&str] = &[
    "four_districts_back_office",
    "county_districts_ict",
    "eight_councils_revenues_benefits",
    "london_boroughs_strong_governance",
    "mixed_jv_county_district_police",
    "social_care_formal",
    "social_care_informal",
];

fn load(name: &str) -> (Scenario, Plan) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.json"));
    let s = scenario::load_file(&path).expect("shipped scenario validates");
    let plan = Plan::compile(&s);
    (s, plan)
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("threads start")
}

fn whole_runs(c: &mut Criterion) {
    let mut group = c.benchmark_group("run");
    group.throughput(Throughput::Elements(TRIALS as u64));
    for name in SHIPPED {
        let (s, plan) = load(name);
        group.bench_function(*name, |b| {
            b.iter(|| {
                let mut out = engine::run(&plan, 1, 0, TRIALS);
                Report::build(&s, 1, &mut out, RunInfo::new(1, 1.0, TRIALS))
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
        let mut uniforms = vec![0.0; plan.draw_steps.len()];
        group.bench_function(*name, |b| {
            b.iter(|| {
                for k in 0..TRIALS as u64 {
                    plan.sample_uncertain(trial_key(1, k), &mut inputs, &mut uniforms);
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
            b.iter_batched(
                || outcomes.clone(),
                |mut out| Report::build(&s, 1, &mut out, RunInfo::new(1, 1.0, TRIALS)),
                BatchSize::LargeInput,
            )
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
