//! The JSON Schema of the scenario format (`consortium-sim schema`) against the
//! hand-written validator: the same keys in the same places, the same defaults, the same
//! verdict on every value a schema can judge; every shipped scenario valid; and the
//! committed docs/scenario.schema.json up to date.

use std::collections::BTreeSet;

use consortium_sim::scenario::inputs::{
    DISPUTE_KEYS, DIST_FORMS, PARTNER_KEYS, SERVICE_KEYS, TOP_KEYS,
};
use consortium_sim::scenario::{self, schema};
use serde_json::{Value, json};

use crate::util::{all_shipped, bin, read_json, root};

const REGENERATE: &str = "cargo run --release -- schema > docs/scenario.schema.json";

fn generated() -> Value {
    schema::schema().to_value()
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&generated()).expect("the schema compiles")
}

/// Follows `$ref`s ("#/$defs/Name") to the schema they name.
fn resolve<'a>(root: &'a Value, mut s: &'a Value) -> &'a Value {
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").expect("a local reference");
        s = &root["$defs"][name];
        assert!(!s.is_null(), "dangling reference {r}");
    }
    s
}

fn keys(object_schema: &Value) -> BTreeSet<String> {
    object_schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("not an object schema: {object_schema}"))
        .keys()
        .cloned()
        .collect()
}

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The schemas of the (D) fields: every `Uncertain...` definition.
fn uncertain_defs(root: &Value) -> Vec<(&String, &Value)> {
    let defs: Vec<_> = root["$defs"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| name.starts_with("Uncertain"))
        .collect();
    assert_eq!(
        defs.len(),
        5,
        "number, >= 0, > 0, probability and a whole year"
    );
    defs
}

#[test]
fn schema_keys_are_exactly_the_validators_known_keys() {
    let root = generated();
    let props = &root["properties"];
    assert_eq!(keys(&root), set(TOP_KEYS), "top level");
    assert_eq!(
        keys(resolve(&root, &props["service"])),
        set(SERVICE_KEYS),
        "service"
    );
    assert_eq!(
        keys(resolve(&root, &props["partners"]["items"])),
        set(PARTNER_KEYS),
        "partners[]"
    );
    assert_eq!(
        keys(resolve(&root, &props["disputes"])),
        set(DISPUTE_KEYS),
        "disputes"
    );
    // Each (D) field takes a plain number or one of the distribution forms.
    for (name, def) in uncertain_defs(&root) {
        let branches = def["oneOf"].as_array().unwrap();
        assert_eq!(branches.len(), 2, "{name}: number or distribution");
        // A join year's fixed value is a whole number; every other field's any number.
        let plain = if name.contains("WholeYear") {
            "integer"
        } else {
            "number"
        };
        assert_eq!(resolve(&root, &branches[0])["type"], plain, "{name}");
        let forms: BTreeSet<String> = resolve(&root, &branches[1])["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|form| {
                let k = keys(form);
                assert_eq!(k.len(), 1, "{name}: a form has one key");
                assert_eq!(form["required"], json!(k.iter().collect::<Vec<_>>()));
                k.into_iter().next().unwrap()
            })
            .collect();
        assert_eq!(forms, set(DIST_FORMS), "{name}: distribution forms");
    }
    // The smaller objects whose keys load.rs lists inline.
    let discount = resolve(&root, &props["discount_rate"]);
    let bands = discount["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "array")
        .unwrap();
    assert_eq!(
        keys(resolve(&root, &bands["items"])),
        set(&["from_year", "rate"])
    );
    assert_eq!(
        keys(&root["$defs"]["Lognormal"]),
        set(&["mean", "sd"]),
        "lognormal"
    );
    assert_eq!(keys(&root["$defs"]["FixedWeights"]), set(&["fixed"]));
}

#[test]
fn every_object_in_the_schema_refuses_unknown_keys() {
    fn walk(s: &Value, at: &str, objects: &mut usize) {
        match s {
            Value::Object(map) => {
                if map.contains_key("properties") {
                    *objects += 1;
                    assert_eq!(
                        map.get("additionalProperties"),
                        Some(&Value::Bool(false)),
                        "{at} accepts unknown keys"
                    );
                }
                for (k, v) in map {
                    // Defaults are example values, not schemas.
                    if k != "default" {
                        walk(v, &format!("{at}/{k}"), objects);
                    }
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{at}/{i}"), objects);
                }
            }
            _ => {}
        }
    }
    let mut objects = 0;
    walk(&generated(), "", &mut objects);
    assert!(objects > 30, "only {objects} object schemas found");
}

