//! Reading and validating scenario JSON.
//!
//! serde's derive stops at the first error, but a finance officer editing a file wants every
//! mistake at once, each located by its JSON pointer. So the file is parsed into a
//! `serde_json::Value` (which gives line and column for syntax errors) and then walked by
//! hand here, collecting [`Problem`]s as it goes.
//!
//! The walk is split by concern: `values` checks single values (numbers, whole
//! numbers, strings, lists, objects' keys) and fields by their row of the table of
//! inputs ([`super::inputs`]), which gives their ranges and defaults; `dists` reads
//! distributions; `sections` reads the top level, the service, the partners and the
//! disputes; `shapes` reads the fields with a shape of their own (discount rate, cost
//! sharing, correlations).

mod dists;
mod duplicates;
mod sections;
mod shapes;
mod values;

pub use values::suggest;

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use super::workbook::{self, Places};
use super::{Problem, Scenario, ScenarioError};

/// The largest scenario file read: 64 MiB. The largest scenario anyone has described
/// (10,000 partners, each with every field uncertain) is under 10 MiB of JSON; the bound
/// stops `/dev/zero`, a runaway pipe or a mistaken file from filling memory, since
/// parsed JSON takes several times its text.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Reads a scenario file into JSON without validating it (a key given twice in one
/// object is refused already). The file (or FIFO, or standard input as `/dev/stdin`) is
/// read through a reader that stops after [`MAX_FILE_BYTES`].
pub fn read_value(path: &Path) -> Result<Value, ScenarioError> {
    read_file(path).map(|file| file.value)
}

/// A scenario file read but not validated: JSON or an Excel workbook.
#[derive(Debug, Clone)]
pub struct FileValue {
    /// The file's bytes, as read (and hashed for provenance).
    pub bytes: Vec<u8>,
    /// The scenario's JSON (a workbook's turned into it).
    pub value: Value,
    /// For a workbook, where each value came from, to locate the loader's problems.
    pub places: Option<Places>,
}

impl FileValue {
    /// Validates `value` (this file's JSON, perhaps edited since), a workbook's
    /// problems located by sheet and cell.
    pub fn validate(&self, value: &Value, origin: &str) -> Result<Scenario, ScenarioError> {
        match &self.places {
            Some(places) => places.validate(value, origin),
            None => from_value(value, origin),
        }
    }
}

/// Reads a scenario file, a workbook ([`workbook::is_workbook`]) or JSON, without
/// validating it (a workbook's own mistakes, such as text in a number cell, are refused
/// already, with the loader's problems).
pub fn read_file(path: &Path) -> Result<FileValue, ScenarioError> {
    file_value(read_bytes(path)?, &path.display().to_string())
}

/// A scenario file's bytes (read from disk, uploaded, or kept), a workbook or JSON, as
/// [`read_file`] reads them; `origin` names the file in messages.
pub fn file_value(bytes: Vec<u8>, origin: &str) -> Result<FileValue, ScenarioError> {
    check_format(&bytes, origin)?;
    let (value, places) = if workbook::is_workbook(&bytes) {
        let read = workbook::read(&bytes, origin)?;
        (read.value, Some(read.places))
    } else {
        (value_from_bytes(&bytes, origin)?, None)
    };
    Ok(FileValue {
        bytes,
        value,
        places,
    })
}

/// Refuses, by what it is, a file whose bytes say it is neither JSON text nor an Excel
/// workbook (see `other_format`); `origin` names it.
pub fn check_format(bytes: &[u8], origin: &str) -> Result<(), ScenarioError> {
    match other_format(bytes) {
        Some((kind, advice)) => Err(ScenarioError::Format {
            origin: origin.to_string(),
            kind,
            advice,
        }),
        None => Ok(()),
    }
}

/// What a file is, and what to do, when its bytes say it is a document people mistake
/// for a scenario: a spreadsheet saved in another format, other Office documents, a page
/// printed. (Text that is not JSON, empty or in UTF-16 among it, is left to the JSON
/// parser, so that a file and the same text given as a string fail alike.)
fn other_format(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    const SAVE_AS: &str =
        "Open it in Excel or LibreOffice and save it as an Excel workbook (.xlsx).";
    let has = |name: &[u8]| bytes.windows(name.len()).any(|w| w == name);
    // A zip's entry names are stored as they are, in its local headers and its
    // directory, so a search of the bytes finds them. (A zip naming neither is left to
    // the workbook reader, which tells a damaged workbook's faults.)
    let zip = bytes.starts_with(b"PK\x03\x04");
    // An OpenDocument file is a zip whose first entry, stored, is `mimetype`, holding
    // the document's type (ODF 1.2, part 3, 3.3).
    let odf = |kind: &[u8]| {
        bytes.starts_with(b"PK\x03\x04")
            && bytes.get(30..38) == Some(b"mimetype")
            && bytes[38..bytes.len().min(38 + 256)]
                .windows(kind.len())
                .any(|w| w == kind)
    };
    if bytes.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        // The compound-file header of Office 97-2003 documents (.xls, .doc).
        Some((
            "an Excel 97-2003 workbook (.xls) or another old Office document",
            SAVE_AS,
        ))
    } else if odf(b"opendocument.spreadsheet") {
        Some(("an OpenDocument spreadsheet (.ods)", SAVE_AS))
    } else if odf(b"opendocument") {
        Some((
            "an OpenDocument file",
            "Give the scenario's JSON file or its Excel workbook (.xlsx).",
        ))
    } else if zip && has(b"xl/workbook.bin") {
        Some(("an Excel binary workbook (.xlsb)", SAVE_AS))
    } else if zip && has(b"word/document.xml") {
        Some((
            "a Word document",
            "Give the scenario's JSON file or its Excel workbook (.xlsx).",
        ))
    } else if bytes.starts_with(b"%PDF") {
        Some((
            "a PDF document",
            "Give the scenario file the report was made from.",
        ))
    } else {
        None
    }
}

