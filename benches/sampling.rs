//! Precision per second: plain sampling against Latin hypercube sampling on every shipped
//! scenario, over many seeds.
//!
//! `cargo bench --bench sampling` runs each shipped scenario `SEEDS` times (default 100)
//! at `TRIALS` trials (default 65,536: 64 LHS blocks, the fewest from which a report
//! estimates an LHS standard error), with each method, and prints per scenario:
//!
//! - the variance, across seeds, of the mean consortium NPV and of P(loss) under each
//!   method, and their ratio (plain / LHS) with a 95 % interval: how many times as
//!   many plain trials give the same precision;
//! - the time each method takes per trial (best of the seeds' runs), and the effective
//!   speedup, the variance ratio times the ratio of times: precision per second;
//! - the LHS standard error the reports gave (their mean) against the spread of the
//!   LHS means across seeds, which it estimates: a ratio near 1 says the reports' figure
//!   is honest.
//!
//! The figures in README.md come from this bench. Set `SEEDS` and `TRIALS` in the
//! environment to change the design.

#[path = "shipped.rs"]
mod shipped;

use std::time::{Duration, Instant};

use consortium_sim::engine;
use consortium_sim::lhs::{self, Sampling};
use consortium_sim::stats;
use shipped::{SHIPPED, load, pool};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one method gives over the seeds.
struct Method {
    means: Vec<f64>,
    losses: Vec<f64>,
    reported_se: Vec<f64>,
    best: Duration,
}

fn variance(values: &[f64]) -> f64 {
    let s = stats::sd(values, stats::mean(values));
    s * s
}

/// The ratio of two variances, each from `seeds` values, with its 95 % interval (the
/// F distribution approximated on the log scale: sd of ln F about sqrt(4 / (seeds - 1))).
fn ratio(plain: f64, lhs: f64, seeds: usize) -> String {
    if lhs == 0.0 {
        return "   (no variance)".into();
    }
    let r = plain / lhs;
    let half = 1.96 * (4.0 / (seeds as f64 - 1.0)).sqrt();
    format!("{r:>5.2} ({:.2}-{:.2})", r * (-half).exp(), r * half.exp())
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let seeds = env_or("SEEDS", 100);
    let threads = pool(2);
    let trials = env_or("TRIALS", (lhs::MIN_BLOCKS * lhs::BLOCK) as usize);
    println!(
        "{seeds} seeds x {trials} trials per method; variance ratio = plain / LHS (95 % interval)"
    );
    println!(
        "{:<36} {:>20} {:>20} {:>10} {:>10} {:>9}",
        "scenario", "mean NPV", "P(loss)", "time LHS", "speedup", "SE check"
    );
    for name in SHIPPED {
        let (_, mut plan) = load(name);
        let mut methods = Vec::new();
        for sampling in [Sampling::Plain, Sampling::Lhs] {
            plan.sampling = sampling;
            let mut m = Method {
                means: Vec::new(),
                losses: Vec::new(),
                reported_se: Vec::new(),
                best: Duration::MAX,
            };
            for seed in 0..seeds as u64 {
                let start = Instant::now();
                let out = threads.install(|| engine::run(&plan, 1000 + seed, 0, trials));
                m.best = m.best.min(start.elapsed());
                m.means.push(stats::mean(&out.npv));
                let loss = out.npv.iter().filter(|&&v| v < 0.0).count();
                m.losses.push(loss as f64 / trials as f64);
                m.reported_se
                    .push(stats::lhs_standard_error(&out.npv).unwrap_or(f64::NAN));
            }
            methods.push(m);
        }
        let (plain, lhs) = (&methods[0], &methods[1]);
        let mean_ratio = variance(&plain.means) / variance(&lhs.means);
        let time_ratio = plain.best.as_secs_f64() / lhs.best.as_secs_f64();
        let se_check = stats::mean(&lhs.reported_se) / variance(&lhs.means).sqrt();
        println!(
            "{name:<36} {:>20} {:>20} {:>9.2}x {:>9.2}x {:>9.2}",
            ratio(variance(&plain.means), variance(&lhs.means), seeds),
            ratio(variance(&plain.losses), variance(&lhs.losses), seeds),
            1.0 / time_ratio,
            mean_ratio * time_ratio,
            se_check,
        );
    }
    println!(
        "time LHS: an LHS run's time over a plain one's; speedup: mean NPV's variance ratio \
         over that (precision per second); SE check: the reports' mean LHS standard error \
         over the LHS means' spread across seeds (1 is honest)"
    );
}
