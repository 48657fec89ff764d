//! `consortium_sim._native`: the library's run API for Python, and nothing else.
//!
//! Every function here turns Python arguments into a [`RunOptions`] (or an analysis's
//! request), calls the run API (`consortium_sim::run`), and hands back what it made: a
//! report as the JSON the command line writes, outcome columns as numpy arrays, text
//! rendered by the library's exporters. No figure is computed here. The Python package
//! (`consortium_sim/__init__.py`) wraps these in the public API and builds the pandas
//! tables.
//!
//! Every call that simulates runs on a thread of its own with the GIL released, while
//! the calling thread waits in short ticks: between ticks it checks for signals (Ctrl-C
//! in a notebook or a script becomes `KeyboardInterrupt` within a tick or two, the run
//! cancelled through its [`Monitor`] and joined, so nothing is left half-written) and
//! reports progress to an optional Python callback.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use consortium_sim::engine::outcomes::NO_YEAR_U8;
use consortium_sim::engine::{Column, Monitor, Outcomes, TrialEvents};
use consortium_sim::export::{self, Format, RunResult, Subject};
use consortium_sim::lhs::Sampling;
use consortium_sim::output;
use consortium_sim::run::{self, Error as LibError, Notice, Prepared, RunOptions, Source, Target};
use consortium_sim::scenario::{Scenario, ScenarioError as LibScenarioError};
use consortium_sim::shard::Shard;
use consortium_sim::summary::Report;
use numpy::PyArray1;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyKeyboardInterrupt};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict, PyList};
use serde_json::Value;

create_exception!(
    consortium_sim,
    Error,
    PyException,
    "A request the engine could not carry out (a fault of the program if not a subclass)."
);
create_exception!(
    consortium_sim,
    ScenarioError,
    Error,
    "The scenario cannot be read or is invalid; `.problems` lists (path, message) pairs, each a `Problem` that also gives a workbook's `.sheet`, `.cell` and `.row`."
);
create_exception!(
    consortium_sim,
    RequestError,
    Error,
    "The request's settings are wrong or do not go together."
);

/// How often the waiting thread checks for signals and reports progress.
const TICK: Duration = Duration::from_millis(50);

/// A scenario as the Python package passes it: a file's bytes as `Scenario.load` read
/// them once (see [`read_file`]), or JSON text, with the name messages give it, and its
/// `--set` overrides.
type Spec = (Option<PyBackedBytes>, Option<String>, String, Vec<String>);

/// The run API's source of `spec`, its JSON text parsed as the loader would. A file's
/// bytes are read, hashed and named exactly as the file would be.
fn source(spec: &Spec) -> Result<Source, Error_> {
    let (bytes, json, name, _) = spec;
    match (bytes, json) {
        (Some(bytes), _) => Ok(Source::Bytes {
            bytes: bytes.to_vec(),
            name: name.clone(),
        }),
        (None, Some(text)) => {
            // Parsed as a file's text is: a byte-order mark skipped, a key given twice
            // refused, an empty text said to be empty.
            let value = consortium_sim::scenario::load::value_from_bytes(text.as_bytes(), name)
                .map_err(LibError::Scenario)?;
            Ok(Source::Json {
                value,
                name: name.clone(),
            })
        }
        (None, None) => Err(LibError::request("a scenario needs a file or JSON text").into()),
    }
}

/// A library error on its way to Python.
struct Error_(LibError);

impl From<LibError> for Error_ {
    fn from(e: LibError) -> Error_ {
        Error_(e)
    }
}

/// Settings named as the Python keywords that hold them.
fn keyword(setting: run::Setting) -> String {
    match setting {
        // The functions' mappings and lists, whose entries the library's messages name
        // one at a time.
        run::Setting::Param => "`params`".into(),
        run::Setting::Term => "`terms`".into(),
        run::Setting::Variant => "`variants`".into(),
        other => format!("`{}`", other.name()),
    }
}

