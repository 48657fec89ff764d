//! `--set /json/pointer=VALUE` overrides, applied to the scenario JSON before validation,
//! and the one way every option and file addresses a scenario value by pointer.
//!
//! Overrides edit the parsed JSON rather than the validated [`super::Scenario`] so that an
//! overridden value goes through exactly the same checks as one written in the file.
//!
//! Pointers follow RFC 6901 (`~1` for `/` and `~0` for `~` in a segment), with one
//! convenience and one extension, so that every partner can be addressed whatever its
//! name:
//!
//! - inside a list of named objects (`partners`) a segment that is a canonical decimal
//!   number (`0`, `7`, `12`: no sign, no leading zero) is an index; any other segment is
//!   a name (`/partners/Police/exit_fee`, and `01` or `+1` are names, never indices);
//! - a segment written in double quotes is always a name or key, never an index: a JSON
//!   string, so `\"` and `\\` escape a quote and a backslash, and `/`, `=` and `~` stand
//!   for themselves (`/partners/"7"/exit_fee`, `/partners/"a=b"/exit_fee`).
//!
//! In `POINTER=VALUE` the pointer ends at the first `=` outside a quoted segment, so a
//! name containing `=` must be quoted there. [`segment`] writes a name the way it must be
//! written; every pointer the analyses generate goes through it.

use serde_json::Value;

use super::ScenarioError;

/// One segment of a pointer, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    /// Written in double quotes: a name or key, never an index.
    pub quoted: bool,
}

impl Segment {
    /// The index this segment names, if it is one: unquoted canonical decimal.
    pub fn index(&self) -> Option<usize> {
        if self.quoted || !is_canonical_index(&self.text) {
            return None;
        }
        self.text.parse().ok()
    }
}

/// Whether `text` is a canonical decimal index: digits only, no leading zero (but "0").
fn is_canonical_index(text: &str) -> bool {
    let b = text.as_bytes();
    !b.is_empty() && b.iter().all(u8::is_ascii_digit) && (b[0] != b'0' || b.len() == 1)
}

/// A name or key written as a pointer segment that reads back as that name: quoted if it
/// would otherwise read as an index, end a `POINTER=VALUE` pointer early or start a
/// quoted segment; RFC 6901-escaped (`~0`, `~1`) otherwise, as before quoting existed.
pub fn segment(name: &str) -> String {
    if name.is_empty() || is_canonical_index(name) || name.contains('=') || name.starts_with('"') {
        serde_json::to_string(name).expect("a string serialises")
    } else {
        name.replace('~', "~0").replace('/', "~1")
    }
}

/// Splits `POINTER=VALUE` at the first `=` outside a quoted segment; `None` if there is
/// none.
pub fn split_assignment(spec: &str) -> Result<Option<(&str, &str)>, String> {
    let (_, end) = scan(spec, true)?;
    Ok((end < spec.len()).then(|| (&spec[..end], &spec[end + 1..])))
}

/// The segments of `pointer` (which must start with `/`), unescaped.
pub fn parse_pointer(pointer: &str) -> Result<Vec<Segment>, String> {
    let (segments, end) = scan(pointer, false)?;
    debug_assert_eq!(end, pointer.len());
    Ok(segments)
}

/// Reads the pointer at the start of `text`: its segments, and where it ends (at the
/// first `=` outside quotes when `stop_at_equals`, else at the end of `text`).
fn scan(text: &str, stop_at_equals: bool) -> Result<(Vec<Segment>, usize), String> {
    let not_pointer = || {
        let shown = text.split('=').next().unwrap_or(text);
        format!(
            "\"{shown}\" is not a JSON pointer: it must start with '/', e.g. /service/efficiency"
        )
    };
    if !text.starts_with('/') {
        return Err(not_pointer());
    }
    let mut segments = Vec::new();
    let mut at = 0;
    loop {
        // `at` is at a '/' that starts a segment.
        let start = at + 1;
        let rest = &text[start..];
        let (segment, len) = if rest.starts_with('"') {
            quoted(rest)?
        } else {
            let len = rest
                .find(|c| c == '/' || (stop_at_equals && c == '='))
                .unwrap_or(rest.len());
            let text = rest[..len].replace("~1", "/").replace("~0", "~");
            (
                Segment {
                    text,
                    quoted: false,
                },
                len,
            )
        };
        segments.push(segment);
        at = start + len;
        match text[at..].chars().next() {
            Some('/') => continue,
            Some('=') if stop_at_equals => return Ok((segments, at)),
            None => return Ok((segments, at)),
            Some(c) => {
                return Err(format!(
                    "in \"{text}\", a quoted name must be followed by '/' or '=', not '{c}'"
                ));
            }
        }
    }
}

