//! The `consortium-sim` binary: parse the command line, call the library, map errors to
//! exit codes (0 ok, 2 bad input, 1 internal error).

mod cli;
mod progress;

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::Value;

use cli::{Cli, Command, RunArgs, SimArgs, TraceArgs};
use consortium_sim::engine::{self, Monitor, trace};
use consortium_sim::output::{self, OutputError};
use consortium_sim::plan::Plan;
use consortium_sim::report::{self, Report, RunInfo};
use consortium_sim::scenario::{self, Scenario, ScenarioError};

/// A mistake in what the user asked for (as opposed to a fault of the program).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadInput(String);

/// Shared with the signal handler: Ctrl-C or SIGTERM cancels the run in progress.
static MONITOR: Monitor = Monitor::new();

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A first signal stops the workers and writes nothing; a second ends the process.
    let handler = ctrlc::set_handler(|| {
        if MONITOR.cancel.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    if let Err(e) = handler {
        eprintln!(
            "warning: cannot catch Ctrl-C ({e}); an interrupted run may leave temporary files"
        );
    }
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.is::<engine::Interrupted>() => {
            eprintln!("interrupted: nothing was written");
            ExitCode::from(130)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            let bad_input = err
                .chain()
                .any(|e| e.is::<ScenarioError>() || e.is::<OutputError>() || e.is::<BadInput>());
            ExitCode::from(if bad_input { 2 } else { 1 })
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { file, set } => {
            let s = load(&file, &set.overrides)?;
            println!("ok\n{}", s.summary());
            Ok(())
        }
        Command::Init => {
            print!("{}", consortium_sim::TEMPLATE);
            Ok(())
        }
        Command::Trace(args) => trace_cmd(args),
    }
}

/// Reads a scenario file, applies `--set` overrides, validates.
fn load(path: &std::path::Path, overrides: &[String]) -> Result<Scenario> {
    Ok(load_value(path, overrides)?.1)
}

/// Like [`load`], also returning the scenario's JSON as overridden.
fn load_value(path: &std::path::Path, overrides: &[String]) -> Result<(Value, Scenario)> {
    let mut value = scenario::load::read_value(path)?;
    for spec in overrides {
        scenario::apply_set(&mut value, spec)?;
    }
    let origin = if overrides.is_empty() {
        path.display().to_string()
    } else {
        format!("{} (with --set overrides)", path.display())
    };
    let scenario = scenario::from_value(&value, &origin)?;
    Ok((value, scenario))
}

/// A validated scenario with the command line's trials and seed applied.
struct Prepared {
    /// The scenario's JSON with overrides applied (shown in reports).
    value: Value,
    scenario: Scenario,
    plan: Plan,
    trials: usize,
    seed: u64,
    quiet: bool,
    pool: rayon::ThreadPool,
}

fn prepare(sim: &SimArgs) -> Result<Prepared> {
    let (value, scenario) = load_value(&sim.scenario, &sim.set.overrides)?;
    let trials = sim.trials.unwrap_or(scenario.trials);
    if trials == 0 {
        bail!(BadInput("--trials must be at least 1".into()));
    }
    let trials =
        usize::try_from(trials).map_err(|_| BadInput(format!("--trials {trials} is too large")))?;
    let plan = Plan::compile(&scenario);
    let needed = (trials as u64).saturating_mul(engine::bytes_per_trial(&plan));
    let (limit, whose) = match sim.max_memory {
        Some(bytes) => (bytes, "set by --max-memory"),
        None => (memory_limit(), "half this machine's memory"),
    };
    if needed > limit {
        bail!(BadInput(format!(
            "{trials} trials of this scenario need about {} MiB, more than the {} MiB allowed \
             ({whose}); ask for fewer with --trials or the scenario's \"trials\", or raise \
             --max-memory",
            needed.div_ceil(1 << 20),
            limit >> 20
        )));
    }
    if sim.threads == Some(0) {
        bail!(BadInput("--threads must be at least 1".into()));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(sim.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    Ok(Prepared {
        quiet: sim.quiet,
        plan,
        seed: sim.seed.unwrap_or(scenario.seed),
        value,
        scenario,
        trials,
        pool,
    })
}

impl Prepared {
    /// Runs every trial and summarises them, timing both; stops early on Ctrl-C.
    fn run(&self) -> Result<(engine::Outcomes, Report)> {
        let start = Instant::now();
        MONITOR.done.store(0, Ordering::Relaxed);
        let outcomes = progress::while_running(&MONITOR, self.trials as u64, !self.quiet, || {
            self.pool
                .install(|| engine::run_monitored(&self.plan, self.seed, 0, self.trials, &MONITOR))
        })?;
        let mut report = self.pool.install(|| {
            Report::build(
                &self.scenario,
                self.seed,
                &outcomes,
                RunInfo::new(0, 0.0, 0),
            )
        });
        report.run = RunInfo::new(
            self.pool.current_num_threads(),
            start.elapsed().as_secs_f64(),
            self.trials,
        );
        interrupted()?;
        let bad = report::json::non_finite(&report);
        if !bad.is_empty() {
            bail!(
                "internal error: the report has non-finite figures at {}; please report this \
                 with the scenario",
                bad.join(", ")
            );
        }
        Ok((outcomes, report))
    }
}

/// Fails with [`engine::Interrupted`] once Ctrl-C or SIGTERM has been received.
fn interrupted() -> Result<()> {
    if MONITOR.is_cancelled() {
        bail!(engine::Interrupted);
    }
    Ok(())
}

/// Writes an output file unless the run has been interrupted meanwhile.
fn write_output(path: &std::path::Path, contents: &[u8]) -> Result<()> {
    interrupted()?;
    output::write_atomically(path, contents)?;
    Ok(())
}

fn run(args: RunArgs) -> Result<()> {
    let prepared = prepare(&args.sim)?;
    for path in [&args.out, &args.html].into_iter().flatten() {
        output::check_writable(path)?;
    }
    let (outcomes, report) = prepared.run()?;
    let currency = &prepared.scenario.currency;
    if let Some(path) = &args.html {
        let page = report::html::run_page(&report, &prepared.scenario, &prepared.value, &outcomes);
        write_output(path, page.as_bytes())?;
        println!("wrote {}", path.display());
    }
    match &args.out {
        Some(path) => {
            write_output(path, report::json::to_json(&report).as_bytes())?;
            println!(
                "wrote {} ({} trials, mean NPV {})",
                path.display(),
                report.trials,
                report::terminal::money(report.consortium.npv.mean, currency)
            );
        }
        None => print!("{}", report::terminal::render(&report, currency)),
    }
    Ok(())
}

fn trace_cmd(args: TraceArgs) -> Result<()> {
    let prepared = prepare(&args.sim)?;
    let (trial, why) = match args.trial {
        Some(k) if k >= prepared.trials as u64 => bail!(BadInput(format!(
            "--trial {k} is not a trial of this run: trials are numbered 0 to {}",
            prepared.trials - 1
        ))),
        Some(k) => (k, String::new()),
        None => {
            let (outcomes, _) = prepared.run()?;
            let k = worst_trial(&outcomes);
            (
                k,
                format!(
                    " (the 1st-percentile consortium NPV of {} trials, seed {})",
                    prepared.trials, prepared.seed
                ),
            )
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
fn worst_trial(outcomes: &engine::Outcomes) -> u64 {
    let mut order: Vec<usize> = (0..outcomes.trials).collect();
    order.sort_by(|&a, &b| {
        outcomes.summary[a]
            .npv
            .total_cmp(&outcomes.summary[b].npv)
            .then(a.cmp(&b))
    });
    let rank = (0.01 * (outcomes.trials - 1) as f64).round() as usize;
    outcomes.first_trial + order[rank] as u64
}

/// Half of this machine's memory (from /proc/meminfo), or 8 GiB where that cannot be read.
fn memory_limit() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        });
    total.map_or(8 << 30, |bytes| bytes / 2)
}
