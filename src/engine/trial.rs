//! One trial, year by year: the only code that knows docs/model.md's step order.
//!
//! [`simulate`] is generic over an [`Observer`] so that `trace` replays a trial through the
//! very same code as a full run: the no-op observer of a run compiles away, the recording
//! observer of `trace` sees every year's state.

use crate::plan::{self, Plan, SamplingScratch, Sharing};
use crate::rng::{Stream, normal_from_word, trial_key};

/// Where a partner stands in a given year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    /// Has not joined yet (a late joiner before its year).
    #[default]
    Pending,
    /// A member this year.
    Member,
    /// Withdrew; out since `PartnerState::left_year`.
    Out,
    /// Declined to join; never will.
    Never,
}

/// Per-partner flags of what happened to it this year (for traces).
pub mod event {
    pub const JOINED: u8 = 1;
    pub const DECLINED: u8 = 2;
    pub const REJOINED: u8 = 4;
    pub const NOTICE: u8 = 8;
    pub const FIRST_YEAR_OUT: u8 = 16;
    pub const REESTABLISHED_AFTER_COLLAPSE: u8 = 32;
}

/// Each partner's stream has three draws reserved per year, at these offsets: used or
/// not, so that no decision shifts another's numbers (common random numbers).
const JOIN: u64 = 0;
const REJOIN: u64 = 1;
const WITHDRAW: u64 = 2;

/// Position in a partner's stream of draw `which` in year `t`.
#[inline]
fn draw(t: usize, which: u64) -> u64 {
    3 * t as u64 + which
}

/// Upper bound of scale_t (see step 5).
const MAX_SCALE: f64 = 1e9;

/// Marks "never" in the u16 year columns (payback, collapse).
pub const NO_YEAR: u16 = u16::MAX;

/// One partner in a trial: its inputs for the trial and its state, side by side, so that
/// the year loop walks one array (a handful of registers) rather than a dozen.
#[derive(Debug, Clone, Default)]
pub struct PartnerState {
    /// Where it stands this year.
    pub status: Status,
    /// What happened to it this year (bits of [`event`]).
    pub events: u8,
    /// Whether it gave notice at least once in this trial.
    pub gave_notice: bool,
    /// This year's cost share w_i (0 for a non-member).
    pub weight: f64,
    /// This year's saving S_i,t.
    pub saving: f64,
    /// Its NPV so far (NPV_i once the trial is over).
    pub npv: f64,
    /// This trial's B_i.
    baseline: f64,
    /// B_i for a member, 0 otherwise: the cost it no longer bears itself (set with
    /// `weight` by [`recount`]; not recounted, nor read, after a collapse).
    kept_baseline: f64,
    /// 1 / B_i (infinite for a subnormal B_i).
    inverse_baseline: f64,
    /// This trial's base hazard h_i.
    hazard: f64,
    /// What its cost share is proportional to: B_i, 1 or its fixed weight.
    share_basis: f64,
    /// k_i, L_i and `joins_year`, copied from the plan (a join year drawn per trial is
    /// written by each trial).
    sensitivity: f64,
    lock_in: usize,
    joins_year: usize,
    /// First year out, when `status` is `Out`.
    left_year: usize,
    /// What it pays this year besides its share of the pool: its onboarding cost or
    /// rejoin fee as a member, its exit fee and re-establishment cost in its first year
    /// out (set by the membership pass, which runs in every such year; after a collapse,
    /// `booked` holds what is paid instead).
    one_off: f64,
    /// Re-establishment cost booked by a collapse for the next year.
    booked: f64,
    stream: Stream,
}

/// Working memory of one worker thread, reused across trials so that a trial allocates
/// nothing.
#[derive(Debug, Clone)]
pub struct Scratch {
    /// This trial's sampled inputs, laid out as [`Plan::inputs`].
    pub inputs: Vec<f64>,
    /// Working memory of trial-level sampling.
    sampling: SamplingScratch,
    /// Every partner's inputs and state (see [`PartnerState`]).
    pub partners: Vec<PartnerState>,
    /// The trial's cumulative discounted consortium saving through each year.
    pub cumulative: Vec<f64>,
    /// The consortium's yearly draws turned into what each year needs (see `simulate`).
    years: Vec<YearDraws>,
    /// Each partner's hazard this year, recorded for an observer that asks.
    hazards: Vec<Option<Hazard>>,
}

/// What the consortium's yearly draws decide for one year, before anything else in the
/// trial is known: whether a dispute is active after step 4 (and started this year), and
/// the two parts of step 5's efficiency that do not depend on membership.
#[derive(Debug, Clone, Copy, Default)]
struct YearDraws {
    active: bool,
    started: bool,
    /// g * ramp_t * (1 - delta * active_t), to be multiplied by scale_t.
    efficiency: f64,
    /// sd * N(0, 1), this year's noise.
    noise: f64,
}

