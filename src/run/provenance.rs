//! The provenance of a result: what lets a reader trace a report back to its inputs.
//!
//! The run API reads the scenario file here, hashing the very bytes it parses (SHA-256),
//! recognises the shipped examples by content (a copy of one counts, an edited copy does
//! not), and stamps the moment a result is made. Reports and analyses receive the
//! [`Provenance`] as data: the renderers never read a file or the clock.

use std::time::SystemTime;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::Result;
use super::prepare::Source;
use crate::lhs::Sampling;
use crate::scenario;
use crate::scenario::origin::Origin;
use crate::scenario::workbook::Places;
use crate::summary::{AsRun, Provenance};

/// A shipped scenario's (file name, bytes).
macro_rules! shipped {
    ($name:literal) => {
        ($name, include_bytes!(concat!("../../scenarios/", $name)))
    };
}

/// The scenario files shipped in `scenarios/`, embedded at build time with their file
/// names: a scenario with the same bytes (or, given as a value, the same JSON) is a
/// shipped example, whose figures are illustrative. A front end offers them by name.
pub const SHIPPED: &[(&str, &[u8])] = &[
    shipped!("county_districts_ict.json"),
    shipped!("departments_shared_service_centre.json"),
    shipped!("eight_councils_revenues_benefits.json"),
    shipped!("four_districts_back_office.json"),
    shipped!("london_boroughs_strong_governance.json"),
    shipped!("mixed_jv_county_district_police.json"),
    shipped!("social_care_formal.json"),
    shipped!("social_care_informal.json"),
];

/// Whether `bytes` are a shipped scenario file's.
fn is_shipped_file(bytes: &[u8]) -> bool {
    SHIPPED.iter().any(|(_, s)| *s == bytes)
}

/// Whether `value` is a shipped example's JSON.
fn is_shipped(value: &Value) -> bool {
    SHIPPED
        .iter()
        .any(|(_, s)| serde_json::from_slice::<Value>(s).is_ok_and(|v| v == *value))
}

/// Reads `source` into JSON with its origin (before overrides, which the caller adds),
/// and for a workbook where each value came from. A file's hash is of its bytes; a
/// workbook is a shipped example if its JSON is one's.
pub(super) fn read(source: &Source) -> Result<(Value, Origin, Option<Places>)> {
    match source {
        Source::Path(path) => {
            let name = path.display().to_string();
            file(
                scenario::load::file_value(scenario::load::read_bytes(path)?, &name)?,
                &name,
            )
        }
        Source::Bytes { bytes, name } => {
            if bytes.len() as u64 > scenario::load::MAX_FILE_BYTES {
                return Err(scenario::ScenarioError::TooLarge {
                    path: name.clone(),
                    limit_mib: scenario::load::MAX_FILE_BYTES >> 20,
                }
                .into());
            }
            file(scenario::load::file_value(bytes.clone(), name)?, name)
        }
        Source::Json { value, name } => {
            let origin = Origin {
                file: None,
                sha256: None,
                note: Some(format!("given as a value, not a file: {name}")),
                shipped_example: is_shipped(value),
                overrides: Vec::new(),
            };
            Ok((value.clone(), origin, None))
        }
    }
}

/// A scenario file's JSON, origin and places, from the file as read and its name.
fn file(file: scenario::load::FileValue, name: &str) -> Result<(Value, Origin, Option<Places>)> {
    let shipped_example = match file.places {
        None => is_shipped_file(&file.bytes),
        Some(_) => is_shipped(&file.value),
    };
    let origin = Origin {
        file: Some(name.to_string()),
        sha256: Some(sha256_hex(&file.bytes)),
        note: None,
        shipped_example,
        overrides: Vec::new(),
    };
    Ok((file.value, origin, file.places))
}

/// The provenance of a result made now from `scenarios`, sampled by `sampling`.
pub(super) fn now(scenarios: Vec<AsRun>, sampling: Sampling) -> Provenance {
    Provenance {
        engine_version: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        scenarios,
        sampling,
    }
}

/// SHA-256 of `bytes` in lower-case hex.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_scenario_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        files.sort();
        let mut embedded: Vec<Vec<u8>> = SHIPPED.iter().map(|(_, s)| s.to_vec()).collect();
        embedded.sort();
        assert_eq!(files, embedded);
    }

    #[test]
    fn sha256_is_the_standard_one() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
