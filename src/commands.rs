//! The subcommands that simulate: `run` (whole, one shard, or until a precision target
//! is met), `trace` and `merge`; `validate`; and `schema` and `completions`, which print.
//! Each calls the run API and prints; the notices the API returns go to stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use crate::cli::{MergeArgs, OutputArgs, RunArgs, TraceArgs, flag};
use crate::progress;
use consortium_sim::engine::{Monitor, Outcomes};
use consortium_sim::export::format::printable;
use consortium_sim::export::{self, FileType, Format, Kind, RunResult, Subject, format};
use consortium_sim::output;
use consortium_sim::run::{self, Error, Notice, Prepared, Result, RunOptions, Source, Target};
use consortium_sim::scenario::Scenario;
use consortium_sim::scenario::workbook;
use consortium_sim::summary::{Convergence, Report};

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
        let (kind, message) = notice.parts();
        eprintln!("{kind}: {}", printable(&message.render(flag)));
    }
}

/// `validate`: the scenario checked, and summarised.
pub fn validate(file: PathBuf, overrides: &[String]) -> Result<()> {
    let mut notices = Vec::new();
    let loaded = run::load(&Source::Path(file), overrides, &mut notices);
    notify(&notices);
    let loaded = loaded?;
    println!("ok\n{}", printable(&loaded.scenario.summary()));
    if !loaded.warnings.is_empty() {
        let n = loaded.warnings.len();
        let plural = if n == 1 { "value" } else { "values" };
        println!("\n{n} {plural} probably meant as a fraction:");
        for w in &loaded.warnings {
            println!("  {}", printable(&w.to_string()));
        }
    }
    Ok(())
}

/// `run`: the report of a whole run, or one shard's partial result. `Ok(false)` when a
/// precision target was not met (or could not be judged): the report is written all
/// the same, and the binary exits with its own code.
pub fn run(args: RunArgs, monitor: &Monitor) -> Result<bool> {
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
    if args.output.paths().next().is_some() || args.output.by_year {
        return Err(Error::request(
            "--out, --html, --xlsx, --trials-csv, --cashflow-csv and --by-year go with `consortium-sim merge`, not with --shard: a shard writes only its partial result",
        ));
    }
    check_outputs(
        &scenario_input(&args.sim.scenario),
        &[("--partial", PARTIAL_FILE, &args.partial)],
        &[],
        Kind::Run,
    )?;
    let mut options = args.sim.options();
    options.shard = Some(shard);
    // Its partial carries the yearly savings for the merged report's cash by year.
    options.cash_by_year = true;
    let prepared = prepare(&options)?;
    let simulation =
        progress::while_running(monitor, !args.sim.quiet, || prepared.simulate(monitor))?;
    prepared.write_partial(partial, &simulation, monitor)?;
    say(
        output::writes_stdout(partial),
        &format!(
            "wrote {}: shard {} of {}, trials {}..{} of {}\n",
            shown(partial),
            shard.index,
            shard.count,
            prepared.range.start,
            prepared.range.end,
            prepared.total_trials
        ),
    );
    Ok(true)
}

fn run_whole(args: &RunArgs, target: Option<Target>, monitor: &Monitor) -> Result<bool> {
    if args.partial.is_some() {
        return Err(Error::request("--partial goes with --shard"));
    }
    check_run_outputs(&scenario_input(&args.sim.scenario), &args.output)?;
    let mut options = args.sim.options();
    options.target = target;
    options.page = args.output.page();
    // The printed summary shows no cash by year: a run with no other output keeps none.
    options.cash_by_year = args.output.by_year || args.output.paths().next().is_some();
    let prepared = prepare(&options)?;
    let simulation =
        progress::while_running(monitor, !args.sim.quiet, || prepared.simulate(monitor))?;
    let report = prepared.report(&simulation, monitor)?;
    publish(
        &report,
        &prepared.scenario,
        &prepared.value,
        &simulation.outcomes,
        &args.output,
        monitor,
    )?;
    Ok(simulation.target_reached)
}

