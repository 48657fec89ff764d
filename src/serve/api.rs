//! The routes: the page and its assets, and a JSON API under `/api/` that the page
//! calls (and tests drive). Each handler checks its request, then hands the work to a
//! job ([`super::jobs`]) or reads the library of scenarios or the history; errors come
//! back as `{"error": message}` with 400 for the user's input, 404 for a job or kept
//! run that is not there, 409 for a cancelled run and 500 for a fault (422 with the
//! problems, each at its field, for a scenario the validator refuses).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};

use super::history::{History, Listed, Piece};
use super::jobs::{Job, Queue, Told};
use super::library::{self, Library};
use super::tasks::{self, Request, Scenario};
use super::{Config, MAX_BODY_BYTES, assets, guard};
use crate::analysis::agreement::Limits;
use crate::export::format::thousands;
use crate::lhs::Sampling;
use crate::run::{self, Error, Notice, Source};
use crate::scenario::{Problem, ScenarioError};

/// The server's state, shared by every request.
pub struct App {
    pub config: Config,
    pub address: SocketAddr,
    /// The names requests may address the server by (see [`guard::own_hosts`]).
    pub hosts: Vec<String>,
    library: Library,
    history: Arc<History>,
    queue: Queue,
}

impl App {
    pub fn new(config: Config, address: SocketAddr, history: History) -> App {
        App {
            hosts: guard::own_hosts(address, &config.hosts),
            library: Library {
                dir: config.scenarios.clone(),
            },
            queue: Queue::new(config.concurrent),
            history: Arc::new(history),
            address,
            config,
        }
    }
}

type Shared = State<Arc<App>>;

/// Every route, behind the guard, with the limit on a request's body.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::script))
        .route("/app.css", get(assets::style))
        .route("/api/info", get(info))
        .route("/api/schema", get(schema))
        .route("/api/template", get(template))
        .route("/api/scenarios", get(list_scenarios))
        .route(
            "/api/scenarios/{file}",
            get(get_scenario).put(save_scenario),
        )
        .route("/api/scenarios/{file}/xlsx", get(scenario_workbook))
        .route("/api/upload/{file}", post(upload_scenario))
        .route("/api/workbook", post(draft_workbook))
        .route("/api/validate", post(validate))
        .route("/api/jobs", post(start_job))
        .route("/api/jobs/{id}", get(job_state))
        .route("/api/jobs/{id}/events", get(events))
        .route("/api/jobs/{id}/cancel", post(cancel))
        .route("/api/jobs/{id}/page.html", get(job_page))
        .route("/api/jobs/{id}/data", get(job_data))
        .route("/api/jobs/{id}/results.xlsx", get(job_workbook))
        .route("/api/runs", get(list_runs))
        .route(
            "/api/runs/{id}",
            get(get_run).delete(delete_run).patch(label_run),
        )
        .route("/api/runs/{id}/{piece}", get(run_piece))
        .fallback(|| async { failure(StatusCode::NOT_FOUND, "no such page") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            guard::check,
        ))
        .with_state(app)
}

/// Every error the API gives is `{"error": message}`, but axum's extractors refuse a
/// request in plain text before a handler runs: a body over [`MAX_BODY_BYTES`] ("Failed
/// to buffer the request body"), a path or query that does not parse ("Invalid URL:
/// Cannot parse `abc` to a `i64`"), a method a route does not take (no text at all).
/// A client that reads every error as JSON would fail on those, so they are said here
/// in JSON with the same status: the body too large with the limit, the others with
/// axum's own text (or the status's reason where there is none).
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return failure(
            status,
            &format!(
                "the file is larger than this server takes ({} MiB): a scenario's JSON or workbook is far smaller; is it a results workbook, or another file?",
                MAX_BODY_BYTES >> 20
            ),
        );
    }
    // A rejection's text is a line or two; more than this is not one.
    const MOST: usize = 64 * 1024;
    let text = match axum::body::to_bytes(response.into_body(), MOST).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let text = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("refused")
            .to_lowercase()
    } else {
        text
    };
    failure(status, &text)
}

