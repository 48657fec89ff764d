//! The web app behind `consortium-sim serve`: an HTTP server on this machine (or one
//! machine for a team) whose pages edit a scenario, run it, show the report and keep
//! every run in a history.
//!
//! It is one more front end of the [run API](crate::run): its handlers build
//! [`RunOptions`](crate::run::RunOptions), pass a [`Monitor`](crate::engine::Monitor) that
//! the page's Cancel button sets, and render through the [exporters](crate::export); no
//! figure is computed here. The parts: `guard` (which requests are let in: Host,
//! Origin, token, the Content-Security-Policy), `library` (the scenarios offered: the
//! shipped ones and a folder's), `jobs` (the queue of runs and analyses, their
//! progress and cancellation), `history` (the runs kept in SQLite), `api` (the
//! routes) and `assets` (the page, its script and style, embedded in the binary).

mod api;
mod assets;
mod guard;
mod history;
mod jobs;
mod library;
mod tasks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::run::{Error, Result};

/// Requests larger than this are refused (413) before they are read. Uploaded
/// scenario workbooks too: a workbook is a zip, several times smaller than its
/// scenario's JSON, so a limit that fits a large JSON scenario fits its workbook.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The most trials one request may ask for unless the server is started with another
/// limit (`--max-trials`).
pub const DEFAULT_MAX_TRIALS: u64 = 10_000_000;

/// How the server is started.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (port 0: any free port).
    pub bind: SocketAddr,
    /// The folder of the user's scenarios: listed beside the shipped ones, and the only
    /// place the editor saves into.
    pub scenarios: PathBuf,
    /// The SQLite file of the run history.
    pub db: PathBuf,
    /// The most trials one run may ask for.
    pub max_trials: u64,
    /// How many runs may go at once; the others wait in the queue.
    pub concurrent: usize,
    /// The memory each run may take (the run API's memory guard; default half the
    /// machine's, divided between the concurrent runs).
    pub max_memory: Option<u64>,
    /// A secret every request must carry (as a cookie, set by a first visit with
    /// `?token=`). Required when `bind` is not a loopback address: one is generated if
    /// none is given.
    pub token: Option<String>,
    /// Other names (`host` or `host:port`) by which browsers reach the server: the
    /// machine's name on the network, a reverse proxy's. Requests addressed to any
    /// other name are refused.
    pub hosts: Vec<String>,
}

impl Config {
    /// Listening on `bind`, with the scenarios folder and history in the user's data
    /// directory ([`data_dir`]).
    pub fn new(bind: SocketAddr) -> Config {
        let data = data_dir();
        Config {
            bind,
            scenarios: data.join("scenarios"),
            db: data.join("history.sqlite3"),
            max_trials: DEFAULT_MAX_TRIALS,
            concurrent: 1,
            max_memory: None,
            token: None,
            hosts: Vec::new(),
        }
    }
}

/// The app's folder in the user's data directory (`$XDG_DATA_HOME/consortium-sim`, or
/// `~/.local/share/consortium-sim` on Linux; the platform's equivalent elsewhere), or
/// `./consortium-sim` when there is none.
pub fn data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("consortium-sim")
}

/// A server bound to its address, ready to [`run`](Server::run).
pub struct Server {
    listener: std::net::TcpListener,
    app: Arc<api::App>,
    runtime: tokio::runtime::Runtime,
}

/// Opens the history and the scenarios folder and binds the address, so that the URL
/// is known (and a bad address, a busy port or an unreadable history refused) before
/// anything is served.
pub fn bind(mut config: Config) -> Result<Server> {
    if config.concurrent == 0 {
        return Err(Error::request("`concurrent` must be at least 1"));
    }
    if !config.bind.ip().is_loopback() && config.token.is_none() {
        config.token = Some(guard::new_token()?);
    }
    std::fs::create_dir_all(&config.scenarios).map_err(|e| {
        Error::request(format!(
            "cannot create the scenarios folder {}: {e}",
            config.scenarios.display()
        ))
    })?;
    let history = history::History::open(&config.db)?;
    let listener = std::net::TcpListener::bind(config.bind)
        .map_err(|e| Error::request(format!("cannot listen on {}: {e}", config.bind)))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::fault("cannot listen", e))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::fault("cannot listen", e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::fault("cannot start the server's threads", e))?;
    let app = Arc::new(api::App::new(config, address, history));
    Ok(Server {
        listener,
        app,
        runtime,
    })
}

impl Server {
    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.app.address
    }

    /// The URL to open (with the token, when there is one, for the first visit).
    pub fn url(&self) -> String {
        let base = format!("http://{}/", self.app.address);
        match &self.app.config.token {
            Some(token) => format!("{base}?token={token}"),
            None => base,
        }
    }

    /// Serves until the process ends.
    pub fn run(self) -> Result<()> {
        let Server {
            listener,
            app,
            runtime,
        } = self;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|e| Error::fault("cannot listen", e))?;
            axum::serve(listener, api::router(app))
                .await
                .map_err(|e| Error::fault("the server stopped", e))
        })
    }
}
