//! The json parser's configuration, and the plan compiled from it once: the
//! trie of paths the walk descends, and each field's name, path and type.

use std::collections::BTreeMap;

use foghorn_plugin::Series;
use foghorn_plugin::timestamp::TimeFormat;
use foghorn_plugin::typed::FieldType;
use serde::Deserialize;

use crate::path::{Target, Trie};

pub use foghorn_plugin::lines::{BlankLines, NonFinite};

/// `config:` of a json processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The values to take as fields: path → field name, e.g. `{ "cpu.user":
    /// cpu_user, "/disk/sda.1": sda1 }`. A path is dot-separated keys, or a
    /// JSON Pointer when it starts with `/` (for keys holding dots); a digit
    /// segment is also an array index (`load.0`). Default none: then
    /// `flatten` must be on.
    pub fields: BTreeMap<String, String>,
    /// Also take every other scalar value of the record as a field named by
    /// its keys and indexes joined with `_` (`{"cpu": {"user": 1}}` gives
    /// `cpu_user`, `{"load": [1, 2]}` gives `load_0` and `load_1`). Values at
    /// the paths of `fields`, `tag_paths`, `timestamp` and
    /// `measurement_path` are not flattened. Default `false`.
    pub flatten: bool,
    /// With `flatten`, a record with more flattened fields than this is
    /// rejected. Default 256.
    pub max_fields: usize,
    /// The series name of every point. Default `json`.
    pub measurement: String,
    /// The path of a string naming each record's series instead; a record
    /// without it (or with `null` or `""` there) gets `measurement`.
    /// Default none.
    pub measurement_path: Option<String>,
    /// Static tags of every point's series. Default none.
    pub tags: BTreeMap<String, String>,
    /// Tags from the record: path → tag name. A string, number or bool
    /// becomes the tag's text; `null`, `""` or no value leaves the tag out.
    /// Default none.
    pub tag_paths: BTreeMap<String, String>,
    /// Where each record's time is, and its format; the value is not a
    /// field. Default: the time the record was received.
    pub timestamp: Option<TimestampPath>,
    /// The type of each field, by field name: `float`, `int`, `bool`,
    /// `string` or `auto`. `auto`, the default, keeps the JSON type: a
    /// number is a float, `true`/`false` a bool, a string text.
    pub types: BTreeMap<String, FieldType>,
    /// Fields (by name) a record must have; a record without one, or with
    /// `null` there, is rejected. Default none.
    pub required: Vec<String>,
    /// A blank line is skipped and counted in `blank_lines` (`skip`, the
    /// default) or rejected as `empty line` (`reject`).
    pub blank_lines: BlankLines,
    /// Records of this many bytes or more are rejected as too long (the
    /// sources cut longer lines there). Default 65536.
    pub max_line_length: usize,
    /// A float field whose text is not a finite number (`"NaN"`, `"inf"`)
    /// rejects the record (`reject`, the default) or is kept (`keep`). JSON
    /// numbers themselves are always finite.
    pub non_finite: NonFinite,
}

/// Where each record's time is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampPath {
    /// The value's path.
    pub path: String,
    /// `rfc3339`, `unix`, `unix_ms`, `unix_us`, `unix_ns` or a strftime
    /// pattern (see `foghorn_plugin::timestamp`). A JSON number is read with
    /// the `unix*` formats only. Default `rfc3339`.
    #[serde(default = "rfc3339")]
    pub format: TimeFormat,
    /// Also give each point the record's time as a float field of this
    /// name, in seconds since the epoch (a model's "timestamp to epoch
    /// seconds" feature). It wins over a flattened value of the same name.
    /// Default none.
    pub field: Option<String>,
}

fn rfc3339() -> TimeFormat {
    TimeFormat::Rfc3339
}

impl Default for Config {
    fn default() -> Self {
        Self {
            fields: BTreeMap::new(),
            flatten: false,
            max_fields: 256,
            measurement: "json".to_owned(),
            measurement_path: None,
            tags: BTreeMap::new(),
            tag_paths: BTreeMap::new(),
            timestamp: None,
            types: BTreeMap::new(),
            required: Vec::new(),
            blank_lines: BlankLines::Skip,
            max_line_length: 65_536,
            non_finite: NonFinite::Reject,
        }
    }
}

/// A field named by `fields`.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: String,
    /// As the config wrote it, for reject reasons.
    pub path: String,
    pub ty: FieldType,
    pub required: bool,
}

