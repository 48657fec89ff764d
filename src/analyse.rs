//! The analysis subcommands: `sweep`, `sensitivity`, `compare` and `agreement`.
//!
//! Each checks every output path, then prepares its run through the run API as `run`
//! does (the same `--set`, `--trials`, `--seed`, `--threads` and memory check), runs the
//! analysis under a progress bar and Ctrl-C, then prints a table and writes what was
//! asked for, each file atomically.

use std::path::PathBuf;

use crate::cli::{AgreementArgs, CompareArgs, SensitivityArgs, SweepArgs, files};
use crate::commands::{check_outputs, notify, prepare, say, scenario_input};
use crate::progress;
use consortium_sim::analysis::agreement::Limits;
use consortium_sim::engine::Monitor;
use consortium_sim::export::analysis::terminal;
use consortium_sim::export::{self, Format, Kind, Subject, csv, html, json, xlsx};
use consortium_sim::output;
use consortium_sim::run::{self, Error, Notice, Result, Source};

/// Writes each requested output file atomically through the exporters (unless the run
/// has been interrupted meanwhile), then prints the table and what was written, on
/// stderr when an output went to stdout. Files come first so that a closed standard
/// output (`| head`) cannot lose them.
fn publish(
    table: &str,
    subject: Subject,
    flags: &[Flag],
    export: &[(Format, PathBuf)],
    monitor: &Monitor,
) -> Result<()> {
    let formats: Vec<_> = flags.iter().map(|&(_, f, path)| (f, path)).collect();
    let files = files(&formats, export);
    let aside = files.iter().any(|(_, p)| output::writes_stdout(p));
    let mut wrote = Vec::new();
    export::write_all(&files, &subject, monitor, |_, path| {
        if !output::writes_stdout(path) {
            wrote.push(format!("wrote {}\n", path.display()));
        }
    })?;
    say(aside, &format!("{table}{}", wrote.concat()));
    Ok(())
}

/// An output flag of an analysis: its name, the format it writes, the path given.
type Flag<'a> = (&'static str, Format, &'a Option<PathBuf>);

/// [`check_outputs`] for an analysis's flags and `--export`s.
fn check(
    inputs: &[(String, &std::path::Path)],
    flags: &[Flag],
    export: &[(Format, PathBuf)],
    kind: Kind,
) -> Result<()> {
    let flags: Vec<_> = flags
        .iter()
        .map(|&(flag, format, path)| (flag, format.file_type(), path))
        .collect();
    check_outputs(inputs, &flags, export, kind)
}

/// `sweep`: every point validated first, then run, printed and written.
pub fn sweep(args: SweepArgs, monitor: &Monitor) -> Result<()> {
    let params = run::sweep_params(&args.params)?;
    let flags = [
        ("--out", json::FORMAT, &args.out),
        ("--csv", csv::FORMAT, &args.csv),
        ("--html", html::FORMAT, &args.html),
        ("--xlsx", xlsx::FORMAT, &args.xlsx),
    ];
    check(
        &scenario_input(&args.sim.scenario),
        &flags,
        &args.export,
        Kind::Sweep,
    )?;
    let prepared = prepare(&args.sim.options())?;
    let mut notices = Vec::new();
    let result = progress::while_running(monitor, !args.sim.quiet, || {
        prepared.sweep(&params, monitor, &mut notices)
    });
    notify(&notices);
    let result = result?;
    let currency = &prepared.scenario.currency;
    publish(
        &terminal::sweep(&result, currency),
        Subject::Sweep(&result, currency),
        &flags,
        &args.export,
        monitor,
    )
}

