//! Renderers: every way a run's or an analysis's figures leave the program.
//!
//! Nothing here computes a figure: [`crate::summary`] and [`crate::analysis`] do, and
//! these modules only format them, with numbers and money through one module,
//! [`format`](mod@format). Files are written through one small interface, in the manner of
//! hyperfine's exporters: each file format is one module that implements [`Exporter`]
//! and names itself in a [`Format`] constant, registered by one line in the
//! `formats!` list below; [`write_all`] writes a list of (format, path) pairs, each file
//! atomically (`xlsx`, the results workbook, is one of them). The terminal summary, the analysis tables and the trace's story are
//! printed, not written to files, and are plain functions ([`terminal`],
//! [`analysis::terminal`], [`story`]); the analyses' pages ([`analysis::html`]) and the
//! [`charts`] are what the HTML format uses.

pub mod analysis;
pub mod charts;
pub mod format;
pub mod story;
pub mod terminal;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::analysis::agreement::Agreement;
use crate::analysis::compare::Comparison;
use crate::analysis::sensitivity::Sensitivity;
use crate::analysis::sweep::Sweep;
use crate::engine::{Interrupted, Monitor, Outcomes};
use crate::output::{self, OutputError};
use crate::scenario::Scenario;
use crate::summary::Report;

/// Declares the file formats' modules and lists their [`Format`] constants in
/// [`FORMATS`]: adding a format is one name here and one file.
macro_rules! formats {
    ($($module:ident),* $(,)?) => {
        $(pub mod $module;)*
        /// Every file format, in the order of this list.
        pub const FORMATS: &[Format] = &[$($module::FORMAT),*];
    };
}

formats! {
    json,
    html,
    csv,
    xlsx,
    cashflow,
}

/// What can be exported: a run, or an analysis with its scenario's currency symbol.
#[derive(Clone, Copy)]
pub enum Subject<'a> {
    Run(RunResult<'a>),
    Sweep(&'a Sweep, &'a str),
    Sensitivity(&'a Sensitivity, &'a str),
    Compare(&'a Comparison, &'a str),
    Agreement(&'a Agreement, &'a str),
}

/// The kind of a [`Subject`], known before the run that makes it: a front end checks
/// that every format asked for can render it before any trial runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Run,
    Sweep,
    Sensitivity,
    Compare,
    Agreement,
}

impl Kind {
    /// The kind as a reader names it, in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Run => "a run",
            Kind::Sweep => "a sweep",
            Kind::Sensitivity => "a sensitivity analysis",
            Kind::Compare => "a comparison",
            Kind::Agreement => "an agreement analysis",
        }
    }
}

impl Subject<'_> {
    /// What kind of result this is.
    pub fn kind(&self) -> Kind {
        match self {
            Subject::Run(_) => Kind::Run,
            Subject::Sweep(..) => Kind::Sweep,
            Subject::Sensitivity(..) => Kind::Sensitivity,
            Subject::Compare(..) => Kind::Compare,
            Subject::Agreement(..) => Kind::Agreement,
        }
    }
}

/// A run, as its exporters need it: the report, the scenario (validated and as written)
/// and the trials' outcomes in trial order.
#[derive(Clone, Copy)]
pub struct RunResult<'a> {
    pub report: &'a Report,
    pub scenario: &'a Scenario,
    /// The scenario's JSON as run (with `--set` applied), for the page's inputs table.
    pub value: &'a Value,
    pub outcomes: &'a Outcomes,
}

/// One file format.
pub trait Exporter: Sync {
    /// Whether this format has a rendering of results of this kind (the sweep CSV has
    /// no counterpart for a comparison, say).
    fn supports(&self, kind: Kind) -> bool;

    /// Writes `subject` in this format to `w`. A large output (the trial table) streams
    /// into `w`; small ones may be built as a string first. Called only when
    /// [`Exporter::supports`] says yes.
    fn write(&self, subject: &Subject, w: &mut dyn Write) -> io::Result<()>;
}

