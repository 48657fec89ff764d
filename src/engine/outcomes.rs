//! Every trial's results, stored as columns.
//!
//! Scalars (NPV, event counts) are one entry per trial in trial order. Per-partner NPVs
//! and per-year cumulative savings are rows, one per partner or year, each holding every
//! trial: statistics then rearrange a row in place instead of copying it, which is what lets
//! a 10-million-trial run stay under 1 GiB. The last year's cumulative saving is the
//! consortium NPV itself, so it is not stored twice.

use crate::engine::trial::{NO_YEAR, Scratch, TrialSummary};
use crate::plan::Plan;

/// Marks "never" in the u8 year fields of [`TrialEvents`] (horizons are at most 100).
pub const NO_YEAR_U8: u8 = u8::MAX;

/// Above this many bytes of double-precision rows, rows are stored in single precision.
const DOUBLE_ROWS_LIMIT: u64 = 512 << 20;

/// The largest discount factor single-precision rows allow: with money up to the
/// loader's 1e15, discounted sums stay far inside f32's range.
const MAX_SINGLE_DISCOUNT: f64 = 1e6;

/// How per-partner and per-year rows are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// f64: figures exact to the penny.
    Double,
    /// f32: relative error below 6e-8 (under a pound on £10m). Used for runs whose rows
    /// would take more than 512 MiB in double precision (unless discount factors pass
    /// 1e6); the consortium NPV and everything derived from it stay in double precision.
    Single,
}

impl Precision {
    /// The precision of a run of `total_trials`, chosen from the run's size alone (never
    /// from the machine), so that a report is the same everywhere and a shard stores its
    /// rows as the whole run would.
    pub fn for_run(total_trials: u64, plan: &Plan) -> Precision {
        let rows = (plan.partners + plan.horizon - 1) as u64;
        // Single precision tops out near 3.4e38: steep negative discount rates (which
        // make later years' factors enormous) keep double precision whatever the size.
        let tame = plan.discount.iter().all(|&df| df <= MAX_SINGLE_DISCOUNT);
        if tame && total_trials.saturating_mul(rows).saturating_mul(8) > DOUBLE_ROWS_LIMIT {
            Precision::Single
        } else {
            Precision::Double
        }
    }

    /// Bytes per stored value.
    pub fn bytes(self) -> usize {
        match self {
            Precision::Double => 8,
            Precision::Single => 4,
        }
    }
}

/// A row-major table of figures at some [`Precision`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    F64(Vec<f64>),
    F32(Vec<f32>),
}

impl Column {
    fn zeroed(precision: Precision, len: usize) -> Column {
        match precision {
            Precision::Double => Column::F64(vec![0.0; len]),
            Precision::Single => Column::F32(vec![0.0; len]),
        }
    }

    pub fn precision(&self) -> Precision {
        match self {
            Column::F64(_) => Precision::Double,
            Column::F32(_) => Precision::Single,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Column::F64(v) => v.len(),
            Column::F32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> f64 {
        match self {
            Column::F64(v) => v[i],
            Column::F32(v) => f64::from(v[i]),
        }
    }
}

/// A trial's event counts and years, packed small.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrialEvents {
    pub withdrawals: u32,
    pub rejoins: u32,
    /// First year of non-negative cumulative saving, or [`NO_YEAR_U8`].
    pub payback_year: u8,
    /// Year a collapse takes effect, or [`NO_YEAR_U8`].
    pub collapse_year: u8,
    pub disputes: u8,
    pub dispute_years: u8,
}

fn year_u8(year: u16) -> u8 {
    if year == NO_YEAR {
        NO_YEAR_U8
    } else {
        year as u8
    }
}

fn year_u16(year: u8) -> u16 {
    if year == NO_YEAR_U8 {
        NO_YEAR
    } else {
        u16::from(year)
    }
}

impl TrialEvents {
    fn from_summary(s: &TrialSummary) -> TrialEvents {
        TrialEvents {
            withdrawals: s.withdrawals,
            rejoins: s.rejoins,
            payback_year: year_u8(s.payback_year),
            collapse_year: year_u8(s.collapse_year),
            disputes: s.disputes as u8,
            dispute_years: s.dispute_years as u8,
        }
    }
}

/// Every trial's results.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcomes {
    pub trials: usize,
    pub partners: usize,
    pub horizon: usize,
    /// Index of the first trial (0 unless this is a shard of a larger run).
    pub first_trial: u64,
    /// Consortium NPV by trial.
    pub npv: Vec<f64>,
    pub events: Vec<TrialEvents>,
    /// Partner NPVs, one row per partner: `partner_npv[i * trials + k]`.
    pub partner_npv: Column,
    /// Cumulative discounted saving, one row per year but the last (which is `npv`):
    /// `cumulative[t * trials + k]`.
    pub cumulative: Column,
    /// Bit i of byte `k * notice_bytes + i / 8` is set if partner i gave notice in trial k.
    pub gave_notice: Vec<u8>,
    /// Each trial's go-live delay d, for a scenario whose go-live may slip; empty (every
    /// d is 0) otherwise, so that a scenario without a delay stores what it did before.
    pub delay_years: Vec<u8>,
}

