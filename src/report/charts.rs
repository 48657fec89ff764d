//! Charts for the HTML reports: each function returns one SVG document as a string.
//!
//! Drawn with plotters' SVG backend so that a page shows its charts with no script, font
//! file or network access. Functions take plain slices and small structs, never a
//! [`Report`](super::Report), so that pages for `run`, sweeps, sensitivity and comparisons
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

use super::terminal::percent;

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

// ---------------------------------------------------------------------------------------
// Units and number formats
// ---------------------------------------------------------------------------------------

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
fn number_short(x: f64) -> String {
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
fn magnitude(a: f64) -> (f64, &'static str) {
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
fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `x` with `decimals` decimals and thousands separators: "-1,234.5". Never "-0".
fn grouped(x: f64, decimals: usize) -> String {
    let text = format!("{:.decimals$}", x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
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

// ---------------------------------------------------------------------------------------
// Axes
// ---------------------------------------------------------------------------------------

/// One numeric or categorical axis: its range, where its ticks go, how they read.
struct Axis<'a> {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    text: TickText<'a>,
}

/// How an axis labels its ticks.
enum TickText<'a> {
    /// Values in a unit, all ticks sharing one scale and number of decimals.
    Unit {
        unit: Unit<'a>,
        scale: f64,
        suffix: &'static str,
        decimals: usize,
    },
    /// Category names; tick i is `names[i]`.
    Names(Vec<String>),
}

impl<'a> Axis<'a> {
    /// A value axis over at least `lo..hi` with about `target` ticks at round values.
    /// A percentage axis whose data stay within 100 % stops at 100 %.
    fn values(lo: f64, hi: f64, target: usize, unit: Unit<'a>) -> Axis<'a> {
        let (lo, hi, mut ticks) = nice_ticks(lo, hi, target);
        let hi = if unit == Unit::Percent && hi > 1.0 && lo < 1.0 && ticks.contains(&1.0) {
            ticks.retain(|&t| t <= 1.0);
            1.0
        } else {
            hi
        };
        let step = if ticks.len() > 1 {
            ticks[1] - ticks[0]
        } else {
            1.0
        };
        let biggest = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
        let (scale, suffix) = match unit {
            Unit::Money(_) => magnitude(biggest),
            Unit::Percent => (0.01, ""),
            Unit::Number => (1.0, ""),
        };
        Axis {
            lo,
            hi,
            ticks,
            text: TickText::Unit {
                unit,
                scale,
                suffix,
                decimals: decimals_for(step / scale),
            },
        }
    }

    /// Years 0 .. horizon-1 as a value axis; `pad` is added at each end (0.5 for bars).
    fn years(horizon: usize, pad: f64) -> Axis<'a> {
        let last = horizon.saturating_sub(1) as f64;
        let step = [1, 2, 5, 10, 20, 25, 50]
            .into_iter()
            .find(|s| horizon / s <= 12)
            .unwrap_or(100);
        let ticks = (0..horizon).step_by(step).map(|t| t as f64).collect();
        let pad = if horizon <= 1 { pad.max(0.5) } else { pad };
        Axis {
            lo: -pad,
            hi: last + pad,
            ticks,
            text: TickText::Unit {
                unit: Unit::Number,
                scale: 1.0,
                suffix: "",
                decimals: 0,
            },
        }
    }

    /// Categories at 0 .. n-1, `names[0]` at the low end of the axis.
    fn names(names: Vec<String>) -> Axis<'a> {
        let n = names.len().max(1);
        Axis {
            lo: -0.5,
            hi: n as f64 - 0.5,
            ticks: (0..names.len()).map(|i| i as f64).collect(),
            text: TickText::Names(names),
        }
    }

    /// The label of the tick at `v`.
    fn label(&self, v: f64) -> String {
        match &self.text {
            TickText::Names(names) => {
                let i = v.round();
                if i >= 0.0 && (i as usize) < names.len() {
                    names[i as usize].clone()
                } else {
                    String::new()
                }
            }
            TickText::Unit {
                unit,
                scale,
                suffix,
                decimals,
            } => {
                let number = grouped(v / scale, *decimals);
                match unit {
                    Unit::Money(c) => match number.strip_prefix('-') {
                        Some(abs) => format!("-{c}{abs}{suffix}"),
                        None if number.chars().all(|d| d == '0' || d == '.') => format!("{c}0"),
                        None => format!("{c}{number}{suffix}"),
                    },
                    Unit::Percent => format!("{number}%"),
                    Unit::Number => number,
                }
            }
        }
    }

    /// Width in pixels of the widest tick label.
    fn label_width(&self) -> u32 {
        self.ticks
            .iter()
            .map(|&t| text_width(&self.label(t), TICK_PX))
            .max()
            .unwrap_or(0)
    }

    /// The plotters coordinate of this axis, with its ticks as key points.
    fn coord(&self) -> Ticked {
        Ticked {
            inner: (self.lo..self.hi).into(),
            ticks: self.ticks.clone(),
        }
    }
}

/// A linear plotters coordinate whose ticks are exactly the ones given.
///
/// plotters' own f64 coordinate picks its ticks and, wrapped in `WithKeyPoints`, no
/// longer accepts a label formatter; this keeps both under our control.
#[derive(Clone)]
struct Ticked {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

/// Round tick values covering `lo..hi`, about `target` intervals apart, and the range
/// widened to the outer ticks. A range of one value is widened around it.
fn nice_ticks(lo: f64, hi: f64, target: usize) -> (f64, f64, Vec<f64>) {
    let (lo, hi) = widen(lo, hi);
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        // A step a little under `raw` is fine: a few more ticks beat a range that
        // leaves half the plot empty.
        .find(|s| *s >= raw * 0.8)
        .unwrap_or(10.0 * mag);
    let first = (lo / step + 1e-9).floor() as i64;
    let last = (hi / step - 1e-9).ceil() as i64;
    let ticks: Vec<f64> = (first..=last).map(|k| k as f64 * step).collect();
    (first as f64 * step, last as f64 * step, ticks)
}

/// A usable range from any pair: non-finite values become 0..1, and a range of one
/// value (or nearly) gets room around it so that it has a visible width.
fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    let size = lo.abs().max(hi.abs());
    if hi - lo > size * 1e-9 && hi - lo > 1e-12 {
        return (lo, hi);
    }
    let pad = if size > 0.0 { size * 0.1 } else { 1.0 };
    (lo - pad, hi + pad)
}

/// Decimals needed to show multiples of `step` exactly (0 for whole steps).
fn decimals_for(step: f64) -> usize {
    (0..6)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(6)
}

/// Smallest and largest finite values, if any.
fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Estimated width of `text` at `px` pixels: the SVG backend cannot measure it.
fn text_width(text: &str, px: f64) -> u32 {
    (text.chars().count() as f64 * px * CHAR_EM).ceil() as u32
}

/// `text` cut to at most `max_px` wide, ending in "…" if cut.
fn fit(text: &str, max_px: u32, px: f64) -> String {
    let max_chars = ((max_px as f64) / (px * CHAR_EM)).floor().max(2.0) as usize;
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push('…');
    cut
}

// ---------------------------------------------------------------------------------------
// Drawing helpers
// ---------------------------------------------------------------------------------------

/// Text in the chart font at `px` pixels (plotters writes font-size = size / 1.24).
fn font(px: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, px * 1.24).into_font()).color(&INK)
}

