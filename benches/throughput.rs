//! Throughput benches. Each group sets its throughput, so criterion prints elements/s:
//!
//! - `run/<scenario>`: a whole run, report included (elements: trials);
//! - `hot_loop/<scenario>/<threads>`: the engine's trial loop (elements: partner-years);
//! - `floor/<threads>`: the floor loop of `floor.rs` over as many partner-years as the
//!   first scenario (its throughput hardly depends on the shape), for the ratio the
//!   engine is held to (printed per scenario by the `guard` bench);
//! - `sampling/<scenario>`: trial-level sampling of every input (elements: trials);
//! - `sampling_lhs/<scenario>`: the same under Latin hypercube sampling;
//! - `statistics/<scenario>`: building the report from outcomes (elements: trials);
//! - `statistics_large/<scenario>`: the same from 262,144 trials, whose rows are long
//!   enough to be selected by buckets (see `stats.rs`);
//! - `time_to_target/{se,prob_ci}/<scenario>/{plain,lhs}`: a run to a standard error of
//!   0.5 % of |mean NPV|, or to a P(loss) interval of +/- 0.25 points, through the run
//!   API on one thread per core (elements: the trials it used, which it also prints),
//!   plain against Latin hypercube sampling.

#[path = "floor.rs"]
mod floor;
#[path = "shipped.rs"]
mod shipped;

use std::time::Duration;

use consortium_sim::engine::{self, Monitor, Outcomes};
use consortium_sim::lhs::Sampling;
use consortium_sim::plan::SamplingScratch;
use consortium_sim::rng::trial_key;
use consortium_sim::run::{self, RunOptions, Target};
use consortium_sim::stats;
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

/// Trial-level sampling of every shipped scenario, as the engine does it (fixed inputs
/// written once, buffers reused), in the group `name` with the given sampling method.
fn sampling_group(c: &mut Criterion, name: &str, sampling: Sampling) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(TRIALS as u64));
    for scenario in SHIPPED {
        let (_, mut plan) = load(scenario);
        plan.sampling = sampling;
        let mut inputs = vec![0.0; plan.inputs.len()];
        plan.fill_fixed(&mut inputs);
        let mut scratch = SamplingScratch::new(&plan);
        group.bench_function(*scenario, |b| {
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

fn sampling(c: &mut Criterion) {
    sampling_group(c, "sampling", Sampling::Plain);
}

fn sampling_lhs(c: &mut Criterion) {
    sampling_group(c, "sampling_lhs", Sampling::Lhs);
}

/// The most trials a run to a target may take here: P(loss) targets of scenarios that
/// almost never lose cannot be judged (30 losses) in fewer, and are left out.
const MOST_TRIALS: u64 = 10_000_000;

fn time_to_target(c: &mut Criterion) {
    let mut group = c.benchmark_group("time_to_target");
    for name in SHIPPED {
        let (_, plan) = load(name);
        // The targets, from a large plain run: 0.5 % of |mean NPV|, and +/- 0.25 points.
        let npv = engine::run(&plan, 99, 0, 200_000).npv;
        let losses = npv.iter().filter(|&&v| v < 0.0).count() as f64 / npv.len() as f64;
        let targets = [
            (
                "se",
                Target {
                    se: Some(0.005 * stats::mean(&npv).abs()),
                    prob_ci: None,
                    max_trials: Some(MOST_TRIALS),
                },
            ),
            (
                "prob_ci",
                Target {
                    se: None,
                    prob_ci: Some(0.0025),
                    max_trials: Some(MOST_TRIALS),
                },
            ),
        ];
        for (which, target) in targets {
            if which == "prob_ci" && losses * (MOST_TRIALS as f64) < 300.0 {
                eprintln!("time_to_target/{which}/{name}: left out, P(loss) is {losses}");
                continue;
            }
            for sampling in [Sampling::Plain, Sampling::Lhs] {
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("scenarios")
                    .join(format!("{name}.json"));
                let mut options = RunOptions::new(path.as_path());
                options.target = Some(target);
                options.sampling = sampling;
                options.cash_by_year = false;
                let prepared = run::prepare(&options, &mut Vec::new()).expect("prepares");
                let monitor = Monitor::new();
                let used = prepared.simulate(&monitor).expect("runs").outcomes.trials;
                let id = format!("{which}/{name}/{}", sampling.name());
                eprintln!("time_to_target/{id}: {used} trials");
                group.throughput(Throughput::Elements(used as u64));
                group.bench_function(id, |b| {
                    b.iter(|| prepared.simulate(&monitor).expect("runs").outcomes.trials)
                });
            }
        }
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

/// Trials of the `statistics_large` group: rows above the length from which percentiles
/// are selected by buckets rather than in place.
const LARGE_TRIALS: usize = 1 << 18;

fn statistics_large(c: &mut Criterion) {
    let mut group = c.benchmark_group("statistics_large");
    group.throughput(Throughput::Elements(LARGE_TRIALS as u64));
    for name in [
        "four_districts_back_office",
        "eight_councils_revenues_benefits",
    ] {
        let (s, plan) = load(name);
        let outcomes: Outcomes = engine::run(&plan, 1, 0, LARGE_TRIALS);
        group.bench_function(name, |b| {
            b.iter(|| Report::build(&s, 1, &outcomes, RunInfo::new(1, 1.0, LARGE_TRIALS)))
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
    targets = hot_loops, floor_loop, sampling, sampling_lhs, statistics, statistics_large, whole_runs, time_to_target
}
criterion_main!(benches);
