//! The results workbook (.xlsx): a run's or an analysis's figures as a workbook a
//! finance officer can restyle and paste from, with native Excel charts.
//!
//! Written with `rust_xlsxwriter`, never by hand. Numbers are stored as numbers, in full
//! precision (a cell holds the very f64 the report holds; only its number format rounds
//! what is shown), and every piece of user text (scenario, partner and input names) is
//! written as a string cell, so a partner named `=HYPERLINK(...)` or `+1` is shown as
//! typed, never evaluated. Each sheet's header rows are frozen and its columns sized to
//! what they hold ([`Sheet`] measures every cell as it is written), so no column shows
//! `####`.
//!
//! The bytes depend only on the result: the workbook's creation time is the result's
//! own generation time (its provenance), not the clock, and the zip entries carry a
//! fixed date. A run's Trials sheet is written in rust_xlsxwriter's constant-memory mode
//! and the workbook is assembled in a temporary file, so a workbook of a million trials
//! costs disk, not memory. Module `run` builds a run's workbook, `analysis` those of the
//! analyses.

mod analysis;
mod run;

use std::io::{self, Seek, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use rust_xlsxwriter::{
    Chart, ChartAxis, ChartLegendPosition, ConditionalFormat3ColorScale, DocProperties, ExcelDateTime, Format as CellFormat, FormatAlign,
    Workbook, Worksheet, XlsxError,
};
use serde_json::{Map, Value};

use super::format::{money, percent};
use super::{Exporter, Format, Kind, Subject};
use crate::summary::Provenance;

/// Excel's workbook: one file with sheets and native charts, for a run or an analysis.
pub const FORMAT: Format = Format::new("xlsx", "an Excel workbook", &["xlsx"], &Xlsx);

struct Xlsx;

impl Exporter for Xlsx {
    fn supports(&self, _: Kind) -> bool {
        true
    }

    fn write(&self, subject: &Subject, w: &mut dyn Write) -> io::Result<()> {
        let mut book = match *subject {
            Subject::Run(r) => run::workbook(&r, w)?,
            Subject::Sweep(s, currency) => analysis::sweep(s, currency)?,
            Subject::Sensitivity(s, currency) => analysis::sensitivity(s, currency)?,
            Subject::Compare(c, currency) => analysis::compare(c, currency)?,
            Subject::Agreement(a, currency) => analysis::agreement(a, currency)?,
        };
        save(&mut book, w)
    }
}

/// Rows a sheet holds below its header row: 1,048,576 in all.
pub const MAX_ROWS: usize = 1_048_575;
/// Columns a sheet holds.
pub const MAX_COLUMNS: usize = 16_384;
/// The longest text a cell holds; longer text is cut, ending in "…".
const MAX_TEXT: usize = 32_767;
/// Widest column, in characters: longer text runs over into empty cells or is cut off
/// at the cell's edge, as in any spreadsheet.
const MAX_WIDTH: f64 = 70.0;

/// A column's default width, in characters.
const DEFAULT_WIDTH: f64 = 8.43;
/// The narrowest run of cells a note wraps in, in characters.
const NOTE_WIDTH: f64 = 60.0;
/// Characters of running text per character of column width: a column's width is
/// counted in digits, and most letters are narrower.
const WIDE_TEXT: f64 = 1.25;
/// A row's default height, in points, and a title row's.
const ROW_HEIGHT: f64 = 15.0;
const TITLE_HEIGHT: f64 = 20.0;

/// The lines `text` takes when wrapped at spaces in a cell `width` characters wide
/// (an estimate: a proportional font's letters differ in width).
fn lines(text: &str, width: f64) -> usize {
    let width = width.max(1.0);
    let mut lines = 1;
    let mut used = 0.0;
    for word in text.split(' ') {
        let len = word.chars().count() as f64;
        if used > 0.0 && used + 1.0 + len > width {
            lines += 1;
            used = len;
        } else {
            used += if used > 0.0 { 1.0 + len } else { len };
        }
        while used > width {
            lines += 1;
            used -= width;
        }
    }
    lines
}

/// Writes `book` to `w`, through a temporary file so that a large workbook never sits in
/// memory whole. Compressing a million-row sheet takes seconds, so it runs on a thread
/// of its own while this one asks `w` every [`POLL`] whether the command has been
/// interrupted (writing nothing to the exporter's writer fails once it has); if so the
/// compression stops at its next write.
fn save(book: &mut Workbook, w: &mut dyn Write) -> io::Result<()> {
    let stop = AtomicBool::new(false);
    let (interrupted, file) = std::thread::scope(|scope| {
        let saving = scope.spawn(|| {
            let mut out = Stoppable {
                file: tempfile::tempfile()?,
                stop: &stop,
                failed: false,
            };
            book.save_to_writer(&mut out).map_err(error)?;
            Ok::<_, io::Error>(out.file)
        });
        let mut interrupted = None;
        while !saving.is_finished() {
            if let Err(e) = w.write(&[]) {
                stop.store(true, Ordering::Relaxed);
                interrupted = Some(e);
                break;
            }
            std::thread::sleep(POLL);
        }
        let saved = saving.join().expect("saving the workbook does not panic");
        (interrupted, saved)
    });
    if let Some(e) = interrupted {
        return Err(e);
    }
    let mut file = file?;
    file.rewind()?;
    io::copy(&mut file, w)?;
    Ok(())
}

/// How often an interruption is looked for while the workbook is compressed.
const POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// The temporary file a workbook is compressed into, which fails its next write once
/// `stop` is set. Later writes (the zip writer finishing the archive as it is dropped)
/// are swallowed: the file is thrown away, and a failure there would be printed.
struct Stoppable<'a> {
    file: std::fs::File,
    stop: &'a AtomicBool,
    failed: bool,
}

