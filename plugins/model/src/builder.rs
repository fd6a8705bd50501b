//! Building columnar points one row at a time.

use std::collections::HashMap;

use crate::points::{Column, ColumnData, PointRef, Points, Series, TextColumn, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Float,
    Int,
    Boolean,
    Text,
}

impl Kind {
    fn of(value: &Value<'_>) -> Self {
        match value {
            Value::Float(_) => Kind::Float,
            Value::Int(_) => Kind::Int,
            Value::Bool(_) => Kind::Boolean,
            Value::Text(_) => Kind::Text,
        }
    }

    fn with_capacity(self, rows: usize) -> ColumnData {
        match self {
            Kind::Float => ColumnData::Float(Vec::with_capacity(rows)),
            Kind::Int => ColumnData::Int(Vec::with_capacity(rows)),
            Kind::Boolean => ColumnData::Boolean(Vec::with_capacity(rows)),
            Kind::Text => ColumnData::Text(TextColumn {
                data: Vec::with_capacity(rows * 8),
                ends: Vec::with_capacity(rows),
            }),
        }
    }
}

/// Builds a [`Points`] batch row by row: series are interned into the series
/// table, fields go to one column per name and type, and absent fields are
/// recorded in the presence bitmap.
///
/// Rows usually repeat the series and the field order of the row before, so
/// both are tried first: the common row costs one comparison per field and no
/// hashing or allocation. A hot loop can skip even those: intern its series
/// once ([`PointsBuilder::series_id`], [`PointsBuilder::point_of`]) and set
/// fields by the [`ColumnId`] the first [`PointBuilder::field_id`] returned
/// ([`PointBuilder::at`]). A column's presence bitmap is only written once a
/// point lacks the field, so dense columns cost one push per value.
#[derive(Debug, Default)]
pub struct PointsBuilder {
    points: Points,
    series_lookup: HashMap<Series, u32>,
    last_series: Option<u32>,
    /// The kind of each column, parallel to `points.columns`.
    kinds: Vec<Kind>,
    /// Values set in each column: while it equals the column's length every
    /// point so far has the field, and the bitmap is left empty.
    present_counts: Vec<usize>,
    /// The column after the one set last: where the next field probably is.
    next_column: usize,
    /// Rows expected, for sizing new columns.
    capacity: usize,
}

/// A series interned in one [`PointsBuilder`]; valid for that builder only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesId(u32);

/// A column of one [`PointsBuilder`] (a field name and a value type); valid
/// for that builder only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnId(usize);