pub fn trace(args: TraceArgs, monitor: &Monitor) -> Result<()> {
    let scenario_file = [("the scenario".to_string(), args.sim.scenario.as_path())];
    check_outputs(
        &scenario_file,
        &[("--html", export::html::FORMAT.file_type(), &args.html)],
        &[],
        export::Kind::Run,
    )?;
    let prepared = prepare(&args.sim.options())?;
    let pick = match (&args.worst_for, args.percentile, args.median) {
        (Some(who), ..) => run::Pick {
            percentile: 1.0,
            partner: Some(partner_named(&prepared.scenario, who)?),
        },
        (None, Some(p), _) => run::Pick {
            percentile: p,
            partner: None,
        },
        (None, None, true) => run::Pick {
            percentile: 50.0,
            partner: None,
        },
        (None, None, false) => run::Pick::CONSORTIUM_WORST,
    };
    let (trial, why) = match args.trial {
        Some(k) => (k, export::story::chosen(prepared.plan.sampling)),
        None => {
            let picked =
                progress::while_running(monitor, !args.sim.quiet, || prepared.pick(pick, monitor))?;
            let why = export::story::why(
                &prepared.scenario,
                pick.percentile,
                pick.partner,
                prepared.total_trials,
                prepared.seed,
                prepared.plan.sampling,
            );
            (picked, why)
        }
    };
    let replay = prepared.replay(trial)?;
    // With the page on standard output, the story goes to stderr, as other commands'
    // summaries do.
    let aside = args.html.as_deref().is_some_and(output::writes_stdout);
    if let Some(path) = &args.html {
        let page = export::story::page(&prepared.scenario, &replay, &why);
        output::write_atomically(path, page.as_bytes())?;
        if !aside {
            say(false, &format!("wrote {}\n", path.display()));
        }
    }
    say(
        aside,
        &export::story::render(&prepared.scenario, &replay, &why),
    );
    Ok(())
}

pub fn merge(args: MergeArgs, monitor: &Monitor) -> Result<()> {
    let parts: Vec<_> = args
        .parts
        .iter()
        .map(|p| ("the partial result".to_string(), p.as_path()))
        .collect();
    check_run_outputs(&parts, &args.output)?;
    let start = Instant::now();
    let mut notices = Vec::new();
    let merged = run::merge(
        &args.parts,
        args.max_memory,
        args.output.page(),
        &mut notices,
    );
    notify(&notices);
    let merged = merged?;
    let report = merged.report(start.elapsed().as_secs_f64(), monitor)?;
    publish(
        &report,
        &merged.merged.validated,
        &merged.merged.scenario,
        &merged.merged.outcomes,
        &args.output,
        monitor,
    )
}

/// `init`: the template scenario printed as JSON, or written as a workbook.
pub fn init(xlsx: Option<PathBuf>) -> Result<()> {
    let Some(path) = xlsx else {
        return print_all(consortium_sim::TEMPLATE.as_bytes());
    };
    export::xlsx::FORMAT.check_name("--xlsx", &path)?;
    output::check_writable(&path)?;
    let value: Value =
        serde_json::from_str(consortium_sim::TEMPLATE).expect("the template is JSON");
    let bytes = workbook::write(&value, "the template")?;
    output::write_atomically(&path, &bytes)?;
    wrote(&path);
    Ok(())
}

/// `convert`: a scenario, validated, written as a workbook or as JSON by the output's
/// extension.
pub fn convert(input: &Path, out: &Path) -> Result<()> {
    let extension = out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let to_workbook = match extension.as_deref() {
        Some("xlsx") => true,
        Some("json") => false,
        _ if output::is_stdout(out) => false,
        _ => {
            return Err(Error::request(format!(
                "convert writes a workbook (.xlsx) or JSON (.json), chosen by the extension of {}",
                out.display()
            )));
        }
    };
    output::check_distinct(
        &scenario_input(input),
        &[("the converted scenario".into(), out)],
    )?;
    output::check_writable(out)?;
    let mut notices = Vec::new();
    let loaded = run::load(&Source::Path(input.to_path_buf()), &[], &mut notices);
    notify(&notices);
    let loaded = loaded?;
    let bytes = if to_workbook {
        workbook::write(&loaded.value, &loaded.origin)?
    } else {
        workbook::to_text(&loaded.value).into_bytes()
    };
    output::write_atomically(out, &bytes)?;
    wrote(out);
    Ok(())
}

