//! Property tests and fuzzing of the scenario loader (issue 6, part 1).
//!
//! The contract, checked on every input below:
//!
//! - loading returns either a valid [`Scenario`] or errors that locate themselves: every
//!   [`Problem`] names a JSON pointer (empty for the top level) that exists in the input, or
//!   whose parent does (a missing field), and a syntax error's message gives its line and
//!   column;
//! - it never panics, never aborts (a stack overflow aborts the whole test binary) and never
//!   hangs (each case runs under a watchdog, [`CASE_LIMIT`]);
//! - a scenario that validates really is valid (every range of docs/scenario-format.md
//!   holds), compiles, runs [`TRIALS`] trials without a panic, and its report builds and
//!   serialises.
//!
//! Finite results: every output column of a valid scenario run in double precision (as
//! `engine::run` stores [`TRIALS`] trials) is finite, and its JSON report has no null but
//! `payback_year.p50`. Very large runs store partner and year rows in single precision
//! ([`Precision::Single`]); those are checked too, and must be finite while the discount
//! factors stay below [`F32_SAFE_DISCOUNT_FACTOR`]; beyond that the engine keeps double
//! precision (`steep_negative_discount_rates_keep_double_precision_rows`).
//!
//! Inputs: arbitrary JSON values, schema-shaped JSON, mutations of every shipped scenario
//! (a deleted key, a value of another type, extreme numbers, huge arrays, deep nesting),
//! byte-level edits and random bytes through the text parser and a temp file, `--set`
//! overrides, and valid scenarios with extreme but valid values.
//!
//! Every property's case count is set so that `cargo test --release --test it
//! loader_fuzz::` takes 10 to 20 seconds; `PROPTEST_CASES=n` runs n cases of every
//! property instead, and `LOADER_FUZZ_STATS=1` (with `--nocapture`) prints how many loads
//! each property rejected and how many validated and were simulated.
//!
//! Bugs found are the `bug_*` tests at the end, marked `#[ignore = "BUG: ..."]`, each with
//! its minimal input; `cargo test --release --test it loader_fuzz:: -- --ignored` runs
//! them.
//! The fuzz/ directory holds a cargo-fuzz target that checks the same contract.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use consortium_sim::engine::{self, Monitor, Precision};
use consortium_sim::export::json as report_json;
use consortium_sim::plan::Plan;
use consortium_sim::scenario::{
    self, CostSharing, DiscountRate, Dist, DistKind, Problem, Scenario, ScenarioError, inputs, load,
};
use consortium_sim::summary::{Report, RunInfo};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{Map, Number, Value, json};

use crate::util;

// ---------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------

/// Trials run for each scenario that validates.
const TRIALS: usize = 20;

/// Longest one case may take before it is called a hang (release builds take milliseconds).
const CASE_LIMIT: Duration = Duration::from_secs(30);

/// The run configuration: `default_cases` unless PROPTEST_CASES says otherwise. Failures
/// are not persisted (no regression files are written beside the tests).
fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        max_shrink_time: 120_000,
        ..ProptestConfig::default()
    }
}

/// What the cases of a property came to (printed with LOADER_FUZZ_STATS=1).
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    /// Cases run, shrinking included.
    cases: u64,
    /// Loads that returned errors.
    rejected: u64,
    /// Loads that returned a scenario (each was then simulated).
    valid: u64,
    /// Valid scenarios whose single-precision rows overflowed (discount factors above
    /// [`F32_SAFE_DISCOUNT_FACTOR`]; the known bug).
    f32_overflow: u64,
    slowest: Duration,
}

impl Tally {
    fn add(&mut self, o: Tally) {
        self.cases += o.cases;
        self.rejected += o.rejected;
        self.valid += o.valid;
        self.f32_overflow += o.f32_overflow;
        self.slowest = self.slowest.max(o.slowest);
    }
}

thread_local! {
    static TALLY: Cell<Tally> = Cell::new(Tally::default());
}

fn note(f: impl FnOnce(&mut Tally)) {
    TALLY.with(|t| {
        let mut x = t.get();
        f(&mut x);
        t.set(x);
    });
}

/// Runs `f` on its own thread and fails if it has not finished within [`CASE_LIMIT`]; a
/// panic inside is passed on unchanged, so proptest shrinks it as usual. Returns what `f`
/// returned and the tally of its case.
fn guarded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> (T, Tally) {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let start = Instant::now();
        let out = f();
        let mut tally = TALLY.take();
        tally.cases = 1;
        tally.slowest = start.elapsed();
        let _ = tx.send(());
        (out, tally)
    });
    match rx.recv_timeout(CASE_LIMIT) {
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no answer within {CASE_LIMIT:?}: the loader or engine hangs")
        }
        _ => handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
    }
}