impl PointsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty builder expecting about `rows` points, so columns are
    /// allocated once instead of growing.
    pub fn with_capacity(rows: usize) -> Self {
        let mut builder = Self::default();
        builder.points.series_index.reserve(rows);
        builder.points.timestamps.reserve(rows);
        builder.capacity = rows;
        builder
    }

    /// Append every point of `points`, fields and all, and return the index
    /// of the first of them in this builder. Into an empty builder the
    /// columns are copied whole (no work per point); otherwise point by
    /// point, as [`PointsBuilder::push`].
    pub fn pass_through(&mut self, points: &Points) -> usize {
        let start = self.len();
        if start > 0 || !self.points.columns.is_empty() || !self.points.series.is_empty() {
            for point in points.iter() {
                self.push(point);
            }
            return start;
        }
        let len = points.timestamps.len();
        let mut copy = points.clone();
        copy.series_index.truncate(len);
        copy.series_index.resize(len, 0);
        let series = copy.series.len();
        if copy.series_index.iter().any(|&s| s as usize >= series) {
            // Not a well-formed batch: row by row, which checks it.
            for point in points.iter() {
                self.push(point);
            }
            return start;
        }
        self.kinds.clear();
        self.present_counts.clear();
        for column in &mut copy.columns {
            pad(&mut column.data, len);
            self.kinds.push(match column.data {
                ColumnData::Float(_) => Kind::Float,
                ColumnData::Int(_) => Kind::Int,
                ColumnData::Boolean(_) => Kind::Boolean,
                ColumnData::Text(_) => Kind::Text,
            });
            let count = if column.present.is_empty() {
                len
            } else {
                column.present.resize(len.div_ceil(8), 0);
                if let Some(last) = column.present.last_mut()
                    && !len.is_multiple_of(8)
                {
                    *last &= (1 << (len % 8)) - 1;
                }
                column.present.iter().map(|b| b.count_ones() as usize).sum()
            };
            self.present_counts.push(count);
        }
        self.series_lookup = copy
            .series
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((s.clone(), u32::try_from(i).ok()?)))
            .collect();
        self.last_series = None;
        self.next_column = 0;
        self.capacity = self.capacity.max(len);
        self.points = copy;
        start
    }

    /// Point `index` (already added), to set more of its fields; `None`
    /// past the last point. Visit rows in increasing order: a field set on
    /// an earlier row than the last one set in its column is not recorded
    /// as present.
    pub fn row(&mut self, index: usize) -> Option<PointBuilder<'_>> {
        if index >= self.len() {
            return None;
        }
        self.next_column = 0;
        Some(PointBuilder {
            builder: self,
            index,
        })
    }

    /// Number of points so far.
    pub fn len(&self) -> usize {
        self.points.timestamps.len()
    }

    /// Whether no point was added.
    pub fn is_empty(&self) -> bool {
        self.points.timestamps.is_empty()
    }

    /// Start a point of `series` at `timestamp` (ns since the Unix epoch);
    /// add its fields with [`PointBuilder::field`].
    pub fn point(&mut self, timestamp: i64, series: &Series) -> PointBuilder<'_> {
        let series_index = self.intern(series);
        self.point_of(timestamp, SeriesId(series_index))
    }

    /// `series` in this builder's table, for [`PointsBuilder::point_of`].
    pub fn series_id(&mut self, series: &Series) -> SeriesId {
        SeriesId(self.intern(series))
    }

    /// Start a point of an interned series: [`PointsBuilder::point`] without
    /// comparing the series.
    #[inline]
    pub fn point_of(&mut self, timestamp: i64, series: SeriesId) -> PointBuilder<'_> {
        let series_index = series.0;
        self.next_column = 0;
        self.points.series_index.push(series_index);
        self.points.timestamps.push(timestamp);
        let index = self.points.timestamps.len() - 1;
        PointBuilder {
            builder: self,
            index,
        }
    }

    /// Copy a point from another batch, with all its fields.
    pub fn push(&mut self, point: PointRef<'_>) {
        let mut row = self.point(point.timestamp(), point.series());
        for (name, value) in point.fields() {
            row = row.field(name, value);
        }
    }

    fn intern(&mut self, series: &Series) -> u32 {
        if let Some(last) = self.last_series
            && self.points.series[last as usize] == *series
        {
            return last;
        }
        if let Some(&index) = self.series_lookup.get(series) {
            self.last_series = Some(index);
            return index;
        }
        let index = u32::try_from(self.points.series.len()).expect("more than 4 billion series");
        self.points.series.push(series.clone());
        self.series_lookup.insert(series.clone(), index);
        self.last_series = Some(index);
        index
    }

    /// The column for `name` values of `kind`: the expected next one, or a
    /// scan (columns are few), or a new one.
    fn column(&mut self, name: &str, kind: Kind) -> usize {
        let matches = |b: &Self, i: usize| b.kinds[i] == kind && b.points.columns[i].name == name;
        let hint = self.next_column;
        let found = if hint < self.kinds.len() && matches(self, hint) {
            Some(hint)
        } else {
            (0..self.kinds.len()).find(|&i| matches(self, i))
        };
        let column = found.unwrap_or_else(|| {
            self.points.columns.push(Column {
                name: name.to_owned(),
                data: kind.with_capacity(self.capacity),
                present: Vec::new(),
            });
            self.kinds.push(kind);
            self.present_counts.push(0);
            self.kinds.len() - 1
        });
        self.next_column = column + 1;
        column
    }

    fn set(&mut self, index: usize, name: &str, value: Value<'_>) -> usize {
        let column = self.column(name, Kind::of(&value));
        self.set_in(index, column, value);
        column
    }

    /// When `column` holds `kind` and every point before `index` has a
    /// value in it, append point `index`'s value with `push` (which says
    /// whether it did) and count it; false leaves everything as it was.
    #[inline]
    fn push_dense(
        &mut self,
        column: usize,
        kind: Kind,
        index: usize,
        push: impl FnOnce(&mut ColumnData) -> bool,
    ) -> bool {
        if self.kinds.get(column) != Some(&kind) {
            return false;
        }
        let (Some(col), Some(count)) = (
            self.points.columns.get_mut(column),
            self.present_counts.get_mut(column),
        ) else {
            return false;
        };
        if col.data.len() != index || *count != index || !push(&mut col.data) {
            return false;
        }
        *count += 1;
        self.next_column = column + 1;
        true
    }

    /// Set point `index`'s value in `column`, whose kind is the value's.
    #[inline]
    fn set_in(&mut self, index: usize, column: usize, value: Value<'_>) {
        let col = &mut self.points.columns[column];
        let count = &mut self.present_counts[column];
        let len = col.data.len();
        if len == index && *count == len {
            // Dense so far, and this point continues it: no bitmap yet.
            push(&mut col.data, value);
            *count += 1;
            return;
        }
        if len > index {
            // The same field twice on one point: the last value wins.
            overwrite(&mut col.data, index, value);
            return;
        }
        if col.present.is_empty() && *count == len && len > 0 {
            // The first gap: every value before it was present.
            col.present = all_present(len);
        }
        pad(&mut col.data, index);
        push(&mut col.data, value);
        if col.present.len() <= index / 8 {
            col.present.resize(index / 8 + 1, 0);
        }
        col.present[index / 8] |= 1 << (index % 8);
        *count += 1;
    }

    /// The finished batch.
    pub fn finish(mut self) -> Points {
        let len = self.len();
        for (column, count) in self.points.columns.iter_mut().zip(&self.present_counts) {
            pad(&mut column.data, len);
            if *count == len {
                column.present.clear();
            } else if column.present.is_empty() {
                // Dense up to its last value, absent after.
                column.present = all_present(*count);
                column.present.resize(len.div_ceil(8), 0);
            } else {
                column.present.resize(len.div_ceil(8), 0);
            }
        }
        self.points
    }
}

