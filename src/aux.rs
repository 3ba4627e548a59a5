//! A dump's AUX fields as reports carry them: every field in file order,
//! repeated names included (Redis 5 and 6 save each cached Lua script as
//! its own `lua` field), rendered in JSON as one object.
//!
//! The object keeps the contract's `aux{}` shape, `jq .source.aux.ctime`
//! and all: a name met once maps to its value, a name met several times maps
//! to the array of its values in file order.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// The AUX fields of one dump, escaped like key names, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuxFields(Vec<(String, String)>);

/// Fields whose values are code or payloads rather than facts about the
/// server: `--redact` hides them.
const PAYLOAD_FIELDS: &[&str] = &["lua"];

impl AuxFields {
    /// Appends a field as read.
    pub fn push(&mut self, name: String, value: String) {
        self.0.push((name, value));
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every field in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of fields, repeats counted.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the dump has none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same fields with script bodies replaced by their size, for
    /// reports that must not carry what the server stored.
    pub fn redacted(&self) -> AuxFields {
        AuxFields(
            self.0
                .iter()
                .map(|(k, v)| {
                    if PAYLOAD_FIELDS.contains(&k.as_str()) {
                        (k.clone(), format!("<redacted: {} bytes>", v.len()))
                    } else {
                        (k.clone(), v.clone())
                    }
                })
                .collect(),
        )
    }

    /// Names in first-seen order, each with all its values.
    fn grouped(&self) -> Vec<(&str, Vec<&str>)> {
        let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
        for (k, v) in &self.0 {
            match out.iter_mut().find(|(n, _)| n == k) {
                Some((_, vs)) => vs.push(v),
                None => out.push((k, vec![v])),
            }
        }
        out
    }
}

impl Serialize for AuxFields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let groups = self.grouped();
        let mut m = s.serialize_map(Some(groups.len()))?;
        for (k, vs) in groups {
            match vs.as_slice() {
                [one] => m.serialize_entry(k, one)?,
                many => m.serialize_entry(k, many)?,
            }
        }
        m.end()
    }
}

impl schemars::JsonSchema for AuxFields {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AuxFields".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // A name repeated in the file lists its values in order.
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            }
        })
    }
}

impl<'de> Deserialize<'de> for AuxFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AuxFields, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AuxFields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of AUX fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AuxFields, A::Error> {
                let mut out = AuxFields::default();
                while let Some((k, v)) = map.next_entry::<String, OneOrMany>()? {
                    match v {
                        OneOrMany::One(v) => out.push(k, v),
                        OneOrMany::Many(vs) => vs.into_iter().for_each(|v| out.push(k.clone(), v)),
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> AuxFields {
        let mut a = AuxFields::default();
        for (k, v) in pairs {
            a.push(k.to_string(), v.to_string());
        }
        a
    }

    #[test]
    fn a_repeated_name_becomes_an_array_in_file_order() {
        let a = fields(&[
            ("redis-ver", "6.2.14"),
            ("lua", "return 1"),
            ("ctime", "1700000000"),
            ("lua", "return 2"),
        ]);
        let j = serde_json::to_value(&a).unwrap();
        assert_eq!(
            j,
            serde_json::json!({
                "redis-ver": "6.2.14",
                "lua": ["return 1", "return 2"],
                "ctime": "1700000000"
            })
        );
        // Read back, the fields are all there, grouped by name.
        let back: AuxFields = serde_json::from_value(j).unwrap();
        assert_eq!(back.len(), 4);
        assert_eq!(back.get("lua"), Some("return 1"));
        assert_eq!(back.get("ctime"), Some("1700000000"));
    }

    #[test]
    fn redaction_hides_script_bodies_only() {
        let a = fields(&[("lua", "return 1"), ("redis-ver", "7.0.15")]).redacted();
        assert_eq!(a.get("lua"), Some("<redacted: 8 bytes>"));
        assert_eq!(a.get("redis-ver"), Some("7.0.15"));
    }
}
