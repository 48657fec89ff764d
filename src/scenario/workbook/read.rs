//! Reading a scenario workbook (calamine) into the JSON of a scenario file, with the
//! place of every value.
//!
//! What only a workbook can get wrong (text in a number cell, a distribution's text, an
//! unknown field row or column, a cell holding an error or a date) is found here; every
//! other rule is the loader's. When the workbook has mistakes of its own, the loader
//! still checks the rest, so that all problems are listed at once, each with its cell.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::ops::RangeInclusive;
use std::sync::Arc;

use calamine::{Data, DataType, Range, Reader, Xlsx, open_workbook_from_rs};
use serde_json::{Map, Number, Value};

use super::super::inputs::{self, INPUTS, PARTNER_KEYS, Section};
use super::super::load::{from_value, suggest};
use super::super::{Problem, ScenarioError};
use super::{
    CORRELATION_KEYS, CORRELATIONS, DISPUTES, Expect, PARTNERS, Places, SCENARIO, WEIGHT,
    ZeroFormula, cell_name, column_letters, escape, field_rows, pointer, section_label,
    sheet_sections, text,
};

/// The most a scenario workbook may hold once unpacked: 256 MiB. A workbook is a zip, so
/// a small file (an upload under the web app's limit) could unpack to gigabytes of XML
/// that calamine would read into memory; the largest real scenario's workbook (3,000
/// partners) unpacks to a few MiB.
pub const MAX_UNPACKED_BYTES: u64 = 256 << 20;

/// Refuses, from its zip directory and before any part is unpacked, a workbook whose
/// parts add up to more than [`MAX_UNPACKED_BYTES`], and a zip that holds no workbook
/// at all. (The zip crate is the one calamine reads with, so this costs no second copy
/// of it.) Returns the archive, for [`calculates_on_opening`] to read one part of.
fn check_archive<'a>(bytes: &'a [u8], origin: &str) -> Result<Archive<'a>, ScenarioError> {
    let fail = |message: String| ScenarioError::Workbook {
        origin: origin.to_string(),
        message,
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| fail(e.to_string()))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let part = archive.by_index_raw(i).map_err(|e| fail(e.to_string()))?;
        total = total.saturating_add(part.size());
    }
    if total > MAX_UNPACKED_BYTES {
        return Err(fail(format!(
            "it unpacks to {} MiB, more than the {} MiB a scenario workbook may hold",
            total >> 20,
            MAX_UNPACKED_BYTES >> 20
        )));
    }
    // A zip with no workbook part at all is some other archive (a zipped scenario, a
    // folder sent by email): named by what it holds rather than by the part calamine
    // misses first.
    if archive.index_for_name("xl/workbook.xml").is_none()
        && archive.index_for_name("[Content_Types].xml").is_none()
    {
        let names: Vec<String> = archive
            .file_names()
            .flatten()
            .filter(|n| !n.ends_with('/'))
            // Quoted and escaped as Rust shows a string (control, bidirectional and
            // zero-width characters as \u{..}), so that a name prints as what it is.
            .map(|n| {
                let mut shown: String = n.chars().take(60).collect();
                if shown.len() < n.len() {
                    shown.push_str("...");
                }
                format!("{shown:?}")
            })
            .collect();
        let shown = names[..names.len().min(3)].join(", ");
        let message = match names.len() {
            0 => "it is a zip archive that holds no files, not a workbook".to_string(),
            n => {
                let more = if n > 3 {
                    format!(" and {} more", n - 3)
                } else {
                    String::new()
                };
                format!(
                    "it is a zip archive of other files ({shown}{more}), not a workbook: unzip it and give the scenario's JSON file or workbook itself"
                )
            }
        };
        return Err(fail(message));
    }
    Ok(archive)
}

/// A workbook's zip, read from its bytes.
type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// Whether the workbook asks to be calculated afresh when it is opened
/// (`<calcPr fullCalcOnLoad="1"/>` in its workbook part). rust_xlsxwriter and Python's
/// XlsxWriter write this, and save every formula with the value 0 unless given its
/// result. Excel calculates such a workbook on opening; LibreOffice keeps the saved
/// values unless told to recalculate (measured: a headless conversion kept the 0). Both
/// drop the flag when they save.
/// In such a workbook a formula's saved value is not known to be its value, so it is not
/// read. (A workbook whose parts cannot be read here counts as calculated: calamine
/// reports a damaged one.)
fn calculates_on_opening(archive: &mut Archive<'_>) -> bool {
    let target = workbook_part(archive);
    part_xml(archive, &target, |e| {
        (e.local_name().as_ref() == "calcPr").then(|| {
            e.attributes().flatten().any(|a| {
                a.key.local_name().as_ref() == "fullCalcOnLoad"
                    && a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .is_ok_and(|v| matches!(v.trim(), "1" | "true"))
            })
        })
    })
    .unwrap_or(false)
}

/// The name of the workbook part, where the package's relationships say (as calamine
/// finds it): usually xl/workbook.xml.
fn workbook_part(archive: &mut Archive<'_>) -> String {
    let target = part_xml(archive, "_rels/.rels", |e| {
        (e.local_name().as_ref() == "Relationship"
            && attribute(e, "Type").is_some_and(|t| t.ends_with("/relationships/officeDocument")))
        .then(|| attribute(e, "Target"))
        .flatten()
    });
    let target = target.as_deref().unwrap_or("xl/workbook.xml");
    target.strip_prefix('/').unwrap_or(target).to_string()
}