/// One point being built; see [`PointsBuilder::point`].
#[derive(Debug)]
pub struct PointBuilder<'a> {
    builder: &'a mut PointsBuilder,
    index: usize,
}

impl PointBuilder<'_> {
    /// Set field `name` of this point; calls chain:
    /// `points.point(ts, &series).field("t", 85.5).field("v", 5.0);`, and in
    /// a loop `row = row.field(name, value)`. (By value rather than `&mut`:
    /// the guest code of a plugin's hot loop is measurably tighter.)
    pub fn field<'v>(self, name: &str, value: impl Into<Value<'v>>) -> Self {
        self.builder.set(self.index, name, value.into());
        self
    }

    /// [`PointBuilder::field`], also returning the column the value went
    /// to, for [`PointBuilder::at`] on the next points.
    pub fn field_id<'v>(self, name: &str, value: impl Into<Value<'v>>) -> (Self, ColumnId) {
        let column = self.builder.set(self.index, name, value.into());
        (self, ColumnId(column))
    }

    /// [`PointBuilder::at`] for a float: the common dense case is one push.
    #[inline]
    pub fn at_f64(self, column: ColumnId, value: f64) -> Self {
        let pushed =
            self.builder
                .push_dense(column.0, Kind::Float, self.index, |data| match data {
                    ColumnData::Float(values) => {
                        values.push(value);
                        true
                    }
                    _ => false,
                });
        if pushed { self } else { self.at(column, value) }
    }

    /// [`PointBuilder::at`] for text: the common dense case is one append.
    #[inline]
    pub fn at_text(self, column: ColumnId, value: &str) -> Self {
        let pushed = self
            .builder
            .push_dense(column.0, Kind::Text, self.index, |data| match data {
                ColumnData::Text(values) => {
                    values.push(value);
                    true
                }
                _ => false,
            });
        if pushed { self } else { self.at(column, value) }
    }

    /// Set the field of `column` (from [`PointBuilder::field_id`] of this
    /// builder) without looking its name up. A value of another type than
    /// the column's goes to the column of its own type, as `field` would.
    #[inline]
    pub fn at<'v>(self, column: ColumnId, value: impl Into<Value<'v>>) -> Self {
        let value = value.into();
        let builder = &mut *self.builder;
        match builder.kinds.get(column.0) {
            Some(kind) if *kind == Kind::of(&value) => {
                builder.next_column = column.0 + 1;
                builder.set_in(self.index, column.0, value);
            }
            Some(_) => {
                let name = builder.points.columns[column.0].name.clone();
                builder.set(self.index, &name, value);
            }
            None => {}
        }
        self
    }
}

impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(v)
    }
}

fn pad(data: &mut ColumnData, len: usize) {
    match data {
        ColumnData::Float(v) => v.resize(len.max(v.len()), f64::NAN),
        ColumnData::Int(v) => v.resize(len.max(v.len()), 0),
        ColumnData::Boolean(v) => v.resize(len.max(v.len()), false),
        ColumnData::Text(v) => {
            while v.len() < len {
                v.push("");
            }
        }
    }
}

/// A presence bitmap of `len` points that all have the field.
fn all_present(len: usize) -> Vec<u8> {
    let mut bits = vec![0xff; len.div_ceil(8)];
    if !len.is_multiple_of(8) {
        bits[len / 8] = (1 << (len % 8)) - 1;
    }
    bits
}

#[inline]
fn push(data: &mut ColumnData, value: Value<'_>) {
    match (data, value) {
        (ColumnData::Float(v), Value::Float(x)) => v.push(x),
        (ColumnData::Int(v), Value::Int(x)) => v.push(x),
        (ColumnData::Boolean(v), Value::Bool(x)) => v.push(x),
        (ColumnData::Text(v), Value::Text(x)) => v.push(x),
        _ => unreachable!("columns are keyed by value kind"),
    }
}

fn overwrite(data: &mut ColumnData, index: usize, value: Value<'_>) {
    match (data, value) {
        (ColumnData::Float(v), Value::Float(x)) => v[index] = x,
        (ColumnData::Int(v), Value::Int(x)) => v[index] = x,
        (ColumnData::Boolean(v), Value::Bool(x)) => v[index] = x,
        (ColumnData::Text(v), Value::Text(x)) => {
            // Text is append-only; rebuild the column with the new value.
            let mut rebuilt = TextColumn::default();
            for i in 0..v.len() {
                rebuilt.push(if i == index {
                    x
                } else {
                    v.get(i).unwrap_or_default()
                });
            }
            *v = rebuilt;
        }
        _ => unreachable!("columns are keyed by value kind"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_sparse_columns_with_presence_bits() {
        let dev = Series::new("dev").with_tag("port", "ttyUSB0");
        let mut b = PointsBuilder::new();
        b.point(1, &dev)
            .field("temperature", 25.0)
            .field("status", "OK");
        b.point(2, &dev).field("voltage", 5.0);
        b.point(3, &Series::new("other")).field("temperature", 30.0);
        let points = b.finish();

        assert_eq!(points.len(), 3);
        assert_eq!(points.series.len(), 2, "series are interned");
        let rows: Vec<Vec<(String, String)>> = points
            .iter()
            .map(|p| {
                p.fields()
                    .map(|(k, v)| (k.to_owned(), v.to_string()))
                    .collect()
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                vec![
                    ("temperature".into(), "25".into()),
                    ("status".into(), "OK".into())
                ],
                vec![("voltage".into(), "5".into())],
                vec![("temperature".into(), "30".into())],
            ]
        );
        assert_eq!(points.get(2).unwrap().series().name, "other");
        assert_eq!(points.get(1).unwrap().number("temperature"), None);
    }

    #[test]
    fn full_columns_drop_the_bitmap_and_mixed_types_get_their_own_column() {
        let s = Series::new("s");
        let mut b = PointsBuilder::new();
        b.point(1, &s).field("x", 1.0).field("y", 1_i64);
        b.point(2, &s).field("x", 2.0).field("y", "two");
        let points = b.finish();
        assert!(points.column("x").unwrap().present.is_empty());
        assert_eq!(points.get(0).unwrap().field("y"), Some(Value::Int(1)));
        assert_eq!(points.get(1).unwrap().field("y"), Some(Value::Text("two")));
    }

    #[test]
    fn ids_build_the_same_points_as_names() {
        let s = Series::new("s").with_tag("a", "1");
        let rows: Vec<Vec<(&str, Value<'_>)>> = vec![
            vec![("x", Value::Float(1.0)), ("t", Value::Text("a"))],
            vec![("x", Value::Float(2.0))],
            vec![],
            vec![("t", Value::Text("b")), ("x", Value::Int(3))],
            vec![("x", Value::Float(4.0)), ("t", Value::Text("c"))],
        ];
        let mut by_name = PointsBuilder::new();
        for (i, row) in rows.iter().enumerate() {
            let mut point = by_name.point(i as i64, &s);
            for (name, value) in row {
                point = point.field(name, *value);
            }
        }
        let mut by_id = PointsBuilder::new();
        let series = by_id.series_id(&s);
        let mut ids: Vec<(&str, ColumnId)> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let mut point = by_id.point_of(i as i64, series);
            for (name, value) in row {
                point = match ids.iter().find(|(n, _)| n == name) {
                    Some((_, id)) => point.at(*id, *value),
                    None => {
                        let (point, id) = point.field_id(name, *value);
                        ids.push((name, id));
                        point
                    }
                };
            }
        }
        let (by_name, by_id) = (by_name.finish(), by_id.finish());
        // Debug, not ==: the padding of absent floats is NaN.
        assert_eq!(format!("{by_id:?}"), format!("{by_name:?}"));
        assert_eq!(by_id.column("x").unwrap().present, [0b1_0011]);
    }

    #[test]
    fn a_column_dense_until_its_last_value_gets_a_bitmap_at_the_end() {
        let s = Series::new("s");
        let mut b = PointsBuilder::new();
        for i in 0..10 {
            let point = b.point(i, &s).field("all", 1.0);
            if i < 9 {
                point.field("most", 2.0);
            }
        }
        let points = b.finish();
        assert!(points.column("all").unwrap().present.is_empty());
        assert_eq!(points.column("most").unwrap().present, [0xff, 0b1]);
        assert_eq!(points.get(9).unwrap().number("most"), None);
        assert_eq!(points.get(8).unwrap().number("most"), Some(2.0));
    }

    #[test]
    fn copying_points_preserves_them() {
        let s = Series::new("s").with_tag("a", "1");
        let mut b = PointsBuilder::new();
        b.point(7, &s).field("x", 1.5).field("ok", true);
        let original = b.finish();
        let mut copy = PointsBuilder::new();
        copy.push(original.get(0).unwrap());
        assert_eq!(copy.finish(), original);
    }
}
