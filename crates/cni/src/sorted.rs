//! JSON objects written with their keys sorted, as Go's `encoding/json` writes a map.
//!
//! libcni handles configurations and results as `map[string]interface{}`, whose keys Go
//! always marshals sorted; plugins see those bytes. serde_json writes a `Value`'s object in
//! its map's order, which is sorted only while serde_json's `preserve_order` feature is off,
//! and any crate in the same build can turn it on. So every object here is written through
//! this wrapper, and the bytes a plugin reads do not depend on another crate's features.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

/// A value whose objects (at any depth) are written with sorted keys.
pub(crate) struct Sorted<'a>(pub(crate) &'a Value);

/// An object written with sorted keys (its values too).
pub(crate) struct SortedMap<'a>(pub(crate) &'a Map<String, Value>);

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => SortedMap(map).serialize(s),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Sorted(item))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

impl Serialize for SortedMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut keys: Vec<&String> = self.0.keys().collect();
        keys.sort_unstable();
        let mut map = s.serialize_map(Some(keys.len()))?;
        for key in keys {
            map.serialize_entry(key, &Sorted(&self.0[key]))?;
        }
        map.end()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_out_sorted_at_every_depth_whatever_the_insertion_order() {
        let mut inner = Map::new();
        inner.insert("z".into(), Value::from(1));
        inner.insert("a".into(), Value::from(2));
        let mut outer = Map::new();
        outer.insert(
            "plugins".into(),
            Value::Array(vec![Value::Object(inner.clone())]),
        );
        outer.insert("name".into(), Value::Object(inner));
        let text = serde_json::to_string(&SortedMap(&outer)).unwrap();
        assert_eq!(text, r#"{"name":{"a":2,"z":1},"plugins":[{"a":2,"z":1}]}"#);
    }
}
