//! The scenario format as a JSON Schema (draft 2020-12), for editors and other tools.
//!
//! The hand-written validator in [`super::load`] stays the authority: it reports every
//! problem with its JSON path and checks what a schema cannot say (a distribution's mean
//! in its field's range, transition shares summing to 1, fixed weights naming every
//! partner, unique partner names, enough founders for `min_members`, discount bands in
//! increasing order). The types here mirror the format only so that `schemars` can
//! describe it: their doc comments become the schema's descriptions, their serde
//! attributes its defaults, and nothing is ever deserialized into them.
//!
//! `tests/it/schema.rs` keeps the two from drifting apart: the keys here must be exactly
//! the validator's known-key lists, every shipped scenario must validate, and the
//! committed `docs/scenario.schema.json` must equal [`to_json`]'s output.

use std::collections::BTreeMap;

use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings};
use serde::Serialize;
use serde_json::Value;

/// A text on one line, as names and the currency symbol must be: no control character
/// and no line or paragraph separator (the validator's
/// [`breaks_the_line`](crate::scenario::breaks_the_line)), in the ECMA-262 syntax that
/// JSON Schema's `pattern` uses.
const ONE_LINE: &str = r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$";

/// Renames `anyOf` to `oneOf`: used where the alternatives are of different JSON types,
/// so that exactly one can match.
fn one_of(schema: &mut Schema) {
    if let Some(alternatives) = schema.remove("anyOf") {
        schema.insert("oneOf".into(), alternatives);
    }
}

// ---------------------------------------------------------------------------------------
// Numbers. Every number in a scenario is finite and at most 1e15 in magnitude
// (load::MAX_MAGNITUDE); whole numbers have no such limit.
// ---------------------------------------------------------------------------------------

