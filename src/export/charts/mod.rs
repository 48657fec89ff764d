//! Charts for the HTML reports: each function returns one SVG document as a string.
//!
//! Drawn with plotters' SVG backend so that a page shows its charts with no script, font
//! file or network access. Functions take plain slices and small structs, never a
//! [`Report`](crate::summary::Report), so that pages for `run`, sweeps, sensitivity and comparisons
//! share them. Every chart has a title, axes with units and, when it shows more than one
//! series, a legend drawn above the plot (never over the data).
//!
//! plotters escapes `<`, `>`, `&` and quotes in every text it writes, so user text
//! (scenario and partner names) is passed to it as it is: escaping it here as well would
//! show "&amp;lt;" to the reader. A chart that cannot be drawn (inconsistent input
//! lengths, say) becomes a small SVG that says so, never a panic or a broken page.

use std::error::Error;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format::{grouped, magnitude, money_short, number_short, percent, small_percent};

mod analysis;
mod axes;
mod frame;
mod run;

pub use analysis::{
    Frontier, HeatMap, Line, LineChart, Metric, Swing, Tornado, comparison, frontier, heat_map,
    line_chart, tornado,
};
use axes::*;
use frame::*;
pub use run::{
    FanYear, cash_fans, collapse_years, delay_years, fan_chart, fan_chart_with_go_live, npv_bins,
    npv_histogram, partner_npv, partner_risks, trial_cumulative,
};

/// Width of every chart in SVG pixels; pages scale charts down to their column.
pub const WIDTH: u32 = 960;
/// Height of the charts whose height does not depend on a number of rows.
pub const HEIGHT: u32 = 440;

const FONT: &str = "sans-serif";
const TITLE_PX: f64 = 18.0;
const DESC_PX: f64 = 14.0;
const TICK_PX: f64 = 13.0;
const LEGEND_PX: f64 = 13.0;
const VALUE_PX: f64 = 12.0;
/// Average advance of a sans-serif character in em: used to make room for labels, since
/// the SVG backend cannot measure text (the browser lays it out).
const CHAR_EM: f64 = 0.55;
const MARGIN: i32 = 16;
const TITLE_H: u32 = 40;
const LEGEND_ROW_H: u32 = 24;
/// Widest category name (partner, scenario, input) shown in full; longer ones end in
/// "…". About 55 characters: every shipped partner name fits.
const NAME_CAP: u32 = 400;

const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);
const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
const AXIS: RGBColor = RGBColor(0x88, 0x88, 0x88);
/// Okabe-Ito colours: distinguishable with the common forms of colour blindness.
const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const DARK_BLUE: RGBColor = RGBColor(0x0B, 0x3C, 0x5D);
const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const VERMILION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
/// Colours given to series in order (scenarios in a comparison, lines in a sweep).
const PALETTE: [RGBColor; 7] = [BLUE, ORANGE, GREEN, VERMILION, SKY, PURPLE, MUTED];

type DrawResult<T = ()> = Result<T, Box<dyn Error>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Coord = Cartesian2d<Ticked, Ticked>;
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Coord>;

/// What a value measures, which decides how axes and labels show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit<'a> {
    /// Money, shown with this currency symbol in short form: "£250k", "-£1.5m".
    Money(&'a str),
    /// A probability in [0, 1], shown as a percentage.
    Percent,
    /// A plain number.
    Number,
}

impl Unit<'_> {
    /// A value in short form, for labels on bars and cells: "£1.23m", "13.4%", "0.15".
    pub fn short(self, v: f64) -> String {
        match self {
            Unit::Money(c) => money_short(v, c),
            Unit::Percent => percent(v),
            Unit::Number => number_short(v),
        }
    }

    /// The unit as it goes after an axis title: "(£)", "(%)", or nothing.
    fn suffix(self) -> String {
        match self {
            Unit::Money(c) if c.trim().is_empty() => String::new(),
            Unit::Money(c) => format!(" ({})", c.trim()),
            Unit::Percent => " (%)".to_string(),
            Unit::Number => String::new(),
        }
    }
}
