//! Throughput of the engine on a shipped scenario: trials per second and partner-years
//! per second, on one thread and on two.

use std::path::Path;

use consortium_sim::engine;
use consortium_sim::plan::Plan;
use consortium_sim::scenario;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TRIALS: usize = 20_000;

fn bench_scenario(c: &mut Criterion, file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let s = scenario::load_file(&path).expect("shipped scenario validates");
    let plan = Plan::compile(&s);
    let partner_years = (TRIALS * plan.partners * plan.horizon) as u64;
    let stem = file.trim_end_matches(".json");
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut group = c.benchmark_group(format!("engine/{stem}"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(TRIALS as u64));
        group.bench_function(format!("trials/{threads}t"), |b| {
            b.iter(|| pool.install(|| engine::run(&plan, 1, 0, TRIALS)))
        });
        group.throughput(Throughput::Elements(partner_years));
        group.bench_function(format!("partner_years/{threads}t"), |b| {
            b.iter(|| pool.install(|| engine::run(&plan, 1, 0, TRIALS)))
        });
        group.finish();
    }
}

fn throughput(c: &mut Criterion) {
    bench_scenario(c, "four_districts_back_office.json");
    bench_scenario(c, "mixed_jv_county_district_police.json");
}

criterion_group!(benches, throughput);
criterion_main!(benches);