/// `agreement`: every set of terms validated first, then run, printed and written.
/// Returns whether any set meets the limits (exit code 3 if none does).
pub fn agreement(args: AgreementArgs, monitor: &Monitor) -> Result<bool> {
    let terms = run::agreement_terms(&args.terms, args.terms_file.as_deref())?;
    let limits = Limits {
        max_worse_off: args.max_worse_off,
        max_collapse: args.max_collapse,
    };
    let mut inputs = scenario_input(&args.sim.scenario);
    if let Some(file) = &args.terms_file {
        inputs.push(("the terms file".to_string(), file.as_path()));
    }
    let flags = [
        ("--out", json::FORMAT, &args.out),
        ("--csv", csv::FORMAT, &args.csv),
        ("--html", html::FORMAT, &args.html),
        ("--xlsx", xlsx::FORMAT, &args.xlsx),
    ];
    check(&inputs, &flags, &args.export, Kind::Agreement)?;
    let prepared = prepare(&args.sim.options())?;
    let mut notices = Vec::new();
    let result = progress::while_running(monitor, !args.sim.quiet, || {
        prepared.agreement(&terms, limits, monitor, &mut notices)
    });
    notify(&notices);
    let result = result?;
    let currency = &prepared.scenario.currency;
    publish(
        &terminal::agreement(&result, currency),
        Subject::Agreement(&result, currency),
        &flags,
        &args.export,
        monitor,
    )?;
    Ok(!result.limits.any() || result.meeting_limits > 0)
}

/// `sensitivity`: `--switch` pointers resolved before the first run.
pub fn sensitivity(args: SensitivityArgs, monitor: &Monitor) -> Result<()> {
    let flags = [
        ("--out", json::FORMAT, &args.out),
        ("--html", html::FORMAT, &args.html),
        ("--xlsx", xlsx::FORMAT, &args.xlsx),
    ];
    check(
        &scenario_input(&args.sim.scenario),
        &flags,
        &args.export,
        Kind::Sensitivity,
    )?;
    let prepared = prepare(&args.sim.options())?;
    let mut notices = Vec::new();
    let result = progress::while_running(monitor, !args.sim.quiet, || {
        prepared.sensitivity(&args.switch, args.target_prob_loss, monitor, &mut notices)
    });
    notify(&notices);
    let result = result?;
    let currency = &prepared.scenario.currency;
    publish(
        &terminal::sensitivity(&result, currency),
        Subject::Sensitivity(&result, currency),
        &flags,
        &args.export,
        monitor,
    )
}

/// `compare`: several files, or one file and its `--variant`s.
pub fn compare(args: CompareArgs, monitor: &Monitor) -> Result<()> {
    match (args.more.is_empty(), args.variants.is_empty()) {
        (true, true) => {
            return Err(Error::request(
                "compare needs two or more scenario files, or one file and --variant NAME:POINTER=VALUE",
            ));
        }
        (false, false) => {
            return Err(Error::request(
                "--variant makes variants of one scenario file; give either several files or \
                 one file with --variant",
            ));
        }
        _ => {}
    }
    let mut inputs = scenario_input(&args.sim.scenario);
    inputs.extend(
        args.more
            .iter()
            .map(|p| ("the scenario".to_string(), p.as_path())),
    );
    let flags = [
        ("--out", json::FORMAT, &args.out),
        ("--html", html::FORMAT, &args.html),
        ("--xlsx", xlsx::FORMAT, &args.xlsx),
    ];
    check(&inputs, &flags, &args.export, Kind::Compare)?;
    let options = args.sim.options();
    let prepared = if args.more.is_empty() {
        prepare(&options)?
    } else {
        // Several files warn alike: each file's notices are led by its name (the later
        // files' by `files`).
        let mut notices = Vec::new();
        let prepared = run::prepare(&options, &mut notices);
        let name = options.scenario.name();
        let notices: Vec<Notice> = notices.into_iter().map(|n| n.about(&name)).collect();
        notify(&notices);
        prepared?
    };
    let entrants = if args.more.is_empty() {
        let mut notices = Vec::new();
        let entrants = prepared.variants(&args.variants, &mut notices);
        notify(&notices);
        entrants?
    } else {
        let more: Vec<Source> = args.more.iter().cloned().map(Source::Path).collect();
        let mut notices = Vec::new();
        let entrants = prepared.files(&options.scenario, &more, &options.overrides, &mut notices);
        notify(&notices);
        entrants?
    };
    let result = progress::while_running(monitor, !args.sim.quiet, || {
        prepared.compare(&entrants, monitor)
    })?;
    let currency = &prepared.scenario.currency;
    publish(
        &terminal::compare(&result, currency),
        Subject::Compare(&result, currency),
        &flags,
        &args.export,
        monitor,
    )
}