/// `font` with an anchor: which side and height of the text sits at its position.
fn anchored(px: f64, h: HPos, v: VPos) -> TextStyle<'static> {
    font(px).pos(Pos::new(h, v))
}

/// What a legend entry shows next to its label.
#[derive(Debug, Clone, Copy)]
enum Swatch {
    /// A filled box (bars, bands).
    Fill(RGBAColor),
    /// A solid line.
    Line(RGBColor),
    /// A dashed line (reference lines such as break-even).
    Dashed(RGBColor),
}

/// One legend entry.
struct Key {
    label: String,
    swatch: Swatch,
}

fn key(label: impl Into<String>, swatch: Swatch) -> Key {
    Key {
        label: label.into(),
        swatch,
    }
}

/// Renders one chart: a white canvas with the title, the legend rows, then whatever
/// `plot` draws in the rest. Falls back to a message chart if drawing fails.
fn render(
    size: (u32, u32),
    title: &str,
    legend: &[Key],
    plot: impl FnOnce(&Area) -> DrawResult,
) -> String {
    let mut svg = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        frame(&root, title, legend)
            .and_then(|area| plot(&area))
            .and_then(|()| root.present().map_err(Into::into))
    };
    match drawn {
        Ok(()) => svg,
        Err(e) => failure(size, title, &e.to_string()),
    }
}

/// A chart that only says why the real one could not be drawn.
fn failure(size: (u32, u32), title: &str, why: &str) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (size.0, size.1.min(160))).into_drawing_area();
        let drawn = frame(&root, title, &[]).and_then(|area| {
            area.draw(&Text::new(
                fit(
                    &format!("This chart could not be drawn: {why}"),
                    size.0 - 2 * MARGIN as u32,
                    DESC_PX,
                ),
                (MARGIN, 20),
                anchored(DESC_PX, HPos::Left, VPos::Center),
            ))?;
            Ok(())
        });
        let _ = drawn.and_then(|()| root.present().map_err(Into::into));
    }
    svg
}

/// Paints the background, title and legend; returns the area left for the plot.
fn frame<'a>(root: &Area<'a>, title: &str, legend: &[Key]) -> DrawResult<Area<'a>> {
    root.fill(&WHITE)?;
    let width = root.dim_in_pixel().0;
    let (top, rest) = root.split_vertically(TITLE_H);
    let title_style = TextStyle::from((FONT, TITLE_PX * 1.24, FontStyle::Bold).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    top.draw(&Text::new(
        fit(title, width - 2 * MARGIN as u32, TITLE_PX),
        (MARGIN, TITLE_H as i32 / 2 + 2),
        title_style,
    ))?;
    if legend.is_empty() {
        return Ok(rest);
    }
    let rows = legend_rows(legend, width - 2 * MARGIN as u32);
    let (band, plot) = rest.split_vertically(rows.len() as u32 * LEGEND_ROW_H + 6);
    for (r, row) in rows.iter().enumerate() {
        let y = r as i32 * LEGEND_ROW_H as i32 + LEGEND_ROW_H as i32 / 2;
        let mut x = MARGIN;
        for k in row {
            draw_key(&band, k, x, y)?;
            x += key_width(k) as i32;
        }
    }
    Ok(plot)
}

const SWATCH_W: i32 = 22;

/// Width one legend entry takes, spacing included.
fn key_width(k: &Key) -> u32 {
    SWATCH_W as u32 + 8 + text_width(&k.label, LEGEND_PX) + 18
}

/// Legend entries laid out in rows no wider than `width`.
fn legend_rows(legend: &[Key], width: u32) -> Vec<Vec<&Key>> {
    let mut rows: Vec<Vec<&Key>> = vec![Vec::new()];
    let mut used = 0;
    for k in legend {
        let w = key_width(k);
        if used + w > width && !rows.last().is_some_and(|r| r.is_empty()) {
            rows.push(Vec::new());
            used = 0;
        }
        used += w;
        if let Some(row) = rows.last_mut() {
            row.push(k);
        }
    }
    rows
}

/// One legend entry with its swatch's left edge at `x`, centred on `y`.
fn draw_key(area: &Area, k: &Key, x: i32, y: i32) -> DrawResult {
    match k.swatch {
        Swatch::Fill(c) => {
            area.draw(&Rectangle::new(
                [(x, y - 6), (x + SWATCH_W, y + 6)],
                c.filled(),
            ))?;
        }
        Swatch::Line(c) => {
            area.draw(&PathElement::new(
                vec![(x, y), (x + SWATCH_W, y)],
                c.stroke_width(3),
            ))?;
        }
        Swatch::Dashed(c) => {
            for (a, b) in [(0, 6), (9, 13), (16, 22)] {
                area.draw(&PathElement::new(
                    vec![(x + a, y), (x + b, y)],
                    c.stroke_width(2),
                ))?;
            }
        }
    }
    area.draw(&Text::new(
        fit(
            &k.label,
            WIDTH - 2 * MARGIN as u32 - SWATCH_W as u32 - 8,
            LEGEND_PX,
        ),
        (x + SWATCH_W + 8, y),
        anchored(LEGEND_PX, HPos::Left, VPos::Center),
    ))?;
    Ok(())
}