/// Runs the property `check` on values of `strategy`, each case under [`guarded`].
fn property<S>(
    name: &'static str,
    default_cases: u32,
    strategy: S,
    check: fn(&S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Clone + Send + 'static,
{
    let total = RefCell::new(Tally::default());
    let mut runner = TestRunner::new(config(default_cases));
    let start = Instant::now();
    let result = runner.run(&strategy, |v| {
        let (result, tally) = guarded(name, move || check(&v));
        total.borrow_mut().add(tally);
        result
    });
    if std::env::var_os("LOADER_FUZZ_STATS").is_some() {
        let t = total.borrow();
        eprintln!(
            "{name}: {} cases in {:.1} s (slowest {:.0} ms); loads: {} rejected, {} valid \
             and simulated, {} of them overflowing single precision",
            t.cases,
            start.elapsed().as_secs_f64(),
            t.slowest.as_secs_f64() * 1e3,
            t.rejected,
            t.valid,
            t.f32_overflow
        );
    }
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

// ---------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------

/// Where a load's input came from: which error variants it may return.
#[derive(Clone, Copy, PartialEq)]
enum Source {
    /// A JSON value: only `Invalid`.
    Value,
    /// Text or a file: `Syntax` too (`Io` never: the tests' files always exist).
    Text,
}

/// Checks a load's result against the contract and returns the scenario if it validated.
/// `input` is the JSON that was validated (when it parsed), to resolve problem paths.
fn check_load(
    result: Result<Scenario, ScenarioError>,
    input: Option<&Value>,
    source: Source,
) -> Result<Option<Scenario>, TestCaseError> {
    match result {
        Ok(s) => {
            note(|t| t.valid += 1);
            check_valid(&s)?;
            Ok(Some(s))
        }
        Err(e) => {
            note(|t| t.rejected += 1);
            // Display must work (the CLI prints it).
            let shown = e.to_string();
            match &e {
                ScenarioError::Invalid { problems, .. } => {
                    prop_assert!(!problems.is_empty(), "Invalid with no problem: {shown}");
                    for p in problems {
                        check_problem(p, input)?;
                    }
                }
                ScenarioError::Syntax { source: err, .. } => {
                    prop_assert!(source == Source::Text, "syntax error from a value: {shown}");
                    check_syntax(err)?;
                }
                other => {
                    return Err(TestCaseError::fail(format!(
                        "unexpected error variant from the loader: {other:?}"
                    )));
                }
            }
            Ok(None)
        }
    }
}

/// A syntax error names its line (from 1) and column, in its message too.
fn check_syntax(err: &serde_json::Error) -> Result<(), TestCaseError> {
    let text = err.to_string();
    prop_assert!(err.line() >= 1, "syntax error without a line: {text}");
    let at = format!("line {} column {}", err.line(), err.column());
    prop_assert!(
        text.contains(&at),
        "syntax error message lacks \"{at}\": {text}"
    );
    Ok(())
}

/// A problem names a JSON pointer that exists in the input, or whose parent does.
fn check_problem(p: &Problem, input: Option<&Value>) -> Result<(), TestCaseError> {
    prop_assert!(
        p.path.is_empty() || p.path.starts_with('/'),
        "problem path is not a JSON pointer: {p:?}"
    );
    prop_assert!(
        !p.message.trim().is_empty(),
        "problem without a message: {p:?}"
    );
    if let Some(root) = input {
        let parent = p.path.rsplit_once('/').map_or("", |(parent, _)| parent);
        prop_assert!(
            root.pointer(&p.path).is_some() || root.pointer(parent).is_some(),
            "problem path {} names nothing in the input (nor does its parent): {}",
            p.path,
            p.message
        );
    }
    Ok(())
}

/// Every parameter of a distribution.
fn params(d: &Dist) -> Vec<f64> {
    match d.kind() {
        DistKind::Fixed(x) => vec![*x],
        DistKind::Uniform { lo, hi } => vec![*lo, *hi],
        DistKind::Triangular { min, mode, max } | DistKind::Pert { min, mode, max } => {
            vec![*min, *mode, *max]
        }
        DistKind::Normal { mean, sd } | DistKind::LogNormal { mean, sd } => vec![*mean, *sd],
        DistKind::Discrete(pairs) => pairs.iter().flat_map(|&(v, w)| [v, w]).collect(),
    }
}

/// A distribution's own constraints (docs/scenario-format.md, Distributions).
fn check_dist(d: &Dist, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        params(d).iter().all(|x| small(*x)),
        "{what}: parameter beyond the magnitude limit in {d:?}"
    );
    let ok = match d.kind() {
        DistKind::Fixed(_) => true,
        DistKind::Uniform { lo, hi } => lo <= hi,
        DistKind::Triangular { min, mode, max } | DistKind::Pert { min, mode, max } => {
            min <= mode && mode <= max
        }
        DistKind::Normal { sd, .. } => *sd >= 0.0,
        DistKind::LogNormal { mean, sd } => *mean > 0.0 && *sd >= 0.0,
        DistKind::Discrete(pairs) => {
            let total: f64 = pairs.iter().map(|p| p.1).sum();
            !pairs.is_empty() && pairs.iter().all(|p| p.1 >= 0.0) && total > 0.0
        }
    };
    prop_assert!(ok, "{what}: invalid distribution {d:?}");
    Ok(())
}

/// Checks a (D) field: a valid distribution whose mean is in the field's range.
fn check_field(d: &Dist, what: &str, range: fn(f64) -> bool) -> Result<(), TestCaseError> {
    check_dist(d, what)?;
    let mean = d.mean();
    prop_assert!(
        mean.is_finite() && range(mean),
        "{what}: mean {mean} out of range in {d:?}"
    );
    Ok(())
}

/// Within the loader's limit on every number (finite, |x| <= 1e15).
fn small(x: f64) -> bool {
    x.abs() <= load::MAX_MAGNITUDE
}

fn non_negative(x: f64) -> bool {
    x >= 0.0
}

fn positive(x: f64) -> bool {
    x > 0.0
}

fn probability(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

fn any_number(_: f64) -> bool {
    true
}

/// A scenario that validated satisfies every range of docs/scenario-format.md.
fn check_valid(s: &Scenario) -> Result<(), TestCaseError> {
    prop_assert!(!s.name.is_empty(), "empty name");
    prop_assert!(
        (1..=100).contains(&s.horizon_years),
        "horizon {}",
        s.horizon_years
    );
    prop_assert!(s.trials >= 1, "no trials");
    prop_assert!(!s.partners.is_empty(), "no partners");
    let founders = s.partners.iter().filter(|p| p.is_founder()).count();
    prop_assert!(
        s.min_members >= 1 && s.min_members <= founders,
        "min_members {} with {founders} founders",
        s.min_members
    );
    for (i, p) in s.partners.iter().enumerate() {
        prop_assert!(!p.name.is_empty(), "partner {i} has an empty name");
        prop_assert!(
            s.partners[..i]
                .iter()
                .all(|q| q.name.trim() != p.name.trim()),
            "duplicate partner name {}",
            p.name
        );
    }
    match &s.discount {
        DiscountRate::Constant(r) => prop_assert!(small(*r) && *r > -0.99, "rate {r}"),
        DiscountRate::Bands(bands) => {
            prop_assert!(!bands.is_empty() && bands[0].0 == 0, "bands {bands:?}");
            prop_assert!(bands.windows(2).all(|w| w[0].0 < w[1].0), "bands {bands:?}");
            prop_assert!(
                bands.iter().all(|b| small(b.1) && b.1 > -0.99),
                "bands {bands:?}"
            );
        }
    }
    let svc = &s.service;
    check_field(&svc.fixed_cost, "fixed_cost", non_negative)?;
    check_field(&svc.efficiency, "efficiency", any_number)?;
    check_field(&svc.transition_cost, "transition_cost", non_negative)?;
    prop_assert!(!svc.ramp.is_empty() && svc.ramp.iter().all(|x| small(*x)));
    prop_assert!(small(svc.efficiency_noise_sd) && svc.efficiency_noise_sd >= 0.0);
    prop_assert!(small(svc.scale_elasticity));
    let profile = &svc.transition_profile;
    prop_assert!(!profile.is_empty() && profile.iter().all(|x| small(*x) && *x >= 0.0));
    let sum: f64 = profile.iter().sum();
    prop_assert!(
        (sum - 1.0).abs() <= 1e-9,
        "transition_profile sums to {sum}"
    );
    prop_assert!(small(svc.optimism_bias) && svc.optimism_bias >= 0.0);
    if let CostSharing::Fixed(w) = &svc.cost_sharing {
        prop_assert_eq!(w.len(), s.partners.len());
        prop_assert!(w.iter().all(|x| small(*x) && *x > 0.0), "weights {w:?}");
    }
    for p in &s.partners {
        check_field(&p.baseline_cost, "baseline_cost", positive)?;
        check_field(&p.join_probability, "join_probability", probability)?;
        check_field(&p.onboarding_cost, "onboarding_cost", non_negative)?;
        check_field(&p.withdrawal_hazard, "withdrawal_hazard", non_negative)?;
        check_field(&p.exit_fee, "exit_fee", non_negative)?;
        check_field(&p.reestablish_cost, "reestablish_cost", non_negative)?;
        check_field(&p.rejoin_probability, "rejoin_probability", probability)?;
        check_field(&p.rejoin_fee, "rejoin_fee", non_negative)?;
        let hp = &p.hazard_profile;
        prop_assert!(!hp.is_empty() && hp.iter().all(|x| small(*x) && *x >= 0.0));
        let k = p.disappointment_sensitivity;
        prop_assert!(small(k) && k >= 0.0);
    }
    let d = &s.disputes;
    prop_assert!(probability(d.annual_probability));
    prop_assert!(probability(d.resolution_probability));
    prop_assert!(probability(d.efficiency_loss));
    prop_assert!(small(d.hazard_uplift) && d.hazard_uplift >= 0.0);
    check_field(&d.annual_cost, "disputes.annual_cost", non_negative)?;
    Ok(())
}

/// Compiles, runs [`TRIALS`] trials and builds the report (a panic in any of these fails
/// the case); returns a description of every non-finite output, or of a null in the JSON
/// report where a number belongs.
fn simulate(s: &Scenario, seed: u64, precision: Precision) -> Result<(), String> {
    let plan = Plan::compile(s);
    let out = engine::run_monitored(&plan, seed, 0, TRIALS, precision, &Monitor::new())
        .expect("a run nobody cancels finishes");
    if precision == Precision::Double {
        // The run the brief names: engine::run picks double precision for a few trials.
        // (It keeps no yearly savings; the run API's run does, and the report built
        // below checks them for non-finite figures.)
        let plain = engine::run(&plan, seed, 0, TRIALS);
        let mut without_cash = out.clone();
        (without_cash.cash_trials, without_cash.cash) = (0, Vec::new());
        if plain != without_cash {
            return Err("engine::run differs from run_monitored at double precision".into());
        }
    }
    let mut bad = Vec::new();
    let mut check = |what: String, x: f64| {
        if !x.is_finite() && bad.len() < 6 {
            bad.push(format!("{what} = {x}"));
        }
    };
    for k in 0..out.trials {
        check(format!("summary({k}).npv"), out.summary(k).npv);
        for i in 0..out.partners {
            check(format!("partner_npv({k}, {i})"), out.partner_npv(k, i));
        }
        for t in 0..out.horizon {
            check(format!("cumulative({k}, {t})"), out.cumulative(k, t));
        }
    }
    let report = Report::build(s, seed, &out, RunInfo::new(1, 1.0, TRIALS));
    let flagged = consortium_sim::summary::non_finite(&report);
    let text = report_json::to_json(&report);
    // serde_json writes NaN and infinities as null, so a NaN shows as a null here; a bare
    // NaN token would not parse.
    match serde_json::from_str::<Value>(&text) {
        Ok(v) => {
            let mut nulls = Vec::new();
            find_nulls(&v, &mut String::new(), &mut nulls);
            nulls.retain(|p| p != "/consortium/payback_year/p50");
            if nulls != flagged {
                bad.push(format!(
                    "summary::non_finite gives {flagged:?}, not {nulls:?}"
                ));
            }
            if !nulls.is_empty() {
                bad.push(format!("report JSON has null at {}", nulls.join(", ")));
            }
            if v["consortium"]["by_year"].as_array().map(Vec::len) != Some(s.horizon_years)
                || v["partners"].as_array().map(Vec::len) != Some(s.partners.len())
            {
                bad.push("report has the wrong number of years or partners".into());
            }
        }
        Err(e) => bad.push(format!("report JSON does not parse: {e}")),
    }
    if bad.is_empty() {
        Ok(())
    } else {
        bad.truncate(6);
        Err(bad.join("; "))
    }
}

fn find_nulls(v: &Value, at: &mut String, out: &mut Vec<String>) {
    let len = at.len();
    match v {
        Value::Null => out.push(at.clone()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push_str(&format!("/{i}"));
                find_nulls(item, at, out);
                at.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                at.push('/');
                at.push_str(k);
                find_nulls(item, at, out);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// Largest discount factor with which single-precision rows are checked: with every input
/// within the loader's 1e15 limit, figures then stay far below f32's 3.4e38.
const F32_SAFE_DISCOUNT_FACTOR: f64 = 1e12;

fn f32_safe(s: &Scenario) -> bool {
    s.discount
        .factors(s.horizon_years)
        .iter()
        .all(|&df| df <= F32_SAFE_DISCOUNT_FACTOR)
}

/// The full check of one value: load, and if it validates, simulate.
fn check_value(v: &Value) -> Result<(), TestCaseError> {
    let result = scenario::from_value(v, "fuzz");
    if let Some(s) = check_load(result, Some(v), Source::Value)? {
        check_scenario(&s)?;
    }
    Ok(())
}

/// A valid scenario runs with finite results at double precision, and at single precision
/// within [`f32_safe`].
fn check_scenario(s: &Scenario) -> Result<(), TestCaseError> {
    if let Err(e) = simulate(s, s.seed, Precision::Double) {
        return Err(TestCaseError::fail(format!(
            "a valid scenario gives non-finite results: {e}"
        )));
    }
    if let Err(e) = simulate(s, s.seed, Precision::Single) {
        prop_assert!(
            !f32_safe(s),
            "a valid scenario gives non-finite results in single precision: {e}"
        );
        note(|t| t.f32_overflow += 1);
    }
    Ok(())
}

/// Loads bytes as text (when UTF-8) and through a file, and checks both.
fn check_bytes(bytes: &[u8], file: &Path) -> Result<(), TestCaseError> {
    std::fs::write(file, bytes).expect("write the temp file");
    let from_file = scenario::load_file(file);
    let value = load::read_value(file);
    let parsed = value.as_ref().ok();
    if let Ok(text) = std::str::from_utf8(bytes) {
        let from_text = scenario::from_str(text, "fuzz");
        // Text and file must agree exactly: same parser, same checks.
        match (&from_text, &from_file) {
            (Ok(_), Ok(_)) => {}
            (
                Err(ScenarioError::Syntax { source: a, .. }),
                Err(ScenarioError::Syntax { source: b, .. }),
            ) => {
                prop_assert_eq!((a.line(), a.column()), (b.line(), b.column()));
            }
            (
                Err(ScenarioError::Invalid { problems: a, .. }),
                Err(ScenarioError::Invalid { problems: b, .. }),
            ) => prop_assert_eq!(a, b),
            (a, b) => {
                return Err(TestCaseError::fail(format!(
                    "from_str and load_file disagree: {a:?} vs {b:?}"
                )));
            }
        }
        check_load(from_text, parsed, Source::Text)?;
    }
    if let Err(e) = &value {
        match e {
            ScenarioError::Syntax { source, .. } => check_syntax(source)?,
            // Edits can repeat a key in one object, which reading refuses at its pointer.
            ScenarioError::Invalid { problems, .. }
                if problems
                    .iter()
                    .all(|p| p.message.contains("is given more than once in this object")) => {}
            other => {
                return Err(TestCaseError::fail(format!(
                    "read_value of an existing file: {other:?}"
                )));
            }
        }
    }
    if let Some(s) = check_load(from_file, parsed, Source::Text)? {
        check_scenario(&s)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The shipped scenarios
// ---------------------------------------------------------------------------------------

/// The minimal file of docs/scenario-format.md.
const MINIMAL: &str = r#"{
  "name": "Two districts: shared payroll",
  "horizon_years": 10,
  "service": {"efficiency": 0.15, "fixed_cost": 120000, "transition_cost": 400000},
  "partners": [
    {"name": "District A", "baseline_cost": 1200000},
    {"name": "District B", "baseline_cost": 900000}
  ]
}"#;

/// Every scenarios/*.json, the `init` template and the documentation's minimal file, as
/// (name, text, value).
fn shipped() -> &'static [(String, String, Value)] {
    static SHIPPED: OnceLock<Vec<(String, String, Value)>> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let mut out: Vec<(String, String)> = util::shipped_names()
            .into_iter()
            .map(|name| {
                let text = std::fs::read_to_string(util::shipped(&name)).expect("read a scenario");
                (name, text)
            })
            .collect();
        out.push(("template.json".into(), consortium_sim::TEMPLATE.into()));
        out.push(("minimal".into(), MINIMAL.into()));
        out.into_iter()
            .map(|(name, text)| {
                let value = serde_json::from_str(&text).expect("shipped scenarios are JSON");
                (name, text, value)
            })
            .collect()
    })
}

fn shipped_value() -> impl Strategy<Value = Value> {
    any::<Index>().prop_map(|i| {
        let all = shipped();
        all[i.index(all.len())].2.clone()
    })
}

#[test]
fn every_shipped_scenario_validates_and_runs_finite() {
    assert!(shipped().len() >= 8, "expected the 6 shipped scenarios");
    for (name, text, value) in shipped() {
        let s = scenario::from_str(text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            f32_safe(&s),
            "{name}: discount factors beyond the f32-safe bound"
        );
        check_value(value).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

// ---------------------------------------------------------------------------------------
// Generators: numbers, values, JSON
// ---------------------------------------------------------------------------------------

fn num(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// Extreme, boundary and awkward numbers.
const EXTREMES: &[f64] = &[
    0.0,
    -0.0,
    1e308,
    -1e308,
    f64::MAX,
    f64::MIN,
    5e-324,
    -5e-324,
    f64::MIN_POSITIVE,
    1e20,
    -1e20,
    1.8e19,
    1.8446744073709552e19,
    9007199254740993.0,
    1e15,
    1e12,
    1e-6,
    1e-300,
    -1.0,
    -0.5,
    -1e-9,
    0.5,
    0.95,
    0.950_000_000_1,
    1.0,
    1.000_000_001,
    1.5,
    2.5,
    10.5,
    100.0,
    101.0,
    -0.99,
    -0.989_999,
    -0.98,
    10.0,
];

fn extreme_number() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        4 => select(EXTREMES).prop_map(num),
        1 => select(&[u64::MAX, 1 << 53, (1 << 53) + 1, 0, 1, 2, 100, 101][..])
            .prop_map(Value::from),
        1 => select(&[i64::MIN, -1, -100][..]).prop_map(Value::from),
    ]
}

fn plain_number() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        4 => (0.0f64..1.0).prop_map(num),
        2 => (0.0f64..1e7).prop_map(num),
        1 => (-2.0f64..0.0).prop_map(num),
        1 => (0u64..12).prop_map(Value::from),
        2 => extreme_number(),
        1 => any::<f64>().prop_map(num),
    ]
}

/// Keys that mean something somewhere in a scenario (every field of the table of inputs,
/// every distribution form), and some that nearly do.
fn keys() -> &'static [&'static str] {
    static KEYS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys: Vec<&str> = Vec::new();
        let fields = inputs::INPUTS.iter().map(|i| i.name);
        for key in fields.chain(inputs::DIST_FORMS.iter().copied()) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys.extend_from_slice(&[
            "mean",
            "sd",
            "from_year",
            "rate",
            "proportional",
            "equal",
            "green_book",
            "green_book_health",
            "efficency",
            "Efficiency",
            "resolution",
            "",
            "~",
            "/",
            "a/b~c",
            "District A",
        ]);
        keys
    })
}