/// Says a file was written, unless it went to standard output.
fn wrote(path: &Path) {
    if !output::writes_stdout(path) {
        println!("wrote {}", printable(&path.display().to_string()));
    }
}

/// Set while `serve` serves: a signal then stops the server (see `main`).
#[cfg(feature = "serve")]
pub static SERVING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `serve`: starts the web app and serves until the process ends.
#[cfg(feature = "serve")]
pub fn serve(args: crate::cli::ServeArgs) -> Result<()> {
    let server = consortium_sim::serve::bind(args.config())?;
    SERVING.store(true, std::sync::atomic::Ordering::SeqCst);
    println!("consortium-sim serves on {}", server.url());
    println!("(Ctrl-C stops it; the history is kept)");
    server.run()
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
            format::money(report.consortium.npv.se, currency),
            format::money(target, currency)
        ));
    }
    if let Some(target) = c.target_prob_ci {
        let [low, high] = report.consortium.prob_npv_negative.ci95;
        achieved.push(format!(
            "P(loss) 95% CI half-width {} (target {})",
            format::fine_percent((high - low) / 2.0),
            format::fine_percent(target)
        ));
    }
    let trials = format::thousands(c.trials_used);
    let max = format::thousands(c.max_trials);
    if c.target_reached {
        format!(
            "Target met after {trials} trials (at most {max}): {}\n",
            achieved.join("; ")
        )
    } else if !c.target_judged {
        let target = Target {
            se: c.target_se,
            prob_ci: c.target_prob_ci,
            max_trials: None,
        };
        let losses = (report.consortium.prob_npv_negative.estimate * c.trials_used as f64).round();
        let why = target
            .unjudged(c.trials_used, losses as u64)
            .unwrap_or_default();
        format!(
            "Target NOT met: it could not be judged, stopped at its cap of {max} trials: \
             {why}; {}\n",
            achieved.join("; ")
        )
    } else {
        format!(
            "Target NOT met: stopped at its cap of {max} trials: {}\n",
            achieved.join("; ")
        )
    }
}

/// How `--partial`'s file is named: the engine's own binary, no format's (a name ending
/// in `.json` or `.xlsx` is refused; `.bin` in the examples).
const PARTIAL_FILE: FileType = FileType {
    noun: "a partial result",
    extensions: &["bin"],
};

/// The input of a command that reads one scenario file, named as messages name it.
pub fn scenario_input(path: &Path) -> Vec<(String, &Path)> {
    vec![("the scenario".to_string(), path)]
}

/// Checks, before anything runs, every output (each given with its flag and the type
/// of file it writes), in this order, which decides the error shown when
/// several are wrong: that every `--export` format can render results of `kind`; that
/// no output is one of the `inputs` or another output of the command, compared by the
/// file each names (a missing directory is said here); that no output's name ends in
/// another format's extension (see [`FileType::check_name`]); and that every output path
/// can be written. Every command that writes a file calls it.
pub fn check_outputs(
    inputs: &[(String, &Path)],
    flags: &[(&str, FileType, &Option<PathBuf>)],
    export: &[(Format, PathBuf)],
    kind: Kind,
) -> Result<()> {
    let outputs: Vec<(String, FileType, &Path)> = flags
        .iter()
        .filter_map(|(flag, file, path)| Some((flag.to_string(), *file, path.as_deref()?)))
        .chain(export.iter().map(|(f, path)| {
            (
                format!("--export {}", f.name()),
                f.file_type(),
                path.as_path(),
            )
        }))
        .collect();
    // What the formats can render does not depend on the paths: said first, so that a
    // name fixed for the format is not then refused for the format.
    for (format, _) in export {
        format.check_for(kind)?;
    }
    let named: Vec<(String, &Path)> = outputs
        .iter()
        .map(|(flag, _, path)| (flag.clone(), *path))
        .collect();
    output::check_distinct(inputs, &named)?;
    for (flag, file, path) in &outputs {
        file.check_name(flag, path)?;
    }
    for (_, _, path) in &outputs {
        output::check_writable(path)?;
    }
    Ok(())
}

