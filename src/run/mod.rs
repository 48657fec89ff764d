//! The run API: what every front end (the command line, Python, Excel, the web) calls
//! to turn a request into results, so that none of them copies it.
//!
//! A request is a plain [`RunOptions`]: the scenario (a file or JSON already read), its
//! overrides, and the run's trials, seed, threads, memory limit, shard or precision
//! target. [`prepare`] loads and validates the scenario, fixes the trials, checks the
//! memory the run needs and starts its threads; the [`Prepared`] run then simulates
//! (whole, one shard, or until its target is met), builds its report, finds and replays
//! its worst trial, writes a shard's partial result, or runs an analysis. Progress and
//! cancellation go through the engine's [`Monitor`](crate::engine::Monitor), passed in
//! by the caller; what the user should be told on the way comes back as [`Notice`]s.
//! The library never prints.
//!
//! Every function returns the one [`Error`], which says whether it is a mistake in the
//! request ([`Error::is_user_input`]), a cancelled run or a fault.
//!
//! ```
//! use consortium_sim::engine::Monitor;
//! use consortium_sim::run::{self, RunOptions};
//!
//! let mut options = RunOptions::new(std::path::Path::new(
//!     "scenarios/four_districts_back_office.json",
//! ));
//! options.trials = Some(500);
//! options.overrides = vec!["/service/efficiency=0.1".into()];
//! let mut notices = Vec::new();
//! let prepared = run::prepare(&options, &mut notices)?;
//! let monitor = Monitor::new();
//! let mut simulation = prepared.simulate(&monitor)?;
//! let report = prepared.report(&mut simulation, &monitor)?;
//! assert_eq!(report.trials, 500);
//! # Ok::<(), consortium_sim::Error>(())
//! ```

mod analyse;
mod error;
mod memory;
mod prepare;
mod simulate;
mod target;

pub use analyse::sweep_params;
pub use error::{Error, Message, Notice, Result, Setting};
pub use memory::parse_size;
pub use prepare::{Loaded, Prepared, RunOptions, Source, load, prepare};
pub use simulate::{Merged, Simulation, build_report, interrupted, merge, worst_trial};
pub use target::{FIRST_BLOCK, MAX_TRIALS, Target};
