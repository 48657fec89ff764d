//! The subcommands that simulate: `run` (whole or one shard), `trace` and `merge`; and
//! `schema` and `completions`, which print.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::Value;

use crate::cli::{MergeArgs, RunArgs, TraceArgs};
use crate::prepare::{self, interrupted};
use crate::{BadInput, MONITOR};
use consortium_sim::engine::{Interrupted, Outcomes, trace};
use consortium_sim::output;
use consortium_sim::report::{self, Report, RunInfo};
use consortium_sim::scenario::{self, Scenario};
use consortium_sim::shard::{self, PartialHeader, Shard};

pub fn run(args: RunArgs) -> Result<()> {
    let Some(spec) = &args.shard else {
        return run_whole(&args);
    };
    let shard = if spec == "auto" {
        Shard::from_env(args.shards, |name| std::env::var(name).ok())?
    } else {
        Shard::parse(spec)?
    };
    let Some(partial) = &args.partial else {
        bail!(BadInput("--shard needs --partial FILE: a shard writes a partial result, which `consortium-sim merge` turns into the report".into()));
    };
    if args.out.is_some() || args.html.is_some() || args.trials_csv.is_some() {
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

fn run_whole(args: &RunArgs) -> Result<()> {
    if args.partial.is_some() {
        bail!(BadInput("--partial goes with --shard".into()));
    }
    for path in [&args.out, &args.html, &args.trials_csv]
        .into_iter()
        .flatten()
    {
        output::check_writable(path)?;
    }
    let prepared = prepare::prepare(&args.sim, None)?;
    let (mut outcomes, elapsed) = prepared.simulate()?;
    if let Some(path) = &args.trials_csv {
        write_trials_csv(path, &prepared.scenario, &outcomes)?;
    }
    let threads = prepared.pool.current_num_threads();
    let report = prepared.pool.install(|| {
        summarise(
            &prepared.scenario,
            prepared.seed,
            &mut outcomes,
            threads,
            elapsed,
        )
    })?;
    publish(
        &report,
        &prepared.scenario,
        &prepared.value,
        &outcomes,
        args.out.as_deref(),
        args.html.as_deref(),
    )
}

/// Builds the report, timing the summary with the simulation, and refuses to go on with
/// a report that has a non-finite figure (a bug, never to be written).
fn summarise(
    scenario: &Scenario,
    seed: u64,
    outcomes: &mut Outcomes,
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
    let bad = report::json::non_finite(&report);
    if !bad.is_empty() {
        bail!(
            "internal error: the report has non-finite figures at {}; please report this with \
             the scenario",
            bad.join(", ")
        );
    }
    Ok(report)
}

/// Writes the report where asked, or prints the terminal summary.
fn publish(
    report: &Report,
    scenario: &Scenario,
    value: &Value,
    outcomes: &Outcomes,
    out: Option<&Path>,
    html: Option<&Path>,
) -> Result<()> {
    let currency = &scenario.currency;
    if let Some(path) = html {
        let page = report::html::run_page(report, scenario, value, outcomes);
        write_output(path, page.as_bytes())?;
        println!("wrote {}", path.display());
    }
    match out {
        Some(path) => {
            write_output(path, report::json::to_json(report).as_bytes())?;
            println!(
                "wrote {} ({} trials, mean NPV {})",
                path.display(),
                report.trials,
                report::terminal::money(report.consortium.npv.mean, currency)
            );
        }
        None => print!("{}", report::terminal::render(report, currency)),
    }
    Ok(())
}

/// Writes the trial table, streamed from the outcome columns. It must come before the
/// report is built, which sorts the partner rows in place. An interrupted write leaves
/// nothing behind (the temporary file is removed).
fn write_trials_csv(path: &Path, scenario: &Scenario, outcomes: &Outcomes) -> Result<()> {
    interrupted()?;
    let written = output::write_atomically_with(path, |w| {
        report::csv::write_trials(w, scenario, outcomes)?;
        if MONITOR.is_cancelled() {
            return Err(std::io::Error::other("interrupted"));
        }
        Ok(())
    });
    match written {
        Err(_) if MONITOR.is_cancelled() => bail!(Interrupted),
        result => result?,
    }
    println!("wrote {}", path.display());
    Ok(())
}

/// Writes an output file unless the run has been interrupted meanwhile.
fn write_output(path: &Path, contents: &[u8]) -> Result<()> {
    interrupted()?;
    output::write_atomically(path, contents)?;
    Ok(())
}

pub fn merge(args: MergeArgs) -> Result<()> {
    for path in [&args.out, &args.html, &args.trials_csv]
        .into_iter()
        .flatten()
    {
        output::check_writable(path)?;
    }
    let start = Instant::now();
    let parts = args
        .parts
        .iter()
        .map(|p| shard::read_partial(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut merged = shard::merge(parts)?;
    let scenario = scenario::from_value(&merged.scenario, "the partial results' scenario")?;
    if let Some(path) = &args.trials_csv {
        write_trials_csv(path, &scenario, &merged.outcomes)?;
    }
    let elapsed = merged.elapsed_seconds + start.elapsed().as_secs_f64();
    let report = summarise(
        &scenario,
        merged.seed,
        &mut merged.outcomes,
        merged.threads,
        elapsed,
    )?;
    publish(
        &report,
        &scenario,
        &merged.scenario,
        &merged.outcomes,
        args.out.as_deref(),
        args.html.as_deref(),
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
        report::story::render(&prepared.scenario, &replay, &why)
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
