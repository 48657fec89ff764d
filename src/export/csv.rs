//! CSV: a run's trial table (one row per trial), a sweep's table (one row per point) and
//! an agreement analysis's table (one row per set of terms, in rank order).
//!
//! Both go through the `csv` crate's writer, which does the quoting: a field is quoted
//! only when it holds a comma, a double quote or a line break, with quotes doubled (RFC
//! 4180). Numbers are formatted here, in Rust's shortest round-trip form (`{}` of the
//! stored value), so parsing a field gives back exactly that value; they never use an
//! exponent. Single-precision figures are widened to f64 first and written in f64's
//! shortest form, so a reader that parses as f64 (pandas, Python, Excel) gets exactly the
//! stored value the report was computed from, not the nearest f64 to f32's short form.
//!
//! The trial table is for pandas and scripts: lines end in `\n` (which Excel, pandas and
//! Python's `csv` module all read), and it is streamed from the outcome columns row by
//! row, so writing it needs no memory beyond the writer's buffer, however many trials
//! there are. It keeps every trial, so that a user can draw their own charts, filter the
//! trials in which a given partner left, or check a figure by hand. The sweep table is
//! for Excel as much as for scripts: CRLF line ends, no currency symbols or thousands
//! separators, and per-partner columns named after the partners so that a reader does
//! not need a key.
//!
//! Both are opened in spreadsheets, which run a cell that starts like a formula: a
//! partner named `=HYPERLINK(...)` would be a link in someone's Excel. So a text field
//! (a partner's name in a header, a swept value that is text) that starts with `=`, `+`,
//! `-`, `@`, a tab or a carriage return gets a single quote in front ([`neutral`], the
//! OWASP rule for CSV injection); numbers are never touched, so `-1250.5` stays a
//! number. A partner named like one of the trial table's own columns gets a column
//! name of its own ([`partner_column`]), so that no header appears twice.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use csv::{Terminator, WriterBuilder};
use serde_json::Value;

use super::format::plain;
use super::{Exporter, Format, Kind, Subject};
use crate::analysis::agreement::Agreement;
use crate::analysis::crn::value_text;
use crate::analysis::sweep::Sweep;
use crate::engine::outcomes::NO_YEAR_U8;
use crate::engine::{Column, Outcomes};
use crate::scenario::Scenario;

/// CSV: the trial table of a run, the points of a sweep, the sets of an agreement.
pub const FORMAT: Format = Format::new("csv", "CSV", &["csv"], &Csv);

struct Csv;

impl Exporter for Csv {
    fn supports(&self, kind: Kind) -> bool {
        matches!(kind, Kind::Run | Kind::Sweep | Kind::Agreement)
    }

    fn write(&self, subject: &Subject, w: &mut dyn Write) -> io::Result<()> {
        match subject {
            Subject::Run(r) => write_trials(w, r.scenario, r.outcomes),
            Subject::Sweep(s, _) => write_sweep(w, s),
            Subject::Agreement(a, _) => write_agreement(w, a),
            _ => Err(io::Error::other("csv has no rendering of this result")),
        }
    }
}

/// Columns before the partners' NPVs.
pub const LEADING_COLUMNS: &[&str] = &["trial", "npv"];
/// Columns after the partners' NPVs.
pub const TRAILING_COLUMNS: &[&str] = &[
    "payback_year",
    "withdrawals",
    "rejoins",
    "disputes",
    "dispute_years",
    "collapse_year",
];

/// The last column, in the runs of a scenario whose go-live may slip only (so that other
/// tables keep exactly their columns): the trial's go-live delay d in years.
pub const DELAY_COLUMN: &str = "delay_years";

/// The trial table's header: the fixed columns around one column per partner, each
/// named by [`partner_column`]; `delay` adds [`DELAY_COLUMN`]. As written here, before
/// [`neutral`]: the workbook shows these names as typed.
pub fn trial_columns<'a>(partners: impl IntoIterator<Item = &'a str>, delay: bool) -> Vec<String> {
    LEADING_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(partners.into_iter().map(|p| partner_column(p).into_owned()))
        .chain(TRAILING_COLUMNS.iter().map(|c| c.to_string()))
        .chain(delay.then(|| DELAY_COLUMN.to_string()))
        .collect()
}