impl Error_ {
    /// The Python exception: `KeyboardInterrupt` for a cancelled run, [`ScenarioError`]
    /// (with its problems) for a scenario, [`RequestError`] for other bad input,
    /// [`Error`] for a fault. The text is the command line's message without `error: `.
    fn into_py(self, py: Python<'_>) -> PyErr {
        let e = self.0;
        if e.is_interrupted() {
            return PyKeyboardInterrupt::new_err(e.to_string());
        }
        let text = e.render(keyword);
        match &e {
            LibError::Scenario(s) => {
                let problems: Vec<(&str, &str, Option<&str>)> = match s {
                    LibScenarioError::Invalid { problems, .. } => problems
                        .iter()
                        .map(|p| (p.path.as_str(), p.message.as_str(), p.cell.as_deref()))
                        .collect(),
                    LibScenarioError::Override { spec, message } => {
                        vec![(spec.as_str(), message.as_str(), None)]
                    }
                    _ => Vec::new(),
                };
                let err = ScenarioError::new_err(text);
                let problems = problem_list(py, &problems);
                let _ = err.value(py).setattr("problems", problems);
                err
            }
            _ if e.is_user_input() => RequestError::new_err(text),
            _ => Error::new_err(text),
        }
    }
}

/// A scenario's problems as `consortium_sim.Problem`s: (path, message) pairs that also
/// give the workbook's place (`Partners!J3`, `Partners row 3`, `sheet Partners`) as
/// `.place`, `.sheet`, `.cell` and `.row`. Plain (path, message) pairs if that class
/// cannot be had (it always can once the package is imported).
fn problem_list<'py>(
    py: Python<'py>,
    problems: &[(&str, &str, Option<&str>)],
) -> Bound<'py, PyList> {
    let made = py
        .import("consortium_sim._problem")
        .and_then(|m| m.getattr("Problem"))
        .and_then(|class| {
            let items = problems
                .iter()
                .map(|p| class.call1(*p))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)
        });
    made.unwrap_or_else(|_| {
        PyList::new(
            py,
            problems.iter().map(|(path, message, _)| (*path, *message)),
        )
        .expect("a list of pairs")
    })
}

/// What the run API asked to tell the user, as (kind, text) pairs: kind "warning" or
/// "note". The Python package turns them into `warnings.warn`.
fn notices(notices: &[Notice]) -> Vec<(&'static str, String)> {
    notices
        .iter()
        .map(|n| {
            let (kind, message) = n.parts();
            (kind, message.render(keyword))
        })
        .collect()
}

