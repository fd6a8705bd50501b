//! Points as JSON lines, written straight into a buffer: byte for byte the
//! object [`point_json`] builds, without building it. Each series' part
//! (`"series":…,"tags":{…}`) is written once per batch, and the fields are
//! written as they are read. A batch with two columns of one name (a field
//! with values of two types) goes through [`point_json`], which keeps one
//! value per name.

use foghorn_model::{PointRef, Points, Value};

use super::{point_json, tags_json};
use crate::event::write_timestamp;

/// The JSON lines of one batch's points.
pub(crate) struct PointLines {
    /// Whether every column has its own name.
    distinct: bool,
    /// Per series index, its `,"series":…,"tags":{…},"fields":{` once made.
    series: Vec<Option<Vec<u8>>>,
}

impl PointLines {
    /// The writer for the points of `points`.
    pub(crate) fn new(points: &Points) -> Self {
        let columns = &points.columns;
        // Pairwise for the few columns of most batches, hashed for many.
        let distinct = if columns.len() <= 32 {
            columns
                .iter()
                .enumerate()
                .all(|(i, c)| columns[..i].iter().all(|other| other.name != c.name))
        } else {
            let mut seen = std::collections::HashSet::with_capacity(columns.len());
            columns.iter().all(|c| seen.insert(c.name.as_str()))
        };
        Self {
            distinct,
            series: vec![None; points.series.len()],
        }
    }

    /// Append `point` (of the batch given to [`PointLines::new`]) as one
    /// JSON object, without a line break.
    pub(crate) fn write(&mut self, out: &mut Vec<u8>, point: &PointRef<'_>) {
        if !self.distinct {
            // Infallible: a `Value` into a `Vec`.
            let _ = serde_json::to_writer(&mut *out, &point_json(point));
            return;
        }
        out.extend_from_slice(b"{\"timestamp\":\"");
        write_timestamp(out, point.timestamp());
        out.push(b'"');
        match self.series.get_mut(point.series_index()) {
            Some(Some(part)) => out.extend_from_slice(part),
            Some(slot) => {
                let part = series_part(point);
                out.extend_from_slice(&part);
                *slot = Some(part);
            }
            None => out.extend_from_slice(&series_part(point)),
        }
        for (i, (name, value)) in point.fields().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // Infallible: text and numbers into a `Vec`.
            let _ = serde_json::to_writer(&mut *out, name);
            out.push(b':');
            let _ = match value {
                // As `serde_json::Value::from(f64)`: not finite is null.
                Value::Float(v) if v.is_finite() => serde_json::to_writer(&mut *out, &v),
                Value::Float(_) => {
                    out.extend_from_slice(b"null");
                    Ok(())
                }
                Value::Int(v) => serde_json::to_writer(&mut *out, &v),
                Value::Bool(v) => serde_json::to_writer(&mut *out, &v),
                Value::Text(v) => serde_json::to_writer(&mut *out, v),
            };
        }
        out.extend_from_slice(b"}}");
    }
}

/// `,"series":…,"tags":{…},"fields":{` of `point`'s series, as
/// [`point_json`] writes them.
fn series_part(point: &PointRef<'_>) -> Vec<u8> {
    let series = point.series();
    let mut part = b",\"series\":".to_vec();
    let _ = serde_json::to_writer(&mut part, &series.name);
    part.extend_from_slice(b",\"tags\":");
    let _ = serde_json::to_writer(&mut part, &tags_json(series));
    part.extend_from_slice(b",\"fields\":{");
    part
}

#[cfg(test)]
mod tests {
    use foghorn_model::{PointsBuilder, Series};

    use super::*;

    fn lines(points: &Points) -> Vec<String> {
        let mut writer = PointLines::new(points);
        points
            .iter()
            .map(|point| {
                let mut out = Vec::new();
                writer.write(&mut out, &point);
                String::from_utf8(out).unwrap()
            })
            .collect()
    }

    fn values(points: &Points) -> Vec<String> {
        points.iter().map(|p| point_json(&p).to_string()).collect()
    }

    #[test]
    fn lines_are_point_json_byte_for_byte() {
        let mut builder = PointsBuilder::new();
        let a = Series::new("m\"1")
            .with_tag("host", "a\nb")
            .with_tag("z", "1");
        let b = Series::new("bare");
        builder
            .point(-1_500_000_000, &a)
            .field("t", Value::Float(1.5))
            .field("n", Value::Int(-3))
            .field("ok", Value::Bool(true))
            .field("s", Value::Text("é\"\\\u{1}"));
        builder
            .point(1_764_313_800_250_000_000, &b)
            .field("t", Value::Float(f64::NAN))
            .field("big", Value::Float(1e300));
        builder.point(7, &a).field("n", Value::Int(i64::MAX));
        builder.point(8, &b);
        let points = builder.finish();
        assert_eq!(lines(&points), values(&points));
    }

    #[test]
    fn many_columns_are_told_apart_too() {
        let mut builder = PointsBuilder::new();
        let s = Series::new("m");
        let mut point = builder.point(1, &s);
        for i in 0..40 {
            point = point.field(&format!("f{i}"), Value::Int(i));
        }
        let points = builder.finish();
        assert!(PointLines::new(&points).distinct);
        assert_eq!(lines(&points), values(&points));
        let mut builder = PointsBuilder::new();
        let mut point = builder.point(1, &s);
        for i in 0..40 {
            point = point.field(&format!("f{i}"), Value::Int(i));
        }
        point.field("f0", Value::Text("again"));
        let points = builder.finish();
        assert!(!PointLines::new(&points).distinct);
        assert_eq!(lines(&points), values(&points));
    }

    #[test]
    fn a_name_with_two_types_keeps_point_json_s_rule() {
        let mut builder = PointsBuilder::new();
        let s = Series::new("m");
        builder
            .point(1, &s)
            .field("v", Value::Float(1.0))
            .field("v", Value::Text("x"));
        builder.point(2, &s).field("v", Value::Text("y"));
        let points = builder.finish();
        assert_eq!(lines(&points), values(&points));
    }
}