/// A JSON error response.
fn failure(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// A scenario's problems as the page shows them: by field (JSON pointer) and, for a
/// workbook, by sheet and cell (`Partners!F3`).
fn problems(problems: &[Problem]) -> Vec<Value> {
    problems
        .iter()
        .map(|p| json!({ "path": p.path, "message": p.message, "cell": p.cell }))
        .collect()
}

/// The response for an error of the run API: its status says whose it is; a scenario
/// the validator refuses lists its problems by field (JSON pointer) and cell.
fn error(e: Error) -> Response {
    refused(e, &[])
}

/// [`error`], with what the loader told before it refused the scenario (a workbook
/// formula read as its saved 0 may be the value refused).
fn refused(e: Error, told: &[Notice]) -> Response {
    if let Error::Scenario(ScenarioError::Invalid {
        problems: found, ..
    }) = &e
    {
        let body = json!({
            "error": e.to_string(),
            "problems": problems(found),
            "notices": Told::all(told),
        });
        return (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response();
    }
    let status = if e.is_interrupted() {
        StatusCode::CONFLICT
    } else if e.is_user_input() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    failure(status, &e.render(super::jobs::setting))
}

fn typed(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.into()).into_response()
}

const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=utf-8";
const CSV: &str = "text/csv; charset=utf-8";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file to save (Content-Disposition: attachment) named `name`, of type `kind`.
fn attachment(kind: &'static str, name: &str, body: impl Into<axum::body::Body>) -> Response {
    let disposition = disposition(name);
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body.into(),
    )
        .into_response()
}

/// The Content-Disposition of a download named `name`. A header holds only ASCII, so a
/// name with other letters (`étude.xlsx`) goes as RFC 6266's `filename*`, UTF-8
/// percent-encoded, which every current browser reads, after a plain `filename` with
/// those letters as `_` for any that does not. A name's quotes and backslashes cannot
/// occur ([`library::checked`] refuses them), but are replaced here all the same.
fn disposition(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if plain == name {
        return format!("attachment; filename=\"{name}\"");
    }
    // RFC 5987's attr-char: what may stand for itself in an extended value.
    const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(name, ATTR_CHAR);
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

/// The engine's version (a kept run of another version is not run again to compare)
/// and the server's limits.
async fn info(State(app): Shared) -> Response {
    axum::Json(json!({
        "engine_version": env!("CARGO_PKG_VERSION"),
        "max_trials": app.config.max_trials,
        "concurrent": app.config.concurrent,
        "max_body_bytes": MAX_BODY_BYTES,
    }))
    .into_response()
}

async fn schema() -> Response {
    typed(JSON, crate::scenario::schema::to_json())
}

async fn template() -> Response {
    typed(JSON, crate::TEMPLATE)
}

async fn list_scenarios(State(app): Shared) -> Response {
    axum::Json(json!({
        "scenarios": app.library.list(),
        "folder": app.library.dir.display().to_string(),
    }))
    .into_response()
}

async fn get_scenario(State(app): Shared, Path(file): Path<String>) -> Response {
    match app.library.get(&file) {
        // A file put in the folder by hand may not be JSON: said here, naming it and
        // the place, rather than by the browser's parser ("Unexpected token").
        Ok(found) => match crate::scenario::load::check_format(&found.bytes, &file)
            .and_then(|()| crate::scenario::load::value_from_bytes(&found.bytes, &file))
        {
            Ok(_) => typed(JSON, found.bytes),
            Err(e) => error(Error::from(e)),
        },
        Err(e) => error(e),
    }
}

/// Saves the body (a scenario file's text) as `file` in the scenarios folder.
async fn save_scenario(State(app): Shared, Path(file): Path<String>, body: Bytes) -> Response {
    let mut told = Vec::new();
    match app.library.save(&file, &body, &mut told) {
        Ok(path) => axum::Json(json!({
            "saved": file,
            "path": path.display().to_string(),
            "notices": Told::all(&told),
        }))
        .into_response(),
        Err(e) => error(e),
    }
}

/// Saves an uploaded scenario file (`NAME.json`, or a workbook `NAME.xlsx`) as
/// `NAME.json` in the scenarios folder, once the validator accepts it; a workbook's
/// problems name their sheet and cell. The body limit is the one of every request
/// ([`MAX_BODY_BYTES`]): a workbook is a zip, smaller than its scenario's JSON.
/// `?replace=1`: the user has agreed to replace a scenario of the same name.
#[derive(Deserialize)]
struct UploadQuery {
    #[serde(default)]
    replace: u8,
}

async fn upload_scenario(
    State(app): Shared,
    Path(file): Path<String>,
    Query(query): Query<UploadQuery>,
    body: Bytes,
) -> Response {
    if query.replace == 0 {
        match app.library.upload_would_replace(&file) {
            Ok(Some(kept)) => {
                let body = json!({
                    "error": format!("the scenarios folder has a {kept} already: uploading {file} would replace it"),
                    "exists": kept,
                });
                return (StatusCode::CONFLICT, axum::Json(body)).into_response();
            }
            Ok(None) => {}
            Err(e) => return error(e),
        }
    }
    // Reading and validating a large file or workbook takes a while: off the
    // runtime's few worker threads, so that progress events and Cancel keep flowing.
    let library = app.library.clone();
    let uploaded = file.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut told = Vec::new();
        let result = library.upload(&uploaded, &body, &mut told);
        (result, told)
    })
    .await;
    let result = match result {
        Ok(result) => result,
        Err(e) => {
            return failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("the upload stopped: {e}"),
            );
        }
    };
    match result {
        (Ok((saved, path)), told) => axum::Json(json!({
            "saved": saved,
            "uploaded": file,
            "path": path.display().to_string(),
            "notices": Told::all(&told),
        }))
        .into_response(),
        (Err(e), told) => refused(e, &told),
    }
}

