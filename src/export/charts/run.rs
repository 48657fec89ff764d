//! The charts of a run's page: fan chart, NPV histogram, partner bars, collapse years.

use super::*;

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
    fan_chart_with_go_live(years, currency, None)
}

/// [`fan_chart`] with, for a scenario whose go-live may slip, a vertical line where the
/// median future goes live (`go_live`: its first live year; the line is drawn at the
/// start of that year).
pub fn fan_chart_with_go_live(years: &[FanYear], currency: &str, go_live: Option<usize>) -> String {
    let mut legend = vec![
        key("P5–P95: 90% of futures", Swatch::Fill(BLUE.mix(0.18))),
        key("P25–P75: 50% of futures", Swatch::Fill(BLUE.mix(0.42))),
        key("Median", Swatch::Line(DARK_BLUE)),
        key("Break-even", Swatch::Dashed(VERMILION)),
    ];
    let go_live = go_live.filter(|&y| y < years.len());
    if let Some(y) = go_live {
        legend.push(key(
            format!("Median go-live: year {y}"),
            Swatch::Dashed(GREEN),
        ));
    }
    let title = "Cumulative discounted saving by year";
    let values = years.iter().flat_map(|y| [y.p05, y.p95]);
    let range = extent(values.chain([0.0])).unwrap_or((0.0, 1.0));
    let fan = Fan {
        size: (WIDTH, HEIGHT),
        title,
        y_desc: "Cumulative saving",
        range,
        ticks: 6,
    };
    draw_fan(&fan, &legend, years, currency, go_live)
}

/// Width and height of each partner's cash fan: two fit side by side in a page's column.
const SMALL: (u32, u32) = (480, 300);

/// Each partner's cumulative cash (undiscounted) by year as a small fan chart titled
/// with its name (`fans[i]` is partner `names[i]`'s), for the small multiples of the
/// partners' cash by year: one scale for all, so that their heights compare. The page
/// says what the bands are.
pub fn cash_fans(names: &[&str], fans: &[Vec<FanYear>], currency: &str) -> Vec<String> {
    let values = fans.iter().flatten().flat_map(|y| [y.p05, y.p95]);
    let range = extent(values.chain([0.0])).unwrap_or((0.0, 1.0));
    names
        .iter()
        .zip(fans)
        .map(|(name, years)| {
            let fan = Fan {
                size: SMALL,
                title: name,
                y_desc: "Cumulative cash",
                range,
                ticks: 4,
            };
            draw_fan(&fan, &[], years, currency, None)
        })
        .collect()
}

/// What differs between fan charts: their size, title, y axis and its range.
struct Fan<'a> {
    size: (u32, u32),
    title: &'a str,
    y_desc: &'a str,
    range: (f64, f64),
    ticks: usize,
}

/// A fan chart: the P5-P95 and P25-P75 bands, the median line, the break-even line and,
/// if given, the median go-live line.
fn draw_fan(
    fan: &Fan,
    legend: &[Key],
    years: &[FanYear],
    currency: &str,
    go_live: Option<usize>,
) -> String {
    render(fan.size, fan.title, legend, |area| {
        let (lo, hi) = fan.range;
        let x = Axis::years(years.len(), 0.0);
        let y = Axis::values(lo, hi, fan.ticks, Unit::Money(currency));
        let mut frame = saving_by_year(&x, &y, currency);
        frame.y_desc = format!("{}{}", fan.y_desc, Unit::Money(currency).suffix());
        let mut chart = chart2d(area, &frame)?;
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
        if let Some(year) = go_live {
            go_live_line(&mut chart, year, &x, &y)?;
        }
        let median: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (x, y.p50)).collect();
        chart.draw_series(LineSeries::new(median.clone(), DARK_BLUE.stroke_width(3)))?;
        chart.draw_series(
            (0..years.len()).map(|t| Circle::new((t as f64, years[t].p50), 3, DARK_BLUE.filled())),
        )?;
        Ok(())
    })
}

/// One trial's cumulative discounted saving by year (`cumulative[t]` is year t), for a
/// replayed trial's page: the line, the break-even line and, when go-live slipped, where
/// the service went live.
pub fn trial_cumulative(cumulative: &[f64], go_live: Option<usize>, currency: &str) -> String {
    let mut legend = vec![
        key("Cumulative saving", Swatch::Line(DARK_BLUE)),
        key("Break-even", Swatch::Dashed(VERMILION)),
    ];
    let go_live = go_live.filter(|&y| y > 0 && y < cumulative.len());
    if let Some(y) = go_live {
        legend.push(key(format!("Go-live: year {y}"), Swatch::Dashed(GREEN)));
    }
    let title = "This trial's cumulative discounted saving";
    render((WIDTH, 360), title, &legend, |area| {
        let (lo, hi) = extent(cumulative.iter().copied().chain([0.0])).unwrap_or((0.0, 1.0));
        let x = Axis::years(cumulative.len(), 0.3);
        let y = Axis::values(lo, hi, 5, Unit::Money(currency));
        let mut chart = chart2d(area, &saving_by_year(&x, &y, currency))?;
        dashed(&mut chart, (x.lo, 0.0), (x.hi, 0.0), VERMILION)?;
        if let Some(year) = go_live {
            go_live_line(&mut chart, year, &x, &y)?;
        }
        let points: Vec<(f64, f64)> = cumulative
            .iter()
            .enumerate()
            .map(|(t, &c)| (t as f64, c))
            .collect();
        chart.draw_series(LineSeries::new(points.clone(), DARK_BLUE.stroke_width(3)))?;
        chart.draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 3, DARK_BLUE.filled())),
        )?;
        Ok(())
    })
}