/// How a plot's axes are titled and gridded.
struct Frame2d<'x> {
    x: &'x Axis<'x>,
    y: &'x Axis<'x>,
    x_desc: String,
    y_desc: String,
    /// Vertical grid lines at the x ticks.
    x_grid: bool,
    /// Horizontal grid lines at the y ticks.
    y_grid: bool,
    /// Room on the right for a secondary axis (0 for none).
    right: u32,
}

/// Pixels left of the plot for y tick labels and the y axis title.
fn y_area(axis: &Axis, desc: &str) -> u32 {
    let title = if desc.is_empty() {
        0
    } else {
        DESC_PX as u32 + 12
    };
    axis.label_width() + 14 + title
}

/// Pixels below the plot for x tick labels and the x axis title.
fn x_area(desc: &str) -> u32 {
    let title = if desc.is_empty() {
        0
    } else {
        DESC_PX as u32 + 12
    };
    TICK_PX as u32 + 16 + title
}

/// Builds the cartesian plot on `area` and draws its axes, ticks and grid.
fn chart2d<'a, 'b>(area: &'a Area<'b>, f: &Frame2d) -> DrawResult<Chart<'a, 'b>> {
    let mut chart = build2d(area, f)?;
    draw_axes(&mut chart, f)?;
    Ok(chart)
}

/// The cartesian plot on `area`, with room for its labels, before anything is drawn.
fn build2d<'a, 'b>(area: &'a Area<'b>, f: &Frame2d) -> DrawResult<Chart<'a, 'b>> {
    let chart = ChartBuilder::on(area)
        .margin_left(MARGIN as u32)
        .margin_right(if f.right > 0 { MARGIN as u32 } else { 28 })
        .margin_top(10)
        .margin_bottom(6)
        .x_label_area_size(x_area(&f.x_desc))
        .y_label_area_size(y_area(f.y, &f.y_desc))
        .right_y_label_area_size(f.right)
        .build_cartesian_2d(f.x.coord(), f.y.coord())?;
    Ok(chart)
}

/// Draws a plot's axes, tick labels, axis titles and grid.
///
/// With a secondary axis, call this after `set_secondary_coord`: before it, plotters
/// draws the primary labels in the right-hand label area too.
fn draw_axes(chart: &mut Chart, f: &Frame2d) -> DrawResult {
    let fx = |v: &f64| f.x.label(*v);
    let fy = |v: &f64| f.y.label(*v);
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .label_style(font(TICK_PX))
        .axis_desc_style(font(DESC_PX))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS.stroke_width(1))
        .set_all_tick_mark_size(4);
    if !f.x_desc.is_empty() {
        mesh.x_desc(f.x_desc.clone());
    }
    if !f.y_desc.is_empty() {
        mesh.y_desc(f.y_desc.clone());
    }
    if !f.x_grid {
        mesh.disable_x_mesh();
    }
    if !f.y_grid {
        mesh.disable_y_mesh();
    }
    mesh.draw()?;
    Ok(())
}

/// A dashed reference line between two points in chart coordinates.
fn dashed(chart: &mut Chart, from: (f64, f64), to: (f64, f64), color: RGBColor) -> DrawResult {
    chart.draw_series(DashedLineSeries::new(
        [from, to],
        6,
        4,
        color.stroke_width(2),
    ))?;
    Ok(())
}

/// A text label at a point in chart coordinates, shifted by `(dx, dy)` pixels.
fn label_at(
    chart: &mut Chart,
    at: (f64, f64),
    offset: (i32, i32),
    text: String,
    style: TextStyle<'static>,
) -> DrawResult {
    chart.draw_series(std::iter::once(
        EmptyElement::at(at) + Text::new(text, offset, style),
    ))?;
    Ok(())
}

/// A value label at the end of a horizontal bar: right of it for values >= base, left of
/// it below base.
fn bar_end_label(chart: &mut Chart, value: f64, base: f64, y: f64, text: String) -> DrawResult {
    let (dx, h) = if value >= base {
        (5, HPos::Left)
    } else {
        (-5, HPos::Right)
    };
    label_at(
        chart,
        (value, y),
        (dx, 0),
        text,
        anchored(VALUE_PX, h, VPos::Center).color(&MUTED),
    )
}

/// Room to add on each side of a value range so that labels at bar ends fit: the
/// fraction of the span a label of `label_px` takes in a plot `plot_px` wide.
fn label_room(span: f64, label_px: u32, plot_px: u32) -> f64 {
    let frac = (label_px as f64 / plot_px.max(1) as f64).min(0.45);
    span * frac / (1.0 - 2.0 * frac)
}

/// One end of a bar chart's value range (bars start at zero), moved outwards by `room`
/// for the value labels if bars reach that side of zero.
fn bar_pad(end: f64, room: f64) -> f64 {
    if end != 0.0 { end + room } else { end }
}

/// Category names cut to fit `max_px`, in axis order (first name at the top).
fn names_top_down(names: &[&str], max_px: u32) -> Vec<String> {
    names
        .iter()
        .rev()
        .map(|n| fit(n, max_px, TICK_PX))
        .collect()
}

/// Widest of the given names in tick font, capped at `cap` pixels.
fn names_width(names: &[&str], cap: u32) -> u32 {
    names
        .iter()
        .map(|n| text_width(n, TICK_PX))
        .max()
        .unwrap_or(0)
        .min(cap)
}

// ---------------------------------------------------------------------------------------
// Run report charts
// ---------------------------------------------------------------------------------------

/// One year of a fan chart: percentiles of the cumulative discounted saving.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FanYear {
    pub p05: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
}

impl From<&crate::stats::Band> for FanYear {
    fn from(b: &crate::stats::Band) -> FanYear {
        FanYear {
            p05: b.p05,
            p25: b.p25,
            p50: b.p50,
            p75: b.p75,
            p95: b.p95,
        }
    }
}

