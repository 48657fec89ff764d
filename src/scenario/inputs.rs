//! The one table of scenario inputs: every field a scenario file may hold.
//!
//! Each row says where a field lives, what kind of value it takes, the range and default
//! the loader checks and fills in, whether it is money and whether it may be correlated.
//! The loader's key lists, the plan's input offsets ([`crate::plan::FIXED_COST`] ...),
//! the correlation lookup, the money-field test and the fuzz tests' key lists are all
//! read from here, so that a new field is one new row (and the struct field that holds
//! it). The order of the rows within a section is the order of the loader's key lists
//! (which decides the "did you mean" hint between equally close names) and, for the
//! distribution-valued fields, the order of the plan's inputs.

/// The range a numeric field must lie in. Distribution-valued fields are checked on
/// their mean; sampled values outside the range are clamped at run time (docs/model.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    Any,
    NonNegative,
    Positive,
    Probability,
    /// Strictly greater than the bound (discount rates: > -0.99).
    Above(f64),
}

impl Range {
    /// Whether `x` lies in the range.
    pub fn contains(self, x: f64) -> bool {
        match self {
            Range::Any => true,
            Range::NonNegative => x >= 0.0,
            Range::Positive => x > 0.0,
            Range::Probability => (0.0..=1.0).contains(&x),
            Range::Above(b) => x > b,
        }
    }

    /// The range in words, for error messages ("must be ...").
    pub fn describe(self) -> String {
        match self {
            Range::Any => "any number".into(),
            Range::NonNegative => ">= 0".into(),
            Range::Positive => "> 0".into(),
            Range::Probability => "between 0 and 1".into(),
            Range::Above(b) => format!("> {b}"),
        }
    }
}

/// Where a field lives in a scenario file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The top-level object.
    Top,
    /// `/service`.
    Service,
    /// Each object of `/partners`.
    Partner,
    /// `/disputes`.
    Disputes,
}

impl Section {
    /// The JSON pointer of the section's object (a partner's is `/partners/<name>`).
    pub const fn pointer(self) -> &'static str {
        match self {
            Section::Top => "",
            Section::Service => "/service",
            Section::Partner => "/partners",
            Section::Disputes => "/disputes",
        }
    }

    /// Which block of the plan's inputs a distribution-valued field of this section is
    /// sampled in: the consortium's own (service and disputes) or each partner's.
    const fn partner_block(self) -> bool {
        matches!(self, Section::Partner)
    }
}

/// What kind of value a field takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A number in a range.
    Number(Range),
    /// A distribution-valued (D) field: a number or a distribution whose mean is in the
    /// range. These are the inputs a trial samples and that may be correlated.
    Dist(Range),
    /// A whole number between the bounds, inclusive.
    Whole(u64, u64),
    /// A whole number >= 0 (or a `fixed` distribution of one), or any other distribution
    /// with a mean >= 0, sampled per trial and rounded to a whole number: a partner's
    /// `joins_year`, uncertain when it is a distribution.
    WholeOrDist,
    /// A non-empty list of numbers, each in the range.
    List(Range),
    /// A string.
    Text,
    /// A section object, the partners list, or a value with its own shape (the discount
    /// rate, cost sharing, correlations, a flag): checked by its own code in the loader.
    Other,
}

