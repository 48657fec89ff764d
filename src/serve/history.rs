//! The run history: every finished run kept in one SQLite file, with the scenario as
//! run (its bytes and the name it went by), seed, trials, sampling, engine version, time, the
//! report (JSON, page, worst-case trace page: stored once, as rendered) and a label.
//!
//! A run is written in one transaction when it has finished, and SQLite's journal keeps
//! the file whole if the process is killed at any moment: a killed server loses at most
//! the run in progress.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::lhs::Sampling;
use crate::run::{Error, Result};

/// The history's tables (created if missing).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    created TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    file TEXT NOT NULL,
    scenario BLOB NOT NULL,
    seed INTEGER NOT NULL,
    trials INTEGER NOT NULL,
    engine_version TEXT NOT NULL,
    mean_npv REAL NOT NULL,
    prob_loss REAL NOT NULL,
    currency TEXT NOT NULL,
    summary TEXT NOT NULL,
    report_json TEXT NOT NULL,
    report_html TEXT NOT NULL,
    trace_html TEXT NOT NULL
);";

/// Columns added since the first history: each is added to a history that lacks it, with
/// the value its runs had (a history kept before LHS holds plain runs only).
const ADDED: &[(&str, &str)] = &[("sampling", "TEXT NOT NULL DEFAULT 'plain'")];

/// A run to keep.
pub struct NewRun {
    pub created: String,
    pub label: String,
    /// The scenario's `name`.
    pub title: String,
    /// The name the scenario file went by (in the report's provenance).
    pub file: String,
    pub scenario: Vec<u8>,
    pub seed: u64,
    pub trials: u64,
    pub sampling: Sampling,
    pub engine_version: String,
    pub mean_npv: f64,
    pub prob_loss: f64,
    pub currency: String,
    /// The command line's summary of the run, as `run` prints it.
    pub summary: String,
    pub report_json: String,
    pub report_html: String,
    pub trace_html: String,
}

/// A kept run as the list shows it.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub id: i64,
    pub created: String,
    pub label: String,
    pub title: String,
    pub file: String,
    pub seed: u64,
    pub trials: u64,
    /// `"plain"` or `"lhs"`.
    pub sampling: String,
    pub engine_version: String,
    pub mean_npv: f64,
    pub prob_loss: f64,
    pub currency: String,
}

/// The stored pieces of a run, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    Scenario,
    Summary,
    ReportJson,
    ReportHtml,
    TraceHtml,
}

impl Piece {
    fn column(self) -> &'static str {
        match self {
            Piece::Scenario => "scenario",
            Piece::Summary => "summary",
            Piece::ReportJson => "report_json",
            Piece::ReportHtml => "report_html",
            Piece::TraceHtml => "trace_html",
        }
    }
}

/// The open history.
pub struct History {
    db: Mutex<Connection>,
}

fn fault(what: &str) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
    move |e| Error::fault(format!("the run history: {what}"), e)
}

const LISTED: &str = "id, created, label, title, file, seed, trials, engine_version, \
                      mean_npv, prob_loss, currency, sampling";

fn listed(row: &rusqlite::Row) -> rusqlite::Result<Listed> {
    Ok(Listed {
        id: row.get(0)?,
        created: row.get(1)?,
        label: row.get(2)?,
        title: row.get(3)?,
        file: row.get(4)?,
        seed: row.get::<_, i64>(5)? as u64,
        trials: row.get::<_, i64>(6)? as u64,
        engine_version: row.get(7)?,
        mean_npv: row.get(8)?,
        prob_loss: row.get(9)?,
        currency: row.get(10)?,
        sampling: row.get(11)?,
    })
}

/// Adds each of [`ADDED`] that the history's table lacks.
fn add_columns(db: &Connection) -> rusqlite::Result<()> {
    for (name, definition) in ADDED {
        let present: bool = db.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('runs') WHERE name = ?1",
            [name],
            |row| row.get(0),
        )?;
        if !present {
            db.execute_batch(&format!("ALTER TABLE runs ADD COLUMN {name} {definition}"))?;
        }
    }
    Ok(())
}