impl Write for Stoppable<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.failed {
            return Ok(buf.len());
        }
        if self.stop.load(Ordering::Relaxed) {
            self.failed = true;
            return Err(io::Error::other("interrupted"));
        }
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A writer's error as an I/O error: what the exporter interface reports.
fn error(e: XlsxError) -> io::Error {
    match e {
        XlsxError::IoError(e) => e,
        other => io::Error::other(other),
    }
}

/// A new workbook whose properties (title, creation time) come from the result, so that
/// the same result gives the same bytes.
fn new_book(title: &str, provenance: Option<&Provenance>) -> Workbook {
    let mut book = Workbook::new();
    // A result without provenance (built directly through the library) has no time of
    // its own: a fixed one keeps its bytes reproducible.
    let created = provenance
        .and_then(|p| ExcelDateTime::parse_from_str(&p.generated_at).ok())
        .or_else(|| ExcelDateTime::from_ymd(2000, 1, 1).ok());
    let mut properties = DocProperties::new()
        .set_title(title)
        .set_comment("Written by consortium-sim");
    if let Some(created) = &created {
        properties = properties.set_creation_datetime(created);
    }
    book.set_properties(&properties);
    book
}

/// How a number is shown (it is always stored in full).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    /// Money in whole units with the currency: `-£1,234,567`.
    Money,
    /// A probability as a percentage with one decimal: `13.5%`.
    Percent,
    /// A count with thousands separators.
    Count,
    /// A mean count or a year fraction: three decimals.
    Decimal,
    /// As the value is (Excel's General).
    General,
}

/// One figure of a Summary sheet: a number in its format, or text.
pub enum Figure {
    Money(f64),
    Percent(f64),
    Count(u64),
    Decimal(f64),
    Text(String),
}

/// The cell formats of one workbook (money carries the scenario's currency).
pub struct Styles {
    currency: String,
    money: CellFormat,
    percent: CellFormat,
    count: CellFormat,
    decimal: CellFormat,
    general: CellFormat,
    header: CellFormat,
    title: CellFormat,
    wrap: CellFormat,
    indented: CellFormat,
    plain: CellFormat,
}

impl Styles {
    pub fn new(currency: &str) -> Styles {
        // A literal in a number format goes in double quotes, which it cannot contain.
        let symbol: String = currency.chars().filter(|c| *c != '"').collect();
        let money = if symbol.is_empty() {
            "#,##0;-#,##0".to_string()
        } else {
            format!("\"{symbol}\"#,##0;-\"{symbol}\"#,##0")
        };
        // Top-aligned, so that a label sits level with a value that wraps beside it.
        let top = || CellFormat::new().set_align(FormatAlign::Top);
        Styles {
            currency: currency.to_string(),
            money: top().set_num_format(money),
            percent: top().set_num_format("0.0%"),
            count: top().set_num_format("#,##0"),
            decimal: top().set_num_format("0.000"),
            general: top(),
            plain: top(),
            header: CellFormat::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_background_color("#DCE6F1"),
            title: CellFormat::new().set_bold().set_font_size(14),
            wrap: CellFormat::new().set_text_wrap().set_align(FormatAlign::Top),
            indented: top().set_indent(1),
        }
    }

