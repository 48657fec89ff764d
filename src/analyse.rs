//! The analysis subcommands: `sweep`, `sensitivity` and `compare`.
//!
//! Each loads its scenario as `run` does (the same `--set`, `--trials`, `--seed`,
//! `--threads` and memory check), checks every output path before any run starts, runs
//! the library's analysis on the worker pool under a progress bar and Ctrl-C, then prints
//! a table and writes what was asked for, each file atomically.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use crate::cli::SimArgs;
use crate::commands::exported;
use crate::prepare::{self, Prepared, interrupted, origin};
use crate::{BadInput, MONITOR, progress};
use consortium_sim::analysis::AnalysisError;
use consortium_sim::analysis::compare::{self, Entrant};
use consortium_sim::analysis::crn::Crn;
use consortium_sim::analysis::sensitivity::Study;
use consortium_sim::analysis::sweep::{self, Param};
use consortium_sim::export::analysis::terminal;
use consortium_sim::export::{self, Format, Subject, csv, html, json};
use consortium_sim::output;

/// `sweep`: the scenario at each value of one or two parameters.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// A parameter to sweep: POINTER=START:STOP:STEPS (STEPS evenly spaced values, both
    /// ends included) or POINTER=V1,V2,... (each value JSON or text, as with --set).
    /// Give one for a line, two for a grid.
    #[arg(long = "param", value_name = "POINTER=RANGE|LIST", required = true)]
    pub params: Vec<String>,
    /// Write the sweep as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write one CSV row per point to this file (for spreadsheets).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write an HTML page with charts to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `sensitivity`: tornado, rank correlations and switching values.
#[derive(Debug, Args)]
pub struct SensitivityArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Find the switching value of this input (a JSON pointer; partners may be named).
    /// Repeatable. Default: the three inputs with the widest tornado bars.
    #[arg(long = "switch", value_name = "POINTER")]
    pub switch: Vec<String>,
    /// Also find the value at which P(loss) reaches this probability (e.g. 0.2).
    #[arg(long, value_name = "P")]
    pub target_prob_loss: Option<f64>,
    /// Write the analysis as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write an HTML page with tornado charts to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `compare`: scenarios side by side under common random numbers.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// More scenario files to compare with the first.
    #[arg(value_name = "MORE")]
    pub more: Vec<PathBuf>,
    /// A variant of the (single) scenario: NAME:POINTER=VALUE, more edits after ';'.
    /// Repeatable; the scenario as written is compared first, as "base".
    #[arg(long = "variant", value_name = "NAME:POINTER=VALUE[;...]")]
    pub variants: Vec<String>,
    /// Write the comparison as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write an HTML page with charts to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// An analysis error as the binary reports it: mistakes in the request are bad input
/// (exit 2), an interruption is an interruption (exit 130).
fn failed(e: AnalysisError) -> anyhow::Error {
    match e {
        AnalysisError::Spec { .. } => BadInput(e.to_string()).into(),
        AnalysisError::Scenario(e) => e.into(),
        AnalysisError::Interrupted(e) => e.into(),
    }
}

/// Checks, before anything runs, that every output path can be written.
fn check_outputs(paths: &[&Option<PathBuf>]) -> Result<()> {
    for path in paths.iter().copied().flatten() {
        output::check_writable(path)?;
    }
    Ok(())
}

/// Writes each requested output file atomically (unless the run has been interrupted
/// meanwhile), then prints the table and what was written. Files come first so that a
/// closed standard output (`| head`) cannot lose them.
fn publish(table: &str, subject: Subject, files: &[(Format, &Option<PathBuf>)]) -> Result<()> {
    let files: Vec<(Format, PathBuf)> = files
        .iter()
        .filter_map(|&(format, path)| Some((format, path.clone()?)))
        .collect();
    let mut wrote = Vec::new();
    export::write_all(&files, &subject, &MONITOR, |_, path| {
        wrote.push(format!("wrote {}\n", path.display()));
    })
    .map_err(exported)?;
    print!("{table}{}", wrote.concat());
    Ok(())
}

/// Runs `work` on the prepared pool with a progress bar over `runs` runs of the trials.
fn with_progress<T: Send>(
    prepared: &Prepared,
    runs: usize,
    work: impl FnOnce(&Crn) -> Result<T, AnalysisError> + Send,
) -> Result<T> {
    let crn = Crn {
        seed: prepared.seed,
        trials: prepared.total_trials as usize,
        monitor: &MONITOR,
    };
    MONITOR.done.store(0, std::sync::atomic::Ordering::Relaxed);
    let total = (runs as u64).saturating_mul(prepared.total_trials);
    let result = progress::while_running(&MONITOR, total, !prepared.quiet, || {
        prepared.pool.install(|| work(&crn))
    });
    let value = result.map_err(failed)?;
    interrupted()?;
    Ok(value)
}

