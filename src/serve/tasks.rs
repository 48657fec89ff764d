//! The work of each kind of job, done on a blocking thread: a run (kept in the
//! history), a sweep, a sensitivity analysis, an agreement analysis, a comparison of two
//! kept runs, and a kept run's trial table or results workbook (made again from its
//! scenario, seed and trials, which give the same trials). Each is a sequence of run API
//! calls and exporters, as the command line's are; nothing here computes a figure.

use serde_json::Value;

use super::history::{History, NewRun};
use super::jobs::{Output, Page};
use crate::analysis::agreement::Limits;
use crate::engine::Monitor;
use crate::export::{self, RunResult, Subject};
use crate::lhs::Sampling;
use crate::run::{self, Error, Notice, Prepared, Result, RunOptions, Source};

/// What a job asks of the run API: the scenario (a file's bytes and name, or the
/// editor's JSON), trials and seed (default: the scenario's), how to sample the inputs,
/// and the server's limits.
pub struct Request {
    pub scenario: Scenario,
    pub trials: Option<u64>,
    pub seed: Option<u64>,
    pub sampling: Sampling,
    pub max_trials: u64,
    pub max_memory: Option<u64>,
}

/// A scenario to run: a file's bytes with the name it goes by, or the editor's JSON
/// (not a file: its provenance says so) with a name for messages.
pub enum Scenario {
    File { bytes: Vec<u8>, name: String },
    Edited { value: Value, name: String },
}

impl Scenario {
    /// The run API's source, and the scenario as it will be kept: bytes and name.
    fn source(self) -> (Source, Vec<u8>, String) {
        match self {
            Scenario::File { bytes, name } => (
                Source::Bytes {
                    bytes: bytes.clone(),
                    name: name.clone(),
                },
                bytes,
                name,
            ),
            Scenario::Edited { value, name } => {
                let mut bytes = serde_json::to_vec_pretty(&value).unwrap_or_default();
                bytes.push(b'\n');
                (
                    Source::Json {
                        value,
                        name: name.clone(),
                    },
                    bytes,
                    name,
                )
            }
        }
    }
}

/// A prepared run, with its source and the scenario as kept (bytes and name).
struct Ready {
    prepared: Prepared,
    source: Source,
    bytes: Vec<u8>,
    name: String,
}

/// Prepares `request` (with the page counted by the memory guard when `page`),
/// refusing more trials than the server allows; what the user should be told is added
/// to `told`.
fn prepare(request: Request, page: bool, told: &mut Vec<Notice>) -> Result<Ready> {
    if let Some(n) = request.trials {
        check_trials(n, request.max_trials)?;
    }
    let (source, bytes, name) = request.scenario.source();
    let mut options = RunOptions::new(source.clone());
    options.trials = request.trials;
    options.seed = request.seed;
    options.sampling = request.sampling;
    options.max_memory = request.max_memory;
    options.page = page;
    let prepared = run::prepare(&options, told)?;
    check_trials(prepared.total_trials, request.max_trials)?;
    Ok(Ready {
        prepared,
        source,
        bytes,
        name,
    })
}

/// Refuses no trials, or more than the server runs (checked when a job is asked for,
/// so that `trials: 0` is refused at once rather than by the job, and again once the
/// scenario's own `trials` is known).
pub fn check_trials(trials: u64, max: u64) -> Result<()> {
    if trials == 0 {
        return Err(Error::request("`trials` must be at least 1"));
    }
    if trials > max {
        return Err(Error::request(format!(
            "`trials` {trials} is more than this server runs at once ({max}, its --max-trials): ask for fewer"
        )));
    }
    Ok(())
}

/// A run: simulated, reported, its worst trial replayed, all rendered by the exporters
/// and kept in `history` with `label`.
pub fn run(
    request: Request,
    label: String,
    history: &History,
    monitor: &Monitor,
    told: &mut Vec<Notice>,
) -> Result<Output> {
    let Ready {
        prepared,
        bytes,
        name: file,
        ..
    } = prepare(request, true, told)?;
    let simulation = prepared.simulate(monitor)?;
    let worst = run::worst_trial(&simulation.outcomes);
    let report = prepared.report(&simulation, monitor)?;
    let subject = Subject::Run(RunResult {
        report: &report,
        scenario: &prepared.scenario,
        value: &prepared.value,
        outcomes: &simulation.outcomes,
    });
    let text = |format: export::Format| -> Result<String> {
        Ok(String::from_utf8_lossy(&format.render(&subject)?).into_owned())
    };
    let report_json = text(export::json::FORMAT)?;
    let report_html = text(export::html::FORMAT)?;
    // Said as `trace --worst` says it (thousands separated, the sampling named).
    let why = export::story::why(
        &prepared.scenario,
        run::Pick::CONSORTIUM_WORST.percentile,
        None,
        prepared.total_trials,
        prepared.seed,
        prepared.plan.sampling,
    );
    let trace_html = export::story::page(&prepared.scenario, &prepared.replay(worst)?, &why);
    run::interrupted(monitor)?;
    let provenance = report.provenance.as_ref();
    let id = history.insert(&NewRun {
        created: provenance.map_or_else(String::new, |p| p.generated_at.clone()),
        label,
        title: prepared.scenario.name.clone(),
        file,
        scenario: bytes,
        seed: prepared.seed,
        trials: prepared.total_trials,
        sampling: prepared.plan.sampling,
        engine_version: env!("CARGO_PKG_VERSION").to_string(),
        mean_npv: report.consortium.npv.mean,
        prob_loss: report.consortium.prob_npv_negative.estimate,
        currency: prepared.scenario.currency.clone(),
        summary: export::terminal::render(&report, &prepared.scenario),
        report_json,
        report_html,
        trace_html,
    })?;
    Ok(Output::Run(id))
}