/// [`check_outputs`] for a run's or a merge's outputs.
fn check_run_outputs(inputs: &[(String, &Path)], o: &OutputArgs) -> Result<()> {
    let flags: Vec<_> = o
        .flags()
        .into_iter()
        .map(|(flag, format, path)| (flag, format.file_type(), path))
        .collect();
    check_outputs(inputs, &flags, &o.export, Kind::Run)
}

/// Prints `text` on stdout, or on stderr when an output goes to stdout (`--out -`), so
/// that stdout carries nothing but that output; names and file names in it cannot act
/// on the terminal (see [`printable`]).
pub fn say(aside: bool, text: &str) {
    let text = printable(text);
    if aside {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
}

/// An output path as messages show it: `-` is standard output.
pub fn shown(path: &Path) -> String {
    if output::is_stdout(path) {
        "standard output".into()
    } else {
        path.display().to_string()
    }
}

/// Writes the files asked for (the trial table, the page, the JSON report, in that order,
/// then `--export`s) through the exporters, or prints the terminal summary instead of
/// the JSON. When an output goes to stdout, what would be printed there goes to stderr,
/// and the output itself gets no "wrote" line.
fn publish(
    report: &Report,
    scenario: &Scenario,
    value: &Value,
    outcomes: &Outcomes,
    outputs: &OutputArgs,
    monitor: &Monitor,
) -> Result<()> {
    let currency = &scenario.currency;
    let files = outputs.files();
    let aside = outputs.paths().any(|p| output::writes_stdout(p));
    let run = Subject::Run(RunResult {
        report,
        scenario,
        value,
        outcomes,
    });
    let json_out = outputs.out.as_deref();
    export::write_all(&files, &run, monitor, |format, path| {
        if output::writes_stdout(path) {
            return;
        }
        let line = if format == export::json::FORMAT && Some(path) == json_out {
            format!(
                "wrote {} ({} trials, mean NPV {})\n",
                path.display(),
                format::thousands(report.trials),
                format::money(report.consortium.npv.mean, currency)
            )
        } else {
            format!("wrote {}\n", path.display())
        };
        say(aside, &line);
    })?;
    if outputs.out.is_none() {
        say(aside, &export::terminal::render(report, scenario));
    }
    if outputs.by_year {
        say(
            aside,
            &format!("\n{}", export::terminal::by_year(report, scenario)),
        );
    }
    if let Some(c) = &report.run.convergence {
        say(aside, &convergence_line(report, c, currency));
    }
    Ok(())
}

/// The partner `who` names: its name exactly, or else its index from 0.
fn partner_named(scenario: &consortium_sim::scenario::Scenario, who: &str) -> Result<usize> {
    let names = || scenario.partners.iter().map(|p| p.name.as_str());
    if let Some(i) = names().position(|n| n == who) {
        return Ok(i);
    }
    let count = scenario.partners.len();
    let why = match who.parse::<usize>() {
        Ok(i) if who == i.to_string() => {
            if i < count {
                return Ok(i);
            }
            // A number is read as an index: say that it is past the last one.
            format!(
                "there is no partner {i}: partners are numbered from 0 to {} (or named: {})",
                count - 1,
                consortium_sim::scenario::some_names(names())
            )
        }
        _ => format!(
            "there is no partner of that name (partners: {})",
            consortium_sim::scenario::some_names(names())
        ),
    };
    Err(Error::Request(format!("--worst-for {who}: {why}").into()))
}
