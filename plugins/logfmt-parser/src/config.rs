//! logfmt-parser's configuration, its defaults, and the schema compiled from
//! it once, so that parsing a line looks nothing up by allocating.

use std::collections::BTreeMap;

use foghorn_plugin::Series;
use foghorn_plugin::timestamp::TimeFormat;
use foghorn_plugin::typed::FieldType;
use serde::Deserialize;

use foghorn_plugin::bytes::same;

pub use foghorn_plugin::lines::{BlankLines, NonFinite};

/// `config:` of a logfmt-parser processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The series name of every point. Default `logfmt`.
    pub measurement: String,
    /// A key whose value names the point's series instead (`event=login`
    /// makes a point of series `login`); it is not a field. A line without
    /// it, or with an empty value, gets `measurement`. Default none.
    pub measurement_key: Option<String>,
    /// Static tags of the series of every point. Default none.
    pub tags: BTreeMap<String, String>,
    /// Keys whose values become tags of the point's series (tag name = the
    /// key) instead of fields; a line without one, or with an empty value,
    /// has no such tag. Default none.
    pub tag_keys: Vec<String>,
    /// The keys to keep as fields: a list (`[duration, status]`), or a map
    /// renaming them (`{ dur: duration_ms }`). Empty (the default) keeps
    /// every key under its own name.
    #[serde(deserialize_with = "fields")]
    pub fields: Vec<(String, String)>,
    /// What to do with a key not in `fields` (nor a tag, timestamp or
    /// measurement key), when `fields` is not empty: `keep` it as a field of
    /// its own name (the default), `drop` it, or `reject` the line.
    pub unknown_keys: UnknownKeys,
    /// The type of each field, by its name after renaming: `float`, `int`,
    /// `bool`, `string` or `auto`. A field not listed is `auto`: a float if
    /// its value is shaped like a number, else text.
    pub types: BTreeMap<String, FieldType>,
    /// Fields (names after renaming), tag keys or the measurement key a line
    /// must have, with a value. Default: every field of `fields`.
    pub required: Option<Vec<String>>,
    /// The key holding each line's time and its format (see
    /// `foghorn_plugin::timestamp`); it is not a field, and a line without
    /// it is rejected. Default: the time the line was received.
    pub timestamp: Option<TimestampKey>,
    /// What to do with a number that is not finite (`NaN`, `inf`, `1e999`):
    /// `reject` the line (the default), or `keep` the value.
    pub non_finite: NonFinite,
    /// What to do with a line that is empty or only whitespace: `skip` it
    /// and count it in the plugin metric `blank_lines` (the default), or
    /// `reject` it as `empty line`.
    pub blank_lines: BlankLines,
    /// Lines of this many bytes or more are rejected as too long (the
    /// sources cut longer lines there). Default 65536.
    pub max_line_length: usize,
}

/// Which key is the time and how it is written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampKey {
    /// The key, such as `ts` or `time`.
    pub key: String,
    /// `rfc3339`, `unix`, `unix_ms`, `unix_us`, `unix_ns` or a strftime
    /// pattern. Default `rfc3339`.
    #[serde(default = "rfc3339")]
    pub format: TimeFormat,
}

fn rfc3339() -> TimeFormat {
    TimeFormat::Rfc3339
}

/// What to do with a key that `fields` does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownKeys {
    /// Keep it as a field named after the key.
    #[default]
    Keep,
    /// Reject the whole line.
    Reject,
    /// Leave the pair out and keep the rest of the line.
    Drop,
}

/// Every default, in one place.
impl Default for Config {
    fn default() -> Self {
        Self {
            measurement: "logfmt".to_owned(),
            measurement_key: None,
            tags: BTreeMap::new(),
            tag_keys: Vec::new(),
            fields: Vec::new(),
            unknown_keys: UnknownKeys::Keep,
            types: BTreeMap::new(),
            required: None,
            timestamp: None,
            non_finite: NonFinite::Reject,
            blank_lines: BlankLines::Skip,
            max_line_length: 65_536,
        }
    }
}

/// `fields` as (key, field name) pairs in the order written: from a list
/// of keys, each kept as itself, or from a map of renames. A key given
/// twice is an error.
fn fields<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, String)>, D::Error> {
    struct Fields;
    impl<'de> serde::de::Visitor<'de> for Fields {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of keys, or a map of keys to field names")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut pairs: Vec<(String, String)> = Vec::new();
            while let Some(key) = seq.next_element::<String>()? {
                add(&mut pairs, key.clone(), key)?;
            }
            Ok(pairs)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut pairs: Vec<(String, String)> = Vec::new();
            while let Some((key, name)) = map.next_entry::<String, String>()? {
                add(&mut pairs, key, name)?;
            }
            Ok(pairs)
        }
    }
    fn add<E: serde::de::Error>(
        pairs: &mut Vec<(String, String)>,
        key: String,
        name: String,
    ) -> Result<(), E> {
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(E::custom(format!("key {key:?} is given twice")));
        }
        pairs.push((key, name));
        Ok(())
    }
    deserializer.deserialize_any(Fields)
}