/// Fan chart of cumulative discounted saving by year (`years[t]` is year t): the P5-P95
/// and P25-P75 bands, the median line and the break-even line.
pub fn fan_chart(years: &[FanYear], currency: &str) -> String {
    let legend = [
        key("P5–P95: 90% of futures", Swatch::Fill(BLUE.mix(0.18))),
        key("P25–P75: 50% of futures", Swatch::Fill(BLUE.mix(0.42))),
        key("Median", Swatch::Line(DARK_BLUE)),
        key("Break-even", Swatch::Dashed(VERMILION)),
    ];
    let title = "Cumulative discounted saving by year";
    render((WIDTH, HEIGHT), title, &legend, |area| {
        let values = years.iter().flat_map(|y| [y.p05, y.p95]);
        let (lo, hi) = extent(values.chain([0.0])).unwrap_or((0.0, 1.0));
        let x = Axis::years(years.len(), 0.0);
        let y = Axis::values(lo, hi, 6, Unit::Money(currency));
        let mut chart = chart2d(
            area,
            &Frame2d {
                x: &x,
                y: &y,
                x_desc: "Year (0 = transition year)".into(),
                y_desc: format!("Cumulative saving{}", Unit::Money(currency).suffix()),
                x_grid: true,
                y_grid: true,
                right: 0,
            },
        )?;
        let points = fan_points(years);
        let band = |lo: fn(&FanYear) -> f64, hi: fn(&FanYear) -> f64| -> Vec<(f64, f64)> {
            let upper = points.iter().map(|&(x, y)| (x, hi(y)));
            let lower = points.iter().rev().map(|&(x, y)| (x, lo(y)));
            upper.chain(lower).collect()
        };
        let outer = band(|y| y.p05, |y| y.p95);
        let inner = band(|y| y.p25, |y| y.p75);
        chart.draw_series(std::iter::once(Polygon::new(
            outer,
            BLUE.mix(0.18).filled(),
        )))?;
        chart.draw_series(std::iter::once(Polygon::new(
            inner,
            BLUE.mix(0.42).filled(),
        )))?;
        dashed(&mut chart, (x.lo, 0.0), (x.hi, 0.0), VERMILION)?;
        let median: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (x, y.p50)).collect();
        chart.draw_series(LineSeries::new(median.clone(), DARK_BLUE.stroke_width(3)))?;
        chart.draw_series(
            (0..years.len()).map(|t| Circle::new((t as f64, years[t].p50), 3, DARK_BLUE.filled())),
        )?;
        Ok(())
    })
}

/// Where each year of a fan is drawn: at the year itself, or, when there is only one
/// year, at both ends of a short span around it so that its bands still have an area.
fn fan_points(years: &[FanYear]) -> Vec<(f64, &FanYear)> {
    match years {
        [only] => vec![(-0.3, only), (0.3, only)],
        _ => years
            .iter()
            .enumerate()
            .map(|(t, y)| (t as f64, y))
            .collect(),
    }
}

/// Histogram of NPVs in `bins` equal bins, with the cumulative share of trials on a right
/// axis (0-100 %) and the break-even line when zero is in or near the range.
pub fn npv_histogram(npv: &[f64], bins: usize, currency: &str) -> String {
    let values: Vec<f64> = npv.iter().copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) = extent(values.iter().copied()).unwrap_or((0.0, 0.0));
    let (lo, hi) = widen(lo, hi);
    let span = hi - lo;
    let show_zero = lo - 0.25 * span <= 0.0 && 0.0 <= hi + 0.25 * span;
    let mut legend = vec![
        key("Share of trials in each bin", Swatch::Fill(BLUE.mix(0.75))),
        key("Cumulative share (right axis)", Swatch::Line(VERMILION)),
    ];
    if show_zero {
        legend.push(key("Break-even (NPV = 0)", Swatch::Dashed(INK)));
    }
    let title = "Distribution of consortium NPV";
    render((WIDTH, HEIGHT), title, &legend, |area| {
        let bins = bins.max(1);
        let counts = bin_counts(&values, lo, hi, bins);
        let n = values.len().max(1) as f64;
        let shares: Vec<f64> = counts.iter().map(|&c| c as f64 / n).collect();
        let top = shares.iter().fold(0.0f64, |m, &s| m.max(s)).max(0.01);
        let (xlo, xhi) = if show_zero {
            (lo.min(0.0), hi.max(0.0))
        } else {
            (lo, hi)
        };
        let x = Axis::values(xlo, xhi, 8, Unit::Money(currency));
        let y = Axis::values(0.0, top * 1.05, 5, Unit::Percent);
        let cumulative = Axis::values(0.0, 1.0, 4, Unit::Percent);
        let frame = Frame2d {
            x: &x,
            y: &y,
            x_desc: format!("Consortium NPV{}", Unit::Money(currency).suffix()),
            y_desc: "Share of trials per bin (%)".into(),
            x_grid: false,
            y_grid: true,
            right: cumulative.label_width() + 14 + DESC_PX as u32 + 12,
        };
        let mut chart = build2d(area, &frame)?.set_secondary_coord(x.coord(), cumulative.coord());
        draw_axes(&mut chart, &frame)?;
        let width = (hi - lo) / bins as f64;
        chart.draw_series(shares.iter().enumerate().map(|(i, &s)| {
            let x0 = lo + i as f64 * width;
            let mut bar = Rectangle::new([(x0, 0.0), (x0 + width, s)], BLUE.mix(0.75).filled());
            bar.set_margin(0, 0, 1, 1);
            bar
        }))?;
        if show_zero {
            dashed(&mut chart, (0.0, 0.0), (0.0, y.hi), INK)?;
        }
        let fc = |v: &f64| pad_figures(&cumulative.label(*v), 4);
        chart
            .configure_secondary_axes()
            .y_label_formatter(&fc)
            .label_style(font(TICK_PX))
            .axis_desc_style(font(DESC_PX))
            .axis_style(AXIS.stroke_width(1))
            .y_desc("Cumulative share of trials (%)")
            .draw()?;
        let curve = cumulative_curve(&counts, lo, width, n);
        chart.draw_secondary_series(LineSeries::new(curve, VERMILION.stroke_width(2)))?;
        Ok(())
    })
}

/// `text` padded on the left with figure spaces (as wide as a digit) to `width`
/// characters, so that right-axis labels line up: plotters aligns labels of unequal
/// length on a right axis inconsistently.
fn pad_figures(text: &str, width: usize) -> String {
    let pad = width.saturating_sub(text.chars().count());
    let mut out: String = std::iter::repeat_n('\u{2007}', pad).collect();
    out.push_str(text);
    out
}