/// The part that holds worksheet `sheet`: the workbook part names its relationship,
/// and the workbook's relationships part its target, relative to the workbook part.
fn sheet_part(archive: &mut Archive<'_>, sheet: &str) -> Option<String> {
    let workbook = workbook_part(archive);
    let id = part_xml(archive, &workbook, |e| {
        (e.local_name().as_ref() == "sheet" && attribute(e, "name").as_deref() == Some(sheet))
            .then(|| attribute(e, "id"))
            .flatten()
    })?;
    let (dir, file) = workbook.rsplit_once('/').unwrap_or(("", &workbook));
    let rels = if dir.is_empty() {
        format!("_rels/{file}.rels")
    } else {
        format!("{dir}/_rels/{file}.rels")
    };
    let target = part_xml(archive, &rels, |e| {
        (e.local_name().as_ref() == "Relationship" && attribute(e, "Id") == Some(id.clone()))
            .then(|| attribute(e, "Target"))
            .flatten()
    })?;
    Some(match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None if dir.is_empty() => target,
        None => format!("{dir}/{target}"),
    })
}

/// The value of an element's attribute, by its local name (`r:id` is `id`).
fn attribute(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// The first answer `find` gives for an element of part `name` of a workbook's zip (named
/// as the zip names it, or in other case or with `\\`, which readers accept), if any.
fn part_xml<T>(
    archive: &mut Archive<'_>,
    name: &str,
    find: impl Fn(&quick_xml::events::BytesStart<'_>) -> Option<T>,
) -> Option<T> {
    let mut found = None;
    scan_part(archive, name, |e| {
        found = find(e);
        found.is_some()
    });
    found
}

/// Shows `visit` each element of part `name` (see [`part_xml`]) in turn, until it
/// answers true or the part ends.
fn scan_part(
    archive: &mut Archive<'_>,
    name: &str,
    mut visit: impl FnMut(&quick_xml::events::BytesStart<'_>) -> bool,
) {
    use quick_xml::events::Event;
    let index = archive.index_for_name(name).or_else(|| {
        (0..archive.len()).find(|&i| {
            archive
                .name_for_index(i)
                .and_then(Result::ok)
                .is_some_and(|n| n.replace('\\', "/").eq_ignore_ascii_case(name))
        })
    });
    let Some(Ok(part)) = index.map(|i| archive.by_index(i)) else {
        return;
    };
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(part));
    let mut buf = Vec::new();
    loop {
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if visit(&e) => return,
            Ok(Event::Eof) | Err(_) => return,
            _ => {}
        }
        buf.clear();
    }
}

/// The array formulas of worksheet `sheet`, by their first cell, each with the area
/// whose cells hold its results (`<f t="array" ref="J2:J5">`). calamine reports such a
/// formula at its first cell only, and the others then look like typed values.
fn array_formulas(archive: &mut Archive<'_>, sheet: &str) -> HashMap<(u32, u32), Area> {
    let mut arrays = HashMap::new();
    let Some(part) = sheet_part(archive, sheet) else {
        return arrays;
    };
    let mut cell = None;
    scan_part(archive, &part, |e| {
        match e.local_name().into_inner() {
            "c" => cell = attribute(e, "r").and_then(|r| cell_position(&r)),
            "f" if attribute(e, "t").as_deref() == Some("array") => {
                let area = attribute(e, "ref").and_then(|r| area_position(&r));
                if let (Some(at), Some(area)) = (cell, area) {
                    arrays.insert(at, area);
                }
            }
            _ => {}
        }
        false
    });
    arrays
}

/// The rows and columns of an area of a sheet, from 0.
type Area = (RangeInclusive<u32>, RangeInclusive<u32>);

/// The row and column (from 0) of an A1 reference such as `J3` or `$J$3`. Written here
/// because calamine's own parser is private.
fn cell_position(reference: &str) -> Option<(u32, u32)> {
    let reference = reference.trim().replace('$', "");
    let digits = reference.find(|c: char| c.is_ascii_digit())?;
    let (letters, number) = reference.split_at(digits);
    if letters.is_empty() || letters.len() > 3 || !letters.bytes().all(|b| b.is_ascii_alphabetic())
    {
        return None;
    }
    let col = letters.bytes().fold(0u32, |n, b| {
        n * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1)
    });
    let row: u32 = number.parse().ok()?;
    (row >= 1).then(|| (row - 1, col - 1))
}

/// An area's A1 reference, `J2:J5`.
fn area_reference((rows, cols): &Area) -> String {
    format!(
        "{}{}:{}{}",
        column_letters(*cols.start()),
        rows.start() + 1,
        column_letters(*cols.end()),
        rows.end() + 1
    )
}

/// An area's reference (`J2:J5`, or one cell), either corner first.
fn area_position(reference: &str) -> Option<Area> {
    let (a, b) = reference.split_once(':').unwrap_or((reference, reference));
    let (a, b) = (cell_position(a)?, cell_position(b)?);
    Some((a.0.min(b.0)..=a.0.max(b.0), a.1.min(b.1)..=a.1.max(b.1)))
}

/// The most cells a scenario sheet's used area (from its first used cell to its last)
/// may span: 2,000,000. calamine's own `worksheet_range` makes a dense grid of the whole
/// area, so two cells far apart (A1 and XFD1048576, in a file of a few hundred bytes)
/// would ask for hundreds of gigabytes; a scenario of 3,000 partners spans about 75,000.
pub const MAX_SHEET_CELLS: u64 = 2_000_000;

/// A sheet's cells as a range, read cell by cell (as calamine's `worksheet_range` does)
/// but refused, before the grid is made, when its used area spans more than
/// [`MAX_SHEET_CELLS`].
/// The text of a sheet's first row that holds anything (its headers, on a sheet laid
/// out as the workbook's are), read cell by cell and no further: a sheet of the user's
/// own may be large.
fn first_row(book: &mut Xlsx<Cursor<&[u8]>>, name: &str) -> Vec<String> {
    let Ok(mut reader) = book.worksheet_cells_reader(name) else {
        return Vec::new();
    };
    let (mut out, mut first) = (Vec::new(), None);
    while let Ok(Some(cell)) = reader.next_cell() {
        let row = cell.get_position().0;
        if *first.get_or_insert(row) != row {
            break;
        }
        if let Some(text) = cell.get_value().get_string() {
            out.push(text.trim().to_string());
        }
    }
    out
}