/// What the loader does when a field is absent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Absent {
    /// Reports the field as missing.
    Required,
    /// Uses this number (a fixed distribution for a (D) field).
    Number(f64),
    /// Uses this whole number.
    Whole(u64),
    /// Uses this list.
    List(&'static [f64]),
    /// Uses this string.
    Text(&'static str),
    /// Decided by the field's own code in the loader.
    Other,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input {
    pub name: &'static str,
    pub section: Section,
    pub kind: Kind,
    pub absent: Absent,
    /// Whether the value is an amount of money (shown with the scenario's currency).
    pub money: bool,
    /// Above this a value is valid but almost never meant: a rate typed as a whole
    /// number of percent (`15` for 0.15). Loading warns about it (see
    /// [`super::plausibility`]); checked on every value a distribution can take.
    pub implausible_above: Option<f64>,
}

impl Input {
    /// Whether the field is distribution-valued, so sampled per trial and open to
    /// correlation.
    pub const fn is_dist(&self) -> bool {
        matches!(self.kind, Kind::Dist(_) | Kind::WholeOrDist)
    }

    /// The JSON pointer of a consortium-level field (`/service/efficiency`,
    /// `/contagion`); a partner's fields have one per partner.
    pub fn pointer(&self) -> String {
        format!("{}/{}", self.section.pointer(), self.name)
    }

    /// This row with a bound above which a value is almost never meant.
    const fn implausible_above(self, bound: f64) -> Input {
        Input {
            implausible_above: Some(bound),
            ..self
        }
    }

    /// The field's range, for the kinds that have one.
    pub const fn range(&self) -> Range {
        match self.kind {
            Kind::Number(r) | Kind::Dist(r) | Kind::List(r) => r,
            Kind::WholeOrDist => Range::NonNegative,
            _ => Range::Any,
        }
    }
}

const fn field(name: &'static str, section: Section, kind: Kind, absent: Absent) -> Input {
    Input {
        name,
        section,
        kind,
        absent,
        money: false,
        implausible_above: None,
    }
}

const fn money(name: &'static str, section: Section, kind: Kind, absent: Absent) -> Input {
    Input {
        name,
        section,
        kind,
        absent,
        money: true,
        implausible_above: None,
    }
}

use Absent as A;
use Kind as K;
use Range as R;
use Section as S;

/// Every field of a scenario file, section by section.
///
/// The bounds above which a value is almost never meant (`implausible_above`) are for
/// rates a finance officer may type as whole percentages: an efficiency, noise sd,
/// yearly hazard, dispute uplift or discount rate above 1 (100 %), and an optimism bias
/// above 2 (200 %, the top of the Green Book's ranges for equipment and development
/// projects). Probabilities need none: above 1 they are refused.
#[rustfmt::skip]
pub const INPUTS: &[Input] = &[
    //    name                        section     kind                       if absent
    field("$schema",                   S::Top,     K::Text,                   A::Other),
    field("name",                      S::Top,     K::Text,                   A::Required),
    field("description",               S::Top,     K::Text,                   A::Text("")),
    field("currency",                  S::Top,     K::Text,                   A::Text("£")),
    field("horizon_years",             S::Top,     K::Whole(1, 100),          A::Required),
    field("discount_rate",             S::Top,     K::Other,                  A::Other).implausible_above(1.0),
    field("trials",                    S::Top,     K::Whole(1, u64::MAX),     A::Whole(100_000)),
    field("seed",                      S::Top,     K::Whole(0, u64::MAX),     A::Whole(1)),
    field("min_members",               S::Top,     K::Whole(1, u64::MAX),     A::Whole(2)),
    field("service",                   S::Top,     K::Other,                  A::Required),
    field("partners",                  S::Top,     K::Other,                  A::Required),
    field("disputes",                  S::Top,     K::Other,                  A::Other),
    field("correlations",              S::Top,     K::Other,                  A::Other),
    field("repair_correlations",       S::Top,     K::Other,                  A::Other),
    money("fixed_cost",                S::Service, K::Dist(R::NonNegative),   A::Number(0.0)),
    field("efficiency",                S::Service, K::Dist(R::Any),           A::Required).implausible_above(1.0),
    field("ramp",                      S::Service, K::List(R::Any),           A::List(&[1.0])),
    field("efficiency_noise_sd",       S::Service, K::Number(R::NonNegative), A::Number(0.0)).implausible_above(1.0),
    field("scale_elasticity",          S::Service, K::Number(R::Any),         A::Number(0.0)),
    money("transition_cost",           S::Service, K::Dist(R::NonNegative),   A::Number(0.0)),
    field("transition_profile",        S::Service, K::List(R::NonNegative),   A::List(&[1.0])),
    field("optimism_bias",             S::Service, K::Number(R::NonNegative), A::Number(0.0)).implausible_above(2.0),
    field("cost_sharing",              S::Service, K::Other,                  A::Other),
    field("delay_years",               S::Service, K::Dist(R::NonNegative),   A::Number(0.0)),
    money("delay_cost",                S::Service, K::Dist(R::NonNegative),   A::Number(0.0)),
    field("name",                      S::Partner, K::Text,                   A::Required),
    money("baseline_cost",             S::Partner, K::Dist(R::Positive),      A::Required),
    field("joins_year",                S::Partner, K::WholeOrDist,            A::Number(0.0)),
    field("join_probability",          S::Partner, K::Dist(R::Probability),   A::Number(1.0)),
    money("onboarding_cost",           S::Partner, K::Dist(R::NonNegative),   A::Number(0.0)),
    field("withdrawal_hazard",         S::Partner, K::Dist(R::NonNegative),   A::Number(0.0)).implausible_above(1.0),
    field("hazard_profile",            S::Partner, K::List(R::NonNegative),   A::List(&[1.0])),
    field("disappointment_sensitivity",S::Partner, K::Number(R::NonNegative), A::Number(0.0)),
    field("lock_in_years",             S::Partner, K::Whole(0, u64::MAX),     A::Whole(0)),
    money("exit_fee",                  S::Partner, K::Dist(R::NonNegative),   A::Number(0.0)),
    money("reestablish_cost",          S::Partner, K::Dist(R::NonNegative),   A::Number(0.0)),
    field("rejoin_probability",        S::Partner, K::Dist(R::Probability),   A::Number(0.0)),
    money("rejoin_fee",                S::Partner, K::Dist(R::NonNegative),   A::Number(0.0)),
    field("annual_probability",        S::Disputes,K::Number(R::Probability), A::Number(0.0)),
    field("resolution_probability",    S::Disputes,K::Number(R::Probability), A::Number(0.0)),
    money("annual_cost",               S::Disputes,K::Dist(R::NonNegative),   A::Number(0.0)),
    field("efficiency_loss",           S::Disputes,K::Number(R::Probability), A::Number(0.0)),
    field("hazard_uplift",             S::Disputes,K::Number(R::NonNegative), A::Number(0.0)).implausible_above(1.0),
    // Last, so that the consortium's block keeps the service's and disputes' slots first.
    // A hazard, like the others: above 1 it is almost never meant.
    field("contagion",                 S::Top,     K::Dist(R::NonNegative),   A::Number(0.0)).implausible_above(1.0),
];

/// The forms a distribution object may take (`{"uniform": [lo, hi]}` ...).
pub const DIST_FORMS: &[&str] = &[
    "fixed",
    "uniform",
    "triangular",
    "pert",
    "normal",
    "lognormal",
    "discrete",
];

/// Whether two strings are equal, usable in constants.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn same_section(a: Section, b: Section) -> bool {
    a as u8 == b as u8
}

/// How many fields `section` has.
pub const fn count(section: Section) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < INPUTS.len() {
        if same_section(INPUTS[i].section, section) {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The names of `section`'s fields, in table order; `N` must be [`count`]`(section)`.
const fn keys<const N: usize>(section: Section) -> [&'static str; N] {
    let mut out = [""; N];
    let mut n = 0;
    let mut i = 0;
    while i < INPUTS.len() {
        if same_section(INPUTS[i].section, section) {
            out[n] = INPUTS[i].name;
            n += 1;
        }
        i += 1;
    }
    assert!(n == N, "N is the section's field count");
    out
}

/// The keys the loader accepts at the top level, in `/service`, in each partner and in
/// `/disputes`.
pub const TOP_KEYS: &[&str] = &keys::<{ count(Section::Top) }>(Section::Top);
pub const SERVICE_KEYS: &[&str] = &keys::<{ count(Section::Service) }>(Section::Service);
pub const PARTNER_KEYS: &[&str] = &keys::<{ count(Section::Partner) }>(Section::Partner);
pub const DISPUTE_KEYS: &[&str] = &keys::<{ count(Section::Disputes) }>(Section::Disputes);

/// The row of `section`'s field `name`; panics (at compile time in a constant) if there
/// is none.
pub const fn get(section: Section, name: &str) -> &'static Input {
    match find(section, name) {
        Some(input) => input,
        None => panic!("no such scenario input"),
    }
}

/// The row of `section`'s field `name`, if there is one.
pub const fn find(section: Section, name: &str) -> Option<&'static Input> {
    let mut i = 0;
    while i < INPUTS.len() {
        if same_section(INPUTS[i].section, section) && same(INPUTS[i].name, name) {
            return Some(&INPUTS[i]);
        }
        i += 1;
    }
    None
}

/// The offset of the (D) field `name` of `section` in its block of the plan's inputs:
/// the consortium's block (service then disputes) or a partner's. Offsets follow the
/// table's order. Panics (at compile time in a constant) for any other field.
pub const fn slot(section: Section, name: &str) -> usize {
    let block = section.partner_block();
    let mut n = 0;
    let mut i = 0;
    while i < INPUTS.len() {
        let input = &INPUTS[i];
        if input.is_dist() && input.section.partner_block() == block {
            if same_section(input.section, section) && same(input.name, name) {
                return n;
            }
            n += 1;
        }
        i += 1;
    }
    panic!("not a distribution-valued scenario input")
}

/// How many (D) fields the consortium's block (`partner` false) or each partner's block
/// (`partner` true) of the plan's inputs has.
pub const fn slots(partner: bool) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < INPUTS.len() {
        if INPUTS[i].is_dist() && INPUTS[i].section.partner_block() == partner {
            n += 1;
        }
        i += 1;
    }
    n
}

