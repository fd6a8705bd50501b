//! Structured points in columnar form, and a row view over them.

use std::fmt;

/// A series: a measurement name and its tags, sorted by key.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Series {
    /// Measurement name, e.g. `bench_device`.
    pub name: String,
    /// Tags, sorted by key.
    pub tags: Vec<(String, String)>,
}

impl Series {
    /// A series with no tags.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            tags: Vec::new(),
        }
    }

    /// Add or replace a tag, keeping tags sorted.
    #[must_use]
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set_tag(key, value);
        self
    }

    /// Add or replace a tag, keeping tags sorted.
    pub fn set_tag(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        match self.tags.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            Ok(i) => self.tags[i].1 = value,
            Err(i) => self.tags.insert(i, (key, value)),
        }
    }

    /// The value of tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.tags.is_empty() {
            f.write_str("{")?;
            for (i, (k, v)) in self.tags.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{k}={v}")?;
            }
            f.write_str("}")?;
        }
        Ok(())
    }
}

/// Text values: UTF-8 bytes concatenated, with the end offset of each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextColumn {
    /// Values, concatenated.
    pub data: Vec<u8>,
    /// End offset of each value in `data`.
    pub ends: Vec<u32>,
}

impl TextColumn {
    /// The value at `index`.
    pub fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)? as usize;
        let start = if index == 0 {
            0
        } else {
            self.ends[index - 1] as usize
        };
        std::str::from_utf8(self.data.get(start..end)?).ok()
    }

    /// Append a value.
    pub fn push(&mut self, value: &str) {
        self.data.extend_from_slice(value.as_bytes());
        self.ends
            .push(u32::try_from(self.data.len()).expect("text column larger than 4 GiB"));
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// The values of one field for every point of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Floating-point values.
    Float(Vec<f64>),
    /// Integer values.
    Int(Vec<i64>),
    /// Booleans.
    Boolean(Vec<bool>),
    /// Text.
    Text(TextColumn),
}

impl ColumnData {
    /// Number of values, placeholders included.
    pub fn len(&self) -> usize {
        match self {
            Self::Float(v) => v.len(),
            Self::Int(v) => v.len(),
            Self::Boolean(v) => v.len(),
            Self::Text(v) => v.len(),
        }
    }

    /// Whether the column holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `index`, present or a placeholder (see [`Column::get`]).
    #[inline]
    pub fn value(&self, index: usize) -> Option<Value<'_>> {
        match self {
            Self::Float(v) => v.get(index).copied().map(Value::Float),
            Self::Int(v) => v.get(index).copied().map(Value::Int),
            Self::Boolean(v) => v.get(index).copied().map(Value::Bool),
            Self::Text(v) => v.get(index).map(Value::Text),
        }
    }
}

/// One field across the points of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Field name.
    pub name: String,
    /// Values, one per point.
    pub data: ColumnData,
    /// One bit per point, least significant bit first: set when the point has
    /// this field. Empty means every point has it.
    pub present: Vec<u8>,
}

impl Column {
    /// Whether point `index` has this field.
    pub fn is_present(&self, index: usize) -> bool {
        self.present.is_empty()
            || self
                .present
                .get(index / 8)
                .is_some_and(|byte| byte & (1 << (index % 8)) != 0)
    }

    /// The value for point `index`, if it has one.
    pub fn get(&self, index: usize) -> Option<Value<'_>> {
        if self.is_present(index) {
            self.data.value(index)
        } else {
            None
        }
    }
}

/// A field value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// A float.
    Float(f64),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// Text.
    Text(&'a str),
}

impl Value<'_> {
    /// The value as a number: floats and integers as they are, booleans as 0
    /// or 1, text not at all.
    #[allow(clippy::cast_precision_loss, reason = "metrics are f64 by nature")]
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(v) => Some(v),
            Value::Int(v) => Some(v as f64),
            Value::Bool(v) => Some(if v { 1.0 } else { 0.0 }),
            Value::Text(_) => None,
        }
    }

    /// The value as a reading: a finite float, or an integer as a float;
    /// booleans, text, NaN and infinities are none.
    #[inline]
    #[allow(clippy::cast_precision_loss, reason = "integer readings as f64")]
    pub fn as_reading(&self) -> Option<f64> {
        match *self {
            Value::Float(v) if v.is_finite() => Some(v),
            Value::Int(v) => Some(v as f64),
            _ => None,
        }
    }

    /// The value as text, if it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Float(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Text(v) => f.write_str(v),
        }
    }
}

/// Structured points in columnar form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Points {
    /// The series table; points refer to it by index.
    pub series: Vec<Series>,
    /// For each point, its index into `series`.
    pub series_index: Vec<u32>,
    /// For each point, its timestamp in nanoseconds since the Unix epoch.
    pub timestamps: Vec<i64>,
    /// The fields, one column each.
    pub columns: Vec<Column>,
}

impl Points {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// The point at `index`.
    pub fn get(&self, index: usize) -> Option<PointRef<'_>> {
        (index < self.len()).then_some(PointRef {
            points: self,
            index,
        })
    }

    /// Iterate over the points in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = PointRef<'_>> + '_ {
        (0..self.len()).map(move |index| PointRef {
            points: self,
            index,
        })
    }

    /// The column named `name` (the first one, when a field has values of
    /// more than one type).
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One point, borrowed from a [`Points`] batch.
#[derive(Debug, Clone, Copy)]
pub struct PointRef<'a> {
    points: &'a Points,
    index: usize,
}

impl<'a> PointRef<'a> {
    /// Position of the point in its batch.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Timestamp, nanoseconds since the Unix epoch.
    pub fn timestamp(&self) -> i64 {
        self.points.timestamps[self.index]
    }

    /// Its series.
    pub fn series(&self) -> &'a Series {
        &self.points.series[self.points.series_index[self.index] as usize]
    }

    /// The index of its series in the batch's series table.
    pub fn series_index(&self) -> usize {
        self.points.series_index[self.index] as usize
    }

    /// The value of field `name`, if the point has it.
    pub fn field(&self, name: &str) -> Option<Value<'a>> {
        self.points
            .columns
            .iter()
            .filter(|c| c.name == name)
            .find_map(|c| c.get(self.index))
    }

    /// The value of field `name` as a number.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.field(name).and_then(|v| v.as_f64())
    }

    /// Every field the point has, in column order.
    pub fn fields(&self) -> impl Iterator<Item = (&'a str, Value<'a>)> + 'a {
        let index = self.index;
        self.points
            .columns
            .iter()
            .filter_map(move |c| c.get(index).map(|v| (c.name.as_str(), v)))
    }
}
