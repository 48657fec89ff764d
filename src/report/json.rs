//! The JSON report (MODEL.md's report section, schema 1).

use serde_json::Value;

use super::Report;

/// The report as pretty-printed JSON with a trailing newline. Key order is fixed by the
/// report's types and numbers print in shortest round-trip form, so equal figures give
/// byte-equal text.
pub fn to_json(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a report always serialises");
    text.push('\n');
    text
}

/// JSON pointers of figures that are not finite numbers (serde_json turns NaN and
/// infinity into `null`). A report with any is a bug, never something to write: the
/// only legitimate null is `payback_year.p50` when under half the trials pay back.
pub fn non_finite(report: &Report) -> Vec<String> {
    let value = serde_json::to_value(report).expect("a report always serialises");
    let mut found = Vec::new();
    collect_nulls(&value, String::new(), &mut found);
    found.retain(|p| p != "/consortium/payback_year/p50");
    found
}

fn collect_nulls(v: &Value, path: String, found: &mut Vec<String>) {
    match v {
        Value::Null => found.push(path),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_nulls(item, format!("{path}/{i}"), found);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                collect_nulls(item, format!("{path}/{k}"), found);
            }
        }
        _ => {}
    }
}