/// A file format: its name, what a reader calls what it writes, the file name
/// extensions that say so, and its exporter.
#[derive(Clone, Copy)]
pub struct Format {
    name: &'static str,
    noun: &'static str,
    extensions: &'static [&'static str],
    exporter: &'static dyn Exporter,
}

impl Format {
    /// A format named `name`, whose files a reader calls `noun` ("an Excel workbook")
    /// and names with one of `extensions` (lower case, without the dot; the first is the
    /// one suggested).
    pub const fn new(
        name: &'static str,
        noun: &'static str,
        extensions: &'static [&'static str],
        exporter: &'static dyn Exporter,
    ) -> Format {
        Format {
            name,
            noun,
            extensions,
            exporter,
        }
    }

    /// The format's name: "json", "html", "csv".
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The registered format of this name.
    pub fn named(name: &str) -> Option<Format> {
        FORMATS.iter().copied().find(|f| f.name == name)
    }

    /// Parses `FORMAT=FILE` (a registered format's name, `=`, a path), as a front end
    /// takes a format the user names; the error lists the formats there are.
    pub fn with_path(spec: &str) -> Result<(Format, PathBuf), String> {
        let names = || {
            FORMATS
                .iter()
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some((name, path)) = spec.split_once('=') else {
            return Err(format!(
                "expected FORMAT=FILE, such as json=report.json (formats: {})",
                names()
            ));
        };
        let format = Format::named(name)
            .ok_or_else(|| format!("no format named '{name}' (formats: {})", names()))?;
        if path.is_empty() {
            return Err(format!("{name}= needs a file name"));
        }
        Ok((format, PathBuf::from(path)))
    }

    /// What its files hold, as their names should say: see [`FileType`].
    pub fn file_type(&self) -> FileType {
        FileType {
            noun: self.noun,
            extensions: self.extensions,
        }
    }

    /// Fails when `path` (given as `what`, a flag or an argument's name) ends in another
    /// format's extension and none of this one's: see [`FileType::check_name`].
    pub fn check_name(&self, what: &str, path: &Path) -> Result<(), ExportError> {
        self.file_type().check_name(what, path)
    }

    /// Fails unless this format can render results of `kind`.
    pub fn check_for(&self, kind: Kind) -> Result<(), ExportError> {
        if self.exporter.supports(kind) {
            Ok(())
        } else {
            Err(ExportError::Unsupported(self.name, kind.noun()))
        }
    }

    /// `subject` in this format, in memory (for small outputs and tests).
    pub fn render(&self, subject: &Subject) -> Result<Vec<u8>, ExportError> {
        self.check_for(subject.kind())?;
        let mut bytes = Vec::new();
        self.exporter
            .write(subject, &mut bytes)
            .expect("writing to memory cannot fail");
        Ok(bytes)
    }
}

impl PartialEq for Format {
    fn eq(&self, other: &Format) -> bool {
        self.name == other.name
    }
}

impl std::fmt::Debug for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Why an export was not written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
    /// A format asked for a kind of result it has no rendering of.
    #[error("the {0} format has no rendering of {1}")]
    Unsupported(&'static str, &'static str),
    /// An output's name ends in another format's extension (see [`FileType::check_name`]).
    #[error(
        "{what} {path}: {noun} would be written under a name ending in .{ext}, the extension of {other}; give it a name ending in .{want}"
    )]
    Misnamed {
        what: String,
        path: PathBuf,
        noun: &'static str,
        ext: String,
        other: &'static str,
        want: &'static str,
    },
}

/// What an output file holds, as its name should say: what a reader calls it ("an
/// Excel workbook") and the extensions that name it (lower case, without the dot; the
/// first is the one suggested). Every [`Format`] has one, and so does a file no format
/// writes (the command line's partial results, say).
#[derive(Clone, Copy, Debug)]
pub struct FileType {
    pub noun: &'static str,
    pub extensions: &'static [&'static str],
}