#[test]
fn schema_is_a_valid_draft_2020_12_schema_with_a_description_for_every_field() {
    let root = generated();
    assert_eq!(
        root["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    jsonschema::meta::validate(&root).expect("valid against the draft 2020-12 meta-schema");
    let mut objects = vec![&root];
    objects.extend(
        root["$defs"]
            .as_object()
            .unwrap()
            .values()
            .filter(|d| d.get("properties").is_some()),
    );
    for object in objects {
        for (key, field) in object["properties"].as_object().unwrap() {
            if field.get("description").is_none() && field.get("$ref").is_some() {
                continue; // a distribution form's parameters: described by the form
            }
            let text = field["description"].as_str().unwrap_or_default();
            assert!(text.len() > 10, "{key} has no description");
        }
    }
}

#[test]
fn every_shipped_scenario_and_the_init_template_validate_against_the_schema() {
    let v = validator();
    let mut files: Vec<(String, Value)> = all_shipped()
        .iter()
        .map(|p| (p.display().to_string(), read_json(p)))
        .collect();
    files.push((
        "init template".into(),
        serde_json::from_str(consortium_sim::TEMPLATE).unwrap(),
    ));
    for (name, value) in files {
        let errors: Vec<String> = v
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
        scenario::from_value(&value, &name).expect("and against the validator");
    }
}

#[test]
fn shipped_scenarios_point_at_the_committed_schema_by_a_relative_path() {
    for path in all_shipped() {
        let value = read_json(&path);
        assert_eq!(
            value["$schema"],
            "../docs/scenario.schema.json",
            "{}",
            path.display()
        );
        let target = path.parent().unwrap().join("../docs/scenario.schema.json");
        assert!(target.is_file(), "{} does not exist", target.display());
    }
}

#[test]
fn committed_schema_file_is_the_generated_schema() {
    let path = root().join("docs/scenario.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == schema::to_json(),
        "docs/scenario.schema.json is not the schema the scenario types generate; \
         regenerate it with `{REGENERATE}`"
    );
}

#[test]
fn schema_command_prints_the_generated_schema() {
    let out = bin().arg("schema").output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), schema::to_json());
}

/// The minimal file of docs/scenario-format.md, with a late joiner.
fn minimal() -> Value {
    json!({
        "name": "Two districts: shared payroll",
        "horizon_years": 10,
        "service": {"efficiency": 0.15, "fixed_cost": 120000, "transition_cost": 400000},
        "partners": [
            {"name": "District A", "baseline_cost": 1200000},
            {"name": "District B", "baseline_cost": 900000},
            {"name": "District C", "baseline_cost": 700000, "joins_year": 2}
        ]
    })
}

#[test]
fn schema_defaults_are_the_validators_defaults() {
    let root = generated();
    let mut full = minimal();
    let fill = |target: &mut Value, object_schema: &Value| {
        let mut filled = 0;
        for (key, field) in object_schema["properties"].as_object().unwrap() {
            if let Some(default) = field.get("default")
                && target.get(key).is_none()
            {
                target[key] = default.clone();
                filled += 1;
            }
        }
        filled
    };
    let mut filled = fill(&mut full, &root);
    filled += fill(
        &mut full["service"],
        resolve(&root, &root["properties"]["service"]),
    );
    let partner = resolve(&root, &root["properties"]["partners"]["items"]);
    for p in full["partners"].as_array_mut().unwrap() {
        filled += fill(p, partner);
    }
    assert!(filled >= 30, "only {filled} defaults");
    let explicit = scenario::from_value(&full, "every default written").unwrap();
    let implicit = scenario::from_value(&minimal(), "no default written").unwrap();
    assert_eq!(format!("{explicit:?}"), format!("{implicit:?}"));
    assert!(validator().is_valid(&full));
}

/// Sets `pointer` (whose parent exists) in `v`.
fn with(pointer: &str, value: Value) -> Value {
    let mut v = minimal();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let slot = v.pointer_mut(parent).unwrap();
    match slot {
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
        _ => slot[key] = value,
    }
    v
}

