//! The subcommands that simulate: `run` (whole, one shard, or until a precision target
//! is met), `trace` and `merge`; and `schema` and `completions`, which print.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::Value;

use crate::cli::{MergeArgs, OutputArgs, RunArgs, TraceArgs};
use crate::prepare::{self, interrupted};
use crate::{BadInput, MONITOR};
use consortium_sim::engine::{Outcomes, trace};
use consortium_sim::export::{self, ExportError, Format, RunResult, Subject, format};
use consortium_sim::output;
use consortium_sim::scenario::{self, Scenario};
use consortium_sim::shard::{self, PartialHeader, Shard};
use consortium_sim::stats;
use consortium_sim::summary::{self, Convergence, Report, RunInfo};

pub fn run(args: RunArgs) -> Result<()> {
    let target = Target::of(&args)?;
    let Some(spec) = &args.shard else {
        return run_whole(&args, target);
    };
    let shard = if spec == "auto" {
        Shard::from_env(args.shards, |name| std::env::var(name).ok())?
    } else {
        Shard::parse(spec)?
    };
    let Some(partial) = &args.partial else {
        bail!(BadInput("--shard needs --partial FILE: a shard writes a partial result, which `consortium-sim merge` turns into the report".into()));
    };
    if args.output.paths().next().is_some() {
        bail!(BadInput("--out, --html and --trials-csv go with `consortium-sim merge`, not with --shard: a shard writes only its partial result".into()));
    }
    output::check_writable(partial)?;
    let prepared = prepare::prepare(&args.sim, Some(&|total| shard.range(total)))?;
    let (outcomes, elapsed) = prepared.simulate()?;
    let header = PartialHeader {
        format_version: shard::FORMAT_VERSION,
        engine_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_hash: shard::scenario_hash(&prepared.value),
        scenario: prepared.value.clone(),
        seed: prepared.seed,
        total_trials: prepared.total_trials,
        shard_index: shard.index,
        shard_count: shard.count,
        first_trial: prepared.range.start,
        trials: prepared.trials() as u64,
        partners: prepared.plan.partners,
        horizon: prepared.plan.horizon,
        precision: match prepared.precision {
            consortium_sim::engine::Precision::Double => "double".into(),
            consortium_sim::engine::Precision::Single => "single".into(),
        },
        threads: prepared.pool.current_num_threads(),
        elapsed_seconds: elapsed,
    };
    interrupted()?;
    shard::write_partial(partial, &header, &outcomes)?;
    println!(
        "wrote {}: shard {} of {}, trials {}..{} of {}",
        partial.display(),
        shard.index,
        shard.count,
        prepared.range.start,
        prepared.range.end,
        prepared.total_trials
    );
    Ok(())
}

fn run_whole(args: &RunArgs, target: Option<Target>) -> Result<()> {
    if args.partial.is_some() {
        bail!(BadInput("--partial goes with --shard".into()));
    }
    for path in args.output.paths() {
        output::check_writable(path)?;
    }
    let (prepared, (outcomes, elapsed, reached)) = match &target {
        None => {
            let prepared = prepare::prepare(&args.sim, None)?;
            let (outcomes, elapsed) = prepared.simulate()?;
            (prepared, (outcomes, elapsed, true))
        }
        Some(t) => {
            let prepared = prepare::prepare_converging(&args.sim, t.max_trials)?;
            let result = prepared.simulate_until(|npv| t.met(npv))?;
            (prepared, result)
        }
    };
    let threads = prepared.pool.current_num_threads();
    let mut report = prepared.pool.install(|| {
        summarise(
            &prepared.scenario,
            prepared.seed,
            &outcomes,
            threads,
            elapsed,
        )
    })?;
    report.run.convergence = target.map(|t| Convergence {
        trials_used: outcomes.trials as u64,
        max_trials: prepared.total_trials,
        target_se: t.se,
        target_prob_ci: t.prob_ci,
        target_reached: reached,
    });
    publish(
        &report,
        &prepared.scenario,
        &prepared.value,
        &outcomes,
        &args.output,
    )
}

/// What `--target-se` and `--target-prob-ci` ask of a run, with its `--max-trials`.
struct Target {
    se: Option<f64>,
    prob_ci: Option<f64>,
    max_trials: Option<u64>,
}