/// How many distribution-valued inputs the consortium itself has (service and disputes).
pub const CONSORTIUM_INPUTS: usize = slots(false);
/// How many distribution-valued inputs each partner has.
pub const PARTNER_INPUTS: usize = slots(true);

/// The names of a block's (D) fields in slot order; `N` must be [`slots`]`(partner)`.
const fn dist_names<const N: usize>(partner: bool) -> [&'static str; N] {
    let mut out = [""; N];
    let mut n = 0;
    let mut i = 0;
    while i < INPUTS.len() {
        if INPUTS[i].is_dist() && INPUTS[i].section.partner_block() == partner {
            out[n] = INPUTS[i].name;
            n += 1;
        }
        i += 1;
    }
    assert!(n == N, "N is the block's input count");
    out
}

/// The partner fields that may be distributions (D), in the order the plan lays out a
/// partner's inputs.
pub const PARTNER_UNCERTAIN_FIELDS: [&str; PARTNER_INPUTS] = dist_names(true);

/// The consortium's (D) fields in slot order.
pub fn consortium_dists() -> impl Iterator<Item = &'static Input> {
    INPUTS
        .iter()
        .filter(|i| i.is_dist() && !i.section.partner_block())
}

/// A partner's (D) fields in slot order.
pub fn partner_dists() -> impl Iterator<Item = &'static Input> {
    INPUTS
        .iter()
        .filter(|i| i.is_dist() && i.section.partner_block())
}