/// Bytes of notice flags per trial.
pub fn notice_bytes(partners: usize) -> usize {
    partners.div_ceil(8)
}

/// Memory one trial takes in [`Outcomes`] at `precision`, used to refuse a run that
/// cannot fit before it starts.
pub fn bytes_per_trial(plan: &Plan, precision: Precision) -> u64 {
    let rows = plan.partners + plan.horizon - 1;
    (8 + std::mem::size_of::<TrialEvents>()
        + notice_bytes(plan.partners)
        + usize::from(plan.may_be_delayed)
        + rows * precision.bytes()) as u64
}

impl Outcomes {
    /// Outcomes of `trials` trials, all zero, ready to be filled.
    pub fn zeroed(plan: &Plan, first_trial: u64, trials: usize, precision: Precision) -> Outcomes {
        let (p, h) = (plan.partners, plan.horizon);
        Outcomes {
            trials,
            partners: p,
            horizon: h,
            first_trial,
            npv: vec![0.0; trials],
            events: vec![TrialEvents::default(); trials],
            partner_npv: Column::zeroed(precision, trials * p),
            cumulative: Column::zeroed(precision, trials * (h - 1)),
            gave_notice: vec![0; trials * notice_bytes(p)],
            delay_years: if plan.may_be_delayed {
                vec![0; trials]
            } else {
                Vec::new()
            },
        }
    }

    /// Trial `k`'s go-live delay d.
    pub fn delay(&self, k: usize) -> u16 {
        self.delay_years.get(k).map_or(0, |&d| u16::from(d))
    }

    pub fn precision(&self) -> Precision {
        self.partner_npv.precision()
    }

    /// Trial `k`'s scalar results, as [`crate::engine::simulate`] returned them.
    pub fn summary(&self, k: usize) -> TrialSummary {
        let e = &self.events[k];
        TrialSummary {
            npv: self.npv[k],
            payback_year: year_u16(e.payback_year),
            collapse_year: year_u16(e.collapse_year),
            withdrawals: e.withdrawals,
            rejoins: e.rejoins,
            disputes: u32::from(e.disputes),
            dispute_years: u32::from(e.dispute_years),
            delay_years: self.delay(k),
        }
    }

    /// Partner `i`'s NPV in trial `k`.
    pub fn partner_npv(&self, k: usize, i: usize) -> f64 {
        self.partner_npv.get(i * self.trials + k)
    }

    /// Every partner's NPV in trial `k`.
    pub fn partner_npvs(&self, k: usize) -> Vec<f64> {
        (0..self.partners).map(|i| self.partner_npv(k, i)).collect()
    }

    /// Cumulative discounted saving through year `t` in trial `k`.
    pub fn cumulative(&self, k: usize, t: usize) -> f64 {
        if t + 1 == self.horizon {
            self.npv[k]
        } else {
            self.cumulative.get(t * self.trials + k)
        }
    }

