//! Every trial's results, stored as columns.
//!
//! Scalars (NPV, event counts) are one entry per trial in trial order. Per-partner NPVs
//! and per-year cumulative savings are rows, one per partner or year, each holding every
//! trial: statistics then rearrange a row in place instead of copying it, which is what lets
//! a 10-million-trial run stay under 1 GiB. The last year's cumulative saving is the
//! consortium NPV itself, so it is not stored twice.
//!
//! Each partner's yearly saving S_i,t (the cash by year of a medium-term financial
//! plan) is kept too, for the first [`cash_trial_cap`] trials of a run only: one row per
//! partner and year holds P x H values a trial, too many to keep for ten million trials.

use crate::engine::trial::{NO_YEAR, Scratch, TrialSummary};
use crate::lhs::Sampling;
use crate::plan::Plan;

/// Marks "never" in the u8 year fields of [`TrialEvents`] (horizons are at most 100).
pub const NO_YEAR_U8: u8 = u8::MAX;

/// Above this many bytes of double-precision rows, rows are stored in single precision.
const DOUBLE_ROWS_LIMIT: u64 = 512 << 20;

/// The largest discount factor single-precision rows allow: with money up to the
/// loader's 1e15, discounted sums stay far inside f32's range.
const MAX_SINGLE_DISCOUNT: f64 = 1e6;

/// The most bytes the partners' yearly savings ([`Outcomes::cash`]) may take: 64 MiB,
/// enough for 100,000 trials of an 8-partner, 10-year scenario, and small enough that ten
/// million trials of it stay under 1 GiB.
const CASH_LIMIT: u64 = 64 << 20;

/// How many trials, counted from trial 0 of a run, keep their partners' yearly savings:
/// as many as fit in 64 MiB at 8 bytes a partner-year (at least one). It depends only on
/// the scenario's shape, so whether trial k is kept is the same in a whole run, a shard
/// and a block of a run to a precision target.
pub fn cash_trial_cap(plan: &Plan) -> u64 {
    let per_trial = (plan.partners * plan.horizon * 8) as u64;
    (CASH_LIMIT / per_trial).max(1)
}

/// How many of trials `first_trial .. first_trial + trials` keep their yearly savings:
/// those below [`cash_trial_cap`], a prefix of the range.
pub fn cash_trials(plan: &Plan, first_trial: u64, trials: usize) -> usize {
    cash_trial_cap(plan)
        .saturating_sub(first_trial)
        .min(trials as u64) as usize
}

