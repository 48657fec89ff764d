//! The scenarios the app offers: the shipped examples (embedded in the binary, read
//! only) and the JSON files of the scenarios folder, the only place anything is saved.
//! A name from a request is a bare file name checked here before it touches the file
//! system, so that no request can name a file outside the folder.
//!
//! A scenario workbook (.xlsx) uploaded is validated as the command line reads one
//! (through the run API's `Source::Bytes`, so its problems name sheet and cell) and kept
//! as JSON under the workbook's base name (`my case.xlsx` becomes `my case.json`): the
//! folder holds one format, which the editor edits and the history keeps, and the
//! workbook is written again from it on demand ([`Library::workbook`]).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::output;
use crate::run::{self, Error, Notice, Result, SHIPPED, Source};
use crate::scenario::workbook;

/// The longest scenario name accepted, in bytes.
const MAX_NAME: usize = 100;

/// One scenario in the list.
#[derive(Debug, Serialize)]
pub struct Entry {
    /// Its file name, `*.json`.
    pub file: String,
    /// The scenario's own `name`, when it has one.
    pub title: Option<String>,
    /// Whether it is a shipped example (which cannot be overwritten).
    pub shipped: bool,
}

/// The scenarios folder.
#[derive(Clone)]
pub struct Library {
    pub dir: PathBuf,
}

/// A scenario file's bytes and the name it goes by in reports (as the command line
/// would name it): `scenarios/NAME` for a shipped one, the folder's path joined with the
/// name for the user's.
pub struct Found {
    pub bytes: Vec<u8>,
    pub name: String,
}

impl Library {
    /// Every scenario: the shipped ones, then the folder's (sorted, shipped names left
    /// out).
    pub fn list(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = SHIPPED
            .iter()
            .map(|(file, bytes)| Entry {
                file: file.to_string(),
                title: title(bytes),
                shipped: true,
            })
            .collect();
        let mut own: Vec<Entry> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            // A folder named like a scenario (`old.json/`) is not one.
            .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|f| checked(f).is_ok() && shipped(f).is_none())
            .map(|file| Entry {
                title: std::fs::read(self.dir.join(&file))
                    .ok()
                    .and_then(|b| title(&b)),
                file,
                shipped: false,
            })
            .collect();
        own.sort_by(|a, b| a.file.cmp(&b.file));
        entries.extend(own);
        entries
    }

    /// The scenario of file name `file`.
    pub fn get(&self, file: &str) -> Result<Found> {
        let file = checked(file)?;
        if let Some(bytes) = shipped(file) {
            return Ok(Found {
                bytes: bytes.to_vec(),
                name: format!("scenarios/{file}"),
            });
        }
        let path = self.dir.join(file);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Found {
                bytes,
                name: path.display().to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound || path.is_dir() => {
                Err(Error::request(format!("there is no scenario named {file}")))
            }
            Err(e) => Err(Error::fault(format!("cannot read {}", path.display()), e)),
        }
    }

    /// Saves `bytes` as `file` in the folder, atomically, once the engine's validator
    /// accepts them; never over a shipped scenario. Workbook bytes are kept as their
    /// JSON (see the module's note).
    pub fn save(&self, file: &str, bytes: &[u8], told: &mut Vec<Notice>) -> Result<PathBuf> {
        self.store(checked(file)?, bytes, file, told)
    }

    /// Saves an uploaded file (`NAME.json` or `NAME.xlsx`, JSON or a workbook: the
    /// bytes decide, as for the command line) as `NAME.json`; the name it is kept by
    /// and where. Problems name the file as uploaded (and a workbook's, their cells);
    /// what the user should be told (a workbook's formula read as its saved 0, which
    /// the JSON kept no longer shows) is added to `told`.
    pub fn upload(
        &self,
        name: &str,
        bytes: &[u8],
        told: &mut Vec<Notice>,
    ) -> Result<(String, PathBuf)> {
        let file = json_name(name)?;
        let path = self.store(checked(&file)?, bytes, name, told)?;
        Ok((file, path))
    }

    /// The file an upload named `name` would be kept as, if the folder has one by that
    /// name already: an upload replaces it only when the user has said so, since a
    /// workbook `plan.xlsx` is kept as `plan.json` and would silently overwrite an
    /// edited `plan.json`.
    pub fn upload_would_replace(&self, name: &str) -> Result<Option<String>> {
        let file = json_name(name)?;
        Ok(self.dir.join(checked(&file)?).exists().then_some(file))
    }

    /// Validates `bytes` (named `origin` in messages), telling `told` what the loader
    /// tells, and writes them, or a workbook's JSON, as `file` (already checked).
    fn store(
        &self,
        file: &str,
        bytes: &[u8],
        origin: &str,
        told: &mut Vec<Notice>,
    ) -> Result<PathBuf> {
        if shipped(file).is_some() {
            return Err(Error::request(format!(
                "{file} is a shipped scenario, which cannot be overwritten: save it under another name"
            )));
        }
        let path = self.dir.join(file);
        let source = Source::Bytes {
            bytes: bytes.to_vec(),
            name: origin.to_string(),
        };
        let loaded = run::load(&source, &[], told)?;
        if std::fs::read(&path).is_ok_and(|old| SHIPPED.iter().any(|(_, s)| *s == old)) {
            return Err(Error::request(format!(
                "{} is a copy of a shipped scenario, which cannot be overwritten: save it under another name",
                path.display()
            )));
        }
        if workbook::is_workbook(bytes) {
            output::write_atomically(&path, workbook::to_text(&loaded.value).as_bytes())?;
        } else {
            output::write_atomically(&path, bytes)?;
        }
        Ok(path)
    }

    /// The scenario of file name `file` as a scenario workbook (what `convert` writes),
    /// once the validator accepts it: a file dropped into the folder by hand may not.
    pub fn workbook(&self, file: &str) -> Result<Vec<u8>> {
        let found = self.get(file)?;
        as_workbook(found.bytes, found.name)
    }
}

