//! Keys given twice in one JSON object.
//!
//! serde_json keeps the last of two equal keys without a word, so a scenario that says
//! `"optimism_bias": 0.2` and, further down the same object, `"optimism_bias": 99` would
//! run with 99. That is almost always an editing slip, so the text (once it has parsed)
//! is walked a second time here and every repeated key is reported at its JSON pointer.
//! serde_json has no setting for this; the walk is a small visitor that keeps nothing but
//! the keys of the object it is in (JSON null arrives as a unit).

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::values::child;
use crate::scenario::Problem;

/// Every key that appears more than once in the same object of `text`, as problems at
/// the repeated key's pointer (in the order they appear). `text` must be valid JSON.
pub fn find(text: &[u8]) -> Vec<Problem> {
    let mut found = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(text);
    // The text parsed already, so the walk cannot fail; were it to, there is nothing
    // more to report than the parse reported.
    let _ = Walk {
        path: String::new(),
        found: &mut found,
    }
    .deserialize(&mut de);
    found
}

/// One value at `path`, whose repeated keys (and its children's) go into `found`.
struct Walk<'a> {
    path: String,
    found: &'a mut Vec<Problem>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = child(&self.path, &key);
            if !seen.insert(key.clone()) {
                self.found.push(Problem {
                    path: path.clone(),
                    message: format!(
                        "\"{key}\" is given more than once in this object; JSON keeps only \
                         the last value, so give it once"
                    ),
                    cell: None,
                });
            }
            map.next_value_seed(Walk {
                path,
                found: &mut *self.found,
            })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq
            .next_element_seed(Walk {
                path: format!("{}/{i}", self.path),
                found: &mut *self.found,
            })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<String> {
        find(text.as_bytes()).into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn repeated_keys_are_found_at_every_depth_with_escaped_pointers() {
        assert_eq!(paths(r#"{"a": 1, "b": 2}"#), Vec::<String>::new());
        assert_eq!(paths(r#"{"a": 1, "a": 2, "a": 3}"#), ["/a", "/a"]);
        assert_eq!(
            paths(r#"{"p": [{"x": 1}, {"x": 1, "y": {"z": 0, "z": 1}, "x": 2}]}"#),
            ["/p/1/y/z", "/p/1/x"]
        );
        assert_eq!(paths(r#"{"a/b~c": 1, "a/b~c": 1}"#), ["/a~1b~0c"]);
        assert_eq!(paths(r#"[{"k": 1}, {"k": 2}]"#), Vec::<String>::new());
    }

    #[test]
    fn the_message_names_the_key() {
        let found = find(br#"{"service": {"optimism_bias": 0.2, "optimism_bias": 99}}"#);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "/service/optimism_bias");
        assert!(
            found[0]
                .message
                .contains("\"optimism_bias\" is given more than once")
        );
    }
}