/// The scenario `file` as a scenario workbook, named after it (`NAME.xlsx`).
async fn scenario_workbook(State(app): Shared, Path(file): Path<String>) -> Response {
    match app.library.workbook(&file) {
        Ok(bytes) => {
            let name = format!("{}.xlsx", file.trim_end_matches(".json"));
            attachment(XLSX, &name, bytes)
        }
        Err(e) => error(e),
    }
}

/// The body (the editor's draft, as JSON text) as a scenario workbook, once the
/// validator accepts it: the draft as it stands, saved or not.
async fn draft_workbook(body: Bytes) -> Response {
    let made = blocking(move || library::as_workbook(body.to_vec(), "the scenario".into())).await;
    match made {
        Ok(Ok(bytes)) => attachment(XLSX, "scenario.xlsx", bytes),
        Ok(Err(e)) => error(e),
        Err(stopped) => stopped,
    }
}

/// Runs `work` (reading, validating or writing a scenario: CPU work that a large file
/// makes long) off the runtime's few worker threads, so that other requests, progress
/// events and Cancel keep flowing meanwhile.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the request stopped: {e}"),
        )
    })
}

/// Checks the body (a scenario's text) with the engine's validator: `ok`, or the
/// problems by field; the values valid but probably meant as fractions as warnings by
/// field (`{pointer, message}`, as in a report), and everything the run API told
/// (those warnings among them) as notices.
async fn validate(body: Bytes) -> Response {
    let source = Source::Bytes {
        bytes: body.to_vec(),
        name: "the scenario".into(),
    };
    let loaded = match blocking(move || {
        let mut notices = Vec::new();
        (run::load(&source, &[], &mut notices), notices)
    })
    .await
    {
        Ok(loaded) => loaded,
        Err(stopped) => return stopped,
    };
    match loaded {
        (Ok(loaded), notices) => axum::Json(json!({
            "ok": true,
            "problems": [],
            "warnings": loaded.warnings,
            "notices": Told::all(&notices),
            "summary": loaded.scenario.summary(),
        }))
        .into_response(),
        (
            Err(Error::Scenario(ScenarioError::Invalid {
                problems: found, ..
            })),
            notices,
        ) => axum::Json(json!({
            "ok": false,
            "problems": problems(&found),
            "notices": Told::all(&notices),
        }))
        .into_response(),
        (Err(e), _) => axum::Json(json!({
            "ok": false,
            "problems": [{ "path": "", "message": e.render(super::jobs::setting) }],
        }))
        .into_response(),
    }
}

/// The scenario a job names: a file of the library, or the editor's JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioRef {
    file: Option<String>,
    json: Option<Value>,
    name: Option<String>,
}