    fn of(&self, kind: Num) -> &CellFormat {
        match kind {
            Num::Money => &self.money,
            Num::Percent => &self.percent,
            Num::Count => &self.count,
            Num::Decimal => &self.decimal,
            Num::General => &self.general,
        }
    }

    /// The text a number shows in a cell of `kind`, for sizing its column.
    fn shown(&self, x: f64, kind: Num) -> String {
        match kind {
            Num::Money => money(x, &self.currency),
            Num::Percent => percent(x),
            Num::Count => money(x, ""),
            Num::Decimal => format!("{x:.3}"),
            // General shows at most 11 characters of a long fraction.
            Num::General => {
                let text = x.to_string();
                text.chars().take(11).collect()
            }
        }
    }
}

/// A worksheet being written, with the width each column needs.
pub struct Sheet<'s> {
    pub ws: Worksheet,
    styles: &'s Styles,
    widths: Vec<f64>,
    /// Sentences and titles, placed once the columns' widths are known: each wraps
    /// within a merged run of cells rather than spilling past the table.
    notes: Vec<(u32, u16, String, bool)>,
    /// Header rows, whose height must fit their wrapped names: (row, first column,
    /// names).
    headers: Vec<(u32, u16, Vec<String>)>,
    /// Rows holding text wrapped in its cell, and the lines it takes.
    wrapped: std::collections::BTreeMap<u32, usize>,
}

