//! The JSON report (MODEL.md's report section, schema 1).

use crate::summary::Report;

/// The report as pretty-printed JSON with a trailing newline. Key order is fixed by the
/// report's types and numbers print in shortest round-trip form, so equal figures give
/// byte-equal text.
pub fn to_json(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a report always serialises");
    text.push('\n');
    text
}