/// The frame of a chart of cumulative discounted saving by year (the fan, one trial's).
fn saving_by_year<'x>(x: &'x Axis<'x>, y: &'x Axis<'x>, currency: &str) -> Frame2d<'x> {
    Frame2d {
        x,
        y,
        x_desc: "Year (0 = transition year)".into(),
        y_desc: format!("Cumulative saving{}", Unit::Money(currency).suffix()),
        x_grid: true,
        y_grid: true,
        right: 0,
    }
}

/// The go-live line of a chart by year: at the start of `year`, the first live one.
fn go_live_line(chart: &mut Chart, year: usize, x: &Axis, y: &Axis) -> DrawResult {
    let at = (year as f64 - 0.5).max(x.lo);
    dashed(chart, (at, y.lo), (at, y.hi), GREEN)
}

/// Where each year of a fan is drawn: at the year itself, or, when there is only one
/// year, at both ends of a short span around it so that its bands still have an area.
pub(super) fn fan_points(years: &[FanYear]) -> Vec<(f64, &FanYear)> {
    match years {
        [only] => vec![(-0.3, only), (0.3, only)],
        _ => years
            .iter()
            .enumerate()
            .map(|(t, y)| (t as f64, y))
            .collect(),
    }
}

/// The bins of the NPV histogram as [`npv_histogram`] draws them: the lower edge of the
/// first bin, the bins' width and the trials in each, for a renderer that draws its own
/// chart (the workbook) and must agree with the page.
pub fn npv_bins(npv: &[f64], bins: usize) -> (f64, f64, Vec<u64>) {
    let values: Vec<f64> = npv.iter().copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) = extent(values.iter().copied()).unwrap_or((0.0, 0.0));
    let (lo, hi) = widen(lo, hi);
    let bins = bins.max(1);
    (
        lo,
        (hi - lo) / bins as f64,
        bin_counts(&values, lo, hi, bins),
    )
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
pub(super) fn pad_figures(text: &str, width: usize) -> String {
    let pad = width.saturating_sub(text.chars().count());
    let mut out: String = std::iter::repeat_n('\u{2007}', pad).collect();
    out.push_str(text);
    out
}

/// Number of values in each of `bins` equal bins over `lo..hi` (the top edge included in
/// the last bin).
pub(super) fn bin_counts(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<u64> {
    let mut counts = vec![0u64; bins];
    let width = (hi - lo) / bins as f64;
    for &v in values {
        let i = ((v - lo) / width).floor().clamp(0.0, (bins - 1) as f64) as usize;
        counts[i] += 1;
    }
    counts
}

/// The empirical distribution function at each bin edge: (edge, share of trials <= edge).
pub(super) fn cumulative_curve(counts: &[u64], lo: f64, width: f64, n: f64) -> Vec<(f64, f64)> {
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
    year_bars(
        probability,
        "When collapses take effect",
        "Year the collapse takes effect",
        VERMILION,
        "No collapse in any trial",
    )
}

/// Bars of P(d = y), the go-live delay's distribution, for y = 0 ..= H (the last bar:
/// never live within the horizon).
pub fn delay_years(probability: &[f64]) -> String {
    year_bars(
        probability,
        "How long go-live slips",
        "Years of delay before go-live (the last: never live within the horizon)",
        GREEN,
        "No delay in any trial",
    )
}

/// One bar per year of the probability that something happens in that year.
fn year_bars(
    probability: &[f64],
    title: &str,
    x_desc: &str,
    colour: RGBColor,
    none: &str,
) -> String {
    render((WIDTH, 360), title, &[], |area| {
        let top = extent(probability.iter().copied()).map_or(0.0, |(_, hi)| hi);
        let x = Axis::years(probability.len(), 0.5);
        let y = Axis::values(0.0, (top * 1.15).max(0.01), 5, Unit::Percent);
        let mut chart = chart2d(
            area,
            &Frame2d {
                x: &x,
                y: &y,
                x_desc: x_desc.into(),
                y_desc: "Share of trials (%)".into(),
                x_grid: false,
                y_grid: true,
                right: 0,
            },
        )?;
        chart.draw_series(probability.iter().enumerate().map(|(t, &p)| {
            let t = t as f64;
            Rectangle::new([(t - 0.35, 0.0), (t + 0.35, p)], colour.filled())
        }))?;
        if top <= 0.0 {
            let middle = ((x.lo + x.hi) / 2.0, y.hi / 2.0);
            let style = anchored(DESC_PX, HPos::Center, VPos::Center).color(&MUTED);
            label_at(&mut chart, middle, (0, 0), none.into(), style)?;
        } else if probability.len() <= 20 {
            for (t, &p) in probability.iter().enumerate().filter(|(_, p)| **p > 0.0) {
                let style = anchored(VALUE_PX, HPos::Center, VPos::Bottom).color(&MUTED);
                label_at(&mut chart, (t as f64, p), (0, -3), small_percent(p), style)?;
            }
        }
        Ok(())
    })
}