/// Number of values in each of `bins` equal bins over `lo..hi` (the top edge included in
/// the last bin).
fn bin_counts(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<u64> {
    let mut counts = vec![0u64; bins];
    let width = (hi - lo) / bins as f64;
    for &v in values {
        let i = ((v - lo) / width).floor().clamp(0.0, (bins - 1) as f64) as usize;
        counts[i] += 1;
    }
    counts
}

/// The empirical distribution function at each bin edge: (edge, share of trials <= edge).
fn cumulative_curve(counts: &[u64], lo: f64, width: f64, n: f64) -> Vec<(f64, f64)> {
    let mut running = 0u64;
    let mut curve = vec![(lo, 0.0)];
    for (i, c) in counts.iter().enumerate() {
        running += c;
        curve.push((lo + (i + 1) as f64 * width, running as f64 / n));
    }
    curve
}

/// Horizontal bars of each partner's mean NPV, with the value at each bar's end; the
/// first partner is at the top.
pub fn partner_npv(names: &[&str], mean_npv: &[f64], currency: &str) -> String {
    let title = "Mean NPV by partner";
    let height = rows_height(names.len(), 34, 0);
    render((WIDTH, height), title, &[], |area| {
        check_lengths("mean NPVs", names.len(), mean_npv.len())?;
        let unit = Unit::Money(currency);
        let name_px = names_width(names, NAME_CAP);
        let (lo, hi) = extent(mean_npv.iter().copied().chain([0.0])).unwrap_or((0.0, 1.0));
        let (lo, hi) = widen(lo, hi);
        let room = label_room(hi - lo, 64, WIDTH - name_px - 120);
        let (lo, hi) = (bar_pad(lo, -room), bar_pad(hi, room));
        let x = Axis::values(lo, hi, 7, unit);
        let y = Axis::names(names_top_down(names, name_px));
        let mut chart = chart2d(
            area,
            &Frame2d {
                x: &x,
                y: &y,
                x_desc: format!("Mean NPV{}", unit.suffix()),
                y_desc: String::new(),
                x_grid: true,
                y_grid: false,
                right: 0,
            },
        )?;
        let n = names.len();
        for (i, &v) in mean_npv.iter().enumerate() {
            let row = (n - 1 - i) as f64;
            let color = if v < 0.0 { VERMILION } else { BLUE };
            let bar = Rectangle::new([(0.0, row - 0.32), (v, row + 0.32)], color.filled());
            chart.draw_series(std::iter::once(bar))?;
            bar_end_label(&mut chart, v, 0.0, row, unit.short(v))?;
        }
        if x.lo < 0.0 {
            dashed(&mut chart, (0.0, y.lo), (0.0, y.hi), INK)?;
        }
        Ok(())
    })
}

/// Side-by-side bars per partner: P(ends worse off than going alone) and P(gives notice
/// at least once).
pub fn partner_risks(names: &[&str], worse_off: &[f64], withdraws: &[f64]) -> String {
    let title = "Risks by partner";
    let legend = [
        key(
            "P(worse off than going alone)",
            Swatch::Fill(VERMILION.to_rgba()),
        ),
        key(
            "P(gives notice at least once)",
            Swatch::Fill(ORANGE.to_rgba()),
        ),
    ];
    let height = rows_height(names.len(), 48, 1);
    render((WIDTH, height), title, &legend, |area| {
        check_lengths("P(worse off)", names.len(), worse_off.len())?;
        check_lengths("P(withdraws)", names.len(), withdraws.len())?;
        let name_px = names_width(names, NAME_CAP);
        let top = extent(worse_off.iter().chain(withdraws).copied())
            .map_or(0.0, |(_, hi)| hi)
            .max(0.05);
        let room = label_room(top, 48, WIDTH - name_px - 120);
        let x = Axis::values(0.0, (top + room).min(1.0), 6, Unit::Percent);
        let y = Axis::names(names_top_down(names, name_px));
        let mut chart = chart2d(
            area,
            &Frame2d {
                x: &x,
                y: &y,
                x_desc: "Probability (%)".into(),
                y_desc: String::new(),
                x_grid: true,
                y_grid: false,
                right: 0,
            },
        )?;
        let n = names.len();
        for i in 0..n {
            let row = (n - 1 - i) as f64;
            let pairs = [
                (worse_off[i], VERMILION, 0.19),
                (withdraws[i], ORANGE, -0.19),
            ];
            for (p, color, shift) in pairs {
                let (a, b) = (row + shift - 0.17, row + shift + 0.17);
                let bar = Rectangle::new([(0.0, a), (p, b)], color.filled());
                chart.draw_series(std::iter::once(bar))?;
                bar_end_label(&mut chart, p, 0.0, row + shift, small_percent(p))?;
            }
        }
        Ok(())
    })
}

/// Bars of P(a collapse takes effect in year t), one per year.
pub fn collapse_years(probability: &[f64]) -> String {
    let title = "When collapses take effect";
    render((WIDTH, 360), title, &[], |area| {
        let top = extent(probability.iter().copied()).map_or(0.0, |(_, hi)| hi);
        let x = Axis::years(probability.len(), 0.5);
        let y = Axis::values(0.0, (top * 1.15).max(0.01), 5, Unit::Percent);
        let mut chart = chart2d(
            area,
            &Frame2d {
                x: &x,
                y: &y,
                x_desc: "Year the collapse takes effect".into(),
                y_desc: "Share of trials (%)".into(),
                x_grid: false,
                y_grid: true,
                right: 0,
            },
        )?;
        chart.draw_series(probability.iter().enumerate().map(|(t, &p)| {
            let t = t as f64;
            Rectangle::new([(t - 0.35, 0.0), (t + 0.35, p)], VERMILION.filled())
        }))?;
        if top <= 0.0 {
            let middle = ((x.lo + x.hi) / 2.0, y.hi / 2.0);
            let style = anchored(DESC_PX, HPos::Center, VPos::Center).color(&MUTED);
            label_at(
                &mut chart,
                middle,
                (0, 0),
                "No collapse in any trial".into(),
                style,
            )?;
        } else if probability.len() <= 20 {
            for (t, &p) in probability.iter().enumerate().filter(|(_, p)| **p > 0.0) {
                let style = anchored(VALUE_PX, HPos::Center, VPos::Bottom).color(&MUTED);
                label_at(&mut chart, (t as f64, p), (0, -3), small_percent(p), style)?;
            }
        }
        Ok(())
    })
}

/// A probability as a percentage, with two decimals below 1 % so that small but
/// non-zero bars do not read "0.0%".
fn small_percent(p: f64) -> String {
    if p > 0.0 && p < 0.01 {
        format!("{:.2}%", 100.0 * p)
    } else {
        percent(p)
    }
}

/// Height of a chart with `rows` category rows of `row_px` pixels each and
/// `legend_rows` rows of legend.
fn rows_height(rows: usize, row_px: u32, legend_rows: u32) -> u32 {
    let fixed = TITLE_H + legend_rows * (LEGEND_ROW_H + 6) + x_area("x") + 20;
    fixed + row_px * rows.max(1) as u32
}

/// An error if two inputs that must match in length do not.
fn check_lengths(what: &str, expected: usize, got: usize) -> DrawResult {
    if expected == got {
        Ok(())
    } else {
        Err(format!("{got} {what} for {expected} categories").into())
    }
}

// ---------------------------------------------------------------------------------------
// Charts for sweeps, sensitivity and comparisons
// ---------------------------------------------------------------------------------------

/// One line of a [`LineChart`]: a value at each x, with a standard error per point.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub name: &'a str,
    pub y: &'a [f64],
    /// Standard error of each y; the chart shades y ± 2 se. Empty for no band.
    pub se: &'a [f64],
}