    /// Whether partner `i` gave notice in trial `k`.
    pub fn gave_notice(&self, k: usize, i: usize) -> bool {
        self.gave_notice[k * notice_bytes(self.partners) + i / 8] & (1 << (i % 8)) != 0
    }

    /// Joins outcomes of consecutive trial ranges (shards, or a converging run's blocks)
    /// into one, in the given order. Each part's columns are freed as soon as they are
    /// copied, so the join needs the result's memory plus one part's rows, not twice the
    /// run's.
    ///
    /// # Panics
    /// If the parts are not consecutive or differ in shape or precision; callers check.
    pub fn join(parts: Vec<Outcomes>) -> Outcomes {
        let first = parts.first().expect("at least one part");
        let (partners, horizon, first_trial) = (first.partners, first.horizon, first.first_trial);
        let lens: Vec<usize> = parts.iter().map(|p| p.trials).collect();
        let trials: usize = lens.iter().sum();
        let mut next = first_trial;
        let mut npv = Vec::with_capacity(trials);
        let mut events = Vec::with_capacity(trials);
        let mut gave_notice = Vec::with_capacity(trials * notice_bytes(partners));
        let mut delay_years = Vec::new();
        let (mut partner_rows, mut year_rows) = (Vec::new(), Vec::new());
        for part in parts {
            assert_eq!(part.first_trial, next, "parts must be consecutive");
            assert_eq!((part.partners, part.horizon), (partners, horizon));
            next += part.trials as u64;
            npv.extend_from_slice(&part.npv);
            events.extend_from_slice(&part.events);
            gave_notice.extend_from_slice(&part.gave_notice);
            delay_years.extend_from_slice(&part.delay_years);
            partner_rows.push(part.partner_npv);
            year_rows.push(part.cumulative);
        }
        Outcomes {
            trials,
            partners,
            horizon,
            first_trial,
            npv,
            events,
            partner_npv: join_rows(partner_rows, &lens, partners),
            cumulative: join_rows(year_rows, &lens, horizon - 1),
            gave_notice,
            delay_years,
        }
    }

    /// Splits the columns into disjoint per-chunk views for the workers.
    pub(crate) fn chunk_views(&mut self, chunk: usize) -> Vec<ChunkView<'_>> {
        let n = self.trials;
        if n == 0 {
            return Vec::new();
        }
        let chunks = n.div_ceil(chunk);
        let nb = notice_bytes(self.partners);
        let mut partner_rows = split_rows(&mut self.partner_npv, n, chunk, chunks);
        let mut year_rows = split_rows(&mut self.cumulative, n, chunk, chunks);
        // Empty pieces when no delay is stored.
        let mut delays: Vec<&mut [u8]> = self.delay_years.chunks_mut(chunk).collect();
        delays.resize_with(chunks, Default::default);
        self.npv
            .chunks_mut(chunk)
            .zip(self.events.chunks_mut(chunk))
            .zip(self.gave_notice.chunks_mut(chunk * nb))
            .zip(delays)
            .enumerate()
            .map(|(c, (((npv, events), notice), delay))| ChunkView {
                start: c * chunk,
                npv,
                events,
                notice,
                delay,
                notice_bytes: nb,
                partner_rows: std::mem::take(&mut partner_rows[c]),
                year_rows: std::mem::take(&mut year_rows[c]),
            })
            .collect()
    }
}

/// Joins the row columns of consecutive parts (`lens[b]` trials and `rows` rows each,
/// all at one precision), dropping each part's column once it is copied.
fn join_rows(parts: Vec<Column>, lens: &[usize], rows: usize) -> Column {
    fn gather<T: Copy + Default>(
        parts: impl Iterator<Item = Vec<T>>,
        lens: &[usize],
        rows: usize,
    ) -> Vec<T> {
        let n: usize = lens.iter().sum();
        let mut out = vec![T::default(); n * rows];
        let mut offset = 0;
        for (part, &len) in parts.zip(lens) {
            for r in 0..rows {
                out[r * n + offset..][..len].copy_from_slice(&part[r * len..][..len]);
            }
            offset += len;
        }
        out
    }
    const MIXED: &str = "parts of one run share a precision";
    match parts[0].precision() {
        Precision::Double => Column::F64(gather(
            parts.into_iter().map(|c| match c {
                Column::F64(v) => v,
                Column::F32(_) => panic!("{MIXED}"),
            }),
            lens,
            rows,
        )),
        Precision::Single => Column::F32(gather(
            parts.into_iter().map(|c| match c {
                Column::F32(v) => v,
                Column::F64(_) => panic!("{MIXED}"),
            }),
            lens,
            rows,
        )),
    }
}