fn sheet_range(
    book: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    origin: &str,
) -> Result<(Range<Data>, Merged), ScenarioError> {
    let fail = |message: String| ScenarioError::Workbook {
        origin: origin.to_string(),
        message,
    };
    let mut reader = match book.worksheet_cells_reader(name) {
        Ok(reader) => reader,
        Err(calamine::XlsxError::NotAWorksheet(_)) => {
            return Ok((Range::default(), Merged::default()));
        }
        Err(e) => return Err(fail(e.to_string())),
    };
    let mut cells = Vec::new();
    let (mut first, mut last) = ((u32::MAX, u32::MAX), (0u32, 0u32));
    while let Some(cell) = reader.next_cell().map_err(|e| fail(e.to_string()))? {
        if cell.get_value().is_empty() {
            continue;
        }
        let (row, col) = cell.get_position();
        first = (first.0.min(row), first.1.min(col));
        last = (last.0.max(row), last.1.max(col));
        let span = u64::from(last.0 - first.0 + 1) * u64::from(last.1 - first.1 + 1);
        if span > MAX_SHEET_CELLS {
            return Err(fail(format!(
                "its sheet {name} uses cells from {} to {}, more than the {} cells a scenario sheet may span; delete the stray cells",
                cell_name(name, first.0, first.1),
                cell_name(name, last.0, last.1),
                MAX_SHEET_CELLS
            )));
        }
        cells.push(calamine::Cell::new(
            (row, col),
            Data::from(cell.get_value().clone()),
        ));
    }
    drop(reader);
    let mut range = Range::from_sparse(cells);
    let mut merges = book
        .merge_cells_by_sheet_name(name)
        .map_err(|e| fail(e.to_string()))?;
    for m in &mut merges {
        // A reference written end first (`J5:J2`), as a spreadsheet still reads it.
        let (a, b) = (m.start, m.end);
        m.start = (a.0.min(b.0), a.1.min(b.1));
        m.end = (a.0.max(b.0), a.1.max(b.1));
        // Row 1 holds the headings, by which the columns are found: merged down into
        // the rows below, a heading would become a value (the first partner's name).
        if m.start.0 == 0 && m.end.0 > 0 {
            return Err(fail(format!(
                "its sheet {name} merges the heading {} with the cells below it ({}); unmerge them, so that row 1 holds only headings",
                cell_name(name, 0, m.start.1),
                area_reference(&(m.start.0..=m.end.0, m.start.1..=m.end.1)),
            )));
        }
    }
    let Some(merged) = fill_merged(&mut range, &merges) else {
        return Err(fail(format!(
            "its sheet {name}'s merged cells cover more than the {MAX_SHEET_CELLS} cells a scenario sheet may span; unmerge them"
        )));
    };
    Ok((range, merged))
}

/// A sheet's merged areas as [`fill_merged`] filled them: the cells that took another
/// cell's value, and each area (clipped to the used range) by its top-left cell.
#[derive(Default)]
struct Merged {
    hidden: HashSet<(u32, u32)>,
    areas: HashMap<(u32, u32), (RangeInclusive<u32>, RangeInclusive<u32>)>,
}

impl Merged {
    /// The rows and columns of the cells whose value is cell `at`'s: itself, or the
    /// area it heads.
    fn area_of(&self, at: (u32, u32)) -> (RangeInclusive<u32>, RangeInclusive<u32>) {
        self.areas
            .get(&at)
            .cloned()
            .unwrap_or((at.0..=at.0, at.1..=at.1))
    }
}

/// Gives every cell of a merged area its top-left cell's value, which is where a
/// spreadsheet keeps it and what it shows across the whole area: an exit fee merged down
/// four partners' rows is each one's exit fee, where it would otherwise be the first
/// partner's only, the others silently taking the default. A value the file keeps in
/// another cell of the area (which no spreadsheet shows) is replaced the same way. Only
/// cells within the sheet's used range are filled, so a merge running down a whole
/// column adds no rows. Returns the cells filled; none, part filled, if the areas
/// (which a damaged or hostile file may overlap many times) add up to more than
/// [`MAX_SHEET_CELLS`] cells.
fn fill_merged(range: &mut Range<Data>, merges: &[calamine::Dimensions]) -> Option<Merged> {
    let mut merged = Merged::default();
    let (Some(start), Some(end)) = (range.start(), range.end()) else {
        return Some(merged);
    };
    let mut budget = MAX_SHEET_CELLS;
    for m in merges {
        let rows = m.start.0.max(start.0)..=m.end.0.min(end.0);
        let cols = m.start.1.max(start.1)..=m.end.1.min(end.1);
        let cells = rows.clone().count() as u64 * cols.clone().count() as u64;
        let left = budget.checked_sub(cells)?;
        budget = left;
        let top_left = range.get_value(m.start).cloned().unwrap_or(Data::Empty);
        merged.areas.insert(m.start, (rows.clone(), cols.clone()));
        for row in rows {
            for col in cols.clone() {
                if (row, col) != m.start {
                    range.set_value((row, col), top_left.clone());
                    merged.hidden.insert((row, col));
                }
            }
        }
    }
    Some(merged)
}

/// A workbook read: the scenario's JSON (not yet validated) and where each value came
/// from.
#[derive(Debug, Clone)]
pub struct Read {
    pub value: Value,
    pub places: Places,
}

