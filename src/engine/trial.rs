//! One trial, year by year: the only code that knows MODEL.md's step order.
//!
//! [`simulate`] is generic over an [`Observer`] so that `trace` replays a trial through the
//! very same code as a full run: the no-op observer of a run compiles away, the recording
//! observer of `trace` sees every year's state.

use crate::plan::{self, Plan, Sharing};
use crate::rng::{Stream, normal_from_word, trial_key};

/// Where a partner stands in a given year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Has not joined yet (a late joiner before its year).
    Pending,
    /// A member this year.
    Member,
    /// Withdrew; out since `Scratch::left_year`.
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

/// Working memory of one worker thread, reused across trials so that a trial allocates
/// nothing.
#[derive(Debug, Clone)]
pub struct Scratch {
    /// This trial's sampled inputs, laid out as [`Plan::inputs`].
    pub inputs: Vec<f64>,
    /// Uniforms of the correlated inputs, before and after the copula.
    uniforms: Vec<f64>,
    pub streams: Vec<Stream>,
    pub status: Vec<Status>,
    /// First year out of a partner whose status is `Out`.
    pub left_year: Vec<usize>,
    /// This year's cost share w_i (0 for non-members).
    pub weight: Vec<f64>,
    /// This year's saving S_i,t.
    pub saving: Vec<f64>,
    /// What happened to each partner this year (bits of [`event`]).
    pub events: Vec<u8>,
    /// Re-establishment cost booked by a collapse for the next year.
    pub booked: Vec<f64>,
    /// The trial's results: NPV_i by partner so far,
    pub partner_npv: Vec<f64>,
    /// cumulative discounted consortium saving through each year,
    pub cumulative: Vec<f64>,
    /// and whether each partner gave notice at least once.
    pub gave_notice: Vec<bool>,
    /// The inputs read every year, copied out of `inputs` once per trial into one array
    /// each: baseline cost B_i, its inverse, base hazard h_i, and what the cost share is
    /// proportional to (B_i, 1 or the fixed weight).
    baseline: Vec<f64>,
    inv_baseline: Vec<f64>,
    hazard: Vec<f64>,
    share_basis: Vec<f64>,
    /// A member's onboarding cost or rejoin fee this year.
    one_off: Vec<f64>,
}

