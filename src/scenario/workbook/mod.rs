//! The scenario workbook: a scenario as an Excel file a finance officer fills in, read
//! into the very JSON a scenario file holds, so that the loader validates both alike.
//!
//! The layout ([`write()`] makes it, [`read()`] reads it) follows the table of inputs
//! ([`super::inputs`]), so a new field appears in the workbook without a change here:
//! a **Scenario** sheet with one row per top-level and `service` field (section, field,
//! value, unit, what it means, default; the meanings and defaults are the JSON
//! Schema's), a **Partners** sheet with one row per partner and one column per field
//! (and `cost_sharing_weight` for fixed cost sharing), a **Disputes** sheet laid out
//! like the Scenario sheet, and a **Correlations** sheet (`a`, `b`,
//! `rank_correlation`), then a **Read me** sheet on filling it in (never read, like any
//! sheet of the user's own). A number is a number cell; a distribution, a list or discount
//! bands is one cell of text in the forms of [`text`]; an empty cell is an absent field
//! (its default). Where each value came from is kept ([`Places`]), so that every
//! problem, the loader's included, names its sheet and cell beside its JSON pointer.

mod json;
mod read;
pub mod text;
mod write;

pub use json::to_text;
pub use read::{Read, read};
pub(crate) use write::exact;
pub use write::write;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::RangeInclusive;

use serde_json::Value;

use super::inputs::{INPUTS, Input, Kind, Section};
use super::{Problem, Scenario, ScenarioError};

/// The sheets, by name.
pub const SCENARIO: &str = "Scenario";
pub const PARTNERS: &str = "Partners";
pub const DISPUTES: &str = "Disputes";
pub const CORRELATIONS: &str = "Correlations";
/// How to fill the workbook in; never read.
pub const README: &str = "Read me";

/// How many formulas read as a saved 0 are warned about one by one; the rest are
/// counted in one more line.
pub const MOST_ZERO_FORMULAS: usize = 10;

/// A formula as a message shows it: `=` and its text, with control, bidirectional and
/// zero-width characters escaped (a workbook's text could otherwise colour a terminal,
/// reverse the line or print a line of its own) and cut short past 80 characters.
fn shown_formula(formula: &str) -> String {
    const MOST: usize = 80;
    let mut out = String::from("=");
    for (n, c) in formula.chars().enumerate() {
        if n == MOST {
            out.push_str("...");
            break;
        }
        if super::hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// The columns of the Scenario and Disputes sheets; only Field and Value are read (and
/// Section, when given), found by their header, so columns may be moved or added.
const FIELD_HEADER: [&str; 6] = [
    "Section",
    "Field",
    "Value",
    "Unit",
    "What it means",
    "Default",
];

/// The Partners column of a partner's weight under `"cost_sharing": {"fixed": ...}`.
pub const WEIGHT: &str = "cost_sharing_weight";

/// The keys of a correlation, the Correlations sheet's columns.
const CORRELATION_KEYS: [&str; 3] = ["a", "b", "rank_correlation"];

/// The top-level fields kept on sheets of their own rather than as Scenario rows.
const SHEET_FIELDS: [&str; 4] = ["service", "partners", "disputes", "correlations"];

/// Whether a file's bytes are a workbook: an .xlsx is a zip archive, whose first bytes
/// no JSON text can begin with. Judged by content, so a workbook read through a pipe
/// or under any name is recognised. (An empty zip starts with its end record, and is
/// recognised too, so that it is named as such rather than as JSON gone wrong.)
pub fn is_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// How a section is named in the Section column.
fn section_label(section: Section) -> &'static str {
    match section {
        Section::Top => "scenario",
        Section::Service => "service",
        Section::Partner => "partners",
        Section::Disputes => "disputes",
    }
}

/// The sections whose fields are rows of a field sheet.
fn sheet_sections(sheet: &str) -> &'static [Section] {
    if sheet == DISPUTES {
        &[Section::Disputes]
    } else {
        &[Section::Top, Section::Service]
    }
}

/// The rows of a field sheet (Scenario or Disputes), in the table's order.
fn field_rows(sheet: &str) -> impl Iterator<Item = &'static Input> {
    let sections = sheet_sections(sheet);
    INPUTS.iter().filter(move |i| {
        sections.contains(&i.section)
            && !(i.section == Section::Top && SHEET_FIELDS.contains(&i.name))
    })
}

/// The JSON pointer of a field of a section (a partner's needs its index).
fn pointer(section: Section, name: &str) -> String {
    format!("{}/{}", section.pointer(), escape(name))
}

/// A pointer segment, escaped as RFC 6901 asks.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// What a cell of a field holds, and so how its text is read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Number,
    Dist,
    List,
    Text,
    Discount,
    Sharing,
    Bool,
    /// A field with no cell form of its own: its JSON as text.
    Json,
}