/// Bytes the yearly savings of a run of `trials` trials take.
pub fn cash_bytes(plan: &Plan, trials: u64) -> u64 {
    trials.min(cash_trial_cap(plan)) * (plan.partners * plan.horizon * 8) as u64
}

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
    /// How the trials' inputs were sampled (the plan's), which decides how a report
    /// estimates standard errors.
    pub sampling: Sampling,
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
    /// How many of these trials (the first ones) keep their partners' yearly savings
    /// (see [`cash_trials`]).
    pub cash_trials: usize,
    /// Partner i's saving S_i,t in year t, undiscounted, one row per partner and year of
    /// `cash_trials` values: `cash[(i * horizon + t) * cash_trials + k]`. Always double
    /// precision.
    pub cash: Vec<f64>,
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
    /// Outcomes of `trials` trials, all zero, ready to be filled, keeping the yearly
    /// savings of those among the run's first trials (see [`cash_trials`]).
    pub fn zeroed(plan: &Plan, first_trial: u64, trials: usize, precision: Precision) -> Outcomes {
        Outcomes::zeroed_keeping(plan, first_trial, trials, precision, true)
    }

    /// Like [`Outcomes::zeroed`]; without `keep_cash`, no trial keeps its yearly savings
    /// (for an analysis, which reports none).
    pub fn zeroed_keeping(
        plan: &Plan,
        first_trial: u64,
        trials: usize,
        precision: Precision,
        keep_cash: bool,
    ) -> Outcomes {
        let (p, h) = (plan.partners, plan.horizon);
        let kept = if keep_cash {
            cash_trials(plan, first_trial, trials)
        } else {
            0
        };
        Outcomes {
            trials,
            partners: p,
            horizon: h,
            first_trial,
            sampling: plan.sampling,
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
            cash_trials: kept,
            cash: vec![0.0; kept * p * h],
        }
    }

    /// Partner `i`'s yearly savings in year `t`, one per trial kept (see
    /// [`Outcomes::cash_trials`]).
    pub fn cash_row(&self, i: usize, t: usize) -> &[f64] {
        let m = self.cash_trials;
        &self.cash[(i * self.horizon + t) * m..][..m]
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
        let sampling = first.sampling;
        let lens: Vec<usize> = parts.iter().map(|p| p.trials).collect();
        let trials: usize = lens.iter().sum();
        let mut next = first_trial;
        let mut npv = Vec::with_capacity(trials);
        let mut events = Vec::with_capacity(trials);
        let mut gave_notice = Vec::with_capacity(trials * notice_bytes(partners));
        let mut delay_years = Vec::new();
        let (mut partner_rows, mut year_rows) = (Vec::new(), Vec::new());
        let cash_lens: Vec<usize> = parts.iter().map(|p| p.cash_trials).collect();
        let mut cash_rows = Vec::new();
        for part in parts {
            assert_eq!(part.first_trial, next, "parts must be consecutive");
            assert_eq!((part.partners, part.horizon), (partners, horizon));
            assert_eq!(part.sampling, sampling, "parts must be sampled alike");
            next += part.trials as u64;
            npv.extend_from_slice(&part.npv);
            events.extend_from_slice(&part.events);
            gave_notice.extend_from_slice(&part.gave_notice);
            delay_years.extend_from_slice(&part.delay_years);
            partner_rows.push(part.partner_npv);
            year_rows.push(part.cumulative);
            cash_rows.push(Column::F64(part.cash));
        }
        // The kept trials are a prefix of the run, so the parts' kept trials, in order,
        // are the joined run's.
        let cash = match join_rows(cash_rows, &cash_lens, partners * horizon) {
            Column::F64(v) => v,
            Column::F32(_) => unreachable!("yearly savings are kept in double precision"),
        };
        Outcomes {
            trials,
            partners,
            horizon,
            first_trial,
            sampling,
            npv,
            events,
            partner_npv: join_rows(partner_rows, &lens, partners),
            cumulative: join_rows(year_rows, &lens, horizon - 1),
            gave_notice,
            delay_years,
            cash_trials: cash_lens.iter().sum(),
            cash,
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
        let mut cash_rows = split_cash(&mut self.cash, self.cash_trials, chunk, chunks);
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
                cash_rows: std::mem::take(&mut cash_rows[c]),
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

/// Cuts each row of the yearly savings (rows `kept` long, the run's first trials) into
/// pieces of `chunk` trials, grouped by chunk: chunks past the kept trials get none.
fn split_cash(cash: &mut [f64], kept: usize, chunk: usize, chunks: usize) -> Vec<Vec<&mut [f64]>> {
    let mut per_chunk: Vec<Vec<&mut [f64]>> = (0..chunks).map(|_| Vec::new()).collect();
    if kept > 0 {
        for row in cash.chunks_mut(kept) {
            for (c, piece) in row.chunks_mut(chunk).enumerate() {
                per_chunk[c].push(piece);
            }
        }
    }
    per_chunk
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
    /// Pieces of the yearly savings' rows (partner-major, then year), if this chunk
    /// holds kept trials; each piece covers the chunk's first kept trials.
    cash_rows: Vec<&'a mut [f64]>,
}

/// The observer that keeps a trial's yearly savings: writes each partner's S_i,t into
/// its row of [`Outcomes::cash`] as the year step shows it.
pub(crate) struct CashRecorder<'v, 'a> {
    rows: &'v mut [&'a mut [f64]],
    horizon: usize,
    j: usize,
}

impl crate::engine::Observer for CashRecorder<'_, '_> {
    #[inline]
    fn year(&mut self, view: &crate::engine::YearView<'_>) {
        let (h, j, t) = (self.horizon, self.j, view.t);
        for (i, p) in view.partners.iter().enumerate() {
            self.rows[i * h + t][j] = p.saving;
        }
    }
}

impl<'a> ChunkView<'a> {
    pub fn len(&self) -> usize {
        self.npv.len()
    }

    /// The observer that keeps the `j`th trial's yearly savings, if that trial is kept.
    #[inline]
    pub fn cash_recorder(&mut self, j: usize, horizon: usize) -> Option<CashRecorder<'_, 'a>> {
        match self.cash_rows.first() {
            Some(piece) if j < piece.len() => Some(CashRecorder {
                rows: &mut self.cash_rows,
                horizon,
                j,
            }),
            _ => None,
        }
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
