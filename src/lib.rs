//! consortium-sim: Monte Carlo stress tests for a shared service between public bodies.
//!
//! Data flows one way:
//!
//! ```text
//! scenario file -> validated Scenario -> compiled Plan (flat arrays, no strings)
//!   -> trials in parallel (one random stream per trial and entity) -> Outcomes
//!   -> Report (summary) -> exports (JSON, terminal summary, HTML with charts, trial CSV, trace)
//! ```
//!
//! [`scenario`] reads and validates; [`plan`] compiles; [`sample`] draws the uncertain
//! inputs ([`lhs`] stratifies them for Latin hypercube sampling); [`engine`] runs
//! trials (its [`engine::trial`] module is the only place that
//! knows the year-step order of the model); [`stats`] and [`summary`] summarise;
//! [`export`] renders.
//! [`shard`] splits a run across machines and joins it back exactly; [`analysis`] runs
//! sweeps, sensitivity analyses and comparisons under common random numbers. Upstream of
//! all of them, [`rng`] gives the random streams and [`copula`] correlates inputs (with
//! the normal distribution functions). [`run`] is what every front end calls: a request
//! in, results, notices and one [`Error`] out. The model is described in docs/model.md.

pub mod analysis;
pub mod copula;
pub mod engine;
pub mod export;
pub mod lhs;
pub mod output;
pub mod plan;
pub mod rng;
pub mod run;
pub mod sample;
pub mod scenario;
#[cfg(feature = "serve")]
pub mod serve;
pub mod shard;
pub mod stats;
pub mod summary;

pub use run::Error;

/// A starting scenario that validates and uses every section (`consortium-sim init`).
pub const TEMPLATE: &str = include_str!("template.json");

/// Runs `trials` trials of a validated scenario with `seed` on the current rayon pool.
pub fn simulate(scenario: &scenario::Scenario, seed: u64, trials: usize) -> engine::Outcomes {
    engine::run(&plan::Plan::compile(scenario), seed, 0, trials)
}