/// Reads a scenario workbook's bytes; `origin` names it in messages. Mistakes only a
/// workbook can make are returned with the loader's problems with the rest, all
/// located; a workbook without them is returned for the caller to validate (after any
/// overrides), locating the loader's problems with [`Places::locate`].
pub fn read(bytes: &[u8], origin: &str) -> Result<Read, ScenarioError> {
    let unreadable = |e: calamine::XlsxError| ScenarioError::Workbook {
        origin: origin.to_string(),
        message: e.to_string(),
    };
    let mut archive = check_archive(bytes, origin)?;
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(unreadable)?;
    let mut merges: HashMap<&str, Merged> = HashMap::new();
    let mut sheet = |name: &'static str| -> Result<Option<Range<Data>>, ScenarioError> {
        if !book.sheet_names().iter().any(|s| s == name) {
            return Ok(None);
        }
        let (range, merged) = sheet_range(&mut book, name, origin)?;
        merges.insert(name, merged);
        Ok(Some(range))
    };
    let (scenario, partners) = (sheet(SCENARIO)?, sheet(PARTNERS)?);
    let (disputes, correlations) = (sheet(DISPUTES)?, sheet(CORRELATIONS)?);
    let recalculated = calculates_on_opening(&mut archive);
    let mut r = Walk::default();
    r.places.put("", format!("sheet {SCENARIO}"));
    r.misnamed_sheets(&mut book);
    for (name, range) in [
        (SCENARIO, &scenario),
        (PARTNERS, &partners),
        (DISPUTES, &disputes),
        (CORRELATIONS, &correlations),
    ] {
        if let Some(range) = range {
            let merged = merges.remove(name).unwrap_or_default();
            let arrays = || array_formulas(&mut archive, name);
            r.uncalculated_formulas(&mut book, name, range, &merged, arrays, recalculated);
        }
    }
    let mut fields = Fields::default();
    match &scenario {
        Some(range) => r.field_sheet(range, SCENARIO, &mut fields),
        None => r.problem(
            "",
            None,
            format!("the workbook has no sheet named {SCENARIO}"),
        ),
    }
    if let Some(range) = &disputes {
        r.field_sheet(range, DISPUTES, &mut fields);
    }
    let partners = partners.map(|range| r.partners(&range, &mut fields));
    let correlations = correlations.map(|range| r.correlations(&range));
    let value = assemble(fields, scenario.is_some(), partners, correlations);
    r.places.read = value.clone();
    if r.problems.is_empty() {
        return Ok(Read {
            value,
            places: r.places,
        });
    }
    Err(r.with_loaders(value, origin))
}

/// The fields read from the field sheets, by section.
#[derive(Default)]
struct Fields {
    top: Map<String, Value>,
    service: Map<String, Value>,
    disputes: Map<String, Value>,
    /// The row of `"cost_sharing": "fixed"`, whose weights are on the Partners sheet.
    fixed_sharing: bool,
}

impl Fields {
    fn of(&mut self, section: Section) -> &mut Map<String, Value> {
        match section {
            Section::Service => &mut self.service,
            Section::Disputes => &mut self.disputes,
            _ => &mut self.top,
        }
    }
}

/// The scenario's JSON, its keys in the table's order. The service is there whenever
/// the Scenario sheet is (its missing fields are then the loader's to name), the
/// partners whenever their sheet is; empty disputes and correlations are left out.
fn assemble(
    mut fields: Fields,
    has_scenario: bool,
    partners: Option<Vec<Value>>,
    correlations: Option<Vec<Value>>,
) -> Value {
    let mut out = Map::new();
    for input in INPUTS.iter().filter(|i| i.section == Section::Top) {
        let v = match input.name {
            "service" => has_scenario.then(|| Value::Object(std::mem::take(&mut fields.service))),
            "partners" => partners.clone().map(Value::Array),
            "disputes" => (!fields.disputes.is_empty())
                .then(|| Value::Object(std::mem::take(&mut fields.disputes))),
            "correlations" => correlations
                .clone()
                .filter(|c| !c.is_empty())
                .map(Value::Array),
            name => fields.top.remove(name),
        };
        if let Some(v) = v {
            out.insert(input.name.to_string(), v);
        }
    }
    Value::Object(out)
}

/// The walk over the sheets: the places found and the workbook's own problems.
#[derive(Default)]
struct Walk {
    places: Places,
    problems: Vec<Problem>,
    /// Pointers whose cell was refused: the loader's "missing" there is not repeated.
    refused: Vec<String>,
    /// Cells refused for their formula, by sheet and area: what the loader then finds
    /// at them ("missing", or a placeholder 0 "out of range") follows from that, and is
    /// not repeated.
    formula_cells: Vec<(String, Area)>,
}

impl Walk {
    /// Sheets of the user's own are not read, but a sheet of the workbook's renamed
    /// ("Dispute risk", "disputes", "Correlation") would be ignored with every setting
    /// on it, and the scenario run on their defaults without a word. A sheet is refused
    /// whose name is a sheet's in other letters (case, spaces, a plural), or whose first
    /// row is the headers of a sheet the workbook lacks.
    fn misnamed_sheets(&mut self, book: &mut Xlsx<Cursor<&[u8]>>) {
        const KNOWN: [&str; 5] = [SCENARIO, PARTNERS, DISPUTES, CORRELATIONS, super::README];
        let squeeze = |name: &str| {
            let s: String = name
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect();
            s.strip_suffix('s').map(str::to_string).unwrap_or(s)
        };
        let names = book.sheet_names();
        let has = |known: &str| names.iter().any(|n| n == known);
        for name in names.iter().filter(|n| !KNOWN.contains(&n.as_str())) {
            let place = Some(format!("sheet {name}"));
            // The Read me sheet is never read: "Readme" is a notes sheet like any other.
            let read = &KNOWN[..4];
            if let Some(known) = read.iter().find(|k| squeeze(k) == squeeze(name)) {
                let message = format!(
                    "sheets are read by their exact names, and \"{name}\" is not one: rename it {known}, or its settings are ignored"
                );
                self.problem("", place, message);
                continue;
            }
            let headers = first_row(book, name);
            let heads = |wanted: &[&str]| {
                wanted.iter().all(|w| {
                    headers.iter().any(|h| {
                        h.split('(')
                            .next()
                            .unwrap_or_default()
                            .trim()
                            .eq_ignore_ascii_case(w)
                    })
                })
            };
            let like = if heads(&["Field", "Value"]) {
                [SCENARIO, DISPUTES].into_iter().find(|k| !has(k))
            } else if heads(&CORRELATION_KEYS) {
                Some(CORRELATIONS).filter(|k| !has(k))
            } else if heads(&["name", "baseline_cost"]) {
                Some(PARTNERS).filter(|k| !has(k))
            } else {
                None
            };
            if let Some(known) = like {
                let message = format!(
                    "the sheet \"{name}\" is laid out as the {known} sheet, which this workbook lacks, but only a sheet named {known} is read: rename it {known}, or its settings are ignored"
                );
                self.problem("", place, message);
            }
        }
    }

