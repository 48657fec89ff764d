//! Agreement terms as a design question: which sets of the terms a partnership
//! agreement fixes keep every partner's risk within a limit, and what each set costs.
//!
//! A term is one of the fields the partners sign up to rather than estimate: each
//! partner's `exit_fee`, `lock_in_years` and `rejoin_fee`, the service's `cost_sharing`
//! and the disputes' `resolution_probability` ([`TERMS`]). Each is given a list of
//! values (as a sweep's parameter is, `POINTER=V1,V2,...` or `POINTER=START:STOP:STEPS`)
//! and every combination of values, a *set of terms*, is run under common random
//! numbers (see [`super::crn`]), so that two sets differ only by their terms' effect. A
//! partner's term is addressed as `--set` addresses it (`/partners/Otterby District
//! Council/exit_fee`, `/partners/0/exit_fee`), or for every partner at once with `*`
//! (`/partners/*/exit_fee`; a partner named `*` is written `"*"`). A value `xK` (`x0.5`,
//! `x2`) scales each addressed value of the scenario by K, so that fees that differ by
//! partner can be varied together.
//!
//! Only these fields may be varied: the question is which agreement to sign, and an
//! answer that moved an estimate (an efficiency, a hazard) would not be a set of terms
//! anyone can sign. Any other input is a `sweep`.
//!
//! Each set is judged against limits ([`Limits`]): every partner's P(worse off) and the
//! consortium's P(collapse) at most the limit given. Sets are ranked (those within the
//! limits first, then by consortium mean NPV, then by the worst partner's P(worse off)),
//! and the trade-off frontier is found: the sets that no other set beats on both mean
//! NPV (higher) and the worst partner's P(worse off) (lower).
//!
//! Exit and rejoin fees are transfers between partners: the payer's loss is the other
//! members' gain in the same year, and no partner's decision to leave or rejoin depends
//! on them (docs/model.md), so they move no consortium NPV. They move risk between
//! partners, which is why they are worth varying; [`TRANSFERS`] lists them so that
//! every rendering can say so.

use std::cmp::Ordering;
use std::time::Instant;

use serde::Serialize;
use serde_json::{Map, Value};

use super::crn::{Crn, Edit, Figures, edited_as, number, value_text};
use super::sweep::Param;
use super::{AnalysisError, Input};
use crate::scenario::Scenario;
use crate::scenario::inputs::{self, Absent, Section};
use crate::scenario::overrides::split_assignment;
use crate::scenario::overrides::{Segment, array_index, lookup, parse_pointer, segment};
use crate::summary::{Provenance, RunInfo, SCHEMA};

/// The fields an agreement may vary: each partner's, then the consortium's.
pub const TERMS: &[(Section, &str)] = &[
    (Section::Partner, "exit_fee"),
    (Section::Partner, "lock_in_years"),
    (Section::Partner, "rejoin_fee"),
    (Section::Service, "cost_sharing"),
    (Section::Disputes, "resolution_probability"),
];

/// The terms that only move money between partners (no consortium NPV).
pub const TRANSFERS: &[&str] = &["exit_fee", "rejoin_fee"];

/// The segment that addresses every partner at once.
const EVERY_PARTNER: &str = "*";

/// One term of the agreement and the values it takes, as given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Term {
    /// The pointer as written: `/partners/*/exit_fee`, `/service/cost_sharing`.
    pub pointer: String,
    /// The values: numbers, strings (`equal`), distributions, or scales (`"x2"`).
    pub values: Vec<Value>,
    /// The text it was given as, for messages.
    #[serde(skip)]
    pub spec: String,
    /// How it was given (one by one, or in a terms file), for messages.
    #[serde(skip)]
    pub given_by: Input,
}