impl<'s> Sheet<'s> {
    pub fn new(name: &str, styles: &'s Styles) -> Result<Sheet<'s>, XlsxError> {
        let mut ws = Worksheet::new();
        ws.set_name(name)?;
        Ok(Sheet {
            ws,
            styles,
            widths: Vec::new(),
            notes: Vec::new(),
            headers: Vec::new(),
            wrapped: Default::default(),
        })
    }

    fn fit(&mut self, col: u16, chars: usize, extra: f64) {
        let col = usize::from(col);
        if self.widths.len() <= col {
            self.widths.resize(col + 1, 0.0);
        }
        let need = (chars as f64 + extra).min(MAX_WIDTH);
        self.widths[col] = self.widths[col].max(need);
    }

    /// Text, as typed (a string cell: never a formula), cut to what a cell holds; text
    /// wider than the widest column wraps within its cell.
    pub fn text(&mut self, row: u32, col: u16, text: &str) -> Result<(), XlsxError> {
        let text = cell_text(text);
        let chars = text.chars().count();
        self.fit(col, chars, 1.5);
        if chars as f64 + 1.5 > MAX_WIDTH {
            let lines = lines(&text, (MAX_WIDTH - 1.5) * WIDE_TEXT);
            let entry = self.wrapped.entry(row).or_insert(1);
            *entry = (*entry).max(lines);
            self.ws
                .write_string_with_format(row, col, text.as_ref(), &self.styles.wrap)?;
        } else {
            self.ws
                .write_string_with_format(row, col, text.as_ref(), &self.styles.plain)?;
        }
        Ok(())
    }

    /// Text indented a little from the cell to its left (a key beside a right-aligned
    /// number).
    pub fn text_indented(&mut self, row: u32, col: u16, text: &str) -> Result<(), XlsxError> {
        let text = cell_text(text);
        self.fit(col, text.chars().count(), 3.0);
        self.ws
            .write_string_with_format(row, col, text.as_ref(), &self.styles.indented)?;
        Ok(())
    }

    /// A sentence, wrapped across the empty cells to its right (which must stay empty):
    /// it does not widen its column.
    pub fn note(&mut self, row: u32, col: u16, text: &str) -> Result<(), XlsxError> {
        self.notes.push((row, col, cell_text(text).into_owned(), false));
        Ok(())
    }

    /// A sheet's title line (its row must otherwise stay empty).
    pub fn title(&mut self, row: u32, text: &str) -> Result<(), XlsxError> {
        self.notes.push((row, 0, cell_text(text).into_owned(), true));
        Ok(())
    }

    /// A number, shown as `kind`; a value that is not finite (a correlation of an input
    /// that never varied) is an empty cell.
    pub fn number(&mut self, row: u32, col: u16, x: f64, kind: Num) -> Result<(), XlsxError> {
        if !x.is_finite() {
            return Ok(());
        }
        let shown = self.styles.shown(x, kind);
        self.fit(col, shown.chars().count(), 2.0);
        self.ws
            .write_number_with_format(row, col, x, self.styles.of(kind))?;
        Ok(())
    }

    /// A row of column headers, bold on a tint (partner names among them as text).
    pub fn header<S: AsRef<str>>(
        &mut self,
        row: u32,
        col: u16,
        names: &[S],
    ) -> Result<(), XlsxError> {
        for (i, name) in names.iter().enumerate() {
            let c = col + i as u16;
            let text = cell_text(name.as_ref());
            // Headers wrap at spaces, so a long one need not widen its column past its
            // longest word or what the column holds below it.
            let longest_word = text.split(' ').map(|w| w.chars().count()).max().unwrap_or(0);
            self.fit(c, longest_word.max(text.chars().count().min(14)), 2.5);
            self.ws
                .write_string_with_format(row, c, text.as_ref(), &self.styles.header)?;
        }
        let names = names.iter().map(|n| n.as_ref().to_string()).collect();
        self.headers.push((row, col, names));
        Ok(())
    }

    /// A value of the scenario as written: a number as a number, text as text, a
    /// distribution in the docs' one-cell form (`pert(0.08, 0.15, 0.22)`), anything
    /// else as compact JSON.
    pub fn value(&mut self, row: u32, col: u16, v: &Value) -> Result<(), XlsxError> {
        match v {
            // A whole number a double cannot hold exactly (a seed above 2^53) as text, as
            // the scenario workbook writes it.
            Value::Number(n) => match crate::scenario::workbook::exact(n) {
                Some(x) => self.number(row, col, x, Num::General),
                None => self.text(row, col, &n.to_string()),
            },
            Value::String(s) => self.text(row, col, s),
            Value::Bool(b) => self.text(row, col, if *b { "true" } else { "false" }),
            Value::Null => self.text(row, col, "null"),
            Value::Object(o) => self.text(row, col, &distribution(o).unwrap_or_else(|| v.to_string())),
            Value::Array(_) => self.text(row, col, &v.to_string()),
        }
    }

    /// A Summary figure: numbers as numbers, so a reader's formulas can use them; a
    /// count a double cannot hold exactly (a seed above 2^53) as text, so that it can be
    /// typed back.
    pub fn figure(&mut self, row: u32, col: u16, figure: &Figure) -> Result<(), XlsxError> {
        match *figure {
            Figure::Money(x) => self.number(row, col, x, Num::Money),
            Figure::Percent(x) => self.number(row, col, x, Num::Percent),
            Figure::Count(x) if x > 1 << 53 => self.text(row, col, &x.to_string()),
            Figure::Count(x) => self.number(row, col, x as f64, Num::General),
            Figure::Decimal(x) => self.number(row, col, x, Num::Decimal),
            Figure::Text(ref t) => self.text(row, col, t),
        }
    }

    /// The worksheet, its columns sized and its first `frozen` rows (and `frozen_cols`
    /// columns) frozen.
    pub fn finish(mut self, frozen: u32, frozen_cols: u16) -> Result<Worksheet, XlsxError> {
        for (col, width) in self.widths.iter().enumerate() {
            if *width > 0.0 {
                self.ws.set_column_width(col as u16, width.max(DEFAULT_WIDTH))?;
            }
        }
        self.place_notes()?;
        for (row, col, names) in std::mem::take(&mut self.headers) {
            let lines = names
                .iter()
                .enumerate()
                .map(|(i, name)| lines(name, self.width(col + i as u16) - 1.0))
                .max()
                .unwrap_or(1);
            if lines > 1 {
                self.ws.set_row_height(row, ROW_HEIGHT * lines as f64)?;
            }
        }
        for (row, lines) in std::mem::take(&mut self.wrapped) {
            if lines > 1 {
                self.ws.set_row_height(row, ROW_HEIGHT * lines as f64)?;
            }
        }
        if frozen > 0 || frozen_cols > 0 {
            self.ws.set_freeze_panes(frozen, frozen_cols)?;
        }
        print_setup(&mut self.ws, frozen)?;
        Ok(self.ws)
    }

    /// A column's width as it will be set.
    fn width(&self, col: u16) -> f64 {
        self.widths
            .get(usize::from(col))
            .copied()
            .unwrap_or(0.0)
            .max(DEFAULT_WIDTH)
    }

    /// Writes the notes and titles, each merged across enough columns to read as a
    /// line of text (at least [`NOTE_WIDTH`] characters, or the table's width up to
    /// [`MAX_WIDTH`] more), wrapped, with its row as tall as its lines.
    fn place_notes(&mut self) -> Result<(), XlsxError> {
        let wrap = self.styles.wrap.clone();
        let title = self.styles.title.clone().set_text_wrap();
        for (row, col, text, is_title) in std::mem::take(&mut self.notes) {
            let mut last = col;
            let mut room = self.width(col);
            while (usize::from(last) + 1 < self.widths.len() && room < NOTE_WIDTH + MAX_WIDTH)
                || room < NOTE_WIDTH
            {
                last += 1;
                room += self.width(last);
            }
            let format = if is_title { &title } else { &wrap };
            let scale = if is_title { 1.4 } else { 1.0 / WIDE_TEXT };
            let lines = lines(&text, room / scale);
            if last > col {
                self.ws.merge_range(row, col, row, last, &text, format)?;
            } else {
                self.ws.write_string_with_format(row, col, &text, format)?;
            }
            let height = if is_title { TITLE_HEIGHT } else { ROW_HEIGHT };
            if lines > 1 || is_title {
                self.ws.set_row_height(row, height * lines as f64)?;
            }
        }
        Ok(())
    }

    /// Colours the cells of a range from red (low) through yellow to green (high), or
    /// the reverse for a figure where high is bad: a heat map.
    pub fn colour_scale(
        &mut self,
        (first_row, first_col): (u32, u16),
        (last_row, last_col): (u32, u16),
        high_is_good: bool,
    ) -> Result<(), XlsxError> {
        let (low, high) = if high_is_good {
            ("#F8696B", "#63BE7B")
        } else {
            ("#63BE7B", "#F8696B")
        };
        let scale = ConditionalFormat3ColorScale::new()
            .set_minimum_color(low)
            .set_midpoint_color("#FFEB84")
            .set_maximum_color(high);
        self.ws
            .add_conditional_format(first_row, first_col, last_row, last_col, &scale)?;
        Ok(())
    }
}

/// Printing (or saving as PDF): landscape, every column on one page's width, the header
/// rows repeated on each page, so that no column is split off onto pages of its own.
fn print_setup(ws: &mut Worksheet, header_rows: u32) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    if header_rows > 0 {
        ws.set_repeat_rows(0, header_rows - 1)?;
    }
    Ok(())
}

