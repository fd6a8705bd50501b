//! A batch read and written by column, for the hot loop of a plugin that
//! reads the same few fields of every point and passes every point on with a
//! field or two added: the columns are found once per batch instead of by
//! name per point, and points are copied out by column id.
//!
//! ```
//! use foghorn_plugin::columns::{Copier, FieldColumns, Slot};
//! use foghorn_plugin::prelude::*;
//!
//! fn doubled(batch: &Batch, out: &mut Output) {
//!     let points = &batch.points;
//!     let inputs = FieldColumns::new(points, ["temperature"]);
//!     let mut copier = Copier::new(points);
//!     let mut added = Slot::default();
//!     for point in points.iter() {
//!         let value = inputs.reading(points, 0, point.index());
//!         let Some(row) = copier.copy(points, point.index(), out) else {
//!             continue;
//!         };
//!         if let Some(value) = value {
//!             added.put(row, "temperature_doubled", 2.0 * value);
//!         }
//!     }
//! }
//! ```

use foghorn_model::{Column, ColumnData, PointBuilder};

use crate::{ColumnId, Output, Points, SeriesId, Value};

/// The columns holding each of some named fields in one batch (a field has
/// one column per type of value it has there).
#[derive(Debug, Clone)]
pub struct FieldColumns {
    /// Per field, the batch's columns of that name, in column order.
    columns: Vec<Vec<usize>>,
}

impl FieldColumns {
    /// The columns of `points` named by each of `names`; field `i` below is
    /// the `i`th name.
    pub fn new<'a>(points: &Points, names: impl IntoIterator<Item = &'a str>) -> Self {
        let columns = names
            .into_iter()
            .map(|name| {
                (0..points.columns.len())
                    .filter(|c| points.columns[*c].name == name)
                    .collect()
            })
            .collect();
        Self { columns }
    }

    /// Field `field` of point `index`, as [`PointRef::field`] reads it: the
    /// value of its first column the point has.
    ///
    /// [`PointRef::field`]: crate::PointRef::field
    #[inline]
    pub fn get<'p>(&self, points: &'p Points, field: usize, index: usize) -> Option<Value<'p>> {
        self.columns
            .get(field)?
            .iter()
            .filter_map(|c| points.columns.get(*c))
            .find(|column| present(column, index))
            .and_then(|column| column.data.value(index))
    }

    /// Field `field` of point `index` as a reading ([`Value::as_reading`]:
    /// a finite float or an integer).
    #[inline]
    pub fn reading(&self, points: &Points, field: usize, index: usize) -> Option<f64> {
        self.get(points, field, index)?.as_reading()
    }

    /// Append every field's reading for point `index` to `row`, in order;
    /// false (with some appended) at the first that is missing.
    #[inline]
    pub fn readings(&self, points: &Points, index: usize, row: &mut Vec<f64>) -> bool {
        for field in 0..self.columns.len() {
            match self.reading(points, field, index) {
                Some(value) => row.push(value),
                None => return false,
            }
        }
        true
    }
}

/// [`Column::is_present`], inlined: it runs for every field of every point.
#[inline]
fn present(column: &Column, index: usize) -> bool {
    column.present.is_empty()
        || column
            .present
            .get(index / 8)
            .is_some_and(|byte| byte & (1 << (index % 8)) != 0)
}

/// Copies points of one batch into one [`Output`] with all their fields, as
/// [`Output::forward`] does, but finding each series and column of the
/// output once instead of per point.
#[derive(Debug, Clone)]
pub struct Copier {
    /// The output's id of each series of the batch, once used.
    series: Vec<Option<SeriesId>>,
    /// The output's column of each input column, once used.
    columns: Vec<Option<ColumnId>>,
}

impl Copier {
    /// A copier for the points of `points`, into one output.
    pub fn new(points: &Points) -> Self {
        Self {
            series: vec![None; points.series.len()],
            columns: vec![None; points.columns.len()],
        }
    }

    /// Emit point `index` of `points` with all its fields, returning it to
    /// add more; `None` (nothing emitted) if there is no such point.
    pub fn copy<'o>(
        &mut self,
        points: &Points,
        index: usize,
        out: &'o mut Output,
    ) -> Option<PointBuilder<'o>> {
        let timestamp = *points.timestamps.get(index)?;
        let series = *points.series_index.get(index)? as usize;
        let id = match self.series.get(series).copied().flatten() {
            Some(id) => id,
            None => {
                let id = out.series_id(points.series.get(series)?);
                if let Some(slot) = self.series.get_mut(series) {
                    *slot = Some(id);
                }
                id
            }
        };
        let mut point = out.point_of(timestamp, id);
        for (column, slot) in points.columns.iter().zip(self.columns.iter_mut()) {
            if !present(column, index) {
                continue;
            }
            point = match (&column.data, *slot) {
                (ColumnData::Float(values), Some(id)) => match values.get(index) {
                    Some(v) => point.at_f64(id, *v),
                    None => point,
                },
                (ColumnData::Text(values), Some(id)) => match values.get(index) {
                    Some(v) => point.at_text(id, v),
                    None => point,
                },
                (data, id) => match (data.value(index), id) {
                    (Some(value), Some(id)) => point.at(id, value),
                    (Some(value), None) => {
                        let (point, id) = point.field_id(&column.name, value);
                        *slot = Some(id);
                        point
                    }
                    (None, _) => point,
                },
            };
        }
        Some(point)
    }
}