impl Term {
    /// Reads `POINTER=V1,V2,...` or `POINTER=START:STOP:STEPS`, refusing a pointer that
    /// is not an agreement term.
    pub fn parse(spec: &str) -> Result<Term, AnalysisError> {
        let fail = |message: String| AnalysisError::spec(Input::Term, spec, message);
        let Some((pointer, _)) = split_assignment(spec).map_err(&fail)? else {
            return Err(fail(
                "expected POINTER=V1,V2,... or POINTER=START:STOP:STEPS, e.g. \
                 /partners/*/exit_fee=0,250000,500000"
                    .into(),
            ));
        };
        let segments = parse_pointer(pointer).map_err(&fail)?;
        field_of(&segments).map_err(&fail)?;
        let param = Param::parse_as(spec, Input::Term)?;
        Ok(Term {
            pointer: param.pointer,
            values: param.values,
            spec: spec.to_string(),
            given_by: Input::Term,
        })
    }

    /// The terms of a terms file, `{"terms": {"POINTER": [V1, V2, ...], ...}}`, in the
    /// file's order; `name` names the file in messages.
    pub fn from_file(text: &str, name: &str) -> Result<Vec<Term>, AnalysisError> {
        let fail = |message: String| AnalysisError::spec(Input::Terms, name, message);
        let shape = "a terms file is {\"terms\": {\"POINTER\": [V1, V2, ...], ...}}, e.g. \
                     {\"terms\": {\"/partners/*/exit_fee\": [0, 250000]}}";
        let value: Value =
            serde_json::from_str(text).map_err(|e| fail(format!("not JSON: {e}")))?;
        let Some(top) = value.as_object() else {
            return Err(fail(shape.into()));
        };
        if let Some(key) = top.keys().find(|k| *k != "terms") {
            return Err(fail(format!("unknown key \"{key}\": {shape}")));
        }
        let Some(terms) = top.get("terms").and_then(Value::as_object) else {
            return Err(fail(shape.into()));
        };
        if let Some(p) = crate::scenario::load::duplicate_keys(text.as_bytes()).first() {
            return Err(fail(format!("{}: {}", p.path, p.message)));
        }
        if terms.is_empty() {
            return Err(fail(format!("lists no terms: {shape}")));
        }
        terms
            .iter()
            .map(|(pointer, values)| {
                let spec = format!("{name}: {pointer}");
                let term_fail = |m: String| AnalysisError::spec(Input::Terms, &spec, m);
                let segments = parse_pointer(pointer).map_err(&term_fail)?;
                field_of(&segments).map_err(&term_fail)?;
                match values.as_array() {
                    Some(list) if !list.is_empty() => Ok(Term {
                        pointer: pointer.clone(),
                        values: list.clone(),
                        spec,
                        given_by: Input::Terms,
                    }),
                    _ => Err(term_fail(
                        "give the term's values as a non-empty list, e.g. [0, 250000]".into(),
                    )),
                }
            })
            .collect()
    }

    /// The field this term sets (`exit_fee`).
    pub fn field(&self) -> &'static str {
        parse_pointer(&self.pointer)
            .ok()
            .and_then(|s| field_of(&s).ok())
            .map_or("", |(_, name)| name)
    }

    /// Whether the term addresses every partner (`/partners/*/...`).
    pub fn every_partner(&self) -> bool {
        parse_pointer(&self.pointer).is_ok_and(|s| s.len() == 3 && is_every(&s[1]))
    }

    /// Whether the term only moves money between partners.
    pub fn is_transfer(&self) -> bool {
        TRANSFERS.contains(&self.field())
    }
}

/// Whether a partner segment means every partner: an unquoted `*`.
fn is_every(s: &Segment) -> bool {
    !s.quoted && s.text == EVERY_PARTNER
}

/// The section and name of the agreement term a pointer's segments address, or why
/// they address none.
fn field_of(segments: &[Segment]) -> Result<(Section, &'static str), String> {
    let texts: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
    let (section, name) = match texts[..] {
        ["partners", _, name] => (Section::Partner, name),
        ["service", name] => (Section::Service, name),
        ["disputes", name] => (Section::Disputes, name),
        [.., name] => (Section::Top, name),
        [] => (Section::Top, ""),
    };
    if let Some(&(s, n)) = TERMS.iter().find(|(s, n)| *s == section && *n == name) {
        return Ok((s, n));
    }
    let elsewhere = TERMS.iter().find(|(_, n)| *n == name);
    Err(match elsewhere {
        Some((Section::Partner, n)) => format!(
            "{n} is each partner's term: write /partners/*/{n} (every partner) or \
             /partners/NAME/{n} (one partner)"
        ),
        Some((s, n)) => format!("{n} is a term of the agreement at {}/{n}", s.pointer()),
        None => format!(
            "{name} is not a term of the partnership agreement. agreement varies each \
             partner's exit_fee, lock_in_years and rejoin_fee (/partners/*/FIELD for every \
             partner, /partners/NAME/FIELD for one), /service/cost_sharing and \
             /disputes/resolution_probability; to vary another input, use sweep"
        ),
    })
}