/// A scenario file's bytes, read through a reader that stops after [`MAX_FILE_BYTES`]
/// (a file, a FIFO or standard input as `/dev/stdin`); more is refused as too large.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, ScenarioError> {
    let io = |source| ScenarioError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(ScenarioError::TooLarge {
            path: path.display().to_string(),
            limit_mib: MAX_FILE_BYTES >> 20,
        });
    }
    Ok(text)
}

/// Parses a scenario file's bytes (read by the caller, who may also hash them) into
/// JSON without validating it, as [`read_value`] does; `origin` names it in messages.
pub fn value_from_bytes(text: &[u8], origin: &str) -> Result<Value, ScenarioError> {
    // Windows editors (Notepad among them) may start a UTF-8 file with a byte-order
    // mark, which JSON does not allow; it carries no content, so it is skipped.
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    parse(text, origin)
}

/// Every key given twice in one object of the JSON `text` (which must parse), as
/// problems at the repeated key's pointer: for other JSON files a user writes by hand
/// (an agreement's terms file), which serde_json would read keeping the last value.
pub fn duplicate_keys(text: &[u8]) -> Vec<crate::scenario::Problem> {
    duplicates::find(text)
}

/// What text that failed to parse looks like, when that is the whole story: nothing at
/// all, UTF-16 (what PowerShell's `>` and some Windows editors save) or UTF-32. Read from
/// the text alone, so that a file and the same text given as a string are told the same.
/// Without a byte-order mark, UTF-16 is recognised by its first two characters being
/// ASCII with a 0 byte beside each, as a JSON file's are (`{` and a space or newline).
fn syntax_hint(text: &[u8]) -> &'static str {
    let ascii = |c: &u8| c.is_ascii_graphic() || c.is_ascii_whitespace();
    let utf32 = text.starts_with(b"\xff\xfe\0\0") || text.starts_with(b"\0\0\xfe\xff");
    let utf16 = text.starts_with(b"\xff\xfe")
        || text.starts_with(b"\xfe\xff")
        || matches!(text, [0, a, 0, b, ..] | [a, 0, b, 0, ..] if ascii(a) && ascii(b));
    if text.iter().all(u8::is_ascii_whitespace) {
        ": it is empty"
    } else if utf32 {
        ": it looks like UTF-32 text; save it as UTF-8"
    } else if utf16 {
        ": it looks like UTF-16 text (as PowerShell's > and some Windows editors save); save it as UTF-8"
    } else {
        ""
    }
}

/// Parses JSON text, refusing a key given twice in one object (serde_json would keep
/// the last value without a word).
fn parse(text: &[u8], origin: &str) -> Result<Value, ScenarioError> {
    let value = serde_json::from_slice(text).map_err(|source| ScenarioError::Syntax {
        origin: origin.to_string(),
        hint: syntax_hint(text),
        source,
    })?;
    let problems = duplicates::find(text);
    if !problems.is_empty() {
        return Err(ScenarioError::Invalid {
            origin: origin.to_string(),
            problems,
            warnings: Vec::new(),
        });
    }
    Ok(value)
}

/// Reads and validates a scenario file (JSON or a workbook).
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = read_file(path)?;
    file.validate(&file.value, &path.display().to_string())
}

/// Parses and validates scenario JSON text; `origin` names it in error messages.
pub fn from_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    // A byte-order mark is skipped, as by `read_value`.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    from_value(&parse(text.as_bytes(), origin)?, origin)
}

/// Validates scenario JSON; `origin` names it in error messages.
pub fn from_value(value: &Value, origin: &str) -> Result<Scenario, ScenarioError> {
    let mut c = Checker::default();
    let scenario = c.scenario(value);
    match scenario {
        Some(s) if c.problems.is_empty() => Ok(Scenario::validated(s)),
        _ => Err(ScenarioError::Invalid {
            origin: origin.to_string(),
            problems: c.problems,
            warnings: Vec::new(),
        }),
    }
}

/// The largest magnitude any number in a scenario may have. A quadrillion pounds is far
/// beyond any public body's budget, and the bound keeps every product and sum the model
/// forms (costs x discount factors x trials) finite.
pub const MAX_MAGNITUDE: f64 = 1e15;

/// Walks a JSON value and collects every problem it finds.
#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}
