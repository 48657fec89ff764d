//! Writing a scenario's JSON as a workbook (rust_xlsxwriter): the template of `init
//! --xlsx` and the JSON-to-workbook half of `convert`.
//!
//! Each field's row or column comes from the table of inputs and its meaning and
//! default from the JSON Schema, so the workbook never falls behind the format. Numbers
//! are number cells in full precision (a whole number too large for a double is text,
//! so that it comes back exactly); names and other text are string cells, never
//! formulas; a distribution, a list or discount bands is one cell in the forms of
//! [`super::text`].

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationRule, Format, FormatAlign, FormatBorder, Note, Workbook,
    Worksheet, XlsxError,
};
use serde_json::{Number, Value};

use super::super::inputs::{Absent, Input, PARTNER_KEYS, Section};
use super::super::{ScenarioError, schema};
use super::{
    CORRELATION_KEYS, CORRELATIONS, DISPUTES, Expect, FIELD_HEADER, PARTNERS, README, SCENARIO,
    WEIGHT, field_rows, pointer, section_label, text,
};

/// The longest text a cell holds (Excel's limit).
const MAX_CELL_TEXT: usize = 32_767;

/// A scenario's JSON (validated by the caller) as the bytes of a workbook; `origin`
/// names it in messages.
pub fn write(value: &Value, origin: &str) -> Result<Vec<u8>, ScenarioError> {
    let unwritable = |message: String| ScenarioError::Unwritable {
        origin: origin.to_string(),
        message,
    };
    if let Some(long) = longest_text(value, "").filter(|l| l.chars > MAX_CELL_TEXT) {
        return Err(unwritable(format!(
            "{} is a text of {} characters, longer than the {MAX_CELL_TEXT} an Excel cell \
             holds",
            long.at, long.chars
        )));
    }
    book(value).map_err(|e| unwritable(e.to_string()))
}

fn book(value: &Value) -> Result<Vec<u8>, XlsxError> {
    let docs = Docs::new();
    let style = Styles::new();
    let currency = value["currency"].as_str().unwrap_or("£");
    let mut book = Workbook::new();
    for sheet in [SCENARIO, DISPUTES] {
        let ws = book.add_worksheet();
        ws.set_name(sheet)?;
        field_sheet(ws, sheet, value, currency, &docs, &style)?;
    }
    let ws = book.add_worksheet();
    ws.set_name(PARTNERS)?;
    partners_sheet(ws, value, currency, &docs, &style)?;
    let ws = book.add_worksheet();
    ws.set_name(CORRELATIONS)?;
    correlations_sheet(ws, value, &docs, &style)?;
    let ws = book.add_worksheet();
    ws.set_name(README)?;
    readme_sheet(ws, &style)?;
    book.save_to_buffer()
}

/// The formats every sheet uses.
struct Styles {
    header: Format,
    plain: Format,
    money: Format,
    wrapped: Format,
    label: Format,
}

impl Styles {
    fn new() -> Styles {
        let plain = Format::new()
            .set_align(FormatAlign::Top)
            .set_align(FormatAlign::Left);
        Styles {
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_font_color(Color::White)
                .set_background_color(Color::RGB(0x1F4E79))
                .set_border_bottom(FormatBorder::Thin)
                .set_align(FormatAlign::Top),
            money: plain.clone().set_num_format("#,##0"),
            wrapped: plain.clone().set_text_wrap(),
            label: plain.clone().set_font_color(Color::RGB(0x595959)),
            plain,
        }
    }
}

/// The JSON Schema's meaning and default of each field.
struct Docs {
    schema: Value,
}

impl Docs {
    fn new() -> Docs {
        let schema = serde_json::to_value(schema::schema()).expect("a schema is JSON");
        Docs { schema }
    }

    fn field(&self, section: Section, name: &str) -> Option<&Value> {
        let properties = match section {
            Section::Top => "/properties",
            Section::Service => "/$defs/Service/properties",
            Section::Partner => "/$defs/Partner/properties",
            Section::Disputes => "/$defs/Disputes/properties",
        };
        self.schema.pointer(properties)?.get(name)
    }

    fn meaning(&self, section: Section, name: &str) -> String {
        self.field(section, name)
            .and_then(|f| f["description"].as_str())
            .unwrap_or_default()
            .to_string()
    }

