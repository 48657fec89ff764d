//! The scenarios the app offers: the shipped examples (embedded in the binary, read
//! only) and the JSON files of the scenarios folder, the only place anything is saved.
//! A name from a request is a bare file name checked here before it touches the file
//! system, so that no request can name a file outside the folder.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::output;
use crate::run::{self, Error, Result, SHIPPED, Source};

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
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::request(format!("there is no scenario named {file}")))
            }
            Err(e) => Err(Error::fault(format!("cannot read {}", path.display()), e)),
        }
    }

    /// Saves `bytes` as `file` in the folder, atomically, once the engine's validator
    /// accepts them; never over a shipped scenario.
    pub fn save(&self, file: &str, bytes: &[u8]) -> Result<PathBuf> {
        let file = checked(file)?;
        if shipped(file).is_some() {
            return Err(Error::request(format!(
                "{file} is a shipped scenario, which cannot be overwritten: save it under another name"
            )));
        }
        let path = self.dir.join(file);
        let source = Source::Bytes {
            bytes: bytes.to_vec(),
            name: file.to_string(),
        };
        run::load(&source, &[], &mut Vec::new())?;
        if std::fs::read(&path).is_ok_and(|old| SHIPPED.iter().any(|(_, s)| *s == old)) {
            return Err(Error::request(format!(
                "{} is a copy of a shipped scenario, which cannot be overwritten: save it under another name",
                path.display()
            )));
        }
        output::write_atomically(&path, bytes)?;
        Ok(path)
    }
}

/// The shipped scenario of file name `file`.
fn shipped(file: &str) -> Option<&'static [u8]> {
    SHIPPED.iter().find(|(f, _)| *f == file).map(|(_, b)| *b)
}

/// `file` if it names a scenario file inside the folder: a bare name of letters,
/// digits, spaces, `-`, `_` and `.`, not starting with a dot, ending in `.json`.
pub fn checked(file: &str) -> Result<&str> {
    let bare = !file.is_empty()
        && file.len() <= MAX_NAME
        && !file.starts_with('.')
        && !file.contains("..")
        && file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'));
    if !bare || Path::new(file).file_name().and_then(|f| f.to_str()) != Some(file) {
        return Err(Error::request(format!(
            "{file:?} is not a scenario name: use letters, digits, spaces, '-', '_' and '.', \
             at most {MAX_NAME} characters, no folders"
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
    }
}
