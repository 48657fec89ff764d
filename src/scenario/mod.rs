//! The scenario: what a user writes, after validation.
//!
//! A scenario file is read as JSON ([`load`]), optionally edited by `--set` overrides
//! ([`overrides`]), and checked field by field into a [`Scenario`]. Every problem found is
//! reported with the JSON pointer of the offending value, all at once, so that a finance
//! officer editing a file by hand fixes everything in one pass.
//!
//! Which fields exist, where, with what range and default, is one table ([`inputs`]);
//! the loader, the plan's input offsets, the correlation lookup and the money test all
//! read it. A [`Scenario`] and a [`Dist`] can only be made validated.
//!
//! A scenario may also be an Excel workbook ([`workbook`]), read into the same JSON
//! and validated by the same loader, its problems located by sheet and cell too.

pub mod correlations;
pub mod dist;
pub mod inputs;
pub mod load;
pub mod origin;
pub mod overrides;
pub mod plausibility;
pub mod schema;
pub mod workbook;

pub use correlations::Correlations;
pub use dist::{Dist, DistError, DistKind};
pub use inputs::PARTNER_UNCERTAIN_FIELDS;
pub use load::{from_str, from_value, load_file};
pub use overrides::apply_set;

use std::fmt;
use std::ops::Deref;

use inputs::{CONSORTIUM_INPUTS, PARTNER_INPUTS};

/// A validated scenario: every default filled in, every range checked.
///
/// Only the loader ([`from_value`] and its siblings) makes one, so that
/// [`crate::plan::Plan::compile`] can trust it; its contents are read, never written,
/// through [`ScenarioData`] (by `Deref`). To change a scenario, change its JSON (as
/// `--set` does) and load it again.
#[derive(Debug, Clone)]
pub struct Scenario {
    data: ScenarioData,
}

impl Deref for Scenario {
    type Target = ScenarioData;

    fn deref(&self) -> &ScenarioData {
        &self.data
    }
}

impl Scenario {
    /// Wraps what the loader has checked.
    pub(crate) fn validated(data: ScenarioData) -> Scenario {
        Scenario { data }
    }
}

/// The contents of a [`Scenario`]. Anyone can build one, but only the loader turns one
/// into a `Scenario`.
#[derive(Debug, Clone)]
pub struct ScenarioData {
    pub name: String,
    pub description: String,
    /// Symbol put before money in human-readable output (default "£"); changes no figure.
    pub currency: String,
    pub horizon_years: usize,
    pub discount: DiscountRate,
    pub trials: u64,
    pub seed: u64,
    pub min_members: usize,
    pub service: Service,
    pub partners: Vec<Partner>,
    pub disputes: Disputes,
    /// Extra withdrawal hazard for every member per notice given at the end of the
    /// previous year (docs/model.md, "Contagion").
    pub contagion: Dist,
    /// Rank correlations between uncertain inputs, if any.
    pub correlations: Option<Correlations>,
}

/// The discount rate schedule of docs/model.md.
#[derive(Debug, Clone, PartialEq)]
pub enum DiscountRate {
    /// One rate for every year.
    Constant(f64),
    /// Bands of `(from_year, rate)`, the first starting at year 0, strictly increasing.
    Bands(Vec<(usize, f64)>),
}

impl DiscountRate {
    /// HM Treasury Green Book: 3.5 % for years 0-30, 3.0 % for 31-75, 2.5 % from 76.
    pub fn green_book() -> Self {
        DiscountRate::Bands(vec![(0, 0.035), (31, 0.030), (76, 0.025)])
    }

    /// Green Book health rates: 1.5 %, 1.29 %, 1.07 % on the same bands.
    pub fn green_book_health() -> Self {
        DiscountRate::Bands(vec![(0, 0.015), (31, 0.0129), (76, 0.0107)])
    }

    /// The rate r_t that applies to year `t`.
    pub fn rate(&self, t: usize) -> f64 {
        match self {
            DiscountRate::Constant(r) => *r,
            DiscountRate::Bands(bands) => bands
                .iter()
                .rev()
                .find(|&&(from, _)| from <= t)
                .map_or(bands[0].1, |&(_, r)| r),
        }
    }

    /// Discount factors DF_0 .. DF_(H-1), with DF_0 = 1 and DF_t = DF_(t-1) / (1 + r_t).
    pub fn factors(&self, horizon: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(horizon);
        let mut df = 1.0;
        for t in 0..horizon {
            if t > 0 {
                df /= 1.0 + self.rate(t);
            }
            out.push(df);
        }
        out
    }
}