    /// A formula whose value was not saved with it (as openpyxl writes them) reads as an
    /// empty cell, which is the field's default; one in a workbook that asks to be
    /// calculated on opening (`recalculated`, see [`calculates_on_opening`]) has a saved
    /// value, usually 0, that nothing calculated. Either is refused at its cell. Any
    /// other formula whose saved value is 0 is kept for a warning
    /// ([`Places::zero_formulas`]). An array formula (`arrays`, by first cell) is all
    /// the cells of its area, within the sheet's used range: refused as one, at its first
    /// cell, and warned about cell by cell.
    fn uncalculated_formulas(
        &mut self,
        book: &mut Xlsx<Cursor<&[u8]>>,
        sheet: &str,
        values: &Range<Data>,
        merged: &Merged,
        arrays: impl FnOnce() -> HashMap<(u32, u32), Area>,
        recalculated: bool,
    ) {
        let Ok(formulas) = book.worksheet_formula(sheet) else {
            return;
        };
        if formulas.is_empty() {
            return;
        }
        // Read only for a sheet with formulas: it is a second pass over the sheet's XML.
        let arrays = arrays();
        let (Some(start), Some(end)) = (values.start(), values.end()) else {
            return;
        };
        let saved = |at| !matches!(values.get_value(at), None | Some(Data::Empty));
        // A formula's text result "0" is read as the number 0 too (a number stored as
        // text).
        let zero = |at| match values.get_value(at) {
            Some(Data::Int(0)) => true,
            Some(Data::Float(x)) => *x == 0.0,
            Some(Data::String(t)) => t.trim().parse::<f64>().is_ok_and(|x| x == 0.0),
            _ => false,
        };
        // A formula that gave empty text (Excel saves `=IF(..., "", ...)`'s "" so) reads
        // as a blank cell: the field's default, which is worth a warning too.
        let empty_text =
            |at| matches!(values.get_value(at), Some(Data::String(t)) if t.trim().is_empty());
        let sheet_name: Arc<str> = Arc::from(sheet);
        // The cells all array areas span, added up: overlapping areas (which no
        // spreadsheet writes) would otherwise cost the square of the sheet's size.
        let mut budget = MAX_SHEET_CELLS;
        // The cells already kept for a warning: one heading a merged area stands for the
        // whole area, and overlapping arrays would otherwise keep it once each.
        let mut kept = HashSet::new();
        let (top, left) = formulas.start().unwrap_or((0, 0));
        for (row, col, formula) in formulas.used_cells() {
            let at = (top + row as u32, left + col as u32);
            // A formula hidden under a merged area is not what is read there (the area's
            // top-left cell is); one at the top-left stands for every cell it fills.
            if formula.is_empty() || merged.hidden.contains(&at) {
                continue;
            }
            let formula: Arc<str> = Arc::from(formula.as_str());
            // An area of one cell is an ordinary formula; so, in a damaged file, is one
            // whose area does not hold the formula's own cell.
            let array = arrays.get(&at).filter(|(rows, cols)| {
                (rows.start() != rows.end() || cols.start() != cols.end())
                    && rows.contains(&at.0)
                    && cols.contains(&at.1)
            });
            let Some(whole) = array else {
                if !saved(at) || recalculated {
                    let unsaved = (!saved(at)).then_some(at);
                    self.refuse_formula(sheet, at, merged.area_of(at), None, unsaved, &formula);
                } else if (zero(at) || empty_text(at)) && kept.insert(at) {
                    self.places.zero_formulas.push(ZeroFormula {
                        sheet: sheet_name.clone(),
                        cells: vec![merged.area_of(at)],
                        formula,
                        empty_text: empty_text(at),
                    });
                }
                continue;
            };
            // Cells past the used range are never read; they bound what a damaged or
            // hostile file's area (a whole sheet) costs.
            let (rows, cols) = whole;
            let rows = *rows.start().max(&start.0)..=*rows.end().min(&end.0);
            let cols = *cols.start().max(&start.1)..=*cols.end().min(&end.1);
            let spanned = rows.clone().count() as u64 * cols.clone().count() as u64;
            let Some(left) = budget.checked_sub(spanned) else {
                self.problem(
                    "",
                    Some(format!("sheet {sheet}")),
                    format!(
                        "its array formulas cover more than the {MAX_SHEET_CELLS} cells a scenario sheet may span; type the values in place of the formulas"
                    ),
                );
                return;
            };
            budget = left;
            let cells = || {
                rows.clone()
                    .flat_map(|r| cols.clone().map(move |c| (r, c)))
                    .filter(|at| !merged.hidden.contains(at))
            };
            // The formula's own cell first: it may lie past the used range (a formula
            // with no saved value is no used cell), which the clipped area leaves out.
            let unsaved = std::iter::once(at).chain(cells()).find(|&at| !saved(at));
            if unsaved.is_some() || recalculated {
                let clipped = (rows.clone(), cols.clone());
                self.refuse_formula(sheet, at, clipped, Some(whole), unsaved, &formula);
                continue;
            }
            for empty in [false, true] {
                let found: Vec<Area> = cells()
                    .filter(|&at| {
                        (if empty { empty_text(at) } else { zero(at) }) && kept.insert(at)
                    })
                    .map(|at| merged.area_of(at))
                    .collect();
                if !found.is_empty() {
                    self.places.zero_formulas.push(ZeroFormula {
                        sheet: sheet_name.clone(),
                        cells: found,
                        formula: formula.clone(),
                        empty_text: empty,
                    });
                }
            }
        }
    }