/// Any number, at most 1e15 in magnitude.
#[derive(JsonSchema, Serialize)]
pub struct Number(#[schemars(range(min = -1e15, max = 1e15))] f64);

/// A number >= 0 (at most 1e15).
#[derive(JsonSchema, Serialize)]
pub struct NonNegative(#[schemars(range(min = 0.0, max = 1e15))] f64);

/// A number > 0 (at most 1e15).
#[derive(JsonSchema, Serialize)]
pub struct Positive(#[schemars(range(max = 1e15), extend("exclusiveMinimum" = 0))] f64);

/// A probability or fraction: between 0 and 1 inclusive.
#[derive(JsonSchema, Serialize)]
pub struct Probability(#[schemars(range(min = 0.0, max = 1.0))] f64);

/// A whole number of years, >= 0.
#[derive(JsonSchema, Serialize)]
pub struct WholeYear(#[schemars(range(min = 0))] u64);

/// A discount rate: > -0.99 (at most 1e15). 0.035 is 3.5 %.
#[derive(JsonSchema, Serialize)]
pub struct Rate(#[schemars(range(max = 1e15), extend("exclusiveMinimum" = -0.99))] f64);

// ---------------------------------------------------------------------------------------
// Distributions
// ---------------------------------------------------------------------------------------

/// A (D) field: a plain number, the same in every trial, or a distribution sampled once
/// per trial (the drawn value holds for every year of that trial).
#[derive(JsonSchema, Serialize)]
#[serde(untagged)]
#[schemars(rename = "Uncertain{V}", transform = one_of)]
pub enum Uncertain<V> {
    /// A fixed value, which must lie in the field's range.
    Value(V),
    /// A distribution. Its mean must lie in the field's range (checked when the file is
    /// loaded); draws outside the range are clamped into it at run time.
    Distribution(Distribution<V>),
}

/// A distribution: an object with exactly one key, naming its form.
#[derive(JsonSchema, Serialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
#[schemars(rename = "{V}Distribution")]
pub enum Distribution<V> {
    /// `{"fixed": x}`: always x, the same as writing x.
    Fixed(V),
    /// `{"uniform": [lo, hi]}`: every value between lo and hi equally likely; lo <= hi.
    /// Mean (lo + hi) / 2.
    Uniform([Number; 2]),
    /// `{"triangular": [min, mode, max]}`: straight-line density rising to the mode;
    /// min <= mode <= max. Mean (min + mode + max) / 3.
    Triangular([Number; 3]),
    /// `{"pert": [min, mode, max]}`: Beta-PERT (lambda 4), a three-point estimate with
    /// more weight near the most likely value; min <= mode <= max. Mean
    /// (min + 4 mode + max) / 6.
    Pert([Number; 3]),
    /// `{"normal": [mean, sd]}`: unbounded, so it can draw negative values; sd >= 0.
    Normal((Number, NonNegative)),
    /// `{"lognormal": {"mean": m, "sd": s}}`: always positive and skewed to the right; m
    /// and s are the mean and standard deviation of the value itself, not of its
    /// logarithm.
    Lognormal(Lognormal),
    /// `{"discrete": [[value, weight], ...]}`: one of a few known outcomes; weights >= 0
    /// with a positive sum, not necessarily 1. Mean sum(value x weight) / sum(weight).
    Discrete(#[schemars(length(min = 1))] Vec<(Number, NonNegative)>),
}

/// Parameters of a lognormal distribution, in the units of the value itself.
#[derive(JsonSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Lognormal {
    /// The mean of the value: > 0.
    pub mean: Positive,
    /// The standard deviation of the value: >= 0.
    pub sd: NonNegative,
}

// ---------------------------------------------------------------------------------------
// Discount rates and cost sharing
// ---------------------------------------------------------------------------------------

/// The discount rate schedule. Discount factors are DF_0 = 1 and
/// DF_t = DF_(t-1) / (1 + r_t), where r_t is the rate for year t.
#[derive(JsonSchema, Serialize)]
#[serde(untagged)]
#[schemars(transform = one_of)]
pub enum DiscountRate {
    /// The same rate every year, e.g. 0.035.
    Constant(Rate),
    /// A named HM Treasury schedule.
    Named(NamedRate),
    /// Rates by year: each band's rate applies from its from_year until the next band.
    /// The first band starts at year 0 and from_year increases strictly.
    Bands(#[schemars(length(min = 1))] Vec<Band>),
}

/// A named discount schedule.
#[derive(JsonSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NamedRate {
    /// HM Treasury Green Book: 3.5 % for years 0-30, 3.0 % for 31-75, 2.5 % from 76.
    GreenBook,
    /// Green Book health rates: 1.5 %, 1.29 % and 1.07 % on the same bands.
    GreenBookHealth,
}

/// One band of a discount schedule.
#[derive(JsonSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// The first year (counted from 0) this rate applies to.
    pub from_year: u64,
    /// The rate from that year on.
    pub rate: Rate,
}

/// How each year's pool of costs is split between that year's members.
#[derive(JsonSchema, Serialize)]
#[serde(untagged)]
#[schemars(transform = one_of)]
pub enum CostSharing {
    /// A rule by name.
    Rule(SharingRule),
    /// Agreed weights.
    Fixed(FixedWeights),
}

/// A cost-sharing rule.
#[derive(JsonSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SharingRule {
    /// In proportion to each member's baseline cost.
    Proportional,
    /// Equal shares; suitable only when the partners are of similar size.
    Equal,
}

/// `{"fixed": {"<partner name>": weight, ...}}`.
#[derive(JsonSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FixedWeights {
    /// A weight > 0 for every partner, late joiners included, and only for partners. A
    /// member's share is its weight over the sum of this year's members' weights, so
    /// the weights need not add up to 1 or 100.
    pub fixed: BTreeMap<String, Positive>,
}

// ---------------------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------------------

/// A proposed shared service between public bodies and the bodies that might take part
/// in it, for Monte Carlo stress-testing by consortium-sim. Money is in one currency
/// unit per year, in real terms at base-year prices; years are numbered 0 to
/// horizon_years - 1, year 0 being the transition year. See docs/scenario-format.md.
#[derive(JsonSchema, Serialize)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Scenario", title = "consortium-sim scenario")]
pub struct ScenarioFile {
    /// The address of this schema, so that an editor can validate and complete the
    /// file. Accepted and ignored.
    #[serde(rename = "$schema", default, skip_serializing_if = "String::is_empty")]
    pub schema: String,
    /// The scenario's name, shown in reports. Keep it short, on one line.
    #[schemars(title = "Name")]
    #[schemars(length(min = 1), regex(pattern = ONE_LINE))]
    pub name: String,
    /// Free text for the reader of the file; it does not affect the results.
    #[schemars(title = "Description")]
    #[serde(default)]
    pub description: String,
    /// The symbol put before money in summaries and traces, e.g. "£", "€" or "GBP ". It
    /// changes no figure.
    #[schemars(title = "Currency symbol")]
    #[schemars(regex(pattern = ONE_LINE))]
    #[serde(default = "pound")]
    pub currency: String,
    /// The number of years simulated (H), including year 0.
    #[schemars(title = "Horizon (years)")]
    #[schemars(range(min = 1, max = 100))]
    pub horizon_years: u64,
    /// A number (> -0.99), "green_book", "green_book_health", or a list of
    /// {"from_year", "rate"} bands.
    #[schemars(title = "Discount rate")]
    #[serde(default = "default_discount")]
    pub discount_rate: DiscountRate,
    /// The number of random trials; the command line's --trials overrides it.
    #[schemars(title = "Trials")]
    #[serde(default = "default_trials")]
    #[schemars(range(min = 1))]
    pub trials: u64,
    /// The random seed; the command line's --seed overrides it. The same scenario, seed
    /// and trial count always give the same report.
    #[schemars(title = "Seed")]
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The consortium collapses if withdrawals would leave fewer members than this. The
    /// founders (joins_year 0) must number at least min_members.
    #[schemars(title = "Fewest members before collapse")]
    #[serde(default = "default_min_members")]
    #[schemars(range(min = 1))]
    pub min_members: u64,
    /// The shared service's costs and savings.
    #[schemars(title = "Service")]
    pub service: Service,
    /// The public bodies that found or may join the consortium; names must be unique.
    #[schemars(title = "Partners")]
    #[schemars(length(min = 1))]
    pub partners: Vec<Partner>,
    /// The dispute process: a dispute is active or not in each year. Without this object
    /// there are no disputes.
    #[schemars(title = "Disputes")]
    #[serde(default)]
    pub disputes: Disputes,
    /// How much one exit makes the next more likely (c): each notice given at the end of
    /// a year adds c to every member's withdrawal probability in the next year.
    /// >= 0; draws are held >= 0, and only the final probability is held to 1.
    #[schemars(title = "Contagion (extra exit chance per notice)")]
    #[serde(default = "zero")]
    pub contagion: Uncertain<NonNegative>,
    /// Rank (Spearman) correlations between distribution-valued inputs, sampled through
    /// a Gaussian copula. The set must be consistent (a valid correlation matrix on the
    /// copula's normal scale), unless repair_correlations is true.
    #[schemars(title = "Correlations")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub correlations: Vec<Correlation>,
    /// Use the nearest consistent set of correlations, with a warning, instead of
    /// refusing an inconsistent one (what --repair-correlations sets).
    #[schemars(title = "Repair inconsistent correlations")]
    #[serde(default)]
    pub repair_correlations: bool,
}

/// One correlated pair of uncertain inputs.
#[derive(JsonSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Correlation {
    /// A JSON pointer to a distribution-valued input, e.g. "/service/efficiency" or
    /// "/partners/North Council/baseline_cost" (partners by name or index).
    #[schemars(title = "Input")]
    pub a: String,
    /// The other input.
    #[schemars(title = "Other input")]
    pub b: String,
    /// The target rank correlation between them.
    #[schemars(title = "Rank correlation")]
    #[schemars(range(min = -1.0, max = 1.0))]
    pub rank_correlation: f64,
}

fn pound() -> String {
    "£".into()
}

fn default_discount() -> DiscountRate {
    DiscountRate::Constant(Rate(0.035))
}

fn default_trials() -> u64 {
    100_000
}

fn default_seed() -> u64 {
    1
}

fn default_min_members() -> u64 {
    2
}

fn zero() -> Uncertain<NonNegative> {
    Uncertain::Value(NonNegative(0.0))
}

fn one_list() -> Vec<NonNegative> {
    vec![NonNegative(1.0)]
}

/// The shared service's costs and savings.
#[derive(JsonSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The annual cost of running the shared service itself (F: governance, hosting,
    /// contract management), paid every year the consortium exists.
    #[schemars(title = "Annual fixed cost")]
    #[serde(default = "zero")]
    pub fixed_cost: Uncertain<NonNegative>,
    /// The fraction of the members' pooled baseline cost saved (g) at full ramp and
    /// founding scale; 0.15 is 15 %. Each year's realised efficiency is held between -1
    /// and 0.95.
    #[schemars(title = "Efficiency saving")]
    pub efficiency: Uncertain<Number>,
    /// The fraction of g achieved in years 0, 1, 2, ...; the last value repeats.
    #[schemars(title = "Ramp-up by year")]
    #[serde(default = "ramp")]
    #[schemars(length(min = 1))]
    pub ramp: Vec<Number>,
    /// The standard deviation of a normal year-to-year shock added to the efficiency, in
    /// the units of g.
    #[schemars(title = "Year-to-year efficiency noise (sd)")]
    #[serde(default)]
    pub efficiency_noise_sd: NonNegative,
    /// Economies of scale (e): each year the efficiency is multiplied by (members'
    /// baseline cost / founders' baseline cost) ^ e; negative for diseconomies.
    #[schemars(title = "Scale elasticity")]
    #[serde(default)]
    pub scale_elasticity: Number,
    /// The one-off cost of setting up the shared service (T), before optimism bias.
    #[schemars(title = "Transition cost")]
    #[serde(default = "zero")]
    pub transition_cost: Uncertain<NonNegative>,
    /// The shares of the transition cost paid in years 0, 1, 2, ...; each >= 0, summing
    /// to 1 within 1e-9. Years beyond the list pay nothing.
    #[schemars(title = "Transition cost by year")]
    #[serde(default = "one_list")]
    #[schemars(length(min = 1))]
    pub transition_profile: Vec<NonNegative>,
    /// The Green Book uplift on the transition cost: T' = T x (1 + optimism_bias).
    #[schemars(title = "Optimism bias")]
    #[serde(default)]
    pub optimism_bias: NonNegative,
    /// "proportional" (to baseline cost), "equal", or fixed weights:
    /// `{"fixed": {"partner name": weight, ...}}`.
    #[schemars(title = "Cost sharing")]
    #[serde(default = "proportional")]
    pub cost_sharing: CostSharing,
    /// How many whole years go-live slips (d). A drawn value x becomes floor(x + 0.5),
    /// held between 0 and horizon_years (which means the service never goes live). In
    /// the delay years each member still runs its own service; the pool pays only
    /// delay_cost, transition payments and dispute costs; the ramp starts at go-live.
    #[schemars(title = "Go-live delay (years)")]
    #[serde(default = "zero")]
    pub delay_years: Uncertain<NonNegative>,
    /// The pool's extra cost in each year of delay (extended legacy contracts, the
    /// programme team kept on).
    #[schemars(title = "Cost of each year of delay")]
    #[serde(default = "zero")]
    pub delay_cost: Uncertain<NonNegative>,
}

fn ramp() -> Vec<Number> {
    vec![Number(1.0)]
}

fn proportional() -> CostSharing {
    CostSharing::Rule(SharingRule::Proportional)
}

/// One public body that founds or may join the consortium.
#[derive(JsonSchema, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// Used in reports and in cost_sharing weights; unique among the partners, and on
    /// one line.
    #[schemars(title = "Name")]
    #[schemars(length(min = 1), regex(pattern = ONE_LINE))]
    pub name: String,
    /// What the partner would spend each year running the service alone (B, the
    /// counterfactual).
    #[schemars(title = "Baseline cost (going alone)")]
    pub baseline_cost: Uncertain<Positive>,
    /// 0 for a founder; a later year makes a late joiner, which joins in that year with
    /// probability join_probability or never. A plain year (or {"fixed": y}) is a whole
    /// number; any other distribution makes an uncertain late joiner, whose drawn year x
    /// becomes max(1, floor(x + 0.5)).
    #[schemars(title = "Joins in year")]
    #[serde(default = "founder")]
    pub joins_year: Uncertain<WholeYear>,
    /// The chance that a late joiner joins; founders always join.
    #[schemars(title = "Chance of joining")]
    #[serde(default = "certain")]
    pub join_probability: Uncertain<Probability>,
    /// A one-off cost the partner pays in the year it first joins; not pooled.
    #[schemars(title = "Onboarding cost")]
    #[serde(default = "zero")]
    pub onboarding_cost: Uncertain<NonNegative>,
    /// The base annual probability of giving notice to leave (h).
    #[schemars(title = "Chance of leaving each year")]
    #[serde(default = "zero")]
    pub withdrawal_hazard: Uncertain<NonNegative>,
    /// Multipliers of the hazard in years 0, 1, 2, ...; the last value repeats.
    #[schemars(title = "Leaving chance by year (multipliers)")]
    #[serde(default = "one_list")]
    #[schemars(length(min = 1))]
    pub hazard_profile: Vec<NonNegative>,
    /// Extra withdrawal probability per unit of relative loss on the member's running
    /// account (k): 0.5 adds 5 points in a year the member runs 10 % worse than alone.
    #[schemars(title = "Disappointment sensitivity")]
    #[serde(default)]
    pub disappointment_sensitivity: NonNegative,
    /// No withdrawal takes effect before this year (L, counted from year 0).
    #[schemars(title = "Lock-in (years)")]
    #[serde(default)]
    pub lock_in_years: u64,
    /// Paid by a leaver into the pool in its first year out (not on a collapse).
    #[schemars(title = "Exit fee")]
    #[serde(default = "zero")]
    pub exit_fee: Uncertain<NonNegative>,
    /// The leaver's own one-off cost of setting the service up again, in its first year
    /// out; on a collapse every member of the final year pays it.
    #[schemars(title = "Cost of going back in-house")]
    #[serde(default = "zero")]
    pub reestablish_cost: Uncertain<NonNegative>,
    /// The chance each year that a partner out for a whole year comes back.
    #[schemars(title = "Chance of rejoining each year")]
    #[serde(default = "never")]
    pub rejoin_probability: Uncertain<Probability>,
    /// Paid by a rejoiner into the pool in the year it rejoins.
    #[schemars(title = "Rejoin fee")]
    #[serde(default = "zero")]
    pub rejoin_fee: Uncertain<NonNegative>,
}

