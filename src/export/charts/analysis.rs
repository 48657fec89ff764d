//! The charts of the analysis pages: line charts over a swept parameter, heat maps of a
//! grid, tornado charts and side-by-side comparisons.

use super::*;

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
pub(super) fn band_points(l: &Line) -> Vec<(usize, f64, f64)> {
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
pub(super) fn draw_line_with_band(
    chart: &mut Chart,
    x: &[f64],
    l: &Line,
    color: RGBColor,
) -> DrawResult {
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
pub(super) fn draw_cells(area: &Area, h: &HeatMap, scale: &ColourScale) -> DrawResult {
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
pub(super) fn draw_colour_bar(area: &Area, h: &HeatMap, scale: &ColourScale) -> DrawResult {
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
pub(super) struct ColourScale {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) diverging: bool,
}

/// ColorBrewer RdBu (red, white, blue) and YlGnBu stops.
pub(super) const DIVERGING: [RGBColor; 5] = [
    RGBColor(0xB2, 0x18, 0x2B),
    RGBColor(0xEF, 0x8A, 0x62),
    RGBColor(0xF7, 0xF7, 0xF7),
    RGBColor(0x67, 0xA9, 0xCF),
    RGBColor(0x21, 0x66, 0xAC),
];
pub(super) const SEQUENTIAL: [RGBColor; 5] = [
    RGBColor(0xFF, 0xFF, 0xCC),
    RGBColor(0xA1, 0xDA, 0xB4),
    RGBColor(0x41, 0xB6, 0xC4),
    RGBColor(0x2C, 0x7F, 0xB8),
    RGBColor(0x25, 0x34, 0x94),
];
pub(super) const MISSING: RGBColor = RGBColor(0xCC, 0xCC, 0xCC);

impl ColourScale {
    pub(super) fn of(values: &[f64]) -> ColourScale {
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

    pub(super) fn colour(&self, v: f64) -> RGBColor {
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
pub(super) fn interpolate(stops: &[RGBColor], f: f64) -> RGBColor {
    let pos = f * (stops.len() - 1) as f64;
    let i = (pos.floor() as usize).min(stops.len() - 2);
    let t = pos - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Relative luminance (0 black .. 1 white), to choose dark or light text on a cell.
pub(super) fn luminance(c: RGBColor) -> f64 {
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
pub(super) fn swing_size(s: &Swing) -> f64 {
    let d = (s.high - s.low).abs();
    if d.is_finite() { d } else { -1.0 }
}

/// `extent`'s result widened to a usable range (0..1 if there were no values).
pub(super) fn widen_pair(e: Option<(f64, f64)>) -> (f64, f64) {
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

pub(super) const PANEL_HEAD_H: u32 = 26;

/// One panel of a comparison: its heading, then bars for one metric.
pub(super) fn draw_panel(area: &Area, m: &Metric, names: Vec<String>) -> DrawResult {
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

/// The sets of an agreement analysis on the trade-off between the worst partner's
/// P(worse off) (across) and the consortium's mean NPV (up).
#[derive(Debug, Clone, Copy)]
pub struct Frontier<'a> {
    pub title: &'a str,
    /// Each set's worst partner's P(worse off).
    pub worst: &'a [f64],
    /// Each set's consortium mean NPV.
    pub mean_npv: &'a [f64],
    /// Each set's label (its number), shown beside the frontier's points.
    pub labels: &'a [String],
    /// Whether each set meets the limits.
    pub meets: &'a [bool],
    /// Whether each set is on the frontier.
    pub on_frontier: &'a [bool],
    /// The limit on P(worse off), drawn as a dashed line, if one was given.
    pub limit: Option<f64>,
    pub currency: &'a str,
}

/// Every set as a point, those within the limits filled, the frontier joined by a line
/// and labelled with the sets' numbers, and the limit on P(worse off) as a dashed line.
pub fn frontier(f: &Frontier) -> String {
    let mut legend = vec![
        key("Set within the limits", Swatch::Fill(BLUE.mix(1.0))),
        key("Set outside the limits", Swatch::Fill(MUTED.mix(0.5))),
        key("Trade-off frontier", Swatch::Line(ORANGE)),
    ];
    if f.limit.is_some() {
        legend.push(key("Limit on P(worse off)", Swatch::Dashed(VERMILION)));
    }
    render((WIDTH, HEIGHT), f.title, &legend, |area| {
        let n = f.worst.len();
        check_lengths("mean NPVs", n, f.mean_npv.len())?;
        check_lengths("labels", n, f.labels.len())?;
        check_lengths("limit flags", n, f.meets.len())?;
        check_lengths("frontier flags", n, f.on_frontier.len())?;
        let xs = f.worst.iter().copied().chain(f.limit);
        let (xlo, xhi) = extent(xs).unwrap_or((0.0, 1.0));
        let (ylo, yhi) = extent(f.mean_npv.iter().copied()).unwrap_or((0.0, 1.0));
        let x = Axis::values(xlo.min(0.0), xhi, 8, Unit::Percent);
        let y = Axis::values(ylo, yhi, 6, Unit::Money(f.currency));
        let mut chart = chart2d(
            area,
            &Frame2d {
                x: &x,
                y: &y,
                x_desc: format!("Worst partner's P(worse off){}", Unit::Percent.suffix()),
                y_desc: format!("Consortium mean NPV{}", Unit::Money(f.currency).suffix()),
                x_grid: true,
                y_grid: true,
                right: 0,
            },
        )?;
        if let Some(limit) = f.limit {
            dashed(&mut chart, (limit, y.lo), (limit, y.hi), VERMILION)?;
        }
        let points = |meets: bool| {
            (0..n)
                .filter(move |&i| f.meets[i] == meets)
                .map(|i| (f.worst[i], f.mean_npv[i]))
        };
        chart.draw_series(points(false).map(|p| Circle::new(p, 4, MUTED.stroke_width(1))))?;
        chart.draw_series(points(true).map(|p| Circle::new(p, 4, BLUE.filled())))?;
        let mut line: Vec<(f64, f64)> = (0..n)
            .filter(|&i| f.on_frontier[i])
            .map(|i| (f.worst[i], f.mean_npv[i]))
            .collect();
        line.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        chart.draw_series(LineSeries::new(line, ORANGE.stroke_width(2)))?;
        for i in (0..n).filter(|&i| f.on_frontier[i]) {
            label_at(
                &mut chart,
                (f.worst[i], f.mean_npv[i]),
                (6, -6),
                f.labels[i].clone(),
                anchored(VALUE_PX, HPos::Left, VPos::Bottom).color(&INK),
            )?;
        }
        Ok(())
    })
}
