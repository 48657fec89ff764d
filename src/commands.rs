//! The subcommands that simulate: `run` (whole, one shard, or until a precision target
//! is met), `trace` and `merge`; `validate`; and `schema` and `completions`, which print.
//! Each calls the run API and prints; the notices the API returns go to stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use crate::cli::{MergeArgs, RunArgs, TraceArgs, flag};
use crate::progress;
use consortium_sim::engine::{Interrupted, Monitor, Outcomes};
use consortium_sim::output;
use consortium_sim::report::{self, Convergence, Report};
use consortium_sim::run::{
    self, Error, Notice, Prepared, Result, RunOptions, Source, Target, interrupted,
};
use consortium_sim::scenario::Scenario;

/// Prepares the run `options` asks for, printing its notices as `run::prepare` gives
/// them (also when a later step fails).
pub fn prepare(options: &RunOptions) -> Result<Prepared> {
    let mut notices = Vec::new();
    let prepared = run::prepare(options, &mut notices);
    notify(&notices);
    prepared
}

/// Prints warnings and notes on stderr, settings named by their flags.
pub fn notify(notices: &[Notice]) {
    for notice in notices {
        match notice {
            Notice::Warning(m) => eprintln!("warning: {}", m.render(flag)),
            Notice::Note(m) => eprintln!("note: {}", m.render(flag)),
        }
    }
}

/// `validate`: the scenario checked, and summarised.
pub fn validate(file: PathBuf, overrides: &[String]) -> Result<()> {
    let mut notices = Vec::new();
    let loaded = run::load(&Source::Path(file), overrides, &mut notices);
    notify(&notices);
    println!("ok\n{}", loaded?.scenario.summary());
    Ok(())
}

pub fn run(args: RunArgs, monitor: &Monitor) -> Result<()> {
    let target = args.target();
    if let Some(t) = &target {
        t.check(args.shard.is_some(), args.sim.trials)?;
    }
    let Some(spec) = &args.shard else {
        return run_whole(&args, target, monitor);
    };
    let shard = args.shard(spec)?;
    let Some(partial) = &args.partial else {
        return Err(Error::request(
            "--shard needs --partial FILE: a shard writes a partial result, which `consortium-sim merge` turns into the report",
        ));
    };
    if args.output.paths().next().is_some() {
        return Err(Error::request(
            "--out, --html and --trials-csv go with `consortium-sim merge`, not with --shard: a shard writes only its partial result",
        ));
    }
    output::check_writable(partial)?;
    let mut options = args.sim.options();
    options.shard = Some(shard);
    let prepared = prepare(&options)?;
    let simulation =
        progress::while_running(monitor, !args.sim.quiet, || prepared.simulate(monitor))?;
    prepared.write_partial(partial, &simulation, monitor)?;
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

fn run_whole(args: &RunArgs, target: Option<Target>, monitor: &Monitor) -> Result<()> {
    if args.partial.is_some() {
        return Err(Error::request("--partial goes with --shard"));
    }
    for path in args.output.paths() {
        output::check_writable(path)?;
    }
    let mut options = args.sim.options();
    options.target = target;
    let prepared = prepare(&options)?;
    let mut simulation =
        progress::while_running(monitor, !args.sim.quiet, || prepared.simulate(monitor))?;
    if let Some(path) = &args.output.trials_csv {
        write_trials_csv(path, &prepared.scenario, &simulation.outcomes, monitor)?;
    }
    let report = prepared.report(&mut simulation, monitor)?;
    publish(
        &report,
        &prepared.scenario,
        &prepared.value,
        &simulation.outcomes,
        args.output.out.as_deref(),
        args.output.html.as_deref(),
        monitor,
    )
}

pub fn trace(args: TraceArgs, monitor: &Monitor) -> Result<()> {
    let prepared = prepare(&args.sim.options())?;
    let (trial, why) = match args.trial {
        Some(k) => (k, String::new()),
        None => {
            let simulation =
                progress::while_running(monitor, !args.sim.quiet, || prepared.simulate(monitor))?;
            let why = format!(
                " (the 1st-percentile consortium NPV of {} trials, seed {})",
                prepared.total_trials, prepared.seed
            );
            (run::worst_trial(&simulation.outcomes), why)
        }
    };
    let replay = prepared.replay(trial)?;
    print!(
        "{}",
        report::story::render(&prepared.scenario, &replay, &why)
    );
    Ok(())
}

pub fn merge(args: MergeArgs, monitor: &Monitor) -> Result<()> {
    for path in args.output.paths() {
        output::check_writable(path)?;
    }
    let start = Instant::now();
    let run::Merged {
        mut merged,
        scenario,
    } = run::merge(&args.parts)?;
    if let Some(path) = &args.output.trials_csv {
        write_trials_csv(path, &scenario, &merged.outcomes, monitor)?;
    }
    let elapsed = merged.elapsed_seconds + start.elapsed().as_secs_f64();
    let report = run::build_report(
        &scenario,
        merged.seed,
        &mut merged.outcomes,
        merged.threads,
        elapsed,
        monitor,
    )?;
    publish(
        &report,
        &scenario,
        &merged.scenario,
        &merged.outcomes,
        args.output.out.as_deref(),
        args.output.html.as_deref(),
        monitor,
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
            Err(Error::fault("cannot write to standard output", e))
        }
        _ => Ok(()),
    }
}