    fn correlation(&self, key: &str) -> String {
        self.schema
            .pointer(&format!("/$defs/Correlation/properties/{key}/description"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// What an empty cell means: the table's default, or the schema's for a field with
    /// a shape of its own.
    fn default(&self, input: &Input) -> String {
        let number = |x: f64| Number::from_f64(x).map_or(String::new(), |n| shown(&n));
        match input.absent {
            Absent::Required => "required".into(),
            Absent::Number(x) => number(x),
            Absent::Whole(n) => n.to_string(),
            Absent::List(items) => items
                .iter()
                .map(|x| number(*x))
                .collect::<Vec<_>>()
                .join(", "),
            Absent::Text("") => "(empty)".into(),
            Absent::Text(s) => s.into(),
            Absent::Other => match self.field(input.section, input.name).map(|f| &f["default"]) {
                Some(Value::Bool(b)) => if *b { "TRUE" } else { "FALSE" }.into(),
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => shown(n),
                _ => "none".into(),
            },
        }
    }
}

/// A number as a cell shows it: whole numbers without `.0`.
fn shown(n: &Number) -> String {
    match n.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
        _ => n.to_string(),
    }
}

/// What each field is measured in, for the Unit column and the Partners headers.
fn unit(input: &Input, currency: &str) -> String {
    let per = match input.name {
        "fixed_cost" | "baseline_cost" => " a year",
        "delay_cost" => " a delay year",
        "annual_cost" => " a dispute year",
        _ => " once",
    };
    if input.money {
        return format!("{currency}{per}");
    }
    let unit = match input.name {
        "horizon_years" | "lock_in_years" | "delay_years" => "years",
        "joins_year" => "year (0 = founder)",
        "discount_rate" => "rate a year",
        "trials" => "trials",
        "min_members" => "partners",
        "efficiency" | "efficiency_noise_sd" | "optimism_bias" | "efficiency_loss" => {
            "fraction (0.15 = 15%)"
        }
        "ramp" => "fractions of g by year",
        "transition_profile" => "shares by year",
        "hazard_profile" => "multipliers by year",
        "scale_elasticity" => "elasticity",
        "cost_sharing" => "rule",
        "withdrawal_hazard" | "hazard_uplift" => "probability a year",
        "contagion" => "probability per notice",
        "disappointment_sensitivity" => "per unit of loss",
        "repair_correlations" => "TRUE or FALSE",
        "$schema" => "address",
        _ => match Expect::of(input) {
            Expect::Text => "text",
            Expect::List => "list of numbers",
            _ if input.range() == super::super::inputs::Range::Probability => "probability",
            _ => "number",
        },
    };
    unit.to_string()
}

/// A Scenario or Disputes sheet: one row per field of its sections.
fn field_sheet(
    ws: &mut Worksheet,
    sheet: &str,
    value: &Value,
    currency: &str,
    docs: &Docs,
    style: &Styles,
) -> Result<(), XlsxError> {
    for (col, title) in FIELD_HEADER.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, *title, &style.header)?;
    }
    let widths = [10.0, 26.0, 38.0, 22.0, 80.0, 16.0];
    for (col, width) in widths.iter().enumerate() {
        ws.set_column_width(col as u16, *width)?;
    }
    for (i, input) in field_rows(sheet).enumerate() {
        let row = i as u32 + 1;
        let mut meaning = docs.meaning(input.section, input.name);
        if let Some(extra) = in_a_workbook(input.name) {
            meaning = format!("{meaning} {extra}");
        }
        ws.write_string_with_format(row, 0, section_label(input.section), &style.label)?;
        ws.write_string_with_format(row, 1, input.name, &style.plain)?;
        ws.write_string_with_format(row, 3, unit(input, currency), &style.plain)?;
        ws.write_string_with_format(row, 4, &meaning, &style.wrapped)?;
        ws.write_string_with_format(row, 5, docs.default(input), &style.plain)?;
        let v = value.pointer(&pointer(input.section, input.name));
        let shown = match (input.name, v) {
            ("cost_sharing", Some(Value::Object(_))) => Some(Value::String("fixed".into())),
            _ => v.cloned(),
        };
        let mut height = lines(&meaning, widths[4]);
        if let Some(v) = &shown {
            let chars = cell(ws, row, 2, v, Expect::of(input), input.money, style)?;
            // Long text wraps in its cell rather than run under the next column.
            if let Value::String(text) = v
                && chars > widths[2] as usize
            {
                ws.write_string_with_format(row, 2, text, &style.wrapped)?;
            }
            height = height.max(chars.div_ceil(widths[2] as usize));
        } else {
            ws.write_blank(row, 2, &style.plain)?;
        }
        ws.set_row_height(row, 15.0 * height as f64)?;
        if let Some(rule) = choices(input) {
            ws.add_data_validation(row, 2, row, 2, &rule)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    print_setup(ws);
    Ok(())
}

/// What the schema's meaning of a field says in JSON terms, said in a workbook's.
fn in_a_workbook(name: &str) -> Option<&'static str> {
    match name {
        "discount_rate" => Some(
            "In this workbook: a rate, green_book, green_book_health, or bands such as \
             bands(0: 0.035, 31: 0.03).",
        ),
        "cost_sharing" => Some(
            "In this workbook: proportional, equal, or fixed with each partner's weight in the \
             Partners sheet's cost_sharing_weight column.",
        ),
        _ => None,
    }
}

/// The words a field takes, offered as a drop-down list. The discount rate may also be
/// a number or bands, so its list warns of nothing.
fn choices(input: &Input) -> Option<DataValidation> {
    let (words, strict): (&[&str], bool) = match input.name {
        "cost_sharing" => (&["proportional", "equal", "fixed"], true),
        "discount_rate" => (&["green_book", "green_book_health"], false),
        "repair_correlations" => (&["TRUE", "FALSE"], true),
        _ => return None,
    };
    let rule = DataValidation::new()
        .allow_list_strings(words)
        .ok()?
        .show_error_message(strict);
    Some(rule)
}

/// The Partners sheet: one row per partner, one column per field, the cost-sharing
/// weight last.
fn partners_sheet(
    ws: &mut Worksheet,
    value: &Value,
    currency: &str,
    docs: &Docs,
    style: &Styles,
) -> Result<(), XlsxError> {
    let inputs: Vec<&Input> = PARTNER_KEYS
        .iter()
        .map(|k| super::super::inputs::get(Section::Partner, k))
        .collect();
    let partners = value["partners"].as_array().map_or(&[][..], |p| &p[..]);
    let weights = value.pointer("/service/cost_sharing/fixed");
    let mut widths: Vec<usize> = Vec::new();
    for (col, input) in inputs.iter().enumerate() {
        let header = format!("{}\n({})", input.name, unit(input, currency));
        let note = format!(
            "{}\n\nIf empty: {}.",
            docs.meaning(Section::Partner, input.name),
            docs.default(input)
        );
        header_cell(ws, col as u16, &header, &note, style)?;
        widths.push(header.lines().map(|l| l.chars().count()).max().unwrap_or(0));
    }
    let weight_col = inputs.len() as u16;
    let note = "The partner's weight when cost_sharing is fixed (a share is its weight over the \
                sum of the year's members' weights). Leave empty otherwise.";
    header_cell(ws, weight_col, WEIGHT, note, style)?;
    widths.push(WEIGHT.len());
    for (i, partner) in partners.iter().enumerate() {
        let row = i as u32 + 1;
        for (col, input) in inputs.iter().enumerate() {
            if let Some(v) = partner.get(input.name) {
                let n = cell(
                    ws,
                    row,
                    col as u16,
                    v,
                    Expect::of(input),
                    input.money,
                    style,
                )?;
                widths[col] = widths[col].max(n);
            }
        }
        let name = partner["name"].as_str().unwrap_or_default();
        if let Some(w) = weights.and_then(|w| w.get(name)) {
            let n = cell(ws, row, weight_col, w, Expect::Number, false, style)?;
            widths[weight_col as usize] = widths[weight_col as usize].max(n);
        }
    }
    for (col, width) in widths.iter().enumerate() {
        ws.set_column_width(col as u16, (*width as f64 + 2.0).clamp(10.0, 40.0))?;
    }
    ws.set_row_height(0, 30.0)?;
    ws.set_freeze_panes(1, 1)?;
    print_setup(ws);
    // Fourteen columns on one page would print too small to read: two pages wide, each
    // with the partners' names.
    ws.set_print_fit_to_pages(2, 0);
    ws.set_repeat_columns(0, 0)?;
    Ok(())
}

/// The Correlations sheet: one row per correlated pair.
fn correlations_sheet(
    ws: &mut Worksheet,
    value: &Value,
    docs: &Docs,
    style: &Styles,
) -> Result<(), XlsxError> {
    for (col, key) in CORRELATION_KEYS.iter().enumerate() {
        header_cell(ws, col as u16, key, &docs.correlation(key), style)?;
    }
    let pairs = value["correlations"].as_array().map_or(&[][..], |p| &p[..]);
    for (i, pair) in pairs.iter().enumerate() {
        for (col, key) in CORRELATION_KEYS.iter().enumerate() {
            if let Some(v) = pair.get(*key) {
                let expect = if col == 2 {
                    Expect::Number
                } else {
                    Expect::Text
                };
                cell(ws, i as u32 + 1, col as u16, v, expect, false, style)?;
            }
        }
    }
    ws.set_column_width(0, 44.0)?;
    ws.set_column_width(1, 44.0)?;
    ws.set_column_width(2, 18.0)?;
    let rule = DataValidation::new()
        .allow_decimal_number(DataValidationRule::Between(-1.0, 1.0))
        .set_error_message("A rank correlation lies between -1 and 1.")?;
    ws.add_data_validation(1, 2, 1000, 2, &rule)?;
    ws.set_freeze_panes(1, 0)?;
    print_setup(ws);
    Ok(())
}

fn header_cell(
    ws: &mut Worksheet,
    col: u16,
    title: &str,
    note: &str,
    style: &Styles,
) -> Result<(), XlsxError> {
    ws.write_string_with_format(0, col, title, &style.header)?;
    let note = Note::new(note)
        .add_author_prefix(false)
        .set_width(360)
        .set_height(160);
    ws.insert_note(0, col, &note)?;
    Ok(())
}

/// How to fill the workbook in, for a reader who has not seen the docs. The sheet is
/// not read.
const HELP: &[&str] = &[
    "How to fill in this scenario workbook",
    "Scenario: one row per field of the scenario and of its service. Type in the Value column; \
     an empty cell takes the field's default (the Default column). Unit and What it means \
     explain each field.",
    "Partners: one row per partner, one column per field (rest the pointer on a heading for \
     its meaning). Every partner needs a name; an empty row is skipped.",
    "Disputes: like the Scenario sheet. Leave every value empty for no disputes.",
    "Correlations: one row per pair of uncertain inputs, each named by its JSON pointer \
     (/service/efficiency, /partners/North Council/baseline_cost), with a rank correlation \
     between -1 and 1.",
    "Numbers: a rate is a fraction, 0.15 (or 15% in a percentage cell, which holds 0.15). \
     Money is in one currency unit a year, in real terms.",
    "Uncertain values: one cell of text in one of these forms: fixed(x), uniform(lo, hi), \
     triangular(min, mode, max), pert(min, mode, max), normal(mean, sd), \
     lognormal(mean=m, sd=s), discrete(value: weight, ...). For example \
     pert(0.08, 0.15, 0.22) or discrete(0: 0.6, 1: 0.3, 2: 0.1).",
    "Lists (ramp, transition_profile, hazard_profile): numbers separated by commas, such as \
     0.3, 0.7, 1.",
    "Check the workbook with: consortium-sim validate FILE.xlsx. Each problem names its \
     sheet and cell and its place in the scenario, such as \
     Partners!J3 (/partners/1/exit_fee): -5 is out of range: must be >= 0.",
    "This sheet is not read; sheets of your own notes are ignored too. \
     The format is described in docs/scenario-format.md.",
];

fn readme_sheet(ws: &mut Worksheet, style: &Styles) -> Result<(), XlsxError> {
    ws.set_column_width(0, 110.0)?;
    ws.write_string_with_format(0, 0, HELP[0], &style.header)?;
    for (i, text) in HELP.iter().enumerate().skip(1) {
        let row = i as u32;
        ws.write_string_with_format(row, 0, *text, &style.wrapped)?;
        ws.set_row_height(row, 15.0 * lines(text, 110.0) as f64 + 4.0)?;
    }
    print_setup(ws);
    Ok(())
}

/// Writes a field's value; returns its width in characters, for the column.
fn cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    v: &Value,
    expect: Expect,
    money: bool,
    style: &Styles,
) -> Result<usize, XlsxError> {
    let text = match v {
        Value::Number(n) => match exact(n) {
            Some(x) => {
                let whole = x.fract() == 0.0;
                let format = if money && whole {
                    &style.money
                } else {
                    &style.plain
                };
                ws.write_number_with_format(row, col, x, format)?;
                let shown = shown(n);
                // The thousands separators a money cell shows.
                return Ok(shown.len() + if money { shown.len() / 3 } else { 0 });
            }
            None => n.to_string(),
        },
        Value::Bool(b) => {
            ws.write_boolean_with_format(row, col, *b, &style.plain)?;
            return Ok(5);
        }
        Value::String(s) => s.clone(),
        other => match expect {
            Expect::Dist => text::format_dist(other),
            Expect::List => text::format_list(other),
            Expect::Discount => text::format_bands(other),
            _ => None,
        }
        .unwrap_or_else(|| other.to_string()),
    };
    ws.write_string_with_format(row, col, &text, &style.plain)?;
    Ok(text.chars().count())
}

