//! From a request to a run ready to start: the scenario read, overridden and validated,
//! the trials fixed (all, one shard's, or as many as a precision target may need), the
//! memory checked and the worker threads started.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::{Error, Notice, Result, Setting, message};
use super::provenance;
use super::target::{self, Target};
use crate::engine::Precision;
use crate::lhs::Sampling;
use crate::plan::Plan;
use crate::scenario::origin::Origin;
use crate::scenario::plausibility::{self, Warning};
use crate::scenario::{self, Scenario};
use crate::shard::Shard;
use crate::summary::{AsRun, Provenance};

/// Where a scenario comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A scenario file (JSON or an Excel workbook).
    Path(PathBuf),
    /// A scenario already parsed, with the name messages give it (a file name, a
    /// worksheet, "the request").
    Json { value: Value, name: String },
    /// A scenario file's bytes, already read (an upload, a run kept in a history), with
    /// the file name it is known by: it is read, hashed and named in provenance exactly
    /// as the file of that name would be, so its report is the file's.
    Bytes { bytes: Vec<u8>, name: String },
}

impl Source {
    /// How messages name the scenario.
    pub fn name(&self) -> String {
        match self {
            Source::Path(path) => path.display().to_string(),
            Source::Json { name, .. } | Source::Bytes { name, .. } => name.clone(),
        }
    }

    /// A short name for a column of a comparison: the file's stem.
    pub(super) fn stem(&self) -> String {
        match self {
            Source::Path(p) => p
                .file_stem()
                .map_or_else(|| p.display().to_string(), |s| s.to_string_lossy().into()),
            Source::Json { name, .. } => name.clone(),
            Source::Bytes { name, .. } => Path::new(name)
                .file_stem()
                .map_or_else(|| name.clone(), |s| s.to_string_lossy().into()),
        }
    }
}

impl From<&Path> for Source {
    fn from(path: &Path) -> Source {
        Source::Path(path.to_path_buf())
    }
}

/// What a front end asks of a run: the run API's one request type.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub scenario: Source,
    /// Edits applied before validation, each `POINTER=VALUE` (see
    /// [`scenario::apply_set`]); `/repair_correlations=true` asks for the nearest valid
    /// correlations instead of a refusal.
    pub overrides: Vec<String>,
    /// Trials (default: the scenario's `trials`).
    pub trials: Option<u64>,
    /// Random seed (default: the scenario's `seed`).
    pub seed: Option<u64>,
    /// Worker threads (default: one per core). Results do not depend on it.
    pub threads: Option<usize>,
    /// The most memory the run may take, in bytes (default: half this machine's).
    pub max_memory: Option<u64>,
    /// Run only this shard of the trials.
    pub shard: Option<Shard>,
    /// Run until this precision is reached instead of a fixed number of trials.
    pub target: Option<Target>,
    /// Whether the report will also be rendered as a page with charts (HTML), which the
    /// memory guard counts.
    pub page: bool,
    /// Whether the report is to carry each partner's cash by year (`partners[].by_year`):
    /// the run then keeps the yearly savings of its first trials (at most 64 MiB). True
    /// unless set otherwise; the command line sets it false for a run whose only output
    /// is the printed summary, which does not show it.
    pub cash_by_year: bool,
    /// How the trial-level inputs are sampled (default plain; see [`crate::lhs`]).
    pub sampling: Sampling,
}

impl RunOptions {
    /// A run of `scenario` as the scenario itself asks.
    pub fn new(scenario: impl Into<Source>) -> RunOptions {
        RunOptions {
            scenario: scenario.into(),
            overrides: Vec::new(),
            trials: None,
            seed: None,
            threads: None,
            max_memory: None,
            shard: None,
            target: None,
            page: false,
            cash_by_year: true,
            sampling: Sampling::Plain,
        }
    }
}

/// A scenario read, overridden and validated.
pub struct Loaded {
    /// The scenario's JSON with overrides applied (shown in reports, carried by partial
    /// results).
    pub value: Value,
    pub scenario: Scenario,
    /// How messages about this scenario (and about edits of it) name it.
    pub origin: String,
    /// Where it came from (file and hash, overrides), for provenance.
    pub from: Origin,
    /// Values valid but almost never meant (also added to the notices).
    pub warnings: Vec<Warning>,
}

/// Reads a scenario, applies `overrides`, validates. A workbook's formula read as its
/// saved 0, a correlation matrix repaired at the scenario's request, and each value that
/// is valid but almost never meant (a rate typed as a whole percentage), is reported in
/// `notices`.
pub fn load(source: &Source, overrides: &[String], notices: &mut Vec<Notice>) -> Result<Loaded> {
    let (mut value, mut from, places) = provenance::read(source).map_err(|mut e| {
        // A workbook refused for mistakes of its own still tells what it warned of.
        if let Error::Scenario(s) = &mut e {
            notices.extend(
                s.take_warnings()
                    .into_iter()
                    .map(|m| Notice::Warning(m.into())),
            );
        }
        e
    })?;
    from.overrides = overrides.to_vec();
    let set = overrides
        .iter()
        .map(|spec| scenario::apply_set(&mut value, spec))
        .collect::<Result<Vec<String>, _>>()?;
    let origin = origin(source, overrides);
    let scenario = match &places {
        Some(places) => {
            // Before validating: a formula's saved 0 may be what validation then
            // refuses ("0 is out of range"), and the warning says why the cell holds it.
            // A value `--set` gave is the user's, even where it equals the saved 0.
            notices.extend(
                places
                    .zero_formulas(&value, &set)
                    .into_iter()
                    .map(|m| Notice::Warning(m.into())),
            );
            places.validate(&value, &origin)?
        }
        None => scenario::from_value(&value, &origin)?,
    };
    if let Some(note) = scenario
        .correlations
        .as_ref()
        .and_then(|c| c.repair_note.as_ref())
    {
        notices.push(Notice::Warning(note.clone().into()));
    }
    let held = scenario
        .correlations
        .as_ref()
        .map_or(&[][..], |c| &c.held[..]);
    notices.extend(super::analyse::held_note(held, ""));
    let warnings = plausibility::implausible(&value);
    notices.extend(
        warnings
            .iter()
            .map(|w| Notice::Warning(w.to_string().into())),
    );
    Ok(Loaded {
        value,
        scenario,
        origin,
        from,
        warnings,
    })
}

