//! The floor loop: the simplest work a Monte Carlo engine of this shape must do, as a
//! yardstick for the real engine measured on the same machine in the same run.
//!
//! Per partner-year it draws one lognormal and three uniforms from Xoshiro256++ and
//! updates a few accumulators; trials run in chunks on rayon and the per-chunk sums are
//! reduced in a fixed order (rayon's `sum()` on floats is not reproducible).

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal};
use rayon::prelude::*;

const CHUNK: usize = 1024;

/// Accumulators of the floor loop (kept so the work cannot be optimised away).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Totals {
    pub saving: f64,
    pub events: u64,
}

/// Runs `trials` trials of `partners` x `years` partner-years on the current pool.
pub fn run(trials: usize, partners: usize, years: usize, seed: u64) -> Totals {
    let chunks = trials.div_ceil(CHUNK);
    let per_chunk: Vec<Totals> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let dist = LogNormal::new(0.0, 0.25).expect("valid lognormal");
            let mut t = Totals::default();
            let end = ((c + 1) * CHUNK).min(trials);
            for trial in c * CHUNK..end {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ trial as u64);
                for _ in 0..years {
                    for _ in 0..partners {
                        let cost: f64 = dist.sample(&mut rng);
                        let (u1, u2, u3): (f64, f64, f64) =
                            (rng.random(), rng.random(), rng.random());
                        t.saving += cost * (u1 - 0.5);
                        t.events += u64::from(u2 < 0.05) + u64::from(u3 < 0.01);
                    }
                }
            }
            t
        })
        .collect();
    per_chunk.iter().fold(Totals::default(), |a, b| Totals {
        saving: a.saving + b.saving,
        events: a.events + b.events,
    })
}