impl Scratch {
    /// Working memory for trials of `plan`, and only of `plan`: its fixed inputs and its
    /// partners' constant fields are written here once, not by every trial.
    pub fn new(plan: &Plan) -> Scratch {
        let mut inputs = vec![0.0; plan.inputs.len()];
        plan.fill_fixed(&mut inputs);
        Scratch {
            inputs,
            sampling: SamplingScratch::new(plan),
            // The plan's constant per-partner fields are written here, once per worker;
            // each trial then writes only what varies (see `simulate`).
            partners: (0..plan.partners)
                .map(|i| PartnerState {
                    share_basis: match plan.sharing {
                        Sharing::Proportional => 0.0, // B_i, set by each trial
                        Sharing::Equal => 1.0,
                        Sharing::Fixed => plan.fixed_weights[i],
                    },
                    sensitivity: plan.sensitivity[i],
                    lock_in: plan.lock_in_years[i],
                    joins_year: plan.joins_year[i],
                    ..PartnerState::default()
                })
                .collect(),
            cumulative: vec![0.0; plan.horizon],
            years: vec![YearDraws::default(); plan.horizon],
            hazards: vec![None; plan.partners],
        }
    }
}

/// Scalar results of one trial.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TrialSummary {
    pub npv: f64,
    /// First year with cumulative discounted saving >= 0, or [`NO_YEAR`].
    pub payback_year: u16,
    /// Year from which a collapse takes effect, or [`NO_YEAR`].
    pub collapse_year: u16,
    pub withdrawals: u32,
    pub rejoins: u32,
    pub disputes: u32,
    pub dispute_years: u32,
    /// d, the go-live delay: years 0 .. d-1 are delay years (d = H: never live).
    pub delay_years: u16,
}

/// What an observer is shown at the end of each year.
pub struct YearView<'a> {
    pub t: usize,
    /// The shared service is live this year (t >= d); before go-live it is a delay year.
    pub live: bool,
    /// The consortium had collapsed before this year.
    pub collapsed: bool,
    /// A collapse takes effect from next year (decided at the end of this one).
    pub collapses_next: bool,
    pub dispute_active: bool,
    pub dispute_started: bool,
    pub members: usize,
    /// g_t (0 in a collapsed or delay year).
    pub efficiency: f64,
    /// Pool_t (0 in a collapsed year).
    pub pool: f64,
    /// Every partner's status, share, saving and events this year.
    pub partners: &'a [PartnerState],
    /// For an observer that asks ([`Observer::HAZARDS`]), each partner's hazard this year
    /// if it was free to give notice (`None` otherwise); empty for one that does not.
    pub hazards: &'a [Option<Hazard>],
    /// Cumulative discounted consortium saving through this year.
    pub cumulative: f64,
}

/// Watches a trial year by year. A run uses [`NoObserver`]; `trace` records.
pub trait Observer {
    /// Whether the year step should record each member's hazard and its parts (for
    /// `trace`): a run's observer says no, and the recording compiles away.
    const HAZARDS: bool = false;

    /// Called once per year, after the year's savings are known.
    fn year(&mut self, view: &YearView<'_>);
}

/// A member's withdrawal hazard in one year and what it is made of (docs/model.md,
/// step 8), as recorded for an observer that asks ([`Observer::HAZARDS`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hazard {
    /// h_i x profile_i,t.
    pub base: f64,
    /// u x A_t, the dispute uplift.
    pub dispute: f64,
    /// k_i x max(0, -R_i,t / B_i), from the running loss.
    pub disappointment: f64,
    /// c x N_(t-1), from last year's notices.
    pub contagion: f64,
    /// The probability used: the sum, held to [0, 1].
    pub total: f64,
}

/// The observer of a normal run: does nothing, and compiles to nothing.
pub struct NoObserver;

