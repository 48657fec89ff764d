//! The trial table: one CSV row per trial, for analysis in a spreadsheet or pandas.
//!
//! The report summarises; this table keeps every trial, so that a user can draw their own
//! charts, filter the trials in which a given partner left, or check a figure by hand.
//! It is streamed from the outcome columns row by row, so writing it needs no memory
//! beyond the writer's buffer, however many trials there are.
//!
//! The format follows RFC 4180 except that lines end in `\n` (which Excel, pandas and
//! Python's `csv` module all read): a header row, fields separated by commas, a field
//! quoted only when it holds a comma, a double quote or a line break, with quotes
//! doubled. Numbers are written in Rust's shortest round-trip form (`{}` of `f64`), so
//! parsing a field gives back exactly the stored value; they never use an exponent.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::engine::outcomes::NO_YEAR_U8;
use crate::engine::{Column, Outcomes};
use crate::scenario::Scenario;

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

/// Writes the trial table of `outcomes` to `w`: a header, then one row per trial in
/// trial order.
///
/// Columns: `trial` (the trial's index in the whole run, so a shard's or a trace's
/// numbering), `npv` (consortium NPV), one column per partner named after it (its NPV),
/// `payback_year` (first year, counted from 0, of non-negative cumulative discounted
/// saving; empty if never), `withdrawals`, `rejoins`, `disputes` (disputes started),
/// `dispute_years`, and `collapse_year` (the year a collapse takes effect; empty if
/// none). Partner NPVs stored in single precision (very large runs) are written at that
/// precision.
///
/// # Panics
/// If `outcomes` is not of `scenario` (a different number of partners).
pub fn write_trials(
    w: &mut impl Write,
    scenario: &Scenario,
    outcomes: &Outcomes,
) -> io::Result<()> {
    assert_eq!(
        scenario.partners.len(),
        outcomes.partners,
        "outcomes of another scenario"
    );
    let partners = scenario.partners.iter().map(|p| p.name.as_str());
    let header: Vec<Cow<str>> = LEADING_COLUMNS
        .iter()
        .copied()
        .chain(partners)
        .chain(TRAILING_COLUMNS.iter().copied())
        .map(escape)
        .collect();
    writeln!(w, "{}", header.join(","))?;
    let n = outcomes.trials;
    for k in 0..n {
        write!(w, "{},{}", outcomes.first_trial + k as u64, outcomes.npv[k])?;
        match &outcomes.partner_npv {
            Column::F64(v) => {
                for i in 0..outcomes.partners {
                    write!(w, ",{}", v[i * n + k])?;
                }
            }
            Column::F32(v) => {
                for i in 0..outcomes.partners {
                    write!(w, ",{}", v[i * n + k])?;
                }
            }
        }
        let e = &outcomes.events[k];
        w.write_all(b",")?;
        write_year(w, e.payback_year)?;
        write!(
            w,
            ",{},{},{},{},",
            e.withdrawals, e.rejoins, e.disputes, e.dispute_years
        )?;
        write_year(w, e.collapse_year)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// A year, or nothing for "never".
fn write_year(w: &mut impl Write, year: u8) -> io::Result<()> {
    if year == NO_YEAR_U8 {
        Ok(())
    } else {
        write!(w, "{year}")
    }
}

/// A field as RFC 4180 wants it: quoted, with quotes doubled, if it holds a comma, a
/// double quote or a line break; as it is otherwise.
pub fn escape(field: &str) -> Cow<'_, str> {
    if field.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(field)
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn fields_with_commas_quotes_or_line_breaks_are_quoted_and_quotes_doubled() {
        assert_eq!(
            escape("Otterby District Council"),
            "Otterby District Council"
        );
        assert_eq!(escape("Smith, \"Jones\""), "\"Smith, \"\"Jones\"\"\"");
        assert_eq!(escape("a\nb"), "\"a\nb\"");
        assert_eq!(escape("a\rb"), "\"a\rb\"");
        assert_eq!(escape("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