/// Runs `work` on a thread of its own with the GIL released, checking for signals and
/// calling `progress(done, total)` every tick. On a signal (or an exception from
/// `progress`) the work is cancelled and joined before the exception is raised.
fn watched<T: Send>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(&Monitor) -> Result<T, Error_> + Send,
) -> PyResult<T> {
    let monitor = Monitor::new();
    let finished = (Mutex::new(false), Condvar::new());
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let result = work(&monitor);
            *finished.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
            finished.1.notify_all();
            result
        });
        let stop = loop {
            let done = py.detach(|| {
                let guard = finished.0.lock().unwrap_or_else(|e| e.into_inner());
                let (guard, _) = finished
                    .1
                    .wait_timeout_while(guard, TICK, |done| !*done)
                    .unwrap_or_else(|e| e.into_inner());
                *guard
            });
            if done || worker.is_finished() {
                break None;
            }
            if let Err(e) = py.check_signals() {
                break Some(e);
            }
            if let Some(callback) = progress {
                let done = monitor.done.load(Ordering::Relaxed);
                let total = monitor.total.load(Ordering::Relaxed);
                if let Err(e) = callback.call1((done, total)) {
                    break Some(e);
                }
            }
        };
        if let Some(e) = stop {
            monitor.cancel.store(true, Ordering::SeqCst);
            let _ = py.detach(|| worker.join());
            return Err(e);
        }
        match py.detach(|| worker.join()) {
            Ok(result) => result.map_err(|e| e.into_py(py)),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// `max_memory` as bytes: a whole number, or a size as the command line writes it ("4G").
fn size(max_memory: Option<&Bound<'_, PyAny>>) -> PyResult<Result<Option<u64>, Error_>> {
    let Some(m) = max_memory else {
        return Ok(Ok(None));
    };
    if let Ok(bytes) = m.extract::<u64>() {
        return Ok(Ok(Some(bytes)));
    }
    Ok(run::parse_size(&m.extract::<String>()?)
        .map(Some)
        .map_err(|message| LibError::request(format!("`max_memory` {message}")).into()))
}

/// The run options of a call (every front end's one request type).
#[allow(clippy::too_many_arguments)]
fn options(
    spec: &Spec,
    trials: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
    sampling: Option<&str>,
    max_memory: Option<&Bound<'_, PyAny>>,
    target: Option<Target>,
    shard: Option<Shard>,
) -> PyResult<Result<RunOptions, Error_>> {
    let max_memory = match size(max_memory)? {
        Ok(bytes) => bytes,
        Err(e) => return Ok(Err(e)),
    };
    let source = match source(spec) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let sampling = match sampling.map(str::parse::<Sampling>) {
        None => Sampling::Plain,
        Some(Ok(method)) => method,
        Some(Err(e)) => {
            return Ok(Err(LibError::request(format!("`sampling`: {e}")).into()));
        }
    };
    let mut options = RunOptions::new(source);
    options.sampling = sampling;
    options.overrides = spec.3.clone();
    options.trials = trials;
    options.seed = seed;
    options.threads = threads;
    options.max_memory = max_memory;
    options.target = target;
    options.shard = shard;
    Ok(Ok(options))
}

/// Prepares `options`, keeping the notices.
fn prepare(options: &RunOptions, told: &mut Vec<Notice>) -> Result<Prepared, Error_> {
    Ok(run::prepare(options, told)?)
}

/// A scenario file's bytes, read once by `Scenario.load` and kept: a later run (or a
/// pickled copy in another process or folder) uses what was loaded, whatever has since
/// become of the file. Refused as the command line refuses an unreadable or too large
/// file.
#[pyfunction]
fn read_file(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyBytes>> {
    let bytes = consortium_sim::scenario::load::read_bytes(&path)
        .map_err(|e| Error_(LibError::Scenario(e)).into_py(py))?;
    Ok(PyBytes::new(py, &bytes))
}

/// Checks, before anything is written, that `path` (the argument `path`) is none of
/// `inputs` and does not end in another format's extension than `format`'s.
fn check_output(
    py: Python<'_>,
    format: Format,
    path: &Path,
    inputs: &[(String, PathBuf)],
) -> PyResult<()> {
    let inputs: Vec<(String, &Path)> = inputs
        .iter()
        .map(|(name, p)| (name.clone(), p.as_path()))
        .collect();
    output::check_distinct(&inputs, &[("`path`".to_string(), path)])
        .map_err(LibError::Output)
        .and_then(|()| Ok(format.check_name("`path`", path)?))
        .map_err(|e| Error_(e).into_py(py))
}

/// Writes a trial's page (made by `trace`) to `path` as the command line's
/// `trace --html` does: atomically, through symlinks, never over `inputs`.
#[pyfunction]
fn write_page(
    py: Python<'_>,
    path: PathBuf,
    page: &str,
    inputs: Vec<(String, PathBuf)>,
) -> PyResult<()> {
    check_output(py, export::html::FORMAT, &path, &inputs)?;
    output::write_atomically(&path, page.as_bytes())
        .map_err(|e| Error_(LibError::Output(e)).into_py(py))
}

/// Reads, overrides and validates a scenario: its JSON as run, the one-paragraph summary
/// `validate` prints, the values probably meant as fractions, and the notices.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn load(
    py: Python<'_>,
    spec: Spec,
) -> PyResult<(String, String, Vec<String>, Vec<(&'static str, String)>)> {
    let mut told = Vec::new();
    let loaded = source(&spec)
        .and_then(|source| Ok(run::load(&source, &spec.3, &mut told)?))
        .map_err(|e| {
            // What loading told before it failed goes with the error: a workbook
            // formula's saved 0 explains the "0 is out of range" that follows it.
            let err = e.into_py(py);
            let _ = err.value(py).setattr("notices", notices(&told));
            err
        })?;
    Ok((
        export::json::to_json(&loaded.value),
        loaded.scenario.summary(),
        loaded.warnings.iter().map(ToString::to_string).collect(),
        notices(&told),
    ))
}

/// A finished run: its report, scenario and every trial's outcomes, held in Rust so
/// that files are written by the library's exporters and columns reach numpy with one
/// copy.
#[pyclass(module = "consortium_sim._native", frozen)]
struct Run {
    report: Report,
    scenario: Scenario,
    value: Value,
    outcomes: Outcomes,
    target_reached: bool,
    told: Vec<(&'static str, String)>,
}

impl Run {
    fn subject(&self) -> Subject<'_> {
        Subject::Run(RunResult {
            report: &self.report,
            scenario: &self.scenario,
            value: &self.value,
            outcomes: &self.outcomes,
        })
    }
}

#[pymethods]
impl Run {
    /// The report as the command line's `--out` writes it.
    fn report_json(&self) -> String {
        export::json::to_json(&self.report)
    }

    /// The terminal summary, as `consortium-sim run` prints it.
    fn summary(&self) -> String {
        export::terminal::render(&self.report, &self.scenario)
    }

    /// Headline figures and the fan chart, as an HTML fragment for a notebook.
    fn html_fragment(&self) -> String {
        export::html::run_fragment(&self.report, &self.scenario)
    }

    /// Whether a run to a precision target met it (always true without a target).
    #[getter]
    fn target_reached(&self) -> bool {
        self.target_reached
    }

    /// The notices of the run, as (kind, text).
    #[getter]
    fn notices(&self) -> Vec<(&'static str, String)> {
        self.told.clone()
    }

    /// The currency symbol of the scenario.
    #[getter]
    fn currency(&self) -> String {
        self.scenario.currency.clone()
    }

    /// The trials CSV's columns, in its order, as (name, numpy array): integers as
    /// int64, money as float64 (single-precision rows widened, as the CSV writes them),
    /// and the two year columns as float64 with NaN for "never", as pandas reads the
    /// CSV's empty fields. Each column is copied once, from the outcomes.
    fn columns<'py>(&self, py: Python<'py>) -> Vec<(String, Bound<'py, PyAny>)> {
        let o = &self.outcomes;
        let n = o.trials;
        // Each column is collected into a Vec, which numpy then owns without a copy.
        let ints = |v: Vec<i64>| PyArray1::from_vec(py, v).into_any();
        let floats = |v: Vec<f64>| PyArray1::from_vec(py, v).into_any();
        let year = |y: u8| {
            if y == NO_YEAR_U8 {
                f64::NAN
            } else {
                f64::from(y)
            }
        };
        let e = &o.events;
        let mut columns = vec![
            (
                "trial".to_string(),
                ints((0..n).map(|k| (o.first_trial + k as u64) as i64).collect()),
            ),
            (
                "npv".to_string(),
                PyArray1::from_slice(py, &o.npv).into_any(),
            ),
        ];
        for (i, partner) in self.scenario.partners.iter().enumerate() {
            let row = match &o.partner_npv {
                Column::F64(v) => PyArray1::from_slice(py, &v[i * n..(i + 1) * n]),
                Column::F32(v) => PyArray1::from_vec(
                    py,
                    v[i * n..(i + 1) * n]
                        .iter()
                        .map(|&x| f64::from(x))
                        .collect(),
                ),
            };
            // Named as the trials CSV names it, so that no partner shadows a fixed
            // column (a partner named `npv` is `npv[npv]`).
            columns.push((
                consortium_sim::export::csv::partner_column(&partner.name).into_owned(),
                row.into_any(),
            ));
        }
        let count = |f: fn(&TrialEvents) -> i64| ints(e.iter().map(f).collect());
        let years = |f: fn(&TrialEvents) -> u8| floats(e.iter().map(|t| year(f(t))).collect());
        columns.extend([
            ("payback_year".to_string(), years(|t| t.payback_year)),
            (
                "withdrawals".to_string(),
                count(|t| i64::from(t.withdrawals)),
            ),
            ("rejoins".to_string(), count(|t| i64::from(t.rejoins))),
            ("disputes".to_string(), count(|t| i64::from(t.disputes))),
            (
                "dispute_years".to_string(),
                count(|t| i64::from(t.dispute_years)),
            ),
            ("collapse_year".to_string(), years(|t| t.collapse_year)),
        ]);
        if !o.delay_years.is_empty() {
            columns.push((
                export::csv::DELAY_COLUMN.to_string(),
                ints(o.delay_years.iter().map(|&d| i64::from(d)).collect()),
            ));
        }
        columns
    }

    /// Writes the run in `format` (a name the library registers: json, html, csv, ...)
    /// to `path`, atomically, interruptible by Ctrl-C. Refused, as the command line
    /// refuses it, when `path` is one of the files the run was read from (`inputs`, each
    /// with how messages name it) or ends in another format's extension.
    fn export(
        &self,
        py: Python<'_>,
        format: &str,
        path: PathBuf,
        inputs: Vec<(String, PathBuf)>,
    ) -> PyResult<()> {
        let format = Format::named(format).ok_or_else(|| {
            let names: Vec<&str> = export::FORMATS.iter().map(Format::name).collect();
            RequestError::new_err(format!(
                "no format named '{format}' (formats: {})",
                names.join(", ")
            ))
        })?;
        check_output(py, format, &path, &inputs)?;
        let files = [(format, path)];
        watched(py, None, |monitor| {
            export::write_all(&files, &self.subject(), monitor, |_, _| {})
                .map_err(|e| Error_(e.into()))
        })
    }

    /// The formats a run can be written in.
    #[staticmethod]
    fn formats() -> Vec<&'static str> {
        export::FORMATS
            .iter()
            .filter(|f| f.check_for(export::Kind::Run).is_ok())
            .map(Format::name)
            .collect()
    }
}