/// One field a plugin adds to the points it emits: its output column,
/// found by name on the first point and used by id after.
#[derive(Debug, Clone, Copy, Default)]
pub struct Slot(Option<ColumnId>);

impl Slot {
    /// Set field `name` of `row` to `value`.
    #[inline]
    pub fn put<'o>(&mut self, row: PointBuilder<'o>, name: &str, value: f64) -> PointBuilder<'o> {
        match self.0 {
            Some(column) => row.at_f64(column, value),
            None => {
                let (row, column) = row.field_id(name, value);
                self.0 = Some(column);
                row
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Series;

    /// Points with gaps in every column, two series, and a field with
    /// values of two types.
    fn ragged() -> Points {
        let mut builder = crate::PointsBuilder::default();
        let a = Series::new("a");
        let b = Series::new("b");
        for i in 0..40_i64 {
            let series = if i % 3 == 0 { &b } else { &a };
            let mut row = builder.point(i, series);
            if i % 2 == 0 {
                row = row.field("x", i as f64 * 0.5);
            } else if i % 5 == 0 {
                row = row.field("x", i);
            }
            if i % 4 != 1 {
                row = row.field("name", format!("n{i}").as_str());
            }
            if i % 7 == 0 {
                row = row.field("on", true);
            }
            if i % 11 == 0 {
                row = row.field("x", f64::INFINITY);
            }
            let _ = row;
        }
        builder.finish()
    }

    #[test]
    fn copies_are_what_forward_emits() {
        let points = ragged();
        let mut copied = Output::default();
        let mut forwarded = Output::default();
        let mut copier = Copier::new(&points);
        let mut slot = Slot::default();
        for point in points.iter() {
            let row = copier.copy(&points, point.index(), &mut copied).unwrap();
            slot.put(row, "added", 1.0);
            let mut row = forwarded.point(point.timestamp(), point.series());
            for (name, value) in point.fields() {
                row = row.field(name, value);
            }
            let _ = row.field("added", 1.0);
        }
        assert!(copier.copy(&points, points.len(), &mut copied).is_none());
        // (Compared as text: absent values are NaN placeholders.)
        assert_eq!(
            format!("{:?}", copied.into_points()),
            format!("{:?}", forwarded.into_points())
        );
    }

    #[test]
    fn a_pass_through_is_what_forward_emits() {
        let points = ragged();
        // Into an empty output (whole columns) and after a point (row by
        // row), with a field added to every third point, then more points.
        for before in [false, true] {
            let mut passed = Output::default();
            let mut forwarded = Output::default();
            let extra = Series::new("extra");
            if before {
                passed.point(-1, &extra).field("x", 0.5);
                forwarded.point(-1, &extra).field("x", 0.5);
            }
            let start = passed.pass_through(&points);
            assert_eq!(start, usize::from(before));
            let mut slot = Slot::default();
            for point in points.iter() {
                if point.index() % 3 == 0 {
                    let row = passed.row(start + point.index()).unwrap();
                    slot.put(row, "added", point.index() as f64);
                }
                let mut row = forwarded.point(point.timestamp(), point.series());
                for (name, value) in point.fields() {
                    row = row.field(name, value);
                }
                if point.index() % 3 == 0 {
                    let _ = row.field("added", point.index() as f64);
                }
            }
            assert!(passed.row(start + points.len()).is_none());
            passed.point(99, &extra).field("name", "after");
            forwarded.point(99, &extra).field("name", "after");
            let (passed, forwarded) = (passed.into_points(), forwarded.into_points());
            assert_eq!(passed.len(), forwarded.len());
            for (a, b) in passed.iter().zip(forwarded.iter()) {
                let fields = |p: crate::PointRef<'_>| -> Vec<String> {
                    let mut f: Vec<String> =
                        p.fields().map(|(n, v)| format!("{n}={v:?}")).collect();
                    f.sort();
                    f
                };
                assert_eq!(
                    (a.timestamp(), a.series(), fields(a)),
                    (b.timestamp(), b.series(), fields(b))
                );
            }
        }
    }

    #[test]
    fn fields_read_as_points_read_them() {
        let points = ragged();
        let fields = FieldColumns::new(&points, ["x", "name", "missing"]);
        for point in points.iter() {
            let index = point.index();
            assert_eq!(fields.get(&points, 0, index), point.field("x"));
            assert_eq!(fields.get(&points, 1, index), point.field("name"));
            assert_eq!(fields.get(&points, 2, index), None);
            assert_eq!(
                fields.reading(&points, 0, index),
                point.field("x").and_then(|v| v.as_reading())
            );
        }
        let mut row = Vec::new();
        let only_x = FieldColumns::new(&points, ["x"]);
        assert!(only_x.readings(&points, 2, &mut row));
        assert_eq!(row, [1.0]);
        row.clear();
        assert!(
            !fields.readings(&points, 2, &mut row),
            "`missing` is missing"
        );
    }
}