impl Expect {
    fn of(input: &Input) -> Expect {
        match (input.kind, input.name) {
            (Kind::Number(_) | Kind::Whole(..), _) => Expect::Number,
            (Kind::Dist(_) | Kind::WholeOrDist, _) => Expect::Dist,
            (Kind::List(_), _) => Expect::List,
            (Kind::Text, _) => Expect::Text,
            (Kind::Other, "discount_rate") => Expect::Discount,
            (Kind::Other, "cost_sharing") => Expect::Sharing,
            (Kind::Other, "repair_correlations") => Expect::Bool,
            (Kind::Other, _) => Expect::Json,
        }
    }
}

/// A cell's name: `Partners!J3` for the cell in row 3 (from 1) and column J.
fn cell_name(sheet: &str, row: u32, col: u32) -> String {
    format!("{sheet}!{}{}", column_letters(col), row + 1)
}

/// Column letters from an index from 0: A .. Z, AA ...
fn column_letters(col: u32) -> String {
    let mut n = col + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII letters")
}

/// Where each value of a workbook came from: a JSON pointer's cell (`Partners!J3`), row
/// (`Partners row 3`) or sheet (`sheet Partners`), and the JSON as read, so that a
/// value changed since (by `--set`) is not blamed on its cell.
#[derive(Debug, Clone, Default)]
pub struct Places {
    read: Value,
    at: BTreeMap<String, String>,
    /// The formulas whose saved value is 0. A spreadsheet that calculated one agrees,
    /// but a program that wrote it without calculating saves 0 too, and once
    /// LibreOffice has saved such a workbook (unless told to recalculate everything)
    /// nothing in the file tells the two apart: so they are warned about, not refused.
    /// Those whose saved value is empty text are kept too: they read as blank cells.
    zero_formulas: Vec<ZeroFormula>,
}

/// A formula whose saved value is 0 (or, with `empty_text`, empty text), with the
/// cells that read it: its own, the merged area it heads (kept as an area, so that one
/// formula over a long merge is one entry until its cells are matched with the fields
/// read), or the cells of its array area that saved such a value.
#[derive(Debug, Clone)]
struct ZeroFormula {
    sheet: std::sync::Arc<str>,
    /// Areas of cells, each as its rows and columns.
    cells: Vec<(RangeInclusive<u32>, RangeInclusive<u32>)>,
    formula: std::sync::Arc<str>,
    /// The saved value is empty text, not 0: the cells read as blank, so their fields
    /// take their defaults (or are missing).
    empty_text: bool,
}

impl Places {
    /// Validates `value` (the JSON read, perhaps edited since by `--set`) with the
    /// loader, naming the cells of its problems.
    pub fn validate(&self, value: &Value, origin: &str) -> Result<Scenario, ScenarioError> {
        super::from_value(value, origin).map_err(|e| self.locate(e, value))
    }