/// A field: where a key's values go and how they are typed.
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
    /// The tag `tags[index]`.
    Tag(usize),
    /// The line's time.
    Timestamp,
    /// The point's series name.
    Measurement,
}

/// A key the config names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub text: String,
    pub target: Target,
}

/// The slots of each field type.
#[derive(Debug, Clone, Default)]
pub(crate) struct Groups {
    pub floats: Vec<usize>,
    pub ints: Vec<usize>,
    pub bools: Vec<usize>,
    pub strings: Vec<usize>,
    pub autos: Vec<usize>,
}

impl Groups {
    fn new(slots: &[Slot]) -> Self {
        let mut groups = Self::default();
        for (index, slot) in slots.iter().enumerate() {
            match slot.ty {
                FieldType::Float => &mut groups.floats,
                FieldType::Int => &mut groups.ints,
                FieldType::Bool => &mut groups.bools,
                FieldType::String => &mut groups.strings,
                FieldType::Auto => &mut groups.autos,
            }
            .push(index);
        }
        groups
    }
}

/// Something a line must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needed {
    Field(usize),
    Tag(usize),
    Measurement,
}

/// The config, validated and compiled for parsing.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    /// `measurement` with the static `tags`.
    pub series: Series,
    pub measurement_key: Option<String>,
    /// What each key stands for, in the order of their first bytes; a key
    /// is looked for among those of its first byte, usually one or none.
    pub keys: Vec<Key>,
    /// By first byte, the range of `keys` starting with it.
    pub by_first: Vec<(u16, u16)>,
    pub slots: Vec<Slot>,
    /// The slots of each type, so that no loop over them dispatches on the
    /// type.
    pub groups: Groups,
    /// The tag keys, in the order of `tag_keys`.
    pub tags: Vec<String>,
    pub timestamp: Option<TimestampKey>,
    pub required: Vec<Needed>,
    /// What to do with a key that is not in `keys`.
    pub unknown_keys: UnknownKeys,
    pub non_finite: NonFinite,
    pub blank_lines: BlankLines,
    pub max_line_length: usize,
}