/// The quoted segment at the start of `rest` (a JSON string) and its length in bytes.
fn quoted(rest: &str) -> Result<(Segment, usize), String> {
    let mut escaped = false;
    for (i, c) in rest.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => {
                let literal = &rest[..=i];
                let text: String = serde_json::from_str(literal)
                    .map_err(|e| format!("{literal} is not a valid quoted name: {e}"))?;
                return Ok((Segment { text, quoted: true }, i + 1));
            }
            _ => {}
        }
    }
    Err(format!(
        "the quoted name {rest} has no closing '\"' (inside quotes, write \\\" for a quote)"
    ))
}

/// Applies one `POINTER=VALUE` override to `root`.
///
/// VALUE is read as JSON when it parses (`0.2`, `{"uniform":[0.1,0.3]}`, `"equal"`), and
/// otherwise taken as a plain string (`equal`), so that shell quoting stays simple.
/// Every segment but the last must exist; the last may name a field the file leaves out
/// (it is then added, and validation checks that it is a real field).
///
/// Returns the JSON Pointer (RFC 6901) of what it set, with partners by index, as
/// `serde_json::Value::pointer` reads it: `/partners/1/exit_fee` for
/// `/partners/B/exit_fee=5`.
pub fn apply_set(root: &mut Value, spec: &str) -> Result<String, ScenarioError> {
    let fail = |message: String| ScenarioError::Override {
        spec: spec.to_string(),
        message,
    };
    let (pointer, raw) = split_assignment(spec).map_err(fail)?.ok_or_else(|| {
        fail(
            "expected POINTER=VALUE, e.g. /service/efficiency=0.2 (a name containing '=' is \
              written in double quotes: /partners/\"a=b\"/exit_fee=5)"
                .into(),
        )
    })?;
    let value = parse_value(raw);
    let mut segments = parse_pointer(pointer).map_err(fail)?;
    let last = segments.pop().expect("a pointer has a segment");
    let mut target = root;
    let mut walked = String::new();
    let mut resolved = String::new();
    for segment in &segments {
        walked.push('/');
        walked.push_str(&written(segment));
        resolved.push('/');
        resolved.push_str(&resolved_segment(target, segment));
        target = step(target, segment).ok_or_else(|| fail(missing(&walked, segment)))?;
    }
    let full = format!("{walked}/{}", written(&last));
    match target {
        Value::Object(map) => {
            resolved.push('/');
            resolved.push_str(&escaped(&last.text));
            map.insert(last.text, value);
            Ok(resolved)
        }
        Value::Array(items) => {
            let i = array_index(items, &last).ok_or_else(|| fail(missing(&full, &last)))?;
            items[i] = value;
            Ok(format!("{resolved}/{i}"))
        }
        _ => Err(fail(format!(
            "{walked} is a single value, so {full} does not exist in the scenario"
        ))),
    }
}

/// A key escaped for an RFC 6901 pointer (`~` as `~0`, `/` as `~1`).
fn escaped(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `segment` of a pointer into `v` as RFC 6901 writes it: an array's item by its index
/// (a partner addressed by name), an object's key escaped. A segment that finds nothing
/// is written as given (the caller then reports it missing).
fn resolved_segment(v: &Value, segment: &Segment) -> String {
    match v {
        Value::Array(items) => {
            array_index(items, segment).map_or_else(|| escaped(&segment.text), |i| i.to_string())
        }
        _ => escaped(&segment.text),
    }
}

/// A segment as the user wrote it, for messages.
fn written(segment: &Segment) -> String {
    if segment.quoted {
        serde_json::to_string(&segment.text).expect("a string serialises")
    } else {
        escaped(&segment.text)
    }
}

/// Why `walked` (ending in `last`) does not exist, with a hint where a name was read as
/// an index or the other way round.
fn missing(walked: &str, last: &Segment) -> String {
    let hint = if last.index().is_some() {
        format!(
            " (an unquoted number is an index; a partner named {} is written in quotes)",
            serde_json::to_string(&last.text).expect("a string serialises")
        )
    } else if !last.quoted && last.text.bytes().all(|b| b.is_ascii_digit() || b == b'+') {
        " (an index is written without sign or leading zeros, e.g. 1)".into()
    } else {
        String::new()
    };
    format!("{walked} does not exist in the scenario{hint}")
}

/// Reads an override's value: JSON if it parses, otherwise the text as a string.
pub fn parse_value(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

fn step<'v>(v: &'v mut Value, segment: &Segment) -> Option<&'v mut Value> {
    match v {
        Value::Object(map) => map.get_mut(&segment.text),
        Value::Array(items) => {
            let i = array_index(items, segment)?;
            items.get_mut(i)
        }
        _ => None,
    }
}