/// A job's request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobRequest {
    kind: String,
    scenario: Option<ScenarioRef>,
    trials: Option<u64>,
    seed: Option<u64>,
    /// `"plain"` (the default) or `"lhs"`.
    sampling: Option<String>,
    #[serde(default)]
    label: String,
    #[serde(default)]
    params: Vec<String>,
    #[serde(default)]
    switch: Vec<String>,
    target_prob_loss: Option<f64>,
    /// An agreement analysis's terms, each `POINTER=V1,V2,...` as `agreement --term`
    /// takes them, and its limits (probabilities).
    #[serde(default)]
    terms: Vec<String>,
    max_worse_off: Option<f64>,
    max_collapse: Option<f64>,
    /// The two kept runs a comparison or the run a trial table is of.
    #[serde(default)]
    runs: Vec<i64>,
}

impl App {
    fn scenario(&self, reference: Option<ScenarioRef>) -> Result<Scenario, Error> {
        match reference {
            Some(ScenarioRef {
                file: Some(file),
                json: None,
                ..
            }) => {
                let found = self.library.get(&file)?;
                Ok(Scenario::File {
                    bytes: found.bytes,
                    name: found.name,
                })
            }
            Some(ScenarioRef {
                file: None,
                json: Some(value),
                name,
            }) => Ok(Scenario::Edited {
                value,
                name: name.unwrap_or_else(|| "the edited scenario".into()),
            }),
            _ => Err(Error::request(
                "`scenario` must name a file ({\"file\": NAME}) or give one ({\"json\": {...}})",
            )),
        }
    }

    /// A kept run's scenario as a file of the name it went by, with its seed and trials.
    fn kept(&self, id: i64) -> Result<Request, Error> {
        let listed = self.history.get(id)?;
        Ok(Request {
            scenario: Scenario::File {
                bytes: self.history.piece(id, Piece::Scenario)?,
                name: listed.file,
            },
            trials: Some(listed.trials),
            seed: Some(listed.seed),
            sampling: Sampling::parse(&listed.sampling).unwrap_or_default(),
            max_trials: self.config.max_trials,
            max_memory: self.config.max_memory,
        })
    }

    /// The one kept run `runs` names, to be made again for a file of its own (its
    /// trials, its workbook): refused when it was made by another version of the
    /// engine, whose figures this one would not give again.
    fn remade(&self, runs: &[i64]) -> Result<(Request, Listed), Error> {
        let [id] = runs[..] else {
            return Err(Error::request("`runs` must name the kept run"));
        };
        let listed = self.history.get(id)?;
        let engine = env!("CARGO_PKG_VERSION");
        if listed.engine_version != engine {
            return Err(Error::request(format!(
                "run {id} was made by engine {}, and this is engine {engine}, whose figures \
                 may differ: run its scenario again to get its files",
                listed.engine_version
            )));
        }
        Ok((self.kept(id)?, listed))
    }

    /// Refuses to compare kept runs `a` and `b` trial by trial unless they share a seed,
    /// a trial count, a sampling method and this engine: a comparison runs both again
    /// with the first's, so any difference would show `b` with figures that are not its
    /// own; and a currency, since a comparison subtracts one's figures from the other's.
    /// (The page shows such runs' summaries side by side instead.)
    fn comparable(&self, a: i64, b: i64) -> Result<(), Error> {
        let (first, second) = (self.history.get(a)?, self.history.get(b)?);
        let engine = env!("CARGO_PKG_VERSION");
        let mut differ = Vec::new();
        if first.seed != second.seed {
            differ.push(format!("seed ({} and {})", first.seed, second.seed));
        }
        if first.trials != second.trials {
            differ.push(format!(
                "trials ({} and {})",
                thousands(first.trials),
                thousands(second.trials)
            ));
        }
        if first.currency != second.currency {
            differ.push(format!(
                "currency (\"{}\" and \"{}\")",
                first.currency, second.currency
            ));
        }
        if first.sampling != second.sampling {
            differ.push(format!(
                "sampling ({} and {})",
                first.sampling, second.sampling
            ));
        }
        for listed in [&first, &second] {
            if listed.engine_version != engine {
                differ.push(format!(
                    "engine (run {} was made by engine {}, this is {engine})",
                    listed.id, listed.engine_version
                ));
            }
        }
        if differ.is_empty() {
            return Ok(());
        }
        Err(Error::request(format!(
            "runs {a} and {b} cannot be compared trial by trial: they differ in {}; a \
             comparison runs both with one seed, trial count and sampling on this engine \
             (common random numbers) and takes one's figures from the other's, in one \
             currency",
            differ.join(", ")
        )))
    }

