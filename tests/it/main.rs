//! The integration tests, as one test binary (one link, not sixteen): each module is
//! one suite, and `util` holds the helpers they share. Run one suite with
//! `cargo test --release --test it cli::` (or any module's name).

mod util;

mod addressing;
mod agreement;
mod cash_by_year;
mod cli;
mod compare;
mod completions;
mod convergence;
mod correlations;
mod delay_crn;
mod files;
mod golden;
mod html;
mod layers;
mod lhs;
mod loader_fuzz;
mod memory;
mod model;
mod model_v2;
mod plausibility;
mod print;
mod provenance;
mod readme;
mod reference;
mod schema;
mod sensitivity;
#[cfg(feature = "serve")]
mod serve;
mod shard;
#[cfg(unix)]
mod signals;
mod sweep;
mod trace_pick;
mod trials_csv;
mod workbook;
mod xlsx;