impl Target {
    /// The run's target, if it has one, refusing what cannot go with a target.
    fn of(args: &RunArgs) -> Result<Option<Target>> {
        let bad = |message: &str| Err(BadInput(message.into()).into());
        if args.target_se.is_none() && args.target_prob_ci.is_none() {
            if args.max_trials.is_some() {
                return bad("--max-trials goes with --target-se or --target-prob-ci");
            }
            return Ok(None);
        }
        if args.shard.is_some() {
            return bad(
                "--target-se and --target-prob-ci cannot be used with --shard: the run stops \
                 when the trials so far are enough, which one shard cannot know; run with the \
                 target in one process, or shard a run of a fixed --trials",
            );
        }
        if args.sim.trials.is_some() {
            return bad(
                "--trials cannot be used with --target-se or --target-prob-ci: the target \
                 decides how many trials run (cap them with --max-trials)",
            );
        }
        if args.target_se.is_some_and(|x| !(x > 0.0 && x.is_finite())) {
            return bad(
                "--target-se must be a positive amount in the scenario's currency, such as 5000",
            );
        }
        if args.target_prob_ci.is_some_and(|w| !(w > 0.0 && w < 0.5)) {
            return bad(
                "--target-prob-ci must be a probability above 0 and below 0.5: the half-width \
                 of P(loss)'s 95% interval, so 0.005 is half a percentage point",
            );
        }
        Ok(Some(Target {
            se: args.target_se,
            prob_ci: args.target_prob_ci,
            max_trials: args.max_trials,
        }))
    }

    /// Whether the consortium NPVs so far meet every target, judged on the figures the
    /// report will give: its standard error, and half the width of its P(loss) interval.
    fn met(&self, npv: &[f64]) -> bool {
        self.se.is_none_or(|target| standard_error(npv) <= target)
            && self
                .prob_ci
                .is_none_or(|target| loss_half_width(npv) <= target)
    }
}

/// The standard error of the mean, computed as the report computes it.
fn standard_error(npv: &[f64]) -> f64 {
    stats::sd(npv, stats::mean(npv)) / (npv.len() as f64).sqrt()
}

/// Half the width of the Wilson 95 % interval of P(NPV < 0), as the report gives it.
fn loss_half_width(npv: &[f64]) -> f64 {
    let negative = npv.iter().filter(|&&v| v < 0.0).count() as u64;
    let [low, high] = stats::wilson(negative, npv.len() as u64);
    (high - low) / 2.0
}

/// The line that says how a run with a target stopped.
fn convergence_line(report: &Report, c: &Convergence, currency: &str) -> String {
    let mut achieved = Vec::new();
    if let Some(target) = c.target_se {
        achieved.push(format!(
            "standard error {} (target {})",
            format::money(report.consortium.npv.se, currency),
            format::money(target, currency)
        ));
    }
    if let Some(target) = c.target_prob_ci {
        let [low, high] = report.consortium.prob_npv_negative.ci95;
        achieved.push(format!(
            "P(loss) 95% CI half-width {:.2}% (target {:.2}%)",
            100.0 * (high - low) / 2.0,
            100.0 * target
        ));
    }
    let trials = format::thousands(c.trials_used);
    let max = format::thousands(c.max_trials);
    if c.target_reached {
        format!(
            "Target met after {trials} trials (at most {max}): {}\n",
            achieved.join("; ")
        )
    } else {
        format!(
            "Target NOT met: stopped at --max-trials, {max} trials: {}\n",
            achieved.join("; ")
        )
    }
}

/// Builds the report, timing the summary with the simulation, and refuses to go on with
/// a report that has a non-finite figure (a bug, never to be written).
fn summarise(
    scenario: &Scenario,
    seed: u64,
    outcomes: &Outcomes,
    threads: usize,
    elapsed: f64,
) -> Result<Report> {
    let start = Instant::now();
    let mut report = Report::build(scenario, seed, outcomes, RunInfo::new(0, 0.0, 0));
    report.run = RunInfo::new(
        threads,
        elapsed + start.elapsed().as_secs_f64(),
        outcomes.trials,
    );
    interrupted()?;
    let bad = summary::non_finite(&report);
    if !bad.is_empty() {
        bail!(
            "internal error: the report has non-finite figures at {}; please report this with \
             the scenario",
            bad.join(", ")
        );
    }
    Ok(report)
}