    /// Checks a job's request and queues its work.
    fn start(&self, r: JobRequest) -> Result<Arc<Job>, Error> {
        if let Some(n) = r.trials {
            tasks::check_trials(n, self.config.max_trials)?;
        }
        check_label(&r.label)?;
        let history = self.history.clone();
        let sampling = match r.sampling.as_deref() {
            None => Sampling::Plain,
            Some(name) => name
                .parse()
                .map_err(|e| Error::request(format!("`sampling`: {e}")))?,
        };
        let request = |scenario| Request {
            scenario,
            trials: r.trials,
            seed: r.seed,
            sampling,
            max_trials: self.config.max_trials,
            max_memory: self.config.max_memory,
        };
        Ok(match r.kind.as_str() {
            "run" => {
                let request = request(self.scenario(r.scenario)?);
                let label = r.label;
                self.queue
                    .start(move |m, t| tasks::run(request, label, &history, m, t))
            }
            "sweep" => {
                let request = request(self.scenario(r.scenario)?);
                let params = r.params;
                self.queue
                    .start(move |m, t| tasks::sweep(request, &params, m, t))
            }
            "sensitivity" => {
                let request = request(self.scenario(r.scenario)?);
                let (switch, target) = (r.switch, r.target_prob_loss);
                self.queue
                    .start(move |m, t| tasks::sensitivity(request, &switch, target, m, t))
            }
            "agreement" => {
                let request = request(self.scenario(r.scenario)?);
                let terms = r.terms;
                let limits = Limits {
                    max_worse_off: r.max_worse_off,
                    max_collapse: r.max_collapse,
                };
                self.queue
                    .start(move |m, t| tasks::agreement(request, &terms, limits, m, t))
            }
            "compare" => {
                let [a, b] = r.runs[..] else {
                    return Err(Error::request("`runs` must name two kept runs to compare"));
                };
                self.comparable(a, b)?;
                let first = self.kept(a)?;
                let second = self.kept(b)?.scenario;
                self.queue
                    .start(move |m, t| tasks::compare(first, second, m, t))
            }
            "trials_csv" => {
                let (request, _) = self.remade(&r.runs)?;
                self.queue
                    .start(move |m, t| tasks::trials_csv(request, m, t))
            }
            "xlsx" => {
                let (request, listed) = self.remade(&r.runs)?;
                let (id, created) = (listed.id, listed.created);
                self.queue
                    .start(move |m, t| tasks::results_xlsx(request, id, created, m, t))
            }
            other => {
                return Err(Error::request(format!(
                    "`kind` {other:?} is not a job: run, sweep, sensitivity, agreement, compare, trials_csv or xlsx"
                )));
            }
        })
    }
}

/// A request's JSON body, or the message for a 400 that names the field whose value was
/// wrong ("the request's `trials`: invalid type: string ..."), not only where it was.
fn request_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let message = match serde_path_to_error::deserialize(&mut json) {
        // Trailing text after the value is as wrong as a bad value.
        Ok(value) => match json.end() {
            Ok(()) => return Ok(value),
            Err(e) => format!("the request: {e}"),
        },
        Err(e) => match e.path().to_string() {
            path if path == "." => format!("the request: {}", e.into_inner()),
            path => format!("the request's `{path}`: {}", e.into_inner()),
        },
    };
    Err(message)
}

async fn start_job(State(app): Shared, body: Bytes) -> Response {
    let request: JobRequest = match request_body(&body) {
        Ok(r) => r,
        Err(message) => return failure(StatusCode::BAD_REQUEST, &message),
    };
    match app.start(request) {
        Ok(job) => (StatusCode::ACCEPTED, axum::Json(json!({ "job": job.id }))).into_response(),
        Err(e) => error(e),
    }
}