/// The trial table's column for a partner's NPV: its name, unless the name is one of
/// the fixed columns (`npv`, `trial`, ..., `delay_years`, whether or not the table has
/// it), starts with `npv[`, or starts with a single quote; then `npv[NAME]`. So a
/// partner named `npv` has the column `npv[npv]`, no two partners share a column (names
/// are unique, and only names starting with `npv[` map to such columns), and no partner
/// takes a fixed column. The quote rule keeps headers distinct after [`neutral`]: `=A`
/// is written `'=A`, and a partner named `'=A` gets `npv['=A]`.
pub fn partner_column(name: &str) -> Cow<'_, str> {
    let fixed = LEADING_COLUMNS
        .iter()
        .chain(TRAILING_COLUMNS)
        .chain([&DELAY_COLUMN])
        .any(|c| *c == name);
    if fixed || name.starts_with("npv[") || name.starts_with('\'') {
        Cow::Owned(format!("npv[{name}]"))
    } else {
        Cow::Borrowed(name)
    }
}

/// A text field as a spreadsheet should show it: with a single quote in front if it
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return, which Excel and others
/// would read as the start of a formula (OWASP's rule against CSV injection). For text
/// fields only: a number is written as it is.
pub fn neutral(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A text value's cell (a partner's name, a swept value): [`neutral`], and after an
/// apostrophe also if it starts with one, so that `=A` and `'=A` stay two cells (`'=A`
/// and `''=A`) rather than one. (Headers need no such rule: [`partner_column`] keeps
/// them apart.)
pub fn text_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with('\'') {
        Cow::Owned(format!("'{text}"))
    } else {
        neutral(text)
    }
}

/// The csv crate's buffer for the trial table: large, since it is written in one go.
const TRIALS_BUFFER: usize = 1 << 16;

/// Writes the trial table of `outcomes` to `w`: a header, then one row per trial in
/// trial order.
///
/// Columns: `trial` (the trial's index in the whole run, so a shard's or a trace's
/// numbering), `npv` (consortium NPV), one column per partner named after it (its NPV),
/// `payback_year` (first year, counted from 0, of non-negative cumulative discounted
/// saving; empty if never), `withdrawals`, `rejoins`, `disputes` (disputes started),
/// `dispute_years`, `collapse_year` (the year a collapse takes effect; empty if none),
/// and, when the scenario's go-live may slip, `delay_years` (d). Partner columns are
/// named by [`partner_column`] and headers made safe for spreadsheets by [`neutral`].
/// Partner NPVs stored in single precision (very large runs) are written widened
/// to f64 (`550954.9375` rather than f32's shortest `550954.94`): a float64 reader then
/// parses the stored value exactly, at the cost of a digit or two per field.
///
/// # Panics
/// If `outcomes` is not of `scenario` (a different number of partners).
pub fn write_trials(
    w: &mut (impl Write + ?Sized),
    scenario: &Scenario,
    outcomes: &Outcomes,
) -> io::Result<()> {
    assert_eq!(
        scenario.partners.len(),
        outcomes.partners,
        "outcomes of another scenario"
    );
    let mut out = WriterBuilder::new()
        .terminator(Terminator::Any(b'\n'))
        .buffer_capacity(TRIALS_BUFFER)
        .from_writer(w);
    let partners = scenario.partners.iter().map(|p| p.name.as_str());
    let header = trial_columns(partners, !outcomes.delay_years.is_empty());
    out.write_record(header.iter().map(|c| neutral(c).into_owned()))?;
    let mut field = Field::default();
    let n = outcomes.trials;
    for k in 0..n {
        let e = &outcomes.events[k];
        field.put(&mut out, outcomes.first_trial + k as u64)?;
        field.put(&mut out, outcomes.npv[k])?;
        match &outcomes.partner_npv {
            Column::F64(v) => (0..outcomes.partners).try_for_each(|i| field.put(&mut out, v[i * n + k]))?,
            Column::F32(v) => (0..outcomes.partners).try_for_each(|i| field.put(&mut out, f64::from(v[i * n + k])))?,
        }
        field.year(&mut out, e.payback_year)?;
        field.put(&mut out, e.withdrawals)?;
        field.put(&mut out, e.rejoins)?;
        field.put(&mut out, e.disputes)?;
        field.put(&mut out, e.dispute_years)?;
        field.year(&mut out, e.collapse_year)?;
        if let Some(d) = outcomes.delay_years.get(k) {
            field.put(&mut out, d)?;
        }
        out.write_record(None::<&[u8]>)?;
    }
    out.flush()
}

/// A reused buffer that formats one field at a time for the csv writer.
#[derive(Default)]
struct Field(String);

