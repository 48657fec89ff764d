//! The frame every chart shares: text sizing, the canvas with its title and legend, the
//! cartesian plot with its axes and grid, and small drawing helpers (reference lines,
//! value labels, category names).

use super::*;

/// Estimated width of `text` at `px` pixels: the SVG backend cannot measure it.
pub(super) fn text_width(text: &str, px: f64) -> u32 {
    (text.chars().count() as f64 * px * CHAR_EM).ceil() as u32
}

/// `text` cut to at most `max_px` wide, ending in "…" if cut.
pub(super) fn fit(text: &str, max_px: u32, px: f64) -> String {
    let max_chars = ((max_px as f64) / (px * CHAR_EM)).floor().max(2.0) as usize;
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push('…');
    cut
}

/// Text in the chart font at `px` pixels (plotters writes font-size = size / 1.24).
pub(super) fn font(px: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, px * 1.24).into_font()).color(&INK)
}

/// `font` with an anchor: which side and height of the text sits at its position.
pub(super) fn anchored(px: f64, h: HPos, v: VPos) -> TextStyle<'static> {
    font(px).pos(Pos::new(h, v))
}

/// What a legend entry shows next to its label.
#[derive(Debug, Clone, Copy)]
pub(super) enum Swatch {
    /// A filled box (bars, bands).
    Fill(RGBAColor),
    /// A solid line.
    Line(RGBColor),
    /// A dashed line (reference lines such as break-even).
    Dashed(RGBColor),
}

/// One legend entry.
pub(super) struct Key {
    pub(super) label: String,
    pub(super) swatch: Swatch,
}

pub(super) fn key(label: impl Into<String>, swatch: Swatch) -> Key {
    Key {
        label: label.into(),
        swatch,
    }
}

/// Renders one chart: a white canvas with the title, the legend rows, then whatever
/// `plot` draws in the rest. Falls back to a message chart if drawing fails.
pub(super) fn render(
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
pub(super) fn failure(size: (u32, u32), title: &str, why: &str) -> String {
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
pub(super) fn frame<'a>(root: &Area<'a>, title: &str, legend: &[Key]) -> DrawResult<Area<'a>> {
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

pub(super) const SWATCH_W: i32 = 22;

/// Width one legend entry takes, spacing included.
pub(super) fn key_width(k: &Key) -> u32 {
    SWATCH_W as u32 + 8 + text_width(&k.label, LEGEND_PX) + 18
}

/// Legend entries laid out in rows no wider than `width`.
pub(super) fn legend_rows(legend: &[Key], width: u32) -> Vec<Vec<&Key>> {
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
pub(super) fn draw_key(area: &Area, k: &Key, x: i32, y: i32) -> DrawResult {
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
pub(super) struct Frame2d<'x> {
    pub(super) x: &'x Axis<'x>,
    pub(super) y: &'x Axis<'x>,
    pub(super) x_desc: String,
    pub(super) y_desc: String,
    /// Vertical grid lines at the x ticks.
    pub(super) x_grid: bool,
    /// Horizontal grid lines at the y ticks.
    pub(super) y_grid: bool,
    /// Room on the right for a secondary axis (0 for none).
    pub(super) right: u32,
}

/// Pixels left of the plot for y tick labels and the y axis title.
pub(super) fn y_area(axis: &Axis, desc: &str) -> u32 {
    let title = if desc.is_empty() {
        0
    } else {
        DESC_PX as u32 + 12
    };
    axis.label_width() + 14 + title
}

/// Pixels below the plot for x tick labels and the x axis title.
pub(super) fn x_area(desc: &str) -> u32 {
    let title = if desc.is_empty() {
        0
    } else {
        DESC_PX as u32 + 12
    };
    TICK_PX as u32 + 16 + title
}

/// Builds the cartesian plot on `area` and draws its axes, ticks and grid.
pub(super) fn chart2d<'a, 'b>(area: &'a Area<'b>, f: &Frame2d) -> DrawResult<Chart<'a, 'b>> {
    let mut chart = build2d(area, f)?;
    draw_axes(&mut chart, f)?;
    Ok(chart)
}

/// The cartesian plot on `area`, with room for its labels, before anything is drawn.
pub(super) fn build2d<'a, 'b>(area: &'a Area<'b>, f: &Frame2d) -> DrawResult<Chart<'a, 'b>> {
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
pub(super) fn draw_axes(chart: &mut Chart, f: &Frame2d) -> DrawResult {
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
pub(super) fn dashed(
    chart: &mut Chart,
    from: (f64, f64),
    to: (f64, f64),
    color: RGBColor,
) -> DrawResult {
    chart.draw_series(DashedLineSeries::new(
        [from, to],
        6,
        4,
        color.stroke_width(2),
    ))?;
    Ok(())
}

/// A text label at a point in chart coordinates, shifted by `(dx, dy)` pixels.
pub(super) fn label_at(
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
pub(super) fn bar_end_label(
    chart: &mut Chart,
    value: f64,
    base: f64,
    y: f64,
    text: String,
) -> DrawResult {
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
pub(super) fn label_room(span: f64, label_px: u32, plot_px: u32) -> f64 {
    let frac = (label_px as f64 / plot_px.max(1) as f64).min(0.45);
    span * frac / (1.0 - 2.0 * frac)
}

/// One end of a bar chart's value range (bars start at zero), moved outwards by `room`
/// for the value labels if bars reach that side of zero.
pub(super) fn bar_pad(end: f64, room: f64) -> f64 {
    if end != 0.0 { end + room } else { end }
}

/// Category names cut to fit `max_px`, in axis order (first name at the top).
pub(super) fn names_top_down(names: &[&str], max_px: u32) -> Vec<String> {
    names
        .iter()
        .rev()
        .map(|n| fit(n, max_px, TICK_PX))
        .collect()
}

/// Widest of the given names in tick font, capped at `cap` pixels.
pub(super) fn names_width(names: &[&str], cap: u32) -> u32 {
    names
        .iter()
        .map(|n| text_width(n, TICK_PX))
        .max()
        .unwrap_or(0)
        .min(cap)
}

/// Height of a chart with `rows` category rows of `row_px` pixels each and
/// `legend_rows` rows of legend.
pub(super) fn rows_height(rows: usize, row_px: u32, legend_rows: u32) -> u32 {
    let fixed = TITLE_H + legend_rows * (LEGEND_ROW_H + 6) + x_area("x") + 20;
    fixed + row_px * rows.max(1) as u32
}

/// An error if two inputs that must match in length do not.
pub(super) fn check_lengths(what: &str, expected: usize, got: usize) -> DrawResult {
    if expected == got {
        Ok(())
    } else {
        Err(format!("{got} {what} for {expected} categories").into())
    }
}
