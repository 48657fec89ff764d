//! A scenario's JSON as text in the layout of the shipped scenario files, for the
//! workbook-to-JSON half of `convert`: one field a line, each value (a distribution, a
//! list) on its field's line, the sections and each partner indented. A pretty printer
//! would spread `[[0, 0.6], [1, 0.4]]` over eight lines.

use serde_json::Value;

/// The sections whose fields get a line each; their lists' items are objects laid out
/// alike (partners, correlations, discount bands stay on their field's line).
const SECTIONS: [&str; 4] = ["service", "partners", "disputes", "correlations"];

/// `value` as JSON text ending in a newline.
pub fn to_text(value: &Value) -> String {
    let mut out = String::new();
    block(value, 0, true, &mut out);
    out.push('\n');
    out
}

/// An object with one field a line (its sections too, at the top level), or anything
/// else on one line.
fn block(v: &Value, depth: usize, top: bool, out: &mut String) {
    let pad = "  ".repeat(depth + 1);
    match v {
        Value::Object(map) if !map.is_empty() => {
            out.push_str("{\n");
            for (i, (key, v)) in map.iter().enumerate() {
                out.push_str(&format!("{pad}{}: ", Value::String(key.clone())));
                match v {
                    Value::Object(_) if top && SECTIONS.contains(&key.as_str()) => {
                        block(v, depth + 1, false, out)
                    }
                    Value::Array(items) if top && SECTIONS.contains(&key.as_str()) => {
                        list(items, depth + 1, out)
                    }
                    _ => out.push_str(&inline(v)),
                }
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&"  ".repeat(depth));
            out.push('}');
        }
        _ => out.push_str(&inline(v)),
    }
}

/// A list of objects, one a block.
fn list(items: &[Value], depth: usize, out: &mut String) {
    if items.is_empty() {
        out.push_str("[]");
        return;
    }
    let pad = "  ".repeat(depth + 1);
    out.push_str("[\n");
    for (i, item) in items.iter().enumerate() {
        out.push_str(&pad);
        block(item, depth + 1, false, out);
        out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
    }
    out.push_str(&"  ".repeat(depth));
    out.push(']');
}

/// A value on one line: `{"pert": [0.08, 0.15, 0.22]}`.
fn inline(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), inline(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template is written in this layout: its text comes back byte for byte.
    #[test]
    fn the_template_keeps_its_layout() {
        let value: Value = serde_json::from_str(crate::TEMPLATE).unwrap();
        assert_eq!(to_text(&value), crate::TEMPLATE);
    }
}