impl Observer for NoObserver {
    #[inline(always)]
    fn year(&mut self, _: &YearView<'_>) {}
}

/// Counts the members, sets each partner's `kept_baseline` and cost share `weight`, and
/// returns the count and the members' total baseline.
#[inline]
fn recount(partners: &mut [PartnerState]) -> (usize, f64) {
    let mut members = 0;
    let mut member_baseline = 0.0;
    let mut member_basis = 0.0;
    for p in partners.iter_mut() {
        // Summed without a branch (who is in varies from trial to trial): a non-member
        // adds exactly 0.
        let member = p.status == Status::Member;
        let weight = f64::from(u8::from(member));
        members += usize::from(member);
        p.kept_baseline = weight * p.baseline;
        member_baseline += p.kept_baseline;
        member_basis += weight * p.share_basis;
    }
    // Shares change only with membership, so they are set here, by division: a lone
    // member's share is then exactly 1, and a tiny (even subnormal) basis cannot
    // overflow.
    for p in partners.iter_mut() {
        p.weight = if p.status == Status::Member {
            p.share_basis / member_basis
        } else {
            0.0
        };
    }
    (members, member_baseline)
}

/// The trial's sampled service-level inputs that the year step reads.
#[derive(Clone, Copy)]
struct ServiceInputs {
    fixed_cost: f64,
    /// g, the efficiency before ramp, scale, disputes and noise.
    efficiency: f64,
    transition_cost: f64,
    dispute_cost: f64,
    /// d, the sampled delay rounded to whole years and held to 0 ..= H.
    delay_years: usize,
    delay_cost: f64,
    contagion: f64,
}

impl ServiceInputs {
    #[inline(always)]
    fn read(service: &[f64], horizon: usize) -> ServiceInputs {
        ServiceInputs {
            fixed_cost: service[plan::FIXED_COST],
            efficiency: service[plan::EFFICIENCY],
            transition_cost: service[plan::TRANSITION_COST],
            dispute_cost: service[plan::DISPUTE_COST],
            delay_years: whole_years(service[plan::DELAY_YEARS], horizon),
            delay_cost: service[plan::DELAY_COST],
            contagion: service[plan::CONTAGION],
        }
    }
}

/// A sampled number of years (already held >= 0) rounded half up, floor(x + 0.5), and held
/// to at most `most` (the horizon: a later year never comes).
#[inline(always)]
pub fn whole_years(x: f64, most: usize) -> usize {
    let rounded = (x + 0.5).floor();
    if rounded >= most as f64 {
        most
    } else {
        rounded as usize
    }
}

/// The year a late joiner whose join year is a distribution joins, from its draw `x`:
/// rounded as [`whole_years`] and at least 1 (such a partner is never a founder); a
/// result of `horizon` means it never joins.
pub fn drawn_join_year(x: f64, horizon: usize) -> usize {
    whole_years(x, horizon).max(1)
}

/// Input `field` of partner `i`, from the trial's partner inputs (laid out as
/// [`Plan::inputs`] after the service's). Read only when something happens to the partner.
#[inline(always)]
fn input(partner_inputs: &[f64], i: usize, field: usize) -> f64 {
    partner_inputs[i * plan::PARTNER_INPUTS + field]
}

/// Membership as the year loop carries it from year to year.
struct Membership {
    /// |M_t| and the sum of B_i over M_t, recounted whenever membership changes.
    members: usize,
    baseline: f64,
    /// Partners out after a notice who still give the membership pass something to do
    /// (their first year out, with its exit fee, or a chance to rejoin).
    out: usize,
    /// Whether the partners' `events`/`one_off` hold marks that a pass or a notice left.
    marked: bool,
}

impl Membership {
    #[inline(always)]
    fn recount(&mut self, partners: &mut [PartnerState]) {
        (self.members, self.baseline) = recount(partners);
    }
}

/// scale_t for the last two members' baselines seen, so that `powf` runs only when
/// membership changes to one not seen in the last two changes (a leaver who rejoins brings
/// the previous one back).
struct ScaleCache {
    founders_baseline: f64,
    /// (sum of B_i over M_t, scale_t), the latest first.
    recent: [(f64, f64); 2],
}

impl ScaleCache {
    fn new(founders_baseline: f64) -> ScaleCache {
        ScaleCache {
            founders_baseline,
            recent: [(founders_baseline, 1.0), (f64::NAN, 1.0)],
        }
    }