/// Text as a cell can hold it: at most [`MAX_TEXT`] characters.
fn cell_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= MAX_TEXT {
        return text.into();
    }
    let mut cut: String = text.chars().take(MAX_TEXT - 1).collect();
    cut.push('…');
    cut.into()
}

/// A distribution object in the docs' one-cell form: `pert(0.08, 0.15, 0.22)`,
/// `lognormal(mean=400000, sd=80000)`, `discrete(0:0.5, 1:0.3, 2:0.2)`; `None` if `o` is
/// not one.
pub fn distribution(o: &Map<String, Value>) -> Option<String> {
    if o.len() != 1 {
        return None;
    }
    let (kind, params) = o.iter().next()?;
    let inner = match (kind.as_str(), params) {
        ("fixed", v @ Value::Number(_)) => format!("{v}"),
        ("uniform" | "triangular" | "pert" | "normal", Value::Array(a)) => a
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        ("lognormal", Value::Object(p)) => p
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        ("discrete", Value::Array(pairs)) => pairs
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([value, weight]) => Some(format!("{value}:{weight}")),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?
            .join(", "),
        _ => return None,
    };
    Some(format!("{kind}({inner})"))
}

/// Writes the provenance block (engine, time, each scenario's file, hash, overrides)
/// from `row` as label and value pairs in the first two columns; returns the next row.
fn provenance(sheet: &mut Sheet, mut row: u32, p: Option<&Provenance>) -> Result<u32, XlsxError> {
    let Some(p) = p else {
        return Ok(row);
    };
    sheet.ws.write_string_with_format(row, 0, "Provenance", &sheet.styles.header)?;
    row += 1;
    if p.illustrative() {
        sheet.note(
            row,
            0,
            "Figures are illustrative: the scenario is one of the examples shipped with consortium-sim.",
        )?;
        row += 1;
    }
    let mut pair = |sheet: &mut Sheet, label: &str, value: &str| -> Result<(), XlsxError> {
        sheet.text(row, 0, label)?;
        sheet.note(row, 1, value)?;
        row += 1;
        Ok(())
    };
    pair(sheet, "Engine version", &p.engine_version)?;
    pair(sheet, "Generated at (UTC)", &p.generated_at)?;
    for run in &p.scenarios {
        let o = &run.origin;
        if let Some(file) = &o.file {
            pair(sheet, "Scenario file", file)?;
        }
        if let Some(hash) = &o.sha256 {
            pair(sheet, "SHA-256", hash)?;
        }
        if let Some(note) = &o.note {
            pair(sheet, "Scenario", note)?;
        }
        pair(sheet, "Shipped example", if o.shipped_example { "yes" } else { "no" })?;
        let overrides = if o.overrides.is_empty() {
            "none".to_string()
        } else {
            o.overrides
                .iter()
                .map(|x| format!("--set {x}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        pair(sheet, "Overrides", &overrides)?;
    }
    Ok(row)
}

/// A horizontal bar chart's categories read top down, first at the top, with their
/// names at the left edge (clear of bars that go below zero) and the value axis at the
/// bottom.
pub(super) fn bar_categories(chart: &mut rust_xlsxwriter::Chart) {
    chart
        .y_axis()
        .set_reverse()
        .set_label_position(rust_xlsxwriter::ChartAxisLabelPosition::Low)
        .set_crossing(rust_xlsxwriter::ChartAxisCrossing::Max);
}

/// The currency for an axis title: "£", or "currency units" when there is none.
pub(super) fn currency_label(styles: &Styles) -> String {
    if styles.currency.trim().is_empty() {
        "currency units".into()
    } else {
        styles.currency.trim().to_string()
    }
}

/// An axis' number format for money up to `largest` in size: short, with the currency,
/// in thousands (`£250k`) or, from ten million, millions (`-£12.5m`).
pub(super) fn money_axis(styles: &Styles, largest: f64) -> String {
    let symbol: String = styles.currency.chars().filter(|c| *c != '"').collect();
    let (digits, unit) = if largest >= 1e7 {
        ("#,##0.0,,", "m")
    } else {
        ("#,##0,", "k")
    };
    format!("\"{symbol}\"{digits}\"{unit}\";-\"{symbol}\"{digits}\"{unit}\"")
}

/// Makes `axis` a share, 0 % to 100 %, named `name` (P(loss), a cumulative share).
pub(super) fn share_axis(axis: &mut ChartAxis, name: &str) {
    axis.set_name(name)
        .set_num_format("0%")
        .set_min(0.0)
        .set_max(1.0);
}

/// Puts `chart` on the sheet at (`row`, `col`), its legend below: every wide chart of a
/// workbook has the same size, so that the sheets print alike.
pub(super) fn place_chart(ws: &mut Worksheet, row: u32, col: u16, chart: &mut Chart) -> Result<(), XlsxError> {
    chart.legend().set_position(ChartLegendPosition::Bottom);
    chart.set_width(760).set_height(420);
    ws.insert_chart(row, col, chart)?;
    Ok(())
}

/// The largest magnitude among `values`, for [`money_axis`].
pub(super) fn largest(values: impl IntoIterator<Item = f64>) -> f64 {
    values
        .into_iter()
        .filter(|x| x.is_finite())
        .fold(0.0, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dist(v: Value) -> Option<String> {
        distribution(v.as_object().unwrap())
    }

    #[test]
    fn distributions_are_written_in_one_cell() {
        assert_eq!(dist(json!({"pert": [0.08, 0.15, 0.22]})).unwrap(), "pert(0.08, 0.15, 0.22)");
        assert_eq!(
            dist(json!({"lognormal": {"mean": 400000, "sd": 80000}})).unwrap(),
            "lognormal(mean=400000, sd=80000)"
        );
        assert_eq!(
            dist(json!({"discrete": [[0, 0.5], [1, 0.3], [2, 0.2]]})).unwrap(),
            "discrete(0:0.5, 1:0.3, 2:0.2)"
        );
        assert_eq!(dist(json!({"fixed": 3})).unwrap(), "fixed(3)");
        assert_eq!(dist(json!({"a": 1, "b": 2})), None);
    }

    #[test]
    fn long_text_is_cut_to_what_a_cell_holds() {
        let long = "x".repeat(MAX_TEXT + 10);
        let cut = cell_text(&long);
        assert_eq!(cut.chars().count(), MAX_TEXT);
        assert!(cut.ends_with('…'));
        assert_eq!(cell_text("short"), "short");
    }

    #[test]
    fn money_formats_carry_the_currency_as_a_literal() {
        let s = Styles::new("£");
        assert_eq!(s.shown(-1234567.4, Num::Money), "-£1,234,567");
        assert_eq!(s.shown(0.135, Num::Percent), "13.5%");
        assert_eq!(s.shown(1.0 / 3.0, Num::General), "0.333333333");
    }
}
