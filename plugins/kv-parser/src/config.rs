//! kv-parser's configuration, its defaults, and the schema compiled from it
//! once, so that parsing a line looks nothing up by allocating.

use std::collections::BTreeMap;

use foghorn_plugin::Series;
use serde::Deserialize;

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
    /// Renames keys to field names, e.g. `{ T: temperature }`. Empty (the
    /// default) keeps every key as its field name.
    pub fields: BTreeMap<String, String>,
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

/// What kv-parser does with a number that is not finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NonFinite {
    /// Reject the record, with the reason.
    #[default]
    Reject,
    /// Keep NaN and infinity as values.
    Keep,
}

/// Every default, in one place.
impl Default for Config {
    fn default() -> Self {
        Self {
            pair_separator: ",".to_owned(),
            kv_separator: ":".to_owned(),
            measurement: "kv".to_owned(),
            tags: BTreeMap::new(),
            fields: BTreeMap::new(),
            types: BTreeMap::new(),
            unknown_keys: UnknownKeys::Keep,
            required: None,
            trim: true,
            non_finite: NonFinite::Reject,
        }
    }
}

/// How a field's text value becomes a typed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// A 64-bit float (`85.5`, `-1e3`; `NaN` and `inf` only with
    /// `non_finite: keep`).
    Float,
    /// A 64-bit integer (`42`, `-7`).
    Int,
    /// `true`/`false` (any case) or `1`/`0`.
    Bool,
    /// The text as it is.
    String,
    /// A float if the text reads as a number, else the text.
    Auto,
}

impl FieldType {
    /// The type with its article, for error messages: `a float`, `an int`.
    pub(crate) fn described(self) -> &'static str {
        match self {
            FieldType::Float => "a float",
            FieldType::Int => "an int",
            FieldType::Bool => "a bool",
            FieldType::String => "a string",
            FieldType::Auto => "a number or text",
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

/// A separator; one character is searched for faster than a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Separator {
    Char(char),
    Text(String),
}

impl Separator {
    fn new(text: &str) -> Self {
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Separator::Char(c),
            _ => Separator::Text(text.to_owned()),
        }
    }

    /// `text` split at the first separator.
    pub(crate) fn split_once<'a>(&self, text: &'a str) -> Option<(&'a str, &'a str)> {
        match self {
            Separator::Char(c) => text.split_once(*c),
            Separator::Text(s) => text.split_once(s.as_str()),
        }
    }

    pub(crate) fn as_str(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Separator::Char(c) => c.to_string().into(),
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

/// The config, validated and compiled for parsing.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub pair_separator: Separator,
    pub kv_separator: Separator,
    pub series: Series,
    /// Key -> what it stands for; a short list is searched faster than a
    /// hash map for the handful of keys a line has.
    pub keys: Vec<(String, Target)>,
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
    pub(crate) fn lookup(&self, key: &str) -> Option<Target> {
        self.keys
            .iter()
            .find(|(k, _)| k == key)
            .map(|&(_, target)| target)
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
            keys.push((key.clone(), Target::Field(slot_of(name))));
        }
        // With `fields`, `types` and `required` name fields after renaming;
        // they may also name kept unknown keys.
        let listed = self.types.keys().chain(self.required.iter().flatten());
        for name in listed {
            if let Some(renamed) = self
                .fields
                .get(name)
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
                if !keys.iter().any(|(k, _)| k == name) {
                    keys.push((name.clone(), Target::Field(slot)));
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
                && !keys.iter().any(|(k, _)| *k == slot.name)
            {
                keys.push((slot.name.clone(), Target::Taken(index)));
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
        Ok(Schema {
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