/// The page, JSON and results workbook (named `kind.xlsx`) of an analysis's `subject`.
fn page(subject: &Subject, kind: &str) -> Result<Page> {
    let html = export::html::FORMAT.render(subject)?;
    let json = export::json::FORMAT.render(subject)?;
    Ok(Page {
        html: String::from_utf8_lossy(&html).into_owned(),
        data: json.into(),
        data_name: "analysis.json".into(),
        workbook: Some((
            format!("{kind}.xlsx"),
            export::xlsx::FORMAT.render(subject)?.into(),
        )),
    })
}

/// A sweep over `params` (each `POINTER=START:STOP:STEPS` or `POINTER=V1,V2,...`).
pub fn sweep(
    request: Request,
    params: &[String],
    monitor: &Monitor,
    told: &mut Vec<Notice>,
) -> Result<Output> {
    let params = run::sweep_params(params)?;
    let prepared = prepare(request, false, told)?.prepared;
    let sweep = prepared.sweep(&params, monitor, told)?;
    let subject = Subject::Sweep(&sweep, &prepared.scenario.currency);
    Ok(Output::Page(page(&subject, "sweep")?))
}

/// A sensitivity analysis (tornado, and switching values of `switch`).
pub fn sensitivity(
    request: Request,
    switch: &[String],
    target_prob_loss: Option<f64>,
    monitor: &Monitor,
    told: &mut Vec<Notice>,
) -> Result<Output> {
    let prepared = prepare(request, false, told)?.prepared;
    let study = prepared.sensitivity(switch, target_prob_loss, monitor, told)?;
    let subject = Subject::Sensitivity(&study, &prepared.scenario.currency);
    Ok(Output::Page(page(&subject, "sensitivity")?))
}

/// An agreement analysis: every set of `terms` (each `POINTER=V1,V2,...`) run under
/// common random numbers, ranked, and checked against `limits` (the `agreement`
/// command's figures). A set of terms that meets no limit is a finding, not a failure:
/// the page says so.
pub fn agreement(
    request: Request,
    terms: &[String],
    limits: Limits,
    monitor: &Monitor,
    told: &mut Vec<Notice>,
) -> Result<Output> {
    let terms = run::agreement_term_list(terms)?;
    let prepared = prepare(request, false, told)?.prepared;
    let agreement = prepared.agreement(&terms, limits, monitor, told)?;
    let subject = Subject::Agreement(&agreement, &prepared.scenario.currency);
    Ok(Output::Page(page(&subject, "agreement")?))
}

/// Two kept runs compared under common random numbers, with the first one's seed and
/// trials (the `compare` command's paired figures).
pub fn compare(
    first: Request,
    second: Scenario,
    monitor: &Monitor,
    told: &mut Vec<Notice>,
) -> Result<Output> {
    let Ready {
        prepared, source, ..
    } = prepare(first, false, told)?;
    let (other, ..) = second.source();
    let entrants = prepared.files(&source, &[other], &[], told)?;
    let comparison = prepared.compare(&entrants, monitor)?;
    let subject = Subject::Compare(&comparison, &prepared.scenario.currency);
    Ok(Output::Page(page(&subject, "comparison")?))
}

/// A kept run's trial table (CSV), made again from its scenario, seed and trials.
pub fn trials_csv(request: Request, monitor: &Monitor, told: &mut Vec<Notice>) -> Result<Output> {
    let data = remade(request, None, export::csv::FORMAT, monitor, told)?;
    Ok(Output::Page(Page {
        html: String::new(),
        data: data.into(),
        data_name: "trials.csv".into(),
        workbook: None,
    }))
}

/// A kept run's results workbook (what `run --xlsx` writes), made again from its
/// scenario, seed and trials, dated `created` (the kept run's time) so that it names
/// the run it is of. Made on demand rather than kept: its Trials sheet holds every
/// trial, far more than the history keeps for a run.
pub fn results_xlsx(
    request: Request,
    id: i64,
    created: String,
    monitor: &Monitor,
    told: &mut Vec<Notice>,
) -> Result<Output> {
    let data = remade(request, Some(created), export::xlsx::FORMAT, monitor, told)?;
    Ok(Output::Page(Page {
        html: String::new(),
        data: data.into(),
        data_name: format!("run-{id}.xlsx"),
        workbook: None,
    }))
}

/// A run simulated and reported again (the same scenario, seed and trials give the
/// same trials), rendered by `format`; dated `created` when given.
fn remade(
    request: Request,
    created: Option<String>,
    format: export::Format,
    monitor: &Monitor,
    told: &mut Vec<Notice>,
) -> Result<Vec<u8>> {
    let prepared = prepare(request, false, told)?.prepared;
    let simulation = prepared.simulate(monitor)?;
    let mut report = prepared.report(&simulation, monitor)?;
    if let (Some(provenance), Some(created)) = (report.provenance.as_mut(), created) {
        provenance.generated_at = created;
    }
    let subject = Subject::Run(RunResult {
        report: &report,
        scenario: &prepared.scenario,
        value: &prepared.value,
        outcomes: &simulation.outcomes,
    });
    let bytes = format.render(&subject)?;
    run::interrupted(monitor)?;
    Ok(bytes)
}