    /// A warning for each formula whose saved value, 0, is read into `now` (the JSON as
    /// validated) unchanged: the field's pointer, its cell and what to do; then one for
    /// each formula that gave empty text, read as a blank cell (the field's default, or
    /// a missing field) and still absent from `now`. A formula in a cell that is not
    /// read, or whose value `--set` replaced (`set`: the pointers `--set` wrote, as
    /// [`crate::scenario::apply_set`] returns them, even with the same value), is not
    /// mentioned. Past [`MOST_ZERO_FORMULAS`] of a kind, one more line counts the rest,
    /// so that a workbook of thousands of such cells does not bury everything else.
    pub fn zero_formulas(&self, now: &Value, set: &[String]) -> Vec<String> {
        // A pointer at or under one that was set holds the user's value.
        let replaced = |pointer: &str| {
            set.iter().any(|s| {
                pointer
                    .strip_prefix(s.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
        };
        // Each cell's pointer: the first in the pointers' order. The weight column's own
        // pointer (`/partners/N/cost_sharing_weight`) is no field of the format: its
        // value lives at `/service/cost_sharing/fixed/NAME` when cost sharing is fixed,
        // and nowhere otherwise, so that column is named by that pointer or not at all.
        let own_weight = |pointer: &str| {
            pointer
                .strip_prefix("/partners/")
                .and_then(|rest| rest.split_once('/'))
                .is_some_and(|(_, field)| field == WEIGHT)
        };
        let mut pointers: HashMap<&str, &str> = HashMap::new();
        for (pointer, place) in &self.at {
            if !own_weight(pointer) {
                pointers.entry(place.as_str()).or_insert(pointer.as_str());
            }
        }
        let mut warnings = Vec::new();
        for empty in [false, true] {
            let cells = self
                .zero_formulas
                .iter()
                .filter(|z| z.empty_text == empty)
                .flat_map(|z| {
                    z.cells.iter().flat_map(move |(rows, cols)| {
                        rows.clone().flat_map(move |row| {
                            cols.clone()
                                .map(move |col| (cell_name(&z.sheet, row, col), &z.formula))
                        })
                    })
                });
            // A cell under two array formulas (a damaged file) is told once.
            let mut seen = HashSet::new();
            let mut found = cells.filter_map(|(cell, formula)| {
                let pointer = *pointers.get(cell.as_str())?;
                if !seen.insert(cell.clone()) {
                    return None;
                }
                let read = self.read.pointer(pointer);
                let kept = if empty {
                    read.is_none() && now.pointer(pointer).is_none()
                } else {
                    read.is_some() && read == now.pointer(pointer)
                };
                (kept && !replaced(pointer)).then_some((cell, pointer, formula))
            });
            warnings.extend(found.by_ref().take(MOST_ZERO_FORMULAS).map(
                |(cell, pointer, formula)| {
                    let formula = shown_formula(formula);
                    if empty {
                        format!(
                            "{cell} ({pointer}) is blank: its formula {formula} gave empty text, which reads as an empty cell, so the field takes its default (or is missing). If a value is meant, make the formula give it"
                        )
                    } else {
                        format!(
                            "{cell} ({pointer}) is 0, the saved value of its formula {formula}: a workbook written by a program and never calculated saves 0 for every formula, and LibreOffice keeps saved values unless Data > Calculate > Recalculate Hard is chosen before saving. If 0 is not meant, recalculate and save the workbook; if it is, type 0 in place of the formula"
                        )
                    }
                },
            ));
            let rest: Vec<String> = found.map(|(cell, ..)| cell).collect();
            if let (Some(first), Some(last)) = (rest.first(), rest.last()) {
                let what = if empty {
                    "formulas that gave empty text, read as blank"
                } else {
                    "formulas read as their saved 0"
                };
                warnings.push(format!(
                    "{} more cells, from {first} to {last}, hold {what}, as above",
                    rest.len()
                ));
            }
        }
        warnings
    }

    fn put(&mut self, pointer: impl Into<String>, place: impl Into<String>) {
        self.at.insert(pointer.into(), place.into());
    }

    /// Names the cell of every problem of `error` whose value (or the nearest
    /// enclosing one) came from the workbook unchanged in `now`, the JSON validated.
    pub fn locate(&self, error: ScenarioError, now: &Value) -> ScenarioError {
        match error {
            ScenarioError::Invalid {
                origin,
                mut problems,
                warnings,
            } => {
                for p in &mut problems {
                    self.place(p, now);
                }
                ScenarioError::Invalid {
                    origin,
                    problems,
                    warnings,
                }
            }
            other => other,
        }
    }

    fn place(&self, problem: &mut Problem, now: &Value) {
        if problem.cell.is_some() {
            return;
        }
        let mut at = problem.path.as_str();
        loop {
            if let Some(place) = self.at.get(at) {
                if self.read.pointer(at) == now.pointer(at) {
                    problem.cell = Some(place.clone());
                }
                return;
            }
            match at.rfind('/') {
                Some(i) => at = &at[..i],
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::inputs::TOP_KEYS;

    #[test]
    fn sheet_fields_are_top_level_fields_and_row_names_are_distinct() {
        for name in SHEET_FIELDS {
            assert!(TOP_KEYS.contains(&name), "{name}");
        }
        let rows: Vec<&str> = field_rows(SCENARIO).map(|i| i.name).collect();
        for (i, a) in rows.iter().enumerate() {
            assert!(!rows[..i].contains(a), "{a} twice on the Scenario sheet");
        }
    }

    #[test]
    fn columns_are_lettered_as_excel_does() {
        let letters: Vec<String> = [0, 25, 26, 51, 701, 702]
            .into_iter()
            .map(column_letters)
            .collect();
        assert_eq!(letters, ["A", "Z", "AA", "AZ", "ZZ", "AAA"]);
        assert_eq!(cell_name(PARTNERS, 2, 9), "Partners!J3");
    }

    #[test]
    fn a_problem_is_placed_at_its_nearest_cell_unless_the_value_changed() {
        let read = serde_json::json!({"service": {"efficiency": {"pert": [1, 2, 3]}}});
        let mut places = Places {
            read: read.clone(),
            ..Places::default()
        };
        places.put("/service/efficiency", "Scenario!C17");
        places.put("", "sheet Scenario");
        let problem = |path: &str| Problem {
            path: path.into(),
            message: "wrong".into(),
            cell: None,
        };
        let mut p = problem("/service/efficiency/pert/1");
        places.place(&mut p, &read);
        assert_eq!(
            p.to_string(),
            "Scenario!C17 (/service/efficiency/pert/1): wrong"
        );
        let changed = serde_json::json!({"service": {"efficiency": 2}});
        let mut p = problem("/service/efficiency");
        places.place(&mut p, &changed);
        assert_eq!(p.to_string(), "/service/efficiency: wrong");
    }
}