fn founder() -> Uncertain<WholeYear> {
    Uncertain::Value(WholeYear(0))
}

fn certain() -> Uncertain<Probability> {
    Uncertain::Value(Probability(1.0))
}

fn never() -> Uncertain<Probability> {
    Uncertain::Value(Probability(0.0))
}

/// The dispute process: a dispute between the partners is active or not in each year.
#[derive(JsonSchema, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Disputes {
    /// The chance that a new dispute starts (p_d) in a year when none is active.
    #[schemars(title = "Chance a dispute starts")]
    #[serde(default)]
    pub annual_probability: Probability,
    /// The chance that an active dispute ends (rho) in a given year; with 0 a dispute
    /// never ends. The expected length of a dispute is about 1 / rho years.
    #[schemars(title = "Chance a dispute ends")]
    #[serde(default)]
    pub resolution_probability: Probability,
    /// The cost added to the pool (K) in each year a dispute is active.
    #[schemars(title = "Cost of each dispute year")]
    #[serde(default = "zero")]
    pub annual_cost: Uncertain<NonNegative>,
    /// The fraction of the year's efficiency lost (delta) while a dispute is active.
    #[schemars(title = "Efficiency lost in a dispute")]
    #[serde(default)]
    pub efficiency_loss: Probability,
    /// The extra withdrawal probability (u) of every member in each year a dispute is
    /// active.
    #[schemars(title = "Extra exit chance in a dispute")]
    #[serde(default)]
    pub hazard_uplift: NonNegative,
}

