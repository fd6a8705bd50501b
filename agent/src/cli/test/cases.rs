//! The test file of `foghorn test`: named cases, each an input for one
//! processor (or a chain of them) and what must come out.
//!
//! ```yaml
//! tests:
//!   - name: a hot reading fires
//!     component: limits            # a plugin processor of the pipeline
//!     then: [notify_later]         # optional: feed its points onwards
//!     input:
//!       start: 2026-01-01T00:00:00Z   # lines are received 1 s apart from here
//!       lines: ["T:85.5,V:5.0,S:OK"]
//!       points:
//!         - { series: device, tags: { site: a }, timestamp: 2026-01-01T00:00:00Z, fields: { temperature: 85.5 } }
//!     ticks: [2026-01-01T00:00:10Z]  # optional: time passes, after the input
//!     tolerance: 1e-9                # numbers: the default
//!     expect:                        # a list left out is not checked; [] means none
//!       points: [{ series: device, timestamp: …, fields: { … } }]
//!       alerts: [{ kind: threshold, state: firing, severity: critical, series: device,
//!                  labels: { field: temperature }, timestamp: …, value: 85.5 }]
//!       rejects: [{ record: 0, reason: "…" }]
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::event::{AlertState, Severity};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The cases, run in order.
    pub tests: Vec<Case>,
}

/// One case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What it checks, printed with its result.
    pub name: String,
    /// The plugin processor the input goes to.
    pub component: String,
    /// Processors that each get the points of the one before, as in a
    /// pipeline `component → then[0] → then[1] …`.
    #[serde(default)]
    pub then: Vec<String>,
    /// What goes in.
    #[serde(default)]
    pub input: Input,
    /// Times at which every processor's `tick` runs after the input (time
    /// passing with no data, for heartbeats and time buckets).
    #[serde(default)]
    pub ticks: Vec<Time>,
    /// How far numbers may be from what is expected: absolute, or relative
    /// to the expected value when that is larger than 1. Default 1e-9.
    #[serde(default)]
    pub tolerance: Option<f64>,
    /// What must come out.
    pub expect: Expect,
}

/// A case's input: raw lines, points or both.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// When the first line is received; each next line one second later.
    /// Default 2026-01-01T00:00:00Z.
    #[serde(default)]
    pub start: Option<Time>,
    /// Raw records, as a source would send them.
    #[serde(default)]
    pub lines: Vec<Line>,
    /// Points, as a parser upstream would send them.
    #[serde(default)]
    pub points: Vec<PointSpec>,
}

/// A raw line, with its receive time or without (then from `start`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Line {
    /// Just the text.
    Text(String),
    /// The text and when it was received.
    Timed {
        /// The text.
        line: String,
        /// When it was received.
        timestamp: Time,
    },
}

/// A time: RFC 3339 text, or nanoseconds since the epoch.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Time {
    /// Nanoseconds since the Unix epoch.
    Nanos(i64),
    /// RFC 3339, e.g. `2026-01-01T00:00:00Z`.
    Text(String),
}

/// A field value in the file: `true`/`false`, a whole number, a number, or
/// text. A value that reads as a number or a boolean is one, quoted or not.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// `true` / `false`.
    Bool(bool),
    /// A whole number (an integer field, or a float equal to it).
    Int(i64),
    /// A number.
    Float(f64),
    /// Anything else: text.
    Text(String),
}

impl FieldValue {
    /// The value a scalar's text stands for, typed as YAML 1.2 types it.
    fn from_text(text: &str) -> Self {
        match text {
            "true" | "True" | "TRUE" => Self::Bool(true),
            "false" | "False" | "FALSE" => Self::Bool(false),
            _ => {
                if let Ok(int) = text.parse::<i64>() {
                    Self::Int(int)
                } else if let Some(float) = foghorn_model::number::parse_f64(text)
                    .filter(|_| text.bytes().any(|b| b.is_ascii_digit()))
                {
                    Self::Float(float)
                } else {
                    Self::Text(text.to_owned())
                }
            }
        }
    }
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = FieldValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number, true, false or text")
            }
            fn visit_bool<E>(self, v: bool) -> Result<FieldValue, E> {
                Ok(FieldValue::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<FieldValue, E> {
                Ok(FieldValue::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<FieldValue, E> {
                i64::try_from(v)
                    .map(FieldValue::Int)
                    .map_err(|_| E::custom(format!("{v} is too large")))
            }
            fn visit_f64<E>(self, v: f64) -> Result<FieldValue, E> {
                Ok(FieldValue::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<FieldValue, E> {
                Ok(FieldValue::from_text(v))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A point of the input, or one expected in the output.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointSpec {
    /// The series' name.
    pub series: String,
    /// Its tags. For an expected point, left out means no tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// When.
    pub timestamp: Time,
    /// Its fields: for an expected point, exactly these.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldValue>,
    /// This point's own tolerance (expected points only).
    #[serde(default)]
    pub tolerance: Option<f64>,
}

/// What must come out; a list left out is not checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The points of the last processor, in order.
    #[serde(default)]
    pub points: Option<Vec<PointSpec>>,
    /// The alerts of every processor, in order.
    #[serde(default)]
    pub alerts: Option<Vec<AlertSpec>>,
    /// The items rejected by any processor, in order.
    #[serde(default)]
    pub rejects: Option<Vec<RejectSpec>>,
}

/// An expected alert: only what it names is compared.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSpec {
    /// The kind (`threshold`).
    pub kind: Option<String>,
    /// `firing` or `resolved`.
    pub state: Option<AlertState>,
    /// `info`, `warning` or `critical`.
    pub severity: Option<Severity>,
    /// The series' name.
    pub series: Option<String>,
    /// The series' tags, all of them.
    pub tags: Option<BTreeMap<String, String>>,
    /// The labels, all of them.
    pub labels: Option<BTreeMap<String, String>>,
    /// When.
    pub timestamp: Option<Time>,
    /// The value, within the tolerance.
    pub value: Option<f64>,
    /// The score, within the tolerance.
    pub score: Option<f64>,
    /// The description, exactly.
    pub description: Option<String>,
    /// Text the description must contain.
    pub description_contains: Option<String>,
    /// This alert's own tolerance.
    pub tolerance: Option<f64>,
}

/// An expected reject: the item and, optionally, the reason.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectSpec {
    /// The processor that rejected it; default the case's `component`.
    #[serde(default)]
    pub component: Option<String>,
    /// Index of the rejected record in that processor's input.
    #[serde(default)]
    pub record: Option<usize>,
    /// Index of the rejected point in that processor's input.
    #[serde(default)]
    pub point: Option<usize>,
    /// The reason, exactly.
    #[serde(default)]
    pub reason: Option<String>,
    /// Text the reason must contain.
    #[serde(default)]
    pub reason_contains: Option<String>,
}