/// The shared service's costs and savings.
#[derive(Debug, Clone)]
pub struct Service {
    pub fixed_cost: Dist,
    pub efficiency: Dist,
    /// Fractions of g realised by year; the last value repeats.
    pub ramp: Vec<f64>,
    pub efficiency_noise_sd: f64,
    pub scale_elasticity: f64,
    pub transition_cost: Dist,
    /// Shares of T' paid by year; does not repeat.
    pub transition_profile: Vec<f64>,
    pub optimism_bias: f64,
    pub cost_sharing: CostSharing,
    /// How many whole years go-live slips (sampled, then rounded and held to the horizon).
    pub delay_years: Dist,
    /// The pool's extra cost in each year of delay.
    pub delay_cost: Dist,
}

impl Service {
    /// Whether go-live can slip at all: the scenario's model is then v2's (delay years).
    pub fn may_be_delayed(&self) -> bool {
        !(self.delay_years.is_fixed() && self.delay_years.mean() < 0.5)
    }
}

/// How the pool is split between this year's members.
#[derive(Debug, Clone, PartialEq)]
pub enum CostSharing {
    /// In proportion to baseline cost B_i.
    Proportional,
    /// Equal shares.
    Equal,
    /// Fixed weights, one per partner in the order of `partners` (all > 0).
    Fixed(Vec<f64>),
}

impl fmt::Display for CostSharing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CostSharing::Proportional => f.write_str("proportional to baseline cost"),
            CostSharing::Equal => f.write_str("equal shares"),
            CostSharing::Fixed(_) => f.write_str("fixed weights"),
        }
    }
}

/// One public body in the consortium.
#[derive(Debug, Clone)]
pub struct Partner {
    pub name: String,
    pub baseline_cost: Dist,
    /// The year it joins: a whole number (a `fixed` one for a plain year), or a
    /// distribution for an uncertain late joiner (see [`Partner::join_year`]).
    pub joins_year: Dist,
    pub join_probability: Dist,
    pub onboarding_cost: Dist,
    pub withdrawal_hazard: Dist,
    /// Multipliers of the hazard by year; the last value repeats.
    pub hazard_profile: Vec<f64>,
    pub disappointment_sensitivity: f64,
    pub lock_in_years: usize,
    pub exit_fee: Dist,
    pub reestablish_cost: Dist,
    pub rejoin_probability: Dist,
    pub rejoin_fee: Dist,
}

impl Partner {
    /// Founders are the partners that join in year 0.
    pub fn is_founder(&self) -> bool {
        self.join_year() == Some(0)
    }

    /// The year it joins when that is certain; `None` for a late joiner whose year is a
    /// distribution (always a late joiner, whatever the distribution).
    pub fn join_year(&self) -> Option<usize> {
        // The loader accepts only whole numbers for a fixed join year.
        self.joins_year
            .is_fixed()
            .then(|| self.joins_year.mean() as usize)
    }

    /// The partner's (D) fields, in the order of [`PARTNER_UNCERTAIN_FIELDS`] (checked
    /// against the table by a unit test).
    pub fn uncertain(&self) -> [&Dist; PARTNER_INPUTS] {
        [
            &self.baseline_cost,
            &self.joins_year,
            &self.join_probability,
            &self.onboarding_cost,
            &self.withdrawal_hazard,
            &self.exit_fee,
            &self.reestablish_cost,
            &self.rejoin_probability,
            &self.rejoin_fee,
        ]
    }

    /// The (D) field called `field`, if it is one.
    pub fn uncertain_field(&self, field: &str) -> Option<&Dist> {
        let i = PARTNER_UNCERTAIN_FIELDS.iter().position(|f| *f == field)?;
        Some(self.uncertain()[i])
    }
}

/// The dispute process: a two-state Markov chain.
#[derive(Debug, Clone)]
pub struct Disputes {
    pub annual_probability: f64,
    pub resolution_probability: f64,
    pub annual_cost: Dist,
    pub efficiency_loss: f64,
    pub hazard_uplift: f64,
}

impl Default for Disputes {
    fn default() -> Self {
        Disputes {
            annual_probability: 0.0,
            resolution_probability: 0.0,
            annual_cost: Dist::ZERO,
            efficiency_loss: 0.0,
            hazard_uplift: 0.0,
        }
    }
}