impl Default for Number {
    fn default() -> Self {
        Number(0.0)
    }
}

impl Default for NonNegative {
    fn default() -> Self {
        NonNegative(0.0)
    }
}

impl Default for Probability {
    fn default() -> Self {
        Probability(0.0)
    }
}

impl Default for Uncertain<NonNegative> {
    fn default() -> Self {
        zero()
    }
}

/// Joins the lines of each paragraph of a description, which come from doc comments
/// wrapped at 90 columns, so that editors reflow them to their own width.
fn unwrap_lines(schema: &mut Schema) {
    if let Some(Value::String(text)) = schema.get_mut("description") {
        *text = text
            .split("\n\n")
            .map(|paragraph| paragraph.replace('\n', " "))
            .collect::<Vec<_>>()
            .join("\n\n");
    }
}

/// The schema of a scenario file.
pub fn schema() -> Schema {
    let generator: SchemaGenerator = SchemaSettings::draft2020_12()
        .with_transform(RecursiveTransform(unwrap_lines))
        .into_generator();
    generator.into_root_schema_for::<ScenarioFile>()
}

/// The schema as pretty-printed JSON with a final newline: what `consortium-sim schema`
/// prints and `docs/scenario.schema.json` holds.
pub fn to_json() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).expect("a schema serializes");
    text.push('\n');
    text
}
