//! The cash-flow CSV (`--cashflow-csv`): each partner's cash by year, one row per partner
//! and year, for a finance team to paste into its medium-term financial plan.
//!
//! Like the sweep table it is written for Excel as much as for scripts: CRLF line ends,
//! RFC 4180 quoting (through the `csv` crate), plain numbers in Rust's shortest
//! round-trip form. The partner's name is the only text cell, and it is made safe to
//! open in a spreadsheet: a name beginning with `=`, `+`, `-`, `@`, a tab or a carriage
//! return is written after an apostrophe, so Excel or LibreOffice shows it as text
//! instead of running it as a formula; so is one that begins with an apostrophe, so
//! that no two partners' names meet.

use std::io::{self, Write};

use csv::{Terminator, WriterBuilder};

use super::csv::text_cell;
use super::format::plain;
use super::{Exporter, Format, Kind, Subject};
use crate::summary::{Report, Spread};

/// The cash-flow CSV of a run.
pub const FORMAT: Format = Format::new("cashflow", "CSV", &["csv"], &Cashflow);

struct Cashflow;

impl Exporter for Cashflow {
    fn supports(&self, kind: Kind) -> bool {
        kind == Kind::Run
    }

    fn write(&self, subject: &Subject, w: &mut dyn Write) -> io::Result<()> {
        match subject {
            Subject::Run(r) => write_cashflow(w, r.report),
            _ => Err(io::Error::other("cashflow has no rendering of this result")),
        }
    }
}

/// The figures of each year, in column order: each is followed by `_mean`, `_p05`,
/// `_p25`, `_p50`, `_p75`, `_p95` in the header.
pub const FIGURES: [&str; 4] = [
    "cash",
    "cumulative_cash",
    "discounted",
    "cumulative_discounted",
];

/// The statistics of each figure, in column order.
pub const STATISTICS: [&str; 6] = ["mean", "p05", "p25", "p50", "p75", "p95"];

/// Writes the table: a header (`partner`, `year`, then `cash_mean` ...
/// `cumulative_discounted_p95`), then a row per partner and year, partners in the
/// scenario's order, years from 0.
pub fn write_cashflow(w: &mut (impl Write + ?Sized), r: &Report) -> io::Result<()> {
    let mut out = WriterBuilder::new()
        .terminator(Terminator::CRLF)
        .from_writer(w);
    let mut header = vec!["partner".to_string(), "year".to_string()];
    for figure in FIGURES {
        header.extend(STATISTICS.iter().map(|st| format!("{figure}_{st}")));
    }
    out.write_record(&header)?;
    for p in &r.partners {
        let name = text_cell(&p.name).into_owned();
        for y in &p.by_year {
            let mut row = vec![name.clone(), y.year.to_string()];
            for spread in [&y.cash, &y.cumulative_cash, &y.discounted, &y.cumulative_discounted] {
                row.extend(statistics(spread).map(plain));
            }
            out.write_record(&row)?;
        }
    }
    out.flush()
}

fn statistics(s: &Spread) -> [f64; 6] {
    [s.mean, s.p05, s.p25, s.p50, s.p75, s.p95]
}
