//! Parameter sweeps: the scenario run at each value of one input (a line) or each pair of
//! values of two inputs (a grid).
//!
//! A sweep answers "what if the efficiency is only 8 %?" for a whole range of values at
//! once. Every point runs under common random numbers (see [`super::crn`]), so the line
//! of mean NPV against efficiency is smooth where independent runs would zigzag, and a
//! difference between neighbouring points is the effect of the parameter, not noise.
//!
//! A parameter is written `POINTER=START:STOP:STEPS` (STEPS evenly spaced numbers, both
//! ends included) or `POINTER=V1,V2,...` (each value read as JSON if it parses, otherwise
//! as text, like `--set`; commas inside JSON values such as `{"uniform":[0.1,0.2]}` do not
//! split). Setting a distribution-valued input to a number holds it at that number in
//! every trial.

use std::time::Instant;

use serde::Serialize;
use serde_json::{Map, Value};

use super::crn::{Crn, Edit, Figures, edited, number, split_top_level, value_text};
use super::{AnalysisError, Input};
use crate::scenario::Scenario;
use crate::scenario::overrides::{parse_pointer, parse_value, split_assignment};
use crate::summary::{Provenance, RunInfo, SCHEMA};

/// The most points one parameter may have: a sweep is read by people, and ten thousand
/// points of a line are already more than a chart can show.
pub const MAX_STEPS: usize = 10_000;

/// One swept parameter: a JSON pointer and the values it takes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    pub pointer: String,
    pub values: Vec<Value>,
    /// The text it was given as, for messages.
    #[serde(skip)]
    pub spec: String,
}

impl Param {
    /// Reads `POINTER=START:STOP:STEPS` or `POINTER=V1,V2,...`.
    pub fn parse(spec: &str) -> Result<Param, AnalysisError> {
        Param::parse_as(spec, Input::Param)
    }

