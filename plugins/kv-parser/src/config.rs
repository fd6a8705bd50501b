//! kv-parser's configuration, its defaults, and the schema compiled from it
//! once, so that parsing a line looks nothing up by allocating.

use std::collections::BTreeMap;

use foghorn_plugin::Series;
use serde::Deserialize;

pub use foghorn_plugin::lines::{BlankLines, NonFinite};
pub use foghorn_plugin::typed::FieldType;

/// `config:` of a kv-parser processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Separates one `key:value` pair from the next. Default `","`.
    pub pair_separator: String,
    /// Separates a key from its value (at its first occurrence in a pair, so
    /// values may contain it). Default `":"`.
    pub kv_separator: String,
    /// The series name of every point. Default `kv`.
    pub measurement: String,
    /// Static tags of the series of every point. Default none.
    pub tags: BTreeMap<String, String>,
    /// Renames keys to field names, e.g. `{ T: temperature }`, in the
    /// order the line has them (for `ordered`). Empty (the default) keeps
    /// every key as its field name.
    #[serde(deserialize_with = "ordered_pairs")]
    pub fields: Vec<(String, String)>,
    /// The keys of `fields` must come in the order `fields` lists them, as in
    /// a positional format (`V:5.0,T:51,S:OK` is malformed when `fields` is
    /// `{ T: …, V: …, S: … }`); keys `fields` does not list follow
    /// `unknown_keys`. Default `false`.
    pub ordered: bool,
    /// What to do with a line that is empty (after trimming): `skip` it and
    /// count it in the plugin metric `blank_lines` (the default), or
    /// `reject` it into the error log.
    pub blank_lines: BlankLines,
    /// Lines of this many bytes or more are rejected as too long: the
    /// sources cut longer lines at their own `max_line_length` (also 65536
    /// by default), so a cut line is reported as what it is rather than as
    /// a missing field. Default 65536.
    pub max_line_length: usize,
    /// The type of each field, by its name after renaming: `float`, `int`,
    /// `bool`, `string` or `auto`. A field not listed is `auto`: a float if
    /// its value reads as a number, else a string.
    pub types: BTreeMap<String, FieldType>,
    /// What to do with a key not in `fields`, when `fields` is not empty:
    /// `keep` it as a field of its own name (the default), `reject` the
    /// record, or `drop` the pair.
    pub unknown_keys: UnknownKeys,
    /// Fields (names after renaming) a record must have. Default: every
    /// field of `fields`.
    pub required: Option<Vec<String>>,
    /// Trim whitespace (including a trailing `\r`) around the line, and
    /// around each key and value. Default `true`.
    pub trim: bool,
    /// What to do with a number that is not finite (`NaN`, `inf`, `1e999`):
    /// `reject` the record (the default: a sensor does not measure NaN, and
    /// downstream statistics would be poisoned), or `keep` the value.
    pub non_finite: NonFinite,
}

/// A JSON object as its pairs, in the order written (a map would sort them);
/// a key given twice is an error.
fn ordered_pairs<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, String)>, D::Error> {
    struct Pairs;
    impl<'de> serde::de::Visitor<'de> for Pairs {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of keys to field names")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut pairs: Vec<(String, String)> = Vec::new();
            while let Some((key, name)) = map.next_entry::<String, String>()? {
                if pairs.iter().any(|(k, _)| *k == key) {
                    return Err(serde::de::Error::custom(format!(
                        "key {key:?} is given twice"
                    )));
                }
                pairs.push((key, name));
            }
            Ok(pairs)
        }
    }
    deserializer.deserialize_map(Pairs)
}

/// Every default, in one place.
impl Default for Config {
    fn default() -> Self {
        Self {
            pair_separator: ",".to_owned(),
            kv_separator: ":".to_owned(),
            measurement: "kv".to_owned(),
            tags: BTreeMap::new(),
            fields: Vec::new(),
            ordered: false,
            blank_lines: BlankLines::Skip,
            max_line_length: 65_536,
            types: BTreeMap::new(),
            unknown_keys: UnknownKeys::Keep,
            required: None,
            trim: true,
            non_finite: NonFinite::Reject,
        }
    }
}

/// What to do with a key that `fields` does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownKeys {
    /// Keep it as a field named after the key.
    Keep,
    /// Reject the whole record.
    Reject,
    /// Leave the pair out and keep the rest of the record.
    Drop,
}

/// A separator; one byte is searched for faster than a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Separator {
    /// An ASCII character.
    Byte(u8),
    Text(String),
}

impl Separator {
    fn new(text: &str) -> Self {
        match text.as_bytes() {
            [byte] => Separator::Byte(*byte),
            _ => Separator::Text(text.to_owned()),
        }
    }

    /// Where the first separator in `text` starts, and where it ends.
    #[inline]
    pub(crate) fn find(&self, text: &str) -> Option<(usize, usize)> {
        match self {
            Separator::Byte(byte) => text
                .as_bytes()
                .iter()
                .position(|b| b == byte)
                .map(|at| (at, at + 1)),
            Separator::Text(s) => text.find(s.as_str()).map(|at| (at, at + s.len())),
        }
    }

    pub(crate) fn as_str(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Separator::Byte(byte) => char::from(*byte).to_string().into(),
            Separator::Text(s) => s.as_str().into(),
        }
    }
}

/// A field the config names: where its values go and how they are typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    pub name: String,
    pub ty: FieldType,
}

/// What a key found in a line stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The field `slots[index]`.
    Field(usize),
    /// Not a key of `fields`, but the name another key is renamed to: kept
    /// under its own name it would overwrite that field.
    Taken(usize),
}