/// One problem found in a scenario: where (a JSON pointer, or a file; and in a
/// workbook, the cell) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
    /// Where the value is in a scenario workbook (`Partners!J3`, `Partners row 3`,
    /// `sheet Partners`), when the scenario was read from one ([`workbook`]).
    pub cell: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.cell, self.path.as_str()) {
            (Some(cell), "") => write!(f, "{cell}: {}", self.message),
            (Some(cell), path) => write!(f, "{cell} ({path}): {}", self.message),
            (None, "") => write!(f, "(top level): {}", self.message),
            (None, path) => write!(f, "{path}: {}", self.message),
        }
    }
}

/// Why a scenario could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read at all.
    #[error("cannot read scenario file {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than any scenario (see [`load::MAX_FILE_BYTES`]).
    #[error(
        "{path} is larger than {limit_mib} MiB, the most a scenario file may be; is it the right file?"
    )]
    TooLarge { path: String, limit_mib: u64 },
    /// The text is not JSON; serde_json's message gives line and column. `hint` says
    /// what the text looks like when that explains it (empty, UTF-16 or UTF-32), or is
    /// empty.
    #[error("{origin} is not valid JSON{hint}")]
    Syntax {
        origin: String,
        hint: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The file is of a kind the loader recognises but does not read (an old Excel
    /// workbook, an OpenDocument spreadsheet, a PDF): said by name, with what to do,
    /// rather than as JSON's syntax error at line 1 column 1.
    #[error(
        "{origin} is {kind}, not a scenario: a scenario is JSON text or an Excel workbook (.xlsx). {advice}"
    )]
    Format {
        origin: String,
        kind: &'static str,
        advice: &'static str,
    },
    /// A `--set` override could not be applied.
    #[error("--set {spec}: {message}")]
    Override { spec: String, message: String },
    /// The file is not an Excel workbook that can be read (damaged, not an .xlsx).
    #[error("{origin} is not a readable Excel workbook (.xlsx): {message}")]
    Workbook { origin: String, message: String },
    /// The scenario cannot be written as a workbook (a text longer than a cell holds, the
    /// message says where; or the writer failed).
    #[error("{origin} cannot be written as a workbook: {message}")]
    Unwritable { origin: String, message: String },
    /// The JSON was read but some values are wrong; every problem is listed.
    #[error("{origin} has {} problem{}:\n{}", problems.len(), if problems.len() == 1 { "" } else { "s" }, list(problems))]
    Invalid {
        origin: String,
        problems: Vec<Problem>,
        /// What was found to warn about before the problems (a workbook formula read as
        /// its saved 0, which may be why a value is out of range): not part of the
        /// message; the run API tells them as notices ([`ScenarioError::take_warnings`]).
        warnings: Vec<String>,
    },
}

impl ScenarioError {
    /// The warnings an invalid scenario carries, taken out of it.
    pub fn take_warnings(&mut self) -> Vec<String> {
        match self {
            ScenarioError::Invalid { warnings, .. } => std::mem::take(warnings),
            _ => Vec::new(),
        }
    }
}

/// What keeps `text` from printing on one line, for a name or symbol that heads a row or
/// column of a table: its first control character (a line break or tab pasted with it,
/// an ESC that would act on a terminal) or line or paragraph separator, described with
/// its code point and position, as "holds a line break (U+000A) at character 2". `None`
/// for a one-line text. (Bidirectional and zero-width marks are allowed: a name in Arabic,
/// Hebrew or Persian may need them; a terminal shows them escaped.)
pub fn breaks_the_line(text: &str) -> Option<String> {
    let (k, c) = text
        .chars()
        .enumerate()
        .find(|&(_, c)| c.is_control() || c == '\u{2028}' || c == '\u{2029}')?;
    let what = match c {
        '\n' => "a line break",
        '\r' => "a carriage return",
        '\t' => "a tab",
        '\u{2028}' => "a line separator",
        '\u{2029}' => "a paragraph separator",
        _ => "the control character",
    };
    Some(format!(
        "holds {what} (U+{:04X}) at character {}",
        u32::from(c),
        k + 1
    ))
}

/// `names` for a message that offers them as the choices: the first ten, and how many
/// more there are (a scenario may have hundreds of partners; a message should not).
pub fn some_names<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    const MOST: usize = 10;
    let names: Vec<&str> = names.into_iter().collect();
    let mut out = names[..names.len().min(MOST)].join(", ");
    if names.len() > MOST {
        out.push_str(&format!(" and {} more", names.len() - MOST));
    }
    out
}