impl History {
    /// Opens (creating it and its folder if need be) the history at `path`.
    pub fn open(path: &Path) -> Result<History> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::request(format!(
                    "cannot create the folder of the history {}: {e}",
                    path.display()
                ))
            })?;
        }
        let db = Connection::open(path).map_err(|e| {
            Error::request(format!("cannot open the history {}: {e}", path.display()))
        })?;
        db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .and_then(|()| db.execute_batch(SCHEMA))
            .and_then(|()| add_columns(&db))
            .map_err(|e| {
                Error::request(format!(
                    "{} is not a history this program can use: {e}",
                    path.display()
                ))
            })?;
        Ok(History { db: Mutex::new(db) })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `run`, in one transaction; its id.
    pub fn insert(&self, run: &NewRun) -> Result<i64> {
        let mut db = self.db();
        let tx = db.transaction().map_err(fault("cannot start a write"))?;
        tx.execute(
            "INSERT INTO runs (created, label, title, file, scenario, seed, trials, \
             engine_version, mean_npv, prob_loss, currency, summary, report_json, report_html, trace_html, \
             sampling) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                run.created,
                run.label,
                run.title,
                run.file,
                run.scenario,
                run.seed as i64,
                run.trials as i64,
                run.engine_version,
                run.mean_npv,
                run.prob_loss,
                run.currency,
                run.summary,
                run.report_json,
                run.report_html,
                run.trace_html,
                run.sampling.name()
            ],
        )
        .map_err(fault("cannot keep the run"))?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(fault("cannot keep the run"))?;
        Ok(id)
    }

    /// Every kept run, newest first.
    pub fn list(&self) -> Result<Vec<Listed>> {
        let db = self.db();
        let mut statement = db
            .prepare(&format!("SELECT {LISTED} FROM runs ORDER BY id DESC"))
            .map_err(fault("cannot list the runs"))?;
        let rows = statement
            .query_map([], listed)
            .map_err(fault("cannot list the runs"))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(fault("cannot list the runs"))
    }

    /// Run `id` as listed.
    pub fn get(&self, id: i64) -> Result<Listed> {
        self.db()
            .query_row(
                &format!("SELECT {LISTED} FROM runs WHERE id = ?1"),
                [id],
                listed,
            )
            .optional()
            .map_err(fault("cannot read a run"))?
            .ok_or_else(|| missing(id))
    }

    /// One stored piece of run `id`, as bytes.
    pub fn piece(&self, id: i64, piece: Piece) -> Result<Vec<u8>> {
        let column = piece.column();
        let value: Option<rusqlite::types::Value> = self
            .db()
            .query_row(
                &format!("SELECT {column} FROM runs WHERE id = ?1"),
                [id],
                |row| row.get(0),
            )
            .optional()
            .map_err(fault("cannot read a run"))?;
        match value {
            Some(rusqlite::types::Value::Blob(b)) => Ok(b),
            Some(rusqlite::types::Value::Text(t)) => Ok(t.into_bytes()),
            _ => Err(missing(id)),
        }
    }

    /// Sets run `id`'s label.
    pub fn label(&self, id: i64, label: &str) -> Result<()> {
        let changed = self
            .db()
            .execute(
                "UPDATE runs SET label = ?2 WHERE id = ?1",
                params![id, label],
            )
            .map_err(fault("cannot label a run"))?;
        if changed == 0 {
            return Err(missing(id));
        }
        Ok(())
    }

    /// Deletes run `id`.
    pub fn delete(&self, id: i64) -> Result<()> {
        let changed = self
            .db()
            .execute("DELETE FROM runs WHERE id = ?1", [id])
            .map_err(fault("cannot delete a run"))?;
        if changed == 0 {
            return Err(missing(id));
        }
        Ok(())
    }
}

fn missing(id: i64) -> Error {
    Error::request(format!("there is no run {id} in the history"))
}