/// A key the config names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub text: String,
    pub target: Target,
    /// Its place in `fields`, for `ordered`.
    pub order: Option<usize>,
}

/// The config, validated and compiled for parsing.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub pair_separator: Separator,
    pub kv_separator: Separator,
    pub series: Series,
    /// What each key stands for; a short list is searched faster than a
    /// hash map for the handful of keys a line has.
    pub keys: Vec<Key>,
    /// With `ordered`, the keys of `fields` in order, for messages.
    pub order: Option<Vec<String>>,
    pub blank_lines: BlankLines,
    pub max_line_length: usize,
    pub slots: Vec<Slot>,
    /// Indexes into `slots`.
    pub required: Vec<usize>,
    /// What to do with a key that is not in `keys`.
    pub unknown_keys: UnknownKeys,
    pub trim: bool,
    pub non_finite: NonFinite,
}

impl Schema {
    /// What `key` stands for, if the config names it.
    #[inline]
    pub(crate) fn lookup(&self, key: &str) -> Option<&Key> {
        let key = key.as_bytes();
        // Length and first byte first: most keys are a letter or two.
        self.keys.iter().find(|known| {
            let text = known.text.as_bytes();
            text.len() == key.len() && text.first() == key.first() && text == key
        })
    }
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Schema, String> {
        let mut errors = Vec::new();
        for (key, text) in [
            ("pair_separator", &self.pair_separator),
            ("kv_separator", &self.kv_separator),
        ] {
            if text.is_empty() {
                errors.push(format!("`{key}` is empty"));
            }
        }
        if !self.pair_separator.is_empty() && self.pair_separator == self.kv_separator {
            errors.push(format!(
                "`pair_separator` and `kv_separator` are both {:?}",
                self.pair_separator
            ));
        }
        if self.measurement.is_empty() {
            errors.push("`measurement` is empty".to_owned());
        }
        if self.ordered && self.fields.is_empty() {
            errors.push("`ordered` needs `fields`: the keys in their order".to_owned());
        }
        if self.max_line_length == 0 {
            errors.push("`max_line_length` is 0".to_owned());
        }

        let mut slots: Vec<Slot> = Vec::new();
        let mut slot_of = |name: &str| match slots.iter().position(|s| s.name == name) {
            Some(index) => index,
            None => {
                let ty = self.types.get(name).copied().unwrap_or(FieldType::Auto);
                slots.push(Slot {
                    name: name.to_owned(),
                    ty,
                });
                slots.len() - 1
            }
        };
        let mut keys = Vec::new();
        let mut renamed_from: BTreeMap<&str, &str> = BTreeMap::new();
        for (key, name) in &self.fields {
            if key.is_empty() || name.is_empty() {
                errors.push(format!(
                    "fields: `{key}: {name}` has an empty key or field name"
                ));
                continue;
            }
            if let Some(other) = renamed_from.insert(name, key) {
                errors.push(format!(
                    "fields: keys {other:?} and {key:?} are both renamed to {name}"
                ));
            }
            keys.push(Key {
                text: key.clone(),
                target: Target::Field(slot_of(name)),
                order: Some(keys.len()),
            });
        }
        // With `fields`, `types` and `required` name fields after renaming;
        // they may also name kept unknown keys.
        let listed = self.types.keys().chain(self.required.iter().flatten());
        for name in listed {
            if let Some((_, renamed)) = self
                .fields
                .iter()
                .find(|(key, _)| key == name)
                .filter(|_| !renamed_from.contains_key(name.as_str()))
            {
                errors.push(format!("{name} is a key of `fields`: `types` and `required` use the field name, {renamed}"));
                continue;
            }
            if self.fields.is_empty() || !renamed_from.contains_key(name.as_str()) {
                if !self.fields.is_empty() && self.unknown_keys != UnknownKeys::Keep {
                    errors.push(format!(
                        "{name} is not a field of `fields`, and `unknown_keys` is not `keep`: no record can have it"
                    ));
                    continue;
                }
                let slot = slot_of(name);
                if !keys.iter().any(|k| k.text == *name) {
                    keys.push(Key {
                        text: name.clone(),
                        target: Target::Field(slot),
                        order: None,
                    });
                }
            }
        }
        let required: Vec<usize> = match &self.required {
            Some(names) => names
                .iter()
                .filter_map(|n| slots.iter().position(|s| &s.name == n))
                .collect(),
            None => renamed_from
                .keys()
                .filter_map(|n| slots.iter().position(|s| s.name == *n))
                .collect(),
        };
        // A key renamed away leaves its field name free for an unknown key,
        // which would then overwrite the renamed field.
        for (index, slot) in slots.iter().enumerate() {
            if renamed_from.contains_key(slot.name.as_str())
                && !keys.iter().any(|k| k.text == slot.name)
            {
                keys.push(Key {
                    text: slot.name.clone(),
                    target: Target::Taken(index),
                    order: None,
                });
            }
        }

        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("kv-parser: {e}"))
                .collect::<Vec<_>>()
                .join("; "));
        }
        let mut series = Series::new(self.measurement);
        for (key, value) in self.tags {
            series.set_tag(key, value);
        }
        let order = self
            .ordered
            .then(|| self.fields.iter().map(|(key, _)| key.clone()).collect());
        Ok(Schema {
            order,
            blank_lines: self.blank_lines,
            max_line_length: self.max_line_length,
            pair_separator: Separator::new(&self.pair_separator),
            kv_separator: Separator::new(&self.kv_separator),
            series,
            keys,
            slots,
            required,
            unknown_keys: if self.fields.is_empty() {
                UnknownKeys::Keep
            } else {
                self.unknown_keys
            },
            trim: self.trim,
            non_finite: self.non_finite,
        })
    }
}