/// How a scenario is named in messages about it (and about edits of it).
fn origin(source: &Source, overrides: &[String]) -> String {
    if overrides.is_empty() {
        source.name()
    } else {
        format!("{} (with --set overrides)", source.name())
    }
}

/// A run ready to start.
pub struct Prepared {
    /// The scenario's JSON with overrides applied.
    pub value: Value,
    pub scenario: Scenario,
    /// How messages name the scenario.
    pub origin: String,
    /// Where the scenario came from, for provenance.
    pub from: Origin,
    /// Values valid but almost never meant, for the report.
    pub warnings: Vec<Warning>,
    pub plan: Plan,
    /// Trials in the whole run (all shards), or the most a run to a target may run.
    pub total_trials: u64,
    /// The trials this process runs: all of them, or one shard's.
    pub range: Range<u64>,
    pub seed: u64,
    pub precision: Precision,
    pub pool: rayon::ThreadPool,
    pub shard: Option<Shard>,
    pub target: Option<Target>,
    /// The most memory the run (and any analysis of it) may take, as asked.
    pub max_memory: Option<u64>,
    /// Whether the report will also be rendered as a page with charts.
    pub page: bool,
    /// Whether the run keeps the yearly savings for the cash by year.
    pub cash_by_year: bool,
}

/// Prepares the run `options` asks for. What the caller should tell the user on the way
/// (a repaired correlation matrix, a trial cap set by the memory guard) is added to
/// `notices` in order, even when a later step fails.
pub fn prepare(options: &RunOptions, notices: &mut Vec<Notice>) -> Result<Prepared> {
    if let Some(target) = &options.target {
        target.check(options.shard.is_some(), options.trials)?;
    }
    let Loaded {
        value,
        scenario,
        origin,
        from,
        warnings,
    } = load(&options.scenario, &options.overrides, notices)?;
    let mut plan = Plan::compile(&scenario);
    plan.sampling = options.sampling;
    let pool = thread_pool(options.threads)?;
    let threads = pool.current_num_threads();
    let (total_trials, range) = match &options.target {
        None => {
            let total = options.trials.unwrap_or(scenario.trials);
            if total == 0 {
                return Err(Error::request(message![
                    Setting::Trials,
                    " must be at least 1"
                ]));
            }
            let range = options.shard.map_or(0..total, |s| s.range(total));
            (total, range)
        }
        Some(target) => {
            let most = target::most_trials(target, &scenario, &plan, threads, options, notices)?;
            (most, 0..most)
        }
    };
    Ok(Prepared {
        seed: options.seed.unwrap_or(scenario.seed),
        precision: Precision::for_run(total_trials, &plan),
        value,
        scenario,
        origin,
        from,
        warnings,
        plan,
        total_trials,
        range,
        pool,
        shard: options.shard,
        target: options.target,
        max_memory: options.max_memory,
        page: options.page,
        cash_by_year: options.cash_by_year,
    })
}

/// The most worker threads a run may have: 1,024. Results do not depend on the number,
/// and no machine has more cores than that (the largest two-socket servers have 384
/// cores, 768 threads); each thread costs its stack and a copy of the trial's scratch
/// (for 10,000 partners about 1 MiB), so a mistyped `--threads 100000` would take
/// gigabytes before the first trial.
pub const MAX_THREADS: usize = 1024;

/// The run's worker threads: `threads` of them, or one per core.
fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    match threads {
        Some(0) => {
            return Err(Error::request(message![
                Setting::Threads,
                " must be at least 1"
            ]));
        }
        Some(n) if n > MAX_THREADS => {
            return Err(Error::request(message![
                Setting::Threads,
                format!(
                    " {n} is more than the {MAX_THREADS} threads a run may have (results \
                     do not depend on the number; one per core is fastest)"
                ),
            ]));
        }
        _ => {}
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0).min(MAX_THREADS))
        .build()
        .map_err(|e| Error::fault("cannot start worker threads", e))
}

impl Prepared {
    /// The scenario as run, with its origin.
    pub fn as_run(&self) -> AsRun {
        AsRun {
            origin: self.from.clone(),
            scenario: self.value.clone(),
        }
    }

    /// The provenance of a result of this run made now.
    pub fn provenance(&self) -> Provenance {
        provenance::now(vec![self.as_run()], self.plan.sampling)
    }

    /// Trials this process runs.
    pub fn trials(&self) -> usize {
        (self.range.end - self.range.start) as usize
    }
}