/// The cargo-fuzz dictionary (fuzz/scenario.dict) names every field of the table of
/// inputs and every distribution form, so that the fuzzer's mutations reach them all.
#[test]
fn the_fuzz_dictionary_names_every_input() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/scenario.dict");
    let dict = std::fs::read_to_string(path).expect("fuzz/scenario.dict is readable");
    let names = inputs::INPUTS.iter().map(|i| i.name);
    for name in names.chain(inputs::DIST_FORMS.iter().copied()) {
        let entry = format!("\"\\\"{name}\\\"\"");
        assert!(
            dict.lines().any(|l| l == entry),
            "fuzz/scenario.dict lacks {entry}"
        );
    }
}

fn key() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        6 => select(keys()).prop_map(String::from),
        1 => "\\PC{0,12}",
        1 => "[a-z_]{1,30}",
    ]
}

fn string_value() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => select(keys()).prop_map(String::from),
        2 => "\\PC{0,20}",
        1 => "[a-z]{41,60}",
        1 => Just("\u{0}\u{feff}\u{1F600}\\\"".to_string()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        4 => plain_number(),
        2 => string_value().prop_map(Value::String),
    ]
}

/// Arbitrary JSON of bounded depth and size.
fn arb_json() -> impl Strategy<Value = Value> + Clone {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A value for a (D) field: a number or a distribution object, mostly well formed.
fn dist_value() -> BoxedStrategy<Value> {
    let n = plain_number;
    let sorted = |k: usize| {
        prop::collection::vec(n(), k).prop_map(|mut v| {
            v.sort_by(|a, b| {
                let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
                a.total_cmp(&b)
            });
            Value::Array(v)
        })
    };
    prop_oneof![
        6 => n(),
        1 => n().prop_map(|x| json!({"fixed": x})),
        2 => sorted(2).prop_map(|v| json!({"uniform": v})),
        2 => sorted(3).prop_map(|v| json!({"triangular": v})),
        2 => sorted(3).prop_map(|v| json!({"pert": v})),
        2 => (n(), n()).prop_map(|(m, s)| json!({"normal": [m, s]})),
        2 => (n(), n()).prop_map(|(m, s)| json!({"lognormal": {"mean": m, "sd": s}})),
        2 => prop::collection::vec((n(), n()), 0..4)
            .prop_map(|p| json!({"discrete": p.into_iter().map(|(v, w)| json!([v, w])).collect::<Vec<_>>()})),
        1 => (select(keys()), arb_json()).prop_map(|(k, v)| json!({k: v})),
        1 => arb_json(),
    ]
    .boxed()
}

const NAMES: &[&str] = &["A", "B", "District A", "Police", "0", "a/b~c", ""];

/// A value for the field `key`: mostly a valid one, often one of the right shape, and now
/// and then anything at all.
fn field(key: &'static str) -> BoxedStrategy<Value> {
    match good(key) {
        Some(good) => prop_oneof![80 => good, 6 => shaped(key), 1 => arb_json()].boxed(),
        None => prop_oneof![12 => shaped(key), 1 => arb_json()].boxed(),
    }
}

/// A non-negative (D) value of magnitude about `scale`: a number or a simple distribution.
fn good_dist(lo: f64, hi: f64) -> BoxedStrategy<Value> {
    let x = move || lo..hi;
    prop_oneof![
        6 => x().prop_map(num),
        1 => (x(), x()).prop_map(|(a, b)| json!({"uniform": [a.min(b), a.max(b)]})),
        1 => (x(), x(), x()).prop_map(|(a, b, c)| {
            let mut v = [a, b, c];
            v.sort_by(f64::total_cmp);
            json!({"pert": v})
        }),
        1 => (x(), x(), x()).prop_map(|(a, b, c)| {
            let mut v = [a, b, c];
            v.sort_by(f64::total_cmp);
            json!({"triangular": v})
        }),
        1 => (x(), 0.0..hi).prop_map(|(m, s)| json!({"normal": [m, s]})),
        1 => (x(), 0.0..hi).prop_map(|(m, s)| json!({"lognormal": {"mean": m.max(1e-9), "sd": s}})),
        1 => prop::collection::vec((x(), 0.01f64..1.0), 1..4).prop_map(|p| {
            json!({"discrete": p.into_iter().map(|(v, w)| json!([v, w])).collect::<Vec<_>>()})
        }),
    ]
    .boxed()
}

/// A valid value for the field `key`, where one is easy to make.
fn good(key: &'static str) -> Option<BoxedStrategy<Value>> {
    let list = |lo: f64, hi: f64| {
        prop::collection::vec(lo..hi, 1..5)
            .prop_map(|v| Value::Array(v.into_iter().map(num).collect()))
            .boxed()
    };
    Some(match key {
        "name" => select(&NAMES[..5]).prop_map(Value::from).boxed(),
        "horizon_years" => prop_oneof![(1u64..=30), Just(100u64)]
            .prop_map(Value::from)
            .boxed(),
        "trials" => (1u64..1_000_000).prop_map(Value::from).boxed(),
        "seed" => any::<u64>().prop_map(Value::from).boxed(),
        "min_members" => (1u64..=2).prop_map(Value::from).boxed(),
        "joins_year" => prop_oneof![4 => Just(0u64), 1 => 0u64..40]
            .prop_map(Value::from)
            .boxed(),
        "lock_in_years" => (0u64..12).prop_map(Value::from).boxed(),
        "discount_rate" => prop_oneof![
            (-0.5f64..0.5).prop_map(num),
            select(&["green_book", "green_book_health"][..]).prop_map(Value::from),
            (1u64..40, -0.5f64..0.5, -0.5f64..0.5).prop_map(|(y, a, b)| {
                json!([{"from_year": 0, "rate": a}, {"from_year": y, "rate": b}])
            }),
        ]
        .boxed(),
        "ramp" => list(0.0, 1.5),
        "hazard_profile" => list(0.0, 3.0),
        "transition_profile" => select(vec![
            json!([1.0]),
            json!([0.6, 0.4]),
            json!([0.0, 0.5, 0.5]),
        ])
        .boxed(),
        "partners" => prop::collection::vec(partner(), 1..5)
            .prop_map(|mut partners| {
                // Unique names, so that most lists are valid.
                for (i, p) in partners.iter_mut().enumerate() {
                    if let Some(Value::String(name)) = p.get_mut("name") {
                        name.push_str(&format!(" {i}"));
                    }
                }
                Value::Array(partners)
            })
            .boxed(),
        "service" | "disputes" => shaped(key),
        "cost_sharing" => select(&["proportional", "equal"][..])
            .prop_map(Value::from)
            .boxed(),
        "efficiency" => prop_oneof![
            4 => (-0.5f64..1.0).prop_map(num),
            1 => (-0.5f64..1.0, 0.0f64..0.5).prop_map(|(m, s)| json!({"normal": [m, s]})),
        ]
        .boxed(),
        "join_probability" | "rejoin_probability" => good_dist(0.0, 1.0),
        "annual_probability" | "resolution_probability" | "efficiency_loss" => {
            (0.0f64..=1.0).prop_map(num).boxed()
        }
        "efficiency_noise_sd"
        | "optimism_bias"
        | "hazard_uplift"
        | "disappointment_sensitivity" => (0.0f64..2.0).prop_map(num).boxed(),
        "scale_elasticity" => (-1.0f64..1.0).prop_map(num).boxed(),
        "withdrawal_hazard" => good_dist(0.0, 0.5),
        "baseline_cost" => good_dist(1.0, 1e7),
        "fixed_cost" | "transition_cost" | "onboarding_cost" | "exit_fee" | "reestablish_cost"
        | "rejoin_fee" | "annual_cost" => good_dist(0.0, 1e7),
        _ => return None,
    })
}

/// A value of roughly the right shape for the field `key`, often invalid.
fn shaped(key: &'static str) -> BoxedStrategy<Value> {
    match key {
        "name" => select(NAMES).prop_map(Value::from).boxed(),
        "description" | "currency" | "$schema" => string_value().prop_map(Value::from).boxed(),
        "horizon_years" | "trials" | "seed" | "min_members" | "joins_year" | "lock_in_years" => {
            prop_oneof![
                6 => (0u64..12).prop_map(Value::from),
                1 => select(&[10.0, 10.5, 100.0, 101.0, -1.0, 1e20][..]).prop_map(num),
                1 => Just(Value::from(u64::MAX)),
            ]
            .boxed()
        }
        "discount_rate" => prop_oneof![
            3 => (-1.0f64..1.0).prop_map(num),
            1 => select(&["green_book", "green_book_health", "green_bok"][..]).prop_map(Value::from),
            1 => prop::collection::vec(((0u64..40), plain_number()), 0..4).prop_map(|b| {
                Value::Array(b.into_iter().map(|(y, r)| json!({"from_year": y, "rate": r})).collect())
            }),
            1 => extreme_number(),
        ]
        .boxed(),
        "ramp" | "transition_profile" | "hazard_profile" => prop_oneof![
            2 => Just(json!([1.0])),
            1 => Just(json!([0.6, 0.4])),
            3 => prop::collection::vec(plain_number(), 0..5).prop_map(Value::Array),
        ]
        .boxed(),
        "cost_sharing" => prop_oneof![
            2 => select(&["proportional", "equal", "equl"][..]).prop_map(Value::from),
            2 => prop::collection::vec((select(NAMES), plain_number()), 0..4).prop_map(|w| {
                json!({"fixed": Value::Object(w.into_iter().map(|(k, v)| (k.to_string(), v)).collect())})
            }),
        ]
        .boxed(),
        "efficiency_noise_sd" | "scale_elasticity" | "optimism_bias" | "annual_probability"
        | "resolution_probability" | "efficiency_loss" | "hazard_uplift"
        | "disappointment_sensitivity" => plain_number().boxed(),
        "service" => object_of(inputs::SERVICE_KEYS, &["efficiency"]),
        "partners" => prop_oneof![
            8 => prop::collection::vec(partner(), 1..5).prop_map(Value::Array),
            1 => Just(json!([])),
        ]
        .boxed(),
        "disputes" => object_of(inputs::DISPUTE_KEYS, &[]),
        _ => dist_value(),
    }
}

fn partner() -> BoxedStrategy<Value> {
    object_of(inputs::PARTNER_KEYS, &["name", "baseline_cost"])
}

/// An object with a random selection of `keys` (each of `required` nearly always), and
/// now and then an unknown key.
fn object_of(keys: &'static [&'static str], required: &[&str]) -> BoxedStrategy<Value> {
    let fields: Vec<_> = keys
        .iter()
        .map(|&k| {
            let p = if required.contains(&k) { 0.97 } else { 0.3 };
            prop::option::weighted(p, field(k)).prop_map(move |v| v.map(|v| (k.to_string(), v)))
        })
        .collect();
    (fields, prop::option::weighted(0.02, (key(), leaf())))
        .prop_map(|(fields, extra)| {
            let mut map: Map<String, Value> = fields.into_iter().flatten().collect();
            if let Some((k, v)) = extra {
                map.insert(k, v);
            }
            Value::Object(map)
        })
        .boxed()
}