/// Whether a character would act on a terminal or a line rather than show: a control
/// character (ESC starts sequences that colour the terminal or set its title, a carriage
/// return overwrites the line), a line or paragraph separator, or a bidirectional,
/// zero-width or tag mark that reorders or hides the text around it. Names and file
/// names come from users' files, and a message must show them as they are, not let them
/// act.
pub fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The consortium's own (D) fields, in the plan's slot order ([`inputs::slot`]; checked
/// against the table by a unit test).
pub fn consortium_inputs<'s>(
    service: &'s Service,
    disputes: &'s Disputes,
    contagion: &'s Dist,
) -> [&'s Dist; CONSORTIUM_INPUTS] {
    [
        &service.fixed_cost,
        &service.efficiency,
        &service.transition_cost,
        &service.delay_years,
        &service.delay_cost,
        &disputes.annual_cost,
        contagion,
    ]
}

impl ScenarioData {
    /// The consortium's own (D) fields, in the plan's slot order.
    pub fn consortium_inputs(&self) -> [&Dist; CONSORTIUM_INPUTS] {
        consortium_inputs(&self.service, &self.disputes, &self.contagion)
    }

    /// Whether one partner's notice can raise the others' hazard: contagion is anything
    /// but a fixed 0.
    pub fn may_be_contagious(&self) -> bool {
        !(self.contagion.is_fixed() && self.contagion.mean() == 0.0)
    }

    /// Sum of the mean baseline costs of the founders (used in summaries).
    pub fn founders(&self) -> impl Iterator<Item = &Partner> {
        self.partners.iter().filter(|p| p.is_founder())
    }

    /// A one-paragraph plain-English summary, printed by `validate`.
    pub fn summary(&self) -> String {
        let founders = self.founders().count();
        let late = self.partners.len() - founders;
        let uncertain = self.uncertain_inputs();
        let mut s = format!(
            "\"{}\": {} partner{} ({} founder{}{}), {} year horizon, discount {}, \
             {} trials from seed {}, collapse below {} member{}. ",
            self.name,
            self.partners.len(),
            plural(self.partners.len()),
            founders,
            plural(founders),
            if late > 0 {
                format!(", {late} late joiner{}", plural(late))
            } else {
                String::new()
            },
            self.horizon_years,
            match &self.discount {
                DiscountRate::Constant(r) => format!("{:.2} %", r * 100.0),
                DiscountRate::Bands(b) => format!("in {} band{}", b.len(), plural(b.len())),
            },
            self.trials,
            self.seed,
            self.min_members,
            plural(self.min_members),
        );
        s.push_str(&format!(
            "Efficiency {} with costs shared {}; {} uncertain input{}",
            self.service.efficiency,
            self.service.cost_sharing,
            uncertain,
            plural(uncertain)
        ));
        if let Some(c) = &self.correlations {
            s.push_str(&format!(
                "; {} input{} correlated",
                c.labels.len(),
                plural(c.labels.len())
            ));
        }
        if self.service.may_be_delayed() {
            s.push_str(&format!(
                "; go-live delay {} years (rounded to whole years), delay cost {} a year",
                self.service.delay_years, self.service.delay_cost
            ));
        }
        let uncertain_joins = self
            .partners
            .iter()
            .filter(|p| p.join_year().is_none())
            .count();
        if uncertain_joins > 0 {
            s.push_str(&format!(
                "; {uncertain_joins} late joiner{} with an uncertain join year",
                plural(uncertain_joins)
            ));
        }
        if self.may_be_contagious() {
            s.push_str(&format!(
                "; contagion {} added to each member's hazard per notice the year before",
                self.contagion
            ));
        }
        if self.disputes.annual_probability > 0.0 {
            s.push_str(&format!(
                "; disputes start with probability {} a year",
                self.disputes.annual_probability
            ));
        }
        s.push('.');
        s
    }