/// A tag taken from the record.
#[derive(Debug, Clone)]
pub(crate) struct Tag {
    pub name: String,
    pub path: String,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub trie: Trie,
    pub fields: Vec<Field>,
    pub tags: Vec<Tag>,
    /// The tags' names, in order.
    pub tag_names: Vec<String>,
    /// The series of a record with no measurement or tags of its own.
    pub series: Series,
    pub timestamp: Option<TimestampPath>,
    pub measurement_path: Option<String>,
    pub flatten: bool,
    pub max_fields: usize,
    /// `types` in name order, for flattened fields.
    pub flat_types: Vec<(String, FieldType)>,
    /// Required names that are not fields of `fields` (flattened ones).
    pub flat_required: Vec<String>,
    pub blank_lines: BlankLines,
    pub max_line_length: usize,
    pub non_finite: NonFinite,
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Plan, String> {
        let mut errors = Vec::new();
        let mut trie = Trie::default();
        if self.fields.is_empty() && !self.flatten {
            errors.push(
                "no fields: name them in `fields` (path: name) or set `flatten: true`".to_owned(),
            );
        }
        if self.measurement.is_empty() {
            errors.push("`measurement` is empty".to_owned());
        }
        if self.max_line_length == 0 {
            errors.push("`max_line_length` is 0".to_owned());
        }
        if self.max_fields == 0 {
            errors.push("`max_fields` is 0".to_owned());
        }
        let mut fields: Vec<Field> = Vec::new();
        for (path, name) in &self.fields {
            if name.is_empty() {
                errors.push(format!("fields: path {path:?} has an empty field name"));
                continue;
            }
            if let Some(other) = fields.iter().find(|f| f.name == *name) {
                errors.push(format!(
                    "fields: paths {:?} and {path:?} are both named {name}",
                    other.path
                ));
                continue;
            }
            let target = Target::Field(fields.len());
            if let Err(e) = trie.insert(path, target) {
                errors.push(format!("fields: {e}"));
            }
            fields.push(Field {
                name: name.clone(),
                path: path.clone(),
                ty: self.types.get(name).copied().unwrap_or_default(),
                required: self.required.contains(name),
            });
        }
        let mut tags: Vec<Tag> = Vec::new();
        for (path, name) in &self.tag_paths {
            if name.is_empty() {
                errors.push(format!("tag_paths: path {path:?} has an empty tag name"));
                continue;
            }
            if let Some(other) = tags.iter().find(|t| t.name == *name) {
                errors.push(format!(
                    "tag_paths: paths {:?} and {path:?} are both named {name}",
                    other.path
                ));
                continue;
            }
            if self.tags.contains_key(name) {
                errors.push(format!(
                    "tag {name} is both a static tag (`tags`) and from path {path:?}"
                ));
            }
            if let Err(e) = trie.insert(path, Target::Tag(tags.len())) {
                errors.push(format!("tag_paths: {e}"));
            }
            tags.push(Tag {
                name: name.clone(),
                path: path.clone(),
            });
        }
        if let Some(timestamp) = &self.timestamp {
            if let Err(e) = trie.insert(&timestamp.path, Target::Timestamp) {
                errors.push(format!("timestamp: {e}"));
            }
            match &timestamp.field {
                Some(field) if field.is_empty() => {
                    errors.push("timestamp: `field` is empty".to_owned());
                }
                Some(field) if fields.iter().any(|f| f.name == *field) => {
                    errors.push(format!(
                        "timestamp: field {field} is also a field of `fields`: name another field"
                    ));
                }
                _ => {}
            }
        }
        if let Some(path) = &self.measurement_path
            && let Err(e) = trie.insert(path, Target::Measurement)
        {
            errors.push(format!("measurement_path: {e}"));
        }
        // Without flattening every field has a path, so a name that is not
        // one of them is a mistake; with it, the name may be flattened.
        let mut flat_required = Vec::new();
        for (setting, name) in self
            .types
            .keys()
            .map(|n| ("types", n))
            .chain(self.required.iter().map(|n| ("required", n)))
        {
            if fields.iter().any(|f| f.name == *name) {
                continue;
            }
            if let Some(path) = self.fields.keys().find(|path| *path == name) {
                errors.push(format!(
                    "{setting}: {path} is a path of `fields`; name its field, {}",
                    self.fields[path]
                ));
            } else if !self.flatten {
                errors.push(format!(
                    "{setting}: {name} is not a field of `fields` (and `flatten` is off)"
                ));
            } else if setting == "required" && !flat_required.contains(name) {
                flat_required.push(name.clone());
            }
        }
        if !errors.is_empty() {
            return Err(errors
                .iter()
                .map(|e| format!("json: {e}"))
                .collect::<Vec<_>>()
                .join("; "));
        }
        let mut series = Series::new(self.measurement);
        for (key, value) in self.tags {
            series.set_tag(key, value);
        }
        Ok(Plan {
            trie,
            fields,
            tag_names: tags.iter().map(|t| t.name.clone()).collect(),
            tags,
            series,
            timestamp: self.timestamp,
            measurement_path: self.measurement_path,
            flatten: self.flatten,
            max_fields: self.max_fields,
            flat_types: self.types.into_iter().collect(),
            flat_required,
            blank_lines: self.blank_lines,
            max_line_length: self.max_line_length,
            non_finite: self.non_finite,
        })
    }
}

impl Plan {
    /// The type of flattened field `name`.
    #[inline]
    pub(crate) fn flat_type(&self, name: &str) -> FieldType {
        if self.flat_types.is_empty() {
            return FieldType::Auto;
        }
        self.flat_types
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .map_or(FieldType::Auto, |i| self.flat_types[i].1)
    }
}
