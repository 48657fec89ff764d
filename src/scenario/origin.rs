//! Where a scenario came from: its file and the SHA-256 of the file's bytes (or how it
//! was given, when there is no file), whether it is one of the shipped examples, and the
//! `--set` overrides applied to it. The run API fills it in as it reads the scenario;
//! reports carry it (with the scenario as run) so that a figure can be traced back to
//! its inputs, and a shard's partial result carries it so that a merged report can.

use serde::{Deserialize, Serialize};

/// The origin of a scenario as run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// The scenario file as it was named (absent for a scenario given as a value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// SHA-256 of the file's bytes as read, in lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Why there is no file or hash: a scenario given as a value, or a merged report
    /// whose partial results do not record them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Whether the scenario is one of the examples shipped with the engine (recognised
    /// by content, so a copy counts and an edited copy does not): only then are its
    /// figures called illustrative.
    pub shipped_example: bool,
    /// The `--set` overrides applied, as given, in order.
    pub overrides: Vec<String>,
}