/// Runs a scenario: whole, or to a precision target.
#[pyfunction]
#[pyo3(signature = (spec, trials=None, seed=None, threads=None, sampling=None, target_se=None, target_prob_ci=None, max_trials=None, max_memory=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn run_scenario(
    py: Python<'_>,
    spec: Spec,
    trials: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
    sampling: Option<&str>,
    target_se: Option<f64>,
    target_prob_ci: Option<f64>,
    max_trials: Option<u64>,
    max_memory: Option<&Bound<'_, PyAny>>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Run> {
    let target = (target_se.is_some() || target_prob_ci.is_some() || max_trials.is_some())
        .then_some(Target {
            se: target_se,
            prob_ci: target_prob_ci,
            max_trials,
        });
    let options = options(
        &spec, trials, seed, threads, sampling, max_memory, target, None,
    )?;
    watched(py, progress, |monitor| {
        let mut options = options?;
        options.page = true;
        let mut told = Vec::new();
        let prepared = prepare(&options, &mut told)?;
        let simulation = prepared.simulate(monitor)?;
        let report = prepared.report(&simulation, monitor)?;
        Ok(Run {
            report,
            scenario: prepared.scenario,
            value: prepared.value,
            outcomes: simulation.outcomes,
            target_reached: simulation.target_reached,
            told: notices(&told),
        })
    })
}

