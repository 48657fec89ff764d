//! Axes: value, year and category axes, their round ticks and tick labels, and the
//! plotters coordinate that keeps those ticks.

use super::*;

/// One numeric or categorical axis: its range, where its ticks go, how they read.
pub(super) struct Axis<'a> {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
    pub(super) text: TickText<'a>,
}

/// How an axis labels its ticks.
pub(super) enum TickText<'a> {
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
    pub(super) fn values(lo: f64, hi: f64, target: usize, unit: Unit<'a>) -> Axis<'a> {
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
    pub(super) fn years(horizon: usize, pad: f64) -> Axis<'a> {
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
    pub(super) fn names(names: Vec<String>) -> Axis<'a> {
        let n = names.len().max(1);
        Axis {
            lo: -0.5,
            hi: n as f64 - 0.5,
            ticks: (0..names.len()).map(|i| i as f64).collect(),
            text: TickText::Names(names),
        }
    }

    /// The label of the tick at `v`.
    pub(super) fn label(&self, v: f64) -> String {
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
    pub(super) fn label_width(&self) -> u32 {
        self.ticks
            .iter()
            .map(|&t| text_width(&self.label(t), TICK_PX))
            .max()
            .unwrap_or(0)
    }

    /// The plotters coordinate of this axis, with its ticks as key points.
    pub(super) fn coord(&self) -> Ticked {
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
pub(super) struct Ticked {
    pub(super) inner: RangedCoordf64,
    pub(super) ticks: Vec<f64>,
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
pub(super) fn nice_ticks(lo: f64, hi: f64, target: usize) -> (f64, f64, Vec<f64>) {
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
pub(super) fn widen(lo: f64, hi: f64) -> (f64, f64) {
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
pub(super) fn decimals_for(step: f64) -> usize {
    (0..6)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(6)
}

/// Smallest and largest finite values, if any.
pub(super) fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}