/// Mutable pieces of rows, one per row, covering one chunk's trials.
pub(crate) enum RowPieces<'a> {
    F64(Vec<&'a mut [f64]>),
    F32(Vec<&'a mut [f32]>),
}

impl Default for RowPieces<'_> {
    fn default() -> Self {
        RowPieces::F64(Vec::new())
    }
}

impl RowPieces<'_> {
    #[inline]
    fn store(&mut self, j: usize, values: impl Iterator<Item = f64>) {
        match self {
            RowPieces::F64(rows) => rows.iter_mut().zip(values).for_each(|(r, v)| r[j] = v),
            RowPieces::F32(rows) => rows
                .iter_mut()
                .zip(values)
                .for_each(|(r, v)| r[j] = v as f32),
        }
    }
}

/// Cuts each row of a column (rows `n` long) into chunk pieces, grouped by chunk.
fn split_rows(column: &mut Column, n: usize, chunk: usize, chunks: usize) -> Vec<RowPieces<'_>> {
    fn split<T>(data: &mut [T], n: usize, chunk: usize, chunks: usize) -> Vec<Vec<&mut [T]>> {
        let mut per_chunk: Vec<Vec<&mut [T]>> = (0..chunks).map(|_| Vec::new()).collect();
        for row in data.chunks_mut(n) {
            for (c, piece) in row.chunks_mut(chunk).enumerate() {
                per_chunk[c].push(piece);
            }
        }
        per_chunk
    }
    match column {
        Column::F64(v) => split(v, n, chunk, chunks)
            .into_iter()
            .map(RowPieces::F64)
            .collect(),
        Column::F32(v) => split(v, n, chunk, chunks)
            .into_iter()
            .map(RowPieces::F32)
            .collect(),
    }
}

/// The part of [`Outcomes`] that one chunk of trials writes.
pub(crate) struct ChunkView<'a> {
    /// Index (within the outcomes) of the chunk's first trial.
    pub start: usize,
    npv: &'a mut [f64],
    events: &'a mut [TrialEvents],
    notice: &'a mut [u8],
    /// Empty unless the run stores delays.
    delay: &'a mut [u8],
    notice_bytes: usize,
    partner_rows: RowPieces<'a>,
    year_rows: RowPieces<'a>,
}

impl ChunkView<'_> {
    pub fn len(&self) -> usize {
        self.npv.len()
    }

    /// Stores the `j`th trial of the chunk from its summary and the scratch it left.
    #[inline]
    pub fn store(&mut self, j: usize, summary: &TrialSummary, s: &Scratch) {
        self.npv[j] = summary.npv;
        self.events[j] = TrialEvents::from_summary(summary);
        if let Some(d) = self.delay.get_mut(j) {
            // d <= H <= 100.
            *d = summary.delay_years as u8;
        }
        // Each byte is assembled and written whole, so the slot needs no clearing first
        // (a `fill` here was a call to memset per trial).
        let flags = &mut self.notice[j * self.notice_bytes..(j + 1) * self.notice_bytes];
        for (byte, partners) in flags.iter_mut().zip(s.partners.chunks(8)) {
            *byte = partners
                .iter()
                .enumerate()
                .fold(0, |b, (i, p)| b | (u8::from(p.gave_notice) << i));
        }
        self.partner_rows.store(j, s.partners.iter().map(|p| p.npv));
        let years = s.cumulative.len() - 1;
        self.year_rows
            .store(j, s.cumulative[..years].iter().copied());
    }
}
