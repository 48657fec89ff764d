//! Analyses built on many runs of one scenario: sweeps, sensitivity, comparisons.
//!
//! A finance officer rarely asks "what happens?" only once. They ask what happens if the
//! efficiency is lower ([`sweep`]), which inputs matter most and at what value the case
//! stops paying ([`sensitivity`]), and whether the formal agreement beats the informal
//! one ([`compare`]), and which terms of the partnership agreement keep every partner's
//! risk within a limit ([`agreement`]). Each answer is a set of runs that differ in one or a few inputs, and
//! each set is run under common random numbers ([`crn`]): the same seed and trial count
//! everywhere, so that trial k draws the same random numbers in every run and differences
//! between runs are due to the inputs alone, not to sampling noise.

pub mod agreement;
pub mod compare;
pub mod crn;
pub mod sensitivity;
pub mod sweep;

use crate::engine::Interrupted;
use crate::scenario::ScenarioError;

/// `seed` or `trials` if `pointer` names the top-level field of that name, however it is
/// written (`/seed`, `/"seed"`): every run of an analysis shares them (common random
/// numbers), so an edit of either would be overridden without a word.
pub(crate) fn shared_setting(pointer: &str) -> Option<&'static str> {
    let segments = crate::scenario::overrides::parse_pointer(pointer).ok()?;
    match segments.as_slice() {
        [one] if one.text == "seed" => Some("seed"),
        [one] if one.text == "trials" => Some("trials"),
        _ => None,
    }
}

/// Which part of an analysis's request an [`AnalysisError::Spec`] is about. Each front
/// end names it its own way (the command line as its flag, `--param`); the library's own
/// messages use [`Input::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A swept parameter (sweep).
    Param,
    /// A variant of the scenario (compare).
    Variant,
    /// An input whose switching value is sought (sensitivity).
    Switch,
    /// The probability of loss whose switching value is sought (sensitivity).
    TargetProbLoss,
    /// A term of the agreement and its values (agreement).
    Term,
    /// A file of agreement terms (agreement).
    Terms,
    /// The most a partner's P(worse off) may be (agreement).
    MaxWorseOff,
    /// The most P(collapse) may be (agreement).
    MaxCollapse,
}

impl Input {
    /// The neutral name of this input, as the run API's options spell it.
    pub fn name(self) -> &'static str {
        match self {
            Input::Param => "param",
            Input::Variant => "variant",
            Input::Switch => "switch",
            Input::TargetProbLoss => "target_prob_loss",
            Input::Term => "term",
            Input::Terms => "terms",
            Input::MaxWorseOff => "max_worse_off",
            Input::MaxCollapse => "max_collapse",
        }
    }
}

/// Why an analysis could not be run. Every variant but [`AnalysisError::Interrupted`] is a
/// mistake in what was asked for, never a fault of the program.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// An input's text is wrong (a parameter, variant or switch), or it names a pointer
    /// that does not exist: the message names the input (neutrally: a front end may
    /// render `option` its own way) and what was written.
    #[error("`{}` {spec}: {message}", option.name())]
    Spec {
        option: Input,
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
    pub fn spec(option: Input, spec: &str, message: impl Into<String>) -> AnalysisError {
        AnalysisError::Spec {
            option,
            spec: spec.to_string(),
            message: message.into(),
        }
    }
}