    /// How many inputs are distributions rather than fixed numbers.
    pub fn uncertain_inputs(&self) -> usize {
        let service = self.consortium_inputs();
        let partners = self.partners.iter().flat_map(Partner::uncertain);
        service
            .into_iter()
            .chain(partners)
            .filter(|d| !d.is_fixed())
            .count()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::inputs::{self, Section};
    use serde_json::{Map, Value, json};

    /// A number past the 1e15 limit is shown as typed when short, in exponent form when
    /// its digits would run to hundreds.
    #[test]
    fn a_number_too_large_is_shown_short() {
        let template: Value = serde_json::from_str(crate::TEMPLATE).unwrap();
        for (x, shown) in [
            (2e15, "2000000000000000"),
            (1e300, "1e300"),
            (-1.5e308, "-1.5e308"),
        ] {
            let mut v = template.clone();
            v["partners"][0]["exit_fee"] = json!(x);
            let e = super::from_value(&v, "t").unwrap_err().to_string();
            assert!(
                e.contains(&format!(
                    "/partners/0/exit_fee: {shown} is too large: numbers are limited to 1e15"
                )),
                "{e}"
            );
        }
    }

    /// What breaks a line is named with its code point and 1-based position (counted in
    /// characters, not bytes); marks a right-to-left name needs are kept.
    #[test]
    fn breaks_the_line_names_the_first_culprit() {
        use super::breaks_the_line as b;
        assert_eq!(b("North Council"), None);
        assert_eq!(b("\u{200f}שירות\u{200d}"), None);
        assert_eq!(
            b("é\nx\t").as_deref(),
            Some("holds a line break (U+000A) at character 2")
        );
        assert_eq!(
            b("ab\u{2028}").as_deref(),
            Some("holds a line separator (U+2028) at character 3")
        );
        assert_eq!(
            b("\u{2029}").as_deref(),
            Some("holds a paragraph separator (U+2029) at character 1")
        );
        assert_eq!(
            b("x\u{85}").as_deref(),
            Some("holds the control character (U+0085) at character 2")
        );
        assert_eq!(
            b("\r").as_deref(),
            Some("holds a carriage return (U+000D) at character 1")
        );
    }

    /// Ten names at most, then how many more.
    #[test]
    fn some_names_stops_at_ten() {
        use super::some_names;
        assert_eq!(some_names([]), "");
        assert_eq!(some_names(["A", "B"]), "A, B");
        let many: Vec<String> = (1..=14).map(|i| format!("P{i}")).collect();
        assert_eq!(
            some_names(many.iter().map(String::as_str)),
            "P1, P2, P3, P4, P5, P6, P7, P8, P9, P10 and 4 more"
        );
        assert_eq!(
            some_names(many[..10].iter().map(String::as_str))
                .matches(',')
                .count(),
            9
        );
    }

    /// A distinct value for each (D) field: its slot's, scaled to stay in every range.
    fn value(slot: usize) -> Value {
        json!(0.1 * (slot + 1) as f64)
    }

    /// The hand-written lists of (D) fields ([`super::consortium_inputs`],
    /// [`super::Partner::uncertain`]) follow the table's slots.
    #[test]
    fn the_dist_accessors_follow_the_table() {
        let mut service = Map::new();
        let mut disputes = Map::new();
        let mut top = Map::new();
        let mut partner = Map::new();
        partner.insert("name".into(), json!("A"));
        for input in inputs::INPUTS.iter().filter(|i| i.is_dist()) {
            let v = value(inputs::slot(input.section, input.name));
            let section = match input.section {
                Section::Service => &mut service,
                Section::Disputes => &mut disputes,
                Section::Partner => &mut partner,
                Section::Top => &mut top,
            };
            section.insert(input.name.into(), v);
        }
        // A fixed join year is a whole number: the partner's is given as a
        // distribution whose mean is its slot's value.
        let join = inputs::slot(Section::Partner, "joins_year");
        let x = value(join).as_f64().unwrap();
        partner.insert(
            "joins_year".into(),
            json!({"uniform": [x - 0.05, x + 0.05]}),
        );
        let mut v = json!({
            "name": "slots", "horizon_years": 3, "min_members": 1,
            "service": service, "disputes": disputes, "partners": [partner, {"name": "B", "baseline_cost": 1}],
        });
        v.as_object_mut().unwrap().extend(top);
        let s = super::from_value(&v, "test").expect("valid");
        for (slot, dist) in s.consortium_inputs().iter().enumerate() {
            assert_eq!(dist.mean(), value(slot).as_f64().unwrap(), "slot {slot}");
        }
        for (slot, dist) in s.partners[0].uncertain().iter().enumerate() {
            let (mean, want) = (dist.mean(), value(slot).as_f64().unwrap());
            assert!((mean - want).abs() < 1e-12, "slot {slot}: {mean} vs {want}");
        }
    }

    /// `Disputes::default()`, used when a scenario has no `disputes`, is what the
    /// table's defaults give for an empty `disputes` object.
    #[test]
    fn no_disputes_are_the_table_defaults() {
        let load = |extra: Value| {
            let mut v = json!({
                "name": "d", "horizon_years": 3, "min_members": 1,
                "service": {"efficiency": 0.1}, "partners": [{"name": "A", "baseline_cost": 1}],
            });
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let s = super::from_value(&v, "test").expect("valid");
            format!("{:?}", s.disputes)
        };
        assert_eq!(load(json!({})), load(json!({"disputes": {}})));
    }
}
