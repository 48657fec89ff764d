//! Numbers and money as the reports print them: one set of functions for every renderer.
//!
//! The terminal summary, the pages, the charts, the trace and the analysis tables all
//! format through here, so a figure reads the same wherever it appears. Every function is
//! pinned byte for byte by the golden files: change one and every output changes.

use std::borrow::Cow;

use crate::lhs::Sampling;
use crate::scenario::DiscountRate;
use crate::summary::{Provenance, SamplingInfo};

/// Text for a terminal: every [`hidden`](crate::scenario::hidden) character but the line
/// feed and the tab written as its escape (`\u{1b}`), the rest as it is. The command line
/// passes what it prints through this (its messages, tables and usage errors), since a
/// message's file names and quoted input are the user's text. Names in a scenario cannot
/// hold control characters (validation refuses them), so a table's lines stay whole.
pub fn printable(text: &str) -> Cow<'_, str> {
    let escape = |c: char| c != '\n' && c != '\t' && crate::scenario::hidden(c);
    if !text.chars().any(escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Money rounded to the unit with thousands separators: `-£1,234,567`.
pub fn money(x: f64, currency: &str) -> String {
    let digits = grouped(x.round(), 0);
    match digits.strip_prefix('-') {
        Some(abs) => format!("-{currency}{abs}"),
        None => format!("{currency}{digits}"),
    }
}

/// Money with separators, keeping pence if the amount has them: `£1,234.50`.
pub fn exact_money(x: f64, currency: &str) -> String {
    if x.fract() == 0.0 {
        return money(x, currency);
    }
    let pennies = format!("{:.2}", x.abs().fract());
    let whole = money(x.trunc(), currency);
    let sign = if x < 0.0 && !whole.starts_with('-') {
        "-"
    } else {
        ""
    };
    format!("{sign}{whole}{}", pennies.trim_start_matches('0'))
}

/// An integer with thousands separators, exact (through its digits, not a float, which
/// would misquote counts above 2^53).
pub fn thousands(n: u64) -> String {
    separated(&n.to_string())
}

/// Digits with a comma before each group of three from the right.
fn separated(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "standard error £18,374", or, for a single trial (whose spread cannot be estimated:
/// its standard error is recorded as 0), that there is none.
pub fn standard_error(se: f64, trials: u64, currency: &str) -> String {
    if trials < 2 {
        "no standard error from a single trial".to_owned()
    } else {
        format!("standard error {}", money(se, currency))
    }
}

/// A count of things with thousands separators and the noun's right number: "1 trial",
/// "20,000 trials" (a plural by adding "s", which is all the report's nouns need).
pub fn count(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// A probability as a percentage with one decimal.
pub fn percent(p: f64) -> String {
    format!("{:.1}%", 100.0 * p)
}

/// A probability as a percentage with two decimals, and with two significant digits
/// below 0.1 % (0.0040 %), so that a precision target or an interval's width on a rare
/// loss never reads "0.00%".
pub fn fine_percent(p: f64) -> String {
    let v = 100.0 * p;
    let decimals = if v > 0.0 && v < 0.1 {
        (1.0 - v.log10().floor()).min(12.0) as usize
    } else {
        2
    };
    format!("{v:.decimals$}%")
}

/// A probability as a percentage, with two decimals below 1 % so that small but
/// non-zero figures do not read "0.0%".
pub fn small_percent(p: f64) -> String {
    if p > 0.0 && p < 0.01 {
        format!("{:.2}%", 100.0 * p)
    } else {
        percent(p)
    }
}

/// A rate as a percentage with up to three decimals: 0.035 -> "3.5%".
pub fn rate(r: f64) -> String {
    format!("{}%", trim_zeros(format!("{:.3}", 100.0 * r)))
}

/// The discount rate a run used, as the summary states it: "3.5% a year", or a named
/// schedule or bands with the rates that apply within the horizon ("the Green Book
/// rates, 3.5% a year for these 10 years").
pub fn discount(d: &DiscountRate, horizon: usize) -> String {
    let bands = match d {
        DiscountRate::Constant(r) => return format!("{} a year", rate(*r)),
        DiscountRate::Bands(bands) => bands,
    };
    let name = if *d == DiscountRate::green_book() {
        "the Green Book rates, "
    } else if *d == DiscountRate::green_book_health() {
        "the Green Book health rates, "
    } else {
        ""
    };
    let used: Vec<&(usize, f64)> = bands.iter().filter(|(from, _)| *from < horizon).collect();
    let rates = match used.as_slice() {
        [(_, r)] => format!("{} a year", rate(*r)),
        _ => used
            .iter()
            .map(|(from, r)| format!("{} from year {from}", rate(*r)))
            .collect::<Vec<_>>()
            .join(", "),
    };
    format!("{name}{rates}")
}

/// A number to `digits` significant digits, trailing zeros dropped: 0.112345 -> "0.1123".
pub fn significant(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i64;
    let decimals = (digits as i64 - 1 - magnitude).max(0) as usize;
    let text = trim_zeros(format!("{x:.decimals$}"));
    if text == "-0" { "0".into() } else { text }
}

/// A number as a spreadsheet reads it: shortest round-trip form (parsing gives back the
/// exact value, never an exponent), empty if not finite.
pub fn plain(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        String::new()
    }
}

/// Money to three significant figures with k, m or bn: "£1.23m", "-£250k", "£12".
///
/// For axes and labels on bars, where the exact figure (in the page's tables) would
/// crowd the chart.
pub fn money_short(x: f64, currency: &str) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    let a = x.abs();
    let (scale, suffix) = magnitude(a);
    let v = a / scale;
    let decimals = if scale == 1.0 || v >= 99.95 {
        0
    } else if v >= 9.995 {
        1
    } else {
        2
    };
    let digits = trim_zeros(format!("{v:.decimals$}"));
    let sign = if x < 0.0 && digits != "0" { "-" } else { "" };
    format!("{sign}{currency}{digits}{suffix}")
}

/// A plain number to three significant figures, with thousands separators when large.
pub fn number_short(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    let a = x.abs();
    let decimals = if a >= 99.95 || a == 0.0 {
        0
    } else {
        (2.0 - a.log10().floor()).clamp(0.0, 6.0) as usize
    };
    trim_zeros(grouped(x, decimals))
}

/// The scale and suffix that money of magnitude `a` is shown in.
pub fn magnitude(a: f64) -> (f64, &'static str) {
    if a >= 999.5e6 {
        (1e9, "bn")
    } else if a >= 999.5e3 {
        (1e6, "m")
    } else if a >= 999.5 {
        (1e3, "k")
    } else {
        (1.0, "")
    }
}

/// Drops trailing zeros after a decimal point, and the point itself if nothing follows.
pub fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `x` with `decimals` decimals and thousands separators: "-1,234.5". Never "-0".
pub fn grouped(x: f64, decimals: usize) -> String {
    let text = format!("{:.decimals$}", x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = separated(int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    let zero = text.chars().all(|c| c == '0' || c == '.');
    if x < 0.0 && !zero {
        out.insert(0, '-');
    }
    out
}

/// How a table's text will be shown, which decides how its cells are sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// On a terminal (or in plain text printed like one): a cell is written as
    /// [`printable`] writes it and sized so, since the command line escapes what it
    /// prints.
    Escaped,
    /// As given, in a page: a bidirectional or zero-width mark stays a mark.
    AsGiven,
}

impl Shown {
    /// How many columns of a terminal (or of monospaced text) `text` takes when shown
    /// so: a CJK character two, a combining accent none (Unicode's East Asian Width, by
    /// the `unicode-width` crate), an escaped mark as many as its escape (`\u{200f}`,
    /// nine). Counting characters instead put a table's columns out of line after a
    /// Japanese or accented name.
    pub fn columns(self, text: &str) -> usize {
        display_width(&self.text(text))
    }

    /// `text` as shown, followed by spaces up to `width` columns: `{:<width$}` counts
    /// characters.
    pub fn left(self, text: &str, width: usize) -> String {
        let shown = self.text(text);
        let pad = width.saturating_sub(display_width(&shown));
        format!("{shown}{}", " ".repeat(pad))
    }

    /// `text` as shown, after spaces up to `width` columns.
    pub fn right(self, text: &str, width: usize) -> String {
        let shown = self.text(text);
        let pad = width.saturating_sub(display_width(&shown));
        format!("{}{shown}", " ".repeat(pad))
    }

    /// The width of a text column of `names` shown so, at least `at_least`.
    pub fn column_width<'a>(self, names: impl Iterator<Item = &'a str>, at_least: usize) -> usize {
        names
            .map(|n| self.columns(n))
            .max()
            .unwrap_or(0)
            .max(at_least)
    }

    fn text(self, text: &str) -> Cow<'_, str> {
        match self {
            Shown::Escaped => printable(text),
            Shown::AsGiven => Cow::Borrowed(text),
        }
    }
}

/// The columns `text` takes exactly as written (the `unicode-width` crate).
fn display_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// [`Shown::columns`] on a terminal: the terminal tables and the analysis tables are
/// sized with these, so that they read the same in a file as on the screen.
pub fn columns(text: &str) -> usize {
    Shown::Escaped.columns(text)
}

/// [`Shown::left`] on a terminal.
pub fn left(text: &str, width: usize) -> String {
    Shown::Escaped.left(text, width)
}

/// [`Shown::right`] on a terminal.
pub fn right(text: &str, width: usize) -> String {
    Shown::Escaped.right(text, width)
}

/// [`Shown::column_width`] on a terminal.
pub fn column_width<'a>(names: impl Iterator<Item = &'a str>, at_least: usize) -> usize {
    Shown::Escaped.column_width(names, at_least)
}