/// A scenario's bytes (JSON or a workbook), validated, written as a scenario workbook.
pub fn as_workbook(bytes: Vec<u8>, name: String) -> Result<Vec<u8>> {
    let loaded = run::load(&Source::Bytes { bytes, name }, &[], &mut Vec::new())?;
    Ok(workbook::write(&loaded.value, &loaded.origin)?)
}

/// The name an uploaded file is kept by: `NAME.json` for `NAME.json` or `NAME.xlsx`
/// (any case of the extension), checked as every name is.
pub fn json_name(upload: &str) -> Result<String> {
    let lower = upload.to_ascii_lowercase();
    let stem = [".xlsx", ".json"]
        .iter()
        .find(|e| lower.ends_with(*e))
        .map(|e| &upload[..upload.len() - e.len()])
        .ok_or_else(|| {
            Error::request(format!(
                "{upload:?} is not a scenario file to upload: its name must end in .json or .xlsx"
            ))
        })?;
    Ok(format!("{stem}.json"))
}

/// The shipped scenario of file name `file`.
fn shipped(file: &str) -> Option<&'static [u8]> {
    SHIPPED.iter().find(|(f, _)| *f == file).map(|(_, b)| *b)
}

/// Punctuation a scenario's file name may hold besides letters, digits and spaces: what
/// people and browsers put in names (`plan (1).xlsx`, `Budget 2026-27, v2.json`,
/// `Smith & Jones' case.json`), and nothing a path, a shell or an HTTP header reads
/// specially (`/`, `\`, `"`, `*`, `?`, `:`, `<`, `>`, `|`, `%`, `;`).
const PUNCTUATION: &[char] = &[
    '-', '_', '.', '(', ')', '[', ']', ',', '\'', '&', '+', '!', '#', '@',
];

/// `file` if it names a scenario file inside the folder: a bare name of letters (in any
/// alphabet), digits, spaces and [`PUNCTUATION`], not starting with a dot or a space,
/// ending in `.json`.
pub fn checked(file: &str) -> Result<&str> {
    let bare = !file.is_empty()
        && file.len() <= MAX_NAME
        && !file.starts_with(['.', ' '])
        && !file.contains("..")
        && file
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || PUNCTUATION.contains(&c));
    if !bare || Path::new(file).file_name().and_then(|f| f.to_str()) != Some(file) {
        return Err(Error::request(format!(
            "{file:?} is not a scenario name: use letters, digits, spaces and - _ . ( ) [ ] , ' & + ! # @, \
             at most {MAX_NAME} bytes, not starting with a dot or a space, no folders"
        )));
    }
    if !file.ends_with(".json") {
        return Err(Error::request(format!(
            "{file:?} is not a scenario name: it must end in .json"
        )));
    }
    Ok(file)
}

/// The scenario's `name`, if the bytes are JSON with one.
fn title(bytes: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    Some(value.get("name")?.as_str()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_folder_are_refused() {
        for bad in [
            "../x.json",
            "a/b.json",
            "/etc/passwd",
            ".json",
            "x",
            "..json",
            "a\\b.json",
            "",
        ] {
            assert!(checked(bad).is_err(), "{bad}");
        }
        assert_eq!(checked("my case-2.json").unwrap(), "my case-2.json");
        for good in [
            "plan (1).json",
            "étude d'impact.json",
            "Smith & Jones, v2 [draft].json",
        ] {
            assert_eq!(checked(good).unwrap(), good);
        }
        for bad in [
            " x.json",
            "a\"b.json",
            "a%2F.json",
            "a\u{202e}b.json",
            "a\nb.json",
            "a:b.json",
        ] {
            assert!(checked(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_upload_is_kept_under_its_base_name_as_json() {
        assert_eq!(json_name("my case.xlsx").unwrap(), "my case.json");
        assert_eq!(json_name("Budget.XLSX").unwrap(), "Budget.json");
        assert_eq!(json_name("a.json").unwrap(), "a.json");
        assert!(json_name("a.xls").is_err());
        assert!(json_name("..xlsx").is_ok_and(|n| checked(&n).is_err()));
    }
}