/// A JSON number as a double, if the double is exactly it: a whole number beyond 2^53
/// (a large seed) would be rounded in a number cell, so it is written as text.
pub(crate) fn exact(n: &Number) -> Option<f64> {
    const EXACT: u64 = 1 << 53;
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) if u > EXACT => None,
        (None, Some(i)) if i.unsigned_abs() > EXACT => None,
        _ => n.as_f64(),
    }
}

/// About how many lines `text` takes in a wrapped column `width` characters wide.
fn lines(text: &str, width: f64) -> usize {
    // A column's width counts digits; prose is narrower, about 1.2 characters a digit.
    let per_line = (width * 1.2) as usize;
    text.split('\n')
        .map(|line| line.chars().count().div_ceil(per_line).max(1))
        .sum::<usize>()
        .max(1)
}

/// Landscape, one page wide, the header row on every page.
fn print_setup(ws: &mut Worksheet) {
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    let _ = ws.set_repeat_rows(0, 0);
}

/// The longest text a cell of the workbook would hold, in characters, and where it comes
/// from (`at`, a JSON pointer, names `v`): a string's pointer, a distribution's, a list's
/// or discount bands' (each one cell of text, however many numbers it holds), or for a
/// key "a name in" its object's. A value wins a tie with a key: a partner's name is its
/// own field's cell, and a fixed weight's key only repeats it.
fn longest_text(v: &Value, at: &str) -> Option<Long> {
    // A correlation matrix is a grid of number cells, not one cell a row.
    let one_cell = if at.starts_with("/correlations") {
        None
    } else {
        text::format_dist(v)
            .or_else(|| text::format_list(v))
            .or_else(|| text::format_bands(v))
    };
    if let Some(cell) = one_cell {
        return Some(Long::value(cell.chars().count(), at));
    }
    match v {
        Value::String(s) => Some(Long::value(s.chars().count(), at)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| longest_text(item, &format!("{at}/{i}")))
            .fold(None, Long::longer),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                let key = Long {
                    chars: k.chars().count(),
                    key: true,
                    at: format!("a name in {}", pointer_or_root(at)),
                };
                Long::longer(Some(key), longest_text(v, &here))
            })
            .fold(None, Long::longer),
        _ => None,
    }
}

/// A text found by [`longest_text`].
struct Long {
    chars: usize,
    /// An object's key rather than a value.
    key: bool,
    /// Where it is, as a message says it.
    at: String,
}

impl Long {
    fn value(chars: usize, at: &str) -> Long {
        Long {
            chars,
            key: false,
            at: pointer_or_root(at).to_string(),
        }
    }

    /// The longer of two, a value before a key of the same length.
    fn longer(a: Option<Long>, b: Option<Long>) -> Option<Long> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if (b.chars, !b.key) > (a.chars, !a.key) {
                b
            } else {
                a
            }),
            (a, b) => a.or(b),
        }
    }
}

/// A JSON pointer as a message shows it: the whole document's, "", as "/".
fn pointer_or_root(at: &str) -> &str {
    if at.is_empty() { "/" } else { at }
}