/// A line chart over a parameter: x = the parameter's values, one or more lines.
#[derive(Debug, Clone, Copy)]
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub x_unit: Unit<'a>,
    pub y_label: &'a str,
    pub y_unit: Unit<'a>,
    pub x: &'a [f64],
    pub lines: &'a [Line<'a>],
}

/// Lines with shaded ± 2 standard error bands (a sweep's mean NPV against a parameter).
pub fn line_chart(c: &LineChart) -> String {
    let mut legend: Vec<Key> = c
        .lines
        .iter()
        .zip(PALETTE.iter().cycle())
        .map(|(l, &color)| key(l.name, Swatch::Line(color)))
        .collect();
    if c.lines.iter().any(|l| !l.se.is_empty()) {
        legend.push(key("± 2 standard errors", Swatch::Fill(MUTED.mix(0.25))));
    }
    render((WIDTH, HEIGHT), c.title, &legend, |area| {
        for l in c.lines {
            check_lengths("y values", c.x.len(), l.y.len())?;
            if !l.se.is_empty() {
                check_lengths("standard errors", c.x.len(), l.se.len())?;
            }
        }
        let (xlo, xhi) = extent(c.x.iter().copied()).unwrap_or((0.0, 1.0));
        let ys = c
            .lines
            .iter()
            .flat_map(|l| band_points(l).into_iter().map(|(_, lo, hi)| [lo, hi]));
        let (ylo, yhi) = extent(ys.flatten()).unwrap_or((0.0, 1.0));
        let x = Axis::values(xlo, xhi, 8, c.x_unit);
        let y = Axis::values(ylo, yhi, 6, c.y_unit);
        let mut chart = chart2d(
            area,
            &Frame2d {
                x: &x,
                y: &y,
                x_desc: format!("{}{}", c.x_label, c.x_unit.suffix()),
                y_desc: format!("{}{}", c.y_label, c.y_unit.suffix()),
                x_grid: true,
                y_grid: true,
                right: 0,
            },
        )?;
        for (l, &color) in c.lines.iter().zip(PALETTE.iter().cycle()) {
            draw_line_with_band(&mut chart, c.x, l, color)?;
        }
        Ok(())
    })
}

/// (index, y - 2 se, y + 2 se) for each finite point of a line.
fn band_points(l: &Line) -> Vec<(usize, f64, f64)> {
    l.y.iter()
        .enumerate()
        .filter(|(_, y)| y.is_finite())
        .map(|(i, &y)| {
            let se =
                l.se.get(i)
                    .copied()
                    .filter(|s| s.is_finite())
                    .unwrap_or(0.0);
            (i, y - 2.0 * se, y + 2.0 * se)
        })
        .collect()
}

/// One line, its points and its shaded band.
fn draw_line_with_band(chart: &mut Chart, x: &[f64], l: &Line, color: RGBColor) -> DrawResult {
    let points: Vec<(f64, f64)> = x
        .iter()
        .zip(l.y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(&a, &b)| (a, b))
        .collect();
    if !l.se.is_empty() {
        let band = band_points(l);
        let upper = band.iter().map(|&(i, _, hi)| (x[i], hi));
        let lower = band.iter().rev().map(|&(i, lo, _)| (x[i], lo));
        let polygon: Vec<(f64, f64)> = upper.chain(lower).collect();
        chart.draw_series(std::iter::once(Polygon::new(
            polygon,
            color.mix(0.2).filled(),
        )))?;
    }
    chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?;
    chart.draw_series(
        points
            .into_iter()
            .map(|p| Circle::new(p, 3, color.filled())),
    )?;
    Ok(())
}

/// A grid of values over two parameters, shown as coloured cells with their values.
#[derive(Debug, Clone, Copy)]
pub struct HeatMap<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// Labels of the columns, left to right.
    pub columns: &'a [&'a str],
    /// Labels of the rows, bottom to top (like a y axis).
    pub rows: &'a [&'a str],
    /// Row-major: `values[row * columns.len() + column]`.
    pub values: &'a [f64],
    /// What the values are, for the colour scale's title.
    pub value_label: &'a str,
    pub unit: Unit<'a>,
}

/// Heat map with a label in each cell and a colour scale on the right. Values of both
/// signs use a diverging scale centred on zero (red below, blue above); otherwise a
/// sequential scale from light to dark.
pub fn heat_map(h: &HeatMap) -> String {
    let height = (HEIGHT + 20).max(TITLE_H + 120 + 30 * h.rows.len() as u32);
    render((WIDTH, height.min(900)), h.title, &[], |area| {
        check_lengths(
            "cell values",
            h.columns.len() * h.rows.len(),
            h.values.len(),
        )?;
        let scale = ColourScale::of(h.values);
        let (plot, bar) = area.split_horizontally(WIDTH - 150);
        draw_cells(&plot, h, &scale)?;
        draw_colour_bar(&bar, h, &scale)
    })
}