impl FileType {
    /// Fails when `path` (given as `what`) ends in another format's extension and none of
    /// this type's: a JSON report named `report.xlsx` would be taken for a workbook by
    /// whoever opens it, and Excel would call it corrupt. A name with no extension, or
    /// one no format claims (`.txt`, `.out`), is the user's choice and passes; so do `-`
    /// and devices such as `/dev/null`. Case is ignored (`R.JSON` is JSON).
    pub fn check_name(&self, what: &str, path: &Path) -> Result<(), ExportError> {
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
            return Ok(());
        };
        let ext = ext.to_ascii_lowercase();
        if self.extensions.contains(&ext.as_str()) {
            return Ok(());
        }
        let Some(other) = FORMATS
            .iter()
            .find(|f| f.extensions.contains(&ext.as_str()))
        else {
            return Ok(());
        };
        Err(ExportError::Misnamed {
            what: what.to_string(),
            path: path.to_path_buf(),
            noun: self.noun,
            ext,
            other: other.noun,
            want: self.extensions[0],
        })
    }
}

/// Writes `subject` in each (format, path) of `outputs`, then calls `wrote` for each.
/// Every file is written to a temporary file first and all are renamed into place
/// together at the end, so a command leaves all its files or none; then the outputs
/// that cannot be staged (standard output, a device: see [`output::Destination`]) are
/// written as they go, in order. Stops as soon as `monitor` is cancelled, before the
/// files are renamed (leaving none) or while a stream is written (cutting it short;
/// [`output::written`] says what was written).
pub fn write_all(
    outputs: &[(Format, PathBuf)],
    subject: &Subject,
    monitor: &Monitor,
    mut wrote: impl FnMut(Format, &Path),
) -> Result<(), ExportError> {
    for (format, _) in outputs {
        format.check_for(subject.kind())?;
    }
    let mut staged = Vec::new();
    let mut direct = Vec::new();
    for (format, path) in outputs {
        match output::destination(path)? {
            output::Destination::File { target, existing } => {
                interrupted(monitor)?;
                let written = output::stage(path, &target, existing.as_ref(), |w| {
                    format.exporter.write(subject, &mut Watched { w, monitor })
                });
                staged.push(checked(written, monitor)?);
            }
            destination => direct.push((format, path, destination)),
        }
    }
    if !output::commit(staged, || !monitor.is_cancelled())? {
        return Err(Interrupted.into());
    }
    for (format, path) in outputs {
        if !direct.iter().any(|(_, p, _)| *p == path) {
            wrote(*format, path);
        }
    }
    for (format, path, destination) in direct {
        interrupted(monitor)?;
        let written = output::stream(path, &destination, |w| {
            format.exporter.write(subject, &mut Watched { w, monitor })
        });
        checked(written, monitor)?;
        wrote(*format, path);
    }
    Ok(())
}

fn interrupted(monitor: &Monitor) -> Result<(), ExportError> {
    if monitor.is_cancelled() {
        return Err(Interrupted.into());
    }
    Ok(())
}

/// A write's result, an interruption reported as one.
fn checked<T>(written: Result<T, OutputError>, monitor: &Monitor) -> Result<T, ExportError> {
    match written {
        Err(_) if monitor.is_cancelled() => Err(Interrupted.into()),
        result => Ok(result?),
    }
}

/// A writer that fails once `monitor` is cancelled, so that a long output (the trial
/// table) stops at the next write rather than at its end.
struct Watched<'a> {
    w: &'a mut dyn Write,
    monitor: &'a Monitor,
}

impl Write for Watched<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.monitor.is_cancelled() {
            return Err(io::Error::other("interrupted"));
        }
        self.w.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_found_by_their_distinct_names() {
        for f in FORMATS {
            assert_eq!(Format::named(f.name()), Some(*f));
        }
        let mut names: Vec<&str> = FORMATS.iter().map(Format::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names, ["cashflow", "csv", "html", "json", "xlsx"]);
        assert_eq!(Format::named("ods"), None);
    }
}