/// The most a partner's P(worse off) and P(collapse) may be for a set to meet the
/// limits; a limit not given is not applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Limits {
    pub max_worse_off: Option<f64>,
    pub max_collapse: Option<f64>,
}

impl Limits {
    /// Refuses a limit that is not a probability.
    pub fn check(&self) -> Result<(), AnalysisError> {
        for (option, limit) in [
            (Input::MaxWorseOff, self.max_worse_off),
            (Input::MaxCollapse, self.max_collapse),
        ] {
            if let Some(p) = limit
                && !(0.0..=1.0).contains(&p)
            {
                return Err(AnalysisError::spec(
                    option,
                    &p.to_string(),
                    "must be a probability between 0 and 1 (0.3 for 30%)",
                ));
            }
        }
        Ok(())
    }

    /// Whether any limit is given.
    pub fn any(&self) -> bool {
        self.max_worse_off.is_some() || self.max_collapse.is_some()
    }

    /// Whether figures meet every limit given ("at most": a limit reached is met).
    pub fn met_by(&self, f: &Figures) -> bool {
        let worse = self
            .max_worse_off
            .is_none_or(|l| f.partners.iter().all(|p| p.prob_worse_off <= l));
        let collapse = self.max_collapse.is_none_or(|l| f.prob_collapse <= l);
        worse && collapse
    }
}

/// One set of terms and what it does.
#[derive(Debug, Clone, Serialize)]
pub struct TermSet {
    /// The set's number (1 = first combination; the first term varies slowest).
    pub set: usize,
    /// Its place in the ranking (1 = best).
    pub rank: usize,
    /// Each term's value in this set, by the term's pointer.
    pub at: Map<String, Value>,
    /// Whether it meets every limit given.
    pub meets_limits: bool,
    /// Whether it is on the trade-off frontier.
    pub frontier: bool,
    /// The partner most likely to end worse off, and that probability.
    pub worst_partner: String,
    pub worst_prob_worse_off: f64,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A whole agreement analysis, as `agreement --out` writes it.
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub schema: u32,
    pub analysis: &'static str,
    pub scenario: String,
    pub seed: u64,
    /// Trials of every set (the same everywhere: common random numbers).
    pub trials: u64,
    pub terms: Vec<Term>,
    pub limits: Limits,
    /// The terms (pointers) that only move money between partners.
    pub transfers: Vec<String>,
    /// How many sets meet the limits.
    pub meeting_limits: usize,
    /// The sets on the frontier (numbers), by consortium mean NPV, highest first.
    pub frontier: Vec<usize>,
    /// Every set, in rank order.
    pub sets: Vec<TermSet>,
    /// Threads and timing: the only part that differs between identical analyses.
    pub run: RunInfo,
    /// Where the result came from; set by the run API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

impl Agreement {
    /// The set numbered `set`.
    pub fn set(&self, set: usize) -> Option<&TermSet> {
        self.sets.iter().find(|s| s.set == set)
    }
}

/// The number of sets of `terms` (every combination), or `None` if it overflows.
pub fn set_count(terms: &[Term]) -> Option<usize> {
    terms
        .iter()
        .try_fold(1usize, |n, t| n.checked_mul(t.values.len()))
}

/// Refuses a term given twice.
pub fn check_distinct(terms: &[Term]) -> Result<(), AnalysisError> {
    for (i, t) in terms.iter().enumerate() {
        if terms[..i].iter().any(|u| u.pointer == t.pointer) {
            return Err(AnalysisError::spec(
                t.given_by,
                &t.spec,
                format!("{} is given twice: give each term once", t.pointer),
            ));
        }
    }
    Ok(())
}

/// A term resolved against the scenario: the pointers it sets (one per partner for
/// `*`) with each one's value in the scenario.
struct Resolved<'t> {
    term: &'t Term,
    section: Section,
    field: &'static str,
    /// (pointer, the scenario's value there, or its default).
    targets: Vec<(String, Value)>,
}