/// JSON shaped like a scenario, with random fields and values.
fn scenario_shaped() -> BoxedStrategy<Value> {
    object_of(
        &[
            "$schema",
            "name",
            "description",
            "currency",
            "horizon_years",
            "discount_rate",
            "trials",
            "seed",
            "min_members",
            "service",
            "partners",
            "disputes",
        ],
        &["name", "horizon_years", "service", "partners"],
    )
}

// ---------------------------------------------------------------------------------------
// Mutations of JSON values
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Key(String),
    At(usize),
}

/// Every path in `v`, the root first.
fn paths(v: &Value) -> Vec<Vec<Seg>> {
    fn walk(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
        out.push(at.clone());
        match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    at.push(Seg::At(i));
                    walk(item, at, out);
                    at.pop();
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    at.push(Seg::Key(k.clone()));
                    walk(item, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

fn get<'v>(v: &'v Value, path: &[Seg]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get(k.as_str()),
        Seg::At(i) => v.get(*i),
    })
}

fn get_mut<'v>(v: &'v mut Value, path: &[Seg]) -> Option<&'v mut Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get_mut(k.as_str()),
        Seg::At(i) => v.get_mut(*i),
    })
}

/// An RFC 6901 pointer for a path.
fn pointer_of(path: &[Seg]) -> String {
    path.iter()
        .map(|seg| match seg {
            Seg::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Seg::At(i) => format!("/{i}"),
        })
        .collect()
}

fn size(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(size).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(size).sum::<usize>(),
        _ => 1,
    }
}

/// One edit of a JSON value; each picks its target among the value's paths by `Index`.
#[derive(Clone, Debug)]
enum Mutation {
    /// Remove a key or an array element.
    Delete(Index),
    /// Put a value (usually of another type) in place of whatever is there.
    Replace(Index, Value),
    /// Put an extreme number in place of a number (of anything when there is none).
    Number(Index, Value),
    /// Add a key to an object or an element to an array.
    Insert(Index, String, Value),
    /// Rename a key.
    Rename(Index, String),
    /// Repeat an array's last element until it has this many (partners get new names).
    Grow(Index, usize),
    /// Wrap a value in this many arrays.
    Nest(Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<Index>;
    prop_oneof![
        3 => i().prop_map(Mutation::Delete),
        3 => (i(), prop_oneof![2 => leaf(), 1 => arb_json(), 1 => dist_value()])
            .prop_map(|(i, v)| Mutation::Replace(i, v)),
        4 => (i(), extreme_number()).prop_map(|(i, v)| Mutation::Number(i, v)),
        2 => (i(), key(), prop_oneof![leaf(), dist_value()])
            .prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
        1 => (i(), key()).prop_map(|(i, k)| Mutation::Rename(i, k)),
        1 => (i(), select(&[2usize, 3, 300, 2_000, 100_000][..]))
            .prop_map(|(i, n)| Mutation::Grow(i, n)),
        1 => (i(), select(&[1usize, 2, 127, 128, 129, 1_000][..]))
            .prop_map(|(i, n)| Mutation::Nest(i, n)),
    ]
}

/// Largest value (in JSON nodes) a mutation may make; bigger results are dropped.
const MAX_NODES: usize = 400_000;

fn pick<'a>(all: &'a [Vec<Seg>], i: &Index, keep: impl Fn(&[Seg]) -> bool) -> Option<&'a [Seg]> {
    let some: Vec<&Vec<Seg>> = all.iter().filter(|p| keep(p)).collect();
    (!some.is_empty()).then(|| some[i.index(some.len())].as_slice())
}

