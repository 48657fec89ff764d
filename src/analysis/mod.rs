//! Analyses built on many runs of one scenario: sweeps, sensitivity, comparisons.
//!
//! A finance officer rarely asks "what happens?" only once. They ask what happens if the
//! efficiency is lower ([`sweep`]), which inputs matter most and at what value the case
//! stops paying ([`sensitivity`]), and whether the formal agreement beats the informal
//! one ([`compare`]). Each answer is a set of runs that differ in one or a few inputs, and
//! each set is run under common random numbers ([`crn`]): the same seed and trial count
//! everywhere, so that trial k draws the same random numbers in every run and differences
//! between runs are due to the inputs alone, not to sampling noise.

pub mod compare;
pub mod crn;
pub mod sensitivity;
pub mod sweep;

use crate::engine::Interrupted;
use crate::scenario::ScenarioError;

/// Why an analysis could not be run. Every variant but [`AnalysisError::Interrupted`] is a
/// mistake in what was asked for, never a fault of the program.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// An option's text is wrong (`--param`, `--variant`, `--switch`), or it names a
    /// pointer that does not exist: the message names the option and what was written.
    #[error("{option} {spec}: {message}")]
    Spec {
        option: String,
        spec: String,
        message: String,
    },
    /// A scenario an analysis built is invalid; its origin names the edit that made it.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The runs were stopped (Ctrl-C) before the analysis finished.
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
}

impl AnalysisError {
    /// A [`AnalysisError::Spec`] error.
    pub fn spec(option: &str, spec: &str, message: impl Into<String>) -> AnalysisError {
        AnalysisError::Spec {
            option: option.to_string(),
            spec: spec.to_string(),
            message: message.into(),
        }
    }
}