impl Field {
    /// Writes `value` as `{}` formats it.
    fn put<W: Write>(&mut self, out: &mut csv::Writer<W>, value: impl std::fmt::Display) -> io::Result<()> {
        self.0.clear();
        let _ = write!(self.0, "{value}");
        out.write_field(&self.0)?;
        Ok(())
    }

    /// Writes a year, or an empty field for "never".
    fn year<W: Write>(&mut self, out: &mut csv::Writer<W>, year: u8) -> io::Result<()> {
        if year == NO_YEAR_U8 {
            out.write_field("")?;
            Ok(())
        } else {
            self.put(out, year)
        }
    }
}

/// The sweep as CSV text: the parameters' values (columns headed by their pointers), the
/// consortium figures, then each partner's mean NPV and P(worse off).
pub fn sweep(s: &Sweep) -> String {
    let mut bytes = Vec::new();
    write_sweep(&mut bytes, s).expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

/// Writes the sweep's table to `w` (see [`sweep`]).
pub fn write_sweep(w: &mut (impl Write + ?Sized), s: &Sweep) -> io::Result<()> {
    let mut out = WriterBuilder::new()
        .terminator(Terminator::CRLF)
        .from_writer(w);
    let partners: Vec<String> = s
        .points
        .first()
        .map(|p| p.figures.partners.iter().map(|q| q.name.clone()).collect())
        .unwrap_or_default();
    let mut header: Vec<String> = s.parameters.iter().map(|p| p.pointer.clone()).collect();
    header.extend(
        [
            "mean_npv",
            "se_npv",
            "prob_loss",
            "prob_loss_ci95_lo",
            "prob_loss_ci95_hi",
            "prob_collapse",
            "npv_p10",
            "npv_p50",
            "npv_p90",
        ]
        .map(String::from),
    );
    // These start with a letter, so no partner name can make them look like a formula.
    for name in &partners {
        header.push(format!("mean_npv[{name}]"));
        header.push(format!("prob_worse_off[{name}]"));
    }
    out.write_record(&header)?;
    for (k, point) in s.points.iter().enumerate() {
        let f = &point.figures;
        let mut row: Vec<String> = (0..s.parameters.len())
            .map(|p| swept_value(s.value(k, p)))
            .collect();
        row.extend(
            [
                f.npv.mean,
                f.npv.se,
                f.prob_npv_negative.estimate,
                f.prob_npv_negative.ci95[0],
                f.prob_npv_negative.ci95[1],
                f.prob_collapse,
                f.npv.p10,
                f.npv.p50,
                f.npv.p90,
            ]
            .map(plain),
        );
        for p in &f.partners {
            row.push(plain(p.mean_npv));
            row.push(plain(p.prob_worse_off));
        }
        out.write_record(&row)?;
    }
    out.flush()
}

/// A swept value as a field: text made safe by [`neutral`]; a number, a distribution
/// or a list as its JSON (which starts with a digit, a sign of a number, `{` or `[`).
fn swept_value(v: &Value) -> String {
    match v {
        Value::String(text) => text_cell(text).into_owned(),
        other => value_text(other),
    }
}

/// Writes the agreement's sets in rank order: rank, set, each term's value (columns
/// headed by their pointers), whether the set meets the limits and is on the frontier,
/// the consortium's figures, the worst partner, then each partner's mean NPV and P(worse
/// off) (columns named after the partners).
pub fn write_agreement(w: &mut (impl Write + ?Sized), a: &Agreement) -> io::Result<()> {
    let mut out = WriterBuilder::new()
        .terminator(Terminator::CRLF)
        .from_writer(w);
    let partners: Vec<String> = a
        .sets
        .first()
        .map(|s| s.figures.partners.iter().map(|q| q.name.clone()).collect())
        .unwrap_or_default();
    let mut header: Vec<String> = vec!["rank".into(), "set".into()];
    // Pointers start with `/` and these names with a letter: no cell looks like a formula.
    header.extend(a.terms.iter().map(|t| t.pointer.clone()));
    header.extend(
        [
            "meets_limits",
            "frontier",
            "mean_npv",
            "se_npv",
            "prob_loss",
            "prob_collapse",
            "worst_partner",
            "worst_prob_worse_off",
        ]
        .map(String::from),
    );
    for name in &partners {
        header.push(format!("mean_npv[{name}]"));
        header.push(format!("prob_worse_off[{name}]"));
    }
    out.write_record(&header)?;
    for s in &a.sets {
        let f = &s.figures;
        let mut row: Vec<String> = vec![s.rank.to_string(), s.set.to_string()];
        row.extend(a.terms.iter().map(|t| swept_value(&s.at[&t.pointer])));
        row.extend([s.meets_limits.to_string(), s.frontier.to_string()]);
        row.extend(
            [
                f.npv.mean,
                f.npv.se,
                f.prob_npv_negative.estimate,
                f.prob_collapse,
            ]
            .map(plain),
        );
        row.push(text_cell(&s.worst_partner).into_owned());
        row.push(plain(s.worst_prob_worse_off));
        for p in &f.partners {
            row.push(plain(p.mean_npv));
            row.push(plain(p.prob_worse_off));
        }
        out.write_record(&row)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One record through the writers' settings.
    fn record(fields: &[&str], terminator: Terminator) -> String {
        let mut bytes = Vec::new();
        let mut out = WriterBuilder::new()
            .terminator(terminator)
            .from_writer(&mut bytes);
        out.write_record(fields).unwrap();
        drop(out);
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn fields_with_commas_quotes_or_line_breaks_are_quoted_and_quotes_doubled() {
        let lf = |f: &str| record(&[f, "x"], Terminator::Any(b'\n'));
        assert_eq!(lf("Otterby District Council"), "Otterby District Council,x\n");
        assert_eq!(lf("Smith, \"Jones\""), "\"Smith, \"\"Jones\"\"\",x\n");
        assert_eq!(lf("a\nb"), "\"a\nb\",x\n");
        assert_eq!(lf("a\rb"), "\"a\rb\",x\n");
        assert_eq!(lf(""), ",x\n");
        let crlf = |f: &str| record(&[f, "x"], Terminator::CRLF);
        assert_eq!(crlf("plain"), "plain,x\r\n");
        assert_eq!(
            crlf(r#"{"uniform":[0.1,0.2]}"#),
            "\"{\"\"uniform\"\":[0.1,0.2]}\",x\r\n"
        );
    }

    #[test]
    fn text_that_starts_like_a_formula_gets_a_quote_and_other_text_does_not() {
        for risky in ["=HYPERLINK(\"x\")", "+1", "-2 Council", "@SUM(A1)", "\tTab", "\rCR"] {
            assert_eq!(neutral(risky), format!("'{risky}"));
        }
        for safe in ["Otterby District Council", "1+1", "a=b", "", "'quoted", " =x"] {
            assert_eq!(neutral(safe), safe);
        }
    }

    #[test]
    fn a_text_value_is_kept_as_text_and_one_that_starts_with_a_quote_is_not_met() {
        assert_eq!(text_cell("Otterby District Council"), "Otterby District Council");
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text_cell("+1"), "'+1");
        assert_eq!(text_cell("-2"), "'-2");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text_cell("\tx"), "'\tx");
        assert_eq!(text_cell(""), "");
        // `=A` and `'=A` stay two cells.
        assert_eq!(text_cell("=A"), "'=A");
        assert_eq!(text_cell("'=A"), "''=A");
        assert_eq!(text_cell("'plain"), "''plain");
    }

    #[test]
    fn a_partner_named_like_a_fixed_column_gets_a_column_of_its_own() {
        assert_eq!(partner_column("Otterby"), "Otterby");
        assert_eq!(partner_column("npv"), "npv[npv]");
        assert_eq!(partner_column("trial"), "npv[trial]");
        assert_eq!(partner_column("delay_years"), "npv[delay_years]");
        assert_eq!(partner_column("npv[npv]"), "npv[npv[npv]]");
        assert_eq!(partner_column("NPV"), "NPV");
        let columns = trial_columns(["npv", "npv[npv]", "trial", "x"], true);
        let mut unique = columns.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), columns.len(), "{columns:?}");
        // Distinct after the spreadsheet quote too: `=A` is written `'=A`.
        let written: Vec<String> = trial_columns(["=A", "'=A"], false)
            .iter()
            .map(|c| neutral(c).into_owned())
            .collect();
        assert!(written.contains(&"'=A".to_string()), "{written:?}");
        assert!(written.contains(&"npv['=A]".to_string()), "{written:?}");
    }

    #[test]
    fn swept_text_is_neutralised_and_numbers_are_not() {
        assert_eq!(swept_value(&Value::from("=1+1")), "'=1+1");
        assert_eq!(swept_value(&Value::from("equal")), "equal");
        assert_eq!(swept_value(&Value::from(-0.5)), "-0.5");
        assert_eq!(swept_value(&serde_json::json!({"pert": [-1, 0, 1]})), "{\"pert\":[-1,0,1]}");
    }
}
