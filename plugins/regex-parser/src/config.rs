//! The regex parser's configuration, and the plan compiled from it once: the
//! regular expression, and the capture group of every field, tag, time and
//! measurement.

use std::collections::BTreeMap;

use foghorn_plugin::Series;
use foghorn_plugin::timestamp::TimeFormat;
use foghorn_plugin::typed::FieldType;
use regex::Regex;
use serde::Deserialize;

pub use foghorn_plugin::lines::{BlankLines, NonFinite};

/// `config:` of a regex processor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The regular expression (Rust `regex` syntax: no look-around or
    /// back-references, so matching takes time linear in the line), with a
    /// named capture, `(?P<name>…)` or `(?<name>…)`, for each value to keep.
    /// Required.
    pub pattern: String,
    /// `full` (the default): the pattern must match the whole line (after
    /// `trim`), as if written `\A(?:pattern)\z`, so a line with anything
    /// more or less is rejected rather than half read; `search`: the first
    /// match anywhere in the line is read, the rest of the line ignored.
    #[serde(rename = "match")]
    pub mode: Match,
    /// The captures to keep as fields: a list of capture names, or a map of
    /// capture name → field name to rename them. Default: every named
    /// capture that is not a tag, the timestamp or the measurement, under
    /// its own name.
    pub fields: Option<Fields>,
    /// The type of each field, by capture name: `float`, `int`, `bool`,
    /// `string` or `auto` (the default: a float if the text reads as a
    /// number, else text).
    pub types: BTreeMap<String, FieldType>,
    /// The series name of every point. Default `regex`.
    pub measurement: String,
    /// A capture naming each line's series instead; where it does not take
    /// part in the match, or is empty, the series is `measurement`.
    /// Default none.
    pub measurement_capture: Option<String>,
    /// Static tags of every point's series. Default none.
    pub tags: BTreeMap<String, String>,
    /// Captures whose text tags the point's series, under the capture's
    /// name; one that does not take part or is empty leaves its tag out.
    /// Default none.
    pub tag_captures: Vec<String>,
    /// The capture holding each line's time, and its format; it is not a
    /// field. Default: the time the line was received.
    pub timestamp: Option<TimestampCapture>,
    /// Captures (fields or tags) that must take part in the match with a
    /// non-empty text; a line where one does not is rejected. Default: every
    /// field.
    pub required: Option<Vec<String>>,
    /// Trim whitespace (including a trailing `\r`) around the line before
    /// matching. With `false` only a trailing line ending is removed.
    /// Default `true`.
    pub trim: bool,
    /// A blank line is skipped and counted in `blank_lines` (`skip`, the
    /// default) or rejected as `empty line` (`reject`).
    pub blank_lines: BlankLines,
    /// Lines of this many bytes or more are rejected as too long (the
    /// sources cut longer lines there). Default 65536.
    pub max_line_length: usize,
    /// A float that is not finite (`NaN`, `inf`) rejects the line (`reject`,
    /// the default) or is kept (`keep`).
    pub non_finite: NonFinite,
}

/// How much of the line the pattern must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    /// All of it.
    #[default]
    Full,
    /// Any part: the first match.
    Search,
}

/// The captures kept as fields, and their field names.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "a list of capture names, or a map of capture name to field name"
)]
pub enum Fields {
    /// Capture names, kept under their own names.
    List(Vec<String>),
    /// Capture name → field name.
    Renamed(BTreeMap<String, String>),
}

/// Which capture is the time and how it is written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampCapture {
    /// The capture's name.
    pub capture: String,
    /// `rfc3339`, `unix`, `unix_ms`, `unix_us`, `unix_ns` or a strftime
    /// pattern (see `foghorn_plugin::timestamp`). Default `rfc3339`.
    #[serde(default = "rfc3339")]
    pub format: TimeFormat,
}

fn rfc3339() -> TimeFormat {
    TimeFormat::Rfc3339
}