/// No job `id`: never started (404), or let go since (410).
fn no_job(queue: &Queue, id: u64) -> Response {
    if queue.started(id) {
        failure(
            StatusCode::GONE,
            &format!(
                "job {id} was let go: the server keeps the latest {} jobs; start it again",
                super::jobs::KEPT
            ),
        )
    } else {
        failure(StatusCode::NOT_FOUND, &format!("there is no job {id}"))
    }
}

/// A job's state with its progress.
fn progress(job: &Job) -> Value {
    use std::sync::atomic::Ordering::Relaxed;
    let mut value = serde_json::to_value(job.state()).unwrap_or(Value::Null);
    value["done"] = json!(job.monitor.done.load(Relaxed));
    value["total"] = json!(job.monitor.total.load(Relaxed));
    value["job"] = json!(job.id);
    // A finished analysis whose result was let go still says `shown`; this says its
    // page and files are gone (410), so a client offers to start it again.
    value["released"] = json!(job.released().is_some());
    value["notices"] = json!(job.told());
    value
}

async fn job_state(State(app): Shared, Path(id): Path<u64>) -> Response {
    match app.queue.get(id) {
        Some(job) => axum::Json(progress(&job)).into_response(),
        None => no_job(&app.queue, id),
    }
}

async fn cancel(State(app): Shared, Path(id): Path<u64>) -> Response {
    match app.queue.get(id) {
        Some(job) => {
            job.cancel();
            axum::Json(progress(&job)).into_response()
        }
        None => no_job(&app.queue, id),
    }
}

/// How often a job's progress is sent.
const TICK: Duration = Duration::from_millis(200);

/// One page following a job's events. Dropped unfinished (the page went away), it
/// cancels the job if it was the last one following: another tab may still watch it.
struct Follower(Arc<Job>);

impl Follower {
    fn new(job: Arc<Job>) -> Follower {
        job.followers.fetch_add(1, Ordering::SeqCst);
        Follower(job)
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let last = self.0.followers.fetch_sub(1, Ordering::SeqCst) == 1;
        if last && !self.0.state().finished() {
            self.0.cancel();
        }
    }
}

/// The job's progress as server-sent events (`progress` while it waits or runs, then
/// one `end` with its final state); the last client following it that goes away
/// cancels the job.
async fn events(State(app): Shared, Path(id): Path<u64>) -> Response {
    let Some(job) = app.queue.get(id) else {
        return no_job(&app.queue, id);
    };
    Sse::new(stream(Follower::new(job)))
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn stream(follower: Follower) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(Some(follower), |follower| async move {
        let follower = follower?;
        let state = progress(&follower.0);
        if follower.0.state().finished() {
            return Some((
                Ok(Event::default().event("end").data(state.to_string())),
                None,
            ));
        }
        let event = Event::default().event("progress").data(state.to_string());
        tokio::time::sleep(TICK).await;
        Some((Ok(event), Some(follower)))
    })
}

async fn job_page(State(app): Shared, Path(id): Path<u64>) -> Response {
    let Some(job) = app.queue.get(id) else {
        return no_job(&app.queue, id);
    };
    match job.page() {
        Some(page) if !page.html.is_empty() => typed(HTML, page.html.clone()),
        _ if job.released().is_some_and(|r| r.page) => released(),
        _ => not_yet(&job, "page"),
    }
}

/// A job's file (an analysis's JSON, a kept run's trials or workbook), its type by
/// its name's extension.
async fn job_data(State(app): Shared, Path(id): Path<u64>) -> Response {
    let Some(job) = app.queue.get(id) else {
        return no_job(&app.queue, id);
    };
    match job.page() {
        Some(page) => {
            let kind = if page.data_name.ends_with(".csv") {
                CSV
            } else if page.data_name.ends_with(".xlsx") {
                XLSX
            } else {
                JSON
            };
            attachment(kind, &page.data_name, page.data.clone())
        }
        None if job.released().is_some() => released(),
        None => not_yet(&job, "result"),
    }
}