    /// [`Param::parse`], with mistakes reported as mistakes in `option` (an agreement's
    /// terms are written the same way).
    pub fn parse_as(spec: &str, option: Input) -> Result<Param, AnalysisError> {
        let fail = |message: String| AnalysisError::spec(option, spec, message);
        let Some((pointer, raw)) = split_assignment(spec).map_err(&fail)? else {
            return Err(fail(
                "expected POINTER=START:STOP:STEPS or POINTER=V1,V2,..., e.g. \
                 /service/efficiency=0.05:0.25:9"
                    .into(),
            ));
        };
        parse_pointer(pointer).map_err(&fail)?;
        if let Some(field) = super::shared_setting(pointer) {
            return Err(fail(format!(
                "every point of a sweep runs with the same seed and number of trials (common \
                 random numbers), so sweeping /{field} would give the same figures at every \
                 point; set the run's {field} instead"
            )));
        }
        let values = match range(raw).map_err(&fail)? {
            Some(values) => values,
            None => split_top_level(raw, ',')
                .into_iter()
                .map(|v| {
                    let v = v.trim();
                    if v.is_empty() {
                        Err(fail("an empty value in the list".into()))
                    } else {
                        Ok(parse_value(v))
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Param {
            pointer: pointer.to_string(),
            values,
            spec: spec.to_string(),
        })
    }
}

/// `START:STOP:STEPS` as its values; `None` if `raw` is not of that form (then it is a
/// list of values).
fn range(raw: &str) -> Result<Option<Vec<Value>>, String> {
    let parts: Vec<&str> = raw.split(':').map(str::trim).collect();
    let [start, stop, steps] = parts[..] else {
        return Ok(None);
    };
    let (Ok(start), Ok(stop)) = (start.parse::<f64>(), stop.parse::<f64>()) else {
        return Ok(None);
    };
    if !(start.is_finite() && stop.is_finite()) {
        return Err("START and STOP must be finite numbers".into());
    }
    let steps: usize = steps
        .parse()
        .map_err(|_| format!("STEPS must be a whole number of points, not \"{steps}\""))?;
    if steps == 0 || steps > MAX_STEPS {
        return Err(format!("STEPS must be between 1 and {MAX_STEPS}"));
    }
    if steps == 1 && start != stop {
        return Err("one step gives one point: use START:START:1 or a single value".into());
    }
    let values = (0..steps)
        .map(|i| {
            let t = i as f64 / (steps - 1) as f64;
            let x = if i + 1 == steps {
                stop
            } else if (stop - start).is_finite() {
                start + (stop - start) * t
            } else {
                // The span overflows (-1e308 to 1e308): weigh the ends instead, which
                // stays finite wherever both ends are.
                start * (1.0 - t) + stop * t
            };
            number(tidy(x))
        })
        .collect();
    Ok(Some(values))
}

/// `x` rounded to 13 significant digits: 0.1 + 0.025 * 3 reads 0.175, not
/// 0.17500000000000002, in tables and files.
fn tidy(x: f64) -> f64 {
    format!("{x:.12e}").parse().unwrap_or(x)
}

/// One point of a sweep: the parameters' values there and the run's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Each parameter's value at this point, by pointer.
    pub at: Map<String, Value>,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A whole sweep, as `sweep --out` writes it.
#[derive(Debug, Clone, Serialize)]
pub struct Sweep {
    pub schema: u32,
    pub analysis: &'static str,
    pub scenario: String,
    pub seed: u64,
    /// Trials at every point (the same everywhere: common random numbers).
    pub trials: u64,
    pub parameters: Vec<Param>,
    /// Every combination of values, the first parameter varying slowest.
    pub points: Vec<Point>,
    /// Threads and timing: the only part that differs between identical sweeps.
    pub run: RunInfo,
    /// Where the result came from; set by the run API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

impl Sweep {
    /// The value of parameter `p` at point `k`.
    pub fn value(&self, k: usize, p: usize) -> &Value {
        &self.points[k].at[&self.parameters[p].pointer]
    }

    /// The point at value index `i` of the first parameter and `j` of the second (0 for a
    /// one-parameter sweep).
    pub fn point(&self, i: usize, j: usize) -> &Point {
        let inner = self.parameters.get(1).map_or(1, |p| p.values.len());
        &self.points[i * inner + j]
    }
}

/// The number of points of a sweep of `params` (every combination of their values), or
/// `None` if it does not fit in a `usize`.
pub fn point_count(params: &[Param]) -> Option<usize> {
    params
        .iter()
        .try_fold(1usize, |n, p| n.checked_mul(p.values.len()))
}

/// Point `k`'s value of each parameter, the first parameter varying slowest.
fn combo(params: &[Param], mut k: usize) -> Vec<(&Param, &Value)> {
    let mut combo: Vec<(&Param, &Value)> = params
        .iter()
        .rev()
        .map(|p| {
            let v = &p.values[k % p.values.len()];
            k /= p.values.len();
            (p, v)
        })
        .collect();
    combo.reverse();
    combo
}

/// Point `k`'s edits and scenario (validated), with the point named in messages by its
/// values.
fn point(
    base: &Value,
    origin: &str,
    params: &[Param],
    k: usize,
) -> Result<(Vec<Edit>, Scenario), AnalysisError> {
    let combo = combo(params, k);
    let edits: Vec<Edit> = combo
        .iter()
        .map(|(p, v)| Edit::new(&p.pointer, (*v).clone()))
        .collect();
    let spec = match combo.as_slice() {
        [(p, _)] => p.spec.clone(),
        _ => combo
            .iter()
            .map(|(p, v)| format!("{}={}", p.pointer, value_text(v)))
            .collect::<Vec<_>>()
            .join(" "),
    };
    let (_, scenario) = edited(base, &edits, origin, Input::Param, &spec)?;
    Ok((edits, scenario))
}

/// Validates every point before any is run, so that a bad value at the end of a range
/// is reported at once rather than after the rest has run. Each point's scenario is
/// dropped once checked (a sweep of a wide scenario would otherwise hold one copy per
/// point); [`run`] builds it again when its turn comes.
pub fn check_points(
    base: &Value,
    origin: &str,
    params: &[Param],
    mut each: impl FnMut(&crate::scenario::Scenario),
) -> Result<(), AnalysisError> {
    let count = point_count(params).unwrap_or(usize::MAX);
    (0..count).try_for_each(|k| point(base, origin, params, k).map(|(_, s)| each(&s)))
}

/// Runs a sweep of one or two parameters over `base` (a scenario's JSON, `--set` edits
/// already applied; `origin` names it in messages).
pub fn run(
    base: &Value,
    origin: &str,
    params: &[Param],
    crn: &Crn,
) -> Result<Sweep, AnalysisError> {
    let start = Instant::now();
    let base_scenario = crate::scenario::from_value(base, origin)?;
    let count = point_count(params).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(count.min(1 << 16));
    for k in 0..count {
        let (edits, scenario) = point(base, origin, params, k)?;
        let run = crn.run(&scenario)?;
        let at = edits.into_iter().map(|e| (e.pointer, e.value)).collect();
        out.push(Point {
            at,
            figures: run.figures,
        });
    }
    let total = count.saturating_mul(crn.trials);
    Ok(Sweep {
        schema: SCHEMA,
        analysis: "sweep",
        scenario: base_scenario.name.clone(),
        seed: crn.seed,
        trials: crn.trials as u64,
        parameters: params.to_vec(),
        points: out,
        run: RunInfo::new(
            rayon::current_num_threads(),
            start.elapsed().as_secs_f64(),
            total,
        ),
        provenance: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_range_gives_evenly_spaced_values_with_both_ends() {
        let p = Param::parse("/service/efficiency=0.05:0.25:9").unwrap();
        assert_eq!(p.pointer, "/service/efficiency");
        let xs: Vec<f64> = p.values.iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(
            xs,
            vec![0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25]
        );
        let p = Param::parse("/x=3:1:3").unwrap();
        assert_eq!(p.values, vec![json!(3.0), json!(2.0), json!(1.0)]);
        // A span past the largest number (stop - start overflows) still gives numbers,
        // not nulls that the scenario's check would report as "found null".
        let p = Param::parse("/x=1e308:-1e308:3").unwrap();
        assert_eq!(p.values, vec![json!(1e308), json!(0.0), json!(-1e308)]);
        let p = Param::parse("/x=-1.5e308:1.5e308:4").unwrap();
        assert_eq!(
            p.values,
            vec![json!(-1.5e308), json!(-5e307), json!(5e307), json!(1.5e308)]
        );
    }

    #[test]
    fn a_list_splits_at_top_level_commas_and_reads_json_or_text() {
        let p = Param::parse(r#"/service/efficiency=0.1,{"uniform":[0.1,0.2]},equal"#).unwrap();
        assert_eq!(
            p.values,
            vec![json!(0.1), json!({"uniform": [0.1, 0.2]}), json!("equal")]
        );
        let p = Param::parse("/service/cost_sharing=proportional,equal").unwrap();
        assert_eq!(p.values, vec![json!("proportional"), json!("equal")]);
        // A value with colons that is not a range is a list of one.
        let p = Param::parse(r#"/a={"pert":[1,2,3]}"#).unwrap();
        assert_eq!(p.values, vec![json!({"pert": [1, 2, 3]})]);
    }

    #[test]
    fn malformed_parameters_are_reported_with_the_option() {
        for (spec, needle) in [
            ("/service/efficiency", "expected POINTER="),
            ("service/efficiency=0.1", "must start with '/'"),
            ("/x=0:1:0", "STEPS must be between"),
            ("/x=0:1:2.5", "STEPS must be a whole number"),
            ("/x=0:1:1", "one step gives one point"),
            ("/x=0.1,,0.2", "an empty value"),
        ] {
            let e = Param::parse(spec).unwrap_err().to_string();
            assert!(e.starts_with(&format!("`param` {spec}: ")), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }
}
