//! JSON: a run's report (docs/model.md's report section, schema 1) or an analysis, as their
//! types serialise.

use std::io::{self, Write};

use serde::Serialize;

use super::{Exporter, Format, Kind, Subject};

/// JSON: the report of a run, or the whole of an analysis.
pub const FORMAT: Format = Format::new("json", "JSON", &["json"], &Json);

struct Json;

impl Exporter for Json {
    fn supports(&self, _: Kind) -> bool {
        true
    }

    fn write(&self, subject: &Subject, w: &mut dyn Write) -> io::Result<()> {
        let text = match subject {
            Subject::Run(r) => to_json(r.report),
            Subject::Sweep(s, _) => to_json(s),
            Subject::Sensitivity(s, _) => to_json(s),
            Subject::Compare(c, _) => to_json(c),
            Subject::Agreement(a, _) => to_json(a),
        };
        w.write_all(text.as_bytes())
    }
}

/// Pretty-printed JSON with a trailing newline. Key order is fixed by the types and
/// numbers print in shortest round-trip form, so equal figures give byte-equal text.
pub fn to_json(value: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a report always serialises");
    text.push('\n');
    text
}