/// An analysis's results workbook, named by its kind (`sweep.xlsx`).
async fn job_workbook(State(app): Shared, Path(id): Path<u64>) -> Response {
    let Some(job) = app.queue.get(id) else {
        return no_job(&app.queue, id);
    };
    match job.page().as_ref().and_then(|page| page.workbook.as_ref()) {
        Some((name, bytes)) => attachment(XLSX, name, bytes.clone()),
        None if job.released().is_some_and(|r| r.workbook) => released(),
        None => not_yet(&job, "workbook"),
    }
}

/// A job without the part asked for: none yet while it runs, none at all once finished
/// (a run's trials table has no page, a failed job nothing).
fn not_yet(job: &Job, part: &str) -> Response {
    let message = if job.state().finished() {
        format!("this job has no {part}")
    } else {
        format!("this job has no {part} yet: it has not finished")
    };
    failure(StatusCode::NOT_FOUND, &message)
}

/// A finished job whose result was let go to keep the server's memory in bounds.
fn released() -> Response {
    failure(
        StatusCode::GONE,
        &format!(
            "this result was let go to keep the server's memory in bounds (it keeps the latest results, up to {} MiB together): start it again",
            super::jobs::KEPT_BYTES >> 20
        ),
    )
}

async fn list_runs(State(app): Shared) -> Response {
    match app.history.list() {
        Ok(runs) => axum::Json(json!({ "runs": runs })).into_response(),
        Err(e) => error(e),
    }
}

/// The response for an error about run `id`: 404 if the history has no such run (as
/// for an unknown job), else as [`error`] says.
fn run_error(app: &App, id: i64, e: Error) -> Response {
    // A missing run is the only refusal of `get` that is the user's.
    let missing = matches!(app.history.get(id), Err(g) if g.is_user_input());
    if missing {
        failure(StatusCode::NOT_FOUND, &e.to_string())
    } else {
        error(e)
    }
}

async fn get_run(State(app): Shared, Path(id): Path<i64>) -> Response {
    match app.history.get(id) {
        Ok(run) => axum::Json(run).into_response(),
        Err(e) => run_error(&app, id, e),
    }
}

async fn delete_run(State(app): Shared, Path(id): Path<i64>) -> Response {
    match app.history.delete(id) {
        Ok(()) => axum::Json(json!({ "deleted": id })).into_response(),
        Err(e) => run_error(&app, id, e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Label {
    label: String,
}

/// The most characters a run's label may have: a label is a line in the history's
/// table, not a document.
const MAX_LABEL_CHARS: usize = 200;

/// Refuses a label the history's table could not show as one line: too long, or
/// holding a line break or control character (which would also break the label's
/// line in a summary copied out).
fn check_label(label: &str) -> Result<(), Error> {
    let chars = label.chars().count();
    if chars > MAX_LABEL_CHARS {
        return Err(Error::request(format!(
            "`label` has {chars} characters; a label may have at most {MAX_LABEL_CHARS}"
        )));
    }
    if let Some(why) = crate::scenario::breaks_the_line(label) {
        return Err(Error::request(format!(
            "`label` {why}: a label is one line"
        )));
    }
    Ok(())
}

async fn label_run(State(app): Shared, Path(id): Path<i64>, body: Bytes) -> Response {
    let label: Label = match request_body(&body) {
        Ok(l) => l,
        Err(message) => return failure(StatusCode::BAD_REQUEST, &message),
    };
    if let Err(e) = check_label(&label.label) {
        return error(e);
    }
    match app.history.label(id, &label.label) {
        Ok(()) => axum::Json(json!({ "id": id, "label": label.label })).into_response(),
        Err(e) => run_error(&app, id, e),
    }
}

/// A stored piece of a kept run, by file name.
async fn run_piece(State(app): Shared, Path((id, piece)): Path<(i64, String)>) -> Response {
    let (piece, kind) = match piece.as_str() {
        "scenario.json" => (Piece::Scenario, JSON),
        "summary.txt" => (Piece::Summary, "text/plain; charset=utf-8"),
        "report.json" => (Piece::ReportJson, JSON),
        "report.html" => (Piece::ReportHtml, HTML),
        "trace.html" => (Piece::TraceHtml, HTML),
        _ => return failure(StatusCode::NOT_FOUND, &format!("a run has no {piece}")),
    };
    match app.history.piece(id, piece) {
        Ok(bytes) => typed(kind, bytes),
        Err(e) => run_error(&app, id, e),
    }
}
