//! One trial, year by year: the only code that knows MODEL.md's step order.
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
    /// k_i, L_i and `joins_year`, copied from the plan.
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
}

/// What an observer is shown at the end of each year.
pub struct YearView<'a> {
    pub t: usize,
    /// The consortium had collapsed before this year.
    pub collapsed: bool,
    /// A collapse takes effect from next year (decided at the end of this one).
    pub collapses_next: bool,
    pub dispute_active: bool,
    pub dispute_started: bool,
    pub members: usize,
    /// g_t (0 in a collapsed year).
    pub efficiency: f64,
    /// Pool_t (0 in a collapsed year).
    pub pool: f64,
    /// Every partner's status, share, saving and events this year.
    pub partners: &'a [PartnerState],
    /// Cumulative discounted consortium saving through this year.
    pub cumulative: f64,
}

/// Watches a trial year by year. A run uses [`NoObserver`]; `trace` records.
pub trait Observer {
    /// Called once per year, after the year's savings are known.
    fn year(&mut self, view: &YearView<'_>);
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

/// Simulates trial `trial` of a run seeded with `seed`, following MODEL.md step by step.
/// Per-partner and per-year results are left in `s` (each partner's `npv` and
/// `gave_notice`, and `cumulative`).
///
/// Random numbers: each partner's stream has three uniforms reserved every year (join,
/// rejoin, withdrawal), read only when needed but never shifted, and the consortium's
/// stream two (dispute, efficiency noise), so that a change to one partner or parameter
/// shifts no other draw.
///
/// This is the hot loop, so it is written for speed as well as for the reader: partners
/// are one array of [`PartnerState`], the membership pass (steps 2-3) runs only in years
/// in which membership can change, members are recounted only when it does, and steps 7
/// and 8 share one pass over the partners (step 8's draws are addressed by position, so
/// their order cannot matter).
pub fn simulate<O: Observer>(
    plan: &Plan,
    seed: u64,
    trial: u64,
    s: &mut Scratch,
    obs: &mut O,
) -> TrialSummary {
    let key = trial_key(seed, trial);
    plan.sample_uncertain(key, &mut s.inputs, &mut s.sampling);
    let horizon = plan.horizon;
    let (service, partner_inputs) = s.inputs.split_at(plan::SERVICE_INPUTS);
    let fixed_cost = service[plan::FIXED_COST];
    let g = service[plan::EFFICIENCY];
    let transition = service[plan::TRANSITION_COST];
    let dispute_cost = service[plan::DISPUTE_COST];
    let partners = &mut s.partners[..];
    let cumulative_by_year = &mut s.cumulative[..horizon];

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
    // A partner's inputs read only when something happens to it.
    let input = |i: usize, field: usize| partner_inputs[i * plan::PARTNER_INPUTS + field];

    // Step 4 for every year, and the draw-dependent part of step 5, up front. Disputes
    // depend on nothing else in the trial and their draws are fixed by position, so the
    // chain can be run ahead of the year loop, which reads it only up to a collapse
    // (after which MODEL.md has no disputes). Doing it here takes the draws and the
    // normal off each year's chain of dependent arithmetic.
    let mut year_stream = Stream::new(key, plan.year_key);
    let mut active = false;
    for (t, y) in s.years[..horizon].iter_mut().enumerate() {
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
            efficiency: g * plan.ramp[t] * (1.0 - plan.dispute_efficiency_loss * dispute),
            noise: if plan.noise_sd > 0.0 {
                plan.noise_sd * normal_from_word(noise_word)
            } else {
                0.0
            },
        };
    }
    let mut sum = TrialSummary {
        payback_year: NO_YEAR,
        collapse_year: NO_YEAR,
        ..TrialSummary::default()
    };
    let mut collapsed = false;
    let mut cumulative = 0.0;
    // Membership, carried from year to year and recounted whenever it changes.
    let mut members = 0usize;
    let mut member_baseline = 0.0;
    // Partners out after a notice who still give the membership pass something to do
    // (their first year out, with its exit fee, or a chance to rejoin), and whether
    // `events`/`one_off` hold a pass's marks.
    let mut out = 0usize;
    let mut marked = false;
    // scale_t for the last two members' baselines seen, so that powf runs only when
    // membership changes to one not seen in the last two changes (a leaver who rejoins
    // brings the previous one back).
    let mut scale_of = [(founders_baseline, 1.0), (f64::NAN, 1.0)];

    for (t, ((&df, year_cumulative), year)) in plan
        .discount
        .iter()
        .zip(cumulative_by_year.iter_mut())
        .zip(&s.years[..horizon])
        .enumerate()
    {
        // Step 1: after a collapse only the booked re-establishment costs remain.
        if collapsed {
            cumulative = 0.0;
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
            *year_cumulative = cumulative;
            if sum.payback_year == NO_YEAR && cumulative >= 0.0 {
                sum.payback_year = t as u16;
            }
            obs.year(&YearView {
                t,
                collapsed: true,
                collapses_next: false,
                dispute_active: false,
                dispute_started: false,
                members: 0,
                efficiency: 0.0,
                pool: 0.0,
                partners,
                cumulative,
            });
            continue;
        }

        // Steps 2 and 3: joins and rejoins, in a year in which either can happen (a
        // scheduled join, or someone out who may rejoin or owes its exit fee).
        let mut fees_in = 0.0;
        if out > 0 || plan.joins_in_year[t] {
            // Whether someone joined or rejoined: a leaver's recount was done when its
            // notice was known (below, at the end of the year).
            let mut joined = false;
            for (i, p) in partners.iter_mut().enumerate() {
                p.events = 0;
                p.one_off = 0.0;
                match p.status {
                    Status::Pending if p.joins_year == t => {
                        if t == 0
                            || p.stream.uniform_at(draw(t, JOIN)) < input(i, plan::JOIN_PROBABILITY)
                        {
                            p.status = Status::Member;
                            p.events = event::JOINED;
                            p.one_off = input(i, plan::ONBOARDING_COST);
                            joined = true;
                        } else {
                            p.status = Status::Never;
                            p.events = event::DECLINED;
                        }
                    }
                    Status::Out
                        if p.left_year < t && {
                            let rejoin = input(i, plan::REJOIN_PROBABILITY);
                            rejoin > 0.0 && p.stream.uniform_at(draw(t, REJOIN)) < rejoin
                        } =>
                    {
                        p.status = Status::Member;
                        p.events = event::REJOINED;
                        joined = true;
                        out -= 1;
                        sum.rejoins += 1;
                        p.one_off = input(i, plan::REJOIN_FEE);
                        fees_in += p.one_off;
                    }
                    Status::Out if p.left_year == t => {
                        p.events = event::FIRST_YEAR_OUT;
                        let exit_fee = input(i, plan::EXIT_FEE);
                        fees_in += exit_fee;
                        p.one_off = exit_fee + input(i, plan::REESTABLISH_COST);
                        if input(i, plan::REJOIN_PROBABILITY) == 0.0 {
                            // Out for good: nothing more for the pass to do.
                            out -= 1;
                        }
                    }
                    _ => {}
                }
            }
            if joined {
                (members, member_baseline) = recount(partners);
            }
            marked = true;
        } else if marked {
            for p in partners.iter_mut() {
                p.events = 0;
                p.one_off = 0.0;
            }
            marked = false;
        }

        // Step 4 (run ahead, above): disputes, a two-state Markov chain.
        let active = year.active;
        sum.disputes += u32::from(year.started);
        sum.dispute_years += u32::from(active);
        let dispute = f64::from(u8::from(active));

        // Step 5: this year's efficiency.
        // Capped so that an extreme elasticity cannot make g_t infinite (or NaN through
        // 0 x inf); g_t is clamped to 0.95 long before the cap matters.
        if member_baseline != scale_of[0].0 {
            if member_baseline == scale_of[1].0 {
                scale_of.swap(0, 1);
            } else {
                scale_of[1] = scale_of[0];
                scale_of[0] = (
                    member_baseline,
                    (member_baseline / founders_baseline)
                        .powf(plan.scale_elasticity)
                        .min(MAX_SCALE),
                );
            }
        }
        let g_t = (year.efficiency * scale_of[0].1 + year.noise).clamp(-1.0, 0.95);

        // Step 6: the pool. `running` is the part without one-off costs and fees.
        let running = fixed_cost + member_baseline * (1.0 - g_t) + dispute_cost * dispute;
        let pool = running + transition * plan.transition_share[t] - fees_in;

        // Step 7: savings against each partner's go-it-alone counterfactual, discounted
        // into each partner's NPV and the consortium's cumulative saving; and step 8:
        // notices at the end of the year, effective from t + 1.
        let notices_possible = t + 1 < horizon;
        let uplift = plan.dispute_hazard_uplift * dispute;
        let profile = &plan.hazard_profile[t * partners.len()..(t + 1) * partners.len()];
        let mut leaving = 0usize;
        cumulative = 0.0;
        for (p, &multiplier) in partners.iter_mut().zip(profile) {
            // One formula for every partner, without a branch on who is in (which changes
            // from trial to trial, so the processor mispredicts it): a non-member's share
            // is 0 and its B_i is left out (it runs the service itself), so only its
            // first-year-out payments remain. (The pool is finite, as every input the
            // loader accepts is, so 0 x pool is 0. A first-year-out partner with nothing
            // to pay thus saves +0, where a separate branch gave -0: only a trace's
            // saving shows the sign, printed as £0 either way; an NPV is never -0.)
            let member = p.status == Status::Member;
            p.saving = p.kept_baseline - p.weight * pool - p.one_off;
            p.npv += df * p.saving;
            cumulative += p.npv;

            if member & notices_possible & (t + 1 >= p.lock_in) {
                // The running saving R_i,t, relative to B_i, as a loss: multiplied by
                // 1 / B_i, made once a trial, as a division per partner-year cost 4 %
                // of the hot loop. For a subnormal B_i (the loader's fuzz test found
                // one) 1 / B_i overflows while the quotient need not, so that case
                // divides; the branch always goes the same way in a real scenario.
                let relative_loss = if p.inverse_baseline.is_finite() {
                    p.weight * running * p.inverse_baseline - 1.0
                } else {
                    (p.weight * running - p.baseline) / p.baseline
                }
                .max(0.0);
                let h = (p.hazard * multiplier + uplift + p.sensitivity * relative_loss)
                    .clamp(0.0, 1.0);
                // No `h > 0.0` test first: a uniform is never below 0, so a zero hazard
                // gives no notice all the same, and the test (a branch taken in every
                // partner-year of a real scenario) cost 3-4 % of the hot loop.
                if p.stream.uniform_at(draw(t, WITHDRAW)) < h {
                    p.events |= event::NOTICE;
                    p.gave_notice = true;
                    leaving += 1;
                    marked = true;
                }
            }
        }
        *year_cumulative = cumulative;
        if sum.payback_year == NO_YEAR && cumulative >= 0.0 {
            sum.payback_year = t as u16;
        }
        sum.withdrawals += leaving as u32;
        let collapses_next = leaving > 0 && members - leaving < plan.min_members;
        if collapses_next {
            collapsed = true;
            sum.collapse_year = (t + 1) as u16;
            for (i, p) in partners.iter_mut().enumerate() {
                if p.status == Status::Member {
                    // Leavers and stayers alike re-create the service; no exit fees.
                    p.booked = input(i, plan::REESTABLISH_COST);
                }
            }
        }

        obs.year(&YearView {
            t,
            collapsed: false,
            collapses_next,
            dispute_active: active,
            dispute_started: year.started,
            members,
            efficiency: g_t,
            pool,
            partners,
            cumulative,
        });
        // Notices take effect from next year (the observer saw this year's members); after
        // a collapse nobody is a member.
        if leaving > 0 {
            for p in partners.iter_mut() {
                if p.events & event::NOTICE != 0 || (collapses_next && p.status == Status::Member) {
                    p.status = Status::Out;
                    p.left_year = t + 1;
                    out += 1;
                }
            }
            // Next year's membership, counted now rather than in next year's pass: the
            // pass then recounts only if someone joins, and the count starts as soon as
            // the notices are known. (After a collapse nothing reads it.)
            if !collapses_next {
                (members, member_baseline) = recount(partners);
            }
        }
    }
    sum.npv = cumulative;
    sum
}
