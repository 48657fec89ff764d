//! `--set /json/pointer=VALUE` overrides, applied to the scenario JSON before validation.
//!
//! Overrides edit the parsed JSON rather than the validated [`super::Scenario`] so that an
//! overridden value goes through exactly the same checks as one written in the file.
//! Pointers follow RFC 6901, with one convenience: inside `partners` a partner may be
//! named instead of numbered (`/partners/Police/exit_fee`).

use serde_json::Value;

use super::ScenarioError;

/// Applies one `POINTER=VALUE` override to `root`.
///
/// VALUE is read as JSON when it parses (`0.2`, `{"uniform":[0.1,0.3]}`, `"equal"`), and
/// otherwise taken as a plain string (`equal`), so that shell quoting stays simple.
/// Every segment but the last must exist; the last may name a field the file leaves out
/// (it is then added, and validation checks that it is a real field).
pub fn apply_set(root: &mut Value, spec: &str) -> Result<(), ScenarioError> {
    let fail = |message: String| ScenarioError::Override {
        spec: spec.to_string(),
        message,
    };
    let (pointer, raw) = spec
        .split_once('=')
        .ok_or_else(|| fail("expected POINTER=VALUE, e.g. /service/efficiency=0.2".into()))?;
    let value = parse_value(raw);
    let mut target = root;
    let (parents, last) = split_pointer(pointer).map_err(fail)?;
    let mut walked = String::new();
    for segment in parents {
        walked.push('/');
        walked.push_str(&segment);
        target = step(target, &segment)
            .ok_or_else(|| fail(format!("{walked} does not exist in the scenario")))?;
    }
    let full = format!("{walked}/{last}");
    match target {
        Value::Object(map) => {
            map.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            let i = array_index(items, &last)
                .ok_or_else(|| fail(format!("{full} does not exist in the scenario")))?;
            items[i] = value;
            Ok(())
        }
        _ => Err(fail(format!(
            "{walked} is a single value, so {full} does not exist in the scenario"
        ))),
    }
}

/// Reads an override's value: JSON if it parses, otherwise the text as a string.
pub fn parse_value(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

/// Splits a JSON pointer into its unescaped parent segments and last segment.
fn split_pointer(pointer: &str) -> Result<(Vec<String>, String), String> {
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!(
            "\"{pointer}\" is not a JSON pointer: it must start with '/', e.g. /service/efficiency"
        ));
    };
    let mut segments: Vec<String> = rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let last = segments.pop().unwrap_or_default();
    Ok((segments, last))
}

fn step<'v>(v: &'v mut Value, segment: &str) -> Option<&'v mut Value> {
    match v {
        Value::Object(map) => map.get_mut(segment),
        Value::Array(items) => {
            let i = array_index(items, segment)?;
            items.get_mut(i)
        }
        _ => None,
    }
}

/// An array element by index, or (for lists of named objects such as partners) by name.
fn array_index(items: &[Value], segment: &str) -> Option<usize> {
    if let Ok(i) = segment.parse::<usize>() {
        return (i < items.len()).then_some(i);
    }
    items
        .iter()
        .position(|item| item.get("name").and_then(Value::as_str) == Some(segment))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_nested_value_and_partner_by_name() {
        let mut v =
            json!({"service": {"efficiency": 0.1}, "partners": [{"name": "A"}, {"name": "B"}]});
        apply_set(&mut v, "/service/efficiency={\"uniform\":[0.1,0.2]}").unwrap();
        apply_set(&mut v, "/partners/B/exit_fee=5").unwrap();
        apply_set(&mut v, "/service/cost_sharing=equal").unwrap();
        assert_eq!(v["service"]["efficiency"], json!({"uniform": [0.1, 0.2]}));
        assert_eq!(v["partners"][1]["exit_fee"], json!(5));
        assert_eq!(v["service"]["cost_sharing"], json!("equal"));
    }

    #[test]
    fn missing_parent_is_an_error_naming_the_pointer() {
        let mut v = json!({"service": {}});
        let e = apply_set(&mut v, "/servise/efficiency=0.2")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/servise does not exist"), "{e}");
        let e = apply_set(&mut v, "service/efficiency=0.2")
            .unwrap_err()
            .to_string();
        assert!(e.contains("must start with '/'"), "{e}");
        let e = apply_set(&mut v, "/service/efficiency")
            .unwrap_err()
            .to_string();
        assert!(e.contains("POINTER=VALUE"), "{e}");
    }
}