    /// scale_t for members whose baselines sum to `member_baseline`. Capped so that an
    /// extreme elasticity cannot make g_t infinite (or NaN through 0 x inf); g_t is
    /// clamped to 0.95 long before the cap matters.
    #[inline(always)]
    fn scale(&mut self, member_baseline: f64, elasticity: f64) -> f64 {
        if member_baseline != self.recent[0].0 {
            if member_baseline == self.recent[1].0 {
                self.recent.swap(0, 1);
            } else {
                self.recent[1] = self.recent[0];
                self.recent[0] = (
                    member_baseline,
                    (member_baseline / self.founders_baseline)
                        .powf(elasticity)
                        .min(MAX_SCALE),
                );
            }
        }
        self.recent[0].1
    }
}

/// Step 6's pool, with its part without one-off costs and fees (which step 8 reads).
#[derive(Clone, Copy)]
struct Pool {
    running: f64,
    total: f64,
}

impl TrialSummary {
    /// Records year `t`'s cumulative saving for the payback year.
    #[inline(always)]
    fn note_cumulative(&mut self, t: usize, cumulative: f64) {
        if self.payback_year == NO_YEAR && cumulative >= 0.0 {
            self.payback_year = t as u16;
        }
    }
}

/// Opens the trial: every partner pending, with this trial's inputs and stream. Returns
/// B_F, the founders' total baseline.
#[inline(always)]
fn start_partners(
    plan: &Plan,
    key: u64,
    partners: &mut [PartnerState],
    partner_inputs: &[f64],
) -> f64 {
    let mut founders_baseline = 0.0;
    for (i, (p, inputs)) in partners
        .iter_mut()
        .zip(partner_inputs.chunks_exact(plan::PARTNER_INPUTS))
        .enumerate()
    {
        // Only the fields that vary between trials: `Scratch::new` set the plan's
        // constant ones (sensitivity, lock-in, join year, a fixed share basis), and
        // writing them again cost some 2 % of a trial.
        let b = inputs[plan::BASELINE];
        p.status = Status::Pending;
        p.events = 0;
        p.gave_notice = false;
        p.weight = 0.0;
        p.saving = 0.0;
        p.npv = 0.0;
        p.baseline = b;
        p.kept_baseline = 0.0;
        p.inverse_baseline = 1.0 / b;
        p.hazard = inputs[plan::WITHDRAWAL_HAZARD];
        if plan.sharing == Sharing::Proportional {
            p.share_basis = b;
        }
        p.left_year = 0;
        p.one_off = 0.0;
        p.booked = 0.0;
        p.stream = Stream::new(key, plan.partner_keys[i]);
        if p.joins_year == 0 {
            founders_baseline += b;
        }
    }
    // A join year drawn per trial is always a late joiner's: max(1, rounded), and a year
    // at or past the horizon never comes.
    for &i in &plan.uncertain_joins {
        let x = partner_inputs[i * plan::PARTNER_INPUTS + plan::JOINS_YEAR];
        partners[i].joins_year = drawn_join_year(x, plan.horizon);
    }
    founders_baseline
}

/// Step 4 for every year, and the draw-dependent part of step 5, up front. Disputes
/// depend on nothing else in the trial and their draws are fixed by position, so the
/// chain can be run ahead of the year loop, which reads it only up to a collapse (after
/// which docs/model.md has no disputes). Doing it here takes the draws and the normal off each
/// year's chain of dependent arithmetic.
#[inline(always)]
fn draw_years(plan: &Plan, key: u64, g: f64, delay: usize, years: &mut [YearDraws]) {
    let mut year_stream = Stream::new(key, plan.year_key);
    let mut active = false;
    for (t, y) in years.iter_mut().enumerate() {
        let u_dispute = year_stream.uniform();
        // The noise word is always drawn (so the stream stays in step) but only turned
        // into a normal when it is used.
        let noise_word = year_stream.next_u64();
        // Written with `&` and `|` rather than branches: whether a dispute starts or
        // ends is a coin toss the processor cannot predict.
        let started = !active & (u_dispute < plan.dispute_start);
        active = (active & (u_dispute >= plan.dispute_resolve)) | started;
        let dispute = f64::from(u8::from(active));
        *y = YearDraws {
            active,
            started,
            // The ramp counts years since go-live. A delay year has no efficiency (the
            // year loop never reads this for one), so its value needs no branch.
            efficiency: g
                * plan.ramp[t.saturating_sub(delay)]
                * (1.0 - plan.dispute_efficiency_loss * dispute),
            noise: if plan.noise_sd > 0.0 {
                plan.noise_sd * normal_from_word(noise_word)
            } else {
                0.0
            },
        };
    }
}

/// Step 1 in a collapsed year: only the booked re-establishment costs remain. Returns the
/// cumulative discounted saving through this year.
#[inline(always)]
fn collapsed_year(partners: &mut [PartnerState], df: f64) -> f64 {
    let mut cumulative = 0.0;
    for p in partners.iter_mut() {
        p.saving = -p.booked;
        p.events = if p.booked > 0.0 {
            event::REESTABLISHED_AFTER_COLLAPSE
        } else {
            0
        };
        p.booked = 0.0;
        p.weight = 0.0;
        p.npv += df * p.saving;
        cumulative += p.npv;
    }
    cumulative
}

/// Steps 2 and 3: joins and rejoins, in a year in which either can happen (a scheduled
/// join, or someone out who may rejoin or owes its exit fee); in other years only last
/// year's marks are cleared. Returns the fees paid into this year's pool.
#[inline(always)]
fn joins_and_rejoins(
    plan: &Plan,
    t: usize,
    delay: usize,
    partners: &mut [PartnerState],
    partner_inputs: &[f64],
    membership: &mut Membership,
    rejoins: &mut u32,
) -> f64 {
    let mut fees_in = 0.0;
    if membership.out > 0 || plan.joins_in_year[t] {
        // Whether someone joined or rejoined: a leaver's recount was done when its
        // notice was known (see `notices_take_effect`).
        let mut joined = false;
        for (i, p) in partners.iter_mut().enumerate() {
            p.events = 0;
            p.one_off = 0.0;
            match p.status {
                Status::Pending if p.joins_year == t => {
                    if t == 0
                        || p.stream.uniform_at(draw(t, JOIN))
                            < input(partner_inputs, i, plan::JOIN_PROBABILITY)
                    {
                        p.status = Status::Member;
                        p.events = event::JOINED;
                        p.one_off = input(partner_inputs, i, plan::ONBOARDING_COST);
                        joined = true;
                    } else {
                        p.status = Status::Never;
                        p.events = event::DECLINED;
                    }
                }
                Status::Out
                    if p.left_year < t && {
                        let rejoin = input(partner_inputs, i, plan::REJOIN_PROBABILITY);
                        rejoin > 0.0 && p.stream.uniform_at(draw(t, REJOIN)) < rejoin
                    } =>
                {
                    p.status = Status::Member;
                    p.events = event::REJOINED;
                    joined = true;
                    membership.out -= 1;
                    *rejoins += 1;
                    p.one_off = input(partner_inputs, i, plan::REJOIN_FEE);
                    fees_in += p.one_off;
                }
                Status::Out if p.left_year == t => {
                    p.events = event::FIRST_YEAR_OUT;
                    let exit_fee = input(partner_inputs, i, plan::EXIT_FEE);
                    fees_in += exit_fee;
                    // Notice given at the end of year left_year - 1: only leaving a live
                    // service means re-creating it in-house.
                    p.one_off = exit_fee;
                    if p.left_year > delay {
                        p.one_off += input(partner_inputs, i, plan::REESTABLISH_COST);
                    }
                    if input(partner_inputs, i, plan::REJOIN_PROBABILITY) == 0.0 {
                        // Out for good: nothing more for the pass to do.
                        membership.out -= 1;
                    }
                }
                _ => {}
            }
        }
        if joined {
            membership.recount(partners);
        }
        membership.marked = true;
    } else if membership.marked {
        for p in partners.iter_mut() {
            p.events = 0;
            p.one_off = 0.0;
        }
        membership.marked = false;
    }
    fees_in
}

/// Step 4 (run ahead, by [`draw_years`]): disputes, a two-state Markov chain. Counts this
/// year's and returns active_t as a number (0 or 1).
#[inline(always)]
fn disputes(year: &YearDraws, sum: &mut TrialSummary) -> f64 {
    sum.disputes += u32::from(year.started);
    sum.dispute_years += u32::from(year.active);
    f64::from(u8::from(year.active))
}

/// Step 5: this year's efficiency g_t, from the part [`draw_years`] prepared and scale_t.
#[inline(always)]
fn efficiency(year: &YearDraws, scale: f64) -> f64 {
    (year.efficiency * scale + year.noise).clamp(-1.0, 0.95)
}

/// Step 6: the pool. In a delay year there is no service to run: no fixed cost and no
/// pooled baseline (each member still runs its own), but the cost of the delay.
#[inline(always)]
fn pool<const LIVE: bool>(
    plan: &Plan,
    t: usize,
    service: &ServiceInputs,
    member_baseline: f64,
    g_t: f64,
    dispute: f64,
    fees_in: f64,
) -> Pool {
    let running = if LIVE {
        service.fixed_cost + member_baseline * (1.0 - g_t) + service.dispute_cost * dispute
    } else {
        service.delay_cost + service.dispute_cost * dispute
    };
    Pool {
        running,
        total: running + service.transition_cost * plan.transition_share[t] - fees_in,
    }
}

/// Step 7: savings against each partner's go-it-alone counterfactual, discounted into each
/// partner's NPV and the consortium's cumulative saving; and step 8: notices at the end of
/// the year, effective from t + 1. One pass over the partners serves both (step 8's draws
/// are addressed by position, so their order cannot matter). Returns the cumulative
/// discounted saving through this year and the number of notices.
///
/// `LIVE` is false in a delay year: a member then keeps no baseline (it still runs its
/// own service), and its running saving is minus its share of the running pool. Made a
/// constant so that a scenario without a delay runs exactly the loop it ran before v2.
/// `contagion` is c * N_(t-1), the hazard that last year's notices add; `CONTAGIOUS` says
/// whether it is non-zero, so that a year without it (every year of a scenario without
/// contagion) pays nothing for the term.
// The year's state, passed as it is (the step is inlined into the loop): bundling it
// into a struct would only rename the arguments.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn savings_and_notices<O: Observer, const LIVE: bool, const CONTAGIOUS: bool>(
    plan: &Plan,
    t: usize,
    df: f64,
    partners: &mut [PartnerState],
    hazards: &mut [Option<Hazard>],
    pool: Pool,
    dispute: f64,
    contagion: f64,
) -> (f64, usize) {
    if O::HAZARDS {
        hazards.fill(None);
    }
    let notices_possible = t + 1 < plan.horizon;
    let uplift = plan.dispute_hazard_uplift * dispute;
    let profile = &plan.hazard_profile[t * partners.len()..(t + 1) * partners.len()];
    let mut leaving = 0usize;
    let mut cumulative = 0.0;
    // (The index is used only to record hazards; a run's loop compiles without it.)
    for (i, (p, &multiplier)) in partners.iter_mut().zip(profile).enumerate() {
        // One formula for every partner, without a branch on who is in (which changes
        // from trial to trial, so the processor mispredicts it): a non-member's share
        // is 0 and its B_i is left out (it runs the service itself), so only its
        // first-year-out payments remain. (The pool is finite, as every input the
        // loader accepts is, so 0 x pool is 0. A first-year-out partner with nothing
        // to pay thus saves +0, where a separate branch gave -0: only a trace's
        // saving shows the sign, printed as £0 either way; an NPV is never -0.)
        let member = p.status == Status::Member;
        p.saving = if LIVE {
            p.kept_baseline - p.weight * pool.total - p.one_off
        } else {
            -(p.weight * pool.total) - p.one_off
        };
        p.npv += df * p.saving;
        cumulative += p.npv;

        if member & notices_possible & (t + 1 >= p.lock_in) {
            // The running saving R_i,t, relative to B_i, as a loss: multiplied by
            // 1 / B_i, made once a trial, as a division per partner-year cost 4 %
            // of the hot loop. For a subnormal B_i (the loader's fuzz test found
            // one) 1 / B_i overflows while the quotient need not, so that case
            // divides; the branch always goes the same way in a real scenario.
            // In a delay year R_i,t = -w_i * running: no baseline is saved yet.
            let kept = if LIVE { 1.0 } else { 0.0 };
            let relative_loss = if p.inverse_baseline.is_finite() {
                p.weight * pool.running * p.inverse_baseline - kept
            } else {
                (p.weight * pool.running - kept * p.baseline) / p.baseline
            }
            .max(0.0);
            // In docs/model.md's order: adding c x N_(t-1) last, after the
            // disappointment term, gives exactly its sum (and adds 0 without contagion).
            let h = if CONTAGIOUS {
                p.hazard * multiplier + uplift + p.sensitivity * relative_loss + contagion
            } else {
                p.hazard * multiplier + uplift + p.sensitivity * relative_loss
            }
            .clamp(0.0, 1.0);
            if O::HAZARDS {
                hazards[i] = Some(Hazard {
                    base: p.hazard * multiplier,
                    dispute: uplift,
                    disappointment: p.sensitivity * relative_loss,
                    contagion,
                    total: h,
                });
            }
            // No `h > 0.0` test first: a uniform is never below 0, so a zero hazard
            // gives no notice all the same, and the test (a branch taken in every
            // partner-year of a real scenario) cost 3-4 % of the hot loop.
            if p.stream.uniform_at(draw(t, WITHDRAW)) < h {
                p.events |= event::NOTICE;
                p.gave_notice = true;
                leaving += 1;
            }
        }
    }
    (cumulative, leaving)
}