    /// Refuses the formula at `at` of `sheet`, whose results are read from `cells`:
    /// `array` is an array formula's whole area, and `unsaved` the first of its cells
    /// without a saved value; with none, only the workbook's request to be calculated
    /// on opening makes its saved values unknown.
    fn refuse_formula(
        &mut self,
        sheet: &str,
        at: (u32, u32),
        cells: Area,
        array: Option<&Area>,
        unsaved: Option<(u32, u32)>,
        formula: &str,
    ) {
        let shown = super::shown_formula(formula);
        let (what, missing) = match array {
            None => (
                format!("the formula {shown}"),
                "with no value saved with it".to_string(),
            ),
            Some(area) => (
                format!("the array formula {shown} over {}", area_reference(area)),
                unsaved.map_or(String::new(), |(r, c)| {
                    format!("with no value saved in {}{}", column_letters(c), r + 1)
                }),
            ),
        };
        let message = if unsaved.is_some() {
            format!(
                "holds {what} {missing} (the program that wrote the workbook did not calculate it): open the workbook in Excel or LibreOffice and save it"
            )
        } else {
            format!(
                "holds {what} in a workbook that asks to be calculated when opened, as programs such as XlsxWriter write them, so its saved value (XlsxWriter saves 0) may never have been calculated: open the workbook in Excel and save it (in LibreOffice, first choose Data > Calculate > Recalculate Hard, as it keeps saved values), or type the value in place of the formula"
            )
        };
        self.formula_cells.push((sheet.to_string(), cells));
        self.problem("", Some(cell_name(sheet, at.0, at.1)), message);
    }