fn resolve<'t>(term: &'t Term, base: &Value) -> Result<Resolved<'t>, AnalysisError> {
    let fail = |m: String| AnalysisError::spec(term.given_by, &term.spec, m);
    let segments = parse_pointer(&term.pointer).map_err(&fail)?;
    let (section, field) = field_of(&segments).map_err(&fail)?;
    let pointers: Vec<String> = if section == Section::Partner {
        let partners = base["partners"].as_array().map_or(&[][..], Vec::as_slice);
        let names: Vec<&str> = partners
            .iter()
            .map(|p| p["name"].as_str().unwrap_or_default())
            .collect();
        let chosen: Vec<&str> = if is_every(&segments[1]) {
            names
        } else {
            let i = array_index(partners, &segments[1]).ok_or_else(|| {
                fail(format!(
                    "the scenario has no partner {} (partners: {}; /partners/*/{field} \
                     addresses every partner)",
                    serde_json::to_string(&segments[1].text).expect("a string serialises"),
                    crate::scenario::some_names(names.iter().copied())
                ))
            })?;
            vec![names[i]]
        };
        chosen
            .into_iter()
            .map(|n| format!("/partners/{}/{field}", segment(n)))
            .collect()
    } else {
        if lookup(base, section.pointer()).is_none() {
            return Err(fail(format!(
                "the scenario has no {} section, so {} cannot be set; add the section to \
                 vary its terms",
                &section.pointer()[1..],
                term.pointer
            )));
        }
        vec![format!("{}/{field}", section.pointer())]
    };
    let targets = pointers
        .into_iter()
        .map(|p| {
            let value = lookup(base, &p)
                .cloned()
                .unwrap_or_else(|| default_of(section, field));
            (p, value)
        })
        .collect();
    Ok(Resolved {
        term,
        section,
        field,
        targets,
    })
}

/// A field's value when the scenario leaves it out.
fn default_of(section: Section, field: &str) -> Value {
    match inputs::find(section, field).map(|i| i.absent) {
        Some(Absent::Number(x)) => number(x),
        Some(Absent::Whole(n)) => Value::from(n),
        _ => Value::Null,
    }
}

/// The scale a value `xK` asks for, if it is one.
fn scale_of(v: &Value) -> Option<&str> {
    v.as_str()?.strip_prefix('x')
}

/// `v` (a number or a distribution) with every amount multiplied by `k`.
fn scaled(v: &Value, k: f64) -> Option<Value> {
    let times = |v: &Value| v.as_f64().map(|x| number(x * k));
    let all = |v: &Value| -> Option<Value> {
        v.as_array()?
            .iter()
            .map(times)
            .collect::<Option<Vec<_>>>()
            .map(Value::Array)
    };
    if v.is_number() {
        return times(v);
    }
    let (form, params) = v.as_object().filter(|o| o.len() == 1)?.iter().next()?;
    let params = match form.as_str() {
        "fixed" => times(params)?,
        "uniform" | "triangular" | "pert" | "normal" => all(params)?,
        "lognormal" => {
            let o = params.as_object()?;
            Value::Object(
                o.iter()
                    .map(|(key, x)| Some((key.clone(), times(x)?)))
                    .collect::<Option<Map<_, _>>>()?,
            )
        }
        "discrete" => Value::Array(
            params
                .as_array()?
                .iter()
                .map(|pair| {
                    let p = pair.as_array()?;
                    Some(Value::Array(vec![times(p.first()?)?, p.get(1)?.clone()]))
                })
                .collect::<Option<Vec<_>>>()?,
        ),
        _ => return None,
    };
    Some(Value::Object(Map::from_iter([(form.clone(), params)])))
}