/// The cells of a heat map, with axes.
fn draw_cells(area: &Area, h: &HeatMap, scale: &ColourScale) -> DrawResult {
    let cols = h.columns.len();
    let x = Axis::names(h.columns.iter().map(|c| fit(c, 120, TICK_PX)).collect());
    let y = Axis::names(h.rows.iter().map(|r| fit(r, 160, TICK_PX)).collect());
    let mut chart = chart2d(
        area,
        &Frame2d {
            x: &x,
            y: &y,
            x_desc: h.x_label.to_string(),
            y_desc: h.y_label.to_string(),
            x_grid: false,
            y_grid: false,
            right: 0,
        },
    )?;
    let (w, ht) = chart.plotting_area().dim_in_pixel();
    let cell_px = (w / cols.max(1) as u32, ht / h.rows.len().max(1) as u32);
    for (k, &v) in h.values.iter().enumerate() {
        let (r, c) = ((k / cols) as f64, (k % cols) as f64);
        let fill = scale.colour(v);
        let cell = Rectangle::new([(c - 0.5, r - 0.5), (c + 0.5, r + 0.5)], fill.filled());
        chart.draw_series(std::iter::once(cell))?;
        let text = h.unit.short(v);
        if text_width(&text, VALUE_PX) + 4 <= cell_px.0 && cell_px.1 >= 16 {
            let ink = if luminance(fill) < 0.45 { &WHITE } else { &INK };
            let style = anchored(VALUE_PX, HPos::Center, VPos::Center).color(ink);
            label_at(&mut chart, (c, r), (0, 0), text, style)?;
        }
    }
    Ok(())
}

/// The colour scale of a heat map: a bar of colours with value ticks.
fn draw_colour_bar(area: &Area, h: &HeatMap, scale: &ColourScale) -> DrawResult {
    let axis = Axis::values(scale.lo, scale.hi, 5, h.unit);
    let x = Axis {
        lo: 0.0,
        hi: 1.0,
        ticks: Vec::new(),
        text: TickText::Names(Vec::new()),
    };
    let width = area.dim_in_pixel().0;
    let label = fit(h.value_label, 300, DESC_PX);
    let mut chart = ChartBuilder::on(area)
        .margin_top(10)
        .margin_bottom(6)
        .margin_left(8)
        .margin_right(4)
        .x_label_area_size(x_area(h.x_label))
        .right_y_label_area_size(width.saturating_sub(44))
        .build_cartesian_2d(x.coord(), axis.coord())?;
    let fy = |v: &f64| axis.label(*v);
    chart
        .configure_mesh()
        .disable_mesh()
        .y_label_formatter(&fy)
        .label_style(font(TICK_PX))
        .axis_desc_style(font(DESC_PX))
        .axis_style(AXIS.stroke_width(1))
        .y_desc(label)
        .draw()?;
    let steps = 64;
    let span = axis.hi - axis.lo;
    chart.draw_series((0..steps).map(|i| {
        let a = axis.lo + span * i as f64 / steps as f64;
        let b = axis.lo + span * (i + 1) as f64 / steps as f64;
        // Each step overlaps the next a little: abutting rectangles show hairline gaps
        // where the browser anti-aliases their edges.
        let top = (b + 0.5 * span / steps as f64).min(axis.hi);
        Rectangle::new([(0.0, a), (1.0, top)], scale.colour((a + b) / 2.0).filled())
    }))?;
    Ok(())
}

/// Maps values to colours: diverging around zero when values have both signs.
struct ColourScale {
    lo: f64,
    hi: f64,
    diverging: bool,
}

/// ColorBrewer RdBu (red, white, blue) and YlGnBu stops.
const DIVERGING: [RGBColor; 5] = [
    RGBColor(0xB2, 0x18, 0x2B),
    RGBColor(0xEF, 0x8A, 0x62),
    RGBColor(0xF7, 0xF7, 0xF7),
    RGBColor(0x67, 0xA9, 0xCF),
    RGBColor(0x21, 0x66, 0xAC),
];
const SEQUENTIAL: [RGBColor; 5] = [
    RGBColor(0xFF, 0xFF, 0xCC),
    RGBColor(0xA1, 0xDA, 0xB4),
    RGBColor(0x41, 0xB6, 0xC4),
    RGBColor(0x2C, 0x7F, 0xB8),
    RGBColor(0x25, 0x34, 0x94),
];
const MISSING: RGBColor = RGBColor(0xCC, 0xCC, 0xCC);

impl ColourScale {
    fn of(values: &[f64]) -> ColourScale {
        let (lo, hi) = extent(values.iter().copied()).unwrap_or((0.0, 1.0));
        if lo < 0.0 && hi > 0.0 {
            let m = lo.abs().max(hi);
            ColourScale {
                lo: -m,
                hi: m,
                diverging: true,
            }
        } else {
            let (lo, hi) = widen(lo, hi);
            ColourScale {
                lo,
                hi,
                diverging: false,
            }
        }
    }

    fn colour(&self, v: f64) -> RGBColor {
        if !v.is_finite() {
            return MISSING;
        }
        let f = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        let stops = if self.diverging {
            &DIVERGING
        } else {
            &SEQUENTIAL
        };
        interpolate(stops, f)
    }
}

/// The colour at fraction `f` along evenly spaced `stops`.
fn interpolate(stops: &[RGBColor], f: f64) -> RGBColor {
    let pos = f * (stops.len() - 1) as f64;
    let i = (pos.floor() as usize).min(stops.len() - 2);
    let t = pos - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Relative luminance (0 black .. 1 white), to choose dark or light text on a cell.
fn luminance(c: RGBColor) -> f64 {
    (0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64) / 255.0
}

/// One bar of a tornado chart: the result with one input at its low and high values.
#[derive(Debug, Clone, Copy)]
pub struct Swing<'a> {
    pub name: &'a str,
    pub low: f64,
    pub high: f64,
}