/// `sweep`: every point validated first, then run, printed and written.
pub fn sweep(args: SweepArgs) -> Result<()> {
    if args.params.len() > 2 {
        bail!(BadInput(format!(
            "--param was given {} times: a sweep has one parameter (a line) or two (a grid)",
            args.params.len()
        )));
    }
    let params = args
        .params
        .iter()
        .map(|p| Param::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(failed)?;
    check_outputs(&[&args.out, &args.csv, &args.html])?;
    let prepared = prepare::prepare(&args.sim, None)?;
    let origin = origin(&args.sim.scenario, &args.sim.set.all());
    // Every point is validated before the first one runs.
    let points = sweep::scenarios(&prepared.value, &origin, &params).map_err(failed)?;
    let result = with_progress(&prepared, points.len(), |crn| {
        sweep::run(&prepared.value, &origin, &params, crn)
    })?;
    let currency = &prepared.scenario.currency;
    publish(
        &terminal::sweep(&result, currency),
        Subject::Sweep(&result, currency),
        &[
            (json::FORMAT, &args.out),
            (csv::FORMAT, &args.csv),
            (html::FORMAT, &args.html),
        ],
    )
}

/// `sensitivity`: `--switch` pointers resolved before the first run.
pub fn sensitivity(args: SensitivityArgs) -> Result<()> {
    check_outputs(&[&args.out, &args.html])?;
    let prepared = prepare::prepare(&args.sim, None)?;
    let origin = origin(&args.sim.scenario, &args.sim.set.all());
    let study = Study::new(
        &prepared.value,
        &origin,
        &args.switch,
        args.target_prob_loss,
    )
    .map_err(failed)?;
    let result = with_progress(&prepared, study.runs_at_most(), |crn| study.run(crn))?;
    let currency = &prepared.scenario.currency;
    publish(
        &terminal::sensitivity(&result, currency),
        Subject::Sensitivity(&result, currency),
        &[(json::FORMAT, &args.out), (html::FORMAT, &args.html)],
    )
}

/// `compare`: several files, or one file and its `--variant`s.
pub fn compare(args: CompareArgs) -> Result<()> {
    match (args.more.is_empty(), args.variants.is_empty()) {
        (true, true) => bail!(BadInput(
            "compare needs two or more scenario files, or one file and --variant NAME:POINTER=VALUE"
                .into()
        )),
        (false, false) => bail!(BadInput(
            "--variant makes variants of one scenario file; give either several files or \
             one file with --variant"
                .into()
        )),
        _ => {}
    }
    check_outputs(&[&args.out, &args.html])?;
    let prepared = prepare::prepare(&args.sim, None)?;
    let overrides = &args.sim.set.all();
    let first = &args.sim.scenario;
    let mut entrants = Vec::new();
    if args.more.is_empty() {
        let origin = origin(first, overrides);
        entrants.push(Entrant {
            name: "base".into(),
            source: origin.clone(),
            scenario: prepared.scenario.clone(),
        });
        for spec in &args.variants {
            entrants.push(compare::variant(spec, &prepared.value, &origin).map_err(failed)?);
        }
    } else {
        let files: Vec<&PathBuf> = std::iter::once(first).chain(&args.more).collect();
        let names = column_names(&files);
        for (path, name) in files.iter().zip(names) {
            let scenario = if *path == first {
                prepared.scenario.clone()
            } else {
                prepare::load(path, overrides)?.1
            };
            entrants.push(Entrant {
                name,
                source: origin(path, overrides),
                scenario,
            });
        }
    }
    let result = with_progress(&prepared, entrants.len(), |crn| {
        compare::run(&entrants, crn)
    })?;
    let currency = &prepared.scenario.currency;
    publish(
        &terminal::compare(&result, currency),
        Subject::Compare(&result, currency),
        &[(json::FORMAT, &args.out), (html::FORMAT, &args.html)],
    )
}

/// Column names for files: their stems, or their paths where two stems are the same.
fn column_names(files: &[&PathBuf]) -> Vec<String> {
    let stem = |p: &PathBuf| {
        p.file_stem()
            .map_or_else(|| p.display().to_string(), |s| s.to_string_lossy().into())
    };
    files
        .iter()
        .map(|p| {
            let s = stem(p);
            if files.iter().filter(|q| stem(q) == s).count() > 1 {
                p.display().to_string()
            } else {
                s
            }
        })
        .collect()
}
