//! Moving points between this model and a generated binding of the
//! `foghorn:plugin` WIT types (the host's, from `wasmtime::component::bindgen!`,
//! and the guest's, from `wit_bindgen::generate!`): the same shape under
//! other names, so one macro writes every direction, and each side of the
//! boundary uses it rather than a copy of its own.

/// Move `points`, whose column data is of enum `From`, into the family of
/// types after `=>` (points, series, column, column data, text column), all
/// shaped like [`crate::Points`]: vectors change hands, nothing is copied
/// value by value.
///
/// ```
/// use foghorn_model::{Column, ColumnData, Points, PointsBuilder, Series, TextColumn};
///
/// let mut builder = PointsBuilder::new();
/// builder.point(1, &Series::new("dev")).field("t", 1.5).field("s", "ok");
/// let points = builder.finish();
/// let moved = foghorn_model::move_points!(points.clone(), ColumnData
///     => Points, Series, Column, ColumnData, TextColumn);
/// assert_eq!(moved, points);
/// ```
#[macro_export]
macro_rules! move_points {
    ($points:expr, $from:path => $points_ty:path, $series:path, $column:path, $data:path, $text:path) => {{
        #[allow(unused_imports, reason = "some of these name the same type")]
        use {$column as ColumnOut, $data as DataOut, $from as DataIn, $points_ty as PointsOut};
        #[allow(unused_imports, reason = "some of these name the same type")]
        use {$series as SeriesOut, $text as TextOut};
        let points = $points;
        PointsOut {
            series: points
                .series
                .into_iter()
                .map(|s| SeriesOut {
                    name: s.name,
                    tags: s.tags,
                })
                .collect(),
            series_index: points.series_index,
            timestamps: points.timestamps,
            columns: points
                .columns
                .into_iter()
                .map(|c| ColumnOut {
                    name: c.name,
                    present: c.present,
                    data: match c.data {
                        DataIn::Float(v) => DataOut::Float(v),
                        DataIn::Int(v) => DataOut::Int(v),
                        DataIn::Boolean(v) => DataOut::Boolean(v),
                        DataIn::Text(t) => DataOut::Text(TextOut {
                            data: t.data,
                            ends: t.ends,
                        }),
                    },
                })
                .collect(),
        }
    }};
}