impl Schema {
    /// What `key` stands for, if the config names it.
    #[inline]
    pub(crate) fn lookup(&self, key: &[u8]) -> Option<Target> {
        let first = usize::from(*key.first()?);
        let (start, end) = self.by_first.get(first).copied().unwrap_or_default();
        self.keys
            .get(usize::from(start)..usize::from(end))?
            .iter()
            .find(|known| same(known.text.as_bytes(), key))
            .map(|known| known.target)
    }
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Schema, String> {
        let mut errors = Vec::new();
        if self.measurement.is_empty() {
            errors.push("`measurement` is empty".to_owned());
        }
        if self.max_line_length == 0 {
            errors.push("`max_line_length` must be positive".to_owned());
        }
        for (key, value) in &self.tags {
            if key.is_empty() || value.is_empty() {
                errors.push(format!("tags: `{key}: {value}` has an empty name or value"));
            }
        }
        // Keys with a role other than a field, and the setting naming each.
        let mut roles: Vec<(&str, String)> = Vec::new();
        if let Some(key) = &self.measurement_key {
            roles.push(("the measurement key", key.clone()));
        }
        if let Some(timestamp) = &self.timestamp {
            roles.push(("the timestamp key", timestamp.key.clone()));
        }
        for key in &self.tag_keys {
            roles.push(("a tag key", key.clone()));
            if self.tags.contains_key(key) {
                errors.push(format!("tag {key} is both a static tag and a tag key"));
            }
        }
        for (i, (role, key)) in roles.iter().enumerate() {
            if key.is_empty() {
                errors.push(format!("{role} is empty"));
            } else if let Some((other, _)) = roles[..i].iter().find(|(_, k)| k == key) {
                errors.push(format!("{key} is both {other} and {role}"));
            }
        }
        let role_of = |key: &str| roles.iter().find(|(_, k)| k == key).map(|(role, _)| *role);

        let mut slots: Vec<Slot> = Vec::new();
        let mut slot_of = |name: &str| match slots.iter().position(|s| s.name == name) {
            Some(index) => index,
            None => {
                let ty = self.types.get(name).copied().unwrap_or_default();
                slots.push(Slot {
                    name: name.to_owned(),
                    ty,
                });
                slots.len() - 1
            }
        };
        let mut keys: Vec<(String, Target)> = Vec::new();
        let mut renamed_from: BTreeMap<&str, &str> = BTreeMap::new();
        for (key, name) in &self.fields {
            if key.is_empty() || name.is_empty() {
                errors.push(format!(
                    "fields: `{key}: {name}` has an empty key or field name"
                ));
                continue;
            }
            if let Some(role) = role_of(key) {
                errors.push(format!("fields: {key} is {role}, not a field"));
                continue;
            }
            if let Some(other) = renamed_from.insert(name, key) {
                errors.push(format!(
                    "fields: keys {other:?} and {key:?} are both renamed to {name}"
                ));
            }
            keys.push((key.clone(), Target::Field(slot_of(name))));
        }
        // `types` and `required` name fields after renaming; they may also
        // name kept unknown keys.
        let mut required = Vec::new();
        let listed = self
            .types
            .keys()
            .map(|name| (name, false))
            .chain(self.required.iter().flatten().map(|name| (name, true)));
        for (name, is_required) in listed {
            if let Some(role) = role_of(name) {
                match role {
                    "a tag key" if is_required => {
                        let tag = self.tag_keys.iter().position(|k| k == name);
                        required.extend(tag.map(Needed::Tag));
                    }
                    "the measurement key" if is_required => required.push(Needed::Measurement),
                    _ if is_required => errors.push(format!(
                        "required: {name} is {role}: the line must have it anyway"
                    )),
                    _ => errors.push(format!("types: {name} is {role}, not a field")),
                }
                continue;
            }
            if let Some((_, renamed)) = self
                .fields
                .iter()
                .find(|(key, _)| key == name)
                .filter(|_| !renamed_from.contains_key(name.as_str()))
            {
                errors.push(format!(
                    "{name} is a key of `fields`: `types` and `required` use the field name, {renamed}"
                ));
                continue;
            }
            if !self.fields.is_empty()
                && !renamed_from.contains_key(name.as_str())
                && self.unknown_keys != UnknownKeys::Keep
            {
                errors.push(format!(
                    "{name} is not a field of `fields`, and `unknown_keys` is not `keep`: no line can have it"
                ));
                continue;
            }
            let slot = slot_of(name);
            if !keys.iter().any(|(k, _)| k == name) {
                keys.push((name.clone(), Target::Field(slot)));
            }
            if is_required {
                required.push(Needed::Field(slot));
            }
        }
        if self.required.is_none() {
            required.extend(
                renamed_from
                    .keys()
                    .filter_map(|n| slots.iter().position(|s| s.name == *n))
                    .map(Needed::Field),
            );
        }
        // A key renamed away leaves its field name free for an unknown key,
        // which would then overwrite the renamed field.
        for (index, slot) in slots.iter().enumerate() {
            if renamed_from.contains_key(slot.name.as_str())
                && !keys.iter().any(|(k, _)| *k == slot.name)
                && role_of(&slot.name).is_none()
            {
                keys.push((slot.name.clone(), Target::Taken(index)));
            }
        }
        for (index, key) in self.tag_keys.iter().enumerate() {
            keys.push((key.clone(), Target::Tag(index)));
        }
        if let Some(timestamp) = &self.timestamp {
            keys.push((timestamp.key.clone(), Target::Timestamp));
        }
        if let Some(key) = &self.measurement_key {
            keys.push((key.clone(), Target::Measurement));
        }

        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("logfmt-parser: {e}"))
                .collect::<Vec<_>>()
                .join("; "));
        }
        if keys.len() > usize::from(u16::MAX) {
            return Err("logfmt-parser: more than 65535 keys".to_owned());
        }
        let mut keys: Vec<Key> = keys
            .into_iter()
            .map(|(text, target)| Key { text, target })
            .collect();
        keys.sort_by_key(|key| key.text.bytes().next());
        let mut by_first = vec![(0, 0); 256];
        for (index, key) in keys.iter().enumerate() {
            let first = usize::from(key.text.bytes().next().unwrap_or_default());
            #[allow(clippy::cast_possible_truncation, reason = "checked above")]
            let index = index as u16;
            if by_first[first] == (0, 0) {
                by_first[first].0 = index;
            }
            by_first[first].1 = index + 1;
        }
        let mut series = Series::new(self.measurement);
        for (key, value) in self.tags {
            series.set_tag(key, value);
        }
        Ok(Schema {
            series,
            measurement_key: self.measurement_key,
            keys,
            by_first,
            groups: Groups::new(&slots),
            slots,
            tags: self.tag_keys,
            timestamp: self.timestamp,
            required,
            unknown_keys: if self.fields.is_empty() {
                UnknownKeys::Keep
            } else {
                self.unknown_keys
            },
            non_finite: self.non_finite,
            blank_lines: self.blank_lines,
            max_line_length: self.max_line_length,
        })
    }
}