/// Runs shard `index` of `count` and returns its partial result as bytes (the file
/// `run --shard K/N --partial` writes).
#[pyfunction]
#[pyo3(signature = (spec, index, count, trials=None, seed=None, threads=None, sampling=None, max_memory=None))]
#[allow(clippy::too_many_arguments)]
fn run_shard<'py>(
    py: Python<'py>,
    spec: Spec,
    index: u64,
    count: u64,
    trials: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
    sampling: Option<&str>,
    max_memory: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let shard = Shard::parse(&format!("{index}/{count}"))
        .map_err(|e| Error_(LibError::from(e)).into_py(py))?;
    let options = options(
        &spec,
        trials,
        seed,
        threads,
        sampling,
        max_memory,
        None,
        Some(shard),
    )?;
    let bytes = watched(py, None, |monitor| {
        let prepared = prepare(&options?, &mut Vec::new())?;
        let simulation = prepared.simulate(monitor)?;
        Ok(prepared.partial_bytes(&simulation))
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// Merges partial results (files) into the run they are shards of.
#[pyfunction]
#[pyo3(signature = (paths, max_memory=None))]
fn merge(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    max_memory: Option<&Bound<'_, PyAny>>,
) -> PyResult<Run> {
    let max_memory = size(max_memory)?;
    watched(py, None, |monitor| {
        let max_memory = max_memory?;
        let start = std::time::Instant::now();
        let mut told = Vec::new();
        let merged = run::merge(&paths, max_memory, true, &mut told)?;
        let report = merged.report(start.elapsed().as_secs_f64(), monitor)?;
        let m = merged.merged;
        Ok(Run {
            report,
            scenario: m.validated,
            value: m.scenario,
            outcomes: m.outcomes,
            target_reached: true,
            told: notices(&told),
        })
    })
}

/// An analysis's result: its JSON, its table as the command line prints it, its CSV
/// (a sweep's only), and the notices.
type Analysed = (String, String, Option<String>, Vec<(&'static str, String)>);

/// A sweep of `params` (`POINTER=START:STOP:STEPS` or `POINTER=V1,V2,...`).
#[pyfunction]
#[pyo3(signature = (spec, params, trials=None, seed=None, threads=None, sampling=None, max_memory=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn sweep(
    py: Python<'_>,
    spec: Spec,
    params: Vec<String>,
    trials: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
    sampling: Option<&str>,
    max_memory: Option<&Bound<'_, PyAny>>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Analysed> {
    let options = options(
        &spec, trials, seed, threads, sampling, max_memory, None, None,
    )?;
    watched(py, progress, |monitor| {
        let params = run::sweep_params(&params)?;
        let mut told = Vec::new();
        let prepared = prepare(&options?, &mut told)?;
        let s = prepared.sweep(&params, monitor, &mut told)?;
        let currency = &prepared.scenario.currency;
        Ok((
            export::json::to_json(&s),
            export::analysis::terminal::sweep(&s, currency),
            Some(export::csv::sweep(&s)),
            notices(&told),
        ))
    })
}

/// Sets of agreement terms (`POINTER=V1,V2,...` or `POINTER=START:STOP:STEPS`, as
/// `agreement --term`), judged against the limits, ranked, with their frontier.
#[pyfunction]
#[pyo3(signature = (spec, terms, max_worse_off=None, max_collapse=None, trials=None, seed=None, threads=None, sampling=None, max_memory=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn agreement(
    py: Python<'_>,
    spec: Spec,
    terms: Vec<String>,
    max_worse_off: Option<f64>,
    max_collapse: Option<f64>,
    trials: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
    sampling: Option<&str>,
    max_memory: Option<&Bound<'_, PyAny>>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Analysed> {
    let options = options(
        &spec, trials, seed, threads, sampling, max_memory, None, None,
    )?;
    watched(py, progress, |monitor| {
        let terms = run::agreement_term_list(&terms)?;
        let limits = consortium_sim::analysis::agreement::Limits {
            max_worse_off,
            max_collapse,
        };
        let mut told = Vec::new();
        let prepared = prepare(&options?, &mut told)?;
        let a = prepared.agreement(&terms, limits, monitor, &mut told)?;
        let currency = &prepared.scenario.currency;
        let mut table = Vec::new();
        export::csv::write_agreement(&mut table, &a)
            .map_err(|e| LibError::fault("cannot write the agreement's table", e))?;
        Ok((
            export::json::to_json(&a),
            export::analysis::terminal::agreement(&a, currency),
            Some(String::from_utf8(table).expect("the table is UTF-8")),
            notices(&told),
        ))
    })
}

/// A sensitivity study: tornado, rank correlations and switching values.
#[pyfunction]
#[pyo3(signature = (spec, switch, target_prob_loss=None, trials=None, seed=None, threads=None, sampling=None, max_memory=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn sensitivity(
    py: Python<'_>,
    spec: Spec,
    switch: Vec<String>,
    target_prob_loss: Option<f64>,
    trials: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
    sampling: Option<&str>,
    max_memory: Option<&Bound<'_, PyAny>>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Analysed> {
    let options = options(
        &spec, trials, seed, threads, sampling, max_memory, None, None,
    )?;
    watched(py, progress, |monitor| {
        let mut told = Vec::new();
        let prepared = prepare(&options?, &mut told)?;
        let s = prepared.sensitivity(&switch, target_prob_loss, monitor, &mut told)?;
        let currency = &prepared.scenario.currency;
        Ok((
            export::json::to_json(&s),
            export::analysis::terminal::sensitivity(&s, currency),
            None,
            notices(&told),
        ))
    })
}

/// A comparison: the first scenario with each of `more` (other scenarios, run with the
/// first's overrides), or with its `variants` (`NAME:POINTER=VALUE[;...]`).
#[pyfunction]
#[pyo3(signature = (spec, more, variants, trials=None, seed=None, threads=None, sampling=None, max_memory=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn compare(
    py: Python<'_>,
    spec: Spec,
    more: Vec<Spec>,
    variants: Vec<String>,
    trials: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
    sampling: Option<&str>,
    max_memory: Option<&Bound<'_, PyAny>>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Analysed> {
    let options = options(
        &spec, trials, seed, threads, sampling, max_memory, None, None,
    )?;
    watched(py, progress, |monitor| {
        let options = options?;
        let mut told = Vec::new();
        let prepared = prepare(&options, &mut told)?;
        let entrants = if more.is_empty() {
            prepared.variants(&variants, &mut told)?
        } else {
            let more = more.iter().map(source).collect::<Result<Vec<_>, _>>()?;
            prepared.files(&options.scenario, &more, &options.overrides, &mut told)?
        };
        let c = prepared.compare(&entrants, monitor)?;
        let currency = &prepared.scenario.currency;
        Ok((
            export::json::to_json(&c),
            export::analysis::terminal::compare(&c, currency),
            None,
            notices(&told),
        ))
    })
}