fn apply(v: &mut Value, m: &Mutation) {
    let all = paths(v);
    let kind_at = |p: &[Seg], v: &Value, f: fn(&Value) -> bool| get(v, p).is_some_and(f);
    match m {
        Mutation::Delete(i) => {
            let Some(p) = pick(&all, i, |p| !p.is_empty()) else {
                return;
            };
            let (last, parent) = p.split_last().unwrap();
            match (get_mut(v, parent), last) {
                (Some(Value::Object(map)), Seg::Key(k)) => {
                    map.shift_remove(k);
                }
                (Some(Value::Array(items)), Seg::At(j)) => {
                    items.remove(*j);
                }
                _ => {}
            }
        }
        Mutation::Replace(i, new) => {
            let p = pick(&all, i, |_| true).unwrap();
            *get_mut(v, p).unwrap() = new.clone();
        }
        Mutation::Number(i, new) => {
            let numeric: Vec<Vec<Seg>> = all
                .iter()
                .filter(|p| kind_at(p, v, Value::is_number))
                .cloned()
                .collect();
            let from = if numeric.is_empty() { &all } else { &numeric };
            let p = pick(from, i, |_| true).unwrap();
            *get_mut(v, p).unwrap() = new.clone();
        }
        Mutation::Insert(i, k, new) => {
            let Some(p) = pick(&all, i, |p| {
                kind_at(p, v, |x| x.is_object() || x.is_array())
            }) else {
                return;
            };
            match get_mut(v, p).unwrap() {
                Value::Object(map) => {
                    map.insert(k.clone(), new.clone());
                }
                Value::Array(items) => items.push(new.clone()),
                _ => {}
            }
        }
        Mutation::Rename(i, k) => {
            let Some(p) = pick(&all, i, |p| matches!(p.last(), Some(Seg::Key(_)))) else {
                return;
            };
            let (Seg::Key(old), parent) = p.split_last().unwrap() else {
                return;
            };
            if let Some(Value::Object(map)) = get_mut(v, parent)
                && let Some(x) = map.shift_remove(old)
            {
                map.insert(k.clone(), x);
            }
        }
        Mutation::Grow(i, n) => {
            let Some(p) = pick(&all, i, |p| {
                kind_at(p, v, |x| x.as_array().is_some_and(|a| !a.is_empty()))
            }) else {
                return;
            };
            let partners = p == [Seg::Key("partners".into())];
            let Some(Value::Array(items)) = get_mut(v, p) else {
                return;
            };
            let last = items.last().unwrap().clone();
            let n = if partners { (*n).min(300) } else { *n };
            if size(&last) * n > MAX_NODES {
                return;
            }
            while items.len() < n {
                let mut x = last.clone();
                if partners && let Some(name) = x.get_mut("name") {
                    *name =
                        Value::from(format!("{} #{}", name.as_str().unwrap_or("?"), items.len()));
                }
                items.push(x);
            }
        }
        Mutation::Nest(i, n) => {
            let p = pick(&all, i, |_| true).unwrap();
            let x = get_mut(v, p).unwrap();
            for _ in 0..*n {
                *x = Value::Array(vec![x.take()]);
            }
        }
    }
}

