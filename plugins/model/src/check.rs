//! The shape invariants of a batch, checked where a batch comes from
//! somewhere that cannot be trusted (a plugin's output).
//!
//! Everything else in this crate assumes them: [`PointRef::series`] indexes
//! the series table, [`TextColumn::get`] slices `data`. A batch built with
//! [`crate::PointsBuilder`] always has them; one decoded from a guest's
//! memory has them only once [`Points::validate`] said so.
//!
//! [`PointRef::series`]: crate::PointRef::series

use std::fmt;

use crate::{ColumnData, Points, TextColumn};

/// Why a batch of points is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(String);

impl Malformed {
    fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }

    /// The reason, for error logs and dead letters.
    pub fn reason(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Malformed {}

impl Points {
    /// Check every invariant the readers of a batch rely on: one series index
    /// and one timestamp per point, each index inside the series table, one
    /// value per point in every column, `present` bitmaps empty or one bit
    /// per point, and text offsets that rise, stay inside `data` and cut it
    /// into UTF-8 values.
    ///
    /// # Errors
    /// The first invariant that does not hold, described.
    pub fn validate(&self) -> Result<(), Malformed> {
        let len = self.timestamps.len();
        if self.series_index.len() != len {
            return Err(Malformed::new(format!(
                "points: {} series indexes for {len} timestamps",
                self.series_index.len()
            )));
        }
        if let Some((point, &index)) = self
            .series_index
            .iter()
            .enumerate()
            .find(|&(_, &index)| index as usize >= self.series.len())
        {
            return Err(Malformed::new(format!(
                "points: point {point} refers to series {index}, but the series table has {}",
                self.series.len()
            )));
        }
        let bitmap = len.div_ceil(8);
        for column in &self.columns {
            let name = &column.name;
            if column.data.len() != len {
                return Err(Malformed::new(format!(
                    "points: column `{name}` has {} values for {len} points",
                    column.data.len()
                )));
            }
            if !column.present.is_empty() && column.present.len() != bitmap {
                return Err(Malformed::new(format!(
                    "points: column `{name}` has a presence bitmap of {} bytes for {len} points (want 0 or {bitmap})",
                    column.present.len()
                )));
            }
            if let ColumnData::Text(text) = &column.data {
                text.validate()
                    .map_err(|e| Malformed::new(format!("points: column `{name}`: {e}")))?;
            }
        }
        Ok(())
    }
}

impl TextColumn {
    /// Check that the offsets rise, end inside `data`, and cut it into UTF-8
    /// values.
    ///
    /// # Errors
    /// The first offset or value that is wrong, described.
    pub fn validate(&self) -> Result<(), Malformed> {
        validate_offsets(&self.data, &self.ends, true)
    }
}

/// Check `ends` against `data`: rising, the last not past the end, and, for
/// text, every value UTF-8 (a whole-buffer check plus a char boundary at
/// every offset, so the cost is one pass over the bytes).
pub(crate) fn validate_offsets(data: &[u8], ends: &[u32], utf8: bool) -> Result<(), Malformed> {
    let mut start = 0usize;
    for (i, &end) in ends.iter().enumerate() {
        let end = end as usize;
        if end < start {
            return Err(Malformed::new(format!(
                "value {i} ends at {end}, before its start {start}"
            )));
        }
        if end > data.len() {
            return Err(Malformed::new(format!(
                "value {i} ends at {end}, past the {} bytes of data",
                data.len()
            )));
        }
        start = end;
    }
    if utf8 {
        let text = std::str::from_utf8(data)
            .map_err(|e| Malformed::new(format!("text is not UTF-8: {e}")))?;
        if let Some((i, end)) = ends
            .iter()
            .enumerate()
            .find(|&(_, &end)| !text.is_char_boundary(end as usize))
        {
            return Err(Malformed::new(format!(
                "value {i} ends at {end}, inside a UTF-8 character"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{Column, PointsBuilder, Series};

    use super::*;

    fn good() -> Points {
        let mut builder = PointsBuilder::new();
        builder
            .point(1, &Series::new("a"))
            .field("t", 1.0)
            .field("s", "ok");
        builder.point(2, &Series::new("b")).field("s", "ü");
        builder.finish()
    }

    #[test]
    fn built_points_are_valid() {
        assert_eq!(good().validate(), Ok(()));
        assert_eq!(Points::default().validate(), Ok(()));
    }

    #[test]
    fn each_broken_invariant_is_named() {
        type Case = (fn(&mut Points), &'static str);
        let cases: Vec<Case> = vec![
            (
                |p| p.series_index.pop().map(drop).unwrap(),
                "series indexes",
            ),
            (|p| p.series_index[1] = 7, "refers to series 7"),
            (|p| p.timestamps.push(3), "series indexes for 3"),
            (
                |p| p.columns[0].data = ColumnData::Float(vec![1.0]),
                "1 values for 2 points",
            ),
            (|p| p.columns[0].present = vec![1, 0], "bitmap of 2 bytes"),
            (
                |p| {
                    p.columns.push(Column {
                        name: "x".into(),
                        data: ColumnData::Text(TextColumn {
                            data: b"ab".to_vec(),
                            ends: vec![2, 1],
                        }),
                        present: Vec::new(),
                    });
                },
                "before its start",
            ),
            (
                |p| {
                    p.columns.push(Column {
                        name: "x".into(),
                        data: ColumnData::Text(TextColumn {
                            data: b"ab".to_vec(),
                            ends: vec![1, 9],
                        }),
                        present: Vec::new(),
                    });
                },
                "past the 2 bytes",
            ),
            (
                |p| {
                    p.columns.push(Column {
                        name: "x".into(),
                        data: ColumnData::Text(TextColumn {
                            data: vec![b'a', 0xff],
                            ends: vec![1, 2],
                        }),
                        present: Vec::new(),
                    });
                },
                "not UTF-8",
            ),
            (
                |p| {
                    p.columns.push(Column {
                        name: "x".into(),
                        data: ColumnData::Text(TextColumn {
                            data: "ü".as_bytes().to_vec(),
                            ends: vec![1, 2],
                        }),
                        present: Vec::new(),
                    });
                },
                "inside a UTF-8 character",
            ),
        ];
        for (break_it, expected) in cases {
            let mut points = good();
            break_it(&mut points);
            let error = points.validate().unwrap_err();
            assert!(
                error.reason().contains(expected),
                "`{error}` should mention `{expected}`"
            );
        }
    }
}