/// Whether the input a pointer names holds money, judged by its last segment
/// (`/partners/<name>/exit_fee`, `/service/fixed_cost`).
pub fn is_money(pointer: &str) -> bool {
    is_money_name(pointer.rsplit('/').next().unwrap_or_default())
}

/// Whether a field of this name, in any section, is an amount of money.
pub fn is_money_name(field: &str) -> bool {
    INPUTS.iter().any(|i| i.money && i.name == field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_has_distinct_names() {
        for (i, a) in INPUTS.iter().enumerate() {
            for b in &INPUTS[..i] {
                assert!(
                    a.section != b.section || a.name != b.name,
                    "{} twice",
                    a.name
                );
            }
        }
    }

    #[test]
    fn money_is_distribution_valued_and_named_as_costs_and_fees() {
        for i in INPUTS {
            let named = i.name.ends_with("_cost") || i.name.ends_with("_fee");
            assert_eq!(i.money, named, "{}", i.name);
            assert!(!i.money || i.is_dist(), "{}", i.name);
        }
    }

    #[test]
    fn slots_number_each_block_from_zero() {
        let consortium: Vec<usize> = consortium_dists()
            .map(|i| slot(i.section, i.name))
            .collect();
        assert_eq!(consortium, (0..CONSORTIUM_INPUTS).collect::<Vec<_>>());
        let partner: Vec<usize> = partner_dists().map(|i| slot(i.section, i.name)).collect();
        assert_eq!(partner, (0..PARTNER_INPUTS).collect::<Vec<_>>());
    }
}