/// A tornado chart: how far each input moves a result from its base value.
#[derive(Debug, Clone, Copy)]
pub struct Tornado<'a> {
    pub title: &'a str,
    /// The result with every input at its base value.
    pub base: f64,
    /// What the result is (the x axis title).
    pub value_label: &'a str,
    pub unit: Unit<'a>,
    /// Legend text for the bars with inputs at their low and high values.
    pub low_label: &'a str,
    pub high_label: &'a str,
    pub swings: &'a [Swing<'a>],
}

/// Tornado chart: per input, a bar from the base to the result at the input's low value
/// and one to the result at its high value, widest swing at the top.
pub fn tornado(t: &Tornado) -> String {
    let mut swings: Vec<Swing> = t.swings.to_vec();
    swings.sort_by(|a, b| swing_size(b).total_cmp(&swing_size(a)));
    let legend = [
        key(t.low_label, Swatch::Fill(SKY.to_rgba())),
        key(t.high_label, Swatch::Fill(BLUE.to_rgba())),
        key(
            format!("Base: {}", t.unit.short(t.base)),
            Swatch::Dashed(INK),
        ),
    ];
    let height = rows_height(swings.len(), 44, 1);
    render((WIDTH, height), t.title, &legend, |area| {
        let names: Vec<&str> = swings.iter().map(|s| s.name).collect();
        let name_px = names_width(&names, NAME_CAP);
        let all = swings.iter().flat_map(|s| [s.low, s.high]).chain([t.base]);
        let (lo, hi) = widen_pair(extent(all));
        let room = label_room(hi - lo, 60, WIDTH - name_px - 120);
        let x = Axis::values(lo - room, hi + room, 7, t.unit);
        let y = Axis::names(names_top_down(&names, name_px));
        let mut chart = chart2d(
            area,
            &Frame2d {
                x: &x,
                y: &y,
                x_desc: format!("{}{}", t.value_label, t.unit.suffix()),
                y_desc: String::new(),
                x_grid: true,
                y_grid: false,
                right: 0,
            },
        )?;
        let n = swings.len();
        for (i, s) in swings.iter().enumerate() {
            let row = (n - 1 - i) as f64;
            for (v, color, shift) in [(s.low, SKY, 0.17), (s.high, BLUE, -0.17)] {
                if !v.is_finite() {
                    continue;
                }
                let bar = Rectangle::new(
                    [(t.base, row + shift - 0.15), (v, row + shift + 0.15)],
                    color.filled(),
                );
                chart.draw_series(std::iter::once(bar))?;
                bar_end_label(&mut chart, v, t.base, row + shift, t.unit.short(v))?;
            }
        }
        dashed(&mut chart, (t.base, y.lo), (t.base, y.hi), INK)?;
        Ok(())
    })
}

/// How far an input moves the result: |high - low|, non-finite swings last.
fn swing_size(s: &Swing) -> f64 {
    let d = (s.high - s.low).abs();
    if d.is_finite() { d } else { -1.0 }
}

/// `extent`'s result widened to a usable range (0..1 if there were no values).
fn widen_pair(e: Option<(f64, f64)>) -> (f64, f64) {
    let (lo, hi) = e.unwrap_or((0.0, 1.0));
    widen(lo, hi)
}

/// One measure compared across scenarios: `values[i]` belongs to scenario i.
#[derive(Debug, Clone, Copy)]
pub struct Metric<'a> {
    pub name: &'a str,
    pub unit: Unit<'a>,
    pub values: &'a [f64],
}

/// Scenarios side by side: one panel per metric (each with its own unit and axis),
/// stacked so that every panel has the full width for its bars and value labels; in each
/// panel one bar per scenario, the first scenario at the top, in the same colour
/// throughout.
pub fn comparison(title: &str, scenarios: &[&str], metrics: &[Metric]) -> String {
    let panel_h = PANEL_HEAD_H + 30 * scenarios.len().max(1) as u32 + x_area("") + 16;
    let height = TITLE_H + panel_h * metrics.len().max(1) as u32 + 8;
    render((WIDTH, height), title, &[], |area| {
        for m in metrics {
            check_lengths(m.name, scenarios.len(), m.values.len())?;
        }
        if metrics.is_empty() {
            return Err("no metrics to compare".into());
        }
        let name_px = names_width(scenarios, NAME_CAP);
        let names = names_top_down(scenarios, name_px);
        let panels = area.split_evenly((metrics.len(), 1));
        for (m, a) in metrics.iter().zip(&panels) {
            draw_panel(a, m, names.clone())?;
        }
        Ok(())
    })
}

const PANEL_HEAD_H: u32 = 26;

/// One panel of a comparison: its heading, then bars for one metric.
fn draw_panel(area: &Area, m: &Metric, names: Vec<String>) -> DrawResult {
    let (head, plot) = area.split_vertically(PANEL_HEAD_H);
    let heading = format!("{}{}", m.name, m.unit.suffix());
    let style = TextStyle::from((FONT, DESC_PX * 1.24, FontStyle::Bold).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    head.draw(&Text::new(
        fit(&heading, WIDTH - 2 * MARGIN as u32, DESC_PX),
        (MARGIN, PANEL_HEAD_H as i32 / 2 + 2),
        style,
    ))?;
    let name_px = names
        .iter()
        .map(|n| text_width(n, TICK_PX))
        .max()
        .unwrap_or(0);
    let (lo, hi) = widen_pair(extent(m.values.iter().copied().chain([0.0])));
    let room = label_room(hi - lo, 56, WIDTH - name_px - 120);
    let x = Axis::values(bar_pad(lo, -room), bar_pad(hi, room), 7, m.unit);
    let y = Axis::names(names);
    let mut chart = chart2d(
        &plot,
        &Frame2d {
            x: &x,
            y: &y,
            x_desc: String::new(),
            y_desc: String::new(),
            x_grid: true,
            y_grid: false,
            right: 0,
        },
    )?;
    let n = m.values.len();
    for (i, &v) in m.values.iter().enumerate() {
        let row = (n - 1 - i) as f64;
        let color = PALETTE[i % PALETTE.len()];
        let bar = Rectangle::new([(0.0, row - 0.32), (v, row + 0.32)], color.filled());
        chart.draw_series(std::iter::once(bar))?;
        bar_end_label(&mut chart, v, 0.0, row, m.unit.short(v))?;
    }
    if x.lo < 0.0 {
        dashed(&mut chart, (0.0, y.lo), (0.0, y.hi), INK)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