impl Default for Config {
    fn default() -> Self {
        Self {
            pattern: String::new(),
            mode: Match::Full,
            fields: None,
            types: BTreeMap::new(),
            measurement: "regex".to_owned(),
            measurement_capture: None,
            tags: BTreeMap::new(),
            tag_captures: Vec::new(),
            timestamp: None,
            required: None,
            trim: true,
            blank_lines: BlankLines::Skip,
            max_line_length: 65_536,
            non_finite: NonFinite::Reject,
        }
    }
}

/// A capture kept as a field.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    /// Its capture group.
    pub group: usize,
    pub capture: String,
    pub name: String,
    pub ty: FieldType,
    pub required: bool,
}

/// A capture kept as a tag.
#[derive(Debug, Clone)]
pub(crate) struct Tag {
    pub group: usize,
    pub name: String,
    pub required: bool,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The pattern, anchored at both ends with `match: full`.
    pub regex: Regex,
    pub fields: Vec<Field>,
    pub tags: Vec<Tag>,
    /// The tags' names, in order.
    pub tag_names: Vec<String>,
    /// The series of a line with no measurement or tags of its own.
    pub series: Series,
    /// The timestamp's group, capture name and format.
    pub timestamp: Option<(usize, String, TimeFormat)>,
    pub measurement: Option<usize>,
    pub trim: bool,
    pub blank_lines: BlankLines,
    pub max_line_length: usize,
    pub non_finite: NonFinite,
}

impl Config {
    /// Validate, reporting every mistake at once.
    pub(crate) fn compile(self) -> Result<Plan, String> {
        let mut errors = Vec::new();
        if self.measurement.is_empty() {
            errors.push("`measurement` is empty".to_owned());
        }
        if self.max_line_length == 0 {
            errors.push("`max_line_length` is 0".to_owned());
        }
        for (name, _) in self
            .tags
            .iter()
            .filter(|(n, _)| self.tag_captures.contains(n))
        {
            errors.push(format!(
                "tag {name} is both a static tag (`tags`) and a capture (`tag_captures`)"
            ));
        }
        let regex = if self.pattern.is_empty() {
            errors.push("`pattern` is empty: give the regular expression".to_owned());
            None
        } else {
            match Regex::new(&self.pattern) {
                Ok(regex) => Some(regex),
                Err(e) => {
                    errors.push(format!("pattern: {e}"));
                    None
                }
            }
        };
        let plan = regex.and_then(|regex| self.plan(&regex, &mut errors));
        match plan {
            Some(plan) if errors.is_empty() => Ok(plan),
            _ => Err(errors
                .iter()
                .map(|e| format!("regex: {e}"))
                .collect::<Vec<_>>()
                .join("; ")),
        }
    }

