//! The HTML report: one self-contained page with charts, for a cabinet or a board.

use serde_json::Value;

use super::Report;
use crate::engine::Outcomes;
use crate::scenario::Scenario;

/// The page for one run: headline figures, charts and the scenario's inputs.
pub fn run_page(
    report: &Report,
    scenario: &Scenario,
    inputs: &Value,
    outcomes: &Outcomes,
) -> String {
    let _ = (scenario, inputs, outcomes);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head><body><h1>{}</h1></body></html>\n",
        report.scenario, report.scenario
    )
}