/// Replays one trial year by year: the trial given, or the one at `percentile` of the
/// consortium's NPV (of `partner`'s, an index, when given). Returns the trial, the
/// story as `consortium-sim trace` prints it, its page, and one record per year and
/// partner.
#[pyfunction]
#[pyo3(signature = (spec, trial=None, percentile=None, partner=None, trials=None, seed=None, threads=None, sampling=None, max_memory=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn trace<'py>(
    py: Python<'py>,
    spec: Spec,
    trial: Option<u64>,
    percentile: Option<f64>,
    partner: Option<usize>,
    trials: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
    sampling: Option<&str>,
    max_memory: Option<&Bound<'py, PyAny>>,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<(u64, String, String, Bound<'py, PyList>)> {
    let options = options(
        &spec, trials, seed, threads, sampling, max_memory, None, None,
    )?;
    let (prepared, replay, why) = watched(py, progress, |monitor| {
        let prepared = prepare(&options?, &mut Vec::new())?;
        let (trial, why) = match trial {
            Some(k) => (k, export::story::chosen(prepared.plan.sampling)),
            None => {
                let percentile = percentile.unwrap_or(run::Pick::CONSORTIUM_WORST.percentile);
                if let Some(i) = partner
                    && i >= prepared.scenario.partners.len()
                {
                    return Err(LibError::request(format!(
                        "`worst_for`: the scenario has no partner {i}"
                    ))
                    .into());
                }
                let pick = run::Pick {
                    percentile,
                    partner,
                };
                let k = prepared.pick(pick, monitor)?;
                let why = export::story::why(
                    &prepared.scenario,
                    percentile,
                    partner,
                    prepared.total_trials,
                    prepared.seed,
                    prepared.plan.sampling,
                );
                (k, why)
            }
        };
        let replay = prepared.replay(trial)?;
        Ok((prepared, replay, why))
    })?;
    let s = &prepared.scenario;
    let rows = PyList::empty(py);
    for year in &replay.years {
        for (i, p) in year.partners.iter().enumerate() {
            let row = PyDict::new(py);
            row.set_item("year", year.t)?;
            row.set_item("partner", &s.partners[i].name)?;
            row.set_item("status", format!("{:?}", p.status).to_lowercase())?;
            row.set_item("share", p.weight)?;
            row.set_item("saving", p.saving)?;
            row.set_item("hazard", p.hazard.map(|h| h.total))?;
            row.set_item("live", year.live)?;
            row.set_item("members", year.members)?;
            row.set_item("dispute", year.dispute_active)?;
            row.set_item("collapsed", year.collapsed)?;
            row.set_item("efficiency", year.efficiency)?;
            row.set_item("pool", year.pool)?;
            row.set_item("cumulative", year.cumulative)?;
            rows.append(row)?;
        }
    }
    Ok((
        replay.trial,
        export::story::render(s, &replay, &why),
        export::story::page(s, &replay, &why),
        rows,
    ))
}

/// The names of the registered export formats.
#[pyfunction]
fn formats() -> Vec<&'static str> {
    export::FORMATS.iter().map(Format::name).collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("ScenarioError", py.get_type::<ScenarioError>())?;
    m.add("RequestError", py.get_type::<RequestError>())?;
    m.add(
        "ENGINE_VERSION",
        consortium_sim::summary::RunInfo::new(0, 0.0, 0).engine_version,
    )?;
    m.add_class::<Run>()?;
    m.add_function(wrap_pyfunction!(read_file, m)?)?;
    m.add_function(wrap_pyfunction!(write_page, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(run_scenario, m)?)?;
    m.add_function(wrap_pyfunction!(run_shard, m)?)?;
    m.add_function(wrap_pyfunction!(merge, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(sensitivity, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(agreement, m)?)?;
    m.add_function(wrap_pyfunction!(trace, m)?)?;
    m.add_function(wrap_pyfunction!(formats, m)?)?;
    Ok(())
}