/// The edits that give resolved term `r` the value `v`: `v` itself at each target, or
/// each target's own value scaled.
fn term_edits(r: &Resolved, v: &Value) -> Result<Vec<Edit>, AnalysisError> {
    let fail = |m: String| AnalysisError::spec(r.term.given_by, &r.term.spec, m);
    let Some(k) = scale_of(v) else {
        return Ok(r
            .targets
            .iter()
            .map(|(p, _)| Edit::new(p, v.clone()))
            .collect());
    };
    if r.section == Section::Service {
        return Err(fail(format!(
            "x{k} scales a number, and {} is a rule, not a number: give its values \
             (proportional, equal, or {{\"fixed\": {{...}}}})",
            r.field
        )));
    }
    let k: f64 = k
        .parse()
        .ok()
        .filter(|k: &f64| k.is_finite() && *k >= 0.0)
        .ok_or_else(|| {
            fail(format!(
                "\"x{k}\" is not a scale: write x and a number >= 0, e.g. x0.5 or x2"
            ))
        })?;
    r.targets
        .iter()
        .map(|(p, base)| {
            let value = scaled(base, k).ok_or_else(|| {
                fail(format!(
                    "{p} is {}, which x{k} cannot scale",
                    value_text(base)
                ))
            })?;
            Ok(Edit::new(p, value))
        })
        .collect()
}

/// Set `k`'s value of each term, the first term varying slowest.
fn combo(terms: &[Term], mut k: usize) -> Vec<&Value> {
    let mut combo: Vec<&Value> = terms
        .iter()
        .rev()
        .map(|t| {
            let v = &t.values[k % t.values.len()];
            k /= t.values.len();
            v
        })
        .collect();
    combo.reverse();
    combo
}

/// Set `k`'s values (by term pointer) and scenario, validated.
fn set_scenario(
    base: &Value,
    origin: &str,
    resolved: &[Resolved],
    terms: &[Term],
    k: usize,
) -> Result<(Map<String, Value>, Scenario), AnalysisError> {
    let values = combo(terms, k);
    let mut edits = Vec::new();
    for (r, v) in resolved.iter().zip(&values) {
        edits.extend(term_edits(r, v)?);
    }
    let written: Vec<String> = terms
        .iter()
        .zip(&values)
        .map(|(t, v)| format!("{}={}", t.pointer, value_text(v)))
        .collect();
    let spec = written.join(" ");
    // Named as the terms were given: by a terms file only if every one came from it.
    let given_by = if terms.iter().all(|t| t.given_by == Input::Terms) {
        Input::Terms
    } else {
        Input::Term
    };
    let (_, scenario) = edited_as(base, &edits, origin, &written, given_by, &spec)?;
    let at = terms
        .iter()
        .zip(values)
        .map(|(t, v)| (t.pointer.clone(), v.clone()))
        .collect();
    Ok((at, scenario))
}

/// Resolves every term, refusing two that set the same field of the same partner by
/// different spellings (`/partners/0/exit_fee` and `/partners/*/exit_fee`): the later
/// would silently win, and sets differing only in the earlier would be the same run.
fn resolve_all<'t>(terms: &'t [Term], base: &Value) -> Result<Vec<Resolved<'t>>, AnalysisError> {
    check_distinct(terms)?;
    let resolved: Vec<Resolved> = terms
        .iter()
        .map(|t| resolve(t, base))
        .collect::<Result<_, _>>()?;
    for (i, r) in resolved.iter().enumerate() {
        for earlier in &resolved[..i] {
            if let Some((pointer, _)) = r
                .targets
                .iter()
                .find(|(p, _)| earlier.targets.iter().any(|(q, _)| q == p))
            {
                return Err(AnalysisError::spec(
                    r.term.given_by,
                    &r.term.spec,
                    format!(
                        "sets {pointer}, which {} sets too: give each field of each partner in one term",
                        earlier.term.pointer
                    ),
                ));
            }
        }
    }
    Ok(resolved)
}

/// Validates every set before any is run, so that a bad value is reported at once;
/// `each` sees each set's scenario, which is then dropped.
pub fn check_sets(
    base: &Value,
    origin: &str,
    terms: &[Term],
    mut each: impl FnMut(&Scenario),
) -> Result<(), AnalysisError> {
    let resolved = resolve_all(terms, base)?;
    let count = set_count(terms).unwrap_or(usize::MAX);
    (0..count)
        .try_for_each(|k| set_scenario(base, origin, &resolved, terms, k).map(|(_, s)| each(&s)))
}