/// [`savings_and_notices`] with the contagion term compiled in only for a year that has
/// one (`contagion` is 0 in every year of a scenario without contagion).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn savings_and_notices_with<O: Observer, const LIVE: bool>(
    plan: &Plan,
    t: usize,
    df: f64,
    partners: &mut [PartnerState],
    hazards: &mut [Option<Hazard>],
    pool: Pool,
    dispute: f64,
    contagion: f64,
) -> (f64, usize) {
    if contagion != 0.0 {
        savings_and_notices::<O, LIVE, true>(
            plan, t, df, partners, hazards, pool, dispute, contagion,
        )
    } else {
        savings_and_notices::<O, LIVE, false>(plan, t, df, partners, hazards, pool, dispute, 0.0)
    }
}

/// Step 8's collapse: every member this year (leavers and stayers alike) re-creates the
/// service next year, and pays no exit fee.
#[inline(always)]
fn book_reestablishment(partners: &mut [PartnerState], partner_inputs: &[f64]) {
    for (i, p) in partners.iter_mut().enumerate() {
        if p.status == Status::Member {
            p.booked = input(partner_inputs, i, plan::REESTABLISH_COST);
        }
    }
}

/// Step 8's notices take effect from year `t + 1`; after a collapse nobody is a member.
/// Next year's membership is counted now rather than in next year's pass: the pass then
/// recounts only if someone joins, and the count starts as soon as the notices are known.
/// (After a collapse nothing reads it.)
#[inline(always)]
fn notices_take_effect(
    partners: &mut [PartnerState],
    t: usize,
    collapses: bool,
    membership: &mut Membership,
) {
    for p in partners.iter_mut() {
        if p.events & event::NOTICE != 0 || (collapses && p.status == Status::Member) {
            p.status = Status::Out;
            p.left_year = t + 1;
            membership.out += 1;
        }
    }
    // The notices' marks are to be cleared by next year's pass.
    membership.marked = true;
    if !collapses {
        membership.recount(partners);
    }
}