/// The value at `pointer` in `root` (addressed as [`apply_set`] addresses it), if any.
pub fn lookup<'v>(root: &'v Value, pointer: &str) -> Option<&'v Value> {
    parse_pointer(pointer)
        .ok()?
        .iter()
        .try_fold(root, |v, segment| match v {
            Value::Object(map) => map.get(&segment.text),
            Value::Array(items) => items.get(array_index(items, segment)?),
            _ => None,
        })
}

/// An array element by index (an unquoted canonical number), or, for lists of named
/// objects such as partners, by name.
pub fn array_index(items: &[Value], segment: &Segment) -> Option<usize> {
    if let Some(i) = segment.index() {
        return (i < items.len()).then_some(i);
    }
    items
        .iter()
        .position(|item| item.get("name").and_then(Value::as_str) == Some(&segment.text))
}

/// The position of the partner `segment` addresses among `names`: by index if it is an
/// unquoted canonical number, else by name.
pub fn partner_position<'a>(
    names: impl IntoIterator<Item = &'a str>,
    segment: &Segment,
) -> Option<usize> {
    let names: Vec<&str> = names.into_iter().collect();
    match segment.index() {
        Some(i) => (i < names.len()).then_some(i),
        None => names.iter().position(|n| *n == segment.text),
    }
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
        // What was set, as a JSON Pointer with partners by index.
        assert_eq!(
            apply_set(&mut v, "/partners/B/exit_fee=5").unwrap(),
            "/partners/1/exit_fee"
        );
        assert_eq!(
            apply_set(&mut v, "/service/cost_sharing=equal").unwrap(),
            "/service/cost_sharing"
        );
        assert_eq!(apply_set(&mut v, "/partners/0=7").unwrap(), "/partners/0");
        v["partners"][0] = json!({"name": "a/b~c"});
        let at = apply_set(&mut v, "/partners/\"a/b~c\"/x~1y=1").unwrap();
        assert_eq!(at, "/partners/0/x~1y");
        assert_eq!(v.pointer(&at), Some(&json!(1)));
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

    #[test]
    fn only_canonical_numbers_are_indices_and_quoted_names_are_names() {
        let names = ["A", "7", "01", "+1", "a=b", "x/y~z", "say \"hi\""];
        let partners: Vec<Value> = names.iter().map(|n| json!({"name": n})).collect();
        let mut v = json!({ "partners": partners });
        for (spec, at) in [
            ("/partners/0/fee=0", 0),
            ("/partners/1/fee=1", 1),
            ("/partners/\"7\"/fee=2", 1),
            ("/partners/01/fee=3", 2),
            ("/partners/+1/fee=4", 3),
            ("/partners/\"a=b\"/fee=5", 4),
            ("/partners/x~1y~0z/fee=6", 5),
            ("/partners/\"x/y~z\"/fee=7", 5),
            ("/partners/\"say \\\"hi\\\"\"/fee=8", 6),
            ("/partners/A/fee=a=b", 0),
        ] {
            apply_set(&mut v, spec).unwrap();
            let (_, value) = split_assignment(spec).unwrap().unwrap();
            assert_eq!(v["partners"][at]["fee"], parse_value(value), "{spec}");
        }
        // Every name written by `segment` reads back as itself.
        for (i, name) in names.iter().enumerate() {
            let pointer = format!("/partners/{}/fee", segment(name));
            apply_set(&mut v, &format!("{pointer}=100")).unwrap();
            assert_eq!(v["partners"][i]["fee"], json!(100), "{pointer}");
            assert_eq!(lookup(&v, &pointer), Some(&json!(100)), "{pointer}");
        }
        assert_eq!(segment("A"), "A");
        assert_eq!(segment("7"), "\"7\"");
        assert_eq!(segment("01"), "01");
        assert_eq!(segment("a=b"), "\"a=b\"");
        assert_eq!(segment("x/y~z"), "x~1y~0z");
    }

    #[test]
    fn a_misread_index_or_an_unclosed_quote_is_explained() {
        let mut v = json!({"partners": [{"name": "A"}, {"name": "B"}]});
        let e = apply_set(&mut v, "/partners/7/fee=1")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/partners/7 does not exist in the scenario (an unquoted number is an index; a partner named \"7\" is written in quotes)"),
            "{e}"
        );
        let e = apply_set(&mut v, "/partners/01/fee=1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("without sign or leading zeros"), "{e}");
        let e = apply_set(&mut v, "/partners/\"A/fee=1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no closing"), "{e}");
        let e = apply_set(&mut v, "/partners/\"A\"x/fee=1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("must be followed by '/' or '='"), "{e}");
    }
}