/// Runs every set of `terms` over `base` (a scenario's JSON, `--set` edits applied;
/// `origin` names it in messages), judges each against `limits`, ranks them and finds
/// the frontier.
pub fn run(
    base: &Value,
    origin: &str,
    terms: &[Term],
    limits: Limits,
    crn: &Crn,
) -> Result<Agreement, AnalysisError> {
    let start = Instant::now();
    limits.check()?;
    let base_scenario = crate::scenario::from_value(base, origin)?;
    let resolved = resolve_all(terms, base)?;
    let count = set_count(terms).unwrap_or(usize::MAX);
    let mut sets = Vec::with_capacity(count.min(1 << 16));
    for k in 0..count {
        let (at, scenario) = set_scenario(base, origin, &resolved, terms, k)?;
        let figures = crn.run(&scenario)?.figures;
        let (worst_partner, worst) = worst_partner(&figures);
        sets.push(TermSet {
            set: k + 1,
            rank: 0,
            at,
            meets_limits: limits.met_by(&figures),
            frontier: false,
            worst_partner,
            worst_prob_worse_off: worst,
            figures,
        });
    }
    let on_frontier = frontier(&sets);
    for &i in &on_frontier {
        sets[i].frontier = true;
    }
    let frontier_sets = on_frontier.iter().map(|&i| sets[i].set).collect();
    rank(&mut sets);
    let total = count.saturating_mul(crn.trials);
    Ok(Agreement {
        schema: SCHEMA,
        analysis: "agreement",
        scenario: base_scenario.name.clone(),
        seed: crn.seed,
        trials: crn.trials as u64,
        transfers: terms
            .iter()
            .filter(|t| t.is_transfer())
            .map(|t| t.pointer.clone())
            .collect(),
        terms: terms.to_vec(),
        limits,
        meeting_limits: sets.iter().filter(|s| s.meets_limits).count(),
        frontier: frontier_sets,
        sets,
        run: RunInfo::new(
            rayon::current_num_threads(),
            start.elapsed().as_secs_f64(),
            total,
        ),
        provenance: None,
    })
}

/// The partner most likely to end worse off (the first such in the scenario's order)
/// and that probability; none for a scenario without partners.
fn worst_partner(f: &Figures) -> (String, f64) {
    f.partners
        .iter()
        .fold(None, |worst: Option<(&str, f64)>, p| match worst {
            Some((_, w)) if w >= p.prob_worse_off => worst,
            _ => Some((&p.name, p.prob_worse_off)),
        })
        .map_or((String::new(), 0.0), |(n, w)| (n.to_string(), w))
}

/// A mean NPV in whole pennies: what the sets are compared on. Exit fees move the mean
/// by rounding error only (a millionth of a penny), and a set must not beat another on
/// that.
pub fn pennies(x: f64) -> f64 {
    (x * 100.0).round()
}

/// Whether set `a` dominates set `b`: a consortium mean NPV at least as high (to the
/// penny) and a worst partner's P(worse off) at most as high, one of them strictly.
pub fn dominates(a: &TermSet, b: &TermSet) -> bool {
    let (na, nb) = (pennies(a.figures.npv.mean), pennies(b.figures.npv.mean));
    let (wa, wb) = (a.worst_prob_worse_off, b.worst_prob_worse_off);
    na >= nb && wa <= wb && (na > nb || wa < wb)
}

/// The indices of the sets no other set dominates, by mean NPV (highest first), then by
/// worst P(worse off), then by set number.
fn frontier(sets: &[TermSet]) -> Vec<usize> {
    let mut on: Vec<usize> = (0..sets.len())
        .filter(|&i| !sets.iter().any(|other| dominates(other, &sets[i])))
        .collect();
    on.sort_by(|&i, &j| by_value(&sets[i], &sets[j]).then(sets[i].set.cmp(&sets[j].set)));
    on
}