/// Simulates trial `trial` of a run seeded with `seed`, following docs/model.md step by step:
/// the loop below is the one statement of the year step's order, each step a function
/// named after it. Per-partner and per-year results are left in `s` (each partner's `npv`
/// and `gave_notice`, and `cumulative`).
///
/// Random numbers: each partner's stream has three uniforms reserved every year (join,
/// rejoin, withdrawal), read only when needed but never shifted, and the consortium's
/// stream two (dispute, efficiency noise), so that a change to one partner or parameter
/// shifts no other draw.
///
/// This is the hot loop, so it is written for speed as well as for the reader: partners
/// are one array of [`PartnerState`], the membership pass (steps 2-3) runs only in years
/// in which membership can change, members are recounted only when it does, and steps 7
/// and 8 share one pass over the partners. The steps are `#[inline(always)]`: the guard
/// bench measures this loop, and the compiler sees it whole as before the split.
pub fn simulate<O: Observer>(
    plan: &Plan,
    seed: u64,
    trial: u64,
    s: &mut Scratch,
    obs: &mut O,
) -> TrialSummary {
    if plan.delay_or_contagion {
        simulate_model::<O, true>(plan, seed, trial, s, obs)
    } else {
        simulate_model::<O, false>(plan, seed, trial, s, obs)
    }
}