/// Writes the files asked for (the trial table, the page, the JSON report, in that order)
/// or prints the terminal summary instead of the JSON.
fn publish(
    report: &Report,
    scenario: &Scenario,
    value: &Value,
    outcomes: &Outcomes,
    output: &OutputArgs,
) -> Result<()> {
    let currency = &scenario.currency;
    let files: Vec<(Format, PathBuf)> = [
        (export::csv::FORMAT, &output.trials_csv),
        (export::html::FORMAT, &output.html),
        (export::json::FORMAT, &output.out),
    ]
    .into_iter()
    .filter_map(|(format, path)| Some((format, path.clone()?)))
    .collect();
    let run = Subject::Run(RunResult {
        report,
        scenario,
        value,
        outcomes,
    });
    export::write_all(&files, &run, &MONITOR, |format, path| {
        if format == export::json::FORMAT {
            println!(
                "wrote {} ({} trials, mean NPV {})",
                path.display(),
                report.trials,
                format::money(report.consortium.npv.mean, currency)
            );
        } else {
            println!("wrote {}", path.display());
        }
    })
    .map_err(exported)?;
    if output.out.is_none() {
        print!("{}", export::terminal::render(report, currency));
    }
    if let Some(c) = &report.run.convergence {
        print!("{}", convergence_line(report, c, currency));
    }
    Ok(())
}

/// An export error as the binary reports it: an unwritable path is bad input (exit 2), an
/// interruption is an interruption (exit 130).
pub fn exported(e: ExportError) -> anyhow::Error {
    match e {
        ExportError::Output(e) => e.into(),
        ExportError::Interrupted(e) => e.into(),
        e @ ExportError::Unsupported(_) => e.into(),
    }
}

pub fn merge(args: MergeArgs) -> Result<()> {
    for path in args.output.paths() {
        output::check_writable(path)?;
    }
    let start = Instant::now();
    let parts = args
        .parts
        .iter()
        .map(|p| shard::read_partial(p))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = shard::merge(parts)?;
    let scenario = scenario::from_value(&merged.scenario, "the partial results' scenario")?;
    let elapsed = merged.elapsed_seconds + start.elapsed().as_secs_f64();
    let report = summarise(
        &scenario,
        merged.seed,
        &merged.outcomes,
        merged.threads,
        elapsed,
    )?;
    publish(
        &report,
        &scenario,
        &merged.scenario,
        &merged.outcomes,
        &args.output,
    )
}

/// Prints the JSON Schema of the scenario format.
pub fn schema() -> Result<()> {
    print_all(consortium_sim::scenario::schema::to_json().as_bytes())
}

/// Prints the completion script of `shell` for the whole command line.
pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "consortium-sim", &mut script);
    print_all(&script)
}

/// Writes `bytes` to stdout; a reader that stops early (`| head`) is not an error.
fn print_all(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write to standard output"))
        }
        _ => Ok(()),
    }
}

pub fn trace(args: TraceArgs) -> Result<()> {
    let prepared = prepare::prepare(&args.sim, None)?;
    let total = prepared.total_trials;
    let (trial, why) = match args.trial {
        Some(k) if k >= total => bail!(BadInput(format!(
            "--trial {k} is not a trial of this run: trials are numbered 0 to {}",
            total - 1
        ))),
        Some(k) => (k, String::new()),
        None => {
            let (outcomes, _) = prepared.simulate()?;
            let why = format!(
                " (the 1st-percentile consortium NPV of {total} trials, seed {})",
                prepared.seed
            );
            (worst_trial(&outcomes), why)
        }
    };
    let replay = trace::replay(&prepared.plan, prepared.seed, trial);
    print!(
        "{}",
        export::story::render(&prepared.scenario, &replay, &why)
    );
    Ok(())
}

/// The trial at the 1st percentile of consortium NPV: rank round(0.01 (n - 1)) in the
/// order of (NPV, trial index).
fn worst_trial(outcomes: &Outcomes) -> u64 {
    let mut order: Vec<usize> = (0..outcomes.trials).collect();
    order.sort_by(|&a, &b| outcomes.npv[a].total_cmp(&outcomes.npv[b]).then(a.cmp(&b)));
    let rank = (0.01 * (outcomes.trials - 1) as f64).round() as usize;
    outcomes.first_trial + order[rank] as u64
}