/// The line that says how a run with a target stopped.
fn convergence_line(report: &Report, c: &Convergence, currency: &str) -> String {
    let mut achieved = Vec::new();
    if let Some(target) = c.target_se {
        achieved.push(format!(
            "standard error {} (target {})",
            report::terminal::money(report.consortium.npv.se, currency),
            report::terminal::money(target, currency)
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
    let trials = report::terminal::thousands(c.trials_used);
    let max = report::terminal::thousands(c.max_trials);
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

/// Writes the report where asked, or prints the terminal summary.
fn publish(
    report: &Report,
    scenario: &Scenario,
    value: &Value,
    outcomes: &Outcomes,
    out: Option<&Path>,
    html: Option<&Path>,
    monitor: &Monitor,
) -> Result<()> {
    let currency = &scenario.currency;
    if let Some(path) = html {
        let page = report::html::run_page(report, scenario, value, outcomes);
        write_output(path, page.as_bytes(), monitor)?;
        println!("wrote {}", path.display());
    }
    match out {
        Some(path) => {
            write_output(path, report::json::to_json(report).as_bytes(), monitor)?;
            println!(
                "wrote {} ({} trials, mean NPV {})",
                path.display(),
                report.trials,
                report::terminal::money(report.consortium.npv.mean, currency)
            );
        }
        None => print!("{}", report::terminal::render(report, currency)),
    }
    if let Some(c) = &report.run.convergence {
        print!("{}", convergence_line(report, c, currency));
    }
    Ok(())
}

/// Writes the trial table, streamed from the outcome columns. It must come before the
/// report is built, which rearranges the partner rows in place. An interrupted write leaves
/// nothing behind (the temporary file is removed).
fn write_trials_csv(
    path: &Path,
    scenario: &Scenario,
    outcomes: &Outcomes,
    monitor: &Monitor,
) -> Result<()> {
    interrupted(monitor)?;
    let written = output::write_atomically_with(path, |w| {
        report::csv::write_trials(w, scenario, outcomes)?;
        if monitor.is_cancelled() {
            return Err(std::io::Error::other("interrupted"));
        }
        Ok(())
    });
    match written {
        Err(_) if monitor.is_cancelled() => return Err(Interrupted.into()),
        result => result?,
    }
    println!("wrote {}", path.display());
    Ok(())
}

/// Writes an output file unless the run has been interrupted meanwhile.
fn write_output(path: &Path, contents: &[u8], monitor: &Monitor) -> Result<()> {
    interrupted(monitor)?;
    output::write_atomically(path, contents)?;
    Ok(())
}