    /// The roles of the captures of `regex`; `None` after a mistake.
    fn plan(&self, regex: &Regex, errors: &mut Vec<String>) -> Option<Plan> {
        let names: Vec<&str> = regex.capture_names().flatten().collect();
        if names.is_empty() {
            errors.push(
                "pattern has no named captures: name each value to keep, as in (?P<temperature>[0-9.]+)"
                    .to_owned(),
            );
            return None;
        }
        let group = |name: &str| regex.capture_names().position(|n| n == Some(name));
        let before = errors.len();
        let mut check = |setting: &str, name: &str| {
            if group(name).is_none() {
                errors.push(format!(
                    "{setting}: the pattern has no capture {name} (its captures: {})",
                    names.join(", ")
                ));
            }
        };
        let renamed: Vec<(String, String)> = match &self.fields {
            Some(Fields::List(list)) => list.iter().map(|c| (c.clone(), c.clone())).collect(),
            Some(Fields::Renamed(map)) => map.clone().into_iter().collect(),
            None => Vec::new(),
        };
        for (capture, _) in &renamed {
            check("fields", capture);
        }
        for capture in self.types.keys() {
            check("types", capture);
        }
        for capture in &self.tag_captures {
            check("tag_captures", capture);
        }
        for capture in self.required.iter().flatten() {
            check("required", capture);
        }
        if let Some(timestamp) = &self.timestamp {
            check("timestamp", &timestamp.capture);
        }
        if let Some(capture) = &self.measurement_capture {
            check("measurement_capture", capture);
        }
        if errors.len() > before {
            return None;
        }

        // What each capture is, when it is not a field.
        let role = |capture: &str| {
            if self.tag_captures.iter().any(|c| c == capture) {
                Some("a tag")
            } else if self
                .timestamp
                .as_ref()
                .is_some_and(|t| t.capture == capture)
            {
                Some("the timestamp")
            } else if self.measurement_capture.as_deref() == Some(capture) {
                Some("the measurement")
            } else {
                None
            }
        };
        let fields: Vec<(String, String)> = if self.fields.is_some() {
            renamed
        } else {
            names
                .iter()
                .filter(|c| role(c).is_none())
                .map(|c| ((*c).to_owned(), (*c).to_owned()))
                .collect()
        };
        for (i, (capture, name)) in fields.iter().enumerate() {
            if let Some(role) = role(capture) {
                errors.push(format!("fields: capture {capture} is {role}, not a field"));
            }
            if name.is_empty() {
                errors.push(format!("fields: capture {capture} has an empty field name"));
            } else if let Some((other, _)) = fields[..i].iter().find(|(_, n)| n == name) {
                errors.push(format!(
                    "fields: captures {other} and {capture} are both named {name}"
                ));
            }
        }
        for capture in self.types.keys() {
            if !fields.iter().any(|(c, _)| c == capture) {
                let what = role(capture).unwrap_or("not kept as a field (see `fields`)");
                errors.push(format!("types: capture {capture} is {what}"));
            }
        }
        for capture in self.required.iter().flatten() {
            if !fields.iter().any(|(c, _)| c == capture) && !self.tag_captures.contains(capture) {
                let what = role(capture).unwrap_or("not kept as a field");
                errors.push(format!(
                    "required: capture {capture} is {what}; only fields and tags can be required"
                ));
            }
        }
        if fields.is_empty() {
            errors.push(
                "no fields: every capture is a tag, the timestamp or the measurement".to_owned(),
            );
        }
        let required = |capture: &str| match &self.required {
            Some(list) => list.iter().any(|c| c == capture),
            None => true,
        };
        let fields = fields
            .into_iter()
            .map(|(capture, name)| Field {
                group: group(&capture).unwrap_or_default(),
                ty: self.types.get(&capture).copied().unwrap_or_default(),
                required: required(&capture),
                capture,
                name,
            })
            .collect();
        let tags = self
            .tag_captures
            .iter()
            .map(|name| Tag {
                group: group(name).unwrap_or_default(),
                name: name.clone(),
                required: self
                    .required
                    .as_ref()
                    .is_some_and(|list| list.contains(name)),
            })
            .collect::<Vec<_>>();
        let mut series = Series::new(self.measurement.clone());
        for (key, value) in &self.tags {
            series.set_tag(key.clone(), value.clone());
        }
        let regex = match self.mode {
            Match::Search => regex.clone(),
            // The pattern compiled on its own, so its groups are balanced and
            // the anchors hold for all of it; groups keep their numbers. A
            // verbose pattern (`(?x)`) ending in a `# comment` needs a line
            // break before the closing, which anywhere else would be matched.
            Match::Full => match Regex::new(&format!(r"\A(?:{})\z", self.pattern))
                .or_else(|_| Regex::new(&format!("\\A(?:{}\n)\\z", self.pattern)))
            {
                Ok(regex) => regex,
                Err(e) => {
                    errors.push(format!("pattern: {e}"));
                    return None;
                }
            },
        };
        Some(Plan {
            regex,
            fields,
            tag_names: tags.iter().map(|t| t.name.clone()).collect(),
            tags,
            series,
            timestamp: self.timestamp.as_ref().map(|t| {
                (
                    group(&t.capture).unwrap_or_default(),
                    t.capture.clone(),
                    t.format.clone(),
                )
            }),
            measurement: self.measurement_capture.as_deref().and_then(group),
            trim: self.trim,
            blank_lines: self.blank_lines,
            max_line_length: self.max_line_length,
            non_finite: self.non_finite,
        })
    }
}