/// Higher mean NPV (to the penny) first, then lower worst P(worse off).
fn by_value(a: &TermSet, b: &TermSet) -> Ordering {
    pennies(b.figures.npv.mean)
        .total_cmp(&pennies(a.figures.npv.mean))
        .then(a.worst_prob_worse_off.total_cmp(&b.worst_prob_worse_off))
}

/// Sorts the sets into rank order (those meeting the limits first, then by
/// [`by_value`], then by set number) and numbers their ranks.
fn rank(sets: &mut [TermSet]) {
    sets.sort_by(|a, b| {
        b.meets_limits
            .cmp(&a.meets_limits)
            .then(by_value(a, b))
            .then(a.set.cmp(&b.set))
    });
    for (i, s) in sets.iter_mut().enumerate() {
        s.rank = i + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_agreement_terms_may_be_varied_and_misplaced_ones_are_redirected() {
        let t = Term::parse("/partners/*/exit_fee=0,250000,x2").unwrap();
        assert_eq!(t.values, vec![json!(0), json!(250000), json!("x2")]);
        assert!(t.every_partner() && t.is_transfer());
        assert_eq!(t.field(), "exit_fee");
        let t = Term::parse("/service/cost_sharing=proportional,equal").unwrap();
        assert!(!t.is_transfer() && !t.every_partner());
        for (spec, needle) in [
            ("/service/efficiency=0.1,0.2", "efficiency is not a term"),
            (
                "/service/lock_in_years=3,5",
                "lock_in_years is each partner's term",
            ),
            ("/partners/*/efficiency=1", "not a term"),
            (
                "/cost_sharing=equal",
                "cost_sharing is a term of the agreement at /service/cost_sharing",
            ),
            ("/seed=1,2", "seed is not a term"),
            ("/partners/*/exit_fee", "expected POINTER=V1,V2"),
        ] {
            let e = Term::parse(spec).unwrap_err().to_string();
            assert!(e.starts_with(&format!("`term` {spec}: ")), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn a_scale_multiplies_every_amount_of_a_distribution() {
        assert_eq!(scaled(&json!(100), 2.0), Some(json!(200.0)));
        assert_eq!(
            scaled(&json!({"pert": [1, 2, 4]}), 0.5),
            Some(json!({"pert": [0.5, 1.0, 2.0]}))
        );
        assert_eq!(
            scaled(&json!({"lognormal": {"mean": 10, "sd": 2}}), 3.0),
            Some(json!({"lognormal": {"mean": 30.0, "sd": 6.0}}))
        );
        assert_eq!(
            scaled(&json!({"discrete": [[10, 0.5], [20, 0.5]]}), 2.0),
            Some(json!({"discrete": [[20.0, 0.5], [40.0, 0.5]]}))
        );
        assert_eq!(scaled(&json!("equal"), 2.0), None);
    }

    #[test]
    fn a_terms_file_lists_terms_in_order() {
        let terms = Term::from_file(
            r#"{"terms": {"/partners/*/lock_in_years": [0, 3], "/service/cost_sharing": ["equal"]}}"#,
            "t.json",
        )
        .unwrap();
        assert_eq!(terms.len(), 2);
        assert_eq!(terms[0].pointer, "/partners/*/lock_in_years");
        assert_eq!(terms[1].values, vec![json!("equal")]);
        for (text, needle) in [
            ("[1]", "a terms file is"),
            (r#"{"terms": {}, "x": 1}"#, "unknown key \"x\""),
            (
                r#"{"terms": {"/partners/*/exit_fee": []}}"#,
                "non-empty list",
            ),
            (r#"{"terms": {"/service/efficiency": [0.1]}}"#, "not a term"),
            ("{", "not JSON"),
            (
                r#"{"terms": {"/partners/*/exit_fee": [0], "/partners/*/exit_fee": [777]}}"#,
                "/terms/~1partners~1*~1exit_fee: \"/partners/*/exit_fee\" is given more than once",
            ),
            (r#"{"terms": {}}"#, "lists no terms"),
        ] {
            let e = Term::from_file(text, "t.json").unwrap_err().to_string();
            assert!(e.starts_with("`terms` t.json"), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }
}