/// ", Latin hypercube sampling" for a result of `trials` trials per run sampled so,
/// nothing otherwise: for the line that names a result's seed and trials. Below
/// [`crate::lhs::MIN_BLOCKS`] whole blocks a run's standard errors are plain sampling's,
/// and the line says so, as a run's report does.
pub fn sampling_note(provenance: Option<&Provenance>, trials: u64) -> String {
    note_of(provenance.map_or(Sampling::Plain, |p| p.sampling), trials)
}

/// How a result of `trials` trials per run was sampled, as a cell of its own ("Plain:
/// independent trials", "Latin hypercube sampling"), with [`sampling_note`]'s caveat.
pub fn sampling_cell(provenance: Option<&Provenance>, trials: u64) -> String {
    cell_of(provenance.map_or(Sampling::Plain, |p| p.sampling), trials)
}

/// [`sampling_cell`] for a result sampled by `sampling`.
fn cell_of(sampling: Sampling, trials: u64) -> String {
    match sampling {
        Sampling::Plain => "Plain: independent trials".to_owned(),
        lhs => {
            let note = note_of(lhs, trials);
            let note = note.trim_start_matches(", ");
            let mut chars = note.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        }
    }
}

/// [`sampling_note`] for a result sampled by `sampling`.
fn note_of(sampling: Sampling, trials: u64) -> String {
    match sampling {
        Sampling::Lhs if trials < crate::lhs::MIN_BLOCKS * crate::lhs::BLOCK => format!(
            ", Latin hypercube sampling (standard errors as if the trials were independent, \
             which errs on the safe side: fewer than {} whole blocks of {} trials)",
            crate::lhs::MIN_BLOCKS,
            thousands(crate::lhs::BLOCK)
        ),
        Sampling::Lhs => ", Latin hypercube sampling".to_owned(),
        Sampling::Plain => String::new(),
    }
}