#[test]
fn schema_and_validator_agree_on_every_value_a_schema_can_judge() {
    let v = validator();
    let cases: Vec<(&str, Value, bool)> = vec![
        ("/horizon_years", json!(1), true),
        ("/horizon_years", json!(100), true),
        ("/horizon_years", json!(10.0), true),
        ("/horizon_years", json!(0), false),
        ("/horizon_years", json!(101), false),
        ("/horizon_years", json!(10.5), false),
        ("/horizon_years", json!("10"), false),
        ("/trials", json!(0), false),
        ("/seed", json!(0), true),
        ("/seed", json!(-1), false),
        ("/min_members", json!(0), false),
        ("/name", json!(""), false),
        ("/currency", json!("€"), true),
        // One line: names and the symbol refuse control characters and line
        // separators, and keep bidirectional marks and wide characters.
        ("/name", json!("North\nCouncil"), false),
        ("/name", json!("North\u{1b}[31m"), false),
        ("/name", json!("North\u{85}"), false),
        ("/name", json!("North\u{2028}Council"), false),
        ("/name", json!("\u{200f}שירות משותף"), true),
        ("/name", json!("東京都庁共同"), true),
        ("/currency", json!("£\t"), false),
        ("/partners/0/name", json!("A\u{2029}"), false),
        ("/partners/0/name", json!("Cafe\u{301} Council"), true),
        ("/currency", json!(1), false),
        ("/$schema", json!("https://example.org/s.json"), true),
        ("/$schema", json!(null), false),
        ("/description", json!(null), false),
        ("/typo", json!(1), false),
        ("/discount_rate", json!(0.035), true),
        ("/discount_rate", json!(-0.99), false),
        ("/discount_rate", json!(-0.5), true),
        ("/discount_rate", json!("green_book_health"), true),
        ("/discount_rate", json!("green_bok"), false),
        ("/discount_rate", json!([]), false),
        (
            "/discount_rate",
            json!([{"from_year": 0, "rate": 0.035}, {"from_year": 5, "rate": 0.02}]),
            true,
        ),
        ("/discount_rate", json!([{"from_year": 0}]), false),
        (
            "/discount_rate",
            json!([{"from_year": 0, "rate": 0.03, "to": 4}]),
            false,
        ),
        ("/service/efficiency", json!(-0.3), true),
        ("/service/efficiency", json!(2e15), false),
        (
            "/service/efficiency",
            json!({"pert": [0.05, 0.12, 0.2]}),
            true,
        ),
        ("/service/efficiency", json!({"pert": [0.05, 0.12]}), false),
        (
            "/service/efficiency",
            json!({"uniform": [0.1, 0.2, 0.3]}),
            false,
        ),
        (
            "/service/efficiency",
            json!({"normal": [0.1, -0.01]}),
            false,
        ),
        ("/service/efficiency", json!({"normal": [0.1, 0.01]}), true),
        ("/service/efficiency", json!({"gamma": [1, 2]}), false),
        (
            "/service/efficiency",
            json!({"uniform": [0.1, 0.2], "pert": [0.1, 0.1, 0.2]}),
            false,
        ),
        ("/service/efficiency", json!({}), false),
        ("/service/efficiency", json!("0.15"), false),
        ("/service/efficiency", json!({"discrete": []}), false),
        (
            "/service/efficiency",
            json!({"discrete": [[0.1, 1], [0.2, 3]]}),
            true,
        ),
        (
            "/service/efficiency",
            json!({"discrete": [[0.1, -1]]}),
            false,
        ),
        ("/service/fixed_cost", json!(-1), false),
        ("/service/fixed_cost", json!({"fixed": -1}), false),
        ("/service/fixed_cost", json!({"fixed": 1}), true),
        (
            "/service/fixed_cost",
            json!({"lognormal": {"mean": 100000, "sd": 20000}}),
            true,
        ),
        (
            "/service/fixed_cost",
            json!({"lognormal": {"mean": 0, "sd": 20000}}),
            false,
        ),
        (
            "/service/fixed_cost",
            json!({"lognormal": {"mean": 1}}),
            false,
        ),
        ("/service/ramp", json!([]), false),
        ("/service/ramp", json!([-0.5, 1]), true),
        ("/service/transition_profile", json!([-0.5, 1.5]), false),
        ("/service/efficiency_noise_sd", json!(-0.01), false),
        ("/service/scale_elasticity", json!(-0.2), true),
        ("/service/optimism_bias", json!(-0.1), false),
        ("/service/cost_sharing", json!("equal"), true),
        ("/service/cost_sharing", json!("equl"), false),
        (
            "/service/cost_sharing",
            json!({"fixed": {"District A": 2, "District B": 1, "District C": 1}}),
            true,
        ),
        (
            "/service/cost_sharing",
            json!({"fixed": {"District A": 0, "District B": 1, "District C": 1}}),
            false,
        ),
        ("/service/cost_sharing", json!({}), false),
        ("/service/efficency", json!(0.1), false),
        ("/partners", json!([]), false),
        ("/partners/0/name", json!(""), false),
        ("/partners/0/baseline_cost", json!(0), false),
        ("/partners/0/baseline_cost", json!({"fixed": 0}), false),
        ("/partners/2/join_probability", json!(1.5), false),
        ("/partners/2/join_probability", json!(0.5), true),
        ("/partners/0/rejoin_probability", json!(-0.1), false),
        ("/partners/0/withdrawal_hazard", json!(0.04), true),
        ("/partners/0/hazard_profile", json!([0.5, -1]), false),
        ("/partners/0/lock_in_years", json!(3), true),
        ("/partners/0/lock_in_years", json!(2.5), false),
        ("/partners/0/exit_fee", json!(-5), false),
        ("/partners/0/disappointment_sensitivity", json!(-1), false),
        ("/partners/0/joins", json!(1), false),
        ("/disputes", json!({}), true),
        ("/disputes", json!([]), false),
        (
            "/disputes",
            json!({"annual_probability": 0.1, "resolution_probability": 0.5}),
            true,
        ),
        ("/disputes", json!({"annual_probability": 1.1}), false),
        ("/disputes", json!({"efficiency_loss": 1.5}), false),
        ("/disputes", json!({"hazard_uplift": -0.1}), false),
        ("/disputes", json!({"resolution": 0.5}), false),
    ];
    for (pointer, value, valid) in cases {
        let doc = with(pointer, value.clone());
        let by_validator = scenario::from_value(&doc, "case").is_ok();
        let by_schema = v.is_valid(&doc);
        assert_eq!(
            by_validator, valid,
            "validator on {pointer} = {value}: expected {valid}"
        );
        assert_eq!(
            by_schema, valid,
            "schema on {pointer} = {value}: expected {valid}"
        );
    }
}