fn mutated_scenario() -> impl Strategy<Value = (Value, Vec<Mutation>)> {
    (shipped_value(), prop::collection::vec(mutation(), 1..5)).prop_map(|(mut v, ms)| {
        for m in &ms {
            let before = v.clone();
            apply(&mut v, m);
            if size(&v) > MAX_NODES {
                v = before;
            }
        }
        (v, ms)
    })
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

/// Any JSON value at all.
#[test]
fn arbitrary_json_values() {
    property("arbitrary_json_values", 3_000, arb_json(), |v| {
        check_value(v)
    });
}

/// JSON shaped like a scenario with random fields: many validate, many do not.
#[test]
fn scenario_shaped_json() {
    property("scenario_shaped_json", 1_000, scenario_shaped(), |v| {
        check_value(v)
    });
}

/// Mutations of every shipped scenario, also written out and read back as text.
#[test]
fn mutated_shipped_scenarios() {
    property(
        "mutated_shipped_scenarios",
        1_000,
        mutated_scenario(),
        |(v, _)| {
            check_value(v)?;
            let text = serde_json::to_string(v).expect("a value serialises");
            let parsed: Option<Value> = serde_json::from_str(&text).ok();
            let loaded = scenario::from_str(&text, "fuzz");
            if let Some(s) = check_load(loaded, parsed.as_ref(), Source::Text)? {
                check_scenario(&s)?;
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------
// Text: edits of the shipped files, random bytes, deep nesting
// ---------------------------------------------------------------------------------------

/// One byte-level edit of a text.
#[derive(Clone, Debug)]
enum Edit {
    Set(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Truncate(Index),
}

/// Fragments that matter to a JSON parser.
const FRAGMENTS: &[&[u8]] = &[
    b"[",
    b"{",
    b"\"",
    b"\\",
    b",",
    b":",
    b"-",
    b"0",
    b"1e999",
    b"-1e999",
    b"1e-999",
    b"18446744073709551616",
    b"100000000000000000000000000000000000000000",
    b"NaN",
    b"Infinity",
    b"null",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf",
    b"\x00",
    b"\"\\ud800\"",
    b"\"\\u0000\"",
    b"\"\\uZZZZ\"",
    b"/* c */",
    b"\r\n",
    b"\t",
];

fn edit() -> impl Strategy<Value = Edit> {
    let i = any::<Index>;
    prop_oneof![
        3 => (i(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        3 => (i(), select(FRAGMENTS)).prop_map(|(i, f)| Edit::Insert(i, f.to_vec())),
        1 => (i(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => (i(), select(&[1usize, 10_000][..]), select(&[b"[" as &[u8], b"{\"a\":"][..]))
            .prop_map(|(i, n, f)| Edit::Insert(i, f.repeat(n))),
        2 => (i(), 1usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => i().prop_map(Edit::Truncate),
    ]
}

fn apply_edit(text: &mut Vec<u8>, e: &Edit) {
    let at = |i: &Index, len: usize| i.index(len + 1);
    match e {
        Edit::Set(i, b) if !text.is_empty() => {
            let j = i.index(text.len());
            text[j] = *b;
        }
        Edit::Set(..) => {}
        Edit::Insert(i, bytes) => {
            let j = at(i, text.len());
            text.splice(j..j, bytes.iter().copied());
        }
        Edit::Delete(i, n) => {
            let j = at(i, text.len());
            let end = (j + n).min(text.len());
            text.drain(j..end);
        }
        Edit::Truncate(i) => {
            let j = at(i, text.len());
            text.truncate(j);
        }
    }
}

fn edited_text() -> impl Strategy<Value = Vec<u8>> {
    (any::<Index>(), prop::collection::vec(edit(), 1..4)).prop_map(|(i, edits)| {
        let all = shipped();
        let mut text = all[i.index(all.len())].1.clone().into_bytes();
        for e in &edits {
            apply_edit(&mut text, e);
        }
        text
    })
}

/// Bytes from an alphabet that drives a JSON parser deep into its states.
fn jsonish_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        select(&b"{}[]\":,-+.0123456789eEtrufalsn \\u\xff"[..]),
        0..200,
    )
}

/// Byte-level edits of the shipped files through from_str and a temp file.
#[test]
fn edited_scenario_text() {
    property("edited_scenario_text", 2_000, edited_text(), |bytes| {
        with_temp_file(|path| check_bytes(bytes, path))
    });
}

/// Random bytes, empty input included.
#[test]
fn random_bytes() {
    let bytes = prop_oneof![prop::collection::vec(any::<u8>(), 0..300), jsonish_bytes(),];
    property("random_bytes", 2_000, bytes, |bytes| {
        with_temp_file(|path| check_bytes(bytes, path))
    });
}

/// Runs `f` with the path of this thread's temp file (made once per thread).
fn with_temp_file<T>(f: impl FnOnce(&Path) -> T) -> T {
    thread_local! {
        static FILE: tempfile::NamedTempFile = tempfile::NamedTempFile::new().expect("a temp file");
    }
    FILE.with(|file| f(file.path()))
}

/// serde_json's recursion limit (128) turns deep nesting into a syntax error instead of a
/// stack overflow, from text, from a file, inside a field and in a `--set` value.
#[test]
fn deep_nesting_is_a_syntax_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep.json");
    for depth in [129, 10_000, 1_000_000] {
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        let unclosed = "[".repeat(depth);
        let inside = MINIMAL.replace("0.15", &arrays);
        for text in [&arrays, &objects, &unclosed, &inside] {
            match scenario::from_str(text, "deep") {
                Err(ScenarioError::Syntax { source, .. }) => {
                    check_syntax(&source).unwrap();
                    assert!(
                        source.to_string().contains("recursion limit")
                            || text == &unclosed && depth < 128,
                        "{source}"
                    );
                }
                other => panic!("depth {depth}: expected a syntax error, got {other:?}"),
            }
            std::fs::write(&file, text).unwrap();
            assert!(matches!(
                load::read_value(&file),
                Err(ScenarioError::Syntax { .. })
            ));
        }
        // A --set value that does not parse as JSON is taken as a string.
        let mut v: Value = serde_json::from_str(MINIMAL).unwrap();
        scenario::apply_set(&mut v, &format!("/service/efficiency={arrays}")).unwrap();
        assert_eq!(v["service"]["efficiency"], Value::String(arrays.clone()));
        let problems = invalid(scenario::from_value(&v, "deep"));
        assert_eq!(problems[0].path, "/service/efficiency");
    }
    // Just under the limit parses, and is rejected by validation with a path.
    let ok_depth = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let problems = invalid(scenario::from_str(
        &MINIMAL.replace("0.15", &ok_depth),
        "deep",
    ));
    assert_eq!(problems[0].path, "/service/efficiency");
}

fn invalid(r: Result<Scenario, ScenarioError>) -> Vec<Problem> {
    match r {
        Err(ScenarioError::Invalid { problems, .. }) => problems,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn syntax(r: Result<impl std::fmt::Debug, ScenarioError>) -> serde_json::Error {
    match r {
        Err(ScenarioError::Syntax { source, .. }) => {
            check_syntax(&source).unwrap();
            source
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

/// A UTF-8 byte-order mark before the JSON is skipped, by every way in; alone it is
/// an empty file.
#[test]
fn a_byte_order_mark_is_skipped_by_every_loader() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.json");
    std::fs::write(&file, b"\xef\xbb\xbf{}").unwrap();
    assert_eq!(load::read_value(&file).unwrap(), serde_json::json!({}));
    let text = format!("\u{feff}{MINIMAL}");
    std::fs::write(&file, &text).unwrap();
    scenario::load_file(&file).unwrap();
    scenario::from_str(&text, "t").unwrap();
}

#[test]
fn empty_and_invalid_utf8_input_are_syntax_errors_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.json");
    for text in [
        "",
        " ",
        "\n\n\n",
        "\u{feff}",
        "nul",
        "{",
        "{\"name\": \"x\",}",
    ] {
        syntax(scenario::from_str(text, "t"));
        std::fs::write(&file, text).unwrap();
        syntax(load::read_value(&file));
        syntax(scenario::load_file(&file));
    }
    let e = syntax(scenario::from_str("", "t"));
    assert_eq!(e.line(), 1);
    let e = syntax(scenario::from_str("\n\n", "t"));
    assert_eq!(e.line(), 3, "{e}");
    // Invalid UTF-8: alone, inside a string and outside one.
    let inside = MINIMAL.replace("District A", "District \u{1}").into_bytes();
    let at = inside.iter().position(|&b| b == 1).unwrap();
    let mut bad_inside = inside.clone();
    bad_inside[at] = 0xff;
    let mut bad_outside = MINIMAL.as_bytes().to_vec();
    bad_outside.insert(1, 0xc3);
    let lone_surrogate = MINIMAL.replace("District A", "\\ud800").into_bytes();
    for bytes in [
        vec![0xff],
        vec![0xc3],
        bad_inside,
        bad_outside,
        lone_surrogate,
    ] {
        std::fs::write(&file, &bytes).unwrap();
        let e = syntax(load::read_value(&file));
        assert!(e.line() >= 1);
        syntax(scenario::load_file(&file));
    }
}

#[test]
fn missing_file_and_directory_are_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    for path in [dir.path().join("absent.json"), dir.path().to_path_buf()] {
        match load::read_value(&path) {
            Err(e @ ScenarioError::Io { .. }) => {
                assert!(e.to_string().contains(&path.display().to_string()));
            }
            other => panic!("{}: expected Io, got {other:?}", path.display()),
        }
    }
}

/// Numbers that JSON can write but f64 cannot hold, and integer edge cases.
#[test]
fn out_of_range_number_literals() {
    for lit in ["1e400", "-1e400", &format!("1{}", "0".repeat(400))] {
        let text = MINIMAL.replace("0.15", lit);
        syntax(scenario::from_str(&text, "t"));
    }
    // Underflow reads as zero, which is a valid efficiency.
    let text = MINIMAL.replace("0.15", "1e-400");
    scenario::from_str(&text, "t").unwrap();
    // Whole numbers too big for u64 are located errors, not wraparound.
    for lit in [
        "18446744073709551616",
        "1e20",
        "-1",
        "-0.5",
        "10.5",
        "1e308",
    ] {
        let text = MINIMAL.replace(
            "\"horizon_years\": 10",
            &format!("\"seed\": {lit}, \"horizon_years\": 10"),
        );
        let problems = invalid(scenario::from_str(&text, "t"));
        assert_eq!(problems.len(), 1, "{lit}: {problems:?}");
        assert_eq!(problems[0].path, "/seed", "{lit}");
    }
    // -0 and -0.0 are the whole number 0; u64::MAX is a valid seed.
    for lit in ["-0", "-0.0"] {
        let text = MINIMAL.replace(
            "\"horizon_years\": 10",
            &format!("\"seed\": {lit}, \"horizon_years\": 10"),
        );
        assert_eq!(scenario::from_str(&text, "t").unwrap().seed, 0);
    }
    let text = MINIMAL.replace(
        "\"horizon_years\": 10",
        "\"seed\": 18446744073709551615, \"horizon_years\": 10",
    );
    let s = scenario::from_str(&text, "t").unwrap();
    assert_eq!(s.seed, u64::MAX);
    check_scenario(&s).unwrap();
}

// ---------------------------------------------------------------------------------------
// Huge arrays
// ---------------------------------------------------------------------------------------

fn minimal() -> Value {
    serde_json::from_str(MINIMAL).unwrap()
}

fn timed<T>(what: &str, limit: Duration, f: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < limit, "{what} took {took:?} (limit {limit:?})");
    out
}

#[test]
fn huge_arrays_validate_quickly_and_run_finite() {
    let limit = Duration::from_secs(10);
    let mut v = minimal();
    v["horizon_years"] = json!(100);
    v["service"]["ramp"] =
        Value::Array((0..100_000).map(|i| num(f64::from(i % 7) / 7.0)).collect());
    v["service"]["transition_profile"] = Value::Array(vec![num(1e-5); 100_000]);
    v["discount_rate"] = Value::Array(
        (0..10_000)
            .map(|y| json!({"from_year": y, "rate": 0.035}))
            .collect(),
    );
    let template = json!({
        "name": "",
        "baseline_cost": {"lognormal": {"mean": 1e6, "sd": 2e5}},
        "withdrawal_hazard": 0.05,
        "hazard_profile": vec![0.5; 100_000],
        "disappointment_sensitivity": 1.0,
        "reestablish_cost": 1000,
        "rejoin_probability": 0.2,
    });
    for n in [300usize, 2_000] {
        let mut v = v.clone();
        let partners: Vec<Value> = (0..n)
            .map(|i| {
                let mut p = template.clone();
                p["name"] = json!(format!("Partner {i}"));
                if i >= 10 {
                    p["hazard_profile"] = json!([1.0]);
                }
                if i % 3 == 1 {
                    p["joins_year"] = json!(i % 50);
                }
                p
            })
            .collect();
        let weights: Map<String, Value> = (0..n)
            .map(|i| (format!("Partner {i}"), num(1.0 + i as f64)))
            .collect();
        v["partners"] = Value::Array(partners);
        for sharing in [
            json!("proportional"),
            json!("equal"),
            json!({"fixed": weights}),
        ] {
            v["service"]["cost_sharing"] = sharing;
            let s = timed("validating huge arrays", limit, || {
                scenario::from_value(&v, "huge").unwrap_or_else(|e| panic!("{e}"))
            });
            // The run is checked for finite results only: its speed is the benchmarks'
            // business (a time limit here failed on a busy machine, not a slow engine).
            check_scenario(&s).unwrap();
        }
    }
}

/// A scenario with many partners and many problems: every problem is listed, located,
/// and found in reasonable time.
#[test]
fn thousands_of_partners_with_problems_are_all_located_quickly() {
    let n = 5_000;
    let mut v = minimal();
    v["partners"] = Value::Array(
        (0..n)
            .map(|i| json!({"name": format!("P{}", i % (n / 2)), "baseline_cost": -1, "x": 1}))
            .collect(),
    );
    v["service"]["cost_sharing"] = json!({"fixed": {"P0": 1, "Q1": 2}});
    let problems = timed("validating", Duration::from_secs(10), || {
        invalid(scenario::from_value(&v, "t"))
    });
    for p in &problems {
        check_problem(p, Some(&v)).unwrap();
    }
    // Unknown key, bad baseline in each partner, and the duplicates.
    assert!(problems.len() >= 2 * n + n / 2, "{}", problems.len());
}

// ---------------------------------------------------------------------------------------
// --set overrides
// ---------------------------------------------------------------------------------------

/// A pointer into `v`: an existing path (partners sometimes by name), maybe with one more
/// segment, or something that is not a pointer.
fn pointer_into(v: &Value) -> BoxedStrategy<String> {
    let all = paths(v);
    let v = v.clone();
    prop_oneof![
        6 => (any::<Index>(), any::<bool>(), prop::option::of(key())).prop_map(move |(i, by_name, extra)| {
            let mut p = all[i.index(all.len())].clone();
            if by_name && p.len() >= 2 && p[0] == Seg::Key("partners".into())
                && let Some(name) = v.pointer(&pointer_of(&p[..2])).and_then(|x| x.get("name")).and_then(Value::as_str) {
                    p[1] = Seg::Key(name.to_string());
                }
            if let Some(k) = extra {
                p.push(Seg::Key(k));
            }
            pointer_of(&p)
        }),
        1 => "(/[a-z_~01]{0,8}){0,4}",
        1 => "\\PC{0,16}",
        1 => select(&["", "/", "//", "/partners/-", "/partners/99", "/partners/+0/name", "/partners/00/name", "~1", "/service/ramp/0/x"][..]).prop_map(String::from),
    ]
    .boxed()
}

fn set_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => extreme_number().prop_map(|v| v.to_string()),
        2 => leaf().prop_map(|v| v.to_string()),
        2 => dist_value().prop_map(|v| v.to_string()),
        1 => arb_json().prop_map(|v| v.to_string()),
        2 => string_value(),
        1 => select(&["", "=", "1e999", "NaN", "[", "{\"uniform\":[0.1,0.3]}", "equal", "green_book", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["][..])
            .prop_map(String::from),
    ]
}

/// `--set POINTER=VALUE` split at the first `=` outside a quoted segment (one that
/// starts with `"` right after a `/`, a JSON string in which `\"` is a quote).
fn split_spec(spec: &str) -> Option<(&str, &str)> {
    let (mut quoted, mut escaped, mut after_slash) = (false, false, false);
    for (i, c) in spec.char_indices() {
        if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
        } else if c == '"' && after_slash {
            quoted = true;
        } else if c == '=' {
            return Some((&spec[..i], &spec[i + 1..]));
        }
        after_slash = !quoted && c == '/';
    }
    None
}

/// A pointer's segments as `--set` reads them: `"..."` a JSON string, always a name or
/// key; otherwise RFC 6901 (`~1`, `~0`), an index only if it is a canonical decimal
/// (`0`, `12`: no sign, no leading zero). `None` if the pointer is not one.
fn segments(pointer: &str) -> Option<Vec<(String, bool)>> {
    let mut rest = pointer.strip_prefix('/')?;
    let mut out = Vec::new();
    loop {
        if rest.starts_with('"') {
            let mut escaped = false;
            let end = rest
                .char_indices()
                .skip(1)
                .find_map(|(i, c)| match (escaped, c) {
                    (true, _) => {
                        escaped = false;
                        None
                    }
                    (false, '\\') => {
                        escaped = true;
                        None
                    }
                    (false, '"') => Some(i),
                    _ => None,
                })?;
            out.push((serde_json::from_str::<String>(&rest[..=end]).ok()?, true));
            rest = &rest[end + 1..];
            match rest.strip_prefix('/') {
                Some(next) => rest = next,
                None if rest.is_empty() => return Some(out),
                None => return None,
            }
        } else {
            let (seg, next) = match rest.split_once('/') {
                Some((seg, next)) => (seg, Some(next)),
                None => (rest, None),
            };
            out.push((seg.replace("~1", "/").replace("~0", "~"), false));
            match next {
                Some(next) => rest = next,
                None => return Some(out),
            }
        }
    }
}

/// Where `--set POINTER=...` writes in `v`, as a plain RFC 6901 pointer: inside arrays a
/// segment is an index if it is an unquoted canonical decimal, otherwise the name of an
/// element; the last segment may be a new key of an object.
fn locate(mut v: &Value, pointer: &str) -> Option<String> {
    let segs = segments(pointer)?;
    let mut out = Vec::new();
    for (n, (seg, quoted)) in segs.iter().enumerate() {
        let last = n + 1 == segs.len();
        let (step, next) = match v {
            Value::Object(map) => match map.get(seg) {
                Some(x) => (Seg::Key(seg.clone()), x),
                None if last => (Seg::Key(seg.clone()), v),
                None => return None,
            },
            Value::Array(items) => {
                let canonical = seg == "0" || (!seg.starts_with('0') && !seg.is_empty());
                let index = (!quoted && canonical && seg.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| seg.parse::<usize>().ok())
                    .flatten();
                let i = match index {
                    Some(i) => i,
                    None => items
                        .iter()
                        .position(|x| x.get("name").and_then(Value::as_str) == Some(seg))?,
                };
                (Seg::At(i), items.get(i)?)
            }
            _ => return None,
        };
        out.push(step);
        v = next;
    }
    Some(pointer_of(&out))
}

fn set_case() -> impl Strategy<Value = (Value, Vec<String>)> {
    shipped_value().prop_flat_map(|v| {
        let spec =
            (pointer_into(&v), set_value(), prop::bool::weighted(0.95)).prop_map(|(p, val, eq)| {
                if eq {
                    format!("{p}={val}")
                } else {
                    format!("{p}{val}")
                }
            });
        (Just(v), prop::collection::vec(spec, 1..4))
    })
}

/// `--set` with random pointers and values, then validation.
#[test]
fn set_overrides_then_validation() {
    property(
        "set_overrides_then_validation",
        2_000,
        set_case(),
        check_set,
    );
}

/// Cases the property found or might: a quoted segment is a key (`""` the empty one,
/// `"a=b"` one with `=`), and `01` or a quoted `"0"` is a partner's name, not an index.
#[test]
fn set_with_quoted_and_non_canonical_segments() {
    let v = crate::util::read_json(std::path::Path::new(&crate::util::shipped(
        "london_boroughs_strong_governance.json",
    )));
    for spec in [
        r#"/service/""=0.0"#,
        r#"/service/"a=b"=1"#,
        r#"/service/"x"/y=1"#,
        "/partners/01/exit_fee=5",
        r#"/partners/"0"/exit_fee=5"#,
        "/partners/0/exit_fee=5",
    ] {
        check_set(&(v.clone(), vec![spec.to_string()]))
            .unwrap_or_else(|e| panic!("--set {spec}: {e}"));
    }
}

fn check_set((v, specs): &(Value, Vec<String>)) -> Result<(), TestCaseError> {
    let mut v = v.clone();
    for spec in specs {
        let before = v.clone();
        let target = split_spec(spec).and_then(|(p, _)| locate(&v, p));
        match scenario::apply_set(&mut v, spec) {
            Ok(set) => {
                let raw = split_spec(spec).expect("an applied spec has '='").1;
                let expected = scenario::overrides::parse_value(raw);
                let target = target.expect("an applied spec names a place");
                // What `apply_set` says it set is where this test finds the place.
                prop_assert_eq!(&set, &target, "--set {} reports the wrong place", spec);
                prop_assert_eq!(
                    v.pointer(&target),
                    Some(&expected),
                    "after --set {} the value is not at {}",
                    spec,
                    target
                );
            }
            Err(e @ ScenarioError::Override { .. }) => {
                let ScenarioError::Override { spec: s, message } = &e else {
                    unreachable!()
                };
                prop_assert_eq!(s, spec);
                prop_assert!(!message.is_empty());
                prop_assert!(e.to_string().starts_with("--set "));
                prop_assert_eq!(&v, &before, "a failed --set changed the scenario");
            }
            Err(other) => {
                return Err(TestCaseError::fail(format!("apply_set returned {other:?}")));
            }
        }
    }
    check_value(&v)
}

// ---------------------------------------------------------------------------------------
// Numeric robustness: extreme but valid scenarios
// ---------------------------------------------------------------------------------------

fn costs(zero: bool) -> &'static [f64] {
    if zero {
        &[0.0, 1e-6, 1.0, 1e6, 1e12, 1e15]
    } else {
        &[1e-6, 1.0, 1e6, 1e12, 1e15]
    }
}

/// A money (D) field with a mean >= 0 (> 0 unless `zero`), at extreme magnitudes.
fn money(zero: bool) -> BoxedStrategy<Value> {
    let c = move || select(costs(zero));
    let pos = || select(costs(false));
    let sorted = move |k: usize| {
        prop::collection::vec(c(), k).prop_map(|mut v| {
            v.sort_by(f64::total_cmp);
            v
        })
    };
    prop_oneof![
        4 => c().prop_map(num),
        1 => sorted(2).prop_map(|v| json!({"uniform": v})),
        1 => sorted(3).prop_map(|v| json!({"triangular": v})),
        1 => sorted(3).prop_map(|v| json!({"pert": v})),
        1 => (pos(), c()).prop_map(|(m, s)| json!({"normal": [m, s]})),
        1 => (pos(), c()).prop_map(|(m, s)| json!({"lognormal": {"mean": m, "sd": s}})),
        1 => prop::collection::vec((c(), select(&[0.0, 1e-6, 1.0, 1e6][..])), 1..4).prop_map(|p| {
            let mut pairs: Vec<Value> = p.into_iter().map(|(v, w)| json!([v, w])).collect();
            pairs.push(json!([1.0, 1.0]));
            json!({"discrete": pairs})
        }),
    ]
    .boxed()
}

fn probability_value() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => select(&[0.0, 1e-6, 0.5, 1.0][..]).prop_map(num),
        1 => Just(json!({"uniform": [0.0, 1.0]})),
        1 => Just(json!({"pert": [0.0, 1.0, 1.0]})),
        1 => Just(json!({"normal": [0.5, 10.0]})),
        1 => Just(json!({"lognormal": {"mean": 0.5, "sd": 1e6}})),
    ]
    .boxed()
}

fn hazard_value() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => select(&[0.0, 0.03, 0.5, 1.0, 5.0][..]).prop_map(num),
        1 => Just(json!({"uniform": [0.0, 1.0]})),
        1 => Just(json!({"normal": [1.0, 1.0]})),
    ]
    .boxed()
}

fn efficiency_value() -> BoxedStrategy<Value> {
    let g = || select(&[-10.0, -1.0, -0.5, 0.0, 0.15, 0.95, 1.0, 1.5, 10.0][..]);
    prop_oneof![
        4 => g().prop_map(num),
        1 => (g(), select(&[0.0, 0.1, 1.0, 100.0][..])).prop_map(|(m, s)| json!({"normal": [m, s]})),
        1 => Just(json!({"uniform": [-1.0, 0.95]})),
        1 => Just(json!({"pert": [-1.0, 0.95, 10.0]})),
        1 => Just(json!({"lognormal": {"mean": 0.15, "sd": 1.0}})),
    ]
    .boxed()
}

/// The discount rates of the robustness property: from -0.9899 (just above the lowest
/// allowed, -0.99) up to 10, constant or in bands, and the Green Book schedules.
fn discount_value() -> BoxedStrategy<Value> {
    let r = || select(&[-0.9899, -0.98, -0.9, -0.5, 0.0, 0.035, 1.0, 10.0][..]);
    prop_oneof![
        4 => r().prop_map(num),
        1 => select(&["green_book", "green_book_health"][..]).prop_map(Value::from),
        1 => (r(), r(), 1u64..99).prop_map(|(a, b, y)| json!([{"from_year": 0, "rate": a}, {"from_year": y, "rate": b}])),
    ]
    .boxed()
}

fn extreme_partner() -> BoxedStrategy<Value> {
    (
        (
            money(false),
            select(&[0u64, 0, 0, 1, 5, 99, 200][..]),
            probability_value(),
        ),
        (
            money(true),
            hazard_value(),
            prop::collection::vec(select(&[0.0, 0.5, 1.0, 2.0, 100.0][..]), 1..4),
        ),
        (
            select(&[0.0, 1.0, 100.0][..]),
            select(&[0u64, 2, 200][..]),
            money(true),
        ),
        (money(true), probability_value(), money(true)),
    )
        .prop_map(|((b, j, jp), (ob, h, hp), (k, l, x), (re, rp, rf))| {
            json!({
                "name": "", "baseline_cost": b, "joins_year": j, "join_probability": jp,
                "onboarding_cost": ob, "withdrawal_hazard": h, "hazard_profile": hp,
                "disappointment_sensitivity": k, "lock_in_years": l, "exit_fee": x,
                "reestablish_cost": re, "rejoin_probability": rp, "rejoin_fee": rf,
            })
        })
        .boxed()
}

/// A valid scenario with extreme but valid values.
fn extreme_valid() -> impl Strategy<Value = Value> {
    let service = (
        (
            money(true),
            efficiency_value(),
            prop::collection::vec(select(&[0.0, 0.5, 1.0, 1.5, 10.0][..]), 1..4),
        ),
        (
            select(&[0.0, 0.01, 1.0, 10.0][..]),
            select(&[-4.0, -1.0, 0.0, 0.1, 1.0, 4.0][..]),
            money(true),
        ),
        (
            select(vec![
                json!([1.0]),
                json!([0.6, 0.4]),
                json!([0.0, 1.0]),
                json!([0.34, 0.33, 0.33]),
                json!([0.25, 0.25, 0.25, 0.25]),
            ]),
            select(&[0.0, 0.2, 1.0, 10.0][..]),
            0usize..3,
        ),
    );
    let disputes = prop::option::of((
        select(&[0.0, 0.5, 1.0][..]),
        select(&[0.0, 0.5, 1.0][..]),
        money(true),
        select(&[0.0, 0.5, 1.0][..]),
        select(&[0.0, 0.1, 1.0, 10.0][..]),
    ));
    (
        (
            select(&[1u64, 2, 10, 100][..]),
            discount_value(),
            any::<Index>(),
        ),
        service,
        prop::collection::vec(extreme_partner(), 1..4),
        select(&[1usize, 1, 2, 3, 10, 300][..]),
        disputes,
        select(&[1e-6, 1.0, 1e6][..]),
    )
        .prop_map(
            |(
                (h, discount, min),
                ((fc, g, ramp), (noise, e, tc), (profile, bias, sharing)),
                templates,
                n,
                disputes,
                w,
            )| {
                let mut partners: Vec<Value> = (0..n)
                    .map(|i| {
                        let mut p = templates[i % templates.len()].clone();
                        p["name"] = json!(format!("Partner {i}"));
                        if i == 0 {
                            p["joins_year"] = json!(0);
                        }
                        p
                    })
                    .collect();
                let founders = partners
                    .iter()
                    .filter(|p| p["joins_year"] == json!(0))
                    .count();
                let sharing = match sharing {
                    0 => json!("proportional"),
                    1 => json!("equal"),
                    _ => {
                        json!({"fixed": Value::Object(partners.iter_mut().enumerate().map(|(i, p)| {
                    (p["name"].as_str().unwrap().to_string(), num(if i % 2 == 0 { w } else { 1.0 }))
                }).collect())})
                    }
                };
                let mut v = json!({
                    "name": "extreme",
                    "horizon_years": h,
                    "discount_rate": discount,
                    "min_members": 1 + min.index(founders),
                    "service": {
                        "fixed_cost": fc, "efficiency": g, "ramp": ramp,
                        "efficiency_noise_sd": noise, "scale_elasticity": e,
                        "transition_cost": tc, "transition_profile": profile,
                        "optimism_bias": bias, "cost_sharing": sharing,
                    },
                    "partners": partners,
                });
                if let Some((p, r, k, d, u)) = disputes {
                    v["disputes"] = json!({
                        "annual_probability": p, "resolution_probability": r, "annual_cost": k,
                        "efficiency_loss": d, "hazard_uplift": u,
                    });
                }
                v
            },
        )
}

fn check_extreme(v: &Value) -> Result<(), TestCaseError> {
    match scenario::from_value(v, "extreme") {
        Ok(s) => {
            note(|t| t.valid += 1);
            check_valid(&s)?;
            check_scenario(&s)
        }
        Err(e) => Err(TestCaseError::fail(format!(
            "a valid scenario was rejected: {e}"
        ))),
    }
}

/// Extreme but valid values (costs 1e-6 to 1e15, the loader's limit; hazard 1 and above,
/// efficiency beyond its bounds, horizon 100, discount rates -0.9899 to 10, one partner
/// with min_members 1, 300 partners) validate and give finite results.
#[test]
fn extreme_valid_scenarios_give_finite_results() {
    property(
        "extreme_valid_scenarios",
        300,
        extreme_valid(),
        check_extreme,
    );
}

// ---------------------------------------------------------------------------------------
// Known bugs, each with its minimal input
// ---------------------------------------------------------------------------------------

/// A steep negative discount rate over 100 years (2.5^99 is about 1.6e39, past f32's
/// 3.4e38) keeps double-precision rows even in a run big enough for single precision
/// (found by this suite: it used to end in "internal error: non-finite figures").
#[test]
fn steep_negative_discount_rates_keep_double_precision_rows() {
    let mut v = minimal();
    v["horizon_years"] = json!(100);
    v["discount_rate"] = json!(-0.6);
    let s = scenario::from_value(&v, "steep").unwrap();
    // Big enough for single precision, but 2.5^99 is past f32's range.
    assert_eq!(
        Precision::for_run(700_000, &Plan::compile(&s)),
        Precision::Double
    );
    simulate(&s, 1, Precision::Double).unwrap();
}

/// Baselines near the bottom of the double range (found by `scenario_shaped_json`): a
/// cost share computed as basis x (1 / sum) overflowed there and made every figure
/// -inf, and a relative loss as w x (1 / B) would overflow too. Shares are divided,
/// and a lone member's share is exactly 1; over two years (so that notices are
/// decided) and with several partners the figures stay finite.
#[test]
fn subnormal_baselines_give_finite_figures() {
    for (partners, horizon) in [(1, 1), (1, 2), (3, 5)] {
        let mut v = minimal();
        v["horizon_years"] = json!(horizon);
        v["min_members"] = json!(1);
        v["partners"] = Value::Array(
            (0..partners)
                .map(|i| {
                    json!({
                        "name": format!("P{i}"),
                        "baseline_cost": {"normal": [6.930582601583557e-309, 0.18496827067492683]},
                        "withdrawal_hazard": 0.1,
                        "disappointment_sensitivity": 1.0
                    })
                })
                .collect(),
        );
        let s = scenario::from_value(&v, "tiny").unwrap();
        simulate(&s, 1, Precision::Double)
            .unwrap_or_else(|e| panic!("{partners} partner(s), {horizon} years: {e}"));
    }
}

/// 3,000 partners with `"cost_sharing": {"fixed": {...}}` whose every weight name is
/// misspelt: every name is reported, but only the first 20 get a "did you mean" (each
/// costs an edit distance to every unweighted partner; this suite found validation
/// taking minutes at 30,000 when every name got one).
#[test]
fn many_misspelt_weight_names_get_hints_for_the_first_few_only() {
    let n = 3_000;
    let mut v = minimal();
    v["partners"] = Value::Array(
        (0..n)
            .map(|i| json!({"name": format!("Partner {i}"), "baseline_cost": 1e6}))
            .collect(),
    );
    let weights: Map<String, Value> = (0..n)
        .map(|i| (format!("Partner {i}x"), json!(1)))
        .collect();
    v["service"]["cost_sharing"] = json!({ "fixed": weights });
    // A guard against a hang, not a speed test (it takes milliseconds).
    let problems = timed("validating", Duration::from_secs(20), || {
        invalid(scenario::from_value(&v, "t"))
    });
    assert_eq!(problems.len(), n + 1);
    let hinted = problems
        .iter()
        .filter(|p| p.message.contains("did you mean"))
        .count();
    assert_eq!(hinted, 20, "only the first 20 unknown names get a hint");
}

/// Two partners with 30,000-character names and misspelt weights for both: names that
/// long get no hint (edit distance is quadratic in length; this suite found seconds
/// per pair).
#[test]
fn long_names_with_misspelt_weights_get_no_hint() {
    let (a, b) = ("a".repeat(30_000), "b".repeat(30_000));
    let mut v = minimal();
    v["partners"][0]["name"] = json!(a);
    v["partners"][1]["name"] = json!(b);
    v["service"]["cost_sharing"] = json!({"fixed": {format!("{a}x"): 1, format!("{b}y"): 1}});
    let problems = timed("validating", Duration::from_secs(20), || {
        invalid(scenario::from_value(&v, "t"))
    });
    assert_eq!(problems.len(), 3);
    assert!(problems.iter().all(|p| !p.message.contains("did you mean")));
}