/// [`simulate`] for a scenario that may have a go-live delay or contagion (`V2`), or has
/// neither: then every year is live and no hazard has a contagion term, so the loop is
/// compiled without either (a scenario that uses no v2 field runs the loop it ran before
/// v2, at the same speed).
#[inline(always)]
fn simulate_model<O: Observer, const V2: bool>(
    plan: &Plan,
    seed: u64,
    trial: u64,
    s: &mut Scratch,
    obs: &mut O,
) -> TrialSummary {
    let key = trial_key(seed, trial);
    plan.sample_uncertain(seed, trial, key, &mut s.inputs, &mut s.sampling);
    let horizon = plan.horizon;
    let (service, partner_inputs) = s.inputs.split_at(plan::SERVICE_INPUTS);
    let service = ServiceInputs::read(service, horizon);
    let delay = if V2 { service.delay_years } else { 0 };
    let partners = &mut s.partners[..];
    let hazards = &mut s.hazards[..];
    let cumulative_by_year = &mut s.cumulative[..horizon];

    let founders_baseline = start_partners(plan, key, partners, partner_inputs);
    draw_years(
        plan,
        key,
        service.efficiency,
        delay,
        &mut s.years[..horizon],
    );

    let mut sum = TrialSummary {
        payback_year: NO_YEAR,
        collapse_year: NO_YEAR,
        delay_years: delay as u16,
        ..TrialSummary::default()
    };
    // N_(t-1): the notices given at the end of last year.
    let mut last_notices = 0usize;
    let mut collapsed = false;
    let mut cumulative = 0.0;
    let mut membership = Membership {
        members: 0,
        baseline: 0.0,
        out: 0,
        marked: false,
    };
    let mut scale = ScaleCache::new(founders_baseline);

    for (t, ((&df, year_cumulative), year)) in plan
        .discount
        .iter()
        .zip(cumulative_by_year.iter_mut())
        .zip(&s.years[..horizon])
        .enumerate()
    {
        // Step 1.
        if collapsed {
            cumulative = collapsed_year(partners, df);
            *year_cumulative = cumulative;
            sum.note_cumulative(t, cumulative);
            obs.year(&YearView {
                t,
                live: t >= delay,
                collapsed: true,
                collapses_next: false,
                dispute_active: false,
                dispute_started: false,
                members: 0,
                efficiency: 0.0,
                pool: 0.0,
                partners,
                hazards: &[],
                cumulative,
            });
            continue;
        }
        // Steps 2 and 3.
        let fees_in = joins_and_rejoins(
            plan,
            t,
            delay,
            partners,
            partner_inputs,
            &mut membership,
            &mut sum.rejoins,
        );
        // Step 4.
        let dispute = disputes(year, &mut sum);
        let contagion = if V2 {
            service.contagion * last_notices as f64
        } else {
            0.0
        };
        let live = !V2 || t >= delay;
        let (g_t, pool, leaving);
        if live {
            // Step 5.
            g_t = efficiency(
                year,
                scale.scale(membership.baseline, plan.scale_elasticity),
            );
            // Step 6.
            pool = self::pool::<true>(
                plan,
                t,
                &service,
                membership.baseline,
                g_t,
                dispute,
                fees_in,
            );
            // Steps 7 and 8.
            (cumulative, leaving) = savings_and_notices_with::<O, true>(
                plan, t, df, partners, hazards, pool, dispute, contagion,
            );
        } else {
            // A delay year: steps 5-8 without the service (no efficiency).
            g_t = 0.0;
            pool = self::pool::<false>(plan, t, &service, 0.0, 0.0, dispute, fees_in);
            (cumulative, leaving) = savings_and_notices_with::<O, false>(
                plan, t, df, partners, hazards, pool, dispute, contagion,
            );
        }
        last_notices = leaving;
        *year_cumulative = cumulative;
        sum.note_cumulative(t, cumulative);
        sum.withdrawals += leaving as u32;
        let collapses_next = leaving > 0 && membership.members - leaving < plan.min_members;
        if collapses_next {
            collapsed = true;
            sum.collapse_year = (t + 1) as u16;
            // Only a live service has to be re-created in-house.
            if live {
                book_reestablishment(partners, partner_inputs);
            }
        }

        // The observer sees this year's members, before the notices take effect.
        obs.year(&YearView {
            t,
            live,
            collapsed: false,
            collapses_next,
            dispute_active: year.active,
            dispute_started: year.started,
            members: membership.members,
            efficiency: g_t,
            pool: pool.total,
            partners,
            hazards: if O::HAZARDS { hazards } else { &[] },
            cumulative,
        });
        if leaving > 0 {
            notices_take_effect(partners, t, collapses_next, &mut membership);
        }
    }
    sum.npv = cumulative;
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache must give exactly what computing scale_t afresh gives, whatever the order
    /// in which memberships come back.
    #[test]
    fn scale_cache_matches_a_fresh_power() {
        let founders = 300.0;
        let elasticity = 0.7;
        let fresh = |b: f64| (b / founders).powf(elasticity).min(MAX_SCALE);
        let mut cache = ScaleCache::new(founders);
        for b in [
            300.0, 200.0, 300.0, 200.0, 100.0, 200.0, 300.0, 300.0, 1e-300,
        ] {
            assert_eq!(
                cache.scale(b, elasticity).to_bits(),
                fresh(b).to_bits(),
                "{b}"
            );
        }
    }

    #[test]
    fn recount_shares_among_members_only() {
        let partner = |status, baseline: f64| PartnerState {
            status,
            baseline,
            share_basis: baseline,
            ..PartnerState::default()
        };
        let mut partners = [
            partner(Status::Member, 1.0),
            partner(Status::Out, 2.0),
            partner(Status::Member, 3.0),
            partner(Status::Pending, 4.0),
        ];
        assert_eq!(recount(&mut partners), (2, 4.0));
        let weights: Vec<f64> = partners.iter().map(|p| p.weight).collect();
        assert_eq!(weights, [0.25, 0.0, 0.75, 0.0]);
        let kept: Vec<f64> = partners.iter().map(|p| p.kept_baseline).collect();
        assert_eq!(kept, [1.0, 0.0, 3.0, 0.0]);

        // A lone member's share is exactly 1, even for a subnormal basis.
        partners[2].status = Status::Out;
        partners[0].baseline = 1e-310;
        partners[0].share_basis = 1e-310;
        assert_eq!(recount(&mut partners), (1, 1e-310));
        assert_eq!(partners[0].weight, 1.0);
    }
}