impl Scratch {
    pub fn new(plan: &Plan) -> Scratch {
        let p = plan.partners;
        let mut inputs = vec![0.0; plan.inputs.len()];
        plan.fill_fixed(&mut inputs);
        Scratch {
            inputs,
            uniforms: vec![0.0; plan.correlated.len()],
            streams: vec![Stream::new(0, 0); p],
            status: vec![Status::Pending; p],
            left_year: vec![0; p],
            weight: vec![0.0; p],
            saving: vec![0.0; p],
            events: vec![0; p],
            booked: vec![0.0; p],
            partner_npv: vec![0.0; p],
            cumulative: vec![0.0; plan.horizon],
            gave_notice: vec![false; p],
            baseline: vec![0.0; p],
            inv_baseline: vec![0.0; p],
            hazard: vec![0.0; p],
            share_basis: vec![0.0; p],
            one_off: vec![0.0; p],
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
    pub status: &'a [Status],
    pub weight: &'a [f64],
    pub saving: &'a [f64],
    pub events: &'a [u8],
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

/// Simulates trial `trial` of a run seeded with `seed`, following MODEL.md step by step.
/// Per-partner and per-year results are left in `s` (`partner_npv`, `cumulative`,
/// `gave_notice`).
///
/// Random numbers: each partner's stream has three uniforms reserved every year (join,
/// rejoin, withdrawal), read only when needed but never shifted, and the consortium's
/// stream two (dispute, efficiency noise), so that a change to one partner or parameter
/// shifts no other draw.
///
/// This is the hot loop, so it is written for speed as well as for the reader: every
/// per-partner array is cut to exactly `n` entries so that indexing needs no bounds
/// checks, the membership pass (steps 2-3) runs only in years in which membership can
/// change, and steps 7 and 8 share one pass over the partners (step 8's draws are
/// addressed by position, so their order cannot matter).
// `t` and `i` index several arrays at once (per year, per partner), as MODEL.md does.
#[allow(clippy::needless_range_loop)]
pub fn simulate<O: Observer>(
    plan: &Plan,
    seed: u64,
    trial: u64,
    s: &mut Scratch,
    obs: &mut O,
) -> TrialSummary {
    let key = trial_key(seed, trial);
    plan.sample_uncertain(key, &mut s.inputs, &mut s.uniforms);
    let n = plan.partners;
    let horizon = plan.horizon;
    let Scratch {
        inputs,
        streams,
        status,
        left_year,
        weight,
        saving,
        events,
        booked,
        partner_npv,
        cumulative: cumulative_by_year,
        gave_notice,
        baseline,
        inv_baseline,
        hazard,
        share_basis,
        one_off,
        ..
    } = s;
    let (service, partner_inputs) = inputs.split_at(plan::SERVICE_INPUTS);
    let fixed_cost = service[plan::FIXED_COST];
    let g = service[plan::EFFICIENCY];
    let transition = service[plan::TRANSITION_COST];
    let dispute_cost = service[plan::DISPUTE_COST];
    let input = |i: usize, field: usize| partner_inputs[i * plan::PARTNER_INPUTS + field];

    let streams = &mut streams[..n];
    let status = &mut status[..n];
    let left_year = &mut left_year[..n];
    let weight = &mut weight[..n];
    let saving = &mut saving[..n];
    let events = &mut events[..n];
    let booked = &mut booked[..n];
    let partner_npv = &mut partner_npv[..n];
    let gave_notice = &mut gave_notice[..n];
    let baseline = &mut baseline[..n];
    let inv_baseline = &mut inv_baseline[..n];
    let hazard = &mut hazard[..n];
    let share_basis = &mut share_basis[..n];
    let one_off = &mut one_off[..n];
    let cumulative_by_year = &mut cumulative_by_year[..horizon];
    let lock_in = &plan.lock_in_years[..n];
    let sensitivity = &plan.sensitivity[..n];

    let mut founders_baseline = 0.0;
    for i in 0..n {
        let b = input(i, plan::BASELINE);
        baseline[i] = b;
        inv_baseline[i] = 1.0 / b;
        hazard[i] = input(i, plan::WITHDRAWAL_HAZARD);
        share_basis[i] = match plan.sharing {
            Sharing::Proportional => b,
            Sharing::Equal => 1.0,
            Sharing::Fixed => plan.fixed_weights[i],
        };
        streams[i] = Stream::new(key, plan.partner_keys[i]);
        status[i] = Status::Pending;
        events[i] = 0;
        one_off[i] = 0.0;
        booked[i] = 0.0;
        partner_npv[i] = 0.0;
        gave_notice[i] = false;
        if plan.joins_year[i] == 0 {
            founders_baseline += b;
        }
    }
    let mut years = Stream::new(key, plan.year_key);
    let mut sum = TrialSummary {
        payback_year: NO_YEAR,
        collapse_year: NO_YEAR,
        ..TrialSummary::default()
    };
    let mut collapsed = false;
    let mut active = false;
    let mut cumulative = 0.0;
    // Membership, carried from year to year and recounted by the membership pass.
    let mut members = 0usize;
    let mut member_baseline = 0.0;
    let mut inv_member_basis = 0.0;
    // Partners out after a notice (the only ones whose status can change in a year
    // without a scheduled join), and whether `events`/`one_off` hold a pass's marks.
    let mut out = 0usize;
    let mut marked = false;
    // scale_t for the last members' baseline seen: powf only when membership changes.
    let mut scale_of = (founders_baseline, 1.0);

    for t in 0..horizon {
        let df = plan.discount[t];
        // Step 1: after a collapse only the booked re-establishment costs remain.
        if collapsed {
            cumulative = 0.0;
            for i in 0..n {
                saving[i] = -booked[i];
                events[i] = if booked[i] > 0.0 {
                    event::REESTABLISHED_AFTER_COLLAPSE
                } else {
                    0
                };
                booked[i] = 0.0;
                weight[i] = 0.0;
                partner_npv[i] += df * saving[i];
                cumulative += partner_npv[i];
            }
            cumulative_by_year[t] = cumulative;
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
                status,
                weight,
                saving,
                events,
                cumulative,
            });
            continue;
        }

        // Steps 2 and 3: joins and rejoins, in a year in which either can happen (a
        // scheduled join, or someone out who may rejoin or owes its exit fee).
        let mut fees_in = 0.0;
        if out > 0 || plan.joins_in_year[t] {
            members = 0;
            member_baseline = 0.0;
            let mut member_basis = 0.0;
            for i in 0..n {
                let stream = &streams[i];
                events[i] = 0;
                one_off[i] = 0.0;
                match status[i] {
                    Status::Pending if plan.joins_year[i] == t => {
                        if t == 0
                            || stream.uniform_at(draw(t, JOIN)) < input(i, plan::JOIN_PROBABILITY)
                        {
                            status[i] = Status::Member;
                            events[i] = event::JOINED;
                            one_off[i] = input(i, plan::ONBOARDING_COST);
                        } else {
                            status[i] = Status::Never;
                            events[i] = event::DECLINED;
                        }
                    }
                    Status::Out
                        if left_year[i] < t
                            && stream.uniform_at(draw(t, REJOIN))
                                < input(i, plan::REJOIN_PROBABILITY) =>
                    {
                        status[i] = Status::Member;
                        events[i] = event::REJOINED;
                        out -= 1;
                        sum.rejoins += 1;
                        let fee = input(i, plan::REJOIN_FEE);
                        fees_in += fee;
                        one_off[i] = fee;
                    }
                    Status::Out if left_year[i] == t => {
                        events[i] = event::FIRST_YEAR_OUT;
                        fees_in += input(i, plan::EXIT_FEE);
                    }
                    _ => {}
                }
                if status[i] == Status::Member {
                    members += 1;
                    member_baseline += baseline[i];
                    member_basis += share_basis[i];
                }
            }
            inv_member_basis = 1.0 / member_basis;
            marked = true;
        } else if marked {
            events.fill(0);
            one_off.fill(0.0);
            marked = false;
        }

        // Step 4: disputes, a two-state Markov chain.
        let u_dispute = years.uniform();
        // The noise word is always drawn (so the stream stays in step) but only turned
        // into a normal when it is used.
        let noise_word = years.next_u64();
        let z = if plan.noise_sd > 0.0 {
            normal_from_word(noise_word)
        } else {
            0.0
        };
        let mut started = false;
        if active {
            if u_dispute < plan.dispute_resolve {
                active = false;
            }
        } else if u_dispute < plan.dispute_start {
            active = true;
            started = true;
            sum.disputes += 1;
        }
        if active {
            sum.dispute_years += 1;
        }
        let dispute = if active { 1.0 } else { 0.0 };

        // Step 5: this year's efficiency.
        // Capped so that an extreme elasticity cannot make g_t infinite (or NaN through
        // 0 x inf); g_t is clamped to 0.95 long before the cap matters.
        if member_baseline != scale_of.0 {
            scale_of = (
                member_baseline,
                (member_baseline / founders_baseline)
                    .powf(plan.scale_elasticity)
                    .min(MAX_SCALE),
            );
        }
        let scale = scale_of.1;
        let g_t = (g * plan.ramp[t] * scale * (1.0 - plan.dispute_efficiency_loss * dispute)
            + plan.noise_sd * z)
            .clamp(-1.0, 0.95);

        // Step 6: the pool. `running` is the part without one-off costs and fees.
        let running = fixed_cost + member_baseline * (1.0 - g_t) + dispute_cost * dispute;
        let pool = running + transition * plan.transition_share[t] - fees_in;

        // Step 7: savings against each partner's go-it-alone counterfactual, discounted
        // into each partner's NPV and the consortium's cumulative saving; and step 8:
        // notices at the end of the year, effective from t + 1.
        let notices_possible = t + 1 < horizon;
        let uplift = plan.dispute_hazard_uplift * dispute;
        let profile = &plan.hazard_profile[t * n..(t + 1) * n];
        let mut leaving = 0usize;
        cumulative = 0.0;
        for i in 0..n {
            let member = status[i] == Status::Member;
            let (w, s_it) = if member {
                let w = share_basis[i] * inv_member_basis;
                (w, baseline[i] - w * pool - one_off[i])
            } else if status[i] == Status::Out && left_year[i] == t {
                let exit = input(i, plan::EXIT_FEE) + input(i, plan::REESTABLISH_COST);
                (0.0, -exit)
            } else {
                (0.0, 0.0)
            };
            weight[i] = w;
            saving[i] = s_it;
            partner_npv[i] += df * s_it;
            cumulative += partner_npv[i];

            if member && notices_possible && t + 1 >= lock_in[i] {
                // The running saving R_i,t, relative to B_i, as a loss.
                let relative_loss = (w * running * inv_baseline[i] - 1.0).max(0.0);
                let h = (hazard[i] * profile[i] + uplift + sensitivity[i] * relative_loss)
                    .clamp(0.0, 1.0);
                if h > 0.0 && streams[i].uniform_at(draw(t, WITHDRAW)) < h {
                    events[i] |= event::NOTICE;
                    gave_notice[i] = true;
                    leaving += 1;
                    marked = true;
                }
            }
        }
        cumulative_by_year[t] = cumulative;
        if sum.payback_year == NO_YEAR && cumulative >= 0.0 {
            sum.payback_year = t as u16;
        }
        sum.withdrawals += leaving as u32;
        let collapses_next = leaving > 0 && members - leaving < plan.min_members;
        if collapses_next {
            collapsed = true;
            sum.collapse_year = (t + 1) as u16;
            for i in 0..n {
                if status[i] == Status::Member {
                    // Leavers and stayers alike re-create the service; no exit fees.
                    booked[i] = input(i, plan::REESTABLISH_COST);
                }
            }
        }

        obs.year(&YearView {
            t,
            collapsed: false,
            collapses_next,
            dispute_active: active,
            dispute_started: started,
            members,
            efficiency: g_t,
            pool,
            status,
            weight,
            saving,
            events,
            cumulative,
        });
        // Notices take effect from next year (the observer saw this year's members); after
        // a collapse nobody is a member.
        if leaving > 0 {
            for i in 0..n {
                if events[i] & event::NOTICE != 0 || (collapses_next && status[i] == Status::Member)
                {
                    status[i] = Status::Out;
                    left_year[i] = t + 1;
                    out += 1;
                }
            }
        }
    }
    sum.npv = cumulative;
    sum
}