/// How a Latin hypercube run sampled, in one line for a report's readers: "Latin
/// hypercube sampling in blocks of 1,024 trials; standard errors from the means of its
/// 97 blocks".
pub fn sampling(info: &SamplingInfo) -> String {
    let from = match info.standard_errors {
        "block_means" if info.trials_after_blocks == 0 => {
            format!("from the means of its {} blocks", thousands(info.blocks))
        }
        "block_means" => format!(
            "from the means of its {} blocks, and the {} after them counted as \
             independent (a multiple of {} trials is more precise)",
            thousands(info.blocks),
            count(info.trials_after_blocks, "trial"),
            thousands(info.block_trials)
        ),
        _ => format!(
            "as if the trials were independent, which errs on the safe side (fewer than {} \
             whole blocks to estimate them from)",
            crate::lhs::MIN_BLOCKS
        ),
    };
    format!(
        "Latin hypercube sampling in blocks of {} trials; standard errors {from}",
        thousands(info.block_trials)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line feeds and tabs stay (messages are several lines), everything else that would
    /// act on a terminal or reorder a line shows as its escape, and clean text is not copied.
    #[test]
    fn printable_escapes_what_would_act_and_keeps_lines() {
        assert!(matches!(printable("a\tb\nc £"), Cow::Borrowed("a\tb\nc £")));
        assert_eq!(printable("\u{1b}[2J\r\u{7f}"), "\\u{1b}[2J\\u{d}\\u{7f}");
        assert_eq!(printable("x\u{202e}y\u{200b}"), "x\\u{202e}y\\u{200b}");
        assert_eq!(
            printable("\u{61c}\u{2028}\u{2060}\u{e0041}"),
            "\\u{61c}\\u{2028}\\u{2060}\\u{e0041}"
        );
    }

    /// A table cell is sized as the terminal shows it: a bidirectional mark, which takes
    /// no column raw, is escaped and counted as its escape; a CJK character counts two.
    #[test]
    fn cells_are_escaped_and_sized_as_shown() {
        assert_eq!(columns("\u{200f}ab"), 10);
        assert_eq!(left("\u{200f}ab", 12), "\\u{200f}ab  ");
        assert_eq!(right("東京", 6), "  東京");
        assert_eq!(left("Cafe\u{301}", 5), "Cafe\u{301} ");
        assert_eq!(left("too long", 3), "too long");
        // In a page the mark stays a mark, and takes no column.
        assert_eq!(Shown::AsGiven.left("\u{200f}ab", 4), "\u{200f}ab  ");
        assert_eq!(
            Shown::AsGiven.column_width(["\u{200f}ab"].into_iter(), 1),
            2
        );
    }

    /// The remark on plain standard errors goes exactly where a run's report makes them:
    /// below 64 whole blocks.
    #[test]
    fn the_sampling_note_says_when_standard_errors_are_plain() {
        assert_eq!(note_of(Sampling::Plain, 1_000), "");
        assert_eq!(note_of(Sampling::Lhs, 65_536), ", Latin hypercube sampling");
        assert!(note_of(Sampling::Lhs, 65_535).contains("fewer than 64 whole blocks"));
        assert_eq!(cell_of(Sampling::Plain, 1_000), "Plain: independent trials");
        assert_eq!(cell_of(Sampling::Lhs, 65_536), "Latin hypercube sampling");
        assert!(
            cell_of(Sampling::Lhs, 10_240)
                .starts_with("Latin hypercube sampling (standard errors as if")
        );
    }

    #[test]
    fn a_single_trial_has_no_standard_error_and_counts_take_their_number() {
        assert_eq!(
            standard_error(0.0, 1, "£"),
            "no standard error from a single trial"
        );
        assert_eq!(standard_error(1234.4, 2, "£"), "standard error £1,234");
        assert_eq!(count(1, "trial"), "1 trial");
        assert_eq!(count(20_000, "trial"), "20,000 trials");
        // Exact above 2^53, where a float would round.
        assert_eq!(thousands(9_007_199_254_740_993), "9,007,199,254,740,993");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
    }

    #[test]
    fn fine_percent_keeps_two_significant_digits_below_a_tenth_of_a_percent() {
        assert_eq!(fine_percent(0.005), "0.50%");
        assert_eq!(fine_percent(0.001), "0.10%");
        assert_eq!(fine_percent(0.00004), "0.0040%");
        assert_eq!(fine_percent(0.000_012_3), "0.0012%");
        assert_eq!(fine_percent(0.0), "0.00%");
    }

    #[test]
    fn money_groups_thousands_and_keeps_sign() {
        assert_eq!(money(1234567.4, "£"), "£1,234,567");
        assert_eq!(money(-999.6, "£"), "-£1,000");
        assert_eq!(money(-0.2, "£"), "£0");
        assert_eq!(money(12.0, "€"), "€12");
        assert_eq!(money(0.5, "£"), "£1");
        assert_eq!(money(2.5, "£"), "£3");
        assert_eq!(money(f64::NAN, "£"), "£NaN");
        assert_eq!(thousands(100000), "100,000");
        assert_eq!(exact_money(-1234.5, "£"), "-£1,234.50");
    }

    #[test]
    fn significant_digits_drop_trailing_zeros() {
        assert_eq!(significant(0.112345, 4), "0.1123");
        assert_eq!(significant(0.15, 4), "0.15");
        assert_eq!(significant(1234.5678, 4), "1235");
        assert_eq!(significant(-0.00001234, 2), "-0.000012");
        assert_eq!(significant(0.0, 4), "0");
        assert_eq!(rate(0.035), "3.5%");
        assert_eq!(rate(0.03), "3%");
    }

    #[test]
    fn money_short_uses_three_significant_figures() {
        assert_eq!(money_short(1_234_567.0, "£"), "£1.23m");
        assert_eq!(money_short(-250_000.0, "£"), "-£250k");
        assert_eq!(money_short(999_700.0, "£"), "£1m");
        assert_eq!(money_short(12.4, "€"), "€12");
        assert_eq!(money_short(-0.2, "£"), "£0");
        assert_eq!(money_short(2.5e9, "£"), "£2.5bn");
        assert_eq!(money_short(f64::NAN, "£"), "n/a");
    }
}