    fn problem(&mut self, path: &str, cell: Option<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_string(),
            message: message.into(),
            cell,
        });
    }

    /// The value of a cell, or its problem reported and the pointer remembered.
    fn value(&mut self, data: &Data, expect: Expect, path: &str, cell: String) -> Option<Value> {
        match cell_value(data, expect) {
            Ok(v) => v,
            Err(message) => {
                self.problem(path, Some(cell), message);
                self.refused.push(path.to_string());
                None
            }
        }
    }

    /// The error of a workbook with mistakes of its own: those, then the loader's
    /// problems with what could be read (but not the absence of a refused value),
    /// each at its place.
    fn with_loaders(mut self, value: Value, origin: &str) -> ScenarioError {
        // Told with the error: a formula's saved 0 may be what the loader refuses.
        let warnings = self.places.zero_formulas(&value, &[]);
        if let Err(ScenarioError::Invalid { problems, .. }) = from_value(&value, origin) {
            let refused = |p: &Problem| {
                self.refused
                    .iter()
                    .any(|r| p.path == *r || p.path.starts_with(&format!("{r}/")))
            };
            let others: Vec<Problem> = problems.into_iter().filter(|p| !refused(p)).collect();
            self.problems.extend(others);
        }
        let error = ScenarioError::Invalid {
            origin: origin.to_string(),
            problems: self.problems,
            warnings,
        };
        let formula_cells = self.formula_cells;
        match self.places.locate(error, &value) {
            ScenarioError::Invalid {
                origin,
                mut problems,
                warnings,
            } => {
                let refused = |cell: &str| {
                    let Some((sheet, reference)) = cell.rsplit_once('!') else {
                        return false;
                    };
                    let Some((row, col)) = cell_position(reference) else {
                        return false;
                    };
                    formula_cells.iter().any(|(s, (rows, cols))| {
                        s == sheet && rows.contains(&row) && cols.contains(&col)
                    })
                };
                problems
                    .retain(|p| p.path.is_empty() || p.cell.as_deref().is_none_or(|c| !refused(c)));
                ScenarioError::Invalid {
                    origin,
                    problems,
                    warnings,
                }
            }
            other => other,
        }
    }

    /// A Scenario or Disputes sheet: one field a row, found by the Field column (and
    /// the Section column, where there is one).
    fn field_sheet(&mut self, range: &Range<Data>, sheet: &str, fields: &mut Fields) {
        let columns = header(range);
        let find = |name: &str| columns.iter().find(|(_, h)| h.eq_ignore_ascii_case(name));
        let (Some(&(field_col, _)), Some(&(value_col, _))) = (find("Field"), find("Value")) else {
            let place = format!("sheet {sheet}");
            self.problem(
                "",
                Some(place),
                "row 1 must name the columns Field and Value",
            );
            return;
        };
        let section_col = find("Section").map(|&(c, _)| c);
        if sheet == DISPUTES {
            self.places.put("/disputes", format!("sheet {DISPUTES}"));
        } else {
            self.places.put("/service", format!("sheet {SCENARIO}"));
        }
        let mut seen: Vec<(String, u32)> = Vec::new();
        for row in 1..rows(range) {
            let field = text_at(range, row, field_col);
            let data = at(range, row, value_col);
            if field.is_empty() {
                if *data != Data::Empty {
                    let cell = cell_name(sheet, row, value_col);
                    self.problem("", Some(cell), "a value with no field name in its row");
                }
                continue;
            }
            let section = section_col.map(|c| (c, text_at(range, row, c)));
            let Some(input) = self.field_row(sheet, row, field_col, section, &field) else {
                continue;
            };
            let path = pointer(input.section, input.name);
            let cell = cell_name(sheet, row, value_col);
            if let Some((_, first)) = seen.iter().find(|(p, _)| *p == path) {
                let message = format!("\"{field}\" is given twice (also in row {})", first + 1);
                self.problem(&path, Some(cell), message);
                continue;
            }
            seen.push((path.clone(), row));
            self.places.put(&path, &cell);
            let expect = Expect::of(input);
            if expect == Expect::Sharing && is_word(data, "fixed") {
                fields.fixed_sharing = true;
                self.places.put(format!("{path}/fixed"), &cell);
                continue;
            }
            if let Some(v) = self.value(data, expect, &path, cell) {
                fields.of(input.section).insert(input.name.to_string(), v);
            }
        }
    }

    /// The table's row for a field sheet's row, or its problem reported.
    fn field_row(
        &mut self,
        sheet: &str,
        row: u32,
        field_col: u32,
        section: Option<(u32, String)>,
        field: &str,
    ) -> Option<&'static inputs::Input> {
        let sections = sheet_sections(sheet);
        let named = match section.filter(|(_, s)| !s.is_empty()) {
            None => None,
            Some((section_col, s)) => match sections.iter().find(|x| section_label(**x) == s) {
                Some(x) => Some(*x),
                None => {
                    let labels: Vec<&str> = sections.iter().map(|x| section_label(*x)).collect();
                    let cell = cell_name(sheet, row, section_col);
                    let message = format!(
                        "unknown section \"{s}\"{}; this sheet's sections are {}",
                        hint(&s, &labels),
                        labels.join(", ")
                    );
                    self.problem("", Some(cell), message);
                    return None;
                }
            },
        };
        let candidates: Vec<&'static inputs::Input> = field_rows(sheet)
            .filter(|i| named.is_none_or(|s| i.section == s))
            .collect();
        if let Some(input) = candidates.iter().find(|i| i.name == field) {
            return Some(input);
        }
        let names: Vec<&str> = candidates.iter().map(|i| i.name).collect();
        let section = named.unwrap_or(sections[0]);
        let message = format!("unknown field \"{field}\"{}", hint(field, &names));
        let cell = cell_name(sheet, row, field_col);
        self.problem(&pointer(section, field), Some(cell), message);
        None
    }

    /// The Partners sheet: one partner a row (an empty row is skipped), one field a
    /// column; the weights of fixed cost sharing go to the service.
    fn partners(&mut self, range: &Range<Data>, fields: &mut Fields) -> Vec<Value> {
        self.places.put("/partners", format!("sheet {PARTNERS}"));
        let mut known: Vec<&str> = PARTNER_KEYS.to_vec();
        known.push(WEIGHT);
        let columns = self.columns(range, PARTNERS, "/partners", &known);
        let expect = |name: &str| match inputs::find(Section::Partner, name) {
            Some(input) => Expect::of(input),
            None => Expect::Number,
        };
        let mut partners = Vec::new();
        let mut weights = Map::new();
        let mut weight_cells = Vec::new();
        for row in 1..rows(range) {
            if self.blank(range, row, PARTNERS, &columns) {
                continue;
            }
            let at_ = format!("/partners/{}", partners.len());
            self.places.put(&at_, format!("{PARTNERS} row {}", row + 1));
            let mut partner = Map::new();
            let mut weight = None;
            for &(col, name) in &columns {
                let path = format!("{at_}/{}", escape(name));
                let cell = cell_name(PARTNERS, row, col);
                self.places.put(&path, &cell);
                let v = self.value(at(range, row, col), expect(name), &path, cell.clone());
                match (name, v) {
                    (WEIGHT, Some(v)) => weight = Some((v, cell)),
                    (_, Some(v)) => {
                        partner.insert(name.to_string(), v);
                    }
                    _ => {}
                }
            }
            if let (Some((w, cell)), Some(Value::String(name))) = (weight, partner.get("name")) {
                let path = format!("/service/cost_sharing/fixed/{}", escape(name));
                self.places.put(&path, &cell);
                weights.insert(name.clone(), w);
                weight_cells.push(cell);
            }
            partners.push(Value::Object(in_table_order(partner)));
        }
        if fields.fixed_sharing {
            let fixed = Map::from_iter([("fixed".to_string(), Value::Object(weights))]);
            fields
                .service
                .insert("cost_sharing".into(), Value::Object(fixed));
        } else if let Some(cell) = weight_cells.into_iter().next() {
            self.problem(
                "/service/cost_sharing",
                Some(cell),
                format!(
                    "a {WEIGHT} is given but cost_sharing is not fixed: set cost_sharing to \
                     fixed on the {SCENARIO} sheet, or clear the weights"
                ),
            );
        }
        partners
    }

    /// The Correlations sheet: one pair a row.
    fn correlations(&mut self, range: &Range<Data>) -> Vec<Value> {
        self.places
            .put("/correlations", format!("sheet {CORRELATIONS}"));
        let columns = self.columns(range, CORRELATIONS, "/correlations", &CORRELATION_KEYS);
        let mut out = Vec::new();
        for row in 1..rows(range) {
            if self.blank(range, row, CORRELATIONS, &columns) {
                continue;
            }
            let at_ = format!("/correlations/{}", out.len());
            self.places
                .put(&at_, format!("{CORRELATIONS} row {}", row + 1));
            let mut pair = Map::new();
            for &(col, name) in &columns {
                let path = format!("{at_}/{name}");
                let cell = cell_name(CORRELATIONS, row, col);
                self.places.put(&path, &cell);
                let expect = if name == "rank_correlation" {
                    Expect::Number
                } else {
                    Expect::Text
                };
                if let Some(v) = self.value(at(range, row, col), expect, &path, cell) {
                    pair.insert(name.to_string(), v);
                }
            }
            out.push(Value::Object(pair));
        }
        out
    }

    /// The known columns of a table sheet, by their header (the field name, before any
    /// `(unit)`); an unknown or repeated header is reported at its cell.
    fn columns(
        &mut self,
        range: &Range<Data>,
        sheet: &str,
        path: &str,
        known: &[&'static str],
    ) -> Vec<(u32, &'static str)> {
        let mut out: Vec<(u32, &'static str)> = Vec::new();
        for (col, header) in header(range) {
            let name = header.split('(').next().unwrap_or_default().trim();
            let cell = Some(cell_name(sheet, 0, col));
            match known.iter().find(|k| **k == name) {
                Some(k) if out.iter().any(|(_, n)| n == k) => {
                    self.problem(path, cell, format!("the column \"{name}\" is given twice"))
                }
                Some(k) => out.push((col, k)),
                None => self.problem(
                    path,
                    cell,
                    format!("unknown field \"{name}\"{}", hint(name, known)),
                ),
            }
        }
        out
    }

    /// Whether a table row holds nothing; a value under no header is reported.
    fn blank(
        &mut self,
        range: &Range<Data>,
        row: u32,
        sheet: &str,
        columns: &[(u32, &str)],
    ) -> bool {
        let (first, last) = (
            range.start().unwrap_or_default().1,
            range.end().unwrap_or_default().1,
        );
        let mut blank = true;
        for col in first..=last {
            if is_empty(at(range, row, col)) {
                continue;
            }
            if columns.iter().any(|(c, _)| *c == col) {
                blank = false;
            } else if text_at(range, 0, col).is_empty() {
                let cell = Some(cell_name(sheet, row, col));
                self.problem("", cell, "a value in a column with no field name in row 1");
            }
        }
        blank
    }
}

/// A partner's fields in the table's order (the columns may be in any).
fn in_table_order(mut partner: Map<String, Value>) -> Map<String, Value> {
    PARTNER_KEYS
        .iter()
        .filter_map(|k| Some((k.to_string(), partner.remove(*k)?)))
        .collect()
}

/// ` (did you mean "x"?)`, or nothing.
fn hint(word: &str, known: &[&str]) -> String {
    suggest(word, known)
        .map(|k| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_default()
}

/// The rows to read: up to the last used one (row numbers are absolute).
fn rows(range: &Range<Data>) -> u32 {
    range.end().map_or(0, |(row, _)| row + 1)
}

/// Row 1's non-empty headers, with their columns.
fn header(range: &Range<Data>) -> Vec<(u32, String)> {
    let (Some((_, first)), Some((_, last))) = (range.start(), range.end()) else {
        return Vec::new();
    };
    (first..=last)
        .map(|col| (col, text_at(range, 0, col)))
        .filter(|(_, h)| !h.is_empty())
        .collect()
}

fn at(range: &Range<Data>, row: u32, col: u32) -> &Data {
    range.get_value((row, col)).unwrap_or(&Data::Empty)
}

/// A cell's text, trimmed (a number as its text).
fn text_at(range: &Range<Data>, row: u32, col: u32) -> String {
    match at(range, row, col) {
        Data::String(s) => s.trim().to_string(),
        Data::Empty => String::new(),
        other => other.to_string().trim().to_string(),
    }
}

fn is_empty(data: &Data) -> bool {
    match data {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn is_word(data: &Data, word: &str) -> bool {
    matches!(data, Data::String(s) if s.trim() == word)
}

/// A cell's value as JSON: `None` for an empty cell (the field is absent).
fn cell_value(data: &Data, expect: Expect) -> Result<Option<Value>, String> {
    let v = match data {
        _ if is_empty(data) => return Ok(None),
        Data::Float(x) => number_value(*x, expect)?,
        Data::Int(i) => number_value(*i as f64, expect)?,
        Data::Bool(b) if expect == Expect::Bool => Value::Bool(*b),
        Data::Bool(b) => {
            return Err(format!(
                "expected {}, found {}",
                wanted(expect),
                if *b { "TRUE" } else { "FALSE" }
            ));
        }
        Data::String(s) => text_value(s, expect)?,
        Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => {
            return Err(format!(
                "expected {}, found a date or time (the cell is formatted as one: format it as a number or as text)",
                wanted(expect)
            ));
        }
        Data::Error(e) => return Err(format!("the cell holds the error {e}")),
        Data::Empty => return Ok(None),
    };
    Ok(Some(v))
}

/// What a cell of this kind should hold, in messages.
fn wanted(expect: Expect) -> &'static str {
    match expect {
        Expect::Number => "a number",
        Expect::Dist => "a number or a distribution such as pert(0.08, 0.15, 0.22)",
        Expect::List => "numbers separated by commas",
        Expect::Text => "text",
        Expect::Discount => "a rate, green_book, green_book_health or bands(0: 0.035, 31: 0.03)",
        Expect::Sharing => "proportional, equal or fixed",
        Expect::Bool => "TRUE or FALSE",
        Expect::Json => "JSON",
    }
}

/// A number cell's value: a whole number (below 2^53) as JSON's whole number, as a
/// scenario file writes it.
fn number_value(x: f64, expect: Expect) -> Result<Value, String> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let whole = x.fract() == 0.0 && x.abs() < EXACT;
    let n = if whole && x >= 0.0 {
        Number::from(x as u64)
    } else if whole {
        Number::from(x as i64)
    } else {
        Number::from_f64(x).ok_or("the cell holds a number that is not finite")?
    };
    match expect {
        Expect::Text => Ok(Value::String(n.to_string())),
        Expect::Sharing | Expect::Bool => {
            Err(format!("expected {}, found the number {n}", wanted(expect)))
        }
        _ => Ok(Value::Number(n)),
    }
}

/// A text cell's value. Text that begins with `{` or `[` is JSON, in any field.
fn text_value(s: &str, expect: Expect) -> Result<Value, String> {
    let t = s.trim();
    if t.starts_with('{') || t.starts_with('[') {
        return serde_json::from_str(t).map_err(|e| format!("the text is not valid JSON: {e}"));
    }
    match expect {
        Expect::Text => Ok(Value::String(s.to_string())),
        Expect::Number => text::number(t).map_err(|_| {
            format!(
                "expected a number, found the text \"{t}\"{}",
                text::decimal_comma(t)
            )
        }),
        Expect::Dist => text::dist(t),
        Expect::List => text::list(t),
        Expect::Discount => text::discount(t),
        Expect::Sharing => Ok(Value::String(t.to_string())),
        Expect::Bool => match t.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("expected TRUE or FALSE, found the text \"{t}\"")),
        },
        Expect::Json => Err(format!("expected JSON text, found \"{t}\"")),
    }
}
